/*
 * decode.c - decoding of one complete MQTT 5 packet in place (mqtt5_packet_decode). The result
 * is a view into the input; nothing is copied or allocated. Every rule the specification gives
 * a receiver is checked here, and a failure carries the reason code for the DISCONNECT.
 */
#include "core/decode.h"
#include "core/properties.h"
#include "core/property_table.h"
#include "mqtt5/topic.h"

static int check_reason(wire_reader *r, int type, uint8_t rc, const uint8_t *at, const char *field)
{
    if (!mqtt5_reason_code_valid_for(type, rc))
        return WIRE_PROTOCOL(r, at, field, "reason code not defined for this packet type");
    return MQTT5_OK;
}

static int packet_id(wire_reader *r, uint16_t *id)
{
    const uint8_t *at = r->p;
    int rc = wire_u16(r, id, "messageId");
    if (rc) return rc;
    if (*id == 0) return WIRE_PROTOCOL(r, at, "messageId", "packet identifier 0 is not allowed");
    return MQTT5_OK;
}

static int decode_connect(wire_reader *r, mqtt5_connect *c)
{
    const uint8_t *at = r->p;
    uint8_t flags;
    int rc;
    if ((rc = wire_str(r, &c->protocol_name, "protocolId"))) return rc;
    if (c->protocol_name.len != 4 || memcmp(c->protocol_name.ptr, "MQTT", 4) != 0)
        return wire_fail(r, MQTT5_ERR_UNSUPPORTED_PROTOCOL_VERSION,
                         MQTT5_RC_UNSUPPORTED_PROTOCOL_VERSION, at, "protocolId",
                         "protocol name is not \"MQTT\"");
    at = r->p;
    if ((rc = wire_u8(r, &c->protocol_version, "protocolVersion"))) return rc;
    if (c->protocol_version != 5)
        return wire_fail(r, MQTT5_ERR_UNSUPPORTED_PROTOCOL_VERSION,
                         MQTT5_RC_UNSUPPORTED_PROTOCOL_VERSION, at, "protocolVersion",
                         "protocol level is not 5");
    at = r->p;
    if ((rc = wire_u8(r, &flags, "flags"))) return rc;
    if (flags & 0x01) return WIRE_MALFORMED(r, at, "flags", "reserved connect flag is set");
    c->clean_start = (flags & 0x02) != 0;
    c->has_will = (flags & 0x04) != 0;
    c->will.qos = (flags >> 3) & 0x03;
    c->will.retain = (flags & 0x20) != 0;
    c->has_password = (flags & 0x40) != 0;
    c->has_username = (flags & 0x80) != 0;
    if (c->will.qos == 3) return WIRE_MALFORMED(r, at, "will.qos", "will QoS 3");
    if (!c->has_will && (c->will.qos || c->will.retain))
        return WIRE_MALFORMED(r, at, "will", "will QoS or retain set without the will flag");
    if ((rc = wire_u16(r, &c->keep_alive, "keepalive"))) return rc;
    if ((rc = props_decode(r, &c->properties, MQTT5_CONNECT))) return rc;
    if ((rc = wire_str(r, &c->client_id, "clientId"))) return rc;
    if (c->has_will) {
        if ((rc = props_decode(r, &c->will.properties, PROP_KIND_WILL))) return rc;
        at = r->p;
        if ((rc = wire_str(r, &c->will.topic, "will.topic"))) return rc;
        if (mqtt5_topic_name_validate(c->will.topic.ptr, c->will.topic.len, NULL) != MQTT5_OK)
            return WIRE_MALFORMED(r, at, "will.topic", "not a valid topic name");
        if ((rc = wire_bytes(r, &c->will.payload, "will.payload"))) return rc;
    }
    if (c->has_username && (rc = wire_str(r, &c->username, "username"))) return rc;
    if (c->has_password && (rc = wire_bytes(r, &c->password, "password"))) return rc;
    return MQTT5_OK;
}

