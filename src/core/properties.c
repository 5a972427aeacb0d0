/*
 * properties.c - decoding, validating, sizing and writing of MQTT 5 property blocks, and the
 * iterators over repeated properties. Table-driven by property_table.c.
 */
#include "core/properties.h"

#include "core/property_table.h"
#include "mqtt5/topic.h"

static const char *field_of(const prop_info *info, unsigned kind)
{
    return kind == PROP_KIND_WILL ? info->will_field : info->field;
}

/* ---- decoding ------------------------------------------------------------------------------ */

int props_decode(wire_reader *r, mqtt5_properties *props, unsigned kind)
{
    const uint8_t *len_at = r->p;
    const char *len_field = kind == PROP_KIND_WILL ? "will.properties" : "properties";
    uint32_t block_len;
    int rc = wire_vbi(r, &block_len, len_field);
    if (rc) return rc;
    if (block_len > wire_left(r))
        return WIRE_MALFORMED(r, len_at, len_field, "property length runs past the end");

    props->raw.ptr = r->p;
    props->raw.len = block_len;
    if (block_len == 0) return MQTT5_OK;

    wire_reader pr = {r->base, r->p, r->p + block_len, r->st};
    const uint8_t *auth_data_at = NULL;
    r->p += block_len;

    while (pr.p < pr.end) {
        const uint8_t *at = pr.p;
        uint8_t id = *pr.p++;
        const prop_info *info = prop_info_get(id);
        if (!info) return WIRE_MALFORMED(&pr, at, len_field, "unknown property identifier");
        const char *field = field_of(info, kind);
        if (!(info->kinds & PROP_KIND_BIT(kind)))
            return WIRE_MALFORMED(&pr, at, field, "property not allowed in this packet");
        if (id == MQTT5_PROP_AUTHENTICATION_DATA) auth_data_at = at;

        uint8_t *slot = (uint8_t *)props + info->offset;
        uint32_t num = 0;
        switch (info->type) {
        case PT_BYTE: {
            uint8_t v;
            if ((rc = wire_u8(&pr, &v, field))) return rc;
            *slot = v;
            num = v;
            break;
        }
        case PT_U16: {
            uint16_t v;
            if ((rc = wire_u16(&pr, &v, field))) return rc;
            memcpy(slot, &v, sizeof(v));
            num = v;
            break;
        }
        case PT_U32: {
            uint32_t v;
            if ((rc = wire_u32(&pr, &v, field))) return rc;
            memcpy(slot, &v, sizeof(v));
            num = v;
            break;
        }
        case PT_VBI: /* Subscription Identifier, the only repeatable one besides user props */
            if ((rc = wire_vbi(&pr, &num, field))) return rc;
            if (num == 0)
                return WIRE_PROTOCOL(&pr, at, field, "subscription identifier 0 is not allowed");
            if (props->subscription_identifier_count > 0 && kind != MQTT5_PUBLISH)
                return WIRE_PROTOCOL(&pr, at, field, "property may appear only once");
            props->subscription_identifier_count++;
            continue;
        case PT_STR:
            if ((rc = wire_str(&pr, (mqtt5_str *)(void *)slot, field))) return rc;
            if (info->rule == PR_TOPIC) {
                const mqtt5_str *s = (const mqtt5_str *)(void *)slot;
                if (mqtt5_topic_name_validate(s->ptr, s->len, NULL) != MQTT5_OK)
                    return WIRE_MALFORMED(&pr, at, field, "not a valid topic name");
            }
            break;
        case PT_BIN:
            if ((rc = wire_bytes(&pr, (mqtt5_bytes *)(void *)slot, field))) return rc;
            break;
        case PT_PAIR: {
            mqtt5_str k, v;
            if ((rc = wire_str(&pr, &k, field)) || (rc = wire_str(&pr, &v, field))) return rc;
            props->user_property_count++;
            continue;
        }
        }

        uint64_t bit = MQTT5_PROP_BIT(id);
        if (props->present & bit)
            return WIRE_PROTOCOL(&pr, at, field, "property may appear only once");
        props->present |= bit;

        switch (info->rule) {
        case PR_BOOL:
            if (num > 1) return WIRE_PROTOCOL(&pr, at, field, "value must be 0 or 1");
            break;
        case PR_NONZERO:
            if (num == 0) return WIRE_PROTOCOL(&pr, at, field, "value 0 is not allowed");
            break;
        case PR_ALIAS:
            if (num == 0)
                return wire_fail(&pr, MQTT5_ERR_TOPIC_ALIAS_INVALID, MQTT5_RC_TOPIC_ALIAS_INVALID,
                                 at, field, "topic alias 0 is not allowed");
            break;
        default:
            break;
        }
    }

    if ((props->present & MQTT5_PROP_BIT(MQTT5_PROP_AUTHENTICATION_DATA)) &&
        !(props->present & MQTT5_PROP_BIT(MQTT5_PROP_AUTHENTICATION_METHOD)))
        return WIRE_PROTOCOL(r, auth_data_at, field_of(prop_info_get(0x16), kind),
                             "authentication data without an authentication method");
    return MQTT5_OK;
}

