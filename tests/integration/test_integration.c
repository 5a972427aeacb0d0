/*
 * tests/integration/test_integration.c - end-to-end tests of the client runtime over TCP and
 * TLS against a real mosquitto (issue 4).
 *
 * Run by ctest as `fixture.sh run <this exe>`: the fixture generates a PKI and starts mosquitto
 * with plain, TLS, mutual-TLS and wrong-name listeners plus a node ALPN front, and exports
 * FX_PKI and FX_PORT_{TCP,TLS,MTLS,WRONG,ALPN} (see fixture.sh). Only the public API is used
 * (client.h, runtime.h, tls.h, client_core.h, packet.h; log.h when MQTT5_LOG_LEVEL is set).
 * FX_TEST_FILTER=<glob> runs only the matching tests.
 *
 * Success: plain TCP QoS 0/1/2 between two clients (and each client's own subscription); TLS
 * trusting ca_file, ca_dir and ca_bytes; mutual TLS with EC and RSA client keys from files and
 * from memory; "localhost" against the DNS SAN and "127.0.0.1" against the IP SAN; ALPN
 * x-amzn-mqtt-ca through the front, reported by mqtt5_client_alpn().
 * Failure (the first CONNECTION_FAILURE's error, with a non-empty detail): untrusted CA, host
 * name mismatch, missing client certificate under TLS 1.2 and 1.3, TLS to a plain port, ALPN
 * refused, connection refused, connect timeout (a listener that never answers, 1 s budget),
 * unresolvable host.
 * Every test runs in its own event-loop group; every client is released and its on_terminated
 * awaited, then the group's on_shutdown (fx_harness_teardown), so the leak check at exit holds.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers/fx_client.h"
#include "helpers/fx_env.h"
#include "mqtt5/client.h"
#include "mqtt5/log.h"
#include "mqtt5/packet.h"
#include "mqtt5/runtime.h"
#include "mqtt5/tls.h"
#include "credentials/provider_internal.h"
#include "mqtt5/sigv4_websocket.h"
#include "mqtt5/websocket.h"

/* ---- common steps -------------------------------------------------------------------------- */

/* A per-test topic prefix: "it/<pid>/<tag>". */
static const char *topic_of(const char *tag, const char *leaf)
{
    static char ring[8][256];
    static unsigned next;
    char *b = ring[next++ % 8];
    snprintf(b, sizeof ring[0], "it/%ld/%s/%s", (long)getpid(), tag, leaf);
    return b;
}

/* Create and start a client; wait for CONNECTION_SUCCESS. */
static fx_client *connect_client(fx_harness *h, const char *name, mqtt5_client_options *o)
{
    int err = 0;
    mqtt5_codec_status st;
    memset(&st, 0, sizeof st);
    fx_client *fc = fx_client_create(h, name, o, &err, &st);
    assert_non_null(fc);
    assert_int_equal(fx_client_start(fc), 0);
    fx_event ev;
    if (fx_client_wait_event(fc, MQTT5_LC_CONNECTION_SUCCESS, 0, FX_WAIT_MS, &ev) < 0) {
        fx_client_dump(fc);
        fail_msg("%s: no CONNECTION_SUCCESS within %u ms", name, FX_WAIT_MS);
    }
    assert_int_equal(ev.connack_reason, 0);
    /* nothing failed on the way */
    assert_true(fx_client_wait_event(fc, MQTT5_LC_CONNECTION_FAILURE, 0, 0, NULL) < 0);
    return fc;
}

static void stop_and_release(fx_client *fc)
{
    assert_int_equal(fx_client_stop(fc, FX_WAIT_MS), 0);
    assert_int_equal(fx_client_release(fc, FX_WAIT_MS), 0);
}

/* Connect, subscribe to an own topic, publish QoS 1 to it, receive it back, stop, release.
 * Proves bytes flow both ways over the transport. */
static void roundtrip(fx_harness *h, const char *name, mqtt5_client_options *o)
{
    fx_client *fc = connect_client(h, name, o);
    char tv[32];
    fx_client_tls_version(fc, tv, sizeof tv);
    printf("    %s: connected to %s:%u (tls version '%s')\n", name, o->host, o->port, tv);
    if (o->tls != NULL) {
        assert_true(tv[0] != '\0' && strcmp(tv, "(null)") != 0);
    }

    const char *topic = topic_of(name, "roundtrip");
    int reason = -2;
    assert_int_equal(fx_subscribe(fc, topic, 1, &reason), 0);
    assert_int_equal(reason, MQTT5_RC_GRANTED_QOS_1);

    char payload[128];
    int n = snprintf(payload, sizeof payload, "roundtrip over %s", name);
    assert_int_equal(fx_publish(fc, topic, 1, payload, (size_t)n, &reason), 0);
    assert_int_equal(reason, MQTT5_RC_SUCCESS);
    if (fx_client_wait_messages(fc, 1, FX_WAIT_MS) < 1) {
        fx_client_dump(fc);
        fail_msg("%s: own message did not come back", name);
    }
    assert_int_equal(fx_client_count_msg(fc, topic, payload, (size_t)n, 1), 1);
    stop_and_release(fc);
}

/* Start a client that must fail; return its first CONNECTION_FAILURE in *out (waiting up to
 * wait_ms), check the error and a non-empty detail, then stop and release it. */
