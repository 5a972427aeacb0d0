/*
 * transports/poller.h - readiness of many descriptors through one libuv handle per loop.
 *
 * Why it exists: per-connection memory. libuv has no per-descriptor watcher cheaper than a
 * uv_poll_t (160 bytes on x86-64, libuv 1.44), and every descriptor it watches also grows the
 * loop's watcher array (indexed by descriptor number). A mqtt5_poller is one per loop: on Linux
 * one epoll set (created at the first mqtt5_poller_io_start) watched by one uv_poll_t, so a
 * descriptor costs a mqtt5_poller_io (24 bytes) embedded in its user, and libuv sees one
 * descriptor however many connections the loop holds. Elsewhere, or when built with
 * -DMQTT5_POLLER_UV_POLL, every mqtt5_poller_io holds a uv_poll_t: same API, same semantics.
 *
 * Semantics, both implementations (loop thread only, like every libuv call):
 *  - Level-triggered: a callback comes once per loop iteration while the descriptor is ready for
 *    one of the events the io wants (MQTT5_POLLER_READABLE, MQTT5_POLLER_WRITABLE).
 *  - An error condition (EPOLLERR, libuv's UV_EBADF) is delivered as READABLE | WRITABLE |
 *    MQTT5_POLLER_ERROR whatever the io wants, and a hang-up (EPOLLHUP) as READABLE | WRITABLE |
 *    MQTT5_POLLER_HANGUP (the fallback: libuv hides POLLHUP, reporting what the io wants): the
 *    user learns the real error as a stream would (SO_ERROR, recv(), send()). Both stay
 *    reported, level-triggered, until the io stops. Except (Linux): an io alone in the set since
 *    it was added that watches for READABLE only is given READABLE alone for data, an error and
 *    a hang-up alike (its read tells which): the set's readiness is then its own, so no
 *    epoll_wait is made to ask, one system call less per wake-up for a loop with one
 *    connection.
 *  - A callback may start, modify, stop or close any io, its own included, and start new ones:
 *    an io stopped or closed during a dispatch gets no further callback from it, and an io gets
 *    only events it wants at the time its callback would run.
 *  - mqtt5_poller_io_close stops watching, closes the descriptor and calls close_cb from the
 *    loop later, never inside the call (Linux: on a later loop iteration; the fallback: in this
 *    iteration's close phase, as uv_close does). The io's memory is the poller's until then.
 * An io that is not watching anything does not keep the loop alive (as a stopped uv_poll_t).
 */
#ifndef MQTT5_TRANSPORTS_POLLER_H
#define MQTT5_TRANSPORTS_POLLER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#if !defined(__linux__) || defined(MQTT5_POLLER_UV_POLL)
#define MQTT5_POLLER_FALLBACK 1 /* every io holds a uv_poll_t */
#endif

/* Events an io wants (and is given); values as UV_READABLE and UV_WRITABLE. */
#define MQTT5_POLLER_READABLE 1u
#define MQTT5_POLLER_WRITABLE 2u
/* Given only, with READABLE | WRITABLE: an error condition / a hang-up on the descriptor. */
#define MQTT5_POLLER_ERROR 16u
#define MQTT5_POLLER_HANGUP 32u

/* Readiness fetched by one epoll_wait; more ready descriptors wait for the next iteration. */
#define MQTT5_POLLER_BATCH 64

typedef struct mqtt5_poller mqtt5_poller;
typedef struct mqtt5_poller_io mqtt5_poller_io;

/* `events`: what the io wants that is ready, plus ERROR or HANGUP. The io's user finds itself
 * from `io` (offsetof): the io carries no user pointer. */
typedef void (*mqtt5_poller_cb)(mqtt5_poller_io *io, unsigned events);
typedef void (*mqtt5_poller_close_cb)(mqtt5_poller_io *io);

/* One descriptor. Zero-initialise it (or let a previous close_cb have run) before the first
 * mqtt5_poller_io_start; its fields are the poller's (`events`, what it watches, may be read). */
