/*
 * transports/tls_ctx.c - builds the per-client SSL_CTX from mqtt5_tls_options: trust, client
 * certificate and key (PEM here; PKCS#12 files in tls_pkcs12.c, keys on PKCS#11 tokens in
 * tls_pkcs11.c), ALPN, protocol versions, callbacks. It reads files itself (<= 1 MiB) so
 * key bytes can be wiped after parsing. It does no network I/O and keeps no per-connection state.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "transports/tls_internal.h"

#define MAX_FILE (1u << 20)

void mqtt5_tls_options_init(mqtt5_tls_options *o)
{
    memset(o, 0, sizeof *o);
    o->verify_peer = true;
    o->min_version = MQTT5_TLS_VERSION_1_2;
}

static int fail(mqtt5_codec_status *st, int err, const char *field, const char *detail)
{
    if (st) {
        memset(st, 0, sizeof *st);
        st->error = err;
        st->field = field;
        st->detail = detail;
    }
    ERR_clear_error();
    return err;
}

/* Whole file into a fresh buffer; the caller wipes and frees it. */
static int read_file(const char *path, uint8_t **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > (off_t)MAX_FILE) {
        close(fd);
        return -1;
    }
    size_t n = (size_t)sb.st_size, got = 0;
    uint8_t *buf = malloc(n + 1);
    if (!buf) {
        close(fd);
        return -1;
    }
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    *out = buf;
    *len = got;
    return 0;
}

static void wipe_free(uint8_t *p, size_t n)
{
    if (!p) return;
    OPENSSL_cleanse(p, n);
    free(p);
}

static int load_trust_bytes(SSL_CTX *ssl, const uint8_t *p, size_t n)
{
    BIO *bio = BIO_new_mem_buf(p, (int)n);
    if (!bio) return 0;
    STACK_OF(X509_INFO) *infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!infos) return 0;
    X509_STORE *store = SSL_CTX_get_cert_store(ssl);
    int added = 0;
    for (int i = 0; i < sk_X509_INFO_num(infos); i++) {
        X509_INFO *xi = sk_X509_INFO_value(infos, i);
        if (xi->x509 && X509_STORE_add_cert(store, xi->x509) == 1) added++;
    }
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    return added;
}

static int load_trust(mqtt5_tls_ctx *c, const mqtt5_tls_options *o, mqtt5_codec_status *st)
{
    if (o->ca_bytes && (o->ca_file || o->ca_dir))
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "ca_bytes",
                    "give ca_bytes or ca_file/ca_dir, not both");
    if (o->ca_bytes) {
        if (o->ca_len == 0 || o->ca_len > MAX_FILE ||
            !load_trust_bytes(c->ssl, o->ca_bytes, o->ca_len))
            return fail(st, MQTT5_ERR_TLS_CREDENTIALS, "ca_bytes", "no PEM certificate found");
        snprintf(c->trust, sizeof c->trust, "ca_bytes");
        return 0;
    }
    if (o->ca_file) {
        uint8_t *buf = NULL;
        size_t n = 0;
        if (read_file(o->ca_file, &buf, &n) != 0)
            return fail(st, MQTT5_ERR_TLS_CREDENTIALS, "ca_file", "cannot read the file");
        int added = n > 0 ? load_trust_bytes(c->ssl, buf, n) : 0;
        free(buf);
        if (!added)
            return fail(st, MQTT5_ERR_TLS_CREDENTIALS, "ca_file", "no PEM certificate found");
        snprintf(c->trust, sizeof c->trust, "ca_file '%s'", o->ca_file);
    }
    if (o->ca_dir) {
        struct stat sb;
        if (stat(o->ca_dir, &sb) != 0 || !S_ISDIR(sb.st_mode) ||
            SSL_CTX_load_verify_locations(c->ssl, NULL, o->ca_dir) != 1)
            return fail(st, MQTT5_ERR_TLS_CREDENTIALS, "ca_dir", "not a readable directory");
        if (!o->ca_file) snprintf(c->trust, sizeof c->trust, "ca_dir '%s'", o->ca_dir);
    }
    if (!o->ca_file && !o->ca_dir) {
        if (SSL_CTX_set_default_verify_paths(c->ssl) != 1)
            return fail(st, MQTT5_ERR_TLS_CREDENTIALS, "ca_file", "cannot load the system store");
        snprintf(c->trust, sizeof c->trust, "the system store");
    }
    return 0;
}

