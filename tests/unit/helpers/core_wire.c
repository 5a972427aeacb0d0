/*
 * helpers/core_wire.c - see core_wire.h.
 */
#include "helpers/test_common.h"

#include "helpers/core_wire.h"

size_t core_wire_decoded_size(const uint8_t *p, size_t n)
{
    mqtt5_packet pk;
    size_t used = 0;
    assert_err(mqtt5_packet_decode(p, n, 0, &pk, &used, NULL), MQTT5_OK);
    return used;
}

void core_wire_drain(core_wire *w, mqtt5_client_core *core, uint64_t now, bool *open, uint8_t *buf,
                     size_t cap)
{
    for (int guard = 0; guard < 1000; guard++) {
        uint64_t wake;
        assert_err(mqtt5_client_core_service(core, now, &wake), MQTT5_OK);
        mqtt5_client_want want;
        mqtt5_client_core_want(core, &want);
        if (want.transport_open && !*open) {
            *open = true;
            assert_err(mqtt5_client_core_on_transport_open(core, now), MQTT5_OK);
            continue;
        }
        if (!want.transport_open && *open) {
            *open = false;
            assert_err(mqtt5_client_core_on_transport_closed(core, now, 0), MQTT5_OK);
            continue;
        }
        if (!want.write) return;
        const uint8_t *d = NULL;
        size_t n = 0;
        if (buf)
            assert_err(mqtt5_client_core_mem_send_buf(core, now, buf, cap, &d, &n), MQTT5_OK);
        else
            assert_err(mqtt5_client_core_mem_send(core, now, &d, &n), MQTT5_OK);
        if (n == 0) continue; /* the core reported why (a failure event) */
        if (buf && d != buf) {
            /* a packet bigger than the caller's buffer, alone */
            assert_true(n > cap);
            assert_int_equal(core_wire_decoded_size(d, n), n);
            w->big_batches++;
        } else if (buf) {
            assert_true(n <= cap);
        }
        assert_true(w->out_len + n <= CORE_WIRE_CAP && w->batches < COUNT_OF(w->batch_end));
        memcpy(w->out + w->out_len, d, n);
        w->out_len += n;
        w->batch_end[w->batches++] = w->out_len;
    }
    fail_msg("the core keeps handing out batches");
}
