/*
 * test_client_reconnect.c - reconnect backoff of the client core (client_core.h mqtt5_jitter,
 * design section 4) with scripted randomness: exact delays for NONE, FULL and DECORRELATED,
 * the 120 s cap, the reset after 30 s connected, and stop during backoff. A delay is the time
 * from a CONNECTION_FAILURE/DISCONNECTION to the next ATTEMPTING_CONNECT.
 *
 * uniform(x, lo, hi) below is the mapping the tests assume for "uniform ... by rejection
 * sampling": lo + x % (hi - lo + 1), rejecting x in the incomplete top block.
 */
#include "helpers/test_common.h"
#include "helpers/scripted_broker.h"

static sb *new_failing_client(mqtt5_jitter jitter)
{
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.jitter = jitter;
    sb *b = sb_new(&o);
    sb_on_open(b, SB_FAIL(MQTT5_ERR_IO));
    return b;
}

/* Delays between each failure and the next attempt; every attempt fails at once here. */
static size_t delays(sb *b, uint64_t *out, size_t cap)
{
    uint64_t att[512], fail[512];
    size_t na = sb_event_times(b, MQTT5_LC_ATTEMPTING_CONNECT, att, COUNT_OF(att));
    size_t nf = sb_event_times(b, MQTT5_LC_CONNECTION_FAILURE, fail, COUNT_OF(fail));
    if (na > COUNT_OF(att)) na = COUNT_OF(att);
    if (nf > COUNT_OF(fail)) nf = COUNT_OF(fail);
    size_t n = 0;
    for (size_t i = 0; i + 1 < na && i < nf && n < cap; i++)
        out[n++] = att[i + 1] - fail[i];
    return n;
}

static void assert_delays(sb *b, const uint64_t *want, size_t n)
{
    uint64_t got[64];
    size_t have = delays(b, got, 64);
    if (have < n) {
        sb_dump(b);
        fail_msg("only %zu delays measured, want %zu", have, n);
    }
    for (size_t i = 0; i < n; i++) {
        if (got[i] != want[i]) {
            sb_dump(b);
            fail_msg("delay %zu (n = %zu) is %llu ms, want %llu", i, i, (unsigned long long)got[i],
                     (unsigned long long)want[i]);
        }
    }
}

static void none_doubles_up_to_the_cap(void **state)
{
    (void)state;
    sb *b = new_failing_client(MQTT5_JITTER_NONE);
    sb_start(b);
    sb_run_until(b, 2000000);
    static const uint64_t want[] = {1000,  2000,  4000,   8000,   16000,
                                    32000, 64000, 120000, 120000, 120000};
    assert_delays(b, want, COUNT_OF(want));
    sb_stop(b, NULL);
    sb_free(b);
}

static void none_respects_configured_min_and_max(void **state)
{
    (void)state;
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.jitter = MQTT5_JITTER_NONE;
    o.reconnect_min_ms = 300;
    o.reconnect_max_ms = 1000;
    sb *b = sb_new(&o);
    sb_on_open(b, SB_FAIL(MQTT5_ERR_IO));
    sb_start(b);
    sb_run_until(b, 10000);
    static const uint64_t want[] = {300, 600, 1000, 1000, 1000};
    assert_delays(b, want, COUNT_OF(want));
    sb_free(b);
}

/* Header: FULL is uniform in [min, min(max, min * 2^n)]. One repeated random value: the result
 * does not depend on how many values the core draws. 5000 % 1001 = 996, 5000 % 3001 = 1999,
 * 5000 % 7001 = 5000 (and every larger range). */
static void full_with_one_repeated_value(void **state)
{
    (void)state;
    sb *b = new_failing_client(MQTT5_JITTER_FULL);
    static const uint64_t x[] = {5000};
    sb_random(b, x, 1);
    sb_start(b);
    sb_run_until(b, 100000);
    static const uint64_t want[] = {1000, 1996, 2999, 6000, 6000, 6000, 6000, 6000, 6000};
    assert_delays(b, want, COUNT_OF(want));
    sb_free(b);
}

/* Scripted from the second retry on (n = 0 has a one-value range, drawn or not). */
static void full_scripted_sequence_and_cap(void **state)
{
    (void)state;
    sb *b = new_failing_client(MQTT5_JITTER_FULL);
    sb_start(b);
    sb_run_until(b, 999);
    static const uint64_t x[] = {
        1000,          /* n=1 [1000, 2000]: top            -> 2000 */
        0,             /* n=2 [1000, 4000]: bottom         -> 1000 */
        3500,          /* n=3 [1000, 8000]                 -> 4500 */
        15000,         /* n=4 [1000, 16000]: top           -> 16000 */
        31001 * 3 + 7, /* n=5 [1000, 32000]: wraps         -> 1007 */
        62999,         /* n=6 [1000, 64000]                -> 63999 */
        118999,        /* n=7 [1000, 120000] (capped)      -> 119999 */
        119000,        /* n=8 [1000, 120000]: top = max    -> 120000 */
    };
    sb_random(b, x, COUNT_OF(x));
    sb_run_until(b, 1000000);
    static const uint64_t want[] = {1000, 2000, 1000, 4500, 16000, 1007, 63999, 119999, 120000};
    assert_delays(b, want, COUNT_OF(want));
    sb_free(b);
}

/* Rejection sampling: 2^64 % 1001 = 16, so UINT64_MAX lies in the incomplete top block of the
 * n=1 range [1000, 2000] and must be redrawn rather than folded (no modulo bias). */
