/*
 * builder/builder_resolve.c - mqtt5_builder_options_init() and the resolver behind the three
 * public builders (builder_internal.h): defaults, port and ALPN rules, trust, AUTO extended
 * validation, the CONNECT template (connect_options win over keywords), the SDK metrics suffix on
 * the username, the mapping onto mqtt5_client_core_options, keyword validation, and the lifecycle
 * dispatch block. Pure apart from stat/fopen of the files it is given; allocates with malloc.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "builder/builder_internal.h"
#include "mqtt5/mqtt5.h"
#include "runtime/log_internal.h"

#define METRICS_SUFFIX "SDK=" MQTT5_SDK_METRICS_NAME "&Version=" MQTT5_VERSION_STRING
#define USERNAME_MAX 65535u
/* mqtt5_client_core_options.max_inbound_packet_size: the core refuses less than this */
#define MIN_INBOUND_PACKET_SIZE 64u

static const char *const alpn_iot_core[] = {MQTT5_BUILDER_ALPN_IOT_CORE};
static const char *const alpn_http11[] = {"http/1.1"};

void mqtt5_builder_options_init(mqtt5_builder_options *o)
{
    memset(o, 0, sizeof *o);
    o->socket_options.connect_timeout_ms = 10000;
    o->socket_options.tcp_nodelay = true;
    o->socket_options.tcp_keepalive_s = 0;
    o->keep_alive_interval_sec = 1200;
    o->session_expiry_interval_sec = -1;
    o->request_response_information = -1;
    o->request_problem_information = -1;
    o->receive_maximum = -1;
    o->maximum_packet_size = -1;
    o->will_delay_interval_sec = -1;
    o->session_behavior = MQTT5_SESSION_CLEAN;
    o->extended_validation_and_flow_control_options = MQTT5_EXT_VALIDATION_AUTO;
    o->offline_queue_behavior = MQTT5_OFFLINE_FAIL_QOS0_PUBLISH_ON_DISCONNECT;
    o->retry_jitter_mode = MQTT5_JITTER_FULL;
    o->min_reconnect_delay_ms = 1000;
    o->max_reconnect_delay_ms = 120000;
    o->min_connected_time_to_reset_reconnect_delay_ms = 30000;
    o->ping_timeout_ms = 30000;
    o->connack_timeout_ms = 20000;
    o->ack_timeout_sec = 60;
    o->topic_aliasing_options.outbound_behavior = MQTT5_ALIAS_OUT_DISABLED;
    o->topic_aliasing_options.outbound_cache_max_size = 25;
    o->topic_aliasing_options.inbound_behavior = MQTT5_ALIAS_IN_DISABLED;
    o->topic_aliasing_options.inbound_cache_max_size = 25;
    o->ack_coalescing = true;
    o->enable_metrics_collection = true;
}

static int fail(mqtt5_codec_status *st, int err, const char *field, const char *detail)
{
    if (st) *st = (mqtt5_codec_status){.error = err, .field = field, .detail = detail};
    return err;
}

/* ---- small helpers ------------------------------------------------------------------------- */

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool ends_with_ci(const char *s, size_t n, const char *suffix)
{
    size_t m = strlen(suffix);
    if (n < m) return false;
    for (size_t i = 0; i < m; i++)
        if (ascii_lower(s[n - m + i]) != suffix[i]) return false;
    return true;
}

bool mqtt5_builder_is_aws_endpoint(const char *endpoint)
{
    if (!endpoint) return false;
    size_t n = strlen(endpoint);
    return ends_with_ci(endpoint, n, ".amazonaws.com") ||
           ends_with_ci(endpoint, n, ".amazonaws.com.cn");
}

/* A path the TLS loader will be able to read: NULL/"" is INVALID_ARGUMENT, anything that is
 * not a readable regular file MQTT5_ERR_FILE. */
