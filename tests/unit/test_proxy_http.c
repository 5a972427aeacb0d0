/*
 * test_proxy_http.c - the HTTP CONNECT proxy filter and its answer parser, in-process: the filter
 * over a fake lower filter (helpers/filter_rig.c), no sockets. Covers the exact CONNECT request
 * with and without Basic authentication (RFC 7617's example, base64 padding, IPv6 targets), the
 * 2xx answer split at every byte with tunnel bytes after it, pass-through both ways, 407/401/403/
 * 5xx details quoting the status line and never the credentials, malformed and oversize answers,
 * interim 1xx answers, closes before the answer; the client's proxy option checks and the
 * builders' proxy URL for the credentials chain.
 */
#include "helpers/test_common.h"

#include "builder/builder_proxy.h"
#include "helpers/filter_rig.h"
#include "mqtt5/builder.h"
#include "transports/proxy_http.h"
#include "transports/proxy_http_reply.h"

static const char k_ok[] = "HTTP/1.1 200 Connection established\r\n"
                           "Proxy-Agent: test\r\n"
                           "\r\n";

static void start(filter_rig *r, const char *host, uint16_t port, const char *user,
                  const char *pass)
{
    mqtt5_proxy_http_options o = {host, port, user, pass};
    mqtt5_filter *f = NULL;
    assert_int_equal(mqtt5_proxy_http_filter_new(&o, &f), 0);
    rig_init(r, f);
}

static void assert_failed(filter_rig *r, int err, const char *needle)
{
    assert_int_equal(r->opens, 0);
    assert_true(r->close_called);
    assert_int_equal(r->close_err, err);
    rig_finish_close(r);
    assert_int_equal(r->closes, 1);
    if (r->close_up_err != err)
        fail_msg("got %s (%s), want %s", mqtt5_error_name(r->close_up_err), r->close_detail,
                 mqtt5_error_name(err));
    if (needle && !strstr(r->close_detail, needle))
        fail_msg("detail '%s' lacks '%s'", r->close_detail, needle);
}

/* ---- the request ---- */

static void test_request_no_auth(void **state)
{
    (void)state;
    filter_rig r;
    start(&r, "broker.test", 8883, NULL, NULL);
    mqtt5_iov v = {(const uint8_t *)"x", 1};
    assert_int_equal(r.f->ops->write(r.f, &v, 1), MQTT5_ERR_INVALID_STATE);
    assert_int_equal(r.f->ops->connect(r.f), 0);
    assert_true(r.connect_called);
    assert_int_equal(r.f->ops->connect(r.f), MQTT5_ERR_INVALID_STATE);
    assert_int_equal(r.out.n, 0); /* nothing before the lower opened */
    r.f->ops->on_open(r.f);
    assert_string_equal((const char *)r.out.p, "CONNECT broker.test:8883 HTTP/1.1\r\n"
                                               "Host: broker.test:8883\r\n"
                                               "\r\n");
    assert_int_equal(r.writes, 1);
    assert_int_equal(r.opens, 0); /* not before the answer */
    assert_int_equal(r.f->ops->write(r.f, &v, 1), MQTT5_ERR_INVALID_STATE);
    rig_free(&r);
}

