/*
 * test_client_publish_encoded.c - mqtt5_client_core_publish_encoded and
 * callbacks.on_wire_released (client_core.h):
 *   - the bytes handed out (mem_send and mem_send_buf) are exactly those of
 *     mqtt5_client_core_publish of the same message on an identical core driven the same way:
 *     QoS 0/1/2, with and without properties, queued offline, batched, one by one;
 *   - the caller's bytes go out as they are (not encoded again), with the packet identifier
 *     (1, 2, 3, ..., both bytes) and DUP written into the batch, never into the caller's buffer:
 *     a resend after a resumed session has the same identifier and DUP 1, one after a new
 *     session DUP 0;
 *   - on_wire_released comes exactly once per accepted operation, after its on_complete, with
 *     its user_ctx: QoS 0 when handed out, QoS 1 on PUBACK, QoS 2 on PUBCOMP; an operation whose
 *     ack timed out only when its ack comes, the session ends or the core is destroyed (and a
 *     resend in between reads intact bytes); STOPPED, OFFLINE_POLICY and failures at the
 *     CONNACK complete, then release;
 *   - refusals (bad wire, DUP, no callback, topic alias, queue bounds, offline policy, the
 *     connection's limits) retain nothing and never release;
 *   - outbound topic aliases (LRU) and a PUBLISH bigger than the batch give the copying path's
 *     bytes;
 *   - memory_in_use does not count the caller's bytes.
 *
 * The caller's bytes are malloc'd blocks of exactly their size that on_wire_released checks,
 * overwrites with 0xEE and frees, so a core that reads them afterwards is caught by
 * AddressSanitizer (and by the bytes it would send). The rig drives the core directly (the
 * scripted broker owns the callbacks, so it cannot see on_wire_released).
 */
#include "helpers/test_common.h"
#include "helpers/core_wire.h"
#include "helpers/test_allocator.h"

/* ---- the caller's encoded publishes --------------------------------------------------------- */

typedef struct pub {
    uint8_t *wire; /* the caller's bytes: malloc'd, exactly len; NULL once released */
    uint8_t *orig; /* what they were (test_alloc) */
    size_t len;
    size_t id_at;        /* where the packet identifier sits (QoS > 0) */
    mqtt5_publish view;  /* mqtt5_packet_decode of wire */
    uint64_t op_id;      /* from the core */
    size_t completions;  /* on_complete with this user_ctx */
    int error;           /* of the last on_complete */
    size_t releases;     /* on_wire_released with this user_ctx */
    bool released_early; /* on_wire_released before on_complete */
    bool changed;        /* the bytes were not what they were when released */
} pub;

/* Every pub made, so the group teardown frees bytes a failed test left behind. */
static pub *all_pubs[4096];
static size_t npubs;

static int teardown(void **state)
{
    for (size_t i = 0; i < npubs; i++)
        free(all_pubs[i]->wire);
    npubs = 0;
    return test_free_all(state);
}

static pub *pub_new(void)
{
    assert_true(npubs < COUNT_OF(all_pubs));
    pub *p = test_alloc(sizeof *p);
    memset(p, 0, sizeof *p);
    all_pubs[npubs++] = p;
    return p;
}

/* What the caller does: encode `m` (packet identifier 1 when QoS > 0, DUP 0) into a block of
 * exactly its size and decode those bytes into the view. */
static pub *pub_encode(const mqtt5_publish *m)
{
    pub *p = pub_new();
    mqtt5_packet pk = {.type = MQTT5_PUBLISH};
    pk.u.publish = *m;
    pk.u.publish.packet_id = m->qos ? 1 : 0;
    pk.u.publish.dup = false;
    mqtt5_codec_status st;
    size_t size = 0;
    assert_err(mqtt5_packet_encoded_size(&pk, &size, &st), MQTT5_OK);
    p->wire = malloc(size);
    assert_non_null(p->wire);
    p->len = size;
    size_t written = 0;
    assert_err(mqtt5_packet_encode(&pk, p->wire, size, &written, &st), MQTT5_OK);
    assert_int_equal(written, size);
    p->orig = test_alloc(size);
    memcpy(p->orig, p->wire, size);
    mqtt5_packet dec;
    size_t used = 0;
    assert_err(mqtt5_packet_decode(p->wire, size, 0, &dec, &used, &st), MQTT5_OK);
    assert_int_equal(used, size);
    assert_int_equal(dec.type, MQTT5_PUBLISH);
    p->view = dec.u.publish;
    size_t at = 1;
    while (p->wire[at] & 0x80u)
        at++;
    p->id_at = at + 1 + 2 + m->topic.len;
    return p;
}

/* The bytes `p` must go out as: the caller's, with packet identifier `id` and DUP `dup`. */
static const uint8_t *as_sent(const pub *p, uint16_t id, bool dup)
{
    uint8_t *b = test_alloc(p->len);
    memcpy(b, p->orig, p->len);
    if (p->view.qos) {
        b[0] = (uint8_t)(dup ? b[0] | 0x08u : b[0] & ~0x08u);
        b[p->id_at] = (uint8_t)(id >> 8);
        b[p->id_at + 1] = (uint8_t)id;
    }
    return b;
}

/* The caller's bytes are intact (while the core holds them). */
static void assert_intact(const pub *p)
{
    assert_non_null(p->wire);
    assert_memory_equal(p->wire, p->orig, p->len);
}

/* ---- messages ------------------------------------------------------------------------------- */

static mqtt5_publish msg(const char *topic, uint8_t qos, const char *payload)
{
    mqtt5_publish m = {.qos = qos};
    m.topic = (mqtt5_str){topic, strlen(topic)};
    m.payload = (mqtt5_bytes){(const uint8_t *)payload, strlen(payload)};
    return m;
}

static const mqtt5_user_property user_props[] = {{SI("k1"), SI("v1")}, {SI("name"), SI("value")}};

/* Every property a client may put in a PUBLISH but a topic alias and subscription ids. */
static mqtt5_publish msg_props(const char *topic, uint8_t qos, const char *payload)
{
    mqtt5_publish m = msg(topic, qos, payload);
    m.retain = true;
    mqtt5_properties *pr = &m.properties;
    pr->user_properties = user_props;
    pr->user_property_count = COUNT_OF(user_props);
    MQTT5_PROPS_SET(pr, MQTT5_PROP_CONTENT_TYPE);
    pr->content_type = S("text/plain");
    MQTT5_PROPS_SET(pr, MQTT5_PROP_MESSAGE_EXPIRY_INTERVAL);
    pr->message_expiry_interval = 3600;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_PAYLOAD_FORMAT_INDICATOR);
    pr->payload_format_indicator = 1;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_CORRELATION_DATA);
    pr->correlation_data = B("\x01\x02\x03\x00\xff");
    MQTT5_PROPS_SET(pr, MQTT5_PROP_RESPONSE_TOPIC);
    pr->response_topic = S("reply/here");
    return m;
}

/* ---- the rig -------------------------------------------------------------------------------- */

typedef struct entry {
    char kind; /* 'C' on_complete, 'R' on_wire_released */
    void *ctx;
    int error;
} entry;

typedef struct rig {
    core_rig k;   /* the core, its allocator, clock and wire (helpers/core_wire.h) */
    bool encoded; /* publishes go through publish_encoded, else mqtt5_client_core_publish */

    /* callbacks, in order */
    entry log[256];
    size_t nlog;
    size_t completions, releases, null_releases;
    mqtt5_lifecycle_type events[64];
    size_t nevents;
} rig;

static void log_entry(rig *r, char kind, void *ctx, int error)
{
    if (r->nlog < COUNT_OF(r->log)) r->log[r->nlog] = (entry){kind, ctx, error};
    r->nlog++;
}

static void on_lifecycle(void *user, const mqtt5_lifecycle_event *ev)
{
    rig *r = user;
    if (r->nevents < COUNT_OF(r->events)) r->events[r->nevents] = ev->type;
    r->nevents++;
}

static void on_publish(void *user, const mqtt5_inbound_publish *msg_in)
{
    (void)user;
    (void)msg_in;
}

static void on_complete(void *user, const mqtt5_op_completion *done)
{
    rig *r = user;
    r->completions++;
    log_entry(r, 'C', done->user_ctx, done->error);
    pub *p = done->user_ctx;
    if (p) {
        p->completions++;
        p->error = done->error;
    }
}

/* The caller's side of the contract: once released, the bytes are gone. */
static void on_wire_released(void *user, void *user_ctx)
{
    rig *r = user;
    r->releases++;
    log_entry(r, 'R', user_ctx, 0);
    pub *p = user_ctx;
    if (!p) {
        r->null_releases++;
        return;
    }
    p->releases++;
    if (p->completions == 0) p->released_early = true;
    if (p->wire) {
        if (memcmp(p->wire, p->orig, p->len) != 0) p->changed = true;
        memset(p->wire, 0xEE, p->len);
        free(p->wire);
        p->wire = NULL;
    }
}

static void options(mqtt5_client_core_options *o)
{
    mqtt5_client_core_options_init(o);
    o->connect.client_id = S("pe-client");
    o->connect.keep_alive = 0; /* no PINGREQ between the packets under test */
    o->jitter = MQTT5_JITTER_NONE;
}

