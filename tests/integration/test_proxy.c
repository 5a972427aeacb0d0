/*
 * tests/integration/test_proxy.c - the client through real proxies (issue 6): HTTP CONNECT via
 * tinyproxy with Basic authentication, TLS to the proxy via stunnel in front of tinyproxy,
 * SOCKS5 via dante-server (no authentication) and tests/integration/socks5_server.js (with and
 * without username/password), and the credential providers' HTTP calls through tinyproxy.
 *
 * Run by ctest as `fixture.sh run <this exe>`: the fixture starts mosquitto and the proxies and
 * exports FX_PORT_{TCP,TLS,MTLS,WSS,TINYPROXY,PROXY_TLS,DANTE,SOCKS5,SOCKS5_AUTH},
 * FX_PROXY_USER, FX_PROXY_PASS and FX_PKI; a test whose proxy is not there is skipped. Each
 * success case does a full subscribe / publish QoS 1 / receive round trip and checks in the
 * proxy's log that the connection really went through it. Failures check the first
 * CONNECTION_FAILURE's error and detail. FX_TEST_FILTER=<glob> runs only the matching tests.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "builder/builder_proxy.h"
#include "helpers/fx_client.h"
#include "helpers/fx_env.h"
#include "mqtt5/builder.h"
#include "mqtt5/client.h"
#include "mqtt5/credentials.h"
#include "mqtt5/log.h"
#include "mqtt5/packet.h"
#include "mqtt5/runtime.h"
#include "mqtt5/tls.h"

/* ---- common steps -------------------------------------------------------------------------- */

/* A proxy port, or skip the test when the fixture could not start that proxy. */
static uint16_t proxy_port(const char *var)
{
    uint16_t p = fx_env_port(var);
    if (p == 0) {
        printf("    %s not set (proxy not installed): skipped\n", var);
        skip();
    }
    return p;
}

static const char *topic_of(const char *tag, const char *leaf)
{
    static char ring[8][256];
    static unsigned next;
    char *b = ring[next++ % 8];
    snprintf(b, sizeof ring[0], "it/%ld/%s/%s", (long)getpid(), tag, leaf);
    return b;
}

/* How often `needle` occurs in the file `$FX_DIR/<name>` (0 when unreadable). */
static int log_count(const char *name, const char *needle)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", fx_env("FX_DIR") ? fx_env("FX_DIR") : ".", name);
    size_t len = 0;
    uint8_t *text = fx_read_file(path, &len);
    if (!text) return 0;
    int n = 0;
    for (const char *p = (const char *)text; (p = strstr(p, needle)) != NULL; p++)
        n++;
    free(text);
    return n;
}

static void stop_and_release(fx_client *fc)
{
    assert_int_equal(fx_client_stop(fc, FX_WAIT_MS), 0);
    assert_int_equal(fx_client_release(fc, FX_WAIT_MS), 0);
}

/* Connect, subscribe, publish QoS 1 to the own topic, receive it back, stop, release. */
static void roundtrip(fx_harness *h, const char *name, mqtt5_client_options *o)
{
    int err = 0;
    mqtt5_codec_status st;
    memset(&st, 0, sizeof st);
    fx_client *fc = fx_client_create(h, name, o, &err, &st);
    if (!fc) fail_msg("%s: client_new: %s (%s)", name, mqtt5_error_name(err), st.field);
    assert_int_equal(fx_client_start(fc), 0);
    fx_event ev;
    if (fx_client_wait_event(fc, MQTT5_LC_CONNECTION_SUCCESS, 0, FX_WAIT_MS, &ev) < 0) {
        fx_client_dump(fc);
        fail_msg("%s: no CONNECTION_SUCCESS within %u ms", name, FX_WAIT_MS);
    }
    assert_int_equal(ev.connack_reason, 0);
    assert_true(fx_client_wait_event(fc, MQTT5_LC_CONNECTION_FAILURE, 0, 0, NULL) < 0);
    char tv[32];
    fx_client_tls_version(fc, tv, sizeof tv);
    printf("    %s: connected to %s:%u (broker TLS '%s')\n", name, o->host, o->port, tv);
    if (o->tls)
        assert_true(tv[0] != '\0');
    else
        assert_true(tv[0] == '\0'); /* a TLS proxy's version is not the broker's */

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

/* Start a client that must fail; check its first CONNECTION_FAILURE's error and detail. */
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
    if (ev.error != expected || !ev.has_detail || ev.detail[0] == '\0') fx_client_dump(fc);
    assert_true(fx_client_wait_event(fc, MQTT5_LC_CONNECTION_SUCCESS, 0, 0, NULL) < 0);
    assert_string_equal(mqtt5_error_name(ev.error), mqtt5_error_name(expected));
    assert_true(ev.has_detail);
    assert_true(ev.detail[0] != '\0');
    if (out) *out = ev;
    stop_and_release(fc);
}

