/*
 * transports/proxy_http.c - the HTTP CONNECT filter of proxy_http.h: writes the CONNECT request
 * once its lower filter opened, feeds the answer to the sans-I/O parser (proxy_http_reply.c),
 * then passes bytes through. It latches the first error with a one-line detail and reports up
 * only once its lower filter has closed. No libuv, no OpenSSL (Basic's base64 is done here).
 * The request holds the credentials in clear: it is wiped once written and at destroy, and
 * nothing of it is ever logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/wipe.h"
#include "mqtt5/error.h"
#include "transports/proxy_http.h"
#include "transports/proxy_http_reply.h"

enum ph_state { ST_IDLE, ST_CONNECTING, ST_HANDSHAKE, ST_OPEN, ST_CLOSING, ST_CLOSED };

typedef struct ph_conn {
    mqtt5_filter f;
    enum ph_state state;
    char *req; /* the CONNECT request; wiped and freed once written */
    size_t req_len;
    bool auth;        /* the request carries Proxy-Authorization */
    char target[300]; /* "host:port" or "[v6]:port", for details */
    mqtt5_proxy_reply reply;
    mqtt5_filter_error e; /* first error, reported up when the lower side has closed */
} ph_conn;

#define CONN(f) ((ph_conn *)(f)->ctx)

static void drop_request(ph_conn *c)
{
    if (!c->req) return;
    mqtt5_wipe(c->req, c->req_len);
    free(c->req);
    c->req = NULL;
    c->req_len = 0;
}

/* Stop with `err`; the report goes up once the lower filter closed. */
static void fail(ph_conn *c, int err, const char *detail)
{
    mqtt5_filter_error_set(&c->e, err, detail);
    if (c->state >= ST_CLOSING) return;
    c->state = ST_CLOSING;
    drop_request(c);
    if (c->f.lower) c->f.lower->ops->close(c->f.lower, err);
}

/* ---- the request ---- */

static size_t base64_encode(const uint8_t *in, size_t n, char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[k++] = abc[(v >> 18) & 63];
        out[k++] = abc[(v >> 12) & 63];
        out[k++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
        out[k++] = i + 2 < n ? abc[v & 63] : '=';
    }
    out[k] = '\0';
    return k;
}

static int build_request(ph_conn *c, const mqtt5_proxy_http_options *o)
{
    static const char head[] = "CONNECT %s HTTP/1.1\r\nHost: %s\r\n";
    size_t ulen = o->username ? strlen(o->username) : 0;
    size_t plen = o->password ? strlen(o->password) : 0;
    size_t cred_len = o->username ? ulen + 1 + plen : 0;
    size_t b64_len = (cred_len + 2) / 3 * 4;
    size_t cap = sizeof head + 2 * strlen(c->target) + 64 + b64_len;
    char *req = malloc(cap);
    char *cred = cred_len ? malloc(cred_len) : NULL;
    char *b64 = cred_len ? malloc(b64_len + 1) : NULL;
    if (!req || (cred_len && (!cred || !b64))) {
        free(req);
        free(cred);
        free(b64);
        return MQTT5_ERR_NOMEM;
    }
    int n = snprintf(req, cap, head, c->target, c->target);
    size_t at = n > 0 ? (size_t)n : 0;
    if (cred_len) {
        memcpy(cred, o->username, ulen);
        cred[ulen] = ':';
        if (plen) memcpy(cred + ulen + 1, o->password, plen);
        base64_encode((const uint8_t *)cred, cred_len, b64);
        at += (size_t)snprintf(req + at, cap - at, "Proxy-Authorization: Basic %s\r\n", b64);
        mqtt5_wipe(cred, cred_len);
        mqtt5_wipe(b64, b64_len);
        c->auth = true;
    }
    free(cred);
    free(b64);
    at += (size_t)snprintf(req + at, cap - at, "\r\n");
    c->req = req;
    c->req_len = at;
    return 0;
}

static void send_request(ph_conn *c)
{
    mqtt5_filter *lower = c->f.lower;
    c->state = ST_HANDSHAKE;
    mqtt5_iov v = {(const uint8_t *)c->req, c->req_len};
    int rc = lower && lower->ops->write ? lower->ops->write(lower, &v, 1) : MQTT5_ERR_INVALID_STATE;
    drop_request(c); /* the lower filters copied what they kept */
    if (rc) fail(c, MQTT5_ERR_CONNECTION_CLOSED, "cannot write the CONNECT request to the proxy");
}

/* ---- the answer ---- */

static const char *status_hint(const ph_conn *c, int status)
{
    switch (status) {
    case 401:
    case 407:
        return c->auth ? "the proxy refused the username or password"
                       : "the proxy requires authentication and no username was given";
    case 403:
        return "the proxy forbids this destination";
    case 502:
    case 503:
    case 504:
        return "the proxy could not reach the broker";
    default:
        return NULL;
    }
}

static void answer_failed(ph_conn *c)
{
    char d[700]; /* cut to the filter error's 256 bytes */
    const mqtt5_proxy_reply *r = &c->reply;
    if (r->done) {
        const char *hint = status_hint(c, r->status);
        snprintf(d, sizeof d, "HTTP proxy answered '%s' to CONNECT %s%s%s", r->status_line,
                 c->target, hint ? ": " : "", hint ? hint : "");
    } else {
        snprintf(d, sizeof d, "HTTP proxy sent %s to CONNECT %s: '%s'", r->why, c->target,
                 r->status_line);
    }
    fail(c, MQTT5_ERR_PROXY, d);
}

