/*
 * tests/integration/test_caller_driven.c - caller-driven event-loop groups (mqtt5/runtime.h:
 * options.caller_driven, mqtt5_event_loop_group_run) against the fixture's real mosquitto.
 *
 * Run by ctest as `fixture.sh run <this exe>` (FX_PORT_TCP: plain MQTT). Public API only.
 * What must hold:
 * - every callback (lifecycle, completions, messages, on_terminated, on_shutdown) runs on the
 *   test's own thread and only inside a run or a blocking helper that runs the loop; a call such
 *   as publish only queues: nothing completes until the next run;
 * - QoS 0/1/2 round trips through the broker with payloads intact, futures waited on the
 *   driving thread (they run the loop), get_stats read between runs;
 * - publishes from another thread wake a run that waits with no timeout and complete on the
 *   driving thread, each thread's messages in its order;
 * - mqtt5_client_wait_for_room on the driving thread runs the loop until the queue drained;
 * - misuse is refused with a named error: run on a threaded group or another thread
 *   (INVALID_STATE), run inside a callback (BUSY), future_wait inside a callback
 *   (WOULD_DEADLOCK), a second caller-driven group on one thread (INVALID_STATE);
 * - a run waits at most its timeout when nothing happens;
 * - a broker killed and started again: the reconnect backoff runs on the caller's runs, a QoS 1
 *   publish made while offline completes after the reconnect;
 * - shutdown: after the client and the group are released, runs go on until one returns
 *   MQTT5_ERR_TERMINATED, after on_terminated and then on_shutdown ran; ASan's leak check at
 *   exit sees nothing left.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers/fx_env.h"
#include "mqtt5/client.h"
#include "mqtt5/error.h"
#include "mqtt5/runtime.h"

#define WAIT_MS 10000u

/* ---- one client on a caller-driven group, with a record of what its callbacks saw ---------- */

typedef struct rec {
    pthread_t owner;
    int in_sdk;        /* > 0 while the test is inside run/future_wait/wait_for_room */
    int foreign_calls; /* callbacks on another thread or outside those calls */
    int connected, failures, disconnections, terminated, shutdown, order_bad;
    int acks, ack_errors;
    int msgs;
    int next_seq[3]; /* per stream (publishing thread, or QoS): the next number expected */
    int busy_rc, deadlock_rc;
    bool try_reentry; /* the next message callback calls run and future_wait */
    mqtt5_event_loop_group *g;
    mqtt5_client *c;
    char topic[128];
} rec;

static void check_thread_at(rec *r, const char *what)
{
    if (!pthread_equal(pthread_self(), r->owner) || r->in_sdk <= 0) {
        if (r->foreign_calls++ < 3)
            print_message("%s callback %s\n", what,
                          r->in_sdk <= 0 ? "outside the SDK's calls" : "on another thread");
    }
}
#define check_thread(r) check_thread_at(r, __func__)

static void on_lifecycle(void *user, const mqtt5_lifecycle_event *ev, const char *detail)
{
    rec *r = user;
    check_thread(r);
    if (ev->type == MQTT5_LC_CONNECTION_SUCCESS) r->connected++;
    if (ev->type == MQTT5_LC_DISCONNECTION) r->disconnections++;
    if (ev->type == MQTT5_LC_CONNECTION_FAILURE) {
        r->failures++;
        print_message("connection failure: %s (%s)\n", mqtt5_error_name(ev->error),
                      detail ? detail : "");
    }
}

/* payload "<thread>:<seq>:<filler>" */
static void on_publish(void *user, const mqtt5_inbound_publish *msg)
{
    rec *r = user;
    check_thread(r);
    r->msgs++;
    char text[64] = {0};
    size_t n =
        msg->publish->payload.len < sizeof text - 1 ? msg->publish->payload.len : sizeof text - 1;
    memcpy(text, msg->publish->payload.ptr, n);
    int th = -1, seq = -1;
    if (sscanf(text, "%d:%d:", &th, &seq) == 2 && th >= 0 && th < 3) {
        if (seq != r->next_seq[th]) r->order_bad++;
        r->next_seq[th] = seq + 1;
    }
    if (r->try_reentry) {
        r->try_reentry = false;
        r->busy_rc = mqtt5_event_loop_group_run(r->g, 0);
        mqtt5_future *f = mqtt5_future_new();
        r->deadlock_rc = mqtt5_future_wait(f, 10);
        mqtt5_future_complete(f, 0);
        mqtt5_future_release(f);
    }
}

static void on_ack(void *user, const mqtt5_op_completion *d)
{
    rec *r = user;
    check_thread(r);
    if (d->error)
        r->ack_errors++;
    else
        r->acks++;
}

static void on_terminated(void *user)
{
    rec *r = user;
    check_thread(r);
    r->terminated++;
}

