/*
 * mqtt5/client.h - the thread-safe MQTT 5 client: the sans-I/O client core (client_core.h)
 * driven by an event-loop group (runtime.h) over a chain of transports (TCP, TLS, ...).
 *
 * Threads. Every function here may be called from any thread, also from inside callbacks. A
 * call checks and copies its arguments on the caller's thread and hands a command to the
 * client's loop thread; callbacks (lifecycle, publish received, completions, termination) run
 * on that loop thread, never while an SDK lock is held. Commands from one thread take effect in
 * the order they were made.
 *
 * Operations. publish/subscribe/unsubscribe return 0 and later call `done(user, completion)`
 * exactly once (on the loop thread; completion->user_ctx is opt->user_ctx, NULL without opt), or
 * return a negative mqtt5_error at once, name the bad field in `status`, and never call `done`.
 * Refusals that depend on the state (offline policy, a feature the server lacks, the client
 * stopped) arrive as that completion's error.
 *
 * Lifetime. mqtt5_client_release() stops the client, completes every pending operation with
 * MQTT5_ERR_STOPPED, closes the connection and frees everything; `on_terminated` is the last
 * callback for this client. After release the handle must not be used.
 */
#ifndef MQTT5_CLIENT_H
#define MQTT5_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "mqtt5/client_core.h"
#include "mqtt5/runtime.h"
#include "mqtt5/tls.h"
#include "mqtt5/websocket.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mqtt5_client mqtt5_client;

typedef struct mqtt5_socket_options {
    uint32_t connect_timeout_ms; /* 10000: DNS + TCP + TLS (+ proxy, WebSocket) handshakes */
    bool tcp_nodelay;            /* true */
    uint16_t tcp_keepalive_s;    /* 0 = off */
} mqtt5_socket_options;

/* An HTTP proxy in front of the broker: a CONNECT tunnel to host:port below TLS and WebSocket. */
typedef struct mqtt5_http_proxy_options {
    const char *host;
    uint16_t port;
    const char *username, *password; /* Basic authentication; NULL = none */
    const mqtt5_tls_options *tls;    /* TLS to the proxy (its own trust); NULL = plain */
} mqtt5_http_proxy_options;

/* A SOCKS5 proxy (RFC 1928) in front of the broker, with username/password authentication
 * (RFC 1929) when a username is given. Exclusive with http_proxy. The proxy resolves the
 * broker's host name (ATYP domain, like curl's socks5h); IP literals go as IPv4/IPv6. */
typedef struct mqtt5_socks5_proxy_options {
    const char *host;
    uint16_t port;                   /* 1080 when 0 */
    const char *username, *password; /* NULL = no authentication offered */
} mqtt5_socks5_proxy_options;

/* A lifecycle event; `detail` is one line saying more about a failure or disconnection (a TLS
 * verification error, an errno text, ...) or NULL, valid during the call. */
typedef void (*mqtt5_lifecycle_fn)(void *user, const mqtt5_lifecycle_event *ev, const char *detail);
typedef void (*mqtt5_publish_fn)(void *user, const mqtt5_inbound_publish *msg);
typedef void (*mqtt5_completion_fn)(void *user, const mqtt5_op_completion *done);
/* Enhanced authentication: an AUTH from the server (see client_core.h); answer it with
 * mqtt5_client_auth(). */
typedef void (*mqtt5_auth_fn)(void *user, const mqtt5_disconnect *auth);

typedef struct mqtt5_client_options {
    mqtt5_event_loop_group *group; /* required; the client holds a reference */
    const char *host;              /* required: a DNS name or an IPv4/IPv6 literal */
    uint16_t port;                 /* required */
    const mqtt5_tls_options *tls;  /* NULL = plain TCP; loaded at new (bad files fail there) */
    mqtt5_socket_options socket;
    const mqtt5_http_proxy_options *http_proxy;     /* NULL */
    const mqtt5_socks5_proxy_options *socks5_proxy; /* NULL */
    /* NULL = MQTT right over TCP/TLS; else MQTT over WebSockets (ws://, or wss:// with tls),
     * the Host header being host, or host:port when the port is not 80 (ws) / 443 (wss) */
    const mqtt5_websocket_options *websocket;
    /* Everything MQTT: CONNECT template, session, timeouts, queues, aliases. Its callbacks are
     * ignored: the runtime installs its own and calls the ones below. max_queued_ops and
     * max_queued_bytes (encoded sizes) are enforced by the operation calls themselves: past
     * them a call returns MQTT5_ERR_QUEUE_FULL at once. */
    mqtt5_client_core_options core;
    void *user;
    mqtt5_lifecycle_fn on_lifecycle; /* may be NULL */
    mqtt5_publish_fn on_publish;     /* may be NULL (messages are acknowledged and dropped) */
    mqtt5_auth_fn on_auth; /* required when core.connect carries an authenticationMethod */
} mqtt5_client_options;

/* Defaults: the core's defaults except core.write_batch_size, 65536 (batches are encoded into
 * one buffer per loop thread, so a bigger batch costs no memory per client; at most 65536 is
 * used), socket defaults, no TLS, no proxy, no callbacks. */
void mqtt5_client_options_init(mqtt5_client_options *o);

/* Create a stopped client. 0, or a negative error with status->field naming the option
 * ("host", "port", "tls.ca_file", "core.connect.clientId", ...). */
