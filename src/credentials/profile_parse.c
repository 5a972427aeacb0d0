/*
 * profile_parse.c - the parser of the AWS shared config and credentials files and the profile set
 * it fills (credentials/profile.h): set creation, destruction and lookup live here too, because the
 * fuzz target (fuzz/fuzz_profile.c) builds this file alone with the core sources. Locating the
 * files is profile_locate.c.
 *
 * The grammar is the one of the AWS SDKs' shared test suite (profile-parser-tests.json), as the
 * Rust and Java SDKs implement it:
 *  - lines end at '\n' (a '\r' before it is dropped); lines of only spaces/tabs are skipped, and
 *    so are lines starting with '#' or ';';
 *  - a line starting with '[' is a section: comments ('#', ';' anywhere) are cut, the rest must
 *    end with ']'; "[default]", "[profile NAME]" and "[sso-session NAME]" are kept in the config
 *    file, "[NAME]" in the credentials file; anything else (bad prefix, a name that is not
 *    [A-Za-z0-9_/.%@:+-]+) is ignored with its properties, but still parsed;
 *  - a line starting with a space or tab continues the current property ("\n" + trimmed line);
 *    after "name =" (empty value) such lines are sub-properties and must read "key = value";
 *  - any other line is "name = value": comments need whitespace before them, names are trimmed
 *    and lower-cased, names that are not identifiers are ignored, values are trimmed;
 *  - sections and properties of the same name merge, the last value winning; in the config file
 *    a "[profile default]" anywhere hides every "[default]".
 *
 * The parse is transactional: it works on a copy of the set and swaps it in only on success.
 * All memory comes from the set's allocator, and value buffers are wiped before they are released
 * (the credentials file holds secrets). No I/O, no environment, no libc heap.
 */
#include "common/wipe.h"
#include "credentials/profile.h"

#include <stdint.h>
#include <string.h>

#include "mqtt5/error.h"

/* ---- storage ------------------------------------------------------------------------------- */

typedef struct prop {
    char *name; /* lower-cased, name_len + 1 bytes */
    size_t name_len;
    char *value; /* value_cap bytes, NUL at value_len */
    size_t value_len, value_cap;
    char *subs; /* sub-properties as "name\0value\0" pairs (subs_size bytes), or NULL */
    size_t subs_size;
    bool dirty; /* value set by the running parse: subs to be rebuilt */
} prop;

struct mqtt5_profile {
    char *name; /* name_len + 1 bytes */
    size_t name_len;
    prop *props; /* cap entries, count used, in definition order */
    size_t count, cap;
};

typedef struct section_list {
    mqtt5_profile *items;
    size_t count, cap;
} section_list;

#define SECTION_KINDS 2

struct mqtt5_profile_set {
    const mqtt5_allocator *alloc;
    section_list lists[SECTION_KINDS]; /* by mqtt5_profile_section_kind */
};

static void *mem_get(const mqtt5_allocator *a, size_t n)
{
    return a->allocate(a->ctx, n ? n : 1);
}

static void mem_put(const mqtt5_allocator *a, void *p, size_t n)
{
    if (p) a->release(a->ctx, p, n ? n : 1);
}

static void mem_wipe_put(const mqtt5_allocator *a, void *p, size_t n)
{
    if (!p) return;
    mqtt5_wipe(p, n);
    mem_put(a, p, n);
}

