/*
 * fuzz/fuzz_alloc.h - the checking mqtt5_allocator the fuzz targets share: each block remembers
 * its size (a release with another size aborts), live blocks are counted (a leak shows as
 * live != 0 at the end), the fail_at-th allocation can be made to fail (NOMEM paths), and with
 * require_wiped a block released without being zeroed aborts (parsers of secrets must wipe).
 * Header-only because each target is compiled with its own small set of sources.
 */
#ifndef MQTT5_FUZZ_ALLOC_H
#define MQTT5_FUZZ_ALLOC_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt5/allocator.h"

typedef struct fuzz_alloc {
    mqtt5_allocator base;
    size_t allocations; /* allocate calls so far, the failed one included */
    size_t live;        /* blocks not released yet */
    size_t fail_at;     /* the allocation with this number fails; 0 = none */
    bool failed;        /* it did */
    bool require_wiped; /* released blocks must be all zero */
} fuzz_alloc;

#define FUZZ_ALLOC_HEADER 16 /* the size sits before the block */

static void *fuzz_alloc_allocate(void *ctx, size_t size)
{
    fuzz_alloc *fa = ctx;
    if (size == 0) abort();
    if (++fa->allocations == fa->fail_at) {
        fa->failed = true;
        return NULL;
    }
    unsigned char *p = malloc(FUZZ_ALLOC_HEADER + size);
    if (!p) abort();
    memcpy(p, &size, sizeof size);
    fa->live++;
    return p + FUZZ_ALLOC_HEADER;
}

static void fuzz_alloc_release(void *ctx, void *ptr, size_t size)
{
    fuzz_alloc *fa = ctx;
    if (!ptr || fa->live == 0) abort();
    unsigned char *p = (unsigned char *)ptr - FUZZ_ALLOC_HEADER;
    size_t was;
    memcpy(&was, p, sizeof was);
    if (was != size) abort(); /* released with another size than allocated */
    if (fa->require_wiped)
        for (size_t i = 0; i < size; i++)
            if (((const unsigned char *)ptr)[i] != 0) abort(); /* released without a wipe */
    fa->live--;
    free(p);
}

static inline void fuzz_alloc_init(fuzz_alloc *fa, size_t fail_at, bool require_wiped)
{
    memset(fa, 0, sizeof *fa);
    fa->base.allocate = fuzz_alloc_allocate;
    fa->base.release = fuzz_alloc_release;
    fa->base.ctx = fa;
    fa->fail_at = fail_at;
    fa->require_wiped = require_wiped;
}

#endif
