/*
 * credentials/provider_chain.c - a chain of providers tried in order: the first that supplies
 * credentials wins. A provider that is not configured here (MQTT5_ERR_PROVIDER_NOT_ENABLED)
 * passes to the next; any other failure ends the get with that failure (as the AWS SDKs do: a
 * profile that names a role it cannot assume must not silently fall through to IMDS). The
 * detail of a failed get names every provider tried and why it gave nothing.
 */
#include <stdio.h>
#include <string.h>

#include "credentials/provider_internal.h"
#include "mqtt5/error.h"

typedef struct chain {
    size_t count;
    mqtt5_credentials_provider *providers[];
} chain;

typedef struct chain_get {
    mqtt5_credentials_provider *p;
    mqtt5_credentials_done_fn done;
    void *user;
    size_t next;
    size_t used;
    char detail[2048];
} chain_get;

static void chain_step(chain_get *g);

static void chain_finish(chain_get *g, int err, const mqtt5_credentials *creds, const char *detail)
{
    mqtt5_credentials_provider *p = g->p;
    mqtt5_credentials_done_fn done = g->done;
    void *user = g->user;
    char msg[2200]; /* detail may point into g, which is freed before done runs */
    snprintf(msg, sizeof msg, "%.2150s", detail ? detail : "");
    p->alloc.release(p->alloc.ctx, g, sizeof *g);
    done(user, err, creds, msg);
}

static void append_reason(chain_get *g, const char *detail)
{
    if (g->used >= sizeof g->detail - 1) return;
    int n = snprintf(g->detail + g->used, sizeof g->detail - g->used, "%s%s", g->used ? "; " : "",
                     detail && *detail ? detail : "not enabled");
    if (n > 0) g->used += (size_t)n;
    if (g->used > sizeof g->detail - 1) g->used = sizeof g->detail - 1;
}

static void chain_answer(void *arg, int err, const mqtt5_credentials *creds, const char *detail)
{
    chain_get *g = arg;
    if (!err) {
        chain_finish(g, 0, creds, NULL);
        return;
    }
    if (err != MQTT5_ERR_PROVIDER_NOT_ENABLED) {
        chain_finish(g, err, NULL, detail);
        return;
    }
    append_reason(g, detail);
    chain_step(g);
}

static void chain_step(chain_get *g)
{
    chain *c = g->p->impl;
    while (g->next < c->count) {
        mqtt5_credentials_provider *sub = c->providers[g->next++];
        int rc = mqtt5_cp_get_from(g->p, sub, chain_answer, g);
        if (!rc) return;
        char why[256];
        snprintf(why, sizeof why, "%s: %s", sub->vt->name, mqtt5_error_str(rc));
        append_reason(g, why);
    }
    char msg[2100];
    snprintf(msg, sizeof msg, "no provider in the chain supplied credentials: %s", g->detail);
    chain_finish(g, MQTT5_ERR_PROVIDER_NOT_ENABLED, NULL, msg);
}

static void chain_get_fn(mqtt5_credentials_provider *p, mqtt5_credentials_done_fn done, void *user)
{
    chain_get *g = p->alloc.allocate(p->alloc.ctx, sizeof *g);
    if (!g) {
        mqtt5_cp_fail(done, user, MQTT5_ERR_NOMEM, "chain: out of memory");
        return;
    }
    memset(g, 0, sizeof *g);
    g->p = p;
    g->done = done;
    g->user = user;
    chain_step(g);
}

static void chain_destroy(mqtt5_credentials_provider *p)
{
    chain *c = p->impl;
    for (size_t i = 0; i < c->count; i++)
        mqtt5_credentials_provider_release(c->providers[i]);
    p->alloc.release(p->alloc.ctx, c, sizeof *c + sizeof *c->providers * c->count);
}

static const mqtt5_credentials_provider_vtable chain_vt = {"chain", chain_get_fn, chain_destroy};

int mqtt5_credentials_provider_new_chain(const mqtt5_credentials_options *o,
                                         mqtt5_credentials_provider *const *providers, size_t count,
                                         mqtt5_credentials_provider **out)
{
    if (!out || !count || !providers) return MQTT5_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < count; i++)
        if (!providers[i]) return MQTT5_ERR_INVALID_ARGUMENT;
    const mqtt5_allocator *a = o && o->allocator ? o->allocator : mqtt5_allocator_libc();
    size_t size = sizeof(chain) + sizeof(mqtt5_credentials_provider *) * count;
    chain *c = a->allocate(a->ctx, size);
    if (!c) return MQTT5_ERR_NOMEM;
    c->count = count;
    for (size_t i = 0; i < count; i++)
        c->providers[i] = mqtt5_credentials_provider_acquire(providers[i]);
    int rc = mqtt5_cp_new(o, &chain_vt, false, c, out);
    if (rc) {
        for (size_t i = 0; i < count; i++)
            mqtt5_credentials_provider_release(c->providers[i]);
        a->release(a->ctx, c, size);
    }
    return rc;
}