static char *dup_n(const mqtt5_allocator *a, const char *s, size_t n)
{
    if (n == SIZE_MAX) return NULL;
    char *p = mem_get(a, n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive equality of a NUL-terminated string and a counted one. */
static bool ieq(const char *z, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (z[i] == '\0' || lower(z[i]) != lower(s[i])) return false;
    return z[n] == '\0';
}

static void prop_clear(const mqtt5_allocator *a, prop *p)
{
    mem_put(a, p->name, p->name_len + 1);
    mem_wipe_put(a, p->value, p->value_cap);
    mem_wipe_put(a, p->subs, p->subs_size);
    memset(p, 0, sizeof *p);
}

static void profile_clear(const mqtt5_allocator *a, mqtt5_profile *prof)
{
    for (size_t i = 0; i < prof->count; i++)
        prop_clear(a, &prof->props[i]);
    mem_put(a, prof->props, prof->cap * sizeof(prop));
    mem_put(a, prof->name, prof->name_len + 1);
    memset(prof, 0, sizeof *prof);
}

static void set_clear(mqtt5_profile_set *set)
{
    for (int k = 0; k < SECTION_KINDS; k++) {
        section_list *l = &set->lists[k];
        for (size_t i = 0; i < l->count; i++)
            profile_clear(set->alloc, &l->items[i]);
        mem_put(set->alloc, l->items, l->cap * sizeof(mqtt5_profile));
        memset(l, 0, sizeof *l);
    }
}

/* Room for one more entry in an array of `elem`-sized entries (zeroed when new). */
static void *grow(const mqtt5_allocator *a, void *items, size_t *cap, size_t count, size_t elem)
{
    if (count < *cap) return items;
    size_t ncap = *cap ? *cap * 2 : 4;
    if (ncap < *cap || ncap > SIZE_MAX / elem) return NULL;
    unsigned char *p = mem_get(a, ncap * elem);
    if (!p) return NULL;
    if (count) memcpy(p, items, count * elem);
    memset(p + count * elem, 0, (ncap - count) * elem);
    mem_put(a, items, *cap * elem);
    *cap = ncap;
    return p;
}

/* The index of the section `name` of list `l`, creating it if needed. */
static int section_get(const mqtt5_allocator *a, section_list *l, const char *name, size_t n,
                       size_t *index)
{
    for (size_t i = 0; i < l->count; i++) {
        if (l->items[i].name_len == n && memcmp(l->items[i].name, name, n) == 0) {
            *index = i;
            return 0;
        }
    }
    mqtt5_profile *items = grow(a, l->items, &l->cap, l->count, sizeof *items);
    if (!items) return MQTT5_ERR_NOMEM;
    l->items = items;
    mqtt5_profile *prof = &items[l->count];
    prof->name = dup_n(a, name, n);
    if (!prof->name) return MQTT5_ERR_NOMEM;
    prof->name_len = n;
    *index = l->count++;
    return 0;
}

/* Define property `name` (any case; stored lower-cased) = `value` in `prof`, replacing an earlier
 * one of the same name in place. */
static int prop_set(const mqtt5_allocator *a, mqtt5_profile *prof, const char *name, size_t n,
                    const char *value, size_t vn, size_t *index)
{
    char *v = dup_n(a, value, vn);
    if (!v) return MQTT5_ERR_NOMEM;
    size_t i = 0;
    while (i < prof->count && !ieq(prof->props[i].name, name, n))
        i++;
    if (i == prof->count) {
        prop *props = grow(a, prof->props, &prof->cap, prof->count, sizeof *props);
        char *nm = props ? dup_n(a, name, n) : NULL;
        if (props) prof->props = props;
        if (!nm) {
            mem_wipe_put(a, v, vn + 1);
            return MQTT5_ERR_NOMEM;
        }
        for (size_t j = 0; j < n; j++)
            nm[j] = lower(nm[j]);
        prof->props[i].name = nm;
        prof->props[i].name_len = n;
        prof->count++;
    }
    prop *p = &prof->props[i];
    mem_wipe_put(a, p->value, p->value_cap);
    mem_wipe_put(a, p->subs, p->subs_size);
    p->subs = NULL;
    p->subs_size = 0;
    p->value = v;
    p->value_len = vn;
    p->value_cap = vn + 1;
    p->dirty = true;
    *index = i;
    return 0;
}

/* Append "\n" + s[0..n) to the value of `p`. */
static int prop_append(const mqtt5_allocator *a, prop *p, const char *s, size_t n)
{
    if (n > SIZE_MAX - 2 - p->value_len) return MQTT5_ERR_NOMEM;
    size_t need = p->value_len + n + 2;
    if (need > p->value_cap) {
        size_t ncap = p->value_cap <= SIZE_MAX / 2 ? p->value_cap * 2 : SIZE_MAX;
        if (ncap < need) ncap = need;
        char *v = mem_get(a, ncap);
        if (!v) return MQTT5_ERR_NOMEM;
        memcpy(v, p->value, p->value_len);
        mem_wipe_put(a, p->value, p->value_cap);
        p->value = v;
        p->value_cap = ncap;
    }
    p->value[p->value_len++] = '\n';
    if (n) memcpy(p->value + p->value_len, s, n);
    p->value_len += n;
    p->value[p->value_len] = '\0';
    p->dirty = true;
    return 0;
}

/* Deep copy of `src` into the empty set `dst` (same allocator). On failure `dst` holds what was
 * copied so far, for set_clear. */
static int set_copy(mqtt5_profile_set *dst, const mqtt5_profile_set *src)
{
    const mqtt5_allocator *a = dst->alloc;
    for (int k = 0; k < SECTION_KINDS; k++) {
        const section_list *sl = &src->lists[k];
        section_list *dl = &dst->lists[k];
        if (sl->count == 0) continue;
        dl->items = mem_get(a, sl->count * sizeof(mqtt5_profile));
        if (!dl->items) return MQTT5_ERR_NOMEM;
        memset(dl->items, 0, sl->count * sizeof(mqtt5_profile));
        dl->cap = sl->count;
        for (size_t i = 0; i < sl->count; i++) {
            const mqtt5_profile *sp = &sl->items[i];
            mqtt5_profile *dp = &dl->items[dl->count++];
            dp->name = dup_n(a, sp->name, sp->name_len);
            if (!dp->name) return MQTT5_ERR_NOMEM;
            dp->name_len = sp->name_len;
            if (sp->count == 0) continue;
            dp->props = mem_get(a, sp->count * sizeof(prop));
            if (!dp->props) return MQTT5_ERR_NOMEM;
            memset(dp->props, 0, sp->count * sizeof(prop));
            dp->cap = sp->count;
            for (size_t j = 0; j < sp->count; j++) {
                const prop *s = &sp->props[j];
                prop *d = &dp->props[dp->count++];
                d->name = dup_n(a, s->name, s->name_len);
                if (!d->name) return MQTT5_ERR_NOMEM;
                d->name_len = s->name_len;
                d->value = dup_n(a, s->value, s->value_len);
                if (!d->value) return MQTT5_ERR_NOMEM;
                d->value_len = s->value_len;
                d->value_cap = s->value_len + 1;
                if (s->subs) {
                    d->subs = mem_get(a, s->subs_size);
                    if (!d->subs) return MQTT5_ERR_NOMEM;
                    memcpy(d->subs, s->subs, s->subs_size);
                    d->subs_size = s->subs_size;
                }
            }
        }
    }
    return 0;
}

/* ---- text ---------------------------------------------------------------------------------- */

typedef struct span {
    const char *p;
    size_t n;
} span;

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool span_is(span s, const char *z)
{
    return strlen(z) == s.n && memcmp(s.p, z, s.n) == 0;
}

/* Trim spaces and tabs: the only whitespace of the grammar. */
static span trim_blank(span s)
{
    while (s.n && is_blank(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n && is_blank(s.p[s.n - 1]))
        s.n--;
    return s;
}

/* Length of the Unicode White_Space character (UTF-8) starting at p, or 0. The SDKs use this
 * wider set in two places: before a comment and around a section name's suffix. */
static size_t uws_len(const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
    if (n == 0) return 0;
    if (u[0] == ' ' || (u[0] >= 0x09 && u[0] <= 0x0d)) return 1;
    if (n >= 2 && u[0] == 0xc2 && (u[1] == 0x85 || u[1] == 0xa0)) return 2;
    if (n >= 3) {
        if (u[0] == 0xe1 && u[1] == 0x9a && u[2] == 0x80) return 3; /* U+1680 */
        if (u[0] == 0xe2 && u[1] == 0x80 &&
            ((u[2] >= 0x80 && u[2] <= 0x8a) || u[2] == 0xa8 || u[2] == 0xa9 || u[2] == 0xaf))
            return 3;                                               /* U+2000-200A, 2028/9, 202F */
        if (u[0] == 0xe2 && u[1] == 0x81 && u[2] == 0x9f) return 3; /* U+205F */
        if (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80) return 3; /* U+3000 */
    }
    return 0;
}

static span trim_unicode(span s)
{
    size_t w;
    while ((w = uws_len(s.p, s.n)) != 0) {
        s.p += w;
        s.n -= w;
    }
    for (;;) {
        size_t cut = 0;
        for (size_t l = 1; l <= 3 && l <= s.n && !cut; l++)
            if (uws_len(s.p + s.n - l, l) == l) cut = l;
        if (!cut) return s;
        s.n -= cut;
    }
}

/* Trim, cut a trailing comment ('#' or ';'; with `comments_need_ws` only after whitespace), and
 * trim again. */
static span prepare(span s, bool comments_need_ws)
{
    s = trim_blank(s);
    bool prev_ws = false;
    size_t i = 0;
    while (i < s.n) {
        size_t w = uws_len(s.p + i, s.n - i);
        if (w) {
            prev_ws = true;
            i += w;
            continue;
        }
        if ((s.p[i] == '#' || s.p[i] == ';') && (prev_ws || !comments_need_ws)) {
            s.n = i;
            break;
        }
        prev_ws = false;
        i++;
    }
    return trim_blank(s);
}

/* [A-Za-z0-9_/.%@:+-]+ : profile, sso-session and property names. */
static bool is_identifier(span s)
{
    if (s.n == 0) return false;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              (c != '\0' && strchr("_-/.%@:+", c))))
            return false;
    }
    return true;
}

