/*
 * test_runtime.c - the runtime's parts that need no server: the event-loop group (per-thread
 * FIFO of commands from many threads, commands run on the loop thread without the queue lock,
 * several loops, shutdown only after the threads were joined), futures (completion from another
 * thread, timeout, release before completion, WOULD_DEADLOCK on a loop thread), the log (levels,
 * parsing, subjects), and client option checks plus a client released while it is connecting
 * to a listener that never accepts (everything completes, nothing leaks).
 */
#define _POSIX_C_SOURCE 200809L
#include "helpers/test_common.h"
#include "helpers/loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <time.h>

#include "runtime/log_internal.h"
#include "runtime/loop.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- event-loop group ---------------------------------------------------------------------- */

#define PRODUCERS 6
#define PER_PRODUCER 5000

typedef struct seq_cmd {
    mqtt5_cmd base;
    int producer, seq;
} seq_cmd;

static struct {
    mqtt5_loop *loop;
    int next[PRODUCERS];
    _Atomic int ran, out_of_order, wrong_thread;
} fifo;

static void run_seq(mqtt5_cmd *base)
{
    seq_cmd *c = (seq_cmd *)base;
    if (!mqtt5_loop_is_current(fifo.loop)) fifo.wrong_thread++;
    /* the queue mutex is not held while a command runs: taking it here would deadlock (and the
     * test time out) if it were; producers may hold it briefly, so this only waits for them */
    uv_mutex_lock(&fifo.loop->mu);
    uv_mutex_unlock(&fifo.loop->mu);
    if (c->seq != fifo.next[c->producer]) fifo.out_of_order++;
    fifo.next[c->producer] = c->seq + 1;
    fifo.ran++;
    free(c);
}

static void *producer(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < PER_PRODUCER; i++) {
        seq_cmd *c = calloc(1, sizeof *c);
        c->base.run = run_seq;
        c->producer = id;
        c->seq = i;
        mqtt5_loop_post(fifo.loop, &c->base);
    }
    return NULL;
}

static void on_shutdown_future(void *f)
{
    mqtt5_future_complete(f, 0);
}

static void release_group_and_wait(mqtt5_event_loop_group *g)
{
    mqtt5_future *f = mqtt5_future_new();
    mqtt5_event_loop_group_release(g, on_shutdown_future, f);
    assert_int_equal(mqtt5_future_wait(f, 10000), 0);
    mqtt5_future_release(f);
}

static void test_group_fifo_per_thread(void **state)
{
    (void)state;
    mqtt5_event_loop_group *g = NULL;
    assert_int_equal(mqtt5_event_loop_group_new(NULL, &g), 0);
    memset(&fifo, 0, sizeof fifo);
    fifo.loop = mqtt5_loop_group_pick(g);
    assert_false(mqtt5_loop_is_current(fifo.loop));
    pthread_t t[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, producer, (void *)(intptr_t)i), 0);
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 500 && fifo.ran < PRODUCERS * PER_PRODUCER; i++)
        sleep_ms(10);
    assert_int_equal(fifo.ran, PRODUCERS * PER_PRODUCER);
    assert_int_equal(fifo.out_of_order, 0);
    assert_int_equal(fifo.wrong_thread, 0);
    release_group_and_wait(g);
}

static void test_group_options(void **state)
{
    (void)state;
    mqtt5_event_loop_group_options o;
    mqtt5_event_loop_group_options_init(&o);
    assert_int_equal(o.threads, 1);
    o.threads = 65;
    mqtt5_event_loop_group *g = NULL;
    assert_int_equal(mqtt5_event_loop_group_new(&o, &g), MQTT5_ERR_INVALID_ARGUMENT);
    assert_null(g);
    o.threads = 3;
    assert_int_equal(mqtt5_event_loop_group_new(&o, &g), 0);
    /* round robin over three distinct loops */
    mqtt5_loop *a = mqtt5_loop_group_pick(g), *b = mqtt5_loop_group_pick(g),
               *c = mqtt5_loop_group_pick(g), *d = mqtt5_loop_group_pick(g);
    assert_ptr_not_equal(a, b);
    assert_ptr_not_equal(b, c);
    assert_ptr_equal(a, d);
    /* an extra reference keeps it alive through one release */
    assert_ptr_equal(mqtt5_event_loop_group_acquire(g), g);
    mqtt5_event_loop_group_release(g, NULL, NULL);
    release_group_and_wait(g);
}

