/*
 * test_tls_pkcs.c - client credentials from PKCS#12 files and from PKCS#11 tokens, in-process:
 * the TLS context is loaded from the options and proves its key in a full handshake against an
 * OpenSSL server that requires a client certificate (helpers/tls_peer.c, memory BIOs, no
 * sockets), and the builders' resolver maps their keywords onto those options.
 *
 * Fixtures made at start in temp dirs: the test PKI (helpers/tls_pki.c); PKCS#12 files written
 * by the openssl CLI with OpenSSL 3's defaults, with -legacy (RC2-40/3DES, SHA-1 MAC) and with
 * an empty password; a SoftHSM2 token store (SOFTHSM2_CONF in the temp dir) with token
 * "sdk-test" (PIN 1234) holding the EC and RSA client keys and token "other" (PIN 4321) holding
 * the EC key under another label. The PKCS#11 tests skip, saying why, when softhsm2-util is not
 * installed (MQTT5_SOFTHSM_MODULE overrides the module path).
 */
#define _POSIX_C_SOURCE 200809L
#include "helpers/test_common.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "builder/builder_internal.h"
#include "helpers/tls_peer.h"
#include "helpers/tls_pki.h"
#include "mqtt5/builder.h"
#include "mqtt5/tls.h"
#include "transports/tls_internal.h"

#define P12_PASS "p12pass"

static tls_pki pki;
static char dir[64];
static char p12_ec[128], p12_rsa_legacy[128], p12_empty[128], p12_legacy_empty[128];
static char p12_no_chain[128];

static bool have_hsm;
static const char *hsm_module;
static unsigned long slot_sdk, slot_other;

/* ---- setup ---------------------------------------------------------------------------------- */

static void run(const char *cmd)
{
    if (system(cmd) != 0) {
        fprintf(stderr, "setup command failed: %s\n", cmd);
        abort();
    }
}

/* Run `cmd`, return the slot number from softhsm2-util's "reassigned to slot N". */
static unsigned long run_init_token(const char *cmd)
{
    FILE *f = popen(cmd, "r");
    if (!f) abort();
    char line[256];
    unsigned long slot = 0;
    bool found = false;
    while (fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "reassigned to slot ");
        if (p && sscanf(p, "reassigned to slot %lu", &slot) == 1) found = true;
    }
    if (pclose(f) != 0 || !found) {
        fprintf(stderr, "setup command failed: %s\n", cmd);
        abort();
    }
    return slot;
}

static void make_p12(char *out, const char *name, const char *cert, const char *key,
                     const char *extra)
{
    snprintf(out, 128, "%s/%s", dir, name);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "openssl pkcs12 -export -in %s -inkey %s -name test %s -out %s", cert,
             key, extra, out);
    run(cmd);
}

static void setup_hsm(void)
{
    if (system("command -v softhsm2-util >/dev/null 2>&1") != 0) return;
    hsm_module = getenv("MQTT5_SOFTHSM_MODULE");
    if (!hsm_module || !*hsm_module) hsm_module = "/usr/lib/softhsm/libsofthsm2.so";
    char path[256], cmd[1024];
    snprintf(path, sizeof path, "%s/tokens", dir);
    if (mkdir(path, 0700) != 0) abort();
    snprintf(path, sizeof path, "%s/softhsm2.conf", dir);
    FILE *f = fopen(path, "w");
    if (!f) abort();
    fprintf(f, "directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n",
            dir);
    fclose(f);
    setenv("SOFTHSM2_CONF", path, 1);
    slot_other = run_init_token("softhsm2-util --init-token --free --label other --so-pin 5678 "
                                "--pin 4321 2>&1");
    snprintf(cmd, sizeof cmd,
             "softhsm2-util --import %s --token other --label other-ec --id 11 --pin 4321 "
             ">/dev/null",
             pki.ec_key.file);
    run(cmd);
    slot_sdk = run_init_token("softhsm2-util --init-token --free --label sdk-test --so-pin 5678 "
                              "--pin 1234 2>&1");
    snprintf(cmd, sizeof cmd,
             "softhsm2-util --import %s --token sdk-test --label client-ec --id 01 --pin 1234 "
             ">/dev/null",
             pki.ec_key.file);
    run(cmd);
    snprintf(cmd, sizeof cmd,
             "softhsm2-util --import %s --token sdk-test --label client-rsa --id 02 --pin 1234 "
             ">/dev/null",
             pki.rsa_key.file);
    run(cmd);
    have_hsm = true;
}

