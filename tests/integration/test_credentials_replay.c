/*
 * tests/integration/test_credentials_replay.c - the default credentials chain against the AWS
 * SDK for Rust's recorded cases (tests/vectors/aws-credentials/default-credential-provider-chain)
 * and hand-written error cases in the same layout (tests/credentials/cases).
 *
 * A case is a directory: test-case.json (result Ok {access_key_id, secret_access_key,
 * session_token?, account_id?, expiry?} or ErrorContains "..."), env.json (the whole
 * environment), fs/ (the file system: absolute path P is <case>/fs/P) and http-traffic.json (the
 * recorded HTTP exchanges). For each case the test
 *   - starts tests/credentials/fake_aws.js (node) with the case's traffic: plain HTTP and HTTPS
 *     (a certificate of a throw-away CA for every https host in the cases, made once with the
 *     openssl CLI) on random 127.0.0.1 ports;
 *   - builds a mqtt5_credentials_system whose getenv answers only from env.json, whose
 *     read_file reads under fs/ and whose clock is fixed (expected expiry - 3600 when the case
 *     expects an expiry, else 1632190000), and HTTP options that reach the fake through
 *     connect_to (":80:127.0.0.1:<http>", ":443:127.0.0.1:<https>"; URLs and Host headers stay
 *     the AWS ones), trust the test CA, 2000 ms per attempt, 3 attempts;
 *   - creates an event-loop group and mqtt5_credentials_provider_new_default_chain, calls get
 *     and waits for done (20 s cap);
 *   - Ok: every field equal (session_token NULL and expiration MQTT5_CREDENTIALS_NO_EXPIRY when
 *     the case has none; account_id when the case has one; the provider name from
 *     EXPECTED_PROVIDER), every recorded request consumed and none unexpected.
 *     ErrorContains: an error whose detail contains the text from EXPECTED_ERROR (the
 *     recording's text unless that is an implementation detail of the Rust SDK);
 *   - always: every request that matched a recorded one went to the recorded host (Host header)
 *     over the recorded scheme, and carried what fake_aws.js compares (IMDS token headers,
 *     x-amz-security-token, the SigV4 key id/region/service, STS's Action and Version).
 * SSO cases are skipped, saying why (SKIPPED_CASES).
 *
 * Hand-written cases may add to test-case.json: "provider_http": {timeout_ms, max_attempts,
 * connect_timeout_ms} (overriding the defaults above), "max_duration_ms" (the get must complete
 * sooner), "check_traffic": true (an error case must also consume every recorded request and
 * make no other), "provider" (the expected mqtt5_credentials.provider), "error" (the expected
 * error's name, "MQTT5_ERR_..."; ErrorContains is then our own text); and to a Response of
 * http-traffic.json "delay_ms" / "close" (see fake_aws.js).
 *
 * Where things are: the vectors in $MQTT5_TEST_VECTORS, else $MQTT5_SOURCE_DIR/tests/vectors,
 * else the tests/vectors next to this source file (CMake compiles it by absolute path), else
 * ../tests/vectors from the working directory; fake_aws.js and the hand-written cases in
 * <source>/tests/credentials, the source being $MQTT5_SOURCE_DIR, else found from __FILE__,
 * else the parent of the vectors' tests/ dir. node is $NODE, else node or nodejs on PATH (every
 * case skips, saying so, without it). FX_TEST_FILTER selects cases (cmocka filter on the names
 * "replay/<case>" and "hand/<case>"), MQTT5_LOG_LEVEL turns on the SDK's log, FX_KEEP=1 keeps
 * the temp dir (PKI, fake server reports and logs; it is also kept when a case failed).
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "helpers/fx_env.h"
#include "mqtt5/credentials.h"
#include "mqtt5/error.h"
#include "mqtt5/log.h"
#include "mqtt5/runtime.h"

#define CASE_WAIT_MS 20000u    /* cap on one get */
#define DEFAULT_NOW 1632190000 /* the clock of cases without an expected expiry */
#define PATH_CAP 1024

/* ---- tables ---------------------------------------------------------------------------------- */

/* Recorded cases not run yet, and why. */
static const struct {
    const char *name;
    const char *why;
} SKIPPED_CASES[] = {
    {"sso_assume_role", "SSO credentials (sso_* profile keys) are out of scope for now"},
    {"sso_no_token_file", "SSO credentials (sso_* profile keys) are out of scope for now"},
    {"sso_server_error", "SSO credentials (sso_* profile keys) are out of scope for now"},
    {"e2e_fips_and_dual_stack_sso",
     "SSO credentials (and FIPS/dual-stack endpoints) are out of scope for now"},
};

/*
 * The text our detail must contain for each recorded error case. `recorded` is the recording's
 * ErrorContains (checked against the case file so that a changed recording is noticed); `ours`
 * differs from it only where the recording's text is the Rust SDK's own wording, and then names
 * the same cause in ours.
 */
