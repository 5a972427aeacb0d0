/*
 * helpers/alloc.c - group-lifetime test allocations (see alloc.h).
 */
#include "helpers/test_common.h"

static void **blocks;
static size_t block_count;
static size_t block_cap;

void *test_alloc(size_t n)
{
    if (block_count == block_cap) {
        size_t cap = block_cap ? block_cap * 2 : 64;
        void **grown = realloc(blocks, cap * sizeof(*grown));
        if (grown == NULL) fail_msg("test_alloc: out of memory");
        blocks = grown;
        block_cap = cap;
    }
    /* malloc(0) may return NULL; a 0-byte request still gets a distinct (unusable) block. */
    void *p = malloc(n ? n : 1);
    if (p == NULL) fail_msg("test_alloc: out of memory (%zu bytes)", n);
    blocks[block_count++] = p;
    return p;
}

int test_free_all(void **state)
{
    (void)state;
    for (size_t i = 0; i < block_count; i++)
        free(blocks[i]);
    free(blocks);
    blocks = NULL;
    block_count = 0;
    block_cap = 0;
    return 0;
}
