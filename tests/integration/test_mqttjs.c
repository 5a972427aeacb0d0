/*
 * tests/integration/test_mqttjs.c - MQTT 5 interoperability with MQTT.js (npm `mqtt`, pinned in
 * tests/interop/package.json) through mosquitto.
 *
 * Run by ctest as `fixture.sh run <this exe>`. Each test spawns `node mqttjs_peer.js ...` (node
 * from $NODE, else `node` or `nodejs` on PATH; the tests skip, saying so, when there is none)
 * with the broker port and a topic, reads what it prints (key=value lines, hex for strings and
 * binaries, see mqttjs_peer.js) and kills it when the test fails (the peer also gives up by
 * itself after 20 s).
 *
 * (a) MQTT.js -> C: the C client subscribes with no-local, retain-as-published, retain handling
 *     2 and subscription identifier 77 (after publishing a retained message of its own there,
 *     which retain handling 2 must not send back, and then a plain one, which no-local must
 *     not). The peer publishes one retained QoS 1 message with payload format indicator 1,
 *     message expiry 3600, content type, response topic, binary correlation data and 3 user
 *     properties (a repeated name, a non-ASCII value). The C client receives exactly that
 *     message: every field equal, retain 1, expiry in (3500, 3600], subscription id 77.
 * (b) C -> MQTT.js: the same property set from the C client (other values, a non-ASCII name and
 *     value); the peer subscribed with subscription identifier 4242 prints what it got.
 * (c) Topic alias: a C client with alias_out LRU publishes 3 QoS 1 messages on one 200-byte
 *     topic; the peer receives all 3, in order, with that topic; the client's bytes_sent shows
 *     the topic went out once.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers/fx_client.h"
#include "helpers/fx_env.h"
#include "mqtt5/client.h"
#include "mqtt5/error.h"
#include "mqtt5/log.h"
#include "mqtt5/packet.h"

/* ---- what MQTT.js publishes (keep in sync with mqttjs_peer.js) ------------------------------ */

#define JS_PAYLOAD "hello from MQTT.js \xE2\x9C\x93"
#define JS_CONTENT_TYPE "text/plain; charset=utf-8"
#define JS_RESPONSE_TOPIC "reply/to/mqttjs"
static const uint8_t JS_CORRELATION[] = {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff};
#define S(lit)                                                                                     \
    {                                                                                              \
        lit, sizeof(lit) - 1                                                                       \
    }
static const mqtt5_user_property JS_USER_PROPS[] = {
    {S("rep"), S("first")},
    {S("rep"), S("second")},
    {S("lang"), S("Gr\xC3\xBC\xC3\x9F"
                  "e \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC")}, /* Grüße ✓ 日本 */
};

/* ---- what the C client publishes ------------------------------------------------------------ */

#define C_PAYLOAD "hello from the mqtt5 C client \xE2\x9C\x93"
#define C_CONTENT_TYPE "application/json"
#define C_RESPONSE_TOPIC "reply/to/c-client"
static const uint8_t C_CORRELATION[] = {0xde, 0xad, 0x00, 0xbe, 0xef, 0x0a};
static const mqtt5_user_property C_USER_PROPS[] = {
    {S("dup"), S("a")},
    {S("dup"), S("b")},
    {S("citt\xC3\xA0"),
     S("na\xC3\xAFve \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC")}, /* città, naïve ✓ 日本 */
};

#define JS_SUB_ID 4242u
#define C_SUB_ID 77u
#define PEER_WAIT_MS 25000u /* the peer gives up after 20 s */

/* ---- a received PUBLISH, from either side --------------------------------------------------- */

typedef struct mj_blob {
    bool present;
    size_t len;
    uint8_t b[512];
} mj_blob;

typedef struct mj_msg {
    mj_blob topic, payload, content_type, response_topic, correlation;
    int qos, retain, dup;
    long pfi, expiry, topic_alias; /* -1 when absent */
    mj_blob up_name[8], up_value[8];
    size_t n_up;
    uint32_t sub_ids[4];
    size_t n_sub_ids;
} mj_msg;

static void blob_set(mj_blob *b, const void *p, size_t len)
{
    b->present = true;
    b->len = len < sizeof b->b ? len : sizeof b->b;
    if (b->len != 0) {
        memcpy(b->b, p, b->len);
    }
}

