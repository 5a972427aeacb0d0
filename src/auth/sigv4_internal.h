/*
 * auth/sigv4_internal.h - the pieces behind mqtt5_sigv4_sign() (mqtt5/sigv4.h): a growable text
 * buffer on an mqtt5_allocator with AWS URI encoding (sigv4_buf.c), input validation
 * (sigv4_validate.c), canonical path, query and headers (sigv4_canonical*.c) and the SHA-256 /
 * HMAC chain (sigv4_crypto.c, the only user of OpenSSL here).
 */
#ifndef MQTT5_AUTH_SIGV4_INTERNAL_H
#define MQTT5_AUTH_SIGV4_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt5/sigv4.h"

/* ---- text buffer (sigv4_buf.c) --------------------------------------------------------------
 * A NUL-terminated growable string. Appends after a failed one are no-ops and `failed` stays
 * set, so a sequence of appends needs one check at the end. Freed memory is wiped first. */
typedef struct mqtt5_sigv4_buf {
    char *ptr;
    size_t len, cap;
    bool failed;
    const mqtt5_allocator *alloc;
} mqtt5_sigv4_buf;

void mqtt5_sigv4_buf_init(mqtt5_sigv4_buf *b, const mqtt5_allocator *alloc);
void mqtt5_sigv4_buf_clean(mqtt5_sigv4_buf *b);
void mqtt5_sigv4_buf_append(mqtt5_sigv4_buf *b, const void *data, size_t n);
void mqtt5_sigv4_buf_append_str(mqtt5_sigv4_buf *b, const char *s);
void mqtt5_sigv4_buf_append_char(mqtt5_sigv4_buf *b, char c);
/* %XX-encodes every byte but A-Z a-z 0-9 - _ . ~ (and "/" when keep_slash). */
void mqtt5_sigv4_buf_append_uri_encoded(mqtt5_sigv4_buf *b, const char *s, size_t n,
                                        bool keep_slash);
/* Decodes %XX (either case); "+" stays "+". Returns false on a malformed escape. */
bool mqtt5_sigv4_buf_append_uri_decoded(mqtt5_sigv4_buf *b, const char *s, size_t n);
/* Lower-case hex of n bytes. */
void mqtt5_sigv4_buf_append_hex(mqtt5_sigv4_buf *b, const uint8_t *data, size_t n);
/* The text so far ("" before the first append). */
const char *mqtt5_sigv4_buf_cstr(const mqtt5_sigv4_buf *b);
/* MQTT5_OK, or MQTT5_ERR_NOMEM when an append failed. */
int mqtt5_sigv4_buf_status(const mqtt5_sigv4_buf *b);

bool mqtt5_sigv4_is_unreserved(unsigned char c);
char mqtt5_sigv4_ascii_lower(char c);
/* ASCII case-insensitive equality of s[0..n) and the NUL-terminated lower-case `lower`. */
bool mqtt5_sigv4_eq_lower(const char *s, size_t n, const char *lower);

/* ---- validation (sigv4_validate.c) ------------------------------------------------------------
 * Each returns MQTT5_OK or fills `status` (field + detail) and returns the error. */
int mqtt5_sigv4_validate_config(const mqtt5_sigv4_config *cfg, mqtt5_codec_status *status);
int mqtt5_sigv4_validate_request(const mqtt5_sigv4_request *req, mqtt5_codec_status *status);
int mqtt5_sigv4_fail(mqtt5_codec_status *status, int err, const char *field, const char *detail);

/* ---- canonical request parts (sigv4_canonical.c, sigv4_canonical_headers.c) ------------------ */

/* The canonical URI of `path` (NULL/"" = "/") per normalize_path and double_encode_path. */
void mqtt5_sigv4_canonical_path(mqtt5_sigv4_buf *out, const char *path, bool normalize,
                                bool double_encode);

/* One query parameter, both parts URI-encoded the canonical way (owned by the list). */
typedef struct mqtt5_sigv4_param {
    mqtt5_sigv4_buf key, value;
} mqtt5_sigv4_param;

typedef struct mqtt5_sigv4_params {
    mqtt5_sigv4_param *items;
    size_t count, cap;
    const mqtt5_allocator *alloc;
} mqtt5_sigv4_params;

void mqtt5_sigv4_params_init(mqtt5_sigv4_params *p, const mqtt5_allocator *alloc);
void mqtt5_sigv4_params_clean(mqtt5_sigv4_params *p);
/* Decodes and re-encodes each parameter of the wire query `query` (NULL = none) into `p`.
 * MQTT5_ERR_INVALID_ARGUMENT on a bad %-escape or a signing parameter; MQTT5_ERR_NOMEM. */
int mqtt5_sigv4_params_parse(mqtt5_sigv4_params *p, const char *query, mqtt5_codec_status *status);
/* Appends an unencoded key and value, encoding both. */
int mqtt5_sigv4_params_add(mqtt5_sigv4_params *p, const char *key, const char *value);
/* Sorts by key then value and writes "k=v&k=v". */
void mqtt5_sigv4_params_write_sorted(mqtt5_sigv4_params *p, mqtt5_sigv4_buf *out);

/* A header that takes part in signing, in request order (index breaks ties when sorting). */
typedef struct mqtt5_sigv4_signing_header {
    const char *name;
    const char *value;
    size_t index;
} mqtt5_sigv4_signing_header;

/* Canonical header block ("name:value\n" per distinct name) and the signed header list
 * ("a;b;c") of `headers` minus the never-signed ones. `scratch` holds count entries and is
 * sorted in place. */
void mqtt5_sigv4_canonical_headers(mqtt5_sigv4_signing_header *scratch, size_t count,
                                   mqtt5_sigv4_buf *block, mqtt5_sigv4_buf *signed_headers);
/* true for headers never signed (User-Agent, Connection, ...). */
bool mqtt5_sigv4_header_is_skipped(const char *name);

/* ---- result (sigv4_result.c) ------------------------------------------------------------------
 */

/* What mqtt5_sigv4_sign() computed; borrowed by mqtt5_sigv4_result_build(). */
typedef struct mqtt5_sigv4_outputs {
    const mqtt5_sigv4_buf *canonical_request, *string_to_sign, *signed_headers, *scope;
    const mqtt5_sigv4_buf *authorization; /* header form */
    const mqtt5_sigv4_buf *query;         /* query form */
    const char *payload_hash, *signature, *datetime;
    const char *token; /* NULL = none */
    const mqtt5_sigv4_config *config;
} mqtt5_sigv4_outputs;

/* Copies the outputs into one block owned by `out` and points its fields into it. */
int mqtt5_sigv4_result_build(mqtt5_sigv4_result *out, const mqtt5_sigv4_outputs *o,
                             const mqtt5_allocator *alloc);

/* ---- crypto (sigv4_crypto.c) ------------------------------------------------------------------
 */

/* Lower-case hex SHA-256 of data[0..n) into hex[65]. MQTT5_ERR_NOMEM if OpenSSL fails. */
int mqtt5_sigv4_sha256_hex(const void *data, size_t n, char hex[65]);
/* hex(HMAC(kSigning, string_to_sign)) with kSigning derived from the secret, the date (first 8
 * characters of datetime), region and service; every derived key is wiped. */
int mqtt5_sigv4_signature(const char *secret, const char *datetime, const char *region,
                          const char *service, const char *string_to_sign, size_t sts_len,
                          char hex[65]);

#endif
