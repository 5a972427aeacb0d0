/*
 * auth/sigv4.c - mqtt5_sigv4_config_init() and mqtt5_sigv4_sign(): builds the canonical request
 * (method, canonical URI, canonical query with the X-Amz-* parameters of the query form,
 * canonical headers with X-Amz-Date / token / x-amz-content-sha256 of the header form, signed
 * headers, payload hash), the string to sign and the signature, then the Authorization value or
 * the presigned query, and hands them to sigv4_result.c.
 */
#include <stdio.h>
#include <string.h>

#include "auth/sigv4_internal.h"

void mqtt5_sigv4_config_init(mqtt5_sigv4_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->form = MQTT5_SIGV4_FORM_HEADERS;
    cfg->double_encode_path = true;
    cfg->normalize_path = true;
    cfg->token_mode = MQTT5_SIGV4_TOKEN_SIGNED;
    cfg->payload_mode = MQTT5_SIGV4_PAYLOAD_REQUEST;
}

/* Everything computed on the way; all buffers are cleaned by sign_state_clean(). */
typedef struct sign_state {
    const mqtt5_sigv4_request *req;
    const mqtt5_sigv4_config *cfg;
    const char *token; /* NULL when the credentials have none */
    char payload_hash_hex[65];
    char signature[65];
    mqtt5_sigv4_outputs o;
    mqtt5_sigv4_buf scope, credential, header_block, signed_headers, canonical_query;
    mqtt5_sigv4_buf canonical_request, string_to_sign, authorization, query;
    mqtt5_sigv4_params params;
    mqtt5_sigv4_signing_header *headers;
    size_t headers_cap;
    const mqtt5_allocator *alloc;
} sign_state;

static void sign_state_init(sign_state *s, const mqtt5_sigv4_request *req,
                            const mqtt5_sigv4_config *cfg, const mqtt5_allocator *alloc)
{
    memset(s, 0, sizeof *s);
    s->req = req;
    s->cfg = cfg;
    s->alloc = alloc;
    const char *token = cfg->credentials.session_token;
    s->token = token && *token ? token : NULL;
    mqtt5_sigv4_buf *bufs[] = {&s->scope,          &s->credential,      &s->header_block,
                               &s->signed_headers, &s->canonical_query, &s->canonical_request,
                               &s->string_to_sign, &s->authorization,   &s->query};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        mqtt5_sigv4_buf_init(bufs[i], alloc);
    mqtt5_sigv4_params_init(&s->params, alloc);
}

static void sign_state_clean(sign_state *s)
{
    mqtt5_sigv4_buf *bufs[] = {&s->scope,          &s->credential,      &s->header_block,
                               &s->signed_headers, &s->canonical_query, &s->canonical_request,
                               &s->string_to_sign, &s->authorization,   &s->query};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        mqtt5_sigv4_buf_clean(bufs[i]);
    mqtt5_sigv4_params_clean(&s->params);
    if (s->headers)
        s->alloc->release(s->alloc->ctx, s->headers, s->headers_cap * sizeof *s->headers);
    s->headers = NULL;
}

static int first_error(int a, int b)
{
    return a ? a : b;
}

static int payload_hash(sign_state *s, const char **out)
{
    switch (s->cfg->payload_mode) {
    case MQTT5_SIGV4_PAYLOAD_EMPTY:
        *out = MQTT5_SIGV4_EMPTY_PAYLOAD_SHA256;
        return MQTT5_OK;
    case MQTT5_SIGV4_PAYLOAD_UNSIGNED:
        *out = MQTT5_SIGV4_UNSIGNED_PAYLOAD;
        return MQTT5_OK;
    default:
        break;
    }
    if (s->req->payload_hash) {
        *out = s->req->payload_hash;
        return MQTT5_OK;
    }
    *out = s->payload_hash_hex;
    return mqtt5_sigv4_sha256_hex(s->req->payload, s->req->payload_len, s->payload_hash_hex);
}

/* "20150830/us-east-1/service/aws4_request" and "AKID/" + that. */
static void build_scope(sign_state *s)
{
    const mqtt5_sigv4_config *cfg = s->cfg;
    mqtt5_sigv4_buf_append(&s->scope, cfg->datetime, 8);
    mqtt5_sigv4_buf_append_char(&s->scope, '/');
    mqtt5_sigv4_buf_append_str(&s->scope, cfg->region);
    mqtt5_sigv4_buf_append_char(&s->scope, '/');
    mqtt5_sigv4_buf_append_str(&s->scope, cfg->service);
    mqtt5_sigv4_buf_append_str(&s->scope, "/aws4_request");
    mqtt5_sigv4_buf_append_str(&s->credential, cfg->credentials.access_key_id);
    mqtt5_sigv4_buf_append_char(&s->credential, '/');
    mqtt5_sigv4_buf_append(&s->credential, mqtt5_sigv4_buf_cstr(&s->scope), s->scope.len);
}

static void push_header(sign_state *s, size_t *n, const char *name, const char *value)
{
    s->headers[*n] = (mqtt5_sigv4_signing_header){name, value, *n};
    (*n)++;
}

