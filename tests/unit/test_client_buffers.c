/*
 * test_client_buffers.c - the client core's memory on demand (client_core.h, "Memory"):
 *   - an idle connected core is one allocation, within a stated bound whatever receive_maximum;
 *     acknowledgements owed beyond the few the core holds inline take a ring that is gone once
 *     they are out, and a ring that cannot grow ends the connection with MQTT5_ERR_NOMEM;
 *   - the CONNECT template is the core's own, kept encoded: the caller's strings may go once the
 *     core exists, every CONNECT is the template plus what the core sets, and the password is
 *     wiped before the memory goes back;
 *   - mem_send allocates its batch buffer with the first batch of a connection and frees it when
 *     the transport closes; if it cannot, the connection fails with MQTT5_ERR_NOMEM;
 *   - mem_send_buf hands out exactly the bytes and batches mem_send would, from the caller's
 *     buffer, a packet bigger than that alone from the core's; it refuses cap < 64;
 *   - a packet split across mem_recv calls, at any byte, is gathered in a buffer of its size that
 *     is gone once it is decoded or the connection resets; small ones need none; a failed
 *     allocation ends the connection with MQTT5_ERR_NOMEM (DISCONNECT 0x83);
 *   - packet identifiers cost nothing while few are in use, and running out of memory for them
 *     is reported by the call that needed them (or ends the connection for inbound QoS 2);
 * and the decoder's storage on demand (codec.h) that the core relies on.
 *
 * The rig drives the core directly (no scripted broker) so memory can be looked at between the
 * pieces of one packet.
 */
#include "helpers/test_common.h"
#include "helpers/core_wire.h"
#include "helpers/test_allocator.h"

/* ---- the rig -------------------------------------------------------------------------------- */

typedef struct rig {
    core_rig k; /* the core, its allocator, clock and wire (helpers/core_wire.h) */

    /* callbacks */
    mqtt5_lifecycle_type events[32];
    int event_error[32];
    uint8_t event_sent_rc[32];
    size_t nevents;
    size_t received;
    uint8_t payload[600];
    size_t payload_len;
    const uint8_t *payload_ptr;
    size_t completions;
    int completion_error;
    bool take_acks;    /* on_publish takes the ack */
    int take_rc;       /* what the last take_ack returned */
    uint64_t held[16]; /* handles taken */
    size_t nheld;
    bool send_in_callback; /* on_publish calls mem_send_buf */
    int send_in_callback_rc;
} rig;

static void on_lifecycle(void *user, const mqtt5_lifecycle_event *ev)
{
    rig *r = user;
    if (r->nevents < COUNT_OF(r->events)) {
        r->events[r->nevents] = ev->type;
        r->event_error[r->nevents] = ev->error;
        r->event_sent_rc[r->nevents] = ev->sent_reason_code;
    }
    r->nevents++;
}

static void on_publish(void *user, const mqtt5_inbound_publish *msg)
{
    rig *r = user;
    r->received++;
    const mqtt5_bytes *p = &msg->publish->payload;
    r->payload_len = p->len < sizeof(r->payload) ? p->len : sizeof(r->payload);
    if (r->payload_len) memcpy(r->payload, p->ptr, r->payload_len);
    r->payload_ptr = p->ptr;
    if (r->take_acks && msg->ack_handle) {
        r->take_rc = mqtt5_client_core_take_ack(r->k.core, msg->ack_handle);
        if (r->take_rc == 0 && r->nheld < COUNT_OF(r->held)) r->held[r->nheld++] = msg->ack_handle;
    }
    if (r->send_in_callback) {
        uint8_t b[64];
        const uint8_t *d;
        size_t n;
        r->send_in_callback_rc =
            mqtt5_client_core_mem_send_buf(r->k.core, r->k.now, b, sizeof b, &d, &n);
    }
}

static void on_complete(void *user, const mqtt5_op_completion *done)
{
    rig *r = user;
    r->completions++;
    r->completion_error = done->error;
}

