/*
 * fuzz_sts_xml.c - libFuzzer target for the STS XML documents of src/credentials/cred_xml.c:
 * the AssumeRole / AssumeRoleWithWebIdentity success parser and the ErrorResponse parser, both
 * on exactly `size` bytes (no NUL after them). The bytes come from an STS endpoint, a proxy or a
 * man in the middle: DOCTYPEs, entities, deep nesting and odd encodings must all be refused or
 * read safely, with nothing fetched.
 *
 * Checked beyond the sanitizers: 0 or MQTT5_ERR_MALFORMED (MQTT5_ERR_NOMEM only when the
 * allocator was told to fail); on success every credential field is set, non-empty and free of
 * control characters, with an expiry; on failure the output is empty; err is one NUL-terminated
 * line when the call failed; every block is released with its size and wiped first. Leaks:
 * LeakSanitizer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "credentials/cred_parse.h"
#include "fuzz_alloc.h"
#include "mqtt5/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_err(const char *err, size_t cap)
{
    if (memchr(err, '\0', cap) == NULL) abort();
    for (const char *p = err; *p; p++)
        if ((unsigned char)*p < 0x20) abort();
}

static void check_value(const char *s)
{
    if (s == NULL || *s == '\0') abort();
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) abort();
}

static void run(const char *text, size_t size, size_t fail_at)
{
    fuzz_alloc a;
    fuzz_alloc_init(&a, fail_at, true);
    mqtt5_parsed_credentials c;
    char err[200];
    memset(err, 'x', sizeof err);
    int rc = mqtt5_cred_parse_sts_xml(&a.base, text, size, &c, err, sizeof err);
    if (rc != 0) check_err(err, sizeof err); /* err is only written on failure */
    if (rc == 0) {
        check_value(c.access_key_id);
        check_value(c.secret_access_key);
        check_value(c.session_token);
        if (c.account_id) check_value(c.account_id);
        if (c.identity_id != NULL || c.expiration == MQTT5_CREDENTIALS_NO_EXPIRY) abort();
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

    run(text, size, 0);
    run(text, size, 1 + size % 6); /* one allocation fails */

    char err[200];
    memset(err, 'x', sizeof err);
    int rc = mqtt5_cred_parse_sts_error_xml(text, size, err, sizeof err);
    if (rc != 0 && rc != MQTT5_ERR_MALFORMED) abort();
    check_err(err, sizeof err);
    free(text);
    return 0;
}
