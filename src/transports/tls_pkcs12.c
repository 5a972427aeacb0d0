/*
 * transports/tls_pkcs12.c - loads a PKCS#12 file (.p12/.pfx) into the client SSL_CTX for
 * mqtt5_tls_ctx_new() (tls_ctx.c): the certificate, its private key and the extra chain
 * certificates. It checks that the PKCS#12 options exclude the PEM and PKCS#11 ones.
 *
 * Files written with OpenSSL 3's defaults (PBES2/AES-256 + HMAC-SHA-256 MAC) parse with the
 * default provider. Legacy files (RC2-40 or 3DES + SHA-1 MAC: `openssl pkcs12 -export -legacy`,
 * OpenSSL 1.x, older Windows exports) need OpenSSL's "legacy" provider. It is loaded lazily, once
 * per process, only when a first parse fails for an unsupported algorithm, and into a private
 * OSSL_LIB_CTX (with "default" beside it) that is made this thread's default just for the retry:
 * the process's own library context never gains RC2 and friends. That context is never freed,
 * since the key and certificates parsed in it keep references on its providers.
 *
 * The password is handed to PKCS12_parse() as it is: no copy is made (so none needs wiping;
 * OpenSSL wipes its own BMPString copy) and it is never logged. The key is freed as soon as the
 * SSL_CTX holds its reference. No network I/O.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include "runtime/log_internal.h"
#include "transports/tls_internal.h"

#define MAX_P12_FILE (1u << 20)

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

/* ---- the legacy provider, in a private library context ------------------------------------ */

static pthread_mutex_t legacy_mu = PTHREAD_MUTEX_INITIALIZER;
static OSSL_LIB_CTX *legacy_libctx; /* never freed (see the header comment) */
static bool legacy_tried;

/* The library context with "legacy" and "default" loaded, made at the first call; NULL when
 * the legacy provider is not installed. */
static OSSL_LIB_CTX *legacy_ctx(void)
{
    pthread_mutex_lock(&legacy_mu);
    if (!legacy_tried) {
        legacy_tried = true;
        OSSL_LIB_CTX *lc = OSSL_LIB_CTX_new();
        if (lc && OSSL_PROVIDER_load(lc, "legacy") && OSSL_PROVIDER_load(lc, "default")) {
            legacy_libctx = lc;
            MQTT5_LOG(MQTT5_LOG_DEBUG, MQTT5_LOG_TLS,
                      "PKCS#12: loaded OpenSSL's legacy provider (private library context)");
        } else {
            OSSL_LIB_CTX_free(lc);
            MQTT5_LOG(MQTT5_LOG_WARN, MQTT5_LOG_TLS,
                      "PKCS#12: OpenSSL's legacy provider cannot be loaded");
        }
    }
    OSSL_LIB_CTX *lc = legacy_libctx;
    pthread_mutex_unlock(&legacy_mu);
    return lc;
}

/* ---- parsing -------------------------------------------------------------------------------- */

typedef enum parse_result {
    P12_OK,
    P12_WRONG_PASSWORD, /* MAC verification failed */
    P12_DECRYPT_FAILED, /* no MAC, and a bag would not decrypt */
    P12_UNSUPPORTED,    /* an algorithm the loaded providers lack (RC2-40, ...) */
    P12_OTHER,
} parse_result;

/* What the thread's OpenSSL error queue says about a failed PKCS12_parse (consumes it). */
static parse_result classify_errors(void)
{
    parse_result r = P12_OTHER;
    unsigned long e;
    while ((e = ERR_get_error()) != 0) {
        int lib = ERR_GET_LIB(e), reason = ERR_GET_REASON(e);
        if (lib == ERR_LIB_PKCS12 && reason == PKCS12_R_MAC_VERIFY_FAILURE)
            return P12_WRONG_PASSWORD;
        if (reason == ERR_R_UNSUPPORTED ||
            (lib == ERR_LIB_EVP &&
             (reason == EVP_R_UNSUPPORTED_ALGORITHM || reason == EVP_R_UNSUPPORTED_CIPHER ||
              reason == EVP_R_UNKNOWN_CIPHER)))
            r = P12_UNSUPPORTED;
        else if (r == P12_OTHER && lib == ERR_LIB_PKCS12 &&
                 reason == PKCS12_R_PKCS12_CIPHERFINAL_ERROR)
            r = P12_DECRYPT_FAILED;
    }
    return r;
}

typedef struct p12_parts {
    EVP_PKEY *key;
    X509 *cert;
    STACK_OF(X509) * chain;
} p12_parts;

static void parts_free(p12_parts *p)
{
    EVP_PKEY_free(p->key);
    X509_free(p->cert);
    sk_X509_pop_free(p->chain, X509_free);
    memset(p, 0, sizeof *p);
}

/* PKCS12_parse with `pass` (NULL: it tries no password and "" itself), in `libctx` (NULL: the
 * thread's current default). */