static void expect_failure(fx_harness *h, const char *name, mqtt5_client_options *o, int expected,
                           uint32_t wait_ms, fx_event *out)
{
    o->core.reconnect_min_ms = 5000; /* no second attempt before we stop it */
    o->core.reconnect_max_ms = 5000;
    int err = 0;
    fx_client *fc = fx_client_create(h, name, o, &err, NULL);
    assert_non_null(fc);
    assert_int_equal(fx_client_start(fc), 0);
    fx_event ev;
    if (fx_client_wait_event(fc, MQTT5_LC_CONNECTION_FAILURE, 0, wait_ms, &ev) < 0) {
        fx_client_dump(fc);
        fail_msg("%s: no CONNECTION_FAILURE within %u ms", name, wait_ms);
    }
    printf("    %s: %s after %llu ms, detail: %s\n", name, mqtt5_error_name(ev.error),
           (unsigned long long)(ev.at_ms - fc->started_at), ev.has_detail ? ev.detail : "(NULL)");
    if (ev.error != expected || !ev.has_detail || ev.detail[0] == '\0') {
        fx_client_dump(fc);
    }
    assert_true(fx_client_wait_event(fc, MQTT5_LC_CONNECTION_SUCCESS, 0, 0, NULL) < 0);
    assert_string_equal(mqtt5_error_name(ev.error), mqtt5_error_name(expected));
    assert_true(ev.has_detail);
    assert_true(ev.detail[0] != '\0');
    if (out != NULL) {
        *out = ev;
    }
    stop_and_release(fc);
}

/* TLS options trusting Test CA through ca_file. */
static void tls_ca_file(mqtt5_tls_options *t)
{
    mqtt5_tls_options_init(t);
    t->ca_file = fx_pki("ca.crt");
}

/* ---- a burst of QoS 1/2 publishes: the window fills, acks are read in batches --------------- */

#define BURST 500

typedef struct burst {
    _Atomic int acked, ack_errors, received, bad, dups;
    _Atomic unsigned char seen[BURST];
} burst;

static void burst_tap(void *ctx, const mqtt5_inbound_publish *msg)
{
    burst *b = ctx;
    const mqtt5_publish *p = msg->publish;
    unsigned i = 0;
    if (p->payload.len < 2 || p->payload.len > 6 || p->payload.ptr[0] != 'b') {
        b->bad++;
        return;
    }
    for (size_t k = 1; k < p->payload.len; k++)
        i = i * 10 + (unsigned)(p->payload.ptr[k] - '0');
    if (i >= BURST) {
        b->bad++;
        return;
    }
    if (atomic_exchange(&b->seen[i], 1)) b->dups++;
    b->received++;
}

static void burst_done(void *user, const mqtt5_op_completion *done)
{
    burst *b = user;
    if (done->error) b->ack_errors++;
    b->acked++;
}

/* One client publishes BURST messages at `qos` to its own subscription as fast as it can: the
 * server's Receive Maximum (mosquitto: 20) fills at once, so with `coalesce` the client coalesces
 * acks (and, over TLS, scales the mark by the record overhead it measured). Every publish completes
 * without error and every message comes back exactly once, in one piece. Returns the client's
 * statistics at the end. */
static mqtt5_client_stats burst_roundtrip(fx_harness *h, const char *name, mqtt5_client_options *o,
                                          uint8_t qos, bool coalesce)
{
    o->core.ack_coalescing = coalesce;
    static burst b;
    memset(&b, 0, sizeof b);
    int err = 0;
    fx_client *fc = fx_client_create(h, name, o, &err, NULL);
    assert_non_null(fc);
    fx_client_set_tap(fc, burst_tap, &b, false);
    assert_int_equal(fx_client_start(fc), 0);
    assert_true(fx_client_wait_event(fc, MQTT5_LC_CONNECTION_SUCCESS, 0, FX_WAIT_MS, NULL) >= 0);
    const char *topic = topic_of(name, "burst");
    int reason = -2;
    assert_int_equal(fx_subscribe(fc, topic, qos, &reason), 0);
    assert_int_equal(reason, qos);
    uint64_t t0 = fx_now_ms();
    for (int i = 0; i < BURST; i++) {
        char payload[8];
        int n = snprintf(payload, sizeof payload, "b%d", i);
        mqtt5_publish p = {.qos = qos,
                           .topic = {topic, strlen(topic)},
                           .payload = {(const uint8_t *)payload, (size_t)n}};
        int rc = mqtt5_client_publish(fc->client, &p, NULL, burst_done, &b, NULL);
        if (rc == MQTT5_ERR_QUEUE_FULL) {
            assert_int_equal(mqtt5_client_wait_for_room(fc->client, FX_WAIT_MS), 0);
            i--;
            continue;
        }
        assert_int_equal(rc, 0);
    }
    while ((b.acked < BURST || b.received < BURST) && fx_now_ms() - t0 < 4 * FX_WAIT_MS) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    mqtt5_client_stats st;
    assert_int_equal(mqtt5_client_get_stats(fc->client, &st), 0);
    printf("    %s: %d QoS %u publishes acked and received back in %llu ms, %llu batches sent, "
           "%llu coalescing pauses\n",
           name, b.acked, qos, (unsigned long long)(fx_now_ms() - t0),
           (unsigned long long)st.batches_sent, (unsigned long long)st.ack_coalescing_pauses);
    assert_int_equal(b.acked, BURST);
    assert_int_equal(b.ack_errors, 0);
    assert_int_equal(b.received, BURST);
    assert_int_equal(b.bad, 0);
    assert_int_equal(b.dups, 0);
    for (int i = 0; i < BURST; i++)
        assert_int_equal(b.seen[i], 1);
    stop_and_release(fc);
    return st;
}

/* ---- success: plain TCP -------------------------------------------------------------------- */

/* Publisher and subscriber both subscribe to it/<pid>/tcp/#; the publisher sends QoS 0, 1 and
 * 2; both receive all three with topic, payload and QoS intact. */
