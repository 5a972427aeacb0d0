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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder/builder_internal.h"
#include "builder/builder_proxy.h"
#include "mqtt5/credentials.h"
#include "mqtt5/runtime.h"
#include "mqtt5/sigv4_websocket.h"
#include "runtime/client_private.h"
#include "runtime/log_internal.h"

/* Field names of mqtt5_client_new / mqtt5_tls_ctx_new (with or without a "tls." prefix) as the
 * builder keyword the user set. Unknown names are returned unchanged. */
static const char *keyword_field(const char *field)
{
    static const struct {
        const char *from, *to;
    } map[] = {
        {"host", "endpoint"},
        {"group", "client_bootstrap"},
        {"socket", "socket_options"},
        {"http_proxy", "http_proxy_options"},
        {"ca_file", "ca_filepath"},
        {"ca_dir", "ca_dirpath"},
        {"cert_file", "cert_filepath"},
        {"key_file", "pri_key_filepath"},
        {"key_bytes", "pri_key_bytes"},
        {"alpn", "alpn_list"},
        {"pkcs12_file", "pkcs12_filepath"},
        {"pkcs11", "pkcs11_options"},
        {"pkcs11.lib_path", "pkcs11_lib"},
        {"pkcs11.user_pin", "user_pin"},
        {"pkcs11.key_label", "private_key_label"},
        {"pkcs11.token_label", "token_label"},
        {"pkcs11.slot_id", "slot_id"},
    };
    /* the proxies' fields (mqtt5_client_new names them "http_proxy.host", ...) */
    static const char *const proxy_map[][2] = {
        {"http_proxy.host", "http_proxy_options.host"},
        {"http_proxy.port", "http_proxy_options.port"},
        {"http_proxy.username", "http_proxy_options.username"},
        {"http_proxy.password", "http_proxy_options.password"},
        {"http_proxy.tls", "http_proxy_options.tls"},
        {"socks5_proxy", "socks5_proxy_options"},
        {"socks5_proxy.host", "socks5_proxy_options.host"},
        {"socks5_proxy.username", "socks5_proxy_options.username"},
        {"socks5_proxy.password", "socks5_proxy_options.password"},
    };
    if (!field) return NULL;
    for (size_t i = 0; i < sizeof proxy_map / sizeof proxy_map[0]; i++)
        if (strcmp(field, proxy_map[i][0]) == 0) return proxy_map[i][1];
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
                 const mqtt5_client_private_options *extra, mqtt5_client **out,
                 mqtt5_codec_status *status)
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
        .owns_group = extra && extra->owns_group,
        .free_user = r->dispatch ? mqtt5_builder_dispatch_free : NULL,
        .release_extra = extra ? extra->release_extra : NULL,
        .release_extra_ctx = extra ? extra->release_extra_ctx : NULL,
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
        /* (a group the caller made and passed as owned stays the caller's on failure) */
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
    return build(o, &tin, NULL, out, status);
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
    return build(o, &tin, NULL, out, status);
}

int mqtt5_builder_new_default(const mqtt5_builder_options *o, bool use_tls, mqtt5_client **out,
                              mqtt5_codec_status *status)
{
    mqtt5_builder_tls_input tin = {
        .mode = use_tls ? MQTT5_BUILDER_DEFAULT_TLS : MQTT5_BUILDER_PLAIN,
    };
    return build(o, &tin, NULL, out, status);
}

int mqtt5_builder_build(const mqtt5_builder_options *o, const mqtt5_builder_tls_input *tls,
                        mqtt5_client **out, mqtt5_codec_status *status)
{
    return build(o, tls, NULL, out, status);
}

/* ---- MQTT over WebSockets signed with SigV4 ------------------------------------------------ */

/* What a SigV4 WebSocket client needs as long as it lives: the signer (the transform's user),
 * the WebSocket options, and a reference on the credentials provider. Released by the client
 * once its transport is gone (release_extra), before it drops its group. */
