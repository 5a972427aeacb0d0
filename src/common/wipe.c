/*
 * common/wipe.c - mqtt5_wipe: see wipe.h. memset, then an empty asm statement that takes the
 * pointer and clobbers memory, so the compiler must assume the zeroed bytes are read and cannot
 * drop the memset as a dead store (the technique of glibc's explicit_bzero); memset keeps it as
 * fast as a plain clear, which matters because the runtime wipes every write batch.
 */
#include "common/wipe.h"

#include <string.h>

void mqtt5_wipe(void *p, size_t n)
{
    if (!p || !n) return;
    memset(p, 0, n);
    __asm__ __volatile__("" : : "r"(p) : "memory");
}
