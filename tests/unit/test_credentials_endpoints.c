/*
 * test_credentials_endpoints.c - where the IMDS and ECS providers send their requests and the
 * configuration errors the HTTP providers report before any request, all without a network:
 *
 * 1. The AWS SDKs' shared suites, read from $MQTT5_TEST_VECTORS/aws-credentials/ with cJSON:
 *    imds-config/imds-endpoint-tests.json through mqtt5_imds_endpoint_resolve (the profile's
 *    ec2_metadata_service_endpoint(_mode) parsed from the case's "fs" config with the profile
 *    parser) and ecs-tests.json through mqtt5_ecs_uri_resolve; then edge cases of both.
 * 2. The IMDS, ECS, web identity and Cognito providers through the public API with a fake system
 *    seam (environment and files from tables) and an event-loop group: disabled / not enabled,
 *    invalid settings, unreadable token files, an STS endpoint that is not a URL - each with a
 *    detail that names the provider and the reason and never shows a token.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "credentials/profile.h"
#include "credentials/providers.h"
#include "helpers/fake_system.h"
#include "mqtt5/credentials.h"
#include "mqtt5/error.h"
#include "mqtt5/runtime.h"

/* ---- files and the shared suites ----------------------------------------------------------- */

static cJSON *load_suite(const char *rel)
{
    const char *dir = getenv("MQTT5_TEST_VECTORS");
    if (!dir || !*dir) fail_msg("MQTT5_TEST_VECTORS is not set (ctest sets it to tests/vectors)");
    char path[1024];
    snprintf(path, sizeof path, "%s/aws-credentials/%s", dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    assert_non_null(text);
    size_t got = fread(text, 1, (size_t)n, f);
    fclose(f);
    text[got] = '\0';
    cJSON *doc = cJSON_Parse(text);
    free(text);
    if (!doc) fail_msg("%s is not JSON", path);
    cJSON *tests = cJSON_GetObjectItemCaseSensitive(doc, "tests");
    if (!cJSON_IsArray(tests) || cJSON_GetArraySize(tests) == 0) {
        cJSON_Delete(doc);
        fail_msg("%s has no tests", path);
    }
    return doc;
}

/* getenv over a JSON object of strings */
static const char *json_getenv(void *user, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive((const cJSON *)user, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *json_str(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Failures of a suite, reported together at the end. */
typedef struct tally {
    int cases, failed;
} tally;

static void case_failed(tally *t, const char *docs, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void case_failed(tally *t, const char *docs, const char *fmt, ...)
{
    t->failed++;
    fprintf(stderr, "    case \"%s\": ", docs);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Check one result against {"Ok": url} or {"Err"/"ErrorContains": text}. */
static void check_result(tally *t, const char *docs, const cJSON *result, int rc, const char *got,
                         const char *err, int expected_error)
{
    const char *ok = json_str(result, "Ok");
    const char *want_err = json_str(result, "Err");
    if (!want_err) want_err = json_str(result, "ErrorContains");
    if (ok) {
        if (rc)
            case_failed(t, docs, "expected %s, got %s: %s", ok, mqtt5_error_name(rc), err);
        else if (strcmp(got, ok))
            case_failed(t, docs, "expected %s, got %s", ok, got);
    } else if (want_err) {
        if (!rc)
            case_failed(t, docs, "expected an error containing \"%s\", got %s", want_err, got);
        else if (!strstr(err, want_err))
            case_failed(t, docs, "error \"%s\" does not contain \"%s\"", err, want_err);
        else if (expected_error && rc != expected_error && rc != MQTT5_ERR_PROVIDER_NOT_ENABLED)
            case_failed(t, docs, "unexpected error code %s", mqtt5_error_name(rc));
    } else {
        case_failed(t, docs, "result has neither Ok nor an error");
    }
}

/* The [default] profile's value of `name` in the case's config file (AWS_CONFIG_FILE -> fs);
 * a config that does not parse fails the case (not the test: the document is still held). */
static char *profile_value(tally *t, const char *docs, const cJSON *env, const cJSON *fs,
                           const char *name)
{
    const char *file = json_str(env, "AWS_CONFIG_FILE");
    const char *text = file ? json_str(fs, file) : NULL;
    if (!text) return NULL;
    mqtt5_profile_set *set = NULL;
    if (mqtt5_profile_set_new(mqtt5_allocator_libc(), &set)) {
        case_failed(t, docs, "mqtt5_profile_set_new failed");
        return NULL;
    }
    char err[256];
    int rc = mqtt5_profile_set_parse(set, MQTT5_PROFILE_FILE_CONFIG, text, strlen(text), err,
                                     sizeof err);
    if (rc) {
        mqtt5_profile_set_destroy(set);
        case_failed(t, docs, "config of the case does not parse: %s", err);
        return NULL;
    }
    const mqtt5_profile *p = mqtt5_profile_set_find(set, MQTT5_PROFILE_SECTION_PROFILE, "default");
    const char *v = p ? mqtt5_profile_get(p, name) : NULL;
    char *copy = v ? strdup(v) : NULL;
    mqtt5_profile_set_destroy(set);
    return copy;
}

static void test_imds_endpoint_suite(void **state)
{
    (void)state;
    cJSON *doc = load_suite("imds-config/imds-endpoint-tests.json");
    tally t = {0};
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "tests"))
    {
        t.cases++;
        const char *docs = json_str(c, "docs");
        if (!docs) docs = "?";
        const cJSON *env = cJSON_GetObjectItemCaseSensitive(c, "env");
        const cJSON *fs = cJSON_GetObjectItemCaseSensitive(c, "fs");
        char *prof_endpoint = profile_value(&t, docs, env, fs, "ec2_metadata_service_endpoint");
        char *prof_mode = profile_value(&t, docs, env, fs, "ec2_metadata_service_endpoint_mode");
        char out[512] = "", err[512] = "";
        int rc = mqtt5_imds_endpoint_resolve(
            json_str(c, "endpoint_override"), json_str(c, "mode_override"), json_getenv,
            (void *)env, prof_endpoint, prof_mode, out, sizeof out, err, sizeof err);
        free(prof_endpoint);
        free(prof_mode);
        if (!rc) strncat(out, "/latest/api/token", sizeof out - strlen(out) - 1);
        check_result(&t, docs, cJSON_GetObjectItemCaseSensitive(c, "result"), rc, out, err,
                     MQTT5_ERR_INVALID_ARGUMENT);
    }
    cJSON_Delete(doc);
    fprintf(stderr, "    imds-endpoint-tests.json: %d cases, %d failed\n", t.cases, t.failed);
    assert_true(t.cases >= 14);
    assert_int_equal(t.failed, 0);
}

static void test_ecs_suite(void **state)
{
    (void)state;
    cJSON *doc = load_suite("ecs-tests.json");
    tally t = {0};
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "tests"))
    {
        t.cases++;
        const char *docs = json_str(c, "docs");
        const cJSON *env = cJSON_GetObjectItemCaseSensitive(c, "env");
        char out[512] = "", err[512] = "";
        int rc = mqtt5_ecs_uri_resolve(json_getenv, (void *)env, out, sizeof out, err, sizeof err);
        check_result(&t, docs ? docs : "?", cJSON_GetObjectItemCaseSensitive(c, "result"), rc, out,
                     err, MQTT5_ERR_INVALID_ARGUMENT);
    }
    cJSON_Delete(doc);
    fprintf(stderr, "    ecs-tests.json: %d cases, %d failed\n", t.cases, t.failed);
    assert_true(t.cases >= 11);
    assert_int_equal(t.failed, 0);
}

/* ---- edge cases of the resolvers ----------------------------------------------------------- */

/* A NULL-terminated list of name, value pairs as an environment. */
static const char *list_getenv(void *user, const char *name)
{
    const char *const *kv = user;
    for (; kv[0]; kv += 2)
        if (!strcmp(kv[0], name)) return kv[1];
    return NULL;
}

static int imds(const char *const *env, const char *endpoint, const char *mode,
                const char *prof_endpoint, const char *prof_mode, char *out, char *err)
{
    return mqtt5_imds_endpoint_resolve(endpoint, mode, list_getenv, (void *)env, prof_endpoint,
                                       prof_mode, out, 256, err, 256);
}

static void test_imds_endpoint_edges(void **state)
{
    (void)state;
    char out[256], err[256];
    const char *none[] = {NULL};
    /* no environment at all */
    assert_int_equal(mqtt5_imds_endpoint_resolve(NULL, NULL, NULL, NULL, NULL, NULL, out,
                                                 sizeof out, err, sizeof err),
                     0);
    assert_string_equal(out, "http://169.254.169.254");
    /* trailing slashes go: requests append "/latest/..." */
    assert_int_equal(imds(none, "http://127.0.0.1:1234//", NULL, NULL, NULL, out, err), 0);
    assert_string_equal(out, "http://127.0.0.1:1234");
    /* empty variables count as unset */
    const char *empty[] = {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "",
                           "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "", NULL};
    assert_int_equal(imds(empty, NULL, NULL, NULL, "ipv6", out, err), 0);
    assert_string_equal(out, "http://[fd00:ec2::254]");
    /* the environment's mode wins over the profile's, the explicit one over both */
    const char *env_mode[] = {"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6", NULL};
    assert_int_equal(imds(env_mode, NULL, NULL, NULL, "IPv4", out, err), 0);
    assert_string_equal(out, "http://[fd00:ec2::254]");
    assert_int_equal(imds(env_mode, NULL, "ipv4", NULL, NULL, out, err), 0);
    assert_string_equal(out, "http://169.254.169.254");
    /* a profile endpoint wins over any mode */
    assert_int_equal(imds(env_mode, NULL, NULL, "https://imds.example", NULL, out, err), 0);
    assert_string_equal(out, "https://imds.example");
    /* not URLs */
    assert_int_equal(imds(none, "169.254.169.254", NULL, NULL, NULL, out, err),
                     MQTT5_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err, "`169.254.169.254` is not a valid endpoint"));
    assert_int_equal(imds(none, "http://", NULL, NULL, NULL, out, err), MQTT5_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err, "did not specify a host"));
    assert_int_equal(imds(none, "http://a\nb", NULL, NULL, NULL, out, err),
                     MQTT5_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err, "invalid uri character"));
    /* an invalid profile mode is an error even when the environment has none */
    assert_int_equal(imds(none, NULL, NULL, NULL, "dual", out, err), MQTT5_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err, "`dual` is not a valid endpoint mode"));
    /* output too small */
    assert_int_equal(
        mqtt5_imds_endpoint_resolve(NULL, NULL, NULL, NULL, NULL, NULL, out, 8, err, sizeof err),
        MQTT5_ERR_BUFFER_TOO_SMALL);
}

