/*
 * test_codec_connect.c - CONNECT (MQTT 5 section 3.1): golden encodings and decodings, the
 * connect flags (will, will QoS/retain, username, password), every CONNECT property and every
 * will property, round trips and zero-copy decoding.
 */
#include "helpers/test_common.h"

/* Smallest CONNECT: clean start, keep alive 60, client id "c1", no properties. */
static const char CONNECT_MIN[] = "10 0f"         /* CONNECT, remaining length 15 */
                                  "0004 4d515454" /* protocol name "MQTT" */
                                  "05"            /* protocol level 5 */
                                  "02"            /* flags: clean start */
                                  "003c"          /* keep alive 60 */
                                  "00"            /* property length 0 */
                                  "0002 6331";    /* client id "c1" */

/* Everything: all CONNECT properties, a will with all will properties, username, password. */
static const char CONNECT_FULL[] =
    "10 79"              /* CONNECT, remaining length 121 */
    "0004 4d515454 05"   /* "MQTT", level 5 */
    "ee"                 /* username, password, will retain, will QoS 1, will, clean start */
    "001e"               /* keep alive 30 */
    "30"                 /* property length 48 */
    "11 00000e10"        /* session expiry interval 3600 */
    "15 0005 534352414d" /* authentication method "SCRAM" */
    "16 0003 010203"     /* authentication data */
    "17 00"              /* request problem information 0 */
    "19 01"              /* request response information 1 */
    "21 0014"            /* receive maximum 20 */
    "22 000a"            /* topic alias maximum 10 */
    "27 00100000"        /* maximum packet size 1048576 */
    "26 0001 61 0001 62" /* user property a=b */
    "26 0001 61 0001 63" /* user property a=c (names may repeat) */
    "0003 636964"        /* client id "cid" */
    "24"                 /* will property length 36 */
    "01 01"              /* payload format indicator 1 */
    "02 0000003c"        /* message expiry interval 60 */
    "03 0003 747874"     /* content type "txt" */
    "08 0003 722f74"     /* response topic "r/t" */
    "09 0002 cafe"       /* correlation data */
    "18 00000005"        /* will delay interval 5 */
    "26 0001 6b 0001 76" /* user property k=v */
    "0003 772f74"        /* will topic "w/t" */
    "0002 6869"          /* will payload "hi" */
    "0004 75736572"      /* username "user" */
    "0003 707764";       /* password "pwd" */

static const mqtt5_user_property connect_user_props[] = {{SI("a"), SI("b")}, {SI("a"), SI("c")}};
static const mqtt5_user_property will_user_props[] = {{SI("k"), SI("v")}};

static mqtt5_packet connect_min(void)
{
    mqtt5_packet p = {.type = MQTT5_CONNECT};
    p.u.connect.clean_start = true;
    p.u.connect.keep_alive = 60;
    p.u.connect.client_id = S("c1");
    return p;
}

