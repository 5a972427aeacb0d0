/*
 * test_client_stats_wide.c - the client core's statistics are 64-bit counters
 * (mqtt5_client_stats) kept as 32-bit low words in the core and high words in a table allocated
 * only when a counter first needs it (client_stats in core/client_internal.h):
 *   - a counter crossing 2^32 is reported exactly: bytes, a packet type sent, a packet type
 *     received, batches, pings (derived from PINGREQ), and again at the next wrap;
 *   - every counter, driven through every increment site by one script, reads exactly what a
 *     core that started from zero reads, plus the offset it started from;
 *   - the table is asked for once a low word has its top bit set, at every increment while it
 *     is missing; a failed allocation fails nothing and is not reported, and a table that comes
 *     later (or only at the wrap itself) still gives exact counts; memory_in_use counts it;
 *   - only when every allocation failed from the top bit to the wrap is that carry lost, as
 *     documented.
 *
 * The low words are set on a live core through the private header (no test hook in the public
 * API); the traffic that moves them is real, driven through mem_send/mem_recv on a virtual clock.
 */
#include "helpers/test_common.h"
#include "helpers/core_wire.h"
#include "helpers/test_allocator.h"

#include "core/client_internal.h"

#define TWO_32 ((uint64_t)1 << 32)
#define TWO_31 ((uint32_t)1 << 31)
#define HIGH_TABLE (CLIENT_STAT_COUNTERS * sizeof(uint32_t))

/* ---- the rig -------------------------------------------------------------------------------- */

typedef struct rig {
    core_rig k; /* the core, its allocator, clock and wire (helpers/core_wire.h) */
    size_t nevents, failures, disconnections, received, completions, timeouts;
} rig;

static void on_lifecycle(void *user, const mqtt5_lifecycle_event *ev)
{
    rig *r = user;
    r->nevents++;
    if (ev->type == MQTT5_LC_CONNECTION_FAILURE) r->failures++;
    if (ev->type == MQTT5_LC_DISCONNECTION) r->disconnections++;
}

static void on_publish(void *user, const mqtt5_inbound_publish *msg)
{
    (void)msg;
    rig *r = user;
    r->received++;
}

static void on_complete(void *user, const mqtt5_op_completion *done)
{
    rig *r = user;
    r->completions++;
    if (done->error == MQTT5_ERR_ACK_TIMEOUT) r->timeouts++;
}

static void options(mqtt5_client_core_options *o)
{
    mqtt5_client_core_options_init(o);
    o->connect.client_id = S("wide-client");
    o->connect.keep_alive = 10;
    o->reconnect_min_ms = o->reconnect_max_ms = 1000;
    o->jitter = MQTT5_JITTER_NONE;
}

/* A core on a counting allocator; `cap` 0: drained with mem_send, else mem_send_buf(cap). */
static rig *new_rig(const mqtt5_client_core_options *base, size_t cap)
{
    rig *r = test_alloc(sizeof(*r));
    memset(r, 0, sizeof(*r));
    mqtt5_client_core_callbacks cb = {.user = r,
                                      .on_lifecycle = on_lifecycle,
                                      .on_publish = on_publish,
                                      .on_complete = on_complete};
    core_rig_init(&r->k, base, &cb, cap);
    return r;
}

static mqtt5_client_stats stats(const rig *r)
{
    mqtt5_client_stats s;
    mqtt5_client_core_stats(r->k.core, &s);
    assert_int_equal(s.memory_in_use, r->k.ta.live_bytes); /* the statistics see everything */
    return s;
}

static void expect_out(rig *r, mqtt5_packet_type type)
{
    assert_int_equal(core_rig_next_out(&r->k).type, type);
}

/* A packet from the server, encoded. */
static const uint8_t *server_packet(const mqtt5_packet *p, size_t *len)
{
    return encode_ok(p, len);
}

static void recv_packet(rig *r, const mqtt5_packet *p)
{
    size_t n;
    const uint8_t *b = server_packet(p, &n);
    core_rig_recv(&r->k, b, n);
}

static mqtt5_packet server_publish(uint8_t qos, uint16_t id)
{
    mqtt5_packet p = {.type = MQTT5_PUBLISH};
    p.u.publish.qos = qos;
    p.u.publish.packet_id = id;
    p.u.publish.topic = S("wide/in");
    p.u.publish.payload = B("payload");
    return p;
}

