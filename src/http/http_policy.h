/*
 * http/http_policy.h - the HTTP client's decisions, kept apart from its I/O so they can be read
 * and tested alone: which attempt results are retried, how long to wait before the next
 * attempt, which mqtt5 error a libcurl result is, and which part of a URL may be shown in logs
 * and error details (never userinfo, query or fragment: they may carry tokens).
 */
#ifndef MQTT5_HTTP_POLICY_H
#define MQTT5_HTTP_POLICY_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MQTT5_HTTP_BACKOFF_BASE_MS 100u
#define MQTT5_HTTP_BACKOFF_CAP_MS 2000u

/* HTTP 5xx and 429 are retried; every other status is the answer. */
bool mqtt5_http_status_retryable(long status);
/* Transport errors worth another attempt: connect refused, timeout, reset while sending or
 * receiving, empty reply, body cut short. */
bool mqtt5_http_curl_retryable(CURLcode rc);
/* The mqtt5_error of a libcurl failure (MQTT5_ERR_IO when nothing more specific fits). */
int mqtt5_http_curl_error(CURLcode rc);
/* Full-jitter backoff after `failed_attempts` (>= 1) attempts: uniform in [0, ceiling] where
 * ceiling = min(MQTT5_HTTP_BACKOFF_CAP_MS, MQTT5_HTTP_BACKOFF_BASE_MS * 2^(failed_attempts-1)),
 * drawn from the random number `rnd`. */
uint32_t mqtt5_http_backoff_ms(uint32_t failed_attempts, uint64_t rnd);
/* "scheme://host[:port]/path" of `url` into out (NUL-terminated, truncated to cap): userinfo,
 * query and fragment left out. */
void mqtt5_http_url_redact(const char *url, char *out, size_t cap);

#endif
