/*
 * test_topic.c - topic names and topic filters (MQTT 5 sections 4.7 and 4.8.2): validation of
 * names and filters, wildcard placement, shared subscription syntax, and filter matching.
 */
#include "helpers/test_common.h"

#define NAME(lit) mqtt5_topic_name_validate((lit), sizeof(lit) - 1, &why)
#define FILTER(lit) mqtt5_topic_filter_validate((lit), sizeof(lit) - 1, &why)
#define SHARED(lit) mqtt5_topic_filter_is_shared((lit), sizeof(lit) - 1)
#define WILD(lit) mqtt5_topic_filter_has_wildcard((lit), sizeof(lit) - 1)
#define MATCH(f, t) mqtt5_topic_matches((f), sizeof(f) - 1, (t), sizeof(t) - 1)

/* A refusal comes with an explanation. */
#define assert_refused(call, err)                                                                  \
    do {                                                                                           \
        why = NULL;                                                                                \
        assert_err((call), (err));                                                                 \
        assert_non_null(why);                                                                      \
    } while (0)

static void name_valid(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_err(NAME("a"), MQTT5_OK);
    assert_err(NAME("a/b/c"), MQTT5_OK);
    assert_err(NAME("/"), MQTT5_OK); /* two empty levels (4.7.1.1) */
    assert_err(NAME("a//b"), MQTT5_OK);
    assert_err(NAME("/finance"), MQTT5_OK);
    assert_err(NAME("$SYS/broker"), MQTT5_OK);
    assert_err(NAME("sport tennis"), MQTT5_OK); /* spaces are allowed */
    assert_err(NAME("\xc3\xa9t\xc3\xa9/\xe2\x82\xac"), MQTT5_OK);
    assert_err(NAME("$share/g/a"), MQTT5_OK); /* only special in filters */
    assert_err(mqtt5_topic_name_validate("a", 1, NULL), MQTT5_OK);
}

static void name_invalid(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_refused(NAME(""), MQTT5_ERR_INVALID_TOPIC);  /* 4.7.3: at least one character */
    assert_refused(NAME("+"), MQTT5_ERR_INVALID_TOPIC); /* 4.7.1: no wildcards in names */
    assert_refused(NAME("#"), MQTT5_ERR_INVALID_TOPIC);
    assert_refused(NAME("a/+"), MQTT5_ERR_INVALID_TOPIC);
    assert_refused(NAME("a/#"), MQTT5_ERR_INVALID_TOPIC);
    assert_refused(NAME("a+b"), MQTT5_ERR_INVALID_TOPIC);
    assert_refused(NAME("a/b#"), MQTT5_ERR_INVALID_TOPIC);
    assert_refused(NAME("a\0b"), MQTT5_ERR_INVALID_UTF8); /* U+0000 (4.7.3) */
    assert_refused(NAME("a\xed\xa0\x80"), MQTT5_ERR_INVALID_UTF8);
    assert_refused(NAME("\xc0\x80"), MQTT5_ERR_INVALID_UTF8);
    assert_int_not_equal(mqtt5_topic_name_validate("+", 1, NULL), MQTT5_OK); /* why may be NULL */
}

static void name_length(void **state)
{
    (void)state;
    char *s = test_alloc(65536);
    memset(s, 'a', 65536);
    assert_err(mqtt5_topic_name_validate(s, 65535, NULL), MQTT5_OK);
    assert_int_not_equal(mqtt5_topic_name_validate(s, 65536, NULL), MQTT5_OK);
    assert_err(mqtt5_topic_filter_validate(s, 65535, NULL), MQTT5_OK);
    assert_int_not_equal(mqtt5_topic_filter_validate(s, 65536, NULL), MQTT5_OK);
}

static void filter_wildcards_valid(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_err(FILTER("a"), MQTT5_OK);
    assert_err(FILTER("#"), MQTT5_OK);
    assert_err(FILTER("a/#"), MQTT5_OK);
    assert_err(FILTER("/#"), MQTT5_OK);
    assert_err(FILTER("sport/tennis/player1/#"), MQTT5_OK);
    assert_err(FILTER("+"), MQTT5_OK);
    assert_err(FILTER("+/+"), MQTT5_OK);
    assert_err(FILTER("/+"), MQTT5_OK);
    assert_err(FILTER("+/"), MQTT5_OK);
    assert_err(FILTER("a/+/b"), MQTT5_OK);
    assert_err(FILTER("+/tennis/#"), MQTT5_OK);
    assert_err(FILTER("a//b"), MQTT5_OK);
    assert_err(FILTER("/"), MQTT5_OK);
    assert_err(FILTER("$SYS/#"), MQTT5_OK);
    assert_err(FILTER("$share"), MQTT5_OK); /* no '/' after it: an ordinary filter */
}

