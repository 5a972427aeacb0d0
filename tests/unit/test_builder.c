/*
 * test_builder.c - the builders (mqtt5/builder.h): the resolver of src/builder/builder_resolve.c
 * (every default, port and ALPN rules, trust, AUTO extended validation, the CONNECT template with
 * connect_options winning over keywords, the SDK metrics suffix and its 65535-byte limit, the
 * mapping onto the core options, keyword validation naming each field, the lifecycle dispatch),
 * and the public builders' failures that need no network (a missing certificate file).
 * Files: a temporary directory with a dummy certificate, key and CA file (their content is only
 * read by the TLS loader, never by the resolver).
 */
#define _POSIX_C_SOURCE 200809L
#include "helpers/test_common.h"
#include "helpers/loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "builder/builder_internal.h"

#define METRICS "SDK=mqtt5-c&Version=" MQTT5_VERSION_STRING

static char tmpdir[64];
static char cert_path[128], key_path[128], ca_path[128], missing_path[128];

static mqtt5_builder_resolved *cur; /* freed by the per-test teardown */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static int group_setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/mqtt5-test-builder-XXXXXX");
    if (!mkdtemp(tmpdir)) return -1;
    snprintf(cert_path, sizeof cert_path, "%s/cert.pem", tmpdir);
    snprintf(key_path, sizeof key_path, "%s/key.pem", tmpdir);
    snprintf(ca_path, sizeof ca_path, "%s/ca.pem", tmpdir);
    snprintf(missing_path, sizeof missing_path, "%s/missing.pem", tmpdir);
    write_file(cert_path, "-----BEGIN CERTIFICATE-----\nnot a real one\n");
    write_file(key_path, "-----BEGIN PRIVATE KEY-----\nnot a real one\n");
    write_file(ca_path, "-----BEGIN CERTIFICATE-----\nnot a real one\n");
    return 0;
}

static int group_teardown(void **state)
{
    unlink(cert_path);
    unlink(key_path);
    unlink(ca_path);
    rmdir(tmpdir);
    return test_free_all(state);
}

static int test_teardown(void **state)
{
    (void)state;
    mqtt5_builder_resolved_free(cur);
    cur = NULL;
    return 0;
}

static mqtt5_builder_options opts(const char *endpoint)
{
    mqtt5_builder_options o;
    mqtt5_builder_options_init(&o);
    o.endpoint = endpoint;
    return o;
}

static const mqtt5_builder_tls_input tls_default = {.mode = MQTT5_BUILDER_DEFAULT_TLS};
static const mqtt5_builder_tls_input tls_plain = {.mode = MQTT5_BUILDER_PLAIN};

static mqtt5_builder_tls_input tls_path(void)
{
    return (mqtt5_builder_tls_input){.mode = MQTT5_BUILDER_MTLS_FROM_PATH,
                                     .cert_filepath = cert_path,
                                     .pri_key_filepath = key_path};
}

static const uint8_t cert_mem[] = "CERT", key_mem[] = "KEY";

static mqtt5_builder_tls_input tls_bytes(void)
{
    return (mqtt5_builder_tls_input){.mode = MQTT5_BUILDER_MTLS_FROM_BYTES,
                                     .cert_bytes = cert_mem,
                                     .cert_len = 4,
                                     .pri_key_bytes = key_mem,
                                     .pri_key_len = 3};
}

/* Resolve and expect success; the result is freed by the teardown. */
static mqtt5_builder_resolved *resolve_ok(const mqtt5_builder_options *o,
                                          const mqtt5_builder_tls_input *tin)
{
    mqtt5_builder_resolved_free(cur);
    cur = NULL;
    mqtt5_codec_status st;
    int rc = mqtt5_builder_resolve(o, tin, &cur, &st);
    if (rc)
        fail_msg("resolve: %s field=%s detail=%s", mqtt5_error_name(rc), st.field ? st.field : "-",
                 st.detail ? st.detail : "-");
    assert_non_null(cur);
    return cur;
}

/* Resolve and expect `err` naming `field`; `what` names the case in a failure message. */
static void resolve_fails_case(const char *what, const mqtt5_builder_options *o,
                               const mqtt5_builder_tls_input *tin, int err, const char *field)
{
    mqtt5_builder_resolved *r = (mqtt5_builder_resolved *)(uintptr_t)1;
    mqtt5_codec_status st;
    int rc = mqtt5_builder_resolve(o, tin, &r, &st);
    if (rc != err || st.error != err || !st.field || strcmp(st.field, field) != 0)
        fail_msg("%s: got %s field=%s, want %s field=%s", what, mqtt5_error_name(rc),
                 st.field ? st.field : "-", mqtt5_error_name(err), field);
    if (r) fail_msg("%s: *out not NULL on failure", what);
    if (!st.detail) fail_msg("%s: no detail", what);
}
#define resolve_fails(o, tin, err, field) resolve_fails_case(#field, o, tin, err, field)

static void assert_username(const mqtt5_connect *c, const char *expected)
{
    assert_true(c->has_username);
    assert_int_equal(c->username.len, strlen(expected));
    assert_memory_equal(c->username.ptr, expected, strlen(expected));
}

/* ---- defaults ------------------------------------------------------------------------------- */

static void test_options_init_defaults(void **state)
{
    (void)state;
    mqtt5_builder_options o;
    memset(&o, 0xA5, sizeof o);
    mqtt5_builder_options_init(&o);
    assert_null(o.endpoint);
    assert_int_equal(o.port, 0);
    assert_null(o.client_bootstrap);
    assert_int_equal(o.socket_options.connect_timeout_ms, 10000);
    assert_true(o.socket_options.tcp_nodelay);
    assert_int_equal(o.socket_options.tcp_keepalive_s, 0);
    assert_null(o.http_proxy_options);
    assert_null(o.ca_filepath);
    assert_null(o.ca_dirpath);
    assert_null(o.ca_bytes);
    assert_int_equal(o.ca_bytes_len, 0);
    assert_null(o.alpn_list);
    assert_int_equal(o.alpn_count, 0);
    assert_null(o.client_id);
    assert_int_equal(o.keep_alive_interval_sec, 1200);
    assert_null(o.username);
    assert_null(o.password);
    assert_int_equal(o.password_len, 0);
    assert_int_equal(o.session_expiry_interval_sec, -1);
    assert_int_equal(o.request_response_information, -1);
    assert_int_equal(o.request_problem_information, -1);
    assert_int_equal(o.receive_maximum, -1);
    assert_int_equal(o.maximum_packet_size, -1);
    assert_int_equal(o.will_delay_interval_sec, -1);
    assert_null(o.will);
    assert_null(o.user_properties);
    assert_int_equal(o.user_property_count, 0);
    assert_null(o.connect_options);
    assert_int_equal(o.session_behavior, MQTT5_SESSION_CLEAN);
    assert_int_equal(o.extended_validation_and_flow_control_options, MQTT5_EXT_VALIDATION_AUTO);
    assert_int_equal(o.offline_queue_behavior, MQTT5_OFFLINE_FAIL_QOS0_PUBLISH_ON_DISCONNECT);
    assert_int_equal(o.retry_jitter_mode, MQTT5_JITTER_FULL);
    assert_int_equal(o.min_reconnect_delay_ms, 1000);
    assert_int_equal(o.max_reconnect_delay_ms, 120000);
    assert_int_equal(o.min_connected_time_to_reset_reconnect_delay_ms, 30000);
    assert_int_equal(o.ping_timeout_ms, 30000);
    assert_int_equal(o.connack_timeout_ms, 20000);
    assert_int_equal(o.ack_timeout_sec, 60);
    assert_true(o.ack_coalescing);
    assert_int_equal(o.topic_aliasing_options.outbound_behavior, MQTT5_ALIAS_OUT_DISABLED);
    assert_int_equal(o.topic_aliasing_options.outbound_cache_max_size, 25);
    assert_int_equal(o.topic_aliasing_options.inbound_behavior, MQTT5_ALIAS_IN_DISABLED);
    assert_int_equal(o.topic_aliasing_options.inbound_cache_max_size, 25);
    assert_true(o.enable_metrics_collection);
    assert_null(o.user_data);
    assert_null(o.on_publish_received);
    assert_null(o.on_lifecycle_stopped);
    assert_null(o.on_lifecycle_attempting_connect);
    assert_null(o.on_lifecycle_connection_success);
    assert_null(o.on_lifecycle_connection_failure);
    assert_null(o.on_lifecycle_disconnection);
}