static int setup(void **state)
{
    (void)state;
    tls_pki_make(&pki);
    snprintf(dir, sizeof dir, "/tmp/mqtt5-pkcs-XXXXXX");
    if (!mkdtemp(dir)) abort();
    char chain[160];
    snprintf(chain, sizeof chain, "-certfile %s", pki.ca.file);
    char opts[256];
    snprintf(opts, sizeof opts, "%s -passout pass:" P12_PASS, chain);
    make_p12(p12_ec, "ec.p12", pki.ec_cert.file, pki.ec_key.file, opts);
    make_p12(p12_no_chain, "ec-no-chain.p12", pki.ec_cert.file, pki.ec_key.file,
             "-passout pass:" P12_PASS);
    snprintf(opts, sizeof opts, "%s -legacy -passout pass:" P12_PASS, chain);
    make_p12(p12_rsa_legacy, "rsa-legacy.p12", pki.rsa_cert.file, pki.rsa_key.file, opts);
    make_p12(p12_empty, "empty.p12", pki.ec_cert.file, pki.ec_key.file, "-passout pass:");
    make_p12(p12_legacy_empty, "legacy-empty.p12", pki.rsa_cert.file, pki.rsa_key.file,
             "-legacy -passout pass:");
    setup_hsm();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (dir[0]) run(cmd);
    tls_pki_free(&pki);
    return 0;
}

