/*
 * test_tcp.c - the TCP filter (transports/tcp.c) against a listener on 127.0.0.1 in the same
 * libuv loop, and the first-error latch every filter shares (transports/filter.c). Covers
 * opening, reading and writing, backpressure (a peer that stops reading: bytes queue, arrive
 * intact and in order, on_writable climbs, a graceful close flushes them first), refused
 * connections, a name resolved and its addresses tried, closes before connecting, while
 * resolving and while connecting, the peer closing or resetting, a write that fails after a
 * reset, and bad options (the poller is required, and must be the loop's); the filter's own
 * socket (tcp.c does its socket I/O itself, watched by the loop's poller, transports/poller.h):
 * its options, a write to a peer gone raising no SIGPIPE on a thread that does not block it,
 * bytes the peer sent before resetting still climbing, writes of more iovs than one sendmsg
 * takes, and no descriptor left open after a close. Every connection ends with uv_loop_close
 * succeeding: the filter released all of its handles and requests before reporting its close;
 * the sanitizers check that none of its memory is used after being freed or leaks.
 */
#define _POSIX_C_SOURCE 200809L
#include "helpers/test_common.h"
#include "helpers/fds.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "transports/tcp.h"

/* ---- the first-error latch ------------------------------------------------------------------ */

typedef struct upper_rec {
    int closes, err;
    char detail[300];
    bool has_detail;
} upper_rec;

static void rec_on_closed(mqtt5_filter *f, int err, const char *detail)
{
    upper_rec *r = f->ctx;
    r->closes++;
    r->err = err;
    r->has_detail = detail != NULL;
    snprintf(r->detail, sizeof r->detail, "%s", detail ? detail : "");
}

static const mqtt5_filter_ops rec_ops = {.name = "sink", .on_closed = rec_on_closed};

static void test_error_latch(void **state)
{
    (void)state;
    upper_rec rec = {0};
    mqtt5_filter low = {0}, up = {.ops = &rec_ops, .ctx = &rec};
    mqtt5_filter_stack(&low, &up);
    mqtt5_filter_error e = {0};
    mqtt5_filter_report_closed(&low, &e); /* nothing kept: a clean close without detail */
    assert_int_equal(rec.closes, 1);
    assert_int_equal(rec.err, 0);
    assert_false(rec.has_detail);

    char src[] = "first";
    mqtt5_filter_error_set(&e, MQTT5_ERR_DNS, src);
    assert_true(e.set);
    assert_ptr_not_equal(e.detail, src); /* a copy of the exact length */
    assert_string_equal(e.detail, "first");
    mqtt5_filter_error_setf(&e, MQTT5_ERR_IO, "second %d", 2); /* the first error stays */
    assert_err(e.err, MQTT5_ERR_DNS);
    assert_string_equal(e.detail, "first");
    mqtt5_filter_error_replacef(&e, MQTT5_ERR_IO, "was %s", e.detail); /* may quote the old one */
    assert_err(e.err, MQTT5_ERR_IO);
    assert_string_equal(e.detail, "was first");
    mqtt5_filter_report_closed(&low, &e);
    assert_int_equal(rec.closes, 2);
    assert_err(rec.err, MQTT5_ERR_IO);
    assert_string_equal(rec.detail, "was first");

    mqtt5_filter_error_replacef(&e, 0, "%s", ""); /* an empty detail is none */
    assert_null(e.detail);
    mqtt5_filter_error_replacef(&e, MQTT5_ERR_PROXY, NULL);
    assert_null(e.detail);
    mqtt5_filter_report_closed(&low, &e);
    assert_err(rec.err, MQTT5_ERR_PROXY);
    assert_false(rec.has_detail);

    char longer[400];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    mqtt5_filter_error_replacef(&e, MQTT5_ERR_PROXY, "%s", longer); /* at most 255 bytes */
    assert_int_equal(strlen(e.detail), 255);
    mqtt5_filter_error_free(&e);
    assert_null(e.detail);
    assert_err(e.err, MQTT5_ERR_PROXY);
    mqtt5_filter_error_free(&e); /* again: nothing to free */
}

/* ---- a loop, a listener and a recording sink ------------------------------------------------ */

