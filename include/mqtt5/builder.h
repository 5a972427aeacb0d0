/*
 * mqtt5/builder.h - client builders in the shape of the AWS IoT Device SDK's
 * mqtt5_client_builder: mutual TLS from files or memory, or a default (server-auth TLS or plain
 * TCP) client, with every keyword argument of the SDK's builder in one options struct.
 *
 * Start from mqtt5_builder_options_init(); defaults are in the comments. Differences from the
 * Python SDK, on purpose: port 8883 by default (443 is used only when asked for, and then mutual
 * TLS offers ALPN "x-amzn-mqtt-ca"); AWS IoT Core limits and pacing are on only for endpoints
 * ending in ".amazonaws.com" or ".amazonaws.com.cn" (AUTO), so local brokers are not paced at
 * 100 publishes/s. The SDK metrics string "SDK=mqtt5-c&Version=<v>" is appended to the
 * username (after "?" or "&") unless enable_metrics_collection is false or the result would
 * exceed 65535 bytes.
 *
 * Errors: a builder returns a negative mqtt5_error and names the keyword in status->field
 * ("cert_filepath", "pri_key_filepath", "endpoint", "keep_alive_interval_sec", ...).
 *
 * Rules worth knowing: keep_alive_interval_sec must exceed ping_timeout_ms / 1000 (both nonzero);
 * maximum_packet_size is 64..268435460; will_delay_interval_sec without a will is ignored; the
 * TLS keywords are ignored by a plain-TCP client. A connect_options field counts as set when
 * its pointer is non-NULL, its number nonzero, its has_* flag true or its property present (so a
 * keep-alive of 0 is asked for with the keyword, not there).
 */
#ifndef MQTT5_BUILDER_H
#define MQTT5_BUILDER_H

#include "mqtt5/client.h"
#include "mqtt5/credentials.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MQTT5_SDK_METRICS_NAME "mqtt5-c"

typedef enum mqtt5_ext_validation {
    MQTT5_EXT_VALIDATION_AUTO = 0, /* IoT Core limits for *.amazonaws.com[.cn], else none */
    MQTT5_EXT_VALIDATION_NONE,
    MQTT5_EXT_VALIDATION_IOT_CORE, /* AWS IoT Core limits and publish pacing */
} mqtt5_ext_validation;

typedef struct mqtt5_topic_aliasing_options {
    mqtt5_alias_out outbound_behavior; /* DISABLED */
    uint16_t outbound_cache_max_size;  /* 25 */
    mqtt5_alias_in inbound_behavior;   /* DISABLED */
    uint16_t inbound_cache_max_size;   /* 25 */
} mqtt5_topic_aliasing_options;

typedef struct mqtt5_builder_options {
    const char *endpoint;                     /* required: host name or IP literal */
    uint16_t port;                            /* 0 = 8883 (443 + mTLS: ALPN x-amzn-mqtt-ca) */
    mqtt5_event_loop_group *client_bootstrap; /* NULL = a private 1-thread group */
    mqtt5_socket_options socket_options;      /* 10000 ms connect timeout, nodelay on */
    const mqtt5_http_proxy_options *http_proxy_options;     /* NULL; also used by the default
                                                               credentials chain's HTTP calls */
    const mqtt5_socks5_proxy_options *socks5_proxy_options; /* NULL */
    /* TLS trust: one of these, or none for the system trust store */
    const char *ca_filepath, *ca_dirpath; /* NULL */
    const uint8_t *ca_bytes;              /* NULL */
    size_t ca_bytes_len;
    const char *const *alpn_list; /* NULL = the port rule above; alpn_count 0 */
    size_t alpn_count;
    /* CONNECT */
    const char *client_id;            /* NULL = "" (the server assigns one) */
    uint16_t keep_alive_interval_sec; /* 1200; 0 = no keep-alive */
    const char *username;             /* NULL; the metrics suffix is appended */
    const uint8_t *password;          /* NULL */
    size_t password_len;
    int64_t session_expiry_interval_sec;        /* -1 = not sent (0: session ends on close) */
    int8_t request_response_information;        /* -1 = not sent, else 0/1 */
    int8_t request_problem_information;         /* -1 = not sent, else 0/1 */
    int32_t receive_maximum;                    /* -1 = the client's 100 */
    int64_t maximum_packet_size;                /* -1 = the client's 131072 */
    int64_t will_delay_interval_sec;            /* -1 = not sent */
    const mqtt5_will *will;                     /* NULL */
    const mqtt5_user_property *user_properties; /* NULL; user_property_count 0 */
    size_t user_property_count;
    /* A whole CONNECT template; fields it sets win over the keywords above. NULL. */
    const mqtt5_connect *connect_options;
    /* client behaviour */
    mqtt5_session_behavior session_behavior;                           /* CLEAN */
    mqtt5_ext_validation extended_validation_and_flow_control_options; /* AUTO */
    mqtt5_offline_policy offline_queue_behavior;             /* FAIL_QOS0_PUBLISH_ON_DISCONNECT */
    mqtt5_jitter retry_jitter_mode;                          /* FULL */
    uint32_t min_reconnect_delay_ms;                         /* 1000 */
    uint32_t max_reconnect_delay_ms;                         /* 120000 */
    uint32_t min_connected_time_to_reset_reconnect_delay_ms; /* 30000 */
    uint32_t ping_timeout_ms;                                /* 30000 */
    uint32_t connack_timeout_ms;                             /* 20000 */
    uint32_t ack_timeout_sec;                                /* 60; 0 = none */
    mqtt5_topic_aliasing_options topic_aliasing_options;
    bool ack_coalescing;            /* true: see mqtt5_client_core_options.ack_coalescing */
    bool enable_metrics_collection; /* true */
    /* callbacks (all may be NULL), all given user_data */
    void *user_data;
    mqtt5_publish_fn on_publish_received;
    mqtt5_lifecycle_fn on_lifecycle_stopped;
    mqtt5_lifecycle_fn on_lifecycle_attempting_connect;
    mqtt5_lifecycle_fn on_lifecycle_connection_success;
    mqtt5_lifecycle_fn on_lifecycle_connection_failure;
    mqtt5_lifecycle_fn on_lifecycle_disconnection;
} mqtt5_builder_options;

