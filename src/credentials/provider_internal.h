/*
 * credentials/provider_internal.h - what every credentials provider is made of, and the helpers
 * they share: a vtable (name, get, destroy), a reference count, the options copied at creation
 * (allocator, event-loop group and the loop the provider is pinned to, HTTP options, the
 * "system" seam for environment, files and clock), and a lazily created HTTP client.
 *
 * Threading: mqtt5_credentials_provider_get() hops to the provider's loop thread when it has one
 * (providers created with an event-loop group), so a vtable `get` of such a provider always
 * runs there, and so do its HTTP calls and its `done`. Providers without a group (static,
 * environment) run `get` on the caller's thread. Each get holds a reference until its done ran.
 */
#ifndef MQTT5_CREDENTIALS_PROVIDER_INTERNAL_H
#define MQTT5_CREDENTIALS_PROVIDER_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "common/wipe.h"
#include "mqtt5/credentials.h"

struct mqtt5_loop;
struct mqtt5_http_client;

typedef struct mqtt5_credentials_provider_vtable {
    const char *name; /* "environment", "profile", ... */
    /* Calls done exactly once, before returning or later (on the provider's loop thread). */
    void (*get)(mqtt5_credentials_provider *p, mqtt5_credentials_done_fn done, void *user);
    /* The last reference is gone (on the loop thread if the provider has a loop): release what
     * `impl` holds. The framework frees the HTTP client, options and the provider itself. */
    void (*destroy)(mqtt5_credentials_provider *p);
} mqtt5_credentials_provider_vtable;

struct mqtt5_credentials_provider {
    const mqtt5_credentials_provider_vtable *vt;
    _Atomic int refs;
    mqtt5_allocator alloc;
    mqtt5_event_loop_group *group;  /* referenced; NULL for providers without I/O */
    struct mqtt5_loop *loop;        /* the loop of group this provider runs on */
    mqtt5_credentials_options opts; /* deep copy: http strings, connect_to, system */
    mqtt5_credentials_system sys;   /* opts.system or the process's; never NULL members */
    struct mqtt5_http_client *http; /* created at first use, on the loop thread */
    void *impl;
};

/*
 * Create the common part: copies `o` (NULL = defaults), takes a group reference when
 * `needs_loop` (MQTT5_ERR_INVALID_ARGUMENT naming "event_loop_group" if it is missing) and
 * pins a loop. `impl` belongs to the caller until destroy.
 */
int mqtt5_cp_new(const mqtt5_credentials_options *o, const mqtt5_credentials_provider_vtable *vt,
                 bool needs_loop, void *impl, mqtt5_credentials_provider **out);

/* Environment, files and clock through the system seam. read_file: 0, MQTT5_ERR_FILE (detail
 * "failed to read `path`: <strerror>" into err) or NOMEM; free with mqtt5_cp_free_file. */
const char *mqtt5_cp_getenv(const mqtt5_credentials_provider *p, const char *name);
/* getenv, but a value that is empty or only blanks counts as unset (NULL). */
const char *mqtt5_cp_getenv_nonempty(const mqtt5_credentials_provider *p, const char *name);
int mqtt5_cp_read_file(const mqtt5_credentials_provider *p, const char *path, char **out,
                       size_t *len, char *err, size_t err_cap);
void mqtt5_cp_free_file(const mqtt5_credentials_provider *p, char *buf, size_t len);
int64_t mqtt5_cp_now(const mqtt5_credentials_provider *p);

/* The provider's HTTP client (loop thread only; created on first call). NULL on NOMEM. */
struct mqtt5_http_client *mqtt5_cp_http(mqtt5_credentials_provider *p);

/* Get from `source` with the answer delivered on p's loop thread (copied across when source
 * answers on another thread). 0 or a negative error (done is then never called). */
int mqtt5_cp_get_from(mqtt5_credentials_provider *p, mqtt5_credentials_provider *source,
                      mqtt5_credentials_done_fn done, void *user);

/* Call done(user, err, NULL, detail formatted like printf). */
void mqtt5_cp_fail(mqtt5_credentials_done_fn done, void *user, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The region: AWS_REGION, then AWS_DEFAULT_REGION, then `profile_region` (may be NULL); NULL
 * if none. */
const char *mqtt5_cp_region(const mqtt5_credentials_provider *p, const char *profile_region);

/* strdup/free through the provider's allocator (free wipes). */
char *mqtt5_cp_strdup(const mqtt5_credentials_provider *p, const char *s);
void mqtt5_cp_strfree(const mqtt5_credentials_provider *p, char *s);

#endif
