/*
 * runtime/client.c - the thread-safe client (mqtt5/client.h): a client core pinned to one loop
 * of an event-loop group, driven by commands from any thread and by its transport chain.
 *
 * Caller threads validate and copy: a packet is encoded into the command (the codec both checks
 * it and gives one flat copy), the loop decodes it in place and hands the view to the core: a
 * PUBLISH together with its bytes, which the core sends as they are (publish_encoded: the
 * command lives until the completion), SUBSCRIBE/UNSUBSCRIBE to be copied. Write batches are
 * encoded into the loop's one shared buffer (mem_send_buf), so an idle client holds none. The loop
 * thread owns everything else: the core, the timer, the filter chain (tcp [-> proxy] [-> tls] [->
 * ws] -> sink). The pump (pump()) is the only place that asks the core what it wants and does it:
 * open or close the transport, write batches while the transport is below its high-water mark, arm
 * one timer for the core's wake time and the connect budget (which covers the proxy handshake too).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt5/client.h"
#include "mqtt5/error.h"
#include "common/wipe.h"
#include "core/encode.h"
#include "runtime/client_private.h"
#include "runtime/client_proxy.h"
#include "runtime/cmd_block.h"
#include "runtime/log_internal.h"
#include "runtime/loop.h"
#include "runtime/loop_call.h"
#include "transports/tcp.h"
#include "transports/tls_filter.h"
#include "transports/ws.h"

#define HIGH_WATER 65536u
#define RELEASE_LINGER_MS 2000u

typedef enum conn_state { CONN_IDLE, CONN_CONNECTING, CONN_OPEN, CONN_CLOSING } conn_state;

typedef enum cmd_kind {
    CMD_ATTACH,
    CMD_START,
    CMD_STOP,
    CMD_PUBLISH,
    CMD_SUBSCRIBE,
    CMD_UNSUBSCRIBE,
    CMD_SEND_ACK,
    CMD_AUTH,
    CMD_RELEASE,
} cmd_kind;

/* Chosen by the last TLS handshake, for mqtt5_client_alpn/tls_version (TLS clients only). */
typedef struct mqtt5_client_tls_info {
    char alpn[64], tls_version[16];
} mqtt5_client_tls_info;

typedef struct client_cmd {
    mqtt5_cmd base;
    mqtt5_client *client;
    cmd_kind kind;
    bool block;  /* a recycled MQTT5_CMD_BLOCK block (runtime/cmd_block.c), not from alloc */
    size_t size; /* of this allocation */
    union {
        mqtt5_completion_fn done;
        void (*on_terminated)(void *user); /* CMD_RELEASE */
    };
    void *user;
    mqtt5_op_options opt;
    uint64_t ack_handle;
    uint8_t reason;
    size_t len; /* encoded packet bytes that follow */
    uint8_t bytes[];
} client_cmd;

/* WebSocket clients only: the request template (Host first) and the filter's options. */
typedef struct mqtt5_client_ws {
    mqtt5_ws_request *req;
    size_t max_frame;
    mqtt5_ws_transform_fn transform;
    void *transform_user;
} mqtt5_client_ws;

/* Grouped by size so that no padding is left: every connected client carries one. */
/* What only some clients have: a TLS, WebSocket, proxy or enhanced-auth client, or one with an
 * allocator of its own. Right behind the struct in the client's one allocation when any is
 * needed; a plain TCP client on the default allocator points at no_extras (all NULL, never
 * written) and carries none of it. */
typedef struct client_extras {
    mqtt5_allocator alloc; /* the options' allocator (a copy: theirs may be gone) */
    mqtt5_tls_ctx *tls;
    mqtt5_client_tls_info *tls_info; /* TLS clients only: what the last handshake chose */
    mqtt5_client_proxy *proxy;       /* NULL: connect to the broker directly */
    mqtt5_client_ws *ws;             /* NULL: MQTT right over TCP/TLS */
    mqtt5_auth_fn on_auth;
} client_extras;

struct mqtt5_client {
    mqtt5_loop *loop; /* loop->group: the group the client holds a reference on */
    client_extras *x; /* behind the struct, or no_extras */
    void *user;
    mqtt5_lifecycle_fn on_lifecycle;
    mqtt5_publish_fn on_publish;
    size_t max_bytes;            /* 0 = no limit */
    _Atomic size_t queued_bytes; /* encoded sizes, from the call to the completion */
    uint32_t max_ops;
    _Atomic uint32_t queued_ops;   /* from the call to the completion */
    _Atomic uint32_t pending_cmds; /* posted, not yet run */
    /* mqtt5_client_wait_for_room: callers blocked until an operation completes, on the loop's
     * room_mu/room_cv (shared by the loop's clients: an idle client carries no lock) */
    _Atomic int room_waiters;
    mqtt5_socket_options sock;
    uint32_t batch_cap; /* bytes of the loop's write buffer one batch may use */
    uint16_t port;
    _Atomic bool released;

    /* loop thread only */
    bool pump_deferred : 1, attached : 1, timer_done : 1, in_pump : 1, repump : 1;
    bool closed_event : 1, terminating : 1, finishing : 1;
    bool in_closed_event : 1; /* during on_transport_closed: lifecycle events get closed_detail */
    bool own_detail : 1;      /* closed_detail is ours (connect timeout): the transport's loses */
    bool has_priv : 1;        /* private options (builders) behind the extras, see client_priv */
    bool core_live : 1;       /* the core (client_core) exists: made and not yet destroyed */
    unsigned conn : 2;        /* conn_state */
    uint8_t host_len;         /* strlen of the host name, the last bytes of the allocation */
    int16_t closed_err;       /* an MQTT5_ERR_* or libuv error code */
    uint32_t size;            /* of the client's one allocation */
    mqtt5_cmd pump_item;      /* deferred to the end of a command round */
    mqtt5_loop_timer timer;   /* on the loop's shared timer heap (runtime/loop_timer.c) */
    mqtt5_filter sink;
    mqtt5_filter *bottom; /* the chain's: bottom (TCP) up to sink.lower, its top */
    /* CONN_CONNECTING: the connect timeout; terminating and CONN_CLOSING: the end of the wait
     * for a graceful close (a release while connecting closes the chain at once) */
    uint64_t deadline;
    char *closed_detail;     /* allocated when a transport closes with a detail, else NULL */
    client_cmd *release_cmd; /* after the release ran: on_terminated and its user */
    /* then the extras, the private options (builders) and the host name, when there */
};

static void pump(mqtt5_client *c);

/* ---- helpers --------------------------------------------------------------------------------- */

static client_extras no_extras; /* read only: every field NULL */

/* The options' allocator (kept in the extras), or libc's. */
static const mqtt5_allocator *c_allocator(const mqtt5_client *c)
{
    return c->x != &no_extras ? &c->x->alloc : mqtt5_allocator_libc();
}

static void *c_alloc(const mqtt5_client *c, size_t n)
{
    const mqtt5_allocator *a = c_allocator(c);
    return a->allocate(a->ctx, n);
}

