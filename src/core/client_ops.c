/*
 * client_ops.c - user operations of the client core: validation at submit (specification, client
 * rules, negotiated settings, AWS IoT Core limits, offline policy, queue bounds), the deep copy,
 * the queues, completion, ack timeouts, and what happens to operations when a connection ends and
 * when the next CONNACK says whether the session was resumed.
 */
#include <string.h>

#include "core/client_copy.h"
#include "core/client_internal.h"
#include "core/client_iot_core.h"
#include "mqtt5/topic.h"

/* ---- lists ---------------------------------------------------------------------------------- */

void op_list_push_back(client_op_list *l, client_op *op)
{
    op->next = NULL;
    op->prev = l->tail;
    if (l->tail)
        l->tail->next = op;
    else
        l->head = op;
    l->tail = op;
}

void op_list_push_front(client_op_list *l, client_op *op)
{
    op->prev = NULL;
    op->next = l->head;
    if (l->head)
        l->head->prev = op;
    else
        l->tail = op;
    l->head = op;
}

void op_list_remove(client_op_list *l, client_op *op)
{
    if (op->prev)
        op->prev->next = op->next;
    else
        l->head = op->next;
    if (op->next)
        op->next->prev = op->prev;
    else
        l->tail = op->prev;
    op->prev = op->next = NULL;
}

/* ---- completion ----------------------------------------------------------------------------- */

void client_op_complete(mqtt5_client_core *c, client_op *op, int error, const mqtt5_packet *ack)
{
    if (op->completed) return;
    op->completed = true;
    c->incomplete_ops--;
    c->incomplete_bytes -= op->wire_size;
    mqtt5_op_completion done = {op->id, op->user_ctx, op->type, error, ack};
    c->in_callback++;
    c->cb.on_complete(c->cb.user, &done);
    c->in_callback--;
}

/* publish_encoded records are kept for reuse while operations are pending: a stream of
 * publishes then costs no allocator call per message; an idle core keeps none. */
void client_ops_free_spares(mqtt5_client_core *c)
{
    while (c->spare_ops) {
        client_op *op = c->spare_ops;
        c->spare_ops = op->next;
        client_free(c, op, sizeof *op);
    }
}

void client_op_free(mqtt5_client_core *c, client_op *op)
{
    if (client_op_needs_id(op)) {
        c->id_ops--;
        mqtt5_allocator counted = client_counted(c);
        client_packet_ids_trim(&c->ids, &counted, c->id_ops);
    }
    bool borrowed = op->wire != NULL;
    void *user_ctx = op->user_ctx;
    if (borrowed && c->incomplete_ops > 0) {
        /* more operations are on their way: keep the record for the next publish_encoded */
        op->next = c->spare_ops;
        c->spare_ops = op;
    } else {
        client_free(c, op, op->alloc_size);
        if (c->incomplete_ops == 0) client_ops_free_spares(c); /* idle: hold nothing */
    }
    if (borrowed) { /* the caller may free the bytes now */
        client_wire_released_fn on_wire_released = client_cb_wire_released(c);
        c->in_callback++;
        on_wire_released(c->cb.user, user_ctx);
        c->in_callback--;
    }
}

void client_op_finish(mqtt5_client_core *c, client_op_list *l, client_op *op, int error,
                      const mqtt5_packet *ack)
{
    if (op->pubrel_due) {
        op->pubrel_due = false;
        c->pubrel_due--;
    }
    op_list_remove(l, op);
    if (op->packet_id) client_packet_ids_release(&c->ids, op->packet_id);
    if (l == &c->inflight && op->type == MQTT5_PUBLISH && c->inflight_publishes)
        c->inflight_publishes--;
    client_op_complete(c, op, error, ack);
    client_op_free(c, op);
}

void client_ops_fail_all(mqtt5_client_core *c, int error)
{
    while (c->inflight.head)
        client_op_finish(c, &c->inflight, c->inflight.head, error, NULL);
    while (c->queue.head)
        client_op_finish(c, &c->queue, c->queue.head, error, NULL);
}

client_op *client_inflight_find(mqtt5_client_core *c, uint8_t op_type, uint16_t packet_id)
{
    /* acks mostly arrive in order, so the oldest entries are the likely ones */
    for (client_op *op = c->inflight.head; op; op = op->next)
        if (op->packet_id == packet_id && op->type == op_type) return op;
    return NULL;
}

