/*
 * test_client_inbound.c - messages from the server (client_core.h, design section 3 "Inbound"):
 * QoS 0/1/2 delivery with the exact acknowledgements sent, QoS 2 exactly once, PUBREL for an
 * unknown id, our Receive Maximum, manual PUBACK/PUBREC (take_ack in on_publish, send_ack later)
 * and stale handles, inbound topic aliases. Every test ends with sb_free (guarantees, no leak).
 * It must not reach into the core's internals: only client_core.h through the scripted broker.
 */
#include "helpers/test_common.h"
#include "helpers/scripted_broker.h"

static sb *connected(const mqtt5_client_core_options *o)
{
    sb *b = sb_new(o);
    sb_connect(b, NULL);
    return b;
}

static sb *connected_with_receive_maximum(uint16_t n)
{
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.receive_maximum = n;
    o.receive_maximum_strict = true;
    return connected(&o);
}

static sb *connected_with_aliases(mqtt5_alias_in mode, uint16_t max)
{
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.alias_in = mode;
    o.alias_in_max = max;
    return connected(&o);
}

#define assert_received(b, i, want_topic, want_payload_hex, want_qos)                              \
    do {                                                                                           \
        const sb_received *r_ = sb_received_at((b), (i));                                          \
        assert_non_null(r_);                                                                       \
        assert_str_eq(r_->publish.topic, (want_topic));                                            \
        assert_bytes_hex(r_->publish.payload, (want_payload_hex));                                 \
        assert_int_equal(r_->publish.qos, (want_qos));                                             \
    } while (0)

/* Reconnects after a broker-side close: backoff (scripted random 0: the minimum delay), CONNECT,
 * CONNACK without a session. */
static void reconnect(sb *b)
{
    sb_close(b, 0);
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_CONNECTION_CLOSED");
    sb_advance(b, 1000);
    sb_expect_events(b, "ATTEMPTING_CONNECT");
    sb_expect_packet(b, MQTT5_CONNECT);
    sb_connack(b, 0x00, false, NULL);
    sb_expect_events(b, "CONNECTION_SUCCESS");
}

/* ---- QoS 0 / 1 / 2 -------------------------------------------------------------------------- */

static void qos0_delivered_no_ack(void **state)
{
    (void)state;
    sb *b = connected(NULL);
    sb_send_hex(b, "30 08 0003 612f62 00 6869");
    assert_int_equal(sb_received_count(b), 1);
    assert_received(b, 0, "a/b", "6869", 0);
    assert_int_equal(sb_received_at(b, 0)->ack_handle, 0);
    sb_expect_no_packet(b);
    sb_expect_events(b, "");
    sb_free(b);
}

static void qos1_delivered_then_puback(void **state)
{
    (void)state;
    sb *b = connected(NULL);
    sb_send_hex(b, "32 0a 0003 612f62 0007 00 6869");
    assert_int_equal(sb_received_count(b), 1);
    assert_received(b, 0, "a/b", "6869", 1);
    assert_true(sb_received_at(b, 0)->ack_handle != 0);
    sb_expect_hex(b, "40 02 0007");
    sb_expect_no_packet(b);
    sb_expect_order(b, "IN:PUBLISH; PUBLISH_IN; OUT:PUBACK");
    /* a redelivery (DUP) of a QoS 1 message is delivered again: at least once */
    sb_send_hex(b, "3a 0a 0003 612f62 0007 00 6869");
    assert_int_equal(sb_received_count(b), 2);
    sb_expect_hex(b, "40 02 0007");
    sb_free(b);
}

static void qos1_several_in_one_read_acked_in_order(void **state)
{
    (void)state;
    sb *b = connected(NULL);
    sb_send_hex(b, "32 07 0001 61 0001 00 31"
                   "32 07 0001 62 0002 00 32"
                   "30 05 0001 63 00 33"
                   "32 07 0001 64 0003 00 34");
    assert_int_equal(sb_received_count(b), 4);
    assert_received(b, 0, "a", "31", 1);
    assert_received(b, 1, "b", "32", 1);
    assert_received(b, 2, "c", "33", 0);
    assert_received(b, 3, "d", "34", 1);
    sb_expect_hex(b, "40 02 0001");
    sb_expect_hex(b, "40 02 0002");
    sb_expect_hex(b, "40 02 0003");
    sb_expect_no_packet(b);
    sb_free(b);
}