static void filter_wildcards_invalid(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_refused(FILTER(""), MQTT5_ERR_INVALID_TOPIC);
    assert_refused(FILTER("a/#/b"), MQTT5_ERR_INVALID_TOPIC); /* '#' must be last (4.7.1.2) */
    assert_refused(FILTER("#/a"), MQTT5_ERR_INVALID_TOPIC);
    assert_refused(FILTER("a/#/"), MQTT5_ERR_INVALID_TOPIC);
    assert_refused(FILTER("a#"), MQTT5_ERR_INVALID_TOPIC); /* '#' must be a whole level */
    assert_refused(FILTER("sport/tennis#"), MQTT5_ERR_INVALID_TOPIC);
    assert_refused(FILTER("##"), MQTT5_ERR_INVALID_TOPIC);
    assert_refused(FILTER("a+"), MQTT5_ERR_INVALID_TOPIC); /* '+' must be a whole level */
    assert_refused(FILTER("+a"), MQTT5_ERR_INVALID_TOPIC);
    assert_refused(FILTER("sport+"), MQTT5_ERR_INVALID_TOPIC);
    assert_refused(FILTER("a/+b/c"), MQTT5_ERR_INVALID_TOPIC);
    assert_refused(FILTER("++"), MQTT5_ERR_INVALID_TOPIC);
    assert_refused(FILTER("+#"), MQTT5_ERR_INVALID_TOPIC);
    assert_refused(FILTER("a/\0"), MQTT5_ERR_INVALID_UTF8);
    assert_refused(FILTER("a/\xed\xbf\xbf"), MQTT5_ERR_INVALID_UTF8);
}

static void filter_shared(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_err(FILTER("$share/g/a/b"), MQTT5_OK);
    assert_err(FILTER("$share/g/#"), MQTT5_OK);
    assert_err(FILTER("$share/g/+"), MQTT5_OK);
    assert_err(FILTER("$share/g/+/x/#"), MQTT5_OK);
    assert_err(FILTER("$share/group-1/a"), MQTT5_OK);
    assert_err(FILTER("$share/g//"), MQTT5_OK);                   /* inner filter "/" */
    assert_refused(FILTER("$share//a"), MQTT5_ERR_INVALID_TOPIC); /* empty ShareName */
    assert_refused(FILTER("$share/g"), MQTT5_ERR_INVALID_TOPIC);  /* no filter */
    assert_refused(FILTER("$share/g/"), MQTT5_ERR_INVALID_TOPIC); /* empty filter */
    assert_refused(FILTER("$share/"), MQTT5_ERR_INVALID_TOPIC);
    assert_refused(FILTER("$share/g+/a"), MQTT5_ERR_INVALID_TOPIC); /* wildcard in ShareName */
    assert_refused(FILTER("$share/+/a"), MQTT5_ERR_INVALID_TOPIC);
    assert_refused(FILTER("$share/g#/a"), MQTT5_ERR_INVALID_TOPIC);
    assert_refused(FILTER("$share/#/a"), MQTT5_ERR_INVALID_TOPIC);
    assert_refused(FILTER("$share/g/a/#/b"), MQTT5_ERR_INVALID_TOPIC); /* bad inner filter */
    assert_refused(FILTER("$share/g/a+"), MQTT5_ERR_INVALID_TOPIC);
}

static void filter_is_shared(void **state)
{
    (void)state;
    assert_true(SHARED("$share/g/a/b"));
    assert_true(SHARED("$share/g/#"));
    assert_true(SHARED("$share/")); /* prefix only; validity is separate */
    assert_false(SHARED("$share"));
    assert_false(SHARED("$SHARE/g/a"));
    assert_false(SHARED("$sharex/g/a"));
    assert_false(SHARED("a/$share/g/a"));
    assert_false(SHARED("#"));
    assert_false(SHARED(""));
}

static void filter_has_wildcard(void **state)
{
    (void)state;
    assert_true(WILD("#"));
    assert_true(WILD("+"));
    assert_true(WILD("a/+/b"));
    assert_true(WILD("a/#"));
    assert_true(WILD("$share/g/a/+"));
    assert_true(WILD("$share/g/#"));
    assert_false(WILD("a/b"));
    assert_false(WILD("$share/g/a/b"));
    assert_false(WILD("$SYS/x"));
}

