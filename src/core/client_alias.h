/*
 * client_alias.h - MQTT 5 topic aliases of the client core, both directions.
 *
 * Outbound: DISABLED (a user alias is refused), MANUAL (the user picks aliases, we track which
 * topic each is bound to) or LRU (we pick; a hash index gives O(1) lookups, the least recently
 * used binding is replaced when full). Inbound: the server's bindings, so a PUBLISH with an empty
 * topic can be given its topic back. Bindings are per connection: reset at every CONNACK.
 *
 * Topics are copied through the caller's allocator; tables are allocated on first use, so init
 * cannot fail and an allocation failure surfaces as MQTT5_ERR_NOMEM from a resolve call, with the
 * bindings unchanged. No I/O, no clock, no heap calls of its own.
 */
#ifndef MQTT5_CORE_CLIENT_ALIAS_H
#define MQTT5_CORE_CLIENT_ALIAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt5/allocator.h"
#include "mqtt5/client_core.h"

/* One binding: alias (index + 1) -> a copied topic. */
typedef struct client_alias_slot {
    char *topic; /* NULL: unbound */
    uint16_t len;
    uint16_t prev, next; /* LRU list (LRU mode), CLIENT_ALIAS_NONE at the ends */
    uint64_t hash;       /* FNV-1a of the topic (LRU mode) */
} client_alias_slot;

#define CLIENT_ALIAS_NONE 0xFFFFu

/* ---- outbound ---- */

/* The outbound bindings, one allocation made on first use: `usable` slots and, in LRU mode, the
 * index after them (open addressing, slot + 1 per entry, 0 = empty; a power of two >= 2 * usable
 * entries). */
typedef struct client_alias_table {
    uint16_t mru, lru;         /* LRU list ends */
    client_alias_slot slots[]; /* alias - 1 */
} client_alias_table;

typedef struct client_alias_out {
    const mqtt5_allocator *al;
    client_alias_table *table; /* allocated on first use, kept by resets that keep `usable` */
    uint8_t mode;              /* mqtt5_alias_out */
    uint16_t cache_size;       /* configured */
    uint16_t usable; /* min(cache_size, server maximum) since the last reset; 0 = no aliasing */
    uint16_t count;  /* LRU: slots in use (aliases 1..count) */
} client_alias_out;

void client_alias_out_init(client_alias_out *a, const mqtt5_allocator *al, mqtt5_alias_out mode,
                           uint16_t cache_size);
/* At each CONNACK: forget all bindings; usable size = min(cache_size, server_max) (0 = none). */
void client_alias_out_reset(client_alias_out *a, uint16_t server_max);
void client_alias_out_cleanup(client_alias_out *a);
/*
 * For an outbound PUBLISH with `topic` and (MANUAL mode) the user's alias `user_alias` (0 = none):
 * sets *alias (0 = send no alias) and *send_topic (false = send an empty topic with the alias).
 *   DISABLED: user_alias != 0 -> MQTT5_ERR_INVALID_ARGUMENT; else no alias.
 *   MANUAL: user_alias 0 -> no alias; > usable size -> MQTT5_ERR_NOT_AVAILABLE; empty topic ->
 *     MQTT5_ERR_INVALID_ARGUMENT; alias bound to this topic -> alias only; else bind (replace) and
 *     send topic + alias.
 *   LRU: user_alias != 0 -> MQTT5_ERR_INVALID_ARGUMENT (the client picks). Topics of 3 bytes or
 *     fewer are never aliased; hit -> alias only (most recently used); miss -> the next free alias,
 *     or the least recently used one when full, bound, with topic + alias.
 *   MQTT5_ERR_NOMEM when a copy cannot be allocated (bindings unchanged).
 * On error *alias = 0 and *send_topic = true.
 */
int client_alias_out_resolve(client_alias_out *a, mqtt5_str topic, uint16_t user_alias,
                             uint16_t *alias, bool *send_topic);

/* ---- inbound ---- */
/* The allocator is the caller's, passed to each call that may allocate or free: the same one
 * every time (the core keeps one pointer fewer). */
typedef struct client_alias_in {
    client_alias_slot *slots; /* `max` entries, allocated on first binding */
    uint16_t max;             /* Topic Alias Maximum we advertise */
} client_alias_in;

void client_alias_in_init(client_alias_in *a, uint16_t max);
/* At each CONNACK: forget all bindings. */
void client_alias_in_reset(client_alias_in *a, const mqtt5_allocator *al);
void client_alias_in_cleanup(client_alias_in *a, const mqtt5_allocator *al);
/*
 * Inbound PUBLISH carrying topic alias `alias`: alias 0 or > max -> MQTT5_ERR_TOPIC_ALIAS_INVALID;
 * non-empty *topic -> bind/replace (copied); empty *topic -> *topic becomes the bound topic (a view
 * valid until that alias is rebound or reset), unbound -> MQTT5_ERR_PROTOCOL_ERROR;
 * MQTT5_ERR_NOMEM when the copy cannot be allocated (bindings unchanged).
 */
int client_alias_in_resolve(client_alias_in *a, const mqtt5_allocator *al, uint16_t alias,
                            mqtt5_str *topic);

#endif
