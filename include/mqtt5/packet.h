/*
 * mqtt5/packet.h - the MQTT 5 packet object model shared by the encoder and the decoder.
 *
 * All strings and binary fields are views (pointer + length). A decoded packet points into the
 * buffer it was decoded from and is valid as long as that buffer is; an encoded packet is read
 * from whatever memory the caller points at. Nothing here owns memory.
 *
 * Repeated items (user properties, subscription identifiers, SUBSCRIBE/UNSUBSCRIBE entries) are
 * given to the encoder as arrays. The decoder does not allocate, so it leaves the array pointers
 * NULL, sets the counts, and keeps the encoded region in `raw`; read them with the iterators at
 * the end of this file, which work on both decoded and hand-built packets. The encoder reads
 * repeated items through the same iterators, so a decoded packet can be re-encoded as it is.
 */
#ifndef MQTT5_PACKET_H
#define MQTT5_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mqtt5_str {
    const char *ptr; /* not NUL-terminated */
    size_t len;
} mqtt5_str;

typedef struct mqtt5_bytes {
    const uint8_t *ptr;
    size_t len;
} mqtt5_bytes;

typedef enum mqtt5_packet_type {
    MQTT5_CONNECT = 1,
    MQTT5_CONNACK = 2,
    MQTT5_PUBLISH = 3,
    MQTT5_PUBACK = 4,
    MQTT5_PUBREC = 5,
    MQTT5_PUBREL = 6,
    MQTT5_PUBCOMP = 7,
    MQTT5_SUBSCRIBE = 8,
    MQTT5_SUBACK = 9,
    MQTT5_UNSUBSCRIBE = 10,
    MQTT5_UNSUBACK = 11,
    MQTT5_PINGREQ = 12,
    MQTT5_PINGRESP = 13,
    MQTT5_DISCONNECT = 14,
    MQTT5_AUTH = 15,
} mqtt5_packet_type;

/* Lowercase packet name as used by mqtt-packet's `cmd` ("connect", "puback", ...); NULL if
 * the type is out of range. */
const char *mqtt5_packet_type_name(int type);

/* Reason codes (MQTT 5 section 2.4). */
enum mqtt5_reason_code {
    MQTT5_RC_SUCCESS = 0x00, /* also Normal disconnection, Granted QoS 0 */
    MQTT5_RC_GRANTED_QOS_1 = 0x01,
    MQTT5_RC_GRANTED_QOS_2 = 0x02,
    MQTT5_RC_DISCONNECT_WITH_WILL_MESSAGE = 0x04,
    MQTT5_RC_NO_MATCHING_SUBSCRIBERS = 0x10,
    MQTT5_RC_NO_SUBSCRIPTION_EXISTED = 0x11,
    MQTT5_RC_CONTINUE_AUTHENTICATION = 0x18,
    MQTT5_RC_RE_AUTHENTICATE = 0x19,
    MQTT5_RC_UNSPECIFIED_ERROR = 0x80,
    MQTT5_RC_MALFORMED_PACKET = 0x81,
    MQTT5_RC_PROTOCOL_ERROR = 0x82,
    MQTT5_RC_IMPLEMENTATION_SPECIFIC_ERROR = 0x83,
    MQTT5_RC_UNSUPPORTED_PROTOCOL_VERSION = 0x84,
    MQTT5_RC_CLIENT_IDENTIFIER_NOT_VALID = 0x85,
    MQTT5_RC_BAD_USER_NAME_OR_PASSWORD = 0x86,
    MQTT5_RC_NOT_AUTHORIZED = 0x87,
    MQTT5_RC_SERVER_UNAVAILABLE = 0x88,
    MQTT5_RC_SERVER_BUSY = 0x89,
    MQTT5_RC_BANNED = 0x8A,
    MQTT5_RC_SERVER_SHUTTING_DOWN = 0x8B,
    MQTT5_RC_BAD_AUTHENTICATION_METHOD = 0x8C,
    MQTT5_RC_KEEP_ALIVE_TIMEOUT = 0x8D,
    MQTT5_RC_SESSION_TAKEN_OVER = 0x8E,
    MQTT5_RC_TOPIC_FILTER_INVALID = 0x8F,
    MQTT5_RC_TOPIC_NAME_INVALID = 0x90,
    MQTT5_RC_PACKET_IDENTIFIER_IN_USE = 0x91,
    MQTT5_RC_PACKET_IDENTIFIER_NOT_FOUND = 0x92,
    MQTT5_RC_RECEIVE_MAXIMUM_EXCEEDED = 0x93,
    MQTT5_RC_TOPIC_ALIAS_INVALID = 0x94,
    MQTT5_RC_PACKET_TOO_LARGE = 0x95,
    MQTT5_RC_MESSAGE_RATE_TOO_HIGH = 0x96,
    MQTT5_RC_QUOTA_EXCEEDED = 0x97,
    MQTT5_RC_ADMINISTRATIVE_ACTION = 0x98,
    MQTT5_RC_PAYLOAD_FORMAT_INVALID = 0x99,
    MQTT5_RC_RETAIN_NOT_SUPPORTED = 0x9A,
    MQTT5_RC_QOS_NOT_SUPPORTED = 0x9B,
    MQTT5_RC_USE_ANOTHER_SERVER = 0x9C,
    MQTT5_RC_SERVER_MOVED = 0x9D,
    MQTT5_RC_SHARED_SUBSCRIPTIONS_NOT_SUPPORTED = 0x9E,
    MQTT5_RC_CONNECTION_RATE_EXCEEDED = 0x9F,
    MQTT5_RC_MAXIMUM_CONNECT_TIME = 0xA0,
    MQTT5_RC_SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED = 0xA1,
    MQTT5_RC_WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED = 0xA2,
};

