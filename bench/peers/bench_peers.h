/*
 * bench/peers/bench_peers.h - what the bench driver (bench_peers.c) needs from one client
 * library, and the few helpers the adapters share.
 *
 * One adapter per library (peer_mqtt5.c: this SDK; peer_mosq.c: libmosquitto, threaded and
 * single-threaded; peer_paho.c: Paho C MQTTAsync). Every adapter turns its library into the same
 * small blocking/non-blocking surface below, so each benchmark case is written once and runs the
 * same workload on every library. The driver runs each (case, library) pair in a fresh process.
 */
#ifndef BENCH_PEERS_H
#define BENCH_PEERS_H

#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BP_AGAIN 1 /* publish: the library's queue is full, back off and retry */

/* What a connection reports back to the case code; every callback may run on a library thread. */
typedef struct bp_conn_opts {
    const char *host;
    uint16_t port;
    const char *client_id;
    int proto;      /* 4 (MQTT 3.1.1) or 5; this SDK always speaks 5 */
    int keep_alive; /* seconds */
    void (*on_msg)(void *user, size_t payload_len); /* NULL: messages are dropped */
    void (*on_ack)(void *user); /* a QoS 1 publish completed (PUBACK); NULL: not needed */
    void *user;
} bp_conn_opts;

/* Tunables of the run, given on the command line (see bench_peers.c usage()). */
typedef struct bp_tunables {
    uint32_t m5_max_queued_ops; /* this SDK: core.max_queued_ops, 0 = the SDK default (1024) */
    size_t m5_max_queued_bytes; /* this SDK: core.max_queued_bytes (0 = no bound), (size_t)-1 =
                                   the SDK default (4 MiB) */
    size_t m5_write_batch;      /* this SDK: core.write_batch_size, 0 = the SDK default */
    int m5_ack_coalescing;      /* this SDK: core.ack_coalescing (0, 1, -1: the SDK default) */
    int paho_max_buffered;      /* Paho: createOptions.maxBufferedMessages */
    bool paho_nodelay;          /* Paho: set TCP_NODELAY on its socket after connecting */
    bool backoff_sleep;         /* BP_AGAIN backs off with a 20 us sleep, not sched_yield */
} bp_tunables;

extern bp_tunables bp_tune;

typedef struct bp_peer {
    const char *name;
    const char *describe; /* one line: how the library is driven */
    const char *(*version)(void);
    int proto; /* MQTT version this entry speaks: 4 or 5; 0 = --peer-proto (this SDK: always 5) */
    /* single-threaded libraries are driven by the calling thread: pump() must be called while
     * waiting (it blocks at most timeout_ms); NULL for libraries with their own threads */
    void (*pump)(void *conn, int timeout_ms);
    int (*init)(void); /* library-global init, after fork */
    void (*cleanup)(void);
    /* connect and wait for the CONNACK (10 s); NULL on failure (printed to stderr) */
    void *(*connect)(const bp_conn_opts *o);
    /* subscribe and wait for the SUBACK; 0 or -1 */
    int (*subscribe)(void *conn, const char *filter, int qos);
    /* hand one publish to the library: 0, BP_AGAIN (retry later) or -1 */
    int (*publish)(void *conn, const char *topic, const void *payload, size_t len, int qos);
    /* disconnect (DISCONNECT sent) and free */
    void (*disconnect)(void *conn);
    /* idle clients: connect n clients the way the adapter describes; they stay connected until
     * the process exits. `settle_ms` later (the clients being serviced meanwhile) returns. */
    int (*idle)(const bp_conn_opts *o, int n, int settle_ms);
} bp_peer;

extern const bp_peer bp_peer_mqtt5, bp_peer_mqtt5_st, bp_peer_mosq, bp_peer_mosq_st, bp_peer_paho,
    bp_peer_paho5;

/* helpers (bench_peers.c) */
double bp_now_s(void);                         /* CLOCK_MONOTONIC seconds */
uint64_t bp_now_ns(void);                      /* CLOCK_MONOTONIC nanoseconds */
int bp_sem_wait_s(sem_t *s, double timeout_s); /* 0, or -1 on timeout */
/* bp_sem_wait_s, but a single-threaded library (p->pump set) is pumped meanwhile */
int bp_wait_sem(const bp_peer *p, void *conn, sem_t *s, double timeout_s);
void bp_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
