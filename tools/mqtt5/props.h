/*
 * tools/mqtt5/props.h - how each MQTT 5 property maps between mqtt5_properties and the JSON model
 * of mqtt-packet (name, JSON type, struct field).
 */
#ifndef MQTT5_TOOL_PROPS_H
#define MQTT5_TOOL_PROPS_H

#include <stddef.h>
#include <stdint.h>

typedef enum prop_kind {
    PROP_FLAG, /* byte shown as a JSON boolean (payloadFormatIndicator, ...) */
    PROP_U8,   /* byte shown as a number (maximumQoS) */
    PROP_U16,
    PROP_U32,
    PROP_STR,
    PROP_BIN,   /* lowercase hex */
    PROP_SUBID, /* subscriptionIdentifier: repeated variable byte integer */
    PROP_USER,  /* userProperties: repeated name/value pairs */
} prop_kind;

typedef struct prop_info {
    uint8_t id;
    prop_kind kind;
    size_t offset; /* of the value field in mqtt5_properties (single-valued kinds) */
} prop_info;

/* All properties in ascending identifier order; *count gets the number of entries. */
const prop_info *prop_table(size_t *count);
/* The entry for a mqtt-packet property name, or NULL. */
const prop_info *prop_by_name(const char *name);

#endif
