/*
 * builder/builder_custom_auth.c - the AWS IoT custom-authorizer builders of mqtt5/builder.h
 * (direct MQTT over TLS with ALPN "mqtt", and MQTT over WebSockets without signing) and the pure
 * function that builds their CONNECT username from the auth_* keywords (builder_internal.h).
 *
 * The username follows the AWS IoT Device SDKs: base username, then the authorizer name, the
 * signature (URL-encoded as Python's urllib.parse.quote does, unless it already holds '%') and
 * "<token key name>=<token value>" as query parameters; the resolver appends the SDK metrics.
 * A value that already holds its "key=" gets no second prefix (one starting with it is taken
 * as the parameter, its rest encoded as usual; one holding it further in is copied as it is).
 * Two rules beyond the SDKs: a parameter whose key the base username already carries is not
 * added a second time, and empty names, signatures, keys and values are refused rather than sent.
 *
 * What it must not do: log the password, the token value or the signature (only keyword names
 * appear in logs and errors), or leave the built username (it holds the token) in freed memory.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "builder/builder_internal.h"
#include "mqtt5/codec.h"
#include "runtime/log_internal.h"

#define USERNAME_MAX 65535u
#define KEY_NAME "x-amz-customauthorizer-name="
#define KEY_SIGNATURE "x-amz-customauthorizer-signature="

static const char *const alpn_mqtt[] = {"mqtt"};

static int fail(mqtt5_codec_status *st, int err, const char *field, const char *detail)
{
    if (st) *st = (mqtt5_codec_status){.error = err, .field = field, .detail = detail};
    return err;
}

/* A keyword value that can go into a username: valid MQTT UTF-8 without control characters,
 * at most 65535 bytes. */
static int check_text(const char *s, size_t n, const char *field, bool allow_empty,
                      mqtt5_codec_status *st)
{
    if (!n && !allow_empty) return fail(st, MQTT5_ERR_INVALID_ARGUMENT, field, "must not be empty");
    if (n > USERNAME_MAX)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, field, "longer than 65535 bytes");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return fail(st, MQTT5_ERR_INVALID_ARGUMENT, field, "holds a control character");
    }
    if (!mqtt5_utf8_valid(s, n))
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, field, "not valid UTF-8");
    return MQTT5_OK;
}

/* true when the query part of u[0..n) (after its first '?') has a parameter starting with
 * key_eq ("name="). */
static bool has_param(const char *u, size_t n, const char *key_eq, size_t klen)
{
    const char *q = memchr(u, '?', n);
    if (!q) return false;
    const char *end = u + n;
    for (const char *p = q + 1; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - p) >= klen && memcmp(p, key_eq, klen) == 0) return true;
        p = stop + 1;
    }
    return false;
}

static bool contains(const char *s, size_t n, const char *needle, size_t m)
{
    if (m == 0) return true;
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(s + i, needle, m) == 0) return true;
    return false;
}

/* Python's urllib.parse.quote(safe='/'): everything but A-Z a-z 0-9 - . _ ~ / as %XX. */
static bool url_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '/';
}

/* The username under construction: `cap` is an upper bound computed beforehand. */
typedef struct ubuf {
    char *p;
    size_t len;
} ubuf;

static void put(ubuf *b, const char *s, size_t n)
{
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void put_encoded(ubuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (url_unreserved(c)) {
            b->p[b->len++] = (char)c;
        } else {
            b->p[b->len++] = '%';
            b->p[b->len++] = hex[c >> 4];
            b->p[b->len++] = hex[c & 15];
        }
    }
}

/* Append "?" or "&", then key_eq (unless the value already holds it) and the value. Not added
 * when the username already carries key_eq as a parameter. */
static int add_param(ubuf *b, const char *key_eq, size_t klen, const char *value, size_t vlen,
                     bool encode, const char *field, mqtt5_codec_status *st)
{
    if (has_param(b->p, b->len, key_eq, klen)) {
        MQTT5_LOG(MQTT5_LOG_WARN, MQTT5_LOG_BUILDER,
                  "%s: the username already carries this parameter; not added again", field);
        return MQTT5_OK;
    }
    b->p[b->len] = memchr(b->p, '?', b->len) ? '&' : '?';
    b->len++;
    if (vlen >= klen && memcmp(value, key_eq, klen) == 0) {
        value += klen; /* "key=..." given as the value: the prefix goes in once */
        vlen -= klen;
        put(b, key_eq, klen);
    } else if (contains(value, vlen, key_eq, klen)) {
        encode = false; /* "...&key=...": taken as the parameters themselves, as the SDKs do */
    } else {
        put(b, key_eq, klen);
    }
    if (encode)
        put_encoded(b, value, vlen);
    else
        put(b, value, vlen);
    if (b->len > USERNAME_MAX)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, field,
                    "the username with the custom authorizer parameters exceeds 65535 bytes");
    return MQTT5_OK;
}

