/*
 * client_packet_ids.h - a set of MQTT packet identifiers (1..65535) with round-robin allocation:
 * the lowest free id at or after `next`, wrapping 65535 -> 1. The ids in use are kept sorted in
 * an array that grows with them: up to CLIENT_PACKET_IDS_LOCAL ids live inside the struct, more
 * on the heap, so an idle set holds no memory and a busy one 2 bytes per id (the heap array
 * doubles when room is asked for and goes back inside the struct when trimmed). Lookups are
 * binary searches, and so is the search for the end of a run of used ids, so an acquire costs
 * O(log n) comparisons plus the move of the ids above the new one, even when nearly full.
 *
 * Only room() allocates, and trim()/reset() free: acquire and reserve use the room made before,
 * so the owner decides where running out of memory is reported. No I/O.
 */
#ifndef MQTT5_CORE_CLIENT_PACKET_IDS_H
#define MQTT5_CORE_CLIENT_PACKET_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt5/allocator.h"

#define CLIENT_PACKET_IDS_LOCAL 4u /* ids held inside the struct */

/* 16 bytes on a 64-bit target: a set of at most 65535 ids needs no wider counts. */
typedef struct client_packet_ids {
    union {
        uint16_t *heap;                          /* cap ids */
        uint16_t local[CLIENT_PACKET_IDS_LOCAL]; /* while cap is 0 */
    } ids;                                       /* the ids in use, ascending */
    uint16_t cap;    /* 0: the local slots; else heap capacity (at most 65535) */
    uint16_t in_use; /* at most 65535 */
    uint16_t next;   /* where the next search starts; 0 is read as 1 */
} client_packet_ids;

/* Empty, next = 1, no heap storage (a zeroed struct is an empty set too). */
void client_packet_ids_init(client_packet_ids *p);
/* Empty, next = 1; the heap storage is released to `al`. */
void client_packet_ids_reset(client_packet_ids *p, const mqtt5_allocator *al);
/* Make room for `n` ids in use (at most 65535 count); false if `al` failed (the set is as it
 * was). */
bool client_packet_ids_room(client_packet_ids *p, const mqtt5_allocator *al, size_t n);
/* Give the heap storage back to `al` when max(in_use, keep) ids fit inside the struct. */
void client_packet_ids_trim(client_packet_ids *p, const mqtt5_allocator *al, size_t keep);
/* Lowest free id >= next, wrapping 65535 -> 1; 0 if all 65535 are used or there is no room.
 * Sets next = id + 1 (65535 -> 1). */
uint16_t client_packet_ids_acquire(client_packet_ids *p);
/* Marks `id` used; false if id is 0, already used, or there is no room. `next` is not changed. */
bool client_packet_ids_reserve(client_packet_ids *p, uint16_t id);
/* Frees `id` (nothing happens for 0 or a free id); the storage stays until trimmed. */
void client_packet_ids_release(client_packet_ids *p, uint16_t id);
bool client_packet_ids_is_used(const client_packet_ids *p, uint16_t id); /* false for 0 */

#endif