/* ---- futures ------------------------------------------------------------------------------- */

static void *complete_later(void *arg)
{
    sleep_ms(50);
    mqtt5_packet ack;
    memset(&ack, 0, sizeof ack);
    ack.type = MQTT5_PUBACK;
    ack.u.ack.packet_id = 7;
    ack.u.ack.reason_code = 0x10;
    mqtt5_op_completion done = {1, NULL, MQTT5_PUBLISH, 0, &ack};
    mqtt5_future_on_complete(arg, &done);
    return NULL;
}

static void test_future_completes_from_another_thread(void **state)
{
    (void)state;
    mqtt5_future *f = mqtt5_future_new();
    assert_non_null(f);
    assert_null(mqtt5_future_ack(f));
    pthread_t t;
    pthread_create(&t, NULL, complete_later, f);
    assert_int_equal(mqtt5_future_wait(f, 5000), 0);
    const mqtt5_packet *ack = mqtt5_future_ack(f);
    assert_non_null(ack);
    assert_int_equal(ack->type, MQTT5_PUBACK);
    assert_int_equal(ack->u.ack.packet_id, 7);
    assert_int_equal(ack->u.ack.reason_code, 0x10);
    pthread_join(t, NULL);
    mqtt5_future_release(f);
}

static void test_future_timeout_then_late_completion(void **state)
{
    (void)state;
    mqtt5_future *f = mqtt5_future_new();
    assert_int_equal(mqtt5_future_wait(f, 20), MQTT5_ERR_TIMEOUT);
    mqtt5_future_release(f); /* the waiter gives up; the completer's reference keeps it */
    pthread_t t;
    pthread_create(&t, NULL, complete_later, f);
    pthread_join(t, NULL); /* ASan reports a use after free or a leak if refs are wrong */
}

static void test_future_error_is_returned(void **state)
{
    (void)state;
    mqtt5_future *f = mqtt5_future_new();
    mqtt5_future_complete(f, MQTT5_ERR_ACK_TIMEOUT);
    assert_int_equal(mqtt5_future_wait(f, 0), MQTT5_ERR_ACK_TIMEOUT);
    assert_null(mqtt5_future_ack(f));
    mqtt5_future_release(f);
}

typedef struct deadlock_cmd {
    mqtt5_cmd base;
    mqtt5_future *probe, *report;
} deadlock_cmd;

static void run_deadlock(mqtt5_cmd *base)
{
    deadlock_cmd *c = (deadlock_cmd *)base;
    int rc = mqtt5_future_wait(c->probe, 1000); /* on the loop thread: must refuse at once */
    mqtt5_future_complete(c->report, rc);
    mqtt5_future_complete(c->probe, 0);
    free(c);
}

static void test_future_wait_on_loop_thread_refused(void **state)
{
    (void)state;
    mqtt5_event_loop_group *g = NULL;
    assert_int_equal(mqtt5_event_loop_group_new(NULL, &g), 0);
    deadlock_cmd *c = calloc(1, sizeof *c);
    c->base.run = run_deadlock;
    c->probe = mqtt5_future_new();
    c->report = mqtt5_future_new();
    mqtt5_future *probe = c->probe, *report = c->report;
    mqtt5_loop_post(mqtt5_loop_group_pick(g), &c->base);
    assert_int_equal(mqtt5_future_wait(report, 5000), MQTT5_ERR_WOULD_DEADLOCK);
    mqtt5_future_release(report);
    mqtt5_future_release(probe);
    release_group_and_wait(g);
}

/* ---- log ----------------------------------------------------------------------------------- */

static struct {
    int lines;
    mqtt5_log_level level;
    mqtt5_log_subject subject;
    char last[256];
} logged;

static void log_sink(void *user, mqtt5_log_level level, mqtt5_log_subject subject, const char *line)
{
    assert_ptr_equal(user, &logged);
    logged.lines++;
    logged.level = level;
    logged.subject = subject;
    snprintf(logged.last, sizeof logged.last, "%s", line);
}

