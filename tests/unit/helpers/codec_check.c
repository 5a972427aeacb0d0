/*
 * helpers/codec_check.c - encode/decode check helpers (see codec_check.h).
 */
#include "helpers/test_common.h"

#define FILL 0xA5
#define GUARD 8

/* A status the codec must overwrite: error and reason hold values no call returns. */
static void status_init(mqtt5_codec_status *st)
{
    memset(st, 0, sizeof(*st));
    st->error = 12345;
    st->reason_code = 0xEE;
    st->offset = (size_t)-1;
}

static void expect_untouched(const uint8_t *buf, size_t n, const char *what, const char *file,
                             int line)
{
    for (size_t i = 0; i < n; i++)
        if (buf[i] != FILL)
            test_fail_at(file, line, "%s: byte %zu was written (0x%02x)", what, i, buf[i]);
}

/* Buffer caps below `size` worth trying: all of them for small packets, a few for big ones. */
static bool cap_worth_trying(size_t cap, size_t size)
{
    return size <= 300 || cap < 8 || cap == size / 2 || cap + 8 > size;
}

uint8_t *encode_ok_(const mqtt5_packet *p, size_t *len, const char *file, int line)
{
    mqtt5_codec_status st;
    status_init(&st);
    size_t size = 0;
    int rc = mqtt5_packet_encoded_size(p, &size, &st);
    if (rc != MQTT5_OK)
        test_fail_at(file, line, "encoded_size failed: %s (field %s, detail %s)",
                     mqtt5_error_name(rc), st.field ? st.field : "NULL",
                     st.detail ? st.detail : "NULL");
    assert_err_(st.error, MQTT5_OK, file, line);

    /* Roomy buffer: writes exactly `size` bytes, nothing after. */
    uint8_t *roomy = test_alloc(size + GUARD);
    memset(roomy, FILL, size + GUARD);
    size_t written = (size_t)-1;
    rc = mqtt5_packet_encode(p, roomy, size + GUARD, &written, &st);
    if (rc != MQTT5_OK)
        test_fail_at(file, line, "encode failed: %s (field %s, detail %s)", mqtt5_error_name(rc),
                     st.field ? st.field : "NULL", st.detail ? st.detail : "NULL");
    if (written != size)
        test_fail_at(file, line, "encoded_size() says %zu but encode() wrote %zu", size, written);
    expect_untouched(roomy + size, GUARD, "bytes after the packet", file, line);

    /* Exact buffer: same bytes. */
    uint8_t *exact = test_alloc(size);
    rc = mqtt5_packet_encode(p, exact, size, &written, &st);
    if (rc != MQTT5_OK || written != size || memcmp(exact, roomy, size) != 0)
        test_fail_at(file, line, "encode into an exact-size buffer differs (%s, %zu bytes)",
                     mqtt5_error_name(rc), written);

    /* Every short buffer: BUFFER_TOO_SMALL and not a byte written. */
    for (size_t cap = 0; cap < size; cap++) {
        if (!cap_worth_trying(cap, size)) continue;
        uint8_t *shortbuf = test_alloc(cap);
        memset(shortbuf, FILL, cap);
        rc = mqtt5_packet_encode(p, shortbuf, cap, &written, &st);
        if (rc != MQTT5_ERR_BUFFER_TOO_SMALL)
            test_fail_at(file, line, "encode with cap %zu < %zu returned %s, not BUFFER_TOO_SMALL",
                         cap, size, mqtt5_error_name(rc));
        expect_untouched(shortbuf, cap, "short buffer", file, line);
    }
    *len = size;
    return exact;
}

void assert_encodes_(const mqtt5_packet *p, const char *hex, const char *file, int line)
{
    size_t len;
    const uint8_t *out = encode_ok_(p, &len, file, line);
    assert_mem_hex_(out, len, hex, file, line);
}

