/*
 * transports/tcp.c - the TCP filter on libuv. Resolution: IP literals are parsed in place, names
 * go to uv_getaddrinfo (AF_UNSPEC) and every address is tried in order; the last failure is
 * reported (MQTT5_ERR_DNS, CONNECT_REFUSED, or CONNECTION_CLOSED with the errno text).
 *
 * The socket is the filter's own: a non-blocking POSIX socket watched by the loop's poller
 * (transports/poller.h: on Linux one epoll set per loop), not a uv_tcp_t nor a uv_poll_t of its
 * own. Every connected client holds one of these filters for as long as it is connected, mostly
 * idle, and libuv's uv_tcp_t alone is 248 bytes (x86-64, libuv 1.44), a uv_poll_t 160, where a
 * mqtt5_poller_io is 24; the few socket calls below are the price of that. The socket's
 * descriptor lives in the io (mqtt5_poller_io_fd), not in a field of its own, and the loop is
 * the poller's.
 *
 * Connect: socket() with TCP_NODELAY (when asked) and keep-alive (TCP_KEEPIDLE keepalive_s,
 * TCP_KEEPINTVL 1 s, TCP_KEEPCNT 10, as uv_tcp_keepalive sets them), a non-blocking connect()
 * watched for writability, then SO_ERROR; a failed address closes its socket and the next one is
 * tried. Reads: on readability (which the upper side may raise to a number of bytes with
 * set_read_low_water: SO_RCVLOWAT, for coalesced acks), up to 32 reads into the loop's shared
 * buffer while they fill it (as libuv's stream reads do); each is passed up at once. Writes:
 * sendmsg() first, always with MSG_NOSIGNAL (a caller-driven loop runs on the user's thread, which
 * may not block SIGPIPE); what the kernel does not take is copied once into a queue that is sent
 * from as the socket becomes writable (the io watches writability only while the queue exists).
 * Close: graceful waits for the queue, then shutdown(SHUT_WR) (FIN), then closes; abortive closes
 * at once. Closing is mqtt5_poller_io_close: out of the poller, close() of the descriptor, and its
 * callback later, as uv_close's. Exactly one on_closed goes up, only once the poller and libuv
 * released every io, handle and request of the filter (from their close callbacks, or at once
 * when none was open), so the upper side may destroy the chain from it.
 *
 * The poller reports an error condition of the socket (EPOLLERR: a reset, a refused connect) as
 * MQTT5_POLLER_ERROR, level-triggered, as libuv's uv_poll_t reported it with UV_EBADF; the filter
 * then learns the real error the way a stream would: connecting, from SO_ERROR; open, by reading
 * what the peer sent before (a TLS alert) until recv() returns the error; flushing, from send().
 * Each of these ends in a close (or the next address), so the condition is not reported again.
 *
 * Memory: an open, idle filter is its struct alone (120 bytes on x86-64; 272 when it held a
 * uv_poll_t of its own), and on Linux its socket is not one of libuv's watchers (the loop's epoll
 * set is); the host name is borrowed (tcp.h) and an error's detail is allocated only once one is
 * kept (filter.h). What one phase needs is allocated for it: the dial state (resolver request,
 * addresses) until connected or closed, the write queue while bytes wait for the kernel, the
 * linger timer after a failed write. A request stays allocated until libuv ran its callback,
 * which it does even when cancelled. Without memory for any of them the filter closes with
 * MQTT5_ERR_NOMEM, unless it already kept a real error (then that one is reported).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mqtt5/error.h"
#include "runtime/log_internal.h"
#include "transports/tcp.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* then SO_NOSIGPIPE is set on the socket (BSDs, macOS) */
#endif

/* iovs handed to one sendmsg(); the rest of a longer write is queued */
#define TCP_IOV_MAX 64

enum tcp_state { T_IDLE, T_RESOLVING, T_CONNECTING, T_OPEN, T_FLUSHING, T_CLOSING, T_CLOSED };

/* Resolving and connecting; freed once connected, or when the close is reported. */
typedef struct tcp_dial {
    uv_getaddrinfo_t gai;
    struct addrinfo *addrs, *next_addr; /* what getaddrinfo found; the address being tried */
    struct sockaddr_storage literal;    /* the host, when it is an IP literal */
    bool gai_busy;                      /* getaddrinfo request in flight */
    bool retry_next; /* the io closes after a failed connect; then try next_addr */
} tcp_dial;

