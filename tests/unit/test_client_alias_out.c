/*
 * test_client_alias_out.c - outbound topic aliases of the client core as they appear on the wire
 * (client_core.h, design section 4): LRU first use (topic + alias), later uses (alias only),
 * eviction order, short topics never aliased, the server's smaller maximum, reset at every
 * CONNACK; MANUAL aliases; DISABLED and refused user aliases. Exact bytes through the scripted
 * broker; it must not reach into the core's internals (core/client_alias.h has its own tests).
 */
#include "helpers/test_common.h"
#include "helpers/scripted_broker.h"

/* QoS 0 PUBLISH, payload "x": "topic/a" (7 bytes) with topic + alias N, alias only, no alias. */
#define TOPIC_A "0007 746f7069632f61"
#define TOPIC_B "0007 746f7069632f62"
#define TOPIC_C "0007 746f7069632f63"
#define WITH_ALIAS(topic, alias) "30 0e " topic " 03 23" alias " 78"
#define ALIAS_ONLY(alias) "30 07 0000 03 23" alias " 78"
#define NO_ALIAS(topic) "30 0b " topic " 00 78"

static mqtt5_properties alias_maximum(uint16_t n)
{
    mqtt5_properties p;
    memset(&p, 0, sizeof(p));
    MQTT5_PROPS_SET(&p, MQTT5_PROP_TOPIC_ALIAS_MAXIMUM);
    p.topic_alias_maximum = n;
    return p;
}

static sb *connected(mqtt5_alias_out mode, uint16_t cache, const mqtt5_properties *connack)
{
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.alias_out = mode;
    o.alias_out_cache = cache;
    sb *b = sb_new(&o);
    sb_connect(b, connack);
    return b;
}

/* Submits a QoS `qos` publish of "x" to `topic` with user alias `alias` (0 = none). */
static int publish_alias(sb *b, const char *topic, uint8_t qos, uint16_t alias)
{
    mqtt5_publish p;
    memset(&p, 0, sizeof(p));
    p.topic = (mqtt5_str){topic, strlen(topic)};
    p.payload = (mqtt5_bytes){(const uint8_t *)"x", 1};
    p.qos = qos;
    if (alias) {
        MQTT5_PROPS_SET(&p.properties, MQTT5_PROP_TOPIC_ALIAS);
        p.properties.topic_alias = alias;
    }
    return sb_publish(b, &p, NULL, NULL);
}

#define publish(b, topic) assert_int_equal(publish_alias((b), (topic), 0, 0), 0)

/* Drops the connection and connects again after the backoff, the CONNACK carrying `connack`. */
static void reconnect(sb *b, const mqtt5_properties *connack)
{
    sb_close(b, 0);
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_CONNECTION_CLOSED");
    sb_advance(b, 1000);
    sb_expect_events(b, "ATTEMPTING_CONNECT");
    sb_expect_packet(b, MQTT5_CONNECT);
    sb_connack(b, 0x00, false, connack);
    sb_expect_events(b, "CONNECTION_SUCCESS");
}

/* ---- LRU ---------------------------------------------------------------------------------- */

static void lru_first_use_then_alias_only(void **state)
{
    (void)state;
    mqtt5_properties ca = alias_maximum(10);
    sb *b = connected(MQTT5_ALIAS_OUT_LRU, 2, &ca);
    assert_int_equal(sb_last_event(b)->settings.topic_alias_max_to_server, 2);
    publish(b, "topic/a");
    sb_settle(b);
    sb_expect_hex(b, WITH_ALIAS(TOPIC_A, "0001"));
    publish(b, "topic/a");
    publish(b, "topic/a");
    sb_settle(b);
    sb_expect_hex(b, ALIAS_ONLY("0001"));
    sb_expect_hex(b, ALIAS_ONLY("0001"));
    sb_expect_no_packet(b);
    assert_int_equal(sb_completion_count(b), 3);
    sb_free(b);
}

