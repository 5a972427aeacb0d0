/*
 * auth/sigv4_buf.c - the growable NUL-terminated text buffer of the SigV4 signer and its AWS URI
 * encoding (only A-Z a-z 0-9 - _ . ~ left as is, upper-case %XX for the rest) and decoding.
 * Memory comes from an mqtt5_allocator and is wiped before it is released, since buffers may
 * hold a session token.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "auth/sigv4_internal.h"

void mqtt5_sigv4_buf_init(mqtt5_sigv4_buf *b, const mqtt5_allocator *alloc)
{
    memset(b, 0, sizeof *b);
    b->alloc = alloc ? alloc : mqtt5_allocator_libc();
}

void mqtt5_sigv4_buf_clean(mqtt5_sigv4_buf *b)
{
    if (b->ptr) {
        OPENSSL_cleanse(b->ptr, b->cap);
        b->alloc->release(b->alloc->ctx, b->ptr, b->cap);
    }
    b->ptr = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

static bool buf_reserve(mqtt5_sigv4_buf *b, size_t extra)
{
    if (b->failed) return false;
    if (extra > SIZE_MAX / 2 - b->len - 1) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = b->alloc->allocate(b->alloc->ctx, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    if (b->ptr) {
        memcpy(p, b->ptr, b->len + 1);
        OPENSSL_cleanse(b->ptr, b->cap);
        b->alloc->release(b->alloc->ctx, b->ptr, b->cap);
    } else {
        p[0] = '\0';
    }
    b->ptr = p;
    b->cap = cap;
    return true;
}

void mqtt5_sigv4_buf_append(mqtt5_sigv4_buf *b, const void *data, size_t n)
{
    if (!buf_reserve(b, n)) return;
    if (n) memcpy(b->ptr + b->len, data, n);
    b->len += n;
    b->ptr[b->len] = '\0';
}

void mqtt5_sigv4_buf_append_str(mqtt5_sigv4_buf *b, const char *s)
{
    mqtt5_sigv4_buf_append(b, s, strlen(s));
}

void mqtt5_sigv4_buf_append_char(mqtt5_sigv4_buf *b, char c)
{
    mqtt5_sigv4_buf_append(b, &c, 1);
}

bool mqtt5_sigv4_is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

char mqtt5_sigv4_ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool mqtt5_sigv4_eq_lower(const char *s, size_t n, const char *lower)
{
    size_t m = strlen(lower);
    if (n != m) return false;
    for (size_t i = 0; i < n; i++)
        if (mqtt5_sigv4_ascii_lower(s[i]) != lower[i]) return false;
    return true;
}

void mqtt5_sigv4_buf_append_uri_encoded(mqtt5_sigv4_buf *b, const char *s, size_t n,
                                        bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (mqtt5_sigv4_is_unreserved(c) || (keep_slash && c == '/')) {
            mqtt5_sigv4_buf_append_char(b, (char)c);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            mqtt5_sigv4_buf_append(b, esc, sizeof esc);
        }
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

bool mqtt5_sigv4_buf_append_uri_decoded(mqtt5_sigv4_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            mqtt5_sigv4_buf_append_char(b, s[i]);
            continue;
        }
        if (n - i < 3) return false;
        int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
        if (hi < 0 || lo < 0) return false;
        mqtt5_sigv4_buf_append_char(b, (char)(hi << 4 | lo));
        i += 2;
    }
    return true;
}

void mqtt5_sigv4_buf_append_hex(mqtt5_sigv4_buf *b, const uint8_t *data, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        char pair[2] = {hex[data[i] >> 4], hex[data[i] & 15]};
        mqtt5_sigv4_buf_append(b, pair, sizeof pair);
    }
}

const char *mqtt5_sigv4_buf_cstr(const mqtt5_sigv4_buf *b)
{
    return b->ptr ? b->ptr : "";
}

int mqtt5_sigv4_buf_status(const mqtt5_sigv4_buf *b)
{
    return b->failed ? MQTT5_ERR_NOMEM : MQTT5_OK;
}
