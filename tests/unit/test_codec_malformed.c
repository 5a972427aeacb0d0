/*
 * test_codec_malformed.c - what the codec must refuse.
 *
 * Decoding: one or more cases for every rule of the decode error policy (Malformed Packet 0x81,
 * Protocol Error 0x82, Topic Alias invalid 0x94, Unsupported Protocol Version 0x84, Packet Too
 * Large 0x95), each checking status.error, status.reason_code and status.offset (offset of the
 * offending item from the packet's first byte). Encoding: the validation the encoder does before
 * writing anything, with status.field naming the field in mqtt-packet's vocabulary.
 */
#include "helpers/test_common.h"

#define MAL MQTT5_ERR_MALFORMED_PACKET, 0x81
#define PROTO MQTT5_ERR_PROTOCOL_ERROR, 0x82

/* ---- carriers: a valid packet around a property block given as hex ---------------------- */

/* "<head><RL><mid><PL><props><tail>" with RL/PL computed (both must stay below 128). */
static const char *wrap(const char *head, const char *mid, const char *props, const char *tail)
{
    size_t pl = hex_len(props);
    size_t rl = hex_len(mid) + 1 + pl + hex_len(tail);
    assert_true(pl < 128 && rl < 128);
    size_t n = strlen(head) + strlen(mid) + strlen(props) + strlen(tail) + 16;
    char *s = test_alloc(n);
    snprintf(s, n, "%s %02zx %s %02zx %s %s", head, rl, mid, pl, props, tail);
    return s;
}

/* CONNECT "c1"; property block at offset 13. */
static const char *connect_props(const char *props)
{
    return wrap("10", "0004 4d515454 05 02 003c", props, "0002 6331");
}

/* CONNECT "c1" with will topic "t", empty will payload; will property block at offset 18. */
static const char *will_props(const char *props)
{
    return wrap("10", "0004 4d515454 05 06 003c 00 0002 6331", props, "0001 74 0000");
}

/* CONNACK; property block at offset 5. */
static const char *connack_props(const char *props)
{
    return wrap("20", "00 00", props, "");
}

/* QoS 0 PUBLISH "a/b" with payload "hi"; property block at offset 8. */
static const char *publish_props(const char *props)
{
    return wrap("30", "0003 612f62", props, "6869");
}

/* SUBSCRIBE "a/b" QoS 1; property block at offset 5. */
static const char *subscribe_props(const char *props)
{
    return wrap("82", "000a", props, "0003 612f62 01");
}

/* DISCONNECT 0x00; property block at offset 4. */
static const char *disconnect_props(const char *props)
{
    return wrap("e0", "00", props, "");
}

/* ==== Malformed Packet 0x81 ================================================================= */

static void bad_variable_byte_integer(void **state)
{
    (void)state;
    assert_decode_fails("30 ff ff ff ff 01", MAL, 1); /* five bytes */
    assert_decode_fails("30 ff ff ff ff", MAL, 1);    /* fourth byte still says "more" */
    assert_decode_fails("30 80 00", MAL, 1);          /* 0 in two bytes: not minimal */
    assert_decode_fails("c0 80 80 00", MAL, 1);
    assert_decode_fails("30 ff 00 0003 612f62 00 6869", MAL, 1); /* 127 as ff 00 */
    /* The property length is a variable byte integer too. */
    assert_decode_fails("30 09 0003 612f62 80 00 6869", MAL, 7);
    assert_decode_fails("40 05 0001 10 80 00", MAL, 5);
}

static void length_past_end(void **state)
{
    (void)state;
    /* Topic length 9 in a 8-byte body: offset of the topic's length prefix. */
    assert_decode_fails("30 08 0009 612f62 00 6869", MAL, 2);
    /* Property length 5 with 1 byte left. */
    assert_decode_fails("30 07 0003 612f62 05 68", MAL, 7);
    /* A string inside the property block running past the block (block of 4, string of 3). */
    assert_decode_fails(publish_props("03 0003 61") /* block: 03 0003 'a' */, MAL, 9);
    /* User property value running past the end of the packet. */
    assert_decode_fails("e0 09 00 07 26 0001 61 0005 62", MAL, 8);
    /* Client id past the end of CONNECT. */
    assert_decode_fails("10 0f 0004 4d515454 05 02 003c 00 0003 6331", MAL, 13);
    /* Packet identifier cut by the remaining length. */
    assert_decode_fails("40 01 00", MAL, 2);
    assert_decode_fails("32 06 0003 612f62 00", MAL, 7);
}

static void leftover_bytes(void **state)
{
    (void)state;
    assert_decode_fails("c0 01 00", MAL, 2); /* PINGREQ has no body */
    assert_decode_fails("d0 01 00", MAL, 2);
    assert_decode_fails("20 04 00 00 00 ff", MAL, 5);   /* after CONNACK properties */
    assert_decode_fails("40 05 0001 00 00 ff", MAL, 6); /* after PUBACK properties */
    assert_decode_fails("10 10 0004 4d515454 05 02 003c 00 0002 6331 ff", MAL, 17);
    assert_decode_fails("e0 03 00 00 ff", MAL, 4);
    /* Within a property block: a 3-byte block holding a 2-byte property and a stray byte. */
    assert_decode_fails(connack_props("24 01 ff"), MAL, 7);
}

