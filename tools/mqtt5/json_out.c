/*
 * tools/mqtt5/json_out.c - turns a decoded mqtt5_packet into the JSON object model of npm
 * mqtt-packet v9 (protocolVersion 5), binary fields as lowercase hex.
 *
 * Every builder takes a `bool *ok` that it clears when cJSON runs out of memory, so the callers
 * can build the whole object and check once.
 */
#include "json_out.h"

#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "props.h"

static void add_item(cJSON *obj, const char *key, cJSON *item, bool *ok)
{
    if (item == NULL || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        *ok = false;
    }
}

/* NUL-terminated copy of a string view (malloc). */
static char *str_dup(mqtt5_str s)
{
    char *c = malloc(s.len + 1);
    if (c == NULL) return NULL;
    if (s.len > 0) memcpy(c, s.ptr, s.len);
    c[s.len] = '\0';
    return c;
}

static cJSON *str_json(mqtt5_str s)
{
    char *c = str_dup(s);
    if (c == NULL) return NULL;
    cJSON *item = cJSON_CreateString(c);
    free(c);
    return item;
}

static void add_str(cJSON *obj, const char *key, mqtt5_str s, bool *ok)
{
    add_item(obj, key, str_json(s), ok);
}

static void add_hex(cJSON *obj, const char *key, mqtt5_bytes b, bool *ok)
{
    char *h = hex_encode(b.ptr, b.len);
    if (h == NULL) {
        *ok = false;
        return;
    }
    add_item(obj, key, cJSON_CreateString(h), ok);
    free(h);
}

static void add_num(cJSON *obj, const char *key, double v, bool *ok)
{
    add_item(obj, key, cJSON_CreateNumber(v), ok);
}

static void add_bool(cJSON *obj, const char *key, bool v, bool *ok)
{
    add_item(obj, key, cJSON_CreateBool(v), ok);
}

/* userProperties: {name: value}, a repeated name collects its values in an array. */
static cJSON *user_props_json(const mqtt5_properties *props, bool *ok)
{
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL) {
        *ok = false;
        return NULL;
    }
    mqtt5_iter it = {0};
    mqtt5_user_property up;
    while (*ok && mqtt5_user_property_next(props, &it, &up)) {
        char *name = str_dup(up.name);
        cJSON *value = str_json(up.value);
        if (name == NULL || value == NULL) {
            free(name);
            cJSON_Delete(value);
            *ok = false;
            break;
        }
        cJSON *prev = cJSON_GetObjectItemCaseSensitive(obj, name);
        if (prev == NULL) {
            add_item(obj, name, value, ok);
        } else if (cJSON_IsArray(prev)) {
            if (!cJSON_AddItemToArray(prev, value)) {
                cJSON_Delete(value);
                *ok = false;
            }
        } else {
            /* second value for this name: turn the entry into an array in place */
            cJSON *arr = cJSON_CreateArray();
            cJSON *first = cJSON_CreateString(cJSON_GetStringValue(prev));
            if (arr == NULL || first == NULL || !cJSON_AddItemToArray(arr, first)) {
                cJSON_Delete(first);
                cJSON_Delete(arr);
                cJSON_Delete(value);
                *ok = false;
            } else if (!cJSON_AddItemToArray(arr, value)) {
                cJSON_Delete(arr);
                cJSON_Delete(value);
                *ok = false;
            } else if (!cJSON_ReplaceItemInObjectCaseSensitive(obj, name, arr)) {
                cJSON_Delete(arr);
                *ok = false;
            }
        }
        free(name);
    }
    return obj;
}

/* subscriptionIdentifier: a number, or an array when repeated. */
static cJSON *sub_ids_json(const mqtt5_properties *props, bool *ok)
{
    mqtt5_iter it = {0};
    uint32_t id;
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL) {
        *ok = false;
        return NULL;
    }
    while (mqtt5_subscription_identifier_next(props, &it, &id)) {
        cJSON *n = cJSON_CreateNumber((double)id);
        if (n == NULL || !cJSON_AddItemToArray(arr, n)) {
            cJSON_Delete(n);
            *ok = false;
            break;
        }
    }
    if (cJSON_GetArraySize(arr) == 1) {
        cJSON *one = cJSON_DetachItemFromArray(arr, 0);
        cJSON_Delete(arr);
        return one;
    }
    return arr;
}

