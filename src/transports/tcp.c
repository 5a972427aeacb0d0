/*
 * transports/tcp.c - the TCP filter on libuv. Resolution: IP literals are parsed in place, names
 * go to uv_getaddrinfo (AF_UNSPEC) and every address is tried in order; the last failure is
 * reported (MQTT5_ERR_DNS, CONNECT_REFUSED, or CONNECTION_CLOSED with the errno text).
 * Writes: uv_try_write first; what the kernel does not take is copied once into a queue that one
 * uv_write at a time drains. Close: graceful waits for the queue, then shutdown (FIN), then
 * uv_close; abortive closes at once. Exactly one on_closed goes up, after libuv released every
 * handle and request of the filter, so the upper side may destroy the chain from it.
 *
 * Memory: an open, idle filter is its struct alone (mostly the uv_tcp_t); the host name is
 * borrowed (tcp.h) and an error's detail is allocated only once one is kept (filter.h). What one
 * phase needs is allocated for it: the dial state (resolver and connect requests, addresses)
 * until connected or closed, the write queue and its request while a write is in flight, the
 * linger timer after a failed write, the shutdown request while closing. A request stays
 * allocated until libuv ran its callback, which it does even when cancelled or closed. Without
 * memory for any of them the filter closes with MQTT5_ERR_NOMEM, unless it already kept a real
 * error (then that one is reported).
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

/* Resolving and connecting; freed once connected, or when the close is reported. */
typedef struct tcp_dial {
    uv_getaddrinfo_t gai;
    uv_connect_t req;
    struct addrinfo *addrs, *next_addr; /* what getaddrinfo found; the address being tried */
    struct sockaddr_storage literal;    /* the host, when it is an IP literal */
    bool gai_busy;                      /* getaddrinfo request in flight */
    bool retry_next; /* the handle closes after a failed connect; then try next_addr */
} tcp_dial;

/* The bytes the kernel did not take; exists exactly while its uv_write is in flight. */
typedef struct tcp_queue {
    uv_write_t req;
    buf inflight; /* what req writes */
    buf queued;   /* accepted meanwhile, written next */
} tcp_queue;

typedef struct tcp_conn {
    mqtt5_filter f;
    uv_loop_t *loop;
    const char *host;  /* borrowed from the options (tcp.h) */
    uint8_t *read_buf; /* shared by every connection of the loop */
    uv_tcp_t tcp;
    tcp_dial *dial;       /* while resolving or connecting */
    tcp_queue *queue;     /* while a write is in flight */
    uv_timer_t *linger;   /* after a failed write: bounds the reading that goes on */
    mqtt5_filter_error e; /* first error, reported up once every handle is closed */
    uint32_t read_cap;
    uint8_t state; /* enum tcp_state */
    uint16_t port;
    uint16_t keepalive_s; /* 0 = off */
    bool nodelay;
    bool tcp_live;     /* tcp handle initialised and not yet closed */
    bool above_low;    /* pending reached the low-water mark since the last on_writable */
    bool write_failed; /* writes are dropped; reading goes on to learn why (a TLS alert) */
} tcp_conn;

#define CONN(f) ((tcp_conn *)(f)->ctx)

static void dial_free(tcp_conn *c)
{
    if (!c->dial) return;
    if (c->dial->addrs) uv_freeaddrinfo(c->dial->addrs);
    free(c->dial);
    c->dial = NULL;
}

static void report_closed(tcp_conn *c)
{
    if (c->state == T_CLOSED) return;
    c->state = T_CLOSED;
    dial_free(c);
    MQTT5_LOG(MQTT5_LOG_DEBUG, MQTT5_LOG_TCP, "%s:%u closed (%s%s%s)", c->host, c->port,
              c->e.err ? mqtt5_error_name(c->e.err) : "ok", c->e.detail ? ": " : "",
              c->e.detail ? c->e.detail : "");
    mqtt5_filter_report_closed(&c->f, &c->e);
}

/* Everything released? Then report. */
static void maybe_report(tcp_conn *c)
{
    if (c->state == T_CLOSING && !c->tcp_live && !(c->dial && c->dial->gai_busy) && !c->linger)
        report_closed(c);
}

static void connect_to(tcp_conn *c, const struct sockaddr *sa);

