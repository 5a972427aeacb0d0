/*
 * transports/tls.c - the TLS transport filter: one SSL per connection over two memory BIOs.
 * Ciphertext from the lower filter goes into the read BIO; whatever OpenSSL writes is drained
 * from the write BIO and handed down after every SSL call. It is sans-I/O: no sockets, no
 * libuv, no clocks; it only calls its lower and upper filters. It never writes application
 * bytes before the handshake ended and reports up only what its lower filter closed. Plaintext
 * goes up gathered (the records of one arrival in one on_read), and the read low-water hint goes
 * down scaled by the framing it measured (tls_set_read_low_water).
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "transports/tls_internal.h"

enum tls_state { ST_IDLE, ST_CONNECTING, ST_HANDSHAKE, ST_OPEN, ST_CLOSING, ST_CLOSED };

typedef struct tls_conn {
    mqtt5_filter f;
    mqtt5_tls_ctx *ctx;
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    mqtt5_tls_diag diag;
    enum tls_state state;
    bool sni;
    mqtt5_filter_error e; /* first error, reported up when the lower side has closed */
    /* read low-water (tls_set_read_low_water): the upper side's mark in plaintext bytes (0: none)
     * and the bytes in and out of this filter while a mark was in effect */
    uint32_t mark;
    bool mark_read; /* bytes came since the mark was set */
    uint64_t mark_wire, mark_plain;
    char host[256];
} tls_conn;

#define CONN(f) ((tls_conn *)(f)->ctx)

/* Hand everything OpenSSL produced to the lower filter. */
static int drain(tls_conn *c)
{
    BUF_MEM *bm = NULL;
    BIO_get_mem_ptr(c->wbio, &bm);
    if (!bm || bm->length == 0) return 0;
    int rc = MQTT5_ERR_INVALID_STATE;
    mqtt5_filter *lower = c->f.lower;
    if (lower && lower->ops->write) {
        mqtt5_iov v = {(const uint8_t *)bm->data, bm->length};
        rc = lower->ops->write(lower, &v, 1);
    }
    (void)BIO_reset(c->wbio);
    return rc;
}

/* Stop the connection with `err`; the report goes up once the lower filter closed. */
static void fail(tls_conn *c, int err, const char *detail)
{
    mqtt5_filter_error_set(&c->e, err, detail);
    if (c->state >= ST_CLOSING) return;
    c->state = ST_CLOSING;
    (void)drain(c); /* an alert OpenSSL queued, if any */
    if (c->f.lower) c->f.lower->ops->close(c->f.lower, err);
}

/* A failed SSL call: classify while the error queue is intact. */
static void fail_ssl(tls_conn *c, int ssl_error)
{
    char detail[256];
    int err = mqtt5_tls_map_error(&c->diag, ssl_error, detail, sizeof detail);
    ERR_clear_error();
    fail(c, err, detail);
}

/* 1: handshake finished (and on_open went up), 0: needs more bytes, -1: failed. */
static int step_handshake(tls_conn *c)
{
    ERR_clear_error();
    int r = SSL_do_handshake(c->ssl);
    if (r != 1) {
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            if (drain(c) < 0) fail(c, MQTT5_ERR_CONNECTION_CLOSED, "lower write failed");
            return c->state == ST_HANDSHAKE ? 0 : -1;
        }
        fail_ssl(c, e);
        return -1;
    }
    c->diag.handshake_done = true;
    if (drain(c) < 0) fail(c, MQTT5_ERR_CONNECTION_CLOSED, "lower write failed");
    if (c->state != ST_HANDSHAKE) return -1;
    const unsigned char *sel = NULL;
    unsigned len = 0;
    SSL_get0_alpn_selected(c->ssl, &sel, &len);
    if (c->ctx->require_alpn && len == 0) {
        char detail[256];
        snprintf(detail, sizeof detail,
                 "server accepts none of the offered ALPN protocols: %s (it selected none)",
                 c->ctx->alpn);
        fail(c, MQTT5_ERR_TLS_ALPN_REJECTED, detail);
        return -1;
    }
    c->state = ST_OPEN;
    if (c->f.upper && c->f.upper->ops->on_open) c->f.upper->ops->on_open(c->f.upper);
    return 1;
}

