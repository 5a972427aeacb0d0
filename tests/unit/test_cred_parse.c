/*
 * test_cred_parse.c - the credential document parsers (src/credentials/cred_parse.h).
 *
 * 1. Recorded bodies (copied from the AWS SDKs' default-credential-provider-chain recordings:
 *    ECS, EKS Pod Identity, IMDS, STS AssumeRole, STS AssumeRoleWithWebIdentity, STS
 *    ErrorResponse) parse to the exact fields those recordings expect; expiries were checked
 *    by hand (e.g. 2021-09-21T04:16:53Z = 18891 days * 86400 + 15413 s = 1632197813).
 * 2. credential_process output and Cognito GetCredentialsForIdentity / JSON error bodies in the
 *    shapes the AWS documentation gives.
 * 3. Malformed input: every truncation of a JSON and an XML document, wrong types, missing fields
 *    (the error names the field), IMDS Code "Failure", process Version 2, XML with a DOCTYPE or
 *    entities (never expanded, nothing fetched: libxml2's external entity loader is watched),
 *    ErrorResponse given to the success parser, oversized documents, control characters.
 * 4. ISO 8601: leap years, fractions, offsets, invalid months/days/times; ARNs.
 * 5. Secrets: no error string contains one; every string the parsers allocate is wiped before
 *    it is released; cJSON's tree copies are wiped before cJSON frees them; every allocation
 *    failure gives MQTT5_ERR_NOMEM without leaks.
 */
#include "helpers/test_common.h"
#include "helpers/test_allocator.h"

#include <malloc.h>

#include <cjson/cJSON.h>
#include <libxml/parser.h>

#include "credentials/cred_parse.h"

/* ---- recorded bodies ---------------------------------------------------------------------- */

/* ecs_credentials/http-traffic.json */
static const char ECS_BODY[] =
    "{\"RoleArn\":\"arn:aws:iam::123456789:role/ecs-task-role\",\"AccessKeyId\":\"ASIARCORRECT\","
    "\"SecretAccessKey\":\"secretkeycorrect\",\"Token\":\"tokencorrect\",\"AccountId\":"
    "\"012345678901\",\"Expiration\" : \"2009-02-13T23:31:30Z\"}";

/* eks_pod_identity_credentials/http-traffic.json */
static const char EKS_BODY[] =
    "{\"RoleArn\":\"arn:aws:iam::123456789:role/eks-pod-identity-role\",\"AccessKeyId\":"
    "\"ASIARCORRECT\",\"SecretAccessKey\":\"secretkeycorrect\",\"Token\":\"tokencorrect\","
    "\"AccountId\":\"012345678901\",\"Expiration\" : \"2009-02-13T23:31:30Z\"}";

/* imds_default_chain_success/http-traffic.json (the credentials call) */
static const char IMDS_BODY[] = "{\n"
                                "  \"Code\" : \"Success\",\n"
                                "  \"LastUpdated\" : \"2021-09-20T21:42:26Z\",\n"
                                "  \"Type\" : \"AWS-HMAC\",\n"
                                "  \"AccessKeyId\" : \"ASIARTEST\",\n"
                                "  \"SecretAccessKey\" : \"testsecret\",\n"
                                "  \"Token\" : \"testtoken\",\n"
                                "  \"Expiration\" : \"2021-09-21T04:16:53Z\"\n"
                                "}";

/* ecs_assume_role/http-traffic.json (the STS call) */
static const char STS_ASSUME_ROLE[] =
    "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <AssumeRoleResult>\n"
    "    <AssumedRoleUser>\n"
    "      <AssumedRoleId>AROAR42TAWARILN3MNKUT:assume-role-from-profile-1632246085998"
    "</AssumedRoleId>\n"
    "      <Arn>arn:aws:sts::130633740322:assumed-role/imds-chained-role-test/"
    "assume-role-from-profile-1632246085998</Arn>\n"
    "    </AssumedRoleUser>\n"
    "    <Credentials>\n"
    "      <AccessKeyId>ASIARCORRECT</AccessKeyId>\n"
    "      <SecretAccessKey>secretkeycorrect</SecretAccessKey>\n"
    "      <SessionToken>tokencorrect</SessionToken>\n"
    "      <Expiration>2021-09-21T18:41:26Z</Expiration>\n"
    "    </Credentials>\n"
    "  </AssumeRoleResult>\n"
    "  <ResponseMetadata>\n"
    "    <RequestId>d9d47248-fd55-4686-ad7c-0fb7cd1cddd7</RequestId>\n"
    "  </ResponseMetadata>\n"
    "</AssumeRoleResponse>\n";

/* web_identity_token_env/http-traffic.json */
static const char STS_WEB_IDENTITY[] =
    "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <AssumeRoleWithWebIdentityResult>\n"
    "    <Audience>my-cluster.sk1.us-west-2.eks.amazonaws.com</Audience>\n"
    "    <AssumedRoleUser>\n"
    "      <AssumedRoleId>AROARTEST:test-session</AssumedRoleId>\n"
    "      <Arn>arn:aws:sts::123456789012:assumed-role/sdk-test/test-session</Arn>\n"
    "    </AssumedRoleUser>\n"
    "    <Provider>arn:aws:iam::123456789012:oidc-provider/s3-us-west-2.amazonaws.com/"
    "oidc-test-testbucket</Provider>\n"
    "    <Credentials>\n"
    "      <AccessKeyId>AKIDTEST</AccessKeyId>\n"
    "      <SecretAccessKey>SECRETKEYTEST</SecretAccessKey>\n"
    "      <SessionToken>SESSIONTOKEN_TEST</SessionToken>\n"
    "      <Expiration>2021-08-16T20:52:53Z</Expiration>\n"
    "    </Credentials>\n"
    "    <SubjectFromWebIdentityToken>system:serviceaccount:default:default"
    "</SubjectFromWebIdentityToken>\n"
    "  </AssumeRoleWithWebIdentityResult>\n"
    "  <ResponseMetadata>\n"
    "    <RequestId>f874b1d6-2f3b-4834-907a-6a7c4b3b2d35</RequestId>\n"
    "  </ResponseMetadata>\n"
    "</AssumeRoleWithWebIdentityResponse>\n";

/* web_identity_token_invalid_jwt/http-traffic.json */
static const char STS_ERROR[] =
    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <Error>\n"
    "    <Type>Sender</Type>\n"
    "    <Code>InvalidIdentityToken</Code>\n"
    "    <Message>No OpenIDConnect provider found in your account for "
    "https://s3-us-west-2.amazonaws.com/oidc-test-tzzotbwmznwimurcbkebndpxaimixbkc</Message>\n"
    "  </Error>\n"
    "  <RequestId>5045ca91-d123-4749-9d66-00a3c906be6c</RequestId>\n"
    "</ErrorResponse>\n";

/* imds_default_chain_error/http-traffic.json: an HTML 404 with an external DTD */
static const char XHTML_404[] =
    "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n"
    "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n"
    "\t\t \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
    "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n"
    " <head>\n"
    "  <title>404 - Not Found</title>\n"
    " </head>\n"
    " <body>\n"
    "  <h1>404 - Not Found</h1>\n"
    " </body>\n"
    "</html>\n";

/* ---- helpers ------------------------------------------------------------------------------ */

