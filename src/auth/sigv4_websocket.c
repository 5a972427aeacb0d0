/*
 * auth/sigv4_websocket.c - the SigV4 WebSocket handshake transform (mqtt5/sigv4_websocket.h):
 * takes the Host header and the current UTC time, presigns "/mqtt" in the AWS IoT form with
 * mqtt5_sigv4_presign_iot_websocket_url and sets it as the request path. Credentials are asked
 * for on every attempt; nothing of them is kept or logged.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mqtt5/error.h"
#include "mqtt5/sigv4_websocket.h"
#include "runtime/log_internal.h"

static void utc_now(char out[17])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

int mqtt5_sigv4_websocket_transform(void *user, mqtt5_ws_request *req, mqtt5_ws_done_fn done,
                                    void *done_ctx)
{
    const mqtt5_sigv4_websocket_signer *s = user;
    if (!s || !s->region || !req) return MQTT5_ERR_INVALID_ARGUMENT;
    if (s->service && strcmp(s->service, "iotdevicegateway") != 0)
        return MQTT5_ERR_NOT_SUPPORTED; /* the IoT form only, for now */
    const char *host = mqtt5_ws_request_header(req, "Host");
    if (!host) return MQTT5_ERR_INVALID_ARGUMENT;
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
    char when[17];
    if (s->fixed_datetime)
        snprintf(when, sizeof when, "%s", s->fixed_datetime);
    else
        utc_now(when);
    char path[4096];
    size_t len = 0;
    mqtt5_codec_status st = {0};
    int rc = mqtt5_sigv4_presign_iot_websocket_url(host, s->region, &creds, when, NULL, path,
                                                   sizeof path, &len, &st);
    if (rc == 0) rc = mqtt5_ws_request_set_path(req, path);
    if (rc != 0) {
        MQTT5_LOG(MQTT5_LOG_ERROR, MQTT5_LOG_WEBSOCKET, "SigV4 presign failed: %s (%s)",
                  mqtt5_error_name(rc), st.field ? st.field : "-");
        return rc;
    }
    MQTT5_LOG(MQTT5_LOG_DEBUG, MQTT5_LOG_WEBSOCKET, "upgrade presigned for %s in %s at %s", host,
              s->region, when);
    done(done_ctx, 0);
    return 0;
}