/* PUBACK, PUBREC, PUBREL, PUBCOMP (0x40, 0x50, 0x62, 0x70) for `id`, reason 0. */
static void recv_ack(rig *r, uint8_t first_byte, uint16_t id)
{
    uint8_t b[4] = {first_byte, 2, (uint8_t)(id >> 8), (uint8_t)id};
    core_rig_recv(&r->k, b, sizeof b);
}

/* SUBACK or UNSUBACK (0x90, 0xb0) for `id`: no properties, one reason code 0. */
static void recv_suback(rig *r, uint8_t first_byte, uint16_t id)
{
    uint8_t b[6] = {first_byte, 4, (uint8_t)(id >> 8), (uint8_t)id, 0, 0};
    core_rig_recv(&r->k, b, sizeof b);
}

static void connect(rig *r)
{
    core_rig_connect(&r->k, "20 03 00 00 00");
}

static void publish(rig *r, uint8_t qos, uint32_t ack_timeout_ms)
{
    mqtt5_publish p = {.qos = qos};
    p.topic = S("wide/out");
    p.payload = B("0123456789");
    mqtt5_op_options opt = {.ack_timeout_ms = ack_timeout_ms};
    assert_err(mqtt5_client_core_publish(r->k.core, r->k.now, &p, &opt, NULL, NULL), MQTT5_OK);
    core_rig_drain(&r->k);
}

/* ---- crossing 2^32 -------------------------------------------------------------------------- */

static uint32_t *low(rig *r, unsigned counter)
{
    return &r->k.core->stats.low[counter];
}

#define PUBLISH_SENT (CLIENT_STAT_PACKETS_SENT + client_sent_slot[MQTT5_PUBLISH])
#define PINGREQ_SENT (CLIENT_STAT_PACKETS_SENT + client_sent_slot[MQTT5_PINGREQ])
#define PUBLISH_RECEIVED (CLIENT_STAT_PACKETS_RECEIVED + MQTT5_PUBLISH - 1u)

static void counters_cross_2_32_exactly(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig(&o, 0);
    connect(r);
    assert_null(r->k.core->stats.high); /* nothing needed it */
    mqtt5_client_stats before = stats(r);

    const uint64_t start = TWO_32 - 3;
    *low(r, CLIENT_STAT_BYTES_SENT) = (uint32_t)start;
    *low(r, CLIENT_STAT_BYTES_RECEIVED) = (uint32_t)start;
    *low(r, CLIENT_STAT_BATCHES_SENT) = (uint32_t)start;
    *low(r, PUBLISH_SENT) = (uint32_t)start;
    *low(r, PUBLISH_RECEIVED) = (uint32_t)start;
    *low(r, PINGREQ_SENT) = (uint32_t)(TWO_32 - 1);
    mqtt5_client_stats s = stats(r);
    assert_int_equal(s.bytes_sent, start);
    assert_int_equal(s.packets_received[MQTT5_PUBLISH], start);
    assert_int_equal(s.pings_sent, TWO_32 - 1);

    /* 5 PUBLISHes out, each in its own batch; 5 in, one per mem_recv */
    size_t sent_at = r->k.wire.out_len, received = 0;
    for (int i = 0; i < 5; i++)
        publish(r, 0, 0);
    for (int i = 0; i < 5; i++) {
        size_t n;
        mqtt5_packet p = server_publish(0, 0);
        const uint8_t *b = server_packet(&p, &n);
        core_rig_recv(&r->k, b, n);
        received += n;
    }
    assert_int_equal(r->received, 5);
    /* a PINGREQ at the keep-alive, its PINGRESP */
    r->k.now += 10000;
    core_rig_drain(&r->k);
    core_rig_recv_hex(&r->k, "d0 00");
    received += 2;
    size_t sent = r->k.wire.out_len - sent_at;
    for (int i = 0; i < 5; i++)
        expect_out(r, MQTT5_PUBLISH);
    expect_out(r, MQTT5_PINGREQ);
    core_rig_expect_nothing(&r->k);

    s = stats(r);
    assert_non_null(r->k.core->stats.high);
    assert_int_equal(s.memory_in_use, before.memory_in_use + HIGH_TABLE);
    assert_true(s.memory_peak >= s.memory_in_use);
    assert_int_equal(s.bytes_sent, start + sent);
    assert_int_equal(s.bytes_received, start + received);
    assert_int_equal(s.batches_sent, start + 6u);
    assert_int_equal(s.packets_sent[MQTT5_PUBLISH], start + 5u);
    assert_int_equal(s.packets_received[MQTT5_PUBLISH], start + 5u);
    assert_int_equal(s.pings_sent, TWO_32);
    assert_int_equal(s.packets_sent[MQTT5_PINGREQ], TWO_32);
    assert_true(s.bytes_sent > TWO_32 && s.packets_sent[MQTT5_PUBLISH] > TWO_32);
    /* the rest did not move */
    assert_int_equal(s.packets_sent[MQTT5_CONNECT], 1);
    assert_int_equal(s.packets_received[MQTT5_CONNACK], 1);
    assert_int_equal(s.packets_received[MQTT5_PINGRESP], 1);
    assert_int_equal(s.connect_attempts, 1);
    assert_int_equal(s.connect_failures, 0);

    /* the next wrap carries on top: 2^33 + 1 */
    *low(r, PUBLISH_SENT) = (uint32_t)(TWO_32 - 1);
    publish(r, 0, 0);
    publish(r, 0, 0);
    s = stats(r);
    assert_int_equal(s.packets_sent[MQTT5_PUBLISH], 2 * TWO_32 + 1);
    assert_int_equal(s.memory_in_use, before.memory_in_use + HIGH_TABLE); /* one table */
    core_rig_destroy(&r->k);
}