void client_ops_service_timeouts(mqtt5_client_core *c)
{
    for (client_op *op = c->inflight.head; op; op = op->next) {
        if (!op->completed && op->deadline <= c->now) {
            /* fail the operation but keep its packet id until the ack comes or the connection
             * ends, so a late ack cannot complete a newer operation that reused the id */
            client_count(c, CLIENT_STAT_ACK_TIMEOUTS, 1);
            client_op_complete(c, op, MQTT5_ERR_ACK_TIMEOUT, NULL);
        }
    }
}

uint64_t client_ops_next_deadline(const mqtt5_client_core *c)
{
    uint64_t next = MQTT5_TIME_NEVER;
    for (const client_op *op = c->inflight.head; op; op = op->next)
        if (!op->completed && op->deadline < next) next = op->deadline;
    return next;
}

/* ---- connection boundaries ------------------------------------------------------------------ */

static bool policy_keeps(const mqtt5_client_core *c, const client_op *op)
{
    bool publish = op->type == MQTT5_PUBLISH;
    uint8_t qos = publish ? op->u.publish.qos : 0;
    switch (c->opt.offline_policy) {
    case MQTT5_OFFLINE_FAIL_ALL_ON_DISCONNECT:
        return false;
    case MQTT5_OFFLINE_FAIL_NON_QOS1_PUBLISH_ON_DISCONNECT:
        return publish && qos > 0;
    default:
        return !publish || qos > 0;
    }
}

void client_ops_on_disconnect(mqtt5_client_core *c)
{
    /* unacked operations go back to the front of the queue, oldest first */
    c->pubrel_due = 0; /* phase-2 operations send their PUBREL from the queue if resumed */
    while (c->inflight.tail) {
        client_op *op = c->inflight.tail;
        op->pubrel_due = false;
        op_list_remove(&c->inflight, op);
        if (op->type == MQTT5_PUBLISH) {
            if (c->inflight_publishes) c->inflight_publishes--;
        } else if (op->packet_id) {
            /* SUBSCRIBE/UNSUBSCRIBE are sent again with a new identifier */
            client_packet_ids_release(&c->ids, op->packet_id);
            op->packet_id = 0;
        }
        op_list_push_front(&c->queue, op);
    }
    client_op *op = c->queue.head;
    while (op) {
        client_op *next = op->next;
        if (op->completed || (op->type == MQTT5_PUBLISH && op->packet_id)) {
            /* unacked publishes (and ones whose ack timed out) wait for the CONNACK: if the
             * server kept the session it holds their packet ids and they must be resent */
        } else if (!policy_keeps(c, op)) {
            client_op_finish(c, &c->queue, op, MQTT5_ERR_OFFLINE_POLICY, NULL);
        }
        op = next;
    }
}

int client_op_check_settings(const mqtt5_client_core *c, const client_op *op)
{
    const client_settings *s = &c->settings;
    if (op->type == MQTT5_PUBLISH) {
        const mqtt5_publish *p = &op->u.publish;
        if (p->qos > s->maximum_qos || (p->retain && !s->retain_available))
            return MQTT5_ERR_NOT_AVAILABLE;
        if (MQTT5_PROPS_HAS(&p->properties, MQTT5_PROP_TOPIC_ALIAS) &&
            p->properties.topic_alias > s->topic_alias_max_to_server)
            return MQTT5_ERR_NOT_AVAILABLE;
    } else if (op->type == MQTT5_SUBSCRIBE) {
        const mqtt5_subscribe *sub = &op->u.subscribe;
        if (sub->properties.subscription_identifier_count && !s->subscription_ids_available)
            return MQTT5_ERR_NOT_AVAILABLE;
        for (size_t i = 0; i < sub->subscription_count; i++) {
            mqtt5_str f = sub->subscriptions[i].topic_filter;
            if ((!s->wildcard_available && mqtt5_topic_filter_has_wildcard(f.ptr, f.len)) ||
                (!s->shared_available && mqtt5_topic_filter_is_shared(f.ptr, f.len)))
                return MQTT5_ERR_NOT_AVAILABLE;
        }
    }
    if (s->max_packet_size_to_server && op->wire_size > s->max_packet_size_to_server)
        return MQTT5_ERR_PACKET_TOO_LARGE;
    return MQTT5_OK;
}