/* A core on a counting allocator; `cap` 0: drained with mem_send, else mem_send_buf(cap). */
static rig *new_rig_cb(const mqtt5_client_core_options *base, size_t cap, bool encoded,
                       bool release_cb)
{
    rig *r = test_alloc(sizeof(*r));
    memset(r, 0, sizeof(*r));
    r->encoded = encoded;
    mqtt5_client_core_callbacks cb = {.user = r,
                                      .on_lifecycle = on_lifecycle,
                                      .on_publish = on_publish,
                                      .on_complete = on_complete,
                                      .on_wire_released = release_cb ? on_wire_released : NULL};
    core_rig_init(&r->k, base, &cb, cap);
    return r;
}

static rig *new_rig(const mqtt5_client_core_options *base, size_t cap, bool encoded)
{
    return new_rig_cb(base, cap, encoded, true);
}

static size_t incomplete_ops(const rig *r)
{
    mqtt5_client_stats s;
    mqtt5_client_core_stats(r->k.core, &s);
    return (size_t)s.incomplete_ops;
}

/* The next packet is exactly `hex`. */
static void expect_hex(rig *r, const char *hex)
{
    size_t n;
    const uint8_t *raw = core_rig_next_raw(&r->k, &n, NULL);
    assert_mem_hex(raw, n, hex);
}

/* The next packet is `p`'s bytes with identifier `id` and DUP `dup`. */
static void expect_pub(rig *r, const pub *p, uint16_t id, bool dup)
{
    size_t n;
    const uint8_t *raw = core_rig_next_raw(&r->k, &n, NULL);
    assert_int_equal(n, p->len);
    const uint8_t *want = as_sent(p, id, dup);
    assert_memory_equal(raw, want, n);
}

/* The server drops the connection. */
static void drop(rig *r)
{
    core_rig_drop(&r->k);
    core_rig_drain(&r->k);
    assert_int_equal(mqtt5_client_core_state(r->k.core), MQTT5_CS_PENDING_RECONNECT);
}

/* After a drop: the backoff passes, the CONNECT goes out, the CONNACK is `connack_hex`. */
static void reconnect(rig *r, const char *connack_hex)
{
    r->k.now += 200000;
    core_rig_drain(&r->k);
    assert_true(r->k.open);
    mqtt5_packet c = core_rig_next_out(&r->k);
    assert_int_equal(c.type, MQTT5_CONNECT);
    core_rig_recv_hex(&r->k, connack_hex);
    assert_int_equal(mqtt5_client_core_state(r->k.core), MQTT5_CS_CONNECTED);
}

/* Submit `m` the rig's way, with user_ctx = the returned pub. */
static int submit_st(rig *r, const mqtt5_publish *m, uint32_t ack_timeout_ms, pub **out,
                     mqtt5_codec_status *st)
{
    pub *p;
    int rc;
    if (r->encoded) {
        p = pub_encode(m);
        mqtt5_op_options opt = {.user_ctx = p, .ack_timeout_ms = ack_timeout_ms};
        rc = mqtt5_client_core_publish_encoded(r->k.core, r->k.now, &p->view, p->wire, p->len, &opt,
                                               &p->op_id, st);
    } else {
        p = pub_new();
        mqtt5_op_options opt = {.user_ctx = p, .ack_timeout_ms = ack_timeout_ms};
        rc = mqtt5_client_core_publish(r->k.core, r->k.now, m, &opt, &p->op_id, st);
    }
    if (out) *out = p;
    return rc;
}

static pub *submit(rig *r, const mqtt5_publish *m, uint32_t ack_timeout_ms)
{
    pub *p = NULL;
    mqtt5_codec_status st;
    assert_err(submit_st(r, m, ack_timeout_ms, &p, &st), MQTT5_OK);
    return p;
}

/* The log entry i is (kind, ctx, error). */
static void assert_log(const rig *r, size_t i, char kind, const void *ctx, int error)
{
    assert_true(i < r->nlog && i < COUNT_OF(r->log));
    assert_int_equal(r->log[i].kind, kind);
    assert_ptr_equal(r->log[i].ctx, ctx);
    if (kind == 'C') assert_err(r->log[i].error, error);
}

/* `p` completed once with `error`, then was released once, its bytes intact until then. */
static void assert_done(const pub *p, int error)
{
    assert_int_equal(p->completions, 1);
    assert_err(p->error, error);
    assert_int_equal(p->releases, 1);
    assert_false(p->released_early);
    assert_false(p->changed);
    assert_null(p->wire);
}

/* `p` is held by the core: not released, bytes intact. */
static void assert_held(const pub *p)
{
    assert_int_equal(p->releases, 0);
    assert_intact(p);
}

/* ---- two cores driven the same way ---------------------------------------------------------- */

typedef struct pair {
    rig *e; /* publish_encoded */
    rig *c; /* mqtt5_client_core_publish */
} pair;

static pair new_pair(const mqtt5_client_core_options *o, size_t cap)
{
    pair pr = {new_rig(o, cap, true), new_rig(o, cap, false)};
    return pr;
}

/* Both handed out the same bytes in the same batches. */
static void assert_same_output(const pair *pr)
{
    assert_int_equal(pr->e->k.wire.out_len, pr->c->k.wire.out_len);
    assert_memory_equal(pr->e->k.wire.out, pr->c->k.wire.out, pr->e->k.wire.out_len);
    assert_int_equal(pr->e->k.wire.batches, pr->c->k.wire.batches);
    assert_memory_equal(pr->e->k.wire.batch_end, pr->c->k.wire.batch_end,
                        pr->e->k.wire.batches * sizeof(size_t));
    assert_int_equal(pr->e->k.wire.big_batches, pr->c->k.wire.big_batches);
    assert_int_equal(pr->e->completions, pr->c->completions);
    /* the same completions, in the same order */
    size_t j = 0;
    for (size_t i = 0; i < pr->e->nlog && i < COUNT_OF(pr->e->log); i++) {
        if (pr->e->log[i].kind != 'C') continue;
        while (j < pr->c->nlog && j < COUNT_OF(pr->c->log) && pr->c->log[j].kind != 'C')
            j++;
        if (j >= pr->c->nlog || j >= COUNT_OF(pr->c->log)) break;
        assert_err(pr->e->log[i].error, pr->c->log[j].error);
        j++;
    }
}

static pub *pair_submit(pair *pr, const mqtt5_publish *m)
{
    submit(pr->c, m, 0);
    return submit(pr->e, m, 0);
}

static void pair_drain(pair *pr)
{
    core_rig_drain(&pr->e->k);
    core_rig_drain(&pr->c->k);
    assert_same_output(pr);
}

static void pair_recv(pair *pr, const char *hex)
{
    core_rig_recv_hex(&pr->e->k, hex);
    core_rig_recv_hex(&pr->c->k, hex);
    assert_same_output(pr);
}

static void pair_connect(pair *pr, const char *connack_hex)
{
    core_rig_connect(&pr->e->k, connack_hex);
    core_rig_connect(&pr->c->k, connack_hex);
    assert_same_output(pr);
}

static void pair_drop_reconnect(pair *pr, const char *connack_hex)
{
    pr->c->k.wire.read_at = pr->e->k.wire.read_at; /* the same stream, read in pr->e */
    drop(pr->e);
    drop(pr->c);
    reconnect(pr->e, connack_hex);
    reconnect(pr->c, connack_hex);
    assert_same_output(pr);
}

/* Both cores destroyed: the copying core never calls on_wire_released. */
static void pair_free(pair *pr)
{
    core_rig_destroy(&pr->e->k);
    core_rig_destroy(&pr->c->k);
    assert_int_equal(pr->c->releases, 0);
    assert_int_equal(pr->e->null_releases, 0);
    assert_int_equal(pr->e->releases, pr->e->completions);
}

/* ---- 1. the copying path's bytes ------------------------------------------------------------ */

static void run_batched(size_t cap)
{
    mqtt5_client_core_options o;
    options(&o);
    pair pr = new_pair(&o, cap);
    pub *e[8];
    mqtt5_publish m[8] = {
        msg("pe/a", 1, "queued before the connection"),
        msg_props("pe/b", 2, "queued with properties"),
        msg("pe/c", 0, "zero"),
        msg_props("pe/d", 0, "zero with properties"),
        msg("pe/e", 1, "one"),
        msg_props("pe/f", 1, "one with properties"),
        msg("pe/g", 2, "two"),
        msg_props("pe/h", 2, "two with properties"),
    };
    /* QoS 1 and 2 wait for the connection (default offline policy) */
    e[0] = pair_submit(&pr, &m[0]);
    e[1] = pair_submit(&pr, &m[1]);
    pair_connect(&pr, "20 03 00 00 00");
    assert_int_equal(pr.e->k.wire.batches, 2); /* CONNECT, then both publishes in one batch */
    expect_pub(pr.e, e[0], 1, false);
    expect_pub(pr.e, e[1], 2, false);
    core_rig_expect_nothing(&pr.e->k);

    /* six more, handed out together */
    for (size_t i = 2; i < 8; i++)
        e[i] = pair_submit(&pr, &m[i]);
    pair_drain(&pr);
    assert_int_equal(pr.e->k.wire.batches, 3);
    expect_pub(pr.e, e[2], 0, false);
    expect_pub(pr.e, e[3], 0, false);
    expect_pub(pr.e, e[4], 3, false);
    expect_pub(pr.e, e[5], 4, false);
    expect_pub(pr.e, e[6], 5, false);
    expect_pub(pr.e, e[7], 6, false);
    core_rig_expect_nothing(&pr.e->k);
    assert_done(e[2], MQTT5_OK);
    assert_done(e[3], MQTT5_OK);
    for (size_t i = 0; i < 8; i++)
        if (m[i].qos) assert_held(e[i]);

    pair_recv(&pr, "40 02 0001  50 02 0002  40 02 0003  40 02 0004  50 02 0005  50 02 0006");
    expect_hex(pr.e, "62 02 0002");
    expect_hex(pr.e, "62 02 0005");
    expect_hex(pr.e, "62 02 0006");
    core_rig_expect_nothing(&pr.e->k);
    assert_done(e[0], MQTT5_OK);
    assert_done(e[4], MQTT5_OK);
    assert_done(e[5], MQTT5_OK);
    assert_held(e[1]);
    assert_held(e[6]);
    assert_held(e[7]);
    pair_recv(&pr, "70 02 0002  70 02 0005  70 02 0006");
    for (size_t i = 0; i < 8; i++)
        assert_done(e[i], MQTT5_OK);
    assert_int_equal(pr.e->releases, 8);
    pair_free(&pr);
}

