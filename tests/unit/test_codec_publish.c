/*
 * test_codec_publish.c - PUBLISH (MQTT 5 section 3.3): QoS 0/1/2, DUP and RETAIN flags, every
 * PUBLISH property including repeated subscription identifiers, topic alias with an empty topic,
 * payload sizes around the remaining-length boundaries, zero-copy decoding.
 */
#include "helpers/test_common.h"

/* QoS 0: no packet identifier. */
static const char PUBLISH_QOS0[] = "30 08"       /* PUBLISH, QoS 0, remaining length 8 */
                                   "0003 612f62" /* topic "a/b" */
                                   "00"          /* property length 0 */
                                   "6869";       /* payload "hi" */

static const char PUBLISH_QOS1[] = "32 0a 0003 612f62"
                                   "000a" /* packet identifier 10 */
                                   "00 6869";

static const char PUBLISH_QOS2_DUP_RETAIN[] = "3d" /* DUP (8), QoS 2 (4), RETAIN (1) */
                                              "0a 0003 612f62 1234 00 6869";

/* Every PUBLISH property; three subscription identifiers (1, 300, max) and two user properties. */
static const char PUBLISH_FULL[] = "32 4c"       /* QoS 1, remaining length 76 */
                                   "0003 612f62" /* topic "a/b" */
                                   "0001"        /* packet identifier 1 */
                                   "42"          /* property length 66 */
                                   "01 01"       /* payload format indicator: UTF-8 */
                                   "02 00000e10" /* message expiry interval 3600 */
                                   "03 000a 746578742f706c61696e" /* content type "text/plain" */
                                   "08 0005 7265706c79"           /* response topic "reply" */
                                   "09 0004 deadbeef"             /* correlation data */
                                   "23 0007"                      /* topic alias 7 */
                                   "0b 01"                        /* subscription identifier 1 */
                                   "0b ac02"                      /* subscription identifier 300 */
                                   "0b ffffff7f"            /* subscription identifier 268435455 */
                                   "26 0002 6b31 0002 7631" /* user property k1=v1 */
                                   "26 0002 6b32 0002 7632" /* user property k2=v2 */
                                   "6869";                  /* payload "hi" */

static const mqtt5_user_property publish_user_props[] = {{SI("k1"), SI("v1")},
                                                         {SI("k2"), SI("v2")}};
static const uint32_t publish_sub_ids[] = {1, 300, 268435455};

static mqtt5_packet publish(uint8_t qos, uint16_t id)
{
    mqtt5_packet p = {.type = MQTT5_PUBLISH};
    p.u.publish.qos = qos;
    p.u.publish.packet_id = id;
    p.u.publish.topic = S("a/b");
    p.u.publish.payload = B("hi");
    return p;
}

static mqtt5_packet publish_full(void)
{
    mqtt5_packet p = publish(1, 1);
    mqtt5_properties *pr = &p.u.publish.properties;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_PAYLOAD_FORMAT_INDICATOR);
    pr->payload_format_indicator = 1;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_MESSAGE_EXPIRY_INTERVAL);
    pr->message_expiry_interval = 3600;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_CONTENT_TYPE);
    pr->content_type = S("text/plain");
    MQTT5_PROPS_SET(pr, MQTT5_PROP_RESPONSE_TOPIC);
    pr->response_topic = S("reply");
    MQTT5_PROPS_SET(pr, MQTT5_PROP_CORRELATION_DATA);
    pr->correlation_data = B("\xde\xad\xbe\xef");
    MQTT5_PROPS_SET(pr, MQTT5_PROP_TOPIC_ALIAS);
    pr->topic_alias = 7;
    pr->subscription_identifiers = publish_sub_ids;
    pr->subscription_identifier_count = COUNT_OF(publish_sub_ids);
    pr->user_properties = publish_user_props;
    pr->user_property_count = COUNT_OF(publish_user_props);
    return p;
}

static void qos0(void **state)
{
    (void)state;
    mqtt5_packet p = publish(0, 0);
    assert_encodes(&p, PUBLISH_QOS0);
    p.u.publish.packet_id = 99; /* ignored at QoS 0 */
    assert_encodes(&p, PUBLISH_QOS0);

    mqtt5_packet d;
    size_t len;
    const uint8_t *buf = decode_ok(PUBLISH_QOS0, &d, &len);
    assert_int_equal(d.type, MQTT5_PUBLISH);
    assert_int_equal(d.u.publish.qos, 0);
    assert_false(d.u.publish.dup);
    assert_false(d.u.publish.retain);
    assert_str_eq(d.u.publish.topic, "a/b");
    assert_bytes_hex(d.u.publish.payload, "6869");
    assert_int_equal(d.u.publish.properties.present, 0);
    assert_user_props(&d.u.publish.properties, NULL);
    assert_sub_ids(&d.u.publish.properties);
    assert_ptr_equal(d.u.publish.topic.ptr, (const char *)buf + 4);
    assert_ptr_equal(d.u.publish.payload.ptr, buf + len - 2);
}

