/*
 * test_custom_auth.c - the AWS IoT custom-authorizer builders (src/builder/builder_custom_auth.c):
 * the username rules case by case (base username and its fallbacks, '?' then '&', the
 * authorizer name, the signature URL-encoded unless it holds '%', the token only with key and
 * value, no parameter or "key=" prefix twice, the SDK metrics appended after, or not at all),
 * keyword validation naming the keyword, the plan handed to the resolver (port 443, ALPN "mqtt"
 * or http/1.1 over WebSockets, the password), the exact CONNECT bytes, and the public builders
 * without a network (errors named, a client created and released, nothing secret logged).
 */
#define _POSIX_C_SOURCE 200809L
#include "helpers/test_common.h"

#include <time.h>

#include "builder/builder_internal.h"

#define METRICS "SDK=mqtt5-c&Version=" MQTT5_VERSION_STRING
#define NAME_EQ "x-amz-customauthorizer-name="
#define SIG_EQ "x-amz-customauthorizer-signature="

static mqtt5_builder_options opts(const char *endpoint)
{
    mqtt5_builder_options o;
    mqtt5_builder_options_init(&o);
    o.endpoint = endpoint;
    return o;
}

/* Build the username and expect `expected` (without metrics). */
static void username_is(const mqtt5_custom_auth_options *ca, const mqtt5_builder_options *o,
                        const char *expected)
{
    char *u = NULL;
    size_t n = 0;
    mqtt5_codec_status st;
    int rc = mqtt5_builder_custom_auth_username(ca, o, &u, &n, &st);
    if (rc)
        fail_msg("username: %s field=%s detail=%s (want '%s')", mqtt5_error_name(rc),
                 st.field ? st.field : "-", st.detail ? st.detail : "-", expected);
    assert_non_null(u);
    if (n != strlen(expected) || memcmp(u, expected, n) != 0 || u[n] != '\0') {
        char got[512];
        snprintf(got, sizeof got, "%.*s", (int)n, u);
        free(u);
        fail_msg("username: got '%s', want '%s'", got, expected);
    }
    free(u);
}

/* Expect the username to be refused with INVALID_ARGUMENT naming `field`. */
static void username_fails(const mqtt5_custom_auth_options *ca, const mqtt5_builder_options *o,
                           const char *field)
{
    char *u = (char *)(uintptr_t)1;
    size_t n = 7;
    mqtt5_codec_status st;
    int rc = mqtt5_builder_custom_auth_username(ca, o, &u, &n, &st);
    if (rc != MQTT5_ERR_INVALID_ARGUMENT || !st.field || strcmp(st.field, field) != 0)
        fail_msg("want INVALID_ARGUMENT naming %s, got %s field=%s", field, mqtt5_error_name(rc),
                 st.field ? st.field : "-");
    assert_int_equal(st.error, MQTT5_ERR_INVALID_ARGUMENT);
    assert_non_null(st.detail);
    assert_null(u);
    assert_int_equal(n, 0);
}

/* ---- the username, case by case ------------------------------------------------------------- */

static void test_username_no_base(void **state)
{
    (void)state;
    mqtt5_custom_auth_options ca = {0};
    username_is(&ca, NULL, "");
    username_is(NULL, NULL, "");
    ca.auth_authorizer_name = "MyAuthorizer";
    username_is(&ca, NULL, "?" NAME_EQ "MyAuthorizer");
    ca.auth_token_key_name = "token";
    ca.auth_token_value = "abc";
    username_is(&ca, NULL, "?" NAME_EQ "MyAuthorizer&token=abc");
    ca.auth_authorizer_name = NULL;
    username_is(&ca, NULL, "?token=abc");
}