static void same_bytes_batched_mem_send(void **state)
{
    (void)state;
    run_batched(0);
}

static void same_bytes_batched_mem_send_buf(void **state)
{
    (void)state;
    run_batched(16384);
}

/* One publish per batch, each acknowledged before the next: ids 1, 2, ... reused as freed. */
static void same_bytes_one_by_one(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    pair pr = new_pair(&o, 0);
    pair_connect(&pr, "20 03 00 00 00");
    unsigned id = 0; /* identifiers are not reused at once: 1, 2, 3, 4 */
    for (uint8_t qos = 0; qos <= 2; qos++) {
        for (int props = 0; props < 2; props++) {
            mqtt5_publish m = props ? msg_props("one/by/one", qos, "payload with properties")
                                    : msg("one/by/one", qos, "payload");
            size_t before = pr.e->k.wire.batches;
            pub *p = pair_submit(&pr, &m);
            pair_drain(&pr);
            assert_int_equal(pr.e->k.wire.batches, before + 1);
            if (qos) id++;
            expect_pub(pr.e, p, (uint16_t)id, false);
            char ack[32];
            if (qos == 1) {
                snprintf(ack, sizeof ack, "40 02 %04x", id);
                pair_recv(&pr, ack);
            }
            if (qos == 2) {
                snprintf(ack, sizeof ack, "50 02 %04x", id);
                pair_recv(&pr, ack);
                snprintf(ack, sizeof ack, "62 02 %04x", id);
                expect_hex(pr.e, ack);
                snprintf(ack, sizeof ack, "70 02 %04x", id);
                pair_recv(&pr, ack);
            }
            core_rig_expect_nothing(&pr.e->k);
            assert_done(p, MQTT5_OK);
        }
    }
    assert_int_equal(id, 4);
    pair_free(&pr);
}

/* ---- 2. packet identifiers and DUP ---------------------------------------------------------- */

static void ids_and_dup_after_resumed_session(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    o.session_behavior = MQTT5_SESSION_REJOIN_ALWAYS;
    pair pr = new_pair(&o, 0);
    pair_connect(&pr, "20 03 00 00 00");
    mqtt5_publish m[5] = {msg("t", 1, "p1"), msg("t", 1, "p2"), msg("t", 1, "p3"),
                          msg("t", 2, "q4"), msg("t", 2, "q5")};
    pub *e[5];
    for (size_t i = 0; i < 5; i++)
        e[i] = pair_submit(&pr, &m[i]);
    pair_drain(&pr);
    expect_hex(pr.e, "32 08 0001 74 0001 00 7031");
    expect_hex(pr.e, "32 08 0001 74 0002 00 7032");
    expect_hex(pr.e, "32 08 0001 74 0003 00 7033");
    expect_hex(pr.e, "34 08 0001 74 0004 00 7134");
    expect_hex(pr.e, "34 08 0001 74 0005 00 7135");
    core_rig_expect_nothing(&pr.e->k);
    /* 2 and 3 acknowledged, 5 received (PUBREL out), 1 and 4 not */
    pair_recv(&pr, "40 02 0002  40 02 0003  50 02 0005");
    expect_hex(pr.e, "62 02 0005");
    assert_done(e[1], MQTT5_OK);
    assert_done(e[2], MQTT5_OK);

    pair_drop_reconnect(&pr, "20 03 01 00 00");
    assert_int_equal(pr.e->events[pr.e->nevents - 1], MQTT5_LC_CONNECTION_SUCCESS);
    /* the same identifiers, DUP 1 (0x3A / 0x3C); the PUBREL again */
    expect_hex(pr.e, "3a 08 0001 74 0001 00 7031");
    expect_hex(pr.e, "3c 08 0001 74 0004 00 7134");
    expect_hex(pr.e, "62 02 0005");
    core_rig_expect_nothing(&pr.e->k);
    /* the caller's bytes still say DUP 0 and identifier 1 */
    assert_mem_hex(e[0]->wire, e[0]->len, "32 08 0001 74 0001 00 7031");
    assert_mem_hex(e[3]->wire, e[3]->len, "34 08 0001 74 0001 00 7134");
    assert_held(e[0]);
    assert_held(e[3]);
    assert_held(e[4]);

    /* resumed once more before any ack: still the same */
    pair_drop_reconnect(&pr, "20 03 01 00 00");
    expect_hex(pr.e, "3a 08 0001 74 0001 00 7031");
    expect_hex(pr.e, "3c 08 0001 74 0004 00 7134");
    expect_hex(pr.e, "62 02 0005");
    core_rig_expect_nothing(&pr.e->k);

    pair_recv(&pr, "40 02 0001  50 02 0004  70 02 0005");
    expect_hex(pr.e, "62 02 0004");
    pair_recv(&pr, "70 02 0004");
    core_rig_expect_nothing(&pr.e->k);
    for (size_t i = 0; i < 5; i++)
        assert_done(e[i], MQTT5_OK);
    /* a new publish after all that: identifier from the core, DUP 0 */
    pub *n = pair_submit(&pr, &m[0]);
    pair_drain(&pr);
    size_t len;
    mqtt5_packet p;
    const uint8_t *raw = core_rig_next_raw(&pr.e->k, &len, &p);
    assert_false(p.u.publish.dup);
    assert_memory_equal(raw, as_sent(n, p.u.publish.packet_id, false), len);
    pair_free(&pr);
}

/* A session not resumed: the unacknowledged publish is a new message, DUP 0. */
static void sent_again_without_dup_in_a_new_session(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    o.session_behavior = MQTT5_SESSION_REJOIN_ALWAYS;
    pair pr = new_pair(&o, 0);
    pair_connect(&pr, "20 03 00 00 00");
    mqtt5_publish m[4] = {msg("t", 1, "p1"), msg("t", 1, "p2"), msg("t", 1, "p3"),
                          msg_props("t", 2, "q4")};
    pub *e[4];
    for (size_t i = 0; i < 4; i++)
        e[i] = pair_submit(&pr, &m[i]);
    pair_drain(&pr);
    expect_hex(pr.e, "32 08 0001 74 0001 00 7031");
    expect_hex(pr.e, "32 08 0001 74 0002 00 7032");
    expect_hex(pr.e, "32 08 0001 74 0003 00 7033");
    expect_pub(pr.e, e[3], 4, false);
    pair_recv(&pr, "40 02 0002  40 02 0003");

    pair_drop_reconnect(&pr, "20 03 00 00 00"); /* session present 0 */
    size_t len;
    mqtt5_packet p;
    const uint8_t *raw = core_rig_next_raw(&pr.e->k, &len, &p);
    assert_false(p.u.publish.dup);
    uint16_t id1 = p.u.publish.packet_id;
    assert_memory_equal(raw, as_sent(e[0], id1, false), len);
    assert_int_equal(raw[0], 0x32);
    raw = core_rig_next_raw(&pr.e->k, &len, &p);
    assert_false(p.u.publish.dup);
    uint16_t id4 = p.u.publish.packet_id;
    assert_true(id4 != id1 && id4 != 0);
    assert_memory_equal(raw, as_sent(e[3], id4, false), len);
    core_rig_expect_nothing(&pr.e->k);
    assert_held(e[0]);
    assert_held(e[3]);

    char ack[64];
    snprintf(ack, sizeof ack, "40 02 %04x  50 02 %04x", id1, id4);
    pair_recv(&pr, ack);
    char rel[32];
    snprintf(rel, sizeof rel, "62 02 %04x", id4);
    expect_hex(pr.e, rel);
    snprintf(ack, sizeof ack, "70 02 %04x", id4);
    pair_recv(&pr, ack);
    for (size_t i = 0; i < 4; i++)
        assert_done(e[i], MQTT5_OK);
    pair_free(&pr);
}

/* Identifiers above 255: both bytes of the identifier are written. */
static void packet_ids_above_255(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    pair pr = new_pair(&o, 0);
    pair_connect(&pr, "20 03 00 00 00");
    mqtt5_publish m = msg("t", 1, "p1");
    for (unsigned id = 1; id <= 300; id++) {
        pub *p = pair_submit(&pr, &m);
        pair_drain(&pr);
        expect_pub(pr.e, p, (uint16_t)id, false);
        char ack[32];
        snprintf(ack, sizeof ack, "40 02 %04x", id);
        pair_recv(&pr, ack);
        core_rig_expect_nothing(&pr.e->k);
        assert_done(p, MQTT5_OK);
        core_rig_forget(&pr.e->k);
        core_rig_forget(&pr.c->k);
    }
    pair_free(&pr);
}