static const struct {
    const char *name;
    const char *recorded;
    const char *ours;
} EXPECTED_ERROR[] = {
    /* Rust's io::Error adds " (os error 2)"; ours is strerror() after the path */
    {"eks_pod_identity_no_token_file", "No such file or directory (os error 2)",
     "`/token.jwt`: No such file or directory"},
    /* Rust: "the credential provider was not enabled"; ours: "<provider>: not enabled ..." */
    {"imds_default_chain_error", "the credential provider was not enabled", "imds: not enabled"},
    {"imds_disabled", "the credential provider was not enabled", "imds: not enabled"},
    {"imds_no_iam_role", "the credential provider was not enabled", "imds: not enabled"},
    {"imds_token_fail", "request forbidden: IMDS is disabled",
     "request forbidden: IMDS is disabled"},
    /* profile A's credential_source Environment is not enabled; the web identity variables
     * must not be used instead */
    {"profile_overrides_web_identity", "provider was not enabled", "environment: not enabled"},
    {"web_identity_source_profile_no_env",
     "`web_identity_token_file` was specified but `role_arn` was missing",
     "`web_identity_token_file` was specified but `role_arn` was missing"},
    {"web_identity_token_invalid_jwt",
     "InvalidIdentityTokenException: No OpenIDConnect provider found in your account",
     "InvalidIdentityTokenException: No OpenIDConnect provider found in your account"},
};

/* mqtt5_credentials.provider expected for each recorded Ok case (see credentials.h). */
static const struct {
    const char *name;
    const char *provider;
} EXPECTED_PROVIDER[] = {
    {"ecs_assume_role", "sts-assume-role"},
    {"ecs_credentials", "ecs"},
    {"ecs_credentials_invalid_profile", "ecs"},
    {"eks_pod_identity_credentials", "ecs"},
    {"environment_variables", "environment"},
    {"environment_variables_blank", "profile"},
    {"imds_assume_role", "sts-assume-role"},
    {"imds_config_with_no_creds", "imds"},
    {"imds_default_chain_retries", "imds"},
    {"imds_default_chain_success", "imds"},
    {"prefer_environment", "environment"},
    {"profile_name", "profile"},
    {"profile_static_keys", "profile"},
    {"profile_static_keys_case_insensitive", "profile"},
    {"web_identity_token_env", "web-identity"},
    {"web_identity_token_profile", "web-identity"},
    {"web_identity_token_source_profile", "sts-assume-role"},
};

/* https hosts the server certificate always names (those of the recordings are added). */
static const char *const BASE_SANS[] = {
    "sts.us-east-1.amazonaws.com",
    "sts.eu-west-1.amazonaws.com",
    "sts.amazonaws.com",
    "portal.sso.us-east-2.amazonaws.com",
    "portal.sso-fips.us-east-2.api.aws",
    "cognito-identity.us-east-1.amazonaws.com",
    "localhost",
};

/* ---- small utilities --------------------------------------------------------------------------
 */

/* A growing text of problems found in one case. */
typedef struct problems {
    char text[8192];
    size_t len;
    int count;
} problems;

static void problem(problems *p, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void problem(problems *p, const char *f, ...)
{
    p->count++;
    if (p->len + 8 >= sizeof p->text) {
        return;
    }
    int n = snprintf(p->text + p->len, sizeof p->text - p->len, "\n      - ");
    if (n > 0) {
        p->len += (size_t)n;
    }
    va_list ap;
    va_start(ap, f);
    n = vsnprintf(p->text + p->len, sizeof p->text - p->len, f, ap);
    va_end(ap);
    if (n > 0) {
        p->len += (size_t)n;
    }
    if (p->len >= sizeof p->text) {
        p->len = sizeof p->text - 1;
    }
}

/* snprintf for paths and other texts that must not be cut: says so on stderr when one is. */
static void fmt(char *out, size_t cap, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *out, size_t cap, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(out, cap, f, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap) {
        fprintf(stderr, "text cut to %zu bytes: %s\n", cap, out);
    }
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static cJSON *load_json(const char *path)
{
    size_t len = 0;
    uint8_t *text = fx_read_file(path, &len);
    if (text == NULL) {
        return NULL;
    }
    cJSON *j = cJSON_ParseWithLength((const char *)text, len);
    free(text);
    return j;
}

static const char *json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool json_num(const cJSON *obj, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v)) {
        return false;
    }
    *out = v->valuedouble;
    return true;
}

/* Remove a directory tree (the test's own temp dir). */
static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
                continue;
            }
            char sub[PATH_CAP];
            fmt(sub, sizeof sub, "%s/%s", path, e->d_name);
            struct stat st;
            if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
                remove_tree(sub);
            } else {
                unlink(sub);
            }
        }
        closedir(d);
    }
    rmdir(path);
}

/* ---- where things are ------------------------------------------------------------------------ */

static struct {
    char source[PATH_CAP];  /* the source tree */
    char vectors[PATH_CAP]; /* .../tests/vectors */
    char chain_dir[PATH_CAP];
    char hand_dir[PATH_CAP];
    char script[PATH_CAP]; /* fake_aws.js */
    char node[PATH_CAP];   /* "" when there is none */
    char tmp[PATH_CAP];
    char ca[PATH_CAP], cert[PATH_CAP], key[PATH_CAP];
    bool pki_ok;
    int failed;
} g;