static void c_free(const mqtt5_client *c, void *p, size_t n)
{
    const mqtt5_allocator *a = c_allocator(c);
    if (p) a->release(a->ctx, p, n);
}

/* A client is one allocation: the struct, then the extras when needed, then the private
 * options when given (builders), then its core (mqtt5_client_core_new_in), then the host name.
 * Every part before the core is a multiple of 8 bytes. */
static const mqtt5_client_private_options no_priv;

/* The private options given at construction (builders), or no_priv (all zero). */
static const mqtt5_client_private_options *client_priv(const mqtt5_client *c)
{
    if (!c->has_priv) return &no_priv;
    const char *p = (const char *)(c + 1);
    if (c->x != &no_extras) p += sizeof(client_extras);
    return (const mqtt5_client_private_options *)(const void *)p;
}

_Static_assert(sizeof(mqtt5_client) % 8 == 0 && sizeof(client_extras) % 8 == 0 &&
                   sizeof(mqtt5_client_private_options) % 8 == 0,
               "the core behind them must be 8-byte aligned");

/* The core, right behind the struct, the extras and the private options; NULL before it is
 * made and once destroyed. */
static mqtt5_client_core *client_core(const mqtt5_client *c)
{
    if (!c->core_live) return NULL;
    char *p = (char *)(uintptr_t)(c + 1);
    if (c->x != &no_extras) p += sizeof(client_extras);
    if (c->has_priv) p += sizeof(mqtt5_client_private_options);
    return (mqtt5_client_core *)(void *)p;
}

static const char *client_host(const mqtt5_client *c)
{
    return (const char *)c + c->size - c->host_len - 1u;
}

/* A copy of `s` from the client's allocator; NULL for an empty string or when memory is short
 * (a detail explains an event, it is never worth failing one for). */
static char *detail_dup(const mqtt5_client *c, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    char *d = n ? c_alloc(c, n + 1) : NULL;
    if (d) memcpy(d, s, n + 1);
    return d;
}

static void detail_free(const mqtt5_client *c, char **slot)
{
    if (*slot) c_free(c, *slot, strlen(*slot) + 1);
    *slot = NULL;
}

static void cmd_free(client_cmd *cmd)
{
    mqtt5_client *c = cmd->client;
    if (cmd->block && mqtt5_loop_is_current(c->loop))
        mqtt5_cmd_block_put(c->loop, cmd); /* goes round to the callers (cmd_block.c) */
    else if (cmd->block)
        free(cmd);
    else
        c_free(c, cmd, cmd->size);
}

/* An operation left the queue: wake callers of mqtt5_client_wait_for_room, if any (the usual
 * case, none, costs one atomic load). */
static bool below_low_water(mqtt5_client *c);

static void wake_room_waiters(mqtt5_client *c)
{
    if (atomic_load(&c->room_waiters) == 0 || !below_low_water(c)) return;
    uv_mutex_lock(&c->loop->room_mu);
    uv_cond_broadcast(&c->loop->room_cv);
    uv_mutex_unlock(&c->loop->room_mu);
}

static void complete_now(mqtt5_client *c, client_cmd *cmd, mqtt5_packet_type type, int error)
{
    if (cmd->done) {
        mqtt5_op_completion done = {0, cmd->opt.user_ctx, type, error, NULL};
        cmd->done(cmd->user, &done);
    }
    atomic_fetch_sub(&c->queued_ops, 1);
    atomic_fetch_sub(&c->queued_bytes, cmd->len);
    cmd_free(cmd);
    wake_room_waiters(c);
}

static uint64_t now_ms(const mqtt5_client *c)
{
    return uv_now(&c->loop->uv);
}

/* ---- core callbacks (loop thread, inside core calls) ------------------------------------------
 */

static void core_on_lifecycle(void *user, const mqtt5_lifecycle_event *ev)
{
    mqtt5_client *c = user;
    const char *detail =
        (ev->type == MQTT5_LC_CONNECTION_FAILURE || ev->type == MQTT5_LC_DISCONNECTION)
            ? (c->in_closed_event ? c->closed_detail : NULL)
            : NULL;
    char sent[96];
    if (!detail && ev->sent_reason_code) {
        snprintf(sent, sizeof sent, "the client sent DISCONNECT 0x%02x (%s)", ev->sent_reason_code,
                 mqtt5_reason_code_name(ev->sent_reason_code));
        detail = sent;
    }
    if (ev->type == MQTT5_LC_CONNECTION_FAILURE || ev->type == MQTT5_LC_DISCONNECTION)
        MQTT5_LOG(MQTT5_LOG_INFO, MQTT5_LOG_CLIENT, "%s %s:%u: %s%s%s",
                  mqtt5_lifecycle_type_name(ev->type), client_host(c), c->port,
                  mqtt5_error_name(ev->error), detail ? ": " : "", detail ? detail : "");
    else
        MQTT5_LOG(MQTT5_LOG_INFO, MQTT5_LOG_CLIENT, "%s %s:%u", mqtt5_lifecycle_type_name(ev->type),
                  client_host(c), c->port);
    if (c->on_lifecycle) c->on_lifecycle(c->user, ev, detail);
}

static void core_on_publish(void *user, const mqtt5_inbound_publish *msg)
{
    mqtt5_client *c = user;
    if (c->on_publish) c->on_publish(c->user, msg);
}

static void core_on_auth(void *user, const mqtt5_disconnect *auth)
{
    mqtt5_client *c = user;
    if (c->x->on_auth) c->x->on_auth(c->user, auth);
}

static void core_on_complete(void *user, const mqtt5_op_completion *done)
{
    mqtt5_client *c = user;
    client_cmd *cmd = done->user_ctx;
    if (!cmd) return;
    if (cmd->done) {
        mqtt5_op_completion d = *done;
        d.user_ctx = cmd->opt.user_ctx;
        cmd->done(cmd->user, &d);
    }
    atomic_fetch_sub(&c->queued_ops, 1);
    atomic_fetch_sub(&c->queued_bytes, cmd->len);
    if (cmd->kind != CMD_PUBLISH) cmd_free(cmd); /* a PUBLISH's bytes: core_on_wire_released */
    wake_room_waiters(c);
}

/* The core is done with a PUBLISH command's bytes (after its completion). */
static void core_on_wire_released(void *user, void *user_ctx)
{
    (void)user;
    cmd_free(user_ctx);
}

/* ---- the transport chain ------------------------------------------------------------------- */

static mqtt5_client *sink_client(mqtt5_filter *f)
{
    return f->ctx;
}

