/*
 * auth/sigv4_validate.c - checks the inputs of mqtt5_sigv4_sign() before anything is computed,
 * naming the offending field in mqtt5_codec_status ("region", "credentials.access_key_id", ...).
 * Details never quote the values: they may be secrets.
 */
#include <string.h>

#include "auth/sigv4_internal.h"

/* AWS caps presigned URLs at seven days. */
#define SIGV4_MAX_EXPIRES 604800u

int mqtt5_sigv4_fail(mqtt5_codec_status *status, int err, const char *field, const char *detail)
{
    if (status) *status = (mqtt5_codec_status){.error = err, .field = field, .detail = detail};
    return err;
}

static int invalid(mqtt5_codec_status *status, const char *field, const char *detail)
{
    return mqtt5_sigv4_fail(status, MQTT5_ERR_INVALID_ARGUMENT, field, detail);
}

static bool is_empty(const char *s)
{
    return !s || !*s;
}

/* Visible ASCII without "/": region, service and access key id become parts of the scope. */
static bool is_scope_part(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f || *s == '/') return false;
    return true;
}

static bool is_visible(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f) return false;
    return true;
}

/* RFC 9110 token characters (method, header names). */
static bool is_token(const char *s)
{
    if (!*s) return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) continue;
        if (!strchr("!#$%&'*+-.^_`|~", c)) return false;
    }
    return true;
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < ' ' || (unsigned char)*s == 0x7f) return true;
    return false;
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* "YYYYMMDDTHHMMSSZ" with plausible ranges (leap seconds allowed, days not checked per month). */
static bool is_datetime(const char *s)
{
    if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z') return false;
    if (!digits(s, 8) || !digits(s + 9, 6)) return false;
    int month = num(s + 4, 2), day = num(s + 6, 2);
    int hour = num(s + 9, 2), minute = num(s + 11, 2), second = num(s + 13, 2);
    return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 &&
           second <= 60;
}

int mqtt5_sigv4_validate_config(const mqtt5_sigv4_config *cfg, mqtt5_codec_status *status)
{
    if (!cfg) return invalid(status, "config", "missing");
    if (is_empty(cfg->region)) return invalid(status, "region", "missing");
    if (!is_scope_part(cfg->region))
        return invalid(status, "region", "only visible ASCII without '/' is allowed");
    if (is_empty(cfg->service)) return invalid(status, "service", "missing");
    if (!is_scope_part(cfg->service))
        return invalid(status, "service", "only visible ASCII without '/' is allowed");
    if (is_empty(cfg->datetime)) return invalid(status, "datetime", "missing");
    if (!is_datetime(cfg->datetime))
        return invalid(status, "datetime", "expected UTC \"YYYYMMDDTHHMMSSZ\"");
    const mqtt5_sigv4_credentials *c = &cfg->credentials;
    if (is_empty(c->access_key_id)) return invalid(status, "credentials.access_key_id", "missing");
    if (!is_scope_part(c->access_key_id))
        return invalid(status, "credentials.access_key_id",
                       "only visible ASCII without '/' is allowed");
    if (is_empty(c->secret_access_key))
        return invalid(status, "credentials.secret_access_key", "missing");
    if (has_control(c->secret_access_key))
        return invalid(status, "credentials.secret_access_key", "control characters");
    if (strlen(c->secret_access_key) > MQTT5_SIGV4_SECRET_MAX)
        return invalid(status, "credentials.secret_access_key", "longer than 256 characters");
    if (!is_empty(c->session_token) && !is_visible(c->session_token))
        return invalid(status, "credentials.session_token", "only visible ASCII is allowed");
    if (cfg->form != MQTT5_SIGV4_FORM_HEADERS && cfg->form != MQTT5_SIGV4_FORM_QUERY)
        return invalid(status, "form", "unknown form");
    if (cfg->token_mode != MQTT5_SIGV4_TOKEN_SIGNED &&
        cfg->token_mode != MQTT5_SIGV4_TOKEN_APPENDED &&
        cfg->token_mode != MQTT5_SIGV4_TOKEN_APPENDED_LAST)
        return invalid(status, "token_mode", "unknown token mode");
    if (cfg->payload_mode != MQTT5_SIGV4_PAYLOAD_REQUEST &&
        cfg->payload_mode != MQTT5_SIGV4_PAYLOAD_EMPTY &&
        cfg->payload_mode != MQTT5_SIGV4_PAYLOAD_UNSIGNED)
        return invalid(status, "payload_mode", "unknown payload mode");
    if (cfg->form == MQTT5_SIGV4_FORM_QUERY && cfg->expires_seconds > SIGV4_MAX_EXPIRES)
        return invalid(status, "expires_seconds", "more than 604800 (7 days)");
    return MQTT5_OK;
}

/* Headers the signer adds itself: a request carrying one is refused. */
static bool is_signer_header(const char *name)
{
    static const char *const names[] = {"authorization",        "x-amz-date",
                                        "x-amz-content-sha256", "x-amz-security-token",
                                        "x-amz-region-set",     "x-amz-s3session-token"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (mqtt5_sigv4_eq_lower(name, strlen(name), names[i])) return true;
    return false;
}

static int validate_headers(const mqtt5_sigv4_request *req, mqtt5_codec_status *status)
{
    if (req->header_count && !req->headers) return invalid(status, "headers", "missing array");
    for (size_t i = 0; i < req->header_count; i++) {
        const mqtt5_sigv4_header *h = &req->headers[i];
        if (!h->name || !is_token(h->name)) return invalid(status, "headers", "bad header name");
        if (!h->value) return invalid(status, "headers", "missing header value");
        for (const char *v = h->value; *v; v++) {
            unsigned char c = (unsigned char)*v;
            if ((c < ' ' && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
                return invalid(status, "headers", "control character in a header value");
        }
        if (is_signer_header(h->name))
            return invalid(status, "headers", "the signer adds this header itself");
    }
    return MQTT5_OK;
}

int mqtt5_sigv4_validate_request(const mqtt5_sigv4_request *req, mqtt5_codec_status *status)
{
    if (!req) return invalid(status, "request", "missing");
    if (is_empty(req->method)) return invalid(status, "method", "missing");
    if (!is_token(req->method)) return invalid(status, "method", "not an HTTP method token");
    if (!is_empty(req->path)) {
        if (req->path[0] != '/') return invalid(status, "path", "must start with '/'");
        if (has_control(req->path) || strpbrk(req->path, "?#"))
            return invalid(status, "path", "control character, '?' or '#'");
    }
    if (!is_empty(req->query)) {
        if (req->query[0] == '?') return invalid(status, "query", "give the query without '?'");
        if (has_control(req->query) || strchr(req->query, '#'))
            return invalid(status, "query", "control character or '#'");
    }
    int err = validate_headers(req, status);
    if (err) return err;
    if (req->payload_len && !req->payload) return invalid(status, "payload", "missing bytes");
    if (req->payload_hash && (!*req->payload_hash || !is_visible(req->payload_hash)))
        return invalid(status, "payload_hash", "empty or not visible ASCII");
    return MQTT5_OK;
}
