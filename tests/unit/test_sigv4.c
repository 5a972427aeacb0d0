/*
 * test_sigv4.c - the SigV4 signer (mqtt5/sigv4.h).
 *
 * 1. Every case directory of tests/vectors/sigv4 (the aws-c-auth SigV4 suite, found through the
 *    MQTT5_TEST_VECTORS environment variable set by CMake): for the header form and the query
 *    form, the canonical request, string to sign, signature and signed request must match the
 *    expected files byte for byte. The signed request is request.txt with the signer's output
 *    applied (headers appended, or the query replaced), rendered the way the suite writes it.
 * 2. The AWS IoT WebSocket presign (mqtt5_sigv4_presign_iot_websocket_url) against values from
 *    tests/vectors/sigv4_iot_expected.py (plain hmac/hashlib), with and without session token.
 * 3. Two published S3 examples (no double encoding, UNSIGNED-PAYLOAD, x-amz-content-sha256),
 *    token placement, never-signed headers, payload hash options, input errors naming the field,
 *    and every allocation failure.
 */
#define _POSIX_C_SOURCE 200809L
#include "helpers/test_common.h"
#include "helpers/test_allocator.h"

#include <dirent.h>
#include <sys/stat.h>

#include "mqtt5/sigv4.h"

/* ---- files -------------------------------------------------------------------------------- */

typedef struct text {
    char *ptr; /* NUL-terminated; from test_alloc */
    size_t len;
} text;

static bool read_text(const char *path, text *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    out->ptr = test_alloc((size_t)n + 1);
    out->len = fread(out->ptr, 1, (size_t)n, f);
    out->ptr[out->len] = '\0';
    fclose(f);
    assert_int_equal(out->len, (size_t)n);
    return true;
}

static const char *vectors_dir(void)
{
    const char *dir = getenv("MQTT5_TEST_VECTORS");
    if (!dir || !*dir) fail_msg("MQTT5_TEST_VECTORS is not set (ctest sets it to tests/vectors)");
    return dir;
}

static char *dup_range(const char *s, size_t n)
{
    char *p = test_alloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* ---- request.txt --------------------------------------------------------------------------- */

#define MAX_HEADERS 16

typedef struct vec_request {
    char *method, *path, *query; /* query NULL when the URI has no '?' */
    mqtt5_sigv4_header headers[MAX_HEADERS];
    size_t header_count;
    const char *body;
    size_t body_len;
} vec_request;

/* "METHOD URI HTTP/1.1", "Name:value" lines (a line starting with blanks continues the previous
 * value after a "\n"), then optionally an empty line and the body. */
static void parse_request(const text *t, vec_request *r)
{
    memset(r, 0, sizeof *r);
    const char *p = t->ptr, *end = t->ptr + t->len;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    assert_non_null(nl);
    const char *sp1 = memchr(p, ' ', (size_t)(nl - p));
    const char *sp2 = nl;
    while (sp2 > p && sp2[-1] != ' ')
        sp2--;
    assert_non_null(sp1);
    assert_true(sp2 - 1 > sp1);
    r->method = dup_range(p, (size_t)(sp1 - p));
    const char *uri = sp1 + 1, *uri_end = sp2 - 1;
    const char *q = memchr(uri, '?', (size_t)(uri_end - uri));
    r->path = dup_range(uri, (size_t)((q ? q : uri_end) - uri));
    if (q) r->query = dup_range(q + 1, (size_t)(uri_end - q - 1));
    for (p = nl + 1; p < end;) {
        nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        if (line_end == p) { /* empty line: the body follows */
            r->body = p + 1;
            r->body_len = (size_t)(end - p - 1);
            break;
        }
        if (*p == ' ' || *p == '\t') {
            assert_true(r->header_count > 0);
            mqtt5_sigv4_header *h = &r->headers[r->header_count - 1];
            size_t old = strlen(h->value), add = (size_t)(line_end - p);
            char *v = test_alloc(old + 1 + add + 1);
            memcpy(v, h->value, old);
            v[old] = '\n';
            memcpy(v + old + 1, p, add);
            v[old + 1 + add] = '\0';
            h->value = v;
        } else {
            const char *colon = memchr(p, ':', (size_t)(line_end - p));
            assert_non_null(colon);
            assert_true(r->header_count < MAX_HEADERS);
            r->headers[r->header_count].name = dup_range(p, (size_t)(colon - p));
            r->headers[r->header_count].value =
                dup_range(colon + 1, (size_t)(line_end - colon - 1));
            r->header_count++;
        }
        p = line_end + 1;
    }
}

/* ---- context.json (flat keys, unique names: a tiny reader is enough) ------------------------ */

static const char *json_find(const text *t, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *k = strstr(t->ptr, pat);
    if (!k) return NULL;
    k = strchr(k + strlen(pat), ':');
    assert_non_null(k);
    k++;
    while (*k == ' ' || *k == '\n' || *k == '\t' || *k == '\r')
        k++;
    return k;
}

static const char *json_string(const text *t, const char *key)
{
    const char *v = json_find(t, key);
    if (!v) return NULL;
    assert_int_equal(*v, '"');
    const char *e = strchr(v + 1, '"');
    assert_non_null(e);
    return dup_range(v + 1, (size_t)(e - v - 1));
}

static bool json_bool(const text *t, const char *key)
{
    const char *v = json_find(t, key);
    return v && !strncmp(v, "true", 4);
}

static unsigned long json_uint(const text *t, const char *key)
{
    const char *v = json_find(t, key);
    assert_non_null(v);
    return strtoul(v, NULL, 10);
}

/* "2015-08-30T12:36:00Z" -> "20150830T123600Z" */
static const char *compact_datetime(const char *iso)
{
    char *out = test_alloc(strlen(iso) + 1), *o = out;
    for (; *iso; iso++)
        if (*iso != '-' && *iso != ':') *o++ = *iso;
    *o = '\0';
    return out;
}

static void config_from_context(const text *ctx, mqtt5_sigv4_form form, mqtt5_sigv4_config *cfg)
{
    mqtt5_sigv4_config_init(cfg);
    cfg->region = json_string(ctx, "region");
    cfg->service = json_string(ctx, "service");
    cfg->datetime = compact_datetime(json_string(ctx, "timestamp"));
    cfg->credentials.access_key_id = json_string(ctx, "access_key_id");
    cfg->credentials.secret_access_key = json_string(ctx, "secret_access_key");
    cfg->credentials.session_token = json_string(ctx, "token");
    cfg->form = form;
    cfg->normalize_path = json_bool(ctx, "normalize");
    cfg->add_content_sha256_header = json_bool(ctx, "sign_body");
    cfg->token_mode = json_bool(ctx, "omit_session_token") ? MQTT5_SIGV4_TOKEN_APPENDED
                                                           : MQTT5_SIGV4_TOKEN_SIGNED;
    cfg->expires_seconds = (uint32_t)json_uint(ctx, "expiration_in_seconds");
}

/* ---- signed request rendering -------------------------------------------------------------- */

static void append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t ncap = (*len + n + 1) * 2;
        char *nb = test_alloc(ncap);
        if (*len) memcpy(nb, *buf, *len);
        *buf = nb;
        *cap = ncap;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
}