struct mqtt5_poller_io {
#ifdef MQTT5_POLLER_FALLBACK
    uv_poll_t poll; /* its data: the poller */
#endif
    union {
        mqtt5_poller_cb cb;             /* while open */
        mqtt5_poller_close_cb close_cb; /* while closing */
    } u;
#ifndef MQTT5_POLLER_FALLBACK
    mqtt5_poller_io *next_closing; /* the poller's list of due close callbacks */
#endif
    int fd;
    uint8_t events; /* READABLE | WRITABLE wanted */
    uint8_t flags;  /* poller.c: open, closing */
};

/* One per loop; embeddable (mqtt5_loop holds one). Fields are the poller's; `loop` may be read. */
struct mqtt5_poller {
    uv_loop_t *loop;
    uv_idle_t idle; /* Linux: runs the due close callbacks; fallback: only for the close */
#ifndef MQTT5_POLLER_FALLBACK
    uv_poll_t watch; /* the epoll descriptor in libuv's loop, once it exists */
    mqtt5_poller_io *closing_head, *closing_tail; /* close callbacks due */
    void *batch;                                  /* the dispatch in progress: epoll_event[] */
    int batch_n, batch_next;
    int epfd;        /* -1 until the first io starts */
    unsigned in_set; /* ios in the epoll set: the watch holds the loop alive while > 0 */
    /* the one io in the set, when the set held it alone since it was added (else NULL): a
     * readiness of the set is then this io's (see on_epoll) */
    mqtt5_poller_io *sole;
#endif
    unsigned open; /* ios started and not closed */
    /* closing: what must end before on_closed (handles; the fallback: ios closing too) */
    unsigned handles_open;
    bool closing;
    void (*on_closed)(mqtt5_poller *p);
    /* Set by the owner (the poller does not use it): a buffer the poller's users read into and
     * hand on before the next read, so that a connection carries no read buffer of its own (the
     * TCP filter requires one). */
    uint8_t *read_buf;
    size_t read_cap;
};

/* 0 or a negative libuv error (uv_idle_init's, which libuv 1.x never returns). Opens no
 * descriptor: an unused poller costs no system resource. */
int mqtt5_poller_init(mqtt5_poller *p, uv_loop_t *loop);
/*
 * Close the poller, asynchronously like uv_close: on_closed (may be NULL) runs from the loop once
 * libuv released its handles; then the memory is the caller's. Only when no io is open (every
 * one was closed; close callbacks still due run before on_closed). Nothing may be started after.
 */
void mqtt5_poller_close(mqtt5_poller *p, void (*on_closed)(mqtt5_poller *p));

/*
 * Take the non-blocking descriptor `fd` and watch `events` (0 watches nothing yet) with `cb`.
 * An io that is open (stopped since) may be started again on its own descriptor; another one
 * needs a close first. 0, or a negative libuv error (the epoll set could not be created, the
 * kernel refused the descriptor, ...) and then the io is not open and `fd` is still the caller's.
 */
int mqtt5_poller_io_start(mqtt5_poller *p, mqtt5_poller_io *io, int fd, unsigned events,
                          mqtt5_poller_cb cb);
/* Watch `events` instead (0: nothing, as io_stop). 0 or a negative libuv error (then the io
 * watches what it watched before). UV_EINVAL when the io is not open. */
int mqtt5_poller_io_modify(mqtt5_poller *p, mqtt5_poller_io *io, unsigned events);
/* Stop watching; the io stays open with its descriptor (start it again, or close it). */
void mqtt5_poller_io_stop(mqtt5_poller *p, mqtt5_poller_io *io);
/* Stop watching, close the descriptor, then call close_cb (may be NULL) from the loop later.
 * Nothing happens for an io that is not open (never started, failed to start, or closing). */
void mqtt5_poller_io_close(mqtt5_poller *p, mqtt5_poller_io *io, mqtt5_poller_close_cb close_cb);

/* The io's descriptor while it is open (started and not closed), else -1. */
int mqtt5_poller_io_fd(const mqtt5_poller_io *io);
/* True from mqtt5_poller_io_close until its close_cb runs. */
bool mqtt5_poller_io_is_closing(const mqtt5_poller_io *io);

#endif