/* ---- every counter through every increment site --------------------------------------------- */

/* The same traffic for each rig: every counter the core keeps moves, most more than 3 times. */
static void script(rig *r)
{
    assert_err(mqtt5_client_core_start(r->k.core, r->k.now), MQTT5_OK);
    core_rig_drain(&r->k);
    /* refused 4 times, then accepted: connect_attempts, connect_failures */
    for (int i = 0; i < 4; i++) {
        expect_out(r, MQTT5_CONNECT);
        core_rig_recv_hex(&r->k, "20 03 00 87 00");
        r->k.now += 1000;
        core_rig_drain(&r->k);
    }
    expect_out(r, MQTT5_CONNECT);
    core_rig_recv_hex(&r->k, "20 03 00 00 00");
    /* dropped by the server 4 times: disconnections */
    for (int i = 0; i < 4; i++) {
        core_rig_recv_hex(&r->k, "e0 00");
        r->k.now += 1000;
        core_rig_drain(&r->k);
        expect_out(r, MQTT5_CONNECT);
        core_rig_recv_hex(&r->k, "20 03 00 00 00");
    }
    assert_int_equal(mqtt5_client_core_state(r->k.core), MQTT5_CS_CONNECTED);
    core_rig_forget(&r->k);

    /* our PUBLISHes at QoS 0, 1 and 2 and their acks */
    for (int i = 0; i < 4; i++) {
        publish(r, 0, 0);
        expect_out(r, MQTT5_PUBLISH);
    }
    for (int i = 0; i < 4; i++) {
        publish(r, 1, 0);
        mqtt5_packet p = core_rig_next_out(&r->k);
        assert_int_equal(p.type, MQTT5_PUBLISH);
        recv_ack(r, 0x40, p.u.publish.packet_id);
    }
    for (int i = 0; i < 4; i++) {
        publish(r, 2, 0);
        mqtt5_packet p = core_rig_next_out(&r->k);
        assert_int_equal(p.type, MQTT5_PUBLISH);
        recv_ack(r, 0x50, p.u.publish.packet_id);
        expect_out(r, MQTT5_PUBREL);
        recv_ack(r, 0x70, p.u.publish.packet_id);
    }
    /* SUBSCRIBE, UNSUBSCRIBE */
    static const mqtt5_subscription sub = {SI("wide/#"), 1, false, false, 0};
    static const mqtt5_str filter = SI("wide/#");
    for (int i = 0; i < 4; i++) {
        mqtt5_subscribe s = {.subscriptions = &sub, .subscription_count = 1};
        assert_err(mqtt5_client_core_subscribe(r->k.core, r->k.now, &s, NULL, NULL, NULL),
                   MQTT5_OK);
        core_rig_drain(&r->k);
        mqtt5_packet p = core_rig_next_out(&r->k);
        assert_int_equal(p.type, MQTT5_SUBSCRIBE);
        recv_suback(r, 0x90, p.u.subscribe.packet_id);
        mqtt5_unsubscribe u = {.topic_filters = &filter, .topic_filter_count = 1};
        assert_err(mqtt5_client_core_unsubscribe(r->k.core, r->k.now, &u, NULL, NULL, NULL),
                   MQTT5_OK);
        core_rig_drain(&r->k);
        p = core_rig_next_out(&r->k);
        assert_int_equal(p.type, MQTT5_UNSUBSCRIBE);
        recv_suback(r, 0xb0, p.u.unsubscribe.packet_id);
    }
    /* the server's PUBLISHes: QoS 1 beyond our Receive Maximum of 2 in one read
     * (receive_maximum_exceeded, PUBACK), then QoS 2 (PUBREC, PUBREL, PUBCOMP) */
    size_t total = 0;
    uint8_t *burst = test_alloc(6 * 64);
    for (uint16_t id = 1; id <= 6; id++) {
        size_t n;
        mqtt5_packet p = server_publish(1, id);
        const uint8_t *b = server_packet(&p, &n);
        assert_true(n <= 64);
        memcpy(burst + total, b, n);
        total += n;
    }
    core_rig_recv(&r->k, burst, total);
    for (int i = 0; i < 6; i++)
        expect_out(r, MQTT5_PUBACK);
    for (uint16_t id = 1; id <= 4; id++) {
        mqtt5_packet p = server_publish(2, id);
        recv_packet(r, &p);
        expect_out(r, MQTT5_PUBREC);
        recv_ack(r, 0x62, id);
        expect_out(r, MQTT5_PUBCOMP);
    }
    core_rig_expect_nothing(&r->k);
    /* keep-alive: PINGREQ, PINGRESP */
    for (int i = 0; i < 4; i++) {
        r->k.now += 10000;
        core_rig_drain(&r->k);
        expect_out(r, MQTT5_PINGREQ);
        core_rig_recv_hex(&r->k, "d0 00");
    }
    /* acks that never come: ack_timeouts */
    for (int i = 0; i < 4; i++) {
        publish(r, 1, 100);
        expect_out(r, MQTT5_PUBLISH);
        r->k.now += 100;
        core_rig_drain(&r->k);
    }
    core_rig_expect_nothing(&r->k);
    /* and a DISCONNECT of ours */
    assert_err(mqtt5_client_core_stop(r->k.core, r->k.now, &(mqtt5_disconnect){0}, NULL), MQTT5_OK);
    core_rig_drain(&r->k);
    expect_out(r, MQTT5_DISCONNECT);
}