static void test_username_base(void **state)
{
    (void)state;
    mqtt5_custom_auth_options ca = {.auth_username = "device-1",
                                    .auth_authorizer_name = "MyAuthorizer",
                                    .auth_authorizer_signature = "c2ln",
                                    .auth_token_key_name = "token",
                                    .auth_token_value = "abc"};
    username_is(&ca, NULL, "device-1?" NAME_EQ "MyAuthorizer&" SIG_EQ "c2ln&token=abc");
    /* a base that has a query already: every parameter goes after '&' */
    ca.auth_username = "device-1?tenant=7";
    username_is(&ca, NULL, "device-1?tenant=7&" NAME_EQ "MyAuthorizer&" SIG_EQ "c2ln&token=abc");
    ca.auth_username = "";
    username_is(&ca, NULL, "?" NAME_EQ "MyAuthorizer&" SIG_EQ "c2ln&token=abc");
    /* only a base: passed as it is */
    mqtt5_custom_auth_options only = {.auth_username = "plain-user"};
    username_is(&only, NULL, "plain-user");
}

static void test_username_base_fallbacks(void **state)
{
    (void)state;
    mqtt5_builder_options o = opts("localhost");
    mqtt5_custom_auth_options ca = {.auth_authorizer_name = "A"};
    o.username = "keyword-user";
    username_is(&ca, &o, "keyword-user?" NAME_EQ "A");
    /* connect_options' username wins over the keyword (the builders' rule) */
    mqtt5_connect co = {0};
    co.has_username = true;
    co.username = S("template-user");
    o.connect_options = &co;
    username_is(&ca, &o, "template-user?" NAME_EQ "A");
    /* auth_username wins over both */
    ca.auth_username = "auth-user";
    username_is(&ca, &o, "auth-user?" NAME_EQ "A");
}

static void test_username_signature_encoding(void **state)
{
    (void)state;
    mqtt5_custom_auth_options ca = {.auth_username = "u"};
    /* base64: '+' and '=' are encoded, '/' is kept (urllib.parse.quote's default) */
    ca.auth_authorizer_signature = "ab+cd/ef==";
    username_is(&ca, NULL, "u?" SIG_EQ "ab%2Bcd/ef%3D%3D");
    ca.auth_authorizer_signature = "a b&c?d~e-f_g.h";
    username_is(&ca, NULL, "u?" SIG_EQ "a%20b%26c%3Fd~e-f_g.h");
    ca.auth_authorizer_signature = "\xc3\xa9"; /* UTF-8 bytes, one %XX each */
    username_is(&ca, NULL, "u?" SIG_EQ "%C3%A9");
    /* with a '%' it counts as encoded already: copied as it is */
    ca.auth_authorizer_signature = "ab%2Bcd+ef=";
    username_is(&ca, NULL, "u?" SIG_EQ "ab%2Bcd+ef=");
    /* the authorizer name and the token are never encoded (the SDKs leave that to the user) */
    mqtt5_custom_auth_options raw = {
        .auth_authorizer_name = "my+auth", .auth_token_key_name = "k+", .auth_token_value = "v="};
    username_is(&raw, NULL, "?" NAME_EQ "my+auth&k+=v=");
}

static void test_username_token_needs_both(void **state)
{
    (void)state;
    mqtt5_custom_auth_options ca = {.auth_username = "u", .auth_token_key_name = "token"};
    username_is(&ca, NULL, "u");
    ca.auth_token_key_name = NULL;
    ca.auth_token_value = "abc";
    username_is(&ca, NULL, "u");
    ca.auth_authorizer_name = "A";
    username_is(&ca, NULL, "u?" NAME_EQ "A");
}

