/*
 * decoder.c - streaming decoder (mqtt5_decoder): turns an arbitrarily chunked byte stream into
 * packets. A packet that is whole in the input is decoded in place (zero copy); only a packet
 * split across calls is gathered: its fixed header into `head`, the rest into the caller's
 * buffer, given up front or on demand once the packet's size is known (a packet that fits in
 * `head` stays there). Errors are sticky.
 */
#include <string.h>

#include "core/decode.h"
#include "core/wire.h"

void mqtt5_decoder_init(mqtt5_decoder *dec, uint8_t *buf, size_t cap, uint32_t max_packet_size)
{
    *dec = (mqtt5_decoder){0};
    dec->buf = buf;
    dec->cap = buf ? cap : 0;
    dec->max_packet_size = max_packet_size;
}

int mqtt5_decoder_set_buffer(mqtt5_decoder *dec, uint8_t *buf, size_t cap)
{
    if (dec->buf && dec->need) return MQTT5_ERR_INVALID_STATE;
    if (buf && cap < dec->need) return MQTT5_ERR_INVALID_ARGUMENT;
    dec->buf = buf;
    dec->cap = buf ? cap : 0;
    if (buf && dec->need) memcpy(buf, dec->head, dec->len);
    return MQTT5_OK;
}

static uint32_t effective_max(const mqtt5_decoder *dec)
{
    uint64_t max = dec->max_packet_size ? dec->max_packet_size : MQTT5_MAX_PACKET_SIZE_LIMIT;
    if (dec->buf && dec->cap < max) max = dec->cap;
    return (uint32_t)max;
}

static int fail(mqtt5_decoder *dec, int rc, const mqtt5_codec_status *got, mqtt5_codec_status *st)
{
    dec->failure = *got;
    dec->failure.error = rc;
    if (st) *st = dec->failure;
    return rc;
}

/* The pending packet is bigger than `head` and there is no storage for it (not sticky). */
static bool needs_storage(const mqtt5_decoder *dec)
{
    return dec->need > sizeof dec->head && !dec->buf;
}

static int ask_storage(size_t used, size_t *consumed, mqtt5_codec_status *st)
{
    *consumed = used;
    if (st)
        *st = (mqtt5_codec_status){.error = MQTT5_ERR_BUFFER_TOO_SMALL,
                                   .field = "length",
                                   .detail = "storage needed for a packet split across calls"};
    return MQTT5_ERR_BUFFER_TOO_SMALL;
}

int mqtt5_decoder_mem_recv(mqtt5_decoder *dec, const uint8_t *in, size_t len, size_t *consumed,
                           mqtt5_packet *out, mqtt5_codec_status *st)
{
    mqtt5_codec_status local = {0};
    size_t used = 0;
    int rc;

    *consumed = 0;
    if (dec->failure.error) {
        if (st) *st = dec->failure;
        return dec->failure.error;
    }
    if (st) *st = local;
    if (needs_storage(dec)) return ask_storage(0, consumed, st);
    uint32_t max = effective_max(dec);

    if (dec->len == 0) {
        rc = mqtt5_packet_decode(in, len, max, out, &used, &local);
        if (rc == MQTT5_OK) {
            *consumed = used;
            return MQTT5_OK;
        }
        if (rc != MQTT5_ERR_NEED_MORE) return fail(dec, rc, &local, st);
    }

    /* Gather the pending packet. */
    while (used < len) {
        uint8_t *dst = dec->buf ? dec->buf : dec->head;
        if (dec->need == 0) {
            /* fixed header: byte by byte into head until the remaining length is complete (at
             * most 5 bytes: a longer remaining length is refused as malformed) */
            dec->head[dec->len++] = in[used++];
            size_t header, total;
            rc = decode_fixed_header(dec->head, dec->len, max, &header, &total, &local);
            if (rc == MQTT5_ERR_NEED_MORE) continue;
            if (rc != MQTT5_OK) return fail(dec, rc, &local, st);
            if (dec->buf && total > dec->cap) {
                /* only reached with cap 0: the limit above is cap otherwise */
                local = (mqtt5_codec_status){.reason_code = MQTT5_RC_PACKET_TOO_LARGE,
                                             .field = "length",
                                             .detail = "decoder buffer too small"};
                return fail(dec, MQTT5_ERR_PACKET_TOO_LARGE, &local, st);
            }
            dec->need = (size_t)total;
            if (needs_storage(dec)) return ask_storage(used, consumed, st);
            if (dec->buf) memcpy(dec->buf, dec->head, dec->len);
        } else {
            size_t take = dec->need - dec->len;
            if (take > len - used) take = len - used;
            memcpy(dst + dec->len, in + used, take);
            dec->len += take;
            used += take;
        }
        if (dec->need && dec->len == dec->need) {
            size_t whole = dec->len;
            dec->len = dec->need = 0;
            *consumed = used;
            rc = mqtt5_packet_decode(dst, whole, max, out, &used, &local);
            if (rc != MQTT5_OK) return fail(dec, rc, &local, st);
            return MQTT5_OK;
        }
    }
    *consumed = used;
    return MQTT5_ERR_NEED_MORE;
}
