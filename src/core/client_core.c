/*
 * client_core.c - the client core's lifecycle: options and construction (one allocation: the
 * state, then a tail with what only some options need and the CONNECT template, kept encoded and
 * decoded when read), start/stop, transport events, CONNACK handling and the negotiated settings,
 * timers (CONNACK timeout, keep-alive, reconnect backoff and its reset), the lifecycle-event
 * guarantees, statistics and mem_recv, whose decoder is kept between calls in a compact form and
 * whose gather buffer for a packet split across calls is allocated to that packet's size and given
 * back once the packet is out. Operations live in client_ops.c, output in client_send.c, inbound
 * packets in client_recv.c. Sans-I/O: time is passed in, memory comes from the allocator.
 */
#include <stddef.h>
#include <string.h>

#include "common/wipe.h"
#include "core/client_copy.h"
#include "core/client_internal.h"
#include "core/encode.h"
#include "core/wire.h"

#define DISCONNECT_TIMEOUT_MS 10000u

/* ---- names ---------------------------------------------------------------------------------- */

const char *mqtt5_lifecycle_type_name(int type)
{
    static const char *const names[] = {"attempting_connect", "connection_success",
                                        "connection_failure", "disconnection", "stopped"};
    return type >= 0 && type < 5 ? names[type] : "unknown";
}

const char *mqtt5_client_state_name(int state)
{
    static const char *const names[] = {"stopped",          "connecting",       "mqtt_connect",
                                        "connected",        "clean_disconnect", "closing",
                                        "pending_reconnect"};
    return state >= 0 && state < 7 ? names[state] : "unknown";
}

/* ---- memory --------------------------------------------------------------------------------- */

static size_t alloc_at(const client_options *o);

/* The options' allocator (copied into the tail), or libc's. */
static const mqtt5_allocator *client_allocator(const mqtt5_client_core *c)
{
    if (!c->opt.own_alloc) return mqtt5_allocator_libc();
    return (const mqtt5_allocator *)(const void *)(c->tail + alloc_at(&c->opt));
}

void *client_alloc(mqtt5_client_core *c, size_t size)
{
    const mqtt5_allocator *al = client_allocator(c);
    void *p = al->allocate(al->ctx, size);
    if (p) {
        c->stats.memory_in_use += size;
        if (c->stats.memory_in_use > c->stats.memory_peak)
            c->stats.memory_peak = c->stats.memory_in_use;
    }
    return p;
}

void client_free(mqtt5_client_core *c, void *ptr, size_t size)
{
    if (!ptr) return;
    c->stats.memory_in_use -= size;
    const mqtt5_allocator *al = client_allocator(c);
    al->release(al->ctx, ptr, size);
}

#define STATS_HIGH_SIZE (CLIENT_STAT_COUNTERS * sizeof(uint32_t))

void client_count_carry(mqtt5_client_core *c, unsigned i, uint32_t carry)
{
    if (!c->stats.high) {
        uint32_t *high = client_alloc(c, STATS_HIGH_SIZE);
        if (!high) return; /* asked again next time; a carry now is lost (client_stats) */
        memset(high, 0, STATS_HIGH_SIZE);
        c->stats.high = high;
    }
    c->stats.high[i] += carry;
}

/* Counter i, 64 bits wide. */
static uint64_t stat_value(const mqtt5_client_core *c, unsigned i)
{
    uint64_t high = c->stats.high ? c->stats.high[i] : 0;
    return high << 32 | c->stats.low[i];
}

client_packet_copy *client_packet_copy_new(mqtt5_client_core *c, const mqtt5_disconnect *src)
{
    copier cp = {NULL, sizeof(client_packet_copy)};
    copy_disconnect(&cp, NULL, src);
    client_packet_copy *copy = client_alloc(c, cp.used);
    if (!copy) return NULL;
    copy->size = cp.used;
    cp = (copier){(uint8_t *)copy, sizeof(client_packet_copy)};
    copy_disconnect(&cp, &copy->packet, src);
    return copy;
}

void client_packet_copy_free(mqtt5_client_core *c, client_packet_copy *copy)
{
    if (!copy) return;
    size_t size = copy->size;
    mqtt5_wipe(copy, size); /* AUTH data is a secret */
    client_free(c, copy, size);
}

static void *counted_allocate(void *ctx, size_t size)
{
    return client_alloc(ctx, size);
}

static void counted_release(void *ctx, void *ptr, size_t size)
{
    client_free(ctx, ptr, size);
}

mqtt5_allocator client_counted(mqtt5_client_core *c)
{
    return (mqtt5_allocator){counted_allocate, counted_release, c};
}

/* ---- the tail ------------------------------------------------------------------------------- */

/* Bytes of the tail before the CONNECT template: what the options `o` need kept there. */
static size_t extras_size(const client_options *o)
{
    return (o->iot_core ? 2u * sizeof(client_token_bucket) : 0u) +
           (o->auth ? sizeof(client_auth_fn) : 0u) +
           (o->wire_released ? sizeof(client_wire_released_fn) : 0u) +
           (o->own_alloc ? sizeof(mqtt5_allocator) : 0u);
}

static size_t auth_at(const client_options *o)
{
    return o->iot_core ? 2u * sizeof(client_token_bucket) : 0u;
}

static size_t wire_released_at(const client_options *o)
{
    return auth_at(o) + (o->auth ? sizeof(client_auth_fn) : 0u);
}

static size_t alloc_at(const client_options *o)
{
    return wire_released_at(o) + (o->wire_released ? sizeof(client_wire_released_fn) : 0u);
}

client_auth_fn client_cb_auth(const mqtt5_client_core *c)
{
    client_auth_fn fn = NULL;
    if (c->opt.auth) memcpy(&fn, c->tail + auth_at(&c->opt), sizeof fn);
    return fn;
}

client_wire_released_fn client_cb_wire_released(const mqtt5_client_core *c)
{
    client_wire_released_fn fn = NULL;
    if (c->opt.wire_released) memcpy(&fn, c->tail + wire_released_at(&c->opt), sizeof fn);
    return fn;
}

static const uint8_t *connect_wire(const mqtt5_client_core *c)
{
    return c->tail + extras_size(&c->opt);
}

