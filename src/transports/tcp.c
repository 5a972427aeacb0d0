/*
 * transports/tcp.c - the TCP filter on libuv. Resolution: IP literals are parsed in place, names
 * go to uv_getaddrinfo (AF_UNSPEC) and every address is tried in order; the last failure is
 * reported (MQTT5_ERR_DNS, CONNECT_REFUSED, or CONNECTION_CLOSED with the errno text).
 * Writes: uv_try_write first; what the kernel does not take is copied once into a queue that one
 * uv_write at a time drains. Close: graceful waits for the queue, then shutdown (FIN), then
 * uv_close; abortive closes at once. Exactly one on_closed goes up, after libuv released every
 * handle and request of the filter, so the upper side may destroy the chain from it.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt5/error.h"
#include "runtime/log_internal.h"
#include "transports/tcp.h"

enum tcp_state { T_IDLE, T_RESOLVING, T_CONNECTING, T_OPEN, T_FLUSHING, T_CLOSING, T_CLOSED };

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

typedef struct tcp_conn {
    mqtt5_filter f;
    uv_loop_t *loop;
    mqtt5_tcp_options opt;
    char host[256];
    enum tcp_state state;
    uv_tcp_t tcp;
    bool tcp_live;   /* tcp handle initialised and not yet closed */
    bool gai_busy;   /* getaddrinfo request in flight */
    bool write_busy; /* uv_write in flight */
    bool above_low;  /* pending reached the low-water mark since the last on_writable */
    bool retry_next; /* the handle closes after a failed connect; then try next_addr */
    bool write_failed; /* writes are dropped; reading goes on to learn why (a TLS alert) */
    uv_timer_t linger; /* bounds that reading */
    bool linger_live;
    uv_getaddrinfo_t gai;
    uv_connect_t conn_req;
    uv_write_t write_req;
    uv_shutdown_t shut_req;
    struct addrinfo *addrs, *next_addr;
    struct sockaddr_storage literal;
    buf inflight, queued;
    mqtt5_filter_error e; /* first error, reported up once every handle is closed */
} tcp_conn;

#define CONN(f) ((tcp_conn *)(f)->ctx)

static void report_closed(tcp_conn *c)
{
    if (c->state == T_CLOSED) return;
    c->state = T_CLOSED;
    if (c->addrs) {
        uv_freeaddrinfo(c->addrs);
        c->addrs = NULL;
    }
    MQTT5_LOG(MQTT5_LOG_DEBUG, MQTT5_LOG_TCP, "%s:%u closed (%s%s%s)", c->host, c->opt.port,
              c->e.err ? mqtt5_error_name(c->e.err) : "ok", c->e.detail[0] ? ": " : "", c->e.detail);
    mqtt5_filter_report_closed(&c->f, &c->e);
}

/* Everything released? Then report. */
static void maybe_report(tcp_conn *c)
{
    if (c->state == T_CLOSING && !c->tcp_live && !c->gai_busy && !c->linger_live)
        report_closed(c);
}

static void connect_to(tcp_conn *c, const struct sockaddr *sa);

static void on_handle_closed(uv_handle_t *h)
{
    tcp_conn *c = h->data;
    c->tcp_live = false;
    c->write_busy = false;
    if (c->retry_next && c->state == T_CONNECTING) {
        c->retry_next = false;
        connect_to(c, c->next_addr->ai_addr);
        return;
    }
    maybe_report(c);
}

static void on_linger_closed(uv_handle_t *h);