int mqtt5_client_new(const mqtt5_client_options *o, mqtt5_client **out, mqtt5_codec_status *status);
/* Start connecting (and reconnecting after losses, with backoff) until stopped. */
int mqtt5_client_start(mqtt5_client *c);
/* Stop: `d` NULL sends DISCONNECT reason 0x00 when connected; the STOPPED event follows. */
int mqtt5_client_stop(mqtt5_client *c, const mqtt5_disconnect *d);

int mqtt5_client_publish(mqtt5_client *c, const mqtt5_publish *p, const mqtt5_op_options *opt,
                         mqtt5_completion_fn done, void *user, mqtt5_codec_status *status);
int mqtt5_client_subscribe(mqtt5_client *c, const mqtt5_subscribe *s, const mqtt5_op_options *opt,
                           mqtt5_completion_fn done, void *user, mqtt5_codec_status *status);
int mqtt5_client_unsubscribe(mqtt5_client *c, const mqtt5_unsubscribe *u,
                             const mqtt5_op_options *opt, mqtt5_completion_fn done, void *user,
                             mqtt5_codec_status *status);

/* Manual acknowledgement (see client_core.h): take_ack only inside on_publish on the loop
 * thread; send_ack from any thread. */
int mqtt5_client_take_ack(mqtt5_client *c, uint64_t ack_handle);
int mqtt5_client_send_ack(mqtt5_client *c, uint64_t ack_handle, uint8_t reason_code);

/* Send AUTH: reason 0x18 (continue) or 0x19 (re-authenticate); `props` may carry
 * authenticationData, reasonString and user properties (the method is the CONNECT's). Any
 * thread; a refusal by the core is logged (the server's answer comes through on_auth). */
int mqtt5_client_auth(mqtt5_client *c, uint8_t reason, const mqtt5_properties *props,
                      mqtt5_codec_status *status);

/*
 * What a publisher does on MQTT5_ERR_QUEUE_FULL instead of spinning: returns 0 at once if the
 * queue has room for another operation (fewer than max_queued_ops pending and fewer than
 * max_queued_bytes queued); otherwise blocks the calling thread until it is half empty (so the
 * caller then publishes a run) or timeout_ms passed. 0 (another thread may still take the room
 * first), MQTT5_ERR_TIMEOUT, MQTT5_ERR_WOULD_DEADLOCK on an event-loop thread,
 * MQTT5_ERR_TERMINATED once the client was released (waiters are woken then). On the thread
 * that drives the client's caller-driven group it runs the loop while it waits.
 */
int mqtt5_client_wait_for_room(mqtt5_client *c, uint32_t timeout_ms);

/* The core's counters now. Read on the client's loop thread (or on the thread that drives its
 * caller-driven group): from another thread the call waits for that thread (a few
 * microseconds unless a callback is running there); on another client's loop thread it returns
 * MQTT5_ERR_WOULD_DEADLOCK; after release MQTT5_ERR_TERMINATED once the core is gone. */
int mqtt5_client_get_stats(mqtt5_client *c, mqtt5_client_stats *out);
/* The transport's negotiated details of the current connection, "" when none:
 * ALPN protocol selected, TLS version. Loop-thread only (inside callbacks, or on the thread
 * that drives the client's caller-driven group). */
const char *mqtt5_client_alpn(const mqtt5_client *c);
const char *mqtt5_client_tls_version(const mqtt5_client *c);

/* Stop, complete everything, close and free; then `on_terminated(user)` (may be NULL) on the
 * loop thread, the client's last callback. Never blocks. */
int mqtt5_client_release(mqtt5_client *c, void (*on_terminated)(void *user), void *user);

/* ---- futures: block a plain program until a completion arrives ---------------------------- */

typedef struct mqtt5_future mqtt5_future;

/* A future starts with two references: the waiter's (dropped by mqtt5_future_release) and the
 * completer's (dropped by its one completion). So a waiter that timed out may release at once,
 * and the completion arriving later frees it. NULL when out of memory. Complete every future
 * exactly once: when the operation call itself fails (it never calls `done`), complete the
 * future by hand with that error. */
mqtt5_future *mqtt5_future_new(void);
void mqtt5_future_release(mqtt5_future *f);
/* A mqtt5_completion_fn: pass it as `done` with the future as `user`. Keeps a copy of the
 * acknowledgement packet. */
void mqtt5_future_on_complete(void *future, const mqtt5_op_completion *done);
/* Complete by hand with `error` (e.g. from a lifecycle callback). */
void mqtt5_future_complete(mqtt5_future *f, int error);
/* Wait up to timeout_ms (UINT32_MAX: forever). On the thread that drives a caller-driven group
 * it runs that loop meanwhile (in rounds of at most 10 ms, so a completion from another thread
 * is seen within that). Returns the completion's error (0 = success),
 * MQTT5_ERR_TIMEOUT, or MQTT5_ERR_WOULD_DEADLOCK when called on an event-loop thread. */
int mqtt5_future_wait(mqtt5_future *f, uint32_t timeout_ms);
/* After a successful wait: the acknowledgement (PUBACK, SUBACK, UNSUBACK...) or NULL; owned by
 * the future. */
const mqtt5_packet *mqtt5_future_ack(const mqtt5_future *f);

#ifdef __cplusplus
}
#endif
#endif