static void on_handle_closed(uv_handle_t *h)
{
    tcp_conn *c = h->data;
    c->tcp_live = false;
    if (c->state == T_CONNECTING && c->dial->retry_next) {
        c->dial->retry_next = false;
        connect_to(c, c->dial->next_addr->ai_addr);
        return;
    }
    maybe_report(c);
}

static void on_linger_closed(uv_handle_t *h);

static void close_handle(tcp_conn *c)
{
    if (c->tcp_live && !uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    if (c->linger && !uv_is_closing((uv_handle_t *)c->linger))
        uv_close((uv_handle_t *)c->linger, on_linger_closed);
}

static void abort_conn(tcp_conn *c, int err)
{
    if (c->state >= T_CLOSING) return;
    c->state = T_CLOSING;
    mqtt5_filter_error_set(&c->e, err, NULL);
    if (c->dial && c->dial->gai_busy) uv_cancel((uv_req_t *)&c->dial->gai);
    close_handle(c);
    maybe_report(c);
}

/* ---- reading ------------------------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    (void)suggested;
    tcp_conn *c = h->data;
    *out = uv_buf_init((char *)c->read_buf, (unsigned)c->read_cap);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    tcp_conn *c = s->data;
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
    mqtt5_filter_error_setf(&c->e, MQTT5_ERR_CONNECTION_CLOSED, "read from %s:%u failed: %s",
                            c->host, c->port, uv_strerror((int)n));
    abort_conn(c, c->e.err);
}

/* ---- writing ------------------------------------------------------------------------------- */

static size_t tcp_pending(const mqtt5_filter *f)
{
    const tcp_conn *c = CONN(f);
    return c->queue ? c->queue->inflight.len + c->queue->queued.len : 0;
}

static int buf_append(buf *b, const uint8_t *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) return MQTT5_ERR_NOMEM;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

static void queue_free(tcp_conn *c)
{
    free(c->queue->inflight.p);
    free(c->queue->queued.p);
    free(c->queue);
    c->queue = NULL;
}

static void start_shutdown(tcp_conn *c);
static void on_written(uv_write_t *req, int status);

static void on_linger_closed(uv_handle_t *h)
{
    tcp_conn *c = h->data;
    free(c->linger);
    c->linger = NULL;
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
 * filter then reports the alert), and close when reading ends or after 200 ms. Without memory
 * for the timer it closes at once, reporting the write failure. No write is in flight here.
 */
static void write_failed(tcp_conn *c, int uverr)
{
    mqtt5_filter_error_setf(&c->e, MQTT5_ERR_CONNECTION_CLOSED, "write to %s:%u failed: %s",
                            c->host, c->port, uv_strerror(uverr));
    if (c->write_failed || c->state >= T_CLOSING) return;
    c->write_failed = true;
    if (c->state != T_OPEN) {
        abort_conn(c, MQTT5_ERR_CONNECTION_CLOSED);
        return;
    }
    c->linger = malloc(sizeof *c->linger);
    if (!c->linger || uv_timer_init(c->loop, c->linger) != 0) {
        free(c->linger);
        c->linger = NULL;
        abort_conn(c, MQTT5_ERR_CONNECTION_CLOSED);
        return;
    }
    c->linger->data = c;
    uv_timer_start(c->linger, on_linger, 200, 0);
}

/* Write what is queued (not empty); no write is in flight. */
static void start_write(tcp_conn *c)
{
    tcp_queue *q = c->queue;
    buf t = q->inflight;
    q->inflight = q->queued;
    q->queued = t;
    q->queued.len = 0;
    uv_buf_t ub = uv_buf_init((char *)q->inflight.p, (unsigned)q->inflight.len);
    int rc = uv_write(&q->req, (uv_stream_t *)&c->tcp, &ub, 1, on_written);
    if (rc != 0) {
        queue_free(c);
        write_failed(c, rc);
    }
}

static void on_written(uv_write_t *req, int status)
{
    tcp_conn *c = req->data;
    if (status < 0) {
        queue_free(c);
        if (status == UV_ECANCELED)
            abort_conn(c, MQTT5_ERR_CONNECTION_CLOSED);
        else
            write_failed(c, status);
        return;
    }
    if (c->queue->queued.len)
        start_write(c);
    else
        queue_free(c);
    if (c->state == T_FLUSHING) {
        if (tcp_pending(&c->f) == 0) start_shutdown(c);
        return;
    }
    if (c->state == T_OPEN && c->above_low && tcp_pending(&c->f) < MQTT5_TCP_LOW_WATER) {
        c->above_low = false;
        if (c->f.upper && c->f.upper->ops->on_writable) c->f.upper->ops->on_writable(c->f.upper);
    }
}

static int queue_nomem(tcp_conn *c, size_t n)
{
    mqtt5_filter_error_setf(&c->e, MQTT5_ERR_NOMEM, "out of memory queueing %zu bytes", n);
    abort_conn(c, MQTT5_ERR_NOMEM);
    return MQTT5_ERR_NOMEM;
}

static int tcp_write(mqtt5_filter *f, const mqtt5_iov *v, size_t n)
{
    tcp_conn *c = CONN(f);
    if (c->state != T_OPEN) return MQTT5_ERR_INVALID_STATE;
    if (c->write_failed || n == 0) return 0; /* failed: the close that follows reports it */
    size_t i = 0, off = 0;
    bool start = !c->queue; /* nothing in flight: try the kernel first */
    if (start) {
        uv_buf_t ub[16];
        size_t m = n < 16 ? n : 16;
        for (size_t k = 0; k < m; k++)
            ub[k] = uv_buf_init((char *)v[k].p, (unsigned)v[k].n);
        int w = uv_try_write((uv_stream_t *)&c->tcp, ub, (unsigned)m);
        if (w < 0 && w != UV_EAGAIN) {
            write_failed(c, w);
            return 0;
        }
        size_t done = w > 0 ? (size_t)w : 0;
        while (i < m && done >= v[i].n)
            done -= v[i++].n;
        off = done;
    }
    size_t rest = 0;
    for (size_t k = i; k < n; k++)
        rest += v[k].n;
    rest -= off;
    if (rest == 0) return 0; /* nothing left to queue */
    if (start) {
        c->queue = calloc(1, sizeof *c->queue);
        if (!c->queue) return queue_nomem(c, rest);
        c->queue->req.data = c;
    }
    for (; i < n; i++, off = 0) {
        if (buf_append(&c->queue->queued, v[i].p + off, v[i].n - off) != 0) {
            if (start) queue_free(c); /* else the write in flight frees it when cancelled */
            return queue_nomem(c, rest);
        }
    }
    if (start) start_write(c);
    if (tcp_pending(f) >= MQTT5_TCP_LOW_WATER) c->above_low = true;
    return 0;
}

/* ---- connecting ---------------------------------------------------------------------------- */

static int map_connect_error(int uverr)
{
    switch (uverr) {
    case UV_ECONNREFUSED:
        return MQTT5_ERR_CONNECT_REFUSED;
    case UV_ETIMEDOUT:
        return MQTT5_ERR_CONNECT_TIMEOUT;
    default:
        return MQTT5_ERR_CONNECTION_CLOSED;
    }
}

static void on_connected(uv_connect_t *req, int status)
{
    tcp_conn *c = req->data;
    if (c->state != T_CONNECTING) return; /* aborted: the handle is closing */
    tcp_dial *d = c->dial;
    if (status < 0) {
        char addr[64] = "?";
        uv_ip_name(d->next_addr ? d->next_addr->ai_addr : (const struct sockaddr *)&d->literal,
                   addr, sizeof addr);
        /* the last address's failure is the one reported */
        mqtt5_filter_error_replacef(&c->e, map_connect_error(status),
                                    "connect to %s port %u failed: %s", addr, c->port,
                                    uv_strerror(status));
        if (d->next_addr && d->next_addr->ai_next) {
            d->next_addr = d->next_addr->ai_next;
            d->retry_next = true; /* on_handle_closed connects to the next address */
            uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
            return;
        }
        abort_conn(c, c->e.err);
        return;
    }
    dial_free(c); /* libuv is done with its requests: this was the last callback */
    c->state = T_OPEN;
    if (c->nodelay) uv_tcp_nodelay(&c->tcp, 1);
    if (c->keepalive_s) uv_tcp_keepalive(&c->tcp, 1, c->keepalive_s);
    int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc != 0) {
        mqtt5_filter_error_setf(&c->e, MQTT5_ERR_CONNECTION_CLOSED, "cannot read: %s",
                                uv_strerror(rc));
        abort_conn(c, MQTT5_ERR_CONNECTION_CLOSED);
        return;
    }
    MQTT5_LOG(MQTT5_LOG_DEBUG, MQTT5_LOG_TCP, "connected to %s:%u", c->host, c->port);
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
    c->dial->req.data = c;
    rc = uv_tcp_connect(&c->dial->req, &c->tcp, sa, on_connected);
    if (rc != 0) {
        mqtt5_filter_error_replacef(&c->e, map_connect_error(rc),
                                    "connect to %s port %u failed: %s", c->host, c->port,
                                    uv_strerror(rc));
        abort_conn(c, c->e.err);
    }
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    tcp_conn *c = req->data;
    c->dial->gai_busy = false;
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
    c->dial->addrs = c->dial->next_addr = res;
    connect_to(c, res->ai_addr);
}

