/*
 * test_credentials_providers.c - the providers that need no network: static, environment, the
 * chain's pass/stop rules and its detail, the caching wrapper (one fetch per lifetime, refresh
 * before expiry, shared fetch, failures not cached, expired credentials refused) and the
 * profile provider's static keys and resolution errors. Environment, files and clock come from
 * the mqtt5_credentials_system seam; sources are fakes through the provider vtable.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "credentials/provider_internal.h"
#include "helpers/fake_system.h"
#include "mqtt5/credentials.h"
#include "mqtt5/error.h"

/* ---- a fake system: environment and files from tables, a settable clock ------------------- */

/* ---- capturing a result ------------------------------------------------------------------- */

typedef struct result {
    int calls, err;
    char akid[64], secret[64], token[64], account[32], provider[32], detail[2048];
    int64_t expiration;
} result;

static void capture(void *user, int err, const mqtt5_credentials *c, const char *detail)
{
    result *r = user;
    r->calls++;
    r->err = err;
    snprintf(r->detail, sizeof r->detail, "%s", detail ? detail : "");
    if (!err) {
        snprintf(r->akid, sizeof r->akid, "%s", c->access_key_id);
        snprintf(r->secret, sizeof r->secret, "%s", c->secret_access_key);
        snprintf(r->token, sizeof r->token, "%s", c->session_token ? c->session_token : "");
        snprintf(r->account, sizeof r->account, "%s", c->account_id ? c->account_id : "");
        snprintf(r->provider, sizeof r->provider, "%s", c->provider ? c->provider : "");
        r->expiration = c->expiration;
    }
}

/* ---- a fake source through the vtable ----------------------------------------------------- */

typedef struct fake_src {
    int fetches;
    int err; /* answer with this error (0 = credentials) */
    const char *detail;
    int64_t expiration;
    bool hold; /* keep the done for later */
    mqtt5_credentials_done_fn held_done;
    void *held_user;
} fake_src;

static void fake_answer(fake_src *f, mqtt5_credentials_done_fn done, void *user)
{
    if (f->err) {
        done(user, f->err, NULL, f->detail);
        return;
    }
    char akid[32];
    snprintf(akid, sizeof akid, "AKID%d", f->fetches);
    mqtt5_credentials c = {akid, "secret", "token", NULL, f->expiration, "fake"};
    done(user, 0, &c, NULL);
}

static void fake_get(mqtt5_credentials_provider *p, mqtt5_credentials_done_fn done, void *user)
{
    fake_src *f = p->impl;
    f->fetches++;
    if (f->hold) {
        f->held_done = done;
        f->held_user = user;
        return;
    }
    fake_answer(f, done, user);
}

static const mqtt5_credentials_provider_vtable fake_vt = {"fake", fake_get, NULL};

