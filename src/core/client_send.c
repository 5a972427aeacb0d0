/*
 * client_send.c - the client core's output: mem_send and mem_send_buf hand out one batch of whole
 * packets in the order the protocol needs (CONNECT alone; then acknowledgements and PINGREQ; then
 * operations, limited by the server's Receive Maximum and, in AWS IoT Core mode, the rate limits;
 * a DISCONNECT last). Operations are bound to packet identifiers and topic aliases here, at the
 * moment they go on the wire.
 *
 * Buffers: mem_send_buf encodes into the caller's buffer; mem_send into the core's batch buffer,
 * allocated the first time a connection has something to hand out and wiped and freed when the
 * transport closes. A packet bigger than the batch goes out alone from a one-off buffer that lives
 * until the next call. Owed acknowledgements wait inside the core, a burst of them in a ring of
 * their own that is freed once they are all out.
 */
#include <string.h>

#include "common/wipe.h"

#include "core/client_internal.h"
#include "core/encode.h"

/* ---- statistics ---------------------------------------------------------------------------- */

const uint8_t client_sent_slot[16] = {
    [MQTT5_CONNECT] = 0, [MQTT5_PUBLISH] = 1,    [MQTT5_PUBACK] = 2,    [MQTT5_PUBREC] = 3,
    [MQTT5_PUBREL] = 4,  [MQTT5_PUBCOMP] = 5,    [MQTT5_SUBSCRIBE] = 6, [MQTT5_UNSUBSCRIBE] = 7,
    [MQTT5_PINGREQ] = 8, [MQTT5_DISCONNECT] = 9, [MQTT5_AUTH] = 10, /* CLIENT_SENT_TYPES - 1 */
};

/* ---- control ring --------------------------------------------------------------------------- */

/* Entries of the ring of owed packets: CLIENT_CONTROL_LOCAL inside the core, else doubled
 * control_grown times. */
static uint32_t control_cap(const mqtt5_client_core *c)
{
    return CLIENT_CONTROL_LOCAL << c->control_grown;
}

/* The ring of owed packets: inside the core up to CLIENT_CONTROL_LOCAL, else spilled. */
static client_control *control_ring(mqtt5_client_core *c)
{
    return c->control_grown ? c->control.heap : c->control.local;
}

/* Double the ring of owed packets (a burst of inbound messages between two batches). */
static bool control_grow(mqtt5_client_core *c)
{
    uint32_t old_cap = control_cap(c), cap = old_cap * 2u;
    if (cap > 4u * 65536u + 16u) return false; /* more than ids can be outstanding */
    client_control *q = client_alloc(c, cap * sizeof *q);
    if (!q) return false;
    const client_control *old = control_ring(c);
    for (uint32_t i = 0; i < c->control_len; i++)
        q[i] = old[(c->control_head + i) % old_cap];
    if (c->control_grown) client_free(c, c->control.heap, old_cap * sizeof *q);
    c->control.heap = q;
    c->control_grown++; /* at most 16: 4 << 16 entries */
    c->control_head = 0;
    return true;
}

bool client_control_push(mqtt5_client_core *c, uint8_t type, uint16_t packet_id, uint8_t reason)
{
    if (c->control_len == control_cap(c) && !control_grow(c)) return false;
    uint32_t at = (c->control_head + c->control_len) % control_cap(c);
    control_ring(c)[at] = (client_control){type, reason, packet_id};
    c->control_len++;
    return true;
}

void client_control_clear(mqtt5_client_core *c)
{
    if (c->control_grown) client_free(c, c->control.heap, control_cap(c) * sizeof *c->control.heap);
    c->control_grown = 0;
    c->control_head = c->control_len = 0;
}

uint64_t client_op_ready_at(const mqtt5_client_core *c, const client_op *op)
{
    if (op->type != MQTT5_PUBLISH) return c->now;
    /* a QoS 1/2 publish beyond the server's Receive Maximum waits for an ack: no deadline */
    if (op->u.publish.qos > 0 && op->qos2_phase == 0 &&
        c->inflight_publishes >= c->settings.receive_maximum_from_server)
        return MQTT5_TIME_NEVER;
    if (!c->opt.iot_core) return c->now;
    const client_token_bucket *iot = client_iot_buckets_const(c);
    uint64_t a = client_token_bucket_ready_at(&iot[0], c->now);
    uint64_t b = client_token_bucket_ready_at(&iot[1], c->now);
    return a > b ? a : b;
}

