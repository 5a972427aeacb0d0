/*
 * transports/ws_handshake.h - the HTTP side of the WebSocket filter (RFC 6455 section 4): the
 * upgrade request (a path and a header list that a user transform may edit, then encoded with
 * the fixed WebSocket headers), the key and its expected accept value, and the validation of
 * the server's 101 response head. OpenSSL (SHA-1, base64, RAND_bytes) is used here only.
 */
#ifndef MQTT5_TRANSPORTS_WS_HANDSHAKE_H
#define MQTT5_TRANSPORTS_WS_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt5/websocket.h"

/* The response head (status line and headers, up to the empty line) may not exceed this. */
#define MQTT5_WS_MAX_RESPONSE_HEAD 16384u
/* A Sec-WebSocket-Key: base64 of 16 bytes, plus NUL. */
#define MQTT5_WS_KEY_SIZE 25u
/* A Sec-WebSocket-Accept: base64 of a SHA-1, plus NUL. */
#define MQTT5_WS_ACCEPT_SIZE 29u

/* ---- the request the transform hook edits (accessors in mqtt5/websocket.h) ---- */

/* A request for `host` (the Host header value) and `path` (NULL: "/mqtt") with the extra
 * headers, validated as by the setters. */
int mqtt5_ws_request_new(const char *host, const char *path, const mqtt5_ws_header *headers,
                         size_t count, mqtt5_ws_request **out);
void mqtt5_ws_request_free(mqtt5_ws_request *r);
/*
 * The request bytes: "GET <path> HTTP/1.1", the header list in order (Host first), then
 * Upgrade, Connection, Sec-WebSocket-Key, Sec-WebSocket-Version: 13, Sec-WebSocket-Protocol:
 * mqtt and the empty line. *out is malloc'ed (the caller frees it). 0 or MQTT5_ERR_NOMEM.
 */
int mqtt5_ws_request_encode(const mqtt5_ws_request *r, const char *key, char **out, size_t *len);

/* ---- key, accept, randomness ---- */

/* Fill p[0..n) from OpenSSL's RAND_bytes: 0 or MQTT5_ERR_IO. Its signature is the filter's
 * random seam (ud unused). */
int mqtt5_ws_random_fill(void *ud, uint8_t *p, size_t n);
/* base64 of 16 random bytes. */
void mqtt5_ws_key_encode(const uint8_t raw[16], char key[MQTT5_WS_KEY_SIZE]);
/* base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")): 0 or MQTT5_ERR_NOMEM. */
int mqtt5_ws_accept_compute(const char *key, char accept[MQTT5_WS_ACCEPT_SIZE]);

/* ---- the response ---- */

/* Length of the head (through its CRLFCRLF) in p[0..n), or 0 when it has not ended. The
 * search may start at `from` (bytes before it were searched already). */
size_t mqtt5_ws_response_head_end(const uint8_t *p, size_t n, size_t from);
/*
 * Validate a complete head p[0..n) (as found by head_end) against the expected accept value:
 * "HTTP/1.1 101", Upgrade: websocket, Connection with the token "upgrade" (both
 * case-insensitive), exactly one Sec-WebSocket-Accept equal to `accept`,
 * Sec-WebSocket-Protocol: mqtt, no Sec-WebSocket-Extensions. 0, or
 * MQTT5_ERR_WEBSOCKET_HANDSHAKE with a one-line detail (a non-101 answer names the status line:
 * "server answered 'HTTP/1.1 403 Forbidden' to the WebSocket upgrade").
 */
int mqtt5_ws_response_check(const uint8_t *p, size_t n, const char *accept, char *detail,
                            size_t cap);

#endif