#define APPEND(s) append(&buf, &len, &cap, (s), strlen(s))

/* The request with the signing applied, in the suite's layout. */
static char *render_signed(const vec_request *r, const mqtt5_sigv4_result *res, size_t *out_len)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    const char *query = res->query ? res->query : r->query;
    APPEND(r->method);
    APPEND(" ");
    APPEND(r->path);
    if (query && *query) {
        APPEND("?");
        APPEND(query);
    }
    APPEND(" HTTP/1.1\n");
    for (size_t i = 0; i < r->header_count; i++) {
        APPEND(r->headers[i].name);
        APPEND(":");
        APPEND(r->headers[i].value);
        APPEND("\n");
    }
    for (size_t i = 0; i < res->header_count; i++) {
        APPEND(res->headers[i].name);
        APPEND(":");
        APPEND(res->headers[i].value);
        APPEND("\n");
    }
    APPEND("\n");
    append(&buf, &len, &cap, r->body ? r->body : "", r->body_len);
    *out_len = len;
    return buf;
}

/* ---- vector cases -------------------------------------------------------------------------- */

static size_t vector_checks; /* file comparisons made */

static void expect_file(const char *dir, const char *file, const char *got, size_t got_len,
                        const char *what)
{
    char path[1024];
    text want;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (!read_text(path, &want)) fail_msg("%s: missing %s", dir, file);
    if (want.len != got_len || memcmp(want.ptr, got, got_len) != 0) {
        size_t at = 0;
        while (at < want.len && at < got_len && want.ptr[at] == got[at])
            at++;
        fail_msg("%s/%s: %s differs at byte %zu\n--- expected (%zu bytes)\n%s\n--- got (%zu "
                 "bytes)\n%s\n---",
                 dir, file, what, at, want.len, want.ptr, got_len, got);
    }
    vector_checks++;
}

static void run_form(const char *dir, const text *ctx, const vec_request *r, mqtt5_sigv4_form form)
{
    const char *prefix = form == MQTT5_SIGV4_FORM_HEADERS ? "header" : "query";
    char name[64];
    mqtt5_sigv4_config cfg;
    config_from_context(ctx, form, &cfg);
    const mqtt5_sigv4_request req = {.method = r->method,
                                     .path = r->path,
                                     .query = r->query,
                                     .headers = r->headers,
                                     .header_count = r->header_count,
                                     .payload = (const uint8_t *)r->body,
                                     .payload_len = r->body_len};
    mqtt5_sigv4_result res;
    mqtt5_codec_status st;
    int err = mqtt5_sigv4_sign(&req, &cfg, NULL, &res, &st);
    if (err)
        fail_msg("%s (%s form): %s, field %s, detail %s", dir, prefix, mqtt5_error_name(err),
                 st.field ? st.field : "-", st.detail ? st.detail : "-");

    snprintf(name, sizeof name, "%s-canonical-request.txt", prefix);
    expect_file(dir, name, res.canonical_request, strlen(res.canonical_request),
                "canonical request");
    snprintf(name, sizeof name, "%s-string-to-sign.txt", prefix);
    expect_file(dir, name, res.string_to_sign, strlen(res.string_to_sign), "string to sign");
    snprintf(name, sizeof name, "%s-signature.txt", prefix);
    expect_file(dir, name, res.signature, strlen(res.signature), "signature");
    size_t signed_len;
    char *signed_req = render_signed(r, &res, &signed_len);
    snprintf(name, sizeof name, "%s-signed-request.txt", prefix);
    expect_file(dir, name, signed_req, signed_len, "signed request");
    mqtt5_sigv4_result_clean(&res);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* At least the 38 cases of the suite as copied from aws-c-auth. */
#define MIN_VECTOR_CASES 38

static void test_vectors_all(void **state)
{
    (void)state;
    char root[1024];
    snprintf(root, sizeof root, "%s/sigv4", vectors_dir());
    DIR *d = opendir(root);
    if (!d) fail_msg("cannot open %s", root);
    char *names[256];
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        assert_true(n < COUNT_OF(names));
        names[n++] = dup_range(e->d_name, strlen(e->d_name));
    }
    closedir(d);
    qsort(names, n, sizeof names[0], name_cmp);

    size_t cases = 0;
    vector_checks = 0;
    for (size_t i = 0; i < n; i++) {
        char dir[1200], path[1300];
        struct stat sb;
        snprintf(dir, sizeof dir, "%s/%s", root, names[i]);
        if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) continue; /* LICENSE, NOTICE */
        text ctx, request;
        snprintf(path, sizeof path, "%s/context.json", dir);
        if (!read_text(path, &ctx)) fail_msg("%s: no context.json", dir);
        snprintf(path, sizeof path, "%s/request.txt", dir);
        if (!read_text(path, &request)) fail_msg("%s: no request.txt", dir);
        vec_request r;
        parse_request(&request, &r);
        run_form(dir, &ctx, &r, MQTT5_SIGV4_FORM_HEADERS);
        run_form(dir, &ctx, &r, MQTT5_SIGV4_FORM_QUERY);
        cases++;
    }
    printf("sigv4 vectors: %zu cases passed (header and query form, %zu files compared byte for "
           "byte)\n",
           cases, vector_checks);
    assert_true(cases >= MIN_VECTOR_CASES);
    assert_int_equal(vector_checks, cases * 8);
}

