/*
 * credentials/cred_json.c - the JSON credential documents (see cred_parse.h), read with cJSON:
 * IMDS and ECS/EKS container credentials, credential_process output (Version 1), Amazon Cognito
 * GetCredentialsForIdentity responses and AWS JSON error bodies ("__type", "message").
 *
 * cJSON is given exactly `len` bytes (cJSON_ParseWithLengthOpts; the text need not be
 * NUL-terminated) and anything but whitespace after the document is refused. Values are copied
 * into the caller's mqtt5_allocator; cJSON's own copies of every string value are wiped before
 * cJSON_Delete, since some are secrets (cJSON parses in place from the caller's text, so its
 * tree holds the only other copies). Errors name the field and never quote a value that could
 * be a secret. Container documents need AccessKeyId, SecretAccessKey and Expiration (as the AWS
 * SDKs do); Token and AccountId are optional; a JSON null counts as absent.
 *
 * cJSON records the position of its last error in a process-wide variable on every parse, so
 * parses here are serialised by one mutex (C11 threads) to keep providers on different loop
 * threads from racing on it. No I/O; depends only on cJSON, libc and src/common.
 */
#include <stdio.h>
#include <string.h>
#include <threads.h>

#include <cjson/cJSON.h>

#include "credentials/cred_parse.h"
#include "mqtt5/error.h"

/* ---- the cJSON tree ------------------------------------------------------------------------- */

/* Wipe every string value of the tree (keys are not secrets). cJSON limits nesting to
 * CJSON_NESTING_LIMIT, so the recursion is bounded. */
static void wipe_tree(cJSON *item)
{
    for (; item != NULL; item = item->next) {
        if (item->valuestring != NULL) mqtt5_wipe(item->valuestring, strlen(item->valuestring));
        wipe_tree(item->child);
    }
}

static void free_tree(cJSON *root)
{
    if (root == NULL) return;
    wipe_tree(root);
    cJSON_Delete(root);
}

/* cJSON_Parse* writes a process-wide error position on every call: one parse at a time here,
 * so providers on different event-loop threads do not race on it. */
static once_flag parse_lock_once = ONCE_FLAG_INIT;
static mtx_t parse_lock;

static void parse_lock_init(void)
{
    mtx_init(&parse_lock, mtx_plain);
}

static bool is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Parse exactly text[0..len) into an object. NULL with err set on failure. */
static cJSON *parse_object(const char *text, size_t len, const char *what, int *rc, char *err,
                           size_t err_cap)
{
    *rc = MQTT5_ERR_MALFORMED;
    if (text == NULL || len == 0) {
        mqtt5_cred_errf(err, err_cap, "%s: empty document", what);
        return NULL;
    }
    if (len > MQTT5_CRED_MAX_DOCUMENT) {
        mqtt5_cred_errf(err, err_cap, "%s: document larger than %u bytes", what,
                        MQTT5_CRED_MAX_DOCUMENT);
        return NULL;
    }
    const char *end = NULL;
    call_once(&parse_lock_once, parse_lock_init);
    mtx_lock(&parse_lock);
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    mtx_unlock(&parse_lock);
    if (root == NULL) {
        /* cJSON does not tell a syntax error from a failed malloc; the position says which */
        size_t at = end != NULL && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        mqtt5_cred_errf(err, err_cap, "%s: not valid JSON (at byte %zu)", what, at);
        return NULL;
    }
    for (const char *p = end; p != NULL && p < text + len; p++) {
        if (!is_json_space(*p)) {
            mqtt5_cred_errf(err, err_cap,
                            "%s: unexpected data after the JSON document (at byte %zu)", what,
                            (size_t)(p - text));
            free_tree(root);
            return NULL;
        }
    }
    if (!cJSON_IsObject(root)) {
        mqtt5_cred_errf(err, err_cap, "%s: the document is not a JSON object", what);
        free_tree(root);
        return NULL;
    }
    *rc = 0;
    return root;
}

/* The member `name` of obj, NULL when absent or JSON null. */
static const cJSON *member(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return v == NULL || cJSON_IsNull(v) ? NULL : v;
}

/* A string member copied into *out (NULL when absent and not required). `label` is how errors
 * name it ("Credentials.SecretKey"). */
static int get_string(const mqtt5_allocator *alloc, const cJSON *obj, const char *name,
                      const char *label, bool required, char **out, char *err, size_t err_cap)
{
    *out = NULL;
    const cJSON *v = member(obj, name);
    if (v == NULL) {
        if (!required) return 0;
        mqtt5_cred_errf(err, err_cap, "missing \"%s\"", label);
        return MQTT5_ERR_MALFORMED;
    }
    if (!cJSON_IsString(v) || v->valuestring == NULL) {
        mqtt5_cred_errf(err, err_cap, "\"%s\" is not a string", label);
        return MQTT5_ERR_MALFORMED;
    }
    char quoted[96];
    snprintf(quoted, sizeof quoted, "\"%s\"", label);
    return mqtt5_cred_copy_value(alloc, v->valuestring, strlen(v->valuestring), required, quoted,
                                 out, err, err_cap);
}

