/*
 * test_codec_subscribe.c - SUBSCRIBE and SUBACK (MQTT 5 sections 3.8, 3.9): subscription options
 * (QoS, No Local, Retain As Published, Retain Handling), subscription identifier and user
 * properties, shared filters, SUBACK reason codes; entries read through mqtt5_subscribe_next.
 */
#include "helpers/test_common.h"

static const char SUBSCRIBE_ONE[] = "82 09" /* SUBSCRIBE (flags 0x2), remaining length 9 */
                                    "000a"  /* packet identifier 10 */
                                    "00"    /* property length 0 */
                                    "0003 612f62 01"; /* "a/b", QoS 1 */

static const char SUBSCRIBE_FULL[] =
    "82 26"
    "0002"                          /* packet identifier 2 */
    "0a"                            /* property length 10 */
    "0b 9601"                       /* subscription identifier 150 */
    "26 0001 75 0001 76"            /* user property u=v */
    "0003 612f62 01"                /* "a/b": QoS 1 */
    "0003 632f23 2e"                /* "c/#": QoS 2, no local, RAP, retain handling 2 */
    "000a 2473686172652f672f78 10"; /* "$share/g/x": QoS 0, retain handling 1 */

static const mqtt5_subscription full_subs[] = {
    {SI("a/b"), 1, false, false, 0},
    {SI("c/#"), 2, true, true, MQTT5_RETAIN_DONT_SEND},
    {SI("$share/g/x"), 0, false, false, MQTT5_RETAIN_SEND_ON_NEW_SUBSCRIBE},
};
static const mqtt5_user_property uv[] = {{SI("u"), SI("v")}};
static const uint32_t sub_id_150[] = {150};

static mqtt5_packet subscribe_full(void)
{
    mqtt5_packet p = {.type = MQTT5_SUBSCRIBE};
    p.u.subscribe.packet_id = 2;
    p.u.subscribe.subscriptions = full_subs;
    p.u.subscribe.subscription_count = COUNT_OF(full_subs);
    p.u.subscribe.properties.subscription_identifiers = sub_id_150;
    p.u.subscribe.properties.subscription_identifier_count = 1;
    p.u.subscribe.properties.user_properties = uv;
    p.u.subscribe.properties.user_property_count = 1;
    return p;
}

static void subscribe_one(void **state)
{
    (void)state;
    static const mqtt5_subscription one[] = {{SI("a/b"), 1, false, false, 0}};
    mqtt5_packet p = {.type = MQTT5_SUBSCRIBE};
    p.u.subscribe.packet_id = 10;
    p.u.subscribe.subscriptions = one;
    p.u.subscribe.subscription_count = 1;
    assert_encodes(&p, SUBSCRIBE_ONE);

    mqtt5_packet d;
    const uint8_t *buf = decode_ok(SUBSCRIBE_ONE, &d, NULL);
    assert_int_equal(d.type, MQTT5_SUBSCRIBE);
    assert_int_equal(d.u.subscribe.packet_id, 10);
    assert_int_equal(d.u.subscribe.subscription_count, 1);
    assert_null(d.u.subscribe.subscriptions);
    assert_ptr_equal(d.u.subscribe.raw_payload.ptr, buf + 5);
    assert_int_equal(d.u.subscribe.raw_payload.len, 6);
    mqtt5_iter it = {0};
    mqtt5_subscription s;
    assert_true(mqtt5_subscribe_next(&d.u.subscribe, &it, &s));
    assert_str_eq(s.topic_filter, "a/b");
    assert_ptr_equal(s.topic_filter.ptr, (const char *)buf + 7);
    assert_int_equal(s.qos, 1);
    assert_false(s.no_local);
    assert_false(s.retain_as_published);
    assert_int_equal(s.retain_handling, 0);
    assert_false(mqtt5_subscribe_next(&d.u.subscribe, &it, &s));
    assert_false(mqtt5_subscribe_next(&d.u.subscribe, &it, &s)); /* stays exhausted */
}

static void subscribe_full_golden(void **state)
{
    (void)state;
    mqtt5_packet p = subscribe_full();
    assert_encodes(&p, SUBSCRIBE_FULL);
    assert_round_trip(&p);

    mqtt5_packet d;
    const uint8_t *buf = decode_ok(SUBSCRIBE_FULL, &d, NULL);
    assert_int_equal(d.u.subscribe.packet_id, 2);
    assert_sub_ids(&d.u.subscribe.properties, 150);
    assert_user_props(&d.u.subscribe.properties, "u", "v", NULL);
    assert_int_equal(d.u.subscribe.properties.present, 0);
    assert_int_equal(d.u.subscribe.subscription_count, 3);

    mqtt5_iter it = {0};
    mqtt5_subscription s;
    for (size_t i = 0; i < COUNT_OF(full_subs); i++) {
        assert_true(mqtt5_subscribe_next(&d.u.subscribe, &it, &s));
        assert_view_inside(s.topic_filter.ptr, s.topic_filter.len, buf, hex_len(SUBSCRIBE_FULL));
        assert_int_equal(s.topic_filter.len, full_subs[i].topic_filter.len);
        assert_memory_equal(s.topic_filter.ptr, full_subs[i].topic_filter.ptr, s.topic_filter.len);
        assert_int_equal(s.qos, full_subs[i].qos);
        assert_int_equal(s.no_local, full_subs[i].no_local);
        assert_int_equal(s.retain_as_published, full_subs[i].retain_as_published);
        assert_int_equal(s.retain_handling, full_subs[i].retain_handling);
    }
    assert_false(mqtt5_subscribe_next(&d.u.subscribe, &it, &s));
}