static void expect_detail(const fx_event *ev, const char *needle)
{
    if (!strstr(ev->detail, needle)) fail_msg("detail '%s' lacks '%s'", ev->detail, needle);
}

static void tls_ca_file(mqtt5_tls_options *t)
{
    mqtt5_tls_options_init(t);
    t->ca_file = fx_pki("ca.crt");
}

/* tinyproxy with the fixture's credentials. */
static mqtt5_http_proxy_options tinyproxy(void)
{
    mqtt5_http_proxy_options p = {"127.0.0.1", proxy_port("FX_PORT_TINYPROXY"),
                                  fx_env("FX_PROXY_USER"), fx_env("FX_PROXY_PASS"), NULL};
    return p;
}

/* "CONNECT <host>:<port> HTTP/1.1" lines in tinyproxy's log. */
static int tinyproxy_connects(const char *host, uint16_t port)
{
    char needle[128];
    snprintf(needle, sizeof needle, "CONNECT %s:%u HTTP/1.1", host, port);
    return log_count("tinyproxy.log", needle);
}

/* ---- HTTP CONNECT through tinyproxy ------------------------------------------------------- */

static void test_http_proxy_mqtt(void **state)
{
    fx_harness *h = *state;
    mqtt5_http_proxy_options p = tinyproxy();
    uint16_t port = fx_need_port("FX_PORT_TCP");
    int before = tinyproxy_connects("127.0.0.1", port);
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", port);
    o.http_proxy = &p;
    roundtrip(h, "http-proxy-mqtt", &o);
    assert_int_equal(tinyproxy_connects("127.0.0.1", port), before + 1);
}

static void test_http_proxy_mtls(void **state)
{
    fx_harness *h = *state;
    mqtt5_http_proxy_options p = tinyproxy();
    mqtt5_tls_options t;
    tls_ca_file(&t);
    t.cert_file = fx_pki("client.crt");
    t.key_file = fx_pki("client.key");
    uint16_t port = fx_need_port("FX_PORT_MTLS");
    int before = tinyproxy_connects("127.0.0.1", port);
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", port); /* the IP SAN is checked through the tunnel */
    o.tls = &t;
    o.http_proxy = &p;
    roundtrip(h, "http-proxy-mtls", &o);
    assert_int_equal(tinyproxy_connects("127.0.0.1", port), before + 1);
}

static void test_http_proxy_wss(void **state)
{
    fx_harness *h = *state;
    mqtt5_http_proxy_options p = tinyproxy();
    mqtt5_tls_options t;
    tls_ca_file(&t);
    mqtt5_websocket_options ws = {0};
    uint16_t port = fx_need_port("FX_PORT_WSS");
    int before = tinyproxy_connects("localhost", port);
    mqtt5_client_options o;
    fx_client_options(h, &o, "localhost", port);
    o.tls = &t;
    o.websocket = &ws;
    o.http_proxy = &p;
    roundtrip(h, "http-proxy-wss", &o);
    assert_int_equal(tinyproxy_connects("localhost", port), before + 1);
}

