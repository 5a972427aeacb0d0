/*
 * transports/socks5.h - constructor of the SOCKS5 proxy filter (RFC 1928, with RFC 1929
 * username/password authentication), which sits right above the TCP connection to the proxy and
 * below the broker's TLS or WebSocket: tcp -> socks5 -> [tls] -> [ws] -> sink.
 *
 * Behaviour, in short:
 *  - once its lower filter is open it writes the greeting (05 01 00, or 05 02 00 02 when a
 *    username is given), answers the proxy's method choice with the RFC 1929 request when it
 *    chose 02, then sends CONNECT for the broker: IP literals as ATYP IPv4/IPv6, names as ATYP
 *    domain (the proxy resolves them; resolving locally is not implemented);
 *  - a reply "succeeded" opens the tunnel: on_open goes up, then bytes that followed the reply in
 *    the same read go up as on_read; from then on bytes pass through unchanged both ways;
 *  - every refusal fails the connection with MQTT5_ERR_PROXY and a detail naming it ("SOCKS5
 *    proxy: connection refused by destination host (5) for CONNECT broker:8883", "SOCKS5 proxy
 *    refused the username or password (status 1)", "SOCKS5 proxy accepts none of the offered
 *    authentication methods ..."); a failure to reach the proxy keeps its error and gets "cannot
 *    reach the SOCKS5 proxy: " before its detail;
 *  - the authentication request is built when needed and wiped once written; the password is
 *    wiped at destroy and never logged or put in a detail.
 * queries are not passed down: below the tunnel is the proxy's connection, not the broker's.
 */
#ifndef MQTT5_TRANSPORTS_SOCKS5_H
#define MQTT5_TRANSPORTS_SOCKS5_H

#include <stdint.h>

#include "transports/filter.h"

typedef struct mqtt5_socks5_options {
    const char *host; /* required: the broker, a DNS name (at most 255 bytes) or IP literal */
    uint16_t port;    /* required */
    const char *username, *password; /* RFC 1929 when username is set (1..255 bytes each; NULL
                                        password = "") */
} mqtt5_socks5_options;

/*
 * A new SOCKS5 filter; everything in `o` is copied. The caller stacks it with
 * mqtt5_filter_stack(). 0, MQTT5_ERR_INVALID_ARGUMENT (no host or port, a host over 255 bytes,
 * an empty username, a username or password over 255 bytes) or MQTT5_ERR_NOMEM.
 */
int mqtt5_socks5_filter_new(const mqtt5_socks5_options *o, mqtt5_filter **out);

#endif
