/*
 * tests/integration/test_credentials_http_providers.c - the HTTP providers one by one (IMDS,
 * ECS/EKS, Cognito, web identity, and STS AssumeRole through a profile) against
 * tests/credentials/fake_aws.js with hand-written traffic, checking what the recorded AWS cases
 * of test_credentials_replay.c do not: the requests themselves (token and Authorization headers,
 * Accept, X-Amz-Target, the JSON and form bodies, the Host reached), the IMDSv1 fallback, the
 * IPv6 endpoint mode, error details, and that an AssumeRole signature verifies over the request
 * as the server received it (re-signed here with the SDK's signer from the received method,
 * path, Host, Content-Type, X-Amz-Date and body).
 *
 * Every endpoint is plain http (the Cognito and STS endpoints are given as http:// URLs), reached
 * through the connect_to seam (":80:127.0.0.1:<port>"), so no PKI is needed. The environment,
 * files and clock come from a fake mqtt5_credentials_system. node is $NODE, else node or nodejs
 * on PATH; without it every test is skipped. FX_KEEP=1 keeps the temp dir (traffic, reports).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "helpers/fake_system.h"
#include "helpers/fx_env.h"
#include "mqtt5/credentials.h"
#include "mqtt5/error.h"
#include "mqtt5/runtime.h"
#include "mqtt5/sigv4.h"

#define NOW 1632245000 /* 2021-09-21T17:23:20Z */
#define NOW_AMZ "20210921T172320Z"
#define PATH_CAP 1024

static struct {
    char tmp[PATH_CAP];
    char node[PATH_CAP];
    char script[PATH_CAP];
    int cases;
} g;

/* ---- the fake system ------------------------------------------------------------------------- */

/* ---- recorded traffic --------------------------------------------------------------------------
 */

/* One exchange: the request the fake expects and its answer (close: drop the connection). */
typedef struct exch {
    const char *method, *uri;
    int status;
    const char *body;
    bool close;
} exch;

static char *write_traffic(const char *name, const exch *ex, size_t n)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *events = cJSON_AddArrayToObject(doc, "events");
    for (size_t i = 0; i < n; i++) {
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddNumberToObject(ev, "connection_id", (double)i);
        cJSON *req = cJSON_AddObjectToObject(cJSON_AddObjectToObject(ev, "action"), "Request");
        cJSON *r = cJSON_AddObjectToObject(req, "request");
        cJSON_AddStringToObject(r, "uri", ex[i].uri);
        cJSON_AddStringToObject(r, "method", ex[i].method);
        cJSON_AddObjectToObject(r, "headers");
        cJSON_AddItemToArray(events, ev);

        ev = cJSON_CreateObject();
        cJSON_AddNumberToObject(ev, "connection_id", (double)i);
        cJSON *resp = cJSON_AddObjectToObject(cJSON_AddObjectToObject(ev, "action"), "Response");
        cJSON *ok = cJSON_AddObjectToObject(cJSON_AddObjectToObject(resp, "response"), "Ok");
        cJSON_AddNumberToObject(ok, "status", ex[i].status);
        cJSON_AddObjectToObject(ok, "headers");
        if (ex[i].close) cJSON_AddTrueToObject(resp, "close");
        cJSON_AddItemToArray(events, ev);

        if (ex[i].body) {
            ev = cJSON_CreateObject();
            cJSON_AddNumberToObject(ev, "connection_id", (double)i);
            cJSON *data = cJSON_AddObjectToObject(cJSON_AddObjectToObject(ev, "action"), "Data");
            cJSON_AddStringToObject(cJSON_AddObjectToObject(data, "data"), "Utf8", ex[i].body);
            cJSON_AddStringToObject(data, "direction", "Response");
            cJSON_AddItemToArray(events, ev);
        }
    }
    char *text = cJSON_Print(doc);
    cJSON_Delete(doc);
    static char path[PATH_CAP + 64];
    snprintf(path, sizeof path, "%s/%s.traffic.json", g.tmp, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(text);
    return path;
}