/* Name of a reason code in the specification's words ("Malformed Packet"); generic names where
 * the meaning depends on the packet type (0x00 is "Success"). NULL if undefined. */
const char *mqtt5_reason_code_name(int reason_code);
/* true if `reason_code` is defined for packets of `type` (CONNACK, PUBACK..PUBCOMP, SUBACK,
 * UNSUBACK, DISCONNECT, AUTH). */
bool mqtt5_reason_code_valid_for(int type, int reason_code);

/* Property identifiers (MQTT 5 section 2.2.2.2). */
typedef enum mqtt5_property_id {
    MQTT5_PROP_PAYLOAD_FORMAT_INDICATOR = 0x01,
    MQTT5_PROP_MESSAGE_EXPIRY_INTERVAL = 0x02,
    MQTT5_PROP_CONTENT_TYPE = 0x03,
    MQTT5_PROP_RESPONSE_TOPIC = 0x08,
    MQTT5_PROP_CORRELATION_DATA = 0x09,
    MQTT5_PROP_SUBSCRIPTION_IDENTIFIER = 0x0B,
    MQTT5_PROP_SESSION_EXPIRY_INTERVAL = 0x11,
    MQTT5_PROP_ASSIGNED_CLIENT_IDENTIFIER = 0x12,
    MQTT5_PROP_SERVER_KEEP_ALIVE = 0x13,
    MQTT5_PROP_AUTHENTICATION_METHOD = 0x15,
    MQTT5_PROP_AUTHENTICATION_DATA = 0x16,
    MQTT5_PROP_REQUEST_PROBLEM_INFORMATION = 0x17,
    MQTT5_PROP_WILL_DELAY_INTERVAL = 0x18,
    MQTT5_PROP_REQUEST_RESPONSE_INFORMATION = 0x19,
    MQTT5_PROP_RESPONSE_INFORMATION = 0x1A,
    MQTT5_PROP_SERVER_REFERENCE = 0x1C,
    MQTT5_PROP_REASON_STRING = 0x1F,
    MQTT5_PROP_RECEIVE_MAXIMUM = 0x21,
    MQTT5_PROP_TOPIC_ALIAS_MAXIMUM = 0x22,
    MQTT5_PROP_TOPIC_ALIAS = 0x23,
    MQTT5_PROP_MAXIMUM_QOS = 0x24,
    MQTT5_PROP_RETAIN_AVAILABLE = 0x25,
    MQTT5_PROP_USER_PROPERTY = 0x26,
    MQTT5_PROP_MAXIMUM_PACKET_SIZE = 0x27,
    MQTT5_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28,
    MQTT5_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29,
    MQTT5_PROP_SHARED_SUBSCRIPTION_AVAILABLE = 0x2A,
} mqtt5_property_id;

