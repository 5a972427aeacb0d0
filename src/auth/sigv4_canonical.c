/*
 * auth/sigv4_canonical.c - the canonical URI and the canonical query string of SigV4: path
 * normalisation ("." and empty segments dropped, ".." pops one, leading and trailing "/" kept),
 * the optional second URI encoding of the path, and query parameters decoded, re-encoded the AWS
 * way and sorted by key then value.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/sigv4_internal.h"

/* "/" + segments, each followed by "/"; the last "/" is dropped unless the path ended with one. */
static void normalize_path(mqtt5_sigv4_buf *out, const char *path)
{
    size_t n = strlen(path), segments = 0;
    mqtt5_sigv4_buf_append_char(out, '/');
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && path[j] != '/')
            j++;
        size_t len = j - i;
        if (len == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (segments && !out->failed) {
                /* drop "seg/" back to the "/" before it */
                size_t k = out->len - 1;
                while (k > 0 && out->ptr[k - 1] != '/')
                    k--;
                out->len = k;
                out->ptr[k] = '\0';
                segments--;
            }
        } else if (len && !(len == 1 && path[i] == '.')) {
            mqtt5_sigv4_buf_append(out, path + i, len);
            mqtt5_sigv4_buf_append_char(out, '/');
            segments++;
        }
        i = j + 1;
    }
    bool trailing_slash = n > 0 && path[n - 1] == '/';
    if (segments && !trailing_slash && !out->failed) out->ptr[--out->len] = '\0';
}

void mqtt5_sigv4_canonical_path(mqtt5_sigv4_buf *out, const char *path, bool normalize,
                                bool double_encode)
{
    if (!path || !*path) path = "/";
    mqtt5_sigv4_buf tmp;
    mqtt5_sigv4_buf_init(&tmp, out->alloc);
    if (normalize) {
        normalize_path(&tmp, path);
        if (tmp.failed) out->failed = true;
        path = mqtt5_sigv4_buf_cstr(&tmp);
    }
    if (double_encode)
        mqtt5_sigv4_buf_append_uri_encoded(out, path, strlen(path), true);
    else
        mqtt5_sigv4_buf_append_str(out, path);
    mqtt5_sigv4_buf_clean(&tmp);
}

/* ---- query parameters ------------------------------------------------------------------------ */

void mqtt5_sigv4_params_init(mqtt5_sigv4_params *p, const mqtt5_allocator *alloc)
{
    memset(p, 0, sizeof *p);
    p->alloc = alloc ? alloc : mqtt5_allocator_libc();
}

void mqtt5_sigv4_params_clean(mqtt5_sigv4_params *p)
{
    for (size_t i = 0; i < p->count; i++) {
        mqtt5_sigv4_buf_clean(&p->items[i].key);
        mqtt5_sigv4_buf_clean(&p->items[i].value);
    }
    if (p->items) p->alloc->release(p->alloc->ctx, p->items, p->cap * sizeof *p->items);
    p->items = NULL;
    p->count = p->cap = 0;
}

/* A new empty entry at the end, or NULL when out of memory. */
static mqtt5_sigv4_param *params_push(mqtt5_sigv4_params *p)
{
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        if (cap > SIZE_MAX / sizeof *p->items) return NULL;
        mqtt5_sigv4_param *items = p->alloc->allocate(p->alloc->ctx, cap * sizeof *items);
        if (!items) return NULL;
        if (p->count) memcpy(items, p->items, p->count * sizeof *items);
        if (p->items) p->alloc->release(p->alloc->ctx, p->items, p->cap * sizeof *p->items);
        p->items = items;
        p->cap = cap;
    }
    mqtt5_sigv4_param *e = &p->items[p->count++];
    mqtt5_sigv4_buf_init(&e->key, p->alloc);
    mqtt5_sigv4_buf_init(&e->value, p->alloc);
    return e;
}

int mqtt5_sigv4_params_add(mqtt5_sigv4_params *p, const char *key, const char *value)
{
    mqtt5_sigv4_param *e = params_push(p);
    if (!e) return MQTT5_ERR_NOMEM;
    mqtt5_sigv4_buf_append_uri_encoded(&e->key, key, strlen(key), false);
    mqtt5_sigv4_buf_append_uri_encoded(&e->value, value, strlen(value), false);
    if (e->key.failed || e->value.failed) return MQTT5_ERR_NOMEM;
    return MQTT5_OK;
}

