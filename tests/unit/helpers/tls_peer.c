/*
 * helpers/tls_peer.c - the fake lower filter (an OpenSSL server on memory BIOs), the recording
 * sink and the pump of tls_peer.h. Test support only: it does no network I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "helpers/tls_peer.h"
#include "mqtt5/error.h"
#include "transports/tls_internal.h"

#define PEER(f) ((tls_peer *)(f)->ctx)

static void put(tls_bytes *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) abort();
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void drain_server(tls_peer *t)
{
    char *data = NULL;
    long n = BIO_get_mem_data(SSL_get_wbio(t->server), &data);
    if (n > 0) put(&t->to_client, data, (size_t)n);
    (void)BIO_reset(SSL_get_wbio(t->server));
}

/* ---- fake lower ---- */
static int low_connect(mqtt5_filter *f)
{
    PEER(f)->connect_called = true;
    return 0;
}

static int low_write(mqtt5_filter *f, const mqtt5_iov *v, size_t n)
{
    tls_peer *t = PEER(f);
    if (t->close_called) return MQTT5_ERR_INVALID_STATE;
    for (size_t i = 0; i < n; i++)
        put(&t->to_server, v[i].p, v[i].n);
    return 0;
}

static size_t low_pending(const mqtt5_filter *f)
{
    (void)f;
    return 0;
}

static void low_close(mqtt5_filter *f, int err)
{
    tls_peer *t = PEER(f);
    if (t->close_called) return;
    t->close_called = true;
    t->close_pending = true;
    t->close_err = err;
}

static void low_set_read_low_water(mqtt5_filter *f, uint32_t bytes)
{
    PEER(f)->low_water = bytes;
}

static const mqtt5_filter_ops lower_ops = {
    .name = "fake-lower",
    .connect = low_connect,
    .write = low_write,
    .pending = low_pending,
    .close = low_close,
    .set_read_low_water = low_set_read_low_water,
};

/* ---- sink ---- */
static void sink_on_open(mqtt5_filter *f)
{
    tls_peer *t = PEER(f);
    t->opens++;
    if (t->send_on_open) {
        mqtt5_iov v = {(const uint8_t *)t->send_on_open, strlen(t->send_on_open)};
        (void)f->lower->ops->write(f->lower, &v, 1);
    }
}

static void sink_on_read(mqtt5_filter *f, const uint8_t *p, size_t n)
{
    PEER(f)->reads++;
    put(&PEER(f)->sink_in, p, n);
}

static void sink_on_closed(mqtt5_filter *f, int err, const char *detail)
{
    tls_peer *t = PEER(f);
    t->closes++;
    t->close_up_err = err;
    snprintf(t->close_detail, sizeof t->close_detail, "%s", detail ? detail : "");
}

static const mqtt5_filter_ops sink_ops = {
    .name = "sink",
    .on_open = sink_on_open,
    .on_read = sink_on_read,
    .on_closed = sink_on_closed,
};

