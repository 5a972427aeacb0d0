/*
 * client_alias.c - outbound (DISABLED / MANUAL / LRU) and inbound topic alias tables (see
 * client_alias.h). The LRU index is linear probing over FNV-1a hashes with backward-shift
 * deletion, so lookups never scan the cache. Memory only through the caller's allocator.
 */
#include <string.h>

#include "core/client_alias.h"

#define MIN_ALIASED_TOPIC                                                                          \
    4 /* the Topic Alias property costs 3 bytes: shorter topics gain nothing */

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

static char *copy_topic(const mqtt5_allocator *al, mqtt5_str t)
{
    char *p = al->allocate(al->ctx, t.len);
    if (p) memcpy(p, t.ptr, t.len);
    return p;
}

static void unbind(const mqtt5_allocator *al, client_alias_slot *s)
{
    if (s->topic) al->release(al->ctx, s->topic, s->len);
    s->topic = NULL;
    s->len = 0;
}

static bool same_topic(const client_alias_slot *s, mqtt5_str t)
{
    return s->topic && s->len == t.len && memcmp(s->topic, t.ptr, t.len) == 0;
}

/* ---- outbound ------------------------------------------------------------------------------ */

/* Entries of the LRU index for `usable` aliases: a power of two >= 2 * usable (at least 4). */
static uint32_t index_cap(uint16_t usable)
{
    uint32_t cap = 4;
    while (cap < 2u * usable)
        cap <<= 1;
    return cap;
}

static size_t table_size(const client_alias_out *a)
{
    size_t size = sizeof(client_alias_table) + (size_t)a->usable * sizeof(client_alias_slot);
    if (a->mode == MQTT5_ALIAS_OUT_LRU) size += (size_t)index_cap(a->usable) * sizeof(uint16_t);
    return size;
}

/* The LRU index, after the slots. */
static uint16_t *table_index(const client_alias_out *a)
{
    return (uint16_t *)(a->table->slots + a->usable);
}

static void out_free_table(client_alias_out *a)
{
    if (!a->table) return;
    for (uint32_t i = 0; i < a->usable; i++)
        unbind(a->al, &a->table->slots[i]);
    a->al->release(a->al->ctx, a->table, table_size(a));
    a->table = NULL;
}

static void out_forget(client_alias_out *a)
{
    a->count = 0;
    if (!a->table) return;
    for (uint32_t i = 0; i < a->usable; i++)
        unbind(a->al, &a->table->slots[i]);
    if (a->mode == MQTT5_ALIAS_OUT_LRU)
        memset(table_index(a), 0, (size_t)index_cap(a->usable) * sizeof(uint16_t));
    a->table->mru = a->table->lru = CLIENT_ALIAS_NONE;
}

void client_alias_out_init(client_alias_out *a, const mqtt5_allocator *al, mqtt5_alias_out mode,
                           uint16_t cache_size)
{
    memset(a, 0, sizeof(*a));
    a->al = al;
    a->mode = (uint8_t)mode;
    a->cache_size = cache_size;
}

void client_alias_out_reset(client_alias_out *a, uint16_t server_max)
{
    uint16_t usable = server_max < a->cache_size ? server_max : a->cache_size;
    if (a->mode == MQTT5_ALIAS_OUT_DISABLED) usable = 0;
    out_forget(a);
    if (usable != a->usable) out_free_table(a); /* re-allocated for the new size on first use */
    a->usable = usable;
}

void client_alias_out_cleanup(client_alias_out *a)
{
    out_free_table(a);
    a->usable = 0;
    a->count = 0;
}

/* The table for `usable` aliases; false on NOMEM with nothing changed. */
static bool out_table(client_alias_out *a)
{
    if (a->table) return true;
    client_alias_table *t = a->al->allocate(a->al->ctx, table_size(a));
    if (t == NULL) return false;
    t->mru = t->lru = CLIENT_ALIAS_NONE;
    for (uint32_t i = 0; i < a->usable; i++)
        t->slots[i] = (client_alias_slot){NULL, 0, CLIENT_ALIAS_NONE, CLIENT_ALIAS_NONE, 0};
    a->table = t;
    if (a->mode == MQTT5_ALIAS_OUT_LRU)
        memset(table_index(a), 0, (size_t)index_cap(a->usable) * sizeof(uint16_t));
    return true;
}

