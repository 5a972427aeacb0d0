/*
 * bench/peers/peer_mqtt5.c - this SDK behind the bench_peers adapter surface.
 *
 * One event-loop group with one loop thread per process, shared by every client of the
 * process (also the 1000 idle clients). Publishes go through the thread-safe
 * mqtt5_client_publish() from the calling thread; on MQTT5_ERR_QUEUE_FULL the adapter blocks in
 * mqtt5_client_wait_for_room() until the queue is half empty, then returns BP_AGAIN (the caller
 * retries). The queue bounds (core.max_queued_ops 1024, core.max_queued_bytes 4 MiB) and
 * core.write_batch_size (64 KiB in the runtime) are the SDK defaults unless --m5-max-queued,
 * --m5-max-queued-bytes or --m5-write-batch are given: a deeper queue only adds memory the
 * caches do not hold (65536 queued publishes measured 30% slower than 1024). QoS 0 publishes
 * pass no completion callback. core.ack_coalescing is the SDK default (on) unless
 * --m5-ack-coalescing 0 turns it off.
 *
 * mqtt5-st: the same SDK with a caller-driven group (options.caller_driven): no loop thread,
 * the bench's own thread runs the loop in mqtt5_event_loop_group_run() whenever it waits (the
 * pump), as mosq-st drives libmosquitto with mosquitto_loop(); callbacks run on that thread.
 * Blocking helpers (mqtt5_future_wait, mqtt5_client_wait_for_room) run the loop themselves.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_peers.h"

#ifndef MQTT5_BENCH_BUILD_TYPE
#define MQTT5_BENCH_BUILD_TYPE "?"
#endif
#include "mqtt5/client.h"
#include "mqtt5/error.h"
#include "mqtt5/mqtt5.h"
#include "mqtt5/runtime.h"

static mqtt5_event_loop_group *g_group;
static sem_t g_group_down;
static bool g_st; /* mqtt5-st: caller-driven group, run by the bench's thread */

static const bp_peer *self(void);

/* wait for a semaphore our callbacks post; mqtt5-st runs the loop meanwhile */
static int m5_wait(sem_t *s, double timeout_s)
{
    return bp_wait_sem(self(), NULL, s, timeout_s);
}

typedef struct m5_conn {
    mqtt5_client *c;
    bp_conn_opts o;
    sem_t connected, terminated;
    _Atomic int connack_error; /* 0 ok; else the CONNECTION_FAILURE error */
    _Atomic int is_connected;
    _Atomic int *idle_counter; /* idle mode: incremented on CONNECTION_SUCCESS */
    sem_t *idle_sem;
} m5_conn;

static _Atomic unsigned long g_op_errors;

static void on_lifecycle(void *user, const mqtt5_lifecycle_event *ev, const char *detail)
{
    m5_conn *x = user;
    switch (ev->type) {
    case MQTT5_LC_CONNECTION_SUCCESS:
        atomic_store(&x->is_connected, 1);
        if (x->idle_counter) {
            atomic_fetch_add(x->idle_counter, 1);
            sem_post(x->idle_sem);
        } else {
            sem_post(&x->connected);
        }
        break;
    case MQTT5_LC_CONNECTION_FAILURE:
        bp_log("mqtt5: connection failure: %s (%s)", mqtt5_error_name(ev->error),
               detail ? detail : "");
        atomic_store(&x->connack_error, ev->error ? ev->error : -1);
        if (!x->idle_counter) sem_post(&x->connected);
        break;
    case MQTT5_LC_DISCONNECTION:
        if (atomic_exchange(&x->is_connected, 0))
            bp_log("mqtt5: disconnected: %s (%s)", mqtt5_error_name(ev->error),
                   detail ? detail : "");
        break;
    default:
        break;
    }
}

static void on_publish(void *user, const mqtt5_inbound_publish *msg)
{
    m5_conn *x = user;
    if (x->o.on_msg) x->o.on_msg(x->o.user, msg->publish->payload.len);
}

