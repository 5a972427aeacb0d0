/*
 * test_tls_filter.c - the TLS transport filter and its context, in-process: a client filter
 * over a fake lower filter that is an OpenSSL server on memory BIOs (helpers/tls_peer.c), with
 * a PKI generated at start (helpers/tls_pki.c). No sockets, no event loop, no files but the
 * PKI's temp directory. Covers handshake, verification, names, ALPN, client certificates,
 * error mapping, byte-at-a-time delivery and close in both directions.
 */
#include "helpers/test_common.h"

#include "helpers/tls_peer.h"
#include "helpers/tls_pki.h"
#include "mqtt5/tls.h"
#include "transports/filter.h"

static tls_pki pki;

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

static mqtt5_tls_options trust_ca(void)
{
    mqtt5_tls_options o;
    mqtt5_tls_options_init(&o);
    o.ca_bytes = (const uint8_t *)pki.ca.p;
    o.ca_len = pki.ca.n;
    return o;
}

/* Connect `host` with options `o` to a server per `so`; the ctx is released at once (the
 * filter holds its own reference). */
static void start(tls_peer *t, const mqtt5_tls_options *o, const tls_server_opts *so,
                  const char *host, size_t chunk)
{
    mqtt5_tls_ctx *ctx = make_ctx(o);
    tls_peer_init(t, &pki, so, ctx, host);
    mqtt5_tls_ctx_release(ctx);
    t->chunk = chunk;
    tls_peer_connect(t);
}

static void assert_open(tls_peer *t)
{
    if (t->closes) fail_msg("closed: %s %s", mqtt5_error_name(t->close_up_err), t->close_detail);
    assert_int_equal(t->opens, 1);
    assert_true(t->server_done);
}

static void assert_failed(tls_peer *t, int err, const char *needle)
{
    assert_int_equal(t->closes, 1);
    if (t->close_up_err != err)
        fail_msg("got %s (%s), want %s", mqtt5_error_name(t->close_up_err), t->close_detail,
                 mqtt5_error_name(err));
    assert_true(t->close_called);
    assert_int_equal(t->close_err, err);
    if (needle && !strstr(t->close_detail, needle))
        fail_msg("detail '%s' lacks '%s'", t->close_detail, needle);
}

static void echo(tls_peer *t)
{
    mqtt5_iov v[2] = {{(const uint8_t *)"hel", 3}, {(const uint8_t *)"lo", 2}};
    assert_int_equal(t->tls->ops->write(t->tls, v, 2), 0);
    tls_peer_pump(t);
    assert_int_equal(t->server_in.n, 5);
    assert_memory_equal(t->server_in.p, "hello", 5);
    tls_peer_server_send(t, "world!", 6);
    assert_int_equal(t->sink_in.n, 6);
    assert_memory_equal(t->sink_in.p, "world!", 6);
}

static void test_handshake_and_echo(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o = trust_ca();
    start(&t, &o, &(tls_server_opts){0}, "localhost", 0);
    assert_open(&t);
    echo(&t);
    const char *version = NULL, *sni = NULL;
    assert_int_equal(t.tls->ops->query(t.tls, MQTT5_FILTER_QUERY_TLS_VERSION, &version), 0);
    assert_string_equal(version, "TLSv1.3");
    assert_int_equal(t.tls->ops->query(t.tls, MQTT5_FILTER_QUERY_SERVER_NAME, &sni), 0);
    assert_string_equal(sni, "localhost");
    assert_int_equal(t.tls->ops->query(t.tls, 99, &sni), MQTT5_ERR_NOT_AVAILABLE);
    tls_peer_free(&t);
}

static void test_tls12_echo_with_ca_file(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o;
    mqtt5_tls_options_init(&o);
    o.ca_file = pki.ca.file;
    start(&t, &o, &(tls_server_opts){.max_version = TLS1_2_VERSION}, "localhost", 0);
    assert_open(&t);
    echo(&t);
    const char *version = NULL;
    t.tls->ops->query(t.tls, MQTT5_FILTER_QUERY_TLS_VERSION, &version);
    assert_string_equal(version, "TLSv1.2");
    tls_peer_free(&t);
}

