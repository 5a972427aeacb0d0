/*
 * tests/integration/helpers/fx_client.c - event recorder over mqtt5_client and the per-test
 * harness (group, client registry, orderly shutdown). See fx_client.h.
 */
#define _POSIX_C_SOURCE 200809L

#include "helpers/fx_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helpers/fx_env.h"
#include "mqtt5/error.h"

/* ---- monotonic condition variables ---------------------------------------------------------- */

static void cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

static struct timespec deadline_after(uint32_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000u;
    ts.tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec += 1;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* A one-shot signal for on_terminated / on_shutdown. Heap-allocated and deliberately leaked
 * when a wait times out (a late callback must not touch freed memory). */
typedef struct fx_signal {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
} fx_signal;

static fx_signal *signal_new(void)
{
    fx_signal *s = calloc(1, sizeof *s);
    if (s != NULL) {
        pthread_mutex_init(&s->mu, NULL);
        cond_init_monotonic(&s->cv);
    }
    return s;
}

static void signal_fire(void *user)
{
    fx_signal *s = user;
    pthread_mutex_lock(&s->mu);
    s->done = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static bool signal_wait(fx_signal *s, uint32_t timeout_ms)
{
    struct timespec dl = deadline_after(timeout_ms);
    pthread_mutex_lock(&s->mu);
    while (!s->done) {
        if (pthread_cond_timedwait(&s->cv, &s->mu, &dl) == ETIMEDOUT) {
            break;
        }
    }
    bool done = s->done;
    pthread_mutex_unlock(&s->mu);
    return done;
}

static void signal_free(fx_signal *s)
{
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ---- recorder callbacks (loop thread) ------------------------------------------------------- */

static void on_lifecycle(void *user, const mqtt5_lifecycle_event *ev, const char *detail)
{
    fx_client *fc = user;
    /* loop-thread-only queries, outside our lock */
    const char *alpn = NULL, *ver = NULL;
    if (ev->type == MQTT5_LC_CONNECTION_SUCCESS) {
        alpn = mqtt5_client_alpn(fc->client);
        ver = mqtt5_client_tls_version(fc->client);
    }
    pthread_mutex_lock(&fc->mu);
    if (fc->n_events < FX_MAX_EVENTS) {
        fx_event *e = &fc->events[fc->n_events++];
        memset(e, 0, sizeof *e);
        e->type = ev->type;
        e->error = ev->error;
        e->at_ms = fx_now_ms();
        e->connack_reason = ev->connack != NULL ? ev->connack->reason_code : -1;
        if (detail != NULL) {
            e->has_detail = true;
            snprintf(e->detail, sizeof e->detail, "%s", detail);
        }
    } else {
        fc->dropped_events++;
    }
    if (ev->type == MQTT5_LC_CONNECTION_SUCCESS) {
        snprintf(fc->alpn, sizeof fc->alpn, "%s", alpn != NULL ? alpn : "(null)");
        snprintf(fc->tls_version, sizeof fc->tls_version, "%s", ver != NULL ? ver : "(null)");
    }
    pthread_cond_broadcast(&fc->cv);
    pthread_mutex_unlock(&fc->mu);
}

static void on_publish(void *user, const mqtt5_inbound_publish *m)
{
    fx_client *fc = user;
    const mqtt5_publish *p = m->publish;
    if (fc->tap != NULL) {
        fc->tap(fc->tap_ctx, m);
        if (fc->tap_no_record) {
            return;
        }
    }
    char *topic = malloc(p->topic.len + 1);
    uint8_t *payload = malloc(p->payload.len + 1);
    if (topic == NULL || payload == NULL) {
        free(topic);
        free(payload);
        return;
    }
    if (p->topic.len != 0) {
        memcpy(topic, p->topic.ptr, p->topic.len);
    }
    topic[p->topic.len] = '\0';
    if (p->payload.len != 0) {
        memcpy(payload, p->payload.ptr, p->payload.len);
    }
    pthread_mutex_lock(&fc->mu);
    if (fc->n_msgs == fc->cap_msgs) {
        size_t cap = fc->cap_msgs != 0 ? fc->cap_msgs * 2 : 16;
        fx_msg *nm = realloc(fc->msgs, cap * sizeof *nm);
        if (nm == NULL) {
            pthread_mutex_unlock(&fc->mu);
            free(topic);
            free(payload);
            return;
        }
        fc->msgs = nm;
        fc->cap_msgs = cap;
    }
    fc->msgs[fc->n_msgs++] =
        (fx_msg){.topic = topic, .payload = payload, .payload_len = p->payload.len, .qos = p->qos};
    pthread_cond_broadcast(&fc->cv);
    pthread_mutex_unlock(&fc->mu);
}

static void on_terminated(void *user)
{
    fx_client *fc = user;
    pthread_mutex_lock(&fc->mu);
    fc->terminated = true;
    pthread_cond_broadcast(&fc->cv);
    pthread_mutex_unlock(&fc->mu);
}

/* ---- client -------------------------------------------------------------------------------- */

static fx_client *recorder_new(const char *name)
{
    fx_client *fc = calloc(1, sizeof *fc);
    if (fc == NULL) {
        return NULL;
    }
    static unsigned counter;
    snprintf(fc->name, sizeof fc->name, "%s", name);
    snprintf(fc->client_id, sizeof fc->client_id, "it-%.40s-%ld-%u", name, (long)getpid(),
             ++counter);
    pthread_mutex_init(&fc->mu, NULL);
    cond_init_monotonic(&fc->cv);
    return fc;
}

static void recorder_free(fx_client *fc)
{
    for (size_t i = 0; i < fc->n_msgs; i++) {
        free(fc->msgs[i].topic);
        free(fc->msgs[i].payload);
    }
    free(fc->msgs);
    pthread_cond_destroy(&fc->cv);
    pthread_mutex_destroy(&fc->mu);
    free(fc);
}

void fx_client_options(fx_harness *h, mqtt5_client_options *o, const char *host, uint16_t port)
{
    mqtt5_client_options_init(o);
    o->group = h->group;
    o->host = host;
    o->port = port;
    o->core.reconnect_min_ms = 100;
    o->core.reconnect_max_ms = 1000;
    o->core.connect.keep_alive = 60;
}

fx_client *fx_client_create(fx_harness *h, const char *name, mqtt5_client_options *o, int *err,
                            mqtt5_codec_status *st)
{
    if (h->n_clients == FX_MAX_CLIENTS) {
        fprintf(stderr, "fx: too many clients in one test\n");
        return NULL;
    }
    fx_client *fc = recorder_new(name);
    if (fc == NULL) {
        return NULL;
    }
    if (o->core.connect.client_id.len == 0) {
        o->core.connect.client_id = (mqtt5_str){fc->client_id, strlen(fc->client_id)};
    }
    o->user = fc;
    o->on_lifecycle = on_lifecycle;
    o->on_publish = on_publish;
    mqtt5_codec_status local;
    memset(&local, 0, sizeof local);
    int rc = mqtt5_client_new(o, &fc->client, st != NULL ? st : &local);
    if (err != NULL) {
        *err = rc;
    }
    if (o->core.connect.client_id.ptr == fc->client_id) {
        o->core.connect.client_id = (mqtt5_str){NULL, 0}; /* do not leave a dangling view */
    }
    if (rc != 0) {
        const mqtt5_codec_status *s = st != NULL ? st : &local;
        fprintf(stderr, "fx: mqtt5_client_new(%s) = %s field=%s detail=%s\n", name,
                mqtt5_error_name(rc), s->field != NULL ? s->field : "-",
                s->detail != NULL ? s->detail : "-");
        recorder_free(fc);
        return NULL;
    }
    h->clients[h->n_clients++] = fc;
    return fc;
}

int fx_client_start(fx_client *fc)
{
    fc->started_at = fx_now_ms();
    return mqtt5_client_start(fc->client);
}

int fx_client_wait_event(fx_client *fc, mqtt5_lifecycle_type type, size_t from, uint32_t timeout_ms,
                         fx_event *out)
{
    struct timespec dl = deadline_after(timeout_ms);
    int found = -1;
    pthread_mutex_lock(&fc->mu);
    for (;;) {
        for (size_t i = from; i < fc->n_events; i++) {
            if (fc->events[i].type == type) {
                found = (int)i;
                if (out != NULL) {
                    *out = fc->events[i];
                }
                break;
            }
        }
        if (found >= 0 || pthread_cond_timedwait(&fc->cv, &fc->mu, &dl) == ETIMEDOUT) {
            break;
        }
    }
    pthread_mutex_unlock(&fc->mu);
    return found;
}

size_t fx_client_event_count(fx_client *fc)
{
    pthread_mutex_lock(&fc->mu);
    size_t n = fc->n_events;
    pthread_mutex_unlock(&fc->mu);
    return n;
}

void fx_client_set_tap(fx_client *fc, fx_publish_tap tap, void *ctx, bool record)
{
    pthread_mutex_lock(&fc->mu);
    fc->tap = tap;
    fc->tap_ctx = ctx;
    fc->tap_no_record = !record;
    pthread_mutex_unlock(&fc->mu);
}

size_t fx_client_count_events(fx_client *fc, mqtt5_lifecycle_type type)
{
    size_t n = 0;
    pthread_mutex_lock(&fc->mu);
    for (size_t i = 0; i < fc->n_events; i++) {
        n += fc->events[i].type == type;
    }
    pthread_mutex_unlock(&fc->mu);
    return n;
}

int fx_client_check_lifecycle(fx_client *fc, const char **final, char *why, size_t cap)
{
    enum { IDLE, ATTEMPTING, CONNECTED, STOPPED } st = IDLE;
    static const char *const names[] = {"idle", "attempting", "connected", "stopped"};
    int rc = 0;
    pthread_mutex_lock(&fc->mu);
    if (fc->dropped_events != 0) {
        snprintf(why, cap, "%zu events dropped (more than %d)", fc->dropped_events, FX_MAX_EVENTS);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < fc->n_events; i++) {
        mqtt5_lifecycle_type t = fc->events[i].type;
        bool ok = false;
        switch (t) {
        case MQTT5_LC_ATTEMPTING_CONNECT:
            ok = st == IDLE || st == STOPPED;
            st = ATTEMPTING;
            break;
        case MQTT5_LC_CONNECTION_SUCCESS:
            ok = st == ATTEMPTING;
            st = CONNECTED;
            break;
        case MQTT5_LC_CONNECTION_FAILURE:
            ok = st == ATTEMPTING;
            st = IDLE;
            break;
        case MQTT5_LC_DISCONNECTION:
            ok = st == CONNECTED;
            st = IDLE;
            break;
        case MQTT5_LC_STOPPED:
            ok = st == IDLE;
            st = STOPPED;
            break;
        }
        if (!ok) {
            snprintf(why, cap, "event %zu (%s) out of order", i, mqtt5_lifecycle_type_name(t));
            rc = -1;
        }
    }
    pthread_mutex_unlock(&fc->mu);
    if (final != NULL) {
        *final = names[st];
    }
    return rc;
}

size_t fx_client_wait_messages(fx_client *fc, size_t n, uint32_t timeout_ms)
{
    struct timespec dl = deadline_after(timeout_ms);
    pthread_mutex_lock(&fc->mu);
    while (fc->n_msgs < n) {
        if (pthread_cond_timedwait(&fc->cv, &fc->mu, &dl) == ETIMEDOUT) {
            break;
        }
    }
    size_t got = fc->n_msgs;
    pthread_mutex_unlock(&fc->mu);
    return got;
}

size_t fx_client_count_msg(fx_client *fc, const char *topic, const void *payload, size_t len,
                           uint8_t qos)
{
    size_t n = 0;
    pthread_mutex_lock(&fc->mu);
    for (size_t i = 0; i < fc->n_msgs; i++) {
        const fx_msg *m = &fc->msgs[i];
        if (strcmp(m->topic, topic) == 0 && m->payload_len == len && m->qos == qos &&
            (len == 0 || memcmp(m->payload, payload, len) == 0)) {
            n++;
        }
    }
    pthread_mutex_unlock(&fc->mu);
    return n;
}

void fx_client_dump(fx_client *fc)
{
    pthread_mutex_lock(&fc->mu);
    fprintf(stderr, "fx: client %s (%s): %zu events (%zu dropped), %zu messages, alpn '%s'\n",
            fc->name, fc->client_id, fc->n_events, fc->dropped_events, fc->n_msgs, fc->alpn);
    for (size_t i = 0; i < fc->n_events; i++) {
        const fx_event *e = &fc->events[i];
        fprintf(stderr, "fx:   +%5llu ms %-18s %s%s%s\n",
                (unsigned long long)(e->at_ms - fc->started_at), mqtt5_lifecycle_type_name(e->type),
                e->error != 0 ? mqtt5_error_name(e->error) : "", e->has_detail ? " detail: " : "",
                e->has_detail ? e->detail : "");
    }
    for (size_t i = 0; i < fc->n_msgs; i++) {
        fprintf(stderr, "fx:   msg '%s' qos %u, %zu bytes\n", fc->msgs[i].topic, fc->msgs[i].qos,
                fc->msgs[i].payload_len);
    }
    pthread_mutex_unlock(&fc->mu);
}

void fx_client_alpn(fx_client *fc, char *out, size_t cap)
{
    pthread_mutex_lock(&fc->mu);
    snprintf(out, cap, "%s", fc->alpn);
    pthread_mutex_unlock(&fc->mu);
}

void fx_client_tls_version(fx_client *fc, char *out, size_t cap)
{
    pthread_mutex_lock(&fc->mu);
    snprintf(out, cap, "%s", fc->tls_version);
    pthread_mutex_unlock(&fc->mu);
}

/* ---- blocking operations ------------------------------------------------------------------- */

static int first_reason(const mqtt5_packet *ack)
{
    if (ack == NULL) {
        return -1;
    }
    switch (ack->type) {
    case MQTT5_PUBACK:
    case MQTT5_PUBREC:
    case MQTT5_PUBCOMP:
        return ack->u.ack.reason_code;
    case MQTT5_SUBACK:
    case MQTT5_UNSUBACK:
        return ack->u.suback.reason_code_count > 0 ? ack->u.suback.reason_codes[0] : -1;
    default:
        return -1;
    }
}

static int finish_op(mqtt5_future *f, int call_rc, int *reason)
{
    if (call_rc != 0) {
        mqtt5_future_complete(f, call_rc); /* the call never completes: do it by hand */
    }
    int rc = mqtt5_future_wait(f, FX_WAIT_MS);
    if (reason != NULL) {
        *reason = rc == 0 ? first_reason(mqtt5_future_ack(f)) : -1;
    }
    mqtt5_future_release(f);
    return rc;
}

int fx_subscribe(fx_client *fc, const char *filter, uint8_t qos, int *reason)
{
    mqtt5_future *f = mqtt5_future_new();
    if (f == NULL) {
        return MQTT5_ERR_NOMEM;
    }
    mqtt5_subscription s;
    memset(&s, 0, sizeof s);
    s.topic_filter = (mqtt5_str){filter, strlen(filter)};
    s.qos = qos;
    mqtt5_subscribe sub;
    memset(&sub, 0, sizeof sub);
    sub.subscriptions = &s;
    sub.subscription_count = 1;
    mqtt5_codec_status st;
    memset(&st, 0, sizeof st);
    int rc = mqtt5_client_subscribe(fc->client, &sub, NULL, mqtt5_future_on_complete, f, &st);
    return finish_op(f, rc, reason);
}

int fx_publish(fx_client *fc, const char *topic, uint8_t qos, const void *payload, size_t len,
               int *reason)
{
    mqtt5_future *f = mqtt5_future_new();
    if (f == NULL) {
        return MQTT5_ERR_NOMEM;
    }
    mqtt5_publish p;
    memset(&p, 0, sizeof p);
    p.qos = qos;
    p.topic = (mqtt5_str){topic, strlen(topic)};
    p.payload = (mqtt5_bytes){payload, len};
    mqtt5_codec_status st;
    memset(&st, 0, sizeof st);
    int rc = mqtt5_client_publish(fc->client, &p, NULL, mqtt5_future_on_complete, f, &st);
    return finish_op(f, rc, reason);
}

/* ---- stop / release ------------------------------------------------------------------------ */

int fx_client_stop(fx_client *fc, uint32_t timeout_ms)
{
    size_t from = fx_client_event_count(fc);
    int rc = mqtt5_client_stop(fc->client, NULL);
    if (rc != 0) {
        fprintf(stderr, "fx: mqtt5_client_stop(%s) = %s\n", fc->name, mqtt5_error_name(rc));
        return -1;
    }
    /* a client that was already stopped may not report STOPPED again: accept an earlier one */
    if (fx_client_wait_event(fc, MQTT5_LC_STOPPED, from, timeout_ms, NULL) >= 0) {
        return 0;
    }
    return fx_client_wait_event(fc, MQTT5_LC_STOPPED, 0, 0, NULL) >= 0 ? 0 : -1;
}

int fx_client_release(fx_client *fc, uint32_t timeout_ms)
{
    if (!fc->released) {
        fc->released = true;
        int rc = mqtt5_client_release(fc->client, on_terminated, fc);
        if (rc != 0) {
            fprintf(stderr, "fx: mqtt5_client_release(%s) = %s\n", fc->name, mqtt5_error_name(rc));
            return -1;
        }
    }
    struct timespec dl = deadline_after(timeout_ms);
    pthread_mutex_lock(&fc->mu);
    while (!fc->terminated) {
        if (pthread_cond_timedwait(&fc->cv, &fc->mu, &dl) == ETIMEDOUT) {
            break;
        }
    }
    bool done = fc->terminated;
    pthread_mutex_unlock(&fc->mu);
    if (!done) {
        fprintf(stderr, "fx: %s: no on_terminated within %u ms\n", fc->name, timeout_ms);
    }
    return done ? 0 : -1;
}

/* ---- harness ------------------------------------------------------------------------------- */

int fx_harness_setup(void **state)
{
    fx_harness *h = calloc(1, sizeof *h);
    if (h == NULL) {
        return -1;
    }
    mqtt5_event_loop_group_options go;
    mqtt5_event_loop_group_options_init(&go);
    go.threads = 1;
    int rc = mqtt5_event_loop_group_new(&go, &h->group);
    if (rc != 0) {
        fprintf(stderr, "fx: mqtt5_event_loop_group_new = %s\n", mqtt5_error_name(rc));
        free(h);
        return -1;
    }
    *state = h;
    return 0;
}

int fx_harness_teardown(void **state)
{
    fx_harness *h = *state;
    int result = 0;
    bool leak_group = false;
    for (size_t i = 0; i < h->n_clients; i++) {
        fx_client *fc = h->clients[i];
        if (fx_client_release(fc, FX_WAIT_MS) == 0) {
            recorder_free(fc);
        } else {
            fx_client_dump(fc);
            result = -1;
            leak_group = true; /* a client still holds the group: on_shutdown would never come */
        }
    }
    fx_signal *s = signal_new();
    if (s == NULL) {
        return -1;
    }
    mqtt5_event_loop_group_release(h->group, signal_fire, s);
    if (!leak_group) {
        if (signal_wait(s, FX_WAIT_MS)) {
            signal_free(s);
        } else {
            fprintf(stderr, "fx: event-loop group: no on_shutdown within %u ms\n", FX_WAIT_MS);
            result = -1;
        }
    }
    free(h);
    *state = NULL;
    return result;
}