static mqtt5_packet connect_full(void)
{
    mqtt5_packet p = {.type = MQTT5_CONNECT};
    mqtt5_connect *c = &p.u.connect;
    c->clean_start = true;
    c->keep_alive = 30;
    c->client_id = S("cid");

    mqtt5_properties *pr = &c->properties;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_SESSION_EXPIRY_INTERVAL);
    pr->session_expiry_interval = 3600;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_AUTHENTICATION_METHOD);
    pr->authentication_method = S("SCRAM");
    MQTT5_PROPS_SET(pr, MQTT5_PROP_AUTHENTICATION_DATA);
    pr->authentication_data = B("\x01\x02\x03");
    MQTT5_PROPS_SET(pr, MQTT5_PROP_REQUEST_PROBLEM_INFORMATION);
    pr->request_problem_information = 0;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_REQUEST_RESPONSE_INFORMATION);
    pr->request_response_information = 1;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_RECEIVE_MAXIMUM);
    pr->receive_maximum = 20;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_TOPIC_ALIAS_MAXIMUM);
    pr->topic_alias_maximum = 10;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_MAXIMUM_PACKET_SIZE);
    pr->maximum_packet_size = 1048576;
    pr->user_properties = connect_user_props;
    pr->user_property_count = COUNT_OF(connect_user_props);

    c->has_will = true;
    c->will.topic = S("w/t");
    c->will.payload = B("hi");
    c->will.qos = 1;
    c->will.retain = true;
    mqtt5_properties *wp = &c->will.properties;
    MQTT5_PROPS_SET(wp, MQTT5_PROP_PAYLOAD_FORMAT_INDICATOR);
    wp->payload_format_indicator = 1;
    MQTT5_PROPS_SET(wp, MQTT5_PROP_MESSAGE_EXPIRY_INTERVAL);
    wp->message_expiry_interval = 60;
    MQTT5_PROPS_SET(wp, MQTT5_PROP_CONTENT_TYPE);
    wp->content_type = S("txt");
    MQTT5_PROPS_SET(wp, MQTT5_PROP_RESPONSE_TOPIC);
    wp->response_topic = S("r/t");
    MQTT5_PROPS_SET(wp, MQTT5_PROP_CORRELATION_DATA);
    wp->correlation_data = B("\xca\xfe");
    MQTT5_PROPS_SET(wp, MQTT5_PROP_WILL_DELAY_INTERVAL);
    wp->will_delay_interval = 5;
    wp->user_properties = will_user_props;
    wp->user_property_count = COUNT_OF(will_user_props);

    c->has_username = true;
    c->username = S("user");
    c->has_password = true;
    c->password = B("pwd");
    return p;
}

static void encode_minimal(void **state)
{
    (void)state;
    mqtt5_packet p = connect_min();
    assert_encodes(&p, CONNECT_MIN);
}

static void decode_minimal(void **state)
{
    (void)state;
    mqtt5_packet p;
    decode_ok(CONNECT_MIN, &p, NULL);
    assert_int_equal(p.type, MQTT5_CONNECT);
    assert_str_eq(p.u.connect.protocol_name, "MQTT");
    assert_int_equal(p.u.connect.protocol_version, 5);
    assert_true(p.u.connect.clean_start);
    assert_int_equal(p.u.connect.keep_alive, 60);
    assert_str_eq(p.u.connect.client_id, "c1");
    assert_false(p.u.connect.has_will);
    assert_false(p.u.connect.has_username);
    assert_false(p.u.connect.has_password);
    assert_int_equal(p.u.connect.properties.present, 0);
    assert_user_props(&p.u.connect.properties, NULL);
    assert_int_equal(p.u.connect.properties.raw.len, 0);
}

static void encode_full(void **state)
{
    (void)state;
    mqtt5_packet p = connect_full();
    assert_encodes(&p, CONNECT_FULL);
}

