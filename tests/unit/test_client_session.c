/*
 * test_client_session.c - what happens to operations across a reconnect (client_core.h offline
 * policies x session behaviours): which complete with OFFLINE_POLICY at the drop, which are resent
 * with DUP=1 and the same id (session resumed) or as new messages with new ids (not resumed), the
 * PUBREL of a QoS 2 publish past PUBREC, the clean_start flag, submissions while disconnected,
 * inbound QoS 2 across a resumed session, stop() and restart. Exact bytes on the wire are built
 * here by hand, never by the codec under test. It must not look at the core's internals.
 */
#include "helpers/test_common.h"
#include "helpers/scripted_broker.h"

/* The CONNECT of sb_options_default() with the given clean_start flag. */
static const char CONNECT_CLEAN[] = "10 20 0004 4d515454 05 02 003c 08 2100642700020000"
                                    "000b 746573742d636c69656e74";
static const char CONNECT_REJOIN[] = "10 20 0004 4d515454 05 00 003c 08 2100642700020000"
                                     "000b 746573742d636c69656e74";

#define CHECK(b, cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            sb_dump(b);                                                                            \
            fail_msg(__VA_ARGS__);                                                                 \
        }                                                                                          \
    } while (0)

/* ---- expected bytes, built by hand ---------------------------------------------------------- */

typedef struct wire {
    uint8_t b[128];
    size_t n;
} wire;

static void put8(wire *w, unsigned v)
{
    assert_true(w->n < sizeof(w->b));
    w->b[w->n++] = (uint8_t)v;
}

static void put16(wire *w, unsigned v)
{
    put8(w, v >> 8);
    put8(w, v & 0xff);
}

static void put_raw(wire *w, const char *s)
{
    for (size_t i = 0; s[i]; i++)
        put8(w, (unsigned char)s[i]);
}

static void put_str(wire *w, const char *s)
{
    put16(w, (unsigned)strlen(s));
    put_raw(w, s);
}

/* Fixed header + body; bodies here are shorter than 128 bytes. */
static wire packet(unsigned first, const wire *body)
{
    wire w = {0};
    assert_true(body->n < 128);
    put8(&w, first);
    put8(&w, (unsigned)body->n);
    memcpy(w.b + w.n, body->b, body->n);
    w.n += body->n;
    return w;
}

static wire publish_bytes(const char *topic, uint8_t qos, bool dup, uint16_t id,
                          const char *payload)
{
    wire body = {0};
    put_str(&body, topic);
    if (qos) put16(&body, id);
    put8(&body, 0); /* no properties */
    put_raw(&body, payload);
    return packet(0x30u | (dup ? 8u : 0u) | (unsigned)qos << 1, &body);
}

static wire subscribe_bytes(uint16_t id, const char *filter, uint8_t qos)
{
    wire body = {0};
    put16(&body, id);
    put8(&body, 0);
    put_str(&body, filter);
    put8(&body, qos);
    return packet(0x82, &body);
}

static wire unsubscribe_bytes(uint16_t id, const char *filter)
{
    wire body = {0};
    put16(&body, id);
    put8(&body, 0);
    put_str(&body, filter);
    return packet(0xa2, &body);
}

/* PUBACK/PUBREC/PUBREL/PUBCOMP with reason 0x00 and no properties (the short form). */
static wire ack_bytes(mqtt5_packet_type type, uint16_t id)
{
    wire body = {0};
    put16(&body, id);
    return packet((unsigned)type << 4 | (type == MQTT5_PUBREL ? 2u : 0u), &body);
}

#define expect_wire(b, w) expect_wire_(sb_at_((b), __FILE__, __LINE__), (w))
static void expect_wire_(sb *b, wire w)
{
    char hex[2 * sizeof(w.b) + 8];
    hex_format(w.b, w.n, hex, sizeof(hex));
    sb_expect_hex_(b, hex);
}

static void send_wire(sb *b, wire w)
{
    sb_send_bytes(b, w.b, w.n);
}

/* ---- operations ----------------------------------------------------------------------------- */

static mqtt5_publish pub(const char *topic, uint8_t qos, const char *payload)
{
    mqtt5_publish p = {0};
    p.qos = qos;
    p.topic = (mqtt5_str){topic, strlen(topic)};
    p.payload = (mqtt5_bytes){(const uint8_t *)payload, strlen(payload)};
    return p;
}

static int submit_publish(sb *b, const char *topic, uint8_t qos, const char *payload, uint64_t *id)
{
    mqtt5_publish p = pub(topic, qos, payload);
    return sb_publish(b, &p, NULL, id);
}

static int submit_subscribe(sb *b, const char *filter, uint64_t *id)
{
    mqtt5_subscription s = {(mqtt5_str){filter, strlen(filter)}, 1, false, false, 0};
    mqtt5_subscribe sub = {0};
    sub.subscriptions = &s;
    sub.subscription_count = 1;
    return sb_subscribe(b, &sub, NULL, id);
}

static int submit_unsubscribe(sb *b, const char *filter, uint64_t *id)
{
    mqtt5_str f = {filter, strlen(filter)};
    mqtt5_unsubscribe u = {0};
    u.topic_filters = &f;
    u.topic_filter_count = 1;
    return sb_unsubscribe(b, &u, NULL, id);
}

static void send_suback(sb *b, mqtt5_packet_type type, uint16_t id, uint8_t reason)
{
    mqtt5_packet p = {.type = type};
    p.u.suback.packet_id = id;
    p.u.suback.reason_codes = &reason;
    p.u.suback.reason_code_count = 1;
    sb_send(b, &p);
}