static void on_shutdown(void *user)
{
    rec *r = user;
    check_thread(r);
    if (!r->terminated) r->order_bad++; /* the client's end comes before the group's */
    r->shutdown++;
}

static int run(rec *r, int32_t timeout_ms)
{
    r->in_sdk++;
    int rc = mqtt5_event_loop_group_run(r->g, timeout_ms);
    r->in_sdk--;
    return rc;
}

/* Run until *counter reaches want, or fail the test after WAIT_MS. */
static void run_until(rec *r, const int *counter, int want, const char *what)
{
    uint64_t end = fx_now_ms() + WAIT_MS;
    while (*counter < want) {
        if (fx_now_ms() > end)
            fail_msg("timed out waiting for %s (%d of %d)", what, *counter, want);
        assert_int_equal(run(r, 100), 0);
    }
}

static void setup_client(rec *r, const char *tag, uint32_t max_queued_ops);

static void subscribe_own_topic(rec *r)
{
    mqtt5_subscription s = {.topic_filter = {r->topic, strlen(r->topic)}, .qos = 2};
    mqtt5_subscribe sub = {.subscriptions = &s, .subscription_count = 1};
    mqtt5_future *f = mqtt5_future_new();
    assert_int_equal(mqtt5_client_subscribe(r->c, &sub, NULL, mqtt5_future_on_complete, f, NULL),
                     0);
    r->in_sdk++;
    int rc = mqtt5_future_wait(f, WAIT_MS); /* runs the loop on this thread */
    r->in_sdk--;
    assert_int_equal(rc, 0);
    mqtt5_future_release(f);
}

static void setup_client(rec *r, const char *tag, uint32_t max_queued_ops)
{
    memset(r, 0, sizeof *r);
    r->owner = pthread_self();
    snprintf(r->topic, sizeof r->topic, "cd/%ld/%s", (long)getpid(), tag);
    mqtt5_event_loop_group_options go;
    mqtt5_event_loop_group_options_init(&go);
    go.caller_driven = true;
    assert_int_equal(mqtt5_event_loop_group_new(&go, &r->g), 0);

    mqtt5_client_options o;
    mqtt5_client_options_init(&o);
    o.group = r->g;
    o.host = "127.0.0.1";
    o.port = fx_need_port("FX_PORT_TCP");
    char id[64];
    snprintf(id, sizeof id, "cd-%ld-%s", (long)getpid(), tag);
    o.core.connect.client_id = (mqtt5_str){id, strlen(id)};
    if (max_queued_ops) o.core.max_queued_ops = max_queued_ops;
    o.core.reconnect_min_ms = 100; /* the restart test waits for the backoff */
    o.core.reconnect_max_ms = 500;
    o.user = r;
    o.on_lifecycle = on_lifecycle;
    o.on_publish = on_publish;
    assert_int_equal(mqtt5_client_new(&o, &r->c, NULL), 0);
    assert_int_equal(mqtt5_client_start(r->c), 0);
    run_until(r, &r->connected, 1, "CONNECTION_SUCCESS");
    subscribe_own_topic(r);
}

/* Release the client, then the group; run until the run that finishes the group. */
static void teardown_client(rec *r)
{
    assert_int_equal(mqtt5_client_release(r->c, on_terminated, r), 0);
    mqtt5_event_loop_group_release(r->g, on_shutdown, r);
    uint64_t end = fx_now_ms() + WAIT_MS;
    int rc;
    while ((rc = run(r, 100)) == 0)
        if (fx_now_ms() > end) fail_msg("the group never finished");
    assert_int_equal(rc, MQTT5_ERR_TERMINATED);
    assert_int_equal(r->terminated, 1);
    assert_int_equal(r->shutdown, 1);
    assert_int_equal(r->foreign_calls, 0);
    assert_int_equal(r->order_bad, 0);
}

static int publish(rec *r, int th, int seq, uint8_t qos)
{
    char payload[64];
    int n = snprintf(payload, sizeof payload, "%d:%d:caller-driven", th, seq);
    mqtt5_publish p = {.qos = qos,
                       .topic = {r->topic, strlen(r->topic)},
                       .payload = {(const uint8_t *)payload, (size_t)n}};
    return mqtt5_client_publish(r->c, &p, NULL, on_ack, r, NULL);
}

/* ---- tests --------------------------------------------------------------------------------- */

/* QoS 0, 1 and 2 to our own subscription: nothing completes before a run; then every ack and
 * message arrives, each QoS's in order, on this thread; stats read between runs count them. */