static void lru_eviction_order(void **state)
{
    (void)state;
    mqtt5_properties ca = alias_maximum(10);
    sb *b = connected(MQTT5_ALIAS_OUT_LRU, 2, &ca);
    static const char *const topics[] = {"topic/a", "topic/a", "topic/b", "topic/c",
                                         "topic/a", "topic/c", "topic/b", "topic/a"};
    for (size_t i = 0; i < COUNT_OF(topics); i++)
        publish(b, topics[i]);
    sb_settle(b);
    sb_expect_hex(b, WITH_ALIAS(TOPIC_A, "0001")); /* a -> 1 */
    sb_expect_hex(b, ALIAS_ONLY("0001"));          /* a hit */
    sb_expect_hex(b, WITH_ALIAS(TOPIC_B, "0002")); /* b -> 2; LRU order b, a */
    sb_expect_hex(b, WITH_ALIAS(TOPIC_C, "0001")); /* full: a evicted, c -> 1 */
    sb_expect_hex(b, WITH_ALIAS(TOPIC_A, "0002")); /* b evicted, a -> 2 */
    sb_expect_hex(b, ALIAS_ONLY("0001"));          /* c hit; order c, a */
    sb_expect_hex(b, WITH_ALIAS(TOPIC_B, "0002")); /* a evicted, b -> 2; order b, c */
    sb_expect_hex(b, WITH_ALIAS(TOPIC_A, "0001")); /* c evicted, a -> 1 */
    sb_expect_no_packet(b);
    sb_free(b);
}

/* Aliases follow wire order, also when publishes spread over several small batches. */
static void lru_across_batches(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.alias_out = MQTT5_ALIAS_OUT_LRU;
    o.alias_out_cache = 2;
    o.write_batch_size = 64;
    sb *b = sb_new(&o);
    mqtt5_properties ca = alias_maximum(10);
    sb_connect(b, &ca);
    size_t before = sb_batches(b);
    static const char *const topics[] = {"topic/a", "topic/b", "topic/a", "topic/c", "topic/b",
                                         "topic/b", "topic/a", "topic/c", "topic/c", "topic/a"};
    for (size_t i = 0; i < COUNT_OF(topics); i++)
        publish(b, topics[i]);
    sb_settle(b);
    assert_true(sb_batches(b) >= before + 2);
    sb_expect_hex(b, WITH_ALIAS(TOPIC_A, "0001")); /* order a */
    sb_expect_hex(b, WITH_ALIAS(TOPIC_B, "0002")); /* b, a */
    sb_expect_hex(b, ALIAS_ONLY("0001"));          /* a, b */
    sb_expect_hex(b, WITH_ALIAS(TOPIC_C, "0002")); /* b evicted: c, a */
    sb_expect_hex(b, WITH_ALIAS(TOPIC_B, "0001")); /* a evicted: b, c */
    sb_expect_hex(b, ALIAS_ONLY("0001"));          /* b, c */
    sb_expect_hex(b, WITH_ALIAS(TOPIC_A, "0002")); /* c evicted: a, b */
    sb_expect_hex(b, WITH_ALIAS(TOPIC_C, "0001")); /* b evicted: c, a */
    sb_expect_hex(b, ALIAS_ONLY("0001"));          /* c, a */
    sb_expect_hex(b, ALIAS_ONLY("0002"));          /* a, c */
    sb_expect_no_packet(b);
    sb_free(b);
}

static void lru_short_topics_never_aliased(void **state)
{
    (void)state;
    mqtt5_properties ca = alias_maximum(10);
    sb *b = connected(MQTT5_ALIAS_OUT_LRU, 5, &ca);
    publish(b, "a/b");
    publish(b, "a/b");
    publish(b, "abcd");
    publish(b, "abcd");
    publish(b, "a/b");
    sb_settle(b);
    sb_expect_hex(b, "30 07 0003 612f62 00 78");
    sb_expect_hex(b, "30 07 0003 612f62 00 78");
    sb_expect_hex(b, "30 0b 0004 61626364 03 230001 78"); /* 4 bytes: aliased, takes alias 1 */
    sb_expect_hex(b, ALIAS_ONLY("0001"));
    sb_expect_hex(b, "30 07 0003 612f62 00 78");
    sb_expect_no_packet(b);
    sb_free(b);
}

