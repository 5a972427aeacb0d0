/*
 * bench/peers/bench_peers.c - this SDK against libmosquitto and Paho C MQTTAsync: the same
 * workloads, one run, libraries alternating, medians and ratios (docs/design/runtime-tls.md §6
 * "Bench"). Numbers are for reading, never asserted. bench/peers/run.sh starts mosquitto and
 * runs `bench_peers --all`; bench/README.md explains the figures.
 *
 * Cases (every payload is 64 bytes):
 *   pub     (1) publish-only: --n-pub (200k) QoS 0 publishes to a local TCP sink, a forked epoll
 *           process that answers CONNECT with a minimal CONNACK (MQTT 5 or 3.1.1, as the
 *           client spoke), then reads and discards, counting PUBLISH packets; TCP_NODELAY on
 *           both ends. Time: first publish call until the sink has parsed the last PUBLISH (it
 *           reports its CLOCK_MONOTONIC time through a pipe). CPU: getrusage(RUSAGE_SELF) of
 *           the client process over that window (all its threads, not the sink's).
 *   e2e0    (2) A -> B through mosquitto, QoS 0, --n-e2e0 (200k); B is a second process of the
 *   e2e1        same library subscribed with the same QoS; e2e1 is QoS 1, --n-e2e1 (100k).
 *           msg/s = received / (first publish call -> B's last message); CPU = publisher
 *           process per message sent (until B has all and, QoS 1, every PUBACK arrived);
 *           B's CPU per message received is reported too.
 *   rtt     (3) sequential QoS 1 round trips on one client subscribed to its own topic: publish
 *           call -> that message's receive callback, --n-rtt (10k) samples after 200 warm-up;
 *           p50 / p99 / p99.9.
 *   idle1   (4) peak RSS (VmHWM) of a process holding 1 and --idle-n (1000) idle connected
 *   idleN       clients (connected one after the other, then 1 s idle); per idle client =
 *           (HWM(N) - HWM(1)) / (N - 1), from the same round.
 *
 * Libraries (--libs): mqtt5 (this SDK, MQTT 5, one loop thread), mqtt5-st (this SDK with a
 * caller-driven group: the caller's thread runs the loop), mosq (libmosquitto, loop_start thread
 * per client), mosq-st (libmosquitto driven from the caller's single thread), both MQTT 5 unless
 * --peer-proto 4; paho (Paho MQTTAsync, MQTT 3.1.1) and paho5 (the same speaking MQTT 5; not in
 * the default list: its QoS 1 crawls, see peer_paho.c). The adapters peer_*.c say exactly how
 * each library is driven.
 *
 * Modes:
 *   bench_peers --all [options]          rounds x cases x libraries, each run a fresh process
 *                                        (fork + exec of this binary in --case mode); the library
 *                                        order rotates every round; prints the tables.
 *   bench_peers --case C --lib L [opts]  one run; prints one "RESULT key=value ..." line.
 * Run with no arguments for the options.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "bench_peers.h"

#define PAYLOAD 64
#define RTT_WARMUP 200
#define MAX_ROUNDS 50
#define MAX_LIBS 6
#define MAX_KV 16

bp_tunables bp_tune = {.m5_max_queued_ops = 0,
                       .m5_max_queued_bytes = (size_t)-1,
                       .m5_write_batch = 0,
                       .m5_ack_coalescing = -1,
                       .paho_max_buffered = 100,
                       .paho_nodelay = true};

/* ---- helpers ------------------------------------------------------------------------------- */

uint64_t bp_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double bp_now_s(void)
{
    return (double)bp_now_ns() / 1e9;
}

int bp_sem_wait_s(sem_t *s, double timeout_s)
{
    if (timeout_s < 0) timeout_s = 0;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double whole = floor(timeout_s);
    ts.tv_sec += (time_t)whole;
    ts.tv_nsec += (long)((timeout_s - whole) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (sem_timedwait(s, &ts) != 0) {
        if (errno != EINTR) return -1;
    }
    return 0;
}

static const char *g_role = "bench";

void bp_log(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "[%s %d] %s\n", g_role, (int)getpid(), buf);
}

static double cpu_of(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* CPU seconds of the whole process (every thread) / of the calling thread */
static double cpu_s(void)
{
    return cpu_of(RUSAGE_SELF);
}

static double thread_cpu_s(void)
{
    return cpu_of(RUSAGE_THREAD);
}

/* VmHWM / VmRSS of this process in KiB (key "VmHWM:" or "VmRSS:") */
static long proc_status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0) {
            v = strtol(line + kl, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&ts, &ts) && errno == EINTR) {
    }
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* read exactly n bytes within timeout_s; while waiting, single-threaded libraries are pumped */
static int read_full(int fd, void *p, size_t n, double timeout_s, const bp_peer *peer, void *conn)
{
    char *b = p;
    double end = bp_now_s() + timeout_s;
    while (n) {
        int wait_ms = peer && peer->pump ? 0 : 200;
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int k = poll(&pf, 1, wait_ms);
        if (k < 0 && errno != EINTR) return -1;
        if (k > 0) {
            ssize_t r = read(fd, b, n);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) return -1;
            b += r;
            n -= (size_t)r;
            continue;
        }
        if (bp_now_s() > end) return -1;
        if (peer && peer->pump) peer->pump(conn, 1);
    }
    return 0;
}

int bp_wait_sem(const bp_peer *p, void *conn, sem_t *s, double timeout_s)
{
    if (!p->pump) return bp_sem_wait_s(s, timeout_s);
    double end = bp_now_s() + timeout_s;
    while (sem_trywait(s) != 0) {
        if (bp_now_s() > end) return -1;
        p->pump(conn, 10);
    }
    return 0;
}

static const bp_peer *const all_peers[] = {&bp_peer_mqtt5,   &bp_peer_mqtt5_st, &bp_peer_mosq,
                                           &bp_peer_mosq_st, &bp_peer_paho,     &bp_peer_paho5};

static const bp_peer *peer_by_name(const char *n)
{
    for (size_t i = 0; i < sizeof all_peers / sizeof all_peers[0]; i++)
        if (strcmp(all_peers[i]->name, n) == 0) return all_peers[i];
    return NULL;
}