/*
 * Ack coalescing. A full window with publishes waiting is a backlog: each ack frees one slot, and
 * reading them one by one costs a wake-up, a read and a write per message. Waiting until three
 * quarters of the window are acknowledged keeps the last quarter in flight (the server has work
 * while this side turns around) and makes that one wake-up, one read and one write for many
 * messages. On the bench (mosquitto's window of 20 on loopback) the publisher's CPU per QoS 1
 * message went from 13.5 to about 2.6 us, and the throughput up by a quarter; half the window
 * measured 3.3 us. Every publish in flight owes at least one ack of 4 bytes or more (PUBACK,
 * PUBREC, PUBCOMP), so the threshold is always reached by acks still to come; anything else that
 * arrives meanwhile (a PINGRESP, a small PUBLISH) waits at most CLIENT_ACK_COALESCE_MS (2 ms on the
 * caller's clock: 1 to 2 ms of real time at millisecond resolution), after which read_wait_over
 * asks for every byte again.
 */
uint32_t client_coalesce_mark(const mqtt5_client_core *c)
{
    uint32_t window = c->settings.receive_maximum_from_server;
    const client_op *head = c->queue.head;
    if (c->state != MQTT5_CS_CONNECTED || !c->opt.ack_coalescing || window < 4 ||
        c->inflight_publishes < window || !head || head->type != MQTT5_PUBLISH ||
        head->u.publish.qos == 0 || head->qos2_phase != 0)
        return 1;
    uint32_t bytes = window / 4 * 3 * 4; /* acks for three quarters of the window */
    return bytes < UINT16_MAX ? bytes : UINT16_MAX;
}

/* now + what is left of `span` ms of which `waited` have passed (now once they all have). */
static uint64_t end_of_span(const mqtt5_client_core *c, uint32_t waited, uint32_t span)
{
    return waited >= span ? c->now : c->now + (span - waited);
}

/* Milliseconds since the last starved wait, modulo 2^16: 65 s, much longer than the pause, which
 * service ends on time; a strike older than that pairs with a new one only by a rare, harmless
 * chance. */
static uint16_t since_strike(const mqtt5_client_core *c)
{
    return (uint16_t)((uint16_t)c->now - c->coalesce_strike_at);
}

uint64_t client_coalesce_pause_end(const mqtt5_client_core *c)
{
    return end_of_span(c, since_strike(c), CLIENT_ACK_PAUSE_MS);
}

uint32_t client_read_low_water(const mqtt5_client_core *c)
{
    if (c->read_wait_over || c->coalesce_paused) return 1;
    return client_coalesce_mark(c);
}

/*
 * A server that sends with Nagle's algorithm on (mosquitto's default) sends the first ack of a
 * burst at once and holds the others until that one is acknowledged by TCP. While this side waits
 * for the mark it reads nothing, so its kernel delays that TCP acknowledgement (40 ms on Linux)
 * and every wait runs to its bound: 2 ms per window, a tenth of the throughput. Such a wait is
 * starved: it ends with the one segment the server sent, one or two packets (an ack, or a
 * PUBLISH for a subscription of ours), where the mark waits for many acks. A slow or descheduled
 * server starves a wait now and then; a Nagle server starves every other one (the next read is
 * the burst our reply released). So a wait that timed out with fewer packets than a quarter of
 * the acks the mark stands for is a strike, and two strikes less than CLIENT_ACK_STRIKE_MS apart
 * pause coalescing for CLIENT_ACK_PAUSE_MS, after which it is tried again: against such a server
 * that costs two waits (4 ms) a second, 0.4% of the time.
 */
void client_read_wait_timed_out(mqtt5_client_core *c, uint32_t mark, uint32_t packets)
{
    if ((uint64_t)packets * 16u >= mark) return; /* mark / 4 acks of 4 bytes, a quarter of them */
    c->coalesce_paused = c->coalesce_struck && since_strike(c) <= CLIENT_ACK_STRIKE_MS;
    if (c->coalesce_paused) client_count(c, CLIENT_STAT_ACK_COALESCING_PAUSES, 1);
    c->coalesce_struck = true;
    c->coalesce_strike_at = (uint16_t)c->now;
}

uint64_t client_read_wait_end(const mqtt5_client_core *c)
{
    /* modulo 2^32: 49 days */
    return end_of_span(c, (uint32_t)c->now - c->read_since, CLIENT_ACK_COALESCE_MS);
}

static bool op_ready(const mqtt5_client_core *c, const client_op *op)
{
    return client_op_ready_at(c, op) <= c->now;
}

