/*
 * samples/mqtt5_pubsub.c - the MQTT5 PubSub sample of the AWS IoT Device SDK (mqtt5_pubsub.py),
 * in C on this SDK: connect with mutual TLS (or over WebSockets, SigV4-signed with AWS
 * credentials), subscribe to a topic, publish N QoS 1 messages to it, receive them back,
 * unsubscribe, stop. See docs/design/runtime-tls.md §5.
 *
 *   mqtt5_pubsub --endpoint <host> [--cert <path> --key <path>] [--ca_file <path>] [--port <n>]
 *                [--pkcs11_lib <path> --cert <path> [--pin <pin>] [--token_label <label>]
 *                 [--slot_id <n>] [--key_label <label>]]
 *                [--pkcs12_file <path> [--pkcs12_password <password>]]
 *                [--client_id <id>] [--topic <t>] [--message <m>] [--count <n>]
 *                [--use_websockets] [--signing_region <region>
 *                [--cognito_identity <id> --cognito_endpoint <endpoint>]]
 *                [--custom_auth_username <u>] [--custom_auth_authorizer_name <name>]
 *                [--custom_auth_authorizer_signature <sig>] [--custom_auth_password <p>]
 *                [--custom_auth_token_key_name <key> --custom_auth_token_value <value>]
 *                [--proxy_host <h>] [--proxy_port <n>] [--proxy_username <u>]
 *                [--proxy_password <p>] [--proxy_tls] [--proxy_ca_file <path>]
 *                [--socks5_host <h>] [--socks5_port <n>] [--socks5_username <u>]
 *                [--socks5_password <p>] [--verbosity <level>]
 *
 * Connections (the seed README's "Connection Types"):
 *   - default: TLS to port 8883, mutual TLS with --cert/--key (mqtt5_builder_mtls_from_path),
 *     server-authenticated only without them (mqtt5_builder_new_default);
 *   - --pkcs11_lib with --cert: mutual TLS with the private key on a PKCS#11 token
 *     (mqtt5_builder_mtls_with_pkcs11), chosen by --token_label and/or --slot_id and --key_label,
 *     logged in with --pin; --pkcs12_file: mutual TLS with the certificate and key of a PKCS#12
 *     file (mqtt5_builder_mtls_with_pkcs12) opened with --pkcs12_password; neither with --key,
 *     each other, --signing_region, --custom_auth_* or --use_websockets;
 *   - --signing_region: MQTT over WebSockets to port 443, the upgrade presigned with SigV4
 *     (mqtt5_builder_websockets_with_default_aws_signing) with credentials from the default chain
 *     (environment, profile, web identity, ECS or IMDS), fetched on every connection attempt;
 *     --use_websockets is implied, --cert/--key are refused;
 *   - --signing_region with --cognito_identity and --cognito_endpoint: the same with credentials
 *     from Amazon Cognito (mqtt5_credentials_provider_new_cognito) on an event-loop group the
 *     sample creates and shares with the client (client_bootstrap); both are released at the end;
 *   - --custom_auth_*: an AWS IoT custom authorizer (mqtt5_builder_direct_with_custom_authorizer):
 *     server-authenticated TLS to port 443 with ALPN "mqtt", the username built from the base
 *     username, authorizer name, signature and token, and the password; with --use_websockets
 *     the same over wss:// (mqtt5_builder_websockets_with_custom_authorizer); not with --cert,
 *     --key or --signing_region;
 *   - --use_websockets alone: MQTT over WebSockets over TLS (wss://, port 443, ALPN http/1.1)
 *     without signing, built with mqtt5_client_new and mqtt5_client_options.websocket (the
 *     builders have no unsigned WebSocket form); --cert/--key/--ca_file mean what they mean
 *     above.
 *
 * Proxies, for every connection type: --proxy_host/--proxy_port (default 8080) connect through
 * an HTTP proxy with CONNECT, with Basic authentication given --proxy_username/--proxy_password,
 * and TLS to the proxy with --proxy_tls (its certificate checked against --proxy_ca_file, else
 * the system store); --socks5_host/--socks5_port (default 1080, our extension) through a SOCKS5
 * proxy, with --socks5_username/--socks5_password. Not both kinds. With --signing_region the
 * default credentials chain's HTTP calls use the same proxy. A proxy refusing the tunnel fails
 * the first connection (exit 1, MQTT5_ERR_PROXY with the proxy's answer).
 *
 * Output: the Python sample's lines, with its enum reprs (<PubackReasonCode.SUCCESS: 0>) and
 * bytes repr (b'...'). Two fixes to the seed: each payload is "<message> [i]", and the client id
 * printed is the one in use. After a reconnect whose session was not resumed the sample
 * resubscribes and republishes every index sent but not yet received; received messages are
 * tracked in a bitmap by that index, so duplicates count once.
 *
 * Exit status: 0 success; 1 the first connection attempt failed (no retries: fail fast; for
 * SigV4 also when no credentials could be found or they were refused), a wait timed out, an
 * acknowledgement carried a failure reason, or messages are missing; 2 usage error (argparse
 * style; also --cognito_* without --signing_region or without each other, --signing_region
 * with --cert/--key, --custom_auth_* with --cert/--key/--signing_region, an empty custom
 * authorizer name/signature/token key/token value, a token key without a value or the
 * reverse); 130 a second SIGINT (the first one ends publishing).
 *
 * Threads: main() blocks on futures and on one condition variable; the client's callbacks run
 * on its event-loop thread; a small thread takes SIGINT with sigwait(). Every line of stdout
 * (and stderr) is written under one mutex, line-buffered.
 *
 * What it must not do: call a blocking wait (mqtt5_future_wait) from a callback, or print a
 * partial line without the output mutex.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mqtt5/mqtt5.h"

#define TIMEOUT_MS 100000u /* the seed's TIMEOUT = 100 (seconds) for every wait */
#define PAUSE_MS 1000u     /* the seed's time.sleep(1) after each publish */
#define MAX_INDEX ((size_t)1 << 30)

/* ============================================================================================
 * Output: one mutex for stdout and stderr, whole lines only
 * ========================================================================================== */

static pthread_mutex_t g_out_mu = PTHREAD_MUTEX_INITIALIZER;

static void vline(FILE *f, const char *fmt, va_list ap)
{
    pthread_mutex_lock(&g_out_mu);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    fflush(f);
    pthread_mutex_unlock(&g_out_mu);
}

/* One line on stdout. */
__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(stdout, fmt, ap);
    va_end(ap);
}

/* One line on stderr. */
__attribute__((format(printf, 1, 2))) static void complain(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(stderr, fmt, ap);
    va_end(ap);
}

/* ============================================================================================
 * Python reprs: reason-code enums of awscrt.mqtt5, bytes, error descriptions
 * ========================================================================================== */

typedef struct rc_name {
    uint8_t value;
    const char *name;
} rc_name;

static const rc_name k_connect_rc[] = {
    {0, "SUCCESS"},
    {128, "UNSPECIFIED_ERROR"},
    {129, "MALFORMED_PACKET"},
    {130, "PROTOCOL_ERROR"},
    {131, "IMPLEMENTATION_SPECIFIC_ERROR"},
    {132, "UNSUPPORTED_PROTOCOL_VERSION"},
    {133, "CLIENT_IDENTIFIER_NOT_VALID"},
    {134, "BAD_USERNAME_OR_PASSWORD"},
    {135, "NOT_AUTHORIZED"},
    {136, "SERVER_UNAVAILABLE"},
    {137, "SERVER_BUSY"},
    {138, "BANNED"},
    {140, "BAD_AUTHENTICATION_METHOD"},
    {144, "TOPIC_NAME_INVALID"},
    {149, "PACKET_TOO_LARGE"},
    {151, "QUOTA_EXCEEDED"},
    {153, "PAYLOAD_FORMAT_INVALID"},
    {154, "RETAIN_NOT_SUPPORTED"},
    {155, "QOS_NOT_SUPPORTED"},
    {156, "USE_ANOTHER_SERVER"},
    {157, "SERVER_MOVED"},
    {159, "CONNECTION_RATE_EXCEEDED"},
};

static const rc_name k_suback_rc[] = {
    {0, "GRANTED_QOS_0"},
    {1, "GRANTED_QOS_1"},
    {2, "GRANTED_QOS_2"},
    {128, "UNSPECIFIED_ERROR"},
    {131, "IMPLEMENTATION_SPECIFIC_ERROR"},
    {135, "NOT_AUTHORIZED"},
    {143, "TOPIC_FILTER_INVALID"},
    {145, "PACKET_IDENTIFIER_IN_USE"},
    {151, "QUOTA_EXCEEDED"},
    {158, "SHARED_SUBSCRIPTIONS_NOT_SUPPORTED"},
    {161, "SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED"},
    {162, "WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED"},
};

static const rc_name k_puback_rc[] = {
    {0, "SUCCESS"},
    {16, "NO_MATCHING_SUBSCRIBERS"},
    {128, "UNSPECIFIED_ERROR"},
    {131, "IMPLEMENTATION_SPECIFIC_ERROR"},
    {135, "NOT_AUTHORIZED"},
    {144, "TOPIC_NAME_INVALID"},
    {145, "PACKET_IDENTIFIER_IN_USE"},
    {151, "QUOTA_EXCEEDED"},
    {153, "PAYLOAD_FORMAT_INVALID"},
};

static const rc_name k_unsuback_rc[] = {
    {0, "SUCCESS"},
    {17, "NO_SUBSCRIPTION_EXISTED"},
    {128, "UNSPECIFIED_ERROR"},
    {131, "IMPLEMENTATION_SPECIFIC_ERROR"},
    {135, "NOT_AUTHORIZED"},
    {143, "TOPIC_FILTER_INVALID"},
    {145, "PACKET_IDENTIFIER_IN_USE"},
};

