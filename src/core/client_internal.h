/*
 * client_internal.h - private state of the sans-I/O client core, shared by its files:
 * client_core.c (lifecycle, timers, transport events, mem_recv), client_ops.c (operations: copy,
 * validate, queue, complete, resubmit), client_send.c (mem_send/mem_send_buf batching) and
 * client_recv.c (inbound packets). Nothing here may do I/O or call the heap directly: memory comes
 * from `alloc`, and only when needed (see the struct).
 */
#ifndef MQTT5_CORE_CLIENT_INTERNAL_H
#define MQTT5_CORE_CLIENT_INTERNAL_H

#include "core/client_alias.h"
#include "core/client_packet_ids.h"
#include "core/client_rng.h"
#include "core/client_token_bucket.h"
#include "mqtt5/client_core.h"

/* One user operation (PUBLISH, SUBSCRIBE, UNSUBSCRIBE) with its packet deep-copied into the same
 * allocation. It lives in exactly one list: the user queue or the in-flight list. */
typedef struct client_op {
    struct client_op *prev, *next;
    uint64_t id;
    void *user_ctx;
    mqtt5_packet_type type; /* MQTT5_PUBLISH, MQTT5_SUBSCRIBE or MQTT5_UNSUBSCRIBE */
    union {
        mqtt5_publish publish;
        mqtt5_subscribe subscribe;
        mqtt5_unsubscribe unsubscribe;
    } u; /* views point into this allocation, or into `wire` */
    size_t alloc_size;
    size_t wire_size;    /* encoded size at submit (statistics, queue bound) */
    const uint8_t *wire; /* publish_encoded: the caller's PUBLISH bytes (not owned), else NULL */
    uint32_t wire_id_at; /* where the packet identifier sits in `wire` (QoS > 0) */
    uint32_t ack_timeout_ms; /* 0 = none */
    uint64_t deadline;       /* ack deadline while in flight */
    uint16_t packet_id;      /* bound when first handed out; 0 = none */
    uint8_t qos2_phase;      /* QoS 2: 0 waiting for PUBREC, 1 PUBREL due/sent, waiting PUBCOMP */
    bool sent;               /* handed out at least once on some connection (DUP on resend) */
    bool completed;          /* on_complete already ran (ack timeout): finish silently */
    bool pubrel_due;         /* QoS 2 in flight: PUBREC arrived, our PUBREL waits for mem_send */
} client_op;

/* PUBLISH QoS 1/2, SUBSCRIBE and UNSUBSCRIBE go out with a packet identifier. */
static inline bool client_op_needs_id(const client_op *op)
{
    return op->type != MQTT5_PUBLISH || op->u.publish.qos > 0;
}

typedef struct client_op_list {
    client_op *head, *tail;
} client_op_list;

/* A small packet owed to the server: PUBACK/PUBREC/PUBCOMP for inbound publishes, PUBREL for our
 * QoS 2 publishes. */
typedef struct client_control {
    uint8_t type; /* MQTT5_PUBACK, MQTT5_PUBREC, MQTT5_PUBREL, MQTT5_PUBCOMP */
    uint8_t reason;
    uint16_t packet_id;
} client_control;

#define CLIENT_CONTROL_LOCAL 4u /* owed packets held inside the core before the ring spills */

/* The options the core reads after construction, in small types: mqtt5_client_core_options less
 * the CONNECT template (encoded in the tail), the callbacks (`cb` and the tail), the batch size
 * (`out_cap`) and what only construction reads. */
typedef struct client_options {
    size_t max_queued_bytes;
    uint32_t connack_timeout_ms, ping_timeout_ms, ack_timeout_ms, reconnect_reset_after_ms;
    uint32_t max_queued_ops, max_inbound_packet_size;
    uint16_t receive_maximum, alias_out_cache;
    uint16_t alias_in_max;         /* the Topic Alias Maximum we advertise: 0 with alias_in off */
    unsigned session_behavior : 2; /* mqtt5_session_behavior */
    unsigned offline_policy : 2;   /* mqtt5_offline_policy */
    unsigned alias_out : 2;        /* mqtt5_alias_out */
    bool receive_maximum_strict : 1;
    bool ack_coalescing : 1; /* client_read_low_water may ask for more than 1 byte */
    bool iot_core : 1;       /* AWS IoT Core: limits, and its token buckets in the tail */
    bool auth : 1;           /* the CONNECT template has an authentication method (on_auth in the
                                tail) */
    bool wire_released : 1;  /* callbacks.on_wire_released was given (kept in the tail) */
    bool own_alloc : 1;      /* an allocator other than libc's was given (a copy in the tail, see
                                client_allocator; client_counted() makes the counting one) */
    bool in_place : 1;       /* made by mqtt5_client_core_new_in: the memory is the caller's */
} client_options;

