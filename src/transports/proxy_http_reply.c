/*
 * transports/proxy_http_reply.c - the HTTP proxy answer parser of proxy_http_reply.h: one pass
 * over the bytes, keeping only a printable copy of the status line and counters, so any split of
 * the input gives the same result. Lines end in LF with an optional CR before it; the status line
 * is "HTTP/<d>.<d> <ddd>[ <reason>]"; header lines need a ':' (obs-fold continuations are
 * accepted); their values are not interpreted (a 2xx answer to CONNECT has no body, RFC 9110
 * section 9.3.6). It never allocates and never reads past n.
 */
#include <string.h>

#include "mqtt5/error.h"
#include "transports/proxy_http_reply.h"

static const char k_http[] = "HTTP/";

void mqtt5_proxy_reply_init(mqtt5_proxy_reply *r)
{
    memset(r, 0, sizeof *r);
}

/* NUL-terminate the status line copy, with "..." when the line was longer than kept. */
static void end_status_line(mqtt5_proxy_reply *r)
{
    size_t k = r->status_len;
    if (k > MQTT5_PROXY_STATUS_LINE_MAX) {
        k = MQTT5_PROXY_STATUS_LINE_MAX;
        memcpy(r->status_line + k, "...", 3);
        k += 3;
    }
    r->status_line[k] = '\0';
}

static int fail(mqtt5_proxy_reply *r, const char *why)
{
    r->failed = true;
    r->why = why;
    end_status_line(r);
    return MQTT5_ERR_PROXY;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* "HTTP/1.1 200 Connection established": 0 and the code, or -1. */
static int parse_status_line(const char *s, size_t n, int *status)
{
    if (n < 12 || memcmp(s, k_http, 5) != 0 || !is_digit(s[5]) || s[6] != '.' || !is_digit(s[7]) ||
        s[8] != ' ' || !is_digit(s[9]) || !is_digit(s[10]) || !is_digit(s[11]))
        return -1;
    if (n > 12 && s[12] != ' ') return -1;
    int code = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    if (code < 100 || code > 599) return -1;
    *status = code;
    return 0;
}

/* A line ended (its CR/LF excluded). 1: the head ended, 0: go on, <0: failed. */
static int end_line(mqtt5_proxy_reply *r)
{
    if (r->line_no == 0) {
        end_status_line(r);
        size_t len = r->status_len;
        if (len > MQTT5_PROXY_STATUS_LINE_MAX) len = MQTT5_PROXY_STATUS_LINE_MAX;
        if (parse_status_line(r->status_line, len, &r->status) != 0)
            return fail(r, r->status_len == 0 ? "an empty status line" : "a malformed status line");
        r->line_no = 1;
        return 0;
    }
    if (r->line_len == 0) {
        /* interim answers (100 Continue, ...) are followed by the real one; 101 is final */
        if (r->status >= 100 && r->status < 200 && r->status != 101) {
            r->line_no = 0;
            r->status_len = 0;
            r->status = 0;
            return 0;
        }
        r->done = true;
        return 1;
    }
    if (!r->colon) return fail(r, "a malformed header line (no ':')");
    r->line_no++;
    return 0;
}

int mqtt5_proxy_reply_feed(mqtt5_proxy_reply *r, const uint8_t *p, size_t n, size_t *used)
{
    *used = 0;
    if (r->done) return 0;
    if (r->failed) return MQTT5_ERR_PROXY;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i];
        if (++r->total > MQTT5_PROXY_REPLY_MAX) {
            *used = i;
            return fail(r, "an answer head over the size limit");
        }
        if (b == '\n') {
            r->cr = false;
            int e = end_line(r);
            r->line_len = 0;
            r->colon = false;
            if (e != 0) {
                *used = i + 1;
                return e > 0 ? 0 : MQTT5_ERR_PROXY;
            }
            continue;
        }
        if (r->cr) { /* a CR not followed by LF is part of the line */
            r->cr = false;
            r->line_len++;
            if (r->line_no == 0 && r->status_len < MQTT5_PROXY_STATUS_LINE_MAX + 1)
                r->status_line[r->status_len++] = '?';
        }
        if (b == '\r') {
            r->cr = true;
            continue;
        }
        if (r->line_no == 0) {
            if (r->line_len < 5 && (char)b != k_http[r->line_len]) {
                if (r->status_len < MQTT5_PROXY_STATUS_LINE_MAX + 1)
                    r->status_line[r->status_len++] = b >= 0x20 && b < 0x7F ? (char)b : '?';
                *used = i + 1;
                return fail(r, "not an HTTP answer");
            }
            if (r->status_len < MQTT5_PROXY_STATUS_LINE_MAX + 1)
                r->status_line[r->status_len++] = b >= 0x20 && b < 0x7F ? (char)b : '?';
        } else if (r->line_len == 0 && (b == ' ' || b == '\t')) {
            r->colon = true; /* obs-fold: a continuation of the previous header */
        } else if (b == ':' && r->line_len > 0) {
            r->colon = true;
        }
        r->line_len++;
    }
    *used = n;
    return MQTT5_ERR_NEED_MORE;
}