typedef struct rig {
    uv_loop_t loop;
    mqtt5_poller poller; /* the loop's, as mqtt5_loop has one */
    uint8_t read_buf[65536];
    mqtt5_filter *f;
    mqtt5_filter sink;
    /* the sink */
    int opens, closes, writables, close_err;
    char detail[300];
    bool has_detail;
    uint8_t got[64];
    size_t got_n;
    uv_timer_t tick; /* wakes the loop up so that RUN_UNTIL can give up */
    /* the listener and the connection it accepted */
    uv_tcp_t listener, peer;
    bool accepted, peer_eof;
    uint16_t port;
    size_t peer_received; /* every byte checked against pattern_at() */
    size_t pattern_errors;
    /* what the test wrote through the filter */
    size_t written;
} rig;

static uint8_t pattern_at(size_t i)
{
    return (uint8_t)(i * 7 + i / 4096 + 3);
}

static void sink_on_open(mqtt5_filter *f)
{
    ((rig *)f->ctx)->opens++;
}

static void sink_on_read(mqtt5_filter *f, const uint8_t *p, size_t n)
{
    rig *r = f->ctx;
    size_t room = sizeof r->got - r->got_n;
    memcpy(r->got + r->got_n, p, n < room ? n : room);
    r->got_n += n < room ? n : room;
}

static void sink_on_writable(mqtt5_filter *f)
{
    ((rig *)f->ctx)->writables++;
}

static void sink_on_closed(mqtt5_filter *f, int err, const char *detail)
{
    rig *r = f->ctx;
    r->closes++;
    r->close_err = err;
    r->has_detail = detail != NULL;
    snprintf(r->detail, sizeof r->detail, "%s", detail ? detail : "");
}

static const mqtt5_filter_ops sink_ops = {
    .name = "sink",
    .on_open = sink_on_open,
    .on_read = sink_on_read,
    .on_writable = sink_on_writable,
    .on_closed = sink_on_closed,
};

static void peer_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    static char buf[65536];
    (void)h;
    (void)suggested;
    *out = uv_buf_init(buf, sizeof buf);
}

static void peer_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    rig *r = s->data;
    if (n < 0) {
        r->peer_eof = true;
        uv_read_stop(s);
        return;
    }
    for (ssize_t i = 0; i < n; i++)
        if ((uint8_t)b->base[i] != pattern_at(r->peer_received + (size_t)i)) r->pattern_errors++;
    r->peer_received += (size_t)n;
}

static void peer_read_start(rig *r)
{
    assert_int_equal(uv_read_start((uv_stream_t *)&r->peer, peer_alloc, peer_read), 0);
}

static void on_connection(uv_stream_t *server, int status)
{
    rig *r = server->data;
    assert_int_equal(status, 0);
    assert_false(r->accepted);
    assert_int_equal(uv_tcp_init(&r->loop, &r->peer), 0);
    r->peer.data = r;
    assert_int_equal(uv_accept(server, (uv_stream_t *)&r->peer), 0);
    r->accepted = true;
}

/* A loop with a listener on 127.0.0.1 (an unused port when listen is false). */
static void rig_init(rig *r, bool listen)
{
    memset(r, 0, sizeof *r);
    assert_int_equal(uv_loop_init(&r->loop), 0);
    assert_int_equal(mqtt5_poller_init(&r->poller, &r->loop), 0);
    r->poller.read_buf = r->read_buf;
    r->poller.read_cap = sizeof r->read_buf;
    assert_int_equal(uv_tcp_init(&r->loop, &r->listener), 0);
    r->listener.data = r;
    struct sockaddr_in sa;
    assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &sa), 0);
    assert_int_equal(uv_tcp_bind(&r->listener, (const struct sockaddr *)&sa, 0), 0);
    struct sockaddr_storage bound;
    int len = sizeof bound;
    assert_int_equal(uv_tcp_getsockname(&r->listener, (struct sockaddr *)&bound, &len), 0);
    r->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    if (listen) assert_int_equal(uv_listen((uv_stream_t *)&r->listener, 8, on_connection), 0);
    assert_int_equal(uv_timer_init(&r->loop, &r->tick), 0);
}

