/*
 * tests/integration/test_custom_authorizer.c - the custom-authorizer builders end to end
 * (mqtt5_builder_direct_with_custom_authorizer, mqtt5_builder_websockets_with_custom_authorizer).
 *
 * Run by ctest as `fixture.sh run <this exe>`. Direct: through the fixture's custom-authorizer
 * front (FX_PORT_ALPN_MQTT: TLS selecting only ALPN "mqtt", reading the CONNECT and answering
 * CONNACK 0x86 unless username and password are the FX_CUSTOM_AUTH_* ones, then piping to
 * mosquitto): the right credentials make a QoS 1 round trip (ALPN "mqtt" reported), a wrong
 * password, a wrong token value or a missing signature fail with MQTT5_ERR_CONNACK_REFUSED
 * (reason 0x86), a client offering another ALPN fails the handshake and one offering none is
 * closed. WebSockets: mosquitto's wss:// listener (FX_PORT_WSS, anonymous allowed) makes the
 * round trip, and mosquitto's log shows the CONNECT's username with the custom-authorizer
 * parameters and the SDK metrics. Without node the direct cases skip.
 * Only the public API (builder.h, client.h, runtime.h, tls.h) and the fixture helpers.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers/fx_builder.h"
#include "helpers/fx_env.h"
#include "mqtt5/builder.h"
#include "mqtt5/client.h"
#include "mqtt5/mqtt5.h"
#include "mqtt5/runtime.h"
#include "mqtt5/tls.h"

/* ---- common steps --------------------------------------------------------------------------- */

static const char *need(const char *var)
{
    const char *v = fx_env(var);
    if (!v) fail_msg("%s not set: run this test through tests/integration/fixture.sh run", var);
    return v;
}

/* The fixture's credentials, as the sample takes them. */
static mqtt5_custom_auth_options fixture_credentials(void)
{
    return (mqtt5_custom_auth_options){
        .auth_username = need("FX_CUSTOM_AUTH_USERNAME"),
        .auth_authorizer_name = need("FX_CUSTOM_AUTH_AUTHORIZER_NAME"),
        .auth_authorizer_signature = need("FX_CUSTOM_AUTH_SIGNATURE"),
        .auth_password = need("FX_CUSTOM_AUTH_PASSWORD"),
        .auth_token_key_name = need("FX_CUSTOM_AUTH_TOKEN_KEY_NAME"),
        .auth_token_value = need("FX_CUSTOM_AUTH_TOKEN_VALUE"),
    };
}

static mqtt5_builder_options builder_options(fx_rec *r, uint16_t port, const char *client_id)
{
    mqtt5_builder_options o;
    mqtt5_builder_options_init(&o);
    o.endpoint = "localhost";
    o.port = port;
    o.ca_filepath = fx_pki("ca.crt");
    o.client_id = client_id;
    o.keep_alive_interval_sec = 60;
    o.min_reconnect_delay_ms = 30000; /* one attempt per test */
    o.max_reconnect_delay_ms = 30000;
    fx_rec_attach(r, &o);
    return o;
}

/* Subscribe to an own topic, publish QoS 1 to it, receive it back. */
static void roundtrip(mqtt5_client *c, fx_rec *r, const char *tag)
{
    char topic[128], payload[64];
    snprintf(topic, sizeof topic, "it/%ld/custom-auth/%s", (long)getpid(), tag);
    snprintf(payload, sizeof payload, "custom authorizer %s", tag);
    const char *why = fx_rec_roundtrip(c, r, topic, payload);
    if (why) fail_msg("%s: %s", tag, why);
}

static uint16_t front_port(void)
{
    uint16_t port = fx_env_port("FX_PORT_ALPN_MQTT");
    if (port == 0) {
        printf("    FX_PORT_ALPN_MQTT not set (no node): skipped\n");
        skip();
    }
    return port;
}

/* Number of lines of `path` holding `needle`. */
static int count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

