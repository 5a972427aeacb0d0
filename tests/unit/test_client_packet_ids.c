/*
 * test_client_packet_ids.c - packet identifier allocation (core/client_packet_ids.h): round-robin
 * order, wrap 65535 -> 1, skipping ids in use, exhaustion, reserve/release, storage that grows
 * with the ids in use (none on the heap while four or fewer are used, room made only when asked,
 * given back when trimmed, allocation failures leaving the set as it was), and that a search is a
 * binary search (bounded number of steps) rather than a walk over 65535 ids.
 */
#include <time.h>

#include "helpers/test_common.h"
#include "helpers/test_allocator.h"

#include "core/client_packet_ids.h"

/* Each test owns one allocator; test_done() checks that the set gave everything back. */
static test_allocator g_ta;

static const mqtt5_allocator *al(void)
{
    return test_allocator_get(&g_ta);
}

/* An empty set with room for every id. */
static client_packet_ids *new_ids(void)
{
    client_packet_ids *p = test_alloc(sizeof(*p));
    client_packet_ids_init(p);
    assert_true(client_packet_ids_room(p, al(), 65535));
    return p;
}

static int setup(void **state)
{
    (void)state;
    test_allocator_init(&g_ta);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_allocator_release_all(&g_ta);
    return 0;
}

static void reset_and_check(client_packet_ids *p)
{
    client_packet_ids_reset(p, al());
    assert_int_equal(g_ta.live_blocks, 0);
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
    reset_and_check(p);
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
    reset_and_check(p);
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
    client_packet_ids_reset(p, al());
    for (uint32_t i = 1; i <= 2 * 65535u; i++) {
        uint16_t id = client_packet_ids_acquire(p);
        assert_int_equal(id, (i - 1) % 65535u + 1);
        client_packet_ids_release(p, id);
    }
    assert_int_equal(p->in_use, 0);
    reset_and_check(p);
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
    /* skip a run across what used to be a bitmap word boundary */
    for (uint16_t id = 60; id <= 200; id++)
        client_packet_ids_reserve(p, id);
    p->next = 60;
    assert_int_equal(client_packet_ids_acquire(p), 201);
    /* next inside a fully used tail: wraps to the first free id from 1 */
    for (uint32_t id = 65000; id <= 65535; id++)
        client_packet_ids_reserve(p, (uint16_t)id);
    p->next = 65001;
    assert_int_equal(client_packet_ids_acquire(p), 4);
    /* a free id below `next` is found only after the wrap */
    client_packet_ids *q = new_ids();
    for (uint32_t id = 1; id <= 65535; id++)
        if (id != 70) client_packet_ids_reserve(q, (uint16_t)id);
    q->next = 100;
    assert_int_equal(client_packet_ids_acquire(q), 70);
    assert_int_equal(q->next, 71);
    client_packet_ids_reset(q, al());
    reset_and_check(p);
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
    reset_and_check(p);
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
    client_packet_ids_reset(p, al());
    assert_int_equal(p->in_use, 0);
    assert_false(client_packet_ids_is_used(p, 5));
    assert_int_equal(p->next, 1); /* reset starts over */
    assert_int_equal(g_ta.live_blocks, 0);
}

static void zeroed_struct_starts_at_one(void **state)
{
    (void)state;
    /* a zeroed struct is an empty set on its local slots (next 0 reads as 1) */
    client_packet_ids *p = test_alloc(sizeof(*p));
    memset(p, 0, sizeof(*p));
    assert_int_equal(client_packet_ids_acquire(p), 1);
    assert_false(client_packet_ids_is_used(p, 64));
    assert_int_equal(g_ta.allocations, 0);
}

/* Four ids live in the struct; room beyond that is made only when asked, doubles, and goes back
 * when trimmed down to what fits in the struct again. */
