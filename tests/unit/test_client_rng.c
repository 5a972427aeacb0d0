/*
 * test_client_rng.c - randomness and reconnect backoff of the client core (core/client_rng.h):
 * splitmix64, unbiased uniform draws, and the NONE / FULL / DECORRELATED delay sequences with a
 * scripted random source, their bounds over many draws, saturation and reset.
 */
#include "helpers/test_common.h"

#include "core/client_rng.h"

/* A random source that returns a fixed list and fails the test when it runs out. */
typedef struct script {
    const uint64_t *v;
    size_t n, i;
} script;

static uint64_t script_next(void *ctx)
{
    script *s = ctx;
    if (s->i >= s->n) fail_msg("scripted random source exhausted after %zu values", s->n);
    return s->v[s->i++];
}

#define SCRIPT(name, ...)                                                                          \
    static const uint64_t name##_v[] = {__VA_ARGS__};                                              \
    script name = {name##_v, COUNT_OF(name##_v), 0}

static void splitmix_reference_values(void **state)
{
    (void)state;
    client_rng r;
    client_rng_init(&r, NULL, NULL, 0);
    /* splitmix64 seeded with 0 (the reference outputs of the published algorithm) */
    assert_true(client_rng_next(&r) == UINT64_C(0xE220A8397B1DCDAF));
    assert_true(client_rng_next(&r) == UINT64_C(0x6E789E6AA1B965F4));
    assert_true(client_rng_next(&r) == UINT64_C(0x06C45D188009454F));
    /* same seed, same sequence; another seed, another sequence */
    client_rng a, b, c;
    client_rng_init(&a, NULL, NULL, 42);
    client_rng_init(&b, NULL, NULL, 42);
    client_rng_init(&c, NULL, NULL, 43);
    for (int i = 0; i < 100; i++) {
        uint64_t x = client_rng_next(&a);
        assert_true(x == client_rng_next(&b));
        assert_true(x != client_rng_next(&c));
    }
}

static void injected_source_is_used(void **state)
{
    (void)state;
    SCRIPT(s, 7, 8, 9);
    client_rng r;
    client_rng_init(&r, script_next, &s, 12345);
    assert_true(client_rng_next(&r) == 7);
    assert_true(client_rng_next(&r) == 8);
    assert_true(client_rng_next(&r) == 9);
    assert_int_equal(s.i, 3);
}

static void uniform_maps_small_draws_exactly(void **state)
{
    (void)state;
    SCRIPT(s, 0, 1, 2, 3, 10, 0, 41);
    client_rng r;
    client_rng_init(&r, script_next, &s, 0);
    assert_true(client_rng_uniform(&r, 10, 12) == 10);
    assert_true(client_rng_uniform(&r, 10, 12) == 11);
    assert_true(client_rng_uniform(&r, 10, 12) == 12);
    assert_true(client_rng_uniform(&r, 10, 12) == 10); /* 3 % 3 */
    assert_true(client_rng_uniform(&r, 10, 12) == 11); /* 10 % 3 */
    assert_true(client_rng_uniform(&r, 0, UINT64_MAX) == 0);
    assert_true(client_rng_uniform(&r, 0, UINT64_MAX) == 41); /* whole range: the raw draw */
    assert_int_equal(s.i, s.n);
}

static void uniform_degenerate_ranges_do_not_draw(void **state)
{
    (void)state;
    script s = {NULL, 0, 0}; /* any draw fails the test */
    client_rng r;
    client_rng_init(&r, script_next, &s, 0);
    assert_true(client_rng_uniform(&r, 5, 5) == 5);
    assert_true(client_rng_uniform(&r, 9, 3) == 9); /* lo > hi returns lo */
    assert_true(client_rng_uniform(&r, UINT64_MAX, UINT64_MAX) == UINT64_MAX);
}

static void uniform_rejects_the_biased_tail(void **state)
{
    (void)state;
    /* size 3: 2^64 mod 3 = 1, so only UINT64_MAX is rejected */
    SCRIPT(a, UINT64_MAX, UINT64_MAX - 1);
    client_rng r;
    client_rng_init(&r, script_next, &a, 0);
    assert_true(client_rng_uniform(&r, 0, 2) == (UINT64_MAX - 1) % 3);
    assert_int_equal(a.i, 2);

    /* size 2^63 + 1: 2^64 mod size = 2^63 - 1, draws above 2^63 are rejected. With modulo
     * reduction alone, 0 .. 2^63-2 would be twice as likely as the rest. */
    uint64_t size = (UINT64_C(1) << 63) + 1;
    SCRIPT(b, (UINT64_C(1) << 63) + 1, UINT64_MAX, UINT64_C(1) << 63, 5);
    client_rng_init(&r, script_next, &b, 0);
    assert_true(client_rng_uniform(&r, 0, size - 1) == UINT64_C(1) << 63);
    assert_int_equal(b.i, 3);
    assert_true(client_rng_uniform(&r, 100, 100 + size - 1) == 105);
}

static void uniform_terminates_with_a_stuck_source(void **state)
{
    (void)state;
    uint64_t v[64];
    for (size_t i = 0; i < COUNT_OF(v); i++)
        v[i] = UINT64_MAX;
    script s = {v, COUNT_OF(v), 0};
    client_rng r;
    client_rng_init(&r, script_next, &s, 0);
    /* 64 rejections in a row: the last draw is used (UINT64_MAX % 3 == 0) */
    assert_true(client_rng_uniform(&r, 7, 9) == 7);
    assert_int_equal(s.i, 64);
}

static void uniform_is_unbiased_smoke(void **state)
{
    (void)state;
    client_rng r;
    client_rng_init(&r, NULL, NULL, 2024);
    enum { BUCKETS = 6, DRAWS = 60000 };
    unsigned counts[BUCKETS] = {0};
    for (int i = 0; i < DRAWS; i++) {
        uint64_t x = client_rng_uniform(&r, 100, 100 + BUCKETS - 1);
        assert_true(x >= 100 && x < 100 + BUCKETS);
        counts[x - 100]++;
    }
    /* expected 10000 each; 5 sigma is about 456 */
    for (int b = 0; b < BUCKETS; b++) {
        if (counts[b] < 9500 || counts[b] > 10500)
            fail_msg("bucket %d got %u of %d draws", b, counts[b], DRAWS);
    }
    /* a range that is not a power of two and far from one */
    unsigned halves[2] = {0};
    uint64_t size = UINT64_MAX / 3 * 2; /* modulo alone would favour the lower half 2:1 */
    for (int i = 0; i < 20000; i++)
        halves[client_rng_uniform(&r, 0, size - 1) >= size / 2]++;
    if (halves[0] < 9500 || halves[0] > 10500)
        fail_msg("lower half got %u of 20000 draws", halves[0]);
}

static void backoff_none_doubles_then_caps(void **state)
{
    (void)state;
    script s = {NULL, 0, 0}; /* NONE never draws */
    client_rng r;
    client_rng_init(&r, script_next, &s, 0);
    client_backoff b;
    client_backoff_init(&b, MQTT5_JITTER_NONE, 1000, 120000);
    const uint64_t want[] = {1000, 2000, 4000, 8000, 16000, 32000, 64000, 120000, 120000, 120000};
    for (size_t i = 0; i < COUNT_OF(want); i++) {
        assert_int_equal(b.attempt, i);
        assert_true(client_backoff_next(&b, &r) == want[i]);
    }
    assert_int_equal(b.attempt, COUNT_OF(want));
}

static void backoff_full_exact_sequence(void **state)
{
    (void)state;
    /* n=0: [1000,1000] (no draw); n=1: [1000,2000]; n=2: [1000,4000]; n=3: [1000,8000] ... */
    SCRIPT(s, 500, 3000, 0, 7000, 118999, 1001);
    client_rng r;
    client_rng_init(&r, script_next, &s, 0);
    client_backoff b;
    client_backoff_init(&b, MQTT5_JITTER_FULL, 1000, 120000);
    assert_true(client_backoff_next(&b, &r) == 1000); /* the first retry is exactly min */
    assert_int_equal(s.i, 0);
    assert_true(client_backoff_next(&b, &r) == 1500);
    assert_true(client_backoff_next(&b, &r) == 4000);
    assert_true(client_backoff_next(&b, &r) == 1000);
    assert_true(client_backoff_next(&b, &r) == 8000);
    /* n=5: [1000, 32000] size 31001: 118999 % 31001 = 25996 */
    assert_true(client_backoff_next(&b, &r) == 1000 + 118999 % 31001);
    /* n=6: [1000, 64000] size 63001 */
    assert_true(client_backoff_next(&b, &r) == 1000 + 1001);
    assert_int_equal(s.i, s.n);
}

static void backoff_decorrelated_exact_sequence(void **state)
{
    (void)state;
    /* prev=1000: [1000,3000]; 2500: [1000,7500]; 7500: [1000,22500]; 22500: [1000,67500];
     * 60000: [1000,180000] -> above max, capped to 120000; 120000: [1000,360000] */
    SCRIPT(s, 1500, 6500, 21500, 59000, 170000, 0);
    client_rng r;
    client_rng_init(&r, script_next, &s, 0);
    client_backoff b;
    client_backoff_init(&b, MQTT5_JITTER_DECORRELATED, 1000, 120000);
    assert_true(b.prev_ms == 1000);
    assert_true(client_backoff_next(&b, &r) == 2500);
    assert_true(client_backoff_next(&b, &r) == 7500);
    assert_true(client_backoff_next(&b, &r) == 22500);
    assert_true(client_backoff_next(&b, &r) == 60000);
    assert_true(client_backoff_next(&b, &r) == 120000);
    assert_true(b.prev_ms == 120000);
    assert_true(client_backoff_next(&b, &r) == 1000); /* can fall back to min */
    assert_true(b.prev_ms == 1000);
    assert_int_equal(s.i, s.n);
}

/* The largest value a delay may take at this attempt. */
static uint64_t expected_ceiling(uint64_t min, uint64_t max, uint32_t n)
{
    uint64_t e = min;
    for (uint32_t i = 0; i < n && e < max; i++)
        e *= 2;
    return e < max ? e : max;
}

static void backoff_bounds_over_many_draws(void **state)
{
    (void)state;
    const mqtt5_jitter modes[] = {MQTT5_JITTER_NONE, MQTT5_JITTER_FULL, MQTT5_JITTER_DECORRELATED};
    for (size_t m = 0; m < COUNT_OF(modes); m++) {
        client_rng r;
        client_rng_init(&r, NULL, NULL, 77 + m);
        client_backoff b;
        client_backoff_init(&b, modes[m], 1000, 120000);
        bool saw_low = false, saw_high = false, saw_between = false;
        for (int i = 0; i < 10000; i++) {
            if (i % 25 == 0) client_backoff_reset(&b);
            uint32_t n = b.attempt;
            uint64_t prev = b.prev_ms;
            uint64_t e = expected_ceiling(1000, 120000, n);
            assert_true(client_backoff_ceiling(&b) == e);
            uint64_t d = client_backoff_next(&b, &r);
            assert_true(d >= 1000 && d <= 120000);
            switch (modes[m]) {
            case MQTT5_JITTER_NONE:
                assert_true(d == e);
                break;
            case MQTT5_JITTER_FULL:
                assert_true(d <= e);
                break;
            case MQTT5_JITTER_DECORRELATED:
                assert_true(d <= 3 * prev);
                break;
            }
            saw_low |= d < 1100;
            saw_high |= d > 110000;
            saw_between |= d > 1000 && d < 120000;
        }
        /* the whole range is used */
        assert_true(saw_low && saw_high && saw_between);
    }
}

static void backoff_saturates(void **state)
{
    (void)state;
    client_rng r;
    client_rng_init(&r, NULL, NULL, 1);
    client_backoff b;
    /* min 1, max UINT32_MAX: 2^31 at n = 31, then the cap */
    client_backoff_init(&b, MQTT5_JITTER_NONE, 1, UINT32_MAX);
    b.attempt = 31;
    assert_true(client_backoff_next(&b, &r) == UINT64_C(1) << 31);
    assert_true(client_backoff_next(&b, &r) == UINT32_MAX);
    const uint32_t big[] = {62, 63, 64, 65, 1000, UINT32_MAX - 1};
    for (size_t i = 0; i < COUNT_OF(big); i++) {
        b.attempt = big[i];
        assert_true(client_backoff_ceiling(&b) == UINT32_MAX);
        assert_true(client_backoff_next(&b, &r) == UINT32_MAX);
    }
    /* attempt saturates instead of wrapping to 0 */
    assert_true(b.attempt == UINT32_MAX);
    assert_true(client_backoff_next(&b, &r) == UINT32_MAX);
    assert_true(b.attempt == UINT32_MAX);

    /* min = max = UINT32_MAX, every mode, every attempt */
    const mqtt5_jitter modes[] = {MQTT5_JITTER_NONE, MQTT5_JITTER_FULL, MQTT5_JITTER_DECORRELATED};
    for (size_t m = 0; m < COUNT_OF(modes); m++) {
        client_backoff_init(&b, modes[m], UINT32_MAX, UINT32_MAX);
        for (int i = 0; i < 70; i++)
            assert_true(client_backoff_next(&b, &r) == UINT32_MAX);
        b.attempt = 63;
        assert_true(client_backoff_next(&b, &r) == UINT32_MAX);
    }
    /* FULL at n = 63 with a large gap: still inside [min, max] */
    client_backoff_init(&b, MQTT5_JITTER_FULL, 1000, 120000);
    b.attempt = 63;
    for (int i = 0; i < 100; i++) {
        uint64_t d = client_backoff_next(&b, &r);
        assert_true(d >= 1000 && d <= 120000);
    }
}

static void backoff_min_above_max(void **state)
{
    (void)state;
    script s = {NULL, 0, 0}; /* [min, min] ranges never draw */
    client_rng r;
    client_rng_init(&r, script_next, &s, 0);
    const mqtt5_jitter modes[] = {MQTT5_JITTER_NONE, MQTT5_JITTER_FULL};
    for (size_t m = 0; m < COUNT_OF(modes); m++) {
        client_backoff b;
        client_backoff_init(&b, modes[m], 5000, 1000);
        for (int i = 0; i < 10; i++)
            assert_true(client_backoff_next(&b, &r) == 5000);
    }
    SCRIPT(d, 12345, 0);
    client_rng_init(&r, script_next, &d, 0);
    client_backoff b;
    client_backoff_init(&b, MQTT5_JITTER_DECORRELATED, 5000, 1000);
    assert_true(client_backoff_next(&b, &r) == 5000); /* capped to max = min */
    assert_true(client_backoff_next(&b, &r) == 5000);
}

static void backoff_zero_min(void **state)
{
    (void)state;
    client_rng r;
    client_rng_init(&r, NULL, NULL, 9);
    client_backoff b;
    client_backoff_init(&b, MQTT5_JITTER_NONE, 0, 0);
    for (int i = 0; i < 70; i++)
        assert_true(client_backoff_next(&b, &r) == 0);
    client_backoff_init(&b, MQTT5_JITTER_FULL, 0, 100);
    for (int i = 0; i < 70; i++)
        assert_true(client_backoff_next(&b, &r) == 0); /* E(n) = 0 * 2^n */
    client_backoff_init(&b, MQTT5_JITTER_DECORRELATED, 0, 100);
    for (int i = 0; i < 70; i++)
        assert_true(client_backoff_next(&b, &r) == 0); /* [0, 3 * 0] */
}

static void backoff_reset(void **state)
{
    (void)state;
    client_rng r;
    client_rng_init(&r, NULL, NULL, 5);
    client_backoff b;
    client_backoff_init(&b, MQTT5_JITTER_NONE, 1000, 120000);
    for (int i = 0; i < 5; i++)
        client_backoff_next(&b, &r);
    assert_true(client_backoff_next(&b, &r) == 32000);
    client_backoff_reset(&b);
    assert_int_equal(b.attempt, 0);
    assert_true(b.prev_ms == 1000);
    assert_true(client_backoff_next(&b, &r) == 1000);
    assert_true(client_backoff_next(&b, &r) == 2000);

    SCRIPT(s, 1999, 0);
    client_rng_init(&r, script_next, &s, 0);
    client_backoff_init(&b, MQTT5_JITTER_DECORRELATED, 1000, 120000);
    assert_true(client_backoff_next(&b, &r) == 2999);
    assert_true(b.prev_ms == 2999);
    client_backoff_reset(&b);
    assert_true(b.prev_ms == 1000);
    assert_int_equal(b.attempt, 0);
    /* after the reset the range is [1000, 3000] again: 0 -> 1000 */
    assert_true(client_backoff_next(&b, &r) == 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(splitmix_reference_values),
        cmocka_unit_test(injected_source_is_used),
        cmocka_unit_test(uniform_maps_small_draws_exactly),
        cmocka_unit_test(uniform_degenerate_ranges_do_not_draw),
        cmocka_unit_test(uniform_rejects_the_biased_tail),
        cmocka_unit_test(uniform_terminates_with_a_stuck_source),
        cmocka_unit_test(uniform_is_unbiased_smoke),
        cmocka_unit_test(backoff_none_doubles_then_caps),
        cmocka_unit_test(backoff_full_exact_sequence),
        cmocka_unit_test(backoff_decorrelated_exact_sequence),
        cmocka_unit_test(backoff_bounds_over_many_draws),
        cmocka_unit_test(backoff_saturates),
        cmocka_unit_test(backoff_min_above_max),
        cmocka_unit_test(backoff_zero_min),
        cmocka_unit_test(backoff_reset),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
