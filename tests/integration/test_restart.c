/*
 * tests/integration/test_restart.c - the broker is stopped and restarted under running clients.
 *
 * Run by ctest as `fixture.sh run <this exe>` (see fixture.sh): mosquitto with persistence
 * (autosave_interval 1) on random ports, PID in FX_MOSQ_PID, config in FX_MOSQ_CONF.
 *
 * Two clients on plain TCP, both with session behaviour REJOIN_ALWAYS, Session Expiry Interval
 * 3600 in CONNECT, fixed client ids and reconnect delays 100..500 ms: a subscriber (QoS 1
 * subscription) and a publisher that submits 2000 QoS 1 publishes (payload "idx=<n>") at about
 * 1 kHz. About 0.5 s into the publishing a second thread signals mosquitto and starts it again
 * on the same ports with the same config and persistence file (fx_mosquitto_stop/start) 150 ms
 * after it is gone, so that reconnect attempts usually meet a closed port first.
 *
 * SIGTERM (mosquitto saves its database on the way out): every publish completes exactly once
 * with error 0; every index reaches the subscriber at least once (duplicates counted); a
 * publish that had to be sent again was received by mosquitto with DUP=1 (its log line
 * "Received PUBLISH from <id> (d1, ..."), or nothing needed a resend; the lifecycle of both
 * clients is well formed (every ATTEMPTING_CONNECT ends in one SUCCESS or FAILURE, every SUCCESS
 * but the last has its DISCONNECTION; all of them after the stop), and both reconnected.
 * SIGKILL (mosquitto loses what it received since the last autosave): the assertions cover the
 * publisher only: every publish still completes exactly once with 0, its lifecycle is well
 * formed; how many indices reached the subscriber is reported. Both sessions are given 1.5 s to
 * reach an autosave before the publishing starts.
 *
 * Receive Maximum. mosquitto 2.0.11 does not hold back the messages it queued for an offline
 * session when that session's client reconnects: it sends the whole queue at once, far beyond the
 * Receive Maximum from the client's CONNECT (seen: 357 PUBLISHes out, 3 PUBACKs in, against 100).
 * A client enforcing its Receive Maximum (DISCONNECT 0x93) reconnects into the same flood again
 * and loops for tens of seconds; so the SDK tolerates the excess by default (core option
 * receive_maximum_strict), and this subscriber keeps the SDK's default of 100 to prove it
 * (RS_SUB_RECEIVE_MAXIMUM=n sets another). The test prints the most PUBLISHes mosquitto had
 * unacknowledged towards the subscriber on one connection, from mosquitto's log.
 *
 * What was seen is printed on stdout (resends, DUP counts, durations, lifecycle dumps on stderr).
 * FX_TEST_FILTER=<glob> runs a subset; MQTT5_LOG_LEVEL=Trace logs the SDK to stderr.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers/fx_client.h"
#include "helpers/fx_env.h"
#include "mqtt5/client.h"
#include "mqtt5/error.h"
#include "mqtt5/log.h"
#include "mqtt5/packet.h"

#define RS_COUNT 2000u       /* publishes per case */
#define RS_KILL_AFTER_MS 500 /* after the first publish */
#define RS_DOWN_MS 150       /* broker gone -> started again: the first reconnect attempt fails */
#define RS_DRAIN_MS 30000u   /* for completions and deliveries after the last submission */
#define RS_KILL_DRAIN_MS 10000u /* SIGKILL: deliveries may never be complete */

struct rs_case;
/* The `user` of publish #idx: the index travels as the callback's first argument. */
typedef struct rs_slot {
    struct rs_case *rc;
    uint32_t idx;
} rs_slot;

