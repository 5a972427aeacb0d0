/*
 * encode.c - validation, exact sizing and writing of MQTT 5 packets (mqtt5_packet_encoded_size,
 * mqtt5_packet_encode). Sizing validates everything the specification forbids a sender to do, so
 * the writer that follows can write without checks into a buffer of exactly that size.
 */
#include "core/encode.h"
#include "core/properties.h"
#include "core/property_table.h"
#include "mqtt5/topic.h"

static int fail(mqtt5_codec_status *st, int err, const char *field, const char *detail)
{
    if (st && st->error == MQTT5_OK) {
        st->error = err;
        st->field = field;
        st->detail = detail;
    }
    return err;
}

static int check_topic_name(mqtt5_str t, const char *field, mqtt5_codec_status *st)
{
    const char *why;
    int rc = mqtt5_topic_name_validate(t.ptr, t.len, &why);
    if (rc == MQTT5_OK && t.len > 65535) rc = MQTT5_ERR_INVALID_UTF8, why = "longer than 65535";
    return rc ? fail(st, rc, field, why) : MQTT5_OK;
}

static int check_filter(mqtt5_str f, const char *field, mqtt5_codec_status *st)
{
    const char *why;
    int rc = mqtt5_topic_filter_validate(f.ptr, f.len, &why);
    if (rc == MQTT5_OK && f.len > 65535) rc = MQTT5_ERR_INVALID_UTF8, why = "longer than 65535";
    return rc ? fail(st, rc, field, why) : MQTT5_OK;
}

static int check_reason(int type, uint8_t rc, const char *field, mqtt5_codec_status *st)
{
    if (!mqtt5_reason_code_valid_for(type, rc))
        return fail(st, MQTT5_ERR_INVALID_PACKET, field,
                    "reason code not defined for this packet type");
    return MQTT5_OK;
}

static int check_packet_id(uint16_t id, mqtt5_codec_status *st)
{
    return id ? MQTT5_OK
              : fail(st, MQTT5_ERR_INVALID_PACKET, "messageId",
                     "packet identifier 0 is not allowed");
}

/* Property block with its length prefix. */
static int props_total(const mqtt5_properties *props, unsigned kind, size_t *out,
                       mqtt5_codec_status *st)
{
    size_t n;
    int rc = props_size(props, kind, &n, st);
    if (rc) return rc;
    *out = wire_vbi_len((uint32_t)n) + n;
    return MQTT5_OK;
}

static int size_connect(const mqtt5_connect *c, size_t *out, mqtt5_codec_status *st)
{
    size_t n, total = 10; /* "MQTT" name (6), level, flags, keep alive */
    int rc;
    if ((rc = props_total(&c->properties, MQTT5_CONNECT, &n, st))) return rc;
    total += n;
    if ((rc = enc_check_str(c->client_id, "clientId", st))) return rc;
    total += 2 + c->client_id.len;
    if (c->has_will) {
        if (c->will.qos > 2) return fail(st, MQTT5_ERR_INVALID_PACKET, "will.qos", "QoS above 2");
        if ((rc = props_total(&c->will.properties, PROP_KIND_WILL, &n, st))) return rc;
        if ((rc = check_topic_name(c->will.topic, "will.topic", st))) return rc;
        if ((rc = enc_check_bytes(c->will.payload, "will.payload", st))) return rc;
        total += n + 2 + c->will.topic.len + 2 + c->will.payload.len;
    }
    if (c->has_username) {
        if ((rc = enc_check_str(c->username, "username", st))) return rc;
        total += 2 + c->username.len;
    }
    if (c->has_password) {
        if ((rc = enc_check_bytes(c->password, "password", st))) return rc;
        total += 2 + c->password.len;
    }
    *out = total;
    return MQTT5_OK;
}