/* Position in the index of the slot bound to `t`, or the empty position where it would go. */
static uint32_t index_find(const client_alias_out *a, mqtt5_str t, uint64_t h, bool *found)
{
    const uint16_t *index = table_index(a);
    uint32_t mask = index_cap(a->usable) - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        uint16_t e = index[i];
        if (e == 0) {
            *found = false;
            return i;
        }
        const client_alias_slot *s = &a->table->slots[e - 1];
        if (s->hash == h && same_topic(s, t)) {
            *found = true;
            return i;
        }
    }
}

/* Removes index position `i`, shifting later members of its probe run back (no tombstones). */
static void index_delete(client_alias_out *a, uint32_t i)
{
    uint16_t *index = table_index(a);
    uint32_t mask = index_cap(a->usable) - 1;
    for (uint32_t j = (i + 1) & mask; index[j] != 0; j = (j + 1) & mask) {
        uint32_t home = (uint32_t)a->table->slots[index[j] - 1].hash & mask;
        /* entry j may move to i when its home does not lie cyclically in (i, j] */
        bool stays = (i < j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            index[i] = index[j];
            i = j;
        }
    }
    index[i] = 0;
}

static void lru_unlink(client_alias_table *t, uint16_t s)
{
    client_alias_slot *x = &t->slots[s];
    if (x->prev != CLIENT_ALIAS_NONE)
        t->slots[x->prev].next = x->next;
    else
        t->mru = x->next;
    if (x->next != CLIENT_ALIAS_NONE)
        t->slots[x->next].prev = x->prev;
    else
        t->lru = x->prev;
    x->prev = x->next = CLIENT_ALIAS_NONE;
}

static void lru_push_front(client_alias_table *t, uint16_t s)
{
    client_alias_slot *x = &t->slots[s];
    x->prev = CLIENT_ALIAS_NONE;
    x->next = t->mru;
    if (t->mru != CLIENT_ALIAS_NONE) t->slots[t->mru].prev = s;
    t->mru = s;
    if (t->lru == CLIENT_ALIAS_NONE) t->lru = s;
}

static int resolve_lru(client_alias_out *a, mqtt5_str topic, uint16_t *alias, bool *send_topic)
{
    if (a->usable == 0 || topic.len < MIN_ALIASED_TOPIC) return MQTT5_OK;
    if (!out_table(a)) return MQTT5_ERR_NOMEM;
    client_alias_table *t = a->table;
    uint16_t *index = table_index(a);
    uint64_t h = fnv1a(topic.ptr, topic.len);
    bool found;
    uint32_t pos = index_find(a, topic, h, &found);
    if (found) {
        uint16_t s = (uint16_t)(index[pos] - 1);
        lru_unlink(t, s);
        lru_push_front(t, s);
        *alias = (uint16_t)(s + 1);
        *send_topic = false;
        return MQTT5_OK;
    }
    char *copy = copy_topic(a->al, topic);
    if (copy == NULL) return MQTT5_ERR_NOMEM;
    uint16_t s;
    if (a->count < a->usable) {
        s = a->count++;
    } else { /* evict the least recently used binding and reuse its alias */
        s = t->lru;
        bool victim_found;
        mqtt5_str old = {t->slots[s].topic, t->slots[s].len};
        uint32_t vpos = index_find(a, old, t->slots[s].hash, &victim_found);
        index_delete(a, vpos);
        lru_unlink(t, s);
        unbind(a->al, &t->slots[s]);
        pos = index_find(a, topic, h, &found); /* the delete may have moved the free position */
    }
    t->slots[s].topic = copy;
    t->slots[s].len = (uint16_t)topic.len;
    t->slots[s].hash = h;
    index[pos] = (uint16_t)(s + 1);
    lru_push_front(t, s);
    *alias = (uint16_t)(s + 1);
    return MQTT5_OK;
}