static void test_resolve_defaults(void **state)
{
    (void)state;
    mqtt5_builder_options o = opts("localhost");
    mqtt5_builder_resolved *r = resolve_ok(&o, &tls_default);
    const mqtt5_client_options *c = &r->client;
    assert_null(c->group);
    assert_string_equal(c->host, "localhost");
    assert_int_equal(c->port, 8883);
    assert_ptr_equal(c->tls, &r->tls);
    assert_int_equal(c->socket.connect_timeout_ms, 10000);
    assert_true(c->socket.tcp_nodelay);
    assert_int_equal(c->socket.tcp_keepalive_s, 0);
    assert_null(c->http_proxy);
    assert_null(c->user);
    assert_null(c->on_lifecycle);
    assert_null(c->on_publish);
    assert_null(r->dispatch);

    /* TLS: verified against the system store, no client certificate, no ALPN */
    const mqtt5_tls_options *t = &r->tls;
    assert_true(t->verify_peer);
    assert_null(t->server_name);
    assert_null(t->ca_file);
    assert_null(t->ca_dir);
    assert_null(t->ca_bytes);
    assert_null(t->cert_file);
    assert_null(t->key_file);
    assert_null(t->cert_bytes);
    assert_null(t->key_bytes);
    assert_null(t->alpn);
    assert_int_equal(t->alpn_count, 0);
    assert_false(t->require_alpn);
    assert_int_equal(t->min_version, MQTT5_TLS_VERSION_1_2);

    const mqtt5_client_core_options *k = &c->core;
    assert_int_equal(k->session_behavior, MQTT5_SESSION_CLEAN);
    assert_int_equal(k->offline_policy, MQTT5_OFFLINE_FAIL_QOS0_PUBLISH_ON_DISCONNECT);
    assert_int_equal(k->connack_timeout_ms, 20000);
    assert_int_equal(k->ping_timeout_ms, 30000);
    assert_int_equal(k->ack_timeout_ms, 60000);
    assert_int_equal(k->reconnect_min_ms, 1000);
    assert_int_equal(k->reconnect_max_ms, 120000);
    assert_int_equal(k->reconnect_reset_after_ms, 30000);
    assert_int_equal(k->jitter, MQTT5_JITTER_FULL);
    assert_int_equal(k->receive_maximum, 100);
    assert_int_equal(k->max_inbound_packet_size, 131072);
    assert_int_equal(k->alias_out, MQTT5_ALIAS_OUT_DISABLED);
    assert_int_equal(k->alias_out_cache, 25);
    assert_int_equal(k->alias_in, MQTT5_ALIAS_IN_DISABLED);
    assert_int_equal(k->alias_in_max, 25);
    assert_true(k->ack_coalescing);
    assert_false(k->iot_core);

    const mqtt5_connect *cn = &k->connect;
    assert_true(cn->clean_start);
    assert_int_equal(cn->keep_alive, 1200);
    assert_non_null(cn->client_id.ptr);
    assert_int_equal(cn->client_id.len, 0);
    assert_username(cn, "?" METRICS); /* no username: the metrics become the username */
    assert_false(cn->has_password);
    assert_false(cn->has_will);
    assert_int_equal(cn->properties.present, 0);
    assert_int_equal(cn->properties.user_property_count, 0);
}

static void test_resolve_plain(void **state)
{
    (void)state;
    mqtt5_builder_options o = opts("127.0.0.1");
    o.ca_filepath = missing_path; /* TLS keywords are ignored for plain TCP */
    o.alpn_list = (const char *const[]){"mqtt"};
    o.alpn_count = 1;
    mqtt5_builder_resolved *r = resolve_ok(&o, &tls_plain);
    assert_null(r->client.tls);
    assert_int_equal(r->client.port, 1883);
    assert_string_equal(r->client.host, "127.0.0.1");
}

/* ---- port and ALPN -------------------------------------------------------------------------- */

static void test_port_rules(void **state)
{
    (void)state;
    mqtt5_builder_options o = opts("localhost");
    mqtt5_builder_tls_input p = tls_path(), b = tls_bytes();

    assert_int_equal(resolve_ok(&o, &tls_default)->client.port, 8883);
    assert_int_equal(resolve_ok(&o, &p)->client.port, 8883);
    assert_null(cur->tls.alpn); /* 8883 with mTLS: no ALPN */
    assert_int_equal(cur->tls.alpn_count, 0);
    assert_int_equal(resolve_ok(&o, &tls_plain)->client.port, 1883);

    o.port = 1234;
    assert_int_equal(resolve_ok(&o, &tls_plain)->client.port, 1234);
    assert_int_equal(resolve_ok(&o, &tls_default)->client.port, 1234);
    assert_null(cur->tls.alpn);

    /* 443 with mutual TLS offers x-amzn-mqtt-ca, from files or from memory */
    o.port = 443;
    mqtt5_builder_resolved *r = resolve_ok(&o, &p);
    assert_int_equal(r->client.port, 443);
    assert_int_equal(r->tls.alpn_count, 1);
    assert_non_null(r->tls.alpn);
    assert_string_equal(r->tls.alpn[0], "x-amzn-mqtt-ca");
    r = resolve_ok(&o, &b);
    assert_int_equal(r->tls.alpn_count, 1);
    assert_string_equal(r->tls.alpn[0], "x-amzn-mqtt-ca");

    /* 443 without mutual TLS: nothing offered */
    r = resolve_ok(&o, &tls_default);
    assert_int_equal(r->client.port, 443);
    assert_null(r->tls.alpn);
    assert_int_equal(r->tls.alpn_count, 0);

    /* an explicit list wins, on 443 with mTLS too */
    static const char *const mine[] = {"mqtt", "x-other"};
    o.alpn_list = mine;
    o.alpn_count = 2;
    r = resolve_ok(&o, &p);
    assert_ptr_equal(r->tls.alpn, mine);
    assert_int_equal(r->tls.alpn_count, 2);
    r = resolve_ok(&o, &tls_default);
    assert_ptr_equal(r->tls.alpn, mine);
    assert_int_equal(r->tls.alpn_count, 2);
}

/* MQTT over WebSockets: 443 with TLS (80 plain), ALPN http/1.1 unless a list is given, and the
 * WebSocket options reach the client. */
static void test_websocket_port_and_alpn(void **state)
{
    (void)state;
    mqtt5_builder_options o = opts("abc-ats.iot.us-east-1.amazonaws.com");
    mqtt5_websocket_options ws = {0};
    mqtt5_builder_tls_input tin = tls_default;
    tin.websocket = &ws;
    mqtt5_builder_resolved *r = resolve_ok(&o, &tin);
    assert_int_equal(r->client.port, 443);
    assert_ptr_equal(r->client.websocket, &ws);
    assert_int_equal(r->tls.alpn_count, 1);
    assert_string_equal(r->tls.alpn[0], "http/1.1");
    mqtt5_builder_tls_input plain = tls_plain;
    plain.websocket = &ws;
    r = resolve_ok(&o, &plain);
    assert_int_equal(r->client.port, 80);
    assert_null(r->client.tls);
    o.port = 8443;
    static const char *const mine[] = {"x-mine"};
    o.alpn_list = mine;
    o.alpn_count = 1;
    r = resolve_ok(&o, &tin);
    assert_int_equal(r->client.port, 8443);
    assert_ptr_equal(r->tls.alpn, mine);
    assert_null(resolve_ok(&o, &tls_default)->client.websocket);
}