static void test_log_levels_and_parse(void **state)
{
    (void)state;
    memset(&logged, 0, sizeof logged);
    mqtt5_log_set(MQTT5_LOG_INFO, log_sink, &logged);
    MQTT5_LOG(MQTT5_LOG_DEBUG, MQTT5_LOG_TLS, "hidden %d", 1);
    assert_int_equal(logged.lines, 0);
    MQTT5_LOG(MQTT5_LOG_WARN, MQTT5_LOG_TLS, "shown %d", 2);
    assert_int_equal(logged.lines, 1);
    assert_int_equal(logged.level, MQTT5_LOG_WARN);
    assert_int_equal(logged.subject, MQTT5_LOG_TLS);
    assert_string_equal(logged.last, "shown 2");
    mqtt5_log_set(MQTT5_LOG_NONE, NULL, NULL);
    MQTT5_LOG(MQTT5_LOG_FATAL, MQTT5_LOG_TLS, "off");
    assert_int_equal(logged.lines, 1);

    mqtt5_log_level l = MQTT5_LOG_FATAL;
    assert_int_equal(mqtt5_log_level_parse("Trace", &l), 0);
    assert_int_equal(l, MQTT5_LOG_TRACE);
    assert_int_equal(mqtt5_log_level_parse("NoLogs", &l), 0);
    assert_int_equal(l, MQTT5_LOG_NONE);
    assert_int_equal(mqtt5_log_level_parse("warn", &l), 0);
    assert_int_equal(l, MQTT5_LOG_WARN);
    assert_int_equal(mqtt5_log_level_parse("loud", &l), MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(mqtt5_log_level_name(MQTT5_LOG_ERROR), "ERROR");
    assert_string_equal(mqtt5_log_subject_name(MQTT5_LOG_WEBSOCKET), "websocket");
}

/* ---- client options and release while connecting ----------------------------------------- */

static void test_client_new_names_bad_options(void **state)
{
    (void)state;
    mqtt5_event_loop_group *g = NULL;
    assert_int_equal(mqtt5_event_loop_group_new(NULL, &g), 0);
    mqtt5_client_options o;
    mqtt5_client_options_init(&o);
    assert_int_equal(o.socket.connect_timeout_ms, 10000);
    assert_true(o.socket.tcp_nodelay);
    mqtt5_client *c = NULL;
    mqtt5_codec_status st;
    assert_int_equal(mqtt5_client_new(&o, &c, &st), MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "group");
    o.group = g;
    assert_int_equal(mqtt5_client_new(&o, &c, &st), MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "host");
    o.host = "localhost";
    assert_int_equal(mqtt5_client_new(&o, &c, &st), MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "port");
    o.port = 1883;
    mqtt5_http_proxy_options proxy = {"127.0.0.1", 0, NULL, NULL, NULL};
    mqtt5_socks5_proxy_options socks = {"127.0.0.1", 1080, NULL, NULL};
    o.http_proxy = &proxy;
    o.socks5_proxy = &socks;
    assert_int_equal(mqtt5_client_new(&o, &c, &st), MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "socks5_proxy");
    o.socks5_proxy = NULL;
    assert_int_equal(mqtt5_client_new(&o, &c, &st), MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "http_proxy.port");
    o.http_proxy = NULL;
    mqtt5_tls_options tls;
    mqtt5_tls_options_init(&tls);
    tls.ca_file = "/nonexistent/ca.crt";
    o.tls = &tls;
    assert_int_not_equal(mqtt5_client_new(&o, &c, &st), 0);
    assert_string_equal(st.field, "ca_file");
    assert_null(c);
    release_group_and_wait(g);
}

static struct {
    _Atomic int attempting, failures, stopped, completions, stopped_errors, ctx_ok;
} seen;

static void count_lifecycle(void *user, const mqtt5_lifecycle_event *ev, const char *detail)
{
    (void)user;
    (void)detail;
    if (ev->type == MQTT5_LC_ATTEMPTING_CONNECT) seen.attempting++;
    if (ev->type == MQTT5_LC_CONNECTION_FAILURE) seen.failures++;
    if (ev->type == MQTT5_LC_STOPPED) seen.stopped++;
}

static int ctx_marker;

static void count_completion(void *user, const mqtt5_op_completion *done)
{
    /* `user` is the call's argument, user_ctx the operation options' */
    if (user == &seen && done->user_ctx == (void *)&ctx_marker && done->op_type == MQTT5_PUBLISH)
        seen.ctx_ok++;
    seen.completions++;
    if (done->error == MQTT5_ERR_STOPPED || done->error == MQTT5_ERR_TERMINATED)
        seen.stopped_errors++;
}

static void on_terminated_future(void *f)
{
    mqtt5_future_complete(f, 0);
}

static void test_client_release_while_connecting(void **state)
{
    (void)state;
    /* a listener that never accepts: the TCP handshake completes in the kernel, TLS never */
    uint16_t port;
    int ls = test_loopback_listen(&port);

    memset(&seen, 0, sizeof seen);
    mqtt5_event_loop_group *g = NULL;
    assert_int_equal(mqtt5_event_loop_group_new(NULL, &g), 0);
    mqtt5_client_options o;
    mqtt5_client_options_init(&o);
    o.group = g;
    o.host = "127.0.0.1";
    o.port = port;
    o.on_lifecycle = count_lifecycle;
    o.core.offline_policy = MQTT5_OFFLINE_FAIL_NON_QOS1_PUBLISH_ON_DISCONNECT;
    mqtt5_tls_options tls;
    mqtt5_tls_options_init(&tls);
    o.tls = &tls;
    mqtt5_client *c = NULL;
    assert_int_equal(mqtt5_client_new(&o, &c, NULL), 0);
    mqtt5_event_loop_group_release(g, NULL, NULL); /* the client keeps the group alive */
    assert_int_equal(mqtt5_client_start(c), 0);
    mqtt5_publish p;
    memset(&p, 0, sizeof p);
    p.qos = 1;
    p.topic = S("a/b");
    mqtt5_op_options opt = {(void *)&ctx_marker, 0};
    for (int i = 0; i < 10; i++)
        assert_int_equal(mqtt5_client_publish(c, &p, &opt, count_completion, &seen, NULL), 0);
    sleep_ms(100);
    mqtt5_future *f = mqtt5_future_new();
    assert_int_equal(mqtt5_client_release(c, on_terminated_future, f), 0);
    assert_int_equal(mqtt5_future_wait(f, 10000), 0);
    mqtt5_future_release(f);
    assert_int_equal(seen.attempting, 1);
    assert_int_equal(seen.failures, 1); /* the attempt ends, as every attempt does */
    assert_int_equal(seen.stopped, 1);
    assert_int_equal(seen.completions, 10);
    assert_int_equal(seen.stopped_errors, 10);
    assert_int_equal(seen.ctx_ok, 10);
    close(ls);
    sleep_ms(50); /* the group's joiner finishes freeing (LeakSanitizer runs at exit) */
}

/* ---- ack coalescing on a real socket ------------------------------------------------------ */

/* The descriptor of this process's socket connected to 127.0.0.1:port, or -1. */
static int socket_to_port(uint16_t port)
{
    for (int fd = 3; fd < 1024; fd++) {
        struct sockaddr_in a;
        socklen_t len = sizeof a;
        if (getpeername(fd, (struct sockaddr *)&a, &len) == 0 && a.sin_family == AF_INET &&
            ntohs(a.sin_port) == port)
            return fd;
    }
    return -1;
}

static int low_water_of(int fd)
{
    int v = -1;
    socklen_t len = sizeof v;
    assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &v, &len), 0);
    return v;
}