/* The caller's bytes go out as they are, not encoded again from the view: properties in an
 * order of the caller's (the encoder would write them by identifier) come out in that order,
 * on a resend too. */
static void bytes_go_out_as_they_are(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    o.session_behavior = MQTT5_SESSION_REJOIN_ALWAYS;
    rig *r = new_rig(&o, 0, true);
    core_rig_connect(&r->k, "20 03 00 00 00");
    static const char hex[] = "32 16 0001 74 0001 0e 26 0001 6b 0001 76 03 0002 7478 01 01 7031";
    pub *p = pub_new();
    size_t n;
    const uint8_t *bytes = hex_bytes(hex, &n);
    p->wire = malloc(n);
    assert_non_null(p->wire);
    memcpy(p->wire, bytes, n);
    p->orig = test_alloc(n);
    memcpy(p->orig, bytes, n);
    p->len = n;
    mqtt5_packet dec;
    size_t used = 0;
    assert_err(mqtt5_packet_decode(p->wire, n, 0, &dec, &used, NULL), MQTT5_OK);
    assert_int_equal(used, n);
    p->view = dec.u.publish;
    /* the encoder's order differs (so this test can tell the two apart) */
    mqtt5_packet again = dec;
    size_t len2;
    const uint8_t *canonical = encode_ok(&again, &len2);
    assert_int_equal(len2, n);
    assert_true(memcmp(canonical, bytes, n) != 0);

    mqtt5_op_options opt = {.user_ctx = p};
    assert_err(mqtt5_client_core_publish_encoded(r->k.core, r->k.now, &p->view, p->wire, p->len,
                                                 &opt, &p->op_id, NULL),
               MQTT5_OK);
    core_rig_drain(&r->k);
    expect_hex(r, hex);
    core_rig_expect_nothing(&r->k);
    drop(r);
    reconnect(r, "20 03 01 00 00");
    expect_hex(r, "3a 16 0001 74 0001 0e 26 0001 6b 0001 76 03 0002 7478 01 01 7031");
    core_rig_expect_nothing(&r->k);
    core_rig_recv_hex(&r->k, "40 02 0001");
    assert_done(p, MQTT5_OK);
    core_rig_destroy(&r->k);
}

/* ---- 3. on_wire_released -------------------------------------------------------------------- */

/* QoS 0 when handed out, QoS 1 on PUBACK, QoS 2 on PUBCOMP; failure reasons too. */
static void released_after_completion(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig(&o, 0, true);
    core_rig_connect(&r->k, "20 03 00 00 00");
    mqtt5_publish m0 = msg("rel/0", 0, "a"), m1 = msg("rel/1", 1, "b"),
                  m2 = msg_props("rel/2", 2, "c");
    pub *a = submit(r, &m0, 0);
    pub *b = submit(r, &m1, 0);
    pub *c = submit(r, &m2, 0);
    assert_int_equal(r->nlog, 0); /* nothing before it is handed out */
    assert_held(a);
    core_rig_drain(&r->k);
    expect_pub(r, a, 0, false);
    expect_pub(r, b, 1, false);
    expect_pub(r, c, 2, false);
    assert_int_equal(r->nlog, 2);
    assert_log(r, 0, 'C', a, MQTT5_OK);
    assert_log(r, 1, 'R', a, 0);
    assert_held(b);
    assert_held(c);

    core_rig_recv_hex(&r->k, "40 02 0001");
    assert_int_equal(r->nlog, 4);
    assert_log(r, 2, 'C', b, MQTT5_OK);
    assert_log(r, 3, 'R', b, 0);

    core_rig_recv_hex(&r->k, "50 02 0002");
    expect_hex(r, "62 02 0002");
    assert_int_equal(r->nlog, 4); /* the PUBLISH is not needed any more, but not completed */
    assert_held(c);
    core_rig_recv_hex(&r->k, "70 02 0002");
    assert_int_equal(r->nlog, 6);
    assert_log(r, 4, 'C', c, MQTT5_OK);
    assert_log(r, 5, 'R', c, 0);
    assert_done(a, MQTT5_OK);
    assert_done(b, MQTT5_OK);
    assert_done(c, MQTT5_OK);

    /* refused by the server: PUBACK 0x80, PUBREC 0x80 */
    pub *d = submit(r, &m1, 0);
    pub *f = submit(r, &m2, 0);
    core_rig_drain(&r->k);
    expect_pub(r, d, 3, false); /* identifiers are not reused at once */
    expect_pub(r, f, 4, false);
    core_rig_recv_hex(&r->k, "40 03 0003 80  50 03 0004 80");
    core_rig_expect_nothing(&r->k);
    assert_int_equal(r->nlog, 10);
    assert_log(r, 6, 'C', d, MQTT5_ERR_ACK_REASON);
    assert_log(r, 7, 'R', d, 0);
    assert_log(r, 8, 'C', f, MQTT5_ERR_ACK_REASON);
    assert_log(r, 9, 'R', f, 0);
    assert_done(d, MQTT5_ERR_ACK_REASON);
    assert_done(f, MQTT5_ERR_ACK_REASON);
    core_rig_destroy(&r->k);
    assert_int_equal(r->nlog, 10);
}

/* The ack times out: on_complete(ACK_TIMEOUT) then, only when the PUBACK comes, the release. */
static void ack_timeout_released_on_late_ack(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig(&o, 0, true);
    core_rig_connect(&r->k, "20 03 00 00 00");
    mqtt5_publish m1 = msg("t", 1, "p1"), m2 = msg("t", 2, "p2");
    pub *a = submit(r, &m1, 500);
    pub *b = submit(r, &m2, 500);
    core_rig_drain(&r->k);
    expect_hex(r, "32 08 0001 74 0001 00 7031");
    expect_hex(r, "34 08 0001 74 0002 00 7032");
    r->k.now += 499;
    core_rig_drain(&r->k);
    assert_int_equal(r->nlog, 0);
    r->k.now += 1;
    core_rig_drain(&r->k);
    assert_int_equal(r->nlog, 2);
    assert_log(r, 0, 'C', a, MQTT5_ERR_ACK_TIMEOUT);
    assert_log(r, 1, 'C', b, MQTT5_ERR_ACK_TIMEOUT);
    assert_held(a);
    assert_held(b);
    /* another operation meanwhile: its own completion and release, not theirs */
    pub *c = submit(r, &m1, 0);
    core_rig_drain(&r->k);
    expect_hex(r, "32 08 0001 74 0003 00 7031");
    core_rig_recv_hex(&r->k, "40 02 0003");
    assert_done(c, MQTT5_OK);
    assert_held(a);
    assert_held(b);
    /* the late acks: released, not completed again */
    core_rig_recv_hex(&r->k, "40 02 0001");
    assert_int_equal(a->completions, 1);
    assert_done(a, MQTT5_ERR_ACK_TIMEOUT);
    assert_log(r, r->nlog - 1, 'R', a, 0);
    core_rig_recv_hex(&r->k, "50 02 0002");
    expect_hex(r, "62 02 0002");
    assert_held(b);
    core_rig_recv_hex(&r->k, "70 02 0002");
    assert_done(b, MQTT5_ERR_ACK_TIMEOUT);
    assert_log(r, r->nlog - 1, 'R', b, 0);
    assert_int_equal(r->completions, 3);
    assert_int_equal(r->releases, 3);
    core_rig_destroy(&r->k);
    assert_int_equal(r->releases, 3);
}

/* Timed out, then the connection drops and the session is resumed: resent (DUP, same id) from
 * the caller's bytes, which are released only when the PUBACK comes. */
static void ack_timeout_resent_after_resume(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    o.session_behavior = MQTT5_SESSION_REJOIN_ALWAYS;
    rig *r = new_rig(&o, 0, true);
    core_rig_connect(&r->k, "20 03 00 00 00");
    mqtt5_publish m1 = msg("t", 1, "p1"), m2 = msg_props("t", 2, "q2");
    pub *a = submit(r, &m1, 500);
    pub *b = submit(r, &m2, 500);
    core_rig_drain(&r->k);
    expect_hex(r, "32 08 0001 74 0001 00 7031");
    expect_pub(r, b, 2, false);
    r->k.now += 500;
    core_rig_drain(&r->k);
    assert_int_equal(a->completions, 1);
    assert_int_equal(b->completions, 1);
    assert_err(a->error, MQTT5_ERR_ACK_TIMEOUT);
    drop(r);
    assert_held(a);
    assert_held(b);
    reconnect(r, "20 03 01 00 00");
    expect_hex(r, "3a 08 0001 74 0001 00 7031");
    expect_pub(r, b, 2, true);
    core_rig_expect_nothing(&r->k);
    assert_held(a);
    assert_held(b);
    /* timed out again while resent: no second completion */
    r->k.now += 1000;
    core_rig_drain(&r->k);
    assert_int_equal(a->completions, 1);
    assert_int_equal(b->completions, 1);
    core_rig_recv_hex(&r->k, "40 02 0001  50 02 0002");
    expect_hex(r, "62 02 0002");
    assert_done(a, MQTT5_ERR_ACK_TIMEOUT);
    assert_held(b);
    core_rig_recv_hex(&r->k, "70 02 0002");
    assert_done(b, MQTT5_ERR_ACK_TIMEOUT);
    assert_int_equal(r->completions, 2);
    assert_int_equal(r->releases, 2);
    core_rig_destroy(&r->k);
}

