/*
 * runtime/loop_group.c - the event-loop group (mqtt5/runtime.h): threads running libuv loops,
 * the per-loop command FIFO, and shutdown. The last reference spawns a detached joiner thread
 * that stops every loop, joins its thread, checks uv_loop_close, frees the group and then calls
 * on_shutdown, so the release itself never blocks (it may run on a loop thread).
 *
 * A caller-driven group has one loop and no thread: the creating thread runs it in
 * mqtt5_event_loop_group_run (commands, one uv_run round, commands again) and, once the last
 * reference is gone, finishes it there. Commands that thread posts need no wake-up (it drains
 * the FIFO at the start and end of every run), which spares an eventfd write and read per call.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt5/error.h"
#include "runtime/cmd_block.h"
#include "runtime/log_internal.h"
#include "runtime/loop.h"
#include "runtime/loop_call.h"

static _Thread_local const mqtt5_loop *t_current_loop;
static _Thread_local mqtt5_loop *t_driven_loop; /* the caller-driven loop this thread created */

bool mqtt5_loop_is_current(const mqtt5_loop *loop)
{
    return t_current_loop == loop;
}

bool mqtt5_on_any_loop_thread(void)
{
    return t_current_loop != NULL;
}

mqtt5_loop *mqtt5_loop_current(void)
{
    return (mqtt5_loop *)t_current_loop;
}

mqtt5_loop *mqtt5_loop_driven_here(void)
{
    return t_driven_loop;
}

bool mqtt5_loop_is_owned_here(const mqtt5_loop *loop)
{
    return t_current_loop == loop || t_driven_loop == loop;
}

typedef struct call_cmd {
    mqtt5_cmd cmd;
    void (*fn)(void *arg);
    void *arg;
} call_cmd;

static void run_call(mqtt5_cmd *cmd)
{
    call_cmd *c = (call_cmd *)cmd;
    void (*fn)(void *) = c->fn;
    void *arg = c->arg;
    free(c);
    fn(arg);
}

int mqtt5_loop_call(mqtt5_loop *loop, void (*fn)(void *arg), void *arg)
{
    call_cmd *c = calloc(1, sizeof *c);
    if (!c) return MQTT5_ERR_NOMEM;
    c->cmd.run = run_call;
    c->fn = fn;
    c->arg = arg;
    mqtt5_loop_post(loop, &c->cmd);
    return 0;
}

void mqtt5_event_loop_group_options_init(mqtt5_event_loop_group_options *o)
{
    memset(o, 0, sizeof *o);
    o->threads = 1;
}

void mqtt5_loop_defer(mqtt5_loop *loop, mqtt5_cmd *item)
{
    item->next = NULL;
    if (loop->deferred_tail)
        loop->deferred_tail->next = item;
    else
        loop->deferred_head = item;
    loop->deferred_tail = item;
}

static void run_deferred(mqtt5_loop *loop)
{
    while (loop->deferred_head) {
        mqtt5_cmd *item = loop->deferred_head;
        loop->deferred_head = item->next;
        if (!loop->deferred_head) loop->deferred_tail = NULL;
        item->run(item);
    }
}

/* Run every queued command, then what they deferred (one pump per client); commands posted
 * meanwhile are picked up in later rounds. */
static void on_wake(uv_async_t *h)
{
    mqtt5_loop *loop = h->data;
    for (int round = 0; round < 8; round++) {
        uv_mutex_lock(&loop->mu);
        mqtt5_cmd *cmd = loop->head;
        loop->head = loop->tail = NULL;
        mqtt5_cmd_block_publish_spares(loop);
        uv_mutex_unlock(&loop->mu);
        if (!cmd) return;
        while (cmd) {
            mqtt5_cmd *next = cmd->next;
            cmd->run(cmd);
            cmd = next;
        }
        run_deferred(loop);
    }
    uv_async_send(&loop->wake); /* still more: yield to I/O, come back next iteration */
}