/* The callbacks every client has; on_auth and on_wire_released, which only some clients give, are
 * kept in the tail (client_cb_auth, client_cb_wire_released). */
typedef struct client_callbacks {
    void *user;
    void (*on_lifecycle)(void *user, const mqtt5_lifecycle_event *ev);
    void (*on_publish)(void *user, const mqtt5_inbound_publish *msg);
    void (*on_complete)(void *user, const mqtt5_op_completion *done);
} client_callbacks;

/* Packet types the client sends (11 of the 16) and receives (any of 1..15: type 0 does not
 * decode, and a type the server must not send is counted before it is refused). */
#define CLIENT_SENT_TYPES 11u
#define CLIENT_RECEIVED_TYPES 15u
/* Where each type the client sends (CLIENT_SENT_TYPE_MASK) is counted, after
 * CLIENT_STAT_PACKETS_SENT. */
extern const uint8_t client_sent_slot[16];
#define CLIENT_SENT_TYPE_MASK                                                                      \
    (1u << MQTT5_CONNECT | 1u << MQTT5_PUBLISH | 1u << MQTT5_PUBACK | 1u << MQTT5_PUBREC |         \
     1u << MQTT5_PUBREL | 1u << MQTT5_PUBCOMP | 1u << MQTT5_SUBSCRIBE | 1u << MQTT5_UNSUBSCRIBE |  \
     1u << MQTT5_PINGREQ | 1u << MQTT5_DISCONNECT | 1u << MQTT5_AUTH)

/* The counters the core keeps (client_stats.low and .high), by index. */
enum client_counter {
    CLIENT_STAT_BYTES_SENT,
    CLIENT_STAT_BYTES_RECEIVED,
    CLIENT_STAT_BATCHES_SENT,
    CLIENT_STAT_CONNECT_ATTEMPTS,
    CLIENT_STAT_CONNECT_FAILURES,
    CLIENT_STAT_DISCONNECTIONS,
    CLIENT_STAT_ACK_TIMEOUTS,
    CLIENT_STAT_RECEIVE_MAXIMUM_EXCEEDED,
    CLIENT_STAT_ACK_COALESCING_PAUSES,
    CLIENT_STAT_PACKETS_SENT, /* + client_sent_slot[type] */
    CLIENT_STAT_PACKETS_RECEIVED = CLIENT_STAT_PACKETS_SENT + CLIENT_SENT_TYPES, /* + type - 1 */
    CLIENT_STAT_COUNTERS = CLIENT_STAT_PACKETS_RECEIVED + CLIENT_RECEIVED_TYPES
};

/*
 * The statistics the core counts: mqtt5_client_stats less what mqtt5_client_core_stats works
 * out when asked (incomplete and unacknowledged operations, pings_sent, which is
 * packets_sent[PINGREQ], and the types that are never counted).
 *
 * Each counter is 64 bits wide as there, kept in two halves: the low 32 bits in `low`, the high
 * ones in `high`, a table of CLIENT_STAT_COUNTERS words allocated (client_alloc) only when a
 * counter first needs it, freed at destroy. Every increment goes through client_count, which
 * carries into `high` and asks for the table as soon as a low word has its top bit set, again at
 * every increment of that counter (and at a carry) while the table is missing, so it is there
 * long before any counter wraps. A failed allocation is never reported and fails nothing: it
 * only defers the table. Only if it fails every time it is asked, from the increment that sets a
 * counter's top bit to the one that wraps it (2^31 allocations in a row for a counter counted by
 * one), is that carry lost: the counter then reads 2^32 short, for good. memory_in_use and
 * memory_peak are gauges, kept whole.
 */
typedef struct client_stats {
    size_t memory_in_use, memory_peak;
    uint32_t *high;                     /* CLIENT_STAT_COUNTERS high words, or NULL */
    uint32_t low[CLIENT_STAT_COUNTERS]; /* at enum client_counter */
} client_stats;

/* What the last CONNACK settled: mqtt5_negotiated_settings less what follows from the options,
 * the keep-alive and the state (client_settings_get fills in the rest). */