/* An allocator over test_allocator whose release fails the test unless the block was wiped. */
typedef struct wipe_check {
    mqtt5_allocator base;
    test_allocator inner;
    size_t unwiped;
} wipe_check;

static void *wc_allocate(void *ctx, size_t size)
{
    wipe_check *w = ctx;
    return w->inner.base.allocate(w->inner.base.ctx, size);
}

static void wc_release(void *ctx, void *ptr, size_t size)
{
    wipe_check *w = ctx;
    const unsigned char *p = ptr;
    for (size_t i = 0; i < size; i++)
        if (p[i] != 0) {
            w->unwiped++;
            break;
        }
    w->inner.base.release(w->inner.base.ctx, ptr, size);
}

static const mqtt5_allocator *wc_init(wipe_check *w)
{
    memset(w, 0, sizeof(*w));
    test_allocator_init(&w->inner);
    w->base.allocate = wc_allocate;
    w->base.release = wc_release;
    w->base.ctx = w;
    return &w->base;
}

static void wc_finish(wipe_check *w)
{
    assert_int_equal(w->unwiped, 0);
    assert_no_leaks(&w->inner);
}

/* An exact-size copy without a NUL, so AddressSanitizer sees any read past len. */
static const char *exact(const char *s, size_t len)
{
    char *p = test_alloc(len);
    memcpy(p, s, len);
    return p;
}

static void assert_no_substr(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle) != NULL) fail_msg("\"%s\" contains \"%s\"", haystack, needle);
}

static void assert_has_substr(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle) == NULL) fail_msg("\"%s\" lacks \"%s\"", haystack, needle);
}

static void assert_empty(const mqtt5_parsed_credentials *c)
{
    assert_null(c->access_key_id);
    assert_null(c->secret_access_key);
    assert_null(c->session_token);
    assert_null(c->account_id);
    assert_null(c->identity_id);
    assert_true(c->expiration == MQTT5_CREDENTIALS_NO_EXPIRY);
}

typedef int (*json_parser)(const mqtt5_allocator *, const char *, size_t,
                           mqtt5_parsed_credentials *, char *, size_t);

/* Parse `doc` expecting MQTT5_ERR_MALFORMED with `field` named and `secret` absent in err. */
static void expect_malformed(json_parser parse, const char *doc, const char *field,
                             const char *secret)
{
    wipe_check w;
    const mqtt5_allocator *a = wc_init(&w);
    mqtt5_parsed_credentials c;
    char err[256];
    size_t len = strlen(doc);
    int rc = parse(a, exact(doc, len), len, &c, err, sizeof err);
    if (rc != MQTT5_ERR_MALFORMED) fail_msg("rc %d for %s", rc, doc);
    assert_empty(&c);
    if (field) assert_has_substr(err, field);
    if (secret) assert_no_substr(err, secret);
    assert_null(strchr(err, '\n'));
    wc_finish(&w);
}

/* ---- JSON: container ---------------------------------------------------------------------- */

static void check_container(const char *body, const char *akid, const char *secret,
                            const char *token, const char *account, int64_t expiry)
{
    wipe_check w;
    const mqtt5_allocator *a = wc_init(&w);
    mqtt5_parsed_credentials c;
    char err[256] = "";
    size_t len = strlen(body);
    assert_int_equal(mqtt5_cred_parse_container_json(a, exact(body, len), len, &c, err, sizeof err),
                     0);
    assert_string_equal(c.access_key_id, akid);
    assert_string_equal(c.secret_access_key, secret);
    assert_string_equal(c.session_token, token);
    if (account)
        assert_string_equal(c.account_id, account);
    else
        assert_null(c.account_id);
    assert_null(c.identity_id);
    assert_true(c.expiration == expiry);
    mqtt5_parsed_credentials_clear(a, &c);
    assert_empty(&c);
    wc_finish(&w);
}

static void test_container_recorded(void **state)
{
    (void)state;
    /* 2009-02-13T23:31:30Z = 1234567890, the recordings' expected "expiry" */
    check_container(ECS_BODY, "ASIARCORRECT", "secretkeycorrect", "tokencorrect", "012345678901",
                    1234567890);
    check_container(EKS_BODY, "ASIARCORRECT", "secretkeycorrect", "tokencorrect", "012345678901",
                    1234567890);
    check_container(IMDS_BODY, "ASIARTEST", "testsecret", "testtoken", NULL, 1632197813);
}

static void test_container_exact_length(void **state)
{
    (void)state;
    mqtt5_parsed_credentials c;
    char err[256];
    size_t len = strlen(ECS_BODY);
    /* only len bytes are read: what follows is not part of the document */
    char *buf = test_alloc(len + 8);
    memcpy(buf, ECS_BODY, len);
    memcpy(buf + len, "garbage!", 8);
    assert_int_equal(mqtt5_cred_parse_container_json(NULL, buf, len, &c, err, sizeof err), 0);
    assert_string_equal(c.access_key_id, "ASIARCORRECT");
    mqtt5_parsed_credentials_clear(NULL, &c);
    /* trailing whitespace is fine, trailing data is not */
    memcpy(buf + len, " \r\n\t    ", 8);
    assert_int_equal(mqtt5_cred_parse_container_json(NULL, buf, len + 8, &c, err, sizeof err), 0);
    mqtt5_parsed_credentials_clear(NULL, &c);
    memcpy(buf + len, "  {}    ", 8);
    assert_int_equal(mqtt5_cred_parse_container_json(NULL, buf, len + 8, &c, err, sizeof err),
                     MQTT5_ERR_MALFORMED);
    assert_has_substr(err, "after the JSON document");
    assert_empty(&c);
    /* empty and NULL text */
    assert_int_equal(mqtt5_cred_parse_container_json(NULL, buf, 0, &c, err, sizeof err),
                     MQTT5_ERR_MALFORMED);
    assert_int_equal(mqtt5_cred_parse_container_json(NULL, NULL, 0, &c, NULL, 0),
                     MQTT5_ERR_MALFORMED);
}

static void test_container_truncated(void **state)
{
    (void)state;
    const char *bodies[] = {ECS_BODY, IMDS_BODY};
    for (size_t b = 0; b < COUNT_OF(bodies); b++) {
        size_t full = strlen(bodies[b]);
        for (size_t n = 1; n < full; n++) {
            wipe_check w;
            const mqtt5_allocator *a = wc_init(&w);
            mqtt5_parsed_credentials c;
            char err[256];
            int rc =
                mqtt5_cred_parse_container_json(a, exact(bodies[b], n), n, &c, err, sizeof err);
            if (rc != MQTT5_ERR_MALFORMED) fail_msg("prefix of %zu bytes: rc %d", n, rc);
            assert_empty(&c);
            assert_no_substr(err, "secret");
            wc_finish(&w);
        }
    }
}