static void test_request_basic_auth(void **state)
{
    (void)state;
    static const struct {
        const char *host;
        uint16_t port;
        const char *user, *pass, *want;
    } cases[] = {
        /* RFC 7617 section 2 */
        {"broker.test", 443, "Aladdin", "open sesame",
         "CONNECT broker.test:443 HTTP/1.1\r\nHost: broker.test:443\r\n"
         "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"},
        {"127.0.0.1", 1883, "a", NULL, /* "a:" */
         "CONNECT 127.0.0.1:1883 HTTP/1.1\r\nHost: 127.0.0.1:1883\r\n"
         "Proxy-Authorization: Basic YTo=\r\n\r\n"},
        {"::1", 8883, "ab", "c", /* "ab:c" */
         "CONNECT [::1]:8883 HTTP/1.1\r\nHost: [::1]:8883\r\n"
         "Proxy-Authorization: Basic YWI6Yw==\r\n\r\n"},
        {"h", 1, "user", "p\xc3\xa4ss", /* UTF-8 bytes as they are: "user:p\xc3\xa4ss" */
         "CONNECT h:1 HTTP/1.1\r\nHost: h:1\r\n"
         "Proxy-Authorization: Basic dXNlcjpww6Rzcw==\r\n\r\n"},
    };
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        filter_rig r;
        start(&r, cases[i].host, cases[i].port, cases[i].user, cases[i].pass);
        rig_connect_open(&r);
        assert_string_equal((const char *)r.out.p, cases[i].want);
        rig_free(&r);
    }
}

static void test_bad_options(void **state)
{
    (void)state;
    mqtt5_filter *f = (mqtt5_filter *)1;
    mqtt5_proxy_http_options o = {NULL, 1, NULL, NULL};
    assert_int_equal(mqtt5_proxy_http_filter_new(&o, &f), MQTT5_ERR_INVALID_ARGUMENT);
    assert_null(f);
    o.host = "";
    assert_int_equal(mqtt5_proxy_http_filter_new(&o, &f), MQTT5_ERR_INVALID_ARGUMENT);
    o.host = "h";
    o.port = 0;
    assert_int_equal(mqtt5_proxy_http_filter_new(&o, &f), MQTT5_ERR_INVALID_ARGUMENT);
    o.port = 1;
    o.host = "h\r\nX-Injected: 1";
    assert_int_equal(mqtt5_proxy_http_filter_new(&o, &f), MQTT5_ERR_INVALID_ARGUMENT);
    o.host = "h";
    o.username = "us:er";
    assert_int_equal(mqtt5_proxy_http_filter_new(&o, &f), MQTT5_ERR_INVALID_ARGUMENT);
    char big[300];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    o.username = NULL;
    o.host = big;
    assert_int_equal(mqtt5_proxy_http_filter_new(&o, &f), MQTT5_ERR_INVALID_ARGUMENT);
}

/* ---- the answer ---- */

/* The 2xx answer and 5 tunnel bytes (a CONNACK), split into two reads at every byte, and also
 * delivered a byte at a time: the tunnel opens once, the tunnel bytes arrive after on_open. */
static void test_answer_split_everywhere(void **state)
{
    (void)state;
    static const uint8_t connack[] = {0x20, 0x03, 0x00, 0x00, 0x00};
    uint8_t all[sizeof k_ok - 1 + sizeof connack];
    memcpy(all, k_ok, sizeof k_ok - 1);
    memcpy(all + sizeof k_ok - 1, connack, sizeof connack);
    for (size_t cut = 0; cut <= sizeof all + 1; cut++) {
        filter_rig r;
        start(&r, "broker.test", 1883, NULL, NULL);
        rig_connect_open(&r);
        if (cut <= sizeof all) {
            rig_deliver(&r, all, cut, 0);
            rig_deliver(&r, all + cut, sizeof all - cut, 0);
        } else {
            rig_deliver(&r, all, sizeof all, 1);
        }
        if (r.opens != 1) fail_msg("cut %zu: opens %d (%s)", cut, r.opens, r.close_detail);
        assert_false(r.close_called);
        assert_int_equal(r.bytes_at_open, 0);
        assert_int_equal(r.in.n, sizeof connack);
        assert_memory_equal(r.in.p, connack, sizeof connack);
        rig_free(&r);
    }
}