static void locate(void)
{
    const char *src = fx_env("MQTT5_SOURCE_DIR");
    const char *file = __FILE__; /* <source>/tests/integration/test_credentials_replay.c */
    const char *tail = strstr(file, "/tests/integration/");
    char from_file[PATH_CAP] = "";
    if (file[0] == '/' && tail != NULL) {
        fmt(from_file, sizeof from_file, "%.*s", (int)(tail - file), file);
        if (!is_dir(from_file)) {
            from_file[0] = '\0';
        }
    }
    const char *vec = fx_env("MQTT5_TEST_VECTORS");
    if (vec != NULL) {
        fmt(g.vectors, sizeof g.vectors, "%s", vec);
    } else if (src != NULL) {
        fmt(g.vectors, sizeof g.vectors, "%s/tests/vectors", src);
    } else if (from_file[0] != '\0') {
        fmt(g.vectors, sizeof g.vectors, "%s/tests/vectors", from_file);
    } else {
        fmt(g.vectors, sizeof g.vectors, "../tests/vectors");
    }
    if (src != NULL) {
        fmt(g.source, sizeof g.source, "%s", src);
    } else if (from_file[0] != '\0') {
        fmt(g.source, sizeof g.source, "%s", from_file);
    } else {
        size_t n = strlen(g.vectors);
        const char *suffix = "/tests/vectors";
        size_t sn = strlen(suffix);
        if (n > sn && strcmp(g.vectors + n - sn, suffix) == 0) {
            fmt(g.source, sizeof g.source, "%.*s", (int)(n - sn), g.vectors);
        } else {
            fmt(g.source, sizeof g.source, "..");
        }
    }
    fmt(g.chain_dir, sizeof g.chain_dir, "%s/aws-credentials/default-credential-provider-chain",
        g.vectors);
    fmt(g.hand_dir, sizeof g.hand_dir, "%s/tests/credentials/cases", g.source);
    fmt(g.script, sizeof g.script, "%s/tests/credentials/fake_aws.js", g.source);

    g.node[0] = '\0';
    const char *env = fx_env("NODE");
    if (env != NULL && strchr(env, '/') != NULL) {
        if (access(env, X_OK) == 0) {
            fmt(g.node, sizeof g.node, "%s", env);
        }
    } else if (env != NULL && fx_find_on_path(env, g.node, sizeof g.node) == 0) {
        /* found */
    } else if (fx_find_on_path("node", g.node, sizeof g.node) != 0 &&
               fx_find_on_path("nodejs", g.node, sizeof g.node) != 0) {
        g.node[0] = '\0';
    }
}

/* ---- the cases --------------------------------------------------------------------------------
 */

typedef struct rcase {
    char name[128];
    char test_name[160]; /* "replay/<name>" or "hand/<name>" */
    char dir[PATH_CAP];
    bool hand;
    const char *skip_why;
} rcase;

static rcase *g_cases;
static size_t g_ncases;

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Append every case directory under `dir` (sorted by name). -1 when `dir` cannot be read. */
static int scan_cases(const char *dir, bool hand)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "cannot read %s: %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char sub[PATH_CAP];
        fmt(sub, sizeof sub, "%s/%s", dir, e->d_name);
        if (!is_dir(sub)) {
            continue; /* LICENSE */
        }
        char **nn = realloc(names, (n + 1) * sizeof *names);
        if (nn == NULL) {
            break;
        }
        names = nn;
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, name_cmp);
    rcase *nc = realloc(g_cases, (g_ncases + n) * sizeof *g_cases);
    if (nc == NULL && n > 0) {
        return -1;
    }
    g_cases = nc;
    for (size_t i = 0; i < n; i++) {
        rcase *c = &g_cases[g_ncases++];
        memset(c, 0, sizeof *c);
        fmt(c->name, sizeof c->name, "%s", names[i]);
        fmt(c->test_name, sizeof c->test_name, "%s/%s", hand ? "hand" : "replay", names[i]);
        fmt(c->dir, sizeof c->dir, "%s/%s", dir, names[i]);
        c->hand = hand;
        if (!hand) {
            for (size_t k = 0; k < sizeof SKIPPED_CASES / sizeof SKIPPED_CASES[0]; k++) {
                if (strcmp(SKIPPED_CASES[k].name, names[i]) == 0) {
                    c->skip_why = SKIPPED_CASES[k].why;
                }
            }
        }
        free(names[i]);
    }
    free(names);
    return 0;
}

/* ---- the PKI ----------------------------------------------------------------------------------
 */

typedef struct sans {
    char text[4096]; /* "DNS:a,DNS:b,IP:127.0.0.1" */
} sans;

static bool host_chars_ok(const char *h)
{
    if (h[0] == '\0') {
        return false;
    }
    for (const char *s = h; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '-')) {
            return false;
        }
    }
    return true;
}

static bool is_ipv4(const char *h)
{
    for (const char *s = h; *s; s++) {
        if (!((*s >= '0' && *s <= '9') || *s == '.')) {
            return false;
        }
    }
    return true;
}

static void san_add(sans *s, const char *host)
{
    if (!host_chars_ok(host)) {
        return;
    }
    char item[300];
    fmt(item, sizeof item, "%s:%s", is_ipv4(host) ? "IP" : "DNS", host);
    /* already there? (compare whole comma-separated items) */
    const char *p = s->text;
    size_t il = strlen(item);
    while ((p = strstr(p, item)) != NULL) {
        if ((p == s->text || p[-1] == ',') && (p[il] == ',' || p[il] == '\0')) {
            return;
        }
        p += il;
    }
    size_t len = strlen(s->text);
    fmt(s->text + len, sizeof s->text - len, "%s%s", len ? "," : "", item);
}

