/*
 * mqtt5/sigv4.h - AWS Signature Version 4 (AWS4-HMAC-SHA256) for HTTP requests: the header form
 * (X-Amz-Date + Authorization headers) and the presigned query form (X-Amz-* query parameters),
 * plus the presigned WebSocket path AWS IoT Core expects for MQTT over WebSockets.
 *
 * Sans-I/O: no clock, no network, no files. The caller gives the date-time ("YYYYMMDDTHHMMSSZ",
 * UTC) and the credentials; the signer returns what to add to the request. Everything it computes
 * on the way is exposed too (canonical request, string to sign, signed headers), for tests and for
 * comparing with a server's "The canonical String for this request should have been" message.
 *
 * Canonicalisation (AWS "Create a signed AWS API request", as aws-c-auth implements it):
 *   - path: with normalize_path, "." and empty segments are dropped and ".." pops one, keeping a
 *     leading "/" and a trailing "/"; an empty path is "/". With double_encode_path (all services
 *     but S3) the path, taken as already encoded for the wire, is URI-encoded once more (every byte
 *     but A-Z a-z 0-9 - _ . ~ and "/" becomes %XX, so "%" turns into "%25"); without it the path is
 *     used as given.
 *   - query: split on "&" (empty pieces ignored), each "k=v" (or "k", value "") percent-decoded and
 *     re-encoded (only A-Z a-z 0-9 - _ . ~ kept), sorted by key then value, joined with "&".
 *   - headers: names lower-cased, values trimmed with runs of white space (also folded line breaks)
 *     squashed to one space, repeated names joined with "," in request order, sorted by name.
 *     Never signed (still sent): User-Agent, X-Amzn-Trace-Id, Connection, Expect, Upgrade,
 *     Sec-WebSocket-Key/-Protocol/-Version.
 *   - the request must not already carry Authorization, X-Amz-Date, X-Amz-Content-SHA256,
 *     X-Amz-Security-Token, X-Amz-Region-Set or X-Amz-S3session-Token headers, nor X-Amz-Algorithm,
 *     -Credential, -Date, -Expires, -SignedHeaders, -Signature, -Security-Token or -Region-Set
 *     query parameters (names compared without case): the signer adds those itself.
 *
 * Errors: every call returns 0 or a negative mqtt5_error; with a non-NULL status, status->field
 * names the offending input ("region", "service", "datetime", "credentials.access_key_id",
 * "credentials.secret_access_key", "credentials.session_token", "method", "path", "query",
 * "headers", "payload_hash", "host", "result", "out") and status->detail says what is wrong.
 * Secrets are never logged and never copied into status.
 */
#ifndef MQTT5_SIGV4_H
#define MQTT5_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt5/allocator.h"
#include "mqtt5/codec.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MQTT5_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
/* Hex SHA-256 of the empty string: the payload hash of a request without a body. */
#define MQTT5_SIGV4_EMPTY_PAYLOAD_SHA256                                                           \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MQTT5_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* Longest secret access key accepted (AWS's are 40 characters). */
#define MQTT5_SIGV4_SECRET_MAX 256
/* The signing service of AWS IoT Core's data plane (MQTT over WebSockets). */
#define MQTT5_SIGV4_IOT_SERVICE "iotdevicegateway"

/* One header, both NUL-terminated; the value is used as given (leading blanks and folded lines
 * are fine: canonicalisation trims and squashes them). */
typedef struct mqtt5_sigv4_header {
    const char *name;
    const char *value;
} mqtt5_sigv4_header;

/* The request to sign. Only read during the call. */
typedef struct mqtt5_sigv4_request {
    const char *method;                /* required: "GET", "POST", ... */
    const char *path;                  /* wire form, starting with "/"; NULL or "" = "/" */
    const char *query;                 /* wire form without the "?"; NULL or "" = none */
    const mqtt5_sigv4_header *headers; /* include Host; header_count entries */
    size_t header_count;
    const uint8_t *payload; /* body; NULL with payload_len 0 = none */
    size_t payload_len;
    /* Precomputed payload hash used instead of hashing `payload` (64 hex digits, or a literal
     * such as "UNSIGNED-PAYLOAD" / "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"); NULL = hash payload. */
    const char *payload_hash;
} mqtt5_sigv4_request;

typedef struct mqtt5_sigv4_credentials {
    const char *access_key_id;     /* required */
    const char *secret_access_key; /* required, <= MQTT5_SIGV4_SECRET_MAX; never in any output */
    const char *session_token;     /* NULL or "" = none (long-term credentials) */
} mqtt5_sigv4_credentials;

typedef enum mqtt5_sigv4_form {
    MQTT5_SIGV4_FORM_HEADERS = 0, /* X-Amz-Date [+ token] + Authorization headers */
    MQTT5_SIGV4_FORM_QUERY,       /* presigned: X-Amz-* query parameters */
} mqtt5_sigv4_form;

/* Where the session token (X-Amz-Security-Token) goes when credentials carry one. */
typedef enum mqtt5_sigv4_token_mode {
    /* Part of the canonical request (most services). Query form: a signed query parameter. */
    MQTT5_SIGV4_TOKEN_SIGNED = 0,
    /* Added to the request but not signed (aws-c-auth's omit_session_token). Query form: placed
     * just before X-Amz-Signature; header form: just before X-Amz-Date. */
    MQTT5_SIGV4_TOKEN_APPENDED,
    /* Not signed and added after everything else: query form "...&X-Amz-Signature=...&X-Amz-
     * Security-Token=..." (the AWS IoT documentation and v1 device SDKs); header form after
     * Authorization. The signature is the same as with APPENDED. */
    MQTT5_SIGV4_TOKEN_APPENDED_LAST,
} mqtt5_sigv4_token_mode;