static void test_pass_through(void **state)
{
    (void)state;
    filter_rig r;
    start(&r, "broker.test", 1883, "u", "p");
    rig_connect_open(&r);
    rig_deliver_str(&r, "HTTP/1.0 200 OK\r\n\r\n", 0); /* tinyproxy's HTTP/1.0 */
    assert_int_equal(r.opens, 1);
    rig_clear_out(&r);
    mqtt5_iov v[2] = {{(const uint8_t *)"\x10\x00", 2}, {(const uint8_t *)"abc", 3}};
    assert_int_equal(r.f->ops->write(r.f, v, 2), 0);
    assert_int_equal(r.out.n, 5);
    assert_memory_equal(r.out.p,
                        "\x10\x00"
                        "abc",
                        5);
    rig_deliver(&r, "\x00\x01\x02", 3, 0);
    assert_int_equal(r.in.n, 3);
    assert_memory_equal(r.in.p, "\x00\x01\x02", 3);
    r.pending = 12345;
    assert_int_equal(r.f->ops->pending(r.f), 12345);
    r.f->ops->on_writable(r.f);
    assert_int_equal(r.writables, 1);
    /* queries stop at the tunnel: the lower's TLS is the proxy's */
    const char *ver = NULL;
    assert_int_equal(r.f->ops->query(r.f, MQTT5_FILTER_QUERY_TLS_VERSION, &ver),
                     MQTT5_ERR_NOT_AVAILABLE);
    /* a write failing below fails the filter */
    r.fail_writes = true;
    assert_int_equal(r.f->ops->write(r.f, v, 1), MQTT5_ERR_CONNECTION_CLOSED);
    assert_true(r.close_called);
    rig_finish_close(&r);
    assert_int_equal(r.closes, 1);
    assert_int_equal(r.close_up_err, MQTT5_ERR_CONNECTION_CLOSED);
    rig_free(&r);
}

static void test_graceful_close(void **state)
{
    (void)state;
    filter_rig r;
    start(&r, "broker.test", 1883, NULL, NULL);
    rig_connect_open(&r);
    rig_deliver_str(&r, k_ok, 0);
    r.f->ops->close(r.f, 0);
    assert_true(r.close_called);
    assert_int_equal(r.close_err, 0);
    r.f->ops->close(r.f, MQTT5_ERR_STOPPED); /* once only */
    assert_int_equal(r.close_err, 0);
    rig_lower_closed(&r, 0, "the server closed the connection");
    assert_int_equal(r.closes, 1);
    assert_int_equal(r.close_up_err, 0);
    rig_lower_closed(&r, 0, NULL); /* reported once */
    assert_int_equal(r.closes, 1);
    rig_free(&r);
}

static void test_407_and_auth_failures(void **state)
{
    (void)state;
    static const char a407[] = "HTTP/1.0 407 Proxy Authentication Required\r\n"
                               "Server: tinyproxy/1.11.1\r\n"
                               "Proxy-Authenticate: Basic realm=\"Tinyproxy\"\r\n"
                               "Content-Type: text/html\r\n"
                               "Content-Length: 10\r\n"
                               "\r\n"
                               "<html/>\r\n\r\n";
    filter_rig r;
    start(&r, "broker.test", 8883, NULL, NULL);
    rig_connect_open(&r);
    rig_deliver_str(&r, a407, 1);
    assert_failed(&r, MQTT5_ERR_PROXY, NULL);
    assert_string_equal(r.close_detail,
                        "HTTP proxy answered 'HTTP/1.0 407 Proxy Authentication Required' to "
                        "CONNECT broker.test:8883: the proxy requires authentication and no "
                        "username was given");
    assert_int_equal(r.in.n, 0); /* the body never climbs */
    rig_free(&r);

    /* with credentials: the detail says they were refused and never shows them */
    start(&r, "broker.test", 8883, "Aladdin", "open sesame");
    rig_connect_open(&r);
    rig_deliver_str(&r, "HTTP/1.1 401 Unauthorized\r\n\r\n", 0);
    assert_failed(&r, MQTT5_ERR_PROXY,
                  "proxy answered 'HTTP/1.1 401 Unauthorized' to CONNECT broker.test:8883: the "
                  "proxy refused the username or password");
    assert_null(strstr(r.close_detail, "sesame"));
    assert_null(strstr(r.close_detail, "QWxhZGRpbjpvcGVuIHNlc2FtZQ"));
    rig_free(&r);

    start(&r, "broker.test", 8883, "Aladdin", "open sesame");
    rig_connect_open(&r);
    rig_deliver_str(&r, "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", 0);
    assert_failed(&r, MQTT5_ERR_PROXY, "407 Proxy Authentication Required");
    assert_non_null(strstr(r.close_detail, "refused the username or password"));
    rig_free(&r);
}