bool client_has_output(const mqtt5_client_core *c)
{
    switch (c->state) {
    case MQTT5_CS_MQTT_CONNECT:
        return c->connect_due || c->auth;
    case MQTT5_CS_CLEAN_DISCONNECT:
        return c->disconnect_due;
    case MQTT5_CS_CONNECTED:
        return c->control_len > 0 || c->pubrel_due > 0 || c->ping_due || c->auth ||
               (c->queue.head && op_ready(c, c->queue.head));
    default:
        return false;
    }
}

/* ---- batch building ------------------------------------------------------------------------- */

typedef struct batch {
    uint8_t *buf;
    size_t cap, len;
    bool big; /* buf is c->big_buf */
} batch;

/* Switch an empty batch to a buffer of its own of `size` bytes, for a packet bigger than the
 * batch buffer (it goes out alone). */
static int batch_go_big(mqtt5_client_core *c, batch *b, size_t size)
{
    client_free(c, c->big_buf, c->big_size);
    c->big_buf = client_alloc(c, size);
    c->big_size = c->big_buf ? (uint32_t)size : 0; /* one packet (and 5 bytes): below 2^32 */
    if (!c->big_buf) return MQTT5_ERR_NOMEM;
    b->buf = c->big_buf;
    b->cap = size;
    b->big = true;
    return MQTT5_OK;
}

/* Room for `size` more bytes: 1 = there is, 0 = no room (batch not empty), <0 = error. */
static int batch_room(mqtt5_client_core *c, batch *b, size_t size)
{
    if (b->big && b->len > 0) return 0;
    if (size > b->cap - b->len) {
        if (b->len > 0) return 0;
        return batch_go_big(c, b, size) ? MQTT5_ERR_NOMEM : 1;
    }
    return 1;
}

/* Encode `p` (of encoded size `size`, 0 = compute it) into the batch. 1 = added, 0 = no room
 * (batch not empty), <0 = error. */
static int batch_add(mqtt5_client_core *c, batch *b, const mqtt5_packet *p, size_t size)
{
    size_t written;
    int rc;
    if (!size && (rc = mqtt5_packet_encoded_size(p, &size, NULL))) return rc;
    if ((rc = batch_room(c, b, size)) != 1) return rc;
    /* `size` came from mqtt5_packet_encoded_size, which validated the packet */
    written = encode_validated(p, encode_body_length(size), b->buf + b->len);
    b->len += written;
    client_count(c, CLIENT_STAT_PACKETS_SENT + client_sent_slot[p->type], 1);
    return 1;
}

static int add_connect(mqtt5_client_core *c, batch *b)
{
    mqtt5_packet p;
    client_connect_template(c, &p);
    mqtt5_connect *cn = &p.u.connect;
    cn->clean_start =
        c->opt.session_behavior == MQTT5_SESSION_CLEAN ||
        (c->opt.session_behavior == MQTT5_SESSION_REJOIN_POST_SUCCESS && !c->ever_connected);
    if (c->client_id) cn->client_id = (mqtt5_str){c->client_id, c->client_id_len};
    mqtt5_properties *pr = &cn->properties;
    pr->receive_maximum = c->opt.receive_maximum;
    pr->maximum_packet_size = c->opt.max_inbound_packet_size;
    pr->present |=
        MQTT5_PROP_BIT(MQTT5_PROP_RECEIVE_MAXIMUM) | MQTT5_PROP_BIT(MQTT5_PROP_MAXIMUM_PACKET_SIZE);
    if (c->opt.alias_in_max) { /* alias_in ENABLED, with a maximum */
        pr->topic_alias_maximum = c->opt.alias_in_max;
        pr->present |= MQTT5_PROP_BIT(MQTT5_PROP_TOPIC_ALIAS_MAXIMUM);
    }
    int rc = batch_add(c, b, &p, 0);
    if (rc == 1) c->connect_due = false;
    return rc;
}

static int add_auth(mqtt5_client_core *c, batch *b)
{
    if (!c->auth) return 1;
    mqtt5_packet p = {.type = MQTT5_AUTH};
    p.u.auth = c->auth->packet;
    int rc = batch_add(c, b, &p, 0);
    if (rc == 1) {
        client_packet_copy_free(c, c->auth); /* encoded: the copy is done with */
        c->auth = NULL;
    }
    return rc;
}

