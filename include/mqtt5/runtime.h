/*
 * mqtt5/runtime.h - the event-loop group: libuv loop threads that own sockets, timers, DNS and
 * the clients pinned to them.
 *
 * A group starts its threads at new. Clients take a reference on their group, so a group's
 * threads stop only after the last client terminated and the last reference was released;
 * `on_shutdown` then runs on a separate joiner thread after every loop thread was joined: no
 * SDK thread runs after it. Loop threads block SIGINT, SIGTERM and SIGPIPE.
 */
#ifndef MQTT5_RUNTIME_H
#define MQTT5_RUNTIME_H

#include <stdint.h>

#include "mqtt5/allocator.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mqtt5_event_loop_group mqtt5_event_loop_group;

typedef struct mqtt5_event_loop_group_options {
    uint16_t threads; /* 1 (0 means the same); at most 64 */
    /* NULL = libc. Must be thread-safe: callers' threads allocate commands through it. */
    const mqtt5_allocator *allocator;
} mqtt5_event_loop_group_options;

void mqtt5_event_loop_group_options_init(mqtt5_event_loop_group_options *o);
/* 0, MQTT5_ERR_INVALID_ARGUMENT, MQTT5_ERR_NOMEM or MQTT5_ERR_IO (a thread or loop failed). */
int mqtt5_event_loop_group_new(const mqtt5_event_loop_group_options *o,
                               mqtt5_event_loop_group **out);
/* One more reference; returns g. */
mqtt5_event_loop_group *mqtt5_event_loop_group_acquire(mqtt5_event_loop_group *g);
/* Drop one reference. `on_shutdown` (may be NULL) is kept from the call that drops the last
 * reference held by the caller; it runs once the threads are gone. Never blocks. */
void mqtt5_event_loop_group_release(mqtt5_event_loop_group *g, void (*on_shutdown)(void *user),
                                    void *user);

#ifdef __cplusplus
}
#endif
#endif