/* ---- configuration ------------------------------------------------------------------------- */

static int proto_of(const bp_peer *p);

typedef struct cfg {
    const char *host;
    int port; /* mosquitto */
    int proto;
    long n_pub, n_e2e0, n_e2e1, n_rtt;
    int idle_n, settle_ms;
    int rounds;
    double timeout_s;
    const char *libs, *cases;
    const char *run_case, *run_lib;
    bool all;
} cfg;

static cfg C = {.host = "127.0.0.1",
                .port = 1883,
                .proto = 5,
                .n_pub = 200000,
                .n_e2e0 = 200000,
                .n_e2e1 = 100000,
                .n_rtt = 10000,
                .idle_n = 1000,
                .settle_ms = 1000,
                .rounds = 5,
                .timeout_s = 300,
                .libs = "mqtt5,mqtt5-st,mosq,mosq-st,paho",
                .cases = "pub,e2e0,e2e1,rtt,idle1,idleN"};

static int proto_of(const bp_peer *p)
{
    return p->proto ? p->proto : C.proto;
}

/* ---- the sink of case (1) ------------------------------------------------------------------ */

typedef struct sink_report {
    uint64_t publishes, bytes, t_ns;
} sink_report;

typedef struct sink_conn {
    int fd;
    int phase; /* 0 type byte, 1 remaining length, 2 body */
    uint8_t type;
    uint32_t rem, mult, left;
    uint8_t connect[512];
    size_t connect_len;
} sink_conn;

static void sink_packet_done(sink_conn *s, uint64_t *pubs, uint64_t expected, uint64_t bytes,
                             int report_fd, bool *reported)
{
    switch (s->type >> 4) {
    case 1: { /* CONNECT: protocol level after the 2+4 byte protocol name */
        int level = s->connect_len > 6 ? s->connect[6] : 4;
        static const uint8_t ack5[] = {0x20, 0x03, 0x00, 0x00, 0x00};
        static const uint8_t ack4[] = {0x20, 0x02, 0x00, 0x00};
        if (level == 5)
            write_all(s->fd, ack5, sizeof ack5);
        else
            write_all(s->fd, ack4, sizeof ack4);
        break;
    }
    case 3:
        if (++*pubs == expected && !*reported) {
            sink_report r = {*pubs, bytes, bp_now_ns()};
            write_all(report_fd, &r, sizeof r);
            *reported = true;
        }
        break;
    case 12: { /* PINGREQ */
        static const uint8_t pingresp[] = {0xD0, 0x00};
        write_all(s->fd, pingresp, sizeof pingresp);
        break;
    }
    default:
        break;
    }
}

static void sink_main(int lfd, int report_fd, uint64_t expected)
{
    g_role = "sink";
    prctl(PR_SET_NAME, "bench_sink");
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    static uint8_t buf[256 * 1024];
    uint64_t pubs = 0, bytes = 0;
    bool reported = false;
    int open_conns = 0, ever = 0;
    for (;;) {
        struct epoll_event evs[8];
        int k = epoll_wait(ep, evs, 8, -1);
        if (k < 0 && errno == EINTR) continue;
        for (int i = 0; i < k; i++) {
            sink_conn *s = evs[i].data.ptr;
            if (!s) {
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) continue;
                int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                s = calloc(1, sizeof *s);
                s->fd = fd;
                struct epoll_event e2 = {.events = EPOLLIN, .data.ptr = s};
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e2);
                open_conns++;
                ever++;
                continue;
            }
            for (;;) {
                ssize_t n = read(s->fd, buf, sizeof buf);
                if (n < 0 && errno == EINTR) continue;
                if (n < 0 && errno == EAGAIN) break;
                if (n <= 0) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
                    close(s->fd);
                    free(s);
                    s = NULL;
                    if (--open_conns == 0 && ever) _exit(0);
                    break;
                }
                bytes += (uint64_t)n;
                size_t i2 = 0, len = (size_t)n;
                while (i2 < len) {
                    if (s->phase == 0) {
                        s->type = buf[i2++];
                        s->rem = 0;
                        s->mult = 1;
                        s->phase = 1;
                    } else if (s->phase == 1) {
                        uint8_t v = buf[i2++];
                        s->rem += (uint32_t)(v & 127) * s->mult;
                        s->mult *= 128;
                        if (!(v & 128)) {
                            s->left = s->rem;
                            s->connect_len = 0;
                            s->phase = 2;
                            if (s->left == 0) {
                                sink_packet_done(s, &pubs, expected, bytes, report_fd, &reported);
                                s->phase = 0;
                            }
                        }
                    } else {
                        size_t take = len - i2 < s->left ? len - i2 : s->left;
                        if ((s->type >> 4) == 1) {
                            size_t room = sizeof s->connect - s->connect_len;
                            size_t c = take < room ? take : room;
                            memcpy(s->connect + s->connect_len, buf + i2, c);
                            s->connect_len += c;
                        }
                        i2 += take;
                        s->left -= (uint32_t)take;
                        if (s->left == 0) {
                            sink_packet_done(s, &pubs, expected, bytes, report_fd, &reported);
                            s->phase = 0;
                        }
                    }
                }
            }
        }
    }
}

/* ---- one run: results ---------------------------------------------------------------------- */

static char g_result[2048];

static void res_add(const char *k, double v)
{
    size_t l = strlen(g_result);
    snprintf(g_result + l, sizeof g_result - l, " %s=%.6g", k, v);
}

/* ---- case (1): publish-only to the sink ---------------------------------------------------- */

static int publish_n(const bp_peer *p, void *conn, const char *topic, const uint8_t *payload,
                     long n, int qos, long *again)
{
    for (long i = 0; i < n; i++) {
        int rc;
        while ((rc = p->publish(conn, topic, payload, PAYLOAD, qos)) == BP_AGAIN) {
            ++*again;
            if (p->pump) {
                p->pump(conn, 0);
            } else if (bp_tune.backoff_sleep) {
                struct timespec ts = {0, 20000};
                nanosleep(&ts, NULL);
            } else {
                sched_yield();
            }
        }
        if (rc < 0) return -1;
        if (p->pump && (i & 63) == 63) p->pump(conn, 0);
    }
    return 0;
}

