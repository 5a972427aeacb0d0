/*
 * tests/integration/helpers/fx_builder.h - a small recorder for clients made by the builders
 * (mqtt5/builder.h), which report through per-event callbacks rather than fx_client's options:
 * connection successes and failures (the first failure's error, CONNACK reason and detail, the
 * ALPN seen at success), received messages (count and last payload), waits with a timeout, a
 * QoS 1 round trip through the broker and a release that waits for termination. Shared by the
 * integration tests of the builders' connection methods (test_pkcs.c, test_custom_authorizer.c).
 */
#ifndef FX_BUILDER_H
#define FX_BUILDER_H

#include <pthread.h>
#include <stdbool.h>

#include "mqtt5/builder.h"
#include "mqtt5/client.h"

typedef struct fx_rec {
    mqtt5_client *client; /* set before start to record the ALPN at success */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int successes, failures, messages;
    int first_error, connack_reason; /* of the first failure; connack_reason -1 without one */
    char detail[256];
    char alpn[32];
    char last_payload[128];
} fx_rec;

void fx_rec_init(fx_rec *r);
void fx_rec_destroy(fx_rec *r);
/* Point o's user data and its success, failure and publish callbacks at `r`. */
void fx_rec_attach(fx_rec *r, mqtt5_builder_options *o);
/* For a client made without a builder (mqtt5_client_options.on_lifecycle, user = the fx_rec):
 * records successes and failures as the builder callbacks do. */
void fx_rec_on_lifecycle(void *user, const mqtt5_lifecycle_event *ev, const char *detail);
/* Wait until *counter (a field of r) >= n, or a connection failure when waiting for anything
 * else; false after FX_WAIT_MS. */
bool fx_rec_wait(fx_rec *r, const int *counter, int n);
/* Start-free round trip on a connected client: subscribe to `topic` at QoS 1 (SUBACK granting
 * 1), publish `payload` at QoS 1 (PUBACK 0), receive it back intact, no failure meanwhile. NULL
 * when all of it happened, else what did not. */
const char *fx_rec_roundtrip(mqtt5_client *c, fx_rec *r, const char *topic, const char *payload);
/* Release `c` and wait for its termination (and the private group's joiner). 0 or an error. */
int fx_builder_release(mqtt5_client *c);

#endif
