/*
 * tools/mqtt5/hex.c - hexadecimal text <-> bytes for the mqtt5 tool.
 */
#include "hex.h"

#include <stdlib.h>

static const char HEX_DIGITS[] = "0123456789abcdef";

void hex_encode_to(const uint8_t *in, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = HEX_DIGITS[in[i] >> 4];
        out[2 * i + 1] = HEX_DIGITS[in[i] & 0x0f];
    }
}

char *hex_encode(const uint8_t *in, size_t len)
{
    char *out = malloc(2 * len + 1);
    if (out == NULL) return NULL;
    hex_encode_to(in, len, out);
    out[2 * len] = '\0';
    return out;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool hex_decode(const char *s, size_t len, bool skip_space, uint8_t *out, size_t *out_len,
                size_t *bad)
{
    size_t n = 0;
    int high = -1;
    for (size_t i = 0; i < len; i++) {
        if (skip_space && is_space(s[i])) continue;
        int v = hex_value(s[i]);
        if (v < 0) {
            *bad = i;
            return false;
        }
        if (high < 0) {
            high = v;
        } else {
            out[n++] = (uint8_t)((high << 4) | v);
            high = -1;
        }
    }
    if (high >= 0) {
        *bad = len;
        return false;
    }
    *out_len = n;
    return true;
}
