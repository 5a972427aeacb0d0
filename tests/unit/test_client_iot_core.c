/*
 * test_client_iot_core.c - AWS IoT Core limits (core/client_iot_core.h): topic and filter size
 * and depth with the Basic Ingest and shared-subscription prefixes, client id size, payload size,
 * filters per SUBSCRIBE / UNSUBSCRIBE (hand-built and decoded packets), and the status fields.
 */
#include "helpers/test_common.h"

#include "core/client_iot_core.h"

/* A test_alloc() string: `prefix` followed by 'a' up to `len` bytes in total. */
static mqtt5_str sized(const char *prefix, size_t len)
{
    size_t n = strlen(prefix);
    assert_true(len >= n);
    char *s = test_alloc(len);
    memcpy(s, prefix, n);
    memset(s + n, 'a', len - n);
    return (mqtt5_str){s, len};
}

#define OK_TOPIC(lit) assert_err(client_iot_core_check_topic(S(lit), "topic", NULL), MQTT5_OK)
#define BAD_TOPIC(lit)                                                                             \
    assert_err(client_iot_core_check_topic(S(lit), "topic", NULL), MQTT5_ERR_IOT_CORE_LIMIT)
#define OK_FILTER(lit) assert_err(client_iot_core_check_filter(S(lit), "f", NULL), MQTT5_OK)
#define BAD_FILTER(lit)                                                                            \
    assert_err(client_iot_core_check_filter(S(lit), "f", NULL), MQTT5_ERR_IOT_CORE_LIMIT)

static void assert_limit_status(const mqtt5_codec_status *st, const char *field)
{
    assert_err(st->error, MQTT5_ERR_IOT_CORE_LIMIT);
    assert_non_null(st->field);
    assert_string_equal(st->field, field);
    assert_non_null(st->detail);
}

static void topic_size(void **state)
{
    (void)state;
    mqtt5_codec_status st = {0};
    assert_err(client_iot_core_check_topic(sized("", 256), "topic", &st), MQTT5_OK);
    assert_err(st.error, MQTT5_OK);
    assert_err(client_iot_core_check_topic(sized("", 257), "will.topic", &st),
               MQTT5_ERR_IOT_CORE_LIMIT);
    assert_limit_status(&st, "will.topic"); /* the caller's field name */
    assert_err(client_iot_core_check_topic(sized("", 70000), "topic", NULL),
               MQTT5_ERR_IOT_CORE_LIMIT);
    OK_TOPIC("");
}

static void topic_depth(void **state)
{
    (void)state;
    OK_TOPIC("1/2/3/4/5/6/7/8"); /* 8 levels, 7 slashes */
    BAD_TOPIC("1/2/3/4/5/6/7/8/9");
    OK_TOPIC("///////");
    BAD_TOPIC("////////");
    OK_TOPIC("/a/b/c/d/e/f/g"); /* a leading slash is a level */
    BAD_TOPIC("a/b/c/d/e/f/g/h/");
    mqtt5_codec_status st = {0};
    assert_err(client_iot_core_check_topic(S("1/2/3/4/5/6/7/8/9"), "topic", &st),
               MQTT5_ERR_IOT_CORE_LIMIT);
    assert_limit_status(&st, "topic");
}

static void basic_ingest_prefix_not_counted(void **state)
{
    (void)state;
    OK_TOPIC("$aws/rules/MyRule/1/2/3/4/5/6/7/8");
    BAD_TOPIC("$aws/rules/MyRule/1/2/3/4/5/6/7/8/9");
    assert_err(client_iot_core_check_topic(sized("$aws/rules/rule_name/", 21 + 256), "t", NULL),
               MQTT5_OK);
    assert_err(client_iot_core_check_topic(sized("$aws/rules/rule_name/", 21 + 257), "t", NULL),
               MQTT5_ERR_IOT_CORE_LIMIT);
    /* not a Basic Ingest prefix: counted in full */
    BAD_TOPIC("$aws/rules//1/2/3/4/5/6/7");    /* empty rule name */
    BAD_TOPIC("$AWS/rules/r/1/2/3/4/5/6/7");   /* case matters */
    BAD_TOPIC("$aws/things/t/1/2/3/4/5/6/7");  /* other $aws topics count */
    BAD_TOPIC("x/$aws/rules/r/1/2/3/4/5/6/7"); /* only as a prefix */
    OK_TOPIC("$aws/rules/r");                  /* no trailing slash: nothing to strip */
    OK_TOPIC("$aws/rules/r/");
    assert_err(client_iot_core_check_topic(sized("$aws/rules/r", 256), "t", NULL), MQTT5_OK);
    assert_err(client_iot_core_check_topic(sized("$aws/rules/r", 257), "t", NULL),
               MQTT5_ERR_IOT_CORE_LIMIT);
}