/* Bytes of the encoded CONNECT template, from its fixed header (at least 15: no bounds to mind). */
static size_t template_size(const mqtt5_client_core *c)
{
    const uint8_t *w = connect_wire(c);
    uint32_t body = 0;
    int n = wire_vbi_parse(w + 1, w + 5, &body);
    return 1u + (size_t)n + body;
}

void client_connect_template(const mqtt5_client_core *c, mqtt5_packet *out)
{
    size_t used;
    /* cannot fail: construction decoded these bytes once */
    mqtt5_packet_decode(connect_wire(c), template_size(c), 0, out, &used, NULL);
}

/* ---- options -------------------------------------------------------------------------------- */

void mqtt5_client_core_options_init(mqtt5_client_core_options *o)
{
    memset(o, 0, sizeof *o);
    o->connect.keep_alive = 1200;
    o->connect.clean_start = true;
    o->connack_timeout_ms = 20000;
    o->ping_timeout_ms = 30000;
    o->ack_timeout_ms = 60000;
    o->reconnect_min_ms = 1000;
    o->reconnect_max_ms = 120000;
    o->reconnect_reset_after_ms = 30000;
    o->jitter = MQTT5_JITTER_FULL;
    o->max_queued_ops = 1024;
    o->max_queued_bytes = 4u << 20;
    o->receive_maximum = 100;
    o->max_inbound_packet_size = 131072;
    o->write_batch_size = 16384;
    o->alias_out_cache = 25;
    o->alias_in_max = 25;
    o->ack_coalescing = true;
}

static int opt_fail(mqtt5_codec_status *st, int err, const char *field, const char *detail)
{
    if (st) *st = (mqtt5_codec_status){.error = err, .field = field, .detail = detail};
    return err;
}

/* Checks `o`; *connect_size gets the size of the CONNECT template encoded. */
static int validate_options(const mqtt5_client_core_options *o, size_t *connect_size,
                            mqtt5_codec_status *st)
{
    if (!o->callbacks.on_lifecycle || !o->callbacks.on_publish || !o->callbacks.on_complete)
        return opt_fail(st, MQTT5_ERR_INVALID_ARGUMENT, "callbacks",
                        "on_lifecycle, on_publish and on_complete are required");
    if (o->receive_maximum == 0)
        return opt_fail(st, MQTT5_ERR_INVALID_ARGUMENT, "receive_maximum", "must be at least 1");
    if (o->max_inbound_packet_size < 64)
        return opt_fail(st, MQTT5_ERR_INVALID_ARGUMENT, "max_inbound_packet_size",
                        "must be at least 64 bytes");
    if (o->write_batch_size < 64 || o->write_batch_size > UINT32_MAX)
        return opt_fail(st, MQTT5_ERR_INVALID_ARGUMENT, "write_batch_size",
                        "must be at least 64 bytes and below 4 GiB");
    if (o->reconnect_min_ms == 0 || o->reconnect_max_ms < o->reconnect_min_ms)
        return opt_fail(st, MQTT5_ERR_INVALID_ARGUMENT, "reconnect_min_ms",
                        "must be at least 1 and not above reconnect_max_ms");
    if (o->connack_timeout_ms == 0)
        return opt_fail(st, MQTT5_ERR_INVALID_ARGUMENT, "connack_timeout_ms", "must not be 0");
    if (o->max_queued_ops == 0)
        return opt_fail(st, MQTT5_ERR_INVALID_ARGUMENT, "max_queued_ops", "must not be 0");
    if ((unsigned)o->session_behavior > MQTT5_SESSION_REJOIN_ALWAYS)
        return opt_fail(st, MQTT5_ERR_INVALID_ARGUMENT, "session_behavior", "unknown value");
    if ((unsigned)o->offline_policy > MQTT5_OFFLINE_FAIL_ALL_ON_DISCONNECT)
        return opt_fail(st, MQTT5_ERR_INVALID_ARGUMENT, "offline_policy", "unknown value");
    if ((unsigned)o->jitter > MQTT5_JITTER_DECORRELATED)
        return opt_fail(st, MQTT5_ERR_INVALID_ARGUMENT, "jitter", "unknown value");
    if ((unsigned)o->alias_out > MQTT5_ALIAS_OUT_LRU)
        return opt_fail(st, MQTT5_ERR_INVALID_ARGUMENT, "alias_out", "unknown value");
    if ((unsigned)o->alias_in > MQTT5_ALIAS_IN_ENABLED)
        return opt_fail(st, MQTT5_ERR_INVALID_ARGUMENT, "alias_in", "unknown value");

    /* The CONNECT template must encode: check it with the properties the core adds. */
    mqtt5_packet p = {.type = MQTT5_CONNECT};
    p.u.connect = o->connect;
    if (p.u.connect.properties.present & (MQTT5_PROP_BIT(MQTT5_PROP_RECEIVE_MAXIMUM) |
                                          MQTT5_PROP_BIT(MQTT5_PROP_MAXIMUM_PACKET_SIZE) |
                                          MQTT5_PROP_BIT(MQTT5_PROP_TOPIC_ALIAS_MAXIMUM)))
        return opt_fail(st, MQTT5_ERR_INVALID_ARGUMENT, "connect.properties",
                        "receiveMaximum, maximumPacketSize and topicAliasMaximum are set from the "
                        "client options");
    if ((p.u.connect.properties.present & MQTT5_PROP_BIT(MQTT5_PROP_AUTHENTICATION_METHOD)) &&
        !o->callbacks.on_auth)
        return opt_fail(st, MQTT5_ERR_INVALID_ARGUMENT, "callbacks.on_auth",
                        "required with an authentication method");
    int rc = mqtt5_packet_encoded_size(&p, connect_size, st);
    if (rc) return rc;
    if (o->iot_core && o->connect.client_id.len > 128)
        return opt_fail(st, MQTT5_ERR_IOT_CORE_LIMIT, "clientId",
                        "AWS IoT Core allows at most 128 bytes");
    return MQTT5_OK;
}

/* ---- construction --------------------------------------------------------------------------- */

/* Bytes of a core with options `o` whose CONNECT template encodes to `connect_size` bytes. */
static size_t core_size(const client_options *o, size_t connect_size)
{
    return offsetof(mqtt5_client_core, tail) + extras_size(o) + connect_size;
}

