/*
 * helpers/core_wire.h - drives a client core's transport side the way the core asks for it and
 * keeps everything it hands out as one byte stream with its batch boundaries, and a rig around
 * it (a core on a counting allocator, a virtual clock, reading that stream packet by packet,
 * feeding the server's bytes): shared by the unit tests that compare the core's output byte for
 * byte (test_client_buffers.c, test_client_publish_encoded.c, test_client_stats_wide.c).
 */
#ifndef MQTT5_TEST_CORE_WIRE_H
#define MQTT5_TEST_CORE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "helpers/test_allocator.h"
#include "mqtt5/client_core.h"

#define CORE_WIRE_CAP 65536

typedef struct core_wire {
    uint8_t out[CORE_WIRE_CAP]; /* every byte handed out, in order */
    size_t out_len, read_at;    /* read_at: how far the test has read the stream */
    size_t batch_end[256];      /* where each batch ended in `out` */
    size_t batches;
    size_t big_batches; /* mem_send_buf batches from the core's own buffer (a big packet) */
} core_wire;

/*
 * Service the core at `now`, open or close the transport when it wants (*open tracks it), then
 * take every batch it has to hand out: through mem_send_buf into buf[0..cap) when buf is not
 * NULL (checking that only a packet bigger than cap comes from the core's own buffer, alone),
 * else through mem_send. Fails the test if the core never stops handing out batches.
 */
void core_wire_drain(core_wire *w, mqtt5_client_core *core, uint64_t now, bool *open, uint8_t *buf,
                     size_t cap);

/* The size of the one whole packet at p[0..n) (the test fails if it does not decode). */
size_t core_wire_decoded_size(const uint8_t *p, size_t n);

/* A core with its transport side. A test embeds it (as `k`) in its own rig beside what its
 * callbacks record. */
typedef struct core_rig {
    test_allocator ta; /* the core's allocator: every byte it holds is counted */
    mqtt5_client_core *core;
    uint64_t now;
    uint8_t *buf; /* mem_send_buf's buffer (exact size, for ASan); NULL: mem_send */
    size_t cap;
    bool open;      /* the transport, as the core asked for it */
    core_wire wire; /* what the core handed out: one stream, and where each batch ended */
} core_rig;

/* A new core from `base` on the rig's counting allocator with callbacks `cb`; `cap` 0: drained
 * with mem_send, else mem_send_buf into a test_alloc() buffer of exactly `cap` bytes. */
void core_rig_init(core_rig *r, const mqtt5_client_core_options *base,
                   const mqtt5_client_core_callbacks *cb, size_t cap);
/* Destroy the core; nothing it allocated may be left. */
void core_rig_destroy(core_rig *r);
/* memory_in_use, checked against what the allocator saw (the statistics see everything). */
size_t core_rig_mem(const core_rig *r);
/* Transport events as the core wants them, then every batch it has to hand out. */
void core_rig_drain(core_rig *r);
/* The next packet the core wrote: its bytes (in r->wire.out), its size in *len, decoded in *p
 * (may be NULL; views into the stream). */
const uint8_t *core_rig_next_raw(core_rig *r, size_t *len, mqtt5_packet *p);
mqtt5_packet core_rig_next_out(core_rig *r);
/* Every byte handed out was read. */
void core_rig_expect_nothing(const core_rig *r);
/* Forget what was handed out so far (the stream holds CORE_WIRE_CAP bytes). */
void core_rig_forget(core_rig *r);
/* The connection drops (MQTT5_ERR_CONNECTION_CLOSED): the core is told, the rig's transport is
 * closed. */
void core_rig_drop(core_rig *r);
/* The server's bytes (as hex), then drain. */
void core_rig_recv(core_rig *r, const uint8_t *p, size_t n);
void core_rig_recv_hex(core_rig *r, const char *hex);
/* start, the CONNECT goes out, `connack_hex` comes back: CONNECTED. */
void core_rig_connect(core_rig *r, const char *connack_hex);

#endif
