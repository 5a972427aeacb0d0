/*
 * test_client_alias.c - topic aliases of the client core (core/client_alias.h): outbound
 * DISABLED / MANUAL / LRU rules, LRU eviction order against a reference model, per-connection
 * reset, inbound bind / lookup / errors, and memory: every allocation failure leaves the bindings
 * unchanged and cleanup releases everything (counting allocator, leaks fail the test).
 */
#include "helpers/test_common.h"
#include "helpers/test_allocator.h"

#include "core/client_alias.h"

typedef struct resolved {
    int rc;
    uint16_t alias;
    bool send_topic;
} resolved;

static resolved out(client_alias_out *a, const char *topic, uint16_t user_alias)
{
    resolved r;
    r.alias = 0xABCD;
    r.send_topic = false;
    r.rc = client_alias_out_resolve(a, (mqtt5_str){topic, strlen(topic)}, user_alias, &r.alias,
                                    &r.send_topic);
    return r;
}

#define assert_out(r, want_rc, want_alias, want_send)                                              \
    do {                                                                                           \
        resolved r_ = (r);                                                                         \
        assert_err(r_.rc, (want_rc));                                                              \
        assert_int_equal(r_.alias, (want_alias));                                                  \
        assert_int_equal(r_.send_topic, (want_send));                                              \
    } while (0)

/* alias only / topic + alias / no alias */
#define ALIAS_ONLY(r, n) assert_out((r), MQTT5_OK, (n), false)
#define BIND(r, n) assert_out((r), MQTT5_OK, (n), true)
#define NO_ALIAS(r) assert_out((r), MQTT5_OK, 0, true)
#define REFUSED(r, err) assert_out((r), (err), 0, true)

/* ---- outbound: DISABLED ---------------------------------------------------------------------- */

static void out_disabled(void **state)
{
    (void)state;
    test_allocator ta;
    test_allocator_init(&ta);
    client_alias_out a;
    client_alias_out_init(&a, test_allocator_get(&ta), MQTT5_ALIAS_OUT_DISABLED, 25);
    NO_ALIAS(out(&a, "sensors/1", 0)); /* before any CONNACK */
    client_alias_out_reset(&a, 65535);
    assert_int_equal(a.usable, 0);
    NO_ALIAS(out(&a, "sensors/1", 0));
    NO_ALIAS(out(&a, "sensors/1", 0));
    REFUSED(out(&a, "sensors/1", 1), MQTT5_ERR_INVALID_ARGUMENT);
    REFUSED(out(&a, "sensors/1", 65535), MQTT5_ERR_INVALID_ARGUMENT);
    assert_int_equal(ta.allocations, 0);
    client_alias_out_cleanup(&a);
    assert_no_leaks(&ta);
}

/* ---- outbound: MANUAL ------------------------------------------------------------------------ */

static void out_manual(void **state)
{
    (void)state;
    test_allocator ta;
    test_allocator_init(&ta);
    client_alias_out a;
    client_alias_out_init(&a, test_allocator_get(&ta), MQTT5_ALIAS_OUT_MANUAL, 5);
    REFUSED(out(&a, "a/b", 1), MQTT5_ERR_NOT_AVAILABLE); /* no CONNACK yet: size 0 */
    client_alias_out_reset(&a, 3);                       /* server allows 3, we cache 5 */
    assert_int_equal(a.usable, 3);
    NO_ALIAS(out(&a, "a/b", 0));
    REFUSED(out(&a, "a/b", 4), MQTT5_ERR_NOT_AVAILABLE);
    BIND(out(&a, "a/b", 1), 1);       /* first use: topic + alias */
    ALIAS_ONLY(out(&a, "a/b", 1), 1); /* bound to this topic: alias only */
    ALIAS_ONLY(out(&a, "a/b", 1), 1);
    BIND(out(&a, "c/d", 1), 1); /* rebinding alias 1 */
    BIND(out(&a, "a/b", 1), 1); /* ... so a/b needs its topic again */
    BIND(out(&a, "a/b", 2), 2); /* the same topic under another alias */
    ALIAS_ONLY(out(&a, "a/b", 2), 2);
    ALIAS_ONLY(out(&a, "a/b", 1), 1);
    BIND(out(&a, "x", 3), 3); /* the user may alias short topics */
    ALIAS_ONLY(out(&a, "x", 3), 3);
    BIND(out(&a, "a/bc", 1), 1); /* prefix of / longer than the bound topic */
    BIND(out(&a, "a/b", 1), 1);
    REFUSED(out(&a, "", 1), MQTT5_ERR_INVALID_ARGUMENT); /* the user always gives the topic */
    ALIAS_ONLY(out(&a, "a/b", 1), 1);                    /* ... and nothing changed */

    /* the usable size is min(cache, server maximum) */
    client_alias_out_reset(&a, 65535);
    assert_int_equal(a.usable, 5);
    BIND(out(&a, "a/b", 5), 5);
    REFUSED(out(&a, "a/b", 6), MQTT5_ERR_NOT_AVAILABLE);
    client_alias_out_reset(&a, 0); /* server allows none */
    REFUSED(out(&a, "a/b", 1), MQTT5_ERR_NOT_AVAILABLE);
    NO_ALIAS(out(&a, "a/b", 0));
    client_alias_out_cleanup(&a);
    assert_no_leaks(&ta);
}