/* Bit for a single-valued property in mqtt5_properties.present. */
#define MQTT5_PROP_BIT(id) (UINT64_C(1) << (id))
#define MQTT5_PROPS_HAS(props, id) (((props)->present & MQTT5_PROP_BIT(id)) != 0)
#define MQTT5_PROPS_SET(props, id) ((props)->present |= MQTT5_PROP_BIT(id))

/* mqtt-packet's camelCase name of a property ("topicAlias"); NULL for unknown ids. */
const char *mqtt5_property_name(int id);

typedef struct mqtt5_user_property {
    mqtt5_str name;
    mqtt5_str value;
} mqtt5_user_property;

/*
 * Properties of one packet (or of a will). A single-valued property is present when its bit is
 * set in `present` (MQTT5_PROPS_HAS); the value field of an absent property is unspecified.
 * User properties and subscription identifiers may repeat and are not in `present`: see the
 * header comment for how they are carried.
 */
typedef struct mqtt5_properties {
    uint64_t present;

    uint8_t payload_format_indicator;          /* 0 or 1 */
    uint8_t request_problem_information;       /* 0 or 1 */
    uint8_t request_response_information;      /* 0 or 1 */
    uint8_t maximum_qos;                       /* 0 or 1 */
    uint8_t retain_available;                  /* 0 or 1 */
    uint8_t wildcard_subscription_available;   /* 0 or 1 */
    uint8_t subscription_identifier_available; /* 0 or 1 */
    uint8_t shared_subscription_available;     /* 0 or 1 */
    uint16_t server_keep_alive;
    uint16_t receive_maximum; /* 1..65535 */
    uint16_t topic_alias_maximum;
    uint16_t topic_alias; /* 1..65535 */
    uint32_t message_expiry_interval;
    uint32_t session_expiry_interval;
    uint32_t will_delay_interval;
    uint32_t maximum_packet_size; /* 1..2^32-1 */
    mqtt5_str content_type;
    mqtt5_str response_topic;
    mqtt5_str assigned_client_identifier;
    mqtt5_str authentication_method;
    mqtt5_str response_information;
    mqtt5_str server_reference;
    mqtt5_str reason_string;
    mqtt5_bytes correlation_data;
    mqtt5_bytes authentication_data;

    /* Repeated properties. Encoder: arrays of `*_count` items. Decoder: pointers NULL. */
    const mqtt5_user_property *user_properties;
    size_t user_property_count;
    const uint32_t *subscription_identifiers; /* each 1..268435455 */
    size_t subscription_identifier_count;

    /* Decoder only: the encoded property block (without its length prefix). */
    mqtt5_bytes raw;
} mqtt5_properties;

typedef struct mqtt5_will {
    mqtt5_str topic;
    mqtt5_bytes payload;
    uint8_t qos;
    bool retain;
    mqtt5_properties properties;
} mqtt5_will;

typedef struct mqtt5_connect {
    mqtt5_str protocol_name;  /* decoder: "MQTT"; encoder: ignored, always "MQTT" */
    uint8_t protocol_version; /* decoder: 5; encoder: ignored, always 5 */
    bool clean_start;
    uint16_t keep_alive;
    mqtt5_str client_id;
    bool has_will;
    mqtt5_will will;
    bool has_username;
    mqtt5_str username;
    bool has_password;
    mqtt5_bytes password;
    mqtt5_properties properties;
} mqtt5_connect;