static void test_websocket_builder_errors(void **state)
{
    (void)state;
    mqtt5_builder_options o = opts("localhost");
    mqtt5_client *c = (mqtt5_client *)(uintptr_t)1;
    mqtt5_codec_status st;
    const char *bad[] = {NULL, "", "US-EAST-1", "us east 1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(
            mqtt5_builder_websockets_with_default_aws_signing(bad[i], NULL, &o, &c, &st),
            MQTT5_ERR_INVALID_ARGUMENT);
        assert_string_equal(st.field, "region");
        assert_null(c);
    }
}

/* ---- trust and credentials ------------------------------------------------------------------ */

static void test_tls_credentials_and_trust(void **state)
{
    (void)state;
    mqtt5_builder_options o = opts("localhost");
    mqtt5_builder_tls_input p = tls_path(), b = tls_bytes();

    mqtt5_builder_resolved *r = resolve_ok(&o, &p);
    assert_true(r->tls.verify_peer);
    assert_string_equal(r->tls.cert_file, cert_path);
    assert_string_equal(r->tls.key_file, key_path);
    assert_null(r->tls.cert_bytes);
    assert_null(r->tls.key_bytes);

    r = resolve_ok(&o, &b);
    assert_ptr_equal(r->tls.cert_bytes, cert_mem); /* passed through, not copied */
    assert_int_equal(r->tls.cert_len, 4);
    assert_ptr_equal(r->tls.key_bytes, key_mem);
    assert_int_equal(r->tls.key_len, 3);
    assert_null(r->tls.cert_file);
    assert_null(r->tls.key_file);

    o.ca_filepath = ca_path;
    r = resolve_ok(&o, &tls_default);
    assert_string_equal(r->tls.ca_file, ca_path);
    assert_null(r->tls.ca_dir);
    assert_null(r->tls.ca_bytes);

    o.ca_dirpath = tmpdir; /* file and directory together are allowed */
    r = resolve_ok(&o, &p);
    assert_string_equal(r->tls.ca_file, ca_path);
    assert_string_equal(r->tls.ca_dir, tmpdir);

    o.ca_filepath = NULL;
    r = resolve_ok(&o, &tls_default);
    assert_null(r->tls.ca_file);
    assert_string_equal(r->tls.ca_dir, tmpdir);

    static const uint8_t ca[] = "-----BEGIN CERTIFICATE-----";
    o.ca_dirpath = NULL;
    o.ca_bytes = ca;
    o.ca_bytes_len = sizeof ca - 1;
    r = resolve_ok(&o, &b);
    assert_ptr_equal(r->tls.ca_bytes, ca);
    assert_int_equal(r->tls.ca_len, sizeof ca - 1);
    assert_null(r->tls.ca_file);
    assert_null(r->tls.ca_dir);
}

/* ---- metrics -------------------------------------------------------------------------------- */

static void test_metrics_username(void **state)
{
    (void)state;
    mqtt5_builder_options o = opts("localhost");

    o.username = "user";
    assert_username(&resolve_ok(&o, &tls_default)->client.core.connect, "user?" METRICS);
    assert_ptr_equal(cur->client.core.connect.username.ptr, cur->username);

    o.username = "user?x-amz-customauthorizer-name=auth";
    assert_username(&resolve_ok(&o, &tls_default)->client.core.connect,
                    "user?x-amz-customauthorizer-name=auth&" METRICS);

    o.username = "";
    assert_username(&resolve_ok(&o, &tls_plain)->client.core.connect, "?" METRICS);

    o.username = NULL;
    assert_username(&resolve_ok(&o, &tls_plain)->client.core.connect, "?" METRICS);

    /* disabled: the username is passed as it is, or absent */
    o.enable_metrics_collection = false;
    assert_false(resolve_ok(&o, &tls_default)->client.core.connect.has_username);
    assert_null(cur->username);
    o.username = "user";
    assert_username(&resolve_ok(&o, &tls_default)->client.core.connect, "user");
    assert_ptr_equal(cur->client.core.connect.username.ptr, o.username);
}

static void test_metrics_length_limit(void **state)
{
    (void)state;
    const size_t suffix = 1 + strlen(METRICS);
    assert_int_equal(suffix, 26); /* "?SDK=mqtt5-c&Version=0.1.0" */
    char *name = test_alloc(65536);
    mqtt5_builder_options o = opts("localhost");
    o.username = name;

    /* 65530 bytes: the suffix would exceed 65535, so it is skipped */
    memset(name, 'u', 65530);
    name[65530] = '\0';
    mqtt5_builder_resolved *r = resolve_ok(&o, &tls_default);
    assert_true(r->client.core.connect.has_username);
    assert_int_equal(r->client.core.connect.username.len, 65530);
    assert_ptr_equal(r->client.core.connect.username.ptr, name);
    assert_null(r->username);

    /* exactly 65535 with the suffix: appended */
    name[65535 - suffix] = '\0';
    r = resolve_ok(&o, &tls_default);
    assert_int_equal(r->client.core.connect.username.len, 65535);
    assert_memory_equal(r->client.core.connect.username.ptr, name, 65535 - suffix);
    assert_memory_equal(r->client.core.connect.username.ptr + 65535 - suffix, "?" METRICS, suffix);

    /* one byte more: skipped */
    name[65535 - suffix] = 'u';
    name[65536 - suffix] = '\0';
    r = resolve_ok(&o, &tls_default);
    assert_int_equal(r->client.core.connect.username.len, 65536 - suffix);
}

/* ---- extended validation -------------------------------------------------------------------- */

static void test_extended_validation_auto(void **state)
{
    (void)state;
    static const struct {
        const char *endpoint;
        bool iot_core;
    } cases[] = {
        {"abc-ats.iot.us-east-1.amazonaws.com", true},
        {"ABC-ATS.IOT.US-EAST-1.AmazonAWS.Com", true},
        {"abc-ats.iot.cn-north-1.amazonaws.com.cn", true},
        {"abc-ats.iot.cn-north-1.AMAZONAWS.COM.CN", true},
        {"localhost", false},
        {"127.0.0.1", false},
        {"amazonaws.com", false},
        {"notamazonaws.com", false},
        {"abc.amazonaws.com.evil.example", false},
        {"abc.amazonaws.co", false},
    };
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        mqtt5_builder_options o = opts(cases[i].endpoint);
        if (resolve_ok(&o, &tls_default)->client.core.iot_core != cases[i].iot_core)
            fail_msg("%s: iot_core %d", cases[i].endpoint, cur->client.core.iot_core);
        assert_int_equal(mqtt5_builder_is_aws_endpoint(cases[i].endpoint), cases[i].iot_core);
    }
    assert_false(mqtt5_builder_is_aws_endpoint(NULL));

    mqtt5_builder_options o = opts("abc-ats.iot.us-east-1.amazonaws.com");
    o.extended_validation_and_flow_control_options = MQTT5_EXT_VALIDATION_NONE;
    assert_false(resolve_ok(&o, &tls_default)->client.core.iot_core);
    o = opts("localhost");
    o.extended_validation_and_flow_control_options = MQTT5_EXT_VALIDATION_IOT_CORE;
    assert_true(resolve_ok(&o, &tls_default)->client.core.iot_core);
}

/* ---- CONNECT -------------------------------------------------------------------------------- */