static const rc_name k_disconnect_rc[] = {
    {0, "NORMAL_DISCONNECTION"},
    {4, "DISCONNECT_WITH_WILL_MESSAGE"},
    {128, "UNSPECIFIED_ERROR"},
    {129, "MALFORMED_PACKET"},
    {130, "PROTOCOL_ERROR"},
    {131, "IMPLEMENTATION_SPECIFIC_ERROR"},
    {135, "NOT_AUTHORIZED"},
    {137, "SERVER_BUSY"},
    {139, "SERVER_SHUTTING_DOWN"},
    {141, "KEEP_ALIVE_TIMEOUT"},
    {142, "SESSION_TAKEN_OVER"},
    {143, "TOPIC_FILTER_INVALID"},
    {144, "TOPIC_NAME_INVALID"},
    {147, "RECEIVE_MAXIMUM_EXCEEDED"},
    {148, "TOPIC_ALIAS_INVALID"},
    {149, "PACKET_TOO_LARGE"},
    {150, "MESSAGE_RATE_TOO_HIGH"},
    {151, "QUOTA_EXCEEDED"},
    {152, "ADMINISTRATIVE_ACTION"},
    {153, "PAYLOAD_FORMAT_INVALID"},
    {154, "RETAIN_NOT_SUPPORTED"},
    {155, "QOS_NOT_SUPPORTED"},
    {156, "USE_ANOTHER_SERVER"},
    {157, "SERVER_MOVED"},
    {158, "SHARED_SUBSCRIPTIONS_NOT_SUPPORTED"},
    {159, "CONNECTION_RATE_EXCEEDED"},
    {160, "MAXIMUM_CONNECT_TIME"},
    {161, "SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED"},
    {162, "WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED"},
};

#define RC_TABLE(enum_name, table) enum_name, table, sizeof table / sizeof *table
#define REPR_MAX 80

/* "<SubackReasonCode.GRANTED_QOS_1: 1>"; a value outside the enum prints as its number. */
static const char *enum_repr(char out[REPR_MAX], const char *enum_name, const rc_name *t, size_t n,
                             uint8_t value)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i].value == value) {
            snprintf(out, REPR_MAX, "<%s.%s: %u>", enum_name, t[i].name, (unsigned)value);
            return out;
        }
    }
    snprintf(out, REPR_MAX, "%u", (unsigned)value);
    return out;
}

/* "[<SubackReasonCode.GRANTED_QOS_1: 1>]" for a SUBACK or UNSUBACK; malloc'd. */
static char *reason_list_repr(const mqtt5_packet *ack, const char *enum_name, const rc_name *t,
                              size_t n)
{
    size_t count = ack ? ack->u.suback.reason_code_count : 0;
    char *s = malloc(2 + count * (REPR_MAX + 2) + 1);
    if (!s) return NULL;
    size_t len = 0;
    s[len++] = '[';
    for (size_t i = 0; i < count; i++) {
        char one[REPR_MAX];
        if (i) {
            memcpy(s + len, ", ", 2);
            len += 2;
        }
        enum_repr(one, enum_name, t, n, ack->u.suback.reason_codes[i]);
        size_t l = strlen(one);
        memcpy(s + len, one, l);
        len += l;
    }
    s[len++] = ']';
    s[len] = '\0';
    return s;
}

/* Python's repr() of a bytes object: b'...' (b"..." when it holds ' but no "); malloc'd. */
static char *bytes_repr(const uint8_t *p, size_t n)
{
    bool has_sq = memchr(p, '\'', n) != NULL, has_dq = memchr(p, '"', n) != NULL;
    char quote = (has_sq && !has_dq) ? '"' : '\'';
    char *s = malloc(4 * n + 4);
    if (!s) return NULL;
    size_t len = 0;
    s[len++] = 'b';
    s[len++] = quote;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == (uint8_t)quote || c == '\\') {
            s[len++] = '\\';
            s[len++] = (char)c;
        } else if (c == '\t') {
            s[len++] = '\\';
            s[len++] = 't';
        } else if (c == '\n') {
            s[len++] = '\\';
            s[len++] = 'n';
        } else if (c == '\r') {
            s[len++] = '\\';
            s[len++] = 'r';
        } else if (c < 0x20 || c >= 0x7f) {
            len += (size_t)snprintf(s + len, 5, "\\x%02x", c);
        } else {
            s[len++] = (char)c;
        }
    }
    s[len++] = quote;
    s[len] = '\0';
    return s;
}

/* "MQTT5_ERR_TLS_UNTRUSTED_CERT: server certificate is not trusted (detail)". */
static void describe_error(char *out, size_t cap, int error, const char *detail, const char *extra)
{
    const char *more = (detail && *detail) ? detail : extra;
    if (more && *more)
        snprintf(out, cap, "%s: %s (%s)", mqtt5_error_name(error), mqtt5_error_str(error), more);
    else
        snprintf(out, cap, "%s: %s", mqtt5_error_name(error), mqtt5_error_str(error));
}

/* "field: detail" of a failed call's status, or "". */
static void status_text(char *out, size_t cap, const mqtt5_codec_status *st)
{
    snprintf(out, cap, "%s%s%s", st->field ? st->field : "", st->field && st->detail ? ": " : "",
             st->detail ? st->detail : "");
}

/* ============================================================================================
 * Command line (argparse style: --opt value and --opt=value; errors exit 2)
 * ========================================================================================== */

enum {
    O_ENDPOINT,
    O_PORT,
    O_CERT,
    O_KEY,
    O_CA_FILE,
    O_PKCS11_LIB,
    O_PIN,
    O_TOKEN_LABEL,
    O_SLOT_ID,
    O_KEY_LABEL,
    O_PKCS12_FILE,
    O_PKCS12_PASSWORD,
    O_CLIENT_ID,
    O_TOPIC,
    O_MESSAGE,
    O_COUNT,
    O_USE_WEBSOCKETS,
    O_SIGNING_REGION,
    O_COGNITO_IDENTITY,
    O_COGNITO_ENDPOINT,
    O_CUSTOM_AUTH_USERNAME,
    O_CUSTOM_AUTH_AUTHORIZER_NAME,
    O_CUSTOM_AUTH_AUTHORIZER_SIGNATURE,
    O_CUSTOM_AUTH_PASSWORD,
    O_CUSTOM_AUTH_TOKEN_KEY_NAME,
    O_CUSTOM_AUTH_TOKEN_VALUE,
    O_PROXY_HOST,
    O_PROXY_PORT,
    O_PROXY_USERNAME,
    O_PROXY_PASSWORD,
    O_PROXY_TLS,
    O_PROXY_CA_FILE,
    O_SOCKS5_HOST,
    O_SOCKS5_PORT,
    O_SOCKS5_USERNAME,
    O_SOCKS5_PASSWORD,
    O_VERBOSITY,
    O_COUNT_OF_OPTIONS
};