void mqtt5_loop_post(mqtt5_loop *loop, mqtt5_cmd *cmd)
{
    cmd->next = NULL;
    uv_mutex_lock(&loop->mu);
    bool was_empty = loop->head == NULL;
    if (loop->tail)
        loop->tail->next = cmd;
    else
        loop->head = cmd;
    loop->tail = cmd;
    mqtt5_cmd_block_take_spares(loop); /* for this thread's next commands */
    uv_mutex_unlock(&loop->mu);
    /* Only the post that made the FIFO non-empty wakes the loop: a later one finds that wake
     * pending, or the loop's drain rounds (on_wake takes the FIFO again until it is empty, and
     * wakes itself when it stops early) still ahead. A burst of publishes costs one wake-up.
     * The thread that drives a caller-driven loop drains it at its next run's start or at the
     * end of the run it is in: no wake-up. */
    if (was_empty && t_driven_loop != loop) uv_async_send(&loop->wake);
}

mqtt5_loop *mqtt5_loop_group_pick(mqtt5_event_loop_group *g)
{
    unsigned i = atomic_fetch_add(&g->next, 1u);
    return &g->loops[i % g->count];
}

static void loop_thread(void *arg)
{
    mqtt5_loop *loop = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    t_current_loop = loop;
    mqtt5_log_set_thread_name(loop->name);
    MQTT5_LOG(MQTT5_LOG_DEBUG, MQTT5_LOG_RUNTIME, "loop thread started");
    uv_run(&loop->uv, UV_RUN_DEFAULT);
    MQTT5_LOG(MQTT5_LOG_DEBUG, MQTT5_LOG_RUNTIME, "loop thread ends");
    t_current_loop = NULL;
}

/* The stop command: closing the async handle lets uv_run return (no client is left). */
typedef struct stop_cmd {
    mqtt5_cmd cmd;
    mqtt5_loop *loop;
} stop_cmd;

static void run_stop_loop(mqtt5_cmd *cmd)
{
    stop_cmd *s = (stop_cmd *)cmd;
    uv_close((uv_handle_t *)&s->loop->wake, NULL);
    uv_close((uv_handle_t *)&s->loop->timers_uv, NULL);
    mqtt5_poller_close(&s->loop->poller, NULL);
}

static void walk_report(uv_handle_t *h, void *arg)
{
    (void)arg;
    MQTT5_LOG(MQTT5_LOG_ERROR, MQTT5_LOG_RUNTIME, "handle of type %s still open at shutdown",
              uv_handle_type_name(uv_handle_get_type(h)));
}

static void group_free(mqtt5_event_loop_group *g)
{
    for (uint16_t i = 0; i < g->count; i++) {
        mqtt5_loop *loop = &g->loops[i];
        if (!loop->started) continue;
        int rc = uv_loop_close(&loop->uv);
        if (rc != 0) {
            uv_walk(&loop->uv, walk_report, NULL);
            MQTT5_LOG(MQTT5_LOG_ERROR, MQTT5_LOG_RUNTIME, "uv_loop_close: %s", uv_strerror(rc));
        }
        uv_mutex_destroy(&loop->mu);
        uv_cond_destroy(&loop->room_cv);
        uv_mutex_destroy(&loop->room_mu);
        mqtt5_cmd_block_free_spares(loop);
    }
    uv_mutex_destroy(&g->mu);
    mqtt5_allocator a = g->alloc;
    a.release(a.ctx, g->loops, sizeof *g->loops * g->count);
    a.release(a.ctx, g, sizeof *g);
}

/* Stop loops that started, join them, free. Used by the joiner and by a failed new. */
static void group_stop_join_free(mqtt5_event_loop_group *g)
{
    stop_cmd stops[64];
    for (uint16_t i = 0; i < g->count; i++) {
        if (!g->loops[i].started) continue;
        stops[i].cmd.run = run_stop_loop;
        stops[i].loop = &g->loops[i];
        mqtt5_loop_post(&g->loops[i], &stops[i].cmd);
    }
    for (uint16_t i = 0; i < g->count; i++)
        if (g->loops[i].started) uv_thread_join(&g->loops[i].thread);
    group_free(g);
}

static void *joiner_thread(void *arg)
{
    mqtt5_event_loop_group *g = arg;
    uv_mutex_lock(&g->mu);
    void (*cb)(void *) = g->on_shutdown;
    void *user = g->on_shutdown_user;
    uv_mutex_unlock(&g->mu);
    group_stop_join_free(g);
    if (cb) cb(user);
    return NULL;
}