static void test_keywords_to_connect(void **state)
{
    (void)state;
    static const mqtt5_user_property ups[] = {{SI("a"), SI("1")}, {SI("b"), SI("2")}};
    static const uint8_t pw[] = {'p', 0, 'w'};
    mqtt5_will will = {.topic = S("dead"), .payload = B("bye"), .qos = 1, .retain = true};
    mqtt5_builder_options o = opts("localhost");
    o.enable_metrics_collection = false;
    o.client_id = "dev-1";
    o.keep_alive_interval_sec = 45;
    o.username = "name";
    o.password = pw;
    o.password_len = sizeof pw;
    o.session_expiry_interval_sec = 3600;
    o.request_response_information = 1;
    o.request_problem_information = 0;
    o.receive_maximum = 65535;
    o.maximum_packet_size = 268435460;
    o.will = &will;
    o.will_delay_interval_sec = 30;
    o.user_properties = ups;
    o.user_property_count = 2;

    mqtt5_builder_resolved *r = resolve_ok(&o, &tls_default);
    const mqtt5_connect *c = &r->client.core.connect;
    assert_str_eq(c->client_id, "dev-1");
    assert_int_equal(c->keep_alive, 45);
    assert_username(c, "name");
    assert_true(c->has_password);
    assert_ptr_equal(c->password.ptr, pw);
    assert_int_equal(c->password.len, 3);
    assert_true(c->has_will);
    assert_str_eq(c->will.topic, "dead");
    assert_int_equal(c->will.qos, 1);
    assert_true(c->will.retain);
    assert_int_equal(c->will.properties.present, MQTT5_PROP_BIT(MQTT5_PROP_WILL_DELAY_INTERVAL));
    assert_int_equal(c->will.properties.will_delay_interval, 30);
    assert_int_equal(c->properties.present,
                     MQTT5_PROP_BIT(MQTT5_PROP_SESSION_EXPIRY_INTERVAL) |
                         MQTT5_PROP_BIT(MQTT5_PROP_REQUEST_RESPONSE_INFORMATION) |
                         MQTT5_PROP_BIT(MQTT5_PROP_REQUEST_PROBLEM_INFORMATION));
    assert_int_equal(c->properties.session_expiry_interval, 3600);
    assert_int_equal(c->properties.request_response_information, 1);
    assert_int_equal(c->properties.request_problem_information, 0);
    assert_ptr_equal(c->properties.user_properties, ups);
    assert_int_equal(c->properties.user_property_count, 2);
    assert_int_equal(r->client.core.receive_maximum, 65535);
    assert_int_equal(r->client.core.max_inbound_packet_size, 268435460);

    /* session expiry 0 is sent (the session ends on close); the maxima's lower bounds */
    o.session_expiry_interval_sec = 0;
    o.receive_maximum = 1;
    o.maximum_packet_size = 64;
    o.keep_alive_interval_sec = 0; /* no keep-alive: no ping-timeout rule */
    r = resolve_ok(&o, &tls_default);
    assert_true(
        MQTT5_PROPS_HAS(&r->client.core.connect.properties, MQTT5_PROP_SESSION_EXPIRY_INTERVAL));
    assert_int_equal(r->client.core.connect.properties.session_expiry_interval, 0);
    assert_int_equal(r->client.core.connect.keep_alive, 0);
    assert_int_equal(r->client.core.receive_maximum, 1);
    assert_int_equal(r->client.core.max_inbound_packet_size, 64);

    /* UINT32_MAX is the largest session expiry */
    o.session_expiry_interval_sec = UINT32_MAX;
    r = resolve_ok(&o, &tls_default);
    assert_int_equal(r->client.core.connect.properties.session_expiry_interval, UINT32_MAX);

    /* a will delay set in the will itself wins; without a will the keyword is dropped */
    will.properties.will_delay_interval = 5;
    MQTT5_PROPS_SET(&will.properties, MQTT5_PROP_WILL_DELAY_INTERVAL);
    r = resolve_ok(&o, &tls_default);
    assert_int_equal(r->client.core.connect.will.properties.will_delay_interval, 5);
    o.will = NULL;
    r = resolve_ok(&o, &tls_default);
    assert_false(r->client.core.connect.has_will);
    assert_int_equal(r->client.core.connect.will.properties.present, 0);
}

static void test_connect_options_override(void **state)
{
    (void)state;
    static const mqtt5_user_property kw_ups[] = {{SI("k"), SI("1")}, {SI("k"), SI("2")}};
    static const mqtt5_user_property co_ups[] = {{SI("c"), SI("1")}};
    mqtt5_will kw_will = {.topic = S("kw/will"), .qos = 0};
    mqtt5_connect co;
    memset(&co, 0, sizeof co);
    co.client_id = S("co-id");
    co.keep_alive = 600;
    co.has_username = true;
    co.username = S("co-user");
    co.has_password = true;
    co.password = B("co-pw");
    co.has_will = true;
    co.will.topic = S("co/will");
    co.will.qos = 1;
    co.properties.session_expiry_interval = 10;
    MQTT5_PROPS_SET(&co.properties, MQTT5_PROP_SESSION_EXPIRY_INTERVAL);
    co.properties.request_problem_information = 0;
    MQTT5_PROPS_SET(&co.properties, MQTT5_PROP_REQUEST_PROBLEM_INFORMATION);
    co.properties.user_properties = co_ups;
    co.properties.user_property_count = 1;
    co.clean_start = false; /* owned by the core: always true in the template */

    mqtt5_builder_options o = opts("localhost");
    o.connect_options = &co;
    o.client_id = "kw-id";
    o.keep_alive_interval_sec = 900;
    o.username = "kw-user";
    o.password = (const uint8_t *)"kw-pw";
    o.password_len = 5;
    o.will = &kw_will;
    o.will_delay_interval_sec = 7;
    o.session_expiry_interval_sec = 99;
    o.request_problem_information = 1;
    o.request_response_information = 1; /* not in connect_options: the keyword applies */
    o.user_properties = kw_ups;
    o.user_property_count = 2;

    mqtt5_builder_resolved *r = resolve_ok(&o, &tls_default);
    const mqtt5_connect *c = &r->client.core.connect;
    assert_true(c->clean_start);
    assert_str_eq(c->client_id, "co-id");
    assert_int_equal(c->keep_alive, 600);
    assert_username(c, "co-user?" METRICS);
    assert_bytes_hex(c->password, "636f2d7077"); /* "co-pw" */
    assert_true(c->has_will);
    assert_str_eq(c->will.topic, "co/will");
    assert_int_equal(c->will.qos, 1);
    assert_int_equal(c->will.properties.will_delay_interval, 7); /* unset in co's will */
    assert_int_equal(c->properties.session_expiry_interval, 10);
    assert_int_equal(c->properties.request_problem_information, 0);
    assert_true(MQTT5_PROPS_HAS(&c->properties, MQTT5_PROP_REQUEST_RESPONSE_INFORMATION));
    assert_int_equal(c->properties.request_response_information, 1);
    assert_ptr_equal(c->properties.user_properties, co_ups);
    assert_int_equal(c->properties.user_property_count, 1);

    /* connect_options leaving fields unset: the keywords fill them */
    mqtt5_connect empty;
    memset(&empty, 0, sizeof empty);
    o.connect_options = &empty;
    o.enable_metrics_collection = false;
    r = resolve_ok(&o, &tls_default);
    c = &r->client.core.connect;
    assert_str_eq(c->client_id, "kw-id");
    assert_int_equal(c->keep_alive, 900);
    assert_username(c, "kw-user");
    assert_bytes_hex(c->password, "6b772d7077"); /* "kw-pw" */
    assert_str_eq(c->will.topic, "kw/will");
    assert_int_equal(c->properties.session_expiry_interval, 99);
    assert_int_equal(c->properties.request_problem_information, 1);
    assert_ptr_equal(c->properties.user_properties, kw_ups);

    /* a "?" in connect_options' username gets "&" */
    co.username = S("co?a=b");
    o.connect_options = &co;
    o.enable_metrics_collection = true;
    assert_username(&resolve_ok(&o, &tls_default)->client.core.connect, "co?a=b&" METRICS);
}