static void msg_init(mj_msg *m)
{
    memset(m, 0, sizeof *m);
    m->pfi = m->expiry = m->topic_alias = -1;
    m->qos = m->retain = m->dup = -1;
}

/* ---- the C subscriber's tap (loop thread) --------------------------------------------------- */

#define MJ_MAX_RX 8
static pthread_mutex_t g_rx_mu = PTHREAD_MUTEX_INITIALIZER;
static mj_msg g_rx[MJ_MAX_RX];
static size_t g_rx_n;

static void mj_tap(void *ctx, const mqtt5_inbound_publish *in)
{
    (void)ctx;
    const mqtt5_publish *p = in->publish;
    const mqtt5_properties *pr = &p->properties;
    pthread_mutex_lock(&g_rx_mu);
    if (g_rx_n < MJ_MAX_RX) {
        mj_msg *m = &g_rx[g_rx_n++];
        msg_init(m);
        blob_set(&m->topic, p->topic.ptr, p->topic.len);
        blob_set(&m->payload, p->payload.ptr, p->payload.len);
        m->qos = p->qos;
        m->retain = p->retain;
        m->dup = p->dup;
        if (MQTT5_PROPS_HAS(pr, MQTT5_PROP_PAYLOAD_FORMAT_INDICATOR)) {
            m->pfi = pr->payload_format_indicator;
        }
        if (MQTT5_PROPS_HAS(pr, MQTT5_PROP_MESSAGE_EXPIRY_INTERVAL)) {
            m->expiry = (long)pr->message_expiry_interval;
        }
        if (MQTT5_PROPS_HAS(pr, MQTT5_PROP_TOPIC_ALIAS)) {
            m->topic_alias = pr->topic_alias;
        }
        if (MQTT5_PROPS_HAS(pr, MQTT5_PROP_CONTENT_TYPE)) {
            blob_set(&m->content_type, pr->content_type.ptr, pr->content_type.len);
        }
        if (MQTT5_PROPS_HAS(pr, MQTT5_PROP_RESPONSE_TOPIC)) {
            blob_set(&m->response_topic, pr->response_topic.ptr, pr->response_topic.len);
        }
        if (MQTT5_PROPS_HAS(pr, MQTT5_PROP_CORRELATION_DATA)) {
            blob_set(&m->correlation, pr->correlation_data.ptr, pr->correlation_data.len);
        }
        mqtt5_iter it;
        memset(&it, 0, sizeof it);
        mqtt5_user_property up;
        while (mqtt5_user_property_next(pr, &it, &up) && m->n_up < 8) {
            blob_set(&m->up_name[m->n_up], up.name.ptr, up.name.len);
            blob_set(&m->up_value[m->n_up], up.value.ptr, up.value.len);
            m->n_up++;
        }
        memset(&it, 0, sizeof it);
        uint32_t id = 0;
        while (mqtt5_subscription_identifier_next(pr, &it, &id) && m->n_sub_ids < 4) {
            m->sub_ids[m->n_sub_ids++] = id;
        }
    }
    pthread_mutex_unlock(&g_rx_mu);
}

static size_t rx_count(void)
{
    pthread_mutex_lock(&g_rx_mu);
    size_t n = g_rx_n;
    pthread_mutex_unlock(&g_rx_mu);
    return n;
}

/* ---- the node peer ------------------------------------------------------------------------- */

typedef struct mj_peer {
    long pid; /* 0 when none */
    int fd;
    char *pending;
    size_t pending_len;
} mj_peer;

static mj_peer g_peer = {0, -1, NULL, 0};

static void peer_cleanup(bool kill_it)
{
    if (g_peer.pid > 0) {
        if (kill_it) {
            kill((pid_t)g_peer.pid, SIGKILL);
        }
        fx_wait_child(g_peer.pid, 5000, 1);
        g_peer.pid = 0;
    }
    if (g_peer.fd >= 0) {
        close(g_peer.fd);
        g_peer.fd = -1;
    }
    free(g_peer.pending);
    g_peer.pending = NULL;
    g_peer.pending_len = 0;
}

