/*
 * bench_client_core.c - CPU cost of publishes through the sans-I/O client core, and its memory.
 * Measures, for a 64-byte PUBLISH:
 *   - QoS 0: publish() -> mem_send() (enqueue to bytes out), in batches; the same through
 *     mem_send_buf() into one caller buffer;
 *   - QoS 1: publish() -> mem_send() -> mem_recv(PUBACK) -> completion;
 *   - QoS 1 in: mem_recv() of 64 PUBLISHes -> on_publish -> their PUBACKs out through
 *     mem_send_buf() (the owed acknowledgements outgrow what the core holds inline);
 *   - bytes of client memory per queued (not yet sent) publish;
 *   - bytes an idle connected core holds, driven by mem_send and by mem_send_buf.
 * Numbers are for reading, never asserted: `bench_client_core [messages]`.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mqtt5/client_core.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t completed;

static void on_lifecycle(void *u, const mqtt5_lifecycle_event *e)
{
    (void)u;
    (void)e;
}

static void on_publish(void *u, const mqtt5_inbound_publish *m)
{
    (void)u;
    (void)m;
}

static void on_complete(void *u, const mqtt5_op_completion *d)
{
    (void)u;
    if (d->error && d->error != MQTT5_ERR_STOPPED) abort();
    completed++;
}

static uint8_t shared_buf[65536]; /* mem_send_buf's buffer, as one event-loop thread has */

/* A connected core; its CONNECT went out through mem_send_buf when `own_buffer` is false. */
static mqtt5_client_core *connected_core(uint32_t max_queued, bool own_buffer)
{
    mqtt5_client_core_options o;
    mqtt5_client_core_options_init(&o);
    o.callbacks = (mqtt5_client_core_callbacks){
        .on_lifecycle = on_lifecycle, .on_publish = on_publish, .on_complete = on_complete};
    o.connect.client_id = (mqtt5_str){"bench", 5};
    o.max_queued_ops = max_queued;
    o.max_queued_bytes = 0;
    o.write_batch_size = 65536;
    mqtt5_client_core *c;
    if (mqtt5_client_core_new(&o, &c, NULL)) abort();
    const uint8_t *d;
    size_t n;
    static const uint8_t connack[] = {0x20, 0x03, 0x00, 0x00, 0x00};
    mqtt5_client_core_start(c, 0);
    mqtt5_client_core_on_transport_open(c, 0);
    if (own_buffer)
        mqtt5_client_core_mem_send(c, 0, &d, &n);
    else
        mqtt5_client_core_mem_send_buf(c, 0, shared_buf, sizeof shared_buf, &d, &n);
    mqtt5_client_core_mem_recv(c, 0, connack, sizeof connack);
    if (mqtt5_client_core_state(c) != MQTT5_CS_CONNECTED) abort();
    return c;
}