static void test_container_malformed(void **state)
{
    (void)state;
    json_parser p = mqtt5_cred_parse_container_json;
    /* missing fields name the field */
    expect_malformed(p,
                     "{\"SecretAccessKey\":\"SEKRET\",\"Token\":\"t\",\"Expiration\":"
                     "\"2021-09-21T04:16:53Z\"}",
                     "\"AccessKeyId\"", "SEKRET");
    expect_malformed(p,
                     "{\"AccessKeyId\":\"AK\",\"Token\":\"t\",\"Expiration\":"
                     "\"2021-09-21T04:16:53Z\"}",
                     "\"SecretAccessKey\"", NULL);
    expect_malformed(p, "{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SEKRET\",\"Token\":\"t\"}",
                     "\"Expiration\"", "SEKRET");
    /* wrong types */
    expect_malformed(p,
                     "{\"AccessKeyId\":12,\"SecretAccessKey\":\"SEKRET\",\"Expiration\":"
                     "\"2021-09-21T04:16:53Z\"}",
                     "\"AccessKeyId\" is not a string", "SEKRET");
    expect_malformed(p,
                     "{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":true,\"Expiration\":"
                     "\"2021-09-21T04:16:53Z\"}",
                     "\"SecretAccessKey\" is not a string", NULL);
    expect_malformed(p,
                     "{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SEKRET\",\"Token\":[1],"
                     "\"Expiration\":\"2021-09-21T04:16:53Z\"}",
                     "\"Token\" is not a string", "SEKRET");
    expect_malformed(p,
                     "{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SEKRET\",\"Expiration\":"
                     "1632197813}",
                     "\"Expiration\" is not a string", "SEKRET");
    expect_malformed(p,
                     "{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SEKRET\",\"Expiration\":"
                     "\"2021-02-29T04:16:53Z\"}",
                     "\"Expiration\" is not an ISO 8601", "SEKRET");
    expect_malformed(p, "{\"Code\":200,\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SEKRET\"}",
                     "\"Code\"", "SEKRET");
    expect_malformed(p, "[\"AccessKeyId\",\"SecretAccessKey\"]", "not a JSON object", NULL);
    expect_malformed(p, "\"SEKRET\"", "not a JSON object", "SEKRET");
    /* empty and control characters (they would end up in HTTP headers) */
    expect_malformed(p,
                     "{\"AccessKeyId\":\"\",\"SecretAccessKey\":\"SEKRET\",\"Expiration\":"
                     "\"2021-09-21T04:16:53Z\"}",
                     "\"AccessKeyId\" is empty", "SEKRET");
    expect_malformed(p,
                     "{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SEK\\nRET\",\"Expiration\":"
                     "\"2021-09-21T04:16:53Z\"}",
                     "control character", "SEK");
    expect_malformed(p,
                     "{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SEKRET\",\"Token\":"
                     "\"a\\r\\nX-Evil: 1\",\"Expiration\":\"2021-09-21T04:16:53Z\"}",
                     "\"Token\" contains a control character", "SEKRET");
    /* IMDS's own failure report: the reason, never the secret */
    expect_malformed(p,
                     "{\"Code\":\"Failure\",\"Message\":\"Instance profile not found\","
                     "\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SEKRET\",\"Token\":\"t\","
                     "\"Expiration\":\"2021-09-21T04:16:53Z\"}",
                     "Code \"Failure\": Instance profile not found", "SEKRET");
    expect_malformed(p, "{\"Code\":\"AssumeRoleUnauthorizedAccess\"}",
                     "AssumeRoleUnauthorizedAccess", NULL);
    /* not JSON */
    expect_malformed(p, "", NULL, NULL);
    expect_malformed(p, "{\"AccessKeyId\":\"AK\",}", "not valid JSON", NULL);
    expect_malformed(p, "<html>404</html>", "not valid JSON", NULL);
}

static void test_container_optional(void **state)
{
    (void)state;
    mqtt5_parsed_credentials c;
    char err[256];
    /* Token, AccountId optional; null counts as absent; duplicate keys: the first wins */
    const char doc[] = "{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"S\",\"Token\":null,"
                       "\"AccountId\":\"\",\"Expiration\":\"2021-09-21T06:16:53+02:00\","
                       "\"AccessKeyId\":\"second\"}";
    assert_int_equal(
        mqtt5_cred_parse_container_json(NULL, doc, sizeof doc - 1, &c, err, sizeof err), 0);
    assert_string_equal(c.access_key_id, "AK");
    assert_null(c.session_token);
    assert_null(c.account_id);
    assert_true(c.expiration == 1632197813);
    mqtt5_parsed_credentials_clear(NULL, &c);
    mqtt5_parsed_credentials_clear(NULL, &c); /* twice is harmless */
    assert_empty(&c);
}

static void test_document_too_large(void **state)
{
    (void)state;
    size_t len = MQTT5_CRED_MAX_DOCUMENT + 1;
    char *big = test_alloc(len);
    memset(big, ' ', len);
    memcpy(big, ECS_BODY, strlen(ECS_BODY));
    mqtt5_parsed_credentials c;
    char err[256];
    assert_int_equal(mqtt5_cred_parse_container_json(NULL, big, len, &c, err, sizeof err),
                     MQTT5_ERR_MALFORMED);
    assert_has_substr(err, "larger than");
    /* the same document at the cap is fine */
    assert_int_equal(mqtt5_cred_parse_container_json(NULL, big, len - 1, &c, err, sizeof err), 0);
    mqtt5_parsed_credentials_clear(NULL, &c);
    memset(big, ' ', len);
    memcpy(big, STS_ASSUME_ROLE, strlen(STS_ASSUME_ROLE));
    assert_int_equal(mqtt5_cred_parse_sts_xml(NULL, big, len, &c, err, sizeof err),
                     MQTT5_ERR_MALFORMED);
    assert_has_substr(err, "larger than");
    assert_int_equal(mqtt5_cred_parse_sts_xml(NULL, big, len - 1, &c, err, sizeof err), 0);
    mqtt5_parsed_credentials_clear(NULL, &c);
}

/* ---- JSON: credential_process -------------------------------------------------------------- */

static void test_process(void **state)
{
    (void)state;
    wipe_check w;
    const mqtt5_allocator *a = wc_init(&w);
    mqtt5_parsed_credentials c;
    char err[256];
    const char full[] = "{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", \"SecretAccessKey\": "
                        "\"procsecret\", \"SessionToken\": \"proctoken\", \"Expiration\": "
                        "\"2022-05-26T12:34:56.789Z\", \"AccountId\": \"111122223333\"}";
    assert_int_equal(mqtt5_cred_parse_process_json(a, exact(full, sizeof full - 1), sizeof full - 1,
                                                   &c, err, sizeof err),
                     0);
    assert_string_equal(c.access_key_id, "AKIDPROC");
    assert_string_equal(c.secret_access_key, "procsecret");
    assert_string_equal(c.session_token, "proctoken");
    assert_string_equal(c.account_id, "111122223333");
    assert_true(c.expiration == 1653568496); /* fraction truncated */
    mqtt5_parsed_credentials_clear(a, &c);

    /* long-term keys: no token, no expiry */
    const char min[] = "{\"Version\":1,\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":\"s\"}";
    assert_int_equal(mqtt5_cred_parse_process_json(a, exact(min, sizeof min - 1), sizeof min - 1,
                                                   &c, err, sizeof err),
                     0);
    assert_null(c.session_token);
    assert_null(c.account_id);
    assert_true(c.expiration == MQTT5_CREDENTIALS_NO_EXPIRY);
    mqtt5_parsed_credentials_clear(a, &c);
    wc_finish(&w);

    json_parser p = mqtt5_cred_parse_process_json;
    expect_malformed(p, "{\"Version\":2,\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":\"SEKRET\"}",
                     "\"Version\"", "SEKRET");
    expect_malformed(p,
                     "{\"Version\":\"1\",\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":\"SEKRET\"}",
                     "\"Version\"", "SEKRET");
    expect_malformed(p, "{\"Version\":1.5,\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":\"SEKRET\"}",
                     "\"Version\"", "SEKRET");
    expect_malformed(p, "{\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":\"SEKRET\"}",
                     "missing \"Version\"", "SEKRET");
    expect_malformed(p, "{\"Version\":1,\"SecretAccessKey\":\"SEKRET\"}", "\"AccessKeyId\"",
                     "SEKRET");
    expect_malformed(p, "{\"Version\":1,\"AccessKeyId\":\"AKID\"}", "\"SecretAccessKey\"", NULL);
    expect_malformed(p,
                     "{\"Version\":1,\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":\"SEKRET\","
                     "\"Expiration\":\"tomorrow\"}",
                     "\"Expiration\"", "SEKRET");
    expect_malformed(p,
                     "{\"Version\":1,\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":\"SEKRET\","
                     "\"SessionToken\":42}",
                     "\"SessionToken\" is not a string", "SEKRET");
    expect_malformed(p, "{\"Version\":1,\"AccessKeyId\":\"AKID\",\"SecretAccessKey\":\"SEKRET\"",
                     "not valid JSON", "SEKRET");
}