static int find_node(char *out, size_t cap)
{
    const char *env = getenv("NODE");
    if (env != NULL && env[0] != '\0') {
        if (strchr(env, '/') != NULL) {
            snprintf(out, cap, "%s", env);
            return access(out, X_OK);
        }
        if (fx_find_on_path(env, out, cap) == 0) {
            return 0;
        }
    }
    if (fx_find_on_path("node", out, cap) == 0) {
        return 0;
    }
    return fx_find_on_path("nodejs", out, cap);
}

/* mqttjs_peer.js next to this source file (CMake compiles it by absolute path). */
static void peer_script(char *out, size_t cap)
{
    const char *env = getenv("MQTTJS_PEER");
    if (env != NULL && env[0] != '\0') {
        snprintf(out, cap, "%s", env);
        return;
    }
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    if (slash == NULL) {
        snprintf(out, cap, "mqttjs_peer.js");
    } else {
        snprintf(out, cap, "%.*s/mqttjs_peer.js", (int)(slash - file), file);
    }
}

/* First thing in every test: skip it, saying why, when there is no node. */
static void require_node(void)
{
    char node[1024];
    if (find_node(node, sizeof node) != 0) {
        printf("    node not found (neither $NODE, node nor nodejs on PATH): MQTT.js interop "
               "skipped\n");
        skip();
    }
}

/* Start `node mqttjs_peer.js mode <port> topic [count subid]`. */
static void peer_start(const char *mode, const char *topic, unsigned count, unsigned subid)
{
    char node[1024], script[1024], port[16], cnt[16], sid[16], fxdir[1024];
    if (find_node(node, sizeof node) != 0) {
        fail_msg("node disappeared");
    }
    peer_script(script, sizeof script);
    if (access(script, R_OK) != 0) {
        fail_msg("%s not readable (set MQTTJS_PEER)", script);
    }
    uint16_t p = fx_env_port("FX_PORT_TCP");
    if (p == 0) {
        fail_msg("FX_PORT_TCP not set: run this test through tests/integration/fixture.sh run");
    }
    snprintf(port, sizeof port, "%u", p);
    snprintf(cnt, sizeof cnt, "%u", count);
    snprintf(sid, sizeof sid, "%u", subid);
    snprintf(fxdir, sizeof fxdir, "%s", fx_env("FX_DIR") != NULL ? fx_env("FX_DIR") : "-");
    char m[16];
    snprintf(m, sizeof m, "%s", mode);
    char t[512];
    snprintf(t, sizeof t, "%s", topic);
    char *argv[10];
    size_t n = 0;
    argv[n++] = node;
    argv[n++] = script;
    argv[n++] = m;
    argv[n++] = port;
    argv[n++] = t;
    if (count != 0) {
        argv[n++] = cnt;
        argv[n++] = sid;
    }
    argv[n++] = fxdir;
    argv[n] = NULL;
    peer_cleanup(true);
    int fd = -1;
    long pid = fx_spawn_piped(argv, &fd);
    if (pid <= 0) {
        fail_msg("could not start %s %s", node, script);
    }
    g_peer.pid = pid;
    g_peer.fd = fd;
    printf("    started %s %s %s %s %s (pid %ld)\n", node, script, mode, port, topic, pid);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Hex to bytes; false on odd length or a bad digit. */
static bool unhex(const char *s, size_t len, mj_blob *out)
{
    if (len % 2 != 0 || len / 2 > sizeof out->b) {
        return false;
    }
    for (size_t i = 0; i < len; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out->b[i / 2] = (uint8_t)(hi * 16 + lo);
    }
    out->len = len / 2;
    out->present = true;
    return true;
}

static bool parse_long(const char *s, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0) {
        return false;
    }
    *out = v;
    return true;
}