static void invalid_utf8(void **state)
{
    (void)state;
    assert_decode_fails("30 08 0003 61 c080 00 6869", MAL, 2); /* overlong in topic */
    assert_decode_fails("30 08 0003 ed a080 00 6869", MAL, 2); /* surrogate in topic */
    assert_decode_fails("30 08 0003 61 0062 00 6869", MAL, 2); /* U+0000 in topic */
    /* Client id "c" U+D800. */
    assert_decode_fails("10 11 0004 4d515454 05 02 003c 00 0004 63 eda080", MAL, 13);
    assert_decode_fails(connect_props("26 0001 00 0001 62"), MAL, 14); /* user property name */
    assert_decode_fails(connect_props("26 0001 61 0001 ff"), MAL, 17); /* user property value */
    assert_decode_fails(publish_props("03 0002 c3 41"), MAL, 9); /* content type: C3 then "A" */
    assert_decode_fails(connack_props("1f 0001 80"), MAL, 6);    /* reason string */
    assert_decode_fails(will_props("08 0001 f4"), MAL, 19);      /* will response topic */
    assert_decode_fails("82 08 000a 00 0002 c0af 01", MAL, 5);   /* subscription filter */
    assert_decode_fails("a2 07 000a 00 0002 6100", MAL, 5);      /* unsubscribe filter */
    /* Username after client id "c1": flags 0x82. */
    assert_decode_fails("10 12 0004 4d515454 05 82 003c 00 0002 6331 0001 fe", MAL, 17);
}

static void reserved_fixed_header_flags(void **state)
{
    (void)state;
    assert_decode_fails("11 0f 0004 4d515454 05 02 003c 00 0002 6331", MAL, 0);
    assert_decode_fails("21 03 00 00 00", MAL, 0);
    assert_decode_fails("41 02 0001", MAL, 0);
    assert_decode_fails("58 02 0001", MAL, 0);
    assert_decode_fails("60 02 0001", MAL, 0); /* PUBREL must be 0x62 */
    assert_decode_fails("63 02 0001", MAL, 0);
    assert_decode_fails("72 02 0001", MAL, 0);
    assert_decode_fails("80 09 000a 00 0003 612f62 01", MAL, 0); /* SUBSCRIBE must be 0x82 */
    assert_decode_fails("83 09 000a 00 0003 612f62 01", MAL, 0);
    assert_decode_fails("94 04 000a 00 00", MAL, 0);
    assert_decode_fails("a0 08 000b 00 0003 612f62", MAL, 0); /* UNSUBSCRIBE must be 0xa2 */
    assert_decode_fails("b2 04 000b 00 00", MAL, 0);
    assert_decode_fails("c1 00", MAL, 0);
    assert_decode_fails("d4 00", MAL, 0);
    assert_decode_fails("e8 00", MAL, 0);
    assert_decode_fails("f2 00", MAL, 0);
}

static void publish_flags(void **state)
{
    (void)state;
    assert_decode_fails("36 0a 0003 612f62 0001 00 6869", MAL, 0); /* QoS 3 */
    assert_decode_fails("37 0a 0003 612f62 0001 00 6869", MAL, 0);
    assert_decode_fails("38 08 0003 612f62 00 6869", MAL, 0); /* QoS 0 with DUP */
    assert_decode_fails("39 08 0003 612f62 00 6869", MAL, 0);
}

static void publish_topic_wildcards(void **state)
{
    (void)state;
    assert_decode_fails("30 08 0003 612f2b 00 6869", MAL, 2); /* "a/+" */
    assert_decode_fails("30 06 0001 23 00 6869", MAL, 2);     /* "#" */
    assert_decode_fails("32 0a 0003 61232f 0001 00 6869", MAL, 2);
}

static void unknown_property(void **state)
{
    (void)state;
    assert_decode_fails(publish_props("04 00"), MAL, 8);
    assert_decode_fails(publish_props("01 00 00 00"), MAL, 10); /* 0x00 after a good one */
    assert_decode_fails(connack_props("2b 00"), MAL, 5);
    assert_decode_fails(connect_props("7f 00"), MAL, 13);
    assert_decode_fails(disconnect_props("ff"), MAL, 4);
}

static void property_not_allowed(void **state)
{
    (void)state;
    assert_decode_fails(publish_props("11 00000001"), MAL, 8);        /* session expiry */
    assert_decode_fails(publish_props("01 01 21 0001"), MAL, 10);     /* receive maximum */
    assert_decode_fails(connect_props("23 0001"), MAL, 13);           /* topic alias */
    assert_decode_fails(connect_props("0b 01"), MAL, 13);             /* subscription id */
    assert_decode_fails(connect_props("01 01"), MAL, 13);             /* will-only property */
    assert_decode_fails(will_props("11 00000001"), MAL, 18);          /* not a will property */
    assert_decode_fails(connack_props("17 01"), MAL, 5);              /* request problem info */
    assert_decode_fails(subscribe_props("1f 0000"), MAL, 5);          /* reason string */
    assert_decode_fails("a2 0b 000b 03 23 0001 0003 612f62", MAL, 5); /* UNSUBSCRIBE alias */
    assert_decode_fails("40 07 0001 00 03 23 0001", MAL, 6);          /* PUBACK topic alias */
    assert_decode_fails(disconnect_props("21 0001"), MAL, 4);
    assert_decode_fails("f0 05 18 03 23 0001", MAL, 4);   /* AUTH topic alias */
    assert_decode_fails("90 06 000a 02 0b01 00", MAL, 5); /* SUBACK sub id */
}