static mqtt5_credentials_provider *fake_new(fake_src *f, const mqtt5_credentials_options *o)
{
    mqtt5_credentials_provider *p = NULL;
    assert_int_equal(mqtt5_cp_new(o, &fake_vt, false, f, &p), 0);
    return p;
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_static(void **state)
{
    (void)state;
    mqtt5_credentials_provider *p = NULL;
    assert_int_equal(mqtt5_credentials_provider_new_static(NULL, "", "s", NULL, &p),
                     MQTT5_ERR_INVALID_ARGUMENT);
    assert_int_equal(mqtt5_credentials_provider_new_static(NULL, "AKID", "SECRET", "", &p), 0);
    result r = {0};
    assert_int_equal(mqtt5_credentials_provider_get(p, capture, &r), 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.err, 0);
    assert_string_equal(r.akid, "AKID");
    assert_string_equal(r.secret, "SECRET");
    assert_string_equal(r.token, ""); /* "" = none */
    assert_string_equal(r.provider, "static");
    assert_true(r.expiration == MQTT5_CREDENTIALS_NO_EXPIRY);
    mqtt5_credentials_provider_release(p);
}

static void test_environment(void **state)
{
    (void)state;
    fake_sys f = {.now = 1000};
    mqtt5_credentials_system s = fake_sys_seam(&f);
    mqtt5_credentials_options o;
    mqtt5_credentials_options_init(&o);
    o.system = &s;
    mqtt5_credentials_provider *p = NULL;
    assert_int_equal(mqtt5_credentials_provider_new_environment(&o, &p), 0);

    result r = {0};
    assert_int_equal(mqtt5_credentials_provider_get(p, capture, &r), 0);
    assert_int_equal(r.err, MQTT5_ERR_PROVIDER_NOT_ENABLED);
    assert_non_null(strstr(r.detail, "environment: not enabled"));

    f.env[0][0] = "AWS_ACCESS_KEY_ID", f.env[0][1] = "AKIDENV";
    f.env[1][0] = "AWS_SECRET_ACCESS_KEY", f.env[1][1] = ""; /* blank = unset */
    memset(&r, 0, sizeof r);
    mqtt5_credentials_provider_get(p, capture, &r);
    assert_int_equal(r.err, MQTT5_ERR_PROVIDER_NOT_ENABLED);
    assert_non_null(strstr(r.detail, "AWS_SECRET_ACCESS_KEY is unset or empty"));

    f.env[1][1] = "SECRETENV";
    f.env[2][0] = "AWS_SESSION_TOKEN", f.env[2][1] = "TOKENENV";
    f.env[3][0] = "AWS_ACCOUNT_ID", f.env[3][1] = "123456789012";
    memset(&r, 0, sizeof r);
    mqtt5_credentials_provider_get(p, capture, &r);
    assert_int_equal(r.err, 0);
    assert_string_equal(r.akid, "AKIDENV");
    assert_string_equal(r.secret, "SECRETENV");
    assert_string_equal(r.token, "TOKENENV");
    assert_string_equal(r.account, "123456789012");
    assert_string_equal(r.provider, "environment");
    mqtt5_credentials_provider_release(p);
}

static void test_chain_rules(void **state)
{
    (void)state;
    fake_src off = {.err = MQTT5_ERR_PROVIDER_NOT_ENABLED, .detail = "first: not enabled (x)"};
    fake_src hard = {.err = MQTT5_ERR_HTTP_STATUS, .detail = "second: HTTP 403"};
    fake_src ok = {.expiration = MQTT5_CREDENTIALS_NO_EXPIRY};
    mqtt5_credentials_provider *a = fake_new(&off, NULL), *b = fake_new(&hard, NULL),
                               *c = fake_new(&ok, NULL), *chain = NULL;

    /* not enabled passes on */
    mqtt5_credentials_provider *l1[] = {a, c};
    assert_int_equal(mqtt5_credentials_provider_new_chain(NULL, l1, 2, &chain), 0);
    result r = {0};
    mqtt5_credentials_provider_get(chain, capture, &r);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.err, 0);
    assert_string_equal(r.akid, "AKID1");
    mqtt5_credentials_provider_release(chain);

    /* any other failure stops the chain: the last provider is not asked */
    int before = ok.fetches;
    mqtt5_credentials_provider *l2[] = {a, b, c};
    assert_int_equal(mqtt5_credentials_provider_new_chain(NULL, l2, 3, &chain), 0);
    memset(&r, 0, sizeof r);
    mqtt5_credentials_provider_get(chain, capture, &r);
    assert_int_equal(r.err, MQTT5_ERR_HTTP_STATUS);
    assert_string_equal(r.detail, "second: HTTP 403");
    assert_int_equal(ok.fetches, before);
    mqtt5_credentials_provider_release(chain);

    /* all not enabled: one error naming each reason */
    mqtt5_credentials_provider *l3[] = {a, a};
    assert_int_equal(mqtt5_credentials_provider_new_chain(NULL, l3, 2, &chain), 0);
    memset(&r, 0, sizeof r);
    mqtt5_credentials_provider_get(chain, capture, &r);
    assert_int_equal(r.err, MQTT5_ERR_PROVIDER_NOT_ENABLED);
    assert_string_equal(r.detail, "no provider in the chain supplied credentials: first: not "
                                  "enabled (x); first: not enabled (x)");
    mqtt5_credentials_provider_release(chain);

    assert_int_equal(mqtt5_credentials_provider_new_chain(NULL, l3, 0, &chain),
                     MQTT5_ERR_INVALID_ARGUMENT);
    mqtt5_credentials_provider_release(a);
    mqtt5_credentials_provider_release(b);
    mqtt5_credentials_provider_release(c);
}

