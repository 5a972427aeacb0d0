/*
 * test_client_iot.c - AWS IoT Core mode of the client core (options.iot_core) end to end: the
 * publish rate (a bucket of 100, 100 per second, full at CONNACK), the byte rate (512 KiB/s,
 * debt allowed for big packets) seen on the virtual clock and in want.wake_at, and the limits
 * checked at submit and at mqtt5_client_core_new. The unit checks of the limit functions are in
 * test_client_iot_core.c; this file goes through client_core.h only.
 */
#include "helpers/test_common.h"
#include "helpers/scripted_broker.h"

#define CHECK(b, cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            sb_dump(b);                                                                            \
            fail_msg(__VA_ARGS__);                                                                 \
        }                                                                                          \
    } while (0)

#define BYTES_PER_S 524288u /* 512 KiB */

static sb *new_iot_client(void)
{
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.iot_core = true;
    return sb_new(&o);
}

static uint64_t want_wake(sb *b)
{
    mqtt5_client_want w;
    mqtt5_client_core_want(sb_core(b), &w);
    return w.wake_at;
}

/* A test_alloc() string of `len` bytes: `prefix`, then 'a'. */
static mqtt5_str sized(const char *prefix, size_t len)
{
    size_t n = strlen(prefix);
    assert_true(len >= n);
    char *s = test_alloc(len ? len : 1);
    memcpy(s, prefix, n);
    memset(s + n, 'a', len - n);
    return (mqtt5_str){s, len};
}

static mqtt5_publish pub0(mqtt5_str topic, size_t payload_len)
{
    mqtt5_publish p = {0};
    p.topic = topic;
    uint8_t *payload = test_alloc(payload_len ? payload_len : 1);
    memset(payload, 'p', payload_len);
    p.payload = (mqtt5_bytes){payload, payload_len};
    return p;
}

/* ---- publish rate --------------------------------------------------------------------------- */

/* The packet handed out as number `i` (0-based since the start) is a PUBLISH at time `t`. */
#define expect_publish_at(b, i, t) expect_publish_at_(sb_at_((b), __FILE__, __LINE__), (i), (t))
static void expect_publish_at_(sb *b, size_t i, uint64_t t)
{
    const sb_packet *k = sb_expect_packet_(b, MQTT5_PUBLISH);
    CHECK(b, k->time == t, "publish #%zu handed out at t=%llu, want t=%llu", i + 1,
          (unsigned long long)k->time, (unsigned long long)t);
}

/* 150 QoS 0 publishes submitted at t=0: 100 go at once, then one every 10 ms (the 101st at
 * t=10, the 150th at t=500), and want.wake_at always names the next one. */
static void publish_rate_100_per_second(void **state)
{
    (void)state;
    sb *b = new_iot_client();
    sb_connect(b, NULL);
    mqtt5_publish p = pub0(S("a/b"), 4);
    for (size_t i = 0; i < 150; i++)
        assert_int_equal(sb_publish(b, &p, NULL, NULL), 0);
    sb_settle(b);
    for (size_t i = 0; i < 100; i++)
        expect_publish_at(b, i, 0);
    sb_expect_no_packet(b);
    assert_int_equal(sb_completion_count(b), 100);
    for (size_t i = 100; i < 150; i++) {
        uint64_t t = (i - 99) * 10;
        CHECK(b, sb_wake_at(b) == t && want_wake(b) == t, "wake_at %llu / %llu, want %llu",
              (unsigned long long)sb_wake_at(b), (unsigned long long)want_wake(b),
              (unsigned long long)t);
        sb_run_until(b, t - 1);
        sb_expect_no_packet(b);
        sb_run_until(b, t);
        expect_publish_at(b, i, t);
        sb_expect_no_packet(b);
    }
    assert_int_equal(sb_completion_count(b), 150);
    assert_int_equal(sb_now(b), 500);
    assert_true(sb_wake_at(b) > 500 + 1000); /* nothing throttled left (next: timers) */
    sb_expect_events(b, "");
    sb_free(b);
}

/* QoS 1 publishes count the same, resends included, and the bucket is full again at every
 * CONNACK. */
