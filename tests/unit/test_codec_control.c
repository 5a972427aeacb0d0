/*
 * test_codec_control.c - PINGREQ, PINGRESP (3.12, 3.13), DISCONNECT (3.14) and AUTH (3.15):
 * the remaining-length-0 and reason-only short forms, full property sets, reason codes.
 */
#include "helpers/test_common.h"

static const mqtt5_user_property ab[] = {{SI("a"), SI("b")}};

static void ping(void **state)
{
    (void)state;
    mqtt5_packet p = {.type = MQTT5_PINGREQ};
    assert_encodes(&p, "c0 00");
    p.type = MQTT5_PINGRESP;
    assert_encodes(&p, "d0 00");
    mqtt5_packet d;
    decode_ok("c0 00", &d, NULL);
    assert_int_equal(d.type, MQTT5_PINGREQ);
    assert_null(mqtt5_packet_properties(&d));
    decode_ok("d0 00", &d, NULL);
    assert_int_equal(d.type, MQTT5_PINGRESP);
    assert_null(mqtt5_packet_properties(&d));
}

static void disconnect_short_forms(void **state)
{
    (void)state;
    mqtt5_packet p = {.type = MQTT5_DISCONNECT};
    assert_encodes(&p, "e0 00"); /* 3.14.2.1: reason 0, no properties -> length 0 */
    p.u.disconnect.reason_code = MQTT5_RC_DISCONNECT_WITH_WILL_MESSAGE;
    assert_encodes(&p, "e0 01 04"); /* 3.14.2.2.1: property length may be omitted */

    mqtt5_packet d;
    decode_ok("e0 00", &d, NULL);
    assert_int_equal(d.type, MQTT5_DISCONNECT);
    assert_int_equal(d.u.disconnect.reason_code, 0);
    assert_int_equal(d.u.disconnect.properties.present, 0);
    decode_ok("e0 01 04", &d, NULL);
    assert_int_equal(d.u.disconnect.reason_code, 4);
    decode_ok("e0 02 00 00", &d, NULL); /* the long form mqtt-packet writes */
    assert_int_equal(d.u.disconnect.reason_code, 0);
    assert_int_equal(d.u.disconnect.properties.present, 0);
    assert_user_props(&d.u.disconnect.properties, NULL);
}

static const char DISCONNECT_FULL[] = "e0 18"
                                      "9c"                  /* use another server */
                                      "16"                  /* property length 22 */
                                      "11 00000000"         /* session expiry interval 0 */
                                      "1c 0001 73"          /* server reference "s" */
                                      "1f 0003 627965"      /* reason string "bye" */
                                      "26 0001 61 0001 62"; /* a=b */

static void disconnect_full(void **state)
{
    (void)state;
    mqtt5_packet p = {.type = MQTT5_DISCONNECT};
    mqtt5_properties *pr = &p.u.disconnect.properties;
    p.u.disconnect.reason_code = MQTT5_RC_USE_ANOTHER_SERVER;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_SESSION_EXPIRY_INTERVAL);
    pr->session_expiry_interval = 0;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_SERVER_REFERENCE);
    pr->server_reference = S("s");
    MQTT5_PROPS_SET(pr, MQTT5_PROP_REASON_STRING);
    pr->reason_string = S("bye");
    pr->user_properties = ab;
    pr->user_property_count = 1;
    assert_encodes(&p, DISCONNECT_FULL);
    assert_round_trip(&p);

    mqtt5_packet d;
    const uint8_t *buf = decode_ok(DISCONNECT_FULL, &d, NULL);
    const mqtt5_properties *dp = &d.u.disconnect.properties;
    assert_int_equal(d.u.disconnect.reason_code, 0x9c);
    assert_int_equal(dp->present,
                     MQTT5_PROP_BIT(0x11) | MQTT5_PROP_BIT(0x1C) | MQTT5_PROP_BIT(0x1F));
    assert_int_equal(dp->session_expiry_interval, 0);
    assert_str_eq(dp->server_reference, "s");
    assert_str_eq(dp->reason_string, "bye");
    assert_ptr_equal(dp->reason_string.ptr, (const char *)buf + 16);
    assert_user_props(dp, "a", "b", NULL);

    /* Reason 0 with a property: the reason byte is written. */
    p = (mqtt5_packet){.type = MQTT5_DISCONNECT};
    MQTT5_PROPS_SET(&p.u.disconnect.properties, MQTT5_PROP_SESSION_EXPIRY_INTERVAL);
    p.u.disconnect.properties.session_expiry_interval = 3600;
    assert_encodes(&p, "e0 07 00 05 11 00000e10");
    assert_round_trip(&p);
}

