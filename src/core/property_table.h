/*
 * property_table.h - private description of every MQTT 5 property: wire type, where its value
 * lives in mqtt5_properties, the packets that may carry it, and the value rule it must obey.
 * The decoder, the encoder and the iterators all work from this one table.
 */
#ifndef MQTT5_CORE_PROPERTY_TABLE_H
#define MQTT5_CORE_PROPERTY_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "mqtt5/packet.h"

/* "Packet kinds" that carry properties: the packet types 1..15, plus 0 for will properties. */
#define PROP_KIND_WILL 0u
#define PROP_KIND_BIT(kind) (1u << (kind))

enum prop_type { PT_BYTE, PT_U16, PT_U32, PT_VBI, PT_STR, PT_BIN, PT_PAIR };
enum prop_rule { PR_NONE, PR_BOOL, PR_NONZERO, PR_ALIAS, PR_TOPIC };

typedef struct prop_info {
    uint8_t id;
    uint8_t type;           /* enum prop_type */
    uint8_t rule;           /* enum prop_rule */
    uint16_t offset;        /* of the value in mqtt5_properties (unused for repeated ones) */
    uint16_t kinds;         /* PROP_KIND_BIT of each packet kind that may carry it */
    const char *name;       /* "topicAlias" */
    const char *field;      /* "properties.topicAlias" */
    const char *will_field; /* "will.properties.topicAlias" */
} prop_info;

/* Info for an identifier, NULL when the identifier is not defined. */
const prop_info *prop_info_get(uint32_t id);

/* Bitmask (MQTT5_PROP_BIT) of every single-valued property. */
extern const uint64_t prop_single_valued_mask;

#endif
