/*
 * fuzz_client_core.c - libFuzzer target for the client core's handling of untrusted broker input.
 * The input is a script: each step is one byte of opcode then data. The core is connected first
 * (CONNACK; the first byte's bit 1 makes it carry a Receive Maximum of 4, bit 0 builds the core in
 * a block of its exact size), then the script feeds server bytes in chunks, submits operations,
 * advances the clock and drains output (through mem_send or mem_send_buf). Publishes go through the
 * copying path or publish_encoded (the caller's bytes, overwritten and freed at on_wire_released,
 * so a late read is a sanitizer report). Checks: no crash, leak or sanitizer report; the lifecycle
 * guarantees hold; every accepted operation completes exactly once and every publish_encoded one is
 * released exactly once, after its completion; memory returns to zero after destroy.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt5/client_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_state {
    long attempts, successes, failures, disconnections;
    long accepted, completed, encoded, released;
    size_t in_use;
} fuzz_state;

/* The caller's side of one publish_encoded operation: its bytes, and whether it completed. */
typedef struct encoded_pub {
    int completed;
    size_t len;
    uint8_t bytes[];
} encoded_pub;

static void *fz_alloc(void *ctx, size_t n)
{
    fuzz_state *s = ctx;
    void *p = malloc(n);
    if (p) s->in_use += n;
    return p;
}

static void fz_release(void *ctx, void *p, size_t n)
{
    fuzz_state *s = ctx;
    s->in_use -= n;
    free(p);
}

static void on_lifecycle(void *u, const mqtt5_lifecycle_event *e)
{
    fuzz_state *s = u;
    switch (e->type) {
    case MQTT5_LC_ATTEMPTING_CONNECT:
        s->attempts++;
        break;
    case MQTT5_LC_CONNECTION_SUCCESS:
        s->successes++;
        break;
    case MQTT5_LC_CONNECTION_FAILURE:
        s->failures++;
        break;
    case MQTT5_LC_DISCONNECTION:
        s->disconnections++;
        break;
    default:
        break;
    }
    if (s->successes + s->failures > s->attempts) abort();
    if (s->disconnections > s->successes) abort();
}

static void on_publish(void *u, const mqtt5_inbound_publish *m)
{
    (void)u;
    if (m->publish->topic.len == 0) abort(); /* aliases must be resolved */
}

static void on_complete(void *u, const mqtt5_op_completion *d)
{
    fuzz_state *s = u;
    s->completed++;
    if (d->user_ctx) ((encoded_pub *)d->user_ctx)->completed++;
}

static void on_wire_released(void *u, void *user_ctx)
{
    fuzz_state *s = u;
    encoded_pub *e = user_ctx;
    if (e->completed != 1) abort(); /* released once, after its one completion */
    memset(e->bytes, 0xEE, e->len);
    free(e);
    s->released++;
}

/* `p` through publish_encoded: encoded, decoded back for the view, handed over. */
static int publish_encoded(mqtt5_client_core *c, uint64_t now, const mqtt5_publish *p)
{
    mqtt5_packet pk = {.type = MQTT5_PUBLISH};
    pk.u.publish = *p;
    pk.u.publish.packet_id = p->qos ? 1 : 0;
    size_t n = 0, used = 0;
    if (mqtt5_packet_encoded_size(&pk, &n, NULL)) return -1;
    encoded_pub *e = malloc(sizeof *e + n);
    if (!e) return -1;
    e->completed = 0;
    e->len = n;
    mqtt5_packet view;
    if (mqtt5_packet_encode(&pk, e->bytes, n, &used, NULL) ||
        mqtt5_packet_decode(e->bytes, n, 0, &view, &used, NULL))
        abort();
    mqtt5_op_options opt = {.user_ctx = e};
    int rc =
        mqtt5_client_core_publish_encoded(c, now, &view.u.publish, e->bytes, n, &opt, NULL, NULL);
    if (rc) free(e);
    return rc;
}