void decode_buf_ok_(const uint8_t *buf, size_t len, mqtt5_packet *out, const char *file, int line)
{
    mqtt5_codec_status st;
    status_init(&st);
    memset(out, 0x5a, sizeof(*out));
    size_t consumed = (size_t)-1;
    int rc = mqtt5_packet_decode(buf, len, 0, out, &consumed, &st);
    if (rc != MQTT5_OK)
        test_fail_at(file, line, "decode failed: %s reason 0x%02x offset %zu (field %s, detail %s)",
                     mqtt5_error_name(rc), st.reason_code, st.offset, st.field ? st.field : "NULL",
                     st.detail ? st.detail : "NULL");
    assert_err_(st.error, MQTT5_OK, file, line);
    if (st.reason_code != 0)
        test_fail_at(file, line, "status.reason_code is 0x%02x after a good decode",
                     st.reason_code);
    if (consumed != len)
        test_fail_at(file, line, "decode consumed %zu of %zu bytes", consumed, len);
    assert_packet_views_inside_(out, buf, len, file, line);

    /* The exact size is an acceptable maximum packet size. */
    mqtt5_packet again;
    rc = mqtt5_packet_decode(buf, len, (uint32_t)len, &again, &consumed, &st);
    if (rc != MQTT5_OK)
        test_fail_at(file, line, "decode with max_packet_size = its size (%zu) failed: %s", len,
                     mqtt5_error_name(rc));

    /* Every strict prefix is incomplete. */
    for (size_t n = 0; n < len; n++) {
        if (len > 600 && n > 8 && n + 8 < len) continue;
        uint8_t *prefix = test_alloc(n);
        memcpy(prefix, buf, n);
        consumed = 12345;
        rc = mqtt5_packet_decode(prefix, n, 0, &again, &consumed, &st);
        if (rc != MQTT5_ERR_NEED_MORE || consumed != 0)
            test_fail_at(file, line,
                         "decode of a %zu-byte prefix of %zu: %s, consumed %zu "
                         "(want NEED_MORE, 0)",
                         n, len, mqtt5_error_name(rc), consumed);
    }
}

const uint8_t *decode_ok_(const char *hex, mqtt5_packet *out, size_t *len, const char *file,
                          int line)
{
    size_t n;
    const uint8_t *buf = hex_bytes(hex, &n);
    decode_buf_ok_(buf, n, out, file, line);
    if (len) *len = n;
    return buf;
}

void assert_round_trip_(const mqtt5_packet *p, const char *file, int line)
{
    size_t len;
    const uint8_t *buf = encode_ok_(p, &len, file, line);
    mqtt5_packet back;
    decode_buf_ok_(buf, len, &back, file, line);
    assert_packet_equal_(p, &back, file, line);
}

mqtt5_codec_status decode_fails_(const char *hex, uint32_t max, const char *file, int line)
{
    size_t n;
    const uint8_t *buf = hex_bytes(hex, &n);
    mqtt5_codec_status st;
    status_init(&st);
    mqtt5_packet out;
    size_t consumed = 0;
    int rc = mqtt5_packet_decode(buf, n, max, &out, &consumed, &st);
    if (rc == MQTT5_OK || rc == MQTT5_ERR_NEED_MORE)
        test_fail_at(file, line, "decode of %s returned %s, expected an error", hex,
                     mqtt5_error_name(rc));
    if (st.error != rc)
        test_fail_at(file, line, "decode returned %s but status.error is %s", mqtt5_error_name(rc),
                     mqtt5_error_name(st.error));
    return st;
}

void assert_decode_fails_(const char *hex, uint32_t max, int err, int rc, size_t off,
                          const char *file, int line)
{
    mqtt5_codec_status st = decode_fails_(hex, max, file, line);
    assert_status_(&st, err, rc, off, file, line);
}

void assert_encode_fails_(const mqtt5_packet *p, int err, const char *field, const char *file,
                          int line)
{
    mqtt5_codec_status st;
    status_init(&st);
    size_t size = 0;
    int rc = mqtt5_packet_encoded_size(p, &size, &st);
    if (rc != err || st.error != err)
        test_fail_at(file, line, "encoded_size returned %s (status %s), expected %s (field %s)",
                     mqtt5_error_name(rc), mqtt5_error_name(st.error), mqtt5_error_name(err),
                     rc != MQTT5_OK && st.field ? st.field : "NULL");
    assert_field_(&st, field, file, line);

    enum { CAP = 1024 };
    uint8_t *buf = test_alloc(CAP);
    memset(buf, FILL, CAP);
    status_init(&st);
    size_t written = 0;
    rc = mqtt5_packet_encode(p, buf, CAP, &written, &st);
    if (rc != err || st.error != err)
        test_fail_at(file, line, "encode returned %s (status %s), expected %s",
                     mqtt5_error_name(rc), mqtt5_error_name(st.error), mqtt5_error_name(err));
    assert_field_(&st, field, file, line);
    expect_untouched(buf, CAP, "refused packet", file, line);
}
