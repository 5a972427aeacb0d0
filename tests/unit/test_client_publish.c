/*
 * test_client_publish.c - outbound operations of the client core (client_core.h, design section
 * 3): exact PUBLISH/PUBREL/SUBSCRIBE/UNSUBSCRIBE bytes, completions carrying their acks, packet
 * identifiers (sequence, wrap, skipping ids in flight), ack timeouts and late acks, the server's
 * Receive Maximum, queue bounds, batching, validation refusals at submit and statistics.
 * Every test ends with sb_free, which checks one completion per accepted operation and no leak.
 * It must not reach into the core's internals: only client_core.h through the scripted broker.
 */
#include "helpers/test_common.h"
#include "helpers/scripted_broker.h"

/* ---- helpers -------------------------------------------------------------------------------- */

static mqtt5_publish pub(const char *topic, uint8_t qos, const char *payload)
{
    mqtt5_publish p;
    memset(&p, 0, sizeof(p));
    p.qos = qos;
    p.topic = (mqtt5_str){topic, strlen(topic)};
    p.payload = (mqtt5_bytes){(const uint8_t *)payload, strlen(payload)};
    return p;
}

/* Submits a publish that must be accepted; returns its operation id. */
#define publish_ok(b, topic, qos, payload) publish_ok_((b), (topic), (qos), (payload), __LINE__)
static uint64_t publish_ok_(sb *b, const char *topic, uint8_t qos, const char *payload, int line)
{
    mqtt5_publish p = pub(topic, qos, payload);
    uint64_t id = 0;
    int rc = sb_publish(b, &p, NULL, &id);
    if (rc != 0) fail_msg("line %d: publish refused: %s", line, mqtt5_error_name(rc));
    return id;
}

#define assert_completion(b, i, id, err, type, reason)                                             \
    do {                                                                                           \
        const sb_completion *c_ = sb_completion_at((b), (i));                                      \
        assert_non_null(c_);                                                                       \
        assert_int_equal(c_->op_id, (id));                                                         \
        assert_err(c_->error, (err));                                                              \
        assert_int_equal(c_->ack_type, (type));                                                    \
        assert_int_equal(c_->ack_reason, (reason));                                                \
    } while (0)

/* A refusal: the error returned and in the status, and the field named. */
#define assert_refused(b, rc, err, field)                                                          \
    do {                                                                                           \
        assert_err((rc), (err));                                                                   \
        assert_err(sb_status(b)->error, (err));                                                    \
        assert_field(sb_status(b), (field));                                                       \
    } while (0)

static sb *connected(const mqtt5_client_core_options *o, const mqtt5_properties *connack)
{
    sb *b = sb_new(o);
    sb_connect(b, connack);
    return b;
}

static mqtt5_properties receive_maximum(uint16_t n)
{
    mqtt5_properties p;
    memset(&p, 0, sizeof(p));
    MQTT5_PROPS_SET(&p, MQTT5_PROP_RECEIVE_MAXIMUM);
    p.receive_maximum = n;
    return p;
}

static uint16_t packet_id_of(const sb_packet *k)
{
    switch (k->p.type) {
    case MQTT5_PUBLISH:
        return k->p.u.publish.packet_id;
    case MQTT5_SUBSCRIBE:
        return k->p.u.subscribe.packet_id;
    case MQTT5_UNSUBSCRIBE:
        return k->p.u.unsubscribe.packet_id;
    default:
        return k->p.u.ack.packet_id;
    }
}

static const mqtt5_subscription two_subs[] = {
    {SI("a/+"), 1, false, false, 0},
    {SI("b"), 2, true, false, 0},
};
static const mqtt5_str two_filters[] = {SI("a/+"), SI("b")};

static mqtt5_subscribe sub_of(const mqtt5_subscription *s, size_t n)
{
    mqtt5_subscribe x;
    memset(&x, 0, sizeof(x));
    x.subscriptions = s;
    x.subscription_count = n;
    return x;
}

static mqtt5_unsubscribe unsub_of(const mqtt5_str *f, size_t n)
{
    mqtt5_unsubscribe x;
    memset(&x, 0, sizeof(x));
    x.topic_filters = f;
    x.topic_filter_count = n;
    return x;
}

/* The PUBACKs of QoS 1 publishes first.. (at most 8), in one read. */
static void send_pubacks(sb *b, uint16_t first, size_t n)
{
    uint8_t acks[8 * 4];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) {
        uint16_t id = (uint16_t)(first + i);
        memcpy(acks + 4 * i, (uint8_t[4]){0x40, 0x02, (uint8_t)(id >> 8), (uint8_t)id}, 4);
    }
    sb_send_bytes(b, acks, 4 * n);
}

/* The PUBACK of QoS 1 publish `id`. */
static void send_puback(sb *b, uint16_t id)
{
    send_pubacks(b, id, 1);
}

/* Publishes `n` QoS 1 messages, lets them out, writes their ids to ids[] (may be NULL) and
 * acknowledges every one whose id is not in keep[]. */
static void publish_and_ack(sb *b, size_t n, uint16_t *ids, const uint16_t *keep, size_t nkeep)
{
    for (size_t i = 0; i < n; i++)
        publish_ok(b, "ids", 1, "");
    sb_settle(b);
    uint8_t *acks = test_alloc(4 * n);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        const sb_packet *k = sb_expect_packet(b, MQTT5_PUBLISH);
        uint16_t id = k->p.u.publish.packet_id;
        if (ids) ids[i] = id;
        bool kept = false;
        for (size_t j = 0; j < nkeep; j++)
            kept = kept || keep[j] == id;
        if (kept) continue;
        acks[len++] = 0x40;
        acks[len++] = 0x02;
        acks[len++] = (uint8_t)(id >> 8);
        acks[len++] = (uint8_t)id;
    }
    if (len) sb_send_bytes(b, acks, len);
}

/* Hands out and acknowledges QoS 1 publishes until id `last` went out; checks the ids are
 * consecutive from `first`. */
static void burn_ids(sb *b, uint16_t first, uint16_t last)
{
    static uint16_t ids[1000];
    uint32_t want = first;
    while (want <= last) {
        size_t n = last - want + 1 < 1000 ? last - want + 1 : 1000;
        publish_and_ack(b, n, ids, NULL, 0);
        for (size_t i = 0; i < n; i++, want++)
            if (ids[i] != want) fail_msg("packet id %u, expected %u", ids[i], (unsigned)want);
    }
}

/* ---- QoS 0, 1, 2 ---------------------------------------------------------------------------- */

static void qos0_exact_bytes_completes_at_handout(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL);
    sb_advance(b, 10);
    mqtt5_publish p = pub("a/b", 0, "hi");
    int ctx = 0;
    mqtt5_op_options o = {.user_ctx = &ctx};
    uint64_t id = 0;
    assert_int_equal(sb_publish(b, &p, &o, &id), 0);
    assert_true(id != 0);
    assert_int_equal(sb_completion_count(b), 0); /* not before hand-out */
    sb_settle(b);
    sb_expect_hex(b, "30 08 0003 612f62 00 6869");
    sb_expect_no_packet(b);
    assert_int_equal(sb_completion_count(b), 1);
    assert_completion(b, 0, id, 0, 0, 0);
    assert_ptr_equal(sb_completion_at(b, 0)->user_ctx, &ctx);
    assert_int_equal(sb_completion_at(b, 0)->op_type, MQTT5_PUBLISH);
    assert_int_equal(sb_completion_at(b, 0)->time, 10);
    sb_free(b);
}

static void qos1_puback_completes(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL);
    int ctx = 0;
    mqtt5_publish p = pub("a/b", 1, "hi");
    mqtt5_op_options o = {.user_ctx = &ctx};
    uint64_t id = 0;
    assert_int_equal(sb_publish(b, &p, &o, &id), 0);
    sb_settle(b);
    sb_expect_hex(b, "32 0a 0003 612f62 0001 00 6869");
    assert_int_equal(sb_completion_count(b), 0);
    sb_advance(b, 30);
    sb_send_hex(b, "40 02 0001");
    assert_int_equal(sb_completion_count(b), 1);
    assert_completion(b, 0, id, 0, MQTT5_PUBACK, 0x00);
    assert_ptr_equal(sb_completion_at(b, 0)->user_ctx, &ctx);
    assert_int_equal(sb_completion_at(b, 0)->time, 30);
    sb_expect_no_packet(b);
    sb_send_hex(b, "40 02 0001"); /* a second PUBACK for the same id: ignored */
    assert_int_equal(sb_completion_count(b), 1);
    assert_true(sb_transport_is_open(b));
    sb_expect_events(b, "");
    sb_free(b);
}

static void qos1_puback_reason_codes(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL);
    uint64_t a = publish_ok(b, "a/b", 1, "hi");
    uint64_t c = publish_ok(b, "a/b", 1, "hi");
    sb_settle(b);
    sb_expect_hex(b, "32 0a 0003 612f62 0001 00 6869");
    sb_expect_hex(b, "32 0a 0003 612f62 0002 00 6869");
    sb_send_hex(b, "40 03 0001 10"); /* no matching subscribers: a success */
    sb_send_hex(b, "40 03 0002 87"); /* not authorized */
    assert_int_equal(sb_completion_count(b), 2);
    assert_completion(b, 0, a, 0, MQTT5_PUBACK, 0x10);
    assert_completion(b, 1, c, MQTT5_ERR_ACK_REASON, MQTT5_PUBACK, 0x87);
    sb_expect_events(b, ""); /* a refused publish does not end the connection */
    sb_expect_no_packet(b);
    sb_free(b);
}