static void options(mqtt5_client_core_options *o)
{
    mqtt5_client_core_options_init(o);
    o->connect.client_id = S("idle-client");
    o->connect.keep_alive = 60;
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

static void connect(rig *r)
{
    core_rig_connect(&r->k, "20 03 00 00 00");
}

static const uint8_t *publish_bytes(uint8_t qos, uint16_t id, size_t payload_len, size_t *len)
{
    uint8_t *payload = test_alloc(payload_len);
    for (size_t i = 0; i < payload_len; i++)
        payload[i] = (uint8_t)(i * 7u + 1u);
    static const mqtt5_user_property up[] = {{SI("k"), SI("v")}};
    mqtt5_packet p = {.type = MQTT5_PUBLISH};
    p.u.publish.qos = qos;
    p.u.publish.packet_id = id;
    p.u.publish.topic = S("split/topic");
    p.u.publish.payload = (mqtt5_bytes){payload, payload_len};
    p.u.publish.properties.user_properties = up;
    p.u.publish.properties.user_property_count = 1;
    return encode_ok(&p, len);
}

/* A PUBLISH from the server (publish_bytes), fed whole. */
static void recv_publish(rig *r, uint8_t qos, uint16_t id, size_t payload_len)
{
    size_t len = 0;
    const uint8_t *p = publish_bytes(qos, id, payload_len, &len);
    core_rig_recv(&r->k, p, len);
}

static int publish(rig *r, const char *topic, uint8_t qos, size_t payload_len)
{
    static const uint8_t payload[400] = {1, 2, 3};
    assert_true(payload_len <= sizeof payload);
    mqtt5_publish p = {.qos = qos};
    p.topic = (mqtt5_str){topic, strlen(topic)};
    p.payload = (mqtt5_bytes){payload, payload_len};
    return mqtt5_client_core_publish(r->k.core, r->k.now, &p, NULL, NULL, NULL);
}

/* ---- idle ----------------------------------------------------------------------------------- */

/* What an idle connected core may hold, in one allocation: its state (584 bytes on a 64-bit
 * target; in its tail nothing for a client without AWS IoT Core pacing, enhanced authentication,
 * publish_encoded or an allocator of its own, here the rig's copy) and the CONNECT template encoded
 * (options(): fixed header 2, variable header 10, no properties 1, the client id and its length 2).
 * No ring, batch, gather or packet-id buffer. */
static size_t idle_bound(const mqtt5_client_core_options *o)
{
    return 584u + sizeof(mqtt5_allocator) /* the rig's allocator, copied into the tail */ + 2u +
           10u + 1u + 2u + o->connect.client_id.len;
}

static void idle_core_is_one_small_allocation(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig(&o, 65536);
    size_t created = core_rig_mem(&r->k);
    assert_int_equal(r->k.ta.live_blocks, 1);
    connect(r);
    print_message("idle connected core: %zu bytes in %zu allocations (bound %zu)\n",
                  core_rig_mem(&r->k), r->k.ta.live_blocks, idle_bound(&o));
    assert_int_equal(core_rig_mem(&r->k), created);
    assert_int_equal(r->k.ta.live_blocks, 1);
    assert_true(core_rig_mem(&r->k) <= idle_bound(&o));
    /* keep-alive traffic leaves nothing behind either */
    r->k.now += 60000;
    core_rig_drain(&r->k);
    assert_int_equal(core_rig_next_out(&r->k).type, MQTT5_PINGREQ);
    core_rig_recv_hex(&r->k, "d0 00");
    assert_int_equal(core_rig_mem(&r->k), created);
    core_rig_destroy(&r->k);

    /* nothing an idle core holds grows with receive_maximum */
    o.receive_maximum = 65535;
    r = new_rig(&o, 65536);
    connect(r);
    assert_int_equal(core_rig_mem(&r->k), created);
    core_rig_destroy(&r->k);
}

/* Acknowledgements owed from one mem_recv: up to four wait inside the core, a fifth spills them
 * into a ring that doubles as needed and is freed once the batch has them all. */
static void owed_acks_spill_and_go_back(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig(&o, 65536);
    connect(r);
    size_t idle = core_rig_mem(&r->k);
    size_t one = 0, all = 0; /* every one of these QoS 1 publishes is `one` bytes */
    uint8_t *in = NULL;
    for (uint16_t n = 0; n < 20; n++) {
        const uint8_t *pk = publish_bytes(1, (uint16_t)(n + 1), 10, &one);
        if (!in) in = test_alloc(20 * one);
        memcpy(in + all, pk, one);
        all += one;
    }
    assert_err(mqtt5_client_core_mem_recv(r->k.core, r->k.now, in, 4 * one), MQTT5_OK);
    assert_int_equal(core_rig_mem(&r->k), idle);
    assert_err(mqtt5_client_core_mem_recv(r->k.core, r->k.now, in + 4 * one, one), MQTT5_OK);
    assert_int_equal(core_rig_mem(&r->k), idle + 8 * 4); /* 8 entries of 4 bytes */
    assert_int_equal(r->k.ta.live_blocks, 2);
    assert_err(mqtt5_client_core_mem_recv(r->k.core, r->k.now, in + 5 * one, all - 5 * one),
               MQTT5_OK);
    assert_int_equal(core_rig_mem(&r->k), idle + 32 * 4);
    size_t batches = r->k.wire.batches;
    core_rig_drain(&r->k);
    assert_int_equal(core_rig_mem(&r->k), idle);
    for (uint16_t n = 1; n <= 20; n++) {
        mqtt5_packet p = core_rig_next_out(&r->k);
        assert_int_equal(p.type, MQTT5_PUBACK);
        assert_int_equal(p.u.ack.packet_id, n);
    }
    assert_int_equal(r->k.wire.batches, batches + 1); /* all in one */
    assert_int_equal(r->k.ta.live_blocks, 1);

    /* the ring cannot grow: DISCONNECT 0x83, the connection fails with NOMEM */
    core_rig_forget(&r->k);
    for (uint16_t n = 0; n < 4; n++)
        assert_err(mqtt5_client_core_mem_recv(r->k.core, r->k.now, in + n * one, one), MQTT5_OK);
    test_allocator_fail_at(&r->k.ta, 1, false);
    assert_err(mqtt5_client_core_mem_recv(r->k.core, r->k.now, in + 4 * one, one), MQTT5_OK);
    assert_int_equal(r->events[r->nevents - 1], MQTT5_LC_DISCONNECTION);
    assert_err(r->event_error[r->nevents - 1], MQTT5_ERR_NOMEM);
    assert_int_equal(r->event_sent_rc[r->nevents - 1], MQTT5_RC_IMPLEMENTATION_SPECIFIC_ERROR);
    test_allocator_fail_at(&r->k.ta, 0, false);
    core_rig_drain(&r->k);
    assert_int_equal(core_rig_next_out(&r->k).type, MQTT5_DISCONNECT);
    assert_int_equal(core_rig_mem(&r->k), idle);
    core_rig_destroy(&r->k);
}

/* ---- the CONNECT template ------------------------------------------------------------------ */

/* An allocator that counts the blocks given back with `needle` still in them. */
typedef struct scan_allocator {
    mqtt5_allocator al;
    test_allocator ta;
    const char *needle;
    size_t dirty;
} scan_allocator;

static void *scan_allocate(void *ctx, size_t size)
{
    scan_allocator *s = ctx;
    const mqtt5_allocator *t = test_allocator_get(&s->ta);
    return t->allocate(t->ctx, size);
}

static void scan_release(void *ctx, void *ptr, size_t size)
{
    scan_allocator *s = ctx;
    size_t n = strlen(s->needle);
    for (size_t i = 0; i + n <= size; i++) {
        if (memcmp((const uint8_t *)ptr + i, s->needle, n) == 0) {
            s->dirty++;
            break;
        }
    }
    const mqtt5_allocator *t = test_allocator_get(&s->ta);
    t->release(t->ctx, ptr, size);
}

static void connect_template_is_kept_encoded(void **state)
{
    (void)state;
    static const mqtt5_user_property props[] = {{SI("app"), SI("buffers")}};
    static const mqtt5_user_property will_props[] = {{SI("who"), SI("me")}};
    char *user = test_alloc(4), *pass = test_alloc(9), *topic = test_alloc(12);
    memcpy(user, "user", 4);
    memcpy(pass, "s3cr3t-pw", 9);
    memcpy(topic, "clients/will", 12);
    mqtt5_client_core_options o;
    options(&o);
    o.session_behavior = MQTT5_SESSION_REJOIN_ALWAYS;
    o.alias_in = MQTT5_ALIAS_IN_ENABLED;
    o.alias_in_max = 7;
    mqtt5_connect *t = &o.connect;
    t->has_username = true;
    t->username = (mqtt5_str){user, 4};
    t->has_password = true;
    t->password = (mqtt5_bytes){(const uint8_t *)pass, 9};
    t->has_will = true;
    t->will.topic = (mqtt5_str){topic, 12};
    t->will.payload = B("gone");
    t->will.qos = 1;
    t->will.properties.user_properties = will_props;
    t->will.properties.user_property_count = COUNT_OF(will_props);
    MQTT5_PROPS_SET(&t->properties, MQTT5_PROP_SESSION_EXPIRY_INTERVAL);
    t->properties.session_expiry_interval = 300;
    t->properties.user_properties = props;
    t->properties.user_property_count = COUNT_OF(props);

    /* what each CONNECT must be: the template, and what the core owns */
    mqtt5_packet want = {.type = MQTT5_CONNECT};
    want.u.connect = *t;
    mqtt5_properties *wp = &want.u.connect.properties;
    want.u.connect.clean_start = false;
    MQTT5_PROPS_SET(wp, MQTT5_PROP_RECEIVE_MAXIMUM);
    wp->receive_maximum = o.receive_maximum;
    MQTT5_PROPS_SET(wp, MQTT5_PROP_MAXIMUM_PACKET_SIZE);
    wp->maximum_packet_size = o.max_inbound_packet_size;
    MQTT5_PROPS_SET(wp, MQTT5_PROP_TOPIC_ALIAS_MAXIMUM);
    wp->topic_alias_maximum = 7;
    size_t want_len;
    const uint8_t *want_bytes = encode_ok(&want, &want_len);

    rig *r = test_alloc(sizeof(*r));
    memset(r, 0, sizeof(*r));
    scan_allocator s = {.al = {scan_allocate, scan_release, &s}, .needle = "s3cr3t-pw"};
    test_allocator_init(&s.ta);
    o.allocator = &s.al;
    o.callbacks = (mqtt5_client_core_callbacks){.user = r,
                                                .on_lifecycle = on_lifecycle,
                                                .on_publish = on_publish,
                                                .on_complete = on_complete};
    assert_err(mqtt5_client_core_new(&o, &r->k.core, NULL), MQTT5_OK);
    memset(user, '#', 4); /* the caller's strings go */
    memset(pass, '#', 9);
    memset(topic, '#', 12);
    for (int attempt = 0; attempt < 2; attempt++) {
        core_rig_forget(&r->k);
        connect(r);
        assert_int_equal(r->k.wire.batch_end[0], want_len);
        assert_memory_equal(r->k.wire.out, want_bytes, want_len);
        /* the template answers for what the CONNACK leaves out */
        mqtt5_negotiated_settings set;
        assert_true(mqtt5_client_core_settings(r->k.core, &set));
        assert_int_equal(set.keep_alive_s, 60);
        assert_int_equal(set.session_expiry_s, 300);
        assert_str_eq(set.client_id, "idle-client");
        /* the next connection sends the same CONNECT */
        core_rig_drop(&r->k);
        r->k.now += 200000;
    }
    assert_err(mqtt5_client_core_destroy(r->k.core), MQTT5_OK);
    assert_int_equal(s.dirty, 0); /* the password was wiped */
    assert_no_leaks(&s.ta);
}

/* mqtt5_client_core_new_in: the core in the caller's block, exactly mqtt5_client_core_size
 * bytes; its own allocations still come from the allocator and nothing of the block is freed;
 * the password in the template is wiped at destroy; bad blocks are refused by name. */
static void core_in_callers_memory(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    o.connect.has_password = true;
    o.connect.password = B("in-place-pw");
    rig *r = test_alloc(sizeof(*r));
    memset(r, 0, sizeof(*r));
    test_allocator *ta = &r->k.ta;
    test_allocator_init(ta);
    o.allocator = test_allocator_get(ta);
    o.callbacks = (mqtt5_client_core_callbacks){.user = r,
                                                .on_lifecycle = on_lifecycle,
                                                .on_publish = on_publish,
                                                .on_complete = on_complete};
    size_t size = mqtt5_client_core_size(&o, NULL);
    mqtt5_client_core *heap;
    assert_err(mqtt5_client_core_new(&o, &heap, NULL), MQTT5_OK);
    mqtt5_client_stats hs;
    mqtt5_client_core_stats(heap, &hs);
    assert_int_equal(hs.memory_in_use, size); /* the size is what new allocates */
    assert_err(mqtt5_client_core_destroy(heap), MQTT5_OK);
    assert_no_leaks(ta);

    _Alignas(8) uint8_t block[1024];
    assert_true(size <= sizeof block - 8);
    memset(block, 0xa5, sizeof block);
    mqtt5_codec_status st;
    mqtt5_client_core *c = (void *)1;
    assert_err(mqtt5_client_core_new_in(NULL, size, &o, &c, &st), MQTT5_ERR_INVALID_ARGUMENT);
    assert_null(c);
    assert_string_equal(st.field, "mem");
    assert_err(mqtt5_client_core_new_in(block + 4, size, &o, &c, &st), MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "mem");
    assert_err(mqtt5_client_core_new_in(block, size - 1, &o, &c, &st), MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "size");
    mqtt5_client_core_options bad = o;
    bad.receive_maximum = 0;
    assert_int_equal(mqtt5_client_core_size(&bad, &st), 0);
    assert_err(st.error, MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "receive_maximum");
    bad = o;
    bad.write_batch_size = 63;
    assert_int_equal(mqtt5_client_core_size(&bad, &st), 0);
    assert_string_equal(st.field, "write_batch_size");
    bad.write_batch_size = (size_t)UINT32_MAX + 1u; /* kept in 32 bits */
    assert_int_equal(mqtt5_client_core_size(&bad, &st), 0);
    assert_string_equal(st.field, "write_batch_size");
    bad.write_batch_size = UINT32_MAX;
    assert_int_equal(mqtt5_client_core_size(&bad, &st), size);
    assert_int_equal(mqtt5_client_core_size(NULL, &st), 0);
    assert_string_equal(st.field, "options");
    assert_err(mqtt5_client_core_new(NULL, &c, &st), MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "options");
    assert_err(mqtt5_client_core_new(&o, NULL, &st), MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "out");
    assert_err(mqtt5_client_core_new_in(block, size, NULL, &c, &st), MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "options");
    assert_int_equal(ta->live_blocks, 0);

    assert_err(mqtt5_client_core_new_in(block, size, &o, &c, &st), MQTT5_OK);
    assert_ptr_equal(c, block);
    assert_int_equal(block[size], 0xa5); /* not a byte past the size */
    assert_int_equal(ta->live_blocks, 0);
    r->k.core = c;
    connect(r);
    assert_int_equal(r->k.wire.out[0], 0x10); /* a CONNECT went out, from the template */
    /* a QoS 1 publish in flight: its copy comes from the allocator */
    assert_err(publish(r, "t/in-place", 1, 10), MQTT5_OK);
    core_rig_drain(&r->k);
    assert_true(ta->live_blocks > 0);
    assert_err(mqtt5_client_core_destroy(c), MQTT5_OK);
    assert_int_equal(r->completions, 1); /* completed with STOPPED */
    assert_err(r->completion_error, MQTT5_ERR_STOPPED);
    for (size_t i = 0; i + 11 <= sizeof block; i++) /* wiped */
        assert_memory_not_equal(block + i, "in-place-pw", 11);
    assert_int_equal(block[size], 0xa5);
    assert_no_leaks(ta);
}

/* mem_send's batch buffer lives from the first batch of a connection to the transport's close. */
static void mem_send_buffer_lives_with_the_connection(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig(&o, 0);
    size_t created = core_rig_mem(&r->k);
    assert_err(mqtt5_client_core_start(r->k.core, r->k.now), MQTT5_OK);
    assert_int_equal(core_rig_mem(&r->k),
                     created); /* nothing before there is something to hand out */
    connect(r);
    assert_int_equal(core_rig_mem(&r->k), created + o.write_batch_size);
    assert_int_equal(r->k.ta.live_blocks, 2);
    core_rig_drop(&r->k);
    assert_int_equal(core_rig_mem(&r->k), created);
    /* the next connection gets a new one */
    r->k.now += 200000;
    core_rig_drain(&r->k);
    assert_true(r->k.open);
    assert_int_equal(core_rig_mem(&r->k), created + o.write_batch_size);
    core_rig_destroy(&r->k);
}

/* The batch buffer cannot be allocated: the attempt fails with NOMEM, nothing is handed out, the
 * transport is let go, and the next attempt works. */
static void mem_send_buffer_failure_fails_the_connection(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig(&o, 0);
    assert_err(mqtt5_client_core_start(r->k.core, r->k.now), MQTT5_OK);
    assert_err(mqtt5_client_core_on_transport_open(r->k.core, r->k.now), MQTT5_OK);
    r->k.open = true;
    test_allocator_fail_at(&r->k.ta, 1, false);
    const uint8_t *d = NULL;
    size_t n = 99;
    assert_err(mqtt5_client_core_mem_send(r->k.core, r->k.now, &d, &n), MQTT5_OK);
    assert_int_equal(n, 0);
    assert_null(d);
    assert_int_equal(r->k.ta.failures, 1);
    assert_int_equal(r->nevents, 2);
    assert_int_equal(r->events[1], MQTT5_LC_CONNECTION_FAILURE);
    assert_int_equal(r->event_error[1], MQTT5_ERR_NOMEM);
    mqtt5_client_want w;
    mqtt5_client_core_want(r->k.core, &w);
    assert_false(w.write);
    assert_false(w.transport_open);
    core_rig_drain(&r->k); /* closes */
    assert_false(r->k.open);
    r->k.now += 200000;
    core_rig_drain(&r->k);
    assert_int_equal(core_rig_next_out(&r->k).type, MQTT5_CONNECT);
    core_rig_destroy(&r->k);
}

/* ---- mem_send_buf --------------------------------------------------------------------------- */

/* The same session through mem_send and through mem_send_buf with cap = write_batch_size. */
static void run_session(rig *r)
{
    /* topic alias maximum 4: the LRU aliases depend on how packets are batched */
    core_rig_connect(&r->k, "20 06 00 00 03 22 00 04");
    for (int i = 0; i < 5; i++)
        assert_err(publish(r, i % 2 ? "a/topic" : "another/topic", 0, 10), MQTT5_OK);
    assert_err(publish(r, "big/topic", 1, 300), MQTT5_OK); /* bigger than the batch */
    for (int i = 0; i < 3; i++)
        assert_err(publish(r, "a/topic", 1, 40), MQTT5_OK);
    mqtt5_subscription subs[] = {{.topic_filter = S("in/#"), .qos = 1}};
    mqtt5_subscribe sub = {.subscriptions = subs, .subscription_count = 1};
    assert_err(mqtt5_client_core_subscribe(r->k.core, r->k.now, &sub, NULL, NULL, NULL), MQTT5_OK);
    core_rig_drain(&r->k);
    recv_publish(r, 1, 7, 20);
    core_rig_recv_hex(&r->k,
                      "40 02 00 01  40 02 00 02  40 02 00 03  40 02 00 04  90 04 00 05 00 01");
    assert_int_equal(r->completions, 10);
    r->k.now += 60000;
    core_rig_drain(&r->k); /* PINGREQ */
    mqtt5_disconnect d = {.reason_code = 0x04};
    MQTT5_PROPS_SET(&d.properties, MQTT5_PROP_REASON_STRING);
    d.properties.reason_string = S("a reason string long enough for the DISCONNECT to be bigger "
                                   "than one batch of 128 bytes, so it goes out alone from the "
                                   "core's own buffer");
    assert_err(mqtt5_client_core_stop(r->k.core, r->k.now, &d, NULL), MQTT5_OK);
    core_rig_drain(&r->k);
    assert_int_equal(mqtt5_client_core_state(r->k.core), MQTT5_CS_STOPPED);
}

static void mem_send_buf_hands_out_what_mem_send_does(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    o.write_batch_size = 128;
    o.alias_out = MQTT5_ALIAS_OUT_LRU;
    o.alias_out_cache = 4;
    o.connect.has_username = true;
    o.connect.username = S("user");
    o.connect.has_password = true;
    o.connect.password = B("secret");
    o.connect.has_will = true;
    o.connect.will.topic = S("clients/will");
    o.connect.will.payload =
        B("a will payload that makes the CONNECT bigger than one batch of 128");
    rig *a = new_rig(&o, 0);
    rig *b = new_rig(&o, o.write_batch_size);
    run_session(a);
    run_session(b);
    assert_int_equal(a->k.wire.out_len, b->k.wire.out_len);
    assert_memory_equal(a->k.wire.out, b->k.wire.out, a->k.wire.out_len);
    assert_int_equal(a->k.wire.batches, b->k.wire.batches);
    assert_memory_equal(a->k.wire.batch_end, b->k.wire.batch_end,
                        a->k.wire.batches * sizeof(size_t));
    /* the CONNECT, the big PUBLISH and the DISCONNECT came from the core's own buffer */
    assert_int_equal(b->k.wire.big_batches, 3);
    assert_true(a->k.wire.batches >= 8);
    core_rig_destroy(&a->k);
    core_rig_destroy(&b->k);
}

static void mem_send_buf_arguments(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig(&o, 64);
    connect(r);
    size_t idle = core_rig_mem(&r->k);
    assert_err(publish(r, "t", 0, 5), MQTT5_OK);
    uint8_t small[63];
    const uint8_t *d = small;
    size_t n = 7;
    assert_err(mqtt5_client_core_mem_send_buf(r->k.core, r->k.now, small, sizeof small, &d, &n),
               MQTT5_ERR_INVALID_ARGUMENT);
    assert_null(d);
    assert_int_equal(n, 0);
    assert_err(mqtt5_client_core_mem_send_buf(r->k.core, r->k.now, NULL, 4096, &d, &n),
               MQTT5_ERR_INVALID_ARGUMENT);
    /* 64 is enough, and nothing was lost to the refusals */
    core_rig_drain(&r->k);
    mqtt5_packet p = core_rig_next_out(&r->k);
    assert_int_equal(p.type, MQTT5_PUBLISH);
    assert_int_equal(r->k.wire.big_batches, 0);
    /* a packet bigger than the buffer goes alone, from a buffer freed by the next call */
    assert_err(publish(r, "t", 0, 100), MQTT5_OK);
    assert_err(publish(r, "t", 0, 1), MQTT5_OK);
    assert_err(mqtt5_client_core_mem_send_buf(r->k.core, r->k.now, r->k.buf, r->k.cap, &d, &n),
               MQTT5_OK);
    assert_true(d != r->k.buf);
    assert_int_equal(core_wire_decoded_size(d, n), n);
    assert_true(core_rig_mem(&r->k) > idle);
    assert_err(mqtt5_client_core_mem_send_buf(r->k.core, r->k.now, r->k.buf, r->k.cap, &d, &n),
               MQTT5_OK);
    assert_ptr_equal(d, r->k.buf);
    assert_int_equal(core_rig_mem(&r->k), idle);
    /* a driving call: refused inside a callback */
    r->send_in_callback = true;
    recv_publish(r, 0, 0, 5);
    assert_err(r->send_in_callback_rc, MQTT5_ERR_BUSY);
    core_rig_destroy(&r->k);
}

/* ---- split packets -------------------------------------------------------------------------- */

static void split_at_every_byte(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig(&o, 4096);
    connect(r);
    size_t idle = core_rig_mem(&r->k);
    size_t len;
    const uint8_t *pk = publish_bytes(1, 9, 300, &len);
    size_t header = 3; /* type and a 2-byte remaining length */
    assert_true((pk[1] & 0x80) && !(pk[2] & 0x80));
    /* whole: decoded in place, nothing allocated */
    core_rig_recv(&r->k, pk, len);
    assert_int_equal(r->received, 1);
    assert_view_inside(r->payload_ptr, 300, pk, len);
    assert_int_equal(core_rig_mem(&r->k), idle);
    for (size_t at = 1; at < len; at++) {
        uint8_t *first = test_alloc(at), *second = test_alloc(len - at);
        memcpy(first, pk, at);
        memcpy(second, pk + at, len - at);
        core_rig_recv(&r->k, first, at);
        /* storage of exactly the packet's size once its size is known */
        assert_int_equal(core_rig_mem(&r->k), at >= header ? idle + len : idle);
        assert_int_equal(r->received, at);
        core_rig_recv(&r->k, second, len - at);
        assert_int_equal(r->received, at + 1);
        assert_int_equal(r->payload_len, 300);
        assert_memory_equal(r->payload, pk + len - 300, 300);
        assert_int_equal(core_rig_mem(&r->k), idle);
        core_rig_forget(&r->k); /* the PUBACKs */
    }
    core_rig_forget(&r->k);
    core_rig_destroy(&r->k);
}

/* One call ends a split packet, holds a whole one, and starts a bigger one: storage follows. */
static void split_packets_back_to_back(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig(&o, 4096);
    connect(r);
    size_t idle = core_rig_mem(&r->k);
    size_t l1, l2, l3;
    const uint8_t *p1 = publish_bytes(1, 1, 50, &l1);
    const uint8_t *p2 = publish_bytes(0, 0, 10, &l2);
    const uint8_t *p3 = publish_bytes(2, 3, 400, &l3);
    uint8_t *all = test_alloc(l1 + l2 + l3);
    memcpy(all, p1, l1);
    memcpy(all + l1, p2, l2);
    memcpy(all + l1 + l2, p3, l3);
    core_rig_recv(&r->k, all, 20);
    assert_int_equal(core_rig_mem(&r->k), idle + l1);
    core_rig_recv(&r->k, all + 20, l1 + l2 + 30 - 20);
    assert_int_equal(r->received, 2);
    assert_int_equal(core_rig_mem(&r->k), idle + l3);
    core_rig_recv(&r->k, all + l1 + l2 + 30, 100);
    assert_int_equal(core_rig_mem(&r->k), idle + l3);
    core_rig_recv(&r->k, all + l1 + l2 + 130, l3 - 130);
    assert_int_equal(r->received, 3);
    assert_int_equal(r->payload_len, 400);
    core_rig_recv_hex(&r->k, "62 02 00 03"); /* PUBREL: the QoS 2 exchange ends */
    assert_int_equal(core_rig_mem(&r->k), idle);
    /* packets of up to 8 bytes never need storage, split anywhere */
    for (size_t at = 1; at < 5; at++) {
        size_t n;
        const uint8_t *ack = hex_bytes("40 03 00 05 10", &n); /* PUBACK 0x10, unknown id */
        core_rig_recv(&r->k, ack, at);
        assert_int_equal(core_rig_mem(&r->k), idle);
        core_rig_recv(&r->k, ack + at, n - at);
        assert_int_equal(core_rig_mem(&r->k), idle);
    }
    assert_int_equal(mqtt5_client_core_state(r->k.core), MQTT5_CS_CONNECTED);
    core_rig_forget(&r->k);
    core_rig_destroy(&r->k);
}

/* The connection ends while a split packet waits: its storage goes with it. */
static void split_packet_dropped_at_reset(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig(&o, 4096);
    size_t created = core_rig_mem(&r->k);
    connect(r);
    size_t len;
    const uint8_t *pk = publish_bytes(1, 9, 300, &len);
    core_rig_recv(&r->k, pk, 100);
    assert_int_equal(core_rig_mem(&r->k), created + len);
    core_rig_drop(&r->k);
    assert_int_equal(core_rig_mem(&r->k), created);
    /* the next connection starts with a clean stream */
    r->k.now += 200000;
    core_rig_drain(&r->k);
    core_rig_forget(&r->k);
    core_rig_recv_hex(&r->k, "20 03 00 00 00");
    assert_int_equal(mqtt5_client_core_state(r->k.core), MQTT5_CS_CONNECTED);
    core_rig_recv(&r->k, pk, len);
    assert_int_equal(r->received, 1);
    core_rig_destroy(&r->k);
}

/* No memory for the gather buffer: DISCONNECT 0x83 and a DISCONNECTION with NOMEM. */
static void split_packet_without_memory(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig(&o, 4096);
    connect(r);
    size_t len;
    const uint8_t *pk = publish_bytes(1, 9, 300, &len);
    test_allocator_fail_at(&r->k.ta, 1, false);
    assert_err(mqtt5_client_core_mem_recv(r->k.core, r->k.now, pk, 100), MQTT5_OK);
    assert_int_equal(r->k.ta.failures, 1);
    assert_int_equal(r->events[r->nevents - 1], MQTT5_LC_DISCONNECTION);
    assert_int_equal(r->event_error[r->nevents - 1], MQTT5_ERR_NOMEM);
    assert_int_equal(r->event_sent_rc[r->nevents - 1], 0x83);
    assert_int_equal(r->received, 0);
    core_rig_drain(&r->k);
    mqtt5_packet d = core_rig_next_out(&r->k);
    assert_int_equal(d.type, MQTT5_DISCONNECT);
    assert_int_equal(d.u.disconnect.reason_code, 0x83);
    core_rig_destroy(&r->k);
}

/* ---- packet identifiers --------------------------------------------------------------------- */

static void packet_ids_cost_nothing_when_few(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig(&o, 4096);
    connect(r);
    size_t idle = core_rig_mem(&r->k);
    /* a subscribed client is back to idle once the SUBACK came */
    mqtt5_subscription subs[] = {{.topic_filter = S("in/#"), .qos = 2}};
    mqtt5_subscribe sub = {.subscriptions = subs, .subscription_count = 1};
    assert_err(mqtt5_client_core_subscribe(r->k.core, r->k.now, &sub, NULL, NULL, NULL), MQTT5_OK);
    core_rig_drain(&r->k);
    core_rig_recv_hex(&r->k, "90 04 00 01 00 02");
    assert_int_equal(r->completions, 1);
    assert_int_equal(core_rig_mem(&r->k), idle);

    /* four QoS 1 in flight: only the operations' own memory */
    size_t before = r->k.ta.allocations;
    for (int i = 0; i < 4; i++)
        assert_err(publish(r, "t", 1, 5), MQTT5_OK);
    assert_int_equal(r->k.ta.allocations, before + 4);
    core_rig_drain(&r->k);
    /* a fifth needs room for its id: without it, publish says NOMEM and nothing was accepted */
    size_t with_four = core_rig_mem(&r->k);
    test_allocator_fail_at(&r->k.ta, 2, false); /* the operation copy, then the ids */
    assert_err(publish(r, "t", 1, 5), MQTT5_ERR_NOMEM);
    assert_int_equal(r->k.ta.failures, 1);
    assert_int_equal(core_rig_mem(&r->k), with_four);
    for (int i = 0; i < 6; i++)
        assert_err(publish(r, "t", 1, 5), MQTT5_OK);
    core_rig_drain(&r->k);
    core_rig_recv_hex(&r->k, "40 02 00 02  40 02 00 03  40 02 00 04  40 02 00 05  40 02 00 06");
    core_rig_recv_hex(&r->k, "40 02 00 07  40 02 00 08  40 02 00 09  40 02 00 0a  40 02 00 0b");
    assert_int_equal(r->completions, 11);
    assert_int_equal(r->completion_error, 0);
    assert_int_equal(core_rig_mem(&r->k), idle); /* the ids went back into the struct */

    /* inbound QoS 2: four waiting for PUBREL live in the struct, more on the heap until done */
    for (uint16_t id = 1; id <= 6; id++) {
        recv_publish(r, 2, id, 5);
        if (id == 4) assert_int_equal(core_rig_mem(&r->k), idle);
    }
    assert_true(core_rig_mem(&r->k) > idle);
    core_rig_recv_hex(
        &r->k, "62 02 00 01  62 02 00 02  62 02 00 03  62 02 00 04  62 02 00 05  62 02 00 06");
    assert_int_equal(core_rig_mem(&r->k), idle);
    assert_int_equal(mqtt5_client_core_state(r->k.core), MQTT5_CS_CONNECTED);
    core_rig_forget(&r->k);
    core_rig_destroy(&r->k);
}

static void inbound_qos2_without_memory(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig(&o, 4096);
    connect(r);
    for (uint16_t id = 1; id <= 4; id++)
        recv_publish(r, 2, id, 5);
    test_allocator_fail_at(&r->k.ta, 1, false);
    recv_publish(r, 2, 5, 5);
    assert_int_equal(r->k.ta.failures, 1);
    assert_int_equal(r->received, 4); /* not delivered */
    assert_int_equal(r->events[r->nevents - 1], MQTT5_LC_DISCONNECTION);
    assert_int_equal(r->event_error[r->nevents - 1], MQTT5_ERR_NOMEM);
    assert_int_equal(r->event_sent_rc[r->nevents - 1], 0x83);
    core_rig_destroy(&r->k);
}

/* take_ack needs room for the held id: without it, take_ack says NOMEM and the core acks. */
static void take_ack_without_memory(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    options(&o);
    rig *r = new_rig(&o, 4096);
    connect(r);
    size_t idle = core_rig_mem(&r->k);
    r->take_acks = true;
    for (uint16_t id = 1; id <= 4; id++)
        recv_publish(r, 1, id, 5);
    assert_int_equal(r->nheld, 4);
    assert_int_equal(core_rig_mem(&r->k), idle);
    core_rig_forget(&r->k);
    test_allocator_fail_at(&r->k.ta, 1, false);
    recv_publish(r, 1, 5, 5);
    assert_err(r->take_rc, MQTT5_ERR_NOMEM);
    mqtt5_packet p = core_rig_next_out(&r->k);
    assert_int_equal(p.type, MQTT5_PUBACK);
    assert_int_equal(p.u.ack.packet_id, 5);
    for (size_t i = 0; i < r->nheld; i++)
        assert_err(mqtt5_client_core_send_ack(r->k.core, r->k.now, r->held[i], 0), MQTT5_OK);
    core_rig_drain(&r->k);
    for (uint16_t id = 1; id <= 4; id++) {
        p = core_rig_next_out(&r->k);
        assert_int_equal(p.type, MQTT5_PUBACK);
        assert_int_equal(p.u.ack.packet_id, id);
    }
    assert_int_equal(core_rig_mem(&r->k), idle);
    core_rig_destroy(&r->k);
}

/* ---- the decoder's storage on demand (codec.h) ---------------------------------------------- */

static void decoder_storage_on_demand(void **state)
{
    (void)state;
    size_t len;
    const uint8_t *pk = publish_bytes(1, 9, 300, &len);
    mqtt5_decoder dec;
    mqtt5_decoder_init(&dec, NULL, 0, 0);
    mqtt5_packet out;
    mqtt5_codec_status st;
    size_t used;
    /* whole in the input: in place, no storage asked */
    assert_err(mqtt5_decoder_mem_recv(&dec, pk, len, &used, &out, &st), MQTT5_OK);
    assert_int_equal(used, len);
    assert_view_inside(out.u.publish.payload.ptr, 300, pk, len);
    /* split: asked for once the size is known, not before */
    assert_err(mqtt5_decoder_mem_recv(&dec, pk, 1, &used, &out, &st), MQTT5_ERR_NEED_MORE);
    assert_int_equal(used, 1);
    assert_err(mqtt5_decoder_mem_recv(&dec, pk + 1, len - 1, &used, &out, &st),
               MQTT5_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(st.error, MQTT5_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(used, 2); /* the rest of the fixed header */
    assert_int_equal(dec.need, len);
    /* not sticky: asked again while there is none */
    assert_err(mqtt5_decoder_mem_recv(&dec, pk + 3, len - 3, &used, &out, &st),
               MQTT5_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(used, 0);
    uint8_t *storage = test_alloc(len);
    assert_err(mqtt5_decoder_set_buffer(&dec, storage, len - 1), MQTT5_ERR_INVALID_ARGUMENT);
    assert_err(mqtt5_decoder_set_buffer(&dec, storage, len), MQTT5_OK);
    assert_err(mqtt5_decoder_mem_recv(&dec, pk + 3, 10, &used, &out, &st), MQTT5_ERR_NEED_MORE);
    /* storage holding part of a packet cannot be taken back */
    assert_err(mqtt5_decoder_set_buffer(&dec, NULL, 0), MQTT5_ERR_INVALID_STATE);
    assert_err(mqtt5_decoder_mem_recv(&dec, pk + 13, len - 13, &used, &out, &st), MQTT5_OK);
    assert_view_inside(out.u.publish.payload.ptr, 300, storage, len);
    assert_memory_equal(out.u.publish.payload.ptr, pk + len - 300, 300);
    assert_err(mqtt5_decoder_set_buffer(&dec, NULL, 0), MQTT5_OK);
    /* up to 8 bytes stay in head, split anywhere */
    size_t n;
    const uint8_t *ack = hex_bytes("40 03 00 05 10", &n);
    for (size_t i = 0; i + 1 < n; i++)
        assert_err(mqtt5_decoder_mem_recv(&dec, ack + i, 1, &used, &out, &st), MQTT5_ERR_NEED_MORE);
    assert_err(mqtt5_decoder_mem_recv(&dec, ack + n - 1, 1, &used, &out, &st), MQTT5_OK);
    assert_int_equal(out.type, MQTT5_PUBACK);
    assert_int_equal(out.u.ack.packet_id, 5);
    assert_int_equal(out.u.ack.reason_code, 0x10);
    /* without storage the limit is max_packet_size, from the fixed header, sticky */
    mqtt5_decoder_init(&dec, NULL, 0, 100);
    assert_err(mqtt5_decoder_mem_recv(&dec, pk, 3, &used, &out, &st), MQTT5_ERR_PACKET_TOO_LARGE);
    assert_status(&st, MQTT5_ERR_PACKET_TOO_LARGE, 0x95, 0);
    assert_err(mqtt5_decoder_mem_recv(&dec, ack, n, &used, &out, &st), MQTT5_ERR_PACKET_TOO_LARGE);
    /* storage given up front with cap 0 holds nothing: a split packet is too large */
    mqtt5_decoder_init(&dec, storage, 0, 0);
    assert_err(mqtt5_decoder_mem_recv(&dec, ack, 1, &used, &out, &st), MQTT5_ERR_NEED_MORE);
    assert_err(mqtt5_decoder_mem_recv(&dec, ack + 1, 1, &used, &out, &st),
               MQTT5_ERR_PACKET_TOO_LARGE);
    assert_status(&st, MQTT5_ERR_PACKET_TOO_LARGE, 0x95, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(idle_core_is_one_small_allocation),
        cmocka_unit_test(owed_acks_spill_and_go_back),
        cmocka_unit_test(connect_template_is_kept_encoded),
        cmocka_unit_test(core_in_callers_memory),
        cmocka_unit_test(mem_send_buffer_lives_with_the_connection),
        cmocka_unit_test(mem_send_buffer_failure_fails_the_connection),
        cmocka_unit_test(mem_send_buf_hands_out_what_mem_send_does),
        cmocka_unit_test(mem_send_buf_arguments),
        cmocka_unit_test(split_at_every_byte),
        cmocka_unit_test(split_packets_back_to_back),
        cmocka_unit_test(split_packet_dropped_at_reset),
        cmocka_unit_test(split_packet_without_memory),
        cmocka_unit_test(packet_ids_cost_nothing_when_few),
        cmocka_unit_test(inbound_qos2_without_memory),
        cmocka_unit_test(take_ack_without_memory),
        cmocka_unit_test(decoder_storage_on_demand),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