static void out_manual_reset_forgets(void **state)
{
    (void)state;
    test_allocator ta;
    test_allocator_init(&ta);
    client_alias_out a;
    client_alias_out_init(&a, test_allocator_get(&ta), MQTT5_ALIAS_OUT_MANUAL, 10);
    client_alias_out_reset(&a, 10);
    BIND(out(&a, "a/b", 1), 1);
    BIND(out(&a, "c/d", 2), 2);
    assert_int_equal(ta.live_blocks, 3); /* slots + 2 topics */
    client_alias_out_reset(&a, 10);      /* new connection, same size: array kept */
    assert_int_equal(ta.live_blocks, 1);
    BIND(out(&a, "a/b", 1), 1);
    BIND(out(&a, "c/d", 2), 2);
    client_alias_out_reset(&a, 4); /* different size: array released, reallocated on use */
    assert_int_equal(ta.live_blocks, 0);
    BIND(out(&a, "a/b", 1), 1);
    client_alias_out_cleanup(&a);
    assert_no_leaks(&ta);
}

/* ---- outbound: LRU --------------------------------------------------------------------------- */

static void out_lru_rules(void **state)
{
    (void)state;
    test_allocator ta;
    test_allocator_init(&ta);
    client_alias_out a;
    client_alias_out_init(&a, test_allocator_get(&ta), MQTT5_ALIAS_OUT_LRU, 3);
    NO_ALIAS(out(&a, "t/one", 0)); /* no CONNACK yet */
    client_alias_out_reset(&a, 10);
    assert_int_equal(a.usable, 3);
    /* topics of 3 bytes or fewer are never aliased */
    NO_ALIAS(out(&a, "abc", 0));
    NO_ALIAS(out(&a, "a", 0));
    NO_ALIAS(out(&a, "", 0));
    assert_int_equal(ta.allocations, 0);
    BIND(out(&a, "abcd", 0), 1); /* 4 bytes: aliased */
    ALIAS_ONLY(out(&a, "abcd", 0), 1);
    BIND(out(&a, "t/two", 0), 2);
    assert_int_equal(a.count, 2);
    BIND(out(&a, "t/three", 0), 3);
    ALIAS_ONLY(out(&a, "t/two", 0), 2);
    ALIAS_ONLY(out(&a, "abcd", 0), 1);
    /* recency now (most recent first): abcd(1) t/two(2) t/three(3) */
    BIND(out(&a, "t/four", 0), 3); /* evicts t/three, reuses alias 3 */
    /* recency: t/four(3) abcd(1) t/two(2) */
    assert_out(out(&a, "t/three", 0), MQTT5_OK, 2, true); /* evicts t/two */
    ALIAS_ONLY(out(&a, "abcd", 0), 1);
    ALIAS_ONLY(out(&a, "t/four", 0), 3);
    ALIAS_ONLY(out(&a, "t/three", 0), 2);
    /* recency: t/three(2) t/four(3) abcd(1) */
    assert_out(out(&a, "t/two", 0), MQTT5_OK, 1, true); /* evicts abcd */
    assert_out(out(&a, "abcd", 0), MQTT5_OK, 3, true);  /* evicts t/four */
    /* the client picks aliases: a user alias is refused */
    REFUSED(out(&a, "abcd", 1), MQTT5_ERR_INVALID_ARGUMENT);
    ALIAS_ONLY(out(&a, "abcd", 0), 3);       /* unchanged by the refusal */
    assert_int_equal(ta.live_blocks, 1 + 3); /* the table, 3 topics */
    client_alias_out_cleanup(&a);
    assert_no_leaks(&ta);
}