typedef struct client_settings {
    uint32_t session_expiry_s;            /* the server's if sent, else ours */
    uint32_t max_packet_size_to_server;   /* 0 = no limit set */
    uint16_t keep_alive_s;                /* Server Keep Alive if sent, else ours; 0 = no pings */
    uint16_t receive_maximum_from_server; /* 65535 when not sent */
    uint16_t topic_alias_max_to_server;   /* also the size the outbound alias table is used at */
    uint8_t maximum_qos;
    bool retain_available : 1, wildcard_available : 1, shared_available : 1;
    bool subscription_ids_available : 1;
} client_settings;

/* The streaming decoder between mem_recv calls: mqtt5_decoder less what is known anyway (the
 * limit is opt.max_inbound_packet_size, storage is `need` bytes when attached, an error is never
 * carried over: it ends the connection, and the decoder is reset before input is read again).
 * mem_recv works on an mqtt5_decoder made from this and puts it back. */
typedef struct client_gather {
    uint8_t *buf;       /* storage of the pending split packet (`need` bytes), or NULL */
    uint32_t len, need; /* bytes held, the packet's size (0 while its fixed header is incomplete) */
    uint8_t head[8];    /* mqtt5_decoder.head */
} client_gather;

/* A DISCONNECT or AUTH to send, deep-copied: the packet heads its own allocation of `size`
 * bytes and its views point into the rest. */
typedef struct client_packet_copy {
    size_t size;
    mqtt5_disconnect packet;
} client_packet_copy;

/*
 * The core is one allocation: this struct, with what every client needs, followed by its tail:
 * what only some clients need, sized at construction from the options, then the CONNECT template
 * encoded (encoded and checked at construction, decoded by client_connect_template whenever a
 * CONNECT is built or the template is read):
 *
 *   [2 client_token_bucket]  opt.iot_core: AWS IoT Core's 100 PUBLISH/s and 512 KiB/s
 *   [on_auth]                opt.auth
 *   [on_wire_released]       opt.wire_released
 *   [mqtt5_allocator]        opt.own_alloc: the options' allocator, copied (libc's is static)
 *   [CONNECT template]       as mqtt5_packet_encode writes it (its size in its fixed header);
 *                            it holds the password: wiped at destroy
 *
 * Everything else is behind pointers that are NULL while unused: a pending DISCONNECT with
 * properties or AUTH has its own copy; owed packets beyond CLIENT_CONTROL_LOCAL spill into a ring
 * that is freed once drained; the batch buffer is allocated by the first mem_send of a connection
 * (mem_send_buf never needs it) and freed when the transport closes; the decoder holds a gather
 * buffer only while a packet split across mem_recv calls is pending; packet ids in use live in the
 * struct up to four per set; topic alias tables come with their first binding. An idle connected
 * core holds the one allocation and nothing else.
 *
 * Fields are grouped by alignment, so the struct has no holes: 568 bytes on a 64-bit target, of
 * which 160 are statistics (tests/unit/test_client_buffers.c holds the idle core to that).
 */
struct mqtt5_client_core {
    client_callbacks cb;
    client_options opt;
    client_stats stats;

    /* timers (MQTT5_TIME_NEVER when off) */
    uint64_t now;
    uint64_t deadline; /* the state's own: MQTT_CONNECT the CONNACK timeout, CONNECTED the backoff
                        * reset, CLEAN_DISCONNECT the end of the wait for the DISCONNECT to go
                        * out, PENDING_RECONNECT the next attempt */
    uint64_t ping_at;  /* read in CONNECTED only: when the last PINGREQ went out, or the CONNACK
                        * came before the first (client_next_ping_at, client_ping_deadline) */
    client_rng rng;

    /* outgoing control state */
    client_packet_copy *disconnect_copy; /* stop() with a DISCONNECT that needs a copy */
    client_packet_copy *auth; /* an AUTH from the user waiting to be handed out, or NULL */
    union {
        client_control *heap; /* CLIENT_CONTROL_LOCAL << control_grown entries */
        client_control local[CLIENT_CONTROL_LOCAL]; /* while control_grown is 0 */
    } control; /* ring of owed packets, the oldest at control_head */

    char *client_id; /* assigned identifier, owned (client_id_len bytes, 1 when empty) */

