/*
 * test_vbi_utf8.c - variable byte integers (MQTT 5 section 1.5.5) at every size boundary, and
 * the MQTT UTF-8 string check (section 1.5.4: well-formed UTF-8 per RFC 3629, no surrogates,
 * no U+0000, at most 65535 bytes).
 */
#include "helpers/test_common.h"

/* ---- variable byte integer ------------------------------------------------------------------ */

/* value -> expected encoding (hex), per the algorithm of section 1.5.5. */
static const struct {
    uint32_t value;
    const char *hex;
} vbi_cases[] = {
    {0, "00"},
    {1, "01"},
    {127, "7f"},
    {128, "8001"},
    {321, "c102"},
    {16383, "ff7f"},
    {16384, "808001"},
    {2097151, "ffff7f"},
    {2097152, "80808001"},
    {268435455, "ffffff7f"},
};

static void vbi_boundaries(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT_OF(vbi_cases); i++) {
        size_t n = hex_len(vbi_cases[i].hex);
        uint8_t out[4] = {0xEE, 0xEE, 0xEE, 0xEE};
        assert_int_equal(mqtt5_vbi_size(vbi_cases[i].value), n);
        assert_int_equal(mqtt5_vbi_encode(vbi_cases[i].value, out), n);
        assert_mem_hex(out, n, vbi_cases[i].hex);
        for (size_t j = n; j < 4; j++)
            assert_int_equal(out[j], 0xEE); /* nothing past the encoding */
    }
}

static void vbi_too_large(void **state)
{
    (void)state;
    static const uint32_t too_big[] = {268435456u, 268435457u, 0x7fffffffu, 0xffffffffu};
    for (size_t i = 0; i < COUNT_OF(too_big); i++) {
        uint8_t out[4] = {0xEE, 0xEE, 0xEE, 0xEE};
        assert_int_equal(mqtt5_vbi_size(too_big[i]), 0);
        assert_int_equal(mqtt5_vbi_encode(too_big[i], out), 0);
    }
    assert_int_equal(MQTT5_MAX_VBI, 268435455u);
}

/* Each size boundary seen from the decoder: a PUBLISH whose remaining length needs 1..4 bytes. */
static void vbi_size_matches_remaining_length(void **state)
{
    (void)state;
    static const size_t payloads[] = {0, 121, 122, 16377, 16378}; /* remaining 6 .. 16384 */
    for (size_t i = 0; i < COUNT_OF(payloads); i++) {
        /* QoS 0 PUBLISH "a/b": topic (5) + property length (1) + payload. */
        uint8_t *payload = test_alloc(payloads[i]);
        memset(payload, 'x', payloads[i]);
        mqtt5_packet p = {.type = MQTT5_PUBLISH};
        p.u.publish.topic = S("a/b");
        p.u.publish.payload = (mqtt5_bytes){payload, payloads[i]};
        size_t len;
        const uint8_t *enc = encode_ok(&p, &len);
        uint32_t remaining = (uint32_t)(6 + payloads[i]);
        uint8_t vbi[4];
        size_t vn = mqtt5_vbi_encode(remaining, vbi);
        assert_int_equal(len, 1 + vn + remaining);
        assert_memory_equal(enc + 1, vbi, vn);
    }
}

/* ---- MQTT UTF-8 --------------------------------------------------------------------------- */

static bool utf8_hex(const char *hex)
{
    size_t n;
    const uint8_t *b = hex_bytes(hex, &n);
    return mqtt5_utf8_valid((const char *)b, n);
}

static void utf8_ascii(void **state)
{
    (void)state;
    assert_true(mqtt5_utf8_valid("", 0));
    assert_true(mqtt5_utf8_valid("hello/world", 11));
    assert_true(utf8_hex("20 7e 7f 01 1f")); /* controls are discouraged, not ill-formed */
}

static void utf8_multibyte(void **state)
{
    (void)state;
    assert_true(utf8_hex("c2 80"));       /* U+0080, smallest 2-byte */
    assert_true(utf8_hex("c3 a9"));       /* U+00E9 */
    assert_true(utf8_hex("df bf"));       /* U+07FF, largest 2-byte */
    assert_true(utf8_hex("e0 a0 80"));    /* U+0800, smallest 3-byte */
    assert_true(utf8_hex("e2 82 ac"));    /* U+20AC */
    assert_true(utf8_hex("ed 9f bf"));    /* U+D7FF, just below the surrogates */
    assert_true(utf8_hex("ee 80 80"));    /* U+E000, just above */
    assert_true(utf8_hex("ef bf bf"));    /* U+FFFF */
    assert_true(utf8_hex("f0 90 80 80")); /* U+10000, smallest 4-byte */
    assert_true(utf8_hex("f0 9f 98 80")); /* U+1F600 */
    assert_true(utf8_hex("f4 8f bf bf")); /* U+10FFFF, the last code point */
    assert_true(utf8_hex("41 c3 a9 e2 82 ac f0 9f 98 80 5a"));
}