/* Run the caller-driven group until `n` bytes came to the server's socket `fd` (5 s at most). */
static void server_read(mqtt5_event_loop_group *g, int fd, uint8_t *buf, size_t n)
{
    size_t got = 0;
    for (int i = 0; got < n; i++) {
        if (i > 500) fail_msg("the server got %zu of %zu bytes", got, n);
        assert_int_equal(mqtt5_event_loop_group_run(g, 10), 0);
        ssize_t k = recv(fd, buf + got, n - got, MSG_DONTWAIT);
        if (k > 0) got += (size_t)k;
    }
}

/* PUBACKs for the next n packet ids from *next_id. */
static void send_pubacks(int fd, uint16_t *next_id, int n)
{
    uint8_t acks[64];
    assert_true(n * 4 <= (int)sizeof acks);
    for (int i = 0; i < n; i++, ++*next_id) {
        uint8_t *a = acks + 4 * i;
        a[0] = 0x40, a[1] = 0x02, a[2] = (uint8_t)(*next_id >> 8), a[3] = (uint8_t)*next_id;
    }
    assert_int_equal(send(fd, acks, (size_t)n * 4, 0), (ssize_t)n * 4);
}

static void count_success(void *user, const mqtt5_lifecycle_event *ev, const char *detail)
{
    (void)detail;
    if (ev->type == MQTT5_LC_CONNECTION_SUCCESS) ++*(int *)user;
}

