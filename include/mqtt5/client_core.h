/*
 * mqtt5/client_core.h - the sans-I/O MQTT 5 client state machine.
 *
 * The core does everything a client does between "bytes arrived", "time passed" and "the user
 * asked for something", and nothing else: no sockets, threads, TLS or clock. Time is the
 * caller's monotonic milliseconds, passed into every call that may act on it.
 *
 * Driving it (what the runtime does, and what a bare-metal user can do):
 *   1. mqtt5_client_core_service(core, now, &wake): timers fire, events are delivered;
 *   2. mqtt5_client_core_want(core, &want): open the transport if want.transport_open and it is
 *      closed, close it if not; report the result with on_transport_open / on_transport_closed;
 *   3. when the transport is open and no write is in flight: mqtt5_client_core_mem_send() (or
 *      mqtt5_client_core_mem_send_buf() into the caller's buffer) hands out one batch of whole
 *      packets; write all of it, then ask again;
 *   4. bytes read go to mqtt5_client_core_mem_recv();
 *   5. sleep until I/O or want.wake_at (want.read_low_water says how many bytes are worth
 *      waking up for: 1, or more while acks are coalesced, see options.ack_coalescing).
 *
 * Callbacks run only inside these calls, on the caller's thread. From inside a callback the
 * operation calls (publish, subscribe, unsubscribe, stop, start, acks, getters) work; the driving
 * calls (mem_recv, mem_send, mem_send_buf, service, on_transport_*, destroy) return
 * MQTT5_ERR_BUSY.
 *
 * Memory: an idle connected core is one small allocation (its state and the CONNECT template,
 * kept encoded), whatever receive_maximum; acknowledgements owed beyond a few take a ring until
 * the next batch has them. Buffers come when needed: mem_send's batch buffer (write_batch_size)
 * from the first batch of a connection until the transport closes (mem_send_buf needs none); a
 * packet split across mem_recv calls is gathered in a buffer of its size, freed once it is
 * decoded; packet identifiers in use fit in the core up to four per kind, then cost 2 to 4 bytes
 * each.
 *
 * Operations: an accepted operation (return 0) gets exactly one on_complete; a refused one returns
 * the error at once, names the field in `status`, and never completes. Lifecycle: every
 * ATTEMPTING_CONNECT ends in exactly one CONNECTION_SUCCESS or CONNECTION_FAILURE; every SUCCESS
 * in exactly one DISCONNECTION; every stop that takes effect in one STOPPED.
 */
#ifndef MQTT5_CLIENT_CORE_H
#define MQTT5_CLIENT_CORE_H

#include "mqtt5/allocator.h"
#include "mqtt5/codec.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MQTT5_TIME_NEVER UINT64_MAX /* no deadline */

typedef enum mqtt5_session_behavior {
    MQTT5_SESSION_CLEAN = 0,           /* clean start on every connection (default) */
    MQTT5_SESSION_REJOIN_POST_SUCCESS, /* clean start until a connection succeeded, then rejoin */
    MQTT5_SESSION_REJOIN_ALWAYS,       /* always ask to rejoin */
} mqtt5_session_behavior;

typedef enum mqtt5_offline_policy {
    MQTT5_OFFLINE_FAIL_QOS0_PUBLISH_ON_DISCONNECT = 0, /* default */
    MQTT5_OFFLINE_FAIL_NON_QOS1_PUBLISH_ON_DISCONNECT, /* keep only QoS 1 and 2 publishes */
    MQTT5_OFFLINE_FAIL_ALL_ON_DISCONNECT,
} mqtt5_offline_policy;

typedef enum mqtt5_jitter {
    MQTT5_JITTER_FULL = 0,     /* uniform in [min, min(max, min * 2^n)] (default) */
    MQTT5_JITTER_NONE,         /* min(max, min * 2^n) */
    MQTT5_JITTER_DECORRELATED, /* min(max, uniform in [min, 3 * previous delay]) */
} mqtt5_jitter;

typedef enum mqtt5_alias_out {
    MQTT5_ALIAS_OUT_DISABLED = 0, /* default; a topicAlias set by the user is refused */
    MQTT5_ALIAS_OUT_MANUAL,       /* the user picks aliases (always giving the topic too) */
    MQTT5_ALIAS_OUT_LRU,          /* the client picks, least recently used replaced */
} mqtt5_alias_out;