/* An ISO 8601 string member into *out (MQTT5_CREDENTIALS_NO_EXPIRY when absent and optional). */
static int get_iso8601(const cJSON *obj, const char *name, bool required, int64_t *out, char *err,
                       size_t err_cap)
{
    *out = MQTT5_CREDENTIALS_NO_EXPIRY;
    const cJSON *v = member(obj, name);
    if (v == NULL) {
        if (!required) return 0;
        mqtt5_cred_errf(err, err_cap, "missing \"%s\"", name);
        return MQTT5_ERR_MALFORMED;
    }
    if (!cJSON_IsString(v) || v->valuestring == NULL) {
        mqtt5_cred_errf(err, err_cap, "\"%s\" is not a string", name);
        return MQTT5_ERR_MALFORMED;
    }
    if (mqtt5_cred_parse_iso8601(v->valuestring, out) != 0) {
        *out = MQTT5_CREDENTIALS_NO_EXPIRY;
        mqtt5_cred_errf(err, err_cap, "\"%s\" is not an ISO 8601 date-time", name);
        return MQTT5_ERR_MALFORMED;
    }
    return 0;
}

static void init_out(mqtt5_parsed_credentials *out)
{
    memset(out, 0, sizeof(*out));
    out->expiration = MQTT5_CREDENTIALS_NO_EXPIRY;
}

/* Common tail of every parser: wipe and free the tree; on failure empty *out. */
static int finish(const mqtt5_allocator *alloc, cJSON *root, int rc, mqtt5_parsed_credentials *out)
{
    free_tree(root);
    if (rc != 0) mqtt5_parsed_credentials_clear(alloc, out);
    return rc;
}

/* ---- IMDS / ECS / EKS ----------------------------------------------------------------------- */

int mqtt5_cred_parse_container_json(const mqtt5_allocator *alloc, const char *text, size_t len,
                                    mqtt5_parsed_credentials *out, char *err, size_t err_cap)
{
    int rc;
    init_out(out);
    cJSON *root = parse_object(text, len, "credentials document", &rc, err, err_cap);
    if (root == NULL) return rc;

    /* IMDS says "Code": "Success"; anything else is its way of saying why there are none */
    const cJSON *code = member(root, "Code");
    if (code != NULL) {
        if (!cJSON_IsString(code) || code->valuestring == NULL) {
            mqtt5_cred_errf(err, err_cap, "\"Code\" is not a string");
            return finish(alloc, root, MQTT5_ERR_MALFORMED, out);
        }
        if (strcmp(code->valuestring, "Success") != 0) {
            const cJSON *msg = member(root, "Message");
            if (cJSON_IsString(msg) && msg->valuestring != NULL && msg->valuestring[0] != '\0')
                mqtt5_cred_errf(err, err_cap, "credentials document has Code \"%.64s\": %.200s",
                                code->valuestring, msg->valuestring);
            else
                mqtt5_cred_errf(err, err_cap, "credentials document has Code \"%.64s\"",
                                code->valuestring);
            return finish(alloc, root, MQTT5_ERR_MALFORMED, out);
        }
    }
    rc = get_string(alloc, root, "AccessKeyId", "AccessKeyId", true, &out->access_key_id, err,
                    err_cap);
    if (rc == 0)
        rc = get_string(alloc, root, "SecretAccessKey", "SecretAccessKey", true,
                        &out->secret_access_key, err, err_cap);
    if (rc == 0)
        rc = get_string(alloc, root, "Token", "Token", false, &out->session_token, err, err_cap);
    if (rc == 0)
        rc = get_string(alloc, root, "AccountId", "AccountId", false, &out->account_id, err,
                        err_cap);
    if (rc == 0) rc = get_iso8601(root, "Expiration", true, &out->expiration, err, err_cap);
    return finish(alloc, root, rc, out);
}

/* ---- credential_process --------------------------------------------------------------------- */

int mqtt5_cred_parse_process_json(const mqtt5_allocator *alloc, const char *text, size_t len,
                                  mqtt5_parsed_credentials *out, char *err, size_t err_cap)
{
    int rc;
    init_out(out);
    cJSON *root = parse_object(text, len, "credential_process output", &rc, err, err_cap);
    if (root == NULL) return rc;

    const cJSON *version = member(root, "Version");
    if (version == NULL) {
        mqtt5_cred_errf(err, err_cap, "missing \"Version\" (must be 1)");
        return finish(alloc, root, MQTT5_ERR_MALFORMED, out);
    }
    if (!cJSON_IsNumber(version) || version->valuedouble != 1.0) {
        mqtt5_cred_errf(err, err_cap, "unsupported \"Version\" (must be the number 1)");
        return finish(alloc, root, MQTT5_ERR_MALFORMED, out);
    }
    rc = get_string(alloc, root, "AccessKeyId", "AccessKeyId", true, &out->access_key_id, err,
                    err_cap);
    if (rc == 0)
        rc = get_string(alloc, root, "SecretAccessKey", "SecretAccessKey", true,
                        &out->secret_access_key, err, err_cap);
    if (rc == 0)
        rc = get_string(alloc, root, "SessionToken", "SessionToken", false, &out->session_token,
                        err, err_cap);
    if (rc == 0)
        rc = get_string(alloc, root, "AccountId", "AccountId", false, &out->account_id, err,
                        err_cap);
    if (rc == 0) rc = get_iso8601(root, "Expiration", false, &out->expiration, err, err_cap);
    return finish(alloc, root, rc, out);
}