static int size_publish(const mqtt5_publish *p, size_t *out, mqtt5_codec_status *st)
{
    size_t n;
    int rc;
    if (p->qos > 2) return fail(st, MQTT5_ERR_INVALID_PACKET, "qos", "QoS above 2");
    if (p->qos == 0 && p->dup)
        return fail(st, MQTT5_ERR_INVALID_PACKET, "dup", "DUP must be 0 for QoS 0");
    if (p->topic.len == 0) {
        if (!MQTT5_PROPS_HAS(&p->properties, MQTT5_PROP_TOPIC_ALIAS))
            return fail(st, MQTT5_ERR_INVALID_TOPIC, "topic",
                        "empty topic name without a topic alias");
    } else if ((rc = check_topic_name(p->topic, "topic", st))) {
        return rc;
    }
    if (p->qos && (rc = check_packet_id(p->packet_id, st))) return rc;
    if (p->payload.len && !p->payload.ptr)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "payload", "NULL with length");
    if ((rc = props_total(&p->properties, MQTT5_PUBLISH, &n, st))) return rc;
    *out = 2 + p->topic.len + (p->qos ? 2u : 0u) + n + p->payload.len;
    return MQTT5_OK;
}

/* Short forms: DISCONNECT/AUTH with reason 0 and no properties have no body, acks have only the
 * packet id; without properties the property length is left out. */
static int size_reason_props(int type, uint8_t reason, const mqtt5_properties *props, size_t *out,
                             mqtt5_codec_status *st)
{
    size_t n;
    int rc;
    if ((rc = check_reason(type, reason, "reasonCode", st))) return rc;
    if ((rc = props_total(props, (unsigned)type, &n, st))) return rc;
    if (props_empty(props))
        *out = reason == 0 ? 0 : 1;
    else
        *out = 1 + n;
    return MQTT5_OK;
}

static int size_subscribe(const mqtt5_subscribe *s, size_t *out, mqtt5_codec_status *st)
{
    size_t n, count = 0;
    int rc;
    if ((rc = check_packet_id(s->packet_id, st))) return rc;
    if ((rc = props_total(&s->properties, MQTT5_SUBSCRIBE, &n, st))) return rc;
    if (s->subscription_count == 0)
        return fail(st, MQTT5_ERR_INVALID_PACKET, "subscriptions", "no topic filter");
    size_t total = 2 + n;
    mqtt5_iter it = {0, 0};
    mqtt5_subscription sub;
    while (mqtt5_subscribe_next(s, &it, &sub)) {
        if ((rc = check_filter(sub.topic_filter, "subscriptions.topic", st))) return rc;
        if (sub.qos > 2)
            return fail(st, MQTT5_ERR_INVALID_PACKET, "subscriptions.qos", "QoS above 2");
        if (sub.retain_handling > 2)
            return fail(st, MQTT5_ERR_INVALID_PACKET, "subscriptions.rh",
                        "retain handling above 2");
        if (sub.no_local &&
            mqtt5_topic_filter_is_shared(sub.topic_filter.ptr, sub.topic_filter.len))
            return fail(st, MQTT5_ERR_INVALID_PACKET, "subscriptions.nl",
                        "no local is not allowed on a shared subscription");
        total += 3 + sub.topic_filter.len;
        count++;
    }
    if (count != s->subscription_count)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "subscriptions", "NULL array with a count");
    *out = total;
    return MQTT5_OK;
}

static int size_unsubscribe(const mqtt5_unsubscribe *u, size_t *out, mqtt5_codec_status *st)
{
    size_t n, count = 0;
    int rc;
    if ((rc = check_packet_id(u->packet_id, st))) return rc;
    if ((rc = props_total(&u->properties, MQTT5_UNSUBSCRIBE, &n, st))) return rc;
    if (u->topic_filter_count == 0)
        return fail(st, MQTT5_ERR_INVALID_PACKET, "unsubscriptions", "no topic filter");
    size_t total = 2 + n;
    mqtt5_iter it = {0, 0};
    mqtt5_str f;
    while (mqtt5_unsubscribe_next(u, &it, &f)) {
        if ((rc = check_filter(f, "unsubscriptions", st))) return rc;
        total += 2 + f.len;
        count++;
    }
    if (count != u->topic_filter_count)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "unsubscriptions", "NULL array with a count");
    *out = total;
    return MQTT5_OK;
}