static void test_other_statuses(void **state)
{
    (void)state;
    static const struct {
        const char *answer, *want;
    } cases[] = {
        {"HTTP/1.0 403 Access violation\r\n\r\n",
         "HTTP proxy answered 'HTTP/1.0 403 Access violation' to CONNECT b:1: the proxy forbids "
         "this destination"},
        {"HTTP/1.0 500 Unable to connect\r\nServer: tinyproxy/1.11.1\r\n\r\n",
         "HTTP proxy answered 'HTTP/1.0 500 Unable to connect' to CONNECT b:1"},
        {"HTTP/1.1 502 Bad Gateway\r\n\r\n",
         "HTTP proxy answered 'HTTP/1.1 502 Bad Gateway' to CONNECT b:1: the proxy could not reach "
         "the broker"},
        {"HTTP/1.1 301 Moved\r\nLocation: x\r\n\r\n",
         "HTTP proxy answered 'HTTP/1.1 301 Moved' to CONNECT b:1"},
        {"HTTP/1.1 101 Switching Protocols\r\n\r\n",
         "HTTP proxy answered 'HTTP/1.1 101 Switching Protocols' to CONNECT b:1"},
        {"HTTP/1.1 404\r\n\r\n", "HTTP proxy answered 'HTTP/1.1 404' to CONNECT b:1"},
    };
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        filter_rig r;
        start(&r, "b", 1, NULL, NULL);
        rig_connect_open(&r);
        rig_deliver_str(&r, cases[i].answer, 0);
        assert_failed(&r, MQTT5_ERR_PROXY, NULL);
        assert_string_equal(r.close_detail, cases[i].want);
        rig_free(&r);
    }
}

static void test_malformed_answers(void **state)
{
    (void)state;
    static const struct {
        const char *answer, *needle;
    } cases[] = {
        {"SSH-2.0-OpenSSH_9.2\r\n", "HTTP proxy sent not an HTTP answer to CONNECT b:1: 'S'"},
        {"\x15\x03\x03\x00\x02\x02\x28", "not an HTTP answer"}, /* a TLS alert: TLS port */
        {"\x05\x00", "not an HTTP answer"},                     /* a SOCKS5 server */
        {"HTTP/1.1 2000 OK\r\n\r\n", "a malformed status line to CONNECT b:1: 'HTTP/1.1 2000 OK'"},
        {"HTTP/1.1 200OK\r\n\r\n", "a malformed status line"},
        {"HTTP/1.1  200 OK\r\n\r\n", "a malformed status line"},
        {"HTTP/x.1 200 OK\r\n\r\n", "a malformed status line"},
        {"HTTP/1.1 099 Low\r\n\r\n", "a malformed status line"},
        {"HTTP/1.1 600 High\r\n\r\n", "a malformed status line"},
        {"\r\n", "an empty status line"},
        {"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "a malformed header line (no ':')"},
        {"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", "a malformed header line (no ':')"},
    };
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        filter_rig r;
        start(&r, "b", 1, NULL, NULL);
        rig_connect_open(&r);
        rig_deliver_str(&r, cases[i].answer, 0);
        if (!r.close_called) fail_msg("case %zu accepted", i);
        assert_failed(&r, MQTT5_ERR_PROXY, cases[i].needle);
        rig_free(&r);
    }
}

