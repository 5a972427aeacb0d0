/*
 * helpers/scripted_broker.h - deterministic harness for the sans-I/O client core. One `sb` plays
 * both the runtime (a virtual clock, the transport, the write loop of client_core.h's "Driving
 * it") and the broker (scripted bytes in, the client's bytes decoded into packets out). It
 * records every callback, installs a counting allocator and a scripted random_u64, and checks
 * the header's guarantees as it goes and again at sb_free.
 *
 * Tests only. It must not sleep, read a real clock, open sockets or depend on the core's
 * internals: everything it does goes through include/mqtt5/client_core.h.
 *
 * Every call below is a macro that records the caller's file and line, so a failure points at
 * the test line, prints what was expected against what happened, and dumps the event log, the
 * transport/packet trace and the packets the test has not looked at yet.
 */
#ifndef MQTT5_TEST_SCRIPTED_BROKER_H
#define MQTT5_TEST_SCRIPTED_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt5/mqtt5.h"
#include "mqtt5/client_core.h"
#include "helpers/test_allocator.h"

typedef struct sb sb;

/* One lifecycle event, copied. */
typedef struct sb_event {
    mqtt5_lifecycle_type type;
    int error;
    uint8_t sent_reason_code; /* of the DISCONNECT the client sends because of this event */
    uint64_t time;
    mqtt5_client_state state; /* mqtt5_client_core_state() inside the callback */
    bool has_connack;
    bool session_present;
    uint8_t connack_reason;
    bool has_disconnect;
    uint8_t disconnect_reason;
    bool has_reason_string; /* of the DISCONNECT */
    char reason_string[128];
    bool has_settings;
    mqtt5_negotiated_settings settings; /* settings.client_id points into client_id below */
    char client_id[256];
} sb_event;

/* One packet the client wrote: decoded, views into `raw`. */
typedef struct sb_packet {
    mqtt5_packet p;
    uint8_t *raw;
    size_t len;
    uint64_t time; /* when mem_send handed it out */
    size_t batch;  /* 1-based index of the mem_send batch it came in */
} sb_packet;

/* One on_publish, copied. `whole` is false when the publish could not be re-encoded; then only
 * topic, payload and the flags below are kept. */
typedef struct sb_received {
    mqtt5_publish publish; /* views into `raw` (or into topic/payload copies) */
    uint64_t ack_handle;
    uint64_t time;
    bool whole;
    uint8_t *raw;
    size_t len;
} sb_received;

/* One on_complete, copied. */
typedef struct sb_completion {
    uint64_t op_id;
    void *user_ctx;
    mqtt5_packet_type op_type;
    int error;
    uint64_t time;
    int ack_type;       /* 0 when `ack` was NULL */
    uint8_t ack_reason; /* PUBACK..PUBCOMP reason; SUBACK/UNSUBACK first reason */
    uint8_t reasons[32];
    size_t reason_count; /* SUBACK/UNSUBACK */
} sb_completion;

/* What the harness does when the core wants the transport open. */
enum { SB_ACCEPT = 0x10000, SB_MANUAL = 0x20000 };
#define SB_FAIL(err) (0x30000 | ((-(err)) & 0xffff)) /* report on_transport_closed(now, err) */

/* Default options: mqtt5_client_core_options_init, client_id "test-client", keep_alive 60. */
void sb_options_default(mqtt5_client_core_options *o);

/* New harness + core at time 0 with `base` (NULL = sb_options_default); the harness replaces
 * allocator, callbacks and random_u64/random_ctx. Open mode SB_ACCEPT. */
#define sb_new(base) sb_new_((base), __FILE__, __LINE__)
sb *sb_new_(const mqtt5_client_core_options *base, const char *file, int line);
/* Same, but the k-th allocation (1-based) fails; returns NULL (and *err) if core_new failed,
 * after checking it leaked nothing. */
#define sb_new_failing(base, k, err) sb_new_failing_((base), (k), (err), __FILE__, __LINE__)
sb *sb_new_failing_(const mqtt5_client_core_options *base, size_t k, int *err, const char *file,
                    int line);
/* Destroys the core (which completes every operation with STOPPED), checks the lifecycle and
 * completion guarantees and that every allocated byte was released, frees the harness. */
#define sb_free(b) sb_free_((b), __FILE__, __LINE__)
void sb_free_(sb *b, const char *file, int line);
/* Group teardown: frees harnesses (and their core's blocks) left behind by failed tests, then
 * test_free_all(). */
int sb_group_teardown(void **state);

mqtt5_client_core *sb_core(sb *b);
test_allocator *sb_allocator(sb *b);
/* The options the core was created with (allocator/callbacks/random replaced). */
const mqtt5_client_core_options *sb_options(const sb *b);