static void lru_server_maximum_smaller_than_cache(void **state)
{
    (void)state;
    mqtt5_properties ca = alias_maximum(1);
    sb *b = connected(MQTT5_ALIAS_OUT_LRU, 25, &ca);
    assert_int_equal(sb_last_event(b)->settings.topic_alias_max_to_server, 1);
    publish(b, "topic/a");
    publish(b, "topic/a");
    publish(b, "topic/b");
    publish(b, "topic/a");
    publish(b, "topic/a");
    sb_settle(b);
    sb_expect_hex(b, WITH_ALIAS(TOPIC_A, "0001"));
    sb_expect_hex(b, ALIAS_ONLY("0001"));
    sb_expect_hex(b, WITH_ALIAS(TOPIC_B, "0001")); /* never alias 2: the server allows 1 */
    sb_expect_hex(b, WITH_ALIAS(TOPIC_A, "0001"));
    sb_expect_hex(b, ALIAS_ONLY("0001"));
    sb_expect_no_packet(b);
    sb_free(b);
}

static void lru_without_server_maximum_no_alias(void **state)
{
    (void)state;
    sb *b = connected(MQTT5_ALIAS_OUT_LRU, 25, NULL);
    assert_int_equal(sb_last_event(b)->settings.topic_alias_max_to_server, 0);
    publish(b, "topic/a");
    publish(b, "topic/a");
    sb_settle(b);
    sb_expect_hex(b, NO_ALIAS(TOPIC_A));
    sb_expect_hex(b, NO_ALIAS(TOPIC_A));
    mqtt5_properties zero = alias_maximum(0);
    reconnect(b, &zero);
    publish(b, "topic/a");
    publish(b, "topic/a");
    sb_settle(b);
    sb_expect_hex(b, NO_ALIAS(TOPIC_A));
    sb_expect_hex(b, NO_ALIAS(TOPIC_A));
    sb_free(b);
}

static void lru_reset_after_reconnect(void **state)
{
    (void)state;
    mqtt5_properties ca = alias_maximum(10);
    sb *b = connected(MQTT5_ALIAS_OUT_LRU, 2, &ca);
    publish(b, "topic/a");
    publish(b, "topic/b");
    publish(b, "topic/a");
    sb_settle(b);
    sb_expect_hex(b, WITH_ALIAS(TOPIC_A, "0001"));
    sb_expect_hex(b, WITH_ALIAS(TOPIC_B, "0002"));
    sb_expect_hex(b, ALIAS_ONLY("0001"));
    reconnect(b, &ca);
    publish(b, "topic/b");
    publish(b, "topic/a");
    publish(b, "topic/b");
    sb_settle(b);
    sb_expect_hex(b, WITH_ALIAS(TOPIC_B, "0001")); /* the topic again: bindings were reset */
    sb_expect_hex(b, WITH_ALIAS(TOPIC_A, "0002"));
    sb_expect_hex(b, ALIAS_ONLY("0001"));
    /* a server without aliases on the next connection: none are used */
    reconnect(b, NULL);
    publish(b, "topic/a");
    sb_settle(b);
    sb_expect_hex(b, NO_ALIAS(TOPIC_A));
    sb_free(b);
}

/* Unacknowledged publishes resent on a new connection are resolved again: the first one carries
 * the topic even if it went out as alias-only before. */
static void lru_resend_after_reconnect_resolves_again(void **state)
{
    (void)state;
    mqtt5_properties ca = alias_maximum(10);
    sb *b = connected(MQTT5_ALIAS_OUT_LRU, 2, &ca);
    assert_int_equal(publish_alias(b, "topic/a", 1, 0), 0);
    assert_int_equal(publish_alias(b, "topic/a", 1, 0), 0);
    sb_settle(b);
    sb_expect_hex(b, "32 10 " TOPIC_A " 0001 03 230001 78");
    sb_expect_hex(b, "32 09 0000 0002 03 230001 78");
    reconnect(b, &ca);
    const sb_packet *k = sb_expect_packet(b, MQTT5_PUBLISH);
    assert_str_eq(k->p.u.publish.topic, "topic/a");
    assert_true(MQTT5_PROPS_HAS(&k->p.u.publish.properties, MQTT5_PROP_TOPIC_ALIAS));
    uint16_t first = k->p.u.publish.packet_id;
    k = sb_expect_packet(b, MQTT5_PUBLISH);
    assert_int_equal(k->p.u.publish.topic.len, 0);
    assert_int_equal(k->p.u.publish.properties.topic_alias, 1);
    uint16_t second = k->p.u.publish.packet_id;
    uint8_t acks[8] = {0x40, 2, (uint8_t)(first >> 8),  (uint8_t)first,
                       0x40, 2, (uint8_t)(second >> 8), (uint8_t)second};
    sb_send_bytes(b, acks, sizeof(acks));
    assert_int_equal(sb_completion_count(b), 2);
    sb_free(b);
}