static void test_tcp_publish_qos012(void **state)
{
    fx_harness *h = *state;
    uint16_t port = fx_need_port("FX_PORT_TCP");
    mqtt5_client_options o;

    fx_client_options(h, &o, "127.0.0.1", port);
    fx_client *sub = connect_client(h, "tcp-sub", &o);
    fx_client_options(h, &o, "127.0.0.1", port);
    fx_client *pub = connect_client(h, "tcp-pub", &o);

    const char *filter = topic_of("tcp", "#");
    int reason = -2;
    assert_int_equal(fx_subscribe(sub, filter, 2, &reason), 0);
    assert_int_equal(reason, MQTT5_RC_GRANTED_QOS_2);
    assert_int_equal(fx_subscribe(pub, filter, 2, &reason), 0);
    assert_int_equal(reason, MQTT5_RC_GRANTED_QOS_2);

    /* payloads: text, binary with every byte value (NULs included), 20 KiB */
    static uint8_t bin[512], big[20000];
    for (size_t i = 0; i < sizeof bin; i++) {
        bin[i] = (uint8_t)i;
    }
    for (size_t i = 0; i < sizeof big; i++) {
        big[i] = (uint8_t)(i * 7u + 3u);
    }
    struct {
        uint8_t qos;
        const char *topic;
        const void *payload;
        size_t len;
    } cases[3] = {
        {0, topic_of("tcp", "qos0"), "hello at QoS 0", 14},
        {1, topic_of("tcp", "qos1/bin\xC3\xBC"), bin, sizeof bin}, /* a UTF-8 topic level */
        {2, topic_of("tcp", "qos2/big"), big, sizeof big},
    };
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(
            fx_publish(pub, cases[i].topic, cases[i].qos, cases[i].payload, cases[i].len, &reason),
            0);
        /* QoS 0 completes when written (no ack); QoS 1 PUBACK / QoS 2 PUBCOMP reason 0 */
        assert_int_equal(reason, cases[i].qos == 0 ? -1 : MQTT5_RC_SUCCESS);
    }

    fx_client *both[2] = {sub, pub};
    for (size_t c = 0; c < 2; c++) {
        if (fx_client_wait_messages(both[c], 3, FX_WAIT_MS) < 3) {
            fx_client_dump(both[c]);
            fail_msg("%s received fewer than 3 messages", both[c]->name);
        }
        for (size_t i = 0; i < 3; i++) {
            if (fx_client_count_msg(both[c], cases[i].topic, cases[i].payload, cases[i].len,
                                    cases[i].qos) != 1) {
                fx_client_dump(both[c]);
                fail_msg("%s: message %zu (QoS %u) missing or altered", both[c]->name, i,
                         cases[i].qos);
            }
        }
    }
    stop_and_release(pub);
    stop_and_release(sub);
}

static void test_burst_qos1_tcp(void **state)
{
    fx_harness *h = *state;
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_TCP"));
    mqtt5_client_stats coalesced = burst_roundtrip(h, "burst-tcp", &o, 1, true);
    mqtt5_client_stats one_by_one = burst_roundtrip(h, "burst-tcp-one-by-one", &o, 1, false);
    /* The fixture's mosquitto leaves Nagle on (its default): its acks after the first wait for
     * our TCP ACK, so coalesced waits run to their 2 ms bound with one ack read. The client sees
     * that and pauses coalescing; both deliver everything. */
    assert_true(coalesced.ack_coalescing_pauses >= 1);
    assert_int_equal(one_by_one.ack_coalescing_pauses, 0);
}

/* ---- success: TLS, trust sources and host names -------------------------------------------- */

static void test_tls_ca_file(void **state)
{
    fx_harness *h = *state;
    mqtt5_tls_options t;
    tls_ca_file(&t);
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_TLS")); /* IP SAN */
    o.tls = &t;
    roundtrip(h, "tls-ca-file", &o);
}

static void test_tls_ca_dir(void **state)
{
    fx_harness *h = *state;
    mqtt5_tls_options t;
    mqtt5_tls_options_init(&t);
    t.ca_dir = fx_pki("cadir");
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_TLS"));
    o.tls = &t;
    roundtrip(h, "tls-ca-dir", &o);
}

static void test_tls_ca_bytes(void **state)
{
    fx_harness *h = *state;
    size_t len = 0;
    uint8_t *ca = fx_read_file(fx_pki("ca.crt"), &len);
    assert_non_null(ca);
    mqtt5_tls_options t;
    mqtt5_tls_options_init(&t);
    t.ca_bytes = ca;
    t.ca_len = len;
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_TLS"));
    o.tls = &t;
    int err = 0;
    /* the options are read only during new: free the PEM right after */
    fx_client *fc = fx_client_create(h, "tls-ca-bytes", &o, &err, NULL);
    memset(ca, 0, len);
    free(ca);
    assert_non_null(fc);
    assert_int_equal(fx_client_start(fc), 0);
    fx_event ev;
    if (fx_client_wait_event(fc, MQTT5_LC_CONNECTION_SUCCESS, 0, FX_WAIT_MS, &ev) < 0) {
        fx_client_dump(fc);
        fail_msg("tls-ca-bytes: no CONNECTION_SUCCESS");
    }
    const char *topic = topic_of("tls-ca-bytes", "rt");
    int reason = -2;
    assert_int_equal(fx_subscribe(fc, topic, 1, &reason), 0);
    assert_int_equal(fx_publish(fc, topic, 1, "ca-bytes", 8, &reason), 0);
    assert_int_equal(fx_client_wait_messages(fc, 1, FX_WAIT_MS), 1);
    assert_int_equal(fx_client_count_msg(fc, topic, "ca-bytes", 8, 1), 1);
    stop_and_release(fc);
}

/* "localhost" is verified against DNS:localhost (and sent as SNI); then QoS 1 and QoS 2 bursts
 * (the TLS filter scales the coalescing mark by the record overhead it measured). */
