/*
 * runtime/loop_call.h - the two things code outside the runtime needs from the event loops to
 * get back onto a loop thread: which loop the calling thread runs (NULL if none), and "run this
 * function there soon". No libuv types, so auth and credentials code can include it.
 */
#ifndef MQTT5_RUNTIME_LOOP_CALL_H
#define MQTT5_RUNTIME_LOOP_CALL_H

struct mqtt5_loop;

/* The loop of the calling thread, or NULL on a thread that is not an SDK loop thread. */
struct mqtt5_loop *mqtt5_loop_current(void);
/* Run fn(arg) on `loop`'s thread (after the commands already queued). Any thread. 0 or
 * MQTT5_ERR_NOMEM (fn is then not called). */
int mqtt5_loop_call(struct mqtt5_loop *loop, void (*fn)(void *arg), void *arg);

#endif
