/*
 * profile_locate.c - where the AWS shared config and credentials files are and which profile to
 * use (mqtt5_profile_locate in credentials/profile.h), by the rules of the AWS SDKs' shared test
 * suite (file-location-tests.json): explicit argument, else AWS_CONFIG_FILE /
 * AWS_SHARED_CREDENTIALS_FILE / AWS_PROFILE, else HOME/.aws/config, HOME/.aws/credentials and
 * "default"; a leading "~" is the home directory. The environment comes through the caller's
 * lookup function: this file never calls getenv, touches the file system or allocates.
 */
#include "credentials/profile.h"

#include <string.h>

#include "mqtt5/error.h"

typedef struct out_buf {
    char *p;
    size_t cap, len;
    bool overflow;
} out_buf;

static void put(out_buf *o, const char *s, size_t n)
{
    if (o->overflow || n >= o->cap - o->len) {
        o->overflow = true;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

/* A variable's value; unset and empty are the same. */
static const char *env(mqtt5_profile_getenv_fn fn, void *user, const char *name)
{
    const char *v = fn ? fn(user, name) : NULL;
    return (v && *v) ? v : NULL;
}

/* The home directory as up to two parts (HOMEDRIVE + HOMEPATH); false if unknown. */
typedef struct home_dir {
    const char *a, *b;
} home_dir;

static bool find_home(mqtt5_profile_getenv_fn fn, void *user, bool windows, home_dir *h)
{
    h->a = env(fn, user, "HOME");
    h->b = "";
    if (h->a || !windows) return h->a != NULL;
    h->a = env(fn, user, "USERPROFILE");
    if (h->a) return true;
    h->a = env(fn, user, "HOMEDRIVE");
    h->b = env(fn, user, "HOMEPATH");
    if (h->a && h->b) return true;
    h->a = NULL;
    h->b = "";
    return false;
}

static bool is_sep(char c, bool windows)
{
    return c == '/' || (windows && c == '\\');
}

/* home, then `rest` (which starts with a separator or is empty) without doubling a separator. */
static void put_home(out_buf *o, const home_dir *h, const char *rest, bool windows)
{
    put(o, h->a, strlen(h->a));
    put(o, h->b, strlen(h->b));
    size_t n = strlen(rest);
    if (n && o->len && !o->overflow && is_sep(o->p[o->len - 1], windows)) {
        rest++;
        n--;
    }
    for (size_t i = 0; i < n; i++) {
        char c = rest[i];
        if (windows && c == '/') c = '\\'; /* the path is rebuilt with the platform separator */
        put(o, &c, 1);
    }
}

/* `path` (NULL: HOME/.aws/<leaf>) with "~" expanded, into `o`. MQTT5_ERR_NOT_FOUND if it needs
 * an unknown home directory. */
static int resolve(out_buf *o, const char *path, const char *leaf, const home_dir *h, bool windows)
{
    char rest[32];
    if (!path) {
        size_t n = strlen(leaf);
        rest[0] = windows ? '\\' : '/';
        memcpy(rest + 1, ".aws", 4);
        rest[5] = rest[0];
        memcpy(rest + 6, leaf, n + 1);
        if (!h) return MQTT5_ERR_NOT_FOUND;
        put_home(o, h, rest, windows);
        return 0;
    }
    if (path[0] == '~' && (path[1] == '\0' || is_sep(path[1], windows))) {
        if (!h) return MQTT5_ERR_NOT_FOUND;
        put_home(o, h, path + 1, windows);
        return 0;
    }
    put(o, path, strlen(path));
    return 0;
}

int mqtt5_profile_locate(mqtt5_profile_getenv_fn getenv_fn, void *user, bool windows,
                         const char *config_file, const char *credentials_file,
                         const char *profile_name, char *config_out, size_t config_cap,
                         char *credentials_out, size_t credentials_cap, char *profile_out,
                         size_t profile_cap)
{
    if (!config_out || !config_cap || !credentials_out || !credentials_cap || !profile_out ||
        !profile_cap)
        return MQTT5_ERR_INVALID_ARGUMENT;
    out_buf outs[3] = {{config_out, config_cap, 0, false},
                       {credentials_out, credentials_cap, 0, false},
                       {profile_out, profile_cap, 0, false}};
    for (int i = 0; i < 3; i++)
        outs[i].p[0] = '\0';

    home_dir home;
    const home_dir *h = find_home(getenv_fn, user, windows, &home) ? &home : NULL;
    if (!config_file || !*config_file) config_file = env(getenv_fn, user, "AWS_CONFIG_FILE");
    if (!credentials_file || !*credentials_file)
        credentials_file = env(getenv_fn, user, "AWS_SHARED_CREDENTIALS_FILE");
    if (!profile_name || !*profile_name) profile_name = env(getenv_fn, user, "AWS_PROFILE");
    if (!profile_name) profile_name = "default";

    int rc[3];
    rc[0] = resolve(&outs[0], config_file, "config", h, windows);
    rc[1] = resolve(&outs[1], credentials_file, "credentials", h, windows);
    rc[2] = 0;
    put(&outs[2], profile_name, strlen(profile_name));

    int result = 0;
    for (int i = 0; i < 3; i++) {
        if (outs[i].overflow) {
            outs[i].p[0] = '\0';
            result = MQTT5_ERR_INVALID_ARGUMENT;
        } else if (rc[i] && result == 0) {
            result = rc[i];
        }
    }
    return result;
}