/* Folded headers, bare LF line ends and interim answers are accepted. */
static void test_lenient_answers(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "HTTP/1.0 200 OK\n\nMQTT",
        "HTTP/1.1 200 OK\r\nX-A: 1\r\n  continued\r\n\r\nMQTT",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 Connection established\r\n\r\nMQTT",
        "HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\nMQTT", /* a lone CR inside a line */
        "HTTP/1.1 299 Whatever\r\n\r\nMQTT",
    };
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        for (size_t chunk = 0; chunk < 3; chunk++) {
            filter_rig r;
            start(&r, "b", 1, NULL, NULL);
            rig_connect_open(&r);
            rig_deliver_str(&r, cases[i], chunk);
            if (r.opens != 1) fail_msg("case %zu: %s", i, r.close_detail);
            assert_string_equal((const char *)r.in.p, "MQTT");
            rig_free(&r);
        }
    }
}

/* A head of exactly MQTT5_PROXY_REPLY_MAX bytes is read; one more byte is refused. */
static void test_oversize_answer(void **state)
{
    (void)state;
    for (int over = 0; over <= 1; over++) {
        size_t total = MQTT5_PROXY_REPLY_MAX + (size_t)over;
        char *head = malloc(total + 1);
        assert_non_null(head);
        static const char first[] = "HTTP/1.1 200 OK\r\nX-Pad: ";
        memcpy(head, first, sizeof first - 1);
        memset(head + sizeof first - 1, 'p', total - (sizeof first - 1) - 4);
        memcpy(head + total - 4, "\r\n\r\n", 4);
        head[total] = '\0';
        filter_rig r;
        start(&r, "b", 1, NULL, NULL);
        rig_connect_open(&r);
        rig_deliver(&r, head, total, 1000);
        if (over) {
            assert_failed(&r, MQTT5_ERR_PROXY, "an answer head over the size limit");
        } else {
            assert_int_equal(r.opens, 1);
            assert_int_equal(r.in.n, 0);
        }
        rig_free(&r);
        free(head);
    }
    /* an endless status line: refused at the limit, the detail cut with "..." */
    filter_rig r;
    start(&r, "b", 1, NULL, NULL);
    rig_connect_open(&r);
    char line[1024];
    memcpy(line, "HTTP/1.1 200 ", 13);
    memset(line + 13, 'x', sizeof line - 13);
    for (int i = 0; i < 17 && !r.close_called; i++)
        rig_deliver(&r, i ? line + 13 : line, i ? sizeof line - 13 : sizeof line, 0);
    assert_failed(&r, MQTT5_ERR_PROXY, "over the size limit");
    assert_non_null(strstr(r.close_detail, "xxx..."));
    rig_free(&r);
}

static void test_closed_before_answer(void **state)
{
    (void)state;
    filter_rig r;
    start(&r, "broker.test", 1883, NULL, NULL);
    rig_connect_open(&r);
    rig_deliver_str(&r, "HTTP/1.1 200", 0);
    rig_lower_closed(&r, 0, "the server closed the connection");
    assert_int_equal(r.closes, 1);
    assert_int_equal(r.close_up_err, MQTT5_ERR_PROXY);
    assert_string_equal(r.close_detail, "HTTP proxy closed the connection before answering CONNECT "
                                        "broker.test:1883 (the server closed the connection)");
    rig_free(&r);

    /* the proxy cannot be reached: the lower's error stays, the detail says where */
    start(&r, "broker.test", 1883, NULL, NULL);
    assert_int_equal(r.f->ops->connect(r.f), 0);
    rig_lower_closed(&r, MQTT5_ERR_CONNECT_REFUSED,
                     "connect to 127.0.0.1 port 9 failed: connection refused");
    assert_int_equal(r.close_up_err, MQTT5_ERR_CONNECT_REFUSED);
    assert_string_equal(r.close_detail, "cannot reach the HTTP proxy: connect to 127.0.0.1 port 9 "
                                        "failed: connection refused");
    rig_free(&r);

    /* a TLS failure to a TLS proxy keeps its error and detail */
    start(&r, "broker.test", 1883, NULL, NULL);
    assert_int_equal(r.f->ops->connect(r.f), 0);
    rig_lower_closed(&r, MQTT5_ERR_TLS_UNTRUSTED_CERT, "certificate verify failed");
    assert_int_equal(r.close_up_err, MQTT5_ERR_TLS_UNTRUSTED_CERT);
    assert_string_equal(r.close_detail, "cannot reach the HTTP proxy: certificate verify failed");
    rig_free(&r);

    /* the request cannot be written */
    start(&r, "broker.test", 1883, NULL, NULL);
    r.fail_writes = true;
    rig_connect_open(&r);
    assert_failed(&r, MQTT5_ERR_CONNECTION_CLOSED, "cannot write the CONNECT request");
    rig_free(&r);
}