static void qos2_pubrec_pubrel_pubcomp(void **state)
{
    (void)state;
    sb *b = connected(NULL);
    sb_send_hex(b, "34 0a 0003 612f62 0009 00 6869");
    assert_int_equal(sb_received_count(b), 1);
    assert_received(b, 0, "a/b", "6869", 2);
    assert_true(sb_received_at(b, 0)->ack_handle != 0);
    sb_expect_hex(b, "50 02 0009");
    sb_expect_no_packet(b);
    sb_send_hex(b, "62 02 0009");
    sb_expect_hex(b, "70 02 0009");
    sb_expect_no_packet(b);
    assert_int_equal(sb_received_count(b), 1);
    sb_expect_events(b, "");
    sb_free(b);
}

static void qos2_duplicate_before_pubrel_not_delivered_again(void **state)
{
    (void)state;
    sb *b = connected(NULL);
    sb_send_hex(b, "34 0a 0003 612f62 0009 00 6869");
    sb_expect_hex(b, "50 02 0009");
    sb_send_hex(b, "3c 0a 0003 612f62 0009 00 6869"); /* DUP resend */
    assert_int_equal(sb_received_count(b), 1);
    sb_expect_hex(b, "50 02 0009");                   /* PUBREC again */
    sb_send_hex(b, "34 0a 0003 612f62 0009 00 6869"); /* even without DUP: same id, same message */
    assert_int_equal(sb_received_count(b), 1);
    sb_expect_hex(b, "50 02 0009");
    sb_send_hex(b, "62 02 0009");
    sb_expect_hex(b, "70 02 0009");
    /* after PUBCOMP the id is free: a new message with it is delivered */
    sb_send_hex(b, "34 0a 0003 612f62 0009 00 6a6b");
    assert_int_equal(sb_received_count(b), 2);
    assert_received(b, 1, "a/b", "6a6b", 2);
    sb_expect_hex(b, "50 02 0009");
    sb_send_hex(b, "62 02 0009");
    sb_expect_hex(b, "70 02 0009");
    sb_expect_no_packet(b);
    sb_free(b);
}

static void qos2_interleaved_ids(void **state)
{
    (void)state;
    sb *b = connected(NULL);
    sb_send_hex(b, "34 07 0001 61 0001 00 31 34 07 0001 62 0002 00 32");
    sb_expect_hex(b, "50 02 0001");
    sb_expect_hex(b, "50 02 0002");
    sb_send_hex(b, "62 02 0002");
    sb_expect_hex(b, "70 02 0002");
    sb_send_hex(b, "3c 07 0001 61 0001 00 31"); /* 1 still awaits PUBREL */
    sb_expect_hex(b, "50 02 0001");
    sb_send_hex(b, "62 02 0001");
    sb_expect_hex(b, "70 02 0001");
    assert_int_equal(sb_received_count(b), 2);
    sb_free(b);
}

static void pubrel_unknown_id_pubcomp_0x92(void **state)
{
    (void)state;
    sb *b = connected(NULL);
    sb_send_hex(b, "62 02 0005");
    sb_expect_hex(b, "70 03 0005 92");
    sb_expect_no_packet(b);
    sb_expect_events(b, "");
    assert_true(sb_transport_is_open(b));
    /* a second PUBREL after the exchange completed: unknown as well */
    sb_send_hex(b, "34 07 0001 61 0006 00 31");
    sb_expect_hex(b, "50 02 0006");
    sb_send_hex(b, "62 02 0006");
    sb_expect_hex(b, "70 02 0006");
    sb_send_hex(b, "62 02 0006");
    sb_expect_hex(b, "70 03 0006 92");
    sb_free(b);
}

/* ---- our Receive Maximum ------------------------------------------------------------------ */

static void receive_maximum_sent_in_connect(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.receive_maximum = 2;
    sb *b = sb_new(&o);
    sb_start(b);
    const sb_packet *k = sb_expect_packet(b, MQTT5_CONNECT);
    assert_true(MQTT5_PROPS_HAS(&k->p.u.connect.properties, MQTT5_PROP_RECEIVE_MAXIMUM));
    assert_int_equal(k->p.u.connect.properties.receive_maximum, 2);
    sb_free(b);
}