/* TLS to the proxy (stunnel in front of tinyproxy), then TLS to the broker inside the tunnel. */
static void test_https_proxy_tls_in_tls(void **state)
{
    fx_harness *h = *state;
    mqtt5_http_proxy_options p = tinyproxy();
    mqtt5_tls_options pt;
    tls_ca_file(&pt); /* the proxy's own trust; its certificate names 127.0.0.1 and localhost */
    p.port = proxy_port("FX_PORT_PROXY_TLS");
    p.tls = &pt;
    mqtt5_tls_options t;
    tls_ca_file(&t);
    uint16_t port = fx_need_port("FX_PORT_TLS");
    int before = tinyproxy_connects("localhost", port);
    mqtt5_client_options o;
    fx_client_options(h, &o, "localhost", port);
    o.tls = &t;
    o.http_proxy = &p;
    roundtrip(h, "https-proxy-tls", &o);
    assert_int_equal(tinyproxy_connects("localhost", port), before + 1);
    /* plain MQTT inside TLS to the proxy: the broker connection has no TLS version */
    port = fx_need_port("FX_PORT_TCP");
    before = tinyproxy_connects("127.0.0.1", port);
    fx_client_options(h, &o, "127.0.0.1", port);
    p.host = "localhost"; /* the proxy's name checked against its DNS SAN */
    o.http_proxy = &p;
    roundtrip(h, "https-proxy-mqtt", &o);
    assert_int_equal(tinyproxy_connects("127.0.0.1", port), before + 1);
}

/* ---- HTTP proxy failures -------------------------------------------------------------------- */

/* tinyproxy answers a wrong password with 401 (squid would say 407) */
static void test_fail_http_proxy_wrong_password(void **state)
{
    fx_harness *h = *state;
    mqtt5_http_proxy_options p = tinyproxy();
    p.password = "wrong-password";
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_TCP"));
    o.http_proxy = &p;
    fx_event ev;
    expect_failure(h, "http-proxy-wrong-password", &o, MQTT5_ERR_PROXY, FX_WAIT_MS, &ev);
    expect_detail(&ev, "proxy answered 'HTTP/1.0 401 Unauthorized'");
    expect_detail(&ev, "refused the username or password");
    assert_null(strstr(ev.detail, "wrong-password"));
}

static void test_fail_http_proxy_no_credentials(void **state)
{
    fx_harness *h = *state;
    mqtt5_http_proxy_options p = tinyproxy();
    p.username = p.password = NULL;
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_TCP"));
    o.http_proxy = &p;
    fx_event ev;
    expect_failure(h, "http-proxy-no-credentials", &o, MQTT5_ERR_PROXY, FX_WAIT_MS, &ev);
    expect_detail(&ev, "proxy answered 'HTTP/1.0 407 Proxy Authentication Required'");
    expect_detail(&ev, "no username was given");
}

static void test_fail_http_proxy_closed_port(void **state)
{
    fx_harness *h = *state;
    mqtt5_http_proxy_options p = tinyproxy();
    uint16_t closed = fx_unused_port();
    assert_true(closed != 0);
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", closed);
    o.http_proxy = &p;
    fx_event ev;
    expect_failure(h, "http-proxy-closed-port", &o, MQTT5_ERR_PROXY, FX_WAIT_MS, &ev);
    char want[128];
    snprintf(want, sizeof want,
             "proxy answered 'HTTP/1.1 500 Unable to connect' to CONNECT "
             "127.0.0.1:%u",
             closed);
    expect_detail(&ev, want);
}

static void test_fail_http_proxy_unreachable(void **state)
{
    fx_harness *h = *state;
    (void)proxy_port("FX_PORT_TINYPROXY");
    mqtt5_http_proxy_options p = {"127.0.0.1", fx_unused_port(), NULL, NULL, NULL};
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_TCP"));
    o.http_proxy = &p;
    fx_event ev;
    expect_failure(h, "http-proxy-unreachable", &o, MQTT5_ERR_CONNECT_REFUSED, FX_WAIT_MS, &ev);
    expect_detail(&ev, "cannot reach the HTTP proxy: connect to 127.0.0.1 port");
}

/* A proxy that accepts TCP and never answers CONNECT: the connect timeout covers the proxy
 * handshake and names the proxy. */