enum { KV_OK, KV_NO_EQUALS, KV_NO_NAME };

/* "key = value" (comments after whitespace cut, both sides trimmed). */
static int parse_kv(span line, span *key, span *value)
{
    span s = prepare(line, true);
    const char *eq = s.n ? memchr(s.p, '=', s.n) : NULL;
    if (!eq) return KV_NO_EQUALS;
    *key = trim_blank((span){s.p, (size_t)(eq - s.p)});
    *value = trim_blank((span){eq + 1, s.n - (size_t)(eq - s.p) - 1});
    return key->n ? KV_OK : KV_NO_NAME;
}

/* ---- section names ------------------------------------------------------------------------- */

typedef enum key_form { KEY_DEFAULT, KEY_PROFILE, KEY_OTHER } key_form;

typedef struct section_key {
    key_form form;
    bool prefixed; /* "profile NAME" */
    span prefix;   /* KEY_OTHER: the word before the name */
    span name;
} section_key;

/* What is between '[' and ']': "default", "profile NAME", "PREFIX NAME" or "NAME". */
static section_key parse_key(span inner)
{
    section_key k = {KEY_PROFILE, false, {NULL, 0}, {NULL, 0}};
    inner = trim_blank(inner);
    if (span_is(inner, "default")) {
        k.form = KEY_DEFAULT;
        k.name = inner;
        return k;
    }
    size_t i = 0;
    while (i < inner.n && !is_blank(inner.p[i]))
        i++;
    if (i == inner.n) {
        k.name = inner;
        return k;
    }
    span prefix = {inner.p, i};
    k.name = trim_unicode((span){inner.p + i, inner.n - i});
    if (span_is(prefix, "profile")) {
        k.prefixed = true;
        if (span_is(k.name, "default")) k.form = KEY_DEFAULT;
    } else {
        k.form = KEY_OTHER;
        k.prefix = prefix;
    }
    return k;
}

