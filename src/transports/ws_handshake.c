/*
 * transports/ws_handshake.c - the WebSocket upgrade of ws_handshake.h: the editable request and
 * its encoding, Sec-WebSocket-Key/-Accept (OpenSSL SHA-1 and base64, RAND_bytes), and a strict
 * parser of the server's response head that never reads past it and names what is wrong in
 * one line.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "mqtt5/error.h"
#include "transports/ws_handshake.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

typedef struct ws_hdr {
    char *name, *value;
} ws_hdr;

struct mqtt5_ws_request {
    char *path;
    char *failure; /* why the transform failed (mqtt5_ws_request_set_failure), or NULL */
    ws_hdr *h;
    size_t n, cap;
};

/* ---- small helpers ---- */

static int lower_ascii(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Case-insensitive equality of p[0..n) and the NUL-terminated s. */
static bool ieq(const char *p, size_t n, const char *s)
{
    size_t i = 0;
    for (; i < n && s[i]; i++)
        if (lower_ascii((unsigned char)p[i]) != lower_ascii((unsigned char)s[i])) return false;
    return i == n && s[i] == '\0';
}

static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool valid_name(const char *s)
{
    if (!s || !*s) return false;
    for (; *s; s++)
        if (!is_tchar((unsigned char)*s)) return false;
    return true;
}

static bool valid_value(const char *s)
{
    if (!s) return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\t') || c == 0x7F) return false;
    }
    return true;
}

static bool valid_path(const char *s)
{
    if (!s || s[0] != '/') return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c == 0x7F) return false;
    }
    return true;
}

static bool reserved_name(const char *name)
{
    static const char *const owned[] = {"Upgrade",
                                        "Connection",
                                        "Sec-WebSocket-Key",
                                        "Sec-WebSocket-Version",
                                        "Sec-WebSocket-Protocol",
                                        "Sec-WebSocket-Extensions"};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        if (ieq(name, strlen(name), owned[i])) return true;
    return false;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

/* ---- the request ---- */

const char *mqtt5_ws_request_path(const mqtt5_ws_request *r)
{
    return r->path;
}

int mqtt5_ws_request_set_path(mqtt5_ws_request *r, const char *path)
{
    if (!valid_path(path)) return MQTT5_ERR_INVALID_ARGUMENT;
    char *p = dup_str(path);
    if (!p) return MQTT5_ERR_NOMEM;
    free(r->path);
    r->path = p;
    return 0;
}

const char *mqtt5_ws_request_header(const mqtt5_ws_request *r, const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < r->n; i++)
        if (ieq(r->h[i].name, strlen(r->h[i].name), name)) return r->h[i].value;
    return NULL;
}

size_t mqtt5_ws_request_header_count(const mqtt5_ws_request *r)
{
    return r->n;
}

mqtt5_ws_header mqtt5_ws_request_header_at(const mqtt5_ws_request *r, size_t i)
{
    mqtt5_ws_header h = {NULL, NULL};
    if (i < r->n) h = (mqtt5_ws_header){r->h[i].name, r->h[i].value};
    return h;
}

static void remove_all(mqtt5_ws_request *r, const char *name)
{
    size_t keep = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (ieq(r->h[i].name, strlen(r->h[i].name), name)) {
            free(r->h[i].name);
            free(r->h[i].value);
        } else {
            r->h[keep++] = r->h[i];
        }
    }
    r->n = keep;
}

int mqtt5_ws_request_set_header(mqtt5_ws_request *r, const char *name, const char *value)
{
    if (!valid_name(name) || reserved_name(name)) return MQTT5_ERR_INVALID_ARGUMENT;
    if (!value) {
        if (ieq(name, strlen(name), "Host")) return MQTT5_ERR_INVALID_ARGUMENT;
        remove_all(r, name);
        return 0;
    }
    if (!valid_value(value)) return MQTT5_ERR_INVALID_ARGUMENT;
    char *v = dup_str(value);
    if (!v) return MQTT5_ERR_NOMEM;
    for (size_t i = 0; i < r->n; i++) {
        if (ieq(r->h[i].name, strlen(r->h[i].name), name)) {
            free(r->h[i].value);
            r->h[i].value = v;
            return 0;
        }
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        ws_hdr *h = realloc(r->h, cap * sizeof *h);
        if (!h) {
            free(v);
            return MQTT5_ERR_NOMEM;
        }
        r->h = h;
        r->cap = cap;
    }
    char *nm = dup_str(name);
    if (!nm) {
        free(v);
        return MQTT5_ERR_NOMEM;
    }
    r->h[r->n++] = (ws_hdr){nm, v};
    return 0;
}

