/*
 * client_recv.c - what the client core does with each packet from the server: CONNACK, PUBLISH in
 * at QoS 0/1/2 (exactly-once delivery for QoS 2, our Receive Maximum, inbound topic aliases,
 * manual acknowledgement), the acknowledgements of our operations, PINGRESP and DISCONNECT.
 * Anything the server must not send is answered with DISCONNECT 0x82 (or the specific code).
 */
#include "core/client_internal.h"

static void protocol_error(mqtt5_client_core *c, int error, uint8_t reason)
{
    client_fail_connection(c, error, reason, NULL, NULL);
}

/* ack handle = generation (32 bits) | QoS (8 bits) | packet id (16 bits) */
static uint64_t make_handle(const mqtt5_client_core *c, uint8_t qos, uint16_t id)
{
    return ((uint64_t)c->generation << 32) | ((uint64_t)qos << 16) | id;
}

static void owe_control(mqtt5_client_core *c, uint8_t type, uint16_t id, uint8_t reason)
{
    if (!client_control_push(c, type, id, reason))
        protocol_error(c, MQTT5_ERR_NOMEM, MQTT5_RC_IMPLEMENTATION_SPECIFIC_ERROR);
}

static void on_publish(mqtt5_client_core *c, const mqtt5_packet *pk)
{
    mqtt5_publish pub = pk->u.publish;
    if (MQTT5_PROPS_HAS(&pub.properties, MQTT5_PROP_TOPIC_ALIAS)) {
        mqtt5_allocator counted = client_counted(c);
        client_alias_in in = {c->alias_in, c->opt.alias_in_max};
        int rc = client_alias_in_resolve(&in, &counted, pub.properties.topic_alias, &pub.topic);
        c->alias_in = in.slots;
        if (rc) {
            protocol_error(c, rc,
                           rc == MQTT5_ERR_TOPIC_ALIAS_INVALID ? MQTT5_RC_TOPIC_ALIAS_INVALID
                           : rc == MQTT5_ERR_NOMEM ? MQTT5_RC_IMPLEMENTATION_SPECIFIC_ERROR
                                                   : MQTT5_RC_PROTOCOL_ERROR);
            return;
        }
    }
    if (pub.qos == 2 && client_packet_ids_is_used(&c->inbound_qos2, pub.packet_id)) {
        /* a resend of a message already delivered: acknowledge again (unless the user holds the
         * PUBREC), never deliver twice */
        if (!client_packet_ids_is_used(&c->held_acks, pub.packet_id))
            owe_control(c, MQTT5_PUBREC, pub.packet_id, 0);
        return;
    }
    if (pub.qos > 0) {
        mqtt5_allocator counted = client_counted(c);
        if (c->inbound_unacked >= c->opt.receive_maximum) {
            if (c->opt.receive_maximum_strict) {
                protocol_error(c, MQTT5_ERR_PROTOCOL_ERROR, MQTT5_RC_RECEIVE_MAXIMUM_EXCEEDED);
                return;
            }
            /* tolerated: deliver, acknowledge */
            client_count(c, CLIENT_STAT_RECEIVE_MAXIMUM_EXCEEDED, 1);
        }
        if (pub.qos == 2 &&
            !client_packet_ids_room(&c->inbound_qos2, &counted, c->inbound_qos2.in_use + 1u)) {
            protocol_error(c, MQTT5_ERR_NOMEM, MQTT5_RC_IMPLEMENTATION_SPECIFIC_ERROR);
            return;
        }
        c->inbound_unacked++;
        if (pub.qos == 2) client_packet_ids_reserve(&c->inbound_qos2, pub.packet_id);
    }
    mqtt5_inbound_publish msg = {&pub, pub.qos ? make_handle(c, pub.qos, pub.packet_id) : 0};
    c->ack_taken = false;
    c->ack_qos = pub.qos;
    c->ack_id = pub.packet_id;
    c->in_callback++;
    c->cb.on_publish(c->cb.user, &msg);
    c->in_callback--;
    c->ack_qos = 0;
    if (pub.qos == 0 || c->state != MQTT5_CS_CONNECTED) return;
    if (c->ack_taken) {
        client_packet_ids_reserve(&c->held_acks, pub.packet_id); /* take_ack made room */
        return;
    }
    owe_control(c, pub.qos == 1 ? MQTT5_PUBACK : MQTT5_PUBREC, pub.packet_id, 0);
}

