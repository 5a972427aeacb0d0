/*
 * helpers/filter_rig.h - a test rig for one transport filter: a fake lower filter that records
 * what is written to it and whose opening, incoming bytes (in chunks of any size) and closing
 * the test drives by hand, plus a recording sink on top. No sockets, no event loop; used by the
 * proxy filter tests (test_proxy_http.c, test_socks5.c).
 */
#ifndef MQTT5_TEST_FILTER_RIG_H
#define MQTT5_TEST_FILTER_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transports/filter.h"

typedef struct rig_bytes {
    uint8_t *p; /* always NUL-terminated (for strstr) */
    size_t n, cap;
} rig_bytes;

typedef struct filter_rig {
    mqtt5_filter lower, sink;
    mqtt5_filter *f; /* the filter under test, owned */
    /* the fake lower */
    bool connect_called, close_called, closed_up, fail_writes;
    int close_err, writes;
    size_t pending; /* what pending() answers */
    rig_bytes out;  /* everything written to it */
    /* the sink */
    int opens, closes, close_up_err, writables;
    size_t bytes_at_open; /* sink.in.n when on_open arrived */
    char close_detail[512];
    rig_bytes in; /* everything the sink received */
    /* with close_on_open: the sink closes the filter (err) inside its on_open */
    bool close_on_open;
    int close_on_open_err;
} filter_rig;

/* Stack lower -> f -> sink; the rig owns f from now on. */
void rig_init(filter_rig *r, mqtt5_filter *f);
/* f->connect() (must succeed), then the lower opens (on_open). */
void rig_connect_open(filter_rig *r);
/* The lower delivers n bytes in pieces of `chunk` (0 = all at once); stops once f closed it. */
void rig_deliver(filter_rig *r, const void *p, size_t n, size_t chunk);
void rig_deliver_str(filter_rig *r, const char *s, size_t chunk);
/* The lower reports its close (on_closed up) with err and detail. */
void rig_lower_closed(filter_rig *r, int err, const char *detail);
/* If f closed the lower, report that close up (on_closed with the close's err, no detail). */
void rig_finish_close(filter_rig *r);
/* Forget what was written so far. */
void rig_clear_out(filter_rig *r);
void rig_bytes_put(rig_bytes *b, const void *p, size_t n);
/* Destroy f and free everything. */
void rig_free(filter_rig *r);

#endif
