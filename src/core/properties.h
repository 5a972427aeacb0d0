/*
 * properties.h - private interface of properties.c: property blocks for the decoder and encoder,
 * plus the encoder's string/binary checks shared with encode.c.
 */
#ifndef MQTT5_CORE_PROPERTIES_H
#define MQTT5_CORE_PROPERTIES_H

#include "core/wire.h"

/* Decode a property block (length + properties) for packet kind `kind` (packet type, or
 * PROP_KIND_WILL). `props` must be zeroed by the caller. */
int props_decode(wire_reader *r, mqtt5_properties *props, unsigned kind);

/* Validate `props` for `kind` and set *out to the block length without its length prefix. */
int props_size(const mqtt5_properties *props, unsigned kind, size_t *out, mqtt5_codec_status *st);

/* Write length prefix + block (validated by props_size). Returns the end of what was written. */
uint8_t *props_write(uint8_t *p, const mqtt5_properties *props);

static inline bool props_empty(const mqtt5_properties *props)
{
    return props->present == 0 && props->user_property_count == 0 &&
           props->subscription_identifier_count == 0;
}

/* Make `props` an empty block without clearing every value field (their values are unspecified
 * while their `present` bit is clear). */
static inline void props_reset(mqtt5_properties *props)
{
    props->present = 0;
    props->user_properties = NULL;
    props->user_property_count = 0;
    props->subscription_identifiers = NULL;
    props->subscription_identifier_count = 0;
    props->raw = (mqtt5_bytes){NULL, 0};
}

int enc_check_str(mqtt5_str s, const char *field, mqtt5_codec_status *st);
int enc_check_bytes(mqtt5_bytes b, const char *field, mqtt5_codec_status *st);

#endif