static void sink_on_open(mqtt5_filter *f)
{
    mqtt5_client *c = sink_client(f);
    if (c->conn != CONN_CONNECTING) return;
    c->conn = CONN_OPEN;
    mqtt5_client_tls_info *ti = c->x->tls_info;
    if (ti) {
        ti->alpn[0] = ti->tls_version[0] = '\0';
        mqtt5_iov sel = {NULL, 0};
        const char *ver = NULL;
        if (f->lower->ops->query(f->lower, MQTT5_FILTER_QUERY_ALPN, &sel) == 0 && sel.n &&
            sel.n < sizeof ti->alpn) {
            memcpy(ti->alpn, sel.p, sel.n);
            ti->alpn[sel.n] = '\0';
        }
        if (f->lower->ops->query(f->lower, MQTT5_FILTER_QUERY_TLS_VERSION, &ver) == 0 && ver)
            snprintf(ti->tls_version, sizeof ti->tls_version, "%s", ver);
        MQTT5_LOG(MQTT5_LOG_INFO, MQTT5_LOG_TLS, "%s:%u: %s, ALPN '%s'", client_host(c), c->port,
                  ti->tls_version, ti->alpn);
    }
    mqtt5_client_core_on_transport_open(client_core(c), now_ms(c));
    pump(c);
}

static void sink_on_read(mqtt5_filter *f, const uint8_t *p, size_t n)
{
    mqtt5_client *c = sink_client(f);
    if (c->conn != CONN_OPEN && c->conn != CONN_CLOSING) return;
    mqtt5_client_core_mem_recv(client_core(c), now_ms(c), p, n);
    pump(c);
}

static void sink_on_writable(mqtt5_filter *f)
{
    pump(sink_client(f));
}

static void sink_on_closed(mqtt5_filter *f, int err, const char *detail)
{
    mqtt5_client *c = sink_client(f);
    c->closed_event = true;
    c->closed_err = (int16_t)err; /* MQTT5_ERR_* and libuv codes fit */
    if (!c->own_detail) {         /* else ours (the connect timeout's) wins */
        detail_free(c, &c->closed_detail);
        c->closed_detail = detail_dup(c, detail);
    }
    pump(c);
}

static const mqtt5_filter_ops sink_ops = {
    .name = "sink",
    .on_open = sink_on_open,
    .on_read = sink_on_read,
    .on_writable = sink_on_writable,
    .on_closed = sink_on_closed,
};

static void chain_destroy(mqtt5_client *c)
{
    mqtt5_filter *f = c->bottom;
    while (f && f != &c->sink) {
        mqtt5_filter *up = f->upper;
        f->ops->destroy(f);
        f = up;
    }
    c->bottom = c->sink.lower = NULL;
}

/* Destroy filters stacked so far (nothing connected yet). */
static void chain_destroy_partial(mqtt5_client *c)
{
    mqtt5_filter *f = c->bottom;
    while (f) {
        mqtt5_filter *up = f->upper;
        f->ops->destroy(f);
        f = up;
    }
    c->bottom = c->sink.lower = NULL;
}

/* A WebSocket filter from the client's request template (Host first, then the extra headers). */
static int ws_filter_from_template(mqtt5_client *c, mqtt5_filter **out)
{
    size_t n = mqtt5_ws_request_header_count(c->x->ws->req);
    mqtt5_ws_header *extra = n > 1 ? malloc((n - 1) * sizeof *extra) : NULL;
    if (n > 1 && !extra) return MQTT5_ERR_NOMEM;
    for (size_t i = 1; i < n; i++)
        extra[i - 1] = mqtt5_ws_request_header_at(c->x->ws->req, i);
    mqtt5_ws_options wo = {0};
    wo.host = mqtt5_ws_request_header_at(c->x->ws->req, 0).value;
    wo.path = mqtt5_ws_request_path(c->x->ws->req);
    wo.headers = extra;
    wo.header_count = n ? n - 1 : 0;
    wo.max_frame = c->x->ws->max_frame;
    wo.transform = c->x->ws->transform;
    wo.transform_user = c->x->ws->transform_user;
    int rc = mqtt5_ws_filter_new(&wo, out);
    free(extra);
    return rc;
}

/* Stack f on the chain built so far. */
static void chain_push(mqtt5_client *c, mqtt5_filter *f)
{
    if (c->sink.lower)
        mqtt5_filter_stack(c->sink.lower, f);
    else
        c->bottom = f;
    c->sink.lower = f;
}

/* tcp (to the broker, or to the proxy) -> [tls-to-proxy -> proxy] -> [tls] -> [ws] -> sink */
static void chain_connect(mqtt5_client *c, uint64_t now)
{
    bool via_proxy = c->x->proxy != NULL;
    mqtt5_tcp_options to = {via_proxy ? c->x->proxy->host : client_host(c),
                            via_proxy ? c->x->proxy->port : c->port, c->sock.tcp_nodelay,
                            c->sock.tcp_keepalive_s, &c->loop->poller};
    c->own_detail = false;
    memset(&c->sink, 0, sizeof c->sink);
    c->sink.ops = &sink_ops;
    c->sink.ctx = c;
    c->bottom = c->sink.lower = NULL;
    const char *what = "the connection";
    mqtt5_filter *f = NULL;
    int rc = mqtt5_tcp_filter_new(&c->loop->uv, &to, &f);
    if (rc == 0) chain_push(c, f);
    if (rc == 0 && via_proxy) {
        what = "the proxy connection";
        rc = mqtt5_client_proxy_push(c->x->proxy, client_host(c), c->port, &c->sink.lower);
    }
    if (rc == 0 && c->x->tls) {
        what = "the connection";
        rc = mqtt5_tls_filter_new(c->x->tls, client_host(c), &f);
        if (rc == 0) chain_push(c, f);
    }
    if (rc == 0 && c->x->ws) {
        what = "the WebSocket";
        rc = ws_filter_from_template(c, &f);
        if (rc == 0) chain_push(c, f);
    }
    if (rc != 0) {
        chain_destroy_partial(c);
        char why[160];
        snprintf(why, sizeof why, "cannot set up %s: %s", what, mqtt5_error_str(rc));
        c->closed_event = true;
        c->closed_err = (int16_t)rc;
        detail_free(c, &c->closed_detail);
        c->closed_detail = detail_dup(c, why);
        c->conn = CONN_CLOSING;
        return;
    }
    mqtt5_filter_stack(c->sink.lower, &c->sink);
    c->conn = CONN_CONNECTING;
    c->deadline = now + (c->sock.connect_timeout_ms ? c->sock.connect_timeout_ms : 10000);
    char via[300] = "";
    if (via_proxy) mqtt5_client_proxy_describe(c->x->proxy, via, sizeof via);
    MQTT5_LOG(MQTT5_LOG_DEBUG, MQTT5_LOG_CLIENT, "connecting to %s:%u (%s%s)%s%s", client_host(c),
              c->port, c->x->tls ? "tls" : "tcp", c->x->ws ? "+websocket" : "",
              via[0] ? " through " : "", via);
    c->sink.lower->ops->connect(
        c->sink.lower); /* failures arrive as sink_on_closed, maybe right now */
}

static void chain_close(mqtt5_client *c, int err)
{
    if (c->conn != CONN_CONNECTING && c->conn != CONN_OPEN) return;
    c->conn = CONN_CLOSING;
    c->sink.lower->ops->close(c->sink.lower, err);
}

/* ---- the pump ------------------------------------------------------------------------------ */

static void maybe_finish(mqtt5_client *c);