static int size_suback(int type, const mqtt5_suback *s, size_t *out, mqtt5_codec_status *st)
{
    size_t n;
    int rc;
    if ((rc = check_packet_id(s->packet_id, st))) return rc;
    if ((rc = props_total(&s->properties, (unsigned)type, &n, st))) return rc;
    if (s->reason_code_count == 0)
        return fail(st, MQTT5_ERR_INVALID_PACKET, "granted", "no reason codes");
    if (!s->reason_codes)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "granted", "NULL array with a count");
    for (size_t i = 0; i < s->reason_code_count; i++)
        if ((rc = check_reason(type, s->reason_codes[i], "granted", st))) return rc;
    *out = 2 + n + s->reason_code_count;
    return MQTT5_OK;
}

/* Remaining length of a packet, validated. */
static int body_size(const mqtt5_packet *p, size_t *out, mqtt5_codec_status *st)
{
    size_t n;
    int rc;
    switch (p->type) {
    case MQTT5_CONNECT:
        return size_connect(&p->u.connect, out, st);
    case MQTT5_CONNACK:
        if ((rc = check_reason(MQTT5_CONNACK, p->u.connack.reason_code, "reasonCode", st)))
            return rc;
        if (p->u.connack.session_present && p->u.connack.reason_code >= 0x80)
            return fail(st, MQTT5_ERR_INVALID_PACKET, "sessionPresent",
                        "session present on a refused connect");
        if ((rc = props_total(&p->u.connack.properties, MQTT5_CONNACK, &n, st))) return rc;
        *out = 2 + n;
        return MQTT5_OK;
    case MQTT5_PUBLISH:
        return size_publish(&p->u.publish, out, st);
    case MQTT5_PUBACK:
    case MQTT5_PUBREC:
    case MQTT5_PUBREL:
    case MQTT5_PUBCOMP:
        if ((rc = check_packet_id(p->u.ack.packet_id, st))) return rc;
        if ((rc = size_reason_props(p->type, p->u.ack.reason_code, &p->u.ack.properties, &n, st)))
            return rc;
        *out = 2 + n;
        return MQTT5_OK;
    case MQTT5_SUBSCRIBE:
        return size_subscribe(&p->u.subscribe, out, st);
    case MQTT5_SUBACK:
    case MQTT5_UNSUBACK:
        return size_suback(p->type, &p->u.suback, out, st);
    case MQTT5_UNSUBSCRIBE:
        return size_unsubscribe(&p->u.unsubscribe, out, st);
    case MQTT5_PINGREQ:
    case MQTT5_PINGRESP:
        *out = 0;
        return MQTT5_OK;
    case MQTT5_DISCONNECT:
    case MQTT5_AUTH:
        return size_reason_props(p->type, p->u.disconnect.reason_code, &p->u.disconnect.properties,
                                 out, st);
    default:
        return fail(st, MQTT5_ERR_INVALID_PACKET, "cmd", "unknown packet type");
    }
}

/* Validate and compute the remaining length. */
static int remaining_length(const mqtt5_packet *p, size_t *body, mqtt5_codec_status *st)
{
    int rc;
    if (st) *st = (mqtt5_codec_status){0};
    if ((rc = body_size(p, body, st))) return rc;
    if (*body > MQTT5_MAX_VBI)
        return fail(st, MQTT5_ERR_PACKET_TOO_LARGE, "length",
                    "remaining length exceeds 268435455 bytes");
    return MQTT5_OK;
}

