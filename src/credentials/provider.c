/*
 * credentials/provider.c - the part every credentials provider shares: options (defaults and
 * deep copy), the system seam (process environment, files, clock), reference counting, the hop
 * of a get onto the provider's loop thread, the deferred destroy, and credentials copies.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "credentials/provider_internal.h"
#include "http/http_client.h"
#include "mqtt5/error.h"
#include "runtime/loop.h"

/* ---- credentials copies ------------------------------------------------------------------ */

static size_t str_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

static size_t credentials_size(const mqtt5_credentials *c)
{
    return sizeof *c + str_size(c->access_key_id) + str_size(c->secret_access_key) +
           str_size(c->session_token) + str_size(c->account_id);
}

static const char *place(char **cursor, const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    memcpy(*cursor, s, n);
    const char *out = *cursor;
    *cursor += n;
    return out;
}

int mqtt5_credentials_copy(const mqtt5_allocator *a, const mqtt5_credentials *in,
                           mqtt5_credentials **out)
{
    if (!in || !out || !in->access_key_id || !in->secret_access_key)
        return MQTT5_ERR_INVALID_ARGUMENT;
    if (!a) a = mqtt5_allocator_libc();
    size_t size = credentials_size(in);
    mqtt5_credentials *c = a->allocate(a->ctx, size);
    if (!c) return MQTT5_ERR_NOMEM;
    char *cursor = (char *)(c + 1);
    c->access_key_id = place(&cursor, in->access_key_id);
    c->secret_access_key = place(&cursor, in->secret_access_key);
    c->session_token = place(&cursor, in->session_token);
    c->account_id = place(&cursor, in->account_id);
    c->expiration = in->expiration;
    c->provider = in->provider;
    *out = c;
    return 0;
}

void mqtt5_credentials_free(const mqtt5_allocator *a, mqtt5_credentials *c)
{
    if (!c) return;
    if (!a) a = mqtt5_allocator_libc();
    size_t size = credentials_size(c);
    mqtt5_wipe(c, size);
    a->release(a->ctx, c, size);
}

/* ---- options ----------------------------------------------------------------------------- */

void mqtt5_credentials_http_options_init(mqtt5_credentials_http_options *o)
{
    memset(o, 0, sizeof *o);
    o->connect_timeout_ms = 2000;
    o->timeout_ms = 5000;
    o->max_attempts = 3;
}

void mqtt5_credentials_options_init(mqtt5_credentials_options *o)
{
    memset(o, 0, sizeof *o);
    mqtt5_credentials_http_options_init(&o->http);
}

char *mqtt5_cp_strdup(const mqtt5_credentials_provider *p, const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = p->alloc.allocate(p->alloc.ctx, n);
    if (d) memcpy(d, s, n);
    return d;
}

void mqtt5_cp_strfree(const mqtt5_credentials_provider *p, char *s)
{
    if (!s) return;
    size_t n = strlen(s) + 1;
    mqtt5_wipe(s, n);
    p->alloc.release(p->alloc.ctx, s, n);
}

/* ---- the process as the system ----------------------------------------------------------- */

static const char *process_getenv(void *user, const char *name)
{
    (void)user;
    return getenv(name);
}

static int process_read_file(void *user, const mqtt5_allocator *alloc, const char *path, char **out,
                             size_t *len)
{
    (void)user;
    FILE *f = fopen(path, "rb");
    if (!f) return MQTT5_ERR_FILE;
    size_t cap = 4096, n = 0;
    char *buf = alloc->allocate(alloc->ctx, cap);
    if (!buf) {
        fclose(f);
        return MQTT5_ERR_NOMEM;
    }
    for (;;) {
        if (n + 1 >= cap) {
            if (cap >= (size_t)16 << 20) { /* no credential file is this large */
                mqtt5_wipe(buf, n);
                alloc->release(alloc->ctx, buf, cap);
                fclose(f);
                errno = EFBIG;
                return MQTT5_ERR_FILE;
            }
            char *bigger = alloc->allocate(alloc->ctx, cap * 2);
            if (!bigger) {
                mqtt5_wipe(buf, n);
                alloc->release(alloc->ctx, buf, cap);
                fclose(f);
                return MQTT5_ERR_NOMEM;
            }
            memcpy(bigger, buf, n);
            mqtt5_wipe(buf, n);
            alloc->release(alloc->ctx, buf, cap);
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) break;
    }
    int failed = ferror(f);
    int saved = errno;
    fclose(f);
    if (failed) {
        mqtt5_wipe(buf, n);
        alloc->release(alloc->ctx, buf, cap);
        errno = saved;
        return MQTT5_ERR_FILE;
    }
    /* hand back an exact-size buffer so mqtt5_cp_free_file knows its size */
    char *exact = alloc->allocate(alloc->ctx, n + 1);
    if (!exact) {
        mqtt5_wipe(buf, n);
        alloc->release(alloc->ctx, buf, cap);
        return MQTT5_ERR_NOMEM;
    }
    memcpy(exact, buf, n);
    exact[n] = '\0';
    mqtt5_wipe(buf, n);
    alloc->release(alloc->ctx, buf, cap);
    *out = exact;
    *len = n;
    return 0;
}