static void test_username_no_duplicates(void **state)
{
    (void)state;
    /* the base carries the authorizer name already: not added again */
    mqtt5_custom_auth_options ca = {.auth_username = "u?" NAME_EQ "Old",
                                    .auth_authorizer_name = "New"};
    username_is(&ca, NULL, "u?" NAME_EQ "Old");
    ca.auth_username = "u?x=1&" NAME_EQ "Old&y=2";
    ca.auth_token_key_name = "token";
    ca.auth_token_value = "abc";
    username_is(&ca, NULL, "u?x=1&" NAME_EQ "Old&y=2&token=abc");
    ca.auth_username = "u?token=zzz";
    username_is(&ca, NULL, "u?token=zzz&" NAME_EQ "New");
    /* the same text before the '?' or inside another parameter's value is no parameter */
    ca.auth_username = NAME_EQ "x";
    ca.auth_token_key_name = NULL;
    username_is(&ca, NULL, NAME_EQ "x?" NAME_EQ "New");
    ca.auth_username = "u?a=" NAME_EQ "x";
    username_is(&ca, NULL, "u?a=" NAME_EQ "x&" NAME_EQ "New");

    /* a value holding its "key=" gets no second prefix */
    mqtt5_custom_auth_options v = {.auth_authorizer_name = NAME_EQ "A",
                                   .auth_authorizer_signature = SIG_EQ "ab+c",
                                   .auth_token_key_name = "token",
                                   .auth_token_value = "token=abc"};
    username_is(&v, NULL, "?" NAME_EQ "A&" SIG_EQ "ab%2Bc&token=abc");
    /* further in, the value is taken as the parameters themselves (as the AWS SDKs do) */
    mqtt5_custom_auth_options w = {.auth_authorizer_signature = "x=1&" SIG_EQ "a+b"};
    username_is(&w, NULL, "?x=1&" SIG_EQ "a+b");
}

static void test_username_invalid(void **state)
{
    (void)state;
    mqtt5_custom_auth_options ca = {0};
    ca.auth_authorizer_name = "bad\nname";
    username_fails(&ca, NULL, "auth_authorizer_name");
    ca.auth_authorizer_name = "";
    username_fails(&ca, NULL, "auth_authorizer_name");
    ca.auth_authorizer_name = "A";
    ca.auth_authorizer_signature = "sig\x7f";
    username_fails(&ca, NULL, "auth_authorizer_signature");
    ca.auth_authorizer_signature = "";
    username_fails(&ca, NULL, "auth_authorizer_signature");
    ca.auth_authorizer_signature = NULL;
    ca.auth_token_key_name = "to\tken";
    ca.auth_token_value = "v";
    username_fails(&ca, NULL, "auth_token_key_name");
    ca.auth_token_key_name = "";
    username_fails(&ca, NULL, "auth_token_key_name");
    ca.auth_token_key_name = "token";
    ca.auth_token_value = "v\r";
    username_fails(&ca, NULL, "auth_token_value");
    ca.auth_token_value = "";
    username_fails(&ca, NULL, "auth_token_value");
    ca.auth_token_value = "v";
    ca.auth_username = "bad\x01user";
    username_fails(&ca, NULL, "auth_username");
    ca.auth_username = "bad\xff";
    username_fails(&ca, NULL, "auth_username");
    ca.auth_username = NULL;
    mqtt5_builder_options o = opts("localhost");
    o.username = "x\x1b";
    username_fails(&ca, &o, "username");
    mqtt5_connect co = {0};
    co.has_username = true;
    co.username = (mqtt5_str){"a\0b", 3};
    o.connect_options = &co;
    username_fails(&ca, &o, "connect_options.username");

    char *u;
    size_t n;
    mqtt5_codec_status st;
    assert_int_equal(mqtt5_builder_custom_auth_username(&ca, NULL, NULL, &n, &st),
                     MQTT5_ERR_INVALID_ARGUMENT);
    assert_int_equal(mqtt5_builder_custom_auth_username(&ca, NULL, &u, NULL, NULL),
                     MQTT5_ERR_INVALID_ARGUMENT);
}

