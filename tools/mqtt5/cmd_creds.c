/*
 * tools/mqtt5/cmd_creds.c - `mqtt5 creds`: asks a credentials provider (the default chain, one
 * profile, or Amazon Cognito) for AWS credentials on a fresh event-loop group, waits up to 30 s
 * and prints which provider supplied them, the access key id, the account id, the expiry and
 * whether a session token came; never the secret or the token. On failure it prints the error
 * and the provider's detail (for the chain, every provider's reason).
 *
 * Only the fields printed are copied out of the provider's answer (the secret never leaves the
 * callback). The answer arrives on a loop thread; a future hands it to the main thread. After a
 * timeout the callback may still come: its target is static and outlives main.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io.h"
#include "mqtt5/mqtt5.h"
#include "tool.h"

#define CREDS_TIMEOUT_MS 30000u
#define CREDS_SHUTDOWN_MS 10000u

typedef struct creds_opts {
    const char *profile;
    const char *cognito_identity, *cognito_endpoint;
} creds_opts;

/* What the callback keeps of the answer; written before the future completes. */
typedef struct creds_answer {
    mqtt5_future *done;
    int error;
    char *detail;
    const char *provider; /* a static name */
    char *access_key_id, *account_id;
    int64_t expiration;
    int has_session_token;
} creds_answer;

static creds_answer g_answer;

static char *dup_or_null(const char *s)
{
    if (s == NULL) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL) memcpy(d, s, n);
    return d;
}

static void on_credentials(void *user, int error, const mqtt5_credentials *creds,
                           const char *detail)
{
    creds_answer *a = user;
    a->error = error;
    a->detail = dup_or_null(detail);
    if (error == 0 && creds != NULL) {
        a->provider = creds->provider;
        a->access_key_id = dup_or_null(creds->access_key_id);
        a->account_id = dup_or_null(creds->account_id);
        a->expiration = creds->expiration;
        a->has_session_token = creds->session_token != NULL && creds->session_token[0] != '\0';
        if (creds->access_key_id != NULL && a->access_key_id == NULL) a->error = MQTT5_ERR_NOMEM;
    } else if (error == 0) {
        a->error = MQTT5_ERR_INVALID_ARGUMENT; /* success without credentials: never expected */
    }
    mqtt5_future_complete(a->done, MQTT5_OK);
}

static void on_group_shutdown(void *future)
{
    mqtt5_future_complete(future, MQTT5_OK);
}

static int parse_args(int argc, char **argv, creds_opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            tool_usage(stdout);
            return -1;
        } else if (strcmp(a, "--profile") == 0) {
            slot = &o->profile;
        } else if (strcmp(a, "--cognito-identity") == 0) {
            slot = &o->cognito_identity;
        } else if (strcmp(a, "--cognito-endpoint") == 0) {
            slot = &o->cognito_endpoint;
        } else if (a[0] == '-' && a[1] != '\0') {
            return tool_usage_error("unknown option", a);
        } else {
            return tool_usage_error("unexpected argument", a);
        }
        if (i + 1 >= argc) return tool_usage_error("missing argument for", a);
        if (*slot != NULL) return tool_usage_error("repeated option", a);
        *slot = argv[++i];
        if (**slot == '\0') return tool_usage_error("empty argument for", a);
    }
    if ((o->cognito_identity == NULL) != (o->cognito_endpoint == NULL))
        return tool_usage_error("--cognito-identity and --cognito-endpoint go together", NULL);
    if (o->profile != NULL && o->cognito_identity != NULL)
        return tool_usage_error("--profile and --cognito-* exclude each other", NULL);
    return 0;
}

/* The provider asked for: the default chain, one profile, or Cognito. */
static int new_provider(const creds_opts *o, mqtt5_event_loop_group *group,
                        mqtt5_credentials_provider **out, const char **what)
{
    mqtt5_credentials_options co;
    mqtt5_credentials_options_init(&co);
    co.event_loop_group = group;
    if (o->cognito_identity != NULL) {
        mqtt5_credentials_cognito_options cg = {.endpoint = o->cognito_endpoint,
                                                .identity_id = o->cognito_identity};
        *what = "Cognito provider";
        return mqtt5_credentials_provider_new_cognito(&co, &cg, out);
    }
    if (o->profile != NULL) {
        mqtt5_credentials_profile_options po = {.profile_name = o->profile};
        *what = "profile provider";
        return mqtt5_credentials_provider_new_profile(&co, &po, out);
    }
    *what = "default chain";
    return mqtt5_credentials_provider_new_default_chain(&co, NULL, out);
}