typedef struct rs_case {
    const char *tag; /* "term" / "kill" */
    int sig;
    char topic[128];
    char pub_id[96], sub_id[96];
    fx_client *pub, *sub;

    /* publisher completions */
    rs_slot slots[RS_COUNT];
    uint32_t completions[RS_COUNT];
    int first_error[RS_COUNT];
    uint32_t epoch[RS_COUNT]; /* CONNECTION_SUCCESS events of the publisher at completion */
    uint32_t n_completed;     /* completion callbacks, duplicates included */
    uint32_t n_bad_ctx;
    /* subscriber deliveries */
    uint32_t received[RS_COUNT];
    uint64_t n_received, n_dup_flag, n_foreign;
    uint64_t last_receive_ms;

    /* broker thread */
    uint64_t t0, t_signal, t_down, t_up;
    int stop_rc, start_rc;
} rs_case;

/* One case at a time. Static, so that a failed case (cmocka longjmps out) leaks nothing and
 * callbacks of clients that teardown releases later still find live memory. */
static rs_case g_case;
static pthread_mutex_t rs_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rs_cv = PTHREAD_COND_INITIALIZER;

/* ---- callbacks (loop thread) ---------------------------------------------------------------- */

static void rs_on_publish_done(void *user, const mqtt5_op_completion *d)
{
    const rs_slot *slot = user;
    rs_case *rc = slot->rc;
    uint32_t epoch = (uint32_t)fx_client_count_events(rc->pub, MQTT5_LC_CONNECTION_SUCCESS);
    uint32_t idx = slot->idx;
    pthread_mutex_lock(&rs_mu);
    rc->n_completed++;
    if (idx < RS_COUNT) {
        if (rc->completions[idx]++ == 0) {
            rc->first_error[idx] = d->error;
            rc->epoch[idx] = epoch;
        }
    } else {
        rc->n_bad_ctx++;
    }
    pthread_cond_broadcast(&rs_cv);
    pthread_mutex_unlock(&rs_mu);
}

static void rs_on_receive(void *ctx, const mqtt5_inbound_publish *m)
{
    rs_case *rc = ctx;
    const mqtt5_publish *p = m->publish;
    unsigned idx = RS_COUNT;
    char buf[32];
    bool ours = p->topic.len == strlen(rc->topic) &&
                memcmp(p->topic.ptr, rc->topic, p->topic.len) == 0 && p->payload.len > 4 &&
                p->payload.len < sizeof buf;
    if (ours) {
        memcpy(buf, p->payload.ptr, p->payload.len);
        buf[p->payload.len] = '\0';
        if (sscanf(buf, "idx=%u", &idx) != 1) {
            idx = RS_COUNT;
        }
    }
    pthread_mutex_lock(&rs_mu);
    rc->n_received++;
    rc->last_receive_ms = fx_now_ms();
    if (p->dup) {
        rc->n_dup_flag++;
    }
    if (idx < RS_COUNT) {
        rc->received[idx]++;
    } else {
        rc->n_foreign++;
    }
    pthread_cond_broadcast(&rs_cv);
    pthread_mutex_unlock(&rs_mu);
}

/* ---- the broker thread ---------------------------------------------------------------------- */

static void *rs_broker_thread(void *arg)
{
    rs_case *rc = arg;
    uint64_t at = rc->t0 + RS_KILL_AFTER_MS;
    uint64_t now = fx_now_ms();
    if (at > now) {
        fx_sleep_ms((uint32_t)(at - now));
    }
    rc->t_signal = fx_now_ms();
    rc->stop_rc = fx_mosquitto_stop(rc->sig, 5000);
    rc->t_down = fx_now_ms();
    fx_sleep_ms(RS_DOWN_MS);
    rc->start_rc = fx_mosquitto_start(10000);
    rc->t_up = fx_now_ms();
    return NULL;
}

/* ---- steps ---------------------------------------------------------------------------------- */