/* ---- the fake server
 * ----------------------------------------------------------------------------- */

typedef struct fake {
    long pid;
    int fd;
    char *pending;
    size_t pending_len;
    unsigned port;
    char report[PATH_CAP + 64];
} fake;

static void fake_start(fake *f, const char *name, const exch *ex, size_t n)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    char *traffic = write_traffic(name, ex, n);
    snprintf(f->report, sizeof f->report, "%s/%s.report.json", g.tmp, name);
    char *argv[] = {g.node, g.script, "--traffic", traffic, "--report", f->report, NULL};
    f->pid = fx_spawn_piped(argv, &f->fd);
    assert_true(f->pid > 0);
    char line[128];
    long got =
        fx_read_line(f->fd, &f->pending, &f->pending_len, line, sizeof line, fx_now_ms() + 10000);
    unsigned https = 0;
    if (got < 0 || sscanf(line, "READY %u %u", &f->port, &https) != 2)
        fail_msg("fake_aws.js did not start (%s)", got < 0 ? "no READY line" : line);
}

/* Stop it and return its report (the caller deletes it). */
static cJSON *fake_stop(fake *f)
{
    kill((pid_t)f->pid, SIGTERM);
    int st = fx_wait_child(f->pid, 5000, 1);
    close(f->fd);
    free(f->pending);
    assert_int_equal(st, 0);
    size_t len = 0;
    uint8_t *text = fx_read_file(f->report, &len);
    assert_non_null(text);
    cJSON *rep = cJSON_Parse((const char *)text);
    free(text);
    assert_non_null(rep);
    return rep;
}

/* ---- one get --------------------------------------------------------------------------------- */

typedef struct result {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls, err;
    mqtt5_credentials *creds;
    char detail[2048];
} result;

static void on_done(void *user, int err, const mqtt5_credentials *c, const char *detail)
{
    result *r = user;
    pthread_mutex_lock(&r->mu);
    if (r->calls++ == 0) {
        r->err = err;
        if (c && mqtt5_credentials_copy(NULL, c, &r->creds)) r->creds = NULL;
        snprintf(r->detail, sizeof r->detail, "%s", detail ? detail : "");
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

typedef int (*make_fn)(const mqtt5_credentials_options *o, void *arg,
                       mqtt5_credentials_provider **out);

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

/*
 * Start the fake with `ex`, make a provider with `make` (environment and files from sys, HTTP
 * through the fake, `attempts` per request), get once, release everything and return the
 * fake's report. r->creds (when set) must be freed by the caller.
 */
static cJSON *run_case(const char *name, const exch *ex, size_t n, fake_sys *sys, uint32_t attempts,
                       make_fn make, void *arg, result *r)
{
    if (!g.node[0]) skip();
    g.cases++;
    fake f;
    fake_start(&f, name, ex, n);
    char connect_to[64];
    snprintf(connect_to, sizeof connect_to, ":80:127.0.0.1:%u", f.port);
    const char *const ct[] = {connect_to};

    mqtt5_event_loop_group *group = NULL;
    mqtt5_event_loop_group_options go;
    mqtt5_event_loop_group_options_init(&go);
    assert_int_equal(mqtt5_event_loop_group_new(&go, &group), 0);
    if (!sys->now) sys->now = NOW;
    mqtt5_credentials_system system = fake_sys_seam(sys);
    mqtt5_credentials_options o;
    mqtt5_credentials_options_init(&o);
    o.event_loop_group = group;
    o.system = &system;
    o.http.connect_to = ct;
    o.http.connect_to_count = 1;
    o.http.timeout_ms = 3000;
    o.http.max_attempts = attempts;

    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    mqtt5_credentials_provider *p = NULL;
    int rc = make(&o, arg, &p);
    if (rc) fail_msg("%s: creating the provider failed: %s", name, mqtt5_error_name(rc));
    assert_int_equal(mqtt5_credentials_provider_get(p, on_done, r), 0);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&r->mu);
    while (!r->calls)
        if (pthread_cond_timedwait(&r->cv, &r->mu, &until)) break;
    int calls = r->calls;
    pthread_mutex_unlock(&r->mu);
    mqtt5_credentials_provider_release(p);
    shutdown_wait w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
    mqtt5_event_loop_group_release(group, on_shutdown, &w);
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    cJSON *rep = fake_stop(&f);
    if (calls != 1) fail_msg("%s: done called %d times within 20 s", name, calls);
    printf("    %s: %s%s%s\n", name, mqtt5_error_name(r->err), *r->detail ? ": " : "", r->detail);
    return rep;
}

/* ---- report checks ------------------------------------------------------------------------- */

static const cJSON *request_at(const cJSON *rep, int i)
{
    const cJSON *reqs = cJSON_GetObjectItemCaseSensitive(rep, "requests");
    const cJSON *r = cJSON_GetArrayItem(reqs, i);
    if (!r) fail_msg("the fake saw no request #%d", i);
    return r;
}

static const char *header(const cJSON *req, const char *name)
{
    const cJSON *h =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(req, "headers"), name);
    return cJSON_IsString(h) ? h->valuestring : NULL;
}