/* The https hosts of one traffic file. */
static void san_add_traffic(sans *s, const char *path)
{
    cJSON *t = load_json(path);
    const cJSON *ev;
    cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(t, "events"))
    {
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev, "action"),
                                             "Request"),
            "request");
        const char *uri = json_str(req, "uri");
        if (uri == NULL || strncmp(uri, "https://", 8) != 0) {
            continue;
        }
        char host[256];
        size_t n = strcspn(uri + 8, ":/?#");
        fmt(host, sizeof host, "%.*s", (int)n, uri + 8);
        san_add(s, host);
    }
    cJSON_Delete(t);
}

/* A CA and a server certificate (EC P-256) for every https host, with the openssl CLI. */
static int make_pki(void)
{
    sans s = {{0}};
    for (size_t i = 0; i < sizeof BASE_SANS / sizeof BASE_SANS[0]; i++) {
        san_add(&s, BASE_SANS[i]);
    }
    for (size_t i = 0; i < g_ncases; i++) {
        char path[PATH_CAP + 32];
        fmt(path, sizeof path, "%s/http-traffic.json", g_cases[i].dir);
        san_add_traffic(&s, path);
    }
    san_add(&s, "127.0.0.1");
    char cmd[8192];
    fmt(cmd, sizeof cmd,
        "cd '%s' && set -e && "
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
        "-keyout ca.key -out ca.crt -subj '/CN=mqtt5 fake AWS test CA' "
        "-addext basicConstraints=critical,CA:TRUE "
        "-addext keyUsage=critical,keyCertSign,cRLSign && "
        "printf 'subjectAltName=%s\\nextendedKeyUsage=serverAuth\\n' >server.ext && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key "
        "-out server.csr -subj '/CN=mqtt5 fake AWS' && "
        "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
        "-out server.crt -extfile server.ext",
        g.tmp, s.text);
    char full[8400];
    fmt(full, sizeof full, "( %s ) >'%s/gen.log' 2>&1", cmd, g.tmp);
    int rc = system(full);
    if (rc != 0) {
        fprintf(stderr, "PKI generation failed (rc %d); see %s/gen.log\n", rc, g.tmp);
        return -1;
    }
    fmt(g.ca, sizeof g.ca, "%s/ca.crt", g.tmp);
    fmt(g.cert, sizeof g.cert, "%s/server.crt", g.tmp);
    fmt(g.key, sizeof g.key, "%s/server.key", g.tmp);
    printf("test CA %s; server certificate for %s\n", g.ca, s.text);
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    const char *base = fx_env("FX_DIR");
    if (base == NULL) {
        base = fx_env("TMPDIR");
    }
    fmt(g.tmp, sizeof g.tmp, "%s/creds-replay.XXXXXX", base != NULL ? base : "/tmp");
    if (mkdtemp(g.tmp) == NULL) {
        fprintf(stderr, "mkdtemp %s: %s\n", g.tmp, strerror(errno));
        return -1;
    }
    g.pki_ok = make_pki() == 0;
    return g.pki_ok ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    const char *keep = fx_env("FX_KEEP");
    if ((keep != NULL && strcmp(keep, "1") == 0) || g.failed > 0) {
        printf("kept %s (PKI, fake server reports and logs)%s\n", g.tmp,
               fx_env("FX_DIR") != NULL && keep == NULL
                   ? "; inside the fixture's FX_DIR: FX_KEEP=1 keeps it after the fixture"
                   : "");
    } else if (g.tmp[0] != '\0') {
        remove_tree(g.tmp);
    }
    return 0;
}

/* ---- the system seam ------------------------------------------------------------------------- */

typedef struct case_sys {
    const cJSON *env; /* object of strings */
    char fs_root[PATH_CAP];
    int64_t now;
    pthread_mutex_t mu;
    char reads[2048]; /* "path (ok|reason), ..." for diagnostics */
} case_sys;

static void note_read(case_sys *s, const char *path, int err)
{
    char reason[128] = "ok";
    if (err != 0 && strerror_r(err, reason, sizeof reason) != 0) {
        fmt(reason, sizeof reason, "errno %d", err);
    }
    pthread_mutex_lock(&s->mu);
    size_t len = strlen(s->reads);
    if (len + 4 < sizeof s->reads) {
        fmt(s->reads + len, sizeof s->reads - len, "%s%s (%s)", len ? ", " : "", path, reason);
    }
    pthread_mutex_unlock(&s->mu);
}

static const char *sys_getenv(void *user, const char *name)
{
    const case_sys *s = user;
    return json_str(s->env, name);
}