/* ---- JSON: Cognito ------------------------------------------------------------------------- */

static void test_cognito(void **state)
{
    (void)state;
    wipe_check w;
    const mqtt5_allocator *a = wc_init(&w);
    mqtt5_parsed_credentials c;
    char err[256];
    /* awsJson1_1: Expiration is epoch seconds, as a number (here with exponent and fraction) */
    const char body[] = "{\"Credentials\":{\"AccessKeyId\":\"ASIACOGNITO\",\"Expiration\":"
                        "1.632197813999E9,\"SecretKey\":\"cognitosecret\",\"SessionToken\":"
                        "\"cognitotoken\"},\"IdentityId\":"
                        "\"us-east-1:12345678-1234-1234-1234-123456789012\"}";
    assert_int_equal(mqtt5_cred_parse_cognito_json(a, exact(body, sizeof body - 1), sizeof body - 1,
                                                   &c, err, sizeof err),
                     0);
    assert_string_equal(c.access_key_id, "ASIACOGNITO");
    assert_string_equal(c.secret_access_key, "cognitosecret");
    assert_string_equal(c.session_token, "cognitotoken");
    assert_string_equal(c.identity_id, "us-east-1:12345678-1234-1234-1234-123456789012");
    assert_null(c.account_id);
    assert_true(c.expiration == 1632197813);
    mqtt5_credentials view;
    mqtt5_parsed_credentials_view(&c, "cognito", &view);
    assert_ptr_equal(view.access_key_id, c.access_key_id);
    assert_ptr_equal(view.secret_access_key, c.secret_access_key);
    assert_ptr_equal(view.session_token, c.session_token);
    assert_null(view.account_id);
    assert_true(view.expiration == 1632197813);
    assert_string_equal(view.provider, "cognito");
    mqtt5_parsed_credentials_clear(a, &c);
    wc_finish(&w);

    json_parser p = mqtt5_cred_parse_cognito_json;
    expect_malformed(p, "{\"IdentityId\":\"x\"}", "\"Credentials\"", NULL);
    expect_malformed(p, "{\"Credentials\":\"SEKRET\"}", "\"Credentials\" is not an object",
                     "SEKRET");
    expect_malformed(p,
                     "{\"Credentials\":{\"AccessKeyId\":\"A\",\"SecretKey\":\"SEKRET\","
                     "\"SessionToken\":\"t\",\"Expiration\":\"2021-09-21T04:16:53Z\"}}",
                     "\"Credentials.Expiration\" is not a number", "SEKRET");
    expect_malformed(p,
                     "{\"Credentials\":{\"AccessKeyId\":\"A\",\"SecretKey\":\"SEKRET\","
                     "\"SessionToken\":\"t\"}}",
                     "\"Credentials.Expiration\"", "SEKRET");
    expect_malformed(p,
                     "{\"Credentials\":{\"AccessKeyId\":\"A\",\"SecretKey\":\"SEKRET\","
                     "\"SessionToken\":\"t\",\"Expiration\":-5}}",
                     "out of range", "SEKRET");
    expect_malformed(p,
                     "{\"Credentials\":{\"AccessKeyId\":\"A\",\"SecretKey\":\"SEKRET\","
                     "\"SessionToken\":\"t\",\"Expiration\":1e999}}",
                     "out of range", "SEKRET");
    expect_malformed(p,
                     "{\"Credentials\":{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"SEKRET\","
                     "\"SessionToken\":\"t\",\"Expiration\":1}}",
                     "\"Credentials.SecretKey\"", "SEKRET");
    expect_malformed(p,
                     "{\"Credentials\":{\"SecretKey\":\"SEKRET\",\"SessionToken\":\"t\","
                     "\"Expiration\":1}}",
                     "\"Credentials.AccessKeyId\"", "SEKRET");
    expect_malformed(p,
                     "{\"Credentials\":{\"AccessKeyId\":\"A\",\"SecretKey\":\"SEKRET\","
                     "\"Expiration\":1}}",
                     "\"Credentials.SessionToken\"", "SEKRET");
    /* an error body given to the success parser says what the error was */
    expect_malformed(p,
                     "{\"__type\":\"NotAuthorizedException\",\"message\":\"Invalid login "
                     "token. Token expired: 1632197813 >= 1632190000\"}",
                     "Cognito error: NotAuthorizedException: Invalid login token.", NULL);
}

static void test_json_error(void **state)
{
    (void)state;
    char err[256];
    const char a[] = "{\"__type\":\"NotAuthorizedException\",\"message\":\"Logins don't match.\"}";
    assert_int_equal(
        mqtt5_cred_parse_json_error(exact(a, sizeof a - 1), sizeof a - 1, err, sizeof err), 0);
    assert_string_equal(err, "NotAuthorizedException: Logins don't match.");
    const char b[] = "{\"__type\":\"com.amazonaws.cognito.identity.model#"
                     "ResourceNotFoundException\",\"Message\":\"IdentityId not found\"}";
    assert_int_equal(mqtt5_cred_parse_json_error(b, sizeof b - 1, err, sizeof err), 0);
    assert_string_equal(err, "ResourceNotFoundException: IdentityId not found");
    const char c[] = "{\"__type\":\"aws.protocoltests#TooManyRequests:http://internal.amazon.com/"
                     "coral/x/\"}";
    assert_int_equal(mqtt5_cred_parse_json_error(c, sizeof c - 1, err, sizeof err), 0);
    assert_string_equal(err, "TooManyRequests");
    const char d[] = "{\"__type\":\"X\",\"message\":\"line one\\nline two\"}";
    assert_int_equal(mqtt5_cred_parse_json_error(d, sizeof d - 1, err, sizeof err), 0);
    assert_string_equal(err, "X: line one line two"); /* one line */
    /* a short err buffer is truncated, not overrun */
    char small[8];
    assert_int_equal(mqtt5_cred_parse_json_error(a, sizeof a - 1, small, sizeof small), 0);
    assert_string_equal(small, "NotAuth");
    assert_int_equal(mqtt5_cred_parse_json_error(a, sizeof a - 1, NULL, 0), 0);

    const char *bad[] = {"{\"message\":\"no type\"}",
                         "{\"__type\":5}",
                         "{\"__type\":\"\"}",
                         "[]",
                         "{\"__type\":\"X\"",
                         "",
                         "nope"};
    for (size_t i = 0; i < COUNT_OF(bad); i++) {
        size_t n = strlen(bad[i]);
        assert_int_equal(mqtt5_cred_parse_json_error(exact(bad[i], n), n, err, sizeof err),
                         MQTT5_ERR_MALFORMED);
        assert_true(err[0] != '\0');
    }
}

