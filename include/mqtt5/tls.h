/*
 * mqtt5/tls.h - TLS options and the loaded TLS context shared by a client's connections.
 *
 * mqtt5_tls_ctx_new() reads and checks every file and buffer at once, so a bad option fails
 * there and `status->field` names it ("ca_file", "key_file", "alpn", ...). The context is
 * reference counted: each connection holds a reference, so releasing it while connections are
 * open is safe. This header declares the API only; it exposes no OpenSSL type.
 */
#ifndef MQTT5_TLS_H
#define MQTT5_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt5/codec.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MQTT5_TLS_VERSION_1_2 0x0303
#define MQTT5_TLS_VERSION_1_3 0x0304

/*
 * Start from mqtt5_tls_options_init(): a zeroed struct has verify_peer = false.
 * Defaults are in the comments. Every pointer is only read during mqtt5_tls_ctx_new().
 */
typedef struct mqtt5_tls_options {
    bool verify_peer;        /* true: the server's chain and name are checked */
    const char *server_name; /* NULL: the connection's host is used for SNI and verification */
    /* Trust: ca_bytes, or ca_file and/or ca_dir; none of them: the system store. */
    const char *ca_file, *ca_dir; /* NULL */
    const uint8_t *ca_bytes;      /* NULL; PEM, one or more certificates */
    size_t ca_len;
    /* Client certificate (PEM chain, leaf first) and key (PEM PKCS#1, PKCS#8 or SEC1, RSA or EC,
     * unencrypted): from files or from memory, all NULL by default. Key bytes are copied,
     * parsed and the copy wiped; a key must match the certificate. */
    const char *cert_file, *key_file;
    const uint8_t *cert_bytes, *key_bytes;
    size_t cert_len, key_len;
    const char *const *alpn; /* NULL: no ALPN offered; each name 1..255 bytes */
    size_t alpn_count;       /* 0 */
    bool require_alpn;       /* false: a server selecting nothing (mosquitto) is accepted */
    uint16_t min_version;    /* MQTT5_TLS_VERSION_1_2 (0 means the same); never lower */
    uint16_t max_version;    /* 0: the newest OpenSSL supports */
    /* PKCS#12 (.p12/.pfx, OpenSSL 3 default or legacy RC2/3DES encryption): certificate, key and
     * chain from one file; the password NULL = none. Exclusive with the certificate/key fields
     * above and with pkcs11. */
    const char *pkcs12_file, *pkcs12_password;
    /* The private key on a PKCS#11 token (HSM, smart card, SoftHSM): it never leaves the token;
     * the certificate comes from cert_file or cert_bytes. Exclusive with key_file/key_bytes. */
    const struct mqtt5_tls_pkcs11_options *pkcs11; /* NULL */
} mqtt5_tls_options;

typedef struct mqtt5_tls_pkcs11_options {
    const char *lib_path; /* required: the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so */
    const char *user_pin; /* NULL: no login with a PIN (protected authentication path) */
    bool has_slot_id;     /* false: any slot (with token_label: the token of that label) */
    uint64_t slot_id;
    const char *token_label; /* NULL: any token (the first with a matching key) */
    const char *key_label;   /* NULL: the token's only private key */
} mqtt5_tls_pkcs11_options;

/* Fill `o` with the defaults above. */
void mqtt5_tls_options_init(mqtt5_tls_options *o);

typedef struct mqtt5_tls_ctx mqtt5_tls_ctx;

/*
 * Load `o` into a new context (*out, one reference). Returns 0, or a negative mqtt5_error with
 * `status` (may be NULL) naming the option: MQTT5_ERR_INVALID_ARGUMENT for contradictory or
 * malformed options, MQTT5_ERR_TLS_CREDENTIALS for unreadable or unusable certificates and keys
 * (including a key that does not match its certificate, a wrong PKCS#12 password: field
 * "pkcs12_password", a wrong PIN: "pkcs11.user_pin"), MQTT5_ERR_FILE for a missing pkcs12_file
 * or PKCS#11 module ("pkcs11.lib_path"), MQTT5_ERR_NOMEM. Details that name PKCS#11 tokens and
 * keys live in a per-thread buffer until the next failing call on the same thread.
 */
int mqtt5_tls_ctx_new(const mqtt5_tls_options *o, mqtt5_tls_ctx **out, mqtt5_codec_status *status);

/* Drop one reference; the last one frees the context. NULL is ignored. */
void mqtt5_tls_ctx_release(mqtt5_tls_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