/* ---- clock and driving ---------------------------------------------------------------------- */
uint64_t sb_now(const sb *b);
/* Drives the core until time t: service, want, open/close the transport per the script, drain
 * mem_send, then jump the clock to min(wake_at, t); repeats until t is reached and quiet. */
#define sb_run_until(b, t) sb_run_until_(sb_at_((b), __FILE__, __LINE__), (t))
#define sb_advance(b, ms) sb_run_until_(sb_at_((b), __FILE__, __LINE__), sb_now(b) + (ms))
#define sb_settle(b) sb_run_until_(sb_at_((b), __FILE__, __LINE__), sb_now(b))
void sb_run_until_(sb *b, uint64_t t);
/* wake_at as last seen after settling (MQTT5_TIME_NEVER if none). */
uint64_t sb_wake_at(const sb *b);

/* start / stop (must return 0), then settle. */
#define sb_start(b) sb_start_(sb_at_((b), __FILE__, __LINE__))
void sb_start_(sb *b);
#define sb_stop(b, disconnect) sb_stop_(sb_at_((b), __FILE__, __LINE__), (disconnect))
void sb_stop_(sb *b, const mqtt5_disconnect *disconnect);

/* Operations through the harness, so sb_free can check one completion per accepted op. Each
 * returns the core's result; *op_id may be NULL. sb_note_op records an op submitted directly. */
#define sb_publish(b, p, o, id) sb_publish_(sb_at_((b), __FILE__, __LINE__), (p), (o), (id))
int sb_publish_(sb *b, const mqtt5_publish *p, const mqtt5_op_options *o, uint64_t *op_id);
#define sb_subscribe(b, s, o, id) sb_subscribe_(sb_at_((b), __FILE__, __LINE__), (s), (o), (id))
int sb_subscribe_(sb *b, const mqtt5_subscribe *s, const mqtt5_op_options *o, uint64_t *op_id);
#define sb_unsubscribe(b, u, o, id) sb_unsubscribe_(sb_at_((b), __FILE__, __LINE__), (u), (o), (id))
int sb_unsubscribe_(sb *b, const mqtt5_unsubscribe *u, const mqtt5_op_options *o, uint64_t *op_id);
void sb_note_op(sb *b, uint64_t op_id);
/* Manual acknowledgement. sb_take_acks(b, true): every on_publish of a QoS 1/2 message calls
 * mqtt5_client_core_take_ack with its handle (a failure is reported at the next harness step);
 * the handles are in sb_received_at(b, i)->ack_handle. sb_send_ack calls
 * mqtt5_client_core_send_ack at the current time, settles, and returns its result. */
void sb_take_acks(sb *b, bool on);
#define sb_send_ack(b, handle, reason)                                                             \
    sb_send_ack_(sb_at_((b), __FILE__, __LINE__), (handle), (reason))
int sb_send_ack_(sb *b, uint64_t handle, uint8_t reason);
/* `fn` runs inside every on_publish, after the harness recorded the message (NULL = none). It runs
 * inside the core: it may use the operation calls (take_ack, publish, ...) but must not fail the
 * test itself; record what it saw and check it after the harness step. */
typedef void (*sb_publish_hook)(sb *b, const mqtt5_inbound_publish *msg, void *ctx);
void sb_on_publish_hook(sb *b, sb_publish_hook fn, void *ctx);
/* Status filled by the last stop/publish/subscribe/unsubscribe through the harness. */
const mqtt5_codec_status *sb_status(const sb *b);

/* ---- transport script ----------------------------------------------------------------------- */
void sb_on_open(sb *b, int mode); /* SB_ACCEPT, SB_MANUAL or SB_FAIL(err) */
/* SB_MANUAL: the pending open succeeds / fails now (then settle). */
#define sb_accept_open(b) sb_accept_open_(sb_at_((b), __FILE__, __LINE__))
void sb_accept_open_(sb *b);
#define sb_fail_open(b, err) sb_fail_open_(sb_at_((b), __FILE__, __LINE__), (err))
void sb_fail_open_(sb *b, int err);
/* The broker closes the transport: on_transport_closed(now, err), then settle. */
#define sb_close(b, err) sb_close_(sb_at_((b), __FILE__, __LINE__), (err))
void sb_close_(sb *b, int err);
bool sb_transport_is_open(const sb *b);
size_t sb_client_closes(const sb *b); /* closes done because the core stopped wanting it */
size_t sb_opens(const sb *b);         /* successful on_transport_open calls */

