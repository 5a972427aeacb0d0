/*
 * credentials/provider_profile.c - credentials from a profile of the shared config and
 * credentials files. At every get the files are read and parsed again and the profile is
 * resolved into a base and a list of roles:
 *   - base: the profile's static keys (aws_access_key_id, aws_secret_access_key,
 *     aws_session_token), its credential_process, a web identity (web_identity_token_file +
 *     role_arn, assumed through STS AssumeRoleWithWebIdentity), or a credential_source
 *     (Environment, Ec2InstanceMetadata, EcsContainer);
 *   - roles: each profile with role_arn on the way down source_profile links, assumed in turn
 *     through STS AssumeRole signed with the previous step's credentials.
 * As in the AWS SDKs, the profile asked for uses its role_arn even if it also has static keys
 * (unless it names itself as source_profile); a source profile with static keys ends the walk.
 * Loops in source_profile links are an error. A profile that is missing or holds no
 * credentials is "not enabled" (a chain moves on); a profile that is wrong is an error.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "credentials/cred_parse.h"
#include "credentials/profile.h"
#include "credentials/provider_internal.h"
#include "credentials/providers.h"
#include "credentials/sts.h"
#include "http/process.h"
#include "mqtt5/error.h"

#define MAX_HOPS 8

typedef struct profile_impl {
    char *profile_name, *config_file, *credentials_file; /* NULL = environment/default */
} profile_impl;

typedef enum base_kind { BASE_STATIC, BASE_PROCESS, BASE_WEB_IDENTITY, BASE_SOURCE } base_kind;

typedef struct role_step {
    const char *role_arn, *session_name, *external_id, *profile;
} role_step;

typedef struct profile_get {
    mqtt5_credentials_provider *p;
    mqtt5_credentials_done_fn done;
    void *user;
    mqtt5_profile_set *set;
    const char *region;
    base_kind base;
    const mqtt5_profile *base_profile;
    mqtt5_credentials_provider *source; /* credential_source provider */
    role_step roles[MAX_HOPS];
    size_t role_count; /* roles[role_count - 1] is assumed first */
    mqtt5_credentials *current;
} profile_get;

static void get_free(profile_get *g)
{
    mqtt5_credentials_provider *p = g->p;
    if (g->source) mqtt5_credentials_provider_release(g->source);
    mqtt5_credentials_free(&p->alloc, g->current);
    mqtt5_profile_set_destroy(g->set);
    p->alloc.release(p->alloc.ctx, g, sizeof *g);
}

static void finish(profile_get *g, int err, const mqtt5_credentials *creds, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void finish(profile_get *g, int err, const mqtt5_credentials *creds, const char *fmt, ...)
{
    char detail[1024] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
    }
    mqtt5_credentials_done_fn done = g->done;
    void *user = g->user;
    mqtt5_credentials_provider *p = g->p;
    if (!err) {
        mqtt5_credentials *copy = NULL; /* creds may live in g */
        err = mqtt5_credentials_copy(&p->alloc, creds, &copy);
        get_free(g);
        done(user, err, copy, err ? "profile: out of memory" : NULL);
        mqtt5_credentials_free(&p->alloc, copy);
        return;
    }
    get_free(g);
    done(user, err, NULL, detail);
}

/* ---- resolving the profile --------------------------------------------------------------- */

static bool has_static_keys(const mqtt5_profile *pr)
{
    return mqtt5_profile_get(pr, "aws_access_key_id") &&
           mqtt5_profile_get(pr, "aws_secret_access_key");
}