    /* inbound */
    client_gather gather;           /* the decoder's state (client_gather) */
    client_packet_ids inbound_qos2; /* PUBREC sent (or owed), waiting for PUBREL */
    client_packet_ids held_acks;    /* taken by the user, not yet sent */
    client_alias_slot *alias_in;    /* client_alias_in.slots (its max is opt.alias_in_max) */

    /* operations */
    uint64_t next_op_id;
    client_op_list queue;    /* accepted, waiting to be handed out (resends at the head) */
    client_op_list inflight; /* handed out, waiting for an ack */
    client_op *spare_ops; /* freed publish_encoded records kept for the next ones while operations
                             are incomplete (so never more than were pending at once), freed when
                             none is; linked by next */
    size_t incomplete_bytes;
    client_packet_ids ids;         /* bound to operations */
    client_alias_table *alias_out; /* client_alias_out.table (see client_aliases_open) */

    /* output */
    uint8_t *out_buf; /* mem_send's batch buffer of out_cap bytes, NULL until needed */
    uint8_t *big_buf; /* one-off buffer for a packet bigger than the batch (big_size bytes) */

    /* 4-byte fields */
    client_backoff backoff;
    client_settings settings; /* valid once has_settings */
    int in_callback;
    uint32_t generation; /* connection counter, part of ack handles */
    uint32_t control_head, control_len;
    uint32_t inbound_unacked;    /* QoS 1/2 received and not fully acknowledged */
    uint32_t inflight_publishes; /* QoS 1/2 in flight, against the server's Receive Maximum */
    uint32_t pubrel_due;         /* in-flight operations with pubrel_due set */
    uint32_t incomplete_ops;     /* accepted and not yet completed: at most opt.max_queued_ops */
    uint32_t out_used;   /* high-water mark of out_buf, what the wipe covers (UINT32_MAX: all) */
    uint32_t big_size;   /* a packet's size: below 2^32 */
    uint32_t out_cap;    /* opt's write_batch_size (at most UINT32_MAX) */
    uint32_t read_since; /* low 32 bits of the time of the last mem_recv or batch handed out:
                          * client_read_low_water's wait for acks counts from there */
    uint32_t id_ops;     /* operations alive that need a packet id (<= incomplete_ops): room kept
                          * in `ids` */

    /* 2- and 1-byte fields */
    uint16_t client_id_len;
    uint16_t ack_id;             /* during on_publish: the message's packet id */
    uint16_t alias_out_count;    /* client_alias_out.count */
    uint16_t coalesce_strike_at; /* low 16 bits of the time of the last starved wait (see
                                  * client_read_wait_timed_out); with coalesce_paused, the pause
                                  * counts from there */
    uint8_t failing_reason;      /* the DISCONNECT reason being sent, during emit_final */
    uint8_t disconnect_reason;   /* the DISCONNECT to send when disconnect_copy is NULL */
    uint8_t ack_qos;             /* and its QoS (0: QoS 0, or no on_publish running) */
    unsigned state : 3;          /* mqtt5_client_state */
    unsigned control_grown : 5;  /* the ring of owed packets doubled that often: 0 (inside the
                                    core) to 16 (enough for every packet id) */
    bool want_running : 1;       /* start() called and no stop() since */
    bool attempt_open : 1;       /* ATTEMPTING_CONNECT emitted, no SUCCESS/FAILURE yet */
    bool connected : 1;          /* SUCCESS emitted, no DISCONNECTION yet */
    bool stop_pending : 1;       /* a stop() owes a STOPPED event */
    bool transport_open : 1;
    bool ever_connected : 1;  /* a CONNACK succeeded since start (REJOIN_POST_SUCCESS) */
    bool session_resumed : 1; /* the last CONNACK's session present (settings.rejoined_session) */
    bool has_settings : 1;    /* a CONNACK was accepted since construction */
    bool connect_due : 1;
    bool ping_due : 1;
    bool ping_outstanding : 1; /* a PINGREQ went out at ping_at, no PINGRESP yet */
    bool disconnect_due : 1;
    bool reauth_running : 1;  /* we sent AUTH 0x19 and no AUTH 0x00 came back yet */
    bool ack_taken : 1;       /* set by take_ack during on_publish */
    bool read_wait_over : 1;  /* the wait for coalesced acks timed out; cleared by mem_recv */
    bool coalesce_struck : 1; /* coalesce_strike_at holds a starved wait of this connection */
    bool coalesce_paused : 1; /* two starved waits close together: no coalescing until
                               * client_coalesce_pause_end, when service clears it */

    _Alignas(8) uint8_t tail[]; /* see above */
};