static void storage_follows_use(void **state)
{
    (void)state;
    client_packet_ids *p = test_alloc(sizeof(*p));
    client_packet_ids_init(p);
    for (uint16_t i = 1; i <= CLIENT_PACKET_IDS_LOCAL; i++)
        assert_int_equal(client_packet_ids_acquire(p), i);
    assert_int_equal(g_ta.allocations, 0);
    /* full: no room for a fifth until room() makes it */
    assert_int_equal(client_packet_ids_acquire(p), 0);
    assert_false(client_packet_ids_reserve(p, 100));
    assert_int_equal(p->next, CLIENT_PACKET_IDS_LOCAL + 1);
    assert_true(client_packet_ids_room(p, al(), 5));
    assert_int_equal(g_ta.live_blocks, 1);
    assert_int_equal(g_ta.live_bytes, 8 * sizeof(uint16_t));
    assert_true(client_packet_ids_room(p, al(), 8)); /* already there */
    assert_int_equal(g_ta.allocations, 1);
    assert_true(client_packet_ids_reserve(p, 100));
    assert_int_equal(client_packet_ids_acquire(p), 5);
    assert_true(client_packet_ids_room(p, al(), 100));
    assert_int_equal(g_ta.live_bytes, 128 * sizeof(uint16_t));
    assert_int_equal(g_ta.live_blocks, 1);
    /* the ids survived the moves */
    for (uint16_t i = 1; i <= 5; i++)
        assert_true(client_packet_ids_is_used(p, i));
    assert_true(client_packet_ids_is_used(p, 100));
    assert_int_equal(p->in_use, 6);
    /* room never goes beyond 65535 ids */
    assert_true(client_packet_ids_room(p, al(), 1000000));
    assert_int_equal(g_ta.live_bytes, 65535 * sizeof(uint16_t));

    /* trim keeps the heap while more than fit locally are used or kept */
    client_packet_ids_trim(p, al(), 0);
    assert_int_equal(g_ta.live_blocks, 1);
    client_packet_ids_release(p, 1);
    client_packet_ids_release(p, 100);
    assert_int_equal(p->in_use, 4);
    client_packet_ids_trim(p, al(), 5);
    assert_int_equal(g_ta.live_blocks, 1);
    client_packet_ids_trim(p, al(), 4);
    assert_int_equal(g_ta.live_blocks, 0);
    for (uint16_t i = 2; i <= 5; i++)
        assert_true(client_packet_ids_is_used(p, i));
    assert_false(client_packet_ids_is_used(p, 1));
    assert_int_equal(client_packet_ids_acquire(p), 0); /* local slots full again */
    client_packet_ids_release(p, 3);
    assert_int_equal(client_packet_ids_acquire(p), 6);
    client_packet_ids_trim(p, al(), 0); /* nothing on the heap: nothing to do */
    reset_and_check(p);
}

/* A failed allocation in room() leaves the set as it was. */
static void room_failure_changes_nothing(void **state)
{
    (void)state;
    client_packet_ids *p = test_alloc(sizeof(*p));
    client_packet_ids_init(p);
    assert_true(client_packet_ids_room(p, al(), 8));
    for (uint16_t i = 1; i <= 8; i++)
        assert_int_equal(client_packet_ids_acquire(p), i);
    test_allocator_fail_at(&g_ta, 1, false);
    assert_false(client_packet_ids_room(p, al(), 9));
    assert_int_equal(g_ta.failures, 1);
    assert_int_equal(p->in_use, 8);
    assert_int_equal(client_packet_ids_acquire(p), 0);
    for (uint16_t i = 1; i <= 8; i++)
        assert_true(client_packet_ids_is_used(p, i));
    assert_true(client_packet_ids_room(p, al(), 9));
    assert_int_equal(client_packet_ids_acquire(p), 9);
    reset_and_check(p);
}

/* Acquire is a binary search: 1e6 acquire/release pairs with a mostly empty set, and acquires
 * that have to go all the way round a full set, stay far below the cost of walking ids. */
static void acquire_is_a_binary_search(void **state)
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
     * take ~65535 steps each); the worst case is two binary searches and a move of the array */
    print_message("1e6 common acquires: %.3f s; 2e4 worst-case acquires: %.3f s\n", common, worst);
    assert_true(common < 2.0);
    assert_true(worst < 5.0);
    reset_and_check(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(sequence_starts_at_one, setup, teardown),
        cmocka_unit_test_setup_teardown(release_does_not_rewind, setup, teardown),
        cmocka_unit_test_setup_teardown(wraps_after_65535, setup, teardown),
        cmocka_unit_test_setup_teardown(skips_used_ids_when_wrapping, setup, teardown),
        cmocka_unit_test_setup_teardown(exhaustion_returns_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(reserve_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(zeroed_struct_starts_at_one, setup, teardown),
        cmocka_unit_test_setup_teardown(storage_follows_use, setup, teardown),
        cmocka_unit_test_setup_teardown(room_failure_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(acquire_is_a_binary_search, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