/* Every option bit on its own, so a bit in the wrong place shows up (3.8.3.1). */
static void option_bits(void **state)
{
    (void)state;
    static const struct {
        mqtt5_subscription sub;
        const char *options;
    } cases[] = {
        {{SI("t"), 0, false, false, 0}, "00"}, {{SI("t"), 1, false, false, 0}, "01"},
        {{SI("t"), 2, false, false, 0}, "02"}, {{SI("t"), 0, true, false, 0}, "04"},
        {{SI("t"), 0, false, true, 0}, "08"},  {{SI("t"), 0, false, false, 1}, "10"},
        {{SI("t"), 0, false, false, 2}, "20"}, {{SI("t"), 2, true, true, 2}, "2e"},
    };
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        mqtt5_packet p = {.type = MQTT5_SUBSCRIBE};
        p.u.subscribe.packet_id = 1;
        p.u.subscribe.subscriptions = &cases[i].sub;
        p.u.subscribe.subscription_count = 1;
        size_t n = strlen("82 07 0001 00 0001 74 ") + 3;
        char *hex = test_alloc(n);
        snprintf(hex, n, "82 07 0001 00 0001 74 %s", cases[i].options);
        assert_encodes(&p, hex);
        assert_round_trip(&p);
    }
}

static void subscribe_many(void **state)
{
    (void)state;
    enum { N = 40 };
    static const char *filters[] = {"#", "+", "a/+/c", "$share/grp/#", "/", "x/y/z"};
    mqtt5_subscription *subs = test_alloc(N * sizeof(*subs));
    for (size_t i = 0; i < N; i++) {
        const char *f = filters[i % COUNT_OF(filters)];
        bool shared = strncmp(f, "$share/", 7) == 0;
        subs[i] = (mqtt5_subscription){
            {f, strlen(f)}, (uint8_t)(i % 3), !shared && (i & 1), (i & 2) != 0, (uint8_t)(i % 3)};
    }
    mqtt5_packet p = {.type = MQTT5_SUBSCRIBE};
    p.u.subscribe.packet_id = 65535;
    p.u.subscribe.subscriptions = subs;
    p.u.subscribe.subscription_count = N;
    assert_round_trip(&p);
}

static const char SUBACK_FULL[] = "90 13"
                                  "000a"               /* packet identifier 10 */
                                  "0c"                 /* property length 12 */
                                  "1f 0002 6f6b"       /* reason string "ok" */
                                  "26 0001 61 0001 62" /* a=b */
                                  "00 01 02 80";       /* granted 0, 1, 2; unspecified error */

static void suback(void **state)
{
    (void)state;
    static const uint8_t codes[] = {0x00, 0x01, 0x02, 0x80};
    mqtt5_packet p = {.type = MQTT5_SUBACK};
    p.u.suback.packet_id = 10;
    p.u.suback.reason_codes = codes;
    p.u.suback.reason_code_count = 4;
    assert_encodes(&p, "90 07 000a 00 00010280"); /* property length always written */
    assert_round_trip(&p);

    MQTT5_PROPS_SET(&p.u.suback.properties, MQTT5_PROP_REASON_STRING);
    p.u.suback.properties.reason_string = S("ok");
    p.u.suback.properties.user_properties = (const mqtt5_user_property[]){{SI("a"), SI("b")}};
    p.u.suback.properties.user_property_count = 1;
    assert_encodes(&p, SUBACK_FULL);
    assert_round_trip(&p);

    mqtt5_packet d;
    size_t len;
    const uint8_t *buf = decode_ok(SUBACK_FULL, &d, &len);
    assert_int_equal(d.type, MQTT5_SUBACK);
    assert_int_equal(d.u.suback.packet_id, 10);
    assert_int_equal(d.u.suback.reason_code_count, 4);
    assert_ptr_equal(d.u.suback.reason_codes, buf + len - 4);
    assert_memory_equal(d.u.suback.reason_codes, codes, 4);
    assert_str_eq(d.u.suback.properties.reason_string, "ok");
    assert_user_props(&d.u.suback.properties, "a", "b", NULL);
}

static void suback_reason_codes(void **state)
{
    (void)state;
    static const uint8_t codes[] = {0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
                                    0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2};
    mqtt5_packet p = {.type = MQTT5_SUBACK};
    p.u.suback.packet_id = 1;
    p.u.suback.reason_codes = codes;
    p.u.suback.reason_code_count = COUNT_OF(codes);
    assert_encodes(&p, "90 0f 0001 00 000102808387 8f91979ea1a2");
    assert_round_trip(&p);
    for (size_t i = 0; i < COUNT_OF(codes); i++)
        assert_true(mqtt5_reason_code_valid_for(MQTT5_SUBACK, codes[i]));
    assert_false(mqtt5_reason_code_valid_for(MQTT5_SUBACK, 0x03));
    assert_false(mqtt5_reason_code_valid_for(MQTT5_SUBACK, 0x11));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(subscribe_one), cmocka_unit_test(subscribe_full_golden),
        cmocka_unit_test(option_bits),   cmocka_unit_test(subscribe_many),
        cmocka_unit_test(suback),        cmocka_unit_test(suback_reason_codes),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
