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

#endif
