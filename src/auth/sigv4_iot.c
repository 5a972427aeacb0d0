/*
 * auth/sigv4_iot.c - mqtt5_sigv4_presign_iot_websocket_url(): the presigned "/mqtt?..." path of
 * the WebSocket upgrade to AWS IoT Core, i.e. mqtt5_sigv4_sign() in the query form with service
 * "iotdevicegateway", only "host" signed, no X-Amz-Expires, the empty-payload hash, and the
 * session token appended unsigned after X-Amz-Signature.
 */
#include <string.h>

#include "auth/sigv4_internal.h"

#define IOT_PATH "/mqtt"

static bool valid_host(const char *host)
{
    if (!host || !*host) return false;
    for (const char *c = host; *c; c++)
        if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f || strchr("/?#@", *c))
            return false;
    return true;
}

int mqtt5_sigv4_presign_iot_websocket_url(const char *host, const char *region,
                                          const mqtt5_sigv4_credentials *credentials,
                                          const char *datetime, const mqtt5_allocator *alloc,
                                          char *out, size_t out_cap, size_t *out_len,
                                          mqtt5_codec_status *status)
{
    if (status) *status = (mqtt5_codec_status){0};
    if (out_len) *out_len = 0;
    if (!valid_host(host))
        return mqtt5_sigv4_fail(status, MQTT5_ERR_INVALID_ARGUMENT, "host",
                                "missing, or not a host[:port]");
    if (!credentials)
        return mqtt5_sigv4_fail(status, MQTT5_ERR_INVALID_ARGUMENT, "credentials", "missing");
    if (!out && out_cap)
        return mqtt5_sigv4_fail(status, MQTT5_ERR_INVALID_ARGUMENT, "out", "missing buffer");

    mqtt5_sigv4_config cfg;
    mqtt5_sigv4_config_init(&cfg);
    cfg.region = region;
    cfg.service = MQTT5_SIGV4_IOT_SERVICE;
    cfg.datetime = datetime;
    cfg.credentials = *credentials;
    cfg.form = MQTT5_SIGV4_FORM_QUERY;
    cfg.token_mode = MQTT5_SIGV4_TOKEN_APPENDED_LAST;
    cfg.expires_seconds = 0;
    cfg.payload_mode = MQTT5_SIGV4_PAYLOAD_EMPTY;

    const mqtt5_sigv4_header headers[] = {{"Host", host}};
    const mqtt5_sigv4_request req = {
        .method = "GET", .path = IOT_PATH, .headers = headers, .header_count = 1};

    mqtt5_sigv4_result res;
    int err = mqtt5_sigv4_sign(&req, &cfg, alloc, &res, status);
    if (err) return err;
    size_t qlen = strlen(res.query);
    size_t need = sizeof IOT_PATH - 1 + 1 + qlen;
    if (out_len) *out_len = need;
    if (need >= out_cap) {
        mqtt5_sigv4_result_clean(&res);
        return mqtt5_sigv4_fail(status, MQTT5_ERR_BUFFER_TOO_SMALL, "out",
                                "*out_len holds the length needed (plus one for the NUL)");
    }
    memcpy(out, IOT_PATH "?", sizeof IOT_PATH);
    memcpy(out + sizeof IOT_PATH, res.query, qlen + 1);
    mqtt5_sigv4_result_clean(&res);
    return MQTT5_OK;
}
