/*
 * helpers/fake_system.c - see fake_system.h.
 */
#include "helpers/fake_system.h"

#include <errno.h>
#include <string.h>

#include "mqtt5/error.h"

#define COUNT(a) (sizeof(a) / sizeof *(a))

static const char *fake_getenv(void *user, const char *name)
{
    fake_sys *f = user;
    for (size_t i = 0; i < COUNT(f->env) && f->env[i][0]; i++)
        if (!strcmp(f->env[i][0], name)) return f->env[i][1];
    return NULL;
}

static int fake_read_file(void *user, const mqtt5_allocator *a, const char *path, char **out,
                          size_t *len)
{
    fake_sys *f = user;
    for (size_t i = 0; i < COUNT(f->files) && f->files[i][0]; i++) {
        if (strcmp(f->files[i][0], path) != 0) continue;
        size_t n = strlen(f->files[i][1]);
        char *b = a->allocate(a->ctx, n + 1);
        if (!b) return MQTT5_ERR_NOMEM;
        memcpy(b, f->files[i][1], n + 1);
        *out = b;
        *len = n;
        return 0;
    }
    errno = ENOENT;
    return MQTT5_ERR_FILE;
}

static int64_t fake_now(void *user)
{
    return ((fake_sys *)user)->now;
}

mqtt5_credentials_system fake_sys_seam(fake_sys *f)
{
    mqtt5_credentials_system s = {fake_getenv, fake_read_file, fake_now, f};
    return s;
}