static int decode_connack(wire_reader *r, mqtt5_connack *c)
{
    const uint8_t *at = r->p;
    uint8_t flags;
    int rc;
    if ((rc = wire_u8(r, &flags, "sessionPresent"))) return rc;
    if (flags & 0xFE)
        return WIRE_MALFORMED(r, at, "sessionPresent", "reserved acknowledge flags are set");
    c->session_present = flags & 1;
    at = r->p;
    if ((rc = wire_u8(r, &c->reason_code, "reasonCode"))) return rc;
    if ((rc = check_reason(r, MQTT5_CONNACK, c->reason_code, at, "reasonCode"))) return rc;
    if (c->reason_code >= 0x80 && c->session_present)
        return WIRE_PROTOCOL(r, at - 1, "sessionPresent", "session present on a refused connect");
    return props_decode(r, &c->properties, MQTT5_CONNACK);
}

static int decode_publish(wire_reader *r, uint8_t flags, mqtt5_publish *p)
{
    int rc;
    const uint8_t *at;
    p->qos = (flags >> 1) & 3;
    p->dup = (flags & 8) != 0;
    p->retain = flags & 1;
    /* QoS 3 and DUP on QoS 0 were refused with the fixed header */
    at = r->p;
    if ((rc = wire_str(r, &p->topic, "topic"))) return rc;
    if (memchr(p->topic.ptr, '+', p->topic.len) || memchr(p->topic.ptr, '#', p->topic.len))
        return WIRE_MALFORMED(r, at, "topic", "wildcard in a topic name");
    if (p->qos && (rc = packet_id(r, &p->packet_id))) return rc;
    if ((rc = props_decode(r, &p->properties, MQTT5_PUBLISH))) return rc;
    if (p->topic.len == 0 && !MQTT5_PROPS_HAS(&p->properties, MQTT5_PROP_TOPIC_ALIAS))
        return WIRE_PROTOCOL(r, at, "topic", "empty topic without a topic alias");
    p->payload.ptr = r->p;
    p->payload.len = wire_left(r);
    r->p = r->end;
    return MQTT5_OK;
}

static int decode_ack(wire_reader *r, int type, mqtt5_ack *a)
{
    int rc;
    if ((rc = packet_id(r, &a->packet_id))) return rc;
    if (wire_left(r) == 0) return MQTT5_OK; /* reason 0x00, no properties */
    const uint8_t *at = r->p;
    a->reason_code = *r->p++;
    if ((rc = check_reason(r, type, a->reason_code, at, "reasonCode"))) return rc;
    if (wire_left(r) == 0) return MQTT5_OK;
    return props_decode(r, &a->properties, (unsigned)type);
}

static int decode_filter(wire_reader *r, mqtt5_str *f, const char *field)
{
    const uint8_t *at = r->p;
    const char *why;
    int rc = wire_str(r, f, field);
    if (rc) return rc;
    if (mqtt5_topic_filter_validate(f->ptr, f->len, &why) != MQTT5_OK)
        return WIRE_MALFORMED(r, at, field, why);
    return MQTT5_OK;
}

static int decode_subscribe(wire_reader *r, mqtt5_subscribe *s)
{
    int rc;
    if ((rc = packet_id(r, &s->packet_id))) return rc;
    if ((rc = props_decode(r, &s->properties, MQTT5_SUBSCRIBE))) return rc;
    s->raw_payload.ptr = r->p;
    s->raw_payload.len = wire_left(r);
    if (wire_left(r) == 0)
        return WIRE_PROTOCOL(r, r->p, "subscriptions", "SUBSCRIBE without a topic filter");
    while (wire_left(r)) {
        mqtt5_str f;
        uint8_t opt;
        if ((rc = decode_filter(r, &f, "subscriptions.topic"))) return rc;
        const uint8_t *at = r->p;
        if ((rc = wire_u8(r, &opt, "subscriptions"))) return rc;
        if (opt & 0xC0)
            return WIRE_MALFORMED(r, at, "subscriptions", "reserved subscription option bits set");
        if ((opt & 3) == 3) return WIRE_MALFORMED(r, at, "subscriptions.qos", "QoS 3");
        if (((opt >> 4) & 3) == 3)
            return WIRE_MALFORMED(r, at, "subscriptions.rh", "retain handling 3");
        if ((opt & 4) && mqtt5_topic_filter_is_shared(f.ptr, f.len))
            return WIRE_PROTOCOL(r, at, "subscriptions.nl", "no local on a shared subscription");
        s->subscription_count++;
    }
    return MQTT5_OK;
}

