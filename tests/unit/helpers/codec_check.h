/*
 * helpers/codec_check.h - the recurring codec checks, one call each:
 *   assert_encodes     encode a hand-built packet and compare with golden bytes
 *   decode_ok          decode golden bytes that must be accepted
 *   assert_round_trip  encode, decode, compare every field
 *   decode_fails / assert_decode_fails   decode bytes that must be refused
 *   assert_encode_fails                  encode a packet the encoder must refuse
 * Every buffer handed to the codec is a test_alloc() block of exactly the size given, so
 * AddressSanitizer catches any access outside it.
 */
#ifndef MQTT5_TEST_CODEC_CHECK_H
#define MQTT5_TEST_CODEC_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "mqtt5/mqtt5.h"

/*
 * Encodes `p` and compares with `hex`. Also checks that mqtt5_packet_encoded_size() equals the
 * bytes written, that nothing is written past them, and that every shorter buffer fails with
 * MQTT5_ERR_BUFFER_TOO_SMALL without writing a byte.
 */
#define assert_encodes(p, hex) assert_encodes_((p), (hex), __FILE__, __LINE__)
void assert_encodes_(const mqtt5_packet *p, const char *hex, const char *file, int line);

/* The checks of assert_encodes without a golden value; returns the encoding (size in *len). */
#define encode_ok(p, len) encode_ok_((p), (len), __FILE__, __LINE__)
uint8_t *encode_ok_(const mqtt5_packet *p, size_t *len, const char *file, int line);

/*
 * Decodes the packet written as hex, which must be accepted whole (consumed == length) with every
 * view inside the input; every strict prefix must give MQTT5_ERR_NEED_MORE. Returns the input
 * buffer (its length in *len when len is not NULL).
 */
#define decode_ok(hex, out, len) decode_ok_((hex), (out), (len), __FILE__, __LINE__)
const uint8_t *decode_ok_(const char *hex, mqtt5_packet *out, size_t *len, const char *file,
                          int line);
/* Same for raw bytes buf[0..len). */
#define decode_buf_ok(buf, len, out) decode_buf_ok_((buf), (len), (out), __FILE__, __LINE__)
void decode_buf_ok_(const uint8_t *buf, size_t len, mqtt5_packet *out, const char *file, int line);

/* Encodes `p`, decodes the result and checks every field and repeated item survived. */
#define assert_round_trip(p) assert_round_trip_((p), __FILE__, __LINE__)
void assert_round_trip_(const mqtt5_packet *p, const char *file, int line);

/* Decodes hex with max_packet_size `max` (0 = no limit); must fail. Returns the status. */
#define decode_fails(hex, max) decode_fails_((hex), (max), __FILE__, __LINE__)
mqtt5_codec_status decode_fails_(const char *hex, uint32_t max, const char *file, int line);

/* Decoding hex (no size limit) fails with error `err`, reason code `rc` at offset `off`:
 * assert_decode_fails(hex, err, rc, off). Variadic so that one macro may supply "err, rc". */
#define assert_decode_fails(hex, ...)                                                              \
    assert_decode_fails_((hex), 0, __VA_ARGS__, __FILE__, __LINE__)
/* The same with max_packet_size: assert_decode_fails_max(hex, max, err, rc, off). */
#define assert_decode_fails_max(hex, max, ...)                                                     \
    assert_decode_fails_((hex), (max), __VA_ARGS__, __FILE__, __LINE__)
void assert_decode_fails_(const char *hex, uint32_t max, int err, int rc, size_t off,
                          const char *file, int line);

/*
 * Both mqtt5_packet_encoded_size() and mqtt5_packet_encode() refuse `p` with `err`, status.field
 * naming `field` (see assert_field; NULL = not checked), and encode writes nothing.
 */
#define assert_encode_fails(p, err, field)                                                         \
    assert_encode_fails_((p), (err), (field), __FILE__, __LINE__)
void assert_encode_fails_(const mqtt5_packet *p, int err, const char *field, const char *file,
                          int line);

#endif