void client_ops_on_connack(mqtt5_client_core *c)
{
    /* operations queued while offline meet this server's limits only now: fail the ones that
     * cannot go, so what is left can be handed out */
    for (client_op *op = c->queue.head, *next; op; op = next) {
        next = op->next;
        int rc = op->completed ? MQTT5_OK : client_op_check_settings(c, op);
        if (rc && !(op->type == MQTT5_PUBLISH && op->qos2_phase == 1))
            client_op_finish(c, &c->queue, op, rc, NULL);
    }
    if (c->session_resumed)
        return; /* keep identifiers: resend with DUP, PUBREL for phase 2;
                   timed-out ones too, silently, so their ids are freed */
    client_op *op = c->queue.head;
    while (op) {
        client_op *next = op->next;
        if (op->completed) {
            op_list_remove(&c->queue, op);
            if (op->packet_id) client_packet_ids_release(&c->ids, op->packet_id);
            client_op_free(c, op);
        } else if (op->type == MQTT5_PUBLISH && op->u.publish.qos == 2 && op->qos2_phase == 1) {
            /* the server had accepted it (PUBREC) before the session was lost: delivered */
            client_op_finish(c, &c->queue, op, MQTT5_OK, NULL);
        } else if (op->packet_id) {
            if (!policy_keeps(c, op)) {
                client_op_finish(c, &c->queue, op, MQTT5_ERR_OFFLINE_POLICY, NULL);
            } else {
                client_packet_ids_release(&c->ids, op->packet_id);
                op->packet_id = 0;
                op->sent = false; /* a new session: a new message, not a duplicate */
            }
        }
        op = next;
    }
}

/* ---- submit --------------------------------------------------------------------------------- */

static int refuse(mqtt5_codec_status *st, int err, const char *field, const char *detail)
{
    if (st) *st = (mqtt5_codec_status){.error = err, .field = field, .detail = detail};
    return err;
}

static bool online(const mqtt5_client_core *c)
{
    return c->state == MQTT5_CS_CONNECTED;
}

static int check_offline(const mqtt5_client_core *c, bool publish, uint8_t qos,
                         mqtt5_codec_status *st)
{
    if (online(c)) return MQTT5_OK;
    client_op probe = {0};
    probe.type = publish ? MQTT5_PUBLISH : MQTT5_SUBSCRIBE;
    probe.u.publish.qos = qos;
    if (policy_keeps(c, &probe)) return MQTT5_OK;
    return refuse(st, MQTT5_ERR_OFFLINE_POLICY, NULL,
                  "not connected, and the offline queue policy does not keep this operation");
}

/* The client's rules for a PUBLISH checked before its encoded size is known. */
static int validate_publish_rules(mqtt5_client_core *c, const mqtt5_publish *p,
                                  mqtt5_codec_status *st)
{
    if (p->topic.len == 0)
        return refuse(st, MQTT5_ERR_INVALID_TOPIC, "topic", "a topic name is required");
    if (p->properties.subscription_identifier_count)
        return refuse(st, MQTT5_ERR_INVALID_ARGUMENT, "properties.subscriptionIdentifier",
                      "a client must not send subscription identifiers in PUBLISH");
    if (MQTT5_PROPS_HAS(&p->properties, MQTT5_PROP_TOPIC_ALIAS) &&
        c->opt.alias_out != MQTT5_ALIAS_OUT_MANUAL)
        return refuse(st, MQTT5_ERR_INVALID_ARGUMENT, "properties.topicAlias",
                      "topic aliases are chosen by the client unless alias_out is MANUAL");
    return MQTT5_OK;
}

