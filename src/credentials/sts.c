/*
 * credentials/sts.c - the two AWS STS calls of the providers: AssumeRole (form POST signed with
 * SigV4, header form, service "sts", by the source credentials) and AssumeRoleWithWebIdentity
 * (unsigned form POST carrying the web identity token). It picks the endpoint, builds and signs
 * the request, sends it through the provider's HTTP client and turns the answer into parsed
 * credentials or a one-line error ("STS <Action>: HTTP <status>: <Code>: <Message>"). It does
 * not cache, retry beyond the HTTP client, or decide which role to assume.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "credentials/sts.h"
#include "http/http_client.h"
#include "mqtt5/error.h"
#include "mqtt5/sigv4.h"
#include "runtime/loop.h"

#define STS_VERSION "2011-06-15"
#define STS_CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"
#define STS_DEFAULT_REGION "us-east-1"

/* One call in flight (or its failure, posted so that done never runs before we return). */
typedef struct sts_call {
    mqtt5_cmd cmd;
    mqtt5_credentials_provider *p;
    mqtt5_sts_done_fn done;
    void *user;
    const char *action; /* static: "AssumeRole", "AssumeRoleWithWebIdentity" */
    int err;            /* posted failure */
    char detail[768];
} sts_call;

/* Where the request goes: the URL, the Host header and the path/query that are signed. */
typedef struct sts_target {
    char url[2048];
    char host[512];
    char path[1024];
    char query[512];
} sts_target;

/* ---- endpoint ------------------------------------------------------------------------------ */

static bool prefix_nocase(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char a = *s, b = *prefix;
        if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
        if (a != b) return false;
    }
    return true;
}

static bool region_valid(const char *r)
{
    if (!*r || strlen(r) > 64) return false;
    for (; *r; r++)
        if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') || *r == '-')) return false;
    return true;
}

static bool url_text_valid(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f) return false;
    return true;
}