int mqtt5_client_core_take_ack(mqtt5_client_core *c, uint64_t handle)
{
    /* only the handle of the message in on_publish, once */
    if (!c->ack_qos || handle != make_handle(c, c->ack_qos, c->ack_id) || c->ack_taken)
        return MQTT5_ERR_STALE_HANDLE;
    mqtt5_allocator counted = client_counted(c);
    if (!client_packet_ids_room(&c->held_acks, &counted, c->held_acks.in_use + 1u))
        return MQTT5_ERR_NOMEM;
    c->ack_taken = true;
    return MQTT5_OK;
}

int mqtt5_client_core_send_ack(mqtt5_client_core *c, uint64_t now, uint64_t handle, uint8_t reason)
{
    if (now > c->now) c->now = now;
    uint32_t generation = (uint32_t)(handle >> 32);
    uint8_t qos = (uint8_t)(handle >> 16);
    uint16_t id = (uint16_t)handle;
    if (generation != c->generation || c->state != MQTT5_CS_CONNECTED ||
        !client_packet_ids_is_used(&c->held_acks, id))
        return MQTT5_ERR_STALE_HANDLE;
    uint8_t type = qos == 1 ? MQTT5_PUBACK : MQTT5_PUBREC;
    if (!mqtt5_reason_code_valid_for(type, reason)) return MQTT5_ERR_INVALID_ARGUMENT;
    client_packet_ids_release(&c->held_acks, id);
    mqtt5_allocator counted = client_counted(c);
    /* keeps room for one: from inside on_publish, that message's take_ack counted on it */
    client_packet_ids_trim(&c->held_acks, &counted, c->held_acks.in_use + 1u);
    if (type == MQTT5_PUBREC && reason >= 0x80) {
        /* refused: the exchange ends here, no PUBREL will come */
        client_packet_ids_release(&c->inbound_qos2, id);
        client_packet_ids_trim(&c->inbound_qos2, &counted, 0);
        if (c->inbound_unacked) c->inbound_unacked--;
    }
    owe_control(c, type, id, reason);
    return MQTT5_OK;
}

static void on_pubrel(mqtt5_client_core *c, const mqtt5_ack *a)
{
    if (client_packet_ids_is_used(&c->inbound_qos2, a->packet_id) &&
        !client_packet_ids_is_used(&c->held_acks, a->packet_id)) {
        client_packet_ids_release(&c->inbound_qos2, a->packet_id);
        mqtt5_allocator counted = client_counted(c);
        client_packet_ids_trim(&c->inbound_qos2, &counted, 0);
        owe_control(c, MQTT5_PUBCOMP, a->packet_id, 0);
    } else {
        owe_control(c, MQTT5_PUBCOMP, a->packet_id, MQTT5_RC_PACKET_IDENTIFIER_NOT_FOUND);
    }
}

static void finish_inflight(mqtt5_client_core *c, client_op *op, int error, const mqtt5_packet *ack)
{
    if (op->pubrel_due) {
        op->pubrel_due = false;
        c->pubrel_due--;
    }
    if (op->completed) {
        /* timed out earlier: the late ack only frees the identifier */
        op_list_remove(&c->inflight, op);
        if (op->packet_id) client_packet_ids_release(&c->ids, op->packet_id);
        if (op->type == MQTT5_PUBLISH && c->inflight_publishes) c->inflight_publishes--;
        client_op_free(c, op);
        return;
    }
    client_op_finish(c, &c->inflight, op, error, ack);
}