static void test_tls_host_localhost(void **state)
{
    fx_harness *h = *state;
    mqtt5_tls_options t;
    tls_ca_file(&t);
    mqtt5_client_options o;
    fx_client_options(h, &o, "localhost", fx_need_port("FX_PORT_TLS"));
    o.tls = &t;
    roundtrip(h, "tls-localhost", &o);
    burst_roundtrip(h, "burst-tls", &o, 1, true);
    burst_roundtrip(h, "burst-tls-qos2", &o, 2, true);
}

/* "127.0.0.1" is verified against IP:127.0.0.1, with TLS 1.2 pinned for variety. */
static void test_tls_host_ip_tls12(void **state)
{
    fx_harness *h = *state;
    mqtt5_tls_options t;
    tls_ca_file(&t);
    t.max_version = MQTT5_TLS_VERSION_1_2;
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_TLS"));
    o.tls = &t;
    roundtrip(h, "tls-ip-tls12", &o);
}

/* ---- success: mutual TLS ------------------------------------------------------------------- */

static void mtls_from_files(void **state, const char *name, const char *crt, const char *key)
{
    fx_harness *h = *state;
    mqtt5_tls_options t;
    tls_ca_file(&t);
    t.cert_file = fx_pki(crt);
    t.key_file = fx_pki(key);
    mqtt5_client_options o;
    fx_client_options(h, &o, "localhost", fx_need_port("FX_PORT_MTLS"));
    o.tls = &t;
    roundtrip(h, name, &o);
}

static void mtls_from_memory(void **state, const char *name, const char *crt, const char *key,
                             uint16_t max_version)
{
    fx_harness *h = *state;
    size_t clen = 0, klen = 0;
    uint8_t *cert = fx_read_file(fx_pki(crt), &clen);
    uint8_t *pkey = fx_read_file(fx_pki(key), &klen);
    assert_non_null(cert);
    assert_non_null(pkey);
    mqtt5_tls_options t;
    tls_ca_file(&t);
    t.cert_bytes = cert;
    t.cert_len = clen;
    t.key_bytes = pkey;
    t.key_len = klen;
    t.max_version = max_version;
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_MTLS"));
    o.tls = &t;
    int err = 0;
    fx_client *fc = fx_client_create(h, name, &o, &err, NULL);
    /* the client keeps its own copies: wipe and free ours before connecting */
    memset(cert, 0, clen);
    memset(pkey, 0, klen);
    free(cert);
    free(pkey);
    assert_non_null(fc);
    assert_int_equal(fx_client_start(fc), 0);
    if (fx_client_wait_event(fc, MQTT5_LC_CONNECTION_SUCCESS, 0, FX_WAIT_MS, NULL) < 0) {
        fx_client_dump(fc);
        fail_msg("%s: no CONNECTION_SUCCESS", name);
    }
    const char *topic = topic_of(name, "rt");
    int reason = -2;
    assert_int_equal(fx_subscribe(fc, topic, 1, &reason), 0);
    assert_int_equal(reason, MQTT5_RC_GRANTED_QOS_1);
    assert_int_equal(fx_publish(fc, topic, 1, name, strlen(name), &reason), 0);
    assert_int_equal(reason, MQTT5_RC_SUCCESS);
    assert_int_equal(fx_client_wait_messages(fc, 1, FX_WAIT_MS), 1);
    assert_int_equal(fx_client_count_msg(fc, topic, name, strlen(name), 1), 1);
    stop_and_release(fc);
}

static void test_mtls_ec_files(void **state)
{
    mtls_from_files(state, "mtls-ec-files", "client.crt", "client.key");
}

static void test_mtls_rsa_files(void **state)
{
    mtls_from_files(state, "mtls-rsa-files", "client-rsa.crt", "client-rsa.key");
}

static void test_mtls_ec_memory(void **state)
{
    mtls_from_memory(state, "mtls-ec-memory", "client.crt", "client.key", 0);
}

static void test_mtls_rsa_memory_tls12(void **state)
{
    mtls_from_memory(state, "mtls-rsa-memory-tls12", "client-rsa.crt", "client-rsa.key",
                     MQTT5_TLS_VERSION_1_2);
}

/* ---- success: ALPN ------------------------------------------------------------------------- */

static void test_alpn_front_selected(void **state)
{
    fx_harness *h = *state;
    uint16_t port = fx_env_port("FX_PORT_ALPN");
    if (port == 0) {
        printf("    FX_PORT_ALPN not set (no node): skipped\n");
        skip();
    }
    static const char *const alpn[] = {"x-amzn-mqtt-ca"};
    mqtt5_tls_options t;
    tls_ca_file(&t);
    t.alpn = alpn;
    t.alpn_count = 1;
    t.require_alpn = true;
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", port);
    o.tls = &t;
    fx_client *fc = connect_client(h, "alpn-selected", &o);
    char got[64];
    fx_client_alpn(fc, got, sizeof got);
    printf("    alpn-selected: mqtt5_client_alpn() = '%s'\n", got);
    assert_string_equal(got, "x-amzn-mqtt-ca");
    /* MQTT really flows through the front */
    const char *topic = topic_of("alpn", "rt");
    int reason = -2;
    assert_int_equal(fx_subscribe(fc, topic, 1, &reason), 0);
    assert_int_equal(fx_publish(fc, topic, 1, "via front", 9, &reason), 0);
    assert_int_equal(fx_client_wait_messages(fc, 1, FX_WAIT_MS), 1);
    assert_int_equal(fx_client_count_msg(fc, topic, "via front", 9, 1), 1);
    stop_and_release(fc);
}

/* ---- failures: TLS ------------------------------------------------------------------------- */

static void test_fail_untrusted_ca(void **state)
{
    fx_harness *h = *state;
    mqtt5_tls_options t;
    mqtt5_tls_options_init(&t);
    t.ca_file = fx_pki("other-ca.crt");
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_TLS"));
    o.tls = &t;
    expect_failure(h, "untrusted-ca", &o, MQTT5_ERR_TLS_UNTRUSTED_CERT, FX_WAIT_MS, NULL);
}