static int add_control(mqtt5_client_core *c, batch *b)
{
    int rc = add_auth(c, b);
    if (rc != 1) return rc;
    while (c->control_len) {
        const client_control *ctl = &control_ring(c)[c->control_head];
        mqtt5_packet p = {.type = (mqtt5_packet_type)ctl->type};
        p.u.ack = (mqtt5_ack){.packet_id = ctl->packet_id, .reason_code = ctl->reason};
        rc = batch_add(c, b, &p, 0);
        if (rc != 1) return rc;
        /* an inbound QoS 1/2 message is fully acknowledged (a PUBCOMP 0x92 answered an
         * unknown PUBREL and was never counted) */
        if ((ctl->type == MQTT5_PUBACK ||
             (ctl->type == MQTT5_PUBCOMP && ctl->reason != MQTT5_RC_PACKET_IDENTIFIER_NOT_FOUND)) &&
            c->inbound_unacked)
            c->inbound_unacked--;
        c->control_head = (c->control_head + 1u) % control_cap(c);
        c->control_len--;
    }
    client_control_clear(c); /* all out: a spilled ring goes back */
    for (client_op *op = c->inflight.head; op && c->pubrel_due; op = op->next) {
        if (!op->pubrel_due) continue;
        mqtt5_packet p = {.type = MQTT5_PUBREL};
        p.u.ack = (mqtt5_ack){.packet_id = op->packet_id};
        rc = batch_add(c, b, &p, 0);
        if (rc != 1) return rc;
        op->pubrel_due = false;
        c->pubrel_due--;
    }
    if (c->ping_due) {
        mqtt5_packet p = {.type = MQTT5_PINGREQ};
        rc = batch_add(c, b, &p, 0);
        if (rc != 1) return rc;
        c->ping_due = false; /* pings_sent is packets_sent[PINGREQ] */
        c->ping_at = c->now; /* the PINGRESP is due by then + the ping timeout, the next PINGREQ
                                then + the keep-alive */
        c->ping_outstanding = true;
    }
    return 1;
}

/* Hand out one queued operation. 1 = done (or failed and dropped), 0 = stop the batch. */
/* Give back an identifier taken for an operation that did not go out, so the next operation
 * gets it (identifiers stay consecutive on the wire). */
static void unbind_new_id(mqtt5_client_core *c, client_op *op)
{
    client_packet_ids_release(&c->ids, op->packet_id);
    c->ids.next = op->packet_id;
    op->packet_id = 0;
}

/* Copy an operation's own encoded PUBLISH (publish_encoded) into the batch as it goes out now:
 * its bytes carry DUP 0 and a placeholder packet identifier, set here. 1 / 0 / <0 as batch_add. */
static int batch_add_wire(mqtt5_client_core *c, batch *b, const client_op *op, bool dup)
{
    int rc = batch_room(c, b, op->wire_size);
    if (rc != 1) return rc;
    uint8_t *q = b->buf + b->len;
    memcpy(q, op->wire, op->wire_size);
    if (op->u.publish.qos) {
        q[0] = (uint8_t)(dup ? q[0] | 0x08u : q[0] & ~0x08u);
        q[op->wire_id_at] = (uint8_t)(op->packet_id >> 8);
        q[op->wire_id_at + 1] = (uint8_t)op->packet_id;
    }
    b->len += op->wire_size;
    client_count(c, CLIENT_STAT_PACKETS_SENT + client_sent_slot[MQTT5_PUBLISH], 1);
    return 1;
}