static void on_ack(mqtt5_client_core *c, const mqtt5_packet *pk)
{
    const mqtt5_ack *a = &pk->u.ack;
    client_op *op = client_inflight_find(c, MQTT5_PUBLISH, a->packet_id);
    switch (pk->type) {
    case MQTT5_PUBACK:
        if (op && op->u.publish.qos == 1)
            finish_inflight(c, op, a->reason_code >= 0x80 ? MQTT5_ERR_ACK_REASON : 0, pk);
        break;
    case MQTT5_PUBREC:
        if (!op || op->u.publish.qos != 2) {
            owe_control(c, MQTT5_PUBREL, a->packet_id, MQTT5_RC_PACKET_IDENTIFIER_NOT_FOUND);
            break;
        }
        if (op->qos2_phase == 0 && a->reason_code >= 0x80) {
            finish_inflight(c, op, MQTT5_ERR_ACK_REASON, pk);
            break;
        }
        /* first PUBREC, or a repeated one: (re)send our PUBREL, queued on the operation itself
         * so any number of QoS 2 publishes in flight needs no extra room */
        op->qos2_phase = 1;
        if (!op->pubrel_due) {
            op->pubrel_due = true;
            c->pubrel_due++;
        }
        break;
    case MQTT5_PUBCOMP:
        if (op && op->u.publish.qos == 2 && op->qos2_phase == 1)
            finish_inflight(c, op, a->reason_code >= 0x80 ? MQTT5_ERR_ACK_REASON : 0, pk);
        break;
    default:
        break;
    }
}

static void on_suback(mqtt5_client_core *c, const mqtt5_packet *pk)
{
    uint8_t op_type = pk->type == MQTT5_SUBACK ? MQTT5_SUBSCRIBE : MQTT5_UNSUBSCRIBE;
    client_op *op = client_inflight_find(c, op_type, pk->u.suback.packet_id);
    if (!op) return; /* unknown or late: nothing to do */
    size_t expected = op_type == MQTT5_SUBSCRIBE ? op->u.subscribe.subscription_count
                                                 : op->u.unsubscribe.topic_filter_count;
    if (pk->u.suback.reason_code_count != expected) {
        protocol_error(c, MQTT5_ERR_PROTOCOL_ERROR, MQTT5_RC_PROTOCOL_ERROR);
        return;
    }
    bool all_failed = true;
    for (size_t i = 0; i < pk->u.suback.reason_code_count; i++)
        if (pk->u.suback.reason_codes[i] < 0x80) all_failed = false;
    finish_inflight(c, op, all_failed ? MQTT5_ERR_ACK_REASON : 0, pk);
}

void client_handle_packet(mqtt5_client_core *c, const mqtt5_packet *p)
{
    if (c->state == MQTT5_CS_MQTT_CONNECT) {
        if (p->type == MQTT5_CONNACK)
            client_on_connack(c, &p->u.connack);
        else if (p->type == MQTT5_AUTH)
            client_auth_on_packet(c, &p->u.auth);
        else
            protocol_error(c, MQTT5_ERR_PROTOCOL_ERROR, MQTT5_RC_PROTOCOL_ERROR);
        return;
    }
    switch (p->type) {
    case MQTT5_PUBLISH:
        on_publish(c, p);
        break;
    case MQTT5_PUBACK:
    case MQTT5_PUBREC:
    case MQTT5_PUBCOMP:
        on_ack(c, p);
        break;
    case MQTT5_PUBREL:
        on_pubrel(c, &p->u.ack);
        break;
    case MQTT5_SUBACK:
    case MQTT5_UNSUBACK:
        on_suback(c, p);
        break;
    case MQTT5_PINGRESP:
        c->ping_outstanding = false;
        break;
    case MQTT5_DISCONNECT:
        client_fail_connection(c, MQTT5_ERR_SERVER_DISCONNECT, 0, NULL, &p->u.disconnect);
        break;
    case MQTT5_AUTH:
        client_auth_on_packet(c, &p->u.auth);
        break;
    default: /* CONNECT, CONNACK again, SUBSCRIBE, UNSUBSCRIBE, PINGREQ */
        protocol_error(c, MQTT5_ERR_PROTOCOL_ERROR, MQTT5_RC_PROTOCOL_ERROR);
        break;
    }
}