/* ---- validation and size ------------------------------------------------------------------- */

static int enc_fail(mqtt5_codec_status *st, int err, const char *field, const char *detail)
{
    if (st && st->error == MQTT5_OK) {
        st->error = err;
        st->field = field;
        st->detail = detail;
    }
    return err;
}

int enc_check_str(mqtt5_str s, const char *field, mqtt5_codec_status *st)
{
    if (s.len > 65535)
        return enc_fail(st, MQTT5_ERR_INVALID_UTF8, field, "longer than 65535 bytes");
    if (s.len && !s.ptr) return enc_fail(st, MQTT5_ERR_INVALID_ARGUMENT, field, "NULL with length");
    if (!mqtt5_utf8_valid(s.ptr, s.len))
        return enc_fail(st, MQTT5_ERR_INVALID_UTF8, field, "invalid UTF-8 string");
    return MQTT5_OK;
}

int enc_check_bytes(mqtt5_bytes b, const char *field, mqtt5_codec_status *st)
{
    if (b.len > 65535)
        return enc_fail(st, MQTT5_ERR_INVALID_PACKET, field, "longer than 65535 bytes");
    if (b.len && !b.ptr) return enc_fail(st, MQTT5_ERR_INVALID_ARGUMENT, field, "NULL with length");
    return MQTT5_OK;
}

static size_t value_size(const prop_info *info, const mqtt5_properties *props)
{
    const uint8_t *slot = (const uint8_t *)props + info->offset;
    switch (info->type) {
    case PT_BYTE:
        return 1;
    case PT_U16:
        return 2;
    case PT_U32:
        return 4;
    case PT_STR:
        return 2 + ((const mqtt5_str *)(const void *)slot)->len;
    case PT_BIN:
        return 2 + ((const mqtt5_bytes *)(const void *)slot)->len;
    default:
        return 0;
    }
}