static void test_write_before_handshake_refused(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o = trust_ca();
    mqtt5_tls_ctx *ctx = make_ctx(&o);
    tls_peer_init(&t, &pki, &(tls_server_opts){0}, ctx, "localhost");
    mqtt5_tls_ctx_release(ctx);
    mqtt5_iov v = {(const uint8_t *)"x", 1};
    assert_int_equal(t.tls->ops->write(t.tls, &v, 1), MQTT5_ERR_INVALID_STATE);
    assert_int_equal(t.tls->ops->connect(t.tls), 0);
    assert_int_equal(t.tls->ops->write(t.tls, &v, 1), MQTT5_ERR_INVALID_STATE);
    tls_peer_pump(&t);
    assert_open(&t);
    assert_int_equal(t.server_in.n, 0);
    tls_peer_free(&t);
}

static void test_wrong_ca_untrusted(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o;
    mqtt5_tls_options_init(&o);
    o.ca_file = pki.other_ca.file;
    start(&t, &o, &(tls_server_opts){0}, "localhost", 0);
    assert_int_equal(t.opens, 0);
    assert_failed(&t, MQTT5_ERR_TLS_UNTRUSTED_CERT, "certificate 'CN=localhost'");
    assert_non_null(strstr(t.close_detail, "issuer 'CN=Test CA'"));
    assert_non_null(strstr(t.close_detail, pki.other_ca.file));
    tls_peer_free(&t);
}

static void test_expired_server_cert(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o = trust_ca();
    start(&t, &o, &(tls_server_opts){.expired_cert = true}, "localhost", 0);
    assert_int_equal(t.opens, 0);
    assert_failed(&t, MQTT5_ERR_TLS_CERT_EXPIRED, "certificate 'CN=localhost' at depth 0");
    assert_non_null(strstr(t.close_detail, "expired"));
    tls_peer_free(&t);
}

static void test_hostname_mismatch(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o = trust_ca();
    start(&t, &o, &(tls_server_opts){0}, "wrong.example", 0);
    assert_failed(&t, MQTT5_ERR_TLS_HOSTNAME_MISMATCH, "DNS:localhost, IP:127.0.0.1");
    assert_non_null(strstr(t.close_detail, "'wrong.example'"));
    assert_string_equal(SSL_get_servername(t.server, TLSEXT_NAMETYPE_host_name), "wrong.example");
    tls_peer_free(&t);
}

static void test_ip_mismatch(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o = trust_ca();
    start(&t, &o, &(tls_server_opts){0}, "127.0.0.2", 0);
    assert_failed(&t, MQTT5_ERR_TLS_HOSTNAME_MISMATCH, "host '127.0.0.2'");
    tls_peer_free(&t);
}

static void test_ip_literal_no_sni(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o = trust_ca();
    start(&t, &o, &(tls_server_opts){0}, "127.0.0.1", 0);
    assert_open(&t);
    assert_null(SSL_get_servername(t.server, TLSEXT_NAMETYPE_host_name));
    const char *sni = "x";
    t.tls->ops->query(t.tls, MQTT5_FILTER_QUERY_SERVER_NAME, &sni);
    assert_null(sni);
    tls_peer_free(&t);
}

static void test_sni_for_names(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o = trust_ca();
    start(&t, &o, &(tls_server_opts){0}, "localhost.", 0); /* trailing dot removed */
    assert_open(&t);
    assert_string_equal(SSL_get_servername(t.server, TLSEXT_NAMETYPE_host_name), "localhost");
    tls_peer_free(&t);
    /* server_name overrides the host for SNI and verification */
    o.server_name = "localhost";
    start(&t, &o, &(tls_server_opts){0}, "127.0.0.1", 0);
    assert_open(&t);
    assert_string_equal(SSL_get_servername(t.server, TLSEXT_NAMETYPE_host_name), "localhost");
    tls_peer_free(&t);
}

static const char *const alpn_list[] = {"x-amzn-mqtt-ca", "mqtt"};

