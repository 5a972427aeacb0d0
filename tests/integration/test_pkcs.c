/*
 * tests/integration/test_pkcs.c - mutual TLS with PKCS#12 files and PKCS#11 keys end to end,
 * through the builders (mqtt5_builder_mtls_with_pkcs12, mqtt5_builder_mtls_with_pkcs11) against
 * mosquitto's mutual-TLS listener (FX_PORT_MTLS, client certificates signed by the fixture's CA).
 *
 * Run by ctest as `fixture.sh run <this exe>`. At start, in $FX_DIR/pkcs: PKCS#12 files made by
 * the openssl CLI from the fixture's client certificates and keys (OpenSSL 3 defaults with the
 * EC client, -legacy with the RSA client), and a SoftHSM2 token "it-token" (PIN 1234,
 * SOFTHSM2_CONF pointing there) into which the fixture's EC and RSA client keys are imported, so
 * the fixture's certificates match the token's keys.
 *
 * Success: each of PKCS#12 default, PKCS#12 legacy, PKCS#11 EC (certificate from a file) and
 * PKCS#11 RSA (certificate from memory) connects, subscribes to an own topic, publishes QoS 1 and
 * receives its message back. Failure at client creation, before any connection: a wrong PIN
 * (MQTT5_ERR_TLS_CREDENTIALS, keyword "user_pin", CKR_PIN_INCORRECT), a wrong PKCS#12 password
 * ("pkcs12_password"), a missing key label ("private_key_label"). The PKCS#11 cases skip when
 * softhsm2-util is not installed. Only the public API and the fixture helpers.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers/fx_builder.h"
#include "helpers/fx_env.h"
#include "mqtt5/builder.h"
#include "mqtt5/client.h"
#include "mqtt5/mqtt5.h"
#include "mqtt5/runtime.h"

#define P12_PASS "it-p12-pass"
#define PIN "1234"

static char work[512];
static char p12_default[600], p12_legacy[600];
static bool have_hsm;
static const char *hsm_module = "/usr/lib/softhsm/libsofthsm2.so";

static int run(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0) fprintf(stderr, "test_pkcs: setup command failed (%d): %s\n", rc, cmd);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    const char *fx_dir = fx_env("FX_DIR");
    if (!fx_dir || !fx_env("FX_PKI")) {
        fprintf(stderr, "FX_DIR/FX_PKI not set: run this test through fixture.sh run\n");
        return -1;
    }
    snprintf(work, sizeof work, "%s/pkcs", fx_dir);
    if (mkdir(work, 0700) != 0) return -1;
    char cmd[2048];
    snprintf(p12_default, sizeof p12_default, "%s/client.p12", work);
    snprintf(cmd, sizeof cmd,
             "openssl pkcs12 -export -in %s -inkey %s -certfile %s -name test-client "
             "-out %s -passout pass:" P12_PASS,
             fx_pki("client.crt"), fx_pki("client.key"), fx_pki("ca.crt"), p12_default);
    if (run(cmd)) return -1;
    snprintf(p12_legacy, sizeof p12_legacy, "%s/client-rsa-legacy.p12", work);
    snprintf(cmd, sizeof cmd,
             "openssl pkcs12 -export -legacy -in %s -inkey %s -certfile %s -name test-client-rsa "
             "-out %s -passout pass:" P12_PASS,
             fx_pki("client-rsa.crt"), fx_pki("client-rsa.key"), fx_pki("ca.crt"), p12_legacy);
    if (run(cmd)) return -1;

    if (system("command -v softhsm2-util >/dev/null 2>&1") != 0) return 0;
    const char *m = getenv("MQTT5_SOFTHSM_MODULE");
    if (m && *m) hsm_module = m;
    char path[600];
    snprintf(path, sizeof path, "%s/tokens", work);
    if (mkdir(path, 0700) != 0) return -1;
    snprintf(path, sizeof path, "%s/softhsm2.conf", work);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n",
            work);
    fclose(f);
    setenv("SOFTHSM2_CONF", path, 1);
    if (run("softhsm2-util --init-token --free --label it-token --so-pin 5678 --pin " PIN
            " >/dev/null"))
        return -1;
    snprintf(cmd, sizeof cmd,
             "softhsm2-util --import %s --token it-token --label client-ec --id 01 --pin " PIN
             " >/dev/null && softhsm2-util --import %s --token it-token --label client-rsa "
             "--id 02 --pin " PIN " >/dev/null",
             fx_pki("client.key"), fx_pki("client-rsa.key"));
    if (run(cmd)) return -1;
    have_hsm = true;
    return 0;
}

#define NEED_HSM()                                                                                 \
    do {                                                                                           \
        if (!have_hsm) {                                                                           \
            printf("    SKIP: softhsm2-util is not installed (apt-get install softhsm2)\n");       \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- common steps --------------------------------------------------------------------------- */

