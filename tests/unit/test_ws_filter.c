/*
 * test_ws_filter.c - the WebSocket transport filter, in-process: the client filter over a fake
 * lower filter that is a WebSocket server (helpers/ws_peer.c), with a recording sink on top. No
 * sockets, no event loop. Covers the exact upgrade request, every way the 101 answer can be
 * wrong, binary data both ways at the length-encoding boundaries, byte-at-a-time delivery,
 * ping/pong (also inside fragmented messages), the close handshake both ways, size limits and
 * the user transform hook (synchronous, asynchronous, failing, and outlived by the filter).
 */
#include "helpers/test_common.h"

#include "helpers/ws_peer.h"
#include "transports/ws.h"
#include "transports/ws_frame.h"

/* The random seam: the key bytes are RFC 6455's "the sample nonce", mask keys 37 fa 21 3d. */
static int fixed_random(void *ud, uint8_t *p, size_t n)
{
    (void)ud;
    if (n == 16) {
        memcpy(p, "the sample nonce", 16);
        return 0;
    }
    static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    for (size_t i = 0; i < n; i++)
        p[i] = key[i % 4];
    return 0;
}

static void start(ws_peer *t, const mqtt5_ws_options *o, const char *response, size_t chunk)
{
    ws_peer_init(t, o);
    t->response = response;
    t->chunk = chunk;
    ws_peer_connect(t);
}

static void assert_open(ws_peer *t)
{
    if (t->closes) fail_msg("closed: %s %s", mqtt5_error_name(t->close_up_err), t->close_detail);
    assert_int_equal(t->opens, 1);
    assert_false(t->close_called);
}

static void assert_failed(ws_peer *t, int err, const char *needle)
{
    assert_int_equal(t->closes, 1);
    if (t->close_up_err != err)
        fail_msg("got %s (%s), want %s", mqtt5_error_name(t->close_up_err), t->close_detail,
                 mqtt5_error_name(err));
    assert_true(t->close_called);
    assert_int_equal(t->close_err, err);
    if (needle && !strstr(t->close_detail, needle))
        fail_msg("detail '%s' lacks '%s'", t->close_detail, needle);
}

static uint8_t *pattern(size_t n, unsigned seed)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 31u + seed + (i >> 8));
    return p;
}

/* ---- the upgrade ---- */

static void test_request_exact_bytes(void **state)
{
    (void)state;
    ws_peer t;
    const mqtt5_ws_header extra[] = {{"X-Client", "mqtt5-c"}, {"Authorization", "Bearer t"}};
    mqtt5_ws_options o = {
        .host = "broker.test:8080", .headers = extra, .header_count = 2, .random = fixed_random};
    ws_peer_init(&t, &o);
    t.hold_open = true;
    mqtt5_iov v = {(const uint8_t *)"x", 1};
    assert_int_equal(t.ws->ops->write(t.ws, &v, 1), MQTT5_ERR_INVALID_STATE);
    assert_int_equal(t.ws->ops->connect(t.ws), 0);
    assert_int_equal(t.ws->ops->connect(t.ws), MQTT5_ERR_INVALID_STATE);
    ws_peer_pump(&t);
    assert_true(t.connect_called);
    assert_int_equal(t.to_server.n, 0); /* nothing before the lower opened */
    assert_int_equal(t.ws->ops->write(t.ws, &v, 1), MQTT5_ERR_INVALID_STATE);
    t.hold_open = false;
    ws_peer_pump(&t);
    assert_string_equal((const char *)t.request.p, "GET /mqtt HTTP/1.1\r\n"
                                                   "Host: broker.test:8080\r\n"
                                                   "X-Client: mqtt5-c\r\n"
                                                   "Authorization: Bearer t\r\n"
                                                   "Upgrade: websocket\r\n"
                                                   "Connection: Upgrade\r\n"
                                                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                                   "Sec-WebSocket-Version: 13\r\n"
                                                   "Sec-WebSocket-Protocol: mqtt\r\n"
                                                   "\r\n");
    assert_string_equal(t.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); /* RFC 6455 section 1.3 */
    assert_open(&t);
    /* the first frame, byte for byte: RFC 6455 section 5.7's masked "Hello", as binary */
    assert_int_equal(t.ws->ops->write(t.ws, &(mqtt5_iov){(const uint8_t *)"Hello", 5}, 1), 0);
    assert_int_equal(t.to_server.n, 11);
    static const uint8_t golden[] = {0x82, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                     0x7f, 0x9f, 0x4d, 0x51, 0x58};
    assert_memory_equal(t.to_server.p, golden, sizeof golden);
    ws_peer_pump(&t);
    assert_int_equal(t.data.n, 5);
    ws_peer_free(&t);
}

static void test_custom_path_and_default_random(void **state)
{
    (void)state;
    ws_peer t;
    mqtt5_ws_options o = {.host = "h", .path = "/ws?x=1"};
    start(&t, &o, NULL, 0);
    assert_open(&t);
    assert_true(strncmp((const char *)t.request.p, "GET /ws?x=1 HTTP/1.1\r\nHost: h\r\n", 31) == 0);
    assert_int_equal(strlen(t.key), 24); /* base64 of 16 random bytes */
    ws_peer_free(&t);
    /* two connections use different keys */
    char first[64];
    start(&t, &o, NULL, 0);
    snprintf(first, sizeof first, "%s", t.key);
    ws_peer_free(&t);
    start(&t, &o, NULL, 0);
    assert_string_not_equal(first, t.key);
    ws_peer_free(&t);
}

