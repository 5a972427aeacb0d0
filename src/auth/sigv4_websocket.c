/*
 * auth/sigv4_websocket.c - the SigV4 WebSocket handshake transform (mqtt5/sigv4_websocket.h):
 * takes the Host header and the current UTC time, presigns "/mqtt" in the AWS IoT form with
 * mqtt5_sigv4_presign_iot_websocket_url and sets it as the request path. Credentials are asked
 * for on every attempt; nothing of them is kept or logged.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mqtt5/error.h"
#include "mqtt5/sigv4_websocket.h"
#include "credentials/provider_internal.h"
#include "runtime/log_internal.h"
#include "runtime/loop_call.h"

static void utc_now(char out[17])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static int presign(const mqtt5_sigv4_websocket_signer *s, mqtt5_ws_request *req,
                   const mqtt5_sigv4_credentials *creds)
{
    const char *host = mqtt5_ws_request_header(req, "Host");
    char when[17];
    if (s->fixed_datetime)
        snprintf(when, sizeof when, "%s", s->fixed_datetime);
    else
        utc_now(when);
    char path[4096];
    size_t len = 0;
    mqtt5_codec_status st = {0};
    int rc = mqtt5_sigv4_presign_iot_websocket_url(host, s->region, creds, when, NULL, path,
                                                   sizeof path, &len, &st);
    if (rc == 0) rc = mqtt5_ws_request_set_path(req, path);
    mqtt5_wipe(path, sizeof path); /* holds the session token */
    if (rc != 0) {
        MQTT5_LOG(MQTT5_LOG_ERROR, MQTT5_LOG_WEBSOCKET, "SigV4 presign failed: %s (%s)",
                  mqtt5_error_name(rc), st.field ? st.field : "-");
        return rc;
    }
    MQTT5_LOG(MQTT5_LOG_DEBUG, MQTT5_LOG_WEBSOCKET, "upgrade presigned for %s in %s at %s", host,
              s->region, when);
    return 0;
}

/* ---- credentials from a provider: asked, answered later, signed on the client's loop ---- */

typedef struct sign_job {
    const mqtt5_sigv4_websocket_signer *signer;
    mqtt5_ws_request *req;
    mqtt5_ws_done_fn done;
    void *done_ctx;
    struct mqtt5_loop *loop; /* the client's loop: where done must run */
    int err;
    mqtt5_credentials *creds;
} sign_job;

static void job_finish(void *arg)
{
    sign_job *j = arg;
    int err = j->err;
    if (!err) {
        mqtt5_sigv4_credentials c = {j->creds->access_key_id, j->creds->secret_access_key,
                                     j->creds->session_token};
        err = presign(j->signer, j->req, &c);
    }
    mqtt5_credentials_free(NULL, j->creds);
    mqtt5_ws_done_fn done = j->done;
    void *done_ctx = j->done_ctx;
    free(j);
    done(done_ctx, err);
}

static void job_answer(void *arg, int err, const mqtt5_credentials *creds, const char *detail)
{
    sign_job *j = arg;
    j->err = err;
    char why[1100];
    if (err) {
        MQTT5_LOG(MQTT5_LOG_ERROR, MQTT5_LOG_WEBSOCKET, "no AWS credentials for signing: %s: %s",
                  mqtt5_error_name(err), detail ? detail : "");
        snprintf(why, sizeof why, "no AWS credentials (%s): %s", mqtt5_error_name(err),
                 detail && *detail ? detail : mqtt5_error_str(err));
        mqtt5_ws_request_set_failure(j->req, why);
    } else if (creds->expiration != MQTT5_CREDENTIALS_NO_EXPIRY &&
               creds->expiration <= (int64_t)time(NULL)) {
        j->err = MQTT5_ERR_CREDENTIALS_EXPIRED;
        MQTT5_LOG(MQTT5_LOG_ERROR, MQTT5_LOG_WEBSOCKET,
                  "AWS credentials from %s expired; not signing", creds->provider);
        snprintf(why, sizeof why, "AWS credentials from the %s provider expired %lld s ago",
                 creds->provider ? creds->provider : "?",
                 (long long)((int64_t)time(NULL) - creds->expiration));
        mqtt5_ws_request_set_failure(j->req, why);
    } else if (mqtt5_credentials_copy(NULL, creds, &j->creds)) {
        j->err = MQTT5_ERR_NOMEM;
    }
    if (!j->loop || mqtt5_loop_current() == j->loop || mqtt5_loop_call(j->loop, job_finish, j))
        job_finish(j); /* same thread, or (out of memory) no way back: finish here */
}

int mqtt5_sigv4_websocket_transform(void *user, mqtt5_ws_request *req, mqtt5_ws_done_fn done,
                                    void *done_ctx)
{
    const mqtt5_sigv4_websocket_signer *s = user;
    if (!s || !s->region || !req) return MQTT5_ERR_INVALID_ARGUMENT;
    if (s->service && strcmp(s->service, "iotdevicegateway") != 0)
        return MQTT5_ERR_NOT_SUPPORTED; /* the IoT form only, for now */
    if (!mqtt5_ws_request_header(req, "Host")) return MQTT5_ERR_INVALID_ARGUMENT;
    if (s->credentials_provider) {
        sign_job *j = calloc(1, sizeof *j);
        if (!j) return MQTT5_ERR_NOMEM;
        j->signer = s;
        j->req = req;
        j->done = done;
        j->done_ctx = done_ctx;
        j->loop = mqtt5_loop_current();
        int rc = mqtt5_credentials_provider_get(s->credentials_provider, job_answer, j);
        if (rc) free(j);
        return rc;
    }
    mqtt5_sigv4_credentials creds = s->credentials;
    if (s->get_credentials) {
        memset(&creds, 0, sizeof creds);
        int rc = s->get_credentials(s->get_credentials_user, &creds);
        if (rc != 0) {
            MQTT5_LOG(MQTT5_LOG_ERROR, MQTT5_LOG_WEBSOCKET, "no AWS credentials for signing: %s",
                      mqtt5_error_name(rc));
            return rc;
        }
    }
    int rc = presign(s, req, &creds);
    if (rc) return rc;
    done(done_ctx, 0);
    return 0;
}