/* ---- broker side: bytes to the client (mem_recv, then settle) ------------------------------- */
#define sb_send_hex(b, hex) sb_send_hex_(sb_at_((b), __FILE__, __LINE__), (hex))
void sb_send_hex_(sb *b, const char *hex);
#define sb_send_bytes(b, d, n) sb_send_bytes_(sb_at_((b), __FILE__, __LINE__), (d), (n))
void sb_send_bytes_(sb *b, const uint8_t *data, size_t len);
#define sb_send(b, p) sb_send_(sb_at_((b), __FILE__, __LINE__), (p))
void sb_send_(sb *b, const mqtt5_packet *p);
/* The encoding of p in two mem_recv calls: [0, at) and [at, end). */
#define sb_send_split(b, p, at) sb_send_split_(sb_at_((b), __FILE__, __LINE__), (p), (at))
void sb_send_split_(sb *b, const mqtt5_packet *p, size_t at);
/* CONNACK with the reason, flag and properties (NULL = none). */
#define sb_connack(b, reason, sp, props)                                                           \
    sb_connack_(sb_at_((b), __FILE__, __LINE__), (reason), (sp), (props))
void sb_connack_(sb *b, uint8_t reason, bool session_present, const mqtt5_properties *props);
/* start (if stopped), let the transport open, take the CONNECT, answer CONNACK 0x00 with
 * `props`, and check "ATTEMPTING_CONNECT; CONNECTION_SUCCESS". Needs SB_ACCEPT. */
#define sb_connect(b, props) sb_connect_(sb_at_((b), __FILE__, __LINE__), (props))
void sb_connect_(sb *b, const mqtt5_properties *connack_props);

/* ---- randomness ----------------------------------------------------------------------------- */
/* random_u64 returns values[0..n) in order, then repeats the last (0 before any script). A new
 * script replaces the old one from its first value. */
void sb_random(sb *b, const uint64_t *values, size_t n);
size_t sb_random_draws(const sb *b); /* calls to random_u64 so far */

/* ---- what the client wrote ------------------------------------------------------------------ */
/* Next unread packet, or NULL. */
#define sb_next_packet(b) sb_next_packet_(sb_at_((b), __FILE__, __LINE__))
const sb_packet *sb_next_packet_(sb *b);
/* Next unread packet, which must exist and have `type`. */
#define sb_expect_packet(b, type) sb_expect_packet_(sb_at_((b), __FILE__, __LINE__), (type))
const sb_packet *sb_expect_packet_(sb *b, mqtt5_packet_type type);
/* Next unread packet, whose bytes must be exactly `hex` (hex.h syntax). */
#define sb_expect_hex(b, hex) sb_expect_hex_(sb_at_((b), __FILE__, __LINE__), (hex))
const sb_packet *sb_expect_hex_(sb *b, const char *hex);
/* No unread packet. */
#define sb_expect_no_packet(b) sb_expect_no_packet_(sb_at_((b), __FILE__, __LINE__))
void sb_expect_no_packet_(sb *b);
size_t sb_batches(const sb *b); /* mem_send batches so far */

/* ---- what the client reported --------------------------------------------------------------- */
/*
 * The lifecycle events since the last sb_expect_events are exactly `spec`: items separated by
 * ';' or newlines, each "TYPE [MQTT5_ERR_X] [@time] [rc=0xNN]" where TYPE is ATTEMPTING_CONNECT,
 * CONNECTION_SUCCESS, CONNECTION_FAILURE, DISCONNECTION or STOPPED, rc is the CONNACK reason
 * (SUCCESS/FAILURE) or the server DISCONNECT's reason (DISCONNECTION); fields left out are not
 * compared. "" = no events.
 */
#define sb_expect_events(b, spec) sb_expect_events_(sb_at_((b), __FILE__, __LINE__), (spec))
void sb_expect_events_(sb *b, const char *spec);
/*
 * The trace since the last sb_expect_order contains `spec` as a subsequence (other entries may
 * come between). Trace entries: the lifecycle TYPE names; OUT:<PACKET> (client wrote),
 * IN:<PACKET> (broker sent), OPEN, OPEN_FAILED, OPEN_PENDING, CLOSE_CLIENT, CLOSE_SERVER,
 * COMPLETE, PUBLISH_IN. <PACKET> is the upper-case type name: OUT:DISCONNECT.
 */
#define sb_expect_order(b, spec) sb_expect_order_(sb_at_((b), __FILE__, __LINE__), (spec))
void sb_expect_order_(sb *b, const char *spec);

size_t sb_event_count(const sb *b);
const sb_event *sb_event_at(const sb *b, size_t i);
const sb_event *sb_last_event(const sb *b);
/* Times of every event of `type` since sb_new, in order; returns how many (may exceed cap). */
size_t sb_event_times(const sb *b, mqtt5_lifecycle_type type, uint64_t *out, size_t cap);
size_t sb_received_count(const sb *b);
const sb_received *sb_received_at(const sb *b, size_t i);
size_t sb_completion_count(const sb *b);
const sb_completion *sb_completion_at(const sb *b, size_t i);

/* Prints the event log, trace and unread packets (what a failure prints). */
void sb_dump(const sb *b);

/* Records the call site for the macros above; returns b. */
sb *sb_at_(sb *b, const char *file, int line);

#endif
