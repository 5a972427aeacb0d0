/*
 * test_client_auth.c - enhanced authentication in the client core (client_core.h on_auth and
 * mqtt5_client_core_auth): the option check, CONNECT carrying the method and data, AUTH rounds
 * before CONNACK, re-authentication while connected, the protocol errors that end a connection
 * with DISCONNECT 0x82, and auth() in the wrong state. Exact bytes are written out by hand; the
 * test must not look at the core's internals.
 */
#include "helpers/test_common.h"
#include "helpers/scripted_broker.h"

/* "SCRAM" and its properties: method (0x15) then data (0x16), the encoder's order. */
#define METHOD "15 0005 534352414d"
#define DATA_INIT "16 0004 696e6974" /* "init" */

static const char CONNECT_AUTH[] = "10 2f 0004 4d515454 05 02 003c"
                                   "17" METHOD DATA_INIT "21 0064 27 00020000"
                                   "000b 746573742d636c69656e74";
/* server AUTH 0x18 with data "chal1" / "chal2" */
static const char AUTH_CHAL1[] = "f0 12 18 10" METHOD "16 0005 6368616c31";
static const char AUTH_CHAL2[] = "f0 12 18 10" METHOD "16 0005 6368616c32";
/* client AUTH 0x18 with data "resp1" / "resp2" */
static const char AUTH_RESP1[] = "f0 12 18 10" METHOD "16 0005 7265737031";
static const char AUTH_RESP2[] = "f0 12 18 10" METHOD "16 0005 7265737032";
/* client AUTH 0x19 with data "re1" */
static const char AUTH_REAUTH[] = "f0 10 19 0e" METHOD "16 0003 726531";
/* server AUTH 0x00 (re-authentication succeeded) */
static const char AUTH_SUCCESS[] = "f0 0a 00 08" METHOD;

#define CHECK(b, cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            sb_dump(b);                                                                            \
            fail_msg(__VA_ARGS__);                                                                 \
        }                                                                                          \
    } while (0)

/* ---- the on_auth callback ------------------------------------------------------------------- */

typedef struct auth_log {
    size_t calls;
    uint8_t reason[8];
    char data[8][16]; /* authenticationData as text, "" if absent */
    char method[8][16];
    const char *reply; /* non-NULL: answer auth(0x18, reply) from inside the callback */
    int reply_rc;
} auth_log;

static auth_log g_auth;

static void copy_text(char *dst, size_t cap, const void *src, size_t len)
{
    if (len >= cap) len = cap - 1;
    if (len) memcpy(dst, src, len);
    dst[len] = '\0';
}

static mqtt5_properties auth_data(const char *data)
{
    mqtt5_properties p = {0};
    MQTT5_PROPS_SET(&p, MQTT5_PROP_AUTHENTICATION_DATA);
    p.authentication_data = (mqtt5_bytes){(const uint8_t *)data, strlen(data)};
    return p;
}

/* Runs inside the core: records, and answers when told to; the test checks afterwards. */
static void on_auth(void *user, const mqtt5_disconnect *a)
{
    sb *b = user;
    size_t i = g_auth.calls++;
    if (i >= COUNT_OF(g_auth.reason)) return;
    g_auth.reason[i] = a->reason_code;
    const mqtt5_properties *p = &a->properties;
    g_auth.data[i][0] = g_auth.method[i][0] = '\0';
    if (MQTT5_PROPS_HAS(p, MQTT5_PROP_AUTHENTICATION_DATA))
        copy_text(g_auth.data[i], sizeof(g_auth.data[i]), p->authentication_data.ptr,
                  p->authentication_data.len);
    if (MQTT5_PROPS_HAS(p, MQTT5_PROP_AUTHENTICATION_METHOD))
        copy_text(g_auth.method[i], sizeof(g_auth.method[i]), p->authentication_method.ptr,
                  p->authentication_method.len);
    if (g_auth.reply) {
        mqtt5_properties r = auth_data(g_auth.reply);
        mqtt5_codec_status st = {0};
        g_auth.reply_rc = mqtt5_client_core_auth(sb_core(b), sb_now(b), 0x18, &r, &st);
        g_auth.reply = NULL;
    }
}

#define expect_auth_call(b, i, reason, data)                                                       \
    expect_auth_call_(sb_at_((b), __FILE__, __LINE__), (i), (reason), (data))
static void expect_auth_call_(sb *b, size_t i, uint8_t reason, const char *data)
{
    CHECK(b, g_auth.calls == i + 1, "on_auth called %zu times, want %zu", g_auth.calls, i + 1);
    CHECK(b, g_auth.reason[i] == reason, "on_auth #%zu: reason 0x%02x, want 0x%02x", i,
          g_auth.reason[i], reason);
    CHECK(b, strcmp(g_auth.data[i], data) == 0, "on_auth #%zu: data \"%s\", want \"%s\"", i,
          g_auth.data[i], data);
    CHECK(b, strcmp(g_auth.method[i], "SCRAM") == 0, "on_auth #%zu: method \"%s\"", i,
          g_auth.method[i]);
}