static int sys_read_file(void *user, const mqtt5_allocator *alloc, const char *path, char **out,
                         size_t *len)
{
    case_sys *s = user;
    char full[PATH_CAP * 2];
    fmt(full, sizeof full, "%s%s%s", s->fs_root, path[0] == '/' ? "" : "/", path);
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        note_read(s, path, e);
        errno = e;
        return MQTT5_ERR_FILE;
    }
    struct stat st;
    int fst = fstat(fd, &st);
    if (fst != 0 || !S_ISREG(st.st_mode)) {
        int e = fst != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        close(fd);
        note_read(s, path, e);
        errno = e;
        return MQTT5_ERR_FILE;
    }
    size_t size = (size_t)st.st_size;
    char *buf = alloc->allocate(alloc->ctx, size + 1);
    if (buf == NULL) {
        close(fd);
        return MQTT5_ERR_NOMEM;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            int e = r < 0 ? errno : EIO;
            alloc->release(alloc->ctx, buf, size + 1);
            close(fd);
            note_read(s, path, e);
            errno = e;
            return MQTT5_ERR_FILE;
        }
        got += (size_t)r;
    }
    close(fd);
    buf[size] = '\0';
    *out = buf;
    *len = size;
    note_read(s, path, 0);
    return 0;
}

static int64_t sys_now(void *user)
{
    const case_sys *s = user;
    return s->now;
}

/* ---- waiting for done and for the group ------------------------------------------------------ */

typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls;
    int error;
    mqtt5_credentials *creds;
    char *detail;
    uint64_t at_ms;
} waiter;

static waiter *waiter_new(void)
{
    waiter *w = calloc(1, sizeof *w);
    if (w == NULL) {
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    return w;
}

static void waiter_free(waiter *w)
{
    if (w == NULL) {
        return;
    }
    if (w->creds != NULL) {
        mqtt5_credentials_free(mqtt5_allocator_libc(), w->creds);
    }
    free(w->detail);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

static void on_creds(void *user, int error, const mqtt5_credentials *creds, const char *detail)
{
    waiter *w = user;
    pthread_mutex_lock(&w->mu);
    if (w->calls++ == 0) {
        w->error = error;
        w->at_ms = fx_now_ms();
        if (creds != NULL &&
            mqtt5_credentials_copy(mqtt5_allocator_libc(), creds, &w->creds) != 0) {
            w->creds = NULL;
        }
        w->detail = detail != NULL ? strdup(detail) : NULL;
    }
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void on_group_shutdown(void *user)
{
    waiter *w = user;
    pthread_mutex_lock(&w->mu);
    w->calls++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Wait until w->calls >= n or timeout_ms passed; returns the count seen. */
static int waiter_wait(waiter *w, int n, uint32_t timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->mu);
    while (w->calls < n) {
        if (pthread_cond_timedwait(&w->cv, &w->mu, &until) == ETIMEDOUT) {
            break;
        }
    }
    int calls = w->calls;
    pthread_mutex_unlock(&w->mu);
    return calls;
}

/* ---- the fake server --------------------------------------------------------------------------
 */

typedef struct fake {
    long pid;
    int fd;
    char *pending;
    size_t pending_len;
    unsigned http_port, https_port;
    char report[PATH_CAP];
} fake;

static int fake_start(fake *f, const rcase *c, problems *pr)
{
    char traffic[PATH_CAP + 32], log_path[PATH_CAP];
    fmt(traffic, sizeof traffic, "%s/http-traffic.json", c->dir);
    fmt(f->report, sizeof f->report, "%s/%s-%s.report.json", g.tmp, c->hand ? "hand" : "replay",
        c->name);
    fmt(log_path, sizeof log_path, "%s/%s-%s.log", g.tmp, c->hand ? "hand" : "replay", c->name);
    if (!is_file(traffic)) {
        problem(pr, "%s missing", traffic);
        return -1;
    }
    char *argv[] = {g.node,  g.script, "--traffic", traffic,   "--cert",    g.cert,
                    "--key", g.key,    "--report",  f->report, "--verbose", NULL};
    /* node's log (--verbose) goes to the case's log file, not to the test's stderr */
    int saved = dup(2);
    int logfd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd >= 0) {
        dup2(logfd, 2);
    }
    f->pid = fx_spawn_piped(argv, &f->fd);
    if (logfd >= 0) {
        dup2(saved, 2);
        close(logfd);
    }
    close(saved);
    if (f->pid < 0) {
        problem(pr, "could not start %s %s", g.node, g.script);
        return -1;
    }
    char line[256];
    long n =
        fx_read_line(f->fd, &f->pending, &f->pending_len, line, sizeof line, fx_now_ms() + 10000);
    if (n < 0 || sscanf(line, "READY %u %u", &f->http_port, &f->https_port) != 2) {
        problem(pr, "fake_aws.js did not get ready (%s; log %s)",
                n == -2   ? "no READY line in 10 s"
                : n == -1 ? "it exited"
                          : line,
                log_path);
        return -1;
    }
    return 0;
}

/* SIGTERM, reap, and the report (NULL when there is none). */
static cJSON *fake_stop(fake *f, problems *pr)
{
    cJSON *rep = NULL;
    if (f->pid > 0) {
        kill((pid_t)f->pid, SIGTERM);
        int st = fx_wait_child(f->pid, 5000, 1);
        if (st != 0) {
            problem(pr, "fake_aws.js exited with status %d", st);
        }
        f->pid = 0;
        rep = load_json(f->report);
        if (rep == NULL) {
            problem(pr, "no report from fake_aws.js in %s", f->report);
        }
    }
    if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
    free(f->pending);
    f->pending = NULL;
    return rep;
}

static void print_requests(const cJSON *rep)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(rep, "requests"))
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "connection_id");
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(r, "status");
        char st[32];
        if (cJSON_IsNumber(status)) {
            fmt(st, sizeof st, "%d", status->valueint);
        } else {
            fmt(st, sizeof st, "%s", cJSON_IsString(status) ? status->valuestring : "?");
        }
        printf("      %s %s://%s%s -> %s (%s%d)\n", json_str(r, "method"), json_str(r, "scheme"),
               json_str(r, "host") ? json_str(r, "host") : "(no Host)", json_str(r, "url"), st,
               cJSON_IsNumber(id) ? "recorded #" : "unexpected",
               cJSON_IsNumber(id) ? id->valueint : 0);
    }
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(rep, "unconsumed"))
    {
        double id = -1;
        json_num(r, "connection_id", &id);
        printf("      not requested: #%.0f %s %s\n", id, json_str(r, "method"), json_str(r, "uri"));
    }
}