static void add_single_prop(cJSON *obj, const char *name, const prop_info *pi,
                            const mqtt5_properties *props, bool *ok)
{
    const char *base = (const char *)props + pi->offset;
    switch (pi->kind) {
    case PROP_FLAG:
        add_bool(obj, name, *(const uint8_t *)base != 0, ok);
        break;
    case PROP_U8:
        add_num(obj, name, *(const uint8_t *)base, ok);
        break;
    case PROP_U16:
        add_num(obj, name, *(const uint16_t *)base, ok);
        break;
    case PROP_U32:
        add_num(obj, name, *(const uint32_t *)base, ok);
        break;
    case PROP_STR:
        add_str(obj, name, *(const mqtt5_str *)base, ok);
        break;
    case PROP_BIN:
        add_hex(obj, name, *(const mqtt5_bytes *)base, ok);
        break;
    case PROP_SUBID:
    case PROP_USER:
        break;
    }
}

/* Adds "properties" to obj unless the property set is empty. */
static void add_props(cJSON *obj, const mqtt5_properties *props, bool *ok)
{
    cJSON *p = cJSON_CreateObject();
    if (p == NULL) {
        *ok = false;
        return;
    }
    size_t count;
    const prop_info *table = prop_table(&count);
    for (size_t i = 0; i < count && *ok; i++) {
        const prop_info *pi = &table[i];
        const char *name = mqtt5_property_name(pi->id);
        if (name == NULL) continue;
        if (pi->kind == PROP_USER) {
            cJSON *u = user_props_json(props, ok);
            if (cJSON_GetArraySize(u) > 0)
                add_item(p, name, u, ok);
            else
                cJSON_Delete(u);
        } else if (pi->kind == PROP_SUBID) {
            cJSON *s = sub_ids_json(props, ok);
            if (cJSON_IsNumber(s) || cJSON_GetArraySize(s) > 0)
                add_item(p, name, s, ok);
            else
                cJSON_Delete(s);
        } else if (MQTT5_PROPS_HAS(props, pi->id)) {
            add_single_prop(p, name, pi, props, ok);
        }
    }
    if (cJSON_GetArraySize(p) > 0)
        add_item(obj, "properties", p, ok);
    else
        cJSON_Delete(p);
}

static void connect_json(cJSON *o, const mqtt5_connect *c, bool *ok)
{
    add_str(o, "protocolId", c->protocol_name, ok);
    add_num(o, "protocolVersion", c->protocol_version, ok);
    add_bool(o, "clean", c->clean_start, ok);
    add_num(o, "keepalive", c->keep_alive, ok);
    add_str(o, "clientId", c->client_id, ok);
    add_props(o, &c->properties, ok);
    if (c->has_will) {
        cJSON *w = cJSON_CreateObject();
        if (w == NULL) {
            *ok = false;
            return;
        }
        add_str(w, "topic", c->will.topic, ok);
        add_hex(w, "payload", c->will.payload, ok);
        add_num(w, "qos", c->will.qos, ok);
        add_bool(w, "retain", c->will.retain, ok);
        add_props(w, &c->will.properties, ok);
        add_item(o, "will", w, ok);
    }
    if (c->has_username) add_str(o, "username", c->username, ok);
    if (c->has_password) add_hex(o, "password", c->password, ok);
}

static void publish_json(cJSON *o, const mqtt5_publish *p, bool *ok)
{
    add_str(o, "topic", p->topic, ok);
    add_hex(o, "payload", p->payload, ok);
    add_num(o, "qos", p->qos, ok);
    add_bool(o, "dup", p->dup, ok);
    add_bool(o, "retain", p->retain, ok);
    if (p->qos > 0) add_num(o, "messageId", p->packet_id, ok);
    add_props(o, &p->properties, ok);
}