static void connect_flags(void **state)
{
    (void)state;
    /* Reserved bit 0 (3.1.2.3). */
    assert_decode_fails("10 0f 0004 4d515454 05 03 003c 00 0002 6331", MAL, 9);
    /* Will QoS 3 (flags 0x1e) with a complete will. */
    assert_decode_fails("10 15 0004 4d515454 05 1e 003c 00 0002 6331 00 0001 74 0000", MAL, 9);
    /* Will QoS or retain without the will flag (3.1.2.11, 3.1.2.12). */
    assert_decode_fails("10 0f 0004 4d515454 05 0a 003c 00 0002 6331", MAL, 9);
    assert_decode_fails("10 0f 0004 4d515454 05 12 003c 00 0002 6331", MAL, 9);
    assert_decode_fails("10 0f 0004 4d515454 05 22 003c 00 0002 6331", MAL, 9);
}

static void connack_flags(void **state)
{
    (void)state;
    assert_decode_fails("20 03 02 00 00", MAL, 2);
    assert_decode_fails("20 03 80 00 00", MAL, 2);
    assert_decode_fails("20 03 ff 00 00", MAL, 2);
}

/* SUBSCRIBE "a/b" with an options byte at offset 10. */
static void subscribe_options(void **state)
{
    (void)state;
    assert_decode_fails("82 09 000a 00 0003 612f62 41", MAL, 10); /* reserved bit 6 */
    assert_decode_fails("82 09 000a 00 0003 612f62 81", MAL, 10); /* reserved bit 7 */
    assert_decode_fails("82 09 000a 00 0003 612f62 03", MAL, 10); /* QoS 3 */
    assert_decode_fails("82 09 000a 00 0003 612f62 30", MAL, 10); /* retain handling 3 */
    /* Second entry bad: its options byte is at offset 16. */
    assert_decode_fails("82 0f 000a 00 0003 612f62 01 0003 632f64 c0", MAL, 16);
}

static void subscribe_topic_filters(void **state)
{
    (void)state;
    assert_decode_fails("82 0b 000a 00 0005 612f232f62 01", MAL, 5);       /* "a/#/b" */
    assert_decode_fails("82 08 000a 00 0002 6123 01", MAL, 5);             /* "a#" */
    assert_decode_fails("82 06 000a 00 0000 01", MAL, 5);                  /* empty */
    assert_decode_fails("82 0e 000a 00 0008 2473686172652f67 01", MAL, 5); /* "$share/g" */
    assert_decode_fails("a2 07 000a 00 0002 612b", MAL, 5);                /* UNSUBSCRIBE "a+" */
    assert_decode_fails("a2 0b 000a 00 0001 61 0003 232f61", MAL, 8);      /* second: "#/a" */
}

/* ==== Protocol Error 0x82 ================================================================== */

static void duplicate_property(void **state)
{
    (void)state;
    assert_decode_fails(publish_props("01 00 01 01"), PROTO, 10);
    assert_decode_fails(publish_props("23 0001 02 00000001 23 0002"), PROTO, 16);
    assert_decode_fails(connack_props("1f 0000 1f 0000"), PROTO, 8);
    assert_decode_fails(connect_props("11 00000001 26 0001 61 0001 62 11 00000002"), PROTO, 25);
    assert_decode_fails(will_props("18 00000001 18 00000001"), PROTO, 23);
    /* Subscription Identifier may repeat only in PUBLISH. */
    assert_decode_fails(subscribe_props("0b 01 0b 02"), PROTO, 7);
    /* User properties and PUBLISH subscription identifiers may repeat. */
    mqtt5_packet d;
    decode_ok(publish_props("0b 01 0b 01 26 0001 61 0001 62 26 0001 61 0001 62"), &d, NULL);
    assert_sub_ids(&d.u.publish.properties, 1, 1);
    assert_user_props(&d.u.publish.properties, "a", "b", "a", "b", NULL);
}

static void property_values_out_of_range(void **state)
{
    (void)state;
    assert_decode_fails(publish_props("01 02"), PROTO, 8); /* payload format */
    assert_decode_fails(will_props("01 ff"), PROTO, 18);
    assert_decode_fails(connect_props("17 02"), PROTO, 13);       /* request problem info */
    assert_decode_fails(connect_props("19 02"), PROTO, 13);       /* request response info */
    assert_decode_fails(connect_props("21 0000"), PROTO, 13);     /* receive maximum 0 */
    assert_decode_fails(connect_props("27 00000000"), PROTO, 13); /* maximum packet size 0 */
    assert_decode_fails(connack_props("24 02"), PROTO, 5);        /* maximum QoS */
    assert_decode_fails(connack_props("25 02"), PROTO, 5);        /* retain available */
    assert_decode_fails(connack_props("28 02"), PROTO, 5);        /* wildcard available */
    assert_decode_fails(connack_props("29 02"), PROTO, 5);        /* sub ids available */
    assert_decode_fails(connack_props("2a 02"), PROTO, 5);        /* shared available */
    assert_decode_fails(connack_props("21 0000"), PROTO, 5);
    assert_decode_fails(connack_props("27 00000000"), PROTO, 5);
    assert_decode_fails(publish_props("0b 00"), PROTO, 8); /* subscription id 0 */
    assert_decode_fails(publish_props("0b 05 0b 00"), PROTO, 10);
    assert_decode_fails(subscribe_props("0b 00"), PROTO, 5);
    /* The edges that are allowed. */
    mqtt5_packet d;
    decode_ok(connack_props("24 00 25 01 21 0001 27 00000001"), &d, NULL);
    assert_int_equal(d.u.connack.properties.receive_maximum, 1);
    assert_int_equal(d.u.connack.properties.maximum_packet_size, 1);
}