static void test_cache(void **state)
{
    (void)state;
    fake_sys f = {.now = 10000};
    mqtt5_credentials_system s = fake_sys_seam(&f);
    mqtt5_credentials_options o;
    mqtt5_credentials_options_init(&o);
    o.system = &s;
    fake_src src = {.expiration = 10000 + 3600};
    mqtt5_credentials_provider *inner = fake_new(&src, &o), *cache = NULL;
    assert_int_equal(mqtt5_credentials_provider_new_cached(&o, NULL, inner, &cache), 0);
    mqtt5_credentials_provider_release(inner); /* the cache holds it */

    result r1 = {0}, r2 = {0};
    mqtt5_credentials_provider_get(cache, capture, &r1);
    mqtt5_credentials_provider_get(cache, capture, &r2);
    assert_int_equal(src.fetches, 1);
    assert_string_equal(r1.akid, "AKID1");
    assert_string_equal(r2.akid, "AKID1");
    assert_true(r2.expiration == 10000 + 3600);

    /* 5 minutes before expiry: fetched again */
    f.now = 10000 + 3600 - 301;
    mqtt5_credentials_provider_get(cache, capture, &r1);
    assert_int_equal(src.fetches, 1);
    f.now = 10000 + 3600 - 300;
    mqtt5_credentials_provider_get(cache, capture, &r1);
    assert_int_equal(src.fetches, 2);
    assert_string_equal(r1.akid, "AKID2");

    /* failures are not cached: the next get asks again */
    f.now += 4000;
    src.err = MQTT5_ERR_TIMEOUT;
    src.detail = "fake: timed out";
    memset(&r1, 0, sizeof r1);
    mqtt5_credentials_provider_get(cache, capture, &r1);
    assert_int_equal(r1.err, MQTT5_ERR_TIMEOUT);
    assert_string_equal(r1.detail, "fake: timed out");
    src.err = 0;
    src.expiration = f.now + 3600;
    memset(&r1, 0, sizeof r1);
    mqtt5_credentials_provider_get(cache, capture, &r1);
    assert_int_equal(r1.err, 0);
    assert_int_equal(src.fetches, 4);

    /* gets while a fetch runs share it */
    f.now += 4000;
    src.hold = true;
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    mqtt5_credentials_provider_get(cache, capture, &r1);
    mqtt5_credentials_provider_get(cache, capture, &r2);
    assert_int_equal(src.fetches, 5);
    assert_int_equal(r1.calls + r2.calls, 0);
    src.expiration = f.now + 3600;
    fake_answer(&src, src.held_done, src.held_user);
    assert_int_equal(r1.calls, 1);
    assert_int_equal(r2.calls, 1);
    assert_string_equal(r1.akid, "AKID5");
    assert_string_equal(r2.akid, "AKID5");
    src.hold = false;

    /* credentials handed over already expired are refused */
    f.now += 4000;
    src.expiration = f.now - 10;
    memset(&r1, 0, sizeof r1);
    mqtt5_credentials_provider_get(cache, capture, &r1);
    assert_int_equal(r1.err, MQTT5_ERR_CREDENTIALS_EXPIRED);
    assert_non_null(strstr(r1.detail, "expired 10 s ago"));
    mqtt5_credentials_provider_release(cache);
}

static mqtt5_credentials_provider *profile_new(fake_sys *f, mqtt5_credentials_system *s,
                                               const char *name)
{
    *s = fake_sys_seam(f);
    mqtt5_credentials_options o;
    mqtt5_credentials_options_init(&o);
    o.system = s;
    mqtt5_credentials_profile_options po = {.profile_name = name};
    mqtt5_credentials_provider *p = NULL;
    assert_int_equal(mqtt5_credentials_provider_new_profile(&o, &po, &p), 0);
    return p;
}

