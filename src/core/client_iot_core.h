/*
 * client_iot_core.h - AWS IoT Core message broker limits, checked at submit when the client's
 * `iot_core` option is on. Source: AWS IoT Core endpoints and quotas,
 * https://docs.aws.amazon.com/general/latest/gr/iot-core.html (message broker / protocol limits).
 *
 * Every refusal is MQTT5_ERR_IOT_CORE_LIMIT with st->error, st->field and st->detail set (the
 * first error recorded in `st` wins; st may be NULL). These checks add to the codec's MQTT 5
 * validation, they do not replace it. Pure functions: no allocation, no I/O.
 */
#ifndef MQTT5_CORE_CLIENT_IOT_CORE_H
#define MQTT5_CORE_CLIENT_IOT_CORE_H

#include "mqtt5/codec.h"

#define CLIENT_IOT_CORE_MAX_TOPIC_BYTES 256u      /* topic size */
#define CLIENT_IOT_CORE_MAX_SLASHES 7u            /* forward slashes in a topic or filter */
#define CLIENT_IOT_CORE_MAX_CLIENT_ID_BYTES 128u  /* client ID size */
#define CLIENT_IOT_CORE_MAX_PAYLOAD_BYTES 131072u /* PUBLISH payload, 128 KB */
#define CLIENT_IOT_CORE_MAX_SUBSCRIPTIONS 8u      /* topic filters per SUBSCRIBE */
#define CLIENT_IOT_CORE_MAX_UNSUBSCRIPTIONS 8u    /* topic filters per UNSUBSCRIBE */

/* <= 256 bytes and <= 7 '/', not counting a "$aws/rules/<rule-name>/" (Basic Ingest) prefix. */
int client_iot_core_check_topic(mqtt5_str topic, const char *field, mqtt5_codec_status *st);
/* Same limits, not counting a "$share/<group>/" prefix either. */
int client_iot_core_check_filter(mqtt5_str filter, const char *field, mqtt5_codec_status *st);
/* <= 128 bytes, field "clientId". */
int client_iot_core_check_client_id(mqtt5_str id, mqtt5_codec_status *st);
/* Topic (field "topic", skipped when empty: alias only) and payload <= 128 KiB ("payload"). */
int client_iot_core_check_publish(const mqtt5_publish *p, mqtt5_codec_status *st);
/* <= 8 filters ("subscriptions"), each filter ("subscriptions.topic"). */
int client_iot_core_check_subscribe(const mqtt5_subscribe *s, mqtt5_codec_status *st);
/* <= 8 filters ("unsubscriptions"), each filter ("unsubscriptions"). */
int client_iot_core_check_unsubscribe(const mqtt5_unsubscribe *u, mqtt5_codec_status *st);

#endif
