/*
 * test_client_token_bucket.c - the fixed-point token bucket used for AWS IoT Core pacing
 * (core/client_token_bucket.h): the 100 PUBLISH/s burst and refill, 1 MiB charged against
 * 512 KiB/s, exact integer readiness times, debt, clamping and overflow safety.
 */
#include "helpers/test_common.h"

#include "core/client_token_bucket.h"

static void publishes_100_then_one_per_10ms(void **state)
{
    (void)state;
    client_token_bucket b;
    client_token_bucket_init(&b, 100, 100, 0);
    for (int i = 0; i < 100; i++) {
        assert_true(client_token_bucket_ready(&b, 0));
        client_token_bucket_take(&b, 1, 0);
    }
    assert_false(client_token_bucket_ready(&b, 0));
    assert_true(client_token_bucket_ready_at(&b, 0) == 10);
    assert_true(client_token_bucket_ready_at(&b, 3) == 10);
    assert_false(client_token_bucket_ready(&b, 9));
    assert_true(client_token_bucket_ready(&b, 10));
    client_token_bucket_take(&b, 1, 10);

    /* the remaining 49 of 150 publishes: exactly 10 ms apart */
    uint64_t now = 10;
    for (int i = 0; i < 49; i++) {
        uint64_t t = client_token_bucket_ready_at(&b, now);
        assert_true(t == now + 10);
        assert_false(client_token_bucket_ready(&b, t - 1));
        assert_true(client_token_bucket_ready(&b, t));
        client_token_bucket_take(&b, 1, t);
        now = t;
    }
    assert_true(now == 500);
}

static void refill_is_capped(void **state)
{
    (void)state;
    client_token_bucket b;
    client_token_bucket_init(&b, 100, 100, 1000);
    for (int i = 0; i < 100; i++)
        client_token_bucket_take(&b, 1, 1000);
    /* an hour idle refills only to capacity: again exactly 100 pass */
    uint64_t t = 1000 + 3600u * 1000u;
    for (int i = 0; i < 100; i++) {
        assert_true(client_token_bucket_ready(&b, t));
        client_token_bucket_take(&b, 1, t);
    }
    assert_false(client_token_bucket_ready(&b, t));
    assert_true(client_token_bucket_ready_at(&b, t) == t + 10);
}

static void partial_tokens_are_not_enough(void **state)
{
    (void)state;
    client_token_bucket b;
    client_token_bucket_init(&b, 100, 100, 0);
    client_token_bucket_take(&b, 100, 0);
    assert_false(client_token_bucket_ready(&b, 5)); /* half a token */
    client_token_bucket_take(&b, 0, 5);             /* queries do not refill; taking 0 does */
    assert_true(b.tokens_milli == 500);
    assert_true(client_token_bucket_ready_at(&b, 5) == 10);
    assert_true(client_token_bucket_ready(&b, 10));
    client_token_bucket_take(&b, 1, 10);
    assert_true(client_token_bucket_ready_at(&b, 10) == 20);

    /* a rate that does not divide 1000: 3 tokens/s, one token after ceil(1000 / 3) ms */
    client_token_bucket_init(&b, 3, 1, 0);
    client_token_bucket_take(&b, 1, 0);
    assert_true(client_token_bucket_ready_at(&b, 0) == 334);
    assert_false(client_token_bucket_ready(&b, 333));
    assert_true(client_token_bucket_ready(&b, 334));
}

static void one_mib_at_512_kib_per_s(void **state)
{
    (void)state;
    const uint64_t rate = 512u * 1024u;
    client_token_bucket b;
    client_token_bucket_init(&b, rate, rate, 0);
    assert_true(client_token_bucket_ready(&b, 0));
    client_token_bucket_take(&b, 1024u * 1024u, 0); /* bigger than the bucket: goes into debt */
    assert_true(b.tokens_milli == -(int64_t)rate * 1000);
    assert_false(client_token_bucket_ready(&b, 0));
    /* the debt of 524288 tokens is repaid at t = 1000 ms exactly; one whole token more needs
     * 1000 / 524288 ms more, so the earliest whole millisecond is 1001 */
    assert_true(client_token_bucket_ready_at(&b, 0) == 1001);
    assert_false(client_token_bucket_ready(&b, 500));
    client_token_bucket_take(&b, 0, 500);
    assert_true(b.tokens_milli == -(int64_t)rate * 500);
    assert_false(client_token_bucket_ready(&b, 1000));
    client_token_bucket_take(&b, 0, 1000);
    assert_true(b.tokens_milli == 0);
    assert_true(client_token_bucket_ready(&b, 1001));
    client_token_bucket_take(&b, 0, 1001);
    assert_true(b.tokens_milli == (int64_t)rate);
    /* paced stream of 1 MiB in 4 KiB writes: the last write goes out at about 1 s */
    client_token_bucket_init(&b, rate, rate, 0);
    uint64_t now = 0;
    for (int i = 0; i < 256; i++) {
        now = client_token_bucket_ready_at(&b, now);
        client_token_bucket_take(&b, 4096, now);
    }
    assert_true(now >= 990 && now <= 1001);
}