static void test_accept_mismatch(void **state)
{
    (void)state;
    ws_peer t;
    start(&t, NULL,
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Accept: dGhpcyBpcyBub3QgdGhlIHJpZ2h0IG9uZQ==\r\n"
          "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
          0);
    assert_int_equal(t.opens, 0);
    assert_failed(&t, MQTT5_ERR_WEBSOCKET_HANDSHAKE, "does not match the key");
    assert_non_null(strstr(t.close_detail, t.accept)); /* names the expected value */
    ws_peer_free(&t);
}

static void test_missing_protocol(void **state)
{
    (void)state;
    ws_peer t;
    start(&t, NULL,
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Accept: %s\r\n\r\n",
          0);
    assert_failed(&t, MQTT5_ERR_WEBSOCKET_HANDSHAKE, "lacks 'Sec-WebSocket-Protocol: mqtt'");
    ws_peer_free(&t);
    start(&t, NULL,
          "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: mqttv3.1\r\n\r\n",
          0);
    assert_failed(&t, MQTT5_ERR_WEBSOCKET_HANDSHAKE, "subprotocol 'mqttv3.1', not 'mqtt'");
    ws_peer_free(&t);
}

static void test_forbidden(void **state)
{
    (void)state;
    ws_peer t;
    start(&t, NULL, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", 0);
    assert_failed(&t, MQTT5_ERR_WEBSOCKET_HANDSHAKE, NULL);
    assert_string_equal(t.close_detail,
                        "server answered 'HTTP/1.1 403 Forbidden' to the WebSocket upgrade");
    ws_peer_free(&t);
}

static void test_other_bad_answers(void **state)
{
    (void)state;
    static const struct {
        const char *response, *needle;
    } cases[] = {
        {"HTTP/1.1 101 X\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
         "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
         "lacks 'Upgrade: websocket'"},
        {"HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
         "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
         "lacks 'Connection: upgrade'"},
        {"HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
         "lacks Sec-WebSocket-Accept"},
        {"HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: mqtt\r\n"
         "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
         "extensions 'permessage-deflate'"},
        {"SSH-2.0-OpenSSH_9.2\r\n\r\n", "not an HTTP status line: 'SSH-2.0-OpenSSH_9.2'"},
        {"HTTP/1.1 101 X\r\nUpgrade websocket\r\n\r\n", "malformed header line"},
        {"HTTP/1.1 101 X\r\n folded: x\r\n\r\n", "malformed header line"},
        {"HTTP/1.1 101 X\nUpgrade: websocket\r\n\r\n", "bare CR or LF"},
    };
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        ws_peer t;
        start(&t, NULL, cases[i].response, 0);
        assert_int_equal(t.opens, 0);
        assert_failed(&t, MQTT5_ERR_WEBSOCKET_HANDSHAKE, cases[i].needle);
        ws_peer_free(&t);
    }
}

static void test_lenient_where_http_is(void **state)
{
    (void)state;
    ws_peer t;
    /* header names and the Upgrade/Connection tokens in any case, lists, odd whitespace */
    start(&t, NULL,
          "HTTP/1.1 101 Switching Protocols\r\nserver: x\r\nUPGRADE:WebSocket\r\n"
          "connection: keep-alive,  UPGRADE \r\nsec-websocket-accept: \t%s\t\r\n"
          "SEC-WEBSOCKET-PROTOCOL: mqtt\r\nSec-WebSocket-Extensions:\r\n\r\n",
          0);
    assert_open(&t);
    ws_peer_free(&t);
}

static void test_response_split_byte_by_byte(void **state)
{
    (void)state;
    ws_peer t;
    ws_peer_init(&t, NULL);
    t.chunk = 1;
    ws_peer_frame(&t.after_response, MQTT5_WS_OP_BINARY, true, false, "\x20\x03\x00\x00\x00", 5);
    ws_peer_connect(&t);
    assert_open(&t);
    assert_int_equal(t.sink_in.n, 5);
    assert_memory_equal(t.sink_in.p, "\x20\x03\x00\x00\x00", 5);
    ws_peer_free(&t);
    /* the same with the head and the first frames in one read */
    ws_peer_init(&t, NULL);
    ws_peer_frame(&t.after_response, MQTT5_WS_OP_BINARY, true, false, "ab", 2);
    ws_peer_frame(&t.after_response, MQTT5_WS_OP_PING, true, false, "p", 1);
    ws_peer_frame(&t.after_response, MQTT5_WS_OP_BINARY, true, false, "cd", 2);
    ws_peer_connect(&t);
    assert_open(&t);
    assert_int_equal(t.sink_in.n, 4);
    assert_memory_equal(t.sink_in.p, "abcd", 4);
    assert_int_equal(t.pong_count, 1);
    ws_peer_free(&t);
}

/* The payloads of the frames of one arrival go up in one read, in order; a control frame between
 * them splits the read (what came before it goes up first); a big payload goes up in place after
 * what was gathered. */