/* The section kind a key stands for in a file of `kind`, or -1 when the section is ignored. */
static int section_target(const section_key *k, mqtt5_profile_file_kind kind,
                          bool skip_unprefixed_default)
{
    bool config = kind == MQTT5_PROFILE_FILE_CONFIG;
    switch (k->form) {
    case KEY_DEFAULT:
        if (k->prefixed) return config ? MQTT5_PROFILE_SECTION_PROFILE : -1;
        return skip_unprefixed_default ? -1 : MQTT5_PROFILE_SECTION_PROFILE;
    case KEY_PROFILE:
        if (!is_identifier(k->name) || config != k->prefixed) return -1;
        return MQTT5_PROFILE_SECTION_PROFILE;
    case KEY_OTHER:
        if (!config || !span_is(k->prefix, "sso-session") || !is_identifier(k->name)) return -1;
        return MQTT5_PROFILE_SECTION_SSO_SESSION;
    }
    return -1;
}

/* ---- the parser ---------------------------------------------------------------------------- */

typedef struct line_iter {
    const char *text;
    size_t len, pos, number;
} line_iter;

/* The next line without its "\n" or "\r\n"; false at the end. */
static bool next_line(line_iter *it, span *line)
{
    if (it->pos >= it->len) return false;
    const char *start = it->text + it->pos;
    const char *nl = memchr(start, '\n', it->len - it->pos);
    size_t n = nl ? (size_t)(nl - start) : it->len - it->pos;
    it->pos += n + (nl ? 1 : 0);
    it->number++;
    if (n && start[n - 1] == '\r') n--;
    *line = (span){start, n};
    return true;
}

