/*
 * credentials/profile_values.c - a few settings of the selected profile for providers other
 * than the profile provider (the web identity provider's region, IMDS's
 * ec2_metadata_service_endpoint(_mode)): locate the shared config and credentials files, read
 * them through the provider's system seam, parse them, copy the values asked for. It does not
 * resolve credentials and keeps nothing between calls.
 */
#include <stdio.h>
#include <string.h>

#include "credentials/profile.h"
#include "credentials/provider_internal.h"
#include "credentials/providers.h"
#include "mqtt5/error.h"

#define PATH_CAP 4096

static const char *seam_getenv(void *user, const char *name)
{
    return mqtt5_cp_getenv(user, name);
}

/* Parse one file into the set; a file that cannot be read counts as absent. */
static int parse_file(const mqtt5_credentials_provider *p, mqtt5_profile_set *set,
                      mqtt5_profile_file_kind kind, const char *path, char *err, size_t err_cap)
{
    if (!*path) return 0;
    char *text = NULL;
    size_t len = 0;
    int rc = mqtt5_cp_read_file(p, path, &text, &len, NULL, 0);
    if (rc == MQTT5_ERR_FILE) return 0;
    if (rc) return rc;
    char reason[256] = "";
    rc = mqtt5_profile_set_parse(set, kind, text, len, reason, sizeof reason);
    mqtt5_cp_free_file(p, text, len);
    if (rc == MQTT5_ERR_MALFORMED && err && err_cap)
        snprintf(err, err_cap, "profile file `%s`: %s", path, reason);
    return rc;
}

int mqtt5_cp_profile_values(const mqtt5_credentials_provider *p, const char *profile_name,
                            const char *const *names, size_t count, char **values, char *err,
                            size_t err_cap)
{
    for (size_t i = 0; i < count; i++)
        values[i] = NULL;
    char config[PATH_CAP], credentials[PATH_CAP], profile[512];
    int rc = mqtt5_profile_locate(seam_getenv, (void *)p, false, NULL, NULL, profile_name, config,
                                  sizeof config, credentials, sizeof credentials, profile,
                                  sizeof profile);
    if (rc == MQTT5_ERR_NOT_FOUND) { /* no home directory: no files, no values */
        if (!*config && !*credentials) return 0;
    } else if (rc) {
        if (err && err_cap) snprintf(err, err_cap, "profile files: cannot locate them");
        return MQTT5_ERR_MALFORMED;
    }
    if (!*profile) snprintf(profile, sizeof profile, "default");
    mqtt5_profile_set *set = NULL;
    rc = mqtt5_profile_set_new(&p->alloc, &set);
    if (rc) return rc;
    rc = parse_file(p, set, MQTT5_PROFILE_FILE_CONFIG, config, err, err_cap);
    if (!rc) rc = parse_file(p, set, MQTT5_PROFILE_FILE_CREDENTIALS, credentials, err, err_cap);
    if (!rc) {
        const mqtt5_profile *prof =
            mqtt5_profile_set_find(set, MQTT5_PROFILE_SECTION_PROFILE, profile);
        for (size_t i = 0; prof && i < count && !rc; i++) {
            const char *v = mqtt5_profile_get(prof, names[i]);
            if (v && !(values[i] = mqtt5_cp_strdup(p, v))) rc = MQTT5_ERR_NOMEM;
        }
    }
    mqtt5_profile_set_destroy(set);
    if (rc)
        for (size_t i = 0; i < count; i++) {
            mqtt5_cp_strfree(p, values[i]);
            values[i] = NULL;
        }
    return rc;
}