static void subscribe_json(cJSON *o, const mqtt5_subscribe *s, bool *ok)
{
    add_num(o, "messageId", s->packet_id, ok);
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL) {
        *ok = false;
        return;
    }
    mqtt5_iter it = {0};
    mqtt5_subscription sub;
    while (*ok && mqtt5_subscribe_next(s, &it, &sub)) {
        cJSON *e = cJSON_CreateObject();
        if (e == NULL || !cJSON_AddItemToArray(arr, e)) {
            cJSON_Delete(e);
            *ok = false;
            break;
        }
        add_str(e, "topic", sub.topic_filter, ok);
        add_num(e, "qos", sub.qos, ok);
        add_bool(e, "nl", sub.no_local, ok);
        add_bool(e, "rap", sub.retain_as_published, ok);
        add_num(e, "rh", sub.retain_handling, ok);
    }
    add_item(o, "subscriptions", arr, ok);
    add_props(o, &s->properties, ok);
}

static void suback_json(cJSON *o, const mqtt5_suback *s, bool *ok)
{
    add_num(o, "messageId", s->packet_id, ok);
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL) {
        *ok = false;
        return;
    }
    for (size_t i = 0; i < s->reason_code_count && *ok; i++) {
        cJSON *n = cJSON_CreateNumber(s->reason_codes[i]);
        if (n == NULL || !cJSON_AddItemToArray(arr, n)) {
            cJSON_Delete(n);
            *ok = false;
        }
    }
    add_item(o, "granted", arr, ok);
    add_props(o, &s->properties, ok);
}

static void unsubscribe_json(cJSON *o, const mqtt5_unsubscribe *u, bool *ok)
{
    add_num(o, "messageId", u->packet_id, ok);
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL) {
        *ok = false;
        return;
    }
    mqtt5_iter it = {0};
    mqtt5_str filter;
    while (*ok && mqtt5_unsubscribe_next(u, &it, &filter)) {
        cJSON *s = str_json(filter);
        if (s == NULL || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            *ok = false;
        }
    }
    add_item(o, "unsubscriptions", arr, ok);
    add_props(o, &u->properties, ok);
}

cJSON *packet_to_json(const mqtt5_packet *packet)
{
    const char *cmd = mqtt5_packet_type_name(packet->type);
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || cmd == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    bool ok = true;
    add_item(o, "cmd", cJSON_CreateString(cmd), &ok);
    switch (packet->type) {
    case MQTT5_CONNECT:
        connect_json(o, &packet->u.connect, &ok);
        break;
    case MQTT5_CONNACK:
        add_bool(o, "sessionPresent", packet->u.connack.session_present, &ok);
        add_num(o, "reasonCode", packet->u.connack.reason_code, &ok);
        add_props(o, &packet->u.connack.properties, &ok);
        break;
    case MQTT5_PUBLISH:
        publish_json(o, &packet->u.publish, &ok);
        break;
    case MQTT5_PUBACK:
    case MQTT5_PUBREC:
    case MQTT5_PUBREL:
    case MQTT5_PUBCOMP:
        add_num(o, "messageId", packet->u.ack.packet_id, &ok);
        add_num(o, "reasonCode", packet->u.ack.reason_code, &ok);
        add_props(o, &packet->u.ack.properties, &ok);
        break;
    case MQTT5_SUBSCRIBE:
        subscribe_json(o, &packet->u.subscribe, &ok);
        break;
    case MQTT5_SUBACK:
    case MQTT5_UNSUBACK:
        suback_json(o, &packet->u.suback, &ok);
        break;
    case MQTT5_UNSUBSCRIBE:
        unsubscribe_json(o, &packet->u.unsubscribe, &ok);
        break;
    case MQTT5_PINGREQ:
    case MQTT5_PINGRESP:
        break;
    case MQTT5_DISCONNECT:
        add_num(o, "reasonCode", packet->u.disconnect.reason_code, &ok);
        add_props(o, &packet->u.disconnect.properties, &ok);
        break;
    case MQTT5_AUTH:
        add_num(o, "reasonCode", packet->u.auth.reason_code, &ok);
        add_props(o, &packet->u.auth.properties, &ok);
        break;
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
