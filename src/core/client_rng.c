/*
 * client_rng.c - splitmix64, unbiased uniform draws and the three reconnect jitter modes (see
 * client_rng.h). Pure integer arithmetic: no clock, no device randomness, no allocation.
 */
#include "core/client_rng.h"

#define REJECTION_LIMIT 64

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

void client_rng_init(client_rng *r, uint64_t (*fn)(void *ctx), void *ctx, uint64_t seed)
{
    r->fn = fn;
    if (fn)
        r->ctx = ctx;
    else
        r->state = seed;
}

uint64_t client_rng_next(client_rng *r)
{
    return r->fn ? r->fn(r->ctx) : splitmix64(&r->state);
}

uint64_t client_rng_uniform(client_rng *r, uint64_t lo, uint64_t hi)
{
    if (lo >= hi) return lo;
    uint64_t span = hi - lo; /* size - 1 */
    if (span == UINT64_MAX) return client_rng_next(r);
    uint64_t size = span + 1;
    /* 2^64 mod size draws at the top are rejected: what is left is a whole number of ranges. */
    uint64_t excess = (UINT64_MAX % size + 1) % size;
    uint64_t limit = UINT64_MAX - excess; /* accept x <= limit */
    uint64_t x = 0;
    for (int i = 0; i < REJECTION_LIMIT; i++) {
        x = client_rng_next(r);
        if (x <= limit) break;
    }
    return lo + x % size;
}

void client_backoff_init(client_backoff *b, mqtt5_jitter mode, uint32_t min_ms, uint32_t max_ms)
{
    b->mode = mode;
    b->min_ms = min_ms;
    b->max_ms = max_ms < min_ms ? min_ms : max_ms;
    client_backoff_reset(b);
}

void client_backoff_reset(client_backoff *b)
{
    b->attempt = 0;
    b->prev_ms = b->min_ms;
}

uint64_t client_backoff_ceiling(const client_backoff *b)
{
    uint64_t min = b->min_ms, max = b->max_ms < b->min_ms ? b->min_ms : b->max_ms;
    uint32_t n = b->attempt;
    if (min == 0) return 0;
    if (n >= 63 || min > (max >> n)) return max; /* min * 2^n > max (or would overflow) */
    return min << n;
}

uint64_t client_backoff_next(client_backoff *b, client_rng *r)
{
    uint64_t min = b->min_ms, max = b->max_ms < b->min_ms ? b->min_ms : b->max_ms;
    uint64_t d;
    switch (b->mode) {
    case MQTT5_JITTER_NONE:
        d = client_backoff_ceiling(b);
        break;
    case MQTT5_JITTER_DECORRELATED: {
        uint64_t prev = b->prev_ms < min ? min : b->prev_ms;
        uint64_t hi = prev > UINT64_MAX / 3 ? UINT64_MAX : prev * 3;
        d = client_rng_uniform(r, min, hi);
        if (d > max) d = max;
        break;
    }
    case MQTT5_JITTER_FULL:
    default:
        d = client_rng_uniform(r, min, client_backoff_ceiling(b));
        break;
    }
    b->prev_ms = (uint32_t)d; /* d <= max */
    if (b->attempt < UINT32_MAX) b->attempt++;
    return d;
}
