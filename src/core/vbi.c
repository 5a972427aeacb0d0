/*
 * vbi.c - public variable byte integer helpers (MQTT 5 section 1.5.5) on top of wire.h.
 */
#include "core/wire.h"

size_t mqtt5_vbi_size(uint32_t value)
{
    return value > MQTT5_MAX_VBI ? 0 : wire_vbi_len(value);
}

size_t mqtt5_vbi_encode(uint32_t value, uint8_t out[4])
{
    if (value > MQTT5_MAX_VBI) return 0;
    return (size_t)(wire_put_vbi(out, value) - out);
}
