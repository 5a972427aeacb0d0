/*
 * helpers/core_wire.h - drives a client core's transport side the way the core asks for it and
 * keeps everything it hands out as one byte stream with its batch boundaries: shared by the
 * unit tests that compare the core's output byte for byte (test_client_buffers.c,
 * test_client_publish_encoded.c).
 */
#ifndef MQTT5_TEST_CORE_WIRE_H
#define MQTT5_TEST_CORE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#endif