/* One batch from the core into the loop's shared write buffer (or the core's own buffer for a
 * packet bigger than that), down the chain, then wiped: a CONNECT's password or an AUTH's data
 * must not outlive the write. 1 = written, 0 = nothing to write, -1 = the chain is closing. */
static int write_batch(mqtt5_client *c, uint64_t now)
{
    uint8_t *buf = c->loop->write_buf;
    const uint8_t *p = NULL;
    size_t n = 0;
    mqtt5_client_core_mem_send_buf(client_core(c), now, buf, c->batch_cap, &p, &n);
    if (n == 0) return 0;
    mqtt5_iov v = {p, n};
    int rc = c->sink.lower->ops->write(c->sink.lower, &v, 1);
    if (p == buf) mqtt5_wipe(buf, n);
    return rc == 0 ? 1 : -1;
}

static void pump_once(mqtt5_client *c)
{
    uint64_t now = now_ms(c);
    if (c->closed_event) {
        c->closed_event = false;
        chain_destroy(c);
        c->conn = CONN_IDLE;
        c->in_closed_event = true;
        mqtt5_client_core_on_transport_closed(client_core(c), now, c->closed_err);
        c->in_closed_event = false;
        detail_free(c, &c->closed_detail);
        c->own_detail = false;
    }
    if (c->conn == CONN_CONNECTING && now >= c->deadline) {
        char via[300] = "", why[640];
        if (c->x->proxy) mqtt5_client_proxy_describe(c->x->proxy, via, sizeof via);
        snprintf(why, sizeof why, "no %s connection to %s:%u%s%s within %u ms",
                 c->x->tls ? "TLS" : "TCP", client_host(c), c->port, via[0] ? " through the " : "",
                 via, c->sock.connect_timeout_ms ? c->sock.connect_timeout_ms : 10000u);
        detail_free(c, &c->closed_detail);
        c->closed_detail = detail_dup(c, why);
        c->own_detail = c->closed_detail != NULL;
        chain_close(c, MQTT5_ERR_CONNECT_TIMEOUT);
    }
    if (c->terminating && c->conn == CONN_CLOSING && now >= c->deadline && c->sink.lower) {
        c->sink.lower->ops->close(c->sink.lower,
                                  MQTT5_ERR_STOPPED); /* stop waiting for a graceful close */
    }
    uint64_t wake = MQTT5_TIME_NEVER;
    mqtt5_client_core_service(client_core(c), now, &wake);
    mqtt5_client_want w;
    mqtt5_client_core_want(client_core(c), &w);
    if (w.transport_open && c->conn == CONN_IDLE && !c->terminating) {
        chain_connect(c, now);
    } else if (!w.transport_open && (c->conn == CONN_CONNECTING || c->conn == CONN_OPEN)) {
        /* the core wrote its last bytes (DISCONNECT) or gave up: flush them and close */
        while (c->conn == CONN_OPEN && write_batch(c, now) > 0) {
        }
        chain_close(c, 0);
    }
    while (c->conn == CONN_OPEN) {
        mqtt5_client_core_want(client_core(c), &w);
        if (!w.write || c->sink.lower->ops->pending(c->sink.lower) >= HIGH_WATER) break;
        if (write_batch(c, now) <= 0) break; /* nothing, or closing (on_closed follows) */
        mqtt5_client_core_want(client_core(c), &w);
        if (!w.transport_open) {
            c->repump = true; /* close after this batch, in the next round */
            break;
        }
    }
    mqtt5_client_core_want(client_core(c), &w);
    if (c->conn == CONN_OPEN) mqtt5_filter_set_read_low_water(c->sink.lower, w.read_low_water);
    uint64_t target = w.wake_at;
    if ((c->conn == CONN_CONNECTING || (c->terminating && c->conn == CONN_CLOSING)) &&
        c->deadline < target)
        target = c->deadline;
    if (c->timer_done || !c->attached) return;
    if (target == MQTT5_TIME_NEVER)
        mqtt5_loop_timer_disarm(c->loop, &c->timer);
    else
        mqtt5_loop_timer_arm(c->loop, &c->timer, target); /* no-op when already armed there */
}

static void pump(mqtt5_client *c)
{
    if (c->finishing) return;
    if (c->in_pump) {
        c->repump = true;
        return;
    }
    c->in_pump = true;
    int rounds = 0;
    do {
        c->repump = false;
        pump_once(c);
    } while ((c->repump || c->closed_event) && ++rounds < 64);
    c->in_pump = false;
    maybe_finish(c);
}

/* ---- termination --------------------------------------------------------------------------- */

static void ws_free(mqtt5_client *c)
{
    if (!c->x->ws) return;
    mqtt5_ws_request_free(c->x->ws->req);
    c_free(c, c->x->ws, sizeof *c->x->ws);
    c->x->ws = NULL;
}

static void proxy_free(mqtt5_client *c)
{
    if (!c->x->proxy) return;
    mqtt5_client_proxy_clear(c->x->proxy);
    c_free(c, c->x->proxy, sizeof *c->x->proxy);
    c->x->proxy = NULL;
}

static void final_free(mqtt5_client *c)
{
    detail_free(c, &c->closed_detail);
    c_free(c, c->x->tls_info, sizeof *c->x->tls_info);
    mqtt5_allocator a = *c_allocator(c); /* it may live in the allocation it frees */
    a.release(a.ctx, c, c->size);
}

/* The release's on_terminated (kept in its command since it ran), then the command goes. */
static void report_terminated(mqtt5_client *c)
{
    client_cmd *cmd = c->release_cmd;
    c->release_cmd = NULL;
    if (!cmd) return;
    if (cmd->on_terminated) cmd->on_terminated(cmd->user);
    cmd_free(cmd);
}

/* Runs on the group's joiner thread after the private group is gone. */
static void after_private_group(void *arg)
{
    mqtt5_client *c = arg;
    report_terminated(c);
    if (client_priv(c)->free_user) client_priv(c)->free_user(c->user);
    final_free(c);
}

static void finish_after_handles(mqtt5_client *c)
{
    if (!c->timer_done || atomic_load(&c->pending_cmds) != 0) return;
    if (c->x->tls) { /* (no_extras is never written) */
        mqtt5_tls_ctx_release(c->x->tls);
        c->x->tls = NULL;
    }
    proxy_free(c);
    ws_free(c);
    MQTT5_LOG(MQTT5_LOG_DEBUG, MQTT5_LOG_CLIENT, "client for %s:%u terminated", client_host(c),
              c->port);
    if (client_priv(c)->release_extra)
        client_priv(c)->release_extra(client_priv(c)->release_extra_ctx);
    if (client_priv(c)->owns_group) {
        mqtt5_event_loop_group_release(c->loop->group, after_private_group, c);
        return;
    }
    report_terminated(c);
    if (client_priv(c)->free_user) client_priv(c)->free_user(c->user);
    mqtt5_event_loop_group *g = c->loop->group;
    final_free(c);
    mqtt5_event_loop_group_release(g, NULL, NULL);
}

/* Every client timer's firing (the loop's heap calls it, runtime/loop.h): a pump, or once the
 * client is finishing, its last firing: the client's part of the loop is done (as a uv_close
 * callback would say, one loop iteration after maybe_finish). */