static void qos2_full_exchange(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL);
    uint64_t id = publish_ok(b, "a/b", 2, "hi");
    sb_settle(b);
    sb_expect_hex(b, "34 0a 0003 612f62 0001 00 6869");
    sb_send_hex(b, "50 02 0001");   /* PUBREC */
    sb_expect_hex(b, "62 02 0001"); /* PUBREL */
    sb_expect_no_packet(b);
    assert_int_equal(sb_completion_count(b), 0);
    sb_send_hex(b, "70 02 0001"); /* PUBCOMP */
    assert_int_equal(sb_completion_count(b), 1);
    assert_completion(b, 0, id, 0, MQTT5_PUBCOMP, 0x00);
    sb_expect_no_packet(b);
    sb_free(b);
}

static void qos2_pubrec_failure_completes_without_pubrel(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL);
    uint64_t id = publish_ok(b, "a/b", 2, "hi");
    sb_settle(b);
    sb_expect_packet(b, MQTT5_PUBLISH);
    sb_send_hex(b, "50 03 0001 80");
    assert_int_equal(sb_completion_count(b), 1);
    assert_completion(b, 0, id, MQTT5_ERR_ACK_REASON, MQTT5_PUBREC, 0x80);
    sb_expect_no_packet(b); /* no PUBREL after a refusing PUBREC */
    sb_expect_events(b, "");
    /* the id is free again: the next QoS 2 publish may use it or the next one, never breaks */
    uint64_t next = publish_ok(b, "a/b", 2, "hi");
    sb_settle(b);
    sb_expect_hex(b, "34 0a 0003 612f62 0002 00 6869");
    sb_send_hex(b, "50 03 0002 10"); /* success with a reason: < 0x80 goes on */
    sb_expect_hex(b, "62 02 0002");
    sb_send_hex(b, "70 03 0002 92"); /* PUBCOMP failure */
    assert_completion(b, 1, next, MQTT5_ERR_ACK_REASON, MQTT5_PUBCOMP, 0x92);
    sb_free(b);
}

static void qos2_pubrec_and_pubcomp_with_properties(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL);
    uint64_t id = publish_ok(b, "a/b", 2, "hi");
    sb_settle(b);
    sb_expect_packet(b, MQTT5_PUBLISH);
    sb_send_hex(b, "50 08 0001 00 04 1f 0001 78"); /* PUBREC 0x00 with reason string "x" */
    sb_expect_hex(b, "62 02 0001");
    sb_send_hex(b, "70 08 0001 00 04 1f 0001 79");
    assert_completion(b, 0, id, 0, MQTT5_PUBCOMP, 0x00);
    sb_free(b);
}

static void publish_with_properties_exact_bytes(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL);
    mqtt5_publish p = pub("a/b", 1, "hi");
    p.retain = true;
    MQTT5_PROPS_SET(&p.properties, MQTT5_PROP_MESSAGE_EXPIRY_INTERVAL);
    p.properties.message_expiry_interval = 3600;
    static const mqtt5_user_property up[] = {{SI("k"), SI("v")}};
    p.properties.user_properties = up;
    p.properties.user_property_count = 1;
    assert_int_equal(sb_publish(b, &p, NULL, NULL), 0);
    sb_settle(b);
    sb_expect_hex(b, "33 16 0003 612f62 0001"
                     "0c 02 00000e10 26 0001 6b 0001 76" /* expiry 3600, k=v */
                     "6869");
    sb_send_hex(b, "40 02 0001");
    sb_free(b);
}

/* ---- packet identifiers --------------------------------------------------------------------- */

static void packet_ids_one_two_three_across_types(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL);
    publish_ok(b, "a/b", 1, "x");
    mqtt5_subscribe s = sub_of(two_subs, 2);
    assert_int_equal(sb_subscribe(b, &s, NULL, NULL), 0);
    publish_ok(b, "a/b", 0, "x"); /* QoS 0 takes no id */
    mqtt5_unsubscribe u = unsub_of(two_filters, 2);
    assert_int_equal(sb_unsubscribe(b, &u, NULL, NULL), 0);
    publish_ok(b, "a/b", 2, "x");
    sb_settle(b);
    assert_int_equal(packet_id_of(sb_expect_packet(b, MQTT5_PUBLISH)), 1);
    assert_int_equal(packet_id_of(sb_expect_packet(b, MQTT5_SUBSCRIBE)), 2);
    assert_int_equal(packet_id_of(sb_expect_packet(b, MQTT5_PUBLISH)), 0);
    assert_int_equal(packet_id_of(sb_expect_packet(b, MQTT5_UNSUBSCRIBE)), 3);
    assert_int_equal(packet_id_of(sb_expect_packet(b, MQTT5_PUBLISH)), 4);
    sb_expect_no_packet(b);
    sb_send_hex(b, "40 02 0001 90 05 0002 00 01 01 b0 05 0003 00 00 00 50 02 0004");
    sb_expect_hex(b, "62 02 0004");
    sb_send_hex(b, "70 02 0004");
    assert_int_equal(sb_completion_count(b), 5);
    sb_free(b);
}

static void packet_ids_wrap_to_one_after_65535(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL);
    burn_ids(b, 1, 65535);
    publish_ok(b, "a/b", 1, "x");
    sb_settle(b);
    sb_expect_hex(b, "32 09 0003 612f62 0001 00 78");
    sb_send_hex(b, "40 02 0001");
    sb_expect_events(b, "");
    sb_free(b);
}

static void packet_ids_wrap_skips_ids_in_flight(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL);
    publish_ok(b, "a/b", 1, "x"); /* id 1: stays unacknowledged */
    mqtt5_subscribe s = sub_of(two_subs, 1);
    assert_int_equal(sb_subscribe(b, &s, NULL, NULL), 0); /* id 2: stays unacknowledged */
    publish_ok(b, "a/b", 1, "x");                         /* id 3: acknowledged */
    sb_settle(b);
    assert_int_equal(packet_id_of(sb_expect_packet(b, MQTT5_PUBLISH)), 1);
    assert_int_equal(packet_id_of(sb_expect_packet(b, MQTT5_SUBSCRIBE)), 2);
    assert_int_equal(packet_id_of(sb_expect_packet(b, MQTT5_PUBLISH)), 3);
    sb_send_hex(b, "40 02 0003");
    burn_ids(b, 4, 65535);
    publish_ok(b, "a/b", 1, "x");
    assert_int_equal(sb_subscribe(b, &s, NULL, NULL), 0);
    publish_ok(b, "a/b", 1, "x");
    sb_settle(b);
    assert_int_equal(packet_id_of(sb_expect_packet(b, MQTT5_PUBLISH)), 3);
    assert_int_equal(packet_id_of(sb_expect_packet(b, MQTT5_SUBSCRIBE)), 4);
    assert_int_equal(packet_id_of(sb_expect_packet(b, MQTT5_PUBLISH)), 5);
    sb_expect_no_packet(b);
    /* acks for everyone, the old ones last */
    sb_send_hex(b, "40 02 0003 90 04 0004 00 01 40 02 0005 40 02 0001 90 04 0002 00 01");
    assert_int_equal(sb_completion_count(b), 65535 + 3);
    sb_expect_events(b, "");
    sb_free(b);
}

/* Ids are bound when a packet goes into a batch: an operation that did not fit in this batch
 * must not burn an id, so ids stay 1, 2, 3, ... across batch boundaries. */
static void packet_ids_consecutive_across_batches(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.write_batch_size = 64;
    sb *b = connected(&o, NULL);
    size_t before = sb_batches(b);
    for (int i = 0; i < 10; i++)
        publish_ok(b, "a/b", 1, "x"); /* 11 bytes: 5 per batch */
    sb_settle(b);
    assert_int_equal(sb_batches(b), before + 2);
    for (uint16_t id = 1; id <= 10; id++) {
        const sb_packet *k = sb_expect_packet(b, MQTT5_PUBLISH);
        assert_int_equal(k->p.u.publish.packet_id, id);
        assert_int_equal(k->batch, before + 1 + (id > 5));
    }
    for (uint16_t id = 1; id <= 10; id++)
        send_puback(b, id);
    assert_int_equal(sb_completion_count(b), 10);
    sb_free(b);
}

/* ---- ack timeouts -----------------------------------------------------------------------------
 */

static void ack_timeout_keeps_connection_late_ack_silent(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.ack_timeout_ms = 5000;
    sb *b = connected(&o, NULL);
    uint64_t a = publish_ok(b, "a/b", 1, "x");
    sb_settle(b);
    sb_expect_hex(b, "32 09 0003 612f62 0001 00 78");
    assert_int_equal(sb_wake_at(b), 5000);
    sb_run_until(b, 4999);
    assert_int_equal(sb_completion_count(b), 0);
    sb_run_until(b, 5000);
    assert_int_equal(sb_completion_count(b), 1);
    assert_completion(b, 0, a, MQTT5_ERR_ACK_TIMEOUT, 0, 0);
    assert_int_equal(sb_completion_at(b, 0)->time, 5000);
    sb_expect_events(b, ""); /* the connection stays up */
    sb_expect_no_packet(b);
    assert_true(sb_transport_is_open(b));
    assert_int_equal(mqtt5_client_core_state(sb_core(b)), MQTT5_CS_CONNECTED);

    /* id 1 stays reserved: the next publish gets 2 */
    uint64_t c = publish_ok(b, "a/b", 1, "y");
    sb_settle(b);
    sb_expect_hex(b, "32 09 0003 612f62 0002 00 79");
    sb_advance(b, 100);
    sb_send_hex(b, "40 02 0001"); /* late: consumed without a second completion */
    assert_int_equal(sb_completion_count(b), 1);
    sb_expect_no_packet(b);
    sb_expect_events(b, "");
    sb_send_hex(b, "40 02 0002");
    assert_int_equal(sb_completion_count(b), 2);
    assert_completion(b, 1, c, 0, MQTT5_PUBACK, 0);
    mqtt5_client_stats st;
    mqtt5_client_core_stats(sb_core(b), &st);
    assert_int_equal(st.ack_timeouts, 1);
    assert_int_equal(st.incomplete_ops, 0);
    assert_int_equal(st.unacked_ops, 0);
    sb_free(b);
}