static int add_op(mqtt5_client_core *c, batch *b, client_op *op)
{
    if (!op_ready(c, op)) return 0;
    int rc = op->completed || op->qos2_phase ? MQTT5_OK : client_op_check_settings(c, op);
    if (rc) {
        client_op_finish(c, &c->queue, op, rc, NULL);
        return 1;
    }
    bool new_id = false;
    if (client_op_needs_id(op) && !op->packet_id) {
        /* room for it was made when the operation was accepted */
        op->packet_id = client_packet_ids_acquire(&c->ids);
        if (!op->packet_id) return 0; /* all 65535 identifiers in use */
        new_id = true;
    }
    mqtt5_packet p = {.type = op->type};
    size_t size = 0;
    bool as_encoded = false; /* the operation's own bytes go out unchanged (but id and DUP) */
    switch (op->type) {
    case MQTT5_PUBLISH:
        p.u.publish = op->u.publish;
        break;
    case MQTT5_SUBSCRIBE:
        p.u.subscribe = op->u.subscribe;
        break;
    default:
        p.u.unsubscribe = op->u.unsubscribe;
        break;
    }
    if (p.type == MQTT5_PUBLISH && op->qos2_phase == 1) {
        /* QoS 2 second phase resumed in a new connection: PUBREL, not the PUBLISH */
        p.type = MQTT5_PUBREL;
        p.u.ack = (mqtt5_ack){.packet_id = op->packet_id};
    } else if (p.type == MQTT5_PUBLISH) {
        mqtt5_publish *pub = &p.u.publish;
        pub->packet_id = pub->qos ? op->packet_id : 0;
        pub->dup = pub->qos && op->sent;
        uint16_t alias = 0;
        bool send_topic = true;
        uint16_t user_alias = MQTT5_PROPS_HAS(&pub->properties, MQTT5_PROP_TOPIC_ALIAS)
                                  ? pub->properties.topic_alias
                                  : 0;
        if (c->opt.alias_out == MQTT5_ALIAS_OUT_LRU) {
            /* An alias binding is made only when the packet surely goes out now: a binding the
             * server never saw would make the next alias-only PUBLISH a protocol error. Worst
             * case is the whole topic plus the property (3 bytes, and up to one more byte in
             * each of the two lengths). */
            size_t worst;
            rc = mqtt5_packet_encoded_size(&p, &worst, NULL);
            if (rc) goto fail;
            worst += 5;
            if (c->settings.max_packet_size_to_server &&
                worst > c->settings.max_packet_size_to_server) {
                rc = MQTT5_ERR_PACKET_TOO_LARGE;
                goto fail;
            }
            if (b->big || (b->len > 0 && worst > b->cap - b->len)) {
                if (new_id) unbind_new_id(c, op);
                return 0;
            }
            /* a packet going out alone gets its buffer before the alias is bound */
            if (worst > b->cap && (rc = batch_go_big(c, b, worst))) goto fail;
        }
        mqtt5_allocator counted = client_counted(c);
        client_alias_out aliases;
        client_aliases_open(c, &counted, &aliases);
        rc = client_alias_out_resolve(&aliases, pub->topic, user_alias, &alias, &send_topic);
        client_aliases_close(c, &aliases);
        if (rc) goto fail;
        if (alias) {
            pub->properties.topic_alias = alias;
            pub->properties.present |= MQTT5_PROP_BIT(MQTT5_PROP_TOPIC_ALIAS);
            if (!send_topic) pub->topic = (mqtt5_str){"", 0};
        } else {
            pub->properties.present &= ~MQTT5_PROP_BIT(MQTT5_PROP_TOPIC_ALIAS);
        }
        as_encoded = op->wire && !alias && !user_alias;
    } else if (p.type == MQTT5_SUBSCRIBE) {
        p.u.subscribe.packet_id = op->packet_id;
    } else {
        p.u.unsubscribe.packet_id = op->packet_id;
    }

    if (as_encoded) {
        size = op->wire_size;
    } else {
        rc = mqtt5_packet_encoded_size(&p, &size, NULL);
        if (rc) goto fail;
    }
    if (c->settings.max_packet_size_to_server && size > c->settings.max_packet_size_to_server) {
        rc = MQTT5_ERR_PACKET_TOO_LARGE;
        goto fail;
    }
    rc = as_encoded ? batch_add_wire(c, b, op, p.u.publish.dup) : batch_add(c, b, &p, size);
    if (rc == 0) {
        if (new_id) unbind_new_id(c, op);
        return 0;
    }
    if (rc < 0) goto fail;

    op_list_remove(&c->queue, op);
    if (p.type == MQTT5_PUBLISH && c->opt.iot_core) {
        client_token_bucket *iot = client_iot_buckets(c);
        client_token_bucket_take(&iot[0], 1, c->now);
        client_token_bucket_take(&iot[1], size, c->now);
    }
    if (p.type == MQTT5_PUBLISH && p.u.publish.qos == 0) {
        client_op_complete(c, op, MQTT5_OK, NULL);
        client_op_free(c, op);
        return 1;
    }
    op->sent = true;
    op->deadline = op->ack_timeout_ms ? c->now + op->ack_timeout_ms : MQTT5_TIME_NEVER;
    if (op->type == MQTT5_PUBLISH) c->inflight_publishes++;
    op_list_push_back(&c->inflight, op);
    return 1;

fail:
    /* the operation cannot be sent on this connection as it is: fail it alone */
    if (new_id) unbind_new_id(c, op);
    client_op_finish(c, &c->queue, op, rc, NULL);
    return 1;
}

