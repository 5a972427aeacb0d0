/*
 * fuzz_ws_handshake.c - libFuzzer target for the WebSocket upgrade-response parser
 * (src/transports/ws_handshake.c), which reads the server's untrusted HTTP head, and for the
 * request setters that take user strings. Input: a flags byte; 16 key bytes when flag 1 is set
 * (else RFC 6455's sample key); then the response, in which every "\0ACC" is replaced by the
 * right accept value so the fuzzer reaches the success path. Laws:
 *  - head_end finds the first CRLFCRLF, the same wherever an incremental search resumes;
 *  - the check never reads past the head (an exact-size copy under ASan) and its detail is one
 *    NUL-terminated printable line that fits any buffer, even a tiny one;
 *  - it never accepts a head without status 101, without exactly one Sec-WebSocket-Accept
 *    equal to the expected value, or without Sec-WebSocket-Protocol: mqtt (checked by an
 *    independent naive scan), and an accepted head is refused for any other accept value;
 *  - a header or path the request setters accept never adds a line to the encoded request.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt5/error.h"
#include "transports/ws_handshake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) abort();                                                                         \
    } while (0)

static int low(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool ieq(const uint8_t *p, size_t n, const char *s)
{
    if (strlen(s) != n) return false;
    for (size_t i = 0; i < n; i++)
        if (low(p[i]) != low((unsigned char)s[i])) return false;
    return true;
}

/* Naive oracle: how many headers `name` the head has, and whether one has exactly `value`
 * (after trimming spaces and tabs). */
static void scan(const uint8_t *p, size_t n, const char *name, const char *value, int *count,
                 bool *match)
{
    *count = 0;
    *match = false;
    size_t at = 0;
    while (at < n && !(p[at] == '\r' && at + 1 < n && p[at + 1] == '\n'))
        at++; /* status */
    at += 2;
    while (at + 1 < n) {
        size_t e = at;
        while (e + 1 < n && !(p[e] == '\r' && p[e + 1] == '\n'))
            e++;
        const uint8_t *colon = memchr(p + at, ':', e - at);
        if (colon) {
            size_t nl = (size_t)(colon - (p + at));
            if (ieq(p + at, nl, name)) {
                (*count)++;
                size_t s = nl + 1 + at, t = e;
                while (s < t && (p[s] == ' ' || p[s] == '\t'))
                    s++;
                while (t > s && (p[t - 1] == ' ' || p[t - 1] == '\t'))
                    t--;
                if (t - s == strlen(value) && memcmp(p + s, value, t - s) == 0) *match = true;
            }
        }
        at = e + 2;
    }
}

static void check_detail(const char *d, size_t cap)
{
    size_t len = strnlen(d, cap);
    CHECK(len < cap);
    for (size_t i = 0; i < len; i++)
        CHECK(d[i] >= 0x20 && d[i] < 0x7F);
}