static void ack_timeout_qos2_subscribe_unsubscribe(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.ack_timeout_ms = 1000;
    sb *b = connected(&o, NULL);
    uint64_t q2 = publish_ok(b, "a/b", 2, "x");
    mqtt5_subscribe s = sub_of(two_subs, 2);
    uint64_t sid = 0, uid = 0;
    assert_int_equal(sb_subscribe(b, &s, NULL, &sid), 0);
    mqtt5_unsubscribe u = unsub_of(two_filters, 2);
    assert_int_equal(sb_unsubscribe(b, &u, NULL, &uid), 0);
    sb_settle(b);
    sb_expect_packet(b, MQTT5_PUBLISH);
    sb_expect_packet(b, MQTT5_SUBSCRIBE);
    sb_expect_packet(b, MQTT5_UNSUBSCRIBE);
    sb_advance(b, 500);
    sb_send_hex(b, "50 02 0001"); /* PUBREC: the deadline runs on towards PUBCOMP */
    sb_expect_hex(b, "62 02 0001");
    sb_run_until(b, 1000);
    assert_int_equal(sb_completion_count(b), 3);
    assert_completion(b, 0, q2, MQTT5_ERR_ACK_TIMEOUT, 0, 0);
    assert_completion(b, 1, sid, MQTT5_ERR_ACK_TIMEOUT, 0, 0);
    assert_completion(b, 2, uid, MQTT5_ERR_ACK_TIMEOUT, 0, 0);
    sb_expect_events(b, "");
    /* late acks: consumed silently */
    sb_send_hex(b, "70 02 0001 90 05 0002 00 01 02 b0 05 0003 00 00 00");
    assert_int_equal(sb_completion_count(b), 3);
    sb_expect_no_packet(b);
    sb_expect_events(b, "");
    assert_true(sb_transport_is_open(b));
    sb_free(b);
}

/* A zombie's id survives a full wrap of the id space; its late ack frees it silently. */
static void ack_timeout_id_not_reused_while_reserved(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL);
    mqtt5_publish p = pub("a/b", 1, "z");
    mqtt5_op_options o = {.ack_timeout_ms = 100};
    uint64_t z = 0;
    assert_int_equal(sb_publish(b, &p, &o, &z), 0);
    sb_settle(b);
    sb_expect_hex(b, "32 09 0003 612f62 0001 00 7a");
    sb_run_until(b, 100);
    assert_completion(b, 0, z, MQTT5_ERR_ACK_TIMEOUT, 0, 0);
    burn_ids(b, 2, 65535);
    publish_ok(b, "a/b", 1, "x");
    sb_settle(b);
    sb_expect_hex(b, "32 09 0003 612f62 0002 00 78"); /* 1 is still reserved */
    size_t done = sb_completion_count(b);
    sb_send_hex(b, "40 02 0001 40 02 0002");
    assert_int_equal(sb_completion_count(b), done + 1); /* only the new one */
    assert_int_equal(sb_completion_at(b, done)->error, 0);
    sb_expect_events(b, "");
    sb_free(b);
}

/* A zombie keeps its Receive Maximum slot until the late ack comes. */
static void ack_timeout_zombie_holds_receive_maximum_slot(void **state)
{
    (void)state;
    mqtt5_properties ca = receive_maximum(1);
    sb *b = connected(NULL, &ca);
    mqtt5_publish p = pub("a/b", 1, "z");
    mqtt5_op_options o = {.ack_timeout_ms = 100};
    uint64_t z = 0;
    assert_int_equal(sb_publish(b, &p, &o, &z), 0);
    sb_settle(b);
    sb_expect_hex(b, "32 09 0003 612f62 0001 00 7a");
    sb_run_until(b, 100);
    assert_completion(b, 0, z, MQTT5_ERR_ACK_TIMEOUT, 0, 0);
    uint64_t next = publish_ok(b, "a/b", 1, "x");
    sb_settle(b);
    sb_expect_no_packet(b); /* the only slot is still the zombie's */
    sb_send_hex(b, "40 02 0001");
    sb_expect_hex(b, "32 09 0003 612f62 0002 00 78");
    assert_int_equal(sb_completion_count(b), 1);
    sb_send_hex(b, "40 02 0002");
    assert_completion(b, 1, next, 0, MQTT5_PUBACK, 0);
    sb_free(b);
}

static void ack_timeout_per_operation_override(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL); /* client default: 60000 */
    mqtt5_publish p = pub("a/b", 1, "x");
    mqtt5_op_options fast = {.ack_timeout_ms = 250};
    uint64_t dflt = 0, quick = 0;
    assert_int_equal(sb_publish(b, &p, NULL, &dflt), 0);
    assert_int_equal(sb_publish(b, &p, &fast, &quick), 0);
    mqtt5_subscribe s = sub_of(two_subs, 1);
    uint64_t squick = 0;
    mqtt5_op_options fast_sub = {.ack_timeout_ms = 400};
    assert_int_equal(sb_subscribe(b, &s, &fast_sub, &squick), 0);
    sb_settle(b);
    assert_int_equal(packet_id_of(sb_expect_packet(b, MQTT5_PUBLISH)), 1);
    assert_int_equal(packet_id_of(sb_expect_packet(b, MQTT5_PUBLISH)), 2);
    assert_int_equal(packet_id_of(sb_expect_packet(b, MQTT5_SUBSCRIBE)), 3);
    assert_int_equal(sb_wake_at(b), 250);
    sb_run_until(b, 250);
    assert_int_equal(sb_completion_count(b), 1);
    assert_completion(b, 0, quick, MQTT5_ERR_ACK_TIMEOUT, 0, 0);
    assert_int_equal(sb_completion_at(b, 0)->time, 250);
    assert_int_equal(sb_wake_at(b), 400);
    sb_run_until(b, 400);
    assert_completion(b, 1, squick, MQTT5_ERR_ACK_TIMEOUT, 0, 0);
    assert_int_equal(sb_completion_at(b, 1)->time, 400);
    sb_run_until(b, 59999);
    assert_int_equal(sb_completion_count(b), 2);
    sb_run_until(b, 60000);
    assert_int_equal(sb_completion_count(b), 3);
    assert_completion(b, 2, dflt, MQTT5_ERR_ACK_TIMEOUT, 0, 0);
    assert_int_equal(sb_completion_at(b, 2)->time, 60000);
    sb_expect_events(b, "");
    sb_free(b);
}

static void ack_timeout_zero_means_none(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.ack_timeout_ms = 0;
    o.connect.keep_alive = 0; /* no pings to answer while the clock runs */
    sb *b = connected(&o, NULL);
    uint64_t id = publish_ok(b, "a/b", 1, "x");
    sb_settle(b);
    sb_expect_packet(b, MQTT5_PUBLISH);
    sb_advance(b, 31000); /* past the backoff reset: nothing else is due */
    assert_true(sb_wake_at(b) == MQTT5_TIME_NEVER);
    sb_advance(b, 10000000);
    assert_int_equal(sb_completion_count(b), 0);
    sb_send_hex(b, "40 02 0001");
    assert_completion(b, 0, id, 0, MQTT5_PUBACK, 0);
    sb_expect_events(b, "");
    sb_free(b);
}

/* ---- SUBSCRIBE / UNSUBSCRIBE ---------------------------------------------------------------- */

static void subscribe_exact_bytes_and_suback(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL);
    mqtt5_subscribe s = sub_of(two_subs, 2);
    int ctx = 0;
    mqtt5_op_options o = {.user_ctx = &ctx};
    uint64_t id = 0;
    assert_int_equal(sb_subscribe(b, &s, &o, &id), 0);
    sb_settle(b);
    sb_expect_hex(b, "82 0d 0001 00 0003 612f2b 01 0001 62 06");
    assert_int_equal(sb_completion_count(b), 0);
    sb_send_hex(b, "90 05 0001 00 01 02");
    assert_int_equal(sb_completion_count(b), 1);
    const sb_completion *c = sb_completion_at(b, 0);
    assert_int_equal(c->op_id, id);
    assert_int_equal(c->op_type, MQTT5_SUBSCRIBE);
    assert_ptr_equal(c->user_ctx, &ctx);
    assert_err(c->error, 0);
    assert_int_equal(c->ack_type, MQTT5_SUBACK);
    assert_int_equal(c->reason_count, 2);
    assert_int_equal(c->reasons[0], 0x01);
    assert_int_equal(c->reasons[1], 0x02);
    sb_free(b);
}

