/*
 * test_ws_frame.c - the pure WebSocket codecs: frame headers against the golden bytes of RFC
 * 6455 section 5.7, masking, close payloads, the streaming decoder (events, byte-at-a-time
 * equivalence, role and fragmentation checks, limits), and the handshake helpers (the accept
 * value of RFC 6455 section 1.3, the response-head search and checks).
 */
#include "helpers/test_common.h"

#include "transports/ws_frame.h"
#include "transports/ws_handshake.h"

static const uint8_t mask_key[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Decode `p` fully as one header, then re-encode it: the same bytes. */
static mqtt5_ws_frame_header roundtrip(const uint8_t *p, size_t hsize)
{
    mqtt5_ws_frame_header h;
    size_t used = 0;
    const char *why = NULL;
    assert_int_equal(mqtt5_ws_frame_header_decode(p, hsize, &h, &used, &why), 0);
    assert_int_equal(used, hsize);
    for (size_t k = 0; k < hsize; k++) /* every proper prefix needs more */
        assert_int_equal(mqtt5_ws_frame_header_decode(p, k, &h, &used, &why), MQTT5_ERR_NEED_MORE);
    assert_int_equal(mqtt5_ws_frame_header_decode(p, hsize, &h, &used, &why), 0);
    uint8_t out[MQTT5_WS_MAX_HEADER];
    assert_int_equal(mqtt5_ws_frame_header_encode(&h, out), hsize);
    assert_memory_equal(out, p, hsize);
    assert_int_equal(mqtt5_ws_frame_header_size(h.len, h.masked), hsize);
    return h;
}

static void test_rfc_examples(void **state)
{
    (void)state;
    /* a single-frame unmasked text message "Hello" */
    static const uint8_t a[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    mqtt5_ws_frame_header h = roundtrip(a, 2);
    assert_true(h.fin);
    assert_int_equal(h.opcode, MQTT5_WS_OP_TEXT);
    assert_false(h.masked);
    assert_int_equal(h.len, 5);
    /* a single-frame masked text message "Hello" */
    static const uint8_t b[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    h = roundtrip(b, 6);
    assert_true(h.masked);
    assert_memory_equal(h.mask, mask_key, 4);
    uint8_t plain[5];
    mqtt5_ws_frame_mask(plain, b + 6, 5, h.mask, 0);
    assert_memory_equal(plain, "Hello", 5);
    uint8_t again[5];
    mqtt5_ws_frame_mask(again, (const uint8_t *)"Hello", 5, mask_key, 0);
    assert_memory_equal(again, b + 6, 5);
    /* a fragmented unmasked text message: "Hel", then "lo" */
    static const uint8_t c1[] = {0x01, 0x03, 0x48, 0x65, 0x6c};
    static const uint8_t c2[] = {0x80, 0x02, 0x6c, 0x6f};
    h = roundtrip(c1, 2);
    assert_false(h.fin);
    assert_int_equal(h.opcode, MQTT5_WS_OP_TEXT);
    h = roundtrip(c2, 2);
    assert_true(h.fin);
    assert_int_equal(h.opcode, MQTT5_WS_OP_CONTINUATION);
    /* unmasked ping "Hello", masked pong "Hello" */
    static const uint8_t d[] = {0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    static const uint8_t e[] = {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    assert_int_equal(roundtrip(d, 2).opcode, MQTT5_WS_OP_PING);
    assert_int_equal(roundtrip(e, 6).opcode, MQTT5_WS_OP_PONG);
    /* 256 bytes binary in a single unmasked frame; 64 KiB likewise */
    static const uint8_t f[] = {0x82, 0x7E, 0x01, 0x00};
    assert_int_equal(roundtrip(f, 4).len, 256);
    static const uint8_t g[] = {0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00};
    assert_int_equal(roundtrip(g, 10).len, 65536);
}

static void test_length_boundaries(void **state)
{
    (void)state;
    static const struct {
        uint64_t len;
        size_t size;
    } cases[] = {
        {0, 2}, {125, 2}, {126, 4}, {65535, 4}, {65536, 10}, {1u << 31, 10}, {UINT64_MAX >> 1, 10}};
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        for (int masked = 0; masked <= 1; masked++) {
            mqtt5_ws_frame_header h = {
                .fin = true, .opcode = MQTT5_WS_OP_BINARY, .masked = masked, .len = cases[i].len};
            memcpy(h.mask, mask_key, 4);
            uint8_t out[MQTT5_WS_MAX_HEADER];
            size_t n = mqtt5_ws_frame_header_encode(&h, out);
            assert_int_equal(n, cases[i].size + (masked ? 4 : 0));
            mqtt5_ws_frame_header back = roundtrip(out, n);
            assert_int_equal(back.len, cases[i].len);
        }
    }
}

static void test_bad_headers(void **state)
{
    (void)state;
    static const struct {
        uint8_t b[10];
        size_t n;
        const char *why;
    } cases[] = {
        {{0x92, 0x00}, 2, "reserved bits"},
        {{0xA2, 0x00}, 2, "reserved bits"},
        {{0x83, 0x00}, 2, "reserved opcode"},
        {{0x87, 0x00}, 2, "reserved opcode"},
        {{0x8B, 0x00}, 2, "reserved opcode"},
        {{0x8F, 0x00}, 2, "reserved opcode"},
        {{0x08, 0x00}, 2, "fragmented control"},
        {{0x0A, 0x00}, 2, "fragmented control"},
        {{0x88, 0x7E}, 2, "longer than 125"},
        {{0x89, 0x7F}, 2, "longer than 125"},
        {{0x82, 0x7E, 0x00, 0x7D}, 4, "minimally"},
        {{0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}, 10, "minimally"},
        {{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}, 10, "most significant bit"},
    };
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        mqtt5_ws_frame_header h;
        size_t used = 0;
        const char *why = NULL;
        assert_int_equal(mqtt5_ws_frame_header_decode(cases[i].b, cases[i].n, &h, &used, &why),
                         MQTT5_ERR_WEBSOCKET_PROTOCOL);
        assert_non_null(why);
        if (!strstr(why, cases[i].why)) fail_msg("case %zu: '%s'", i, why);
    }
}

static void test_mask_offsets(void **state)
{
    (void)state;
    uint8_t src[67], ref[67], out[67];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < sizeof src; i++)
        ref[i] = src[i] ^ mask_key[i % 4];
    /* any split, any alignment: the same as byte-wise */
    for (size_t cut = 0; cut <= sizeof src; cut++) {
        mqtt5_ws_frame_mask(out, src, cut, mask_key, 0);
        mqtt5_ws_frame_mask(out + cut, src + cut, sizeof src - cut, mask_key, cut);
        assert_memory_equal(out, ref, sizeof src);
    }
    memcpy(out, src, sizeof src); /* in place, twice = identity */
    mqtt5_ws_frame_mask(out, out, sizeof out, mask_key, 0);
    assert_memory_equal(out, ref, sizeof out);
    mqtt5_ws_frame_mask(out, out, sizeof out, mask_key, 0);
    assert_memory_equal(out, src, sizeof out);
}

static void test_close_payload(void **state)
{
    (void)state;
    uint16_t code = 1;
    const uint8_t *reason = NULL;
    size_t rn = 9;
    assert_int_equal(mqtt5_ws_close_parse(NULL, 0, &code, &reason, &rn), 0);
    assert_int_equal(code, 0);
    assert_int_equal(rn, 0);
    assert_int_equal(mqtt5_ws_close_parse((const uint8_t *)"\x03", 1, &code, &reason, &rn),
                     MQTT5_ERR_WEBSOCKET_PROTOCOL);
    assert_int_equal(mqtt5_ws_close_parse((const uint8_t *)"\x03\xe8ok", 4, &code, &reason, &rn),
                     0);
    assert_int_equal(code, 1000);
    assert_int_equal(rn, 2);
    assert_memory_equal(reason, "ok", 2);
    static const uint16_t good[] = {1000, 1001, 1002, 1003, 1007, 1008,
                                    1009, 1010, 1011, 1014, 3000, 4999};
    static const uint16_t bad[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535};
    for (size_t i = 0; i < COUNT_OF(good); i++)
        assert_true(mqtt5_ws_close_code_valid(good[i]));
    for (size_t i = 0; i < COUNT_OF(bad); i++) {
        assert_false(mqtt5_ws_close_code_valid(bad[i]));
        uint8_t p[2] = {(uint8_t)(bad[i] >> 8), (uint8_t)bad[i]};
        assert_int_equal(mqtt5_ws_close_parse(p, 2, &code, &reason, &rn),
                         MQTT5_ERR_WEBSOCKET_PROTOCOL);
    }
    assert_string_equal(mqtt5_ws_close_code_name(1001), "going away");
    assert_string_equal(mqtt5_ws_close_code_name(4000), "");
}

/* ---- the streaming decoder ---- */

typedef struct trace {
    char text[512];
    size_t n;
    uint8_t data[256];
    size_t data_n;
    int err;
} trace;

static void note(trace *t, const char *s)
{
    t->n += (size_t)snprintf(t->text + t->n, sizeof t->text - t->n, "%s", s);
}

/* Feed p in pieces of `step` (0 = all at once), recording every event. */
static void run(mqtt5_ws_decoder *d, const uint8_t *p, size_t n, size_t step, trace *t)
{
    memset(t, 0, sizeof *t);
    size_t at = 0;
    do {
        size_t piece = step && n - at > step ? step : n - at;
        const uint8_t *q = p + at;
        size_t left = piece;
        for (;;) {
            size_t used = 0;
            mqtt5_ws_event ev;
            int rc = mqtt5_ws_decoder_next(d, q, left, &used, &ev);
            assert_true(used <= left);
            q += used;
            left -= used;
            if (rc) {
                t->err = rc;
                return;
            }
            char s[64];
            if (ev.kind == MQTT5_WS_EV_NONE) {
                assert_int_equal(left, 0);
                break;
            }
            if (ev.kind == MQTT5_WS_EV_FRAME) {
                snprintf(s, sizeof s, "F%x%s%llu ", ev.hdr.opcode, ev.hdr.fin ? "+" : "-",
                         (unsigned long long)ev.hdr.len);
                note(t, s);
            } else if (ev.kind == MQTT5_WS_EV_DATA) {
                assert_true(t->data_n + ev.n <= sizeof t->data);
                /* an unmasked frame's key is zero: masking copies */
                mqtt5_ws_frame_mask(t->data + t->data_n, ev.data, ev.n, ev.hdr.mask, ev.offset);
                t->data_n += ev.n;
            } else {
                snprintf(s, sizeof s, "C%x:%.*s ", ev.hdr.opcode, (int)ev.n, (const char *)ev.data);
                note(t, s);
            }
        }
        at += piece;
    } while (at < n);
}

static size_t frame(uint8_t *out, uint8_t opcode, bool fin, bool masked, const char *payload)
{
    size_t n = strlen(payload);
    mqtt5_ws_frame_header h = {.fin = fin, .opcode = opcode, .masked = masked, .len = n};
    memcpy(h.mask, mask_key, 4);
    size_t at = mqtt5_ws_frame_header_encode(&h, out);
    if (masked)
        mqtt5_ws_frame_mask(out + at, (const uint8_t *)payload, n, mask_key, 0);
    else
        memcpy(out + at, payload, n);
    return at + n;
}

static void test_decoder_stream(void **state)
{
    (void)state;
    for (int masked = 0; masked <= 1; masked++) {
        uint8_t in[512];
        size_t n = 0;
        n += frame(in + n, MQTT5_WS_OP_BINARY, false, masked, "abc");
        n += frame(in + n, MQTT5_WS_OP_PING, true, masked, "p1");
        n += frame(in + n, MQTT5_WS_OP_CONTINUATION, false, masked, "");
        n += frame(in + n, MQTT5_WS_OP_CONTINUATION, true, masked, "def");
        n += frame(in + n, MQTT5_WS_OP_CLOSE, true, masked, "");
        n += frame(in + n, MQTT5_WS_OP_TEXT, true, masked, "txt");
        const char *want = "F2-3 F9+2 C9:p1 F0-0 F0+3 F8+0 C8: F1+3 ";
        trace whole;
        mqtt5_ws_decoder d;
        mqtt5_ws_decoder_init(&d, 0, masked);
        run(&d, in, n, 0, &whole);
        assert_int_equal(whole.err, 0);
        assert_string_equal(whole.text, want);
        assert_int_equal(whole.data_n, 9);
        assert_memory_equal(whole.data, "abcdeftxt", 9);
        for (size_t step = 1; step <= 7; step++) {
            trace t;
            mqtt5_ws_decoder_init(&d, 0, masked);
            run(&d, in, n, step, &t);
            assert_int_equal(t.err, 0);
            assert_string_equal(t.text, want);
            assert_int_equal(t.data_n, 9);
            assert_memory_equal(t.data, whole.data, 9);
        }
        /* the other role refuses these frames */
        mqtt5_ws_decoder_init(&d, 0, !masked);
        run(&d, in, n, 0, &whole);
        assert_int_equal(whole.err, MQTT5_ERR_WEBSOCKET_PROTOCOL);
        assert_string_equal(d.why, masked ? "masked frame from the server"
                                          : "unmasked frame from the client");
    }
}

static void test_decoder_errors_are_sticky(void **state)
{
    (void)state;
    mqtt5_ws_decoder d;
    uint8_t in[64];
    size_t n = frame(in, MQTT5_WS_OP_CONTINUATION, true, false, "x");
    trace t;
    mqtt5_ws_decoder_init(&d, 0, false);
    run(&d, in, n, 0, &t);
    assert_int_equal(t.err, MQTT5_ERR_WEBSOCKET_PROTOCOL);
    assert_string_equal(d.why, "continuation frame without a message");
    size_t used = 9;
    mqtt5_ws_event ev;
    assert_int_equal(mqtt5_ws_decoder_next(&d, in, n, &used, &ev), MQTT5_ERR_WEBSOCKET_PROTOCOL);
    assert_int_equal(used, 0);
    /* data frame inside a message */
    n = frame(in, MQTT5_WS_OP_BINARY, false, false, "a");
    n += frame(in + n, MQTT5_WS_OP_BINARY, true, false, "b");
    mqtt5_ws_decoder_init(&d, 0, false);
    run(&d, in, n, 0, &t);
    assert_int_equal(t.err, MQTT5_ERR_WEBSOCKET_PROTOCOL);
    assert_string_equal(d.why, "new data frame inside a fragmented message");
    /* the size limit applies to data frames, as soon as the header is complete */
    n = frame(in, MQTT5_WS_OP_BINARY, true, false, "12345");
    mqtt5_ws_decoder_init(&d, 4, false);
    run(&d, in, 2, 0, &t);
    assert_int_equal(t.err, MQTT5_ERR_WEBSOCKET_FRAME_TOO_LARGE);
    assert_int_equal(d.hdr.len, 5);
    mqtt5_ws_decoder_init(&d, 5, false);
    run(&d, in, n, 1, &t);
    assert_int_equal(t.err, 0);
    assert_int_equal(t.data_n, 5);
}

static void test_decoder_empty_input(void **state)
{
    (void)state;
    mqtt5_ws_decoder d;
    mqtt5_ws_decoder_init(&d, 0, false);
    size_t used = 1;
    mqtt5_ws_event ev;
    assert_int_equal(mqtt5_ws_decoder_next(&d, NULL, 0, &used, &ev), 0);
    assert_int_equal(ev.kind, MQTT5_WS_EV_NONE);
    assert_int_equal(used, 0);
}

/* ---- handshake helpers ---- */

static void test_accept_value(void **state)
{
    (void)state;
    char accept[MQTT5_WS_ACCEPT_SIZE];
    assert_int_equal(mqtt5_ws_accept_compute("dGhlIHNhbXBsZSBub25jZQ==", accept), 0);
    assert_string_equal(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    char key[MQTT5_WS_KEY_SIZE];
    mqtt5_ws_key_encode((const uint8_t *)"the sample nonce", key);
    assert_string_equal(key, "dGhlIHNhbXBsZSBub25jZQ==");
    uint8_t a[16] = {0}, b[16] = {0};
    assert_int_equal(mqtt5_ws_random_fill(NULL, a, sizeof a), 0);
    assert_int_equal(mqtt5_ws_random_fill(NULL, b, sizeof b), 0);
    assert_memory_not_equal(a, b, sizeof a);
}

static void test_head_end(void **state)
{
    (void)state;
    const uint8_t *p = (const uint8_t *)"HTTP/1.1 101 X\r\nA: b\r\n\r\nrest";
    size_t n = strlen((const char *)p);
    assert_int_equal(mqtt5_ws_response_head_end(p, n, 0), n - 4);
    for (size_t k = 0; k < n - 4; k++) /* incremental search finds it at any resume point */
        assert_int_equal(mqtt5_ws_response_head_end(p, n - 4, k), n - 4);
    assert_int_equal(mqtt5_ws_response_head_end(p, n - 5, 0), 0);
    assert_int_equal(mqtt5_ws_response_head_end(p, 0, 0), 0);
}

static int check(const char *head, const char *accept, char *detail)
{
    return mqtt5_ws_response_check((const uint8_t *)head, strlen(head), accept, detail, 256);
}

static void test_response_check(void **state)
{
    (void)state;
    const char *acc = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
    char d[256];
    assert_int_equal(
        check("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
              "\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
              acc, d),
        0);
    assert_string_equal(d, "");
    assert_int_equal(check("HTTP/1.1 101\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                           "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                           "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
                           acc, d),
                     MQTT5_ERR_WEBSOCKET_HANDSHAKE);
    assert_string_equal(d, "server's 101 answer has 2 Sec-WebSocket-Accept headers");
    assert_int_equal(check("HTTP/1.1 401 Unauthorized\r\n\r\n", acc, d),
                     MQTT5_ERR_WEBSOCKET_HANDSHAKE);
    assert_string_equal(d, "server answered 'HTTP/1.1 401 Unauthorized' to the WebSocket upgrade");
    assert_int_equal(check("HTTP/1.1 101\r\n", acc, d), MQTT5_ERR_WEBSOCKET_HANDSHAKE);
    assert_string_equal(d, "server's answer to the WebSocket upgrade is incomplete");
    assert_int_equal(check("HTTP/1.1 1O1 X\r\n\r\n", acc, d), MQTT5_ERR_WEBSOCKET_HANDSHAKE);
    assert_non_null(strstr(d, "not an HTTP status line"));
    assert_int_equal(check("HTTP/1.1 500 \x01\x7f\r\n\r\n", acc, d), MQTT5_ERR_WEBSOCKET_HANDSHAKE);
    assert_string_equal(d, "server answered 'HTTP/1.1 500 ?\?' to the WebSocket upgrade");
    /* a tiny detail buffer truncates, still terminated */
    char small[8];
    assert_int_equal(mqtt5_ws_response_check((const uint8_t *)"HTTP/1.1 404 No\r\n\r\n", 19, acc,
                                             small, sizeof small),
                     MQTT5_ERR_WEBSOCKET_HANDSHAKE);
    assert_int_equal(strlen(small), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_examples),
        cmocka_unit_test(test_length_boundaries),
        cmocka_unit_test(test_bad_headers),
        cmocka_unit_test(test_mask_offsets),
        cmocka_unit_test(test_close_payload),
        cmocka_unit_test(test_decoder_stream),
        cmocka_unit_test(test_decoder_errors_are_sticky),
        cmocka_unit_test(test_decoder_empty_input),
        cmocka_unit_test(test_accept_value),
        cmocka_unit_test(test_head_end),
        cmocka_unit_test(test_response_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
