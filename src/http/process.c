/*
 * http/process.c - run a command on the event loop (process.h): `/bin/sh -c command` through
 * uv_spawn in its own process group, stdout through a uv_pipe_t, stderr inherited, stdin
 * /dev/null, a timer that kills the whole group (SIGKILL) at the timeout or when the output
 * passes its cap.
 *
 * done runs once the exit status and the end of stdout are both known (or at once on cancel);
 * the process handle is closed only after its exit callback (no zombie), the pipe and the timer
 * after done; the struct is freed in the last close callback. The output (credentials) is wiped
 * before it is freed. Must not: block the loop, log the command line or its output.
 */
#define _POSIX_C_SOURCE 200809L
#include <openssl/crypto.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "http/process.h"
#include "mqtt5/error.h"
#include "runtime/log_internal.h"
#include "runtime/loop.h"

#define DEFAULT_TIMEOUT_MS 60000u
#define DEFAULT_MAX_OUTPUT (64u * 1024u)

struct mqtt5_process {
    mqtt5_allocator alloc;
    uv_process_t proc;
    uv_pipe_t out;
    uv_timer_t timer;
    int open;       /* handles whose close callback has not run */
    bool proc_open; /* proc was initialised by uv_spawn and not yet closed */
    bool spawned;   /* the child runs (or ran) */
    bool exited;    /* exit callback seen (or spawn failed) */
    bool eof;       /* no more reading: end of stdout, read error, or given up */
    bool finished;  /* done was called */
    int error;      /* the failure decided so far, 0 = none */
    int status;     /* exit status or 128 + signal */
    uint32_t timeout_ms;
    char *buf; /* cap + 1 bytes, or NULL */
    size_t len, cap, max;
    char detail[96];
    mqtt5_process_done_fn done;
    void *user;
    char chunk[4096];
};

static void on_closed(uv_handle_t *h)
{
    mqtt5_process *p = h->data;
    if (--p->open > 0) return;
    OPENSSL_cleanse(p->chunk, sizeof p->chunk);
    mqtt5_allocator a = p->alloc;
    a.release(a.ctx, p, sizeof *p);
}

static void buf_free(mqtt5_process *p)
{
    if (p->buf == NULL) return;
    OPENSSL_cleanse(p->buf, p->cap + 1);
    p->alloc.release(p->alloc.ctx, p->buf, p->cap + 1);
    p->buf = NULL;
    p->len = p->cap = 0;
}

static void close_proc(mqtt5_process *p)
{
    if (!p->proc_open) return;
    p->proc_open = false;
    uv_close((uv_handle_t *)&p->proc, on_closed);
}

/* Kill the shell and everything it started (its process group). */
static void kill_group(mqtt5_process *p)
{
    if (!p->spawned || p->exited) return;
    uv_kill(-p->proc.pid, SIGKILL); /* fails harmlessly before the child made its group */
    uv_process_kill(&p->proc, SIGKILL);
}

static void stop_reading(mqtt5_process *p)
{
    if (p->eof) return;
    p->eof = true;
    uv_read_stop((uv_stream_t *)&p->out);
}

static void fail(mqtt5_process *p, int error, const char *detail)
{
    if (p->error) return;
    p->error = error;
    snprintf(p->detail, sizeof p->detail, "%s", detail);
}

/* Call done once; close the pipe and the timer (the process handle once it exited). */
static void finish(mqtt5_process *p)
{
    p->finished = true;
    uv_timer_stop(&p->timer);
    stop_reading(p);
    if (p->error)
        p->done(p->user, p->error, p->spawned && p->exited ? p->status : -1, NULL, 0, p->detail);
    else
        p->done(p->user, 0, p->status, p->buf ? p->buf : "", p->len, NULL);
    buf_free(p);
    uv_close((uv_handle_t *)&p->out, on_closed);
    uv_close((uv_handle_t *)&p->timer, on_closed);
    if (p->exited) close_proc(p);
}

static void check(mqtt5_process *p)
{
    if (!p->finished && p->exited && p->eof) finish(p);
}

static void on_exit_cb(uv_process_t *h, int64_t exit_status, int term_signal)
{
    mqtt5_process *p = h->data;
    p->exited = true;
    p->status = term_signal ? 128 + term_signal : (int)exit_status;
    if (p->finished)
        close_proc(p);
    else
        check(p);
}

static void on_timer(uv_timer_t *t)
{
    mqtt5_process *p = t->data;
    if (p->spawned) {
        char text[64];
        snprintf(text, sizeof text, "process: no exit within %u ms, killed", p->timeout_ms);
        fail(p, MQTT5_ERR_TIMEOUT, text);
        kill_group(p);
        stop_reading(p); /* a grandchild may hold stdout open: do not wait for it */
    }
    check(p);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)hint;
    mqtt5_process *p = h->data;
    *b = uv_buf_init(p->chunk, sizeof p->chunk);
}

