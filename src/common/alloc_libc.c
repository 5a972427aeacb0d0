/*
 * alloc_libc.c - the default mqtt5_allocator on top of malloc/free. It lives outside src/core
 * because the sans-I/O core must not call the heap itself.
 */
#include <stdlib.h>

#include "mqtt5/allocator.h"

static void *libc_allocate(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size ? size : 1);
}

static void libc_release(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    (void)size;
    free(ptr);
}

const mqtt5_allocator *mqtt5_allocator_libc(void)
{
    static const mqtt5_allocator libc = {libc_allocate, libc_release, NULL};
    return &libc;
}
