/*
 * runtime/client_proxy.c - the client's proxy settings of client_proxy.h: option checks with the
 * field named in the status, copies (credentials wiped when cleared), the TLS context for a TLS
 * proxy, and the per-connection filters (transports/proxy_http.c, transports/socks5.c). It
 * never logs credentials.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/wipe.h"
#include "mqtt5/error.h"
#include "runtime/client_proxy.h"
#include "transports/proxy_http.h"
#include "transports/socks5.h"
#include "transports/tls_filter.h"

#define SOCKS5_DEFAULT_PORT 1080

static int set_status(mqtt5_codec_status *st, int err, const char *field, const char *detail)
{
    if (st) {
        memset(st, 0, sizeof *st);
        st->error = err;
        st->field = field;
        st->detail = detail;
    }
    return err;
}

static bool given(const char *s)
{
    return s && s[0];
}

static int check_http(const mqtt5_http_proxy_options *h, mqtt5_codec_status *st)
{
    if (!given(h->host) || strlen(h->host) > 255 || strpbrk(h->host, "\r\n \t/@"))
        return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "http_proxy.host",
                          "required: the proxy's host name or IP address (at most 255 bytes)");
    if (h->port == 0)
        return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "http_proxy.port", "required");
    if (given(h->username) && strchr(h->username, ':'))
        return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "http_proxy.username",
                          "HTTP Basic authentication allows no ':' in a username");
    if (!given(h->username) && given(h->password))
        return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "http_proxy.password",
                          "a password needs a username");
    return 0;
}

static int check_socks5(const mqtt5_socks5_proxy_options *s, mqtt5_codec_status *st)
{
    if (!given(s->host) || strlen(s->host) > 255)
        return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "socks5_proxy.host",
                          "required: the proxy's host name or IP address (at most 255 bytes)");
    if (given(s->username) && strlen(s->username) > 255)
        return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "socks5_proxy.username",
                          "at most 255 bytes (RFC 1929)");
    if (!given(s->username) && given(s->password))
        return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "socks5_proxy.password",
                          "a password needs a username");
    if (s->password && strlen(s->password) > 255)
        return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "socks5_proxy.password",
                          "at most 255 bytes (RFC 1929)");
    return 0;
}

int mqtt5_client_proxy_check(const mqtt5_client_options *o, mqtt5_codec_status *st)
{
    if (o->http_proxy && o->socks5_proxy)
        return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "socks5_proxy",
                          "exclusive with http_proxy: give one proxy");
    if (o->http_proxy) return check_http(o->http_proxy, st);
    if (o->socks5_proxy) return check_socks5(o->socks5_proxy, st);
    return 0;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static int copy_credentials(mqtt5_client_proxy *p, const char *user, const char *pass,
                            mqtt5_codec_status *st)
{
    if (!given(user)) return 0;
    p->username = dup_str(user);
    p->password = dup_str(pass ? pass : "");
    if (!p->username || !p->password) return set_status(st, MQTT5_ERR_NOMEM, NULL, NULL);
    return 0;
}

int mqtt5_client_proxy_init(mqtt5_client_proxy *p, const mqtt5_client_options *o,
                            mqtt5_codec_status *st)
{
    memset(p, 0, sizeof *p);
    int rc = mqtt5_client_proxy_check(o, st);
    if (rc || (!o->http_proxy && !o->socks5_proxy)) return rc;
    if (o->http_proxy) {
        const mqtt5_http_proxy_options *h = o->http_proxy;
        p->kind = MQTT5_CLIENT_PROXY_HTTP;
        snprintf(p->host, sizeof p->host, "%s", h->host);
        p->port = h->port;
        rc = copy_credentials(p, h->username, h->password, st);
        if (rc == 0 && h->tls) {
            rc = mqtt5_tls_ctx_new(h->tls, &p->tls, st);
            if (rc && st) st->field = "http_proxy.tls"; /* the detail says which option */
        }
    } else {
        const mqtt5_socks5_proxy_options *s = o->socks5_proxy;
        p->kind = MQTT5_CLIENT_PROXY_SOCKS5;
        snprintf(p->host, sizeof p->host, "%s", s->host);
        p->port = s->port ? s->port : SOCKS5_DEFAULT_PORT;
        rc = copy_credentials(p, s->username, s->password, st);
    }
    if (rc) mqtt5_client_proxy_clear(p);
    return rc;
}

static void free_secret(char **s)
{
    if (!*s) return;
    mqtt5_wipe(*s, strlen(*s));
    free(*s);
    *s = NULL;
}

void mqtt5_client_proxy_clear(mqtt5_client_proxy *p)
{
    free_secret(&p->username);
    free_secret(&p->password);
    mqtt5_tls_ctx_release(p->tls);
    memset(p, 0, sizeof *p);
}

static void push(mqtt5_filter **top, mqtt5_filter *f)
{
    mqtt5_filter_stack(*top, f);
    *top = f;
}

int mqtt5_client_proxy_push(const mqtt5_client_proxy *p, const char *host, uint16_t port,
                            mqtt5_filter **top)
{
    mqtt5_filter *f = NULL;
    int rc;
    if (p->kind == MQTT5_CLIENT_PROXY_HTTP) {
        if (p->tls) {
            rc = mqtt5_tls_filter_new(p->tls, p->host, &f);
            if (rc) return rc;
            push(top, f);
        }
        mqtt5_proxy_http_options ho = {host, port, p->username, p->password};
        rc = mqtt5_proxy_http_filter_new(&ho, &f);
    } else if (p->kind == MQTT5_CLIENT_PROXY_SOCKS5) {
        mqtt5_socks5_options so = {host, port, p->username, p->password};
        rc = mqtt5_socks5_filter_new(&so, &f);
    } else {
        return 0;
    }
    if (rc) return rc;
    push(top, f);
    return 0;
}

const char *mqtt5_client_proxy_describe(const mqtt5_client_proxy *p, char *buf, size_t cap)
{
    bool v6 = strchr(p->host, ':') != NULL;
    const char *kind = p->kind == MQTT5_CLIENT_PROXY_SOCKS5 ? "SOCKS5" : p->tls ? "HTTPS" : "HTTP";
    snprintf(buf, cap, v6 ? "%s proxy [%s]:%u" : "%s proxy %s:%u", kind, p->host, p->port);
    return buf;
}
