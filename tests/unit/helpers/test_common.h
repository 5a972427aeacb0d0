/*
 * helpers/test_common.h - the one include of every unit test: standard headers in the order
 * cmocka needs them, cmocka itself, the public mqtt5 API and all shared test helpers.
 */
#ifndef MQTT5_TEST_COMMON_H
#define MQTT5_TEST_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mqtt5/mqtt5.h"

#include "helpers/alloc.h"
#include "helpers/asserts.h"
#include "helpers/codec_check.h"
#include "helpers/hex.h"
#include "helpers/packet_equal.h"

/* Number of elements of a true array. */
#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* An mqtt5_str / mqtt5_bytes view of a C string literal or array. */
#define S(lit) ((mqtt5_str){(lit), sizeof(lit) - 1})
#define B(lit) ((mqtt5_bytes){(const uint8_t *)(lit), sizeof(lit) - 1})
/* The same as a brace initializer, for static arrays. */
#define SI(lit)                                                                                    \
    {                                                                                              \
        (lit), sizeof(lit) - 1                                                                     \
    }

#endif