/* Build with `ca` through the front; expect CONNACK 0x86 and a "credentials refused" line. */
static void expect_refused(const char *tag, const mqtt5_custom_auth_options *ca,
                           const char *front_reason)
{
    char log[512];
    snprintf(log, sizeof log, "%s/alpn_mqtt_front.log", need("FX_DIR"));
    int refused_before = count_lines(log, front_reason);
    fx_rec r;
    fx_rec_init(&r);
    char id[64];
    snprintf(id, sizeof id, "ca-%s-%ld", tag, (long)getpid());
    mqtt5_builder_options o = builder_options(&r, front_port(), id);
    mqtt5_client *c = NULL;
    mqtt5_codec_status st;
    assert_int_equal(mqtt5_builder_direct_with_custom_authorizer(ca, &o, &c, &st), 0);
    assert_int_equal(mqtt5_client_start(c), 0);
    if (!fx_rec_wait(&r, &r.failures, 1)) fail_msg("%s: no CONNECTION_FAILURE", tag);
    printf("    %s: %s, CONNACK reason %d\n", tag, mqtt5_error_name(r.first_error),
           r.connack_reason);
    assert_int_equal(r.first_error, MQTT5_ERR_CONNACK_REFUSED);
    assert_int_equal(r.connack_reason, 0x86);
    assert_int_equal(r.successes, 0);
    assert_int_equal(fx_builder_release(c), 0);
    fx_rec_destroy(&r);
    assert_true(count_lines(log, front_reason) > refused_before);
}

/* ---- direct ------------------------------------------------------------------------------- */

static void test_direct_roundtrip(void **state)
{
    (void)state;
    uint16_t port = front_port();
    fx_rec r;
    fx_rec_init(&r);
    char id[64];
    snprintf(id, sizeof id, "ca-direct-%ld", (long)getpid());
    mqtt5_builder_options o = builder_options(&r, port, id);
    mqtt5_custom_auth_options ca = fixture_credentials();
    mqtt5_client *c = NULL;
    mqtt5_codec_status st;
    int rc = mqtt5_builder_direct_with_custom_authorizer(&ca, &o, &c, &st);
    if (rc) fail_msg("builder: %s (%s)", mqtt5_error_name(rc), st.field ? st.field : "-");
    r.client = c;
    assert_int_equal(mqtt5_client_start(c), 0);
    if (!fx_rec_wait(&r, &r.successes, 1))
        fail_msg("no CONNECTION_SUCCESS (first failure: %s %s)", mqtt5_error_name(r.first_error),
                 r.detail);
    pthread_mutex_lock(&r.mu);
    printf("    direct: connected, ALPN '%s'\n", r.alpn);
    assert_string_equal(r.alpn, "mqtt");
    pthread_mutex_unlock(&r.mu);
    roundtrip(c, &r, "direct");
    assert_int_equal(r.failures, 0);
    assert_int_equal(fx_builder_release(c), 0);
    fx_rec_destroy(&r);
    char log[512];
    snprintf(log, sizeof log, "%s/alpn_mqtt_front.log", need("FX_DIR"));
    assert_true(count_lines(log, "selected mqtt") >= 1);
    assert_true(count_lines(log, "credentials accepted") >= 1);
}

static void test_direct_wrong_password(void **state)
{
    (void)state;
    front_port();
    mqtt5_custom_auth_options ca = fixture_credentials();
    ca.auth_password = "not-the-password";
    expect_refused("wrong-password", &ca, "credentials refused: wrong password");
    ca.auth_password = NULL;
    expect_refused("no-password", &ca, "credentials refused: no password");
}

static void test_direct_wrong_username(void **state)
{
    (void)state;
    front_port();
    mqtt5_custom_auth_options ca = fixture_credentials();
    ca.auth_token_value = "another-token";
    expect_refused("wrong-token", &ca, "credentials refused: username mismatch");
    ca = fixture_credentials();
    ca.auth_authorizer_signature = NULL;
    expect_refused("no-signature", &ca, "credentials refused: username mismatch");
}

/* Another ALPN than "mqtt": the front aborts the handshake (alert 120). */
static void test_direct_other_alpn_refused(void **state)
{
    (void)state;
    fx_rec r;
    fx_rec_init(&r);
    mqtt5_builder_options o = builder_options(&r, front_port(), "ca-other-alpn");
    static const char *const alpn[] = {"x-amzn-mqtt-ca"};
    o.alpn_list = alpn;
    o.alpn_count = 1;
    mqtt5_custom_auth_options ca = fixture_credentials();
    mqtt5_client *c = NULL;
    assert_int_equal(mqtt5_builder_direct_with_custom_authorizer(&ca, &o, &c, NULL), 0);
    assert_int_equal(mqtt5_client_start(c), 0);
    if (!fx_rec_wait(&r, &r.failures, 1)) fail_msg("no CONNECTION_FAILURE");
    printf("    other-alpn: %s (%s)\n", mqtt5_error_name(r.first_error), r.detail);
    assert_int_equal(r.first_error, MQTT5_ERR_TLS_ALPN_REJECTED);
    assert_int_equal(fx_builder_release(c), 0);
    fx_rec_destroy(&r);
}

