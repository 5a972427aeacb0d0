/*
 * common/wipe.c - mqtt5_wipe: see wipe.h.
 */
#include "common/wipe.h"

void mqtt5_wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (v && n--)
        *v++ = 0;
}