static void test_alpn_selected(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o = trust_ca();
    o.alpn = alpn_list;
    o.alpn_count = 2;
    o.require_alpn = true;
    start(&t, &o, &(tls_server_opts){.alpn = TLS_ALPN_SELECT_MQTT}, "localhost", 0);
    assert_open(&t);
    mqtt5_iov sel = {0};
    assert_int_equal(t.tls->ops->query(t.tls, MQTT5_FILTER_QUERY_ALPN, &sel), 0);
    assert_int_equal(sel.n, 4);
    assert_memory_equal(sel.p, "mqtt", 4);
    tls_peer_free(&t);
}

static void test_alpn_rejected(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o = trust_ca();
    o.alpn = alpn_list;
    o.alpn_count = 2;
    start(&t, &o, &(tls_server_opts){.alpn = TLS_ALPN_REJECT}, "localhost", 0);
    assert_int_equal(t.opens, 0);
    assert_failed(&t, MQTT5_ERR_TLS_ALPN_REJECTED, "x-amzn-mqtt-ca, mqtt");
    tls_peer_free(&t);
    /* no selection: accepted by default, refused under require_alpn */
    start(&t, &o, &(tls_server_opts){.alpn = TLS_ALPN_NOACK}, "localhost", 0);
    assert_open(&t);
    tls_peer_free(&t);
    o.require_alpn = true;
    start(&t, &o, &(tls_server_opts){.alpn = TLS_ALPN_NOACK}, "localhost", 0);
    assert_int_equal(t.opens, 0);
    assert_failed(&t, MQTT5_ERR_TLS_ALPN_REJECTED, "selected none");
    tls_peer_free(&t);
}

static void test_client_cert_required_tls12(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o = trust_ca();
    start(&t, &o, &(tls_server_opts){.max_version = TLS1_2_VERSION, .require_cert = true},
          "localhost", 0);
    assert_int_equal(t.opens, 0);
    assert_failed(&t, MQTT5_ERR_TLS_CLIENT_CERT_REQUIRED, "alert 40");
    tls_peer_free(&t);
}

static void test_client_cert_required_tls13_first_read(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o = trust_ca();
    mqtt5_tls_ctx *ctx = make_ctx(&o);
    tls_peer_init(&t, &pki, &(tls_server_opts){.require_cert = true}, ctx, "localhost");
    mqtt5_tls_ctx_release(ctx);
    t.send_on_open = "CONNECT";
    tls_peer_connect(&t);
    assert_int_equal(t.opens, 1); /* the client's handshake ended before the server checked */
    assert_true(t.server_failed);
    assert_failed(&t, MQTT5_ERR_TLS_CLIENT_CERT_REQUIRED,
                  "alert 116 (certificate required) after the TLS 1.3 handshake");
    tls_peer_free(&t);
}

static void test_client_cert_rejected(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o = trust_ca();
    o.cert_file = pki.ec_cert.file;
    o.key_file = pki.ec_key.file;
    start(&t, &o,
          &(tls_server_opts){
              .max_version = TLS1_2_VERSION, .require_cert = true, .trust_other_ca = true},
          "localhost", 0);
    assert_failed(&t, MQTT5_ERR_TLS_CLIENT_CERT_REJECTED, "unknown CA");
    tls_peer_free(&t);
}

static void test_mutual_tls(void **state)
{
    (void)state;
    struct {
        const tls_pem *cert, *key;
        bool files;
        const char *cn;
    } cases[] = {
        {&pki.ec_cert, &pki.ec_key, true, "test-client"},
        {&pki.ec_cert, &pki.ec_key, false, "test-client"},
        {&pki.rsa_cert, &pki.rsa_key, true, "rsa-client"},
        {&pki.rsa_cert, &pki.rsa_key, false, "rsa-client"},
    };
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        for (int v = 0; v < 2; v++) {
            tls_peer t;
            mqtt5_tls_options o = trust_ca();
            if (cases[i].files) {
                o.cert_file = cases[i].cert->file;
                o.key_file = cases[i].key->file;
            } else {
                o.cert_bytes = (const uint8_t *)cases[i].cert->p;
                o.cert_len = cases[i].cert->n;
                o.key_bytes = (const uint8_t *)cases[i].key->p;
                o.key_len = cases[i].key->n;
            }
            start(&t, &o,
                  &(tls_server_opts){.require_cert = true, .max_version = v ? TLS1_2_VERSION : 0},
                  "localhost", 0);
            assert_open(&t);
            echo(&t);
            X509 *peer = SSL_get1_peer_certificate(t.server);
            assert_non_null(peer);
            char cn[64];
            X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
            assert_string_equal(cn, cases[i].cn);
            X509_free(peer);
            tls_peer_free(&t);
        }
    }
    /* the caller's key bytes are untouched (only our copy is wiped) */
    assert_non_null(strstr(pki.ec_key.p, "PRIVATE KEY"));
}

