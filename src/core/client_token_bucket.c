/*
 * client_token_bucket.c - fixed-point token bucket (see client_token_bucket.h). All arithmetic is
 * exact integer math on milli-tokens with explicit saturation: no floating point, no clock, no
 * allocation.
 */
#include "core/client_token_bucket.h"

#define MILLI 1000
/* Bounds that keep every sum and product below 2^63: capacity * 1000 < 2^42, debt >= -2^62. */
#define MIN_TOKENS (-(INT64_C(1) << 62))

static int64_t cap_milli(const client_token_bucket *b)
{
    return (int64_t)b->capacity * MILLI;
}

static void refill(client_token_bucket *b, uint64_t now_ms)
{
    if (now_ms <= b->last_ms) return; /* clock went back or no time passed */
    uint64_t elapsed = now_ms - b->last_ms;
    b->last_ms = now_ms;
    int64_t full = cap_milli(b);
    if (b->rate_per_s == 0 || b->tokens_milli >= full) {
        if (b->tokens_milli > full) b->tokens_milli = full;
        return;
    }
    uint64_t deficit = (uint64_t)(full - b->tokens_milli); /* < 2^63 */
    /* rate_per_s milli-tokens per ms: the deficit is made up after ceil(deficit / rate) ms */
    if (elapsed >= (deficit + b->rate_per_s - 1) / b->rate_per_s)
        b->tokens_milli = full;
    else
        b->tokens_milli += (int64_t)(elapsed * b->rate_per_s); /* < deficit */
}

void client_token_bucket_init(client_token_bucket *b, uint64_t rate_per_s, uint64_t capacity,
                              uint64_t now_ms)
{
    b->rate_per_s = rate_per_s > UINT32_MAX ? UINT32_MAX : (uint32_t)rate_per_s;
    b->capacity = capacity == 0 ? 1 : capacity > UINT32_MAX ? UINT32_MAX : (uint32_t)capacity;
    client_token_bucket_fill(b, now_ms);
}

void client_token_bucket_fill(client_token_bucket *b, uint64_t now_ms)
{
    b->tokens_milli = cap_milli(b);
    b->last_ms = now_ms;
}

/* Queries do not change the bucket: they look at a refilled copy. */
bool client_token_bucket_ready(const client_token_bucket *b, uint64_t now_ms)
{
    if (b->rate_per_s == 0) return true;
    client_token_bucket now = *b;
    refill(&now, now_ms);
    return now.tokens_milli >= MILLI;
}

void client_token_bucket_take(client_token_bucket *b, uint64_t n, uint64_t now_ms)
{
    if (b->rate_per_s == 0) return;
    refill(b, now_ms);
    uint64_t room = (uint64_t)(b->tokens_milli - MIN_TOKENS); /* how far down we may still go */
    if (n >= room / MILLI)
        b->tokens_milli = MIN_TOKENS;
    else
        b->tokens_milli -= (int64_t)(n * MILLI);
}

uint64_t client_token_bucket_ready_at(const client_token_bucket *bucket, uint64_t now_ms)
{
    if (client_token_bucket_ready(bucket, now_ms)) return now_ms;
    client_token_bucket refilled = *bucket;
    const client_token_bucket *b = &refilled;
    refill(&refilled, now_ms);
    uint64_t need = (uint64_t)(MILLI - b->tokens_milli); /* > 0, < 2^63 */
    uint64_t wait = (need + b->rate_per_s - 1) / b->rate_per_s;
    uint64_t from = b->last_ms > now_ms ? b->last_ms : now_ms;
    return wait > UINT64_MAX - from ? UINT64_MAX : from + wait;
}
