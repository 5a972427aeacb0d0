/*
 * helpers/test_allocator.c - the counting, checking and failing test allocator (see
 * test_allocator.h). Blocks come from malloc one by one; bookkeeping lives in a side table so the
 * blocks themselves keep exactly the requested size.
 */
#include "helpers/test_common.h"
#include "helpers/test_allocator.h"

struct test_allocator_block {
    void *ptr;
    size_t size;
};

static void *ta_allocate(void *ctx, size_t size)
{
    test_allocator *t = ctx;
    if (t->fail_countdown > 0 && --t->fail_countdown == 0) {
        t->failures++;
        if (t->fail_all_after) t->fail_countdown = 1;
        return NULL;
    }
    if (t->live_blocks == t->block_cap) {
        size_t cap = t->block_cap ? t->block_cap * 2 : 64;
        struct test_allocator_block *grown = realloc(t->blocks, cap * sizeof(*grown));
        if (grown == NULL) fail_msg("test_allocator: out of memory for bookkeeping");
        t->blocks = grown;
        t->block_cap = cap;
    }
    void *p = malloc(size ? size : 1);
    if (p == NULL) fail_msg("test_allocator: malloc(%zu) failed", size);
    t->blocks[t->live_blocks].ptr = p;
    t->blocks[t->live_blocks].size = size;
    t->live_blocks++;
    t->allocations++;
    t->live_bytes += size;
    if (t->live_bytes > t->peak_bytes) t->peak_bytes = t->live_bytes;
    return p;
}

static void ta_release(void *ctx, void *ptr, size_t size)
{
    test_allocator *t = ctx;
    if (ptr == NULL) fail_msg("test_allocator: release(NULL, %zu)", size);
    for (size_t i = t->live_blocks; i-- > 0;) {
        if (t->blocks[i].ptr != ptr) continue;
        if (t->blocks[i].size != size)
            fail_msg("test_allocator: block of %zu bytes released with size %zu", t->blocks[i].size,
                     size);
        t->blocks[i] = t->blocks[--t->live_blocks];
        t->live_bytes -= size;
        t->releases++;
        free(ptr);
        return;
    }
    fail_msg("test_allocator: release of a pointer it did not allocate (or a double release)");
}

void test_allocator_init(test_allocator *t)
{
    memset(t, 0, sizeof(*t));
    t->base.allocate = ta_allocate;
    t->base.release = ta_release;
    t->base.ctx = t;
}

const mqtt5_allocator *test_allocator_get(test_allocator *t)
{
    return &t->base;
}

void test_allocator_fail_at(test_allocator *t, size_t k, bool sticky)
{
    t->fail_countdown = k;
    t->fail_all_after = sticky;
}

void test_allocator_destroy(test_allocator *t)
{
    free(t->blocks);
    t->blocks = NULL;
    t->block_cap = 0;
}

size_t test_allocator_release_all(test_allocator *t)
{
    size_t blocks = t->live_blocks;
    for (size_t i = 0; i < blocks; i++)
        free(t->blocks[i].ptr);
    t->live_blocks = 0;
    t->live_bytes = 0;
    test_allocator_destroy(t);
    return blocks;
}

void test_allocator_check_leaks_(test_allocator *t, const char *file, int line)
{
    size_t bytes = t->live_bytes;
    /* freed either way, so LeakSanitizer does not report the same leak a second time */
    size_t blocks = test_allocator_release_all(t);
    if (blocks != 0)
        test_fail_at(file, line, "leak: %zu block(s), %zu byte(s) still allocated", blocks, bytes);
}
