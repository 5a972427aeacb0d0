/*
 * test_http_client.c - the credential providers' HTTP client (http/http_client.h) and process
 * runner (http/process.h) on a real event loop: requests go to a small HTTP/1.1 server in this
 * file (one thread, blocking sockets, 127.0.0.1 on a random port) that answers from a script
 * and records what it received. Covered: GET/PUT/POST on the wire, retries of 5xx, 429 and
 * empty replies with the attempt count, 4xx answered at once, connection refused, timeout,
 * response cap, the connect-to seam, cancel and destroy with a request in flight (callbacks,
 * order, no leak), reentrant calls from done, argument checks, and that neither details nor log
 * lines carry query strings, userinfo or header values. Then `/bin/sh -c` commands: output,
 * exit status, timeout kill, output cap, cancel. Also the pure helpers (backoff, URL redaction,
 * percent-encoding).
 */
#define _POSIX_C_SOURCE 200809L
#include "helpers/test_common.h"
#include "helpers/loopback.h"
#include "helpers/test_allocator.h"
#include "helpers/tls_pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/http_client.h"
#include "http/http_policy.h"
#include "http/process.h"
#include "runtime/log_internal.h"
#include "runtime/loop.h"

#define WAIT_MS 8000

static mqtt5_event_loop_group *g_group;
static mqtt5_loop *g_loop;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static bool g_in_call; /* loop thread only: inside mqtt5_http_client_request / process_run */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait (under g_mu) until *flag is true; false after ms. */
static bool wait_flag(const bool *flag, long ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&g_mu);
    while (!*flag)
        if (pthread_cond_timedwait(&g_cv, &g_mu, &until) == ETIMEDOUT) break;
    bool ok = *flag;
    pthread_mutex_unlock(&g_mu);
    return ok;
}

static void set_flag(bool *flag)
{
    pthread_mutex_lock(&g_mu);
    *flag = true;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

/* Run fn(arg) on the loop thread and wait for it. */
typedef struct loop_call {
    mqtt5_cmd base;
    void (*fn)(void *);
    void *arg;
    bool ran;
} loop_call;

static void run_call(mqtt5_cmd *cmd)
{
    loop_call *c = (loop_call *)cmd;
    c->fn(c->arg);
    set_flag(&c->ran);
}

static void on_loop(void (*fn)(void *), void *arg)
{
    loop_call c;
    memset(&c, 0, sizeof c);
    c.base.run = run_call;
    c.fn = fn;
    c.arg = arg;
    mqtt5_loop_post(g_loop, &c.base);
    assert_true(wait_flag(&c.ran, WAIT_MS));
}

/* ---- log watch: no secret reaches a log line ----------------------------------------------- */

static _Atomic int g_log_lines, g_log_leaks;

static void log_sink(void *user, mqtt5_log_level level, mqtt5_log_subject subject, const char *line)
{
    (void)level;
    (void)subject;
    g_log_lines++;
    if (user) fprintf(stderr, "log: %s\n", line); /* MQTT5_TEST_HTTP_LOG set */
    if (strstr(line, "SECRET") || strstr(line, "hunter2") || strstr(line, "Bearer")) {
        g_log_leaks++;
        fprintf(stderr, "secret in a log line: %s\n", line);
    }
}

/* ---- the scripted HTTP server -------------------------------------------------------------- */

typedef struct script {
    int status;
    const char *body;         /* NULL = "" */
    size_t repeat;            /* > 0: the body is this many 'x' */
    const char *content_type; /* NULL = none */
    int delay_ms;             /* before answering; cut short when the client hangs up */
    bool drop;                /* close without an answer */
    bool no_length;           /* no Content-Length: the body ends at close */
} script;

#define MAX_SEEN 8
typedef struct seen_req {
    char method[16];
    char target[512];
    char head[4096]; /* header lines after the request line */
    unsigned char body[8192];
    size_t body_len;
} seen_req;

typedef struct server {
    int fd;
    uint16_t port;
    SSL_CTX *tls; /* non-NULL: HTTPS */
    pthread_t thread;
    atomic_bool stop;
    const script *script;
    size_t script_len;
    pthread_mutex_t mu;
    seen_req seen[MAX_SEEN];
    size_t count; /* under mu */
} server;

static const char *find_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0) return hay;
    return NULL;
}

/* The value of header `name` in a recorded request into out; false if absent. */
static bool header_of(const seen_req *r, const char *name, char *out, size_t cap)
{
    char key[128];
    snprintf(key, sizeof key, "\r\n%s:", name);
    char head[4200];
    snprintf(head, sizeof head, "\r\n%s", r->head);
    const char *p = find_ci(head, key);
    if (p == NULL) return false;
    p += strlen(key);
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, "\r\n");
    if (n >= cap) n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

/* One accepted connection, plain or TLS. */
typedef struct conn {
    int fd;
    SSL *ssl;
} conn;

static bool recv_some(conn *c, char *buf, size_t cap, size_t *len)
{
    if (c->ssl == NULL || SSL_pending(c->ssl) == 0) {
        struct pollfd pfd = {c->fd, POLLIN, 0};
        if (poll(&pfd, 1, 3000) <= 0) return false;
    }
    ssize_t n = c->ssl ? SSL_read(c->ssl, buf + *len, (int)(cap - *len))
                       : recv(c->fd, buf + *len, cap - *len, 0);
    if (n <= 0) return false;
    *len += (size_t)n;
    return true;
}