static int check_file(const char *path, const char *field, mqtt5_codec_status *st)
{
    if (!path || !*path) return fail(st, MQTT5_ERR_INVALID_ARGUMENT, field, "no path given");
    struct stat sb;
    const char *why = NULL;
    if (stat(path, &sb) != 0)
        why = "file not found";
    else if (!S_ISREG(sb.st_mode))
        why = "not a regular file";
    else {
        FILE *f = fopen(path, "rb");
        if (!f)
            why = "file cannot be opened for reading";
        else
            fclose(f);
    }
    if (!why) return MQTT5_OK;
    MQTT5_LOG(MQTT5_LOG_ERROR, MQTT5_LOG_BUILDER, "%s '%s': %s", field, path, why);
    return fail(st, MQTT5_ERR_FILE, field, why);
}

static int check_dir(const char *path, const char *field, mqtt5_codec_status *st)
{
    if (!*path) return fail(st, MQTT5_ERR_INVALID_ARGUMENT, field, "empty path");
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        MQTT5_LOG(MQTT5_LOG_ERROR, MQTT5_LOG_BUILDER, "%s '%s': not a directory", field, path);
        return fail(st, MQTT5_ERR_FILE, field, "not a directory");
    }
    return MQTT5_OK;
}

/* ---- keyword validation ------------------------------------------------------------------- */

static int check_i64_u32(int64_t v, const char *field, mqtt5_codec_status *st)
{
    if (v < -1 || v > (int64_t)UINT32_MAX)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, field,
                    "must be -1 (not sent) or 0..4294967295");
    return MQTT5_OK;
}

static int check_tristate(int8_t v, const char *field, mqtt5_codec_status *st)
{
    if (v < -1 || v > 1)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, field, "must be -1 (not sent), 0 or 1");
    return MQTT5_OK;
}

static int validate_keywords(const mqtt5_builder_options *o, mqtt5_codec_status *st)
{
    int rc;
    if (!o->endpoint || !*o->endpoint)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "endpoint", "required");
    if (!o->password && o->password_len)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "password", "NULL with a nonzero length");
    if (!o->user_properties && o->user_property_count)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "user_properties", "NULL with a nonzero count");
    if ((rc = check_i64_u32(o->session_expiry_interval_sec, "session_expiry_interval_sec", st)))
        return rc;
    if ((rc = check_i64_u32(o->will_delay_interval_sec, "will_delay_interval_sec", st))) return rc;
    if ((rc = check_tristate(o->request_response_information, "request_response_information", st)))
        return rc;
    if ((rc = check_tristate(o->request_problem_information, "request_problem_information", st)))
        return rc;
    if (o->receive_maximum != -1 && (o->receive_maximum < 1 || o->receive_maximum > 65535))
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "receive_maximum",
                    "must be -1 (the client's 100) or 1..65535");
    if (o->maximum_packet_size != -1 &&
        (o->maximum_packet_size < 1 || o->maximum_packet_size > MQTT5_MAX_PACKET_SIZE_LIMIT))
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "maximum_packet_size",
                    "must be -1 (the client's 131072) or 1..268435460");
    if (o->maximum_packet_size != -1 && o->maximum_packet_size < MIN_INBOUND_PACKET_SIZE)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "maximum_packet_size",
                    "the client needs at least 64 bytes");
    if (o->min_reconnect_delay_ms == 0)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "min_reconnect_delay_ms", "must be at least 1");
    if (o->min_reconnect_delay_ms > o->max_reconnect_delay_ms)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "min_reconnect_delay_ms",
                    "greater than max_reconnect_delay_ms");
    if (o->connack_timeout_ms == 0)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "connack_timeout_ms", "must not be 0");
    if (o->ack_timeout_sec > UINT32_MAX / 1000u)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "ack_timeout_sec", "too large");
    if ((unsigned)o->session_behavior > MQTT5_SESSION_REJOIN_ALWAYS)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "session_behavior", "unknown value");
    if ((unsigned)o->extended_validation_and_flow_control_options > MQTT5_EXT_VALIDATION_IOT_CORE)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "extended_validation_and_flow_control_options",
                    "unknown value");
    if ((unsigned)o->offline_queue_behavior > MQTT5_OFFLINE_FAIL_ALL_ON_DISCONNECT)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "offline_queue_behavior", "unknown value");
    if ((unsigned)o->retry_jitter_mode > MQTT5_JITTER_DECORRELATED)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "retry_jitter_mode", "unknown value");
    if ((unsigned)o->topic_aliasing_options.outbound_behavior > MQTT5_ALIAS_OUT_LRU)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "topic_aliasing_options.outbound_behavior",
                    "unknown value");
    if ((unsigned)o->topic_aliasing_options.inbound_behavior > MQTT5_ALIAS_IN_ENABLED)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "topic_aliasing_options.inbound_behavior",
                    "unknown value");
    return MQTT5_OK;
}

