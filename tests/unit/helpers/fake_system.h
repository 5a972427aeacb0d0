/*
 * helpers/fake_system.h - a mqtt5_credentials_system for tests: environment variables and files
 * from tables, a clock that the test sets. Unset names and unknown paths behave as in a real
 * process (NULL; MQTT5_ERR_FILE with errno ENOENT).
 */
#ifndef MQTT5_TEST_FAKE_SYSTEM_H
#define MQTT5_TEST_FAKE_SYSTEM_H

#include <stdint.h>

#include "mqtt5/credentials.h"

typedef struct fake_sys {
    const char *env[16][2];  /* {name, value}; the first NULL name ends the table */
    const char *files[8][2]; /* {path, contents} */
    int64_t now;             /* Unix seconds */
} fake_sys;

/* The seam reading `f` (kept by pointer: later changes to f are seen). */
mqtt5_credentials_system fake_sys_seam(fake_sys *f);

#endif