/* The 65535-byte limit counts the built username; the keyword that crosses it is named. */
static void test_username_length_limit(void **state)
{
    (void)state;
    char *base = test_alloc(65537);
    mqtt5_custom_auth_options ca = {.auth_username = base, .auth_authorizer_name = "A"};
    const size_t param = 1 + strlen(NAME_EQ "A"); /* "?x-amz-customauthorizer-name=A" */

    memset(base, 'u', 65535 - param);
    base[65535 - param] = '\0';
    char *u = NULL;
    size_t n = 0;
    assert_int_equal(mqtt5_builder_custom_auth_username(&ca, NULL, &u, &n, NULL), 0);
    assert_int_equal(n, 65535);
    free(u);

    base[65535 - param] = 'u';
    base[65536 - param] = '\0';
    username_fails(&ca, NULL, "auth_authorizer_name");

    /* encoding triples the signature: 20000 '+' become 60000 bytes */
    char *sig = test_alloc(20001);
    memset(sig, '+', 20000);
    sig[20000] = '\0';
    memset(base, 'u', 6000);
    base[6000] = '\0';
    mqtt5_custom_auth_options s = {.auth_username = base, .auth_authorizer_signature = sig};
    username_fails(&s, NULL, "auth_authorizer_signature");
    base[5000] = '\0';
    assert_int_equal(mqtt5_builder_custom_auth_username(&s, NULL, &u, &n, NULL), 0);
    assert_int_equal(n, 5000 + 1 + strlen(SIG_EQ) + 60000);
    free(u);

    /* a base alone over the limit */
    memset(base, 'u', 65536);
    base[65536] = '\0';
    mqtt5_custom_auth_options big = {.auth_username = base};
    username_fails(&big, NULL, "auth_username");
}

/* ---- the plan and the resolver -------------------------------------------------------------- */

static mqtt5_builder_custom_auth_plan plan;
static mqtt5_builder_resolved *cur;

static int teardown(void **state)
{
    (void)state;
    mqtt5_builder_resolved_free(cur);
    cur = NULL;
    mqtt5_builder_custom_auth_plan_clear(&plan);
    return 0;
}

static mqtt5_builder_resolved *plan_resolve(const mqtt5_custom_auth_options *ca,
                                            const mqtt5_builder_options *o, bool websocket)
{
    mqtt5_builder_resolved_free(cur);
    cur = NULL;
    mqtt5_builder_custom_auth_plan_clear(&plan);
    mqtt5_codec_status st;
    int rc = mqtt5_builder_custom_auth_plan_init(&plan, ca, o, websocket, &st);
    if (rc) fail_msg("plan: %s field=%s", mqtt5_error_name(rc), st.field ? st.field : "-");
    rc = mqtt5_builder_resolve(&plan.options, &plan.tls, &cur, &st);
    if (rc) fail_msg("resolve: %s field=%s", mqtt5_error_name(rc), st.field ? st.field : "-");
    return cur;
}

static void assert_str(mqtt5_str s, const char *expected)
{
    if (s.len != strlen(expected) || memcmp(s.ptr, expected, s.len) != 0)
        fail_msg("got '%.*s', want '%s'", (int)s.len, s.ptr, expected);
}

static void test_metrics_after(void **state)
{
    (void)state;
    mqtt5_builder_options o = opts("localhost");
    mqtt5_custom_auth_options ca = {.auth_username = "u", .auth_authorizer_name = "A"};
    mqtt5_builder_resolved *r = plan_resolve(&ca, &o, false);
    assert_true(r->client.core.connect.has_username);
    assert_str(r->client.core.connect.username, "u?" NAME_EQ "A&" METRICS);
    /* no parameter: the metrics open the query */
    mqtt5_custom_auth_options bare = {.auth_username = "u"};
    assert_str(plan_resolve(&bare, &o, false)->client.core.connect.username, "u?" METRICS);
    assert_str(plan_resolve(NULL, &o, true)->client.core.connect.username, "?" METRICS);
    /* disabled: exactly the built username */
    o.enable_metrics_collection = false;
    r = plan_resolve(&ca, &o, false);
    assert_str(r->client.core.connect.username, "u?" NAME_EQ "A");
    /* nothing to send: no username at all */
    assert_false(plan_resolve(NULL, &o, false)->client.core.connect.has_username);
    mqtt5_custom_auth_options empty = {.auth_username = ""};
    assert_false(plan_resolve(&empty, &o, false)->client.core.connect.has_username);
}