static void close_handle(tcp_conn *c)
{
    if (c->tcp_live && !uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    if (c->linger_live && !uv_is_closing((uv_handle_t *)&c->linger))
        uv_close((uv_handle_t *)&c->linger, on_linger_closed);
}

static void abort_conn(tcp_conn *c, int err)
{
    if (c->state >= T_CLOSING) return;
    c->state = T_CLOSING;
    mqtt5_filter_error_set(&c->e, err, NULL);
    if (c->gai_busy) uv_cancel((uv_req_t *)&c->gai);
    close_handle(c);
    maybe_report(c);
}

/* ---- reading ------------------------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    (void)suggested;
    tcp_conn *c = h->data;
    *out = uv_buf_init((char *)c->opt.read_buf, (unsigned)c->opt.read_cap);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    tcp_conn *c = s->data;
    (void)b;
    if (n > 0) {
        if (c->state == T_OPEN || c->state == T_FLUSHING) {
            if (c->f.upper && c->f.upper->ops->on_read)
                c->f.upper->ops->on_read(c->f.upper, (const uint8_t *)b->base, (size_t)n);
        }
        return;
    }
    if (n == 0) return;
    if (n == UV_EOF) {
        mqtt5_filter_error_setf(&c->e, 0, "the server closed the connection");
        abort_conn(c, c->e.err);
        return;
    }
    mqtt5_filter_error_setf(&c->e, MQTT5_ERR_CONNECTION_CLOSED, "read from %s:%u failed: %s", c->host, c->opt.port,
          uv_strerror((int)n));
    abort_conn(c, c->e.err);
}

/* ---- writing ------------------------------------------------------------------------------- */

static size_t tcp_pending(const mqtt5_filter *f)
{
    const tcp_conn *c = CONN(f);
    return c->inflight.len + c->queued.len;
}

static int buf_append(buf *b, const uint8_t *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->len + n) cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) return MQTT5_ERR_NOMEM;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

static void start_shutdown(tcp_conn *c);
static void on_written(uv_write_t *req, int status);

static void on_linger_closed(uv_handle_t *h)
{
    tcp_conn *c = h->data;
    c->linger_live = false;
    maybe_report(c);
}

static void on_linger(uv_timer_t *t)
{
    tcp_conn *c = t->data;
    abort_conn(c, c->e.err);
}

/*
 * A write failed (typically ECONNRESET). The peer often explained itself first: a TLS 1.3
 * server rejecting our certificate sends alert 116 and resets the connection while our CONNECT
 * is on its way. So keep reading briefly, letting the bytes already received climb (the TLS
 * filter then reports the alert), and close when reading ends or after 200 ms.
 */
static void write_failed(tcp_conn *c, int uverr)
{
    mqtt5_filter_error_setf(&c->e, MQTT5_ERR_CONNECTION_CLOSED, "write to %s:%u failed: %s", c->host, c->opt.port,
          uv_strerror(uverr));
    if (c->write_failed || c->state >= T_CLOSING) return;
    c->write_failed = true;
    c->inflight.len = c->queued.len = 0;
    if (c->state != T_OPEN || uv_timer_init(c->loop, &c->linger) != 0) {
        abort_conn(c, MQTT5_ERR_CONNECTION_CLOSED);
        return;
    }
    c->linger.data = c;
    c->linger_live = true;
    uv_timer_start(&c->linger, on_linger, 200, 0);
}

static void start_write(tcp_conn *c)
{
    if (c->write_busy || c->queued.len == 0) return;
    buf t = c->inflight;
    c->inflight = c->queued;
    c->queued = t;
    c->queued.len = 0;
    uv_buf_t ub = uv_buf_init((char *)c->inflight.p, (unsigned)c->inflight.len);
    int rc = uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &ub, 1, on_written);
    if (rc != 0) {
        write_failed(c, rc);
        return;
    }
    c->write_busy = true;
}

static void on_written(uv_write_t *req, int status)
{
    tcp_conn *c = req->data;
    c->write_busy = false;
    c->inflight.len = 0;
    if (status < 0) {
        if (status == UV_ECANCELED)
            abort_conn(c, MQTT5_ERR_CONNECTION_CLOSED);
        else
            write_failed(c, status);
        return;
    }
    start_write(c);
    if (c->state == T_FLUSHING) {
        if (tcp_pending(&c->f) == 0) start_shutdown(c);
        return;
    }
    if (c->state == T_OPEN && c->above_low && tcp_pending(&c->f) < MQTT5_TCP_LOW_WATER) {
        c->above_low = false;
        if (c->f.upper && c->f.upper->ops->on_writable) c->f.upper->ops->on_writable(c->f.upper);
    }
}

