/*
 * fuzz_http_proxy_reply.c - libFuzzer target for the HTTP proxy answer parser
 * (src/transports/proxy_http_reply.c), which reads untrusted bytes from an HTTP proxy before the
 * tunnel opens. Input: a step byte (0: all at once), then the stream. Laws checked on every input:
 *  - the parser never reads past its input (an exact-size copy under ASan), takes at most what
 *    it is given, takes everything when it asks for more, and never more than the size cap;
 *  - a finished answer has a status 100..599 and a NUL-terminated printable status line;
 *  - feeding the stream in pieces of any size gives the same result, status, status line, reason
 *    and bytes taken; a result (done or failed) is sticky and takes nothing more.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt5/error.h"
#include "transports/proxy_http_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) abort();                                                                         \
    } while (0)

typedef struct outcome {
    int rc;
    size_t taken;
    mqtt5_proxy_reply r;
} outcome;

static void run(const uint8_t *in, size_t n, size_t step, outcome *o)
{
    mqtt5_proxy_reply_init(&o->r);
    o->rc = MQTT5_ERR_NEED_MORE;
    o->taken = 0;
    size_t at = 0;
    while (at < n) {
        size_t k = step && step < n - at ? step : n - at;
        uint8_t *piece = malloc(k); /* exact size: ASan catches any over-read */
        CHECK(piece);
        memcpy(piece, in + at, k);
        size_t used = (size_t)-1;
        int rc = mqtt5_proxy_reply_feed(&o->r, piece, k, &used);
        free(piece);
        CHECK(used <= k);
        CHECK(rc == MQTT5_ERR_NEED_MORE || rc == 0 || rc == MQTT5_ERR_PROXY);
        o->taken += used;
        at += used;
        o->rc = rc;
        if (rc == MQTT5_ERR_NEED_MORE) {
            CHECK(used == k);
            continue;
        }
        break;
    }
    CHECK(o->taken <= MQTT5_PROXY_REPLY_MAX);
    if (o->rc == 0) {
        CHECK(o->r.done && !o->r.failed);
        CHECK(o->r.status >= 100 && o->r.status <= 599);
    }
    if (o->rc == MQTT5_ERR_PROXY) CHECK(o->r.failed && o->r.why != NULL);
    if (o->rc != MQTT5_ERR_NEED_MORE) {
        size_t sl = strnlen(o->r.status_line, sizeof o->r.status_line);
        CHECK(sl < sizeof o->r.status_line);
        for (size_t i = 0; i < sl; i++)
            CHECK(o->r.status_line[i] >= 0x20 && o->r.status_line[i] < 0x7F);
        /* sticky */
        size_t used = 99;
        CHECK(mqtt5_proxy_reply_feed(&o->r, (const uint8_t *)"x", 1, &used) == o->rc);
        CHECK(used == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t step = data[0];
    const uint8_t *in = data + 1;
    size_t n = size - 1;
    static outcome whole, split;
    run(in, n, 0, &whole);
    run(in, n, step, &split);
    CHECK(whole.rc == split.rc);
    CHECK(whole.taken == split.taken);
    if (whole.rc != MQTT5_ERR_NEED_MORE) {
        CHECK(whole.r.status == split.r.status);
        CHECK(strcmp(whole.r.status_line, split.r.status_line) == 0);
        CHECK(whole.r.why == split.r.why);
    }
    return 0;
}
