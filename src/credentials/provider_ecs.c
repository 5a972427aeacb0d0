/*
 * credentials/provider_ecs.c - the container credentials provider (ECS task roles, EKS Pod
 * Identity): one GET of the URL that AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on
 * http://169.254.170.2) or AWS_CONTAINER_CREDENTIALS_FULL_URI names, with "Accept:
 * application/json" and, when configured, an Authorization header from
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read at every get) or AWS_CONTAINER_AUTHORIZATION_TOKEN.
 * Plain http is allowed only to loopback and the ECS/EKS link-local agents. The URL decision is a
 * pure function checked by the SDKs' ecs-tests.json. Settings are read at every get; nothing is
 * cached (wrap it in the cached provider).
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "credentials/cred_parse.h"
#include "credentials/provider_internal.h"
#include "credentials/providers.h"
#include "http/http_client.h"
#include "mqtt5/error.h"

#define ECS_HOST_URL "http://169.254.170.2"
#define ECS_RELATIVE "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
#define ECS_FULL "AWS_CONTAINER_CREDENTIALS_FULL_URI"
#define ECS_TOKEN_FILE "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
#define ECS_TOKEN "AWS_CONTAINER_AUTHORIZATION_TOKEN"

/* ---- URL resolution (pure) ----------------------------------------------------------------- */

static bool prefix_nocase(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char a = *s;
        if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
        if (a != *prefix) return false;
    }
    return true;
}

static bool eq_nocase_n(const char *a, size_t n, const char *b)
{
    if (strlen(b) != n) return false;
    for (size_t i = 0; i < n; i++) {
        char x = a[i];
        if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
        if (x != b[i]) return false;
    }
    return true;
}

static bool url_text_valid(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f) return false;
    return true;
}

/* Hosts plain http may reach: loopback (127.0.0.0/8, ::1, "localhost" - taken as loopback
 * without resolving it), the ECS agent 169.254.170.2 and EKS Pod Identity 169.254.170.23 /
 * fd00:ec2::23. */
static bool http_host_allowed(const char *host, size_t n, bool bracketed)
{
    char buf[64];
    if (!n || n >= sizeof buf) return false;
    memcpy(buf, host, n);
    buf[n] = '\0';
    if (!bracketed && eq_nocase_n(host, n, "localhost")) return true;
    unsigned char a[16];
    if (!bracketed && inet_pton(AF_INET, buf, a) == 1)
        return a[0] == 127 ||
               (a[0] == 169 && a[1] == 254 && a[2] == 170 && (a[3] == 2 || a[3] == 23));
    if (bracketed && inet_pton(AF_INET6, buf, a) == 1) {
        static const unsigned char loopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        static const unsigned char eks6[16] = {0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0,
                                               0,    0, 0,    0,    0, 0, 0, 0x23};
        return !memcmp(a, loopback6, 16) || !memcmp(a, eks6, 16);
    }
    return false;
}

static int fail(char *err, size_t err_cap, int rc, const char *fmt, const char *a, const char *b)
{
    if (err && err_cap) snprintf(err, err_cap, fmt, a, b);
    return rc;
}

static int copy_out(char *out, size_t out_cap, const char *a, const char *b, const char *c)
{
    int n = snprintf(out, out_cap, "%s%s%s", a, b, c);
    return n < 0 || (size_t)n >= out_cap ? MQTT5_ERR_BUFFER_TOO_SMALL : 0;
}

static int full_uri_check(const char *uri, char *err, size_t err_cap)
{
    const char *what = ECS_FULL " `%s`: %s";
    if (!url_text_valid(uri))
        return fail(err, err_cap, MQTT5_ERR_INVALID_ARGUMENT, what, uri, "invalid uri character");
    const char *sep = strstr(uri, "://");
    if (!sep || strcspn(uri, "/?#") < (size_t)(sep - uri))
        return fail(err, err_cap, MQTT5_ERR_INVALID_ARGUMENT, what, uri,
                    *uri == '/' ? "URI did not specify a host"
                                : "URI did not specify a scheme (http:// or https://)");
    bool https = prefix_nocase(uri, "https://");
    if (!https && !prefix_nocase(uri, "http://"))
        return fail(err, err_cap, MQTT5_ERR_INVALID_ARGUMENT, what, uri,
                    "unsupported scheme (only http:// and https://)");
    const char *auth = sep + 3;
    size_t auth_len = strcspn(auth, "/?#");
    /* user information is not part of the host */
    for (size_t i = auth_len; i > 0; i--)
        if (auth[i - 1] == '@') {
            auth_len -= i;
            auth += i;
            break;
        }
    const char *host = auth;
    size_t host_len;
    bool bracketed = *auth == '[';
    if (bracketed) {
        const char *close = memchr(auth, ']', auth_len);
        if (!close)
            return fail(err, err_cap, MQTT5_ERR_INVALID_ARGUMENT, what, uri,
                        "unterminated IPv6 address");
        host = auth + 1;
        host_len = (size_t)(close - host);
    } else {
        const char *colon = memchr(auth, ':', auth_len);
        host_len = colon ? (size_t)(colon - auth) : auth_len;
    }
    if (!host_len)
        return fail(err, err_cap, MQTT5_ERR_INVALID_ARGUMENT, what, uri,
                    "URI did not specify a host");
    if (!https && !http_host_allowed(host, host_len, bracketed))
        return fail(err, err_cap, MQTT5_ERR_INVALID_ARGUMENT, what, uri,
                    "plain http is allowed only to loopback, 169.254.170.2, 169.254.170.23 and "
                    "fd00:ec2::23 (use https for other hosts)");
    return 0;
}

