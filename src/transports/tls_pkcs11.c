/*
 * transports/tls_pkcs11.c - puts a private key that lives on a PKCS#11 token (HSM, smart card,
 * SoftHSM) into the client SSL_CTX for mqtt5_tls_ctx_new() (tls_ctx.c, which has already loaded
 * the certificate): load the module, pick the slot (slot_id and/or token_label), log in with the
 * user PIN (or the token's protected authentication path), find the key by label, and hand
 * OpenSSL an EVP_PKEY whose signing runs on the token; the key never leaves it.
 *
 * Why libp11 (OpenSC's libp11, Debian libp11-dev): it is maintained, and its library API returns
 * an EVP_PKEY whose RSA (PKCS#1 v1.5 and PSS) and ECDSA operations call C_Sign on the token. The
 * alternatives were avoided: the libp11 *engine* goes through OpenSSL's deprecated ENGINE API and
 * its process-global configuration, and pkcs11-provider is not in Debian bookworm's main archive
 * (and crashes at exit with SoftHSM unless OpenSSL's atexit handler is disabled); calling the
 * module directly (dlopen + C_Sign) would need our own RSA_METHOD and EC_KEY_METHOD, i.e. our own
 * padding, PSS and ECDSA signature-format code on deprecated OpenSSL APIs.
 *
 * Lifetime. A PKCS#11 module keeps process-wide state: C_Initialize/C_Finalize, and a login is
 * per application and token, not per session. So each module (by real path) is loaded once and
 * shared, reference counted, by every TLS context that uses it: a context holds its reference
 * from the moment the module is found until its last reference is released (tls_ctx.c frees the
 * SSL_CTX, which holds the key, first). The last reference closes the sessions (which logs out),
 * calls C_Finalize and unloads the module. The slot list is read when the module is loaded. All
 * libp11 calls made here run under one mutex; signing during handshakes uses libp11's own locks.
 * A second context asking for a token that this process is already logged in to must give the
 * same PIN: it is compared against a salted SHA-256 kept from the first login.
 *
 * Never logged, never copied by this file: the PIN (libp11 keeps its own copy to log in again
 * after a fork and wipes it when the slot is released). Error details that name labels are
 * formatted into a per-thread buffer, valid until the next failing call on the thread.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libp11.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "runtime/log_internal.h"
#include "transports/tls_internal.h"

/* One loaded module; every field is guarded by registry_mu. */
typedef struct p11_login {
    bool logged_in; /* we logged in (or took the protected path) on this slot */
    bool with_pin;  /* ... with a PIN, whose salted hash is below */
    unsigned char pin_hash[32];
} p11_login;

struct mqtt5_tls_pkcs11_module {
    struct mqtt5_tls_pkcs11_module *next;
    char *path; /* realpath() of lib_path, or the bare name given to dlopen */
    PKCS11_CTX *ctx;
    PKCS11_SLOT *slots;
    unsigned nslots;
    p11_login *logins; /* one per slot */
    unsigned char salt[16];
    int refs;
};

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct mqtt5_tls_pkcs11_module *registry;

static _Thread_local char t_detail[320];

static int fail(mqtt5_codec_status *st, int err, const char *field, const char *detail)
{
    if (st) {
        memset(st, 0, sizeof *st);
        st->error = err;
        st->field = field;
        st->detail = detail;
    }
    MQTT5_LOG(MQTT5_LOG_ERROR, MQTT5_LOG_TLS, "PKCS#11: %s: %s", field, detail ? detail : "-");
    ERR_clear_error();
    return err;
}

__attribute__((format(printf, 4, 5))) static int failf(mqtt5_codec_status *st, int err,
                                                       const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t_detail, sizeof t_detail, fmt, ap);
    va_end(ap);
    return fail(st, err, field, t_detail);
}

/* ---- CK_RV values (PKCS#11 v2.40 numbering) --------------------------------------------- */

