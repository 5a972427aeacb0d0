/*
 * builder/builder_proxy.c - the proxy URL of builder_proxy.h for the credentials chain's HTTP
 * calls: scheme from the proxy kind, percent-encoded credentials, bracketed IPv6 hosts. The URL
 * may hold a password, so it is wiped when freed and never logged.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/builder_proxy.h"
#include "common/wipe.h"
#include "http/http_client.h"
#include "mqtt5/error.h"

/* Append s percent-encoded at out + *at (the buffer holds 3 bytes per byte of s, plus one). */
static void put_encoded(char *out, size_t cap, size_t *at, const char *s)
{
    long n = mqtt5_http_url_encode(s, out + *at, cap - *at);
    if (n > 0) *at += (size_t)n;
}

int mqtt5_builder_proxy_url(const mqtt5_builder_options *o, char **url, const char **ca_file)
{
    *url = NULL;
    *ca_file = NULL;
    const char *scheme, *host, *user, *pass;
    uint16_t port;
    if (o->http_proxy_options) {
        const mqtt5_http_proxy_options *h = o->http_proxy_options;
        scheme = h->tls ? "https" : "http";
        host = h->host;
        port = h->port;
        user = h->username;
        pass = h->password;
        if (h->tls) *ca_file = h->tls->ca_file;
    } else if (o->socks5_proxy_options) {
        const mqtt5_socks5_proxy_options *s = o->socks5_proxy_options;
        scheme = "socks5h";
        host = s->host;
        port = s->port ? s->port : 1080;
        user = s->username;
        pass = s->password;
    } else {
        return 0;
    }
    if (!host || !host[0]) return MQTT5_ERR_INVALID_ARGUMENT;
    if (user && !user[0]) user = NULL;
    size_t cap = strlen(scheme) + 3 + strlen(host) + 2 + 8 + 1;
    if (user) cap += 3 * strlen(user) + 1 + 3 * (pass ? strlen(pass) : 0) + 1;
    char *u = malloc(cap);
    if (!u) return MQTT5_ERR_NOMEM;
    size_t at = (size_t)snprintf(u, cap, "%s://", scheme);
    if (user) {
        put_encoded(u, cap, &at, user);
        if (pass && pass[0]) {
            u[at++] = ':';
            put_encoded(u, cap, &at, pass);
        }
        u[at++] = '@';
    }
    bool v6 = strchr(host, ':') != NULL;
    snprintf(u + at, cap - at, v6 ? "[%s]:%u" : "%s:%u", host, port);
    *url = u;
    return 0;
}

void mqtt5_builder_proxy_url_free(char *url)
{
    if (!url) return;
    mqtt5_wipe(url, strlen(url));
    free(url);
}
