/*
 * http/http_curl.c - the asynchronous HTTP client of http_client.h: libcurl's multi_socket
 * interface driven by one libuv loop. CURLMOPT_SOCKETFUNCTION keeps one uv_poll_t per socket,
 * CURLMOPT_TIMERFUNCTION one uv_timer_t; both call curl_multi_socket_action and then read the
 * finished transfers with curl_multi_info_read. A request owns one easy handle (reused for every
 * attempt) and one uv_timer_t for the backoff between attempts.
 *
 * Lifetimes: uv handles are closed with uv_close and their memory released in the close
 * callbacks; the client is freed (and on_destroyed called, through a command on the loop) once
 * no request, no handle and no callback of ours is left. User callbacks never run inside a
 * libcurl callback, and never inside mqtt5_http_client_request.
 *
 * Must not: log or put into a detail header values, bodies, userinfo or query strings (tokens
 * ride in them); block the loop; follow redirects.
 */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "http/http_client.h"
#include "http/http_policy.h"
#include "mqtt5/error.h"
#include "runtime/log_internal.h"
#include "runtime/loop.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 2000u
#define DEFAULT_TIMEOUT_MS 5000u
#define DEFAULT_MAX_ATTEMPTS 3u
#define DEFAULT_MAX_RESPONSE (1024u * 1024u)
#define SHOWN_URL_MAX 256
#define DETAIL_MAX (SHOWN_URL_MAX + CURL_ERROR_SIZE + 64)

#define LOG_SUBJECT MQTT5_LOG_HTTP

typedef struct sock_watch sock_watch;
struct sock_watch {
    uv_poll_t poll;
    mqtt5_http_client *c;
    curl_socket_t fd;
    sock_watch *prev, *next; /* in c->watches until closed */
};

struct mqtt5_http_request {
    mqtt5_http_client *c;
    mqtt5_http_request *prev, *next; /* in c->requests until finished */
    CURL *easy;
    uv_timer_t backoff;
    struct curl_slist *headers;
    uint8_t *body; /* our copy, or NULL */
    size_t body_len;
    char *resp; /* resp_cap + 1 bytes from the allocator, or NULL */
    size_t resp_len, resp_cap, max_response;
    uint32_t max_attempts, attempts;
    bool in_multi, finished, too_large, nomem;
    int sock_error; /* a socket of this attempt could not be watched */
    mqtt5_http_done_fn done;
    void *user;
    char method[8];
    char shown[SHOWN_URL_MAX]; /* the URL as logs and details may show it */
    char errbuf[CURL_ERROR_SIZE];
};

struct mqtt5_http_client {
    mqtt5_allocator alloc;
    mqtt5_loop *loop;
    uint32_t connect_timeout_ms, timeout_ms, max_attempts;
    char *proxy_url, *proxy_ca_file, *ca_file; /* allocator copies, or NULL */
    struct curl_slist *connect_to;
    CURLM *multi; /* created on the loop thread at the first request */
    uv_timer_t timer;
    sock_watch *watches;
    mqtt5_http_request *requests;
    size_t closing; /* uv handles whose close callback has not run yet */
    int depth;      /* our callbacks on the stack that still use the client */
    uint64_t rng;
    bool destroying, free_posted;
    bool sock_errors; /* some request has sock_error set */
    void (*on_destroyed)(void *user);
    void *destroyed_user;
    mqtt5_cmd free_cmd;
};

/* ---- process-wide libcurl setup ------------------------------------------------------------ */

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static CURLcode g_curl_init_rc = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
    g_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- small helpers ------------------------------------------------------------------------- */

static void *mem_alloc(const mqtt5_allocator *a, size_t n)
{
    return a->allocate(a->ctx, n);
}

static void mem_free(const mqtt5_allocator *a, void *p, size_t n)
{
    if (p) a->release(a->ctx, p, n);
}

static char *str_dup(const mqtt5_allocator *a, const char *s)
{
    if (s == NULL) return NULL;
    size_t n = strlen(s) + 1;
    char *p = mem_alloc(a, n);
    if (p) memcpy(p, s, n);
    return p;
}