static void test_roundtrip_on_caller_thread(void **state)
{
    (void)state;
    rec r;
    setup_client(&r, "rt", 0);
    /* one numbered stream per QoS: the broker keeps order within a QoS, not across them */
    for (int i = 0; i < 30; i++)
        assert_int_equal(publish(&r, i % 3, i / 3, (uint8_t)(i % 3)), 0);
    /* queued only: the loop has not run since */
    assert_int_equal(r.acks + r.ack_errors, 0);
    assert_int_equal(r.msgs, 0);
    run_until(&r, &r.msgs, 30, "30 messages");
    run_until(&r, &r.acks, 30, "30 completions");
    assert_int_equal(r.ack_errors, 0);
    for (int q = 0; q < 3; q++)
        assert_int_equal(r.next_seq[q], 10);

    mqtt5_client_stats st;
    assert_int_equal(mqtt5_client_get_stats(r.c, &st), 0); /* between runs: read directly */
    assert_true(st.packets_sent[MQTT5_PUBLISH] >= 30);
    assert_true(st.packets_received[MQTT5_PUBLISH] >= 30);
    teardown_client(&r);
}

typedef struct pub_thread_arg {
    rec *r;
    int n, rc_bad;
} pub_thread_arg;

static void *publisher_thread(void *arg)
{
    pub_thread_arg *a = arg;
    for (int i = 0; i < a->n; i++) {
        int rc;
        while ((rc = publish(a->r, 1, i, 1)) == MQTT5_ERR_QUEUE_FULL) {
            /* not the driving thread: waits on the condition variable */
            int w = mqtt5_client_wait_for_room(a->r->c, WAIT_MS);
            if (w) a->rc_bad++;
        }
        if (rc) a->rc_bad++;
    }
    return NULL;
}

/* Another thread publishes 2000 QoS 1 messages while this thread runs with no timeout: its
 * posts wake the run; all complete here, in that thread's order. */
static void test_other_thread_publishes_wake_the_run(void **state)
{
    (void)state;
    rec r;
    setup_client(&r, "mt", 64);
    pub_thread_arg a = {.r = &r, .n = 2000};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, publisher_thread, &a), 0);
    uint64_t end = fx_now_ms() + 3 * WAIT_MS;
    while (r.msgs < a.n || r.acks < a.n) {
        if (fx_now_ms() > end) fail_msg("timed out: %d messages, %d acks", r.msgs, r.acks);
        assert_int_equal(run(&r, -1), 0); /* only events end it: the other thread's commands */
    }
    pthread_join(t, NULL);
    assert_int_equal(a.rc_bad, 0);
    assert_int_equal(r.ack_errors, 0);
    assert_int_equal(r.next_seq[1], a.n);
    teardown_client(&r);
}

/* A queue of 8 operations: the driving thread publishes until QUEUE_FULL, then
 * wait_for_room runs the loop until it is half empty; 500 messages all arrive. */
static void test_wait_for_room_runs_the_loop(void **state)
{
    (void)state;
    rec r;
    setup_client(&r, "room", 8);
    int full = 0;
    for (int i = 0; i < 500; i++) {
        int rc;
        while ((rc = publish(&r, 0, i, 1)) == MQTT5_ERR_QUEUE_FULL) {
            full++;
            r.in_sdk++;
            int w = mqtt5_client_wait_for_room(r.c, WAIT_MS);
            r.in_sdk--;
            assert_int_equal(w, 0);
        }
        assert_int_equal(rc, 0);
    }
    assert_true(full > 0); /* the bound was reached, so the wait was exercised */
    run_until(&r, &r.acks, 500, "500 acks");
    run_until(&r, &r.msgs, 500, "500 messages");
    assert_int_equal(r.next_seq[0], 500);
    teardown_client(&r);
}

/* Misuse gets named errors; an idle run returns after about its timeout. */
static void test_refusals_and_timeout(void **state)
{
    (void)state;
    rec r;
    setup_client(&r, "misuse", 0);

    /* a second caller-driven group on this thread */
    mqtt5_event_loop_group_options go;
    mqtt5_event_loop_group_options_init(&go);
    go.caller_driven = true;
    mqtt5_event_loop_group *g2 = NULL;
    assert_int_equal(mqtt5_event_loop_group_new(&go, &g2), MQTT5_ERR_INVALID_STATE);
    assert_null(g2);

    /* a group with threads cannot be run */
    go.caller_driven = false;
    assert_int_equal(mqtt5_event_loop_group_new(&go, &g2), 0);
    assert_int_equal(mqtt5_event_loop_group_run(g2, 0), MQTT5_ERR_INVALID_STATE);
    mqtt5_event_loop_group_release(g2, NULL, NULL);
    assert_int_equal(mqtt5_event_loop_group_run(NULL, 0), MQTT5_ERR_INVALID_ARGUMENT);

    /* run from inside a callback, future_wait from inside a callback */
    r.try_reentry = true;
    r.busy_rc = r.deadlock_rc = 1;
    assert_int_equal(publish(&r, 0, 0, 0), 0);
    run_until(&r, &r.msgs, 1, "the message");
    assert_int_equal(r.busy_rc, MQTT5_ERR_BUSY);
    assert_int_equal(r.deadlock_rc, MQTT5_ERR_WOULD_DEADLOCK);

    /* nothing to do: run(0) returns at once, run(150) after about 150 ms (the keep-alive is
     * 1200 s, so no timer of the client's fires meanwhile) */
    uint64_t t0 = fx_now_ms();
    assert_int_equal(run(&r, 0), 0);
    assert_true(fx_now_ms() - t0 < 100);
    t0 = fx_now_ms();
    assert_int_equal(run(&r, 150), 0);
    uint64_t took = fx_now_ms() - t0;
    assert_true(took >= 140);
    assert_true(took < 2000);
    teardown_client(&r);
}

