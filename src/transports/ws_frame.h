/*
 * transports/ws_frame.h - the RFC 6455 frame codec, sans-I/O and allocation-free: header
 * encode/decode, masking, close-frame payloads, and a streaming decoder that accepts input in
 * pieces of any size (one byte at a time included) and hands out one event per call. Data
 * payload is never copied: events point into the caller's input. Only control-frame payloads
 * (at most 125 bytes) are collected, in the decoder itself.
 */
#ifndef MQTT5_TRANSPORTS_WS_FRAME_H
#define MQTT5_TRANSPORTS_WS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mqtt5_ws_opcode {
    MQTT5_WS_OP_CONTINUATION = 0x0,
    MQTT5_WS_OP_TEXT = 0x1,
    MQTT5_WS_OP_BINARY = 0x2,
    MQTT5_WS_OP_CLOSE = 0x8,
    MQTT5_WS_OP_PING = 0x9,
    MQTT5_WS_OP_PONG = 0xA,
};

#define MQTT5_WS_MAX_HEADER 14u /* 2 + 8 (length) + 4 (mask key) */
#define MQTT5_WS_MAX_CONTROL_PAYLOAD 125u

typedef struct mqtt5_ws_frame_header {
    bool fin;
    uint8_t rsv;    /* RSV1..RSV3 as the low 3 bits; must be 0 (no extension is negotiated) */
    uint8_t opcode; /* enum mqtt5_ws_opcode */
    bool masked;
    uint8_t mask[4];
    uint64_t len; /* payload length, < 2^63 */
} mqtt5_ws_frame_header;

/* True for close, ping and pong (opcodes 0x8..0xF). */
static inline bool mqtt5_ws_opcode_is_control(uint8_t op)
{
    return (op & 0x8) != 0;
}

/* Bytes the header of a frame with this payload length takes: 2..14. */
size_t mqtt5_ws_frame_header_size(uint64_t len, bool masked);
/* Write the header (minimal length encoding) to out; returns its size. h->len < 2^63. */
size_t mqtt5_ws_frame_header_encode(const mqtt5_ws_frame_header *h,
                                    uint8_t out[MQTT5_WS_MAX_HEADER]);
/*
 * Decode one header from p[0..n). 0 with *used = header size; MQTT5_ERR_NEED_MORE when p is a
 * proper prefix of a header; MQTT5_ERR_WEBSOCKET_PROTOCOL for a header no peer may send (RSV
 * bits, reserved opcode, fragmented or long control frame, length with the top bit set,
 * non-minimal length), with *why set to a static reason. Never reads past p[n - 1].
 */
int mqtt5_ws_frame_header_decode(const uint8_t *p, size_t n, mqtt5_ws_frame_header *h, size_t *used,
                                 const char **why);
/* dst[i] = src[i] ^ key[(offset + i) % 4]; dst may equal src. */
void mqtt5_ws_frame_mask(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t key[4],
                         uint64_t offset);

/*
 * A close frame's payload: none, or a 2-byte status code and a reason. 0 with *code = 0 when
 * empty; MQTT5_ERR_WEBSOCKET_PROTOCOL for a 1-byte payload or a code no endpoint may send.
 */
int mqtt5_ws_close_parse(const uint8_t *p, size_t n, uint16_t *code, const uint8_t **reason,
                         size_t *reason_len);
/* True for the status codes a close frame may carry (1000-1003, 1007-1014, 3000-4999). */
bool mqtt5_ws_close_code_valid(uint16_t code);
/* A short name for a status code ("normal closure"), "" for unknown ones. Static. */
const char *mqtt5_ws_close_code_name(uint16_t code);

/* ---- the streaming decoder ---- */

enum mqtt5_ws_event_kind {
    MQTT5_WS_EV_NONE = 0, /* all input was consumed, nothing to report */
    MQTT5_WS_EV_FRAME,    /* a header was complete: ev->hdr (payload follows) */
    MQTT5_WS_EV_DATA,     /* payload bytes of a data frame: ev->data, ev->n */
    MQTT5_WS_EV_CONTROL,  /* a complete control frame: ev->hdr, payload unmasked in ev->data */
};

typedef struct mqtt5_ws_event {
    enum mqtt5_ws_event_kind kind;
    mqtt5_ws_frame_header hdr; /* FRAME, DATA, CONTROL: the frame's header */
    uint8_t message_opcode;    /* DATA: TEXT or BINARY, from the message's first frame */
    const uint8_t *data;       /* DATA: into the input (still masked if hdr.masked) */
    size_t n;
    uint64_t offset; /* DATA: offset of data[0] in the frame's payload (for unmasking) */
} mqtt5_ws_event;

typedef struct mqtt5_ws_decoder {
    /* settings */
    uint64_t max_payload; /* per data frame; 0 = no limit */
    bool expect_masked;   /* true: decoding a client (frames must be masked); false: a server */
    /* state, private */
    int state;
    uint8_t hdr_buf[MQTT5_WS_MAX_HEADER];
    size_t hdr_n;
    mqtt5_ws_frame_header hdr;
    uint64_t done; /* payload bytes of the current frame consumed */
    bool in_message;
    uint8_t message_opcode;
    uint8_t ctl[MQTT5_WS_MAX_CONTROL_PAYLOAD];
    /* after an error: the static reason, and the error (every later call returns it) */
    const char *why;
    int err;
} mqtt5_ws_decoder;

void mqtt5_ws_decoder_init(mqtt5_ws_decoder *d, uint64_t max_payload, bool expect_masked);
/*
 * Consume a prefix of p[0..n) (*used bytes) and report at most one event. Returns 0 (the event
 * may be NONE only when *used == n), MQTT5_ERR_WEBSOCKET_PROTOCOL (bad header, unexpected
 * masking, a continuation without a message or a data frame inside one), or
 * MQTT5_ERR_WEBSOCKET_FRAME_TOO_LARGE (d->hdr holds the header); d->why names the reason and
 * the decoder stays failed. Call again with the rest until the event is NONE: an event may be
 * reported without consuming input (an empty frame). Never reads past p[n - 1].
 */
int mqtt5_ws_decoder_next(mqtt5_ws_decoder *d, const uint8_t *p, size_t n, size_t *used,
                          mqtt5_ws_event *ev);

#endif