/* ---- cJSON's copies are wiped -------------------------------------------------------------- */

static const char *hook_marker;
static size_t hook_marker_seen;

static void *hook_malloc(size_t n)
{
    size_t *p = malloc(n + 16);
    if (p == NULL) return NULL;
    *p = n;
    return (char *)p + 16;
}

static void hook_free(void *ptr)
{
    if (ptr == NULL) return;
    char *base = (char *)ptr - 16;
    size_t n = *(size_t *)base, m = strlen(hook_marker);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp((char *)ptr + i, hook_marker, m) == 0) {
            hook_marker_seen++;
            break;
        }
    free(base);
}

static void test_cjson_tree_wiped(void **state)
{
    (void)state;
    cJSON_Hooks hooks = {hook_malloc, hook_free};
    cJSON_InitHooks(&hooks);
    mqtt5_parsed_credentials c;
    char err[256];
    /* success, and failures after the secret was parsed */
    const char *docs[] = {
        ECS_BODY,
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"secretkeycorrect\",\"Expiration\":\"bad\"}",
        "{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"secretkeycorrect\","
        "\"SessionToken\":\"tokencorrect\"}",
        "{\"Credentials\":{\"AccessKeyId\":\"A\",\"SecretKey\":\"secretkeycorrect\","
        "\"SessionToken\":\"tokencorrect\",\"Expiration\":1}}",
    };
    json_parser parsers[] = {mqtt5_cred_parse_container_json, mqtt5_cred_parse_container_json,
                             mqtt5_cred_parse_process_json, mqtt5_cred_parse_cognito_json};
    const char *markers[] = {"secretkeycorrect", "tokencorrect"};
    for (size_t m = 0; m < COUNT_OF(markers); m++) {
        hook_marker = markers[m];
        for (size_t i = 0; i < COUNT_OF(docs); i++) {
            hook_marker_seen = 0;
            int rc = parsers[i](NULL, docs[i], strlen(docs[i]), &c, err, sizeof err);
            mqtt5_parsed_credentials_clear(NULL, &c);
            (void)rc;
            if (hook_marker_seen != 0) {
                cJSON_InitHooks(NULL);
                fail_msg("cJSON freed an unwiped copy of %s (document %zu)", markers[m], i);
            }
        }
    }
    cJSON_InitHooks(NULL);
}

/* ---- every allocation failure --------------------------------------------------------------- */

static void nomem_sweep(json_parser parse, const char *doc)
{
    size_t len = strlen(doc);
    bool succeeded = false;
    size_t nomem = 0;
    for (size_t k = 1; k < 64 && !succeeded; k++) {
        wipe_check w;
        const mqtt5_allocator *a = wc_init(&w);
        test_allocator_fail_at(&w.inner, k, false);
        mqtt5_parsed_credentials c;
        char err[256];
        int rc = parse(a, doc, len, &c, err, sizeof err);
        if (rc == 0) {
            succeeded = true;
            mqtt5_parsed_credentials_clear(a, &c);
        } else {
            assert_int_equal(rc, MQTT5_ERR_NOMEM);
            assert_string_equal(err, "out of memory");
            assert_empty(&c);
            nomem++;
        }
        wc_finish(&w);
    }
    assert_true(succeeded);
    assert_true(nomem >= 4);
}

static void test_nomem(void **state)
{
    (void)state;
    nomem_sweep(mqtt5_cred_parse_container_json, ECS_BODY);
    nomem_sweep(mqtt5_cred_parse_process_json,
                "{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\","
                "\"SessionToken\":\"T\",\"AccountId\":\"1\"}");
    nomem_sweep(mqtt5_cred_parse_cognito_json,
                "{\"Credentials\":{\"AccessKeyId\":\"A\",\"SecretKey\":\"S\",\"SessionToken\":"
                "\"T\",\"Expiration\":1},\"IdentityId\":\"I\"}");
    nomem_sweep(mqtt5_cred_parse_sts_xml, STS_ASSUME_ROLE);
    /* the joined-text path */
    nomem_sweep(mqtt5_cred_parse_sts_xml,
                "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A<!---->B"
                "</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken>"
                "<Expiration>2021-09-21T18:41:26Z</Expiration></Credentials></AssumeRoleResult>"
                "</AssumeRoleResponse>");
}

/* ---- XML: STS -------------------------------------------------------------------------------- */

/* libxml2's external entity loader, watched: nothing may ever be fetched. */
static size_t loader_calls;

static xmlParserInputPtr counting_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
    (void)url;
    (void)id;
    (void)ctxt;
    loader_calls++;
    return NULL;
}

static int xml_setup(void **state)
{
    (void)state;
    xmlInitParser();
    xmlSetExternalEntityLoader(counting_loader);
    loader_calls = 0;
    return 0;
}

static void check_sts(const char *body, const char *akid, const char *secret, const char *token,
                      const char *account, int64_t expiry)
{
    wipe_check w;
    const mqtt5_allocator *a = wc_init(&w);
    mqtt5_parsed_credentials c;
    char err[256] = "";
    size_t len = strlen(body);
    int rc = mqtt5_cred_parse_sts_xml(a, exact(body, len), len, &c, err, sizeof err);
    if (rc != 0) fail_msg("rc %d: %s", rc, err);
    assert_string_equal(c.access_key_id, akid);
    assert_string_equal(c.secret_access_key, secret);
    assert_string_equal(c.session_token, token);
    if (account)
        assert_string_equal(c.account_id, account);
    else
        assert_null(c.account_id);
    assert_true(c.expiration == expiry);
    mqtt5_parsed_credentials_clear(a, &c);
    wc_finish(&w);
}

static void test_sts_recorded(void **state)
{
    (void)state;
    /* 2021-09-21T18:41:26Z = 1632249686; 2021-08-16T20:52:53Z = 1629147173 */
    check_sts(STS_ASSUME_ROLE, "ASIARCORRECT", "secretkeycorrect", "tokencorrect", "130633740322",
              1632249686);
    check_sts(STS_WEB_IDENTITY, "AKIDTEST", "SECRETKEYTEST", "SESSIONTOKEN_TEST", "123456789012",
              1629147173);

    char err[512];
    size_t len = strlen(STS_ERROR);
    assert_int_equal(mqtt5_cred_parse_sts_error_xml(exact(STS_ERROR, len), len, err, sizeof err),
                     0);
    assert_string_equal(err, "InvalidIdentityToken: No OpenIDConnect provider found in your "
                             "account for https://s3-us-west-2.amazonaws.com/"
                             "oidc-test-tzzotbwmznwimurcbkebndpxaimixbkc");
    assert_int_equal(loader_calls, 0);
}