static int tcp_write(mqtt5_filter *f, const mqtt5_iov *v, size_t n)
{
    tcp_conn *c = CONN(f);
    if (c->state != T_OPEN) return MQTT5_ERR_INVALID_STATE;
    if (c->write_failed || n == 0) return 0; /* failed: the close that follows reports it */
    size_t i = 0, off = 0;
    if (!c->write_busy && c->queued.len == 0) {
        uv_buf_t ub[16] = {{0}};
        size_t m = n < 16 ? n : 16, total = 0;
        for (size_t k = 0; k < m; k++) {
            ub[k] = uv_buf_init((char *)v[k].p, (unsigned)v[k].n);
            total += v[k].n;
        }
        int w = uv_try_write((uv_stream_t *)&c->tcp, ub, (unsigned)m);
        if (w < 0 && w != UV_EAGAIN) {
            write_failed(c, w);
            return 0;
        }
        size_t done = w > 0 ? (size_t)w : 0;
        (void)total;
        while (i < m && done >= v[i].n) done -= v[i++].n;
        off = done;
    }
    for (; i < n; i++, off = 0) {
        if (buf_append(&c->queued, v[i].p + off, v[i].n - off) != 0) {
            mqtt5_filter_error_setf(&c->e, MQTT5_ERR_NOMEM, "out of memory queueing %zu bytes", v[i].n - off);
            abort_conn(c, MQTT5_ERR_NOMEM);
            return MQTT5_ERR_NOMEM;
        }
    }
    start_write(c);
    if (tcp_pending(f) >= MQTT5_TCP_LOW_WATER) c->above_low = true;
    return 0;
}

/* ---- connecting ---------------------------------------------------------------------------- */

static int map_connect_error(int uverr)
{
    switch (uverr) {
    case UV_ECONNREFUSED: return MQTT5_ERR_CONNECT_REFUSED;
    case UV_ETIMEDOUT: return MQTT5_ERR_CONNECT_TIMEOUT;
    default: return MQTT5_ERR_CONNECTION_CLOSED;
    }
}

static void on_connected(uv_connect_t *req, int status)
{
    tcp_conn *c = req->data;
    if (c->state != T_CONNECTING) return; /* aborted: the handle is closing */
    if (status < 0) {
        char addr[64] = "?";
        if (c->next_addr)
            uv_ip_name(c->next_addr->ai_addr, addr, sizeof addr);
        else
            uv_ip_name((const struct sockaddr *)&c->literal, addr, sizeof addr);
        /* the last address's failure is the one reported */
        mqtt5_filter_error_replacef(&c->e, map_connect_error(status), "connect to %s port %u failed: %s", addr, c->opt.port,
              uv_strerror(status));
        if (c->next_addr && c->next_addr->ai_next) {
            c->next_addr = c->next_addr->ai_next;
            c->retry_next = true; /* on_handle_closed connects to the next address */
            uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
            return;
        }
        abort_conn(c, c->e.err);
        return;
    }
    c->state = T_OPEN;
    if (c->opt.nodelay) uv_tcp_nodelay(&c->tcp, 1);
    if (c->opt.keepalive_s) uv_tcp_keepalive(&c->tcp, 1, c->opt.keepalive_s);
    int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc != 0) {
        mqtt5_filter_error_setf(&c->e, MQTT5_ERR_CONNECTION_CLOSED, "cannot read: %s", uv_strerror(rc));
        abort_conn(c, MQTT5_ERR_CONNECTION_CLOSED);
        return;
    }
    MQTT5_LOG(MQTT5_LOG_DEBUG, MQTT5_LOG_TCP, "connected to %s:%u", c->host, c->opt.port);
    if (c->f.upper && c->f.upper->ops->on_open) c->f.upper->ops->on_open(c->f.upper);
}

static void connect_to(tcp_conn *c, const struct sockaddr *sa)
{
    c->state = T_CONNECTING;
    int rc = uv_tcp_init(c->loop, &c->tcp);
    if (rc != 0) {
        mqtt5_filter_error_setf(&c->e, MQTT5_ERR_IO, "uv_tcp_init: %s", uv_strerror(rc));
        abort_conn(c, MQTT5_ERR_IO);
        return;
    }
    c->tcp.data = c;
    c->tcp_live = true;
    c->conn_req.data = c;
    rc = uv_tcp_connect(&c->conn_req, &c->tcp, sa, on_connected);
    if (rc != 0) {
        mqtt5_filter_error_replacef(&c->e, map_connect_error(rc), "connect to %s port %u failed: %s", c->host, c->opt.port,
              uv_strerror(rc));
        abort_conn(c, c->e.err);
    }
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    tcp_conn *c = req->data;
    c->gai_busy = false;
    if (c->state != T_RESOLVING) { /* aborted meanwhile */
        if (res) uv_freeaddrinfo(res);
        maybe_report(c);
        return;
    }
    if (status < 0 || !res) {
        mqtt5_filter_error_setf(&c->e, MQTT5_ERR_DNS, "cannot resolve '%s': %s", c->host,
              status < 0 ? uv_strerror(status) : "no address");
        if (res) uv_freeaddrinfo(res);
        abort_conn(c, MQTT5_ERR_DNS);
        return;
    }
    c->addrs = c->next_addr = res;
    connect_to(c, res->ai_addr);
}

