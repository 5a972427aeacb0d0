/*
 * client_rng.h - randomness and reconnect backoff of the client core.
 *
 * The random source is injected (a user function) or splitmix64 over a seed, so every delay is
 * reproducible in tests. Uniform draws use rejection sampling (no modulo bias). Nothing here reads
 * a clock or device randomness, and nothing allocates.
 */
#ifndef MQTT5_CORE_CLIENT_RNG_H
#define MQTT5_CORE_CLIENT_RNG_H

#include <stdint.h>

#include "mqtt5/client_core.h"

typedef struct client_rng {
    uint64_t (*fn)(void *ctx); /* NULL: splitmix64 over `state` */
    union {
        void *ctx;      /* fn's */
        uint64_t state; /* splitmix64's, without fn */
    };
} client_rng;

void client_rng_init(client_rng *r, uint64_t (*fn)(void *ctx), void *ctx, uint64_t seed);
uint64_t client_rng_next(client_rng *r);
/*
 * Uniform integer in [lo, hi] (inclusive); lo >= hi returns lo. A draw x is accepted when it lies
 * below the largest multiple of the range size and mapped to lo + x % size, so a scripted source
 * returning a small k gives lo + k. After 64 rejections in a row (a broken source) the last draw
 * is used anyway, so the call always terminates.
 */
uint64_t client_rng_uniform(client_rng *r, uint64_t lo, uint64_t hi);

typedef struct client_backoff {
    mqtt5_jitter mode;
    uint32_t min_ms, max_ms, prev_ms; /* every delay lies in [min, max] */
    uint32_t attempt;                 /* retries since init/reset; saturates */
} client_backoff;

/* min > max: max is taken to be min. */
void client_backoff_init(client_backoff *b, mqtt5_jitter mode, uint32_t min_ms, uint32_t max_ms);
/*
 * Delay before the next reconnect, then attempt++. With E(n) = min(max, min * 2^n) (saturating,
 * n = attempt): NONE E(n); FULL uniform in [min, E(n)]; DECORRELATED min(max, uniform in
 * [min, 3 * prev]), prev = min after init/reset, then the last delay returned.
 */
uint64_t client_backoff_next(client_backoff *b, client_rng *r);
/* E(n) for the current attempt, without drawing or advancing. */
uint64_t client_backoff_ceiling(const client_backoff *b);
void client_backoff_reset(client_backoff *b); /* attempt = 0, prev = min */

#endif
