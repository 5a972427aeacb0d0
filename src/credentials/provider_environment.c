/*
 * credentials/provider_environment.c - credentials from the environment: AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY (an empty or blank value counts as unset), AWS_SESSION_TOKEN,
 * AWS_ACCOUNT_ID. Read at every get, on the caller's thread. Neither variable set: not enabled (a
 * chain moves on); only one of them set: an error naming the missing one.
 */
#include <string.h>

#include "credentials/provider_internal.h"
#include "mqtt5/error.h"

static void env_get(mqtt5_credentials_provider *p, mqtt5_credentials_done_fn done, void *user)
{
    const char *akid = mqtt5_cp_getenv_nonempty(p, "AWS_ACCESS_KEY_ID");
    const char *secret = mqtt5_cp_getenv_nonempty(p, "AWS_SECRET_ACCESS_KEY");
    if (!akid && !secret) {
        mqtt5_cp_fail(done, user, MQTT5_ERR_PROVIDER_NOT_ENABLED,
                      "environment: not enabled (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                      "unset or empty)");
        return;
    }
    if (!akid || !secret) {
        mqtt5_cp_fail(done, user, MQTT5_ERR_PROVIDER_NOT_ENABLED,
                      "environment: not enabled (%s is set but %s is unset or empty)",
                      akid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                      akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        return;
    }
    mqtt5_credentials c = {akid,
                           secret,
                           mqtt5_cp_getenv_nonempty(p, "AWS_SESSION_TOKEN"),
                           mqtt5_cp_getenv_nonempty(p, "AWS_ACCOUNT_ID"),
                           MQTT5_CREDENTIALS_NO_EXPIRY,
                           "environment"};
    done(user, 0, &c, NULL);
}

static const mqtt5_credentials_provider_vtable env_vt = {"environment", env_get, NULL};

int mqtt5_credentials_provider_new_environment(const mqtt5_credentials_options *o,
                                               mqtt5_credentials_provider **out)
{
    mqtt5_credentials_options plain;
    if (o)
        plain = *o;
    else
        mqtt5_credentials_options_init(&plain);
    plain.event_loop_group = NULL;
    return mqtt5_cp_new(&plain, &env_vt, false, NULL, out);
}