/* Timed out, then a new session: the operation ends at the CONNACK (released, not resent). */
static void ack_timeout_released_when_session_ends(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig(&o, 0, true);
    core_rig_connect(&r->k, "20 03 00 00 00");
    mqtt5_publish m1 = msg("t", 1, "p1");
    pub *a = submit(r, &m1, 500);
    core_rig_drain(&r->k);
    expect_hex(r, "32 08 0001 74 0001 00 7031");
    r->k.now += 500;
    core_rig_drain(&r->k);
    assert_log(r, 0, 'C', a, MQTT5_ERR_ACK_TIMEOUT);
    drop(r);
    assert_held(a);
    reconnect(r, "20 03 00 00 00");
    core_rig_expect_nothing(&r->k);
    assert_done(a, MQTT5_ERR_ACK_TIMEOUT);
    assert_int_equal(r->nlog, 2);
    assert_log(r, 1, 'R', a, 0);
    core_rig_destroy(&r->k);
    assert_int_equal(r->nlog, 2);
}

/* Timed out, then the core is destroyed (or stopped): released then, without a completion. */
static void ack_timeout_released_at_destroy_and_stop(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    for (int how = 0; how < 2; how++) {
        rig *r = new_rig(&o, 0, true);
        core_rig_connect(&r->k, "20 03 00 00 00");
        mqtt5_publish m1 = msg("t", 1, "p1");
        pub *a = submit(r, &m1, 500);
        core_rig_drain(&r->k);
        r->k.now += 500;
        core_rig_drain(&r->k);
        assert_int_equal(r->nlog, 1);
        assert_held(a);
        if (how == 0) {
            core_rig_destroy(&r->k);
        } else {
            assert_err(mqtt5_client_core_stop(r->k.core, r->k.now, NULL, NULL), MQTT5_OK);
            core_rig_drain(&r->k);
            assert_int_equal(mqtt5_client_core_state(r->k.core), MQTT5_CS_STOPPED);
        }
        assert_int_equal(r->nlog, 2);
        assert_log(r, 1, 'R', a, 0);
        assert_done(a, MQTT5_ERR_ACK_TIMEOUT);
        if (how == 1) core_rig_destroy(&r->k);
        assert_int_equal(r->nlog, 2);
    }
}

/* Operations in flight, half way through QoS 2, queued and queued offline at destroy:
 * on_complete(STOPPED), then on_wire_released, for each. */
static void destroy_completes_then_releases(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig(&o, 0, true);
    mqtt5_publish m0 = msg("d/0", 0, "zero"), m1 = msg("d/1", 1, "one"),
                  m2 = msg_props("d/2", 2, "two");
    pub *offline = submit(r, &m1, 0); /* before start */
    core_rig_connect(&r->k, "20 03 00 00 00");
    pub *inflight = submit(r, &m1, 0);
    pub *phase2 = submit(r, &m2, 0);
    core_rig_drain(&r->k);
    expect_pub(r, offline, 1, false);
    expect_pub(r, inflight, 2, false);
    expect_pub(r, phase2, 3, false);
    core_rig_recv_hex(&r->k, "40 02 0001  50 02 0003");
    expect_hex(r, "62 02 0003");
    assert_done(offline, MQTT5_OK);
    pub *q0 = submit(r, &m0, 0); /* queued, not handed out */
    pub *q2 = submit(r, &m2, 0);
    size_t before = r->nlog;
    core_rig_destroy(&r->k);
    pub *ops[] = {inflight, phase2, q0, q2};
    assert_int_equal(r->nlog, before + 2 * COUNT_OF(ops));
    for (size_t i = 0; i < COUNT_OF(ops); i++) {
        assert_done(ops[i], MQTT5_ERR_STOPPED);
        /* each one's completion comes right before its release */
        size_t at = before;
        while (at < r->nlog && r->log[at].ctx != ops[i])
            at++;
        assert_log(r, at, 'C', ops[i], MQTT5_ERR_STOPPED);
        assert_log(r, at + 1, 'R', ops[i], 0);
    }
    /* offline and never connected: the same */
    rig *s = new_rig(&o, 0, true);
    pub *a = submit(s, &m1, 0);
    pub *b = submit(s, &m2, 0);
    assert_err(mqtt5_client_core_start(s->k.core, s->k.now), MQTT5_OK);
    core_rig_drain(&s->k);
    core_rig_destroy(&s->k);
    assert_int_equal(s->nlog, 4);
    assert_log(s, 0, 'C', a, MQTT5_ERR_STOPPED);
    assert_log(s, 1, 'R', a, 0);
    assert_log(s, 2, 'C', b, MQTT5_ERR_STOPPED);
    assert_log(s, 3, 'R', b, 0);
}

/* stop(): every operation STOPPED then released; the dropped connection's offline policy: QoS 0
 * not yet handed out OFFLINE_POLICY then released, QoS 1 kept. */
static void stop_and_offline_policy_release(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig(&o, 0, true);
    core_rig_connect(&r->k, "20 03 00 00 00");
    mqtt5_publish m0 = msg("s/0", 0, "zero"), m1 = msg("s/1", 1, "one");
    pub *q0 = submit(r, &m0, 0);
    pub *q1 = submit(r, &m1, 0);
    drop(r);
    assert_int_equal(r->nlog, 2);
    assert_log(r, 0, 'C', q0, MQTT5_ERR_OFFLINE_POLICY);
    assert_log(r, 1, 'R', q0, 0);
    assert_done(q0, MQTT5_ERR_OFFLINE_POLICY);
    assert_held(q1);
    reconnect(r, "20 03 00 00 00");
    expect_pub(r, q1, 1, false);
    pub *q2 = submit(r, &m1, 0);
    assert_err(mqtt5_client_core_stop(r->k.core, r->k.now, NULL, NULL), MQTT5_OK);
    core_rig_drain(&r->k);
    assert_int_equal(mqtt5_client_core_state(r->k.core), MQTT5_CS_STOPPED);
    assert_int_equal(r->nlog, 6);
    assert_log(r, 2, 'C', q1, MQTT5_ERR_STOPPED);
    assert_log(r, 3, 'R', q1, 0);
    assert_log(r, 4, 'C', q2, MQTT5_ERR_STOPPED);
    assert_log(r, 5, 'R', q2, 0);
    assert_done(q1, MQTT5_ERR_STOPPED);
    assert_done(q2, MQTT5_ERR_STOPPED);
    core_rig_destroy(&r->k);
    assert_int_equal(r->nlog, 6);
}

/* Queued offline, then the CONNACK's limits (Maximum QoS 1, Maximum Packet Size 20) fail them:
 * on_complete with the copying path's error, then on_wire_released; what fits goes out. */
static void failed_at_connack_then_released(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    pair pr = new_pair(&o, 0);
    mqtt5_publish m2 = msg("t", 2, "q2"), big = msg("t", 1, "0123456789abcdef"),
                  m1 = msg("t", 1, "p1");
    pub *a = pair_submit(&pr, &m2);
    pub *b = pair_submit(&pr, &big);
    pub *c = pair_submit(&pr, &m1);
    pair_connect(&pr, "20 0a 00 00 07 24 01 27 00000014");
    expect_hex(pr.e, "32 08 0001 74 0001 00 7031");
    core_rig_expect_nothing(&pr.e->k);
    assert_int_equal(pr.e->nlog, 4);
    assert_log(pr.e, 0, 'C', a, MQTT5_ERR_NOT_AVAILABLE);
    assert_log(pr.e, 1, 'R', a, 0);
    assert_log(pr.e, 2, 'C', b, MQTT5_ERR_PACKET_TOO_LARGE);
    assert_log(pr.e, 3, 'R', b, 0);
    assert_done(a, MQTT5_ERR_NOT_AVAILABLE);
    assert_done(b, MQTT5_ERR_PACKET_TOO_LARGE);
    assert_held(c);
    pair_recv(&pr, "40 02 0001");
    assert_done(c, MQTT5_OK);
    pair_free(&pr);
}

/* ---- 4. refusals ---------------------------------------------------------------------------- */

/* Refused: nothing retained (no memory, no operation, nothing sent, no callback, ever). */
static void assert_refused(rig *r, int rc, const mqtt5_codec_status *st, int err, const char *field,
                           size_t mem_before)
{
    assert_err(rc, err);
    assert_err(st->error, err);
    if (field) {
        assert_non_null(st->field);
        assert_string_equal(st->field, field);
    }
    assert_int_equal(core_rig_mem(&r->k), mem_before);
    assert_int_equal(incomplete_ops(r), 0);
    assert_int_equal(r->nlog, 0);
}