static void test_plan_direct(void **state)
{
    (void)state;
    mqtt5_builder_options o = opts("abc-ats.iot.us-east-1.amazonaws.com");
    mqtt5_custom_auth_options ca = {.auth_authorizer_name = "A", .auth_password = "pw"};
    mqtt5_builder_resolved *r = plan_resolve(&ca, &o, false);
    assert_int_equal(r->client.port, 443);
    assert_ptr_equal(r->client.tls, &r->tls);
    assert_true(r->tls.verify_peer);
    assert_null(r->tls.cert_file);
    assert_null(r->tls.cert_bytes);
    assert_null(r->client.websocket);
    assert_int_equal(r->tls.alpn_count, 1);
    assert_string_equal(r->tls.alpn[0], "mqtt");
    assert_true(r->client.core.connect.has_password);
    assert_int_equal(r->client.core.connect.password.len, 2);
    assert_memory_equal(r->client.core.connect.password.ptr, "pw", 2);
    assert_true(r->client.core.iot_core); /* AUTO on an AWS endpoint */

    /* port and ALPN given: kept */
    static const char *const mine[] = {"x-mine", "mqtt"};
    o.port = 8443;
    o.alpn_list = mine;
    o.alpn_count = 2;
    r = plan_resolve(&ca, &o, false);
    assert_int_equal(r->client.port, 8443);
    assert_ptr_equal(r->tls.alpn, mine);
    assert_int_equal(r->tls.alpn_count, 2);

    /* no auth_password: the password keyword; none at all: no password */
    static const uint8_t kw[] = {'k', 0, 'w'};
    o.password = kw;
    o.password_len = 3;
    ca.auth_password = NULL;
    r = plan_resolve(&ca, &o, false);
    assert_int_equal(r->client.core.connect.password.len, 3);
    assert_memory_equal(r->client.core.connect.password.ptr, kw, 3);
    o.password = NULL;
    o.password_len = 0;
    assert_false(plan_resolve(&ca, &o, false)->client.core.connect.has_password);
    /* an empty auth_password is sent as an empty password */
    ca.auth_password = "";
    r = plan_resolve(&ca, &o, false);
    assert_true(r->client.core.connect.has_password);
    assert_int_equal(r->client.core.connect.password.len, 0);
}

static void test_plan_websocket(void **state)
{
    (void)state;
    mqtt5_builder_options o = opts("localhost");
    mqtt5_custom_auth_options ca = {.auth_username = "u", .auth_password = "pw"};
    mqtt5_builder_resolved *r = plan_resolve(&ca, &o, true);
    assert_int_equal(r->client.port, 443);
    assert_non_null(r->client.websocket);
    assert_null(r->client.websocket->transform); /* nothing signed */
    assert_null(r->client.websocket->path);      /* "/mqtt" */
    assert_int_equal(r->tls.alpn_count, 1);
    assert_string_equal(r->tls.alpn[0], "http/1.1");
    assert_str(r->client.core.connect.username, "u?" METRICS);
    assert_int_equal(r->client.core.connect.password.len, 2);
    o.port = 9443;
    assert_int_equal(plan_resolve(&ca, &o, true)->client.port, 9443);
}