void mqtt5_client_timer_fired(mqtt5_loop_timer *t)
{
    mqtt5_client *c = (mqtt5_client *)((char *)t - offsetof(mqtt5_client, timer));
    if (!c->finishing) {
        pump(c);
        return;
    }
    c->timer_done = true;
    finish_after_handles(c);
}

/* Once released and the transport is closed: destroy the core (completing what is left with
 * STOPPED), close the timer, then free. */
static void maybe_finish(mqtt5_client *c)
{
    if (!c->terminating || c->finishing || c->conn != CONN_IDLE || c->in_pump) return;
    c->finishing = true;
    mqtt5_client_core_destroy(client_core(c));
    c->core_live = false;
    if (c->attached) {
        mqtt5_loop_timer_disarm(c->loop, &c->timer);
        mqtt5_loop_timer_arm(c->loop, &c->timer, now_ms(c)); /* finishing: the last firing */
    } else {
        c->timer_done = true;
        finish_after_handles(c);
    }
}

/* ---- commands (loop thread) -------------------------------------------------------------- */

static mqtt5_packet_type kind_type(cmd_kind k)
{
    return k == CMD_SUBSCRIBE     ? MQTT5_SUBSCRIBE
           : k == CMD_UNSUBSCRIBE ? MQTT5_UNSUBSCRIBE
                                  : MQTT5_PUBLISH;
}

static void run_op(mqtt5_client *c, client_cmd *cmd, uint64_t now)
{
    mqtt5_packet pkt;
    size_t used = 0;
    int rc = mqtt5_packet_decode(cmd->bytes, cmd->len, 0, &pkt, &used, NULL);
    if (rc != 0) {
        complete_now(c, cmd, kind_type(cmd->kind), rc);
        return;
    }
    mqtt5_op_options opt = cmd->opt;
    opt.user_ctx = cmd;
    uint64_t id = 0;
    mqtt5_codec_status st;
    switch (cmd->kind) {
    case CMD_PUBLISH: /* the command's bytes are the packet: the core keeps them, no copy */
        rc = mqtt5_client_core_publish_encoded(client_core(c), now, &pkt.u.publish, cmd->bytes,
                                               cmd->len, &opt, &id, &st);
        break;
    case CMD_SUBSCRIBE:
        pkt.u.subscribe.packet_id = 0;
        rc = mqtt5_client_core_subscribe(client_core(c), now, &pkt.u.subscribe, &opt, &id, &st);
        break;
    default:
        pkt.u.unsubscribe.packet_id = 0;
        rc = mqtt5_client_core_unsubscribe(client_core(c), now, &pkt.u.unsubscribe, &opt, &id, &st);
        break;
    }
    if (rc != 0) complete_now(c, cmd, kind_type(cmd->kind), rc);
}

static void run_cmd(mqtt5_cmd *base)
{
    client_cmd *cmd = (client_cmd *)base;
    mqtt5_client *c = cmd->client;
    cmd_kind kind = cmd->kind;
    if (c->finishing) { /* released meanwhile: nothing reaches the core any more */
        if (kind == CMD_PUBLISH || kind == CMD_SUBSCRIBE || kind == CMD_UNSUBSCRIBE)
            complete_now(c, cmd, kind_type(kind), MQTT5_ERR_TERMINATED);
        else
            cmd_free(cmd);
        atomic_fetch_sub(&c->pending_cmds, 1);
        finish_after_handles(c);
        return;
    }
    uint64_t now = now_ms(c);
    switch (kind) {
    case CMD_ATTACH:
        mqtt5_loop_timer_init(&c->timer);
        c->attached = true;
        cmd_free(cmd);
        break;
    case CMD_START:
        if (!c->terminating) mqtt5_client_core_start(client_core(c), now);
        cmd_free(cmd);
        break;
    case CMD_STOP:
    case CMD_RELEASE: {
        mqtt5_disconnect d = {0};
        if (cmd->len) {
            mqtt5_packet pkt;
            size_t used;
            if (mqtt5_packet_decode(cmd->bytes, cmd->len, 0, &pkt, &used, NULL) == 0)
                d = pkt.u.disconnect;
        }
        mqtt5_client_core_stop(client_core(c), now, &d, NULL);
        if (kind == CMD_RELEASE) {
            c->terminating = true;
            c->deadline = now + RELEASE_LINGER_MS;
            c->release_cmd = cmd; /* on_terminated and its user, for report_terminated */
        } else {
            cmd_free(cmd);
        }
        break;
    }
    case CMD_SEND_ACK:
        mqtt5_client_core_send_ack(client_core(c), now, cmd->ack_handle, cmd->reason);
        cmd_free(cmd);
        break;
    case CMD_AUTH: {
        mqtt5_packet pkt;
        size_t used;
        mqtt5_codec_status st;
        int rc = mqtt5_packet_decode(cmd->bytes, cmd->len, 0, &pkt, &used, NULL);
        if (rc == 0)
            rc = mqtt5_client_core_auth(client_core(c), now, pkt.u.auth.reason_code,
                                        &pkt.u.auth.properties, &st);
        if (rc != 0)
            MQTT5_LOG(MQTT5_LOG_WARN, MQTT5_LOG_CLIENT, "AUTH refused: %s", mqtt5_error_name(rc));
        cmd_free(cmd);
        break;
    }
    default:
        run_op(c, cmd, now);
        break;
    }
    atomic_fetch_sub(&c->pending_cmds, 1);
    if (!c->pump_deferred) { /* one pump for all of this round's commands */
        c->pump_deferred = true;
        mqtt5_loop_defer(c->loop, &c->pump_item);
    }
}

static void run_deferred_pump(mqtt5_cmd *item)
{
    mqtt5_client *c = (mqtt5_client *)((char *)item - offsetof(mqtt5_client, pump_item));
    c->pump_deferred = false;
    pump(c);
}

/* ---- commands (caller threads) ----------------------------------------------------------- */

static client_cmd *cmd_new(mqtt5_client *c, cmd_kind kind, size_t extra)
{
    size_t size = sizeof(client_cmd) + extra;
    bool block =
        size <= MQTT5_CMD_BLOCK && c_allocator(c)->allocate == mqtt5_allocator_libc()->allocate;
    client_cmd *cmd = block ? mqtt5_cmd_block_get() : c_alloc(c, size);
    if (!cmd) return NULL;
    memset(cmd, 0, sizeof *cmd);
    cmd->block = block;
    cmd->base.run = run_cmd;
    cmd->client = c;
    cmd->kind = kind;
    cmd->size = size;
    cmd->len = extra;
    return cmd;
}

static void cmd_post(mqtt5_client *c, client_cmd *cmd)
{
    atomic_fetch_add(&c->pending_cmds, 1);
    mqtt5_loop_post(c->loop, &cmd->base);
}

static int set_status(mqtt5_codec_status *st, int err, const char *field, const char *detail)
{
    if (st) {
        memset(st, 0, sizeof *st);
        st->error = err;
        st->field = field;
        st->detail = detail;
    }
    return err;
}