static void subscribe_with_options_and_properties_exact_bytes(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL);
    static const mqtt5_subscription subs[] = {{SI("c"), 0, false, true, 2}};
    static const uint32_t sid[] = {300};
    mqtt5_subscribe s = sub_of(subs, 1);
    s.properties.subscription_identifiers = sid;
    s.properties.subscription_identifier_count = 1;
    assert_int_equal(sb_subscribe(b, &s, NULL, NULL), 0);
    sb_settle(b);
    /* id 1, properties: subscription identifier 300; filter "c", options RAP + RH 2 */
    sb_expect_hex(b, "82 0a 0001 03 0b ac02 0001 63 28");
    sb_send_hex(b, "90 04 0001 00 00");
    assert_err(sb_completion_at(b, 0)->error, 0);
    sb_free(b);
}

static void suback_mixed_and_all_failed(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL);
    mqtt5_subscribe s = sub_of(two_subs, 2);
    uint64_t mixed = 0, failed = 0;
    assert_int_equal(sb_subscribe(b, &s, NULL, &mixed), 0);
    assert_int_equal(sb_subscribe(b, &s, NULL, &failed), 0);
    sb_settle(b);
    sb_expect_packet(b, MQTT5_SUBSCRIBE);
    sb_expect_packet(b, MQTT5_SUBSCRIBE);
    sb_send_hex(b, "90 05 0001 00 87 01"); /* one refused, one granted: a success */
    sb_send_hex(b, "90 05 0002 00 87 a2"); /* all refused */
    assert_int_equal(sb_completion_count(b), 2);
    const sb_completion *c = sb_completion_at(b, 0);
    assert_int_equal(c->op_id, mixed);
    assert_err(c->error, 0);
    assert_int_equal(c->ack_type, MQTT5_SUBACK);
    assert_int_equal(c->reason_count, 2);
    assert_int_equal(c->reasons[0], 0x87);
    assert_int_equal(c->reasons[1], 0x01);
    c = sb_completion_at(b, 1);
    assert_int_equal(c->op_id, failed);
    assert_err(c->error, MQTT5_ERR_ACK_REASON);
    assert_int_equal(c->ack_type, MQTT5_SUBACK);
    assert_int_equal(c->reasons[0], 0x87);
    assert_int_equal(c->reasons[1], 0xa2);
    sb_expect_events(b, "");
    sb_free(b);
}

static void suback_wrong_count_is_protocol_error(void **state)
{
    (void)state;
    static const char *const bad[] = {"90 04 0001 00 01", "90 06 0001 00 01 01 01"};
    for (size_t i = 0; i < COUNT_OF(bad); i++) {
        sb *b = connected(NULL, NULL);
        mqtt5_subscribe s = sub_of(two_subs, 2);
        assert_int_equal(sb_subscribe(b, &s, NULL, NULL), 0);
        sb_settle(b);
        sb_expect_packet(b, MQTT5_SUBSCRIBE);
        sb_send_hex(b, bad[i]);
        sb_expect_hex(b, "e0 01 82");
        sb_expect_events(b, "DISCONNECTION MQTT5_ERR_PROTOCOL_ERROR");
        assert_false(sb_transport_is_open(b));
        assert_int_equal(sb_completion_count(b), 0); /* the bad SUBACK completes nothing */
        sb_free(b);
    }
}

static void unsubscribe_exact_bytes_and_unsuback(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL);
    mqtt5_unsubscribe u = unsub_of(two_filters, 2);
    uint64_t ok = 0, mixed = 0, failed = 0;
    assert_int_equal(sb_unsubscribe(b, &u, NULL, &ok), 0);
    assert_int_equal(sb_unsubscribe(b, &u, NULL, &mixed), 0);
    assert_int_equal(sb_unsubscribe(b, &u, NULL, &failed), 0);
    sb_settle(b);
    sb_expect_hex(b, "a2 0b 0001 00 0003 612f2b 0001 62");
    sb_expect_hex(b, "a2 0b 0002 00 0003 612f2b 0001 62");
    sb_expect_hex(b, "a2 0b 0003 00 0003 612f2b 0001 62");
    sb_send_hex(b, "b0 05 0001 00 00 11");
    sb_send_hex(b, "b0 05 0002 00 87 00");
    sb_send_hex(b, "b0 05 0003 00 80 87");
    assert_int_equal(sb_completion_count(b), 3);
    const sb_completion *c = sb_completion_at(b, 0);
    assert_int_equal(c->op_id, ok);
    assert_int_equal(c->op_type, MQTT5_UNSUBSCRIBE);
    assert_err(c->error, 0);
    assert_int_equal(c->ack_type, MQTT5_UNSUBACK);
    assert_int_equal(c->reason_count, 2);
    assert_int_equal(c->reasons[1], 0x11);
    c = sb_completion_at(b, 1);
    assert_int_equal(c->op_id, mixed);
    assert_err(c->error, 0);
    c = sb_completion_at(b, 2);
    assert_int_equal(c->op_id, failed);
    assert_err(c->error, MQTT5_ERR_ACK_REASON);
    assert_int_equal(c->ack_type, MQTT5_UNSUBACK);
    assert_int_equal(c->reasons[0], 0x80);
    sb_free(b);
}

static void unsuback_wrong_count_is_protocol_error(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL);
    mqtt5_unsubscribe u = unsub_of(two_filters, 2);
    assert_int_equal(sb_unsubscribe(b, &u, NULL, NULL), 0);
    sb_settle(b);
    sb_expect_packet(b, MQTT5_UNSUBSCRIBE);
    sb_send_hex(b, "b0 04 0001 00 00");
    sb_expect_hex(b, "e0 01 82");
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_PROTOCOL_ERROR");
    assert_int_equal(sb_completion_count(b), 0);
    sb_free(b);
}

/* ---- batching ---------------------------------------------------------------------------------
 */

static void hundred_qos0_publishes_one_batch(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL);
    size_t before = sb_batches(b);
    for (int i = 0; i < 100; i++)
        publish_ok(b, "a/b", 0, "hi");
    sb_settle(b);
    assert_int_equal(sb_batches(b), before + 1);
    for (int i = 0; i < 100; i++) {
        const sb_packet *k = sb_expect_hex(b, "30 08 0003 612f62 00 6869");
        assert_int_equal(k->batch, before + 1);
    }
    sb_expect_no_packet(b);
    assert_int_equal(sb_completion_count(b), 100);
    mqtt5_client_stats st;
    mqtt5_client_core_stats(sb_core(b), &st);
    assert_int_equal(st.batches_sent, sb_batches(b));
    sb_free(b);
}

static void batch_never_exceeds_write_batch_size(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.write_batch_size = 64;
    sb *b = connected(&o, NULL);
    size_t before = sb_batches(b);
    for (int i = 0; i < 10; i++)
        publish_ok(b, "a/b", 0, "hi"); /* 10 bytes each: 6 fit in 64 */
    sb_settle(b);
    assert_int_equal(sb_batches(b), before + 2);
    for (int i = 0; i < 10; i++)
        assert_int_equal(sb_expect_packet(b, MQTT5_PUBLISH)->batch, before + 1 + (i >= 6));
    sb_free(b);
}

static void packet_bigger_than_batch_goes_alone(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL); /* write_batch_size 16384 */
    static char big[20001];
    memset(big, 'b', sizeof(big) - 1);
    size_t before = sb_batches(b);
    publish_ok(b, "a/b", 0, "s1");
    publish_ok(b, "a/b", 1, big);
    publish_ok(b, "a/b", 0, "s2");
    sb_settle(b);
    assert_int_equal(sb_batches(b), before + 3);
    const sb_packet *k = sb_expect_hex(b, "30 08 0003 612f62 00 7331");
    assert_int_equal(k->batch, before + 1);
    k = sb_expect_packet(b, MQTT5_PUBLISH);
    assert_int_equal(k->batch, before + 2);
    assert_int_equal(k->len, 1 + 3 + 2 + 3 + 2 + 1 + 20000);
    assert_int_equal(k->p.u.publish.payload.len, 20000);
    uint16_t big_id = k->p.u.publish.packet_id; /* ids: packet_ids_consecutive_across_batches */
    k = sb_expect_hex(b, "30 08 0003 612f62 00 7332");
    assert_int_equal(k->batch, before + 3);
    send_puback(b, big_id);
    assert_int_equal(sb_completion_count(b), 3);

    /* the big one first: it still goes alone, then the small ones together */
    before = sb_batches(b);
    publish_ok(b, "a/b", 0, big);
    publish_ok(b, "a/b", 0, "s3");
    publish_ok(b, "a/b", 0, "s4");
    sb_settle(b);
    assert_int_equal(sb_batches(b), before + 2);
    assert_int_equal(sb_expect_packet(b, MQTT5_PUBLISH)->batch, before + 1);
    assert_int_equal(sb_expect_hex(b, "30 08 0003 612f62 00 7333")->batch, before + 2);
    assert_int_equal(sb_expect_hex(b, "30 08 0003 612f62 00 7334")->batch, before + 2);
    sb_free(b);
}

/* ---- server Receive Maximum -------------------------------------------------------------------
 */