static int resolve(profile_get *g, const char *name, char *err, size_t err_cap)
{
    const mqtt5_profile *pr = mqtt5_profile_set_find(g->set, MQTT5_PROFILE_SECTION_PROFILE, name);
    if (!pr) {
        snprintf(err, err_cap, "profile: not enabled (profile `%s` not found)", name);
        return MQTT5_ERR_PROVIDER_NOT_ENABLED;
    }
    const char *visited[MAX_HOPS + 1];
    size_t nvisited = 0;
    bool first = true;
    for (;;) {
        const char *pname = mqtt5_profile_name(pr);
        for (size_t i = 0; i < nvisited; i++)
            if (!strcmp(visited[i], pname)) {
                snprintf(err, err_cap, "profile `%s`: source_profile loop through `%s`", name,
                         pname);
                return MQTT5_ERR_MALFORMED;
            }
        if (nvisited == MAX_HOPS) {
            snprintf(err, err_cap, "profile `%s`: more than %d source_profile hops", name,
                     MAX_HOPS);
            return MQTT5_ERR_MALFORMED;
        }
        visited[nvisited++] = pname;
        const char *role_arn = mqtt5_profile_get(pr, "role_arn");
        const char *wit = mqtt5_profile_get(pr, "web_identity_token_file");
        const char *src = mqtt5_profile_get(pr, "source_profile");
        const char *csrc = mqtt5_profile_get(pr, "credential_source");
        g->base_profile = pr;
        if (!first && has_static_keys(pr)) {
            g->base = BASE_STATIC;
            return 0;
        }
        if (!role_arn) {
            if (wit) {
                snprintf(err, err_cap,
                         "profile `%s`: `web_identity_token_file` was specified but `role_arn` "
                         "was missing",
                         pname);
                return MQTT5_ERR_MALFORMED;
            }
            if (has_static_keys(pr)) {
                g->base = BASE_STATIC;
                return 0;
            }
            if (mqtt5_profile_get(pr, "credential_process")) {
                g->base = BASE_PROCESS;
                return 0;
            }
            if (first) {
                snprintf(err, err_cap, "profile: not enabled (profile `%s` holds no credentials)",
                         pname);
                return MQTT5_ERR_PROVIDER_NOT_ENABLED;
            }
            snprintf(err, err_cap, "profile `%s`: source profile `%s` holds no credentials", name,
                     pname);
            return MQTT5_ERR_MALFORMED;
        }
        if (wit) {
            g->base = BASE_WEB_IDENTITY;
            return 0;
        }
        if (g->role_count == MAX_HOPS) {
            snprintf(err, err_cap, "profile `%s`: too many roles", name);
            return MQTT5_ERR_MALFORMED;
        }
        role_step *r = &g->roles[g->role_count++];
        r->role_arn = role_arn;
        r->session_name = mqtt5_profile_get(pr, "role_session_name");
        r->external_id = mqtt5_profile_get(pr, "external_id");
        r->profile = pname;
        if (src && csrc) {
            snprintf(err, err_cap,
                     "profile `%s`: both source_profile and credential_source are set", pname);
            return MQTT5_ERR_MALFORMED;
        }
        if (csrc) {
            g->base = BASE_SOURCE;
            return 0;
        }
        if (!src) {
            snprintf(err, err_cap,
                     "profile `%s`: role_arn without source_profile or credential_source", pname);
            return MQTT5_ERR_MALFORMED;
        }
        if (!strcmp(src, pname)) { /* names itself: its own static keys are the source */
            if (!has_static_keys(pr)) {
                snprintf(err, err_cap,
                         "profile `%s`: source_profile is itself but it holds no static keys",
                         pname);
                return MQTT5_ERR_MALFORMED;
            }
            g->base = BASE_STATIC;
            return 0;
        }
        const mqtt5_profile *next =
            mqtt5_profile_set_find(g->set, MQTT5_PROFILE_SECTION_PROFILE, src);
        if (!next) {
            snprintf(err, err_cap, "profile `%s`: source_profile `%s` not found", pname, src);
            return MQTT5_ERR_MALFORMED;
        }
        pr = next;
        first = false;
    }
}

/* ---- running the steps ------------------------------------------------------------------- */

static void assume_next(profile_get *g);

static void step_done(profile_get *g, const mqtt5_credentials *creds)
{
    mqtt5_credentials *copy = NULL;
    if (mqtt5_credentials_copy(&g->p->alloc, creds, &copy)) {
        finish(g, MQTT5_ERR_NOMEM, NULL, "profile: out of memory");
        return;
    }
    mqtt5_credentials_free(&g->p->alloc, g->current);
    g->current = copy;
    assume_next(g);
}

static void sts_answer(void *arg, int err, const mqtt5_parsed_credentials *pc, const char *detail)
{
    profile_get *g = arg;
    if (err) {
        finish(g, err, NULL, "profile `%s`: %s", g->roles[g->role_count].profile,
               detail ? detail : mqtt5_error_str(err));
        return;
    }
    mqtt5_credentials c;
    mqtt5_parsed_credentials_view(pc, "sts-assume-role", &c);
    step_done(g, &c);
}

static void assume_next(profile_get *g)
{
    if (!g->role_count) {
        finish(g, 0, g->current, NULL);
        return;
    }
    role_step *r = &g->roles[--g->role_count];
    char session[64];
    if (!r->session_name) {
        snprintf(session, sizeof session, "mqtt5-%lld", (long long)mqtt5_cp_now(g->p));
    }
    mqtt5_sts_request req = {0};
    req.region = g->region;
    req.role_arn = r->role_arn;
    req.session_name = r->session_name ? r->session_name : session;
    req.external_id = r->external_id;
    req.source = g->current;
    int rc = mqtt5_sts_assume_role(g->p, &req, sts_answer, g);
    if (rc)
        finish(g, rc, NULL, "profile `%s`: STS AssumeRole could not start: %s", r->profile,
               mqtt5_error_str(rc));
}