static const char *field(const cJSON *req, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Every recorded request consumed, none unexpected, `count` in all. */
static void expect_all_consumed(const cJSON *rep, int count)
{
    int expected = cJSON_GetObjectItemCaseSensitive(rep, "expected")->valueint;
    int consumed = cJSON_GetObjectItemCaseSensitive(rep, "consumed")->valueint;
    int unexpected = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rep, "unexpected"));
    int seen = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rep, "requests"));
    if (expected != count || consumed != count || unexpected || seen != count) {
        char *text = cJSON_Print(rep);
        fprintf(stderr, "%s\n", text);
        free(text);
        fail_msg("expected %d requests all consumed; recorded %d, consumed %d, unexpected %d, "
                 "seen %d",
                 count, expected, consumed, unexpected, seen);
    }
}

static void expect_creds(result *r, const char *akid, const char *secret, const char *token,
                         int64_t expiration, const char *provider)
{
    if (r->err) fail_msg("expected credentials, got %s: %s", mqtt5_error_name(r->err), r->detail);
    assert_non_null(r->creds);
    assert_string_equal(r->creds->access_key_id, akid);
    assert_string_equal(r->creds->secret_access_key, secret);
    if (token)
        assert_string_equal(r->creds->session_token, token);
    else
        assert_null(r->creds->session_token);
    assert_int_equal(r->creds->expiration, expiration);
    assert_string_equal(r->creds->provider, provider);
    mqtt5_credentials_free(NULL, r->creds);
    r->creds = NULL;
}

static void expect_error(result *r, int err, const char *text)
{
    if (r->err != err)
        fail_msg("expected %s, got %s: %s", mqtt5_error_name(err), mqtt5_error_name(r->err),
                 r->detail);
    if (!strstr(r->detail, text)) fail_msg("detail \"%s\" lacks \"%s\"", r->detail, text);
    if (r->creds) mqtt5_credentials_free(NULL, r->creds);
    r->creds = NULL;
}

/* ---- IMDS ---------------------------------------------------------------------------------- */

#define IMDS_DOC                                                                                   \
    "{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAIMDS\","                    \
    "\"SecretAccessKey\":\"imdssecret\",\"Token\":\"imdstoken\","                                  \
    "\"Expiration\":\"2021-09-21T23:33:13Z\"}"
#define IMDS_EXPIRY 1632267193

static int make_imds(const mqtt5_credentials_options *o, void *arg,
                     mqtt5_credentials_provider **out)
{
    return mqtt5_credentials_provider_new_imds(o, arg, out);
}