/* The next completion (after *seen) is op `id` with `error` and an ack of `ack_type` (0 = NULL). */
#define expect_completion(b, seen, id, error, ack_type)                                            \
    expect_completion_(sb_at_((b), __FILE__, __LINE__), (seen), (id), (error), (ack_type))
static void expect_completion_(sb *b, size_t *seen, uint64_t id, int error, int ack_type)
{
    CHECK(b, sb_completion_count(b) > *seen, "expected completion #%zu (op %llu, %s): none", *seen,
          (unsigned long long)id, mqtt5_error_name(error));
    const sb_completion *c = sb_completion_at(b, (*seen)++);
    CHECK(b, c->op_id == id && c->error == error && c->ack_type == ack_type,
          "completion #%zu: op %llu %s ack %d, want op %llu %s ack %d", *seen - 1,
          (unsigned long long)c->op_id, mqtt5_error_name(c->error), c->ack_type,
          (unsigned long long)id, mqtt5_error_name(error), ack_type);
}

#define expect_no_completion(b, seen) expect_no_completion_(sb_at_((b), __FILE__, __LINE__), (seen))
static void expect_no_completion_(sb *b, size_t seen)
{
    CHECK(b, sb_completion_count(b) == seen, "unexpected completion: %zu, want %zu",
          sb_completion_count(b), seen);
}

/* ---- connecting ----------------------------------------------------------------------------- */

static void first_connect(sb *b, bool clean_start, const mqtt5_properties *connack_props)
{
    sb_start(b);
    sb_expect_events(b, "ATTEMPTING_CONNECT");
    sb_expect_hex(b, clean_start ? CONNECT_CLEAN : CONNECT_REJOIN);
    sb_connack(b, 0x00, false, connack_props);
    sb_expect_events(b, "CONNECTION_SUCCESS");
}

/* After a drop: wait out the backoff, check the CONNECT's clean_start, answer CONNACK. */
static void reconnect(sb *b, bool clean_start, bool session_present)
{
    sb_run_until(b, sb_wake_at(b));
    sb_expect_events(b, "ATTEMPTING_CONNECT");
    sb_expect_hex(b, clean_start ? CONNECT_CLEAN : CONNECT_REJOIN);
    sb_connack(b, 0x00, session_present, NULL);
    sb_expect_events(b, "CONNECTION_SUCCESS");
    CHECK(b, sb_last_event(b)->settings.rejoined_session == session_present,
          "rejoined_session %d, want %d", sb_last_event(b)->settings.rejoined_session,
          session_present);
}

static mqtt5_client_core_options options(mqtt5_offline_policy pol, mqtt5_session_behavior beh)
{
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.offline_policy = pol;
    o.session_behavior = beh;
    return o;
}

/* ---- the policy x behaviour table ----------------------------------------------------------- */

enum { K_Q0, K_Q1, K_Q2, K_SUB };

typedef struct op_def {
    int kind;
    const char *topic; /* or filter */
    const char *payload;
} op_def;

/* A (QoS 2, past PUBREC), B (QoS 1), C (QoS 2) and S (SUBSCRIBE) are in flight at the drop;
 * D (QoS 1) waits for the server's Receive Maximum of 3 and holds E, T and F behind it. */
enum { OP_A, OP_B, OP_C, OP_S, OP_D, OP_E, OP_T, OP_F, NOPS };
static const op_def OPS[NOPS] = {
    {K_Q2, "t/a", "A"}, {K_Q1, "t/b", "B"}, {K_Q2, "t/c", "C"}, {K_SUB, "s/1", ""},
    {K_Q1, "t/d", "D"}, {K_Q0, "t/e", "E"}, {K_SUB, "s/2", ""}, {K_Q2, "t/f", "F"},
};

/* The semantics' table: what an offline policy keeps. */
static bool policy_keeps(mqtt5_offline_policy pol, int kind)
{
    switch (pol) {
    case MQTT5_OFFLINE_FAIL_ALL_ON_DISCONNECT:
        return false;
    case MQTT5_OFFLINE_FAIL_NON_QOS1_PUBLISH_ON_DISCONNECT:
        return kind == K_Q1 || kind == K_Q2;
    default:
        return kind != K_Q0;
    }
}

typedef struct row {
    sb *b;
    mqtt5_offline_policy pol;
    uint64_t x0, id[NOPS];
    uint16_t pid[NOPS]; /* packet id on the wire */
    bool kept[NOPS];
    size_t seen;   /* completions checked */
    uint16_t next; /* the next packet id the client should pick */
} row;

static int submit_op(sb *b, const op_def *d, uint64_t *id)
{
    return d->kind == K_SUB ? submit_subscribe(b, d->topic, id)
                            : submit_publish(b, d->topic, (uint8_t)d->kind, d->payload, id);
}

/* Connected with Receive Maximum 3: X0 (QoS 0) out and done, A..S in flight, A past PUBREC
 * (our PUBREL sent), D..F queued. */