static void test_frames_gathered_into_one_read(void **state)
{
    (void)state;
    ws_peer t;
    ws_peer_init(&t, NULL);
    ws_peer_connect(&t);
    assert_int_equal(t.opens, 1);
    int reads = t.reads;
    ws_bytes burst = {0};
    for (int i = 1; i <= 5; i++) {
        uint8_t ack[4] = {0x40, 0x02, 0x00, (uint8_t)i};
        ws_peer_frame(&burst, MQTT5_WS_OP_BINARY, true, false, ack, 4);
    }
    ws_peer_raw_send(&t, burst.p, burst.n);
    assert_int_equal(t.reads, reads + 1);
    assert_int_equal(t.sink_in.n, 20);
    assert_int_equal(t.sink_in.p[19], 5);

    burst.n = 0;
    ws_peer_frame(&burst, MQTT5_WS_OP_BINARY, true, false, "ab", 2);
    ws_peer_frame(&burst, MQTT5_WS_OP_PING, true, false, "p", 1);
    ws_peer_frame(&burst, MQTT5_WS_OP_BINARY, true, false, "cd", 2);
    static uint8_t big[6000];
    memset(big, 'z', sizeof big);
    ws_peer_frame(&burst, MQTT5_WS_OP_BINARY, true, false, big, sizeof big);
    ws_peer_frame(&burst, MQTT5_WS_OP_BINARY, true, false, "ef", 2);
    ws_peer_raw_send(&t, burst.p, burst.n);
    assert_int_equal(t.reads, reads + 1 + 4); /* ab | cd | big | ef */
    assert_int_equal(t.sink_in.n, 20 + 4 + sizeof big + 2);
    assert_memory_equal(t.sink_in.p + 20, "abcd", 4);
    assert_memory_equal(t.sink_in.p + 24 + sizeof big, "ef", 2);
    assert_int_equal(t.pong_count, 1);
    free(burst.p);
    ws_peer_free(&t);
}

static void test_response_head_too_long(void **state)
{
    (void)state;
    ws_peer t;
    char *resp = malloc(17000);
    assert_non_null(resp);
    strcpy(resp, "HTTP/1.1 101 X\r\n");
    size_t n = strlen(resp);
    while (n < 16500) {
        memcpy(resp + n, "X-Pad: 0123456789abcdef0123456789abcdef\r\n", 41);
        n += 41;
    }
    strcpy(resp + n, "\r\n");
    start(&t, NULL, resp, 0);
    assert_failed(&t, MQTT5_ERR_WEBSOCKET_HANDSHAKE, "exceeds 16384 bytes");
    ws_peer_free(&t);
    free(resp);
}

static void test_closed_during_upgrade(void **state)
{
    (void)state;
    ws_peer t;
    ws_peer_init(&t, NULL);
    t.response = ""; /* says nothing */
    ws_peer_connect(&t);
    assert_int_equal(t.opens, 0);
    t.ws->ops->on_closed(t.ws, 0, NULL); /* FIN */
    assert_int_equal(t.closes, 1);
    assert_int_equal(t.close_up_err, MQTT5_ERR_WEBSOCKET_HANDSHAKE);
    assert_non_null(strstr(t.close_detail, "during the WebSocket upgrade"));
    ws_peer_free(&t);
    /* a failure below (TCP, TLS) before the upgrade goes up unchanged */
    ws_peer_init(&t, NULL);
    t.hold_open = true;
    ws_peer_connect(&t);
    t.ws->ops->on_closed(t.ws, MQTT5_ERR_CONNECT_REFUSED, "connect to 127.0.0.1 port 1 failed");
    assert_int_equal(t.close_up_err, MQTT5_ERR_CONNECT_REFUSED);
    assert_string_equal(t.close_detail, "connect to 127.0.0.1 port 1 failed");
    ws_peer_free(&t);
}

/* ---- data ---- */

static const size_t sizes[] = {0, 1, 125, 126, 65535, 65536, 200 * 1024};

static void test_binary_client_to_server(void **state)
{
    (void)state;
    ws_peer t;
    start(&t, NULL, NULL, 0);
    assert_open(&t);
    size_t expect_frames = 0, expect_bytes = 0;
    for (size_t i = 0; i < COUNT_OF(sizes); i++) {
        size_t n = sizes[i];
        uint8_t *p = pattern(n, (unsigned)i);
        size_t before = t.data.n, frames_before = t.frame_count;
        /* as two iovs: still one frame up to the limit */
        mqtt5_iov v[2] = {{p, n / 3}, {p + n / 3, n - n / 3}};
        assert_int_equal(t.ws->ops->write(t.ws, v, 2), 0);
        ws_peer_pump(&t);
        assert_false(t.server_failed);
        assert_int_equal(t.data.n - before, n);
        if (n) assert_memory_equal(t.data.p + before, p, n);
        size_t frames = t.frame_count - frames_before;
        if (n == 0) {
            assert_int_equal(frames, 0); /* nothing to send */
        } else if (n <= MQTT5_WS_DEFAULT_MAX_FRAME) {
            assert_int_equal(frames, 1);
            assert_int_equal(t.frames[frames_before].len, n);
        } else {
            assert_int_equal(frames, 2);
            assert_int_equal(t.frames[frames_before].len, MQTT5_WS_DEFAULT_MAX_FRAME);
            assert_int_equal(t.frames[frames_before + 1].len, n - MQTT5_WS_DEFAULT_MAX_FRAME);
        }
        for (size_t k = frames_before; k < t.frame_count; k++) {
            assert_int_equal(t.frames[k].opcode, MQTT5_WS_OP_BINARY);
            assert_true(t.frames[k].fin);
            assert_true(t.frames[k].masked);
        }
        expect_frames += frames;
        expect_bytes += n;
        free(p);
    }
    assert_int_equal(t.frame_count, expect_frames);
    assert_int_equal(t.data.n, expect_bytes);
    ws_peer_free(&t);
}

static void test_binary_server_to_client(void **state)
{
    (void)state;
    for (size_t chunk = 0; chunk <= 7; chunk += 7) {
        ws_peer t;
        mqtt5_ws_options o = {.max_frame = 256 * 1024};
        start(&t, &o, NULL, chunk);
        assert_open(&t);
        for (size_t i = 0; i < COUNT_OF(sizes); i++) {
            size_t n = sizes[i];
            uint8_t *p = pattern(n, (unsigned)i + 7);
            size_t before = t.sink_in.n;
            ws_peer_send(&t, MQTT5_WS_OP_BINARY, true, p, n);
            assert_int_equal(t.sink_in.n - before, n);
            if (n) assert_memory_equal(t.sink_in.p + before, p, n);
            free(p);
        }
        assert_open(&t);
        ws_peer_free(&t);
    }
}