static int ecs(const char *rel, const char *full, char *out, char *err)
{
    const char *env[] = {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", rel,
                         "AWS_CONTAINER_CREDENTIALS_FULL_URI", full, NULL};
    return mqtt5_ecs_uri_resolve(list_getenv, (void *)env, out, 256, err, 256);
}

static void test_ecs_uri_edges(void **state)
{
    (void)state;
    char out[256], err[256];
    static const char *const allowed[] = {
        "http://127.0.0.1/c",         "http://127.254.3.4:99/c", "http://LOCALHOST/c",
        "http://[::1]:8080/c",        "http://[0:0::1]/c",       "http://169.254.170.23/v1",
        "http://169.254.170.2",       "http://[FD00:EC2::23]/x", "HTTPS://example.com/c",
        "https://user@example.com/c",
    };
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++) {
        int rc = ecs(NULL, allowed[i], out, err);
        if (rc) fail_msg("%s refused: %s", allowed[i], err);
        assert_string_equal(out, allowed[i]);
    }
    static const char *const refused[] = {
        "http://example.com/c",
        "http://169.254.170.3/c",
        "http://169.254.169.254/c",
        "http://[fd00:ec2::24]/c",
        "http://10.0.0.1/c",
        "http://127.0.0.1.nip.io/c",
        "http://localhost.evil/c",
        "http://[::ffff:10.0.0.1]/c",
        "ftp://127.0.0.1/c",
        "http://127.0.0.1@evil.com/",
        "http:///c",
        "http://[::1/c",
        "http://127.0.0.1/a b",
        "localhost:8080/c",
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        int rc = ecs(NULL, refused[i], out, err);
        if (rc != MQTT5_ERR_INVALID_ARGUMENT)
            fail_msg("%s: expected INVALID_ARGUMENT, got %s", refused[i], mqtt5_error_name(rc));
        assert_non_null(strstr(err, "AWS_CONTAINER_CREDENTIALS_FULL_URI"));
    }
    /* the relative URI gets its '/' and wins even over an invalid full URI */
    assert_int_equal(ecs("creds", "ftp://x", out, err), 0);
    assert_string_equal(out, "http://169.254.170.2/creds");
    /* empty variables are unset */
    assert_int_equal(ecs("", "", out, err), MQTT5_ERR_PROVIDER_NOT_ENABLED);
    assert_non_null(strstr(err, "No environment variables were set to configure ECS provider"));
    assert_int_equal(ecs("/a\r\nX-Injected: 1", NULL, out, err), MQTT5_ERR_INVALID_ARGUMENT);
    assert_int_equal(mqtt5_ecs_uri_resolve(NULL, NULL, out, sizeof out, err, sizeof err),
                     MQTT5_ERR_PROVIDER_NOT_ENABLED);
}

