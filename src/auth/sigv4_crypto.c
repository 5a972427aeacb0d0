/*
 * auth/sigv4_crypto.c - the hashing of SigV4 on OpenSSL 3: hex SHA-256 (EVP_Digest) and the
 * HMAC-SHA256 chain kSecret = "AWS4" + secret -> kDate -> kRegion -> kService -> kSigning ->
 * signature (EVP_Q_mac). Every key on the way is wiped with OPENSSL_cleanse before returning.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth/sigv4_internal.h"

#define SHA256_LEN 32

static void to_hex(const unsigned char *d, size_t n, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[2 * n] = '\0';
}

int mqtt5_sigv4_sha256_hex(const void *data, size_t n, char hex[65])
{
    unsigned char md[SHA256_LEN];
    unsigned int len = 0;
    if (!EVP_Digest(n ? data : "", n, md, &len, EVP_sha256(), NULL) || len != SHA256_LEN)
        return MQTT5_ERR_NOMEM;
    to_hex(md, SHA256_LEN, hex);
    return MQTT5_OK;
}

static bool hmac(const void *key, size_t key_len, const void *data, size_t n,
                 unsigned char out[SHA256_LEN])
{
    size_t len = 0;
    return EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, n ? data : "", n, out,
                     SHA256_LEN, &len) != NULL &&
           len == SHA256_LEN;
}

int mqtt5_sigv4_signature(const char *secret, const char *datetime, const char *region,
                          const char *service, const char *string_to_sign, size_t sts_len,
                          char hex[65])
{
    size_t secret_len = strlen(secret);
    unsigned char secret_key[4 + MQTT5_SIGV4_SECRET_MAX];
    unsigned char k1[SHA256_LEN], k2[SHA256_LEN], sig[SHA256_LEN];
    if (secret_len > MQTT5_SIGV4_SECRET_MAX) return MQTT5_ERR_INVALID_ARGUMENT;
    memcpy(secret_key, "AWS4", 4);
    memcpy(secret_key + 4, secret, secret_len);
    bool ok = hmac(secret_key, 4 + secret_len, datetime, 8, k1) &&  /* kDate */
              hmac(k1, SHA256_LEN, region, strlen(region), k2) &&   /* kRegion */
              hmac(k2, SHA256_LEN, service, strlen(service), k1) && /* kService */
              hmac(k1, SHA256_LEN, "aws4_request", 12, k2) &&       /* kSigning */
              hmac(k2, SHA256_LEN, string_to_sign, sts_len, sig);
    if (ok) to_hex(sig, SHA256_LEN, hex);
    OPENSSL_cleanse(secret_key, sizeof secret_key);
    OPENSSL_cleanse(k1, sizeof k1);
    OPENSSL_cleanse(k2, sizeof k2);
    OPENSSL_cleanse(sig, sizeof sig);
    return ok ? MQTT5_OK : MQTT5_ERR_NOMEM;
}
