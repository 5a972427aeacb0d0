/*
 * transports/ws.c - the WebSocket transport filter of ws.h: a state machine over the sans-I/O
 * handshake (ws_handshake.c) and frame codec (ws_frame.c). It never writes before its lower
 * filter opened and the user transform finished, passes the data payloads of one arrival up
 * gathered (small ones copied into one buffer, big ones in place), masks outgoing frames through a
 * fixed stack buffer, latches the first error with a one-line detail and reports up only once its
 * lower filter has closed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt5/error.h"
#include "transports/ws.h"
#include "transports/ws_frame.h"

enum ws_state { ST_IDLE, ST_CONNECTING, ST_HANDSHAKE, ST_OPEN, ST_CLOSING, ST_CLOSED };

/* Close status codes we send. */
enum { WS_NORMAL = 1000, WS_PROTOCOL = 1002, WS_UNSUPPORTED = 1003, WS_TOO_BIG = 1009 };

/* Bytes of frame assembled per lower write. */
#define WS_OUT_CHUNK 16384u

typedef struct ws_conn ws_conn;

/* A transform in flight. It owns the request until done() runs; if the filter is destroyed
 * first, `c` is cleared and done() only frees what is left. */
typedef struct ws_transform {
    ws_conn *c;
    mqtt5_ws_request *req;
} ws_transform;

struct ws_conn {
    mqtt5_filter f;
    enum ws_state state;
    mqtt5_ws_request *req; /* NULL while a transform holds it */
    ws_transform *pending;
    mqtt5_ws_transform_fn transform;
    void *transform_user;
    int (*random)(void *ud, uint8_t *p, size_t n);
    void *random_user;
    bool lower_open, transform_done;
    uint64_t max_frame;
    char accept[MQTT5_WS_ACCEPT_SIZE];
    uint8_t *head; /* the response head while it arrives */
    size_t head_n, head_cap;
    mqtt5_ws_decoder dec;
    uint8_t rnd[64]; /* random bytes for mask keys, used 4 at a time */
    size_t rnd_at;
    mqtt5_filter_error e; /* first error, reported up when the lower side has closed */
};

#define CONN(f) ((ws_conn *)(f)->ctx)

typedef struct iov_cursor {
    const mqtt5_iov *v;
    size_t n, i, off;
} iov_cursor;

static int lower_write(ws_conn *c, const uint8_t *p, size_t n)
{
    mqtt5_filter *lower = c->f.lower;
    if (!lower || !lower->ops->write) return MQTT5_ERR_INVALID_STATE;
    mqtt5_iov v = {p, n};
    return lower->ops->write(lower, &v, 1);
}

static int next_mask(ws_conn *c, uint8_t mask[4])
{
    if (c->rnd_at >= sizeof c->rnd) {
        if (c->random(c->random_user, c->rnd, sizeof c->rnd) != 0) return MQTT5_ERR_IO;
        c->rnd_at = 0;
    }
    memcpy(mask, c->rnd + c->rnd_at, 4);
    c->rnd_at += 4;
    return 0;
}

/* One masked frame with FIN set and `len` payload bytes taken from the cursor. */
static int send_frame(ws_conn *c, uint8_t opcode, iov_cursor *cur, uint64_t len)
{
    uint8_t buf[WS_OUT_CHUNK];
    mqtt5_ws_frame_header h = {.fin = true, .opcode = opcode, .masked = true, .len = len};
    int rc = next_mask(c, h.mask);
    if (rc) return rc;
    size_t at = mqtt5_ws_frame_header_encode(&h, buf);
    uint64_t off = 0;
    while (off < len) {
        const mqtt5_iov *e = &cur->v[cur->i];
        size_t k = e->n - cur->off;
        if (k == 0) {
            cur->i++;
            cur->off = 0;
            continue;
        }
        if (k > sizeof buf - at) k = sizeof buf - at;
        if (k > len - off) k = (size_t)(len - off);
        mqtt5_ws_frame_mask(buf + at, e->p + cur->off, k, h.mask, off);
        at += k;
        off += k;
        cur->off += k;
        if (at == sizeof buf) {
            rc = lower_write(c, buf, at);
            if (rc) return rc;
            at = 0;
        }
    }
    return at ? lower_write(c, buf, at) : 0;
}

