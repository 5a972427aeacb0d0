/*
 * tools/mqtt5/arena.h - a tiny allocation list: everything the encoder input needs for one JSON
 * line (arrays, decoded hex) is allocated here and freed in one go.
 */
#ifndef MQTT5_TOOL_ARENA_H
#define MQTT5_TOOL_ARENA_H

#include <stddef.h>

typedef struct arena_block arena_block;

typedef struct arena {
    arena_block *head;
} arena;

/* Zeroed memory for `size` bytes (size 0 allowed), NULL when out of memory. */
void *arena_alloc(arena *a, size_t size);
/* Zeroed memory for n items of `size` bytes; NULL on overflow or when out of memory. */
void *arena_alloc_array(arena *a, size_t n, size_t size);
/* Free every allocation and leave the arena empty and reusable. */
void arena_free(arena *a);

#endif
