/*
 * runtime/cmd_block.c - recycled fixed-size blocks for small commands (a PUBLISH of a few
 * hundred bytes), so that a publish costs no malloc/free pair across threads.
 *
 * Why not plain malloc: a command is allocated on the caller's thread and freed on the loop
 * thread; glibc then returns the block to the caller thread's arena under that arena's lock,
 * contended by the caller's next malloc, and trims and regrows the heap (page faults, TLB
 * shootdowns) as the queue fills and drains. Measured: a third of the client's CPU per message in
 * the publish-only benchmark. So blocks go round instead: the loop thread keeps freed blocks in a
 * list of its own (no lock); each drain of the command FIFO, which holds the loop's mutex
 * anyway, moves them to the loop's shared list; a caller thread posting a command under that
 * mutex takes the shared list into a cache of its own (thread-local, freed when the thread
 * exits) and allocates from it without a lock. Every list is bounded, so a burst leaves at most
 * MQTT5_CMD_BLOCK * (SPARE_MAX + CACHE_MAX per caller thread) bytes behind. Blocks come from
 * libc: only clients on the default allocator use them (runtime/client.c).
 */
#define _POSIX_C_SOURCE 200809L
#include "runtime/cmd_block.h"

#include <pthread.h>
#include <stdlib.h>

#include "runtime/loop.h"

#define SPARE_MAX 1024u /* blocks a loop keeps (local + shared) */
#define CACHE_MAX 512u  /* blocks a caller thread keeps */

typedef struct block {
    struct block *next;
} block;

typedef struct thread_cache {
    block *head;
    unsigned n;
} thread_cache;

static _Thread_local thread_cache cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void free_list(block *b)
{
    while (b) {
        block *next = b->next;
        free(b);
        b = next;
    }
}

static void cache_exit(void *arg)
{
    thread_cache *tc = arg;
    free_list(tc->head);
    tc->head = NULL;
    tc->n = 0;
}

static void cache_key_init(void)
{
    (void)pthread_key_create(&cache_key, cache_exit);
}

void *mqtt5_cmd_block_get(void)
{
    block *b = cache.head;
    if (!b) return malloc(MQTT5_CMD_BLOCK);
    cache.head = b->next;
    cache.n--;
    return b;
}

void mqtt5_cmd_block_put(mqtt5_loop *loop, void *p)
{
    if (loop->spare_local_n >= SPARE_MAX) {
        free(p);
        return;
    }
    block *b = p;
    b->next = loop->spare_local;
    loop->spare_local = b;
    loop->spare_local_n++;
}

void mqtt5_cmd_block_publish_spares(mqtt5_loop *loop)
{
    if (!loop->spare_local) return;
    block *tail = loop->spare_local;
    while (tail->next)
        tail = tail->next;
    tail->next = loop->spare;
    loop->spare = loop->spare_local;
    loop->spare_n += loop->spare_local_n;
    loop->spare_local = NULL;
    loop->spare_local_n = 0;
    while (loop->spare_n > SPARE_MAX) { /* nobody took them: keep the bound */
        block *b = loop->spare;
        loop->spare = b->next;
        loop->spare_n--;
        free(b);
    }
}

void mqtt5_cmd_block_take_spares(mqtt5_loop *loop)
{
    if (!loop->spare || cache.n >= CACHE_MAX) return;
    if (!cache.head) { /* first blocks on this thread: free them when it exits */
        (void)pthread_once(&cache_once, cache_key_init);
        (void)pthread_setspecific(cache_key, &cache);
    }
    while (loop->spare && cache.n < CACHE_MAX) {
        block *b = loop->spare;
        loop->spare = b->next;
        loop->spare_n--;
        b->next = cache.head;
        cache.head = b;
        cache.n++;
    }
}

void mqtt5_cmd_block_free_spares(mqtt5_loop *loop)
{
    free_list(loop->spare_local);
    free_list(loop->spare);
    loop->spare_local = loop->spare = NULL;
    loop->spare_local_n = loop->spare_n = 0;
}