static void on_tick(uv_timer_t *t)
{
    (void)t; /* only wakes uv_run up */
}

/* Run the loop until cond holds; fail after 5 s. */
#define RUN_UNTIL(r, cond)                                                                         \
    do {                                                                                           \
        uv_timer_start(&(r)->tick, on_tick, 10, 10);                                               \
        uint64_t until_ = uv_now(&(r)->loop) + 5000;                                               \
        while (!(cond)) {                                                                          \
            if (uv_now(&(r)->loop) > until_) fail_msg("timed out waiting for %s", #cond);          \
            uv_run(&(r)->loop, UV_RUN_ONCE);                                                       \
        }                                                                                          \
        uv_timer_stop(&(r)->tick);                                                                 \
    } while (0)

/* A TCP filter to host:r->port with the recording sink on top; connect() unless told not to. */
static void start(rig *r, const char *host, bool connect)
{
    mqtt5_tcp_options o = {host, r->port, true, 30, &r->poller};
    assert_int_equal(mqtt5_tcp_filter_new(&r->loop, &o, &r->f), 0);
    r->sink = (mqtt5_filter){.ops = &sink_ops, .ctx = r};
    mqtt5_filter_stack(r->f, &r->sink);
    if (connect) assert_int_equal(r->f->ops->connect(r->f), 0);
}

static void open_both(rig *r)
{
    start(r, "127.0.0.1", true);
    RUN_UNTIL(r, r->opens == 1 && r->accepted);
    assert_int_equal(r->f->ops->pending(r->f), 0);
}

/* Write n pattern bytes as three iovs of uneven sizes. */
static int write_pattern(rig *r, size_t n)
{
    uint8_t *p = malloc(n);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = pattern_at(r->written + i);
    mqtt5_iov v[3] = {{p, n / 7}, {p + n / 7, n / 2}, {p + n / 7 + n / 2, n - n / 7 - n / 2}};
    int rc = r->f->ops->write(r->f, v, 3);
    if (rc == 0) r->written += n;
    free(p);
    return rc;
}

static void on_handle_closed(uv_handle_t *h)
{
    (void)h;
}

/* The filter reported its close: destroy it, close the rest; the loop must have nothing left. */
static void rig_finish(rig *r)
{
    assert_int_equal(r->closes, 1);
    r->f->ops->destroy(r->f);
    if (r->accepted && !uv_is_closing((uv_handle_t *)&r->peer))
        uv_close((uv_handle_t *)&r->peer, on_handle_closed);
    uv_close((uv_handle_t *)&r->listener, on_handle_closed);
    uv_close((uv_handle_t *)&r->tick, on_handle_closed);
    mqtt5_poller_close(&r->poller, NULL);
    assert_int_equal(uv_run(&r->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&r->loop), 0);
}

/* ---- the TCP filter ------------------------------------------------------------------------- */

static void test_read_write_graceful_close(void **state)
{
    (void)state;
    static rig r;
    rig_init(&r, true);
    open_both(&r);
    uv_buf_t hello = uv_buf_init("hello", 5);
    assert_int_equal(uv_try_write((uv_stream_t *)&r.peer, &hello, 1), 5);
    RUN_UNTIL(&r, r.got_n == 5);
    assert_memory_equal(r.got, "hello", 5);

    peer_read_start(&r);
    assert_int_equal(write_pattern(&r, 1000), 0);
    assert_int_equal(r.f->ops->write(r.f, NULL, 0), 0);
    RUN_UNTIL(&r, r.peer_received == 1000);
    r.f->ops->close(r.f, 0); /* graceful: FIN, then the close */
    RUN_UNTIL(&r, r.closes == 1 && r.peer_eof);
    assert_int_equal(r.close_err, 0);
    assert_false(r.has_detail);
    assert_int_equal(r.opens, 1);
    assert_int_equal(r.pattern_errors, 0);
    assert_int_equal(write_pattern(&r, 10), MQTT5_ERR_INVALID_STATE);
    rig_finish(&r);
}

/* Run the loop for about `ms` (the tick keeps it turning). */
static void run_for(rig *r, uint64_t ms)
{
    uv_timer_start(&r->tick, on_tick, 5, 5);
    uint64_t until = uv_now(&r->loop) + ms;
    while (uv_now(&r->loop) < until)
        uv_run(&r->loop, UV_RUN_ONCE);
    uv_timer_stop(&r->tick);
}

static void peer_send(rig *r, const char *s)
{
    uv_buf_t b = uv_buf_init((char *)s, (unsigned)strlen(s));
    assert_int_equal(uv_try_write((uv_stream_t *)&r->peer, &b, 1), (int)strlen(s));
}

/* The read low-water hint (mqtt5_filter_set_read_low_water, through a filter without the op):
 * the socket wakes the filter only once that many bytes are there; 1 again reads every byte; the
 * peer's close is reported whatever the mark. */
static void test_read_low_water(void **state)
{
    (void)state;
    static rig r;
    rig_init(&r, true);
    open_both(&r);
    static const mqtt5_filter_ops between_ops = {.name = "between"}; /* no set_read_low_water */
    mqtt5_filter between = {.ops = &between_ops, .lower = r.f};
    mqtt5_filter_set_read_low_water(&between, 12);
    peer_send(&r, "abcd");
    run_for(&r, 60);
    assert_int_equal(r.got_n, 0); /* 4 of 12 bytes: not worth a wake-up */
    peer_send(&r, "efghijkl");
    RUN_UNTIL(&r, r.got_n == 12);
    assert_memory_equal(r.got, "abcdefghijkl", 12);

    peer_send(&r, "mn"); /* 2 bytes below the mark, then the mark back to 1: read at once */
    run_for(&r, 30);
    assert_int_equal(r.got_n, 12);
    mqtt5_filter_set_read_low_water(r.f, 1);
    RUN_UNTIL(&r, r.got_n == 14);
    peer_send(&r, "o");
    RUN_UNTIL(&r, r.got_n == 15);
    assert_memory_equal(r.got, "abcdefghijklmno", 15);

    mqtt5_filter_set_read_low_water(r.f, 100000); /* capped at 65535 */
    peer_send(&r, "pq");
    uv_close((uv_handle_t *)&r.peer, on_handle_closed); /* the FIN wakes the filter anyway */
    RUN_UNTIL(&r, r.closes == 1);
    assert_int_equal(r.got_n, 17);
    assert_int_equal(r.close_err, 0);
    rig_finish(&r);
}

/* Fill the kernel's buffers (the peer is not reading) until the filter holds at least `min`. */
static void fill(rig *r, size_t min)
{
    while (r->f->ops->pending(r->f) < min) {
        assert_true(r->written < ((size_t)256 << 20)); /* the kernel would not take all that */
        assert_int_equal(write_pattern(r, 100000), 0);
    }
}

static void test_backpressure(void **state)
{
    (void)state;
    static rig r;
    rig_init(&r, true);
    open_both(&r);
    fill(&r, MQTT5_TCP_LOW_WATER);                /* queued: on_writable is owed once it drains */
    assert_int_equal(write_pattern(&r, 5000), 0); /* appended behind the write in flight */
    peer_read_start(&r);
    RUN_UNTIL(&r, r.writables == 1);
    assert_true(r.f->ops->pending(r.f) < MQTT5_TCP_LOW_WATER);
    RUN_UNTIL(&r, r.f->ops->pending(r.f) == 0 && r.peer_received == r.written);

    /* queued again, then a graceful close: everything arrives before the FIN */
    uv_read_stop((uv_stream_t *)&r.peer);
    fill(&r, 1);
    r.f->ops->close(r.f, 0);
    assert_int_equal(write_pattern(&r, 10), MQTT5_ERR_INVALID_STATE);
    assert_int_not_equal(r.f->ops->pending(r.f), 0);
    peer_read_start(&r);
    RUN_UNTIL(&r, r.closes == 1 && r.peer_eof);
    assert_int_equal(r.close_err, 0);
    assert_false(r.has_detail);
    assert_int_equal(r.peer_received, r.written);
    assert_int_equal(r.pattern_errors, 0);
    rig_finish(&r);
}

static void test_abortive_close_with_queue(void **state)
{
    (void)state;
    static rig r;
    rig_init(&r, true);
    open_both(&r);
    fill(&r, 1);
    r.f->ops->close(r.f, MQTT5_ERR_STOPPED); /* the write in flight is cancelled */
    RUN_UNTIL(&r, r.closes == 1);
    assert_err(r.close_err, MQTT5_ERR_STOPPED);
    assert_false(r.has_detail);
    rig_finish(&r);
}

static void test_refused(void **state)
{
    (void)state;
    static rig r;
    rig_init(&r, false); /* bound, not listening */
    start(&r, "127.0.0.1", true);
    RUN_UNTIL(&r, r.closes == 1);
    assert_int_equal(r.opens, 0);
    assert_err(r.close_err, MQTT5_ERR_CONNECT_REFUSED);
    char want[100];
    snprintf(want, sizeof want, "connect to 127.0.0.1 port %u failed: connection refused", r.port);
    assert_string_equal(r.detail, want);
    rig_finish(&r);
}

/* "localhost" may come first as ::1, refused here: then 127.0.0.1 is tried. */
static void test_resolved_name(void **state)
{
    (void)state;
    static rig r;
    rig_init(&r, true);
    start(&r, "localhost", true);
    RUN_UNTIL(&r, r.opens == 1 && r.accepted);
    peer_read_start(&r);
    assert_int_equal(write_pattern(&r, 100), 0);
    RUN_UNTIL(&r, r.peer_received == 100);
    r.f->ops->close(r.f, MQTT5_ERR_STOPPED);
    RUN_UNTIL(&r, r.closes == 1);
    assert_err(r.close_err, MQTT5_ERR_STOPPED);
    rig_finish(&r);
}

static void test_unresolvable(void **state)
{
    (void)state;
    static rig r;
    rig_init(&r, false);
    start(&r, "no-such-host.invalid", true);
    RUN_UNTIL(&r, r.closes == 1);
    assert_err(r.close_err, MQTT5_ERR_DNS);
    assert_true(strncmp(r.detail, "cannot resolve 'no-such-host.invalid': ", 39) == 0);
    rig_finish(&r);
}

static void test_close_before_connect(void **state)
{
    (void)state;
    static rig r;
    rig_init(&r, true);
    start(&r, "127.0.0.1", false);
    r.f->ops->close(r.f, MQTT5_ERR_STOPPED); /* reported at once: nothing to release */
    assert_int_equal(r.closes, 1);
    assert_err(r.close_err, MQTT5_ERR_STOPPED);
    assert_int_equal(r.f->ops->connect(r.f), MQTT5_ERR_INVALID_STATE);
    rig_finish(&r);
}

static void test_close_while_resolving(void **state)
{
    (void)state;
    static rig r;
    rig_init(&r, true);
    start(&r, "localhost", true);
    r.f->ops->close(r.f, MQTT5_ERR_STOPPED); /* reported once the resolver request returned */
    assert_int_equal(r.closes, 0);
    RUN_UNTIL(&r, r.closes == 1);
    assert_int_equal(r.opens, 0);
    assert_err(r.close_err, MQTT5_ERR_STOPPED);
    rig_finish(&r);
}

static void test_close_while_connecting(void **state)
{
    (void)state;
    static rig r;
    rig_init(&r, true);
    start(&r, "127.0.0.1", true);
    r.f->ops->close(r.f, 0); /* not open: abortive; the connect request is cancelled */
    assert_int_equal(r.closes, 0);
    RUN_UNTIL(&r, r.closes == 1);
    assert_int_equal(r.opens, 0);
    assert_int_equal(r.close_err, 0);
    rig_finish(&r);
}

static void test_peer_closes(void **state)
{
    (void)state;
    static rig r;
    rig_init(&r, true);
    open_both(&r);
    uv_close((uv_handle_t *)&r.peer, on_handle_closed);
    RUN_UNTIL(&r, r.closes == 1);
    assert_int_equal(r.close_err, 0);
    assert_string_equal(r.detail, "the server closed the connection");
    rig_finish(&r);
}

static void test_peer_resets(void **state)
{
    (void)state;
    static rig r;
    rig_init(&r, true);
    open_both(&r);
    assert_int_equal(uv_tcp_close_reset(&r.peer, on_handle_closed), 0);
    RUN_UNTIL(&r, r.closes == 1);
    assert_err(r.close_err, MQTT5_ERR_CONNECTION_CLOSED);
    char want[100];
    snprintf(want, sizeof want, "read from 127.0.0.1:%u failed: ", r.port);
    assert_true(strncmp(r.detail, want, strlen(want)) == 0);
    rig_finish(&r);
}

/* The reset arrives before the write: the write fails, reading goes on briefly, then the close
 * reports the write's failure. */
static void test_write_after_reset(void **state)
{
    (void)state;
    static rig r;
    rig_init(&r, true);
    open_both(&r);
    assert_int_equal(uv_tcp_close_reset(&r.peer, on_handle_closed), 0); /* the RST goes out */
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(write_pattern(&r, 100), 0); /* the failure comes with the close */
    assert_int_equal(write_pattern(&r, 100), 0); /* dropped */
    RUN_UNTIL(&r, r.closes == 1);
    assert_err(r.close_err, MQTT5_ERR_CONNECTION_CLOSED);
    char want[100];
    snprintf(want, sizeof want, "write to 127.0.0.1:%u failed: ", r.port);
    assert_true(strncmp(r.detail, want, strlen(want)) == 0);
    rig_finish(&r);
}

/* The filter's socket: the one whose local address is the accepted peer's remote one. */
static int filter_fd(rig *r)
{
    struct sockaddr_storage want;
    int len = sizeof want;
    assert_int_equal(uv_tcp_getpeername(&r->peer, (struct sockaddr *)&want, &len), 0);
    for (int fd = 0; fd < 4096; fd++) {
        struct sockaddr_storage got;
        socklen_t glen = sizeof got;
        if (getsockname(fd, (struct sockaddr *)&got, &glen) != 0 || got.ss_family != AF_INET)
            continue;
        const struct sockaddr_in *a = (const struct sockaddr_in *)&got;
        const struct sockaddr_in *b = (const struct sockaddr_in *)&want;
        if (a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr) return fd;
    }
    fail_msg("the filter's socket was not found");
    return -1;
}

static int sockopt_int(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof v;
    assert_int_equal(getsockopt(fd, level, name, &v, &len), 0);
    return v;
}

/* start() asks for TCP_NODELAY and a 30 s keep-alive: set as uv_tcp_nodelay/uv_tcp_keepalive
 * set them (idle 30 s, then probes every second, 10 of them); non-blocking, close-on-exec. */
static void test_socket_options(void **state)
{
    (void)state;
    static rig r;
    rig_init(&r, true);
    open_both(&r);
    int fd = filter_fd(&r);
    assert_int_equal(sockopt_int(fd, IPPROTO_TCP, TCP_NODELAY), 1);
    assert_int_not_equal(sockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE), 0);
    assert_int_equal(sockopt_int(fd, IPPROTO_TCP, TCP_KEEPIDLE), 30);
    assert_int_equal(sockopt_int(fd, IPPROTO_TCP, TCP_KEEPINTVL), 1);
    assert_int_equal(sockopt_int(fd, IPPROTO_TCP, TCP_KEEPCNT), 10);
    assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    r.f->ops->close(r.f, MQTT5_ERR_STOPPED);
    RUN_UNTIL(&r, r.closes == 1);
    rig_finish(&r);
}