static void test_fail_http_proxy_silent(void **state)
{
    fx_harness *h = *state;
    (void)proxy_port("FX_PORT_TINYPROXY");
    uint16_t silent = 0;
    int fd = fx_listen_silent(&silent);
    assert_true(fd >= 0);
    mqtt5_http_proxy_options p = {"127.0.0.1", silent, NULL, NULL, NULL};
    mqtt5_tls_options t;
    tls_ca_file(&t);
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_TLS"));
    o.tls = &t;
    o.http_proxy = &p;
    o.socket.connect_timeout_ms = 1000;
    o.core.connack_timeout_ms = 5000;
    fx_event ev;
    uint64_t t0 = fx_now_ms();
    expect_failure(h, "http-proxy-silent", &o, MQTT5_ERR_CONNECT_TIMEOUT, 5000, &ev);
    close(fd);
    assert_in_range(ev.at_ms - t0, 500, 1800);
    char want[128];
    snprintf(want, sizeof want, "through the HTTP proxy 127.0.0.1:%u within 1000 ms", silent);
    expect_detail(&ev, want);
}

/* TLS to the proxy without its CA: the proxy's certificate is not trusted. */
static void test_fail_https_proxy_untrusted(void **state)
{
    fx_harness *h = *state;
    mqtt5_http_proxy_options p = tinyproxy();
    mqtt5_tls_options pt;
    mqtt5_tls_options_init(&pt);
    pt.ca_file = fx_pki("other-ca.crt");
    p.port = proxy_port("FX_PORT_PROXY_TLS");
    p.tls = &pt;
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_TCP"));
    o.http_proxy = &p;
    fx_event ev;
    expect_failure(h, "https-proxy-untrusted", &o, MQTT5_ERR_TLS_UNTRUSTED_CERT, FX_WAIT_MS, &ev);
    expect_detail(&ev, "cannot reach the HTTP proxy: ");
}

/* ---- SOCKS5 ---------------------------------------------------------------------------------- */

static void test_socks5_no_auth(void **state)
{
    fx_harness *h = *state;
    /* the node server, with a host name (ATYP domain) and TLS checked inside the tunnel */
    mqtt5_socks5_proxy_options s = {"127.0.0.1", proxy_port("FX_PORT_SOCKS5"), NULL, NULL};
    mqtt5_tls_options t;
    tls_ca_file(&t);
    uint16_t port = fx_need_port("FX_PORT_TLS");
    char needle[64];
    snprintf(needle, sizeof needle, "CONNECT localhost:%u (ATYP 3)", port);
    int before = log_count("socks5.log", needle);
    mqtt5_client_options o;
    fx_client_options(h, &o, "localhost", port);
    o.tls = &t;
    o.socks5_proxy = &s;
    roundtrip(h, "socks5-no-auth", &o);
    assert_int_equal(log_count("socks5.log", needle), before + 1);
}

static void test_socks5_dante(void **state)
{
    fx_harness *h = *state;
    mqtt5_socks5_proxy_options s = {"127.0.0.1", proxy_port("FX_PORT_DANTE"), NULL, NULL};
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_TCP")); /* ATYP IPv4 */
    o.socks5_proxy = &s;
    roundtrip(h, "socks5-dante", &o);
    /* and wss through it */
    mqtt5_tls_options t;
    tls_ca_file(&t);
    mqtt5_websocket_options ws = {0};
    fx_client_options(h, &o, "localhost", fx_need_port("FX_PORT_WSS"));
    o.tls = &t;
    o.websocket = &ws;
    o.socks5_proxy = &s;
    roundtrip(h, "socks5-dante-wss", &o);
}