static void str_wipe_free(const mqtt5_allocator *a, char *s)
{
    if (s == NULL) return;
    size_t n = strlen(s) + 1;
    OPENSSL_cleanse(s, n);
    mem_free(a, s, n);
}

/* curl_slist copies header lines (tokens among them): wipe them before they are freed. */
static void slist_wipe_free(struct curl_slist *l)
{
    for (struct curl_slist *i = l; i; i = i->next)
        if (i->data) OPENSSL_cleanse(i->data, strlen(i->data));
    curl_slist_free_all(l);
}

static uint64_t next_random(mqtt5_http_client *c)
{
    /* splitmix64: jitter only, nothing secret depends on it */
    uint64_t z = (c->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int invalid(const char *field)
{
    MQTT5_LOG(MQTT5_LOG_ERROR, LOG_SUBJECT, "http: invalid argument: %s", field);
    return MQTT5_ERR_INVALID_ARGUMENT;
}

/* ---- client lifetime ----------------------------------------------------------------------- */

static void run_free(mqtt5_cmd *cmd)
{
    mqtt5_http_client *c =
        (mqtt5_http_client *)((char *)cmd - offsetof(mqtt5_http_client, free_cmd));
    void (*cb)(void *) = c->on_destroyed;
    void *user = c->destroyed_user;
    mqtt5_allocator a = c->alloc;
    str_wipe_free(&a, c->proxy_url);
    str_wipe_free(&a, c->proxy_ca_file);
    str_wipe_free(&a, c->ca_file);
    curl_slist_free_all(c->connect_to);
    mem_free(&a, c, sizeof *c);
    if (cb) cb(user);
}

/* Once destroy was asked and nothing of ours is left, free the client from a fresh command, so
 * on_destroyed never runs inside destroy or inside one of our callbacks. */
static void maybe_free(mqtt5_http_client *c)
{
    if (!c->destroying || c->free_posted || c->closing || c->depth || c->requests) return;
    c->free_posted = true;
    c->free_cmd.run = run_free;
    mqtt5_loop_post(c->loop, &c->free_cmd);
}

static void on_handle_closed_common(mqtt5_http_client *c)
{
    c->closing--;
    maybe_free(c);
}

/* ---- socket and timer callbacks of the multi handle ---------------------------------------- */

static void on_watch_closed(uv_handle_t *h)
{
    sock_watch *w = h->data;
    mqtt5_http_client *c = w->c;
    mem_free(&c->alloc, w, sizeof *w);
    on_handle_closed_common(c);
}

static void watch_close(mqtt5_http_client *c, sock_watch *w)
{
    uv_poll_stop(&w->poll);
    if (w->prev)
        w->prev->next = w->next;
    else
        c->watches = w->next;
    if (w->next) w->next->prev = w->prev;
    c->closing++;
    uv_close((uv_handle_t *)&w->poll, on_watch_closed);
}

static void read_finished(mqtt5_http_client *c);
static void fail_unwatched(mqtt5_http_client *c);

/* Hand an event to libcurl, then complete what finished. */
static void drive(mqtt5_http_client *c, curl_socket_t fd, int flags)
{
    if (c->multi == NULL) return;
    c->depth++;
    int running = 0;
    CURLMcode mc = curl_multi_socket_action(c->multi, fd, flags, &running);
    if (mc != CURLM_OK)
        MQTT5_LOG(MQTT5_LOG_ERROR, LOG_SUBJECT, "http: curl_multi_socket_action: %s",
                  curl_multi_strerror(mc));
    read_finished(c);
    fail_unwatched(c);
    c->depth--;
    maybe_free(c);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    sock_watch *w = h->data;
    int flags = 0;
    if (status < 0) {
        flags = CURL_CSELECT_ERR;
    } else {
        if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    }
    drive(w->c, w->fd, flags);
}

/* A socket could not be watched. Returning -1 would make libcurl mark the whole multi handle
 * dead (every transfer stuck): instead the transfer is failed once libcurl has returned. */
static int socket_failed(mqtt5_http_client *c, CURL *easy, int error)
{
    char *priv = NULL;
    if (easy) curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
    if (priv) {
        ((mqtt5_http_request *)priv)->sock_error = error;
        c->sock_errors = true;
    }
    return 0;
}

static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    mqtt5_http_client *c = userp;
    sock_watch *w = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (w) {
            curl_multi_assign(c->multi, s, NULL);
            watch_close(c, w);
        }
        return 0;
    }
    if (w == NULL) {
        w = mem_alloc(&c->alloc, sizeof *w);
        if (w == NULL) return socket_failed(c, easy, MQTT5_ERR_NOMEM);
        memset(w, 0, sizeof *w);
        int rc = uv_poll_init_socket(&c->loop->uv, &w->poll, s);
        if (rc != 0) {
            MQTT5_LOG(MQTT5_LOG_ERROR, LOG_SUBJECT, "http: uv_poll_init_socket: %s",
                      uv_strerror(rc));
            mem_free(&c->alloc, w, sizeof *w);
            return socket_failed(c, easy, MQTT5_ERR_IO);
        }
        w->poll.data = w;
        w->c = c;
        w->fd = s;
        w->next = c->watches;
        if (c->watches) c->watches->prev = w;
        c->watches = w;
        curl_multi_assign(c->multi, s, w);
    }
    int events = 0;
    if (what & CURL_POLL_IN) events |= UV_READABLE;
    if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
    if (events)
        uv_poll_start(&w->poll, events, on_poll);
    else
        uv_poll_stop(&w->poll);
    return 0;
}