static void out_lru_two_slots(void **state)
{
    (void)state;
    test_allocator ta;
    test_allocator_init(&ta);
    client_alias_out a;
    client_alias_out_init(&a, test_allocator_get(&ta), MQTT5_ALIAS_OUT_LRU, 2);
    client_alias_out_reset(&a, 2);
    assert_out(out(&a, "first", 0), MQTT5_OK, 1, true);
    assert_out(out(&a, "second", 0), MQTT5_OK, 2, true);
    assert_out(out(&a, "third", 0), MQTT5_OK, 1, true);
    client_alias_out_cleanup(&a);
    assert_no_leaks(&ta);
}

static void out_lru_size_limits(void **state)
{
    (void)state;
    test_allocator ta;
    test_allocator_init(&ta);
    client_alias_out a;
    client_alias_out_init(&a, test_allocator_get(&ta), MQTT5_ALIAS_OUT_LRU, 25);
    client_alias_out_reset(&a, 0); /* server sent no Topic Alias Maximum */
    NO_ALIAS(out(&a, "long/topic", 0));
    client_alias_out_reset(&a, 1); /* one alias: every miss replaces it */
    assert_out(out(&a, "long/topic", 0), MQTT5_OK, 1, true);
    ALIAS_ONLY(out(&a, "long/topic", 0), 1);
    assert_out(out(&a, "other/topic", 0), MQTT5_OK, 1, true);
    assert_out(out(&a, "long/topic", 0), MQTT5_OK, 1, true);
    client_alias_out_reset(&a, 65535); /* our cache (25) is the limit */
    assert_int_equal(a.usable, 25);
    client_alias_out_cleanup(&a);
    assert_no_leaks(&ta);
}

static void out_lru_reset_forgets(void **state)
{
    (void)state;
    test_allocator ta;
    test_allocator_init(&ta);
    client_alias_out a;
    client_alias_out_init(&a, test_allocator_get(&ta), MQTT5_ALIAS_OUT_LRU, 4);
    client_alias_out_reset(&a, 4);
    assert_out(out(&a, "aaaa", 0), MQTT5_OK, 1, true);
    assert_out(out(&a, "bbbb", 0), MQTT5_OK, 2, true);
    client_alias_out_reset(&a, 4);
    assert_int_equal(ta.live_blocks, 1);               /* topics released, table kept */
    assert_out(out(&a, "bbbb", 0), MQTT5_OK, 1, true); /* aliases start over */
    assert_out(out(&a, "aaaa", 0), MQTT5_OK, 2, true);
    ALIAS_ONLY(out(&a, "bbbb", 0), 1);
    client_alias_out_reset(&a, 2);
    assert_int_equal(ta.live_blocks, 0);
    assert_out(out(&a, "aaaa", 0), MQTT5_OK, 1, true);
    client_alias_out_cleanup(&a);
    client_alias_out_cleanup(&a); /* twice is harmless */
    assert_no_leaks(&ta);
}

/* Reference LRU: order[0] is the most recent; aliases[i] the alias of order[i]. */
typedef struct lru_model {
    int order[1024];
    uint16_t aliases[1024];
    int count, cap;
} lru_model;

static resolved model_resolve(lru_model *m, int topic)
{
    resolved r = {MQTT5_OK, 0, true};
    int at = -1;
    for (int i = 0; i < m->count; i++)
        if (m->order[i] == topic) at = i;
    if (at >= 0) {
        r.alias = m->aliases[at];
        r.send_topic = false;
    } else if (m->count < m->cap) {
        r.alias = (uint16_t)(m->count + 1);
        at = m->count++;
    } else {
        at = m->count - 1;
        r.alias = m->aliases[at];
    }
    memmove(&m->order[1], &m->order[0], (size_t)at * sizeof(int));
    memmove(&m->aliases[1], &m->aliases[0], (size_t)at * sizeof(uint16_t));
    m->order[0] = topic;
    m->aliases[0] = r.alias;
    return r;
}

/* Topics drawn from a pool, compared step by step with the reference; with a big cache this also
 * exercises hash collisions and backward-shift deletion in the index. */