/* Limits of the connection (or the offline policy) for a PUBLISH of `wire` encoded bytes. */
static int validate_publish_limits(mqtt5_client_core *c, const mqtt5_publish *p, size_t wire,
                                   mqtt5_codec_status *st)
{
    int rc;
    bool has_alias = MQTT5_PROPS_HAS(&p->properties, MQTT5_PROP_TOPIC_ALIAS);
    if (c->opt.iot_core && (rc = client_iot_core_check_publish(p, st))) return rc;
    if (online(c)) {
        const client_settings *s = &c->settings;
        if (p->qos > s->maximum_qos)
            return refuse(st, MQTT5_ERR_NOT_AVAILABLE, "qos", "above the server's Maximum QoS");
        if (p->retain && !s->retain_available)
            return refuse(st, MQTT5_ERR_NOT_AVAILABLE, "retain", "the server has no retain");
        if (has_alias && p->properties.topic_alias > s->topic_alias_max_to_server)
            return refuse(st, MQTT5_ERR_NOT_AVAILABLE, "properties.topicAlias",
                          "above the server's Topic Alias Maximum");
        if (s->max_packet_size_to_server && wire > s->max_packet_size_to_server)
            return refuse(st, MQTT5_ERR_PACKET_TOO_LARGE, "payload",
                          "above the server's Maximum Packet Size");
    }
    return check_offline(c, true, p->qos, st);
}

static int validate_publish(mqtt5_client_core *c, const mqtt5_publish *p, size_t *wire,
                            mqtt5_codec_status *st)
{
    if (p->packet_id)
        return refuse(st, MQTT5_ERR_INVALID_ARGUMENT, "messageId", "set by the client");
    if (p->dup) return refuse(st, MQTT5_ERR_INVALID_ARGUMENT, "dup", "set by the client");
    int rc = validate_publish_rules(c, p, st);
    if (rc) return rc;
    mqtt5_packet pk = {.type = MQTT5_PUBLISH};
    pk.u.publish = *p;
    if (p->qos) pk.u.publish.packet_id = 1;
    rc = mqtt5_packet_encoded_size(&pk, wire, st);
    return rc ? rc : validate_publish_limits(c, p, *wire, st);
}

static int validate_subscribe(mqtt5_client_core *c, const mqtt5_subscribe *s, size_t *wire,
                              mqtt5_codec_status *st)
{
    if (s->packet_id)
        return refuse(st, MQTT5_ERR_INVALID_ARGUMENT, "messageId", "set by the client");
    mqtt5_packet pk = {.type = MQTT5_SUBSCRIBE};
    pk.u.subscribe = *s;
    pk.u.subscribe.packet_id = 1;
    int rc = mqtt5_packet_encoded_size(&pk, wire, st);
    if (rc) return rc;
    if (c->opt.iot_core && (rc = client_iot_core_check_subscribe(s, st))) return rc;
    if (online(c)) {
        const client_settings *set = &c->settings;
        if (s->properties.subscription_identifier_count && !set->subscription_ids_available)
            return refuse(st, MQTT5_ERR_NOT_AVAILABLE, "properties.subscriptionIdentifier",
                          "the server has no subscription identifiers");
        mqtt5_iter it = {0, 0};
        mqtt5_subscription sub;
        while (mqtt5_subscribe_next(s, &it, &sub)) {
            const char *f = sub.topic_filter.ptr;
            size_t n = sub.topic_filter.len;
            if (!set->wildcard_available && mqtt5_topic_filter_has_wildcard(f, n))
                return refuse(st, MQTT5_ERR_NOT_AVAILABLE, "subscriptions.topic",
                              "the server has no wildcard subscriptions");
            if (!set->shared_available && mqtt5_topic_filter_is_shared(f, n))
                return refuse(st, MQTT5_ERR_NOT_AVAILABLE, "subscriptions.topic",
                              "the server has no shared subscriptions");
        }
        if (set->max_packet_size_to_server && *wire > set->max_packet_size_to_server)
            return refuse(st, MQTT5_ERR_PACKET_TOO_LARGE, "subscriptions",
                          "above the server's Maximum Packet Size");
    }
    return check_offline(c, false, 0, st);
}

static int validate_unsubscribe(mqtt5_client_core *c, const mqtt5_unsubscribe *u, size_t *wire,
                                mqtt5_codec_status *st)
{
    if (u->packet_id)
        return refuse(st, MQTT5_ERR_INVALID_ARGUMENT, "messageId", "set by the client");
    mqtt5_packet pk = {.type = MQTT5_UNSUBSCRIBE};
    pk.u.unsubscribe = *u;
    pk.u.unsubscribe.packet_id = 1;
    int rc = mqtt5_packet_encoded_size(&pk, wire, st);
    if (rc) return rc;
    if (c->opt.iot_core && (rc = client_iot_core_check_unsubscribe(u, st))) return rc;
    if (online(c) && c->settings.max_packet_size_to_server &&
        *wire > c->settings.max_packet_size_to_server)
        return refuse(st, MQTT5_ERR_PACKET_TOO_LARGE, "unsubscriptions",
                      "above the server's Maximum Packet Size");
    return check_offline(c, false, 0, st);
}

