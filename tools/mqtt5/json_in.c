/*
 * tools/mqtt5/json_in.c - builds an mqtt5_packet from the JSON object model of npm mqtt-packet v9
 * (the input of `mqtt5 encode`). Type and range checks happen here; everything the protocol
 * forbids is left to the codec's validation.
 *
 * Conventions: a JSON null counts as an absent field; absent optional fields take mqtt-packet's
 * defaults; unknown keys are ignored except inside "properties"; every check failure names the
 * field by its path ("will.properties.contentType", "subscriptions[1].qos").
 */
#include "json_in.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "props.h"

/* A field path: prefix ("", "will.", "subscriptions[2].") plus key. */
typedef struct ctx {
    arena *a;
    json_error *err;
} ctx;

/* dst = a + b + c, cut to fit (field paths may hold arbitrary user property names). */
static void join(char *dst, size_t cap, const char *a, const char *b, const char *c)
{
    const char *parts[3] = {a, b, c};
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        size_t len = parts[i] ? strlen(parts[i]) : 0;
        if (len > cap - 1 - n) len = cap - 1 - n;
        memcpy(dst + n, parts[i] ? parts[i] : "", len);
        n += len;
    }
    dst[n] = '\0';
}

static bool fail(ctx *c, int code, const char *prefix, const char *key, const char *detail)
{
    c->err->code = code;
    join(c->err->field, sizeof c->err->field, prefix, key, NULL);
    join(c->err->detail, sizeof c->err->detail, detail, NULL, NULL);
    return false;
}

static bool nomem(ctx *c)
{
    return fail(c, MQTT5_ERR_NOMEM, "", NULL, "out of memory");
}

static const cJSON *member(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNull(item) ? NULL : item;
}

/* An integer JSON number in 0..max. */
static bool to_uint(ctx *c, const cJSON *item, double max, const char *prefix, const char *key,
                    uint32_t *out)
{
    if (!cJSON_IsNumber(item)) return fail(c, MQTT5_ERR_PARSE, prefix, key, "expected a number");
    double d = item->valuedouble;
    if (!isfinite(d) || d != floor(d))
        return fail(c, MQTT5_ERR_PARSE, prefix, key, "expected an integer");
    if (d < 0 || d > max) {
        char detail[96];
        snprintf(detail, sizeof detail, "integer out of range 0..%.0f", max);
        return fail(c, MQTT5_ERR_INVALID_PACKET, prefix, key, detail);
    }
    *out = (uint32_t)d;
    return true;
}

static bool get_uint(ctx *c, const cJSON *obj, const char *prefix, const char *key, double max,
                     uint32_t def, uint32_t *out)
{
    const cJSON *item = member(obj, key);
    if (item == NULL) {
        *out = def;
        return true;
    }
    return to_uint(c, item, max, prefix, key, out);
}

static bool get_u8(ctx *c, const cJSON *obj, const char *prefix, const char *key, uint8_t *out)
{
    uint32_t v;
    if (!get_uint(c, obj, prefix, key, 255, 0, &v)) return false;
    *out = (uint8_t)v;
    return true;
}

static bool get_u16(ctx *c, const cJSON *obj, const char *prefix, const char *key, uint16_t *out)
{
    uint32_t v;
    if (!get_uint(c, obj, prefix, key, 65535, 0, &v)) return false;
    *out = (uint16_t)v;
    return true;
}

/* A boolean given as true/false or 0/1. */
static bool to_flag(ctx *c, const cJSON *item, const char *prefix, const char *key, bool *out)
{
    if (cJSON_IsBool(item)) {
        *out = cJSON_IsTrue(item);
        return true;
    }
    uint32_t v;
    if (!cJSON_IsNumber(item))
        return fail(c, MQTT5_ERR_PARSE, prefix, key, "expected a boolean or 0/1");
    if (!to_uint(c, item, 1, prefix, key, &v)) return false;
    *out = v != 0;
    return true;
}

static bool get_flag(ctx *c, const cJSON *obj, const char *prefix, const char *key, bool def,
                     bool *out)
{
    const cJSON *item = member(obj, key);
    if (item == NULL) {
        *out = def;
        return true;
    }
    return to_flag(c, item, prefix, key, out);
}