static void receive_maximum_exceeded_by_qos2(void **state)
{
    (void)state;
    sb *b = connected_with_receive_maximum(2);
    sb_send_hex(b, "34 07 0001 61 0001 00 31");
    sb_send_hex(b, "34 07 0001 61 0002 00 32");
    sb_expect_hex(b, "50 02 0001");
    sb_expect_hex(b, "50 02 0002");
    sb_send_hex(b, "34 07 0001 61 0003 00 33"); /* a third one awaiting PUBREL: too many */
    assert_int_equal(sb_last_event(b)->sent_reason_code, MQTT5_RC_RECEIVE_MAXIMUM_EXCEEDED);
    sb_expect_hex(b, "e0 01 93");
    sb_expect_no_packet(b);
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_PROTOCOL_ERROR");
    assert_int_equal(sb_received_count(b), 2);
    assert_false(sb_transport_is_open(b));
    sb_free(b);
}

static void receive_maximum_slot_freed_by_pubcomp(void **state)
{
    (void)state;
    sb *b = connected_with_receive_maximum(2);
    sb_send_hex(b, "34 07 0001 61 0001 00 31");
    sb_send_hex(b, "34 07 0001 61 0002 00 32");
    sb_send_hex(b, "62 02 0001");
    sb_expect_hex(b, "50 02 0001");
    sb_expect_hex(b, "50 02 0002");
    sb_expect_hex(b, "70 02 0001");
    sb_send_hex(b, "34 07 0001 61 0003 00 33"); /* two awaiting PUBREL again: fine */
    sb_expect_hex(b, "50 02 0003");
    sb_expect_events(b, "");
    sb_send_hex(b, "62 02 0002 62 02 0003");
    sb_expect_hex(b, "70 02 0002");
    sb_expect_hex(b, "70 02 0003");
    /* QoS 1 acknowledged before the next arrives never accumulates */
    for (int i = 0; i < 5; i++) {
        sb_send_hex(b, "32 07 0001 61 0010 00 34");
        sb_expect_hex(b, "40 02 0010");
    }
    sb_expect_events(b, "");
    assert_int_equal(sb_received_count(b), 8);
    sb_free(b);
}

static void receive_maximum_exceeded_by_qos1_in_one_read(void **state)
{
    (void)state;
    sb *b = connected_with_receive_maximum(2);
    /* three QoS 1 in one read: none of their PUBACKs can have reached the server */
    sb_send_hex(b, "32 07 0001 61 0001 00 31"
                   "32 07 0001 61 0002 00 32"
                   "32 07 0001 61 0003 00 33");
    assert_int_equal(sb_received_count(b), 2);
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_PROTOCOL_ERROR");
    const sb_packet *k = sb_next_packet(b);
    while (k && k->p.type == MQTT5_PUBACK) /* owed PUBACKs may go before the DISCONNECT */
        k = sb_next_packet(b);
    assert_non_null(k);
    assert_int_equal(k->p.type, MQTT5_DISCONNECT);
    assert_int_equal(k->p.u.disconnect.reason_code, MQTT5_RC_RECEIVE_MAXIMUM_EXCEEDED);
    sb_expect_no_packet(b);
    sb_free(b);
}

static void receive_maximum_exceeded_tolerated_by_default(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.receive_maximum = 2;
    assert_false(o.receive_maximum_strict);
    sb *b = connected(&o);
    /* a flood beyond Receive Maximum in one read (mosquitto resuming a session): every message
     * is delivered and acknowledged, in order, and the connection stays up */
    char hex[64 * 40] = "";
    for (int i = 1; i <= 40; i++)
        snprintf(hex + strlen(hex), sizeof hex - strlen(hex), "32 07 0001 61 %04x 00 31 ", i);
    sb_send_hex(b, hex);
    assert_int_equal(sb_received_count(b), 40);
    for (int i = 1; i <= 40; i++) {
        char ack[32];
        snprintf(ack, sizeof ack, "40 02 %04x", i);
        sb_expect_hex(b, ack);
    }
    sb_send_hex(b, "34 07 0001 61 0051 00 32 34 07 0001 61 0052 00 32 34 07 0001 61 0053 00 32");
    sb_expect_hex(b, "50 02 0051");
    sb_expect_hex(b, "50 02 0052");
    sb_expect_hex(b, "50 02 0053");
    sb_expect_events(b, "");
    assert_true(sb_transport_is_open(b));
    mqtt5_client_stats st;
    mqtt5_client_core_stats(sb_core(b), &st);
    assert_int_equal(st.receive_maximum_exceeded, 38 + 1);
    sb_free(b);
}