/* Pass buf[0..*have) up and empty it; counted for the read low-water when `counted`. */
static void deliver(tls_conn *c, uint8_t *buf, size_t *have, bool counted)
{
    size_t n = *have;
    *have = 0;
    if (n == 0) return;
    if (counted) c->mark_plain += n;
    mqtt5_filter_report_read(&c->f, buf, n);
}

/* Decrypt every whole record there is and pass the plaintext up gathered: one on_read per 16 KiB
 * (or per arrival), not one per record, so that the upper side handles a burst of small packets
 * (acknowledgements, each in its record) in one go. What was gathered goes up before a close or
 * an error is acted on. */
static void read_records(tls_conn *c, bool counted)
{
    uint8_t buf[16384];
    size_t have = 0;
    while (c->state == ST_OPEN) {
        ERR_clear_error();
        int r = SSL_read(c->ssl, buf + have, (int)(sizeof buf - have));
        if (r > 0) {
            if (drain(c) < 0) fail(c, MQTT5_ERR_CONNECTION_CLOSED, "lower write failed");
            have += (size_t)r;
            if (have == sizeof buf) deliver(c, buf, &have, counted);
            continue;
        }
        int e = SSL_get_error(c->ssl, r);
        deliver(c, buf, &have, counted);
        if (c->state != ST_OPEN) return; /* the upper side closed meanwhile */
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            if (drain(c) < 0) fail(c, MQTT5_ERR_CONNECTION_CLOSED, "lower write failed");
            return;
        }
        if (e == SSL_ERROR_ZERO_RETURN) { /* peer's close_notify: answer it, then close */
            mqtt5_filter_error_set(&c->e, 0, NULL);
            ERR_clear_error();
            (void)SSL_shutdown(c->ssl);
            ERR_clear_error();
            c->state = ST_CLOSING;
            (void)drain(c);
            if (c->f.lower) c->f.lower->ops->close(c->f.lower, 0);
            return;
        }
        fail_ssl(c, e);
    }
    deliver(c, buf, &have, counted);
}

static int tls_connect(mqtt5_filter *f)
{
    tls_conn *c = CONN(f);
    if (c->state != ST_IDLE || !f->lower) return MQTT5_ERR_INVALID_STATE;
    c->state = ST_CONNECTING;
    return f->lower->ops->connect(f->lower);
}

static void tls_on_open(mqtt5_filter *f)
{
    tls_conn *c = CONN(f);
    if (c->state != ST_CONNECTING) return;
    c->state = ST_HANDSHAKE;
    (void)step_handshake(c);
}

/* Count an arrival for the read low-water's ratio; true when a mark is in effect. */
static bool count_arrival(tls_conn *c, size_t n)
{
    if (c->mark == 0) return false;
    c->mark_read = true;
    c->mark_wire += n;
    if (c->mark_wire > (1u << 30)) { /* keep the ratio, bound the counts */
        c->mark_wire /= 2;
        c->mark_plain /= 2;
    }
    return true;
}

static void tls_on_read(mqtt5_filter *f, const uint8_t *p, size_t n)
{
    tls_conn *c = CONN(f);
    if (c->state != ST_HANDSHAKE && c->state != ST_OPEN) return; /* closing: dropped */
    if (c->diag.first_byte < 0 && n > 0) c->diag.first_byte = p[0];
    bool counted = count_arrival(c, n);
    while (n > 0) {
        int chunk = n > INT_MAX ? INT_MAX : (int)n;
        if (BIO_write(c->rbio, p, chunk) != chunk) {
            fail(c, MQTT5_ERR_NOMEM, "cannot buffer TLS input");
            return;
        }
        p += chunk;
        n -= (size_t)chunk;
    }
    if (c->state == ST_HANDSHAKE && step_handshake(c) <= 0) return;
    read_records(c, counted);
}