/* One key=value line of a message block into m; false when malformed. */
static bool parse_field(mj_msg *m, const char *line)
{
    const char *eq = strchr(line, '=');
    if (eq == NULL) {
        return false;
    }
    size_t klen = (size_t)(eq - line);
    const char *v = eq + 1;
    size_t vlen = strlen(v);
    long num = 0;
#define KEY(k) (klen == strlen(k) && strncmp(line, k, klen) == 0)
    if (KEY("topic")) {
        return unhex(v, vlen, &m->topic);
    }
    if (KEY("payload")) {
        return unhex(v, vlen, &m->payload);
    }
    if (KEY("contentType")) {
        return unhex(v, vlen, &m->content_type);
    }
    if (KEY("responseTopic")) {
        return unhex(v, vlen, &m->response_topic);
    }
    if (KEY("correlationData")) {
        return unhex(v, vlen, &m->correlation);
    }
    if (KEY("userProperty")) {
        const char *colon = strchr(v, ':');
        if (colon == NULL || m->n_up == 8) {
            return false;
        }
        bool ok = unhex(v, (size_t)(colon - v), &m->up_name[m->n_up]) &&
                  unhex(colon + 1, strlen(colon + 1), &m->up_value[m->n_up]);
        m->n_up++;
        return ok;
    }
    if (!parse_long(v, &num)) {
        return false;
    }
    if (KEY("qos")) {
        m->qos = (int)num;
    } else if (KEY("retain")) {
        m->retain = (int)num;
    } else if (KEY("dup")) {
        m->dup = (int)num;
    } else if (KEY("payloadFormatIndicator")) {
        m->pfi = num;
    } else if (KEY("messageExpiryInterval")) {
        m->expiry = num;
    } else if (KEY("topicAlias")) {
        m->topic_alias = num;
    } else if (KEY("subscriptionIdentifier")) {
        if (m->n_sub_ids == 4) {
            return false;
        }
        m->sub_ids[m->n_sub_ids++] = (uint32_t)num;
    } else {
        return false;
    }
#undef KEY
    return true;
}

typedef struct peer_result {
    mj_msg msgs[4];
    size_t n_msgs;
    long granted; /* -1 when no granted= line */
    bool puback;
} peer_result;

/* Read the peer's lines until `until` ("ready" or "done"), collecting into *r. A message block,
 * an error, a timeout, or EOF before `until` fails the test (the peer is killed in teardown). */
static void peer_read_until(const char *until, peer_result *r)
{
    uint64_t deadline = fx_now_ms() + PEER_WAIT_MS;
    mj_msg *cur = NULL;
    char line[4096];
    for (;;) {
        long n = fx_read_line(g_peer.fd, &g_peer.pending, &g_peer.pending_len, line, sizeof line,
                              deadline);
        if (n == -2) {
            fail_msg("mqttjs peer: nothing for %u ms while waiting for '%s'", PEER_WAIT_MS, until);
        }
        if (n == -1) {
            int st = fx_wait_child(g_peer.pid, 2000, 1);
            g_peer.pid = 0;
            fail_msg("mqttjs peer: exited (status %d) before '%s'", st, until);
        }
        printf("    js: %s\n", line);
        if (strncmp(line, "error=", 6) == 0) {
            fail_msg("mqttjs peer: %s", line + 6);
        }
        if (strcmp(line, "timeout") == 0) {
            fail_msg("mqttjs peer timed out (20 s) waiting for '%s'", until);
        }
        if (strcmp(line, "msg.begin") == 0) {
            assert_true(r->n_msgs < 4);
            cur = &r->msgs[r->n_msgs++];
            msg_init(cur);
        } else if (strcmp(line, "msg.end") == 0) {
            assert_non_null(cur);
            cur = NULL;
        } else if (cur != NULL) {
            if (!parse_field(cur, line)) {
                fail_msg("mqttjs peer: cannot parse '%s'", line);
            }
        } else if (strncmp(line, "granted=", 8) == 0) {
            assert_true(parse_long(line + 8, &r->granted));
        } else if (strcmp(line, "puback") == 0) {
            r->puback = true;
        }
        if (cur == NULL && strcmp(line, until) == 0) {
            return;
        }
    }
}

/* After "done": the peer exits 0 by itself. */
static void peer_finish(void)
{
    int st = fx_wait_child(g_peer.pid, 10000, 1);
    g_peer.pid = 0;
    peer_cleanup(false);
    assert_int_equal(st, 0);
}

/* ---- assertions ------------------------------------------------------------------------------ */

static void assert_blob(const char *what, const mj_blob *b, const void *want, size_t len)
{
    if (!b->present || b->len != len || (len != 0 && memcmp(b->b, want, len) != 0)) {
        fail_msg("%s: got %s%.*s (%zu bytes), want %.*s (%zu bytes)", what,
                 b->present ? "" : "(absent) ", (int)b->len, (const char *)b->b, b->len, (int)len,
                 (const char *)want, len);
    }
}