/* ---- server ---- */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
    (void)ssl;
    tls_peer *t = arg;
    (void)t;
    enum tls_alpn_mode mode = (enum tls_alpn_mode)(intptr_t)SSL_get_app_data(ssl);
    if (mode == TLS_ALPN_REJECT) return SSL_TLSEXT_ERR_ALERT_FATAL;
    if (mode == TLS_ALPN_NOACK) return SSL_TLSEXT_ERR_NOACK;
    for (unsigned i = 0; i < inlen; i += 1u + in[i]) {
        if (in[i] == 4 && memcmp(in + i + 1, "mqtt", 4) == 0) {
            *out = in + i + 1;
            *outlen = 4;
            return SSL_TLSEXT_ERR_OK;
        }
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

void tls_peer_init(tls_peer *t, const tls_pki *pki, const tls_server_opts *o,
                   mqtt5_tls_ctx *client_ctx, const char *host)
{
    memset(t, 0, sizeof *t);
    t->raw = o->raw;
    t->server_ctx = SSL_CTX_new(TLS_server_method());
    if (!t->server_ctx) abort();
    SSL_CTX_use_certificate(t->server_ctx,
                            o->expired_cert ? pki->expired_server_x509 : pki->server_x509);
    SSL_CTX_use_PrivateKey(t->server_ctx, pki->server_key);
    if (o->max_version) SSL_CTX_set_max_proto_version(t->server_ctx, o->max_version);
    if (o->require_cert) {
        X509_STORE_add_cert(SSL_CTX_get_cert_store(t->server_ctx),
                            o->trust_other_ca ? pki->other_ca_x509 : pki->ca_x509);
        SSL_CTX_set_verify(t->server_ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    if (o->alpn != TLS_ALPN_IGNORE) SSL_CTX_set_alpn_select_cb(t->server_ctx, alpn_select, t);
    t->server = SSL_new(t->server_ctx);
    SSL_set_bio(t->server, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
    SSL_set_accept_state(t->server);
    SSL_set_app_data(t->server, (void *)(intptr_t)o->alpn);

    t->lower = (mqtt5_filter){.ops = &lower_ops, .ctx = t};
    t->sink = (mqtt5_filter){.ops = &sink_ops, .ctx = t};
    if (mqtt5_tls_filter_new(client_ctx, host, &t->tls) != 0) abort();
    mqtt5_filter_stack(&t->lower, t->tls);
    mqtt5_filter_stack(t->tls, &t->sink);
    ERR_clear_error();
}

static void server_step(tls_peer *t)
{
    if (t->server_failed) return;
    if (!t->server_done) {
        int r = SSL_do_handshake(t->server);
        if (r == 1) {
            t->server_done = true;
        } else {
            int e = SSL_get_error(t->server, r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) t->server_failed = true;
        }
    }
    while (t->server_done && !t->server_failed) {
        uint8_t buf[4096];
        int r = SSL_read(t->server, buf, sizeof buf);
        if (r > 0) {
            put(&t->server_in, buf, (size_t)r);
            continue;
        }
        int e = SSL_get_error(t->server, r);
        if (e == SSL_ERROR_ZERO_RETURN)
            t->server_close_notify = true;
        else if (e != SSL_ERROR_WANT_READ)
            t->server_failed = true;
        break;
    }
    drain_server(t);
    ERR_clear_error();
}

static bool feed_server(tls_peer *t)
{
    if (t->to_server.n == 0) return false;
    tls_bytes in = t->to_server;
    t->to_server = (tls_bytes){0};
    size_t step = t->chunk ? t->chunk : in.n;
    for (size_t at = 0; at < in.n; at += step) {
        size_t n = in.n - at < step ? in.n - at : step;
        if (t->raw) continue;
        BIO_write(SSL_get_rbio(t->server), in.p + at, (int)n);
        server_step(t);
    }
    free(in.p);
    return true;
}

static bool feed_client(tls_peer *t)
{
    if (t->to_client.n == 0 || t->closed_up) return false;
    tls_bytes in = t->to_client;
    t->to_client = (tls_bytes){0};
    size_t step = t->chunk ? t->chunk : in.n;
    for (size_t at = 0; at < in.n && !t->closed_up; at += step) {
        size_t n = in.n - at < step ? in.n - at : step;
        t->fed_to_client += n;
        t->tls->ops->on_read(t->tls, in.p + at, n);
    }
    free(in.p);
    return true;
}

void tls_peer_pump(tls_peer *t)
{
    for (int guard = 0; guard < 100000; guard++) {
        bool progress = false;
        if (t->connect_called && !t->open_sent) {
            t->open_sent = true;
            t->tls->ops->on_open(t->tls);
            progress = true;
        }
        progress |= feed_server(t);
        if (!t->close_called) progress |= feed_client(t);
        if (!progress && t->close_pending) {
            t->close_pending = false;
            t->closed_up = true;
            t->tls->ops->on_closed(t->tls, t->close_err, NULL);
            progress = true;
        }
        if (!progress) return;
    }
    abort();
}

void tls_peer_connect(tls_peer *t)
{
    if (t->tls->ops->connect(t->tls) != 0) abort();
    tls_peer_pump(t);
}

void tls_peer_server_send(tls_peer *t, const void *p, size_t n)
{
    if (SSL_write(t->server, p, (int)n) != (int)n) abort();
    drain_server(t);
    tls_peer_pump(t);
}

void tls_peer_server_queue(tls_peer *t, const void *p, size_t n)
{
    if (SSL_write(t->server, p, (int)n) != (int)n) abort();
    drain_server(t);
}

void tls_peer_server_shutdown(tls_peer *t)
{
    (void)SSL_shutdown(t->server);
    drain_server(t);
    ERR_clear_error();
    tls_peer_pump(t);
}

void tls_peer_raw_send(tls_peer *t, const void *p, size_t n)
{
    put(&t->to_client, p, n);
    tls_peer_pump(t);
}

void tls_peer_free(tls_peer *t)
{
    if (t->tls) t->tls->ops->destroy(t->tls);
    SSL_free(t->server);
    SSL_CTX_free(t->server_ctx);
    free(t->to_server.p);
    free(t->to_client.p);
    free(t->server_in.p);
    free(t->sink_in.p);
    memset(t, 0, sizeof *t);
}
