/*
 * common/wipe.h - zeroing memory that held a secret (keys, passwords, tokens, credentials) in a
 * way the compiler may not drop as a dead store. Plain C, so the sans-I/O core, the fuzz targets
 * and every other layer share this one function (OpenSSL's OPENSSL_cleanse stays where OpenSSL
 * is linked anyway).
 */
#ifndef MQTT5_COMMON_WIPE_H
#define MQTT5_COMMON_WIPE_H

#include <stddef.h>

/* Zero n bytes at p; p NULL is fine. */
void mqtt5_wipe(void *p, size_t n);

#endif