/* ---- TLS ------------------------------------------------------------------------------------ */

/* mtls_with_pkcs11's keywords onto the TLS options: the module and certificate must exist; the
 * token, PIN and key are checked when the TLS context loads (errors name the same keywords). */
static int resolve_pkcs11(const mqtt5_builder_pkcs11_options *p, mqtt5_builder_resolved *r,
                          mqtt5_codec_status *st)
{
    int rc;
    if (!p) return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "pkcs11_options", "required");
    if (!p->pkcs11_lib || !*p->pkcs11_lib)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "pkcs11_lib",
                    "the PKCS#11 module path is required");
    if (strchr(p->pkcs11_lib, '/') && (rc = check_file(p->pkcs11_lib, "pkcs11_lib", st))) return rc;
    if (p->token_label && !*p->token_label)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "token_label", "empty");
    if (p->private_key_label && !*p->private_key_label)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "private_key_label", "empty");
    if (p->cert_filepath && (p->cert_bytes || p->cert_len))
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "cert_filepath",
                    "give cert_filepath or cert_bytes, not both");
    if (p->cert_filepath) {
        if ((rc = check_file(p->cert_filepath, "cert_filepath", st))) return rc;
        r->tls.cert_file = p->cert_filepath;
    } else if (p->cert_bytes && p->cert_len) {
        r->tls.cert_bytes = p->cert_bytes;
        r->tls.cert_len = p->cert_len;
    } else {
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "cert_filepath",
                    "the certificate of the token's key is required (cert_filepath or "
                    "cert_bytes)");
    }
    r->pkcs11 = (mqtt5_tls_pkcs11_options){
        .lib_path = p->pkcs11_lib,
        .user_pin = p->user_pin,
        .has_slot_id = p->has_slot_id,
        .slot_id = p->slot_id,
        .token_label = p->token_label,
        .key_label = p->private_key_label,
    };
    r->tls.pkcs11 = &r->pkcs11;
    return MQTT5_OK;
}