static void test_fail_hostname_mismatch(void **state)
{
    fx_harness *h = *state;
    mqtt5_tls_options t;
    tls_ca_file(&t);
    mqtt5_client_options o;
    fx_client_options(h, &o, "localhost", fx_need_port("FX_PORT_WRONG"));
    o.tls = &t;
    fx_event ev;
    expect_failure(h, "hostname-mismatch", &o, MQTT5_ERR_TLS_HOSTNAME_MISMATCH, FX_WAIT_MS, &ev);
    assert_non_null(strstr(ev.detail, "wrong.example"));
}

static void client_cert_required(void **state, const char *name, uint16_t max_version)
{
    fx_harness *h = *state;
    mqtt5_tls_options t;
    tls_ca_file(&t);
    t.max_version = max_version;
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_MTLS"));
    o.tls = &t;
    expect_failure(h, name, &o, MQTT5_ERR_TLS_CLIENT_CERT_REQUIRED, FX_WAIT_MS, NULL);
}

static void test_fail_no_client_cert_tls12(void **state)
{
    client_cert_required(state, "no-client-cert-tls12", MQTT5_TLS_VERSION_1_2);
}

/* TLS 1.3: the handshake completes on the client side; alert 116 arrives on the first read. */
static void test_fail_no_client_cert_tls13(void **state)
{
    client_cert_required(state, "no-client-cert-tls13", MQTT5_TLS_VERSION_1_3);
}

static void test_fail_tls_to_plain_port(void **state)
{
    fx_harness *h = *state;
    mqtt5_tls_options t;
    tls_ca_file(&t);
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_TCP"));
    o.tls = &t;
    expect_failure(h, "tls-to-plain", &o, MQTT5_ERR_TLS_HANDSHAKE, FX_WAIT_MS, NULL);
}

static void test_fail_alpn_rejected(void **state)
{
    fx_harness *h = *state;
    uint16_t port = fx_env_port("FX_PORT_ALPN");
    if (port == 0) {
        printf("    FX_PORT_ALPN not set (no node): skipped\n");
        skip();
    }
    static const char *const alpn[] = {"mqtt"};
    mqtt5_tls_options t;
    tls_ca_file(&t);
    t.alpn = alpn;
    t.alpn_count = 1;
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", port);
    o.tls = &t;
    expect_failure(h, "alpn-rejected", &o, MQTT5_ERR_TLS_ALPN_REJECTED, FX_WAIT_MS, NULL);
}

/* ---- failures: TCP and DNS ----------------------------------------------------------------- */

static void test_fail_connect_refused(void **state)
{
    fx_harness *h = *state;
    uint16_t port = fx_unused_port();
    assert_true(port != 0);
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", port);
    expect_failure(h, "connect-refused", &o, MQTT5_ERR_CONNECT_REFUSED, FX_WAIT_MS, NULL);
}

/* A listener that never accepts: TCP completes in the kernel, the TLS handshake hears nothing,
 * and the 1 s connect budget (DNS + TCP + TLS) runs out. */
static void test_fail_connect_timeout(void **state)
{
    fx_harness *h = *state;
    uint16_t port = 0;
    int fd = fx_listen_silent(&port);
    assert_true(fd >= 0);
    mqtt5_tls_options t;
    tls_ca_file(&t);
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", port);
    o.tls = &t;
    o.socket.connect_timeout_ms = 1000;
    o.core.connack_timeout_ms = 5000; /* make sure it is not the CONNACK timeout that fires */
    fx_event ev;
    uint64_t t0 = fx_now_ms();
    expect_failure(h, "connect-timeout", &o, MQTT5_ERR_CONNECT_TIMEOUT, 5000, &ev);
    uint64_t elapsed = ev.at_ms - t0;
    printf("    connect-timeout: failure %llu ms after start (expected 1000 +- 500)\n",
           (unsigned long long)elapsed);
    close(fd);
    assert_in_range(elapsed, 500, 1500);
}

static void test_fail_dns(void **state)
{
    fx_harness *h = *state;
    mqtt5_client_options o;
    fx_client_options(h, &o, "nonexistent.invalid", fx_need_port("FX_PORT_TCP"));
    expect_failure(h, "dns", &o, MQTT5_ERR_DNS, 15000, NULL);
}

/* ---- main ---------------------------------------------------------------------------------- */

#define FX_TEST(f) cmocka_unit_test_setup_teardown(f, fx_harness_setup, fx_harness_teardown)

/* ---- MQTT over WebSockets (mosquitto's websockets listeners) --------------------------------- */

static void test_ws_roundtrip(void **state)
{
    fx_harness *h = *state;
    mqtt5_websocket_options ws = {0};
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_WS"));
    o.websocket = &ws;
    roundtrip(h, "ws", &o);
}

static void test_wss_roundtrip(void **state)
{
    fx_harness *h = *state;
    mqtt5_tls_options t;
    tls_ca_file(&t);
    mqtt5_websocket_options ws = {0};
    mqtt5_client_options o;
    fx_client_options(h, &o, "localhost", fx_need_port("FX_PORT_WSS"));
    o.tls = &t;
    o.websocket = &ws;
    roundtrip(h, "wss", &o);
    burst_roundtrip(h, "burst-wss", &o, 1, true);
}

typedef struct ws_hook {
    int calls;
    int fail_with; /* 0: succeed */
} ws_hook;

/* A synchronous transform: adds a header and a query, as an authorizer or a presign would. */
static int ws_transform(void *user, mqtt5_ws_request *req, mqtt5_ws_done_fn done, void *ctx)
{
    ws_hook *hk = user;
    hk->calls++;
    if (hk->fail_with) return hk->fail_with;
    if (mqtt5_ws_request_set_header(req, "x-amz-customauthorizer-name", "tester") != 0 ||
        mqtt5_ws_request_set_path(req, "/mqtt?token=abc%20def") != 0)
        return MQTT5_ERR_INVALID_ARGUMENT;
    done(ctx, 0);
    return 0;
}