static void publish_bucket_full_again_at_connack(void **state)
{
    (void)state;
    sb *b = new_iot_client();
    sb_connect(b, NULL);
    mqtt5_publish p = pub0(S("a/b"), 1);
    p.qos = 1;
    for (size_t i = 0; i < 120; i++)
        assert_int_equal(sb_publish(b, &p, NULL, NULL), 0);
    sb_settle(b);
    for (size_t i = 0; i < 100; i++)
        expect_publish_at(b, i, 0);
    sb_expect_no_packet(b);
    assert_int_equal(sb_wake_at(b), 10);
    sb_run_until(b, 25); /* two more, at 10 and 20 */
    expect_publish_at(b, 100, 10);
    expect_publish_at(b, 101, 20);
    sb_expect_no_packet(b);
    sb_close(b, MQTT5_ERR_IO);
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_IO");
    uint64_t at = sb_wake_at(b);
    sb_run_until(b, at);
    sb_expect_events(b, "ATTEMPTING_CONNECT");
    sb_expect_packet(b, MQTT5_CONNECT);
    sb_connack(b, 0x00, false, NULL);
    sb_expect_events(b, "CONNECTION_SUCCESS");
    /* 120 unacked publishes resent: a full bucket again, so 100 at once, then 10 ms apart */
    for (size_t i = 0; i < 100; i++)
        expect_publish_at(b, i, at);
    sb_expect_no_packet(b);
    assert_int_equal(sb_wake_at(b), at + 10);
    sb_run_until(b, at + 200);
    for (size_t i = 100; i < 120; i++)
        expect_publish_at(b, i, at + (i - 99) * 10);
    sb_expect_no_packet(b);
    sb_free(b);
}

/* ---- byte rate ------------------------------------------------------------------------------ */

/* Eight publishes with the largest payload IoT Core takes (128 KiB): the 512 KiB bucket lets the
 * first four go at once; each later one goes when the bucket is back to one whole byte token:
 * at ceil((sent - 524287) * 1000 / 524288) ms, `sent` the bytes handed out before it. */
static void byte_rate_512_kib_per_second(void **state)
{
    (void)state;
    sb *b = new_iot_client();
    sb_connect(b, NULL);
    mqtt5_publish p = pub0(S("t/big"), 131072);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(sb_publish(b, &p, NULL, NULL), 0);
    sb_settle(b);
    uint64_t sent = 0;
    size_t i = 0;
    for (; i < 4; i++) {
        const sb_packet *k = sb_expect_packet(b, MQTT5_PUBLISH);
        assert_int_equal(k->time, 0);
        assert_int_equal(k->p.u.publish.payload.len, 131072);
        sent += k->len;
    }
    sb_expect_no_packet(b);
    for (; i < 8; i++) {
        uint64_t t = (sent * 1000 - 524287u * 1000 + BYTES_PER_S - 1) / BYTES_PER_S;
        CHECK(b, sb_wake_at(b) == t && want_wake(b) == t,
              "publish #%zu: wake_at %llu / %llu, want %llu", i + 1,
              (unsigned long long)sb_wake_at(b), (unsigned long long)want_wake(b),
              (unsigned long long)t);
        sb_run_until(b, t - 1);
        sb_expect_no_packet(b);
        sb_run_until(b, t);
        const sb_packet *k = sb_expect_packet(b, MQTT5_PUBLISH);
        CHECK(b, k->time == t, "publish #%zu at %llu, want %llu", i + 1,
              (unsigned long long)k->time, (unsigned long long)t);
        sent += k->len;
    }
    /* about 1 MiB in about one second */
    assert_true(sent > 1048576);
    assert_true(sb_now(b) >= 750 && sb_now(b) <= 1000);
    assert_int_equal(sb_completion_count(b), 8);
    sb_free(b);
}

/* ---- limits at submit ----------------------------------------------------------------------- */