static bool to_str(ctx *c, const cJSON *item, const char *prefix, const char *key, mqtt5_str *out)
{
    if (!cJSON_IsString(item)) return fail(c, MQTT5_ERR_PARSE, prefix, key, "expected a string");
    out->ptr = item->valuestring;
    out->len = strlen(item->valuestring);
    return true;
}

/* *present tells whether the field was there; when `required`, absence is an error. */
static bool get_str(ctx *c, const cJSON *obj, const char *prefix, const char *key, bool required,
                    mqtt5_str *out, bool *present)
{
    const cJSON *item = member(obj, key);
    if (present) *present = item != NULL;
    if (item == NULL) {
        out->ptr = "";
        out->len = 0;
        if (required) return fail(c, MQTT5_ERR_PARSE, prefix, key, "missing");
        return true;
    }
    return to_str(c, item, prefix, key, out);
}

static bool to_hex(ctx *c, const cJSON *item, const char *prefix, const char *key, mqtt5_bytes *out)
{
    if (!cJSON_IsString(item))
        return fail(c, MQTT5_ERR_PARSE, prefix, key, "expected a hex string");
    const char *s = item->valuestring;
    size_t len = strlen(s);
    uint8_t *buf = arena_alloc(c->a, len / 2);
    if (buf == NULL) return nomem(c);
    size_t n, bad;
    if (!hex_decode(s, len, false, buf, &n, &bad))
        return fail(c, MQTT5_ERR_PARSE, prefix, key,
                    bad == len ? "odd number of hex digits" : "invalid hex digit");
    out->ptr = buf;
    out->len = n;
    return true;
}

static bool get_hex(ctx *c, const cJSON *obj, const char *prefix, const char *key, mqtt5_bytes *out,
                    bool *present)
{
    const cJSON *item = member(obj, key);
    if (present) *present = item != NULL;
    if (item == NULL) {
        static const uint8_t empty[1] = {0};
        out->ptr = empty; /* never NULL: the codec may memcpy from it */
        out->len = 0;
        return true;
    }
    return to_hex(c, item, prefix, key, out);
}

static bool get_object(ctx *c, const cJSON *obj, const char *prefix, const char *key,
                       const cJSON **out)
{
    *out = member(obj, key);
    if (*out != NULL && !cJSON_IsObject(*out))
        return fail(c, MQTT5_ERR_PARSE, prefix, key, "expected an object");
    return true;
}

static bool get_array(ctx *c, const cJSON *obj, const char *prefix, const char *key,
                      const cJSON **out)
{
    *out = member(obj, key);
    if (*out == NULL) return fail(c, MQTT5_ERR_PARSE, prefix, key, "missing");
    if (!cJSON_IsArray(*out)) return fail(c, MQTT5_ERR_PARSE, prefix, key, "expected an array");
    return true;
}

/* ---- properties ------------------------------------------------------------------------- */

static bool user_props(ctx *c, const cJSON *v, const char *path, mqtt5_properties *props)
{
    if (!cJSON_IsObject(v)) return fail(c, MQTT5_ERR_PARSE, path, NULL, "expected an object");
    size_t n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (cJSON_IsArray(e))
            n += (size_t)cJSON_GetArraySize(e);
        else
            n++;
    }
    mqtt5_user_property *ups = arena_alloc_array(c->a, n, sizeof *ups);
    if (ups == NULL) return nomem(c);
    size_t i = 0;
    char sub[256];
    cJSON_ArrayForEach(e, v)
    {
        mqtt5_str name = {e->string, strlen(e->string)};
        join(sub, sizeof sub, path, ".", NULL);
        if (cJSON_IsArray(e)) {
            const cJSON *s;
            cJSON_ArrayForEach(s, e)
            {
                ups[i].name = name;
                if (!to_str(c, s, sub, e->string, &ups[i].value)) return false;
                i++;
            }
        } else {
            ups[i].name = name;
            if (!to_str(c, e, sub, e->string, &ups[i].value)) return false;
            i++;
        }
    }
    props->user_properties = ups;
    props->user_property_count = n;
    return true;
}