/* Validate `o` and work out what the core keeps of it and the CONNECT template's size. */
static int core_plan(const mqtt5_client_core_options *o, client_options *opt, size_t *connect_size,
                     mqtt5_codec_status *st)
{
    if (st) *st = (mqtt5_codec_status){0};
    int rc = validate_options(o, connect_size, st);
    if (rc) return rc;
    *opt = (client_options){
        .max_queued_bytes = o->max_queued_bytes,
        .connack_timeout_ms = o->connack_timeout_ms,
        .ping_timeout_ms = o->ping_timeout_ms,
        .ack_timeout_ms = o->ack_timeout_ms,
        .reconnect_reset_after_ms = o->reconnect_reset_after_ms,
        .max_queued_ops = o->max_queued_ops,
        .max_inbound_packet_size = o->max_inbound_packet_size,
        .receive_maximum = o->receive_maximum,
        .alias_out_cache = o->alias_out_cache,
        .alias_in_max = o->alias_in == MQTT5_ALIAS_IN_ENABLED ? o->alias_in_max : 0,
        .session_behavior = (unsigned)o->session_behavior,
        .offline_policy = (unsigned)o->offline_policy,
        .alias_out = (unsigned)o->alias_out,
        .receive_maximum_strict = o->receive_maximum_strict,
        .ack_coalescing = o->ack_coalescing,
        .iot_core = o->iot_core,
        .auth = MQTT5_PROPS_HAS(&o->connect.properties, MQTT5_PROP_AUTHENTICATION_METHOD),
        .wire_released = o->callbacks.on_wire_released != NULL,
        .own_alloc = o->allocator && o->allocator != mqtt5_allocator_libc(),
    };
    return MQTT5_OK;
}

static int core_init(mqtt5_client_core *c, size_t size, const mqtt5_client_core_options *o,
                     const client_options *plan, size_t connect_size, mqtt5_client_core **out,
                     mqtt5_codec_status *st);

/* The checks every constructor starts with: `out` (set to NULL), `o`, then core_plan. */
static int core_start(const mqtt5_client_core_options *o, mqtt5_client_core **out,
                      client_options *opt, size_t *connect_size, mqtt5_codec_status *st)
{
    if (!out) return opt_fail(st, MQTT5_ERR_INVALID_ARGUMENT, "out", NULL);
    *out = NULL;
    if (!o) return opt_fail(st, MQTT5_ERR_INVALID_ARGUMENT, "options", NULL);
    return core_plan(o, opt, connect_size, st);
}

size_t mqtt5_client_core_size(const mqtt5_client_core_options *o, mqtt5_codec_status *st)
{
    client_options opt;
    size_t connect_size;
    mqtt5_client_core *none;
    return core_start(o, &none, &opt, &connect_size, st) ? 0 : core_size(&opt, connect_size);
}

int mqtt5_client_core_new(const mqtt5_client_core_options *o, mqtt5_client_core **out,
                          mqtt5_codec_status *st)
{
    client_options opt;
    size_t connect_size;
    int rc = core_start(o, out, &opt, &connect_size, st);
    if (rc) return rc;
    const mqtt5_allocator *al = opt.own_alloc ? o->allocator : mqtt5_allocator_libc();
    size_t size = core_size(&opt, connect_size);
    mqtt5_client_core *c = al->allocate(al->ctx, size);
    if (!c) return opt_fail(st, MQTT5_ERR_NOMEM, NULL, "client");
    return core_init(c, size, o, &opt, connect_size, out, st);
}

int mqtt5_client_core_new_in(void *mem, size_t size, const mqtt5_client_core_options *o,
                             mqtt5_client_core **out, mqtt5_codec_status *st)
{
    client_options opt;
    size_t connect_size;
    int rc = core_start(o, out, &opt, &connect_size, st);
    if (rc) return rc;
    if (!mem || (uintptr_t)mem % _Alignof(mqtt5_client_core) != 0)
        return opt_fail(st, MQTT5_ERR_INVALID_ARGUMENT, "mem", "NULL or not 8-byte aligned");
    if (size < core_size(&opt, connect_size))
        return opt_fail(st, MQTT5_ERR_INVALID_ARGUMENT, "size",
                        "smaller than mqtt5_client_core_size()");
    opt.in_place = true;
    return core_init(mem, core_size(&opt, connect_size), o, &opt, connect_size, out, st);
}

/* The rest of construction, in `c` of `size` bytes (allocated, or the caller's). */
static int core_init(mqtt5_client_core *c, size_t size, const mqtt5_client_core_options *o,
                     const client_options *plan, size_t connect_size, mqtt5_client_core **out,
                     mqtt5_codec_status *st)
{
    client_options opt = *plan;
    const mqtt5_allocator *al = opt.own_alloc ? o->allocator : mqtt5_allocator_libc();
    memset(c, 0, offsetof(mqtt5_client_core, tail) + extras_size(&opt));
    if (opt.own_alloc) memcpy(c->tail + alloc_at(&opt), al, sizeof *al);
    c->stats.memory_in_use = c->stats.memory_peak = size;
    c->opt = opt;
    c->cb = (client_callbacks){o->callbacks.user, o->callbacks.on_lifecycle,
                               o->callbacks.on_publish, o->callbacks.on_complete};
    if (opt.auth) memcpy(c->tail + auth_at(&opt), &o->callbacks.on_auth, sizeof(client_auth_fn));
    if (opt.wire_released)
        memcpy(c->tail + wire_released_at(&opt), &o->callbacks.on_wire_released,
               sizeof(client_wire_released_fn));
    c->out_cap =
        (uint32_t)o->write_batch_size; /* the batch buffer itself comes with the first mem_send */
    /* the decoder (c->gather) holds no gather buffer until a packet arrives split */
    client_rng_init(&c->rng, o->random_u64, o->random_ctx, o->random_seed);
    client_backoff_init(&c->backoff, o->jitter, o->reconnect_min_ms, o->reconnect_max_ms);
    client_packet_ids_init(&c->ids);
    client_packet_ids_init(&c->inbound_qos2);
    client_packet_ids_init(&c->held_acks);
    c->state = MQTT5_CS_STOPPED;
    c->next_op_id = 1;
    c->deadline = MQTT5_TIME_NEVER;

    /* the CONNECT template, kept encoded; every CONNECT is built from it decoded, so it must
     * decode */
    mqtt5_packet p = {.type = MQTT5_CONNECT};
    p.u.connect = o->connect;
    uint8_t *wire = c->tail + extras_size(&opt);
    encode_validated(&p, encode_body_length(connect_size), wire);
    size_t used;
    int rc = mqtt5_packet_decode(wire, connect_size, 0, &p, &used, st);
    if (rc) {
        mqtt5_client_core_destroy(c);
        return rc;
    }
    *out = c;
    return MQTT5_OK;
}