static void test_plan_connect_options(void **state)
{
    (void)state;
    mqtt5_builder_options o = opts("localhost");
    o.enable_metrics_collection = false;
    mqtt5_connect co = {0};
    co.client_id = S("from-template");
    co.has_username = true;
    co.username = S("template-user");
    co.has_password = true;
    co.password = B("template-pw");
    o.connect_options = &co;
    mqtt5_custom_auth_options ca = {.auth_authorizer_name = "A", .auth_password = "pw"};
    mqtt5_builder_resolved *r = plan_resolve(&ca, &o, false);
    /* the built username replaces the template's (which was its base) */
    assert_str(r->client.core.connect.username, "template-user?" NAME_EQ "A");
    assert_str(r->client.core.connect.client_id, "from-template");
    /* a password in the template wins, as every other template field does */
    assert_int_equal(r->client.core.connect.password.len, strlen("template-pw"));
    /* the caller's template is not changed */
    assert_true(co.has_username);
    assert_str(co.username, "template-user");
}

static void test_plan_errors(void **state)
{
    (void)state;
    mqtt5_codec_status st;
    mqtt5_custom_auth_options ca = {.auth_authorizer_name = "A\n"};
    mqtt5_builder_options o = opts("localhost");
    assert_int_equal(mqtt5_builder_custom_auth_plan_init(&plan, &ca, &o, false, &st),
                     MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "auth_authorizer_name");
    assert_null(plan.username);
    assert_int_equal(mqtt5_builder_custom_auth_plan_init(&plan, &ca, NULL, false, &st),
                     MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "options");
    char *pw = test_alloc(65537);
    memset(pw, 'p', 65536);
    pw[65536] = '\0';
    mqtt5_custom_auth_options big = {.auth_password = pw};
    assert_int_equal(mqtt5_builder_custom_auth_plan_init(&plan, &big, &o, false, &st),
                     MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "auth_password");
    assert_null(plan.username);
    pw[65535] = '\0';
    assert_int_equal(mqtt5_builder_custom_auth_plan_init(&plan, &big, &o, false, &st), 0);
    assert_int_equal(plan.options.password_len, 65535);
    mqtt5_builder_custom_auth_plan_clear(&plan);
}

/* ---- the exact CONNECT ---------------------------------------------------------------------- */

static void core_lifecycle(void *user, const mqtt5_lifecycle_event *ev)
{
    (void)user, (void)ev;
}

static void core_publish(void *user, const mqtt5_inbound_publish *msg)
{
    (void)user, (void)msg;
}

static void core_complete(void *user, const mqtt5_op_completion *done)
{
    (void)user, (void)done;
}

static void assert_bytes(const uint8_t *got, size_t n, const char *expected_hex)
{
    size_t want_len = 0;
    uint8_t *want = hex_bytes(expected_hex, &want_len);
    if (n != want_len || memcmp(got, want, n) != 0) {
        char g[1024], w[1024];
        hex_format(got, n, g, sizeof g);
        hex_format(want, want_len, w, sizeof w);
        fail_msg("CONNECT differs:\n got  %s\n want %s", g, w);
    }
}

/* Every keyword at once: the template the resolver makes, encoded by the codec, and the bytes
 * the client core sends on a new transport (the same plus the Receive Maximum and Maximum
 * Packet Size the core owns). */
