/*
 * tests/integration/helpers/fx_env.c - fixture variables, files, clock and loopback sockets.
 */
#define _POSIX_C_SOURCE 200809L

#include "helpers/fx_env.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const char *fx_env(const char *var)
{
    const char *v = getenv(var);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

uint16_t fx_env_port(const char *var)
{
    const char *v = fx_env(var);
    if (v == NULL) {
        return 0;
    }
    char *end = NULL;
    long p = strtol(v, &end, 10);
    return end != v && *end == '\0' && p > 0 && p <= 65535 ? (uint16_t)p : 0;
}

const char *fx_pki(const char *name)
{
    static char ring[16][512];
    static unsigned next;
    char *buf = ring[next++ % 16];
    const char *dir = fx_env("FX_PKI");
    snprintf(buf, sizeof ring[0], "%s/%s", dir != NULL ? dir : ".", name);
    return buf;
}

uint8_t *fx_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (cap - n < 4096) {
            cap = cap != 0 ? cap * 2 : 8192;
            uint8_t *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            break;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

uint64_t fx_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void fx_sleep_ms(uint32_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static int bind_loopback(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    socklen_t sl = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

uint16_t fx_unused_port(void)
{
    uint16_t port = 0;
    int fd = bind_loopback(&port);
    if (fd < 0) {
        return 0;
    }
    close(fd); /* never listened: connecting now gets RST (ECONNREFUSED) */
    return port;
}

int fx_listen_silent(uint16_t *port)
{
    int fd = bind_loopback(port);
    if (fd < 0) {
        return -1;
    }
    if (listen(fd, 8) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}