static void drop_disconnect(mqtt5_client_core *c)
{
    client_packet_copy_free(c, c->disconnect_copy);
    c->disconnect_copy = NULL;
    c->disconnect_reason = 0;
    c->disconnect_due = false;
}

/* Give back `buf` of `size` bytes, a gather buffer the decoder no longer holds, wiped. */
static void free_gather(mqtt5_client_core *c, uint8_t *buf, size_t size)
{
    mqtt5_wipe(buf, size);
    client_free(c, buf, size);
}

/* Start the decoder afresh, dropping a packet it was gathering. */
static void reset_decoder(mqtt5_client_core *c)
{
    uint8_t *buf = c->gather.buf;
    size_t size = c->gather.need; /* storage is attached at the packet's size */
    c->gather = (client_gather){0};
    free_gather(c, buf, size);
}

int mqtt5_client_core_destroy(mqtt5_client_core *c)
{
    if (!c) return MQTT5_OK;
    if (c->in_callback) return MQTT5_ERR_BUSY;
    client_ops_fail_all(c, MQTT5_ERR_STOPPED);
    client_ops_free_spares(c);
    mqtt5_allocator counted = client_counted(c);
    client_alias_out out;
    client_aliases_open(c, &counted, &out);
    client_alias_out_cleanup(&out);
    client_aliases_close(c, &out);
    client_alias_in in = {c->alias_in, c->opt.alias_in_max};
    client_alias_in_cleanup(&in, &counted);
    c->alias_in = in.slots;
    drop_disconnect(c);
    client_auth_reset(c);
    client_control_clear(c);
    client_send_release(c);
    reset_decoder(c);
    client_packet_ids_reset(&c->ids, &counted);
    client_packet_ids_reset(&c->inbound_qos2, &counted);
    client_packet_ids_reset(&c->held_acks, &counted);
    client_free(c, c->client_id, c->client_id_len ? c->client_id_len : 1);
    client_free(c, c->stats.high, STATS_HIGH_SIZE); /* last: nothing counts from here */
    mqtt5_allocator al = *client_allocator(c);      /* it may be in the tail freed below */
    size_t wire = template_size(c);
    size_t size = core_size(&c->opt, wire);
    mqtt5_wipe(c->tail + extras_size(&c->opt), wire); /* the password */
    if (!c->opt.in_place) al.release(al.ctx, c, size);
    return MQTT5_OK;
}

/* ---- events --------------------------------------------------------------------------------- */

void client_emit_lifecycle(mqtt5_client_core *c, mqtt5_lifecycle_type type, int error,
                           const mqtt5_connack *connack, const mqtt5_disconnect *disconnect)
{
    mqtt5_lifecycle_event ev = {type, error, connack, disconnect, NULL, 0};
    mqtt5_negotiated_settings settings;
    if (type == MQTT5_LC_CONNECTION_FAILURE || type == MQTT5_LC_DISCONNECTION)
        ev.sent_reason_code = c->failing_reason;
    switch (type) {
    case MQTT5_LC_ATTEMPTING_CONNECT:
        c->attempt_open = true;
        client_count(c, CLIENT_STAT_CONNECT_ATTEMPTS, 1);
        break;
    case MQTT5_LC_CONNECTION_SUCCESS:
        c->attempt_open = false;
        c->connected = true;
        client_settings_get(c, &settings);
        ev.settings = &settings;
        break;
    case MQTT5_LC_CONNECTION_FAILURE:
        c->attempt_open = false;
        client_count(c, CLIENT_STAT_CONNECT_FAILURES, 1);
        break;
    case MQTT5_LC_DISCONNECTION:
        c->connected = false;
        client_count(c, CLIENT_STAT_DISCONNECTIONS, 1);
        break;
    case MQTT5_LC_STOPPED:
        break;
    }
    c->in_callback++;
    c->cb.on_lifecycle(c->cb.user, &ev);
    c->in_callback--;
}

/* The one place a connection's end is reported: FAILURE for an open attempt, DISCONNECTION for
 * an established connection, nothing when it was already reported. */
static void emit_final(mqtt5_client_core *c, int error, const mqtt5_connack *connack,
                       const mqtt5_disconnect *server)
{
    if (c->attempt_open)
        client_emit_lifecycle(c, MQTT5_LC_CONNECTION_FAILURE, error, connack, NULL);
    else if (c->connected)
        client_emit_lifecycle(c, MQTT5_LC_DISCONNECTION, error, NULL, server);
}

/* ---- transitions ---------------------------------------------------------------------------- */

static void clear_connection_timers(mqtt5_client_core *c)
{
    c->deadline = MQTT5_TIME_NEVER;
    c->ping_outstanding = false; /* and ping_at is read in CONNECTED only */
}

/* Forget everything that belongs to one network connection. */
static void reset_connection(mqtt5_client_core *c)
{
    clear_connection_timers(c);
    c->connect_due = c->ping_due = false;
    drop_disconnect(c);
    client_auth_reset(c);
    client_control_clear(c);
    client_send_release(c);
    reset_decoder(c);
    mqtt5_allocator counted = client_counted(c);
    client_packet_ids_reset(&c->held_acks, &counted);
    c->inbound_unacked = 0;
    c->generation++;
}

static void begin_attempt(mqtt5_client_core *c)
{
    c->state = MQTT5_CS_CONNECTING;
    c->deadline = MQTT5_TIME_NEVER;
    client_emit_lifecycle(c, MQTT5_LC_ATTEMPTING_CONNECT, 0, NULL, NULL);
}

static void enter_stopped(mqtt5_client_core *c)
{
    c->state = MQTT5_CS_STOPPED;
    c->deadline = MQTT5_TIME_NEVER;
    c->ever_connected = false;
    /* a server-assigned identifier belongs to the session; a stop ends it */
    client_free(c, c->client_id, c->client_id_len ? c->client_id_len : 1);
    c->client_id = NULL;
    c->client_id_len = 0;
    client_backoff_reset(&c->backoff);
    if (c->stop_pending) {
        c->stop_pending = false;
        client_ops_fail_all(c, MQTT5_ERR_STOPPED);
        client_emit_lifecycle(c, MQTT5_LC_STOPPED, 0, NULL, NULL);
    }
    /* start() during the close: go again */
    if (c->want_running && c->state == MQTT5_CS_STOPPED) begin_attempt(c);
}