int mqtt5_ecs_uri_resolve(mqtt5_cp_getenv_fn getenv_fn, void *getenv_user, char *out,
                          size_t out_cap, char *err, size_t err_cap)
{
    if (err && err_cap) err[0] = '\0';
    const char *rel = getenv_fn ? getenv_fn(getenv_user, ECS_RELATIVE) : NULL;
    const char *full = getenv_fn ? getenv_fn(getenv_user, ECS_FULL) : NULL;
    if (rel && *rel) {
        if (!url_text_valid(rel))
            return fail(err, err_cap, MQTT5_ERR_INVALID_ARGUMENT, ECS_RELATIVE " `%s`: %s", rel,
                        "invalid uri character");
        int rc = copy_out(out, out_cap, ECS_HOST_URL, *rel == '/' ? "" : "/", rel);
        if (rc && err && err_cap) snprintf(err, err_cap, ECS_RELATIVE " is too long");
        return rc;
    }
    if (!full || !*full)
        return fail(err, err_cap, MQTT5_ERR_PROVIDER_NOT_ENABLED, "%s%s",
                    "No environment variables were set to configure ECS provider",
                    " (" ECS_RELATIVE " / " ECS_FULL " unset)");
    int rc = full_uri_check(full, err, err_cap);
    if (rc) return rc;
    rc = copy_out(out, out_cap, full, "", "");
    if (rc && err && err_cap) snprintf(err, err_cap, ECS_FULL " is too long");
    return rc;
}

/* ---- one get ------------------------------------------------------------------------------- */

typedef struct ecs_get {
    mqtt5_credentials_provider *p;
    mqtt5_credentials_done_fn done;
    void *user;
    char url[2048];
} ecs_get;

static void finish(ecs_get *g, int err, const mqtt5_parsed_credentials *creds, const char *detail)
{
    mqtt5_credentials_provider *p = g->p;
    mqtt5_credentials_done_fn done = g->done;
    void *user = g->user;
    p->alloc.release(p->alloc.ctx, g, sizeof *g);
    if (err) {
        done(user, err, NULL, detail);
        return;
    }
    mqtt5_credentials view;
    mqtt5_parsed_credentials_view(creds, "ecs", &view);
    done(user, 0, &view, NULL);
}

static void on_response(void *arg, int error, const mqtt5_http_response *resp, const char *detail)
{
    ecs_get *g = arg;
    char text[1024];
    if (error) {
        /* the HTTP client's detail names the request (method, URL without its query) */
        snprintf(text, sizeof text, "ecs: %s", detail);
        finish(g, error, NULL, text);
        return;
    }
    char reason[512] = "";
    if (resp->status < 200 || resp->status >= 300) {
        if (mqtt5_cred_parse_json_error(resp->body, resp->body_len, reason, sizeof reason) ||
            !*reason)
            snprintf(text, sizeof text, "ecs: GET %.500s: HTTP %d", g->url, resp->status);
        else
            snprintf(text, sizeof text, "ecs: GET %.500s: HTTP %d: %.400s", g->url, resp->status,
                     reason);
        finish(g, MQTT5_ERR_HTTP_STATUS, NULL, text);
        return;
    }
    mqtt5_parsed_credentials creds;
    memset(&creds, 0, sizeof creds);
    mqtt5_allocator alloc = g->p->alloc;
    int rc = mqtt5_cred_parse_container_json(&alloc, resp->body, resp->body_len, &creds, reason,
                                             sizeof reason);
    if (rc) {
        snprintf(text, sizeof text, "ecs: GET %.500s: %s", g->url,
                 *reason ? reason : mqtt5_error_str(rc));
        finish(g, rc, NULL, text);
        return;
    }
    finish(g, 0, &creds, NULL);
    mqtt5_parsed_credentials_clear(&alloc, &creds);
}