void mqtt5_ws_request_free(mqtt5_ws_request *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->h[i].name);
        free(r->h[i].value);
    }
    free(r->h);
    free(r->path);
    free(r->failure);
    free(r);
}

int mqtt5_ws_request_set_failure(mqtt5_ws_request *r, const char *detail)
{
    if (!r) return MQTT5_ERR_INVALID_ARGUMENT;
    char *copy = NULL;
    if (detail) {
        size_t n = strlen(detail);
        if (n > 1024) n = 1024;
        copy = malloc(n + 1);
        if (!copy) return MQTT5_ERR_NOMEM;
        memcpy(copy, detail, n);
        copy[n] = '\0';
        for (char *c = copy; *c; c++)
            if ((unsigned char)*c < 0x20) *c = ' ';
    }
    free(r->failure);
    r->failure = copy;
    return 0;
}

const char *mqtt5_ws_request_failure(const mqtt5_ws_request *r)
{
    return r ? r->failure : NULL;
}

int mqtt5_ws_request_new(const char *host, const char *path, const mqtt5_ws_header *headers,
                         size_t count, mqtt5_ws_request **out)
{
    *out = NULL;
    if (!host || !*host || (count && !headers)) return MQTT5_ERR_INVALID_ARGUMENT;
    mqtt5_ws_request *r = calloc(1, sizeof *r);
    if (!r) return MQTT5_ERR_NOMEM;
    int rc = mqtt5_ws_request_set_path(r, path ? path : "/mqtt");
    if (rc == 0) rc = mqtt5_ws_request_set_header(r, "Host", host);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        if (!headers[i].value) {
            rc = MQTT5_ERR_INVALID_ARGUMENT;
            break;
        }
        rc = mqtt5_ws_request_set_header(r, headers[i].name, headers[i].value);
    }
    if (rc != 0) {
        mqtt5_ws_request_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int mqtt5_ws_request_encode(const mqtt5_ws_request *r, const char *key, char **out, size_t *len)
{
    static const char fmt_tail[] = "Upgrade: websocket\r\n"
                                   "Connection: Upgrade\r\n"
                                   "Sec-WebSocket-Key: %s\r\n"
                                   "Sec-WebSocket-Version: 13\r\n"
                                   "Sec-WebSocket-Protocol: mqtt\r\n"
                                   "\r\n";
    size_t need = strlen("GET  HTTP/1.1\r\n") + strlen(r->path) + sizeof fmt_tail + strlen(key);
    for (size_t i = 0; i < r->n; i++)
        need += strlen(r->h[i].name) + 2 + strlen(r->h[i].value) + 2;
    char *buf = malloc(need + 1);
    if (!buf) return MQTT5_ERR_NOMEM;
    size_t at = (size_t)snprintf(buf, need + 1, "GET %s HTTP/1.1\r\n", r->path);
    for (size_t i = 0; i < r->n; i++)
        at += (size_t)snprintf(buf + at, need + 1 - at, "%s: %s\r\n", r->h[i].name, r->h[i].value);
    at += (size_t)snprintf(buf + at, need + 1 - at, fmt_tail, key);
    *out = buf;
    *len = at;
    return 0;
}

/* ---- key, accept, randomness ---- */

int mqtt5_ws_random_fill(void *ud, uint8_t *p, size_t n)
{
    (void)ud;
    while (n > 0) {
        int chunk = n > INT_MAX ? INT_MAX : (int)n;
        if (RAND_bytes(p, chunk) != 1) return MQTT5_ERR_IO;
        p += chunk;
        n -= (size_t)chunk;
    }
    return 0;
}

void mqtt5_ws_key_encode(const uint8_t raw[16], char key[MQTT5_WS_KEY_SIZE])
{
    EVP_EncodeBlock((unsigned char *)key, raw, 16);
}

int mqtt5_ws_accept_compute(const char *key, char accept[MQTT5_WS_ACCEPT_SIZE])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, key, strlen(key)) == 1 &&
             EVP_DigestUpdate(ctx, WS_GUID, sizeof WS_GUID - 1) == 1 &&
             EVP_DigestFinal_ex(ctx, md, &md_len) == 1 && md_len == 20;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        accept[0] = '\0';
        return MQTT5_ERR_NOMEM;
    }
    EVP_EncodeBlock((unsigned char *)accept, md, 20);
    return 0;
}