/*
 * A caller-driven loop runs the filter on the user's thread, where SIGPIPE may be neither
 * blocked nor ignored: a write to a peer that is gone must fail with EPIPE, not kill the
 * process. This thread: SIGPIPE unblocked, default disposition. The peer closes (FIN), the first
 * write reaches it and draws its RST, so the second one fails with EPIPE.
 */
static void test_write_to_closed_peer_no_sigpipe(void **state)
{
    (void)state;
    struct sigaction dfl, old_action;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    assert_int_equal(sigaction(SIGPIPE, &dfl, &old_action), 0);
    sigset_t pipe_set, old_mask;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    assert_int_equal(pthread_sigmask(SIG_UNBLOCK, &pipe_set, &old_mask), 0);

    static rig r;
    rig_init(&r, true);
    open_both(&r);
    uv_close((uv_handle_t *)&r.peer, on_handle_closed); /* FIN; the socket is gone */
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(write_pattern(&r, 100), 0); /* taken; the peer answers with a RST */
    nanosleep(&ts, NULL);
    assert_int_equal(write_pattern(&r, 100), 0); /* EPIPE: no signal, the close reports it */
    RUN_UNTIL(&r, r.closes == 1);
    assert_err(r.close_err, MQTT5_ERR_CONNECTION_CLOSED);
    char want[100];
    snprintf(want, sizeof want, "write to 127.0.0.1:%u failed: ", r.port);
    assert_true(strncmp(r.detail, want, strlen(want)) == 0);
    rig_finish(&r);

    assert_int_equal(pthread_sigmask(SIG_SETMASK, &old_mask, NULL), 0);
    assert_int_equal(sigaction(SIGPIPE, &old_action, NULL), 0);
}