static void packet_identifier_zero(void **state)
{
    (void)state;
    assert_decode_fails("32 0a 0003 612f62 0000 00 6869", PROTO, 7);
    assert_decode_fails("34 0a 0003 612f62 0000 00 6869", PROTO, 7);
    assert_decode_fails("40 02 0000", PROTO, 2);
    assert_decode_fails("50 02 0000", PROTO, 2);
    assert_decode_fails("62 02 0000", PROTO, 2);
    assert_decode_fails("70 03 0000 92", PROTO, 2);
    assert_decode_fails("82 09 0000 00 0003 612f62 01", PROTO, 2);
    assert_decode_fails("90 04 0000 00 00", PROTO, 2);
    assert_decode_fails("a2 08 0000 00 0003 612f62", PROTO, 2);
    assert_decode_fails("b0 04 0000 00 00", PROTO, 2);
    /* QoS 0 has no packet identifier: after the property length, 00 00 is payload. */
    mqtt5_packet d;
    decode_ok("30 08 0003 612f62 00 0000", &d, NULL);
    assert_bytes_hex(d.u.publish.payload, "0000");
}

/* No offset rule covers an absent item; only error and reason code are checked. */
static void empty_lists(void **state)
{
    (void)state;
    static const char *cases[] = {"82 03 000a 00", "a2 03 000b 00", "90 03 000a 00",
                                  "b0 03 000b 00"};
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        mqtt5_codec_status st = decode_fails(cases[i], 0);
        assert_err(st.error, MQTT5_ERR_PROTOCOL_ERROR);
        assert_int_equal(st.reason_code, 0x82);
    }
}

static void undefined_reason_codes(void **state)
{
    (void)state;
    assert_decode_fails("20 03 00 01 00", PROTO, 3);   /* CONNACK 0x01 */
    assert_decode_fails("20 03 00 8d 00", PROTO, 3);   /* CONNACK keep alive timeout */
    assert_decode_fails("40 03 0001 05", PROTO, 4);    /* PUBACK */
    assert_decode_fails("50 03 0001 92", PROTO, 4);    /* PUBREC: 0x92 is PUBREL/PUBCOMP only */
    assert_decode_fails("62 03 0001 10", PROTO, 4);    /* PUBREL */
    assert_decode_fails("70 03 0001 80", PROTO, 4);    /* PUBCOMP */
    assert_decode_fails("90 04 000a 00 03", PROTO, 5); /* SUBACK */
    assert_decode_fails("90 05 000a 00 00 11", PROTO, 6);
    assert_decode_fails("b0 04 000a 00 01", PROTO, 5); /* UNSUBACK */
    assert_decode_fails("e0 01 05", PROTO, 2);         /* DISCONNECT */
    assert_decode_fails("e0 01 84", PROTO, 2);
    assert_decode_fails("f0 01 80", PROTO, 2); /* AUTH */
}

static void publish_empty_topic_without_alias(void **state)
{
    (void)state;
    assert_decode_fails("30 05 0000 00 6869", PROTO, 2);
    assert_decode_fails(wrap("30", "0000", "01 01", "6869"), PROTO, 2);
}

static void no_local_on_shared_subscription(void **state)
{
    (void)state;
    /* "$share/g/x" with No Local: options byte at offset 17 (3.8.3.1). */
    assert_decode_fails("82 10 000a 00 000a 2473686172652f672f78 04", PROTO, 17);
    assert_decode_fails("82 10 000a 00 000a 2473686172652f672f78 05", PROTO, 17);
}

static void authentication_data_without_method(void **state)
{
    (void)state;
    /* Order does not matter: data before method is fine. */
    mqtt5_packet d;
    decode_ok(connack_props("16 0001 01 15 0001 6d"), &d, NULL);
    assert_str_eq(d.u.connack.properties.authentication_method, "m");
    /* Without a method: offset of the authenticationData property identifier. */
    assert_decode_fails(connect_props("16 0003 010203"), PROTO, 13);
    assert_decode_fails(connack_props("16 0001 01"), PROTO, 5);
    assert_decode_fails("f0 08 18 06 16 0003 010203", PROTO, 4);
}

/* ==== Topic Alias invalid 0x94 ============================================================== */

static void topic_alias_zero(void **state)
{
    (void)state;
    assert_decode_fails(publish_props("23 0000"), MQTT5_ERR_TOPIC_ALIAS_INVALID, 0x94, 8);
    assert_decode_fails(wrap("30", "0000", "23 0000", "6869"), MQTT5_ERR_TOPIC_ALIAS_INVALID, 0x94,
                        5);
}

/* ==== Unsupported Protocol Version 0x84 ===================================================== */

static void unsupported_protocol(void **state)
{
    (void)state;
    /* MQTT 3.1.1 CONNECT (no property length): level byte at offset 8. */
    assert_decode_fails("10 0e 0004 4d515454 04 02 003c 0002 6331",
                        MQTT5_ERR_UNSUPPORTED_PROTOCOL_VERSION, 0x84, 8);
    assert_decode_fails("10 0f 0004 4d515454 06 02 003c 00 0002 6331",
                        MQTT5_ERR_UNSUPPORTED_PROTOCOL_VERSION, 0x84, 8);
    /* MQTT 3.1 "MQIsdp" and a wrong name: offset of the name's length prefix. */
    assert_decode_fails("10 10 0006 4d5149736470 03 02 003c 0002 6331",
                        MQTT5_ERR_UNSUPPORTED_PROTOCOL_VERSION, 0x84, 2);
    assert_decode_fails("10 0f 0004 6d717474 05 02 003c 00 0002 6331",
                        MQTT5_ERR_UNSUPPORTED_PROTOCOL_VERSION, 0x84, 2);
}

/* ==== Packet Too Large 0x95 ================================================================= */