static void test_sts_shapes(void **state)
{
    (void)state;
    /* prefixed namespace, whitespace around values, CDATA and comments splitting a value,
     * predefined entities, no AssumedRoleUser, an offset expiry */
    check_sts("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
              "<sts:AssumeRoleResponse xmlns:sts=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
              "<sts:AssumeRoleResult><sts:Credentials>"
              "<sts:AccessKeyId>\n   AKIDX  \n</sts:AccessKeyId>"
              "<sts:SecretAccessKey>se<!-- split -->cr<![CDATA[et/+=]]></sts:SecretAccessKey>"
              "<sts:SessionToken>a&amp;b&lt;c</sts:SessionToken>"
              "<sts:Expiration>2021-09-21T20:41:26.000+02:00</sts:Expiration>"
              "</sts:Credentials></sts:AssumeRoleResult></sts:AssumeRoleResponse>",
              "AKIDX", "secret/+=", "a&b<c", NULL, 1632249686);
    /* an unparsable ARN leaves the account id out, it is not an error */
    check_sts("<AssumeRoleResponse><AssumeRoleResult><AssumedRoleUser><Arn>not-an-arn</Arn>"
              "</AssumedRoleUser><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S"
              "</SecretAccessKey><SessionToken>T</SessionToken><Expiration>2021-09-21T18:41:26Z"
              "</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>",
              "A", "S", "T", NULL, 1632249686);
}

static void expect_sts_malformed(const char *doc, const char *reason, const char *secret)
{
    expect_malformed(mqtt5_cred_parse_sts_xml, doc, reason, secret);
}

#define STS_WRAP(creds)                                                                            \
    "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>"   \
    "<Credentials>" creds "</Credentials></AssumeRoleResult></AssumeRoleResponse>"

static void test_sts_malformed(void **state)
{
    (void)state;
    /* the ErrorResponse given to the success parser */
    expect_sts_malformed(STS_ERROR, "STS error: InvalidIdentityToken: No OpenIDConnect", NULL);
    /* missing fields name the field */
    expect_sts_malformed(STS_WRAP("<SecretAccessKey>SEKRET</SecretAccessKey><SessionToken>t"
                                  "</SessionToken><Expiration>2021-09-21T18:41:26Z</Expiration>"),
                         "Credentials/AccessKeyId", "SEKRET");
    expect_sts_malformed(STS_WRAP("<AccessKeyId>A</AccessKeyId><SessionToken>t</SessionToken>"
                                  "<Expiration>2021-09-21T18:41:26Z</Expiration>"),
                         "Credentials/SecretAccessKey", NULL);
    expect_sts_malformed(STS_WRAP("<AccessKeyId>A</AccessKeyId><SecretAccessKey>SEKRET"
                                  "</SecretAccessKey><Expiration>2021-09-21T18:41:26Z"
                                  "</Expiration>"),
                         "Credentials/SessionToken", "SEKRET");
    expect_sts_malformed(STS_WRAP("<AccessKeyId>A</AccessKeyId><SecretAccessKey>SEKRET"
                                  "</SecretAccessKey><SessionToken>t</SessionToken>"),
                         "Credentials/Expiration", "SEKRET");
    expect_sts_malformed(STS_WRAP("<AccessKeyId>A</AccessKeyId><SecretAccessKey>SEKRET"
                                  "</SecretAccessKey><SessionToken>t</SessionToken>"
                                  "<Expiration>2021-13-21T18:41:26Z</Expiration>"),
                         "Credentials/Expiration is not an ISO 8601", "SEKRET");
    expect_sts_malformed(STS_WRAP("<AccessKeyId>  </AccessKeyId><SecretAccessKey>SEKRET"
                                  "</SecretAccessKey><SessionToken>t</SessionToken>"
                                  "<Expiration>2021-09-21T18:41:26Z</Expiration>"),
                         "Credentials/AccessKeyId is empty", "SEKRET");
    expect_sts_malformed(STS_WRAP("<AccessKeyId>A</AccessKeyId><SecretAccessKey>SEK&#10;RET"
                                  "</SecretAccessKey><SessionToken>t</SessionToken>"
                                  "<Expiration>2021-09-21T18:41:26Z</Expiration>"),
                         "control character", "SEK");
    expect_sts_malformed("<AssumeRoleResponse><AssumeRoleResult></AssumeRoleResult>"
                         "</AssumeRoleResponse>",
                         "missing Credentials", NULL);
    expect_sts_malformed("<GetCallerIdentityResponse><GetCallerIdentityResult/>"
                         "</GetCallerIdentityResponse>",
                         "no AssumeRoleResult", NULL);
    /* not XML */
    expect_sts_malformed("", "empty", NULL);
    expect_sts_malformed("{\"AccessKeyId\":\"A\"}", "not well-formed", NULL);
    expect_sts_malformed("<a><b></a>", "not well-formed", NULL);
    expect_sts_malformed("<a>&undefined;</a>", "not well-formed", NULL);
    assert_int_equal(loader_calls, 0);
}

static void test_sts_truncated(void **state)
{
    (void)state;
    const char *bodies[] = {STS_ASSUME_ROLE, STS_WEB_IDENTITY};
    for (size_t b = 0; b < COUNT_OF(bodies); b++) {
        /* every prefix that stops before the root's end tag */
        size_t full = (size_t)(strrchr(bodies[b], '>') - bodies[b]) + 1;
        for (size_t n = 1; n < full; n++) {
            wipe_check w;
            const mqtt5_allocator *a = wc_init(&w);
            mqtt5_parsed_credentials c;
            char err[256];
            int rc = mqtt5_cred_parse_sts_xml(a, exact(bodies[b], n), n, &c, err, sizeof err);
            if (rc != MQTT5_ERR_MALFORMED) fail_msg("prefix of %zu bytes: rc %d", n, rc);
            assert_empty(&c);
            assert_no_substr(err, "secretkeycorrect");
            assert_no_substr(err, "SECRETKEYTEST");
            assert_no_substr(err, "tokencorrect");
            wc_finish(&w);
        }
    }
    assert_int_equal(loader_calls, 0);
}