static int send_control(ws_conn *c, uint8_t opcode, const uint8_t *p, size_t n)
{
    mqtt5_iov v = {p, n};
    iov_cursor cur = {&v, 1, 0, 0};
    return send_frame(c, opcode, &cur, n);
}

static int send_close(ws_conn *c, uint16_t code)
{
    uint8_t st[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    return send_control(c, MQTT5_WS_OP_CLOSE, st, code ? 2 : 0);
}

/* Stop with `err`; when open, a close frame with `status` goes first (best effort). */
static void fail(ws_conn *c, int err, uint16_t status, const char *detail)
{
    mqtt5_filter_error_set(&c->e, err, detail);
    if (c->state >= ST_CLOSING) return;
    enum ws_state was = c->state;
    c->state = ST_CLOSING;
    if (was == ST_OPEN && status) (void)send_close(c, status);
    if (c->f.lower) c->f.lower->ops->close(c->f.lower, err);
}

/* ---- the upgrade ---- */

static void send_request(ws_conn *c)
{
    if (c->state != ST_CONNECTING || !c->lower_open || !c->transform_done) return;
    uint8_t raw[16];
    char key[MQTT5_WS_KEY_SIZE];
    if (c->random(c->random_user, raw, sizeof raw) != 0) {
        fail(c, MQTT5_ERR_IO, 0, "no random bytes for the Sec-WebSocket-Key");
        return;
    }
    mqtt5_ws_key_encode(raw, key);
    char *req = NULL;
    size_t len = 0;
    if (mqtt5_ws_accept_compute(key, c->accept) != 0 ||
        mqtt5_ws_request_encode(c->req, key, &req, &len) != 0) {
        fail(c, MQTT5_ERR_NOMEM, 0, "cannot build the WebSocket upgrade request");
        return;
    }
    c->state = ST_HANDSHAKE;
    int rc = lower_write(c, (const uint8_t *)req, len);
    free(req);
    if (rc) fail(c, MQTT5_ERR_CONNECTION_CLOSED, 0, "lower write failed");
}

static void transform_failed(ws_conn *c, int error)
{
    char d[1200];
    int err = error < 0 ? error : MQTT5_ERR_WEBSOCKET_HANDSHAKE;
    const char *why = mqtt5_ws_request_failure(c->req);
    if (why)
        snprintf(d, sizeof d, "the WebSocket handshake transform failed: %s", why);
    else
        snprintf(d, sizeof d, "the WebSocket handshake transform failed: %s (%s)",
                 mqtt5_error_str(err), mqtt5_error_name(err));
    fail(c, err, 0, d);
}

static void on_transform_done(void *done_ctx, int error)
{
    ws_transform *t = done_ctx;
    ws_conn *c = t->c;
    if (!c) { /* the filter is gone */
        mqtt5_ws_request_free(t->req);
        free(t);
        return;
    }
    c->req = t->req;
    c->pending = NULL;
    free(t);
    c->transform_done = true;
    if (c->state != ST_CONNECTING) return; /* closed meanwhile */
    if (error) {
        transform_failed(c, error);
        return;
    }
    send_request(c);
}

static void start_transform(ws_conn *c)
{
    if (!c->transform) {
        c->transform_done = true;
        send_request(c);
        return;
    }
    ws_transform *t = calloc(1, sizeof *t);
    if (!t) {
        fail(c, MQTT5_ERR_NOMEM, 0, "cannot start the WebSocket handshake transform");
        return;
    }
    t->c = c;
    mqtt5_ws_request_set_failure(c->req, NULL); /* nothing left from an earlier attempt */
    t->req = c->req;
    c->req = NULL;
    c->pending = t;
    int rc = c->transform(c->transform_user, t->req, on_transform_done, t);
    if (rc == 0) return;
    if (c->pending) { /* done was not called: take the request back */
        c->req = t->req;
        c->pending = NULL;
        free(t);
    }
    c->transform_done = true;
    if (c->state == ST_CONNECTING) transform_failed(c, rc);
}

/* ---- reading ---- */

static void on_close_frame(ws_conn *c, const uint8_t *p, size_t n)
{
    uint16_t code;
    const uint8_t *reason;
    size_t reason_len;
    char d[256];
    if (mqtt5_ws_close_parse(p, n, &code, &reason, &reason_len) != 0) {
        snprintf(d, sizeof d, "server sent an invalid WebSocket close frame (%s)",
                 n == 1 ? "1-byte payload" : "reserved status code");
        fail(c, MQTT5_ERR_WEBSOCKET_PROTOCOL, WS_PROTOCOL, d);
        return;
    }
    if (code == 0) {
        snprintf(d, sizeof d, "server closed the WebSocket without a status code");
    } else {
        char why[96];
        size_t k = 0;
        for (size_t i = 0; i < reason_len && k + 1 < sizeof why; i++)
            why[k++] = reason[i] >= 0x20 && reason[i] < 0x7F ? (char)reason[i] : '?';
        why[k] = '\0';
        const char *name = mqtt5_ws_close_code_name(code);
        snprintf(d, sizeof d, "server closed the WebSocket with status %u%s%s%s%s%s%s", code,
                 name[0] ? " (" : "", name, name[0] ? ")" : "", k ? ": '" : "", why, k ? "'" : "");
    }
    mqtt5_filter_error_set(&c->e, 0, d);
    c->state = ST_CLOSING;
    (void)send_close(c, code ? code : WS_NORMAL);
    if (c->f.lower) c->f.lower->ops->close(c->f.lower, 0);
}

static void on_control(ws_conn *c, const mqtt5_ws_event *ev)
{
    switch (ev->hdr.opcode) {
    case MQTT5_WS_OP_PING:
        if (send_control(c, MQTT5_WS_OP_PONG, ev->data, ev->n) != 0)
            fail(c, MQTT5_ERR_CONNECTION_CLOSED, 0, "lower write failed");
        break;
    case MQTT5_WS_OP_CLOSE:
        on_close_frame(c, ev->data, ev->n);
        break;
    default:
        break; /* pong: nothing was asked */
    }
}

static void decode_failed(ws_conn *c, int rc)
{
    char d[256];
    if (rc == MQTT5_ERR_WEBSOCKET_FRAME_TOO_LARGE) {
        snprintf(d, sizeof d,
                 "server sent a WebSocket frame of %" PRIu64 " bytes, over the limit of %" PRIu64,
                 c->dec.hdr.len, c->max_frame);
        fail(c, rc, WS_TOO_BIG, d);
        return;
    }
    snprintf(d, sizeof d, "WebSocket protocol error from the server: %s",
             c->dec.why ? c->dec.why : "bad frame");
    fail(c, rc, WS_PROTOCOL, d);
}

/* Pass the gathered payload up and empty the buffer. */
static void flush_gathered(ws_conn *c, uint8_t *buf, size_t *have)
{
    size_t n = *have;
    *have = 0;
    mqtt5_filter_report_read(&c->f, buf, n);
}

/* The payload of the frames of one arrival goes up gathered: small payloads (a burst of acks, a
 * frame each) are copied into one buffer and go up in one on_read, big ones go up in place after
 * what was gathered. Anything gathered goes up before a control frame is acted on or an error. */
static void read_frames(ws_conn *c, const uint8_t *p, size_t n)
{
    uint8_t buf[4096];
    size_t have = 0;
    while (c->state == ST_OPEN) {
        size_t used = 0;
        mqtt5_ws_event ev;
        int rc = mqtt5_ws_decoder_next(&c->dec, p, n, &used, &ev);
        p += used;
        n -= used;
        if (rc) {
            flush_gathered(c, buf, &have);
            if (c->state == ST_OPEN) decode_failed(c, rc);
            return;
        }
        switch (ev.kind) {
        case MQTT5_WS_EV_NONE:
            flush_gathered(c, buf, &have);
            return;
        case MQTT5_WS_EV_FRAME:
            if (ev.hdr.opcode == MQTT5_WS_OP_TEXT) {
                flush_gathered(c, buf, &have);
                fail(c, MQTT5_ERR_WEBSOCKET_PROTOCOL, WS_UNSUPPORTED,
                     "server sent a WebSocket text frame; MQTT travels in binary frames only");
            }
            break;
        case MQTT5_WS_EV_DATA:
            if (ev.n <= sizeof buf - have) {
                memcpy(buf + have, ev.data, ev.n);
                have += ev.n;
            } else {
                flush_gathered(c, buf, &have);
                if (c->state == ST_OPEN) mqtt5_filter_report_read(&c->f, ev.data, ev.n);
            }
            break;
        case MQTT5_WS_EV_CONTROL:
            flush_gathered(c, buf, &have);
            if (c->state == ST_OPEN) on_control(c, &ev);
            break;
        }
    }
}

static int head_append(ws_conn *c, const uint8_t *p, size_t n)
{
    if (c->head_n + n > c->head_cap) {
        size_t cap = c->head_cap ? c->head_cap : 512;
        while (cap < c->head_n + n)
            cap *= 2;
        if (cap > MQTT5_WS_MAX_RESPONSE_HEAD) cap = MQTT5_WS_MAX_RESPONSE_HEAD;
        uint8_t *h = realloc(c->head, cap);
        if (!h) return MQTT5_ERR_NOMEM;
        c->head = h;
        c->head_cap = cap;
    }
    memcpy(c->head + c->head_n, p, n);
    c->head_n += n;
    return 0;
}

static void read_response(ws_conn *c, const uint8_t *p, size_t n)
{
    size_t from = c->head_n;
    size_t take = MQTT5_WS_MAX_RESPONSE_HEAD - c->head_n;
    if (take > n) take = n;
    if (head_append(c, p, take) != 0) {
        fail(c, MQTT5_ERR_NOMEM, 0, "cannot buffer the WebSocket upgrade response");
        return;
    }
    size_t end = mqtt5_ws_response_head_end(c->head, c->head_n, from);
    if (end == 0) {
        if (c->head_n >= MQTT5_WS_MAX_RESPONSE_HEAD) {
            char d[160];
            snprintf(d, sizeof d,
                     "server's answer to the WebSocket upgrade exceeds %u bytes without ending",
                     MQTT5_WS_MAX_RESPONSE_HEAD);
            fail(c, MQTT5_ERR_WEBSOCKET_HANDSHAKE, 0, d);
        }
        return;
    }
    char d[256];
    int rc = mqtt5_ws_response_check(c->head, end, c->accept, d, sizeof d);
    if (rc) {
        fail(c, rc, 0, d);
        return;
    }
    /* open; whatever followed the head is frames */
    uint8_t *head = c->head;
    size_t head_n = c->head_n;
    c->head = NULL;
    c->head_n = c->head_cap = 0;
    c->state = ST_OPEN;
    if (c->f.upper && c->f.upper->ops->on_open) c->f.upper->ops->on_open(c->f.upper);
    if (c->state == ST_OPEN && head_n > end) read_frames(c, head + end, head_n - end);
    free(head);
    if (c->state == ST_OPEN && take < n) read_frames(c, p + take, n - take);
}

/* ---- the filter ---- */

static int ws_connect(mqtt5_filter *f)
{
    ws_conn *c = CONN(f);
    if (c->state != ST_IDLE || !f->lower) return MQTT5_ERR_INVALID_STATE;
    c->state = ST_CONNECTING;
    int rc = f->lower->ops->connect(f->lower);
    if (rc) return rc;
    if (c->state == ST_CONNECTING) start_transform(c);
    return 0;
}

static void ws_on_open(mqtt5_filter *f)
{
    ws_conn *c = CONN(f);
    if (c->state != ST_CONNECTING) return;
    c->lower_open = true;
    send_request(c);
}

static void ws_on_read(mqtt5_filter *f, const uint8_t *p, size_t n)
{
    ws_conn *c = CONN(f);
    switch (c->state) {
    case ST_CONNECTING:
        if (n)
            fail(c, MQTT5_ERR_WEBSOCKET_HANDSHAKE, 0,
                 "server sent data before the WebSocket upgrade request");
        break;
    case ST_HANDSHAKE:
        read_response(c, p, n);
        break;
    case ST_OPEN:
        read_frames(c, p, n);
        break;
    default:
        break; /* closing: dropped */
    }
}

static int ws_write(mqtt5_filter *f, const mqtt5_iov *v, size_t n)
{
    ws_conn *c = CONN(f);
    if (c->state != ST_OPEN) return MQTT5_ERR_INVALID_STATE;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += v[i].n;
    iov_cursor cur = {v, n, 0, 0};
    while (total > 0) {
        uint64_t len = total < c->max_frame ? total : c->max_frame;
        int rc = send_frame(c, MQTT5_WS_OP_BINARY, &cur, len);
        if (rc) {
            int err = rc == MQTT5_ERR_IO ? MQTT5_ERR_IO : MQTT5_ERR_CONNECTION_CLOSED;
            fail(c, err, 0,
                 rc == MQTT5_ERR_IO ? "no random bytes for a mask key" : "lower write failed");
            return err;
        }
        total -= len;
    }
    return 0;
}

static size_t ws_pending(const mqtt5_filter *f)
{
    return f->lower && f->lower->ops->pending ? f->lower->ops->pending(f->lower) : 0;
}

static void ws_close(mqtt5_filter *f, int err)
{
    ws_conn *c = CONN(f);
    if (c->state >= ST_CLOSING) return;
    enum ws_state was = c->state;
    c->state = ST_CLOSING;
    mqtt5_filter_error_set(&c->e, err, NULL);
    if (err == 0 && was == ST_OPEN) (void)send_close(c, WS_NORMAL);
    if (f->lower) f->lower->ops->close(f->lower, err);
}

static void ws_on_writable(mqtt5_filter *f)
{
    ws_conn *c = CONN(f);
    if (c->state == ST_OPEN && f->upper && f->upper->ops->on_writable)
        f->upper->ops->on_writable(f->upper);
}

static void ws_on_closed(mqtt5_filter *f, int err, const char *detail)
{
    ws_conn *c = CONN(f);
    enum ws_state was = c->state;
    if (was == ST_CLOSED) return;
    c->state = ST_CLOSED;
    if (!c->e.set) {
        if (was == ST_HANDSHAKE && (err == 0 || err == MQTT5_ERR_CONNECTION_CLOSED)) {
            char d[256];
            snprintf(d, sizeof d,
                     "connection closed during the WebSocket upgrade%s%s%s; is it a WebSocket "
                     "port and path?",
                     detail ? " (" : "", detail ? detail : "", detail ? ")" : "");
            mqtt5_filter_error_set(&c->e, MQTT5_ERR_WEBSOCKET_HANDSHAKE, d);
        } else if (was == ST_OPEN && err == 0 && !detail) {
            mqtt5_filter_error_set(&c->e, 0,
                                   "server closed the connection without a WebSocket close frame");
        } else {
            mqtt5_filter_error_set(&c->e, err, detail);
        }
    }
    free(c->head);
    c->head = NULL;
    c->head_n = c->head_cap = 0;
    mqtt5_filter_report_closed(f, &c->e);
}

static int ws_query(const mqtt5_filter *f, int what, void *out)
{
    return f->lower && f->lower->ops->query ? f->lower->ops->query(f->lower, what, out)
                                            : MQTT5_ERR_NOT_AVAILABLE;
}

static void ws_destroy(mqtt5_filter *f)
{
    ws_conn *c = CONN(f);
    if (c->pending)
        c->pending->c = NULL; /* its done() frees the request */
    else
        mqtt5_ws_request_free(c->req);
    free(c->head);
    mqtt5_filter_error_free(&c->e);
    free(c);
}

static const mqtt5_filter_ops ws_ops = {
    .name = "ws",
    .connect = ws_connect,
    .write = ws_write,
    .pending = ws_pending,
    .close = ws_close,
    .query = ws_query,
    .destroy = ws_destroy,
    .on_open = ws_on_open,
    .on_read = ws_on_read,
    .on_writable = ws_on_writable,
    .on_closed = ws_on_closed,
};

int mqtt5_ws_filter_new(const mqtt5_ws_options *o, mqtt5_filter **out)
{
    *out = NULL;
    if (!o || !o->host || !o->host[0]) return MQTT5_ERR_INVALID_ARGUMENT;
    ws_conn *c = calloc(1, sizeof *c);
    if (!c) return MQTT5_ERR_NOMEM;
    int rc = mqtt5_ws_request_new(o->host, o->path, o->headers, o->header_count, &c->req);
    if (rc) {
        free(c);
        return rc;
    }
    c->f.ops = &ws_ops;
    c->f.ctx = c;
    c->max_frame = o->max_frame ? o->max_frame : MQTT5_WS_DEFAULT_MAX_FRAME;
    c->transform = o->transform;
    c->transform_user = o->transform_user;
    c->random = o->random ? o->random : mqtt5_ws_random_fill;
    c->random_user = o->random ? o->random_user : NULL;
    c->rnd_at = sizeof c->rnd; /* empty: the first mask key fills it */
    mqtt5_ws_decoder_init(&c->dec, c->max_frame, false);
    *out = &c->f;
    return 0;
}
