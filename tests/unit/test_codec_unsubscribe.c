/*
 * test_codec_unsubscribe.c - UNSUBSCRIBE and UNSUBACK (MQTT 5 sections 3.10, 3.11): golden bytes,
 * user properties, filters read through mqtt5_unsubscribe_next, UNSUBACK reason codes.
 */
#include "helpers/test_common.h"

static const char UNSUBSCRIBE_TWO[] = "a2 0d"        /* UNSUBSCRIBE (flags 0x2), length 13 */
                                      "000b"         /* packet identifier 11 */
                                      "00"           /* property length 0 */
                                      "0003 612f62"  /* "a/b" */
                                      "0003 632f23"; /* "c/#" */

static const char UNSUBSCRIBE_PROPS[] = "a2 14 000b"
                                        "07 26 0001 61 0001 62" /* user property a=b */
                                        "0003 612f62 0003 632f23";

static const mqtt5_str two_filters[] = {SI("a/b"), SI("c/#")};
static const mqtt5_user_property ab[] = {{SI("a"), SI("b")}};

static mqtt5_packet unsubscribe_two(void)
{
    mqtt5_packet p = {.type = MQTT5_UNSUBSCRIBE};
    p.u.unsubscribe.packet_id = 11;
    p.u.unsubscribe.topic_filters = two_filters;
    p.u.unsubscribe.topic_filter_count = COUNT_OF(two_filters);
    return p;
}

static void unsubscribe(void **state)
{
    (void)state;
    mqtt5_packet p = unsubscribe_two();
    assert_encodes(&p, UNSUBSCRIBE_TWO);
    assert_round_trip(&p);

    mqtt5_packet d;
    const uint8_t *buf = decode_ok(UNSUBSCRIBE_TWO, &d, NULL);
    assert_int_equal(d.type, MQTT5_UNSUBSCRIBE);
    assert_int_equal(d.u.unsubscribe.packet_id, 11);
    assert_int_equal(d.u.unsubscribe.topic_filter_count, 2);
    assert_null(d.u.unsubscribe.topic_filters);
    assert_ptr_equal(d.u.unsubscribe.raw_payload.ptr, buf + 5);
    assert_int_equal(d.u.unsubscribe.raw_payload.len, 10);
    mqtt5_iter it = {0};
    mqtt5_str f;
    assert_true(mqtt5_unsubscribe_next(&d.u.unsubscribe, &it, &f));
    assert_str_eq(f, "a/b");
    assert_ptr_equal(f.ptr, (const char *)buf + 7);
    assert_true(mqtt5_unsubscribe_next(&d.u.unsubscribe, &it, &f));
    assert_str_eq(f, "c/#");
    assert_ptr_equal(f.ptr, (const char *)buf + 12);
    assert_false(mqtt5_unsubscribe_next(&d.u.unsubscribe, &it, &f));
    assert_false(mqtt5_unsubscribe_next(&d.u.unsubscribe, &it, &f));
}

static void unsubscribe_with_properties(void **state)
{
    (void)state;
    mqtt5_packet p = unsubscribe_two();
    p.u.unsubscribe.properties.user_properties = ab;
    p.u.unsubscribe.properties.user_property_count = 1;
    assert_encodes(&p, UNSUBSCRIBE_PROPS);
    assert_round_trip(&p);

    mqtt5_packet d;
    decode_ok(UNSUBSCRIBE_PROPS, &d, NULL);
    assert_user_props(&d.u.unsubscribe.properties, "a", "b", NULL);
    assert_int_equal(d.u.unsubscribe.properties.present, 0);
    mqtt5_iter it = {0};
    mqtt5_str f;
    assert_true(mqtt5_unsubscribe_next(&d.u.unsubscribe, &it, &f));
    assert_str_eq(f, "a/b");
    assert_true(mqtt5_unsubscribe_next(&d.u.unsubscribe, &it, &f));
    assert_str_eq(f, "c/#");
    assert_false(mqtt5_unsubscribe_next(&d.u.unsubscribe, &it, &f));
}

/* Shared filters and a long list. */
static void unsubscribe_many(void **state)
{
    (void)state;
    enum { N = 50 };
    static const mqtt5_str pool[] = {SI("$share/g/a/#"), SI("#"), SI("+/+"), SI("x")};
    mqtt5_str *filters = test_alloc(N * sizeof(*filters));
    for (size_t i = 0; i < N; i++)
        filters[i] = pool[i % COUNT_OF(pool)];
    mqtt5_packet p = {.type = MQTT5_UNSUBSCRIBE};
    p.u.unsubscribe.packet_id = 1;
    p.u.unsubscribe.topic_filters = filters;
    p.u.unsubscribe.topic_filter_count = N;
    assert_round_trip(&p);
}

static const char UNSUBACK_FULL[] = "b0 09 000b"
                                    "04 1f 0001 78" /* reason string "x" */
                                    "00 11";        /* success, no subscription existed */

static void unsuback(void **state)
{
    (void)state;
    static const uint8_t codes[] = {0x00, 0x11};
    mqtt5_packet p = {.type = MQTT5_UNSUBACK};
    p.u.suback.packet_id = 11;
    p.u.suback.reason_codes = codes;
    p.u.suback.reason_code_count = 2;
    assert_encodes(&p, "b0 05 000b 00 0011");
    assert_round_trip(&p);
    MQTT5_PROPS_SET(&p.u.suback.properties, MQTT5_PROP_REASON_STRING);
    p.u.suback.properties.reason_string = S("x");
    assert_encodes(&p, UNSUBACK_FULL);
    assert_round_trip(&p);

    mqtt5_packet d;
    size_t len;
    const uint8_t *buf = decode_ok(UNSUBACK_FULL, &d, &len);
    assert_int_equal(d.type, MQTT5_UNSUBACK);
    assert_int_equal(d.u.suback.packet_id, 11);
    assert_int_equal(d.u.suback.reason_code_count, 2);
    assert_ptr_equal(d.u.suback.reason_codes, buf + len - 2);
    assert_memory_equal(d.u.suback.reason_codes, codes, 2);
    assert_str_eq(d.u.suback.properties.reason_string, "x");
    assert_user_props(&d.u.suback.properties, NULL);
}

static void unsuback_reason_codes(void **state)
{
    (void)state;
    static const uint8_t codes[] = {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};
    mqtt5_packet p = {.type = MQTT5_UNSUBACK};
    p.u.suback.packet_id = 2;
    p.u.suback.reason_codes = codes;
    p.u.suback.reason_code_count = COUNT_OF(codes);
    assert_encodes(&p, "b0 0a 0002 00 00118083878f91");
    assert_round_trip(&p);
    for (size_t i = 0; i < COUNT_OF(codes); i++)
        assert_true(mqtt5_reason_code_valid_for(MQTT5_UNSUBACK, codes[i]));
    assert_false(mqtt5_reason_code_valid_for(MQTT5_UNSUBACK, 0x01));
    assert_false(mqtt5_reason_code_valid_for(MQTT5_UNSUBACK, 0xA2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unsubscribe),           cmocka_unit_test(unsubscribe_with_properties),
        cmocka_unit_test(unsubscribe_many),      cmocka_unit_test(unsuback),
        cmocka_unit_test(unsuback_reason_codes),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
