/*
 * tests/integration/helpers/fx_env.c - fixture variables, files, clock and loopback sockets.
 */
#define _POSIX_C_SOURCE 200809L

#include "helpers/fx_env.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

const char *fx_env(const char *var)
{
    const char *v = getenv(var);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

uint16_t fx_env_port(const char *var)
{
    const char *v = fx_env(var);
    if (v == NULL) {
        return 0;
    }
    char *end = NULL;
    long p = strtol(v, &end, 10);
    return end != v && *end == '\0' && p > 0 && p <= 65535 ? (uint16_t)p : 0;
}

const char *fx_pki(const char *name)
{
    static char ring[16][512];
    static unsigned next;
    char *buf = ring[next++ % 16];
    const char *dir = fx_env("FX_PKI");
    snprintf(buf, sizeof ring[0], "%s/%s", dir != NULL ? dir : ".", name);
    return buf;
}

uint8_t *fx_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (cap - n < 4096) {
            cap = cap != 0 ? cap * 2 : 8192;
            uint8_t *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            break;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

uint64_t fx_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void fx_sleep_ms(uint32_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static int bind_loopback(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    socklen_t sl = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

uint16_t fx_unused_port(void)
{
    uint16_t port = 0;
    int fd = bind_loopback(&port);
    if (fd < 0) {
        return 0;
    }
    close(fd); /* never listened: connecting now gets RST (ECONNREFUSED) */
    return port;
}

int fx_listen_silent(uint16_t *port)
{
    int fd = bind_loopback(port);
    if (fd < 0) {
        return -1;
    }
    if (listen(fd, 8) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- the fixture's mosquitto ---------------------------------------------------------------- */

static long g_mosq_pid = -1; /* -1: not looked up yet; 0: none */

long fx_mosquitto_pid(void)
{
    if (g_mosq_pid < 0) {
        const char *v = fx_env("FX_MOSQ_PID");
        char *end = NULL;
        long p = v != NULL ? strtol(v, &end, 10) : 0;
        g_mosq_pid = v != NULL && end != v && *end == '\0' && p > 0 ? p : 0;
    }
    return g_mosq_pid;
}

/* Append a PID to FX_PIDS_FILE (the fixture stops every PID listed there). */
static void record_pid(long pid)
{
    const char *f = fx_env("FX_PIDS_FILE");
    if (f == NULL) {
        return;
    }
    FILE *fp = fopen(f, "a");
    if (fp != NULL) {
        fprintf(fp, "%ld\n", pid);
        fclose(fp);
    }
}

/* true when pid has exited: reaped here (our child), gone, or a zombie of another parent. */
static int process_gone(long pid)
{
    int st = 0;
    pid_t r = waitpid((pid_t)pid, &st, WNOHANG);
    if (r == (pid_t)pid) {
        return 1;
    }
    if (r == 0) {
        return 0; /* our child, still running */
    }
    /* not our child (ECHILD): the fixture's shell reaps it */
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
        return 1;
    }
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        return 1;
    }
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')'); /* "pid (comm) S ..." */
    return rp != NULL && (rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'));
}

static int wait_gone(long pid, uint32_t timeout_ms)
{
    uint64_t end = fx_now_ms() + timeout_ms;
    for (;;) {
        if (process_gone(pid)) {
            return 0;
        }
        if (fx_now_ms() >= end) {
            return -1;
        }
        fx_sleep_ms(10);
    }
}

int fx_mosquitto_stop(int sig, uint32_t timeout_ms)
{
    long pid = fx_mosquitto_pid();
    if (pid <= 0) {
        fprintf(stderr, "fx: no mosquitto PID (FX_MOSQ_PID unset?)\n");
        return -1;
    }
    if (kill((pid_t)pid, sig) != 0 && errno != ESRCH) {
        fprintf(stderr, "fx: kill(%ld, %d): %s\n", pid, sig, strerror(errno));
        return -1;
    }
    if (wait_gone(pid, timeout_ms) != 0) {
        fprintf(stderr, "fx: mosquitto %ld still running %u ms after signal %d: SIGKILL\n", pid,
                timeout_ms, sig);
        kill((pid_t)pid, SIGKILL);
        if (wait_gone(pid, 5000) != 0) {
            return -1;
        }
    }
    g_mosq_pid = 0;
    return 0;
}

int fx_port_accepts(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return 0;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(port);
    int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

static int find_mosquitto(char *out, size_t cap)
{
    const char *m = fx_env("MOSQUITTO");
    if (m != NULL) {
        snprintf(out, cap, "%s", m);
        return 0;
    }
    if (fx_find_on_path("mosquitto", out, cap) == 0) {
        return 0;
    }
    static const char *const dirs[] = {"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"};
    for (size_t i = 0; i < 2; i++) {
        if (access(dirs[i], X_OK) == 0) {
            snprintf(out, cap, "%s", dirs[i]);
            return 0;
        }
    }
    return -1;
}

int fx_mosquitto_start(uint32_t timeout_ms)
{
    const char *dir = fx_env("FX_DIR");
    char bin[512], conf[512], log[512];
    if (find_mosquitto(bin, sizeof bin) != 0) {
        fprintf(stderr, "fx: mosquitto not found (set MOSQUITTO)\n");
        return -1;
    }
    const char *c = fx_env("FX_MOSQ_CONF"), *l = fx_env("FX_MOSQ_LOG");
    if (dir == NULL && (c == NULL || l == NULL)) {
        fprintf(stderr, "fx: FX_DIR not set: run through tests/integration/fixture.sh run\n");
        return -1;
    }
    snprintf(conf, sizeof conf, "%s", c != NULL ? c : "");
    if (c == NULL) {
        snprintf(conf, sizeof conf, "%s/mosquitto.conf", dir);
    }
    snprintf(log, sizeof log, "%s", l != NULL ? l : "");
    if (l == NULL) {
        snprintf(log, sizeof log, "%s/mosquitto.log", dir);
    }
    /* the "=== start HH:MM:SS" marker fixture.sh writes */
    FILE *lf = fopen(log, "a");
    if (lf != NULL) {
        time_t now = time(NULL);
        struct tm tm;
        char hms[16] = "?";
        if (localtime_r(&now, &tm) != NULL) {
            strftime(hms, sizeof hms, "%H:%M:%S", &tm);
        }
        fprintf(lf, "=== start %s\n", hms);
        fclose(lf);
    }
    char dash_c[] = "-c";
    char *const argv[] = {bin, dash_c, conf, NULL};
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "fx: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* child of a multi-threaded process: async-signal-safe calls only */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int in = open("/dev/null", O_RDONLY);
        int out = open(log, O_WRONLY | O_APPEND | O_CREAT, 0644);
        if (in < 0 || out < 0) {
            _exit(126);
        }
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        execv(bin, argv);
        _exit(127);
    }
    g_mosq_pid = pid;
    record_pid(pid);

    static const char *const vars[] = {"FX_PORT_TCP",   "FX_PORT_TLS", "FX_PORT_MTLS",
                                       "FX_PORT_WRONG", "FX_PORT_WS",  "FX_PORT_WSS"};
    uint64_t end = fx_now_ms() + timeout_ms;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        uint16_t port = fx_env_port(vars[i]);
        if (port == 0) {
            continue;
        }
        while (!fx_port_accepts(port)) {
            int st = 0;
            if (waitpid(pid, &st, WNOHANG) == pid) {
                fprintf(stderr, "fx: restarted mosquitto (pid %ld) exited with status 0x%x\n",
                        (long)pid, st);
                g_mosq_pid = 0;
                return -1;
            }
            if (fx_now_ms() >= end) {
                fprintf(stderr, "fx: restarted mosquitto: %s %u not accepting after %u ms\n",
                        vars[i], port, timeout_ms);
                return -1;
            }
            fx_sleep_ms(10);
        }
    }
    return 0;
}

/* ---- helper processes ----------------------------------------------------------------------- */

int fx_find_on_path(const char *name, char *out, size_t cap)
{
    const char *path = getenv("PATH");
    if (path == NULL || name == NULL || name[0] == '\0') {
        return -1;
    }
    const char *p = path;
    for (;;) {
        const char *colon = strchr(p, ':');
        size_t n = colon != NULL ? (size_t)(colon - p) : strlen(p);
        char cand[1024];
        if (n == 0) {
            snprintf(cand, sizeof cand, "./%s", name);
        } else {
            snprintf(cand, sizeof cand, "%.*s/%s", (int)n, p, name);
        }
        if (access(cand, X_OK) == 0) {
            snprintf(out, cap, "%s", cand);
            return 0;
        }
        if (colon == NULL) {
            return -1;
        }
        p = colon + 1;
    }
}

long fx_spawn_piped(char *const argv[], int *out_fd)
{
    int fds[2];
    if (pipe(fds) != 0) {
        fprintf(stderr, "fx: pipe: %s\n", strerror(errno));
        return -1;
    }
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "fx: fork: %s\n", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int in = open("/dev/null", O_RDONLY);
        if (in < 0) {
            _exit(126);
        }
        dup2(in, 0);
        dup2(fds[1], 1);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    record_pid(pid);
    *out_fd = fds[0];
    return pid;
}

long fx_read_line(int fd, char **pending, size_t *pending_len, char *buf, size_t cap,
                  uint64_t deadline_ms)
{
    for (;;) {
        char *nl = *pending_len != 0 ? memchr(*pending, '\n', *pending_len) : NULL;
        int eof = 0;
        if (nl == NULL) {
            uint64_t now = fx_now_ms();
            if (now >= deadline_ms) {
                return -2;
            }
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            int r = poll(&pfd, 1, (int)(deadline_ms - now > 1000000 ? 1000000 : deadline_ms - now));
            if (r < 0 && errno == EINTR) {
                continue;
            }
            if (r == 0) {
                return -2;
            }
            char tmp[4096];
            ssize_t got = read(fd, tmp, sizeof tmp);
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got > 0) {
                char *np = realloc(*pending, *pending_len + (size_t)got);
                if (np == NULL) {
                    return -1;
                }
                memcpy(np + *pending_len, tmp, (size_t)got);
                *pending = np;
                *pending_len += (size_t)got;
                continue;
            }
            if (*pending_len == 0) {
                return -1;
            }
            eof = 1; /* a last line without newline */
        }
        size_t line = eof ? *pending_len : (size_t)(nl - *pending);
        size_t take = eof ? line : line + 1;
        size_t copy = line < cap - 1 ? line : cap - 1;
        memcpy(buf, *pending, copy);
        buf[copy] = '\0';
        memmove(*pending, *pending + take, *pending_len - take);
        *pending_len -= take;
        return (long)copy;
    }
}

int fx_wait_child(long pid, uint32_t timeout_ms, int kill_on_timeout)
{
    uint64_t end = fx_now_ms() + timeout_ms;
    for (;;) {
        int st = 0;
        pid_t r = waitpid((pid_t)pid, &st, WNOHANG);
        if (r == (pid_t)pid) {
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
        }
        if (r < 0) {
            return -1;
        }
        if (fx_now_ms() >= end) {
            if (kill_on_timeout) {
                kill((pid_t)pid, SIGKILL);
                waitpid((pid_t)pid, &st, 0);
            }
            return -1;
        }
        fx_sleep_ms(10);
    }
}

uint16_t fx_need_port(const char *var)
{
    uint16_t p = fx_env_port(var);
    if (p == 0) {
        fprintf(stderr, "%s not set: run this test through tests/integration/fixture.sh run\n",
                var);
        fail();
    }
    return p;
}