static bool sub_ids(ctx *c, const cJSON *v, const char *path, mqtt5_properties *props)
{
    size_t n = cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 1;
    uint32_t *ids = arena_alloc_array(c->a, n, sizeof *ids);
    if (ids == NULL) return nomem(c);
    if (cJSON_IsArray(v)) {
        size_t i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            if (!to_uint(c, e, 4294967295.0, path, NULL, &ids[i++])) return false;
        }
    } else if (!to_uint(c, v, 4294967295.0, path, NULL, &ids[0])) {
        return false;
    }
    props->subscription_identifiers = ids;
    props->subscription_identifier_count = n;
    return true;
}

static bool single_prop(ctx *c, const prop_info *pi, const cJSON *v, const char *path,
                        mqtt5_properties *props)
{
    char *base = (char *)props + pi->offset;
    uint32_t u;
    switch (pi->kind) {
    case PROP_FLAG:
        /* booleans, or numbers so that out-of-range values reach the codec */
        if (cJSON_IsBool(v)) {
            *(uint8_t *)base = cJSON_IsTrue(v) ? 1 : 0;
            break;
        }
        if (!cJSON_IsNumber(v))
            return fail(c, MQTT5_ERR_PARSE, path, NULL, "expected a boolean or a number");
        if (!to_uint(c, v, 255, path, NULL, &u)) return false;
        *(uint8_t *)base = (uint8_t)u;
        break;
    case PROP_U8:
        if (!to_uint(c, v, 255, path, NULL, &u)) return false;
        *(uint8_t *)base = (uint8_t)u;
        break;
    case PROP_U16:
        if (!to_uint(c, v, 65535, path, NULL, &u)) return false;
        *(uint16_t *)base = (uint16_t)u;
        break;
    case PROP_U32:
        if (!to_uint(c, v, 4294967295.0, path, NULL, &u)) return false;
        *(uint32_t *)base = u;
        break;
    case PROP_STR:
        if (!to_str(c, v, path, NULL, (mqtt5_str *)base)) return false;
        break;
    case PROP_BIN:
        if (!to_hex(c, v, path, NULL, (mqtt5_bytes *)base)) return false;
        break;
    case PROP_SUBID:
    case PROP_USER:
        return false; /* not single-valued */
    }
    MQTT5_PROPS_SET(props, pi->id);
    return true;
}

/* obj["properties"] into *props (zeroed first). */
static bool get_props(ctx *c, const cJSON *obj, const char *prefix, mqtt5_properties *props)
{
    memset(props, 0, sizeof *props);
    const cJSON *p;
    if (!get_object(c, obj, prefix, "properties", &p)) return false;
    if (p == NULL) return true;
    const cJSON *v;
    char path[256];
    cJSON_ArrayForEach(v, p)
    {
        join(path, sizeof path, prefix, "properties.", v->string);
        const prop_info *pi = prop_by_name(v->string);
        if (pi == NULL) return fail(c, MQTT5_ERR_PARSE, path, NULL, "unknown property");
        if (cJSON_IsNull(v)) continue;
        bool ok;
        if (pi->kind == PROP_USER)
            ok = user_props(c, v, path, props);
        else if (pi->kind == PROP_SUBID)
            ok = sub_ids(c, v, path, props);
        else
            ok = single_prop(c, pi, v, path, props);
        if (!ok) return false;
    }
    return true;
}

/* ---- packets ----------------------------------------------------------------------------- */

static bool connect_in(ctx *c, const cJSON *o, mqtt5_connect *p)
{
    const cJSON *pid = member(o, "protocolId");
    if (pid != NULL && (!cJSON_IsString(pid) || strcmp(pid->valuestring, "MQTT") != 0))
        return fail(c, MQTT5_ERR_INVALID_PACKET, "", "protocolId", "only \"MQTT\" is supported");
    uint32_t version;
    if (!get_uint(c, o, "", "protocolVersion", 255, 5, &version)) return false;
    if (version != 5)
        return fail(c, MQTT5_ERR_INVALID_PACKET, "", "protocolVersion", "only 5 is supported");
    p->protocol_name.ptr = "MQTT";
    p->protocol_name.len = 4;
    p->protocol_version = 5;
    if (!get_flag(c, o, "", "clean", true, &p->clean_start)) return false;
    if (!get_u16(c, o, "", "keepalive", &p->keep_alive)) return false;
    if (!get_str(c, o, "", "clientId", false, &p->client_id, NULL)) return false;
    if (!get_props(c, o, "", &p->properties)) return false;
    const cJSON *w;
    if (!get_object(c, o, "", "will", &w)) return false;
    if (w != NULL) {
        p->has_will = true;
        if (!get_str(c, w, "will.", "topic", true, &p->will.topic, NULL)) return false;
        if (!get_hex(c, w, "will.", "payload", &p->will.payload, NULL)) return false;
        if (!get_u8(c, w, "will.", "qos", &p->will.qos)) return false;
        if (!get_flag(c, w, "will.", "retain", false, &p->will.retain)) return false;
        if (!get_props(c, w, "will.", &p->will.properties)) return false;
    }
    if (!get_str(c, o, "", "username", false, &p->username, &p->has_username)) return false;
    return get_hex(c, o, "", "password", &p->password, &p->has_password);
}