static void test_server_frames_one_byte_at_a_time(void **state)
{
    (void)state;
    ws_peer t;
    start(&t, NULL, NULL, 1);
    assert_open(&t);
    uint8_t *big = pattern(65536, 3);
    ws_peer_frame(&t.to_client, MQTT5_WS_OP_BINARY, true, false, "hello", 5);
    ws_peer_frame(&t.to_client, MQTT5_WS_OP_BINARY, true, false, "", 0);
    ws_peer_frame(&t.to_client, MQTT5_WS_OP_PING, true, false, "ping!", 5);
    ws_peer_frame(&t.to_client, MQTT5_WS_OP_BINARY, true, false, big, 300);
    ws_peer_frame(&t.to_client, MQTT5_WS_OP_BINARY, true, false, big, 65536);
    ws_peer_pump(&t);
    assert_open(&t);
    assert_int_equal(t.sink_in.n, 5 + 300 + 65536);
    assert_memory_equal(t.sink_in.p, "hello", 5);
    assert_memory_equal(t.sink_in.p + 5, big, 300);
    assert_memory_equal(t.sink_in.p + 305, big, 65536);
    assert_int_equal(t.pong_count, 1);
    assert_memory_equal(t.pongs.p, "ping!", 5);
    free(big);
    ws_peer_free(&t);
}

static void test_ping_pong(void **state)
{
    (void)state;
    ws_peer t;
    start(&t, NULL, NULL, 0);
    ws_peer_send(&t, MQTT5_WS_OP_PING, true, "", 0);
    ws_peer_send(&t, MQTT5_WS_OP_PING, true, "abc", 3);
    char max[125];
    memset(max, 'z', sizeof max);
    ws_peer_send(&t, MQTT5_WS_OP_PING, true, max, sizeof max);
    ws_peer_send(&t, MQTT5_WS_OP_PONG, true, "unasked", 7); /* ignored */
    assert_open(&t);
    assert_int_equal(t.pong_count, 3);
    assert_int_equal(t.pongs.n, 128);
    assert_memory_equal(t.pongs.p, "abc", 3);
    assert_int_equal(t.frame_count, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(t.frames[i].opcode, MQTT5_WS_OP_PONG);
        assert_true(t.frames[i].masked);
    }
    assert_int_equal(t.sink_in.n, 0);
    ws_peer_free(&t);
}

static void test_fragmented_with_ping_inside(void **state)
{
    (void)state;
    for (size_t chunk = 0; chunk <= 1; chunk++) {
        ws_peer t;
        start(&t, NULL, NULL, chunk);
        ws_peer_frame(&t.to_client, MQTT5_WS_OP_BINARY, false, false, "abc", 3);
        ws_peer_frame(&t.to_client, MQTT5_WS_OP_PING, true, false, "p1", 2);
        ws_peer_frame(&t.to_client, MQTT5_WS_OP_CONTINUATION, false, false, "", 0);
        ws_peer_frame(&t.to_client, MQTT5_WS_OP_CONTINUATION, false, false, "def", 3);
        ws_peer_frame(&t.to_client, MQTT5_WS_OP_PING, true, false, "", 0);
        ws_peer_frame(&t.to_client, MQTT5_WS_OP_CONTINUATION, true, false, "ghi", 3);
        ws_peer_frame(&t.to_client, MQTT5_WS_OP_BINARY, true, false, "!", 1);
        ws_peer_pump(&t);
        assert_open(&t);
        assert_int_equal(t.sink_in.n, 10);
        assert_memory_equal(t.sink_in.p, "abcdefghi!", 10);
        assert_int_equal(t.pong_count, 2);
        assert_int_equal(t.pongs.n, 2);
        assert_memory_equal(t.pongs.p, "p1", 2);
        ws_peer_free(&t);
    }
}

/* ---- protocol errors ---- */

static void test_text_frame_refused(void **state)
{
    (void)state;
    ws_peer t;
    start(&t, NULL, NULL, 0);
    ws_peer_send(&t, MQTT5_WS_OP_TEXT, true, "hi", 2);
    assert_failed(&t, MQTT5_ERR_WEBSOCKET_PROTOCOL, "text frame");
    assert_int_equal(t.sink_in.n, 0);
    assert_int_equal(t.close_frames, 1);
    assert_int_equal(t.close_code, 1003);
    ws_peer_free(&t);
}

static void test_masked_server_frame_refused(void **state)
{
    (void)state;
    ws_peer t;
    start(&t, NULL, NULL, 0);
    ws_peer_frame(&t.to_client, MQTT5_WS_OP_BINARY, true, true, "hi", 2);
    ws_peer_pump(&t);
    assert_failed(&t, MQTT5_ERR_WEBSOCKET_PROTOCOL, "masked frame from the server");
    assert_int_equal(t.close_code, 1002);
    ws_peer_free(&t);
}