static void lru_refuses_user_alias(void **state)
{
    (void)state;
    mqtt5_properties ca = alias_maximum(10);
    sb *b = connected(MQTT5_ALIAS_OUT_LRU, 2, &ca);
    assert_err(publish_alias(b, "topic/a", 0, 1), MQTT5_ERR_INVALID_ARGUMENT);
    assert_err(sb_status(b)->error, MQTT5_ERR_INVALID_ARGUMENT);
    assert_field(sb_status(b), "properties.topicAlias");
    sb_settle(b);
    sb_expect_no_packet(b);
    sb_free(b);
}

/* ---- MANUAL --------------------------------------------------------------------------------- */

static void manual_user_aliases_on_the_wire(void **state)
{
    (void)state;
    mqtt5_properties ca = alias_maximum(10);
    sb *b = connected(MQTT5_ALIAS_OUT_MANUAL, 25, &ca);
    assert_int_equal(sb_last_event(b)->settings.topic_alias_max_to_server, 10);
    assert_int_equal(publish_alias(b, "topic/a", 0, 3), 0);
    assert_int_equal(publish_alias(b, "topic/a", 0, 3), 0);
    assert_int_equal(publish_alias(b, "topic/b", 0, 3), 0); /* rebinds 3 */
    assert_int_equal(publish_alias(b, "topic/a", 0, 3), 0);
    assert_int_equal(publish_alias(b, "topic/a", 0, 0), 0); /* no alias asked: none sent */
    assert_int_equal(publish_alias(b, "topic/a", 0, 10), 0);
    assert_int_equal(publish_alias(b, "topic/a", 0, 3), 0);
    sb_settle(b);
    sb_expect_hex(b, WITH_ALIAS(TOPIC_A, "0003"));
    sb_expect_hex(b, ALIAS_ONLY("0003"));
    sb_expect_hex(b, WITH_ALIAS(TOPIC_B, "0003"));
    sb_expect_hex(b, WITH_ALIAS(TOPIC_A, "0003"));
    sb_expect_hex(b, NO_ALIAS(TOPIC_A));
    sb_expect_hex(b, WITH_ALIAS(TOPIC_A, "000a"));
    sb_expect_hex(b, ALIAS_ONLY("0003"));
    sb_expect_no_packet(b);
    /* above the server's maximum */
    assert_err(publish_alias(b, "topic/a", 0, 11), MQTT5_ERR_NOT_AVAILABLE);
    assert_field(sb_status(b), "properties.topicAlias");
    /* a new connection forgets the bindings: topic + alias again */
    reconnect(b, &ca);
    assert_int_equal(publish_alias(b, "topic/a", 0, 3), 0);
    assert_int_equal(publish_alias(b, "topic/a", 0, 3), 0);
    sb_settle(b);
    sb_expect_hex(b, WITH_ALIAS(TOPIC_A, "0003"));
    sb_expect_hex(b, ALIAS_ONLY("0003"));
    sb_free(b);
}

static void manual_without_server_maximum_not_available(void **state)
{
    (void)state;
    sb *b = connected(MQTT5_ALIAS_OUT_MANUAL, 25, NULL);
    assert_err(publish_alias(b, "topic/a", 0, 1), MQTT5_ERR_NOT_AVAILABLE);
    assert_field(sb_status(b), "properties.topicAlias");
    assert_int_equal(publish_alias(b, "topic/a", 0, 0), 0);
    sb_settle(b);
    sb_expect_hex(b, NO_ALIAS(TOPIC_A));
    sb_free(b);
}

