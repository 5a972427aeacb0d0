/*
 * http/http_client.h - asynchronous HTTP/1.1 requests for the credential providers: libcurl's
 * multi interface driven by one event loop (uv_poll per socket, one uv_timer), so no call blocks
 * the loop. Retries transport errors, 5xx and 429 with exponential backoff and jitter; every
 * attempt has a connect timeout and a total timeout. Proxy, CA file and connect-to seam come
 * from mqtt5_credentials_http_options.
 *
 * Threading: mqtt5_http_client_new may be called on any thread; every other call, and every
 * callback, happens on the loop's thread.
 */
#ifndef MQTT5_HTTP_CLIENT_H
#define MQTT5_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt5/allocator.h"
#include "mqtt5/credentials.h"

struct mqtt5_loop;
typedef struct mqtt5_http_client mqtt5_http_client;
typedef struct mqtt5_http_request mqtt5_http_request;

typedef struct mqtt5_http_request_desc {
    const char *method;         /* "GET", "PUT", "POST" */
    const char *url;            /* absolute http:// or https:// URL */
    const char *const *headers; /* "Name: value" lines, copied */
    size_t header_count;
    const uint8_t *body; /* copied; NULL with body_len 0 = none */
    size_t body_len;
    uint32_t max_attempts; /* 0 = the client's options */
    uint32_t timeout_ms;   /* 0 = the client's options */
    size_t max_response;   /* 0 = 1 MiB; a larger body fails the request */
} mqtt5_http_request_desc;

typedef struct mqtt5_http_response {
    int status;       /* 200, 404, ... */
    const char *body; /* NUL-terminated, body_len bytes before the NUL */
    size_t body_len;
    const char *content_type; /* NULL if none */
    uint32_t attempts;        /* how many attempts were made */
} mqtt5_http_response;

/*
 * Exactly once per request, on the loop thread: error 0 with the last attempt's response (any
 * status: the caller judges it), or a negative mqtt5_error with a one-line detail when no
 * response came: MQTT5_ERR_TIMEOUT, MQTT5_ERR_CONNECT_REFUSED, MQTT5_ERR_DNS,
 * MQTT5_ERR_TLS_UNTRUSTED_CERT, MQTT5_ERR_TLS_HANDSHAKE, MQTT5_ERR_IO,
 * MQTT5_ERR_PACKET_TOO_LARGE (body over max_response), MQTT5_ERR_TERMINATED (client destroyed
 * or request cancelled). `resp` and `detail` are valid during the call only.
 *
 * `resp` is never NULL: on an error its status is 0 and its body "", and only `attempts` (how
 * many attempts were started) means anything. `detail` is never NULL: "<METHOD> <url>: HTTP
 * <status>" or "<METHOD> <url>: <reason>", where <url> is the URL without userinfo, query and
 * fragment; header values and bodies never appear in it.
 */
typedef void (*mqtt5_http_done_fn)(void *user, int error, const mqtt5_http_response *resp,
                                   const char *detail);

int mqtt5_http_client_new(const mqtt5_allocator *alloc, struct mqtt5_loop *loop,
                          const mqtt5_credentials_http_options *opts, mqtt5_http_client **out);
/* Start a request. 0 (done will be called, never before this returns) or a negative error
 * (MQTT5_ERR_INVALID_ARGUMENT naming the field in the log, MQTT5_ERR_NOMEM; also
 * MQTT5_ERR_INVALID_STATE off the loop thread and MQTT5_ERR_TERMINATED once destroy was called,
 * e.g. from a done callback). *out may be NULL. The request handle is valid until its done
 * returns. Methods: GET (no body), PUT and POST (an empty body is sent as Content-Length: 0).
 * Redirects are not followed; the environment's proxy variables are ignored (only
 * opts->proxy_url is used). */
int mqtt5_http_client_request(mqtt5_http_client *c, const mqtt5_http_request_desc *d,
                              mqtt5_http_done_fn done, void *user, mqtt5_http_request **out);
/* Cancel: done is called with MQTT5_ERR_TERMINATED before this returns. */
void mqtt5_http_request_cancel(mqtt5_http_request *r);
/* Cancel every request (their done runs first), then close handles; `on_destroyed` (may be
 * NULL) runs on the loop thread once the memory is gone, always after destroy returned.
 * Loop thread only; may be called from a done callback. */
void mqtt5_http_client_destroy(mqtt5_http_client *c, void (*on_destroyed)(void *user), void *user);

/* Percent-encode `in` for a URL query or form body (everything but A-Z a-z 0-9 - _ . ~) into
 * `out` (size cap); returns the length or -1 if it does not fit. */
long mqtt5_http_url_encode(const char *in, char *out, size_t cap);

#endif
