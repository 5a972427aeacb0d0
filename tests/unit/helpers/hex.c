/*
 * helpers/hex.c - hex text <-> bytes for test literals (see hex.h).
 */
#include <ctype.h>

#include "helpers/test_common.h"

static int nibble(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parses into out (may be NULL to count only); returns the byte count. */
static size_t hex_parse(const char *hex, uint8_t *out)
{
    size_t n = 0;
    int high = -1;
    for (const char *p = hex; *p; p++) {
        if (isspace((unsigned char)*p)) continue;
        int v = nibble(*p);
        if (v < 0) fail_msg("hex literal: bad character '%c' in \"%s\"", *p, hex);
        if (high < 0) {
            high = v;
        } else {
            if (out) out[n] = (uint8_t)(high << 4 | v);
            n++;
            high = -1;
        }
    }
    if (high >= 0) fail_msg("hex literal: odd number of digits in \"%s\"", hex);
    return n;
}

size_t hex_len(const char *hex)
{
    return hex_parse(hex, NULL);
}

uint8_t *hex_bytes(const char *hex, size_t *len)
{
    size_t n = hex_parse(hex, NULL);
    uint8_t *buf = test_alloc(n);
    hex_parse(hex, buf);
    *len = n;
    return buf;
}

void hex_format(const uint8_t *buf, size_t n, char *out, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    size_t o = 0;
    if (cap == 0) return;
    for (size_t i = 0; i < n; i++) {
        if (o + 2 + 4 > cap) {
            snprintf(out + o, cap - o, "...");
            return;
        }
        out[o++] = digits[buf[i] >> 4];
        out[o++] = digits[buf[i] & 15];
    }
    out[o] = '\0';
}
