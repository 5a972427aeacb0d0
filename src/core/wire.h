/*
 * wire.h - private primitives of the codec: a bounds-checked read cursor that records the first
 * error with its reason code and offset, and unchecked writers for a buffer whose size was
 * computed beforehand. Everything is static inline so the hot decode path has no calls.
 */
#ifndef MQTT5_CORE_WIRE_H
#define MQTT5_CORE_WIRE_H

#include <string.h>

#include "mqtt5/codec.h"

/* Read cursor over one packet: [base, end), `p` is the current position. */
typedef struct wire_reader {
    const uint8_t *base;
    const uint8_t *p;
    const uint8_t *end;
    mqtt5_codec_status *st;
} wire_reader;

/* Record an error (the first one wins) and return its code. */
static inline int wire_fail(wire_reader *r, int err, uint8_t reason, const uint8_t *at,
                            const char *field, const char *detail)
{
    if (r->st && r->st->error == MQTT5_OK) {
        r->st->error = err;
        r->st->reason_code = reason;
        r->st->offset = (size_t)(at - r->base);
        r->st->field = field;
        r->st->detail = detail;
    }
    return err;
}

#define WIRE_MALFORMED(r, at, field, detail)                                                       \
    wire_fail((r), MQTT5_ERR_MALFORMED_PACKET, MQTT5_RC_MALFORMED_PACKET, (at), (field), (detail))
#define WIRE_PROTOCOL(r, at, field, detail)                                                        \
    wire_fail((r), MQTT5_ERR_PROTOCOL_ERROR, MQTT5_RC_PROTOCOL_ERROR, (at), (field), (detail))

static inline size_t wire_left(const wire_reader *r)
{
    return (size_t)(r->end - r->p);
}

static inline int wire_u8(wire_reader *r, uint8_t *v, const char *field)
{
    if (r->p >= r->end) return WIRE_MALFORMED(r, r->p, field, "packet ends before this field");
    *v = *r->p++;
    return MQTT5_OK;
}

static inline int wire_u16(wire_reader *r, uint16_t *v, const char *field)
{
    if (wire_left(r) < 2) return WIRE_MALFORMED(r, r->p, field, "packet ends before this field");
    *v = (uint16_t)((r->p[0] << 8) | r->p[1]);
    r->p += 2;
    return MQTT5_OK;
}

static inline int wire_u32(wire_reader *r, uint32_t *v, const char *field)
{
    if (wire_left(r) < 4) return WIRE_MALFORMED(r, r->p, field, "packet ends before this field");
    *v = ((uint32_t)r->p[0] << 24) | ((uint32_t)r->p[1] << 16) | ((uint32_t)r->p[2] << 8) | r->p[3];
    r->p += 4;
    return MQTT5_OK;
}

/*
 * Variable byte integer from [p, end). Returns bytes used (1..4), 0 if more input is needed,
 * -1 if malformed (a fifth byte, or a non-minimal encoding such as 80 00).
 */
static inline int wire_vbi_parse(const uint8_t *p, const uint8_t *end, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        if (p + i >= end) return 0;
        uint8_t b = p[i];
        v |= (uint32_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            if (i > 0 && b == 0) return -1; /* [MQTT-1.5.5-1] minimum number of bytes */
            *out = v;
            return i + 1;
        }
    }
    return -1;
}

static inline int wire_vbi(wire_reader *r, uint32_t *v, const char *field)
{
    int n = wire_vbi_parse(r->p, r->end, v);
    if (n <= 0)
        return WIRE_MALFORMED(r, r->p, field,
                              n == 0 ? "packet ends inside a variable byte integer"
                                     : "invalid variable byte integer");
    r->p += n;
    return MQTT5_OK;
}

/* Binary data: 2-byte length + bytes. */
static inline int wire_bytes(wire_reader *r, mqtt5_bytes *out, const char *field)
{
    const uint8_t *at = r->p;
    uint16_t n;
    if (wire_left(r) < 2) return WIRE_MALFORMED(r, at, field, "packet ends before this field");
    n = (uint16_t)((r->p[0] << 8) | r->p[1]);
    if (wire_left(r) - 2 < n) return WIRE_MALFORMED(r, at, field, "length runs past the end");
    out->ptr = r->p + 2;
    out->len = n;
    r->p += 2 + (size_t)n;
    return MQTT5_OK;
}

/* UTF-8 string: as binary, then checked ([MQTT-1.5.4-1..3]). */
static inline int wire_str(wire_reader *r, mqtt5_str *out, const char *field)
{
    const uint8_t *at = r->p;
    mqtt5_bytes b;
    int rc = wire_bytes(r, &b, field);
    if (rc) return rc;
    if (!mqtt5_utf8_valid((const char *)b.ptr, b.len))
        return WIRE_MALFORMED(r, at, field, "invalid UTF-8 string");
    out->ptr = (const char *)b.ptr;
    out->len = b.len;
    return MQTT5_OK;
}

/* ---- writers: the caller has checked the room ---------------------------------------------- */

static inline uint8_t *wire_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

static inline uint8_t *wire_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

static inline uint8_t *wire_put_vbi(uint8_t *p, uint32_t v)
{
    do {
        uint8_t b = (uint8_t)(v & 0x7F);
        v >>= 7;
        if (v) b |= 0x80;
        *p++ = b;
    } while (v);
    return p;
}

static inline uint8_t *wire_put_bytes(uint8_t *p, const void *data, size_t len)
{
    p = wire_put_u16(p, (uint16_t)len);
    if (len) memcpy(p, data, len);
    return p + len;
}

static inline size_t wire_vbi_len(uint32_t v)
{
    return v < 128u ? 1 : v < 16384u ? 2 : v < 2097152u ? 3 : 4;
}

#endif
