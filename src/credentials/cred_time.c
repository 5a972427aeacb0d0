/*
 * credentials/cred_time.c - the small pieces every credential-document parser shares (see
 * cred_parse.h): ISO 8601 / RFC 3339 date-times to Unix seconds, the account id of an ARN, the
 * mqtt5_parsed_credentials lifecycle (clear wipes every string before releasing it; view lends
 * them as mqtt5_credentials), a wipe the compiler keeps, one-line error formatting and the
 * checked copy of a credential value into the caller's allocator.
 *
 * Date-times are converted with our own days-from-civil arithmetic, never with mktime/timegm,
 * so the result does not depend on TZ or the C library. No I/O, no dependency beyond libc and
 * src/common (the fuzz targets build this file alone with the core sources).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "credentials/cred_parse.h"
#include "mqtt5/error.h"

/* ---- wiping, errors, copies ----------------------------------------------------------------- */

void mqtt5_cred_errf(char *err, size_t err_cap, const char *fmt, ...)
{
    if (err == NULL || err_cap == 0) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err, err_cap, fmt, ap);
    va_end(ap);
    if (n < 0) err[0] = '\0';
    for (char *c = err; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = ' ';
}

static const mqtt5_allocator *alloc_or_libc(const mqtt5_allocator *alloc)
{
    return alloc ? alloc : mqtt5_allocator_libc();
}

int mqtt5_cred_copy_value(const mqtt5_allocator *alloc, const char *s, size_t n, bool required,
                          const char *field, char **out, char *err, size_t err_cap)
{
    *out = NULL;
    if (n == 0) {
        if (!required) return 0;
        mqtt5_cred_errf(err, err_cap, "%s is empty", field);
        return MQTT5_ERR_MALFORMED;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            mqtt5_cred_errf(err, err_cap, "%s contains a control character", field);
            return MQTT5_ERR_MALFORMED;
        }
    }
    alloc = alloc_or_libc(alloc);
    char *p = alloc->allocate(alloc->ctx, n + 1);
    if (p == NULL) {
        mqtt5_cred_errf(err, err_cap, "out of memory");
        return MQTT5_ERR_NOMEM;
    }
    memcpy(p, s, n);
    p[n] = '\0';
    *out = p;
    return 0;
}

/* ---- parsed credentials --------------------------------------------------------------------- */

static void free_string(const mqtt5_allocator *alloc, char **s)
{
    if (*s == NULL) return;
    size_t n = strlen(*s) + 1; /* every string here was allocated as strlen + 1 */
    mqtt5_wipe(*s, n);
    alloc->release(alloc->ctx, *s, n);
    *s = NULL;
}

void mqtt5_parsed_credentials_clear(const mqtt5_allocator *alloc, mqtt5_parsed_credentials *c)
{
    if (c == NULL) return;
    alloc = alloc_or_libc(alloc);
    /* all of them are wiped: the secret and token must be, the rest costs nothing */
    free_string(alloc, &c->access_key_id);
    free_string(alloc, &c->secret_access_key);
    free_string(alloc, &c->session_token);
    free_string(alloc, &c->account_id);
    free_string(alloc, &c->identity_id);
    c->expiration = MQTT5_CREDENTIALS_NO_EXPIRY;
}

void mqtt5_parsed_credentials_view(const mqtt5_parsed_credentials *c, const char *provider,
                                   mqtt5_credentials *out)
{
    memset(out, 0, sizeof(*out));
    out->access_key_id = c->access_key_id;
    out->secret_access_key = c->secret_access_key;
    out->session_token = c->session_token;
    out->account_id = c->account_id;
    out->expiration = c->expiration;
    out->provider = provider;
}

/* ---- ISO 8601 ------------------------------------------------------------------------------- */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                   /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int64_t m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Exactly n decimal digits at *p (advanced past them) into *out. */
static bool digits(const char **p, int n, int64_t *out)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

int mqtt5_cred_parse_iso8601(const char *s, int64_t *out)
{
    int64_t y, mo, d, h, mi, sec, oh = 0, om = 0;
    if (s == NULL || out == NULL) return MQTT5_ERR_MALFORMED;
    const char *p = s;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d))
        return MQTT5_ERR_MALFORMED;
    if (*p != 'T' && *p != 't' && *p != ' ') return MQTT5_ERR_MALFORMED;
    p++;
    if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
        !digits(&p, 2, &sec))
        return MQTT5_ERR_MALFORMED;
    if (*p == '.' || *p == ',') { /* fraction: at least one digit, truncated */
        p++;
        if (*p < '0' || *p > '9') return MQTT5_ERR_MALFORMED;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    int sign = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p++ == '+' ? 1 : -1;
        if (!digits(&p, 2, &oh)) return MQTT5_ERR_MALFORMED;
        if (*p == ':') p++;
        if (!digits(&p, 2, &om)) return MQTT5_ERR_MALFORMED;
    } else {
        return MQTT5_ERR_MALFORMED; /* a time without offset is local to someone unknown */
    }
    if (*p != '\0') return MQTT5_ERR_MALFORMED;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return MQTT5_ERR_MALFORMED;
    /* second 60 is a leap second (RFC 3339); Unix time folds it into the next second */
    if (h > 23 || mi > 59 || sec > 60 || oh > 23 || om > 59) return MQTT5_ERR_MALFORMED;
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    *out = t - sign * (oh * 3600 + om * 60);
    return 0;
}

/* ---- ARN --------------------------------------------------------------------------------------
 */

int mqtt5_cred_account_from_arn(const char *arn, char *out, size_t cap)
{
    /* arn:partition:service:region:account-id:resource - the account is field 5 of 6+ */
    if (arn == NULL || out == NULL || cap == 0 || strncmp(arn, "arn:", 4) != 0) return -1;
    const char *p = arn;
    for (int field = 0; field < 4; field++) {
        p = strchr(p, ':');
        if (p == NULL) return -1;
        p++;
    }
    const char *end = strchr(p, ':');
    if (end == NULL || end == p) return -1;
    size_t n = (size_t)(end - p);
    if (n >= cap) return -1;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9') return -1; /* account ids are digits (12 of them) */
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}
