/*
 * encode.h - private: writing a packet whose validity and remaining length are already known
 * (from mqtt5_packet_encoded_size), so the client core does not validate each packet twice.
 */
#ifndef MQTT5_CORE_ENCODE_H
#define MQTT5_CORE_ENCODE_H

#include "mqtt5/codec.h"

/* Write `p` (validated; remaining length `body`) into buf, which has room for
 * 1 + mqtt5_vbi_size(body) + body bytes. Returns the bytes written. */
size_t encode_validated(const mqtt5_packet *p, size_t body, uint8_t *buf);

/* Remaining length of a packet of `size` bytes in all. */
size_t encode_body_length(size_t size);

#endif