static int tcp_connect(mqtt5_filter *f)
{
    tcp_conn *c = CONN(f);
    if (c->state != T_IDLE) return MQTT5_ERR_INVALID_STATE;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&c->literal;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&c->literal;
    if (uv_ip4_addr(c->host, c->opt.port, v4) == 0 || uv_ip6_addr(c->host, c->opt.port, v6) == 0) {
        connect_to(c, (const struct sockaddr *)&c->literal);
        return 0;
    }
    c->state = T_RESOLVING;
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    char port[8];
    snprintf(port, sizeof port, "%u", c->opt.port);
    c->gai.data = c;
    int rc = uv_getaddrinfo(c->loop, &c->gai, on_resolved, c->host, port, &hints);
    if (rc != 0) {
        mqtt5_filter_error_setf(&c->e, MQTT5_ERR_DNS, "cannot resolve '%s': %s", c->host, uv_strerror(rc));
        abort_conn(c, MQTT5_ERR_DNS);
        return 0;
    }
    c->gai_busy = true;
    MQTT5_LOG(MQTT5_LOG_DEBUG, MQTT5_LOG_DNS, "resolving %s", c->host);
    return 0;
}

/* ---- closing ------------------------------------------------------------------------------- */

static void on_shutdown_done(uv_shutdown_t *req, int status)
{
    tcp_conn *c = req->data;
    (void)status;
    c->state = T_CLOSING;
    close_handle(c);
}

static void start_shutdown(tcp_conn *c)
{
    c->shut_req.data = c;
    if (uv_shutdown(&c->shut_req, (uv_stream_t *)&c->tcp, on_shutdown_done) != 0) {
        c->state = T_CLOSING;
        close_handle(c);
    }
}

static void tcp_close(mqtt5_filter *f, int err)
{
    tcp_conn *c = CONN(f);
    if (c->state >= T_FLUSHING && !(c->state == T_FLUSHING && err != 0)) return;
    if (c->state == T_IDLE) {
        mqtt5_filter_error_set(&c->e, err, NULL);
        c->state = T_CLOSING;
        maybe_report(c);
        return;
    }
    if (err == 0 && c->state == T_OPEN) {
        mqtt5_filter_error_set(&c->e, 0, NULL);
        c->state = T_FLUSHING;
        uv_read_stop((uv_stream_t *)&c->tcp);
        if (tcp_pending(f) == 0) start_shutdown(c);
        return;
    }
    abort_conn(c, err);
}

static int tcp_query(const mqtt5_filter *f, int what, void *out)
{
    (void)f;
    (void)what;
    (void)out;
    return MQTT5_ERR_NOT_AVAILABLE;
}

static void tcp_destroy(mqtt5_filter *f)
{
    tcp_conn *c = CONN(f);
    free(c->inflight.p);
    free(c->queued.p);
    if (c->addrs) uv_freeaddrinfo(c->addrs);
    free(c);
}

static const mqtt5_filter_ops tcp_ops = {
    .name = "tcp",
    .connect = tcp_connect,
    .write = tcp_write,
    .pending = tcp_pending,
    .close = tcp_close,
    .query = tcp_query,
    .destroy = tcp_destroy,
};

int mqtt5_tcp_filter_new(uv_loop_t *loop, const mqtt5_tcp_options *o, mqtt5_filter **out)
{
    *out = NULL;
    if (!loop || !o || !o->host || !o->host[0] || strlen(o->host) >= 256 || !o->read_buf)
        return MQTT5_ERR_INVALID_ARGUMENT;
    tcp_conn *c = calloc(1, sizeof *c);
    if (!c) return MQTT5_ERR_NOMEM;
    c->loop = loop;
    c->opt = *o;
    memcpy(c->host, o->host, strlen(o->host) + 1);
    c->opt.host = c->host;
    c->f.ops = &tcp_ops;
    c->f.ctx = c;
    c->write_req.data = c;
    *out = &c->f;
    return 0;
}