static void test_bad_frames_refused(void **state)
{
    (void)state;
    static const struct {
        uint8_t bytes[4];
        size_t n;
        const char *needle;
    } cases[] = {
        {{0xC2, 0x00}, 2, "reserved bits"},
        {{0x83, 0x00}, 2, "reserved opcode"},
        {{0x09, 0x00}, 2, "fragmented control frame"},
        {{0x89, 0x7E, 0x00, 0x7E}, 4, "control frame longer than 125"},
        {{0x80, 0x00}, 2, "continuation frame without a message"},
        {{0x82, 0x7E, 0x00, 0x10}, 4, "not minimally encoded"},
        {{0x88, 0x01, 0x03}, 3, "invalid WebSocket close frame"},
        {{0x88, 0x02, 0x03, 0xED}, 4, "invalid WebSocket close frame"}, /* 1005 */
    };
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        ws_peer t;
        start(&t, NULL, NULL, 0);
        ws_peer_raw_send(&t, cases[i].bytes, cases[i].n);
        assert_failed(&t, MQTT5_ERR_WEBSOCKET_PROTOCOL, cases[i].needle);
        assert_int_equal(t.close_code, 1002);
        ws_peer_free(&t);
    }
    /* a new message inside a fragmented one */
    ws_peer t;
    start(&t, NULL, NULL, 0);
    ws_peer_frame(&t.to_client, MQTT5_WS_OP_BINARY, false, false, "a", 1);
    ws_peer_frame(&t.to_client, MQTT5_WS_OP_BINARY, true, false, "b", 1);
    ws_peer_pump(&t);
    assert_failed(&t, MQTT5_ERR_WEBSOCKET_PROTOCOL, "new data frame inside a fragmented message");
    assert_int_equal(t.sink_in.n, 1);
    ws_peer_free(&t);
}

static void test_oversize_frame(void **state)
{
    (void)state;
    ws_peer t;
    mqtt5_ws_options o = {.max_frame = 1000};
    start(&t, &o, NULL, 0);
    uint8_t *p = pattern(2500, 1);
    ws_peer_send(&t, MQTT5_WS_OP_BINARY, true, p, 1000); /* at the limit: fine */
    assert_open(&t);
    /* outgoing writes are split at the limit */
    assert_int_equal(t.ws->ops->write(t.ws, &(mqtt5_iov){p, 2500}, 1), 0);
    ws_peer_pump(&t);
    assert_int_equal(t.frame_count, 3);
    assert_int_equal(t.frames[0].len, 1000);
    assert_int_equal(t.frames[1].len, 1000);
    assert_int_equal(t.frames[2].len, 500);
    assert_int_equal(t.data.n, 2500);
    assert_memory_equal(t.data.p, p, 2500);
    /* one byte over: refused as soon as the header is in */
    ws_peer_frame(&t.to_client, MQTT5_WS_OP_BINARY, true, false, p, 1001);
    t.to_client.n = 4; /* the payload never comes */
    ws_peer_pump(&t);
    assert_failed(&t, MQTT5_ERR_WEBSOCKET_FRAME_TOO_LARGE,
                  "frame of 1001 bytes, over the limit of 1000");
    assert_int_equal(t.close_code, 1009);
    assert_int_equal(t.sink_in.n, 1000);
    free(p);
    ws_peer_free(&t);
    /* the default limit */
    start(&t, NULL, NULL, 0);
    uint8_t hdr[] = {0x82, 0x7F, 0, 0, 0, 0, 0, 0x02, 0x00, 0x11};
    ws_peer_raw_send(&t, hdr, sizeof hdr);
    assert_failed(&t, MQTT5_ERR_WEBSOCKET_FRAME_TOO_LARGE,
                  "131089 bytes, over the limit of 131088");
    ws_peer_free(&t);
}

/* ---- close ---- */

static void test_server_close(void **state)
{
    (void)state;
    ws_peer t;
    start(&t, NULL, NULL, 0);
    ws_peer_send(&t, MQTT5_WS_OP_BINARY, true, "last", 4);
    ws_peer_send(&t, MQTT5_WS_OP_CLOSE, true,
                 "\x03\xe9"
                 "bye",
                 5);
    assert_int_equal(t.sink_in.n, 4);
    assert_true(t.close_called);
    assert_int_equal(t.close_err, 0);
    assert_int_equal(t.closes, 1);
    assert_int_equal(t.close_up_err, 0);
    assert_string_equal(t.close_detail,
                        "server closed the WebSocket with status 1001 (going away): 'bye'");
    assert_int_equal(t.close_frames, 1); /* answered, same status */
    assert_int_equal(t.close_code, 1001);
    ws_peer_free(&t);
    /* no status code: answered with 1000 */
    start(&t, NULL, NULL, 1);
    ws_peer_send(&t, MQTT5_WS_OP_CLOSE, true, "", 0);
    assert_int_equal(t.close_up_err, 0);
    assert_string_equal(t.close_detail, "server closed the WebSocket without a status code");
    assert_int_equal(t.close_code, 1000);
    ws_peer_free(&t);
    /* an application code */
    start(&t, NULL, NULL, 0);
    ws_peer_send(&t, MQTT5_WS_OP_CLOSE, true, "\x0f\xa0", 2);
    assert_string_equal(t.close_detail, "server closed the WebSocket with status 4000");
    assert_int_equal(t.close_code, 4000);
    ws_peer_free(&t);
}

static void test_client_close(void **state)
{
    (void)state;
    ws_peer t;
    start(&t, NULL, NULL, 0);
    t.ws->ops->close(t.ws, 0);
    mqtt5_iov v = {(const uint8_t *)"x", 1};
    assert_int_equal(t.ws->ops->write(t.ws, &v, 1), MQTT5_ERR_INVALID_STATE);
    t.ws->ops->close(t.ws, 0); /* twice: no effect */
    ws_peer_pump(&t);
    assert_int_equal(t.close_frames, 1);
    assert_int_equal(t.close_code, 1000);
    assert_int_equal(t.close_err, 0);
    assert_int_equal(t.closes, 1);
    assert_int_equal(t.close_up_err, 0);
    ws_peer_free(&t);
    /* abortive: no close frame, the error goes down and comes back up */
    start(&t, NULL, NULL, 0);
    t.ws->ops->close(t.ws, MQTT5_ERR_PING_TIMEOUT);
    ws_peer_pump(&t);
    assert_int_equal(t.close_frames, 0);
    assert_int_equal(t.close_err, MQTT5_ERR_PING_TIMEOUT);
    assert_int_equal(t.close_up_err, MQTT5_ERR_PING_TIMEOUT);
    ws_peer_free(&t);
    /* a FIN without a close frame */
    start(&t, NULL, NULL, 0);
    t.ws->ops->on_closed(t.ws, 0, NULL);
    assert_int_equal(t.closes, 1);
    assert_int_equal(t.close_up_err, 0);
    assert_string_equal(t.close_detail,
                        "server closed the connection without a WebSocket close frame");
    ws_peer_free(&t);
}

