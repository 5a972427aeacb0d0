/*
 * builder/builder_proxy.h - the builders' proxy helper: the proxy URL handed to the default
 * credentials chain's HTTP calls (libcurl) when a builder is given http_proxy_options or
 * socks5_proxy_options, so fetching credentials goes through the same proxy as MQTT.
 */
#ifndef MQTT5_BUILDER_PROXY_H
#define MQTT5_BUILDER_PROXY_H

#include "mqtt5/builder.h"

/*
 * *url (malloc'd; wipe before freeing: it may hold a password) and *ca_file (the proxy's
 * tls->ca_file or NULL, borrowed) for the builder options' proxy:
 * "http://[user:pass@]host:port", "https://..." when the HTTP proxy has TLS options, or
 * "socks5h://[user:pass@]host:port" (the proxy resolves names). User and password are
 * percent-encoded (all but ALPHA DIGIT - . _ ~), an IPv6 host gets brackets. *url NULL when the
 * options have no proxy. 0, MQTT5_ERR_NOMEM, or MQTT5_ERR_INVALID_ARGUMENT (no host).
 */
int mqtt5_builder_proxy_url(const mqtt5_builder_options *o, char **url, const char **ca_file);

/* Zero and free a URL from mqtt5_builder_proxy_url (NULL is fine). */
void mqtt5_builder_proxy_url_free(char *url);

#endif
