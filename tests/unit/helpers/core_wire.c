/*
 * helpers/core_wire.c - see core_wire.h.
 */
#include "helpers/test_common.h"

#include "helpers/core_wire.h"
#include "helpers/hex.h"

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

/* ---- the rig -------------------------------------------------------------------------------- */

void core_rig_init(core_rig *r, const mqtt5_client_core_options *base,
                   const mqtt5_client_core_callbacks *cb, size_t cap)
{
    memset(r, 0, sizeof *r);
    test_allocator_init(&r->ta);
    mqtt5_client_core_options o = *base;
    o.allocator = test_allocator_get(&r->ta);
    o.callbacks = *cb;
    assert_err(mqtt5_client_core_new(&o, &r->core, NULL), MQTT5_OK);
    if (cap) {
        r->buf = test_alloc(cap);
        r->cap = cap;
    }
}

void core_rig_destroy(core_rig *r)
{
    assert_err(mqtt5_client_core_destroy(r->core), MQTT5_OK);
    r->core = NULL;
    assert_no_leaks(&r->ta);
}

size_t core_rig_mem(const core_rig *r)
{
    mqtt5_client_stats s;
    mqtt5_client_core_stats(r->core, &s);
    assert_int_equal(s.memory_in_use, r->ta.live_bytes);
    return s.memory_in_use;
}

void core_rig_drain(core_rig *r)
{
    core_wire_drain(&r->wire, r->core, r->now, &r->open, r->buf, r->cap);
}

const uint8_t *core_rig_next_raw(core_rig *r, size_t *len, mqtt5_packet *p)
{
    mqtt5_packet tmp;
    if (!p) p = &tmp;
    size_t used = 0;
    assert_true(r->wire.read_at < r->wire.out_len);
    const uint8_t *at = r->wire.out + r->wire.read_at;
    assert_err(mqtt5_packet_decode(at, r->wire.out_len - r->wire.read_at, 0, p, &used, NULL),
               MQTT5_OK);
    r->wire.read_at += used;
    *len = used;
    return at;
}

mqtt5_packet core_rig_next_out(core_rig *r)
{
    size_t n;
    mqtt5_packet p;
    core_rig_next_raw(r, &n, &p);
    return p;
}

void core_rig_expect_nothing(const core_rig *r)
{
    assert_int_equal(r->wire.read_at, r->wire.out_len);
}

void core_rig_forget(core_rig *r)
{
    r->wire.out_len = r->wire.read_at = r->wire.batches = 0;
}

void core_rig_drop(core_rig *r)
{
    assert_err(mqtt5_client_core_on_transport_closed(r->core, r->now, MQTT5_ERR_CONNECTION_CLOSED),
               MQTT5_OK);
    r->open = false;
}

void core_rig_recv(core_rig *r, const uint8_t *p, size_t n)
{
    assert_err(mqtt5_client_core_mem_recv(r->core, r->now, p, n), MQTT5_OK);
    core_rig_drain(r);
}

void core_rig_recv_hex(core_rig *r, const char *hex)
{
    size_t n;
    const uint8_t *p = hex_bytes(hex, &n);
    core_rig_recv(r, p, n);
}

void core_rig_connect(core_rig *r, const char *connack_hex)
{
    assert_err(mqtt5_client_core_start(r->core, r->now), MQTT5_OK);
    core_rig_drain(r);
    assert_true(r->open);
    assert_int_equal(core_rig_next_out(r).type, MQTT5_CONNECT);
    core_rig_recv_hex(r, connack_hex);
    assert_int_equal(mqtt5_client_core_state(r->core), MQTT5_CS_CONNECTED);
}
