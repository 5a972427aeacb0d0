/*
 * fuzz_decode.c - libFuzzer target for mqtt5_packet_decode, the decoder of untrusted broker input.
 *
 * Beyond "no crash, no leak, no sanitizer report" it checks the codec's round-trip law: whatever
 * the decoder accepts, the encoder must accept too, and decode(encode(p)) must encode to the very
 * same bytes. It also walks every iterator over the decoded views.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt5/mqtt5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const mqtt5_packet *p)
{
    const mqtt5_properties *props = mqtt5_packet_properties(p);
    mqtt5_iter it = {0, 0};
    mqtt5_user_property up;
    uint32_t id;
    size_t n = 0;
    if (props) {
        while (mqtt5_user_property_next(props, &it, &up))
            n++;
        if (n != props->user_property_count) abort();
        it = (mqtt5_iter){0, 0};
        n = 0;
        while (mqtt5_subscription_identifier_next(props, &it, &id))
            n++;
        if (n != props->subscription_identifier_count) abort();
    }
    if (p->type == MQTT5_SUBSCRIBE) {
        mqtt5_subscription s;
        it = (mqtt5_iter){0, 0};
        n = 0;
        while (mqtt5_subscribe_next(&p->u.subscribe, &it, &s))
            n++;
        if (n != p->u.subscribe.subscription_count) abort();
    }
    if (p->type == MQTT5_UNSUBSCRIBE) {
        mqtt5_str f;
        it = (mqtt5_iter){0, 0};
        n = 0;
        while (mqtt5_unsubscribe_next(&p->u.unsubscribe, &it, &f))
            n++;
        if (n != p->u.unsubscribe.topic_filter_count) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mqtt5_packet p, q;
    mqtt5_codec_status st;
    size_t used, need, w1, w2;

    /* the first byte picks a maximum packet size so the 0x95 path is exercised too */
    uint32_t max = 0;
    if (size > 0 && data[0] < 16) {
        max = (uint32_t)data[0] * 8u;
        data++, size--;
    }
    int rc = mqtt5_packet_decode(data, size, max, &p, &used, &st);
    if (rc != MQTT5_OK) {
        if (rc != MQTT5_ERR_NEED_MORE && (st.reason_code < 0x80 || st.error != rc)) abort();
        return 0;
    }
    if (used > size) abort();
    walk(&p);

    if (mqtt5_packet_encoded_size(&p, &need, &st) != MQTT5_OK) {
        fprintf(stderr, "decoded packet does not re-encode: %s field=%s (%s)\n",
                mqtt5_error_name(st.error), st.field ? st.field : "-", st.detail ? st.detail : "-");
        abort();
    }
    uint8_t *b1 = malloc(need), *b2 = malloc(need);
    if (!b1 || !b2) abort();
    if (mqtt5_packet_encode(&p, b1, need, &w1, &st) != MQTT5_OK || w1 != need) abort();
    if (mqtt5_packet_decode(b1, w1, 0, &q, &used, &st) != MQTT5_OK || used != w1) abort();
    if (q.type != p.type) abort();
    if (mqtt5_packet_encode(&q, b2, need, &w2, &st) != MQTT5_OK || w2 != w1) abort();
    if (memcmp(b1, b2, w1) != 0) abort();
    free(b1);
    free(b2);
    return 0;
}