static void read_answer(ph_conn *c, const uint8_t *p, size_t n)
{
    size_t used = 0;
    int rc = mqtt5_proxy_reply_feed(&c->reply, p, n, &used);
    if (rc == MQTT5_ERR_NEED_MORE) return;
    if (rc != 0 || c->reply.status < 200 || c->reply.status > 299) {
        answer_failed(c);
        return;
    }
    c->state = ST_OPEN;
    if (c->f.upper && c->f.upper->ops->on_open) c->f.upper->ops->on_open(c->f.upper);
    if (c->state == ST_OPEN) mqtt5_filter_report_read(&c->f, p + used, n - used);
}

/* ---- the filter ---- */

static int ph_connect(mqtt5_filter *f)
{
    ph_conn *c = CONN(f);
    if (c->state != ST_IDLE || !f->lower) return MQTT5_ERR_INVALID_STATE;
    c->state = ST_CONNECTING;
    return f->lower->ops->connect(f->lower);
}

static void ph_on_open(mqtt5_filter *f)
{
    ph_conn *c = CONN(f);
    if (c->state != ST_CONNECTING) return;
    send_request(c);
}

static void ph_on_read(mqtt5_filter *f, const uint8_t *p, size_t n)
{
    ph_conn *c = CONN(f);
    switch (c->state) {
    case ST_HANDSHAKE:
        read_answer(c, p, n);
        break;
    case ST_OPEN:
        mqtt5_filter_report_read(f, p, n);
        break;
    default:
        break; /* closing: dropped */
    }
}

static int ph_write(mqtt5_filter *f, const mqtt5_iov *v, size_t n)
{
    ph_conn *c = CONN(f);
    if (c->state != ST_OPEN || !f->lower) return MQTT5_ERR_INVALID_STATE;
    int rc = f->lower->ops->write(f->lower, v, n);
    if (rc) fail(c, rc, "lower write failed");
    return rc;
}

static size_t ph_pending(const mqtt5_filter *f)
{
    return f->lower && f->lower->ops->pending ? f->lower->ops->pending(f->lower) : 0;
}

static void ph_close(mqtt5_filter *f, int err)
{
    ph_conn *c = CONN(f);
    if (c->state >= ST_CLOSING) return;
    c->state = ST_CLOSING;
    mqtt5_filter_error_set(&c->e, err, NULL);
    drop_request(c);
    if (f->lower) f->lower->ops->close(f->lower, err);
}

static void ph_on_writable(mqtt5_filter *f)
{
    ph_conn *c = CONN(f);
    if (c->state == ST_OPEN && f->upper && f->upper->ops->on_writable)
        f->upper->ops->on_writable(f->upper);
}

static void ph_on_closed(mqtt5_filter *f, int err, const char *detail)
{
    ph_conn *c = CONN(f);
    enum ph_state was = c->state;
    if (was == ST_CLOSED) return;
    c->state = ST_CLOSED;
    drop_request(c);
    if (!c->e.set) {
        if (was == ST_HANDSHAKE && (err == 0 || err == MQTT5_ERR_CONNECTION_CLOSED)) {
            mqtt5_filter_error_setf(&c->e, MQTT5_ERR_PROXY,
                                    "HTTP proxy closed the connection before answering CONNECT "
                                    "%s%s%s%s",
                                    c->target, detail ? " (" : "", detail ? detail : "",
                                    detail ? ")" : "");
        } else if (was == ST_CONNECTING && err != 0) {
            mqtt5_filter_error_setf(&c->e, err, "cannot reach the HTTP proxy: %s",
                                    detail ? detail : mqtt5_error_str(err));
        } else {
            mqtt5_filter_error_set(&c->e, err, detail);
        }
    }
    mqtt5_filter_report_closed(f, &c->e);
}

static int ph_query(const mqtt5_filter *f, int what, void *out)
{
    (void)f;
    (void)what;
    (void)out;
    return MQTT5_ERR_NOT_AVAILABLE; /* below is the proxy's connection, not the broker's */
}

static void ph_destroy(mqtt5_filter *f)
{
    ph_conn *c = CONN(f);
    drop_request(c);
    mqtt5_filter_error_free(&c->e);
    free(c);
}

static const mqtt5_filter_ops ph_ops = {
    .name = "proxy",
    .connect = ph_connect,
    .write = ph_write,
    .pending = ph_pending,
    .close = ph_close,
    .query = ph_query,
    .destroy = ph_destroy,
    .on_open = ph_on_open,
    .on_read = ph_on_read,
    .on_writable = ph_on_writable,
    .on_closed = ph_on_closed,
};

int mqtt5_proxy_http_filter_new(const mqtt5_proxy_http_options *o, mqtt5_filter **out)
{
    *out = NULL;
    if (!o || !o->host || !o->host[0] || strlen(o->host) > 255 || o->port == 0 ||
        strpbrk(o->host, "\r\n \t") || (o->username && strchr(o->username, ':')))
        return MQTT5_ERR_INVALID_ARGUMENT;
    ph_conn *c = calloc(1, sizeof *c);
    if (!c) return MQTT5_ERR_NOMEM;
    bool v6 = strchr(o->host, ':') != NULL;
    snprintf(c->target, sizeof c->target, v6 ? "[%s]:%u" : "%s:%u", o->host, o->port);
    if (build_request(c, o) != 0) {
        free(c);
        return MQTT5_ERR_NOMEM;
    }
    mqtt5_proxy_reply_init(&c->reply);
    c->f.ops = &ph_ops;
    c->f.ctx = c;
    *out = &c->f;
    return 0;
}