static void expect_ctx_error(const mqtt5_tls_options *o, int err, const char *field)
{
    mqtt5_codec_status st;
    mqtt5_tls_ctx *ctx = (mqtt5_tls_ctx *)&st;
    assert_int_equal(mqtt5_tls_ctx_new(o, &ctx, &st), err);
    assert_null(ctx);
    assert_int_equal(st.error, err);
    assert_non_null(st.field);
    assert_string_equal(st.field, field);
    assert_non_null(st.detail);
}

static void test_option_errors(void **state)
{
    (void)state;
    mqtt5_tls_options o = trust_ca();
    o.cert_file = pki.ec_cert.file;
    o.key_file = pki.stray_key.file;
    expect_ctx_error(&o, MQTT5_ERR_TLS_CREDENTIALS, "key_file");
    o.key_file = NULL;
    o.key_bytes = (const uint8_t *)pki.rsa_key.p;
    o.key_len = pki.rsa_key.n;
    expect_ctx_error(&o, MQTT5_ERR_TLS_CREDENTIALS, "key_bytes");
    o.key_bytes = (const uint8_t *)"-----BEGIN PRIVATE KEY-----\nnope\n";
    o.key_len = strlen((const char *)o.key_bytes);
    expect_ctx_error(&o, MQTT5_ERR_TLS_CREDENTIALS, "key_bytes");
    o.key_bytes = NULL;
    expect_ctx_error(&o, MQTT5_ERR_INVALID_ARGUMENT, "key_file");
    o.key_file = "/nonexistent/client.key";
    expect_ctx_error(&o, MQTT5_ERR_TLS_CREDENTIALS, "key_file");
    o.cert_file = pki.ec_key.file; /* a key is no certificate */
    o.key_file = pki.ec_key.file;
    expect_ctx_error(&o, MQTT5_ERR_TLS_CREDENTIALS, "cert_file");

    o = trust_ca();
    o.ca_file = pki.ca.file;
    expect_ctx_error(&o, MQTT5_ERR_INVALID_ARGUMENT, "ca_bytes");
    mqtt5_tls_options_init(&o);
    o.ca_file = "/nonexistent/ca.crt";
    expect_ctx_error(&o, MQTT5_ERR_TLS_CREDENTIALS, "ca_file");
    o.ca_file = pki.ec_key.file;
    expect_ctx_error(&o, MQTT5_ERR_TLS_CREDENTIALS, "ca_file");
    o.ca_file = NULL;
    o.ca_dir = "/nonexistent";
    expect_ctx_error(&o, MQTT5_ERR_TLS_CREDENTIALS, "ca_dir");
    o = trust_ca();
    o.min_version = 0x0302;
    expect_ctx_error(&o, MQTT5_ERR_INVALID_ARGUMENT, "min_version");
    o = trust_ca();
    const char *bad_alpn[] = {""};
    o.alpn = bad_alpn;
    o.alpn_count = 1;
    expect_ctx_error(&o, MQTT5_ERR_INVALID_ARGUMENT, "alpn");
}

static void test_not_tls(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o = trust_ca();
    start(&t, &o, &(tls_server_opts){.raw = true}, "localhost", 0);
    assert_int_equal(t.closes, 0);
    tls_peer_raw_send(&t, "\x20\x03\x00\x00\x00", 5); /* a plain MQTT CONNACK */
    assert_int_equal(t.opens, 0);
    assert_failed(&t, MQTT5_ERR_TLS_HANDSHAKE, "did not answer with TLS");
    tls_peer_free(&t);
    start(&t, &o, &(tls_server_opts){.raw = true}, "localhost", 0);
    tls_peer_raw_send(&t, "HTTP/1.1 400 Bad Request\r\n\r\n", 28);
    assert_failed(&t, MQTT5_ERR_TLS_HANDSHAKE, "did not answer with TLS");
    tls_peer_free(&t);
}