int main(int argc, char **argv)
{
    long total = argc > 1 ? atol(argv[1]) : 1000000;
    static uint8_t payload[64 - 2 - 2 - 9 - 1 - 2];
    memset(payload, 'x', sizeof payload);
    mqtt5_publish pub = {.topic = {"sensors/1", 9}, .payload = {payload, sizeof payload}};
    const uint8_t *d;
    size_t n;

    /* QoS 0: enqueue 64 at a time, then one mem_send for the batch */
    mqtt5_client_core *c = connected_core(1u << 20, true);
    completed = 0;
    double t0 = now_ns();
    for (long i = 0; i < total; i += 64) {
        for (int k = 0; k < 64; k++)
            if (mqtt5_client_core_publish(c, 1, &pub, NULL, NULL, NULL)) abort();
        mqtt5_client_core_mem_send(c, 1, &d, &n);
    }
    double qos0 = (now_ns() - t0) / (double)total;
    mqtt5_client_core_destroy(c);

    /* the same into the caller's buffer */
    c = connected_core(1u << 20, false);
    t0 = now_ns();
    for (long i = 0; i < total; i += 64) {
        for (int k = 0; k < 64; k++)
            if (mqtt5_client_core_publish(c, 1, &pub, NULL, NULL, NULL)) abort();
        mqtt5_client_core_mem_send_buf(c, 1, shared_buf, sizeof shared_buf, &d, &n);
    }
    double qos0_buf = (now_ns() - t0) / (double)total;
    mqtt5_client_core_destroy(c);

    /* QoS 1: 64 in flight, then their PUBACKs in one read */
    c = connected_core(1u << 20, true);
    pub.qos = 1;
    uint8_t acks[64 * 4];
    completed = 0;
    uint16_t id = 1;
    t0 = now_ns();
    for (long i = 0; i < total; i += 64) {
        for (int k = 0; k < 64; k++)
            if (mqtt5_client_core_publish(c, 1, &pub, NULL, NULL, NULL)) abort();
        mqtt5_client_core_mem_send(c, 1, &d, &n);
        for (int k = 0; k < 64; k++) {
            acks[4 * k] = 0x40;
            acks[4 * k + 1] = 2;
            acks[4 * k + 2] = (uint8_t)(id >> 8);
            acks[4 * k + 3] = (uint8_t)id;
            id = id == 65535 ? 1 : (uint16_t)(id + 1);
        }
        mqtt5_client_core_mem_recv(c, 1, acks, sizeof acks);
    }
    double qos1 = (now_ns() - t0) / (double)total;
    if (completed < (uint64_t)total) {
        fprintf(stderr, "only %llu of %ld completed\n", (unsigned long long)completed, total);
        return 1;
    }
    mqtt5_client_core_destroy(c);

    /* QoS 1 in: 64 PUBLISHes in one read, then their PUBACKs in one batch */
    c = connected_core(1024, false);
    static uint8_t in[64 * 64];
    size_t in_len = 0;
    for (uint16_t k = 1; k <= 64; k++) {
        mqtt5_packet p = {.type = MQTT5_PUBLISH};
        p.u.publish = pub;
        p.u.publish.packet_id = k;
        size_t w;
        if (mqtt5_packet_encode(&p, in + in_len, sizeof in - in_len, &w, NULL)) abort();
        in_len += w;
    }
    t0 = now_ns();
    for (long i = 0; i < total; i += 64) {
        mqtt5_client_core_mem_recv(c, 1, in, in_len);
        mqtt5_client_core_mem_send_buf(c, 1, shared_buf, sizeof shared_buf, &d, &n);
        if (n != 64 * 4) abort();
    }
    double qos1_in = (now_ns() - t0) / (double)total;
    mqtt5_client_core_destroy(c);

    /* memory per queued publish */
    c = connected_core(1u << 20, true);
    mqtt5_client_stats before, after;
    mqtt5_client_core_stats(c, &before);
    for (int i = 0; i < 10000; i++)
        if (mqtt5_client_core_publish(c, 1, &pub, NULL, NULL, NULL)) abort();
    mqtt5_client_core_stats(c, &after);
    double per = (double)(after.memory_in_use - before.memory_in_use) / 10000.0;
    mqtt5_client_core_destroy(c);

    /* an idle connected core */
    size_t idle[2];
    for (int own = 0; own < 2; own++) {
        c = connected_core(1024, own != 0);
        mqtt5_client_core_stats(c, &after);
        idle[own] = after.memory_in_use;
        mqtt5_client_core_destroy(c);
    }

    printf("client core, 64-byte PUBLISH, %ld messages\n", total);
    printf("QoS 0 publish -> bytes out:               %8.1f ns/message\n", qos0);
    printf("QoS 0 publish -> bytes out (mem_send_buf):%8.1f ns/message\n", qos0_buf);
    printf("QoS 1 publish -> bytes out -> PUBACK in:  %8.1f ns/message\n", qos1);
    printf("QoS 1 PUBLISH in -> PUBACK out:           %8.1f ns/message\n", qos1_in);
    printf("memory per queued publish:                %8.1f bytes\n", per);
    printf("idle connected core (mem_send_buf):       %8zu bytes\n", idle[0]);
    printf("idle connected core (mem_send, 64 KiB):   %8zu bytes\n", idle[1]);
    return 0;
}