/* The leaf certificate and its chain from PEM bytes. */
static int load_cert(SSL_CTX *ssl, const uint8_t *p, size_t n)
{
    BIO *bio = BIO_new_mem_buf(p, (int)n);
    if (!bio) return 0;
    X509 *leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    int ok = leaf && SSL_CTX_use_certificate(ssl, leaf) == 1;
    X509_free(leaf);
    X509 *extra;
    while (ok && (extra = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        ok = SSL_CTX_add1_chain_cert(ssl, extra) == 1;
        X509_free(extra);
    }
    BIO_free(bio);
    return ok;
}

static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return 0; /* encrypted keys are refused, never prompted for */
}

static EVP_PKEY *parse_key(const uint8_t *p, size_t n)
{
    BIO *bio = BIO_new_mem_buf(p, (int)n);
    if (!bio) return NULL;
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
    BIO_free(bio);
    return key;
}

static int load_credentials(mqtt5_tls_ctx *c, const mqtt5_tls_options *o, mqtt5_codec_status *st)
{
    bool has_cert = o->cert_file || o->cert_bytes, has_key = o->key_file || o->key_bytes;
    const char *cert_field = o->cert_file ? "cert_file" : "cert_bytes";
    const char *key_field = o->key_file ? "key_file" : "key_bytes";
    if (o->pkcs12_file || o->pkcs12_password) return mqtt5_tls_load_pkcs12(c, o, st);
    if (o->cert_file && o->cert_bytes)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "cert_bytes", "give cert_file or cert_bytes");
    if (o->key_file && o->key_bytes)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "key_bytes", "give key_file or key_bytes");
    if (o->pkcs11 && has_key)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, key_field,
                    "the private key is on the PKCS#11 token: give no key_file/key_bytes");
    if (o->pkcs11 && !has_cert)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "cert_file",
                    "a PKCS#11 key needs its certificate in cert_file or cert_bytes");
    if (!o->pkcs11 && has_cert != has_key)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, has_cert ? "key_file" : "cert_file",
                    "a client certificate needs both a certificate and a key");
    if (!has_cert) return 0;

    uint8_t *buf = NULL;
    size_t n = 0;
    int ok;
    if (o->cert_file) {
        if (read_file(o->cert_file, &buf, &n) != 0)
            return fail(st, MQTT5_ERR_TLS_CREDENTIALS, cert_field, "cannot read the file");
        ok = n > 0 && load_cert(c->ssl, buf, n);
        free(buf);
    } else {
        ok = o->cert_len > 0 && o->cert_len <= MAX_FILE &&
             load_cert(c->ssl, o->cert_bytes, o->cert_len);
    }
    if (!ok) return fail(st, MQTT5_ERR_TLS_CREDENTIALS, cert_field, "no usable PEM certificate");
    if (o->pkcs11) return mqtt5_tls_load_pkcs11(c, o->pkcs11, st);

    buf = NULL;
    if (o->key_file) {
        if (read_file(o->key_file, &buf, &n) != 0)
            return fail(st, MQTT5_ERR_TLS_CREDENTIALS, key_field, "cannot read the file");
    } else {
        n = o->key_len;
        if (n == 0 || n > MAX_FILE || !(buf = malloc(n)))
            return fail(st, n && n <= MAX_FILE ? MQTT5_ERR_NOMEM : MQTT5_ERR_TLS_CREDENTIALS,
                        key_field, "no usable PEM private key");
        memcpy(buf, o->key_bytes, n);
    }
    EVP_PKEY *key = n > 0 ? parse_key(buf, n) : NULL;
    wipe_free(buf, n);
    if (!key)
        return fail(st, MQTT5_ERR_TLS_CREDENTIALS, key_field,
                    "no usable PEM private key (encrypted keys are not supported)");
    ok = SSL_CTX_use_PrivateKey(c->ssl, key) == 1 && SSL_CTX_check_private_key(c->ssl) == 1;
    EVP_PKEY_free(key);
    if (!ok)
        return fail(st, MQTT5_ERR_TLS_CREDENTIALS, key_field,
                    "private key does not match the certificate");
    c->has_cert = true;
    return 0;
}