static int case_pub(const bp_peer *p)
{
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 16) ||
        getsockname(lfd, (struct sockaddr *)&a, &al)) {
        bp_log("sink socket: %s", strerror(errno));
        return -1;
    }
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC)) return -1;
    pid_t sink = fork();
    if (sink == 0) {
        close(pfd[0]);
        sink_main(lfd, pfd[1], (uint64_t)C.n_pub);
        _exit(0);
    }
    close(lfd);
    close(pfd[1]);

    if (p->init()) return -1;
    char id[64];
    snprintf(id, sizeof id, "pub-%d", (int)getpid());
    bp_conn_opts o = {.host = "127.0.0.1",
                      .port = ntohs(a.sin_port),
                      .client_id = id,
                      .proto = proto_of(p),
                      .keep_alive = 60};
    void *conn = p->connect(&o);
    if (!conn) return -1;
    static uint8_t payload[PAYLOAD];
    memset(payload, 'x', sizeof payload);
    long again = 0;

    double c0 = cpu_s(), tc0 = thread_cpu_s();
    uint64_t t0 = bp_now_ns();
    if (publish_n(p, conn, "bench/pub", payload, C.n_pub, 0, &again)) return -1;
    uint64_t t_loop = bp_now_ns();
    sink_report r;
    if (read_full(pfd[0], &r, sizeof r, 120, p, conn)) {
        bp_log("the sink did not get %ld publishes", C.n_pub);
        return -1;
    }
    double c1 = cpu_s(), tc1 = thread_cpu_s();
    double wall = (double)(r.t_ns - t0) / 1e9;
    res_add("n", (double)C.n_pub);
    res_add("msg_s", (double)C.n_pub / wall);
    res_add("cpu_us", (c1 - c0) * 1e6 / (double)C.n_pub);
    res_add("call_cpu_us", (tc1 - tc0) * 1e6 / (double)C.n_pub);
    res_add("wall_s", wall);
    res_add("call_s", (double)(t_loop - t0) / 1e9);
    res_add("again", (double)again);
    res_add("bytes", (double)r.bytes);
    res_add("hwm_kb", (double)proc_status_kb("VmHWM:"));
    p->disconnect(conn);
    p->cleanup();
    close(pfd[0]);
    int st;
    waitpid(sink, &st, 0);
    return 0;
}

/* ---- case (2): A -> B through mosquitto ---------------------------------------------------- */

typedef struct sub_report {
    uint64_t received, t_first_ns, t_last_ns;
    double cpu_s;
} sub_report;

static struct {
    _Atomic uint64_t count;
    _Atomic uint64_t t_first, t_last;
    uint64_t target;
    sem_t all;
} g_sub;

static void sub_on_msg(void *u, size_t len)
{
    (void)u;
    (void)len;
    uint64_t now = bp_now_ns();
    uint64_t c = atomic_fetch_add(&g_sub.count, 1) + 1;
    if (c == 1) atomic_store(&g_sub.t_first, now);
    atomic_store(&g_sub.t_last, now);
    if (c == g_sub.target) sem_post(&g_sub.all);
}

static struct {
    _Atomic uint64_t acks;
    uint64_t target;
    sem_t all;
} g_pub;

static void pub_on_ack(void *u)
{
    (void)u;
    if (atomic_fetch_add(&g_pub.acks, 1) + 1 == g_pub.target) sem_post(&g_pub.all);
}

static void sub_main(const bp_peer *p, const char *topic, int qos, long n, int report_fd)
{
    g_role = "sub";
    prctl(PR_SET_NAME, "bench_sub");
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    sem_init(&g_sub.all, 0, 0);
    g_sub.target = (uint64_t)n;
    if (p->init()) _exit(1);
    char id[64];
    snprintf(id, sizeof id, "sub-%d", (int)getpid());
    bp_conn_opts o = {.host = C.host,
                      .port = (uint16_t)C.port,
                      .client_id = id,
                      .proto = proto_of(p),
                      .keep_alive = 60,
                      .on_msg = sub_on_msg};
    void *conn = p->connect(&o);
    if (!conn || p->subscribe(conn, topic, qos)) _exit(1);
    double c0 = cpu_s();
    write_all(report_fd, "R", 1);
    /* all messages, or give up when nothing new arrived for 5 s (after the first) / 120 s */
    double start = bp_now_s();
    uint64_t last_count = 0;
    double last_change = start;
    while (bp_wait_sem(p, conn, &g_sub.all, 0.5) != 0) {
        uint64_t c = atomic_load(&g_sub.count);
        double now = bp_now_s();
        if (c != last_count) {
            last_count = c;
            last_change = now;
        }
        if ((c > 0 && now - last_change > 5) || now - start > 120) {
            bp_log("%s: B got %llu of %ld", p->name, (unsigned long long)c, n);
            break;
        }
    }
    sub_report r = {atomic_load(&g_sub.count), atomic_load(&g_sub.t_first),
                    atomic_load(&g_sub.t_last), cpu_s() - c0};
    write_all(report_fd, &r, sizeof r);
    p->disconnect(conn);
    p->cleanup();
    _exit(0);
}

