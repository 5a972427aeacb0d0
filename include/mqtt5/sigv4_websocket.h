/*
 * mqtt5/sigv4_websocket.h - AWS SigV4 signing of the WebSocket upgrade (the AWS IoT form:
 * service iotdevicegateway, a presigned "/mqtt?X-Amz-..." URL, the session token appended after
 * the signature) as a mqtt5_ws_transform_fn, re-signed with the current time on every
 * connection attempt.
 *
 * Credentials come from a credentials provider (mqtt5/credentials.h) or a callback asked on
 * every attempt (so a reconnect after expiry signs with fresh ones), or are fixed.
 */
#ifndef MQTT5_SIGV4_WEBSOCKET_H
#define MQTT5_SIGV4_WEBSOCKET_H

#include "mqtt5/credentials.h"
#include "mqtt5/sigv4.h"
#include "mqtt5/websocket.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fill `out` (strings valid until the signing ended, within the call) or return a negative
 * mqtt5_error, which fails the connection attempt. Runs on the client's loop thread. */
typedef int (*mqtt5_sigv4_credentials_fn)(void *user, mqtt5_sigv4_credentials *out);

typedef struct mqtt5_sigv4_websocket_signer {
    const char *region;                  /* required, e.g. "us-east-1" */
    const char *service;                 /* NULL = "iotdevicegateway" */
    mqtt5_sigv4_credentials credentials; /* used when get_credentials is NULL */
    mqtt5_sigv4_credentials_fn get_credentials;
    void *get_credentials_user;
    /* Asked on every attempt (wins over the two above), e.g. the default chain or Cognito; the
     * attempt waits for its answer. Credentials already expired fail the attempt with
     * MQTT5_ERR_CREDENTIALS_EXPIRED. The caller keeps a reference for the client's lifetime. */
    mqtt5_credentials_provider *credentials_provider;
    /* test seam: the signing time as "YYYYMMDDTHHMMSSZ"; NULL = the UTC clock */
    const char *fixed_datetime;
} mqtt5_sigv4_websocket_signer;

/* A mqtt5_ws_transform_fn: pass it with a mqtt5_sigv4_websocket_signer as transform_user (kept
 * alive by the caller as long as the client). It presigns the request path for the request's
 * Host header; with a credentials provider it completes when the provider answered (on the
 * client's loop thread), otherwise at once. */
int mqtt5_sigv4_websocket_transform(void *signer, mqtt5_ws_request *req, mqtt5_ws_done_fn done,
                                    void *done_ctx);

#ifdef __cplusplus
}
#endif
#endif
