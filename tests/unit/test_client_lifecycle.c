/*
 * test_client_lifecycle.c - the client core's connection lifecycle (client_core.h, design
 * section 2): start, CONNECT bytes, CONNACK acceptance and refusal, timeouts, stop in every
 * state, restart, server DISCONNECT, malformed input while connected. Every test ends with
 * sb_free, which checks the lifecycle and completion guarantees and that no memory leaked.
 */
#include "helpers/test_common.h"
#include "helpers/scripted_broker.h"

/* The CONNECT of sb_options_default(): the core owns clean start, Receive Maximum and Maximum
 * Packet Size; Topic Alias Maximum is not sent while inbound aliases are disabled. */
#define CONNECT_HEAD                                                                               \
    "0004 4d515454 05"    /* "MQTT", version 5 */                                                  \
    "02"                  /* flags: clean start */                                                 \
    "003c"                /* keep alive 60 */                                                      \
    "08 2100642700020000" /* properties: receive maximum 100, maximum packet size 131072 */
static const char CONNECT_DEFAULT[] = "10 20" CONNECT_HEAD "000b 746573742d636c69656e74";
static const char CONNECT_NO_ID[] = "10 15" CONNECT_HEAD "0000";
static const char CONNECT_SRV42[] = "10 1b" CONNECT_HEAD "0006 7372762d3432"; /* "srv-42" */

static mqtt5_client_state state_of(sb *b)
{
    return mqtt5_client_core_state(sb_core(b));
}

static mqtt5_client_want want_of(sb *b)
{
    mqtt5_client_want w;
    mqtt5_client_core_want(sb_core(b), &w);
    return w;
}

static sb *new_without_client_id(void)
{
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.connect.client_id = (mqtt5_str){"", 0};
    return sb_new(&o);
}

static void options_defaults_match_header(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    memset(&o, 0xa5, sizeof(o));
    mqtt5_client_core_options_init(&o);
    assert_null(o.allocator);
    assert_null(o.callbacks.on_lifecycle);
    assert_null(o.random_u64);
    assert_int_equal(o.connect.keep_alive, 1200);
    assert_int_equal(o.connect.client_id.len, 0);
    assert_int_equal(o.session_behavior, MQTT5_SESSION_CLEAN);
    assert_int_equal(o.offline_policy, MQTT5_OFFLINE_FAIL_QOS0_PUBLISH_ON_DISCONNECT);
    assert_int_equal(o.connack_timeout_ms, 20000);
    assert_int_equal(o.ping_timeout_ms, 30000);
    assert_int_equal(o.ack_timeout_ms, 60000);
    assert_int_equal(o.reconnect_min_ms, 1000);
    assert_int_equal(o.reconnect_max_ms, 120000);
    assert_int_equal(o.reconnect_reset_after_ms, 30000);
    assert_int_equal(o.jitter, MQTT5_JITTER_FULL);
    assert_int_equal(o.max_queued_ops, 1024);
    assert_int_equal(o.max_queued_bytes, 4u * 1024 * 1024);
    assert_int_equal(o.receive_maximum, 100);
    assert_int_equal(o.max_inbound_packet_size, 131072);
    assert_int_equal(o.write_batch_size, 16384);
    assert_int_equal(o.alias_out, MQTT5_ALIAS_OUT_DISABLED);
    assert_int_equal(o.alias_out_cache, 25);
    assert_int_equal(o.alias_in, MQTT5_ALIAS_IN_DISABLED);
    assert_int_equal(o.alias_in_max, 25);
    assert_false(o.iot_core);
}

static void start_attempts_connect_then_sends_connect(void **state)
{
    (void)state;
    sb *b = sb_new(NULL);
    sb_on_open(b, SB_MANUAL);
    assert_int_equal(state_of(b), MQTT5_CS_STOPPED);
    assert_false(want_of(b).transport_open);
    sb_start(b);
    sb_expect_events(b, "ATTEMPTING_CONNECT @0");
    assert_int_equal(state_of(b), MQTT5_CS_CONNECTING);
    assert_true(want_of(b).transport_open);
    mqtt5_negotiated_settings s;
    assert_false(mqtt5_client_core_settings(sb_core(b), &s));
    sb_advance(b, 100); /* a slow transport: nothing times out before it opens */
    sb_expect_events(b, "");
    sb_expect_no_packet(b);
    sb_accept_open(b);
    sb_expect_hex(b, CONNECT_DEFAULT);
    sb_expect_no_packet(b);
    assert_int_equal(state_of(b), MQTT5_CS_MQTT_CONNECT);
    sb_expect_events(b, "");
    sb_free(b);
}

