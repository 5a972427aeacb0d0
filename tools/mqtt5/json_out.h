/*
 * tools/mqtt5/json_out.h - turns a decoded mqtt5_packet into the JSON object model of npm
 * mqtt-packet v9 (protocolVersion 5), binary fields as lowercase hex.
 */
#ifndef MQTT5_TOOL_JSON_OUT_H
#define MQTT5_TOOL_JSON_OUT_H

#include <cjson/cJSON.h>

#include "mqtt5/mqtt5.h"

/* The JSON object for `packet`; NULL when out of memory. Free with cJSON_Delete. */
cJSON *packet_to_json(const mqtt5_packet *packet);

#endif
