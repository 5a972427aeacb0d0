/*
 * test_codec_acks.c - PUBACK, PUBREC, PUBREL, PUBCOMP (MQTT 5 sections 3.4-3.7): the short forms
 * (remaining length 2: id only; 3: id + reason), the long form with reason string and user
 * properties, the fixed-header flags (PUBREL 0x62), every defined reason code, round trips.
 */
#include "helpers/test_common.h"

static const mqtt5_user_property ack_user_props[] = {{SI("a"), SI("b")}, {SI("c"), SI("d")}};

/* First byte of each ack type: type << 4 | required flags. */
static const struct {
    mqtt5_packet_type type;
    const char *first;
} ack_types[] = {
    {MQTT5_PUBACK, "40"},
    {MQTT5_PUBREC, "50"},
    {MQTT5_PUBREL, "62"},
    {MQTT5_PUBCOMP, "70"},
};

static mqtt5_packet ack(mqtt5_packet_type type, uint16_t id, uint8_t reason)
{
    mqtt5_packet p = {.type = type};
    p.u.ack.packet_id = id;
    p.u.ack.reason_code = reason;
    return p;
}

/* "<first byte><rest>" as one hex string in a test_alloc() block. */
static const char *with_first(const char *first, const char *rest)
{
    size_t n = strlen(first) + strlen(rest) + 1;
    char *s = test_alloc(n);
    snprintf(s, n, "%s%s", first, rest);
    return s;
}

/* Reason 0, no properties: remaining length 2 (3.4.2.1). */
static void short_form_success(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT_OF(ack_types); i++) {
        const char *hex = with_first(ack_types[i].first, "02 0001");
        mqtt5_packet p = ack(ack_types[i].type, 1, 0);
        assert_encodes(&p, hex);
        mqtt5_packet d;
        decode_ok(hex, &d, NULL);
        assert_int_equal(d.type, ack_types[i].type);
        assert_int_equal(d.u.ack.packet_id, 1);
        assert_int_equal(d.u.ack.reason_code, 0);
        assert_int_equal(d.u.ack.properties.present, 0);
        assert_user_props(&d.u.ack.properties, NULL);
    }
}

/* Reason != 0, no properties: remaining length 3, no property length. */
static void short_form_reason(void **state)
{
    (void)state;
    static const uint8_t reasons[] = {0x10, 0x80, 0x92, 0x92}; /* PUBACK, PUBREC, PUBREL, PUBCOMP */
    static const char *rests[] = {"03 0102 10", "03 0102 80", "03 0102 92", "03 0102 92"};
    for (size_t i = 0; i < COUNT_OF(ack_types); i++) {
        const char *hex = with_first(ack_types[i].first, rests[i]);
        mqtt5_packet p = ack(ack_types[i].type, 0x0102, reasons[i]);
        assert_encodes(&p, hex);
        mqtt5_packet d;
        decode_ok(hex, &d, NULL);
        assert_int_equal(d.u.ack.packet_id, 0x0102);
        assert_int_equal(d.u.ack.reason_code, reasons[i]);
        assert_int_equal(d.u.ack.properties.present, 0);
        assert_user_props(&d.u.ack.properties, NULL);
    }
}

/* Reason string + two user properties: id, reason, property length, properties. */
static void long_form(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT_OF(ack_types); i++) {
        uint8_t reason = ack_types[i].type <= MQTT5_PUBREC ? 0x10 : 0x92;
        const char *body = reason == 0x10 ? "19 0001 10 15" : "19 0001 92 15";
        const char *hex = with_first(ack_types[i].first,
                                     with_first(body, "1f 0004 62757379" /* reason string "busy" */
                                                      "26 0001 61 0001 62"    /* a=b */
                                                      "26 0001 63 0001 64")); /* c=d */
        mqtt5_packet p = ack(ack_types[i].type, 1, reason);
        MQTT5_PROPS_SET(&p.u.ack.properties, MQTT5_PROP_REASON_STRING);
        p.u.ack.properties.reason_string = S("busy");
        p.u.ack.properties.user_properties = ack_user_props;
        p.u.ack.properties.user_property_count = COUNT_OF(ack_user_props);
        assert_encodes(&p, hex);
        assert_round_trip(&p);

        mqtt5_packet d;
        size_t len;
        const uint8_t *buf = decode_ok(hex, &d, &len);
        assert_int_equal(d.type, ack_types[i].type);
        assert_int_equal(d.u.ack.packet_id, 1);
        assert_int_equal(d.u.ack.reason_code, reason);
        assert_int_equal(d.u.ack.properties.present, MQTT5_PROP_BIT(MQTT5_PROP_REASON_STRING));
        assert_str_eq(d.u.ack.properties.reason_string, "busy");
        assert_ptr_equal(d.u.ack.properties.reason_string.ptr, (const char *)buf + 9);
        assert_user_props(&d.u.ack.properties, "a", "b", "c", "d", NULL);
        assert_ptr_equal(d.u.ack.properties.raw.ptr, buf + 6);
        assert_int_equal(d.u.ack.properties.raw.len, len - 6);
    }
}