static int resolve_tls(const mqtt5_builder_options *o, const mqtt5_builder_tls_input *in,
                       mqtt5_builder_resolved *r, mqtt5_codec_status *st)
{
    int rc;
    bool mtls = false;
    mqtt5_tls_options *t = &r->tls;
    mqtt5_tls_options_init(t);
    t->verify_peer = true;

    switch (in->mode) {
    case MQTT5_BUILDER_PLAIN:
        r->client.tls = NULL;
        return MQTT5_OK;
    case MQTT5_BUILDER_MTLS_FROM_PATH:
        if ((rc = check_file(in->cert_filepath, "cert_filepath", st))) return rc;
        if ((rc = check_file(in->pri_key_filepath, "pri_key_filepath", st))) return rc;
        t->cert_file = in->cert_filepath;
        t->key_file = in->pri_key_filepath;
        mtls = true;
        break;
    case MQTT5_BUILDER_MTLS_FROM_BYTES:
        if (!in->cert_bytes || !in->cert_len)
            return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "cert_bytes", "no certificate given");
        if (!in->pri_key_bytes || !in->pri_key_len)
            return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "pri_key_bytes", "no private key given");
        t->cert_bytes = in->cert_bytes;
        t->cert_len = in->cert_len;
        t->key_bytes = in->pri_key_bytes;
        t->key_len = in->pri_key_len;
        mtls = true;
        break;
    case MQTT5_BUILDER_MTLS_PKCS12:
        if ((rc = check_file(in->pkcs12_filepath, "pkcs12_filepath", st))) return rc;
        t->pkcs12_file = in->pkcs12_filepath;
        t->pkcs12_password = in->pkcs12_password;
        mtls = true;
        break;
    case MQTT5_BUILDER_MTLS_PKCS11:
        if ((rc = resolve_pkcs11(in->pkcs11, r, st))) return rc;
        mtls = true;
        break;
    case MQTT5_BUILDER_DEFAULT_TLS:
        break;
    default:
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "tls", "unknown TLS mode");
    }

    /* trust: ca_bytes, or ca_filepath and/or ca_dirpath, or the system store */
    if (o->ca_bytes || o->ca_bytes_len) {
        if (!o->ca_bytes || !o->ca_bytes_len)
            return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "ca_bytes", "pointer and length disagree");
        if (o->ca_filepath || o->ca_dirpath)
            return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "ca_bytes",
                        "give ca_bytes or ca_filepath/ca_dirpath, not both");
        t->ca_bytes = o->ca_bytes;
        t->ca_len = o->ca_bytes_len;
    }
    if (o->ca_filepath) {
        if ((rc = check_file(o->ca_filepath, "ca_filepath", st))) return rc;
        t->ca_file = o->ca_filepath;
    }
    if (o->ca_dirpath) {
        if ((rc = check_dir(o->ca_dirpath, "ca_dirpath", st))) return rc;
        t->ca_dir = o->ca_dirpath;
    }

    /* ALPN: an explicit list wins; else 443 with mutual TLS offers x-amzn-mqtt-ca */
    if (o->alpn_list || o->alpn_count) {
        if (!o->alpn_list || !o->alpn_count)
            return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "alpn_list",
                        "list and alpn_count disagree");
        for (size_t i = 0; i < o->alpn_count; i++) {
            size_t n = o->alpn_list[i] ? strlen(o->alpn_list[i]) : 0;
            if (n < 1 || n > 255)
                return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "alpn_list",
                            "each protocol name needs 1..255 bytes");
        }
        t->alpn = o->alpn_list;
        t->alpn_count = o->alpn_count;
    } else if (in->websocket) {
        t->alpn = alpn_http11;
        t->alpn_count = 1;
    } else if (mtls && r->client.port == 443) {
        t->alpn = alpn_iot_core;
        t->alpn_count = 1;
    }
    r->client.tls = t;
    return MQTT5_OK;
}

/* ---- CONNECT -------------------------------------------------------------------------------- */

/* Append "?SDK=..." or "&SDK=..." to the template's username (creating one if there is none),
 * unless the result would exceed 65535 bytes. */
static int append_metrics(mqtt5_builder_resolved *r, mqtt5_connect *c)
{
    static const char suffix[] = METRICS_SUFFIX;
    const size_t add = 1 + (sizeof suffix - 1);
    const char *u = c->has_username ? c->username.ptr : NULL;
    size_t ulen = c->has_username && u ? c->username.len : 0;
    if (ulen > USERNAME_MAX - add) return MQTT5_OK; /* would exceed the limit: leave it */
    char *buf = malloc(ulen + add + 1);
    if (!buf) return MQTT5_ERR_NOMEM;
    if (ulen) memcpy(buf, u, ulen);
    buf[ulen] = ulen && memchr(u, '?', ulen) ? '&' : '?';
    memcpy(buf + ulen + 1, suffix, sizeof suffix); /* with the NUL */
    r->username = buf;
    c->has_username = true;
    c->username = (mqtt5_str){buf, ulen + add};
    return MQTT5_OK;
}

/* Build the CONNECT template: connect_options as the base, keywords for what it leaves unset.
 * The properties the core owns (receive maximum, maximum packet size, topic alias maximum) move
 * from connect_options into the core options. */