int mqtt5_event_loop_group_new(const mqtt5_event_loop_group_options *o,
                               mqtt5_event_loop_group **out)
{
    if (!out) return MQTT5_ERR_INVALID_ARGUMENT;
    *out = NULL;
    mqtt5_event_loop_group_options d;
    mqtt5_event_loop_group_options_init(&d);
    if (!o) o = &d;
    uint16_t n = o->threads ? o->threads : 1;
    if (o->caller_driven) {
        /* one loop per driving thread, and never from inside a loop's callbacks */
        if (t_driven_loop || t_current_loop) return MQTT5_ERR_INVALID_STATE;
        n = 1;
    }
    if (n > 64) return MQTT5_ERR_INVALID_ARGUMENT;
    const mqtt5_allocator *a = o->allocator ? o->allocator : mqtt5_allocator_libc();
    mqtt5_event_loop_group *g = a->allocate(a->ctx, sizeof *g);
    if (!g) return MQTT5_ERR_NOMEM;
    memset(g, 0, sizeof *g);
    g->alloc = *a;
    g->count = n;
    g->caller_driven = o->caller_driven;
    atomic_init(&g->refs, 1);
    g->loops = a->allocate(a->ctx, sizeof *g->loops * n);
    if (!g->loops) {
        a->release(a->ctx, g, sizeof *g);
        return MQTT5_ERR_NOMEM;
    }
    memset(g->loops, 0, sizeof *g->loops * n);
    uv_mutex_init(&g->mu);
    int rc = 0;
    for (uint16_t i = 0; i < n && rc == 0; i++) {
        mqtt5_loop *loop = &g->loops[i];
        loop->group = g;
        snprintf(loop->name, sizeof loop->name, "mqtt5-loop-%u", (unsigned)i);
        if (uv_loop_init(&loop->uv) != 0) {
            rc = MQTT5_ERR_IO;
            break;
        }
        uv_mutex_init(&loop->mu);
        uv_mutex_init(&loop->room_mu);
        uv_cond_init(&loop->room_cv);
        uv_async_init(&loop->uv, &loop->wake, on_wake);
        loop->wake.data = loop;
        uv_timer_init(&loop->uv, &loop->timers_uv);
        loop->timers_uv.data = loop;
        loop->timers_uv_due = UINT64_MAX;
        loop->timers.fire = mqtt5_client_timer_fired; /* every timer of a loop is a client's */
        mqtt5_poller_init(&loop->poller, &loop->uv);  /* uv_idle_init: cannot fail */
        loop->poller.read_buf = loop->read_buf;
        loop->poller.read_cap = sizeof loop->read_buf;
        if (o->caller_driven) {
            uv_timer_init(&loop->uv, &loop->run_timer);
            loop->started = true;
            t_driven_loop = loop;
            break;
        }
        if (uv_thread_create(&loop->thread, loop_thread, loop) != 0) {
            uv_close((uv_handle_t *)&loop->wake, NULL);
            uv_close((uv_handle_t *)&loop->timers_uv, NULL);
            mqtt5_poller_close(&loop->poller, NULL);
            uv_run(&loop->uv, UV_RUN_DEFAULT);
            uv_loop_close(&loop->uv);
            uv_mutex_destroy(&loop->mu);
            uv_cond_destroy(&loop->room_cv);
            uv_mutex_destroy(&loop->room_mu);
            rc = MQTT5_ERR_IO;
            break;
        }
        loop->started = true;
    }
    if (rc != 0) {
        group_stop_join_free(g);
        return rc;
    }
    MQTT5_LOG(MQTT5_LOG_DEBUG, MQTT5_LOG_RUNTIME, "event-loop group with %u thread(s)%s",
              o->caller_driven ? 0u : (unsigned)n, o->caller_driven ? ", run by the caller" : "");
    *out = g;
    return MQTT5_OK;
}

/* ---- caller-driven groups ------------------------------------------------------------------ */

static void on_run_timer(uv_timer_t *t)
{
    (void)t; /* its firing ends uv_run's wait */
}

/* The last reference is gone: close the loop's own handles (every client has terminated, each
 * held a reference), let libuv finish them, free, report. */