static void test_connect_options_core_properties(void **state)
{
    (void)state;
    mqtt5_connect co;
    memset(&co, 0, sizeof co);
    co.properties.receive_maximum = 77;
    co.properties.maximum_packet_size = 5000;
    co.properties.topic_alias_maximum = 10;
    co.properties.present = MQTT5_PROP_BIT(MQTT5_PROP_RECEIVE_MAXIMUM) |
                            MQTT5_PROP_BIT(MQTT5_PROP_MAXIMUM_PACKET_SIZE) |
                            MQTT5_PROP_BIT(MQTT5_PROP_TOPIC_ALIAS_MAXIMUM);
    mqtt5_builder_options o = opts("localhost");
    o.connect_options = &co;
    o.receive_maximum = 50;
    o.maximum_packet_size = 9000;
    mqtt5_builder_resolved *r = resolve_ok(&o, &tls_default);
    /* the core owns these properties: moved into its options, removed from the template */
    assert_int_equal(r->client.core.receive_maximum, 77);
    assert_int_equal(r->client.core.max_inbound_packet_size, 5000);
    assert_int_equal(r->client.core.alias_in, MQTT5_ALIAS_IN_ENABLED);
    assert_int_equal(r->client.core.alias_in_max, 10);
    assert_int_equal(r->client.core.connect.properties.present, 0);

    co.properties.maximum_packet_size = UINT32_MAX; /* means "no limit": the protocol's */
    co.properties.topic_alias_maximum = 0;
    o.topic_aliasing_options.inbound_behavior = MQTT5_ALIAS_IN_ENABLED;
    r = resolve_ok(&o, &tls_default);
    assert_int_equal(r->client.core.max_inbound_packet_size, MQTT5_MAX_PACKET_SIZE_LIMIT);
    assert_int_equal(r->client.core.alias_in, MQTT5_ALIAS_IN_DISABLED);

    co.properties.receive_maximum = 0;
    resolve_fails(&o, &tls_default, MQTT5_ERR_INVALID_ARGUMENT,
                  "connect_options.properties.receiveMaximum");
    co.properties.receive_maximum = 1;
    co.properties.maximum_packet_size = 63;
    resolve_fails(&o, &tls_default, MQTT5_ERR_INVALID_ARGUMENT,
                  "connect_options.properties.maximumPacketSize");
}

/* ---- core options --------------------------------------------------------------------------- */

static void test_core_and_socket_mapping(void **state)
{
    (void)state;
    static const mqtt5_http_proxy_options proxy = {.host = "proxy", .port = 3128};
    mqtt5_event_loop_group *group = (mqtt5_event_loop_group *)(uintptr_t)0x1000; /* not used */
    mqtt5_builder_options o = opts("broker.example");
    o.client_bootstrap = group;
    o.http_proxy_options = &proxy;
    o.socket_options = (mqtt5_socket_options){.connect_timeout_ms = 5000, .tcp_keepalive_s = 30};
    o.session_behavior = MQTT5_SESSION_REJOIN_ALWAYS;
    o.offline_queue_behavior = MQTT5_OFFLINE_FAIL_ALL_ON_DISCONNECT;
    o.retry_jitter_mode = MQTT5_JITTER_DECORRELATED;
    o.min_reconnect_delay_ms = 2000;
    o.max_reconnect_delay_ms = 5000;
    o.min_connected_time_to_reset_reconnect_delay_ms = 7000;
    o.ping_timeout_ms = 4000;
    o.connack_timeout_ms = 3000;
    o.ack_timeout_sec = 7;
    o.ack_coalescing = false;
    o.keep_alive_interval_sec = 5; /* 5 s > 4000 ms */
    o.topic_aliasing_options = (mqtt5_topic_aliasing_options){
        .outbound_behavior = MQTT5_ALIAS_OUT_LRU,
        .outbound_cache_max_size = 10,
        .inbound_behavior = MQTT5_ALIAS_IN_ENABLED,
        .inbound_cache_max_size = 12,
    };
    mqtt5_builder_resolved *r = resolve_ok(&o, &tls_plain);
    const mqtt5_client_options *c = &r->client;
    assert_ptr_equal(c->group, group);
    assert_ptr_equal(c->http_proxy, &proxy);
    assert_int_equal(c->socket.connect_timeout_ms, 5000);
    assert_false(c->socket.tcp_nodelay);
    assert_int_equal(c->socket.tcp_keepalive_s, 30);
    const mqtt5_client_core_options *k = &c->core;
    assert_int_equal(k->session_behavior, MQTT5_SESSION_REJOIN_ALWAYS);
    assert_int_equal(k->offline_policy, MQTT5_OFFLINE_FAIL_ALL_ON_DISCONNECT);
    assert_int_equal(k->jitter, MQTT5_JITTER_DECORRELATED);
    assert_int_equal(k->reconnect_min_ms, 2000);
    assert_int_equal(k->reconnect_max_ms, 5000);
    assert_int_equal(k->reconnect_reset_after_ms, 7000);
    assert_int_equal(k->ping_timeout_ms, 4000);
    assert_int_equal(k->connack_timeout_ms, 3000);
    assert_int_equal(k->ack_timeout_ms, 7000);
    assert_false(k->ack_coalescing);
    assert_int_equal(k->connect.keep_alive, 5);
    assert_int_equal(k->alias_out, MQTT5_ALIAS_OUT_LRU);
    assert_int_equal(k->alias_out_cache, 10);
    assert_int_equal(k->alias_in, MQTT5_ALIAS_IN_ENABLED);
    assert_int_equal(k->alias_in_max, 12);

    o.ack_timeout_sec = 0; /* none */
    o.ping_timeout_ms = 0; /* no ping-timeout rule */
    o.keep_alive_interval_sec = 1;
    o.min_reconnect_delay_ms = o.max_reconnect_delay_ms = 5000; /* equal is fine */
    r = resolve_ok(&o, &tls_plain);
    assert_int_equal(r->client.core.ack_timeout_ms, 0);
    assert_int_equal(r->client.core.reconnect_min_ms, 5000);
    o.ack_timeout_sec = UINT32_MAX / 1000;
    r = resolve_ok(&o, &tls_plain);
    assert_int_equal(r->client.core.ack_timeout_ms, (UINT32_MAX / 1000) * 1000);
}

/* ---- validation ----------------------------------------------------------------------------- */

typedef struct bad_case {
    const char *name;
    void (*mutate)(mqtt5_builder_options *o);
    int err;
    const char *field;
} bad_case;

#define MUT(n, body)                                                                               \
    static void mut_##n(mqtt5_builder_options *o)                                                  \
    {                                                                                              \
        body;                                                                                      \
    }
MUT(endpoint_null, o->endpoint = NULL)
MUT(endpoint_empty, o->endpoint = "")
MUT(keep_alive_eq_ping, (o->keep_alive_interval_sec = 30, o->ping_timeout_ms = 30000))
MUT(keep_alive_below_ping, (o->keep_alive_interval_sec = 10, o->ping_timeout_ms = 30000))
MUT(keep_alive_ms_rounding, (o->keep_alive_interval_sec = 30, o->ping_timeout_ms = 30999))
MUT(receive_maximum_0, o->receive_maximum = 0)
MUT(receive_maximum_65536, o->receive_maximum = 65536)
MUT(receive_maximum_neg, o->receive_maximum = -2)
MUT(maximum_packet_size_0, o->maximum_packet_size = 0)
MUT(maximum_packet_size_big, o->maximum_packet_size = 268435461)
MUT(maximum_packet_size_neg, o->maximum_packet_size = -2)
MUT(maximum_packet_size_63, o->maximum_packet_size = 63)
MUT(session_expiry_big, o->session_expiry_interval_sec = (int64_t)UINT32_MAX + 1)
MUT(session_expiry_neg, o->session_expiry_interval_sec = -2)
MUT(will_delay_big, o->will_delay_interval_sec = (int64_t)UINT32_MAX + 1)
MUT(request_response_2, o->request_response_information = 2)
MUT(request_problem_neg, o->request_problem_information = -2)
MUT(min_above_max, (o->min_reconnect_delay_ms = 5000, o->max_reconnect_delay_ms = 4999))
MUT(min_zero, o->min_reconnect_delay_ms = 0)
MUT(connack_zero, o->connack_timeout_ms = 0)
MUT(ack_timeout_big, o->ack_timeout_sec = UINT32_MAX / 1000 + 1)
MUT(session_behavior, o->session_behavior = (mqtt5_session_behavior)3)
MUT(ext_validation, o->extended_validation_and_flow_control_options = (mqtt5_ext_validation)3)
MUT(offline, o->offline_queue_behavior = (mqtt5_offline_policy)3)
MUT(jitter, o->retry_jitter_mode = (mqtt5_jitter)3)
MUT(alias_out, o->topic_aliasing_options.outbound_behavior = (mqtt5_alias_out)3)
MUT(alias_in, o->topic_aliasing_options.inbound_behavior = (mqtt5_alias_in)2)
MUT(password_null, (o->password = NULL, o->password_len = 3))
MUT(user_properties_null, (o->user_properties = NULL, o->user_property_count = 1))
static const char *const alpn_mqtt[] = {"mqtt"};
static const char *const alpn_with_empty[] = {"mqtt", ""};
static const char *const alpn_with_null[] = {NULL};
MUT(alpn_count_0, (o->alpn_list = alpn_mqtt, o->alpn_count = 0))
MUT(alpn_list_null, (o->alpn_list = NULL, o->alpn_count = 1))
MUT(alpn_empty_name, (o->alpn_list = alpn_with_empty, o->alpn_count = 2))
MUT(alpn_null_name, (o->alpn_list = alpn_with_null, o->alpn_count = 1))
MUT(ca_bytes_len_0, (o->ca_bytes = (const uint8_t *)"x", o->ca_bytes_len = 0))
MUT(ca_bytes_null, (o->ca_bytes = NULL, o->ca_bytes_len = 5))
MUT(ca_bytes_and_file,
    (o->ca_bytes = (const uint8_t *)"x", o->ca_bytes_len = 1, o->ca_filepath = ca_path))