/* What the peer sent before resetting (a TLS alert, say) climbs before the reset is reported. */
static void test_data_before_reset(void **state)
{
    (void)state;
    static rig r;
    rig_init(&r, true);
    open_both(&r);
    uv_buf_t alert = uv_buf_init("alert", 5);
    assert_int_equal(uv_try_write((uv_stream_t *)&r.peer, &alert, 1), 5);
    assert_int_equal(uv_tcp_close_reset(&r.peer, on_handle_closed), 0);
    RUN_UNTIL(&r, r.closes == 1);
    assert_int_equal(r.got_n, 5);
    assert_memory_equal(r.got, "alert", 5);
    assert_err(r.close_err, MQTT5_ERR_CONNECTION_CLOSED);
    char want[100];
    snprintf(want, sizeof want, "read from 127.0.0.1:%u failed: ", r.port);
    assert_true(strncmp(r.detail, want, strlen(want)) == 0);
    rig_finish(&r);
}

/* Write n pattern bytes as `count` iovs of (nearly) equal sizes. */
static void write_pattern_iovs(rig *r, size_t n, size_t count)
{
    uint8_t *p = malloc(n);
    mqtt5_iov *v = calloc(count, sizeof *v);
    assert_non_null(p);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        p[i] = pattern_at(r->written + i);
    size_t at = 0;
    for (size_t k = 0; k < count; k++) {
        size_t len = k + 1 < count ? n / count : n - at;
        v[k] = (mqtt5_iov){p + at, len};
        at += len;
    }
    assert_int_equal(r->f->ops->write(r->f, v, count), 0);
    r->written += n;
    free(v);
    free(p);
}

