/*
 * runtime/loop.h - the event-loop group's internals shared with the client runtime: one libuv
 * loop per thread, each with a mutex-protected FIFO of commands woken by one uv_async_t.
 *
 * Any thread may post a command; the loop thread runs it. The mutex covers only the splice of
 * the list, so commands (and every callback they cause) run without an SDK lock.
 */
#ifndef MQTT5_RUNTIME_LOOP_H
#define MQTT5_RUNTIME_LOOP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <uv.h>

#include "mqtt5/runtime.h"
#include "runtime/loop_timer.h"
#include "transports/poller.h"

typedef struct mqtt5_cmd mqtt5_cmd;
struct mqtt5_cmd {
    mqtt5_cmd *next;
    void (*run)(mqtt5_cmd *cmd); /* on the loop thread; owns cmd from then on */
};

typedef struct mqtt5_loop {
    mqtt5_event_loop_group *group;
    uv_loop_t uv;
    uv_async_t wake;
    uv_thread_t thread;
    uv_mutex_t mu;
    mqtt5_cmd *head, *tail;                   /* under mu */
    mqtt5_cmd *deferred_head, *deferred_tail; /* loop thread only: run after each drain round */
    char name[24];                            /* "mqtt5-loop-0" */
    uint8_t read_buf[65536]; /* every TCP read of this loop lands here, passes up, is done */
    /* every client of this loop encodes its write batches here (the filters copy what they
     * keep), wiped after each write: no client carries a batch buffer of its own */
    uint8_t write_buf[65536];
    /* recycled command blocks (runtime/cmd_block.c): `spare` and spare_n under mu, the rest
     * loop thread only */
    void *spare, *spare_local;
    unsigned spare_n, spare_local_n;
    /* mqtt5_client_wait_for_room: callers of any client of this loop wait on these */
    uv_mutex_t room_mu;
    uv_cond_t room_cv;
    bool started;
    /* the clients' timers (runtime/loop_timer.c): one heap, one uv_timer_t for its earliest */
    mqtt5_loop_timers timers;
    uv_timer_t timers_uv;
    uint64_t timers_uv_due, timers_now; /* UINT64_MAX: timers_uv stopped */
    bool timers_firing;
    /* caller-driven groups (no thread; the creating thread runs the loop in
     * mqtt5_event_loop_group_run): bounds one run's wait */
    uv_timer_t run_timer;
    /* watches the sockets of every TCP filter of this loop (one epoll set on Linux) */
    mqtt5_poller poller;
} mqtt5_loop;

struct mqtt5_event_loop_group {
    mqtt5_allocator alloc;
    _Atomic int refs;
    _Atomic unsigned next; /* round-robin pinning */
    uint16_t count;
    mqtt5_loop *loops;
    uv_mutex_t mu; /* on_shutdown, finish_due */
    void (*on_shutdown)(void *user);
    void *on_shutdown_user;
    bool caller_driven;
    bool finish_due; /* caller-driven: the last reference is gone, the next run finishes */
};

/* A client's timer fired (runtime/client.c): the fire function of every loop's timer heap. */
void mqtt5_client_timer_fired(mqtt5_loop_timer *t);

/* The loop the next client is pinned to. */
mqtt5_loop *mqtt5_loop_group_pick(mqtt5_event_loop_group *g);
/* Append `cmd` to the loop's FIFO and wake it. Never fails. */
void mqtt5_loop_post(mqtt5_loop *loop, mqtt5_cmd *cmd);
/* Loop thread only: run `item` once the current round of commands has run (so that many
 * commands for one client cause one pump, and many publishes one write). */
void mqtt5_loop_defer(mqtt5_loop *loop, mqtt5_cmd *item);
/* True on this loop's thread / on any SDK loop thread (a caller-driven loop's thread only
 * while it runs the loop, so inside callbacks). */
bool mqtt5_loop_is_current(const mqtt5_loop *loop);
bool mqtt5_on_any_loop_thread(void);
/* The caller-driven loop the calling thread drives (it created the group), or NULL. Between
 * runs that thread may touch the loop's state too: nothing else runs it. */
mqtt5_loop *mqtt5_loop_driven_here(void);
/* True where the loop's state may be read: on its thread, or on the thread that drives it. */
bool mqtt5_loop_is_owned_here(const mqtt5_loop *loop);
/* Run the loop the calling thread drives (see mqtt5_event_loop_group_run). */
int mqtt5_loop_run_driven(mqtt5_loop *loop, int32_t timeout_ms);

#endif