static void connack_success_default_settings(void **state)
{
    (void)state;
    sb *b = sb_new(NULL);
    sb_start(b);
    sb_expect_hex(b, CONNECT_DEFAULT);
    sb_advance(b, 40);
    sb_connack(b, 0x00, false, NULL);
    sb_expect_events(b, "ATTEMPTING_CONNECT @0; CONNECTION_SUCCESS @40 rc=0x00");
    assert_int_equal(state_of(b), MQTT5_CS_CONNECTED);
    const sb_event *e = sb_last_event(b);
    assert_true(e->has_connack);
    assert_false(e->session_present);
    assert_true(e->has_settings);
    const mqtt5_negotiated_settings *s = &e->settings;
    assert_false(s->rejoined_session);
    assert_int_equal(s->maximum_qos, 2);
    assert_true(s->retain_available);
    assert_true(s->wildcard_available);
    assert_true(s->shared_available);
    assert_true(s->subscription_ids_available);
    assert_int_equal(s->keep_alive_s, 60);
    assert_int_equal(s->ping_timeout_ms, 30000);
    assert_int_equal(s->session_expiry_s, 0);
    assert_int_equal(s->max_packet_size_to_server, 0);
    assert_int_equal(s->max_packet_size_to_client, 131072);
    assert_int_equal(s->receive_maximum_from_server, 65535);
    assert_int_equal(s->receive_maximum_to_server, 100);
    assert_int_equal(s->topic_alias_max_to_client, 0);
    assert_str_eq(s->client_id, "test-client");
    mqtt5_negotiated_settings got;
    assert_true(mqtt5_client_core_settings(sb_core(b), &got));
    assert_int_equal(got.keep_alive_s, 60);
    assert_int_equal(got.receive_maximum_from_server, 65535);
    assert_str_eq(got.client_id, "test-client");
    assert_true(want_of(b).transport_open);
    sb_expect_no_packet(b);
    sb_free(b);
}

static void connack_success_server_settings(void **state)
{
    (void)state;
    sb *b = new_without_client_id();
    sb_start(b);
    sb_expect_hex(b, CONNECT_NO_ID);
    mqtt5_properties p = {0};
    MQTT5_PROPS_SET(&p, MQTT5_PROP_SERVER_KEEP_ALIVE);
    p.server_keep_alive = 30;
    MQTT5_PROPS_SET(&p, MQTT5_PROP_RECEIVE_MAXIMUM);
    p.receive_maximum = 10;
    MQTT5_PROPS_SET(&p, MQTT5_PROP_ASSIGNED_CLIENT_IDENTIFIER);
    p.assigned_client_identifier = S("srv-7");
    MQTT5_PROPS_SET(&p, MQTT5_PROP_MAXIMUM_QOS);
    p.maximum_qos = 1;
    MQTT5_PROPS_SET(&p, MQTT5_PROP_RETAIN_AVAILABLE);
    p.retain_available = 0;
    MQTT5_PROPS_SET(&p, MQTT5_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE);
    p.wildcard_subscription_available = 0;
    MQTT5_PROPS_SET(&p, MQTT5_PROP_MAXIMUM_PACKET_SIZE);
    p.maximum_packet_size = 5000;
    MQTT5_PROPS_SET(&p, MQTT5_PROP_SESSION_EXPIRY_INTERVAL);
    p.session_expiry_interval = 120;
    sb_connack(b, 0x00, false, &p);
    sb_expect_events(b, "ATTEMPTING_CONNECT; CONNECTION_SUCCESS");
    const mqtt5_negotiated_settings *s = &sb_last_event(b)->settings;
    assert_int_equal(s->keep_alive_s, 30);
    assert_int_equal(s->ping_timeout_ms, 15000); /* min(30000, 30 * 1000 / 2) */
    assert_int_equal(s->receive_maximum_from_server, 10);
    assert_int_equal(s->receive_maximum_to_server, 100);
    assert_int_equal(s->maximum_qos, 1);
    assert_false(s->retain_available);
    assert_false(s->wildcard_available);
    assert_true(s->shared_available);
    assert_true(s->subscription_ids_available);
    assert_int_equal(s->max_packet_size_to_server, 5000);
    assert_int_equal(s->max_packet_size_to_client, 131072);
    assert_int_equal(s->session_expiry_s, 120);
    assert_str_eq(s->client_id, "srv-7");
    mqtt5_negotiated_settings got;
    assert_true(mqtt5_client_core_settings(sb_core(b), &got));
    assert_int_equal(got.keep_alive_s, 30);
    assert_int_equal(got.max_packet_size_to_server, 5000);
    assert_str_eq(got.client_id, "srv-7");
    sb_free(b);
}

