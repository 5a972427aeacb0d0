/*
 * test_loop_timer.c - the loop's shared timers (runtime/loop_timer.c).
 *
 * The pairing heap against a brute-force model: 200,000 random inserts, moves, removals and
 * pops over 300 timers (ties included) - after every step the earliest due time matches the
 * model's, and every pop returns a timer the model says is due, earliest first. Then the
 * timers on a real libuv loop: they fire in due order at about their time, a timer moved or
 * disarmed does not fire at its old time, and a timer armed again for "now" from inside its own
 * firing fires once per loop iteration (I/O between), not in a tight loop.
 */
#define _POSIX_C_SOURCE 200809L
#include "helpers/test_common.h"

#include <string.h>
#include <uv.h>

#include "runtime/loop.h"
#include "runtime/loop_timer.h"

#define N 300

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* the model: armed[i], due[i] */
static bool armed[N];
static uint64_t due_of[N];

static uint64_t model_min(void)
{
    uint64_t m = UINT64_MAX;
    for (int i = 0; i < N; i++)
        if (armed[i] && due_of[i] < m) m = due_of[i];
    return m;
}

static void test_heap_matches_model(void **state)
{
    (void)state;
    static mqtt5_loop_timer t[N];
    mqtt5_loop_timers h = {0};
    memset(armed, 0, sizeof armed);
    for (int i = 0; i < N; i++)
        mqtt5_loop_timer_init(&t[i]);
    uint64_t now = 0;
    long pops = 0;
    for (long step = 0; step < 200000; step++) {
        int i = (int)(rnd() % N);
        unsigned op = (unsigned)(rnd() % 10);
        if (op < 4) { /* arm or move: small range, so ties are common */
            if (armed[i]) mqtt5_loop_timers_remove(&h, &t[i]);
            t[i].due = now + rnd() % 64;
            mqtt5_loop_timers_insert(&h, &t[i]);
            armed[i] = true;
            due_of[i] = t[i].due;
        } else if (op < 6) { /* disarm */
            assert_int_equal(mqtt5_loop_timers_contains(&h, &t[i]), armed[i]);
            if (armed[i]) mqtt5_loop_timers_remove(&h, &t[i]);
            armed[i] = false;
            assert_false(mqtt5_loop_timers_contains(&h, &t[i]));
        } else { /* time passes; pop what is due */
            now += rnd() % 8;
            uint64_t last = 0;
            mqtt5_loop_timer *p;
            while ((p = mqtt5_loop_timers_pop_due(&h, now))) {
                int k = (int)(p - t);
                assert_true(k >= 0 && k < N);
                assert_true(armed[k]);
                assert_true(p->due <= now);
                assert_true(p->due >= last); /* earliest first */
                assert_int_equal(p->due, model_min());
                last = p->due;
                armed[k] = false;
                pops++;
            }
            assert_true(model_min() > now);
        }
        uint64_t m = model_min();
        if (m == UINT64_MAX)
            assert_null(h.root);
        else
            assert_int_equal(h.root->due, m);
    }
    assert_true(pops > 10000);
}

/* ---- on a real loop ------------------------------------------------------------------------ */

static struct {
    mqtt5_loop *loop;
    int order[8], n;
    uint64_t at[8];
    int refires;
    int idle_count;
} rt;

typedef struct tagged {
    mqtt5_loop_timer t;
    int tag;
} tagged;

static void record_fire(mqtt5_loop_timer *t)
{
    tagged *x = (tagged *)t;
    rt.at[rt.n] = uv_now(&rt.loop->uv);
    rt.order[rt.n++] = x->tag;
}

static void refire_now(mqtt5_loop_timer *t)
{
    if (++rt.refires < 5) mqtt5_loop_timer_arm(rt.loop, t, uv_now(&rt.loop->uv)); /* "now" */
}

static void on_check(uv_check_t *c)
{
    (void)c;
    rt.idle_count++;
}

static void stop_loop_handles(mqtt5_loop *loop)
{
    uv_close((uv_handle_t *)&loop->timers_uv, NULL);
    uv_run(&loop->uv, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop->uv), 0);
}

static void test_timers_on_a_loop(void **state)
{
    (void)state;
    static mqtt5_loop loop;
    memset(&loop, 0, sizeof loop);
    memset(&rt, 0, sizeof rt);
    rt.loop = &loop;
    assert_int_equal(uv_loop_init(&loop.uv), 0);
    uv_timer_init(&loop.uv, &loop.timers_uv);
    loop.timers_uv.data = &loop;
    loop.timers_uv_due = UINT64_MAX;

    tagged a = {.tag = 1}, b = {.tag = 2}, c = {.tag = 3}, d = {.tag = 4};
    loop.timers.fire = record_fire;
    mqtt5_loop_timer_init(&a.t);
    mqtt5_loop_timer_init(&b.t);
    mqtt5_loop_timer_init(&c.t);
    mqtt5_loop_timer_init(&d.t);
    uint64_t t0 = uv_now(&loop.uv);
    mqtt5_loop_timer_arm(&loop, &a.t, t0 + 60);
    mqtt5_loop_timer_arm(&loop, &b.t, t0 + 20);
    mqtt5_loop_timer_arm(&loop, &c.t, t0 + 10);
    mqtt5_loop_timer_arm(&loop, &d.t, t0 + 30);
    mqtt5_loop_timer_arm(&loop, &c.t, t0 + 40); /* moved later: must not fire at +10 */
    mqtt5_loop_timer_disarm(&loop, &d.t);       /* never fires */
    mqtt5_loop_timer_disarm(&loop, &d.t);       /* twice is fine */
    uv_run(&loop.uv, UV_RUN_DEFAULT);           /* returns when nothing is armed */
    assert_int_equal(rt.n, 3);
    assert_int_equal(rt.order[0], 2);
    assert_int_equal(rt.order[1], 3);
    assert_int_equal(rt.order[2], 1);
    assert_true(rt.at[0] >= t0 + 20);
    assert_true(rt.at[1] >= t0 + 40);
    assert_true(rt.at[2] >= t0 + 60);
    assert_null(loop.timers.root);

    /* re-armed for now from inside its firing: one firing per iteration, a check handle (run
     * once per iteration) counts iterations in between */
    uv_check_t check;
    uv_check_init(&loop.uv, &check);
    uv_check_start(&check, on_check);
    uv_unref((uv_handle_t *)&check);
    tagged r = {.tag = 5};
    loop.timers.fire = refire_now;
    mqtt5_loop_timer_init(&r.t);
    mqtt5_loop_timer_arm(&loop, &r.t, uv_now(&loop.uv));
    uv_run(&loop.uv, UV_RUN_DEFAULT);
    assert_int_equal(rt.refires, 5);
    assert_true(rt.idle_count >= 4); /* the loop iterated between firings */
    uv_close((uv_handle_t *)&check, NULL);
    stop_loop_handles(&loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_matches_model),
        cmocka_unit_test(test_timers_on_a_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
