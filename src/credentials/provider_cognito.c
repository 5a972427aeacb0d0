/*
 * credentials/provider_cognito.c - the Amazon Cognito Identity provider: an unsigned JSON POST
 * of GetCredentialsForIdentity ({"IdentityId", "Logins"?, "CustomRoleArn"?}, X-Amz-Target
 * AWSCognitoIdentityService.GetCredentialsForIdentity, application/x-amz-json-1.1) to the
 * configured endpoint at every get. The body is built once at creation (it holds the login
 * tokens, so it is wiped when the provider goes). It does not create identities (GetId) and does
 * not cache credentials (wrap it in the cached provider).
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "credentials/cred_parse.h"
#include "credentials/provider_internal.h"
#include "http/http_client.h"
#include "mqtt5/error.h"

#define COGNITO_TARGET "AWSCognitoIdentityService.GetCredentialsForIdentity"

typedef struct cognito_impl {
    char *url;
    char *body; /* JSON request; holds login tokens */
    size_t body_len;
} cognito_impl;

typedef struct cognito_get {
    mqtt5_credentials_provider *p;
    mqtt5_credentials_done_fn done;
    void *user;
} cognito_get;

static void finish(cognito_get *g, int err, const mqtt5_parsed_credentials *creds,
                   const char *detail)
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
    mqtt5_parsed_credentials_view(creds, "cognito", &view);
    done(user, 0, &view, NULL);
}

static void on_response(void *arg, int error, const mqtt5_http_response *resp, const char *detail)
{
    cognito_get *g = arg;
    char text[1024], reason[512] = "";
    if (error) {
        snprintf(text, sizeof text, "cognito: GetCredentialsForIdentity: %s",
                 detail && *detail ? detail : mqtt5_error_str(error));
        finish(g, error, NULL, text);
        return;
    }
    if (resp->status < 200 || resp->status >= 300) {
        if (mqtt5_cred_parse_json_error(resp->body, resp->body_len, reason, sizeof reason) ||
            !*reason)
            snprintf(text, sizeof text, "cognito: GetCredentialsForIdentity: HTTP %d",
                     resp->status);
        else
            snprintf(text, sizeof text, "cognito: GetCredentialsForIdentity: HTTP %d: %s",
                     resp->status, reason);
        finish(g, MQTT5_ERR_HTTP_STATUS, NULL, text);
        return;
    }
    mqtt5_parsed_credentials creds;
    memset(&creds, 0, sizeof creds);
    mqtt5_allocator alloc = g->p->alloc;
    int rc = mqtt5_cred_parse_cognito_json(&alloc, resp->body, resp->body_len, &creds, reason,
                                           sizeof reason);
    if (rc) {
        snprintf(text, sizeof text, "cognito: GetCredentialsForIdentity: response: %s",
                 *reason ? reason : mqtt5_error_str(rc));
        finish(g, rc, NULL, text);
        return;
    }
    finish(g, 0, &creds, NULL);
    mqtt5_parsed_credentials_clear(&alloc, &creds);
}

static void cognito_get_fn(mqtt5_credentials_provider *p, mqtt5_credentials_done_fn done,
                           void *user)
{
    const cognito_impl *impl = p->impl;
    struct mqtt5_http_client *http = mqtt5_cp_http(p);
    cognito_get *g = http ? p->alloc.allocate(p->alloc.ctx, sizeof *g) : NULL;
    if (!g) {
        mqtt5_cp_fail(done, user, MQTT5_ERR_NOMEM, "cognito: out of memory");
        return;
    }
    g->p = p;
    g->done = done;
    g->user = user;
    static const char *const headers[] = {
        "Content-Type: application/x-amz-json-1.1",
        "X-Amz-Target: " COGNITO_TARGET,
    };
    mqtt5_http_request_desc d = {
        .method = "POST",
        .url = impl->url,
        .headers = headers,
        .header_count = 2,
        .body = (const uint8_t *)impl->body,
        .body_len = impl->body_len,
    };
    int rc = mqtt5_http_client_request(http, &d, on_response, g, NULL);
    if (rc) {
        char text[256];
        snprintf(text, sizeof text, "cognito: cannot start GetCredentialsForIdentity: %s",
                 mqtt5_error_str(rc));
        finish(g, rc, NULL, text);
    }
}

/* ---- creation ------------------------------------------------------------------------------ */

static void impl_free(const mqtt5_allocator *a, cognito_impl *c)
{
    if (!c) return;
    if (c->url) a->release(a->ctx, c->url, strlen(c->url) + 1);
    if (c->body) {
        mqtt5_wipe(c->body, c->body_len + 1);
        a->release(a->ctx, c->body, c->body_len + 1);
    }
    a->release(a->ctx, c, sizeof *c);
}