/* Transport is closed: back off or stop. */
static void after_close(mqtt5_client_core *c)
{
    c->transport_open = false;
    if (!c->want_running || c->stop_pending) {
        /* a stop fails every operation with STOPPED, not with the offline policy */
        reset_connection(c);
        enter_stopped(c);
        return;
    }
    client_ops_on_disconnect(c);
    reset_connection(c);
    c->state = MQTT5_CS_PENDING_RECONNECT;
    c->deadline = c->now + client_backoff_next(&c->backoff, &c->rng);
}

void client_fail_connection(mqtt5_client_core *c, int error, uint8_t reason,
                            const mqtt5_connack *connack, const mqtt5_disconnect *server)
{
    if (c->state != MQTT5_CS_CONNECTING && c->state != MQTT5_CS_MQTT_CONNECT &&
        c->state != MQTT5_CS_CONNECTED)
        return; /* already ending */
    bool can_send = c->transport_open && c->state != MQTT5_CS_CONNECTING;
    c->failing_reason = can_send ? reason : 0;
    emit_final(c, error, connack, server);
    c->failing_reason = 0;
    clear_connection_timers(c);
    c->connect_due = false;
    if (reason && can_send) {
        drop_disconnect(c);
        c->disconnect_reason = reason;
        c->disconnect_due = true;
        c->state = MQTT5_CS_CLEAN_DISCONNECT;
        c->deadline = c->now + DISCONNECT_TIMEOUT_MS;
    } else {
        c->state = MQTT5_CS_CLOSING;
        if (!c->transport_open) after_close(c);
    }
}

/* ---- user calls ----------------------------------------------------------------------------- */

static void advance(mqtt5_client_core *c, uint64_t now)
{
    if (now > c->now) c->now = now;
}

int mqtt5_client_core_start(mqtt5_client_core *c, uint64_t now)
{
    advance(c, now);
    c->want_running = true;
    if (c->state == MQTT5_CS_STOPPED) begin_attempt(c);
    return MQTT5_OK;
}

int mqtt5_client_core_stop(mqtt5_client_core *c, uint64_t now, const mqtt5_disconnect *d,
                           mqtt5_codec_status *st)
{
    advance(c, now);
    if (st) *st = (mqtt5_codec_status){0};
    if (d) {
        mqtt5_packet p = {.type = MQTT5_DISCONNECT};
        p.u.disconnect = *d;
        size_t size;
        int rc = mqtt5_packet_encoded_size(&p, &size, st);
        if (rc) return rc;
    }
    if (!c->want_running && !c->stop_pending && c->state == MQTT5_CS_STOPPED) return MQTT5_OK;
    /* the DISCONNECT copy is made first, so running out of memory changes nothing */
    client_packet_copy *copy = NULL;
    if (d && c->state == MQTT5_CS_CONNECTED && c->transport_open) {
        copy = client_packet_copy_new(c, d);
        if (!copy) {
            if (st)
                *st = (mqtt5_codec_status){.error = MQTT5_ERR_NOMEM, .detail = "DISCONNECT copy"};
            return MQTT5_ERR_NOMEM;
        }
    }
    c->want_running = false;
    c->stop_pending = true;
    switch (c->state) {
    case MQTT5_CS_STOPPED:
    case MQTT5_CS_PENDING_RECONNECT:
        enter_stopped(c);
        break;
    case MQTT5_CS_CONNECTING:
    case MQTT5_CS_MQTT_CONNECT:
        client_fail_connection(c, MQTT5_ERR_STOPPED, 0, NULL, NULL);
        break;
    case MQTT5_CS_CONNECTED:
        client_fail_connection(c, MQTT5_ERR_STOPPED, 0, NULL, NULL);
        if (copy && c->state == MQTT5_CS_CLOSING && c->transport_open) {
            c->disconnect_copy = copy;
            c->disconnect_due = true;
            c->state = MQTT5_CS_CLEAN_DISCONNECT;
            c->deadline = c->now + DISCONNECT_TIMEOUT_MS;
            copy = NULL;
        }
        break;
    default:
        break; /* CLEAN_DISCONNECT, CLOSING: the close in progress ends in STOPPED */
    }
    client_packet_copy_free(c, copy);
    return MQTT5_OK;
}

/* ---- transport events ----------------------------------------------------------------------- */

int mqtt5_client_core_on_transport_open(mqtt5_client_core *c, uint64_t now)
{
    if (c->in_callback) return MQTT5_ERR_BUSY;
    advance(c, now);
    if (c->state != MQTT5_CS_CONNECTING) {
        /* opened after we stopped wanting it: it must be closed again */
        c->transport_open = true;
        return MQTT5_ERR_INVALID_STATE;
    }
    c->transport_open = true;
    c->state = MQTT5_CS_MQTT_CONNECT;
    c->connect_due = true;
    c->deadline = c->now + c->opt.connack_timeout_ms;
    return MQTT5_OK;
}

int mqtt5_client_core_on_transport_closed(mqtt5_client_core *c, uint64_t now, int error)
{
    if (c->in_callback) return MQTT5_ERR_BUSY;
    advance(c, now);
    if (c->state == MQTT5_CS_STOPPED || c->state == MQTT5_CS_PENDING_RECONNECT) {
        c->transport_open = false;
        return MQTT5_OK;
    }
    if (c->state == MQTT5_CS_CONNECTING || c->state == MQTT5_CS_MQTT_CONNECT ||
        c->state == MQTT5_CS_CONNECTED)
        emit_final(c, error ? error : MQTT5_ERR_CONNECTION_CLOSED, NULL, NULL);
    after_close(c);
    return MQTT5_OK;
}

/* ---- CONNACK -------------------------------------------------------------------------------- */

