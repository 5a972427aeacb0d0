/*
 * test_client_packet_ids.c - packet identifier allocation (core/client_packet_ids.h): round-robin
 * order, wrap 65535 -> 1, skipping ids in use, exhaustion, reserve/release, and that a search is a
 * word scan (bounded number of steps) rather than a walk over 65535 ids.
 */
#include <time.h>

#include "helpers/test_common.h"

#include "core/client_packet_ids.h"

/* The set and its 8 KiB of words in one heap block; the words are filled with garbage first, as
 * the set never zeroes them in bulk (a word reads as 0 until first written). */
static client_packet_ids *new_ids(void)
{
    client_packet_ids *p = test_alloc(sizeof(*p) + CLIENT_PACKET_IDS_WORDS * sizeof(uint64_t));
    uint64_t *words = (uint64_t *)(p + 1);
    memset(words, 0xA5, CLIENT_PACKET_IDS_WORDS * sizeof(uint64_t));
    client_packet_ids_init(p, words);
    return p;
}

static void sequence_starts_at_one(void **state)
{
    (void)state;
    client_packet_ids *p = new_ids();
    assert_int_equal(p->next, 1);
    assert_int_equal(p->in_use, 0);
    assert_int_equal(client_packet_ids_acquire(p), 1);
    assert_int_equal(client_packet_ids_acquire(p), 2);
    assert_int_equal(client_packet_ids_acquire(p), 3);
    assert_int_equal(p->in_use, 3);
    assert_int_equal(p->next, 4);
    assert_true(client_packet_ids_is_used(p, 1));
    assert_true(client_packet_ids_is_used(p, 3));
    assert_false(client_packet_ids_is_used(p, 4));
    assert_false(client_packet_ids_is_used(p, 0));
}

static void release_does_not_rewind(void **state)
{
    (void)state;
    client_packet_ids *p = new_ids();
    assert_int_equal(client_packet_ids_acquire(p), 1);
    assert_int_equal(client_packet_ids_acquire(p), 2);
    assert_int_equal(client_packet_ids_acquire(p), 3);
    client_packet_ids_release(p, 2);
    assert_false(client_packet_ids_is_used(p, 2));
    assert_int_equal(p->in_use, 2);
    assert_int_equal(client_packet_ids_acquire(p), 4); /* round robin: 2 is not reused at once */
    /* reacquire a released id: it comes round again after the wrap */
    p->next = 65535;
    assert_int_equal(client_packet_ids_acquire(p), 65535);
    assert_int_equal(client_packet_ids_acquire(p), 2); /* 1 is in use, 2 was released */
    assert_int_equal(client_packet_ids_acquire(p), 5);
    /* releasing a free id or 0 changes nothing */
    uint32_t n = p->in_use;
    client_packet_ids_release(p, 6);
    client_packet_ids_release(p, 0);
    assert_int_equal(p->in_use, n);
}

static void wraps_after_65535(void **state)
{
    (void)state;
    client_packet_ids *p = new_ids();
    p->next = 65534;
    assert_int_equal(client_packet_ids_acquire(p), 65534);
    assert_int_equal(client_packet_ids_acquire(p), 65535);
    assert_int_equal(p->next, 1); /* 65535 + 1 wraps to 1, never 0 */
    assert_int_equal(client_packet_ids_acquire(p), 1);
    assert_int_equal(client_packet_ids_acquire(p), 2);

    /* the whole cycle, acquiring and releasing one at a time, never yields 0 */
    client_packet_ids_reset(p);
    for (uint32_t i = 1; i <= 2 * 65535u; i++) {
        uint16_t id = client_packet_ids_acquire(p);
        assert_int_equal(id, (i - 1) % 65535u + 1);
        client_packet_ids_release(p, id);
    }
    assert_int_equal(p->in_use, 0);
}

static void skips_used_ids_when_wrapping(void **state)
{
    (void)state;
    client_packet_ids *p = new_ids();
    assert_true(client_packet_ids_reserve(p, 1));
    assert_true(client_packet_ids_reserve(p, 2));
    assert_true(client_packet_ids_reserve(p, 64));
    assert_true(client_packet_ids_reserve(p, 65535));
    p->next = 65535;
    assert_int_equal(client_packet_ids_acquire(p), 3);
    /* skip a run across a word boundary */
    for (uint16_t id = 60; id <= 200; id++)
        client_packet_ids_reserve(p, id);
    p->next = 60;
    assert_int_equal(client_packet_ids_acquire(p), 201);
    /* next inside a fully used tail: wraps to the first free id from 1 */
    for (uint32_t id = 65000; id <= 65535; id++)
        client_packet_ids_reserve(p, (uint16_t)id);
    p->next = 65001;
    assert_int_equal(client_packet_ids_acquire(p), 4);
    /* a free id below `next` in the same word is found only after the wrap */
    client_packet_ids *q = new_ids();
    for (uint32_t id = 1; id <= 65535; id++)
        if (id != 70) client_packet_ids_reserve(q, (uint16_t)id);
    q->next = 100;
    assert_int_equal(client_packet_ids_acquire(q), 70);
    assert_int_equal(q->next, 71);
}