/* Encode `pkt` into a new command: the encoder is the validation and the copy. */
static int cmd_with_packet(mqtt5_client *c, cmd_kind kind, const mqtt5_packet *pkt,
                           client_cmd **out, mqtt5_codec_status *st)
{
    size_t size = 0;
    mqtt5_codec_status local;
    if (!st) st = &local;
    int rc = mqtt5_packet_encoded_size(pkt, &size, st);
    if (rc != 0) return rc;
    client_cmd *cmd = cmd_new(c, kind, size);
    if (!cmd) return set_status(st, MQTT5_ERR_NOMEM, NULL, NULL);
    encode_validated(pkt, encode_body_length(size), cmd->bytes); /* validated by the sizing */
    *out = cmd;
    return 0;
}

static int op_call(mqtt5_client *c, cmd_kind kind, mqtt5_packet *pkt, const mqtt5_op_options *opt,
                   mqtt5_completion_fn done, void *user, mqtt5_codec_status *st)
{
    if (!c) return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "client", NULL);
    if (atomic_load(&c->released))
        return set_status(st, MQTT5_ERR_TERMINATED, "client", "client was released");
    if (atomic_fetch_add(&c->queued_ops, 1) >= c->max_ops) {
        atomic_fetch_sub(&c->queued_ops, 1);
        return set_status(st, MQTT5_ERR_QUEUE_FULL, NULL, "max_queued_ops operations pending");
    }
    client_cmd *cmd = NULL;
    int rc = cmd_with_packet(c, kind, pkt, &cmd, st);
    if (rc != 0) {
        atomic_fetch_sub(&c->queued_ops, 1);
        return rc;
    }
    if (c->max_bytes && atomic_fetch_add(&c->queued_bytes, cmd->len) + cmd->len > c->max_bytes) {
        atomic_fetch_sub(&c->queued_bytes, cmd->len);
        atomic_fetch_sub(&c->queued_ops, 1);
        cmd_free(cmd);
        return set_status(st, MQTT5_ERR_QUEUE_FULL, NULL, "max_queued_bytes bytes pending");
    }
    if (!c->max_bytes) atomic_fetch_add(&c->queued_bytes, cmd->len);
    cmd->done = done;
    cmd->user = user;
    if (opt) cmd->opt = *opt;
    if (st) memset(st, 0, sizeof *st);
    cmd_post(c, cmd);
    return 0;
}

int mqtt5_client_publish(mqtt5_client *c, const mqtt5_publish *p, const mqtt5_op_options *opt,
                         mqtt5_completion_fn done, void *user, mqtt5_codec_status *st)
{
    if (!p) return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "publish", NULL);
    if (p->packet_id != 0)
        return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "packetId",
                          "the client assigns packet identifiers");
    mqtt5_packet pkt;
    pkt.type = MQTT5_PUBLISH;
    pkt.u.publish = *p;
    pkt.u.publish.packet_id = p->qos ? 1 : 0; /* a placeholder the encoder needs */
    return op_call(c, CMD_PUBLISH, &pkt, opt, done, user, st);
}

int mqtt5_client_subscribe(mqtt5_client *c, const mqtt5_subscribe *s, const mqtt5_op_options *opt,
                           mqtt5_completion_fn done, void *user, mqtt5_codec_status *st)
{
    if (!s) return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "subscribe", NULL);
    mqtt5_packet pkt;
    pkt.type = MQTT5_SUBSCRIBE;
    pkt.u.subscribe = *s;
    pkt.u.subscribe.packet_id = 1;
    return op_call(c, CMD_SUBSCRIBE, &pkt, opt, done, user, st);
}

int mqtt5_client_unsubscribe(mqtt5_client *c, const mqtt5_unsubscribe *u,
                             const mqtt5_op_options *opt, mqtt5_completion_fn done, void *user,
                             mqtt5_codec_status *st)
{
    if (!u) return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "unsubscribe", NULL);
    mqtt5_packet pkt;
    pkt.type = MQTT5_UNSUBSCRIBE;
    pkt.u.unsubscribe = *u;
    pkt.u.unsubscribe.packet_id = 1;
    return op_call(c, CMD_UNSUBSCRIBE, &pkt, opt, done, user, st);
}

static int simple_cmd(mqtt5_client *c, cmd_kind kind, const mqtt5_disconnect *d, client_cmd **out)
{
    if (!c) return MQTT5_ERR_INVALID_ARGUMENT;
    if (atomic_load(&c->released)) return MQTT5_ERR_TERMINATED;
    client_cmd *cmd = NULL;
    if (d) {
        mqtt5_packet pkt;
        pkt.type = MQTT5_DISCONNECT;
        pkt.u.disconnect = *d;
        int rc = cmd_with_packet(c, kind, &pkt, &cmd, NULL);
        if (rc != 0) return rc;
    } else {
        cmd = cmd_new(c, kind, 0);
        if (!cmd) return MQTT5_ERR_NOMEM;
    }
    *out = cmd;
    return 0;
}

int mqtt5_client_start(mqtt5_client *c)
{
    client_cmd *cmd = NULL;
    int rc = simple_cmd(c, CMD_START, NULL, &cmd);
    if (rc == 0) cmd_post(c, cmd);
    return rc;
}

int mqtt5_client_stop(mqtt5_client *c, const mqtt5_disconnect *d)
{
    client_cmd *cmd = NULL;
    int rc = simple_cmd(c, CMD_STOP, d, &cmd);
    if (rc == 0) cmd_post(c, cmd);
    return rc;
}

int mqtt5_client_send_ack(mqtt5_client *c, uint64_t ack_handle, uint8_t reason_code)
{
    client_cmd *cmd = NULL;
    int rc = simple_cmd(c, CMD_SEND_ACK, NULL, &cmd);
    if (rc != 0) return rc;
    cmd->ack_handle = ack_handle;
    cmd->reason = reason_code;
    cmd_post(c, cmd);
    return 0;
}

int mqtt5_client_auth(mqtt5_client *c, uint8_t reason, const mqtt5_properties *props,
                      mqtt5_codec_status *st)
{
    if (!c) return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "client", NULL);
    if (atomic_load(&c->released)) return set_status(st, MQTT5_ERR_TERMINATED, "client", NULL);
    if (reason != 0x18 && reason != 0x19)
        return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "reason", "0x18 or 0x19");
    mqtt5_packet pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.type = MQTT5_AUTH;
    pkt.u.auth.reason_code = reason;
    if (props) pkt.u.auth.properties = *props;
    client_cmd *cmd = NULL;
    int rc = cmd_with_packet(c, CMD_AUTH, &pkt, &cmd, st);
    if (rc != 0) return rc;
    cmd_post(c, cmd);
    return 0;
}

int mqtt5_client_take_ack(mqtt5_client *c, uint64_t ack_handle)
{
    if (!c) return MQTT5_ERR_INVALID_ARGUMENT;
    if (!mqtt5_loop_is_current(c->loop) || !client_core(c)) return MQTT5_ERR_INVALID_STATE;
    return mqtt5_client_core_take_ack(client_core(c), ack_handle);
}