/* The request's signable headers plus, in the header form, the ones the signer adds. */
static int build_headers(sign_state *s)
{
    const mqtt5_sigv4_request *req = s->req;
    bool header_form = s->cfg->form == MQTT5_SIGV4_FORM_HEADERS;
    s->headers_cap = req->header_count + 3;
    s->headers = s->alloc->allocate(s->alloc->ctx, s->headers_cap * sizeof *s->headers);
    if (!s->headers) return MQTT5_ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < req->header_count; i++)
        if (!mqtt5_sigv4_header_is_skipped(req->headers[i].name))
            push_header(s, &n, req->headers[i].name, req->headers[i].value);
    if (header_form) {
        if (s->token && s->cfg->token_mode == MQTT5_SIGV4_TOKEN_SIGNED)
            push_header(s, &n, "X-Amz-Security-Token", s->token);
        push_header(s, &n, "X-Amz-Date", s->cfg->datetime);
        if (s->cfg->add_content_sha256_header)
            push_header(s, &n, "x-amz-content-sha256", s->o.payload_hash);
    }
    mqtt5_sigv4_canonical_headers(s->headers, n, &s->header_block, &s->signed_headers);
    return first_error(mqtt5_sigv4_buf_status(&s->header_block),
                       mqtt5_sigv4_buf_status(&s->signed_headers));
}

/* The query form's X-Amz-* parameters that take part in the canonical query. */
static int add_signing_params(sign_state *s)
{
    const mqtt5_sigv4_config *cfg = s->cfg;
    char expires[16];
    int err = mqtt5_sigv4_params_add(&s->params, "X-Amz-Algorithm", MQTT5_SIGV4_ALGORITHM);
    if (!err)
        err = mqtt5_sigv4_params_add(&s->params, "X-Amz-Credential",
                                     mqtt5_sigv4_buf_cstr(&s->credential));
    if (!err) err = mqtt5_sigv4_params_add(&s->params, "X-Amz-Date", cfg->datetime);
    if (!err)
        err = mqtt5_sigv4_params_add(&s->params, "X-Amz-SignedHeaders",
                                     mqtt5_sigv4_buf_cstr(&s->signed_headers));
    if (!err && cfg->expires_seconds) {
        snprintf(expires, sizeof expires, "%u", (unsigned)cfg->expires_seconds);
        err = mqtt5_sigv4_params_add(&s->params, "X-Amz-Expires", expires);
    }
    if (!err && s->token && cfg->token_mode == MQTT5_SIGV4_TOKEN_SIGNED)
        err = mqtt5_sigv4_params_add(&s->params, "X-Amz-Security-Token", s->token);
    return err;
}

static int build_canonical_request(sign_state *s, mqtt5_codec_status *status)
{
    int err = mqtt5_sigv4_params_parse(&s->params, s->req->query, status);
    if (err) return err;
    if (s->cfg->form == MQTT5_SIGV4_FORM_QUERY) {
        err = add_signing_params(s);
        if (err) return err;
    }
    mqtt5_sigv4_params_write_sorted(&s->params, &s->canonical_query);

    mqtt5_sigv4_buf *cr = &s->canonical_request;
    mqtt5_sigv4_buf_append_str(cr, s->req->method);
    mqtt5_sigv4_buf_append_char(cr, '\n');
    mqtt5_sigv4_canonical_path(cr, s->req->path, s->cfg->normalize_path,
                               s->cfg->double_encode_path);
    mqtt5_sigv4_buf_append_char(cr, '\n');
    mqtt5_sigv4_buf_append(cr, mqtt5_sigv4_buf_cstr(&s->canonical_query), s->canonical_query.len);
    mqtt5_sigv4_buf_append_char(cr, '\n');
    mqtt5_sigv4_buf_append(cr, mqtt5_sigv4_buf_cstr(&s->header_block), s->header_block.len);
    mqtt5_sigv4_buf_append_char(cr, '\n');
    mqtt5_sigv4_buf_append(cr, mqtt5_sigv4_buf_cstr(&s->signed_headers), s->signed_headers.len);
    mqtt5_sigv4_buf_append_char(cr, '\n');
    mqtt5_sigv4_buf_append_str(cr, s->o.payload_hash);
    return first_error(mqtt5_sigv4_buf_status(&s->canonical_query), mqtt5_sigv4_buf_status(cr));
}

static int build_string_to_sign(sign_state *s)
{
    char cr_hash[65];
    int err = mqtt5_sigv4_sha256_hex(s->canonical_request.ptr, s->canonical_request.len, cr_hash);
    if (err) return err;
    mqtt5_sigv4_buf *sts = &s->string_to_sign;
    mqtt5_sigv4_buf_append_str(sts, MQTT5_SIGV4_ALGORITHM "\n");
    mqtt5_sigv4_buf_append_str(sts, s->cfg->datetime);
    mqtt5_sigv4_buf_append_char(sts, '\n');
    mqtt5_sigv4_buf_append(sts, mqtt5_sigv4_buf_cstr(&s->scope), s->scope.len);
    mqtt5_sigv4_buf_append_char(sts, '\n');
    mqtt5_sigv4_buf_append_str(sts, cr_hash);
    return mqtt5_sigv4_buf_status(sts);
}