static int tcp_connect(mqtt5_filter *f)
{
    tcp_conn *c = CONN(f);
    if (c->state != T_IDLE) return MQTT5_ERR_INVALID_STATE;
    tcp_dial *d = c->dial = calloc(1, sizeof *c->dial);
    if (!d) {
        mqtt5_filter_error_setf(&c->e, MQTT5_ERR_NOMEM, "out of memory connecting to %s:%u",
                                c->host, c->port);
        abort_conn(c, MQTT5_ERR_NOMEM);
        return 0;
    }
    struct sockaddr_in *v4 = (struct sockaddr_in *)&d->literal;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&d->literal;
    if (uv_ip4_addr(c->host, c->port, v4) == 0 || uv_ip6_addr(c->host, c->port, v6) == 0) {
        connect_to(c, (const struct sockaddr *)&d->literal);
        return 0;
    }
    c->state = T_RESOLVING;
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    char port[8];
    snprintf(port, sizeof port, "%u", c->port);
    d->gai.data = c;
    int rc = uv_getaddrinfo(c->loop, &d->gai, on_resolved, c->host, port, &hints);
    if (rc != 0) {
        mqtt5_filter_error_setf(&c->e, MQTT5_ERR_DNS, "cannot resolve '%s': %s", c->host,
                                uv_strerror(rc));
        abort_conn(c, MQTT5_ERR_DNS);
        return 0;
    }
    d->gai_busy = true;
    MQTT5_LOG(MQTT5_LOG_DEBUG, MQTT5_LOG_DNS, "resolving %s", c->host);
    return 0;
}