static void connack_in_two_pieces(void **state)
{
    (void)state;
    mqtt5_packet p = {.type = MQTT5_CONNACK};
    MQTT5_PROPS_SET(&p.u.connack.properties, MQTT5_PROP_SERVER_KEEP_ALIVE);
    p.u.connack.properties.server_keep_alive = 7;
    for (size_t at = 1; at < 8; at++) { /* the CONNACK is 8 bytes */
        sb *b = sb_new(NULL);
        sb_start(b);
        sb_expect_packet(b, MQTT5_CONNECT);
        sb_send_split(b, &p, at);
        sb_expect_events(b, "ATTEMPTING_CONNECT; CONNECTION_SUCCESS");
        assert_int_equal(sb_last_event(b)->settings.keep_alive_s, 7);
        sb_free(b);
    }
}

/* Every allocation of mqtt5_client_core_new may fail: NOMEM, nothing leaked, no core. */
static void core_new_out_of_memory(void **state)
{
    (void)state;
    size_t k = 1;
    for (;; k++) {
        int err = 0;
        sb *b = sb_new_failing(NULL, k, &err);
        if (b != NULL) {
            assert_int_equal(err, 0);
            test_allocator_fail_at(sb_allocator(b), 0, false);
            sb_connect(b, NULL);
            sb_free(b);
            break;
        }
        assert_err(err, MQTT5_ERR_NOMEM);
        assert_true(k < 100);
    }
    assert_true(k > 1); /* the core allocates at least its own state */
}

static void stop_with_disconnect(void **state)
{
    (void)state;
    sb *b = sb_new(NULL);
    sb_connect(b, NULL);
    sb_advance(b, 10);
    mqtt5_disconnect d = {.reason_code = 0x00};
    sb_stop(b, &d);
    sb_expect_hex(b, "e0 00");
    sb_expect_no_packet(b);
    assert_false(sb_transport_is_open(b));
    assert_int_equal(sb_client_closes(b), 1);
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_STOPPED @10; STOPPED @10");
    sb_expect_order(b, "OUT:CONNECT; CONNECTION_SUCCESS; OUT:DISCONNECT; CLOSE_CLIENT; STOPPED");
    assert_int_equal(state_of(b), MQTT5_CS_STOPPED);
    assert_false(want_of(b).transport_open);
    assert_true(sb_wake_at(b) == MQTT5_TIME_NEVER);
    sb_advance(b, 600000); /* stopped stays stopped */
    sb_expect_events(b, "");
    assert_int_equal(sb_opens(b), 1);
    sb_free(b);
}

static void stop_with_disconnect_reason_and_properties(void **state)
{
    (void)state;
    sb *b = sb_new(NULL);
    sb_connect(b, NULL);
    mqtt5_disconnect d = {.reason_code = MQTT5_RC_DISCONNECT_WITH_WILL_MESSAGE};
    MQTT5_PROPS_SET(&d.properties, MQTT5_PROP_REASON_STRING);
    d.properties.reason_string = S("bye");
    sb_stop(b, &d);
    sb_expect_hex(b, "e0 08 04 06 1f 0003 627965");
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_STOPPED; STOPPED");
    sb_free(b);
}

static void stop_without_disconnect(void **state)
{
    (void)state;
    sb *b = sb_new(NULL);
    sb_connect(b, NULL);
    sb_stop(b, NULL);
    sb_expect_no_packet(b);
    assert_false(sb_transport_is_open(b));
    assert_int_equal(sb_client_closes(b), 1);
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_STOPPED; STOPPED");
    sb_expect_order(b, "CONNECTION_SUCCESS; CLOSE_CLIENT; STOPPED");
    assert_int_equal(state_of(b), MQTT5_CS_STOPPED);
    sb_free(b);
}

