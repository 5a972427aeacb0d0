/*
 * runtime/loop_timer.h - one-shot timers that share their loop's one uv_timer_t.
 *
 * Every client needs a timer (keep-alive, acknowledgement deadlines, connect budget, reconnect
 * backoff), and a uv_timer_t is 152 bytes; a mqtt5_loop_timer is 32, and its loop keeps the
 * timers in an intrusive pairing heap (no allocation, ever: arming cannot fail) with the one
 * uv_timer_t armed for the earliest. A timer carries no callback: its heap has one for all of
 * them (the loop's: mqtt5_client_timer_fired), which finds the timer's owner from the timer.
 * Loop thread only.
 */
#ifndef MQTT5_RUNTIME_LOOP_TIMER_H
#define MQTT5_RUNTIME_LOOP_TIMER_H

#include <stdbool.h>
#include <stdint.h>

typedef struct mqtt5_loop_timer mqtt5_loop_timer;
struct mqtt5_loop_timer {
    uint64_t due; /* uv_now() milliseconds */
    /* pairing heap links: first child, next sibling, and the previous sibling or (for a
     * first child) the parent; prev is NULL for the root and for a timer not armed */
    mqtt5_loop_timer *child, *next, *prev;
};

/* The heap of one loop, with the uv_timer_t it drives (in mqtt5_loop). */
typedef struct mqtt5_loop_timers {
    mqtt5_loop_timer *root;
    void (*fire)(mqtt5_loop_timer *t); /* every timer's: runs it disarmed; it may arm again */
} mqtt5_loop_timers;

static inline void mqtt5_loop_timer_init(mqtt5_loop_timer *t)
{
    t->due = 0;
    t->child = t->next = t->prev = 0;
}

/* The pure heap operations (tested on their own). */
bool mqtt5_loop_timers_contains(const mqtt5_loop_timers *h, const mqtt5_loop_timer *t);
void mqtt5_loop_timers_insert(mqtt5_loop_timers *h, mqtt5_loop_timer *t);
void mqtt5_loop_timers_remove(mqtt5_loop_timers *h, mqtt5_loop_timer *t);
/* Remove and return the earliest timer if it is due at `now`, else NULL. */
mqtt5_loop_timer *mqtt5_loop_timers_pop_due(mqtt5_loop_timers *h, uint64_t now);

struct mqtt5_loop;
/* Arm (or move) `t` to fire at `due` on `loop`; disarm it. Loop thread only. */
void mqtt5_loop_timer_arm(struct mqtt5_loop *loop, mqtt5_loop_timer *t, uint64_t due);
void mqtt5_loop_timer_disarm(struct mqtt5_loop *loop, mqtt5_loop_timer *t);

#endif