static const char *ckr_name(unsigned long rv)
{
    static const struct {
        unsigned long rv;
        const char *name;
    } names[] = {
        {0x005, "CKR_GENERAL_ERROR"},
        {0x006, "CKR_FUNCTION_FAILED"},
        {0x007, "CKR_ARGUMENTS_BAD"},
        {0x030, "CKR_DEVICE_ERROR"},
        {0x031, "CKR_DEVICE_MEMORY"},
        {0x032, "CKR_DEVICE_REMOVED"},
        {0x050, "CKR_FUNCTION_CANCELED"},
        {0x0A0, "CKR_PIN_INCORRECT"},
        {0x0A1, "CKR_PIN_INVALID"},
        {0x0A2, "CKR_PIN_LEN_RANGE"},
        {0x0A3, "CKR_PIN_EXPIRED"},
        {0x0A4, "CKR_PIN_LOCKED"},
        {0x0E0, "CKR_TOKEN_NOT_PRESENT"},
        {0x0E1, "CKR_TOKEN_NOT_RECOGNIZED"},
        {0x100, "CKR_USER_ALREADY_LOGGED_IN"},
        {0x101, "CKR_USER_NOT_LOGGED_IN"},
        {0x102, "CKR_USER_PIN_NOT_INITIALIZED"},
        {0x190, "CKR_CRYPTOKI_NOT_INITIALIZED"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].rv == rv) return names[i].name;
    return NULL;
}

/* The CK_RV libp11 queued for the last failed call (0 when none), consuming the queue. */
static unsigned long last_ckr(void)
{
    unsigned long rv = 0, e;
    int ckr_lib = ERR_get_CKR_code();
    while ((e = ERR_get_error()) != 0)
        if (ERR_GET_LIB(e) == ckr_lib) rv = (unsigned long)ERR_GET_REASON(e);
    return rv;
}

/* "CKR_PIN_INCORRECT" or "CKR 0x1234" in `buf`. */
static const char *ckr_text(unsigned long rv, char *buf, size_t cap)
{
    const char *n = ckr_name(rv);
    if (n) return n;
    snprintf(buf, cap, "CKR 0x%lx", rv);
    return buf;
}

/* ---- the module registry ------------------------------------------------------------------ */

static void module_free(struct mqtt5_tls_pkcs11_module *m)
{
    if (m->slots) PKCS11_release_all_slots(m->ctx, m->slots, m->nslots); /* closes sessions */
    if (m->ctx) {
        PKCS11_CTX_unload(m->ctx); /* C_Finalize, dlclose */
        PKCS11_CTX_free(m->ctx);
    }
    if (m->logins) OPENSSL_cleanse(m->logins, sizeof *m->logins * m->nslots);
    free(m->logins);
    free(m->path);
    free(m);
}

/* Drop one reference; the last one unloads. Caller holds registry_mu. */
static void module_unref_locked(struct mqtt5_tls_pkcs11_module *m)
{
    if (--m->refs > 0) return;
    for (struct mqtt5_tls_pkcs11_module **pp = &registry; *pp; pp = &(*pp)->next) {
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    }
    MQTT5_LOG(MQTT5_LOG_DEBUG, MQTT5_LOG_TLS, "PKCS#11: unloading %s", m->path);
    module_free(m);
}

void mqtt5_tls_pkcs11_release(struct mqtt5_tls_pkcs11_module *m)
{
    if (!m) return;
    pthread_mutex_lock(&registry_mu);
    module_unref_locked(m);
    pthread_mutex_unlock(&registry_mu);
}