/* The received user properties are the expected ones as a multiset (MQTT.js keeps them in an
 * object, so only the order of values under one name is certain). */
static void assert_user_props(const mj_msg *m, const mqtt5_user_property *want, size_t n)
{
    if (m->n_up != n) {
        fail_msg("%zu user properties, want %zu", m->n_up, n);
    }
    bool used[8] = {false};
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t j = 0; j < m->n_up && !found; j++) {
            if (!used[j] && m->up_name[j].len == want[i].name.len &&
                memcmp(m->up_name[j].b, want[i].name.ptr, want[i].name.len) == 0 &&
                m->up_value[j].len == want[i].value.len &&
                memcmp(m->up_value[j].b, want[i].value.ptr, want[i].value.len) == 0) {
                used[j] = true;
                found = true;
            }
        }
        if (!found) {
            fail_msg("user property %.*s=%.*s missing", (int)want[i].name.len, want[i].name.ptr,
                     (int)want[i].value.len, want[i].value.ptr);
        }
    }
    /* a repeated name keeps the order of its values */
    int first = -1, second = -1;
    for (size_t j = 0; j < m->n_up; j++) {
        if (m->up_name[j].len == want[0].name.len &&
            memcmp(m->up_name[j].b, want[0].name.ptr, want[0].name.len) == 0) {
            if (first < 0) {
                first = (int)j;
            } else {
                second = (int)j;
            }
        }
    }
    assert_true(first >= 0 && second > first);
    assert_int_equal(m->up_value[first].len, want[0].value.len);
    assert_memory_equal(m->up_value[first].b, want[0].value.ptr, want[0].value.len);
}

static void assert_all_props(const mj_msg *m, const char *content_type, const char *resp_topic,
                             const uint8_t *corr, size_t corr_len, const mqtt5_user_property *up,
                             size_t n_up)
{
    assert_int_equal(m->pfi, 1);
    printf("    message expiry interval received: %ld\n", m->expiry);
    assert_true(m->expiry > 3500 && m->expiry <= 3600);
    assert_blob("content type", &m->content_type, content_type, strlen(content_type));
    assert_blob("response topic", &m->response_topic, resp_topic, strlen(resp_topic));
    assert_blob("correlation data", &m->correlation, corr, corr_len);
    assert_user_props(m, up, n_up);
}

/* ---- C client steps ------------------------------------------------------------------------- */

static fx_client *mj_connect(fx_harness *h, const char *name, mqtt5_client_options *o, bool tap)
{
    int err = 0;
    fx_client *fc = fx_client_create(h, name, o, &err, NULL);
    assert_non_null(fc);
    if (tap) {
        fx_client_set_tap(fc, mj_tap, NULL, true);
    }
    assert_int_equal(fx_client_start(fc), 0);
    if (fx_client_wait_event(fc, MQTT5_LC_CONNECTION_SUCCESS, 0, FX_WAIT_MS, NULL) < 0) {
        fx_client_dump(fc);
        fail_msg("%s: no CONNECTION_SUCCESS", name);
    }
    return fc;
}

/* Publish and wait; returns the completion error, *reason the PUBACK's reason (-1 without). */
static int mj_publish(fx_client *fc, const mqtt5_publish *p, int *reason)
{
    mqtt5_future *f = mqtt5_future_new();
    assert_non_null(f);
    mqtt5_codec_status st;
    memset(&st, 0, sizeof st);
    int rc = mqtt5_client_publish(fc->client, p, NULL, mqtt5_future_on_complete, f, &st);
    if (rc != 0) {
        fprintf(stderr, "publish refused: %s field=%s\n", mqtt5_error_name(rc),
                st.field != NULL ? st.field : "-");
        mqtt5_future_complete(f, rc);
    }
    rc = mqtt5_future_wait(f, FX_WAIT_MS);
    const mqtt5_packet *ack = rc == 0 ? mqtt5_future_ack(f) : NULL;
    *reason = ack != NULL && ack->type == MQTT5_PUBACK ? ack->u.ack.reason_code : -1;
    mqtt5_future_release(f);
    return rc;
}