static int decode_suback(wire_reader *r, int type, mqtt5_suback *s)
{
    int rc;
    if ((rc = packet_id(r, &s->packet_id))) return rc;
    if ((rc = props_decode(r, &s->properties, (unsigned)type))) return rc;
    s->reason_codes = r->p;
    s->reason_code_count = wire_left(r);
    if (s->reason_code_count == 0) return WIRE_PROTOCOL(r, r->p, "granted", "no reason codes");
    for (; r->p < r->end; r->p++)
        if ((rc = check_reason(r, type, *r->p, r->p, "granted"))) return rc;
    return MQTT5_OK;
}

static int decode_unsubscribe(wire_reader *r, mqtt5_unsubscribe *u)
{
    int rc;
    if ((rc = packet_id(r, &u->packet_id))) return rc;
    if ((rc = props_decode(r, &u->properties, MQTT5_UNSUBSCRIBE))) return rc;
    u->raw_payload.ptr = r->p;
    u->raw_payload.len = wire_left(r);
    if (wire_left(r) == 0)
        return WIRE_PROTOCOL(r, r->p, "unsubscriptions", "UNSUBSCRIBE without a topic filter");
    while (wire_left(r)) {
        mqtt5_str f;
        if ((rc = decode_filter(r, &f, "unsubscriptions"))) return rc;
        u->topic_filter_count++;
    }
    return MQTT5_OK;
}

static int decode_disconnect(wire_reader *r, int type, mqtt5_disconnect *d)
{
    int rc;
    if (wire_left(r) == 0) return MQTT5_OK; /* reason 0x00, no properties */
    const uint8_t *at = r->p;
    d->reason_code = *r->p++;
    if ((rc = check_reason(r, type, d->reason_code, at, "reasonCode"))) return rc;
    if (wire_left(r) == 0) return MQTT5_OK;
    return props_decode(r, &d->properties, (unsigned)type);
}

/* Fixed-header flags each type must carry ([MQTT-2.1.3-1]); PUBLISH is checked separately. */
static const uint8_t required_flags[16] = {0, 0, 0, 0, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0};

int decode_fixed_header(const uint8_t *buf, size_t len, uint32_t max_packet_size,
                        size_t *header_len, size_t *total_len, mqtt5_codec_status *st)
{
    uint32_t remaining;
    wire_reader r = {buf, buf, buf + len, st};
    if (len < 1) return MQTT5_ERR_NEED_MORE;
    /* type and flags first: they are known from the first byte */
    unsigned type = buf[0] >> 4, flags = buf[0] & 0x0F;
    if (type == 0) return WIRE_MALFORMED(&r, buf, "cmd", "reserved packet type 0");
    if (type != MQTT5_PUBLISH && flags != required_flags[type])
        return WIRE_MALFORMED(&r, buf, "cmd", "reserved fixed header flags are wrong");
    if (type == MQTT5_PUBLISH && ((flags >> 1) & 3) == 3)
        return WIRE_MALFORMED(&r, buf, "qos", "QoS 3");
    if (type == MQTT5_PUBLISH && (flags & 0x0E) == 0x08)
        return WIRE_MALFORMED(&r, buf, "dup", "DUP set on QoS 0");
    if (len < 2) return MQTT5_ERR_NEED_MORE;
    int n = wire_vbi_parse(buf + 1, buf + len, &remaining);
    if (n == 0) return MQTT5_ERR_NEED_MORE;
    if (n < 0) return WIRE_MALFORMED(&r, buf + 1, "length", "invalid remaining length");

    uint64_t total = 1 + (uint64_t)n + remaining;
    uint64_t limit = max_packet_size ? max_packet_size : MQTT5_MAX_PACKET_SIZE_LIMIT;
    if (total > limit)
        return wire_fail(&r, MQTT5_ERR_PACKET_TOO_LARGE, MQTT5_RC_PACKET_TOO_LARGE, buf, "length",
                         "packet exceeds the maximum packet size");

    *header_len = 1 + (size_t)n;
    *total_len = (size_t)total;
    return MQTT5_OK;
}

