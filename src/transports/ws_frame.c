/*
 * transports/ws_frame.c - the RFC 6455 frame codec of ws_frame.h: header encode/decode with the
 * stateless checks of section 5.2 and 5.5, masking (section 5.3), close payloads (section
 * 5.5.1, 7.4) and the streaming decoder with the message-level checks (section 5.4). No
 * allocation, no I/O.
 */
#include <string.h>

#include "mqtt5/error.h"
#include "transports/ws_frame.h"

enum { D_HEADER, D_PAYLOAD, D_FAILED };

size_t mqtt5_ws_frame_header_size(uint64_t len, bool masked)
{
    size_t n = len < 126 ? 2 : len <= 0xFFFF ? 4 : 10;
    return masked ? n + 4 : n;
}

size_t mqtt5_ws_frame_header_encode(const mqtt5_ws_frame_header *h,
                                    uint8_t out[MQTT5_WS_MAX_HEADER])
{
    size_t at = 0;
    out[at++] = (uint8_t)((h->fin ? 0x80 : 0) | ((h->rsv & 7u) << 4) | (h->opcode & 0x0F));
    uint8_t m = h->masked ? 0x80 : 0;
    if (h->len < 126) {
        out[at++] = (uint8_t)(m | h->len);
    } else if (h->len <= 0xFFFF) {
        out[at++] = (uint8_t)(m | 126);
        out[at++] = (uint8_t)(h->len >> 8);
        out[at++] = (uint8_t)h->len;
    } else {
        out[at++] = (uint8_t)(m | 127);
        for (int shift = 56; shift >= 0; shift -= 8)
            out[at++] = (uint8_t)(h->len >> shift);
    }
    if (h->masked) {
        memcpy(out + at, h->mask, 4);
        at += 4;
    }
    return at;
}

static int bad(const char **why, const char *reason)
{
    if (why) *why = reason;
    return MQTT5_ERR_WEBSOCKET_PROTOCOL;
}

int mqtt5_ws_frame_header_decode(const uint8_t *p, size_t n, mqtt5_ws_frame_header *h, size_t *used,
                                 const char **why)
{
    if (n < 2) return MQTT5_ERR_NEED_MORE;
    memset(h, 0, sizeof *h);
    h->fin = (p[0] & 0x80) != 0;
    h->rsv = (uint8_t)((p[0] >> 4) & 7u);
    h->opcode = p[0] & 0x0F;
    h->masked = (p[1] & 0x80) != 0;
    uint8_t len7 = p[1] & 0x7F;
    if (h->rsv) return bad(why, "reserved bits set, but no extension was negotiated");
    if ((h->opcode >= 0x3 && h->opcode <= 0x7) || h->opcode >= 0xB)
        return bad(why, "reserved opcode");
    bool control = mqtt5_ws_opcode_is_control(h->opcode);
    if (control && !h->fin) return bad(why, "fragmented control frame");
    if (control && len7 > MQTT5_WS_MAX_CONTROL_PAYLOAD)
        return bad(why, "control frame longer than 125 bytes");
    size_t at = 2;
    if (len7 == 126) {
        if (n < 4) return MQTT5_ERR_NEED_MORE;
        h->len = ((uint64_t)p[2] << 8) | p[3];
        at = 4;
        if (h->len < 126) return bad(why, "payload length not minimally encoded");
    } else if (len7 == 127) {
        if (n < 10) return MQTT5_ERR_NEED_MORE;
        if (p[2] & 0x80) return bad(why, "payload length with the most significant bit set");
        for (size_t i = 2; i < 10; i++)
            h->len = (h->len << 8) | p[i];
        at = 10;
        if (h->len <= 0xFFFF) return bad(why, "payload length not minimally encoded");
    } else {
        h->len = len7;
    }
    if (h->masked) {
        if (n < at + 4) return MQTT5_ERR_NEED_MORE;
        memcpy(h->mask, p + at, 4);
        at += 4;
    }
    *used = at;
    return 0;
}

void mqtt5_ws_frame_mask(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t key[4],
                         uint64_t offset)
{
    size_t k = (size_t)(offset & 3u);
    size_t i = 0;
    /* align the key to a 4-byte boundary of the payload, then 4 bytes a step */
    for (; i < n && k != 0; i++, k = (k + 1) & 3u)
        dst[i] = src[i] ^ key[k];
    uint32_t word;
    memcpy(&word, key, 4);
    for (; i + 4 <= n; i += 4) {
        uint32_t v;
        memcpy(&v, src + i, 4);
        v ^= word;
        memcpy(dst + i, &v, 4);
    }
    for (k = 0; i < n; i++, k++)
        dst[i] = src[i] ^ key[k];
}

