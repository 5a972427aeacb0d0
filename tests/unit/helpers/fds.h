/*
 * helpers/fds.h - how many descriptors the test program has open (/proc/self/fd), for the tests
 * that check a component leaves none behind (test_tcp, test_poller).
 */
#ifndef MQTT5_TEST_FDS_H
#define MQTT5_TEST_FDS_H

/* Entries of /proc/self/fd (the directory's own descriptor, ".", ".." included: compare counts
 * taken the same way, never absolute numbers). */
int test_open_fds(void);

#endif