static void rs_options(fx_harness *h, mqtt5_client_options *o, const char *client_id)
{
    fx_client_options(h, o, "127.0.0.1", fx_need_port("FX_PORT_TCP"));
    o->core.connect.client_id = (mqtt5_str){client_id, strlen(client_id)};
    o->core.session_behavior = MQTT5_SESSION_REJOIN_ALWAYS;
    MQTT5_PROPS_SET(&o->core.connect.properties, MQTT5_PROP_SESSION_EXPIRY_INTERVAL);
    o->core.connect.properties.session_expiry_interval = 3600;
    o->core.reconnect_min_ms = 100;
    o->core.reconnect_max_ms = 500;
    o->core.max_queued_ops = 4 * RS_COUNT; /* the whole run may be queued while offline */
}

static uint16_t rs_sub_receive_maximum(void)
{
    const char *v = getenv("RS_SUB_RECEIVE_MAXIMUM");
    long n = v != NULL ? strtol(v, NULL, 10) : 0;
    return n >= 1 && n <= 65535 ? (uint16_t)n : 100;
}

static fx_client *rs_connect(fx_harness *h, const char *name, mqtt5_client_options *o, rs_case *rc,
                             bool tap)
{
    int err = 0;
    fx_client *fc = fx_client_create(h, name, o, &err, NULL);
    assert_non_null(fc);
    if (tap) {
        fx_client_set_tap(fc, rs_on_receive, rc, false);
    }
    assert_int_equal(fx_client_start(fc), 0);
    fx_event ev;
    if (fx_client_wait_event(fc, MQTT5_LC_CONNECTION_SUCCESS, 0, FX_WAIT_MS, &ev) < 0) {
        fx_client_dump(fc);
        fail_msg("%s: no CONNECTION_SUCCESS within %u ms", name, FX_WAIT_MS);
    }
    assert_int_equal(ev.connack_reason, 0);
    return fc;
}

/* Lines of the mosquitto log "Received PUBLISH from <id> (d1, " (resends seen by the broker). */
static unsigned count_broker_dup(const char *client_id, unsigned *total)
{
    const char *path = fx_env("FX_MOSQ_LOG");
    char pathbuf[512];
    if (path == NULL && fx_env("FX_DIR") != NULL) {
        snprintf(pathbuf, sizeof pathbuf, "%s/mosquitto.log", fx_env("FX_DIR"));
        path = pathbuf;
    }
    size_t len = 0;
    uint8_t *log = path != NULL ? fx_read_file(path, &len) : NULL;
    if (log == NULL) {
        *total = 0;
        return 0;
    }
    char needle[160], dup_needle[200];
    snprintf(needle, sizeof needle, "Received PUBLISH from %.100s (", client_id);
    snprintf(dup_needle, sizeof dup_needle, "%sd1,", needle);
    unsigned n = 0, all = 0;
    const char *s = (const char *)log;
    while ((s = strstr(s, needle)) != NULL) {
        all++;
        if (strncmp(s, dup_needle, strlen(dup_needle)) == 0) {
            n++;
        }
        s += strlen(needle);
    }
    free(log);
    *total = all;
    return n;
}

/* From the mosquitto log: the most QoS 1 PUBLISHes mosquitto had sent to client_id and not yet
 * seen acknowledged, on any one connection ("Sending PUBLISH to <id> (dX, q1" minus "Received
 * PUBACK from <id> ("; reset by "as <id> (" in "New client connected"). *conns: connections. */