/* Hosts and schemes of matched requests; with all_consumed, the traffic was exactly the
 * recording. */
static void check_report(const cJSON *rep, bool all_consumed, problems *pr)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(rep, "requests"))
    {
        if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(r, "connection_id"))) {
            continue;
        }
        const char *host = json_str(r, "host"), *want_host = json_str(r, "expected_host");
        const char *scheme = json_str(r, "scheme"), *want_scheme = json_str(r, "expected_scheme");
        if (host == NULL || want_host == NULL || strcmp(host, want_host) != 0) {
            problem(pr, "%s %s went to Host %s, recorded %s", json_str(r, "method"),
                    json_str(r, "url"), host ? host : "(none)", want_host ? want_host : "?");
        }
        if (scheme == NULL || want_scheme == NULL || strcmp(scheme, want_scheme) != 0) {
            problem(pr, "%s %s went over %s, recorded %s", json_str(r, "method"),
                    json_str(r, "url"), scheme ? scheme : "?", want_scheme ? want_scheme : "?");
        }
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(r, "mismatches"))
        {
            const char *got = json_str(m, "got");
            problem(pr, "%s %s: %s \"%s\", recorded \"%s\"", json_str(r, "method"),
                    json_str(r, "url"), json_str(m, "what"), got ? got : "(none)",
                    json_str(m, "recorded") ? json_str(m, "recorded") : "?");
        }
    }
    if (!all_consumed) {
        return;
    }
    double expected = -1, consumed = -2;
    json_num(rep, "expected", &expected);
    json_num(rep, "consumed", &consumed);
    if (expected != consumed) {
        problem(pr, "%.0f of %.0f recorded requests made", consumed, expected);
    }
    int unexpected = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rep, "unexpected"));
    if (unexpected != 0) {
        problem(pr, "%d unexpected request(s)", unexpected);
    }
}

/* ---- one case -------------------------------------------------------------------------------- */

static const char *expected_error_text(const rcase *c, const char *recorded, problems *pr)
{
    if (c->hand) {
        return recorded; /* our own text already */
    }
    for (size_t i = 0; i < sizeof EXPECTED_ERROR / sizeof EXPECTED_ERROR[0]; i++) {
        if (strcmp(EXPECTED_ERROR[i].name, c->name) == 0) {
            if (strcmp(EXPECTED_ERROR[i].recorded, recorded) != 0) {
                problem(pr, "the recording now expects \"%s\" (EXPECTED_ERROR has \"%s\")",
                        recorded, EXPECTED_ERROR[i].recorded);
            }
            return EXPECTED_ERROR[i].ours;
        }
    }
    return recorded;
}

static const char *expected_provider(const rcase *c, const cJSON *tc)
{
    if (c->hand) {
        return json_str(tc, "provider");
    }
    for (size_t i = 0; i < sizeof EXPECTED_PROVIDER / sizeof EXPECTED_PROVIDER[0]; i++) {
        if (strcmp(EXPECTED_PROVIDER[i].name, c->name) == 0) {
            return EXPECTED_PROVIDER[i].provider;
        }
    }
    return NULL;
}

static void check_str(problems *pr, const char *field, const char *want, const char *got)
{
    if (want == NULL && got == NULL) {
        return;
    }
    if (want == NULL || got == NULL || strcmp(want, got) != 0) {
        /* secrets are test values here; print them to make a mismatch obvious */
        problem(pr, "%s: expected %s%s%s, got %s%s%s", field, want ? "\"" : "",
                want ? want : "NULL", want ? "\"" : "", got ? "\"" : "", got ? got : "NULL",
                got ? "\"" : "");
    }
}

