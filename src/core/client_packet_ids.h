/*
 * client_packet_ids.h - a set of MQTT packet identifiers (1..65535) as a 64 Ki-bit bitmap, with
 * round-robin allocation: the lowest free id at or after `next`, wrapping 65535 -> 1. Scans a
 * 64-bit word at a time. No allocation, no I/O: the 8 KiB of bitmap words are storage the owner
 * provides, and they are never zeroed in bulk: a word whose `touched` bit is clear reads as 0, so
 * an idle client keeps those pages untouched (not resident) until ids are used.
 */
#ifndef MQTT5_CORE_CLIENT_PACKET_IDS_H
#define MQTT5_CORE_CLIENT_PACKET_IDS_H

#include <stdbool.h>
#include <stdint.h>

#define CLIENT_PACKET_IDS_WORDS 1024u

typedef struct client_packet_ids {
    uint64_t *used;        /* CLIENT_PACKET_IDS_WORDS words: bit id % 64 of word id / 64 */
    uint64_t touched[16];  /* bit w set: used[w] holds a value; else it reads as 0 */
    uint16_t next;         /* where the next search starts; 0 is read as 1 */
    uint32_t in_use;
} client_packet_ids;

/* Empty, next = 1, on `words` (CLIENT_PACKET_IDS_WORDS uint64_t, any content, owned by the
 * caller for as long as the set is used). */
void client_packet_ids_init(client_packet_ids *p, uint64_t *words);
/* Empty, next = 1, on the same words. */
void client_packet_ids_reset(client_packet_ids *p);
/* Lowest free id >= next, wrapping 65535 -> 1; 0 if all 65535 are used. Sets next = id + 1
 * (65535 -> 1). */
uint16_t client_packet_ids_acquire(client_packet_ids *p);
/* Marks `id` used; false if id is 0 or already used. `next` is not changed. */
bool client_packet_ids_reserve(client_packet_ids *p, uint16_t id);
/* Frees `id` (nothing happens for 0 or a free id). */
void client_packet_ids_release(client_packet_ids *p, uint16_t id);
bool client_packet_ids_is_used(const client_packet_ids *p, uint16_t id); /* false for 0 */
/* Frees every id; `next` is kept. */
void client_packet_ids_clear(client_packet_ids *p);

#endif