static void on_multi_timer(uv_timer_t *t)
{
    drive(t->data, CURL_SOCKET_TIMEOUT, 0);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    mqtt5_http_client *c = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&c->timer);
    else /* 0 too goes through the loop: libcurl must not be re-entered from here */
        uv_timer_start(&c->timer, on_multi_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

static int multi_setup(mqtt5_http_client *c)
{
    if (c->multi) return 0;
    c->multi = curl_multi_init();
    if (c->multi == NULL) return MQTT5_ERR_NOMEM;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    uv_timer_init(&c->loop->uv, &c->timer);
    c->timer.data = c;
    return 0;
}

static void on_multi_timer_closed(uv_handle_t *h)
{
    on_handle_closed_common(h->data);
}

/* Stop and close every handle of the multi handle, then clean it up. Requests are gone. */
static void multi_teardown(mqtt5_http_client *c)
{
    if (c->multi == NULL) return;
    while (c->watches)
        watch_close(c, c->watches);
    uv_timer_stop(&c->timer);
    c->closing++;
    uv_close((uv_handle_t *)&c->timer, on_multi_timer_closed);
    /* the polls are closed already: libcurl closing its cached connections must not call us */
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, NULL);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, NULL);
    curl_multi_cleanup(c->multi);
    c->multi = NULL;
}

/* ---- requests ------------------------------------------------------------------------------ */

static void on_request_closed(uv_handle_t *h)
{
    mqtt5_http_request *r = h->data;
    mqtt5_http_client *c = r->c;
    mem_free(&c->alloc, r, sizeof *r);
    on_handle_closed_common(c);
}

static void resp_free(mqtt5_http_request *r)
{
    if (r->resp == NULL) return;
    OPENSSL_cleanse(r->resp, r->resp_cap + 1);
    mem_free(&r->c->alloc, r->resp, r->resp_cap + 1);
    r->resp = NULL;
    r->resp_len = r->resp_cap = 0;
}

/* Free what a request holds; its memory goes in the backoff timer's close callback. */
static void request_release(mqtt5_http_request *r)
{
    mqtt5_http_client *c = r->c;
    if (r->easy) curl_easy_cleanup(r->easy);
    r->easy = NULL;
    slist_wipe_free(r->headers);
    r->headers = NULL;
    if (r->body) {
        OPENSSL_cleanse(r->body, r->body_len);
        mem_free(&c->alloc, r->body, r->body_len);
        r->body = NULL;
    }
    resp_free(r);
    c->closing++;
    uv_close((uv_handle_t *)&r->backoff, on_request_closed);
}