MUT(ca_file_missing, o->ca_filepath = missing_path)
MUT(ca_file_is_dir, o->ca_filepath = tmpdir)
MUT(ca_dir_is_file, o->ca_dirpath = ca_path)
MUT(ca_dir_missing, o->ca_dirpath = missing_path)

static void mut_alpn_long_name(mqtt5_builder_options *o)
{
    char *name = test_alloc(257);
    memset(name, 'a', 256);
    name[256] = '\0';
    const char **list = test_alloc(sizeof *list);
    list[0] = name;
    o->alpn_list = list;
    o->alpn_count = 1;
}

static void mut_co_keep_alive(mqtt5_builder_options *o)
{
    mqtt5_connect *co = test_alloc(sizeof *co);
    memset(co, 0, sizeof *co);
    co->keep_alive = 20;
    o->connect_options = co;
    o->keep_alive_interval_sec = 1200; /* connect_options wins, and fails */
}

#define INV MQTT5_ERR_INVALID_ARGUMENT
#define CASE(n, e, f)                                                                              \
    {                                                                                              \
#n, mut_##n, e, f                                                                          \
    }
static const bad_case bad_cases[] = {
    CASE(endpoint_null, INV, "endpoint"),
    CASE(endpoint_empty, INV, "endpoint"),
    CASE(keep_alive_eq_ping, INV, "keep_alive_interval_sec"),
    CASE(keep_alive_below_ping, INV, "keep_alive_interval_sec"),
    CASE(keep_alive_ms_rounding, INV, "keep_alive_interval_sec"),
    CASE(co_keep_alive, INV, "connect_options.keep_alive"),
    CASE(receive_maximum_0, INV, "receive_maximum"),
    CASE(receive_maximum_65536, INV, "receive_maximum"),
    CASE(receive_maximum_neg, INV, "receive_maximum"),
    CASE(maximum_packet_size_0, INV, "maximum_packet_size"),
    CASE(maximum_packet_size_big, INV, "maximum_packet_size"),
    CASE(maximum_packet_size_neg, INV, "maximum_packet_size"),
    CASE(maximum_packet_size_63, INV, "maximum_packet_size"),
    CASE(session_expiry_big, INV, "session_expiry_interval_sec"),
    CASE(session_expiry_neg, INV, "session_expiry_interval_sec"),
    CASE(will_delay_big, INV, "will_delay_interval_sec"),
    CASE(request_response_2, INV, "request_response_information"),
    CASE(request_problem_neg, INV, "request_problem_information"),
    CASE(min_above_max, INV, "min_reconnect_delay_ms"),
    CASE(min_zero, INV, "min_reconnect_delay_ms"),
    CASE(connack_zero, INV, "connack_timeout_ms"),
    CASE(ack_timeout_big, INV, "ack_timeout_sec"),
    CASE(session_behavior, INV, "session_behavior"),
    CASE(ext_validation, INV, "extended_validation_and_flow_control_options"),
    CASE(offline, INV, "offline_queue_behavior"),
    CASE(jitter, INV, "retry_jitter_mode"),
    CASE(alias_out, INV, "topic_aliasing_options.outbound_behavior"),
    CASE(alias_in, INV, "topic_aliasing_options.inbound_behavior"),
    CASE(password_null, INV, "password"),
    CASE(user_properties_null, INV, "user_properties"),
    CASE(alpn_count_0, INV, "alpn_list"),
    CASE(alpn_list_null, INV, "alpn_list"),
    CASE(alpn_empty_name, INV, "alpn_list"),
    CASE(alpn_null_name, INV, "alpn_list"),
    CASE(alpn_long_name, INV, "alpn_list"),
    CASE(ca_bytes_len_0, INV, "ca_bytes"),
    CASE(ca_bytes_null, INV, "ca_bytes"),
    CASE(ca_bytes_and_file, INV, "ca_bytes"),
    CASE(ca_file_missing, MQTT5_ERR_FILE, "ca_filepath"),
    CASE(ca_file_is_dir, MQTT5_ERR_FILE, "ca_filepath"),
    CASE(ca_dir_is_file, MQTT5_ERR_FILE, "ca_dirpath"),
    CASE(ca_dir_missing, MQTT5_ERR_FILE, "ca_dirpath"),
};

static void test_validation_names_the_keyword(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT_OF(bad_cases); i++) {
        mqtt5_builder_options o = opts("localhost");
        bad_cases[i].mutate(&o);
        resolve_fails_case(bad_cases[i].name, &o, &tls_default, bad_cases[i].err,
                           bad_cases[i].field);
    }
}

/* The limits themselves are accepted. */
static void test_validation_bounds_accepted(void **state)
{
    (void)state;
    mqtt5_builder_options o = opts("localhost");
    o.keep_alive_interval_sec = 31; /* > 30000 ms */
    o.ping_timeout_ms = 30000;
    assert_int_equal(resolve_ok(&o, &tls_default)->client.core.connect.keep_alive, 31);
    o.keep_alive_interval_sec = 5;
    o.ping_timeout_ms = 0;
    assert_int_equal(resolve_ok(&o, &tls_default)->client.core.connect.keep_alive, 5);
    o.will_delay_interval_sec = UINT32_MAX;
    o.request_problem_information = 0;
    o.request_response_information = 0;
    resolve_ok(&o, &tls_default);
    static const char *const one[] = {"x"};
    o.alpn_list = one;
    o.alpn_count = 1;
    resolve_ok(&o, &tls_default);
}

