/*
 * client_packet_ids.c - packet identifier bitmap and round-robin allocation (see
 * client_packet_ids.h). A search looks at one 64-bit word per step: at most 1025 words even when
 * nearly full, one or two in the common case. No allocation, no I/O.
 */
#include <string.h>

#include "core/client_packet_ids.h"

#define WORDS CLIENT_PACKET_IDS_WORDS

static uint64_t word_of(const client_packet_ids *p, unsigned w)
{
    return (p->touched[w >> 6] >> (w & 63u) & 1u) ? p->used[w] : 0;
}

static void set_word(client_packet_ids *p, unsigned w, uint64_t v)
{
    p->used[w] = v;
    p->touched[w >> 6] |= UINT64_C(1) << (w & 63u);
}

static unsigned lowest_bit(uint64_t x) /* x != 0 */
{
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_ctzll(x);
#else
    unsigned n = 0;
    while (!(x & 1u)) {
        x >>= 1;
        n++;
    }
    return n;
#endif
}

void client_packet_ids_init(client_packet_ids *p, uint64_t *words)
{
    p->used = words;
    client_packet_ids_reset(p);
}

void client_packet_ids_reset(client_packet_ids *p)
{
    memset(p->touched, 0, sizeof(p->touched));
    p->next = 1;
    p->in_use = 0;
}

void client_packet_ids_clear(client_packet_ids *p)
{
    memset(p->touched, 0, sizeof(p->touched));
    p->in_use = 0;
}

bool client_packet_ids_is_used(const client_packet_ids *p, uint16_t id)
{
    return id != 0 && (word_of(p, id >> 6) >> (id & 63u) & 1u);
}

bool client_packet_ids_reserve(client_packet_ids *p, uint16_t id)
{
    if (id == 0 || client_packet_ids_is_used(p, id)) return false;
    set_word(p, id >> 6, word_of(p, id >> 6) | UINT64_C(1) << (id & 63u));
    p->in_use++;
    return true;
}

void client_packet_ids_release(client_packet_ids *p, uint16_t id)
{
    if (!client_packet_ids_is_used(p, id)) return;
    set_word(p, id >> 6, word_of(p, id >> 6) & ~(UINT64_C(1) << (id & 63u)));
    p->in_use--;
}

/* Free bits of word w at or above bit `from`; id 0 never counts as free. */
static uint64_t free_bits(const client_packet_ids *p, unsigned w, unsigned from)
{
    uint64_t f = ~word_of(p, w) & (~UINT64_C(0) << from);
    if (w == 0) f &= ~UINT64_C(1);
    return f;
}

uint16_t client_packet_ids_acquire(client_packet_ids *p)
{
    if (p->in_use >= 65535u) return 0;
    unsigned start = p->next ? p->next : 1u;
    unsigned w = start >> 6;
    uint64_t f = free_bits(p, w, start & 63u);
    /* Visit start's word from `start` up, every other word in wrap-around order, then start's
     * word again from bit 0 (ids below `start` in it). */
    for (unsigned step = 0; f == 0 && step < WORDS; step++) {
        w = (w + 1) % WORDS;
        f = free_bits(p, w, 0);
    }
    if (f == 0) return 0; /* unreachable while in_use < 65535 */
    uint16_t id = (uint16_t)(w * 64u + lowest_bit(f));
    set_word(p, w, word_of(p, w) | UINT64_C(1) << (id & 63u));
    p->in_use++;
    p->next = id == 65535u ? 1 : (uint16_t)(id + 1u);
    return id;
}