static int64_t process_now(void *user)
{
    (void)user;
    return (int64_t)time(NULL);
}

const char *mqtt5_cp_getenv(const mqtt5_credentials_provider *p, const char *name)
{
    return p->sys.getenv(p->sys.user, name);
}

const char *mqtt5_cp_getenv_nonempty(const mqtt5_credentials_provider *p, const char *name)
{
    const char *v = mqtt5_cp_getenv(p, name);
    if (!v) return NULL;
    for (const char *c = v; *c; c++) /* "", " " and tabs count as unset, as in the AWS SDKs */
        if (*c != ' ' && *c != '\t') return v;
    return NULL;
}

int mqtt5_cp_read_file(const mqtt5_credentials_provider *p, const char *path, char **out,
                       size_t *len, char *err, size_t err_cap)
{
    errno = 0;
    int rc = p->sys.read_file(p->sys.user, &p->alloc, path, out, len);
    if (rc == MQTT5_ERR_FILE && err && err_cap)
        snprintf(err, err_cap, "failed to read `%s`: %s", path,
                 errno ? strerror(errno) : "unreadable");
    else if (rc && err && err_cap)
        snprintf(err, err_cap, "failed to read `%s`: %s", path, mqtt5_error_str(rc));
    return rc;
}

void mqtt5_cp_free_file(const mqtt5_credentials_provider *p, char *buf, size_t len)
{
    if (!buf) return;
    mqtt5_wipe(buf, len + 1);
    p->alloc.release(p->alloc.ctx, buf, len + 1);
}

int64_t mqtt5_cp_now(const mqtt5_credentials_provider *p)
{
    return p->sys.now(p->sys.user);
}

const char *mqtt5_cp_region(const mqtt5_credentials_provider *p, const char *profile_region)
{
    const char *r = mqtt5_cp_getenv_nonempty(p, "AWS_REGION");
    if (!r) r = mqtt5_cp_getenv_nonempty(p, "AWS_DEFAULT_REGION");
    if (!r && profile_region && *profile_region) r = profile_region;
    return r;
}

void mqtt5_cp_fail(mqtt5_credentials_done_fn done, void *user, int err, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    done(user, err, NULL, detail);
}

/* ---- creation and the deep copy of options ----------------------------------------------- */

static void free_options_copy(mqtt5_credentials_provider *p)
{
    mqtt5_credentials_http_options *h = &p->opts.http;
    mqtt5_cp_strfree(p, (char *)h->proxy_url); /* may hold a proxy password: wiped */
    mqtt5_cp_strfree(p, (char *)h->proxy_ca_file);
    mqtt5_cp_strfree(p, (char *)h->ca_file);
    if (h->connect_to) {
        for (size_t i = 0; i < h->connect_to_count; i++)
            mqtt5_cp_strfree(p, (char *)h->connect_to[i]);
        p->alloc.release(p->alloc.ctx, (void *)h->connect_to,
                         sizeof *h->connect_to * h->connect_to_count);
    }
    memset(h, 0, sizeof *h);
}

static int copy_options(mqtt5_credentials_provider *p, const mqtt5_credentials_options *o)
{
    mqtt5_credentials_http_options *h = &p->opts.http;
    *h = o->http;
    h->proxy_url = h->proxy_ca_file = h->ca_file = NULL;
    h->connect_to = NULL;
    h->connect_to_count = 0;
    if ((o->http.proxy_url && !(h->proxy_url = mqtt5_cp_strdup(p, o->http.proxy_url))) ||
        (o->http.proxy_ca_file &&
         !(h->proxy_ca_file = mqtt5_cp_strdup(p, o->http.proxy_ca_file))) ||
        (o->http.ca_file && !(h->ca_file = mqtt5_cp_strdup(p, o->http.ca_file))))
        return MQTT5_ERR_NOMEM;
    if (o->http.connect_to_count) {
        if (!o->http.connect_to) return MQTT5_ERR_INVALID_ARGUMENT;
        const char **list =
            p->alloc.allocate(p->alloc.ctx, sizeof *list * o->http.connect_to_count);
        if (!list) return MQTT5_ERR_NOMEM;
        memset(list, 0, sizeof *list * o->http.connect_to_count);
        h->connect_to = list;
        h->connect_to_count = o->http.connect_to_count;
        for (size_t i = 0; i < o->http.connect_to_count; i++)
            if (!(list[i] = mqtt5_cp_strdup(p, o->http.connect_to[i]))) return MQTT5_ERR_NOMEM;
    }
    if (!h->connect_timeout_ms) h->connect_timeout_ms = 2000;
    if (!h->timeout_ms) h->timeout_ms = 5000;
    if (!h->max_attempts) h->max_attempts = 1;
    p->opts.system = NULL;
    p->sys.getenv = process_getenv;
    p->sys.read_file = process_read_file;
    p->sys.now = process_now;
    p->sys.user = NULL;
    if (o->system) {
        if (o->system->getenv) p->sys.getenv = o->system->getenv;
        if (o->system->read_file) p->sys.read_file = o->system->read_file;
        if (o->system->now) p->sys.now = o->system->now;
        p->sys.user = o->system->user;
        p->opts.system = &p->sys;
    }
    return 0;
}