#define expect_limit(b, rc, field) expect_limit_(sb_at_((b), __FILE__, __LINE__), (rc), (field))
static void expect_limit_(sb *b, int rc, const char *field)
{
    CHECK(b, rc == MQTT5_ERR_IOT_CORE_LIMIT, "got %s, want MQTT5_ERR_IOT_CORE_LIMIT",
          mqtt5_error_name(rc));
    assert_err(sb_status(b)->error, MQTT5_ERR_IOT_CORE_LIMIT);
    assert_field(sb_status(b), field);
}

static int publish_topic(sb *b, mqtt5_str topic, uint8_t qos)
{
    mqtt5_publish p = pub0(topic, 1);
    p.qos = qos;
    return sb_publish(b, &p, NULL, NULL);
}

static void topic_limits(sb *b, uint8_t qos)
{
    assert_int_equal(publish_topic(b, sized("t/", 256), qos), 0);
    expect_limit(b, publish_topic(b, sized("t/", 257), qos), "topic");
    assert_int_equal(publish_topic(b, S("1/2/3/4/5/6/7/8"), qos), 0); /* 7 slashes */
    expect_limit(b, publish_topic(b, S("1/2/3/4/5/6/7/8/9"), qos), "topic");
    /* Basic Ingest: the $aws/rules/<rule>/ prefix counts for neither */
    assert_int_equal(publish_topic(b, S("$aws/rules/r/1/2/3/4/5/6/7/8"), qos), 0);
    expect_limit(b, publish_topic(b, S("$aws/rules/r/1/2/3/4/5/6/7/8/9"), qos), "topic");
    assert_int_equal(publish_topic(b, sized("$aws/rules/rule/", 16 + 256), qos), 0);
    expect_limit(b, publish_topic(b, sized("$aws/rules/rule/", 16 + 257), qos), "topic");
    /* other $aws topics count in full */
    expect_limit(b, publish_topic(b, S("$aws/things/t/1/2/3/4/5/6"), qos), "topic");
}

static void payload_limits(sb *b, uint8_t qos)
{
    mqtt5_publish p = pub0(S("t/p"), 131072);
    p.qos = qos;
    assert_int_equal(sb_publish(b, &p, NULL, NULL), 0);
    p = pub0(S("t/p"), 131073);
    p.qos = qos;
    expect_limit(b, sb_publish(b, &p, NULL, NULL), "payload");
}

static mqtt5_subscription FILTERS[9];
static mqtt5_str UNSUB_FILTERS[9];

static void filter_limits(sb *b)
{
    static const char *const names[9] = {"f/1", "f/2", "f/3", "f/4", "f/5",
                                         "f/6", "f/7", "f/8", "f/9"};
    for (size_t i = 0; i < 9; i++) {
        FILTERS[i] = (mqtt5_subscription){(mqtt5_str){names[i], 3}, 1, false, false, 0};
        UNSUB_FILTERS[i] = (mqtt5_str){names[i], 3};
    }
    mqtt5_subscribe s = {0};
    s.subscriptions = FILTERS;
    s.subscription_count = 8;
    assert_int_equal(sb_subscribe(b, &s, NULL, NULL), 0);
    s.subscription_count = 9;
    expect_limit(b, sb_subscribe(b, &s, NULL, NULL), "subscriptions");

    mqtt5_unsubscribe u = {0};
    u.topic_filters = UNSUB_FILTERS;
    u.topic_filter_count = 8;
    assert_int_equal(sb_unsubscribe(b, &u, NULL, NULL), 0);
    u.topic_filter_count = 9;
    expect_limit(b, sb_unsubscribe(b, &u, NULL, NULL), "unsubscriptions");

    /* each filter obeys the topic limits ($share/<group>/ is not counted) */
    mqtt5_subscription deep = {S("1/2/3/4/5/6/7/8/+"), 1, false, false, 0};
    s.subscriptions = &deep;
    s.subscription_count = 1;
    expect_limit(b, sb_subscribe(b, &s, NULL, NULL), "subscriptions.topic");
    deep.topic_filter = S("$share/g/1/2/3/4/5/6/7/#");
    assert_int_equal(sb_subscribe(b, &s, NULL, NULL), 0);
    deep.topic_filter = sized("f/", 257);
    expect_limit(b, sb_subscribe(b, &s, NULL, NULL), "subscriptions.topic");
}