static void settings_from_connack(mqtt5_client_core *c, const mqtt5_connack *ca)
{
    const mqtt5_properties *p = &ca->properties;
    mqtt5_packet tpl;
    client_connect_template(c, &tpl);
    const mqtt5_connect *ours = &tpl.u.connect;
    client_settings s = {0};
    s.maximum_qos = MQTT5_PROPS_HAS(p, MQTT5_PROP_MAXIMUM_QOS) ? p->maximum_qos : 2;
    s.retain_available =
        MQTT5_PROPS_HAS(p, MQTT5_PROP_RETAIN_AVAILABLE) ? p->retain_available != 0 : true;
    s.wildcard_available = MQTT5_PROPS_HAS(p, MQTT5_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE)
                               ? p->wildcard_subscription_available != 0
                               : true;
    s.shared_available = MQTT5_PROPS_HAS(p, MQTT5_PROP_SHARED_SUBSCRIPTION_AVAILABLE)
                             ? p->shared_subscription_available != 0
                             : true;
    s.subscription_ids_available = MQTT5_PROPS_HAS(p, MQTT5_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE)
                                       ? p->subscription_identifier_available != 0
                                       : true;
    s.keep_alive_s =
        MQTT5_PROPS_HAS(p, MQTT5_PROP_SERVER_KEEP_ALIVE) ? p->server_keep_alive : ours->keep_alive;
    s.session_expiry_s =
        MQTT5_PROPS_HAS(p, MQTT5_PROP_SESSION_EXPIRY_INTERVAL)
            ? p->session_expiry_interval
            : (MQTT5_PROPS_HAS(&ours->properties, MQTT5_PROP_SESSION_EXPIRY_INTERVAL)
                   ? ours->properties.session_expiry_interval
                   : 0);
    s.max_packet_size_to_server =
        MQTT5_PROPS_HAS(p, MQTT5_PROP_MAXIMUM_PACKET_SIZE) ? p->maximum_packet_size : 0;
    s.receive_maximum_from_server =
        MQTT5_PROPS_HAS(p, MQTT5_PROP_RECEIVE_MAXIMUM) ? p->receive_maximum : 65535;
    uint16_t server_alias_max =
        MQTT5_PROPS_HAS(p, MQTT5_PROP_TOPIC_ALIAS_MAXIMUM) ? p->topic_alias_maximum : 0;
    s.topic_alias_max_to_server =
        c->opt.alias_out == MQTT5_ALIAS_OUT_DISABLED
            ? 0
            : (server_alias_max < c->opt.alias_out_cache ? server_alias_max
                                                         : c->opt.alias_out_cache);
    /* the alias tables are reset at the size the old settings gave them */
    mqtt5_allocator counted = client_counted(c);
    client_alias_out out;
    client_aliases_open(c, &counted, &out);
    client_alias_out_reset(&out, server_alias_max);
    client_aliases_close(c, &out);
    client_alias_in in = {c->alias_in, c->opt.alias_in_max};
    client_alias_in_reset(&in, &counted);
    c->alias_in = in.slots;
    c->settings = s; /* the outbound table's size is now s.topic_alias_max_to_server, as `out` */
    c->coalesce_struck = false; /* a new connection, maybe to another server */
    c->coalesce_paused = false;
}

void client_settings_get(const mqtt5_client_core *c, mqtt5_negotiated_settings *out)
{
    const client_settings *s = &c->settings;
    mqtt5_str id;
    if (c->client_id) {
        id = (mqtt5_str){c->client_id, c->client_id_len};
    } else {
        mqtt5_packet tpl;
        client_connect_template(c, &tpl);
        id = tpl.u.connect.client_id;
    }
    *out = (mqtt5_negotiated_settings){
        .rejoined_session = c->session_resumed,
        .maximum_qos = s->maximum_qos,
        .retain_available = s->retain_available,
        .wildcard_available = s->wildcard_available,
        .shared_available = s->shared_available,
        .subscription_ids_available = s->subscription_ids_available,
        .keep_alive_s = s->keep_alive_s,
        .ping_timeout_ms = client_ping_timeout_ms(c),
        .session_expiry_s = s->session_expiry_s,
        .max_packet_size_to_server = s->max_packet_size_to_server,
        .max_packet_size_to_client = c->opt.max_inbound_packet_size,
        .receive_maximum_from_server = s->receive_maximum_from_server,
        .receive_maximum_to_server = c->opt.receive_maximum,
        .topic_alias_max_to_server = s->topic_alias_max_to_server,
        .topic_alias_max_to_client = c->opt.alias_in_max,
        .client_id = id,
    };
}

uint32_t client_ping_timeout_ms(const mqtt5_client_core *c)
{
    uint64_t half = (uint64_t)c->settings.keep_alive_s * 1000u / 2u;
    return (uint32_t)(half && half < c->opt.ping_timeout_ms ? half : c->opt.ping_timeout_ms);
}

uint64_t client_next_ping_at(const mqtt5_client_core *c)
{
    if (!c->settings.keep_alive_s) return MQTT5_TIME_NEVER;
    return c->ping_at + (uint64_t)c->settings.keep_alive_s * 1000u;
}

uint64_t client_ping_deadline(const mqtt5_client_core *c)
{
    return c->ping_outstanding ? c->ping_at + client_ping_timeout_ms(c) : MQTT5_TIME_NEVER;
}

void client_aliases_open(const mqtt5_client_core *c, const mqtt5_allocator *al, client_alias_out *a)
{
    *a = (client_alias_out){
        .al = al,
        .table = c->alias_out,
        .mode = (uint8_t)c->opt.alias_out,
        .cache_size = c->opt.alias_out_cache,
        .usable = c->settings.topic_alias_max_to_server, /* what the last reset made it */
        .count = c->alias_out_count,
    };
}

void client_aliases_close(mqtt5_client_core *c, const client_alias_out *a)
{
    c->alias_out = a->table;
    c->alias_out_count = a->count;
}

