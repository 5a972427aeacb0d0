/*
 * runtime/log_internal.h - how SDK code outside the sans-I/O core writes log lines.
 * MQTT5_LOG(level, subject, fmt, ...) formats only when the level is enabled.
 */
#ifndef MQTT5_RUNTIME_LOG_INTERNAL_H
#define MQTT5_RUNTIME_LOG_INTERNAL_H

#include <stdbool.h>

#include "mqtt5/log.h"

bool mqtt5_log_enabled(mqtt5_log_level level);
void mqtt5_log_write(mqtt5_log_level level, mqtt5_log_subject subject, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Name of the calling thread in log lines ("mqtt5-loop-0"); static storage. */
void mqtt5_log_set_thread_name(const char *name);

#define MQTT5_LOG(level, subject, ...)                                                             \
    do {                                                                                           \
        if (mqtt5_log_enabled(level)) mqtt5_log_write(level, subject, __VA_ARGS__);                \
    } while (0)

#endif