typedef struct ws_sigv4_block {
    mqtt5_sigv4_websocket_signer signer;
    mqtt5_websocket_options ws;
    char region[64];
} ws_sigv4_block;

static void ws_sigv4_block_free(void *ctx)
{
    ws_sigv4_block *b = ctx;
    mqtt5_credentials_provider_release(b->signer.credentials_provider);
    free(b);
}

int mqtt5_builder_websockets_with_default_aws_signing(
    const char *region, mqtt5_credentials_provider *credentials_provider,
    const mqtt5_builder_options *o, mqtt5_client **out, mqtt5_codec_status *status)
{
    mqtt5_codec_status local;
    if (!status) status = &local;
    *status = (mqtt5_codec_status){0};
    if (!out) return fail(status, MQTT5_ERR_INVALID_ARGUMENT, "out", NULL);
    *out = NULL;
    if (!o) return fail(status, MQTT5_ERR_INVALID_ARGUMENT, "options", "no builder options");
    if (!region || !*region || strlen(region) >= sizeof((ws_sigv4_block *)0)->region)
        return fail(status, MQTT5_ERR_INVALID_ARGUMENT, "region",
                    "the signing region is required (e.g. \"us-east-1\")");
    for (const char *c = region; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
            return fail(status, MQTT5_ERR_INVALID_ARGUMENT, "region",
                        "a region holds only a-z, 0-9 and '-'");

    mqtt5_builder_options o2 = *o;
    mqtt5_event_loop_group *own_group = NULL;
    int rc;
    if (!o2.client_bootstrap) {
        mqtt5_event_loop_group_options go;
        mqtt5_event_loop_group_options_init(&go);
        rc = mqtt5_event_loop_group_new(&go, &own_group);
        if (rc) return fail(status, rc, "client_bootstrap", "cannot start an event-loop group");
        o2.client_bootstrap = own_group;
    }
    ws_sigv4_block *b = calloc(1, sizeof *b);
    if (!b) {
        rc = fail(status, MQTT5_ERR_NOMEM, "credentials_provider", NULL);
        goto fail_group;
    }
    if (credentials_provider) {
        b->signer.credentials_provider = mqtt5_credentials_provider_acquire(credentials_provider);
    } else {
        mqtt5_credentials_options co;
        mqtt5_credentials_options_init(&co);
        co.event_loop_group = o2.client_bootstrap;
        /* the chain's HTTP calls (IMDS, ECS, STS, ...) go through the MQTT proxy too */
        char *proxy_url = NULL;
        rc = mqtt5_builder_proxy_url(&o2, &proxy_url, &co.http.proxy_ca_file);
        co.http.proxy_url = proxy_url;
        if (rc == 0)
            rc = mqtt5_credentials_provider_new_default_chain(&co, NULL,
                                                              &b->signer.credentials_provider);
        mqtt5_builder_proxy_url_free(proxy_url); /* the chain keeps its own copy */
        if (rc) {
            free(b);
            rc = fail(status, rc, "credentials_provider", "cannot create the default chain");
            goto fail_group;
        }
    }
    snprintf(b->region, sizeof b->region, "%s", region);
    b->signer.region = b->region;
    b->ws.transform = mqtt5_sigv4_websocket_transform;
    b->ws.transform_user = &b->signer;

    mqtt5_builder_tls_input tin = {.mode = MQTT5_BUILDER_DEFAULT_TLS, .websocket = &b->ws};
    mqtt5_client_private_options extra = {
        .owns_group = own_group != NULL,
        .release_extra = ws_sigv4_block_free,
        .release_extra_ctx = b,
    };
    rc = build(&o2, &tin, &extra, out, status);
    if (rc) {
        ws_sigv4_block_free(b);
        goto fail_group;
    }
    return 0;
fail_group:
    if (own_group) mqtt5_event_loop_group_release(own_group, NULL, NULL);
    return rc;
}