static void provider_free_memory(void *arg)
{
    mqtt5_credentials_provider *p = arg;
    mqtt5_event_loop_group *g = p->group;
    free_options_copy(p);
    mqtt5_allocator a = p->alloc;
    mqtt5_wipe(p, sizeof *p);
    a.release(a.ctx, p, sizeof *p);
    if (g) mqtt5_event_loop_group_release(g, NULL, NULL);
}

int mqtt5_cp_new(const mqtt5_credentials_options *o, const mqtt5_credentials_provider_vtable *vt,
                 bool needs_loop, void *impl, mqtt5_credentials_provider **out)
{
    mqtt5_credentials_options defaults;
    if (!o) {
        mqtt5_credentials_options_init(&defaults);
        o = &defaults;
    }
    if (!out) return MQTT5_ERR_INVALID_ARGUMENT;
    if (needs_loop && !o->event_loop_group) return MQTT5_ERR_INVALID_ARGUMENT;
    const mqtt5_allocator *a = o->allocator ? o->allocator : mqtt5_allocator_libc();
    mqtt5_credentials_provider *p = a->allocate(a->ctx, sizeof *p);
    if (!p) return MQTT5_ERR_NOMEM;
    memset(p, 0, sizeof *p);
    p->vt = vt;
    atomic_init(&p->refs, 1);
    p->alloc = *a;
    p->opts.allocator = &p->alloc;
    p->impl = impl;
    int rc = copy_options(p, o);
    if (rc) {
        provider_free_memory(p);
        return rc;
    }
    if (o->event_loop_group) {
        p->group = mqtt5_event_loop_group_acquire(o->event_loop_group);
        p->opts.event_loop_group = p->group;
        p->loop = mqtt5_loop_group_pick(p->group);
    }
    *out = p;
    return 0;
}

struct mqtt5_http_client *mqtt5_cp_http(mqtt5_credentials_provider *p)
{
    if (!p->http && p->loop)
        if (mqtt5_http_client_new(&p->alloc, p->loop, &p->opts.http, &p->http)) p->http = NULL;
    return p->http;
}

/* ---- references and destroy -------------------------------------------------------------- */

typedef struct destroy_cmd {
    mqtt5_cmd cmd;
    mqtt5_credentials_provider *p;
} destroy_cmd;

static void provider_destroy_now(mqtt5_credentials_provider *p)
{
    if (p->vt->destroy) p->vt->destroy(p);
    if (p->http) {
        struct mqtt5_http_client *h = p->http;
        p->http = NULL;
        mqtt5_http_client_destroy(h, provider_free_memory, p);
    } else {
        provider_free_memory(p);
    }
}

static void run_destroy(mqtt5_cmd *cmd)
{
    destroy_cmd *d = (destroy_cmd *)cmd;
    mqtt5_credentials_provider *p = d->p;
    p->alloc.release(p->alloc.ctx, d, sizeof *d);
    provider_destroy_now(p);
}

mqtt5_credentials_provider *mqtt5_credentials_provider_acquire(mqtt5_credentials_provider *p)
{
    if (p) atomic_fetch_add(&p->refs, 1);
    return p;
}

void mqtt5_credentials_provider_release(mqtt5_credentials_provider *p)
{
    if (!p || atomic_fetch_sub(&p->refs, 1) != 1) return;
    if (!p->loop) {
        provider_destroy_now(p);
        return;
    }
    /* always through the loop's queue, never from inside a callback of the provider itself */
    destroy_cmd *d = p->alloc.allocate(p->alloc.ctx, sizeof *d);
    if (!d) { /* cannot defer: destroy here only if that is safe */
        if (mqtt5_loop_is_current(p->loop) || !p->http) provider_destroy_now(p);
        return;
    }
    memset(d, 0, sizeof *d);
    d->cmd.run = run_destroy;
    d->p = p;
    mqtt5_loop_post(p->loop, &d->cmd);
}