static void max_packet_size(void **state)
{
    (void)state;
    static const char pub[] = "30 08 0003 612f62 00 6869"; /* 10 bytes */
    size_t len, consumed;
    const uint8_t *buf = hex_bytes(pub, &len);
    mqtt5_packet d;
    mqtt5_codec_status st;
    assert_err(mqtt5_packet_decode(buf, len, 10, &d, &consumed, &st), MQTT5_OK);
    assert_int_equal(consumed, 10);
    assert_decode_fails_max(pub, 9, MQTT5_ERR_PACKET_TOO_LARGE, 0x95, 0);
    assert_decode_fails_max(pub, 1, MQTT5_ERR_PACKET_TOO_LARGE, 0x95, 0);
    /* From the fixed header alone, before the body is there. */
    assert_decode_fails_max("30 08", 9, MQTT5_ERR_PACKET_TOO_LARGE, 0x95, 0);
    assert_decode_fails_max("30 80 01", 130, MQTT5_ERR_PACKET_TOO_LARGE, 0x95, 0);
    assert_decode_fails_max("30 ffffff7f", 1000, MQTT5_ERR_PACKET_TOO_LARGE, 0x95, 0);
    /* ... but with the size limit met, a partial packet is just incomplete. */
    buf = hex_bytes("30 80 01", &len);
    assert_err(mqtt5_packet_decode(buf, len, 131, &d, &consumed, &st), MQTT5_ERR_NEED_MORE);
    assert_int_equal(consumed, 0);
    /* The limit counts the whole packet: a 2-byte PINGREQ needs max >= 2. */
    assert_decode_fails_max("c0 00", 1, MQTT5_ERR_PACKET_TOO_LARGE, 0x95, 0);
    buf = hex_bytes("c0 00", &len);
    assert_err(mqtt5_packet_decode(buf, len, 2, &d, &consumed, &st), MQTT5_OK);
    /* 0 means the protocol limit: the largest remaining length is only incomplete. */
    buf = hex_bytes("30 ffffff7f 0003", &len);
    assert_err(mqtt5_packet_decode(buf, len, 0, &d, &consumed, &st), MQTT5_ERR_NEED_MORE);
}

static void reserved_packet_type(void **state)
{
    (void)state;
    assert_decode_fails("00 00", MAL, 0); /* type 0 is forbidden (2.1.2) */
}

/* ==== Encoder validation ==================================================================== */

static mqtt5_packet pub(void)
{
    mqtt5_packet p = {.type = MQTT5_PUBLISH};
    p.u.publish.topic = S("a/b");
    p.u.publish.payload = B("hi");
    return p;
}

static mqtt5_packet conn(void)
{
    mqtt5_packet p = {.type = MQTT5_CONNECT};
    p.u.connect.clean_start = true;
    p.u.connect.client_id = S("c1");
    return p;
}

static mqtt5_packet sub(const mqtt5_subscription *s, size_t n)
{
    mqtt5_packet p = {.type = MQTT5_SUBSCRIBE};
    p.u.subscribe.packet_id = 1;
    p.u.subscribe.subscriptions = s;
    p.u.subscribe.subscription_count = n;
    return p;
}

static void encode_publish_fields(void **state)
{
    (void)state;
    mqtt5_packet p = pub();
    p.u.publish.qos = 3;
    p.u.publish.packet_id = 1;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "qos");
    p = pub();
    p.u.publish.qos = 1;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "messageId");
    p.u.publish.qos = 2;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "messageId");
    p = pub();
    p.u.publish.dup = true; /* DUP must be 0 for QoS 0 (3.3.1.1) */
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "dup");
    p = pub();
    p.u.publish.topic = S("a/+");
    assert_encode_fails(&p, MQTT5_ERR_INVALID_TOPIC, "topic");
    p.u.publish.topic = S("#");
    assert_encode_fails(&p, MQTT5_ERR_INVALID_TOPIC, "topic");
    p.u.publish.topic = S(""); /* and no topic alias */
    assert_encode_fails(&p, MQTT5_ERR_INVALID_TOPIC, "topic");
    p = pub();
    MQTT5_PROPS_SET(&p.u.publish.properties, MQTT5_PROP_TOPIC_ALIAS);
    p.u.publish.properties.topic_alias = 0;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "properties.topicAlias");
    p = pub();
    MQTT5_PROPS_SET(&p.u.publish.properties, MQTT5_PROP_PAYLOAD_FORMAT_INDICATOR);
    p.u.publish.properties.payload_format_indicator = 2;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "properties.payloadFormatIndicator");
}

static void encode_ack_fields(void **state)
{
    (void)state;
    static const mqtt5_packet_type types[] = {MQTT5_PUBACK, MQTT5_PUBREC, MQTT5_PUBREL,
                                              MQTT5_PUBCOMP};
    for (size_t i = 0; i < COUNT_OF(types); i++) {
        mqtt5_packet p = {.type = types[i]};
        assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "messageId");
        p.u.ack.packet_id = 1;
        p.u.ack.reason_code = 0x05; /* defined for none of them */
        assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "reasonCode");
    }
    mqtt5_packet p = {.type = MQTT5_PUBREL};
    p.u.ack.packet_id = 1;
    p.u.ack.reason_code = 0x10; /* a PUBACK/PUBREC code */
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "reasonCode");
    p = (mqtt5_packet){.type = MQTT5_DISCONNECT};
    p.u.disconnect.reason_code = 0x05;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "reasonCode");
    p = (mqtt5_packet){.type = MQTT5_CONNACK};
    p.u.connack.reason_code = 0x04;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "reasonCode");
}