/* Find or load the module `lib_path` and take a reference. Caller holds registry_mu. */
static int module_get_locked(const char *lib_path, struct mqtt5_tls_pkcs11_module **out,
                             mqtt5_codec_status *st)
{
    char *path;
    if (strchr(lib_path, '/')) {
        struct stat sb;
        if (stat(lib_path, &sb) != 0)
            return fail(st, MQTT5_ERR_FILE, "pkcs11.lib_path",
                        errno == ENOENT ? "PKCS#11 module file not found"
                                        : "PKCS#11 module file cannot be read");
        if (!S_ISREG(sb.st_mode))
            return fail(st, MQTT5_ERR_FILE, "pkcs11.lib_path", "not a regular file");
        path = realpath(lib_path, NULL);
    } else {
        path = strdup(lib_path); /* a bare name: the dynamic loader's search path */
    }
    if (!path) return fail(st, MQTT5_ERR_NOMEM, "pkcs11.lib_path", NULL);

    for (struct mqtt5_tls_pkcs11_module *m = registry; m; m = m->next) {
        if (strcmp(m->path, path) == 0) {
            free(path);
            m->refs++;
            *out = m;
            return 0;
        }
    }

    struct mqtt5_tls_pkcs11_module *m = calloc(1, sizeof *m);
    if (!m) {
        free(path);
        return fail(st, MQTT5_ERR_NOMEM, "pkcs11.lib_path", NULL);
    }
    m->path = path;
    ERR_clear_error();
    m->ctx = PKCS11_CTX_new();
    if (!m->ctx) {
        module_free(m);
        return fail(st, MQTT5_ERR_NOMEM, "pkcs11.lib_path", NULL);
    }
    if (PKCS11_CTX_load(m->ctx, path) != 0) {
        unsigned long rv = last_ckr();
        char buf[32];
        /* libp11 0.4.12 crashes in PKCS11_CTX_unload after a failed load: free only */
        PKCS11_CTX_free(m->ctx);
        m->ctx = NULL;
        module_free(m);
        if (rv)
            return failf(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.lib_path",
                         "the PKCS#11 module failed to initialize (%s)",
                         ckr_text(rv, buf, sizeof buf));
        return fail(st, MQTT5_ERR_FILE, "pkcs11.lib_path",
                    "cannot load the PKCS#11 module (not a shared library with "
                    "C_GetFunctionList?)");
    }
    if (PKCS11_enumerate_slots(m->ctx, &m->slots, &m->nslots) != 0) {
        module_free(m);
        return fail(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.lib_path",
                    "the PKCS#11 module cannot list its slots");
    }
    m->logins = calloc(m->nslots ? m->nslots : 1, sizeof *m->logins);
    if (!m->logins || RAND_bytes(m->salt, sizeof m->salt) != 1) {
        module_free(m);
        return fail(st, MQTT5_ERR_NOMEM, "pkcs11.lib_path", NULL);
    }
    MQTT5_LOG(MQTT5_LOG_DEBUG, MQTT5_LOG_TLS, "PKCS#11: loaded %s (%u slots)", path, m->nslots);
    m->refs = 1;
    m->next = registry;
    registry = m;
    *out = m;
    return 0;
}

/* ---- slot, login, key -------------------------------------------------------------------- */

static bool has_token(const PKCS11_SLOT *s)
{
    return s->token && s->token->initialized;
}

/* "'a' (slot 1), 'b' (slot 2)" into buf. */
static const char *list_tokens(const struct mqtt5_tls_pkcs11_module *m, char *buf, size_t cap)
{
    size_t at = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < m->nslots && at < cap; i++) {
        if (!has_token(&m->slots[i])) continue;
        int w = snprintf(buf + at, cap - at, "%s'%s' (slot %lu)", at ? ", " : "",
                         m->slots[i].token->label, PKCS11_get_slotid_from_slot(&m->slots[i]));
        at += w > 0 ? (size_t)w : 0;
    }
    if (!buf[0]) snprintf(buf, cap, "none");
    return buf;
}

/* true when the token shows, without a login, a public or private key labelled `label`. */
static bool token_shows_key(PKCS11_SLOT *s, const char *label)
{
    PKCS11_KEY *keys = NULL;
    unsigned n = 0;
    if (PKCS11_enumerate_public_keys(s->token, &keys, &n) == 0)
        for (unsigned i = 0; i < n; i++)
            if (keys[i].label && strcmp(keys[i].label, label) == 0) return true;
    if (PKCS11_enumerate_keys(s->token, &keys, &n) == 0)
        for (unsigned i = 0; i < n; i++)
            if (keys[i].label && strcmp(keys[i].label, label) == 0) return true;
    ERR_clear_error();
    return false;
}

