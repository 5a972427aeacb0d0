/*
 * runtime/client_private.h - what the builders (src/builder) need from the client runtime beyond
 * the public API: a client that owns its event-loop group and frees its callbacks' user data.
 */
#ifndef MQTT5_RUNTIME_CLIENT_PRIVATE_H
#define MQTT5_RUNTIME_CLIENT_PRIVATE_H

#include <stdbool.h>

#include "mqtt5/client.h"

typedef struct mqtt5_client_private_options {
    /* The client takes over the caller's reference on o->group (on success only; on failure the
     * caller still holds it) and, at release, calls on_terminated only after that group's
     * threads were joined (from the group's joiner thread), so a program may exit right after. */
    bool owns_group;
    /* Called with o->user after the client's last callback (after on_terminated), e.g. to free
     * a builder's dispatch struct that o->user points to. NULL = nothing. Only on success. */
    void (*free_user)(void *user);
    /* Called on the loop thread once the client's transport is gone and before its group
     * reference is dropped, e.g. to release a credentials provider that runs on that group (so
     * a private group can stop). NULL = nothing. Only on success. */
    void (*release_extra)(void *ctx);
    void *release_extra_ctx;
} mqtt5_client_private_options;

/* mqtt5_client_new() with the private options above (NULL = none of them). */
int mqtt5_client_new_internal(const mqtt5_client_options *o,
                              const mqtt5_client_private_options *priv, mqtt5_client **out,
                              mqtt5_codec_status *status);

#endif