static bool publish_in(ctx *c, const cJSON *o, mqtt5_publish *p)
{
    return get_str(c, o, "", "topic", true, &p->topic, NULL) &&
           get_hex(c, o, "", "payload", &p->payload, NULL) && get_u8(c, o, "", "qos", &p->qos) &&
           get_flag(c, o, "", "dup", false, &p->dup) &&
           get_flag(c, o, "", "retain", false, &p->retain) &&
           get_u16(c, o, "", "messageId", &p->packet_id) && get_props(c, o, "", &p->properties);
}

static bool subscribe_in(ctx *c, const cJSON *o, mqtt5_subscribe *p)
{
    const cJSON *arr;
    if (!get_u16(c, o, "", "messageId", &p->packet_id)) return false;
    if (!get_array(c, o, "", "subscriptions", &arr)) return false;
    size_t n = (size_t)cJSON_GetArraySize(arr);
    mqtt5_subscription *subs = arena_alloc_array(c->a, n, sizeof *subs);
    if (subs == NULL) return nomem(c);
    size_t i = 0;
    const cJSON *e;
    char prefix[64];
    cJSON_ArrayForEach(e, arr)
    {
        snprintf(prefix, sizeof prefix, "subscriptions[%zu].", i);
        mqtt5_subscription *s = &subs[i++];
        if (!cJSON_IsObject(e)) {
            prefix[strlen(prefix) - 1] = '\0'; /* no trailing '.' */
            return fail(c, MQTT5_ERR_PARSE, "", prefix, "expected an object");
        }
        if (!get_str(c, e, prefix, "topic", true, &s->topic_filter, NULL) ||
            !get_u8(c, e, prefix, "qos", &s->qos) ||
            !get_flag(c, e, prefix, "nl", false, &s->no_local) ||
            !get_flag(c, e, prefix, "rap", false, &s->retain_as_published) ||
            !get_u8(c, e, prefix, "rh", &s->retain_handling))
            return false;
    }
    p->subscriptions = subs;
    p->subscription_count = n;
    return get_props(c, o, "", &p->properties);
}

static bool suback_in(ctx *c, const cJSON *o, mqtt5_suback *p)
{
    const cJSON *arr;
    if (!get_u16(c, o, "", "messageId", &p->packet_id)) return false;
    if (!get_array(c, o, "", "granted", &arr)) return false;
    size_t n = (size_t)cJSON_GetArraySize(arr);
    uint8_t *codes = arena_alloc(c->a, n);
    if (codes == NULL) return nomem(c);
    size_t i = 0;
    const cJSON *e;
    char key[64];
    cJSON_ArrayForEach(e, arr)
    {
        uint32_t v;
        snprintf(key, sizeof key, "granted[%zu]", i);
        if (!to_uint(c, e, 255, "", key, &v)) return false;
        codes[i++] = (uint8_t)v;
    }
    p->reason_codes = codes;
    p->reason_code_count = n;
    return get_props(c, o, "", &p->properties);
}

static bool unsubscribe_in(ctx *c, const cJSON *o, mqtt5_unsubscribe *p)
{
    const cJSON *arr;
    if (!get_u16(c, o, "", "messageId", &p->packet_id)) return false;
    if (!get_array(c, o, "", "unsubscriptions", &arr)) return false;
    size_t n = (size_t)cJSON_GetArraySize(arr);
    mqtt5_str *filters = arena_alloc_array(c->a, n, sizeof *filters);
    if (filters == NULL) return nomem(c);
    size_t i = 0;
    const cJSON *e;
    char key[64];
    cJSON_ArrayForEach(e, arr)
    {
        snprintf(key, sizeof key, "unsubscriptions[%zu]", i);
        if (!to_str(c, e, "", key, &filters[i++])) return false;
    }
    p->topic_filters = filters;
    p->topic_filter_count = n;
    return get_props(c, o, "", &p->properties);
}