static void receive_maximum_blocks_fifo_until_puback(void **state)
{
    (void)state;
    mqtt5_properties ca = receive_maximum(2);
    sb *b = connected(NULL, &ca);
    publish_ok(b, "a/b", 1, "1");
    publish_ok(b, "a/b", 1, "2");
    publish_ok(b, "a/b", 1, "3");
    mqtt5_subscribe s = sub_of(two_subs, 1);
    uint64_t sid = 0;
    assert_int_equal(sb_subscribe(b, &s, NULL, &sid), 0);
    publish_ok(b, "a/b", 0, "4");
    sb_settle(b);
    sb_expect_hex(b, "32 09 0003 612f62 0001 00 31");
    sb_expect_hex(b, "32 09 0003 612f62 0002 00 32");
    sb_expect_no_packet(b); /* the third QoS 1 blocks the head; SUBSCRIBE and QoS 0 wait */
    sb_advance(b, 1000);
    sb_expect_no_packet(b);
    mqtt5_client_want w;
    mqtt5_client_core_want(sb_core(b), &w);
    assert_false(w.write);
    sb_send_hex(b, "40 02 0002");
    sb_expect_hex(b, "32 09 0003 612f62 0003 00 33");
    sb_expect_hex(b, "82 09 0004 00 0003 612f2b 01");
    sb_expect_hex(b, "30 07 0003 612f62 00 34");
    sb_expect_no_packet(b);
    /* SUBSCRIBE is not counted against Receive Maximum: PUBACK 1 frees a publish slot only */
    publish_ok(b, "a/b", 1, "5");
    sb_settle(b);
    sb_expect_no_packet(b);
    sb_send_hex(b, "40 02 0001");
    sb_expect_hex(b, "32 09 0003 612f62 0005 00 35");
    sb_send_hex(b, "40 02 0003 90 04 0004 00 01 40 02 0005");
    assert_int_equal(sb_completion_count(b), 6);
    sb_free(b);
}

static void receive_maximum_counts_qos2_until_pubcomp(void **state)
{
    (void)state;
    mqtt5_properties ca = receive_maximum(1);
    sb *b = connected(NULL, &ca);
    publish_ok(b, "a/b", 2, "1");
    publish_ok(b, "a/b", 1, "2");
    sb_settle(b);
    sb_expect_hex(b, "34 09 0003 612f62 0001 00 31");
    sb_expect_no_packet(b);
    sb_send_hex(b, "50 02 0001");
    sb_expect_hex(b, "62 02 0001"); /* PUBREL flows; the QoS 1 still waits */
    sb_expect_no_packet(b);
    sb_send_hex(b, "70 02 0001");
    sb_expect_hex(b, "32 09 0003 612f62 0002 00 32");
    sb_send_hex(b, "40 02 0002");
    assert_int_equal(sb_completion_count(b), 2);
    sb_free(b);
}

static void receive_maximum_failed_puback_frees_slot(void **state)
{
    (void)state;
    mqtt5_properties ca = receive_maximum(1);
    sb *b = connected(NULL, &ca);
    publish_ok(b, "a/b", 1, "1");
    publish_ok(b, "a/b", 2, "2");
    publish_ok(b, "a/b", 1, "3");
    sb_settle(b);
    sb_expect_hex(b, "32 09 0003 612f62 0001 00 31");
    sb_expect_no_packet(b);
    sb_send_hex(b, "40 03 0001 97");
    sb_expect_hex(b, "34 09 0003 612f62 0002 00 32");
    sb_send_hex(b, "50 03 0002 97");
    sb_expect_hex(b, "32 09 0003 612f62 0003 00 33");
    sb_send_hex(b, "40 02 0003");
    assert_int_equal(sb_completion_count(b), 3);
    sb_free(b);
}

/* ---- ack coalescing ---------------------------------------------------------------------------
 */

static uint32_t read_low_water(sb *b)
{
    mqtt5_client_want w;
    mqtt5_client_core_want(sb_core(b), &w);
    return w.read_low_water;
}

/* Ack coalescing: while the server's window (8) is full and QoS 1 publishes wait, the core asks
 * for the bytes of 6 PUBACKs (3/4 of the window) before reading, for 2 ms at most; otherwise for
 * any byte. */
static void ack_coalescing_while_the_window_holds_publishes(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.ack_coalescing = true;
    mqtt5_properties ca = receive_maximum(8);
    sb *b = connected(&o, &ca);
    assert_int_equal(read_low_water(b), 1); /* nothing in flight */
    for (int i = 0; i < 12; i++)
        publish_ok(b, "t", 1, "");
    sb_settle(b);
    for (int i = 0; i < 8; i++)
        sb_expect_packet(b, MQTT5_PUBLISH);
    sb_expect_no_packet(b);
    uint64_t t0 = sb_now(b);
    assert_int_equal(read_low_water(b), 24);
    assert_int_equal(sb_wake_at(b), t0 + 2); /* the wait's bound */

    /* acks free slots: the last 4 go out, nothing waits: any byte is worth a read again */
    for (uint16_t id = 1; id <= 5; id++)
        send_puback(b, id);
    for (int i = 0; i < 4; i++)
        sb_expect_packet(b, MQTT5_PUBLISH);
    assert_int_equal(read_low_water(b), 1);

    /* the window fills again with publishes waiting: 1 ms later the wait goes on, at 2 ms it is
     * over (a PINGRESP or a small PUBLISH is not held longer), until the next bytes come */
    for (int i = 0; i < 3; i++)
        publish_ok(b, "t", 1, "");
    sb_settle(b);
    sb_expect_packet(b, MQTT5_PUBLISH);
    sb_expect_no_packet(b);
    assert_int_equal(read_low_water(b), 24);
    sb_run_until(b, sb_now(b) + 1);
    assert_int_equal(read_low_water(b), 24);
    sb_run_until(b, sb_now(b) + 1);
    assert_int_equal(read_low_water(b), 1);
    assert_true(sb_wake_at(b) > sb_now(b) + 2);
    send_puback(b, 6);
    sb_expect_packet(b, MQTT5_PUBLISH);
    assert_int_equal(read_low_water(b), 24); /* full again, one still waits */
    for (uint16_t id = 7; id <= 14; id++)
        send_puback(b, id);
    sb_expect_packet(b, MQTT5_PUBLISH);
    assert_int_equal(read_low_water(b), 1);
    send_puback(b, 15);
    assert_int_equal(sb_completion_count(b), 15);
    sb_free(b);
}

static uint64_t coalescing_pauses(sb *b)
{
    mqtt5_client_stats st;
    mqtt5_client_core_stats(sb_core(b), &st);
    return st.ack_coalescing_pauses;
}

/* The wait for 24 bytes times out (at 2 ms), `ms` pass, and `acks` acks for ids first.. come in one
 * read; then the publishes they free go out. */
static void starve_wait(sb *b, uint64_t ms, uint16_t first, size_t acks)
{
    assert_int_equal(read_low_water(b), 24);
    sb_advance(b, ms);
    assert_int_equal(read_low_water(b), 1);
    send_pubacks(b, first, acks);
    for (size_t i = 0; i < acks; i++)
        sb_expect_packet(b, MQTT5_PUBLISH);
}

/* A server with Nagle's algorithm on sends one ack and holds the rest until TCP acknowledges it:
 * each wait times out with one ack read (starved). Two starved waits within 50 ms pause
 * coalescing for 1 s; one alone, two further apart, or a timed-out wait that read a quarter of the
 * mark (6 bytes) do not. */
static void ack_coalescing_pauses_for_a_server_that_holds_acks(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.ack_coalescing = true;
    o.reconnect_min_ms = 10;
    o.jitter = MQTT5_JITTER_NONE;
    mqtt5_properties ca = receive_maximum(8);
    sb *b = connected(&o, &ca);
    for (int i = 0; i < 40; i++)
        publish_ok(b, "t", 1, "");
    sb_settle(b);
    for (int i = 0; i < 8; i++)
        sb_expect_packet(b, MQTT5_PUBLISH);
    uint16_t id = 1;

    starve_wait(b, 2, id, 2); /* 8 bytes: not starved */
    id += 2;
    starve_wait(b, 2, id++, 1); /* starved */
    starve_wait(b, 2, id, 2);   /* not starved, and it does not clear the strike */
    id += 2;
    starve_wait(b, 53, id++, 1); /* starved, 55 ms after the first: a first strike again */
    assert_int_equal(coalescing_pauses(b), 0);
    starve_wait(b, 50, id++, 1); /* 50 ms later: paused */
    assert_int_equal(coalescing_pauses(b), 1);
    uint64_t paused_at = sb_now(b);
    assert_int_equal(read_low_water(b), 1); /* the window is full, publishes wait */
    send_puback(b, id++);
    sb_expect_packet(b, MQTT5_PUBLISH);
    assert_int_equal(read_low_water(b), 1);
    sb_run_until(b, paused_at + 999);
    assert_int_equal(read_low_water(b), 1);
    sb_run_until(b, paused_at + 1000);
    assert_int_equal(read_low_water(b), 24); /* tried again, a wait from now */
    assert_int_equal(sb_wake_at(b), paused_at + 1002);
    starve_wait(b, 2, id++, 1);
    starve_wait(b, 2, id++, 1);
    assert_int_equal(coalescing_pauses(b), 2);
    assert_int_equal(read_low_water(b), 1);

    /* a new connection, within the pause, starts without it */
    sb_close(b, 0);
    sb_advance(b, 10); /* reconnect_min_ms */
    sb_expect_packet(b, MQTT5_CONNECT);
    sb_connack(b, 0x00, false, &ca);
    while (sb_next_packet(b)) {
    }
    assert_int_equal(read_low_water(b), 24);
    sb_free(b);
}

