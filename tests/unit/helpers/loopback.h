/*
 * helpers/loopback.h - TCP sockets on 127.0.0.1 at a port the kernel picks, for the unit tests
 * that need a listener, a port nobody listens on, or a refused connect (test_runtime,
 * test_poller, test_http_client, test_builder).
 */
#ifndef MQTT5_TEST_LOOPBACK_H
#define MQTT5_TEST_LOOPBACK_H

#include <stdint.h>

/* A TCP socket (close-on-exec) bound to 127.0.0.1 and a free port, not listening; *port gets
 * the port. Closing it leaves a port that refuses connections (very likely: nothing else takes
 * it at once). Fails the test when the kernel refuses. */
int test_loopback_bind(uint16_t *port);
/* The same, listening (backlog 16). */
int test_loopback_listen(uint16_t *port);

#endif