/* ---- providers: configuration errors before any request ------------------------------------ */

typedef struct result {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls, err;
    char detail[2048];
} result;

static void capture(void *user, int err, const mqtt5_credentials *c, const char *detail)
{
    (void)c;
    result *r = user;
    pthread_mutex_lock(&r->mu);
    r->calls++;
    r->err = err;
    snprintf(r->detail, sizeof r->detail, "%s", detail ? detail : "");
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

typedef struct fixture {
    mqtt5_event_loop_group *group;
    fake_sys sys;
    mqtt5_credentials_system system;
    mqtt5_credentials_options opts;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx) return -1;
    mqtt5_event_loop_group_options go;
    mqtt5_event_loop_group_options_init(&go);
    if (mqtt5_event_loop_group_new(&go, &fx->group)) {
        free(fx);
        return -1;
    }
    if (!fx->sys.now) fx->sys.now = 1632190000;
    fx->system = fake_sys_seam(&fx->sys);
    mqtt5_credentials_options_init(&fx->opts);
    fx->opts.event_loop_group = fx->group;
    fx->opts.system = &fx->system;
    *state = fx;
    return 0;
}

typedef struct shutdown_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
} shutdown_wait;

static void on_shutdown(void *user)
{
    shutdown_wait *w = user;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static int teardown(void **state)
{
    fixture *fx = *state;
    shutdown_wait w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
    mqtt5_event_loop_group_release(fx->group, on_shutdown, &w);
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    free(fx);
    return 0;
}

/* get once and wait (5 s) for done; the provider is released afterwards */
static void get_and_wait(mqtt5_credentials_provider *p, result *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    assert_int_equal(mqtt5_credentials_provider_get(p, capture, r), 0);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&r->mu);
    while (!r->calls)
        if (pthread_cond_timedwait(&r->cv, &r->mu, &until)) break;
    pthread_mutex_unlock(&r->mu);
    mqtt5_credentials_provider_release(p);
    if (!r->calls) fail_msg("done was not called within 5 s");
    assert_int_equal(r->calls, 1);
}

