/*
 * tools/mqtt5/arena.c - a tiny allocation list: everything the encoder input needs for one JSON
 * line (arrays, decoded hex) is allocated here and freed in one go.
 */
#include "arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>

struct arena_block {
    arena_block *next;
    alignas(max_align_t) unsigned char data[];
};

void *arena_alloc(arena *a, size_t size)
{
    if (size > SIZE_MAX - sizeof(arena_block)) return NULL;
    arena_block *b = calloc(1, sizeof(arena_block) + size);
    if (b == NULL) return NULL;
    b->next = a->head;
    a->head = b;
    return b->data;
}

void *arena_alloc_array(arena *a, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size) return NULL;
    return arena_alloc(a, n * size);
}

void arena_free(arena *a)
{
    while (a->head != NULL) {
        arena_block *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}
