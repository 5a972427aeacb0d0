/*
 * credentials/profile_values.c - a few settings of the selected profile for providers other
 * than the profile provider (the web identity provider's region, IMDS's
 * ec2_metadata_service_endpoint(_mode)): locate the shared config and credentials files, read
 * them through the provider's system seam, parse them, copy the values asked for. It does not
 * resolve credentials and keeps nothing between calls.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "credentials/profile.h"
#include "credentials/provider_internal.h"
#include "credentials/providers.h"
#include "mqtt5/error.h"

static const char *seam_getenv(void *user, const char *name)
{
    return mqtt5_cp_getenv(user, name);
}

/* Parse one file into the set; a missing file is fine (*found false). */
static int load_file(const mqtt5_credentials_provider *p, mqtt5_profile_set *set,
                     mqtt5_profile_file_kind kind, const char *path, bool *found, char *err,
                     size_t err_cap)
{
    *found = false;
    if (!*path) return 0;
    char *text = NULL;
    size_t len = 0;
    errno = 0;
    int rc = mqtt5_cp_read_file(p, path, &text, &len, err, err_cap);
    if (rc == MQTT5_ERR_FILE && (errno == ENOENT || errno == ENOTDIR)) return 0;
    if (rc) return rc;
    *found = true;
    char why[512] = "";
    rc = mqtt5_profile_set_parse(set, kind, text, len, why, sizeof why);
    mqtt5_cp_free_file(p, text, len);
    if (rc && err && err_cap) snprintf(err, err_cap, "profile: `%s`: %s", path, why);
    return rc;
}

int mqtt5_cp_profile_load(const mqtt5_credentials_provider *p, const char *config_file,
                          const char *credentials_file, const char *profile_name,
                          mqtt5_profile_set *set, mqtt5_cp_profile_files *out, char *err,
                          size_t err_cap)
{
    memset(out, 0, sizeof *out);
    int rc = mqtt5_profile_locate(seam_getenv, (void *)p, false, config_file, credentials_file,
                                  profile_name, out->config, sizeof out->config, out->credentials,
                                  sizeof out->credentials, out->profile, sizeof out->profile);
    if (rc && rc != MQTT5_ERR_NOT_FOUND) { /* NOT_FOUND: no home directory, those paths "" */
        if (err && err_cap)
            snprintf(err, err_cap, "profile: cannot locate the files: %s", mqtt5_error_str(rc));
        return rc;
    }
    if (!*out->profile) snprintf(out->profile, sizeof out->profile, "default");
    rc = load_file(p, set, MQTT5_PROFILE_FILE_CONFIG, out->config, &out->have_config, err, err_cap);
    if (!rc)
        rc = load_file(p, set, MQTT5_PROFILE_FILE_CREDENTIALS, out->credentials,
                       &out->have_credentials, err, err_cap);
    return rc;
}

int mqtt5_cp_profile_values(const mqtt5_credentials_provider *p, const char *profile_name,
                            const char *const *names, size_t count, char **values, char *err,
                            size_t err_cap)
{
    for (size_t i = 0; i < count; i++)
        values[i] = NULL;
    mqtt5_profile_set *set = NULL;
    int rc = mqtt5_profile_set_new(&p->alloc, &set);
    if (rc) return rc;
    mqtt5_cp_profile_files files;
    rc = mqtt5_cp_profile_load(p, NULL, NULL, profile_name, set, &files, err, err_cap);
    if (!rc) {
        const mqtt5_profile *prof =
            mqtt5_profile_set_find(set, MQTT5_PROFILE_SECTION_PROFILE, files.profile);
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
