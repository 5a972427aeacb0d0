/*
 * helpers/scripted_broker.c - life of a scripted broker (see scripted_broker.h): creation with
 * the harness's allocator, callbacks and random_u64; the final checks of sb_free; cleanup of
 * harnesses left by failed tests; operations submitted through the harness. Tests only: it must
 * not drive the clock or transport (sb_drive.c) or judge events (sb_record.c).
 */
#include "helpers/test_common.h"
#include "helpers/sb_internal.h"

static sb *live_list; /* harnesses not yet freed, for sb_group_teardown */

void *sb_xmalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (p == NULL) fail_msg("scripted broker: out of memory (%zu bytes)", n);
    return p;
}

void sb_vec_push(sb_vec *v, void *item)
{
    if (v->count == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        void **grown = realloc(v->items, cap * sizeof(*grown));
        if (grown == NULL) fail_msg("scripted broker: out of memory");
        v->items = grown;
        v->cap = cap;
    }
    v->items[v->count++] = item;
}

void sb_vec_free(sb_vec *v)
{
    for (size_t i = 0; i < v->count; i++)
        free(v->items[i]);
    free(v->items);
    *v = (sb_vec){0};
}

static size_t op_slot(const sb_op_entry *map, size_t cap, uint64_t id)
{
    size_t i = (size_t)((id * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & (cap - 1);
    while (map[i].used && map[i].id != id)
        i = (i + 1) & (cap - 1);
    return i;
}

sb_op_entry *sb_op_find(sb *b, uint64_t id)
{
    if (2 * (b->opmap_count + 1) > b->opmap_cap) {
        size_t cap = b->opmap_cap ? b->opmap_cap * 2 : 64;
        sb_op_entry *grown = sb_xmalloc(cap * sizeof(*grown));
        for (size_t i = 0; i < b->opmap_cap; i++)
            if (b->opmap[i].used) grown[op_slot(grown, cap, b->opmap[i].id)] = b->opmap[i];
        free(b->opmap);
        b->opmap = grown;
        b->opmap_cap = cap;
    }
    sb_op_entry *e = &b->opmap[op_slot(b->opmap, b->opmap_cap, id)];
    if (!e->used) {
        e->used = true;
        e->id = id;
        b->opmap_count++;
    }
    return e;
}

sb *sb_at_(sb *b, const char *file, int line)
{
    b->file = file;
    b->line = line;
    return b;
}

void sb_options_default(mqtt5_client_core_options *o)
{
    mqtt5_client_core_options_init(o);
    o->connect.client_id = (mqtt5_str){"test-client", 11};
    o->connect.keep_alive = 60;
}

static uint64_t sb_random_u64(void *ctx)
{
    sb *b = ctx;
    b->rand_draws++;
    if (b->rand_n == 0) return 0;
    if (b->rand_pos < b->rand_n) return b->rand_values[b->rand_pos++];
    return b->rand_values[b->rand_n - 1];
}

void sb_random(sb *b, const uint64_t *values, size_t n)
{
    free(b->rand_values);
    b->rand_values = sb_xmalloc(n * sizeof(*values));
    if (n) memcpy(b->rand_values, values, n * sizeof(*values));
    b->rand_n = n;
    b->rand_pos = 0;
}

size_t sb_random_draws(const sb *b)
{
    return b->rand_draws;
}

static sb *sb_create(const mqtt5_client_core_options *base, const char *file, int line)
{
    sb *b = sb_xmalloc(sizeof(*b));
    b->file = file;
    b->line = line;
    if (base)
        b->opts = *base;
    else
        sb_options_default(&b->opts);
    test_allocator_init(&b->alloc);
    b->opts.allocator = test_allocator_get(&b->alloc);
    sb_install_callbacks(b, &b->opts);
    b->opts.random_u64 = sb_random_u64;
    b->opts.random_ctx = b;
    b->open_mode = SB_ACCEPT;
    b->wake = MQTT5_TIME_NEVER;
    b->next_live = live_list;
    live_list = b;
    return b;
}

/* Frees the harness's own memory and unlinks it (the core must be gone or abandoned). */
static void sb_release(sb *b)
{
    for (sb **p = &live_list; *p; p = &(*p)->next_live) {
        if (*p == b) {
            *p = b->next_live;
            break;
        }
    }
    sb_free_packets(b);
    for (size_t i = 0; i < b->received.count; i++)
        free(((sb_received *)b->received.items[i])->raw);
    sb_vec_free(&b->received);
    sb_vec_free(&b->events);
    sb_vec_free(&b->completions);
    sb_vec_free(&b->trace);
    free(b->stream);
    free(b->ops);
    free(b->opmap);
    free(b->rand_values);
    test_allocator_destroy(&b->alloc);
    free(b);
}

/* Releases every block the core still holds, so LeakSanitizer does not repeat a reported leak. */
static void sb_drop_blocks(sb *b)
{
    /* test_allocator keeps {ptr, size} records in `blocks` (test_allocator.c) */
    struct sb_ta_block {
        void *ptr;
        size_t size;
    } *blocks = (void *)b->alloc.blocks;
    for (size_t i = 0; i < b->alloc.live_blocks; i++)
        free(blocks[i].ptr);
    b->alloc.live_blocks = 0;
    b->alloc.live_bytes = 0;
}

sb *sb_new_(const mqtt5_client_core_options *base, const char *file, int line)
{
    sb *b = sb_create(base, file, line);
    mqtt5_codec_status st = {0};
    int rc = mqtt5_client_core_new(&b->opts, &b->core, &st);
    if (rc != 0)
        sb_fail(b, "mqtt5_client_core_new failed: %s (field %s, detail %s)", mqtt5_error_name(rc),
                st.field ? st.field : "-", st.detail ? st.detail : "-");
    return b;
}

sb *sb_new_failing_(const mqtt5_client_core_options *base, size_t k, int *err, const char *file,
                    int line)
{
    sb *b = sb_create(base, file, line);
    test_allocator_fail_at(&b->alloc, k, false);
    mqtt5_codec_status st = {0};
    int rc = mqtt5_client_core_new(&b->opts, &b->core, &st);
    *err = rc;
    if (rc == 0) return b;
    size_t blocks = b->alloc.live_blocks, bytes = b->alloc.live_bytes;
    if (b->core != NULL)
        sb_fail(b, "mqtt5_client_core_new failed (%s) but set *out", mqtt5_error_name(rc));
    if (blocks != 0) {
        sb_drop_blocks(b);
        sb_fail(b, "mqtt5_client_core_new failed (%s) and leaked %zu block(s), %zu byte(s)",
                mqtt5_error_name(rc), blocks, bytes);
    }
    sb_release(b);
    return NULL;
}

void sb_free_(sb *b, const char *file, int line)
{
    sb_at_(b, file, line);
    sb_check_violations(b);
    size_t events_before = b->events.count;
    if (b->core != NULL) {
        b->destroying = true;
        int rc = mqtt5_client_core_destroy(b->core);
        if (rc != 0) sb_fail(b, "mqtt5_client_core_destroy returned %s", mqtt5_error_name(rc));
        b->core = NULL;
    }
    sb_check_violations(b);
    if (b->events.count != events_before)
        sb_fail(b, "destroy emitted %zu lifecycle event(s); the header says none",
                b->events.count - events_before);

    size_t att = b->n_type[MQTT5_LC_ATTEMPTING_CONNECT],
           suc = b->n_type[MQTT5_LC_CONNECTION_SUCCESS];
    size_t fai = b->n_type[MQTT5_LC_CONNECTION_FAILURE], dis = b->n_type[MQTT5_LC_DISCONNECTION];
    if (att != suc + fai + (b->attempt_open ? 1 : 0))
        sb_fail(b, "#ATTEMPTING_CONNECT %zu != #SUCCESS %zu + #FAILURE %zu (+%d open attempt)", att,
                suc, fai, b->attempt_open ? 1 : 0);
    if (suc != dis + (b->connected ? 1 : 0))
        sb_fail(b, "#CONNECTION_SUCCESS %zu != #DISCONNECTION %zu (+%d still connected)", suc, dis,
                b->connected ? 1 : 0);
    for (size_t i = 0; i < b->op_count; i++) {
        size_t n = sb_op_find(b, b->ops[i])->completions;
        if (n != 1)
            sb_fail(b, "operation %llu accepted but completed %zu times (want exactly 1)",
                    (unsigned long long)b->ops[i], n);
    }
    for (size_t j = 0; j < b->completions.count; j++) {
        const sb_completion *c = b->completions.items[j];
        if (!sb_op_find(b, c->op_id)->accepted)
            sb_fail(b,
                    "completion for operation %llu, which was never accepted (ops submitted "
                    "directly need sb_note_op)",
                    (unsigned long long)c->op_id);
    }
    if (b->alloc.live_blocks != 0) {
        size_t blocks = b->alloc.live_blocks, bytes = b->alloc.live_bytes;
        sb_drop_blocks(b);
        sb_fail(b, "leak: %zu block(s), %zu byte(s) still allocated after destroy", blocks, bytes);
    }
    sb_release(b);
}

int sb_group_teardown(void **state)
{
    while (live_list) {
        sb *b = live_list;
        sb_drop_blocks(b); /* the core may be mid-call after a failure: never call it again */
        sb_release(b);
    }
    return test_free_all(state);
}

mqtt5_client_core *sb_core(sb *b)
{
    return b->core;
}

test_allocator *sb_allocator(sb *b)
{
    return &b->alloc;
}

const mqtt5_client_core_options *sb_options(const sb *b)
{
    return &b->opts;
}

const mqtt5_codec_status *sb_status(const sb *b)
{
    return &b->last_status;
}

void sb_note_op(sb *b, uint64_t op_id)
{
    sb_op_entry *e = sb_op_find(b, op_id);
    if (e->accepted) sb_fail(b, "operation id %llu given out twice", (unsigned long long)op_id);
    e->accepted = true;
    if (b->op_count == b->op_cap) {
        size_t cap = b->op_cap ? b->op_cap * 2 : 32;
        uint64_t *grown = realloc(b->ops, cap * sizeof(*grown));
        if (grown == NULL) fail_msg("scripted broker: out of memory");
        b->ops = grown;
        b->op_cap = cap;
    }
    b->ops[b->op_count++] = op_id;
}

/* Records an accepted op; a refused one must not have completed (checked in sb_record.c). */
static int sb_after_submit(sb *b, int rc, uint64_t id, uint64_t *op_id)
{
    sb_check_violations(b);
    if (rc == 0) sb_note_op(b, id);
    if (op_id) *op_id = id;
    return rc;
}

int sb_publish_(sb *b, const mqtt5_publish *p, const mqtt5_op_options *o, uint64_t *op_id)
{
    uint64_t id = 0;
    b->last_status = (mqtt5_codec_status){0};
    int rc = mqtt5_client_core_publish(b->core, b->now, p, o, &id, &b->last_status);
    return sb_after_submit(b, rc, id, op_id);
}

int sb_subscribe_(sb *b, const mqtt5_subscribe *s, const mqtt5_op_options *o, uint64_t *op_id)
{
    uint64_t id = 0;
    b->last_status = (mqtt5_codec_status){0};
    int rc = mqtt5_client_core_subscribe(b->core, b->now, s, o, &id, &b->last_status);
    return sb_after_submit(b, rc, id, op_id);
}

int sb_unsubscribe_(sb *b, const mqtt5_unsubscribe *u, const mqtt5_op_options *o, uint64_t *op_id)
{
    uint64_t id = 0;
    b->last_status = (mqtt5_codec_status){0};
    int rc = mqtt5_client_core_unsubscribe(b->core, b->now, u, o, &id, &b->last_status);
    return sb_after_submit(b, rc, id, op_id);
}

void sb_take_acks(sb *b, bool on)
{
    b->take_acks = on;
}

void sb_on_publish_hook(sb *b, sb_publish_hook fn, void *ctx)
{
    b->publish_hook = fn;
    b->publish_hook_ctx = ctx;
}

int sb_send_ack_(sb *b, uint64_t handle, uint8_t reason)
{
    int rc = mqtt5_client_core_send_ack(b->core, b->now, handle, reason);
    sb_check_violations(b);
    sb_drive(b);
    return rc;
}

void sb_start_(sb *b)
{
    int rc = mqtt5_client_core_start(b->core, b->now);
    if (rc != 0) sb_fail(b, "mqtt5_client_core_start returned %s", mqtt5_error_name(rc));
    sb_drive(b);
}

void sb_stop_(sb *b, const mqtt5_disconnect *disconnect)
{
    b->last_status = (mqtt5_codec_status){0};
    int rc = mqtt5_client_core_stop(b->core, b->now, disconnect, &b->last_status);
    if (rc != 0)
        sb_fail(b, "mqtt5_client_core_stop returned %s (field %s)", mqtt5_error_name(rc),
                b->last_status.field ? b->last_status.field : "-");
    sb_drive(b);
}