/* ---- AWS IoT WebSocket presign (expected values: tests/vectors/sigv4_iot_expected.py) ------- */

#define IOT_PLAIN_HOST "a1b2c3d4e5f6g7-ats.iot.us-east-1.amazonaws.com"
#define IOT_PLAIN_CR                                                                               \
    "GET\n/mqtt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-"   \
    "east-1%2Fiotdevicegateway%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders="    \
    "host\nhost:a1b2c3d4e5f6g7-ats.iot.us-east-1.amazonaws.com\n\nhost\n"                          \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define IOT_PLAIN_STS                                                                              \
    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iotdevicegateway/aws4_request\n"       \
    "b2c39a641f4a9f184d7c70bd942f1686ab81cac1c8262d84733701b9a500ceb4"
#define IOT_PLAIN_SIG "abaa19ec946afb81af70a8d779058f5587de5b38d677c12d9f47702a8744126e"
#define IOT_PLAIN_URL                                                                              \
    "/mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"  \
    "2Fiotdevicegateway%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-"    \
    "Amz-Signature=" IOT_PLAIN_SIG

#define IOT_TOKEN_HOST "a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com"
#define IOT_TOKEN                                                                                  \
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfp"   \
    "SPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQ"   \
    "DYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+sc"  \
    "qKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
#define IOT_TOKEN_CR                                                                               \
    "GET\n/"                                                                                       \
    "mqtt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLEKEYID0001%2F20240229"      \
    "%2Feu-west-1%2Fiotdevicegateway%2Faws4_request&X-Amz-Date=20240229T235959Z&X-Amz-"            \
    "SignedHeaders=host\nhost:a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com\n\nhost\n"            \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define IOT_TOKEN_STS                                                                              \
    "AWS4-HMAC-SHA256\n20240229T235959Z\n20240229/eu-west-1/iotdevicegateway/aws4_request\n"       \
    "a97d5ffc227701f10fe7fe36ea312d5223b84124011c4ca13f14f6633eb67d94"
#define IOT_TOKEN_SIG "59e248bc49b5ad550dac9ab1526730fe58b02c79aad7e3dbfe513d7b3a435479"
#define IOT_TOKEN_ENCODED                                                                          \
    "AQoDYXdzEPT%2F%2F%2F%2F%2F%2F%2F%2F%2F%"                                                      \
    "2FwEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWH"                                       \
    "GBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI%2FqkPpKPi%2FkMcGdQrmGdeehM4IC1NtBmUpp2wUE8ph" \
    "UZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d%2Bxo0rKwT38xVqr7ZD0u" \
    "0iPPkUL64lIZbqBAz%2BscqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR%2FoLxBA%3D%"  \
    "3D"
#define IOT_TOKEN_URL                                                                              \
    "/mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLEKEYID0001%2F20240229%"     \
    "2Feu-west-1%2Fiotdevicegateway%2Faws4_request&X-Amz-Date=20240229T235959Z&X-Amz-"             \
    "SignedHeaders=host&X-Amz-Signature=" IOT_TOKEN_SIG "&X-Amz-Security-Token=" IOT_TOKEN_ENCODED

static const mqtt5_sigv4_credentials iot_plain_creds = {
    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL};