/* A caller-driven group with one client connected to a server socket of the test's (srv), which
 * has sent nothing yet. `o` holds the client's other options; group, host and port are set here. */
typedef struct driven_client {
    mqtt5_event_loop_group *g;
    mqtt5_client *c;
    int ls, srv;
    uint16_t port;
} driven_client;

static void driven_client_open(driven_client *d, mqtt5_client_options *o)
{
    d->ls = test_loopback_listen(&d->port);
    mqtt5_event_loop_group_options go;
    mqtt5_event_loop_group_options_init(&go);
    go.caller_driven = true;
    d->g = NULL;
    assert_int_equal(mqtt5_event_loop_group_new(&go, &d->g), 0);
    o->group = d->g;
    o->host = "127.0.0.1";
    o->port = d->port;
    d->c = NULL;
    assert_int_equal(mqtt5_client_new(o, &d->c, NULL), 0);
    assert_int_equal(mqtt5_client_start(d->c), 0);
    d->srv = -1;
    for (int i = 0; d->srv < 0; i++) {
        if (i > 500) fail_msg("the client did not connect");
        assert_int_equal(mqtt5_event_loop_group_run(d->g, 10), 0);
        d->srv = accept(d->ls, NULL, NULL);
    }
}

/* Release the client and the group, run the loop until the client terminated, close the sockets. */
static void driven_client_close(driven_client *d)
{
    mqtt5_future *f = mqtt5_future_new();
    assert_int_equal(mqtt5_client_release(d->c, on_terminated_future, f), 0);
    mqtt5_event_loop_group_release(d->g, NULL, NULL);
    assert_int_equal(mqtt5_future_wait(f, 10000), 0); /* runs the loop: this thread is its own */
    mqtt5_future_release(f);
    close(d->srv);
    close(d->ls);
}

/* The runtime applies the core's read_low_water to the socket (mqtt5_client_want, SO_RCVLOWAT):
 * a server window of 8 full and 4 publishes waiting: 24 bytes (6 PUBACKs); every publish
 * acknowledged and nothing waiting: 1. The group is caller-driven, so nothing runs between the
 * calls below; only a run longer than the 2 ms bound would read early, hence three tries. */
static void test_client_ack_coalescing_on_the_socket(void **state)
{
    (void)state;
    memset(&seen, 0, sizeof seen);
    int successes = 0;
    mqtt5_client_options o;
    mqtt5_client_options_init(&o);
    o.on_lifecycle = count_success;
    o.user = &successes;
    o.core.connect.client_id = S("coalesce");
    o.core.ack_coalescing = true;
    driven_client d;
    driven_client_open(&d, &o);
    mqtt5_event_loop_group *g = d.g;
    mqtt5_client *c = d.c;
    int srv = d.srv;
    uint8_t buf[256];
    server_read(g, srv, buf, 2);
    assert_int_equal(buf[0], 0x10);
    server_read(g, srv, buf + 2, buf[1]); /* the CONNECT, short enough for a 1-byte length */
    static const uint8_t connack[] = {0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x08};
    assert_int_equal(send(srv, connack, sizeof connack, 0), (ssize_t)sizeof connack);
    int runs = 0;
    while (successes == 0) { /* counted by count_success inside the runs */
        if (++runs > 500) fail_msg("no CONNECTION_SUCCESS");
        assert_int_equal(mqtt5_event_loop_group_run(g, 10), 0);
    }
    int fd = socket_to_port(d.port);
    assert_true(fd >= 0);
    assert_int_equal(low_water_of(fd), 1);

    mqtt5_publish p;
    memset(&p, 0, sizeof p);
    p.qos = 1;
    p.topic = S("t");
    uint16_t next_id = 1;
    int coalescing_seen = 0;
    for (int round = 0; round < 3 && !coalescing_seen; round++) {
        for (int i = 0; i < 12; i++)
            assert_int_equal(mqtt5_client_publish(c, &p, NULL, count_completion, &seen, NULL), 0);
        assert_int_equal(mqtt5_event_loop_group_run(g, 0), 0); /* 8 PUBLISHes, 8 bytes each */
        if (low_water_of(fd) == 24) coalescing_seen++;
        server_read(g, srv, buf, 8 * 8);
        send_pubacks(srv, &next_id, 8); /* 32 bytes: past the mark; the last 4 go out */
        server_read(g, srv, buf, 4 * 8);
        send_pubacks(srv, &next_id, 4);
        for (int i = 0; seen.completions < 12 * (round + 1); i++) {
            if (i > 500) fail_msg("%d of %d completions", seen.completions, 12 * (round + 1));
            assert_int_equal(mqtt5_event_loop_group_run(g, 10), 0);
        }
        assert_int_equal(low_water_of(fd), 1); /* nothing waits: every byte is worth a read */
    }
    assert_int_equal(coalescing_seen, 1);
    driven_client_close(&d);
}