static int target_resolve(const mqtt5_credentials_provider *p, const mqtt5_sts_request *r,
                          const char *region, sts_target *t, char *err, size_t err_cap)
{
    const char *endpoint = r->endpoint && *r->endpoint ? r->endpoint : NULL;
    const char *source = "endpoint option";
    if (!endpoint && (endpoint = mqtt5_cp_getenv_nonempty(p, "AWS_ENDPOINT_URL_STS")))
        source = "AWS_ENDPOINT_URL_STS";
    if (!endpoint && (endpoint = mqtt5_cp_getenv_nonempty(p, "AWS_ENDPOINT_URL")))
        source = "AWS_ENDPOINT_URL";
    char built[256];
    if (!endpoint) {
        if (!region_valid(region)) {
            snprintf(err, err_cap, "`%s` is not a valid region name", region);
            return MQTT5_ERR_INVALID_ARGUMENT;
        }
        /* the China partition has its own DNS suffix */
        snprintf(built, sizeof built, "https://sts.%s.amazonaws.com%s", region,
                 strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
        endpoint = built;
        source = "default endpoint";
    }
    const char *rest;
    size_t scheme_len;
    if (prefix_nocase(endpoint, "https://"))
        scheme_len = 8;
    else if (prefix_nocase(endpoint, "http://"))
        scheme_len = 7;
    else {
        snprintf(err, err_cap, "%s is not an http:// or https:// URL", source);
        return MQTT5_ERR_INVALID_ARGUMENT;
    }
    if (!url_text_valid(endpoint)) {
        snprintf(err, err_cap, "%s: invalid uri character", source);
        return MQTT5_ERR_INVALID_ARGUMENT;
    }
    rest = endpoint + scheme_len;
    size_t auth_len = strcspn(rest, "/?#");
    if (auth_len == 0) {
        snprintf(err, err_cap, "%s: URI did not specify a host", source);
        return MQTT5_ERR_INVALID_ARGUMENT;
    }
    if (memchr(rest, '@', auth_len)) { /* user information would be a credential: refuse it */
        snprintf(err, err_cap, "%s must not carry user information", source);
        return MQTT5_ERR_INVALID_ARGUMENT;
    }
    const char *path = rest + auth_len;
    size_t path_len = strcspn(path, "?#");
    const char *query = path[path_len] == '?' ? path + path_len + 1 : "";
    size_t query_len = strcspn(query, "#");
    if (auth_len >= sizeof t->host || path_len + 2 > sizeof t->path ||
        query_len >= sizeof t->query) {
        snprintf(err, err_cap, "%s is too long", source);
        return MQTT5_ERR_INVALID_ARGUMENT;
    }
    memcpy(t->host, rest, auth_len);
    t->host[auth_len] = '\0';
    if (path_len) {
        memcpy(t->path, path, path_len);
        t->path[path_len] = '\0';
    } else {
        snprintf(t->path, sizeof t->path, "/");
    }
    memcpy(t->query, query, query_len);
    t->query[query_len] = '\0';
    int n = snprintf(t->url, sizeof t->url, "%.*s%s%s%s%s", (int)scheme_len, endpoint, t->host,
                     t->path, *t->query ? "?" : "", t->query);
    if (n < 0 || (size_t)n >= sizeof t->url) {
        snprintf(err, err_cap, "%s is too long", source);
        return MQTT5_ERR_INVALID_ARGUMENT;
    }
    return 0;
}

/* ---- form body ----------------------------------------------------------------------------- */

typedef struct form {
    char *buf;
    size_t cap, len;
} form;

static void form_add(form *f, const char *key, const char *value)
{
    /* capacity was computed for every field, so this always fits */
    f->len += (size_t)snprintf(f->buf + f->len, f->cap - f->len, "%s%s=", f->len ? "&" : "", key);
    long n = mqtt5_http_url_encode(value, f->buf + f->len, f->cap - f->len);
    if (n > 0) f->len += (size_t)n;
    f->buf[f->len] = '\0';
}

static size_t field_cap(const char *key, const char *value)
{
    return 2 + strlen(key) + (value ? 3 * strlen(value) : 0);
}

/* ---- answer -------------------------------------------------------------------------------- */

static void call_free(sts_call *c)
{
    mqtt5_credentials_provider *p = c->p;
    mqtt5_wipe(c, sizeof *c);
    p->alloc.release(p->alloc.ctx, c, sizeof *c);
}

static void call_finish(sts_call *c, int err, const mqtt5_parsed_credentials *creds,
                        const char *detail)
{
    mqtt5_sts_done_fn done = c->done;
    void *user = c->user;
    call_free(c);
    done(user, err, creds, detail);
}

static void run_posted_failure(mqtt5_cmd *cmd)
{
    sts_call *c = (sts_call *)cmd;
    char detail[sizeof c->detail];
    memcpy(detail, c->detail, sizeof detail);
    call_finish(c, c->err, NULL, detail);
}

/* STS answers with the wire code ("InvalidIdentityToken"); the SDKs (and users searching for
 * the error) know the modeled exception name ("InvalidIdentityTokenException"). */
static const char *const modeled_codes[] = {
    "IDPCommunicationError",   "IDPRejectedClaim",     "InvalidIdentityToken",
    "MalformedPolicyDocument", "PackedPolicyTooLarge",
};

static void error_text(const char *raw, char *out, size_t cap)
{
    const char *sep = strstr(raw, ": ");
    size_t code_len = sep ? (size_t)(sep - raw) : strlen(raw);
    for (size_t i = 0; i < sizeof modeled_codes / sizeof *modeled_codes; i++)
        if (strlen(modeled_codes[i]) == code_len && !strncmp(raw, modeled_codes[i], code_len)) {
            snprintf(out, cap, "%.*sException%s", (int)code_len, raw, raw + code_len);
            return;
        }
    snprintf(out, cap, "%s", raw);
}

static void on_http_done(void *arg, int error, const mqtt5_http_response *resp, const char *detail)
{
    sts_call *c = arg;
    char text[640];
    if (error) {
        snprintf(text, sizeof text, "STS %s: %s", c->action,
                 detail && *detail ? detail : mqtt5_error_str(error));
        call_finish(c, error, NULL, text);
        return;
    }
    char reason[512] = "";
    if (resp->status >= 200 && resp->status < 300) {
        mqtt5_parsed_credentials creds;
        memset(&creds, 0, sizeof creds);
        int rc = mqtt5_cred_parse_sts_xml(&c->p->alloc, resp->body, resp->body_len, &creds, reason,
                                          sizeof reason);
        if (rc) {
            snprintf(text, sizeof text, "STS %s: response: %s", c->action,
                     *reason ? reason : mqtt5_error_str(rc));
            call_finish(c, rc, NULL, text);
            return;
        }
        mqtt5_allocator alloc = c->p->alloc;
        call_finish(c, 0, &creds, NULL);
        mqtt5_parsed_credentials_clear(&alloc, &creds);
        return;
    }
    if (mqtt5_cred_parse_sts_error_xml(resp->body, resp->body_len, reason, sizeof reason) == 0 &&
        *reason) {
        char mapped[560];
        error_text(reason, mapped, sizeof mapped);
        snprintf(text, sizeof text, "STS %s: HTTP %d: %s", c->action, resp->status, mapped);
    } else {
        snprintf(text, sizeof text, "STS %s: HTTP %d", c->action, resp->status);
    }
    call_finish(c, MQTT5_ERR_HTTP_STATUS, NULL, text);
}

/* ---- request ------------------------------------------------------------------------------- */

static void free_line(const mqtt5_credentials_provider *p, char *line)
{
    mqtt5_cp_strfree(p, line); /* wipes: Authorization, X-Amz-Security-Token */
}

static char *header_line(const mqtt5_credentials_provider *p, const char *name, const char *value)
{
    size_t n = strlen(name) + 2 + strlen(value) + 1;
    char *line = p->alloc.allocate(p->alloc.ctx, n);
    if (line) snprintf(line, n, "%s: %s", name, value);
    return line;
}

/* Post `err` with a detail to the loop, so done runs after the caller got 0. */
static int post_failure(sts_call *c, int err)
{
    if (!c->p->loop) return err;
    c->err = err;
    c->cmd.run = run_posted_failure;
    mqtt5_loop_post(c->p->loop, &c->cmd);
    return 0;
}

static int sts_call_start(mqtt5_credentials_provider *p, const mqtt5_sts_request *r,
                          const char *action, mqtt5_sts_done_fn done, void *user)
{
    bool signed_call = r->source != NULL;
    if (!p || !done || !r->role_arn || !*r->role_arn) return MQTT5_ERR_INVALID_ARGUMENT;
    if (signed_call && (!r->source->access_key_id || !r->source->secret_access_key))
        return MQTT5_ERR_INVALID_ARGUMENT;
    struct mqtt5_http_client *http = mqtt5_cp_http(p);
    if (!http) return MQTT5_ERR_NOMEM;
    sts_call *c = p->alloc.allocate(p->alloc.ctx, sizeof *c);
    if (!c) return MQTT5_ERR_NOMEM;
    memset(c, 0, sizeof *c);
    c->p = p;
    c->done = done;
    c->user = user;
    c->action = action;

    const char *region = r->region && *r->region ? r->region : STS_DEFAULT_REGION;
    sts_target *t = p->alloc.allocate(p->alloc.ctx, sizeof *t);
    if (!t) {
        call_free(c);
        return MQTT5_ERR_NOMEM;
    }
    char reason[512];
    int rc = target_resolve(p, r, region, t, reason, sizeof reason);
    if (rc) {
        p->alloc.release(p->alloc.ctx, t, sizeof *t);
        snprintf(c->detail, sizeof c->detail, "STS %s: %s", action, reason);
        return post_failure(c, rc);
    }

    char session[64];
    const char *session_name = r->session_name;
    if (!session_name || !*session_name) {
        snprintf(session, sizeof session, "mqtt5-%lld", (long long)mqtt5_cp_now(p));
        session_name = session;
    }
    const char *token = signed_call ? NULL : r->web_identity_token;
    form f = {0};
    f.cap = field_cap("Action", action) + field_cap("Version", STS_VERSION) +
            field_cap("RoleArn", r->role_arn) + field_cap("RoleSessionName", session_name) +
            field_cap("ExternalId", signed_call ? r->external_id : NULL) +
            field_cap("WebIdentityToken", token) + 1;
    f.buf = p->alloc.allocate(p->alloc.ctx, f.cap);
    char *lines[8] = {0};
    size_t line_count = 0;
    mqtt5_sigv4_result sig;
    memset(&sig, 0, sizeof sig);
    if (!f.buf) {
        rc = MQTT5_ERR_NOMEM;
        goto out;
    }
    f.buf[0] = '\0';
    form_add(&f, "Action", action);
    form_add(&f, "Version", STS_VERSION);
    form_add(&f, "RoleArn", r->role_arn);
    form_add(&f, "RoleSessionName", session_name);
    if (signed_call && r->external_id && *r->external_id)
        form_add(&f, "ExternalId", r->external_id);
    if (!signed_call) form_add(&f, "WebIdentityToken", token ? token : "");

    if (!(lines[line_count++] = header_line(p, "Host", t->host)) ||
        !(lines[line_count++] = header_line(p, "Content-Type", STS_CONTENT_TYPE))) {
        rc = MQTT5_ERR_NOMEM;
        goto out;
    }
    if (signed_call) {
        char datetime[32];
        time_t now = (time_t)mqtt5_cp_now(p);
        struct tm tm;
        if (!gmtime_r(&now, &tm) || !strftime(datetime, sizeof datetime, "%Y%m%dT%H%M%SZ", &tm)) {
            snprintf(c->detail, sizeof c->detail, "STS %s: the clock is out of range", action);
            rc = MQTT5_ERR_INVALID_STATE;
            goto fail_posted;
        }
        mqtt5_sigv4_header h[2] = {{"Host", t->host}, {"Content-Type", STS_CONTENT_TYPE}};
        mqtt5_sigv4_request req = {
            .method = "POST",
            .path = t->path,
            .query = t->query,
            .headers = h,
            .header_count = 2,
            .payload = (const uint8_t *)f.buf,
            .payload_len = f.len,
        };
        mqtt5_sigv4_config cfg;
        mqtt5_sigv4_config_init(&cfg);
        cfg.region = region;
        cfg.service = "sts";
        cfg.datetime = datetime;
        cfg.credentials.access_key_id = r->source->access_key_id;
        cfg.credentials.secret_access_key = r->source->secret_access_key;
        cfg.credentials.session_token = r->source->session_token;
        mqtt5_codec_status st;
        memset(&st, 0, sizeof st);
        rc = mqtt5_sigv4_sign(&req, &cfg, &p->alloc, &sig, &st);
        if (rc == MQTT5_ERR_NOMEM) goto out;
        if (rc) {
            /* st names the input and why; it never holds a secret */
            snprintf(c->detail, sizeof c->detail, "STS %s: cannot sign the request: %s%s%s", action,
                     st.field ? st.field : mqtt5_error_str(rc), st.detail ? ": " : "",
                     st.detail ? st.detail : "");
            goto fail_posted;
        }
        for (size_t i = 0; i < sig.header_count; i++)
            if (!(lines[line_count++] =
                      header_line(p, sig.headers[i].name, sig.headers[i].value))) {
                rc = MQTT5_ERR_NOMEM;
                goto out;
            }
    }

    mqtt5_http_request_desc d = {
        .method = "POST",
        .url = t->url,
        .headers = (const char *const *)lines,
        .header_count = line_count,
        .body = (const uint8_t *)f.buf,
        .body_len = f.len,
    };
    rc = mqtt5_http_client_request(http, &d, on_http_done, c, NULL);
    if (rc) goto out;
    c = NULL; /* on_http_done owns it */
    goto out;

fail_posted:
    rc = post_failure(c, rc);
    if (!rc) c = NULL;
out:
    mqtt5_sigv4_result_clean(&sig);
    for (size_t i = 0; i < line_count; i++)
        free_line(p, lines[i]);
    if (f.buf) {
        mqtt5_wipe(f.buf, f.cap); /* the web identity token */
        p->alloc.release(p->alloc.ctx, f.buf, f.cap);
    }
    p->alloc.release(p->alloc.ctx, t, sizeof *t);
    if (c) call_free(c);
    return rc;
}

int mqtt5_sts_assume_role(mqtt5_credentials_provider *p, const mqtt5_sts_request *r,
                          mqtt5_sts_done_fn done, void *user)
{
    if (!r || !r->source) return MQTT5_ERR_INVALID_ARGUMENT;
    return sts_call_start(p, r, "AssumeRole", done, user);
}

int mqtt5_sts_assume_role_with_web_identity(mqtt5_credentials_provider *p,
                                            const mqtt5_sts_request *r, mqtt5_sts_done_fn done,
                                            void *user)
{
    if (!r || !r->web_identity_token || !*r->web_identity_token) return MQTT5_ERR_INVALID_ARGUMENT;
    mqtt5_sts_request unsigned_req = *r;
    unsigned_req.source = NULL; /* never signed */
    return sts_call_start(p, &unsigned_req, "AssumeRoleWithWebIdentity", done, user);
}