static void test_ws_transform_hook(void **state)
{
    fx_harness *h = *state;
    ws_hook hk = {0, 0};
    mqtt5_websocket_options ws = {0};
    ws.transform = ws_transform;
    ws.transform_user = &hk;
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_WS"));
    o.websocket = &ws;
    roundtrip(h, "ws-transform", &o);
    assert_true(hk.calls >= 1); /* once per connection attempt */
}

static void test_fail_ws_transform(void **state)
{
    fx_harness *h = *state;
    ws_hook hk = {0, MQTT5_ERR_TLS_CREDENTIALS};
    mqtt5_websocket_options ws = {0};
    ws.transform = ws_transform;
    ws.transform_user = &hk;
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_WS"));
    o.websocket = &ws;
    expect_failure(h, "ws-transform-fails", &o, MQTT5_ERR_TLS_CREDENTIALS, FX_WAIT_MS, NULL);
    assert_int_equal(hk.calls, 1);
}

/* The plain MQTT port does not speak HTTP: the upgrade fails with a clear error. */
static void test_fail_ws_to_mqtt_port(void **state)
{
    fx_harness *h = *state;
    mqtt5_websocket_options ws = {0};
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_TCP"));
    o.websocket = &ws;
    expect_failure(h, "ws-to-mqtt-port", &o, MQTT5_ERR_WEBSOCKET_HANDSHAKE, FX_WAIT_MS, NULL);
}

/* ---- SigV4-signed WebSockets through sigv4_front.js (checks the presigned URL) --------------- */

static const char *need_env(const char *var)
{
    const char *v = getenv(var);
    if (v == NULL || v[0] == '\0') {
        fprintf(stderr, "%s not set: run through fixture.sh run (needs node)\n", var);
        fail();
    }
    return v;
}

static void sigv4_options(fx_harness *h, mqtt5_client_options *o, mqtt5_websocket_options *ws,
                          mqtt5_sigv4_websocket_signer *signer)
{
    memset(signer, 0, sizeof *signer);
    signer->region = need_env("FX_SIGV4_REGION");
    signer->credentials.access_key_id = need_env("FX_SIGV4_AKID");
    signer->credentials.secret_access_key = need_env("FX_SIGV4_SECRET");
    memset(ws, 0, sizeof *ws);
    ws->transform = mqtt5_sigv4_websocket_transform;
    ws->transform_user = signer;
    fx_client_options(h, o, "127.0.0.1", fx_need_port("FX_PORT_SIGV4"));
    o->websocket = ws;
}

static void test_sigv4_ws_roundtrip(void **state)
{
    fx_harness *h = *state;
    mqtt5_client_options o;
    mqtt5_websocket_options ws;
    mqtt5_sigv4_websocket_signer signer;
    sigv4_options(h, &o, &ws, &signer);
    roundtrip(h, "sigv4", &o);
}

/* A session token rides after the signature, unsigned: the front ignores it when checking. */
static void test_sigv4_ws_session_token(void **state)
{
    fx_harness *h = *state;
    mqtt5_client_options o;
    mqtt5_websocket_options ws;
    mqtt5_sigv4_websocket_signer signer;
    sigv4_options(h, &o, &ws, &signer);
    signer.credentials.session_token = "FwoGZXIvYXdzEBYaDH/+token=";
    roundtrip(h, "sigv4-token", &o);
}

static void test_fail_sigv4_wrong_secret(void **state)
{
    fx_harness *h = *state;
    mqtt5_client_options o;
    mqtt5_websocket_options ws;
    mqtt5_sigv4_websocket_signer signer;
    sigv4_options(h, &o, &ws, &signer);
    signer.credentials.secret_access_key = "not-the-secret";
    fx_event ev;
    expect_failure(h, "sigv4-wrong-secret", &o, MQTT5_ERR_WEBSOCKET_HANDSHAKE, FX_WAIT_MS, &ev);
    assert_non_null(strstr(ev.detail, "403"));
}

static void test_fail_sigv4_wrong_region(void **state)
{
    fx_harness *h = *state;
    mqtt5_client_options o;
    mqtt5_websocket_options ws;
    mqtt5_sigv4_websocket_signer signer;
    sigv4_options(h, &o, &ws, &signer);
    signer.region = "eu-west-1";
    expect_failure(h, "sigv4-wrong-region", &o, MQTT5_ERR_WEBSOCKET_HANDSHAKE, FX_WAIT_MS, NULL);
}

/* ---- SigV4 with credentials from a provider, asked again on every attempt ------------------ */

/* A provider on its own event-loop group (so answers come from another thread than the
 * client's): the first `bad` gets hand out a wrong secret, later ones the right one, or, with
 * `expired`, credentials that expired an hour ago; `err` fails every get. */
typedef struct rotating_src {
    _Atomic int gets;
    int bad;
    bool expired;
    int err;
} rotating_src;

static void rotating_get(mqtt5_credentials_provider *p, mqtt5_credentials_done_fn done, void *user)
{
    rotating_src *r = p->impl;
    int n = atomic_fetch_add(&r->gets, 1) + 1;
    if (r->err) {
        done(user, r->err, NULL, "rotating: told to fail");
        return;
    }
    mqtt5_credentials c = {need_env("FX_SIGV4_AKID"),
                           n <= r->bad ? "wrong-secret" : need_env("FX_SIGV4_SECRET"),
                           NULL,
                           NULL,
                           r->expired ? (int64_t)time(NULL) - 3600 : (int64_t)time(NULL) + 3600,
                           "rotating"};
    done(user, 0, &c, NULL);
}

