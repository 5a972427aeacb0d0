/*
 * fuzz_socks5_reply.c - libFuzzer target for the SOCKS5 answer reader and message encoders
 * (src/transports/socks5_msg.c), which read untrusted bytes from a SOCKS5 proxy before the tunnel
 * opens. Input: a config byte (answer kind in the low 2 bits, step in the rest), then the
 * stream; the stream also serves, NUL-terminated, as a host name and credentials for the
 * encoders. Laws checked on every input:
 *  - the reader never reads past its input (an exact-size copy under ASan), takes at most what it
 *    is given, takes everything when it asks for more, and stops exactly at the answer's end;
 *  - a complete answer has the length its own bytes announce (2, or 10 / 22 / 7 + name length
 *    for a successful reply; 2 for a failed one); METHOD answers are version 5;
 *  - feeding in pieces of any size gives the same result, code and length; results are sticky;
 *  - the encoders never write past a buffer of exactly the size they were given.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt5/error.h"
#include "transports/socks5_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) abort();                                                                         \
    } while (0)

typedef struct outcome {
    int rc;
    size_t taken;
    mqtt5_socks5_reader r;
} outcome;

static void run(mqtt5_socks5_answer kind, const uint8_t *in, size_t n, size_t step, outcome *o)
{
    mqtt5_socks5_reader_init(&o->r, kind);
    o->rc = MQTT5_ERR_NEED_MORE;
    o->taken = 0;
    size_t at = 0;
    while (at < n) {
        size_t k = step && step < n - at ? step : n - at;
        uint8_t *piece = malloc(k);
        CHECK(piece);
        memcpy(piece, in + at, k);
        size_t used = (size_t)-1;
        int rc = mqtt5_socks5_reader_feed(&o->r, piece, k, &used);
        free(piece);
        CHECK(used <= k);
        CHECK(rc == MQTT5_ERR_NEED_MORE || rc == 0 || rc == MQTT5_ERR_PROXY);
        o->taken += used;
        at += used;
        o->rc = rc;
        if (rc != MQTT5_ERR_NEED_MORE) break;
        CHECK(used == k);
    }
    CHECK(o->taken <= sizeof o->r.buf);
    if (o->rc == 0) {
        const uint8_t *b = in;
        CHECK(o->r.done && o->taken == o->r.n);
        if (kind != MQTT5_SOCKS5_ANSWER_REPLY || b[1] != 0) {
            CHECK(o->taken == 2);
        } else {
            size_t want = b[3] == MQTT5_SOCKS5_ATYP_IPV4   ? 10
                          : b[3] == MQTT5_SOCKS5_ATYP_IPV6 ? 22
                                                           : (size_t)7 + b[4];
            CHECK(b[3] == 1 || b[3] == 3 || b[3] == 4);
            CHECK(o->taken == want);
        }
        if (kind == MQTT5_SOCKS5_ANSWER_METHOD) CHECK(b[0] == MQTT5_SOCKS5_VERSION);
        CHECK(o->r.code == b[1]);
    }
    if (o->rc == MQTT5_ERR_PROXY) CHECK(o->r.failed && o->r.why != NULL);
    if (o->rc != MQTT5_ERR_NEED_MORE) {
        size_t used = 99;
        CHECK(mqtt5_socks5_reader_feed(&o->r, (const uint8_t *)"\x05", 1, &used) == o->rc);
        CHECK(used == 0);
    }
}

static void encoders(const uint8_t *in, size_t n)
{
    char *s = malloc(n + 1);
    CHECK(s);
    memcpy(s, in, n);
    s[n] = '\0';
    const char *pass = s + strlen(s) < s + n ? s + strlen(s) + 1 : "";
    size_t cap = in[0] % 2 ? 262 : (n % 600);
    uint8_t *out = malloc(cap ? cap : 1);
    CHECK(out);
    size_t len = 0;
    int rc = mqtt5_socks5_connect_request(s, (uint16_t)n, out, cap, &len);
    if (rc == 0) CHECK(len <= cap && len >= 7 && out[0] == 5);
    rc = mqtt5_socks5_auth_request(s, pass, out, cap, &len);
    if (rc == 0) CHECK(len <= cap && len == 3 + strlen(s) + strlen(pass));
    free(out);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    mqtt5_socks5_answer kind = (mqtt5_socks5_answer)(data[0] % 3);
    size_t step = data[0] >> 2;
    const uint8_t *in = data + 1;
    size_t n = size - 1;
    static outcome whole, split;
    run(kind, in, n, 0, &whole);
    run(kind, in, n, step, &split);
    CHECK(whole.rc == split.rc);
    CHECK(whole.taken == split.taken);
    if (whole.rc == 0) CHECK(whole.r.code == split.r.code && whole.r.atyp == split.r.atyp);
    if (whole.rc == MQTT5_ERR_PROXY) CHECK(whole.r.why == split.r.why);
    if (n) encoders(in, n);
    return 0;
}