static void filter_limits(void **state)
{
    (void)state;
    OK_FILTER("a/+/c/d/e/f/g/#");
    BAD_FILTER("a/+/c/d/e/f/g/h/#");
    OK_FILTER("$share/group/1/2/3/4/5/6/7/8"); /* shared prefix not counted */
    BAD_FILTER("$share/group/1/2/3/4/5/6/7/8/9");
    OK_FILTER("$share/g/$aws/rules/r/1/2/3/4/5/6/7/8"); /* both prefixes skipped */
    OK_FILTER("$aws/rules/r/1/2/3/4/5/6/7/#");
    BAD_FILTER("$share//1/2/3/4/5/6/7/8"); /* empty group: not a shared prefix */
    assert_err(client_iot_core_check_filter(sized("$share/grp/", 11 + 256), "f", NULL), MQTT5_OK);
    assert_err(client_iot_core_check_filter(sized("$share/grp/", 11 + 257), "f", NULL),
               MQTT5_ERR_IOT_CORE_LIMIT);
    assert_err(client_iot_core_check_filter(sized("", 257), "f", NULL), MQTT5_ERR_IOT_CORE_LIMIT);
    mqtt5_codec_status st = {0};
    assert_err(client_iot_core_check_filter(S("a/b/c/d/e/f/g/h/i"), "subscriptions.topic", &st),
               MQTT5_ERR_IOT_CORE_LIMIT);
    assert_limit_status(&st, "subscriptions.topic");
}

static void client_id_size(void **state)
{
    (void)state;
    mqtt5_codec_status st = {0};
    assert_err(client_iot_core_check_client_id(sized("", 128), &st), MQTT5_OK);
    assert_err(client_iot_core_check_client_id(S(""), &st), MQTT5_OK);
    assert_err(st.error, MQTT5_OK);
    assert_err(client_iot_core_check_client_id(sized("", 129), &st), MQTT5_ERR_IOT_CORE_LIMIT);
    assert_limit_status(&st, "clientId");
    assert_err(client_iot_core_check_client_id(sized("", 129), NULL), MQTT5_ERR_IOT_CORE_LIMIT);
}

static void publish_limits(void **state)
{
    (void)state;
    mqtt5_publish p = {.qos = 1, .topic = S("dt/sensor/1")};
    mqtt5_codec_status st = {0};
    uint8_t *payload = test_alloc(131073);
    memset(payload, 0x5a, 131073);
    p.payload = (mqtt5_bytes){payload, 131072}; /* 128 KiB */
    assert_err(client_iot_core_check_publish(&p, &st), MQTT5_OK);
    p.payload.len = 131073;
    assert_err(client_iot_core_check_publish(&p, &st), MQTT5_ERR_IOT_CORE_LIMIT);
    assert_limit_status(&st, "payload");

    st = (mqtt5_codec_status){0};
    p.payload.len = 10;
    p.topic = S("1/2/3/4/5/6/7/8/9");
    assert_err(client_iot_core_check_publish(&p, &st), MQTT5_ERR_IOT_CORE_LIMIT);
    assert_limit_status(&st, "topic");

    st = (mqtt5_codec_status){0};
    p.topic = sized("", 257);
    p.payload.len = 131073; /* both too big: the topic is reported */
    assert_err(client_iot_core_check_publish(&p, &st), MQTT5_ERR_IOT_CORE_LIMIT);
    assert_limit_status(&st, "topic");

    p.topic = (mqtt5_str){NULL, 0}; /* alias only */
    p.payload = (mqtt5_bytes){NULL, 0};
    assert_err(client_iot_core_check_publish(&p, NULL), MQTT5_OK);
}

static void first_error_wins(void **state)
{
    (void)state;
    mqtt5_codec_status st = {.error = MQTT5_ERR_INVALID_UTF8, .field = "earlier"};
    assert_err(client_iot_core_check_client_id(sized("", 200), &st), MQTT5_ERR_IOT_CORE_LIMIT);
    assert_err(st.error, MQTT5_ERR_INVALID_UTF8);
    assert_string_equal(st.field, "earlier");
}

static mqtt5_subscription *subs(size_t n)
{
    mqtt5_subscription *v = test_alloc(n * sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        char *f = test_alloc(16);
        int len = snprintf(f, 16, "dt/%zu/#", i);
        v[i] = (mqtt5_subscription){{f, (size_t)len}, 1, false, false, 0};
    }
    return v;
}

