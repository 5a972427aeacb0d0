/*
 * mqtt5/websocket.h - MQTT over WebSockets (RFC 6455, subprotocol "mqtt"): the options a client
 * takes to speak WebSocket above TCP or TLS, and the handshake transform hook with the request
 * it may edit (path and query, headers), as an AWS SigV4 presign or a custom authorizer needs.
 */
#ifndef MQTT5_WEBSOCKET_H
#define MQTT5_WEBSOCKET_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mqtt5_ws_header {
    const char *name, *value;
} mqtt5_ws_header;

/* The upgrade request: a path with its query and a header list (Host first). Opaque. */
typedef struct mqtt5_ws_request mqtt5_ws_request;

/* The path and query ("/mqtt?X-Amz-Signature=..."); valid until the next set_path. */
const char *mqtt5_ws_request_path(const mqtt5_ws_request *r);
/* Replace the path and query (copied). It must start with '/' and hold no space or control
 * character: 0, MQTT5_ERR_INVALID_ARGUMENT or MQTT5_ERR_NOMEM. */
int mqtt5_ws_request_set_path(mqtt5_ws_request *r, const char *path);
/* The value of a header (name matched case-insensitively) or NULL. */
const char *mqtt5_ws_request_header(const mqtt5_ws_request *r, const char *name);
/*
 * Add a header, or replace the value of the first one with that name (case-insensitive); value
 * NULL removes every header of that name. Both are copied. The name must be an HTTP token and
 * the value hold no control character but tab. The WebSocket headers the filter owns (Upgrade,
 * Connection, Sec-WebSocket-Key, -Version, -Protocol, -Extensions) are refused:
 * MQTT5_ERR_INVALID_ARGUMENT. MQTT5_ERR_NOMEM.
 */
int mqtt5_ws_request_set_header(mqtt5_ws_request *r, const char *name, const char *value);
/* Say why the transform is about to fail the attempt (one line, copied, at most 1024 bytes;
 * NULL clears): the connection-failure event's detail then carries it. Never put a secret in
 * it. 0, MQTT5_ERR_INVALID_ARGUMENT or MQTT5_ERR_NOMEM. */
int mqtt5_ws_request_set_failure(mqtt5_ws_request *r, const char *detail);
const char *mqtt5_ws_request_failure(const mqtt5_ws_request *r);
/* Number of headers and the i-th one (for logging and tests). */
size_t mqtt5_ws_request_header_count(const mqtt5_ws_request *r);
mqtt5_ws_header mqtt5_ws_request_header_at(const mqtt5_ws_request *r, size_t i);

/* The transform's completion; see mqtt5_ws_transform_fn. */
typedef void (*mqtt5_ws_done_fn)(void *done_ctx, int error);

/*
 * The handshake transform (the AWS SDK's websocket handshake transform), called once per
 * connection attempt on the loop thread while TCP/TLS connect; the request is written only when
 * both are done. It may change the path and query and add, replace or remove headers of `req`,
 * then:
 *  - returns 0 and calls done(done_ctx, 0) exactly once, before returning or later on the
 *    client's loop thread; done(done_ctx, err < 0) fails the attempt with `err`;
 *  - or returns a negative mqtt5_error without ever calling done: the same failure, at once.
 * `req` stays valid until done is called and must not be touched after. done stays safe to call
 * after the connection was closed: the owner of `user` keeps it alive until done was called.
 */
typedef int (*mqtt5_ws_transform_fn)(void *user, mqtt5_ws_request *req, mqtt5_ws_done_fn done,
                                     void *done_ctx);

typedef struct mqtt5_websocket_options {
    const char *path;               /* path and query; NULL = "/mqtt" */
    const mqtt5_ws_header *headers; /* extra request headers, copied; not the WebSocket ones */
    size_t header_count;
    size_t max_frame;                /* payload bytes per frame both ways; 0 = 128 KiB + 16 */
    mqtt5_ws_transform_fn transform; /* NULL: none */
    void *transform_user;
} mqtt5_websocket_options;

#ifdef __cplusplus
}
#endif
#endif
