/*
 * tests/integration/helpers/fx_env.h - what an integration test needs from its surroundings:
 * the ports and PKI paths fixture.sh exports, files read into memory, a monotonic clock, and
 * loopback sockets made by the test itself (a port nobody listens on, a listener that never
 * accepts).
 */
#ifndef FX_ENV_H
#define FX_ENV_H

#include <stddef.h>
#include <stdint.h>

/* The value of fixture variable `var`, or NULL when unset or empty. */
const char *fx_env(const char *var);
/* A port exported by the fixture (FX_PORT_TCP, ...); 0 when unset or invalid. */
uint16_t fx_env_port(const char *var);
/* As fx_env_port, but a port the test cannot run without: unset fails the running cmocka test,
 * naming the variable and how to run the test. */
uint16_t fx_need_port(const char *var);
/* "$FX_PKI/<name>"; the result stays valid for the next 15 calls (a ring of buffers). */
const char *fx_pki(const char *name);
/* The whole file in malloc'd memory (NUL-terminated, *len excludes the NUL), or NULL. */
uint8_t *fx_read_file(const char *path, size_t *len);

/* Monotonic milliseconds. */
uint64_t fx_now_ms(void);
void fx_sleep_ms(uint32_t ms);

/* A 127.0.0.1 port that nothing listens on right now (bound, then closed); 0 on failure. */
uint16_t fx_unused_port(void);
/* A listening 127.0.0.1 socket that is never accepted from: connections complete the TCP
 * handshake in the kernel and then hear nothing. Returns the fd (close it) or -1. */
int fx_listen_silent(uint16_t *port);

/* ---- the fixture's mosquitto, stopped and started again by the test --------------------------
 * fixture.sh starts mosquitto as `$MOSQUITTO -c $FX_MOSQ_CONF >>$FX_MOSQ_LOG 2>&1 &` and exports
 * its PID as FX_MOSQ_PID. These functions stop that process (or the one they started last) and
 * start a new one the same way, on the same ports with the same config and persistence file,
 * recording its PID in FX_PIDS_FILE so that the fixture stops it on exit. Not thread-safe: call
 * them from one thread at a time. */

/* The PID of the mosquitto the test knows about (FX_MOSQ_PID, or the last one started here);
 * 0 when none (unset, or stopped). */
long fx_mosquitto_pid(void);
/* Send `sig` (SIGTERM, SIGKILL) to it and wait up to timeout_ms until it has exited (reaped or
 * a zombie); SIGKILL after the timeout. 0, or -1 when there is no PID or it would not die. */
int fx_mosquitto_stop(int sig, uint32_t timeout_ms);
/* Start mosquitto again exactly as fixture.sh's fx_launch_mosquitto does (a "=== start" line,
 * then its output appended to FX_MOSQ_LOG; binary $MOSQUITTO, else mosquitto on PATH, /usr/sbin,
 * /usr/local/sbin), record the PID, and wait up to timeout_ms until every FX_PORT_{TCP,TLS,MTLS,
 * WRONG} that is set accepts a TCP connection. 0, or -1 (the new process died, or a port never
 * accepted; details on stderr). */
int fx_mosquitto_start(uint32_t timeout_ms);
/* true when 127.0.0.1:port accepts a TCP connection now (connected, then closed at once). */
int fx_port_accepts(uint16_t port);

/* ---- helper processes ---------------------------------------------------------------------- */

/* An executable named `name` in a PATH directory, copied to out; 0, or -1 when none. */
int fx_find_on_path(const char *name, char *out, size_t cap);
/* Spawn argv[0] (a path) with argv; its stdout goes to a pipe whose read end is *out_fd
 * (close-on-exec, blocking), stdin is /dev/null, stderr is inherited. The PID is appended to
 * FX_PIDS_FILE when that is set. Returns the PID, or -1. */
long fx_spawn_piped(char *const argv[], int *out_fd);
/* Read one line (without the newline) from fd into buf, waiting until deadline_ms
 * (fx_now_ms() clock). *pending and *pending_len are the caller's carry-over buffer between calls
 * (start with both 0; free(*pending) at the end). Returns the line length, -1 at EOF with
 * nothing pending, -2 on timeout. A line longer than cap is truncated. */
long fx_read_line(int fd, char **pending, size_t *pending_len, char *buf, size_t cap,
                  uint64_t deadline_ms);
/* Wait up to timeout_ms for child `pid` to exit; returns its exit status (0..255), 128+signal,
 * or -1 when it is still running (then SIGKILL it and reap it when kill_on_timeout). */
int fx_wait_child(long pid, uint32_t timeout_ms, int kill_on_timeout);

#endif