void mqtt5_builder_options_init(mqtt5_builder_options *o);

/* Mutual TLS with a PEM certificate (chain) file and a PEM private key file. */
int mqtt5_builder_mtls_from_path(const char *cert_filepath, const char *pri_key_filepath,
                                 const mqtt5_builder_options *o, mqtt5_client **out,
                                 mqtt5_codec_status *status);
/* Mutual TLS with the PEM certificate and key in memory (the key copy is wiped after use). */
int mqtt5_builder_mtls_from_bytes(const uint8_t *cert, size_t cert_len, const uint8_t *key,
                                  size_t key_len, const mqtt5_builder_options *o,
                                  mqtt5_client **out, mqtt5_codec_status *status);
/* Server-authenticated TLS (use_tls) or plain TCP (then the default port is 1883). */
int mqtt5_builder_new_default(const mqtt5_builder_options *o, bool use_tls, mqtt5_client **out,
                              mqtt5_codec_status *status);

/*
 * MQTT over WebSockets to AWS IoT Core, the upgrade presigned with SigV4 (service
 * iotdevicegateway) in `region` with credentials asked of `credentials_provider` on every
 * connection attempt (NULL = the default chain of mqtt5/credentials.h, on the client's
 * event-loop group; e.g. pass mqtt5_credentials_provider_new_cognito() for Cognito). The
 * client keeps a reference on the provider until it terminated. Server-authenticated TLS
 * (ca_filepath etc. apply); default port 443 and ALPN "http/1.1" unless alpn_list is given.
 * Errors name the keyword: "region", "credentials_provider", or the builder options'.
 */
int mqtt5_builder_websockets_with_default_aws_signing(
    const char *region, mqtt5_credentials_provider *credentials_provider,
    const mqtt5_builder_options *o, mqtt5_client **out, mqtt5_codec_status *status);

/* Mutual TLS with certificate, key and chain from a PKCS#12 file (keywords "pkcs12_filepath",
 * "pkcs12_password"); a wrong password is MQTT5_ERR_TLS_CREDENTIALS naming "pkcs12_password". */
int mqtt5_builder_mtls_with_pkcs12(const char *pkcs12_filepath, const char *pkcs12_password,
                                   const mqtt5_builder_options *o, mqtt5_client **out,
                                   mqtt5_codec_status *status);

/* The seed's mtls_with_pkcs11 keywords. */
typedef struct mqtt5_builder_pkcs11_options {
    const char *pkcs11_lib; /* required */
    const char *user_pin;   /* NULL = protected authentication path */
    bool has_slot_id;
    uint64_t slot_id;
    const char *token_label;       /* NULL = any */
    const char *private_key_label; /* NULL = the only private key */
    const char *cert_filepath;     /* the certificate: a file, or */
    const uint8_t *cert_bytes;     /* PEM bytes */
    size_t cert_len;
} mqtt5_builder_pkcs11_options;

/* Mutual TLS with the private key on a PKCS#11 token (errors name the keyword: "pkcs11_lib",
 * "user_pin" for a wrong PIN, "private_key_label" for a missing key, ...). */
int mqtt5_builder_mtls_with_pkcs11(const mqtt5_builder_pkcs11_options *p,
                                   const mqtt5_builder_options *o, mqtt5_client **out,
                                   mqtt5_codec_status *status);

/* The seed's custom authorizer keywords (AWS IoT custom authentication). Any may be NULL. */
typedef struct mqtt5_custom_auth_options {
    const char *auth_username;             /* the base username */
    const char *auth_authorizer_name;      /* x-amz-customauthorizer-name */
    const char *auth_authorizer_signature; /* x-amz-customauthorizer-signature (URL-encoded
                                              unless it already holds '%') */
    const char *auth_password;             /* the MQTT password */
    const char *auth_token_key_name;       /* with auth_token_value: "<key name>=<value>" */
    const char *auth_token_value;
} mqtt5_custom_auth_options;

/* MQTT over TLS to an AWS IoT custom authorizer: port 443 and ALPN "mqtt" unless given.
 * Username: auth_username (else connect_options' username, else the username keyword), then
 * "?x-amz-customauthorizer-name=<name>", "&x-amz-customauthorizer-signature=<signature>" and
 * "&<token key name>=<token value>" (only with both), '&' throughout when the username already
 * holds a '?'; a parameter the username already carries, or a "key=" the value already holds,
 * is not added twice; then the SDK metrics. Password: auth_password, else the password keyword
 * (connect_options' wins). Errors name the keyword ("auth_authorizer_name", "auth_token_value",
 * ...): empty values, control characters, invalid UTF-8, a username over 65535 bytes. */
int mqtt5_builder_direct_with_custom_authorizer(const mqtt5_custom_auth_options *ca,
                                                const mqtt5_builder_options *o, mqtt5_client **out,
                                                mqtt5_codec_status *status);
/* The same over WebSockets (TLS, port 443, no SigV4 signing; region is kept for parity with the
 * AWS SDK and may be NULL). */
int mqtt5_builder_websockets_with_custom_authorizer(const char *region,
                                                    const mqtt5_custom_auth_options *ca,
                                                    const mqtt5_builder_options *o,
                                                    mqtt5_client **out, mqtt5_codec_status *status);

#ifdef __cplusplus
}
#endif
#endif