/* More iovs than one sendmsg() takes: the rest is queued behind, in order; so is a write made
 * while bytes are queued; the graceful close sends them all before the FIN. */
static void test_many_iovs(void **state)
{
    (void)state;
    static rig r;
    rig_init(&r, true);
    open_both(&r);
    write_pattern_iovs(&r, 300000, 300);
    write_pattern_iovs(&r, 1000, 1);
    fill(&r, 1);
    write_pattern_iovs(&r, 70000, 200); /* all behind what is queued */
    assert_true(r.f->ops->pending(r.f) >= 70000);
    r.f->ops->close(r.f, 0);
    peer_read_start(&r);
    RUN_UNTIL(&r, r.closes == 1 && r.peer_eof);
    assert_int_equal(r.close_err, 0);
    assert_int_equal(r.peer_received, r.written);
    assert_int_equal(r.pattern_errors, 0);
    rig_finish(&r);
}

/* Every way a connection ends closes the filter's socket. */
static void test_no_descriptor_left(void **state)
{
    (void)state;
    static rig r;
    int before = test_open_fds();
    rig_init(&r, false); /* refused */
    start(&r, "127.0.0.1", true);
    RUN_UNTIL(&r, r.closes == 1);
    rig_finish(&r);
    rig_init(&r, true); /* closed while connecting */
    start(&r, "127.0.0.1", true);
    r.f->ops->close(r.f, MQTT5_ERR_STOPPED);
    RUN_UNTIL(&r, r.closes == 1);
    rig_finish(&r);
    rig_init(&r, true); /* graceful */
    open_both(&r);
    r.f->ops->close(r.f, 0);
    RUN_UNTIL(&r, r.closes == 1);
    rig_finish(&r);
    rig_init(&r, true); /* abortive with bytes queued */
    open_both(&r);
    fill(&r, 1);
    r.f->ops->close(r.f, MQTT5_ERR_STOPPED);
    RUN_UNTIL(&r, r.closes == 1);
    rig_finish(&r);
    rig_init(&r, true); /* the peer closes */
    open_both(&r);
    uv_close((uv_handle_t *)&r.peer, on_handle_closed);
    RUN_UNTIL(&r, r.closes == 1);
    rig_finish(&r);
    assert_int_equal(test_open_fds(), before);
}