static void drain(mqtt5_client_core *c, uint64_t now)
{
    const uint8_t *d;
    size_t n;
    for (int i = 0; i < 4; i++) {
        if (mqtt5_client_core_mem_send(c, now, &d, &n) || n == 0) break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_state s = {0};
    mqtt5_allocator al = {fz_alloc, fz_release, &s};
    mqtt5_client_core_options o;
    mqtt5_client_core_options_init(&o);
    o.allocator = &al;
    o.callbacks = (mqtt5_client_core_callbacks){.user = &s,
                                                .on_lifecycle = on_lifecycle,
                                                .on_publish = on_publish,
                                                .on_complete = on_complete,
                                                .on_wire_released = on_wire_released};
    o.connect.client_id = (mqtt5_str){"fuzz", 4};
    o.connect.keep_alive = 30;
    o.max_inbound_packet_size = 4096;
    o.receive_maximum = 4;
    o.alias_in = MQTT5_ALIAS_IN_ENABLED;
    o.alias_in_max = 4;
    o.alias_out = MQTT5_ALIAS_OUT_LRU;
    o.session_behavior = MQTT5_SESSION_REJOIN_ALWAYS;
    o.ack_coalescing = true;
    mqtt5_client_core *c;
    void *block = NULL; /* odd first byte: the core in a block of exactly its size (new_in) */
    if (size && (data[0] & 1)) {
        size_t need = mqtt5_client_core_size(&o, NULL);
        if (!need || !(block = malloc(need))) abort();
        if (mqtt5_client_core_new_in(block, need, &o, &c, NULL)) abort();
    } else if (mqtt5_client_core_new(&o, &c, NULL)) {
        abort();
    }

    uint64_t now = 0, wake;
    static const uint8_t connack[] = {0x20, 0x06, 0x00, 0x00, 0x03, 0x22, 0x00, 0x08};
    /* first byte's bit 1: the server's Receive Maximum is 4 (the window fills, acks coalesce) */
    static const uint8_t connack_rm4[] = {0x20, 0x09, 0x00, 0x00, 0x06, 0x22,
                                          0x00, 0x08, 0x21, 0x00, 0x04};
    bool rm4 = size && (data[0] & 2);
    mqtt5_client_core_start(c, now);
    mqtt5_client_core_on_transport_open(c, now);
    drain(c, now);
    mqtt5_client_core_mem_recv(c, now, rm4 ? connack_rm4 : connack,
                               rm4 ? sizeof connack_rm4 : sizeof connack);

    size_t i = 0;
    while (i < size) {
        uint8_t opcode = data[i++];
        size_t len = opcode & 0x3F;
        if (len > size - i) len = size - i;
        mqtt5_client_want want;
        mqtt5_client_core_want(c, &want);
        /* a read low-water above 1 (ack coalescing) always comes with its 2 ms bound */
        if (want.read_low_water < 1 || (want.read_low_water > 1 && want.wake_at > now + 2))
            __builtin_trap();
        switch (opcode >> 6) {
        case 0: /* server bytes */
            if (want.transport_open) mqtt5_client_core_mem_recv(c, now, data + i, len);
            i += len;
            break;
        case 1: { /* an operation */
            static const char *const topics[] = {"a/b", "sensors/temperature", "x"};
            mqtt5_publish p = {.qos = (uint8_t)(len % 3),
                               .topic = {topics[len % 3], strlen(topics[len % 3])},
                               .payload = {data + i, len}};
            mqtt5_subscription sub = {{"a/#", 3}, (uint8_t)(len % 3), false, false, 0};
            mqtt5_subscribe s_op = {.subscriptions = &sub, .subscription_count = 1};
            int rc = (len & 4)   ? mqtt5_client_core_subscribe(c, now, &s_op, NULL, NULL, NULL)
                     : (len & 8) ? publish_encoded(c, now, &p)
                                 : mqtt5_client_core_publish(c, now, &p, NULL, NULL, NULL);
            if (rc == 0) s.accepted++;
            if (rc == 0 && !(len & 4) && (len & 8)) s.encoded++;
            i += len;
            break;
        }
        case 2: /* time passes: a few ms (ack coalescing's waits and pauses) or many seconds */
            now += len < 8 ? len * 8u : (uint64_t)len * 997u;
            mqtt5_client_core_service(c, now, &wake);
            break;
        default: /* transport events and output */
            if (len % 4 == 0 && want.transport_open)
                mqtt5_client_core_on_transport_closed(c, now, 0);
            else if (len % 4 == 1 && want.transport_open &&
                     mqtt5_client_core_state(c) == MQTT5_CS_CONNECTING)
                mqtt5_client_core_on_transport_open(c, now);
            else if (len % 4 == 2 && !want.transport_open &&
                     mqtt5_client_core_state(c) != MQTT5_CS_STOPPED &&
                     mqtt5_client_core_state(c) != MQTT5_CS_PENDING_RECONNECT)
                mqtt5_client_core_on_transport_closed(c, now, 0);
            if (len & 0x20) {
                uint8_t buf[96]; /* small: bigger packets come from the core's own buffer */
                const uint8_t *d;
                size_t n;
                mqtt5_client_core_mem_send_buf(c, now, buf, sizeof buf, &d, &n);
            } else {
                drain(c, now);
            }
            break;
        }
    }
    mqtt5_client_core_stop(c, now, NULL, NULL);
    mqtt5_client_core_destroy(c);
    free(block);
    if (s.completed != s.accepted || s.released != s.encoded) abort();
    if (s.in_use != 0) abort();
    return 0;
}