static mqtt5_builder_options builder_options(fx_rec *r, const char *client_id)
{
    mqtt5_builder_options o;
    mqtt5_builder_options_init(&o);
    o.endpoint = "localhost";
    o.port = fx_env_port("FX_PORT_MTLS");
    if (o.port == 0) fail_msg("FX_PORT_MTLS not set");
    o.ca_filepath = fx_pki("ca.crt");
    o.client_id = client_id;
    o.keep_alive_interval_sec = 60;
    o.min_reconnect_delay_ms = 30000; /* one attempt per test */
    o.max_reconnect_delay_ms = 30000;
    fx_rec_attach(r, &o);
    return o;
}

/* Start `c`, wait for CONNECTION_SUCCESS, subscribe to an own topic, publish QoS 1 to it,
 * receive it back, release. */
static void roundtrip(mqtt5_client *c, fx_rec *r, const char *tag)
{
    assert_int_equal(mqtt5_client_start(c), 0);
    if (!fx_rec_wait(r, &r->successes, 1))
        fail_msg("%s: no connection: %s (%s)", tag, mqtt5_error_name(r->first_error), r->detail);
    char topic[128], payload[64];
    snprintf(topic, sizeof topic, "it/%ld/pkcs/%s", (long)getpid(), tag);
    snprintf(payload, sizeof payload, "mutual TLS with %s", tag);
    const char *why = fx_rec_roundtrip(c, r, topic, payload);
    if (why) fail_msg("%s: %s", tag, why);
    printf("    %s: connected, subscribed, published and received over mutual TLS\n", tag);
    assert_int_equal(fx_builder_release(c), 0);
}

static void client_id(char *out, size_t cap, const char *tag)
{
    snprintf(out, cap, "it-pkcs-%s-%ld", tag, (long)getpid());
}

/* ---- PKCS#12 -------------------------------------------------------------------------------- */

static void pkcs12_roundtrip(const char *tag, const char *file)
{
    fx_rec r;
    fx_rec_init(&r);
    char id[64];
    client_id(id, sizeof id, tag);
    mqtt5_builder_options o = builder_options(&r, id);
    mqtt5_client *c = NULL;
    mqtt5_codec_status st;
    int rc = mqtt5_builder_mtls_with_pkcs12(file, P12_PASS, &o, &c, &st);
    if (rc)
        fail_msg("builder: %s (%s: %s)", mqtt5_error_name(rc), st.field ? st.field : "-",
                 st.detail ? st.detail : "-");
    roundtrip(c, &r, tag);
    fx_rec_destroy(&r);
}

static void test_pkcs12_default(void **state)
{
    (void)state;
    pkcs12_roundtrip("p12-default", p12_default);
}

static void test_pkcs12_legacy(void **state)
{
    (void)state;
    pkcs12_roundtrip("p12-legacy", p12_legacy);
}

static void test_pkcs12_wrong_password(void **state)
{
    (void)state;
    fx_rec r;
    fx_rec_init(&r);
    mqtt5_builder_options o = builder_options(&r, "it-pkcs-wrong-pass");
    mqtt5_client *c = NULL;
    mqtt5_codec_status st;
    assert_int_equal(mqtt5_builder_mtls_with_pkcs12(p12_default, "wrong", &o, &c, &st),
                     MQTT5_ERR_TLS_CREDENTIALS);
    assert_null(c);
    assert_string_equal(st.field, "pkcs12_password");
    assert_non_null(strstr(st.detail, "wrong password (MAC verification failed)"));
    printf("    %s: %s\n", st.field, st.detail);
    fx_rec_destroy(&r);
}