static void row_setup(row *r, mqtt5_offline_policy pol, mqtt5_session_behavior beh)
{
    mqtt5_client_core_options o = options(pol, beh);
    r->b = sb_new(&o);
    r->pol = pol;
    r->seen = 0;
    sb *b = r->b;
    mqtt5_properties rm = {0};
    MQTT5_PROPS_SET(&rm, MQTT5_PROP_RECEIVE_MAXIMUM);
    rm.receive_maximum = 3;
    first_connect(b, beh != MQTT5_SESSION_REJOIN_ALWAYS, &rm);

    assert_int_equal(submit_publish(b, "t/0", 0, "x0", &r->x0), 0);
    for (size_t i = 0; i < NOPS; i++)
        assert_int_equal(submit_op(b, &OPS[i], &r->id[i]), 0);
    sb_settle(b);
    expect_wire(b, publish_bytes("t/0", 0, false, 0, "x0"));
    expect_completion(b, &r->seen, r->x0, 0, 0); /* QoS 0: at hand-out */
    expect_wire(b, publish_bytes("t/a", 2, false, 1, "A"));
    expect_wire(b, publish_bytes("t/b", 1, false, 2, "B"));
    expect_wire(b, publish_bytes("t/c", 2, false, 3, "C"));
    expect_wire(b, subscribe_bytes(4, "s/1", 1));
    sb_expect_no_packet(b); /* D waits for a Receive Maximum slot, E..F behind it */
    send_wire(b, ack_bytes(MQTT5_PUBREC, 1));
    expect_wire(b, ack_bytes(MQTT5_PUBREL, 1));
    sb_expect_no_packet(b);
    expect_no_completion(b, r->seen);
    memset(r->pid, 0, sizeof(r->pid));
    r->pid[OP_A] = 1;
    r->pid[OP_B] = 2;
    r->pid[OP_C] = 3;
    r->next = 5; /* ids are handed out in sequence: S had 4 */
}

/* Unacked publishes (A, B, C) hold packet ids the server may keep in a resumed session, so the
 * offline policy decides about them only at the CONNACK of the next connection. */
static bool unacked_publish(size_t i)
{
    return i == OP_A || i == OP_B || i == OP_C;
}

/* The broker drops the connection: the policy fails what it does not keep, in queue order (the
 * in-flight operations first, in their original order), except the unacked publishes. */
static void row_drop(row *r)
{
    sb *b = r->b;
    sb_advance(b, 100);
    sb_close(b, MQTT5_ERR_IO);
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_IO");
    sb_expect_no_packet(b);
    for (size_t i = 0; i < NOPS; i++) {
        r->kept[i] = unacked_publish(i) || policy_keeps(r->pol, OPS[i].kind);
        if (!r->kept[i]) expect_completion(b, &r->seen, r->id[i], MQTT5_ERR_OFFLINE_POLICY, 0);
    }
    expect_no_completion(b, r->seen);
}

/* After the CONNACK of the reconnect: what completes at once, what is resent, then the broker
 * acknowledges everything and each operation completes once. */
static void row_finish(row *r, bool resumed)
{
    sb *b = r->b;
    if (!resumed) {
        /* the server had accepted A (PUBREC) before the session was lost: delivered */
        expect_completion(b, &r->seen, r->id[OP_A], 0, 0);
        /* the other unacked publishes are new messages now, subject to the policy */
        for (size_t i = OP_B; i <= OP_C; i++) {
            r->kept[i] = policy_keeps(r->pol, OPS[i].kind);
            if (!r->kept[i]) expect_completion(b, &r->seen, r->id[i], MQTT5_ERR_OFFLINE_POLICY, 0);
        }
    }
    expect_no_completion(b, r->seen);

    for (size_t i = 0; i < NOPS; i++) {
        const op_def *d = &OPS[i];
        if (!r->kept[i]) continue;
        bool in_flight = i <= OP_S;
        if (i == OP_A) {
            if (resumed) expect_wire(b, ack_bytes(MQTT5_PUBREL, r->pid[i]));
        } else if (d->kind == K_SUB) {
            r->pid[i] = r->next++; /* a SUBSCRIBE always gets a new id */
            expect_wire(b, subscribe_bytes(r->pid[i], d->topic, 1));
        } else if (resumed && in_flight) {
            expect_wire(b, publish_bytes(d->topic, (uint8_t)d->kind, true, r->pid[i], d->payload));
        } else {
            r->pid[i] = r->next++;
            expect_wire(b, publish_bytes(d->topic, (uint8_t)d->kind, false, r->pid[i], d->payload));
        }
    }
    sb_expect_no_packet(b);
    expect_no_completion(b, r->seen);

    for (size_t i = 0; i < NOPS; i++) {
        const op_def *d = &OPS[i];
        if (!r->kept[i] || (i == OP_A && !resumed)) continue;
        if (i == OP_A) {
            send_wire(b, ack_bytes(MQTT5_PUBCOMP, r->pid[i]));
            expect_completion(b, &r->seen, r->id[i], 0, MQTT5_PUBCOMP);
        } else if (d->kind == K_Q1) {
            send_wire(b, ack_bytes(MQTT5_PUBACK, r->pid[i]));
            expect_completion(b, &r->seen, r->id[i], 0, MQTT5_PUBACK);
        } else if (d->kind == K_Q2) {
            send_wire(b, ack_bytes(MQTT5_PUBREC, r->pid[i]));
            expect_wire(b, ack_bytes(MQTT5_PUBREL, r->pid[i]));
            expect_no_completion(b, r->seen);
            send_wire(b, ack_bytes(MQTT5_PUBCOMP, r->pid[i]));
            expect_completion(b, &r->seen, r->id[i], 0, MQTT5_PUBCOMP);
        } else {
            send_suback(b, MQTT5_SUBACK, r->pid[i], 0x01);
            expect_completion(b, &r->seen, r->id[i], 0, MQTT5_SUBACK);
        }
    }
    sb_expect_no_packet(b);

    /* nothing lost, nothing twice: 1 + NOPS completions, one per operation */
    CHECK(b, sb_completion_count(b) == 1 + NOPS, "%zu completions, want %d", sb_completion_count(b),
          1 + NOPS);
    for (size_t i = 0; i < NOPS; i++) {
        size_t n = 0;
        for (size_t j = 0; j < sb_completion_count(b); j++)
            n += sb_completion_at(b, j)->op_id == r->id[i];
        CHECK(b, n == 1, "operation %zu completed %zu times", i, n);
    }

    /* the ids of this session are free again: a new operation takes the next in sequence */
    uint64_t z;
    assert_int_equal(submit_publish(b, "t/z", 1, "Z", &z), 0);
    sb_settle(b);
    expect_wire(b, publish_bytes("t/z", 1, false, r->next, "Z"));
    send_wire(b, ack_bytes(MQTT5_PUBACK, r->next));
    expect_completion(b, &r->seen, z, 0, MQTT5_PUBACK);
    sb_expect_events(b, "");
    sb_free(b);
}