/* ---- JSON error bodies ---------------------------------------------------------------------- */

/* "Type: message" from an object with "__type" (or "code"/"Code"), 0; else MALFORMED. */
static int format_json_error(const cJSON *root, char *err, size_t err_cap)
{
    const cJSON *type = member(root, "__type");
    if (type == NULL) type = member(root, "code");
    if (type == NULL) type = member(root, "Code");
    if (!cJSON_IsString(type) || type->valuestring == NULL || type->valuestring[0] == '\0')
        return MQTT5_ERR_MALFORMED;
    /* "aws.protocoltests#FooError:http://internal..." -> "FooError" (the Smithy rule) */
    const char *t = type->valuestring;
    const char *hash = strchr(t, '#');
    if (hash != NULL) t = hash + 1;
    size_t tlen = strcspn(t, ":");
    if (tlen > 128) tlen = 128;

    const cJSON *msg = member(root, "message");
    if (msg == NULL) msg = member(root, "Message");
    if (cJSON_IsString(msg) && msg->valuestring != NULL && msg->valuestring[0] != '\0')
        mqtt5_cred_errf(err, err_cap, "%.*s: %s", (int)tlen, t, msg->valuestring);
    else
        mqtt5_cred_errf(err, err_cap, "%.*s", (int)tlen, t);
    return 0;
}

int mqtt5_cred_parse_json_error(const char *text, size_t len, char *err, size_t err_cap)
{
    int rc;
    cJSON *root = parse_object(text, len, "error body", &rc, err, err_cap);
    if (root == NULL) return rc;
    rc = format_json_error(root, err, err_cap);
    if (rc != 0) mqtt5_cred_errf(err, err_cap, "error body: no \"__type\"");
    free_tree(root);
    return rc;
}

/* ---- Cognito GetCredentialsForIdentity ------------------------------------------------------ */

/* Latest Expiration accepted: 9999-12-31T23:59:59Z. */
#define MAX_EPOCH_SECONDS 253402300799.0

int mqtt5_cred_parse_cognito_json(const mqtt5_allocator *alloc, const char *text, size_t len,
                                  mqtt5_parsed_credentials *out, char *err, size_t err_cap)
{
    int rc;
    init_out(out);
    cJSON *root = parse_object(text, len, "Cognito response", &rc, err, err_cap);
    if (root == NULL) return rc;

    const cJSON *creds = member(root, "Credentials");
    if (creds == NULL) {
        /* an error body given to the success parser: say what it says */
        char reason[256];
        if (format_json_error(root, reason, sizeof reason) == 0)
            mqtt5_cred_errf(err, err_cap, "Cognito error: %s", reason);
        else
            mqtt5_cred_errf(err, err_cap, "missing \"Credentials\"");
        return finish(alloc, root, MQTT5_ERR_MALFORMED, out);
    }
    if (!cJSON_IsObject(creds)) {
        mqtt5_cred_errf(err, err_cap, "\"Credentials\" is not an object");
        return finish(alloc, root, MQTT5_ERR_MALFORMED, out);
    }
    rc = get_string(alloc, creds, "AccessKeyId", "Credentials.AccessKeyId", true,
                    &out->access_key_id, err, err_cap);
    if (rc == 0)
        rc = get_string(alloc, creds, "SecretKey", "Credentials.SecretKey", true,
                        &out->secret_access_key, err, err_cap);
    if (rc == 0)
        rc = get_string(alloc, creds, "SessionToken", "Credentials.SessionToken", true,
                        &out->session_token, err, err_cap);
    if (rc == 0)
        rc = get_string(alloc, root, "IdentityId", "IdentityId", false, &out->identity_id, err,
                        err_cap);
    if (rc == 0) {
        /* awsJson1_1 timestamps are epoch seconds, possibly with a fraction */
        const cJSON *exp = member(creds, "Expiration");
        if (exp == NULL) {
            mqtt5_cred_errf(err, err_cap, "missing \"Credentials.Expiration\"");
            rc = MQTT5_ERR_MALFORMED;
        } else if (!cJSON_IsNumber(exp)) {
            mqtt5_cred_errf(err, err_cap, "\"Credentials.Expiration\" is not a number");
            rc = MQTT5_ERR_MALFORMED;
        } else if (!(exp->valuedouble >= 0.0 && exp->valuedouble <= MAX_EPOCH_SECONDS)) {
            mqtt5_cred_errf(err, err_cap, "\"Credentials.Expiration\" is out of range");
            rc = MQTT5_ERR_MALFORMED;
        } else {
            out->expiration = (int64_t)exp->valuedouble; /* >= 0: truncation is floor */
        }
    }
    return finish(alloc, root, rc, out);
}
