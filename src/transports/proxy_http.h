/*
 * transports/proxy_http.h - constructor of the HTTP CONNECT proxy filter (RFC 9110 section
 * 9.3.6), which sits right above the connection to the proxy (TCP, or TLS to the proxy) and below
 * the broker's TLS or WebSocket: tcp -> [tls-to-proxy] -> proxy_http -> [tls] -> [ws] -> sink.
 *
 * Behaviour, in short:
 *  - once its lower filter is open it writes one request, exactly
 *      "CONNECT <host>:<port> HTTP/1.1\r\nHost: <host>:<port>\r\n"
 *      ["Proxy-Authorization: Basic <base64(username:password)>\r\n"] "\r\n"
 *    (an IPv6 literal in brackets), then reads the answer's head (proxy_http_reply.c);
 *  - a 2xx answer opens the tunnel: on_open goes up, then whatever followed the head in the same
 *    read (tunnel bytes) goes up as on_read; from then on bytes pass through unchanged both ways;
 *  - any other answer, a malformed one, or a close before the answer fails the connection with
 *    MQTT5_ERR_PROXY and a detail quoting the status line ("HTTP proxy answered 'HTTP/1.1 407
 *    Proxy Authentication Required' to CONNECT broker:8883: ..."); a failure to reach the proxy
 *    keeps its error and gets "cannot reach the HTTP proxy: " before its detail;
 *  - the request holds the credentials: it is wiped when sent and when the filter is destroyed;
 *    neither the password nor the Proxy-Authorization value is ever logged or put in a detail.
 * queries are not passed down: below the tunnel is the proxy's connection, not the broker's.
 */
#ifndef MQTT5_TRANSPORTS_PROXY_HTTP_H
#define MQTT5_TRANSPORTS_PROXY_HTTP_H

#include <stdint.h>

#include "transports/filter.h"

typedef struct mqtt5_proxy_http_options {
    const char *host; /* required: the broker, a DNS name or IP literal (at most 255 bytes) */
    uint16_t port;    /* required */
    const char *username, *password; /* Basic authentication when username is set; NULL pass = "" */
} mqtt5_proxy_http_options;

/*
 * A new HTTP CONNECT filter; everything in `o` is copied. The caller stacks it with
 * mqtt5_filter_stack(). 0, MQTT5_ERR_INVALID_ARGUMENT (no host or port, a host with CR, LF, space
 * or over 255 bytes, a username with a colon) or MQTT5_ERR_NOMEM.
 */
int mqtt5_proxy_http_filter_new(const mqtt5_proxy_http_options *o, mqtt5_filter **out);

#endif