static void refuses_a_wire_that_is_not_the_publish(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig(&o, 0, true);
    core_rig_connect(&r->k, "20 03 00 00 00");
    size_t idle = core_rig_mem(&r->k);
    mqtt5_publish m1 = msg("t", 1, "p1");
    pub *p = pub_encode(&m1);
    mqtt5_op_options opt = {.user_ctx = p};
    mqtt5_codec_status st;
    uint64_t id = 77;
    int rc;

    /* NULL wire */
    rc = mqtt5_client_core_publish_encoded(r->k.core, r->k.now, &p->view, NULL, p->len, &opt, &id,
                                           &st);
    assert_refused(r, rc, &st, MQTT5_ERR_INVALID_ARGUMENT, "wire", idle);

    /* a SUBSCRIBE's bytes */
    mqtt5_subscription subs[] = {{.topic_filter = S("a/b/c/d"), .qos = 1}};
    mqtt5_packet sp = {.type = MQTT5_SUBSCRIBE};
    sp.u.subscribe =
        (mqtt5_subscribe){.packet_id = 1, .subscriptions = subs, .subscription_count = 1};
    size_t slen;
    const uint8_t *sub = encode_ok(&sp, &slen);
    assert_true(slen >= p->len);
    rc =
        mqtt5_client_core_publish_encoded(r->k.core, r->k.now, &p->view, sub, slen, &opt, &id, &st);
    assert_refused(r, rc, &st, MQTT5_ERR_INVALID_ARGUMENT, "wire", idle);

    /* DUP set in the view */
    mqtt5_publish dup = p->view;
    dup.dup = true;
    rc = mqtt5_client_core_publish_encoded(r->k.core, r->k.now, &dup, p->wire, p->len, &opt, &id,
                                           &st);
    assert_refused(r, rc, &st, MQTT5_ERR_INVALID_ARGUMENT, "wire", idle);

    /* too short for the packet identifier of a QoS 1 PUBLISH (or for anything) */
    size_t shorts[] = {0, 1, 2, p->id_at, p->id_at + 1};
    for (size_t i = 0; i < COUNT_OF(shorts); i++) {
        rc = mqtt5_client_core_publish_encoded(r->k.core, r->k.now, &p->view, p->wire, shorts[i],
                                               &opt, &id, &st);
        assert_refused(r, rc, &st, MQTT5_ERR_INVALID_ARGUMENT, "wire", idle);
    }
    assert_int_equal(id, 77);

    /* bytes that disagree with the view where the core relies on them */
    uint8_t bad[64];
    assert_true(p->len + 3 <= sizeof bad);
    memcpy(bad, p->wire, p->len);
    memset(bad + p->len, 0xC0, 3); /* trailing bytes: the length says less */
    rc = mqtt5_client_core_publish_encoded(r->k.core, r->k.now, &p->view, bad, p->len + 3, &opt,
                                           &id, &st);
    assert_refused(r, rc, &st, MQTT5_ERR_INVALID_ARGUMENT, "wire", idle);
    rc = mqtt5_client_core_publish_encoded(r->k.core, r->k.now, &p->view, bad, p->len - 1, &opt,
                                           &id, &st); /* cut short: the length says more */
    assert_refused(r, rc, &st, MQTT5_ERR_INVALID_ARGUMENT, "wire", idle);
    mqtt5_publish q0 = p->view; /* a QoS 0 view over QoS 1 bytes */
    q0.qos = 0;
    rc = mqtt5_client_core_publish_encoded(r->k.core, r->k.now, &q0, p->wire, p->len, &opt, &id,
                                           &st);
    assert_refused(r, rc, &st, MQTT5_ERR_INVALID_ARGUMENT, "wire", idle);
    mqtt5_publish longer = p->view; /* a view whose topic is not the bytes' topic */
    longer.topic = S("tt");
    rc = mqtt5_client_core_publish_encoded(r->k.core, r->k.now, &longer, p->wire, p->len, &opt, &id,
                                           &st);
    assert_refused(r, rc, &st, MQTT5_ERR_INVALID_ARGUMENT, "wire", idle);
    bad[0] |= 0x08; /* DUP set in the bytes */
    rc = mqtt5_client_core_publish_encoded(r->k.core, r->k.now, &p->view, bad, p->len, &opt, &id,
                                           &st);
    assert_refused(r, rc, &st, MQTT5_ERR_INVALID_ARGUMENT, "wire", idle);
    assert_int_equal(id, 77);

    /* the same bytes whole are fine */
    rc = mqtt5_client_core_publish_encoded(r->k.core, r->k.now, &p->view, p->wire, p->len, &opt,
                                           &p->op_id, &st);
    assert_err(rc, MQTT5_OK);
    core_rig_drain(&r->k);
    expect_hex(r, "32 08 0001 74 0001 00 7031");
    core_rig_expect_nothing(&r->k);
    core_rig_recv_hex(&r->k, "40 02 0001");
    assert_done(p, MQTT5_OK);
    assert_int_equal(r->nlog, 2);
    core_rig_destroy(&r->k);
    assert_int_equal(r->nlog, 2);
}

static void refuses_without_release_callback(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig_cb(&o, 0, true, false);
    core_rig_connect(&r->k, "20 03 00 00 00");
    size_t idle = core_rig_mem(&r->k);
    for (uint8_t qos = 0; qos <= 2; qos++) {
        mqtt5_publish m = msg("t", qos, "p");
        pub *p = pub_encode(&m);
        mqtt5_op_options opt = {.user_ctx = p};
        mqtt5_codec_status st;
        int rc = mqtt5_client_core_publish_encoded(r->k.core, r->k.now, &p->view, p->wire, p->len,
                                                   &opt, NULL, &st);
        assert_refused(r, rc, &st, MQTT5_ERR_INVALID_ARGUMENT, "callbacks.on_wire_released", idle);
    }
    core_rig_drain(&r->k);
    core_rig_expect_nothing(&r->k);
    /* the copying path does not need it */
    mqtt5_publish m = msg("t", 1, "p1");
    assert_err(mqtt5_client_core_publish(r->k.core, r->k.now, &m, NULL, NULL, NULL), MQTT5_OK);
    core_rig_drain(&r->k);
    expect_hex(r, "32 08 0001 74 0001 00 7031");
    core_rig_destroy(&r->k);
    assert_int_equal(r->releases, 0);
}

/* What the copying path refuses for the message, publish_encoded refuses the same way (error
 * and field), retaining nothing. `m` is the message the copying path gets. */
static void refused_like_copying_path(rig *e, rig *c, const mqtt5_publish *m, int err,
                                      const char *field)
{
    size_t e_mem = core_rig_mem(&e->k), c_mem = core_rig_mem(&c->k);
    size_t e_ops = incomplete_ops(e), e_log = e->nlog;
    mqtt5_codec_status cst, est;
    int crc = submit_st(c, m, 0, NULL, &cst);
    assert_err(crc, err);
    assert_int_equal(core_rig_mem(&c->k), c_mem);
    pub *p = NULL;
    int erc = submit_st(e, m, 0, &p, &est);
    assert_err(erc, err);
    assert_err(est.error, cst.error);
    if (field) {
        assert_non_null(est.field);
        assert_string_equal(est.field, field);
    }
    if (cst.field) {
        assert_non_null(est.field);
        assert_string_equal(est.field, cst.field);
    } else {
        assert_null(est.field);
    }
    assert_int_equal(core_rig_mem(&e->k), e_mem);
    assert_int_equal(incomplete_ops(e), e_ops);
    assert_int_equal(e->nlog, e_log);
    assert_int_equal(p->releases, 0);
}

static void refuses_topic_alias_like_copying_path(void **state)
{
    (void)state;
    mqtt5_alias_out modes[] = {MQTT5_ALIAS_OUT_DISABLED, MQTT5_ALIAS_OUT_LRU};
    for (size_t i = 0; i < COUNT_OF(modes); i++) {
        mqtt5_client_core_options o;
        options(&o);
        o.alias_out = modes[i];
        pair pr = new_pair(&o, 0);
        pair_connect(&pr, "20 06 00 00 03 22 00 04");
        mqtt5_publish m = msg("alias/topic", 1, "x");
        MQTT5_PROPS_SET(&m.properties, MQTT5_PROP_TOPIC_ALIAS);
        m.properties.topic_alias = 1;
        refused_like_copying_path(pr.e, pr.c, &m, MQTT5_ERR_INVALID_ARGUMENT,
                                  "properties.topicAlias");
        pair_drain(&pr);
        core_rig_expect_nothing(&pr.e->k);
        pair_free(&pr);
        assert_int_equal(pr.e->nlog, 0);
    }
    /* MANUAL: above the server's maximum, or without a topic, refused alike */
    mqtt5_client_core_options o;
    options(&o);
    o.alias_out = MQTT5_ALIAS_OUT_MANUAL;
    pair pr = new_pair(&o, 0);
    pair_connect(&pr, "20 06 00 00 03 22 00 04");
    mqtt5_publish m = msg("alias/topic", 1, "x");
    MQTT5_PROPS_SET(&m.properties, MQTT5_PROP_TOPIC_ALIAS);
    m.properties.topic_alias = 5;
    refused_like_copying_path(pr.e, pr.c, &m, MQTT5_ERR_NOT_AVAILABLE, "properties.topicAlias");
    m.properties.topic_alias = 2;
    m.topic = S("");
    refused_like_copying_path(pr.e, pr.c, &m, MQTT5_ERR_INVALID_TOPIC, "topic");
    pair_drain(&pr);
    core_rig_expect_nothing(&pr.e->k);
    pair_free(&pr);
    assert_int_equal(pr.e->nlog, 0);
}