void client_on_connack(mqtt5_client_core *c, const mqtt5_connack *ca)
{
    c->deadline = MQTT5_TIME_NEVER;
    if (ca->reason_code >= 0x80) {
        client_fail_connection(c, MQTT5_ERR_CONNACK_REFUSED, 0, ca, NULL);
        return;
    }
    bool clean =
        c->opt.session_behavior == MQTT5_SESSION_CLEAN ||
        (c->opt.session_behavior == MQTT5_SESSION_REJOIN_POST_SUCCESS && !c->ever_connected);
    if (ca->session_present && clean) {
        client_fail_connection(c, MQTT5_ERR_SESSION_PRESENT, MQTT5_RC_PROTOCOL_ERROR, ca, NULL);
        return;
    }
    if (MQTT5_PROPS_HAS(&ca->properties, MQTT5_PROP_ASSIGNED_CLIENT_IDENTIFIER)) {
        /* the identifier is the session: without a copy the next connection would lose it */
        mqtt5_str id = ca->properties.assigned_client_identifier;
        char *copy = client_alloc(c, id.len ? id.len : 1);
        if (!copy) {
            client_fail_connection(c, MQTT5_ERR_NOMEM, MQTT5_RC_IMPLEMENTATION_SPECIFIC_ERROR, ca,
                                   NULL);
            return;
        }
        if (id.len) memcpy(copy, id.ptr, id.len);
        client_free(c, c->client_id, c->client_id_len ? c->client_id_len : 1);
        c->client_id = copy;
        c->client_id_len = (uint16_t)id.len; /* an MQTT string: at most 65535 bytes */
    }
    settings_from_connack(c, ca);
    c->has_settings = true;
    c->session_resumed = ca->session_present;
    if (!ca->session_present) {
        mqtt5_allocator counted = client_counted(c);
        client_packet_ids_reset(&c->inbound_qos2, &counted);
    }
    c->state = MQTT5_CS_CONNECTED;
    c->ever_connected = true;
    if (c->opt.iot_core) {
        client_token_bucket *iot = client_iot_buckets(c);
        client_token_bucket_init(&iot[0], 100, 100, c->now);
        client_token_bucket_init(&iot[1], 512u * 1024u, 512u * 1024u, c->now);
    }
    c->ping_at = c->now; /* the first PINGREQ is due keep-alive after the CONNACK */
    c->ping_outstanding = false;
    c->deadline = c->now + c->opt.reconnect_reset_after_ms; /* the backoff reset */
    client_ops_on_connack(c);
    client_emit_lifecycle(c, MQTT5_LC_CONNECTION_SUCCESS, 0, ca, NULL);
}

/* ---- timers --------------------------------------------------------------------------------- */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* The next time something is due in the current state (work ready now shows as want.write). */
static uint64_t next_deadline(const mqtt5_client_core *c)
{
    uint64_t t = MQTT5_TIME_NEVER;
    switch (c->state) {
    case MQTT5_CS_MQTT_CONNECT:
        t = c->deadline;
        break;
    case MQTT5_CS_CONNECTED:
        t = min_u64(c->ping_due ? MQTT5_TIME_NEVER : client_next_ping_at(c),
                    client_ping_deadline(c));
        t = min_u64(t, c->deadline);
        t = min_u64(t, client_ops_next_deadline(c));
        if (c->queue.head) {
            uint64_t ready = client_op_ready_at(c, c->queue.head); /* IoT Core pacing */
            if (ready > c->now) t = min_u64(t, ready);
        }
        if (client_read_low_water(c) > 1) t = min_u64(t, client_read_wait_end(c));
        if (c->coalesce_paused) t = min_u64(t, client_coalesce_pause_end(c));
        break;
    case MQTT5_CS_CLEAN_DISCONNECT:
        t = c->deadline;
        break;
    case MQTT5_CS_PENDING_RECONNECT:
        t = c->deadline;
        break;
    default:
        break;
    }
    return t;
}

int mqtt5_client_core_service(mqtt5_client_core *c, uint64_t now, uint64_t *next_wake)
{
    if (c->in_callback) return MQTT5_ERR_BUSY;
    advance(c, now);
    switch (c->state) {
    case MQTT5_CS_PENDING_RECONNECT:
        if (c->now >= c->deadline) begin_attempt(c);
        break;
    case MQTT5_CS_MQTT_CONNECT:
        if (c->now >= c->deadline)
            client_fail_connection(c, MQTT5_ERR_CONNACK_TIMEOUT, 0, NULL, NULL);
        break;
    case MQTT5_CS_CLEAN_DISCONNECT:
        if (c->now >= c->deadline) c->state = MQTT5_CS_CLOSING;
        break;
    case MQTT5_CS_CONNECTED:
        if (c->now >= c->deadline) {
            client_backoff_reset(&c->backoff);
            c->deadline = MQTT5_TIME_NEVER;
        }
        if (c->now >= client_ping_deadline(c)) {
            client_fail_connection(c, MQTT5_ERR_PING_TIMEOUT, MQTT5_RC_KEEP_ALIVE_TIMEOUT, NULL,
                                   NULL);
            break;
        }
        if (!c->ping_due && c->now >= client_next_ping_at(c) &&
            client_ping_deadline(c) == MQTT5_TIME_NEVER)
            c->ping_due = true;
        client_ops_service_timeouts(c);
        if (c->coalesce_paused && c->now >= client_coalesce_pause_end(c)) {
            c->coalesce_paused = false;
            c->read_since = (uint32_t)c->now; /* a wait may start now, not 1 s ago */
        }
        if (client_read_low_water(c) > 1 && c->now >= client_read_wait_end(c))
            c->read_wait_over = true;
        break;
    default:
        break;
    }
    if (next_wake) *next_wake = next_deadline(c);
    return MQTT5_OK;
}

void mqtt5_client_core_want(const mqtt5_client_core *c, mqtt5_client_want *out)
{
    out->transport_open = c->state == MQTT5_CS_CONNECTING || c->state == MQTT5_CS_MQTT_CONNECT ||
                          c->state == MQTT5_CS_CONNECTED ||
                          (c->state == MQTT5_CS_CLEAN_DISCONNECT && c->disconnect_due);
    out->write = c->transport_open && client_has_output(c);
    out->wake_at = next_deadline(c);
    out->read_low_water = client_read_low_water(c);
}

mqtt5_client_state mqtt5_client_core_state(const mqtt5_client_core *c)
{
    return (mqtt5_client_state)c->state;
}

bool mqtt5_client_core_settings(const mqtt5_client_core *c, mqtt5_negotiated_settings *out)
{
    if (!c->has_settings) return false;
    client_settings_get(c, out);
    return true;
}