/* ---- the response ---- */

size_t mqtt5_ws_response_head_end(const uint8_t *p, size_t n, size_t from)
{
    size_t i = from >= 3 ? from - 3 : 0;
    for (; i + 4 <= n; i++)
        if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n') return i + 4;
    return 0;
}

/* p[0..n) as a printable, quoted-safe excerpt: non-printables become '?', long text "...". */
static void excerpt(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t max = cap > 4 ? cap - 4 : 0, at = 0;
    for (size_t i = 0; i < n && at < max; i++)
        out[at++] = (p[i] >= 0x20 && p[i] < 0x7F) ? (char)p[i] : '?';
    if (at < n && cap >= 4) {
        memcpy(out + at, "...", 3);
        at += 3;
    }
    if (cap) out[at < cap ? at : cap - 1] = '\0';
}

static int refuse(char *detail, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(char *detail, size_t cap, const char *fmt, ...)
{
    if (cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, cap, fmt, ap);
        va_end(ap);
    }
    return MQTT5_ERR_WEBSOCKET_HANDSHAKE;
}

static bool is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* True when the comma-separated list p[0..n) holds `token` (case-insensitive). */
static bool list_has(const uint8_t *p, size_t n, const char *token)
{
    size_t i = 0;
    while (i <= n) {
        size_t s = i;
        while (i < n && p[i] != ',')
            i++;
        size_t e = i;
        while (s < e && is_ows(p[s]))
            s++;
        while (e > s && is_ows(p[e - 1]))
            e--;
        if (ieq((const char *)p + s, e - s, token)) return true;
        i++;
    }
    return false;
}

typedef struct resp_view {
    bool upgrade, connection;
    int accepts, protocols;
    const uint8_t *accept, *protocol, *extensions;
    size_t accept_n, protocol_n, extensions_n;
} resp_view;

/* The status line p[0..n): 0 when it is "HTTP/1.x 101 ...". */
static int check_status(const uint8_t *p, size_t n, char *detail, size_t cap)
{
    char line[160];
    excerpt(p, n, line, sizeof line);
    bool http = n >= 12 && memcmp(p, "HTTP/1.", 7) == 0 && p[7] >= '0' && p[7] <= '9' &&
                p[8] == ' ' && p[9] >= '1' && p[9] <= '5' && p[10] >= '0' && p[10] <= '9' &&
                p[11] >= '0' && p[11] <= '9' && (n == 12 || p[12] == ' ');
    if (!http)
        return refuse(detail, cap,
                      "server's answer to the WebSocket upgrade is not an HTTP status line: '%s'",
                      line);
    if (memcmp(p + 9, "101", 3) != 0)
        return refuse(detail, cap, "server answered '%s' to the WebSocket upgrade", line);
    return 0;
}

