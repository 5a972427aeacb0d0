/*
 * builder/builder_pkcs.c - the mutual-TLS builders whose credentials are not PEM files:
 * mqtt5_builder_mtls_with_pkcs12 (certificate, key and chain from a PKCS#12 file) and
 * mqtt5_builder_mtls_with_pkcs11 (the key on a PKCS#11 token, the certificate from a file or
 * memory). They only describe the TLS input; the resolver (builder_resolve.c) maps it onto
 * mqtt5_tls_options (port 443 offers ALPN x-amzn-mqtt-ca as for every mutual-TLS builder) and the
 * TLS context loads it (tls_pkcs12.c, tls_pkcs11.c) when the client is created, so a wrong
 * password or PIN fails here, named by the builder keyword ("pkcs12_password", "user_pin").
 * Passwords and PINs are passed through as pointers: never copied, never logged.
 */
#include "builder/builder_internal.h"

int mqtt5_builder_mtls_with_pkcs12(const char *pkcs12_filepath, const char *pkcs12_password,
                                   const mqtt5_builder_options *o, mqtt5_client **out,
                                   mqtt5_codec_status *status)
{
    mqtt5_builder_tls_input tin = {
        .mode = MQTT5_BUILDER_MTLS_PKCS12,
        .pkcs12_filepath = pkcs12_filepath,
        .pkcs12_password = pkcs12_password,
    };
    return mqtt5_builder_build(o, &tin, out, status);
}

int mqtt5_builder_mtls_with_pkcs11(const mqtt5_builder_pkcs11_options *p,
                                   const mqtt5_builder_options *o, mqtt5_client **out,
                                   mqtt5_codec_status *status)
{
    mqtt5_builder_tls_input tin = {
        .mode = MQTT5_BUILDER_MTLS_PKCS11,
        .pkcs11 = p,
    };
    return mqtt5_builder_build(o, &tin, out, status);
}