static int resolve_connect(const mqtt5_builder_options *o, mqtt5_builder_resolved *r,
                           mqtt5_codec_status *st)
{
    mqtt5_client_core_options *core = &r->client.core;
    mqtt5_connect *c = &core->connect;
    const mqtt5_connect *co = o->connect_options;
    bool keep_alive_from_co = false;

    memset(c, 0, sizeof *c);
    if (co) {
        *c = *co;
        keep_alive_from_co = co->keep_alive != 0;
    }
    c->clean_start = true; /* owned by the core (session_behavior) */
    mqtt5_properties *p = &c->properties;

    if (!co || !co->client_id.ptr)
        c->client_id =
            o->client_id ? (mqtt5_str){o->client_id, strlen(o->client_id)} : (mqtt5_str){"", 0};
    if (!keep_alive_from_co) c->keep_alive = o->keep_alive_interval_sec;
    if (!c->has_username && o->username) {
        c->has_username = true;
        c->username = (mqtt5_str){o->username, strlen(o->username)};
    }
    if (!c->has_password && o->password) {
        c->has_password = true;
        c->password = (mqtt5_bytes){o->password, o->password_len};
    }
    if (!c->has_will && o->will) {
        c->has_will = true;
        c->will = *o->will;
    }
    if (c->has_will && o->will_delay_interval_sec >= 0 &&
        !MQTT5_PROPS_HAS(&c->will.properties, MQTT5_PROP_WILL_DELAY_INTERVAL)) {
        c->will.properties.will_delay_interval = (uint32_t)o->will_delay_interval_sec;
        MQTT5_PROPS_SET(&c->will.properties, MQTT5_PROP_WILL_DELAY_INTERVAL);
    }
    if (o->session_expiry_interval_sec >= 0 &&
        !MQTT5_PROPS_HAS(p, MQTT5_PROP_SESSION_EXPIRY_INTERVAL)) {
        p->session_expiry_interval = (uint32_t)o->session_expiry_interval_sec;
        MQTT5_PROPS_SET(p, MQTT5_PROP_SESSION_EXPIRY_INTERVAL);
    }
    if (o->request_response_information >= 0 &&
        !MQTT5_PROPS_HAS(p, MQTT5_PROP_REQUEST_RESPONSE_INFORMATION)) {
        p->request_response_information = (uint8_t)o->request_response_information;
        MQTT5_PROPS_SET(p, MQTT5_PROP_REQUEST_RESPONSE_INFORMATION);
    }
    if (o->request_problem_information >= 0 &&
        !MQTT5_PROPS_HAS(p, MQTT5_PROP_REQUEST_PROBLEM_INFORMATION)) {
        p->request_problem_information = (uint8_t)o->request_problem_information;
        MQTT5_PROPS_SET(p, MQTT5_PROP_REQUEST_PROBLEM_INFORMATION);
    }
    if (!p->user_property_count && o->user_property_count) {
        p->user_properties = o->user_properties;
        p->user_property_count = o->user_property_count;
    }

    /* receive maximum and maximum packet size: keyword, overridden by connect_options */
    if (o->receive_maximum != -1) core->receive_maximum = (uint16_t)o->receive_maximum;
    if (o->maximum_packet_size != -1)
        core->max_inbound_packet_size = (uint32_t)o->maximum_packet_size;
    if (MQTT5_PROPS_HAS(p, MQTT5_PROP_RECEIVE_MAXIMUM)) {
        if (p->receive_maximum == 0)
            return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "connect_options.properties.receiveMaximum",
                        "must be 1..65535");
        core->receive_maximum = p->receive_maximum;
    }
    if (MQTT5_PROPS_HAS(p, MQTT5_PROP_MAXIMUM_PACKET_SIZE)) {
        if (p->maximum_packet_size < MIN_INBOUND_PACKET_SIZE)
            return fail(st, MQTT5_ERR_INVALID_ARGUMENT,
                        "connect_options.properties.maximumPacketSize",
                        "the client needs at least 64 bytes");
        /* no packet can be larger than the protocol limit: a bigger value means the same */
        core->max_inbound_packet_size = p->maximum_packet_size > MQTT5_MAX_PACKET_SIZE_LIMIT
                                            ? MQTT5_MAX_PACKET_SIZE_LIMIT
                                            : p->maximum_packet_size;
    }
    if (MQTT5_PROPS_HAS(p, MQTT5_PROP_TOPIC_ALIAS_MAXIMUM)) {
        core->alias_in = p->topic_alias_maximum ? MQTT5_ALIAS_IN_ENABLED : MQTT5_ALIAS_IN_DISABLED;
        if (p->topic_alias_maximum) core->alias_in_max = p->topic_alias_maximum;
    }
    p->present &= ~(MQTT5_PROP_BIT(MQTT5_PROP_RECEIVE_MAXIMUM) |
                    MQTT5_PROP_BIT(MQTT5_PROP_MAXIMUM_PACKET_SIZE) |
                    MQTT5_PROP_BIT(MQTT5_PROP_TOPIC_ALIAS_MAXIMUM));

    /* keep-alive must leave room for the ping timeout */
    if (c->keep_alive && o->ping_timeout_ms &&
        (uint64_t)c->keep_alive * 1000u <= (uint64_t)o->ping_timeout_ms)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT,
                    keep_alive_from_co ? "connect_options.keep_alive" : "keep_alive_interval_sec",
                    "must be greater than ping_timeout_ms / 1000");

    if (o->enable_metrics_collection && append_metrics(r, c))
        return fail(st, MQTT5_ERR_NOMEM, "username", NULL);
    return MQTT5_OK;
}

