/*
 * decode.h - private: fixed-header parsing shared by the in-place decoder and the streaming
 * decoder, so both apply the same checks in the same order.
 */
#ifndef MQTT5_CORE_DECODE_H
#define MQTT5_CORE_DECODE_H

#include "mqtt5/codec.h"

/*
 * Parse and check the fixed header at buf[0..len): remaining length, maximum packet size (0 =
 * protocol limit), packet type and reserved flags. MQTT5_OK sets *header_len and *total_len;
 * MQTT5_ERR_NEED_MORE when the header itself is incomplete; else an error with `st` filled in.
 */
int decode_fixed_header(const uint8_t *buf, size_t len, uint32_t max_packet_size,
                        size_t *header_len, size_t *total_len, mqtt5_codec_status *st);

#endif
