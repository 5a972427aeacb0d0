/*
 * tools/mqtt5/props.c - how each MQTT 5 property maps between mqtt5_properties and the JSON model
 * of mqtt-packet (name, JSON type, struct field).
 */
#include "props.h"

#include <string.h>

#include "mqtt5/mqtt5.h"

#define P(id, kind, field)                                                                         \
    {                                                                                              \
        id, kind, offsetof(mqtt5_properties, field)                                                \
    }

static const prop_info PROPS[] = {
    P(MQTT5_PROP_PAYLOAD_FORMAT_INDICATOR, PROP_FLAG, payload_format_indicator),
    P(MQTT5_PROP_MESSAGE_EXPIRY_INTERVAL, PROP_U32, message_expiry_interval),
    P(MQTT5_PROP_CONTENT_TYPE, PROP_STR, content_type),
    P(MQTT5_PROP_RESPONSE_TOPIC, PROP_STR, response_topic),
    P(MQTT5_PROP_CORRELATION_DATA, PROP_BIN, correlation_data),
    P(MQTT5_PROP_SUBSCRIPTION_IDENTIFIER, PROP_SUBID, subscription_identifiers),
    P(MQTT5_PROP_SESSION_EXPIRY_INTERVAL, PROP_U32, session_expiry_interval),
    P(MQTT5_PROP_ASSIGNED_CLIENT_IDENTIFIER, PROP_STR, assigned_client_identifier),
    P(MQTT5_PROP_SERVER_KEEP_ALIVE, PROP_U16, server_keep_alive),
    P(MQTT5_PROP_AUTHENTICATION_METHOD, PROP_STR, authentication_method),
    P(MQTT5_PROP_AUTHENTICATION_DATA, PROP_BIN, authentication_data),
    P(MQTT5_PROP_REQUEST_PROBLEM_INFORMATION, PROP_FLAG, request_problem_information),
    P(MQTT5_PROP_WILL_DELAY_INTERVAL, PROP_U32, will_delay_interval),
    P(MQTT5_PROP_REQUEST_RESPONSE_INFORMATION, PROP_FLAG, request_response_information),
    P(MQTT5_PROP_RESPONSE_INFORMATION, PROP_STR, response_information),
    P(MQTT5_PROP_SERVER_REFERENCE, PROP_STR, server_reference),
    P(MQTT5_PROP_REASON_STRING, PROP_STR, reason_string),
    P(MQTT5_PROP_RECEIVE_MAXIMUM, PROP_U16, receive_maximum),
    P(MQTT5_PROP_TOPIC_ALIAS_MAXIMUM, PROP_U16, topic_alias_maximum),
    P(MQTT5_PROP_TOPIC_ALIAS, PROP_U16, topic_alias),
    P(MQTT5_PROP_MAXIMUM_QOS, PROP_U8, maximum_qos),
    P(MQTT5_PROP_RETAIN_AVAILABLE, PROP_FLAG, retain_available),
    P(MQTT5_PROP_USER_PROPERTY, PROP_USER, user_properties),
    P(MQTT5_PROP_MAXIMUM_PACKET_SIZE, PROP_U32, maximum_packet_size),
    P(MQTT5_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, PROP_FLAG, wildcard_subscription_available),
    P(MQTT5_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, PROP_FLAG, subscription_identifier_available),
    P(MQTT5_PROP_SHARED_SUBSCRIPTION_AVAILABLE, PROP_FLAG, shared_subscription_available),
};

const prop_info *prop_table(size_t *count)
{
    *count = sizeof PROPS / sizeof PROPS[0];
    return PROPS;
}

const prop_info *prop_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof PROPS / sizeof PROPS[0]; i++) {
        const char *n = mqtt5_property_name(PROPS[i].id);
        if (n != NULL && strcmp(n, name) == 0) return &PROPS[i];
    }
    return NULL;
}