int mqtt5_client_release(mqtt5_client *c, void (*on_terminated)(void *user), void *user)
{
    if (!c) return MQTT5_ERR_INVALID_ARGUMENT;
    bool expected = false;
    if (!atomic_compare_exchange_strong(&c->released, &expected, true)) return MQTT5_ERR_TERMINATED;
    client_cmd *cmd = cmd_new(c, CMD_RELEASE, 0);
    if (!cmd) {
        atomic_store(&c->released, false);
        return MQTT5_ERR_NOMEM;
    }
    cmd->on_terminated = on_terminated;
    cmd->user = user;
    uv_mutex_lock(&c->loop->room_mu); /* waiters return MQTT5_ERR_TERMINATED */
    uv_cond_broadcast(&c->loop->room_cv);
    uv_mutex_unlock(&c->loop->room_mu);
    cmd_post(c, cmd);
    return 0;
}

static bool has_room(mqtt5_client *c)
{
    return atomic_load(&c->queued_ops) < c->max_ops &&
           (!c->max_bytes || atomic_load(&c->queued_bytes) < c->max_bytes);
}

/* Half empty: a blocked caller is woken only here, so that it then publishes a run of messages
 * instead of one per wake-up. */
static bool below_low_water(mqtt5_client *c)
{
    return atomic_load(&c->queued_ops) <= c->max_ops / 2 &&
           (!c->max_bytes || atomic_load(&c->queued_bytes) <= c->max_bytes / 2);
}

/* wait_for_room on the thread that drives the client's caller-driven loop: run it meanwhile
 * (the completions that make room happen in those runs). */
static int wait_for_room_running(mqtt5_client *c, uint64_t deadline)
{
    for (;;) {
        if (atomic_load(&c->released)) return MQTT5_ERR_TERMINATED;
        if (below_low_water(c)) return 0;
        uint64_t now = uv_hrtime();
        if (now >= deadline) return MQTT5_ERR_TIMEOUT;
        uint64_t left_ms = (deadline - now + 999999u) / 1000000u;
        int rc = mqtt5_loop_run_driven(c->loop, left_ms > INT32_MAX ? INT32_MAX : (int32_t)left_ms);
        if (rc != 0) return rc;
    }
}

int mqtt5_client_wait_for_room(mqtt5_client *c, uint32_t timeout_ms)
{
    if (!c) return MQTT5_ERR_INVALID_ARGUMENT;
    if (atomic_load(&c->released)) return MQTT5_ERR_TERMINATED;
    if (has_room(c)) return 0;
    if (mqtt5_on_any_loop_thread()) return MQTT5_ERR_WOULD_DEADLOCK;
    uint64_t deadline = uv_hrtime() + (uint64_t)timeout_ms * 1000000u;
    if (mqtt5_loop_driven_here() == c->loop) return wait_for_room_running(c, deadline);
    int rc = 0;
    uv_mutex_lock(&c->loop->room_mu);
    atomic_fetch_add(&c->room_waiters, 1); /* before the check: see wake_room_waiters */
    for (;;) {
        if (atomic_load(&c->released)) {
            rc = MQTT5_ERR_TERMINATED;
            break;
        }
        if (below_low_water(c)) break;
        uint64_t now = uv_hrtime();
        if (now >= deadline) {
            rc = MQTT5_ERR_TIMEOUT;
            break;
        }
        (void)uv_cond_timedwait(&c->loop->room_cv, &c->loop->room_mu, deadline - now);
    }
    atomic_fetch_sub(&c->room_waiters, 1);
    uv_mutex_unlock(&c->loop->room_mu);
    return rc;
}

/* get_stats from another thread: the counters are read on the loop thread, which owns them. */
typedef struct stats_call {
    mqtt5_client *c;
    mqtt5_client_stats *out;
    int rc;
    uv_sem_t done;
} stats_call;

static void stats_on_loop(void *arg)
{
    stats_call *sc = arg;
    if (client_core(sc->c))
        mqtt5_client_core_stats(client_core(sc->c), sc->out);
    else
        sc->rc = MQTT5_ERR_TERMINATED;
    uv_sem_post(&sc->done);
}

int mqtt5_client_get_stats(mqtt5_client *c, mqtt5_client_stats *out)
{
    if (!c || !out) return MQTT5_ERR_INVALID_ARGUMENT;
    if (mqtt5_loop_is_owned_here(c->loop)) {
        if (!client_core(c)) return MQTT5_ERR_TERMINATED;
        mqtt5_client_core_stats(client_core(c), out);
        return 0;
    }
    if (mqtt5_on_any_loop_thread()) return MQTT5_ERR_WOULD_DEADLOCK;
    stats_call sc;
    memset(&sc, 0, sizeof sc);
    sc.c = c;
    sc.out = out;
    if (uv_sem_init(&sc.done, 0) != 0) return MQTT5_ERR_NOMEM;
    int rc = mqtt5_loop_call(c->loop, stats_on_loop, &sc);
    if (rc == 0) {
        uv_sem_wait(&sc.done);
        rc = sc.rc;
    }
    uv_sem_destroy(&sc.done);
    return rc;
}

const char *mqtt5_client_alpn(const mqtt5_client *c)
{
    return c && c->x->tls_info && mqtt5_loop_is_owned_here(c->loop) ? c->x->tls_info->alpn : "";
}

const char *mqtt5_client_tls_version(const mqtt5_client *c)
{
    return c && c->x->tls_info && mqtt5_loop_is_owned_here(c->loop) ? c->x->tls_info->tls_version
                                                                    : "";
}

/* ---- creation ------------------------------------------------------------------------------ */

/* The WebSocket request template: Host header, path, extra headers, validated and copied. */
static int ws_template_new(mqtt5_client *c, const mqtt5_websocket_options *w,
                           mqtt5_codec_status *st)
{
    char host[300];
    bool v6 = strchr(client_host(c), ':') != NULL;
    bool default_port = c->x->tls ? c->port == 443 : c->port == 80;
    if (default_port)
        snprintf(host, sizeof host, v6 ? "[%s]" : "%s", client_host(c));
    else
        snprintf(host, sizeof host, v6 ? "[%s]:%u" : "%s:%u", client_host(c), c->port);
    c->x->ws = c_alloc(c, sizeof *c->x->ws);
    if (!c->x->ws) return set_status(st, MQTT5_ERR_NOMEM, NULL, NULL);
    memset(c->x->ws, 0, sizeof *c->x->ws);
    int rc = mqtt5_ws_request_new(host, w->path, w->headers, w->header_count, &c->x->ws->req);
    if (rc != 0)
        return set_status(st, rc, "websocket", "bad path or header (see mqtt5/websocket.h)");
    c->x->ws->max_frame = w->max_frame;
    c->x->ws->transform = w->transform;
    c->x->ws->transform_user = w->transform_user;
    return 0;
}

/* The core's options: the user's with the runtime's callbacks (user set by client_new_parts).
 * The queue bounds are enforced by the calls (so a refusal is immediate, never a silent
 * completion later); the core behind them never refuses for size. */
