/*
 * fuzz_credentials_json.c - libFuzzer target for the JSON credential documents of
 * src/credentials/cred_json.c: bytes an IMDS/ECS/EKS endpoint, a credential_process or Cognito
 * (or anyone in between) may send. Every JSON parser (container, process, Cognito, JSON error
 * body) reads the input as exactly `size` bytes (no NUL after it), and so do the ISO 8601 and
 * ARN helpers on a NUL-terminated copy.
 *
 * Checked beyond the sanitizers: each parser returns 0 or MQTT5_ERR_MALFORMED (or
 * MQTT5_ERR_NOMEM when the allocator was told to fail); on success the access key and secret
 * are set, non-empty and free of control characters; on failure the output is empty and err is
 * one NUL-terminated line; every block is released with the size it was allocated with, and
 * wiped first. Leaks are found by LeakSanitizer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "credentials/cred_parse.h"
#include "fuzz_alloc.h"
#include "mqtt5/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- checks -----------------------------------------------------------------------------------
 */

static void check_err(const char *err, size_t cap)
{
    if (memchr(err, '\0', cap) == NULL) abort();
    for (const char *p = err; *p; p++)
        if ((unsigned char)*p < 0x20) abort();
}

static void check_value(const char *s, int required)
{
    if (s == NULL) {
        if (required) abort();
        return;
    }
    if (*s == '\0') abort();
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) abort();
}

typedef int (*parser)(const mqtt5_allocator *, const char *, size_t, mqtt5_parsed_credentials *,
                      char *, size_t);

static void run(parser parse, const char *text, size_t size, size_t fail_at)
{
    fuzz_alloc a;
    fuzz_alloc_init(&a, fail_at, true);
    mqtt5_parsed_credentials c;
    char err[200];
    memset(err, 'x', sizeof err);
    int rc = parse(&a.base, text, size, &c, err, sizeof err);
    if (rc != 0) check_err(err, sizeof err); /* err is only written on failure */
    if (rc == 0) {
        check_value(c.access_key_id, 1);
        check_value(c.secret_access_key, 1);
        check_value(c.session_token, 0);
        check_value(c.account_id, 0);
        check_value(c.identity_id, 0);
        mqtt5_credentials view;
        mqtt5_parsed_credentials_view(&c, "fuzz", &view);
        if (view.secret_access_key != c.secret_access_key) abort();
        mqtt5_parsed_credentials_clear(&a.base, &c);
    } else if (rc == MQTT5_ERR_MALFORMED || (rc == MQTT5_ERR_NOMEM && fail_at != 0)) {
        if (c.access_key_id || c.secret_access_key || c.session_token || c.account_id ||
            c.identity_id || c.expiration != MQTT5_CREDENTIALS_NO_EXPIRY)
            abort();
    } else {
        abort();
    }
    if (a.live != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy: the parsers must not read past size */
    char *text = malloc(size ? size : 1);
    if (text == NULL) abort();
    if (size) memcpy(text, data, size);

    static const parser parsers[] = {mqtt5_cred_parse_container_json, mqtt5_cred_parse_process_json,
                                     mqtt5_cred_parse_cognito_json};
    for (size_t i = 0; i < sizeof parsers / sizeof parsers[0]; i++) {
        run(parsers[i], text, size, 0);
        run(parsers[i], text, size, 1 + size % 6); /* one allocation fails */
    }
    char err[200];
    memset(err, 'x', sizeof err);
    int rc = mqtt5_cred_parse_json_error(text, size, err, sizeof err);
    if (rc != 0 && rc != MQTT5_ERR_MALFORMED) abort();
    check_err(err, sizeof err);

    /* the helpers on the same bytes as a C string */
    char *s = malloc(size + 1);
    if (s == NULL) abort();
    memcpy(s, text, size);
    s[size] = '\0';
    int64_t t;
    rc = mqtt5_cred_parse_iso8601(s, &t);
    if (rc != 0 && rc != MQTT5_ERR_MALFORMED) abort();
    if (rc == 0 && (t < -62167219200 - 86400 || t > 253402300799 + 86400)) abort();
    char account[16];
    if (mqtt5_cred_account_from_arn(s, account, sizeof account) == 0 && account[0] == '\0') abort();
    free(s);
    free(text);
    return 0;
}