/* ---- memory, the tail, settings (client_core.c) ---- */
void *client_alloc(mqtt5_client_core *c, size_t size);
void client_free(mqtt5_client_core *c, void *ptr, size_t size);
/* `alloc` through client_alloc (the statistics see everything), for the modules that take an
 * allocator: a value, valid while `c` is. */
mqtt5_allocator client_counted(mqtt5_client_core *c);

/* ---- statistics (client_core.c) ---- */
/* The slow path of client_count: make the high-word table if missing, add `carry` to counter i. */
void client_count_carry(mqtt5_client_core *c, unsigned i, uint32_t carry);

/* Add `add` to counter i (enum client_counter), with 64-bit semantics (see client_stats). */
static inline void client_count(mqtt5_client_core *c, unsigned i, uint64_t add)
{
    uint32_t low = c->stats.low[i];
    uint32_t sum = low + (uint32_t)add;
    uint32_t carry = (uint32_t)(add >> 32) + (sum < low); /* mod 2^32, as the high word */
    c->stats.low[i] = sum;
    if (carry || (sum >> 31 && !c->stats.high)) client_count_carry(c, i, carry);
}

/* AWS IoT Core's token buckets, first in the tail: [0] PUBLISH/s, [1] bytes/s (opt.iot_core). */
static inline client_token_bucket *client_iot_buckets(mqtt5_client_core *c)
{
    return (client_token_bucket *)(void *)c->tail;
}
static inline const client_token_bucket *client_iot_buckets_const(const mqtt5_client_core *c)
{
    return (const client_token_bucket *)(const void *)c->tail;
}
typedef void (*client_auth_fn)(void *user, const mqtt5_disconnect *auth);
typedef void (*client_wire_released_fn)(void *user, void *user_ctx);
client_auth_fn client_cb_auth(const mqtt5_client_core *c); /* NULL unless opt.auth */
client_wire_released_fn client_cb_wire_released(const mqtt5_client_core *c); /* NULL if not given */

/* The settings as mqtt5_negotiated_settings (what the last CONNACK settled). */
void client_settings_get(const mqtt5_client_core *c, mqtt5_negotiated_settings *out);
/* min(opt.ping_timeout_ms, keep-alive / 2), as settings.ping_timeout_ms says. */
uint32_t client_ping_timeout_ms(const mqtt5_client_core *c);
/* When the next PINGREQ is due, and the PINGRESP (MQTT5_TIME_NEVER when none is). */
uint64_t client_next_ping_at(const mqtt5_client_core *c);
uint64_t client_ping_deadline(const mqtt5_client_core *c);

/* The outbound alias table as client_alias.c works on it: made from the core (the allocator `al`,
 * from client_counted, must outlive `a`'s use), then put back after a call that may change it. */
void client_aliases_open(const mqtt5_client_core *c, const mqtt5_allocator *al,
                         client_alias_out *a);
void client_aliases_close(mqtt5_client_core *c, const client_alias_out *a);

/* A DISCONNECT or AUTH copy; NULL when out of memory. Freeing wipes it; NULL is fine. */
client_packet_copy *client_packet_copy_new(mqtt5_client_core *c, const mqtt5_disconnect *src);
void client_packet_copy_free(mqtt5_client_core *c, client_packet_copy *copy);
/* The CONNECT template, decoded from connect_wire: its views point into the core. */
void client_connect_template(const mqtt5_client_core *c, mqtt5_packet *out);

/* ---- events and transitions (client_core.c) ---- */
void client_emit_lifecycle(mqtt5_client_core *c, mqtt5_lifecycle_type type, int error,
                           const mqtt5_connack *connack, const mqtt5_disconnect *disconnect);
/* End the current connection because of `error`: report it, send DISCONNECT with `reason` when
 * reason != 0 and the transport is up, then close. `server` is the server's DISCONNECT if any. */
void client_fail_connection(mqtt5_client_core *c, int error, uint8_t reason,
                            const mqtt5_connack *connack, const mqtt5_disconnect *server);
void client_on_connack(mqtt5_client_core *c, const mqtt5_connack *connack);