static void append_param(mqtt5_sigv4_buf *q, const char *key, const char *value)
{
    if (q->len) mqtt5_sigv4_buf_append_char(q, '&');
    mqtt5_sigv4_buf_append_str(q, key);
    mqtt5_sigv4_buf_append_char(q, '=');
    mqtt5_sigv4_buf_append_uri_encoded(q, value, strlen(value), false);
}

/* Header form: the Authorization value; query form: the query string to send. */
static int build_outputs(sign_state *s)
{
    const mqtt5_sigv4_config *cfg = s->cfg;
    if (cfg->form == MQTT5_SIGV4_FORM_HEADERS) {
        mqtt5_sigv4_buf *a = &s->authorization;
        mqtt5_sigv4_buf_append_str(a, MQTT5_SIGV4_ALGORITHM " Credential=");
        mqtt5_sigv4_buf_append(a, mqtt5_sigv4_buf_cstr(&s->credential), s->credential.len);
        mqtt5_sigv4_buf_append_str(a, ", SignedHeaders=");
        mqtt5_sigv4_buf_append(a, mqtt5_sigv4_buf_cstr(&s->signed_headers), s->signed_headers.len);
        mqtt5_sigv4_buf_append_str(a, ", Signature=");
        mqtt5_sigv4_buf_append_str(a, s->signature);
        return mqtt5_sigv4_buf_status(a);
    }
    mqtt5_sigv4_buf *q = &s->query;
    if (s->req->query && *s->req->query) mqtt5_sigv4_buf_append_str(q, s->req->query);
    append_param(q, "X-Amz-Algorithm", MQTT5_SIGV4_ALGORITHM);
    append_param(q, "X-Amz-Credential", mqtt5_sigv4_buf_cstr(&s->credential));
    append_param(q, "X-Amz-Date", cfg->datetime);
    append_param(q, "X-Amz-SignedHeaders", mqtt5_sigv4_buf_cstr(&s->signed_headers));
    if (cfg->expires_seconds) {
        char expires[16];
        snprintf(expires, sizeof expires, "%u", (unsigned)cfg->expires_seconds);
        append_param(q, "X-Amz-Expires", expires);
    }
    bool last = cfg->token_mode == MQTT5_SIGV4_TOKEN_APPENDED_LAST;
    if (s->token && !last) append_param(q, "X-Amz-Security-Token", s->token);
    append_param(q, "X-Amz-Signature", s->signature);
    if (s->token && last) append_param(q, "X-Amz-Security-Token", s->token);
    return mqtt5_sigv4_buf_status(q);
}

static int sign(sign_state *s, mqtt5_sigv4_result *out, mqtt5_codec_status *status)
{
    int err = payload_hash(s, &s->o.payload_hash);
    if (err) return mqtt5_sigv4_fail(status, err, "payload", "hashing failed");
    build_scope(s);
    err = first_error(mqtt5_sigv4_buf_status(&s->scope), mqtt5_sigv4_buf_status(&s->credential));
    if (!err) err = build_headers(s);
    if (!err) err = build_canonical_request(s, status);
    if (err) return status && status->error ? err : mqtt5_sigv4_fail(status, err, NULL, NULL);
    err = build_string_to_sign(s);
    if (!err) {
        const mqtt5_sigv4_config *cfg = s->cfg;
        err = mqtt5_sigv4_signature(cfg->credentials.secret_access_key, cfg->datetime, cfg->region,
                                    cfg->service, s->string_to_sign.ptr, s->string_to_sign.len,
                                    s->signature);
    }
    if (!err) err = build_outputs(s);
    if (!err) {
        mqtt5_sigv4_outputs *o = &s->o;
        o->canonical_request = &s->canonical_request;
        o->string_to_sign = &s->string_to_sign;
        o->signed_headers = &s->signed_headers;
        o->scope = &s->scope;
        o->authorization = &s->authorization;
        o->query = &s->query;
        o->signature = s->signature;
        o->datetime = s->cfg->datetime;
        o->token = s->token;
        o->config = s->cfg;
        err = mqtt5_sigv4_result_build(out, o, s->alloc);
    }
    return err ? mqtt5_sigv4_fail(status, err, NULL, NULL) : MQTT5_OK;
}

int mqtt5_sigv4_sign(const mqtt5_sigv4_request *req, const mqtt5_sigv4_config *cfg,
                     const mqtt5_allocator *alloc, mqtt5_sigv4_result *out,
                     mqtt5_codec_status *status)
{
    if (status) *status = (mqtt5_codec_status){0};
    if (!out) return mqtt5_sigv4_fail(status, MQTT5_ERR_INVALID_ARGUMENT, "result", "missing");
    memset(out, 0, sizeof *out);
    int err = mqtt5_sigv4_validate_config(cfg, status);
    if (!err) err = mqtt5_sigv4_validate_request(req, status);
    if (err) return err;
    sign_state s;
    sign_state_init(&s, req, cfg, alloc ? alloc : mqtt5_allocator_libc());
    err = sign(&s, out, status);
    sign_state_clean(&s);
    return err;
}
