/*
 * helpers/asserts.c - assertions for mqtt5 views, errors and codec status (see asserts.h).
 */
#include "helpers/test_common.h"

void test_fail_at(const char *file, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    print_error("%s\n", msg);
    _fail(file, line);
    abort(); /* _fail does not return; keeps the noreturn promise for the compiler */
}

void assert_str_eq_(mqtt5_str s, const char *expected, const char *file, int line)
{
    size_t n = strlen(expected);
    if (s.len != n || (n > 0 && (s.ptr == NULL || memcmp(s.ptr, expected, n) != 0))) {
        test_fail_at(file, line, "string \"%.*s\" (len %zu) != \"%s\" (len %zu)",
                     s.ptr ? (int)(s.len > 200 ? 200 : s.len) : 0, s.ptr ? s.ptr : "", s.len,
                     expected, n);
    }
}

void assert_mem_hex_(const uint8_t *buf, size_t n, const char *hex, const char *file, int line)
{
    size_t en;
    const uint8_t *exp = hex_bytes(hex, &en);
    if (n != en || (n > 0 && (buf == NULL || memcmp(buf, exp, n) != 0))) {
        char got[512], want[512];
        hex_format(buf, buf ? n : 0, got, sizeof(got));
        hex_format(exp, en, want, sizeof(want));
        size_t first = 0;
        while (buf && first < n && first < en && buf[first] == exp[first])
            first++;
        test_fail_at(file, line,
                     "bytes differ (first difference at %zu)\n  got  %zu: %s\n  want %zu: %s",
                     first, n, got, en, want);
    }
}

void assert_bytes_hex_(mqtt5_bytes b, const char *hex, const char *file, int line)
{
    assert_mem_hex_(b.ptr, b.len, hex, file, line);
}

void assert_view_inside_(const void *ptr, size_t n, const uint8_t *buf, size_t buflen,
                         const char *what, const char *file, int line)
{
    if (n == 0) return;
    uintptr_t p = (uintptr_t)ptr, b = (uintptr_t)buf;
    if (ptr == NULL || p < b || p + n > b + buflen)
        test_fail_at(file, line, "%s (%p, %zu bytes) is not inside the buffer (%p, %zu bytes)",
                     what, ptr, n, (const void *)buf, buflen);
}

void assert_err_(int actual, int expected, const char *file, int line)
{
    if (actual != expected)
        test_fail_at(file, line, "error %s (%d) != expected %s (%d)", mqtt5_error_name(actual),
                     actual, mqtt5_error_name(expected), expected);
}

void assert_status_(const mqtt5_codec_status *st, int err, int rc, size_t off, const char *file,
                    int line)
{
    if (st->error != err || st->reason_code != rc || st->offset != off)
        test_fail_at(file, line,
                     "status {error %s, reason 0x%02x, offset %zu} != expected {error %s, "
                     "reason 0x%02x, offset %zu} (field %s, detail %s)",
                     mqtt5_error_name(st->error), st->reason_code, st->offset,
                     mqtt5_error_name(err), (unsigned)rc, off, st->field ? st->field : "NULL",
                     st->detail ? st->detail : "NULL");
}

/* Copies `field` without "[...]" index groups. */
static void strip_indices(const char *field, char *out, size_t cap)
{
    size_t o = 0;
    int depth = 0;
    for (const char *p = field; *p && o + 1 < cap; p++) {
        if (*p == '[')
            depth++;
        else if (*p == ']' && depth > 0)
            depth--;
        else if (depth == 0)
            out[o++] = *p;
    }
    out[o] = '\0';
}

void assert_field_(const mqtt5_codec_status *st, const char *expected, const char *file, int line)
{
    if (expected == NULL) return;
    if (st->field == NULL)
        test_fail_at(file, line, "status.field is NULL, expected \"%s\" (detail %s)", expected,
                     st->detail ? st->detail : "NULL");
    char got[256];
    strip_indices(st->field, got, sizeof(got));
    size_t n = strlen(expected);
    if (strncmp(got, expected, n) != 0 || (got[n] != '\0' && got[n] != '.'))
        test_fail_at(file, line, "status.field \"%s\" does not name \"%s\" (detail %s)", st->field,
                     expected, st->detail ? st->detail : "NULL");
}