/* ---- operations (client_ops.c) ---- */
void op_list_push_back(client_op_list *l, client_op *op);
void op_list_push_front(client_op_list *l, client_op *op);
void op_list_remove(client_op_list *l, client_op *op);
/* Run on_complete (unless already done), update statistics. Does not unlink or free. */
void client_op_complete(mqtt5_client_core *c, client_op *op, int error, const mqtt5_packet *ack);
void client_op_free(mqtt5_client_core *c, client_op *op);
/* Free the records kept for reuse (client_op_free keeps them only while work is pending). */
void client_ops_free_spares(mqtt5_client_core *c);
/* Unlink from `l`, complete and free. */
void client_op_finish(mqtt5_client_core *c, client_op_list *l, client_op *op, int error,
                      const mqtt5_packet *ack);
/* Connection ended: unacked operations go back to the queue front, then the offline policy. */
void client_ops_on_disconnect(mqtt5_client_core *c);
/* CONNACK accepted: keep or rebind packet ids depending on whether the session was resumed. */
void client_ops_on_connack(mqtt5_client_core *c);
/* Fail every operation with `error` (stop, destroy). */
void client_ops_fail_all(mqtt5_client_core *c, int error);
/* 0, or why `op` cannot be sent under the negotiated settings (availability, size). */
int client_op_check_settings(const mqtt5_client_core *c, const client_op *op);
client_op *client_inflight_find(mqtt5_client_core *c, uint8_t op_type, uint16_t packet_id);
/* Fire expired ack deadlines. */
void client_ops_service_timeouts(mqtt5_client_core *c);
/* Earliest ack deadline in flight (MQTT5_TIME_NEVER if none). */
uint64_t client_ops_next_deadline(const mqtt5_client_core *c);

/* ---- control packets and readiness (client_send.c) ---- */
/* When a queued operation may be handed out: now, a later time (AWS IoT Core pacing), or
 * MQTT5_TIME_NEVER while the server's Receive Maximum holds it (an ack will free it). */
uint64_t client_op_ready_at(const mqtt5_client_core *c, const client_op *op);
/* want.read_low_water: 1, or the bytes of 3/4 of the server's Receive Maximum in smallest acks
 * while that window is full and a QoS 1/2 publish waits for it (and the wait has not timed out, and
 * coalescing is not paused). */
uint32_t client_read_low_water(const mqtt5_client_core *c);
/* The bound of that wait: whatever else arrives meanwhile is read this much later at most. */
#define CLIENT_ACK_COALESCE_MS 2u
/* Two starved waits (timed out with fewer packets read than a quarter of the acks the mark waits
 * for) at most CLIENT_ACK_STRIKE_MS apart pause coalescing for CLIENT_ACK_PAUSE_MS: the server
 * holds its acks until ours (Nagle's algorithm), see client_read_wait_timed_out. */
#define CLIENT_ACK_STRIKE_MS 50u
#define CLIENT_ACK_PAUSE_MS 1000u
/* The mark client_read_low_water asks for while it waits for acks (1 when it does not wait),
 * whether or not that wait timed out or is paused. */
uint32_t client_coalesce_mark(const mqtt5_client_core *c);
/* mem_recv after a wait for `mark` bytes timed out, with the `packets` it read: counts a starved
 * wait, and pauses coalescing after two close together. */
void client_read_wait_timed_out(mqtt5_client_core *c, uint32_t mark, uint32_t packets);
/* While coalesce_paused: when the pause ends (c->now once it has). */
uint64_t client_coalesce_pause_end(const mqtt5_client_core *c);
/* When that wait ends: read_since + CLIENT_ACK_COALESCE_MS (c->now once it has passed). */
uint64_t client_read_wait_end(const mqtt5_client_core *c);
/* Owe the server a PUBACK/PUBREC/PUBREL/PUBCOMP; false when a spilled ring cannot grow. */
bool client_control_push(mqtt5_client_core *c, uint8_t type, uint16_t packet_id, uint8_t reason);
/* Connection ended or destroy: forget every owed packet and give back a spilled ring. */
void client_control_clear(mqtt5_client_core *c);
bool client_has_output(const mqtt5_client_core *c);
/* Connection ended or destroy: wipe and free the batch buffer and the one-off buffer. */
void client_send_release(mqtt5_client_core *c);

/* ---- inbound (client_recv.c) ---- */
void client_handle_packet(mqtt5_client_core *c, const mqtt5_packet *p);

/* ---- enhanced authentication (client_auth.c) ---- */
bool client_auth_enabled(const mqtt5_client_core *c);
void client_auth_on_packet(mqtt5_client_core *c, const mqtt5_disconnect *auth);
void client_auth_reset(mqtt5_client_core *c); /* connection ended */

#endif