typedef enum mqtt5_alias_in {
    MQTT5_ALIAS_IN_DISABLED = 0, /* default: Topic Alias Maximum 0 in CONNECT */
    MQTT5_ALIAS_IN_ENABLED,
} mqtt5_alias_in;

typedef enum mqtt5_lifecycle_type {
    MQTT5_LC_ATTEMPTING_CONNECT,
    MQTT5_LC_CONNECTION_SUCCESS,
    MQTT5_LC_CONNECTION_FAILURE,
    MQTT5_LC_DISCONNECTION,
    MQTT5_LC_STOPPED,
} mqtt5_lifecycle_type;

typedef enum mqtt5_client_state {
    MQTT5_CS_STOPPED,
    MQTT5_CS_CONNECTING,   /* waiting for the transport to open */
    MQTT5_CS_MQTT_CONNECT, /* CONNECT sent, waiting for CONNACK */
    MQTT5_CS_CONNECTED,
    MQTT5_CS_CLEAN_DISCONNECT,  /* sending our DISCONNECT, then closing */
    MQTT5_CS_CLOSING,           /* waiting for the transport to close */
    MQTT5_CS_PENDING_RECONNECT, /* backing off */
} mqtt5_client_state;

/* Lowercase name of a lifecycle event type / client state; "unknown" otherwise. */
const char *mqtt5_lifecycle_type_name(int type);
const char *mqtt5_client_state_name(int state);

typedef struct mqtt5_negotiated_settings {
    bool rejoined_session;
    uint8_t maximum_qos; /* 2 unless the server said otherwise */
    bool retain_available, wildcard_available, shared_available, subscription_ids_available;
    uint16_t keep_alive_s;              /* Server Keep Alive if sent, else ours; 0 = no pings */
    uint32_t ping_timeout_ms;           /* min(options.ping_timeout_ms, keep_alive_s * 1000 / 2) */
    uint32_t session_expiry_s;          /* the server's if sent, else ours */
    uint32_t max_packet_size_to_server; /* 0 = no limit set */
    uint32_t max_packet_size_to_client;
    uint16_t receive_maximum_from_server; /* 65535 when not sent */
    uint16_t receive_maximum_to_server;
    uint16_t topic_alias_max_to_server; /* in use: min(our cache, the server's maximum) */
    uint16_t topic_alias_max_to_client;
    mqtt5_str client_id; /* assigned or configured; valid until the next connection */
} mqtt5_negotiated_settings;

typedef struct mqtt5_lifecycle_event {
    mqtt5_lifecycle_type type;
    int error;                                 /* FAILURE / DISCONNECTION: a negative mqtt5_error */
    const mqtt5_connack *connack;              /* SUCCESS; FAILURE when a CONNACK arrived */
    const mqtt5_disconnect *disconnect;        /* DISCONNECTION caused by a server DISCONNECT */
    const mqtt5_negotiated_settings *settings; /* SUCCESS; valid during the callback */
    /* FAILURE / DISCONNECTION caused by the server's misbehaviour: the reason code of the
     * DISCONNECT the client sends (0x93 Receive Maximum exceeded, 0x82 protocol error, ...);
     * 0 otherwise. */
    uint8_t sent_reason_code;
} mqtt5_lifecycle_event;

typedef struct mqtt5_inbound_publish {
    const mqtt5_publish *publish; /* topic alias already resolved; views valid in the callback */
    uint64_t ack_handle;          /* QoS 1/2: for mqtt5_client_core_take_ack; 0 for QoS 0 */
} mqtt5_inbound_publish;

typedef struct mqtt5_op_completion {
    uint64_t op_id;
    void *user_ctx;
    mqtt5_packet_type op_type; /* MQTT5_PUBLISH, MQTT5_SUBSCRIBE or MQTT5_UNSUBSCRIBE */
    int error;                 /* 0 or a negative mqtt5_error (ACK_REASON, ACK_TIMEOUT, ...) */
    const mqtt5_packet *ack; /* PUBACK, PUBREC (refused QoS 2), PUBCOMP, SUBACK, UNSUBACK or NULL */
} mqtt5_op_completion;