static int case_e2e(const bp_peer *p, int qos, long n)
{
    char topic[64];
    snprintf(topic, sizeof topic, "bench/%d/e2e%d", (int)getpid(), qos);
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC)) return -1;
    pid_t sub = fork();
    if (sub == 0) {
        close(pfd[0]);
        sub_main(p, topic, qos, n, pfd[1]);
    }
    close(pfd[1]);
    char ready;
    if (read_full(pfd[0], &ready, 1, 20, NULL, NULL)) {
        bp_log("subscriber not ready");
        return -1;
    }

    sem_init(&g_pub.all, 0, 0);
    g_pub.target = (uint64_t)n;
    if (p->init()) return -1;
    char id[64];
    snprintf(id, sizeof id, "pub-%d", (int)getpid());
    bp_conn_opts o = {.host = C.host,
                      .port = (uint16_t)C.port,
                      .client_id = id,
                      .proto = proto_of(p),
                      .keep_alive = 60,
                      .on_ack = qos ? pub_on_ack : NULL};
    void *conn = p->connect(&o);
    if (!conn) return -1;
    static uint8_t payload[PAYLOAD];
    memset(payload, 'y', sizeof payload);
    long again = 0;

    double c0 = cpu_s(), tc0 = thread_cpu_s();
    uint64_t t0 = bp_now_ns();
    if (publish_n(p, conn, topic, payload, n, qos, &again)) return -1;
    uint64_t t_loop = bp_now_ns();
    if (qos && bp_wait_sem(p, conn, &g_pub.all, 120)) {
        bp_log("%s: only %llu of %ld PUBACKs", p->name,
               (unsigned long long)atomic_load(&g_pub.acks), n);
        return -1;
    }
    sub_report r;
    if (read_full(pfd[0], &r, sizeof r, 180, p, conn)) {
        bp_log("no report from the subscriber");
        return -1;
    }
    double c1 = cpu_s(), tc1 = thread_cpu_s();
    double wall = (double)(r.t_last_ns - t0) / 1e9;
    res_add("n", (double)n);
    res_add("recv", (double)r.received);
    res_add("msg_s", (double)r.received / wall);
    res_add("cpu_us", (c1 - c0) * 1e6 / (double)n);
    res_add("call_cpu_us", (tc1 - tc0) * 1e6 / (double)n);
    res_add("sub_cpu_us", r.received ? r.cpu_s * 1e6 / (double)r.received : NAN);
    res_add("wall_s", wall);
    res_add("call_s", (double)(t_loop - t0) / 1e9);
    res_add("again", (double)again);
    res_add("hwm_kb", (double)proc_status_kb("VmHWM:"));
    p->disconnect(conn);
    p->cleanup();
    int st;
    waitpid(sub, &st, 0);
    close(pfd[0]);
    return 0;
}

/* ---- case (3): QoS 1 round trips ----------------------------------------------------------- */

static struct {
    _Atomic uint64_t t_cb;
    sem_t got;
} g_rtt;

static void rtt_on_msg(void *u, size_t len)
{
    (void)u;
    (void)len;
    atomic_store(&g_rtt.t_cb, bp_now_ns());
    sem_post(&g_rtt.got);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int case_rtt(const bp_peer *p)
{
    sem_init(&g_rtt.got, 0, 0);
    if (p->init()) return -1;
    char id[64], topic[64];
    snprintf(id, sizeof id, "rtt-%d", (int)getpid());
    snprintf(topic, sizeof topic, "bench/%d/rtt", (int)getpid());
    bp_conn_opts o = {.host = C.host,
                      .port = (uint16_t)C.port,
                      .client_id = id,
                      .proto = proto_of(p),
                      .keep_alive = 60,
                      .on_msg = rtt_on_msg};
    void *conn = p->connect(&o);
    if (!conn || p->subscribe(conn, topic, 1)) return -1;
    static uint8_t payload[PAYLOAD];
    memset(payload, 'z', sizeof payload);
    uint64_t *samples = calloc((size_t)C.n_rtt, sizeof *samples);
    if (!samples) return -1;
    double c0 = 0;
    for (long i = 0; i < C.n_rtt + RTT_WARMUP; i++) {
        if (i == RTT_WARMUP) c0 = cpu_s();
        uint64_t t0 = bp_now_ns();
        int rc;
        while ((rc = p->publish(conn, topic, payload, PAYLOAD, 1)) == BP_AGAIN)
            sched_yield();
        if (rc < 0) return -1;
        if (bp_wait_sem(p, conn, &g_rtt.got, 10)) {
            bp_log("%s: round trip %ld: no message within 10 s", p->name, i);
            return -1;
        }
        if (i >= RTT_WARMUP) samples[i - RTT_WARMUP] = atomic_load(&g_rtt.t_cb) - t0;
    }
    double c1 = cpu_s();
    qsort(samples, (size_t)C.n_rtt, sizeof *samples, cmp_u64);
    double sum = 0;
    for (long i = 0; i < C.n_rtt; i++)
        sum += (double)samples[i];
    size_t n = (size_t)C.n_rtt;
    res_add("n", (double)n);
    res_add("p50_us", (double)samples[n / 2] / 1e3);
    res_add("p99_us", (double)samples[(n * 99) / 100] / 1e3);
    res_add("p999_us", (double)samples[(n * 999) / 1000] / 1e3);
    res_add("mean_us", sum / (double)n / 1e3);
    res_add("min_us", (double)samples[0] / 1e3);
    res_add("cpu_us", (c1 - c0) * 1e6 / (double)n);
    p->disconnect(conn);
    p->cleanup();
    free(samples);
    return 0;
}

/* ---- case (4): idle clients ---------------------------------------------------------------- */

static int case_idle(const bp_peer *p, int n)
{
    raise_nofile();
    if (p->init()) return -1;
    sleep_s(0.05);
    long base = proc_status_kb("VmRSS:");
    char id[64];
    snprintf(id, sizeof id, "idle-%d", (int)getpid());
    bp_conn_opts o = {.host = C.host,
                      .port = (uint16_t)C.port,
                      .client_id = id,
                      .proto = proto_of(p),
                      .keep_alive = 60};
    double t0 = bp_now_s();
    if (p->idle(&o, n, C.settle_ms)) return -1;
    struct mallinfo2 mi = mallinfo2();
    res_add("n", n);
    res_add("heap_kb", (double)(mi.uordblks + mi.hblkhd) / 1024.0);
    res_add("hwm_kb", (double)proc_status_kb("VmHWM:"));
    res_add("rss_kb", (double)proc_status_kb("VmRSS:"));
    res_add("base_kb", (double)base);
    res_add("connect_s", bp_now_s() - t0 - C.settle_ms / 1000.0);
    return 0; /* the clients are dropped with the process */
}

static int run_one(void)
{
    const bp_peer *p = peer_by_name(C.run_lib);
    if (!p) {
        fprintf(stderr, "unknown library %s\n", C.run_lib);
        return 2;
    }
    g_role = p->name;
    alarm((unsigned)C.timeout_s);
    snprintf(g_result, sizeof g_result, "RESULT case=%s lib=%s pid=%d", C.run_case, p->name,
             (int)getpid());
    int rc;
    if (strcmp(C.run_case, "pub") == 0)
        rc = case_pub(p);
    else if (strcmp(C.run_case, "e2e0") == 0)
        rc = case_e2e(p, 0, C.n_e2e0);
    else if (strcmp(C.run_case, "e2e1") == 0)
        rc = case_e2e(p, 1, C.n_e2e1);
    else if (strcmp(C.run_case, "rtt") == 0)
        rc = case_rtt(p);
    else if (strcmp(C.run_case, "idle1") == 0)
        rc = case_idle(p, 1);
    else if (strcmp(C.run_case, "idleN") == 0)
        rc = case_idle(p, C.idle_n);
    else {
        fprintf(stderr, "unknown case %s\n", C.run_case);
        return 2;
    }
    if (rc) {
        bp_log("case %s failed", C.run_case);
        fflush(stderr);
        _exit(1);
    }
    printf("%s\n", g_result);
    fflush(stdout);
    _exit(0); /* idle clients and library threads go with the process */
}

/* ---- --all: the driver --------------------------------------------------------------------- */

typedef struct run_res {
    bool ok;
    int n;
    char key[MAX_KV][24];
    double val[MAX_KV];
} run_res;

static const char *case_names[] = {"pub", "e2e0", "e2e1", "rtt", "idle1", "idleN"};
#define NCASES 6

static run_res results[NCASES][MAX_LIBS][MAX_ROUNDS];
static const bp_peer *libs[MAX_LIBS];
static int nlibs;
static bool case_on[NCASES];
static char exe_path[4096];

static double rr_get(const run_res *r, const char *k)
{
    if (!r->ok) return NAN;
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->key[i], k) == 0) return r->val[i];
    return NAN;
}