static void response_laws(const uint8_t *resp, size_t n, const char *accept, size_t split)
{
    size_t end = mqtt5_ws_response_head_end(resp, n, 0);
    /* the first CRLFCRLF, whatever the resume point */
    size_t first = 0;
    for (size_t i = 0; i + 4 <= n; i++)
        if (memcmp(resp + i, "\r\n\r\n", 4) == 0) {
            first = i + 4;
            break;
        }
    CHECK(end == first);
    if (split > n) split = n;
    size_t inc = mqtt5_ws_response_head_end(resp, split, 0);
    if (!inc) inc = mqtt5_ws_response_head_end(resp, n, split);
    CHECK(inc == end);

    /* the check sees exactly the head (or everything, when it did not end) */
    size_t hn = end ? end : n;
    uint8_t *head = malloc(hn ? hn : 1);
    CHECK(head);
    if (hn) memcpy(head, resp, hn);
    char detail[256];
    int rc = mqtt5_ws_response_check(head, hn, accept, detail, sizeof detail);
    check_detail(detail, sizeof detail);
    CHECK(rc == 0 || rc == MQTT5_ERR_WEBSOCKET_HANDSHAKE);
    if (rc == 0) {
        CHECK(end != 0 && hn <= MQTT5_WS_MAX_RESPONSE_HEAD);
        CHECK(detail[0] == '\0');
        CHECK(hn >= 12 && memcmp(head, "HTTP/1.", 7) == 0 && memcmp(head + 9, "101", 3) == 0);
        int count;
        bool match;
        scan(head, hn, "sec-websocket-accept", accept, &count, &match);
        CHECK(count == 1 && match);
        scan(head, hn, "sec-websocket-protocol", "mqtt", &count, &match);
        CHECK(count == 1 && match);
        /* any other expected value is refused */
        char other[MQTT5_WS_ACCEPT_SIZE];
        memcpy(other, accept, sizeof other);
        other[0] = other[0] == 'A' ? 'B' : 'A';
        CHECK(mqtt5_ws_response_check(head, hn, other, detail, sizeof detail) ==
              MQTT5_ERR_WEBSOCKET_HANDSHAKE);
        check_detail(detail, sizeof detail);
    }
    /* tiny detail buffers: same verdict, still terminated */
    for (size_t cap = 1; cap <= 3; cap++) {
        char *small = malloc(cap);
        CHECK(small);
        CHECK(mqtt5_ws_response_check(head, hn, accept, small, cap) == rc);
        CHECK(strnlen(small, cap) < cap);
        free(small);
    }
    free(head);
}

/* User strings for the request: what the setters accept never splits a line. */
static void request_laws(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    CHECK(s);
    memcpy(s, p, n);
    s[n] = '\0';
    /* name \0 value \0 path; missing parts are empty */
    size_t v_at = strlen(s) + 1, p_at = n + 1;
    if (v_at <= n) p_at = v_at + strlen(s + v_at) + 1;
    const char *name = s;
    const char *value = v_at <= n ? s + v_at : "";
    const char *path = p_at <= n ? s + p_at : "";
    mqtt5_ws_request *r = NULL;
    CHECK(mqtt5_ws_request_new("h", NULL, NULL, 0, &r) == 0);
    int headers = 1;
    if (mqtt5_ws_request_set_header(r, name, value) == 0 && mqtt5_ws_request_header_count(r) == 2)
        headers = 2;
    (void)mqtt5_ws_request_set_path(r, path);
    char *out = NULL;
    size_t len = 0;
    CHECK(mqtt5_ws_request_encode(r, "dGhlIHNhbXBsZSBub25jZQ==", &out, &len) == 0);
    CHECK(len == strlen(out));
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) {
        CHECK(out[i] != '\n' || (i > 0 && out[i - 1] == '\r'));
        CHECK(out[i] != '\r' || out[i + 1] == '\n');
        lines += out[i] == '\n';
    }
    CHECK(lines == (size_t)(1 + headers + 5 + 1)); /* request line, list, fixed, empty */
    free(out);
    mqtt5_ws_request_free(r);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t flags = data[0];
    data++;
    size--;
    char key[MQTT5_WS_KEY_SIZE] = "dGhlIHNhbXBsZSBub25jZQ==";
    if (flags & 1) {
        if (size < 16) return 0;
        mqtt5_ws_key_encode(data, key);
        data += 16;
        size -= 16;
    }
    if (flags & 2) {
        request_laws(data, size);
        return 0;
    }
    char accept[MQTT5_WS_ACCEPT_SIZE];
    CHECK(mqtt5_ws_accept_compute(key, accept) == 0);
    CHECK(strlen(accept) == 28);
    /* "\0ACC" -> the accept value */
    uint8_t *resp = malloc(size * 7 + 1);
    CHECK(resp);
    size_t n = 0;
    for (size_t i = 0; i < size;) {
        if (i + 4 <= size && memcmp(data + i, "\0ACC", 4) == 0) {
            memcpy(resp + n, accept, 28);
            n += 28;
            i += 4;
        } else {
            resp[n++] = data[i++];
        }
    }
    response_laws(resp, n, accept, flags >> 2);
    free(resp);
    return 0;
}