/* ---- manual acknowledgement ------------------------------------------------------------------ */

static void manual_puback_success_and_failure(void **state)
{
    (void)state;
    sb *b = connected(NULL);
    sb_take_acks(b, true);
    sb_send_hex(b, "32 07 0001 61 0007 00 31");
    sb_send_hex(b, "32 07 0001 61 0008 00 32");
    assert_int_equal(sb_received_count(b), 2);
    sb_expect_no_packet(b); /* held by the user */
    sb_advance(b, 500);
    sb_expect_no_packet(b);
    uint64_t h7 = sb_received_at(b, 0)->ack_handle, h8 = sb_received_at(b, 1)->ack_handle;
    assert_true(h7 != 0 && h8 != 0 && h7 != h8);
    assert_int_equal(sb_send_ack(b, h8, 0x80), 0);
    sb_expect_hex(b, "40 03 0008 80");
    assert_int_equal(sb_send_ack(b, h7, 0x00), 0);
    sb_expect_hex(b, "40 02 0007");
    sb_expect_no_packet(b);
    /* a handle is used once */
    assert_err(sb_send_ack(b, h7, 0x00), MQTT5_ERR_STALE_HANDLE);
    sb_expect_no_packet(b);
    sb_expect_events(b, "");
    sb_free(b);
}

static void manual_pubrec_success_then_pubrel(void **state)
{
    (void)state;
    sb *b = connected(NULL);
    sb_take_acks(b, true);
    sb_send_hex(b, "34 07 0001 61 000a 00 31");
    assert_int_equal(sb_received_count(b), 1);
    sb_expect_no_packet(b);
    uint64_t h = sb_received_at(b, 0)->ack_handle;
    /* a resend while the user holds the PUBREC: not delivered, and no automatic PUBREC */
    sb_send_hex(b, "3c 07 0001 61 000a 00 31");
    assert_int_equal(sb_received_count(b), 1);
    sb_expect_no_packet(b);
    assert_int_equal(sb_send_ack(b, h, 0x00), 0);
    sb_expect_hex(b, "50 02 000a");
    sb_expect_no_packet(b);
    sb_send_hex(b, "62 02 000a");
    sb_expect_hex(b, "70 02 000a");
    sb_expect_events(b, "");
    sb_free(b);
}

static void manual_pubrec_failure(void **state)
{
    (void)state;
    sb *b = connected(NULL);
    sb_take_acks(b, true);
    sb_send_hex(b, "34 07 0001 61 000b 00 31");
    uint64_t h = sb_received_at(b, 0)->ack_handle;
    assert_int_equal(sb_send_ack(b, h, 0x80), 0);
    sb_expect_hex(b, "50 03 000b 80");
    sb_expect_no_packet(b);
    assert_err(sb_send_ack(b, h, 0x00), MQTT5_ERR_STALE_HANDLE);
    sb_expect_no_packet(b);
    sb_free(b);
}

/* take_ack works inside on_publish only, once, for QoS 1/2 handles. */
typedef struct take_log {
    int first, second;
    size_t calls;
} take_log;

static void take_twice(sb *b, const mqtt5_inbound_publish *msg, void *ctx)
{
    take_log *log = ctx;
    log->calls++;
    log->first = mqtt5_client_core_take_ack(sb_core(b), msg->ack_handle);
    log->second = mqtt5_client_core_take_ack(sb_core(b), msg->ack_handle);
}