/* Whether a config file has a "[profile default]" section (which hides "[default]"). */
static bool has_prefixed_default(const char *text, size_t len)
{
    line_iter it = {text, len, 0, 0};
    span line;
    while (next_line(&it, &line)) {
        if (line.n == 0 || line.p[0] != '[') continue;
        span s = prepare(line, false);
        if (s.n < 2 || s.p[s.n - 1] != ']') continue;
        section_key k = parse_key((span){s.p + 1, s.n - 2});
        if (k.form == KEY_DEFAULT && k.prefixed) return true;
    }
    return false;
}

typedef struct parser {
    mqtt5_profile_set *set; /* the copy being built */
    mqtt5_profile_file_kind kind;
    bool skip_unprefixed_default;
    size_t line_number;
    bool in_section;     /* a section line was read (maybe an ignored one) */
    int section_kind;    /* -1: the section is ignored */
    size_t section;      /* its index */
    bool in_property;    /* a property line was read in this section */
    bool property_kept;  /* it is stored (section kept, name an identifier) */
    bool sub_properties; /* its value was empty: continuations are "key = value" */
    size_t property;     /* its index */
    char *err;
    size_t err_cap;
} parser;

static void err_put(char *err, size_t cap, size_t *at, const char *s)
{
    while (*s && *at + 1 < cap)
        err[(*at)++] = *s++;
    err[*at] = '\0';
}

/* "line N: message" into the caller's buffer (truncated to fit). */
static int fail(parser *ps, const char *msg)
{
    if (ps->err && ps->err_cap) {
        char digits[24];
        size_t n = sizeof digits, v = ps->line_number;
        digits[--n] = '\0';
        do {
            digits[--n] = (char)('0' + v % 10);
            v /= 10;
        } while (v && n);
        size_t at = 0;
        err_put(ps->err, ps->err_cap, &at, "line ");
        err_put(ps->err, ps->err_cap, &at, digits + n);
        err_put(ps->err, ps->err_cap, &at, ": ");
        err_put(ps->err, ps->err_cap, &at, msg);
    }
    return MQTT5_ERR_MALFORMED;
}

static mqtt5_profile *current_section(parser *ps)
{
    return &ps->set->lists[ps->section_kind].items[ps->section];
}

static int section_line(parser *ps, span line)
{
    span s = prepare(line, false);
    if (s.n == 0 || s.p[0] != '[') return fail(ps, "Profile definition must start with '['");
    if (s.n < 2 || s.p[s.n - 1] != ']') return fail(ps, "Profile definition must end with ']'");
    section_key k = parse_key((span){s.p + 1, s.n - 2});
    ps->in_section = true;
    ps->in_property = false;
    ps->section_kind = section_target(&k, ps->kind, ps->skip_unprefixed_default);
    if (ps->section_kind < 0) return 0;
    if (k.form == KEY_DEFAULT) k.name = (span){"default", 7};
    return section_get(ps->set->alloc, &ps->set->lists[ps->section_kind], k.name.p, k.name.n,
                       &ps->section);
}

static int property_line(parser *ps, span line)
{
    if (!ps->in_section) return fail(ps, "Expected a profile definition");
    span key, value;
    switch (parse_kv(line, &key, &value)) {
    case KV_NO_EQUALS:
        return fail(ps, "Expected an '=' sign defining a property");
    case KV_NO_NAME:
        return fail(ps, "Property did not have a name");
    default:
        break;
    }
    ps->in_property = true;
    ps->sub_properties = value.n == 0;
    ps->property_kept = ps->section_kind >= 0 && is_identifier(key);
    if (!ps->property_kept) return 0;
    return prop_set(ps->set->alloc, current_section(ps), key.p, key.n, value.p, value.n,
                    &ps->property);
}