static const mqtt5_sigv4_credentials iot_token_creds = {
    "ASIAEXAMPLEKEYID0001", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", IOT_TOKEN};

static void test_iot_presign_without_token(void **state)
{
    (void)state;
    char url[2048];
    size_t len = 0;
    mqtt5_codec_status st;
    assert_err(mqtt5_sigv4_presign_iot_websocket_url(IOT_PLAIN_HOST, "us-east-1", &iot_plain_creds,
                                                     "20150830T123600Z", NULL, url, sizeof url,
                                                     &len, &st),
               MQTT5_OK);
    assert_string_equal(url, IOT_PLAIN_URL);
    assert_int_equal(len, strlen(IOT_PLAIN_URL));
    assert_null(strstr(url, "X-Amz-Expires"));
    assert_null(strstr(url, "X-Amz-Security-Token"));
}

static void test_iot_presign_with_token(void **state)
{
    (void)state;
    char url[4096];
    size_t len = 0;
    assert_err(mqtt5_sigv4_presign_iot_websocket_url(IOT_TOKEN_HOST, "eu-west-1", &iot_token_creds,
                                                     "20240229T235959Z", NULL, url, sizeof url,
                                                     &len, NULL),
               MQTT5_OK);
    assert_string_equal(url, IOT_TOKEN_URL);
    assert_int_equal(len, strlen(IOT_TOKEN_URL));
    /* the token is the last parameter, after the signature */
    assert_true(strstr(url, "&X-Amz-Signature=") < strstr(url, "&X-Amz-Security-Token="));
}

/* The same IoT form through the general API: the intermediates match the script too. */
static void iot_form_intermediates(const char *host, const char *region,
                                   const mqtt5_sigv4_credentials *creds, const char *datetime,
                                   const char *cr, const char *sts, const char *sig)
{
    mqtt5_sigv4_config cfg;
    mqtt5_sigv4_config_init(&cfg);
    cfg.region = region;
    cfg.service = MQTT5_SIGV4_IOT_SERVICE;
    cfg.datetime = datetime;
    cfg.credentials = *creds;
    cfg.form = MQTT5_SIGV4_FORM_QUERY;
    cfg.token_mode = MQTT5_SIGV4_TOKEN_APPENDED_LAST;
    cfg.payload_mode = MQTT5_SIGV4_PAYLOAD_EMPTY;
    const mqtt5_sigv4_header headers[] = {
        {"Host", host},
        {"Upgrade", "websocket"},
        {"Connection", "Upgrade"},
        {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
        {"Sec-WebSocket-Protocol", "mqtt"},
        {"Sec-WebSocket-Version", "13"},
        {"User-Agent", "mqtt5-c"},
    };
    const mqtt5_sigv4_request req = {
        .method = "GET", .path = "/mqtt", .headers = headers, .header_count = COUNT_OF(headers)};
    mqtt5_sigv4_result res;
    assert_err(mqtt5_sigv4_sign(&req, &cfg, NULL, &res, NULL), MQTT5_OK);
    assert_string_equal(res.canonical_request, cr);
    assert_string_equal(res.string_to_sign, sts);
    assert_string_equal(res.signature, sig);
    assert_string_equal(res.signed_headers, "host");
    assert_int_equal(res.header_count, 0);
    assert_null(res.authorization);
    mqtt5_sigv4_result_clean(&res);
}

static void test_iot_form_intermediates(void **state)
{
    (void)state;
    iot_form_intermediates(IOT_PLAIN_HOST, "us-east-1", &iot_plain_creds, "20150830T123600Z",
                           IOT_PLAIN_CR, IOT_PLAIN_STS, IOT_PLAIN_SIG);
    iot_form_intermediates(IOT_TOKEN_HOST, "eu-west-1", &iot_token_creds, "20240229T235959Z",
                           IOT_TOKEN_CR, IOT_TOKEN_STS, IOT_TOKEN_SIG);
}

static void test_iot_presign_buffer_too_small(void **state)
{
    (void)state;
    char url[4096];
    size_t need = 0, len = 0;
    mqtt5_codec_status st;
    assert_err(mqtt5_sigv4_presign_iot_websocket_url(IOT_TOKEN_HOST, "eu-west-1", &iot_token_creds,
                                                     "20240229T235959Z", NULL, NULL, 0, &need, &st),
               MQTT5_ERR_BUFFER_TOO_SMALL);
    assert_string_equal(st.field, "out");
    assert_int_equal(need, strlen(IOT_TOKEN_URL));
    /* exactly the length: no room for the NUL */
    assert_err(mqtt5_sigv4_presign_iot_websocket_url(IOT_TOKEN_HOST, "eu-west-1", &iot_token_creds,
                                                     "20240229T235959Z", NULL, url, need, &len,
                                                     &st),
               MQTT5_ERR_BUFFER_TOO_SMALL);
    assert_err(mqtt5_sigv4_presign_iot_websocket_url(IOT_TOKEN_HOST, "eu-west-1", &iot_token_creds,
                                                     "20240229T235959Z", NULL, url, need + 1, &len,
                                                     &st),
               MQTT5_OK);
    assert_string_equal(url, IOT_TOKEN_URL);
}

static void expect_iot_error(const char *host, const char *region,
                             const mqtt5_sigv4_credentials *creds, const char *datetime,
                             const char *field)
{
    char url[2048];
    size_t len = 99;
    mqtt5_codec_status st;
    assert_err(mqtt5_sigv4_presign_iot_websocket_url(host, region, creds, datetime, NULL, url,
                                                     sizeof url, &len, &st),
               MQTT5_ERR_INVALID_ARGUMENT);
    assert_err(st.error, MQTT5_ERR_INVALID_ARGUMENT);
    assert_non_null(st.field);
    assert_string_equal(st.field, field);
    assert_non_null(st.detail);
    assert_int_equal(len, 0);
}

static void test_iot_presign_errors(void **state)
{
    (void)state;
    const char *dt = "20150830T123600Z";
    const mqtt5_sigv4_credentials no_akid = {NULL, "secret", NULL};
    const mqtt5_sigv4_credentials no_secret = {"AKID", "", NULL};
    const mqtt5_sigv4_credentials bad_token = {"AKID", "secret", "has space"};
    expect_iot_error(IOT_PLAIN_HOST, NULL, &iot_plain_creds, dt, "region");
    expect_iot_error(IOT_PLAIN_HOST, "", &iot_plain_creds, dt, "region");
    expect_iot_error(IOT_PLAIN_HOST, "us/east", &iot_plain_creds, dt, "region");
    expect_iot_error(NULL, "us-east-1", &iot_plain_creds, dt, "host");
    expect_iot_error("host/path", "us-east-1", &iot_plain_creds, dt, "host");
    expect_iot_error(IOT_PLAIN_HOST, "us-east-1", NULL, dt, "credentials");
    expect_iot_error(IOT_PLAIN_HOST, "us-east-1", &no_akid, dt, "credentials.access_key_id");
    expect_iot_error(IOT_PLAIN_HOST, "us-east-1", &no_secret, dt, "credentials.secret_access_key");
    expect_iot_error(IOT_PLAIN_HOST, "us-east-1", &bad_token, dt, "credentials.session_token");
    expect_iot_error(IOT_PLAIN_HOST, "us-east-1", &iot_plain_creds, NULL, "datetime");
    expect_iot_error(IOT_PLAIN_HOST, "us-east-1", &iot_plain_creds, "2015-08-30T12:36:00Z",
                     "datetime");
    expect_iot_error(IOT_PLAIN_HOST, "us-east-1", &iot_plain_creds, "20151330T123600Z", "datetime");
    expect_iot_error(IOT_PLAIN_HOST, "us-east-1", &iot_plain_creds, "20150830T123600", "datetime");
}

/* ---- published S3 examples (AWS S3 API reference, "Signature Calculations ...") ------------ */

static const mqtt5_sigv4_credentials s3_creds = {"AKIAIOSFODNN7EXAMPLE",
                                                 "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL};

static void s3_config(mqtt5_sigv4_config *cfg, mqtt5_sigv4_form form)
{
    mqtt5_sigv4_config_init(cfg);
    cfg->region = "us-east-1";
    cfg->service = "s3";
    cfg->datetime = "20130524T000000Z";
    cfg->credentials = s3_creds;
    cfg->form = form;
    cfg->double_encode_path = false;
    cfg->normalize_path = false;
}

static void test_s3_presigned_url(void **state)
{
    (void)state;
    mqtt5_sigv4_config cfg;
    s3_config(&cfg, MQTT5_SIGV4_FORM_QUERY);
    cfg.expires_seconds = 86400;
    cfg.payload_mode = MQTT5_SIGV4_PAYLOAD_UNSIGNED;
    const mqtt5_sigv4_header headers[] = {{"Host", "examplebucket.s3.amazonaws.com"}};
    const mqtt5_sigv4_request req = {
        .method = "GET", .path = "/test.txt", .headers = headers, .header_count = 1};
    mqtt5_sigv4_result res;
    assert_err(mqtt5_sigv4_sign(&req, &cfg, NULL, &res, NULL), MQTT5_OK);
    assert_string_equal(res.canonical_request,
                        "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
                        "AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-"
                        "Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\nhost:"
                        "examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD");
    assert_string_equal(res.signature,
                        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    assert_string_equal(res.query,
                        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%"
                        "2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-"
                        "Amz-SignedHeaders=host&X-Amz-Expires=86400&X-Amz-Signature="
                        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    assert_string_equal(res.credential_scope, "20130524/us-east-1/s3/aws4_request");
    assert_string_equal(res.payload_hash, "UNSIGNED-PAYLOAD");
    mqtt5_sigv4_result_clean(&res);
}

static void test_s3_get_object_headers(void **state)
{
    (void)state;
    mqtt5_sigv4_config cfg;
    s3_config(&cfg, MQTT5_SIGV4_FORM_HEADERS);
    cfg.add_content_sha256_header = true;
    const mqtt5_sigv4_header headers[] = {{"Host", "examplebucket.s3.amazonaws.com"},
                                          {"Range", "bytes=0-9"}};
    const mqtt5_sigv4_request req = {
        .method = "GET", .path = "/test.txt", .headers = headers, .header_count = 2};
    mqtt5_sigv4_result res;
    assert_err(mqtt5_sigv4_sign(&req, &cfg, NULL, &res, NULL), MQTT5_OK);
    assert_string_equal(res.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
    assert_string_equal(
        res.authorization,
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
        "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    assert_int_equal(res.header_count, 3);
    assert_string_equal(res.headers[0].name, "X-Amz-Date");
    assert_string_equal(res.headers[0].value, "20130524T000000Z");
    assert_string_equal(res.headers[1].name, "x-amz-content-sha256");
    assert_string_equal(res.headers[1].value, MQTT5_SIGV4_EMPTY_PAYLOAD_SHA256);
    assert_string_equal(res.headers[2].name, "Authorization");
    assert_string_equal(res.headers[2].value, res.authorization);
    assert_null(res.query);
    mqtt5_sigv4_result_clean(&res);
}

/* ---- path options, token placement, skipped headers, payload ------------------------------- */

static void sign_ok(const mqtt5_sigv4_request *req, const mqtt5_sigv4_config *cfg,
                    mqtt5_sigv4_result *res)
{
    mqtt5_codec_status st;
    int err = mqtt5_sigv4_sign(req, cfg, NULL, res, &st);
    if (err)
        fail_msg("sign: %s, field %s, detail %s", mqtt5_error_name(err), st.field ? st.field : "-",
                 st.detail ? st.detail : "-");
}

static void base_config(mqtt5_sigv4_config *cfg)
{
    mqtt5_sigv4_config_init(cfg);
    cfg->region = "us-east-1";
    cfg->service = "service";
    cfg->datetime = "20150830T123600Z";
    cfg->credentials.access_key_id = "AKIDEXAMPLE";
    cfg->credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
}

/* Second line of the canonical request. */
static void expect_canonical_path(const char *path, bool normalize, bool double_encode,
                                  const char *want)
{
    mqtt5_sigv4_config cfg;
    base_config(&cfg);
    cfg.normalize_path = normalize;
    cfg.double_encode_path = double_encode;
    const mqtt5_sigv4_header host[] = {{"Host", "example.amazonaws.com"}};
    const mqtt5_sigv4_request req = {
        .method = "GET", .path = path, .headers = host, .header_count = 1};
    mqtt5_sigv4_result res;
    sign_ok(&req, &cfg, &res);
    const char *line = strchr(res.canonical_request, '\n') + 1;
    size_t n = (size_t)(strchr(line, '\n') - line);
    char got[256];
    assert_true(n < sizeof got);
    memcpy(got, line, n);
    got[n] = '\0';
    assert_string_equal(got, want);
    mqtt5_sigv4_result_clean(&res);
}

static void test_path_options(void **state)
{
    (void)state;
    expect_canonical_path("/a%20b/c", true, true, "/a%2520b/c");
    expect_canonical_path("/a%20b/c", true, false, "/a%20b/c");
    expect_canonical_path("/my-object//example//photo.user", false, false,
                          "/my-object//example//photo.user");
    expect_canonical_path("/my-object//example//photo.user", true, false,
                          "/my-object/example/photo.user");
    expect_canonical_path("/a/b/../../..", true, true, "/");
    expect_canonical_path("/a/./b/", true, true, "/a/b/");
    expect_canonical_path(NULL, true, true, "/");
    expect_canonical_path("", false, false, "/");
    expect_canonical_path("/caf\xc3\xa9+x=y", false, true, "/caf%C3%A9%2Bx%3Dy");
}

static void test_token_placement(void **state)
{
    (void)state;
    mqtt5_sigv4_config cfg;
    base_config(&cfg);
    cfg.credentials.session_token = "tok/en+=";
    const mqtt5_sigv4_header host[] = {{"Host", "example.amazonaws.com"}};
    const mqtt5_sigv4_request req = {
        .method = "GET", .path = "/", .query = "a=1", .headers = host, .header_count = 1};
    mqtt5_sigv4_result signed_res, appended, last;

    /* header form: signed, appended (same slot), appended last (after Authorization) */
    sign_ok(&req, &cfg, &signed_res);
    assert_string_equal(signed_res.signed_headers, "host;x-amz-date;x-amz-security-token");
    assert_string_equal(signed_res.headers[0].name, "X-Amz-Security-Token");
    assert_string_equal(signed_res.headers[0].value, "tok/en+=");
    cfg.token_mode = MQTT5_SIGV4_TOKEN_APPENDED;
    sign_ok(&req, &cfg, &appended);
    assert_string_equal(appended.signed_headers, "host;x-amz-date");
    assert_null(strstr(appended.canonical_request, "tok/en"));
    assert_string_equal(appended.headers[0].name, "X-Amz-Security-Token");
    assert_string_not_equal(appended.signature, signed_res.signature);
    cfg.token_mode = MQTT5_SIGV4_TOKEN_APPENDED_LAST;
    sign_ok(&req, &cfg, &last);
    assert_int_equal(last.header_count, 3);
    assert_string_equal(last.headers[1].name, "Authorization");
    assert_string_equal(last.headers[2].name, "X-Amz-Security-Token");
    assert_string_equal(last.signature, appended.signature);
    mqtt5_sigv4_result_clean(&signed_res);
    mqtt5_sigv4_result_clean(&appended);
    mqtt5_sigv4_result_clean(&last);

    /* query form: the token is encoded; signed and appended sit before X-Amz-Signature */
    cfg.form = MQTT5_SIGV4_FORM_QUERY;
    cfg.token_mode = MQTT5_SIGV4_TOKEN_SIGNED;
    sign_ok(&req, &cfg, &signed_res);
    assert_non_null(strstr(signed_res.canonical_request, "&X-Amz-Security-Token=tok%2Fen%2B%3D&"));
    cfg.token_mode = MQTT5_SIGV4_TOKEN_APPENDED;
    sign_ok(&req, &cfg, &appended);
    assert_null(strstr(appended.canonical_request, "Security-Token"));
    assert_non_null(
        strstr(appended.query, "&X-Amz-Security-Token=tok%2Fen%2B%3D&X-Amz-Signature="));
    assert_int_equal(strncmp(appended.query, "a=1&X-Amz-Algorithm=", 20), 0);
    cfg.token_mode = MQTT5_SIGV4_TOKEN_APPENDED_LAST;
    sign_ok(&req, &cfg, &last);
    assert_string_equal(last.signature, appended.signature);
    size_t qlen = strlen(last.query), tlen = strlen("&X-Amz-Security-Token=tok%2Fen%2B%3D");
    assert_string_equal(last.query + qlen - tlen, "&X-Amz-Security-Token=tok%2Fen%2B%3D");
    mqtt5_sigv4_result_clean(&signed_res);
    mqtt5_sigv4_result_clean(&appended);
    mqtt5_sigv4_result_clean(&last);
}

static void test_skipped_headers_and_query_canonical(void **state)
{
    (void)state;
    mqtt5_sigv4_config cfg;
    base_config(&cfg);
    const mqtt5_sigv4_header headers[] = {
        {"Host", "example.amazonaws.com"},
        {"user-agent", "x"},
        {"X-Amzn-Trace-Id", "y"},
        {"Expect", "100-continue"},
        {"b-h", "\t two  "},
        {"A-H", "v1"},
        {"a-h", "v2"},
    };
    const mqtt5_sigv4_request req = {.method = "POST",
                                     .path = "/",
                                     .query = "b=2&a=%7e%41&&c&a=1+1",
                                     .headers = headers,
                                     .header_count = COUNT_OF(headers)};
    mqtt5_sigv4_result res;
    sign_ok(&req, &cfg, &res);
    assert_string_equal(res.signed_headers, "a-h;b-h;host;x-amz-date");
    assert_non_null(strstr(res.canonical_request, "\na-h:v1,v2\nb-h:two\nhost:"));
    assert_non_null(strstr(res.canonical_request, "\na=1%2B1&a=~A&b=2&c=\n"));
    mqtt5_sigv4_result_clean(&res);
}

static void test_payload_options(void **state)
{
    (void)state;
    mqtt5_sigv4_config cfg;
    base_config(&cfg);
    const mqtt5_sigv4_header host[] = {{"Host", "example.amazonaws.com"}};
    mqtt5_sigv4_request req = {.method = "POST",
                               .path = "/",
                               .headers = host,
                               .header_count = 1,
                               .payload = (const uint8_t *)"Param1=value1",
                               .payload_len = 13};
    mqtt5_sigv4_result res;
    sign_ok(&req, &cfg, &res);
    assert_string_equal(res.payload_hash,
                        "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
    mqtt5_sigv4_result_clean(&res);
    cfg.payload_mode = MQTT5_SIGV4_PAYLOAD_EMPTY;
    sign_ok(&req, &cfg, &res);
    assert_string_equal(res.payload_hash, MQTT5_SIGV4_EMPTY_PAYLOAD_SHA256);
    mqtt5_sigv4_result_clean(&res);
    cfg.payload_mode = MQTT5_SIGV4_PAYLOAD_UNSIGNED;
    sign_ok(&req, &cfg, &res);
    assert_string_equal(res.payload_hash, "UNSIGNED-PAYLOAD");
    size_t n = strlen(res.canonical_request);
    assert_string_equal(res.canonical_request + n - 17, "\nUNSIGNED-PAYLOAD");
    mqtt5_sigv4_result_clean(&res);
    cfg.payload_mode = MQTT5_SIGV4_PAYLOAD_REQUEST;
    req.payload_hash = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
    sign_ok(&req, &cfg, &res);
    assert_string_equal(res.payload_hash, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
    mqtt5_sigv4_result_clean(&res);
}

/* ---- errors ---------------------------------------------------------------------------------- */

static void expect_sign_error(const mqtt5_sigv4_request *req, const mqtt5_sigv4_config *cfg,
                              int err, const char *field)
{
    mqtt5_sigv4_result res;
    mqtt5_codec_status st;
    memset(&res, 0xa5, sizeof res);
    assert_err(mqtt5_sigv4_sign(req, cfg, NULL, &res, &st), err);
    assert_err(st.error, err);
    assert_non_null(st.field);
    assert_string_equal(st.field, field);
    assert_null(res.mem_); /* zeroed: nothing to clean */
    assert_null(res.canonical_request);
}

static void test_sign_errors(void **state)
{
    (void)state;
    mqtt5_sigv4_config cfg;
    const mqtt5_sigv4_header host[] = {{"Host", "example.amazonaws.com"}};
    mqtt5_sigv4_request req = {.method = "GET", .path = "/", .headers = host, .header_count = 1};
    mqtt5_sigv4_header bad[2] = {{"Host", "example.amazonaws.com"}, {NULL, NULL}};
    const int inval = MQTT5_ERR_INVALID_ARGUMENT;

    base_config(&cfg);
    cfg.region = NULL;
    expect_sign_error(&req, &cfg, inval, "region");
    base_config(&cfg);
    cfg.service = "";
    expect_sign_error(&req, &cfg, inval, "service");
    base_config(&cfg);
    cfg.datetime = "20150830T126000Z";
    expect_sign_error(&req, &cfg, inval, "datetime");
    base_config(&cfg);
    cfg.credentials.access_key_id = "AKID/X";
    expect_sign_error(&req, &cfg, inval, "credentials.access_key_id");
    base_config(&cfg);
    cfg.credentials.secret_access_key = NULL;
    expect_sign_error(&req, &cfg, inval, "credentials.secret_access_key");
    base_config(&cfg);
    cfg.form = MQTT5_SIGV4_FORM_QUERY;
    cfg.expires_seconds = 604801;
    expect_sign_error(&req, &cfg, inval, "expires_seconds");
    base_config(&cfg);
    expect_sign_error(NULL, &cfg, inval, "request");
    expect_sign_error(&req, NULL, inval, "config");

    req.method = "";
    expect_sign_error(&req, &cfg, inval, "method");
    req.method = "G T";
    expect_sign_error(&req, &cfg, inval, "method");
    req.method = "GET";
    req.path = "relative";
    expect_sign_error(&req, &cfg, inval, "path");
    req.path = "/a?b";
    expect_sign_error(&req, &cfg, inval, "path");
    req.path = "/";
    req.query = "?a=1";
    expect_sign_error(&req, &cfg, inval, "query");
    req.query = "a=%zz";
    expect_sign_error(&req, &cfg, inval, "query");
    req.query = "a=%4";
    expect_sign_error(&req, &cfg, inval, "query");
    req.query = "x-amz-%44ate=1"; /* decoded before the check */
    expect_sign_error(&req, &cfg, inval, "query");
    req.query = "X-Amz-Signature=00";
    expect_sign_error(&req, &cfg, inval, "query");
    req.query = NULL;

    req.headers = bad;
    req.header_count = 2;
    expect_sign_error(&req, &cfg, inval, "headers");
    bad[1] = (mqtt5_sigv4_header){"authorization", "AWS4-HMAC-SHA256 ..."};
    expect_sign_error(&req, &cfg, inval, "headers");
    bad[1] = (mqtt5_sigv4_header){"X-Amz-Date", "20150830T123600Z"};
    expect_sign_error(&req, &cfg, inval, "headers");
    bad[1] = (mqtt5_sigv4_header){"Bad Name", "v"};
    expect_sign_error(&req, &cfg, inval, "headers");
    bad[1] = (mqtt5_sigv4_header){"X", "a\001b"};
    expect_sign_error(&req, &cfg, inval, "headers");
    req.headers = host;
    req.header_count = 1;

    req.payload_len = 3;
    expect_sign_error(&req, &cfg, inval, "payload");
    req.payload_len = 0;
    req.payload_hash = "";
    expect_sign_error(&req, &cfg, inval, "payload_hash");
    req.payload_hash = NULL;

    mqtt5_codec_status st;
    assert_err(mqtt5_sigv4_sign(&req, &cfg, NULL, NULL, &st), inval);
    assert_string_equal(st.field, "result");

    mqtt5_sigv4_result_clean(NULL);
    mqtt5_sigv4_result zero = {0};
    mqtt5_sigv4_result_clean(&zero);
}

/* Every allocation made by a signing fails in turn: MQTT5_ERR_NOMEM, nothing leaks. */
static void test_allocation_failures(void **state)
{
    (void)state;
    mqtt5_sigv4_config cfg;
    base_config(&cfg);
    cfg.form = MQTT5_SIGV4_FORM_QUERY;
    cfg.expires_seconds = 60;
    cfg.credentials.session_token = IOT_TOKEN;
    const mqtt5_sigv4_header headers[] = {{"Host", "example.amazonaws.com"}, {"X-A", " b  c "}};
    const mqtt5_sigv4_request req = {.method = "GET",
                                     .path = "/a/../b c/",
                                     .query = "z=1&y=%41&x",
                                     .headers = headers,
                                     .header_count = 2};
    size_t failures = 0;
    for (size_t k = 1;; k++) {
        test_allocator ta;
        test_allocator_init(&ta);
        test_allocator_fail_at(&ta, k, false);
        mqtt5_sigv4_result res;
        mqtt5_codec_status st;
        int err = mqtt5_sigv4_sign(&req, &cfg, test_allocator_get(&ta), &res, &st);
        if (err == MQTT5_OK) {
            assert_int_equal(ta.failures, 0);
            assert_true(ta.live_blocks == 1); /* the result's one block */
            mqtt5_sigv4_result_clean(&res);
            assert_no_leaks(&ta);
            break;
        }
        assert_err(err, MQTT5_ERR_NOMEM);
        assert_err(st.error, MQTT5_ERR_NOMEM);
        assert_int_equal(ta.failures, 1);
        assert_no_leaks(&ta);
        failures++;
        assert_true(k < 200);
    }
    assert_true(failures > 5);

    /* the IoT helper leaves nothing allocated either */
    test_allocator ta;
    test_allocator_init(&ta);
    char url[4096];
    assert_err(mqtt5_sigv4_presign_iot_websocket_url(IOT_TOKEN_HOST, "eu-west-1", &iot_token_creds,
                                                     "20240229T235959Z", test_allocator_get(&ta),
                                                     url, sizeof url, NULL, NULL),
               MQTT5_OK);
    assert_string_equal(url, IOT_TOKEN_URL);
    assert_no_leaks(&ta);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_all),
        cmocka_unit_test(test_iot_presign_without_token),
        cmocka_unit_test(test_iot_presign_with_token),
        cmocka_unit_test(test_iot_form_intermediates),
        cmocka_unit_test(test_iot_presign_buffer_too_small),
        cmocka_unit_test(test_iot_presign_errors),
        cmocka_unit_test(test_s3_presigned_url),
        cmocka_unit_test(test_s3_get_object_headers),
        cmocka_unit_test(test_path_options),
        cmocka_unit_test(test_token_placement),
        cmocka_unit_test(test_skipped_headers_and_query_canonical),
        cmocka_unit_test(test_payload_options),
        cmocka_unit_test(test_sign_errors),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, test_free_all);
}