static void test_tls_input_errors(void **state)
{
    (void)state;
    mqtt5_builder_options o = opts("localhost");
    mqtt5_builder_tls_input p = tls_path();

    p.cert_filepath = NULL;
    resolve_fails(&o, &p, MQTT5_ERR_INVALID_ARGUMENT, "cert_filepath");
    p.cert_filepath = "";
    resolve_fails(&o, &p, MQTT5_ERR_INVALID_ARGUMENT, "cert_filepath");
    p.cert_filepath = missing_path;
    resolve_fails(&o, &p, MQTT5_ERR_FILE, "cert_filepath");
    p.cert_filepath = tmpdir;
    resolve_fails(&o, &p, MQTT5_ERR_FILE, "cert_filepath");
    p.cert_filepath = cert_path;
    p.pri_key_filepath = NULL;
    resolve_fails(&o, &p, MQTT5_ERR_INVALID_ARGUMENT, "pri_key_filepath");
    p.pri_key_filepath = missing_path;
    resolve_fails(&o, &p, MQTT5_ERR_FILE, "pri_key_filepath");

    mqtt5_builder_tls_input b = tls_bytes();
    b.cert_bytes = NULL;
    resolve_fails(&o, &b, MQTT5_ERR_INVALID_ARGUMENT, "cert_bytes");
    b = tls_bytes();
    b.cert_len = 0;
    resolve_fails(&o, &b, MQTT5_ERR_INVALID_ARGUMENT, "cert_bytes");
    b = tls_bytes();
    b.pri_key_bytes = NULL;
    resolve_fails(&o, &b, MQTT5_ERR_INVALID_ARGUMENT, "pri_key_bytes");
    b = tls_bytes();
    b.pri_key_len = 0;
    resolve_fails(&o, &b, MQTT5_ERR_INVALID_ARGUMENT, "pri_key_bytes");

    /* the endpoint is checked before the files */
    o.endpoint = NULL;
    p.pri_key_filepath = missing_path;
    resolve_fails(&o, &p, MQTT5_ERR_INVALID_ARGUMENT, "endpoint");

    /* bad arguments of the resolver itself; NULL status is allowed */
    mqtt5_builder_resolved *r = NULL;
    o = opts("localhost");
    assert_int_equal(mqtt5_builder_resolve(NULL, &tls_default, &r, NULL),
                     MQTT5_ERR_INVALID_ARGUMENT);
    assert_null(r);
    assert_int_equal(mqtt5_builder_resolve(&o, NULL, &r, NULL), MQTT5_ERR_INVALID_ARGUMENT);
    assert_int_equal(mqtt5_builder_resolve(&o, &tls_default, NULL, NULL),
                     MQTT5_ERR_INVALID_ARGUMENT);
    p.pri_key_filepath = missing_path;
    assert_int_equal(mqtt5_builder_resolve(&o, &p, &r, NULL), MQTT5_ERR_FILE);
    assert_null(r);
    mqtt5_builder_tls_input bad_mode = {.mode = (mqtt5_builder_tls_mode)9};
    mqtt5_codec_status st;
    assert_int_equal(mqtt5_builder_resolve(&o, &bad_mode, &r, &st), MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "tls");
}

/* ---- callbacks ------------------------------------------------------------------------------ */

enum { CB_STOPPED, CB_ATTEMPT, CB_SUCCESS, CB_FAILURE, CB_DISCONNECT, CB_PUBLISH, CB_COUNT };

typedef struct recorder {
    int calls[CB_COUNT];
    int last;
    void *last_user;
    const void *last_arg;
    const char *last_detail;
} recorder;

static void record(int which, void *user, const void *arg, const char *detail)
{
    recorder *rec = user;
    rec->calls[which]++;
    rec->last = which;
    rec->last_user = user;
    rec->last_arg = arg;
    rec->last_detail = detail;
}

#define LC_FN(name, which)                                                                         \
    static void name(void *user, const mqtt5_lifecycle_event *ev, const char *detail)              \
    {                                                                                              \
        record(which, user, ev, detail);                                                           \
    }
LC_FN(on_stopped, CB_STOPPED)
LC_FN(on_attempt, CB_ATTEMPT)
LC_FN(on_success, CB_SUCCESS)
LC_FN(on_failure, CB_FAILURE)
LC_FN(on_disconnect, CB_DISCONNECT)

static void on_publish(void *user, const mqtt5_inbound_publish *msg)
{
    record(CB_PUBLISH, user, msg, NULL);
}

static void test_callbacks_dispatch(void **state)
{
    (void)state;
    recorder rec;
    memset(&rec, 0, sizeof rec);
    mqtt5_builder_options o = opts("localhost");
    o.user_data = &rec;
    o.on_publish_received = on_publish;
    o.on_lifecycle_stopped = on_stopped;
    o.on_lifecycle_attempting_connect = on_attempt;
    o.on_lifecycle_connection_success = on_success;
    o.on_lifecycle_connection_failure = on_failure;
    o.on_lifecycle_disconnection = on_disconnect;
    mqtt5_builder_resolved *r = resolve_ok(&o, &tls_default);
    const mqtt5_client_options *c = &r->client;
    assert_non_null(r->dispatch);
    assert_ptr_equal(c->user, r->dispatch);
    assert_non_null(c->on_lifecycle);
    assert_non_null(c->on_publish);

    static const struct {
        mqtt5_lifecycle_type type;
        int which;
    } map[] = {
        {MQTT5_LC_ATTEMPTING_CONNECT, CB_ATTEMPT},
        {MQTT5_LC_CONNECTION_SUCCESS, CB_SUCCESS},
        {MQTT5_LC_CONNECTION_FAILURE, CB_FAILURE},
        {MQTT5_LC_DISCONNECTION, CB_DISCONNECT},
        {MQTT5_LC_STOPPED, CB_STOPPED},
    };
    for (size_t i = 0; i < COUNT_OF(map); i++) {
        mqtt5_lifecycle_event ev = {.type = map[i].type, .error = -(int)i};
        c->on_lifecycle(c->user, &ev, "detail");
        assert_int_equal(rec.last, map[i].which);
        assert_int_equal(rec.calls[map[i].which], 1);
        assert_ptr_equal(rec.last_user, &rec);
        assert_ptr_equal(rec.last_arg, &ev);
        assert_string_equal(rec.last_detail, "detail");
    }
    mqtt5_lifecycle_event ev = {.type = MQTT5_LC_DISCONNECTION};
    c->on_lifecycle(c->user, &ev, NULL);
    assert_int_equal(rec.calls[CB_DISCONNECT], 2);
    assert_null(rec.last_detail);

    mqtt5_inbound_publish msg = {.ack_handle = 7};
    c->on_publish(c->user, &msg);
    assert_int_equal(rec.calls[CB_PUBLISH], 1);
    assert_ptr_equal(rec.last_user, &rec);
    assert_ptr_equal(rec.last_arg, &msg);
    for (int i = 0; i < CB_COUNT; i++)
        assert_int_equal(rec.calls[i], i == CB_DISCONNECT ? 2 : 1);

    /* the dispatch block outlives the resolved struct once taken (as the client does) */
    mqtt5_builder_dispatch *d = r->dispatch;
    r->dispatch = NULL;
    mqtt5_builder_resolved_free(cur);
    cur = NULL;
    ev.type = MQTT5_LC_STOPPED;
    d->on_stopped(d->user_data, &ev, NULL);
    assert_int_equal(rec.calls[CB_STOPPED], 2);
    mqtt5_builder_dispatch_free(d);
}

static void test_callbacks_partial(void **state)
{
    (void)state;
    recorder rec;
    memset(&rec, 0, sizeof rec);
    mqtt5_builder_options o = opts("localhost");
    o.user_data = &rec;
    o.on_lifecycle_connection_success = on_success;
    mqtt5_builder_resolved *r = resolve_ok(&o, &tls_default);
    assert_non_null(r->dispatch);
    assert_null(r->client.on_publish); /* none given: the client acknowledges and drops */
    for (int t = MQTT5_LC_ATTEMPTING_CONNECT; t <= MQTT5_LC_STOPPED; t++) {
        mqtt5_lifecycle_event ev = {.type = (mqtt5_lifecycle_type)t};
        r->client.on_lifecycle(r->client.user, &ev, NULL);
    }
    assert_int_equal(rec.calls[CB_SUCCESS], 1);
    for (int i = 0; i < CB_COUNT; i++)
        if (i != CB_SUCCESS) assert_int_equal(rec.calls[i], 0);

    /* no lifecycle callback: no dispatch block, the publish callback gets user_data directly */
    o.on_lifecycle_connection_success = NULL;
    o.on_publish_received = on_publish;
    r = resolve_ok(&o, &tls_default);
    assert_null(r->dispatch);
    assert_null(r->client.on_lifecycle);
    assert_ptr_equal(r->client.user, &rec);
    assert_true(r->client.on_publish == on_publish);
}

/* ---- public builders (no network: they fail before any connection) ------------------------- */

static void test_public_builder_missing_cert(void **state)
{
    (void)state;
    mqtt5_builder_options o = opts("localhost");
    mqtt5_client *client = (mqtt5_client *)(uintptr_t)1;
    mqtt5_codec_status st;
    int rc = mqtt5_builder_mtls_from_path(missing_path, key_path, &o, &client, &st);
    assert_int_equal(rc, MQTT5_ERR_FILE);
    assert_int_equal(st.error, MQTT5_ERR_FILE);
    assert_string_equal(st.field, "cert_filepath");
    assert_null(client);

    client = (mqtt5_client *)(uintptr_t)1;
    rc = mqtt5_builder_mtls_from_path(cert_path, missing_path, &o, &client, NULL);
    assert_int_equal(rc, MQTT5_ERR_FILE);
    assert_null(client);

    rc = mqtt5_builder_mtls_from_bytes(NULL, 0, key_mem, 3, &o, &client, &st);
    assert_int_equal(rc, MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "cert_bytes");

    o.endpoint = NULL;
    rc = mqtt5_builder_new_default(&o, false, &client, &st);
    assert_int_equal(rc, MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "endpoint");
    assert_null(client);

    rc = mqtt5_builder_new_default(&o, true, NULL, &st);
    assert_int_equal(rc, MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "out");
}

