/*
 * mqtt5/topic.h - topic name and topic filter validation (MQTT 5 section 4.7, 4.8.2).
 *
 * Each check returns MQTT5_OK or MQTT5_ERR_INVALID_TOPIC / MQTT5_ERR_INVALID_UTF8, and on failure
 * sets *why (when not NULL) to a static explanation.
 */
#ifndef MQTT5_TOPIC_H
#define MQTT5_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A PUBLISH topic name: 1..65535 bytes of MQTT UTF-8, no '+' or '#'. */
int mqtt5_topic_name_validate(const char *topic, size_t len, const char **why);

/*
 * A SUBSCRIBE/UNSUBSCRIBE topic filter: non-empty MQTT UTF-8; '+' only as a whole level; '#' only
 * as the whole last level. A shared subscription "$share/{ShareName}/{filter}" needs a non-empty
 * ShareName without '/', '+' or '#', followed by a valid non-empty filter.
 */
int mqtt5_topic_filter_validate(const char *filter, size_t len, const char **why);

/* true if `filter` starts with "$share/" (validity is checked separately). */
bool mqtt5_topic_filter_is_shared(const char *filter, size_t len);

/* true if the filter contains '+' or '#' (outside the "$share/{name}/" prefix). */
bool mqtt5_topic_filter_has_wildcard(const char *filter, size_t len);

/* true if topic name `topic` matches topic filter `filter` (rules of 4.7: '$' topics are not
 * matched by a filter starting with a wildcard). Shared filters match by their inner filter.
 * Both arguments are assumed valid. */
bool mqtt5_topic_matches(const char *filter, size_t flen, const char *topic, size_t tlen);

#ifdef __cplusplus
}
#endif
#endif