/* The upper filter closes inside on_open: the tunnel bytes of the same read are dropped. */
static void test_close_inside_open(void **state)
{
    (void)state;
    filter_rig r;
    start(&r, "broker.test", 1883, NULL, NULL);
    r.close_on_open = true;
    r.close_on_open_err = MQTT5_ERR_STOPPED;
    rig_connect_open(&r);
    rig_deliver_str(&r, "HTTP/1.1 200 OK\r\n\r\nMQTT", 0);
    assert_int_equal(r.opens, 1);
    assert_int_equal(r.in.n, 0);
    assert_true(r.close_called);
    rig_finish_close(&r);
    assert_int_equal(r.close_up_err, MQTT5_ERR_STOPPED);
    rig_free(&r);

    /* closed by the upper before the answer: nothing goes up but the close */
    start(&r, "broker.test", 1883, NULL, NULL);
    rig_connect_open(&r);
    r.f->ops->close(r.f, MQTT5_ERR_CONNECT_TIMEOUT);
    rig_deliver_str(&r, "HTTP/1.1 200 OK\r\n\r\n", 0);
    assert_int_equal(r.opens, 0);
    rig_finish_close(&r);
    assert_int_equal(r.close_up_err, MQTT5_ERR_CONNECT_TIMEOUT);
    rig_free(&r);
}

/* ---- the parser alone ---- */

static void test_parser_direct(void **state)
{
    (void)state;
    mqtt5_proxy_reply p;
    mqtt5_proxy_reply_init(&p);
    size_t used = 99;
    assert_int_equal(mqtt5_proxy_reply_feed(&p, NULL, 0, &used), MQTT5_ERR_NEED_MORE);
    assert_int_equal(used, 0);
    const char *a = "HTTP/1.1 200 OK\r\n\r\nrest";
    assert_int_equal(mqtt5_proxy_reply_feed(&p, (const uint8_t *)a, 10, &used),
                     MQTT5_ERR_NEED_MORE);
    assert_int_equal(used, 10);
    assert_int_equal(mqtt5_proxy_reply_feed(&p, (const uint8_t *)a + 10, strlen(a) - 10, &used), 0);
    assert_int_equal(used, strlen("HTTP/1.1 200 OK\r\n\r\n") - 10);
    assert_int_equal(p.status, 200);
    assert_string_equal(p.status_line, "HTTP/1.1 200 OK");
    /* done: takes nothing more */
    assert_int_equal(mqtt5_proxy_reply_feed(&p, (const uint8_t *)"x", 1, &used), 0);
    assert_int_equal(used, 0);

    /* failed: stays failed */
    mqtt5_proxy_reply_init(&p);
    assert_int_equal(mqtt5_proxy_reply_feed(&p, (const uint8_t *)"GET / HTTP/1.1", 14, &used),
                     MQTT5_ERR_PROXY);
    assert_int_equal(used, 1);
    assert_string_equal(p.why, "not an HTTP answer");
    assert_int_equal(mqtt5_proxy_reply_feed(&p, (const uint8_t *)"x", 1, &used), MQTT5_ERR_PROXY);
    assert_int_equal(used, 0);

    /* control bytes in the status line are shown as '?' */
    mqtt5_proxy_reply_init(&p);
    const char *b = "HTTP/1.1 407 A\x01\x7f"
                    "B\r\n\r\n";
    assert_int_equal(mqtt5_proxy_reply_feed(&p, (const uint8_t *)b, strlen(b), &used), 0);
    assert_string_equal(p.status_line, "HTTP/1.1 407 A??B");
    assert_int_equal(p.status, 407);
}