static void test_bad_options(void **state)
{
    (void)state;
    uv_loop_t loop, other;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(uv_loop_init(&other), 0);
    mqtt5_poller poller, other_poller;
    assert_int_equal(mqtt5_poller_init(&poller, &loop), 0);
    assert_int_equal(mqtt5_poller_init(&other_poller, &other), 0);
    uint8_t buf[16];
    poller.read_buf = other_poller.read_buf = buf;
    poller.read_cap = other_poller.read_cap = sizeof buf;
    char host[257];
    memset(host, 'h', 256);
    host[256] = '\0';
    mqtt5_filter *f = (mqtt5_filter *)1;
    mqtt5_tcp_options o = {host, 1883, false, 0, &poller};
    assert_err(mqtt5_tcp_filter_new(&loop, &o, &f), MQTT5_ERR_INVALID_ARGUMENT); /* 256 bytes */
    assert_null(f);
    host[255] = '\0';
    assert_int_equal(mqtt5_tcp_filter_new(&loop, &o, &f), 0);
    f->ops->destroy(f);
    assert_err(mqtt5_tcp_filter_new(NULL, &o, &f), MQTT5_ERR_INVALID_ARGUMENT);
    assert_err(mqtt5_tcp_filter_new(&loop, NULL, &f), MQTT5_ERR_INVALID_ARGUMENT);
    o.host = "";
    assert_err(mqtt5_tcp_filter_new(&loop, &o, &f), MQTT5_ERR_INVALID_ARGUMENT);
    o.host = NULL;
    assert_err(mqtt5_tcp_filter_new(&loop, &o, &f), MQTT5_ERR_INVALID_ARGUMENT);
    o.host = "127.0.0.1";
    poller.read_buf = NULL; /* the poller must come with the loop's read buffer */
    assert_err(mqtt5_tcp_filter_new(&loop, &o, &f), MQTT5_ERR_INVALID_ARGUMENT);
    poller.read_buf = buf;
    o.poller = NULL; /* required */
    assert_err(mqtt5_tcp_filter_new(&loop, &o, &f), MQTT5_ERR_INVALID_ARGUMENT);
    o.poller = &other_poller; /* another loop's */
    assert_err(mqtt5_tcp_filter_new(&loop, &o, &f), MQTT5_ERR_INVALID_ARGUMENT);
    o.poller = &poller;
    assert_int_equal(mqtt5_tcp_filter_new(&loop, &o, &f), 0);
    f->ops->destroy(f);
    mqtt5_poller_close(&poller, NULL);
    mqtt5_poller_close(&other_poller, NULL);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_run(&other, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(uv_loop_close(&other), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_latch),
        cmocka_unit_test(test_read_write_graceful_close),
        cmocka_unit_test(test_read_low_water),
        cmocka_unit_test(test_backpressure),
        cmocka_unit_test(test_abortive_close_with_queue),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_resolved_name),
        cmocka_unit_test(test_unresolvable),
        cmocka_unit_test(test_close_before_connect),
        cmocka_unit_test(test_close_while_resolving),
        cmocka_unit_test(test_close_while_connecting),
        cmocka_unit_test(test_peer_closes),
        cmocka_unit_test(test_peer_resets),
        cmocka_unit_test(test_write_after_reset),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_socket_options),
        cmocka_unit_test(test_write_to_closed_peer_no_sigpipe),
        cmocka_unit_test(test_data_before_reset),
        cmocka_unit_test(test_many_iovs),
        cmocka_unit_test(test_no_descriptor_left),
    };
    return cmocka_run_group_tests_name("tcp", tests, NULL, NULL);
}