int mqtt5_builder_custom_auth_username(const mqtt5_custom_auth_options *ca,
                                       const mqtt5_builder_options *o, char **out, size_t *out_len,
                                       mqtt5_codec_status *status)
{
    static const mqtt5_custom_auth_options none = {0};
    if (status) *status = (mqtt5_codec_status){0};
    if (!out || !out_len) return fail(status, MQTT5_ERR_INVALID_ARGUMENT, "out", NULL);
    *out = NULL;
    *out_len = 0;
    if (!ca) ca = &none;

    /* the base: auth_username, else connect_options' username, else the username keyword */
    const char *base = NULL, *base_field = "auth_username";
    size_t base_len = 0;
    if (ca->auth_username) {
        base = ca->auth_username;
        base_len = strlen(base);
    } else if (o && o->connect_options && o->connect_options->has_username) {
        base = o->connect_options->username.ptr;
        base_len = base ? o->connect_options->username.len : 0;
        base_field = "connect_options.username";
    } else if (o && o->username) {
        base = o->username;
        base_len = strlen(base);
        base_field = "username";
    }
    int rc;
    if ((rc = check_text(base, base_len, base_field, true, status))) return rc;

    size_t name_len = ca->auth_authorizer_name ? strlen(ca->auth_authorizer_name) : 0;
    size_t sig_len = ca->auth_authorizer_signature ? strlen(ca->auth_authorizer_signature) : 0;
    size_t key_len = ca->auth_token_key_name ? strlen(ca->auth_token_key_name) : 0;
    size_t tok_len = ca->auth_token_value ? strlen(ca->auth_token_value) : 0;
    if (ca->auth_authorizer_name && (rc = check_text(ca->auth_authorizer_name, name_len,
                                                     "auth_authorizer_name", false, status)))
        return rc;
    if (ca->auth_authorizer_signature &&
        (rc = check_text(ca->auth_authorizer_signature, sig_len, "auth_authorizer_signature", false,
                         status)))
        return rc;
    if (ca->auth_token_key_name &&
        (rc = check_text(ca->auth_token_key_name, key_len, "auth_token_key_name", false, status)))
        return rc;
    if (ca->auth_token_value &&
        (rc = check_text(ca->auth_token_value, tok_len, "auth_token_value", false, status)))
        return rc;
    bool with_token = ca->auth_token_key_name && ca->auth_token_value;
    if (!with_token && (ca->auth_token_key_name || ca->auth_token_value))
        MQTT5_LOG(MQTT5_LOG_WARN, MQTT5_LOG_BUILDER,
                  "%s without %s: no token parameter added to the username",
                  ca->auth_token_key_name ? "auth_token_key_name" : "auth_token_value",
                  ca->auth_token_key_name ? "auth_token_value" : "auth_token_key_name");

    /* an upper bound: every input is at most 65535 bytes, so this cannot overflow */
    size_t cap = base_len + 1;
    if (ca->auth_authorizer_name) cap += 1 + sizeof KEY_NAME + name_len;
    if (ca->auth_authorizer_signature) cap += 1 + sizeof KEY_SIGNATURE + 3 * sig_len;
    if (with_token) cap += 1 + key_len + 1 + tok_len;
    ubuf b = {malloc(cap), 0};
    if (!b.p) return fail(status, MQTT5_ERR_NOMEM, "auth_username", NULL);
    if (base_len) put(&b, base, base_len);

    if (ca->auth_authorizer_name)
        rc = add_param(&b, KEY_NAME, sizeof KEY_NAME - 1, ca->auth_authorizer_name, name_len, false,
                       "auth_authorizer_name", status);
    if (!rc && ca->auth_authorizer_signature)
        rc = add_param(&b, KEY_SIGNATURE, sizeof KEY_SIGNATURE - 1, ca->auth_authorizer_signature,
                       sig_len, !memchr(ca->auth_authorizer_signature, '%', sig_len),
                       "auth_authorizer_signature", status);
    if (!rc && with_token) {
        char *key_eq = malloc(key_len + 2);
        if (!key_eq) {
            rc = fail(status, MQTT5_ERR_NOMEM, "auth_token_key_name", NULL);
        } else {
            memcpy(key_eq, ca->auth_token_key_name, key_len);
            key_eq[key_len] = '=';
            key_eq[key_len + 1] = '\0';
            rc = add_param(&b, key_eq, key_len + 1, ca->auth_token_value, tok_len, false,
                           "auth_token_value", status);
            free(key_eq);
        }
    }
    if (rc) {
        OPENSSL_cleanse(b.p, cap);
        free(b.p);
        return rc;
    }
    b.p[b.len] = '\0';
    *out = b.p;
    *out_len = b.len;
    return MQTT5_OK;
}