static void send_all(conn *c, const char *p, size_t n)
{
    while (n) {
        ssize_t w = c->ssl ? SSL_write(c->ssl, p, (int)n) : send(c->fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

/* Offset of `needle` in buf[0..len), or len if absent. */
static size_t find_in(const char *buf, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(buf + i, needle, n) == 0) return i;
    return len;
}

static void serve_one(server *s, conn *cs)
{
    static char buf[16384];
    size_t len = 0, end;
    while ((end = find_in(buf, len, "\r\n\r\n")) == len)
        if (len == sizeof buf || !recv_some(cs, buf, sizeof buf, &len)) return;
    size_t head_len = end + 4;
    seen_req r;
    memset(&r, 0, sizeof r);
    size_t line = find_in(buf, len, "\r\n");
    char first[600];
    snprintf(first, sizeof first, "%.*s", (int)line, buf);
    sscanf(first, "%15s %511s", r.method, r.target);
    snprintf(r.head, sizeof r.head, "%.*s", (int)(head_len - line - 2), buf + line + 2);
    char cl[32];
    size_t body_len = header_of(&r, "Content-Length", cl, sizeof cl) ? strtoul(cl, NULL, 10) : 0;
    while (len - head_len < body_len && len < sizeof buf)
        if (!recv_some(cs, buf, sizeof buf, &len)) break;
    r.body_len = len - head_len < sizeof r.body ? len - head_len : sizeof r.body;
    memcpy(r.body, buf + head_len, r.body_len);

    pthread_mutex_lock(&s->mu);
    size_t idx = s->count++;
    if (idx < MAX_SEEN) s->seen[idx] = r;
    pthread_mutex_unlock(&s->mu);

    const script *a = &s->script[idx < s->script_len ? idx : s->script_len - 1];
    if (a->delay_ms) {
        struct pollfd pfd = {cs->fd, POLLIN, 0};
        if (poll(&pfd, 1, a->delay_ms) != 0) return; /* the client hung up */
    }
    if (a->drop) return;
    static char body[65536];
    size_t n = 0;
    if (a->repeat) {
        n = a->repeat < sizeof body ? a->repeat : sizeof body;
        memset(body, 'x', n);
    } else if (a->body) {
        n = strlen(a->body);
        memcpy(body, a->body, n);
    }
    char head[512];
    int h = snprintf(head, sizeof head, "HTTP/1.1 %d Scripted\r\nConnection: close\r\n", a->status);
    if (a->content_type)
        h += snprintf(head + h, sizeof head - (size_t)h, "Content-Type: %s\r\n", a->content_type);
    if (!a->no_length)
        h += snprintf(head + h, sizeof head - (size_t)h, "Content-Length: %zu\r\n", n);
    h += snprintf(head + h, sizeof head - (size_t)h, "\r\n");
    send_all(cs, head, (size_t)h);
    send_all(cs, body, n);
    if (cs->ssl) SSL_shutdown(cs->ssl);
    shutdown(cs->fd, SHUT_WR);
}

static void *server_main(void *arg)
{
    server *s = arg;
    while (!s->stop) {
        struct pollfd pfd = {s->fd, POLLIN, 0};
        if (poll(&pfd, 1, 20) <= 0) continue;
        conn cs = {accept(s->fd, NULL, NULL), NULL};
        if (cs.fd < 0) continue;
        if (s->tls) {
            struct timeval tv = {3, 0};
            setsockopt(cs.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            cs.ssl = SSL_new(s->tls);
            SSL_set_fd(cs.ssl, cs.fd);
            if (SSL_accept(cs.ssl) == 1) serve_one(s, &cs); /* else: the client refused us */
            SSL_free(cs.ssl);
        } else {
            serve_one(s, &cs);
        }
        close(cs.fd);
    }
    return NULL;
}

static void server_start_tls(server *s, const script *sc, size_t n, SSL_CTX *tls)
{
    memset(s, 0, sizeof *s);
    s->tls = tls;
    s->script = sc;
    s->script_len = n;
    pthread_mutex_init(&s->mu, NULL);
    s->fd = test_loopback_listen(&s->port);
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_start(server *s, const script *sc, size_t n)
{
    server_start_tls(s, sc, n, NULL);
}

static void server_stop(server *s)
{
    s->stop = true;
    pthread_join(s->thread, NULL);
    close(s->fd);
    pthread_mutex_destroy(&s->mu);
}

static size_t server_count(server *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->count;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static bool server_wait_count(server *s, size_t n, long ms)
{
    for (long t = 0; t < ms; t += 5) {
        if (server_count(s) >= n) return true;
        sleep_ms(5);
    }
    return false;
}

/* A loopback port with no listener. */
static uint16_t closed_port(void)
{
    uint16_t port;
    close(test_loopback_bind(&port));
    return port;
}

/* ---- HTTP client fixture ------------------------------------------------------------------- */

typedef struct result {
    bool called;
    int calls;
    int error, status;
    uint32_t attempts;
    char body[70000];
    size_t body_len;
    bool has_type;
    char content_type[128];
    char detail[512];
    bool on_loop_thread, inside_call;
    int seq;
} result;

typedef struct fixture {
    test_allocator ta;
    mqtt5_http_client *client;
    mqtt5_http_request *req;
    const mqtt5_http_request_desc *desc;
    int start_rc;
    result res;
    bool destroyed;
    int destroyed_seq;
    _Atomic int seq;
    /* destroy in flight */
    bool done_before_destroy_returned, destroyed_before_destroy_returned;
    /* cancel */
    bool cancel_sync;
} fixture;

static void record(result *r, int error, const mqtt5_http_response *resp, const char *detail,
                   int seq)
{
    pthread_mutex_lock(&g_mu);
    r->calls++;
    r->error = error;
    r->seq = seq;
    r->on_loop_thread = mqtt5_loop_is_current(g_loop);
    r->inside_call = g_in_call;
    if (resp) {
        r->status = resp->status;
        r->attempts = resp->attempts;
        r->body_len = resp->body_len < sizeof r->body ? resp->body_len : sizeof r->body - 1;
        memcpy(r->body, resp->body, r->body_len);
        r->body[r->body_len] = '\0';
        r->has_type = resp->content_type != NULL;
        snprintf(r->content_type, sizeof r->content_type, "%s",
                 resp->content_type ? resp->content_type : "");
    }
    snprintf(r->detail, sizeof r->detail, "%s", detail ? detail : "(null)");
    r->called = true;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

static void on_done(void *user, int error, const mqtt5_http_response *resp, const char *detail)
{
    fixture *f = user;
    record(&f->res, error, resp, detail, ++f->seq);
}

static void fixture_new(fixture *f, const mqtt5_credentials_http_options *opts)
{
    memset(f, 0, sizeof *f);
    test_allocator_init(&f->ta);
    /* created on the test thread: any thread may create a client */
    assert_int_equal(mqtt5_http_client_new(test_allocator_get(&f->ta), g_loop, opts, &f->client),
                     0);
    assert_non_null(f->client);
}

static void http_options(mqtt5_credentials_http_options *o)
{
    memset(o, 0, sizeof *o);
    o->connect_timeout_ms = 2000;
    o->timeout_ms = 5000;
    o->max_attempts = 3;
}

static void do_start(void *arg)
{
    fixture *f = arg;
    g_in_call = true;
    f->start_rc = mqtt5_http_client_request(f->client, f->desc, on_done, f, &f->req);
    g_in_call = false;
}

static void start(fixture *f, const mqtt5_http_request_desc *d)
{
    f->desc = d;
    on_loop(do_start, f);
    assert_int_equal(f->start_rc, 0);
    assert_non_null(f->req);
}

static void wait_done(fixture *f)
{
    assert_true(wait_flag(&f->res.called, WAIT_MS));
    assert_int_equal(f->res.calls, 1);
    assert_true(f->res.on_loop_thread);
    assert_false(f->res.inside_call);
}

static void on_destroyed(void *user)
{
    fixture *f = user;
    f->destroyed_seq = ++f->seq;
    set_flag(&f->destroyed);
}

static void do_destroy(void *arg)
{
    fixture *f = arg;
    mqtt5_http_client_destroy(f->client, on_destroyed, f);
    f->done_before_destroy_returned = f->res.called;
    f->destroyed_before_destroy_returned = f->destroyed;
}

/* Destroy on the loop, wait for on_destroyed, check that every block came back. */
static void fixture_end(fixture *f)
{
    on_loop(do_destroy, f);
    assert_false(f->destroyed_before_destroy_returned);
    assert_true(wait_flag(&f->destroyed, WAIT_MS));
    assert_no_leaks(&f->ta);
}

/* One request against a fresh client; the result is in f->res. */
static void run_one(fixture *f, const mqtt5_credentials_http_options *o,
                    const mqtt5_http_request_desc *d)
{
    fixture_new(f, o);
    start(f, d);
    wait_done(f);
    fixture_end(f);
}

static void url_of(char *out, size_t cap, uint16_t port, const char *path)
{
    snprintf(out, cap, "http://127.0.0.1:%u%s", port, path);
}

/* ---- HTTP tests ---------------------------------------------------------------------------- */

static void test_get_200(void **state)
{
    (void)state;
    static const script sc[] = {{200, "hello, world", 0, "text/plain", 0, false, false}};
    server s;
    server_start(&s, sc, 1);
    char url[128];
    url_of(url, sizeof url, s.port, "/latest/meta-data?x=1");
    const char *headers[] = {"X-Test: abc", "Accept: application/json"};
    mqtt5_http_request_desc d = {
        .method = "GET", .url = url, .headers = headers, .header_count = 2};
    mqtt5_credentials_http_options o;
    http_options(&o);
    fixture *f = test_alloc(sizeof *f);
    run_one(f, &o, &d);
    assert_int_equal(f->res.error, 0);
    assert_int_equal(f->res.status, 200);
    assert_int_equal(f->res.attempts, 1);
    assert_int_equal(f->res.body_len, 12);
    assert_string_equal(f->res.body, "hello, world");
    assert_true(f->res.has_type);
    assert_string_equal(f->res.content_type, "text/plain");
    assert_null(strstr(f->res.detail, "x=1"));
    assert_non_null(strstr(f->res.detail, "GET http://127.0.0.1:"));
    assert_int_equal(server_count(&s), 1);
    char v[64];
    assert_string_equal(s.seen[0].method, "GET");
    assert_string_equal(s.seen[0].target, "/latest/meta-data?x=1");
    assert_true(header_of(&s.seen[0], "X-Test", v, sizeof v));
    assert_string_equal(v, "abc");
    assert_true(header_of(&s.seen[0], "Accept", v, sizeof v));
    assert_string_equal(v, "application/json");
    assert_false(header_of(&s.seen[0], "Content-Length", v, sizeof v));
    server_stop(&s);
}

static void test_put_empty_body(void **state)
{
    (void)state;
    static const script sc[] = {{200, "TOKEN", 0, NULL, 0, false, false}};
    server s;
    server_start(&s, sc, 1);
    char url[128];
    url_of(url, sizeof url, s.port, "/latest/api/token");
    const char *headers[] = {"X-aws-ec2-metadata-token-ttl-seconds: 21600"};
    mqtt5_http_request_desc d = {
        .method = "PUT", .url = url, .headers = headers, .header_count = 1};
    mqtt5_credentials_http_options o;
    http_options(&o);
    fixture *f = test_alloc(sizeof *f);
    run_one(f, &o, &d);
    assert_int_equal(f->res.error, 0);
    assert_int_equal(f->res.status, 200);
    assert_string_equal(f->res.body, "TOKEN");
    assert_false(f->res.has_type);
    char v[64];
    assert_string_equal(s.seen[0].method, "PUT");
    assert_string_equal(s.seen[0].target, "/latest/api/token");
    assert_true(header_of(&s.seen[0], "Content-Length", v, sizeof v));
    assert_string_equal(v, "0");
    assert_true(header_of(&s.seen[0], "X-aws-ec2-metadata-token-ttl-seconds", v, sizeof v));
    assert_string_equal(v, "21600");
    assert_false(header_of(&s.seen[0], "Content-Type", v, sizeof v));
    assert_false(header_of(&s.seen[0], "Expect", v, sizeof v));
    assert_int_equal(s.seen[0].body_len, 0);
    server_stop(&s);
}

static void test_post_body_byte_exact(void **state)
{
    (void)state;
    static const script sc[] = {{200, "{}", 0, "application/x-amz-json-1.1", 0, false, false}};
    server s;
    server_start(&s, sc, 1);
    char url[128];
    url_of(url, sizeof url, s.port, "/");
    static uint8_t body[3000];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(i * 7 + (i >> 8)); /* NULs too */
    const char *headers[] = {"Content-Type: application/x-amz-json-1.1"};
    mqtt5_http_request_desc d = {.method = "POST",
                                 .url = url,
                                 .headers = headers,
                                 .header_count = 1,
                                 .body = body,
                                 .body_len = sizeof body};
    mqtt5_credentials_http_options o;
    http_options(&o);
    fixture *f = test_alloc(sizeof *f);
    run_one(f, &o, &d);
    assert_int_equal(f->res.error, 0);
    assert_int_equal(f->res.status, 200);
    assert_string_equal(f->res.content_type, "application/x-amz-json-1.1");
    char v[64];
    assert_string_equal(s.seen[0].method, "POST");
    assert_true(header_of(&s.seen[0], "Content-Length", v, sizeof v));
    assert_string_equal(v, "3000");
    assert_true(header_of(&s.seen[0], "Content-Type", v, sizeof v));
    assert_string_equal(v, "application/x-amz-json-1.1");
    assert_false(header_of(&s.seen[0], "Expect", v, sizeof v)); /* no 100-continue wait */
    assert_int_equal(s.seen[0].body_len, sizeof body);
    assert_memory_equal(s.seen[0].body, body, sizeof body);
    server_stop(&s);
}

static void test_503_then_200(void **state)
{
    (void)state;
    static const script sc[] = {{503, "busy", 0, NULL, 0, false, false},
                                {200, "second", 0, NULL, 0, false, false}};
    server s;
    server_start(&s, sc, 2);
    char url[128];
    url_of(url, sizeof url, s.port, "/creds");
    mqtt5_http_request_desc d = {.method = "GET", .url = url};
    mqtt5_credentials_http_options o;
    http_options(&o);
    fixture *f = test_alloc(sizeof *f);
    run_one(f, &o, &d);
    assert_int_equal(f->res.error, 0);
    assert_int_equal(f->res.status, 200);
    assert_int_equal(f->res.attempts, 2);
    assert_string_equal(f->res.body, "second");
    assert_int_equal(server_count(&s), 2);
    server_stop(&s);
}

static void test_503_exhausts_attempts(void **state)
{
    (void)state;
    static const script sc[] = {{503, "still busy", 0, NULL, 0, false, false}};
    server s;
    server_start(&s, sc, 1);
    char url[128];
    url_of(url, sizeof url, s.port, "/");
    mqtt5_http_request_desc d = {.method = "GET", .url = url, .max_attempts = 3};
    mqtt5_credentials_http_options o;
    http_options(&o);
    o.max_attempts = 5; /* the request's own max_attempts wins */
    fixture *f = test_alloc(sizeof *f);
    uint64_t t0 = now_ms();
    run_one(f, &o, &d);
    assert_true(now_ms() - t0 < 3000); /* backoff: at most 100 + 200 ms */
    assert_int_equal(f->res.error, 0);
    assert_int_equal(f->res.status, 503);
    assert_int_equal(f->res.attempts, 3);
    assert_string_equal(f->res.body, "still busy");
    assert_int_equal(server_count(&s), 3);
    server_stop(&s);
}

static void test_404_not_retried(void **state)
{
    (void)state;
    static const script sc[] = {{404, "nope", 0, NULL, 0, false, false},
                                {200, "should not be asked", 0, NULL, 0, false, false}};
    server s;
    server_start(&s, sc, 2);
    char url[128];
    url_of(url, sizeof url, s.port, "/missing");
    mqtt5_http_request_desc d = {.method = "GET", .url = url};
    mqtt5_credentials_http_options o;
    http_options(&o);
    fixture *f = test_alloc(sizeof *f);
    run_one(f, &o, &d);
    assert_int_equal(f->res.error, 0);
    assert_int_equal(f->res.status, 404);
    assert_int_equal(f->res.attempts, 1);
    assert_string_equal(f->res.body, "nope");
    assert_non_null(strstr(f->res.detail, "HTTP 404"));
    sleep_ms(150);
    assert_int_equal(server_count(&s), 1);
    server_stop(&s);
}

static void test_429_retried(void **state)
{
    (void)state;
    static const script sc[] = {{429, "slow down", 0, NULL, 0, false, false},
                                {200, "ok", 0, NULL, 0, false, false}};
    server s;
    server_start(&s, sc, 2);
    char url[128];
    url_of(url, sizeof url, s.port, "/");
    mqtt5_http_request_desc d = {.method = "GET", .url = url};
    mqtt5_credentials_http_options o;
    http_options(&o);
    fixture *f = test_alloc(sizeof *f);
    run_one(f, &o, &d);
    assert_int_equal(f->res.error, 0);
    assert_int_equal(f->res.status, 200);
    assert_int_equal(f->res.attempts, 2);
    assert_string_equal(f->res.body, "ok");
    server_stop(&s);
}

static void test_empty_reply_retried(void **state)
{
    (void)state;
    static const script sc[] = {{0, NULL, 0, NULL, 0, true, false},
                                {200, "after reset", 0, NULL, 0, false, false}};
    server s;
    server_start(&s, sc, 2);
    char url[128];
    url_of(url, sizeof url, s.port, "/");
    mqtt5_http_request_desc d = {.method = "GET", .url = url};
    mqtt5_credentials_http_options o;
    http_options(&o);
    fixture *f = test_alloc(sizeof *f);
    run_one(f, &o, &d);
    assert_int_equal(f->res.error, 0);
    assert_int_equal(f->res.status, 200);
    assert_int_equal(f->res.attempts, 2);
    assert_string_equal(f->res.body, "after reset");
    server_stop(&s);
}

static void test_connection_refused(void **state)
{
    (void)state;
    uint16_t port = closed_port();
    char url[128];
    url_of(url, sizeof url, port, "/p");
    mqtt5_http_request_desc d = {.method = "GET", .url = url};
    mqtt5_credentials_http_options o;
    http_options(&o);
    fixture *f = test_alloc(sizeof *f);
    run_one(f, &o, &d);
    assert_int_equal(f->res.error, MQTT5_ERR_CONNECT_REFUSED);
    assert_int_equal(f->res.status, 0);
    assert_int_equal(f->res.attempts, 3);
    assert_int_equal(f->res.body_len, 0);
    char want[128];
    snprintf(want, sizeof want, "GET http://127.0.0.1:%u/p: ", port);
    assert_non_null(strstr(f->res.detail, want));
}

static void test_timeout(void **state)
{
    (void)state;
    static const script sc[] = {{200, "too late", 0, NULL, 3000, false, false}};
    server s;
    server_start(&s, sc, 1);
    char url[128];
    url_of(url, sizeof url, s.port, "/slow");
    mqtt5_http_request_desc d = {.method = "GET", .url = url, .timeout_ms = 300, .max_attempts = 1};
    mqtt5_credentials_http_options o;
    http_options(&o);
    fixture *f = test_alloc(sizeof *f);
    uint64_t t0 = now_ms();
    run_one(f, &o, &d);
    uint64_t took = now_ms() - t0;
    assert_int_equal(f->res.error, MQTT5_ERR_TIMEOUT);
    assert_int_equal(f->res.attempts, 1);
    assert_true(took >= 250);
    assert_true(took < 2000);
    server_stop(&s); /* the server saw the hang-up: it does not sleep the full 3 s */
}

static void test_response_cap(void **state)
{
    (void)state;
    static const script sc[] = {{200, NULL, 5000, NULL, 0, false, false}, /* Content-Length */
                                {200, NULL, 5000, NULL, 0, false, true},  /* until close */
                                {200, NULL, 1000, NULL, 0, false, true}}; /* exactly the cap */
    server s;
    server_start(&s, sc, 3);
    char url[128];
    url_of(url, sizeof url, s.port, "/big");
    mqtt5_http_request_desc d = {.method = "GET", .url = url, .max_response = 1000};
    mqtt5_credentials_http_options o;
    http_options(&o);
    fixture *f = test_alloc(sizeof *f);
    run_one(f, &o, &d);
    assert_int_equal(f->res.error, MQTT5_ERR_PACKET_TOO_LARGE);
    assert_int_equal(f->res.attempts, 1);
    run_one(f, &o, &d);
    assert_int_equal(f->res.error, MQTT5_ERR_PACKET_TOO_LARGE);
    assert_int_equal(f->res.attempts, 1);
    run_one(f, &o, &d);
    assert_int_equal(f->res.error, 0);
    assert_int_equal(f->res.body_len, 1000);
    assert_int_equal(f->res.body[999], 'x');
    assert_int_equal(server_count(&s), 3);
    server_stop(&s);
}

static void test_connect_to(void **state)
{
    (void)state;
    static const script sc[] = {{200, "mapped", 0, NULL, 0, false, false}};
    server s;
    server_start(&s, sc, 1);
    char map[64];
    snprintf(map, sizeof map, "example.invalid:80:127.0.0.1:%u", s.port);
    const char *maps[] = {map};
    mqtt5_credentials_http_options o;
    http_options(&o);
    o.connect_to = maps;
    o.connect_to_count = 1;
    mqtt5_http_request_desc d = {.method = "GET", .url = "http://example.invalid/x"};
    fixture *f = test_alloc(sizeof *f);
    run_one(f, &o, &d);
    assert_int_equal(f->res.error, 0);
    assert_string_equal(f->res.body, "mapped");
    char v[64];
    assert_string_equal(s.seen[0].target, "/x");
    assert_true(header_of(&s.seen[0], "Host", v, sizeof v));
    assert_string_equal(v, "example.invalid");
    server_stop(&s);
}

/* proxy_url is used (the request goes to the proxy in absolute form); the environment's proxy
 * variables are not. */
static void test_proxy_url_and_environment(void **state)
{
    (void)state;
    static const script sc[] = {{200, "via proxy", 0, NULL, 0, false, false},
                                {200, "direct", 0, NULL, 0, false, false}};
    server s;
    server_start(&s, sc, 2);
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%u", s.port);
    mqtt5_credentials_http_options o;
    http_options(&o);
    o.proxy_url = proxy;
    mqtt5_http_request_desc d = {.method = "GET", .url = "http://example.invalid/p?q=1"};
    fixture *f = test_alloc(sizeof *f);
    run_one(f, &o, &d);
    assert_int_equal(f->res.error, 0);
    assert_string_equal(f->res.body, "via proxy");
    assert_string_equal(s.seen[0].target, "http://example.invalid/p?q=1");

    /* a proxy in the environment that would refuse: ignored without proxy_url */
    char dead[64];
    snprintf(dead, sizeof dead, "http://127.0.0.1:%u", closed_port());
    setenv("http_proxy", dead, 1);
    setenv("HTTP_PROXY", dead, 1);
    setenv("ALL_PROXY", dead, 1);
    char url[128];
    url_of(url, sizeof url, s.port, "/direct");
    mqtt5_http_request_desc d2 = {.method = "GET", .url = url, .max_attempts = 1};
    http_options(&o);
    run_one(f, &o, &d2);
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    unsetenv("ALL_PROXY");
    assert_int_equal(f->res.error, 0);
    assert_string_equal(f->res.body, "direct");
    assert_string_equal(s.seen[1].target, "/direct");
    server_stop(&s);
}

/* HTTPS: trusted through ca_file; the same server without it is an untrusted certificate,
 * answered at once (not retried). */
static void test_https_ca_file(void **state)
{
    (void)state;
    static tls_pki pki;
    tls_pki_make(&pki);
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    assert_non_null(ctx);
    assert_int_equal(SSL_CTX_use_certificate(ctx, pki.server_x509), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(ctx, pki.server_key), 1);
    static const script sc[] = {{200, "secure", 0, NULL, 0, false, false}};
    server s;
    server_start_tls(&s, sc, 1, ctx);
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%u/tls", s.port);
    mqtt5_http_request_desc d = {.method = "GET", .url = url};
    mqtt5_credentials_http_options o;
    http_options(&o);
    o.ca_file = pki.ca.file;
    fixture *f = test_alloc(sizeof *f);
    run_one(f, &o, &d);
    assert_int_equal(f->res.error, 0);
    assert_int_equal(f->res.status, 200);
    assert_string_equal(f->res.body, "secure");

    o.ca_file = pki.other_ca.file;
    run_one(f, &o, &d);
    assert_int_equal(f->res.error, MQTT5_ERR_TLS_UNTRUSTED_CERT);
    assert_int_equal(f->res.attempts, 1);
    assert_int_equal(server_count(&s), 1); /* the refused handshake never made a request */
    server_stop(&s);
    SSL_CTX_free(ctx);
    tls_pki_free(&pki);
}

static void do_cancel(void *arg)
{
    fixture *f = arg;
    mqtt5_http_request_cancel(f->req);
    f->cancel_sync = f->res.called;
}

static void test_cancel(void **state)
{
    (void)state;
    static const script sc[] = {{200, "never", 0, NULL, 5000, false, false}};
    server s;
    server_start(&s, sc, 1);
    char url[128];
    url_of(url, sizeof url, s.port, "/hang");
    mqtt5_http_request_desc d = {.method = "GET", .url = url};
    mqtt5_credentials_http_options o;
    http_options(&o);
    fixture *f = test_alloc(sizeof *f);
    fixture_new(f, &o);
    start(f, &d);
    assert_true(server_wait_count(&s, 1, WAIT_MS)); /* the request is on the wire */
    on_loop(do_cancel, f);
    assert_true(f->cancel_sync); /* done ran before cancel returned */
    wait_done(f);
    assert_int_equal(f->res.error, MQTT5_ERR_TERMINATED);
    assert_int_equal(f->res.attempts, 1);
    fixture_end(f);
    assert_int_equal(f->res.calls, 1);
    server_stop(&s);
}

static void test_destroy_in_flight(void **state)
{
    (void)state;
    static const script sc[] = {{200, "never", 0, NULL, 5000, false, false}};
    server s;
    server_start(&s, sc, 1);
    char url[128];
    url_of(url, sizeof url, s.port, "/hang");
    mqtt5_http_request_desc d = {.method = "GET", .url = url};
    mqtt5_credentials_http_options o;
    http_options(&o);
    fixture *f = test_alloc(sizeof *f);
    fixture_new(f, &o);
    start(f, &d);
    assert_true(server_wait_count(&s, 1, WAIT_MS));
    fixture_end(f);
    assert_true(f->done_before_destroy_returned);
    assert_int_equal(f->res.calls, 1);
    assert_int_equal(f->res.error, MQTT5_ERR_TERMINATED);
    assert_true(f->res.seq < f->destroyed_seq);
    server_stop(&s);
}

/* Destroy before any request: nothing was set up on the loop, on_destroyed still comes. */
static void test_destroy_idle(void **state)
{
    (void)state;
    fixture *f = test_alloc(sizeof *f);
    fixture_new(f, NULL);
    fixture_end(f);
    assert_false(f->res.called);
}

/* A second request from the first one's done; destroy from the second one's done. */
typedef struct chain {
    fixture f;
    mqtt5_http_request_desc d;
    int second_rc, after_destroy_rc;
    result first;
} chain;

static void chain_second_done(void *user, int error, const mqtt5_http_response *resp,
                              const char *detail)
{
    chain *c = user;
    record(&c->f.res, error, resp, detail, ++c->f.seq);
    mqtt5_http_client_destroy(c->f.client, on_destroyed, &c->f);
    c->after_destroy_rc = mqtt5_http_client_request(c->f.client, &c->d, on_done, &c->f, NULL);
}

static void chain_first_done(void *user, int error, const mqtt5_http_response *resp,
                             const char *detail)
{
    chain *c = user;
    record(&c->first, error, resp, detail, ++c->f.seq);
    c->second_rc = mqtt5_http_client_request(c->f.client, &c->d, chain_second_done, c, NULL);
}

static void do_chain(void *arg)
{
    chain *c = arg;
    c->f.start_rc = mqtt5_http_client_request(c->f.client, &c->d, chain_first_done, c, NULL);
}

static void test_reentrant_from_done(void **state)
{
    (void)state;
    static const script sc[] = {{200, "one", 0, NULL, 0, false, false},
                                {200, "two", 0, NULL, 0, false, false}};
    server s;
    server_start(&s, sc, 2);
    char url[128];
    url_of(url, sizeof url, s.port, "/");
    chain *c = test_alloc(sizeof *c);
    fixture_new(&c->f, NULL);
    c->d = (mqtt5_http_request_desc){.method = "GET", .url = url};
    on_loop(do_chain, c);
    assert_int_equal(c->f.start_rc, 0);
    assert_true(wait_flag(&c->f.destroyed, WAIT_MS));
    assert_int_equal(c->first.error, 0);
    assert_string_equal(c->first.body, "one");
    assert_int_equal(c->second_rc, 0);
    assert_int_equal(c->f.res.error, 0);
    assert_string_equal(c->f.res.body, "two");
    assert_int_equal(c->after_destroy_rc, MQTT5_ERR_TERMINATED);
    assert_true(c->f.res.seq < c->f.destroyed_seq);
    assert_no_leaks(&c->f.ta);
    server_stop(&s);
}

/* Every allocation of a request failing in turn: NOMEM from the call or through done, never a
 * hang, never a leak. */
typedef struct nomem_run {
    fixture *f;
    mqtt5_http_request_desc d;
    size_t k;
} nomem_run;

static void do_nomem_start(void *arg)
{
    nomem_run *n = arg;
    test_allocator_fail_at(&n->f->ta, n->k, false);
    n->f->start_rc = mqtt5_http_client_request(n->f->client, &n->d, on_done, n->f, &n->f->req);
}

static void test_out_of_memory(void **state)
{
    (void)state;
    static const script sc[] = {{200, NULL, 3000, NULL, 0, false, false}};
    server s;
    server_start(&s, sc, 1);
    char url[128];
    url_of(url, sizeof url, s.port, "/");
    static const uint8_t body[] = "Action=AssumeRole";
    /* client_new: the client, then each copied string */
    mqtt5_credentials_http_options o;
    http_options(&o);
    o.proxy_url = "http://user:pass@proxy:3128";
    o.ca_file = "/etc/ssl/certs/ca-certificates.crt";
    for (size_t k = 1; k <= 3; k++) {
        test_allocator ta;
        test_allocator_init(&ta);
        test_allocator_fail_at(&ta, k, false);
        mqtt5_http_client *c = (mqtt5_http_client *)&ta; /* must be reset to NULL */
        assert_int_equal(mqtt5_http_client_new(test_allocator_get(&ta), g_loop, &o, &c),
                         MQTT5_ERR_NOMEM);
        assert_null(c);
        assert_no_leaks(&ta);
    }

    fixture *f = test_alloc(sizeof *f);
    bool clean_run = false;
    for (size_t k = 1; k < 20 && !clean_run; k++) {
        fixture_new(f, NULL);
        nomem_run n = {f, {.method = "POST", .url = url, .body = body, .body_len = 17}, k};
        on_loop(do_nomem_start, &n);
        if (f->start_rc != 0) {
            assert_int_equal(f->start_rc, MQTT5_ERR_NOMEM);
        } else {
            wait_done(f);
            if (f->res.error == 0) {
                assert_int_equal(f->res.body_len, 3000);
                clean_run = f->ta.failures == 0;
            } else {
                assert_int_equal(f->res.error, MQTT5_ERR_NOMEM);
            }
        }
        fixture_end(f);
    }
    assert_true(clean_run);
    server_stop(&s);
}

static void test_detail_hides_secrets(void **state)
{
    (void)state;
    uint16_t port = closed_port();
    char url[160];
    snprintf(url, sizeof url,
             "http://user:hunter2@127.0.0.1:%u/role?X-Amz-Security-Token=SECRET#SECRETFRAG", port);
    const char *headers[] = {"Authorization: Bearer SECRETTOKEN"};
    mqtt5_http_request_desc d = {
        .method = "GET", .url = url, .headers = headers, .header_count = 1, .max_attempts = 1};
    mqtt5_credentials_http_options o;
    http_options(&o);
    fixture *f = test_alloc(sizeof *f);
    run_one(f, &o, &d);
    assert_int_equal(f->res.error, MQTT5_ERR_CONNECT_REFUSED);
    assert_int_equal(f->res.attempts, 1);
    assert_null(strchr(f->res.detail, '?'));
    assert_null(strstr(f->res.detail, "SECRET"));
    assert_null(strstr(f->res.detail, "hunter2"));
    assert_null(strstr(f->res.detail, "Bearer"));
    char want[96];
    snprintf(want, sizeof want, "GET http://127.0.0.1:%u/role: ", port);
    assert_non_null(strstr(f->res.detail, want));
    assert_int_equal(g_log_leaks, 0);
}

typedef struct bad_args {
    mqtt5_http_client *client;
    int rc[8];
    bool done_called;
} bad_args;

static void bad_done(void *user, int error, const mqtt5_http_response *resp, const char *detail)
{
    (void)error;
    (void)resp;
    (void)detail;
    ((bad_args *)user)->done_called = true;
}

static void do_bad_args(void *arg)
{
    bad_args *b = arg;
    const char *crlf[] = {"X-A: b\r\nX-Injected: 1"};
    const char *nocolon[] = {"NoColon"};
    uint8_t body[1] = {1};
    mqtt5_http_request_desc d[] = {
        {.method = "DELETE", .url = "http://127.0.0.1/"},
        {.method = "GET", .url = "ftp://127.0.0.1/"},
        {.method = "GET", .url = "http://127.0.0.1/", .headers = crlf, .header_count = 1},
        {.method = "GET", .url = "http://127.0.0.1/", .headers = nocolon, .header_count = 1},
        {.method = "POST", .url = "http://127.0.0.1/", .body_len = 3},
        {.method = "GET", .url = "http://127.0.0.1/", .body = body, .body_len = 1},
        {.method = "GET", .url = NULL},
    };
    for (size_t i = 0; i < COUNT_OF(d); i++)
        b->rc[i] = mqtt5_http_client_request(b->client, &d[i], bad_done, b, NULL);
    b->rc[7] = mqtt5_http_client_request(b->client, NULL, bad_done, b, NULL);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    fixture *f = test_alloc(sizeof *f);
    fixture_new(f, NULL);
    bad_args b = {.client = f->client};
    on_loop(do_bad_args, &b);
    for (size_t i = 0; i < COUNT_OF(b.rc); i++)
        assert_int_equal(b.rc[i], MQTT5_ERR_INVALID_ARGUMENT);
    /* off the loop thread */
    mqtt5_http_request_desc d = {.method = "GET", .url = "http://127.0.0.1/"};
    assert_int_equal(mqtt5_http_client_request(f->client, &d, bad_done, &b, NULL),
                     MQTT5_ERR_INVALID_STATE);
    fixture_end(f);
    assert_false(b.done_called);
    mqtt5_http_client *c = NULL;
    assert_int_equal(mqtt5_http_client_new(NULL, NULL, NULL, &c), MQTT5_ERR_INVALID_ARGUMENT);
    assert_null(c);
}

/* ---- pure helpers -------------------------------------------------------------------------- */

static void test_backoff_and_policy(void **state)
{
    (void)state;
    assert_int_equal(mqtt5_http_backoff_ms(1, 0), 0);
    assert_int_equal(mqtt5_http_backoff_ms(1, UINT64_MAX), UINT64_MAX % 101);
    assert_int_equal(mqtt5_http_backoff_ms(1, 100), 100);
    assert_int_equal(mqtt5_http_backoff_ms(2, 200), 200);
    assert_int_equal(mqtt5_http_backoff_ms(3, 400), 400);
    assert_int_equal(mqtt5_http_backoff_ms(5, 1600), 1600);
    assert_int_equal(mqtt5_http_backoff_ms(6, 2000), 2000); /* 3200 capped */
    assert_int_equal(mqtt5_http_backoff_ms(40, 2000), 2000);
    for (uint64_t r = 0; r < 5000; r += 7) {
        assert_true(mqtt5_http_backoff_ms(1, r) <= 100);
        assert_true(mqtt5_http_backoff_ms(2, r) <= 200);
        assert_true(mqtt5_http_backoff_ms(100, r) <= 2000);
    }
    assert_true(mqtt5_http_status_retryable(500));
    assert_true(mqtt5_http_status_retryable(503));
    assert_true(mqtt5_http_status_retryable(429));
    assert_false(mqtt5_http_status_retryable(404));
    assert_false(mqtt5_http_status_retryable(401));
    assert_false(mqtt5_http_status_retryable(200));
    assert_true(mqtt5_http_curl_retryable(CURLE_COULDNT_CONNECT));
    assert_true(mqtt5_http_curl_retryable(CURLE_GOT_NOTHING));
    assert_true(mqtt5_http_curl_retryable(CURLE_RECV_ERROR));
    assert_false(mqtt5_http_curl_retryable(CURLE_PEER_FAILED_VERIFICATION));
    assert_false(mqtt5_http_curl_retryable(CURLE_COULDNT_RESOLVE_HOST));
    assert_int_equal(mqtt5_http_curl_error(CURLE_COULDNT_RESOLVE_HOST), MQTT5_ERR_DNS);
    assert_int_equal(mqtt5_http_curl_error(CURLE_COULDNT_RESOLVE_PROXY), MQTT5_ERR_DNS);
    assert_int_equal(mqtt5_http_curl_error(CURLE_COULDNT_CONNECT), MQTT5_ERR_CONNECT_REFUSED);
    assert_int_equal(mqtt5_http_curl_error(CURLE_OPERATION_TIMEDOUT), MQTT5_ERR_TIMEOUT);
    assert_int_equal(mqtt5_http_curl_error(CURLE_PEER_FAILED_VERIFICATION),
                     MQTT5_ERR_TLS_UNTRUSTED_CERT);
    assert_int_equal(mqtt5_http_curl_error(CURLE_SSL_CONNECT_ERROR), MQTT5_ERR_TLS_HANDSHAKE);
    assert_int_equal(mqtt5_http_curl_error(CURLE_RECV_ERROR), MQTT5_ERR_IO);
}

static void test_url_redact_and_encode(void **state)
{
    (void)state;
    char out[64];
    mqtt5_http_url_redact("https://u:p@host:8443/a/b?token=x#f", out, sizeof out);
    assert_string_equal(out, "https://host:8443/a/b");
    mqtt5_http_url_redact("http://169.254.169.254/latest/meta-data/", out, sizeof out);
    assert_string_equal(out, "http://169.254.169.254/latest/meta-data/");
    mqtt5_http_url_redact("http://h?q=@x", out, sizeof out);
    assert_string_equal(out, "http://h");
    mqtt5_http_url_redact("http://host/very/long/path/that/does/not/fit/in/sixteen", out, 16);
    assert_string_equal(out, "http://host/ver");

    char enc[64];
    assert_int_equal(mqtt5_http_url_encode("AZaz09-_.~", enc, sizeof enc), 10);
    assert_string_equal(enc, "AZaz09-_.~");
    assert_int_equal(mqtt5_http_url_encode("a b&c=d/\xc3\xa9+", enc, sizeof enc), 25);
    assert_string_equal(enc, "a%20b%26c%3Dd%2F%C3%A9%2B");
    assert_int_equal(mqtt5_http_url_encode("", enc, sizeof enc), 0);
    assert_int_equal(mqtt5_http_url_encode("abc", enc, 3), -1); /* no room for the NUL */
    assert_int_equal(mqtt5_http_url_encode("abc", enc, 4), 3);
    assert_int_equal(mqtt5_http_url_encode(" ", enc, 3), -1);
}

/* ---- process runner ------------------------------------------------------------------------ */

typedef struct proc_fix {
    test_allocator ta;
    const char *command;
    uint32_t timeout_ms;
    size_t max_output;
    mqtt5_process *p;
    int run_rc;
    bool called, on_loop_thread, inside_call, cancel_sync;
    int calls, error, exit_status;
    char out[4096];
    size_t out_len;
    char detail[256];
    size_t live_blocks;
} proc_fix;

static void proc_done(void *user, int error, int exit_status, const char *out, size_t out_len,
                      const char *detail)
{
    proc_fix *f = user;
    pthread_mutex_lock(&g_mu);
    f->calls++;
    f->error = error;
    f->exit_status = exit_status;
    f->on_loop_thread = mqtt5_loop_is_current(g_loop);
    f->inside_call = g_in_call;
    f->out_len = out_len;
    if (out) snprintf(f->out, sizeof f->out, "%s", out);
    snprintf(f->detail, sizeof f->detail, "%s", detail ? detail : "(null)");
    f->called = true;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

static void do_run(void *arg)
{
    proc_fix *f = arg;
    g_in_call = true;
    f->run_rc = mqtt5_process_run(test_allocator_get(&f->ta), g_loop, f->command, f->timeout_ms,
                                  f->max_output, proc_done, f, &f->p);
    g_in_call = false;
}

static void do_live_blocks(void *arg)
{
    proc_fix *f = arg;
    f->live_blocks = f->ta.live_blocks;
}

/* The process struct goes away once its handles closed (after the child's exit). */
static void proc_end(proc_fix *f)
{
    for (int i = 0; i < 400; i++) {
        on_loop(do_live_blocks, f);
        if (f->live_blocks == 0) break;
        sleep_ms(5);
    }
    assert_int_equal(f->live_blocks, 0);
    assert_no_leaks(&f->ta);
}

static proc_fix *proc_run(const char *command, uint32_t timeout_ms, size_t max_output)
{
    proc_fix *f = test_alloc(sizeof *f);
    memset(f, 0, sizeof *f);
    test_allocator_init(&f->ta);
    f->command = command;
    f->timeout_ms = timeout_ms;
    f->max_output = max_output;
    on_loop(do_run, f);
    assert_int_equal(f->run_rc, 0);
    assert_non_null(f->p);
    return f;
}

static void proc_wait(proc_fix *f)
{
    assert_true(wait_flag(&f->called, WAIT_MS));
    assert_int_equal(f->calls, 1);
    assert_true(f->on_loop_thread);
    assert_false(f->inside_call);
}

static void test_process_output(void **state)
{
    (void)state;
    proc_fix *f = proc_run("printf '{\"a\":1}'", 5000, 0);
    proc_wait(f);
    assert_int_equal(f->error, 0);
    assert_int_equal(f->exit_status, 0);
    assert_int_equal(f->out_len, 7);
    assert_string_equal(f->out, "{\"a\":1}");
    proc_end(f);
}

static void test_process_exit_status(void **state)
{
    (void)state;
    proc_fix *f = proc_run("echo partial; exit 3", 5000, 0);
    proc_wait(f);
    assert_int_equal(f->error, 0);
    assert_int_equal(f->exit_status, 3);
    assert_string_equal(f->out, "partial\n");
    proc_end(f);
}

static void test_process_timeout_kills(void **state)
{
    (void)state;
    uint64_t t0 = now_ms();
    /* the shell waits for its child: the whole group must be killed for stdout to close */
    proc_fix *f = proc_run("sleep 5; echo late", 200, 0);
    proc_wait(f);
    uint64_t took = now_ms() - t0;
    assert_int_equal(f->error, MQTT5_ERR_TIMEOUT);
    assert_true(took >= 150);
    assert_true(took < 2000);
    assert_non_null(strstr(f->detail, "200 ms"));
    proc_end(f);
}

static void test_process_output_cap(void **state)
{
    (void)state;
    proc_fix *f = proc_run("head -c 5000 /dev/zero | tr '\\000' a", 5000, 1000);
    proc_wait(f);
    assert_int_equal(f->error, MQTT5_ERR_PACKET_TOO_LARGE);
    proc_end(f);
    /* exactly the cap fits */
    f = proc_run("head -c 1000 /dev/zero | tr '\\000' a", 5000, 1000);
    proc_wait(f);
    assert_int_equal(f->error, 0);
    assert_int_equal(f->out_len, 1000);
    proc_end(f);
}

static void do_proc_cancel(void *arg)
{
    proc_fix *f = arg;
    mqtt5_process_cancel(f->p);
    f->cancel_sync = f->called;
}

static void test_process_cancel(void **state)
{
    (void)state;
    proc_fix *f = proc_run("sleep 5", 5000, 0);
    sleep_ms(50);
    uint64_t t0 = now_ms();
    on_loop(do_proc_cancel, f);
    assert_true(f->cancel_sync);
    proc_wait(f);
    assert_int_equal(f->error, MQTT5_ERR_TERMINATED);
    proc_end(f); /* freed after the killed child was reaped */
    assert_true(now_ms() - t0 < 2000);
}

/* ---- group --------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN); /* the test server writes to clients that may have hung up */
    /* every line is formatted and checked for secrets; MQTT5_TEST_HTTP_LOG=1 prints them */
    mqtt5_log_set(MQTT5_LOG_TRACE, log_sink, getenv("MQTT5_TEST_HTTP_LOG") ? stderr : NULL);
    if (mqtt5_event_loop_group_new(NULL, &g_group) != 0) return -1;
    g_loop = mqtt5_loop_group_pick(g_group);
    return 0;
}

static bool g_shutdown;

static void on_group_shutdown(void *user)
{
    (void)user;
    set_flag(&g_shutdown);
}

static int group_teardown(void **state)
{
    mqtt5_event_loop_group_release(g_group, on_group_shutdown, NULL);
    bool ok = wait_flag(&g_shutdown, WAIT_MS);
    mqtt5_log_set(MQTT5_LOG_NONE, NULL, NULL);
    test_free_all(state);
    if (!ok || g_log_leaks) {
        fprintf(stderr, "group shutdown %s, %d log line(s) with secrets\n", ok ? "ok" : "stuck",
                (int)g_log_leaks);
        return -1;
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_200),
        cmocka_unit_test(test_put_empty_body),
        cmocka_unit_test(test_post_body_byte_exact),
        cmocka_unit_test(test_503_then_200),
        cmocka_unit_test(test_503_exhausts_attempts),
        cmocka_unit_test(test_404_not_retried),
        cmocka_unit_test(test_429_retried),
        cmocka_unit_test(test_empty_reply_retried),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_response_cap),
        cmocka_unit_test(test_connect_to),
        cmocka_unit_test(test_proxy_url_and_environment),
        cmocka_unit_test(test_https_ca_file),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_destroy_in_flight),
        cmocka_unit_test(test_destroy_idle),
        cmocka_unit_test(test_reentrant_from_done),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_detail_hides_secrets),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_backoff_and_policy),
        cmocka_unit_test(test_url_redact_and_encode),
        cmocka_unit_test(test_process_output),
        cmocka_unit_test(test_process_exit_status),
        cmocka_unit_test(test_process_timeout_kills),
        cmocka_unit_test(test_process_output_cap),
        cmocka_unit_test(test_process_cancel),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
