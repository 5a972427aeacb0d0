/*
 * test_socks5.c - the SOCKS5 proxy filter and its messages, in-process: the filter over a fake
 * lower filter (helpers/filter_rig.c), no sockets. Covers the exact greeting, RFC 1929 and
 * CONNECT bytes (ATYP domain, IPv4, IPv6), answers split at every byte with tunnel bytes after
 * the reply, every reply code as a detail, authentication refusals, wrong versions and address
 * types, closes during each phase; and the message reader on its own.
 */
#include "helpers/test_common.h"

#include "helpers/filter_rig.h"
#include "transports/socks5.h"
#include "transports/socks5_msg.h"

static void start(filter_rig *r, const char *host, uint16_t port, const char *user,
                  const char *pass)
{
    mqtt5_socks5_options o = {host, port, user, pass};
    mqtt5_filter *f = NULL;
    assert_int_equal(mqtt5_socks5_filter_new(&o, &f), 0);
    rig_init(r, f);
}

static void expect_out(filter_rig *r, const void *want, size_t n)
{
    if (r->out.n != n || memcmp(r->out.p, want, n) != 0) {
        char got[1600] = "", exp[1600] = "";
        for (size_t i = 0; i < r->out.n && i < 500; i++)
            snprintf(got + 3 * i, 4, "%02x ", r->out.p[i]);
        for (size_t i = 0; i < n && i < 500; i++)
            snprintf(exp + 3 * i, 4, "%02x ", ((const uint8_t *)want)[i]);
        fail_msg("written:\n  %s\nwanted:\n  %s", got, exp);
    }
    rig_clear_out(r);
}

static void assert_failed(filter_rig *r, int err, const char *want_detail)
{
    assert_int_equal(r->opens, 0);
    assert_true(r->close_called);
    assert_int_equal(r->close_err, err);
    rig_finish_close(r);
    assert_int_equal(r->closes, 1);
    if (r->close_up_err != err)
        fail_msg("got %s (%s), want %s", mqtt5_error_name(r->close_up_err), r->close_detail,
                 mqtt5_error_name(err));
    if (want_detail) assert_string_equal(r->close_detail, want_detail);
}

static const uint8_t k_reply_v4[] = {5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90};

/* ---- the exact bytes ---- */

static void test_no_auth_domain(void **state)
{
    (void)state;
    filter_rig r;
    start(&r, "broker.test", 8883, NULL, NULL);
    mqtt5_iov v = {(const uint8_t *)"x", 1};
    assert_int_equal(r.f->ops->write(r.f, &v, 1), MQTT5_ERR_INVALID_STATE);
    assert_int_equal(r.f->ops->connect(r.f), 0);
    assert_int_equal(r.f->ops->connect(r.f), MQTT5_ERR_INVALID_STATE);
    assert_int_equal(r.out.n, 0);
    r.f->ops->on_open(r.f);
    expect_out(&r, "\x05\x01\x00", 3);
    rig_deliver(&r, "\x05\x00", 2, 0);
    static const uint8_t connect[] = {5,   1,   0,   3,   11,  'b', 'r', 'o',  'k',
                                      'e', 'r', '.', 't', 'e', 's', 't', 0x22, 0xb3};
    expect_out(&r, connect, sizeof connect);
    assert_int_equal(r.opens, 0);
    assert_int_equal(r.f->ops->write(r.f, &v, 1), MQTT5_ERR_INVALID_STATE);
    rig_deliver(&r, k_reply_v4, sizeof k_reply_v4, 0);
    assert_int_equal(r.opens, 1);
    assert_false(r.close_called);
    /* pass-through both ways */
    assert_int_equal(r.f->ops->write(r.f, &v, 1), 0);
    expect_out(&r, "x", 1);
    rig_deliver(&r, "\x20\x03\x00\x00\x00", 5, 0);
    assert_int_equal(r.in.n, 5);
    r.pending = 77;
    assert_int_equal(r.f->ops->pending(r.f), 77);
    r.f->ops->on_writable(r.f);
    assert_int_equal(r.writables, 1);
    const char *ver = NULL;
    assert_int_equal(r.f->ops->query(r.f, MQTT5_FILTER_QUERY_TLS_VERSION, &ver),
                     MQTT5_ERR_NOT_AVAILABLE);
    r.f->ops->close(r.f, 0);
    assert_int_equal(r.close_err, 0);
    rig_lower_closed(&r, 0, NULL);
    assert_int_equal(r.closes, 1);
    assert_int_equal(r.close_up_err, 0);
    rig_free(&r);
}

