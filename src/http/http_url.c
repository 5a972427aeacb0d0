/*
 * http/http_url.c - percent-encoding of query parameters and form bodies
 * (mqtt5_http_url_encode): RFC 3986 unreserved characters stay, every other byte becomes %XX.
 */
#include "http/http_client.h"

static int unreserved(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_' || ch == '.' || ch == '~';
}

long mqtt5_http_url_encode(const char *in, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    if (in == NULL || out == NULL || cap == 0) return -1;
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        size_t need = unreserved(*p) ? 1 : 3;
        if (n + need >= cap) return -1; /* the NUL must fit too */
        if (need == 1) {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    out[n] = '\0';
    return (long)n;
}