static void *run_from_other_thread(void *arg)
{
    rec *r = arg;
    return (void *)(intptr_t)mqtt5_event_loop_group_run(r->g, 0);
}

/* Only the creating thread runs the loop. */
static void test_run_on_another_thread_refused(void **state)
{
    (void)state;
    rec r;
    setup_client(&r, "thread", 0);
    pthread_t t;
    void *res = NULL;
    assert_int_equal(pthread_create(&t, NULL, run_from_other_thread, &r), 0);
    pthread_join(t, &res);
    assert_int_equal((int)(intptr_t)res, MQTT5_ERR_INVALID_STATE);
    teardown_client(&r);
}

/* A group without clients released: the next run finishes it at once. */
static void test_release_without_clients(void **state)
{
    (void)state;
    rec r;
    memset(&r, 0, sizeof r);
    r.owner = pthread_self();
    r.terminated = 1; /* no client: on_shutdown may come first */
    mqtt5_event_loop_group_options go;
    mqtt5_event_loop_group_options_init(&go);
    go.caller_driven = true;
    assert_int_equal(mqtt5_event_loop_group_new(&go, &r.g), 0);
    assert_int_equal(run(&r, 0), 0);
    mqtt5_event_loop_group_release(r.g, on_shutdown, &r);
    assert_int_equal(r.shutdown, 0); /* not before the run */
    assert_int_equal(run(&r, -1), MQTT5_ERR_TERMINATED);
    assert_int_equal(r.shutdown, 1);
    assert_int_equal(r.foreign_calls, 0);
    /* the thread may drive a new group afterwards */
    assert_int_equal(mqtt5_event_loop_group_new(&go, &r.g), 0);
    mqtt5_event_loop_group_release(r.g, NULL, NULL);
    assert_int_equal(run(&r, -1), MQTT5_ERR_TERMINATED);
}

/* The broker is killed and started again: the client's reconnect backoff (a timer on the
 * loop's heap, run only by this thread's runs) brings it back; a QoS 1 publish made while the
 * broker is down completes after the reconnect, and the message arrives once resubscribed.
 * Last in the file: it replaces the fixture's mosquitto. */
static void test_reconnects_after_broker_restart(void **state)
{
    (void)state;
    rec r;
    setup_client(&r, "restart", 0);
    assert_int_equal(fx_mosquitto_stop(SIGKILL, 5000), 0);
    run_until(&r, &r.disconnections, 1, "DISCONNECTION");
    assert_int_equal(publish(&r, 0, 0, 1), 0); /* queued while offline */
    run(&r, 300);                              /* a few failed attempts meanwhile */
    assert_int_equal(r.acks, 0);
    assert_int_equal(fx_mosquitto_start(10000), 0);
    run_until(&r, &r.connected, 2, "the second CONNECTION_SUCCESS");
    run_until(&r, &r.acks, 1, "the PUBACK of the publish made offline");
    assert_int_equal(r.ack_errors, 0);
    subscribe_own_topic(&r); /* a clean session: the subscription went with the old one */
    assert_int_equal(publish(&r, 1, 0, 1), 0); /* stream 1: the offline one had no subscriber */
    run_until(&r, &r.msgs, 1, "the message after the reconnect");
    assert_int_equal(r.next_seq[1], 1);
    teardown_client(&r);
}

int main(void)
{
    alarm(120); /* a run that is never woken (or never finishes the group) hangs: fail instead */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_on_caller_thread),
        cmocka_unit_test(test_other_thread_publishes_wake_the_run),
        cmocka_unit_test(test_wait_for_room_runs_the_loop),
        cmocka_unit_test(test_refusals_and_timeout),
        cmocka_unit_test(test_run_on_another_thread_refused),
        cmocka_unit_test(test_release_without_clients),
        cmocka_unit_test(test_reconnects_after_broker_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
