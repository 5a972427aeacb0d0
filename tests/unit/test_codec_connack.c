/*
 * test_codec_connack.c - CONNACK (MQTT 5 section 3.2): acknowledge flags, reason codes, every
 * CONNACK property; golden bytes both ways, round trips, zero-copy decoding.
 */
#include "helpers/test_common.h"

/* Every CONNACK property, single-valued ones in ascending identifier order, then user property. */
static const char CONNACK_FULL[] = "20 4f"               /* CONNACK, remaining length 79 */
                                   "01"                  /* session present */
                                   "00"                  /* success */
                                   "4c"                  /* property length 76 */
                                   "11 0000012c"         /* session expiry interval 300 */
                                   "12 0004 69642d31"    /* assigned client identifier "id-1" */
                                   "13 003c"             /* server keep alive 60 */
                                   "15 0005 534352414d"  /* authentication method "SCRAM" */
                                   "16 0002 abcd"        /* authentication data */
                                   "1a 0004 72657370"    /* response information "resp" */
                                   "1c 0005 6f74686572"  /* server reference "other" */
                                   "1f 0002 6f6b"        /* reason string "ok" */
                                   "21 0100"             /* receive maximum 256 */
                                   "22 0005"             /* topic alias maximum 5 */
                                   "24 01"               /* maximum QoS 1 */
                                   "25 00"               /* retain available 0 */
                                   "27 0000ffff"         /* maximum packet size 65535 */
                                   "28 00"               /* wildcard subscription available 0 */
                                   "29 01"               /* subscription identifiers available 1 */
                                   "2a 00"               /* shared subscription available 0 */
                                   "26 0001 78 0001 79"; /* user property x=y */

static const mqtt5_user_property connack_user_props[] = {{SI("x"), SI("y")}};

static mqtt5_packet connack_full(void)
{
    mqtt5_packet p = {.type = MQTT5_CONNACK};
    p.u.connack.session_present = true;
    p.u.connack.reason_code = 0;
    mqtt5_properties *pr = &p.u.connack.properties;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_SESSION_EXPIRY_INTERVAL);
    pr->session_expiry_interval = 300;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_ASSIGNED_CLIENT_IDENTIFIER);
    pr->assigned_client_identifier = S("id-1");
    MQTT5_PROPS_SET(pr, MQTT5_PROP_SERVER_KEEP_ALIVE);
    pr->server_keep_alive = 60;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_AUTHENTICATION_METHOD);
    pr->authentication_method = S("SCRAM");
    MQTT5_PROPS_SET(pr, MQTT5_PROP_AUTHENTICATION_DATA);
    pr->authentication_data = B("\xab\xcd");
    MQTT5_PROPS_SET(pr, MQTT5_PROP_RESPONSE_INFORMATION);
    pr->response_information = S("resp");
    MQTT5_PROPS_SET(pr, MQTT5_PROP_SERVER_REFERENCE);
    pr->server_reference = S("other");
    MQTT5_PROPS_SET(pr, MQTT5_PROP_REASON_STRING);
    pr->reason_string = S("ok");
    MQTT5_PROPS_SET(pr, MQTT5_PROP_RECEIVE_MAXIMUM);
    pr->receive_maximum = 256;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_TOPIC_ALIAS_MAXIMUM);
    pr->topic_alias_maximum = 5;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_MAXIMUM_QOS);
    pr->maximum_qos = 1;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_RETAIN_AVAILABLE);
    pr->retain_available = 0;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_MAXIMUM_PACKET_SIZE);
    pr->maximum_packet_size = 65535;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE);
    pr->wildcard_subscription_available = 0;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE);
    pr->subscription_identifier_available = 1;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_SHARED_SUBSCRIPTION_AVAILABLE);
    pr->shared_subscription_available = 0;
    pr->user_properties = connack_user_props;
    pr->user_property_count = COUNT_OF(connack_user_props);
    return p;
}

static void minimal(void **state)
{
    (void)state;
    mqtt5_packet p = {.type = MQTT5_CONNACK};
    assert_encodes(&p, "20 03 00 00 00"); /* property length always written */
    mqtt5_packet d;
    decode_ok("20 03 00 00 00", &d, NULL);
    assert_int_equal(d.type, MQTT5_CONNACK);
    assert_false(d.u.connack.session_present);
    assert_int_equal(d.u.connack.reason_code, 0);
    assert_int_equal(d.u.connack.properties.present, 0);
    assert_user_props(&d.u.connack.properties, NULL);
}

static void session_present_and_reason(void **state)
{
    (void)state;
    mqtt5_packet p = {.type = MQTT5_CONNACK};
    p.u.connack.session_present = true;
    assert_encodes(&p, "20 03 01 00 00");
    p.u.connack.session_present = false;
    p.u.connack.reason_code = MQTT5_RC_NOT_AUTHORIZED;
    assert_encodes(&p, "20 03 00 87 00");

    mqtt5_packet d;
    decode_ok("20 03 01 00 00", &d, NULL);
    assert_true(d.u.connack.session_present);
    decode_ok("20 03 00 87 00", &d, NULL);
    assert_false(d.u.connack.session_present);
    assert_int_equal(d.u.connack.reason_code, 0x87);
}

