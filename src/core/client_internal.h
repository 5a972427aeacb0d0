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
    size_t count;
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
 * the CONNECT template (encoded in `connect_wire`), the callbacks (`cb`), the batch size
 * (`out_cap`) and what only construction reads. */
typedef struct client_options {
    uint32_t connack_timeout_ms, ping_timeout_ms, ack_timeout_ms, reconnect_reset_after_ms;
    uint32_t max_queued_ops, max_inbound_packet_size;
    size_t max_queued_bytes;
    uint16_t receive_maximum, alias_out_cache, alias_in_max;
    uint8_t session_behavior; /* mqtt5_session_behavior */
    uint8_t offline_policy;   /* mqtt5_offline_policy */
    uint8_t alias_out;        /* mqtt5_alias_out */
    uint8_t alias_in;         /* mqtt5_alias_in */
    bool receive_maximum_strict, iot_core;
    bool auth; /* the CONNECT template has an authentication method */
} client_options;

/* The statistics the core counts: mqtt5_client_stats less what mqtt5_client_core_stats works
 * out when asked (incomplete and unacknowledged operations). */
typedef struct client_stats {
    uint64_t bytes_sent, bytes_received, batches_sent;
    uint64_t packets_sent[16], packets_received[16]; /* by packet type */
    uint64_t connect_attempts, connect_failures, disconnections;
    uint64_t pings_sent, ack_timeouts;
    uint64_t receive_maximum_exceeded;
    size_t memory_in_use, memory_peak;
} client_stats;

/* A DISCONNECT or AUTH to send, deep-copied: the packet heads its own allocation of `size`
 * bytes and its views point into the rest. */
typedef struct client_packet_copy {
    size_t size;
    mqtt5_disconnect packet;
} client_packet_copy;

/*
 * The core is one allocation: this struct, with what every client needs, followed by the CONNECT
 * template encoded (connect_wire: encoded and checked at construction, decoded by
 * client_connect_template whenever a CONNECT is built or the template is read). Everything else
 * is behind pointers that are NULL while unused: a pending DISCONNECT with properties or AUTH has
 * its own copy; owed packets beyond CLIENT_CONTROL_LOCAL spill into a ring that is freed once
 * drained; the batch buffer is allocated by the first mem_send of a connection (mem_send_buf
 * never needs it) and freed when the transport closes; the decoder holds a gather buffer only
 * while a packet split across mem_recv calls is pending; packet ids in use live in the struct up
 * to four per set; topic alias tables come with their first binding. An idle connected core holds
 * the one allocation and nothing else.
 */
struct mqtt5_client_core {
    mqtt5_allocator alloc;
    mqtt5_allocator counted; /* alloc, through client_alloc: the statistics see everything */
    client_options opt;
    mqtt5_client_core_callbacks cb;
    uint64_t now;

    /* timers (MQTT5_TIME_NEVER when off) */
    uint64_t deadline; /* the state's own: MQTT_CONNECT the CONNACK timeout, CONNECTED the backoff
                        * reset, CLEAN_DISCONNECT the end of the wait for the DISCONNECT to go
                        * out, PENDING_RECONNECT the next attempt */
    uint64_t next_ping_at, ping_deadline;
    client_rng rng;
    client_backoff backoff;

    int in_callback;
    uint32_t generation; /* connection counter, part of ack handles */
    mqtt5_client_state state;
    bool want_running; /* start() called and no stop() since */
    bool attempt_open; /* ATTEMPTING_CONNECT emitted, no SUCCESS/FAILURE yet */
    bool connected;    /* SUCCESS emitted, no DISCONNECTION yet */
    bool stop_pending; /* a stop() owes a STOPPED event */
    bool transport_open;
    bool ever_connected; /* a CONNACK succeeded since start (REJOIN_POST_SUCCESS) */
    bool session_resumed;
    uint8_t failing_reason; /* the DISCONNECT reason being sent, during emit_final */

    /* outgoing control state */
    bool connect_due;
    bool ping_due;
    bool disconnect_due;
    bool reauth_running;                 /* we sent AUTH 0x19 and no AUTH 0x00 came back yet */
    uint8_t disconnect_reason;           /* the DISCONNECT to send when disconnect_copy is NULL */
    client_packet_copy *disconnect_copy; /* stop() with a DISCONNECT that needs a copy */
    client_packet_copy *auth; /* an AUTH from the user waiting to be handed out, or NULL */
    union {
        client_control *heap;                       /* control_cap entries */
        client_control local[CLIENT_CONTROL_LOCAL]; /* while control_cap is CLIENT_CONTROL_LOCAL */
    } control; /* ring of owed packets, the oldest at control_head */
    uint32_t control_cap, control_head, control_len;

    /* negotiated */
    bool has_settings;
    uint16_t client_id_len;
    mqtt5_negotiated_settings settings;
    char *client_id; /* assigned identifier, owned (client_id_len bytes, 1 when empty) */

    /* inbound */
    mqtt5_decoder decoder;          /* its buffer, while set, is our gather buffer of `cap` bytes */
    client_packet_ids inbound_qos2; /* PUBREC sent (or owed), waiting for PUBREL */
    client_packet_ids held_acks;    /* taken by the user, not yet sent */
    uint32_t inbound_unacked;       /* QoS 1/2 received and not fully acknowledged */
    uint16_t ack_id;                /* during on_publish: the message's packet id */
    uint8_t ack_qos;                /* and QoS (0: QoS 0, or no on_publish running) */
    bool ack_taken;                 /* set by take_ack during on_publish */
    client_alias_in alias_in;

    /* operations */
    uint64_t next_op_id;
    client_op_list queue;        /* accepted, waiting to be handed out (resends at the head) */
    client_op_list inflight;     /* handed out, waiting for an ack */
    uint32_t inflight_publishes; /* QoS 1/2 in flight, against the server's Receive Maximum */
    uint32_t pubrel_due;         /* in-flight operations with pubrel_due set */
    size_t incomplete_ops;       /* accepted and not yet completed (the queue bound) */
    client_op *spare_ops; /* freed publish_encoded records kept for the next ones while operations
                             are incomplete (so never more than were pending at once), freed when
                             none is; linked by next */
    size_t incomplete_bytes;
    size_t id_ops;         /* operations alive that need a packet id: room kept in `ids` */
    client_packet_ids ids; /* bound to operations */
    client_alias_out alias_out;
    client_token_bucket iot_publishes, iot_bytes;

    /* output */
    uint8_t *out_buf; /* mem_send's batch buffer of out_cap bytes, NULL until needed */
    size_t out_cap;
    size_t out_used;  /* high-water mark of out_buf, what the wipe covers */
    uint8_t *big_buf; /* one-off buffer for a packet bigger than the batch */
    size_t big_size;

    client_stats stats;
    /* the CONNECT template as mqtt5_packet_encode writes it (its size in its fixed header); it
     * holds the password: wiped at destroy */
    uint8_t connect_wire[];
};

/* ---- memory (client_core.c) ---- */
void *client_alloc(mqtt5_client_core *c, size_t size);
void client_free(mqtt5_client_core *c, void *ptr, size_t size);
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