static void core_options(const mqtt5_client_options *o, mqtt5_client_core_options *core)
{
    *core = o->core;
    core->callbacks.on_lifecycle = core_on_lifecycle;
    core->callbacks.on_publish = core_on_publish;
    core->callbacks.on_complete = core_on_complete;
    core->callbacks.on_wire_released = core_on_wire_released;
    core->callbacks.on_auth = o->on_auth ? core_on_auth : NULL;
    core->max_queued_ops = UINT32_MAX;
    core->max_queued_bytes = 0;
}

/* Everything a new client owns besides its allocation: TLS context and its info, WebSocket
 * template, proxy settings; and its core, made in `core_mem`. On failure the caller frees what
 * was made with client_free_parts. */
static int client_new_parts(mqtt5_client *c, const mqtt5_client_options *o,
                            mqtt5_client_core_options *core, void *core_mem, size_t core_size,
                            mqtt5_codec_status *st)
{
    int rc = 0;
    if (o->tls) {
        rc = mqtt5_tls_ctx_new(o->tls, &c->x->tls, st);
        if (rc != 0) return rc;
        c->x->tls_info = c_alloc(c, sizeof *c->x->tls_info);
        if (!c->x->tls_info) return set_status(st, MQTT5_ERR_NOMEM, NULL, NULL);
        memset(c->x->tls_info, 0, sizeof *c->x->tls_info);
    }
    if (o->websocket && (rc = ws_template_new(c, o->websocket, st)) != 0) return rc;
    core->callbacks.user = c;
    if (!core->random_u64 && core->random_seed == 0)
        core->random_seed = uv_hrtime() ^ ((uint64_t)(uintptr_t)c << 16);
    mqtt5_client_core *made;
    rc = mqtt5_client_core_new_in(core_mem, core_size, core, &made, st);
    if (rc != 0) return rc;
    c->core_live = true;
    if (o->http_proxy || o->socks5_proxy) {
        c->x->proxy = c_alloc(c, sizeof *c->x->proxy);
        if (!c->x->proxy) return set_status(st, MQTT5_ERR_NOMEM, NULL, NULL);
        rc = mqtt5_client_proxy_init(c->x->proxy, o, st);
        if (rc != 0) {
            c_free(c, c->x->proxy, sizeof *c->x->proxy);
            c->x->proxy = NULL;
            return rc;
        }
    }
    return 0;
}

static void client_free_parts(mqtt5_client *c)
{
    proxy_free(c);
    mqtt5_client_core_destroy(client_core(c));
    ws_free(c);
    mqtt5_tls_ctx_release(c->x->tls);
    c_free(c, c->x->tls_info, sizeof *c->x->tls_info);
}

void mqtt5_client_options_init(mqtt5_client_options *o)
{
    memset(o, 0, sizeof *o);
    mqtt5_client_core_options_init(&o->core);
    o->core.write_batch_size = 65536; /* the loop's shared write buffer: no cost per client */
    o->socket.connect_timeout_ms = 10000;
    o->socket.tcp_nodelay = true;
}

int mqtt5_client_new_internal(const mqtt5_client_options *o,
                              const mqtt5_client_private_options *priv, mqtt5_client **out,
                              mqtt5_codec_status *st)
{
    if (!out) return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "out", NULL);
    *out = NULL;
    if (!o) return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "options", NULL);
    if (!o->group) return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "group", "required");
    if (!o->host || !o->host[0] || strlen(o->host) >= 256)
        return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "host",
                          "required: a host name or IP address of at most 255 bytes");
    if (o->port == 0) return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "port", "required");
    int prc = mqtt5_client_proxy_check(o, st);
    if (prc != 0) return prc;
    const mqtt5_allocator *libc = mqtt5_allocator_libc();
    const mqtt5_allocator *a = o->core.allocator ? o->core.allocator : libc;
    bool extras =
        a != libc || o->tls || o->websocket || o->http_proxy || o->socks5_proxy || o->on_auth;
    mqtt5_client_core_options core;
    core_options(o, &core);
    mqtt5_codec_status cst;
    size_t core_size = mqtt5_client_core_size(&core, &cst);
    if (core_size == 0) {
        if (st) *st = cst;
        return cst.error;
    }
    /* the struct, extras and private options are multiples of 8: the core lands aligned */
    size_t head =
        sizeof(mqtt5_client) + (extras ? sizeof(client_extras) : 0) + (priv ? sizeof *priv : 0);
    size_t host_len = strlen(o->host);
    if (head + core_size + host_len + 1 > UINT32_MAX)
        return set_status(st, MQTT5_ERR_INVALID_ARGUMENT, "core.connect", "too large");
    size_t size = head + core_size + host_len + 1;
    mqtt5_client *c = a->allocate(a->ctx, size);
    if (!c) return set_status(st, MQTT5_ERR_NOMEM, NULL, NULL);
    memset(c, 0, sizeof *c);
    char *tail = (char *)(c + 1);
    c->x = &no_extras;
    if (extras) {
        c->x = memset(tail, 0, sizeof(client_extras));
        c->x->alloc = *a;
        c->x->on_auth = o->on_auth;
        tail += sizeof(client_extras);
    }
    if (priv) {
        memcpy(tail, priv, sizeof *priv);
        c->has_priv = true;
        tail += sizeof *priv;
    }
    c->size = (uint32_t)size;
    c->host_len = (uint8_t)host_len; /* at most 255, checked above */
    memcpy((char *)client_host(c), o->host, host_len + 1);
    c->port = o->port;
    c->sock = o->socket;
    c->user = o->user;
    c->on_lifecycle = o->on_lifecycle;
    c->on_publish = o->on_publish;
    c->max_ops = o->core.max_queued_ops ? o->core.max_queued_ops : 1024;
    c->max_bytes = o->core.max_queued_bytes;
    int rc = client_new_parts(c, o, &core, (char *)c + head, core_size, st);
    if (rc != 0) {
        client_free_parts(c);
        a->release(a->ctx, c, size);
        return rc;
    }
    c->pump_item.run = run_deferred_pump;
    client_cmd *attach = cmd_new(c, CMD_ATTACH, 0);
    if (!attach) {
        client_free_parts(c);
        a->release(a->ctx, c, size);
        return set_status(st, MQTT5_ERR_NOMEM, NULL, NULL);
    }
    mqtt5_event_loop_group *g =
        (priv && priv->owns_group) ? o->group : mqtt5_event_loop_group_acquire(o->group);
    c->loop = mqtt5_loop_group_pick(g);
    size_t batch = o->core.write_batch_size ? o->core.write_batch_size : 16384;
    c->batch_cap =
        (uint32_t)(batch < sizeof c->loop->write_buf ? batch : sizeof c->loop->write_buf);
    cmd_post(c, attach);
    if (st) memset(st, 0, sizeof *st);
    *out = c;
    return 0;
}

int mqtt5_client_new(const mqtt5_client_options *o, mqtt5_client **out, mqtt5_codec_status *status)
{
    return mqtt5_client_new_internal(o, NULL, out, status);
}