/* No coalescing when it is off, or with a window too small to leave a quarter in flight. */
static void ack_coalescing_off_or_small_window(void **state)
{
    (void)state;
    for (int round = 0; round < 2; round++) {
        mqtt5_client_core_options o;
        sb_options_default(&o);
        o.ack_coalescing = round == 1;
        mqtt5_properties ca = receive_maximum(round == 0 ? 8 : 3);
        sb *b = connected(&o, &ca);
        for (int i = 0; i < 10; i++)
            publish_ok(b, "t", 1, "");
        sb_settle(b);
        assert_int_equal(read_low_water(b), 1);
        for (uint16_t id = 1; id <= 10; id++) {
            while (sb_next_packet(b)) {
            }
            send_puback(b, id);
        }
        assert_int_equal(sb_completion_count(b), 10);
        sb_free(b);
    }
}

/* ---- queue bounds -----------------------------------------------------------------------------
 */

static void queue_full_by_operation_count(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.max_queued_ops = 3;
    sb *b = connected(&o, NULL);
    publish_ok(b, "a/b", 1, "1");
    publish_ok(b, "a/b", 1, "2");
    mqtt5_subscribe s = sub_of(two_subs, 1);
    assert_int_equal(sb_subscribe(b, &s, NULL, NULL), 0);
    mqtt5_publish p = pub("a/b", 0, "x");
    assert_refused(b, sb_publish(b, &p, NULL, NULL), MQTT5_ERR_QUEUE_FULL, NULL);
    assert_refused(b, sb_subscribe(b, &s, NULL, NULL), MQTT5_ERR_QUEUE_FULL, NULL);
    mqtt5_unsubscribe u = unsub_of(two_filters, 1);
    assert_refused(b, sb_unsubscribe(b, &u, NULL, NULL), MQTT5_ERR_QUEUE_FULL, NULL);
    sb_settle(b); /* in flight still counts */
    sb_expect_packet(b, MQTT5_PUBLISH);
    sb_expect_packet(b, MQTT5_PUBLISH);
    sb_expect_packet(b, MQTT5_SUBSCRIBE);
    assert_refused(b, sb_publish(b, &p, NULL, NULL), MQTT5_ERR_QUEUE_FULL, NULL);
    sb_send_hex(b, "40 02 0001");
    assert_int_equal(sb_publish(b, &p, NULL, NULL), 0);
    assert_refused(b, sb_publish(b, &p, NULL, NULL), MQTT5_ERR_QUEUE_FULL, NULL);
    sb_settle(b); /* the QoS 0 completes at hand-out and frees its place */
    sb_expect_packet(b, MQTT5_PUBLISH);
    assert_int_equal(sb_publish(b, &p, NULL, NULL), 0);
    sb_send_hex(b, "40 02 0002 90 04 0003 00 01");
    assert_int_equal(sb_completion_count(b), 5);
    sb_free(b);
}

static void queue_full_by_bytes(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.max_queued_bytes = 25; /* two 12-byte QoS 1 publishes fit, a third does not */
    sb *b = connected(&o, NULL);
    publish_ok(b, "a/b", 1, "hi");
    publish_ok(b, "a/b", 1, "hi");
    mqtt5_publish p = pub("a/b", 1, "hi");
    assert_refused(b, sb_publish(b, &p, NULL, NULL), MQTT5_ERR_QUEUE_FULL, NULL);
    mqtt5_publish tiny = pub("a", 0, ""); /* 5 bytes: still over (24 + 5 > 25) */
    assert_refused(b, sb_publish(b, &tiny, NULL, NULL), MQTT5_ERR_QUEUE_FULL, NULL);
    mqtt5_client_stats st;
    mqtt5_client_core_stats(sb_core(b), &st);
    assert_int_equal(st.incomplete_ops, 2);
    assert_int_equal(st.incomplete_bytes, 24);
    sb_settle(b);
    sb_expect_packet(b, MQTT5_PUBLISH);
    sb_expect_packet(b, MQTT5_PUBLISH);
    assert_refused(b, sb_publish(b, &p, NULL, NULL), MQTT5_ERR_QUEUE_FULL, NULL);
    sb_send_hex(b, "40 02 0001");
    assert_int_equal(sb_publish(b, &p, NULL, NULL), 0);
    sb_settle(b);
    sb_send_hex(b, "40 02 0002 40 02 0003");
    assert_int_equal(sb_completion_count(b), 3);
    sb_free(b);
}

/* ---- validation -------------------------------------------------------------------------------
 */

static void publish_client_rules(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL);
    mqtt5_publish p = pub("a/b", 1, "x");
    p.packet_id = 7;
    p.dup = true;
    assert_refused(b, sb_publish(b, &p, NULL, NULL), MQTT5_ERR_INVALID_ARGUMENT, "messageId");
    p.packet_id = 0;
    assert_refused(b, sb_publish(b, &p, NULL, NULL), MQTT5_ERR_INVALID_ARGUMENT, "dup");
    p = pub("", 0, "x");
    assert_refused(b, sb_publish(b, &p, NULL, NULL), MQTT5_ERR_INVALID_TOPIC, "topic");
    p = pub("", 1, "x");
    MQTT5_PROPS_SET(&p.properties, MQTT5_PROP_TOPIC_ALIAS); /* an alias does not excuse it */
    p.properties.topic_alias = 1;
    assert_refused(b, sb_publish(b, &p, NULL, NULL), MQTT5_ERR_INVALID_TOPIC, "topic");
    static const uint32_t sid[] = {5};
    p = pub("a/b", 0, "x");
    p.properties.subscription_identifiers = sid;
    p.properties.subscription_identifier_count = 1;
    assert_refused(b, sb_publish(b, &p, NULL, NULL), MQTT5_ERR_INVALID_ARGUMENT,
                   "properties.subscriptionIdentifier");
    p = pub("a/b", 0, "x");
    MQTT5_PROPS_SET(&p.properties, MQTT5_PROP_TOPIC_ALIAS); /* alias_out DISABLED */
    p.properties.topic_alias = 1;
    assert_refused(b, sb_publish(b, &p, NULL, NULL), MQTT5_ERR_INVALID_ARGUMENT,
                   "properties.topicAlias");
    sb_settle(b);
    sb_expect_no_packet(b);
    assert_int_equal(sb_completion_count(b), 0);
    sb_free(b);
}

/* The codec's own rules, with its error and field: the core reports what the encoder says. */
static void check_codec_refusal(sb *b, const mqtt5_packet *pk, int want_err, const char *field)
{
    mqtt5_packet withid = *pk;
    if (withid.type == MQTT5_PUBLISH && withid.u.publish.qos) withid.u.publish.packet_id = 1;
    if (withid.type == MQTT5_SUBSCRIBE) withid.u.subscribe.packet_id = 1;
    if (withid.type == MQTT5_UNSUBSCRIBE) withid.u.unsubscribe.packet_id = 1;
    size_t n = 0;
    mqtt5_codec_status codec = {0};
    assert_err(mqtt5_packet_encoded_size(&withid, &n, &codec), want_err);
    int rc;
    if (pk->type == MQTT5_PUBLISH)
        rc = sb_publish(b, &pk->u.publish, NULL, NULL);
    else if (pk->type == MQTT5_SUBSCRIBE)
        rc = sb_subscribe(b, &pk->u.subscribe, NULL, NULL);
    else
        rc = sb_unsubscribe(b, &pk->u.unsubscribe, NULL, NULL);
    assert_refused(b, rc, want_err, field);
    assert_string_equal(sb_status(b)->field, codec.field);
}

static void codec_rules_with_codec_fields(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL);
    mqtt5_packet pk = {.type = MQTT5_PUBLISH};
    pk.u.publish = pub("a/+", 0, "x");
    check_codec_refusal(b, &pk, MQTT5_ERR_INVALID_TOPIC, "topic");
    pk.u.publish = pub("a/b", 3, "x");
    check_codec_refusal(b, &pk, MQTT5_ERR_INVALID_PACKET, "qos");

    pk = (mqtt5_packet){.type = MQTT5_SUBSCRIBE};
    pk.u.subscribe = sub_of(two_subs, 0);
    check_codec_refusal(b, &pk, MQTT5_ERR_INVALID_PACKET, "subscriptions");
    static const mqtt5_subscription bad_filter[] = {{SI("a/#/b"), 0, false, false, 0}};
    pk.u.subscribe = sub_of(bad_filter, 1);
    check_codec_refusal(b, &pk, MQTT5_ERR_INVALID_TOPIC, "subscriptions.topic");
    static const mqtt5_subscription bad_qos[] = {{SI("a"), 0, false, false, 0},
                                                 {SI("b"), 3, false, false, 0}};
    pk.u.subscribe = sub_of(bad_qos, 2);
    check_codec_refusal(b, &pk, MQTT5_ERR_INVALID_PACKET, "subscriptions.qos");
    pk.u.subscribe = sub_of(two_subs, 1);
    pk.u.subscribe.packet_id = 9;
    assert_refused(b, sb_subscribe(b, &pk.u.subscribe, NULL, NULL), MQTT5_ERR_INVALID_ARGUMENT,
                   "messageId");

    pk = (mqtt5_packet){.type = MQTT5_UNSUBSCRIBE};
    pk.u.unsubscribe = unsub_of(two_filters, 0);
    check_codec_refusal(b, &pk, MQTT5_ERR_INVALID_PACKET, "unsubscriptions");
    pk.u.unsubscribe = unsub_of(two_filters, 1);
    pk.u.unsubscribe.packet_id = 9;
    assert_refused(b, sb_unsubscribe(b, &pk.u.unsubscribe, NULL, NULL), MQTT5_ERR_INVALID_ARGUMENT,
                   "messageId");
    sb_settle(b);
    sb_expect_no_packet(b);
    sb_free(b);
}