/* The bytes the kernel did not take: p[off, len) is pending; exists exactly while not empty. */
typedef struct tcp_queue {
    uint8_t *p;
    size_t off, len, cap;
} tcp_queue;

typedef struct tcp_conn {
    mqtt5_filter f;
    mqtt5_poller *poller; /* the loop's; poller->loop runs the resolver and the linger timer */
    const char *host;     /* borrowed from the options (tcp.h) */
    mqtt5_poller_io io;   /* watches the socket, whose descriptor it holds */
    tcp_dial *dial;       /* while resolving or connecting */
    tcp_queue *queue;     /* while bytes wait for the kernel */
    uv_timer_t *linger;   /* after a failed write: bounds the reading that goes on */
    mqtt5_filter_error e; /* first error, reported up once every handle is closed */
    uint16_t port;
    uint16_t keepalive_s; /* 0 = off */
    uint16_t read_low;    /* SO_RCVLOWAT of the socket (1: the kernel's default) */
    unsigned state : 3;   /* enum tcp_state */
    bool nodelay : 1;
    bool io_live : 1;      /* io started (its socket open) and its close callback not yet run */
    bool above_low : 1;    /* pending reached the low-water mark since the last on_writable */
    bool write_failed : 1; /* writes are dropped; reading goes on to learn why (a TLS alert) */
} tcp_conn;

#define CONN(f) ((tcp_conn *)(f)->ctx)

static tcp_conn *conn_of_io(mqtt5_poller_io *io)
{
    return (tcp_conn *)((char *)io - offsetof(tcp_conn, io));
}

/* The socket; only while io_live and the io is not closing. */
static int sock_of(const tcp_conn *c)
{
    return mqtt5_poller_io_fd(&c->io);
}

/* libuv's error code for an errno value (its texts are the ones reported). */
static int sys_err(int e)
{
    return uv_translate_sys_error(e);
}

static void dial_free(tcp_conn *c)
{
    if (!c->dial) return;
    if (c->dial->addrs) uv_freeaddrinfo(c->dial->addrs);
    free(c->dial);
    c->dial = NULL;
}

static void queue_free(tcp_conn *c)
{
    if (!c->queue) return;
    free(c->queue->p);
    free(c->queue);
    c->queue = NULL;
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
    if (c->state == T_CLOSING && !c->io_live && !(c->dial && c->dial->gai_busy) && !c->linger)
        report_closed(c);
}

static void connect_to(tcp_conn *c);

static void on_io_closed(mqtt5_poller_io *io)
{
    tcp_conn *c = conn_of_io(io);
    c->io_live = false;
    if (c->state == T_CONNECTING && c->dial->retry_next) {
        c->dial->retry_next = false;
        connect_to(c);
        return;
    }
    maybe_report(c);
}

/* Stop watching the socket and close it; on_io_closed follows (later, from the loop). */
static void close_socket(tcp_conn *c)
{
    if (!c->io_live || mqtt5_poller_io_is_closing(&c->io)) return;
    mqtt5_poller_io_close(c->poller, &c->io, on_io_closed);
}

static void on_linger_closed(uv_handle_t *h);

static void close_handles(tcp_conn *c)
{
    queue_free(c); /* nothing of it reaches the kernel any more */
    close_socket(c);
    if (c->linger && !uv_is_closing((uv_handle_t *)c->linger))
        uv_close((uv_handle_t *)c->linger, on_linger_closed);
}

static void abort_conn(tcp_conn *c, int err)
{
    if (c->state >= T_CLOSING) return;
    c->state = T_CLOSING;
    mqtt5_filter_error_set(&c->e, err, NULL);
    if (c->dial && c->dial->gai_busy) uv_cancel((uv_req_t *)&c->dial->gai);
    close_handles(c);
    maybe_report(c);
}

static void on_io(mqtt5_poller_io *io, unsigned events);

/* Watch what the state needs: writability while connecting or while bytes are queued,
 * readability while open. False when that failed (the filter is closing then). */
static bool watch(tcp_conn *c)
{
    unsigned ev = 0;
    if (c->state == T_CONNECTING) ev = MQTT5_POLLER_WRITABLE;
    if (c->state == T_OPEN) ev = MQTT5_POLLER_READABLE;
    if ((c->state == T_OPEN || c->state == T_FLUSHING) && c->queue) ev |= MQTT5_POLLER_WRITABLE;
    if (ev == c->io.events || sock_of(c) < 0) return true;
    int rc = mqtt5_poller_io_modify(c->poller, &c->io, ev);
    if (rc != 0) {
        mqtt5_filter_error_setf(&c->e, MQTT5_ERR_CONNECTION_CLOSED, "cannot poll %s:%u: %s",
                                c->host, c->port, uv_strerror(rc));
        abort_conn(c, MQTT5_ERR_CONNECTION_CLOSED);
        return false;
    }
    return true;
}