static void parse_result(const char *line, run_res *r)
{
    memset(r, 0, sizeof *r);
    const char *s = strstr(line, "RESULT ");
    if (!s) return;
    s += 7;
    while (*s && r->n < MAX_KV) {
        while (*s == ' ')
            s++;
        const char *eq = strchr(s, '=');
        if (!eq) break;
        const char *end = strchr(eq, ' ');
        if (!end) end = eq + strlen(eq);
        size_t kl = (size_t)(eq - s);
        if (kl < sizeof r->key[0]) {
            char *e;
            double v = strtod(eq + 1, &e);
            if (e != eq + 1) {
                memcpy(r->key[r->n], s, kl);
                r->key[r->n][kl] = 0;
                r->val[r->n++] = v;
            }
        }
        s = end;
    }
    r->ok = true;
}

static void child_args(char **argv, int *argc, const char *cs, const char *lib, char store[][64])
{
    int n = 0, k = 0;
#define ARG(s) argv[n++] = (char *)(s)
#define ARGF(...) (snprintf(store[k], 64, __VA_ARGS__), argv[n++] = store[k++])
    ARG(exe_path);
    ARG("--case");
    ARG(cs);
    ARG("--lib");
    ARG(lib);
    ARG("--host");
    ARG(C.host);
    ARG("--port");
    ARGF("%d", C.port);
    ARG("--peer-proto");
    ARGF("%d", C.proto);
    ARG("--n-pub");
    ARGF("%ld", C.n_pub);
    ARG("--n-e2e0");
    ARGF("%ld", C.n_e2e0);
    ARG("--n-e2e1");
    ARGF("%ld", C.n_e2e1);
    ARG("--n-rtt");
    ARGF("%ld", C.n_rtt);
    ARG("--idle-n");
    ARGF("%d", C.idle_n);
    ARG("--m5-max-queued");
    ARGF("%u", bp_tune.m5_max_queued_ops);
    ARG("--m5-max-queued-bytes");
    ARGF("%zu", bp_tune.m5_max_queued_bytes);
    ARG("--m5-write-batch");
    ARGF("%zu", bp_tune.m5_write_batch);
    ARG("--m5-ack-coalescing");
    ARGF("%d", bp_tune.m5_ack_coalescing);
    ARG("--paho-max-buffered");
    ARGF("%d", bp_tune.paho_max_buffered);
    ARG("--paho-nodelay");
    ARGF("%d", bp_tune.paho_nodelay ? 1 : 0);
    ARG("--backoff");
    ARG(bp_tune.backoff_sleep ? "sleep" : "yield");
    ARG("--timeout");
    ARGF("%g", C.timeout_s);
    argv[n] = NULL;
    *argc = n;
#undef ARG
#undef ARGF
}

/* fork + exec one run; its stdout is parsed, its stderr passes through */
static void run_child(const char *cs, const bp_peer *lib, run_res *out)
{
    char *argv[64];
    char store[32][64];
    int argc;
    child_args(argv, &argc, cs, lib->name, store);
    int pfd[2];
    memset(out, 0, sizeof *out);
    if (pipe2(pfd, O_CLOEXEC)) return;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pfd[1], 1);
        execv(exe_path, argv);
        _exit(127);
    }
    close(pfd[1]);
    char buf[4096];
    size_t len = 0;
    double end = bp_now_s() + C.timeout_s + 30;
    for (;;) {
        struct pollfd pf = {.fd = pfd[0], .events = POLLIN};
        int k = poll(&pf, 1, 1000);
        if (k > 0) {
            ssize_t r = read(pfd[0], buf + len, sizeof buf - 1 - len);
            if (r <= 0) break;
            len += (size_t)r;
            if (len >= sizeof buf - 1) break;
        } else if (bp_now_s() > end) {
            fprintf(stderr, "  %s/%s: timed out, killing pid %d\n", cs, lib->name, (int)pid);
            kill(pid, SIGKILL);
            break;
        }
    }
    buf[len] = 0;
    close(pfd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) parse_result(buf, out);
    if (!out->ok)
        fprintf(stderr, "  %s/%s: run failed (status 0x%x)\n", cs, lib->name, (unsigned)st);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
    double t[MAX_ROUNDS];
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(v[i])) t[k++] = v[i];
    if (!k) return NAN;
    qsort(t, (size_t)k, sizeof t[0], cmp_d);
    return k % 2 ? t[k / 2] : (t[k / 2 - 1] + t[k / 2]) / 2;
}