static void qos1(void **state)
{
    (void)state;
    mqtt5_packet p = publish(1, 10);
    assert_encodes(&p, PUBLISH_QOS1);
    mqtt5_packet d;
    decode_ok(PUBLISH_QOS1, &d, NULL);
    assert_int_equal(d.u.publish.qos, 1);
    assert_int_equal(d.u.publish.packet_id, 10);
    assert_str_eq(d.u.publish.topic, "a/b");
    assert_bytes_hex(d.u.publish.payload, "6869");
}

static void qos2_dup_retain(void **state)
{
    (void)state;
    mqtt5_packet p = publish(2, 0x1234);
    p.u.publish.dup = true;
    p.u.publish.retain = true;
    assert_encodes(&p, PUBLISH_QOS2_DUP_RETAIN);
    mqtt5_packet d;
    decode_ok(PUBLISH_QOS2_DUP_RETAIN, &d, NULL);
    assert_int_equal(d.u.publish.qos, 2);
    assert_true(d.u.publish.dup);
    assert_true(d.u.publish.retain);
    assert_int_equal(d.u.publish.packet_id, 0x1234);
}

static void flag_combinations(void **state)
{
    (void)state;
    mqtt5_packet p = publish(0, 0);
    p.u.publish.retain = true;
    assert_encodes(&p, "31 08 0003 612f62 00 6869");
    p = publish(1, 1);
    p.u.publish.dup = true;
    assert_encodes(&p, "3a 0a 0003 612f62 0001 00 6869");
    p = publish(2, 65535);
    assert_encodes(&p, "34 0a 0003 612f62 ffff 00 6869");
    for (uint8_t qos = 0; qos <= 2; qos++)
        for (int dup = 0; dup <= (qos ? 1 : 0); dup++)
            for (int retain = 0; retain <= 1; retain++) {
                p = publish(qos, qos ? 77 : 0);
                p.u.publish.dup = dup;
                p.u.publish.retain = retain;
                assert_round_trip(&p);
            }
}

static void empty_payload(void **state)
{
    (void)state;
    mqtt5_packet p = publish(0, 0);
    p.u.publish.payload = (mqtt5_bytes){NULL, 0};
    assert_encodes(&p, "30 06 0003 612f62 00");
    mqtt5_packet d;
    decode_ok("30 06 0003 612f62 00", &d, NULL);
    assert_int_equal(d.u.publish.payload.len, 0);
    /* A zero-length retained message (deletes the retained message, 3.3.1.3). */
    decode_ok("31 06 0003 612f62 00", &d, NULL);
    assert_true(d.u.publish.retain);
    assert_int_equal(d.u.publish.payload.len, 0);
}

static void encode_full(void **state)
{
    (void)state;
    mqtt5_packet p = publish_full();
    assert_encodes(&p, PUBLISH_FULL);
}

static void decode_full(void **state)
{
    (void)state;
    mqtt5_packet d;
    size_t len;
    const uint8_t *buf = decode_ok(PUBLISH_FULL, &d, &len);
    const mqtt5_properties *pr = &d.u.publish.properties;
    assert_int_equal(d.u.publish.qos, 1);
    assert_int_equal(d.u.publish.packet_id, 1);
    assert_str_eq(d.u.publish.topic, "a/b");
    assert_int_equal(pr->present, MQTT5_PROP_BIT(0x01) | MQTT5_PROP_BIT(0x02) |
                                      MQTT5_PROP_BIT(0x03) | MQTT5_PROP_BIT(0x08) |
                                      MQTT5_PROP_BIT(0x09) | MQTT5_PROP_BIT(0x23));
    assert_int_equal(pr->payload_format_indicator, 1);
    assert_int_equal(pr->message_expiry_interval, 3600);
    assert_str_eq(pr->content_type, "text/plain");
    assert_str_eq(pr->response_topic, "reply");
    assert_bytes_hex(pr->correlation_data, "deadbeef");
    assert_int_equal(pr->topic_alias, 7);
    assert_null(pr->subscription_identifiers);
    assert_sub_ids(pr, 1, 300, 268435455);
    assert_null(pr->user_properties);
    assert_user_props(pr, "k1", "v1", "k2", "v2", NULL);
    assert_ptr_equal(pr->raw.ptr, buf + 10);
    assert_int_equal(pr->raw.len, 66);
    assert_bytes_hex(d.u.publish.payload, "6869");
    assert_ptr_equal(d.u.publish.payload.ptr, buf + len - 2);
    assert_ptr_equal(pr->content_type.ptr, (const char *)buf + 20);
}