static void test_userpass_ip_literals(void **state)
{
    (void)state;
    filter_rig r;
    start(&r, "127.0.0.1", 1883, "alice", "s3cret");
    rig_connect_open(&r);
    expect_out(&r, "\x05\x02\x00\x02", 4);
    rig_deliver(&r, "\x05\x02", 2, 0);
    expect_out(&r,
               "\x01\x05"
               "alice"
               "\x06"
               "s3cret",
               14);
    rig_deliver(&r, "\x01\x00", 2, 0);
    static const uint8_t c4[] = {5, 1, 0, 1, 127, 0, 0, 1, 0x07, 0x5b};
    expect_out(&r, c4, sizeof c4);
    rig_deliver(&r, k_reply_v4, sizeof k_reply_v4, 0);
    assert_int_equal(r.opens, 1);
    rig_free(&r);

    /* IPv6 literal; the server picks "no authentication" although a username was offered */
    start(&r, "2001:db8::1", 443, "alice", NULL);
    rig_connect_open(&r);
    expect_out(&r, "\x05\x02\x00\x02", 4);
    rig_deliver(&r, "\x05\x00", 2, 0);
    static const uint8_t c6[] = {5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0,    0,
                                 0, 0, 0, 0, 0,    0,    0,    0,    1, 0x01, 0xbb};
    expect_out(&r, c6, sizeof c6);
    rig_free(&r);

    /* an empty password is sent as PLEN 0 */
    start(&r, "h", 1, "u", NULL);
    rig_connect_open(&r);
    rig_clear_out(&r);
    rig_deliver(&r, "\x05\x02", 2, 0);
    expect_out(&r, "\x01\x01u\x00", 4);
    rig_free(&r);
}

/* The whole exchange, the server's bytes split in two at every position, then one at a time;
 * the tunnel's first bytes come in the same read as the end of the reply (ATYP domain). */
static void test_split_everywhere(void **state)
{
    (void)state;
    static const uint8_t server[] = {5,    2,                                       /* method */
                                     1,    0,                                       /* auth ok */
                                     5,    0,    0, 3, 4, 'h', 'o', 's', 't', 0, 1, /* reply */
                                     0x20, 0x03, 0, 0, 0};                          /* tunnel */
    static const size_t tunnel_at = 15;
    for (size_t cut = 0; cut <= sizeof server + 1; cut++) {
        filter_rig r;
        start(&r, "broker.test", 1883, "u", "p");
        rig_connect_open(&r);
        if (cut <= sizeof server) {
            rig_deliver(&r, server, cut, 0);
            rig_deliver(&r, server + cut, sizeof server - cut, 0);
        } else {
            rig_deliver(&r, server, sizeof server, 1);
        }
        if (r.opens != 1) fail_msg("cut %zu: %s", cut, r.close_detail);
        assert_int_equal(r.bytes_at_open, 0);
        assert_int_equal(r.in.n, sizeof server - tunnel_at);
        assert_memory_equal(r.in.p, server + tunnel_at, sizeof server - tunnel_at);
        /* greeting, auth and CONNECT were all written, in order */
        static const uint8_t want[] = {5,   2,   0,   2,   1,   1,   'u', 1,    'p',
                                       5,   1,   0,   3,   11,  'b', 'r', 'o',  'k',
                                       'e', 'r', '.', 't', 'e', 's', 't', 0x07, 0x5b};
        expect_out(&r, want, sizeof want);
        rig_free(&r);
    }
}

/* ---- refusals ---- */

