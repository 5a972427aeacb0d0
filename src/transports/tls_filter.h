/*
 * transports/tls_filter.h - constructor of the TLS filter, for code that stacks filters (the
 * runtime) without seeing OpenSSL: tls_internal.h holds the OpenSSL side.
 */
#ifndef MQTT5_TRANSPORTS_TLS_FILTER_H
#define MQTT5_TRANSPORTS_TLS_FILTER_H

#include "mqtt5/tls.h"
#include "transports/filter.h"

/*
 * A new TLS filter for `host` (a DNS name or an IP literal; the context's server_name wins).
 * The caller stacks it with mqtt5_filter_stack(). 0, MQTT5_ERR_NOMEM or MQTT5_ERR_TLS_HANDSHAKE.
 */
int mqtt5_tls_filter_new(mqtt5_tls_ctx *ctx, const char *host, mqtt5_filter **out);

#endif