static void test_lower_closed_mid_handshake(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o = trust_ca();
    start(&t, &o, &(tls_server_opts){.raw = true}, "localhost", 0);
    t.tls->ops->on_closed(t.tls, 0, NULL); /* FIN */
    assert_int_equal(t.closes, 1);
    assert_int_equal(t.close_up_err, MQTT5_ERR_TLS_HANDSHAKE);
    tls_peer_free(&t);
}

static void test_one_byte_at_a_time(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o = trust_ca();
    o.cert_bytes = (const uint8_t *)pki.ec_cert.p;
    o.cert_len = pki.ec_cert.n;
    o.key_bytes = (const uint8_t *)pki.ec_key.p;
    o.key_len = pki.ec_key.n;
    start(&t, &o, &(tls_server_opts){.require_cert = true}, "localhost", 1);
    assert_open(&t);
    echo(&t);
    tls_peer_free(&t);
    start(&t, &o, &(tls_server_opts){.max_version = TLS1_2_VERSION}, "localhost", 1);
    assert_open(&t);
    echo(&t);
    tls_peer_free(&t);
}

/* Records that arrive together go up as one read (a burst of acks is one mem_recv, one pump and
 * one write on the client), in order (test_one_byte_at_a_time: split arrivals). */
static void test_records_gathered_into_one_read(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o = trust_ca();
    start(&t, &o, &(tls_server_opts){0}, "localhost", 0);
    assert_open(&t);
    int reads = t.reads;
    tls_peer_server_queue(&t, "@\x02\x00\x01", 4);
    tls_peer_server_queue(&t, "@\x02\x00\x02", 4);
    tls_peer_server_queue(&t, "@\x02\x00\x03", 4);
    tls_peer_pump(&t);
    assert_int_equal(t.reads, reads + 1);
    assert_int_equal(t.sink_in.n, 12);
    assert_memory_equal(t.sink_in.p, "@\x02\x00\x01@\x02\x00\x02@\x02\x00\x03", 12);
    tls_peer_free(&t);
}

/* The read low-water goes down scaled by the wire bytes per plaintext byte measured while a mark
 * was in effect (times 3/4); unscaled before anything was measured and after a mark ran out with
 * nothing read; 1 stays 1. */
static void test_read_low_water_scaled_by_measured_framing(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o = trust_ca();
    start(&t, &o, &(tls_server_opts){0}, "localhost", 0);
    assert_open(&t);
    mqtt5_filter_set_read_low_water(t.tls, 40);
    assert_int_equal(t.low_water, 40);             /* nothing measured: as it is */
    tls_peer_server_queue(&t, "@\x02\x00\x01", 4); /* two acks, a record each */
    tls_peer_server_queue(&t, "@\x02\x00\x02", 4);
    size_t fed = t.fed_to_client;
    tls_peer_pump(&t);
    size_t wire = t.fed_to_client - fed;
    assert_true(wire > 2 * (4 + 16)); /* header, tag and content type per record */
    uint32_t scaled = (uint32_t)(40u * (wire * 16 / 8) * 3 / 64);
    mqtt5_filter_set_read_low_water(t.tls, 40); /* the next wait */
    assert_int_equal(t.low_water, scaled);
    assert_true(scaled > 100);
    tls_peer_server_queue(&t, "@\x02\x00\x03", 4); /* read while that mark holds */
    tls_peer_pump(&t);
    wire = t.fed_to_client - fed;
    mqtt5_filter_set_read_low_water(t.tls, 1); /* after a read: the ratio stays */
    assert_int_equal(t.low_water, 1);
    scaled = (uint32_t)(40u * (wire * 16 / 12) * 3 / 64);
    mqtt5_filter_set_read_low_water(t.tls, 40);
    assert_int_equal(t.low_water, scaled);
    mqtt5_filter_set_read_low_water(t.tls, 40); /* the same wait again: unchanged */
    assert_int_equal(t.low_water, scaled);
    mqtt5_filter_set_read_low_water(t.tls, 1); /* ran out, nothing read: not trusted any more */
    mqtt5_filter_set_read_low_water(t.tls, 40);
    assert_int_equal(t.low_water, 40);
    mqtt5_filter_set_read_low_water(t.tls, 1);
    tls_peer_server_send(&t, "outside any mark", 16); /* not measured */
    mqtt5_filter_set_read_low_water(t.tls, 40);
    assert_int_equal(t.low_water, 40);
    assert_int_equal(t.sink_in.n, 12 + 16);
    tls_peer_free(&t);
}