static void test_every_reply_code(void **state)
{
    (void)state;
    static const char *const names[] = {
        NULL,
        "general SOCKS server failure",
        "connection not allowed by ruleset",
        "network unreachable",
        "host unreachable",
        "connection refused by destination host",
        "TTL expired",
        "command not supported",
        "address type not supported",
    };
    for (unsigned code = 1; code <= 255; code++) {
        for (int full = 0; full <= 1; full++) {
            filter_rig r;
            start(&r, "broker.test", 1883, NULL, NULL);
            rig_connect_open(&r);
            rig_deliver(&r, "\x05\x00", 2, 0);
            uint8_t rep[10] = {5, (uint8_t)code, 0, 1, 0, 0, 0, 0, 0, 0};
            rig_deliver(&r, rep, full ? sizeof rep : 2, 0); /* some servers send only 2 bytes */
            char want[200];
            snprintf(want, sizeof want, "SOCKS5 proxy: %s (%u) for CONNECT broker.test:1883",
                     code < COUNT_OF(names) ? names[code] : "unassigned reply code", code);
            assert_failed(&r, MQTT5_ERR_PROXY, want);
            assert_int_equal(r.in.n, 0);
            rig_free(&r);
        }
    }
    assert_string_equal(mqtt5_socks5_reply_str(0), "succeeded");
    assert_string_equal(mqtt5_socks5_reply_str(5), "connection refused by destination host");
}

static void test_auth_refusals(void **state)
{
    (void)state;
    filter_rig r;
    start(&r, "b", 1, "alice", "wrong-password");
    rig_connect_open(&r);
    rig_deliver(&r, "\x05\x02", 2, 0);
    rig_deliver(&r, "\x01\x01", 2, 0);
    assert_failed(&r, MQTT5_ERR_PROXY, "SOCKS5 proxy refused the username or password (status 1)");
    assert_null(strstr(r.close_detail, "wrong-password"));
    rig_free(&r);

    /* the server wants a password, none was configured */
    start(&r, "b", 1, NULL, NULL);
    rig_connect_open(&r);
    rig_deliver(&r, "\x05\x02", 2, 0);
    assert_failed(&r, MQTT5_ERR_PROXY,
                  "SOCKS5 proxy requires a username and password and none was given");
    rig_free(&r);

    /* no acceptable method */
    start(&r, "b", 1, "u", "p");
    rig_connect_open(&r);
    rig_deliver(&r, "\x05\xff", 2, 0);
    assert_failed(&r, MQTT5_ERR_PROXY,
                  "SOCKS5 proxy accepts none of the offered authentication methods (none, "
                  "username/password)");
    rig_free(&r);
    start(&r, "b", 1, NULL, NULL);
    rig_connect_open(&r);
    rig_deliver(&r, "\x05\xff", 2, 0);
    assert_failed(&r, MQTT5_ERR_PROXY,
                  "SOCKS5 proxy accepts none of the offered authentication methods (none)");
    rig_free(&r);

    /* a method we did not offer (GSSAPI) */
    start(&r, "b", 1, NULL, NULL);
    rig_connect_open(&r);
    rig_deliver(&r, "\x05\x01", 2, 0);
    assert_failed(&r, MQTT5_ERR_PROXY,
                  "SOCKS5 proxy chose authentication method 0x01, not offered");
    rig_free(&r);

    /* an auth answer with version 5 (some servers) is accepted */
    start(&r, "b", 1, "u", "p");
    rig_connect_open(&r);
    rig_deliver(&r, "\x05\x02\x05\x00", 4, 0);
    assert_false(r.close_called);
    rig_free(&r);
}

static void test_bad_answers(void **state)
{
    (void)state;
    filter_rig r;
    /* an HTTP proxy answers the greeting */
    start(&r, "b", 1, NULL, NULL);
    rig_connect_open(&r);
    rig_deliver_str(&r, "HTTP/1.1 400 Bad Request\r\n\r\n", 0);
    assert_failed(&r, MQTT5_ERR_PROXY,
                  "SOCKS5 proxy sent an answer that is not SOCKS version 5 during the greeting "
                  "(first byte 0x48: is it an HTTP proxy?)");
    rig_free(&r);

    /* an RFC 1929 answer of version 2 */
    start(&r, "b", 1, "u", "p");
    rig_connect_open(&r);
    rig_deliver(&r, "\x05\x02\x02\x00", 4, 0);
    assert_failed(&r, MQTT5_ERR_PROXY,
                  "SOCKS5 proxy sent an authentication answer of an unknown version during the "
                  "authentication (first byte 0x02)");
    rig_free(&r);

    /* a reply with version 4 and with an unknown address type */
    start(&r, "b", 1, NULL, NULL);
    rig_connect_open(&r);
    rig_deliver(&r, "\x05\x00\x04\x00", 4, 0);
    assert_failed(&r, MQTT5_ERR_PROXY,
                  "SOCKS5 proxy sent an answer that is not SOCKS version 5 during the CONNECT "
                  "(first byte 0x04)");
    rig_free(&r);
    start(&r, "b", 1, NULL, NULL);
    rig_connect_open(&r);
    rig_deliver(&r, "\x05\x00\x05\x00\x00\x02", 6, 0);
    assert_failed(&r, MQTT5_ERR_PROXY,
                  "SOCKS5 proxy sent a reply with an unknown address type during the CONNECT "
                  "(first byte 0x05)");
    rig_free(&r);
}