static void test_socks5_auth(void **state)
{
    fx_harness *h = *state;
    mqtt5_socks5_proxy_options s = {"127.0.0.1", proxy_port("FX_PORT_SOCKS5_AUTH"),
                                    fx_env("FX_PROXY_USER"), fx_env("FX_PROXY_PASS")};
    mqtt5_tls_options t;
    tls_ca_file(&t);
    t.cert_file = fx_pki("client.crt");
    t.key_file = fx_pki("client.key");
    int before = log_count("socks5_auth.log", "authenticated user");
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_MTLS"));
    o.tls = &t;
    o.socks5_proxy = &s;
    roundtrip(h, "socks5-auth-mtls", &o);
    assert_int_equal(log_count("socks5_auth.log", "authenticated user"), before + 1);
}

static void test_fail_socks5_wrong_password(void **state)
{
    fx_harness *h = *state;
    mqtt5_socks5_proxy_options s = {"127.0.0.1", proxy_port("FX_PORT_SOCKS5_AUTH"),
                                    fx_env("FX_PROXY_USER"), "wrong-password"};
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_TCP"));
    o.socks5_proxy = &s;
    fx_event ev;
    expect_failure(h, "socks5-wrong-password", &o, MQTT5_ERR_PROXY, FX_WAIT_MS, &ev);
    expect_detail(&ev, "SOCKS5 proxy refused the username or password (status 1)");
    assert_null(strstr(ev.detail, "wrong-password"));

    /* no credentials for a server that wants them */
    s.username = s.password = NULL;
    expect_failure(h, "socks5-no-credentials", &o, MQTT5_ERR_PROXY, FX_WAIT_MS, &ev);
    expect_detail(&ev, "SOCKS5 proxy accepts none of the offered authentication methods (none)");
}

static void test_fail_socks5_closed_port(void **state)
{
    fx_harness *h = *state;
    const char *var = fx_env_port("FX_PORT_DANTE") ? "FX_PORT_DANTE" : "FX_PORT_SOCKS5";
    mqtt5_socks5_proxy_options s = {"127.0.0.1", proxy_port(var), NULL, NULL};
    uint16_t closed = fx_unused_port();
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", closed);
    o.socks5_proxy = &s;
    fx_event ev;
    expect_failure(h, "socks5-closed-port", &o, MQTT5_ERR_PROXY, FX_WAIT_MS, &ev);
    char want[128];
    snprintf(want, sizeof want,
             "SOCKS5 proxy: connection refused by destination host (5) for CONNECT 127.0.0.1:%u",
             closed);
    expect_detail(&ev, want);
}

/* A SOCKS5 server given as an HTTP proxy: it hangs up on "CONNECT ...", and the detail says
 * the proxy closed the connection before answering. */
static void test_fail_http_proxy_to_socks5(void **state)
{
    fx_harness *h = *state;
    mqtt5_http_proxy_options p = {"127.0.0.1", proxy_port("FX_PORT_SOCKS5"), NULL, NULL, NULL};
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_need_port("FX_PORT_TCP"));
    o.http_proxy = &p;
    fx_event ev;
    expect_failure(h, "http-proxy-to-socks5", &o, MQTT5_ERR_PROXY, FX_WAIT_MS, &ev);
    expect_detail(&ev, "HTTP proxy closed the connection before answering CONNECT 127.0.0.1:");
}

/* ---- the credential providers' HTTP through the proxy --------------------------------------- */

typedef struct cred_result {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls, err;
    char akid[64];
    char detail[1024];
} cred_result;