static void base_answer(void *arg, int err, const mqtt5_credentials *creds, const char *detail)
{
    profile_get *g = arg;
    if (err) {
        /* the profile asked for this source: its absence is an error, not "not enabled" */
        finish(g, err == MQTT5_ERR_PROVIDER_NOT_ENABLED ? MQTT5_ERR_NOT_FOUND : err, NULL,
               "profile `%s`: credential_source: %s", mqtt5_profile_name(g->base_profile),
               detail ? detail : mqtt5_error_str(err));
        return;
    }
    step_done(g, creds);
}

static void process_answer(void *arg, int err, int status, const char *out, size_t len,
                           const char *detail)
{
    profile_get *g = arg;
    const char *pname = mqtt5_profile_name(g->base_profile);
    if (err) {
        finish(g, err == MQTT5_ERR_TERMINATED ? err : MQTT5_ERR_PROCESS, NULL,
               "profile `%s`: credential_process: %s", pname, detail ? detail : "failed");
        return;
    }
    if (status != 0) {
        finish(g, MQTT5_ERR_PROCESS, NULL, "profile `%s`: credential_process exited with status %d",
               pname, status);
        return;
    }
    mqtt5_parsed_credentials pc;
    char why[512];
    int rc = mqtt5_cred_parse_process_json(&g->p->alloc, out, len, &pc, why, sizeof why);
    if (rc) {
        finish(g, rc, NULL, "profile `%s`: credential_process output: %s", pname, why);
        return;
    }
    mqtt5_credentials c;
    mqtt5_parsed_credentials_view(&pc, "process", &c);
    step_done(g, &c);
    mqtt5_parsed_credentials_clear(&g->p->alloc, &pc);
}

static void web_identity_answer(void *arg, int err, const mqtt5_parsed_credentials *pc,
                                const char *detail)
{
    profile_get *g = arg;
    if (err) {
        finish(g, err, NULL, "profile `%s`: web identity: %s", mqtt5_profile_name(g->base_profile),
               detail ? detail : mqtt5_error_str(err));
        return;
    }
    mqtt5_credentials c;
    mqtt5_parsed_credentials_view(pc, "web-identity", &c);
    step_done(g, &c);
}

static int start_source(profile_get *g, const char *csrc, char *err, size_t err_cap)
{
    mqtt5_credentials_provider *p = g->p;
    int rc;
    if (!strcasecmp(csrc, "Environment")) {
        rc = mqtt5_credentials_provider_new_environment(&p->opts, &g->source);
    } else if (!strcasecmp(csrc, "Ec2InstanceMetadata")) {
        rc = mqtt5_credentials_provider_new_imds(&p->opts, NULL, &g->source);
    } else if (!strcasecmp(csrc, "EcsContainer")) {
        rc = mqtt5_credentials_provider_new_ecs(&p->opts, &g->source);
    } else {
        snprintf(err, err_cap,
                 "profile `%s`: credential_source `%s` is not Environment, Ec2InstanceMetadata "
                 "or EcsContainer",
                 mqtt5_profile_name(g->base_profile), csrc);
        return MQTT5_ERR_MALFORMED;
    }
    if (!rc) rc = mqtt5_cp_get_from(p, g->source, base_answer, g);
    if (rc)
        snprintf(err, err_cap, "profile `%s`: credential_source `%s`: %s",
                 mqtt5_profile_name(g->base_profile), csrc, mqtt5_error_str(rc));
    return rc;
}

static int start_base(profile_get *g, char *err, size_t err_cap)
{
    mqtt5_credentials_provider *p = g->p;
    const mqtt5_profile *pr = g->base_profile;
    const char *pname = mqtt5_profile_name(pr);
    bool io = g->base != BASE_STATIC || g->role_count;
    if (io && !p->loop) {
        snprintf(err, err_cap, "profile `%s`: needs an event loop group (network or process)",
                 pname);
        return MQTT5_ERR_INVALID_ARGUMENT;
    }
    switch (g->base) {
    case BASE_STATIC: {
        mqtt5_credentials c = {mqtt5_profile_get(pr, "aws_access_key_id"),
                               mqtt5_profile_get(pr, "aws_secret_access_key"),
                               mqtt5_profile_get(pr, "aws_session_token"),
                               mqtt5_profile_get(pr, "aws_account_id"),
                               MQTT5_CREDENTIALS_NO_EXPIRY,
                               "profile"};
        if (c.session_token && !*c.session_token) c.session_token = NULL;
        if (c.account_id && !*c.account_id) c.account_id = NULL;
        step_done(g, &c);
        return 0;
    }
    case BASE_PROCESS:
        return mqtt5_process_run(&p->alloc, p->loop, mqtt5_profile_get(pr, "credential_process"), 0,
                                 0, process_answer, g, NULL);
    case BASE_WEB_IDENTITY: {
        const char *file = mqtt5_profile_get(pr, "web_identity_token_file");
        char *token = NULL;
        size_t len = 0;
        int rc = mqtt5_cp_read_file(p, file, &token, &len, err, err_cap);
        if (rc) return rc;
        while (len && (token[len - 1] == '\n' || token[len - 1] == '\r'))
            token[--len] = '\0';
        char session[64];
        snprintf(session, sizeof session, "mqtt5-%lld", (long long)mqtt5_cp_now(p));
        const char *sn = mqtt5_profile_get(pr, "role_session_name");
        mqtt5_sts_request req = {0};
        req.region = g->region;
        req.role_arn = mqtt5_profile_get(pr, "role_arn");
        req.session_name = sn ? sn : session;
        req.web_identity_token = token;
        rc = mqtt5_sts_assume_role_with_web_identity(p, &req, web_identity_answer, g);
        mqtt5_cp_free_file(p, token, len);
        if (rc)
            snprintf(err, err_cap, "profile `%s`: STS AssumeRoleWithWebIdentity: %s", pname,
                     mqtt5_error_str(rc));
        return rc;
    }
    case BASE_SOURCE:
        return start_source(g, mqtt5_profile_get(pr, "credential_source"), err, err_cap);
    }
    return MQTT5_ERR_INVALID_STATE;
}