static void test_imds_v2_ipv6(void **state)
{
    (void)state;
    const exch ex[] = {
        {"PUT", "http://[fd00:ec2::254]/latest/api/token", 200, "v2-token==\n", false},
        {"GET", "http://[fd00:ec2::254]/latest/meta-data/iam/security-credentials/", 200,
         "my-role\nsecond-role\n", false},
        {"GET", "http://[fd00:ec2::254]/latest/meta-data/iam/security-credentials/my-role", 200,
         IMDS_DOC, false},
    };
    fake_sys sys = {.env = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ipv6"}}};
    result r;
    cJSON *rep = run_case("imds_v2_ipv6", ex, 3, &sys, 1, make_imds, NULL, &r);
    expect_creds(&r, "ASIAIMDS", "imdssecret", "imdstoken", IMDS_EXPIRY, "imds");
    expect_all_consumed(rep, 3);
    const cJSON *put = request_at(rep, 0);
    assert_string_equal(field(put, "host"), "[fd00:ec2::254]");
    assert_string_equal(header(put, "x-aws-ec2-metadata-token-ttl-seconds"), "21600");
    assert_null(header(put, "x-aws-ec2-metadata-token"));
    for (int i = 1; i < 3; i++)
        assert_string_equal(header(request_at(rep, i), "x-aws-ec2-metadata-token"), "v2-token==");
    cJSON_Delete(rep);
}

static void imds_v1_case(const char *name, int token_status, bool token_close)
{
    const exch ex[] = {
        {"PUT", "http://169.254.169.254/latest/api/token", token_status, NULL, token_close},
        {"GET", "http://169.254.169.254/latest/meta-data/iam/security-credentials/", 200, "v1-role",
         false},
        {"GET", "http://169.254.169.254/latest/meta-data/iam/security-credentials/v1-role", 200,
         IMDS_DOC, false},
    };
    fake_sys sys;
    memset(&sys, 0, sizeof sys);
    result r;
    cJSON *rep = run_case(name, ex, 3, &sys, 1, make_imds, NULL, &r);
    expect_creds(&r, "ASIAIMDS", "imdssecret", "imdstoken", IMDS_EXPIRY, "imds");
    expect_all_consumed(rep, 3);
    for (int i = 1; i < 3; i++)
        assert_null(header(request_at(rep, i), "x-aws-ec2-metadata-token"));
    cJSON_Delete(rep);
}

static void test_imds_v1_after_405(void **state)
{
    (void)state;
    imds_v1_case("imds_v1_after_405", 405, false);
}

static void test_imds_v1_after_404(void **state)
{
    (void)state;
    imds_v1_case("imds_v1_after_404", 404, false);
}

static void test_imds_v1_after_dropped_connection(void **state)
{
    (void)state;
    imds_v1_case("imds_v1_after_dropped_connection", 200, true);
}

static void test_imds_errors(void **state)
{
    (void)state;
    /* 403: no fallback */
    const exch forbidden[] = {{"PUT", "http://169.254.169.254/latest/api/token", 403, "", false}};
    fake_sys sys;
    memset(&sys, 0, sizeof sys);
    result r;
    cJSON *rep = run_case("imds_403", forbidden, 1, &sys, 1, make_imds, NULL, &r);
    expect_error(&r, MQTT5_ERR_HTTP_STATUS, "imds: request forbidden: IMDS is disabled");
    expect_all_consumed(rep, 1);
    cJSON_Delete(rep);

    /* the role's document is missing; an explicit endpoint option */
    const exch missing[] = {
        {"PUT", "http://imds.test/latest/api/token", 200, "t", false},
        {"GET", "http://imds.test/latest/meta-data/iam/security-credentials/", 200, "r1", false},
        {"GET", "http://imds.test/latest/meta-data/iam/security-credentials/r1", 404, "", false},
    };
    mqtt5_credentials_imds_options io = {.endpoint = "http://imds.test/"};
    rep = run_case("imds_doc_404", missing, 3, &sys, 1, make_imds, &io, &r);
    expect_error(&r, MQTT5_ERR_HTTP_STATUS, "imds: credentials of IAM role `r1`: HTTP 404");
    expect_all_consumed(rep, 3);
    assert_string_equal(field(request_at(rep, 0), "host"), "imds.test");
    cJSON_Delete(rep);

    /* a role listing that is not a role name never reaches a URL */
    const exch odd[] = {
        {"PUT", "http://169.254.169.254/latest/api/token", 200, "t", false},
        {"GET", "http://169.254.169.254/latest/meta-data/iam/security-credentials/", 200,
         "../../x?y", false},
    };
    rep = run_case("imds_bad_role", odd, 2, &sys, 1, make_imds, NULL, &r);
    expect_error(&r, MQTT5_ERR_MALFORMED, "is not an IAM role name");
    expect_all_consumed(rep, 2);
    cJSON_Delete(rep);
}

/* ---- ECS / EKS ------------------------------------------------------------------------------- */

static int make_ecs(const mqtt5_credentials_options *o, void *arg, mqtt5_credentials_provider **out)
{
    (void)arg;
    return mqtt5_credentials_provider_new_ecs(o, out);
}

static void test_ecs_headers(void **state)
{
    (void)state;
    const exch ex[] = {{"GET", "http://169.254.170.23/v1/credentials?a=1", 200,
                        "{\"AccessKeyId\":\"ASIAECS\",\"SecretAccessKey\":\"ecssecret\","
                        "\"Token\":\"ecstoken\",\"Expiration\":\"2021-09-21T23:33:13Z\"}",
                        false}};
    fake_sys sys = {
        .env = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials?a=1"},
                {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "env-token"},
                {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/var/token"}},
        .files = {{"/var/token", "file-token\n"}}};
    result r;
    cJSON *rep = run_case("ecs_headers", ex, 1, &sys, 1, make_ecs, NULL, &r);
    expect_creds(&r, "ASIAECS", "ecssecret", "ecstoken", IMDS_EXPIRY, "ecs");
    expect_all_consumed(rep, 1);
    const cJSON *req = request_at(rep, 0);
    assert_string_equal(field(req, "host"), "169.254.170.23");
    assert_string_equal(header(req, "accept"), "application/json");
    /* the file wins over the variable, without its newline */
    assert_string_equal(header(req, "authorization"), "file-token");
    cJSON_Delete(rep);

    /* an error status with a JSON error body */
    const exch denied[] = {{"GET", "http://169.254.170.2/creds", 403,
                            "{\"code\":\"AccessDenied\",\"message\":\"not for you\"}", false}};
    fake_sys sys2 = {.env = {{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds"},
                             {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "env-token"}}};
    rep = run_case("ecs_403", denied, 1, &sys2, 1, make_ecs, NULL, &r);
    expect_error(&r, MQTT5_ERR_HTTP_STATUS, "ecs: GET http://169.254.170.2/creds: HTTP 403");
    assert_null(strstr(r.detail, "env-token"));
    expect_all_consumed(rep, 1);
    assert_string_equal(header(request_at(rep, 0), "authorization"), "env-token");
    cJSON_Delete(rep);
}

/* ---- Cognito --------------------------------------------------------------------------------- */

static int make_cognito(const mqtt5_credentials_options *o, void *arg,
                        mqtt5_credentials_provider **out)
{
    return mqtt5_credentials_provider_new_cognito(o, arg, out);
}

static void test_cognito(void **state)
{
    (void)state;
    const exch ex[] = {{"POST", "http://cognito.test/", 200,
                        "{\"Credentials\":{\"AccessKeyId\":\"ASIACOG\",\"SecretKey\":\"cogsecret\","
                        "\"SessionToken\":\"cogtoken\",\"Expiration\":1632267193},"
                        "\"IdentityId\":\"us-east-1:abc\"}",
                        false}};
    mqtt5_cognito_login logins[] = {{"graph.facebook.com", "fb-token"},
                                    {"accounts.google.com", "g\"token"}};
    mqtt5_credentials_cognito_options co = {
        .endpoint = "http://cognito.test",
        .identity_id = "us-east-1:abc",
        .logins = logins,
        .login_count = 2,
        .custom_role_arn = "arn:aws:iam::1:role/c",
    };
    fake_sys sys;
    memset(&sys, 0, sizeof sys);
    result r;
    cJSON *rep = run_case("cognito", ex, 1, &sys, 1, make_cognito, &co, &r);
    expect_creds(&r, "ASIACOG", "cogsecret", "cogtoken", IMDS_EXPIRY, "cognito");
    expect_all_consumed(rep, 1);
    const cJSON *req = request_at(rep, 0);
    assert_string_equal(field(req, "host"), "cognito.test");
    assert_string_equal(header(req, "content-type"), "application/x-amz-json-1.1");
    assert_string_equal(header(req, "x-amz-target"),
                        "AWSCognitoIdentityService.GetCredentialsForIdentity");
    cJSON *body = cJSON_Parse(field(req, "body"));
    assert_non_null(body);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(body, "IdentityId")->valuestring,
                        "us-east-1:abc");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(body, "CustomRoleArn")->valuestring,
                        "arn:aws:iam::1:role/c");
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(body, "Logins");
    assert_int_equal(cJSON_GetArraySize(l), 2);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(l, "graph.facebook.com")->valuestring,
                        "fb-token");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(l, "accounts.google.com")->valuestring,
                        "g\"token");
    cJSON_Delete(body);
    cJSON_Delete(rep);

    const exch refused[] = {{"POST", "http://cognito.test/", 400,
                             "{\"__type\":\"NotAuthorizedException\","
                             "\"message\":\"Invalid login token.\"}",
                             false}};
    rep = run_case("cognito_400", refused, 1, &sys, 1, make_cognito, &co, &r);
    expect_error(&r, MQTT5_ERR_HTTP_STATUS,
                 "cognito: GetCredentialsForIdentity: HTTP 400: NotAuthorizedException: Invalid "
                 "login token.");
    assert_null(strstr(r.detail, "fb-token"));
    cJSON_Delete(rep);
}