static void test_profile_static(void **state)
{
    (void)state;
    fake_sys f = {.now = 1};
    f.env[0][0] = "HOME", f.env[0][1] = "/home/u";
    f.files[0][0] = "/home/u/.aws/config";
    f.files[0][1] = "[default]\naws_access_key_id = FROMCONFIG\naws_secret_access_key = cs\n"
                    "[profile other]\naws_access_key_id = OTHER\naws_secret_access_key = os\n"
                    "aws_session_token = ot\n"
                    "[profile role]\nrole_arn = arn:aws:iam::1:role/r\n"
                    "[profile loop1]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = loop2\n"
                    "[profile loop2]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = loop1\n"
                    "[profile chained]\nrole_arn = arn:aws:iam::1:role/c\n"
                    "source_profile = other\n"
                    "[profile empty]\nregion = us-east-1\n";
    f.files[1][0] = "/home/u/.aws/credentials";
    f.files[1][1] = "[default]\naws_access_key_id = FROMCREDS\naws_secret_access_key = ks\n";
    mqtt5_credentials_system s;
    result r = {0};

    /* the credentials file wins over the config file */
    mqtt5_credentials_provider *p = profile_new(&f, &s, NULL);
    mqtt5_credentials_provider_get(p, capture, &r);
    assert_int_equal(r.err, 0);
    assert_string_equal(r.akid, "FROMCREDS");
    assert_string_equal(r.secret, "ks");
    assert_string_equal(r.provider, "profile");
    mqtt5_credentials_provider_release(p);

    /* AWS_PROFILE selects; the option wins over it */
    f.env[1][0] = "AWS_PROFILE", f.env[1][1] = "other";
    p = profile_new(&f, &s, NULL);
    memset(&r, 0, sizeof r);
    mqtt5_credentials_provider_get(p, capture, &r);
    assert_string_equal(r.akid, "OTHER");
    assert_string_equal(r.token, "ot");
    mqtt5_credentials_provider_release(p);
    p = profile_new(&f, &s, "default");
    memset(&r, 0, sizeof r);
    mqtt5_credentials_provider_get(p, capture, &r);
    assert_string_equal(r.akid, "FROMCREDS");
    mqtt5_credentials_provider_release(p);

    struct {
        const char *name;
        int err;
        const char *detail;
    } cases[] = {
        {"missing", MQTT5_ERR_PROVIDER_NOT_ENABLED, "profile `missing` not found"},
        {"empty", MQTT5_ERR_PROVIDER_NOT_ENABLED, "profile `empty` holds no credentials"},
        {"role", MQTT5_ERR_MALFORMED, "role_arn without source_profile or credential_source"},
        {"loop1", MQTT5_ERR_MALFORMED, "source_profile loop"},
        /* a role needs STS: without an event loop group that is an error, said so */
        {"chained", MQTT5_ERR_INVALID_ARGUMENT, "needs an event loop group"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        p = profile_new(&f, &s, cases[i].name);
        memset(&r, 0, sizeof r);
        mqtt5_credentials_provider_get(p, capture, &r);
        assert_int_equal(r.calls, 1);
        if (r.err != cases[i].err || !strstr(r.detail, cases[i].detail))
            fail_msg("%s: got %s \"%s\"", cases[i].name, mqtt5_error_name(r.err), r.detail);
        mqtt5_credentials_provider_release(p);
    }

    /* a malformed file is an error naming the file and line */
    f.files[1][1] = "[default]\naws_access_key_id\n";
    p = profile_new(&f, &s, "default");
    memset(&r, 0, sizeof r);
    mqtt5_credentials_provider_get(p, capture, &r);
    assert_int_equal(r.err, MQTT5_ERR_MALFORMED);
    assert_non_null(strstr(r.detail, "/home/u/.aws/credentials"));
    mqtt5_credentials_provider_release(p);

    /* no files at all: not enabled */
    f.env[0][1] = "/nowhere";
    p = profile_new(&f, &s, NULL);
    memset(&r, 0, sizeof r);
    mqtt5_credentials_provider_get(p, capture, &r);
    assert_int_equal(r.err, MQTT5_ERR_PROVIDER_NOT_ENABLED);
    assert_non_null(strstr(r.detail, "no config file"));
    mqtt5_credentials_provider_release(p);
}

static void test_copy_keeps_every_field(void **state)
{
    (void)state;
    mqtt5_credentials in = {"A", "B", NULL, "123", 42, "static"}, *out = NULL;
    assert_int_equal(mqtt5_credentials_copy(NULL, &in, &out), 0);
    assert_string_equal(out->access_key_id, "A");
    assert_string_equal(out->secret_access_key, "B");
    assert_null(out->session_token);
    assert_string_equal(out->account_id, "123");
    assert_true(out->expiration == 42);
    mqtt5_credentials_free(NULL, out);
    in.secret_access_key = NULL;
    assert_int_equal(mqtt5_credentials_copy(NULL, &in, &out), MQTT5_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static),         cmocka_unit_test(test_environment),
        cmocka_unit_test(test_chain_rules),    cmocka_unit_test(test_cache),
        cmocka_unit_test(test_profile_static), cmocka_unit_test(test_copy_keeps_every_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