static parse_result parse(PKCS12 *p12, const char *pass, OSSL_LIB_CTX *libctx, p12_parts *out)
{
    ERR_clear_error();
    OSSL_LIB_CTX *prev = libctx ? OSSL_LIB_CTX_set0_default(libctx) : NULL;
    int ok = PKCS12_parse(p12, pass, &out->key, &out->cert, &out->chain);
    if (libctx) OSSL_LIB_CTX_set0_default(prev);
    if (ok) return P12_OK;
    parts_free(out);
    return classify_errors();
}

/* The file's bytes (at most 1 MiB) or an error naming pkcs12_file. */
static int read_p12(const char *path, PKCS12 **out, mqtt5_codec_status *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        MQTT5_LOG(MQTT5_LOG_ERROR, MQTT5_LOG_TLS, "pkcs12_file '%s': %s", path, strerror(errno));
        return fail(st, MQTT5_ERR_FILE, "pkcs12_file",
                    errno == ENOENT ? "file not found" : "file cannot be opened for reading");
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return fail(st, MQTT5_ERR_FILE, "pkcs12_file", "not a regular file");
    }
    if (sb.st_size == 0 || sb.st_size > (off_t)MAX_P12_FILE) {
        close(fd);
        return fail(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs12_file",
                    "empty or larger than 1 MiB: not a PKCS#12 file");
    }
    size_t n = (size_t)sb.st_size, got = 0;
    unsigned char *buf = malloc(n);
    if (!buf) {
        close(fd);
        return fail(st, MQTT5_ERR_NOMEM, "pkcs12_file", NULL);
    }
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    const unsigned char *p = buf;
    ERR_clear_error();
    PKCS12 *p12 = got == n ? d2i_PKCS12(NULL, &p, (long)n) : NULL;
    free(buf); /* encrypted content: nothing secret in the clear */
    if (!p12)
        return fail(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs12_file",
                    "not a PKCS#12 file (DER .p12/.pfx expected)");
    *out = p12;
    return 0;
}

/* Install the parts into the SSL_CTX: leaf, key (which must match), chain. */
static int install(mqtt5_tls_ctx *c, const p12_parts *p, mqtt5_codec_status *st)
{
    if (!p->key) return fail(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs12_file", "holds no private key");
    if (!p->cert)
        return fail(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs12_file",
                    "holds no certificate for its private key");
    ERR_clear_error();
    if (SSL_CTX_use_certificate(c->ssl, p->cert) != 1)
        return fail(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs12_file",
                    "its certificate is refused by OpenSSL");
    if (SSL_CTX_use_PrivateKey(c->ssl, p->key) != 1 || SSL_CTX_check_private_key(c->ssl) != 1)
        return fail(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs12_file",
                    "its private key does not match its certificate");
    for (int i = 0; p->chain && i < sk_X509_num(p->chain); i++)
        if (SSL_CTX_add1_chain_cert(c->ssl, sk_X509_value(p->chain, i)) != 1)
            return fail(st, MQTT5_ERR_NOMEM, "pkcs12_file", "cannot add a chain certificate");
    c->has_cert = true;
    return 0;
}

int mqtt5_tls_load_pkcs12(mqtt5_tls_ctx *c, const mqtt5_tls_options *o, mqtt5_codec_status *st)
{
    if (!o->pkcs12_file)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "pkcs12_password", "given without pkcs12_file");
    if (!*o->pkcs12_file) return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "pkcs12_file", "empty path");
    if (o->cert_file || o->cert_bytes || o->key_file || o->key_bytes)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "pkcs12_file",
                    "give pkcs12_file or the certificate/key fields (cert_file, key_file, "
                    "cert_bytes, key_bytes), not both");
    if (o->pkcs11)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "pkcs11",
                    "give pkcs12_file or pkcs11, not both");

    PKCS12 *p12 = NULL;
    int rc = read_p12(o->pkcs12_file, &p12, st);
    if (rc) return rc;

    p12_parts parts = {0};
    parse_result r = parse(p12, o->pkcs12_password, NULL, &parts);
    if (r == P12_UNSUPPORTED) {
        OSSL_LIB_CTX *lc = legacy_ctx();
        if (lc) {
            MQTT5_LOG(MQTT5_LOG_DEBUG, MQTT5_LOG_TLS,
                      "pkcs12_file '%s': legacy encryption, parsing with the legacy provider",
                      o->pkcs12_file);
            r = parse(p12, o->pkcs12_password, lc, &parts);
        }
    }
    PKCS12_free(p12);
    switch (r) {
    case P12_OK:
        break;
    case P12_WRONG_PASSWORD:
        return fail(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs12_password",
                    o->pkcs12_password ? "wrong password (MAC verification failed)"
                                       : "the file needs a password (MAC verification failed)");
    case P12_DECRYPT_FAILED:
        return fail(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs12_password",
                    "wrong password (decryption failed)");
    case P12_UNSUPPORTED:
        return fail(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs12_file",
                    "encrypted with an algorithm OpenSSL cannot use here (legacy RC2/3DES needs "
                    "the legacy provider, ossl-modules/legacy.so)");
    default:
        return fail(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs12_file", "cannot parse the PKCS#12 file");
    }
    rc = install(c, &parts, st);
    parts_free(&parts); /* the SSL_CTX keeps its own references */
    return rc;
}
