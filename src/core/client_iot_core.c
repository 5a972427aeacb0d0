/*
 * client_iot_core.c - AWS IoT Core limit checks (see client_iot_core.h for the limits and their
 * source, https://docs.aws.amazon.com/general/latest/gr/iot-core.html). Only counts bytes and
 * slashes; MQTT 5 validity is the codec's job. No allocation, no I/O.
 */
#include <string.h>

#include "core/client_iot_core.h"

static int fail(mqtt5_codec_status *st, const char *field, const char *detail)
{
    if (st && st->error == MQTT5_OK) {
        st->error = MQTT5_ERR_IOT_CORE_LIMIT;
        st->field = field;
        st->detail = detail;
    }
    return MQTT5_ERR_IOT_CORE_LIMIT;
}

/* If t starts with `prefix` followed by a non-empty level and '/', drop all of that. */
static mqtt5_str skip_prefix(mqtt5_str t, const char *prefix)
{
    size_t n = strlen(prefix);
    if (t.len <= n || memcmp(t.ptr, prefix, n) != 0) return t;
    const char *slash = memchr(t.ptr + n, '/', t.len - n);
    if (slash == NULL || slash == t.ptr + n) return t; /* no level, or an empty one */
    size_t skip = (size_t)(slash - t.ptr) + 1;
    return (mqtt5_str){t.ptr + skip, t.len - skip};
}

static int check_limits(mqtt5_str t, const char *field, mqtt5_codec_status *st)
{
    if (t.len > CLIENT_IOT_CORE_MAX_TOPIC_BYTES)
        return fail(st, field, "longer than 256 bytes (AWS IoT Core topic size limit)");
    size_t slashes = 0;
    for (size_t i = 0; i < t.len; i++)
        slashes += t.ptr[i] == '/';
    if (slashes > CLIENT_IOT_CORE_MAX_SLASHES)
        return fail(st, field, "more than 7 '/' (AWS IoT Core allows at most 8 topic levels)");
    return MQTT5_OK;
}

int client_iot_core_check_topic(mqtt5_str topic, const char *field, mqtt5_codec_status *st)
{
    return check_limits(skip_prefix(topic, "$aws/rules/"), field, st);
}

int client_iot_core_check_filter(mqtt5_str filter, const char *field, mqtt5_codec_status *st)
{
    mqtt5_str f = skip_prefix(filter, "$share/");
    return check_limits(skip_prefix(f, "$aws/rules/"), field, st);
}

int client_iot_core_check_client_id(mqtt5_str id, mqtt5_codec_status *st)
{
    if (id.len > CLIENT_IOT_CORE_MAX_CLIENT_ID_BYTES)
        return fail(st, "clientId", "longer than 128 bytes (AWS IoT Core client ID limit)");
    return MQTT5_OK;
}

int client_iot_core_check_publish(const mqtt5_publish *p, mqtt5_codec_status *st)
{
    int rc = client_iot_core_check_topic(p->topic, "topic", st);
    if (rc) return rc;
    if (p->payload.len > CLIENT_IOT_CORE_MAX_PAYLOAD_BYTES)
        return fail(st, "payload", "larger than 128 KB (AWS IoT Core payload limit)");
    return MQTT5_OK;
}

int client_iot_core_check_subscribe(const mqtt5_subscribe *s, mqtt5_codec_status *st)
{
    mqtt5_iter it = {0};
    mqtt5_subscription sub;
    size_t n = 0;
    while (mqtt5_subscribe_next(s, &it, &sub)) {
        if (++n > CLIENT_IOT_CORE_MAX_SUBSCRIPTIONS)
            return fail(st, "subscriptions",
                        "more than 8 topic filters in one SUBSCRIBE (AWS IoT Core limit)");
        int rc = client_iot_core_check_filter(sub.topic_filter, "subscriptions.topic", st);
        if (rc) return rc;
    }
    return MQTT5_OK;
}

int client_iot_core_check_unsubscribe(const mqtt5_unsubscribe *u, mqtt5_codec_status *st)
{
    mqtt5_iter it = {0};
    mqtt5_str f;
    size_t n = 0;
    while (mqtt5_unsubscribe_next(u, &it, &f)) {
        if (++n > CLIENT_IOT_CORE_MAX_UNSUBSCRIPTIONS)
            return fail(st, "unsubscriptions",
                        "more than 8 topic filters in one UNSUBSCRIBE (AWS IoT Core limit)");
        int rc = client_iot_core_check_filter(f, "unsubscriptions", st);
        if (rc) return rc;
    }
    return MQTT5_OK;
}
