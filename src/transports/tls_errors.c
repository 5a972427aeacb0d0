/*
 * transports/tls_errors.c - turns OpenSSL's view of a failed TLS connection into one named
 * mqtt5 error plus a one-line detail, and holds the OpenSSL callbacks that record what the
 * mapping needs (first verification failure, "server asked for a certificate we lack"). It
 * never changes OpenSSL's verdict, does no I/O and allocates nothing that outlives a call.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "transports/tls_internal.h"

static void name_of(const X509_NAME *name, char *out, size_t cap)
{
    out[0] = '\0';
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio) return;
    if (name && X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
        int n = BIO_read(bio, out, (int)cap - 1);
        out[n > 0 ? n : 0] = '\0';
    }
    BIO_free(bio);
}

/* "DNS:localhost, IP:127.0.0.1" for at most 4 SANs of `cert`. */
static void sans_of(X509 *cert, char *out, size_t cap)
{
    size_t at = 0;
    out[0] = '\0';
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    int count = gens ? sk_GENERAL_NAME_num(gens) : 0;
    for (int i = 0; i < count && i < 4 && at < cap; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        char item[64] = "";
        if (g->type == GEN_DNS) {
            snprintf(item, sizeof item, "DNS:%.*s", ASN1_STRING_length(g->d.dNSName) & 63,
                     (const char *)ASN1_STRING_get0_data(g->d.dNSName));
        } else if (g->type == GEN_IPADD) {
            const unsigned char *ip = ASN1_STRING_get0_data(g->d.iPAddress);
            if (ASN1_STRING_length(g->d.iPAddress) == 4)
                snprintf(item, sizeof item, "IP:%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
            else
                snprintf(item, sizeof item, "IP:(IPv6)");
        } else {
            continue;
        }
        int w = snprintf(out + at, cap - at, "%s%s", at ? ", " : "", item);
        at += w > 0 ? (size_t)w : 0;
    }
    if (count > 4 && at < cap) snprintf(out + at, cap - at, ", ...");
    if (!out[0]) snprintf(out, cap, "(no subjectAltName)");
    GENERAL_NAMES_free(gens);
}

int mqtt5_tls_verify_cb(int preverify_ok, X509_STORE_CTX *x)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    mqtt5_tls_diag *d = ssl ? SSL_get_app_data(ssl) : NULL;
    if (preverify_ok || !d || d->verify_error) return preverify_ok;
    X509 *cert = X509_STORE_CTX_get_current_cert(x);
    d->verify_error = X509_STORE_CTX_get_error(x);
    d->verify_depth = X509_STORE_CTX_get_error_depth(x);
    name_of(cert ? X509_get_subject_name(cert) : NULL, d->subject, sizeof d->subject);
    name_of(cert ? X509_get_issuer_name(cert) : NULL, d->issuer, sizeof d->issuer);
    if (cert) sans_of(cert, d->names, sizeof d->names);
    X509 *leaf = X509_STORE_CTX_get0_cert(x);
    name_of(leaf ? X509_get_subject_name(leaf) : NULL, d->leaf, sizeof d->leaf);
    return preverify_ok;
}

int mqtt5_tls_client_cert_cb(SSL *ssl, X509 **cert, EVP_PKEY **key)
{
    (void)cert, (void)key;
    mqtt5_tls_diag *d = SSL_get_app_data(ssl);
    if (d) d->asked_no_cert = true;
    return 0; /* continue without a certificate; the server decides */
}