int props_size(const mqtt5_properties *props, unsigned kind, size_t *out, mqtt5_codec_status *st)
{
    size_t total = 0;
    int rc;
    *out = 0;
    if (!props_empty(props)) {
        uint64_t bad = props->present & ~prop_single_valued_mask;
        if (bad)
            return enc_fail(st, MQTT5_ERR_INVALID_PACKET,
                            kind == PROP_KIND_WILL ? "will.properties" : "properties",
                            "unknown property bit set in `present`");
        for (uint64_t bits = props->present; bits; bits &= bits - 1) {
            unsigned id = (unsigned)__builtin_ctzll(bits);
            const prop_info *info = prop_info_get(id);
            const char *field = field_of(info, kind);
            const uint8_t *slot = (const uint8_t *)props + info->offset;
            if (!(info->kinds & PROP_KIND_BIT(kind)))
                return enc_fail(st, MQTT5_ERR_INVALID_PACKET, field,
                                "property not allowed in this packet");
            uint32_t num = 0;
            switch (info->type) {
            case PT_BYTE:
                num = *slot;
                break;
            case PT_U16: {
                uint16_t v;
                memcpy(&v, slot, sizeof(v));
                num = v;
                break;
            }
            case PT_U32:
                memcpy(&num, slot, sizeof(num));
                break;
            case PT_STR: {
                const mqtt5_str *s = (const mqtt5_str *)(const void *)slot;
                if ((rc = enc_check_str(*s, field, st))) return rc;
                if (info->rule == PR_TOPIC &&
                    mqtt5_topic_name_validate(s->ptr, s->len, NULL) != MQTT5_OK)
                    return enc_fail(st, MQTT5_ERR_INVALID_TOPIC, field, "not a valid topic name");
                num = 1;
                break;
            }
            case PT_BIN:
                if ((rc = enc_check_bytes(*(const mqtt5_bytes *)(const void *)slot, field, st)))
                    return rc;
                num = 1;
                break;
            }
            if (info->rule == PR_BOOL && num > 1)
                return enc_fail(st, MQTT5_ERR_INVALID_PACKET, field, "value must be 0 or 1");
            if ((info->rule == PR_NONZERO || info->rule == PR_ALIAS) && num == 0)
                return enc_fail(st, MQTT5_ERR_INVALID_PACKET, field, "value 0 is not allowed");
            total += 1 + value_size(info, props);
        }
        if (MQTT5_PROPS_HAS(props, MQTT5_PROP_AUTHENTICATION_DATA) &&
            !MQTT5_PROPS_HAS(props, MQTT5_PROP_AUTHENTICATION_METHOD))
            return enc_fail(st, MQTT5_ERR_INVALID_PACKET,
                            field_of(prop_info_get(MQTT5_PROP_AUTHENTICATION_DATA), kind),
                            "authentication data without an authentication method");

        if (props->subscription_identifier_count) {
            const prop_info *info = prop_info_get(MQTT5_PROP_SUBSCRIPTION_IDENTIFIER);
            const char *field = field_of(info, kind);
            if (!(info->kinds & PROP_KIND_BIT(kind)))
                return enc_fail(st, MQTT5_ERR_INVALID_PACKET, field,
                                "property not allowed in this packet");
            if (kind != MQTT5_PUBLISH && props->subscription_identifier_count > 1)
                return enc_fail(st, MQTT5_ERR_INVALID_PACKET, field,
                                "property may appear only once");
            mqtt5_iter it = {0, 0};
            uint32_t v;
            size_t n = 0;
            while (mqtt5_subscription_identifier_next(props, &it, &v)) {
                if (v == 0 || v > MQTT5_MAX_VBI)
                    return enc_fail(st, MQTT5_ERR_INVALID_PACKET, field,
                                    "must be between 1 and 268435455");
                total += 1 + wire_vbi_len(v);
                n++;
            }
            if (n != props->subscription_identifier_count)
                return enc_fail(st, MQTT5_ERR_INVALID_ARGUMENT, field, "NULL array with a count");
        }
        if (props->user_property_count) {
            const prop_info *info = prop_info_get(MQTT5_PROP_USER_PROPERTY);
            const char *field = field_of(info, kind);
            if (!(info->kinds & PROP_KIND_BIT(kind)))
                return enc_fail(st, MQTT5_ERR_INVALID_PACKET, field,
                                "property not allowed in this packet");
            mqtt5_iter it = {0, 0};
            mqtt5_user_property up;
            size_t n = 0;
            while (mqtt5_user_property_next(props, &it, &up)) {
                if ((rc = enc_check_str(up.name, field, st)) ||
                    (rc = enc_check_str(up.value, field, st)))
                    return rc;
                total += 5 + up.name.len + up.value.len;
                n++;
            }
            if (n != props->user_property_count)
                return enc_fail(st, MQTT5_ERR_INVALID_ARGUMENT, field, "NULL array with a count");
        }
    }
    if (total > MQTT5_MAX_VBI)
        return enc_fail(st, MQTT5_ERR_PACKET_TOO_LARGE,
                        kind == PROP_KIND_WILL ? "will.properties" : "properties",
                        "properties exceed 268435455 bytes");
    *out = total;
    return MQTT5_OK;
}

/* Size of an already validated block, without checks (used by the writer). */
static size_t props_len_fast(const mqtt5_properties *props)
{
    size_t total = 0;
    for (uint64_t bits = props->present; bits; bits &= bits - 1)
        total += 1 + value_size(prop_info_get((unsigned)__builtin_ctzll(bits)), props);
    mqtt5_iter it = {0, 0};
    uint32_t v;
    while (props->subscription_identifier_count &&
           mqtt5_subscription_identifier_next(props, &it, &v))
        total += 1 + wire_vbi_len(v);
    mqtt5_user_property up;
    it = (mqtt5_iter){0, 0};
    while (props->user_property_count && mqtt5_user_property_next(props, &it, &up))
        total += 5 + up.name.len + up.value.len;
    return total;
}

