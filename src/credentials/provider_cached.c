/*
 * credentials/provider_cached.c - a caching wrapper: keeps the source's last credentials until
 * `refresh_before_s` before they expire (credentials without an expiry live `default_ttl_s`),
 * shares one fetch among gets that arrive while it runs, and never caches a failure. Credentials
 * the source hands over already expired fail with MQTT5_ERR_CREDENTIALS_EXPIRED.
 *
 * Thread-agnostic: a mutex guards the cache and the waiter list; callbacks run without it.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "credentials/provider_internal.h"
#include "mqtt5/error.h"

typedef struct waiter waiter;
struct waiter {
    waiter *next;
    mqtt5_credentials_done_fn done;
    void *user;
};

typedef struct cache {
    mqtt5_credentials_provider *source;
    mqtt5_credentials_cached_options opts;
    pthread_mutex_t mu;
    mqtt5_credentials *creds;         /* under mu */
    int64_t refresh_at;               /* under mu: Unix seconds */
    bool fetching;                    /* under mu */
    waiter *waiters;                  /* under mu */
    mqtt5_credentials_provider *self; /* for the fetch callback */
} cache;

static void cache_fetched(void *arg, int err, const mqtt5_credentials *creds, const char *detail)
{
    mqtt5_credentials_provider *p = arg;
    cache *c = p->impl;
    int64_t now = mqtt5_cp_now(p);
    char why[1024];
    snprintf(why, sizeof why, "%s", detail ? detail : "");
    mqtt5_credentials *copy = NULL;
    if (!err && creds->expiration != MQTT5_CREDENTIALS_NO_EXPIRY && creds->expiration <= now) {
        err = MQTT5_ERR_CREDENTIALS_EXPIRED;
        snprintf(why, sizeof why, "%s: credentials expired %lld s ago", creds->provider,
                 (long long)(now - creds->expiration));
    }
    if (!err && mqtt5_credentials_copy(&p->alloc, creds, &copy)) {
        err = MQTT5_ERR_NOMEM;
        snprintf(why, sizeof why, "cache: out of memory");
    }
    pthread_mutex_lock(&c->mu);
    waiter *list = c->waiters;
    c->waiters = NULL;
    c->fetching = false;
    if (!err) {
        mqtt5_credentials_free(&p->alloc, c->creds);
        c->creds = copy;
        int64_t refresh;
        if (creds->expiration == MQTT5_CREDENTIALS_NO_EXPIRY)
            refresh = c->opts.default_ttl_s ? now + c->opts.default_ttl_s : INT64_MAX;
        else
            refresh = creds->expiration - (int64_t)c->opts.refresh_before_s;
        c->refresh_at = refresh;
    }
    pthread_mutex_unlock(&c->mu);
    while (list) {
        waiter *w = list;
        list = w->next;
        w->done(w->user, err, err ? NULL : creds, err ? why : NULL);
        p->alloc.release(p->alloc.ctx, w, sizeof *w);
    }
    mqtt5_credentials_provider_release(p); /* the fetch's reference */
}

static void cache_get(mqtt5_credentials_provider *p, mqtt5_credentials_done_fn done, void *user)
{
    cache *c = p->impl;
    int64_t now = mqtt5_cp_now(p);
    pthread_mutex_lock(&c->mu);
    if (c->creds && now < c->refresh_at) {
        mqtt5_credentials *copy = NULL;
        int rc = mqtt5_credentials_copy(&p->alloc, c->creds, &copy);
        pthread_mutex_unlock(&c->mu);
        if (rc) {
            mqtt5_cp_fail(done, user, rc, "cache: out of memory");
            return;
        }
        done(user, 0, copy, NULL);
        mqtt5_credentials_free(&p->alloc, copy);
        return;
    }
    waiter *w = p->alloc.allocate(p->alloc.ctx, sizeof *w);
    if (!w) {
        pthread_mutex_unlock(&c->mu);
        mqtt5_cp_fail(done, user, MQTT5_ERR_NOMEM, "cache: out of memory");
        return;
    }
    w->done = done;
    w->user = user;
    w->next = c->waiters;
    c->waiters = w;
    bool start = !c->fetching;
    c->fetching = true;
    pthread_mutex_unlock(&c->mu);
    if (!start) return;
    mqtt5_credentials_provider_acquire(p);
    int rc = mqtt5_credentials_provider_get(c->source, cache_fetched, p);
    if (rc) {
        char why[128];
        snprintf(why, sizeof why, "cache: source get failed: %s", mqtt5_error_str(rc));
        pthread_mutex_lock(&c->mu);
        waiter *list = c->waiters;
        c->waiters = NULL;
        c->fetching = false;
        pthread_mutex_unlock(&c->mu);
        while (list) {
            waiter *x = list;
            list = x->next;
            x->done(x->user, rc, NULL, why);
            p->alloc.release(p->alloc.ctx, x, sizeof *x);
        }
        mqtt5_credentials_provider_release(p);
    }
}

static void cache_destroy(mqtt5_credentials_provider *p)
{
    cache *c = p->impl;
    mqtt5_credentials_free(&p->alloc, c->creds);
    mqtt5_credentials_provider_release(c->source);
    pthread_mutex_destroy(&c->mu);
    p->alloc.release(p->alloc.ctx, c, sizeof *c);
}

static const mqtt5_credentials_provider_vtable cache_vt = {"cached", cache_get, cache_destroy};

int mqtt5_credentials_provider_new_cached(const mqtt5_credentials_options *o,
                                          const mqtt5_credentials_cached_options *co,
                                          mqtt5_credentials_provider *source,
                                          mqtt5_credentials_provider **out)
{
    if (!source || !out) return MQTT5_ERR_INVALID_ARGUMENT;
    const mqtt5_allocator *a = o && o->allocator ? o->allocator : mqtt5_allocator_libc();
    cache *c = a->allocate(a->ctx, sizeof *c);
    if (!c) return MQTT5_ERR_NOMEM;
    memset(c, 0, sizeof *c);
    c->opts.refresh_before_s = 300;
    c->opts.default_ttl_s = 900;
    if (co) c->opts = *co;
    pthread_mutex_init(&c->mu, NULL);
    c->source = mqtt5_credentials_provider_acquire(source);
    mqtt5_credentials_options plain;
    if (o)
        plain = *o;
    else
        mqtt5_credentials_options_init(&plain);
    plain.event_loop_group = NULL; /* answers on whatever thread the source answers */
    int rc = mqtt5_cp_new(&plain, &cache_vt, false, c, out);
    if (rc) {
        mqtt5_credentials_provider_release(source);
        pthread_mutex_destroy(&c->mu);
        a->release(a->ctx, c, sizeof *c);
    }
    return rc;
}