static int resolve_manual(client_alias_out *a, mqtt5_str topic, uint16_t user_alias,
                          uint16_t *alias, bool *send_topic)
{
    if (user_alias == 0) return MQTT5_OK;
    if (user_alias > a->usable) return MQTT5_ERR_NOT_AVAILABLE;
    if (topic.len == 0) return MQTT5_ERR_INVALID_ARGUMENT;
    if (!out_table(a)) return MQTT5_ERR_NOMEM;
    client_alias_slot *s = &a->table->slots[user_alias - 1];
    if (same_topic(s, topic)) {
        *alias = user_alias;
        *send_topic = false;
        return MQTT5_OK;
    }
    char *copy = copy_topic(a->al, topic);
    if (copy == NULL) return MQTT5_ERR_NOMEM;
    unbind(a->al, s);
    s->topic = copy;
    s->len = (uint16_t)topic.len;
    *alias = user_alias;
    return MQTT5_OK;
}

int client_alias_out_resolve(client_alias_out *a, mqtt5_str topic, uint16_t user_alias,
                             uint16_t *alias, bool *send_topic)
{
    *alias = 0;
    *send_topic = true;
    if (topic.len > 65535 || (topic.len > 0 && topic.ptr == NULL))
        return MQTT5_ERR_INVALID_ARGUMENT;
    int rc;
    switch (a->mode) {
    case MQTT5_ALIAS_OUT_MANUAL:
        rc = resolve_manual(a, topic, user_alias, alias, send_topic);
        break;
    case MQTT5_ALIAS_OUT_LRU:
        rc = user_alias ? MQTT5_ERR_INVALID_ARGUMENT : resolve_lru(a, topic, alias, send_topic);
        break;
    case MQTT5_ALIAS_OUT_DISABLED:
    default:
        rc = user_alias ? MQTT5_ERR_INVALID_ARGUMENT : MQTT5_OK;
        break;
    }
    if (rc != MQTT5_OK) {
        *alias = 0;
        *send_topic = true;
    }
    return rc;
}

/* ---- inbound ------------------------------------------------------------------------------- */

void client_alias_in_init(client_alias_in *a, uint16_t max)
{
    a->max = max;
    a->slots = NULL;
}

void client_alias_in_reset(client_alias_in *a, const mqtt5_allocator *al)
{
    if (a->slots)
        for (uint32_t i = 0; i < a->max; i++)
            unbind(al, &a->slots[i]);
}

void client_alias_in_cleanup(client_alias_in *a, const mqtt5_allocator *al)
{
    if (a->slots) {
        client_alias_in_reset(a, al);
        al->release(al->ctx, a->slots, (size_t)a->max * sizeof(*a->slots));
    }
    a->slots = NULL;
}

int client_alias_in_resolve(client_alias_in *a, const mqtt5_allocator *al, uint16_t alias,
                            mqtt5_str *topic)
{
    if (alias == 0 || alias > a->max) return MQTT5_ERR_TOPIC_ALIAS_INVALID;
    if (topic->len == 0) {
        const client_alias_slot *s = a->slots ? &a->slots[alias - 1] : NULL;
        if (s == NULL || s->topic == NULL) return MQTT5_ERR_PROTOCOL_ERROR;
        topic->ptr = s->topic;
        topic->len = s->len;
        return MQTT5_OK;
    }
    if (topic->len > 65535 || topic->ptr == NULL) return MQTT5_ERR_INVALID_ARGUMENT;
    if (a->slots == NULL) {
        size_t size = (size_t)a->max * sizeof(*a->slots);
        client_alias_slot *slots = al->allocate(al->ctx, size);
        if (slots == NULL) return MQTT5_ERR_NOMEM;
        for (uint32_t i = 0; i < a->max; i++)
            slots[i] = (client_alias_slot){NULL, 0, CLIENT_ALIAS_NONE, CLIENT_ALIAS_NONE, 0};
        a->slots = slots;
    }
    client_alias_slot *s = &a->slots[alias - 1];
    if (same_topic(s, *topic)) return MQTT5_OK;
    char *copy = copy_topic(al, *topic);
    if (copy == NULL) return MQTT5_ERR_NOMEM;
    unbind(al, s);
    s->topic = copy;
    s->len = (uint16_t)topic->len;
    return MQTT5_OK;
}