/* ---- the client's proxy options ---- */

static void complete_future(void *f)
{
    mqtt5_future_complete(f, 0);
}

static void test_client_proxy_options(void **state)
{
    (void)state;
    mqtt5_event_loop_group *g = NULL;
    assert_int_equal(mqtt5_event_loop_group_new(NULL, &g), 0);
    mqtt5_client_options o;
    mqtt5_client_options_init(&o);
    o.group = g;
    o.host = "broker.test";
    o.port = 1883;
    mqtt5_client *c = NULL;
    mqtt5_codec_status st;
    mqtt5_http_proxy_options hp = {"proxy.test", 3128, NULL, NULL, NULL};
    mqtt5_socks5_proxy_options sp = {"socks.test", 0, NULL, NULL};
    static const struct {
        const char *host;
        uint16_t port;
        const char *user, *pass, *field;
    } bad_http[] = {
        {NULL, 3128, NULL, NULL, "http_proxy.host"},
        {"", 3128, NULL, NULL, "http_proxy.host"},
        {"proxy test", 3128, NULL, NULL, "http_proxy.host"},
        {"proxy.test", 0, NULL, NULL, "http_proxy.port"},
        {"proxy.test", 3128, "us:er", "p", "http_proxy.username"},
        {"proxy.test", 3128, NULL, "p", "http_proxy.password"},
    };
    for (size_t i = 0; i < COUNT_OF(bad_http); i++) {
        mqtt5_http_proxy_options b = {bad_http[i].host, bad_http[i].port, bad_http[i].user,
                                      bad_http[i].pass, NULL};
        o.http_proxy = &b;
        assert_int_equal(mqtt5_client_new(&o, &c, &st), MQTT5_ERR_INVALID_ARGUMENT);
        assert_string_equal(st.field, bad_http[i].field);
        assert_null(c);
    }
    o.http_proxy = &hp;
    o.socks5_proxy = &sp;
    assert_int_equal(mqtt5_client_new(&o, &c, &st), MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "socks5_proxy");
    o.http_proxy = NULL;
    char big[300];
    memset(big, 'u', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sp.username = big;
    assert_int_equal(mqtt5_client_new(&o, &c, &st), MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "socks5_proxy.username");
    sp.username = "u";
    sp.password = big;
    assert_int_equal(mqtt5_client_new(&o, &c, &st), MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "socks5_proxy.password");
    sp.username = NULL;
    sp.password = "p";
    assert_int_equal(mqtt5_client_new(&o, &c, &st), MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "socks5_proxy.password");
    sp.host = NULL;
    sp.password = NULL;
    assert_int_equal(mqtt5_client_new(&o, &c, &st), MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(st.field, "socks5_proxy.host");
    o.socks5_proxy = NULL;

    /* TLS to the proxy: a bad option is named under http_proxy.tls */
    mqtt5_tls_options pt;
    mqtt5_tls_options_init(&pt);
    pt.ca_file = "/nonexistent/proxy-ca.crt";
    hp.tls = &pt;
    o.http_proxy = &hp;
    assert_int_not_equal(mqtt5_client_new(&o, &c, &st), 0);
    assert_string_equal(st.field, "http_proxy.tls");
    assert_null(c);

    /* good ones are accepted (and released without connecting) */
    mqtt5_tls_options_init(&pt);
    hp.username = "user";
    hp.password = "secret";
    assert_int_equal(mqtt5_client_new(&o, &c, &st), 0);
    mqtt5_future *f = mqtt5_future_new();
    assert_int_equal(mqtt5_client_release(c, complete_future, f), 0);
    assert_int_equal(mqtt5_future_wait(f, 10000), 0);
    mqtt5_future_release(f);
    o.http_proxy = NULL;
    sp = (mqtt5_socks5_proxy_options){"::1", 0, "u", NULL};
    o.socks5_proxy = &sp;
    assert_int_equal(mqtt5_client_new(&o, &c, &st), 0);
    f = mqtt5_future_new();
    assert_int_equal(mqtt5_client_release(c, complete_future, f), 0);
    assert_int_equal(mqtt5_future_wait(f, 10000), 0);
    mqtt5_future_release(f);

    f = mqtt5_future_new();
    mqtt5_event_loop_group_release(g, complete_future, f);
    assert_int_equal(mqtt5_future_wait(f, 10000), 0);
    mqtt5_future_release(f);
}

/* ---- the builders' proxy URL for the credentials chain ---- */

static void test_builder_proxy_url(void **state)
{
    (void)state;
    mqtt5_builder_options o;
    memset(&o, 0, sizeof o);
    char *url = (char *)1;
    const char *ca = "x";
    assert_int_equal(mqtt5_builder_proxy_url(&o, &url, &ca), 0);
    assert_null(url);
    assert_null(ca);

    mqtt5_http_proxy_options hp = {"127.0.0.1", 3128, NULL, NULL, NULL};
    o.http_proxy_options = &hp;
    assert_int_equal(mqtt5_builder_proxy_url(&o, &url, &ca), 0);
    assert_string_equal(url, "http://127.0.0.1:3128");
    assert_null(ca);
    mqtt5_builder_proxy_url_free(url);

    hp.username = "us er@x";
    hp.password = "p:a/s%s~._-";
    mqtt5_tls_options t;
    mqtt5_tls_options_init(&t);
    t.ca_file = "/pki/proxy-ca.crt";
    hp.tls = &t;
    hp.host = "::1";
    assert_int_equal(mqtt5_builder_proxy_url(&o, &url, &ca), 0);
    assert_string_equal(url, "https://us%20er%40x:p%3Aa%2Fs%25s~._-@[::1]:3128");
    assert_string_equal(ca, "/pki/proxy-ca.crt");
    mqtt5_builder_proxy_url_free(url);

    o.http_proxy_options = NULL;
    mqtt5_socks5_proxy_options sp = {"socks.test", 0, "u", NULL};
    o.socks5_proxy_options = &sp;
    assert_int_equal(mqtt5_builder_proxy_url(&o, &url, &ca), 0);
    assert_string_equal(url, "socks5h://u@socks.test:1080");
    assert_null(ca);
    mqtt5_builder_proxy_url_free(url);
    sp.host = "";
    assert_int_equal(mqtt5_builder_proxy_url(&o, &url, &ca), MQTT5_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_no_auth),
        cmocka_unit_test(test_request_basic_auth),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_answer_split_everywhere),
        cmocka_unit_test(test_pass_through),
        cmocka_unit_test(test_graceful_close),
        cmocka_unit_test(test_407_and_auth_failures),
        cmocka_unit_test(test_other_statuses),
        cmocka_unit_test(test_malformed_answers),
        cmocka_unit_test(test_lenient_answers),
        cmocka_unit_test(test_oversize_answer),
        cmocka_unit_test(test_closed_before_answer),
        cmocka_unit_test(test_close_inside_open),
        cmocka_unit_test(test_parser_direct),
        cmocka_unit_test(test_client_proxy_options),
        cmocka_unit_test(test_builder_proxy_url),
    };
    return cmocka_run_group_tests_name("proxy_http", tests, NULL, NULL);
}