static void test_close_sends_close_notify(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o = trust_ca();
    start(&t, &o, &(tls_server_opts){0}, "localhost", 0);
    assert_open(&t);
    t.tls->ops->close(t.tls, 0);
    mqtt5_iov v = {(const uint8_t *)"x", 1};
    assert_int_equal(t.tls->ops->write(t.tls, &v, 1), MQTT5_ERR_INVALID_STATE);
    tls_peer_pump(&t);
    assert_true(t.server_close_notify);
    assert_int_equal(t.close_err, 0);
    assert_int_equal(t.closes, 1);
    assert_int_equal(t.close_up_err, 0);
    tls_peer_free(&t);
}

static void test_abortive_close(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o = trust_ca();
    start(&t, &o, &(tls_server_opts){0}, "localhost", 0);
    t.tls->ops->close(t.tls, MQTT5_ERR_PING_TIMEOUT);
    tls_peer_pump(&t);
    assert_false(t.server_close_notify);
    assert_int_equal(t.close_err, MQTT5_ERR_PING_TIMEOUT);
    assert_int_equal(t.close_up_err, MQTT5_ERR_PING_TIMEOUT);
    tls_peer_free(&t);
}

static void test_peer_close_notify(void **state)
{
    (void)state;
    tls_peer t;
    mqtt5_tls_options o = trust_ca();
    start(&t, &o, &(tls_server_opts){0}, "localhost", 0);
    assert_open(&t);
    tls_peer_server_send(&t, "bye", 3);
    tls_peer_server_shutdown(&t);
    assert_int_equal(t.sink_in.n, 3);
    assert_true(t.close_called);
    assert_int_equal(t.close_err, 0);
    assert_int_equal(t.closes, 1);
    assert_int_equal(t.close_up_err, 0);
    assert_true(t.server_close_notify); /* answered */
    tls_peer_free(&t);
}

static int setup(void **state)
{
    (void)state;
    tls_pki_make(&pki);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tls_pki_free(&pki);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_and_echo),
        cmocka_unit_test(test_tls12_echo_with_ca_file),
        cmocka_unit_test(test_write_before_handshake_refused),
        cmocka_unit_test(test_wrong_ca_untrusted),
        cmocka_unit_test(test_expired_server_cert),
        cmocka_unit_test(test_hostname_mismatch),
        cmocka_unit_test(test_ip_mismatch),
        cmocka_unit_test(test_ip_literal_no_sni),
        cmocka_unit_test(test_sni_for_names),
        cmocka_unit_test(test_alpn_selected),
        cmocka_unit_test(test_alpn_rejected),
        cmocka_unit_test(test_client_cert_required_tls12),
        cmocka_unit_test(test_client_cert_required_tls13_first_read),
        cmocka_unit_test(test_client_cert_rejected),
        cmocka_unit_test(test_mutual_tls),
        cmocka_unit_test(test_option_errors),
        cmocka_unit_test(test_not_tls),
        cmocka_unit_test(test_lower_closed_mid_handshake),
        cmocka_unit_test(test_one_byte_at_a_time),
        cmocka_unit_test(test_records_gathered_into_one_read),
        cmocka_unit_test(test_read_low_water_scaled_by_measured_framing),
        cmocka_unit_test(test_close_sends_close_notify),
        cmocka_unit_test(test_abortive_close),
        cmocka_unit_test(test_peer_close_notify),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