/* mqtt5_event_loop_group_run(g, 5) returns after about 5 ms even when the caller spent longer than
 * that outside the loop: libuv's cached time is then old, and a timer armed from it had already
 * expired when the run began, so the run used to wait for the next real timer (here the 20 s
 * CONNACK timeout; 28 s in the bench, which found it). */
static void test_caller_driven_run_timeout_after_time_outside(void **state)
{
    (void)state;
    mqtt5_client_options o;
    mqtt5_client_options_init(&o);
    o.core.connect.client_id = S("run-timeout");
    driven_client d;
    driven_client_open(&d, &o);
    for (int i = 0; i < 3; i++) /* the CONNECT goes out; no CONNACK comes */
        assert_int_equal(mqtt5_event_loop_group_run(d.g, 5), 0);
    for (int round = 0; round < 3; round++) {
        sleep_ms(30);
        uint64_t t0 = uv_hrtime();
        assert_int_equal(mqtt5_event_loop_group_run(d.g, 5), 0);
        uint64_t took = (uv_hrtime() - t0) / 1000000u;
        if (took > 2000) fail_msg("run(5 ms) took %llu ms", (unsigned long long)took);
    }
    driven_client_close(&d);
}

/* The queue bounds are enforced by the call itself: QUEUE_FULL at once, never a publish that
 * returns 0 and then completes with QUEUE_FULL (or, without a callback, vanishes). */
static void test_client_queue_bounds_refuse_at_call(void **state)
{
    (void)state;
    memset(&seen, 0, sizeof seen);
    mqtt5_event_loop_group *g = NULL;
    assert_int_equal(mqtt5_event_loop_group_new(NULL, &g), 0);
    mqtt5_client_options o;
    mqtt5_client_options_init(&o);
    o.group = g;
    o.host = "127.0.0.1";
    o.port = 1;
    o.core.max_queued_bytes = 300; /* about three 78-byte QoS 1 publishes */
    o.core.max_queued_ops = 1000;
    mqtt5_client *c = NULL;
    assert_int_equal(mqtt5_client_new(&o, &c, NULL), 0);
    mqtt5_event_loop_group_release(g, NULL, NULL);
    uint8_t payload[64] = {0};
    mqtt5_publish p;
    memset(&p, 0, sizeof p);
    p.qos = 1;
    p.topic = S("bench/t");
    p.payload = (mqtt5_bytes){payload, sizeof payload};
    int accepted = 0, refused = 0;
    mqtt5_codec_status st;
    for (int i = 0; i < 10; i++) {
        int rc = mqtt5_client_publish(c, &p, NULL, count_completion, &seen, &st);
        if (rc == 0) accepted++;
        if (rc == MQTT5_ERR_QUEUE_FULL) refused++;
    }
    assert_int_equal(accepted, 3);
    assert_int_equal(refused, 7);
    mqtt5_future *f = mqtt5_future_new();
    assert_int_equal(mqtt5_client_release(c, on_terminated_future, f), 0);
    assert_int_equal(mqtt5_future_wait(f, 10000), 0);
    mqtt5_future_release(f);
    assert_int_equal(seen.completions, 3); /* only the accepted ones complete */
    sleep_ms(50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_fifo_per_thread),
        cmocka_unit_test(test_group_options),
        cmocka_unit_test(test_future_completes_from_another_thread),
        cmocka_unit_test(test_future_timeout_then_late_completion),
        cmocka_unit_test(test_future_error_is_returned),
        cmocka_unit_test(test_future_wait_on_loop_thread_refused),
        cmocka_unit_test(test_log_levels_and_parse),
        cmocka_unit_test(test_client_new_names_bad_options),
        cmocka_unit_test(test_client_release_while_connecting),
        cmocka_unit_test(test_client_queue_bounds_refuse_at_call),
        cmocka_unit_test(test_client_ack_coalescing_on_the_socket),
        cmocka_unit_test(test_caller_driven_run_timeout_after_time_outside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