static void decode_full(void **state)
{
    (void)state;
    mqtt5_packet p;
    size_t len;
    const uint8_t *buf = decode_ok(CONNECT_FULL, &p, &len);
    const mqtt5_connect *c = &p.u.connect;
    assert_int_equal(p.type, MQTT5_CONNECT);
    assert_str_eq(c->protocol_name, "MQTT");
    assert_int_equal(c->protocol_version, 5);
    assert_true(c->clean_start);
    assert_int_equal(c->keep_alive, 30);
    assert_str_eq(c->client_id, "cid");

    const mqtt5_properties *pr = &c->properties;
    assert_int_equal(pr->present, MQTT5_PROP_BIT(0x11) | MQTT5_PROP_BIT(0x15) |
                                      MQTT5_PROP_BIT(0x16) | MQTT5_PROP_BIT(0x17) |
                                      MQTT5_PROP_BIT(0x19) | MQTT5_PROP_BIT(0x21) |
                                      MQTT5_PROP_BIT(0x22) | MQTT5_PROP_BIT(0x27));
    assert_int_equal(pr->session_expiry_interval, 3600);
    assert_str_eq(pr->authentication_method, "SCRAM");
    assert_bytes_hex(pr->authentication_data, "010203");
    assert_int_equal(pr->request_problem_information, 0);
    assert_int_equal(pr->request_response_information, 1);
    assert_int_equal(pr->receive_maximum, 20);
    assert_int_equal(pr->topic_alias_maximum, 10);
    assert_int_equal(pr->maximum_packet_size, 1048576);
    assert_null(pr->user_properties);
    assert_user_props(pr, "a", "b", "a", "c", NULL);
    assert_sub_ids(pr);
    /* raw = the property block after its length byte at offset 12. */
    assert_ptr_equal(pr->raw.ptr, buf + 13);
    assert_int_equal(pr->raw.len, 48);

    assert_true(c->has_will);
    assert_str_eq(c->will.topic, "w/t");
    assert_bytes_hex(c->will.payload, "6869");
    assert_int_equal(c->will.qos, 1);
    assert_true(c->will.retain);
    const mqtt5_properties *wp = &c->will.properties;
    assert_int_equal(wp->present, MQTT5_PROP_BIT(0x01) | MQTT5_PROP_BIT(0x02) |
                                      MQTT5_PROP_BIT(0x03) | MQTT5_PROP_BIT(0x08) |
                                      MQTT5_PROP_BIT(0x09) | MQTT5_PROP_BIT(0x18));
    assert_int_equal(wp->payload_format_indicator, 1);
    assert_int_equal(wp->message_expiry_interval, 60);
    assert_str_eq(wp->content_type, "txt");
    assert_str_eq(wp->response_topic, "r/t");
    assert_bytes_hex(wp->correlation_data, "cafe");
    assert_int_equal(wp->will_delay_interval, 5);
    assert_user_props(wp, "k", "v", NULL);
    assert_int_equal(wp->raw.len, 36);

    assert_true(c->has_username);
    assert_str_eq(c->username, "user");
    assert_true(c->has_password);
    assert_bytes_hex(c->password, "707764");

    /* Zero copy: the views are the bytes of the input, at their offsets. */
    assert_ptr_equal(c->client_id.ptr, buf + 63);
    assert_ptr_equal(c->password.ptr, buf + len - 3);
    assert_ptr_equal(c->username.ptr, buf + len - 3 - 2 - 4);
}

/* Will QoS 2 without retain, no username/password: flags 0x16. */
static void will_qos2_no_props(void **state)
{
    (void)state;
    static const char hex[] = "10 17 0004 4d515454 05"
                              "16"           /* will QoS 2, will, clean start */
                              "0000 00"      /* keep alive 0, no properties */
                              "0001 78"      /* client id "x" */
                              "00"           /* no will properties */
                              "0001 74"      /* will topic "t" */
                              "0003 000102"; /* will payload, binary */
    mqtt5_packet p = {.type = MQTT5_CONNECT};
    p.u.connect.clean_start = true;
    p.u.connect.client_id = S("x");
    p.u.connect.has_will = true;
    p.u.connect.will.topic = S("t");
    p.u.connect.will.payload = B("\x00\x01\x02");
    p.u.connect.will.qos = 2;
    assert_encodes(&p, hex);

    mqtt5_packet d;
    decode_ok(hex, &d, NULL);
    assert_true(d.u.connect.has_will);
    assert_int_equal(d.u.connect.will.qos, 2);
    assert_false(d.u.connect.will.retain);
    assert_int_equal(d.u.connect.will.properties.present, 0);
    assert_user_props(&d.u.connect.will.properties, NULL);
    assert_bytes_hex(d.u.connect.will.payload, "000102");
    assert_false(d.u.connect.has_username);
    assert_false(d.u.connect.has_password);
    assert_true(d.u.connect.clean_start);
}

/* MQTT 5 allows a password without a username (3.1.2.9): flags 0x42. Empty client id. */
static void password_without_username(void **state)
{
    (void)state;
    static const char hex[] = "10 12 0004 4d515454 05"
                              "42"           /* password, clean start */
                              "ffff 00"      /* keep alive 65535 */
                              "0000"         /* empty client id */
                              "0003 000102"; /* password (binary) */
    mqtt5_packet p = {.type = MQTT5_CONNECT};
    p.u.connect.clean_start = true;
    p.u.connect.keep_alive = 65535;
    p.u.connect.client_id = S("");
    p.u.connect.has_password = true;
    p.u.connect.password = B("\x00\x01\x02");
    assert_encodes(&p, hex);

    mqtt5_packet d;
    decode_ok(hex, &d, NULL);
    assert_true(d.u.connect.clean_start);
    assert_int_equal(d.u.connect.keep_alive, 65535);
    assert_int_equal(d.u.connect.client_id.len, 0);
    assert_false(d.u.connect.has_username);
    assert_true(d.u.connect.has_password);
    assert_bytes_hex(d.u.connect.password, "000102");
}