static void test_passthrough(void **state)
{
    (void)state;
    ws_peer t;
    start(&t, NULL, NULL, 0);
    const char *s = NULL;
    assert_int_equal(t.ws->ops->query(t.ws, MQTT5_FILTER_QUERY_TLS_VERSION, &s),
                     MQTT5_ERR_NOT_AVAILABLE);
    assert_int_equal(t.ws->ops->write(t.ws, &(mqtt5_iov){(const uint8_t *)"abc", 3}, 1), 0);
    assert_int_equal(t.ws->ops->pending(t.ws), 9); /* the lower's: 6 header + 3 */
    ws_peer_free(&t);
}

/* ---- edges ---- */

static int failing_random(void *ud, uint8_t *p, size_t n)
{
    (void)ud;
    (void)p;
    (void)n;
    return -1;
}

static int mask_failing_random(void *ud, uint8_t *p, size_t n)
{
    (void)ud;
    return n == 16 ? fixed_random(NULL, p, n) : -1;
}

static void test_edges(void **state)
{
    (void)state;
    ws_peer t;
    /* no randomness for the key */
    mqtt5_ws_options o = {.random = failing_random};
    start(&t, &o, NULL, 0);
    assert_failed(&t, MQTT5_ERR_IO, "no random bytes for the Sec-WebSocket-Key");
    assert_int_equal(t.request.n, 0);
    ws_peer_free(&t);
    /* none for a mask key: the write fails and so does the connection */
    o = (mqtt5_ws_options){.random = mask_failing_random};
    start(&t, &o, NULL, 0);
    assert_open(&t);
    assert_int_equal(t.ws->ops->write(t.ws, &(mqtt5_iov){(const uint8_t *)"a", 1}, 1),
                     MQTT5_ERR_IO);
    ws_peer_pump(&t);
    assert_failed(&t, MQTT5_ERR_IO, "mask key");
    ws_peer_free(&t);
    /* the lower refuses the request, or a later frame */
    ws_peer_init(&t, NULL);
    t.fail_writes = true;
    ws_peer_connect(&t);
    assert_failed(&t, MQTT5_ERR_CONNECTION_CLOSED, "lower write failed");
    ws_peer_free(&t);
    start(&t, NULL, NULL, 0);
    t.fail_writes = true;
    assert_int_equal(t.ws->ops->write(t.ws, &(mqtt5_iov){(const uint8_t *)"a", 1}, 1),
                     MQTT5_ERR_CONNECTION_CLOSED);
    ws_peer_pump(&t);
    assert_failed(&t, MQTT5_ERR_CONNECTION_CLOSED, "lower write failed");
    ws_peer_free(&t);
    start(&t, NULL, NULL, 0);
    t.fail_writes = true;
    ws_peer_send(&t, MQTT5_WS_OP_PING, true, "x", 1); /* the pong cannot go */
    assert_failed(&t, MQTT5_ERR_CONNECTION_CLOSED, "lower write failed");
    ws_peer_free(&t);
    /* the server speaks before the request was sent */
    ws_peer_init(&t, NULL);
    t.hold_open = true;
    ws_peer_connect(&t);
    t.ws->ops->on_read(t.ws, (const uint8_t *)"x", 1);
    ws_peer_pump(&t);
    assert_failed(&t, MQTT5_ERR_WEBSOCKET_HANDSHAKE, "before the WebSocket upgrade request");
    ws_peer_free(&t);
    /* on_writable climbs only while open; reads while closing are dropped */
    ws_peer_init(&t, NULL);
    t.hold_open = true;
    ws_peer_connect(&t);
    t.ws->ops->on_writable(t.ws);
    assert_int_equal(t.writables, 0);
    t.hold_open = false;
    ws_peer_pump(&t);
    t.ws->ops->on_writable(t.ws);
    assert_int_equal(t.writables, 1);
    t.ws->ops->close(t.ws, 0);
    t.ws->ops->on_writable(t.ws);
    assert_int_equal(t.writables, 1);
    static const uint8_t ping[] = {0x89, 0x00};
    t.ws->ops->on_read(t.ws, ping, sizeof ping);
    ws_peer_pump(&t);
    assert_int_equal(t.pong_count, 0);
    assert_int_equal(t.closes, 1);
    t.ws->ops->on_closed(t.ws, MQTT5_ERR_IO, NULL); /* a second report: ignored */
    assert_int_equal(t.closes, 1);
    ws_peer_free(&t);
}

/* ---- the transform hook ---- */

typedef struct hook {
    int calls;
    int mode; /* 0 sync ok, 1 async, 2 return error, 3 sync done(error) */
    int error;
    mqtt5_ws_done_fn done;
    void *done_ctx;
    mqtt5_ws_request *req;
} hook;

