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
    MQTT5_BUILDER_MTLS_PKCS12,     /* pkcs12_filepath (+ pkcs12_password) */
    MQTT5_BUILDER_MTLS_PKCS11,     /* pkcs11: key on a token, certificate from a file or memory */
} mqtt5_builder_tls_mode;

typedef struct mqtt5_builder_tls_input {
    mqtt5_builder_tls_mode mode;
    const char *cert_filepath, *pri_key_filepath; /* MTLS_FROM_PATH */
    const uint8_t *cert_bytes, *pri_key_bytes;    /* MTLS_FROM_BYTES; not copied */
    size_t cert_len, pri_key_len;
    /* MQTT over WebSockets (any mode): default port 443 with TLS (80 plain), default ALPN
     * "http/1.1" with TLS. NULL = MQTT over TLS/TCP. Not copied. */
    const mqtt5_websocket_options *websocket;
    const char *pkcs12_filepath, *pkcs12_password; /* MTLS_PKCS12; not copied */
    const mqtt5_builder_pkcs11_options *pkcs11;    /* MTLS_PKCS11; not copied */
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
    mqtt5_client_options client;     /* group = client_bootstrap (NULL: the builder makes one) */
    mqtt5_tls_options tls;           /* client.tls == &tls unless the mode is PLAIN */
    mqtt5_tls_pkcs11_options pkcs11; /* tls.pkcs11 == &pkcs11 in mode MTLS_PKCS11 */
    char *username;                  /* owned; NULL when the username is not rewritten */
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

/* Resolve and create the client as every public builder does (builder.c), for builders that live
 * in other files: a private one-thread group when o->client_bootstrap is NULL. */
int mqtt5_builder_build(const mqtt5_builder_options *o, const mqtt5_builder_tls_input *tls,
                        mqtt5_client **out, mqtt5_codec_status *status);

/* ---- custom authorizer (builder_custom_auth.c) ---------------------------------------------- */

/*
 * The username of an AWS IoT custom-authorizer CONNECT, without the SDK metrics (the resolver
 * appends those): the base (ca->auth_username, else connect_options' username, else the username
 * keyword; may be absent), then "x-amz-customauthorizer-name=<name>",
 * "x-amz-customauthorizer-signature=<signature, URL-encoded unless it holds '%'>" and
 * "<token key name>=<token value>" (only with both), each after '?' if the username has none yet,
 * else '&'. A parameter whose value already holds its "key=" gets no second prefix; one whose
 * key the username already carries is not added again. `ca` NULL = no keywords; `o` may be NULL.
 * *out: malloc'd, NUL-terminated (*out_len bytes), wipe it before freeing. Errors:
 * MQTT5_ERR_INVALID_ARGUMENT naming the keyword (empty name/signature/key/value, control
 * characters or invalid UTF-8, more than 65535 bytes), MQTT5_ERR_NOMEM.
 */
int mqtt5_builder_custom_auth_username(const mqtt5_custom_auth_options *ca,
                                       const mqtt5_builder_options *o, char **out, size_t *out_len,
                                       mqtt5_codec_status *status);

/* What the custom-authorizer builders hand to the resolver: the caller's options with the built
 * username, the password (auth_password, else the password keyword; connect_options' wins),
 * port 443, ALPN "mqtt" (direct) unless given, and TLS input (server-auth TLS, plus WebSocket
 * for the WebSocket variant). Points into itself: do not move it after init. */
typedef struct mqtt5_builder_custom_auth_plan {
    mqtt5_builder_options options;
    mqtt5_connect connect_options; /* a copy of the caller's, its username replaced */
    mqtt5_builder_tls_input tls;
    mqtt5_websocket_options websocket; /* no transform, path "/mqtt" */
    char *username;                    /* owned; wiped and freed by _clear */
    size_t username_len;
} mqtt5_builder_custom_auth_plan;

int mqtt5_builder_custom_auth_plan_init(mqtt5_builder_custom_auth_plan *plan,
                                        const mqtt5_custom_auth_options *ca,
                                        const mqtt5_builder_options *o, bool websocket,
                                        mqtt5_codec_status *status);
void mqtt5_builder_custom_auth_plan_clear(mqtt5_builder_custom_auth_plan *plan);

#endif