static void test_connect_bytes(void **state)
{
    (void)state;
    /* the golden bytes hold the metrics' version: update them with MQTT5_VERSION_STRING */
    assert_string_equal(MQTT5_VERSION_STRING, "0.1.0");
    mqtt5_builder_options o = opts("localhost");
    o.client_id = "ca-client";
    mqtt5_custom_auth_options ca = {.auth_username = "user",
                                    .auth_authorizer_name = "MyAuth",
                                    .auth_authorizer_signature = "sig+/=",
                                    .auth_password = "secret",
                                    .auth_token_key_name = "token",
                                    .auth_token_value = "abc"};
    mqtt5_builder_resolved *r = plan_resolve(&ca, &o, false);

#define USERNAME_HEX                                                                               \
    "0077"                                                                 /* 119 bytes: */        \
    "75736572"                                                             /* user */              \
    "3f782d616d7a2d637573746f6d617574686f72697a65722d6e616d653d"           /* ?x-amz-...-name= */  \
    "4d7941757468"                                                         /* MyAuth */            \
    "26782d616d7a2d637573746f6d617574686f72697a65722d7369676e61747572653d" /* &...-signature= */   \
    "7369672532422f253344"                                                 /* sig%2B/%3D */        \
    "26746f6b656e3d616263"                                                 /* &token=abc */        \
    "2653444b3d6d717474352d632656657273696f6e3d302e312e30" /* &SDK=mqtt5-c&Version=0.1.0 */

    /* the template as the codec encodes it */
    mqtt5_packet p = {.type = MQTT5_CONNECT};
    p.u.connect = r->client.core.connect;
    uint8_t buf[512];
    size_t n = 0;
    mqtt5_codec_status st;
    assert_int_equal(mqtt5_packet_encode(&p, buf, sizeof buf, &n, &st), 0);
    assert_bytes(buf, n,
                 "10 9701"                          /* CONNECT, remaining length 151 */
                 "0004 4d515454 05"                 /* "MQTT", version 5 */
                 "c2"                               /* flags: username, password, clean start */
                 "04b0"                             /* keep alive 1200 */
                 "00"                               /* no properties */
                 "0009 63612d636c69656e74"          /* client id "ca-client" */
                 USERNAME_HEX "0006 736563726574"); /* password "secret" */

    /* what the client core sends */
    mqtt5_client_core_options co = r->client.core;
    co.callbacks = (mqtt5_client_core_callbacks){
        .on_lifecycle = core_lifecycle, .on_publish = core_publish, .on_complete = core_complete};
    mqtt5_client_core *core = NULL;
    assert_int_equal(mqtt5_client_core_new(&co, &core, &st), 0);
    uint64_t wake;
    assert_int_equal(mqtt5_client_core_start(core, 0), 0);
    assert_int_equal(mqtt5_client_core_service(core, 0, &wake), 0);
    mqtt5_client_want want;
    mqtt5_client_core_want(core, &want);
    assert_true(want.transport_open);
    assert_int_equal(mqtt5_client_core_on_transport_open(core, 0), 0);
    const uint8_t *data = NULL;
    size_t len = 0;
    assert_int_equal(mqtt5_client_core_mem_send(core, 0, &data, &len), 0);
    assert_bytes(data, len,
                 "10 9f01" /* CONNECT, remaining length 159 */
                 "0004 4d515454 05 c2 04b0"
                 "08 2100 64 27 00020000" /* Receive Maximum 100, Maximum Packet Size 131072 */
                 "0009 63612d636c69656e74" USERNAME_HEX "0006 736563726574");
    assert_int_equal(mqtt5_client_core_destroy(core), 0);
#undef USERNAME_HEX
}

/* ---- the public builders (no network) ------------------------------------------------------- */

static void on_terminated(void *f)
{
    mqtt5_future_complete(f, 0);
}

static void release_client(mqtt5_client *c)
{
    mqtt5_future *done = mqtt5_future_new();
    assert_non_null(done);
    assert_int_equal(mqtt5_client_release(c, on_terminated, done), 0);
    assert_int_equal(mqtt5_future_wait(done, 10000), 0);
    mqtt5_future_release(done);
}

static char log_text[16384];
static size_t log_len;

static void log_sink(void *user, mqtt5_log_level level, mqtt5_log_subject subject, const char *line)
{
    (void)user, (void)level, (void)subject;
    size_t n = strlen(line);
    if (log_len + n + 2 < sizeof log_text) {
        memcpy(log_text + log_len, line, n);
        log_len += n;
        log_text[log_len++] = '\n';
        log_text[log_len] = '\0';
    }
}

