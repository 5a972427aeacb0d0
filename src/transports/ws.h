/*
 * transports/ws.h - constructor of the WebSocket filter (RFC 6455 client, subprotocol "mqtt"),
 * which sits above TCP or TLS: tcp -> [tls] -> ws -> sink. It writes the upgrade request once
 * its lower filter is open and the user transform (if any) is done, checks the 101 answer,
 * then carries the MQTT byte stream in masked binary frames. Sans-I/O like tls.c.
 *
 * Behaviour, in short:
 *  - write(): all iovs become one binary frame (FIN set), or several when they exceed max_frame;
 *    a write of 0 bytes sends nothing. pending() is the lower filter's.
 *  - reading: each data frame's payload goes up as it arrives (fragmented messages and
 *    continuation frames included; a byte stream needs no reassembly). Text frames, masked
 *    frames, RSV bits, bad fragmentation and frames over max_frame fail the connection
 *    (MQTT5_ERR_WEBSOCKET_PROTOCOL / _FRAME_TOO_LARGE, after a best-effort close frame 1002,
 *    1003 or 1009). Pings are answered with pongs at once, also between fragments.
 *  - a close frame from the server is answered with a close frame (the same status), then the
 *    lower filter is closed gracefully and on_closed(0, "server closed the WebSocket with
 *    status 1001 (going away)...") goes up. close(0) sends a close frame 1000 first.
 *  - the first error is latched and reported up only after the lower filter closed.
 */
#ifndef MQTT5_TRANSPORTS_WS_H
#define MQTT5_TRANSPORTS_WS_H

#include <stddef.h>
#include <stdint.h>

#include "transports/filter.h"
#include "transports/ws_handshake.h"

#define MQTT5_WS_DEFAULT_PATH "/mqtt"
/* A 128 KiB MQTT packet (the core's default Maximum Packet Size) plus slack for headers. */
#define MQTT5_WS_DEFAULT_MAX_FRAME (128u * 1024u + 16u)

/* mqtt5_ws_done_fn and mqtt5_ws_transform_fn, with their rules: mqtt5/websocket.h. */

typedef struct mqtt5_ws_options {
    const char *host; /* required: the Host header value ("broker.example:8443", "[::1]:80") */
    const char *path; /* path and query; NULL = "/mqtt" */
    const mqtt5_ws_header *headers; /* extra request headers, copied; not the WebSocket ones */
    size_t header_count;
    size_t max_frame; /* payload bytes per frame, both ways; 0 = MQTT5_WS_DEFAULT_MAX_FRAME */
    mqtt5_ws_transform_fn transform; /* NULL: none */
    void *transform_user;
    /* test seam for the key and the mask keys: NULL = RAND_bytes (mqtt5_ws_random_fill) */
    int (*random)(void *ud, uint8_t *p, size_t n);
    void *random_user;
} mqtt5_ws_options;

/*
 * A new WebSocket filter; everything in `o` is copied. The caller stacks it with
 * mqtt5_filter_stack() above TCP or TLS. 0, MQTT5_ERR_INVALID_ARGUMENT (no host, a bad path or
 * header, a WebSocket header among the extra ones) or MQTT5_ERR_NOMEM.
 */
int mqtt5_ws_filter_new(const mqtt5_ws_options *o, mqtt5_filter **out);

#endif