static void offline_refusals_follow_policy(void **state)
{
    (void)state;
    static const mqtt5_offline_policy policies[] = {
        MQTT5_OFFLINE_FAIL_QOS0_PUBLISH_ON_DISCONNECT,
        MQTT5_OFFLINE_FAIL_NON_QOS1_PUBLISH_ON_DISCONNECT,
        MQTT5_OFFLINE_FAIL_ALL_ON_DISCONNECT,
    };
    /* accepted? for: QoS 0, QoS 1, QoS 2, SUBSCRIBE, UNSUBSCRIBE */
    static const bool keep[3][5] = {
        {false, true, true, true, true},
        {false, true, true, false, false},
        {false, false, false, false, false},
    };
    for (size_t i = 0; i < COUNT_OF(policies); i++) {
        mqtt5_client_core_options o;
        sb_options_default(&o);
        o.offline_policy = policies[i];
        sb *b = sb_new(&o); /* never started: not connected */
        for (uint8_t q = 0; q <= 2; q++) {
            mqtt5_publish p = pub("a/b", q, "x");
            int rc = sb_publish(b, &p, NULL, NULL);
            if (keep[i][q])
                assert_int_equal(rc, 0);
            else
                assert_refused(b, rc, MQTT5_ERR_OFFLINE_POLICY, NULL);
        }
        mqtt5_subscribe s = sub_of(two_subs, 1);
        int rc = sb_subscribe(b, &s, NULL, NULL);
        if (keep[i][3])
            assert_int_equal(rc, 0);
        else
            assert_refused(b, rc, MQTT5_ERR_OFFLINE_POLICY, NULL);
        mqtt5_unsubscribe u = unsub_of(two_filters, 1);
        rc = sb_unsubscribe(b, &u, NULL, NULL);
        if (keep[i][4])
            assert_int_equal(rc, 0);
        else
            assert_refused(b, rc, MQTT5_ERR_OFFLINE_POLICY, NULL);
        assert_int_equal(sb_completion_count(b), 0);
        sb_free(b); /* accepted ones complete with STOPPED at destroy */
    }
}

static mqtt5_properties one_flag(mqtt5_property_id id)
{
    mqtt5_properties p;
    memset(&p, 0, sizeof(p));
    MQTT5_PROPS_SET(&p, id);
    /* every flag property is 0 = not available; maximum QoS 0 */
    return p;
}

static void not_available_maximum_qos_0(void **state)
{
    (void)state;
    mqtt5_properties ca = one_flag(MQTT5_PROP_MAXIMUM_QOS);
    sb *b = connected(NULL, &ca);
    mqtt5_publish p = pub("a/b", 1, "x");
    assert_refused(b, sb_publish(b, &p, NULL, NULL), MQTT5_ERR_NOT_AVAILABLE, "qos");
    p.qos = 2;
    assert_refused(b, sb_publish(b, &p, NULL, NULL), MQTT5_ERR_NOT_AVAILABLE, "qos");
    p.qos = 0;
    assert_int_equal(sb_publish(b, &p, NULL, NULL), 0);
    sb_settle(b);
    sb_expect_hex(b, "30 07 0003 612f62 00 78");
    sb_free(b);
}

static void maximum_qos_1_allows_qos_1(void **state)
{
    (void)state;
    mqtt5_properties ca = one_flag(MQTT5_PROP_MAXIMUM_QOS);
    ca.maximum_qos = 1;
    sb *b = connected(NULL, &ca);
    mqtt5_publish p = pub("a/b", 2, "x");
    assert_refused(b, sb_publish(b, &p, NULL, NULL), MQTT5_ERR_NOT_AVAILABLE, "qos");
    p.qos = 1;
    assert_int_equal(sb_publish(b, &p, NULL, NULL), 0);
    sb_settle(b);
    sb_expect_hex(b, "32 09 0003 612f62 0001 00 78");
    sb_send_hex(b, "40 02 0001");
    sb_free(b);
}

static void not_available_retain(void **state)
{
    (void)state;
    mqtt5_properties ca = one_flag(MQTT5_PROP_RETAIN_AVAILABLE);
    sb *b = connected(NULL, &ca);
    mqtt5_publish p = pub("a/b", 0, "x");
    p.retain = true;
    assert_refused(b, sb_publish(b, &p, NULL, NULL), MQTT5_ERR_NOT_AVAILABLE, "retain");
    p.retain = false;
    assert_int_equal(sb_publish(b, &p, NULL, NULL), 0);
    sb_settle(b);
    sb_expect_hex(b, "30 07 0003 612f62 00 78");
    sb_free(b);
}

static void not_available_wildcard(void **state)
{
    (void)state;
    mqtt5_properties ca = one_flag(MQTT5_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE);
    sb *b = connected(NULL, &ca);
    static const mqtt5_subscription multi[] = {{SI("a"), 0, false, false, 0},
                                               {SI("a/#"), 0, false, false, 0}};
    static const mqtt5_subscription single[] = {{SI("+/b"), 0, false, false, 0}};
    mqtt5_subscribe s = sub_of(multi, 2);
    assert_refused(b, sb_subscribe(b, &s, NULL, NULL), MQTT5_ERR_NOT_AVAILABLE,
                   "subscriptions.topic");
    s = sub_of(single, 1);
    assert_refused(b, sb_subscribe(b, &s, NULL, NULL), MQTT5_ERR_NOT_AVAILABLE,
                   "subscriptions.topic");
    s = sub_of(multi, 1);
    assert_int_equal(sb_subscribe(b, &s, NULL, NULL), 0);
    sb_settle(b);
    sb_expect_hex(b, "82 07 0001 00 0001 61 00");
    sb_send_hex(b, "90 04 0001 00 00");
    sb_free(b);
}

static void not_available_shared(void **state)
{
    (void)state;
    mqtt5_properties ca = one_flag(MQTT5_PROP_SHARED_SUBSCRIPTION_AVAILABLE);
    sb *b = connected(NULL, &ca);
    static const mqtt5_subscription shared[] = {{SI("a"), 0, false, false, 0},
                                                {SI("$share/g/a"), 0, false, false, 0}};
    mqtt5_subscribe s = sub_of(shared, 2);
    assert_refused(b, sb_subscribe(b, &s, NULL, NULL), MQTT5_ERR_NOT_AVAILABLE,
                   "subscriptions.topic");
    s = sub_of(shared, 1);
    assert_int_equal(sb_subscribe(b, &s, NULL, NULL), 0);
    sb_settle(b);
    sb_expect_packet(b, MQTT5_SUBSCRIBE);
    sb_send_hex(b, "90 04 0001 00 00");
    sb_free(b);
}

static void not_available_subscription_identifiers(void **state)
{
    (void)state;
    mqtt5_properties ca = one_flag(MQTT5_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE);
    sb *b = connected(NULL, &ca);
    static const uint32_t sid[] = {1};
    mqtt5_subscribe s = sub_of(two_subs, 1);
    s.properties.subscription_identifiers = sid;
    s.properties.subscription_identifier_count = 1;
    assert_refused(b, sb_subscribe(b, &s, NULL, NULL), MQTT5_ERR_NOT_AVAILABLE,
                   "properties.subscriptionIdentifier");
    s = sub_of(two_subs, 1);
    assert_int_equal(sb_subscribe(b, &s, NULL, NULL), 0);
    sb_settle(b);
    sb_expect_packet(b, MQTT5_SUBSCRIBE);
    sb_send_hex(b, "90 04 0001 00 01");
    sb_free(b);
}

static void server_maximum_packet_size(void **state)
{
    (void)state;
    mqtt5_properties ca = one_flag(MQTT5_PROP_MAXIMUM_PACKET_SIZE);
    ca.maximum_packet_size = 100;
    sb *b = connected(NULL, &ca);
    static char payload[96];
    memset(payload, 'p', 94); /* 1 + 1 + 3 ("t") + 1 + 94 = 100 bytes */
    mqtt5_publish p = pub("t", 0, payload);
    assert_int_equal(sb_publish(b, &p, NULL, NULL), 0);
    payload[94] = 'p'; /* 101 bytes */
    p = pub("t", 0, payload);
    assert_refused(b, sb_publish(b, &p, NULL, NULL), MQTT5_ERR_PACKET_TOO_LARGE, "payload");
    sb_settle(b);
    const sb_packet *k = sb_expect_packet(b, MQTT5_PUBLISH);
    assert_int_equal(k->len, 100);
    sb_expect_no_packet(b);

    static const mqtt5_subscription long_filter[] = {
        {SI("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
            "ffffffffffffffffff"),
         0, false, false, 0}};
    mqtt5_subscribe s = sub_of(long_filter, 1);
    int rc = sb_subscribe(b, &s, NULL, NULL);
    assert_err(rc, MQTT5_ERR_PACKET_TOO_LARGE);
    static const mqtt5_str long_unsub[] = {
        SI("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
           "ffffffffffffffffff")};
    mqtt5_unsubscribe u = unsub_of(long_unsub, 1);
    assert_err(sb_unsubscribe(b, &u, NULL, NULL), MQTT5_ERR_PACKET_TOO_LARGE);
    sb_free(b);
}

