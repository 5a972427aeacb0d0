/*
 * bench_codec.c - nanoseconds per packet for encoding and decoding a 64-byte QoS 0 PUBLISH, a
 * 64-byte QoS 1 PUBLISH and a CONNECT with many properties, printed beside memcpy of the same
 * bytes as a floor. Numbers are for reading, never asserted: run `bench_codec [iterations]`.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mqtt5/mqtt5.h"

static volatile size_t sink;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

typedef struct bench_case {
    const char *name;
    mqtt5_packet packet;
    uint8_t wire[512];
    size_t wire_len;
} bench_case;

static void build_cases(bench_case *c)
{
    static uint8_t payload[64 - 2 - 2 - 9 - 1];
    static const mqtt5_user_property ups[] = {
        {{"app", 3}, {"sensor-gateway", 14}},
        {{"build", 5}, {"2026.11.25", 10}},
        {{"region", 6}, {"eu-west-1", 9}},
    };
    memset(payload, 'x', sizeof payload);

    /* 64-byte QoS 0 PUBLISH: 2 header + 2+9 topic + 1 property length + payload */
    c[0].name = "PUBLISH QoS0 64B";
    c[0].packet.type = MQTT5_PUBLISH;
    c[0].packet.u.publish = (mqtt5_publish){
        .qos = 0, .topic = {"sensors/1", 9}, .payload = {payload, sizeof payload - 0}};
    /* 64-byte QoS 1 PUBLISH: two bytes of packet id instead of two of payload */
    c[1].name = "PUBLISH QoS1 64B";
    c[1].packet.type = MQTT5_PUBLISH;
    c[1].packet.u.publish = (mqtt5_publish){.qos = 1,
                                            .packet_id = 4242,
                                            .topic = {"sensors/1", 9},
                                            .payload = {payload, sizeof payload - 2}};

    c[2].name = "CONNECT many props";
    c[2].packet.type = MQTT5_CONNECT;
    mqtt5_connect *cn = &c[2].packet.u.connect;
    *cn = (mqtt5_connect){.clean_start = true,
                          .keep_alive = 1200,
                          .client_id = {"mqtt5-sample-0a1b2c3d", 21},
                          .has_username = true,
                          .username = {"device?SDK=mqtt5-c&Version=0.1.0", 32},
                          .has_will = true};
    mqtt5_properties *p = &cn->properties;
    p->session_expiry_interval = 3600;
    p->receive_maximum = 100;
    p->maximum_packet_size = 131072;
    p->topic_alias_maximum = 16;
    p->request_response_information = 1;
    p->request_problem_information = 1;
    p->present = MQTT5_PROP_BIT(MQTT5_PROP_SESSION_EXPIRY_INTERVAL) |
                 MQTT5_PROP_BIT(MQTT5_PROP_RECEIVE_MAXIMUM) |
                 MQTT5_PROP_BIT(MQTT5_PROP_MAXIMUM_PACKET_SIZE) |
                 MQTT5_PROP_BIT(MQTT5_PROP_TOPIC_ALIAS_MAXIMUM) |
                 MQTT5_PROP_BIT(MQTT5_PROP_REQUEST_RESPONSE_INFORMATION) |
                 MQTT5_PROP_BIT(MQTT5_PROP_REQUEST_PROBLEM_INFORMATION);
    p->user_properties = ups;
    p->user_property_count = 3;
    cn->will.topic = (mqtt5_str){"devices/gw/status", 17};
    cn->will.payload = (mqtt5_bytes){(const uint8_t *)"offline", 7};
    cn->will.qos = 1;
    cn->will.properties.present = MQTT5_PROP_BIT(MQTT5_PROP_WILL_DELAY_INTERVAL) |
                                  MQTT5_PROP_BIT(MQTT5_PROP_CONTENT_TYPE) |
                                  MQTT5_PROP_BIT(MQTT5_PROP_MESSAGE_EXPIRY_INTERVAL);
    cn->will.properties.will_delay_interval = 5;
    cn->will.properties.content_type = (mqtt5_str){"text/plain", 10};
    cn->will.properties.message_expiry_interval = 600;

    for (int i = 0; i < 3; i++) {
        mqtt5_codec_status st;
        if (mqtt5_packet_encode(&c[i].packet, c[i].wire, sizeof c[i].wire, &c[i].wire_len, &st)) {
            fprintf(stderr, "%s: encode failed: %s %s\n", c[i].name, mqtt5_error_name(st.error),
                    st.field ? st.field : "");
            exit(1);
        }
    }
}

#define ROUNDS 7

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of ROUNDS timings of `iters` runs of one operation, in ns per run. */
typedef enum { OP_DECODE, OP_ENCODE, OP_MEMCPY } bench_op;

static double measure(const bench_case *c, bench_op op, long iters)
{
    double t[ROUNDS];
    uint8_t out[512];
    for (int r = 0; r < ROUNDS; r++) {
        mqtt5_packet p;
        size_t used, w;
        double t0 = now_ns();
        for (long k = 0; k < iters; k++) {
            switch (op) {
            case OP_DECODE:
                if (mqtt5_packet_decode(c->wire, c->wire_len, 0, &p, &used, NULL)) abort();
                sink += used + p.u.publish.payload.len;
                break;
            case OP_ENCODE:
                if (mqtt5_packet_encode(&c->packet, out, sizeof out, &w, NULL)) abort();
                sink += w + out[w - 1];
                break;
            case OP_MEMCPY:
                memcpy(out, c->wire, c->wire_len);
                __asm__ volatile("" : : "r"(out) : "memory");
                sink += out[c->wire_len - 1];
                break;
            }
        }
        t[r] = (now_ns() - t0) / (double)iters;
    }
    qsort(t, ROUNDS, sizeof t[0], cmp_double);
    return t[ROUNDS / 2];
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 1000000;
    bench_case cases[3];
    memset(cases, 0, sizeof cases);
    build_cases(cases);

    printf("median of %d rounds of %ld operations each\n", ROUNDS, iters);
    printf("%-20s %6s %10s %10s %10s\n", "packet", "bytes", "decode ns", "encode ns", "memcpy ns");
    for (int i = 0; i < 3; i++) {
        const bench_case *c = &cases[i];
        printf("%-20s %6zu %10.1f %10.1f %10.1f\n", c->name, c->wire_len,
               measure(c, OP_DECODE, iters), measure(c, OP_ENCODE, iters),
               measure(c, OP_MEMCPY, iters));
    }
    return 0;
}