/* Every kind of UTF-8 string field refuses ill-formed UTF-8. */
static void encode_invalid_utf8(void **state)
{
    (void)state;
    static const mqtt5_str bad = SI("x\xed\xa0\x80");
    static const mqtt5_user_property bad_name[] = {{SI("a\xc0\x80"), SI("v")}};
    static const mqtt5_user_property bad_value[] = {{SI("n"), SI("\x80")}};

    mqtt5_packet p = conn();
    p.u.connect.client_id = bad;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_UTF8, "clientId");
    p = conn();
    p.u.connect.has_username = true;
    p.u.connect.username = bad;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_UTF8, "username");
    p = conn();
    p.u.connect.has_will = true;
    p.u.connect.will.topic = bad;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_UTF8, "will.topic");
    p = conn();
    p.u.connect.has_will = true;
    p.u.connect.will.topic = S("t");
    MQTT5_PROPS_SET(&p.u.connect.will.properties, MQTT5_PROP_CONTENT_TYPE);
    p.u.connect.will.properties.content_type = bad;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_UTF8, "will.properties.contentType");
    p = conn();
    MQTT5_PROPS_SET(&p.u.connect.properties, MQTT5_PROP_AUTHENTICATION_METHOD);
    p.u.connect.properties.authentication_method = bad;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_UTF8, "properties.authenticationMethod");
    p = conn();
    p.u.connect.properties.user_properties = bad_name;
    p.u.connect.properties.user_property_count = 1;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_UTF8, "properties.userProperties");
    p.u.connect.properties.user_properties = bad_value;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_UTF8, "properties.userProperties");

    p = pub();
    p.u.publish.topic = bad;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_UTF8, "topic");
    p = pub();
    MQTT5_PROPS_SET(&p.u.publish.properties, MQTT5_PROP_CONTENT_TYPE);
    p.u.publish.properties.content_type = S("a\0b");
    assert_encode_fails(&p, MQTT5_ERR_INVALID_UTF8, "properties.contentType");
    p = pub();
    MQTT5_PROPS_SET(&p.u.publish.properties, MQTT5_PROP_RESPONSE_TOPIC);
    p.u.publish.properties.response_topic = bad;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_UTF8, "properties.responseTopic");

    p = (mqtt5_packet){.type = MQTT5_CONNACK};
    MQTT5_PROPS_SET(&p.u.connack.properties, MQTT5_PROP_ASSIGNED_CLIENT_IDENTIFIER);
    p.u.connack.properties.assigned_client_identifier = bad;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_UTF8, "properties.assignedClientIdentifier");
    p = (mqtt5_packet){.type = MQTT5_CONNACK};
    MQTT5_PROPS_SET(&p.u.connack.properties, MQTT5_PROP_RESPONSE_INFORMATION);
    p.u.connack.properties.response_information = bad;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_UTF8, "properties.responseInformation");
    p = (mqtt5_packet){.type = MQTT5_DISCONNECT};
    MQTT5_PROPS_SET(&p.u.disconnect.properties, MQTT5_PROP_SERVER_REFERENCE);
    p.u.disconnect.properties.server_reference = bad;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_UTF8, "properties.serverReference");
    p = (mqtt5_packet){.type = MQTT5_PUBACK};
    p.u.ack.packet_id = 1;
    MQTT5_PROPS_SET(&p.u.ack.properties, MQTT5_PROP_REASON_STRING);
    p.u.ack.properties.reason_string = bad;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_UTF8, "properties.reasonString");

    static const mqtt5_subscription bad_sub[] = {{SI("a/\xff"), 0, false, false, 0}};
    p = sub(bad_sub, 1);
    assert_encode_fails(&p, MQTT5_ERR_INVALID_UTF8, "subscriptions");
    static const mqtt5_str bad_unsub[] = {SI("\xc3")};
    p = (mqtt5_packet){.type = MQTT5_UNSUBSCRIBE};
    p.u.unsubscribe.packet_id = 1;
    p.u.unsubscribe.topic_filters = bad_unsub;
    p.u.unsubscribe.topic_filter_count = 1;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_UTF8, "unsubscriptions");
}

static void encode_property_not_allowed(void **state)
{
    (void)state;
    mqtt5_packet p = conn();
    MQTT5_PROPS_SET(&p.u.connect.properties, MQTT5_PROP_TOPIC_ALIAS);
    p.u.connect.properties.topic_alias = 1;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "properties.topicAlias");
    p = conn();
    static const uint32_t one[] = {1};
    p.u.connect.properties.subscription_identifiers = one;
    p.u.connect.properties.subscription_identifier_count = 1;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "properties.subscriptionIdentifier");
    p = conn();
    p.u.connect.has_will = true;
    p.u.connect.will.topic = S("t");
    MQTT5_PROPS_SET(&p.u.connect.will.properties, MQTT5_PROP_SESSION_EXPIRY_INTERVAL);
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "will.properties.sessionExpiryInterval");
    p = pub();
    MQTT5_PROPS_SET(&p.u.publish.properties, MQTT5_PROP_SESSION_EXPIRY_INTERVAL);
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "properties.sessionExpiryInterval");
    p = (mqtt5_packet){.type = MQTT5_CONNACK};
    MQTT5_PROPS_SET(&p.u.connack.properties, MQTT5_PROP_WILL_DELAY_INTERVAL);
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "properties.willDelayInterval");
    /* A SUBSCRIBE carries at most one subscription identifier. */
    static const mqtt5_subscription s1[] = {{SI("a"), 0, false, false, 0}};
    static const uint32_t two[] = {1, 2};
    p = sub(s1, 1);
    p.u.subscribe.properties.subscription_identifiers = two;
    p.u.subscribe.properties.subscription_identifier_count = 2;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "properties.subscriptionIdentifier");
}

