/*
 * credentials/profile.h - the AWS shared config and credentials files ("~/.aws/config",
 * "~/.aws/credentials"): the file grammar of the AWS SDKs (sections "[profile name]",
 * "[default]", "[sso-session name]" in config, "[name]" in credentials; comments '#' and ';';
 * continuation lines; sub-properties; trimming; the rules for invalid names and duplicates; the
 * credentials file's values overriding the config file's), and where the files are
 * (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, HOME, '~' expansion).
 *
 * Sans-I/O: text in, a profile set out. Proven on the AWS SDKs' shared test suites
 * (profile-parser-tests.json, file-location-tests.json).
 */
#ifndef MQTT5_CREDENTIALS_PROFILE_H
#define MQTT5_CREDENTIALS_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "mqtt5/allocator.h"

typedef struct mqtt5_profile_set mqtt5_profile_set;
typedef struct mqtt5_profile mqtt5_profile;

typedef enum mqtt5_profile_file_kind {
    MQTT5_PROFILE_FILE_CONFIG = 0,
    MQTT5_PROFILE_FILE_CREDENTIALS,
} mqtt5_profile_file_kind;

typedef enum mqtt5_profile_section_kind {
    MQTT5_PROFILE_SECTION_PROFILE = 0,
    MQTT5_PROFILE_SECTION_SSO_SESSION,
} mqtt5_profile_section_kind;

int mqtt5_profile_set_new(const mqtt5_allocator *alloc, mqtt5_profile_set **out);
void mqtt5_profile_set_destroy(mqtt5_profile_set *set);

/*
 * Parse one file's text into the set (call for the config file first, then the credentials file,
 * so that credentials values win). 0, MQTT5_ERR_NOMEM, MQTT5_ERR_INVALID_ARGUMENT (NULL set,
 * NULL text with len > 0), or MQTT5_ERR_MALFORMED with `err` (cap err_cap; may be NULL) holding a
 * one-line reason that names the line number, e.g. "line 3: Profile definition must end with
 * ']'" (the messages contain the test suite's texts, never a value; "out of memory" with
 * MQTT5_ERR_NOMEM; "" on success). A failed parse leaves the set as it was before the call. A
 * successful one invalidates every profile, name and value pointer taken from the set before it.
 *
 * Text is bytes up to `len` (no NUL terminator needed); a NUL byte inside is MQTT5_ERR_MALFORMED
 * (a value cut at a NUL would silently differ from the file); a leading UTF-8 byte order mark is
 * skipped. Beyond the suite: "[profile default]" in the credentials file is ignored like any
 * prefixed name there, and an empty section name ("[]") is not a valid name.
 */
int mqtt5_profile_set_parse(mqtt5_profile_set *set, mqtt5_profile_file_kind kind, const char *text,
                            size_t len, char *err, size_t err_cap);

/* The section of that kind and name, or NULL. */
const mqtt5_profile *mqtt5_profile_set_find(const mqtt5_profile_set *set,
                                            mqtt5_profile_section_kind kind, const char *name);
size_t mqtt5_profile_set_count(const mqtt5_profile_set *set, mqtt5_profile_section_kind kind);
const mqtt5_profile *mqtt5_profile_set_at(const mqtt5_profile_set *set,
                                          mqtt5_profile_section_kind kind, size_t i);

/* Section names are case-sensitive ("default" for both "[default]" and "[profile default]"). */
const char *mqtt5_profile_name(const mqtt5_profile *p);
/* A property's value, or NULL. Names are stored lower-cased and compared ignoring ASCII case, as
 * the SDKs do. A property with sub-properties has the raw value the test suite expects
 * ("\nname = value"). */
const char *mqtt5_profile_get(const mqtt5_profile *p, const char *name);
/* A sub-property ("s3" -> "name"), or NULL: a property whose value was empty on its line and was
 * continued by "key = value" lines; keys compared ignoring ASCII case, values trimmed with a
 * comment after whitespace cut (as on a property line), the last definition winning. */
const char *mqtt5_profile_get_sub(const mqtt5_profile *p, const char *name, const char *sub);
size_t mqtt5_profile_property_count(const mqtt5_profile *p);
/* The i-th property's name (lower-cased) and value (order of first definition); NULLs if i is
 * out of range. */
void mqtt5_profile_property_at(const mqtt5_profile *p, size_t i, const char **name,
                               const char **value);

/* getenv-like lookup used for locating files. */
typedef const char *(*mqtt5_profile_getenv_fn)(void *user, const char *name);

/*
 * The files and profile to use: config (AWS_CONFIG_FILE or HOME/.aws/config), credentials
 * (AWS_SHARED_CREDENTIALS_FILE or HOME/.aws/credentials), with "~/" and "~" expanded to the
 * home directory, and the profile name (AWS_PROFILE or "default"). Explicit arguments (non-NULL,
 * non-empty) win over the environment; an empty variable counts as unset. `windows` selects the
 * Windows rules of the test suite (HOME, then USERPROFILE, then HOMEDRIVE+HOMEPATH; '\\'
 * separators, "~\\" expanded too, '/' after a "~" rewritten as '\\'). `getenv_fn` may be NULL
 * (empty environment). 0; or MQTT5_ERR_NOT_FOUND when no home directory is known and a path
 * needs it: that path's output is then the empty string, the other outputs are still filled; or
 * MQTT5_ERR_INVALID_ARGUMENT if an output buffer is NULL/empty or a result does not fit its
 * buffer (that output is then the empty string).
 */
int mqtt5_profile_locate(mqtt5_profile_getenv_fn getenv_fn, void *user, bool windows,
                         const char *config_file, const char *credentials_file,
                         const char *profile_name, char *config_out, size_t config_cap,
                         char *credentials_out, size_t credentials_cap, char *profile_out,
                         size_t profile_cap);

#endif