static void lru_against_model(int cache, int pool, int steps, uint64_t seed)
{
    test_allocator ta;
    test_allocator_init(&ta);
    client_alias_out a;
    client_alias_out_init(&a, test_allocator_get(&ta), MQTT5_ALIAS_OUT_LRU, (uint16_t)cache);
    client_alias_out_reset(&a, (uint16_t)cache);
    lru_model *m = test_alloc(sizeof(*m));
    memset(m, 0, sizeof(*m));
    m->cap = cache;
    uint64_t x = seed;
    for (int step = 0; step < steps; step++) {
        x = x * UINT64_C(6364136223846793005) + 1442695040888963407u;
        /* skewed draw: some topics are hot */
        int topic = (int)((x >> 33) % (uint64_t)pool);
        if ((x >> 20) & 1) topic = topic % (cache / 2 + 1);
        char name[32];
        snprintf(name, sizeof(name), "dev/%d/telemetry", topic);
        resolved want = model_resolve(m, topic);
        resolved got = out(&a, name, 0);
        if (got.rc != want.rc || got.alias != want.alias || got.send_topic != want.send_topic)
            fail_msg("step %d topic %s: got rc %d alias %u send %d, want alias %u send %d", step,
                     name, got.rc, got.alias, got.send_topic, want.alias, want.send_topic);
    }
    assert_int_equal(ta.live_blocks, 1 + (size_t)(cache < pool ? cache : pool));
    client_alias_out_cleanup(&a);
    assert_no_leaks(&ta);
}

static void out_lru_eviction_order_matches_model(void **state)
{
    (void)state;
    lru_against_model(4, 10, 10000, 1);
    lru_against_model(25, 60, 20000, 2);
    lru_against_model(1000, 3000, 30000, 3);
    lru_against_model(7, 7, 2000, 4); /* everything fits: after warm-up, hits only */
}

static void out_lru_nomem_leaves_state(void **state)
{
    (void)state;
    /* allocations on the first miss: 1 the table (slots and index), 2 topic copy */
    for (size_t k = 1; k <= 2; k++) {
        test_allocator ta;
        test_allocator_init(&ta);
        client_alias_out a;
        client_alias_out_init(&a, test_allocator_get(&ta), MQTT5_ALIAS_OUT_LRU, 2);
        client_alias_out_reset(&a, 2);
        test_allocator_fail_at(&ta, k, false);
        REFUSED(out(&a, "first", 0), MQTT5_ERR_NOMEM);
        assert_int_equal(ta.live_blocks, k == 2 ? 1 : 0); /* the table kept once it exists */
        assert_int_equal(a.count, 0);
        assert_out(out(&a, "first", 0), MQTT5_OK, 1, true);
        client_alias_out_cleanup(&a);
        assert_no_leaks(&ta);
    }
    /* a failed copy when evicting keeps the victim bound */
    test_allocator ta;
    test_allocator_init(&ta);
    client_alias_out a;
    client_alias_out_init(&a, test_allocator_get(&ta), MQTT5_ALIAS_OUT_LRU, 2);
    client_alias_out_reset(&a, 2);
    assert_out(out(&a, "first", 0), MQTT5_OK, 1, true);
    assert_out(out(&a, "second", 0), MQTT5_OK, 2, true);
    test_allocator_fail_at(&ta, 1, false);
    REFUSED(out(&a, "third", 0), MQTT5_ERR_NOMEM);
    ALIAS_ONLY(out(&a, "first", 0), 1);
    ALIAS_ONLY(out(&a, "second", 0), 2);
    assert_out(out(&a, "third", 0), MQTT5_OK, 1, true); /* first was least recent */
    /* hits never allocate */
    test_allocator_fail_at(&ta, 1, true);
    ALIAS_ONLY(out(&a, "third", 0), 1);
    ALIAS_ONLY(out(&a, "second", 0), 2);
    NO_ALIAS(out(&a, "abc", 0));
    test_allocator_fail_at(&ta, 0, false);
    client_alias_out_cleanup(&a);
    assert_no_leaks(&ta);
}