/* The payload hash that ends the canonical request. */
typedef enum mqtt5_sigv4_payload_mode {
    MQTT5_SIGV4_PAYLOAD_REQUEST = 0, /* request->payload_hash if set, else SHA-256 of the payload */
    MQTT5_SIGV4_PAYLOAD_EMPTY,       /* MQTT5_SIGV4_EMPTY_PAYLOAD_SHA256 whatever the body */
    MQTT5_SIGV4_PAYLOAD_UNSIGNED,    /* "UNSIGNED-PAYLOAD" (S3 presigned URLs) */
} mqtt5_sigv4_payload_mode;

/* Start from mqtt5_sigv4_config_init(); defaults are in the comments. Only read during the call. */
typedef struct mqtt5_sigv4_config {
    const char *region;   /* required, e.g. "us-east-1" */
    const char *service;  /* required, e.g. "iotdevicegateway", "s3", "execute-api" */
    const char *datetime; /* required: UTC "YYYYMMDDTHHMMSSZ"; the date part forms the scope */
    mqtt5_sigv4_credentials credentials;
    mqtt5_sigv4_form form;             /* HEADERS */
    bool double_encode_path;           /* true; false for S3 */
    bool normalize_path;               /* true; false for S3 */
    mqtt5_sigv4_token_mode token_mode; /* SIGNED */
    /* Query form: X-Amz-Expires (1..604800); 0 = parameter omitted (AWS IoT). Default 0.
     * Ignored by the header form. */
    uint32_t expires_seconds;
    mqtt5_sigv4_payload_mode payload_mode; /* REQUEST */
    /* Header form: add and sign "x-amz-content-sha256: <payload hash>" (S3 needs it). false.
     * Ignored by the query form. */
    bool add_content_sha256_header;
} mqtt5_sigv4_config;

void mqtt5_sigv4_config_init(mqtt5_sigv4_config *cfg);

/*
 * The outcome of a signing. All strings are NUL-terminated and live in one block owned by the
 * result (allocated with the allocator given to mqtt5_sigv4_sign); they stay valid until
 * mqtt5_sigv4_result_clean(), which wipes and frees the block. Header names are static strings.
 */
typedef struct mqtt5_sigv4_result {
    const char *canonical_request;
    const char *string_to_sign;
    const char *signed_headers;   /* "host;x-amz-date" */
    const char *credential_scope; /* "20150830/us-east-1/service/aws4_request" */
    const char *payload_hash;
    char signature[65]; /* lower-case hex */
    /* Header form: the headers to add to the request, in this order: X-Amz-Security-Token (if
     * a token, unless APPENDED_LAST), X-Amz-Date, x-amz-content-sha256 (if asked), Authorization,
     * X-Amz-Security-Token (APPENDED_LAST). Query form: header_count 0. */
    mqtt5_sigv4_header headers[4];
    size_t header_count;
    const char *authorization; /* header form: the Authorization value; query form: NULL */
    /* Query form: the query string to send (after "?"): the request's own query as given, then
     * X-Amz-Algorithm, -Credential, -Date, -SignedHeaders[, -Expires][, -Security-Token],
     * -Signature[, -Security-Token when APPENDED_LAST]. Header form: NULL (send the request's
     * own query unchanged). */
    const char *query;
    /* private */
    void *mem_;
    size_t mem_size_;
    const mqtt5_allocator *alloc_;
} mqtt5_sigv4_result;

/*
 * Signs `req` as `cfg` says. `alloc` NULL = libc. On success fills *out (call
 * mqtt5_sigv4_result_clean() when done); on failure *out is zeroed and needs no cleaning.
 * Errors: MQTT5_ERR_INVALID_ARGUMENT (status->field names the input), MQTT5_ERR_NOMEM.
 */
int mqtt5_sigv4_sign(const mqtt5_sigv4_request *req, const mqtt5_sigv4_config *cfg,
                     const mqtt5_allocator *alloc, mqtt5_sigv4_result *out,
                     mqtt5_codec_status *status);

/* Wipes and frees what `res` owns and zeroes it. NULL and zeroed results are fine. */
void mqtt5_sigv4_result_clean(mqtt5_sigv4_result *res);

/*
 * The path and query of the WebSocket upgrade request for MQTT on AWS IoT Core, signed as the
 * AWS IoT device SDKs do: service "iotdevicegateway", query form, method GET, path "/mqtt", only
 * "host" signed, no X-Amz-Expires, payload hash of the empty string, and the session token (if
 * any) appended after the signature, unsigned:
 *
 *   /mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=<AKID>%2F<date>%2F<region>%2F
 *   iotdevicegateway%2Faws4_request&X-Amz-Date=<datetime>&X-Amz-SignedHeaders=host
 *   &X-Amz-Signature=<hex>[&X-Amz-Security-Token=<URI-encoded token>]
 *
 * `host` is the Host header value of the upgrade request (the endpoint, plus ":port" when not
 * 443). Writes the NUL-terminated text to out[0..out_cap) and its length (without the NUL) to
 * *out_len (out_len may be NULL). When out_cap is too small: MQTT5_ERR_BUFFER_TOO_SMALL with
 * *out_len set to the length needed. `alloc` (NULL = libc) holds the scratch of the signing;
 * nothing stays allocated after the call.
 */
int mqtt5_sigv4_presign_iot_websocket_url(const char *host, const char *region,
                                          const mqtt5_sigv4_credentials *credentials,
                                          const char *datetime, const mqtt5_allocator *alloc,
                                          char *out, size_t out_cap, size_t *out_len,
                                          mqtt5_codec_status *status);

#ifdef __cplusplus
}
#endif
#endif