/* ---- callbacks ------------------------------------------------------------------------------ */

static void dispatch_lifecycle(void *user, const mqtt5_lifecycle_event *ev, const char *detail)
{
    const mqtt5_builder_dispatch *d = user;
    mqtt5_lifecycle_fn fn = NULL;
    switch (ev->type) {
    case MQTT5_LC_STOPPED:
        fn = d->on_stopped;
        break;
    case MQTT5_LC_ATTEMPTING_CONNECT:
        fn = d->on_attempting_connect;
        break;
    case MQTT5_LC_CONNECTION_SUCCESS:
        fn = d->on_connection_success;
        break;
    case MQTT5_LC_CONNECTION_FAILURE:
        fn = d->on_connection_failure;
        break;
    case MQTT5_LC_DISCONNECTION:
        fn = d->on_disconnection;
        break;
    }
    if (fn) fn(d->user_data, ev, detail);
}

static void dispatch_publish(void *user, const mqtt5_inbound_publish *msg)
{
    const mqtt5_builder_dispatch *d = user;
    d->on_publish_received(d->user_data, msg);
}

void mqtt5_builder_dispatch_free(void *dispatch)
{
    free(dispatch);
}

static int resolve_callbacks(const mqtt5_builder_options *o, mqtt5_builder_resolved *r)
{
    mqtt5_client_options *c = &r->client;
    if (!o->on_lifecycle_stopped && !o->on_lifecycle_attempting_connect &&
        !o->on_lifecycle_connection_success && !o->on_lifecycle_connection_failure &&
        !o->on_lifecycle_disconnection) {
        c->user = o->user_data;
        c->on_lifecycle = NULL;
        c->on_publish = o->on_publish_received;
        return MQTT5_OK;
    }
    mqtt5_builder_dispatch *d = malloc(sizeof *d);
    if (!d) return MQTT5_ERR_NOMEM;
    *d = (mqtt5_builder_dispatch){
        .user_data = o->user_data,
        .on_publish_received = o->on_publish_received,
        .on_stopped = o->on_lifecycle_stopped,
        .on_attempting_connect = o->on_lifecycle_attempting_connect,
        .on_connection_success = o->on_lifecycle_connection_success,
        .on_connection_failure = o->on_lifecycle_connection_failure,
        .on_disconnection = o->on_lifecycle_disconnection,
    };
    r->dispatch = d;
    c->user = d;
    c->on_lifecycle = dispatch_lifecycle;
    c->on_publish = o->on_publish_received ? dispatch_publish : NULL;
    return MQTT5_OK;
}