static void test_closes(void **state)
{
    (void)state;
    static const struct {
        const char *server;
        size_t n;
        const char *phase;
    } cases[] = {{"", 0, "greeting"},
                 {"\x05", 1, "greeting"},
                 {"\x05\x02", 2, "authentication"},
                 {"\x05\x02\x01\x00\x05\x00\x00", 7, "CONNECT"}};
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        filter_rig r;
        start(&r, "b", 1, "u", "p");
        rig_connect_open(&r);
        rig_deliver(&r, cases[i].server, cases[i].n, 0);
        rig_lower_closed(&r, MQTT5_ERR_CONNECTION_CLOSED, "read failed: connection reset");
        char want[200];
        snprintf(want, sizeof want,
                 "SOCKS5 proxy closed the connection during the %s (read failed: connection "
                 "reset)",
                 cases[i].phase);
        assert_int_equal(r.close_up_err, MQTT5_ERR_PROXY);
        assert_string_equal(r.close_detail, want);
        rig_free(&r);
    }
    /* unreachable proxy */
    filter_rig r;
    start(&r, "b", 1, NULL, NULL);
    assert_int_equal(r.f->ops->connect(r.f), 0);
    rig_lower_closed(&r, MQTT5_ERR_CONNECT_REFUSED, "connect to 127.0.0.1 port 9 failed");
    assert_int_equal(r.close_up_err, MQTT5_ERR_CONNECT_REFUSED);
    assert_string_equal(r.close_detail,
                        "cannot reach the SOCKS5 proxy: connect to 127.0.0.1 port 9 failed");
    rig_free(&r);
    /* the upper closes inside on_open: the tunnel bytes of the same read are dropped */
    start(&r, "b", 1, NULL, NULL);
    r.close_on_open = true;
    r.close_on_open_err = MQTT5_ERR_STOPPED;
    rig_connect_open(&r);
    rig_deliver(&r, "\x05\x00\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00MQTT", 16, 0);
    assert_int_equal(r.opens, 1);
    assert_int_equal(r.in.n, 0);
    rig_finish_close(&r);
    assert_int_equal(r.close_up_err, MQTT5_ERR_STOPPED);
    rig_free(&r);
    /* a write failure while greeting */
    start(&r, "b", 1, NULL, NULL);
    r.fail_writes = true;
    rig_connect_open(&r);
    assert_failed(&r, MQTT5_ERR_CONNECTION_CLOSED, "cannot write to the SOCKS5 proxy");
    rig_free(&r);
}

static void test_bad_options(void **state)
{
    (void)state;
    mqtt5_filter *f = (mqtt5_filter *)1;
    char big[300];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    const mqtt5_socks5_options bad[] = {
        {NULL, 1, NULL, NULL}, {"", 1, NULL, NULL}, {"h", 0, NULL, NULL}, {big, 1, NULL, NULL},
        {"h", 1, "", NULL},    {"h", 1, big, NULL}, {"h", 1, "u", big},
    };
    for (size_t i = 0; i < COUNT_OF(bad); i++) {
        assert_int_equal(mqtt5_socks5_filter_new(&bad[i], &f), MQTT5_ERR_INVALID_ARGUMENT);
        assert_null(f);
    }
}

/* ---- the messages alone ---- */

