/*
 * mqtt5/runtime.h - the event-loop group: libuv loop threads that own sockets, timers, DNS and
 * the clients pinned to them.
 *
 * A group starts its threads at new. Clients take a reference on their group, so a group's
 * threads stop only after the last client terminated and the last reference was released;
 * `on_shutdown` then runs on a separate joiner thread after every loop thread was joined: no
 * SDK thread runs after it. Loop threads block SIGINT, SIGTERM and SIGPIPE.
 *
 * Caller-driven groups (options.caller_driven) have no thread: one loop, run by the thread that
 * created the group, in mqtt5_event_loop_group_run() (like mosquitto_loop()). Callbacks run
 * inside that call, on the caller's own thread, so a program that waits for a message pays no
 * hand-over between threads. Every client function may still be called from any thread: the
 * commands queue and wake the loop, and run at the creating thread's next run. On the creating
 * thread, outside callbacks, the blocking helpers (mqtt5_future_wait,
 * mqtt5_client_wait_for_room) run the loop while they wait, and mqtt5_client_get_stats reads
 * directly. A thread drives one caller-driven group at a time.
 */
#ifndef MQTT5_RUNTIME_H
#define MQTT5_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "mqtt5/allocator.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mqtt5_event_loop_group mqtt5_event_loop_group;

typedef struct mqtt5_event_loop_group_options {
    uint16_t threads; /* 1 (0 means the same); at most 64; ignored when caller_driven */
    /* NULL = libc. Must be thread-safe: callers' threads allocate commands through it. */
    const mqtt5_allocator *allocator;
    /* false (default): the group runs its loops on threads of its own. true: no thread, one
     * loop, run by the creating thread with mqtt5_event_loop_group_run(). */
    bool caller_driven;
} mqtt5_event_loop_group_options;

void mqtt5_event_loop_group_options_init(mqtt5_event_loop_group_options *o);
/* 0, MQTT5_ERR_INVALID_ARGUMENT, MQTT5_ERR_NOMEM or MQTT5_ERR_IO (a thread or loop failed). */
int mqtt5_event_loop_group_new(const mqtt5_event_loop_group_options *o,
                               mqtt5_event_loop_group **out);
/* Caller-driven groups only, on the thread that created the group: run the commands queued
 * for the loop, then its I/O and timers once - waiting up to timeout_ms for the first event
 * when nothing is ready (0: do not wait; negative: wait until something happens) - then the
 * commands that caused. Callbacks run inside. Returns 0 after one such round (it does not wait
 * out the timeout once something happened), or:
 *  - MQTT5_ERR_TERMINATED: the last reference was gone, so this call closed the loop, freed
 *    the group and ran on_shutdown: the group must not be used again. After releasing its own
 *    reference a program calls run until it returns this (clients that are still terminating
 *    are served meanwhile); until then the group is alive.
 *  - MQTT5_ERR_INVALID_STATE: a group with threads, or not the creating thread.
 *  - MQTT5_ERR_BUSY: called from inside a callback of this run.
 *  - MQTT5_ERR_INVALID_ARGUMENT: g is NULL. */
int mqtt5_event_loop_group_run(mqtt5_event_loop_group *g, int32_t timeout_ms);
/* One more reference; returns g. */
mqtt5_event_loop_group *mqtt5_event_loop_group_acquire(mqtt5_event_loop_group *g);
/* Drop one reference. `on_shutdown` (may be NULL) is kept from the call that drops the last
 * reference held by the caller; it runs once the threads are gone. Never blocks. A
 * caller-driven group is finished by the run that follows its last reference's release (see
 * mqtt5_event_loop_group_run); on_shutdown runs there, on the creating thread. */
void mqtt5_event_loop_group_release(mqtt5_event_loop_group *g, void (*on_shutdown)(void *user),
                                    void *user);

#ifdef __cplusplus
}
#endif
#endif