/* Username only (0x80); an empty password is still a password (0xc0). */
static void username_flags(void **state)
{
    (void)state;
    mqtt5_packet p = connect_min();
    p.u.connect.has_username = true;
    p.u.connect.username = S("u");
    assert_encodes(&p, "10 12 0004 4d515454 05 82 003c 00 0002 6331 0001 75");
    p.u.connect.has_password = true;
    p.u.connect.password = B("");
    assert_encodes(&p, "10 14 0004 4d515454 05 c2 003c 00 0002 6331 0001 75 0000");

    mqtt5_packet d;
    decode_ok("10 14 0004 4d515454 05 c2 003c 00 0002 6331 0001 75 0000", &d, NULL);
    assert_true(d.u.connect.has_username);
    assert_str_eq(d.u.connect.username, "u");
    assert_true(d.u.connect.has_password);
    assert_int_equal(d.u.connect.password.len, 0);
}

static void round_trips(void **state)
{
    (void)state;
    mqtt5_packet p = connect_full();
    assert_round_trip(&p);

    p.u.connect.has_will = false; /* will fields are then ignored */
    assert_round_trip(&p);

    p = connect_full();
    p.u.connect.has_username = false;
    p.u.connect.will.retain = false;
    p.u.connect.will.qos = 0;
    assert_round_trip(&p);

    p = connect_full();
    p.u.connect.properties = (mqtt5_properties){0};
    p.u.connect.will.properties = (mqtt5_properties){0};
    assert_round_trip(&p);

    p = connect_min();
    assert_round_trip(&p);
    p.u.connect.clean_start = false; /* resume a session */
    assert_encodes(&p, "10 0f 0004 4d515454 05 00 003c 00 0002 6331");
    assert_round_trip(&p);

    /* Large values that need every byte of their field. */
    p = connect_full();
    p.u.connect.properties.session_expiry_interval = 0xffffffffu;
    p.u.connect.properties.maximum_packet_size = 0xffffffffu;
    p.u.connect.properties.receive_maximum = 65535;
    p.u.connect.properties.topic_alias_maximum = 65535;
    p.u.connect.will.properties.will_delay_interval = 0xffffffffu;
    p.u.connect.keep_alive = 0xffff;
    assert_round_trip(&p);
}

/* Will, username and password are written only when their has_* flag is set. */
static void optional_fields_need_their_flag(void **state)
{
    (void)state;
    mqtt5_packet p = connect_min();
    p.u.connect.will.qos = 2;
    p.u.connect.will.retain = true;
    p.u.connect.will.topic = S("x");
    p.u.connect.username = S("u");
    p.u.connect.password = B("p");
    assert_encodes(&p, CONNECT_MIN);
}

/* A client id of 200 bytes: remaining length needs 2 bytes, views still inside the input. */
static void long_client_id(void **state)
{
    (void)state;
    char *id = test_alloc(200);
    memset(id, 'k', 200);
    mqtt5_packet p = connect_min();
    p.u.connect.client_id = (mqtt5_str){id, 200};
    size_t len;
    const uint8_t *enc = encode_ok(&p, &len);
    assert_int_equal(len, 1 + 2 + 13 + 200);
    assert_mem_hex(enc, 3, "10 d5 01"); /* 213 = 0xd5 0x01 */
    mqtt5_packet d;
    decode_buf_ok(enc, len, &d);
    assert_ptr_equal(d.u.connect.client_id.ptr, (const char *)enc + 3 + 13);
    assert_int_equal(d.u.connect.client_id.len, 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_minimal),
        cmocka_unit_test(decode_minimal),
        cmocka_unit_test(encode_full),
        cmocka_unit_test(decode_full),
        cmocka_unit_test(will_qos2_no_props),
        cmocka_unit_test(password_without_username),
        cmocka_unit_test(username_flags),
        cmocka_unit_test(round_trips),
        cmocka_unit_test(optional_fields_need_their_flag),
        cmocka_unit_test(long_client_id),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