int mqtt5_packet_encoded_size(const mqtt5_packet *p, size_t *size, mqtt5_codec_status *st)
{
    size_t body;
    int rc = remaining_length(p, &body, st);
    *size = rc ? 0 : 1 + wire_vbi_len((uint32_t)body) + body;
    return rc;
}

static uint8_t *write_connect(uint8_t *w, const mqtt5_connect *c)
{
    uint8_t flags = (uint8_t)((c->clean_start ? 0x02 : 0) | (c->has_username ? 0x80 : 0) |
                              (c->has_password ? 0x40 : 0));
    if (c->has_will) flags |= (uint8_t)(0x04 | (c->will.qos << 3) | (c->will.retain ? 0x20 : 0));
    w = wire_put_bytes(w, "MQTT", 4);
    *w++ = 5;
    *w++ = flags;
    w = wire_put_u16(w, c->keep_alive);
    w = props_write(w, &c->properties);
    w = wire_put_bytes(w, c->client_id.ptr, c->client_id.len);
    if (c->has_will) {
        w = props_write(w, &c->will.properties);
        w = wire_put_bytes(w, c->will.topic.ptr, c->will.topic.len);
        w = wire_put_bytes(w, c->will.payload.ptr, c->will.payload.len);
    }
    if (c->has_username) w = wire_put_bytes(w, c->username.ptr, c->username.len);
    if (c->has_password) w = wire_put_bytes(w, c->password.ptr, c->password.len);
    return w;
}

static uint8_t *write_reason_props(uint8_t *w, uint8_t reason, const mqtt5_properties *props)
{
    if (props_empty(props)) {
        if (reason) *w++ = reason;
        return w;
    }
    *w++ = reason;
    return props_write(w, props);
}

int mqtt5_packet_encode(const mqtt5_packet *p, uint8_t *buf, size_t cap, size_t *written,
                        mqtt5_codec_status *st)
{
    size_t body, size;
    int rc;
    *written = 0;
    if ((rc = remaining_length(p, &body, st))) return rc;
    size = 1 + wire_vbi_len((uint32_t)body) + body;
    if (size > cap)
        return fail(st, MQTT5_ERR_BUFFER_TOO_SMALL, NULL, "output buffer smaller than the packet");
    *written = encode_validated(p, body, buf);
    return MQTT5_OK;
}

size_t encode_body_length(size_t size)
{
    for (size_t k = 1; k <= 4 && k < size; k++)
        if (wire_vbi_len((uint32_t)(size - 1 - k)) == k) return size - 1 - k;
    return 0;
}