static void simple_publish(fx_client *fc, const char *topic, const char *payload, bool retain)
{
    mqtt5_publish p;
    memset(&p, 0, sizeof p);
    p.qos = 1;
    p.retain = retain;
    p.topic = (mqtt5_str){topic, strlen(topic)};
    p.payload = (mqtt5_bytes){(const uint8_t *)payload, strlen(payload)};
    int reason = -2;
    assert_int_equal(mj_publish(fc, &p, &reason), 0);
    assert_true(reason == MQTT5_RC_SUCCESS || reason == MQTT5_RC_NO_MATCHING_SUBSCRIBERS);
}

static const char *topic_of(const char *leaf)
{
    static char ring[4][512];
    static unsigned next;
    char *b = ring[next++ % 4];
    snprintf(b, sizeof ring[0], "mj/%ld/%s", (long)getpid(), leaf);
    return b;
}

/* ---- tests ----------------------------------------------------------------------------------- */

/* (a) MQTT.js publishes every property to the C client. */
static void test_mqttjs_to_c(void **state)
{
    require_node();
    fx_harness *h = *state;
    const char *topic = topic_of("js-to-c");
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_env_port("FX_PORT_TCP"));
    fx_client *fc = mj_connect(h, "mj-sub", &o, true);

    /* a retained message before subscribing: retain handling 2 must not send it */
    simple_publish(fc, topic, "stale retained", true);

    mqtt5_subscription s;
    memset(&s, 0, sizeof s);
    s.topic_filter = (mqtt5_str){topic, strlen(topic)};
    s.qos = 1;
    s.no_local = true;
    s.retain_as_published = true;
    s.retain_handling = MQTT5_RETAIN_DONT_SEND;
    static const uint32_t sub_id = C_SUB_ID;
    mqtt5_subscribe sub;
    memset(&sub, 0, sizeof sub);
    sub.subscriptions = &s;
    sub.subscription_count = 1;
    sub.properties.subscription_identifiers = &sub_id;
    sub.properties.subscription_identifier_count = 1;
    mqtt5_future *f = mqtt5_future_new();
    assert_non_null(f);
    mqtt5_codec_status st;
    memset(&st, 0, sizeof st);
    int rc = mqtt5_client_subscribe(fc->client, &sub, NULL, mqtt5_future_on_complete, f, &st);
    if (rc != 0) {
        mqtt5_future_complete(f, rc);
    }
    rc = mqtt5_future_wait(f, FX_WAIT_MS);
    const mqtt5_packet *ack = rc == 0 ? mqtt5_future_ack(f) : NULL;
    int granted =
        ack != NULL && ack->u.suback.reason_code_count == 1 ? ack->u.suback.reason_codes[0] : -1;
    mqtt5_future_release(f);
    assert_int_equal(rc, 0);
    assert_int_equal(granted, MQTT5_RC_GRANTED_QOS_1);

    /* our own message: no-local must keep it from us */
    simple_publish(fc, topic, "no-local probe", false);

    peer_start("pub", topic, 0, 0);
    peer_result r;
    memset(&r, 0, sizeof r);
    r.granted = -1;
    peer_read_until("done", &r);
    assert_true(r.puback);
    peer_finish();

    uint64_t end = fx_now_ms() + FX_WAIT_MS;
    while (rx_count() < 1 && fx_now_ms() < end) {
        fx_sleep_ms(10);
    }
    fx_sleep_ms(300); /* anything that should not come would come now */
    pthread_mutex_lock(&g_rx_mu);
    size_t n = g_rx_n;
    mj_msg m = g_rx[0];
    pthread_mutex_unlock(&g_rx_mu);
    if (n != 1) {
        fx_client_dump(fc);
        for (size_t i = 0; i < n && i < MJ_MAX_RX; i++) {
            fprintf(stderr, "  received #%zu: '%.*s' retain %d\n", i, (int)g_rx[i].payload.len,
                    (const char *)g_rx[i].payload.b, g_rx[i].retain);
        }
        fail_msg("the C client received %zu messages, want exactly MQTT.js's one", n);
    }
    printf("    C received: qos %d retain %d dup %d, %zu user properties, %zu subscription ids\n",
           m.qos, m.retain, m.dup, m.n_up, m.n_sub_ids);
    assert_blob("topic", &m.topic, topic, strlen(topic));
    assert_blob("payload", &m.payload, JS_PAYLOAD, strlen(JS_PAYLOAD));
    assert_int_equal(m.qos, 1);
    assert_int_equal(m.retain, 1); /* retain-as-published */
    assert_int_equal(m.dup, 0);
    assert_all_props(&m, JS_CONTENT_TYPE, JS_RESPONSE_TOPIC, JS_CORRELATION, sizeof JS_CORRELATION,
                     JS_USER_PROPS, 3);
    assert_int_equal(m.n_sub_ids, 1);
    assert_int_equal(m.sub_ids[0], C_SUB_ID);
    assert_int_equal(m.topic_alias, -1); /* resolved by the client */

    simple_publish(fc, topic, "", true); /* clear the retained message */
    assert_int_equal(fx_client_stop(fc, FX_WAIT_MS), 0);
    assert_int_equal(fx_client_release(fc, FX_WAIT_MS), 0);
}

