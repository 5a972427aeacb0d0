/*
 * transports/socks5.c - the SOCKS5 filter of socks5.h: a state machine over the sans-I/O messages
 * of socks5_msg.c (greeting, method choice, RFC 1929 authentication, CONNECT, reply), then a
 * pass-through. It latches the first error with a one-line detail and reports up only once its
 * lower filter has closed. No libuv, no OpenSSL. Credentials are wiped once written and at
 * destroy, and never logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/wipe.h"
#include "mqtt5/error.h"
#include "transports/socks5.h"
#include "transports/socks5_msg.h"

enum s5_state {
    ST_IDLE,
    ST_CONNECTING,
    ST_METHOD, /* greeting sent, waiting for the method choice */
    ST_AUTH,   /* username/password sent */
    ST_REPLY,  /* CONNECT sent */
    ST_OPEN,
    ST_CLOSING,
    ST_CLOSED
};

typedef struct s5_conn {
    mqtt5_filter f;
    enum s5_state state;
    char host[256];
    uint16_t port;
    char *username, *password; /* NULL: no authentication offered */
    char target[300];          /* "host:port" or "[v6]:port", for details */
    mqtt5_socks5_reader rd;
    mqtt5_filter_error e; /* first error, reported up when the lower side has closed */
} s5_conn;

#define CONN(f) ((s5_conn *)(f)->ctx)

static void free_secret(char **s)
{
    if (!*s) return;
    mqtt5_wipe(*s, strlen(*s));
    free(*s);
    *s = NULL;
}

/* Stop with `err`; the report goes up once the lower filter closed. */
static void fail(s5_conn *c, int err, const char *detail)
{
    mqtt5_filter_error_set(&c->e, err, detail);
    if (c->state >= ST_CLOSING) return;
    c->state = ST_CLOSING;
    if (c->f.lower) c->f.lower->ops->close(c->f.lower, err);
}

static int lower_write(s5_conn *c, const uint8_t *p, size_t n)
{
    mqtt5_filter *lower = c->f.lower;
    if (!lower || !lower->ops->write) return MQTT5_ERR_INVALID_STATE;
    mqtt5_iov v = {p, n};
    return lower->ops->write(lower, &v, 1);
}

/* Write a message and wait for the answer of `kind` in `next`. */
static void send_msg(s5_conn *c, const uint8_t *p, size_t n, enum s5_state next,
                     mqtt5_socks5_answer kind)
{
    c->state = next;
    mqtt5_socks5_reader_init(&c->rd, kind);
    if (lower_write(c, p, n) != 0)
        fail(c, MQTT5_ERR_CONNECTION_CLOSED, "cannot write to the SOCKS5 proxy");
}

static void send_greeting(s5_conn *c)
{
    uint8_t g[4];
    size_t n = mqtt5_socks5_greeting(c->username != NULL, g);
    send_msg(c, g, n, ST_METHOD, MQTT5_SOCKS5_ANSWER_METHOD);
}

static void send_auth(s5_conn *c)
{
    uint8_t m[MQTT5_SOCKS5_MSG_MAX];
    size_t n = 0;
    if (mqtt5_socks5_auth_request(c->username, c->password, m, sizeof m, &n) != 0) {
        fail(c, MQTT5_ERR_INVALID_ARGUMENT, "SOCKS5 username or password over 255 bytes");
        return;
    }
    send_msg(c, m, n, ST_AUTH, MQTT5_SOCKS5_ANSWER_AUTH);
    mqtt5_wipe(m, sizeof m);
}

static void send_connect(s5_conn *c)
{
    uint8_t m[MQTT5_SOCKS5_MSG_MAX];
    size_t n = 0;
    if (mqtt5_socks5_connect_request(c->host, c->port, m, sizeof m, &n) != 0) {
        fail(c, MQTT5_ERR_INVALID_ARGUMENT, "cannot encode the SOCKS5 CONNECT request");
        return;
    }
    send_msg(c, m, n, ST_REPLY, MQTT5_SOCKS5_ANSWER_REPLY);
}

/* ---- the answers ---- */

