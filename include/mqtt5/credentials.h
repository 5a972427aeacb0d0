/*
 * mqtt5/credentials.h - AWS credentials and the providers that fetch them: static, environment,
 * profile files (static keys, credential_process, role_arn through STS AssumeRole), STS web
 * identity, EC2 instance metadata (IMDSv2, v1 fallback), ECS/EKS container endpoints, Amazon
 * Cognito GetCredentialsForIdentity, the default chain, and a caching wrapper.
 *
 * A provider is reference counted and asynchronous: mqtt5_credentials_provider_get() returns at
 * once and calls `done` exactly once, on one of the provider's event-loop threads (providers
 * that need no I/O call it before returning). Providers that make HTTP calls or run processes
 * take an event-loop group; libcurl's multi interface runs on that loop, never blocking it.
 *
 * Secrets are never logged and never appear in an error detail; a mqtt5_credentials copy is
 * wiped when freed.
 */
#ifndef MQTT5_CREDENTIALS_H
#define MQTT5_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt5/allocator.h"
#include "mqtt5/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* mqtt5_credentials.expiration of credentials that never expire. */
#define MQTT5_CREDENTIALS_NO_EXPIRY INT64_MAX

/* A set of credentials. Strings are NUL-terminated; session_token and account_id may be NULL. */
typedef struct mqtt5_credentials {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;
    const char *account_id;
    int64_t expiration;   /* Unix seconds, or MQTT5_CREDENTIALS_NO_EXPIRY */
    const char *provider; /* static name of the provider that supplied them: "static",
                             "environment", "profile", "process", "sts-assume-role",
                             "web-identity", "imds", "ecs", "cognito" */
} mqtt5_credentials;

/* Deep copy (one allocation) / wipe and free a copy. */
int mqtt5_credentials_copy(const mqtt5_allocator *a, const mqtt5_credentials *in,
                           mqtt5_credentials **out);
void mqtt5_credentials_free(const mqtt5_allocator *a, mqtt5_credentials *c);

typedef struct mqtt5_credentials_provider mqtt5_credentials_provider;

/*
 * The result of a get: error 0 and `creds` (valid only during the call: copy what you keep), or
 * a negative mqtt5_error with `detail`, one line saying what failed and why (for a chain: every
 * provider's reason, "environment: not enabled; profile: ...").
 */
typedef void (*mqtt5_credentials_done_fn)(void *user, int error, const mqtt5_credentials *creds,
                                          const char *detail);

/* Ask for credentials. 0 (done will be called exactly once) or a negative error (it will not). */
int mqtt5_credentials_provider_get(mqtt5_credentials_provider *p, mqtt5_credentials_done_fn done,
                                   void *user);
mqtt5_credentials_provider *mqtt5_credentials_provider_acquire(mqtt5_credentials_provider *p);
/* Drop a reference. Gets in flight still complete (with MQTT5_ERR_TERMINATED if cut short). */
void mqtt5_credentials_provider_release(mqtt5_credentials_provider *p);

/* How HTTP calls of providers are made. Start from mqtt5_credentials_http_options_init(). */
typedef struct mqtt5_credentials_http_options {
    uint32_t connect_timeout_ms; /* 2000 */
    uint32_t timeout_ms;         /* 5000: one attempt, connect to last byte */
    uint32_t max_attempts;       /* 3: transport errors, 5xx and 429 are retried with backoff */
    const char *proxy_url;       /* NULL = none; "http://[user:pass@]host:port" (or https://) */
    const char *proxy_ca_file;   /* CA of a TLS proxy; NULL = system store */
    const char *ca_file;         /* CA for https endpoints; NULL = system store */
    /* Test and diagnostic seam, curl's --connect-to: "HOST:PORT:CONNECT-HOST:CONNECT-PORT"
     * (empty HOST or PORT match any); URLs and Host headers are unchanged. */
    const char *const *connect_to;
    size_t connect_to_count;
} mqtt5_credentials_http_options;

void mqtt5_credentials_http_options_init(mqtt5_credentials_http_options *o);

/*
 * Where providers read their environment. NULL members use the process: getenv, the files
 * named, time(). Tests replace them (e.g. to read a recorded home directory under a root).
 */
typedef struct mqtt5_credentials_system {
    const char *(*getenv)(void *user, const char *name);
    /* Read a whole file into a buffer from `alloc` (*out NUL-terminated, *len without it).
     * 0, MQTT5_ERR_FILE (errno-style reason in the detail by the caller) or MQTT5_ERR_NOMEM. */
    int (*read_file)(void *user, const mqtt5_allocator *alloc, const char *path, char **out,
                     size_t *len);
    int64_t (*now)(void *user); /* Unix seconds */
    void *user;
} mqtt5_credentials_system;

/* Options shared by every provider constructor. Start from mqtt5_credentials_options_init(). */
typedef struct mqtt5_credentials_options {
    const mqtt5_allocator *allocator;         /* NULL = libc */
    mqtt5_event_loop_group *event_loop_group; /* required by providers that do I/O */
    mqtt5_credentials_http_options http;
    const mqtt5_credentials_system *system; /* NULL = the process */
} mqtt5_credentials_options;

void mqtt5_credentials_options_init(mqtt5_credentials_options *o);

/* Fixed credentials (copied). */
int mqtt5_credentials_provider_new_static(const mqtt5_credentials_options *o,
                                          const char *access_key_id, const char *secret_access_key,
                                          const char *session_token,
                                          mqtt5_credentials_provider **out);

/* AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (blank = unset), AWS_SESSION_TOKEN, AWS_ACCOUNT_ID. */
int mqtt5_credentials_provider_new_environment(const mqtt5_credentials_options *o,
                                               mqtt5_credentials_provider **out);

typedef struct mqtt5_credentials_profile_options {
    const char *profile_name;     /* NULL = AWS_PROFILE, else "default" */
    const char *config_file;      /* NULL = AWS_CONFIG_FILE, else ~/.aws/config */
    const char *credentials_file; /* NULL = AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials */
} mqtt5_credentials_profile_options;

/* The profile's static keys, credential_process, role_arn with source_profile or
 * credential_source (Environment, Ec2InstanceMetadata, EcsContainer) through STS AssumeRole, or
 * role_arn with web_identity_token_file. Files are read at every get. */
int mqtt5_credentials_provider_new_profile(const mqtt5_credentials_options *o,
                                           const mqtt5_credentials_profile_options *p,
                                           mqtt5_credentials_provider **out);

typedef struct mqtt5_credentials_web_identity_options {
    const char *token_file;   /* NULL = AWS_WEB_IDENTITY_TOKEN_FILE */
    const char *role_arn;     /* NULL = AWS_ROLE_ARN */
    const char *session_name; /* NULL = AWS_ROLE_SESSION_NAME, else generated */
    const char *region;       /* NULL = AWS_REGION / AWS_DEFAULT_REGION / profile region */
    const char *sts_endpoint; /* full URL; NULL = AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, else
                                 https://sts.<region>.amazonaws.com */
} mqtt5_credentials_web_identity_options;

int mqtt5_credentials_provider_new_web_identity(const mqtt5_credentials_options *o,
                                                const mqtt5_credentials_web_identity_options *w,
                                                mqtt5_credentials_provider **out);

/* EC2 instance metadata: IMDSv2 token (PUT /latest/api/token), falling back to v1 when the
 * token call is not answered with 403; AWS_EC2_METADATA_DISABLED=true disables it;
 * AWS_EC2_METADATA_SERVICE_ENDPOINT / _ENDPOINT_MODE (IPv4|IPv6) or the profile's
 * ec2_metadata_service_endpoint(_mode) override the endpoint. */
typedef struct mqtt5_credentials_imds_options {
    const char *endpoint; /* full URL; NULL = environment/profile/default */
} mqtt5_credentials_imds_options;

int mqtt5_credentials_provider_new_imds(const mqtt5_credentials_options *o,
                                        const mqtt5_credentials_imds_options *i,
                                        mqtt5_credentials_provider **out);

/* ECS/EKS container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on 169.254.170.2) or
 * _FULL_URI (https anywhere; http only to loopback, 169.254.170.2, 169.254.170.23 or
 * fd00:ec2::23), AWS_CONTAINER_AUTHORIZATION_TOKEN or _TOKEN_FILE (read at every get). */
int mqtt5_credentials_provider_new_ecs(const mqtt5_credentials_options *o,
                                       mqtt5_credentials_provider **out);

typedef struct mqtt5_cognito_login {
    const char *provider_name; /* e.g. "graph.facebook.com" */
    const char *token;
} mqtt5_cognito_login;

typedef struct mqtt5_credentials_cognito_options {
    const char *endpoint;    /* required: "cognito-identity.<region>.amazonaws.com" or a URL */
    const char *identity_id; /* required */
    const mqtt5_cognito_login *logins;
    size_t login_count;
    const char *custom_role_arn; /* NULL = none */
} mqtt5_credentials_cognito_options;

/* Amazon Cognito Identity GetCredentialsForIdentity (unsigned JSON POST). */
int mqtt5_credentials_provider_new_cognito(const mqtt5_credentials_options *o,
                                           const mqtt5_credentials_cognito_options *c,
                                           mqtt5_credentials_provider **out);

typedef struct mqtt5_credentials_default_chain_options {
    const char *profile_name; /* NULL = AWS_PROFILE / "default" */
} mqtt5_credentials_default_chain_options;

/* environment -> profile -> web identity -> ECS (when its variables are set) or IMDS; the first
 * that supplies credentials wins; cached (see new_cached). */
int mqtt5_credentials_provider_new_default_chain(const mqtt5_credentials_options *o,
                                                 const mqtt5_credentials_default_chain_options *d,
                                                 mqtt5_credentials_provider **out);

/* Try each provider in order (a reference is taken on each). */
int mqtt5_credentials_provider_new_chain(const mqtt5_credentials_options *o,
                                         mqtt5_credentials_provider *const *providers, size_t count,
                                         mqtt5_credentials_provider **out);

typedef struct mqtt5_credentials_cached_options {
    uint32_t refresh_before_s; /* 300: fetch again this long before expiry */
    uint32_t default_ttl_s;    /* 900: lifetime of credentials without an expiry (0 = forever) */
} mqtt5_credentials_cached_options;

/* Keep `source`'s last credentials until refresh_before_s before their expiry; concurrent gets
 * share one fetch; failures are not cached. */
int mqtt5_credentials_provider_new_cached(const mqtt5_credentials_options *o,
                                          const mqtt5_credentials_cached_options *c,
                                          mqtt5_credentials_provider *source,
                                          mqtt5_credentials_provider **out);

#ifdef __cplusplus
}
#endif
#endif
