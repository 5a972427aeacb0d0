/*
 * http/http_policy.c - what the HTTP client retries, how long it waits between attempts, how a
 * libcurl result maps to an mqtt5_error, and what of a URL may be shown (see http_policy.h).
 * No I/O, no state.
 */
#include <string.h>

#include "http/http_policy.h"
#include "mqtt5/error.h"

bool mqtt5_http_status_retryable(long status)
{
    return status == 429 || (status >= 500 && status <= 599);
}

bool mqtt5_http_curl_retryable(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return true;
    default:
        return false;
    }
}

int mqtt5_http_curl_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_OK:
        return 0;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return MQTT5_ERR_DNS;
    case CURLE_COULDNT_CONNECT:
        return MQTT5_ERR_CONNECT_REFUSED;
    case CURLE_OPERATION_TIMEDOUT:
        return MQTT5_ERR_TIMEOUT;
    case CURLE_PEER_FAILED_VERIFICATION:
        return MQTT5_ERR_TLS_UNTRUSTED_CERT;
    case CURLE_SSL_CONNECT_ERROR:
        return MQTT5_ERR_TLS_HANDSHAKE;
    case CURLE_FILESIZE_EXCEEDED:
        return MQTT5_ERR_PACKET_TOO_LARGE;
    case CURLE_OUT_OF_MEMORY:
        return MQTT5_ERR_NOMEM;
    default:
        return MQTT5_ERR_IO;
    }
}

uint32_t mqtt5_http_backoff_ms(uint32_t failed_attempts, uint64_t rnd)
{
    uint64_t ceiling = MQTT5_HTTP_BACKOFF_BASE_MS;
    for (uint32_t i = 1; i < failed_attempts && ceiling < MQTT5_HTTP_BACKOFF_CAP_MS; i++)
        ceiling *= 2;
    if (ceiling > MQTT5_HTTP_BACKOFF_CAP_MS) ceiling = MQTT5_HTTP_BACKOFF_CAP_MS;
    return (uint32_t)(rnd % (ceiling + 1));
}

static size_t append(char *out, size_t cap, size_t n, const char *s, size_t len)
{
    if (n + 1 >= cap) return n;
    if (len > cap - 1 - n) len = cap - 1 - n;
    memcpy(out + n, s, len);
    return n + len;
}

void mqtt5_http_url_redact(const char *url, char *out, size_t cap)
{
    if (cap == 0) return;
    out[0] = '\0';
    if (url == NULL) return;
    size_t n = 0;
    const char *rest = url;
    const char *sep = strstr(url, "://");
    if (sep != NULL && (size_t)(sep - url) < strcspn(url, "/?#")) {
        n = append(out, cap, n, url, (size_t)(sep - url) + 3);
        rest = sep + 3;
    }
    size_t auth_len = strcspn(rest, "/?#");
    const char *host = rest;
    for (size_t i = 0; i < auth_len; i++)
        if (rest[i] == '@') host = rest + i + 1; /* userinfo: left out */
    n = append(out, cap, n, host, auth_len - (size_t)(host - rest));
    const char *path = rest + auth_len;
    n = append(out, cap, n, path, strcspn(path, "?#"));
    out[n] = '\0';
}
