/*
 * mqtt5/codec.h - sans-I/O MQTT 5 packet encoder and decoder.
 *
 * Decoding: mqtt5_packet_decode() decodes one complete packet from a buffer in place (the packet
 * is a view into that buffer). mqtt5_decoder wraps it for a byte stream: feed it whatever arrived
 * and it yields packets, copying only a packet split across calls into a buffer the caller gave
 * it, either up front or, sized to that packet, when the decoder asks for it. Nothing here
 * allocates.
 *
 * Encoding: mqtt5_packet_encoded_size() validates a packet against everything the specification
 * forbids a sender to do and computes its exact size; mqtt5_packet_encode() writes it into a
 * caller buffer.
 *
 * Errors are reported through mqtt5_codec_status: for decoding, `reason_code` is the reason code
 * the receiver must put in its DISCONNECT (0x81 Malformed Packet, 0x82 Protocol Error, 0x95 Packet
 * Too Large, ...) and `offset` the byte offset in the packet where the problem was found; for
 * both directions `field` names the offending field in mqtt-packet's vocabulary
 * ("properties.topicAlias", "subscriptions.qos") and `detail` says what is wrong.
 */
#ifndef MQTT5_CODEC_H
#define MQTT5_CODEC_H

#include "mqtt5/error.h"
#include "mqtt5/packet.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest packet MQTT 5 can express: 1 byte header + 4 byte length + 268435455. */
#define MQTT5_MAX_PACKET_SIZE_LIMIT 268435460u
#define MQTT5_MAX_VBI 268435455u

typedef struct mqtt5_codec_status {
    int error;           /* mqtt5_error, MQTT5_OK when nothing went wrong */
    uint8_t reason_code; /* decode: reason code for the DISCONNECT; 0 when no error */
    size_t offset;       /* decode: offset of the problem from the first byte of the packet */
    const char *field;   /* static string or NULL */
    const char *detail;  /* static string or NULL */
} mqtt5_codec_status;

/*
 * Decode one packet from the start of buf[0..len).
 * max_packet_size: largest whole packet accepted (0 = protocol limit); larger ones fail with
 *   MQTT5_ERR_PACKET_TOO_LARGE (reason 0x95) as soon as the fixed header shows the size.
 * Returns MQTT5_OK and sets *consumed to the packet's size, MQTT5_ERR_NEED_MORE when buf holds
 * only part of a packet (*consumed = 0; if the size is known, status->offset holds the whole
 * packet's size), or a negative error with `status` filled in. `status` may be NULL.
 */
int mqtt5_packet_decode(const uint8_t *buf, size_t len, uint32_t max_packet_size, mqtt5_packet *out,
                        size_t *consumed, mqtt5_codec_status *status);

/*
 * Streaming decoder. `buf` is the caller's storage for a packet that arrives in pieces; packets
 * larger than `cap` or than `max_packet_size` are refused with 0x95, so cap >= max_packet_size
 * accepts everything allowed.
 *
 * Storage on demand: with `buf` NULL (cap 0) the limit is max_packet_size alone, and a split
 * packet needs storage only once its fixed header is complete: mqtt5_decoder_mem_recv then
 * returns MQTT5_ERR_BUFFER_TOO_SMALL (not sticky) with `need` set to the packet's size; attach a
 * buffer of at least `need` bytes with mqtt5_decoder_set_buffer and call again with the rest of
 * the input. A split packet of at most sizeof(head) bytes (acknowledgements, PINGRESP) is
 * gathered in `head` and needs no storage. Detach the storage (set_buffer NULL) once the packet
 * came out to ask again for the next one.
 */
typedef struct mqtt5_decoder {
    uint8_t *buf;
    size_t cap;
    size_t len;  /* bytes of the pending packet held (in head until they are in buf) */
    size_t need; /* total size of the pending packet, 0 while the fixed header is incomplete */
    uint32_t max_packet_size;
    mqtt5_codec_status failure; /* sticky: a stream cannot be resynchronised after an error */
    uint8_t head[8];            /* the fixed header while incomplete; a small packet, no storage */
} mqtt5_decoder;

void mqtt5_decoder_init(mqtt5_decoder *dec, uint8_t *buf, size_t cap, uint32_t max_packet_size);

/*
 * Feed in[0..len). Sets *consumed to the bytes used. Returns MQTT5_OK with *out filled (a view
 * into `in` when the packet was whole there, else into the decoder's buffer or `head`; valid
 * until the next call), MQTT5_ERR_NEED_MORE when all input was used without completing a packet,
 * MQTT5_ERR_BUFFER_TOO_SMALL when a split packet needs storage (see above), or an error (then
 * every later call returns the same error). Call again with the unconsumed rest.
 */
int mqtt5_decoder_mem_recv(mqtt5_decoder *dec, const uint8_t *in, size_t len, size_t *consumed,
                           mqtt5_packet *out, mqtt5_codec_status *status);

/*
 * Attach storage for split packets (buf NULL: detach, storage on demand from now on). A packet
 * waiting for storage has its bytes so far copied into `buf`. MQTT5_ERR_INVALID_ARGUMENT when
 * cap < need; MQTT5_ERR_INVALID_STATE while the current storage holds part of a packet.
 */
int mqtt5_decoder_set_buffer(mqtt5_decoder *dec, uint8_t *buf, size_t cap);

/* Validate `packet` and compute its exact encoded size. */
int mqtt5_packet_encoded_size(const mqtt5_packet *packet, size_t *size, mqtt5_codec_status *status);

/* Validate and encode `packet` into buf[0..cap); *written gets the size. Fails with
 * MQTT5_ERR_BUFFER_TOO_SMALL (and writes nothing) when cap is short. */
int mqtt5_packet_encode(const mqtt5_packet *packet, uint8_t *buf, size_t cap, size_t *written,
                        mqtt5_codec_status *status);

/* Variable byte integer helpers (exposed for transports and tools). */
size_t mqtt5_vbi_size(uint32_t value);                   /* 1..4, 0 if value > MQTT5_MAX_VBI */
size_t mqtt5_vbi_encode(uint32_t value, uint8_t out[4]); /* bytes written, 0 if too large */

/* MQTT UTF-8 check: well-formed, no surrogates, no U+0000, at most 65535 bytes. */
bool mqtt5_utf8_valid(const char *s, size_t len);

#ifdef __cplusplus
}
#endif
#endif