static int tls_write(mqtt5_filter *f, const mqtt5_iov *v, size_t n)
{
    tls_conn *c = CONN(f);
    if (c->state != ST_OPEN) return MQTT5_ERR_INVALID_STATE;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = v[i].p;
        size_t left = v[i].n;
        while (left > 0) {
            int chunk = left > INT_MAX ? INT_MAX : (int)left;
            ERR_clear_error();
            int r = SSL_write(c->ssl, p, chunk);
            if (r <= 0) {
                fail_ssl(c, SSL_get_error(c->ssl, r));
                return c->e.err ? c->e.err : MQTT5_ERR_TLS_HANDSHAKE;
            }
            p += r;
            left -= (size_t)r;
            if (drain(c) < 0) {
                fail(c, MQTT5_ERR_CONNECTION_CLOSED, "lower write failed");
                return MQTT5_ERR_CONNECTION_CLOSED;
            }
        }
    }
    return 0;
}

static size_t tls_pending(const mqtt5_filter *f)
{
    return f->lower && f->lower->ops->pending ? f->lower->ops->pending(f->lower) : 0;
}

static void tls_close(mqtt5_filter *f, int err)
{
    tls_conn *c = CONN(f);
    if (c->state >= ST_CLOSING) return;
    enum tls_state was = c->state;
    c->state = ST_CLOSING;
    mqtt5_filter_error_set(&c->e, err, NULL);
    if (err == 0 && was == ST_OPEN) { /* one close_notify; we do not wait for the answer */
        ERR_clear_error();
        (void)SSL_shutdown(c->ssl);
        ERR_clear_error();
        (void)drain(c);
    }
    if (f->lower) f->lower->ops->close(f->lower, err);
}

static void tls_on_writable(mqtt5_filter *f)
{
    tls_conn *c = CONN(f);
    if (c->state == ST_OPEN && f->upper && f->upper->ops->on_writable)
        f->upper->ops->on_writable(f->upper);
}

static void tls_on_closed(mqtt5_filter *f, int err, const char *detail)
{
    tls_conn *c = CONN(f);
    enum tls_state was = c->state;
    if (was == ST_CLOSED) return;
    c->state = ST_CLOSED;
    if (!c->e.set) {
        if (was == ST_HANDSHAKE && (err == 0 || err == MQTT5_ERR_CONNECTION_CLOSED)) {
            /* closed or reset before the handshake ended: a plain (non-TLS) port does this */
            char d[256];
            snprintf(d, sizeof d,
                     "connection closed during the TLS handshake%s%s%s; is the port a TLS port?",
                     detail ? " (" : "", detail ? detail : "", detail ? ")" : "");
            mqtt5_filter_error_set(&c->e, MQTT5_ERR_TLS_HANDSHAKE, d);
        } else {
            mqtt5_filter_error_set(&c->e, err, detail);
        }
    }
    mqtt5_filter_report_closed(f, &c->e);
}

static int tls_query(const mqtt5_filter *f, int what, void *out)
{
    const tls_conn *c = CONN(f);
    switch (what) {
    case MQTT5_FILTER_QUERY_ALPN: {
        const unsigned char *sel = NULL;
        unsigned len = 0;
        SSL_get0_alpn_selected(c->ssl, &sel, &len);
        *(mqtt5_iov *)out = (mqtt5_iov){sel, len};
        return 0;
    }
    case MQTT5_FILTER_QUERY_TLS_VERSION:
        *(const char **)out = SSL_get_version(c->ssl);
        return 0;
    case MQTT5_FILTER_QUERY_TLS_CIPHER:
        *(const char **)out = SSL_get_cipher_name(c->ssl);
        return 0;
    case MQTT5_FILTER_QUERY_SERVER_NAME:
        *(const char **)out = c->sni ? c->host : NULL;
        return 0;
    default:
        return f->lower && f->lower->ops->query ? f->lower->ops->query(f->lower, what, out)
                                                : MQTT5_ERR_NOT_AVAILABLE;
    }
}

/*
 * The upper side's mark counts plaintext; the socket counts records, and a 4-byte acknowledgement
 * alone in a TLS 1.3 record is 26 bytes on the wire. Passed down as it is, the mark would wake
 * the reader after two or three acknowledgements instead of the many it asked for. So the mark
 * goes down scaled by the wire bytes per plaintext byte seen while marks were in effect, times
 * 3/4: what was measured includes up to one partial record per read, and a mark that is never
 * reached costs the upper side's whole bound (2 ms for the client core). Until something was
 * measured, and again after a mark ran out with nothing read (the server framed differently, or
 * was slow), it goes down unscaled: the framing only adds bytes, so that mark is always reached.
 */
