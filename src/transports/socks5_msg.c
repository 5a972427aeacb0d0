/*
 * transports/socks5_msg.c - the SOCKS5 messages of socks5_msg.h: encoders for the greeting, the
 * RFC 1929 username/password request and the CONNECT request, and a byte-at-a-time reader of the
 * three answers that learns each answer's length as it goes (the CONNECT reply's from its
 * address type). It never allocates and never reads past what it was given.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <string.h>

#include "mqtt5/error.h"
#include "transports/socks5_msg.h"

size_t mqtt5_socks5_greeting(bool userpass, uint8_t out[4])
{
    out[0] = MQTT5_SOCKS5_VERSION;
    out[1] = userpass ? 2 : 1;
    out[2] = MQTT5_SOCKS5_METHOD_NONE;
    if (!userpass) return 3;
    out[3] = MQTT5_SOCKS5_METHOD_USERPASS;
    return 4;
}

int mqtt5_socks5_auth_request(const char *username, const char *password, uint8_t *out, size_t cap,
                              size_t *len)
{
    size_t ulen = username ? strlen(username) : 0;
    size_t plen = password ? strlen(password) : 0;
    if (ulen == 0 || ulen > 255 || plen > 255) return MQTT5_ERR_INVALID_ARGUMENT;
    if (cap < 3 + ulen + plen) return MQTT5_ERR_BUFFER_TOO_SMALL;
    size_t at = 0;
    out[at++] = MQTT5_SOCKS5_AUTH_VERSION;
    out[at++] = (uint8_t)ulen;
    memcpy(out + at, username, ulen);
    at += ulen;
    out[at++] = (uint8_t)plen;
    if (plen) memcpy(out + at, password, plen);
    *len = at + plen;
    return 0;
}

int mqtt5_socks5_connect_request(const char *host, uint16_t port, uint8_t *out, size_t cap,
                                 size_t *len)
{
    uint8_t addr[16];
    size_t hlen = host ? strlen(host) : 0;
    if (hlen == 0 || hlen > 255) return MQTT5_ERR_INVALID_ARGUMENT;
    uint8_t atyp = MQTT5_SOCKS5_ATYP_DOMAIN;
    size_t alen = 1 + hlen;
    if (inet_pton(AF_INET, host, addr) == 1) {
        atyp = MQTT5_SOCKS5_ATYP_IPV4;
        alen = 4;
    } else if (inet_pton(AF_INET6, host, addr) == 1) {
        atyp = MQTT5_SOCKS5_ATYP_IPV6;
        alen = 16;
    }
    if (cap < 4 + alen + 2) return MQTT5_ERR_BUFFER_TOO_SMALL;
    size_t at = 0;
    out[at++] = MQTT5_SOCKS5_VERSION;
    out[at++] = MQTT5_SOCKS5_CMD_CONNECT;
    out[at++] = 0; /* reserved */
    out[at++] = atyp;
    if (atyp == MQTT5_SOCKS5_ATYP_DOMAIN) {
        out[at++] = (uint8_t)hlen;
        memcpy(out + at, host, hlen);
        at += hlen;
    } else {
        memcpy(out + at, addr, alen);
        at += alen;
    }
    out[at++] = (uint8_t)(port >> 8);
    out[at++] = (uint8_t)port;
    *len = at;
    return 0;
}

void mqtt5_socks5_reader_init(mqtt5_socks5_reader *r, mqtt5_socks5_answer kind)
{
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->need = kind == MQTT5_SOCKS5_ANSWER_REPLY ? 4 : 2;
}

static int fail(mqtt5_socks5_reader *r, const char *why)
{
    r->failed = true;
    r->why = why;
    return MQTT5_ERR_PROXY;
}

/* Check the byte just stored at r->buf[r->n - 1]; 0, or MQTT5_ERR_PROXY. */
static int check_byte(mqtt5_socks5_reader *r)
{
    size_t i = r->n - 1;
    uint8_t b = r->buf[i];
    if (i == 0) {
        r->version = b;
        if (r->kind == MQTT5_SOCKS5_ANSWER_AUTH) {
            if (b != MQTT5_SOCKS5_AUTH_VERSION && b != MQTT5_SOCKS5_VERSION)
                return fail(r, "an authentication answer of an unknown version");
        } else if (b != MQTT5_SOCKS5_VERSION) {
            return fail(r, "an answer that is not SOCKS version 5");
        }
        return 0;
    }
    if (i == 1) {
        r->code = b;
        if (r->kind == MQTT5_SOCKS5_ANSWER_REPLY && b != 0) r->need = 2; /* a failure: done */
        return 0;
    }
    if (r->kind != MQTT5_SOCKS5_ANSWER_REPLY) return 0;
    if (i == 3) {
        r->atyp = b;
        switch (b) {
        case MQTT5_SOCKS5_ATYP_IPV4:
            r->need = 4 + 4 + 2;
            break;
        case MQTT5_SOCKS5_ATYP_IPV6:
            r->need = 4 + 16 + 2;
            break;
        case MQTT5_SOCKS5_ATYP_DOMAIN:
            r->need = 5; /* the name's length comes next */
            break;
        default:
            return fail(r, "a reply with an unknown address type");
        }
    } else if (i == 4 && r->atyp == MQTT5_SOCKS5_ATYP_DOMAIN) {
        r->need = 5 + (size_t)b + 2;
    }
    return 0;
}

int mqtt5_socks5_reader_feed(mqtt5_socks5_reader *r, const uint8_t *p, size_t n, size_t *used)
{
    *used = 0;
    if (r->done) return 0;
    if (r->failed) return MQTT5_ERR_PROXY;
    size_t i = 0;
    while (i < n && r->n < r->need) {
        r->buf[r->n++] = p[i++];
        if (check_byte(r) != 0) {
            *used = i;
            return MQTT5_ERR_PROXY;
        }
    }
    *used = i;
    if (r->n < r->need) return MQTT5_ERR_NEED_MORE;
    r->done = true;
    return 0;
}

const char *mqtt5_socks5_reply_str(uint8_t rep)
{
    static const char *const names[] = {
        "succeeded",
        "general SOCKS server failure",
        "connection not allowed by ruleset",
        "network unreachable",
        "host unreachable",
        "connection refused by destination host",
        "TTL expired",
        "command not supported",
        "address type not supported",
    };
    return rep < sizeof names / sizeof names[0] ? names[rep] : "unassigned reply code";
}
