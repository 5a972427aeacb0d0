/*
 * credentials/provider_imds.c - the EC2 instance metadata (IMDS) provider: IMDSv2 session token
 * (PUT /latest/api/token), the instance profile's role name (GET
 * /latest/meta-data/iam/security-credentials/) and its credentials document (GET .../<role>),
 * falling back to IMDSv1 (no token) when the token call is not answered (transport error,
 * timeout) or answered 404/405 - never on 403, which means IMDS is disabled or the hop limit
 * was exceeded. Also the pure endpoint resolver (option, environment, profile, endpoint mode)
 * checked by the SDKs' imds-endpoint-tests.json. It fetches a new token at every get and does
 * not cache credentials: wrap it in the cached provider.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "credentials/cred_parse.h"
#include "credentials/provider_internal.h"
#include "credentials/providers.h"
#include "http/http_client.h"
#include "mqtt5/error.h"

#define IMDS_IPV4 "http://169.254.169.254"
#define IMDS_IPV6 "http://[fd00:ec2::254]"
#define IMDS_TOKEN_PATH "/latest/api/token"
#define IMDS_ROLE_PATH "/latest/meta-data/iam/security-credentials/"
#define IMDS_TOKEN_TTL_HEADER "x-aws-ec2-metadata-token-ttl-seconds: 21600"
#define IMDS_TOKEN_HEADER "x-aws-ec2-metadata-token"
#define IMDS_CONNECT_TIMEOUT_CAP_MS 1000u

/* ---- endpoint resolution (pure) ------------------------------------------------------------ */

static bool eq_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
        if (x != y) return false;
    }
    return *a == *b;
}

static bool prefix_nocase(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char a = *s;
        if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
        if (a != *prefix) return false;
    }
    return true;
}

static const char *env_value(mqtt5_cp_getenv_fn getenv_fn, void *user, const char *name)
{
    const char *v = getenv_fn ? getenv_fn(user, name) : NULL;
    return v && *v ? v : NULL;
}

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

/* RFC 3986 characters: unreserved, reserved and '%'. */
static bool uri_char(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return c && strchr("-._~:/?#[]@!$&'()*+,;=%", c) != NULL;
}

static int set_err(char *err, size_t err_cap, int rc, const char *fmt, const char *v,
                   const char *why)
{
    if (err && err_cap) snprintf(err, err_cap, fmt, v, why);
    return rc;
}

static int endpoint_check(const char *v, char *err, size_t err_cap)
{
    for (const char *s = v; *s; s++)
        if (!uri_char(*s))
            return set_err(err, err_cap, MQTT5_ERR_INVALID_ARGUMENT,
                           "`%s` is not a valid endpoint: %s", v, "invalid uri character");
    size_t scheme = prefix_nocase(v, "http://") ? 7 : prefix_nocase(v, "https://") ? 8 : 0;
    if (!scheme)
        return set_err(err, err_cap, MQTT5_ERR_INVALID_ARGUMENT, "`%s` is not a valid endpoint: %s",
                       v, "URI did not specify a scheme (http:// or https://)");
    if (strcspn(v + scheme, "/?#") == 0)
        return set_err(err, err_cap, MQTT5_ERR_INVALID_ARGUMENT, "`%s` is not a valid endpoint: %s",
                       v, "URI did not specify a host");
    return 0;
}