static int load_alpn(mqtt5_tls_ctx *c, const mqtt5_tls_options *o, mqtt5_codec_status *st)
{
    if (o->alpn_count == 0) return 0;
    if (!o->alpn) return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "alpn", "alpn is NULL");
    size_t total = 0;
    for (size_t i = 0; i < o->alpn_count; i++) {
        size_t len = o->alpn[i] ? strlen(o->alpn[i]) : 0;
        if (len == 0 || len > 255)
            return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "alpn", "each name needs 1..255 bytes");
        total += len + 1;
    }
    if (total > 65535) return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "alpn", "list too long");
    unsigned char *wire = malloc(total);
    if (!wire) return fail(st, MQTT5_ERR_NOMEM, "alpn", NULL);
    size_t at = 0, desc = 0;
    for (size_t i = 0; i < o->alpn_count; i++) {
        size_t len = strlen(o->alpn[i]);
        wire[at++] = (unsigned char)len;
        memcpy(wire + at, o->alpn[i], len);
        at += len;
        if (desc < sizeof c->alpn) {
            int w =
                snprintf(c->alpn + desc, sizeof c->alpn - desc, "%s%s", i ? ", " : "", o->alpn[i]);
            desc += w > 0 ? (size_t)w : 0;
        }
    }
    int rc = SSL_CTX_set_alpn_protos(c->ssl, wire, (unsigned)total); /* 0 is success */
    free(wire);
    return rc == 0 ? 0 : fail(st, MQTT5_ERR_NOMEM, "alpn", NULL);
}

static int load_versions(mqtt5_tls_ctx *c, const mqtt5_tls_options *o, mqtt5_codec_status *st)
{
    int min = o->min_version ? o->min_version : MQTT5_TLS_VERSION_1_2;
    if (min != MQTT5_TLS_VERSION_1_2 && min != MQTT5_TLS_VERSION_1_3)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "min_version", "TLS 1.2 or 1.3 only");
    if (o->max_version && (o->max_version < min || o->max_version > MQTT5_TLS_VERSION_1_3))
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "max_version", "below min_version or unknown");
    if (SSL_CTX_set_min_proto_version(c->ssl, min) != 1 ||
        SSL_CTX_set_max_proto_version(c->ssl, o->max_version) != 1)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "min_version", "refused by OpenSSL");
    return 0;
}

int mqtt5_tls_ctx_new(const mqtt5_tls_options *o, mqtt5_tls_ctx **out, mqtt5_codec_status *st)
{
    if (!o || !out) return fail(st, MQTT5_ERR_INVALID_ARGUMENT, o ? "out" : "options", NULL);
    *out = NULL;
    mqtt5_tls_ctx *c = calloc(1, sizeof *c);
    if (!c) return fail(st, MQTT5_ERR_NOMEM, NULL, NULL);
    atomic_init(&c->refs, 1);
    c->verify_peer = o->verify_peer;
    c->require_alpn = o->require_alpn;
    ERR_clear_error();
    c->ssl = SSL_CTX_new(TLS_client_method());
    int rc = c->ssl ? 0 : fail(st, MQTT5_ERR_NOMEM, NULL, "SSL_CTX_new failed");
    if (!rc && o->server_name && !(c->server_name = strdup(o->server_name)))
        rc = fail(st, MQTT5_ERR_NOMEM, "server_name", NULL);
    if (!rc && o->server_name && o->server_name[0] == '\0')
        rc = fail(st, MQTT5_ERR_INVALID_ARGUMENT, "server_name", "empty");
    if (!rc) rc = load_versions(c, o, st);
    if (!rc) rc = load_trust(c, o, st);
    if (!rc) rc = load_credentials(c, o, st);
    if (!rc) rc = load_alpn(c, o, st);
    if (rc) {
        mqtt5_tls_ctx_release(c);
        return rc;
    }
    SSL_CTX_set_mode(c->ssl, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_verify(c->ssl, c->verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
                       mqtt5_tls_verify_cb);
    if (!c->has_cert) SSL_CTX_set_client_cert_cb(c->ssl, mqtt5_tls_client_cert_cb);
    if (st) memset(st, 0, sizeof *st);
    *out = c;
    return 0;
}

void mqtt5_tls_ctx_acquire(mqtt5_tls_ctx *ctx)
{
    atomic_fetch_add(&ctx->refs, 1);
}

void mqtt5_tls_ctx_release(mqtt5_tls_ctx *ctx)
{
    if (!ctx || atomic_fetch_sub(&ctx->refs, 1) != 1) return;
    SSL_CTX_free(ctx->ssl);
    mqtt5_tls_pkcs11_release(ctx->pkcs11); /* after the SSL_CTX: it held the token's key */
    free(ctx->server_name);
    free(ctx);
}
