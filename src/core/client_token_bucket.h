/*
 * client_token_bucket.h - a token bucket in thousandths of a token, for AWS IoT Core pacing
 * (100 PUBLISH/s and 512 KiB/s per connection). Time is the caller's milliseconds; nothing here
 * reads a clock or allocates.
 *
 * A refill adds rate_per_s milli-tokens per elapsed millisecond, capped at `capacity` tokens. The
 * bucket is ready when it holds at least one whole token; `take` may drive it negative (debt), so a
 * packet bigger than the bucket goes out once the debt is repaid and nothing waits forever.
 * rate_per_s 0 means no limit (always ready).
 */
#ifndef MQTT5_CORE_CLIENT_TOKEN_BUCKET_H
#define MQTT5_CORE_CLIENT_TOKEN_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

typedef struct client_token_bucket {
    uint32_t rate_per_s, capacity; /* capacity in tokens, at least 1 */
    int64_t tokens_milli;
    uint64_t last_ms;
} client_token_bucket;

/* Starts full. capacity 0 is taken as 1; both are clamped to 2^32 - 1 (so milli-token sums
 * cannot overflow). */
void client_token_bucket_init(client_token_bucket *b, uint64_t rate_per_s, uint64_t capacity,
                              uint64_t now_ms);
/* Refills the bucket to full (e.g. at each CONNACK). */
void client_token_bucket_fill(client_token_bucket *b, uint64_t now_ms);
/* At least one whole token after refilling to now_ms. A now_ms older than the last one seen adds
 * nothing. */
bool client_token_bucket_ready(const client_token_bucket *b, uint64_t now_ms);
/* Refill to now_ms, then remove n tokens (may go negative). */
void client_token_bucket_take(client_token_bucket *b, uint64_t n, uint64_t now_ms);
/* Earliest millisecond at which `ready` holds (now_ms if it holds now). */
uint64_t client_token_bucket_ready_at(const client_token_bucket *b, uint64_t now_ms);

#endif