/* metavar NULL: a flag that takes no value (argparse's store_true) */
static const struct {
    const char *name, *metavar, *help;
} k_options[O_COUNT_OF_OPTIONS] = {
    [O_ENDPOINT] = {"--endpoint", "ENDPOINT",
                    "The endpoint of the MQTT broker (a host name or an IP address)"},
    [O_PORT] = {"--port", "PORT",
                "Port to connect to (default: 8883; 443 with --use_websockets, "
                "--signing_region or --custom_auth_*)"},
    [O_CERT] = {"--cert", "CERT",
                "Path to the client certificate in PEM format (with --key; without both, "
                "server-authenticated TLS only)"},
    [O_KEY] = {"--key", "KEY", "Path to the client private key in PEM format"},
    [O_CA_FILE] = {"--ca_file", "CA_FILE",
                   "Path to a CA bundle to trust (default: the system trust store)"},
    [O_PKCS11_LIB] = {"--pkcs11_lib", "PKCS11_LIB",
                      "Path to a PKCS#11 module: mutual TLS with the private key on a token "
                      "(with --cert; not with --key)"},
    [O_PIN] = {"--pin", "PIN", "User PIN of the PKCS#11 token (default: no PIN login)"},
    [O_TOKEN_LABEL] = {"--token_label", "TOKEN_LABEL",
                       "Label of the PKCS#11 token (default: any token)"},
    [O_SLOT_ID] = {"--slot_id", "SLOT_ID", "Slot ID of the PKCS#11 token (default: any slot)"},
    [O_KEY_LABEL] = {"--key_label", "KEY_LABEL",
                     "Label of the private key on the PKCS#11 token (default: its only key)"},
    [O_PKCS12_FILE] = {"--pkcs12_file", "PKCS12_FILE",
                       "Path to a PKCS#12 file (.p12/.pfx) holding the client certificate and "
                       "key: mutual TLS (not with --cert/--key)"},
    [O_PKCS12_PASSWORD] = {"--pkcs12_password", "PKCS12_PASSWORD",
                           "Password of the PKCS#12 file (default: none)"},
    [O_CLIENT_ID] = {"--client_id", "CLIENT_ID",
                     "Client ID to use (default: mqtt5-sample-<8 random hex digits>)"},
    [O_TOPIC] = {"--topic", "TOPIC", "Topic to subscribe and publish to (default: test/topic)"},
    [O_MESSAGE] = {"--message", "MESSAGE",
                   "Message payload; \" [i]\" is appended (default: Hello from mqtt5 sample)"},
    [O_COUNT] = {"--count", "COUNT",
                 "Number of messages to publish, 0 = until interrupted (default: 5)"},
    [O_USE_WEBSOCKETS] = {"--use_websockets", NULL,
                          "Connect with MQTT over WebSockets over TLS (implied by "
                          "--signing_region; without it, no signing)"},
    [O_SIGNING_REGION] = {"--signing_region", "SIGNING_REGION",
                          "Connect over WebSockets with the upgrade signed with SigV4 for this "
                          "AWS region (e.g. us-east-1), with credentials from the default chain "
                          "(environment, profile, web identity, ECS, IMDS) or Cognito; not with "
                          "--cert/--key"},
    [O_COGNITO_IDENTITY] = {"--cognito_identity", "COGNITO_IDENTITY",
                            "Cognito identity ID whose credentials sign the connection (with "
                            "--cognito_endpoint and --signing_region)"},
    [O_COGNITO_ENDPOINT] = {"--cognito_endpoint", "COGNITO_ENDPOINT",
                            "Cognito endpoint, cognito-identity.<region>.amazonaws.com or a URL "
                            "(with --cognito_identity and --signing_region)"},
    [O_CUSTOM_AUTH_USERNAME] = {"--custom_auth_username", "CUSTOM_AUTH_USERNAME",
                                "Username for an AWS IoT custom authorizer (any --custom_auth_* "
                                "connects through one: TLS, port 443, ALPN mqtt; over WebSockets "
                                "with --use_websockets)"},
    [O_CUSTOM_AUTH_AUTHORIZER_NAME] = {"--custom_auth_authorizer_name",
                                       "CUSTOM_AUTH_AUTHORIZER_NAME",
                                       "Name of the custom authorizer to invoke"},
    [O_CUSTOM_AUTH_AUTHORIZER_SIGNATURE] = {"--custom_auth_authorizer_signature",
                                            "CUSTOM_AUTH_AUTHORIZER_SIGNATURE",
                                            "Signature of the token value (base64; URL-encoded "
                                            "by the SDK unless it holds '%')"},
    [O_CUSTOM_AUTH_PASSWORD] = {"--custom_auth_password", "CUSTOM_AUTH_PASSWORD",
                                "Password for the custom authorizer"},
    [O_CUSTOM_AUTH_TOKEN_KEY_NAME] = {"--custom_auth_token_key_name", "CUSTOM_AUTH_TOKEN_KEY_NAME",
                                      "Name of the username query parameter holding the token "
                                      "(with --custom_auth_token_value)"},
    [O_CUSTOM_AUTH_TOKEN_VALUE] = {"--custom_auth_token_value", "CUSTOM_AUTH_TOKEN_VALUE",
                                   "Token value for the custom authorizer (with "
                                   "--custom_auth_token_key_name)"},
    [O_PROXY_HOST] = {"--proxy_host", "PROXY_HOST",
                      "HTTP proxy host: connect through it with CONNECT"},
    [O_PROXY_PORT] = {"--proxy_port", "PROXY_PORT", "HTTP proxy port (default: 8080)"},
    [O_PROXY_USERNAME] = {"--proxy_username", "PROXY_USERNAME",
                          "HTTP proxy username (Basic authentication)"},
    [O_PROXY_PASSWORD] = {"--proxy_password", "PROXY_PASSWORD", "HTTP proxy password"},
    [O_PROXY_TLS] = {"--proxy_tls", NULL, "Use TLS to the HTTP proxy (an HTTPS proxy)"},
    [O_PROXY_CA_FILE] = {"--proxy_ca_file", "PROXY_CA_FILE",
                         "CA bundle to trust for the proxy's TLS certificate (with --proxy_tls; "
                         "default: the system trust store)"},
    [O_SOCKS5_HOST] = {"--socks5_host", "SOCKS5_HOST",
                       "SOCKS5 proxy host: connect through it (not with --proxy_host)"},
    [O_SOCKS5_PORT] = {"--socks5_port", "SOCKS5_PORT", "SOCKS5 proxy port (default: 1080)"},
    [O_SOCKS5_USERNAME] = {"--socks5_username", "SOCKS5_USERNAME",
                           "SOCKS5 proxy username (RFC 1929 authentication)"},
    [O_SOCKS5_PASSWORD] = {"--socks5_password", "SOCKS5_PASSWORD", "SOCKS5 proxy password"},
    [O_VERBOSITY] = {"--verbosity", "{Fatal,Error,Warn,Info,Debug,Trace,NoLogs}",
                     "Logging level to stderr (default: NoLogs, or $MQTT5_LOG_LEVEL)"},
};

typedef struct sample_opts {
    const char *endpoint, *cert, *key, *ca_file, *client_id, *topic, *message;
    const char *proxy_host;
    const char *signing_region;                      /* NULL: no SigV4 */
    const char *cognito_identity, *cognito_endpoint; /* both or neither; need signing_region */
    bool use_websockets;                             /* also true with signing_region */
    bool custom_auth;                                /* any --custom_auth_* given */
    mqtt5_custom_auth_options custom;                /* the --custom_auth_* values */
    bool pkcs11;                                     /* --pkcs11_lib given */
    mqtt5_builder_pkcs11_options p11;                /* --pkcs11_lib, --pin, ... and --cert */
    const char *pkcs12_file, *pkcs12_password;       /* --pkcs12_file: NULL = none */
    uint16_t port, proxy_port; /* port 0 = the builder's default (8883, WebSockets 443) */
    size_t count;              /* 0 = until SIGINT */
    mqtt5_log_level verbosity;
    char generated_id[32];
    /* --proxy_host / --socks5_host given, and the options made from --proxy_* / --socks5_* */
    bool has_http_proxy, has_socks5;
    mqtt5_http_proxy_options http_proxy;
    mqtt5_tls_options proxy_tls; /* --proxy_tls: TLS to the HTTP proxy */
    mqtt5_socks5_proxy_options socks5;
} sample_opts;

static const char *g_prog = "mqtt5_pubsub";

static void print_usage(FILE *f)
{
    size_t indent = strlen("usage: ") + strlen(g_prog) + 1;
    fprintf(f, "usage: %s [-h] --endpoint ENDPOINT [--port PORT] [--cert CERT] [--key KEY]\n",
            g_prog);
    fprintf(f, "%*s[--ca_file CA_FILE] [--client_id CLIENT_ID] [--topic TOPIC]\n", (int)indent, "");
    fprintf(f, "%*s[--pkcs11_lib PKCS11_LIB] [--pin PIN] [--token_label TOKEN_LABEL]\n",
            (int)indent, "");
    fprintf(f, "%*s[--slot_id SLOT_ID] [--key_label KEY_LABEL]\n", (int)indent, "");
    fprintf(f, "%*s[--pkcs12_file PKCS12_FILE] [--pkcs12_password PKCS12_PASSWORD]\n", (int)indent,
            "");
    fprintf(f, "%*s[--message MESSAGE] [--count COUNT] [--use_websockets]\n", (int)indent, "");
    fprintf(f, "%*s[--signing_region SIGNING_REGION]\n", (int)indent, "");
    fprintf(f, "%*s[--cognito_identity COGNITO_IDENTITY]\n", (int)indent, "");
    fprintf(f, "%*s[--cognito_endpoint COGNITO_ENDPOINT]\n", (int)indent, "");
    fprintf(f, "%*s[--custom_auth_username CUSTOM_AUTH_USERNAME]\n", (int)indent, "");
    fprintf(f, "%*s[--custom_auth_authorizer_name CUSTOM_AUTH_AUTHORIZER_NAME]\n", (int)indent, "");
    fprintf(f, "%*s[--custom_auth_authorizer_signature CUSTOM_AUTH_AUTHORIZER_SIGNATURE]\n",
            (int)indent, "");
    fprintf(f, "%*s[--custom_auth_password CUSTOM_AUTH_PASSWORD]\n", (int)indent, "");
    fprintf(f, "%*s[--custom_auth_token_key_name CUSTOM_AUTH_TOKEN_KEY_NAME]\n", (int)indent, "");
    fprintf(f, "%*s[--custom_auth_token_value CUSTOM_AUTH_TOKEN_VALUE]\n", (int)indent, "");
    fprintf(f, "%*s[--proxy_host PROXY_HOST]\n", (int)indent, "");
    fprintf(f, "%*s[--proxy_port PROXY_PORT] [--proxy_username PROXY_USERNAME]\n", (int)indent, "");
    fprintf(f, "%*s[--proxy_password PROXY_PASSWORD] [--proxy_tls]\n", (int)indent, "");
    fprintf(f, "%*s[--proxy_ca_file PROXY_CA_FILE] [--socks5_host SOCKS5_HOST]\n", (int)indent, "");
    fprintf(f, "%*s[--socks5_port SOCKS5_PORT] [--socks5_username SOCKS5_USERNAME]\n", (int)indent,
            "");
    fprintf(f, "%*s[--socks5_password SOCKS5_PASSWORD]\n", (int)indent, "");
    fprintf(f, "%*s[--verbosity {Fatal,Error,Warn,Info,Debug,Trace,NoLogs}]\n", (int)indent, "");
}

/* One option of --help: header in column 2, help from column 24, wrapped at 78 columns. */
static void print_option_help(const char *header, const char *help)
{
    enum { COL = 24, WIDTH = 78 };
    size_t hl = strlen(header);
    if (hl <= COL - 4)
        printf("  %-*s", COL - 2, header);
    else
        printf("  %s\n%*s", header, COL, "");
    size_t col = COL;
    const char *p = help;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t w = strcspn(p, " ");
        if (col > COL && col + 1 + w > WIDTH) {
            printf("\n%*s", COL, "");
            col = COL;
        } else if (col > COL) {
            putchar(' ');
            col++;
        }
        printf("%.*s", (int)w, p);
        col += w;
        p += w;
    }
    putchar('\n');
}

static void print_help(void)
{
    print_usage(stdout);
    printf("\nMQTT5 PubSub sample: connects with mutual TLS (or over WebSockets, signed with\n"
           "SigV4 and AWS credentials), subscribes to a topic, publishes messages to it and\n"
           "receives them back.\n\noptions:\n");
    print_option_help("-h, --help", "show this help message and exit");
    for (int i = 0; i < O_COUNT_OF_OPTIONS; i++) {
        char head[80];
        if (!k_options[i].metavar)
            snprintf(head, sizeof head, "%s", k_options[i].name);
        else
            snprintf(head, sizeof head, "%s %s", k_options[i].name,
                     i == O_VERBOSITY ? "VERBOSITY" : k_options[i].metavar);
        print_option_help(head, k_options[i].help);
    }
}

