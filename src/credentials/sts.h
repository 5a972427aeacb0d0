/*
 * credentials/sts.h - the two AWS STS calls the providers make: AssumeRole (form POST signed
 * with SigV4 by the source credentials; used by profiles with role_arn) and
 * AssumeRoleWithWebIdentity (unsigned form POST with the web identity token). The endpoint is
 * AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else https://sts.<region>.amazonaws.com (region
 * us-east-1 when none is known). Runs on the provider's loop thread through its HTTP client;
 * non-2xx answers become errors carrying STS's "Code: Message".
 */
#ifndef MQTT5_CREDENTIALS_STS_H
#define MQTT5_CREDENTIALS_STS_H

#include "credentials/cred_parse.h"
#include "credentials/provider_internal.h"

typedef struct mqtt5_sts_request {
    const char *region;              /* signing region and endpoint region; NULL = "us-east-1" */
    const char *endpoint;            /* full URL override; NULL = environment or default */
    const char *role_arn;            /* required */
    const char *session_name;        /* NULL = "mqtt5-<unix time>" */
    const char *external_id;         /* AssumeRole only; NULL = none */
    const mqtt5_credentials *source; /* AssumeRole: the signing credentials */
    const char *web_identity_token;  /* AssumeRoleWithWebIdentity: the token */
} mqtt5_sts_request;

/* Exactly once, on the loop thread; `creds` valid during the call (provider name set by the
 * caller's done through the view). */
typedef void (*mqtt5_sts_done_fn)(void *user, int err, const mqtt5_parsed_credentials *creds,
                                  const char *detail);

/* Loop thread of `p` only. 0 (done will be called) or a negative error (it will not). */
int mqtt5_sts_assume_role(mqtt5_credentials_provider *p, const mqtt5_sts_request *r,
                          mqtt5_sts_done_fn done, void *user);
int mqtt5_sts_assume_role_with_web_identity(mqtt5_credentials_provider *p,
                                            const mqtt5_sts_request *r, mqtt5_sts_done_fn done,
                                            void *user);

#endif
