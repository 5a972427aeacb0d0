/*
 * helpers/hex.h - byte literals written as hex text, so golden packets can be laid out field by
 * field with comments ("10 0f" "0004 4d515454" ...). Whitespace is ignored.
 */
#ifndef MQTT5_TEST_HEX_H
#define MQTT5_TEST_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Number of bytes `hex` describes (the test fails on a stray character or odd digit count). */
size_t hex_len(const char *hex);

/* The bytes of `hex` in a test_alloc() block of exactly that size; *len gets the count. */
uint8_t *hex_bytes(const char *hex, size_t *len);

/* Writes "0a1b..." for buf[0..n) into out (always NUL-terminated, truncated with "..."). */
void hex_format(const uint8_t *buf, size_t n, char *out, size_t cap);

#endif