/* Query parameters the signer adds itself (compared without case). */
static bool is_signer_param(const char *key, size_t n)
{
    static const char *const names[] = {
        "x-amz-algorithm", "x-amz-credential",    "x-amz-date",       "x-amz-expires",
        "x-amz-signature", "x-amz-signedheaders", "x-amz-region-set", "x-amz-security-token"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (mqtt5_sigv4_eq_lower(key, n, names[i])) return true;
    return false;
}

/* Decodes s[0..n) and appends its canonical encoding to `out`. */
static int reencode(mqtt5_sigv4_buf *out, const char *s, size_t n, mqtt5_sigv4_buf *scratch,
                    mqtt5_codec_status *status)
{
    scratch->len = 0;
    if (scratch->ptr) scratch->ptr[0] = '\0';
    if (!mqtt5_sigv4_buf_append_uri_decoded(scratch, s, n))
        return mqtt5_sigv4_fail(status, MQTT5_ERR_INVALID_ARGUMENT, "query", "malformed %-escape");
    if (scratch->failed) return mqtt5_sigv4_fail(status, MQTT5_ERR_NOMEM, "query", NULL);
    mqtt5_sigv4_buf_append_uri_encoded(out, mqtt5_sigv4_buf_cstr(scratch), scratch->len, false);
    if (out->failed) return mqtt5_sigv4_fail(status, MQTT5_ERR_NOMEM, "query", NULL);
    return MQTT5_OK;
}

static int parse_one(mqtt5_sigv4_params *p, const char *s, size_t n, mqtt5_sigv4_buf *scratch,
                     mqtt5_codec_status *status)
{
    const char *eq = memchr(s, '=', n);
    size_t klen = eq ? (size_t)(eq - s) : n;
    mqtt5_sigv4_param *e = params_push(p);
    if (!e) return mqtt5_sigv4_fail(status, MQTT5_ERR_NOMEM, "query", NULL);
    int err = reencode(&e->key, s, klen, scratch, status);
    if (err) return err;
    /* scratch still holds the decoded key */
    if (is_signer_param(mqtt5_sigv4_buf_cstr(scratch), scratch->len))
        return mqtt5_sigv4_fail(status, MQTT5_ERR_INVALID_ARGUMENT, "query",
                                "the signer adds this X-Amz-* parameter itself");
    if (eq) return reencode(&e->value, eq + 1, n - klen - 1, scratch, status);
    return MQTT5_OK;
}

int mqtt5_sigv4_params_parse(mqtt5_sigv4_params *p, const char *query, mqtt5_codec_status *status)
{
    if (!query) return MQTT5_OK;
    mqtt5_sigv4_buf scratch;
    mqtt5_sigv4_buf_init(&scratch, p->alloc);
    int err = MQTT5_OK;
    for (const char *s = query; *s && !err;) {
        const char *amp = strchr(s, '&');
        size_t n = amp ? (size_t)(amp - s) : strlen(s);
        if (n) err = parse_one(p, s, n, &scratch, status);
        s += n + (amp ? 1 : 0);
    }
    mqtt5_sigv4_buf_clean(&scratch);
    return err;
}

static int bytes_cmp(const mqtt5_sigv4_buf *a, const mqtt5_sigv4_buf *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->ptr, b->ptr, n) : 0;
    if (c) return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

static int param_cmp(const void *l, const void *r)
{
    const mqtt5_sigv4_param *a = l, *b = r;
    int c = bytes_cmp(&a->key, &b->key);
    return c ? c : bytes_cmp(&a->value, &b->value);
}

void mqtt5_sigv4_params_write_sorted(mqtt5_sigv4_params *p, mqtt5_sigv4_buf *out)
{
    if (p->count > 1) qsort(p->items, p->count, sizeof *p->items, param_cmp);
    for (size_t i = 0; i < p->count; i++) {
        if (i) mqtt5_sigv4_buf_append_char(out, '&');
        mqtt5_sigv4_buf_append(out, mqtt5_sigv4_buf_cstr(&p->items[i].key), p->items[i].key.len);
        mqtt5_sigv4_buf_append_char(out, '=');
        mqtt5_sigv4_buf_append(out, mqtt5_sigv4_buf_cstr(&p->items[i].value),
                               p->items[i].value.len);
    }
}
