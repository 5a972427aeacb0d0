/*
 * fuzz_ws_frame.c - libFuzzer target for the WebSocket frame decoder (src/transports/ws_frame.c),
 * which reads untrusted bytes from the server. Input: a config byte (role, size limit), a step
 * byte, then the stream. Laws checked on every input:
 *  - the decoder never reads past its input (an exact-size copy under ASan), consumes at most
 *    what it is given, reports NONE only with everything consumed, and always makes progress;
 *  - a FRAME event comes right after its header: re-encoding the decoded header gives exactly the
 *    input bytes it was decoded from (encode(decode(x)) == x), and header_decode agrees;
 *  - DATA points at the current input position, inside the frame's payload; CONTROL payloads are
 *    the unmasked input bytes, at most 125 of them;
 *  - feeding the same stream in pieces of any size gives the same events and bytes (and the same
 *    error), and an error is sticky.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt5/error.h"
#include "transports/ws_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) abort();                                                                         \
    } while (0)

typedef struct trace {
    uint8_t *p;
    size_t n, cap;
    int err;
    const char *why;
} trace;

static void put(trace *t, const void *p, size_t n)
{
    if (t->n + n > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->n + n)
            cap *= 2;
        t->p = realloc(t->p, cap);
        CHECK(t->p);
        t->cap = cap;
    }
    if (n) memcpy(t->p + t->n, p, n);
    t->n += n;
}

static void put_header(trace *t, uint8_t kind, const mqtt5_ws_frame_header *h)
{
    uint8_t rec[16] = {kind, h->opcode, h->fin, h->masked, h->rsv};
    memcpy(rec + 5, &h->len, sizeof h->len);
    put(t, rec, sizeof rec);
}

/* Run the decoder over in[0..n) in pieces of `step` (0: all at once), checking the laws. */
static void run(const uint8_t *in, size_t n, size_t step, bool masked, uint64_t max, trace *t)
{
    mqtt5_ws_decoder d;
    mqtt5_ws_decoder_init(&d, max, masked);
    size_t pos = 0;            /* bytes consumed so far */
    uint64_t frame_data = 0;   /* DATA bytes of the current data frame */
    size_t guard = 4 * n + 16; /* each call consumes or emits; events per byte are bounded */
    do {
        size_t end = step && n - pos > step ? pos + step : n;
        while (guard-- > 0) {
            size_t used = 0;
            mqtt5_ws_event ev;
            int rc = mqtt5_ws_decoder_next(&d, in + pos, end - pos, &used, &ev);
            CHECK(used <= end - pos);
            size_t before = pos;
            pos += used;
            if (rc) {
                CHECK(rc == MQTT5_ERR_WEBSOCKET_PROTOCOL ||
                      rc == MQTT5_ERR_WEBSOCKET_FRAME_TOO_LARGE);
                CHECK(d.why != NULL);
                size_t again = 1;
                CHECK(mqtt5_ws_decoder_next(&d, in + pos, end - pos, &again, &ev) == rc);
                CHECK(again == 0);
                t->err = rc;
                t->why = d.why;
                return;
            }
            if (ev.kind == MQTT5_WS_EV_NONE) {
                CHECK(pos == end);
                break;
            }
            if (ev.kind == MQTT5_WS_EV_FRAME) {
                /* the header was the last bytes consumed (possibly over several pieces) */
                uint8_t enc[MQTT5_WS_MAX_HEADER];
                size_t hn = mqtt5_ws_frame_header_encode(&ev.hdr, enc);
                CHECK(hn == mqtt5_ws_frame_header_size(ev.hdr.len, ev.hdr.masked));
                CHECK(hn <= pos);
                CHECK(memcmp(enc, in + pos - hn, hn) == 0);
                mqtt5_ws_frame_header h2;
                size_t u2 = 0;
                CHECK(mqtt5_ws_frame_header_decode(in + pos - hn, hn, &h2, &u2, NULL) == 0);
                CHECK(u2 == hn && h2.len == ev.hdr.len && h2.opcode == ev.hdr.opcode);
                CHECK(ev.hdr.masked == masked);
                CHECK(!max || mqtt5_ws_opcode_is_control(ev.hdr.opcode) || ev.hdr.len <= max);
                frame_data = 0;
                put_header(t, 'F', &ev.hdr);
            } else if (ev.kind == MQTT5_WS_EV_DATA) {
                CHECK(ev.n > 0 && ev.n == used);
                CHECK(ev.data == in + before);
                CHECK(ev.offset == frame_data);
                CHECK(ev.offset + ev.n <= ev.hdr.len);
                CHECK(!mqtt5_ws_opcode_is_control(ev.hdr.opcode));
                CHECK(ev.message_opcode == MQTT5_WS_OP_TEXT ||
                      ev.message_opcode == MQTT5_WS_OP_BINARY);
                frame_data += ev.n;
                uint8_t *plain = malloc(ev.n);
                CHECK(plain);
                mqtt5_ws_frame_mask(plain, ev.data, ev.n, ev.hdr.mask, ev.offset);
                put(t, plain, ev.n); /* bytes only: piece boundaries must not show */
                free(plain);
            } else {
                CHECK(ev.kind == MQTT5_WS_EV_CONTROL);
                CHECK(mqtt5_ws_opcode_is_control(ev.hdr.opcode));
                CHECK(ev.n == ev.hdr.len && ev.n <= MQTT5_WS_MAX_CONTROL_PAYLOAD);
                CHECK(ev.n <= pos);
                uint8_t plain[MQTT5_WS_MAX_CONTROL_PAYLOAD];
                mqtt5_ws_frame_mask(plain, in + pos - ev.n, ev.n, ev.hdr.mask, 0);
                CHECK(ev.n == 0 || memcmp(plain, ev.data, ev.n) == 0);
                put_header(t, 'C', &ev.hdr);
                put(t, ev.data, ev.n);
            }
        }
        CHECK(guard != (size_t)-1); /* no endless event loop */
    } while (pos < n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    bool masked = data[0] & 1;
    uint64_t max = (data[0] & 2) ? (uint64_t)(data[0] >> 2) * 64 : 0;
    size_t step = data[1] ? data[1] : 1;
    size_t n = size - 2;
    uint8_t *in = malloc(n ? n : 1);
    CHECK(in);
    if (n) memcpy(in, data + 2, n);

    trace whole = {0}, pieces = {0};
    run(in, n, 0, masked, max, &whole);
    run(in, n, step, masked, max, &pieces);
    CHECK(whole.err == pieces.err && whole.why == pieces.why);
    CHECK(whole.n == pieces.n && (whole.n == 0 || memcmp(whole.p, pieces.p, whole.n) == 0));
    if (step != 1) { /* one byte at a time too */
        trace bytes = {0};
        run(in, n, 1, masked, max, &bytes);
        CHECK(bytes.err == whole.err && bytes.n == whole.n &&
              (whole.n == 0 || memcmp(bytes.p, whole.p, whole.n) == 0));
        free(bytes.p);
    }
    free(whole.p);
    free(pieces.p);
    free(in);
    return 0;
}
