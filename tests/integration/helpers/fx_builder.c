/*
 * tests/integration/helpers/fx_builder.c - see fx_builder.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "helpers/fx_builder.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "helpers/fx_client.h"
#include "mqtt5/error.h"

void fx_rec_init(fx_rec *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->connack_reason = -1;
}

void fx_rec_destroy(fx_rec *r)
{
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
}

static void on_success(void *user, const mqtt5_lifecycle_event *ev, const char *detail)
{
    (void)ev, (void)detail;
    fx_rec *r = user;
    pthread_mutex_lock(&r->mu);
    r->successes++;
    if (r->client) /* the ALPN is readable on the loop thread, i.e. here */
        snprintf(r->alpn, sizeof r->alpn, "%s", mqtt5_client_alpn(r->client));
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void on_failure(void *user, const mqtt5_lifecycle_event *ev, const char *detail)
{
    fx_rec *r = user;
    pthread_mutex_lock(&r->mu);
    if (r->failures++ == 0) {
        r->first_error = ev->error;
        r->connack_reason = ev->connack ? ev->connack->reason_code : -1;
        snprintf(r->detail, sizeof r->detail, "%s", detail ? detail : "");
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void on_publish(void *user, const mqtt5_inbound_publish *msg)
{
    fx_rec *r = user;
    pthread_mutex_lock(&r->mu);
    r->messages++;
    size_t n = msg->publish->payload.len;
    if (n >= sizeof r->last_payload) n = sizeof r->last_payload - 1;
    memcpy(r->last_payload, msg->publish->payload.ptr, n);
    r->last_payload[n] = '\0';
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

void fx_rec_on_lifecycle(void *user, const mqtt5_lifecycle_event *ev, const char *detail)
{
    if (ev->type == MQTT5_LC_CONNECTION_SUCCESS) on_success(user, ev, detail);
    if (ev->type == MQTT5_LC_CONNECTION_FAILURE) on_failure(user, ev, detail);
}

void fx_rec_attach(fx_rec *r, mqtt5_builder_options *o)
{
    o->user_data = r;
    o->on_lifecycle_connection_success = on_success;
    o->on_lifecycle_connection_failure = on_failure;
    o->on_publish_received = on_publish;
}

bool fx_rec_wait(fx_rec *r, const int *counter, int n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += FX_WAIT_MS / 1000;
    bool stop_on_failure = counter != &r->failures;
    pthread_mutex_lock(&r->mu);
    int rc = 0;
    while (*counter < n && !(stop_on_failure && r->failures) && rc == 0)
        rc = pthread_cond_timedwait(&r->cv, &r->mu, &ts);
    bool ok = *counter >= n;
    pthread_mutex_unlock(&r->mu);
    return ok;
}

/* Complete `f` with a refused call's error, or wait for it; the ack's first reason code. */
static int wait_op(mqtt5_future *f, int rc, int *reason)
{
    if (rc) {
        mqtt5_future_complete(f, rc);
    } else {
        rc = mqtt5_future_wait(f, FX_WAIT_MS);
        const mqtt5_packet *ack = mqtt5_future_ack(f);
        if (ack && ack->type == MQTT5_SUBACK && ack->u.suback.reason_code_count)
            *reason = ack->u.suback.reason_codes[0];
        else if (ack && ack->type == MQTT5_PUBACK)
            *reason = ack->u.ack.reason_code;
    }
    mqtt5_future_release(f);
    return rc;
}

const char *fx_rec_roundtrip(mqtt5_client *c, fx_rec *r, const char *topic, const char *payload)
{
    mqtt5_subscription s = {.topic_filter = {topic, strlen(topic)}, .qos = 1};
    mqtt5_subscribe sub = {.subscriptions = &s, .subscription_count = 1};
    int reason = -1;
    mqtt5_future *f = mqtt5_future_new();
    if (!f) return "out of memory";
    if (wait_op(f, mqtt5_client_subscribe(c, &sub, NULL, mqtt5_future_on_complete, f, NULL),
                &reason) ||
        reason != 1)
        return "SUBSCRIBE not granted QoS 1";
    mqtt5_publish p = {.qos = 1,
                       .topic = {topic, strlen(topic)},
                       .payload = {(const uint8_t *)payload, strlen(payload)}};
    reason = -1;
    if (!(f = mqtt5_future_new())) return "out of memory";
    if (wait_op(f, mqtt5_client_publish(c, &p, NULL, mqtt5_future_on_complete, f, NULL), &reason) ||
        reason != 0)
        return "PUBLISH not acknowledged with 0x00";
    if (!fx_rec_wait(r, &r->messages, 1)) return "own message did not come back";
    pthread_mutex_lock(&r->mu);
    bool intact = strcmp(r->last_payload, payload) == 0, failed = r->failures != 0;
    pthread_mutex_unlock(&r->mu);
    return !intact ? "the message came back changed" : failed ? "a connection failure" : NULL;
}

static void on_terminated(void *f)
{
    mqtt5_future_complete(f, 0);
}

int fx_builder_release(mqtt5_client *c)
{
    mqtt5_future *done = mqtt5_future_new();
    if (!done) return MQTT5_ERR_NOMEM;
    int rc = mqtt5_client_release(c, on_terminated, done);
    if (rc == 0)
        rc = mqtt5_future_wait(done, FX_WAIT_MS);
    else
        mqtt5_future_complete(done, rc);
    mqtt5_future_release(done);
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL); /* the private group's joiner finishes freeing (LeakSanitizer) */
    return rc;
}