static void stop_while_transport_opening(void **state)
{
    (void)state;
    sb *b = sb_new(NULL);
    sb_on_open(b, SB_MANUAL);
    sb_start(b);
    sb_advance(b, 5);
    mqtt5_disconnect d = {.reason_code = 0};
    sb_stop(b, &d); /* no DISCONNECT without a connection */
    sb_expect_no_packet(b);
    assert_false(want_of(b).transport_open);
    assert_int_equal(sb_client_closes(b), 1);
    sb_expect_events(b,
                     "ATTEMPTING_CONNECT @0; CONNECTION_FAILURE MQTT5_ERR_STOPPED @5; STOPPED @5");
    assert_int_equal(state_of(b), MQTT5_CS_STOPPED);
    sb_free(b);
}

static void stop_while_waiting_for_connack(void **state)
{
    (void)state;
    sb *b = sb_new(NULL);
    sb_start(b);
    sb_expect_packet(b, MQTT5_CONNECT);
    sb_advance(b, 7);
    mqtt5_disconnect d = {.reason_code = 0};
    sb_stop(b, &d); /* design: no DISCONNECT before CONNACK */
    sb_expect_no_packet(b);
    assert_false(sb_transport_is_open(b));
    sb_expect_events(b, "ATTEMPTING_CONNECT; CONNECTION_FAILURE MQTT5_ERR_STOPPED @7; STOPPED @7");
    sb_expect_order(b, "OUT:CONNECT; CONNECTION_FAILURE; CLOSE_CLIENT; STOPPED");
    sb_free(b);
}

static void restart_after_stopped(void **state)
{
    (void)state;
    sb *b = sb_new(NULL);
    sb_connect(b, NULL);
    sb_stop(b, NULL);
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_STOPPED; STOPPED");
    sb_advance(b, 3000);
    sb_start(b); /* a fresh start: no backoff */
    sb_expect_events(b, "ATTEMPTING_CONNECT @3000");
    sb_expect_hex(b, CONNECT_DEFAULT);
    sb_connack(b, 0x00, false, NULL);
    sb_expect_events(b, "CONNECTION_SUCCESS @3000");
    assert_int_equal(sb_opens(b), 2);
    sb_stop(b, NULL);
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_STOPPED; STOPPED");
    sb_free(b);
}

/* Design section 2: start() before the close completes still gives the stop its STOPPED. */
static void stop_then_start_before_close(void **state)
{
    (void)state;
    sb *b = sb_new(NULL);
    sb_connect(b, NULL);
    mqtt5_disconnect d = {.reason_code = 0};
    mqtt5_codec_status st = {0};
    assert_int_equal(mqtt5_client_core_stop(sb_core(b), sb_now(b), &d, &st), 0);
    assert_int_equal(mqtt5_client_core_start(sb_core(b), sb_now(b)), 0);
    sb_advance(b, 5000);
    sb_expect_order(b, "DISCONNECTION; OUT:DISCONNECT; CLOSE_CLIENT; STOPPED; ATTEMPTING_CONNECT");
    assert_int_equal(sb_event_at(b, 2)->type, MQTT5_LC_DISCONNECTION);
    assert_int_equal(sb_event_at(b, 2)->error, MQTT5_ERR_STOPPED);
    assert_int_equal(sb_event_at(b, 3)->type, MQTT5_LC_STOPPED);
    assert_int_equal(sb_event_at(b, 4)->type, MQTT5_LC_ATTEMPTING_CONNECT);
    sb_free(b);
}

static void connack_refused_then_reconnect_after_backoff(void **state)
{
    (void)state;
    sb *b = sb_new(NULL);
    sb_start(b);
    sb_expect_packet(b, MQTT5_CONNECT);
    sb_advance(b, 50);
    mqtt5_properties p = {0};
    MQTT5_PROPS_SET(&p, MQTT5_PROP_REASON_STRING);
    p.reason_string = S("no");
    sb_connack(b, MQTT5_RC_NOT_AUTHORIZED, false, &p);
    sb_expect_events(
        b, "ATTEMPTING_CONNECT @0; CONNECTION_FAILURE MQTT5_ERR_CONNACK_REFUSED @50 rc=0x87");
    sb_expect_no_packet(b); /* refused: nothing to say, just close */
    assert_false(sb_transport_is_open(b));
    assert_int_equal(state_of(b), MQTT5_CS_PENDING_RECONNECT);
    assert_int_equal(sb_wake_at(b), 1050); /* FULL jitter, n = 0: uniform in [1000, 1000] */
    sb_run_until(b, 1049);
    sb_expect_events(b, "");
    sb_run_until(b, 1050);
    sb_expect_events(b, "ATTEMPTING_CONNECT @1050");
    sb_expect_hex(b, CONNECT_DEFAULT);
    sb_connack(b, 0x00, false, NULL);
    sb_expect_events(b, "CONNECTION_SUCCESS @1050");
    sb_free(b);
}

