/*
 * helpers/packet_equal.h - deep comparison of packets and properties, and the zero-copy check
 * that every view of a decoded packet points into its input. Repeated items (user properties,
 * subscription identifiers, subscriptions, unsubscribe filters) are compared through the
 * iterators, so a hand-built packet (arrays) compares with its decoded twin (raw regions).
 */
#ifndef MQTT5_TEST_PACKET_EQUAL_H
#define MQTT5_TEST_PACKET_EQUAL_H

#include <stddef.h>
#include <stdint.h>

#include "mqtt5/mqtt5.h"

/* Every field the packet type defines is equal (CONNECT protocol name/level are not compared). */
#define assert_packet_equal(expected, actual)                                                      \
    assert_packet_equal_((expected), (actual), __FILE__, __LINE__)
void assert_packet_equal_(const mqtt5_packet *expected, const mqtt5_packet *actual,
                          const char *file, int line);

/* Same present set, same values of present properties, same repeated items in order. */
#define assert_props_equal(expected, actual)                                                       \
    assert_props_equal_((expected), (actual), "properties", __FILE__, __LINE__)
void assert_props_equal_(const mqtt5_properties *expected, const mqtt5_properties *actual,
                         const char *what, const char *file, int line);

/* Every non-empty string/binary view of a decoded packet lies inside buf[0..len). */
#define assert_packet_views_inside(p, buf, len)                                                    \
    assert_packet_views_inside_((p), (buf), (len), __FILE__, __LINE__)
void assert_packet_views_inside_(const mqtt5_packet *p, const uint8_t *buf, size_t len,
                                 const char *file, int line);

/* The user properties of `props`, read with the iterator, are exactly the name/value C strings
 * that follow (name, value, name, value, ..., NULL), in order. */
#define assert_user_props(props, ...) assert_user_props_((props), __FILE__, __LINE__, __VA_ARGS__)
void assert_user_props_(const mqtt5_properties *props, const char *file, int line, ...);

/* The subscription identifiers of `props`, read with the iterator, are exactly the values that
 * follow, in order. */
#define assert_sub_ids(props, ...)                                                                 \
    assert_sub_ids_((props), (const uint32_t[]){__VA_ARGS__},                                      \
                    sizeof((const uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t), __FILE__,          \
                    __LINE__)
void assert_sub_ids_(const mqtt5_properties *props, const uint32_t *want, size_t n,
                     const char *file, int line);

#endif
