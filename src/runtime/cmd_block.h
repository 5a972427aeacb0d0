/*
 * runtime/cmd_block.h - recycled MQTT5_CMD_BLOCK-byte blocks for small commands; see
 * cmd_block.c for why and how they go round between caller threads and a loop thread.
 */
#ifndef MQTT5_RUNTIME_CMD_BLOCK_H
#define MQTT5_RUNTIME_CMD_BLOCK_H

struct mqtt5_loop;

#define MQTT5_CMD_BLOCK 256u

/* Any thread: a block from this thread's cache, else from malloc (NULL when out of memory). */
void *mqtt5_cmd_block_get(void);
/* Loop thread: give a block back to `loop` (kept for reuse, or freed past the bound). */
void mqtt5_cmd_block_put(struct mqtt5_loop *loop, void *block);
/* Loop thread, under loop->mu: make the blocks given back since the last call available. */
void mqtt5_cmd_block_publish_spares(struct mqtt5_loop *loop);
/* Any thread, under loop->mu: move the loop's available blocks into this thread's cache. */
void mqtt5_cmd_block_take_spares(struct mqtt5_loop *loop);
/* The loop is gone: free what it kept. */
void mqtt5_cmd_block_free_spares(struct mqtt5_loop *loop);

#endif