typedef struct mqtt5_client_core_callbacks {
    void *user;
    void (*on_lifecycle)(void *user, const mqtt5_lifecycle_event *ev); /* required */
    void (*on_publish)(void *user, const mqtt5_inbound_publish *msg);  /* required */
    void (*on_complete)(void *user, const mqtt5_op_completion *done);  /* required */
    /* Enhanced authentication: an AUTH from the server (reason 0x18 continue, 0x00 success of a
     * re-authentication). Answer with mqtt5_client_core_auth. Required when the CONNECT template
     * carries an authenticationMethod. */
    void (*on_auth)(void *user, const mqtt5_disconnect *auth);
    /* mqtt5_client_core_publish_encoded: the core reads the caller's bytes of the operation
     * with this user_ctx no more. Once per accepted operation, after its on_complete (an
     * operation whose ack timed out is completed early but kept for a resend until its ack or
     * the session's end), at the latest at destroy. Required to use publish_encoded. */
    void (*on_wire_released)(void *user, void *user_ctx);
} mqtt5_client_core_callbacks;

typedef struct mqtt5_client_core_options {
    const mqtt5_allocator *allocator; /* NULL = mqtt5_allocator_libc() */
    mqtt5_client_core_callbacks callbacks;
    /* CONNECT template, copied: client_id ("" = server assigns), keep_alive (1200 s),
     * username/password, will, properties (session expiry, user properties, ...). The core owns
     * clean_start, receiveMaximum, maximumPacketSize and topicAliasMaximum. */
    mqtt5_connect connect;
    mqtt5_session_behavior session_behavior; /* CLEAN */
    mqtt5_offline_policy offline_policy;     /* FAIL_QOS0_PUBLISH_ON_DISCONNECT */
    uint32_t connack_timeout_ms;             /* 20000, from transport open */
    uint32_t ping_timeout_ms;                /* 30000 (capped at keep-alive / 2) */
    uint32_t ack_timeout_ms;                 /* 60000; 0 = none */
    uint32_t reconnect_min_ms;               /* 1000 */
    uint32_t reconnect_max_ms;               /* 120000 */
    uint32_t reconnect_reset_after_ms;       /* 30000 connected resets the backoff */
    mqtt5_jitter jitter;                     /* FULL */
    uint64_t (*random_u64)(void *ctx);       /* NULL = splitmix64 seeded with random_seed */
    void *random_ctx;
    uint64_t random_seed;
    uint32_t max_queued_ops;  /* 1024 incomplete operations */
    size_t max_queued_bytes;  /* 4 MiB of incomplete operations */
    uint16_t receive_maximum; /* 100: ours, sent in CONNECT */
    /* false (default): a server that sends more unacknowledged QoS 1/2 messages than our Receive
     * Maximum is tolerated (mosquitto 2.0 floods a resumed session's queue this way) and each
     * connection logs it once in stats.receive_maximum_exceeded; true: DISCONNECT 0x93, as the
     * specification allows. */
    bool receive_maximum_strict;
    uint32_t max_inbound_packet_size; /* 131072: sent as Maximum Packet Size */
    size_t write_batch_size; /* 16384: bytes per mem_send batch (bigger packets go alone); 64 to
                                UINT32_MAX */
    mqtt5_alias_out alias_out;
    uint16_t alias_out_cache; /* 25 */
    mqtt5_alias_in alias_in;
    uint16_t alias_in_max; /* 25 */
    bool iot_core;         /* AWS IoT Core limits and 100 publish/s + 512 KiB/s pacing */
    /* true (default): while the server's Receive Maximum is reached (4 or more) and QoS 1/2
     * publishes wait for room, want.read_low_water asks to read only once acks for three
     * quarters of that window can be there, or after 2 ms on the caller's clock, whichever comes
     * first: one wake-up, read and write for many messages instead of one per message;
     * completions and whatever else arrives meanwhile come up to 2 ms later. A server that sends
     * with Nagle's algorithm on (mosquitto's default) holds every ack after the first until our
     * TCP ACK, so its waits run to the bound: two such starved waits within 50 ms pause
     * coalescing for 1 s (stats.ack_coalescing_pauses), which costs such a server about 4 ms a
     * second. false: read_low_water stays 1 (docs/user-guide.md). */
    bool ack_coalescing;
} mqtt5_client_core_options;