static int pick_slot(struct mqtt5_tls_pkcs11_module *m, const mqtt5_tls_pkcs11_options *p,
                     unsigned *out, mqtt5_codec_status *st)
{
    char list[192];
    if (p->has_slot_id) {
        for (unsigned i = 0; i < m->nslots; i++) {
            if ((uint64_t)PKCS11_get_slotid_from_slot(&m->slots[i]) != p->slot_id) continue;
            if (!has_token(&m->slots[i]))
                return failf(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.slot_id",
                             "slot %llu holds no initialized token",
                             (unsigned long long)p->slot_id);
            if (p->token_label && strcmp(m->slots[i].token->label, p->token_label) != 0)
                return failf(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.token_label",
                             "slot %llu holds token '%s', not '%s'", (unsigned long long)p->slot_id,
                             m->slots[i].token->label, p->token_label);
            *out = i;
            return 0;
        }
        return failf(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.slot_id",
                     "no slot %llu in the module (tokens: %s)", (unsigned long long)p->slot_id,
                     list_tokens(m, list, sizeof list));
    }
    if (p->token_label) {
        for (unsigned i = 0; i < m->nslots; i++) {
            if (has_token(&m->slots[i]) && strcmp(m->slots[i].token->label, p->token_label) == 0) {
                *out = i;
                return 0;
            }
        }
        return failf(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.token_label",
                     "no token labelled '%s' (tokens: %s)", p->token_label,
                     list_tokens(m, list, sizeof list));
    }
    /* any token: the first that shows the key without a login (public keys usually are
     * visible), else the first token; only the chosen token is ever logged in to */
    bool found = false;
    for (unsigned i = 0; i < m->nslots; i++) {
        if (!has_token(&m->slots[i])) continue;
        if (!found) *out = i;
        found = true;
        if (!p->key_label || token_shows_key(&m->slots[i], p->key_label)) {
            *out = i;
            return 0;
        }
    }
    if (!found)
        return fail(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.token_label",
                    "the PKCS#11 module has no initialized token");
    return 0;
}

static void pin_hash(const struct mqtt5_tls_pkcs11_module *m, const char *pin, unsigned char *out)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned len = 0;
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(md, m->salt, sizeof m->salt) != 1 ||
        EVP_DigestUpdate(md, pin, strlen(pin)) != 1 || EVP_DigestFinal_ex(md, out, &len) != 1)
        RAND_bytes(out, 32); /* cannot hash: the next comparison fails, which is safe */
    EVP_MD_CTX_free(md);
}

static int login(struct mqtt5_tls_pkcs11_module *m, unsigned idx, const char *pin,
                 mqtt5_codec_status *st)
{
    PKCS11_SLOT *s = &m->slots[idx];
    p11_login *l = &m->logins[idx];
    const char *label = s->token->label;
    if (l->logged_in) {
        /* one login per process and token: the PIN must be the one it was made with */
        if (!pin) return 0;
        unsigned char h[32];
        pin_hash(m, pin, h);
        bool same = l->with_pin && CRYPTO_memcmp(h, l->pin_hash, sizeof h) == 0;
        OPENSSL_cleanse(h, sizeof h);
        if (!l->with_pin)
            return failf(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.user_pin",
                         "token '%s' is already logged in by this process through its protected "
                         "authentication path: give no PIN",
                         label);
        if (!same)
            return failf(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.user_pin",
                         "token '%s' is already logged in by this process with another PIN "
                         "(treated as CKR_PIN_INCORRECT)",
                         label);
        return 0;
    }
    if (!pin && !s->token->secureLogin) return 0; /* no login; keys may still be visible */
    ERR_clear_error();
    if (PKCS11_login(s, 0, pin) != 0) {
        unsigned long rv = last_ckr();
        char buf[32];
        const char *what = ckr_text(rv, buf, sizeof buf);
        if (rv == 0xA0)
            return failf(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.user_pin",
                         "wrong PIN for token '%s' (%s)", label, what);
        if (rv == 0xA4)
            return failf(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.user_pin",
                         "the user PIN of token '%s' is locked (%s)", label, what);
        return failf(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.user_pin",
                     "login to token '%s' failed (%s%s)", label, rv ? what : "no CK_RV",
                     pin ? "" : ", protected authentication path");
    }
    l->logged_in = true;
    l->with_pin = pin != NULL;
    if (pin) pin_hash(m, pin, l->pin_hash);
    return 0;
}