/* Design section 3: availability is checked at hand-out for operations queued while offline. */
static void availability_checked_at_handout_when_queued_offline(void **state)
{
    (void)state;
    sb *b = sb_new(NULL);
    mqtt5_publish q2 = pub("a/b", 2, "x");
    uint64_t id = 0;
    assert_int_equal(sb_publish(b, &q2, NULL, &id), 0); /* offline: queued */
    mqtt5_properties ca = one_flag(MQTT5_PROP_MAXIMUM_QOS);
    ca.maximum_qos = 1;
    sb_connect(b, &ca);
    sb_expect_no_packet(b); /* a QoS 2 PUBLISH would be a protocol error [MQTT-3.2.2-11] */
    assert_int_equal(sb_completion_count(b), 1);
    assert_completion(b, 0, id, MQTT5_ERR_NOT_AVAILABLE, 0, 0);
    sb_free(b);
}

/* Design section 3: the server's Maximum Packet Size is checked again at hand-out; an operation
 * queued while offline that is too big for the new connection fails alone. */
static void packet_too_large_at_handout_fails_alone(void **state)
{
    (void)state;
    sb *b = sb_new(NULL);
    static char payload[201];
    memset(payload, 'p', 200);
    mqtt5_publish big = pub("a/b", 1, payload);
    uint64_t id = 0;
    assert_int_equal(sb_publish(b, &big, NULL, &id), 0); /* offline: the size is not known yet */
    uint64_t small = publish_ok(b, "a/b", 1, "x");
    mqtt5_properties ca = one_flag(MQTT5_PROP_MAXIMUM_PACKET_SIZE);
    ca.maximum_packet_size = 100;
    sb_connect(b, &ca);
    assert_int_equal(sb_completion_count(b), 1);
    assert_completion(b, 0, id, MQTT5_ERR_PACKET_TOO_LARGE, 0, 0);
    const sb_packet *k = sb_expect_packet(b, MQTT5_PUBLISH);
    assert_int_equal(k->p.u.publish.payload.len, 1);
    sb_expect_no_packet(b);
    sb_expect_events(b, ""); /* the connection stays */
    send_puback(b, k->p.u.publish.packet_id);
    assert_completion(b, 1, small, 0, MQTT5_PUBACK, 0);
    sb_free(b);
}

/* The same when it is the only operation: nothing to write, and want.write must not promise
 * bytes that mem_send then does not hand out (the harness checks that at every step). */
static void packet_too_large_at_handout_only_operation(void **state)
{
    (void)state;
    sb *b = sb_new(NULL);
    static char payload[201];
    memset(payload, 'p', 200);
    mqtt5_publish big = pub("a/b", 1, payload);
    uint64_t id = 0;
    assert_int_equal(sb_publish(b, &big, NULL, &id), 0);
    mqtt5_properties ca = one_flag(MQTT5_PROP_MAXIMUM_PACKET_SIZE);
    ca.maximum_packet_size = 100;
    sb_connect(b, &ca);
    assert_int_equal(sb_completion_count(b), 1);
    assert_completion(b, 0, id, MQTT5_ERR_PACKET_TOO_LARGE, 0, 0);
    sb_expect_no_packet(b);
    sb_expect_events(b, "");
    sb_free(b);
}

/* An operation that fails at hand-out never reached the wire: its id is not used up, the next
 * operation gets 1. */
static void packet_id_not_burned_by_failed_handout(void **state)
{
    (void)state;
    sb *b = sb_new(NULL);
    static char payload[201];
    memset(payload, 'p', 200);
    mqtt5_publish big = pub("a/b", 1, payload);
    assert_int_equal(sb_publish(b, &big, NULL, NULL), 0);
    publish_ok(b, "a/b", 1, "x");
    mqtt5_properties ca = one_flag(MQTT5_PROP_MAXIMUM_PACKET_SIZE);
    ca.maximum_packet_size = 100;
    sb_connect(b, &ca);
    sb_expect_hex(b, "32 09 0003 612f62 0001 00 78");
    sb_send_hex(b, "40 02 0001");
    sb_free(b);
}

/* ---- statistics ----------------------------------------------------------------------------- */

static void stats_count_incomplete_and_unacked(void **state)
{
    (void)state;
    sb *b = connected(NULL, NULL);
    mqtt5_client_stats st;
    publish_ok(b, "a/b", 1, "hi"); /* 12 bytes */
    publish_ok(b, "a/b", 2, "hi"); /* 12 bytes */
    publish_ok(b, "a/b", 0, "hi"); /* 10 bytes */
    mqtt5_client_core_stats(sb_core(b), &st);
    assert_int_equal(st.incomplete_ops, 3);
    assert_int_equal(st.incomplete_bytes, 34);
    assert_int_equal(st.unacked_ops, 0);
    assert_int_equal(st.unacked_bytes, 0);
    sb_settle(b);
    mqtt5_client_core_stats(sb_core(b), &st);
    assert_int_equal(st.incomplete_ops, 2);
    assert_int_equal(st.incomplete_bytes, 24);
    assert_int_equal(st.unacked_ops, 2);
    assert_int_equal(st.unacked_bytes, 24);
    assert_int_equal(st.packets_sent[MQTT5_PUBLISH], 3);
    assert_int_equal(st.packets_sent[MQTT5_CONNECT], 1);
    sb_send_hex(b, "40 02 0001 50 02 0002");
    mqtt5_client_core_stats(sb_core(b), &st);
    assert_int_equal(st.incomplete_ops, 1);
    assert_int_equal(st.unacked_ops, 1); /* QoS 2 waits for PUBCOMP */
    assert_int_equal(st.unacked_bytes, 12);
    assert_int_equal(st.packets_sent[MQTT5_PUBREL], 1);
    assert_int_equal(st.packets_received[MQTT5_PUBACK], 1);
    assert_int_equal(st.packets_received[MQTT5_PUBREC], 1);
    sb_send_hex(b, "70 02 0002");
    mqtt5_client_core_stats(sb_core(b), &st);
    assert_int_equal(st.incomplete_ops, 0);
    assert_int_equal(st.incomplete_bytes, 0);
    assert_int_equal(st.unacked_ops, 0);
    assert_int_equal(st.unacked_bytes, 0);
    assert_int_equal(st.batches_sent, sb_batches(b));
    assert_int_equal(st.ack_timeouts, 0);
    sb_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(qos0_exact_bytes_completes_at_handout),
        cmocka_unit_test(ack_coalescing_while_the_window_holds_publishes),
        cmocka_unit_test(ack_coalescing_off_or_small_window),
        cmocka_unit_test(ack_coalescing_pauses_for_a_server_that_holds_acks),
        cmocka_unit_test(qos1_puback_completes),
        cmocka_unit_test(qos1_puback_reason_codes),
        cmocka_unit_test(qos2_full_exchange),
        cmocka_unit_test(qos2_pubrec_failure_completes_without_pubrel),
        cmocka_unit_test(qos2_pubrec_and_pubcomp_with_properties),
        cmocka_unit_test(publish_with_properties_exact_bytes),
        cmocka_unit_test(packet_ids_one_two_three_across_types),
        cmocka_unit_test(packet_ids_consecutive_across_batches),
        cmocka_unit_test(packet_ids_wrap_to_one_after_65535),
        cmocka_unit_test(packet_ids_wrap_skips_ids_in_flight),
        cmocka_unit_test(ack_timeout_keeps_connection_late_ack_silent),
        cmocka_unit_test(ack_timeout_qos2_subscribe_unsubscribe),
        cmocka_unit_test(ack_timeout_id_not_reused_while_reserved),
        cmocka_unit_test(ack_timeout_zombie_holds_receive_maximum_slot),
        cmocka_unit_test(ack_timeout_per_operation_override),
        cmocka_unit_test(ack_timeout_zero_means_none),
        cmocka_unit_test(subscribe_exact_bytes_and_suback),
        cmocka_unit_test(subscribe_with_options_and_properties_exact_bytes),
        cmocka_unit_test(suback_mixed_and_all_failed),
        cmocka_unit_test(suback_wrong_count_is_protocol_error),
        cmocka_unit_test(unsubscribe_exact_bytes_and_unsuback),
        cmocka_unit_test(unsuback_wrong_count_is_protocol_error),
        cmocka_unit_test(hundred_qos0_publishes_one_batch),
        cmocka_unit_test(batch_never_exceeds_write_batch_size),
        cmocka_unit_test(packet_bigger_than_batch_goes_alone),
        cmocka_unit_test(receive_maximum_blocks_fifo_until_puback),
        cmocka_unit_test(receive_maximum_counts_qos2_until_pubcomp),
        cmocka_unit_test(receive_maximum_failed_puback_frees_slot),
        cmocka_unit_test(queue_full_by_operation_count),
        cmocka_unit_test(queue_full_by_bytes),
        cmocka_unit_test(publish_client_rules),
        cmocka_unit_test(codec_rules_with_codec_fields),
        cmocka_unit_test(offline_refusals_follow_policy),
        cmocka_unit_test(not_available_maximum_qos_0),
        cmocka_unit_test(maximum_qos_1_allows_qos_1),
        cmocka_unit_test(not_available_retain),
        cmocka_unit_test(not_available_wildcard),
        cmocka_unit_test(not_available_shared),
        cmocka_unit_test(not_available_subscription_identifiers),
        cmocka_unit_test(server_maximum_packet_size),
        cmocka_unit_test(availability_checked_at_handout_when_queued_offline),
        cmocka_unit_test(packet_too_large_at_handout_fails_alone),
        cmocka_unit_test(packet_too_large_at_handout_only_operation),
        cmocka_unit_test(packet_id_not_burned_by_failed_handout),
        cmocka_unit_test(stats_count_incomplete_and_unacked),
    };
    return cmocka_run_group_tests(tests, NULL, sb_group_teardown);
}