typedef struct mqtt5_connack {
    bool session_present;
    uint8_t reason_code;
    mqtt5_properties properties;
} mqtt5_connack;

typedef struct mqtt5_publish {
    uint8_t qos;
    bool dup;
    bool retain;
    mqtt5_str topic;    /* may be empty when a topic alias is present */
    uint16_t packet_id; /* QoS 1 and 2 only */
    mqtt5_bytes payload;
    mqtt5_properties properties;
} mqtt5_publish;

/* PUBACK, PUBREC, PUBREL and PUBCOMP. */
typedef struct mqtt5_ack {
    uint16_t packet_id;
    uint8_t reason_code;
    mqtt5_properties properties;
} mqtt5_ack;

enum mqtt5_retain_handling {
    MQTT5_RETAIN_SEND_ON_SUBSCRIBE = 0,
    MQTT5_RETAIN_SEND_ON_NEW_SUBSCRIBE = 1,
    MQTT5_RETAIN_DONT_SEND = 2,
};

typedef struct mqtt5_subscription {
    mqtt5_str topic_filter;
    uint8_t qos;
    bool no_local;
    bool retain_as_published;
    uint8_t retain_handling; /* enum mqtt5_retain_handling */
} mqtt5_subscription;

typedef struct mqtt5_subscribe {
    uint16_t packet_id;
    const mqtt5_subscription *subscriptions; /* decoder: NULL, see mqtt5_subscribe_next */
    size_t subscription_count;
    mqtt5_bytes raw_payload; /* decoder only */
    mqtt5_properties properties;
} mqtt5_subscribe;

/* SUBACK and UNSUBACK: one reason code per requested filter. */
typedef struct mqtt5_suback {
    uint16_t packet_id;
    const uint8_t *reason_codes;
    size_t reason_code_count;
    mqtt5_properties properties;
} mqtt5_suback;

typedef struct mqtt5_unsubscribe {
    uint16_t packet_id;
    const mqtt5_str *topic_filters; /* decoder: NULL, see mqtt5_unsubscribe_next */
    size_t topic_filter_count;
    mqtt5_bytes raw_payload; /* decoder only */
    mqtt5_properties properties;
} mqtt5_unsubscribe;

/* DISCONNECT and AUTH. */
typedef struct mqtt5_disconnect {
    uint8_t reason_code;
    mqtt5_properties properties;
} mqtt5_disconnect;

typedef struct mqtt5_packet {
    mqtt5_packet_type type;
    union {
        mqtt5_connect connect;
        mqtt5_connack connack;
        mqtt5_publish publish;
        mqtt5_ack ack; /* PUBACK, PUBREC, PUBREL, PUBCOMP */
        mqtt5_subscribe subscribe;
        mqtt5_suback suback; /* SUBACK, UNSUBACK */
        mqtt5_unsubscribe unsubscribe;
        mqtt5_disconnect disconnect; /* DISCONNECT */
        mqtt5_disconnect auth;       /* AUTH */
    } u;
} mqtt5_packet;

/* Properties of a packet, or NULL for PINGREQ/PINGRESP (and bad types). */
const mqtt5_properties *mqtt5_packet_properties(const mqtt5_packet *packet);

/*
 * Iterators over repeated items. Zero-initialise the iterator, then call *_next until it returns
 * false. They read the arrays when present, else the decoded region (validated by the decoder).
 */
typedef struct mqtt5_iter {
    size_t index;
    size_t pos;
} mqtt5_iter;

bool mqtt5_user_property_next(const mqtt5_properties *props, mqtt5_iter *it,
                              mqtt5_user_property *out);
bool mqtt5_subscription_identifier_next(const mqtt5_properties *props, mqtt5_iter *it,
                                        uint32_t *out);
bool mqtt5_subscribe_next(const mqtt5_subscribe *sub, mqtt5_iter *it, mqtt5_subscription *out);
bool mqtt5_unsubscribe_next(const mqtt5_unsubscribe *unsub, mqtt5_iter *it, mqtt5_str *out);

#ifdef __cplusplus
}
#endif
#endif