/* The private key labelled `label` (NULL: the only one) on slot idx. */
static int find_key(struct mqtt5_tls_pkcs11_module *m, unsigned idx, const char *label,
                    const char *pin, PKCS11_KEY **out, mqtt5_codec_status *st)
{
    PKCS11_SLOT *s = &m->slots[idx];
    const char *tok = s->token->label;
    PKCS11_KEY *keys = NULL;
    unsigned n = 0;
    ERR_clear_error();
    if (PKCS11_enumerate_keys(s->token, &keys, &n) != 0)
        return failf(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.key_label",
                     "cannot list the private keys on token '%s'", tok);
    bool may_hide = !m->logins[idx].logged_in && s->token->loginRequired && !pin;
    if (n == 0 && may_hide)
        return failf(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.user_pin",
                     "token '%s' shows no private key without a login: give the user PIN", tok);
    if (label) {
        for (unsigned i = 0; i < n; i++) {
            if (keys[i].label && strcmp(keys[i].label, label) == 0) {
                *out = &keys[i];
                return 0;
            }
        }
        return failf(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.key_label",
                     "no private key labelled '%s' on token '%s'%s", label, tok,
                     may_hide ? " (without a login; give the user PIN)" : "");
    }
    if (n == 1) {
        *out = &keys[0];
        return 0;
    }
    if (n == 0)
        return failf(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.key_label",
                     "no private key on token '%s'", tok);
    char names[160];
    size_t at = 0;
    names[0] = '\0';
    for (unsigned i = 0; i < n && at < sizeof names; i++) {
        int w = snprintf(names + at, sizeof names - at, "%s'%s'", i ? ", " : "",
                         keys[i].label ? keys[i].label : "");
        at += w > 0 ? (size_t)w : 0;
    }
    return failf(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.key_label",
                 "token '%s' holds %u private keys (%s): name one with the key label", tok, n,
                 names);
}

static int load_locked(mqtt5_tls_ctx *c, const mqtt5_tls_pkcs11_options *p, mqtt5_codec_status *st)
{
    struct mqtt5_tls_pkcs11_module *m = NULL;
    int rc = module_get_locked(p->lib_path, &m, st);
    if (rc) return rc;
    /* from here the context owns a reference: the SSL_CTX (freed first) may hold the key */
    c->pkcs11 = m;

    unsigned idx = 0;
    if ((rc = pick_slot(m, p, &idx, st))) return rc;
    if ((rc = login(m, idx, p->user_pin, st))) return rc;
    PKCS11_KEY *key = NULL;
    if ((rc = find_key(m, idx, p->key_label, p->user_pin, &key, st))) return rc;

    const char *tok = m->slots[idx].token->label;
    const char *klabel = key->label ? key->label : "";
    int type = PKCS11_get_key_type(key);
    if (type != EVP_PKEY_RSA && type != EVP_PKEY_EC)
        return failf(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.key_label",
                     "private key '%s' on token '%s' is neither RSA nor EC", klabel, tok);
    ERR_clear_error();
    EVP_PKEY *pkey = PKCS11_get_private_key(key);
    if (!pkey)
        return failf(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.key_label",
                     "private key '%s' on token '%s' cannot be used", klabel, tok);
    int ok = SSL_CTX_use_PrivateKey(c->ssl, pkey) == 1 && SSL_CTX_check_private_key(c->ssl) == 1;
    EVP_PKEY_free(pkey); /* the SSL_CTX holds its own reference */
    if (!ok)
        return failf(st, MQTT5_ERR_TLS_CREDENTIALS, "pkcs11.key_label",
                     "private key '%s' on token '%s' does not match the certificate", klabel, tok);
    MQTT5_LOG(MQTT5_LOG_DEBUG, MQTT5_LOG_TLS, "PKCS#11: %s key '%s' on token '%s' (slot %lu)",
              type == EVP_PKEY_RSA ? "RSA" : "EC", klabel, tok,
              PKCS11_get_slotid_from_slot(&m->slots[idx]));
    c->has_cert = true;
    ERR_clear_error();
    return 0;
}

int mqtt5_tls_load_pkcs11(mqtt5_tls_ctx *c, const mqtt5_tls_pkcs11_options *p,
                          mqtt5_codec_status *st)
{
    if (!p->lib_path || !*p->lib_path)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "pkcs11.lib_path",
                    "the PKCS#11 module path is required");
    if (p->token_label && !*p->token_label)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "pkcs11.token_label", "empty");
    if (p->key_label && !*p->key_label)
        return fail(st, MQTT5_ERR_INVALID_ARGUMENT, "pkcs11.key_label", "empty");
    pthread_mutex_lock(&registry_mu);
    int rc = load_locked(c, p, st);
    pthread_mutex_unlock(&registry_mu);
    return rc;
}