static void match_multi_level(void **state)
{
    (void)state;
    /* Examples of 4.7.1.2. */
    assert_true(MATCH("sport/tennis/player1/#", "sport/tennis/player1"));
    assert_true(MATCH("sport/tennis/player1/#", "sport/tennis/player1/ranking"));
    assert_true(MATCH("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon"));
    assert_true(MATCH("sport/#", "sport")); /* '#' also matches the parent level */
    assert_true(MATCH("sport/#", "sport/"));
    assert_true(MATCH("#", "sport"));
    assert_true(MATCH("#", "a/b/c"));
    assert_true(MATCH("#", "/"));
    assert_true(MATCH("#", "/finance"));
    assert_false(MATCH("sport/tennis/#", "sport"));
    assert_false(MATCH("sport/#", "sports"));
    assert_false(MATCH("sport/#", "other/sport"));
}

static void match_single_level(void **state)
{
    (void)state;
    /* Examples of 4.7.1.3. */
    assert_true(MATCH("sport/tennis/+", "sport/tennis/player1"));
    assert_true(MATCH("sport/tennis/+", "sport/tennis/player2"));
    assert_false(MATCH("sport/tennis/+", "sport/tennis/player1/ranking"));
    assert_false(MATCH("sport/+", "sport"));
    assert_true(MATCH("sport/+", "sport/"));
    assert_true(MATCH("+/+", "/finance"));
    assert_true(MATCH("/+", "/finance"));
    assert_false(MATCH("+", "/finance"));
    assert_true(MATCH("+", "a"));
    assert_true(MATCH("a/+/c", "a/b/c"));
    assert_true(MATCH("a/+/c", "a//c"));
    assert_false(MATCH("a/+/c", "a/b/d"));
    assert_true(MATCH("+/tennis/#", "sport/tennis/player1"));
    assert_true(MATCH("+/+/#", "a/b"));
}

static void match_literal(void **state)
{
    (void)state;
    assert_true(MATCH("a/b", "a/b"));
    assert_false(MATCH("a/b", "a/b/c"));
    assert_false(MATCH("a/b/c", "a/b"));
    assert_false(MATCH("a/b", "a/bc"));
    assert_false(MATCH("ACCOUNTS", "Accounts")); /* case sensitive (4.7.3) */
    assert_false(MATCH("a/b", "a/b/"));
    assert_true(MATCH("/", "/"));
    assert_false(MATCH("/", "a"));
}

static void match_dollar_topics(void **state)
{
    (void)state;
    /* 4.7.2: a filter starting with a wildcard does not match a topic starting with '$'. */
    assert_false(MATCH("#", "$SYS/x"));
    assert_false(MATCH("+/x", "$SYS/x"));
    assert_false(MATCH("+/monitor/Clients", "$SYS/monitor/Clients"));
    assert_false(MATCH("+", "$SYS"));
    assert_true(MATCH("$SYS/#", "$SYS/x"));
    assert_true(MATCH("$SYS/+", "$SYS/x"));
    assert_true(MATCH("$SYS/monitor/+", "$SYS/monitor/Clients"));
    assert_true(MATCH("$SYS/x", "$SYS/x"));
    assert_true(MATCH("a/#", "a/$b")); /* only the first character counts */
    assert_true(MATCH("a/+", "a/$b"));
}

static void match_shared(void **state)
{
    (void)state;
    assert_true(MATCH("$share/g/a/+", "a/b"));
    assert_true(MATCH("$share/g/#", "a/b"));
    assert_true(MATCH("$share/g/a/b", "a/b"));
    assert_false(MATCH("$share/g/a/b", "g/a/b"));
    assert_false(MATCH("$share/g/a/b", "$share/g/a/b"));
    assert_false(MATCH("$share/g/#", "$SYS/x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(name_valid),
        cmocka_unit_test(name_invalid),
        cmocka_unit_test(name_length),
        cmocka_unit_test(filter_wildcards_valid),
        cmocka_unit_test(filter_wildcards_invalid),
        cmocka_unit_test(filter_shared),
        cmocka_unit_test(filter_is_shared),
        cmocka_unit_test(filter_has_wildcard),
        cmocka_unit_test(match_multi_level),
        cmocka_unit_test(match_single_level),
        cmocka_unit_test(match_literal),
        cmocka_unit_test(match_dollar_topics),
        cmocka_unit_test(match_shared),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