static void run_case(void **state)
{
    rcase *c = *state;
    if (c->skip_why != NULL) {
        printf("    SKIPPED %s: %s\n", c->name, c->skip_why);
        skip();
    }
    if (g.node[0] == '\0') {
        printf("    node not found (neither $NODE, node nor nodejs on PATH): skipped\n");
        skip();
    }
    problems pr = {.len = 0, .count = 0};
    pr.text[0] = '\0';

    char path[PATH_CAP + 32];
    fmt(path, sizeof path, "%s/test-case.json", c->dir);
    cJSON *tc = load_json(path);
    fmt(path, sizeof path, "%s/env.json", c->dir);
    cJSON *env = load_json(path);
    if (tc == NULL || env == NULL || !cJSON_IsObject(env)) {
        cJSON_Delete(tc);
        cJSON_Delete(env);
        g.failed++;
        fail_msg("%s: unreadable test-case.json or env.json", c->dir);
    }
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(tc, "result");
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(result, "Ok");
    const char *err_rec = json_str(result, "ErrorContains");
    const char *want_err = err_rec != NULL ? expected_error_text(c, err_rec, &pr) : NULL;
    const char *want_provider = expected_provider(c, tc);
    const char *want_code = c->hand ? json_str(tc, "error") : NULL;
    double expiry = 0;
    bool has_expiry = ok != NULL && json_num(ok, "expiry", &expiry);
    double max_ms = 0;
    bool has_max = json_num(tc, "max_duration_ms", &max_ms);
    bool check_traffic =
        ok != NULL || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(tc, "check_traffic"));

    case_sys sys = {.env = env, .now = has_expiry ? (int64_t)expiry - 3600 : DEFAULT_NOW};
    pthread_mutex_init(&sys.mu, NULL);
    fmt(sys.fs_root, sizeof sys.fs_root, "%s/fs", c->dir);
    mqtt5_credentials_system seam = {
        .getenv = sys_getenv, .read_file = sys_read_file, .now = sys_now, .user = &sys};

    fake f = {.pid = 0, .fd = -1};
    mqtt5_event_loop_group *group = NULL;
    mqtt5_credentials_provider *prov = NULL;
    waiter *w = NULL, *gw = NULL;
    uint64_t started = 0;
    cJSON *rep = NULL;
    bool leak_waiter = false;

    if (ok == NULL && err_rec == NULL) {
        problem(&pr, "test-case.json has neither result.Ok nor result.ErrorContains");
        goto done;
    }
    if (fake_start(&f, c, &pr) != 0) {
        goto done;
    }
    char ct_http[64], ct_https[64];
    fmt(ct_http, sizeof ct_http, ":80:127.0.0.1:%u", f.http_port);
    fmt(ct_https, sizeof ct_https, ":443:127.0.0.1:%u", f.https_port);
    const char *const connect_to[] = {ct_http, ct_https};

    mqtt5_event_loop_group_options go;
    mqtt5_event_loop_group_options_init(&go);
    int rc = mqtt5_event_loop_group_new(&go, &group);
    if (rc != 0) {
        problem(&pr, "mqtt5_event_loop_group_new: %s", mqtt5_error_name(rc));
        goto done;
    }
    mqtt5_credentials_options o;
    mqtt5_credentials_options_init(&o);
    o.event_loop_group = group;
    o.system = &seam;
    o.http.connect_to = connect_to;
    o.http.connect_to_count = 2;
    o.http.ca_file = g.ca;
    o.http.timeout_ms = 2000;
    o.http.max_attempts = 3;
    const cJSON *ph = cJSON_GetObjectItemCaseSensitive(tc, "provider_http");
    double v;
    if (json_num(ph, "timeout_ms", &v)) {
        o.http.timeout_ms = (uint32_t)v;
    }
    if (json_num(ph, "max_attempts", &v)) {
        o.http.max_attempts = (uint32_t)v;
    }
    if (json_num(ph, "connect_timeout_ms", &v)) {
        o.http.connect_timeout_ms = (uint32_t)v;
    }
    mqtt5_credentials_default_chain_options dco = {.profile_name = NULL};
    rc = mqtt5_credentials_provider_new_default_chain(&o, &dco, &prov);
    if (rc != 0) {
        problem(&pr, "mqtt5_credentials_provider_new_default_chain: %s", mqtt5_error_name(rc));
        goto done;
    }
    w = waiter_new();
    if (w == NULL) {
        problem(&pr, "out of memory");
        goto done;
    }
    started = fx_now_ms();
    rc = mqtt5_credentials_provider_get(prov, on_creds, w);
    if (rc != 0) {
        problem(&pr, "mqtt5_credentials_provider_get refused: %s", mqtt5_error_name(rc));
        goto done;
    }
    if (waiter_wait(w, 1, CASE_WAIT_MS) < 1) {
        problem(&pr, "no answer from get in %u ms", CASE_WAIT_MS);
        mqtt5_credentials_provider_release(prov); /* in-flight gets complete, TERMINATED */
        prov = NULL;
        if (waiter_wait(w, 1, 5000) < 1) {
            problem(&pr, "no done 5 s after the release either");
            leak_waiter = true; /* done may still come: keep its memory */
        }
        goto done;
    }
    uint64_t took = w->at_ms - started;
    if (w->error == 0) {
        printf("    %s: credentials from provider \"%s\" after %llu ms\n", c->name,
               w->creds && w->creds->provider ? w->creds->provider : "?", (unsigned long long)took);
    } else {
        printf("    %s: %s after %llu ms: %s\n", c->name, mqtt5_error_name(w->error),
               (unsigned long long)took, w->detail ? w->detail : "(no detail)");
    }
    if (has_max && (double)took >= max_ms) {
        problem(&pr, "took %llu ms, limit %.0f ms", (unsigned long long)took, max_ms);
    }
    if (ok != NULL) {
        if (w->error != 0) {
            problem(&pr, "expected credentials, got %s: %s", mqtt5_error_name(w->error),
                    w->detail ? w->detail : "(no detail)");
        } else if (w->creds == NULL) {
            problem(&pr, "done(0) without credentials");
        } else {
            const mqtt5_credentials *cr = w->creds;
            check_str(&pr, "access_key_id", json_str(ok, "access_key_id"), cr->access_key_id);
            check_str(&pr, "secret_access_key", json_str(ok, "secret_access_key"),
                      cr->secret_access_key);
            check_str(&pr, "session_token", json_str(ok, "session_token"), cr->session_token);
            if (json_str(ok, "account_id") != NULL) {
                check_str(&pr, "account_id", json_str(ok, "account_id"), cr->account_id);
            }
            int64_t want_exp = has_expiry ? (int64_t)expiry : MQTT5_CREDENTIALS_NO_EXPIRY;
            if (cr->expiration != want_exp) {
                problem(&pr, "expiration: expected %lld, got %lld", (long long)want_exp,
                        (long long)cr->expiration);
            }
            if (want_provider != NULL) {
                check_str(&pr, "provider", want_provider, cr->provider);
            }
        }
    } else if (w->error == 0) {
        problem(&pr, "expected an error containing \"%s\", got credentials (provider %s)", want_err,
                w->creds && w->creds->provider ? w->creds->provider : "?");
    } else {
        if (w->detail == NULL || strstr(w->detail, want_err) == NULL) {
            problem(&pr, "the detail does not contain \"%s\"", want_err);
        }
        if (want_code != NULL && strcmp(want_code, mqtt5_error_name(w->error)) != 0) {
            problem(&pr, "expected error %s, got %s", want_code, mqtt5_error_name(w->error));
        }
    }