/* Queued while offline, checked at hand-out against the new connection's maximum. */
static void manual_alias_checked_at_handout(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.alias_out = MQTT5_ALIAS_OUT_MANUAL;
    sb *b = sb_new(&o);
    uint64_t id = 0;
    mqtt5_publish p;
    memset(&p, 0, sizeof(p));
    p.topic = S("topic/a");
    p.qos = 1;
    MQTT5_PROPS_SET(&p.properties, MQTT5_PROP_TOPIC_ALIAS);
    p.properties.topic_alias = 5;
    assert_int_equal(sb_publish(b, &p, NULL, &id), 0); /* offline: not checked yet */
    assert_int_equal(publish_alias(b, "topic/b", 1, 2), 0);
    mqtt5_properties ca = alias_maximum(2);
    sb_connect(b, &ca);
    assert_int_equal(sb_completion_count(b), 1);
    assert_int_equal(sb_completion_at(b, 0)->op_id, id);
    assert_err(sb_completion_at(b, 0)->error, MQTT5_ERR_NOT_AVAILABLE);
    const sb_packet *k = sb_expect_packet(b, MQTT5_PUBLISH); /* the other one goes out */
    assert_str_eq(k->p.u.publish.topic, "topic/b");
    assert_int_equal(k->p.u.publish.properties.topic_alias, 2);
    sb_expect_no_packet(b);
    uint8_t ack[4] = {0x40, 2, (uint8_t)(k->p.u.publish.packet_id >> 8),
                      (uint8_t)k->p.u.publish.packet_id};
    sb_send_bytes(b, ack, sizeof(ack));
    assert_int_equal(sb_completion_count(b), 2);
    sb_free(b);
}

/* ---- DISABLED ------------------------------------------------------------------------------- */

static void disabled_refuses_user_alias_and_sends_none(void **state)
{
    (void)state;
    mqtt5_properties ca = alias_maximum(10);
    sb *b = connected(MQTT5_ALIAS_OUT_DISABLED, 25, &ca);
    assert_int_equal(sb_last_event(b)->settings.topic_alias_max_to_server, 0);
    assert_err(publish_alias(b, "topic/a", 0, 1), MQTT5_ERR_INVALID_ARGUMENT);
    assert_err(sb_status(b)->error, MQTT5_ERR_INVALID_ARGUMENT);
    assert_field(sb_status(b), "properties.topicAlias");
    assert_err(publish_alias(b, "topic/a", 1, 1), MQTT5_ERR_INVALID_ARGUMENT);
    assert_field(sb_status(b), "properties.topicAlias");
    publish(b, "topic/a");
    publish(b, "topic/a");
    sb_settle(b);
    sb_expect_hex(b, NO_ALIAS(TOPIC_A));
    sb_expect_hex(b, NO_ALIAS(TOPIC_A));
    sb_expect_no_packet(b);
    sb_free(b);
}

static void disabled_refuses_user_alias_offline(void **state)
{
    (void)state;
    sb *b = sb_new(NULL);
    assert_err(publish_alias(b, "topic/a", 1, 1), MQTT5_ERR_INVALID_ARGUMENT);
    assert_field(sb_status(b), "properties.topicAlias");
    sb_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lru_first_use_then_alias_only),
        cmocka_unit_test(lru_eviction_order),
        cmocka_unit_test(lru_across_batches),
        cmocka_unit_test(lru_short_topics_never_aliased),
        cmocka_unit_test(lru_server_maximum_smaller_than_cache),
        cmocka_unit_test(lru_without_server_maximum_no_alias),
        cmocka_unit_test(lru_reset_after_reconnect),
        cmocka_unit_test(lru_resend_after_reconnect_resolves_again),
        cmocka_unit_test(lru_refuses_user_alias),
        cmocka_unit_test(manual_user_aliases_on_the_wire),
        cmocka_unit_test(manual_without_server_maximum_not_available),
        cmocka_unit_test(manual_alias_checked_at_handout),
        cmocka_unit_test(disabled_refuses_user_alias_and_sends_none),
        cmocka_unit_test(disabled_refuses_user_alias_offline),
    };
    return cmocka_run_group_tests(tests, NULL, sb_group_teardown);
}