static int transform(void *user, mqtt5_ws_request *req, mqtt5_ws_done_fn done, void *done_ctx)
{
    hook *h = user;
    h->calls++;
    h->req = req;
    h->done = done;
    h->done_ctx = done_ctx;
    assert_string_equal(mqtt5_ws_request_path(req), "/mqtt");
    assert_string_equal(mqtt5_ws_request_header(req, "host"), "iot.example:443");
    switch (h->mode) {
    case 0:
        assert_int_equal(mqtt5_ws_request_set_path(req, "/mqtt?X-Amz-Signature=abc%2F"), 0);
        assert_int_equal(mqtt5_ws_request_set_header(req, "X-Amz-Security-Token", "tok"), 0);
        assert_int_equal(mqtt5_ws_request_set_header(req, "x-client", "replaced"), 0);
        assert_int_equal(mqtt5_ws_request_set_header(req, "X-Gone", NULL), 0);
        assert_int_equal(mqtt5_ws_request_set_header(req, "Sec-WebSocket-Protocol", "x"),
                         MQTT5_ERR_INVALID_ARGUMENT);
        assert_int_equal(mqtt5_ws_request_set_header(req, "X-Bad", "a\r\nInjected: 1"),
                         MQTT5_ERR_INVALID_ARGUMENT);
        assert_int_equal(mqtt5_ws_request_set_path(req, "no-slash"), MQTT5_ERR_INVALID_ARGUMENT);
        done(done_ctx, 0);
        return 0;
    case 2:
        return h->error;
    case 3:
        done(done_ctx, h->error);
        return 0;
    default:
        return 0; /* async */
    }
}

static mqtt5_ws_options hook_options(hook *h)
{
    static const mqtt5_ws_header extra[] = {{"X-Client", "c"}, {"X-Gone", "g"}};
    return (mqtt5_ws_options){.host = "iot.example:443",
                              .headers = extra,
                              .header_count = 2,
                              .transform = transform,
                              .transform_user = h,
                              .random = fixed_random};
}

static void test_transform_sync(void **state)
{
    (void)state;
    hook h = {.mode = 0};
    mqtt5_ws_options o = hook_options(&h);
    ws_peer t;
    start(&t, &o, NULL, 0);
    assert_int_equal(h.calls, 1);
    assert_open(&t);
    assert_string_equal((const char *)t.request.p, "GET /mqtt?X-Amz-Signature=abc%2F HTTP/1.1\r\n"
                                                   "Host: iot.example:443\r\n"
                                                   "X-Client: replaced\r\n"
                                                   "X-Amz-Security-Token: tok\r\n"
                                                   "Upgrade: websocket\r\n"
                                                   "Connection: Upgrade\r\n"
                                                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                                   "Sec-WebSocket-Version: 13\r\n"
                                                   "Sec-WebSocket-Protocol: mqtt\r\n"
                                                   "\r\n");
    ws_peer_free(&t);
}

static void test_transform_async(void **state)
{
    (void)state;
    hook h = {.mode = 1};
    mqtt5_ws_options o = hook_options(&h);
    ws_peer t;
    start(&t, &o, NULL, 0);
    assert_int_equal(h.calls, 1);
    assert_true(t.open_sent); /* the lower is open, but the request waits for the hook */
    assert_int_equal(t.request.n, 0);
    assert_int_equal(t.opens, 0);
    assert_int_equal(mqtt5_ws_request_set_header(h.req, "X-Late", "1"), 0);
    h.done(h.done_ctx, 0);
    ws_peer_pump(&t);
    assert_open(&t);
    assert_non_null(strstr((const char *)t.request.p, "\r\nX-Late: 1\r\n"));
    ws_peer_free(&t);
    /* done before the lower opened: the request goes when it opens */
    h = (hook){.mode = 1};
    ws_peer_init(&t, &o);
    t.hold_open = true;
    ws_peer_connect(&t);
    h.done(h.done_ctx, 0);
    ws_peer_pump(&t);
    assert_int_equal(t.request.n, 0);
    t.hold_open = false;
    ws_peer_pump(&t);
    assert_open(&t);
    ws_peer_free(&t);
}

static void test_transform_fails(void **state)
{
    (void)state;
    for (int mode = 1; mode <= 3; mode++) {
        hook h = {.mode = mode, .error = MQTT5_ERR_NOT_AVAILABLE};
        mqtt5_ws_options o = hook_options(&h);
        ws_peer t;
        start(&t, &o, NULL, 0);
        if (mode == 1) {
            h.done(h.done_ctx, MQTT5_ERR_NOT_AVAILABLE);
            ws_peer_pump(&t);
        }
        assert_int_equal(t.opens, 0);
        assert_int_equal(t.request.n, 0); /* never sent */
        assert_failed(&t, MQTT5_ERR_NOT_AVAILABLE, "WebSocket handshake transform failed");
        ws_peer_free(&t);
    }
}

static void test_close_during_transform(void **state)
{
    (void)state;
    /* closed and destroyed before done: done stays safe, the request is freed by it */
    hook h = {.mode = 1};
    mqtt5_ws_options o = hook_options(&h);
    ws_peer t;
    start(&t, &o, NULL, 0);
    t.ws->ops->close(t.ws, 0);
    ws_peer_pump(&t);
    assert_int_equal(t.closes, 1);
    assert_int_equal(t.close_up_err, 0);
    ws_peer_free(&t); /* destroys the filter */
    assert_int_equal(mqtt5_ws_request_set_header(h.req, "X-After", "1"), 0); /* still valid */
    h.done(h.done_ctx, 0);
    /* closed, done arrives, then destroyed */
    h = (hook){.mode = 1};
    start(&t, &o, NULL, 0);
    t.ws->ops->close(t.ws, MQTT5_ERR_CONNECT_TIMEOUT);
    ws_peer_pump(&t);
    h.done(h.done_ctx, 0);
    ws_peer_pump(&t);
    assert_int_equal(t.request.n, 0);
    assert_int_equal(t.close_up_err, MQTT5_ERR_CONNECT_TIMEOUT);
    ws_peer_free(&t);
    /* failing done after close: ignored, the close reason stays */
    h = (hook){.mode = 1};
    start(&t, &o, NULL, 0);
    t.ws->ops->close(t.ws, MQTT5_ERR_STOPPED);
    h.done(h.done_ctx, MQTT5_ERR_IO);
    ws_peer_pump(&t);
    assert_int_equal(t.close_up_err, MQTT5_ERR_STOPPED);
    ws_peer_free(&t);
}