static void on_method(s5_conn *c)
{
    char d[256];
    uint8_t m = c->rd.code;
    if (m == MQTT5_SOCKS5_METHOD_NONE) {
        send_connect(c);
    } else if (m == MQTT5_SOCKS5_METHOD_USERPASS && c->username) {
        send_auth(c);
    } else if (m == MQTT5_SOCKS5_METHOD_USERPASS) {
        fail(c, MQTT5_ERR_PROXY,
             "SOCKS5 proxy requires a username and password and none was given");
    } else if (m == MQTT5_SOCKS5_METHOD_REFUSED) {
        snprintf(d, sizeof d,
                 "SOCKS5 proxy accepts none of the offered authentication methods (%s)",
                 c->username ? "none, username/password" : "none");
        fail(c, MQTT5_ERR_PROXY, d);
    } else {
        snprintf(d, sizeof d, "SOCKS5 proxy chose authentication method 0x%02x, not offered", m);
        fail(c, MQTT5_ERR_PROXY, d);
    }
}

static void on_auth(s5_conn *c)
{
    free_secret(&c->password); /* sent: not needed any more */
    if (c->rd.code == 0) {
        send_connect(c);
        return;
    }
    char d[256];
    snprintf(d, sizeof d, "SOCKS5 proxy refused the username or password (status %u)", c->rd.code);
    fail(c, MQTT5_ERR_PROXY, d);
}

/* The reply is complete; the rest p[0..n) belongs to the tunnel. */
static void on_reply(s5_conn *c, const uint8_t *p, size_t n)
{
    if (c->rd.code != 0) {
        char d[400]; /* cut to the filter error's 256 bytes */
        snprintf(d, sizeof d, "SOCKS5 proxy: %s (%u) for CONNECT %s",
                 mqtt5_socks5_reply_str(c->rd.code), c->rd.code, c->target);
        fail(c, MQTT5_ERR_PROXY, d);
        return;
    }
    c->state = ST_OPEN;
    if (c->f.upper && c->f.upper->ops->on_open) c->f.upper->ops->on_open(c->f.upper);
    if (c->state == ST_OPEN) mqtt5_filter_report_read(&c->f, p, n);
}

static const char *phase_name(enum s5_state s)
{
    return s == ST_METHOD ? "greeting" : s == ST_AUTH ? "authentication" : "CONNECT";
}

static void bad_answer(s5_conn *c)
{
    char d[256];
    snprintf(d, sizeof d, "SOCKS5 proxy sent %s during the %s (first byte 0x%02x%s)", c->rd.why,
             phase_name(c->state), c->rd.buf[0],
             c->rd.buf[0] == 'H' ? ": is it an HTTP proxy?" : "");
    fail(c, MQTT5_ERR_PROXY, d);
}

static void read_answers(s5_conn *c, const uint8_t *p, size_t n)
{
    while (c->state == ST_METHOD || c->state == ST_AUTH || c->state == ST_REPLY) {
        size_t used = 0;
        int rc = mqtt5_socks5_reader_feed(&c->rd, p, n, &used);
        p += used;
        n -= used;
        if (rc == MQTT5_ERR_NEED_MORE) return;
        if (rc != 0) {
            bad_answer(c);
            return;
        }
        switch (c->state) {
        case ST_METHOD:
            on_method(c);
            break;
        case ST_AUTH:
            on_auth(c);
            break;
        default:
            on_reply(c, p, n);
            return;
        }
    }
}

/* ---- the filter ---- */

static int s5_connect(mqtt5_filter *f)
{
    s5_conn *c = CONN(f);
    if (c->state != ST_IDLE || !f->lower) return MQTT5_ERR_INVALID_STATE;
    c->state = ST_CONNECTING;
    return f->lower->ops->connect(f->lower);
}

static void s5_on_open(mqtt5_filter *f)
{
    s5_conn *c = CONN(f);
    if (c->state != ST_CONNECTING) return;
    send_greeting(c);
}

static void s5_on_read(mqtt5_filter *f, const uint8_t *p, size_t n)
{
    s5_conn *c = CONN(f);
    if (c->state == ST_OPEN) {
        mqtt5_filter_report_read(f, p, n);
        return;
    }
    read_answers(c, p, n); /* nothing happens when closing */
}

