/*
 * runtime/log.c - the process-wide log sink (mqtt5/log.h): an atomic level checked before any
 * formatting, one user callback, and a stderr writer with ISO-8601 UTC timestamps.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

#include "mqtt5/error.h"
#include "runtime/log_internal.h"

static _Atomic int g_level = MQTT5_LOG_NONE;
static mqtt5_log_fn g_fn;
static void *g_user;
static _Thread_local const char *t_thread_name;

static const char *const level_names[] = {"NONE", "FATAL", "ERROR", "WARN",
                                          "INFO", "DEBUG", "TRACE"};
static const char *const subject_names[] = {"general",   "runtime", "dns",        "tcp",
                                            "tls",       "client",  "builder",    "proxy",
                                            "websocket", "http",    "credentials"};

const char *mqtt5_log_level_name(mqtt5_log_level level)
{
    return (unsigned)level < sizeof level_names / sizeof *level_names ? level_names[level] : "?";
}

const char *mqtt5_log_subject_name(mqtt5_log_subject subject)
{
    return (unsigned)subject < sizeof subject_names / sizeof *subject_names ? subject_names[subject]
                                                                            : "?";
}

void mqtt5_log_set(mqtt5_log_level max, mqtt5_log_fn fn, void *user)
{
    atomic_store(&g_level, MQTT5_LOG_NONE);
    g_fn = fn;
    g_user = user;
    atomic_store(&g_level, fn ? (int)max : (int)MQTT5_LOG_NONE);
}

static void stderr_sink(void *user, mqtt5_log_level level, mqtt5_log_subject subject,
                        const char *line)
{
    (void)user;
    struct timespec ts;
    struct tm tm;
    char stamp[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "[%s] [%s.%03ldZ] [%s] [%s] %s\n", mqtt5_log_level_name(level), stamp,
            ts.tv_nsec / 1000000L, t_thread_name ? t_thread_name : "main",
            mqtt5_log_subject_name(subject), line);
}

void mqtt5_log_to_stderr(mqtt5_log_level max)
{
    mqtt5_log_set(max, stderr_sink, NULL);
}

int mqtt5_log_level_parse(const char *s, mqtt5_log_level *out)
{
    static const struct {
        const char *name;
        mqtt5_log_level level;
    } names[] = {{"fatal", MQTT5_LOG_FATAL}, {"error", MQTT5_LOG_ERROR},
                 {"warn", MQTT5_LOG_WARN},   {"warning", MQTT5_LOG_WARN},
                 {"info", MQTT5_LOG_INFO},   {"debug", MQTT5_LOG_DEBUG},
                 {"trace", MQTT5_LOG_TRACE}, {"nologs", MQTT5_LOG_NONE},
                 {"none", MQTT5_LOG_NONE},   {"off", MQTT5_LOG_NONE}};
    if (!s || !out) return MQTT5_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].level;
            return MQTT5_OK;
        }
    }
    return MQTT5_ERR_INVALID_ARGUMENT;
}

bool mqtt5_log_enabled(mqtt5_log_level level)
{
    return level != MQTT5_LOG_NONE &&
           (int)level <= atomic_load_explicit(&g_level, memory_order_relaxed);
}

void mqtt5_log_write(mqtt5_log_level level, mqtt5_log_subject subject, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    mqtt5_log_fn fn = g_fn;
    if (fn) fn(g_user, level, subject, line);
}

void mqtt5_log_set_thread_name(const char *name)
{
    t_thread_name = name;
}