static int continuation_line(parser *ps, span line)
{
    if (!ps->in_section) return fail(ps, "Expected a profile definition");
    if (!ps->in_property) return fail(ps, "Expected a property definition, found continuation");
    if (ps->sub_properties) {
        span key, value;
        switch (parse_kv(line, &key, &value)) {
        case KV_NO_EQUALS:
            return fail(ps, "Expected an '=' sign defining a sub-property");
        case KV_NO_NAME:
            return fail(ps, "Sub-property did not have a name");
        default:
            break;
        }
    }
    if (!ps->property_kept) return 0;
    span s = trim_blank(line);
    return prop_append(ps->set->alloc, &current_section(ps)->props[ps->property], s.p, s.n);
}

static int parse_lines(parser *ps, const char *text, size_t len)
{
    line_iter it = {text, len, 0, 0};
    span line;
    while (next_line(&it, &line)) {
        ps->line_number = it.number;
        if (line.n && memchr(line.p, '\0', line.n)) return fail(ps, "NUL character in the file");
        if (trim_blank(line).n == 0 || line.p[0] == '#' || line.p[0] == ';') continue;
        int rc;
        if (line.p[0] == '[')
            rc = section_line(ps, line);
        else if (is_blank(line.p[0]))
            rc = continuation_line(ps, line);
        else
            rc = property_line(ps, line);
        if (rc) return rc;
    }
    return 0;
}

/* Sub-properties of a value that started empty and was continued ("\nk = v\nk2 = v2"). */
static int prop_build_subs(const mqtt5_allocator *a, prop *p)
{
    mem_wipe_put(a, p->subs, p->subs_size);
    p->subs = NULL;
    p->subs_size = 0;
    p->dirty = false;
    if (p->value_len == 0 || p->value[0] != '\n') return 0;
    size_t size = 0;
    char *out = NULL;
    for (int pass = 0; pass < 2; pass++) {
        line_iter it = {p->value + 1, p->value_len - 1, 0, 0};
        size_t at = 0;
        span line, key, value;
        while (next_line(&it, &line)) {
            if (parse_kv(line, &key, &value) != KV_OK) continue;
            if (out) {
                for (size_t i = 0; i < key.n; i++)
                    out[at + i] = lower(key.p[i]);
                out[at + key.n] = '\0';
                memcpy(out + at + key.n + 1, value.p, value.n);
                out[at + key.n + 1 + value.n] = '\0';
            }
            at += key.n + value.n + 2;
        }
        if (pass == 0) {
            if (at == 0) return 0;
            size = at;
            out = mem_get(a, size);
            if (!out) return MQTT5_ERR_NOMEM;
        }
    }
    p->subs = out;
    p->subs_size = size;
    return 0;
}

static int build_dirty_subs(mqtt5_profile_set *set)
{
    for (int k = 0; k < SECTION_KINDS; k++) {
        section_list *l = &set->lists[k];
        for (size_t i = 0; i < l->count; i++) {
            for (size_t j = 0; j < l->items[i].count; j++) {
                prop *p = &l->items[i].props[j];
                if (!p->dirty) continue;
                int rc = prop_build_subs(set->alloc, p);
                if (rc) return rc;
            }
        }
    }
    return 0;
}

/* ---- API ----------------------------------------------------------------------------------- */

int mqtt5_profile_set_new(const mqtt5_allocator *alloc, mqtt5_profile_set **out)
{
    if (!out) return MQTT5_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!alloc || !alloc->allocate || !alloc->release) return MQTT5_ERR_INVALID_ARGUMENT;
    mqtt5_profile_set *set = mem_get(alloc, sizeof *set);
    if (!set) return MQTT5_ERR_NOMEM;
    memset(set, 0, sizeof *set);
    set->alloc = alloc;
    *out = set;
    return 0;
}

void mqtt5_profile_set_destroy(mqtt5_profile_set *set)
{
    if (!set) return;
    const mqtt5_allocator *a = set->alloc;
    set_clear(set);
    mem_put(a, set, sizeof *set);
}

