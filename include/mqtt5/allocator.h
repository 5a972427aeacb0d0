/*
 * mqtt5/allocator.h - the caller-supplied allocator every allocating part of the SDK takes.
 *
 * The sans-I/O core never calls malloc: it allocates only through one of these. `release` gets
 * the size that was asked for, so pool and arena allocators need no headers of their own.
 */
#ifndef MQTT5_ALLOCATOR_H
#define MQTT5_ALLOCATOR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mqtt5_allocator {
    void *(*allocate)(void *ctx, size_t size);          /* NULL on failure */
    void (*release)(void *ctx, void *ptr, size_t size); /* ptr from allocate(size); never NULL */
    void *ctx;
} mqtt5_allocator;

/* malloc/free. */
const mqtt5_allocator *mqtt5_allocator_libc(void);

#ifdef __cplusplus
}
#endif
#endif
