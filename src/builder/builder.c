/*
 * builder/builder.c - the three public builders of mqtt5/builder.h: resolve the options
 * (builder_resolve.c), make a private one-thread event-loop group when no client_bootstrap is
 * given (the client takes it over and joins it at release), and create the client through
 * mqtt5_client_new_internal(), handing it the lifecycle dispatch block to free after its last
 * callback. Errors from the client are reported under the builder's keyword names.
 *
 * Key material: mtls_from_bytes passes the caller's certificate and key pointers through to
 * mqtt5_client_new, which loads them into the TLS context (tls_ctx.c copies, parses and wipes the
 * key). This file makes no copy of the key, so there is nothing of it to wipe here.
 */
#include <string.h>

#include "builder/builder_internal.h"
#include "mqtt5/runtime.h"
#include "runtime/client_private.h"
#include "runtime/log_internal.h"

/* Field names of mqtt5_client_new / mqtt5_tls_ctx_new (with or without a "tls." prefix) as the
 * builder keyword the user set. Unknown names are returned unchanged. */
static const char *keyword_field(const char *field)
{
    static const struct {
        const char *from, *to;
    } map[] = {
        {"host", "endpoint"},           {"group", "client_bootstrap"},
        {"socket", "socket_options"},   {"http_proxy", "http_proxy_options"},
        {"ca_file", "ca_filepath"},     {"ca_dir", "ca_dirpath"},
        {"cert_file", "cert_filepath"}, {"key_file", "pri_key_filepath"},
        {"key_bytes", "pri_key_bytes"}, {"alpn", "alpn_list"},
    };
    if (!field) return NULL;
    const char *f = strncmp(field, "tls.", 4) == 0 ? field + 4 : field;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(f, map[i].from) == 0) return map[i].to;
    return field;
}

static int fail(mqtt5_codec_status *st, int err, const char *field, const char *detail)
{
    *st = (mqtt5_codec_status){.error = err, .field = field, .detail = detail};
    return err;
}

static int build(const mqtt5_builder_options *o, const mqtt5_builder_tls_input *tin,
                 mqtt5_client **out, mqtt5_codec_status *status)
{
    mqtt5_codec_status local;
    if (!status) status = &local;
    *status = (mqtt5_codec_status){0};
    if (!out) return fail(status, MQTT5_ERR_INVALID_ARGUMENT, "out", NULL);
    *out = NULL;

    mqtt5_builder_resolved *r = NULL;
    int rc = mqtt5_builder_resolve(o, tin, &r, status);
    if (rc) return rc;

    mqtt5_client_private_options priv = {
        .owns_group = false,
        .free_user = r->dispatch ? mqtt5_builder_dispatch_free : NULL,
    };
    mqtt5_event_loop_group *own_group = NULL;
    if (!r->client.group) {
        mqtt5_event_loop_group_options go;
        mqtt5_event_loop_group_options_init(&go);
        go.threads = 1;
        rc = mqtt5_event_loop_group_new(&go, &own_group);
        if (rc) {
            MQTT5_LOG(MQTT5_LOG_ERROR, MQTT5_LOG_BUILDER, "event-loop group: %s",
                      mqtt5_error_name(rc));
            mqtt5_builder_resolved_free(r);
            return fail(status, rc, "client_bootstrap", "cannot start a private event-loop group");
        }
        r->client.group = own_group;
        priv.owns_group = true;
    }

    rc = mqtt5_client_new_internal(&r->client, &priv, out, status);
    if (rc) {
        /* on failure the client took over neither the group nor the dispatch block */
        if (own_group) mqtt5_event_loop_group_release(own_group, NULL, NULL);
        *out = NULL;
        status->error = rc;
        status->field = keyword_field(status->field);
        MQTT5_LOG(MQTT5_LOG_ERROR, MQTT5_LOG_BUILDER, "client: %s (%s: %s)", mqtt5_error_name(rc),
                  status->field ? status->field : "-", status->detail ? status->detail : "-");
    } else {
        r->dispatch = NULL; /* the client frees it after its last callback */
    }
    mqtt5_builder_resolved_free(r);
    return rc;
}

int mqtt5_builder_mtls_from_path(const char *cert_filepath, const char *pri_key_filepath,
                                 const mqtt5_builder_options *o, mqtt5_client **out,
                                 mqtt5_codec_status *status)
{
    mqtt5_builder_tls_input tin = {
        .mode = MQTT5_BUILDER_MTLS_FROM_PATH,
        .cert_filepath = cert_filepath,
        .pri_key_filepath = pri_key_filepath,
    };
    return build(o, &tin, out, status);
}

int mqtt5_builder_mtls_from_bytes(const uint8_t *cert, size_t cert_len, const uint8_t *key,
                                  size_t key_len, const mqtt5_builder_options *o,
                                  mqtt5_client **out, mqtt5_codec_status *status)
{
    mqtt5_builder_tls_input tin = {
        .mode = MQTT5_BUILDER_MTLS_FROM_BYTES,
        .cert_bytes = cert,
        .cert_len = cert_len,
        .pri_key_bytes = key,
        .pri_key_len = key_len,
    };
    return build(o, &tin, out, status);
}

int mqtt5_builder_new_default(const mqtt5_builder_options *o, bool use_tls, mqtt5_client **out,
                              mqtt5_codec_status *status)
{
    mqtt5_builder_tls_input tin = {
        .mode = use_tls ? MQTT5_BUILDER_DEFAULT_TLS : MQTT5_BUILDER_PLAIN,
    };
    return build(o, &tin, out, status);
}