static void take_ack_only_inside_on_publish(void **state)
{
    (void)state;
    sb *b = connected(NULL);
    take_log log = {1, 1, 0};
    sb_on_publish_hook(b, take_twice, &log);
    sb_send_hex(b, "32 07 0001 61 0007 00 31");
    assert_int_equal(log.calls, 1);
    assert_int_equal(log.first, 0);
    assert_true(log.second < 0); /* already taken */
    sb_expect_no_packet(b);
    uint64_t h = sb_received_at(b, 0)->ack_handle;
    sb_on_publish_hook(b, NULL, NULL);
    /* outside the callback: refused, and the ack stays with whoever holds it */
    assert_true(mqtt5_client_core_take_ack(sb_core(b), h) < 0);
    sb_send_hex(b, "32 07 0001 61 0008 00 32");
    sb_expect_hex(b, "40 02 0008");
    uint64_t h8 = sb_received_at(b, 1)->ack_handle;
    assert_true(mqtt5_client_core_take_ack(sb_core(b), h8) < 0); /* too late: already sent */
    assert_err(sb_send_ack(b, h8, 0x00), MQTT5_ERR_STALE_HANDLE);
    sb_expect_no_packet(b);
    assert_int_equal(sb_send_ack(b, h, 0x00), 0);
    sb_expect_hex(b, "40 02 0007");
    sb_free(b);
}

static void held_acks_count_against_receive_maximum(void **state)
{
    (void)state;
    sb *b = connected_with_receive_maximum(2);
    sb_take_acks(b, true);
    sb_send_hex(b, "32 07 0001 61 0001 00 31");
    sb_send_hex(b, "32 07 0001 61 0002 00 32");
    sb_expect_no_packet(b);
    uint64_t h1 = sb_received_at(b, 0)->ack_handle;
    assert_int_equal(sb_send_ack(b, h1, 0x00), 0);
    sb_expect_hex(b, "40 02 0001");
    sb_send_hex(b, "32 07 0001 61 0003 00 33"); /* 2 unacknowledged: fine */
    sb_expect_events(b, "");
    sb_send_hex(b, "32 07 0001 61 0004 00 34"); /* 3: too many */
    sb_expect_hex(b, "e0 01 93");
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_PROTOCOL_ERROR");
    assert_int_equal(sb_received_count(b), 3);
    sb_free(b);
}

static void stale_handle_after_reconnect(void **state)
{
    (void)state;
    sb *b = connected(NULL);
    sb_take_acks(b, true);
    sb_send_hex(b, "32 07 0001 61 0007 00 31");
    sb_send_hex(b, "34 07 0001 61 0008 00 32");
    uint64_t h1 = sb_received_at(b, 0)->ack_handle, h2 = sb_received_at(b, 1)->ack_handle;
    sb_close(b, 0);
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_CONNECTION_CLOSED");
    assert_err(sb_send_ack(b, h1, 0x00), MQTT5_ERR_STALE_HANDLE); /* no connection */
    sb_advance(b, 1000);
    sb_expect_events(b, "ATTEMPTING_CONNECT");
    sb_expect_packet(b, MQTT5_CONNECT);
    sb_connack(b, 0x00, false, NULL);
    sb_expect_events(b, "CONNECTION_SUCCESS");
    assert_err(sb_send_ack(b, h1, 0x00), MQTT5_ERR_STALE_HANDLE);
    assert_err(sb_send_ack(b, h2, 0x00), MQTT5_ERR_STALE_HANDLE);
    sb_expect_no_packet(b);
    /* the server redelivers on the new connection: a new, working handle */
    sb_send_hex(b, "3a 07 0001 61 0007 00 31");
    assert_int_equal(sb_received_count(b), 3);
    uint64_t h3 = sb_received_at(b, 2)->ack_handle;
    assert_true(h3 != h1);
    assert_int_equal(sb_send_ack(b, h3, 0x00), 0);
    sb_expect_hex(b, "40 02 0007");
    sb_expect_events(b, "");
    sb_free(b);
}

/* ---- inbound topic aliases ------------------------------------------------------------------ */