#define expect_error(r, code, text)                                                                \
    do {                                                                                           \
        if ((r)->err != (code))                                                                    \
            fail_msg("expected %s, got %s: %s", mqtt5_error_name(code),                            \
                     mqtt5_error_name((r)->err), (r)->detail);                                     \
        if (!strstr((r)->detail, (text)))                                                          \
            fail_msg("detail \"%s\" does not contain \"%s\"", (r)->detail, (text));                \
    } while (0)

static void set_env(fixture *fx, size_t i, const char *name, const char *value)
{
    fx->sys.env[i][0] = name;
    fx->sys.env[i][1] = value;
}

static void test_imds_disabled(void **state)
{
    fixture *fx = *state;
    set_env(fx, 0, "AWS_EC2_METADATA_DISABLED", "TRUE");
    mqtt5_credentials_provider *p = NULL;
    assert_int_equal(mqtt5_credentials_provider_new_imds(&fx->opts, NULL, &p), 0);
    result r;
    get_and_wait(p, &r);
    expect_error(&r, MQTT5_ERR_PROVIDER_NOT_ENABLED, "imds: not enabled");
}

static void test_imds_bad_settings(void **state)
{
    fixture *fx = *state;
    set_env(fx, 0, "HOME", "/home");
    set_env(fx, 1, "AWS_EC2_METADATA_DISABLED", "false");
    fx->sys.files[0][0] = "/home/.aws/config";
    fx->sys.files[0][1] = "[default]\nec2_metadata_service_endpoint_mode = IPv7\n";
    mqtt5_credentials_provider *p = NULL;
    assert_int_equal(mqtt5_credentials_provider_new_imds(&fx->opts, NULL, &p), 0);
    result r;
    get_and_wait(p, &r);
    expect_error(&r, MQTT5_ERR_INVALID_ARGUMENT, "imds: `IPv7` is not a valid endpoint mode");

    set_env(fx, 2, "AWS_EC2_METADATA_SERVICE_ENDPOINT", "not a uri");
    assert_int_equal(mqtt5_credentials_provider_new_imds(&fx->opts, NULL, &p), 0);
    get_and_wait(p, &r);
    expect_error(&r, MQTT5_ERR_INVALID_ARGUMENT, "invalid uri character");

    mqtt5_credentials_imds_options io = {.endpoint = "169.254.169.254"};
    p = NULL;
    assert_int_equal(mqtt5_credentials_provider_new_imds(&fx->opts, &io, &p),
                     MQTT5_ERR_INVALID_ARGUMENT);
    assert_null(p);
    mqtt5_credentials_options no_group = fx->opts;
    no_group.event_loop_group = NULL;
    assert_int_equal(mqtt5_credentials_provider_new_imds(&no_group, NULL, &p),
                     MQTT5_ERR_INVALID_ARGUMENT);
}

