/*
 * property_table.c - the table of MQTT 5 properties (specification section 2.2.2.2) that the
 * codec is driven by.
 */
#include "core/property_table.h"

#define K(t) PROP_KIND_BIT(t)
#define KW PROP_KIND_BIT(PROP_KIND_WILL)
#define OFF(f) (uint16_t) offsetof(mqtt5_properties, f)
#define P(id, type, rule, member, kinds, name)                                                     \
    [id] = {id, type, rule, member, kinds, name, "properties." name, "will.properties." name}

enum {
    CONNECT = K(1),
    CONNACK = K(2),
    PUBLISH = K(3),
    ACKS = K(4) | K(5) | K(6) | K(7),
    SUBSCRIBE = K(8),
    SUBACK = K(9),
    UNSUBSCRIBE = K(10),
    UNSUBACK = K(11),
    DISCONNECT = K(14),
    AUTH = K(15),
};

static const prop_info table[MQTT5_PROP_SHARED_SUBSCRIPTION_AVAILABLE + 1] = {
    P(0x01, PT_BYTE, PR_BOOL, OFF(payload_format_indicator), PUBLISH | KW,
      "payloadFormatIndicator"),
    P(0x02, PT_U32, PR_NONE, OFF(message_expiry_interval), PUBLISH | KW, "messageExpiryInterval"),
    P(0x03, PT_STR, PR_NONE, OFF(content_type), PUBLISH | KW, "contentType"),
    P(0x08, PT_STR, PR_TOPIC, OFF(response_topic), PUBLISH | KW, "responseTopic"),
    P(0x09, PT_BIN, PR_NONE, OFF(correlation_data), PUBLISH | KW, "correlationData"),
    P(0x0B, PT_VBI, PR_NONZERO, 0, PUBLISH | SUBSCRIBE, "subscriptionIdentifier"),
    P(0x11, PT_U32, PR_NONE, OFF(session_expiry_interval), CONNECT | CONNACK | DISCONNECT,
      "sessionExpiryInterval"),
    P(0x12, PT_STR, PR_NONE, OFF(assigned_client_identifier), CONNACK, "assignedClientIdentifier"),
    P(0x13, PT_U16, PR_NONE, OFF(server_keep_alive), CONNACK, "serverKeepAlive"),
    P(0x15, PT_STR, PR_NONE, OFF(authentication_method), CONNECT | CONNACK | AUTH,
      "authenticationMethod"),
    P(0x16, PT_BIN, PR_NONE, OFF(authentication_data), CONNECT | CONNACK | AUTH,
      "authenticationData"),
    P(0x17, PT_BYTE, PR_BOOL, OFF(request_problem_information), CONNECT,
      "requestProblemInformation"),
    P(0x18, PT_U32, PR_NONE, OFF(will_delay_interval), KW, "willDelayInterval"),
    P(0x19, PT_BYTE, PR_BOOL, OFF(request_response_information), CONNECT,
      "requestResponseInformation"),
    P(0x1A, PT_STR, PR_NONE, OFF(response_information), CONNACK, "responseInformation"),
    P(0x1C, PT_STR, PR_NONE, OFF(server_reference), CONNACK | DISCONNECT, "serverReference"),
    P(0x1F, PT_STR, PR_NONE, OFF(reason_string),
      CONNACK | ACKS | SUBACK | UNSUBACK | DISCONNECT | AUTH, "reasonString"),
    P(0x21, PT_U16, PR_NONZERO, OFF(receive_maximum), CONNECT | CONNACK, "receiveMaximum"),
    P(0x22, PT_U16, PR_NONE, OFF(topic_alias_maximum), CONNECT | CONNACK, "topicAliasMaximum"),
    P(0x23, PT_U16, PR_ALIAS, OFF(topic_alias), PUBLISH, "topicAlias"),
    P(0x24, PT_BYTE, PR_BOOL, OFF(maximum_qos), CONNACK, "maximumQoS"),
    P(0x25, PT_BYTE, PR_BOOL, OFF(retain_available), CONNACK, "retainAvailable"),
    P(0x26, PT_PAIR, PR_NONE, 0,
      CONNECT | CONNACK | PUBLISH | KW | ACKS | SUBSCRIBE | SUBACK | UNSUBSCRIBE | UNSUBACK |
          DISCONNECT | AUTH,
      "userProperties"),
    P(0x27, PT_U32, PR_NONZERO, OFF(maximum_packet_size), CONNECT | CONNACK, "maximumPacketSize"),
    P(0x28, PT_BYTE, PR_BOOL, OFF(wildcard_subscription_available), CONNACK,
      "wildcardSubscriptionAvailable"),
    P(0x29, PT_BYTE, PR_BOOL, OFF(subscription_identifier_available), CONNACK,
      "subscriptionIdentifiersAvailable"),
    P(0x2A, PT_BYTE, PR_BOOL, OFF(shared_subscription_available), CONNACK,
      "sharedSubscriptionAvailable"),
};

const uint64_t prop_single_valued_mask =
    MQTT5_PROP_BIT(0x01) | MQTT5_PROP_BIT(0x02) | MQTT5_PROP_BIT(0x03) | MQTT5_PROP_BIT(0x08) |
    MQTT5_PROP_BIT(0x09) | MQTT5_PROP_BIT(0x11) | MQTT5_PROP_BIT(0x12) | MQTT5_PROP_BIT(0x13) |
    MQTT5_PROP_BIT(0x15) | MQTT5_PROP_BIT(0x16) | MQTT5_PROP_BIT(0x17) | MQTT5_PROP_BIT(0x18) |
    MQTT5_PROP_BIT(0x19) | MQTT5_PROP_BIT(0x1A) | MQTT5_PROP_BIT(0x1C) | MQTT5_PROP_BIT(0x1F) |
    MQTT5_PROP_BIT(0x21) | MQTT5_PROP_BIT(0x22) | MQTT5_PROP_BIT(0x23) | MQTT5_PROP_BIT(0x24) |
    MQTT5_PROP_BIT(0x25) | MQTT5_PROP_BIT(0x27) | MQTT5_PROP_BIT(0x28) | MQTT5_PROP_BIT(0x29) |
    MQTT5_PROP_BIT(0x2A);

const prop_info *prop_info_get(uint32_t id)
{
    if (id >= sizeof(table) / sizeof(table[0]) || table[id].name == NULL) return NULL;
    return &table[id];
}

const char *mqtt5_property_name(int id)
{
    const prop_info *info = id < 0 ? NULL : prop_info_get((uint32_t)id);
    return info ? info->name : NULL;
}
