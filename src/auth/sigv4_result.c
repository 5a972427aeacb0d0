/*
 * auth/sigv4_result.c - packs what mqtt5_sigv4_sign() computed into the caller's
 * mqtt5_sigv4_result: one allocation holding every string (canonical request, string to sign,
 * signed headers, scope, payload hash, Authorization or query, header values), and
 * mqtt5_sigv4_result_clean(), which wipes (it may hold a session token) and frees it.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "auth/sigv4_internal.h"

typedef struct piece {
    const char *src;
    size_t len;
    const char **dst;
} piece;

static void add_piece(piece *p, size_t *n, const char *src, size_t len, const char **dst)
{
    p[*n] = (piece){src ? src : "", src ? len : 0, dst};
    (*n)++;
}

static void add_header(mqtt5_sigv4_result *out, const char *name, const char *value)
{
    out->headers[out->header_count++] = (mqtt5_sigv4_header){name, value};
}

/* Header form: the headers to add, in the documented order (values are patched in later). */
static void plan_headers(mqtt5_sigv4_result *out, const mqtt5_sigv4_outputs *o)
{
    const mqtt5_sigv4_config *cfg = o->config;
    bool last = cfg->token_mode == MQTT5_SIGV4_TOKEN_APPENDED_LAST;
    if (o->token && !last) add_header(out, "X-Amz-Security-Token", NULL);
    add_header(out, "X-Amz-Date", NULL);
    if (cfg->add_content_sha256_header) add_header(out, "x-amz-content-sha256", NULL);
    add_header(out, "Authorization", NULL);
    if (o->token && last) add_header(out, "X-Amz-Security-Token", NULL);
}

int mqtt5_sigv4_result_build(mqtt5_sigv4_result *out, const mqtt5_sigv4_outputs *o,
                             const mqtt5_allocator *alloc)
{
    memset(out, 0, sizeof *out);
    bool header_form = o->config->form == MQTT5_SIGV4_FORM_HEADERS;
    piece pieces[16];
    size_t n = 0;
    add_piece(pieces, &n, o->canonical_request->ptr, o->canonical_request->len,
              &out->canonical_request);
    add_piece(pieces, &n, o->string_to_sign->ptr, o->string_to_sign->len, &out->string_to_sign);
    add_piece(pieces, &n, o->signed_headers->ptr, o->signed_headers->len, &out->signed_headers);
    add_piece(pieces, &n, o->scope->ptr, o->scope->len, &out->credential_scope);
    add_piece(pieces, &n, o->payload_hash, strlen(o->payload_hash), &out->payload_hash);
    if (header_form) {
        plan_headers(out, o);
        add_piece(pieces, &n, o->authorization->ptr, o->authorization->len, &out->authorization);
        for (size_t i = 0; i < out->header_count; i++) {
            const char *name = out->headers[i].name;
            const char **dst = &out->headers[i].value;
            if (!strcmp(name, "X-Amz-Security-Token"))
                add_piece(pieces, &n, o->token, strlen(o->token), dst);
            else if (!strcmp(name, "X-Amz-Date"))
                add_piece(pieces, &n, o->datetime, strlen(o->datetime), dst);
            else if (!strcmp(name, "x-amz-content-sha256"))
                add_piece(pieces, &n, o->payload_hash, strlen(o->payload_hash), dst);
            else
                add_piece(pieces, &n, o->authorization->ptr, o->authorization->len, dst);
        }
    } else {
        add_piece(pieces, &n, o->query->ptr, o->query->len, &out->query);
    }

    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += pieces[i].len + 1;
    char *mem = alloc->allocate(alloc->ctx, total);
    if (!mem) {
        memset(out, 0, sizeof *out);
        return MQTT5_ERR_NOMEM;
    }
    char *p = mem;
    for (size_t i = 0; i < n; i++) {
        if (pieces[i].len) memcpy(p, pieces[i].src, pieces[i].len);
        p[pieces[i].len] = '\0';
        *pieces[i].dst = p;
        p += pieces[i].len + 1;
    }
    memcpy(out->signature, o->signature, sizeof out->signature);
    out->mem_ = mem;
    out->mem_size_ = total;
    out->alloc_ = alloc;
    return MQTT5_OK;
}

void mqtt5_sigv4_result_clean(mqtt5_sigv4_result *res)
{
    if (!res) return;
    if (res->mem_) {
        OPENSSL_cleanse(res->mem_, res->mem_size_);
        res->alloc_->release(res->alloc_->ctx, res->mem_, res->mem_size_);
    }
    memset(res, 0, sizeof *res);
}
