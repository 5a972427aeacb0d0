/*
 * credentials/cred_parse.h - the credential documents providers receive, parsed without I/O:
 *   - JSON (cJSON): IMDS and ECS/EKS ({"AccessKeyId", "SecretAccessKey", "Token", "Expiration"
 *     ISO 8601, "AccountId"?, "Code"? != "Success" is an error}), credential_process output
 *     ({"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken"?, "Expiration"?,
 *     "AccountId"?}), Cognito GetCredentialsForIdentity ({"Credentials": {"AccessKeyId",
 *     "SecretKey", "SessionToken", "Expiration" epoch seconds as a number}, "IdentityId"}) and
 *     Cognito/JSON error bodies ({"__type", "message"/"Message"});
 *   - XML (libxml2, no network, no entities, no DTD): STS AssumeRoleResponse and
 *     AssumeRoleWithWebIdentityResponse (Credentials/AccessKeyId, SecretAccessKey,
 *     SessionToken, Expiration; AssumedRoleUser/Arn gives the account id) and STS ErrorResponse
 *     (Error/Code, Error/Message);
 *   - ISO 8601 / RFC 3339 date-times ("2021-09-21T04:16:53Z", fractions, offsets).
 *
 * Every parser returns 0 and fills a mqtt5_parsed_credentials (strings from `alloc`, free with
 * mqtt5_parsed_credentials_clear, which wipes the secret and token), or MQTT5_ERR_MALFORMED /
 * MQTT5_ERR_NOMEM with a one-line reason in err (never containing a secret). Fuzzed by
 * fuzz_credentials_json and fuzz_sts_xml.
 *
 * Details every parser shares: `text` is exactly `len` bytes (no NUL needed); documents over
 * MQTT5_CRED_MAX_DOCUMENT bytes are refused; `alloc` NULL means libc; on failure *out is left
 * empty (all NULL, nothing to clear); err may be NULL or err_cap 0; a credential value that is
 * empty where required, or holds a control character (it ends up in HTTP headers), is
 * MQTT5_ERR_MALFORMED naming the field.
 */
#ifndef MQTT5_CREDENTIALS_CRED_PARSE_H
#define MQTT5_CREDENTIALS_CRED_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt5/allocator.h"
#include "common/wipe.h"
#include "mqtt5/credentials.h"

typedef struct mqtt5_parsed_credentials {
    char *access_key_id, *secret_access_key, *session_token, *account_id; /* NULL if absent */
    int64_t expiration; /* Unix seconds; MQTT5_CREDENTIALS_NO_EXPIRY if absent */
    char *identity_id;  /* Cognito only */
} mqtt5_parsed_credentials;

void mqtt5_parsed_credentials_clear(const mqtt5_allocator *alloc, mqtt5_parsed_credentials *c);
/* A view of `c` as mqtt5_credentials (no copy) with the given provider name. */
void mqtt5_parsed_credentials_view(const mqtt5_parsed_credentials *c, const char *provider,
                                   mqtt5_credentials *out);

/* IMDS / ECS / EKS document. */
int mqtt5_cred_parse_container_json(const mqtt5_allocator *alloc, const char *text, size_t len,
                                    mqtt5_parsed_credentials *out, char *err, size_t err_cap);
/* credential_process stdout (Version must be 1). */
int mqtt5_cred_parse_process_json(const mqtt5_allocator *alloc, const char *text, size_t len,
                                  mqtt5_parsed_credentials *out, char *err, size_t err_cap);
/* Cognito GetCredentialsForIdentity response. */
int mqtt5_cred_parse_cognito_json(const mqtt5_allocator *alloc, const char *text, size_t len,
                                  mqtt5_parsed_credentials *out, char *err, size_t err_cap);
/* A JSON error body ("__type" without its "prefix#", "message" or "Message") into err as
 * "Type: message"; MQTT5_ERR_MALFORMED if it is not one. */
int mqtt5_cred_parse_json_error(const char *text, size_t len, char *err, size_t err_cap);

/* STS AssumeRole / AssumeRoleWithWebIdentity success response. */
int mqtt5_cred_parse_sts_xml(const mqtt5_allocator *alloc, const char *text, size_t len,
                             mqtt5_parsed_credentials *out, char *err, size_t err_cap);
/* STS ErrorResponse into err as "Code: Message"; MQTT5_ERR_MALFORMED if it is not one. */
int mqtt5_cred_parse_sts_error_xml(const char *text, size_t len, char *err, size_t err_cap);

/* "2021-09-21T04:16:53Z" (also with fractional seconds, "+hh:mm"/"-hh:mm" offsets, lower-case
 * 't'/'z') to Unix seconds: 0 or MQTT5_ERR_MALFORMED. */
int mqtt5_cred_parse_iso8601(const char *s, int64_t *out);

/* The account id from an ARN ("arn:aws:sts::123456789012:assumed-role/...") into out, or -1. */
int mqtt5_cred_account_from_arn(const char *arn, char *out, size_t cap);

/* ---- shared by the cred_*.c files (cred_time.c) ------------------------------------------- */

/* Largest document any parser here accepts (bytes). */
#define MQTT5_CRED_MAX_DOCUMENT (1024u * 1024u)

/* printf into err (if err && err_cap), with control characters turned into spaces so the
 * reason stays one line. */
void mqtt5_cred_errf(char *err, size_t err_cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copy the credential value s[0..n) (n without a NUL; s may hold no NUL) into *out from alloc,
 * NUL-terminated. `field` names it in errors. n == 0 is MQTT5_ERR_MALFORMED when `required`,
 * else *out = NULL and 0; a control character (< 0x20, 0x7f) is MQTT5_ERR_MALFORMED. */
int mqtt5_cred_copy_value(const mqtt5_allocator *alloc, const char *s, size_t n, bool required,
                          const char *field, char **out, char *err, size_t err_cap);

#endif