static int check_bounds(mqtt5_client_core *c, size_t wire, mqtt5_codec_status *st)
{
    if (c->incomplete_ops >= c->opt.max_queued_ops)
        return refuse(st, MQTT5_ERR_QUEUE_FULL, NULL, "max_queued_ops operations are pending");
    if (c->opt.max_queued_bytes && c->incomplete_bytes + wire > c->opt.max_queued_bytes)
        return refuse(st, MQTT5_ERR_QUEUE_FULL, NULL, "max_queued_bytes bytes are pending");
    return MQTT5_OK;
}

static int queue_op(mqtt5_client_core *c, client_op *op, size_t wire, const mqtt5_op_options *opt,
                    uint64_t *op_id, mqtt5_codec_status *st);

/* Copy `src` (of `type`) into a new operation and queue it. */
static int submit(mqtt5_client_core *c, mqtt5_packet_type type, const void *src, size_t wire,
                  const mqtt5_op_options *opt, uint64_t *op_id, mqtt5_codec_status *st)
{
    int rc = check_bounds(c, wire, st);
    if (rc) return rc;
    copier cp = {NULL, sizeof(client_op)};
    switch (type) {
    case MQTT5_PUBLISH:
        copy_publish(&cp, NULL, src);
        break;
    case MQTT5_SUBSCRIBE:
        copy_subscribe(&cp, NULL, src);
        break;
    default:
        copy_unsubscribe(&cp, NULL, src);
        break;
    }
    size_t size = cp.used;
    client_op *op = client_alloc(c, size);
    if (!op) return refuse(st, MQTT5_ERR_NOMEM, NULL, "operation copy");
    memset(op, 0, sizeof *op);
    cp = (copier){(uint8_t *)op, sizeof(client_op)};
    op->type = type;
    switch (type) {
    case MQTT5_PUBLISH:
        copy_publish(&cp, &op->u.publish, src);
        break;
    case MQTT5_SUBSCRIBE:
        copy_subscribe(&cp, &op->u.subscribe, src);
        break;
    default:
        copy_unsubscribe(&cp, &op->u.unsubscribe, src);
        break;
    }
    op->alloc_size = size;
    return queue_op(c, op, wire, opt, op_id, st);
}

/* Queue a filled-in operation (alloc_size set); on failure it is freed. */
static int queue_op(mqtt5_client_core *c, client_op *op, size_t wire, const mqtt5_op_options *opt,
                    uint64_t *op_id, mqtt5_codec_status *st)
{
    if (client_op_needs_id(op)) {
        /* the identifier is bound at hand-out, where running out of memory has no caller */
        mqtt5_allocator counted = client_counted(c);
        if (!client_packet_ids_room(&c->ids, &counted, c->id_ops + 1u)) {
            client_free(c, op, op->alloc_size);
            return refuse(st, MQTT5_ERR_NOMEM, NULL, "packet identifiers");
        }
        c->id_ops++;
    }
    op->wire_size = wire;
    op->id = c->next_op_id++;
    op->user_ctx = opt ? opt->user_ctx : NULL;
    op->ack_timeout_ms = opt && opt->ack_timeout_ms ? opt->ack_timeout_ms : c->opt.ack_timeout_ms;
    op->deadline = MQTT5_TIME_NEVER;
    op_list_push_back(&c->queue, op);
    c->incomplete_ops++;
    c->incomplete_bytes += wire;
    if (op_id) *op_id = op->id;
    return MQTT5_OK;
}

int mqtt5_client_core_publish(mqtt5_client_core *c, uint64_t now, const mqtt5_publish *p,
                              const mqtt5_op_options *opt, uint64_t *op_id, mqtt5_codec_status *st)
{
    size_t wire;
    if (st) *st = (mqtt5_codec_status){0};
    if (now > c->now) c->now = now;
    int rc = validate_publish(c, p, &wire, st);
    return rc ? rc : submit(c, MQTT5_PUBLISH, p, wire, opt, op_id, st);
}