static void out_manual_nomem_leaves_state(void **state)
{
    (void)state;
    test_allocator ta;
    test_allocator_init(&ta);
    client_alias_out a;
    client_alias_out_init(&a, test_allocator_get(&ta), MQTT5_ALIAS_OUT_MANUAL, 3);
    client_alias_out_reset(&a, 3);
    test_allocator_fail_at(&ta, 1, false); /* the table */
    REFUSED(out(&a, "a/b", 1), MQTT5_ERR_NOMEM);
    test_allocator_fail_at(&ta, 2, false); /* the topic copy */
    REFUSED(out(&a, "a/b", 1), MQTT5_ERR_NOMEM);
    BIND(out(&a, "a/b", 1), 1);
    test_allocator_fail_at(&ta, 1, false);
    REFUSED(out(&a, "c/d", 1), MQTT5_ERR_NOMEM); /* rebinding fails: old binding stays */
    ALIAS_ONLY(out(&a, "a/b", 1), 1);
    client_alias_out_cleanup(&a);
    assert_no_leaks(&ta);
}

/* ---- inbound --------------------------------------------------------------------------------- */

static int in(client_alias_in *a, const mqtt5_allocator *al, uint16_t alias, mqtt5_str *t)
{
    return client_alias_in_resolve(a, al, alias, t);
}

static void in_rules(void **state)
{
    (void)state;
    test_allocator ta;
    test_allocator_init(&ta);
    client_alias_in a;
    const mqtt5_allocator *al = test_allocator_get(&ta);
    client_alias_in_init(&a, 3);

    mqtt5_str t = S("a/b");
    assert_err(in(&a, al, 0, &t), MQTT5_ERR_TOPIC_ALIAS_INVALID);
    assert_err(in(&a, al, 4, &t), MQTT5_ERR_TOPIC_ALIAS_INVALID);
    mqtt5_str empty = {NULL, 0};
    assert_err(in(&a, al, 1, &empty), MQTT5_ERR_PROTOCOL_ERROR); /* unbound */
    assert_int_equal(ta.allocations, 0);

    /* bind from a buffer we then overwrite: the binding is a copy */
    char wire[8];
    memcpy(wire, "x/y/z", 5);
    t = (mqtt5_str){wire, 5};
    assert_err(in(&a, al, 1, &t), MQTT5_OK);
    assert_ptr_equal(t.ptr, wire); /* a topic that is present is left alone */
    memset(wire, '#', sizeof(wire));
    empty = (mqtt5_str){NULL, 0};
    assert_err(in(&a, al, 1, &empty), MQTT5_OK);
    assert_str_eq(empty, "x/y/z");
    assert_true(empty.ptr != wire);

    /* other aliases are independent; replace */
    empty = (mqtt5_str){"", 0};
    assert_err(in(&a, al, 3, &empty), MQTT5_ERR_PROTOCOL_ERROR);
    t = S("three");
    assert_err(in(&a, al, 3, &t), MQTT5_OK);
    t = S("one/again");
    assert_err(in(&a, al, 1, &t), MQTT5_OK);
    t = S("one/again"); /* same topic: no new copy */
    size_t allocs = ta.allocations;
    assert_err(in(&a, al, 1, &t), MQTT5_OK);
    assert_int_equal(ta.allocations, allocs);
    empty = (mqtt5_str){NULL, 0};
    assert_err(in(&a, al, 1, &empty), MQTT5_OK);
    assert_str_eq(empty, "one/again");
    empty = (mqtt5_str){NULL, 0};
    assert_err(in(&a, al, 3, &empty), MQTT5_OK);
    assert_str_eq(empty, "three");
    assert_int_equal(ta.live_blocks, 3); /* slots + 2 topics */

    /* reset at CONNACK forgets */
    client_alias_in_reset(&a, al);
    assert_int_equal(ta.live_blocks, 1);
    empty = (mqtt5_str){NULL, 0};
    assert_err(in(&a, al, 1, &empty), MQTT5_ERR_PROTOCOL_ERROR);
    t = S("fresh");
    assert_err(in(&a, al, 2, &t), MQTT5_OK);
    client_alias_in_cleanup(&a, al);
    client_alias_in_cleanup(&a, al);
    assert_no_leaks(&ta);
}

static void in_disabled_max_zero(void **state)
{
    (void)state;
    test_allocator ta;
    test_allocator_init(&ta);
    client_alias_in a;
    const mqtt5_allocator *al = test_allocator_get(&ta);
    client_alias_in_init(&a, 0);
    mqtt5_str t = S("a/b");
    assert_err(in(&a, al, 1, &t), MQTT5_ERR_TOPIC_ALIAS_INVALID);
    assert_err(in(&a, al, 65535, &t), MQTT5_ERR_TOPIC_ALIAS_INVALID);
    client_alias_in_reset(&a, al);
    client_alias_in_cleanup(&a, al);
    assert_int_equal(ta.allocations, 0);
    assert_no_leaks(&ta);

    /* the largest maximum */
    test_allocator_init(&ta);
    al = test_allocator_get(&ta);
    client_alias_in_init(&a, 65535);
    t = S("last");
    assert_err(in(&a, al, 65535, &t), MQTT5_OK);
    mqtt5_str e = {NULL, 0};
    assert_err(in(&a, al, 65535, &e), MQTT5_OK);
    assert_str_eq(e, "last");
    client_alias_in_cleanup(&a, al);
    assert_no_leaks(&ta);
}