/* ---- reading ------------------------------------------------------------------------------- */

static void read_failed(tcp_conn *c, int uverr)
{
    mqtt5_filter_error_setf(&c->e, MQTT5_ERR_CONNECTION_CLOSED, "read from %s:%u failed: %s",
                            c->host, c->port, uv_strerror(uverr));
    abort_conn(c, c->e.err);
}

/*
 * Read what the socket has (state T_OPEN) and pass it up. Up to 32 reads while they fill the
 * buffer; with `drain`, until the socket has nothing more or fails (an error condition).
 * Returns with the state no longer T_OPEN when the stream ended, failed or the upper side closed.
 */
static void read_some(tcp_conn *c, bool drain)
{
    uint8_t *buf = c->poller->read_buf; /* the loop's, shared by its connections */
    size_t cap = c->poller->read_cap;
    if (!buf || cap == 0) {
        read_failed(c, UV_ENOBUFS);
        return;
    }
    int fd = sock_of(c);
    for (int count = 32; drain || count > 0; count--) {
        ssize_t n = recv(fd, buf, cap, 0);
        if (n > 0) {
            mqtt5_filter_report_read(&c->f, buf, (size_t)n);
            if (c->state != T_OPEN) return; /* closed meanwhile: the socket may be gone */
            if (!drain && (size_t)n < cap) return;
            continue;
        }
        if (n == 0) {
            mqtt5_filter_error_setf(&c->e, 0, "the server closed the connection");
            abort_conn(c, c->e.err);
            return;
        }
        int e = errno;
        if (e == EINTR) continue;
        if (e == EAGAIN || e == EWOULDBLOCK) return;
        read_failed(c, sys_err(e));
        return;
    }
}

/* ---- writing ------------------------------------------------------------------------------- */

static size_t tcp_pending(const mqtt5_filter *f)
{
    const tcp_conn *c = CONN(f);
    return c->queue ? c->queue->len - c->queue->off : 0;
}

static int queue_append(tcp_queue *q, const uint8_t *p, size_t n)
{
    if (q->len + n > q->cap && q->off) { /* move what is pending to the front first */
        memmove(q->p, q->p + q->off, q->len - q->off);
        q->len -= q->off;
        q->off = 0;
    }
    if (q->len + n > q->cap) {
        size_t cap = q->cap ? q->cap : 16384;
        while (cap < q->len + n)
            cap *= 2;
        uint8_t *np = realloc(q->p, cap);
        if (!np) return MQTT5_ERR_NOMEM;
        q->p = np;
        q->cap = cap;
    }
    memcpy(q->p + q->len, p, n);
    q->len += n;
    return 0;
}

static void start_shutdown(tcp_conn *c);

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
 * for the timer it closes at once, reporting the write failure. No bytes are queued here.
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
    if (!c->linger || uv_timer_init(c->poller->loop, c->linger) != 0) {
        free(c->linger);
        c->linger = NULL;
        abort_conn(c, MQTT5_ERR_CONNECTION_CLOSED);
        return;
    }
    c->linger->data = c;
    uv_timer_start(c->linger, on_linger, 200, 0);
    watch(c); /* readability only */
}