static bool ack_in(ctx *c, const cJSON *o, mqtt5_ack *p)
{
    return get_u16(c, o, "", "messageId", &p->packet_id) &&
           get_u8(c, o, "", "reasonCode", &p->reason_code) && get_props(c, o, "", &p->properties);
}

static bool disconnect_in(ctx *c, const cJSON *o, mqtt5_disconnect *p)
{
    return get_u8(c, o, "", "reasonCode", &p->reason_code) && get_props(c, o, "", &p->properties);
}

static int type_from_cmd(const char *cmd)
{
    for (int t = MQTT5_CONNECT; t <= MQTT5_AUTH; t++) {
        const char *name = mqtt5_packet_type_name(t);
        if (name != NULL && strcmp(name, cmd) == 0) return t;
    }
    return 0;
}

int json_to_packet(const cJSON *root, mqtt5_packet *out, arena *a, json_error *err)
{
    ctx c = {a, err};
    err->code = MQTT5_OK;
    err->field[0] = '\0';
    err->detail[0] = '\0';
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(root)) {
        fail(&c, MQTT5_ERR_PARSE, "", NULL, "expected a JSON object");
        return err->code;
    }
    const cJSON *cmd = member(root, "cmd");
    if (cmd == NULL) {
        fail(&c, MQTT5_ERR_PARSE, "", "cmd", "missing");
        return err->code;
    }
    if (!cJSON_IsString(cmd)) {
        fail(&c, MQTT5_ERR_PARSE, "", "cmd", "expected a string");
        return err->code;
    }
    int type = type_from_cmd(cmd->valuestring);
    if (type == 0) {
        fail(&c, MQTT5_ERR_PARSE, "", "cmd", "unknown packet type");
        return err->code;
    }
    out->type = (mqtt5_packet_type)type;
    bool ok = true;
    switch (out->type) {
    case MQTT5_CONNECT:
        ok = connect_in(&c, root, &out->u.connect);
        break;
    case MQTT5_CONNACK:
        ok = get_flag(&c, root, "", "sessionPresent", false, &out->u.connack.session_present) &&
             get_u8(&c, root, "", "reasonCode", &out->u.connack.reason_code) &&
             get_props(&c, root, "", &out->u.connack.properties);
        break;
    case MQTT5_PUBLISH:
        ok = publish_in(&c, root, &out->u.publish);
        break;
    case MQTT5_PUBACK:
    case MQTT5_PUBREC:
    case MQTT5_PUBREL:
    case MQTT5_PUBCOMP:
        ok = ack_in(&c, root, &out->u.ack);
        break;
    case MQTT5_SUBSCRIBE:
        ok = subscribe_in(&c, root, &out->u.subscribe);
        break;
    case MQTT5_SUBACK:
    case MQTT5_UNSUBACK:
        ok = suback_in(&c, root, &out->u.suback);
        break;
    case MQTT5_UNSUBSCRIBE:
        ok = unsubscribe_in(&c, root, &out->u.unsubscribe);
        break;
    case MQTT5_PINGREQ:
    case MQTT5_PINGRESP:
        break;
    case MQTT5_DISCONNECT:
        ok = disconnect_in(&c, root, &out->u.disconnect);
        break;
    case MQTT5_AUTH:
        ok = disconnect_in(&c, root, &out->u.auth);
        break;
    }
    return ok ? MQTT5_OK : err->code;
}

bool json_has_nul_escape(const char *text, size_t len)
{
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (!in_string) {
            if (ch == '"') in_string = true;
            continue;
        }
        if (ch == '"') {
            in_string = false;
        } else if (ch == '\\' && i + 1 < len) {
            if (text[i + 1] == 'u' && i + 5 < len && memcmp(text + i + 2, "0000", 4) == 0)
                return true;
            i++; /* skip the escaped character */
        }
    }
    return false;
}
