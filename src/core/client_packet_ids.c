/*
 * client_packet_ids.c - packet identifier set and round-robin allocation (see
 * client_packet_ids.h): a sorted array of the ids in use, inside the struct while it is small.
 * A search is a binary search for `next`, then one for the end of the run of used ids it falls
 * in. No I/O; memory only through the allocator given to room(), trim() and reset().
 */
#include <string.h>

#include "core/client_packet_ids.h"

#define MAX_IDS 65535u
#define LOCAL CLIENT_PACKET_IDS_LOCAL

static uint16_t *slots(client_packet_ids *p)
{
    return p->cap ? p->ids.heap : p->ids.local;
}

static const uint16_t *slots_const(const client_packet_ids *p)
{
    return p->cap ? p->ids.heap : p->ids.local;
}

static uint32_t capacity(const client_packet_ids *p)
{
    return p->cap ? p->cap : LOCAL;
}

/* Index of the first id >= `id` in a[0..n). */
static uint32_t lower_bound(const uint16_t *a, uint32_t n, uint32_t id)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2u;
        if (a[mid] < id)
            lo = mid + 1u;
        else
            hi = mid;
    }
    return lo;
}

/* Last index of the run of consecutive ids that starts at a[i]. Ids are distinct and ascending,
 * so a[j] - j never decreases: it is constant along a run and grows past its end. */
static uint32_t run_end(const uint16_t *a, uint32_t n, uint32_t i)
{
    uint32_t key = a[i] - i, lo = i, hi = n - 1u;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1u) / 2u;
        if (a[mid] - mid == key)
            lo = mid;
        else
            hi = mid - 1u;
    }
    return lo;
}

static void insert_at(client_packet_ids *p, uint32_t i, uint16_t id)
{
    uint16_t *a = slots(p);
    memmove(a + i + 1, a + i, (p->in_use - i) * sizeof *a);
    a[i] = id;
    p->in_use++;
}

void client_packet_ids_init(client_packet_ids *p)
{
    memset(p, 0, sizeof *p);
    p->next = 1;
}

void client_packet_ids_reset(client_packet_ids *p, const mqtt5_allocator *al)
{
    if (p->cap) al->release(al->ctx, p->ids.heap, p->cap * sizeof(uint16_t));
    client_packet_ids_init(p);
}

bool client_packet_ids_room(client_packet_ids *p, const mqtt5_allocator *al, size_t n)
{
    if (n > MAX_IDS) n = MAX_IDS;
    uint32_t cap = capacity(p);
    if (n <= cap) return true;
    while (cap < n)
        cap *= 2u;
    if (cap > MAX_IDS) cap = MAX_IDS;
    uint16_t *heap = al->allocate(al->ctx, cap * sizeof *heap);
    if (!heap) return false;
    memcpy(heap, slots(p), p->in_use * sizeof *heap);
    if (p->cap) al->release(al->ctx, p->ids.heap, p->cap * sizeof *heap);
    p->ids.heap = heap;
    p->cap = (uint16_t)cap; /* at most MAX_IDS */
    return true;
}

void client_packet_ids_trim(client_packet_ids *p, const mqtt5_allocator *al, size_t keep)
{
    if (!p->cap || p->in_use > LOCAL || keep > LOCAL) return;
    uint16_t *heap = p->ids.heap;
    size_t size = p->cap * sizeof *heap;
    memcpy(p->ids.local, heap, p->in_use * sizeof *heap);
    p->cap = 0;
    al->release(al->ctx, heap, size);
}

bool client_packet_ids_is_used(const client_packet_ids *p, uint16_t id)
{
    const uint16_t *a = slots_const(p);
    uint32_t i = lower_bound(a, p->in_use, id);
    return id != 0 && i < p->in_use && a[i] == id;
}

bool client_packet_ids_reserve(client_packet_ids *p, uint16_t id)
{
    if (id == 0 || p->in_use >= capacity(p)) return false;
    uint32_t i = lower_bound(slots(p), p->in_use, id);
    if (i < p->in_use && slots(p)[i] == id) return false;
    insert_at(p, i, id);
    return true;
}

void client_packet_ids_release(client_packet_ids *p, uint16_t id)
{
    uint16_t *a = slots(p);
    uint32_t i = lower_bound(a, p->in_use, id);
    if (id == 0 || i >= p->in_use || a[i] != id) return;
    memmove(a + i, a + i + 1, (p->in_use - i - 1u) * sizeof *a);
    p->in_use--;
}

uint16_t client_packet_ids_acquire(client_packet_ids *p)
{
    if (p->in_use >= MAX_IDS || p->in_use >= capacity(p)) return 0;
    const uint16_t *a = slots(p);
    uint32_t n = p->in_use, id = p->next ? p->next : 1u;
    uint32_t i = lower_bound(a, n, id);
    if (i < n && a[i] == id) {
        /* `next` is used: the first free id is just past its run */
        uint32_t j = run_end(a, n, i);
        id = a[j] + 1u;
        i = j + 1u;
        if (id > MAX_IDS) {
            /* the run reaches 65535: go on from 1 (some id is free, as in_use < 65535) */
            id = 1;
            i = 0;
            if (n && a[0] == 1) {
                j = run_end(a, n, 0);
                id = a[j] + 1u;
                i = j + 1u;
            }
        }
    }
    insert_at(p, i, (uint16_t)id);
    p->next = id == MAX_IDS ? 1 : (uint16_t)(id + 1u);
    return (uint16_t)id;
}