static void encode_property_values(void **state)
{
    (void)state;
    mqtt5_packet p = conn();
    MQTT5_PROPS_SET(&p.u.connect.properties, MQTT5_PROP_RECEIVE_MAXIMUM);
    p.u.connect.properties.receive_maximum = 0;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "properties.receiveMaximum");
    p = conn();
    MQTT5_PROPS_SET(&p.u.connect.properties, MQTT5_PROP_MAXIMUM_PACKET_SIZE);
    p.u.connect.properties.maximum_packet_size = 0;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "properties.maximumPacketSize");
    p = conn();
    MQTT5_PROPS_SET(&p.u.connect.properties, MQTT5_PROP_REQUEST_PROBLEM_INFORMATION);
    p.u.connect.properties.request_problem_information = 2;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "properties.requestProblemInformation");
    p = conn();
    MQTT5_PROPS_SET(&p.u.connect.properties, MQTT5_PROP_AUTHENTICATION_DATA);
    p.u.connect.properties.authentication_data = B("\x01");
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, NULL); /* data without method */
    p = (mqtt5_packet){.type = MQTT5_CONNACK};
    MQTT5_PROPS_SET(&p.u.connack.properties, MQTT5_PROP_MAXIMUM_QOS);
    p.u.connack.properties.maximum_qos = 2;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "properties.maximumQoS");

    static const uint32_t zero[] = {0}, too_big[] = {268435456u}, max_ok[] = {268435455u};
    p = pub();
    p.u.publish.properties.subscription_identifiers = zero;
    p.u.publish.properties.subscription_identifier_count = 1;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "properties.subscriptionIdentifier");
    p.u.publish.properties.subscription_identifiers = too_big;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "properties.subscriptionIdentifier");
    p.u.publish.properties.subscription_identifiers = max_ok;
    assert_round_trip(&p);
    static const mqtt5_subscription s1[] = {{SI("a"), 0, false, false, 0}};
    p = sub(s1, 1);
    p.u.subscribe.properties.subscription_identifiers = zero;
    p.u.subscribe.properties.subscription_identifier_count = 1;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "properties.subscriptionIdentifier");
    p.u.subscribe.properties.subscription_identifiers = too_big;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "properties.subscriptionIdentifier");
}

static void encode_connect_fields(void **state)
{
    (void)state;
    mqtt5_packet p = conn();
    p.u.connect.has_will = true;
    p.u.connect.will.topic = S("t");
    p.u.connect.will.qos = 3;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "will.qos");
    p.u.connect.will.qos = 0;
    p.u.connect.will.topic = S("t/#");
    assert_encode_fails(&p, MQTT5_ERR_INVALID_TOPIC, "will.topic");
}

static void encode_long_strings(void **state)
{
    (void)state;
    char *s = test_alloc(65536);
    memset(s, 'a', 65536);
    mqtt5_packet p = conn();
    p.u.connect.client_id = (mqtt5_str){s, 65536};
    assert_encode_fails(&p, MQTT5_ERR_INVALID_UTF8, "clientId");
    p = pub();
    p.u.publish.topic = (mqtt5_str){s, 65536};
    assert_encode_fails(&p, MQTT5_ERR_INVALID_UTF8, "topic");
    p = pub();
    p.u.publish.properties.user_properties = (const mqtt5_user_property[]){{{"n", 1}, {s, 65536}}};
    p.u.publish.properties.user_property_count = 1;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_UTF8, "properties.userProperties");
    /* Binary data is limited to 65535 bytes too (1.5.6). */
    p = conn();
    p.u.connect.has_password = true;
    p.u.connect.password = (mqtt5_bytes){(const uint8_t *)s, 65536};
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "password");
    p = pub();
    MQTT5_PROPS_SET(&p.u.publish.properties, MQTT5_PROP_CORRELATION_DATA);
    p.u.publish.properties.correlation_data = (mqtt5_bytes){(const uint8_t *)s, 65536};
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "properties.correlationData");
    /* 65535 is fine. */
    p = pub();
    p.u.publish.topic = (mqtt5_str){s, 65535};
    assert_round_trip(&p);
}

static void encode_subscribe_fields(void **state)
{
    (void)state;
    mqtt5_packet p = sub(NULL, 0);
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "subscriptions");
    static const mqtt5_subscription ok[] = {{SI("a"), 0, false, false, 0}};
    p = sub(ok, 1);
    p.u.subscribe.packet_id = 0;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "messageId");

    static const mqtt5_subscription qos3[] = {{SI("a"), 0, false, false, 0},
                                              {SI("b"), 3, false, false, 0}};
    p = sub(qos3, 2);
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "subscriptions.qos");
    static const mqtt5_subscription rh3[] = {{SI("a"), 0, false, false, 3}};
    p = sub(rh3, 1);
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "subscriptions");
    static const mqtt5_subscription shared_nl[] = {{SI("$share/g/a"), 1, true, false, 0}};
    p = sub(shared_nl, 1);
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "subscriptions");
    static const mqtt5_subscription bad_filter[] = {{SI("a/#/b"), 0, false, false, 0}};
    p = sub(bad_filter, 1);
    assert_encode_fails(&p, MQTT5_ERR_INVALID_TOPIC, "subscriptions");
    static const mqtt5_subscription bad_share[] = {{SI("$share//a"), 0, false, false, 0}};
    p = sub(bad_share, 1);
    assert_encode_fails(&p, MQTT5_ERR_INVALID_TOPIC, "subscriptions");

    p = (mqtt5_packet){.type = MQTT5_UNSUBSCRIBE};
    p.u.unsubscribe.packet_id = 1;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "unsubscriptions");
    static const mqtt5_str bad_unsub[] = {SI("a+")};
    p.u.unsubscribe.topic_filters = bad_unsub;
    p.u.unsubscribe.topic_filter_count = 1;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_TOPIC, "unsubscriptions");

    static const uint8_t granted[] = {0x00};
    p = (mqtt5_packet){.type = MQTT5_SUBACK};
    p.u.suback.packet_id = 1;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, NULL); /* no reason codes */
    p.u.suback.reason_codes = granted;
    p.u.suback.reason_code_count = 1;
    p.u.suback.packet_id = 0;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, "messageId");
    static const uint8_t bad_granted[] = {0x03};
    p.u.suback.packet_id = 1;
    p.u.suback.reason_codes = bad_granted;
    assert_encode_fails(&p, MQTT5_ERR_INVALID_PACKET, NULL);
}

