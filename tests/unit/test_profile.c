/*
 * test_profile.c - the AWS shared config/credentials file parser and file locator
 * (src/credentials/profile.h).
 *
 * 1. Every case of the AWS SDKs' profile-parser-tests.json (tests/vectors/aws-credentials, found
 *    through MQTT5_TEST_VECTORS): the config file then the credentials file are parsed from
 *    exact-size buffers (ASan sees any read past the length); the resulting profiles and
 *    sso-sessions must equal the expected maps exactly (same names, same properties, same
 *    values, nothing more), or a parse must fail with a message containing errorContaining and
 *    leave the set unchanged. Each case is run again failing every allocation in turn: a parse
 *    that runs out of memory must leave the set unchanged, and nothing may leak.
 * 2. Every case of file-location-tests.json: both paths and the profile name.
 * 3. Own cases: CRLF line endings, a UTF-8 byte order mark, very long lines, NUL bytes, error
 *    line numbers and truncation, merging and lookups, sub-properties, and the locator's explicit
 *    arguments, '~' expansion, missing home and small buffers.
 * A failing suite case is printed with its name; the test fails if any case fails.
 */
#define _POSIX_C_SOURCE 200809L
#include "helpers/test_common.h"
#include "helpers/test_allocator.h"

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "credentials/profile.h"

/* ---- helpers ------------------------------------------------------------------------------- */

static const char *vectors_dir(void)
{
    const char *dir = getenv("MQTT5_TEST_VECTORS");
    if (!dir || !*dir) fail_msg("MQTT5_TEST_VECTORS is not set (ctest sets it to tests/vectors)");
    return dir;
}

/* The JSON document tests/vectors/aws-credentials/<name>; free with cJSON_Delete. */
static cJSON *load_suite(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/aws-credentials/%s", vectors_dir(), name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    char *text = test_alloc((size_t)n + 1);
    size_t got = fread(text, 1, (size_t)n, f);
    fclose(f);
    assert_int_equal(got, (size_t)n);
    text[got] = '\0';
    cJSON *doc = cJSON_Parse(text);
    if (!doc) fail_msg("%s is not valid JSON", path);
    return doc;
}

/* An exact-size copy of s[0..n) with no terminator, so a read past n is an ASan report. */
static const char *exact(const char *s, size_t n)
{
    char *p = test_alloc(n);
    if (n) memcpy(p, s, n);
    return p;
}

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

/* Everything in the set as text (malloc'd; free it), to compare a set before and after. */
static char *dump(const mqtt5_profile_set *set)
{
    sbuf b = {NULL, 0, 0};
    sb_add(&b, "");
    for (int k = 0; k < 2; k++) {
        size_t count = mqtt5_profile_set_count(set, (mqtt5_profile_section_kind)k);
        for (size_t i = 0; i < count; i++) {
            const mqtt5_profile *p = mqtt5_profile_set_at(set, (mqtt5_profile_section_kind)k, i);
            sb_add(&b, k ? "[sso-session " : "[profile ");
            sb_add(&b, mqtt5_profile_name(p));
            sb_add(&b, "]\n");
            for (size_t j = 0; j < mqtt5_profile_property_count(p); j++) {
                const char *name, *value;
                mqtt5_profile_property_at(p, j, &name, &value);
                sb_add(&b, name);
                sb_add(&b, "=<");
                sb_add(&b, value);
                sb_add(&b, ">\n");
            }
        }
    }
    return b.p;
}

/* ---- profile-parser-tests.json ------------------------------------------------------------- */

static int case_failures;

