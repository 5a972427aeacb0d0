/*
 * helpers/ws_peer.h - an in-process WebSocket server that plays the client WebSocket filter's
 * lower filter, plus a recording sink on top, and a pump that moves bytes between them until
 * nothing changes. The server parses the GET, answers per a printf format (the accept value is
 * computed independently, with OpenSSL's one-shot SHA1), decodes the client's masked frames and
 * sends frames the tests build. Test support only: no sockets, no event loop.
 */
#ifndef MQTT5_TEST_WS_PEER_H
#define MQTT5_TEST_WS_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transports/filter.h"
#include "transports/ws.h"
#include "transports/ws_frame.h"

typedef struct ws_bytes {
    uint8_t *p;
    size_t n, cap;
} ws_bytes;

typedef struct ws_frame_rec {
    uint8_t opcode;
    bool fin, masked;
    uint64_t len;
} ws_frame_rec;

#define WS_PEER_MAX_FRAMES 256

/* The answer of a good server; one %s takes the accept value. */
#define WS_PEER_OK_RESPONSE                                                                        \
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"            \
    "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"

typedef struct ws_peer {
    mqtt5_filter lower, sink;
    mqtt5_filter *ws;
    size_t chunk;     /* bytes per delivery to the client, 0 = all at once */
    bool hold_open;   /* the fake lower does not open while set */
    bool fail_writes; /* the fake lower refuses writes (MQTT5_ERR_CONNECTION_CLOSED) */
    /* the fake lower */
    bool connect_called, open_sent, close_called, close_pending, closed_up;
    int close_err;
    ws_bytes to_server, to_client;
    /* the server: handshake */
    const char *response;    /* printf format with at most one %s (the accept); NULL = OK */
    ws_bytes after_response; /* sent in the same delivery as the response */
    bool answered;
    ws_bytes request; /* the request head, NUL-terminated */
    char key[64], accept[64];
    /* the server: client frames */
    mqtt5_ws_decoder dec;
    bool server_failed;
    const char *server_why;
    ws_bytes data; /* unmasked data payload, concatenated */
    ws_frame_rec frames[WS_PEER_MAX_FRAMES];
    size_t frame_count;
    ws_bytes pongs; /* pong payloads, concatenated */
    int pong_count, close_frames;
    int close_code; /* of the last close frame, -1: none, 0: empty */
    /* the sink */
    int opens, closes, close_up_err, writables, reads;
    char close_detail[256];
    ws_bytes sink_in;
} ws_peer;

/* Filter from o (o->host NULL: "broker.test"), stacked lower -> ws -> sink. */
void ws_peer_init(ws_peer *t, const mqtt5_ws_options *o);
/* ws->connect() then pump. */
void ws_peer_connect(ws_peer *t);
void ws_peer_pump(ws_peer *t);
/* Append one frame (masked: with the key 37 fa 21 3d) to b. */
void ws_peer_frame(ws_bytes *b, uint8_t opcode, bool fin, bool masked, const void *p, size_t n);
/* The server sends one frame, unmasked, then pump. */
void ws_peer_send(ws_peer *t, uint8_t opcode, bool fin, const void *p, size_t n);
/* The server queues bytes without pumping / sends them and pumps. */
void ws_peer_queue(ws_peer *t, const void *p, size_t n);
void ws_peer_raw_send(ws_peer *t, const void *p, size_t n);
void ws_bytes_put(ws_bytes *b, const void *p, size_t n);
/* Destroy the filter (if not yet) and free everything. */
void ws_peer_free(ws_peer *t);

#endif
