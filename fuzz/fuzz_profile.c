/*
 * fuzz_profile.c - libFuzzer target for the AWS shared config/credentials file parser
 * (src/credentials/profile_parse.c): files a user, or anyone who can write to $HOME, wrote.
 * The input is parsed as a config file, then as a credentials file, into one set (from an
 * exact-size copy, so ASan sees any read past the length). Laws checked on every input:
 *  - a parse returns 0 or MALFORMED with a "line N: ..." message; a failed parse leaves the set
 *    exactly as it was (every section, property and value), and a credentials file never adds
 *    sso-sessions;
 *  - walking the set: every section is found again by name, section and property names are
 *    identifiers ([A-Za-z0-9_/.%@:+-]+, properties lower-cased, "default" allowed), property names
 *    are unique in a section and get(name) returns the walked value; get_sub finds the key of
 *    every line of a sub-property value;
 *  - parsing the same config text twice gives the same set as parsing it once;
 *  - an allocation failing anywhere in a successful config parse gives NOMEM and leaves the set
 *    unchanged; every block is released with its size, and nothing leaks after destroy.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "credentials/profile.h"
#include "fuzz_alloc.h"
#include "mqtt5/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) abort();                                                                         \
    } while (0)

/* ---- the set as text ---------------------------------------------------------------------- */

typedef struct text {
    char *p;
    size_t len, cap;
} text;

static void put(text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + n + 1)
            cap *= 2;
        t->p = realloc(t->p, cap);
        CHECK(t->p);
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

static void put_z(text *t, const char *z)
{
    put(t, z, strlen(z) + 1); /* with the NUL: names and values stay separate */
}

static text dump(const mqtt5_profile_set *set)
{
    text t = {NULL, 0, 0};
    put(&t, "", 0);
    for (int k = 0; k < 2; k++) {
        mqtt5_profile_section_kind kind = (mqtt5_profile_section_kind)k;
        put(&t, k ? "S" : "P", 1);
        for (size_t i = 0; i < mqtt5_profile_set_count(set, kind); i++) {
            const mqtt5_profile *p = mqtt5_profile_set_at(set, kind, i);
            put_z(&t, mqtt5_profile_name(p));
            for (size_t j = 0; j < mqtt5_profile_property_count(p); j++) {
                const char *name, *value;
                mqtt5_profile_property_at(p, j, &name, &value);
                put_z(&t, name);
                put_z(&t, value);
            }
            put(&t, "]", 1);
        }
    }
    return t;
}

static bool same(const text *a, const text *b)
{
    return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/* ---- laws --------------------------------------------------------------------------------- */

static bool is_identifier(const char *s, bool lower_only)
{
    if (!*s) return false;
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (!lower_only && c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || strchr("_-/.%@:+", c);
        if (!ok) return false;
    }
    return true;
}

/* Sub-property keys of a value "\nk = v\n...": for each line, the text before '=' trimmed. */
static void check_subs(const mqtt5_profile *p, const char *name, const char *value)
{
    if (value[0] != '\n') return;
    const char *line = value + 1;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        const char *eq = memchr(line, '=', n);
        CHECK(eq); /* every line of a sub-property value has been checked for '=' */
        size_t a = 0, b = (size_t)(eq - line);
        while (a < b && (line[a] == ' ' || line[a] == '\t'))
            a++;
        while (b > a && (line[b - 1] == ' ' || line[b - 1] == '\t'))
            b--;
        CHECK(b > a);         /* ... and for a name */
        bool comment = false; /* a comment inside the key part would cut the line earlier */
        for (size_t i = a; i < b; i++)
            if (line[i] == '#' || line[i] == ';') comment = true;
        if (!comment && b - a < 256) {
            char key[256];
            memcpy(key, line + a, b - a);
            key[b - a] = '\0';
            CHECK(mqtt5_profile_get_sub(p, name, key) != NULL);
        }
        line += n + (end ? 1 : 0);
    }
}