static void in_nomem_leaves_state(void **state)
{
    (void)state;
    test_allocator ta;
    test_allocator_init(&ta);
    client_alias_in a;
    const mqtt5_allocator *al = test_allocator_get(&ta);
    client_alias_in_init(&a, 4);
    mqtt5_str t = S("a/b");
    test_allocator_fail_at(&ta, 1, false); /* slots array */
    assert_err(in(&a, al, 1, &t), MQTT5_ERR_NOMEM);
    test_allocator_fail_at(&ta, 2, false); /* topic copy */
    assert_err(in(&a, al, 1, &t), MQTT5_ERR_NOMEM);
    mqtt5_str e = {NULL, 0};
    assert_err(in(&a, al, 1, &e), MQTT5_ERR_PROTOCOL_ERROR); /* still unbound */
    assert_err(in(&a, al, 1, &t), MQTT5_OK);
    t = S("c/d");
    test_allocator_fail_at(&ta, 1, false);
    assert_err(in(&a, al, 1, &t), MQTT5_ERR_NOMEM);
    e = (mqtt5_str){NULL, 0};
    assert_err(in(&a, al, 1, &e), MQTT5_OK);
    assert_str_eq(e, "a/b"); /* old binding kept */
    client_alias_in_cleanup(&a, al);
    assert_no_leaks(&ta);
}

/* Every allocation of a mixed scenario fails once in turn: each failure is NOMEM, nothing leaks. */
static void every_allocation_failure_is_clean(void **state)
{
    (void)state;
    for (size_t k = 1; k < 40; k++) {
        test_allocator ta;
        test_allocator_init(&ta);
        test_allocator_fail_at(&ta, k, false);
        client_alias_out o;
        client_alias_in i;
        client_alias_out_init(&o, test_allocator_get(&ta), MQTT5_ALIAS_OUT_LRU, 3);
        client_alias_in_init(&i, 3);
        client_alias_out_reset(&o, 3);
        static const char *const topics[] = {"aaaa", "bbbb", "cccc", "aaaa", "dddd",
                                             "eeee", "bbbb", "aaaa", "ffff", "cccc"};
        int nomem = 0;
        for (size_t n = 0; n < COUNT_OF(topics); n++) {
            resolved r = out(&o, topics[n], 0);
            if (r.rc == MQTT5_ERR_NOMEM)
                nomem++;
            else
                assert_err(r.rc, MQTT5_OK);
            mqtt5_str t = {topics[n], 4};
            int rc = in(&i, test_allocator_get(&ta), (uint16_t)(n % 3 + 1), &t);
            if (rc == MQTT5_ERR_NOMEM)
                nomem++;
            else
                assert_err(rc, MQTT5_OK);
            if (n == 5) {
                client_alias_out_reset(&o, 2);
                client_alias_in_reset(&i, test_allocator_get(&ta));
            }
        }
        assert_true(nomem <= 1);
        assert_int_equal(ta.failures, (size_t)nomem);
        client_alias_out_cleanup(&o);
        client_alias_in_cleanup(&i, test_allocator_get(&ta));
        assert_no_leaks(&ta);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(out_disabled),
        cmocka_unit_test(out_manual),
        cmocka_unit_test(out_manual_reset_forgets),
        cmocka_unit_test(out_lru_rules),
        cmocka_unit_test(out_lru_two_slots),
        cmocka_unit_test(out_lru_size_limits),
        cmocka_unit_test(out_lru_reset_forgets),
        cmocka_unit_test(out_lru_eviction_order_matches_model),
        cmocka_unit_test(out_lru_nomem_leaves_state),
        cmocka_unit_test(out_manual_nomem_leaves_state),
        cmocka_unit_test(in_rules),
        cmocka_unit_test(in_disabled_max_zero),
        cmocka_unit_test(in_nomem_leaves_state),
        cmocka_unit_test(every_allocation_failure_is_clean),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