/* ---- the resolver --------------------------------------------------------------------------- */

static int resolve_into(const mqtt5_builder_options *o, const mqtt5_builder_tls_input *tin,
                        mqtt5_builder_resolved *r, mqtt5_codec_status *st)
{
    int rc;
    if ((rc = validate_keywords(o, st))) return rc;

    mqtt5_client_options *c = &r->client;
    mqtt5_client_options_init(c);
    c->group = o->client_bootstrap;
    c->host = o->endpoint;
    if (tin->websocket)
        c->port = o->port ? o->port : tin->mode == MQTT5_BUILDER_PLAIN ? 80 : 443;
    else
        c->port = o->port ? o->port : tin->mode == MQTT5_BUILDER_PLAIN ? 1883 : 8883;
    c->websocket = tin->websocket;
    c->socket = o->socket_options;
    c->http_proxy = o->http_proxy_options;
    c->socks5_proxy = o->socks5_proxy_options;

    if ((rc = resolve_tls(o, tin, r, st))) return rc;

    mqtt5_client_core_options *core = &c->core;
    mqtt5_client_core_options_init(core);
    core->session_behavior = o->session_behavior;
    core->offline_policy = o->offline_queue_behavior;
    core->jitter = o->retry_jitter_mode;
    core->reconnect_min_ms = o->min_reconnect_delay_ms;
    core->reconnect_max_ms = o->max_reconnect_delay_ms;
    core->reconnect_reset_after_ms = o->min_connected_time_to_reset_reconnect_delay_ms;
    core->ping_timeout_ms = o->ping_timeout_ms;
    core->connack_timeout_ms = o->connack_timeout_ms;
    core->ack_timeout_ms = o->ack_timeout_sec * 1000u;
    core->ack_coalescing = o->ack_coalescing;
    core->alias_out = o->topic_aliasing_options.outbound_behavior;
    core->alias_out_cache = o->topic_aliasing_options.outbound_cache_max_size;
    core->alias_in = o->topic_aliasing_options.inbound_behavior;
    core->alias_in_max = o->topic_aliasing_options.inbound_cache_max_size;
    switch (o->extended_validation_and_flow_control_options) {
    case MQTT5_EXT_VALIDATION_NONE:
        core->iot_core = false;
        break;
    case MQTT5_EXT_VALIDATION_IOT_CORE:
        core->iot_core = true;
        break;
    default:
        core->iot_core = mqtt5_builder_is_aws_endpoint(o->endpoint);
        break;
    }

    if ((rc = resolve_connect(o, r, st))) return rc;
    if (resolve_callbacks(o, r)) return fail(st, MQTT5_ERR_NOMEM, NULL, "builder callbacks");
    return MQTT5_OK;
}

int mqtt5_builder_resolve(const mqtt5_builder_options *o, const mqtt5_builder_tls_input *tls,
                          mqtt5_builder_resolved **out, mqtt5_codec_status *status)
{
    if (status) *status = (mqtt5_codec_status){0};
    if (!out) return fail(status, MQTT5_ERR_INVALID_ARGUMENT, "out", NULL);
    *out = NULL;
    if (!o) return fail(status, MQTT5_ERR_INVALID_ARGUMENT, "options", NULL);
    if (!tls) return fail(status, MQTT5_ERR_INVALID_ARGUMENT, "tls", NULL);
    mqtt5_builder_resolved *r = calloc(1, sizeof *r);
    if (!r) return fail(status, MQTT5_ERR_NOMEM, NULL, "builder");
    int rc = resolve_into(o, tls, r, status);
    if (rc) {
        mqtt5_builder_resolved_free(r);
        return rc;
    }
    *out = r;
    return MQTT5_OK;
}

void mqtt5_builder_resolved_free(mqtt5_builder_resolved *r)
{
    if (!r) return;
    free(r->username);
    free(r->dispatch);
    free(r);
}
