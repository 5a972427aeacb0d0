/*
 * credentials/provider_static.c - the static provider: fixed credentials given at creation,
 * copied (and wiped when the provider goes), answered at once on the caller's thread.
 */
#include <string.h>

#include "credentials/provider_internal.h"
#include "mqtt5/error.h"

static void static_get(mqtt5_credentials_provider *p, mqtt5_credentials_done_fn done, void *user)
{
    done(user, 0, p->impl, NULL);
}

static void static_destroy(mqtt5_credentials_provider *p)
{
    mqtt5_credentials_free(&p->alloc, p->impl);
}

static const mqtt5_credentials_provider_vtable static_vt = {"static", static_get, static_destroy};

int mqtt5_credentials_provider_new_static(const mqtt5_credentials_options *o,
                                          const char *access_key_id, const char *secret_access_key,
                                          const char *session_token,
                                          mqtt5_credentials_provider **out)
{
    if (!access_key_id || !*access_key_id || !secret_access_key || !*secret_access_key || !out)
        return MQTT5_ERR_INVALID_ARGUMENT;
    mqtt5_credentials c = {access_key_id,
                           secret_access_key,
                           session_token && *session_token ? session_token : NULL,
                           NULL,
                           MQTT5_CREDENTIALS_NO_EXPIRY,
                           "static"};
    const mqtt5_allocator *a = o && o->allocator ? o->allocator : mqtt5_allocator_libc();
    mqtt5_credentials *copy;
    int rc = mqtt5_credentials_copy(a, &c, &copy);
    if (rc) return rc;
    /* no I/O: no loop, even when the options name a group */
    mqtt5_credentials_options plain;
    if (o)
        plain = *o;
    else
        mqtt5_credentials_options_init(&plain);
    plain.event_loop_group = NULL;
    rc = mqtt5_cp_new(&plain, &static_vt, false, copy, out);
    if (rc) mqtt5_credentials_free(a, copy);
    return rc;
}