static int s5_write(mqtt5_filter *f, const mqtt5_iov *v, size_t n)
{
    s5_conn *c = CONN(f);
    if (c->state != ST_OPEN || !f->lower) return MQTT5_ERR_INVALID_STATE;
    int rc = f->lower->ops->write(f->lower, v, n);
    if (rc) fail(c, rc, "lower write failed");
    return rc;
}

static size_t s5_pending(const mqtt5_filter *f)
{
    return f->lower && f->lower->ops->pending ? f->lower->ops->pending(f->lower) : 0;
}

static void s5_close(mqtt5_filter *f, int err)
{
    s5_conn *c = CONN(f);
    if (c->state >= ST_CLOSING) return;
    c->state = ST_CLOSING;
    mqtt5_filter_error_set(&c->e, err, NULL);
    if (f->lower) f->lower->ops->close(f->lower, err);
}

static void s5_on_writable(mqtt5_filter *f)
{
    s5_conn *c = CONN(f);
    if (c->state == ST_OPEN && f->upper && f->upper->ops->on_writable)
        f->upper->ops->on_writable(f->upper);
}

static void s5_on_closed(mqtt5_filter *f, int err, const char *detail)
{
    s5_conn *c = CONN(f);
    enum s5_state was = c->state;
    if (was == ST_CLOSED) return;
    c->state = ST_CLOSED;
    if (!c->e.set) {
        if (was >= ST_METHOD && was <= ST_REPLY &&
            (err == 0 || err == MQTT5_ERR_CONNECTION_CLOSED)) {
            mqtt5_filter_error_setf(
                &c->e, MQTT5_ERR_PROXY, "SOCKS5 proxy closed the connection during the %s%s%s%s",
                phase_name(was), detail ? " (" : "", detail ? detail : "", detail ? ")" : "");
        } else if (was == ST_CONNECTING && err != 0) {
            mqtt5_filter_error_setf(&c->e, err, "cannot reach the SOCKS5 proxy: %s",
                                    detail ? detail : mqtt5_error_str(err));
        } else {
            mqtt5_filter_error_set(&c->e, err, detail);
        }
    }
    mqtt5_filter_report_closed(f, &c->e);
}

static int s5_query(const mqtt5_filter *f, int what, void *out)
{
    (void)f;
    (void)what;
    (void)out;
    return MQTT5_ERR_NOT_AVAILABLE; /* below is the proxy's connection, not the broker's */
}

static void s5_destroy(mqtt5_filter *f)
{
    s5_conn *c = CONN(f);
    free_secret(&c->username);
    free_secret(&c->password);
    mqtt5_wipe(&c->rd, sizeof c->rd);
    mqtt5_filter_error_free(&c->e);
    free(c);
}

static const mqtt5_filter_ops s5_ops = {
    .name = "proxy",
    .connect = s5_connect,
    .write = s5_write,
    .pending = s5_pending,
    .close = s5_close,
    .query = s5_query,
    .destroy = s5_destroy,
    .on_open = s5_on_open,
    .on_read = s5_on_read,
    .on_writable = s5_on_writable,
    .on_closed = s5_on_closed,
};

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

int mqtt5_socks5_filter_new(const mqtt5_socks5_options *o, mqtt5_filter **out)
{
    *out = NULL;
    if (!o || !o->host || !o->host[0] || strlen(o->host) > 255 || o->port == 0)
        return MQTT5_ERR_INVALID_ARGUMENT;
    if (o->username && (!o->username[0] || strlen(o->username) > 255 ||
                        (o->password && strlen(o->password) > 255)))
        return MQTT5_ERR_INVALID_ARGUMENT;
    s5_conn *c = calloc(1, sizeof *c);
    if (!c) return MQTT5_ERR_NOMEM;
    memcpy(c->host, o->host, strlen(o->host) + 1);
    c->port = o->port;
    bool v6 = strchr(o->host, ':') != NULL;
    snprintf(c->target, sizeof c->target, v6 ? "[%s]:%u" : "%s:%u", o->host, o->port);
    if (o->username) {
        c->username = dup_str(o->username);
        c->password = dup_str(o->password ? o->password : "");
        if (!c->username || !c->password) {
            free_secret(&c->username);
            free_secret(&c->password);
            free(c);
            return MQTT5_ERR_NOMEM;
        }
    }
    c->f.ops = &s5_ops;
    c->f.ctx = c;
    *out = &c->f;
    return 0;
}