uint8_t *props_write(uint8_t *p, const mqtt5_properties *props)
{
    if (props_empty(props)) {
        *p++ = 0;
        return p;
    }
    p = wire_put_vbi(p, (uint32_t)props_len_fast(props));
    for (uint64_t bits = props->present; bits; bits &= bits - 1) {
        unsigned id = (unsigned)__builtin_ctzll(bits);
        const prop_info *info = prop_info_get(id);
        const uint8_t *slot = (const uint8_t *)props + info->offset;
        *p++ = (uint8_t)id;
        switch (info->type) {
        case PT_BYTE:
            *p++ = *slot;
            break;
        case PT_U16: {
            uint16_t v;
            memcpy(&v, slot, sizeof(v));
            p = wire_put_u16(p, v);
            break;
        }
        case PT_U32: {
            uint32_t v;
            memcpy(&v, slot, sizeof(v));
            p = wire_put_u32(p, v);
            break;
        }
        case PT_STR: {
            const mqtt5_str *s = (const mqtt5_str *)(const void *)slot;
            p = wire_put_bytes(p, s->ptr, s->len);
            break;
        }
        case PT_BIN: {
            const mqtt5_bytes *b = (const mqtt5_bytes *)(const void *)slot;
            p = wire_put_bytes(p, b->ptr, b->len);
            break;
        }
        }
    }
    mqtt5_iter it = {0, 0};
    uint32_t v;
    while (props->subscription_identifier_count &&
           mqtt5_subscription_identifier_next(props, &it, &v)) {
        *p++ = MQTT5_PROP_SUBSCRIPTION_IDENTIFIER;
        p = wire_put_vbi(p, v);
    }
    mqtt5_user_property up;
    it = (mqtt5_iter){0, 0};
    while (props->user_property_count && mqtt5_user_property_next(props, &it, &up)) {
        *p++ = MQTT5_PROP_USER_PROPERTY;
        p = wire_put_bytes(p, up.name.ptr, up.name.len);
        p = wire_put_bytes(p, up.value.ptr, up.value.len);
    }
    return p;
}

/* ---- iterators over the raw block ---------------------------------------------------------- */

/* Advance to the next property with identifier `want` in the raw block; returns a pointer to its
 * value, or NULL at the end. The block was validated by props_decode. */
static const uint8_t *raw_next(const mqtt5_bytes *raw, mqtt5_iter *it, uint8_t want)
{
    if (!raw->ptr) return NULL;
    const uint8_t *p = raw->ptr + it->pos, *end = raw->ptr + raw->len;
    while (p < end) {
        uint8_t id = *p++;
        const prop_info *info = prop_info_get(id);
        const uint8_t *value = p;
        size_t n;
        if (!info) return NULL;
        switch (info->type) {
        case PT_BYTE:
            n = 1;
            break;
        case PT_U16:
            n = 2;
            break;
        case PT_U32:
            n = 4;
            break;
        case PT_VBI: {
            uint32_t v;
            int k = wire_vbi_parse(p, end, &v);
            if (k <= 0) return NULL;
            n = (size_t)k;
            break;
        }
        case PT_STR:
        case PT_BIN:
            if (end - p < 2) return NULL;
            n = 2 + (size_t)((p[0] << 8) | p[1]);
            break;
        default: /* PT_PAIR */
            if (end - p < 2) return NULL;
            n = 2 + (size_t)((p[0] << 8) | p[1]);
            if ((size_t)(end - p) < n + 2) return NULL;
            n += 2 + (size_t)((p[n] << 8) | p[n + 1]);
            break;
        }
        if ((size_t)(end - p) < n) return NULL;
        p += n;
        if (id == want) {
            it->pos = (size_t)(p - raw->ptr);
            return value;
        }
    }
    it->pos = raw->len;
    return NULL;
}

bool mqtt5_user_property_next(const mqtt5_properties *props, mqtt5_iter *it,
                              mqtt5_user_property *out)
{
    if (props->user_properties) {
        if (it->index >= props->user_property_count) return false;
        *out = props->user_properties[it->index++];
        return true;
    }
    const uint8_t *v = raw_next(&props->raw, it, MQTT5_PROP_USER_PROPERTY);
    if (!v) return false;
    size_t kl = (size_t)((v[0] << 8) | v[1]);
    out->name = (mqtt5_str){(const char *)v + 2, kl};
    v += 2 + kl;
    out->value = (mqtt5_str){(const char *)v + 2, (size_t)((v[0] << 8) | v[1])};
    it->index++;
    return true;
}

bool mqtt5_subscription_identifier_next(const mqtt5_properties *props, mqtt5_iter *it,
                                        uint32_t *out)
{
    if (props->subscription_identifiers) {
        if (it->index >= props->subscription_identifier_count) return false;
        *out = props->subscription_identifiers[it->index++];
        return true;
    }
    const uint8_t *v = raw_next(&props->raw, it, MQTT5_PROP_SUBSCRIPTION_IDENTIFIER);
    if (!v) return false;
    wire_vbi_parse(v, props->raw.ptr + props->raw.len, out);
    it->index++;
    return true;
}