static void case_fail(const char *name, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void case_fail(const char *name, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_error("FAILED suite case \"%s\": %s\n", name, msg);
    case_failures++;
}

/* The set's sections of `kind` equal the JSON object `want` (NULL: none) exactly. */
static bool sections_equal(const char *name, const mqtt5_profile_set *set,
                           mqtt5_profile_section_kind kind, const cJSON *want, const char *what)
{
    size_t want_count = want ? (size_t)cJSON_GetArraySize(want) : 0;
    size_t count = mqtt5_profile_set_count(set, kind);
    if (count != want_count) {
        char *d = dump(set);
        case_fail(name, "%zu %s, expected %zu; got:\n%s", count, what, want_count, d);
        free(d);
        return false;
    }
    for (size_t i = 0; i < count; i++) {
        const mqtt5_profile *p = mqtt5_profile_set_at(set, kind, i);
        const cJSON *wp = cJSON_GetObjectItemCaseSensitive(want, mqtt5_profile_name(p));
        if (!cJSON_IsObject(wp)) {
            case_fail(name, "unexpected %s \"%s\"", what, mqtt5_profile_name(p));
            return false;
        }
        if (mqtt5_profile_set_find(set, kind, mqtt5_profile_name(p)) != p) {
            case_fail(name, "find(\"%s\") is not at(%zu)", mqtt5_profile_name(p), i);
            return false;
        }
        size_t props = mqtt5_profile_property_count(p);
        if (props != (size_t)cJSON_GetArraySize(wp)) {
            case_fail(name, "%s \"%s\" has %zu properties, expected %d", what,
                      mqtt5_profile_name(p), props, cJSON_GetArraySize(wp));
            return false;
        }
        for (size_t j = 0; j < props; j++) {
            const char *pn, *pv;
            mqtt5_profile_property_at(p, j, &pn, &pv);
            const cJSON *wv = cJSON_GetObjectItemCaseSensitive(wp, pn);
            if (!cJSON_IsString(wv)) {
                case_fail(name, "%s \"%s\": unexpected property \"%s\"", what,
                          mqtt5_profile_name(p), pn);
                return false;
            }
            if (strcmp(pv, wv->valuestring) != 0) {
                case_fail(name, "%s \"%s\": %s = \"%s\", expected \"%s\"", what,
                          mqtt5_profile_name(p), pn, pv, wv->valuestring);
                return false;
            }
            if (mqtt5_profile_get(p, pn) != pv) {
                case_fail(name, "get(\"%s\") does not find property %zu", pn, j);
                return false;
            }
        }
    }
    return true;
}

typedef struct case_input {
    const char *text[2]; /* config, credentials; NULL if absent */
    size_t len[2];
} case_input;

/* Parse the case's files into a fresh set with allocation `fail_k` failing (0: none). Checks that
 * a failed parse leaves the set unchanged and that nothing leaks. Returns false (reported) on a
 * broken rule; *injected says whether the failure was reached. */
static bool run_case(const char *name, const case_input *in, const cJSON *output, size_t fail_k,
                     bool *injected)
{
    test_allocator ta;
    test_allocator_init(&ta);
    bool ok = true;
    mqtt5_profile_set *set = NULL;
    if (fail_k) test_allocator_fail_at(&ta, fail_k, false);
    int rc = mqtt5_profile_set_new(test_allocator_get(&ta), &set);
    if (rc) {
        if (rc != MQTT5_ERR_NOMEM || !fail_k) {
            case_fail(name, "set_new: %s", mqtt5_error_name(rc));
            ok = false;
        }
        goto done;
    }
    const cJSON *want_error = cJSON_GetObjectItemCaseSensitive(output, "errorContaining");
    bool saw_error = false;
    for (int f = 0; f < 2 && ok; f++) {
        if (!in->text[f]) continue;
        char *before = dump(set);
        char err[256];
        memset(err, 'x', sizeof err);
        rc = mqtt5_profile_set_parse(set,
                                     f ? MQTT5_PROFILE_FILE_CREDENTIALS : MQTT5_PROFILE_FILE_CONFIG,
                                     in->text[f], in->len[f], err, sizeof err);
        char *after = dump(set);
        if (rc && strcmp(before, after) != 0) {
            case_fail(name, "failed parse (%s) changed the set:\n%s\n->\n%s", mqtt5_error_name(rc),
                      before, after);
            ok = false;
        }
        free(before);
        free(after);
        if (rc == MQTT5_ERR_NOMEM && fail_k) break;
        if (rc == MQTT5_ERR_MALFORMED && cJSON_IsString(want_error)) {
            saw_error = true;
            if (!strstr(err, want_error->valuestring) || strncmp(err, "line ", 5) != 0) {
                case_fail(name, "error \"%s\" does not contain \"%s\"", err,
                          want_error->valuestring);
                ok = false;
            }
            break;
        }
        if (rc) {
            case_fail(name, "%s file: %s (%s)", f ? "credentials" : "config", mqtt5_error_name(rc),
                      err);
            ok = false;
        }
    }
    if (ok && (!fail_k || ta.failures == 0)) {
        if (cJSON_IsString(want_error)) {
            if (!saw_error) {
                case_fail(name, "parsed, expected an error containing \"%s\"",
                          want_error->valuestring);
                ok = false;
            }
        } else {
            const cJSON *config = cJSON_GetObjectItemCaseSensitive(output, "config");
            ok = sections_equal(name, set, MQTT5_PROFILE_SECTION_PROFILE,
                                cJSON_GetObjectItemCaseSensitive(config, "profiles"), "profiles") &&
                 sections_equal(name, set, MQTT5_PROFILE_SECTION_SSO_SESSION,
                                cJSON_GetObjectItemCaseSensitive(config, "sso_sessions"),
                                "sso-sessions");
        }
    }
    mqtt5_profile_set_destroy(set);
done:
    *injected = ta.failures > 0;
    if (ta.live_blocks) {
        case_fail(name, "%zu blocks leaked (allocation failure %zu)", ta.live_blocks, fail_k);
        test_allocator_release_all(&ta);
        ok = false;
    } else {
        test_allocator_destroy(&ta);
    }
    return ok;
}

static void test_parser_suite(void **state)
{
    (void)state;
    cJSON *doc = load_suite("profile-parser-tests.json");
    const cJSON *tests = cJSON_GetObjectItemCaseSensitive(doc, "tests");
    assert_true(cJSON_IsArray(tests));
    int total = 0, passed = 0;
    size_t sweeps = 0;
    case_failures = 0;
    const cJSON *tc;
    cJSON_ArrayForEach(tc, tests)
    {
        total++;
        const cJSON *jname = cJSON_GetObjectItemCaseSensitive(tc, "name");
        const char *name = cJSON_IsString(jname) ? jname->valuestring : "(unnamed)";
        const cJSON *input = cJSON_GetObjectItemCaseSensitive(tc, "input");
        const cJSON *output = cJSON_GetObjectItemCaseSensitive(tc, "output");
        case_input in = {{NULL, NULL}, {0, 0}};
        static const char *const keys[2] = {"configFile", "credentialsFile"};
        for (int f = 0; f < 2; f++) {
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(input, keys[f]);
            if (!cJSON_IsString(t)) continue;
            in.len[f] = strlen(t->valuestring);
            in.text[f] = exact(t->valuestring, in.len[f]);
        }
        bool injected;
        bool ok = run_case(name, &in, output, 0, &injected);
        /* again with each allocation failing in turn, until none is left to fail */
        for (size_t k = 1; ok; k++) {
            ok = run_case(name, &in, output, k, &injected);
            if (!injected) break;
            sweeps++;
        }
        if (ok) passed++;
    }
    cJSON_Delete(doc);
    print_message("profile-parser-tests.json: %d of %d cases pass (%zu allocation failures)\n",
                  passed, total, sweeps);
    assert_int_equal(case_failures, 0);
    assert_int_equal(passed, total);
    assert_int_equal(total, 65);
}

/* ---- file-location-tests.json -------------------------------------------------------------- */

static const char *json_getenv(void *user, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive((const cJSON *)user, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void test_location_suite(void **state)
{
    (void)state;
    cJSON *doc = load_suite("file-location-tests.json");
    const cJSON *tests = cJSON_GetObjectItemCaseSensitive(doc, "tests");
    assert_true(cJSON_IsArray(tests));
    int total = 0, passed = 0;
    case_failures = 0;
    const cJSON *tc;
    cJSON_ArrayForEach(tc, tests)
    {
        total++;
        const char *name = cJSON_GetObjectItemCaseSensitive(tc, "name")->valuestring;
        const cJSON *envj = cJSON_GetObjectItemCaseSensitive(tc, "environment");
        const cJSON *platform = cJSON_GetObjectItemCaseSensitive(tc, "platform");
        bool windows = cJSON_IsString(platform) && strcmp(platform->valuestring, "windows") == 0;
        char config[512], credentials[512], profile[128];
        int rc = mqtt5_profile_locate(json_getenv, (void *)envj, windows, NULL, NULL, NULL, config,
                                      sizeof config, credentials, sizeof credentials, profile,
                                      sizeof profile);
        if (rc) {
            case_fail(name, "locate: %s", mqtt5_error_name(rc));
            continue;
        }
        static const char *const keys[3] = {"configLocation", "credentialsLocation", "profile"};
        const char *got[3] = {config, credentials, profile};
        bool ok = true;
        for (int i = 0; i < 3; i++) {
            const cJSON *want = cJSON_GetObjectItemCaseSensitive(tc, keys[i]);
            if (!cJSON_IsString(want)) continue; /* not given by this case */
            if (strcmp(got[i], want->valuestring) != 0) {
                case_fail(name, "%s \"%s\", expected \"%s\"", keys[i], got[i], want->valuestring);
                ok = false;
            }
        }
        if (ok) passed++;
    }
    cJSON_Delete(doc);
    print_message("file-location-tests.json: %d of %d cases pass\n", passed, total);
    assert_int_equal(case_failures, 0);
    assert_int_equal(passed, total);
    assert_int_equal(total, 9);
}

/* ---- own cases ----------------------------------------------------------------------------- */

typedef struct fixture {
    test_allocator ta;
    mqtt5_profile_set *set;
    char err[256];
} fixture;

static void fx_init(fixture *fx)
{
    test_allocator_init(&fx->ta);
    assert_err(mqtt5_profile_set_new(test_allocator_get(&fx->ta), &fx->set), MQTT5_OK);
}

static void fx_done(fixture *fx)
{
    mqtt5_profile_set_destroy(fx->set);
    assert_no_leaks(&fx->ta);
}

/* Parse s[0..n) from an exact-size copy. */
static int fx_parse_n(fixture *fx, mqtt5_profile_file_kind kind, const char *s, size_t n)
{
    return mqtt5_profile_set_parse(fx->set, kind, exact(s, n), n, fx->err, sizeof fx->err);
}

#define fx_parse(fx, kind, lit) fx_parse_n((fx), (kind), (lit), sizeof(lit) - 1)
#define CONFIG MQTT5_PROFILE_FILE_CONFIG
#define CREDENTIALS MQTT5_PROFILE_FILE_CREDENTIALS
#define PROFILE MQTT5_PROFILE_SECTION_PROFILE
#define SSO MQTT5_PROFILE_SECTION_SSO_SESSION

static const char *get(const fixture *fx, const char *profile, const char *name)
{
    const mqtt5_profile *p = mqtt5_profile_set_find(fx->set, PROFILE, profile);
    assert_non_null(p);
    return mqtt5_profile_get(p, name);
}

static void test_crlf(void **state)
{
    (void)state;
    fixture fx;
    fx_init(&fx);
    assert_err(fx_parse(&fx, CONFIG,
                        "[profile a]\r\nregion = us-east-1\r\ns3 =\r\n  max_concurrent_requests "
                        "= 10\r\n\r\n\r\n[default] ; c\r\nx = one\r\n  two\r\n"),
               MQTT5_OK);
    assert_string_equal(get(&fx, "a", "region"), "us-east-1");
    assert_string_equal(get(&fx, "a", "s3"), "\nmax_concurrent_requests = 10");
    const mqtt5_profile *a = mqtt5_profile_set_find(fx.set, PROFILE, "a");
    assert_string_equal(mqtt5_profile_get_sub(a, "s3", "max_concurrent_requests"), "10");
    assert_string_equal(get(&fx, "default", "x"), "one\ntwo");
    /* a bare '\r' ending the last line is dropped too */
    assert_err(fx_parse(&fx, CREDENTIALS, "[a]\r\naws_access_key_id = AKID\r"), MQTT5_OK);
    assert_string_equal(get(&fx, "a", "aws_access_key_id"), "AKID");
    fx_done(&fx);
}

static void test_bom(void **state)
{
    (void)state;
    fixture fx;
    fx_init(&fx);
    assert_err(fx_parse(&fx, CREDENTIALS, "\xef\xbb\xbf[default]\naws_access_key_id = AKID\n"),
               MQTT5_OK);
    assert_string_equal(get(&fx, "default", "aws_access_key_id"), "AKID");
    /* only at the very start: a BOM elsewhere is text (here: a property line outside a section
     * would be an error, but it sits inside [default] and is no identifier, so it is ignored) */
    assert_err(fx_parse(&fx, CREDENTIALS, "[default]\n\xef\xbb\xbfkey = v\n"), MQTT5_OK);
    assert_int_equal(
        mqtt5_profile_property_count(mqtt5_profile_set_find(fx.set, PROFILE, "default")), 1);
    /* a BOM alone, and a BOM cut short */
    assert_err(fx_parse(&fx, CONFIG, "\xef\xbb\xbf"), MQTT5_OK);
    assert_err(fx_parse(&fx, CONFIG, "\xef\xbb"), MQTT5_ERR_MALFORMED);
    assert_non_null(strstr(fx.err, "line 1: Expected a profile definition"));
    fx_done(&fx);
}

static void test_long_lines(void **state)
{
    (void)state;
    fixture fx;
    fx_init(&fx);
    enum { LONG = 1 << 20 };
    char *text = test_alloc(3 * LONG + 256);
    size_t n = 0;
    n += (size_t)sprintf(text + n, "[profile ");
    for (size_t i = 0; i < LONG / 4; i++)
        text[n++] = (char)('a' + i % 26);
    n += (size_t)sprintf(text + n, "]\n");
    for (size_t i = 0; i < LONG; i++) /* a blank line of a million spaces and tabs */
        text[n++] = (i & 1) ? ' ' : '\t';
    n += (size_t)sprintf(text + n, "\nkey = ");
    size_t value_at = n;
    for (size_t i = 0; i < LONG; i++)
        text[n++] = (char)('A' + i % 26);
    n += (size_t)sprintf(text + n, "\n continued\n");
    assert_err(fx_parse_n(&fx, CONFIG, text, n), MQTT5_OK);
    assert_int_equal(mqtt5_profile_set_count(fx.set, PROFILE), 1);
    const mqtt5_profile *p = mqtt5_profile_set_at(fx.set, PROFILE, 0);
    assert_int_equal(strlen(mqtt5_profile_name(p)), LONG / 4);
    const char *v = mqtt5_profile_get(p, "key");
    assert_non_null(v);
    assert_int_equal(strlen(v), LONG + strlen("\ncontinued"));
    assert_memory_equal(v, text + value_at, LONG);
    assert_string_equal(v + LONG, "\ncontinued");
    /* many continuation lines grow one value */
    n = (size_t)sprintf(text, "[profile b]\nk =\n");
    for (int i = 0; i < 20000; i++)
        n += (size_t)sprintf(text + n, " s%d = %d\n", i, i);
    assert_err(fx_parse_n(&fx, CONFIG, text, n), MQTT5_OK);
    const mqtt5_profile *b = mqtt5_profile_set_find(fx.set, PROFILE, "b");
    assert_string_equal(mqtt5_profile_get_sub(b, "k", "s0"), "0");
    assert_string_equal(mqtt5_profile_get_sub(b, "k", "S19999"), "19999");
    fx_done(&fx);
}

static void test_nul_bytes(void **state)
{
    (void)state;
    fixture fx;
    fx_init(&fx);
    assert_err(fx_parse(&fx, CONFIG, "[default]\nregion = eu-west-1\n"), MQTT5_OK);
    char *before = dump(fx.set);
    /* a NUL inside the text is refused, naming its line; the set is unchanged */
    assert_err(fx_parse(&fx, CREDENTIALS, "[default]\nkey = va\0lue\n"), MQTT5_ERR_MALFORMED);
    assert_non_null(strstr(fx.err, "line 2:"));
    assert_err(fx_parse(&fx, CONFIG, "[default]\n\0"), MQTT5_ERR_MALFORMED);
    assert_non_null(strstr(fx.err, "line 2:"));
    assert_err(fx_parse(&fx, CONFIG, "[defa\0ult]"), MQTT5_ERR_MALFORMED);
    assert_non_null(strstr(fx.err, "line 1:"));
    char *after = dump(fx.set);
    assert_string_equal(before, after);
    free(before);
    free(after);
    /* a NUL after `len` is never looked at */
    static const char text[] = "[default]\nkey = value\0garbage";
    assert_err(fx_parse_n(&fx, CREDENTIALS, text, strlen(text)), MQTT5_OK);
    assert_string_equal(get(&fx, "default", "key"), "value");
    /* a length shorter than the text cuts it */
    assert_err(fx_parse_n(&fx, CREDENTIALS, "[default]\nkey = value", 18), MQTT5_OK);
    assert_string_equal(get(&fx, "default", "key"), "va");
    /* empty and NULL text */
    assert_err(mqtt5_profile_set_parse(fx.set, CONFIG, NULL, 0, NULL, 0), MQTT5_OK);
    assert_err(mqtt5_profile_set_parse(fx.set, CONFIG, NULL, 1, NULL, 0),
               MQTT5_ERR_INVALID_ARGUMENT);
    assert_err(mqtt5_profile_set_parse(NULL, CONFIG, "", 0, NULL, 0), MQTT5_ERR_INVALID_ARGUMENT);
    fx_done(&fx);
}

static void test_errors(void **state)
{
    (void)state;
    fixture fx;
    fx_init(&fx);
    assert_err(fx_parse(&fx, CONFIG, "[profile a]\nx = 1\n\n[profile b\n"), MQTT5_ERR_MALFORMED);
    assert_string_equal(fx.err, "line 4: Profile definition must end with ']'");
    assert_int_equal(mqtt5_profile_set_count(fx.set, PROFILE), 0); /* all or nothing */
    /* messages never carry the file's text (values may be secrets) */
    assert_err(fx_parse(&fx, CREDENTIALS, "[default]\nSECRETSECRET\n"), MQTT5_ERR_MALFORMED);
    assert_string_equal(fx.err, "line 2: Expected an '=' sign defining a property");
    assert_err(fx_parse(&fx, CONFIG, "[profile a]\ns3 =\n x = 1\n\t= 2\n"), MQTT5_ERR_MALFORMED);
    assert_string_equal(fx.err, "line 4: Sub-property did not have a name");
    /* comments cut section lines anywhere */
    assert_err(fx_parse(&fx, CONFIG, "[profile a;]\n"), MQTT5_ERR_MALFORMED);
    assert_string_equal(fx.err, "line 1: Profile definition must end with ']'");
    assert_err(fx_parse(&fx, CONFIG, "["), MQTT5_ERR_MALFORMED);
    /* truncated, still terminated; no buffer at all */
    char small[8];
    assert_err(mqtt5_profile_set_parse(fx.set, CONFIG, "x", 1, small, sizeof small),
               MQTT5_ERR_MALFORMED);
    assert_string_equal(small, "line 1:");
    assert_err(mqtt5_profile_set_parse(fx.set, CONFIG, "x", 1, NULL, 0), MQTT5_ERR_MALFORMED);
    assert_int_equal(mqtt5_profile_set_count(fx.set, PROFILE), 0);
    fx_done(&fx);
}

static void test_merge_and_lookup(void **state)
{
    (void)state;
    fixture fx;
    fx_init(&fx);
    assert_err(fx_parse(&fx, CONFIG,
                        "[default]\nregion = us-east-1\n"
                        "[profile dev]\nRegion = eu-west-1\nsso_session = corp\n"
                        "[sso-session corp]\nsso_start_url = https://x.awsapps.com/start\n"
                        "[services dev]\ns3 =\n endpoint_url = http://localhost\n"
                        "[profile Dev]\nregion = ap-south-1\n"),
               MQTT5_OK);
    assert_int_equal(mqtt5_profile_set_count(fx.set, PROFILE), 3); /* names are case-sensitive */
    assert_int_equal(mqtt5_profile_set_count(fx.set, SSO), 1);
    assert_string_equal(mqtt5_profile_name(mqtt5_profile_set_at(fx.set, PROFILE, 0)), "default");
    assert_null(mqtt5_profile_set_at(fx.set, PROFILE, 3));
    assert_null(mqtt5_profile_set_find(fx.set, PROFILE, "services"));
    assert_string_equal(get(&fx, "dev", "REGION"), "eu-west-1");
    assert_string_equal(get(&fx, "Dev", "region"), "ap-south-1");
    const mqtt5_profile *corp = mqtt5_profile_set_find(fx.set, SSO, "corp");
    assert_string_equal(mqtt5_profile_get(corp, "sso_start_url"), "https://x.awsapps.com/start");
    const mqtt5_profile *dev = mqtt5_profile_set_find(fx.set, PROFILE, "dev");
    const char *name, *value;
    mqtt5_profile_property_at(dev, 0, &name, &value);
    assert_string_equal(name, "region");
    mqtt5_profile_property_at(dev, 2, &name, &value);
    assert_null(name);
    assert_null(value);

    /* the credentials file wins; "[profile x]" and "[sso-session x]" mean nothing there */
    assert_err(fx_parse(&fx, CREDENTIALS,
                        "[dev]\naws_access_key_id = AKID\nregion = us-west-2\n"
                        "[profile default]\nregion = nowhere\n"
                        "[sso-session corp]\nsso_region = x\n"),
               MQTT5_OK);
    assert_string_equal(get(&fx, "dev", "region"), "us-west-2");
    assert_string_equal(get(&fx, "dev", "aws_access_key_id"), "AKID");
    assert_string_equal(get(&fx, "default", "region"), "us-east-1");
    assert_null(
        mqtt5_profile_get(corp = mqtt5_profile_set_find(fx.set, SSO, "corp"), "sso_region"));

    /* a failed parse of the credentials file keeps what the config file gave */
    char *before = dump(fx.set);
    assert_err(fx_parse(&fx, CREDENTIALS, "[dev]\nregion = x\n[broken\n"), MQTT5_ERR_MALFORMED);
    char *after = dump(fx.set);
    assert_string_equal(before, after);
    free(before);
    free(after);
    assert_string_equal(get(&fx, "dev", "region"), "us-west-2");

    /* NULLs are harmless */
    assert_null(mqtt5_profile_set_find(NULL, PROFILE, "dev"));
    assert_null(mqtt5_profile_set_find(fx.set, PROFILE, NULL));
    assert_int_equal(mqtt5_profile_set_count(NULL, PROFILE), 0);
    assert_null(mqtt5_profile_get(NULL, "x"));
    assert_null(mqtt5_profile_name(NULL));
    assert_int_equal(mqtt5_profile_property_count(NULL), 0);
    mqtt5_profile_set_destroy(NULL);
    fx_done(&fx);
}

static void test_sub_properties(void **state)
{
    (void)state;
    fixture fx;
    fx_init(&fx);
    assert_err(fx_parse(&fx, CONFIG,
                        "[profile a]\n"
                        "s3 =\n"
                        "  Max_Concurrent_Requests = 20 # twenty\n"
                        "  addressing_style = path\n"
                        "  max_concurrent_requests = 30\n"
                        "  url = http://h/?a=b\n"
                        "plain = v\n"
                        "  continued = not a sub-property\n"),
               MQTT5_OK);
    const mqtt5_profile *a = mqtt5_profile_set_find(fx.set, PROFILE, "a");
    assert_string_equal(mqtt5_profile_get(a, "s3"),
                        "\nMax_Concurrent_Requests = 20 # twenty\naddressing_style = path\n"
                        "max_concurrent_requests = 30\nurl = http://h/?a=b");
    assert_string_equal(mqtt5_profile_get_sub(a, "S3", "MAX_CONCURRENT_REQUESTS"), "30");
    assert_string_equal(mqtt5_profile_get_sub(a, "s3", "addressing_style"), "path");
    assert_string_equal(mqtt5_profile_get_sub(a, "s3", "url"), "http://h/?a=b");
    assert_null(mqtt5_profile_get_sub(a, "s3", "missing"));
    assert_null(mqtt5_profile_get_sub(a, "plain", "continued"));
    assert_string_equal(mqtt5_profile_get(a, "plain"), "v\ncontinued = not a sub-property");
    /* a later file replacing the property drops its sub-properties */
    assert_err(fx_parse(&fx, CREDENTIALS, "[a]\ns3 = flat\n"), MQTT5_OK);
    a = mqtt5_profile_set_find(fx.set, PROFILE, "a");
    assert_null(mqtt5_profile_get_sub(a, "s3", "addressing_style"));
    assert_err(fx_parse(&fx, CREDENTIALS, "[a]\ns3 =\n k = 1 ; one\n"), MQTT5_OK);
    a = mqtt5_profile_set_find(fx.set, PROFILE, "a");
    assert_string_equal(mqtt5_profile_get_sub(a, "s3", "k"), "1");
    fx_done(&fx);
}

static void test_allocation_failures(void **state)
{
    (void)state;
    static const char config[] = "[default]\nregion = us-east-1\ns3 =\n a = 1\n b = 2\n"
                                 "[profile p]\nx = y\n z\n[sso-session s]\nk = v\n";
    static const char creds[] = "[default]\naws_access_key_id = AKID\nregion = eu-west-1\n"
                                "[p]\nx = w\n";
    size_t failures = 0;
    for (size_t k = 1;; k++) {
        test_allocator ta;
        test_allocator_init(&ta);
        mqtt5_profile_set *set = NULL;
        assert_err(mqtt5_profile_set_new(test_allocator_get(&ta), &set), MQTT5_OK);
        assert_err(mqtt5_profile_set_parse(set, CONFIG, config, strlen(config), NULL, 0), MQTT5_OK);
        char *before = dump(set);
        test_allocator_fail_at(&ta, k, true);
        char err[64];
        int rc = mqtt5_profile_set_parse(set, CREDENTIALS, creds, strlen(creds), err, sizeof err);
        char *after = dump(set);
        if (rc) {
            assert_err(rc, MQTT5_ERR_NOMEM);
            assert_string_equal(err, "out of memory");
            assert_string_equal(before, after);
            failures++;
        }
        free(before);
        free(after);
        mqtt5_profile_set_destroy(set);
        assert_no_leaks(&ta);
        if (!rc) break;
        assert_true(k < 1000);
    }
    assert_true(failures > 10);
    test_allocator ta;
    test_allocator_init(&ta);
    mqtt5_profile_set *set = (mqtt5_profile_set *)1;
    test_allocator_fail_at(&ta, 1, false);
    assert_err(mqtt5_profile_set_new(test_allocator_get(&ta), &set), MQTT5_ERR_NOMEM);
    assert_null(set);
    assert_err(mqtt5_profile_set_new(NULL, &set), MQTT5_ERR_INVALID_ARGUMENT);
    assert_no_leaks(&ta);
}

/* ---- locate -------------------------------------------------------------------------------- */

typedef struct env_pairs {
    const char *const *kv; /* name, value, ..., NULL */
} env_pairs;

static const char *pairs_getenv(void *user, const char *name)
{
    const env_pairs *e = user;
    for (size_t i = 0; e->kv[i]; i += 2)
        if (strcmp(e->kv[i], name) == 0) return e->kv[i + 1];
    return NULL;
}

typedef struct located {
    int rc;
    char config[256], credentials[256], profile[64];
} located;

static located locate(const char *const *kv, bool windows, const char *config,
                      const char *credentials, const char *profile)
{
    located r;
    env_pairs e = {kv};
    r.rc = mqtt5_profile_locate(pairs_getenv, &e, windows, config, credentials, profile, r.config,
                                sizeof r.config, r.credentials, sizeof r.credentials, r.profile,
                                sizeof r.profile);
    return r;
}

static void test_locate(void **state)
{
    (void)state;
    static const char *const home[] = {"HOME", "/home/u", "AWS_PROFILE", "envp", NULL};
    /* explicit arguments win over the environment; "~" is expanded in both */
    located r = locate(home, false, "~/cfg", "/abs/creds", "argp");
    assert_err(r.rc, MQTT5_OK);
    assert_string_equal(r.config, "/home/u/cfg");
    assert_string_equal(r.credentials, "/abs/creds");
    assert_string_equal(r.profile, "argp");
    r = locate(home, false, "~", "", "");
    assert_string_equal(r.config, "/home/u");
    assert_string_equal(r.credentials, "/home/u/.aws/credentials");
    assert_string_equal(r.profile, "envp");
    static const char *const tilde_env[] = {
        "HOME",    "/home/u/", "AWS_CONFIG_FILE", "~/c", "AWS_SHARED_CREDENTIALS_FILE",
        "~user/c", NULL};
    r = locate(tilde_env, false, NULL, NULL, NULL);
    assert_string_equal(r.config, "/home/u/c");    /* no doubled separator */
    assert_string_equal(r.credentials, "~user/c"); /* only "~" and "~/" are expanded */
    assert_string_equal(r.profile, "default");
    /* Windows: "~\" and "~/" both expand, with the platform separator */
    static const char *const win[] = {"USERPROFILE",
                                      "C:\\Users\\u",
                                      "AWS_CONFIG_FILE",
                                      "~/x/config",
                                      "AWS_SHARED_CREDENTIALS_FILE",
                                      "~\\creds",
                                      NULL};
    r = locate(win, true, NULL, NULL, NULL);
    assert_err(r.rc, MQTT5_OK);
    assert_string_equal(r.config, "C:\\Users\\u\\x\\config");
    assert_string_equal(r.credentials, "C:\\Users\\u\\creds");
    /* Linux knows only HOME; an empty variable is unset */
    static const char *const no_home[] = {
        "HOME", "", "USERPROFILE", "C:\\u", "AWS_CONFIG_FILE", "/etc/aws/config", NULL};
    r = locate(no_home, false, NULL, NULL, NULL);
    assert_err(r.rc, MQTT5_ERR_NOT_FOUND);
    assert_string_equal(r.config, "/etc/aws/config");
    assert_string_equal(r.credentials, "");
    assert_string_equal(r.profile, "default");
    r = locate(no_home, false, NULL, "~/c", "p");
    assert_err(r.rc, MQTT5_ERR_NOT_FOUND);
    assert_string_equal(r.credentials, "");
    assert_string_equal(r.profile, "p");
    /* HOMEDRIVE without HOMEPATH is no home */
    static const char *const drive_only[] = {"HOMEDRIVE", "C:", NULL};
    r = locate(drive_only, true, NULL, NULL, NULL);
    assert_err(r.rc, MQTT5_ERR_NOT_FOUND);
    /* no environment at all */
    char c[64], k[64], p[64];
    assert_err(mqtt5_profile_locate(NULL, NULL, false, "/c", "/k", NULL, c, sizeof c, k, sizeof k,
                                    p, sizeof p),
               MQTT5_OK);
    assert_string_equal(p, "default");
    /* results that do not fit */
    assert_err(mqtt5_profile_locate(pairs_getenv, &(env_pairs){home}, false, NULL, NULL, NULL, c,
                                    sizeof c, k, 10, p, sizeof p),
               MQTT5_ERR_INVALID_ARGUMENT);
    assert_string_equal(k, "");
    assert_string_equal(c, "/home/u/.aws/config");
    char exact_fit[sizeof "/home/u/.aws/config"];
    assert_err(mqtt5_profile_locate(pairs_getenv, &(env_pairs){home}, false, NULL, NULL, NULL,
                                    exact_fit, sizeof exact_fit, k, sizeof k, p, sizeof p),
               MQTT5_OK);
    assert_string_equal(exact_fit, "/home/u/.aws/config");
    assert_err(
        mqtt5_profile_locate(NULL, NULL, false, NULL, NULL, NULL, c, 0, k, sizeof k, p, sizeof p),
        MQTT5_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parser_suite),   cmocka_unit_test(test_location_suite),
        cmocka_unit_test(test_crlf),           cmocka_unit_test(test_bom),
        cmocka_unit_test(test_long_lines),     cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_errors),         cmocka_unit_test(test_merge_and_lookup),
        cmocka_unit_test(test_sub_properties), cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_locate),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
