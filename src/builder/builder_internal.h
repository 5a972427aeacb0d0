/*
 * builder/builder_internal.h - the builders' resolver: a pure function that turns
 * mqtt5_builder_options plus a TLS mode (mutual TLS from files or memory, server-auth TLS, plain
 * TCP) into the mqtt5_client_options that mqtt5_client_new_internal() takes, applying every
 * default and rule of mqtt5/builder.h and naming the offending keyword on error. No threads, no
 * network; it only stats/opens (and closes) the certificate, key and CA files to report missing
 * ones early as MQTT5_ERR_FILE. src/builder sits outside the allocation-free core and uses malloc.
 */
#ifndef MQTT5_BUILDER_INTERNAL_H
#define MQTT5_BUILDER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt5/builder.h"
#include "mqtt5/client.h"

/* The ALPN protocol AWS IoT Core expects for MQTT with mutual TLS on port 443. */
#define MQTT5_BUILDER_ALPN_IOT_CORE "x-amzn-mqtt-ca"

typedef enum mqtt5_builder_tls_mode {
    MQTT5_BUILDER_MTLS_FROM_PATH,  /* cert_filepath + pri_key_filepath */
    MQTT5_BUILDER_MTLS_FROM_BYTES, /* cert_bytes + pri_key_bytes (PEM in memory) */
    MQTT5_BUILDER_DEFAULT_TLS,     /* server-authenticated TLS, no client certificate */
    MQTT5_BUILDER_PLAIN,           /* plain TCP: CA, ALPN and other TLS keywords are ignored */
} mqtt5_builder_tls_mode;

typedef struct mqtt5_builder_tls_input {
    mqtt5_builder_tls_mode mode;
    const char *cert_filepath, *pri_key_filepath; /* MTLS_FROM_PATH */
    const uint8_t *cert_bytes, *pri_key_bytes;    /* MTLS_FROM_BYTES; not copied */
    size_t cert_len, pri_key_len;
    /* MQTT over WebSockets (any mode): default port 443 with TLS (80 plain), default ALPN
     * "http/1.1" with TLS. NULL = MQTT over TLS/TCP. Not copied. */
    const mqtt5_websocket_options *websocket;
} mqtt5_builder_tls_input;

/*
 * What the client's single on_lifecycle/on_publish pair calls back through: the builder's five
 * per-event lifecycle callbacks and the publish callback, all given user_data. It is the
 * client's `user` and must live as long as the client, so it is a separate heap block that the
 * client frees after its last callback (mqtt5_client_private_options.free_user =
 * mqtt5_builder_dispatch_free). It exists only when at least one lifecycle callback is set;
 * otherwise `user` is user_data and on_publish is on_publish_received directly.
 */
typedef struct mqtt5_builder_dispatch {
    void *user_data;
    mqtt5_publish_fn on_publish_received;
    mqtt5_lifecycle_fn on_stopped;
    mqtt5_lifecycle_fn on_attempting_connect;
    mqtt5_lifecycle_fn on_connection_success;
    mqtt5_lifecycle_fn on_connection_failure;
    mqtt5_lifecycle_fn on_disconnection;
} mqtt5_builder_dispatch;

/*
 * The resolver's result. `client` points into this struct (tls), into blocks it owns (username
 * with the metrics suffix) and into the caller's builder options and TLS input (endpoint,
 * client_id, paths, key bytes, will, user properties, proxy): use it while those live, i.e.
 * within the builder call; mqtt5_client_new copies what it keeps.
 */
typedef struct mqtt5_builder_resolved {
    mqtt5_client_options client; /* group = client_bootstrap (NULL: the builder makes one) */
    mqtt5_tls_options tls;       /* client.tls == &tls unless the mode is PLAIN */
    char *username;              /* owned; NULL when the username is not rewritten */
    /* Owned until the client takes it over (then set it to NULL); == client.user when set. */
    mqtt5_builder_dispatch *dispatch;
} mqtt5_builder_resolved;

/*
 * Resolve `o` with TLS input `tls` into a new *out (free with mqtt5_builder_resolved_free).
 * Returns 0, or a negative mqtt5_error with status->field naming the keyword ("endpoint",
 * "cert_filepath", ...) and *out NULL: MQTT5_ERR_INVALID_ARGUMENT for bad values,
 * MQTT5_ERR_FILE for a missing or unreadable certificate, key or CA file, MQTT5_ERR_NOMEM.
 * `status` may be NULL.
 */
int mqtt5_builder_resolve(const mqtt5_builder_options *o, const mqtt5_builder_tls_input *tls,
                          mqtt5_builder_resolved **out, mqtt5_codec_status *status);

/* Free `r` and what it owns (including the dispatch block unless it was taken). NULL is OK. */
void mqtt5_builder_resolved_free(mqtt5_builder_resolved *r);

/* Frees a mqtt5_builder_dispatch; the signature of mqtt5_client_private_options.free_user. */
void mqtt5_builder_dispatch_free(void *dispatch);

/* true when `endpoint` ends in ".amazonaws.com" or ".amazonaws.com.cn" (ASCII case-insensitive):
 * what MQTT5_EXT_VALIDATION_AUTO turns the IoT Core limits on for. */
bool mqtt5_builder_is_aws_endpoint(const char *endpoint);

#endif