static void connack_timeout_counts_from_transport_open(void **state)
{
    (void)state;
    sb *b = sb_new(NULL);
    sb_on_open(b, SB_MANUAL);
    sb_start(b);
    sb_advance(b, 100);
    sb_accept_open(b);
    sb_expect_packet(b, MQTT5_CONNECT);
    assert_int_equal(sb_wake_at(b), 20100);
    sb_run_until(b, 20099);
    sb_expect_events(b, "ATTEMPTING_CONNECT @0");
    assert_true(sb_transport_is_open(b));
    sb_run_until(b, 20100);
    sb_expect_events(b, "CONNECTION_FAILURE MQTT5_ERR_CONNACK_TIMEOUT @20100");
    sb_expect_no_packet(b);
    assert_false(sb_transport_is_open(b));
    assert_int_equal(sb_client_closes(b), 1);
    sb_free(b);
}

static void connack_timeout_configurable(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.connack_timeout_ms = 500;
    sb *b = sb_new(&o);
    sb_start(b);
    sb_expect_packet(b, MQTT5_CONNECT);
    sb_run_until(b, 499);
    sb_expect_events(b, "ATTEMPTING_CONNECT");
    sb_run_until(b, 500);
    sb_expect_events(b, "CONNECTION_FAILURE MQTT5_ERR_CONNACK_TIMEOUT @500");
    sb_free(b);
}

static void session_present_after_clean_start(void **state)
{
    (void)state;
    sb *b = sb_new(NULL);
    sb_start(b);
    sb_expect_packet(b, MQTT5_CONNECT);
    sb_connack(b, 0x00, true, NULL);
    sb_expect_events(b, "ATTEMPTING_CONNECT; CONNECTION_FAILURE MQTT5_ERR_SESSION_PRESENT rc=0x00");
    assert_true(sb_last_event(b)->has_connack);
    assert_true(sb_last_event(b)->session_present);
    sb_expect_hex(b, "e0 01 82");
    assert_false(sb_transport_is_open(b));
    sb_expect_order(b, "CONNECTION_FAILURE; OUT:DISCONNECT; CLOSE_CLIENT");
    sb_free(b);
}

/* Anything but CONNACK (or AUTH) before CONNACK is a protocol error: DISCONNECT 0x82. */
static void packet_before_connack_is_protocol_error(void **state)
{
    (void)state;
    static const char *const early[] = {
        "30 05 0001 61 00 78", /* PUBLISH QoS 0 "a" "x" */
        "d0 00",               /* PINGRESP */
        "40 02 0001",          /* PUBACK */
        "90 04 0001 00 00",    /* SUBACK */
    };
    for (size_t i = 0; i < COUNT_OF(early); i++) {
        sb *b = sb_new(NULL);
        sb_start(b);
        sb_expect_packet(b, MQTT5_CONNECT);
        sb_send_hex(b, early[i]);
        sb_expect_events(b, "ATTEMPTING_CONNECT; CONNECTION_FAILURE MQTT5_ERR_PROTOCOL_ERROR");
        sb_expect_hex(b, "e0 01 82");
        assert_false(sb_transport_is_open(b));
        assert_int_equal(sb_received_count(b), 0);
        sb_free(b);
    }
}

static void malformed_before_connack(void **state)
{
    (void)state;
    static const char bad[] = "00 00"; /* packet type 0 is reserved */
    mqtt5_codec_status st = decode_fails(bad, 131072);
    sb *b = sb_new(NULL);
    sb_start(b);
    sb_expect_packet(b, MQTT5_CONNECT);
    sb_send_hex(b, bad);
    sb_expect_events(b, "ATTEMPTING_CONNECT; CONNECTION_FAILURE");
    assert_err(sb_last_event(b)->error, st.error);
    const sb_packet *k = sb_expect_packet(b, MQTT5_DISCONNECT);
    assert_int_equal(k->p.u.disconnect.reason_code, st.reason_code);
    assert_false(sb_transport_is_open(b));
    sb_free(b);
}