/* ---- closing ------------------------------------------------------------------------------- */

static void on_shutdown_done(uv_shutdown_t *req, int status)
{
    tcp_conn *c = req->data;
    (void)status;
    free(req);
    c->state = T_CLOSING;
    close_handle(c);
}

/* Flushed: send FIN, then close. Without memory for the request: close at once, and a clean
 * close becomes MQTT5_ERR_NOMEM. */
static void start_shutdown(tcp_conn *c)
{
    uv_shutdown_t *req = malloc(sizeof *req);
    if (req) {
        req->data = c;
        if (uv_shutdown(req, (uv_stream_t *)&c->tcp, on_shutdown_done) == 0) return;
        free(req);
    } else if (c->e.err == 0) {
        mqtt5_filter_error_replacef(&c->e, MQTT5_ERR_NOMEM,
                                    "out of memory closing the connection to %s:%u", c->host,
                                    c->port);
    }
    c->state = T_CLOSING;
    close_handle(c);
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

/* Only after on_closed (or before connect): no dial, queue or timer is left then. */
static void tcp_destroy(mqtt5_filter *f)
{
    tcp_conn *c = CONN(f);
    mqtt5_filter_error_free(&c->e);
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
    if (!loop || !o || !o->host || !o->host[0] || strlen(o->host) > 255 || !o->read_buf)
        return MQTT5_ERR_INVALID_ARGUMENT;
    tcp_conn *c = calloc(1, sizeof *c);
    if (!c) return MQTT5_ERR_NOMEM;
    c->f.ops = &tcp_ops;
    c->f.ctx = c;
    c->loop = loop;
    c->host = o->host;
    c->read_buf = o->read_buf;
    c->read_cap = o->read_cap > UINT32_MAX ? UINT32_MAX : (uint32_t)o->read_cap;
    c->port = o->port;
    c->keepalive_s = o->keepalive_s;
    c->nodelay = o->nodelay;
    *out = &c->f;
    return 0;
}