/* No ALPN at all (a plain TLS client, not a builder): the front closes the connection. */
static void test_direct_no_alpn_refused(void **state)
{
    (void)state;
    uint16_t port = front_port();
    fx_rec r;
    fx_rec_init(&r);
    mqtt5_event_loop_group_options go;
    mqtt5_event_loop_group_options_init(&go);
    go.threads = 1;
    mqtt5_event_loop_group *g = NULL;
    assert_int_equal(mqtt5_event_loop_group_new(&go, &g), 0);
    mqtt5_tls_options t;
    mqtt5_tls_options_init(&t);
    t.verify_peer = true;
    t.ca_file = fx_pki("ca.crt");
    mqtt5_client_options o;
    mqtt5_client_options_init(&o);
    o.group = g;
    o.host = "localhost";
    o.port = port;
    o.tls = &t;
    o.core.reconnect_min_ms = 30000;
    o.core.reconnect_max_ms = 30000;
    o.core.connect.client_id = (mqtt5_str){"ca-no-alpn", 10};
    o.core.connect.has_username = true;
    o.core.connect.username = (mqtt5_str){"u", 1};
    o.user = &r;
    o.on_lifecycle = fx_rec_on_lifecycle;
    mqtt5_client *c = NULL;
    assert_int_equal(mqtt5_client_new(&o, &c, NULL), 0);
    mqtt5_event_loop_group_release(g, NULL, NULL); /* the client holds its own reference */
    assert_int_equal(mqtt5_client_start(c), 0);
    if (!fx_rec_wait(&r, &r.failures, 1)) fail_msg("no CONNECTION_FAILURE");
    printf("    no-alpn: %s (%s)\n", mqtt5_error_name(r.first_error), r.detail);
    assert_int_equal(r.successes, 0);
    assert_true(r.first_error < 0);
    assert_int_equal(fx_builder_release(c), 0);
    fx_rec_destroy(&r);
}

/* ---- WebSockets ----------------------------------------------------------------------------- */

static void test_websockets_roundtrip(void **state)
{
    (void)state;
    uint16_t port = fx_env_port("FX_PORT_WSS");
    if (!port) fail_msg("FX_PORT_WSS not set");
    fx_rec r;
    fx_rec_init(&r);
    char id[64];
    snprintf(id, sizeof id, "ca-wss-%ld", (long)getpid());
    mqtt5_builder_options o = builder_options(&r, port, id);
    /* fixed values here: the fixture's come with node, this case runs without it */
    mqtt5_custom_auth_options ca = {.auth_username = "ws-device",
                                    .auth_authorizer_name = "WsAuthorizer",
                                    .auth_authorizer_signature = "c2ln+/=",
                                    .auth_password = "ws-password",
                                    .auth_token_key_name = "tok",
                                    .auth_token_value = "ws-token"};
    mqtt5_client *c = NULL;
    mqtt5_codec_status st;
    int rc = mqtt5_builder_websockets_with_custom_authorizer(NULL, &ca, &o, &c, &st);
    if (rc) fail_msg("builder: %s (%s)", mqtt5_error_name(rc), st.field ? st.field : "-");
    assert_int_equal(mqtt5_client_start(c), 0);
    if (!fx_rec_wait(&r, &r.successes, 1))
        fail_msg("no CONNECTION_SUCCESS (first failure: %s %s)", mqtt5_error_name(r.first_error),
                 r.detail);
    roundtrip(c, &r, "wss");
    assert_int_equal(fx_builder_release(c), 0);
    fx_rec_destroy(&r);

    /* mosquitto logged the CONNECT: "New client connected from ... as <id> (p5, c1, k60,
     * u'<username>')" */
    char want[512];
    snprintf(want, sizeof want,
             "as %s (p5, c1, k60, u'ws-device?x-amz-customauthorizer-name=WsAuthorizer"
             "&x-amz-customauthorizer-signature=c2ln%%2B/%%3D&tok=ws-token"
             "&SDK=" MQTT5_SDK_METRICS_NAME "&Version=" MQTT5_VERSION_STRING "')",
             id);
    int n = count_lines(need("FX_MOSQ_LOG"), want);
    if (n < 1) fail_msg("mosquitto's log has no line with \"%s\"", want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_direct_roundtrip),
        cmocka_unit_test(test_direct_wrong_password),
        cmocka_unit_test(test_direct_wrong_username),
        cmocka_unit_test(test_direct_other_alpn_refused),
        cmocka_unit_test(test_direct_no_alpn_refused),
        cmocka_unit_test(test_websockets_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