/* ---- setup ---------------------------------------------------------------------------------- */

static void auth_options(mqtt5_client_core_options *o)
{
    sb_options_default(o);
    mqtt5_properties *p = &o->connect.properties;
    MQTT5_PROPS_SET(p, MQTT5_PROP_AUTHENTICATION_METHOD);
    p->authentication_method = S("SCRAM");
    MQTT5_PROPS_SET(p, MQTT5_PROP_AUTHENTICATION_DATA);
    p->authentication_data = B("init");
    o->callbacks.on_auth = on_auth;
}

static sb *new_auth_client(void)
{
    memset(&g_auth, 0, sizeof(g_auth));
    mqtt5_client_core_options o;
    auth_options(&o);
    return sb_new(&o);
}

static int do_auth(sb *b, uint8_t reason, const char *data)
{
    mqtt5_properties p = auth_data(data);
    mqtt5_codec_status st = {0};
    int rc = mqtt5_client_core_auth(sb_core(b), sb_now(b), reason, &p, &st);
    if (rc != 0) assert_err(st.error, rc);
    sb_settle(b);
    return rc;
}

/* Connected with the method configured, no AUTH round (the server may accept at once). */
static sb *connected_auth_client(void)
{
    sb *b = new_auth_client();
    sb_start(b);
    sb_expect_hex(b, CONNECT_AUTH);
    sb_connack(b, 0x00, false, NULL);
    sb_expect_events(b, "ATTEMPTING_CONNECT; CONNECTION_SUCCESS");
    return b;
}

static void noop_lifecycle(void *u, const mqtt5_lifecycle_event *e)
{
    (void)u;
    (void)e;
}

static void noop_publish(void *u, const mqtt5_inbound_publish *m)
{
    (void)u;
    (void)m;
}