static double med_of(int ci, int li, const char *key)
{
    double v[MAX_ROUNDS];
    for (int r = 0; r < C.rounds; r++)
        v[r] = rr_get(&results[ci][li][r], key);
    return median(v, C.rounds);
}

static void runs_of(int ci, int li, const char *key, double scale, char *out, size_t cap)
{
    size_t l = 0;
    out[0] = 0;
    for (int r = 0; r < C.rounds && l < cap; r++) {
        double v = rr_get(&results[ci][li][r], key) * scale;
        l += (size_t)snprintf(out + l, cap - l, "%s%.4g", r ? " " : "", v);
    }
}

static int case_index(const char *n)
{
    for (int i = 0; i < NCASES; i++)
        if (strcmp(case_names[i], n) == 0) return i;
    return -1;
}

/* this SDK, in either of its modes (loop thread, caller-driven) */
static bool is_ours(const bp_peer *p)
{
    return p == &bp_peer_mqtt5 || p == &bp_peer_mqtt5_st;
}

/* the best peer for `key` (highest or lowest median), or -1 */
static int best_peer(int ci, const char *key, bool higher)
{
    int best = -1;
    double bv = 0;
    for (int i = 0; i < nlibs; i++) {
        if (is_ours(libs[i])) continue;
        double v = med_of(ci, i, key);
        if (isnan(v)) continue;
        if (best < 0 || (higher ? v > bv : v < bv)) {
            best = i;
            bv = v;
        }
    }
    return best;
}

static void fmt_num(char *b, size_t cap, double v)
{
    if (isnan(v))
        snprintf(b, cap, "n/a");
    else if (fabs(v) >= 1000 || v == floor(v))
        snprintf(b, cap, "%.0f", v);
    else if (fabs(v) >= 100)
        snprintf(b, cap, "%.1f", v);
    else
        snprintf(b, cap, "%.3f", v);
}

/* one table: rows = libraries, columns = (title, key, scale) */
typedef struct col {
    const char *title, *key;
    double scale;
} col;

static void table(int ci, const col *cols, int ncols, const char *runs_key, const char *runs_title)
{
    printf("  %-8s", "lib");
    for (int c = 0; c < ncols; c++)
        printf(" %14s", cols[c].title);
    printf("   %s per round\n", runs_title);
    for (int i = 0; i < nlibs; i++) {
        printf("  %-8s", libs[i]->name);
        for (int c = 0; c < ncols; c++) {
            char b[32];
            fmt_num(b, sizeof b, med_of(ci, i, cols[c].key) * cols[c].scale);
            printf(" %14s", b);
        }
        char runs[256];
        runs_of(ci, i, runs_key, 1, runs, sizeof runs);
        printf("   [%s]\n", runs);
    }
}

/* "<what> <our lib> / <versus>   ratio  (best peer ...)  target ...: MET" */
static void ratio_line(int us, const char *what, const char *versus, double ours, int best,
                       double bv, bool higher_is_better, double target, const char *target_text)
{
    char label[96];
    snprintf(label, sizeof label, "%s %s / %s", what, libs[us]->name, versus);
    if (best < 0 || isnan(ours) || isnan(bv)) {
        printf("  %s: n/a\n", label);
        return;
    }
    double ratio = ours / bv;
    bool met = higher_is_better ? ratio >= target : ratio <= target;
    printf("  %-48s %8.3f  (best peer %s)  target %s: %s\n", label, ratio, libs[best]->name,
           target_text, target < 0 ? "-" : (met ? "MET" : "NOT MET"));
}

