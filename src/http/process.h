/*
 * http/process.h - run a command (credential_process) on the event loop: `/bin/sh -c command`
 * through uv_spawn, stdout collected through a pipe, stderr inherited, stdin closed, with a
 * timeout that kills the process. Loop thread only; the callback runs on the loop thread.
 */
#ifndef MQTT5_HTTP_PROCESS_H
#define MQTT5_HTTP_PROCESS_H

#include <stddef.h>
#include <stdint.h>

#include "mqtt5/allocator.h"

struct mqtt5_loop;
typedef struct mqtt5_process mqtt5_process;

/* Exactly once: error 0 with the exit status (or 128 + signal) and stdout (NUL-terminated,
 * valid during the call; wiped after), or a negative error with a detail: MQTT5_ERR_TIMEOUT
 * (killed), MQTT5_ERR_PACKET_TOO_LARGE (more than max_output bytes), MQTT5_ERR_IO (spawn
 * failed), MQTT5_ERR_TERMINATED (cancelled). */
typedef void (*mqtt5_process_done_fn)(void *user, int error, int exit_status, const char *out,
                                      size_t out_len, const char *detail);

/* timeout_ms 0 = 60000; max_output 0 = 64 KiB. *out may be NULL. 0 (done will be called, never
 * before this returns; a failed spawn too comes through done) or MQTT5_ERR_INVALID_ARGUMENT,
 * MQTT5_ERR_NOMEM, MQTT5_ERR_INVALID_STATE (off the loop thread). The command runs in its own
 * process group (and session), so a kill reaches everything it started. The handle is valid
 * until done returns. */
int mqtt5_process_run(const mqtt5_allocator *alloc, struct mqtt5_loop *loop, const char *command,
                      uint32_t timeout_ms, size_t max_output, mqtt5_process_done_fn done,
                      void *user, mqtt5_process **out);
/* Kill the process; done is called with MQTT5_ERR_TERMINATED before this returns. */
void mqtt5_process_cancel(mqtt5_process *p);

#endif