static void on_done(void *user, const mqtt5_op_completion *d)
{
    m5_conn *x = user;
    if (d->error) {
        /* the last round trip's PUBACK may still be due when the case disconnects */
        if (d->error == MQTT5_ERR_STOPPED && !atomic_load(&x->is_connected)) return;
        if (atomic_fetch_add(&g_op_errors, 1) < 5)
            bp_log("mqtt5: publish completed with %s", mqtt5_error_name(d->error));
        return;
    }
    if (x->o.on_ack) x->o.on_ack(x->o.user);
}

static void on_terminated(void *user)
{
    m5_conn *x = user;
    sem_post(&x->terminated);
}

static void on_group_down(void *user)
{
    (void)user;
    sem_post(&g_group_down);
}

static int m5_init(void)
{
    mqtt5_event_loop_group_options go;
    mqtt5_event_loop_group_options_init(&go);
    go.threads = 1;
    go.caller_driven = g_st;
    sem_init(&g_group_down, 0, 0);
    int rc = mqtt5_event_loop_group_new(&go, &g_group);
    if (rc) bp_log("mqtt5: group: %s", mqtt5_error_name(rc));
    return rc ? -1 : 0;
}

static int m5_st_init(void)
{
    g_st = true;
    return m5_init();
}

static void m5_pump(void *conn, int timeout_ms)
{
    (void)conn;
    mqtt5_event_loop_group_run(g_group, timeout_ms);
}

static void m5_cleanup(void)
{
    mqtt5_event_loop_group_release(g_group, on_group_down, NULL);
    if (g_st) { /* the run after the last reference's release finishes the group */
        double end = bp_now_s() + 10;
        while (mqtt5_event_loop_group_run(g_group, 10) == 0 && bp_now_s() < end) {
        }
    }
    bp_sem_wait_s(&g_group_down, 10);
    if (atomic_load(&g_op_errors)) bp_log("mqtt5: %lu operations failed", g_op_errors);
}

static m5_conn *m5_new(const bp_conn_opts *o)
{
    m5_conn *x = calloc(1, sizeof *x);
    if (!x) return NULL;
    x->o = *o;
    sem_init(&x->connected, 0, 0);
    sem_init(&x->terminated, 0, 0);
    mqtt5_client_options co;
    mqtt5_client_options_init(&co);
    co.group = g_group;
    co.host = o->host;
    co.port = o->port;
    co.socket.tcp_nodelay = true;
    co.core.connect.client_id = (mqtt5_str){o->client_id, strlen(o->client_id)};
    co.core.connect.keep_alive = (uint16_t)o->keep_alive;
    if (bp_tune.m5_max_queued_ops) co.core.max_queued_ops = bp_tune.m5_max_queued_ops;
    if (bp_tune.m5_max_queued_bytes != (size_t)-1)
        co.core.max_queued_bytes = bp_tune.m5_max_queued_bytes;
    if (bp_tune.m5_write_batch) co.core.write_batch_size = bp_tune.m5_write_batch;
    if (bp_tune.m5_ack_coalescing >= 0) co.core.ack_coalescing = bp_tune.m5_ack_coalescing != 0;
    co.user = x;
    co.on_lifecycle = on_lifecycle;
    co.on_publish = on_publish;
    mqtt5_codec_status st;
    memset(&st, 0, sizeof st);
    int rc = mqtt5_client_new(&co, &x->c, &st);
    if (rc) {
        bp_log("mqtt5: client_new: %s (%s)", mqtt5_error_name(rc), st.field ? st.field : "");
        free(x);
        return NULL;
    }
    return x;
}

static void *m5_connect(const bp_conn_opts *o)
{
    m5_conn *x = m5_new(o);
    if (!x) return NULL;
    mqtt5_client_start(x->c);
    if (m5_wait(&x->connected, 10) || atomic_load(&x->connack_error)) {
        bp_log("mqtt5: not connected");
        return NULL;
    }
    return x;
}

static int m5_subscribe(void *conn, const char *filter, int qos)
{
    m5_conn *x = conn;
    mqtt5_subscription s = {.topic_filter = {filter, strlen(filter)}, .qos = (uint8_t)qos};
    mqtt5_subscribe sub = {.subscriptions = &s, .subscription_count = 1};
    mqtt5_future *f = mqtt5_future_new();
    int rc = mqtt5_client_subscribe(x->c, &sub, NULL, mqtt5_future_on_complete, f, NULL);
    if (rc) mqtt5_future_complete(f, rc);
    rc = mqtt5_future_wait(f, 10000);
    mqtt5_future_release(f);
    if (rc) bp_log("mqtt5: subscribe: %s", mqtt5_error_name(rc));
    return rc ? -1 : 0;
}