static void print_tables(int argc, char **argv)
{
    printf("\n================ bench_peers: medians of %d rounds ================\n", C.rounds);
    printf("command:");
    for (int i = 0; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\n");
    struct utsname u;
    uname(&u);
    printf("host: %s %s, %ld CPUs online; mosquitto at %s:%d\n", u.sysname, u.release,
           sysconf(_SC_NPROCESSORS_ONLN), C.host, C.port);
    for (int i = 0; i < nlibs; i++)
        printf("  %-8s %s, MQTT %s\n           %s\n", libs[i]->name, libs[i]->version(),
               proto_of(libs[i]) == 5 ? "5" : "3.1.1", libs[i]->describe);

    int ci;
    if (case_on[ci = case_index("pub")]) {
        printf("\n(1) publish-only: %ld QoS 0 %d-byte publishes -> local epoll TCP sink, "
               "TCP_NODELAY\n",
               C.n_pub, PAYLOAD);
        col cols[] = {{"msg/s", "msg_s", 1},
                      {"CPU us/msg", "cpu_us", 1},
                      {"caller us/msg", "call_cpu_us", 1},
                      {"pub-calls s", "call_s", 1},
                      {"full-retries", "again", 1},
                      {"VmHWM KiB", "hwm_kb", 1}};
        table(ci, cols, 6, "msg_s", "msg/s");
        for (int us = 0; us < nlibs; us++) {
            if (!is_ours(libs[us])) continue;
            int b = best_peer(ci, "msg_s", true);
            ratio_line(us, "msg/s", "best peer", med_of(ci, us, "msg_s"), b,
                       b >= 0 ? med_of(ci, b, "msg_s") : NAN, true, 10, ">= 10");
            b = best_peer(ci, "cpu_us", false);
            ratio_line(us, "CPU/msg", "best peer", med_of(ci, us, "cpu_us"), b,
                       b >= 0 ? med_of(ci, b, "cpu_us") : NAN, false, 0.2, "<= 0.2");
        }
    }
    for (int q = 0; q <= 1; q++) {
        if (!case_on[ci = case_index(q ? "e2e1" : "e2e0")]) continue;
        printf("\n(2) publish -> receive through mosquitto, QoS %d, %ld messages (A -> B, same "
               "library)\n",
               q, q ? C.n_e2e1 : C.n_e2e0);
        col cols[] = {{"msg/s", "msg_s", 1},
                      {"pub CPU us/msg", "cpu_us", 1},
                      {"caller us/msg", "call_cpu_us", 1},
                      {"sub CPU us/msg", "sub_cpu_us", 1},
                      {"full-retries", "again", 1},
                      {"received", "recv", 1}};
        table(ci, cols, 6, "cpu_us", "pub CPU us/msg");
        for (int us = 0; us < nlibs; us++) {
            if (!is_ours(libs[us])) continue;
            int b = best_peer(ci, "cpu_us", false);
            ratio_line(us, "pub CPU/msg", "best peer", med_of(ci, us, "cpu_us"), b,
                       b >= 0 ? med_of(ci, b, "cpu_us") : NAN, false, 0.2, "<= 0.2");
            b = best_peer(ci, "sub_cpu_us", false);
            ratio_line(us, "sub CPU/msg", "best peer", med_of(ci, us, "sub_cpu_us"), b,
                       b >= 0 ? med_of(ci, b, "sub_cpu_us") : NAN, false, -1, "(none)");
            b = best_peer(ci, "msg_s", true);
            ratio_line(us, "msg/s", "best peer", med_of(ci, us, "msg_s"), b,
                       b >= 0 ? med_of(ci, b, "msg_s") : NAN, true, -1, "(none)");
        }
    }
    if (case_on[ci = case_index("rtt")]) {
        printf("\n(3) QoS 1 round trip through mosquitto (publish call -> own subscription's "
               "callback), %ld samples, TCP_NODELAY\n",
               C.n_rtt);
        col cols[] = {{"p50 us", "p50_us", 1},
                      {"p99 us", "p99_us", 1},
                      {"p99.9 us", "p999_us", 1},
                      {"mean us", "mean_us", 1},
                      {"CPU us/rt", "cpu_us", 1}};
        table(ci, cols, 5, "p50_us", "p50 us");
        for (int us = 0; us < nlibs; us++) {
            if (!is_ours(libs[us])) continue;
            int b = best_peer(ci, "p50_us", false);
            ratio_line(us, "p50", "best peer", med_of(ci, us, "p50_us"), b,
                       b >= 0 ? med_of(ci, b, "p50_us") : NAN, false, 1, "<= 1");
            b = best_peer(ci, "p99_us", false);
            ratio_line(us, "p99", "best peer", med_of(ci, us, "p99_us"), b,
                       b >= 0 ? med_of(ci, b, "p99_us") : NAN, false, -1, "(none)");
        }
    }
    int c1 = case_index("idle1"), cn = case_index("idleN");
    if (case_on[c1] || case_on[cn]) {
        printf("\n(4) idle connected clients, peak RSS (VmHWM) of the client process; per "
               "client = (HWM(%d) - HWM(1)) / %d, same round\n",
               C.idle_n, C.idle_n - 1);
        printf("  %-8s %14s %14s %14s %14s %14s   %s\n", "lib", "base RSS KiB", "HWM 1 KiB",
               "HWM N KiB", "RSS N KiB", "KiB/client", "KiB/client per round");
        double per[MAX_LIBS];
        for (int i = 0; i < nlibs; i++) {
            double v[MAX_ROUNDS];
            char runs[256];
            size_t l = 0;
            runs[0] = 0;
            for (int r = 0; r < C.rounds; r++) {
                v[r] =
                    (rr_get(&results[cn][i][r], "hwm_kb") - rr_get(&results[c1][i][r], "hwm_kb")) /
                    (C.idle_n - 1);
                l += (size_t)snprintf(runs + l, sizeof runs - l, "%s%.3g", r ? " " : "", v[r]);
            }
            per[i] = median(v, C.rounds);
            char b[5][32];
            fmt_num(b[0], 32, med_of(c1, i, "base_kb"));
            fmt_num(b[1], 32, med_of(c1, i, "hwm_kb"));
            fmt_num(b[2], 32, med_of(cn, i, "hwm_kb"));
            fmt_num(b[3], 32, med_of(cn, i, "rss_kb"));
            fmt_num(b[4], 32, per[i]);
            printf("  %-8s %14s %14s %14s %14s %14s   [%s]\n", libs[i]->name, b[0], b[1], b[2],
                   b[3], b[4], runs);
        }
        for (int us = 0; us < nlibs; us++) {
            if (!is_ours(libs[us])) continue;
            int b = -1;
            for (int i = 0; i < nlibs; i++)
                if ((libs[i] == &bp_peer_mosq || libs[i] == &bp_peer_mosq_st) && !isnan(per[i]) &&
                    (b < 0 || per[i] < per[b]))
                    b = i;
            ratio_line(us, "KiB/client", "libmosquitto (leaner)", per[us], b, b >= 0 ? per[b] : NAN,
                       false, 1, "<= 1");
            b = -1;
            for (int i = 0; i < nlibs; i++)
                if (!is_ours(libs[i]) && !isnan(per[i]) && (b < 0 || per[i] < per[b])) b = i;
            ratio_line(us, "KiB/client", "best peer", per[us], b, b >= 0 ? per[b] : NAN, false, -1,
                       "(none)");
        }
    }
    printf("\nCPU us/msg: getrusage(RUSAGE_SELF) of the client process (all its threads) per "
           "message; caller us/msg: the publishing thread alone (RUSAGE_THREAD), including its "
           "sched_yield back-off on a full queue (full-retries = publish calls refused).\n"
           "ratios: median of ours / median of the best peer for that figure; the VM alternates "
           "speeds, so read the per-round columns too.\n");
}

static int run_all(int argc, char **argv)
{
    raise_nofile();
    if (readlink("/proc/self/exe", exe_path, sizeof exe_path - 1) < 0) return 2;
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", C.libs);
    for (char *t = strtok(tmp, ","); t && nlibs < MAX_LIBS; t = strtok(NULL, ",")) {
        const bp_peer *p = peer_by_name(t);
        if (!p) {
            fprintf(stderr, "unknown library %s\n", t);
            return 2;
        }
        libs[nlibs++] = p;
    }
    snprintf(tmp, sizeof tmp, "%s", C.cases);
    for (char *t = strtok(tmp, ","); t; t = strtok(NULL, ",")) {
        int ci = case_index(t);
        if (ci < 0) {
            fprintf(stderr, "unknown case %s\n", t);
            return 2;
        }
        case_on[ci] = true;
    }
    if (C.rounds < 1 || C.rounds > MAX_ROUNDS) return 2;
    double t_start = bp_now_s();
    for (int r = 0; r < C.rounds; r++) {
        for (int ci = 0; ci < NCASES; ci++) {
            if (!case_on[ci]) continue;
            for (int k = 0; k < nlibs; k++) {
                int li = (k + r) % nlibs; /* the order rotates every round */
                run_res *res = &results[ci][li][r];
                run_child(case_names[ci], libs[li], res);
                fprintf(stderr, "[round %d/%d %6.0fs] %-5s %-8s", r + 1, C.rounds,
                        bp_now_s() - t_start, case_names[ci], libs[li]->name);
                static const char *shown[] = {"msg_s",  "cpu_us", "sub_cpu_us", "p50_us",
                                              "p99_us", "hwm_kb", "recv"};
                for (size_t s = 0; s < sizeof shown / sizeof shown[0]; s++) {
                    double v = rr_get(res, shown[s]);
                    if (!isnan(v)) fprintf(stderr, " %s=%.4g", shown[s], v);
                }
                fprintf(stderr, "%s\n", res->ok ? "" : " FAILED");
            }
        }
    }
    print_tables(argc, argv);
    return 0;
}

/* ---- main ---------------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_peers --all [options]            every case, every library, N rounds\n"
            "       bench_peers --case C --lib L [options] one run (prints a RESULT line)\n"
            "cases: pub e2e0 e2e1 rtt idle1 idleN    libraries: mqtt5 mqtt5-st mosq mosq-st paho "
            "paho5\n"
            "options:\n"
            "  --host H --port P        mosquitto for e2e/rtt/idle (127.0.0.1:1883)\n"
            "  --rounds N               rounds for --all (5)\n"
            "  --libs a,b,...           libraries for --all (mqtt5,mqtt5-st,mosq,mosq-st,paho)\n"
            "  --cases a,b,...          cases for --all (pub,e2e0,e2e1,rtt,idle1,idleN)\n"
            "  --peer-proto 5|4         MQTT version of mosq and mosq-st (5); this SDK speaks 5,\n"
            "                           paho 3.1.1 and paho5 MQTT 5\n"
            "  --n-pub N --n-e2e0 N --n-e2e1 N --n-rtt N --idle-n N\n"
            "                           (200000, 200000, 100000, 10000, 1000)\n"
            "  --m5-max-queued N        this SDK's core.max_queued_ops (0 = SDK default, 1024)\n"
            "  --m5-max-queued-bytes N  this SDK's core.max_queued_bytes (0 = no bound; SDK\n"
            "                           default 4 MiB)\n"
            "  --m5-write-batch N       this SDK's core.write_batch_size (0 = SDK default)\n"
            "  --m5-ack-coalescing 0|1  this SDK's core.ack_coalescing (SDK default: 1)\n"
            "  --paho-max-buffered N    Paho createOptions.maxBufferedMessages (100, its default)\n"
            "  --paho-nodelay 1|0       set TCP_NODELAY on Paho's socket (1; Paho leaves it off)\n"
            "  --backoff yield|sleep    on a full queue: sched_yield (default) or sleep 20 us\n"
            "  --timeout S              seconds per run (300)\n");
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (strcmp(a, name) == 0 && v && (i++, 1))
        if (strcmp(a, "--all") == 0)
            C.all = true;
        else if (OPT("--case"))
            C.run_case = v;
        else if (OPT("--lib"))
            C.run_lib = v;
        else if (OPT("--host"))
            C.host = v;
        else if (OPT("--port"))
            C.port = atoi(v);
        else if (OPT("--rounds"))
            C.rounds = atoi(v);
        else if (OPT("--libs"))
            C.libs = v;
        else if (OPT("--cases"))
            C.cases = v;
        else if (OPT("--peer-proto"))
            C.proto = atoi(v) == 4 ? 4 : 5;
        else if (OPT("--n-pub"))
            C.n_pub = atol(v);
        else if (OPT("--n-e2e0"))
            C.n_e2e0 = atol(v);
        else if (OPT("--n-e2e1"))
            C.n_e2e1 = atol(v);
        else if (OPT("--n-rtt"))
            C.n_rtt = atol(v);
        else if (OPT("--idle-n"))
            C.idle_n = atoi(v);
        else if (OPT("--m5-max-queued"))
            bp_tune.m5_max_queued_ops = (uint32_t)strtoul(v, NULL, 10);
        else if (OPT("--m5-max-queued-bytes"))
            bp_tune.m5_max_queued_bytes = (size_t)strtoull(v, NULL, 10);
        else if (OPT("--m5-write-batch"))
            bp_tune.m5_write_batch = (size_t)strtoul(v, NULL, 10);
        else if (OPT("--m5-ack-coalescing"))
            bp_tune.m5_ack_coalescing = atoi(v) < 0 ? -1 : atoi(v) != 0;
        else if (OPT("--paho-max-buffered"))
            bp_tune.paho_max_buffered = atoi(v);
        else if (OPT("--paho-nodelay"))
            bp_tune.paho_nodelay = atoi(v) != 0;
        else if (OPT("--backoff"))
            bp_tune.backoff_sleep = strcmp(v, "sleep") == 0;
        else if (OPT("--timeout"))
            C.timeout_s = atof(v);
        else {
            usage();
            return 2;
        }
#undef OPT
    }
    if (C.idle_n < 2) C.idle_n = 2;
    if (C.all) return run_all(argc, argv);
    if (C.run_case && C.run_lib) return run_one();
    usage();
    return 2;
}