static void walk(const mqtt5_profile_set *set)
{
    for (int k = 0; k < 2; k++) {
        mqtt5_profile_section_kind kind = (mqtt5_profile_section_kind)k;
        size_t count = mqtt5_profile_set_count(set, kind);
        CHECK(mqtt5_profile_set_at(set, kind, count) == NULL);
        for (size_t i = 0; i < count; i++) {
            const mqtt5_profile *p = mqtt5_profile_set_at(set, kind, i);
            CHECK(p);
            const char *pname = mqtt5_profile_name(p);
            CHECK(pname && is_identifier(pname, false));
            CHECK(mqtt5_profile_set_find(set, kind, pname) == p);
            size_t props = mqtt5_profile_property_count(p);
            for (size_t j = 0; j < props; j++) {
                const char *name, *value;
                mqtt5_profile_property_at(p, j, &name, &value);
                CHECK(name && value && is_identifier(name, true));
                CHECK(mqtt5_profile_get(p, name) == value); /* names are unique */
                check_subs(p, name, value);
                (void)mqtt5_profile_get_sub(p, name, "region");
            }
            const char *name, *value;
            mqtt5_profile_property_at(p, props, &name, &value);
            CHECK(!name && !value);
        }
    }
}

/* Parse and check the failure laws; returns the result code. */
static int parse(mqtt5_profile_set *set, mqtt5_profile_file_kind kind, const char *in, size_t n)
{
    text before = dump(set);
    size_t sso = mqtt5_profile_set_count(set, MQTT5_PROFILE_SECTION_SSO_SESSION);
    char err[128];
    int rc = mqtt5_profile_set_parse(set, kind, in, n, err, sizeof err);
    text after = dump(set);
    CHECK(rc == 0 || rc == MQTT5_ERR_MALFORMED || rc == MQTT5_ERR_NOMEM);
    if (rc) {
        CHECK(same(&before, &after));
        if (rc == MQTT5_ERR_MALFORMED) CHECK(strncmp(err, "line ", 5) == 0);
    } else {
        CHECK(err[0] == '\0');
    }
    if (kind == MQTT5_PROFILE_FILE_CREDENTIALS)
        CHECK(mqtt5_profile_set_count(set, MQTT5_PROFILE_SECTION_SSO_SESSION) == sso);
    free(before.p);
    free(after.p);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size ? size : 1); /* exact size: no terminator to lean on */
    CHECK(in);
    if (size) memcpy(in, data, size);

    /* config, then credentials, into one set */
    fuzz_alloc fa;
    fuzz_alloc_init(&fa, 0, false);
    mqtt5_profile_set *set = NULL;
    CHECK(mqtt5_profile_set_new(&fa.base, &set) == 0);
    size_t before_config = fa.allocations;
    int rc_config = parse(set, MQTT5_PROFILE_FILE_CONFIG, in, size);
    size_t config_allocations = fa.allocations - before_config;
    walk(set);
    text once = dump(set);
    int rc_creds = parse(set, MQTT5_PROFILE_FILE_CREDENTIALS, in, size);
    CHECK(rc_creds != MQTT5_ERR_NOMEM);
    walk(set);
    mqtt5_profile_set_destroy(set);
    CHECK(fa.live == 0);

    /* the same config twice is the same as once */
    if (rc_config == 0) {
        fuzz_alloc_init(&fa, 0, false);
        CHECK(mqtt5_profile_set_new(&fa.base, &set) == 0);
        CHECK(parse(set, MQTT5_PROFILE_FILE_CONFIG, in, size) == 0);
        CHECK(parse(set, MQTT5_PROFILE_FILE_CONFIG, in, size) == 0);
        text twice = dump(set);
        CHECK(same(&once, &twice));
        free(twice.p);
        mqtt5_profile_set_destroy(set);
        CHECK(fa.live == 0);
    }
    free(once.p);

    /* an allocation failing inside a successful config parse (picked from the input) */
    if (rc_config == 0 && config_allocations > 0) {
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < size; i++)
            h = (h ^ data[i]) * 16777619u;
        fuzz_alloc_init(&fa, 0, false);
        CHECK(mqtt5_profile_set_new(&fa.base, &set) == 0);
        fa.fail_at = fa.allocations + 1 + h % config_allocations;
        CHECK(parse(set, MQTT5_PROFILE_FILE_CONFIG, in, size) == MQTT5_ERR_NOMEM);
        CHECK(fa.failed);
        CHECK(mqtt5_profile_set_count(set, MQTT5_PROFILE_SECTION_PROFILE) == 0);
        CHECK(mqtt5_profile_set_count(set, MQTT5_PROFILE_SECTION_SSO_SESSION) == 0);
        mqtt5_profile_set_destroy(set);
        CHECK(fa.live == 0);
    }
    free(in);
    return 0;
}