static void noop_complete(void *u, const mqtt5_op_completion *d)
{
    (void)u;
    (void)d;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void method_requires_on_auth(void **state)
{
    (void)state;
    test_allocator ta;
    test_allocator_init(&ta);
    mqtt5_client_core_options o;
    auth_options(&o);
    o.allocator = test_allocator_get(&ta);
    o.callbacks = (mqtt5_client_core_callbacks){
        .on_lifecycle = noop_lifecycle, .on_publish = noop_publish, .on_complete = noop_complete};
    static char sentinel;
    mqtt5_client_core *core = (mqtt5_client_core *)(void *)&sentinel; /* reset to NULL */
    mqtt5_codec_status st = {0};
    assert_err(mqtt5_client_core_new(&o, &core, &st), MQTT5_ERR_INVALID_ARGUMENT);
    assert_null(core);
    assert_err(st.error, MQTT5_ERR_INVALID_ARGUMENT);
    assert_non_null(st.field);
    assert_string_equal(st.field, "callbacks.on_auth");
    assert_int_equal(ta.live_blocks, 0);

    o.callbacks.on_auth = on_auth; /* with it: fine */
    assert_err(mqtt5_client_core_new(&o, &core, &st), MQTT5_OK);
    assert_non_null(core);
    assert_err(mqtt5_client_core_destroy(core), MQTT5_OK);
    assert_no_leaks(&ta);
}

static void connect_carries_method_and_data(void **state)
{
    (void)state;
    sb *b = new_auth_client();
    sb_start(b);
    sb_expect_hex(b, CONNECT_AUTH);
    sb_expect_no_packet(b);
    assert_int_equal(g_auth.calls, 0);
    sb_free(b);
}

/* Two challenge rounds before CONNACK: one answered after the callback returned, one from
 * inside it. */
static void auth_rounds_before_connack(void **state)
{
    (void)state;
    sb *b = new_auth_client();
    sb_start(b);
    sb_expect_hex(b, CONNECT_AUTH);
    sb_advance(b, 10);
    sb_send_hex(b, AUTH_CHAL1);
    expect_auth_call(b, 0, 0x18, "chal1");
    sb_expect_no_packet(b); /* the core waits for the user's answer */
    sb_expect_events(b, "ATTEMPTING_CONNECT");
    assert_int_equal(mqtt5_client_core_state(sb_core(b)), MQTT5_CS_MQTT_CONNECT);
    assert_err(do_auth(b, 0x18, "resp1"), MQTT5_OK);
    sb_expect_hex(b, AUTH_RESP1);
    sb_expect_no_packet(b);

    g_auth.reply = "resp2";
    sb_send_hex(b, AUTH_CHAL2);
    expect_auth_call(b, 1, 0x18, "chal2");
    assert_err(g_auth.reply_rc, MQTT5_OK);
    sb_expect_hex(b, AUTH_RESP2);
    sb_expect_no_packet(b);

    sb_connack(b, 0x00, false, NULL);
    sb_expect_events(b, "CONNECTION_SUCCESS @10");
    sb_expect_order(b, "OUT:CONNECT; IN:AUTH; OUT:AUTH; IN:AUTH; OUT:AUTH; IN:CONNACK; "
                       "CONNECTION_SUCCESS");
    assert_int_equal(g_auth.calls, 2); /* CONNACK is not an AUTH */
    sb_expect_no_packet(b);
    sb_free(b);
}

/* Re-authentication: client 0x19 -> server 0x18 -> client 0x18 -> server 0x00. The connection
 * stays up, and a new re-authentication may start afterwards. */
static void reauthentication_while_connected(void **state)
{
    (void)state;
    sb *b = connected_auth_client();
    sb_advance(b, 100);
    assert_err(do_auth(b, 0x19, "re1"), MQTT5_OK);
    sb_expect_hex(b, AUTH_REAUTH);
    sb_expect_no_packet(b);
    sb_send_hex(b, AUTH_CHAL1);
    expect_auth_call(b, 0, 0x18, "chal1");
    assert_err(do_auth(b, 0x18, "resp1"), MQTT5_OK);
    sb_expect_hex(b, AUTH_RESP1);
    sb_send_hex(b, AUTH_SUCCESS);
    expect_auth_call(b, 1, 0x00, "");
    sb_expect_no_packet(b);
    sb_expect_events(b, "");
    assert_true(sb_transport_is_open(b));
    assert_int_equal(mqtt5_client_core_state(sb_core(b)), MQTT5_CS_CONNECTED);

    /* the exchange is over: no 0x18 now, but a new 0x19 */
    assert_err(do_auth(b, 0x18, "late"), MQTT5_ERR_INVALID_STATE);
    sb_expect_no_packet(b);
    assert_err(do_auth(b, 0x19, "re1"), MQTT5_OK);
    sb_expect_hex(b, AUTH_REAUTH);
    g_auth.reply = "resp2"; /* answered from inside the callback this time */
    sb_send_hex(b, AUTH_CHAL2);
    expect_auth_call(b, 2, 0x18, "chal2");
    assert_err(g_auth.reply_rc, MQTT5_OK);
    sb_expect_hex(b, AUTH_RESP2);
    sb_send_hex(b, AUTH_SUCCESS);
    expect_auth_call(b, 3, 0x00, "");
    sb_expect_no_packet(b);
    sb_expect_events(b, "");
    sb_free(b);
}

/* A server AUTH the client must refuse: DISCONNECT 0x82 and the connection ends; on_auth is
 * not called. */
static void expect_protocol_error(sb *b, bool connected, size_t auth_calls)
{
    sb_expect_hex(b, "e0 01 82");
    sb_expect_no_packet(b);
    sb_expect_events(b, connected ? "DISCONNECTION MQTT5_ERR_PROTOCOL_ERROR"
                                  : "ATTEMPTING_CONNECT; CONNECTION_FAILURE "
                                    "MQTT5_ERR_PROTOCOL_ERROR");
    assert_false(sb_transport_is_open(b));
    CHECK(b, g_auth.calls == auth_calls, "on_auth called %zu times, want %zu", g_auth.calls,
          auth_calls);
}

static sb *auth_client_waiting_for_connack(void)
{
    sb *b = new_auth_client();
    sb_start(b);
    sb_expect_hex(b, CONNECT_AUTH);
    return b;
}

static void wrong_method_before_connack(void **state)
{
    (void)state;
    sb *b = auth_client_waiting_for_connack();
    sb_send_hex(b, "f0 12 18 10 15 0005 5343524142 16 0005 6368616c31"); /* "SCRAB" */
    expect_protocol_error(b, false, 0);
    sb_free(b);

    b = auth_client_waiting_for_connack();
    sb_send_hex(b, "f0 0a 18 08 16 0005 6368616c31"); /* no method at all */
    expect_protocol_error(b, false, 0);
    sb_free(b);
}

static void wrong_method_during_reauthentication(void **state)
{
    (void)state;
    sb *b = connected_auth_client();
    assert_err(do_auth(b, 0x19, "re1"), MQTT5_OK);
    sb_expect_hex(b, AUTH_REAUTH);
    sb_send_hex(b, "f0 13 18 11 15 0006 534352414d32 16 0005 6368616c31"); /* "SCRAM2" */
    expect_protocol_error(b, true, 0);
    sb_free(b);
}

/* 0x19 is for the client to send; 0x00 before CONNACK and 0x18 with no re-authentication
 * running are unexpected too. */
static void unexpected_reason_codes_from_server(void **state)
{
    (void)state;
    sb *b = auth_client_waiting_for_connack();
    sb_send_hex(b, "f0 0a 19 08" METHOD);
    expect_protocol_error(b, false, 0);
    sb_free(b);

    b = connected_auth_client();
    sb_send_hex(b, "f0 0a 19 08" METHOD);
    expect_protocol_error(b, true, 0);
    sb_free(b);

    b = auth_client_waiting_for_connack();
    sb_send_hex(b, AUTH_SUCCESS);
    expect_protocol_error(b, false, 0);
    sb_free(b);

    b = connected_auth_client();
    sb_send_hex(b, AUTH_CHAL1); /* we started no re-authentication */
    expect_protocol_error(b, true, 0);
    sb_free(b);

    b = connected_auth_client();
    sb_send_hex(b, AUTH_SUCCESS);
    expect_protocol_error(b, true, 0);
    sb_free(b);
}

/* No method in the CONNECT template: any AUTH is a protocol error. */
static void auth_without_configured_method(void **state)
{
    (void)state;
    memset(&g_auth, 0, sizeof(g_auth));
    sb *b = sb_new(NULL);
    sb_start(b);
    sb_expect_packet(b, MQTT5_CONNECT);
    sb_send_hex(b, AUTH_CHAL1);
    expect_protocol_error(b, false, 0);
    sb_free(b);

    b = sb_new(NULL);
    sb_connect(b, NULL);
    sb_send_hex(b, AUTH_CHAL1);
    expect_protocol_error(b, true, 0);
    sb_free(b);

    b = sb_new(NULL);
    sb_connect(b, NULL);
    sb_send_hex(b, AUTH_SUCCESS);
    expect_protocol_error(b, true, 0);
    sb_free(b);
}

static void auth_in_wrong_state(void **state)
{
    (void)state;
    /* no method configured: never */
    sb *b = sb_new(NULL);
    assert_err(do_auth(b, 0x18, "x"), MQTT5_ERR_INVALID_STATE);
    sb_connect(b, NULL);
    assert_err(do_auth(b, 0x19, "x"), MQTT5_ERR_INVALID_STATE);
    assert_err(do_auth(b, 0x18, "x"), MQTT5_ERR_INVALID_STATE);
    sb_expect_no_packet(b);
    sb_free(b);

    b = new_auth_client();
    assert_err(do_auth(b, 0x18, "x"), MQTT5_ERR_INVALID_STATE); /* stopped */
    assert_err(do_auth(b, 0x19, "x"), MQTT5_ERR_INVALID_STATE);
    sb_on_open(b, SB_MANUAL);
    sb_start(b);
    assert_int_equal(mqtt5_client_core_state(sb_core(b)), MQTT5_CS_CONNECTING);
    assert_err(do_auth(b, 0x18, "x"), MQTT5_ERR_INVALID_STATE); /* no transport yet */
    assert_err(do_auth(b, 0x19, "x"), MQTT5_ERR_INVALID_STATE);
    sb_accept_open(b);
    sb_expect_hex(b, CONNECT_AUTH);
    assert_err(do_auth(b, 0x19, "x"), MQTT5_ERR_INVALID_STATE); /* re-auth needs CONNACK */
    sb_connack(b, 0x00, false, NULL);
    sb_expect_events(b, "ATTEMPTING_CONNECT; CONNECTION_SUCCESS");
    assert_err(do_auth(b, 0x18, "x"), MQTT5_ERR_INVALID_STATE); /* no exchange running */
    assert_err(do_auth(b, 0x19, "re1"), MQTT5_OK);
    sb_expect_hex(b, AUTH_REAUTH);
    assert_err(do_auth(b, 0x19, "re1"), MQTT5_ERR_INVALID_STATE); /* one at a time */
    sb_expect_no_packet(b);
    sb_stop(b, NULL);
    sb_expect_events(b, "DISCONNECTION MQTT5_ERR_STOPPED; STOPPED");
    assert_err(do_auth(b, 0x18, "x"), MQTT5_ERR_INVALID_STATE);
    assert_err(do_auth(b, 0x19, "x"), MQTT5_ERR_INVALID_STATE);
    sb_expect_no_packet(b);
    sb_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(method_requires_on_auth),
        cmocka_unit_test(connect_carries_method_and_data),
        cmocka_unit_test(auth_rounds_before_connack),
        cmocka_unit_test(reauthentication_while_connected),
        cmocka_unit_test(wrong_method_before_connack),
        cmocka_unit_test(wrong_method_during_reauthentication),
        cmocka_unit_test(unexpected_reason_codes_from_server),
        cmocka_unit_test(auth_without_configured_method),
        cmocka_unit_test(auth_in_wrong_state),
    };
    return cmocka_run_group_tests(tests, NULL, sb_group_teardown);
}