/* Connected: every limit refuses at submit with the field; what is within the limits goes. */
static void limits_at_submit_connected(void **state)
{
    (void)state;
    sb *b = new_iot_client();
    sb_connect(b, NULL);
    topic_limits(b, 0);
    payload_limits(b, 0);
    filter_limits(b);
    sb_settle(b);
    sb_expect_events(b, "");
    sb_free(b);
}

/* Offline the limits still come first: IOT_CORE_LIMIT, not a queued operation. */
static void limits_at_submit_offline(void **state)
{
    (void)state;
    sb *b = new_iot_client();
    topic_limits(b, 1);
    payload_limits(b, 1);
    filter_limits(b);
    sb_free(b);
}

/* Without iot_core none of this applies. */
static void no_limits_without_iot_core(void **state)
{
    (void)state;
    sb *b = sb_new(NULL);
    sb_connect(b, NULL);
    assert_int_equal(publish_topic(b, sized("t/", 257), 0), 0);
    assert_int_equal(publish_topic(b, S("1/2/3/4/5/6/7/8/9"), 0), 0);
    mqtt5_publish p = pub0(S("t/p"), 131073);
    assert_int_equal(sb_publish(b, &p, NULL, NULL), 0);
    mqtt5_subscription f[9];
    for (size_t i = 0; i < 9; i++)
        f[i] = (mqtt5_subscription){S("f/x"), 0, false, false, 0};
    mqtt5_subscribe s = {0};
    s.subscriptions = f;
    s.subscription_count = 9;
    assert_int_equal(sb_subscribe(b, &s, NULL, NULL), 0);
    sb_settle(b);
    sb_free(b);
}

/* ---- client id at creation ------------------------------------------------------------------ */

static void noop_lifecycle(void *u, const mqtt5_lifecycle_event *e)
{
    (void)u;
    (void)e;
}

static void noop_publish(void *u, const mqtt5_inbound_publish *m)
{
    (void)u;
    (void)m;
}

static void noop_complete(void *u, const mqtt5_op_completion *d)
{
    (void)u;
    (void)d;
}

static int new_with_client_id(size_t len, bool iot_core, mqtt5_codec_status *st)
{
    test_allocator ta;
    test_allocator_init(&ta);
    mqtt5_client_core_options o;
    mqtt5_client_core_options_init(&o);
    o.allocator = test_allocator_get(&ta);
    o.callbacks = (mqtt5_client_core_callbacks){
        .on_lifecycle = noop_lifecycle, .on_publish = noop_publish, .on_complete = noop_complete};
    o.connect.client_id = sized("id-", len);
    o.iot_core = iot_core;
    mqtt5_client_core *core = NULL;
    *st = (mqtt5_codec_status){0};
    int rc = mqtt5_client_core_new(&o, &core, st);
    if (rc == 0) {
        assert_non_null(core);
        assert_err(mqtt5_client_core_destroy(core), MQTT5_OK);
    } else {
        assert_null(core);
    }
    assert_no_leaks(&ta);
    return rc;
}

static void client_id_limit_at_new(void **state)
{
    (void)state;
    mqtt5_codec_status st;
    assert_err(new_with_client_id(128, true, &st), MQTT5_OK);
    assert_err(new_with_client_id(129, true, &st), MQTT5_ERR_IOT_CORE_LIMIT);
    assert_err(st.error, MQTT5_ERR_IOT_CORE_LIMIT);
    assert_field(&st, "clientId");
    assert_err(new_with_client_id(129, false, &st), MQTT5_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(publish_rate_100_per_second),
        cmocka_unit_test(publish_bucket_full_again_at_connack),
        cmocka_unit_test(byte_rate_512_kib_per_second),
        cmocka_unit_test(limits_at_submit_connected),
        cmocka_unit_test(limits_at_submit_offline),
        cmocka_unit_test(no_limits_without_iot_core),
        cmocka_unit_test(client_id_limit_at_new),
    };
    return cmocka_run_group_tests(tests, NULL, sb_group_teardown);
}