static void disconnect_reason_codes(void **state)
{
    (void)state;
    static const uint8_t codes[] = {0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D,
                                    0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
                                    0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2};
    for (size_t i = 0; i < COUNT_OF(codes); i++) {
        mqtt5_packet p = {.type = MQTT5_DISCONNECT};
        p.u.disconnect.reason_code = codes[i];
        assert_round_trip(&p);
        assert_true(mqtt5_reason_code_valid_for(MQTT5_DISCONNECT, codes[i]));
    }
    assert_false(mqtt5_reason_code_valid_for(MQTT5_DISCONNECT, 0x01));
    assert_false(mqtt5_reason_code_valid_for(MQTT5_DISCONNECT, 0x84));
}

static const char AUTH_FULL[] = "f0 1f"
                                "18"                  /* continue authentication */
                                "1d"                  /* property length 29 */
                                "15 0005 534352414d"  /* authentication method "SCRAM" */
                                "16 0004 01020304"    /* authentication data */
                                "1f 0004 73746570"    /* reason string "step" */
                                "26 0001 61 0001 62"; /* a=b */

static void auth(void **state)
{
    (void)state;
    mqtt5_packet p = {.type = MQTT5_AUTH};
    assert_encodes(&p, "f0 00"); /* 3.15.2.1 */
    p.u.auth.reason_code = MQTT5_RC_RE_AUTHENTICATE;
    assert_encodes(&p, "f0 01 19");

    mqtt5_properties *pr = &p.u.auth.properties;
    p.u.auth.reason_code = MQTT5_RC_CONTINUE_AUTHENTICATION;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_AUTHENTICATION_METHOD);
    pr->authentication_method = S("SCRAM");
    MQTT5_PROPS_SET(pr, MQTT5_PROP_AUTHENTICATION_DATA);
    pr->authentication_data = B("\x01\x02\x03\x04");
    MQTT5_PROPS_SET(pr, MQTT5_PROP_REASON_STRING);
    pr->reason_string = S("step");
    pr->user_properties = ab;
    pr->user_property_count = 1;
    assert_encodes(&p, AUTH_FULL);
    assert_round_trip(&p);

    mqtt5_packet d;
    const uint8_t *buf = decode_ok(AUTH_FULL, &d, NULL);
    const mqtt5_properties *dp = &d.u.auth.properties;
    assert_int_equal(d.type, MQTT5_AUTH);
    assert_int_equal(d.u.auth.reason_code, 0x18);
    assert_int_equal(dp->present,
                     MQTT5_PROP_BIT(0x15) | MQTT5_PROP_BIT(0x16) | MQTT5_PROP_BIT(0x1F));
    assert_str_eq(dp->authentication_method, "SCRAM");
    assert_bytes_hex(dp->authentication_data, "01020304");
    assert_ptr_equal(dp->authentication_data.ptr, buf + 15);
    assert_str_eq(dp->reason_string, "step");
    assert_user_props(dp, "a", "b", NULL);

    decode_ok("f0 00", &d, NULL);
    assert_int_equal(d.type, MQTT5_AUTH);
    assert_int_equal(d.u.auth.reason_code, 0);
    decode_ok("f0 01 19", &d, NULL);
    assert_int_equal(d.u.auth.reason_code, 0x19);
    assert_true(mqtt5_reason_code_valid_for(MQTT5_AUTH, 0x00));
    assert_true(mqtt5_reason_code_valid_for(MQTT5_AUTH, 0x18));
    assert_true(mqtt5_reason_code_valid_for(MQTT5_AUTH, 0x19));
    assert_false(mqtt5_reason_code_valid_for(MQTT5_AUTH, 0x80));
}

static void names(void **state)
{
    (void)state;
    assert_string_equal(mqtt5_packet_type_name(MQTT5_PINGREQ), "pingreq");
    assert_string_equal(mqtt5_packet_type_name(MQTT5_DISCONNECT), "disconnect");
    assert_string_equal(mqtt5_packet_type_name(MQTT5_AUTH), "auth");
    assert_null(mqtt5_packet_type_name(0));
    assert_null(mqtt5_packet_type_name(16));
    assert_string_equal(mqtt5_property_name(0x23), "topicAlias");
    assert_string_equal(mqtt5_property_name(0x0B), "subscriptionIdentifier");
    assert_null(mqtt5_property_name(0x04));
    assert_string_equal(mqtt5_error_name(MQTT5_ERR_MALFORMED_PACKET), "MQTT5_ERR_MALFORMED_PACKET");
    assert_string_equal(mqtt5_reason_code_name(0x81), "Malformed Packet");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ping),
        cmocka_unit_test(disconnect_short_forms),
        cmocka_unit_test(disconnect_full),
        cmocka_unit_test(disconnect_reason_codes),
        cmocka_unit_test(auth),
        cmocka_unit_test(names),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