int mqtt5_packet_decode(const uint8_t *buf, size_t len, uint32_t max_packet_size, mqtt5_packet *out,
                        size_t *consumed, mqtt5_codec_status *st)
{
    size_t header, total;
    unsigned type;
    int rc;
    wire_reader r = {buf, buf, buf + len, st};

    *consumed = 0;
    if (st) *st = (mqtt5_codec_status){0};
    rc = decode_fixed_header(buf, len, max_packet_size, &header, &total, st);
    if (rc) return rc;
    if (total > len) {
        if (st) st->offset = total;
        return MQTT5_ERR_NEED_MORE;
    }
    type = buf[0] >> 4;
    r.p = buf + header;
    r.end = buf + total;
    out->type = (mqtt5_packet_type)type;
    switch (type) {
    case MQTT5_CONNECT:
        memset(&out->u.connect, 0, sizeof(out->u.connect));
        rc = decode_connect(&r, &out->u.connect);
        break;
    case MQTT5_CONNACK:
        memset(&out->u.connack, 0, sizeof(out->u.connack));
        rc = decode_connack(&r, &out->u.connack);
        break;
    case MQTT5_PUBLISH:
        props_reset(&out->u.publish.properties); /* hot path: no memset of the whole struct */
        out->u.publish.packet_id = 0;
        rc = decode_publish(&r, (uint8_t)(buf[0] & 0x0F), &out->u.publish);
        break;
    case MQTT5_PUBACK:
    case MQTT5_PUBREC:
    case MQTT5_PUBREL:
    case MQTT5_PUBCOMP:
        memset(&out->u.ack, 0, sizeof(out->u.ack));
        rc = decode_ack(&r, (int)type, &out->u.ack);
        break;
    case MQTT5_SUBSCRIBE:
        memset(&out->u.subscribe, 0, sizeof(out->u.subscribe));
        rc = decode_subscribe(&r, &out->u.subscribe);
        break;
    case MQTT5_SUBACK:
    case MQTT5_UNSUBACK:
        memset(&out->u.suback, 0, sizeof(out->u.suback));
        rc = decode_suback(&r, (int)type, &out->u.suback);
        break;
    case MQTT5_UNSUBSCRIBE:
        memset(&out->u.unsubscribe, 0, sizeof(out->u.unsubscribe));
        rc = decode_unsubscribe(&r, &out->u.unsubscribe);
        break;
    case MQTT5_PINGREQ:
    case MQTT5_PINGRESP:
        rc = MQTT5_OK;
        break;
    default: /* DISCONNECT, AUTH share a layout */
        memset(&out->u.disconnect, 0, sizeof(out->u.disconnect));
        rc = decode_disconnect(&r, (int)type, &out->u.disconnect);
        break;
    }
    if (rc) return rc;
    if (r.p != r.end)
        return WIRE_MALFORMED(&r, r.p, "length", "bytes left over after the last field");
    *consumed = (size_t)total;
    return MQTT5_OK;
}

const mqtt5_properties *mqtt5_packet_properties(const mqtt5_packet *p)
{
    switch (p->type) {
    case MQTT5_CONNECT:
        return &p->u.connect.properties;
    case MQTT5_CONNACK:
        return &p->u.connack.properties;
    case MQTT5_PUBLISH:
        return &p->u.publish.properties;
    case MQTT5_PUBACK:
    case MQTT5_PUBREC:
    case MQTT5_PUBREL:
    case MQTT5_PUBCOMP:
        return &p->u.ack.properties;
    case MQTT5_SUBSCRIBE:
        return &p->u.subscribe.properties;
    case MQTT5_SUBACK:
    case MQTT5_UNSUBACK:
        return &p->u.suback.properties;
    case MQTT5_UNSUBSCRIBE:
        return &p->u.unsubscribe.properties;
    case MQTT5_DISCONNECT:
        return &p->u.disconnect.properties;
    case MQTT5_AUTH:
        return &p->u.auth.properties;
    default:
        return NULL;
    }
}