static void exhaustion_returns_zero(void **state)
{
    (void)state;
    client_packet_ids *p = new_ids();
    for (uint32_t i = 1; i <= 65535u; i++)
        assert_int_equal(client_packet_ids_acquire(p), i);
    assert_int_equal(p->in_use, 65535);
    uint16_t next = p->next;
    assert_int_equal(client_packet_ids_acquire(p), 0);
    assert_int_equal(client_packet_ids_acquire(p), 0);
    assert_int_equal(p->next, next); /* unchanged by a failed acquire */
    /* release one anywhere: that is the one handed out */
    client_packet_ids_release(p, 31337);
    assert_int_equal(client_packet_ids_acquire(p), 31337);
    assert_int_equal(client_packet_ids_acquire(p), 0);
    client_packet_ids_release(p, 65535);
    client_packet_ids_release(p, 1);
    assert_int_equal(client_packet_ids_acquire(p), 65535); /* next was 31338 */
    assert_int_equal(client_packet_ids_acquire(p), 1);
    assert_int_equal(client_packet_ids_acquire(p), 0);
}

static void reserve_rules(void **state)
{
    (void)state;
    client_packet_ids *p = new_ids();
    assert_false(client_packet_ids_reserve(p, 0));
    assert_true(client_packet_ids_reserve(p, 5));
    assert_false(client_packet_ids_reserve(p, 5));
    assert_int_equal(p->in_use, 1);
    assert_int_equal(p->next, 1); /* reserve leaves next alone */
    assert_true(client_packet_ids_reserve(p, 65535));
    assert_true(client_packet_ids_is_used(p, 65535));
    assert_int_equal(client_packet_ids_acquire(p), 1);
    client_packet_ids_release(p, 5);
    assert_true(client_packet_ids_reserve(p, 5)); /* release then reserve again */
    /* an id acquired cannot be reserved, and vice versa */
    uint16_t id = client_packet_ids_acquire(p);
    assert_int_equal(id, 2);
    assert_false(client_packet_ids_reserve(p, id));
    client_packet_ids_clear(p);
    assert_int_equal(p->in_use, 0);
    assert_false(client_packet_ids_is_used(p, 5));
    assert_int_equal(p->next, 3); /* clear keeps the position */
}

static void zeroed_struct_starts_at_one(void **state)
{
    (void)state;
    /* a zeroed struct on fresh words (next 0 reads as 1) */
    client_packet_ids *p = test_alloc(sizeof(*p) + CLIENT_PACKET_IDS_WORDS * sizeof(uint64_t));
    memset(p, 0, sizeof(*p));
    p->used = (uint64_t *)(p + 1);
    memset(p->used, 0xFF, CLIENT_PACKET_IDS_WORDS * sizeof(uint64_t)); /* garbage, untouched */
    assert_int_equal(client_packet_ids_acquire(p), 1);
    assert_false(client_packet_ids_is_used(p, 64)); /* an untouched word reads as empty */
}

/* Acquire in the common case touches one or two words: 65535 acquire/release pairs with a
 * mostly empty set must take far less time than the same number of full scans. */
static void acquire_is_a_word_scan(void **state)
{
    (void)state;
    client_packet_ids *p = new_ids();
    /* keep 100 ids in flight, like a busy client */
    uint16_t ring[100];
    for (int i = 0; i < 100; i++)
        ring[i] = client_packet_ids_acquire(p);
    clock_t t0 = clock();
    for (uint32_t i = 0; i < 1000000u; i++) {
        client_packet_ids_release(p, ring[i % 100]);
        ring[i % 100] = client_packet_ids_acquire(p);
        assert_true(ring[i % 100] != 0);
    }
    double common = (double)(clock() - t0) / CLOCKS_PER_SEC;
    /* worst case: one free id just before `next`, so the search goes all the way round */
    for (uint32_t id = 1; id <= 65535u; id++)
        client_packet_ids_reserve(p, (uint16_t)id);
    clock_t t1 = clock();
    for (uint32_t i = 0; i < 20000u; i++) {
        uint16_t id = (uint16_t)(i % 65535u + 1);
        client_packet_ids_release(p, id);
        p->next = id == 65535u ? 1 : (uint16_t)(id + 1u);
        assert_int_equal(client_packet_ids_acquire(p), id);
    }
    double worst = (double)(clock() - t1) / CLOCKS_PER_SEC;
    /* 1e6 common acquires in well under a second even with sanitizers (a per-id walk would
     * take ~65535 steps each); the worst case is bounded by 1025 word reads */
    print_message("1e6 common acquires: %.3f s; 2e4 worst-case acquires: %.3f s\n", common, worst);
    assert_true(common < 2.0);
    assert_true(worst < 5.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sequence_starts_at_one),
        cmocka_unit_test(release_does_not_rewind),
        cmocka_unit_test(wraps_after_65535),
        cmocka_unit_test(skips_used_ids_when_wrapping),
        cmocka_unit_test(exhaustion_returns_zero),
        cmocka_unit_test(reserve_rules),
        cmocka_unit_test(zeroed_struct_starts_at_one),
        cmocka_unit_test(acquire_is_a_word_scan),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