static void test_ecs_not_enabled_and_refused(void **state)
{
    fixture *fx = *state;
    mqtt5_credentials_provider *p = NULL;
    assert_int_equal(mqtt5_credentials_provider_new_ecs(&fx->opts, &p), 0);
    result r;
    get_and_wait(p, &r);
    expect_error(&r, MQTT5_ERR_PROVIDER_NOT_ENABLED,
                 "ecs: not enabled: No environment variables were set to configure ECS provider");

    set_env(fx, 0, "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds");
    assert_int_equal(mqtt5_credentials_provider_new_ecs(&fx->opts, &p), 0);
    get_and_wait(p, &r);
    expect_error(&r, MQTT5_ERR_INVALID_ARGUMENT, "plain http is allowed only to loopback");

    set_env(fx, 0, "AWS_CONTAINER_CREDENTIALS_FULL_URI", "/creds");
    assert_int_equal(mqtt5_credentials_provider_new_ecs(&fx->opts, &p), 0);
    get_and_wait(p, &r);
    expect_error(&r, MQTT5_ERR_INVALID_ARGUMENT, "URI did not specify a host");
}

static void test_ecs_token_errors(void **state)
{
    fixture *fx = *state;
    set_env(fx, 0, "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials");
    set_env(fx, 1, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/token.jwt");
    mqtt5_credentials_provider *p = NULL;
    assert_int_equal(mqtt5_credentials_provider_new_ecs(&fx->opts, &p), 0);
    result r;
    get_and_wait(p, &r);
    expect_error(&r, MQTT5_ERR_FILE, "failed to read `/token.jwt`: No such file or directory");
    assert_non_null(strstr(r.detail, "ecs: "));

    fx->sys.files[0][0] = "/token.jwt";
    fx->sys.files[0][1] = "secret-one\nsecret-two\n";
    assert_int_equal(mqtt5_credentials_provider_new_ecs(&fx->opts, &p), 0);
    get_and_wait(p, &r);
    expect_error(&r, MQTT5_ERR_MALFORMED, "is not one line");
    assert_null(strstr(r.detail, "secret"));

    set_env(fx, 1, "AWS_CONTAINER_AUTHORIZATION_TOKEN", "secret\r\nX-Injected: yes");
    assert_int_equal(mqtt5_credentials_provider_new_ecs(&fx->opts, &p), 0);
    get_and_wait(p, &r);
    expect_error(&r, MQTT5_ERR_MALFORMED, "AWS_CONTAINER_AUTHORIZATION_TOKEN must not contain");
    assert_null(strstr(r.detail, "secret"));
}

static void test_web_identity_errors(void **state)
{
    fixture *fx = *state;
    mqtt5_credentials_provider *p = NULL;
    assert_int_equal(mqtt5_credentials_provider_new_web_identity(&fx->opts, NULL, &p), 0);
    result r;
    get_and_wait(p, &r);
    expect_error(&r, MQTT5_ERR_PROVIDER_NOT_ENABLED,
                 "web identity: not enabled (AWS_WEB_IDENTITY_TOKEN_FILE / AWS_ROLE_ARN unset)");

    set_env(fx, 0, "AWS_WEB_IDENTITY_TOKEN_FILE", "/token.jwt");
    assert_int_equal(mqtt5_credentials_provider_new_web_identity(&fx->opts, NULL, &p), 0);
    get_and_wait(p, &r);
    expect_error(&r, MQTT5_ERR_PROVIDER_NOT_ENABLED, "not enabled");

    set_env(fx, 1, "AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r");
    set_env(fx, 2, "AWS_REGION", "eu-west-1");
    assert_int_equal(mqtt5_credentials_provider_new_web_identity(&fx->opts, NULL, &p), 0);
    get_and_wait(p, &r);
    expect_error(&r, MQTT5_ERR_FILE,
                 "web identity: failed to read `/token.jwt`: No such file or directory");

    fx->sys.files[0][0] = "/token.jwt";
    fx->sys.files[0][1] = " \n";
    assert_int_equal(mqtt5_credentials_provider_new_web_identity(&fx->opts, NULL, &p), 0);
    get_and_wait(p, &r);
    expect_error(&r, MQTT5_ERR_MALFORMED, "token file `/token.jwt` is empty");

    /* an STS endpoint that is not a URL: reported through done, after get returned */
    fx->sys.files[0][1] = "secret-token\n";
    set_env(fx, 3, "AWS_ENDPOINT_URL_STS", "sts.example.com");
    assert_int_equal(mqtt5_credentials_provider_new_web_identity(&fx->opts, NULL, &p), 0);
    get_and_wait(p, &r);
    expect_error(&r, MQTT5_ERR_INVALID_ARGUMENT,
                 "web identity: STS AssumeRoleWithWebIdentity: AWS_ENDPOINT_URL_STS is not an "
                 "http:// or https:// URL");
    assert_null(strstr(r.detail, "secret"));

    mqtt5_credentials_web_identity_options wo = {.sts_endpoint = "https://user:pw@sts.local"};
    assert_int_equal(mqtt5_credentials_provider_new_web_identity(&fx->opts, &wo, &p), 0);
    get_and_wait(p, &r);
    expect_error(&r, MQTT5_ERR_INVALID_ARGUMENT, "must not carry user information");
    assert_null(strstr(r.detail, "pw"));

    /* the explicit variant needs its token file and role */
    p = NULL;
    assert_int_equal(mqtt5_web_identity_provider_new_explicit(&fx->opts, "/token.jwt", NULL, NULL,
                                                              NULL, NULL, &p),
                     MQTT5_ERR_INVALID_ARGUMENT);
    assert_int_equal(
        mqtt5_web_identity_provider_new_explicit(&fx->opts, NULL, "arn", NULL, NULL, NULL, &p),
        MQTT5_ERR_INVALID_ARGUMENT);
    assert_null(p);
    /* ... and ignores the environment's */
    assert_int_equal(mqtt5_web_identity_provider_new_explicit(
                         &fx->opts, "/other.jwt", "arn:aws:iam::1:role/x", "s", NULL, NULL, &p),
                     0);
    get_and_wait(p, &r);
    expect_error(&r, MQTT5_ERR_FILE, "failed to read `/other.jwt`");
}

static void test_cognito_arguments(void **state)
{
    fixture *fx = *state;
    mqtt5_credentials_provider *p = NULL;
    mqtt5_cognito_login login = {"graph.facebook.com", "tok"};
    mqtt5_credentials_cognito_options co = {
        .endpoint = "cognito-identity.us-east-1.amazonaws.com",
        .identity_id = "us-east-1:1234",
        .logins = &login,
        .login_count = 1,
    };
    assert_int_equal(mqtt5_credentials_provider_new_cognito(&fx->opts, NULL, &p),
                     MQTT5_ERR_INVALID_ARGUMENT);
    mqtt5_credentials_cognito_options bad = co;
    bad.identity_id = NULL;
    assert_int_equal(mqtt5_credentials_provider_new_cognito(&fx->opts, &bad, &p),
                     MQTT5_ERR_INVALID_ARGUMENT);
    bad = co;
    bad.endpoint = "ftp://cognito";
    assert_int_equal(mqtt5_credentials_provider_new_cognito(&fx->opts, &bad, &p),
                     MQTT5_ERR_INVALID_ARGUMENT);
    bad = co;
    bad.logins = NULL;
    assert_int_equal(mqtt5_credentials_provider_new_cognito(&fx->opts, &bad, &p),
                     MQTT5_ERR_INVALID_ARGUMENT);
    mqtt5_cognito_login nameless = {NULL, "tok"};
    bad = co;
    bad.logins = &nameless;
    assert_int_equal(mqtt5_credentials_provider_new_cognito(&fx->opts, &bad, &p),
                     MQTT5_ERR_INVALID_ARGUMENT);
    mqtt5_credentials_options no_group = fx->opts;
    no_group.event_loop_group = NULL;
    assert_int_equal(mqtt5_credentials_provider_new_cognito(&no_group, &co, &p),
                     MQTT5_ERR_INVALID_ARGUMENT);
    assert_null(p);
    assert_int_equal(mqtt5_credentials_provider_new_cognito(&fx->opts, &co, &p), 0);
    assert_non_null(p);
    mqtt5_credentials_provider_release(p);
}

int main(void)
{
    const struct CMUnitTest suites[] = {
        cmocka_unit_test(test_imds_endpoint_suite),
        cmocka_unit_test(test_ecs_suite),
        cmocka_unit_test(test_imds_endpoint_edges),
        cmocka_unit_test(test_ecs_uri_edges),
    };
    const struct CMUnitTest providers[] = {
        cmocka_unit_test_setup_teardown(test_imds_disabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_imds_bad_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ecs_not_enabled_and_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ecs_token_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_web_identity_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cognito_arguments, setup, teardown),
    };
    int failed = cmocka_run_group_tests_name("endpoint resolution", suites, NULL, NULL);
    failed += cmocka_run_group_tests_name("provider configuration", providers, NULL, NULL);
    return failed;
}
