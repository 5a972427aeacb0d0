/*
 * helpers/tls_pki.c - makes the in-memory test PKI of tls_pki.h (certificates signed with the
 * OpenSSL API, no openssl CLI) and writes it to a temp directory. Test support only.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "helpers/tls_pki.h"

enum kind { KIND_CA, KIND_SERVER, KIND_CLIENT };

static void must(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "tls_pki: %s failed\n", what);
        abort();
    }
}

static void add_ext(X509 *x, X509V3_CTX *v, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v, nid, value);
    must(e != NULL, value);
    must(X509_add_ext(x, e, -1) == 1, "X509_add_ext");
    X509_EXTENSION_free(e);
}

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                       enum kind kind)
{
    static long serial = 1;
    X509 *x = X509_new();
    must(x != NULL, "X509_new");
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509V3_CTX v;
    X509V3_set_ctx_nodb(&v);
    X509V3_set_ctx(&v, issuer ? issuer : x, x, NULL, NULL, 0);
    if (kind == KIND_CA) {
        add_ext(x, &v, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, &v, NID_key_usage, "critical,keyCertSign,cRLSign");
        add_ext(x, &v, NID_subject_key_identifier, "hash");
    } else {
        add_ext(x, &v, NID_basic_constraints, "CA:FALSE");
        if (kind == KIND_SERVER) {
            add_ext(x, &v, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
            add_ext(x, &v, NID_ext_key_usage, "serverAuth");
        } else {
            add_ext(x, &v, NID_ext_key_usage, "clientAuth");
        }
    }
    must(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
    return x;
}

static void to_pem(tls_pem *out, X509 *x, EVP_PKEY *key, const char *dir, const char *file)
{
    BIO *bio = BIO_new(BIO_s_mem());
    must(bio != NULL, "BIO_new");
    if (x) must(PEM_write_bio_X509(bio, x) == 1, "PEM_write_bio_X509");
    if (key) must(PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1, "PEM key");
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    out->p = malloc((size_t)n + 1);
    must(out->p != NULL, "malloc");
    memcpy(out->p, data, (size_t)n);
    out->p[n] = '\0';
    out->n = (size_t)n;
    BIO_free(bio);
    snprintf(out->file, sizeof out->file, "%s/%s", dir, file);
    FILE *f = fopen(out->file, "wb");
    must(f != NULL, out->file);
    must(fwrite(out->p, 1, out->n, f) == out->n, "fwrite");
    fclose(f);
}

void tls_pki_make(tls_pki *pki)
{
    memset(pki, 0, sizeof *pki);
    snprintf(pki->dir, sizeof pki->dir, "/tmp/mqtt5-tls-XXXXXX");
    must(mkdtemp(pki->dir) != NULL, "mkdtemp");

    EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *other_key = EVP_EC_gen("P-256");
    EVP_PKEY *ec_key = EVP_EC_gen("P-256"), *stray = EVP_EC_gen("P-256");
    EVP_PKEY *rsa_key = EVP_RSA_gen(2048);
    pki->server_key = EVP_EC_gen("P-256");
    must(ca_key && other_key && ec_key && stray && rsa_key && pki->server_key, "keygen");

    pki->ca_x509 = make_cert("Test CA", ca_key, NULL, NULL, KIND_CA);
    pki->other_ca_x509 = make_cert("Other CA", other_key, NULL, NULL, KIND_CA);
    pki->server_x509 = make_cert("localhost", pki->server_key, pki->ca_x509, ca_key, KIND_SERVER);
    pki->expired_server_x509 =
        make_cert("localhost", pki->server_key, pki->ca_x509, ca_key, KIND_SERVER);
    /* valid from two days ago until yesterday, re-signed */
    X509_gmtime_adj(X509_getm_notBefore(pki->expired_server_x509), -2 * 86400);
    X509_gmtime_adj(X509_getm_notAfter(pki->expired_server_x509), -86400);
    must(X509_sign(pki->expired_server_x509, ca_key, EVP_sha256()) > 0, "X509_sign");
    X509 *ec_cert = make_cert("test-client", ec_key, pki->ca_x509, ca_key, KIND_CLIENT);
    X509 *rsa_cert = make_cert("rsa-client", rsa_key, pki->ca_x509, ca_key, KIND_CLIENT);

    to_pem(&pki->ca, pki->ca_x509, NULL, pki->dir, "ca.crt");
    to_pem(&pki->other_ca, pki->other_ca_x509, NULL, pki->dir, "other-ca.crt");
    to_pem(&pki->server_cert, pki->server_x509, NULL, pki->dir, "server.crt");
    to_pem(&pki->ec_cert, ec_cert, NULL, pki->dir, "client.crt");
    to_pem(&pki->ec_key, NULL, ec_key, pki->dir, "client.key");
    to_pem(&pki->rsa_cert, rsa_cert, NULL, pki->dir, "rsa-client.crt");
    to_pem(&pki->rsa_key, NULL, rsa_key, pki->dir, "rsa-client.key");
    to_pem(&pki->stray_key, NULL, stray, pki->dir, "stray.key");

    X509_free(ec_cert);
    X509_free(rsa_cert);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(other_key);
    EVP_PKEY_free(ec_key);
    EVP_PKEY_free(stray);
    EVP_PKEY_free(rsa_key);
}

void tls_pki_free(tls_pki *pki)
{
    tls_pem *all[] = {&pki->ca,     &pki->other_ca, &pki->server_cert, &pki->ec_cert,
                      &pki->ec_key, &pki->rsa_cert, &pki->rsa_key,     &pki->stray_key};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (all[i]->file[0]) unlink(all[i]->file);
        free(all[i]->p);
    }
    if (pki->dir[0]) rmdir(pki->dir);
    X509_free(pki->ca_x509);
    X509_free(pki->other_ca_x509);
    X509_free(pki->server_x509);
    X509_free(pki->expired_server_x509);
    EVP_PKEY_free(pki->server_key);
    memset(pki, 0, sizeof *pki);
}
