/*
 * utf8.c - MQTT UTF-8 string validation (MQTT 5 section 1.5.4): well-formed UTF-8 per RFC 3629
 * (no overlong forms, nothing above U+10FFFF), no surrogates U+D800..U+DFFF, no U+0000, and at
 * most 65535 bytes. ASCII runs are checked eight bytes at a time.
 */
#include <string.h>

#include "mqtt5/codec.h"

bool mqtt5_utf8_valid(const char *str, size_t len)
{
    const uint8_t *s = (const uint8_t *)str;
    size_t i = 0;
    if (len > 65535) return false;
    while (i < len) {
        if (len - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            /* all ASCII and no zero byte: high bits clear and (w - 0x01..) trick for zero */
            if (!(w & 0x8080808080808080ull) &&
                !((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        uint8_t c = s[i];
        if (c < 0x80) {
            if (c == 0) return false;
            i++;
            continue;
        }
        size_t n;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) {
            n = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false; /* continuation byte or 0xF8.. */
        }
        if (len - i < n) return false;
        for (size_t k = 1; k < n; k++) {
            uint8_t cc = s[i + k];
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += n;
    }
    return true;
}