static void cognito_destroy(mqtt5_credentials_provider *p)
{
    impl_free(&p->alloc, p->impl);
    p->impl = NULL;
}

static const mqtt5_credentials_provider_vtable cognito_vtable = {
    .name = "cognito",
    .get = cognito_get_fn,
    .destroy = cognito_destroy,
};

static bool prefix_nocase(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char a = *s;
        if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
        if (a != *prefix) return false;
    }
    return true;
}

static bool text_valid(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f) return false;
    return true;
}

/* "host" -> "https://host/", a URL as given (with "/" when it has no path): 0,
 * MQTT5_ERR_INVALID_ARGUMENT (not an http(s) URL or host) or MQTT5_ERR_NOMEM. */
static int make_url(const mqtt5_allocator *a, const char *endpoint, char **out)
{
    if (!text_valid(endpoint)) return MQTT5_ERR_INVALID_ARGUMENT;
    const char *scheme = "";
    const char *rest = endpoint;
    if (strstr(endpoint, "://")) {
        if (prefix_nocase(endpoint, "https://"))
            rest = endpoint + 8;
        else if (prefix_nocase(endpoint, "http://"))
            rest = endpoint + 7;
        else
            return MQTT5_ERR_INVALID_ARGUMENT;
    } else {
        scheme = "https://";
    }
    size_t host_len = strcspn(rest, "/?#");
    if (!host_len || memchr(rest, '@', host_len)) return MQTT5_ERR_INVALID_ARGUMENT;
    const char *slash = rest[host_len] == '\0' ? "/" : "";
    size_t n = strlen(scheme) + strlen(endpoint) + strlen(slash) + 1;
    if (!(*out = a->allocate(a->ctx, n))) return MQTT5_ERR_NOMEM;
    snprintf(*out, n, "%s%s%s", scheme, endpoint, slash);
    return 0;
}

/* Wipe the string values under `item` (login tokens) before cJSON frees them. */
static void json_wipe(cJSON *item)
{
    for (; item; item = item->next) {
        if (item->valuestring) mqtt5_wipe(item->valuestring, strlen(item->valuestring));
        json_wipe(item->child);
    }
}

static int make_body(const mqtt5_allocator *a, const mqtt5_credentials_cognito_options *c,
                     cognito_impl *impl)
{
    cJSON *root = cJSON_CreateObject();
    int rc = MQTT5_ERR_NOMEM;
    char *printed = NULL;
    if (!root || !cJSON_AddStringToObject(root, "IdentityId", c->identity_id)) goto out;
    if (c->login_count) {
        cJSON *logins = cJSON_AddObjectToObject(root, "Logins");
        if (!logins) goto out;
        for (size_t i = 0; i < c->login_count; i++) {
            const mqtt5_cognito_login *l = &c->logins[i];
            if (!l->provider_name || !*l->provider_name || !l->token) {
                rc = MQTT5_ERR_INVALID_ARGUMENT;
                goto out;
            }
            if (!cJSON_AddStringToObject(logins, l->provider_name, l->token)) goto out;
        }
    }
    if (c->custom_role_arn && *c->custom_role_arn &&
        !cJSON_AddStringToObject(root, "CustomRoleArn", c->custom_role_arn))
        goto out;
    printed = cJSON_PrintUnformatted(root);
    if (!printed) goto out;
    impl->body_len = strlen(printed);
    impl->body = a->allocate(a->ctx, impl->body_len + 1);
    if (!impl->body) goto out;
    memcpy(impl->body, printed, impl->body_len + 1);
    rc = 0;
out:
    if (printed) {
        mqtt5_wipe(printed, strlen(printed));
        cJSON_free(printed);
    }
    if (root) {
        json_wipe(root->child);
        cJSON_Delete(root);
    }
    return rc;
}

int mqtt5_credentials_provider_new_cognito(const mqtt5_credentials_options *o,
                                           const mqtt5_credentials_cognito_options *c,
                                           mqtt5_credentials_provider **out)
{
    if (!out) return MQTT5_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!c || !c->endpoint || !*c->endpoint || !c->identity_id || !*c->identity_id ||
        (c->login_count && !c->logins))
        return MQTT5_ERR_INVALID_ARGUMENT;
    const mqtt5_allocator *a = o && o->allocator ? o->allocator : mqtt5_allocator_libc();
    cognito_impl *impl = a->allocate(a->ctx, sizeof *impl);
    if (!impl) return MQTT5_ERR_NOMEM;
    memset(impl, 0, sizeof *impl);
    int rc = make_url(a, c->endpoint, &impl->url);
    if (!rc) rc = make_body(a, c, impl);
    if (!rc) rc = mqtt5_cp_new(o, &cognito_vtable, true, impl, out);
    if (rc) impl_free(a, impl);
    return rc;
}
