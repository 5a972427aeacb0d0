/*
 * tools/mqtt5/json_in.h - builds an mqtt5_packet from the JSON object model of npm mqtt-packet v9
 * (the input of `mqtt5 encode`). Type and range checks happen here; everything the protocol
 * forbids is left to the codec's validation.
 */
#ifndef MQTT5_TOOL_JSON_IN_H
#define MQTT5_TOOL_JSON_IN_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "mqtt5/mqtt5.h"

typedef struct json_error {
    int code;        /* mqtt5_error */
    char field[256]; /* "" when no field applies */
    char detail[256];
} json_error;

/*
 * Fill *out from `root`. Arrays and decoded hex are allocated in `a`; strings point into the
 * cJSON tree, so both must outlive *out. Returns MQTT5_OK, or an error with `err` filled in:
 * MQTT5_ERR_PARSE for a wrong JSON type, missing field, unknown cmd or property name, or a
 * non-integer number; MQTT5_ERR_INVALID_PACKET for an integer out of the field's range or a
 * connect protocolId/protocolVersion other than MQTT 5; MQTT5_ERR_NOMEM.
 */
int json_to_packet(const cJSON *root, mqtt5_packet *out, arena *a, json_error *err);

/* true if JSON text[0..len) has a \u0000 escape inside a string (cJSON would silently cut the
 * string there). */
bool json_has_nul_escape(const char *text, size_t len);

#endif