static void every_counter_is_exact_from_any_start(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    o.receive_maximum = 2;
    rig *ref = new_rig(&o, 0);
    rig *wide = new_rig(&o, 0);
    /* just below 2^32: whatever moves more than twice wraps */
    const uint64_t offset = TWO_32 - 3;
    for (unsigned i = 0; i < CLIENT_STAT_COUNTERS; i++)
        wide->k.core->stats.low[i] = (uint32_t)offset;
    script(ref);
    script(wide);
    assert_null(ref->k.core->stats.high);
    assert_non_null(wide->k.core->stats.high);
    assert_int_equal(ref->failures, 4);
    assert_int_equal(ref->disconnections, 5); /* the server's 4, our stop */
    assert_int_equal(ref->timeouts, 4);
    assert_int_equal(wide->failures, 4);
    assert_int_equal(wide->disconnections, 5);
    assert_int_equal(wide->timeouts, 4);

    mqtt5_client_stats a = stats(ref), b = stats(wide);
    /* what the script drove past the offset's wrap */
    assert_true(a.bytes_sent >= 3 && a.bytes_received >= 3 && a.batches_sent >= 3);
    assert_true(a.connect_attempts >= 3 && a.connect_failures >= 3 && a.disconnections >= 3);
    assert_true(a.ack_timeouts >= 3 && a.receive_maximum_exceeded >= 3 && a.pings_sent >= 3);
    static const mqtt5_packet_type sent_types[] = {
        MQTT5_CONNECT, MQTT5_PUBLISH,   MQTT5_PUBACK,      MQTT5_PUBREC, MQTT5_PUBREL,
        MQTT5_PUBCOMP, MQTT5_SUBSCRIBE, MQTT5_UNSUBSCRIBE, MQTT5_PINGREQ};
    for (size_t i = 0; i < COUNT_OF(sent_types); i++)
        assert_true(a.packets_sent[sent_types[i]] >= 3);
    static const mqtt5_packet_type received_types[] = {
        MQTT5_CONNACK, MQTT5_PUBLISH, MQTT5_PUBACK,   MQTT5_PUBREC,   MQTT5_PUBREL,
        MQTT5_PUBCOMP, MQTT5_SUBACK,  MQTT5_UNSUBACK, MQTT5_PINGRESP, MQTT5_DISCONNECT};
    for (size_t i = 0; i < COUNT_OF(received_types); i++)
        assert_true(a.packets_received[received_types[i]] >= 3);

    assert_int_equal(b.bytes_sent, a.bytes_sent + offset);
    assert_int_equal(b.bytes_received, a.bytes_received + offset);
    assert_int_equal(b.batches_sent, a.batches_sent + offset);
    assert_int_equal(b.connect_attempts, a.connect_attempts + offset);
    assert_int_equal(b.connect_failures, a.connect_failures + offset);
    assert_int_equal(b.disconnections, a.disconnections + offset);
    assert_int_equal(b.pings_sent, a.pings_sent + offset);
    assert_int_equal(b.ack_timeouts, a.ack_timeouts + offset);
    assert_int_equal(b.receive_maximum_exceeded, a.receive_maximum_exceeded + offset);
    for (unsigned type = 0; type < 16; type++) {
        bool counted = CLIENT_SENT_TYPE_MASK >> type & 1u;
        assert_int_equal(b.packets_sent[type], a.packets_sent[type] + (counted ? offset : 0));
        assert_int_equal(b.packets_received[type], a.packets_received[type] + (type ? offset : 0));
    }
    /* the gauges: the table, counted from the first increment (start) on */
    assert_int_equal(b.memory_in_use, a.memory_in_use + HIGH_TABLE);
    assert_int_equal(b.memory_peak, a.memory_peak + HIGH_TABLE);
    assert_int_equal(b.incomplete_ops, a.incomplete_ops);
    assert_int_equal(b.incomplete_bytes, a.incomplete_bytes);
    assert_int_equal(b.unacked_ops, a.unacked_ops);
    assert_int_equal(b.unacked_bytes, a.unacked_bytes);
    /* and the same bytes on the wire */
    assert_int_equal(ref->k.wire.out_len, wide->k.wire.out_len);
    assert_memory_equal(ref->k.wire.out, wide->k.wire.out, ref->k.wire.out_len);
    core_rig_destroy(&ref->k);
    core_rig_destroy(&wide->k);
}

