/*
 * credentials/provider_web_identity.c - the web identity provider: at every get it reads the
 * web identity token file (an OIDC token, e.g. an EKS service account token) and exchanges it
 * for credentials with STS AssumeRoleWithWebIdentity. Settings come from the options, else
 * AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN, AWS_ROLE_SESSION_NAME and the region variables or
 * profile region; the explicit variant (for the profile provider) reads no environment for the
 * token file, role and session name. It does not cache: wrap it in the cached provider.
 */
#include <stdio.h>
#include <string.h>

#include "credentials/provider_internal.h"
#include "credentials/providers.h"
#include "credentials/sts.h"
#include "mqtt5/error.h"

typedef struct wi_impl {
    bool from_env; /* the public constructor: the environment fills what options leave NULL */
    char *token_file, *role_arn, *session_name, *region, *sts_endpoint;
} wi_impl;

/* One get waiting for STS. */
typedef struct wi_get {
    mqtt5_credentials_provider *p;
    mqtt5_credentials_done_fn done;
    void *user;
} wi_get;

static void on_sts_done(void *arg, int err, const mqtt5_parsed_credentials *creds,
                        const char *detail)
{
    wi_get *g = arg;
    mqtt5_credentials_provider *p = g->p;
    mqtt5_credentials_done_fn done = g->done;
    void *user = g->user;
    p->alloc.release(p->alloc.ctx, g, sizeof *g);
    if (err) {
        mqtt5_cp_fail(done, user, err, "web identity: %s", detail ? detail : mqtt5_error_str(err));
        return;
    }
    mqtt5_credentials view;
    mqtt5_parsed_credentials_view(creds, "web-identity", &view);
    done(user, 0, &view, NULL);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static void wi_get_fn(mqtt5_credentials_provider *p, mqtt5_credentials_done_fn done, void *user)
{
    const wi_impl *w = p->impl;
    const char *token_file = w->token_file, *role_arn = w->role_arn;
    const char *session_name = w->session_name;
    if (w->from_env) {
        if (!token_file) token_file = mqtt5_cp_getenv_nonempty(p, "AWS_WEB_IDENTITY_TOKEN_FILE");
        if (!role_arn) role_arn = mqtt5_cp_getenv_nonempty(p, "AWS_ROLE_ARN");
        if (!session_name) session_name = mqtt5_cp_getenv_nonempty(p, "AWS_ROLE_SESSION_NAME");
    }
    if (!token_file || !role_arn) {
        mqtt5_cp_fail(done, user, MQTT5_ERR_PROVIDER_NOT_ENABLED,
                      "web identity: not enabled (AWS_WEB_IDENTITY_TOKEN_FILE / AWS_ROLE_ARN "
                      "unset): no %s",
                      !token_file ? "token file" : "role ARN");
        return;
    }

    /* region: option, AWS_REGION, AWS_DEFAULT_REGION, then the profile's */
    char *profile_region = NULL;
    const char *region = w->region ? w->region : mqtt5_cp_region(p, NULL);
    if (!region) {
        static const char *const names[] = {"region"};
        char reason[512] = "";
        int rc = mqtt5_cp_profile_values(p, NULL, names, 1, &profile_region, reason, sizeof reason);
        if (rc) {
            mqtt5_cp_fail(done, user, rc, "web identity: %s",
                          *reason ? reason : mqtt5_error_str(rc));
            return;
        }
        region = mqtt5_cp_region(p, profile_region); /* NULL: STS's default region */
    }

    char *text = NULL;
    size_t len = 0;
    char reason[1024] = "";
    int rc = mqtt5_cp_read_file(p, token_file, &text, &len, reason, sizeof reason);
    if (rc) {
        mqtt5_cp_strfree(p, profile_region);
        mqtt5_cp_fail(done, user, rc, "web identity: %s", *reason ? reason : mqtt5_error_str(rc));
        return;
    }
    /* the token without surrounding white space (files usually end with a newline) */
    char *token = text;
    size_t token_len = len;
    while (token_len && is_space(*token)) {
        token++;
        token_len--;
    }
    while (token_len && is_space(token[token_len - 1]))
        token[--token_len] = '\0';
    if (!token_len || memchr(token, '\0', token_len)) {
        mqtt5_cp_free_file(p, text, len);
        mqtt5_cp_strfree(p, profile_region);
        mqtt5_cp_fail(done, user, MQTT5_ERR_MALFORMED, "web identity: token file `%s` is %s",
                      token_file, token_len ? "not text" : "empty");
        return;
    }

    wi_get *g = p->alloc.allocate(p->alloc.ctx, sizeof *g);
    if (!g) {
        rc = MQTT5_ERR_NOMEM;
    } else {
        g->p = p;
        g->done = done;
        g->user = user;
        mqtt5_sts_request r = {
            .region = region,
            .endpoint = w->sts_endpoint,
            .role_arn = role_arn,
            .session_name = session_name,
            .web_identity_token = token,
        };
        rc = mqtt5_sts_assume_role_with_web_identity(p, &r, on_sts_done, g);
        if (rc) p->alloc.release(p->alloc.ctx, g, sizeof *g);
    }
    mqtt5_cp_free_file(p, text, len); /* wipes the token */
    mqtt5_cp_strfree(p, profile_region);
    if (rc)
        mqtt5_cp_fail(done, user, rc,
                      "web identity: cannot start STS AssumeRoleWithWebIdentity: %s",
                      mqtt5_error_str(rc));
}

/* ---- creation ------------------------------------------------------------------------------ */

static char *dup_with(const mqtt5_allocator *a, const char *s, bool *failed)
{
    if (!s || !*s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = a->allocate(a->ctx, n);
    if (d)
        memcpy(d, s, n);
    else
        *failed = true;
    return d;
}

static void free_with(const mqtt5_allocator *a, char *s)
{
    if (!s) return;
    size_t n = strlen(s) + 1;
    mqtt5_wipe(s, n);
    a->release(a->ctx, s, n);
}

static void impl_free(const mqtt5_allocator *a, wi_impl *w)
{
    if (!w) return;
    free_with(a, w->token_file);
    free_with(a, w->role_arn);
    free_with(a, w->session_name);
    free_with(a, w->region);
    free_with(a, w->sts_endpoint);
    a->release(a->ctx, w, sizeof *w);
}

static void wi_destroy(mqtt5_credentials_provider *p)
{
    impl_free(&p->alloc, p->impl);
    p->impl = NULL;
}

static const mqtt5_credentials_provider_vtable wi_vtable = {
    .name = "web-identity",
    .get = wi_get_fn,
    .destroy = wi_destroy,
};

static int wi_new(const mqtt5_credentials_options *o, bool from_env, const char *token_file,
                  const char *role_arn, const char *session_name, const char *region,
                  const char *sts_endpoint, mqtt5_credentials_provider **out)
{
    if (!out) return MQTT5_ERR_INVALID_ARGUMENT;
    *out = NULL;
    const mqtt5_allocator *a = o && o->allocator ? o->allocator : mqtt5_allocator_libc();
    wi_impl *w = a->allocate(a->ctx, sizeof *w);
    if (!w) return MQTT5_ERR_NOMEM;
    memset(w, 0, sizeof *w);
    bool failed = false;
    w->from_env = from_env;
    w->token_file = dup_with(a, token_file, &failed);
    w->role_arn = dup_with(a, role_arn, &failed);
    w->session_name = dup_with(a, session_name, &failed);
    w->region = dup_with(a, region, &failed);
    w->sts_endpoint = dup_with(a, sts_endpoint, &failed);
    if (failed) {
        impl_free(a, w);
        return MQTT5_ERR_NOMEM;
    }
    int rc = mqtt5_cp_new(o, &wi_vtable, true, w, out);
    if (rc) impl_free(a, w);
    return rc;
}

int mqtt5_credentials_provider_new_web_identity(const mqtt5_credentials_options *o,
                                                const mqtt5_credentials_web_identity_options *w,
                                                mqtt5_credentials_provider **out)
{
    mqtt5_credentials_web_identity_options none;
    if (!w) {
        memset(&none, 0, sizeof none);
        w = &none;
    }
    return wi_new(o, true, w->token_file, w->role_arn, w->session_name, w->region, w->sts_endpoint,
                  out);
}

int mqtt5_web_identity_provider_new_explicit(const mqtt5_credentials_options *o,
                                             const char *token_file, const char *role_arn,
                                             const char *session_name, const char *region,
                                             const char *sts_endpoint,
                                             mqtt5_credentials_provider **out)
{
    if (!token_file || !*token_file || !role_arn || !*role_arn) return MQTT5_ERR_INVALID_ARGUMENT;
    return wi_new(o, false, token_file, role_arn, session_name, region, sts_endpoint, out);
}
