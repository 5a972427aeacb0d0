/*
 * helpers/tls_pki.h - a throw-away PKI made in memory with the OpenSSL API for the TLS tests:
 * a test CA, an unrelated CA, a server certificate (SAN DNS:localhost, IP:127.0.0.1), EC and RSA
 * client certificates and an unrelated key, as PEM in memory and as files in a temp directory.
 * Test support only: no production code may use it.
 */
#ifndef MQTT5_TEST_TLS_PKI_H
#define MQTT5_TEST_TLS_PKI_H

#include <stddef.h>

#include <openssl/ssl.h>

typedef struct tls_pem {
    char *p; /* NUL-terminated */
    size_t n;
    char file[96];
} tls_pem;

typedef struct tls_pki {
    char dir[64];
    X509 *ca_x509, *server_x509, *other_ca_x509, *expired_server_x509; /* expired: same key */
    EVP_PKEY *server_key;
    tls_pem ca, other_ca, server_cert, ec_cert, ec_key, rsa_cert, rsa_key, stray_key;
} tls_pki;

/* Build everything (EC P-256, one RSA 2048 key); aborts on failure. */
void tls_pki_make(tls_pki *pki);
/* Free memory and remove the files. */
void tls_pki_free(tls_pki *pki);

#endif