static void finish_driven(mqtt5_event_loop_group *g)
{
    mqtt5_loop *loop = &g->loops[0];
    uv_mutex_lock(&g->mu);
    void (*cb)(void *) = g->on_shutdown;
    void *user = g->on_shutdown_user;
    uv_mutex_unlock(&g->mu);
    uv_close((uv_handle_t *)&loop->wake, NULL);
    uv_close((uv_handle_t *)&loop->timers_uv, NULL);
    uv_close((uv_handle_t *)&loop->run_timer, NULL);
    mqtt5_poller_close(&loop->poller, NULL);
    t_current_loop = loop;
    uv_run(&loop->uv, UV_RUN_DEFAULT);
    t_current_loop = NULL;
    t_driven_loop = NULL;
    group_free(g);
    MQTT5_LOG(MQTT5_LOG_DEBUG, MQTT5_LOG_RUNTIME, "caller-driven event-loop group finished");
    if (cb) cb(user);
}

int mqtt5_loop_run_driven(mqtt5_loop *loop, int32_t timeout_ms)
{
    if (t_current_loop) return MQTT5_ERR_BUSY;
    if (t_driven_loop != loop) return MQTT5_ERR_INVALID_STATE;
    mqtt5_event_loop_group *g = loop->group;
    t_current_loop = loop;
    /* libuv's cached time (the cores' clock, and what timers count from) is as old as the last
     * run, and the caller may have been away for long: without this, the commands below see an
     * old `now`, and run_timer, due in the past, would run at the start of uv_run, whose poll then
     * waits for the next timer instead (seconds away) */
    uv_update_time(&loop->uv);
    on_wake(&loop->wake); /* what this thread and others posted since the last run */
    uv_mutex_lock(&loop->mu);
    bool more = loop->head != NULL;
    uv_mutex_unlock(&loop->mu);
    uv_mutex_lock(&g->mu);
    more = more || g->finish_due; /* released meanwhile: finish without waiting */
    uv_mutex_unlock(&g->mu);
    uv_run_mode mode = timeout_ms == 0 || more ? UV_RUN_NOWAIT : UV_RUN_ONCE;
    if (mode == UV_RUN_ONCE && timeout_ms > 0)
        uv_timer_start(&loop->run_timer, on_run_timer, (uint64_t)timeout_ms, 0);
    uv_run(&loop->uv, mode);
    uv_timer_stop(&loop->run_timer);
    on_wake(&loop->wake); /* what the callbacks of this round posted */
    t_current_loop = NULL;
    uv_mutex_lock(&g->mu);
    bool finish = g->finish_due;
    uv_mutex_unlock(&g->mu);
    if (!finish) return MQTT5_OK;
    finish_driven(g);
    return MQTT5_ERR_TERMINATED;
}

int mqtt5_event_loop_group_run(mqtt5_event_loop_group *g, int32_t timeout_ms)
{
    if (!g) return MQTT5_ERR_INVALID_ARGUMENT;
    if (!g->caller_driven) return MQTT5_ERR_INVALID_STATE;
    return mqtt5_loop_run_driven(&g->loops[0], timeout_ms);
}

mqtt5_event_loop_group *mqtt5_event_loop_group_acquire(mqtt5_event_loop_group *g)
{
    if (g) atomic_fetch_add(&g->refs, 1);
    return g;
}

void mqtt5_event_loop_group_release(mqtt5_event_loop_group *g, void (*on_shutdown)(void *user),
                                    void *user)
{
    if (!g) return;
    if (on_shutdown) {
        uv_mutex_lock(&g->mu);
        g->on_shutdown = on_shutdown;
        g->on_shutdown_user = user;
        uv_mutex_unlock(&g->mu);
    }
    if (atomic_fetch_sub(&g->refs, 1) != 1) return;
    if (g->caller_driven) {
        /* the next run finishes the group; the wake (sent under mu, which that run takes before
         * it frees anything) ends a run blocked on another thread's behalf */
        mqtt5_loop *loop = &g->loops[0];
        uv_mutex_lock(&g->mu);
        g->finish_due = true;
        if (t_driven_loop != loop) uv_async_send(&loop->wake);
        uv_mutex_unlock(&g->mu);
        return;
    }
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, joiner_thread, g) != 0) {
        /* no thread to spare: join here unless that would join ourselves */
        pthread_attr_destroy(&attr);
        if (mqtt5_on_any_loop_thread()) {
            MQTT5_LOG(MQTT5_LOG_ERROR, MQTT5_LOG_RUNTIME, "cannot start the joiner thread");
            return;
        }
        joiner_thread(g);
        return;
    }
    pthread_attr_destroy(&attr);
}