static bool append(mqtt5_process *p, const char *data, size_t n)
{
    if (n > p->max - p->len) {
        char text[64];
        snprintf(text, sizeof text, "process: output over %zu bytes, killed", p->max);
        fail(p, MQTT5_ERR_PACKET_TOO_LARGE, text);
        return false;
    }
    if (p->len + n > p->cap) {
        size_t cap = p->cap ? p->cap : 1024;
        while (cap < p->len + n)
            cap *= 2;
        if (cap > p->max) cap = p->max;
        char *grown = p->alloc.allocate(p->alloc.ctx, cap + 1);
        if (grown == NULL) {
            fail(p, MQTT5_ERR_NOMEM, "process: out of memory for the output");
            return false;
        }
        size_t len = p->len;
        if (p->buf) memcpy(grown, p->buf, len);
        buf_free(p);
        p->buf = grown;
        p->cap = cap;
        p->len = len;
    }
    memcpy(p->buf + p->len, data, n);
    p->len += n;
    p->buf[p->len] = '\0';
    return true;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    mqtt5_process *p = s->data;
    if (n > 0) {
        bool ok = p->error == 0 && append(p, b->base, (size_t)n);
        OPENSSL_cleanse(b->base, (size_t)n);
        if (!ok) {
            kill_group(p);
            stop_reading(p);
            check(p);
        }
        return;
    }
    if (n == 0) return;
    if (n != UV_EOF) {
        char text[64];
        snprintf(text, sizeof text, "process: reading stdout: %s", uv_strerror((int)n));
        fail(p, MQTT5_ERR_IO, text);
    }
    stop_reading(p);
    check(p);
}

int mqtt5_process_run(const mqtt5_allocator *alloc, struct mqtt5_loop *loop, const char *command,
                      uint32_t timeout_ms, size_t max_output, mqtt5_process_done_fn done,
                      void *user, mqtt5_process **out)
{
    if (out) *out = NULL;
    if (loop == NULL || command == NULL || command[0] == '\0' || done == NULL) {
        MQTT5_LOG(MQTT5_LOG_ERROR, MQTT5_LOG_HTTP, "process: invalid argument: %s",
                  loop == NULL   ? "loop"
                  : done == NULL ? "done"
                                 : "command");
        return MQTT5_ERR_INVALID_ARGUMENT;
    }
    if (!mqtt5_loop_is_current(loop)) {
        MQTT5_LOG(MQTT5_LOG_ERROR, MQTT5_LOG_HTTP, "process: run off the loop thread");
        return MQTT5_ERR_INVALID_STATE;
    }
    if (alloc == NULL) alloc = mqtt5_allocator_libc();
    mqtt5_process *p = alloc->allocate(alloc->ctx, sizeof *p);
    if (p == NULL) return MQTT5_ERR_NOMEM;
    memset(p, 0, sizeof *p);
    p->alloc = *alloc;
    p->done = done;
    p->user = user;
    p->timeout_ms = timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS;
    p->max = max_output ? max_output : DEFAULT_MAX_OUTPUT;

    uv_timer_init(&loop->uv, &p->timer);
    p->timer.data = p;
    uv_pipe_init(&loop->uv, &p->out, 0);
    p->out.data = p;
    p->open = 2;

    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = (uv_stdio_flags)(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
    stdio[1].data.stream = (uv_stream_t *)&p->out;
    stdio[2].flags = UV_INHERIT_FD;
    stdio[2].data.fd = 2;
    char *args[] = {"/bin/sh", "-c", (char *)command, NULL};
    uv_process_options_t o;
    memset(&o, 0, sizeof o);
    o.file = "/bin/sh";
    o.args = args;
    o.exit_cb = on_exit_cb;
    o.stdio = stdio;
    o.stdio_count = 3;
    o.flags = UV_PROCESS_DETACHED; /* its own process group, so a kill reaches its children */
    p->proc.data = p;
    int rc = uv_spawn(&loop->uv, &p->proc, &o);
    /* initialised either way: the handle is closed in both cases */
    p->proc_open = true;
    p->open++;
    if (rc != 0) {
        char text[64];
        snprintf(text, sizeof text, "process: spawn /bin/sh: %s", uv_strerror(rc));
        fail(p, MQTT5_ERR_IO, text);
        p->exited = p->eof = true;
        uv_timer_start(&p->timer, on_timer, 0, 0); /* done never runs inside run */
    } else {
        p->spawned = true;
        rc = uv_read_start((uv_stream_t *)&p->out, on_alloc, on_read);
        if (rc != 0) {
            char text[64];
            snprintf(text, sizeof text, "process: reading stdout: %s", uv_strerror(rc));
            fail(p, MQTT5_ERR_IO, text);
            p->eof = true;
            kill_group(p); /* done follows its exit */
        }
        uv_timer_start(&p->timer, on_timer, p->timeout_ms, 0);
    }
    if (out) *out = p;
    return 0;
}

void mqtt5_process_cancel(mqtt5_process *p)
{
    if (p == NULL || p->finished) return;
    p->error = MQTT5_ERR_TERMINATED; /* cancel wins over a failure not yet delivered */
    snprintf(p->detail, sizeof p->detail, "process: cancelled");
    kill_group(p);
    finish(p);
}