static const mqtt5_credentials_provider_vtable rotating_vt = {"rotating", rotating_get, NULL};

typedef struct provider_fixture {
    mqtt5_event_loop_group *group;
    mqtt5_credentials_provider *provider;
} provider_fixture;

static void provider_fixture_start(provider_fixture *pf, rotating_src *src)
{
    mqtt5_event_loop_group_options go;
    mqtt5_event_loop_group_options_init(&go);
    assert_int_equal(mqtt5_event_loop_group_new(&go, &pf->group), 0);
    mqtt5_credentials_options co;
    mqtt5_credentials_options_init(&co);
    co.event_loop_group = pf->group;
    assert_int_equal(mqtt5_cp_new(&co, &rotating_vt, true, src, &pf->provider), 0);
}

static void provider_fixture_stop(provider_fixture *pf)
{
    mqtt5_credentials_provider_release(pf->provider);
    mqtt5_event_loop_group_release(pf->group, NULL, NULL);
}

static void test_sigv4_ws_provider_refetch(void **state)
{
    fx_harness *h = *state;
    rotating_src src = {.bad = 1};
    provider_fixture pf;
    provider_fixture_start(&pf, &src);
    mqtt5_client_options o;
    mqtt5_websocket_options ws;
    mqtt5_sigv4_websocket_signer signer;
    sigv4_options(h, &o, &ws, &signer);
    signer.credentials_provider = pf.provider;
    o.core.reconnect_min_ms = 100;
    o.core.reconnect_max_ms = 200;
    int err = 0;
    fx_client *fc = fx_client_create(h, "sigv4-provider", &o, &err, NULL);
    assert_non_null(fc);
    assert_int_equal(fx_client_start(fc), 0);
    fx_event ev;
    assert_true(fx_client_wait_event(fc, MQTT5_LC_CONNECTION_FAILURE, 0, FX_WAIT_MS, &ev) >= 0);
    assert_string_equal(mqtt5_error_name(ev.error), "MQTT5_ERR_WEBSOCKET_HANDSHAKE");
    if (fx_client_wait_event(fc, MQTT5_LC_CONNECTION_SUCCESS, 0, FX_WAIT_MS, NULL) < 0) {
        fx_client_dump(fc);
        fail_msg("no CONNECTION_SUCCESS after the provider handed out the right secret");
    }
    printf("    sigv4-provider: connected after %d credential fetches\n", atomic_load(&src.gets));
    assert_true(atomic_load(&src.gets) >= 2); /* asked again for the second attempt */
    stop_and_release(fc);
    provider_fixture_stop(&pf);
}

static void test_fail_sigv4_provider_expired(void **state)
{
    fx_harness *h = *state;
    rotating_src src = {.expired = true};
    provider_fixture pf;
    provider_fixture_start(&pf, &src);
    mqtt5_client_options o;
    mqtt5_websocket_options ws;
    mqtt5_sigv4_websocket_signer signer;
    sigv4_options(h, &o, &ws, &signer);
    signer.credentials_provider = pf.provider;
    fx_event ev;
    expect_failure(h, "sigv4-expired", &o, MQTT5_ERR_CREDENTIALS_EXPIRED, FX_WAIT_MS, &ev);
    assert_non_null(strstr(ev.detail, "rotating provider expired"));
    provider_fixture_stop(&pf);
}

static void test_fail_sigv4_provider_error(void **state)
{
    fx_harness *h = *state;
    rotating_src src = {.err = MQTT5_ERR_PROVIDER_NOT_ENABLED};
    provider_fixture pf;
    provider_fixture_start(&pf, &src);
    mqtt5_client_options o;
    mqtt5_websocket_options ws;
    mqtt5_sigv4_websocket_signer signer;
    sigv4_options(h, &o, &ws, &signer);
    signer.credentials_provider = pf.provider;
    fx_event ev;
    expect_failure(h, "sigv4-no-credentials", &o, MQTT5_ERR_PROVIDER_NOT_ENABLED, FX_WAIT_MS, &ev);
    assert_non_null(strstr(ev.detail, "rotating: told to fail")); /* the provider's reason */
    provider_fixture_stop(&pf);
}

/* ---- waiting for room instead of spinning on QUEUE_FULL ----------------------------------- */

static void test_wait_for_room(void **state)
{
    fx_harness *h = *state;
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_TCP"));
    o.core.max_queued_ops = 2;
    o.core.offline_policy = MQTT5_OFFLINE_FAIL_NON_QOS1_PUBLISH_ON_DISCONNECT;
    int err = 0;
    fx_client *fc = fx_client_create(h, "wait-room", &o, &err, NULL);
    assert_non_null(fc);
    mqtt5_publish p = {.qos = 1, .topic = {"wait/room", 9}, .payload = {(const uint8_t *)"x", 1}};

    /* not started: two QoS 1 publishes wait offline, a third is refused, the wait times out */
    assert_int_equal(mqtt5_client_wait_for_room(fc->client, 0), 0);
    assert_int_equal(mqtt5_client_publish(fc->client, &p, NULL, NULL, NULL, NULL), 0);
    assert_int_equal(mqtt5_client_publish(fc->client, &p, NULL, NULL, NULL, NULL), 0);
    assert_int_equal(mqtt5_client_publish(fc->client, &p, NULL, NULL, NULL, NULL),
                     MQTT5_ERR_QUEUE_FULL);
    uint64_t t0 = fx_now_ms();
    assert_int_equal(mqtt5_client_wait_for_room(fc->client, 200), MQTT5_ERR_TIMEOUT);
    uint64_t waited = fx_now_ms() - t0;
    assert_true(waited >= 150 && waited < 2000);

    /* started: the PUBACKs free the queue and wake the waiter */
    assert_int_equal(fx_client_start(fc), 0);
    t0 = fx_now_ms();
    assert_int_equal(mqtt5_client_wait_for_room(fc->client, 20000), 0);
    uint64_t woken = fx_now_ms() - t0;
    printf("    wait-room: woken after %llu ms\n", (unsigned long long)woken);
    assert_true(woken < 5000); /* woken by the completions, not by the 20 s timeout */
    assert_int_equal(mqtt5_client_publish(fc->client, &p, NULL, NULL, NULL, NULL), 0);
    stop_and_release(fc);
}