/* A cheap check that `wire` is one whole PUBLISH agreeing with `view` where the core relies on
 * it when sending the bytes as they are: its length, QoS, DUP 0, and the topic length that
 * places the packet identifier (the codec's checks are the caller's). */
static bool wire_matches_view(const uint8_t *wire, size_t len, const mqtt5_publish *view,
                              size_t *id_at)
{
    if (!wire || len < 2 || (wire[0] & 0xF0u) != 0x30u || (wire[0] & 0x08u) || view->dup ||
        ((wire[0] >> 1) & 3u) != view->qos)
        return false;
    size_t rem = 0, at = 1;
    for (unsigned shift = 0;; shift += 7, at++) {
        if (at >= len || at > 4) return false;
        rem |= (size_t)(wire[at] & 0x7Fu) << shift;
        if (!(wire[at] & 0x80u)) break;
    }
    size_t body = at + 1; /* first byte after the remaining length */
    if (body + rem != len || rem < 2) return false;
    size_t topic_len = (size_t)wire[body] << 8 | wire[body + 1];
    *id_at = body + 2 + topic_len; /* right after the topic name */
    return topic_len == view->topic.len && *id_at + (view->qos ? 2u : 0u) <= len;
}

int mqtt5_client_core_publish_encoded(mqtt5_client_core *c, uint64_t now, const mqtt5_publish *view,
                                      const uint8_t *wire, size_t wire_len,
                                      const mqtt5_op_options *opt, uint64_t *op_id,
                                      mqtt5_codec_status *st)
{
    if (st) *st = (mqtt5_codec_status){0};
    if (now > c->now) c->now = now;
    if (!c->opt.wire_released)
        return refuse(st, MQTT5_ERR_INVALID_ARGUMENT, "callbacks.on_wire_released",
                      "required to publish without a copy");
    size_t id_at = 0;
    if (!wire_matches_view(wire, wire_len, view, &id_at))
        return refuse(st, MQTT5_ERR_INVALID_ARGUMENT, "wire", "not the PUBLISH `view` came from");
    int rc = validate_publish_rules(c, view, st);
    if (!rc) rc = validate_publish_limits(c, view, wire_len, st);
    if (!rc) rc = check_bounds(c, wire_len, st);
    if (rc) return rc;
    client_op *op = c->spare_ops;
    if (op) {
        c->spare_ops = op->next;
    } else if (!(op = client_alloc(c, sizeof *op))) {
        return refuse(st, MQTT5_ERR_NOMEM, NULL, "operation");
    }
    /* field by field, not zeroed first: this runs once per message (queue_op sets the rest) */
    op->type = MQTT5_PUBLISH;
    op->u.publish = *view; /* views into wire, which the caller keeps until released */
    op->u.publish.packet_id = 0;
    op->wire = wire;
    op->wire_id_at = (uint32_t)id_at;
    op->alloc_size = sizeof *op;
    op->packet_id = 0;
    op->qos2_phase = 0;
    op->sent = op->completed = op->pubrel_due = false;
    return queue_op(c, op, wire_len, opt, op_id, st);
}

int mqtt5_client_core_subscribe(mqtt5_client_core *c, uint64_t now, const mqtt5_subscribe *s,
                                const mqtt5_op_options *opt, uint64_t *op_id,
                                mqtt5_codec_status *st)
{
    size_t wire;
    if (st) *st = (mqtt5_codec_status){0};
    if (now > c->now) c->now = now;
    int rc = validate_subscribe(c, s, &wire, st);
    return rc ? rc : submit(c, MQTT5_SUBSCRIBE, s, wire, opt, op_id, st);
}

int mqtt5_client_core_unsubscribe(mqtt5_client_core *c, uint64_t now, const mqtt5_unsubscribe *u,
                                  const mqtt5_op_options *opt, uint64_t *op_id,
                                  mqtt5_codec_status *st)
{
    size_t wire;
    if (st) *st = (mqtt5_codec_status){0};
    if (now > c->now) c->now = now;
    int rc = validate_unsubscribe(c, u, &wire, st);
    return rc ? rc : submit(c, MQTT5_UNSUBSCRIBE, u, wire, opt, op_id, st);
}