typedef struct mqtt5_op_options {
    void *user_ctx;
    uint32_t ack_timeout_ms; /* 0 = the client's */
} mqtt5_op_options;

typedef struct mqtt5_client_want {
    bool transport_open; /* the transport should be open (or opening) */
    bool write;          /* mem_send has bytes to hand out now */
    uint64_t wake_at;    /* next deadline, MQTT5_TIME_NEVER if none */
    /* Bytes worth waiting for before reading: 1, or more during ack coalescing
     * (options.ack_coalescing; the wait's bound is part of wake_at). A driver may apply it to the
     * socket (SO_RCVLOWAT) or ignore it; reading earlier is always correct. */
    uint32_t read_low_water;
} mqtt5_client_want;

typedef struct mqtt5_client_stats {
    uint64_t incomplete_ops, incomplete_bytes; /* accepted, not yet completed */
    uint64_t unacked_ops, unacked_bytes;       /* sent, waiting for an ack */
    uint64_t bytes_sent, bytes_received, batches_sent;
    uint64_t packets_sent[16], packets_received[16]; /* by packet type */
    uint64_t connect_attempts, connect_failures, disconnections;
    uint64_t pings_sent, ack_timeouts;
    uint64_t receive_maximum_exceeded; /* messages beyond our Receive Maximum (tolerated) */
    uint64_t ack_coalescing_pauses;    /* times ack coalescing paused for a server that holds its
                                        * acks (see core options' ack_coalescing) */
    size_t memory_in_use, memory_peak;
} mqtt5_client_stats;

typedef struct mqtt5_client_core mqtt5_client_core;

/* Fill `o` with the defaults above (callbacks and connect template empty). */
void mqtt5_client_core_options_init(mqtt5_client_core_options *o);

int mqtt5_client_core_new(const mqtt5_client_core_options *o, mqtt5_client_core **out,
                          mqtt5_codec_status *status);
/*
 * The core in the caller's memory, for a caller that keeps it inside an allocation of its own
 * (one block per client instead of two): mqtt5_client_core_size says how many bytes the options
 * need (0 when they are invalid: `status` says why, as mqtt5_client_core_new would); `mem` must
 * be at least that big and 8-byte aligned, and stay valid until mqtt5_client_core_destroy, which
 * leaves it to the caller (wiped where it held the CONNECT template's password). Everything else
 * the core allocates still comes from the options' allocator; memory_in_use counts
 * the mqtt5_client_core_size bytes too.
 */
size_t mqtt5_client_core_size(const mqtt5_client_core_options *o, mqtt5_codec_status *status);
int mqtt5_client_core_new_in(void *mem, size_t size, const mqtt5_client_core_options *o,
                             mqtt5_client_core **out, mqtt5_codec_status *status);
/* Completes every operation with MQTT5_ERR_STOPPED and frees (its memory too unless made by
 * mqtt5_client_core_new_in); no lifecycle event. */
int mqtt5_client_core_destroy(mqtt5_client_core *core);

int mqtt5_client_core_start(mqtt5_client_core *core, uint64_t now);
/* `disconnect` NULL: close without DISCONNECT; else sent when connected (reason 0x00/0x04/...). */
int mqtt5_client_core_stop(mqtt5_client_core *core, uint64_t now,
                           const mqtt5_disconnect *disconnect, mqtt5_codec_status *status);

int mqtt5_client_core_publish(mqtt5_client_core *core, uint64_t now, const mqtt5_publish *publish,
                              const mqtt5_op_options *opt, uint64_t *op_id,
                              mqtt5_codec_status *status);
/*
 * Publish without a copy, for a caller that holds the PUBLISH encoded already: `wire` is the
 * output of mqtt5_packet_encode for this publish (DUP 0; packet identifier 1 as a placeholder
 * when QoS > 0) and `view` the result of mqtt5_packet_decode of those same bytes. The core keeps
 * pointers instead of a copy: wire[0..wire_len) must stay valid and unchanged until
 * callbacks.on_wire_released is called for this operation (which needs that callback). The
 * bytes go out as they are, with the packet identifier and DUP set in the batch, unless an
 * outbound topic alias changes the packet (then it is encoded from `view`). The client's rules,
 * the connection's limits and the queue bounds are checked as by mqtt5_client_core_publish; the
 * codec's checks are taken as done by the encoder. A `wire` that cannot be that PUBLISH gives
 * MQTT5_ERR_INVALID_ARGUMENT naming "wire". memory_in_use does not count the caller's bytes.
 */