/* Decoding does not depend on where the subscription identifiers sit among the properties. */
static void decode_interleaved_sub_ids(void **state)
{
    (void)state;
    mqtt5_packet d;
    decode_ok("30 14 0003 612f62"
              "0e"                 /* property length 14 */
              "0b 05"              /* subscription identifier 5 */
              "26 0001 61 0001 62" /* user property a=b */
              "0b 8001"            /* subscription identifier 128 */
              "01 00",             /* payload format indicator 0 */
              &d, NULL);
    assert_sub_ids(&d.u.publish.properties, 5, 128);
    assert_user_props(&d.u.publish.properties, "a", "b", NULL);
    assert_int_equal(d.u.publish.properties.present, MQTT5_PROP_BIT(0x01));
    assert_int_equal(d.u.publish.payload.len, 0);
}

/* 3.3.2.3.4: a topic alias lets the topic name be empty. */
static void topic_alias_empty_topic(void **state)
{
    (void)state;
    static const char hex[] = "30 08"
                              "0000"      /* empty topic name */
                              "03 230005" /* topic alias 5 */
                              "6869";
    mqtt5_packet p = {.type = MQTT5_PUBLISH};
    p.u.publish.topic = S("");
    p.u.publish.payload = B("hi");
    MQTT5_PROPS_SET(&p.u.publish.properties, MQTT5_PROP_TOPIC_ALIAS);
    p.u.publish.properties.topic_alias = 5;
    assert_encodes(&p, hex);
    assert_round_trip(&p);

    mqtt5_packet d;
    decode_ok(hex, &d, NULL);
    assert_int_equal(d.u.publish.topic.len, 0);
    assert_true(MQTT5_PROPS_HAS(&d.u.publish.properties, MQTT5_PROP_TOPIC_ALIAS));
    assert_int_equal(d.u.publish.properties.topic_alias, 5);
    assert_bytes_hex(d.u.publish.payload, "6869");

    /* Topic and alias together (setting up a new alias). */
    p.u.publish.topic = S("a/b");
    p.u.publish.properties.topic_alias = 65535;
    assert_encodes(&p, "30 0b 0003 612f62 03 23ffff 6869");
}

/* Payloads whose sizes put the remaining length at 127/128 and 16383/16384 bytes. */
static void payload_sizes(void **state)
{
    (void)state;
    static const struct {
        size_t payload;
        const char *header;
    } cases[] = {
        {121, "30 7f"},       /* remaining 127 */
        {122, "30 8001"},     /* remaining 128 */
        {16377, "30 ff7f"},   /* remaining 16383 */
        {16378, "30 808001"}, /* remaining 16384 */
        {70000, "30 f6a204"}, /* remaining 70006 */
    };
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        uint8_t *payload = test_alloc(cases[i].payload);
        for (size_t j = 0; j < cases[i].payload; j++)
            payload[j] = (uint8_t)(j * 7);
        mqtt5_packet p = publish(0, 0);
        p.u.publish.payload = (mqtt5_bytes){payload, cases[i].payload};
        size_t len;
        const uint8_t *enc = encode_ok(&p, &len);
        size_t hl = hex_len(cases[i].header);
        assert_mem_hex(enc, hl, cases[i].header);
        assert_int_equal(len, hl + 6 + cases[i].payload);
        mqtt5_packet d;
        decode_buf_ok(enc, len, &d);
        assert_ptr_equal(d.u.publish.payload.ptr, enc + hl + 6);
        assert_int_equal(d.u.publish.payload.len, cases[i].payload);
        assert_memory_equal(d.u.publish.payload.ptr, payload, cases[i].payload);
    }
}

/* The payload is opaque bytes: NUL and invalid UTF-8 are fine (unless the format indicator
 * says UTF-8, which is the receiver's business, not the codec's). */
static void binary_payload(void **state)
{
    (void)state;
    mqtt5_packet d;
    decode_ok("30 0a 0003 612f62 00 00ff c080", &d, NULL);
    assert_bytes_hex(d.u.publish.payload, "00ffc080");
    mqtt5_packet p = publish(0, 0);
    p.u.publish.payload = B("\x00\xff\xc0\x80");
    assert_encodes(&p, "30 0a 0003 612f62 00 00ff c080");
}

static void round_trips(void **state)
{
    (void)state;
    mqtt5_packet p = publish_full();
    assert_round_trip(&p);
    p.u.publish.qos = 2;
    p.u.publish.dup = true;
    p.u.publish.retain = true;
    assert_round_trip(&p);
    p.u.publish.properties.user_property_count = 0;
    p.u.publish.properties.subscription_identifier_count = 1;
    assert_round_trip(&p);
    p.u.publish.qos = 0;
    p.u.publish.dup = false;
    p.u.publish.topic = S("$SYS/\xc3\xa9");
    assert_round_trip(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(qos0),
        cmocka_unit_test(qos1),
        cmocka_unit_test(qos2_dup_retain),
        cmocka_unit_test(flag_combinations),
        cmocka_unit_test(empty_payload),
        cmocka_unit_test(encode_full),
        cmocka_unit_test(decode_full),
        cmocka_unit_test(decode_interleaved_sub_ids),
        cmocka_unit_test(topic_alias_empty_topic),
        cmocka_unit_test(payload_sizes),
        cmocka_unit_test(binary_payload),
        cmocka_unit_test(round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