static void full_redraws_biased_values(void **state)
{
    (void)state;
    sb *b = new_failing_client(MQTT5_JITTER_FULL);
    sb_start(b);
    sb_run_until(b, 999);
    static const uint64_t x[] = {UINT64_MAX, 500};
    sb_random(b, x, COUNT_OF(x));
    size_t before = sb_random_draws(b);
    sb_run_until(b, 1000);
    assert_int_equal(sb_random_draws(b) - before, 2);
    sb_run_until(b, 5000);
    static const uint64_t want[] = {1000, 1500};
    assert_delays(b, want, COUNT_OF(want));
    sb_free(b);
}

/* Header: DECORRELATED is min(max, uniform in [min, 3 * previous delay]); previous starts at
 * min. Values at the top of each range, then past the cap, then wrapping. */
static void decorrelated_scripted_sequence(void **state)
{
    (void)state;
    sb *b = new_failing_client(MQTT5_JITTER_DECORRELATED);
    static const uint64_t x[] = {
        2000,   /* [1000, 3000]                   -> 3000 */
        8000,   /* [1000, 9000]                   -> 9000 */
        26000,  /* [1000, 27000]                  -> 27000 */
        80000,  /* [1000, 81000]                  -> 81000 */
        242000, /* [1000, 243000] -> 243000, capped -> 120000 */
        359000, /* [1000, 360000] -> 360000, capped -> 120000 */
        0,      /* [1000, 360000]                 -> 1000 */
        5,      /* [1000, 3000]                   -> 1005 */
    };
    sb_random(b, x, COUNT_OF(x));
    sb_start(b);
    sb_run_until(b, 400000); /* the delays below add up to 362005 */
    static const uint64_t want[] = {3000, 9000, 27000, 81000, 120000, 120000, 1000, 1005};
    assert_delays(b, want, COUNT_OF(want));
    sb_free(b);
}

/* Two failures (n = 0, 1), then a connection that lasts `connected_ms`; the delay after it
 * shows whether the backoff was reset. */
static void backoff_after_connection_of(uint64_t connected_ms, uint64_t want_delay)
{
    sb *b = new_failing_client(MQTT5_JITTER_NONE);
    sb_start(b);
    sb_run_until(b, 2999); /* failures at 0 and 1000, next attempt at 3000 */
    sb_expect_events(b, "ATTEMPTING_CONNECT @0; CONNECTION_FAILURE; ATTEMPTING_CONNECT @1000; "
                        "CONNECTION_FAILURE");
    sb_on_open(b, SB_ACCEPT);
    sb_run_until(b, 3000);
    sb_expect_packet(b, MQTT5_CONNECT);
    sb_connack(b, 0x00, false, NULL);
    sb_expect_events(b, "ATTEMPTING_CONNECT @3000; CONNECTION_SUCCESS @3000");
    sb_run_until(b, 3000 + connected_ms);
    sb_close(b, MQTT5_ERR_IO);
    uint64_t t = 3000 + connected_ms;
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_IO");
    assert_int_equal(sb_last_event(b)->time, t);
    sb_run_until(b, t + want_delay - 1);
    sb_expect_events(b, "");
    sb_run_until(b, t + want_delay);
    sb_expect_events(b, "ATTEMPTING_CONNECT");
    assert_int_equal(sb_last_event(b)->time, t + want_delay);
    sb_free(b);
}

static void backoff_reset_after_30000_connected(void **state)
{
    (void)state;
    backoff_after_connection_of(30000, 1000); /* reset: n = 0 */
}

static void backoff_not_reset_after_29999_connected(void **state)
{
    (void)state;
    backoff_after_connection_of(29999, 4000); /* n = 2 */
}

static void stopped_during_backoff(void **state)
{
    (void)state;
    sb *b = new_failing_client(MQTT5_JITTER_NONE);
    sb_start(b);
    sb_expect_events(b, "ATTEMPTING_CONNECT @0; CONNECTION_FAILURE MQTT5_ERR_IO @0");
    assert_int_equal(mqtt5_client_core_state(sb_core(b)), MQTT5_CS_PENDING_RECONNECT);
    assert_int_equal(sb_wake_at(b), 1000);
    sb_advance(b, 500);
    sb_stop(b, NULL);
    sb_expect_events(b, "STOPPED @500");
    assert_int_equal(mqtt5_client_core_state(sb_core(b)), MQTT5_CS_STOPPED);
    assert_true(sb_wake_at(b) == MQTT5_TIME_NEVER);
    sb_run_until(b, 1000000);
    sb_expect_events(b, "");
    sb_on_open(b, SB_ACCEPT);
    sb_start(b); /* a new start connects at once */
    sb_expect_events(b, "ATTEMPTING_CONNECT @1000000");
    sb_expect_packet(b, MQTT5_CONNECT);
    sb_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(none_doubles_up_to_the_cap),
        cmocka_unit_test(none_respects_configured_min_and_max),
        cmocka_unit_test(full_with_one_repeated_value),
        cmocka_unit_test(full_scripted_sequence_and_cap),
        cmocka_unit_test(full_redraws_biased_values),
        cmocka_unit_test(decorrelated_scripted_sequence),
        cmocka_unit_test(backoff_reset_after_30000_connected),
        cmocka_unit_test(backoff_not_reset_after_29999_connected),
        cmocka_unit_test(stopped_during_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, sb_group_teardown);
}
