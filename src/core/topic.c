/*
 * topic.c - topic name and topic filter validation and matching (MQTT 5 sections 4.7 and
 * 4.8.2), shared by the codec (decode and encode checks) and later by the client core.
 */
#include <string.h>

#include "mqtt5/codec.h"
#include "mqtt5/topic.h"

#define SHARE_PREFIX "$share/"
#define SHARE_PREFIX_LEN 7

static int fail(const char **why, int err, const char *msg)
{
    if (why) *why = msg;
    return err;
}

int mqtt5_topic_name_validate(const char *topic, size_t len, const char **why)
{
    if (len == 0) return fail(why, MQTT5_ERR_INVALID_TOPIC, "topic name is empty");
    if (!topic) return fail(why, MQTT5_ERR_INVALID_TOPIC, "topic name is NULL");
    for (size_t i = 0; i < len; i++)
        if (topic[i] == '+' || topic[i] == '#')
            return fail(why, MQTT5_ERR_INVALID_TOPIC, "topic name contains a wildcard");
    if (!mqtt5_utf8_valid(topic, len))
        return fail(why, MQTT5_ERR_INVALID_UTF8, "topic name is not valid UTF-8");
    return MQTT5_OK;
}

/* Wildcard placement in a plain (non-shared) filter. */
static int filter_levels_validate(const char *f, size_t len, const char **why)
{
    for (size_t i = 0; i < len; i++) {
        bool level_start = i == 0 || f[i - 1] == '/';
        bool level_end = i + 1 == len || f[i + 1] == '/';
        if (f[i] == '+') {
            if (!level_start || !level_end)
                return fail(why, MQTT5_ERR_INVALID_TOPIC, "'+' must occupy a whole level");
        } else if (f[i] == '#') {
            if (!level_start || i + 1 != len)
                return fail(why, MQTT5_ERR_INVALID_TOPIC, "'#' must be the whole last level");
        }
    }
    return MQTT5_OK;
}

bool mqtt5_topic_filter_is_shared(const char *filter, size_t len)
{
    return filter && len >= SHARE_PREFIX_LEN && memcmp(filter, SHARE_PREFIX, SHARE_PREFIX_LEN) == 0;
}

int mqtt5_topic_filter_validate(const char *filter, size_t len, const char **why)
{
    if (len == 0) return fail(why, MQTT5_ERR_INVALID_TOPIC, "topic filter is empty");
    if (!filter) return fail(why, MQTT5_ERR_INVALID_TOPIC, "topic filter is NULL");
    if (!mqtt5_utf8_valid(filter, len))
        return fail(why, MQTT5_ERR_INVALID_UTF8, "topic filter is not valid UTF-8");
    if (mqtt5_topic_filter_is_shared(filter, len)) {
        const char *name = filter + SHARE_PREFIX_LEN;
        size_t rest = len - SHARE_PREFIX_LEN;
        const char *slash = memchr(name, '/', rest);
        if (!slash) return fail(why, MQTT5_ERR_INVALID_TOPIC, "shared subscription has no filter");
        size_t name_len = (size_t)(slash - name);
        if (name_len == 0) return fail(why, MQTT5_ERR_INVALID_TOPIC, "share name is empty");
        for (size_t i = 0; i < name_len; i++)
            if (name[i] == '+' || name[i] == '#')
                return fail(why, MQTT5_ERR_INVALID_TOPIC, "share name contains a wildcard");
        size_t inner_len = rest - name_len - 1;
        if (inner_len == 0)
            return fail(why, MQTT5_ERR_INVALID_TOPIC, "shared subscription has no filter");
        return filter_levels_validate(slash + 1, inner_len, why);
    }
    return filter_levels_validate(filter, len, why);
}

bool mqtt5_topic_filter_has_wildcard(const char *filter, size_t len)
{
    if (mqtt5_topic_filter_is_shared(filter, len)) {
        const char *slash = memchr(filter + SHARE_PREFIX_LEN, '/', len - SHARE_PREFIX_LEN);
        if (!slash) return false;
        len -= (size_t)(slash + 1 - filter);
        filter = slash + 1;
    }
    for (size_t i = 0; i < len; i++)
        if (filter[i] == '+' || filter[i] == '#') return true;
    return false;
}

bool mqtt5_topic_matches(const char *filter, size_t flen, const char *topic, size_t tlen)
{
    if (mqtt5_topic_filter_is_shared(filter, flen)) {
        const char *slash = memchr(filter + SHARE_PREFIX_LEN, '/', flen - SHARE_PREFIX_LEN);
        if (!slash) return false;
        flen -= (size_t)(slash + 1 - filter);
        filter = slash + 1;
    }
    /* [MQTT-4.7.2-1] a filter starting with a wildcard does not match topics starting with '$' */
    if (tlen > 0 && topic[0] == '$' && flen > 0 && (filter[0] == '+' || filter[0] == '#'))
        return false;
    size_t fi = 0, ti = 0;
    while (fi < flen) {
        if (filter[fi] == '#') return true; /* matches the parent level and everything below */
        if (filter[fi] == '+') {
            while (ti < tlen && topic[ti] != '/')
                ti++;
            fi++;
        } else {
            /* literal level: compare up to the next '/' */
            while (fi < flen && filter[fi] != '/') {
                if (ti >= tlen || topic[ti] != filter[fi]) return false;
                fi++, ti++;
            }
            if (ti < tlen && topic[ti] != '/') return false;
        }
        /* here both are at a level end */
        if (fi == flen) return ti == tlen;
        /* filter has '/' at fi */
        if (ti == tlen) {
            /* "sport/#" matches "sport": the rest of the filter must be exactly "/#" */
            return flen - fi == 2 && filter[fi + 1] == '#';
        }
        fi++, ti++; /* skip the '/' in both */
    }
    return ti == tlen;
}
