/*
 * runtime/client_proxy.h - the client's proxy settings (mqtt5_client_options.http_proxy or
 * .socks5_proxy): validated and copied at client new (the TLS context for the proxy is loaded
 * there too), and turned into filters at every connect. runtime/client.c owns the chain; this
 * only adds the part between TCP (which connects to the proxy) and the broker's TLS:
 * tcp -> [tls-to-proxy -> proxy_http | socks5] -> [tls] -> [ws] -> sink.
 */
#ifndef MQTT5_RUNTIME_CLIENT_PROXY_H
#define MQTT5_RUNTIME_CLIENT_PROXY_H

#include <stdint.h>

#include "mqtt5/client.h"
#include "mqtt5/tls.h"
#include "transports/filter.h"

typedef enum mqtt5_client_proxy_kind {
    MQTT5_CLIENT_PROXY_NONE = 0,
    MQTT5_CLIENT_PROXY_HTTP,
    MQTT5_CLIENT_PROXY_SOCKS5,
} mqtt5_client_proxy_kind;

typedef struct mqtt5_client_proxy {
    mqtt5_client_proxy_kind kind;
    char host[256]; /* the proxy: where TCP connects */
    uint16_t port;
    char *username, *password; /* copies (wiped when cleared) or NULL */
    mqtt5_tls_ctx *tls;        /* TLS to the proxy (HTTP only) or NULL */
} mqtt5_client_proxy;

/*
 * Check o->http_proxy and o->socks5_proxy without copying anything: both set is
 * MQTT5_ERR_INVALID_ARGUMENT naming "socks5_proxy"; a missing or long host names
 * "http_proxy.host" / "socks5_proxy.host", a missing HTTP proxy port "http_proxy.port", a
 * username with ':' (HTTP Basic) or over 255 bytes (SOCKS5) "<proxy>.username", a password
 * without a username or over 255 bytes (SOCKS5) "<proxy>.password". 0 when fine or none.
 */
int mqtt5_client_proxy_check(const mqtt5_client_options *o, mqtt5_codec_status *st);

/* Check (as above) and copy into *p (zeroed first), loading http_proxy->tls into a context
 * (a bad TLS option names "http_proxy.tls"). 0, or an error with *p left empty. */
int mqtt5_client_proxy_init(mqtt5_client_proxy *p, const mqtt5_client_options *o,
                            mqtt5_codec_status *st);

/* Wipe the credentials, release the TLS context, zero *p. */
void mqtt5_client_proxy_clear(mqtt5_client_proxy *p);

/*
 * New filters for one connection to the broker host:port through the proxy, stacked on *top
 * (the TCP filter connected to the proxy), *top moved to the last one. On failure the filters
 * already stacked stay for the caller to destroy with the rest. 0, MQTT5_ERR_NOMEM or
 * MQTT5_ERR_INVALID_ARGUMENT.
 */
int mqtt5_client_proxy_push(const mqtt5_client_proxy *p, const char *host, uint16_t port,
                            mqtt5_filter **top);

/* "HTTP proxy 127.0.0.1:3128" / "HTTPS proxy ..." / "SOCKS5 proxy ...", for details and logs. */
const char *mqtt5_client_proxy_describe(const mqtt5_client_proxy *p, char *buf, size_t cap);

#endif