done:
    if (prov != NULL) {
        mqtt5_credentials_provider_release(prov);
    }
    if (group != NULL) {
        gw = waiter_new();
        if (gw != NULL) {
            mqtt5_event_loop_group_release(group, on_group_shutdown, gw);
            if (waiter_wait(gw, 1, 10000) < 1) {
                problem(&pr, "the event-loop group did not shut down in 10 s (a provider "
                             "reference left?)");
                gw = NULL; /* on_shutdown may still come: keep its memory */
            }
        }
    }
    rep = fake_stop(&f, &pr);
    if (rep != NULL) {
        check_report(rep, check_traffic, &pr);
    }
    if (pr.count > 0) {
        printf("    %s FAILED: %d problem(s):%s\n", c->name, pr.count, pr.text);
        if (rep != NULL) {
            printf("    HTTP traffic:\n");
            print_requests(rep);
        }
        printf("    files read: %s\n", sys.reads[0] ? sys.reads : "(none)");
    }
    cJSON_Delete(rep);
    waiter_free(gw);
    if (!leak_waiter) {
        waiter_free(w);
    }
    pthread_mutex_destroy(&sys.mu);
    cJSON_Delete(tc);
    cJSON_Delete(env);
    if (pr.count > 0) {
        g.failed++;
        fail_msg("%s: %d problem(s)", c->test_name, pr.count);
    }
}

int main(void)
{
    const char *lvl = getenv("MQTT5_LOG_LEVEL");
    mqtt5_log_level level;
    if (lvl != NULL && mqtt5_log_level_parse(lvl, &level) == 0) {
        mqtt5_log_to_stderr(level);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* libcurl honours these from the process environment; the fake server must be reached
     * directly */
    static const char *const proxies[] = {"http_proxy",  "HTTP_PROXY", "https_proxy",
                                          "HTTPS_PROXY", "all_proxy",  "ALL_PROXY"};
    for (size_t i = 0; i < sizeof proxies / sizeof proxies[0]; i++) {
        if (getenv(proxies[i]) != NULL) {
            printf("unsetting %s for this test\n", proxies[i]);
            unsetenv(proxies[i]);
        }
    }
    locate();
    printf("vectors: %s\nhand-written cases: %s\nfake server: %s\nnode: %s\n", g.chain_dir,
           g.hand_dir, g.script, g.node[0] ? g.node : "(none)");
    if (scan_cases(g.chain_dir, false) != 0 || scan_cases(g.hand_dir, true) != 0) {
        fprintf(stderr, "set MQTT5_TEST_VECTORS (tests/vectors) or MQTT5_SOURCE_DIR (the source "
                        "tree)\n");
        return 1;
    }
    if (g_ncases == 0) {
        fprintf(stderr, "no cases found\n");
        return 1;
    }
    const char *filter = getenv("FX_TEST_FILTER");
    if (filter != NULL && filter[0] != '\0') {
        cmocka_set_test_filter(filter);
    }
    struct CMUnitTest *tests = calloc(g_ncases, sizeof *tests);
    if (tests == NULL) {
        return 1;
    }
    for (size_t i = 0; i < g_ncases; i++) {
        tests[i].name = g_cases[i].test_name;
        tests[i].test_func = run_case;
        tests[i].initial_state = &g_cases[i];
    }
    int rc =
        _cmocka_run_group_tests("credentials_replay", tests, g_ncases, group_setup, group_teardown);
    free(tests);
    free(g_cases);
    return rc;
}