static void unlink_request(mqtt5_http_request *r)
{
    mqtt5_http_client *c = r->c;
    if (r->prev)
        r->prev->next = r->next;
    else if (c->requests == r)
        c->requests = r->next;
    if (r->next) r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

/* Deliver the request's one result and release it. */
static void finish(mqtt5_http_request *r, int error, long status, const char *text)
{
    if (r->finished) return;
    mqtt5_http_client *c = r->c;
    r->finished = true;
    unlink_request(r);
    if (r->in_multi) curl_multi_remove_handle(c->multi, r->easy);
    r->in_multi = false;
    uv_timer_stop(&r->backoff);

    mqtt5_http_response resp;
    memset(&resp, 0, sizeof resp);
    resp.attempts = r->attempts;
    resp.body = "";
    char detail[DETAIL_MAX];
    if (error == 0) {
        resp.status = (int)status;
        if (r->resp) {
            r->resp[r->resp_len] = '\0';
            resp.body = r->resp;
            resp.body_len = r->resp_len;
        }
        char *ct = NULL;
        if (curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
            resp.content_type = ct;
        snprintf(detail, sizeof detail, "%s %s: HTTP %ld", r->method, r->shown, status);
    } else {
        snprintf(detail, sizeof detail, "%s %s: %s", r->method, r->shown, text);
    }
    MQTT5_LOG(MQTT5_LOG_DEBUG, LOG_SUBJECT, "http: %s (%s, %u attempt(s))", detail,
              error ? mqtt5_error_name(error) : "done", r->attempts);
    r->done(r->user, error, &resp, detail);
    request_release(r);
}

/* The text of libcurl's error buffer for a detail: never a query string (cut at '?'), one
 * line. */
static const char *curl_text(mqtt5_http_request *r, CURLcode rc)
{
    if (r->errbuf[0] == '\0') return curl_easy_strerror(rc);
    r->errbuf[strcspn(r->errbuf, "?\r\n")] = '\0';
    return r->errbuf;
}

static int start_attempt(mqtt5_http_request *r)
{
    mqtt5_http_client *c = r->c;
    if (r->resp) OPENSSL_cleanse(r->resp, r->resp_len);
    r->resp_len = 0;
    r->too_large = r->nomem = false;
    r->sock_error = 0;
    r->errbuf[0] = '\0';
    CURLMcode mc = curl_multi_add_handle(c->multi, r->easy);
    if (mc != CURLM_OK) {
        MQTT5_LOG(MQTT5_LOG_ERROR, LOG_SUBJECT, "http: curl_multi_add_handle: %s",
                  curl_multi_strerror(mc));
        return mc == CURLM_OUT_OF_MEMORY ? MQTT5_ERR_NOMEM : MQTT5_ERR_IO;
    }
    r->in_multi = true;
    r->attempts++;
    MQTT5_LOG(MQTT5_LOG_DEBUG, LOG_SUBJECT, "http: %s %s (attempt %u of %u)", r->method, r->shown,
              r->attempts, r->max_attempts);
    return 0;
}

static void on_backoff(uv_timer_t *t)
{
    mqtt5_http_request *r = t->data;
    mqtt5_http_client *c = r->c;
    c->depth++;
    int rc = start_attempt(r);
    if (rc != 0) finish(r, rc, 0, "could not start the next attempt");
    c->depth--;
    maybe_free(c);
}

/* One attempt ended with libcurl's result `rc`: retry, or deliver. */
static void attempt_done(mqtt5_http_request *r, CURLcode rc)
{
    mqtt5_http_client *c = r->c;
    curl_multi_remove_handle(c->multi, r->easy);
    r->in_multi = false;
    long status = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    if (r->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        char text[64];
        snprintf(text, sizeof text, "response body over %zu bytes", r->max_response);
        finish(r, MQTT5_ERR_PACKET_TOO_LARGE, 0, text);
        return;
    }
    if (r->nomem) {
        finish(r, MQTT5_ERR_NOMEM, 0, "out of memory for the response body");
        return;
    }
    bool retry =
        rc == CURLE_OK ? mqtt5_http_status_retryable(status) : mqtt5_http_curl_retryable(rc);
    if (retry && r->attempts < r->max_attempts) {
        uint32_t wait = mqtt5_http_backoff_ms(r->attempts, next_random(c));
        if (rc == CURLE_OK)
            MQTT5_LOG(MQTT5_LOG_DEBUG, LOG_SUBJECT, "http: %s %s: HTTP %ld, retry in %u ms",
                      r->method, r->shown, status, wait);
        else
            MQTT5_LOG(MQTT5_LOG_DEBUG, LOG_SUBJECT, "http: %s %s: %s, retry in %u ms", r->method,
                      r->shown, curl_easy_strerror(rc), wait);
        uv_timer_start(&r->backoff, on_backoff, wait, 0);
        return;
    }
    if (rc != CURLE_OK) {
        finish(r, mqtt5_http_curl_error(rc), 0, curl_text(r, rc));
        return;
    }
    finish(r, 0, status, NULL);
}

static void read_finished(mqtt5_http_client *c)
{
    CURLMsg *m;
    int left = 0;
    /* a done callback may destroy the client: stop reading then (everything was cancelled) */
    while (c->multi && !c->destroying && (m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        CURLcode rc = m->data.result;
        char *priv = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
        if (priv) attempt_done((mqtt5_http_request *)priv, rc);
    }
}

/* Fail the requests whose socket could not be watched (see socket_failed). */
static void fail_unwatched(mqtt5_http_client *c)
{
    while (c->sock_errors && !c->destroying) {
        mqtt5_http_request *r = c->requests;
        while (r && !(r->sock_error && r->in_multi))
            r = r->next;
        if (r == NULL) {
            c->sock_errors = false;
            break;
        }
        int error = r->sock_error;
        r->sock_error = 0;
        finish(r, error, 0, "could not watch a socket");
    }
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    mqtt5_http_request *r = userp;
    size_t n = size * nmemb;
    if (n > r->max_response - r->resp_len) {
        r->too_large = true;
        return 0; /* anything but n fails the transfer */
    }
    if (r->resp_len + n > r->resp_cap) {
        size_t cap = r->resp_cap ? r->resp_cap : 1024;
        while (cap < r->resp_len + n)
            cap *= 2;
        if (cap > r->max_response) cap = r->max_response;
        char *grown = mem_alloc(&r->c->alloc, cap + 1);
        if (grown == NULL) {
            r->nomem = true;
            return 0;
        }
        if (r->resp) {
            memcpy(grown, r->resp, r->resp_len);
            size_t len = r->resp_len;
            resp_free(r);
            r->resp_len = len;
        }
        r->resp = grown;
        r->resp_cap = cap;
    }
    memcpy(r->resp + r->resp_len, data, n);
    r->resp_len += n;
    return n;
}

/* ---- public API ---------------------------------------------------------------------------- */

int mqtt5_http_client_new(const mqtt5_allocator *alloc, struct mqtt5_loop *loop,
                          const mqtt5_credentials_http_options *opts, mqtt5_http_client **out)
{
    if (out == NULL) return invalid("out");
    *out = NULL;
    if (loop == NULL) return invalid("loop");
    pthread_once(&g_curl_once, curl_init_once);
    if (g_curl_init_rc != CURLE_OK) {
        MQTT5_LOG(MQTT5_LOG_ERROR, LOG_SUBJECT, "http: curl_global_init: %s",
                  curl_easy_strerror(g_curl_init_rc));
        return MQTT5_ERR_IO;
    }
    if (opts && opts->connect_to_count && opts->connect_to == NULL) return invalid("connect_to");
    if (alloc == NULL) alloc = mqtt5_allocator_libc();
    mqtt5_http_client *c = mem_alloc(alloc, sizeof *c);
    if (c == NULL) return MQTT5_ERR_NOMEM;
    memset(c, 0, sizeof *c);
    c->alloc = *alloc;
    c->loop = loop;
    c->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
    c->timeout_ms = DEFAULT_TIMEOUT_MS;
    c->max_attempts = DEFAULT_MAX_ATTEMPTS;
    c->rng = uv_hrtime() ^ (uint64_t)(uintptr_t)c;
    int rc = 0;
    if (opts) {
        if (opts->connect_timeout_ms) c->connect_timeout_ms = opts->connect_timeout_ms;
        if (opts->timeout_ms) c->timeout_ms = opts->timeout_ms;
        if (opts->max_attempts) c->max_attempts = opts->max_attempts;
        if ((opts->proxy_url && !(c->proxy_url = str_dup(alloc, opts->proxy_url))) ||
            (opts->proxy_ca_file && !(c->proxy_ca_file = str_dup(alloc, opts->proxy_ca_file))) ||
            (opts->ca_file && !(c->ca_file = str_dup(alloc, opts->ca_file))))
            rc = MQTT5_ERR_NOMEM;
        for (size_t i = 0; rc == 0 && i < opts->connect_to_count; i++) {
            const char *m = opts->connect_to[i];
            if (m == NULL || strchr(m, ':') == NULL) {
                rc = invalid("connect_to");
                break;
            }
            struct curl_slist *l = curl_slist_append(c->connect_to, m);
            if (l == NULL)
                rc = MQTT5_ERR_NOMEM;
            else
                c->connect_to = l;
        }
    }
    if (rc != 0) {
        str_wipe_free(alloc, c->proxy_url);
        str_wipe_free(alloc, c->proxy_ca_file);
        str_wipe_free(alloc, c->ca_file);
        curl_slist_free_all(c->connect_to);
        mem_free(alloc, c, sizeof *c);
        return rc;
    }
    *out = c;
    return 0;
}

static bool has_header(const mqtt5_http_request_desc *d, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < d->header_count; i++)
        if (strncasecmp(d->headers[i], name, n) == 0 && d->headers[i][n] == ':') return true;
    return false;
}

static int check_desc(const mqtt5_http_request_desc *d)
{
    if (d->method == NULL ||
        (strcmp(d->method, "GET") && strcmp(d->method, "PUT") && strcmp(d->method, "POST")))
        return invalid("method");
    if (d->url == NULL ||
        (strncasecmp(d->url, "http://", 7) && strncasecmp(d->url, "https://", 8)) ||
        strpbrk(d->url, " \r\n"))
        return invalid("url");
    if (d->header_count && d->headers == NULL) return invalid("headers");
    for (size_t i = 0; i < d->header_count; i++) {
        const char *h = d->headers[i];
        /* "Name: value" on one line: no header injection through a value */
        if (h == NULL || strchr(h, ':') == NULL || h[0] == ':' || strpbrk(h, "\r\n"))
            return invalid("headers");
    }
    if (d->body == NULL && d->body_len) return invalid("body");
    if (d->body_len && strcmp(d->method, "GET") == 0) return invalid("body");
    return 0;
}

static int setup_easy(mqtt5_http_client *c, mqtt5_http_request *r, const mqtt5_http_request_desc *d)
{
    CURL *e = r->easy;
    for (size_t i = 0; i < d->header_count; i++) {
        struct curl_slist *l = curl_slist_append(r->headers, d->headers[i]);
        if (l == NULL) return MQTT5_ERR_NOMEM;
        r->headers = l;
    }
    bool is_get = strcmp(r->method, "GET") == 0;
    /* no "Expect: 100-continue" round trip; no form content type on an empty body */
    const char *extra[2] = {NULL, NULL};
    if (!is_get && !has_header(d, "Expect")) extra[0] = "Expect:";
    if (!is_get && r->body_len == 0 && !has_header(d, "Content-Type")) extra[1] = "Content-Type:";
    for (size_t i = 0; i < 2; i++) {
        if (extra[i] == NULL) continue;
        struct curl_slist *l = curl_slist_append(r->headers, extra[i]);
        if (l == NULL) return MQTT5_ERR_NOMEM;
        r->headers = l;
    }
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val);                                    \
    } while (0)
    SET(CURLOPT_URL, d->url);
    SET(CURLOPT_PRIVATE, (void *)r);
    SET(CURLOPT_ERRORBUFFER, r->errbuf);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, (long)(d->timeout_ms ? d->timeout_ms : c->timeout_ms));
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, (void *)r);
    /* a Content-Length over the cap fails before any byte of the body arrives */
    if (r->max_response < (size_t)INT64_MAX)
        SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->max_response);
    if (r->headers) SET(CURLOPT_HTTPHEADER, r->headers);
    /* "" = no proxy, whatever http_proxy/https_proxy say in the environment */
    SET(CURLOPT_PROXY, c->proxy_url ? c->proxy_url : "");
    if (c->proxy_url) SET(CURLOPT_NOPROXY, ""); /* and NO_PROXY does not bypass ours */
    if (c->proxy_ca_file) SET(CURLOPT_PROXY_CAINFO, c->proxy_ca_file);
    if (c->ca_file) SET(CURLOPT_CAINFO, c->ca_file);
    if (c->connect_to) SET(CURLOPT_CONNECT_TO, c->connect_to);
    if (is_get) {
        SET(CURLOPT_HTTPGET, 1L);
    } else {
        /* PUT and POST send a body; an empty one still as "Content-Length: 0" */
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        SET(CURLOPT_POSTFIELDS, r->body ? (const char *)r->body : "");
        if (strcmp(r->method, "PUT") == 0) SET(CURLOPT_CUSTOMREQUEST, "PUT");
    }