/* ---- PKCS#11 -------------------------------------------------------------------------------- */

static void test_pkcs11_ec(void **state)
{
    (void)state;
    NEED_HSM();
    fx_rec r;
    fx_rec_init(&r);
    char id[64];
    client_id(id, sizeof id, "p11-ec");
    mqtt5_builder_options o = builder_options(&r, id);
    mqtt5_builder_pkcs11_options p = {
        .pkcs11_lib = hsm_module,
        .user_pin = PIN,
        .token_label = "it-token",
        .private_key_label = "client-ec",
        .cert_filepath = fx_pki("client.crt"),
    };
    mqtt5_client *c = NULL;
    mqtt5_codec_status st;
    int rc = mqtt5_builder_mtls_with_pkcs11(&p, &o, &c, &st);
    if (rc)
        fail_msg("builder: %s (%s: %s)", mqtt5_error_name(rc), st.field ? st.field : "-",
                 st.detail ? st.detail : "-");
    roundtrip(c, &r, "p11-ec");
    fx_rec_destroy(&r);
}

static void test_pkcs11_rsa(void **state)
{
    (void)state;
    NEED_HSM();
    fx_rec r;
    fx_rec_init(&r);
    char id[64];
    client_id(id, sizeof id, "p11-rsa");
    mqtt5_builder_options o = builder_options(&r, id);
    size_t len = 0;
    uint8_t *cert = fx_read_file(fx_pki("client-rsa.crt"), &len);
    assert_non_null(cert);
    mqtt5_builder_pkcs11_options p = {
        .pkcs11_lib = hsm_module,
        .user_pin = PIN,
        .private_key_label = "client-rsa", /* no token label: the token showing this key */
        .cert_bytes = cert,
        .cert_len = len,
    };
    mqtt5_client *c = NULL;
    mqtt5_codec_status st;
    int rc = mqtt5_builder_mtls_with_pkcs11(&p, &o, &c, &st);
    free(cert); /* read at creation only */
    if (rc)
        fail_msg("builder: %s (%s: %s)", mqtt5_error_name(rc), st.field ? st.field : "-",
                 st.detail ? st.detail : "-");
    roundtrip(c, &r, "p11-rsa");
    fx_rec_destroy(&r);
}

static void test_pkcs11_errors_at_creation(void **state)
{
    (void)state;
    NEED_HSM();
    fx_rec r;
    fx_rec_init(&r);
    mqtt5_builder_options o = builder_options(&r, "it-pkcs-p11-errors");
    mqtt5_builder_pkcs11_options p = {
        .pkcs11_lib = hsm_module,
        .user_pin = "9999",
        .token_label = "it-token",
        .private_key_label = "client-ec",
        .cert_filepath = fx_pki("client.crt"),
    };
    mqtt5_client *c = NULL;
    mqtt5_codec_status st;
    assert_int_equal(mqtt5_builder_mtls_with_pkcs11(&p, &o, &c, &st), MQTT5_ERR_TLS_CREDENTIALS);
    assert_null(c);
    assert_string_equal(st.field, "user_pin");
    assert_non_null(strstr(st.detail, "CKR_PIN_INCORRECT"));
    printf("    %s: %s\n", st.field, st.detail);

    p.user_pin = PIN;
    p.private_key_label = "no-such-key";
    assert_int_equal(mqtt5_builder_mtls_with_pkcs11(&p, &o, &c, &st), MQTT5_ERR_TLS_CREDENTIALS);
    assert_null(c);
    assert_string_equal(st.field, "private_key_label");
    assert_non_null(strstr(st.detail, "no private key labelled 'no-such-key' on token 'it-token'"));
    printf("    %s: %s\n", st.field, st.detail);
    fx_rec_destroy(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pkcs12_default),
        cmocka_unit_test(test_pkcs12_legacy),
        cmocka_unit_test(test_pkcs12_wrong_password),
        cmocka_unit_test(test_pkcs11_ec),
        cmocka_unit_test(test_pkcs11_rsa),
        cmocka_unit_test(test_pkcs11_errors_at_creation),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
