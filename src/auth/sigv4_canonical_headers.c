/*
 * auth/sigv4_canonical_headers.c - the canonical header block and the signed header list of
 * SigV4: names lower-cased and sorted (stable, so repeated headers keep request order and are
 * joined with ","), values trimmed with every run of white space (folded lines too) squashed to
 * one space, and the headers AWS signers never sign left out.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/sigv4_internal.h"

bool mqtt5_sigv4_header_is_skipped(const char *name)
{
    static const char *const names[] = {
        "user-agent",        "x-amzn-trace-id",        "connection",           "expect", "upgrade",
        "sec-websocket-key", "sec-websocket-protocol", "sec-websocket-version"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (mqtt5_sigv4_eq_lower(name, n, names[i])) return true;
    return false;
}

/* Lower-case byte order of two header names, a prefix first. */
static int name_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char x = (unsigned char)mqtt5_sigv4_ascii_lower(*a);
        unsigned char y = (unsigned char)mqtt5_sigv4_ascii_lower(*b);
        if (x != y || !x) return x < y ? -1 : x > y;
    }
}

static int header_cmp(const void *l, const void *r)
{
    const mqtt5_sigv4_signing_header *a = l, *b = r;
    int c = name_cmp(a->name, b->name);
    if (c) return c;
    return a->index < b->index ? -1 : a->index > b->index;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static void append_trimmed_value(mqtt5_sigv4_buf *out, const char *v)
{
    size_t start = 0, end = strlen(v);
    while (start < end && is_space(v[start]))
        start++;
    while (end > start && is_space(v[end - 1]))
        end--;
    bool in_space = false;
    for (size_t i = start; i < end; i++) {
        if (is_space(v[i])) {
            if (!in_space) mqtt5_sigv4_buf_append_char(out, ' ');
            in_space = true;
        } else {
            mqtt5_sigv4_buf_append_char(out, v[i]);
            in_space = false;
        }
    }
}

static void append_lower(mqtt5_sigv4_buf *out, const char *s)
{
    for (; *s; s++)
        mqtt5_sigv4_buf_append_char(out, mqtt5_sigv4_ascii_lower(*s));
}

void mqtt5_sigv4_canonical_headers(mqtt5_sigv4_signing_header *scratch, size_t count,
                                   mqtt5_sigv4_buf *block, mqtt5_sigv4_buf *signed_headers)
{
    if (count > 1) qsort(scratch, count, sizeof *scratch, header_cmp);
    for (size_t i = 0; i < count; i++) {
        bool repeat = i && name_cmp(scratch[i - 1].name, scratch[i].name) == 0;
        if (repeat) {
            mqtt5_sigv4_buf_append_char(block, ',');
        } else {
            if (i) {
                mqtt5_sigv4_buf_append_char(block, '\n');
                mqtt5_sigv4_buf_append_char(signed_headers, ';');
            }
            append_lower(block, scratch[i].name);
            mqtt5_sigv4_buf_append_char(block, ':');
            append_lower(signed_headers, scratch[i].name);
        }
        append_trimmed_value(block, scratch[i].value);
    }
    if (count) mqtt5_sigv4_buf_append_char(block, '\n');
}