static void utf8_bom_is_valid(void **state)
{
    (void)state;
    assert_true(utf8_hex("ef bb bf")); /* U+FEFF must not be skipped or stripped (1.5.4) */
    assert_true(utf8_hex("ef bb bf 61"));
}

static void utf8_overlong(void **state)
{
    (void)state;
    assert_false(utf8_hex("c0 80")); /* U+0000 in 2 bytes */
    assert_false(utf8_hex("c0 af"));
    assert_false(utf8_hex("c1 bf")); /* U+007F in 2 bytes */
    assert_false(utf8_hex("e0 80 80"));
    assert_false(utf8_hex("e0 9f bf")); /* U+07FF in 3 bytes */
    assert_false(utf8_hex("f0 80 80 80"));
    assert_false(utf8_hex("f0 8f bf bf")); /* U+FFFF in 4 bytes */
}

static void utf8_surrogates(void **state)
{
    (void)state;
    assert_false(utf8_hex("ed a0 80"));          /* U+D800 */
    assert_false(utf8_hex("ed af bf"));          /* U+DBFF */
    assert_false(utf8_hex("ed b0 80"));          /* U+DC00 */
    assert_false(utf8_hex("ed bf bf"));          /* U+DFFF */
    assert_false(utf8_hex("ed a0 bd ed b8 80")); /* CESU-8 pair for U+1F600 */
}

static void utf8_null_character(void **state)
{
    (void)state;
    assert_false(utf8_hex("00"));
    assert_false(utf8_hex("61 00 62"));
    assert_false(utf8_hex("61 62 00"));
}

static void utf8_beyond_unicode(void **state)
{
    (void)state;
    assert_false(utf8_hex("f4 90 80 80")); /* U+110000 */
    assert_false(utf8_hex("f5 80 80 80"));
    assert_false(utf8_hex("f7 bf bf bf"));
    assert_false(utf8_hex("f8 88 80 80 80")); /* old 5-byte form */
    assert_false(utf8_hex("fc 84 80 80 80 80"));
    assert_false(utf8_hex("fe"));
    assert_false(utf8_hex("ff"));
}

static void utf8_truncated(void **state)
{
    (void)state;
    assert_false(utf8_hex("c3"));
    assert_false(utf8_hex("e2 82"));
    assert_false(utf8_hex("f0 9f 98"));
    assert_false(utf8_hex("61 e2"));
    assert_false(utf8_hex("e2 82 41")); /* lead byte followed by ASCII too early */
    assert_false(utf8_hex("f0 9f 41 41"));
    assert_false(utf8_hex("c3 c3 a9")); /* lead byte followed by another lead */
}

static void utf8_stray_continuation(void **state)
{
    (void)state;
    assert_false(utf8_hex("80"));
    assert_false(utf8_hex("bf"));
    assert_false(utf8_hex("61 80 62"));
    assert_false(utf8_hex("c3 a9 a9")); /* one continuation too many */
    assert_false(utf8_hex("e2 82 ac 80"));
}

/* The length check must not read the string: the buffer is exactly len bytes (ASan). */
static void utf8_length_limit(void **state)
{
    (void)state;
    char *s = test_alloc(65536);
    memset(s, 'a', 65536);
    assert_true(mqtt5_utf8_valid(s, 65535));
    assert_false(mqtt5_utf8_valid(s, 65536));
    /* 65535 bytes ending in a 3-byte character. */
    memcpy(s + 65532, "\xe2\x82\xac", 3);
    assert_true(mqtt5_utf8_valid(s, 65535));
    /* The checker looks at every byte, up to the last one. */
    memset(s + 65532, 'a', 3);
    s[65534] = 0;
    assert_false(mqtt5_utf8_valid(s, 65535));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vbi_boundaries),
        cmocka_unit_test(vbi_too_large),
        cmocka_unit_test(vbi_size_matches_remaining_length),
        cmocka_unit_test(utf8_ascii),
        cmocka_unit_test(utf8_multibyte),
        cmocka_unit_test(utf8_bom_is_valid),
        cmocka_unit_test(utf8_overlong),
        cmocka_unit_test(utf8_surrogates),
        cmocka_unit_test(utf8_null_character),
        cmocka_unit_test(utf8_beyond_unicode),
        cmocka_unit_test(utf8_truncated),
        cmocka_unit_test(utf8_stray_continuation),
        cmocka_unit_test(utf8_length_limit),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
