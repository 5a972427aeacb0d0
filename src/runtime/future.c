/*
 * runtime/future.c - futures (mqtt5/client.h): let a plain program block until a completion
 * arrives. Two references (waiter, completer); the acknowledgement is kept as encoded bytes and
 * decoded in place, so one allocation holds it and its views stay valid. A wait on the thread
 * that drives a caller-driven loop runs that loop instead of sleeping.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "mqtt5/client.h"
#include "mqtt5/error.h"
#include "runtime/loop.h"

struct mqtt5_future {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    _Atomic int refs;
    bool done;
    int error;
    uint8_t *ack_bytes;
    mqtt5_packet ack;
    bool has_ack;
};

mqtt5_future *mqtt5_future_new(void)
{
    mqtt5_future *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&f->mu, NULL);
    atomic_init(&f->refs, 2);
    return f;
}

static void unref(mqtt5_future *f)
{
    if (atomic_fetch_sub(&f->refs, 1) != 1) return;
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f->ack_bytes);
    free(f);
}

void mqtt5_future_release(mqtt5_future *f)
{
    if (f) unref(f);
}

static void finish(mqtt5_future *f, int error, const mqtt5_packet *ack)
{
    uint8_t *bytes = NULL;
    mqtt5_packet copy;
    bool has_ack = false;
    if (ack) { /* copy outside the lock: encode, then decode in place */
        size_t size = 0, written = 0, used = 0;
        if (mqtt5_packet_encoded_size(ack, &size, NULL) == 0 && (bytes = malloc(size)) &&
            mqtt5_packet_encode(ack, bytes, size, &written, NULL) == 0 &&
            mqtt5_packet_decode(bytes, written, 0, &copy, &used, NULL) == 0)
            has_ack = true;
    }
    pthread_mutex_lock(&f->mu);
    if (!f->done) {
        f->done = true;
        f->error = error;
        f->ack_bytes = bytes;
        f->ack = copy;
        f->has_ack = has_ack;
        bytes = NULL;
        pthread_cond_broadcast(&f->cv);
    }
    pthread_mutex_unlock(&f->mu);
    free(bytes);
}

void mqtt5_future_on_complete(void *future, const mqtt5_op_completion *done)
{
    mqtt5_future *f = future;
    finish(f, done->error, done->ack);
    unref(f);
}

void mqtt5_future_complete(mqtt5_future *f, int error)
{
    finish(f, error, NULL);
    unref(f);
}

static bool is_done(mqtt5_future *f)
{
    pthread_mutex_lock(&f->mu);
    bool done = f->done;
    pthread_mutex_unlock(&f->mu);
    return done;
}

/* On the thread that drives a caller-driven loop: run it until the future is done (it usually
 * completes in one of these runs) or the time is up. False when the loop went away meanwhile
 * (its group finished): the caller then waits the usual way. */
static bool wait_running(mqtt5_future *f, mqtt5_loop *loop, uint32_t timeout_ms)
{
    uint64_t deadline =
        timeout_ms == UINT32_MAX ? UINT64_MAX : uv_hrtime() + (uint64_t)timeout_ms * 1000000u;
    while (!is_done(f)) {
        uint64_t now = uv_hrtime();
        if (now >= deadline) return true;
        uint64_t left_ms = (deadline - now + 999999u) / 1000000u;
        if (mqtt5_loop_run_driven(loop, left_ms < 10 ? (int32_t)left_ms : 10) != 0) return false;
    }
    return true;
}

int mqtt5_future_wait(mqtt5_future *f, uint32_t timeout_ms)
{
    if (!f) return MQTT5_ERR_INVALID_ARGUMENT;
    mqtt5_loop *driven = mqtt5_loop_driven_here();
    if (driven && !mqtt5_on_any_loop_thread() && wait_running(f, driven, timeout_ms)) {
        pthread_mutex_lock(&f->mu);
        int result = f->done ? f->error : MQTT5_ERR_TIMEOUT;
        pthread_mutex_unlock(&f->mu);
        return result;
    }
    pthread_mutex_lock(&f->mu);
    if (!f->done && mqtt5_on_any_loop_thread()) {
        pthread_mutex_unlock(&f->mu);
        return MQTT5_ERR_WOULD_DEADLOCK;
    }
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    int rc = 0;
    while (!f->done && rc != ETIMEDOUT) {
        if (timeout_ms == UINT32_MAX)
            rc = pthread_cond_wait(&f->cv, &f->mu);
        else
            rc = pthread_cond_timedwait(&f->cv, &f->mu, &until);
    }
    int result = f->done ? f->error : MQTT5_ERR_TIMEOUT;
    pthread_mutex_unlock(&f->mu);
    return result;
}

const mqtt5_packet *mqtt5_future_ack(const mqtt5_future *f)
{
    return f && f->done && f->has_ack ? &f->ack : NULL;
}