static void test_public_builders(void **state)
{
    (void)state;
    log_len = 0;
    log_text[0] = '\0';
    mqtt5_log_set(MQTT5_LOG_TRACE, log_sink, NULL);

    mqtt5_builder_options o = opts("127.0.0.1");
    mqtt5_custom_auth_options ca = {.auth_username = "u",
                                    .auth_authorizer_name = "A",
                                    .auth_authorizer_signature = "SIGNATURE-SECRET",
                                    .auth_password = "PASSWORD-SECRET",
                                    .auth_token_key_name = "token",
                                    .auth_token_value = "TOKEN-SECRET"};
    mqtt5_client *c = NULL;
    mqtt5_codec_status st;
    int rc = mqtt5_builder_direct_with_custom_authorizer(&ca, &o, &c, &st);
    if (rc) fail_msg("direct: %s field=%s", mqtt5_error_name(rc), st.field ? st.field : "-");
    assert_non_null(c);
    release_client(c);
    c = NULL;
    rc = mqtt5_builder_websockets_with_custom_authorizer(NULL, &ca, &o, &c, &st);
    if (rc) fail_msg("websockets: %s field=%s", mqtt5_error_name(rc), st.field ? st.field : "-");
    assert_non_null(c);
    release_client(c);
    c = NULL;
    rc = mqtt5_builder_websockets_with_custom_authorizer("us-east-1", NULL, &o, &c, NULL);
    assert_int_equal(rc, 0);
    release_client(c);

    /* errors name the keyword; *out stays NULL */
    c = (mqtt5_client *)(uintptr_t)1;
    mqtt5_custom_auth_options bad = ca;
    bad.auth_token_value = "TOKEN-SECRET\n";
    assert_int_equal(mqtt5_builder_direct_with_custom_authorizer(&bad, &o, &c, &st),
                     MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "auth_token_value");
    assert_null(c);
    c = (mqtt5_client *)(uintptr_t)1;
    assert_int_equal(mqtt5_builder_websockets_with_custom_authorizer(NULL, &bad, &o, &c, &st),
                     MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "auth_token_value");
    assert_null(c);
    o.endpoint = NULL;
    assert_int_equal(mqtt5_builder_direct_with_custom_authorizer(&ca, &o, &c, &st),
                     MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "endpoint");
    o.endpoint = "127.0.0.1";
    o.ca_filepath = "/nonexistent/ca.pem";
    assert_int_equal(mqtt5_builder_websockets_with_custom_authorizer(NULL, &ca, &o, &c, &st),
                     MQTT5_ERR_FILE);
    assert_string_equal(st.field, "ca_filepath");
    assert_int_equal(mqtt5_builder_direct_with_custom_authorizer(&ca, NULL, &c, &st),
                     MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "options");
    assert_int_equal(mqtt5_builder_direct_with_custom_authorizer(&ca, &o, NULL, &st),
                     MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "out");

    mqtt5_log_set(MQTT5_LOG_NONE, NULL, NULL);
    assert_null(strstr(log_text, "SECRET"));
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL); /* the private groups' joiners finish freeing (LeakSanitizer) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_username_no_base),
        cmocka_unit_test(test_username_base),
        cmocka_unit_test(test_username_base_fallbacks),
        cmocka_unit_test(test_username_signature_encoding),
        cmocka_unit_test(test_username_token_needs_both),
        cmocka_unit_test(test_username_no_duplicates),
        cmocka_unit_test(test_username_invalid),
        cmocka_unit_test(test_username_length_limit),
        cmocka_unit_test_teardown(test_metrics_after, teardown),
        cmocka_unit_test_teardown(test_plan_direct, teardown),
        cmocka_unit_test_teardown(test_plan_websocket, teardown),
        cmocka_unit_test_teardown(test_plan_connect_options, teardown),
        cmocka_unit_test_teardown(test_plan_errors, teardown),
        cmocka_unit_test_teardown(test_connect_bytes, teardown),
        cmocka_unit_test(test_public_builders),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