size_t encode_validated(const mqtt5_packet *p, size_t body, uint8_t *buf)
{
    uint8_t *w = buf;
    uint8_t flags = 0;
    if (p->type == MQTT5_PUBLISH)
        flags = (uint8_t)((p->u.publish.dup ? 8 : 0) | (p->u.publish.qos << 1) |
                          (p->u.publish.retain ? 1 : 0));
    else if (p->type == MQTT5_PUBREL || p->type == MQTT5_SUBSCRIBE || p->type == MQTT5_UNSUBSCRIBE)
        flags = 2;
    *w++ = (uint8_t)((p->type << 4) | flags);
    w = wire_put_vbi(w, (uint32_t)body);

    switch (p->type) {
    case MQTT5_CONNECT:
        w = write_connect(w, &p->u.connect);
        break;
    case MQTT5_CONNACK:
        *w++ = p->u.connack.session_present ? 1 : 0;
        *w++ = p->u.connack.reason_code;
        w = props_write(w, &p->u.connack.properties);
        break;
    case MQTT5_PUBLISH: {
        const mqtt5_publish *pub = &p->u.publish;
        w = wire_put_bytes(w, pub->topic.ptr, pub->topic.len);
        if (pub->qos) w = wire_put_u16(w, pub->packet_id);
        w = props_write(w, &pub->properties);
        if (pub->payload.len) memcpy(w, pub->payload.ptr, pub->payload.len);
        w += pub->payload.len;
        break;
    }
    case MQTT5_PUBACK:
    case MQTT5_PUBREC:
    case MQTT5_PUBREL:
    case MQTT5_PUBCOMP:
        w = wire_put_u16(w, p->u.ack.packet_id);
        w = write_reason_props(w, p->u.ack.reason_code, &p->u.ack.properties);
        break;
    case MQTT5_SUBSCRIBE: {
        const mqtt5_subscribe *s = &p->u.subscribe;
        mqtt5_iter it = {0, 0};
        mqtt5_subscription sub;
        w = wire_put_u16(w, s->packet_id);
        w = props_write(w, &s->properties);
        while (mqtt5_subscribe_next(s, &it, &sub)) {
            w = wire_put_bytes(w, sub.topic_filter.ptr, sub.topic_filter.len);
            *w++ = (uint8_t)(sub.qos | (sub.no_local ? 4 : 0) | (sub.retain_as_published ? 8 : 0) |
                             (sub.retain_handling << 4));
        }
        break;
    }
    case MQTT5_SUBACK:
    case MQTT5_UNSUBACK:
        w = wire_put_u16(w, p->u.suback.packet_id);
        w = props_write(w, &p->u.suback.properties);
        memcpy(w, p->u.suback.reason_codes, p->u.suback.reason_code_count);
        w += p->u.suback.reason_code_count;
        break;
    case MQTT5_UNSUBSCRIBE: {
        const mqtt5_unsubscribe *u = &p->u.unsubscribe;
        mqtt5_iter it = {0, 0};
        mqtt5_str f;
        w = wire_put_u16(w, u->packet_id);
        w = props_write(w, &u->properties);
        while (mqtt5_unsubscribe_next(u, &it, &f))
            w = wire_put_bytes(w, f.ptr, f.len);
        break;
    }
    case MQTT5_DISCONNECT:
    case MQTT5_AUTH:
        w = write_reason_props(w, p->u.disconnect.reason_code, &p->u.disconnect.properties);
        break;
    default:
        break;
    }
    return (size_t)(w - buf);
}

/* ---- SUBSCRIBE / UNSUBSCRIBE iterators (arrays, or the decoded payload) -------------------- */

bool mqtt5_subscribe_next(const mqtt5_subscribe *s, mqtt5_iter *it, mqtt5_subscription *out)
{
    if (s->subscriptions) {
        if (it->index >= s->subscription_count) return false;
        *out = s->subscriptions[it->index++];
        return true;
    }
    if (!s->raw_payload.ptr) return false;
    const uint8_t *p = s->raw_payload.ptr + it->pos, *end = s->raw_payload.ptr + s->raw_payload.len;
    if (end - p < 3) return false;
    size_t n = (size_t)((p[0] << 8) | p[1]);
    if ((size_t)(end - p) < n + 3) return false;
    uint8_t opt = p[2 + n];
    out->topic_filter = (mqtt5_str){(const char *)p + 2, n};
    out->qos = opt & 3;
    out->no_local = (opt & 4) != 0;
    out->retain_as_published = (opt & 8) != 0;
    out->retain_handling = (opt >> 4) & 3;
    it->pos += n + 3;
    it->index++;
    return true;
}

bool mqtt5_unsubscribe_next(const mqtt5_unsubscribe *u, mqtt5_iter *it, mqtt5_str *out)
{
    if (u->topic_filters) {
        if (it->index >= u->topic_filter_count) return false;
        *out = u->topic_filters[it->index++];
        return true;
    }
    if (!u->raw_payload.ptr) return false;
    const uint8_t *p = u->raw_payload.ptr + it->pos, *end = u->raw_payload.ptr + u->raw_payload.len;
    if (end - p < 2) return false;
    size_t n = (size_t)((p[0] << 8) | p[1]);
    if ((size_t)(end - p) < n + 2) return false;
    *out = (mqtt5_str){(const char *)p + 2, n};
    it->pos += n + 2;
    it->index++;
    return true;
}