static void alias_maximum_in_connect(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.alias_in = MQTT5_ALIAS_IN_ENABLED;
    o.alias_in_max = 5;
    sb *b = sb_new(&o);
    sb_start(b);
    const sb_packet *k = sb_expect_packet(b, MQTT5_CONNECT);
    assert_true(MQTT5_PROPS_HAS(&k->p.u.connect.properties, MQTT5_PROP_TOPIC_ALIAS_MAXIMUM));
    assert_int_equal(k->p.u.connect.properties.topic_alias_maximum, 5);
    sb_connack(b, 0x00, false, NULL);
    sb_expect_events(b, "ATTEMPTING_CONNECT; CONNECTION_SUCCESS");
    assert_int_equal(sb_last_event(b)->settings.topic_alias_max_to_client, 5);
    sb_free(b);

    b = sb_new(NULL); /* DISABLED: nothing advertised */
    sb_start(b);
    k = sb_expect_packet(b, MQTT5_CONNECT);
    assert_false(MQTT5_PROPS_HAS(&k->p.u.connect.properties, MQTT5_PROP_TOPIC_ALIAS_MAXIMUM));
    sb_free(b);
}

static void alias_bind_then_alias_only_resolved(void **state)
{
    (void)state;
    sb *b = connected_with_aliases(MQTT5_ALIAS_IN_ENABLED, 5);
    sb_send_hex(b, "30 0a 0003 612f62 03 230001 31"); /* "a/b" bound to alias 1 */
    sb_send_hex(b, "30 07 0000 03 230001 32");        /* alias only */
    sb_send_hex(b, "32 09 0000 0004 03 230001 33");   /* alias only, QoS 1 */
    sb_expect_hex(b, "40 02 0004");
    sb_send_hex(b, "30 0a 0003 632f64 03 230005 34"); /* "c/d" on alias 5 (= maximum) */
    sb_send_hex(b, "30 0a 0003 652f66 03 230001 35"); /* alias 1 rebound to "e/f" */
    sb_send_hex(b, "30 07 0000 03 230001 36");
    sb_send_hex(b, "30 07 0000 03 230005 37");
    assert_int_equal(sb_received_count(b), 7);
    assert_received(b, 0, "a/b", "31", 0);
    assert_received(b, 1, "a/b", "32", 0);
    assert_received(b, 2, "a/b", "33", 1);
    assert_received(b, 3, "c/d", "34", 0);
    assert_received(b, 4, "e/f", "35", 0);
    assert_received(b, 5, "e/f", "36", 0);
    assert_received(b, 6, "c/d", "37", 0);
    sb_expect_no_packet(b);
    sb_expect_events(b, "");
    sb_free(b);
}

/* The resolved topic is what on_publish sees, inside the callback. */
typedef struct topic_log {
    char topic[32];
    size_t len;
} topic_log;

static void log_topic(sb *b, const mqtt5_inbound_publish *msg, void *ctx)
{
    (void)b;
    topic_log *t = ctx;
    t->len = msg->publish->topic.len < sizeof(t->topic) ? msg->publish->topic.len : 0;
    if (t->len) memcpy(t->topic, msg->publish->topic.ptr, t->len);
}

static void alias_only_topic_seen_in_on_publish(void **state)
{
    (void)state;
    sb *b = connected_with_aliases(MQTT5_ALIAS_IN_ENABLED, 5);
    topic_log t = {{0}, 0};
    sb_on_publish_hook(b, log_topic, &t);
    sb_send_hex(b, "30 0c 0005 782f792f7a 03 230002 31"); /* "x/y/z" on alias 2 */
    sb_send_hex(b, "30 07 0000 03 230002 32");
    assert_int_equal(t.len, 5);
    assert_memory_equal(t.topic, "x/y/z", 5);
    sb_free(b);
}

static void check_alias_error(sb *b, const char *hex, uint8_t reason, int error)
{
    size_t before = sb_received_count(b);
    sb_send_hex(b, hex);
    const sb_packet *k = sb_expect_packet(b, MQTT5_DISCONNECT);
    assert_int_equal(k->p.u.disconnect.reason_code, reason);
    sb_expect_no_packet(b);
    sb_expect_events(b, "DISCONNECTION");
    assert_err(sb_last_event(b)->error, error);
    assert_int_equal(sb_received_count(b), before);
    assert_false(sb_transport_is_open(b));
}