#undef SET
    if (rc != CURLE_OK) {
        MQTT5_LOG(MQTT5_LOG_ERROR, LOG_SUBJECT, "http: curl_easy_setopt: %s",
                  curl_easy_strerror(rc));
        return rc == CURLE_OUT_OF_MEMORY ? MQTT5_ERR_NOMEM : MQTT5_ERR_IO;
    }
    return 0;
}

int mqtt5_http_client_request(mqtt5_http_client *c, const mqtt5_http_request_desc *d,
                              mqtt5_http_done_fn done, void *user, mqtt5_http_request **out)
{
    if (out) *out = NULL;
    if (c == NULL) return invalid("client");
    if (d == NULL) return invalid("desc");
    if (done == NULL) return invalid("done");
    if (!mqtt5_loop_is_current(c->loop)) {
        MQTT5_LOG(MQTT5_LOG_ERROR, LOG_SUBJECT, "http: request made off the loop thread");
        return MQTT5_ERR_INVALID_STATE;
    }
    if (c->destroying) return MQTT5_ERR_TERMINATED;
    int rc = check_desc(d);
    if (rc != 0) return rc;
    rc = multi_setup(c);
    if (rc != 0) return rc;

    mqtt5_http_request *r = mem_alloc(&c->alloc, sizeof *r);
    if (r == NULL) return MQTT5_ERR_NOMEM;
    memset(r, 0, sizeof *r);
    r->c = c;
    r->done = done;
    r->user = user;
    snprintf(r->method, sizeof r->method, "%s", d->method);
    mqtt5_http_url_redact(d->url, r->shown, sizeof r->shown);
    r->max_attempts = d->max_attempts ? d->max_attempts : c->max_attempts;
    r->max_response = d->max_response ? d->max_response : DEFAULT_MAX_RESPONSE;
    r->body_len = d->body_len;
    if (d->body_len) {
        r->body = mem_alloc(&c->alloc, d->body_len);
        if (r->body) memcpy(r->body, d->body, d->body_len);
    }
    r->easy = curl_easy_init();
    rc = (r->easy == NULL || (d->body_len && r->body == NULL)) ? MQTT5_ERR_NOMEM
                                                               : setup_easy(c, r, d);
    /* the backoff timer exists from here on: the request is freed in its close callback */
    uv_timer_init(&c->loop->uv, &r->backoff);
    r->backoff.data = r;
    if (rc == 0) rc = start_attempt(r);
    if (rc != 0) {
        r->finished = true;
        request_release(r);
        return rc;
    }
    r->next = c->requests;
    if (c->requests) c->requests->prev = r;
    c->requests = r;
    if (out) *out = r;
    return 0;
}

void mqtt5_http_request_cancel(mqtt5_http_request *r)
{
    if (r == NULL || r->finished) return;
    mqtt5_http_client *c = r->c;
    c->depth++;
    finish(r, MQTT5_ERR_TERMINATED, 0, "cancelled");
    c->depth--;
    maybe_free(c);
}

void mqtt5_http_client_destroy(mqtt5_http_client *c, void (*on_destroyed)(void *user), void *user)
{
    if (c == NULL || c->destroying) return;
    c->destroying = true;
    c->on_destroyed = on_destroyed;
    c->destroyed_user = user;
    c->depth++;
    while (c->requests)
        finish(c->requests, MQTT5_ERR_TERMINATED, 0, "client destroyed");
    multi_teardown(c);
    c->depth--;
    maybe_free(c);
}