/* (b) the C client publishes every property to MQTT.js. */
static void test_c_to_mqttjs(void **state)
{
    require_node();
    fx_harness *h = *state;
    const char *topic = topic_of("c-to-js");
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_env_port("FX_PORT_TCP"));
    fx_client *fc = mj_connect(h, "mj-pub", &o, false);

    peer_start("sub", topic, 1, JS_SUB_ID);
    peer_result r;
    memset(&r, 0, sizeof r);
    r.granted = -1;
    peer_read_until("ready", &r);
    assert_int_equal(r.granted, 1);

    mqtt5_publish p;
    memset(&p, 0, sizeof p);
    p.qos = 1;
    p.topic = (mqtt5_str){topic, strlen(topic)};
    p.payload = (mqtt5_bytes){(const uint8_t *)C_PAYLOAD, strlen(C_PAYLOAD)};
    mqtt5_properties *pr = &p.properties;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_PAYLOAD_FORMAT_INDICATOR);
    pr->payload_format_indicator = 1;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_MESSAGE_EXPIRY_INTERVAL);
    pr->message_expiry_interval = 3600;
    MQTT5_PROPS_SET(pr, MQTT5_PROP_CONTENT_TYPE);
    pr->content_type = (mqtt5_str){C_CONTENT_TYPE, strlen(C_CONTENT_TYPE)};
    MQTT5_PROPS_SET(pr, MQTT5_PROP_RESPONSE_TOPIC);
    pr->response_topic = (mqtt5_str){C_RESPONSE_TOPIC, strlen(C_RESPONSE_TOPIC)};
    MQTT5_PROPS_SET(pr, MQTT5_PROP_CORRELATION_DATA);
    pr->correlation_data = (mqtt5_bytes){C_CORRELATION, sizeof C_CORRELATION};
    pr->user_properties = C_USER_PROPS;
    pr->user_property_count = 3;
    int reason = -2;
    assert_int_equal(mj_publish(fc, &p, &reason), 0);
    assert_int_equal(reason, MQTT5_RC_SUCCESS);

    peer_read_until("done", &r);
    peer_finish();
    assert_int_equal(r.n_msgs, 1);
    const mj_msg *m = &r.msgs[0];
    assert_blob("topic", &m->topic, topic, strlen(topic));
    assert_blob("payload", &m->payload, C_PAYLOAD, strlen(C_PAYLOAD));
    assert_int_equal(m->qos, 1);
    assert_int_equal(m->retain, 0);
    assert_int_equal(m->dup, 0);
    assert_all_props(m, C_CONTENT_TYPE, C_RESPONSE_TOPIC, C_CORRELATION, sizeof C_CORRELATION,
                     C_USER_PROPS, 3);
    assert_int_equal(m->n_sub_ids, 1);
    assert_int_equal(m->sub_ids[0], JS_SUB_ID);

    assert_int_equal(fx_client_stop(fc, FX_WAIT_MS), 0);
    assert_int_equal(fx_client_release(fc, FX_WAIT_MS), 0);
}

