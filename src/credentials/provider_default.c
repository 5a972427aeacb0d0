/*
 * credentials/provider_default.c - the AWS default credentials chain: environment, then the
 * profile (AWS_PROFILE or the option, "default" otherwise), then STS web identity
 * (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN), then the container endpoint when
 * AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI is set, else EC2 instance metadata; the
 * whole chain behind the caching wrapper (refresh 5 minutes before expiry).
 */
#include <stdlib.h>
#include <string.h>

#include "credentials/provider_internal.h"
#include "mqtt5/error.h"

static const char *opt_getenv(const mqtt5_credentials_options *o, const char *name)
{
    const char *v =
        o->system && o->system->getenv ? o->system->getenv(o->system->user, name) : getenv(name);
    for (const char *c = v; c && *c; c++) /* blank = unset, as mqtt5_cp_getenv_nonempty */
        if (*c != ' ' && *c != '\t') return v;
    return NULL;
}

int mqtt5_credentials_provider_new_default_chain(const mqtt5_credentials_options *o,
                                                 const mqtt5_credentials_default_chain_options *d,
                                                 mqtt5_credentials_provider **out)
{
    if (!o || !o->event_loop_group || !out) return MQTT5_ERR_INVALID_ARGUMENT;
    mqtt5_credentials_provider *list[4] = {0};
    mqtt5_credentials_provider *chain = NULL;
    mqtt5_credentials_profile_options po = {0};
    po.profile_name = d ? d->profile_name : NULL;
    int rc = mqtt5_credentials_provider_new_environment(o, &list[0]);
    if (!rc) rc = mqtt5_credentials_provider_new_profile(o, &po, &list[1]);
    if (!rc) rc = mqtt5_credentials_provider_new_web_identity(o, NULL, &list[2]);
    if (!rc) {
        if (opt_getenv(o, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") ||
            opt_getenv(o, "AWS_CONTAINER_CREDENTIALS_FULL_URI"))
            rc = mqtt5_credentials_provider_new_ecs(o, &list[3]);
        else
            rc = mqtt5_credentials_provider_new_imds(o, NULL, &list[3]);
    }
    if (!rc) rc = mqtt5_credentials_provider_new_chain(o, list, 4, &chain);
    for (size_t i = 0; i < 4; i++)
        mqtt5_credentials_provider_release(list[i]);
    if (rc) return rc;
    rc = mqtt5_credentials_provider_new_cached(o, NULL, chain, out);
    mqtt5_credentials_provider_release(chain);
    return rc;
}
