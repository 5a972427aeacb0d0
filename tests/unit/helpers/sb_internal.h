/*
 * helpers/sb_internal.h - the state of a scripted broker (scripted_broker.h), shared by its
 * implementation files: scripted_broker.c (life, options, ops, randomness), sb_drive.c (clock,
 * transport, bytes both ways), sb_record.c (callbacks and the guarantees checked in them) and
 * sb_expect.c (expectations and failure output). Not for tests: they use scripted_broker.h only.
 */
#ifndef MQTT5_TEST_SB_INTERNAL_H
#define MQTT5_TEST_SB_INTERNAL_H

#include "helpers/scripted_broker.h"

/* Growable array of owned pointers (each item one malloc). */
typedef struct sb_vec {
    void **items;
    size_t count, cap;
} sb_vec;

typedef enum sb_transport { SB_T_CLOSED, SB_T_OPENING, SB_T_OPEN } sb_transport;

/* What the harness knows about one operation id (hash map, so tests with 65535+ operations stay
 * linear). */
typedef struct sb_op_entry {
    uint64_t id;
    uint32_t completions;
    bool used, accepted;
} sb_op_entry;

typedef struct sb_trace_entry {
    char what[40];
    uint64_t time;
} sb_trace_entry;

struct sb {
    mqtt5_client_core *core;
    mqtt5_client_core_options opts;
    test_allocator alloc;
    const char *file; /* call site of the running sb_* call */
    int line;

    uint64_t now, wake;
    int open_mode;
    sb_transport transport;
    size_t opens, client_closes, server_closes;

    uint64_t *rand_values;
    size_t rand_n, rand_pos, rand_draws;

    uint8_t *stream; /* client bytes not yet decoded into packets */
    size_t stream_len, stream_cap;
    sb_vec packets; /* sb_packet */
    size_t packet_next;
    size_t batch_count;

    sb_vec events; /* sb_event */
    size_t event_checked;
    sb_vec received;    /* sb_received */
    sb_vec completions; /* sb_completion */
    sb_vec trace;       /* sb_trace_entry */
    size_t trace_checked;

    sb_publish_hook publish_hook; /* called inside on_publish (sb_on_publish_hook) */
    void *publish_hook_ctx;
    bool take_acks; /* on_publish takes every QoS 1/2 ack (sb_take_acks) */

    mqtt5_codec_status last_status; /* of the last start/stop/op through the harness */
    bool destroying;

    uint64_t *ops; /* accepted op ids, in order */
    size_t op_count, op_cap;
    sb_op_entry *opmap; /* every op id accepted or completed; open addressing */
    size_t opmap_cap, opmap_count;

    bool attempt_open, connected;
    size_t n_type[5]; /* events by mqtt5_lifecycle_type */
    char violation[768];
    size_t violations;

    struct sb *next_live; /* list of harnesses not yet freed */
};

/* scripted_broker.c */
void *sb_xmalloc(size_t n);
void sb_vec_push(sb_vec *v, void *item);
void sb_vec_free(sb_vec *v);
sb_op_entry *sb_op_find(sb *b, uint64_t id); /* the entry of `id`, inserted if new */

/* sb_record.c */
void sb_install_callbacks(sb *b, mqtt5_client_core_options *o);
void sb_trace(sb *b, const char *what, const char *arg);
void sb_violation(sb *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
const char *sb_event_name(int type);
void sb_upper_packet_name(int type, char *out, size_t cap);

/* sb_expect.c */
/* Prints msg and the dump, then fails at the recorded call site. */
void sb_fail(const sb *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3), noreturn))
#endif
    ;
/* Fails if a guarantee was broken inside a callback since the last check. */
void sb_check_violations(sb *b);

/* sb_drive.c */
void sb_drive(sb *b);
void sb_free_packets(sb *b);

#endif