/* (c) topic alias (LRU) from the C client; MQTT.js gets the topic on every message. */
static void test_alias_to_mqttjs(void **state)
{
    require_node();
    fx_harness *h = *state;
    char leaf[256];
    int k = snprintf(leaf, sizeof leaf, "alias/");
    while (k < 180) {
        k += snprintf(leaf + k, sizeof leaf - (size_t)k, "long-level-%d/", k);
    }
    leaf[k - 1] = '\0';
    const char *topic = topic_of(leaf);
    size_t topic_len = strlen(topic);
    mqtt5_client_options o;
    fx_client_options(h, &o, "127.0.0.1", fx_env_port("FX_PORT_TCP"));
    o.core.alias_out = MQTT5_ALIAS_OUT_LRU;
    fx_client *fc = mj_connect(h, "mj-alias", &o, false);

    peer_start("sub", topic, 3, 5);
    peer_result r;
    memset(&r, 0, sizeof r);
    r.granted = -1;
    peer_read_until("ready", &r);
    assert_int_equal(r.granted, 1);

    fx_sleep_ms(100); /* let the stats snapshot settle */
    mqtt5_client_stats before, after;
    assert_int_equal(mqtt5_client_get_stats(fc->client, &before), 0);
    static const char *const payloads[3] = {"alias-1", "alias-2", "alias-3"};
    for (size_t i = 0; i < 3; i++) {
        int reason = -2;
        assert_int_equal(fx_publish(fc, topic, 1, payloads[i], strlen(payloads[i]), &reason), 0);
        assert_int_equal(reason, MQTT5_RC_SUCCESS);
    }
    fx_sleep_ms(100);
    assert_int_equal(mqtt5_client_get_stats(fc->client, &after), 0);
    uint64_t sent = after.bytes_sent - before.bytes_sent;
    printf("    3 publishes on a %zu-byte topic: %llu bytes sent (the topic %s)\n", topic_len,
           (unsigned long long)sent, sent < 2 * topic_len ? "once: aliased" : "every time");

    peer_read_until("done", &r);
    peer_finish();
    assert_int_equal(r.n_msgs, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_blob("topic", &r.msgs[i].topic, topic, topic_len);
        assert_blob("payload", &r.msgs[i].payload, payloads[i], strlen(payloads[i]));
        assert_int_equal(r.msgs[i].qos, 1);
        assert_int_equal(r.msgs[i].n_sub_ids, 1);
        assert_int_equal(r.msgs[i].sub_ids[0], 5);
    }
    /* the topic went out with the first publish only; the other two carried the alias */
    assert_true(after.packets_sent[MQTT5_PUBLISH] - before.packets_sent[MQTT5_PUBLISH] == 3);
    assert_true(sent < 2 * topic_len);

    assert_int_equal(fx_client_stop(fc, FX_WAIT_MS), 0);
    assert_int_equal(fx_client_release(fc, FX_WAIT_MS), 0);
}

/* ---- main ------------------------------------------------------------------------------------ */

static int mj_setup(void **state)
{
    pthread_mutex_lock(&g_rx_mu);
    g_rx_n = 0;
    pthread_mutex_unlock(&g_rx_mu);
    return fx_harness_setup(state);
}

/* kill a peer a failed test left running, then the harness teardown */
static int mj_teardown(void **state)
{
    if (g_peer.pid > 0) {
        fprintf(stderr, "mqttjs peer %ld still running: killed\n", g_peer.pid);
    }
    peer_cleanup(true);
    return fx_harness_teardown(state);
}

#define MJ_TEST(f) cmocka_unit_test_setup_teardown(f, mj_setup, mj_teardown)

int main(void)
{
    const char *lvl = getenv("MQTT5_LOG_LEVEL");
    mqtt5_log_level level;
    if (lvl != NULL && mqtt5_log_level_parse(lvl, &level) == 0) {
        mqtt5_log_to_stderr(level);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *filter = getenv("FX_TEST_FILTER");
    if (filter != NULL && filter[0] != '\0') {
        cmocka_set_test_filter(filter);
    }
    const struct CMUnitTest tests[] = {
        MJ_TEST(test_mqttjs_to_c),
        MJ_TEST(test_c_to_mqttjs),
        MJ_TEST(test_alias_to_mqttjs),
    };
    return cmocka_run_group_tests_name("mqttjs", tests, NULL, NULL);
}
