/*
 * helpers/alloc.h - memory for tests that lives until the end of the test group.
 *
 * cmocka leaves a failing test with longjmp, so a test cannot free what it allocated; blocks from
 * test_alloc() are instead released by test_free_all(), passed as the group teardown. Each block
 * has exactly the requested size so AddressSanitizer reports any read past its end.
 */
#ifndef MQTT5_TEST_ALLOC_H
#define MQTT5_TEST_ALLOC_H

#include <stddef.h>

/* A block of exactly n bytes (n may be 0); never NULL (the test fails instead). */
void *test_alloc(size_t n);

/* Frees every block from test_alloc(). Signature of a cmocka group teardown; returns 0. */
int test_free_all(void **state);

#endif