/* ---- get --------------------------------------------------------------------------------- */

typedef struct get_ctx {
    mqtt5_cmd cmd;
    mqtt5_credentials_provider *p;
    mqtt5_credentials_done_fn done;
    void *user;
} get_ctx;

static void get_done(void *arg, int err, const mqtt5_credentials *creds, const char *detail)
{
    get_ctx *g = arg;
    mqtt5_credentials_provider *p = g->p;
    mqtt5_credentials_done_fn done = g->done;
    void *user = g->user;
    p->alloc.release(p->alloc.ctx, g, sizeof *g);
    if (!err && (!creds || !creds->access_key_id || !creds->secret_access_key)) {
        done(user, MQTT5_ERR_INVALID_STATE, NULL, "provider returned no credentials");
    } else {
        done(user, err, err ? NULL : creds, detail ? detail : (err ? mqtt5_error_str(err) : ""));
    }
    mqtt5_credentials_provider_release(p);
}

static void run_get(mqtt5_cmd *cmd)
{
    get_ctx *g = (get_ctx *)cmd;
    g->p->vt->get(g->p, get_done, g);
}

int mqtt5_credentials_provider_get(mqtt5_credentials_provider *p, mqtt5_credentials_done_fn done,
                                   void *user)
{
    if (!p || !done) return MQTT5_ERR_INVALID_ARGUMENT;
    get_ctx *g = p->alloc.allocate(p->alloc.ctx, sizeof *g);
    if (!g) return MQTT5_ERR_NOMEM;
    memset(g, 0, sizeof *g);
    g->p = mqtt5_credentials_provider_acquire(p);
    g->done = done;
    g->user = user;
    if (p->loop && !mqtt5_loop_is_current(p->loop)) {
        g->cmd.run = run_get;
        mqtt5_loop_post(p->loop, &g->cmd);
    } else {
        p->vt->get(p, get_done, g);
    }
    return 0;
}

/* ---- get from another provider, answered on this provider's loop ------------------------- */

typedef struct hop_ctx {
    mqtt5_cmd cmd;
    mqtt5_credentials_provider *p;
    mqtt5_credentials_done_fn done;
    void *user;
    int err;
    mqtt5_credentials *creds; /* copy while hopping */
    char detail[1024];
} hop_ctx;

static void hop_finish(hop_ctx *h)
{
    mqtt5_credentials_provider *p = h->p;
    h->done(h->user, h->err, h->creds, h->detail);
    mqtt5_credentials_free(&p->alloc, h->creds);
    p->alloc.release(p->alloc.ctx, h, sizeof *h);
    mqtt5_credentials_provider_release(p);
}

static void run_hop(mqtt5_cmd *cmd)
{
    hop_finish((hop_ctx *)cmd);
}

static void hop_done(void *arg, int err, const mqtt5_credentials *creds, const char *detail)
{
    hop_ctx *h = arg;
    mqtt5_credentials_provider *p = h->p;
    if (!p->loop || mqtt5_loop_is_current(p->loop)) {
        mqtt5_credentials_done_fn done = h->done;
        void *user = h->user;
        p->alloc.release(p->alloc.ctx, h, sizeof *h);
        done(user, err, creds, detail);
        mqtt5_credentials_provider_release(p);
        return;
    }
    h->err = err;
    snprintf(h->detail, sizeof h->detail, "%s", detail ? detail : "");
    if (!err && mqtt5_credentials_copy(&p->alloc, creds, &h->creds)) {
        h->err = MQTT5_ERR_NOMEM;
        snprintf(h->detail, sizeof h->detail, "out of memory");
    }
    h->cmd.run = run_hop;
    mqtt5_loop_post(p->loop, &h->cmd);
}

int mqtt5_cp_get_from(mqtt5_credentials_provider *p, mqtt5_credentials_provider *source,
                      mqtt5_credentials_done_fn done, void *user)
{
    hop_ctx *h = p->alloc.allocate(p->alloc.ctx, sizeof *h);
    if (!h) return MQTT5_ERR_NOMEM;
    memset(h, 0, sizeof *h);
    h->p = mqtt5_credentials_provider_acquire(p);
    h->done = done;
    h->user = user;
    int rc = mqtt5_credentials_provider_get(source, hop_done, h);
    if (rc) {
        mqtt5_credentials_provider_release(p);
        p->alloc.release(p->alloc.ctx, h, sizeof *h);
    }
    return rc;
}