int mqtt5_profile_set_parse(mqtt5_profile_set *set, mqtt5_profile_file_kind kind, const char *text,
                            size_t len, char *err, size_t err_cap)
{
    if (err && err_cap) err[0] = '\0';
    if (!set || (!text && len) ||
        (kind != MQTT5_PROFILE_FILE_CONFIG && kind != MQTT5_PROFILE_FILE_CREDENTIALS))
        return MQTT5_ERR_INVALID_ARGUMENT;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        text += 3; /* a UTF-8 byte order mark (Windows editors write one) */
        len -= 3;
    }
    mqtt5_profile_set work;
    memset(&work, 0, sizeof work);
    work.alloc = set->alloc;
    parser ps;
    memset(&ps, 0, sizeof ps);
    ps.set = &work;
    ps.kind = kind;
    ps.skip_unprefixed_default =
        kind == MQTT5_PROFILE_FILE_CONFIG && has_prefixed_default(text, len);
    ps.err = err;
    ps.err_cap = err_cap;
    int rc = set_copy(&work, set);
    if (rc == 0) rc = parse_lines(&ps, text, len);
    if (rc == 0) rc = build_dirty_subs(&work);
    if (rc) {
        if (rc == MQTT5_ERR_NOMEM && err && err_cap) {
            size_t at = 0;
            err_put(err, err_cap, &at, "out of memory");
        }
        set_clear(&work);
        return rc;
    }
    mqtt5_profile_set old = *set;
    *set = work;
    set_clear(&old);
    return 0;
}

const mqtt5_profile *mqtt5_profile_set_find(const mqtt5_profile_set *set,
                                            mqtt5_profile_section_kind kind, const char *name)
{
    if (!set || !name || (unsigned)kind >= SECTION_KINDS) return NULL;
    const section_list *l = &set->lists[kind];
    size_t n = strlen(name);
    for (size_t i = 0; i < l->count; i++)
        if (l->items[i].name_len == n && memcmp(l->items[i].name, name, n) == 0)
            return &l->items[i];
    return NULL;
}

size_t mqtt5_profile_set_count(const mqtt5_profile_set *set, mqtt5_profile_section_kind kind)
{
    if (!set || (unsigned)kind >= SECTION_KINDS) return 0;
    return set->lists[kind].count;
}

const mqtt5_profile *mqtt5_profile_set_at(const mqtt5_profile_set *set,
                                          mqtt5_profile_section_kind kind, size_t i)
{
    if (!set || (unsigned)kind >= SECTION_KINDS || i >= set->lists[kind].count) return NULL;
    return &set->lists[kind].items[i];
}

const char *mqtt5_profile_name(const mqtt5_profile *p)
{
    return p ? p->name : NULL;
}

static const prop *find_prop(const mqtt5_profile *p, const char *name)
{
    if (!p || !name) return NULL;
    size_t n = strlen(name);
    for (size_t i = 0; i < p->count; i++)
        if (p->props[i].name_len == n && ieq(p->props[i].name, name, n)) return &p->props[i];
    return NULL;
}

const char *mqtt5_profile_get(const mqtt5_profile *p, const char *name)
{
    const prop *pr = find_prop(p, name);
    return pr ? pr->value : NULL;
}

const char *mqtt5_profile_get_sub(const mqtt5_profile *p, const char *name, const char *sub)
{
    const prop *pr = find_prop(p, name);
    if (!pr || !pr->subs || !sub) return NULL;
    size_t n = strlen(sub);
    const char *found = NULL;
    const char *at = pr->subs, *end = pr->subs + pr->subs_size;
    while (at < end) {
        const char *value = at + strlen(at) + 1;
        if (ieq(at, sub, n)) found = value; /* the last definition wins */
        at = value + strlen(value) + 1;
    }
    return found;
}

size_t mqtt5_profile_property_count(const mqtt5_profile *p)
{
    return p ? p->count : 0;
}

void mqtt5_profile_property_at(const mqtt5_profile *p, size_t i, const char **name,
                               const char **value)
{
    const prop *pr = (p && i < p->count) ? &p->props[i] : NULL;
    if (name) *name = pr ? pr->name : NULL;
    if (value) *value = pr ? pr->value : NULL;
}
