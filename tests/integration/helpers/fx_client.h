/*
 * tests/integration/helpers/fx_client.h - a recording wrapper around the thread-safe client for
 * integration tests, and a per-test harness owning an event-loop group.
 *
 * An fx_client records, under a mutex with a condition variable, every lifecycle event (type,
 * error, a copy of the detail, time), every received PUBLISH (topic, payload, QoS), and the
 * transport's ALPN / TLS version seen inside CONNECTION_SUCCESS (mqtt5_client_alpn is
 * loop-thread only). The test thread waits on it with timeouts.
 *
 * The harness (cmocka setup/teardown) creates a 1-thread group per test; teardown releases every
 * client the test left alive, waits for each on_terminated, releases the group and waits for
 * on_shutdown, so an assertion failure in the middle of a test still shuts everything down and
 * the leak check at exit stays meaningful.
 */
#ifndef FX_CLIENT_H
#define FX_CLIENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt5/client.h"

#define FX_WAIT_MS 10000u /* default wait for anything that should happen promptly */
#define FX_MAX_EVENTS 64
#define FX_MAX_CLIENTS 16

typedef struct fx_event {
    mqtt5_lifecycle_type type;
    int error;
    bool has_detail;
    char detail[512];
    uint64_t at_ms;     /* fx_now_ms() when recorded */
    int connack_reason; /* -1 when no CONNACK came with the event */
} fx_event;

typedef struct fx_msg {
    char *topic;
    uint8_t *payload;
    size_t payload_len;
    uint8_t qos;
} fx_msg;

/* Optional observer of received PUBLISHes (see fx_client_set_tap). */
typedef void (*fx_publish_tap)(void *ctx, const mqtt5_inbound_publish *msg);

typedef struct fx_client {
    mqtt5_client *client;
    char name[64];
    char client_id[96];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    fx_event events[FX_MAX_EVENTS];
    size_t n_events;
    size_t dropped_events;
    fx_msg *msgs;
    size_t n_msgs, cap_msgs;
    char alpn[64];        /* from mqtt5_client_alpn() in the last CONNECTION_SUCCESS */
    char tls_version[32]; /* from mqtt5_client_tls_version() there */
    bool released, terminated;
    uint64_t started_at; /* fx_now_ms() at fx_client_start */
    fx_publish_tap tap;  /* NULL unless fx_client_set_tap */
    void *tap_ctx;
    bool tap_no_record; /* the tap sees messages, the recorder does not keep them */
} fx_client;

typedef struct fx_harness {
    mqtt5_event_loop_group *group;
    fx_client *clients[FX_MAX_CLIENTS];
    size_t n_clients;
    const char *test_name;
} fx_harness;

/* cmocka group-less setup/teardown: *state becomes an fx_harness. */
int fx_harness_setup(void **state);
int fx_harness_teardown(void **state);

/* Options for a client of harness `h` to host:port: defaults, the group, small reconnect
 * delays (100..1000 ms), keep-alive 60 s. Adjust (tls, socket, core) before fx_client_create. */
void fx_client_options(fx_harness *h, mqtt5_client_options *o, const char *host, uint16_t port);
/* Create the client with callbacks into a new recorder; registers it with the harness. A
 * client id "it-<name>-<pid>-<n>" is set unless o->core.connect.client_id was set. Returns the
 * client, or NULL with *err (may be NULL) and *st (may be NULL) filled when mqtt5_client_new
 * refused. */
fx_client *fx_client_create(fx_harness *h, const char *name, mqtt5_client_options *o, int *err,
                            mqtt5_codec_status *st);
int fx_client_start(fx_client *fc);

/* Wait for the first event of `type` at index >= from. Returns its index and copies it to
 * *out (may be NULL), or -1 after timeout_ms. */
int fx_client_wait_event(fx_client *fc, mqtt5_lifecycle_type type, size_t from, uint32_t timeout_ms,
                         fx_event *out);
size_t fx_client_event_count(fx_client *fc);
/* Wait until at least n messages were received; returns the count reached. */
size_t fx_client_wait_messages(fx_client *fc, size_t n, uint32_t timeout_ms);
/* Number of received messages equal to (topic, payload, qos). */
size_t fx_client_count_msg(fx_client *fc, const char *topic, const void *payload, size_t len,
                           uint8_t qos);
/* Print the recorded events (for failure diagnosis). */
void fx_client_dump(fx_client *fc);
/* Copy of the ALPN / TLS version recorded at the last CONNECTION_SUCCESS. */
void fx_client_alpn(fx_client *fc, char *out, size_t cap);
void fx_client_tls_version(fx_client *fc, char *out, size_t cap);

/* Before fx_client_start: call tap(ctx, msg) on the loop thread for every received PUBLISH (the
 * whole packet, properties included, valid during the call), before it is recorded; with
 * record false the recorder keeps no copy (for high volumes). */
void fx_client_set_tap(fx_client *fc, fx_publish_tap tap, void *ctx, bool record);
/* Number of recorded lifecycle events of `type`. */
size_t fx_client_count_events(fx_client *fc, mqtt5_lifecycle_type type);
/* Check the recorded lifecycle sequence against (ATTEMPTING (FAILURE | SUCCESS DISCONNECTION))*
 * with STOPPED only between attempts, none dropped. Returns 0 and the final state in *final
 * ("idle", "attempting", "connected" = the last SUCCESS has no DISCONNECTION yet, "stopped"),
 * or -1 with a description of the first violation in why. */
int fx_client_check_lifecycle(fx_client *fc, const char **final, char *why, size_t cap);

/* Blocking operations over mqtt5_future. Return the completion's error (or the call's refusal,
 * or MQTT5_ERR_TIMEOUT); *reason (may be NULL) gets the ack's first reason code, -1 without. */
int fx_subscribe(fx_client *fc, const char *filter, uint8_t qos, int *reason);
int fx_publish(fx_client *fc, const char *topic, uint8_t qos, const void *payload, size_t len,
               int *reason);

/* mqtt5_client_stop(NULL) and wait for STOPPED; returns 0 or -1 on timeout. */
int fx_client_stop(fx_client *fc, uint32_t timeout_ms);
/* mqtt5_client_release and wait for on_terminated; returns 0, or -1 on timeout (the recorder
 * is then kept alive, since a late callback may still come). */
int fx_client_release(fx_client *fc, uint32_t timeout_ms);

#endif