/* usage + "prog: error: ...", exit 2 */
__attribute__((format(printf, 1, 2), noreturn)) static void usage_error(const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&g_out_mu);
    print_usage(stderr);
    fprintf(stderr, "%s: error: ", g_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    pthread_mutex_unlock(&g_out_mu);
    exit(2);
}

/* Python int(): optional sign, digits, surrounding blanks. */
static bool parse_integer(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno) return false;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end) return false;
    *out = v;
    return true;
}

static uint16_t parse_port(int opt, const char *s)
{
    long long v;
    if (!parse_integer(s, &v))
        usage_error("argument %s: invalid int value: '%s'", k_options[opt].name, s);
    if (v < 1 || v > 65535)
        usage_error("argument %s: invalid port value: '%s' (1-65535)", k_options[opt].name, s);
    return (uint16_t)v;
}

/* argparse takes "-x..." as an option, not a value, unless it looks like a negative number. */
static bool looks_like_option(const char *s)
{
    if (s[0] != '-' || s[1] == '\0') return false;
    const char *p = s + 1;
    bool digits = false, dot = false;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits = true;
        else if (*p == '.' && !dot)
            dot = true;
        else
            return true;
    }
    return !digits;
}

/* A path option must name a readable regular file (argparse.FileType's check). */
static void check_readable(int opt, const char *path)
{
    struct stat sb;
    int err = 0;
    if (stat(path, &sb) != 0)
        err = errno;
    else if (S_ISDIR(sb.st_mode))
        err = EISDIR;
    else {
        FILE *f = fopen(path, "rb");
        if (!f)
            err = errno;
        else
            fclose(f);
    }
    if (err)
        usage_error("argument %s: can't open '%s': [Errno %d] %s: '%s'", k_options[opt].name, path,
                    err, strerror(err), path);
}

/* --proxy_* and --socks5_* into o->http_proxy / o->socks5 (usage errors exit 2). */
static void parse_proxy_args(const char *const *val, sample_opts *o)
{
    o->has_http_proxy = val[O_PROXY_HOST] != NULL;
    o->has_socks5 = val[O_SOCKS5_HOST] != NULL;
    if (o->has_http_proxy && o->has_socks5)
        usage_error("argument --socks5_host: not allowed with argument --proxy_host");
    for (int k = O_PROXY_PORT; k <= O_PROXY_CA_FILE; k++)
        if (val[k] && !o->has_http_proxy)
            usage_error("argument %s: requires --proxy_host", k_options[k].name);
    for (int k = O_SOCKS5_PORT; k <= O_SOCKS5_PASSWORD; k++)
        if (val[k] && !o->has_socks5)
            usage_error("argument %s: requires --socks5_host", k_options[k].name);
    if (o->has_http_proxy && !*val[O_PROXY_HOST])
        usage_error("argument --proxy_host: must not be empty");
    if (o->has_socks5 && !*val[O_SOCKS5_HOST])
        usage_error("argument --socks5_host: must not be empty");
    if (val[O_PROXY_PASSWORD] && !val[O_PROXY_USERNAME])
        usage_error("argument --proxy_password: requires --proxy_username");
    if (val[O_SOCKS5_PASSWORD] && !val[O_SOCKS5_USERNAME])
        usage_error("argument --socks5_password: requires --socks5_username");
    if (val[O_PROXY_CA_FILE] && !val[O_PROXY_TLS])
        usage_error("argument --proxy_ca_file: requires --proxy_tls");
    if (val[O_PROXY_CA_FILE]) check_readable(O_PROXY_CA_FILE, val[O_PROXY_CA_FILE]);
    mqtt5_tls_options_init(&o->proxy_tls); /* verify the proxy's certificate and name */
    o->proxy_tls.ca_file = val[O_PROXY_CA_FILE];
    o->http_proxy = (mqtt5_http_proxy_options){
        .host = val[O_PROXY_HOST],
        .port = o->proxy_port,
        .username = val[O_PROXY_USERNAME],
        .password = val[O_PROXY_PASSWORD],
        .tls = val[O_PROXY_TLS] ? &o->proxy_tls : NULL,
    };
    o->socks5 = (mqtt5_socks5_proxy_options){
        .host = val[O_SOCKS5_HOST],
        .port = val[O_SOCKS5_PORT] ? parse_port(O_SOCKS5_PORT, val[O_SOCKS5_PORT]) : 1080,
        .username = val[O_SOCKS5_USERNAME],
        .password = val[O_SOCKS5_PASSWORD],
    };
}

/* --pkcs11_lib (--pin, --token_label, --slot_id, --key_label, with --cert) and --pkcs12_file
 * (--pkcs12_password) into o->p11 / o->pkcs12_* (usage errors exit 2). */
static void parse_pkcs_args(const char *const *val, sample_opts *o)
{
    o->pkcs11 = val[O_PKCS11_LIB] != NULL;
    for (int k = O_PIN; k <= O_KEY_LABEL; k++)
        if (val[k] && !o->pkcs11)
            usage_error("argument %s: requires --pkcs11_lib", k_options[k].name);
    if (val[O_PKCS12_PASSWORD] && !val[O_PKCS12_FILE])
        usage_error("argument --pkcs12_password: requires --pkcs12_file");
    const char *other = val[O_SIGNING_REGION]   ? "--signing_region"
                        : val[O_USE_WEBSOCKETS] ? "--use_websockets"
                        : val[O_CUSTOM_AUTH_USERNAME] || val[O_CUSTOM_AUTH_AUTHORIZER_NAME] ||
                                val[O_CUSTOM_AUTH_AUTHORIZER_SIGNATURE] ||
                                val[O_CUSTOM_AUTH_PASSWORD] || val[O_CUSTOM_AUTH_TOKEN_KEY_NAME] ||
                                val[O_CUSTOM_AUTH_TOKEN_VALUE]
                            ? "the --custom_auth_* arguments"
                            : NULL;
    if (val[O_PKCS12_FILE]) {
        if (o->pkcs11)
            usage_error("argument --pkcs12_file: not allowed with argument --pkcs11_lib");
        if (val[O_CERT] || val[O_KEY])
            usage_error("argument --pkcs12_file: not allowed with argument %s (the PKCS#12 file "
                        "holds the certificate and key)",
                        val[O_CERT] ? "--cert" : "--key");
        if (other) usage_error("argument --pkcs12_file: not allowed with %s", other);
        check_readable(O_PKCS12_FILE, val[O_PKCS12_FILE]);
        o->pkcs12_file = val[O_PKCS12_FILE];
        o->pkcs12_password = val[O_PKCS12_PASSWORD];
    }
    if (!o->pkcs11) return;
    if (!*val[O_PKCS11_LIB]) usage_error("argument --pkcs11_lib: must not be empty");
    if (!val[O_CERT])
        usage_error("argument --pkcs11_lib: requires --cert (the certificate of the token's key)");
    if (val[O_KEY])
        usage_error("argument --key: not allowed with argument --pkcs11_lib (the key is on the "
                    "token; name it with --key_label)");
    if (other) usage_error("argument --pkcs11_lib: not allowed with %s", other);
    if (strchr(val[O_PKCS11_LIB], '/')) check_readable(O_PKCS11_LIB, val[O_PKCS11_LIB]);
    if (val[O_TOKEN_LABEL] && !*val[O_TOKEN_LABEL])
        usage_error("argument --token_label: must not be empty");
    if (val[O_KEY_LABEL] && !*val[O_KEY_LABEL])
        usage_error("argument --key_label: must not be empty");
    o->p11 = (mqtt5_builder_pkcs11_options){
        .pkcs11_lib = val[O_PKCS11_LIB],
        .user_pin = val[O_PIN],
        .token_label = val[O_TOKEN_LABEL],
        .private_key_label = val[O_KEY_LABEL],
        .cert_filepath = val[O_CERT],
    };
    if (val[O_SLOT_ID]) {
        long long v;
        if (!parse_integer(val[O_SLOT_ID], &v) || v < 0)
            usage_error("argument --slot_id: invalid slot id: '%s' (a non-negative integer)",
                        val[O_SLOT_ID]);
        o->p11.has_slot_id = true;
        o->p11.slot_id = (uint64_t)v;
    }
}