static void refuses_beyond_queue_bounds(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    o.max_queued_ops = 1;
    pair pr = new_pair(&o, 0);
    pair_connect(&pr, "20 03 00 00 00");
    mqtt5_publish m1 = msg("t", 1, "p1"), m0 = msg("t", 0, "p0");
    pub *a = pair_submit(&pr, &m1);
    refused_like_copying_path(pr.e, pr.c, &m1, MQTT5_ERR_QUEUE_FULL, NULL);
    refused_like_copying_path(pr.e, pr.c, &m0, MQTT5_ERR_QUEUE_FULL, NULL);
    pair_drain(&pr);
    expect_hex(pr.e, "32 08 0001 74 0001 00 7031");
    core_rig_expect_nothing(&pr.e->k);
    refused_like_copying_path(pr.e, pr.c, &m1, MQTT5_ERR_QUEUE_FULL, NULL);
    pair_recv(&pr, "40 02 0001");
    assert_done(a, MQTT5_OK);
    /* room again */
    pub *b = pair_submit(&pr, &m0);
    pair_drain(&pr);
    expect_hex(pr.e, "30 06 0001 74 00 7030");
    assert_done(b, MQTT5_OK);
    pair_free(&pr);
    assert_int_equal(pr.e->releases, 2);

    /* max_queued_bytes: the caller's bytes count as the encoded size */
    options(&o);
    pub *probe = pub_encode(&m1);
    o.max_queued_bytes = 2 * probe->len - 1;
    pr = new_pair(&o, 0);
    pair_connect(&pr, "20 03 00 00 00");
    a = pair_submit(&pr, &m1);
    refused_like_copying_path(pr.e, pr.c, &m1, MQTT5_ERR_QUEUE_FULL, NULL);
    pair_drain(&pr);
    pair_recv(&pr, "40 02 0001");
    assert_done(a, MQTT5_OK);
    pair_free(&pr);
}

/* Offline policies while stopped, and the connection's limits (Maximum QoS, Retain Available,
 * Maximum Packet Size) while connected: refused as by the copying path. */
static void refuses_like_copying_path_offline_and_limits(void **state)
{
    (void)state;
    mqtt5_offline_policy pols[] = {MQTT5_OFFLINE_FAIL_QOS0_PUBLISH_ON_DISCONNECT,
                                   MQTT5_OFFLINE_FAIL_NON_QOS1_PUBLISH_ON_DISCONNECT,
                                   MQTT5_OFFLINE_FAIL_ALL_ON_DISCONNECT};
    /* accepted offline: [policy][qos] */
    const bool kept[3][3] = {{false, true, true}, {false, true, true}, {false, false, false}};
    for (size_t i = 0; i < COUNT_OF(pols); i++) {
        mqtt5_client_core_options o;
        options(&o);
        o.offline_policy = pols[i];
        pair pr = new_pair(&o, 0);
        pub *held[3] = {NULL, NULL, NULL};
        for (uint8_t qos = 0; qos <= 2; qos++) {
            mqtt5_publish m = msg_props("off/line", qos, "x");
            if (kept[i][qos]) {
                held[qos] = pair_submit(&pr, &m);
            } else {
                refused_like_copying_path(pr.e, pr.c, &m, MQTT5_ERR_OFFLINE_POLICY, NULL);
            }
        }
        size_t before = pr.e->nlog;
        pair_free(&pr);
        for (uint8_t qos = 0; qos <= 2; qos++)
            if (held[qos]) assert_done(held[qos], MQTT5_ERR_STOPPED);
        assert_int_equal(pr.e->nlog, before + 2 * (size_t)(kept[i][1] + kept[i][2]));
    }

    /* CONNACK: Maximum QoS 1, Retain Available 0, Maximum Packet Size 40 */
    mqtt5_client_core_options o;
    options(&o);
    pair pr = new_pair(&o, 0);
    pair_connect(&pr, "20 0c 00 00 09 24 01 25 00 27 00000028");
    mqtt5_publish m2 = msg("lim", 2, "x");
    refused_like_copying_path(pr.e, pr.c, &m2, MQTT5_ERR_NOT_AVAILABLE, NULL);
    mqtt5_publish mr = msg("lim", 1, "x");
    mr.retain = true;
    refused_like_copying_path(pr.e, pr.c, &mr, MQTT5_ERR_NOT_AVAILABLE, NULL);
    mqtt5_publish big = msg("lim", 1, "0123456789012345678901234567890123456789");
    refused_like_copying_path(pr.e, pr.c, &big, MQTT5_ERR_PACKET_TOO_LARGE, "payload");
    /* just within */
    mqtt5_publish fits = msg("lim", 1, "012345678901234567890123456789");
    pub *f = pair_submit(&pr, &fits);
    pair_drain(&pr);
    expect_pub(pr.e, f, 1, false);
    assert_int_equal(f->len, 40);
    pair_recv(&pr, "40 02 0001");
    assert_done(f, MQTT5_OK);
    pair_free(&pr);
    assert_int_equal(pr.e->nlog, 2);
}

/* No memory for the operation's record, or for a fifth packet identifier: NOMEM, nothing
 * retained, never released. */
static void refuses_without_memory(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig(&o, 0, true);
    core_rig_connect(&r->k, "20 03 00 00 00");
    size_t idle = core_rig_mem(&r->k);
    mqtt5_publish m1 = msg("t", 1, "p1");
    mqtt5_codec_status st;
    pub *p = NULL;
    test_allocator_fail_at(&r->k.ta, 1, false);
    int rc = submit_st(r, &m1, 0, &p, &st);
    assert_refused(r, rc, &st, MQTT5_ERR_NOMEM, NULL, idle);
    assert_int_equal(r->k.ta.failures, 1);
    assert_intact(p);

    pub *ok[4];
    for (size_t i = 0; i < 4; i++)
        ok[i] = submit(r, &m1, 0);
    size_t with_four = core_rig_mem(&r->k);
    test_allocator_fail_at(&r->k.ta, 2, false); /* the operation's record, then the ids */
    rc = submit_st(r, &m1, 0, &p, &st);
    assert_err(rc, MQTT5_ERR_NOMEM);
    assert_int_equal(r->k.ta.failures, 2);
    assert_int_equal(core_rig_mem(&r->k), with_four);
    assert_int_equal(incomplete_ops(r), 4);
    assert_int_equal(r->nlog, 0);
    assert_held(p);
    core_rig_drain(&r->k);
    for (size_t i = 0; i < 4; i++)
        expect_pub(r, ok[i], (uint16_t)(i + 1), false);
    core_rig_expect_nothing(&r->k);
    core_rig_recv_hex(&r->k, "40 02 0001  40 02 0002  40 02 0003  40 02 0004");
    for (size_t i = 0; i < 4; i++)
        assert_done(ok[i], MQTT5_OK);
    assert_int_equal(p->releases, 0);
    core_rig_destroy(&r->k);
    assert_int_equal(r->releases, 4);
}

/* ---- 5. outbound topic aliases -------------------------------------------------------------- */

static void lru_aliases_like_copying_path(void **state)
{
    (void)state;
    for (size_t cap = 0; cap <= 4096; cap += 4096) {
        mqtt5_client_core_options o;
        options(&o);
        o.alias_out = MQTT5_ALIAS_OUT_LRU;
        o.alias_out_cache = 4;
        o.session_behavior = MQTT5_SESSION_REJOIN_ALWAYS;
        pair pr = new_pair(&o, cap);
        pair_connect(&pr, "20 06 00 00 03 22 00 04"); /* Topic Alias Maximum 4 */
        mqtt5_publish m1 = msg("a/topic", 1, "x"), m0 = msg("a/topic", 0, "y"),
                      mp = msg_props("a/topic", 2, "z"), other = msg("b/topic", 0, "w");
        pub *a = pair_submit(&pr, &m1);
        pub *b = pair_submit(&pr, &m0);
        pub *c = pair_submit(&pr, &mp);
        pub *d = pair_submit(&pr, &other);
        pair_drain(&pr);
        /* first use: topic and alias 1; then the alias alone */
        expect_hex(pr.e, "32 10 0007 612f746f706963 0001 03 230001 78");
        expect_hex(pr.e, "30 07 0000 03 230001 79");
        mqtt5_packet p = core_rig_next_out(&pr.e->k);
        assert_int_equal(p.type, MQTT5_PUBLISH);
        assert_int_equal(p.u.publish.topic.len, 0);
        assert_int_equal(p.u.publish.properties.topic_alias, 1);
        assert_int_equal(p.u.publish.packet_id, 2);
        assert_user_props(&p.u.publish.properties, "k1", "v1", "name", "value", NULL);
        assert_str_eq(p.u.publish.properties.content_type, "text/plain");
        assert_str_eq(p.u.publish.properties.response_topic, "reply/here");
        assert_bytes_hex(p.u.publish.properties.correlation_data, "010203 00 ff");
        assert_int_equal(p.u.publish.properties.message_expiry_interval, 3600);
        assert_bytes_hex(p.u.publish.payload, "7a");
        expect_hex(pr.e, "30 0e 0007 622f746f706963 03 230002 77");
        core_rig_expect_nothing(&pr.e->k);
        /* the caller's bytes: the topic, no alias */
        assert_intact(a);
        assert_intact(c);
        assert_done(b, MQTT5_OK);
        assert_done(d, MQTT5_OK);
        /* resumed: both resent with DUP, aliases bound afresh on the new connection */
        pair_drop_reconnect(&pr, "20 06 01 00 03 22 00 04");
        expect_hex(pr.e, "3a 10 0007 612f746f706963 0001 03 230001 78");
        p = core_rig_next_out(&pr.e->k);
        assert_true(p.u.publish.dup);
        assert_int_equal(p.u.publish.packet_id, 2);
        assert_int_equal(p.u.publish.topic.len, 0);
        assert_int_equal(p.u.publish.properties.topic_alias, 1);
        core_rig_expect_nothing(&pr.e->k);
        assert_intact(a);
        assert_intact(c);
        pair_recv(&pr, "40 02 0001  50 02 0002");
        pair_recv(&pr, "70 02 0002");
        assert_done(a, MQTT5_OK);
        assert_done(c, MQTT5_OK);
        pair_free(&pr);
    }
}

