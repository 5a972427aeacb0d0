/*
 * test_client_keepalive.c - keep-alive of the client core (design section 4): PINGREQ every
 * K seconds after CONNACK at a fixed interval, the server's Server Keep Alive wins, the ping
 * timeout is min(ping_timeout_ms, K * 1000 / 2) and ends the connection with DISCONNECT 0x8D,
 * a PINGRESP in time keeps it, K = 0 sends no pings.
 */
#include "helpers/test_common.h"
#include "helpers/scripted_broker.h"

static sb *new_client(uint16_t keep_alive, uint32_t ping_timeout_ms)
{
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.connect.keep_alive = keep_alive;
    if (ping_timeout_ms) o.ping_timeout_ms = ping_timeout_ms;
    return sb_new(&o);
}

static mqtt5_properties server_keep_alive(uint16_t seconds)
{
    mqtt5_properties p = {0};
    MQTT5_PROPS_SET(&p, MQTT5_PROP_SERVER_KEEP_ALIVE);
    p.server_keep_alive = seconds;
    return p;
}

/* Nothing up to t - 1, a PINGREQ (c0 00) handed out at exactly t. */
static void expect_ping_at(sb *b, uint64_t t)
{
    sb_run_until(b, t - 1);
    sb_expect_no_packet(b);
    sb_run_until(b, t);
    const sb_packet *k = sb_expect_hex(b, "c0 00");
    assert_int_equal(k->time, t);
}

static void pingreq_every_keep_alive_after_connack(void **state)
{
    (void)state;
    sb *b = new_client(60, 0);
    sb_advance(b, 500);
    sb_connect(b, NULL); /* CONNACK at 500 */
    expect_ping_at(b, 60500);
    sb_advance(b, 20);
    sb_send_hex(b, "d0 00");
    expect_ping_at(b, 120500); /* fixed interval from the last PINGREQ */
    sb_advance(b, 29999);
    sb_send_hex(b, "d0 00");
    expect_ping_at(b, 180500);
    sb_send_hex(b, "d0 00");
    sb_expect_events(b, "");
    mqtt5_client_stats st;
    mqtt5_client_core_stats(sb_core(b), &st);
    assert_int_equal(st.pings_sent, 3);
    assert_int_equal(st.packets_sent[MQTT5_PINGREQ], 3);
    assert_int_equal(st.packets_received[MQTT5_PINGRESP], 3);
    sb_free(b);
}

static void server_keep_alive_shorter_wins(void **state)
{
    (void)state;
    sb *b = new_client(60, 0);
    mqtt5_properties p = server_keep_alive(10);
    sb_connect(b, &p);
    assert_int_equal(sb_last_event(b)->settings.keep_alive_s, 10);
    assert_int_equal(sb_last_event(b)->settings.ping_timeout_ms, 5000);
    expect_ping_at(b, 10000);
    sb_send_hex(b, "d0 00");
    expect_ping_at(b, 20000);
    sb_send_hex(b, "d0 00");
    sb_free(b);
}

static void server_keep_alive_longer_wins(void **state)
{
    (void)state;
    sb *b = new_client(60, 0);
    mqtt5_properties p = server_keep_alive(100);
    sb_connect(b, &p);
    assert_int_equal(sb_last_event(b)->settings.keep_alive_s, 100);
    assert_int_equal(sb_last_event(b)->settings.ping_timeout_ms, 30000);
    expect_ping_at(b, 100000);
    sb_send_hex(b, "d0 00");
    sb_free(b);
}

/* No PINGRESP: DISCONNECT 0x8D and DISCONNECTION PING_TIMEOUT at ping + timeout, not before. */
static void check_ping_timeout(uint16_t keep_alive, uint32_t ping_timeout_opt,
                               uint32_t want_timeout)
{
    sb *b = new_client(keep_alive, ping_timeout_opt);
    sb_connect(b, NULL);
    assert_int_equal(sb_last_event(b)->settings.ping_timeout_ms, want_timeout);
    uint64_t ping = (uint64_t)keep_alive * 1000;
    expect_ping_at(b, ping);
    sb_run_until(b, ping + want_timeout - 1);
    sb_expect_no_packet(b);
    sb_expect_events(b, "");
    assert_true(sb_transport_is_open(b));
    sb_run_until(b, ping + want_timeout);
    const sb_packet *k = sb_expect_hex(b, "e0 01 8d");
    assert_int_equal(k->time, ping + want_timeout);
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_PING_TIMEOUT");
    assert_int_equal(sb_last_event(b)->time, ping + want_timeout);
    assert_false(sb_transport_is_open(b));
    sb_expect_order(b, "OUT:PINGREQ; DISCONNECTION; OUT:DISCONNECT; CLOSE_CLIENT");
    sb_free(b);
}

static void ping_timeout_is_configured_value(void **state)
{
    (void)state;
    check_ping_timeout(60, 0, 30000); /* min(30000, 30000) */
    check_ping_timeout(60, 3000, 3000);
}

static void ping_timeout_capped_at_half_keep_alive(void **state)
{
    (void)state;
    check_ping_timeout(20, 0, 10000); /* min(30000, 10000) */
    check_ping_timeout(1, 0, 500);
}

static void pingresp_in_time_keeps_connection(void **state)
{
    (void)state;
    sb *b = new_client(60, 0);
    sb_connect(b, NULL);
    expect_ping_at(b, 60000);
    sb_run_until(b, 89999);
    sb_send_hex(b, "d0 00");
    sb_run_until(b, 90000);
    sb_expect_no_packet(b);
    sb_expect_events(b, "");
    assert_true(sb_transport_is_open(b));
    expect_ping_at(b, 120000);
    sb_run_until(b, 149999);
    sb_expect_events(b, "");
    sb_send_hex(b, "d0 00");
    sb_run_until(b, 200000);
    sb_expect_events(b, "");
    assert_int_equal(mqtt5_client_core_state(sb_core(b)), MQTT5_CS_CONNECTED);
    sb_free(b);
}

static void keep_alive_zero_sends_no_pings(void **state)
{
    (void)state;
    sb *b = new_client(0, 0);
    sb_connect(b, NULL);
    assert_int_equal(sb_last_event(b)->settings.keep_alive_s, 0);
    sb_run_until(b, 10ull * 3600 * 1000);
    sb_expect_no_packet(b);
    sb_expect_events(b, "");
    assert_true(sb_wake_at(b) == MQTT5_TIME_NEVER);
    sb_free(b);
}

static void server_keep_alive_zero_disables_pings(void **state)
{
    (void)state;
    sb *b = new_client(60, 0);
    mqtt5_properties p = server_keep_alive(0);
    sb_connect(b, &p);
    assert_int_equal(sb_last_event(b)->settings.keep_alive_s, 0);
    sb_run_until(b, 3600 * 1000);
    sb_expect_no_packet(b);
    sb_expect_events(b, "");
    sb_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pingreq_every_keep_alive_after_connack),
        cmocka_unit_test(server_keep_alive_shorter_wins),
        cmocka_unit_test(server_keep_alive_longer_wins),
        cmocka_unit_test(ping_timeout_is_configured_value),
        cmocka_unit_test(ping_timeout_capped_at_half_keep_alive),
        cmocka_unit_test(pingresp_in_time_keeps_connection),
        cmocka_unit_test(keep_alive_zero_sends_no_pings),
        cmocka_unit_test(server_keep_alive_zero_disables_pings),
    };
    return cmocka_run_group_tests(tests, NULL, sb_group_teardown);
}