/* ---- STS: web identity and AssumeRole ------------------------------------------------------- */

#define STS_XML(action)                                                                            \
    "<" action "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><" action "Result>"   \
    "<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn></AssumedRoleUser>"     \
    "<Credentials><AccessKeyId>ASIASTS</AccessKeyId><SecretAccessKey>stssecret</SecretAccessKey>"  \
    "<SessionToken>ststoken</SessionToken><Expiration>2021-09-21T23:33:13Z</Expiration>"           \
    "</Credentials></" action "Result></" action "Response>"

static int make_web_identity(const mqtt5_credentials_options *o, void *arg,
                             mqtt5_credentials_provider **out)
{
    return mqtt5_credentials_provider_new_web_identity(o, arg, out);
}

static void test_web_identity_request(void **state)
{
    (void)state;
    const exch ex[] = {
        {"POST", "http://sts.test/", 200, STS_XML("AssumeRoleWithWebIdentity"), false}};
    fake_sys sys = {.env = {{"AWS_WEB_IDENTITY_TOKEN_FILE", "/t.jwt"},
                            {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r"},
                            {"AWS_ROLE_SESSION_NAME", "my session"},
                            {"AWS_ENDPOINT_URL", "http://wrong.test"},
                            {"AWS_ENDPOINT_URL_STS", "http://sts.test"}},
                    .files = {{"/t.jwt", "  a.b+c/d=\r\n"}}};
    result r;
    cJSON *rep = run_case("web_identity", ex, 1, &sys, 1, make_web_identity, NULL, &r);
    expect_creds(&r, "ASIASTS", "stssecret", "ststoken", IMDS_EXPIRY, "web-identity");
    expect_all_consumed(rep, 1);
    const cJSON *req = request_at(rep, 0);
    assert_string_equal(field(req, "host"), "sts.test");
    assert_string_equal(header(req, "content-type"),
                        "application/x-www-form-urlencoded; charset=utf-8");
    assert_null(header(req, "authorization"));
    assert_string_equal(field(req, "body"),
                        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3A"
                        "iam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=my%20session&"
                        "WebIdentityToken=a.b%2Bc%2Fd%3D");
    cJSON_Delete(rep);
}

static int make_profile(const mqtt5_credentials_options *o, void *arg,
                        mqtt5_credentials_provider **out)
{
    (void)arg;
    mqtt5_credentials_profile_options po = {0};
    return mqtt5_credentials_provider_new_profile(o, &po, out);
}

/* Re-sign the request as received and compare with its Authorization header. */
static void verify_signature(const cJSON *req, const char *secret, const char *token)
{
    const char *auth = header(req, "authorization");
    assert_non_null(auth);
    const char *sig = strstr(auth, "Signature=");
    assert_non_null(sig);
    sig += strlen("Signature=");
    const char *signed_headers = strstr(auth, "SignedHeaders=");
    assert_non_null(signed_headers);
    signed_headers += strlen("SignedHeaders=");
    size_t sh_len = strcspn(signed_headers, ",");
    const char *cred = strstr(auth, "Credential=");
    assert_non_null(cred);
    cred += strlen("Credential=");
    char akid[64];
    snprintf(akid, sizeof akid, "%.*s", (int)strcspn(cred, "/"), cred);

    /* the headers named in SignedHeaders, with the values the server received */
    mqtt5_sigv4_header hs[8];
    char names[8][64];
    size_t count = 0;
    for (const char *s = signed_headers; s < signed_headers + sh_len && count < 8;) {
        size_t n = strcspn(s, ";,");
        snprintf(names[count], sizeof names[count], "%.*s", (int)n, s);
        s += n + (s[n] == ';');
        if (!strcmp(names[count], "x-amz-date") || !strcmp(names[count], "x-amz-security-token"))
            continue; /* the signer adds these itself */
        hs[count].name = names[count];
        hs[count].value = header(req, names[count]);
        if (!hs[count].value) fail_msg("signed header %s was not received", names[count]);
        count++;
    }
    assert_string_equal(header(req, "x-amz-date"), NOW_AMZ);
    const char *body = field(req, "body");
    const char *url = field(req, "url");
    mqtt5_sigv4_request sr = {
        .method = field(req, "method"),
        .path = url,
        .headers = hs,
        .header_count = count,
        .payload = (const uint8_t *)body,
        .payload_len = strlen(body),
    };
    mqtt5_sigv4_config cfg;
    mqtt5_sigv4_config_init(&cfg);
    cfg.region = "us-east-1";
    cfg.service = "sts";
    cfg.datetime = NOW_AMZ;
    cfg.credentials.access_key_id = akid;
    cfg.credentials.secret_access_key = secret;
    cfg.credentials.session_token = token;
    mqtt5_sigv4_result res;
    mqtt5_codec_status st;
    assert_int_equal(mqtt5_sigv4_sign(&sr, &cfg, NULL, &res, &st), 0);
    assert_string_equal(res.signature, sig);
    char want_sh[256];
    snprintf(want_sh, sizeof want_sh, "%.*s", (int)sh_len, signed_headers);
    assert_string_equal(res.signed_headers, want_sh);
    mqtt5_sigv4_result_clean(&res);
}

static void test_assume_role_signed(void **state)
{
    (void)state;
    const exch ex[] = {{"POST", "http://sts.test/", 200, STS_XML("AssumeRole"), false}};
    fake_sys sys = {
        .env = {{"HOME", "/home"},
                {"AWS_ACCESS_KEY_ID", "AKIDSOURCE"},
                {"AWS_SECRET_ACCESS_KEY", "sourcesecret"},
                {"AWS_SESSION_TOKEN", "sourcetoken"},
                {"AWS_ENDPOINT_URL_STS", "http://sts.test"}},
        .files = {{"/home/.aws/config", "[default]\nregion = us-east-1\n"
                                        "role_arn = arn:aws:iam::123456789012:role/target\n"
                                        "credential_source = Environment\nexternal_id = ext 1\n"
                                        "role_session_name = sess\n"}}};
    result r;
    cJSON *rep = run_case("assume_role_signed", ex, 1, &sys, 1, make_profile, NULL, &r);
    expect_creds(&r, "ASIASTS", "stssecret", "ststoken", IMDS_EXPIRY, "sts-assume-role");
    expect_all_consumed(rep, 1);
    const cJSON *req = request_at(rep, 0);
    assert_string_equal(field(req, "host"), "sts.test");
    assert_string_equal(header(req, "x-amz-security-token"), "sourcetoken");
    const char *auth = header(req, "authorization");
    assert_non_null(auth);
    assert_non_null(
        strstr(auth, "AWS4-HMAC-SHA256 Credential=AKIDSOURCE/20210921/us-east-1/sts/aws4_request"));
    assert_non_null(strstr(field(req, "body"), "Action=AssumeRole&Version=2011-06-15&RoleArn="));
    assert_non_null(strstr(field(req, "body"), "&ExternalId=ext%201"));
    verify_signature(req, "sourcesecret", "sourcetoken");
    cJSON_Delete(rep);

    /* an STS error */
    const exch denied[] = {
        {"POST", "http://sts.test/", 403,
         "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
         "<Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: "
         "sts:AssumeRole</Message></Error><RequestId>x</RequestId></ErrorResponse>",
         false}};
    rep = run_case("assume_role_denied", denied, 1, &sys, 1, make_profile, NULL, &r);
    expect_error(&r, MQTT5_ERR_HTTP_STATUS,
                 "STS AssumeRole: HTTP 403: AccessDenied: User is not authorized to perform: "
                 "sts:AssumeRole");
    assert_null(strstr(r.detail, "sourcesecret"));
    assert_null(strstr(r.detail, "sourcetoken"));
    cJSON_Delete(rep);
}

/* ---- setup ----------------------------------------------------------------------------------- */

static void remove_tree(const char *dir)
{
    char cmd[PATH_CAP + 32];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

static int group_setup(void **state)
{
    (void)state;
    const char *src = fx_env("MQTT5_SOURCE_DIR");
    const char *file = __FILE__;
    const char *tail = strstr(file, "/tests/integration/");
    if (src)
        snprintf(g.script, sizeof g.script, "%s/tests/credentials/fake_aws.js", src);
    else if (file[0] == '/' && tail)
        snprintf(g.script, sizeof g.script, "%.*s/tests/credentials/fake_aws.js",
                 (int)(tail - file), file);
    else
        snprintf(g.script, sizeof g.script, "../tests/credentials/fake_aws.js");
    const char *node = fx_env("NODE");
    if (node && strchr(node, '/'))
        snprintf(g.node, sizeof g.node, "%s", node);
    else if (fx_find_on_path(node ? node : "node", g.node, sizeof g.node) &&
             fx_find_on_path("nodejs", g.node, sizeof g.node))
        g.node[0] = '\0';
    if (!g.node[0]) printf("node not found: every case is skipped\n");
    const char *base = fx_env("FX_DIR");
    if (!base) base = fx_env("TMPDIR");
    snprintf(g.tmp, sizeof g.tmp, "%s/creds-http.XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(g.tmp)) {
        fprintf(stderr, "mkdtemp %s: %s\n", g.tmp, strerror(errno));
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    const char *keep = fx_env("FX_KEEP");
    if (keep && !strcmp(keep, "1"))
        printf("kept %s\n", g.tmp);
    else
        remove_tree(g.tmp);
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_imds_v2_ipv6),
        cmocka_unit_test(test_imds_v1_after_405),
        cmocka_unit_test(test_imds_v1_after_404),
        cmocka_unit_test(test_imds_v1_after_dropped_connection),
        cmocka_unit_test(test_imds_errors),
        cmocka_unit_test(test_ecs_headers),
        cmocka_unit_test(test_cognito),
        cmocka_unit_test(test_web_identity_request),
        cmocka_unit_test(test_assume_role_signed),
    };
    return cmocka_run_group_tests_name("credentials http providers", tests, group_setup,
                                       group_teardown);
}