static int verify_failure(const mqtt5_tls_diag *d, char *detail, size_t cap)
{
    switch (d->verify_error) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        if (d->verify_depth > 0 && d->leaf[0])
            snprintf(detail, cap,
                     "certificate '%s': its chain ends at '%s' (issuer '%s'), not trusted by %s",
                     d->leaf, d->subject, d->issuer, d->ctx->trust);
        else
            snprintf(detail, cap, "certificate '%s' (issuer '%s') not trusted by %s", d->subject,
                     d->issuer, d->ctx->trust);
        return MQTT5_ERR_TLS_UNTRUSTED_CERT;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        snprintf(detail, cap, "certificate '%s' at depth %d: %s", d->subject, d->verify_depth,
                 X509_verify_cert_error_string(d->verify_error));
        return MQTT5_ERR_TLS_CERT_EXPIRED;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        snprintf(detail, cap, "certificate names %s do not match host '%s'", d->names, d->host);
        return MQTT5_ERR_TLS_HOSTNAME_MISMATCH;
    default:
        snprintf(detail, cap, "certificate '%s' at depth %d failed verification: %s", d->subject,
                 d->verify_depth, X509_verify_cert_error_string(d->verify_error));
        return MQTT5_ERR_TLS_HANDSHAKE;
    }
}

static int alert_failure(const mqtt5_tls_diag *d, int alert, char *detail, size_t cap)
{
    const char *desc = SSL_alert_desc_string_long(alert);
    if (alert == 116) {
        snprintf(detail, cap,
                 "TLS alert 116 (certificate required)%s; configure a client certificate "
                 "and key",
                 d->handshake_done ? " after the TLS 1.3 handshake" : "");
        return MQTT5_ERR_TLS_CLIENT_CERT_REQUIRED;
    }
    if (alert == 40 && d->asked_no_cert) {
        snprintf(detail, cap,
                 "server asked for a client certificate and none is configured "
                 "(alert 40)");
        return MQTT5_ERR_TLS_CLIENT_CERT_REQUIRED;
    }
    if (d->ctx->has_cert &&
        ((alert >= 42 && alert <= 45) || alert == 48 || alert == 49 || alert == 51)) {
        snprintf(detail, cap, "server rejected the client certificate: alert %d %s", alert, desc);
        return MQTT5_ERR_TLS_CLIENT_CERT_REJECTED;
    }
    if (alert == 120) {
        snprintf(detail, cap, "server accepts none of the offered ALPN protocols: %s",
                 d->ctx->alpn[0] ? d->ctx->alpn : "(none offered)");
        return MQTT5_ERR_TLS_ALPN_REJECTED;
    }
    snprintf(detail, cap, "server sent alert %d %s", alert, desc);
    return MQTT5_ERR_TLS_HANDSHAKE;
}

int mqtt5_tls_map_error(const mqtt5_tls_diag *d, int ssl_error, char *detail, size_t cap)
{
    unsigned long e = ERR_peek_error(); /* the first queued error */
    int reason = ERR_GET_REASON(e);
    if (d->verify_error && ERR_GET_LIB(e) == ERR_LIB_SSL &&
        reason == SSL_R_CERTIFICATE_VERIFY_FAILED)
        return verify_failure(d, detail, cap);
    if (ERR_GET_LIB(e) == ERR_LIB_SSL && reason >= SSL_AD_REASON_OFFSET &&
        reason < SSL_AD_REASON_OFFSET + 256)
        return alert_failure(d, reason - SSL_AD_REASON_OFFSET, detail, cap);
    bool not_tls_record = d->first_byte >= 0 && d->first_byte != 0x15 && d->first_byte != 0x16;
    if (!d->handshake_done && (not_tls_record || (ERR_GET_LIB(e) == ERR_LIB_SSL &&
                                                  reason == SSL_R_WRONG_VERSION_NUMBER))) {
        snprintf(detail, cap, "server did not answer with TLS; is this a plain MQTT port?");
        return MQTT5_ERR_TLS_HANDSHAKE;
    }
    if (e) {
        char text[200];
        ERR_error_string_n(e, text, sizeof text);
        snprintf(detail, cap, "%s", text);
    } else {
        snprintf(detail, cap, "TLS failure (SSL_get_error %d)", ssl_error);
    }
    return MQTT5_ERR_TLS_HANDSHAKE;
}