/* ---- the table without memory --------------------------------------------------------------- */

/* One QoS 0 PUBLISH from the server: n bytes, and the allocations the core attempted for it. */
static size_t recv_one(rig *r, size_t *attempts)
{
    size_t before = r->k.ta.allocations + r->k.ta.failures, n;
    mqtt5_packet p = server_publish(0, 0);
    const uint8_t *b = server_packet(&p, &n);
    core_rig_recv(&r->k, b, n);
    *attempts = r->k.ta.allocations + r->k.ta.failures - before;
    return n;
}

/* A connected rig that sends from the caller's buffer: traffic needs no memory of the core's. */
static rig *connected_rig(void)
{
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig(&o, 4096);
    connect(r);
    assert_int_equal(r->k.ta.live_blocks, 1);
    return r;
}

static void table_failure_defers_it(void **state)
{
    (void)state;
    rig *r = connected_rig();
    size_t idle = stats(r).memory_in_use, attempts;
    size_t events = r->nevents;
    const uint32_t bytes0 = TWO_31 - 40, packets0 = TWO_31 - 2;
    *low(r, CLIENT_STAT_BYTES_RECEIVED) = bytes0;
    *low(r, PUBLISH_RECEIVED) = packets0;

    /* every allocation fails from here */
    test_allocator_fail_at(&r->k.ta, 1, true);
    uint64_t bytes = bytes0, packets = packets0;
    for (int i = 0; i < 6; i++) {
        size_t n = recv_one(r, &attempts);
        bytes += n;
        packets++;
        /* asked at each increment that leaves a low word with its top bit set */
        size_t expect = (bytes >= TWO_31) + (packets >= TWO_31);
        assert_int_equal(attempts, expect);
        assert_null(r->k.core->stats.high);
        mqtt5_client_stats s = stats(r);
        assert_int_equal(s.bytes_received, bytes);
        assert_int_equal(s.packets_received[MQTT5_PUBLISH], packets);
        assert_int_equal(s.memory_in_use, idle);
    }
    assert_true(r->k.ta.failures >= 6);
    /* nothing failed: no event, still connected, every message delivered */
    assert_int_equal(r->nevents, events);
    assert_int_equal(mqtt5_client_core_state(r->k.core), MQTT5_CS_CONNECTED);
    assert_int_equal(r->received, 6);

    /* memory again: the next increment makes the table, the counts stay exact */
    test_allocator_fail_at(&r->k.ta, 0, false);
    bytes += recv_one(r, &attempts);
    packets++;
    assert_int_equal(attempts, 1);
    assert_non_null(r->k.core->stats.high);
    assert_int_equal(stats(r).memory_in_use, idle + HIGH_TABLE);

    /* and it carries at the wrap */
    bytes += TWO_32 - 1 - *low(r, CLIENT_STAT_BYTES_RECEIVED);
    packets += TWO_32 - 1 - *low(r, PUBLISH_RECEIVED);
    *low(r, CLIENT_STAT_BYTES_RECEIVED) = (uint32_t)(TWO_32 - 1);
    *low(r, PUBLISH_RECEIVED) = (uint32_t)(TWO_32 - 1);
    for (int i = 0; i < 3; i++) {
        bytes += recv_one(r, &attempts);
        packets++;
        assert_int_equal(attempts, 0);
    }
    mqtt5_client_stats s = stats(r);
    assert_int_equal(s.bytes_received, bytes);
    assert_int_equal(s.packets_received[MQTT5_PUBLISH], packets);
    assert_int_equal(s.packets_received[MQTT5_PUBLISH], TWO_32 + 2);
    assert_int_equal(s.memory_in_use, idle + HIGH_TABLE);
    assert_int_equal(r->nevents, events);
    core_rig_destroy(&r->k);
}

