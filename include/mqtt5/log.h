/*
 * mqtt5/log.h - the SDK's log: levels, subjects, one process-wide sink.
 *
 * Set the sink once, before any event-loop group exists. The level is checked (atomically)
 * before anything is formatted, so a disabled level costs one load. The sink runs on whatever
 * thread logs (callers' threads and loop threads) and never under an SDK lock. The SDK never
 * logs passwords, key bytes, payloads or the username's text (custom-authorizer tokens ride in
 * it): TRACE shows packet types, sizes and ids only.
 */
#ifndef MQTT5_LOG_H
#define MQTT5_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mqtt5_log_level {
    MQTT5_LOG_NONE = 0,
    MQTT5_LOG_FATAL,
    MQTT5_LOG_ERROR,
    MQTT5_LOG_WARN,
    MQTT5_LOG_INFO,
    MQTT5_LOG_DEBUG,
    MQTT5_LOG_TRACE,
} mqtt5_log_level;

typedef enum mqtt5_log_subject {
    MQTT5_LOG_GENERAL = 0,
    MQTT5_LOG_RUNTIME,
    MQTT5_LOG_DNS,
    MQTT5_LOG_TCP,
    MQTT5_LOG_TLS,
    MQTT5_LOG_CLIENT,
    MQTT5_LOG_BUILDER,
    MQTT5_LOG_PROXY,
    MQTT5_LOG_WEBSOCKET,
    MQTT5_LOG_HTTP,
    MQTT5_LOG_CREDENTIALS,
} mqtt5_log_subject;

/* `line` is one formatted line without a newline, valid during the call. */
typedef void (*mqtt5_log_fn)(void *user, mqtt5_log_level level, mqtt5_log_subject subject,
                             const char *line);

/* Log messages up to `max` to `fn` (NULL fn, or MQTT5_LOG_NONE: logging off, the default). */
void mqtt5_log_set(mqtt5_log_level max, mqtt5_log_fn fn, void *user);
/* Log to stderr, one line per message:
 * "[INFO] [2026-11-25T10:00:00.123Z] [thread] [subject] message". */
void mqtt5_log_to_stderr(mqtt5_log_level max);
/* "Fatal", "Error", "Warn", "Info", "Debug", "Trace", "NoLogs" (any case; "None" and "Off" too).
 * 0, or MQTT5_ERR_INVALID_ARGUMENT. */
int mqtt5_log_level_parse(const char *s, mqtt5_log_level *out);
const char *mqtt5_log_level_name(mqtt5_log_level level);     /* "INFO" */
const char *mqtt5_log_subject_name(mqtt5_log_subject subject); /* "tls" */

#ifdef __cplusplus
}
#endif
#endif