static void subscribe_limits(void **state)
{
    (void)state;
    mqtt5_subscribe s = {.packet_id = 1, .subscriptions = subs(9), .subscription_count = 8};
    mqtt5_codec_status st = {0};
    assert_err(client_iot_core_check_subscribe(&s, &st), MQTT5_OK);
    s.subscription_count = 9;
    assert_err(client_iot_core_check_subscribe(&s, &st), MQTT5_ERR_IOT_CORE_LIMIT);
    assert_limit_status(&st, "subscriptions");

    mqtt5_subscription *v = subs(3);
    v[2].topic_filter = S("a/b/c/d/e/f/g/h/#");
    s = (mqtt5_subscribe){.packet_id = 1, .subscriptions = v, .subscription_count = 3};
    st = (mqtt5_codec_status){0};
    assert_err(client_iot_core_check_subscribe(&s, &st), MQTT5_ERR_IOT_CORE_LIMIT);
    assert_limit_status(&st, "subscriptions.topic");
    assert_err(client_iot_core_check_subscribe(&s, NULL), MQTT5_ERR_IOT_CORE_LIMIT);
}

/* The checks read repeated items through the iterators, so decoded packets work too. */
static void decoded_subscribe_and_unsubscribe(void **state)
{
    (void)state;
    mqtt5_packet p = {.type = MQTT5_SUBSCRIBE};
    p.u.subscribe.packet_id = 7;
    p.u.subscribe.subscriptions = subs(9);
    p.u.subscribe.subscription_count = 9;
    size_t len;
    uint8_t *wire = encode_ok(&p, &len);
    mqtt5_packet d;
    size_t used;
    assert_err(mqtt5_packet_decode(wire, len, 0, &d, &used, NULL), MQTT5_OK);
    assert_null(d.u.subscribe.subscriptions);
    mqtt5_codec_status st = {0};
    assert_err(client_iot_core_check_subscribe(&d.u.subscribe, &st), MQTT5_ERR_IOT_CORE_LIMIT);
    assert_limit_status(&st, "subscriptions");

    p.u.subscribe.subscription_count = 8;
    wire = encode_ok(&p, &len);
    assert_err(mqtt5_packet_decode(wire, len, 0, &d, &used, NULL), MQTT5_OK);
    assert_err(client_iot_core_check_subscribe(&d.u.subscribe, NULL), MQTT5_OK);

    mqtt5_str *filters = test_alloc(9 * sizeof(*filters));
    for (size_t i = 0; i < 9; i++)
        filters[i] = p.u.subscribe.subscriptions[i].topic_filter;
    mqtt5_packet u = {.type = MQTT5_UNSUBSCRIBE};
    u.u.unsubscribe.packet_id = 8;
    u.u.unsubscribe.topic_filters = filters;
    u.u.unsubscribe.topic_filter_count = 9;
    wire = encode_ok(&u, &len);
    assert_err(mqtt5_packet_decode(wire, len, 0, &d, &used, NULL), MQTT5_OK);
    assert_null(d.u.unsubscribe.topic_filters);
    st = (mqtt5_codec_status){0};
    assert_err(client_iot_core_check_unsubscribe(&d.u.unsubscribe, &st), MQTT5_ERR_IOT_CORE_LIMIT);
    assert_limit_status(&st, "unsubscriptions");
}

static void unsubscribe_limits(void **state)
{
    (void)state;
    mqtt5_str *f = test_alloc(9 * sizeof(*f));
    for (size_t i = 0; i < 9; i++)
        f[i] = S("dt/+/status");
    mqtt5_unsubscribe u = {.packet_id = 3, .topic_filters = f, .topic_filter_count = 8};
    mqtt5_codec_status st = {0};
    assert_err(client_iot_core_check_unsubscribe(&u, &st), MQTT5_OK);
    u.topic_filter_count = 9;
    assert_err(client_iot_core_check_unsubscribe(&u, &st), MQTT5_ERR_IOT_CORE_LIMIT);
    assert_limit_status(&st, "unsubscriptions");

    f[1] = sized("", 300);
    u.topic_filter_count = 2;
    st = (mqtt5_codec_status){0};
    assert_err(client_iot_core_check_unsubscribe(&u, &st), MQTT5_ERR_IOT_CORE_LIMIT);
    assert_limit_status(&st, "unsubscriptions");
    f[1] = S("$share/g/1/2/3/4/5/6/7/8");
    assert_err(client_iot_core_check_unsubscribe(&u, NULL), MQTT5_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(topic_size),
        cmocka_unit_test(topic_depth),
        cmocka_unit_test(basic_ingest_prefix_not_counted),
        cmocka_unit_test(filter_limits),
        cmocka_unit_test(client_id_size),
        cmocka_unit_test(publish_limits),
        cmocka_unit_test(first_error_wins),
        cmocka_unit_test(subscribe_limits),
        cmocka_unit_test(decoded_subscribe_and_unsubscribe),
        cmocka_unit_test(unsubscribe_limits),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