static void table_made_at_the_wrap(void **state)
{
    (void)state;
    rig *r = connected_rig();
    size_t idle = stats(r).memory_in_use, attempts;
    /* as if every allocation had failed since 2^31: no table, two short of the wrap */
    *low(r, PUBLISH_RECEIVED) = (uint32_t)(TWO_32 - 2);
    test_allocator_fail_at(&r->k.ta, 1, false); /* the next one fails, the one after does not */
    recv_one(r, &attempts);
    assert_int_equal(attempts, 1);
    assert_int_equal(r->k.ta.failures, 1);
    assert_null(r->k.core->stats.high);
    /* the wrap: the table comes with the carry */
    recv_one(r, &attempts);
    assert_int_equal(attempts, 1);
    assert_non_null(r->k.core->stats.high);
    mqtt5_client_stats s = stats(r);
    assert_int_equal(s.packets_received[MQTT5_PUBLISH], TWO_32);
    assert_int_equal(s.memory_in_use, idle + HIGH_TABLE);
    core_rig_destroy(&r->k);
}

/* The documented limit (client_stats): with no table at the wrap, that carry is lost. */
static void carry_lost_only_without_any_table(void **state)
{
    (void)state;
    rig *r = connected_rig();
    size_t idle = stats(r).memory_in_use, attempts, events = r->nevents;
    *low(r, PUBLISH_RECEIVED) = (uint32_t)(TWO_32 - 1);
    test_allocator_fail_at(&r->k.ta, 1, true);
    recv_one(r, &attempts);
    assert_int_equal(attempts, 1);
    assert_null(r->k.core->stats.high);
    assert_int_equal(stats(r).packets_received[MQTT5_PUBLISH], 0); /* 2^32 short */
    /* nothing else noticed */
    assert_int_equal(r->nevents, events);
    assert_int_equal(mqtt5_client_core_state(r->k.core), MQTT5_CS_CONNECTED);
    assert_int_equal(r->received, 1);
    /* the low word starts over: the table is not asked for until its top bit is set again */
    test_allocator_fail_at(&r->k.ta, 0, false);
    recv_one(r, &attempts);
    assert_int_equal(attempts, 0);
    mqtt5_client_stats s = stats(r);
    assert_int_equal(s.packets_received[MQTT5_PUBLISH], 1);
    assert_int_equal(s.memory_in_use, idle);
    core_rig_destroy(&r->k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counters_cross_2_32_exactly),
        cmocka_unit_test(every_counter_is_exact_from_any_start),
        cmocka_unit_test(table_failure_defers_it),
        cmocka_unit_test(table_made_at_the_wrap),
        cmocka_unit_test(carry_lost_only_without_any_table),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