static void test_messages(void **state)
{
    (void)state;
    uint8_t g[4], m[MQTT5_SOCKS5_MSG_MAX];
    size_t n = 0;
    assert_int_equal(mqtt5_socks5_greeting(false, g), 3);
    assert_memory_equal(g, "\x05\x01\x00", 3);
    assert_int_equal(mqtt5_socks5_greeting(true, g), 4);
    assert_memory_equal(g, "\x05\x02\x00\x02", 4);

    char u255[256];
    memset(u255, 'u', 255);
    u255[255] = '\0';
    assert_int_equal(mqtt5_socks5_auth_request(u255, u255, m, sizeof m, &n), 0);
    assert_int_equal(n, 513);
    assert_int_equal(m[1], 255);
    assert_int_equal(m[257], 255);
    assert_int_equal(mqtt5_socks5_auth_request(u255, u255, m, 512, &n), MQTT5_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(mqtt5_socks5_auth_request("", "p", m, sizeof m, &n),
                     MQTT5_ERR_INVALID_ARGUMENT);

    assert_int_equal(mqtt5_socks5_connect_request(u255, 65535, m, sizeof m, &n), 0);
    assert_int_equal(n, 4 + 1 + 255 + 2);
    assert_int_equal(m[3], MQTT5_SOCKS5_ATYP_DOMAIN);
    assert_int_equal(m[n - 2], 0xff);
    assert_int_equal(mqtt5_socks5_connect_request(u255, 1, m, 261, &n), MQTT5_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(mqtt5_socks5_connect_request("", 1, m, sizeof m, &n),
                     MQTT5_ERR_INVALID_ARGUMENT);
    /* "1.2.3" is a name here (inet_pton rejects it), "::ffff:1.2.3.4" an IPv6 literal */
    assert_int_equal(mqtt5_socks5_connect_request("1.2.3", 1, m, sizeof m, &n), 0);
    assert_int_equal(m[3], MQTT5_SOCKS5_ATYP_DOMAIN);
    assert_int_equal(mqtt5_socks5_connect_request("::ffff:1.2.3.4", 1, m, sizeof m, &n), 0);
    assert_int_equal(m[3], MQTT5_SOCKS5_ATYP_IPV6);
    assert_int_equal(n, 22);
}

static void test_reader(void **state)
{
    (void)state;
    mqtt5_socks5_reader rd;
    size_t used = 9;
    /* an IPv6 reply followed by tunnel bytes: stops at the reply's end */
    uint8_t v6[22 + 3] = {5, 0, 0, 4};
    v6[22] = 'a';
    v6[23] = 'b';
    v6[24] = 'c';
    mqtt5_socks5_reader_init(&rd, MQTT5_SOCKS5_ANSWER_REPLY);
    assert_int_equal(mqtt5_socks5_reader_feed(&rd, v6, 3, &used), MQTT5_ERR_NEED_MORE);
    assert_int_equal(used, 3);
    assert_int_equal(mqtt5_socks5_reader_feed(&rd, v6 + 3, sizeof v6 - 3, &used), 0);
    assert_int_equal(used, 19);
    assert_int_equal(rd.code, 0);
    assert_int_equal(rd.atyp, MQTT5_SOCKS5_ATYP_IPV6);
    assert_int_equal(mqtt5_socks5_reader_feed(&rd, v6, 3, &used), 0);
    assert_int_equal(used, 0);
    /* a domain of 255 bytes */
    uint8_t d[5 + 255 + 2] = {5, 0, 0, 3, 255};
    mqtt5_socks5_reader_init(&rd, MQTT5_SOCKS5_ANSWER_REPLY);
    for (size_t i = 0; i < sizeof d; i++) {
        int rc = mqtt5_socks5_reader_feed(&rd, d + i, 1, &used);
        assert_int_equal(used, 1);
        assert_int_equal(rc, i + 1 < sizeof d ? MQTT5_ERR_NEED_MORE : 0);
    }
    /* a failure stays */
    mqtt5_socks5_reader_init(&rd, MQTT5_SOCKS5_ANSWER_METHOD);
    assert_int_equal(mqtt5_socks5_reader_feed(&rd, (const uint8_t *)"\x04\x00", 2, &used),
                     MQTT5_ERR_PROXY);
    assert_int_equal(used, 1);
    assert_int_equal(mqtt5_socks5_reader_feed(&rd, (const uint8_t *)"\x05", 1, &used),
                     MQTT5_ERR_PROXY);
    assert_int_equal(used, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_auth_domain),   cmocka_unit_test(test_userpass_ip_literals),
        cmocka_unit_test(test_split_everywhere), cmocka_unit_test(test_every_reply_code),
        cmocka_unit_test(test_auth_refusals),    cmocka_unit_test(test_bad_answers),
        cmocka_unit_test(test_closes),           cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_messages),         cmocka_unit_test(test_reader),
    };
    return cmocka_run_group_tests_name("socks5", tests, NULL, NULL);
}