static void tls_set_read_low_water(mqtt5_filter *f, uint32_t bytes)
{
    tls_conn *c = CONN(f);
    uint64_t down = 1;
    if (bytes <= 1) {
        if (c->mark && !c->mark_read) c->mark_wire = c->mark_plain = 0;
        c->mark = 0;
    } else {
        if (bytes != c->mark || c->mark_read) { /* a new wait */
            c->mark = bytes;
            c->mark_read = false;
        }
        down = bytes;
        if (c->mark_plain > 0 && c->mark_wire > c->mark_plain) {
            uint64_t ratio16 = c->mark_wire * 16 / c->mark_plain; /* wire per plaintext, x16 */
            if (ratio16 > 16 * 16) ratio16 = 16 * 16;
            down = (uint64_t)bytes * ratio16 * 3 / (16 * 4);
            if (down < bytes) down = bytes;
        }
    }
    mqtt5_filter_set_read_low_water(f->lower, down > UINT32_MAX ? UINT32_MAX : (uint32_t)down);
}

static void tls_destroy(mqtt5_filter *f)
{
    tls_conn *c = CONN(f);
    SSL_free(c->ssl);
    mqtt5_tls_ctx_release(c->ctx);
    mqtt5_filter_error_free(&c->e);
    free(c);
}

static const mqtt5_filter_ops tls_ops = {
    .name = "tls",
    .connect = tls_connect,
    .write = tls_write,
    .pending = tls_pending,
    .close = tls_close,
    .query = tls_query,
    .set_read_low_water = tls_set_read_low_water,
    .destroy = tls_destroy,
    .on_open = tls_on_open,
    .on_read = tls_on_read,
    .on_writable = tls_on_writable,
    .on_closed = tls_on_closed,
};

static bool is_ip_literal(const char *host)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

/* Name checks (IP SAN or DNS name) and SNI for DNS names only (RFC 6066). */
static int set_peer_name(tls_conn *c)
{
    bool ip = is_ip_literal(c->host);
    if (!ip) {
        size_t len = strlen(c->host);
        if (len > 1 && c->host[len - 1] == '.') c->host[len - 1] = '\0';
    }
    ERR_clear_error();
    if (c->ctx->verify_peer) {
        if (ip) {
            if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), c->host) != 1) return -1;
        } else {
            SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            if (SSL_set1_host(c->ssl, c->host) != 1) return -1;
        }
    }
    if (!ip) {
        if (SSL_set_tlsext_host_name(c->ssl, c->host) != 1) return -1;
        c->sni = true;
    }
    return 0;
}

int mqtt5_tls_filter_new(mqtt5_tls_ctx *ctx, const char *host, mqtt5_filter **out)
{
    *out = NULL;
    const char *name = ctx && ctx->server_name ? ctx->server_name : host;
    if (!ctx || !name || !name[0] || strlen(name) >= sizeof((tls_conn *)0)->host)
        return MQTT5_ERR_INVALID_ARGUMENT;
    tls_conn *c = calloc(1, sizeof *c);
    if (!c) return MQTT5_ERR_NOMEM;
    memcpy(c->host, name, strlen(name) + 1);
    c->ctx = ctx;
    mqtt5_tls_ctx_acquire(ctx);
    c->f.ops = &tls_ops;
    c->f.ctx = c;
    c->diag.ctx = ctx;
    c->diag.host = c->host;
    c->diag.first_byte = -1;
    ERR_clear_error();
    c->ssl = SSL_new(ctx->ssl);
    c->rbio = BIO_new(BIO_s_mem());
    c->wbio = BIO_new(BIO_s_mem());
    if (!c->ssl || !c->rbio || !c->wbio) {
        BIO_free(c->rbio);
        BIO_free(c->wbio);
        tls_destroy(&c->f);
        ERR_clear_error();
        return MQTT5_ERR_NOMEM;
    }
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
    SSL_set_connect_state(c->ssl);
    SSL_set_app_data(c->ssl, &c->diag);
    if (set_peer_name(c) != 0) {
        tls_destroy(&c->f);
        ERR_clear_error();
        return MQTT5_ERR_INVALID_ARGUMENT;
    }
    *out = &c->f;
    return 0;
}