#define NEED_HSM()                                                                                 \
    do {                                                                                           \
        if (!have_hsm) {                                                                           \
            print_message("SKIP: softhsm2-util is not installed (apt-get install softhsm2)\n");    \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- helpers -------------------------------------------------------------------------------- */

static mqtt5_tls_options trust_ca(void)
{
    mqtt5_tls_options o;
    mqtt5_tls_options_init(&o);
    o.ca_bytes = (const uint8_t *)pki.ca.p;
    o.ca_len = pki.ca.n;
    return o;
}

static mqtt5_tls_ctx *make_ctx(const mqtt5_tls_options *o)
{
    mqtt5_codec_status st;
    mqtt5_tls_ctx *ctx = NULL;
    int rc = mqtt5_tls_ctx_new(o, &ctx, &st);
    if (rc)
        fail_msg("ctx_new: %s field=%s detail=%s", mqtt5_error_name(rc), st.field ? st.field : "-",
                 st.detail ? st.detail : "-");
    return ctx;
}

/* Handshake with `ctx` against a server requiring a client certificate (TLS 1.3, or 1.2 when
 * tls12), exchange bytes, and check the certificate the server saw. */
static void handshake_as(mqtt5_tls_ctx *ctx, bool tls12, const char *want_cn)
{
    tls_peer t;
    tls_server_opts so = {.require_cert = true, .max_version = tls12 ? TLS1_2_VERSION : 0};
    tls_peer_init(&t, &pki, &so, ctx, "localhost");
    tls_peer_connect(&t);
    if (t.closes) fail_msg("closed: %s %s", mqtt5_error_name(t.close_up_err), t.close_detail);
    assert_int_equal(t.opens, 1);
    assert_true(t.server_done);
    mqtt5_iov v = {(const uint8_t *)"ping", 4};
    assert_int_equal(t.tls->ops->write(t.tls, &v, 1), 0);
    tls_peer_pump(&t);
    assert_int_equal(t.server_in.n, 4);
    tls_peer_server_send(&t, "pong", 4);
    assert_int_equal(t.sink_in.n, 4);
    X509 *peer = SSL_get1_peer_certificate(t.server);
    assert_non_null(peer);
    char cn[64];
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
    assert_string_equal(cn, want_cn);
    X509_free(peer);
    tls_peer_free(&t);
}

static void load_and_handshake(const mqtt5_tls_options *o, const char *want_cn)
{
    mqtt5_tls_ctx *ctx = make_ctx(o);
    handshake_as(ctx, false, want_cn);
    handshake_as(ctx, true, want_cn);
    mqtt5_tls_ctx_release(ctx);
}

static void expect_error(const mqtt5_tls_options *o, int err, const char *field, const char *needle)
{
    mqtt5_codec_status st;
    mqtt5_tls_ctx *ctx = (mqtt5_tls_ctx *)&st;
    int rc = mqtt5_tls_ctx_new(o, &ctx, &st);
    if (rc != err)
        fail_msg("got %s (field %s: %s), want %s", mqtt5_error_name(rc), st.field ? st.field : "-",
                 st.detail ? st.detail : "-", mqtt5_error_name(err));
    assert_null(ctx);
    assert_int_equal(st.error, err);
    assert_non_null(st.field);
    assert_string_equal(st.field, field);
    assert_non_null(st.detail);
    if (needle && !strstr(st.detail, needle)) fail_msg("detail '%s' lacks '%s'", st.detail, needle);
    print_message("    %s: %s\n", st.field, st.detail);
}

static int chain_count(const mqtt5_tls_ctx *ctx)
{
    STACK_OF(X509) *chain = NULL;
    assert_int_equal(SSL_CTX_get0_chain_certs(ctx->ssl, &chain), 1);
    return chain ? sk_X509_num(chain) : 0;
}

/* ---- PKCS#12 -------------------------------------------------------------------------------- */

static void test_pkcs12_default(void **state)
{
    (void)state;
    mqtt5_tls_options o = trust_ca();
    o.pkcs12_file = p12_ec;
    o.pkcs12_password = P12_PASS;
    mqtt5_tls_ctx *ctx = make_ctx(&o);
    assert_int_equal(chain_count(ctx), 1); /* the CA from -certfile */
    handshake_as(ctx, false, "test-client");
    handshake_as(ctx, true, "test-client");
    mqtt5_tls_ctx_release(ctx);

    o.pkcs12_file = p12_no_chain;
    ctx = make_ctx(&o);
    assert_int_equal(chain_count(ctx), 0);
    handshake_as(ctx, false, "test-client");
    mqtt5_tls_ctx_release(ctx);
}

static void test_pkcs12_legacy(void **state)
{
    (void)state;
    mqtt5_tls_options o = trust_ca();
    o.pkcs12_file = p12_rsa_legacy;
    o.pkcs12_password = P12_PASS;
    mqtt5_tls_ctx *ctx = make_ctx(&o);
    assert_int_equal(chain_count(ctx), 1);
    handshake_as(ctx, false, "rsa-client");
    handshake_as(ctx, true, "rsa-client");
    mqtt5_tls_ctx_release(ctx);
    /* again, now that the legacy provider is loaded; and the default file still parses */
    load_and_handshake(&o, "rsa-client");
    o.pkcs12_file = p12_ec;
    load_and_handshake(&o, "test-client");
}

static void test_pkcs12_empty_password(void **state)
{
    (void)state;
    const char *files[] = {p12_empty, p12_legacy_empty};
    const char *cns[] = {"test-client", "rsa-client"};
    for (size_t i = 0; i < COUNT_OF(files); i++) {
        mqtt5_tls_options o = trust_ca();
        o.pkcs12_file = files[i];
        o.pkcs12_password = NULL; /* no password given: "" and none are tried */
        load_and_handshake(&o, cns[i]);
        o.pkcs12_password = "";
        load_and_handshake(&o, cns[i]);
        o.pkcs12_password = "not-empty";
        expect_error(&o, MQTT5_ERR_TLS_CREDENTIALS, "pkcs12_password",
                     "wrong password (MAC verification failed)");
    }
}

static void test_pkcs12_wrong_password(void **state)
{
    (void)state;
    mqtt5_tls_options o = trust_ca();
    o.pkcs12_file = p12_ec;
    o.pkcs12_password = "wrong";
    expect_error(&o, MQTT5_ERR_TLS_CREDENTIALS, "pkcs12_password",
                 "wrong password (MAC verification failed)");
    o.pkcs12_file = p12_rsa_legacy;
    expect_error(&o, MQTT5_ERR_TLS_CREDENTIALS, "pkcs12_password",
                 "wrong password (MAC verification failed)");
    o.pkcs12_password = NULL;
    expect_error(&o, MQTT5_ERR_TLS_CREDENTIALS, "pkcs12_password", "needs a password");
}

static void test_pkcs12_bad_files(void **state)
{
    (void)state;
    mqtt5_tls_options o = trust_ca();
    o.pkcs12_password = P12_PASS;
    o.pkcs12_file = "/nonexistent/client.p12";
    expect_error(&o, MQTT5_ERR_FILE, "pkcs12_file", "not found");
    o.pkcs12_file = dir; /* a directory */
    expect_error(&o, MQTT5_ERR_FILE, "pkcs12_file", "not a regular file");
    o.pkcs12_file = pki.ec_cert.file; /* PEM, not PKCS#12 */
    expect_error(&o, MQTT5_ERR_TLS_CREDENTIALS, "pkcs12_file", "not a PKCS#12 file");
    o.pkcs12_file = "";
    expect_error(&o, MQTT5_ERR_INVALID_ARGUMENT, "pkcs12_file", NULL);
}

static void test_pkcs12_exclusive(void **state)
{
    (void)state;
    mqtt5_tls_options o = trust_ca();
    o.pkcs12_file = p12_ec;
    o.pkcs12_password = P12_PASS;
    o.cert_file = pki.ec_cert.file;
    expect_error(&o, MQTT5_ERR_INVALID_ARGUMENT, "pkcs12_file", "not both");
    o.cert_file = NULL;
    o.key_bytes = (const uint8_t *)pki.ec_key.p;
    o.key_len = pki.ec_key.n;
    expect_error(&o, MQTT5_ERR_INVALID_ARGUMENT, "pkcs12_file", "not both");
    o.key_bytes = NULL;
    o.key_len = 0;
    mqtt5_tls_pkcs11_options p11 = {.lib_path = "/usr/lib/softhsm/libsofthsm2.so"};
    o.pkcs11 = &p11;
    expect_error(&o, MQTT5_ERR_INVALID_ARGUMENT, "pkcs11", "not both");
    o = trust_ca();
    o.pkcs12_password = P12_PASS; /* without a file */
    expect_error(&o, MQTT5_ERR_INVALID_ARGUMENT, "pkcs12_password", "without pkcs12_file");
}

/* ---- PKCS#11 -------------------------------------------------------------------------------- */

static mqtt5_tls_pkcs11_options p11_opts(const char *pin, const char *token, const char *key)
{
    return (mqtt5_tls_pkcs11_options){
        .lib_path = hsm_module, .user_pin = pin, .token_label = token, .key_label = key};
}

static mqtt5_tls_options with_p11(const mqtt5_tls_pkcs11_options *p, const tls_pem *cert,
                                  bool cert_in_memory)
{
    mqtt5_tls_options o = trust_ca();
    if (cert_in_memory) {
        o.cert_bytes = (const uint8_t *)cert->p;
        o.cert_len = cert->n;
    } else {
        o.cert_file = cert->file;
    }
    o.pkcs11 = p;
    return o;
}

static void test_pkcs11_ec_key(void **state)
{
    (void)state;
    NEED_HSM();
    mqtt5_tls_pkcs11_options p = p11_opts("1234", "sdk-test", "client-ec");
    mqtt5_tls_options o = with_p11(&p, &pki.ec_cert, false);
    load_and_handshake(&o, "test-client");
}

static void test_pkcs11_rsa_key(void **state)
{
    (void)state;
    NEED_HSM();
    mqtt5_tls_pkcs11_options p = p11_opts("1234", "sdk-test", "client-rsa");
    mqtt5_tls_options o = with_p11(&p, &pki.rsa_cert, true);
    load_and_handshake(&o, "rsa-client"); /* TLS 1.3: RSA-PSS on the token; 1.2: PSS too */
}

static void test_pkcs11_wrong_pin(void **state)
{
    (void)state;
    NEED_HSM();
    mqtt5_tls_pkcs11_options p = p11_opts("0000", "sdk-test", "client-ec");
    mqtt5_tls_options o = with_p11(&p, &pki.ec_cert, false);
    expect_error(&o, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.user_pin", "CKR_PIN_INCORRECT");
    /* the right PIN still works afterwards (SoftHSM allows several tries) */
    p.user_pin = "1234";
    load_and_handshake(&o, "test-client");
}

static void test_pkcs11_missing_key(void **state)
{
    (void)state;
    NEED_HSM();
    mqtt5_tls_pkcs11_options p = p11_opts("1234", "sdk-test", "nope");
    mqtt5_tls_options o = with_p11(&p, &pki.ec_cert, false);
    expect_error(&o, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.key_label",
                 "no private key labelled 'nope' on token 'sdk-test'");
    /* two keys and no label: ambiguous */
    p.key_label = NULL;
    expect_error(&o, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.key_label", "holds 2 private keys");
    /* no PIN: the private keys are not visible */
    p = p11_opts(NULL, "sdk-test", "client-ec");
    expect_error(&o, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.user_pin", "give the user PIN");
    /* the wrong key for the certificate */
    p = p11_opts("1234", "sdk-test", "client-rsa");
    expect_error(&o, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.key_label", "does not match");
}

static void test_pkcs11_slot_and_token(void **state)
{
    (void)state;
    NEED_HSM();
    /* by slot id alone, and with the matching label */
    mqtt5_tls_pkcs11_options p = p11_opts("1234", NULL, "client-ec");
    p.has_slot_id = true;
    p.slot_id = slot_sdk;
    mqtt5_tls_options o = with_p11(&p, &pki.ec_cert, false);
    load_and_handshake(&o, "test-client");
    p.token_label = "sdk-test";
    load_and_handshake(&o, "test-client");
    /* the only key of token "other", no key label */
    p = p11_opts("4321", NULL, NULL);
    p.has_slot_id = true;
    p.slot_id = slot_other;
    load_and_handshake(&o, "test-client");
    p.has_slot_id = false;
    p.token_label = "other";
    load_and_handshake(&o, "test-client");
    /* no slot and no token: the token that shows the labelled key */
    p = p11_opts("1234", NULL, "client-ec");
    load_and_handshake(&o, "test-client");
    p = p11_opts("4321", NULL, "other-ec");
    load_and_handshake(&o, "test-client");

    /* errors */
    p = p11_opts("1234", "no-such-token", "client-ec");
    expect_error(&o, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.token_label",
                 "no token labelled 'no-such-token'");
    p = p11_opts("1234", NULL, "client-ec");
    p.has_slot_id = true;
    p.slot_id = 424242;
    expect_error(&o, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.slot_id", "no slot 424242");
    p.slot_id = slot_other;
    p.token_label = "sdk-test";
    expect_error(&o, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.token_label", "holds token 'other'");
}

static void test_pkcs11_bad_module(void **state)
{
    (void)state;
    mqtt5_tls_pkcs11_options p = {.lib_path = "/nonexistent/libpkcs11.so", .user_pin = "1234"};
    mqtt5_tls_options o = with_p11(&p, &pki.ec_cert, false);
    expect_error(&o, MQTT5_ERR_FILE, "pkcs11.lib_path", "not found");
    p.lib_path = pki.ca.file; /* exists, but is no shared library */
    expect_error(&o, MQTT5_ERR_FILE, "pkcs11.lib_path", "cannot load");
    p.lib_path = "";
    expect_error(&o, MQTT5_ERR_INVALID_ARGUMENT, "pkcs11.lib_path", NULL);
}

static void test_pkcs11_exclusive(void **state)
{
    (void)state;
    mqtt5_tls_pkcs11_options p = p11_opts("1234", "sdk-test", "client-ec");
    p.lib_path = "/usr/lib/softhsm/libsofthsm2.so";
    mqtt5_tls_options o = with_p11(&p, &pki.ec_cert, false);
    o.key_file = pki.ec_key.file;
    expect_error(&o, MQTT5_ERR_INVALID_ARGUMENT, "key_file", "PKCS#11");
    o.key_file = NULL;
    o.cert_file = NULL;
    expect_error(&o, MQTT5_ERR_INVALID_ARGUMENT, "cert_file", "PKCS#11");
}

/* Two contexts share the loaded module: releasing one leaves the other's key usable; a second
 * context must give the PIN the token was logged in with. */
static void test_pkcs11_shared_module(void **state)
{
    (void)state;
    NEED_HSM();
    mqtt5_tls_pkcs11_options pa = p11_opts("1234", "sdk-test", "client-ec");
    mqtt5_tls_pkcs11_options pb = p11_opts("1234", "sdk-test", "client-rsa");
    mqtt5_tls_options oa = with_p11(&pa, &pki.ec_cert, false);
    mqtt5_tls_options ob = with_p11(&pb, &pki.rsa_cert, false);
    mqtt5_tls_ctx *a = make_ctx(&oa);
    mqtt5_tls_ctx *b = make_ctx(&ob);
    assert_ptr_equal(a->pkcs11, b->pkcs11);
    handshake_as(a, false, "test-client");
    mqtt5_tls_ctx_release(a);
    handshake_as(b, false, "rsa-client");
    handshake_as(b, true, "rsa-client");

    pa.user_pin = "0000";
    expect_error(&oa, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.user_pin", "another PIN");
    /* the module path through a symlink is the same module */
    char link[128];
    snprintf(link, sizeof link, "%s/module-link.so", dir);
    assert_int_equal(symlink(hsm_module, link), 0);
    pa.user_pin = "1234";
    pa.lib_path = link;
    a = make_ctx(&oa);
    assert_ptr_equal(a->pkcs11, b->pkcs11);
    mqtt5_tls_ctx_release(b);
    handshake_as(a, true, "test-client");
    mqtt5_tls_ctx_release(a);
    unlink(link);
}

/* ---- builders ------------------------------------------------------------------------------- */

static mqtt5_builder_options bopts(uint16_t port)
{
    mqtt5_builder_options o;
    mqtt5_builder_options_init(&o);
    o.endpoint = "localhost";
    o.port = port;
    o.ca_filepath = pki.ca.file;
    return o;
}

static void expect_resolve_error(const mqtt5_builder_tls_input *tin, int err, const char *field)
{
    mqtt5_builder_options o = bopts(0);
    mqtt5_builder_resolved *r = (mqtt5_builder_resolved *)&o;
    mqtt5_codec_status st;
    int rc = mqtt5_builder_resolve(&o, tin, &r, &st);
    if (rc != err)
        fail_msg("got %s (%s), want %s", mqtt5_error_name(rc), st.field ? st.field : "-",
                 mqtt5_error_name(err));
    assert_null(r);
    assert_string_equal(st.field, field);
}

static void test_resolve_pkcs12(void **state)
{
    (void)state;
    mqtt5_builder_tls_input tin = {
        .mode = MQTT5_BUILDER_MTLS_PKCS12, .pkcs12_filepath = p12_ec, .pkcs12_password = P12_PASS};
    mqtt5_builder_options o = bopts(0);
    mqtt5_builder_resolved *r = NULL;
    assert_int_equal(mqtt5_builder_resolve(&o, &tin, &r, NULL), 0);
    assert_ptr_equal(r->client.tls, &r->tls);
    assert_int_equal(r->client.port, 8883);
    assert_string_equal(r->tls.pkcs12_file, p12_ec);
    assert_string_equal(r->tls.pkcs12_password, P12_PASS);
    assert_null(r->tls.cert_file);
    assert_null(r->tls.key_file);
    assert_int_equal(r->tls.alpn_count, 0);
    mqtt5_builder_resolved_free(r);

    o = bopts(443); /* mutual TLS on 443: ALPN x-amzn-mqtt-ca */
    assert_int_equal(mqtt5_builder_resolve(&o, &tin, &r, NULL), 0);
    assert_int_equal(r->tls.alpn_count, 1);
    assert_string_equal(r->tls.alpn[0], "x-amzn-mqtt-ca");
    mqtt5_builder_resolved_free(r);

    tin.pkcs12_filepath = "/nonexistent/x.p12";
    expect_resolve_error(&tin, MQTT5_ERR_FILE, "pkcs12_filepath");
    tin.pkcs12_filepath = NULL;
    expect_resolve_error(&tin, MQTT5_ERR_INVALID_ARGUMENT, "pkcs12_filepath");
}

static void test_resolve_pkcs11(void **state)
{
    (void)state;
    mqtt5_builder_pkcs11_options p = {
        .pkcs11_lib = pki.ca.file, /* any existing file: the resolver only checks it exists */
        .user_pin = "1234",
        .has_slot_id = true,
        .slot_id = 7,
        .token_label = "tok",
        .private_key_label = "key",
        .cert_filepath = pki.ec_cert.file,
    };
    mqtt5_builder_tls_input tin = {.mode = MQTT5_BUILDER_MTLS_PKCS11, .pkcs11 = &p};
    mqtt5_builder_options o = bopts(443);
    mqtt5_builder_resolved *r = NULL;
    assert_int_equal(mqtt5_builder_resolve(&o, &tin, &r, NULL), 0);
    assert_ptr_equal(r->tls.pkcs11, &r->pkcs11);
    assert_string_equal(r->pkcs11.lib_path, pki.ca.file);
    assert_string_equal(r->pkcs11.user_pin, "1234");
    assert_true(r->pkcs11.has_slot_id);
    assert_int_equal(r->pkcs11.slot_id, 7);
    assert_string_equal(r->pkcs11.token_label, "tok");
    assert_string_equal(r->pkcs11.key_label, "key");
    assert_string_equal(r->tls.cert_file, pki.ec_cert.file);
    assert_null(r->tls.key_file);
    assert_int_equal(r->tls.alpn_count, 1);
    assert_string_equal(r->tls.alpn[0], "x-amzn-mqtt-ca");
    mqtt5_builder_resolved_free(r);

    p.cert_filepath = NULL; /* the certificate from memory */
    p.cert_bytes = (const uint8_t *)pki.ec_cert.p;
    p.cert_len = pki.ec_cert.n;
    o = bopts(0);
    assert_int_equal(mqtt5_builder_resolve(&o, &tin, &r, NULL), 0);
    assert_ptr_equal(r->tls.cert_bytes, pki.ec_cert.p);
    assert_int_equal(r->tls.alpn_count, 0);
    mqtt5_builder_resolved_free(r);

    p.cert_bytes = NULL;
    p.cert_len = 0;
    expect_resolve_error(&tin, MQTT5_ERR_INVALID_ARGUMENT, "cert_filepath");
    p.cert_filepath = "/nonexistent/client.crt";
    expect_resolve_error(&tin, MQTT5_ERR_FILE, "cert_filepath");
    p.cert_filepath = pki.ec_cert.file;
    p.pkcs11_lib = "/nonexistent/libpkcs11.so";
    expect_resolve_error(&tin, MQTT5_ERR_FILE, "pkcs11_lib");
    p.pkcs11_lib = NULL;
    expect_resolve_error(&tin, MQTT5_ERR_INVALID_ARGUMENT, "pkcs11_lib");
    p.pkcs11_lib = pki.ca.file;
    p.private_key_label = "";
    expect_resolve_error(&tin, MQTT5_ERR_INVALID_ARGUMENT, "private_key_label");
    tin.pkcs11 = NULL;
    expect_resolve_error(&tin, MQTT5_ERR_INVALID_ARGUMENT, "pkcs11_options");
}

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
    struct timespec ts = {0, 50 * 1000000L}; /* the private group's joiner finishes freeing */
    nanosleep(&ts, NULL);
}

/* The public builders: errors from loading the TLS context are named by builder keywords. */
static void test_builders(void **state)
{
    (void)state;
    mqtt5_builder_options o = bopts(0);
    mqtt5_client *c = NULL;
    mqtt5_codec_status st;
    assert_int_equal(mqtt5_builder_mtls_with_pkcs12(p12_ec, P12_PASS, &o, &c, &st), 0);
    assert_non_null(c);
    release_client(c);
    c = NULL;
    assert_int_equal(mqtt5_builder_mtls_with_pkcs12(p12_ec, "wrong", &o, &c, &st),
                     MQTT5_ERR_TLS_CREDENTIALS);
    assert_null(c);
    assert_string_equal(st.field, "pkcs12_password");
    assert_non_null(strstr(st.detail, "wrong password"));
    assert_int_equal(mqtt5_builder_mtls_with_pkcs12("/nonexistent.p12", NULL, &o, &c, &st),
                     MQTT5_ERR_FILE);
    assert_string_equal(st.field, "pkcs12_filepath");
    assert_int_equal(mqtt5_builder_mtls_with_pkcs12(pki.ca.file, NULL, &o, &c, &st),
                     MQTT5_ERR_TLS_CREDENTIALS);
    assert_string_equal(st.field, "pkcs12_filepath");

    if (!have_hsm) {
        print_message("SKIP (PKCS#11 part): softhsm2-util is not installed\n");
        return;
    }
    mqtt5_builder_pkcs11_options p = {
        .pkcs11_lib = hsm_module,
        .user_pin = "1234",
        .token_label = "sdk-test",
        .private_key_label = "client-rsa",
        .cert_filepath = pki.rsa_cert.file,
    };
    assert_int_equal(mqtt5_builder_mtls_with_pkcs11(&p, &o, &c, &st), 0);
    assert_non_null(c);
    release_client(c);
    struct {
        mqtt5_builder_pkcs11_options p;
        int err;
        const char *field;
    } cases[] = {
        {{.pkcs11_lib = hsm_module,
          .user_pin = "0000",
          .token_label = "sdk-test",
          .private_key_label = "client-rsa",
          .cert_filepath = pki.rsa_cert.file},
         MQTT5_ERR_TLS_CREDENTIALS,
         "user_pin"},
        {{.pkcs11_lib = hsm_module,
          .user_pin = "1234",
          .token_label = "sdk-test",
          .private_key_label = "nope",
          .cert_filepath = pki.rsa_cert.file},
         MQTT5_ERR_TLS_CREDENTIALS,
         "private_key_label"},
        {{.pkcs11_lib = hsm_module,
          .user_pin = "1234",
          .token_label = "nope",
          .cert_filepath = pki.rsa_cert.file},
         MQTT5_ERR_TLS_CREDENTIALS,
         "token_label"},
        {{.pkcs11_lib = hsm_module,
          .user_pin = "1234",
          .has_slot_id = true,
          .slot_id = 424242,
          .cert_filepath = pki.rsa_cert.file},
         MQTT5_ERR_TLS_CREDENTIALS,
         "slot_id"},
        {{.pkcs11_lib = pki.ca.file, .user_pin = "1234", .cert_filepath = pki.rsa_cert.file},
         MQTT5_ERR_FILE,
         "pkcs11_lib"},
        {{.pkcs11_lib = hsm_module,
          .user_pin = "1234",
          .token_label = "sdk-test",
          .private_key_label = "client-rsa",
          .cert_filepath = pki.ec_key.file},
         MQTT5_ERR_TLS_CREDENTIALS,
         "cert_filepath"},
    };
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        c = NULL;
        int rc = mqtt5_builder_mtls_with_pkcs11(&cases[i].p, &o, &c, &st);
        if (rc != cases[i].err)
            fail_msg("case %zu: got %s (%s: %s)", i, mqtt5_error_name(rc),
                     st.field ? st.field : "-", st.detail ? st.detail : "-");
        assert_null(c);
        assert_string_equal(st.field, cases[i].field);
        print_message("    %s: %s\n", st.field, st.detail ? st.detail : "-");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pkcs12_default),
        cmocka_unit_test(test_pkcs12_legacy),
        cmocka_unit_test(test_pkcs12_empty_password),
        cmocka_unit_test(test_pkcs12_wrong_password),
        cmocka_unit_test(test_pkcs12_bad_files),
        cmocka_unit_test(test_pkcs12_exclusive),
        cmocka_unit_test(test_pkcs11_ec_key),
        cmocka_unit_test(test_pkcs11_rsa_key),
        cmocka_unit_test(test_pkcs11_wrong_pin),
        cmocka_unit_test(test_pkcs11_missing_key),
        cmocka_unit_test(test_pkcs11_slot_and_token),
        cmocka_unit_test(test_pkcs11_bad_module),
        cmocka_unit_test(test_pkcs11_exclusive),
        cmocka_unit_test(test_pkcs11_shared_module),
        cmocka_unit_test(test_resolve_pkcs12),
        cmocka_unit_test(test_resolve_pkcs11),
        cmocka_unit_test(test_builders),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
