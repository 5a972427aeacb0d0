/*
 * runtime/loop_timer.c - the timers of one loop (runtime/loop_timer.h): an intrusive pairing
 * heap (Fredman, Sedgewick, Sleator, Tarjan 1986) of mqtt5_loop_timer and the one uv_timer_t
 * armed for its earliest.
 *
 * Why by hand: libuv keeps its own timer heap private, and one uv_timer_t per client costs 152
 * bytes of every idle client; a pairing heap needs three links per node and no array, so arming
 * never allocates (and never fails). Insert is O(1), removing any node O(log n) amortized.
 */
#define _POSIX_C_SOURCE 200809L
#include "runtime/loop_timer.h"

#include <stddef.h>

#include "runtime/loop.h"

/* Two roots (prev and next NULL) into one: the later becomes the earlier's first child. */
static mqtt5_loop_timer *meld(mqtt5_loop_timer *a, mqtt5_loop_timer *b)
{
    if (!a) return b;
    if (!b) return a;
    if (b->due < a->due) {
        mqtt5_loop_timer *t = a;
        a = b;
        b = t;
    }
    b->next = a->child;
    if (a->child) a->child->prev = b;
    b->prev = a;
    a->child = b;
    a->next = a->prev = NULL;
    return a;
}

/* The sibling list starting at `first` into one tree: meld pairs left to right, then the pairs
 * right to left (the two-pass rule that gives the amortized bound). */
static mqtt5_loop_timer *merge_pairs(mqtt5_loop_timer *first)
{
    mqtt5_loop_timer *stack = NULL; /* the pairs, last first, linked by next */
    while (first) {
        mqtt5_loop_timer *a = first, *b = first->next;
        first = b ? b->next : NULL;
        a->next = a->prev = NULL;
        if (b) {
            b->next = b->prev = NULL;
            a = meld(a, b);
        }
        a->next = stack;
        stack = a;
    }
    mqtt5_loop_timer *root = NULL;
    while (stack) {
        mqtt5_loop_timer *x = stack;
        stack = x->next;
        x->next = NULL;
        root = meld(root, x);
    }
    return root;
}

bool mqtt5_loop_timers_contains(const mqtt5_loop_timers *h, const mqtt5_loop_timer *t)
{
    return t == h->root || t->prev != NULL;
}

void mqtt5_loop_timers_insert(mqtt5_loop_timers *h, mqtt5_loop_timer *t)
{
    t->child = t->next = t->prev = NULL;
    h->root = meld(h->root, t);
}

void mqtt5_loop_timers_remove(mqtt5_loop_timers *h, mqtt5_loop_timer *t)
{
    if (t == h->root) {
        h->root = merge_pairs(t->child);
    } else {
        if (t->prev->child == t) /* first child: prev is the parent */
            t->prev->child = t->next;
        else
            t->prev->next = t->next;
        if (t->next) t->next->prev = t->prev;
        h->root = meld(h->root, merge_pairs(t->child));
    }
    t->child = t->next = t->prev = NULL;
}

mqtt5_loop_timer *mqtt5_loop_timers_pop_due(mqtt5_loop_timers *h, uint64_t now)
{
    mqtt5_loop_timer *t = h->root;
    if (!t || t->due > now) return NULL;
    mqtt5_loop_timers_remove(h, t);
    return t;
}

/* ---- the loop's uv_timer_t ----------------------------------------------------------------- */

static void on_loop_timer(uv_timer_t *ut);

static void reschedule(mqtt5_loop *loop)
{
    mqtt5_loop_timer *first = loop->timers.root;
    if (!first) {
        if (loop->timers_uv_due != UINT64_MAX) uv_timer_stop(&loop->timers_uv);
        loop->timers_uv_due = UINT64_MAX;
        return;
    }
    if (first->due == loop->timers_uv_due) return;
    uint64_t now = uv_now(&loop->uv);
    loop->timers_uv_due = first->due;
    uv_timer_start(&loop->timers_uv, on_loop_timer, first->due > now ? first->due - now : 0, 0);
}

/* Fire what is due. A timer armed again for now or earlier from inside a firing waits for the
 * next millisecond, so that I/O runs between two firings (as a uv_timer_t restarted with 0
 * would wait for the next loop iteration). */
static void on_loop_timer(uv_timer_t *ut)
{
    mqtt5_loop *loop = ut->data;
    uint64_t now = uv_now(&loop->uv);
    loop->timers_uv_due = UINT64_MAX;
    loop->timers_firing = true;
    loop->timers_now = now;
    mqtt5_loop_timer *t;
    while ((t = mqtt5_loop_timers_pop_due(&loop->timers, now)))
        loop->timers.fire(t);
    loop->timers_firing = false;
    reschedule(loop);
}

void mqtt5_loop_timer_arm(mqtt5_loop *loop, mqtt5_loop_timer *t, uint64_t due)
{
    if (loop->timers_firing && due <= loop->timers_now) due = loop->timers_now + 1;
    if (mqtt5_loop_timers_contains(&loop->timers, t)) {
        if (t->due == due) return;
        mqtt5_loop_timers_remove(&loop->timers, t);
    }
    t->due = due;
    mqtt5_loop_timers_insert(&loop->timers, t);
    if (!loop->timers_firing) reschedule(loop);
}

void mqtt5_loop_timer_disarm(mqtt5_loop *loop, mqtt5_loop_timer *t)
{
    if (!mqtt5_loop_timers_contains(&loop->timers, t)) return;
    mqtt5_loop_timers_remove(&loop->timers, t);
    if (!loop->timers_firing) reschedule(loop);
}
