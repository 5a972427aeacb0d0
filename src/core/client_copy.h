/*
 * client_copy.h - deep copies of packets into one caller-sized block, for the client core's
 * operations and the DISCONNECT and AUTH it sends. Two passes with the same code: measure (dst
 * NULL) then copy, so the core makes exactly one allocation per copied packet. Copies use arrays,
 * never `raw` regions.
 */
#ifndef MQTT5_CORE_CLIENT_COPY_H
#define MQTT5_CORE_CLIENT_COPY_H

#include "mqtt5/packet.h"

typedef struct copier {
    uint8_t *base; /* NULL while measuring */
    size_t used;
} copier;

/* Reserve `n` bytes (8-byte aligned) and, when copying, copy `src` there. Returns the copy's
 * address (NULL while measuring). */
void *copier_put(copier *cp, const void *src, size_t n);

/* Each copies `src` into `dst` (which may be NULL while measuring). */
void copy_properties(copier *cp, mqtt5_properties *dst, const mqtt5_properties *src);
void copy_publish(copier *cp, mqtt5_publish *dst, const mqtt5_publish *src);
void copy_subscribe(copier *cp, mqtt5_subscribe *dst, const mqtt5_subscribe *src);
void copy_unsubscribe(copier *cp, mqtt5_unsubscribe *dst, const mqtt5_unsubscribe *src);
void copy_disconnect(copier *cp, mqtt5_disconnect *dst, const mqtt5_disconnect *src);

#endif