static int m5_publish(void *conn, const char *topic, const void *payload, size_t len, int qos)
{
    m5_conn *x = conn;
    mqtt5_publish p = {
        .qos = (uint8_t)qos, .topic = {topic, strlen(topic)}, .payload = {payload, len}};
    int rc = mqtt5_client_publish(x->c, &p, NULL, qos ? on_done : NULL, x, NULL);
    if (rc == 0) return 0;
    if (rc == MQTT5_ERR_QUEUE_FULL) {
        /* block until the queue is half empty rather than spin (the caller retries) */
        int w = mqtt5_client_wait_for_room(x->c, 5000);
        if (w != 0 && w != MQTT5_ERR_TIMEOUT)
            bp_log("mqtt5: wait_for_room: %s", mqtt5_error_name(w));
        return BP_AGAIN;
    }
    bp_log("mqtt5: publish: %s", mqtt5_error_name(rc));
    return -1;
}

static void m5_disconnect(void *conn)
{
    m5_conn *x = conn;
    atomic_store(&x->is_connected, 0);
    mqtt5_client_stop(x->c, NULL);
    mqtt5_client_release(x->c, on_terminated, x);
    m5_wait(&x->terminated, 10);
    free(x);
}

/* n clients on the one shared loop thread, connected one after the other */
static int m5_idle(const bp_conn_opts *o, int n, int settle_ms)
{
    static _Atomic int connected;
    sem_t sem;
    sem_init(&sem, 0, 0);
    for (int i = 0; i < n; i++) {
        char id[64];
        snprintf(id, sizeof id, "%s-%d", o->client_id, i);
        bp_conn_opts oi = *o;
        oi.client_id = id;
        m5_conn *x = m5_new(&oi);
        if (!x) return -1;
        x->idle_counter = &connected;
        x->idle_sem = &sem;
        mqtt5_client_start(x->c);
        if (m5_wait(&sem, 10)) {
            bp_log("mqtt5: idle client %d not connected", i);
            return -1;
        }
    }
    if (g_st) { /* the clients are served by this thread's runs */
        double end = bp_now_s() + settle_ms / 1000.0;
        while (bp_now_s() < end)
            mqtt5_event_loop_group_run(g_group, 10);
        return atomic_load(&connected) == n ? 0 : -1;
    }
    struct timespec ts = {settle_ms / 1000, (long)(settle_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {
    }
    return atomic_load(&connected) == n ? 0 : -1;
}

static const char *m5_version(void)
{
    return "mqtt5 " MQTT5_VERSION_STRING " (this tree, mqtt5_static, " MQTT5_BENCH_BUILD_TYPE ")";
}

const bp_peer bp_peer_mqtt5 = {
    .name = "mqtt5",
    .version = m5_version,
    .describe =
        "this SDK: 1 event-loop group, 1 loop thread shared by all clients; "
        "publish from the caller's thread, QUEUE_FULL -> mqtt5_client_wait_for_room + retry",
    .pump = NULL,
    .init = m5_init,
    .cleanup = m5_cleanup,
    .connect = m5_connect,
    .subscribe = m5_subscribe,
    .publish = m5_publish,
    .disconnect = m5_disconnect,
    .idle = m5_idle,
};

const bp_peer bp_peer_mqtt5_st = {
    .name = "mqtt5-st",
    .version = m5_version,
    .describe = "this SDK, caller-driven group: no loop thread, the caller's thread runs the loop "
                "(mqtt5_event_loop_group_run) while it waits; QUEUE_FULL -> "
                "mqtt5_client_wait_for_room (runs the loop) + retry",
    .pump = m5_pump,
    .init = m5_st_init,
    .cleanup = m5_cleanup,
    .connect = m5_connect,
    .subscribe = m5_subscribe,
    .publish = m5_publish,
    .disconnect = m5_disconnect,
    .idle = m5_idle,
};

static const bp_peer *self(void)
{
    return g_st ? &bp_peer_mqtt5_st : &bp_peer_mqtt5;
}