static void transport_open_failure(void **state)
{
    (void)state;
    sb *b = sb_new(NULL);
    sb_on_open(b, SB_FAIL(MQTT5_ERR_IO));
    sb_start(b);
    sb_expect_events(b, "ATTEMPTING_CONNECT @0; CONNECTION_FAILURE MQTT5_ERR_IO @0");
    assert_int_equal(state_of(b), MQTT5_CS_PENDING_RECONNECT);
    sb_run_until(b, 1000);
    sb_expect_events(b, "ATTEMPTING_CONNECT @1000; CONNECTION_FAILURE MQTT5_ERR_IO @1000");
    sb_on_open(b, SB_ACCEPT);
    sb_stop(b, NULL);
    sb_expect_events(b, "STOPPED");
    assert_int_equal(sb_opens(b), 0);
    sb_free(b);
}

static void transport_closed_without_error_while_opening(void **state)
{
    (void)state;
    sb *b = sb_new(NULL);
    sb_on_open(b, SB_MANUAL);
    sb_start(b);
    sb_fail_open(b, 0);
    sb_expect_events(b, "ATTEMPTING_CONNECT; CONNECTION_FAILURE MQTT5_ERR_CONNECTION_CLOSED");
    sb_free(b);
}

static void assigned_client_id_reused_until_stop(void **state)
{
    (void)state;
    sb *b = new_without_client_id();
    sb_start(b);
    sb_expect_hex(b, CONNECT_NO_ID);
    mqtt5_properties p = {0};
    MQTT5_PROPS_SET(&p, MQTT5_PROP_ASSIGNED_CLIENT_IDENTIFIER);
    p.assigned_client_identifier = S("srv-42");
    sb_connack(b, 0x00, false, &p);
    sb_expect_events(b, "ATTEMPTING_CONNECT; CONNECTION_SUCCESS");
    assert_str_eq(sb_last_event(b)->settings.client_id, "srv-42");
    sb_advance(b, 100);
    sb_close(b, 0);
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_CONNECTION_CLOSED @100");
    sb_run_until(b, 1100);
    sb_expect_events(b, "ATTEMPTING_CONNECT @1100");
    sb_expect_hex(b, CONNECT_SRV42);
    sb_connack(b, 0x00, false, NULL); /* no new assignment: the id stays */
    sb_expect_events(b, "CONNECTION_SUCCESS");
    assert_str_eq(sb_last_event(b)->settings.client_id, "srv-42");
    sb_stop(b, NULL);
    sb_expect_events(b, "DISCONNECTION; STOPPED");
    sb_start(b); /* design section 4: reused "until stop" */
    sb_expect_hex(b, CONNECT_NO_ID);
    sb_expect_events(b, "ATTEMPTING_CONNECT");
    sb_free(b);
}

static void server_disconnect_reported(void **state)
{
    (void)state;
    sb *b = sb_new(NULL);
    sb_connect(b, NULL);
    sb_advance(b, 250);
    sb_send_hex(b, "e0 08 8b 06 1f 0003 627965"); /* Server shutting down, reason string "bye" */
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_SERVER_DISCONNECT @250 rc=0x8b");
    const sb_event *e = sb_last_event(b);
    assert_true(e->has_disconnect);
    assert_true(e->has_reason_string);
    assert_string_equal(e->reason_string, "bye");
    sb_expect_no_packet(b); /* never answer a DISCONNECT with one */
    assert_false(sb_transport_is_open(b));
    assert_int_equal(state_of(b), MQTT5_CS_PENDING_RECONNECT);
    sb_run_until(b, 1250);
    sb_expect_events(b, "ATTEMPTING_CONNECT @1250");
    sb_expect_packet(b, MQTT5_CONNECT);
    sb_free(b);
}

/* Bytes the codec refuses: DISCONNECT with the codec's reason code, DISCONNECTION with its
 * error, nothing delivered. */
