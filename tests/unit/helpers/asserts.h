/*
 * helpers/asserts.h - cmocka-style assertions for mqtt5 types: string and binary views, views
 * that must lie inside a buffer (zero copy), error codes printed by name, codec status.
 * Each macro reports the caller's file and line.
 */
#ifndef MQTT5_TEST_ASSERTS_H
#define MQTT5_TEST_ASSERTS_H

#include <stddef.h>
#include <stdint.h>

#include "mqtt5/mqtt5.h"

/* mqtt5_str `s` equals the C string `expected`. */
#define assert_str_eq(s, expected) assert_str_eq_((s), (expected), __FILE__, __LINE__)
/* mqtt5_bytes `b` equals the bytes written as hex text. */
#define assert_bytes_hex(b, hex) assert_bytes_hex_((b), (hex), __FILE__, __LINE__)
/* buf[0..n) equals the bytes written as hex text. */
#define assert_mem_hex(buf, n, hex) assert_mem_hex_((buf), (n), (hex), __FILE__, __LINE__)
/* ptr[0..n) lies inside buf[0..buflen) (skipped when n == 0). */
#define assert_view_inside(ptr, n, buf, buflen)                                                    \
    assert_view_inside_((const void *)(ptr), (n), (buf), (buflen), #ptr, __FILE__, __LINE__)
/* Two mqtt5 error codes are equal; prints their names when not. */
#define assert_err(actual, expected) assert_err_((actual), (expected), __FILE__, __LINE__)
/* status->error, reason_code and offset are as expected. */
#define assert_status(st, err, rc, off) assert_status_((st), (err), (rc), (off), __FILE__, __LINE__)
/*
 * status->field names `expected`: equal after removing array indices ("subscriptions[1].qos"
 * -> "subscriptions.qos"), or continuing it with '.' ("properties.userProperties" matches
 * "properties.userProperties.name"). NULL `expected` checks nothing.
 */
#define assert_field(st, expected) assert_field_((st), (expected), __FILE__, __LINE__)

void assert_str_eq_(mqtt5_str s, const char *expected, const char *file, int line);
void assert_bytes_hex_(mqtt5_bytes b, const char *hex, const char *file, int line);
void assert_mem_hex_(const uint8_t *buf, size_t n, const char *hex, const char *file, int line);
void assert_view_inside_(const void *ptr, size_t n, const uint8_t *buf, size_t buflen,
                         const char *what, const char *file, int line);
void assert_err_(int actual, int expected, const char *file, int line);
void assert_status_(const mqtt5_codec_status *st, int err, int rc, size_t off, const char *file,
                    int line);
void assert_field_(const mqtt5_codec_status *st, const char *expected, const char *file, int line);

/* Reports "file:line: message" and fails the current test. */
void test_fail_at(const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4), noreturn))
#endif
    ;

#endif