/* The socket is writable and bytes are queued (state T_OPEN or T_FLUSHING): send them. */
static void flush_queue(tcp_conn *c)
{
    tcp_queue *q = c->queue;
    int fd = sock_of(c);
    while (q->off < q->len) {
        ssize_t w = send(fd, q->p + q->off, q->len - q->off, MSG_NOSIGNAL);
        if (w >= 0) {
            q->off += (size_t)w;
            continue;
        }
        int e = errno;
        if (e == EINTR) continue;
        if (e == EAGAIN || e == EWOULDBLOCK) break;
        queue_free(c);
        write_failed(c, sys_err(e));
        return;
    }
    if (q->off == q->len) queue_free(c);
    if (c->state == T_FLUSHING) {
        if (!c->queue) start_shutdown(c);
        return;
    }
    if (!c->queue && !watch(c)) return;
    if (c->above_low && tcp_pending(&c->f) < MQTT5_TCP_LOW_WATER) {
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
    bool start = !c->queue; /* nothing queued: try the kernel first */
    if (start) {
        struct iovec iov[TCP_IOV_MAX];
        size_t m = n < TCP_IOV_MAX ? n : TCP_IOV_MAX;
        for (size_t k = 0; k < m; k++) {
            iov[k].iov_base = (void *)v[k].p;
            iov[k].iov_len = v[k].n;
        }
        struct msghdr mh;
        memset(&mh, 0, sizeof mh);
        mh.msg_iov = iov;
        mh.msg_iovlen = m;
        ssize_t w;
        int e = 0;
        do {
            w = sendmsg(sock_of(c), &mh, MSG_NOSIGNAL);
            e = w < 0 ? errno : 0;
        } while (e == EINTR);
        if (w < 0 && e != EAGAIN && e != EWOULDBLOCK) {
            write_failed(c, sys_err(e));
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
    }
    for (; i < n; i++, off = 0)
        if (queue_append(c->queue, v[i].p + off, v[i].n - off) != 0) return queue_nomem(c, rest);
    if (start && !watch(c)) return 0; /* closing: the close reports it */
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

static const struct sockaddr *dial_addr(const tcp_dial *d)
{
    return d->next_addr ? d->next_addr->ai_addr : (const struct sockaddr *)&d->literal;
}

/* Connecting to the current address failed: keep that error (the last one is reported) and try
 * the next address, once the socket of this one is closed. */
static void connect_failed(tcp_conn *c, int uverr)
{
    tcp_dial *d = c->dial;
    char addr[64] = "?";
    uv_ip_name(dial_addr(d), addr, sizeof addr);
    mqtt5_filter_error_replacef(&c->e, map_connect_error(uverr), "connect to %s port %u failed: %s",
                                addr, c->port, uv_strerror(uverr));
    if (!d->next_addr || !d->next_addr->ai_next) {
        abort_conn(c, c->e.err);
        return;
    }
    d->next_addr = d->next_addr->ai_next;
    if (c->io_live) {
        d->retry_next = true; /* on_io_closed connects to the next address */
        close_socket(c);
    } else {
        connect_to(c);
    }
}

/* The connect finished (the socket became writable, or the poller saw an error on it). */
static void connect_done(tcp_conn *c, int status)
{
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(sock_of(c), SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) soerr = errno;
    if (soerr == EINPROGRESS && status >= 0) return; /* not yet: a spurious wake-up */
    int err = soerr ? sys_err(soerr) : status;
    if (err < 0) {
        connect_failed(c, err);
        return;
    }
    dial_free(c);
    c->state = T_OPEN;
    if (!watch(c)) return;
    MQTT5_LOG(MQTT5_LOG_DEBUG, MQTT5_LOG_TCP, "connected to %s:%u", c->host, c->port);
    if (c->f.upper && c->f.upper->ops->on_open) c->f.upper->ops->on_open(c->f.upper);
}

/* Options are set as libuv's uv_tcp_nodelay and uv_tcp_keepalive set them; failures are not
 * fatal (libuv's callers ignored them too). */
static void set_options(tcp_conn *c, int fd)
{
    int one = 1;
#ifdef SO_NOSIGPIPE
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    if (c->nodelay) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (c->keepalive_s) {
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
#ifdef TCP_KEEPIDLE
        int idle = c->keepalive_s, intvl = 1, cnt = 10;
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
#endif
    }
}

/* Connect to the current address of the dial (state T_CONNECTING, no socket open). */
static void connect_to(tcp_conn *c)
{
    const struct sockaddr *sa = dial_addr(c->dial);
    c->state = T_CONNECTING;
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
    int fd = socket(sa->sa_family, SOCK_STREAM, 0);
    if (fd >= 0) {
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
#endif
    if (fd < 0) {
        connect_failed(c, sys_err(errno));
        return;
    }
    int rc = mqtt5_poller_io_start(c->poller, &c->io, fd, 0, on_io); /* watched from watch() */
    if (rc != 0) {
        close(fd);
        mqtt5_filter_error_setf(&c->e, MQTT5_ERR_IO, "mqtt5_poller_io_start: %s", uv_strerror(rc));
        abort_conn(c, MQTT5_ERR_IO);
        return;
    }
    c->io_live = true;
    set_options(c, fd);
    socklen_t len =
        sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    /* non-blocking: EINPROGRESS (or EINTR) means it goes on; writability tells when it ended */
    if (connect(fd, sa, len) != 0 && errno != EINPROGRESS && errno != EINTR) {
        connect_failed(c, sys_err(errno));
        return;
    }
    watch(c);
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
    connect_to(c);
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
        connect_to(c);
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
    int rc = uv_getaddrinfo(c->poller->loop, &d->gai, on_resolved, c->host, port, &hints);
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

/* ---- the poller's callback ----------------------------------------------------------------- */

/*
 * The poller saw an error condition on the socket (MQTT5_POLLER_ERROR; status UV_EBADF, as
 * libuv's uv_poll_t gave it for POLLERR, is the last resort). Learn the real error as a stream
 * would: open, read what arrived before it (a TLS alert) until recv() reports it; flushing,
 * send() reports it; otherwise SO_ERROR or the status. Each way ends in a close.
 */
static void poll_failed(tcp_conn *c, int status)
{
    if (c->state == T_OPEN) {
        read_some(c, true);
        if (c->state != T_OPEN) return;
    } else if (c->state == T_FLUSHING && c->queue) {
        flush_queue(c);
        if (c->state != T_FLUSHING) return;
    }
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(sock_of(c), SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) soerr = errno;
    int err = soerr ? sys_err(soerr) : status;
    if (c->state == T_OPEN) {
        read_failed(c, err);
    } else {
        queue_free(c);
        write_failed(c, err); /* flushing: closes */
    }
}

static void on_io(mqtt5_poller_io *io, unsigned events)
{
    tcp_conn *c = conn_of_io(io);
    int status = (events & MQTT5_POLLER_ERROR) ? UV_EBADF : 0;
    if (c->state == T_CONNECTING) {
        connect_done(c, status);
        return;
    }
    if (c->state != T_OPEN && c->state != T_FLUSHING) return;
    if (status < 0) {
        poll_failed(c, status);
        return;
    }
    if ((events & MQTT5_POLLER_READABLE) && c->state == T_OPEN) read_some(c, false);
    if ((events & MQTT5_POLLER_WRITABLE) && c->queue &&
        (c->state == T_OPEN || c->state == T_FLUSHING))
        flush_queue(c);
}

/* ---- closing ------------------------------------------------------------------------------- */

/* Flushed: send FIN, then close. */
static void start_shutdown(tcp_conn *c)
{
    shutdown(sock_of(c), SHUT_WR);
    c->state = T_CLOSING;
    close_handles(c);
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
        if (tcp_pending(f) == 0)
            start_shutdown(c);
        else
            watch(c); /* writability only: reading stops */
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

/* SO_RCVLOWAT: the poller then reports the socket readable only once `bytes` are there (or it
 * ended or failed; a non-blocking recv still returns what there is). A system call only when the
 * value changes; values past 65535 are capped. */
static void tcp_set_read_low_water(mqtt5_filter *f, uint32_t bytes)
{
    tcp_conn *c = CONN(f);
    uint16_t want = bytes < 1 ? 1 : bytes > UINT16_MAX ? UINT16_MAX : (uint16_t)bytes;
    if (c->state != T_OPEN || want == c->read_low) return;
    int v = want;
    (void)setsockopt(sock_of(c), SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v);
    c->read_low = want; /* also when refused: a hint is not worth a failing call per pump */
}

/* Only after on_closed (or before connect): no dial, queue, socket, io or timer is left then. */
static void tcp_destroy(mqtt5_filter *f)
{
    tcp_conn *c = CONN(f);
    queue_free(c);
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
    .set_read_low_water = tcp_set_read_low_water,
    .destroy = tcp_destroy,
};

int mqtt5_tcp_filter_new(uv_loop_t *loop, const mqtt5_tcp_options *o, mqtt5_filter **out)
{
    *out = NULL;
    if (!loop || !o || !o->host || !o->host[0] || strlen(o->host) > 255 || !o->poller ||
        o->poller->loop != loop || !o->poller->read_buf)
        return MQTT5_ERR_INVALID_ARGUMENT;
    tcp_conn *c = calloc(1, sizeof *c);
    if (!c) return MQTT5_ERR_NOMEM;
    c->f.ops = &tcp_ops;
    c->f.ctx = c;
    c->poller = o->poller;
    c->host = o->host;
    c->port = o->port;
    c->keepalive_s = o->keepalive_s;
    c->nodelay = o->nodelay;
    c->read_low = 1;
    *out = &c->f;
    return 0;
}