static void parse_args(int argc, char **argv, sample_opts *o)
{
    const char *val[O_COUNT_OF_OPTIONS] = {0};
    size_t unknown_len = 0;
    char unknown[512] = "";

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            print_help();
            exit(0);
        }
        int opt = -1;
        const char *value = NULL;
        if (strncmp(arg, "--", 2) == 0) {
            const char *eq = strchr(arg, '=');
            size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
            for (int k = 0; k < O_COUNT_OF_OPTIONS; k++) {
                if (strlen(k_options[k].name) == nlen &&
                    strncmp(k_options[k].name, arg, nlen) == 0) {
                    opt = k;
                    break;
                }
            }
            if (opt >= 0 && eq) value = eq + 1;
        }
        if (opt < 0) {
            /* argparse collects unrecognized arguments and reports them after the rest */
            size_t l = strlen(arg);
            if (unknown_len + l + 2 < sizeof unknown) {
                if (unknown_len) unknown[unknown_len++] = ' ';
                memcpy(unknown + unknown_len, arg, l + 1);
                unknown_len += l;
            }
            continue;
        }
        if (!k_options[opt].metavar) { /* a flag */
            if (value)
                usage_error("argument %s: ignored explicit argument '%s'", k_options[opt].name,
                            value);
            val[opt] = "";
            continue;
        }
        if (!value) {
            if (i + 1 >= argc || looks_like_option(argv[i + 1]))
                usage_error("argument %s: expected one argument", k_options[opt].name);
            value = argv[++i];
        }
        val[opt] = value;
    }
    if (!val[O_ENDPOINT]) usage_error("the following arguments are required: --endpoint");
    if (unknown_len) usage_error("unrecognized arguments: %s", unknown);

    o->endpoint = val[O_ENDPOINT];
    if (!*o->endpoint) usage_error("argument --endpoint: must not be empty");
    o->port = val[O_PORT] ? parse_port(O_PORT, val[O_PORT]) : 0;
    o->proxy_port = val[O_PROXY_PORT] ? parse_port(O_PROXY_PORT, val[O_PROXY_PORT]) : 8080;
    o->count = 5;
    if (val[O_COUNT]) {
        long long v;
        if (!parse_integer(val[O_COUNT], &v))
            usage_error("argument --count: invalid int value: '%s'", val[O_COUNT]);
        if (v < 0 || (unsigned long long)v >= MAX_INDEX)
            usage_error("argument --count: invalid count: '%s' (0 = until interrupted)",
                        val[O_COUNT]);
        o->count = (size_t)v;
    }
    o->verbosity = MQTT5_LOG_NONE;
    if (val[O_VERBOSITY]) {
        if (mqtt5_log_level_parse(val[O_VERBOSITY], &o->verbosity) != MQTT5_OK)
            usage_error("argument --verbosity: invalid choice: '%s' (choose from 'Fatal', "
                        "'Error', 'Warn', 'Info', 'Debug', 'Trace', 'NoLogs')",
                        val[O_VERBOSITY]);
    } else {
        const char *env = getenv("MQTT5_LOG_LEVEL");
        if (env && *env && mqtt5_log_level_parse(env, &o->verbosity) != MQTT5_OK) {
            complain("%s: warning: ignoring MQTT5_LOG_LEVEL='%s' (not a log level)", g_prog, env);
            o->verbosity = MQTT5_LOG_NONE;
        }
    }
    parse_pkcs_args(val, o);
    if (!o->pkcs11 && !val[O_CERT] != !val[O_KEY])
        usage_error("arguments --cert and --key: give both (mutual TLS) or neither");
    o->use_websockets = val[O_USE_WEBSOCKETS] != NULL;
    o->signing_region = val[O_SIGNING_REGION];
    o->cognito_identity = val[O_COGNITO_IDENTITY];
    o->cognito_endpoint = val[O_COGNITO_ENDPOINT];
    if (o->signing_region) {
        if (!*o->signing_region) usage_error("argument --signing_region: must not be empty");
        if (val[O_CERT])
            usage_error("argument --signing_region: not allowed with argument --cert (SigV4 "
                        "signs with AWS credentials, not a client certificate)");
        o->use_websockets = true;
    }
    if (!o->cognito_identity != !o->cognito_endpoint)
        usage_error("arguments --cognito_identity and --cognito_endpoint: give both or neither");
    if (o->cognito_identity && !o->signing_region)
        usage_error("arguments --cognito_identity and --cognito_endpoint: require "
                    "--signing_region");
    if (o->cognito_identity && !*o->cognito_identity)
        usage_error("argument --cognito_identity: must not be empty");
    if (o->cognito_endpoint && !*o->cognito_endpoint)
        usage_error("argument --cognito_endpoint: must not be empty");
    o->custom = (mqtt5_custom_auth_options){
        .auth_username = val[O_CUSTOM_AUTH_USERNAME],
        .auth_authorizer_name = val[O_CUSTOM_AUTH_AUTHORIZER_NAME],
        .auth_authorizer_signature = val[O_CUSTOM_AUTH_AUTHORIZER_SIGNATURE],
        .auth_password = val[O_CUSTOM_AUTH_PASSWORD],
        .auth_token_key_name = val[O_CUSTOM_AUTH_TOKEN_KEY_NAME],
        .auth_token_value = val[O_CUSTOM_AUTH_TOKEN_VALUE],
    };
    for (int k = O_CUSTOM_AUTH_USERNAME; k <= O_CUSTOM_AUTH_TOKEN_VALUE; k++) {
        if (!val[k]) continue;
        o->custom_auth = true;
        if (!*val[k] && k != O_CUSTOM_AUTH_USERNAME && k != O_CUSTOM_AUTH_PASSWORD)
            usage_error("argument %s: must not be empty", k_options[k].name);
    }
    if (!val[O_CUSTOM_AUTH_TOKEN_KEY_NAME] != !val[O_CUSTOM_AUTH_TOKEN_VALUE])
        usage_error("arguments --custom_auth_token_key_name and --custom_auth_token_value: give "
                    "both or neither");
    if (o->custom_auth && o->signing_region)
        usage_error("argument --signing_region: not allowed with the --custom_auth_* arguments");
    if (o->custom_auth && val[O_CERT])
        usage_error("argument --cert: not allowed with the --custom_auth_* arguments (a custom "
                    "authorizer authenticates with the username and password)");
    o->cert = val[O_CERT];
    o->key = val[O_KEY];
    o->ca_file = val[O_CA_FILE];
    if (o->cert) check_readable(O_CERT, o->cert);
    if (o->key) check_readable(O_KEY, o->key);
    if (o->ca_file) check_readable(O_CA_FILE, o->ca_file);
    o->topic = val[O_TOPIC] ? val[O_TOPIC] : "test/topic";
    if (!*o->topic) usage_error("argument --topic: must not be empty");
    o->message = val[O_MESSAGE] ? val[O_MESSAGE] : "Hello from mqtt5 sample";
    o->proxy_host = val[O_PROXY_HOST];
    parse_proxy_args(val, o);
    if (val[O_CLIENT_ID]) {
        o->client_id = val[O_CLIENT_ID];
    } else {
        uint8_t r[4];
        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            uint32_t x = (uint32_t)ts.tv_nsec ^ (uint32_t)getpid() ^ (uint32_t)ts.tv_sec;
            memcpy(r, &x, sizeof r);
        }
        snprintf(o->generated_id, sizeof o->generated_id, "mqtt5-sample-%02x%02x%02x%02x", r[0],
                 r[1], r[2], r[3]);
        o->client_id = o->generated_id;
    }
}

/* ============================================================================================
 * Shared state (main thread, loop thread, SIGINT thread) under app.mu
 * ========================================================================================== */