static void profile_get_fn(mqtt5_credentials_provider *p, mqtt5_credentials_done_fn done,
                           void *user)
{
    profile_impl *impl = p->impl;
    profile_get *g = p->alloc.allocate(p->alloc.ctx, sizeof *g);
    if (!g) {
        mqtt5_cp_fail(done, user, MQTT5_ERR_NOMEM, "profile: out of memory");
        return;
    }
    memset(g, 0, sizeof *g);
    g->p = p;
    g->done = done;
    g->user = user;
    if (mqtt5_profile_set_new(&p->alloc, &g->set)) {
        finish(g, MQTT5_ERR_NOMEM, NULL, "profile: out of memory");
        return;
    }
    char err[1024] = "";
    mqtt5_cp_profile_files files; /* the files are read again at every get */
    int rc = mqtt5_cp_profile_load(p, impl->config_file, impl->credentials_file, impl->profile_name,
                                   g->set, &files, err, sizeof err);
    if (rc) {
        finish(g, rc, NULL, "%s", err);
        return;
    }
    if (!files.have_config && !files.have_credentials) {
        finish(g, MQTT5_ERR_PROVIDER_NOT_ENABLED, NULL,
               "profile: not enabled (no config file `%s` nor credentials file `%s`)", files.config,
               files.credentials);
        return;
    }
    const char *name = files.profile;
    rc = resolve(g, name, err, sizeof err);
    if (rc) {
        finish(g, rc, NULL, "%s", err);
        return;
    }
    const mqtt5_profile *top = mqtt5_profile_set_find(g->set, MQTT5_PROFILE_SECTION_PROFILE, name);
    g->region = mqtt5_cp_region(p, top ? mqtt5_profile_get(top, "region") : NULL);
    rc = start_base(g, err, sizeof err);
    if (rc) finish(g, rc, NULL, "%s", err[0] ? err : mqtt5_error_str(rc));
}

static void profile_destroy(mqtt5_credentials_provider *p)
{
    profile_impl *impl = p->impl;
    mqtt5_cp_strfree(p, impl->profile_name);
    mqtt5_cp_strfree(p, impl->config_file);
    mqtt5_cp_strfree(p, impl->credentials_file);
    p->alloc.release(p->alloc.ctx, impl, sizeof *impl);
}

static const mqtt5_credentials_provider_vtable profile_vt = {"profile", profile_get_fn,
                                                             profile_destroy};

int mqtt5_credentials_provider_new_profile(const mqtt5_credentials_options *o,
                                           const mqtt5_credentials_profile_options *po,
                                           mqtt5_credentials_provider **out)
{
    const mqtt5_allocator *a = o && o->allocator ? o->allocator : mqtt5_allocator_libc();
    profile_impl *impl = a->allocate(a->ctx, sizeof *impl);
    if (!impl) return MQTT5_ERR_NOMEM;
    memset(impl, 0, sizeof *impl);
    int rc = mqtt5_cp_new(o, &profile_vt, false, impl, out);
    if (rc) {
        a->release(a->ctx, impl, sizeof *impl);
        return rc;
    }
    mqtt5_credentials_provider *p = *out;
    if (po && ((po->profile_name && !(impl->profile_name = mqtt5_cp_strdup(p, po->profile_name))) ||
               (po->config_file && !(impl->config_file = mqtt5_cp_strdup(p, po->config_file))) ||
               (po->credentials_file &&
                !(impl->credentials_file = mqtt5_cp_strdup(p, po->credentials_file))))) {
        mqtt5_credentials_provider_release(p);
        *out = NULL;
        return MQTT5_ERR_NOMEM;
    }
    return 0;
}
