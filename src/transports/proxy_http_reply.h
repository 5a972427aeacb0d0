/*
 * transports/proxy_http_reply.h - the sans-I/O parser of an HTTP proxy's answer to CONNECT
 * (RFC 9110 section 9.3.6): the status line, header lines up to the empty line, a size cap. It
 * takes bytes in any split and stops exactly at the end of the answer's head, so whatever follows
 * is left to the caller (it belongs to the tunnel). Interim 1xx answers are skipped. No I/O, no
 * allocation, no OpenSSL: the fuzz target builds it alone.
 */
#ifndef MQTT5_TRANSPORTS_PROXY_HTTP_REPLY_H
#define MQTT5_TRANSPORTS_PROXY_HTTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of the answer's head (status line and headers) we read before giving up. */
#define MQTT5_PROXY_REPLY_MAX 16384u
/* Bytes of the status line kept for details (longer ones end in "..."). */
#define MQTT5_PROXY_STATUS_LINE_MAX 128u

typedef struct mqtt5_proxy_reply {
    size_t total;    /* bytes of the head taken so far (all answers, 1xx included) */
    size_t line_len; /* bytes of the current line so far, its CR/LF excluded */
    size_t line_no;  /* 0: the status line of the current answer */
    bool colon, cr;  /* the current header line has a ':'; the last byte was CR */
    bool done, failed;
    int status; /* the final answer's code, 100..599, once done */
    char status_line[MQTT5_PROXY_STATUS_LINE_MAX + 4]; /* printable copy ('?' for others) */
    size_t status_len;
    const char *why; /* what was wrong, when feed returned MQTT5_ERR_PROXY (static) */
} mqtt5_proxy_reply;

void mqtt5_proxy_reply_init(mqtt5_proxy_reply *r);

/*
 * Take bytes of the answer. *used is how many were taken: never past the end of the head.
 * Returns MQTT5_ERR_NEED_MORE (all taken, the head has not ended), 0 (the head ended: r->status
 * and r->status_line; the p[*used..n) rest belongs to the tunnel) or MQTT5_ERR_PROXY (not an HTTP
 * answer, a malformed status or header line, or more than MQTT5_PROXY_REPLY_MAX bytes: r->why,
 * and r->status_line holds what was read of the first line). Once it returned 0 or an error,
 * it keeps returning that and takes nothing.
 */
int mqtt5_proxy_reply_feed(mqtt5_proxy_reply *r, const uint8_t *p, size_t n, size_t *used);

#endif