static void encode_full(void **state)
{
    (void)state;
    mqtt5_packet p = connack_full();
    assert_encodes(&p, CONNACK_FULL);
}

static void decode_full(void **state)
{
    (void)state;
    mqtt5_packet d;
    const uint8_t *buf = decode_ok(CONNACK_FULL, &d, NULL);
    const mqtt5_properties *pr = &d.u.connack.properties;
    assert_true(d.u.connack.session_present);
    assert_int_equal(d.u.connack.reason_code, 0);
    assert_int_equal(pr->present,
                     MQTT5_PROP_BIT(0x11) | MQTT5_PROP_BIT(0x12) | MQTT5_PROP_BIT(0x13) |
                         MQTT5_PROP_BIT(0x15) | MQTT5_PROP_BIT(0x16) | MQTT5_PROP_BIT(0x1A) |
                         MQTT5_PROP_BIT(0x1C) | MQTT5_PROP_BIT(0x1F) | MQTT5_PROP_BIT(0x21) |
                         MQTT5_PROP_BIT(0x22) | MQTT5_PROP_BIT(0x24) | MQTT5_PROP_BIT(0x25) |
                         MQTT5_PROP_BIT(0x27) | MQTT5_PROP_BIT(0x28) | MQTT5_PROP_BIT(0x29) |
                         MQTT5_PROP_BIT(0x2A));
    assert_int_equal(pr->session_expiry_interval, 300);
    assert_str_eq(pr->assigned_client_identifier, "id-1");
    assert_int_equal(pr->server_keep_alive, 60);
    assert_str_eq(pr->authentication_method, "SCRAM");
    assert_bytes_hex(pr->authentication_data, "abcd");
    assert_str_eq(pr->response_information, "resp");
    assert_str_eq(pr->server_reference, "other");
    assert_str_eq(pr->reason_string, "ok");
    assert_int_equal(pr->receive_maximum, 256);
    assert_int_equal(pr->topic_alias_maximum, 5);
    assert_int_equal(pr->maximum_qos, 1);
    assert_int_equal(pr->retain_available, 0);
    assert_int_equal(pr->maximum_packet_size, 65535);
    assert_int_equal(pr->wildcard_subscription_available, 0);
    assert_int_equal(pr->subscription_identifier_available, 1);
    assert_int_equal(pr->shared_subscription_available, 0);
    assert_user_props(pr, "x", "y", NULL);
    assert_ptr_equal(pr->raw.ptr, buf + 5);
    assert_int_equal(pr->raw.len, 76);
    assert_ptr_equal(pr->assigned_client_identifier.ptr, (const char *)buf + 13);
}

/* Decoding does not depend on property order: the same block written in descending order. */
static void decode_any_property_order(void **state)
{
    (void)state;
    mqtt5_packet d;
    decode_ok("20 0f 00 00 0c"
              "26 0001 78 0001 79" /* user property first */
              "24 00"              /* maximum QoS 0 */
              "21 0001",           /* receive maximum 1 */
              &d, NULL);
    assert_int_equal(d.u.connack.properties.present, MQTT5_PROP_BIT(0x21) | MQTT5_PROP_BIT(0x24));
    assert_int_equal(d.u.connack.properties.receive_maximum, 1);
    assert_int_equal(d.u.connack.properties.maximum_qos, 0);
    assert_user_props(&d.u.connack.properties, "x", "y", NULL);
}

/* Every CONNACK reason code of 3.2.2.2 round-trips. */
static void reason_codes(void **state)
{
    (void)state;
    static const uint8_t codes[] = {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86,
                                    0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97,
                                    0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F};
    for (size_t i = 0; i < COUNT_OF(codes); i++) {
        mqtt5_packet p = {.type = MQTT5_CONNACK};
        p.u.connack.reason_code = codes[i];
        assert_round_trip(&p);
    }
}

static void round_trips(void **state)
{
    (void)state;
    mqtt5_packet p = connack_full();
    assert_round_trip(&p);
    p.u.connack.properties.user_property_count = 0;
    p.u.connack.properties.maximum_packet_size = 0xffffffffu;
    p.u.connack.properties.receive_maximum = 65535;
    assert_round_trip(&p);
    p = connack_full();
    p.u.connack.session_present = false;
    p.u.connack.reason_code = MQTT5_RC_SERVER_MOVED;
    assert_round_trip(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(minimal),
        cmocka_unit_test(session_present_and_reason),
        cmocka_unit_test(encode_full),
        cmocka_unit_test(decode_full),
        cmocka_unit_test(decode_any_property_order),
        cmocka_unit_test(reason_codes),
        cmocka_unit_test(round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