static void run_row(mqtt5_offline_policy pol, mqtt5_session_behavior beh, bool session_present)
{
    row r;
    row_setup(&r, pol, beh);
    row_drop(&r);
    /* clean_start after a successful connection: CLEAN 1, the rejoining behaviours 0 */
    reconnect(r.b, beh == MQTT5_SESSION_CLEAN, session_present);
    row_finish(&r, session_present);
}

#define ROW(name, pol, beh, sp)                                                                    \
    static void name(void **state)                                                                 \
    {                                                                                              \
        (void)state;                                                                               \
        run_row(MQTT5_OFFLINE_##pol, MQTT5_SESSION_##beh, sp);                                     \
    }

ROW(qos0_policy_clean, FAIL_QOS0_PUBLISH_ON_DISCONNECT, CLEAN, false)
ROW(qos0_policy_post_success_not_resumed, FAIL_QOS0_PUBLISH_ON_DISCONNECT, REJOIN_POST_SUCCESS,
    false)
ROW(qos0_policy_post_success_resumed, FAIL_QOS0_PUBLISH_ON_DISCONNECT, REJOIN_POST_SUCCESS, true)
ROW(qos0_policy_always_not_resumed, FAIL_QOS0_PUBLISH_ON_DISCONNECT, REJOIN_ALWAYS, false)
ROW(qos0_policy_always_resumed, FAIL_QOS0_PUBLISH_ON_DISCONNECT, REJOIN_ALWAYS, true)
ROW(non_qos1_policy_clean, FAIL_NON_QOS1_PUBLISH_ON_DISCONNECT, CLEAN, false)
ROW(non_qos1_policy_post_success_not_resumed, FAIL_NON_QOS1_PUBLISH_ON_DISCONNECT,
    REJOIN_POST_SUCCESS, false)
ROW(non_qos1_policy_post_success_resumed, FAIL_NON_QOS1_PUBLISH_ON_DISCONNECT, REJOIN_POST_SUCCESS,
    true)
ROW(non_qos1_policy_always_not_resumed, FAIL_NON_QOS1_PUBLISH_ON_DISCONNECT, REJOIN_ALWAYS, false)
ROW(non_qos1_policy_always_resumed, FAIL_NON_QOS1_PUBLISH_ON_DISCONNECT, REJOIN_ALWAYS, true)
ROW(fail_all_policy_clean, FAIL_ALL_ON_DISCONNECT, CLEAN, false)
ROW(fail_all_policy_post_success_not_resumed, FAIL_ALL_ON_DISCONNECT, REJOIN_POST_SUCCESS, false)
ROW(fail_all_policy_post_success_resumed, FAIL_ALL_ON_DISCONNECT, REJOIN_POST_SUCCESS, true)
ROW(fail_all_policy_always_not_resumed, FAIL_ALL_ON_DISCONNECT, REJOIN_ALWAYS, false)
ROW(fail_all_policy_always_resumed, FAIL_ALL_ON_DISCONNECT, REJOIN_ALWAYS, true)

/* CLEAN: a CONNACK with session_present=1 is refused (0x82) and loses nothing; the next
 * connection resends as a new session. */
static void clean_session_present_refused_then_not_resumed(void **state)
{
    (void)state;
    row r;
    row_setup(&r, MQTT5_OFFLINE_FAIL_QOS0_PUBLISH_ON_DISCONNECT, MQTT5_SESSION_CLEAN);
    row_drop(&r);
    sb *b = r.b;
    sb_run_until(b, sb_wake_at(b));
    sb_expect_events(b, "ATTEMPTING_CONNECT");
    sb_expect_hex(b, CONNECT_CLEAN);
    sb_connack(b, 0x00, true, NULL);
    sb_expect_events(b, "CONNECTION_FAILURE MQTT5_ERR_SESSION_PRESENT");
    sb_expect_hex(b, "e0 01 82");
    sb_expect_no_packet(b);
    expect_no_completion(b, r.seen);
    reconnect(b, true, false);
    row_finish(&r, false);
}

/* REJOIN_POST_SUCCESS: clean_start stays 1 until a CONNACK succeeds (a refused one does not
 * count), so session_present=1 before that is an error. */
static void post_success_clean_until_first_success(void **state)
{
    (void)state;
    mqtt5_client_core_options o =
        options(MQTT5_OFFLINE_FAIL_QOS0_PUBLISH_ON_DISCONNECT, MQTT5_SESSION_REJOIN_POST_SUCCESS);
    sb *b = sb_new(&o);
    sb_start(b);
    sb_expect_hex(b, CONNECT_CLEAN);
    sb_connack(b, MQTT5_RC_SERVER_BUSY, false, NULL);
    sb_expect_events(b, "ATTEMPTING_CONNECT; CONNECTION_FAILURE MQTT5_ERR_CONNACK_REFUSED");
    sb_run_until(b, sb_wake_at(b));
    sb_expect_hex(b, CONNECT_CLEAN); /* still 1 */
    sb_connack(b, 0x00, true, NULL);
    sb_expect_events(b, "ATTEMPTING_CONNECT; CONNECTION_FAILURE MQTT5_ERR_SESSION_PRESENT");
    sb_expect_hex(b, "e0 01 82");
    sb_run_until(b, sb_wake_at(b));
    sb_expect_hex(b, CONNECT_CLEAN);
    sb_connack(b, 0x00, false, NULL);
    sb_expect_events(b, "ATTEMPTING_CONNECT; CONNECTION_SUCCESS");
    assert_false(sb_last_event(b)->settings.rejoined_session);
    sb_close(b, 0);
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_CONNECTION_CLOSED");
    reconnect(b, false, true); /* now 0, and the server may resume */
    sb_close(b, 0);
    sb_expect_events(b, "DISCONNECTION");
    reconnect(b, false, false); /* ... or not */
    sb_free(b);
}

/* REJOIN_ALWAYS asks to rejoin on the very first connection; the server may resume at once. */
static void always_rejoins_from_the_first_connect(void **state)
{
    (void)state;
    mqtt5_client_core_options o =
        options(MQTT5_OFFLINE_FAIL_QOS0_PUBLISH_ON_DISCONNECT, MQTT5_SESSION_REJOIN_ALWAYS);
    sb *b = sb_new(&o);
    sb_start(b);
    sb_expect_hex(b, CONNECT_REJOIN);
    sb_connack(b, 0x00, true, NULL);
    sb_expect_events(b, "ATTEMPTING_CONNECT; CONNECTION_SUCCESS");
    assert_true(sb_last_event(b)->settings.rejoined_session);
    sb_stop(b, NULL);
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_STOPPED; STOPPED");
    sb_start(b); /* a restart too */
    sb_expect_hex(b, CONNECT_REJOIN);
    sb_expect_events(b, "ATTEMPTING_CONNECT");
    sb_free(b);
}

/* ---- submissions while disconnected --------------------------------------------------------- */

enum { SUB_Q0, SUB_Q1, SUB_Q2, SUB_SUB, SUB_UNSUB, NSUB };

typedef struct offline_set {
    uint64_t id[NSUB];
    bool accepted[NSUB];
    uint16_t pid[NSUB];
} offline_set;

/* Submits a QoS 0/1/2 publish, a SUBSCRIBE and an UNSUBSCRIBE; checks each is queued or refused
 * at once with OFFLINE_POLICY as the policy says. Topics carry `tag` to tell sets apart. */
static void submit_offline(sb *b, mqtt5_offline_policy pol, char tag, offline_set *s)
{
    char t[NSUB][4]; /* the core copies what it accepts */
    for (int i = 0; i < NSUB; i++)
        snprintf(t[i], sizeof(t[i]), "%c/%d", tag, i);
    int rc[NSUB];
    mqtt5_codec_status st[NSUB];
    rc[SUB_Q0] = submit_publish(b, t[SUB_Q0], 0, "0", &s->id[SUB_Q0]);
    st[SUB_Q0] = *sb_status(b);
    rc[SUB_Q1] = submit_publish(b, t[SUB_Q1], 1, "1", &s->id[SUB_Q1]);
    st[SUB_Q1] = *sb_status(b);
    rc[SUB_Q2] = submit_publish(b, t[SUB_Q2], 2, "2", &s->id[SUB_Q2]);
    st[SUB_Q2] = *sb_status(b);
    rc[SUB_SUB] = submit_subscribe(b, t[SUB_SUB], &s->id[SUB_SUB]);
    st[SUB_SUB] = *sb_status(b);
    rc[SUB_UNSUB] = submit_unsubscribe(b, t[SUB_UNSUB], &s->id[SUB_UNSUB]);
    st[SUB_UNSUB] = *sb_status(b);
    static const int kinds[NSUB] = {K_Q0, K_Q1, K_Q2, K_SUB, K_SUB};
    for (int i = 0; i < NSUB; i++) {
        s->accepted[i] = policy_keeps(pol, kinds[i]);
        int want = s->accepted[i] ? 0 : MQTT5_ERR_OFFLINE_POLICY;
        CHECK(b, rc[i] == want && st[i].error == want,
              "policy %d, state %s, submission %d: %s (status %s), want %s", (int)pol,
              mqtt5_client_state_name((int)mqtt5_client_core_state(sb_core(b))), i,
              mqtt5_error_name(rc[i]), mqtt5_error_name(st[i].error), mqtt5_error_name(want));
    }
}

/* The accepted submissions of `s` go out in order, with the next ids in sequence. */
static void expect_offline_out(sb *b, offline_set *s, char tag, uint16_t *next)
{
    char t[NSUB][4];
    for (int i = 0; i < NSUB; i++)
        snprintf(t[i], sizeof(t[i]), "%c/%d", tag, i);
    assert_false(s->accepted[SUB_Q0]); /* every policy refuses QoS 0 while offline */
    if (s->accepted[SUB_Q1]) {
        s->pid[SUB_Q1] = (*next)++;
        expect_wire(b, publish_bytes(t[SUB_Q1], 1, false, s->pid[SUB_Q1], "1"));
    }
    if (s->accepted[SUB_Q2]) {
        s->pid[SUB_Q2] = (*next)++;
        expect_wire(b, publish_bytes(t[SUB_Q2], 2, false, s->pid[SUB_Q2], "2"));
    }
    if (s->accepted[SUB_SUB]) {
        s->pid[SUB_SUB] = (*next)++;
        expect_wire(b, subscribe_bytes(s->pid[SUB_SUB], t[SUB_SUB], 1));
    }
    if (s->accepted[SUB_UNSUB]) {
        s->pid[SUB_UNSUB] = (*next)++;
        expect_wire(b, unsubscribe_bytes(s->pid[SUB_UNSUB], t[SUB_UNSUB]));
    }
}

/* The broker acknowledges the accepted submissions of `s`; each completes with 0. */
static void ack_offline(sb *b, const offline_set *s, size_t *seen)
{
    if (s->accepted[SUB_Q1]) {
        send_wire(b, ack_bytes(MQTT5_PUBACK, s->pid[SUB_Q1]));
        expect_completion(b, seen, s->id[SUB_Q1], 0, MQTT5_PUBACK);
    }
    if (s->accepted[SUB_Q2]) {
        send_wire(b, ack_bytes(MQTT5_PUBREC, s->pid[SUB_Q2]));
        expect_wire(b, ack_bytes(MQTT5_PUBREL, s->pid[SUB_Q2]));
        send_wire(b, ack_bytes(MQTT5_PUBCOMP, s->pid[SUB_Q2]));
        expect_completion(b, seen, s->id[SUB_Q2], 0, MQTT5_PUBCOMP);
    }
    if (s->accepted[SUB_SUB]) {
        send_suback(b, MQTT5_SUBACK, s->pid[SUB_SUB], 0x01);
        expect_completion(b, seen, s->id[SUB_SUB], 0, MQTT5_SUBACK);
    }
    if (s->accepted[SUB_UNSUB]) {
        send_suback(b, MQTT5_UNSUBACK, s->pid[SUB_UNSUB], 0x00);
        expect_completion(b, seen, s->id[SUB_UNSUB], 0, MQTT5_UNSUBACK);
    }
}

/* In every disconnected state: STOPPED (before start), CONNECTING, MQTT_CONNECT (CONNECT sent)
 * and PENDING_RECONNECT. */
static void offline_submissions(mqtt5_offline_policy pol)
{
    mqtt5_client_core_options o = options(pol, MQTT5_SESSION_CLEAN);
    sb *b = sb_new(&o);
    sb_on_open(b, SB_MANUAL);
    offline_set s[4];
    size_t seen = 0;
    uint16_t next = 1;

    assert_int_equal(mqtt5_client_core_state(sb_core(b)), MQTT5_CS_STOPPED);
    submit_offline(b, pol, 'a', &s[0]);
    sb_start(b);
    assert_int_equal(mqtt5_client_core_state(sb_core(b)), MQTT5_CS_CONNECTING);
    submit_offline(b, pol, 'b', &s[1]);
    sb_accept_open(b);
    sb_expect_hex(b, CONNECT_CLEAN);
    assert_int_equal(mqtt5_client_core_state(sb_core(b)), MQTT5_CS_MQTT_CONNECT);
    submit_offline(b, pol, 'c', &s[2]);
    sb_expect_no_packet(b); /* nothing before CONNACK */
    expect_no_completion(b, seen);
    sb_connack(b, 0x00, false, NULL);
    sb_expect_events(b, "ATTEMPTING_CONNECT; CONNECTION_SUCCESS");
    for (int i = 0; i < 3; i++)
        expect_offline_out(b, &s[i], (char)('a' + i), &next);
    sb_expect_no_packet(b);
    for (int i = 0; i < 3; i++)
        ack_offline(b, &s[i], &seen);
    expect_no_completion(b, seen);

    sb_close(b, MQTT5_ERR_IO);
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_IO");
    assert_int_equal(mqtt5_client_core_state(sb_core(b)), MQTT5_CS_PENDING_RECONNECT);
    submit_offline(b, pol, 'd', &s[3]);
    sb_run_until(b, sb_wake_at(b));
    sb_accept_open(b);
    sb_expect_hex(b, CONNECT_CLEAN);
    sb_connack(b, 0x00, false, NULL);
    sb_expect_events(b, "ATTEMPTING_CONNECT; CONNECTION_SUCCESS");
    expect_offline_out(b, &s[3], 'd', &next);
    ack_offline(b, &s[3], &seen);
    sb_expect_no_packet(b);
    expect_no_completion(b, seen);

    /* connected: every kind is accepted whatever the policy */
    uint64_t q0;
    assert_int_equal(submit_publish(b, "e/0", 0, "0", &q0), 0);
    sb_settle(b);
    expect_wire(b, publish_bytes("e/0", 0, false, 0, "0"));
    expect_completion(b, &seen, q0, 0, 0);
    sb_free(b);
}

static void offline_submissions_fail_qos0(void **state)
{
    (void)state;
    offline_submissions(MQTT5_OFFLINE_FAIL_QOS0_PUBLISH_ON_DISCONNECT);
}

static void offline_submissions_fail_non_qos1(void **state)
{
    (void)state;
    offline_submissions(MQTT5_OFFLINE_FAIL_NON_QOS1_PUBLISH_ON_DISCONNECT);
}

static void offline_submissions_fail_all(void **state)
{
    (void)state;
    offline_submissions(MQTT5_OFFLINE_FAIL_ALL_ON_DISCONNECT);
}

/* ---- inbound QoS 2 across a reconnect ------------------------------------------------------- */

static sb *inbound_qos2_before_drop(void)
{
    mqtt5_client_core_options o =
        options(MQTT5_OFFLINE_FAIL_QOS0_PUBLISH_ON_DISCONNECT, MQTT5_SESSION_REJOIN_POST_SUCCESS);
    sb *b = sb_new(&o);
    first_connect(b, true, NULL);
    send_wire(b, publish_bytes("in/x", 2, false, 7, "hello"));
    assert_int_equal(sb_received_count(b), 1);
    assert_str_eq(sb_received_at(b, 0)->publish.topic, "in/x");
    expect_wire(b, ack_bytes(MQTT5_PUBREC, 7));
    sb_close(b, 0);
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_CONNECTION_CLOSED");
    return b;
}

/* Resumed: the server's DUP resend is not delivered again (only PUBREC again); its PUBREL gets
 * PUBCOMP 0x00; after that the id is free and a new message with it is delivered. */
static void inbound_qos2_dup_after_resume_not_delivered_twice(void **state)
{
    (void)state;
    sb *b = inbound_qos2_before_drop();
    reconnect(b, false, true);
    sb_expect_no_packet(b);
    send_wire(b, publish_bytes("in/x", 2, true, 7, "hello"));
    assert_int_equal(sb_received_count(b), 1);
    expect_wire(b, ack_bytes(MQTT5_PUBREC, 7));
    send_wire(b, ack_bytes(MQTT5_PUBREL, 7));
    expect_wire(b, ack_bytes(MQTT5_PUBCOMP, 7));
    sb_expect_no_packet(b);
    assert_int_equal(sb_received_count(b), 1);

    send_wire(b, publish_bytes("in/x", 2, false, 7, "again"));
    assert_int_equal(sb_received_count(b), 2);
    assert_bytes_hex(sb_received_at(b, 1)->publish.payload, "616761696e");
    expect_wire(b, ack_bytes(MQTT5_PUBREC, 7));
    sb_expect_events(b, "");
    sb_free(b);
}

/* Resumed, and the server goes straight to PUBREL: PUBCOMP 0x00 (the id is still known). */
static void inbound_qos2_pubrel_after_resume(void **state)
{
    (void)state;
    sb *b = inbound_qos2_before_drop();
    reconnect(b, false, true);
    send_wire(b, ack_bytes(MQTT5_PUBREL, 7));
    expect_wire(b, ack_bytes(MQTT5_PUBCOMP, 7));
    sb_expect_no_packet(b);
    assert_int_equal(sb_received_count(b), 1);
    sb_expect_events(b, "");
    sb_free(b);
}

/* Not resumed: the inbound QoS 2 state belonged to the lost session. */
static void inbound_qos2_state_gone_with_the_session(void **state)
{
    (void)state;
    sb *b = inbound_qos2_before_drop();
    reconnect(b, false, false);
    send_wire(b, ack_bytes(MQTT5_PUBREL, 7));
    sb_expect_hex(b, "70 03 0007 92"); /* Packet Identifier not found */
    send_wire(b, publish_bytes("in/x", 2, false, 7, "new"));
    assert_int_equal(sb_received_count(b), 2); /* a new message in the new session */
    expect_wire(b, ack_bytes(MQTT5_PUBREC, 7));
    sb_expect_events(b, "");
    sb_free(b);
}

/* ---- operations that timed out before the drop ---------------------------------------------- */

static sb *timed_out_before_drop(uint64_t *op)
{
    mqtt5_client_core_options o =
        options(MQTT5_OFFLINE_FAIL_QOS0_PUBLISH_ON_DISCONNECT, MQTT5_SESSION_REJOIN_POST_SUCCESS);
    sb *b = sb_new(&o);
    first_connect(b, true, NULL);
    mqtt5_publish p = pub("t/late", 1, "L");
    mqtt5_op_options oo = {.ack_timeout_ms = 500};
    assert_int_equal(sb_publish(b, &p, &oo, op), 0);
    sb_settle(b);
    expect_wire(b, publish_bytes("t/late", 1, false, 1, "L"));
    sb_advance(b, 500);
    size_t seen = 0;
    expect_completion(b, &seen, *op, MQTT5_ERR_ACK_TIMEOUT, 0);
    assert_true(sb_transport_is_open(b)); /* an ack timeout keeps the connection */
    sb_close(b, MQTT5_ERR_IO);
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_IO");
    expect_no_completion(b, 1);
    return b;
}

/* Operations that had timed out are dropped silently when the session is not resumed. */
static void timed_out_dropped_not_resumed(void **state)
{
    (void)state;
    uint64_t op;
    sb *b = timed_out_before_drop(&op);
    reconnect(b, false, false);
    sb_expect_no_packet(b);
    uint64_t z;
    assert_int_equal(submit_publish(b, "t/z", 1, "Z", &z), 0);
    sb_settle(b);
    expect_wire(b, publish_bytes("t/z", 1, false, 2, "Z"));
    send_wire(b, ack_bytes(MQTT5_PUBACK, 2));
    size_t seen = 1;
    expect_completion(b, &seen, z, 0, MQTT5_PUBACK);
    sb_free(b);
}

/* A resumed session still holds the packet id of an operation whose ack timed out: it is resent
 * (DUP, same id) so the exchange can finish and free the id, without a second completion. */
static void timed_out_resent_resumed(void **state)
{
    (void)state;
    uint64_t op;
    sb *b = timed_out_before_drop(&op);
    reconnect(b, false, true);
    expect_wire(b, publish_bytes("t/late", 1, true, 1, "L"));
    send_wire(b, ack_bytes(MQTT5_PUBACK, 1)); /* the late ack: no second completion */
    expect_no_completion(b, 1);
    sb_expect_no_packet(b);
    sb_expect_events(b, "");
    sb_free(b);
}

/* ---- stop ----------------------------------------------------------------------------------- */

static void expect_all_stopped(row *r)
{
    sb *b = r->b;
    size_t stopped = 0;
    for (size_t j = r->seen; j < sb_completion_count(b); j++) {
        const sb_completion *c = sb_completion_at(b, j);
        CHECK(b, c->error == MQTT5_ERR_STOPPED && c->ack_type == 0,
              "completion #%zu (op %llu): %s, want MQTT5_ERR_STOPPED", j,
              (unsigned long long)c->op_id, mqtt5_error_name(c->error));
        stopped++;
    }
    CHECK(b, r->seen + stopped == 1 + NOPS, "%zu operations completed at stop, want %d", stopped,
          1 + NOPS - (int)r->seen);
    r->seen += stopped;
}

/* stop() while connected: every incomplete operation (in flight, past PUBREC, queued; QoS 0
 * included) completes with STOPPED, before the STOPPED event. */
static void stop_fails_everything_with_stopped(void **state)
{
    (void)state;
    static const mqtt5_offline_policy pols[] = {MQTT5_OFFLINE_FAIL_QOS0_PUBLISH_ON_DISCONNECT,
                                                MQTT5_OFFLINE_FAIL_NON_QOS1_PUBLISH_ON_DISCONNECT,
                                                MQTT5_OFFLINE_FAIL_ALL_ON_DISCONNECT};
    for (size_t i = 0; i < COUNT_OF(pols); i++) {
        row r;
        row_setup(&r, pols[i], MQTT5_SESSION_REJOIN_POST_SUCCESS);
        sb *b = r.b;
        sb_expect_order(b, "OUT:PUBREL");
        mqtt5_disconnect d = {.reason_code = 0x00};
        sb_stop(b, i == 0 ? &d : NULL);
        if (i == 0) sb_expect_hex(b, "e0 00");
        sb_expect_no_packet(b);
        sb_expect_events(b, "DISCONNECTION MQTT5_ERR_STOPPED; STOPPED");
        sb_expect_order(b, "DISCONNECTION; COMPLETE; COMPLETE; COMPLETE; COMPLETE; COMPLETE; "
                           "COMPLETE; COMPLETE; COMPLETE; STOPPED");
        expect_all_stopped(&r);
        sb_free(b);
    }
}

/* stop() while backing off: what the policy kept at the drop completes with STOPPED. */
static void stop_during_backoff_fails_kept_with_stopped(void **state)
{
    (void)state;
    row r;
    row_setup(&r, MQTT5_OFFLINE_FAIL_QOS0_PUBLISH_ON_DISCONNECT, MQTT5_SESSION_CLEAN);
    row_drop(&r); /* E failed with OFFLINE_POLICY here */
    sb *b = r.b;
    assert_int_equal(mqtt5_client_core_state(sb_core(b)), MQTT5_CS_PENDING_RECONNECT);
    sb_stop(b, NULL);
    sb_expect_events(b, "STOPPED");
    expect_all_stopped(&r);
    sb_free(b);
}

/* REJOIN_POST_SUCCESS: a stop ends the session, so the next start connects with clean_start=1
 * again (and a resumed session there is an error). */
static void restart_after_stop_starts_clean(void **state)
{
    (void)state;
    mqtt5_client_core_options o =
        options(MQTT5_OFFLINE_FAIL_QOS0_PUBLISH_ON_DISCONNECT, MQTT5_SESSION_REJOIN_POST_SUCCESS);
    sb *b = sb_new(&o);
    first_connect(b, true, NULL);
    sb_close(b, 0);
    sb_expect_events(b, "DISCONNECTION");
    reconnect(b, false, true);
    sb_stop(b, NULL);
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_STOPPED; STOPPED");
    sb_advance(b, 10);
    sb_start(b);
    sb_expect_events(b, "ATTEMPTING_CONNECT");
    sb_expect_hex(b, CONNECT_CLEAN);
    sb_connack(b, 0x00, true, NULL);
    sb_expect_events(b, "CONNECTION_FAILURE MQTT5_ERR_SESSION_PRESENT");
    sb_expect_hex(b, "e0 01 82");
    sb_run_until(b, sb_wake_at(b));
    sb_expect_hex(b, CONNECT_CLEAN);
    sb_connack(b, 0x00, false, NULL);
    sb_expect_events(b, "ATTEMPTING_CONNECT; CONNECTION_SUCCESS");
    sb_close(b, 0);
    sb_expect_events(b, "DISCONNECTION");
    reconnect(b, false, true);
    sb_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(qos0_policy_clean),
        cmocka_unit_test(qos0_policy_post_success_not_resumed),
        cmocka_unit_test(qos0_policy_post_success_resumed),
        cmocka_unit_test(qos0_policy_always_not_resumed),
        cmocka_unit_test(qos0_policy_always_resumed),
        cmocka_unit_test(non_qos1_policy_clean),
        cmocka_unit_test(non_qos1_policy_post_success_not_resumed),
        cmocka_unit_test(non_qos1_policy_post_success_resumed),
        cmocka_unit_test(non_qos1_policy_always_not_resumed),
        cmocka_unit_test(non_qos1_policy_always_resumed),
        cmocka_unit_test(fail_all_policy_clean),
        cmocka_unit_test(fail_all_policy_post_success_not_resumed),
        cmocka_unit_test(fail_all_policy_post_success_resumed),
        cmocka_unit_test(fail_all_policy_always_not_resumed),
        cmocka_unit_test(fail_all_policy_always_resumed),
        cmocka_unit_test(clean_session_present_refused_then_not_resumed),
        cmocka_unit_test(post_success_clean_until_first_success),
        cmocka_unit_test(always_rejoins_from_the_first_connect),
        cmocka_unit_test(offline_submissions_fail_qos0),
        cmocka_unit_test(offline_submissions_fail_non_qos1),
        cmocka_unit_test(offline_submissions_fail_all),
        cmocka_unit_test(inbound_qos2_dup_after_resume_not_delivered_twice),
        cmocka_unit_test(inbound_qos2_pubrel_after_resume),
        cmocka_unit_test(inbound_qos2_state_gone_with_the_session),
        cmocka_unit_test(timed_out_dropped_not_resumed),
        cmocka_unit_test(timed_out_resent_resumed),
        cmocka_unit_test(stop_fails_everything_with_stopped),
        cmocka_unit_test(stop_during_backoff_fails_kept_with_stopped),
        cmocka_unit_test(restart_after_stop_starts_clean),
    };
    return cmocka_run_group_tests(tests, NULL, sb_group_teardown);
}