bool mqtt5_ws_close_code_valid(uint16_t code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

const char *mqtt5_ws_close_code_name(uint16_t code)
{
    switch (code) {
    case 1000:
        return "normal closure";
    case 1001:
        return "going away";
    case 1002:
        return "protocol error";
    case 1003:
        return "unsupported data";
    case 1007:
        return "invalid payload data";
    case 1008:
        return "policy violation";
    case 1009:
        return "message too big";
    case 1010:
        return "mandatory extension";
    case 1011:
        return "internal error";
    case 1012:
        return "service restart";
    case 1013:
        return "try again later";
    case 1014:
        return "bad gateway";
    default:
        return "";
    }
}

int mqtt5_ws_close_parse(const uint8_t *p, size_t n, uint16_t *code, const uint8_t **reason,
                         size_t *reason_len)
{
    *code = 0;
    *reason = NULL;
    *reason_len = 0;
    if (n == 0) return 0;
    if (n == 1) return MQTT5_ERR_WEBSOCKET_PROTOCOL;
    *code = (uint16_t)((p[0] << 8) | p[1]);
    if (!mqtt5_ws_close_code_valid(*code)) return MQTT5_ERR_WEBSOCKET_PROTOCOL;
    *reason = p + 2;
    *reason_len = n - 2;
    return 0;
}

/* ---- streaming decoder ---- */

void mqtt5_ws_decoder_init(mqtt5_ws_decoder *d, uint64_t max_payload, bool expect_masked)
{
    memset(d, 0, sizeof *d);
    d->max_payload = max_payload;
    d->expect_masked = expect_masked;
    d->state = D_HEADER;
}

static int dfail(mqtt5_ws_decoder *d, int err, const char *why)
{
    d->state = D_FAILED;
    d->err = err;
    d->why = why;
    return err;
}

/* The message-level and role checks of a complete header. */
static int accept_header(mqtt5_ws_decoder *d)
{
    const mqtt5_ws_frame_header *h = &d->hdr;
    if (h->masked != d->expect_masked)
        return dfail(d, MQTT5_ERR_WEBSOCKET_PROTOCOL,
                     h->masked ? "masked frame from the server" : "unmasked frame from the client");
    if (mqtt5_ws_opcode_is_control(h->opcode)) return 0;
    if (h->opcode == MQTT5_WS_OP_CONTINUATION) {
        if (!d->in_message)
            return dfail(d, MQTT5_ERR_WEBSOCKET_PROTOCOL, "continuation frame without a message");
    } else {
        if (d->in_message)
            return dfail(d, MQTT5_ERR_WEBSOCKET_PROTOCOL,
                         "new data frame inside a fragmented message");
        d->message_opcode = h->opcode;
    }
    if (d->max_payload && h->len > d->max_payload)
        return dfail(d, MQTT5_ERR_WEBSOCKET_FRAME_TOO_LARGE, "frame over the size limit");
    d->in_message = !h->fin;
    return 0;
}

int mqtt5_ws_decoder_next(mqtt5_ws_decoder *d, const uint8_t *p, size_t n, size_t *used,
                          mqtt5_ws_event *ev)
{
    memset(ev, 0, sizeof *ev);
    *used = 0;
    if (d->state == D_FAILED) return d->err;

    if (d->state == D_HEADER) {
        const char *why = NULL;
        int rc = MQTT5_ERR_NEED_MORE;
        if (d->hdr_n == 0) { /* fast path: the whole header is in p */
            rc = mqtt5_ws_frame_header_decode(p, n, &d->hdr, used, &why);
            if (rc != 0 && rc != MQTT5_ERR_NEED_MORE) return dfail(d, rc, why);
        }
        if (rc != 0) { /* collect the header a byte at a time, never past its end */
            *used = 0;
            for (;;) {
                size_t hu = 0;
                rc = MQTT5_ERR_NEED_MORE;
                if (d->hdr_n >= 2)
                    rc = mqtt5_ws_frame_header_decode(d->hdr_buf, d->hdr_n, &d->hdr, &hu, &why);
                if (rc == 0) break;
                if (rc != MQTT5_ERR_NEED_MORE) return dfail(d, rc, why);
                if (*used == n) return 0; /* NONE: all consumed */
                d->hdr_buf[d->hdr_n++] = p[(*used)++];
            }
            d->hdr_n = 0;
        }
        rc = accept_header(d);
        if (rc) return rc;
        d->done = 0;
        d->state = D_PAYLOAD;
        ev->kind = MQTT5_WS_EV_FRAME;
        ev->hdr = d->hdr;
        return 0;
    }

    /* D_PAYLOAD */
    uint64_t left = d->hdr.len - d->done;
    size_t take = left < n ? (size_t)left : n;
    if (mqtt5_ws_opcode_is_control(d->hdr.opcode)) {
        if (take) memcpy(d->ctl + d->done, p, take);
        d->done += take;
        *used = take;
        if (d->done < d->hdr.len) return 0; /* NONE: all consumed */
        if (d->hdr.masked) mqtt5_ws_frame_mask(d->ctl, d->ctl, (size_t)d->hdr.len, d->hdr.mask, 0);
        d->state = D_HEADER;
        ev->kind = MQTT5_WS_EV_CONTROL;
        ev->hdr = d->hdr;
        ev->data = d->ctl;
        ev->n = (size_t)d->hdr.len;
        return 0;
    }
    if (left == 0) { /* end of a data frame: next header */
        d->state = D_HEADER;
        return mqtt5_ws_decoder_next(d, p, n, used, ev);
    }
    if (take == 0) return 0;
    ev->kind = MQTT5_WS_EV_DATA;
    ev->hdr = d->hdr;
    ev->message_opcode = d->message_opcode;
    ev->data = p;
    ev->n = take;
    ev->offset = d->done;
    d->done += take;
    *used = take;
    if (d->done == d->hdr.len) d->state = D_HEADER;
    return 0;
}
