/*
 * transports/tcp.h - constructor of the TCP filter, the bottom of every chain: DNS (libuv's
 * getaddrinfo on its threadpool), connect, batched writes, reads into a buffer shared per loop,
 * the socket watched by the loop's poller (transports/poller.h).
 */
#ifndef MQTT5_TRANSPORTS_TCP_H
#define MQTT5_TRANSPORTS_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "transports/filter.h"
#include "transports/poller.h"

typedef struct mqtt5_tcp_options {
    const char *host; /* DNS name or IP literal, at most 255 bytes; borrowed (see below) */
    uint16_t port;
    bool nodelay;
    uint16_t keepalive_s; /* 0 = off */
    /* the loop's (mqtt5_loop.poller), initialised on `loop`, with its read buffer set (every
     * read lands there and is passed up at once); borrowed */
    mqtt5_poller *poller;
} mqtt5_tcp_options;

/* Bytes pending below which on_writable climbs, after having been at or above it. */
#define MQTT5_TCP_LOW_WATER 16384u

/*
 * A new TCP filter; 0, MQTT5_ERR_INVALID_ARGUMENT (also when the poller is missing or belongs to
 * another loop) or MQTT5_ERR_NOMEM. The options are copied except what they point to: the host
 * string and the poller (with its read buffer) must stay valid and unchanged until the filter is
 * destroyed. (The client passes its own host or proxy host and its loop's poller, and frees them
 * only after destroying the chain.)
 */
int mqtt5_tcp_filter_new(uv_loop_t *loop, const mqtt5_tcp_options *o, mqtt5_filter **out);

#endif