/* One header line p[0..n) into v; 0 or -1 when malformed. */
static int take_header(const uint8_t *p, size_t n, resp_view *v)
{
    size_t colon = 0;
    while (colon < n && p[colon] != ':')
        colon++;
    if (colon == 0 || colon == n) return -1;
    for (size_t i = 0; i < colon; i++)
        if (!is_tchar(p[i])) return -1;
    size_t s = colon + 1, e = n;
    for (size_t i = s; i < e; i++)
        if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7F) return -1;
    while (s < e && is_ows(p[s]))
        s++;
    while (e > s && is_ows(p[e - 1]))
        e--;
    const char *name = (const char *)p;
    const uint8_t *val = p + s;
    size_t vn = e - s;
    if (ieq(name, colon, "Upgrade")) {
        v->upgrade |= list_has(val, vn, "websocket");
    } else if (ieq(name, colon, "Connection")) {
        v->connection |= list_has(val, vn, "upgrade");
    } else if (ieq(name, colon, "Sec-WebSocket-Accept")) {
        v->accepts++;
        v->accept = val;
        v->accept_n = vn;
    } else if (ieq(name, colon, "Sec-WebSocket-Protocol")) {
        v->protocols++;
        v->protocol = val;
        v->protocol_n = vn;
    } else if (ieq(name, colon, "Sec-WebSocket-Extensions") && vn) {
        v->extensions = val;
        v->extensions_n = vn;
    }
    return 0;
}

/* What the headers say, against the expectations of a WebSocket upgrade to 'mqtt'. */
static int check_headers(const resp_view *v, const char *accept, char *detail, size_t cap)
{
    char got[64];
    if (!v->upgrade) return refuse(detail, cap, "server's 101 answer lacks 'Upgrade: websocket'");
    if (!v->connection)
        return refuse(detail, cap, "server's 101 answer lacks 'Connection: upgrade'");
    if (v->accepts == 0)
        return refuse(detail, cap, "server's 101 answer lacks Sec-WebSocket-Accept");
    if (v->accepts > 1)
        return refuse(detail, cap, "server's 101 answer has %d Sec-WebSocket-Accept headers",
                      v->accepts);
    if (v->accept_n != strlen(accept) || memcmp(v->accept, accept, v->accept_n) != 0) {
        excerpt(v->accept, v->accept_n, got, sizeof got);
        return refuse(detail, cap,
                      "server's Sec-WebSocket-Accept '%s' does not match the key (expected '%s')",
                      got, accept);
    }
    if (v->protocols == 0)
        return refuse(detail, cap,
                      "server's 101 answer lacks 'Sec-WebSocket-Protocol: mqtt' (it did not "
                      "accept the mqtt subprotocol)");
    if (v->protocols > 1 || v->protocol_n != 4 || memcmp(v->protocol, "mqtt", 4) != 0) {
        excerpt(v->protocol, v->protocol_n, got, sizeof got);
        return refuse(detail, cap, "server selected the WebSocket subprotocol '%s'%s, not 'mqtt'",
                      got, v->protocols > 1 ? " (and others)" : "");
    }
    if (v->extensions) {
        excerpt(v->extensions, v->extensions_n, got, sizeof got);
        return refuse(detail, cap,
                      "server selected the WebSocket extensions '%s', which were not offered", got);
    }
    return 0;
}

int mqtt5_ws_response_check(const uint8_t *p, size_t n, const char *accept, char *detail,
                            size_t cap)
{
    if (cap) detail[0] = '\0';
    if (n < 4 || n > MQTT5_WS_MAX_RESPONSE_HEAD || memcmp(p + n - 4, "\r\n\r\n", 4) != 0)
        return refuse(detail, cap, "server's answer to the WebSocket upgrade is incomplete");
    size_t end = n - 2; /* the head's lines are p[0..end), each ending in CRLF */
    size_t at = 0, line_no = 0;
    resp_view v = {0};
    while (at < end) {
        size_t e = at;
        while (p[e] != '\r' && p[e] != '\n')
            e++; /* stops at the latest at the CRLF that ends the last line */
        if (p[e] != '\r' || p[e + 1] != '\n')
            return refuse(detail, cap,
                          "server's answer to the WebSocket upgrade has a bare CR or LF");
        if (line_no == 0) {
            int rc = check_status(p, e, detail, cap);
            if (rc) return rc;
        } else if (e == at || is_ows(p[at]) || take_header(p + at, e - at, &v) != 0) {
            char line[96];
            excerpt(p + at, e - at, line, sizeof line);
            return refuse(detail, cap,
                          "server's answer to the WebSocket upgrade has a malformed header line "
                          "'%s'",
                          line);
        }
        line_no++;
        at = e + 2;
    }
    return check_headers(&v, accept, detail, cap);
}