typedef struct app {
    const sample_opts *opt;
    mqtt5_client *client;
    /* made by the sample for Cognito and unsigned WebSockets (the builders make their own
     * otherwise); released after the client terminated */
    mqtt5_event_loop_group *group;
    mqtt5_credentials_provider *provider; /* Cognito */

    pthread_mutex_t mu;
    pthread_cond_t cv; /* received messages, SIGINT */

    /* lifecycle futures, each completed exactly once (the *_done flags) */
    mqtt5_future *connected, *stopped, *terminated, *subscribed_f;
    bool connected_done, stopped_done, terminated_done;
    bool subscribe_submitted; /* else subscribed_f is completed by hand at the end */

    bool ever_connected; /* a CONNACK was accepted once */
    bool failing;        /* the first attempt failed: quiet until exit */
    bool stopping;       /* stop asked: a DISCONNECTION is expected */
    bool subscribed;     /* the first SUBACK succeeded (set on the loop thread) */
    bool unsubscribing;  /* no more resubscribing */
    unsigned sigints;    /* SIGINTs seen */
    uint8_t connack_reason;
    char *client_id_used; /* the negotiated client id */

    /* received messages: bit i set once index i came back; only indices already sent count */
    uint8_t *seen;
    size_t seen_bits;
    size_t sent_max; /* indices 1..sent_max were published */
    size_t received; /* distinct indices seen among 1..sent_max */
} app;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wait on app.cv until `deadline` (ms, monotonic); app.mu held. false on timeout. */
static bool cv_wait_until(app *a, uint64_t deadline)
{
    uint64_t now = now_ms();
    if (now >= deadline) return false;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + (deadline - now) * 1000000u;
    ts.tv_sec += (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    pthread_cond_timedwait(&a->cv, &a->mu, &ts);
    return now_ms() < deadline;
}

static bool bit_get(const app *a, size_t i)
{
    return i < a->seen_bits && (a->seen[i / 8] >> (i % 8)) & 1u;
}

/* Room for index i (main thread, before publishing i). app.mu held. */
static int bits_reserve(app *a, size_t i)
{
    if (i < a->seen_bits) return 0;
    size_t bits = a->seen_bits ? a->seen_bits : 64;
    while (bits <= i)
        bits *= 2;
    uint8_t *n = realloc(a->seen, bits / 8);
    if (!n) return MQTT5_ERR_NOMEM;
    memset(n + a->seen_bits / 8, 0, (bits - a->seen_bits) / 8);
    a->seen = n;
    a->seen_bits = bits;
    return 0;
}

/* The index i of a payload "<message> [i]", or 0. */
static size_t payload_index(const sample_opts *o, const uint8_t *p, size_t n)
{
    size_t ml = strlen(o->message);
    if (n < ml + 4 || memcmp(p, o->message, ml) != 0 || p[ml] != ' ' || p[ml + 1] != '[' ||
        p[n - 1] != ']')
        return 0;
    size_t v = 0;
    for (size_t k = ml + 2; k < n - 1; k++) {
        if (p[k] < '0' || p[k] > '9' || v > MAX_INDEX) return 0;
        v = v * 10 + (size_t)(p[k] - '0');
    }
    return (n - 1 > ml + 2 && v < MAX_INDEX) ? v : 0;
}

/* "<message> [i]", malloc'd. */
static char *make_payload(const sample_opts *o, size_t i)
{
    size_t cap = strlen(o->message) + 32;
    char *s = malloc(cap);
    if (s) snprintf(s, cap, "%s [%zu]", o->message, i);
    return s;
}

/* Complete a lifecycle future once. */
static void complete_once(app *a, mqtt5_future *f, bool *done, int error)
{
    pthread_mutex_lock(&a->mu);
    bool first = !*done;
    *done = true;
    pthread_mutex_unlock(&a->mu);
    if (first && f) mqtt5_future_complete(f, error);
}

/* ============================================================================================
 * Callbacks (event-loop thread; never block)
 * ========================================================================================== */

static void republish_index(app *a, size_t i);

static void on_republish_done(void *user, const mqtt5_op_completion *done)
{
    (void)user;
    char repr[REPR_MAX];
    if (done->ack && done->ack->type == MQTT5_PUBACK)
        say("PubAck received with %s", enum_repr(repr, RC_TABLE("PubackReasonCode", k_puback_rc),
                                                 done->ack->u.ack.reason_code));
    if (done->error && done->error != MQTT5_ERR_STOPPED && done->error != MQTT5_ERR_TERMINATED)
        complain("Error: republish failed: %s: %s", mqtt5_error_name(done->error),
                 mqtt5_error_str(done->error));
}

/* SUBACK of a resubscription: republish every index sent and not received yet. */
static void on_resubscribe_done(void *user, const mqtt5_op_completion *done)
{
    app *a = user;
    if (done->ack && done->ack->type == MQTT5_SUBACK) {
        char *list = reason_list_repr(done->ack, RC_TABLE("SubackReasonCode", k_suback_rc));
        say("Subscribed with %s", list ? list : "[?]");
        free(list);
    }
    if (done->error) {
        if (done->error != MQTT5_ERR_STOPPED && done->error != MQTT5_ERR_TERMINATED)
            complain("Error: resubscribing failed: %s: %s", mqtt5_error_name(done->error),
                     mqtt5_error_str(done->error));
        return;
    }
    pthread_mutex_lock(&a->mu);
    size_t n = a->sent_max, missing = 0;
    size_t *todo = malloc((n ? n : 1) * sizeof *todo);
    for (size_t i = 1; todo && i <= n; i++)
        if (!bit_get(a, i)) todo[missing++] = i;
    pthread_mutex_unlock(&a->mu);
    if (!todo) {
        complain("Error: out of memory");
        return;
    }
    for (size_t k = 0; k < missing; k++)
        republish_index(a, todo[k]);
    free(todo);
}

/* SUBACK of the first subscription: mark subscribed on this thread, so a reconnect that
 * follows at once already resubscribes; then hand the completion to main's future. */
static void on_subscribe_done(void *user, const mqtt5_op_completion *done)
{
    app *a = user;
    if (!done->error) {
        pthread_mutex_lock(&a->mu);
        a->subscribed = true;
        pthread_mutex_unlock(&a->mu);
    }
    mqtt5_future_on_complete(a->subscribed_f, done);
}

static void resubscribe(app *a)
{
    say("Resubscribing to topic '%s' (session not resumed)...", a->opt->topic);
    mqtt5_subscription s = {.topic_filter = {a->opt->topic, strlen(a->opt->topic)}, .qos = 1};
    mqtt5_subscribe sub = {.subscriptions = &s, .subscription_count = 1};
    mqtt5_codec_status st = {0};
    int rc = mqtt5_client_subscribe(a->client, &sub, NULL, on_resubscribe_done, a, &st);
    if (rc)
        complain("Error: resubscribing failed: %s: %s", mqtt5_error_name(rc), mqtt5_error_str(rc));
}

static void on_connection_success(void *user, const mqtt5_lifecycle_event *ev, const char *detail)
{
    (void)detail;
    app *a = user;
    say("Lifecycle Connection Success");
    bool rejoined = ev->settings && ev->settings->rejoined_session;
    pthread_mutex_lock(&a->mu);
    bool first = !a->ever_connected;
    a->ever_connected = true;
    bool resub = !first && a->subscribed && !a->unsubscribing && !a->stopping && !rejoined;
    if (first) {
        a->connack_reason = ev->connack ? ev->connack->reason_code : 0;
        const mqtt5_str *id = ev->settings ? &ev->settings->client_id : NULL;
        a->client_id_used = id ? strndup(id->ptr ? id->ptr : "", id->len) : NULL;
    }
    pthread_mutex_unlock(&a->mu);
    if (first) complete_once(a, a->connected, &a->connected_done, MQTT5_OK);
    if (resub) resubscribe(a);
}

static void on_connection_failure(void *user, const mqtt5_lifecycle_event *ev, const char *detail)
{
    app *a = user;
    char extra[REPR_MAX] = "", text[1024];
    if (ev->connack)
        enum_repr(extra, RC_TABLE("ConnectReasonCode", k_connect_rc), ev->connack->reason_code);
    describe_error(text, sizeof text, ev->error, detail, extra);
    pthread_mutex_lock(&a->mu);
    bool quiet = a->failing;
    bool first_attempt = !a->ever_connected && !a->failing;
    if (first_attempt) a->failing = true;
    pthread_mutex_unlock(&a->mu);
    if (quiet) return;
    say("Lifecycle Connection Failure");
    say("Connection failed with exception:%s", text);
    if (first_attempt) {
        /* fail fast: no retries of a connection that never worked */
        mqtt5_client_stop(a->client, NULL);
        complete_once(a, a->connected, &a->connected_done, ev->error ? ev->error : MQTT5_ERR_IO);
    }
}

static void on_disconnection(void *user, const mqtt5_lifecycle_event *ev, const char *detail)
{
    app *a = user;
    pthread_mutex_lock(&a->mu);
    bool quiet = a->stopping || a->failing;
    pthread_mutex_unlock(&a->mu);
    if (quiet) return;
    char extra[REPR_MAX] = "", text[1024];
    if (ev->disconnect)
        enum_repr(extra, RC_TABLE("DisconnectReasonCode", k_disconnect_rc),
                  ev->disconnect->reason_code);
    describe_error(text, sizeof text, ev->error, detail, extra);
    say("Lifecycle Disconnection");
    say("Disconnected with error:%s", text);
}

static void on_stopped(void *user, const mqtt5_lifecycle_event *ev, const char *detail)
{
    (void)ev;
    (void)detail;
    app *a = user;
    pthread_mutex_lock(&a->mu);
    bool quiet = a->failing || a->stopped_done;
    pthread_mutex_unlock(&a->mu);
    if (!quiet) say("Lifecycle Stopped");
    complete_once(a, a->stopped, &a->stopped_done, MQTT5_OK);
}

static void on_publish_received(void *user, const mqtt5_inbound_publish *msg)
{
    app *a = user;
    const mqtt5_publish *p = msg->publish;
    char *repr = bytes_repr(p->payload.ptr ? p->payload.ptr : (const uint8_t *)"", p->payload.len);
    say("Received message from topic'%.*s':%s", (int)p->topic.len, p->topic.ptr ? p->topic.ptr : "",
        repr ? repr : "b'?'");
    free(repr);
    size_t i = payload_index(a->opt, p->payload.ptr, p->payload.len);
    pthread_mutex_lock(&a->mu);
    if (i && i <= a->sent_max && !bit_get(a, i)) {
        a->seen[i / 8] |= (uint8_t)(1u << (i % 8));
        a->received++;
        pthread_cond_broadcast(&a->cv);
    }
    pthread_mutex_unlock(&a->mu);
}

static void on_terminated(void *user)
{
    app *a = user;
    complete_once(a, a->terminated, &a->terminated_done, MQTT5_OK);
}

/* A client made with mqtt5_client_new has one lifecycle callback: hand each event to the
 * builder-style callback above that handles it. */
static void on_lifecycle(void *user, const mqtt5_lifecycle_event *ev, const char *detail)
{
    switch (ev->type) {
    case MQTT5_LC_CONNECTION_SUCCESS:
        on_connection_success(user, ev, detail);
        break;
    case MQTT5_LC_CONNECTION_FAILURE:
        on_connection_failure(user, ev, detail);
        break;
    case MQTT5_LC_DISCONNECTION:
        on_disconnection(user, ev, detail);
        break;
    case MQTT5_LC_STOPPED:
        on_stopped(user, ev, detail);
        break;
    case MQTT5_LC_ATTEMPTING_CONNECT:
        break;
    }
}

/* ============================================================================================
 * SIGINT: the first ends publishing, the second exits 130
 * ========================================================================================== */

static void *sigint_thread(void *arg)
{
    app *a = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    for (;;) {
        int sig;
        if (sigwait(&set, &sig) != 0) continue;
        pthread_mutex_lock(&a->mu);
        unsigned n = ++a->sigints;
        pthread_cond_broadcast(&a->cv);
        pthread_mutex_unlock(&a->mu);
        if (n >= 2) {
            fflush(stdout);
            fflush(stderr);
            _exit(130);
        }
    }
    return NULL;
}

/* ============================================================================================
 * The sample's steps (main thread)
 * ========================================================================================== */

/* Republish index i (QoS 1) from the loop thread: no waiting, on_republish_done reports. */
static void republish_index(app *a, size_t i)
{
    char *payload = make_payload(a->opt, i);
    if (!payload) return;
    say("Republishing message to topic '%s': %s", a->opt->topic, payload);
    mqtt5_publish p = {.qos = 1,
                       .topic = {a->opt->topic, strlen(a->opt->topic)},
                       .payload = {(const uint8_t *)payload, strlen(payload)}};
    mqtt5_codec_status st = {0};
    int rc = mqtt5_client_publish(a->client, &p, NULL, on_republish_done, a, &st);
    if (rc) complain("Error: republish failed: %s: %s", mqtt5_error_name(rc), mqtt5_error_str(rc));
    free(payload);
}

/* Wait for an operation's future; 0, or print the error and return it. */
static int wait_op(mqtt5_future *f, const char *what)
{
    int rc = mqtt5_future_wait(f, TIMEOUT_MS);
    if (rc == MQTT5_ERR_TIMEOUT)
        complain("Error: no %s within %u s", what, TIMEOUT_MS / 1000);
    else if (rc)
        complain("Error: %s: %s: %s", what, mqtt5_error_name(rc), mqtt5_error_str(rc));
    return rc;
}

/* A failed operation call never completes: complete its future by hand. */
static int submitted(mqtt5_future *f, int rc, const mqtt5_codec_status *st, const char *what)
{
    if (rc) {
        char text[1024], more[512];
        status_text(more, sizeof more, st);
        describe_error(text, sizeof text, rc, more, NULL);
        complain("Error: %s refused: %s", what, text);
        mqtt5_future_complete(f, rc);
    }
    return rc;
}

static int step_connect(app *a)
{
    say("Connecting to %s with client ID '%s'...", a->opt->endpoint, a->opt->client_id);
    int rc = mqtt5_client_start(a->client);
    if (rc) {
        complain("Error: start failed: %s: %s", mqtt5_error_name(rc), mqtt5_error_str(rc));
        complete_once(a, a->connected, &a->connected_done, rc);
        return rc;
    }
    rc = mqtt5_future_wait(a->connected, TIMEOUT_MS);
    if (rc == MQTT5_ERR_TIMEOUT) {
        complain("Error: not connected within %u s", TIMEOUT_MS / 1000);
        return rc;
    }
    if (rc) {
        complain("Error: connection failed: %s: %s", mqtt5_error_name(rc), mqtt5_error_str(rc));
        return rc;
    }
    char repr[REPR_MAX];
    pthread_mutex_lock(&a->mu);
    uint8_t reason = a->connack_reason;
    const char *id = a->client_id_used ? a->client_id_used : a->opt->client_id;
    pthread_mutex_unlock(&a->mu);
    say("Connected to endpoint:'%s' with Client ID:'%s' with reason_code:%s", a->opt->endpoint, id,
        enum_repr(repr, RC_TABLE("ConnectReasonCode", k_connect_rc), reason));
    return 0;
}

static int step_subscribe(app *a)
{
    say("Subscribing to topic '%s'...", a->opt->topic);
    mqtt5_subscription s = {.topic_filter = {a->opt->topic, strlen(a->opt->topic)}, .qos = 1};
    mqtt5_subscribe sub = {.subscriptions = &s, .subscription_count = 1};
    mqtt5_codec_status st = {0};
    a->subscribe_submitted = true;
    int rc = mqtt5_client_subscribe(a->client, &sub, NULL, on_subscribe_done, a, &st);
    if (submitted(a->subscribed_f, rc, &st, "subscribe")) return rc;
    rc = mqtt5_future_wait(a->subscribed_f, TIMEOUT_MS);
    const mqtt5_packet *ack =
        (rc == 0 || rc == MQTT5_ERR_ACK_REASON) ? mqtt5_future_ack(a->subscribed_f) : NULL;
    if (ack && ack->type == MQTT5_SUBACK) {
        char *list = reason_list_repr(ack, RC_TABLE("SubackReasonCode", k_suback_rc));
        say("Subscribed with %s", list ? list : "[?]");
        free(list);
        for (size_t i = 0; rc == 0 && i < ack->u.suback.reason_code_count; i++)
            if (ack->u.suback.reason_codes[i] >= 0x80) rc = MQTT5_ERR_ACK_REASON;
    }
    if (rc == MQTT5_ERR_TIMEOUT)
        complain("Error: no SUBACK within %u s", TIMEOUT_MS / 1000);
    else if (rc)
        complain("Error: subscribe failed: %s: %s", mqtt5_error_name(rc), mqtt5_error_str(rc));
    return rc;
}

/* Pause up to ms, cut short by SIGINT. */
static void pause_ms(app *a, uint32_t ms)
{
    uint64_t deadline = now_ms() + ms;
    pthread_mutex_lock(&a->mu);
    while (!a->sigints && cv_wait_until(a, deadline)) {
    }
    pthread_mutex_unlock(&a->mu);
}

static int step_publish(app *a)
{
    const sample_opts *o = a->opt;
    if (!*o->message) return 0; /* the seed skips publishing for an empty message */
    if (o->count == 0)
        say("Sending messages until program killed");
    else
        say("Sending %zu message(s)", o->count);
    for (size_t i = 1; o->count == 0 || i <= o->count; i++) {
        pthread_mutex_lock(&a->mu);
        bool stop = a->sigints > 0;
        int rc = stop ? 0 : bits_reserve(a, i);
        if (!stop && !rc) a->sent_max = i;
        pthread_mutex_unlock(&a->mu);
        if (stop) break;
        if (rc) {
            complain("Error: out of memory");
            return rc;
        }
        char *payload = make_payload(o, i);
        mqtt5_future *f = mqtt5_future_new();
        if (!payload || !f) {
            free(payload);
            if (f) {
                mqtt5_future_complete(f, MQTT5_ERR_NOMEM);
                mqtt5_future_release(f);
            }
            complain("Error: out of memory");
            return MQTT5_ERR_NOMEM;
        }
        say("Publishing message to topic '%s': %s", o->topic, payload);
        mqtt5_publish p = {.qos = 1,
                           .topic = {o->topic, strlen(o->topic)},
                           .payload = {(const uint8_t *)payload, strlen(payload)}};
        mqtt5_codec_status st = {0};
        rc = mqtt5_client_publish(a->client, &p, NULL, mqtt5_future_on_complete, f, &st);
        free(payload);
        if (!submitted(f, rc, &st, "publish")) {
            rc = mqtt5_future_wait(f, TIMEOUT_MS);
            const mqtt5_packet *ack =
                (rc == 0 || rc == MQTT5_ERR_ACK_REASON) ? mqtt5_future_ack(f) : NULL;
            char repr[REPR_MAX];
            if (ack && ack->type == MQTT5_PUBACK)
                say("PubAck received with %s",
                    enum_repr(repr, RC_TABLE("PubackReasonCode", k_puback_rc),
                              ack->u.ack.reason_code));
            if (rc == MQTT5_ERR_TIMEOUT)
                complain("Error: no PUBACK within %u s", TIMEOUT_MS / 1000);
            else if (rc)
                complain("Error: publish failed: %s: %s", mqtt5_error_name(rc),
                         mqtt5_error_str(rc));
        }
        mqtt5_future_release(f);
        if (rc) return rc;
        pause_ms(a, PAUSE_MS);
    }
    return 0;
}

/* Wait up to 100 s until every index sent came back; 0 or MQTT5_ERR_TIMEOUT. */
static int step_wait_received(app *a)
{
    uint64_t deadline = now_ms() + TIMEOUT_MS;
    pthread_mutex_lock(&a->mu);
    while (a->received < a->sent_max && cv_wait_until(a, deadline)) {
    }
    size_t received = a->received, sent = a->sent_max;
    pthread_mutex_unlock(&a->mu);
    say("%zu message(s) received.", received);
    if (received < sent) {
        complain("Error: %zu of %zu message(s) did not come back within %u s", sent - received,
                 sent, TIMEOUT_MS / 1000);
        return MQTT5_ERR_TIMEOUT;
    }
    return 0;
}

static int step_unsubscribe(app *a)
{
    pthread_mutex_lock(&a->mu);
    a->unsubscribing = true;
    pthread_mutex_unlock(&a->mu);
    say("Unsubscribing from topic '%s'", a->opt->topic);
    mqtt5_future *f = mqtt5_future_new();
    if (!f) {
        complain("Error: out of memory");
        return MQTT5_ERR_NOMEM;
    }
    mqtt5_str filter = {a->opt->topic, strlen(a->opt->topic)};
    mqtt5_unsubscribe u = {.topic_filters = &filter, .topic_filter_count = 1};
    mqtt5_codec_status st = {0};
    int rc = mqtt5_client_unsubscribe(a->client, &u, NULL, mqtt5_future_on_complete, f, &st);
    if (!submitted(f, rc, &st, "unsubscribe")) {
        rc = mqtt5_future_wait(f, TIMEOUT_MS);
        const mqtt5_packet *ack =
            (rc == 0 || rc == MQTT5_ERR_ACK_REASON) ? mqtt5_future_ack(f) : NULL;
        if (ack && ack->type == MQTT5_UNSUBACK) {
            char *list = reason_list_repr(ack, RC_TABLE("UnsubackReasonCode", k_unsuback_rc));
            say("Unsubscribed with %s", list ? list : "[?]");
            free(list);
            for (size_t i = 0; rc == 0 && i < ack->u.suback.reason_code_count; i++)
                if (ack->u.suback.reason_codes[i] >= 0x80) rc = MQTT5_ERR_ACK_REASON;
        }
        if (rc == MQTT5_ERR_TIMEOUT)
            complain("Error: no UNSUBACK within %u s", TIMEOUT_MS / 1000);
        else if (rc)
            complain("Error: unsubscribe failed: %s: %s", mqtt5_error_name(rc),
                     mqtt5_error_str(rc));
    }
    mqtt5_future_release(f);
    return rc;
}

static int step_stop(app *a)
{
    say("Stopping Client");
    pthread_mutex_lock(&a->mu);
    a->stopping = true;
    pthread_mutex_unlock(&a->mu);
    int rc = mqtt5_client_stop(a->client, NULL);
    if (rc) {
        complain("Error: stop failed: %s: %s", mqtt5_error_name(rc), mqtt5_error_str(rc));
        return rc;
    }
    rc = wait_op(a->stopped, "Stopped event");
    if (rc) return rc;
    say("Client Stopped!");
    return 0;
}

/* Release the client, wait for its last callback, free what is left. */
static void release_client(app *a)
{
    if (!a->client) return;
    pthread_mutex_lock(&a->mu);
    a->stopping = true;
    pthread_mutex_unlock(&a->mu);
    int rc = mqtt5_client_release(a->client, on_terminated, a);
    if (rc) {
        complain("Error: release failed: %s: %s", mqtt5_error_name(rc), mqtt5_error_str(rc));
        return; /* callbacks may still run: keep everything */
    }
    if (mqtt5_future_wait(a->terminated, TIMEOUT_MS) != 0) {
        complain("Error: the client did not terminate within %u s", TIMEOUT_MS / 1000);
        return;
    }
    a->client = NULL;
    /* no callback runs any more: complete what never fired, drop the waiter references */
    complete_once(a, a->connected, &a->connected_done, MQTT5_ERR_STOPPED);
    complete_once(a, a->stopped, &a->stopped_done, MQTT5_ERR_STOPPED);
    if (!a->subscribe_submitted) mqtt5_future_complete(a->subscribed_f, MQTT5_ERR_STOPPED);
    mqtt5_future_release(a->connected);
    mqtt5_future_release(a->stopped);
    mqtt5_future_release(a->terminated);
    mqtt5_future_release(a->subscribed_f);
    a->connected = a->stopped = a->terminated = a->subscribed_f = NULL;
    free(a->client_id_used);
    free(a->seen);
    a->client_id_used = NULL;
    a->seen = NULL;
}

/* ============================================================================================
 * main
 * ========================================================================================== */

static int new_group(app *a, mqtt5_codec_status *st)
{
    mqtt5_event_loop_group_options go;
    mqtt5_event_loop_group_options_init(&go);
    int rc = mqtt5_event_loop_group_new(&go, &a->group);
    if (rc) {
        a->group = NULL;
        *st = (mqtt5_codec_status){
            .error = rc, .field = "client_bootstrap", .detail = "cannot start an event-loop group"};
    }
    return rc;
}

/* The SDK's metrics in the username, as the builders send it. */
#define METRICS_USERNAME "?SDK=" MQTT5_SDK_METRICS_NAME "&Version=" MQTT5_VERSION_STRING

/* --use_websockets without --signing_region: wss:// with the TLS of the default connection
 * (mutual with --cert/--key) and nothing signed. No builder makes an unsigned WebSocket client,
 * so this sets up mqtt5_client_options as the builders would. */
static int new_websocket_client(app *a, mqtt5_codec_status *st)
{
    static const char *const alpn_http11[] = {"http/1.1"};
    const sample_opts *o = a->opt;
    int rc = new_group(a, st);
    if (rc) return rc;
    mqtt5_tls_options tls;
    mqtt5_tls_options_init(&tls);
    tls.verify_peer = true;
    tls.ca_file = o->ca_file;
    tls.cert_file = o->cert;
    tls.key_file = o->key;
    tls.alpn = alpn_http11;
    tls.alpn_count = 1;
    mqtt5_websocket_options ws = {0}; /* path "/mqtt" */
    mqtt5_client_options co;
    mqtt5_client_options_init(&co);
    co.group = a->group; /* the client takes its own reference */
    co.host = o->endpoint;
    co.port = o->port ? o->port : 443;
    co.tls = &tls;
    co.websocket = &ws;
    if (o->has_http_proxy) co.http_proxy = &o->http_proxy;
    if (o->has_socks5) co.socks5_proxy = &o->socks5;
    co.core.connect.client_id = (mqtt5_str){o->client_id, strlen(o->client_id)};
    co.core.connect.has_username = true;
    co.core.connect.username = (mqtt5_str){METRICS_USERNAME, strlen(METRICS_USERNAME)};
    co.user = a;
    co.on_lifecycle = on_lifecycle;
    co.on_publish = on_publish_received;
    return mqtt5_client_new(&co, &a->client, st);
}

/* --signing_region: the SigV4 WebSocket builder, with the default chain (provider NULL) or
 * with a Cognito provider on an event-loop group shared with the client. */
static int new_signed_client(app *a, mqtt5_builder_options *bo, mqtt5_codec_status *st)
{
    const sample_opts *o = a->opt;
    if (o->cognito_identity) {
        int rc = new_group(a, st);
        if (rc) return rc;
        mqtt5_credentials_options co;
        mqtt5_credentials_options_init(&co);
        co.event_loop_group = a->group;
        mqtt5_credentials_cognito_options cg = {.endpoint = o->cognito_endpoint,
                                                .identity_id = o->cognito_identity};
        rc = mqtt5_credentials_provider_new_cognito(&co, &cg, &a->provider);
        if (rc) {
            a->provider = NULL;
            *st = (mqtt5_codec_status){
                .error = rc, .field = "credentials_provider", .detail = "cannot create Cognito"};
            return rc;
        }
        bo->client_bootstrap = a->group;
    }
    return mqtt5_builder_websockets_with_default_aws_signing(o->signing_region, a->provider, bo,
                                                             &a->client, st);
}

static int create_client(app *a)
{
    const sample_opts *o = a->opt;
    mqtt5_builder_options bo;
    mqtt5_builder_options_init(&bo);
    bo.endpoint = o->endpoint;
    bo.port = o->port;
    bo.client_bootstrap = NULL; /* a private event-loop group owned by the client */
    bo.ca_filepath = o->ca_file;
    bo.client_id = o->client_id;
    if (o->has_http_proxy) bo.http_proxy_options = &o->http_proxy;
    if (o->has_socks5) bo.socks5_proxy_options = &o->socks5;
    bo.user_data = a;
    bo.on_publish_received = on_publish_received;
    bo.on_lifecycle_stopped = on_stopped;
    bo.on_lifecycle_connection_success = on_connection_success;
    bo.on_lifecycle_connection_failure = on_connection_failure;
    bo.on_lifecycle_disconnection = on_disconnection;
    mqtt5_codec_status st = {0};
    int rc;
    if (o->custom_auth && o->use_websockets)
        rc =
            mqtt5_builder_websockets_with_custom_authorizer(NULL, &o->custom, &bo, &a->client, &st);
    else if (o->custom_auth)
        rc = mqtt5_builder_direct_with_custom_authorizer(&o->custom, &bo, &a->client, &st);
    else if (o->signing_region)
        rc = new_signed_client(a, &bo, &st);
    else if (o->use_websockets)
        rc = new_websocket_client(a, &st);
    else if (o->pkcs11)
        rc = mqtt5_builder_mtls_with_pkcs11(&o->p11, &bo, &a->client, &st);
    else if (o->pkcs12_file)
        rc = mqtt5_builder_mtls_with_pkcs12(o->pkcs12_file, o->pkcs12_password, &bo, &a->client,
                                            &st);
    else if (o->cert)
        rc = mqtt5_builder_mtls_from_path(o->cert, o->key, &bo, &a->client, &st);
    else
        rc = mqtt5_builder_new_default(&bo, true, &a->client, &st);
    if (rc) {
        a->client = NULL;
        char more[512], text[1024];
        status_text(more, sizeof more, &st);
        describe_error(text, sizeof text, rc, more, NULL);
        complain("Error: could not create the client: %s", text);
        return rc;
    }
    return 0;
}

static void on_group_shutdown(void *future)
{
    mqtt5_future_complete(future, MQTT5_OK);
}

/* After the client terminated: drop the Cognito provider and the sample's event-loop group,
 * and wait until the group's threads are gone. */
static void release_runtime(app *a)
{
    if (a->client) return; /* it may still use them: keep both */
    if (a->provider) mqtt5_credentials_provider_release(a->provider);
    a->provider = NULL;
    if (!a->group) return;
    mqtt5_future *down = mqtt5_future_new();
    mqtt5_event_loop_group_release(a->group, down ? on_group_shutdown : NULL, down);
    a->group = NULL;
    if (!down) return;
    if (mqtt5_future_wait(down, TIMEOUT_MS) != 0)
        complain("Error: the event-loop group did not shut down within %u s", TIMEOUT_MS / 1000);
    mqtt5_future_release(down);
}

int main(int argc, char **argv)
{
    if (argc > 0 && argv[0] && *argv[0]) {
        const char *slash = strrchr(argv[0], '/');
        g_prog = slash ? slash + 1 : argv[0];
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    static sample_opts opt;
    parse_args(argc, argv, &opt);
    if (opt.verbosity != MQTT5_LOG_NONE) mqtt5_log_to_stderr(opt.verbosity);

    /* SIGINT goes to our sigwait thread only: block it before any thread exists */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    static app a;
    a.opt = &opt;
    pthread_mutex_init(&a.mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a.cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_t sig_tid;
    if (pthread_create(&sig_tid, NULL, sigint_thread, &a) == 0) pthread_detach(sig_tid);

    a.connected = mqtt5_future_new();
    a.stopped = mqtt5_future_new();
    a.terminated = mqtt5_future_new();
    a.subscribed_f = mqtt5_future_new();
    if (!a.connected || !a.stopped || !a.terminated || !a.subscribed_f) {
        complain("Error: out of memory");
        return 1;
    }

    say("\nStarting MQTT5 PubSub Sample\n");
    int created = create_client(&a);
    if (created) {
        /* nothing will complete the futures: do it so they are freed */
        mqtt5_future *fs[] = {a.connected, a.stopped, a.terminated, a.subscribed_f};
        for (size_t i = 0; i < sizeof fs / sizeof *fs; i++) {
            mqtt5_future_complete(fs[i], MQTT5_ERR_STOPPED);
            mqtt5_future_release(fs[i]);
        }
        release_runtime(&a);
        return created == MQTT5_ERR_FILE ? 2 : 1;
    }
    say("MQTT5 Client Created");

    int status = 1;
    if (step_connect(&a) == 0 && step_subscribe(&a) == 0 && step_publish(&a) == 0) {
        int missing = step_wait_received(&a);
        if (step_unsubscribe(&a) == 0 && step_stop(&a) == 0) status = missing ? 1 : 0;
    }
    release_client(&a);
    release_runtime(&a);
    return status;
}