static void on_creds(void *user, int err, const mqtt5_credentials *c, const char *detail)
{
    cred_result *r = user;
    pthread_mutex_lock(&r->mu);
    if (r->calls++ == 0) {
        r->err = err;
        if (c) snprintf(r->akid, sizeof r->akid, "%s", c->access_key_id);
        snprintf(r->detail, sizeof r->detail, "%s", detail ? detail : "");
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

typedef struct fake_env {
    const char *uri;
} fake_env;

static const char *env_get(void *user, const char *name)
{
    fake_env *e = user;
    return strcmp(name, "AWS_CONTAINER_CREDENTIALS_FULL_URI") == 0 ? e->uri : NULL;
}

static void on_group_gone(void *user)
{
    cred_result *r = user;
    pthread_mutex_lock(&r->mu);
    r->calls += 1000;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void wait_calls(cred_result *r, int n)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&r->mu);
    while (r->calls < n)
        if (pthread_cond_timedwait(&r->cv, &r->mu, &until)) break;
    pthread_mutex_unlock(&r->mu);
}

/* One ECS get through `proxy_url`; the result in *r. */
static void ecs_get(const char *uri, const char *proxy_url, cred_result *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    mqtt5_event_loop_group *group = NULL;
    assert_int_equal(mqtt5_event_loop_group_new(NULL, &group), 0);
    fake_env env = {uri};
    mqtt5_credentials_system sys = {env_get, NULL, NULL, &env};
    mqtt5_credentials_options co;
    mqtt5_credentials_options_init(&co);
    co.event_loop_group = group;
    co.system = &sys;
    co.http.proxy_url = proxy_url;
    co.http.max_attempts = 1;
    mqtt5_credentials_provider *p = NULL;
    assert_int_equal(mqtt5_credentials_provider_new_ecs(&co, &p), 0);
    assert_int_equal(mqtt5_credentials_provider_get(p, on_creds, r), 0);
    wait_calls(r, 1);
    mqtt5_credentials_provider_release(p);
    mqtt5_event_loop_group_release(group, on_group_gone, r);
    wait_calls(r, 1001);
    assert_int_equal(r->calls, 1001);
    printf("    ecs via %s: %s %s\n",
           strchr(proxy_url, '@') ? "proxy (credentials hidden)" : proxy_url,
           mqtt5_error_name(r->err), r->detail);
}

/* mqtt5_credentials_http_options.proxy_url (built as the builders build it) makes the ECS
 * provider's request go through tinyproxy to fake_aws.js: tinyproxy logs the request and adds
 * its Via header, which fake_aws.js reports. A wrong proxy password fails the get. */
static void test_credentials_through_proxy(void **state)
{
    (void)state;
    uint16_t tp = proxy_port("FX_PORT_TINYPROXY");
    char node[1024], script[1024];
    if (fx_find_on_path("node", node, sizeof node) != 0) {
        printf("    node missing: skipped\n");
        skip();
    }
    const char *src = fx_env("MQTT5_SOURCE_DIR");
    const char *file = __FILE__;
    const char *tail = strstr(file, "/tests/integration/");
    if (src)
        snprintf(script, sizeof script, "%s/tests/credentials/fake_aws.js", src);
    else if (file[0] == '/' && tail)
        snprintf(script, sizeof script, "%.*s/tests/credentials/fake_aws.js", (int)(tail - file),
                 file);
    else
        snprintf(script, sizeof script, "../tests/credentials/fake_aws.js");
    char traffic[1024], report[1024];
    snprintf(traffic, sizeof traffic, "%s/proxy-creds.traffic.json", fx_env("FX_DIR"));
    snprintf(report, sizeof report, "%s/proxy-creds.report.json", fx_env("FX_DIR"));
    FILE *f = fopen(traffic, "w");
    assert_non_null(f);
    fputs("{\"events\":[{\"connection_id\":0,\"action\":{\"Request\":{\"request\":{\"uri\":"
          "\"http://127.0.0.1/v1/creds\",\"method\":\"GET\",\"headers\":{}}}}},"
          "{\"connection_id\":0,\"action\":{\"Response\":{\"response\":{\"Ok\":{\"status\":200,"
          "\"headers\":{}}}}}},{\"connection_id\":0,\"action\":{\"Data\":{\"data\":{\"Utf8\":"
          "\"{\\\"AccessKeyId\\\":\\\"ASIAPROXIED\\\",\\\"SecretAccessKey\\\":\\\"s\\\","
          "\\\"Token\\\":\\\"t\\\",\\\"Expiration\\\":\\\"2099-01-01T00:00:00Z\\\"}\"},"
          "\"direction\":\"Response\"}}}]}",
          f);
    fclose(f);
    char *argv[] = {node, script, "--traffic", traffic, "--report", report, NULL};
    int fd = -1;
    long pid = fx_spawn_piped(argv, &fd);
    assert_true(pid > 0);
    char *pending = NULL;
    size_t pending_len = 0;
    char line[128];
    unsigned port = 0, tls_port = 0;
    long got = fx_read_line(fd, &pending, &pending_len, line, sizeof line, fx_now_ms() + 10000);
    if (got < 0 || sscanf(line, "READY %u %u", &port, &tls_port) != 2)
        fail_msg("fake_aws.js did not start");

    char uri[128];
    snprintf(uri, sizeof uri, "http://127.0.0.1:%u/v1/creds", port);
    mqtt5_http_proxy_options hp = {"127.0.0.1", tp, fx_env("FX_PROXY_USER"),
                                   fx_env("FX_PROXY_PASS"), NULL};
    mqtt5_builder_options bo;
    memset(&bo, 0, sizeof bo);
    bo.http_proxy_options = &hp;
    char *url = NULL;
    const char *ca = NULL;
    assert_int_equal(mqtt5_builder_proxy_url(&bo, &url, &ca), 0);
    char needle[128];
    snprintf(needle, sizeof needle, "GET http://127.0.0.1:%u/v1/creds", port);
    int before = log_count("tinyproxy.log", needle);
    cred_result r;
    ecs_get(uri, url, &r);
    mqtt5_builder_proxy_url_free(url);
    assert_string_equal(mqtt5_error_name(r.err), "MQTT5_OK");
    assert_string_equal(r.akid, "ASIAPROXIED");
    assert_int_equal(log_count("tinyproxy.log", needle), before + 1);

    /* a wrong proxy password: tinyproxy refuses, the endpoint never sees a request */
    hp.password = "wrongpass";
    assert_int_equal(mqtt5_builder_proxy_url(&bo, &url, &ca), 0);
    ecs_get(uri, url, &r);
    mqtt5_builder_proxy_url_free(url);
    assert_int_not_equal(r.err, 0);
    assert_null(strstr(r.detail, "wrongpass"));

    kill((pid_t)pid, SIGTERM);
    assert_int_equal(fx_wait_child(pid, 5000, 1), 0);
    close(fd);
    free(pending);
    size_t len = 0;
    char *rep = (char *)fx_read_file(report, &len);
    assert_non_null(rep);
    /* exactly one request reached the endpoint, and it came through tinyproxy (Via) */
    if (!strstr(rep, "tinyproxy") || !strstr(rep, "\"consumed\": 1"))
        fail_msg("fake_aws report: %s", rep);
    free(rep);
}

#define FX_TEST(f) cmocka_unit_test_setup_teardown(f, fx_harness_setup, fx_harness_teardown)

int main(void)
{
    const char *lvl = getenv("MQTT5_LOG_LEVEL");
    mqtt5_log_level level;
    if (lvl != NULL && mqtt5_log_level_parse(lvl, &level) == 0) mqtt5_log_to_stderr(level);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *filter = getenv("FX_TEST_FILTER");
    if (filter != NULL && filter[0] != '\0') cmocka_set_test_filter(filter);

    const struct CMUnitTest tests[] = {
        FX_TEST(test_http_proxy_mqtt),
        FX_TEST(test_http_proxy_mtls),
        FX_TEST(test_http_proxy_wss),
        FX_TEST(test_https_proxy_tls_in_tls),
        FX_TEST(test_fail_http_proxy_wrong_password),
        FX_TEST(test_fail_http_proxy_no_credentials),
        FX_TEST(test_fail_http_proxy_closed_port),
        FX_TEST(test_fail_http_proxy_unreachable),
        FX_TEST(test_fail_http_proxy_silent),
        FX_TEST(test_fail_https_proxy_untrusted),
        FX_TEST(test_socks5_no_auth),
        FX_TEST(test_socks5_dante),
        FX_TEST(test_socks5_auth),
        FX_TEST(test_fail_socks5_wrong_password),
        FX_TEST(test_fail_socks5_closed_port),
        FX_TEST(test_fail_http_proxy_to_socks5),
        FX_TEST(test_credentials_through_proxy),
    };
    return cmocka_run_group_tests_name("proxy", tests, NULL, NULL);
}
