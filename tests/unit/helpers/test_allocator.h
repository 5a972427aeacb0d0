/*
 * helpers/test_allocator.h - an mqtt5_allocator for unit tests that counts, checks and fails.
 *
 * Every block is a separate malloc of exactly the size asked for (AddressSanitizer sees overruns);
 * each release must name a live block with its original size, else the test fails. The k-th
 * allocation from now can be made to fail, for NOMEM paths. It must not be used by library code:
 * tests only. Not thread-safe.
 */
#ifndef MQTT5_TEST_ALLOCATOR_H
#define MQTT5_TEST_ALLOCATOR_H

#include <stdbool.h>
#include <stddef.h>

#include "mqtt5/allocator.h"

typedef struct test_allocator {
    mqtt5_allocator base; /* hand &base (or test_allocator_get()) to the code under test */
    size_t allocations;   /* successful allocate calls */
    size_t failures;      /* allocate calls made to fail */
    size_t releases;
    size_t live_blocks, live_bytes, peak_bytes;
    size_t fail_countdown; /* 0 = never fail; 1 = the next allocation fails, ... */
    bool fail_all_after;   /* once the countdown fires, every later allocation fails too */
    struct test_allocator_block *blocks; /* live blocks (internal) */
    size_t block_cap;
} test_allocator;

void test_allocator_init(test_allocator *t);
const mqtt5_allocator *test_allocator_get(test_allocator *t);
/* The k-th allocation from now fails (k >= 1; 0 = none); with `sticky`, all later ones as well. */
void test_allocator_fail_at(test_allocator *t, size_t k, bool sticky);
/* Frees the bookkeeping (not the blocks: a leak must stay visible). */
void test_allocator_destroy(test_allocator *t);
/* Frees every live block and the bookkeeping (teardown after a failed test); returns how many
 * blocks were still live. */
size_t test_allocator_release_all(test_allocator *t);

/* Fails the test if any block is still live, naming the count and bytes; then destroys. */
#define assert_no_leaks(t) test_allocator_check_leaks_((t), __FILE__, __LINE__)
void test_allocator_check_leaks_(test_allocator *t, const char *file, int line);

#endif