static void no_overflow_over_long_idle(void **state)
{
    (void)state;
    const uint64_t idle = UINT64_C(1) << 40;
    client_token_bucket b;
    client_token_bucket_init(&b, 524288, 524288, 0);
    client_token_bucket_take(&b, 1024u * 1024u, 0);
    assert_true(client_token_bucket_ready(&b, idle));
    client_token_bucket_take(&b, 0, idle);
    assert_true(b.tokens_milli == 524288 * 1000); /* full, not wrapped */
    assert_true(b.last_ms == idle);
    assert_true(client_token_bucket_ready(&b, 2 * idle));
    client_token_bucket_take(&b, 0, 2 * idle);
    assert_true(b.tokens_milli == 524288 * 1000);

    /* near the end of time */
    client_token_bucket_init(&b, 100, 100, UINT64_MAX - 5);
    client_token_bucket_take(&b, 101, UINT64_MAX - 5);
    assert_true(client_token_bucket_ready_at(&b, UINT64_MAX - 5) == UINT64_MAX); /* saturates */
    assert_false(client_token_bucket_ready(&b, UINT64_MAX - 1));

    /* absurd parameters are clamped instead of overflowing */
    client_token_bucket_init(&b, UINT64_MAX, UINT64_MAX, 0);
    assert_true(client_token_bucket_ready(&b, 0));
    client_token_bucket_take(&b, UINT64_MAX, 0);
    client_token_bucket_take(&b, UINT64_MAX, 0); /* debt saturates */
    assert_true(b.tokens_milli < 0);
    uint64_t t = client_token_bucket_ready_at(&b, 0);
    assert_true(t > 0 && t < UINT64_MAX);
    assert_false(client_token_bucket_ready(&b, t - 1));
    assert_true(client_token_bucket_ready(&b, t));
    assert_true(client_token_bucket_ready(&b, t + idle));
}

static void clock_going_back_adds_nothing(void **state)
{
    (void)state;
    client_token_bucket b;
    client_token_bucket_init(&b, 100, 100, 1000);
    client_token_bucket_take(&b, 100, 1000);
    assert_false(client_token_bucket_ready(&b, 500));
    assert_true(b.last_ms == 1000);
    assert_true(client_token_bucket_ready_at(&b, 500) == 1010); /* from the latest time seen */
    assert_true(client_token_bucket_ready(&b, 1010));
}

static void zero_rate_means_unlimited(void **state)
{
    (void)state;
    client_token_bucket b;
    client_token_bucket_init(&b, 0, 100, 0);
    for (int i = 0; i < 1000; i++)
        client_token_bucket_take(&b, 1000000, 0);
    assert_true(client_token_bucket_ready(&b, 0));
    assert_true(client_token_bucket_ready_at(&b, 7) == 7);
}

static void zero_capacity_holds_one_token(void **state)
{
    (void)state;
    client_token_bucket b;
    client_token_bucket_init(&b, 10, 0, 0);
    assert_true(b.capacity == 1);
    assert_true(client_token_bucket_ready(&b, 0));
    client_token_bucket_take(&b, 1, 0);
    assert_true(client_token_bucket_ready_at(&b, 0) == 100);
    assert_true(client_token_bucket_ready(&b, 100000));
    client_token_bucket_take(&b, 1, 100000);
    assert_false(client_token_bucket_ready(&b, 100000)); /* never more than one token */
}

static void fill_restores_the_burst(void **state)
{
    (void)state;
    client_token_bucket b;
    client_token_bucket_init(&b, 100, 100, 0);
    client_token_bucket_take(&b, 500, 0);
    client_token_bucket_fill(&b, 20); /* e.g. a new CONNACK */
    for (int i = 0; i < 100; i++) {
        assert_true(client_token_bucket_ready(&b, 20));
        client_token_bucket_take(&b, 1, 20);
    }
    assert_false(client_token_bucket_ready(&b, 20));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(publishes_100_then_one_per_10ms),
        cmocka_unit_test(refill_is_capped),
        cmocka_unit_test(partial_tokens_are_not_enough),
        cmocka_unit_test(one_mib_at_512_kib_per_s),
        cmocka_unit_test(no_overflow_over_long_idle),
        cmocka_unit_test(clock_going_back_adds_nothing),
        cmocka_unit_test(zero_rate_means_unlimited),
        cmocka_unit_test(zero_capacity_holds_one_token),
        cmocka_unit_test(fill_restores_the_burst),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