static void check_malformed_while_connected(const uint8_t *bytes, size_t len, uint8_t want_reason)
{
    mqtt5_packet ignored;
    size_t used = 0;
    mqtt5_codec_status st = {0};
    int rc = mqtt5_packet_decode(bytes, len, 131072, &ignored, &used, &st);
    assert_true(rc < 0 && rc != MQTT5_ERR_NEED_MORE);
    assert_int_equal(st.reason_code, want_reason);

    sb *b = sb_new(NULL);
    sb_connect(b, NULL);
    sb_send_bytes(b, bytes, len);
    const sb_packet *k = sb_expect_packet(b, MQTT5_DISCONNECT);
    assert_int_equal(k->p.u.disconnect.reason_code, want_reason);
    assert_int_equal(k->len, 3); /* e0 01 <reason> */
    sb_expect_no_packet(b);
    sb_expect_events(b, "DISCONNECTION");
    assert_err(sb_last_event(b)->error, st.error);
    assert_false(sb_last_event(b)->has_disconnect);
    assert_false(sb_transport_is_open(b));
    assert_int_equal(sb_received_count(b), 0);
    sb_expect_order(b, "OUT:DISCONNECT; CLOSE_CLIENT");
    sb_free(b);
}

static void malformed_publish_wildcard_topic(void **state)
{
    (void)state;
    size_t len;
    const uint8_t *bytes = hex_bytes("30 07 0003 612f2b 00 78", &len); /* topic "a/+" */
    check_malformed_while_connected(bytes, len, MQTT5_RC_MALFORMED_PACKET);
}

static void packet_larger_than_maximum_packet_size(void **state)
{
    (void)state;
    size_t len;
    /* remaining length 131069: 1 + 3 + 131069 = 131073 bytes, one over; the header is enough */
    const uint8_t *bytes = hex_bytes("30 fd ff 07", &len);
    check_malformed_while_connected(bytes, len, MQTT5_RC_PACKET_TOO_LARGE);
}

/* A PUBLISH of exactly 131072 bytes, in two pieces: accepted and delivered whole. */
static void packet_of_maximum_packet_size_accepted(void **state)
{
    (void)state;
    const size_t total = 131072, body = total - 4; /* 1 byte type, 3 bytes remaining length */
    uint8_t *buf = test_alloc(total);
    memset(buf, 'p', total);
    buf[0] = 0x30;
    buf[1] = (uint8_t)(0x80 | (body & 0x7f));
    buf[2] = (uint8_t)(0x80 | ((body >> 7) & 0x7f));
    buf[3] = (uint8_t)(body >> 14);
    buf[4] = 0x00; /* topic length 1 */
    buf[5] = 0x01;
    buf[6] = 't';
    buf[7] = 0x00; /* no properties */
    sb *b = sb_new(NULL);
    sb_connect(b, NULL);
    sb_send_bytes(b, buf, 1000);
    sb_send_bytes(b, buf + 1000, total - 1000);
    sb_expect_no_packet(b);
    sb_expect_events(b, "");
    assert_int_equal(sb_received_count(b), 1);
    const sb_received *r = sb_received_at(b, 0);
    assert_str_eq(r->publish.topic, "t");
    assert_int_equal(r->publish.payload.len, total - 8);
    assert_true(sb_transport_is_open(b));
    sb_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(options_defaults_match_header),
        cmocka_unit_test(start_attempts_connect_then_sends_connect),
        cmocka_unit_test(connack_success_default_settings),
        cmocka_unit_test(connack_success_server_settings),
        cmocka_unit_test(connack_in_two_pieces),
        cmocka_unit_test(core_new_out_of_memory),
        cmocka_unit_test(stop_with_disconnect),
        cmocka_unit_test(stop_with_disconnect_reason_and_properties),
        cmocka_unit_test(stop_without_disconnect),
        cmocka_unit_test(stop_while_transport_opening),
        cmocka_unit_test(stop_while_waiting_for_connack),
        cmocka_unit_test(restart_after_stopped),
        cmocka_unit_test(stop_then_start_before_close),
        cmocka_unit_test(connack_refused_then_reconnect_after_backoff),
        cmocka_unit_test(connack_timeout_counts_from_transport_open),
        cmocka_unit_test(connack_timeout_configurable),
        cmocka_unit_test(session_present_after_clean_start),
        cmocka_unit_test(packet_before_connack_is_protocol_error),
        cmocka_unit_test(malformed_before_connack),
        cmocka_unit_test(transport_open_failure),
        cmocka_unit_test(transport_closed_without_error_while_opening),
        cmocka_unit_test(assigned_client_id_reused_until_stop),
        cmocka_unit_test(server_disconnect_reported),
        cmocka_unit_test(malformed_publish_wildcard_topic),
        cmocka_unit_test(packet_larger_than_maximum_packet_size),
        cmocka_unit_test(packet_of_maximum_packet_size_accepted),
    };
    return cmocka_run_group_tests(tests, NULL, sb_group_teardown);
}