/* Reason 0 with properties: the reason byte is written (it precedes the properties). */
static void success_with_properties(void **state)
{
    (void)state;
    mqtt5_packet p = ack(MQTT5_PUBACK, 1, 0);
    p.u.ack.properties.user_properties = ack_user_props;
    p.u.ack.properties.user_property_count = 1;
    assert_encodes(&p, "40 0b 0001 00 07 26 0001 61 0001 62");
    p = ack(MQTT5_PUBCOMP, 7, 0);
    MQTT5_PROPS_SET(&p.u.ack.properties, MQTT5_PROP_REASON_STRING);
    p.u.ack.properties.reason_string = S("");
    assert_encodes(&p, "70 07 0007 00 03 1f 0000");
    assert_round_trip(&p);
}

/* The forms other encoders use (mqtt-packet always writes reason + property length). */
static void decode_other_forms(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT_OF(ack_types); i++) {
        mqtt5_packet d;
        decode_ok(with_first(ack_types[i].first, "04 0009 00 00"), &d, NULL);
        assert_int_equal(d.type, ack_types[i].type);
        assert_int_equal(d.u.ack.packet_id, 9);
        assert_int_equal(d.u.ack.reason_code, 0);
        assert_int_equal(d.u.ack.properties.present, 0);
        assert_user_props(&d.u.ack.properties, NULL);
        /* Remaining length 3 with reason 0 (3.4.2.1: property length absent means 0). */
        decode_ok(with_first(ack_types[i].first, "03 0009 00"), &d, NULL);
        assert_int_equal(d.u.ack.reason_code, 0);
        assert_int_equal(d.u.ack.properties.present, 0);
    }
}

/* Every reason code the specification defines for each type. */
static void reason_codes(void **state)
{
    (void)state;
    static const uint8_t puback_codes[] = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
    static const uint8_t pubrel_codes[] = {0x00, 0x92};
    for (size_t t = 0; t < COUNT_OF(ack_types); t++) {
        const uint8_t *codes = ack_types[t].type <= MQTT5_PUBREC ? puback_codes : pubrel_codes;
        size_t n =
            ack_types[t].type <= MQTT5_PUBREC ? COUNT_OF(puback_codes) : COUNT_OF(pubrel_codes);
        for (size_t i = 0; i < n; i++) {
            mqtt5_packet p = ack(ack_types[t].type, (uint16_t)(1000 + i), codes[i]);
            assert_round_trip(&p);
            assert_true(mqtt5_reason_code_valid_for(ack_types[t].type, codes[i]));
        }
    }
    assert_false(mqtt5_reason_code_valid_for(MQTT5_PUBREL, 0x10));
    assert_false(mqtt5_reason_code_valid_for(MQTT5_PUBACK, 0x92));
    assert_false(mqtt5_reason_code_valid_for(MQTT5_PUBCOMP, 0x80));
}

static void packet_id_extremes(void **state)
{
    (void)state;
    mqtt5_packet p = ack(MQTT5_PUBREL, 65535, 0);
    assert_encodes(&p, "62 02 ffff");
    mqtt5_packet d;
    decode_ok("62 02 ffff", &d, NULL);
    assert_int_equal(d.u.ack.packet_id, 65535);
    p = ack(MQTT5_PUBREC, 0x8000, 0);
    assert_encodes(&p, "50 02 8000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(short_form_success), cmocka_unit_test(short_form_reason),
        cmocka_unit_test(long_form),          cmocka_unit_test(success_with_properties),
        cmocka_unit_test(decode_other_forms), cmocka_unit_test(reason_codes),
        cmocka_unit_test(packet_id_extremes),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