/* "2024-05-01T12:00:00Z" or "never". */
static void format_expiry(int64_t t, char *out, size_t cap)
{
    if (t == MQTT5_CREDENTIALS_NO_EXPIRY) {
        snprintf(out, cap, "never");
        return;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    if ((int64_t)tt != t || gmtime_r(&tt, &tm) == NULL ||
        strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, cap, "%lld (Unix seconds)", (long long)t);
}

static void print_answer(const creds_answer *a)
{
    char expiry[64];
    format_expiry(a->expiration, expiry, sizeof expiry);
    printf("provider: %s\n", a->provider != NULL ? a->provider : "unknown");
    printf("access key id: %s\n", a->access_key_id != NULL ? a->access_key_id : "");
    if (a->account_id != NULL && a->account_id[0] != '\0')
        printf("account id: %s\n", a->account_id);
    printf("expiry: %s\n", expiry);
    printf("session token: %s\n", a->has_session_token ? "present" : "absent");
}

/* Drop the group and wait (bounded) until its threads are gone: 1 when they are. */
static int release_group(mqtt5_event_loop_group *group)
{
    mqtt5_future *down = mqtt5_future_new();
    mqtt5_event_loop_group_release(group, down != NULL ? on_group_shutdown : NULL, down);
    if (down == NULL) return 0;
    int gone = mqtt5_future_wait(down, CREDS_SHUTDOWN_MS) == 0;
    if (!gone)
        fprintf(stderr, "mqtt5: creds: the event-loop group did not shut down within %u s\n",
                CREDS_SHUTDOWN_MS / 1000);
    mqtt5_future_release(down);
    return gone;
}

int cmd_creds(int argc, char **argv)
{
    creds_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc < 0) return io_flush(stdout) ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
    if (rc > 0) return rc;

    mqtt5_event_loop_group *group = NULL;
    rc = mqtt5_event_loop_group_new(NULL, &group);
    if (rc != 0) {
        fprintf(stderr, "mqtt5: creds: cannot start an event-loop group: %s: %s\n",
                mqtt5_error_name(rc), mqtt5_error_str(rc));
        return TOOL_EXIT_FAIL;
    }
    mqtt5_credentials_provider *provider = NULL;
    const char *what = "provider";
    rc = new_provider(&o, group, &provider, &what);
    if (rc != 0) {
        fprintf(stderr, "mqtt5: creds: cannot create the %s: %s: %s\n", what, mqtt5_error_name(rc),
                mqtt5_error_str(rc));
        release_group(group);
        return TOOL_EXIT_FAIL;
    }

    creds_answer *a = &g_answer;
    a->done = mqtt5_future_new();
    if (a->done == NULL) {
        fprintf(stderr, "mqtt5: out of memory\n");
        mqtt5_credentials_provider_release(provider);
        release_group(group);
        return TOOL_EXIT_FAIL;
    }
    rc = mqtt5_credentials_provider_get(provider, on_credentials, a);
    if (rc != 0) {
        /* done will not be called: complete the future ourselves */
        a->error = rc;
        mqtt5_future_complete(a->done, MQTT5_OK);
    }
    int waited = mqtt5_future_wait(a->done, CREDS_TIMEOUT_MS);
    int status = TOOL_EXIT_FAIL;
    if (waited == MQTT5_ERR_TIMEOUT) {
        fprintf(stderr, "mqtt5: creds: no answer from the %s within %u s\n", what,
                CREDS_TIMEOUT_MS / 1000);
    } else if (waited != 0) {
        fprintf(stderr, "mqtt5: creds: waiting failed: %s\n", mqtt5_error_name(waited));
    } else if (a->error != 0) {
        fprintf(stderr, "mqtt5: creds: no credentials from the %s: %s: %s\n", what,
                mqtt5_error_name(a->error), mqtt5_error_str(a->error));
        if (a->detail != NULL && a->detail[0] != '\0') fprintf(stderr, "detail: %s\n", a->detail);
    } else {
        print_answer(a);
        status = io_flush(stdout) ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
    }
    mqtt5_future_release(a->done);
    mqtt5_credentials_provider_release(provider);
    int gone = release_group(group);
    if (waited == 0 || gone) {
        /* the answer came, or no loop thread is left to write it */
        free(a->detail);
        free(a->access_key_id);
        free(a->account_id);
        memset(a, 0, sizeof *a);
    }
    return status;
}