/* Wipe and free the one-off buffer of a big packet. */
static void drop_big(mqtt5_client_core *c)
{
    mqtt5_wipe(c->big_buf, c->big_size);
    client_free(c, c->big_buf, c->big_size);
    c->big_buf = NULL;
    c->big_size = 0;
}

void client_send_release(mqtt5_client_core *c)
{
    drop_big(c);
    mqtt5_wipe(c->out_buf, c->out_used == UINT32_MAX ? c->out_cap : c->out_used);
    client_free(c, c->out_buf, c->out_cap);
    c->out_buf = NULL;
    c->out_used = 0;
}

/* Build one batch in buf[0..cap) (a bigger packet alone in big_buf) and hand it out. */
static void send_batch(mqtt5_client_core *c, uint8_t *buf, size_t cap, const uint8_t **data,
                       size_t *len)
{
    batch b = {buf, cap, 0, false};
    int rc = 1;
    switch (c->state) {
    case MQTT5_CS_MQTT_CONNECT:
        if (c->connect_due) rc = add_connect(c, &b);
        if (rc == 1 && !c->connect_due) rc = add_auth(c, &b);
        break;
    case MQTT5_CS_CONNECTED:
        rc = add_control(c, &b);
        while (rc == 1 && c->queue.head && c->state == MQTT5_CS_CONNECTED)
            rc = add_op(c, &b, c->queue.head);
        break;
    case MQTT5_CS_CLEAN_DISCONNECT:
        if (c->disconnect_due) {
            mqtt5_packet p = {.type = MQTT5_DISCONNECT};
            p.u.disconnect = c->disconnect_copy
                                 ? c->disconnect_copy->packet
                                 : (mqtt5_disconnect){.reason_code = c->disconnect_reason};
            rc = batch_add(c, &b, &p, 0);
            if (rc == 1) {
                c->disconnect_due = false;
                c->state = MQTT5_CS_CLOSING; /* nothing more after a DISCONNECT */
            }
        }
        break;
    default:
        break;
    }
    if (rc < 0 && c->state != MQTT5_CS_CLOSING)
        /* no DISCONNECT before the CONNECT went out: nothing may precede it */
        client_fail_connection(c, rc, c->connect_due ? 0 : MQTT5_RC_IMPLEMENTATION_SPECIFIC_ERROR,
                               NULL, NULL);
    if (b.len) {
        c->read_since = (uint32_t)c->now;
        client_count(c, CLIENT_STAT_BYTES_SENT, b.len);
        client_count(c, CLIENT_STAT_BATCHES_SENT, 1);
        *data = b.buf;
        *len = b.len;
    }
}

int mqtt5_client_core_mem_send(mqtt5_client_core *c, uint64_t now, const uint8_t **data,
                               size_t *len)
{
    *data = NULL;
    *len = 0;
    if (c->in_callback) return MQTT5_ERR_BUSY;
    if (now > c->now) c->now = now;
    if (!c->transport_open) return MQTT5_OK;
    drop_big(c);
    if (!client_has_output(c)) return MQTT5_OK;
    if (!c->out_buf) {
        c->out_buf = client_alloc(c, c->out_cap);
        if (!c->out_buf) {
            if (c->state == MQTT5_CS_CLEAN_DISCONNECT) {
                /* the end of the connection was reported already: close without DISCONNECT */
                c->disconnect_due = false;
                c->state = MQTT5_CS_CLOSING;
            } else {
                /* nothing can be written on this connection: CONNECTION_FAILURE or
                 * DISCONNECTION with MQTT5_ERR_NOMEM, then close */
                client_fail_connection(c, MQTT5_ERR_NOMEM, 0, NULL, NULL);
            }
            return MQTT5_OK;
        }
    }
    send_batch(c, c->out_buf, c->out_cap, data, len);
    if (*data == c->out_buf && *len > c->out_used)
        c->out_used = *len < UINT32_MAX ? (uint32_t)*len : UINT32_MAX; /* UINT32_MAX: all */
    return MQTT5_OK;
}

int mqtt5_client_core_mem_send_buf(mqtt5_client_core *c, uint64_t now, uint8_t *buf, size_t cap,
                                   const uint8_t **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    if (!buf || cap < 64) return MQTT5_ERR_INVALID_ARGUMENT;
    if (c->in_callback) return MQTT5_ERR_BUSY;
    if (now > c->now) c->now = now;
    if (!c->transport_open) return MQTT5_OK;
    drop_big(c);
    send_batch(c, buf, cap, data, len);
    return MQTT5_OK;
}