int mqtt5_imds_endpoint_resolve(const char *endpoint_override, const char *mode_override,
                                mqtt5_cp_getenv_fn getenv_fn, void *getenv_user,
                                const char *profile_endpoint, const char *profile_mode, char *out,
                                size_t out_cap, char *err, size_t err_cap)
{
    if (err && err_cap) err[0] = '\0';
    const char *endpoint = nonempty(endpoint_override);
    if (!endpoint)
        endpoint = env_value(getenv_fn, getenv_user, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (!endpoint) endpoint = nonempty(profile_endpoint);
    if (endpoint) {
        int rc = endpoint_check(endpoint, err, err_cap);
        if (rc) return rc;
    } else {
        const char *mode = nonempty(mode_override);
        if (!mode)
            mode = env_value(getenv_fn, getenv_user, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
        if (!mode) mode = nonempty(profile_mode);
        if (!mode || eq_nocase(mode, "IPv4"))
            endpoint = IMDS_IPV4;
        else if (eq_nocase(mode, "IPv6"))
            endpoint = IMDS_IPV6;
        else
            return set_err(err, err_cap, MQTT5_ERR_INVALID_ARGUMENT,
                           "`%s` is not a valid endpoint mode%s", mode, " (expected IPv4 or IPv6)");
    }
    size_t n = strlen(endpoint);
    while (n && endpoint[n - 1] == '/')
        n--;
    if (n + 1 > out_cap) {
        if (err && err_cap) snprintf(err, err_cap, "endpoint is too long");
        return MQTT5_ERR_BUFFER_TOO_SMALL;
    }
    memcpy(out, endpoint, n);
    out[n] = '\0';
    return 0;
}

/* ---- one get ------------------------------------------------------------------------------- */

typedef struct imds_impl {
    char *endpoint; /* option; NULL = environment / profile / default */
} imds_impl;

typedef struct imds_get {
    mqtt5_credentials_provider *p;
    mqtt5_credentials_done_fn done;
    void *user;
    char *token; /* IMDSv2 session token (wiped); NULL = IMDSv1 */
    size_t token_size;
    uint32_t max_attempts; /* per request; 0 = the client's */
    char base[1024];
    char role[256];
} imds_get;

static void get_free(imds_get *g)
{
    mqtt5_credentials_provider *p = g->p;
    if (g->token) {
        mqtt5_wipe(g->token, g->token_size);
        p->alloc.release(p->alloc.ctx, g->token, g->token_size);
    }
    p->alloc.release(p->alloc.ctx, g, sizeof *g);
}

static void finish_ok(imds_get *g, const mqtt5_parsed_credentials *creds)
{
    mqtt5_credentials_done_fn done = g->done;
    void *user = g->user;
    get_free(g);
    mqtt5_credentials view;
    mqtt5_parsed_credentials_view(creds, "imds", &view);
    done(user, 0, &view, NULL);
}

static void finish_err(imds_get *g, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void finish_err(imds_get *g, int err, const char *fmt, ...)
{
    char detail[1024]; /* formatted first: the arguments may point into g */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    mqtt5_credentials_done_fn done = g->done;
    void *user = g->user;
    get_free(g);
    done(user, err, NULL, detail);
}

/* Send method base+path (+token header); 0 or an error (done of the request not called). */
static int imds_send(imds_get *g, const char *method, const char *path, mqtt5_http_done_fn cb)
{
    struct mqtt5_http_client *http = mqtt5_cp_http(g->p);
    if (!http) return MQTT5_ERR_NOMEM;
    char url[1400];
    int n = snprintf(url, sizeof url, "%s%s", g->base, path);
    if (n < 0 || (size_t)n >= sizeof url) return MQTT5_ERR_INVALID_ARGUMENT;
    const char *headers[1];
    size_t header_count = 0;
    char *token_line = NULL;
    size_t token_line_size = 0;
    if (!strcmp(method, "PUT")) {
        headers[header_count++] = IMDS_TOKEN_TTL_HEADER;
    } else if (g->token) {
        token_line_size = sizeof IMDS_TOKEN_HEADER + 2 + strlen(g->token);
        token_line = g->p->alloc.allocate(g->p->alloc.ctx, token_line_size);
        if (!token_line) return MQTT5_ERR_NOMEM;
        snprintf(token_line, token_line_size, "%s: %s", IMDS_TOKEN_HEADER, g->token);
        headers[header_count++] = token_line;
    }
    mqtt5_http_request_desc d = {
        .method = method,
        .url = url,
        .headers = headers,
        .header_count = header_count,
        .max_attempts = g->max_attempts,
    };
    int rc = mqtt5_http_client_request(http, &d, cb, g, NULL);
    if (token_line) {
        mqtt5_wipe(token_line, token_line_size);
        g->p->alloc.release(g->p->alloc.ctx, token_line, token_line_size);
    }
    return rc;
}

static void on_creds(void *arg, int error, const mqtt5_http_response *resp, const char *detail)
{
    imds_get *g = arg;
    if (error) {
        finish_err(g, error, "imds: %s", detail); /* names the request already */
        return;
    }
    if (resp->status < 200 || resp->status >= 300) {
        finish_err(g, MQTT5_ERR_HTTP_STATUS, "imds: credentials of IAM role `%s`: HTTP %d%s",
                   g->role, resp->status,
                   resp->status == 404 ? " (the role has no credentials)" : "");
        return;
    }
    mqtt5_parsed_credentials creds;
    memset(&creds, 0, sizeof creds);
    char reason[512] = "";
    mqtt5_allocator alloc = g->p->alloc;
    int rc = mqtt5_cred_parse_container_json(&alloc, resp->body, resp->body_len, &creds, reason,
                                             sizeof reason);
    if (rc) {
        finish_err(g, rc, "imds: credentials of IAM role `%s`: %s", g->role,
                   *reason ? reason : mqtt5_error_str(rc));
        return;
    }
    finish_ok(g, &creds);
    mqtt5_parsed_credentials_clear(&alloc, &creds);
}

/* IAM role names are [A-Za-z0-9+=,.@_-]; anything else must not reach a URL path. */
static bool role_name_valid(const char *s, size_t n)
{
    if (!n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("+=,.@_-", c)))
            return false;
    }
    return true;
}

static void on_role(void *arg, int error, const mqtt5_http_response *resp, const char *detail)
{
    imds_get *g = arg;
    if (error) {
        finish_err(g, error, "imds: %s", detail);
        return;
    }
    if (resp->status == 404) {
        finish_err(g, MQTT5_ERR_PROVIDER_NOT_ENABLED,
                   "imds: not enabled: no IAM role is attached to the instance (HTTP 404 on %s)",
                   IMDS_ROLE_PATH);
        return;
    }
    if (resp->status < 200 || resp->status >= 300) {
        finish_err(g, MQTT5_ERR_HTTP_STATUS, "imds: GET %s: HTTP %d%s", IMDS_ROLE_PATH,
                   resp->status,
                   resp->status == 401 ? " (the IMDSv2 session token was refused)" : "");
        return;
    }
    /* the first line is the role name */
    const char *s = resp->body;
    size_t n = resp->body_len;
    while (n && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
        s++;
        n--;
    }
    size_t line = 0;
    while (line < n && s[line] != '\n' && s[line] != '\r')
        line++;
    while (line && (s[line - 1] == ' ' || s[line - 1] == '\t'))
        line--;
    if (!line) {
        finish_err(g, MQTT5_ERR_PROVIDER_NOT_ENABLED,
                   "imds: not enabled: no IAM role is attached to the instance (empty answer "
                   "from %s)",
                   IMDS_ROLE_PATH);
        return;
    }
    if (line >= sizeof g->role || !role_name_valid(s, line)) {
        finish_err(g, MQTT5_ERR_MALFORMED, "imds: GET %s: the answer is not an IAM role name",
                   IMDS_ROLE_PATH);
        return;
    }
    memcpy(g->role, s, line);
    g->role[line] = '\0';
    char path[sizeof IMDS_ROLE_PATH + sizeof g->role];
    snprintf(path, sizeof path, "%s%s", IMDS_ROLE_PATH, g->role);
    int rc = imds_send(g, "GET", path, on_creds);
    if (rc)
        finish_err(g, rc, "imds: cannot request the credentials of IAM role `%s`: %s", g->role,
                   mqtt5_error_str(rc));
}

static void request_role(imds_get *g)
{
    int rc = imds_send(g, "GET", IMDS_ROLE_PATH, on_role);
    if (rc) finish_err(g, rc, "imds: cannot request %s: %s", IMDS_ROLE_PATH, mqtt5_error_str(rc));
}

/* A token request that got no answer: is it worth trying IMDSv1? */
static bool transport_error(int error)
{
    return error != MQTT5_ERR_TERMINATED && error != MQTT5_ERR_NOMEM &&
           error != MQTT5_ERR_PACKET_TOO_LARGE && error != MQTT5_ERR_INVALID_ARGUMENT;
}

static void on_token(void *arg, int error, const mqtt5_http_response *resp, const char *detail)
{
    imds_get *g = arg;
    if (error) {
        if (!transport_error(error)) {
            finish_err(g, error, "imds: %s", detail);
            return;
        }
        /* IMDSv1; the service did not answer once already, so one attempt per request */
        g->max_attempts = 1;
        request_role(g);
        return;
    }
    if (resp->status == 404 || resp->status == 405) { /* IMDSv1 only */
        request_role(g);
        return;
    }
    if (resp->status == 403) {
        finish_err(g, MQTT5_ERR_HTTP_STATUS,
                   "imds: request forbidden: IMDS is disabled or the request hop limit was "
                   "exceeded (HTTP 403 on PUT %s)",
                   IMDS_TOKEN_PATH);
        return;
    }
    if (resp->status < 200 || resp->status >= 300) {
        finish_err(g, MQTT5_ERR_HTTP_STATUS, "imds: PUT %s: HTTP %d", IMDS_TOKEN_PATH,
                   resp->status);
        return;
    }
    const char *s = resp->body;
    size_t n = resp->body_len;
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        n--;
    while (n && *s == ' ') {
        s++;
        n--;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e) n = 0;
    if (!n) {
        finish_err(g, MQTT5_ERR_MALFORMED, "imds: PUT %s: the answer is not a session token",
                   IMDS_TOKEN_PATH);
        return;
    }
    g->token_size = n + 1;
    g->token = g->p->alloc.allocate(g->p->alloc.ctx, g->token_size);
    if (!g->token) {
        finish_err(g, MQTT5_ERR_NOMEM, "imds: out of memory");
        return;
    }
    memcpy(g->token, s, n);
    g->token[n] = '\0';
    request_role(g);
}

static const char *seam_getenv(void *user, const char *name)
{
    return mqtt5_cp_getenv(user, name);
}

static bool disabled(const mqtt5_credentials_provider *p)
{
    const char *v = mqtt5_cp_getenv(p, "AWS_EC2_METADATA_DISABLED");
    return v && eq_nocase(v, "true");
}

static void imds_get_fn(mqtt5_credentials_provider *p, mqtt5_credentials_done_fn done, void *user)
{
    const imds_impl *impl = p->impl;
    if (disabled(p)) {
        mqtt5_cp_fail(done, user, MQTT5_ERR_PROVIDER_NOT_ENABLED,
                      "imds: not enabled (AWS_EC2_METADATA_DISABLED=true)");
        return;
    }
    /* the profile is read only when neither the option nor the environment names an endpoint */
    char *profile[2] = {NULL, NULL};
    char reason[768] = "";
    if (!impl->endpoint && !mqtt5_cp_getenv_nonempty(p, "AWS_EC2_METADATA_SERVICE_ENDPOINT")) {
        static const char *const names[] = {"ec2_metadata_service_endpoint",
                                            "ec2_metadata_service_endpoint_mode"};
        int rc = mqtt5_cp_profile_values(p, NULL, names, 2, profile, reason, sizeof reason);
        if (rc) {
            mqtt5_cp_fail(done, user, rc, "imds: %s", *reason ? reason : mqtt5_error_str(rc));
            return;
        }
    }
    imds_get *g = p->alloc.allocate(p->alloc.ctx, sizeof *g);
    if (!g) {
        mqtt5_cp_strfree(p, profile[0]);
        mqtt5_cp_strfree(p, profile[1]);
        mqtt5_cp_fail(done, user, MQTT5_ERR_NOMEM, "imds: out of memory");
        return;
    }
    memset(g, 0, sizeof *g);
    g->p = p;
    g->done = done;
    g->user = user;
    int rc =
        mqtt5_imds_endpoint_resolve(impl->endpoint, NULL, seam_getenv, p, profile[0], profile[1],
                                    g->base, sizeof g->base, reason, sizeof reason);
    mqtt5_cp_strfree(p, profile[0]);
    mqtt5_cp_strfree(p, profile[1]);
    if (rc) {
        finish_err(g, rc, "imds: %s", reason);
        return;
    }
    rc = imds_send(g, "PUT", IMDS_TOKEN_PATH, on_token);
    if (rc) finish_err(g, rc, "imds: cannot request a session token: %s", mqtt5_error_str(rc));
}

/* ---- creation ------------------------------------------------------------------------------ */

static void imds_destroy(mqtt5_credentials_provider *p)
{
    imds_impl *impl = p->impl;
    if (!impl) return;
    mqtt5_cp_strfree(p, impl->endpoint);
    p->alloc.release(p->alloc.ctx, impl, sizeof *impl);
    p->impl = NULL;
}

static const mqtt5_credentials_provider_vtable imds_vtable = {
    .name = "imds",
    .get = imds_get_fn,
    .destroy = imds_destroy,
};

int mqtt5_credentials_provider_new_imds(const mqtt5_credentials_options *o,
                                        const mqtt5_credentials_imds_options *i,
                                        mqtt5_credentials_provider **out)
{
    if (!out) return MQTT5_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (i && i->endpoint && *i->endpoint && endpoint_check(i->endpoint, NULL, 0))
        return MQTT5_ERR_INVALID_ARGUMENT;
    const mqtt5_allocator *a = o && o->allocator ? o->allocator : mqtt5_allocator_libc();
    imds_impl *impl = a->allocate(a->ctx, sizeof *impl);
    if (!impl) return MQTT5_ERR_NOMEM;
    memset(impl, 0, sizeof *impl);
    mqtt5_credentials_provider *p = NULL;
    int rc = mqtt5_cp_new(o, &imds_vtable, true, impl, &p);
    if (rc) {
        a->release(a->ctx, impl, sizeof *impl);
        return rc;
    }
    if (i && i->endpoint && *i->endpoint && !(impl->endpoint = mqtt5_cp_strdup(p, i->endpoint))) {
        mqtt5_credentials_provider_release(p);
        return MQTT5_ERR_NOMEM;
    }
    /* IMDS is link-local: if it does not connect within a second it is not there */
    if (p->opts.http.connect_timeout_ms > IMDS_CONNECT_TIMEOUT_CAP_MS)
        p->opts.http.connect_timeout_ms = IMDS_CONNECT_TIMEOUT_CAP_MS;
    *out = p;
    return 0;
}
