/*
 * decoder.c - streaming decoder (mqtt5_decoder): turns an arbitrarily chunked byte stream into
 * packets. A packet that is whole in the input is decoded in place (zero copy); only a packet
 * split across calls is gathered into the caller's buffer. Errors are sticky.
 */
#include "core/decode.h"
#include "core/wire.h"

void mqtt5_decoder_init(mqtt5_decoder *dec, uint8_t *buf, size_t cap, uint32_t max_packet_size)
{
    *dec = (mqtt5_decoder){0};
    dec->buf = buf;
    dec->cap = cap;
    dec->max_packet_size = max_packet_size;
}

static uint32_t effective_max(const mqtt5_decoder *dec)
{
    uint64_t max = dec->max_packet_size ? dec->max_packet_size : MQTT5_MAX_PACKET_SIZE_LIMIT;
    if (dec->cap < max) max = dec->cap;
    return (uint32_t)max;
}

static int fail(mqtt5_decoder *dec, int rc, const mqtt5_codec_status *got, mqtt5_codec_status *st)
{
    dec->failure = *got;
    dec->failure.error = rc;
    if (st) *st = dec->failure;
    return rc;
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
    uint32_t max = effective_max(dec);

    if (dec->len == 0) {
        rc = mqtt5_packet_decode(in, len, max, out, &used, &local);
        if (rc == MQTT5_OK) {
            *consumed = used;
            return MQTT5_OK;
        }
        if (rc != MQTT5_ERR_NEED_MORE) return fail(dec, rc, &local, st);
    }

    /* Gather the pending packet into dec->buf. */
    while (used < len) {
        if (dec->need == 0) {
            /* fixed header: copy byte by byte until the remaining length is complete */
            if (dec->len >= dec->cap) {
                local = (mqtt5_codec_status){.reason_code = MQTT5_RC_PACKET_TOO_LARGE,
                                             .field = "length",
                                             .detail = "decoder buffer too small"};
                return fail(dec, MQTT5_ERR_PACKET_TOO_LARGE, &local, st);
            }
            dec->buf[dec->len++] = in[used++];
            size_t header, total;
            rc = decode_fixed_header(dec->buf, dec->len, max, &header, &total, &local);
            if (rc == MQTT5_ERR_NEED_MORE) continue;
            if (rc != MQTT5_OK) return fail(dec, rc, &local, st);
            dec->need = (size_t)total;
        } else {
            size_t take = dec->need - dec->len;
            if (take > len - used) take = len - used;
            memcpy(dec->buf + dec->len, in + used, take);
            dec->len += take;
            used += take;
        }
        if (dec->need && dec->len == dec->need) {
            size_t whole = dec->len;
            dec->len = dec->need = 0;
            *consumed = used;
            rc = mqtt5_packet_decode(dec->buf, whole, max, out, &used, &local);
            if (rc != MQTT5_OK) return fail(dec, rc, &local, st);
            return MQTT5_OK;
        }
    }
    *consumed = used;
    return MQTT5_ERR_NEED_MORE;
}