/* ---- the plan and the builders -------------------------------------------------------------- */

void mqtt5_builder_custom_auth_plan_clear(mqtt5_builder_custom_auth_plan *plan)
{
    if (!plan) return;
    if (plan->username) {
        OPENSSL_cleanse(plan->username, plan->username_len);
        free(plan->username);
    }
    memset(plan, 0, sizeof *plan);
}

int mqtt5_builder_custom_auth_plan_init(mqtt5_builder_custom_auth_plan *plan,
                                        const mqtt5_custom_auth_options *ca,
                                        const mqtt5_builder_options *o, bool websocket,
                                        mqtt5_codec_status *status)
{
    if (status) *status = (mqtt5_codec_status){0};
    if (!plan) return fail(status, MQTT5_ERR_INVALID_ARGUMENT, "plan", NULL);
    memset(plan, 0, sizeof *plan);
    if (!o) return fail(status, MQTT5_ERR_INVALID_ARGUMENT, "options", "no builder options");

    int rc =
        mqtt5_builder_custom_auth_username(ca, o, &plan->username, &plan->username_len, status);
    if (rc) return rc;

    mqtt5_builder_options *p = &plan->options;
    *p = *o;
    p->username = plan->username_len ? plan->username : NULL; /* nothing at all: no username */
    if (o->connect_options) {
        /* the built username replaces the template's (it was the base when no auth_username) */
        plan->connect_options = *o->connect_options;
        plan->connect_options.has_username = false;
        plan->connect_options.username = (mqtt5_str){NULL, 0};
        p->connect_options = &plan->connect_options;
    }
    if (ca && ca->auth_password) {
        size_t n = strlen(ca->auth_password);
        if (n > USERNAME_MAX) {
            mqtt5_builder_custom_auth_plan_clear(plan);
            return fail(status, MQTT5_ERR_INVALID_ARGUMENT, "auth_password",
                        "longer than 65535 bytes");
        }
        p->password = (const uint8_t *)ca->auth_password;
        p->password_len = n;
    }
    if (!p->port) p->port = 443;
    plan->tls.mode = MQTT5_BUILDER_DEFAULT_TLS;
    if (websocket) {
        plan->tls.websocket = &plan->websocket; /* ALPN http/1.1 unless alpn_list is given */
    } else if (!p->alpn_list && !p->alpn_count) {
        p->alpn_list = alpn_mqtt;
        p->alpn_count = 1;
    }
    return MQTT5_OK;
}

static int build_custom(const mqtt5_custom_auth_options *ca, const mqtt5_builder_options *o,
                        bool websocket, mqtt5_client **out, mqtt5_codec_status *status)
{
    mqtt5_codec_status local;
    if (!status) status = &local;
    *status = (mqtt5_codec_status){0};
    if (!out) return fail(status, MQTT5_ERR_INVALID_ARGUMENT, "out", NULL);
    *out = NULL;
    mqtt5_builder_custom_auth_plan plan;
    int rc = mqtt5_builder_custom_auth_plan_init(&plan, ca, o, websocket, status);
    if (rc) {
        MQTT5_LOG(MQTT5_LOG_ERROR, MQTT5_LOG_BUILDER, "custom authorizer: %s (%s: %s)",
                  mqtt5_error_name(rc), status->field ? status->field : "-",
                  status->detail ? status->detail : "-");
        return rc;
    }
    rc = mqtt5_builder_build(&plan.options, &plan.tls, out, status);
    mqtt5_builder_custom_auth_plan_clear(&plan); /* the client copied what it keeps */
    return rc;
}

int mqtt5_builder_direct_with_custom_authorizer(const mqtt5_custom_auth_options *ca,
                                                const mqtt5_builder_options *o, mqtt5_client **out,
                                                mqtt5_codec_status *status)
{
    return build_custom(ca, o, false, out, status);
}

int mqtt5_builder_websockets_with_custom_authorizer(const char *region,
                                                    const mqtt5_custom_auth_options *ca,
                                                    const mqtt5_builder_options *o,
                                                    mqtt5_client **out, mqtt5_codec_status *status)
{
    (void)region; /* kept for parity with the AWS SDK: nothing is signed */
    return build_custom(ca, o, true, out, status);
}