/* ---- manual acknowledgement through the runtime -------------------------------------------- */

typedef struct held_ack {
    fx_client *fc;
    _Atomic uint64_t handle;
    _Atomic int take_rc;
} held_ack;

static void take_ack_tap(void *ctx, const mqtt5_inbound_publish *msg)
{
    held_ack *ha = ctx;
    if (msg->publish->qos != 1) return;
    ha->take_rc = mqtt5_client_take_ack(ha->fc->client, msg->ack_handle);
    ha->handle = msg->ack_handle;
}

static uint64_t pubacks_sent(fx_client *fc)
{
    mqtt5_client_stats st;
    assert_int_equal(mqtt5_client_get_stats(fc->client, &st), 0);
    return st.packets_sent[MQTT5_PUBACK];
}

/* A PUBACK taken inside the callback leaves only when send_ack is called (from another thread);
 * take_ack outside the loop thread is refused. */
static void test_manual_ack_held_until_sent(void **state)
{
    fx_harness *h = *state;
    uint16_t port = fx_need_port("FX_PORT_TCP");
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", port);
    int err = 0;
    fx_client *sub = fx_client_create(h, "ack-sub", &o, &err, NULL);
    assert_non_null(sub);
    held_ack ha = {sub, 0, -1};
    fx_client_set_tap(sub, take_ack_tap, &ha, true);
    assert_int_equal(fx_client_start(sub), 0);
    assert_true(fx_client_wait_event(sub, MQTT5_LC_CONNECTION_SUCCESS, 0, FX_WAIT_MS, NULL) >= 0);
    fx_client_options(h, &o, "127.0.0.1", port);
    fx_client *pub = connect_client(h, "ack-pub", &o);

    const char *topic = topic_of("ack", "held");
    int reason = -2;
    assert_int_equal(fx_subscribe(sub, topic, 1, &reason), 0);
    assert_int_equal(fx_publish(pub, topic, 1, "hold me", 7, &reason), 0);
    assert_true(fx_client_wait_messages(sub, 1, FX_WAIT_MS) >= 1);
    assert_int_equal(ha.take_rc, 0);
    assert_true(ha.handle != 0);
    assert_int_equal(mqtt5_client_take_ack(sub->client, ha.handle), MQTT5_ERR_INVALID_STATE);
    fx_sleep_ms(200);
    assert_int_equal(pubacks_sent(sub), 0); /* held */
    assert_int_equal(mqtt5_client_send_ack(sub->client, ha.handle, 0x00), 0);
    uint64_t sent = 0;
    for (int i = 0; i < 100 && (sent = pubacks_sent(sub)) == 0; i++)
        fx_sleep_ms(20);
    assert_int_equal(sent, 1);
    stop_and_release(pub);
    stop_and_release(sub);
}

int main(void)
{
    const char *lvl = getenv("MQTT5_LOG_LEVEL");
    mqtt5_log_level level;
    if (lvl != NULL && mqtt5_log_level_parse(lvl, &level) == 0) {
        mqtt5_log_to_stderr(level);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* FX_TEST_FILTER=test_fail_* runs a subset (cmocka glob) */
    const char *filter = getenv("FX_TEST_FILTER");
    if (filter != NULL && filter[0] != '\0') {
        cmocka_set_test_filter(filter);
    }

    const struct CMUnitTest tests[] = {
        FX_TEST(test_tcp_publish_qos012),
        FX_TEST(test_tls_ca_file),
        FX_TEST(test_tls_ca_dir),
        FX_TEST(test_tls_ca_bytes),
        FX_TEST(test_tls_host_localhost),
        FX_TEST(test_tls_host_ip_tls12),
        FX_TEST(test_mtls_ec_files),
        FX_TEST(test_mtls_rsa_files),
        FX_TEST(test_mtls_ec_memory),
        FX_TEST(test_mtls_rsa_memory_tls12),
        FX_TEST(test_alpn_front_selected),
        FX_TEST(test_fail_untrusted_ca),
        FX_TEST(test_fail_hostname_mismatch),
        FX_TEST(test_fail_no_client_cert_tls12),
        FX_TEST(test_fail_no_client_cert_tls13),
        FX_TEST(test_fail_tls_to_plain_port),
        FX_TEST(test_fail_alpn_rejected),
        FX_TEST(test_fail_connect_refused),
        FX_TEST(test_fail_connect_timeout),
        FX_TEST(test_fail_dns),
        FX_TEST(test_manual_ack_held_until_sent),
        FX_TEST(test_ws_roundtrip),
        FX_TEST(test_wss_roundtrip),
        FX_TEST(test_ws_transform_hook),
        FX_TEST(test_fail_ws_transform),
        FX_TEST(test_fail_ws_to_mqtt_port),
        FX_TEST(test_sigv4_ws_roundtrip),
        FX_TEST(test_sigv4_ws_session_token),
        FX_TEST(test_fail_sigv4_wrong_secret),
        FX_TEST(test_fail_sigv4_wrong_region),
        FX_TEST(test_sigv4_ws_provider_refetch),
        FX_TEST(test_fail_sigv4_provider_expired),
        FX_TEST(test_fail_sigv4_provider_error),
        FX_TEST(test_wait_for_room),
        FX_TEST(test_burst_qos1_tcp),
    };
    return cmocka_run_group_tests_name("integration", tests, NULL, NULL);
}