/* MANUAL with an alias chosen by the user (and the topic), and LRU against a server without
 * aliases: the copying path's bytes. */
static void manual_alias_and_lru_without_server_aliases(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    o.alias_out = MQTT5_ALIAS_OUT_MANUAL;
    pair pr = new_pair(&o, 0);
    pair_connect(&pr, "20 06 00 00 03 22 00 04");
    mqtt5_publish m = msg_props("man/topic", 1, "x");
    MQTT5_PROPS_SET(&m.properties, MQTT5_PROP_TOPIC_ALIAS);
    m.properties.topic_alias = 3;
    pub *a = pair_submit(&pr, &m);
    pair_drain(&pr);
    mqtt5_packet p = core_rig_next_out(&pr.e->k);
    assert_str_eq(p.u.publish.topic, "man/topic");
    assert_int_equal(p.u.publish.properties.topic_alias, 3);
    pair_recv(&pr, "40 02 0001");
    assert_done(a, MQTT5_OK);
    pair_free(&pr);

    options(&o);
    o.alias_out = MQTT5_ALIAS_OUT_LRU;
    pr = new_pair(&o, 0);
    pair_connect(&pr, "20 03 00 00 00"); /* no Topic Alias Maximum: none */
    mqtt5_publish m1 = msg("t", 1, "p1");
    a = pair_submit(&pr, &m1);
    pub *b = pair_submit(&pr, &m1);
    pair_drain(&pr);
    expect_hex(pr.e, "32 08 0001 74 0001 00 7031");
    expect_hex(pr.e, "32 08 0001 74 0002 00 7031");
    pair_recv(&pr, "40 02 0001  40 02 0002");
    assert_done(a, MQTT5_OK);
    assert_done(b, MQTT5_OK);
    pair_free(&pr);
}

/* ---- 6. bigger than the batch --------------------------------------------------------------- */

static void run_big(size_t cap)
{
    mqtt5_client_core_options o;
    options(&o);
    o.write_batch_size = 64;
    o.session_behavior = MQTT5_SESSION_REJOIN_ALWAYS;
    pair pr = new_pair(&o, cap);
    pair_connect(&pr, "20 03 00 00 00");
    char payload[201];
    for (size_t i = 0; i < 200; i++)
        payload[i] = (char)('a' + i % 26);
    payload[200] = 0;
    mqtt5_publish s1 = msg("small/1", 0, "s1"), big = msg_props("big", 1, payload),
                  s2 = msg("small/2", 1, "s2");
    pub *a = pair_submit(&pr, &s1);
    pub *b = pair_submit(&pr, &big);
    pub *c = pair_submit(&pr, &s2);
    size_t first = pr.e->k.wire.batches;
    pair_drain(&pr);
    assert_true(b->len > 200);
    /* small / big alone / small */
    assert_int_equal(pr.e->k.wire.batches, first + 3);
    assert_int_equal(pr.e->k.wire.batch_end[first] - pr.e->k.wire.batch_end[first - 1], a->len);
    assert_int_equal(pr.e->k.wire.batch_end[first + 1] - pr.e->k.wire.batch_end[first], b->len);
    assert_int_equal(pr.e->k.wire.batch_end[first + 2] - pr.e->k.wire.batch_end[first + 1], c->len);
    if (cap) assert_int_equal(pr.e->k.wire.big_batches, 1);
    expect_pub(pr.e, a, 0, false);
    expect_pub(pr.e, b, 1, false);
    expect_pub(pr.e, c, 2, false);
    core_rig_expect_nothing(&pr.e->k);
    assert_done(a, MQTT5_OK);
    assert_held(b);
    pair_recv(&pr, "40 02 0002");
    assert_done(c, MQTT5_OK);
    /* resent alone, with DUP, after a resumed session */
    pair_drop_reconnect(&pr, "20 03 01 00 00");
    assert_int_equal(pr.e->k.wire.batch_end[pr.e->k.wire.batches - 1] -
                         pr.e->k.wire.batch_end[pr.e->k.wire.batches - 2],
                     b->len);
    if (cap) assert_int_equal(pr.e->k.wire.big_batches, 2);
    expect_pub(pr.e, b, 1, true);
    core_rig_expect_nothing(&pr.e->k);
    assert_held(b);
    pair_recv(&pr, "40 02 0001");
    assert_done(b, MQTT5_OK);
    pair_free(&pr);
}

static void bigger_than_the_batch_mem_send(void **state)
{
    (void)state;
    run_big(0);
}

static void bigger_than_the_batch_mem_send_buf(void **state)
{
    (void)state;
    run_big(64);
}

/* ---- memory --------------------------------------------------------------------------------- */

/* An operation costs the same whatever the size of the caller's bytes. */
static void memory_does_not_count_the_callers_bytes(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    static char payload[1001];
    memset(payload, 'p', 1000);
    mqtt5_publish small = msg("t", 1, "x"), large = msg("t", 1, payload);
    rig *e = new_rig(&o, 0, true);
    rig *c = new_rig(&o, 0, false);
    core_rig_connect(&e->k, "20 03 00 00 00");
    core_rig_connect(&c->k, "20 03 00 00 00");
    size_t e0 = core_rig_mem(&e->k), c0 = core_rig_mem(&c->k);
    pub *a = submit(e, &small, 0);
    size_t e1 = core_rig_mem(&e->k);
    pub *b = submit(e, &large, 0);
    size_t e2 = core_rig_mem(&e->k);
    assert_int_equal(e2 - e1, e1 - e0);
    assert_true(e1 - e0 < 1000);
    /* the copying path does count them (so the check above can fail) */
    submit(c, &small, 0);
    size_t c1 = core_rig_mem(&c->k);
    submit(c, &large, 0);
    assert_true(core_rig_mem(&c->k) - c1 >= (c1 - c0) + 999);
    core_rig_drain(&e->k);
    core_rig_drain(&c->k);
    /* while work is pending, a finished record is kept and serves the next publish */
    core_rig_recv_hex(&e->k, "40 02 0001");
    assert_done(a, MQTT5_OK);
    assert_int_equal(core_rig_mem(&e->k), e2);
    pub *d = submit(e, &small, 0);
    assert_int_equal(core_rig_mem(&e->k), e2);
    core_rig_drain(&e->k);
    core_rig_recv_hex(&e->k, "40 02 0002  40 02 0003");
    core_rig_recv_hex(&c->k, "40 02 0001  40 02 0002");
    assert_done(b, MQTT5_OK);
    assert_done(d, MQTT5_OK);
    /* idle again: nothing kept */
    assert_int_equal(core_rig_mem(&e->k), e0);
    core_rig_destroy(&e->k);
    core_rig_destroy(&c->k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_bytes_batched_mem_send),
        cmocka_unit_test(same_bytes_batched_mem_send_buf),
        cmocka_unit_test(same_bytes_one_by_one),
        cmocka_unit_test(ids_and_dup_after_resumed_session),
        cmocka_unit_test(sent_again_without_dup_in_a_new_session),
        cmocka_unit_test(packet_ids_above_255),
        cmocka_unit_test(bytes_go_out_as_they_are),
        cmocka_unit_test(released_after_completion),
        cmocka_unit_test(ack_timeout_released_on_late_ack),
        cmocka_unit_test(ack_timeout_resent_after_resume),
        cmocka_unit_test(ack_timeout_released_when_session_ends),
        cmocka_unit_test(ack_timeout_released_at_destroy_and_stop),
        cmocka_unit_test(destroy_completes_then_releases),
        cmocka_unit_test(stop_and_offline_policy_release),
        cmocka_unit_test(failed_at_connack_then_released),
        cmocka_unit_test(refuses_a_wire_that_is_not_the_publish),
        cmocka_unit_test(refuses_without_release_callback),
        cmocka_unit_test(refuses_topic_alias_like_copying_path),
        cmocka_unit_test(refuses_beyond_queue_bounds),
        cmocka_unit_test(refuses_like_copying_path_offline_and_limits),
        cmocka_unit_test(refuses_without_memory),
        cmocka_unit_test(lru_aliases_like_copying_path),
        cmocka_unit_test(manual_alias_and_lru_without_server_aliases),
        cmocka_unit_test(bigger_than_the_batch_mem_send),
        cmocka_unit_test(bigger_than_the_batch_mem_send_buf),
        cmocka_unit_test(memory_does_not_count_the_callers_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
