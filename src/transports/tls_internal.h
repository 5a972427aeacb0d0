/*
 * transports/tls_internal.h - what tls_ctx.c, tls.c and tls_errors.c share: the loaded context,
 * the per-connection diagnostics the OpenSSL callbacks record, the error mapper and the TLS
 * filter constructor. Only tls*.c include it (it pulls in OpenSSL); it holds no logic.
 */
#ifndef MQTT5_TRANSPORTS_TLS_INTERNAL_H
#define MQTT5_TRANSPORTS_TLS_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "mqtt5/tls.h"
#include "transports/filter.h"
#include "transports/tls_filter.h"

struct mqtt5_tls_ctx {
    SSL_CTX *ssl;
    atomic_int refs;
    bool verify_peer, require_alpn, has_cert;
    char trust[160];   /* "ca_file '/p/ca.crt'", "ca_bytes", "the system store", for details */
    char alpn[160];    /* "mqtt, x-amzn-mqtt-ca", for details */
    char *server_name; /* copy of the option or NULL */
    /* the loaded PKCS#11 module the key lives in (tls_pkcs11.c), or NULL; released after the
     * SSL_CTX, which holds the key */
    struct mqtt5_tls_pkcs11_module *pkcs11;
};

/* Recorded during one connection's handshake by the callbacks in tls_errors.c. */
typedef struct mqtt5_tls_diag {
    const mqtt5_tls_ctx *ctx;
    const char *host;   /* the name or IP literal verified */
    bool asked_no_cert; /* the server sent CertificateRequest and we had no certificate */
    bool handshake_done;
    int first_byte;   /* of the peer's first bytes, -1 before any: TLS sends 0x15 or 0x16 */
    int verify_error; /* first X509_V_ERR_* seen, 0 for none */
    int verify_depth;
    char subject[96], issuer[96], names[128]; /* RFC 2253 names; the leaf's SANs (<= 4) */
    char leaf[96];                            /* the server certificate's subject */
} mqtt5_tls_diag;

/* Add one reference (a connection keeps its context alive). */
void mqtt5_tls_ctx_acquire(mqtt5_tls_ctx *ctx);

/* OpenSSL callbacks installed on every SSL_CTX; they find the mqtt5_tls_diag via
 * SSL_get_app_data(). The verify callback keeps OpenSSL's verdict. */
int mqtt5_tls_verify_cb(int preverify_ok, X509_STORE_CTX *x);
int mqtt5_tls_client_cert_cb(SSL *ssl, X509 **cert, EVP_PKEY **key);

/*
 * Classify a failed SSL call: `ssl_error` is SSL_get_error()'s answer and the thread's OpenSSL
 * error queue is still intact. Returns a MQTT5_ERR_TLS_* code and writes a one-line detail.
 */
int mqtt5_tls_map_error(const mqtt5_tls_diag *d, int ssl_error, char *detail, size_t cap);

/* tls_pkcs12.c: certificate, key and chain from o->pkcs12_file into c->ssl (checks that the
 * PKCS#12 options exclude the PEM and PKCS#11 ones). 0 or an error with `st` filled. */
int mqtt5_tls_load_pkcs12(mqtt5_tls_ctx *c, const mqtt5_tls_options *o, mqtt5_codec_status *st);
/* tls_pkcs11.c: the private key on a PKCS#11 token into c->ssl, whose certificate is set; sets
 * c->pkcs11 (even on failure, once the module is loaded). 0 or an error with `st` filled. */
int mqtt5_tls_load_pkcs11(mqtt5_tls_ctx *c, const mqtt5_tls_pkcs11_options *p,
                          mqtt5_codec_status *st);
/* Drop a context's reference on its PKCS#11 module; the last one unloads it. NULL is ignored. */
void mqtt5_tls_pkcs11_release(struct mqtt5_tls_pkcs11_module *m);

#endif