/* ---- public builders with the runtime (loopback only) --------------------------------------- */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Errors found when the client loads its TLS options are reported under the builder keyword;
 * the private event-loop group made for the client is released again. */
static void test_public_builder_client_errors_named(void **state)
{
    (void)state;
    mqtt5_builder_options o = opts("localhost");
    mqtt5_client *client = (mqtt5_client *)(uintptr_t)1;
    mqtt5_codec_status st;
    int rc = mqtt5_builder_mtls_from_path(cert_path, key_path, &o, &client, &st);
    assert_int_equal(rc, MQTT5_ERR_TLS_CREDENTIALS); /* the dummy PEM does not parse */
    assert_int_equal(st.error, MQTT5_ERR_TLS_CREDENTIALS);
    assert_string_equal(st.field, "cert_filepath");
    assert_null(client);

    rc = mqtt5_builder_mtls_from_bytes(cert_mem, 4, key_mem, 3, &o, &client, &st);
    assert_int_equal(rc, MQTT5_ERR_TLS_CREDENTIALS);
    assert_string_equal(st.field, "cert_bytes");

    o.ca_filepath = ca_path; /* readable, but no certificate in it */
    rc = mqtt5_builder_new_default(&o, true, &client, &st);
    assert_int_equal(rc, MQTT5_ERR_TLS_CREDENTIALS);
    assert_string_equal(st.field, "ca_filepath");

    static const mqtt5_http_proxy_options proxy = {.host = "127.0.0.1", .port = 0};
    static const mqtt5_socks5_proxy_options socks = {.host = "127.0.0.1", .port = 1080};
    o = opts("localhost");
    o.http_proxy_options = &proxy;
    rc = mqtt5_builder_new_default(&o, false, &client, &st);
    assert_int_equal(rc, MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "http_proxy_options.port");
    assert_null(client);
    o.socks5_proxy_options = &socks;
    rc = mqtt5_builder_new_default(&o, false, &client, &st);
    assert_int_equal(rc, MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "socks5_proxy_options");
    assert_null(client);
    sleep_ms(50); /* the private groups' joiners finish freeing (LeakSanitizer runs at exit) */
}

static struct {
    _Atomic int attempts, failures, successes, wrong_user, completed;
    _Atomic int failure_error;
    mqtt5_future *failed;
} e2e;

static void e2e_attempt(void *user, const mqtt5_lifecycle_event *ev, const char *detail)
{
    (void)detail;
    if (user != &e2e || ev->type != MQTT5_LC_ATTEMPTING_CONNECT)
        atomic_fetch_add(&e2e.wrong_user, 1);
    atomic_fetch_add(&e2e.attempts, 1);
}

static void e2e_failure(void *user, const mqtt5_lifecycle_event *ev, const char *detail)
{
    (void)detail;
    if (user != &e2e || ev->type != MQTT5_LC_CONNECTION_FAILURE)
        atomic_fetch_add(&e2e.wrong_user, 1);
    atomic_fetch_add(&e2e.failures, 1);
    if (atomic_exchange(&e2e.completed, 1) == 0) {
        atomic_store(&e2e.failure_error, ev->error);
        mqtt5_future_complete(e2e.failed, ev->error);
    }
}

static void e2e_success(void *user, const mqtt5_lifecycle_event *ev, const char *detail)
{
    (void)user, (void)ev, (void)detail;
    atomic_fetch_add(&e2e.successes, 1);
}

static void on_terminated_future(void *f)
{
    mqtt5_future_complete(f, 0);
}

/* A plain client from the default builder, on a private group, connecting to a loopback port
 * nobody listens on: the lifecycle events reach the per-event callbacks with user_data, and
 * release frees the client, its group and the dispatch block (LeakSanitizer checks). */
static void test_public_builder_lifecycle_dispatch(void **state)
{
    (void)state;
    uint16_t port;
    close(test_loopback_bind(&port)); /* the port is now (very likely) closed: connect refused */

    e2e.failed = mqtt5_future_new();
    assert_non_null(e2e.failed);
    mqtt5_builder_options o = opts("127.0.0.1");
    o.port = port;
    o.user_data = &e2e;
    o.on_lifecycle_attempting_connect = e2e_attempt;
    o.on_lifecycle_connection_failure = e2e_failure;
    o.on_lifecycle_connection_success = e2e_success;
    o.min_reconnect_delay_ms = 60000; /* one attempt */
    mqtt5_client *client = NULL;
    mqtt5_codec_status st;
    int rc = mqtt5_builder_new_default(&o, false, &client, &st);
    if (rc) fail_msg("new_default: %s field=%s", mqtt5_error_name(rc), st.field ? st.field : "-");
    assert_non_null(client);
    assert_int_equal(mqtt5_client_start(client), 0);
    assert_int_equal(mqtt5_future_wait(e2e.failed, 10000), MQTT5_ERR_CONNECT_REFUSED);
    mqtt5_future_release(e2e.failed);
    assert_int_equal(atomic_load(&e2e.attempts), 1);
    assert_int_equal(atomic_load(&e2e.failures), 1);
    assert_int_equal(atomic_load(&e2e.successes), 0);
    assert_int_equal(atomic_load(&e2e.wrong_user), 0);
    assert_int_equal(atomic_load(&e2e.failure_error), MQTT5_ERR_CONNECT_REFUSED);

    mqtt5_future *done = mqtt5_future_new();
    assert_non_null(done);
    assert_int_equal(mqtt5_client_release(client, on_terminated_future, done), 0);
    assert_int_equal(mqtt5_future_wait(done, 10000), 0);
    mqtt5_future_release(done);
    sleep_ms(50); /* the group's joiner finishes freeing (LeakSanitizer runs at exit) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_options_init_defaults, test_teardown),
        cmocka_unit_test_teardown(test_resolve_defaults, test_teardown),
        cmocka_unit_test_teardown(test_resolve_plain, test_teardown),
        cmocka_unit_test_teardown(test_port_rules, test_teardown),
        cmocka_unit_test_teardown(test_websocket_port_and_alpn, test_teardown),
        cmocka_unit_test_teardown(test_websocket_builder_errors, test_teardown),
        cmocka_unit_test_teardown(test_tls_credentials_and_trust, test_teardown),
        cmocka_unit_test_teardown(test_metrics_username, test_teardown),
        cmocka_unit_test_teardown(test_metrics_length_limit, test_teardown),
        cmocka_unit_test_teardown(test_extended_validation_auto, test_teardown),
        cmocka_unit_test_teardown(test_keywords_to_connect, test_teardown),
        cmocka_unit_test_teardown(test_connect_options_override, test_teardown),
        cmocka_unit_test_teardown(test_connect_options_core_properties, test_teardown),
        cmocka_unit_test_teardown(test_core_and_socket_mapping, test_teardown),
        cmocka_unit_test_teardown(test_validation_names_the_keyword, test_teardown),
        cmocka_unit_test_teardown(test_validation_bounds_accepted, test_teardown),
        cmocka_unit_test_teardown(test_tls_input_errors, test_teardown),
        cmocka_unit_test_teardown(test_callbacks_dispatch, test_teardown),
        cmocka_unit_test_teardown(test_callbacks_partial, test_teardown),
        cmocka_unit_test_teardown(test_public_builder_missing_cert, test_teardown),
        cmocka_unit_test_teardown(test_public_builder_client_errors_named, test_teardown),
        cmocka_unit_test_teardown(test_public_builder_lifecycle_dispatch, test_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