static void encode_buffer_too_small(void **state)
{
    (void)state;
    mqtt5_packet p = pub(); /* 10 bytes */
    uint8_t buf[16];
    size_t written = 0;
    mqtt5_codec_status st;
    for (size_t cap = 0; cap < 10; cap++) {
        memset(buf, 0xA5, sizeof(buf));
        assert_err(mqtt5_packet_encode(&p, buf, cap, &written, &st), MQTT5_ERR_BUFFER_TOO_SMALL);
        assert_err(st.error, MQTT5_ERR_BUFFER_TOO_SMALL);
        for (size_t i = 0; i < sizeof(buf); i++)
            assert_int_equal(buf[i], 0xA5);
    }
    assert_err(mqtt5_packet_encode(&p, buf, 10, &written, &st), MQTT5_OK);
    assert_int_equal(written, 10);
    assert_int_equal(buf[10], 0xA5);
}

/* The remaining length of a PUBLISH may not exceed 268435455. The payload pointer is never read
 * because the size check comes first. */
static void encode_too_large(void **state)
{
    (void)state;
    mqtt5_packet p = pub();
    size_t size = 0;
    mqtt5_codec_status st;
    p.u.publish.payload.len = 268435455u - 6; /* topic 5 + property length 1 */
    assert_err(mqtt5_packet_encoded_size(&p, &size, &st), MQTT5_OK);
    assert_int_equal(size, 268435460u);
    p.u.publish.payload.len++;
    assert_encode_fails(&p, MQTT5_ERR_PACKET_TOO_LARGE, NULL);
}

/* `status` may be NULL in every call (codec.h); the return value still carries the error. */
static void null_status(void **state)
{
    (void)state;
    size_t n, consumed, size;
    const uint8_t *b = hex_bytes("60 02 0001", &n);
    mqtt5_packet out;
    assert_err(mqtt5_packet_decode(b, n, 0, &out, &consumed, NULL), MQTT5_ERR_MALFORMED_PACKET);
    b = hex_bytes("62 02 0001", &n);
    assert_err(mqtt5_packet_decode(b, n, 0, &out, &consumed, NULL), MQTT5_OK);
    mqtt5_packet p = pub();
    p.u.publish.qos = 3;
    assert_err(mqtt5_packet_encoded_size(&p, &size, NULL), MQTT5_ERR_INVALID_PACKET);
    uint8_t buf[32];
    assert_err(mqtt5_packet_encode(&p, buf, sizeof(buf), &consumed, NULL),
               MQTT5_ERR_INVALID_PACKET);
    p.u.publish.qos = 0;
    assert_err(mqtt5_packet_encode(&p, buf, 3, &consumed, NULL), MQTT5_ERR_BUFFER_TOO_SMALL);
    assert_err(mqtt5_packet_encode(&p, buf, sizeof(buf), &consumed, NULL), MQTT5_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_variable_byte_integer),
        cmocka_unit_test(length_past_end),
        cmocka_unit_test(leftover_bytes),
        cmocka_unit_test(invalid_utf8),
        cmocka_unit_test(reserved_fixed_header_flags),
        cmocka_unit_test(publish_flags),
        cmocka_unit_test(publish_topic_wildcards),
        cmocka_unit_test(unknown_property),
        cmocka_unit_test(property_not_allowed),
        cmocka_unit_test(connect_flags),
        cmocka_unit_test(connack_flags),
        cmocka_unit_test(subscribe_options),
        cmocka_unit_test(subscribe_topic_filters),
        cmocka_unit_test(duplicate_property),
        cmocka_unit_test(property_values_out_of_range),
        cmocka_unit_test(packet_identifier_zero),
        cmocka_unit_test(empty_lists),
        cmocka_unit_test(undefined_reason_codes),
        cmocka_unit_test(publish_empty_topic_without_alias),
        cmocka_unit_test(no_local_on_shared_subscription),
        cmocka_unit_test(authentication_data_without_method),
        cmocka_unit_test(topic_alias_zero),
        cmocka_unit_test(unsupported_protocol),
        cmocka_unit_test(max_packet_size),
        cmocka_unit_test(reserved_packet_type),
        cmocka_unit_test(encode_publish_fields),
        cmocka_unit_test(encode_ack_fields),
        cmocka_unit_test(encode_invalid_utf8),
        cmocka_unit_test(encode_property_not_allowed),
        cmocka_unit_test(encode_property_values),
        cmocka_unit_test(encode_connect_fields),
        cmocka_unit_test(encode_long_strings),
        cmocka_unit_test(encode_subscribe_fields),
        cmocka_unit_test(encode_buffer_too_small),
        cmocka_unit_test(encode_too_large),
        cmocka_unit_test(null_status),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