static const char *seam_getenv(void *user, const char *name)
{
    return mqtt5_cp_getenv(user, name);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* "Authorization: <token>" from the token file or variable into *line (NULL when none is
 * configured); 0 or an error with the detail written. */
static int auth_line(mqtt5_credentials_provider *p, char **line, size_t *line_size, char *detail,
                     size_t detail_cap)
{
    *line = NULL;
    *line_size = 0;
    const char *file = mqtt5_cp_getenv_nonempty(p, ECS_TOKEN_FILE);
    char *text = NULL;
    size_t len = 0;
    const char *token;
    size_t token_len;
    if (file) {
        char reason[768] = "";
        int rc = mqtt5_cp_read_file(p, file, &text, &len, reason, sizeof reason);
        if (rc) {
            snprintf(detail, detail_cap, "ecs: %s: %s", ECS_TOKEN_FILE,
                     *reason ? reason : mqtt5_error_str(rc));
            return rc;
        }
        token = text;
        token_len = len;
        while (token_len && is_space(*token)) {
            token++;
            token_len--;
        }
        while (token_len && is_space(token[token_len - 1]))
            token_len--;
    } else {
        token = mqtt5_cp_getenv_nonempty(p, ECS_TOKEN);
        if (!token) return 0;
        token_len = strlen(token);
    }
    int rc = 0;
    for (size_t i = 0; i < token_len && !rc; i++)
        if (token[i] == '\r' || token[i] == '\n' || token[i] == '\0') rc = MQTT5_ERR_MALFORMED;
    if (rc || !token_len) {
        rc = MQTT5_ERR_MALFORMED;
        if (file)
            snprintf(detail, detail_cap, "ecs: the authorization token in `%s` (%s) is %s", file,
                     ECS_TOKEN_FILE, token_len ? "not one line" : "empty");
        else
            snprintf(detail, detail_cap, "ecs: %s must not contain a line break", ECS_TOKEN);
    } else {
        *line_size = sizeof "Authorization: " + token_len;
        *line = p->alloc.allocate(p->alloc.ctx, *line_size);
        if (!*line) {
            rc = MQTT5_ERR_NOMEM;
            snprintf(detail, detail_cap, "ecs: out of memory");
        } else {
            snprintf(*line, *line_size, "Authorization: %.*s", (int)token_len, token);
        }
    }
    if (text) mqtt5_cp_free_file(p, text, len); /* wipes the token */
    return rc;
}

static void ecs_get_fn(mqtt5_credentials_provider *p, mqtt5_credentials_done_fn done, void *user)
{
    ecs_get *g = p->alloc.allocate(p->alloc.ctx, sizeof *g);
    if (!g) {
        mqtt5_cp_fail(done, user, MQTT5_ERR_NOMEM, "ecs: out of memory");
        return;
    }
    memset(g, 0, sizeof *g);
    g->p = p;
    g->done = done;
    g->user = user;
    char reason[1024] = "", text[1100];
    int rc = mqtt5_ecs_uri_resolve(seam_getenv, p, g->url, sizeof g->url, reason, sizeof reason);
    if (rc) {
        snprintf(text, sizeof text, "ecs: %s%s",
                 rc == MQTT5_ERR_PROVIDER_NOT_ENABLED ? "not enabled: " : "", reason);
        finish(g, rc, NULL, text);
        return;
    }
    char *auth = NULL;
    size_t auth_size = 0;
    rc = auth_line(p, &auth, &auth_size, text, sizeof text);
    if (rc) {
        finish(g, rc, NULL, text);
        return;
    }
    struct mqtt5_http_client *http = mqtt5_cp_http(p);
    const char *headers[2] = {"Accept: application/json", auth};
    mqtt5_http_request_desc d = {
        .method = "GET",
        .url = g->url,
        .headers = headers,
        .header_count = auth ? 2 : 1,
    };
    rc = http ? mqtt5_http_client_request(http, &d, on_response, g, NULL) : MQTT5_ERR_NOMEM;
    if (auth) {
        mqtt5_wipe(auth, auth_size);
        p->alloc.release(p->alloc.ctx, auth, auth_size);
    }
    if (rc) {
        snprintf(text, sizeof text, "ecs: cannot request %.500s: %s", g->url, mqtt5_error_str(rc));
        finish(g, rc, NULL, text);
    }
}

/* ---- creation ------------------------------------------------------------------------------ */

static const mqtt5_credentials_provider_vtable ecs_vtable = {
    .name = "ecs",
    .get = ecs_get_fn,
    .destroy = NULL,
};

int mqtt5_credentials_provider_new_ecs(const mqtt5_credentials_options *o,
                                       mqtt5_credentials_provider **out)
{
    if (!out) return MQTT5_ERR_INVALID_ARGUMENT;
    *out = NULL;
    return mqtt5_cp_new(o, &ecs_vtable, true, NULL, out);
}
