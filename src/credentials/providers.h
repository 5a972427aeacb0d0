/*
 * credentials/providers.h - what the credentials providers export to each other and to tests
 * beyond the public constructors of mqtt5/credentials.h: constructor variants used by other
 * providers, and the pure (no I/O) resolvers that decide where a provider's request goes, so
 * the AWS SDKs' shared test suites can check them directly. Declarations only, one block per
 * provider.
 */
#ifndef MQTT5_CREDENTIALS_PROVIDERS_H
#define MQTT5_CREDENTIALS_PROVIDERS_H

#include <stdbool.h>
#include <stddef.h>

#include "mqtt5/credentials.h"

/* getenv-like lookup given to the pure resolvers (NULL = unset). */
typedef const char *(*mqtt5_cp_getenv_fn)(void *user, const char *name);

/* ---- profile values (profile_values.c) ----------------------------------------------------- */

/*
 * The values of `names` in the selected profile (profile_name, else AWS_PROFILE, else
 * "default") of the shared config and credentials files (AWS_CONFIG_FILE /
 * AWS_SHARED_CREDENTIALS_FILE / ~/.aws/...), read now through p's system seam, for providers
 * that are not the profile provider but honour profile settings (region,
 * ec2_metadata_service_endpoint, ...). values[i] is a copy (free with mqtt5_cp_strfree) or NULL.
 * Missing files and a missing profile are not errors. 0, MQTT5_ERR_NOMEM, or
 * MQTT5_ERR_MALFORMED with the parser's reason (naming the file) in err; on error every
 * values[i] is NULL.
 */
/* Where the files are and what was found, from mqtt5_cp_profile_load. */
typedef struct mqtt5_cp_profile_files {
    char config[4096], credentials[4096]; /* "" when no home directory is known */
    char profile[512];                    /* the profile name in effect */
    bool have_config, have_credentials;   /* the file was there and parsed */
} mqtt5_cp_profile_files;

/*
 * Locate the config and credentials files (explicit arguments, NULL = environment/default, as
 * mqtt5_profile_locate), read them through p's system seam and parse them into `set` (config
 * first, so credentials values win). A missing file is fine; an unreadable or malformed one is
 * an error with err naming the file (and the line). 0, MQTT5_ERR_FILE, MQTT5_ERR_MALFORMED,
 * MQTT5_ERR_NOMEM.
 */
struct mqtt5_profile_set;
int mqtt5_cp_profile_load(const mqtt5_credentials_provider *p, const char *config_file,
                          const char *credentials_file, const char *profile_name,
                          struct mqtt5_profile_set *set, mqtt5_cp_profile_files *out, char *err,
                          size_t err_cap);

int mqtt5_cp_profile_values(const mqtt5_credentials_provider *p, const char *profile_name,
                            const char *const *names, size_t count, char **values, char *err,
                            size_t err_cap);

/* ---- web identity (provider_web_identity.c) ------------------------------------------------ */

/*
 * A web identity provider with explicit settings, not read from the environment (the profile
 * provider's `web_identity_token_file` + `role_arn` [+ `role_session_name`]). token_file and
 * role_arn are required (MQTT5_ERR_INVALID_ARGUMENT); session_name NULL = generated; region
 * NULL = AWS_REGION / AWS_DEFAULT_REGION / profile region; sts_endpoint NULL = as sts.h says.
 * The token file is read at every get. Strings are copied.
 */
int mqtt5_web_identity_provider_new_explicit(const mqtt5_credentials_options *o,
                                             const char *token_file, const char *role_arn,
                                             const char *session_name, const char *region,
                                             const char *sts_endpoint,
                                             mqtt5_credentials_provider **out);

/* ---- EC2 instance metadata (provider_imds.c) ----------------------------------------------- */

/*
 * The IMDS base URL (no trailing '/'; requests append "/latest/..."), in this order: the
 * explicit endpoint_override, AWS_EC2_METADATA_SERVICE_ENDPOINT, the profile's
 * ec2_metadata_service_endpoint; else by mode: mode_override, then
 * AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE, then the profile's ec2_metadata_service_endpoint_mode
 * ("IPv4" -> http://169.254.169.254, "IPv6" -> http://[fd00:ec2::254], compared without case;
 * default IPv4). Empty strings count as unset. Any argument may be
 * NULL (getenv_fn NULL = no environment). 0 with the URL in out; MQTT5_ERR_INVALID_ARGUMENT with
 * err "`<v>` is not a valid endpoint mode" or "`<v>` is not a valid endpoint: invalid uri
 * character" (or ": URI did not specify a scheme/host"); MQTT5_ERR_BUFFER_TOO_SMALL.
 */
int mqtt5_imds_endpoint_resolve(const char *endpoint_override, const char *mode_override,
                                mqtt5_cp_getenv_fn getenv_fn, void *getenv_user,
                                const char *profile_endpoint, const char *profile_mode, char *out,
                                size_t out_cap, char *err, size_t err_cap);

/* ---- ECS / EKS container credentials (provider_ecs.c) -------------------------------------- */

/*
 * The container credentials URL from AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (wins; on
 * http://169.254.170.2) or AWS_CONTAINER_CREDENTIALS_FULL_URI (used as given: https to any host;
 * http only to loopback - 127.0.0.0/8, ::1, "localhost", taken as loopback without resolving -
 * 169.254.170.2, 169.254.170.23 or fd00:ec2::23). 0 with the URL in out;
 * MQTT5_ERR_PROVIDER_NOT_ENABLED ("No environment variables were set to configure ECS
 * provider"); MQTT5_ERR_INVALID_ARGUMENT with the reason in err ("URI did not specify a host",
 * a host not allowed over http, ...); MQTT5_ERR_BUFFER_TOO_SMALL.
 */
int mqtt5_ecs_uri_resolve(mqtt5_cp_getenv_fn getenv_fn, void *getenv_user, char *out,
                          size_t out_cap, char *err, size_t err_cap);

#endif