/* ---- options ---- */

static void test_options_refused(void **state)
{
    (void)state;
    mqtt5_filter *f = (mqtt5_filter *)1;
    assert_int_equal(mqtt5_ws_filter_new(&(mqtt5_ws_options){0}, &f), MQTT5_ERR_INVALID_ARGUMENT);
    assert_null(f);
    assert_int_equal(mqtt5_ws_filter_new(&(mqtt5_ws_options){.host = "h", .path = "mqtt"}, &f),
                     MQTT5_ERR_INVALID_ARGUMENT);
    const mqtt5_ws_header bad[][1] = {{{"Upgrade", "h2c"}}, {{"sec-websocket-key", "x"}},
                                      {{"X-A", "a\nb"}},    {{"Bad Name", "v"}},
                                      {{"", "v"}},          {{"X-Null", NULL}}};
    for (size_t i = 0; i < COUNT_OF(bad); i++)
        assert_int_equal(
            mqtt5_ws_filter_new(
                &(mqtt5_ws_options){.host = "h", .headers = bad[i], .header_count = 1}, &f),
            MQTT5_ERR_INVALID_ARGUMENT);
    assert_int_equal(mqtt5_ws_filter_new(&(mqtt5_ws_options){.host = "h\r\nX: y"}, &f),
                     MQTT5_ERR_INVALID_ARGUMENT);
    assert_int_equal(mqtt5_ws_filter_new(&(mqtt5_ws_options){.host = "h"}, &f), 0);
    f->ops->destroy(f); /* never connected */
}

static void test_request_editing(void **state)
{
    (void)state;
    mqtt5_ws_request *r = NULL;
    assert_int_equal(mqtt5_ws_request_new("h", NULL, NULL, 0, &r), 0);
    assert_string_equal(mqtt5_ws_request_path(r), "/mqtt");
    assert_int_equal(mqtt5_ws_request_header_count(r), 1);
    assert_int_equal(mqtt5_ws_request_set_header(r, "A", "1"), 0);
    assert_int_equal(mqtt5_ws_request_set_header(r, "B", "2"), 0);
    assert_int_equal(mqtt5_ws_request_set_header(r, "a", "3"), 0); /* replaces, keeps place */
    assert_int_equal(mqtt5_ws_request_header_count(r), 3);
    assert_string_equal(mqtt5_ws_request_header_at(r, 1).name, "A");
    assert_string_equal(mqtt5_ws_request_header_at(r, 1).value, "3");
    assert_null(mqtt5_ws_request_header_at(r, 3).name);
    assert_int_equal(mqtt5_ws_request_set_header(r, "HOST", "other:1"), 0);
    assert_string_equal(mqtt5_ws_request_header(r, "Host"), "other:1");
    assert_int_equal(mqtt5_ws_request_set_header(r, "Host", NULL), MQTT5_ERR_INVALID_ARGUMENT);
    assert_int_equal(mqtt5_ws_request_set_header(r, "b", NULL), 0);
    assert_null(mqtt5_ws_request_header(r, "B"));
    assert_int_equal(mqtt5_ws_request_set_header(r, "Connection", "close"),
                     MQTT5_ERR_INVALID_ARGUMENT);
    assert_int_equal(mqtt5_ws_request_set_path(r, "/a b"), MQTT5_ERR_INVALID_ARGUMENT);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(mqtt5_ws_request_encode(r, "KEY", &out, &len), 0);
    assert_int_equal(len, strlen(out));
    assert_string_equal(out, "GET /mqtt HTTP/1.1\r\nHost: other:1\r\nA: 3\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Key: KEY\r\n"
                             "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n");
    free(out);
    mqtt5_ws_request_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_exact_bytes),
        cmocka_unit_test(test_custom_path_and_default_random),
        cmocka_unit_test(test_accept_mismatch),
        cmocka_unit_test(test_missing_protocol),
        cmocka_unit_test(test_forbidden),
        cmocka_unit_test(test_other_bad_answers),
        cmocka_unit_test(test_lenient_where_http_is),
        cmocka_unit_test(test_response_split_byte_by_byte),
        cmocka_unit_test(test_frames_gathered_into_one_read),
        cmocka_unit_test(test_response_head_too_long),
        cmocka_unit_test(test_closed_during_upgrade),
        cmocka_unit_test(test_binary_client_to_server),
        cmocka_unit_test(test_binary_server_to_client),
        cmocka_unit_test(test_server_frames_one_byte_at_a_time),
        cmocka_unit_test(test_ping_pong),
        cmocka_unit_test(test_fragmented_with_ping_inside),
        cmocka_unit_test(test_text_frame_refused),
        cmocka_unit_test(test_masked_server_frame_refused),
        cmocka_unit_test(test_bad_frames_refused),
        cmocka_unit_test(test_oversize_frame),
        cmocka_unit_test(test_server_close),
        cmocka_unit_test(test_client_close),
        cmocka_unit_test(test_passthrough),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_transform_sync),
        cmocka_unit_test(test_transform_async),
        cmocka_unit_test(test_transform_fails),
        cmocka_unit_test(test_close_during_transform),
        cmocka_unit_test(test_options_refused),
        cmocka_unit_test(test_request_editing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