static void alias_zero_is_invalid(void **state)
{
    (void)state;
    sb *b = connected_with_aliases(MQTT5_ALIAS_IN_ENABLED, 5);
    check_alias_error(b, "30 0a 0003 612f62 03 230000 31", 0x94, MQTT5_ERR_TOPIC_ALIAS_INVALID);
    sb_free(b);
}

static void alias_above_maximum_is_invalid(void **state)
{
    (void)state;
    sb *b = connected_with_aliases(MQTT5_ALIAS_IN_ENABLED, 5);
    check_alias_error(b, "30 0a 0003 612f62 03 230006 31", 0x94, MQTT5_ERR_TOPIC_ALIAS_INVALID);
    sb_free(b);
}

static void alias_unbound_is_protocol_error(void **state)
{
    (void)state;
    sb *b = connected_with_aliases(MQTT5_ALIAS_IN_ENABLED, 5);
    sb_send_hex(b, "30 0a 0003 612f62 03 230001 31");
    check_alias_error(b, "30 07 0000 03 230002 32", 0x82, MQTT5_ERR_PROTOCOL_ERROR);
    sb_free(b);
}

static void alias_disabled_any_alias_invalid(void **state)
{
    (void)state;
    sb *b = connected(NULL);
    check_alias_error(b, "30 0a 0003 612f62 03 230001 31", 0x94, MQTT5_ERR_TOPIC_ALIAS_INVALID);
    sb_free(b);
    b = connected_with_aliases(MQTT5_ALIAS_IN_DISABLED, 5); /* the maximum is ignored */
    check_alias_error(b, "30 0a 0003 612f62 03 230001 31", 0x94, MQTT5_ERR_TOPIC_ALIAS_INVALID);
    sb_free(b);
}

static void alias_bindings_reset_at_reconnect(void **state)
{
    (void)state;
    sb *b = connected_with_aliases(MQTT5_ALIAS_IN_ENABLED, 5);
    sb_send_hex(b, "30 0a 0003 612f62 03 230001 31");
    reconnect(b);
    check_alias_error(b, "30 07 0000 03 230001 32", 0x82, MQTT5_ERR_PROTOCOL_ERROR);
    assert_int_equal(sb_received_count(b), 1);
    sb_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(qos0_delivered_no_ack),
        cmocka_unit_test(qos1_delivered_then_puback),
        cmocka_unit_test(qos1_several_in_one_read_acked_in_order),
        cmocka_unit_test(qos2_pubrec_pubrel_pubcomp),
        cmocka_unit_test(qos2_duplicate_before_pubrel_not_delivered_again),
        cmocka_unit_test(qos2_interleaved_ids),
        cmocka_unit_test(pubrel_unknown_id_pubcomp_0x92),
        cmocka_unit_test(receive_maximum_sent_in_connect),
        cmocka_unit_test(receive_maximum_exceeded_by_qos2),
        cmocka_unit_test(receive_maximum_slot_freed_by_pubcomp),
        cmocka_unit_test(receive_maximum_exceeded_by_qos1_in_one_read),
        cmocka_unit_test(receive_maximum_exceeded_tolerated_by_default),
        cmocka_unit_test(manual_puback_success_and_failure),
        cmocka_unit_test(manual_pubrec_success_then_pubrel),
        cmocka_unit_test(manual_pubrec_failure),
        cmocka_unit_test(take_ack_only_inside_on_publish),
        cmocka_unit_test(held_acks_count_against_receive_maximum),
        cmocka_unit_test(stale_handle_after_reconnect),
        cmocka_unit_test(alias_maximum_in_connect),
        cmocka_unit_test(alias_bind_then_alias_only_resolved),
        cmocka_unit_test(alias_only_topic_seen_in_on_publish),
        cmocka_unit_test(alias_zero_is_invalid),
        cmocka_unit_test(alias_above_maximum_is_invalid),
        cmocka_unit_test(alias_unbound_is_protocol_error),
        cmocka_unit_test(alias_disabled_any_alias_invalid),
        cmocka_unit_test(alias_bindings_reset_at_reconnect),
    };
    return cmocka_run_group_tests(tests, NULL, sb_group_teardown);
}
