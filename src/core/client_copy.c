/*
 * client_copy.c - deep copies of packets for the client core (see client_copy.h). Repeated items
 * are read through the public iterators, so a decoded packet can be copied as well as one built
 * by the user.
 */
#include "core/client_copy.h"

#include <string.h>

void *copier_put(copier *cp, const void *src, size_t n)
{
    size_t at = (cp->used + 7u) & ~(size_t)7u;
    cp->used = at + n;
    if (!cp->base) return NULL;
    if (n && src) memcpy(cp->base + at, src, n);
    return cp->base + at;
}

static mqtt5_str put_str(copier *cp, mqtt5_str s)
{
    const char *p = copier_put(cp, s.ptr, s.len);
    return (mqtt5_str){p ? p : (cp->base ? (const char *)cp->base : NULL), s.len};
}

static mqtt5_bytes put_bytes(copier *cp, mqtt5_bytes b)
{
    const uint8_t *p = copier_put(cp, b.ptr, b.len);
    return (mqtt5_bytes){p ? p : (cp->base ? cp->base : NULL), b.len};
}

void copy_properties(copier *cp, mqtt5_properties *dst, const mqtt5_properties *src)
{
    if (src->user_property_count == 0 && src->subscription_identifier_count == 0 &&
        (src->present & ~(MQTT5_PROP_BIT(MQTT5_PROP_PAYLOAD_FORMAT_INDICATOR) |
                          MQTT5_PROP_BIT(MQTT5_PROP_MESSAGE_EXPIRY_INTERVAL) |
                          MQTT5_PROP_BIT(MQTT5_PROP_TOPIC_ALIAS))) == 0) {
        /* nothing to copy out of line (the common PUBLISH) */
        if (dst) {
            *dst = *src;
            dst->user_properties = NULL;
            dst->subscription_identifiers = NULL;
            dst->raw = (mqtt5_bytes){NULL, 0};
        }
        return;
    }
    mqtt5_properties tmp = *src;
    tmp.raw = (mqtt5_bytes){NULL, 0};
#define STR(f)                                                                                     \
    if (src->present & MQTT5_PROP_BIT(id_##f)) tmp.f = put_str(cp, src->f)
    enum {
        id_content_type = MQTT5_PROP_CONTENT_TYPE,
        id_response_topic = MQTT5_PROP_RESPONSE_TOPIC,
        id_assigned_client_identifier = MQTT5_PROP_ASSIGNED_CLIENT_IDENTIFIER,
        id_authentication_method = MQTT5_PROP_AUTHENTICATION_METHOD,
        id_response_information = MQTT5_PROP_RESPONSE_INFORMATION,
        id_server_reference = MQTT5_PROP_SERVER_REFERENCE,
        id_reason_string = MQTT5_PROP_REASON_STRING,
        id_correlation_data = MQTT5_PROP_CORRELATION_DATA,
        id_authentication_data = MQTT5_PROP_AUTHENTICATION_DATA,
    };
    STR(content_type);
    STR(response_topic);
    STR(assigned_client_identifier);
    STR(authentication_method);
    STR(response_information);
    STR(server_reference);
    STR(reason_string);
#undef STR
    if (src->present & MQTT5_PROP_BIT(id_correlation_data))
        tmp.correlation_data = put_bytes(cp, src->correlation_data);
    if (src->present & MQTT5_PROP_BIT(id_authentication_data))
        tmp.authentication_data = put_bytes(cp, src->authentication_data);

    if (src->user_property_count) {
        mqtt5_user_property *ups = copier_put(cp, NULL, src->user_property_count * sizeof *ups);
        mqtt5_iter it = {0, 0};
        mqtt5_user_property up;
        size_t i = 0;
        while (i < src->user_property_count && mqtt5_user_property_next(src, &it, &up)) {
            mqtt5_user_property c = {put_str(cp, up.name), put_str(cp, up.value)};
            if (ups) ups[i] = c;
            i++;
        }
        tmp.user_properties = ups;
    }
    if (src->subscription_identifier_count) {
        uint32_t *ids = copier_put(cp, NULL, src->subscription_identifier_count * sizeof *ids);
        mqtt5_iter it = {0, 0};
        uint32_t v;
        size_t i = 0;
        while (i < src->subscription_identifier_count &&
               mqtt5_subscription_identifier_next(src, &it, &v)) {
            if (ids) ids[i] = v;
            i++;
        }
        tmp.subscription_identifiers = ids;
    }
    if (dst) *dst = tmp;
}

void copy_publish(copier *cp, mqtt5_publish *dst, const mqtt5_publish *src)
{
    mqtt5_publish tmp = *src;
    tmp.topic = put_str(cp, src->topic);
    tmp.payload = put_bytes(cp, src->payload);
    copy_properties(cp, dst ? &dst->properties : NULL, &src->properties);
    if (dst) {
        tmp.properties = dst->properties;
        *dst = tmp;
    }
}

void copy_subscribe(copier *cp, mqtt5_subscribe *dst, const mqtt5_subscribe *src)
{
    mqtt5_subscribe tmp = *src;
    mqtt5_subscription *subs = copier_put(cp, NULL, src->subscription_count * sizeof *subs);
    mqtt5_iter it = {0, 0};
    mqtt5_subscription s;
    size_t i = 0;
    while (i < src->subscription_count && mqtt5_subscribe_next(src, &it, &s)) {
        s.topic_filter = put_str(cp, s.topic_filter);
        if (subs) subs[i] = s;
        i++;
    }
    tmp.subscriptions = subs;
    tmp.raw_payload = (mqtt5_bytes){NULL, 0};
    copy_properties(cp, dst ? &dst->properties : NULL, &src->properties);
    if (dst) {
        tmp.properties = dst->properties;
        *dst = tmp;
    }
}

void copy_unsubscribe(copier *cp, mqtt5_unsubscribe *dst, const mqtt5_unsubscribe *src)
{
    mqtt5_unsubscribe tmp = *src;
    mqtt5_str *filters = copier_put(cp, NULL, src->topic_filter_count * sizeof *filters);
    mqtt5_iter it = {0, 0};
    mqtt5_str f;
    size_t i = 0;
    while (i < src->topic_filter_count && mqtt5_unsubscribe_next(src, &it, &f)) {
        f = put_str(cp, f);
        if (filters) filters[i] = f;
        i++;
    }
    tmp.topic_filters = filters;
    tmp.raw_payload = (mqtt5_bytes){NULL, 0};
    copy_properties(cp, dst ? &dst->properties : NULL, &src->properties);
    if (dst) {
        tmp.properties = dst->properties;
        *dst = tmp;
    }
}

void copy_disconnect(copier *cp, mqtt5_disconnect *dst, const mqtt5_disconnect *src)
{
    mqtt5_disconnect tmp = *src;
    copy_properties(cp, dst ? &tmp.properties : NULL, &src->properties);
    if (dst) *dst = tmp;
}