static unsigned broker_max_outstanding(const char *client_id, unsigned *conns)
{
    const char *path = fx_env("FX_MOSQ_LOG");
    size_t len = 0;
    uint8_t *log = path != NULL ? fx_read_file(path, &len) : NULL;
    *conns = 0;
    if (log == NULL) {
        return 0;
    }
    char as[160], pub0[200], pub1[200], ack[200];
    snprintf(as, sizeof as, " as %.100s (", client_id);
    snprintf(pub0, sizeof pub0, "Sending PUBLISH to %.100s (d0, q1,", client_id);
    snprintf(pub1, sizeof pub1, "Sending PUBLISH to %.100s (d1, q1,", client_id);
    snprintf(ack, sizeof ack, "Received PUBACK from %.100s (", client_id);
    long cur = 0, max = 0;
    char *line = (char *)log;
    while (line != NULL && *line != '\0') {
        char *nl = strchr(line, '\n');
        if (nl != NULL) {
            *nl = '\0';
        }
        if (strstr(line, "New client connected") != NULL && strstr(line, as) != NULL) {
            cur = 0;
            (*conns)++;
        } else if (strstr(line, pub0) != NULL || strstr(line, pub1) != NULL) {
            if (++cur > max) {
                max = cur;
            }
        } else if (strstr(line, ack) != NULL && cur > 0) {
            cur--;
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    free(log);
    return (unsigned)max;
}

static uint32_t rs_distinct(rs_case *rc, uint64_t *dups)
{
    uint32_t n = 0;
    uint64_t d = 0;
    for (uint32_t i = 0; i < RS_COUNT; i++) {
        n += rc->received[i] != 0;
        d += rc->received[i] > 1 ? rc->received[i] - 1 : 0;
    }
    if (dups != NULL) {
        *dups = d;
    }
    return n;
}

static void rs_run(fx_harness *h, int sig, const char *tag)
{
    rs_case *rc = &g_case;
    pthread_mutex_lock(&rs_mu);
    memset(rc, 0, sizeof *rc);
    for (uint32_t i = 0; i < RS_COUNT; i++) {
        rc->slots[i] = (rs_slot){rc, i};
    }
    pthread_mutex_unlock(&rs_mu);
    rc->sig = sig;
    rc->tag = tag;
    long pid = (long)getpid();
    snprintf(rc->topic, sizeof rc->topic, "rs/%ld/%s", pid, tag);
    snprintf(rc->pub_id, sizeof rc->pub_id, "rs-%s-pub-%ld", tag, pid);
    snprintf(rc->sub_id, sizeof rc->sub_id, "rs-%s-sub-%ld", tag, pid);
    if (fx_mosquitto_pid() <= 0) {
        fail_msg("no mosquitto PID (FX_MOSQ_PID unset or an earlier restart failed)");
    }
    uint64_t t_begin = fx_now_ms();

    mqtt5_client_options o;
    rs_options(h, &o, rc->sub_id);
    o.core.receive_maximum = rs_sub_receive_maximum(); /* see the header comment */
    rc->sub = rs_connect(h, "rs-sub", &o, rc, true);
    int reason = -2;
    assert_int_equal(fx_subscribe(rc->sub, rc->topic, 1, &reason), 0);
    assert_int_equal(reason, MQTT5_RC_GRANTED_QOS_1);
    rs_options(h, &o, rc->pub_id);
    rc->pub = rs_connect(h, "rs-pub", &o, rc, false);
    if (sig == SIGKILL) {
        fx_sleep_ms(1500); /* let an autosave (every 1 s) record both sessions */
    }

    /* 2000 QoS 1 publishes at ~1 kHz; the broker thread signals at +500 ms and restarts */
    rc->t0 = fx_now_ms();
    pthread_t bt;
    assert_int_equal(pthread_create(&bt, NULL, rs_broker_thread, rc), 0);
    int submit_errors = 0, first_submit_error = 0;
    uint32_t first_bad_index = 0;
    for (uint32_t i = 0; i < RS_COUNT; i++) {
        uint64_t due = rc->t0 + i, now = fx_now_ms();
        if (due > now) {
            fx_sleep_ms((uint32_t)(due - now));
        }
        char payload[32];
        int n = snprintf(payload, sizeof payload, "idx=%05u", i);
        mqtt5_publish p;
        memset(&p, 0, sizeof p);
        p.qos = 1;
        p.topic = (mqtt5_str){rc->topic, strlen(rc->topic)};
        p.payload = (mqtt5_bytes){(const uint8_t *)payload, (size_t)n};
        mqtt5_codec_status st;
        memset(&st, 0, sizeof st);
        int r =
            mqtt5_client_publish(rc->pub->client, &p, NULL, rs_on_publish_done, &rc->slots[i], &st);
        if (r != 0 && submit_errors++ == 0) {
            first_submit_error = r;
            first_bad_index = i;
        }
    }
    uint64_t t_submitted = fx_now_ms();
    pthread_join(bt, NULL);
    printf("    %s: submitted %u publishes in %llu ms; signal %d at +%llu ms, broker down after "
           "%llu ms, listening again %llu ms later (stop %d, start %d)\n",
           tag, RS_COUNT, (unsigned long long)(t_submitted - rc->t0), sig,
           (unsigned long long)(rc->t_signal - rc->t0),
           (unsigned long long)(rc->t_down - rc->t_signal),
           (unsigned long long)(rc->t_up - rc->t_down), rc->stop_rc, rc->start_rc);
    if (submit_errors != 0) {
        fail_msg("%s: %d publish calls refused, first #%u: %s", tag, submit_errors, first_bad_index,
                 mqtt5_error_name(first_submit_error));
    }
    assert_int_equal(rc->stop_rc, 0);
    assert_int_equal(rc->start_rc, 0);

    /* every publish completes */
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += RS_DRAIN_MS / 1000u;
    pthread_mutex_lock(&rs_mu);
    while (rc->n_completed < RS_COUNT) {
        if (pthread_cond_timedwait(&rs_cv, &rs_mu, &dl) == ETIMEDOUT) {
            break;
        }
    }
    uint32_t completed = rc->n_completed;
    pthread_mutex_unlock(&rs_mu);
    uint64_t t_completed = fx_now_ms();

    /* deliveries: SIGTERM: until every index arrived; SIGKILL: until 2 s pass without one */
    uint32_t distinct = 0;
    for (;;) {
        pthread_mutex_lock(&rs_mu);
        distinct = rs_distinct(rc, NULL);
        uint64_t last = rc->last_receive_ms;
        pthread_mutex_unlock(&rs_mu);
        uint64_t now = fx_now_ms();
        if (distinct == RS_COUNT || now > t_completed + RS_DRAIN_MS ||
            (sig == SIGKILL && (now > t_completed + RS_KILL_DRAIN_MS ||
                                now > (last > t_completed ? last : t_completed) + 2000))) {
            break;
        }
        fx_sleep_ms(20);
    }
    uint64_t t_delivered = fx_now_ms();
    fx_sleep_ms(300); /* late duplicates, if any */

    mqtt5_client_stats ps;
    memset(&ps, 0, sizeof ps);
    assert_int_equal(mqtt5_client_get_stats(rc->pub->client, &ps), 0);
    unsigned broker_pub_lines = 0;
    unsigned broker_dup = count_broker_dup(rc->pub_id, &broker_pub_lines);
    mqtt5_client_stats ss;
    memset(&ss, 0, sizeof ss);
    assert_int_equal(mqtt5_client_get_stats(rc->sub->client, &ss), 0);
    unsigned sub_conns = 0;
    unsigned outstanding = broker_max_outstanding(rc->sub_id, &sub_conns);

    /* lifecycle before the stop: the last SUCCESS is the current connection */
    char why_pub[256] = "", why_sub[256] = "";
    const char *fin_pub = "?", *fin_sub = "?";
    int lc_pub = fx_client_check_lifecycle(rc->pub, &fin_pub, why_pub, sizeof why_pub);
    int lc_sub = fx_client_check_lifecycle(rc->sub, &fin_sub, why_sub, sizeof why_sub);
    size_t pub_succ = fx_client_count_events(rc->pub, MQTT5_LC_CONNECTION_SUCCESS);
    size_t sub_succ = fx_client_count_events(rc->sub, MQTT5_LC_CONNECTION_SUCCESS);
    size_t pub_fail = fx_client_count_events(rc->pub, MQTT5_LC_CONNECTION_FAILURE);
    size_t sub_fail = fx_client_count_events(rc->sub, MQTT5_LC_CONNECTION_FAILURE);

    pthread_mutex_lock(&rs_mu);
    uint32_t exactly_once = 0, never = 0, twice = 0, errors = 0, first_err_idx = RS_COUNT;
    int first_err = 0;
    uint32_t by_epoch[8] = {0};
    for (uint32_t i = 0; i < RS_COUNT; i++) {
        if (rc->completions[i] == 1) {
            exactly_once++;
        } else if (rc->completions[i] == 0) {
            never++;
        } else {
            twice++;
        }
        if (rc->completions[i] != 0 && rc->first_error[i] != 0) {
            if (errors++ == 0) {
                first_err_idx = i;
                first_err = rc->first_error[i];
            }
        }
        if (rc->completions[i] != 0) {
            by_epoch[rc->epoch[i] < 7 ? rc->epoch[i] : 7]++;
        }
    }
    uint64_t dups = 0;
    distinct = rs_distinct(rc, &dups);
    uint32_t first_missing = RS_COUNT;
    for (uint32_t i = 0; i < RS_COUNT && first_missing == RS_COUNT; i++) {
        if (rc->received[i] == 0) {
            first_missing = i;
        }
    }
    uint64_t n_received = rc->n_received, n_dup_flag = rc->n_dup_flag;
    uint64_t n_foreign = rc->n_foreign;
    uint32_t bad_ctx = rc->n_bad_ctx;
    pthread_mutex_unlock(&rs_mu);

    uint64_t pub_sent = ps.packets_sent[MQTT5_PUBLISH];
    uint64_t resends = pub_sent > RS_COUNT ? pub_sent - RS_COUNT : 0;
    printf("    %s: completions: %u exactly once, %u never, %u more than once, %u with an error "
           "(first #%u %s), %llu ms after the last submission\n",
           tag, exactly_once, never, twice, errors, first_err_idx,
           errors != 0 ? mqtt5_error_name(first_err) : "-",
           (unsigned long long)(t_completed - t_submitted));
    printf("    %s: completed on connection 1: %u, 2: %u, 3: %u, 4+: %u\n", tag, by_epoch[1],
           by_epoch[2], by_epoch[3], by_epoch[4] + by_epoch[5] + by_epoch[6] + by_epoch[7]);
    printf("    %s: publisher sent %llu PUBLISH packets (%llu resends); mosquitto logged %u "
           "PUBLISHes from it, %u with DUP=1\n",
           tag, (unsigned long long)pub_sent, (unsigned long long)resends, broker_pub_lines,
           broker_dup);
    printf("    %s: subscriber: %llu messages, %u of %u indices, %llu duplicates, %llu with DUP=1, "
           "%llu foreign; all delivered %llu ms after the last completion\n",
           tag, (unsigned long long)n_received, distinct, RS_COUNT, (unsigned long long)dups,
           (unsigned long long)n_dup_flag, (unsigned long long)n_foreign,
           (unsigned long long)(t_delivered - t_completed));
    printf("    %s: lifecycle: publisher %zu successes / %zu failures (%s), subscriber %zu / %zu "
           "(%s)\n",
           tag, pub_succ, pub_fail, lc_pub == 0 ? fin_pub : why_pub, sub_succ, sub_fail,
           lc_sub == 0 ? fin_sub : why_sub);
    printf("    %s: subscriber (Receive Maximum %u): %llu PUBLISHes received, %llu disconnections, "
           "%llu DISCONNECTs sent; mosquitto had up to %u PUBLISHes unacknowledged towards it on "
           "one connection (%u connections)%s\n",
           tag, rs_sub_receive_maximum(), (unsigned long long)ss.packets_received[MQTT5_PUBLISH],
           (unsigned long long)ss.disconnections,
           (unsigned long long)ss.packets_sent[MQTT5_DISCONNECT], outstanding, sub_conns,
           outstanding > rs_sub_receive_maximum() ? ": MORE than its Receive Maximum" : "");
    fx_client_dump(rc->pub);
    fx_client_dump(rc->sub);

    /* publisher: always */
    assert_int_equal(bad_ctx, 0);
    assert_int_equal(completed, RS_COUNT);
    assert_int_equal(exactly_once, RS_COUNT);
    if (errors != 0) {
        fail_msg("%s: %u publishes completed with an error, first #%u: %s", tag, errors,
                 first_err_idx, mqtt5_error_name(first_err));
    }
    /* a resend reached the broker with DUP=1, or nothing was resent (every publish was
     * acknowledged on the connection it was first written to) */
    if (resends != 0 && broker_dup == 0) {
        fail_msg("%s: %llu PUBLISH resends but mosquitto logged none with DUP=1", tag,
                 (unsigned long long)resends);
    }
    assert_true(broker_dup <= resends);
    /* lifecycle well formed; the publisher saw the restart and is connected again */
    if (lc_pub != 0) {
        fail_msg("%s: publisher lifecycle: %s", tag, why_pub);
    }
    assert_string_equal(fin_pub, "connected");
    assert_true(pub_succ >= 2);
    assert_true(n_foreign == 0);
    if (sig == SIGTERM) {
        /* the same for the subscriber, which got every index */
        if (lc_sub != 0) {
            fail_msg("%s: subscriber lifecycle: %s", tag, why_sub);
        }
        assert_string_equal(fin_sub, "connected");
        assert_true(sub_succ >= 2);
        if (distinct != RS_COUNT) {
            fail_msg("%s: %u of %u indices reached the subscriber, first missing #%u "
                     "(mosquitto log: look for 'dropped')",
                     tag, distinct, RS_COUNT, first_missing);
        }
    }

    /* after the stop every SUCCESS has its DISCONNECTION and STOPPED ends the sequence */
    assert_int_equal(fx_client_stop(rc->pub, FX_WAIT_MS), 0);
    assert_int_equal(fx_client_stop(rc->sub, FX_WAIT_MS), 0);
    assert_int_equal(fx_client_check_lifecycle(rc->pub, &fin_pub, why_pub, sizeof why_pub), 0);
    assert_string_equal(fin_pub, "stopped");
    if (sig == SIGTERM) {
        assert_int_equal(fx_client_check_lifecycle(rc->sub, &fin_sub, why_sub, sizeof why_sub), 0);
        assert_string_equal(fin_sub, "stopped");
    }
    assert_int_equal(fx_client_release(rc->pub, FX_WAIT_MS), 0);
    assert_int_equal(fx_client_release(rc->sub, FX_WAIT_MS), 0);
    printf("    %s: case took %llu ms\n", tag, (unsigned long long)(fx_now_ms() - t_begin));
}

static void test_restart_sigterm(void **state)
{
    rs_run(*state, SIGTERM, "term");
}

static void test_restart_sigkill(void **state)
{
    rs_run(*state, SIGKILL, "kill");
}

#define FX_TEST(f) cmocka_unit_test_setup_teardown(f, fx_harness_setup, fx_harness_teardown)

int main(void)
{
    const char *lvl = getenv("MQTT5_LOG_LEVEL");
    mqtt5_log_level level;
    if (lvl != NULL && mqtt5_log_level_parse(lvl, &level) == 0) {
        mqtt5_log_to_stderr(level);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *filter = getenv("FX_TEST_FILTER");
    if (filter != NULL && filter[0] != '\0') {
        cmocka_set_test_filter(filter);
    }
    const struct CMUnitTest tests[] = {
        FX_TEST(test_restart_sigterm),
        FX_TEST(test_restart_sigkill),
    };
    return cmocka_run_group_tests_name("restart", tests, NULL, NULL);
}