void mqtt5_client_core_stats(const mqtt5_client_core *c, mqtt5_client_stats *out)
{
    *out = (mqtt5_client_stats){
        .incomplete_ops = c->incomplete_ops,
        .incomplete_bytes = c->incomplete_bytes,
        .bytes_sent = stat_value(c, CLIENT_STAT_BYTES_SENT),
        .bytes_received = stat_value(c, CLIENT_STAT_BYTES_RECEIVED),
        .batches_sent = stat_value(c, CLIENT_STAT_BATCHES_SENT),
        .connect_attempts = stat_value(c, CLIENT_STAT_CONNECT_ATTEMPTS),
        .connect_failures = stat_value(c, CLIENT_STAT_CONNECT_FAILURES),
        .disconnections = stat_value(c, CLIENT_STAT_DISCONNECTIONS),
        .pings_sent = stat_value(c, CLIENT_STAT_PACKETS_SENT + client_sent_slot[MQTT5_PINGREQ]),
        .ack_timeouts = stat_value(c, CLIENT_STAT_ACK_TIMEOUTS),
        .receive_maximum_exceeded = stat_value(c, CLIENT_STAT_RECEIVE_MAXIMUM_EXCEEDED),
        .ack_coalescing_pauses = stat_value(c, CLIENT_STAT_ACK_COALESCING_PAUSES),
        .memory_in_use = c->stats.memory_in_use,
        .memory_peak = c->stats.memory_peak,
    };
    for (unsigned type = 1; type < 16; type++) {
        if (CLIENT_SENT_TYPE_MASK >> type & 1u)
            out->packets_sent[type] =
                stat_value(c, CLIENT_STAT_PACKETS_SENT + client_sent_slot[type]);
        out->packets_received[type] = stat_value(c, CLIENT_STAT_PACKETS_RECEIVED + type - 1u);
    }
    for (const client_op *op = c->inflight.head; op; op = op->next) {
        if (op->completed) continue;
        out->unacked_ops++;
        out->unacked_bytes += op->wire_size;
    }
}

/* ---- inbound bytes -------------------------------------------------------------------------- */

/* The decoder needs storage for a split packet of dec->need bytes: one of exactly that size. */
static bool gather_attach(mqtt5_client_core *c, mqtt5_decoder *dec)
{
    size_t need = dec->need;
    uint8_t *buf = client_alloc(c, need);
    if (!buf) return false;
    /* cannot fail: the decoder holds no storage while it asks, and this is big enough */
    mqtt5_decoder_set_buffer(dec, buf, need);
    return true;
}

/* Take the gather buffer back from the decoder unless part of a packet waits in it. */
static void gather_detach(mqtt5_client_core *c, mqtt5_decoder *dec)
{
    uint8_t *buf = dec->buf;
    size_t size = dec->cap;
    if (buf && mqtt5_decoder_set_buffer(dec, NULL, 0) == MQTT5_OK) free_gather(c, buf, size);
}

_Static_assert(sizeof(((mqtt5_decoder *)0)->head) == sizeof(((client_gather *)0)->head),
               "client_gather keeps mqtt5_decoder.head");

/* The decoder as it was at the end of the last mem_recv (see client_gather). */
static void gather_load(const mqtt5_client_core *c, mqtt5_decoder *dec)
{
    const client_gather *g = &c->gather;
    mqtt5_decoder_init(dec, NULL, 0, c->opt.max_inbound_packet_size);
    dec->buf = g->buf;
    dec->cap = g->buf ? g->need : 0;
    dec->len = g->len;
    dec->need = g->need;
    memcpy(dec->head, g->head, sizeof dec->head);
}

/* Keep what the next mem_recv needs: storage is attached only while a packet of `need` bytes is
 * pending in it (gather_detach took it back otherwise), and each size is below 2^32 (the decoder
 * refuses packets above max_inbound_packet_size). */
static void gather_store(mqtt5_client_core *c, const mqtt5_decoder *dec)
{
    client_gather *g = &c->gather;
    g->buf = dec->buf;
    g->len = (uint32_t)dec->len;
    g->need = (uint32_t)dec->need;
    memcpy(g->head, dec->head, sizeof g->head);
}

int mqtt5_client_core_mem_recv(mqtt5_client_core *c, uint64_t now, const uint8_t *in, size_t len)
{
    if (c->in_callback) return MQTT5_ERR_BUSY;
    advance(c, now);
    if (!c->transport_open) return MQTT5_ERR_INVALID_STATE;
    client_count(c, CLIENT_STAT_BYTES_RECEIVED, len);
    /* after a wait for acks that timed out: its mark, to judge the read by (see
     * client_read_wait_timed_out) */
    uint32_t mark = c->read_wait_over ? client_coalesce_mark(c) : 1;
    uint32_t packets = 0;
    c->read_since = (uint32_t)c->now;
    c->read_wait_over = false;
    /* `dec` is put back below: nothing this loop calls can reset the decoder, which happens only
     * once the transport has closed (reset_connection) or at destroy */
    mqtt5_decoder dec;
    gather_load(c, &dec);
    /* after an error or while closing, input is discarded */
    while (len > 0 && (c->state == MQTT5_CS_MQTT_CONNECT || c->state == MQTT5_CS_CONNECTED)) {
        size_t used = 0;
        mqtt5_packet p;
        mqtt5_codec_status st;
        int rc = mqtt5_decoder_mem_recv(&dec, in, len, &used, &p, &st);
        in += used;
        len -= used;
        if (rc == MQTT5_ERR_NEED_MORE) break;
        if (rc == MQTT5_ERR_BUFFER_TOO_SMALL) {
            if (gather_attach(c, &dec)) continue;
            client_fail_connection(c, MQTT5_ERR_NOMEM, MQTT5_RC_IMPLEMENTATION_SPECIFIC_ERROR, NULL,
                                   NULL);
            break;
        }
        if (rc != MQTT5_OK) {
            client_fail_connection(
                c, rc, st.reason_code ? st.reason_code : MQTT5_RC_MALFORMED_PACKET, NULL, NULL);
            break;
        }
        client_count(c, CLIENT_STAT_PACKETS_RECEIVED + p.type - 1u, 1); /* type 0 does not decode */
        client_handle_packet(c, &p);
        packets++;
        /* done with the packet: its buffer goes back, the next split one asks again */
        gather_detach(c, &dec);
    }
    /* after an error the buffer goes back too: an idle client holds none */
    gather_detach(c, &dec);
    gather_store(c, &dec);
    if (mark > 1) client_read_wait_timed_out(c, mark, packets);
    return MQTT5_OK;
}