static void test_sts_doctype_entities(void **state)
{
    (void)state;
    /* an internal entity in the secret: refused, never expanded into anything */
    expect_sts_malformed(
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE AssumeRoleResponse [<!ENTITY sec \"EXPANDEDSECRET\">]>\n" STS_WRAP(
            "<AccessKeyId>A</AccessKeyId><SecretAccessKey>&sec;</SecretAccessKey>"
            "<SessionToken>t</SessionToken><Expiration>2021-09-21T18:41:26Z</Expiration>"),
        "DOCTYPE", "EXPANDEDSECRET");
    /* external entities, external parameter entities and external DTDs: nothing fetched */
    expect_sts_malformed(
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE AssumeRoleResponse [<!ENTITY ext SYSTEM \"file:///etc/hostname\">]>\n" STS_WRAP(
            "<AccessKeyId>A</AccessKeyId><SecretAccessKey>&ext;</SecretAccessKey>"
            "<SessionToken>t</SessionToken><Expiration>2021-09-21T18:41:26Z</Expiration>"),
        "DOCTYPE", NULL);
    expect_sts_malformed("<?xml version=\"1.0\"?>\n"
                         "<!DOCTYPE AssumeRoleResponse [<!ENTITY % pe SYSTEM "
                         "\"http://example.invalid/evil.dtd\"> %pe;]>\n" STS_WRAP(""),
                         "DOCTYPE", NULL);
    expect_sts_malformed("<?xml version=\"1.0\"?>\n"
                         "<!DOCTYPE AssumeRoleResponse SYSTEM \"file:///etc/passwd\">\n" STS_WRAP(
                             "<AccessKeyId>A</AccessKeyId>"),
                         "DOCTYPE", NULL);
    /* billion laughs: refused without blowing up */
    expect_sts_malformed(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
        "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
        "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
        "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
        "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
        "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
        "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
        "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
        "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
        "<!ENTITY lol9 "
        "\"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">]>\n" STS_WRAP(
            "<AccessKeyId>A</AccessKeyId><SecretAccessKey>&lol9;</SecretAccessKey>"
            "<SessionToken>t</SessionToken><Expiration>2021-09-21T18:41:26Z</Expiration>"),
        NULL, "lollollol");
    /* the recorded IMDS 404 page (XHTML with an external DTD) is not an STS error */
    char err[256];
    size_t len = strlen(XHTML_404);
    assert_int_equal(mqtt5_cred_parse_sts_error_xml(exact(XHTML_404, len), len, err, sizeof err),
                     MQTT5_ERR_MALFORMED);
    assert_int_equal(loader_calls, 0);

    /* positive control: the watched loader does see a load when one is asked for */
    xmlDocPtr doc = xmlReadMemory(XHTML_404, (int)len, NULL, NULL,
                                  XML_PARSE_DTDLOAD | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlFreeDoc(doc);
    assert_true(loader_calls > 0);
    loader_calls = 0;
}

/* libxml2's free, watched: a block that is exactly a NUL-terminated secret is a text node's
 * content that was not wiped (the parser's input buffer starts with '<', so it never matches). */
static const char *xml_marker;
static size_t xml_marker_seen;

static void xml_watch_free(void *ptr)
{
    size_t m = strlen(xml_marker);
    if (ptr != NULL && malloc_usable_size(ptr) >= m + 1 && memcmp(ptr, xml_marker, m + 1) == 0)
        xml_marker_seen++;
    free(ptr);
}

static void test_sts_tree_wiped(void **state)
{
    (void)state;
    xmlFreeFunc old_free;
    xmlMallocFunc old_malloc;
    xmlReallocFunc old_realloc;
    xmlStrdupFunc old_strdup;
    assert_int_equal(xmlMemGet(&old_free, &old_malloc, &old_realloc, &old_strdup), 0);
    assert_int_equal(xmlMemSetup(xml_watch_free, malloc, realloc, old_strdup), 0);
    const char *missing_expiry =
        STS_WRAP("<AccessKeyId>A</AccessKeyId><SecretAccessKey>secretkeycorrect</SecretAccessKey>"
                 "<SessionToken>tokencorrect</SessionToken>");
    const char *docs[] = {STS_ASSUME_ROLE, missing_expiry};
    const char *markers[] = {"secretkeycorrect", "tokencorrect"};
    size_t seen = 0, control = 0;
    for (size_t m = 0; m < COUNT_OF(markers); m++) {
        xml_marker = markers[m];
        for (size_t i = 0; i < COUNT_OF(docs); i++) {
            mqtt5_parsed_credentials c;
            char err[256];
            xml_marker_seen = 0;
            (void)mqtt5_cred_parse_sts_xml(NULL, docs[i], strlen(docs[i]), &c, err, sizeof err);
            mqtt5_parsed_credentials_clear(NULL, &c);
            seen += xml_marker_seen;
        }
        /* negative control: the same document freed without the wipe is seen */
        xml_marker_seen = 0;
        xmlDocPtr doc = xmlReadMemory(STS_ASSUME_ROLE, (int)strlen(STS_ASSUME_ROLE), NULL, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NODICT);
        xmlFreeDoc(doc);
        control += xml_marker_seen;
    }
    assert_int_equal(xmlMemSetup(old_free, old_malloc, old_realloc, old_strdup), 0);
    assert_int_equal(seen, 0);
    assert_int_equal(control, COUNT_OF(markers));
}

static void test_sts_error(void **state)
{
    (void)state;
    char err[256];
    const char bare[] = "<Error><Code>AccessDenied</Code><Message>Not authorized &amp; "
                        "denied</Message></Error>";
    assert_int_equal(mqtt5_cred_parse_sts_error_xml(bare, sizeof bare - 1, err, sizeof err), 0);
    assert_string_equal(err, "AccessDenied: Not authorized & denied");
    const char nomsg[] = "<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>";
    assert_int_equal(mqtt5_cred_parse_sts_error_xml(nomsg, sizeof nomsg - 1, err, sizeof err), 0);
    assert_string_equal(err, "Throttling");
    const char multiline[] = "<ErrorResponse><Error><Code>X</Code><Message>a\nb</Message></Error>"
                             "</ErrorResponse>";
    assert_int_equal(
        mqtt5_cred_parse_sts_error_xml(multiline, sizeof multiline - 1, err, sizeof err), 0);
    assert_string_equal(err, "X: a b");

    const char *bad[] = {STS_ASSUME_ROLE,
                         "<ErrorResponse><Error><Message>m</Message></Error></ErrorResponse>",
                         "<ErrorResponse><Code>X</Code></ErrorResponse>",
                         "<ErrorResponse><Error><Code>X</Code>",
                         "",
                         "{}"};
    for (size_t i = 0; i < COUNT_OF(bad); i++) {
        size_t n = strlen(bad[i]);
        assert_int_equal(mqtt5_cred_parse_sts_error_xml(exact(bad[i], n), n, err, sizeof err),
                         MQTT5_ERR_MALFORMED);
        assert_true(err[0] != '\0');
        assert_no_substr(err, "secretkeycorrect");
    }
    size_t n = strlen(STS_ERROR);
    assert_int_equal(mqtt5_cred_parse_sts_error_xml(STS_ERROR, n, NULL, 0), 0);
    assert_int_equal(loader_calls, 0);
}

/* ---- ISO 8601 ---------------------------------------------------------------------------------
 */

static void test_iso8601(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t t;
    } ok[] = {
        {"2021-09-21T04:16:53Z", 1632197813},
        {"2009-02-13T23:31:30Z", 1234567890},
        {"2021-09-21t04:16:53z", 1632197813},
        {"2021-09-21 04:16:53Z", 1632197813},
        {"2021-09-21T04:16:53.999Z", 1632197813},
        {"2021-09-21T04:16:53,5Z", 1632197813},
        {"2021-09-21T04:16:53.123456789012Z", 1632197813},
        {"2021-09-21T06:16:53+02:00", 1632197813},
        {"2021-09-20T23:16:53-05:00", 1632197813},
        {"2021-09-21T09:46:53+0530", 1632197813},
        {"2021-09-21T04:16:53.5-00:00", 1632197813},
        {"1970-01-01T00:00:00Z", 0},
        {"1969-12-31T23:59:59Z", -1},
        {"1970-01-01T00:00:00+00:01", -60},
        {"2024-02-29T00:00:00Z", 1709164800}, /* 19723 + 59 days: 2024 is a leap year */
        {"2000-02-29T12:00:00Z", 951825600},  /* 2000: divisible by 400 */
        {"2016-12-31T23:59:60Z", 1483228800}, /* leap second */
        {"9999-12-31T23:59:59Z", 253402300799},
        {"1600-03-01T00:00:00Z", -11670912000},
    };
    for (size_t i = 0; i < COUNT_OF(ok); i++) {
        int64_t t = 42;
        if (mqtt5_cred_parse_iso8601(ok[i].s, &t) != 0) fail_msg("refused %s", ok[i].s);
        if (t != ok[i].t)
            fail_msg("%s: %lld, want %lld", ok[i].s, (long long)t, (long long)ok[i].t);
    }
    static const char *const bad[] = {
        "2023-02-29T00:00:00Z", /* not a leap year */
        "1900-02-29T00:00:00Z", /* divisible by 100 */
        "2021-13-01T00:00:00Z",
        "2021-00-10T00:00:00Z",
        "2021-04-31T00:00:00Z",
        "2021-01-00T00:00:00Z",
        "2021-01-32T00:00:00Z",
        "2021-09-21T24:00:00Z",
        "2021-09-21T23:60:00Z",
        "2021-09-21T23:59:61Z",
        "2021-09-21T04:16:53", /* no offset */
        "2021-09-21T04:16:53Zx",
        "2021-09-21T04:16:53.Z",
        "2021-09-21T04:16:53+24:00",
        "2021-09-21T04:16:53+05:60",
        "2021-09-21T04:16:53+05",
        "2021-09-21T04:16:53+5:00",
        "2021-09-21T04:16Z",
        "2021-09-21",
        "21-09-21T04:16:53Z",
        "2021-9-21T04:16:53Z",
        " 2021-09-21T04:16:53Z",
        "2021-09-21T04:16:53Z ",
        "2021/09/21T04:16:53Z",
        "2021-09-21X04:16:53Z",
        "+2021-09-21T04:16:53Z",
        "2021-09-21T04:16:-3Z",
        "",
    };
    for (size_t i = 0; i < COUNT_OF(bad); i++) {
        int64_t t = 42;
        if (mqtt5_cred_parse_iso8601(bad[i], &t) != MQTT5_ERR_MALFORMED)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    /* every prefix is refused too, read without running past its end */
    const char *full = "2021-09-21T04:16:53.25+02:00";
    for (size_t n = 0; n < strlen(full); n++) {
        char *prefix = test_alloc(n + 1);
        memcpy(prefix, full, n);
        prefix[n] = '\0';
        int64_t t;
        if (mqtt5_cred_parse_iso8601(prefix, &t) == 0) fail_msg("accepted prefix \"%s\"", prefix);
    }
    int64_t t;
    assert_int_equal(mqtt5_cred_parse_iso8601(NULL, &t), MQTT5_ERR_MALFORMED);
}

/* ---- ARN ----------------------------------------------------------------------------------------
 */

static void test_account_from_arn(void **state)
{
    (void)state;
    char out[32];
    assert_int_equal(
        mqtt5_cred_account_from_arn("arn:aws:sts::123456789012:assumed-role/r/s", out, sizeof out),
        0);
    assert_string_equal(out, "123456789012");
    assert_int_equal(
        mqtt5_cred_account_from_arn("arn:aws-cn:iam::210987654321:role/x", out, sizeof out), 0);
    assert_string_equal(out, "210987654321");
    assert_int_equal(
        mqtt5_cred_account_from_arn("arn:aws:s3:us-east-1:000000000001:bucket/x", out, sizeof out),
        0);
    assert_string_equal(out, "000000000001");
    /* exactly fitting, and one too small */
    char fit[13];
    assert_int_equal(mqtt5_cred_account_from_arn("arn:aws:sts::123456789012:x", fit, sizeof fit),
                     0);
    assert_string_equal(fit, "123456789012");
    assert_int_equal(mqtt5_cred_account_from_arn("arn:aws:sts::123456789012:x", fit, 12), -1);

    static const char *const bad[] = {
        "arn:aws:sts::12345678901a:assumed-role/r/s",
        "arn:aws:sts:::assumed-role/r/s",
        "arn:aws:sts::123456789012",
        "arn:aws:sts",
        "ARN:aws:sts::123456789012:x",
        "urn:aws:sts::123456789012:x",
        "",
    };
    for (size_t i = 0; i < COUNT_OF(bad); i++)
        if (mqtt5_cred_account_from_arn(bad[i], out, sizeof out) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
    assert_int_equal(mqtt5_cred_account_from_arn(NULL, out, sizeof out), -1);
    assert_int_equal(mqtt5_cred_account_from_arn("arn:aws:sts::1:x", NULL, 0), -1);
}

/* ---- clear and view
 * ------------------------------------------------------------------------------ */

static void test_clear_view(void **state)
{
    (void)state;
    mqtt5_parsed_credentials c;
    char err[256];
    assert_int_equal(
        mqtt5_cred_parse_container_json(NULL, ECS_BODY, strlen(ECS_BODY), &c, err, sizeof err), 0);
    mqtt5_credentials v;
    mqtt5_parsed_credentials_view(&c, "ecs", &v);
    assert_string_equal(v.access_key_id, "ASIARCORRECT");
    assert_string_equal(v.secret_access_key, "secretkeycorrect");
    assert_string_equal(v.session_token, "tokencorrect");
    assert_string_equal(v.account_id, "012345678901");
    assert_true(v.expiration == 1234567890);
    assert_string_equal(v.provider, "ecs");
    mqtt5_parsed_credentials_clear(NULL, &c);
    assert_empty(&c);
    mqtt5_parsed_credentials_clear(NULL, NULL);

    /* the wipe helper and the error formatter */
    char buf[8] = "abcdefg";
    mqtt5_wipe(buf, sizeof buf);
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0);
    mqtt5_cred_errf(err, sizeof err, "a\tb\nc%s", "\r\x7f");
    assert_string_equal(err, "a b c  ");
    mqtt5_cred_errf(NULL, 0, "ignored");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_container_recorded),
        cmocka_unit_test(test_container_exact_length),
        cmocka_unit_test(test_container_truncated),
        cmocka_unit_test(test_container_malformed),
        cmocka_unit_test(test_container_optional),
        cmocka_unit_test(test_document_too_large),
        cmocka_unit_test(test_process),
        cmocka_unit_test(test_cognito),
        cmocka_unit_test(test_json_error),
        cmocka_unit_test(test_cjson_tree_wiped),
        cmocka_unit_test(test_nomem),
        cmocka_unit_test(test_sts_recorded),
        cmocka_unit_test(test_sts_shapes),
        cmocka_unit_test(test_sts_malformed),
        cmocka_unit_test(test_sts_truncated),
        cmocka_unit_test(test_sts_doctype_entities),
        cmocka_unit_test(test_sts_error),
        cmocka_unit_test(test_sts_tree_wiped),
        cmocka_unit_test(test_iso8601),
        cmocka_unit_test(test_account_from_arn),
        cmocka_unit_test(test_clear_view),
    };
    return cmocka_run_group_tests(tests, xml_setup, test_free_all);
}