int mqtt5_client_core_publish_encoded(mqtt5_client_core *core, uint64_t now,
                                      const mqtt5_publish *view, const uint8_t *wire,
                                      size_t wire_len, const mqtt5_op_options *opt, uint64_t *op_id,
                                      mqtt5_codec_status *status);
int mqtt5_client_core_subscribe(mqtt5_client_core *core, uint64_t now,
                                const mqtt5_subscribe *subscribe, const mqtt5_op_options *opt,
                                uint64_t *op_id, mqtt5_codec_status *status);
int mqtt5_client_core_unsubscribe(mqtt5_client_core *core, uint64_t now,
                                  const mqtt5_unsubscribe *unsubscribe, const mqtt5_op_options *opt,
                                  uint64_t *op_id, mqtt5_codec_status *status);

/* Manual acknowledgement: inside on_publish, take ownership of the PUBACK/PUBREC of a QoS 1/2
 * message; later send it (reason 0x00 or an error reason). A handle from a connection that has
 * closed gives MQTT5_ERR_STALE_HANDLE (the server will resend the message). */
int mqtt5_client_core_take_ack(mqtt5_client_core *core, uint64_t ack_handle);
int mqtt5_client_core_send_ack(mqtt5_client_core *core, uint64_t now, uint64_t ack_handle,
                               uint8_t reason_code);

/* Enhanced authentication: send AUTH with `reason` 0x18 (continue, answering the server's
 * challenge, before or after CONNACK) or 0x19 (start a re-authentication while connected).
 * `props` may carry authenticationData, reasonString and user properties; the method is always
 * the one of the CONNECT template. */
int mqtt5_client_core_auth(mqtt5_client_core *core, uint64_t now, uint8_t reason,
                           const mqtt5_properties *props, mqtt5_codec_status *status);

/* Transport events. `error` 0 = closed by the peer or on request. */
int mqtt5_client_core_on_transport_open(mqtt5_client_core *core, uint64_t now);
int mqtt5_client_core_on_transport_closed(mqtt5_client_core *core, uint64_t now, int error);

/* Bytes read from the transport; all are consumed. Malformed input is answered inside the core
 * (DISCONNECT with the reason code, then close), so this only fails on misuse. */
int mqtt5_client_core_mem_recv(mqtt5_client_core *core, uint64_t now, const uint8_t *in,
                               size_t len);
/* One batch of whole packets to write (*len 0: nothing now). Valid until the next call or the
 * transport's close. If the batch buffer cannot be allocated, the connection fails with
 * MQTT5_ERR_NOMEM (nothing handed out). */
int mqtt5_client_core_mem_send(mqtt5_client_core *core, uint64_t now, const uint8_t **data,
                               size_t *len);
/* Same as mem_send, but the batch is encoded into the caller's buf[0..cap) (cap >= 64, else
 * MQTT5_ERR_INVALID_ARGUMENT), so the core keeps no batch buffer: *data is buf or, for a single
 * packet bigger than cap (which goes out alone), a buffer of the core valid until the next
 * mem_send/mem_send_buf call or the transport's close. One buffer can serve many clients on one
 * thread; what it held (CONNECT passwords, AUTH data) is the caller's to wipe. */
int mqtt5_client_core_mem_send_buf(mqtt5_client_core *core, uint64_t now, uint8_t *buf, size_t cap,
                                   const uint8_t **data, size_t *len);
/* Run due timers; *next_wake gets the next deadline (MQTT5_TIME_NEVER if none). */
int mqtt5_client_core_service(mqtt5_client_core *core, uint64_t now, uint64_t *next_wake);

void mqtt5_client_core_want(const mqtt5_client_core *core, mqtt5_client_want *out);
mqtt5_client_state mqtt5_client_core_state(const mqtt5_client_core *core);
/* false until a CONNACK was accepted since start */
bool mqtt5_client_core_settings(const mqtt5_client_core *core, mqtt5_negotiated_settings *out);
void mqtt5_client_core_stats(const mqtt5_client_core *core, mqtt5_client_stats *out);

#ifdef __cplusplus
}
#endif
#endif
