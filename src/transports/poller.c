/*
 * transports/poller.c - one readiness watcher per loop for the loop's sockets (poller.h).
 *
 * Why it exists: per-connection memory. libuv has no per-descriptor watcher cheaper than a
 * uv_poll_t (160 bytes, plus a slot in the loop's watcher array per descriptor number), and a
 * loop may hold thousands of mostly idle connections. On Linux the loop's sockets are in one
 * epoll set, level-triggered, created at the first mqtt5_poller_io_start; libuv watches only
 * that set's descriptor (one uv_poll_t, readable), and each descriptor costs its user a 24-byte
 * mqtt5_poller_io.
 *
 * Dispatch: when the set is readable, one epoll_wait(epfd, batch, MQTT5_POLLER_BATCH, 0), then
 * each entry's callback; or, when the set holds one io alone since it was added (`sole`) and
 * that io watches for reading only, its callback with READABLE and no epoll_wait (the set's
 * readiness can only be that io's: data, or an error or hang-up its read reports). A callback may
 * stop or close any io: stopping an io (removing it from the set, which closing does first) clears
 * its entries still ahead in the batch, so it gets no further callback from that batch; an entry is
 * keyed by the io, not the descriptor, so a descriptor number closed and reused within the batch
 * cannot reach the new owner; an io modified meanwhile is given only what it now wants. More ready
 * descriptors than one batch stay ready (level-triggered), so the set stays readable and libuv
 * calls again next iteration; the kernel rotates its ready list, so no descriptor starves.
 *
 * Close: mqtt5_poller_io_close removes the descriptor from the set (before closing it: a
 * registration lives as long as the open file, which a dup elsewhere may keep open), closes it
 * and queues the io; a uv_idle_t, active only while the queue is not empty, runs the close
 * callbacks on the next iteration, so closing stays asynchronous as with uv_close. The watch
 * handle keeps the loop alive only while an io is in the set (uv_ref/uv_unref, no system
 * call), as a started uv_poll_t would.
 *
 * Elsewhere (or with -DMQTT5_POLLER_UV_POLL) every io holds a uv_poll_t: the same API and
 * semantics on libuv's own watchers, level-triggered again after libuv's POLLERR stop.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "runtime/log_internal.h"
#include "transports/poller.h"

#ifndef MQTT5_POLLER_FALLBACK
#include <sys/epoll.h>
#endif

enum {
    IO_OPEN = 1,   /* started, not closed: io->fd is the io's */
    IO_CLOSING = 2 /* closed, close_cb not yet run */
};

#define POLLER_WANT (MQTT5_POLLER_READABLE | MQTT5_POLLER_WRITABLE)

int mqtt5_poller_io_fd(const mqtt5_poller_io *io)
{
    return (io->flags & IO_OPEN) ? io->fd : -1;
}

bool mqtt5_poller_io_is_closing(const mqtt5_poller_io *io)
{
    return (io->flags & IO_CLOSING) != 0;
}

static void report_open_at_close(const mqtt5_poller *p)
{
    if (p->open)
        MQTT5_LOG(MQTT5_LOG_ERROR, MQTT5_LOG_TCP, "poller closed with %u descriptor(s) open",
                  p->open);
}

/* The start of mqtt5_poller_close in both implementations: mark it, close the idle handle with
 * `idle_closed`. False when it was closed already. */
static bool close_begin(mqtt5_poller *p, void (*on_closed)(mqtt5_poller *p),
                        uv_close_cb idle_closed)
{
    if (p->closing) return false;
    report_open_at_close(p);
    p->closing = true;
    p->on_closed = on_closed;
    p->handles_open++;
    uv_close((uv_handle_t *)&p->idle, idle_closed);
    return true;
}

#ifndef MQTT5_POLLER_FALLBACK

/* ---- Linux: one epoll set ------------------------------------------------------------------ */

int mqtt5_poller_init(mqtt5_poller *p, uv_loop_t *loop)
{
    memset(p, 0, sizeof *p);
    p->loop = loop;
    p->epfd = -1;
    int rc = uv_idle_init(loop, &p->idle);
    p->idle.data = p;
    return rc;
}

static void on_epoll(uv_poll_t *h, int status, int events);

/* The epoll set and its watch, started (unreferenced while the set is empty). */
static int epoll_open(mqtt5_poller *p)
{
    if (p->epfd < 0) {
        int fd = epoll_create1(EPOLL_CLOEXEC);
        if (fd < 0) return uv_translate_sys_error(errno);
        int rc = uv_poll_init(p->loop, &p->watch, fd);
        if (rc != 0) {
            close(fd);
            return rc;
        }
        p->watch.data = p;
        p->epfd = fd;
        uv_unref((uv_handle_t *)&p->watch);
    }
    if (uv_is_active((const uv_handle_t *)&p->watch)) return 0;
    return uv_poll_start(&p->watch, UV_READABLE, on_epoll);
}

/* The io left the set during a dispatch: its entries still ahead are not delivered. */
static void forget(mqtt5_poller *p, const mqtt5_poller_io *io)
{
    struct epoll_event *b = p->batch;
    for (int i = p->batch_next; i < p->batch_n; i++)
        if (b[i].data.ptr == io) b[i].data.ptr = NULL;
}

/* Watch `events` of an open io: in the set exactly while events != 0. */
static int set_events(mqtt5_poller *p, mqtt5_poller_io *io, unsigned events)
{
    events &= POLLER_WANT;
    if (events == io->events) return 0;
    if (events == 0) {
        struct epoll_event ev = {0}; /* non-NULL for kernels before 2.6.9 */
        epoll_ctl(p->epfd, EPOLL_CTL_DEL, io->fd, &ev);
        io->events = 0;
        forget(p, io);
        if (p->sole == io) p->sole = NULL;
        if (--p->in_set == 0) uv_unref((uv_handle_t *)&p->watch);
        return 0;
    }
    int rc = epoll_open(p);
    if (rc != 0) return rc;
    struct epoll_event ev = {0};
    ev.events = ((events & MQTT5_POLLER_READABLE) ? EPOLLIN : 0u) |
                ((events & MQTT5_POLLER_WRITABLE) ? EPOLLOUT : 0u);
    ev.data.ptr = io;
    int op = io->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(p->epfd, op, io->fd, &ev) != 0) return uv_translate_sys_error(errno);
    if (op == EPOLL_CTL_ADD) {
        p->sole = p->in_set == 0 ? io : NULL;
        if (p->in_set++ == 0) uv_ref((uv_handle_t *)&p->watch);
    }
    io->events = (uint8_t)events;
    return 0;
}

/* What an entry gives the io: what it wants of what is ready, or everything on an error. */
static unsigned given(uint32_t ready, unsigned want)
{
    if (ready & (EPOLLERR | EPOLLHUP))
        return POLLER_WANT | ((ready & EPOLLERR) ? MQTT5_POLLER_ERROR : 0u) |
               ((ready & EPOLLHUP) ? MQTT5_POLLER_HANGUP : 0u);
    unsigned got = ((ready & EPOLLIN) ? MQTT5_POLLER_READABLE : 0u) |
                   ((ready & EPOLLOUT) ? MQTT5_POLLER_WRITABLE : 0u);
    return got & want;
}

static void on_epoll(uv_poll_t *h, int status, int events)
{
    mqtt5_poller *p = h->data;
    (void)events;
    if (status < 0) /* libuv stopped the watch (an epoll descriptor has no error condition) */
        uv_poll_start(h, UV_READABLE, on_epoll);
    mqtt5_poller_io *only = p->sole;
    if (only && only->events == MQTT5_POLLER_READABLE) {
        /* The set is ready, and it holds this io alone, watching for reading only: the io is
         * readable, or has an error condition or a hang-up, which its read reports. One system
         * call less per wake-up for a loop with one connection (a device's usual case). */
        only->u.cb(only, MQTT5_POLLER_READABLE);
        return;
    }
    struct epoll_event batch[MQTT5_POLLER_BATCH];
    int n;
    do
        n = epoll_wait(p->epfd, batch, MQTT5_POLLER_BATCH, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        MQTT5_LOG(MQTT5_LOG_ERROR, MQTT5_LOG_TCP, "epoll_wait: %s",
                  uv_strerror(uv_translate_sys_error(errno)));
        return;
    }
    p->batch = batch;
    p->batch_n = n;
    for (int i = 0; i < n; i++) {
        p->batch_next = i + 1;
        mqtt5_poller_io *io = batch[i].data.ptr;
        if (!io) continue; /* stopped or closed by an earlier callback of this batch */
        unsigned got = given(batch[i].events, io->events);
        if (got) io->u.cb(io, got);
    }
    p->batch = NULL;
    p->batch_n = p->batch_next = 0;
}

int mqtt5_poller_io_start(mqtt5_poller *p, mqtt5_poller_io *io, int fd, unsigned events,
                          mqtt5_poller_cb cb)
{
    if (p->closing || fd < 0 || !cb || (io->flags & IO_CLOSING)) return UV_EINVAL;
    if (io->flags & IO_OPEN) {
        if (fd != io->fd) return UV_EINVAL;
        int rc = set_events(p, io, events);
        if (rc == 0) io->u.cb = cb;
        return rc;
    }
    int rc = epoll_open(p);
    if (rc != 0) return rc;
    io->u.cb = cb;
    io->next_closing = NULL;
    io->fd = fd;
    io->events = 0;
    io->flags = IO_OPEN;
    rc = set_events(p, io, events);
    if (rc != 0) {
        io->flags = 0;
        io->fd = -1;
        return rc;
    }
    p->open++;
    return 0;
}

int mqtt5_poller_io_modify(mqtt5_poller *p, mqtt5_poller_io *io, unsigned events)
{
    if (!(io->flags & IO_OPEN)) return UV_EINVAL;
    return set_events(p, io, events);
}

void mqtt5_poller_io_stop(mqtt5_poller *p, mqtt5_poller_io *io)
{
    if (io->flags & IO_OPEN) set_events(p, io, 0);
}

/* Run the close callbacks due now; those queued meanwhile wait for the next run. */
static void run_closes(mqtt5_poller *p)
{
    mqtt5_poller_io *io = p->closing_head;
    p->closing_head = p->closing_tail = NULL;
    while (io) {
        mqtt5_poller_io *next = io->next_closing;
        mqtt5_poller_close_cb cb = io->u.close_cb;
        io->next_closing = NULL;
        io->flags = 0; /* the io is the caller's again, before its callback */
        if (cb) cb(io);
        io = next;
    }
}

static void on_idle(uv_idle_t *h)
{
    uv_idle_stop(h);
    run_closes(h->data);
}

void mqtt5_poller_io_close(mqtt5_poller *p, mqtt5_poller_io *io, mqtt5_poller_close_cb close_cb)
{
    if (!(io->flags & IO_OPEN)) return;
    set_events(p, io, 0); /* out of the set before the descriptor goes */
    close(io->fd);
    p->open--;
    io->fd = -1;
    io->flags = IO_CLOSING;
    io->u.close_cb = close_cb;
    io->next_closing = NULL;
    if (p->closing_tail) {
        p->closing_tail->next_closing = io;
    } else {
        p->closing_head = io;
        if (!p->closing) uv_idle_start(&p->idle, on_idle);
    }
    p->closing_tail = io;
}

static void on_handle_closed(uv_handle_t *h)
{
    mqtt5_poller *p = h->data;
    if (--p->handles_open != 0) return;
    while (p->closing_head)
        run_closes(p);
    if (p->on_closed) p->on_closed(p);
}

void mqtt5_poller_close(mqtt5_poller *p, void (*on_closed)(mqtt5_poller *p))
{
    if (!close_begin(p, on_closed, on_handle_closed)) return;
    if (p->epfd >= 0) {
        p->handles_open++;
        uv_close((uv_handle_t *)&p->watch, on_handle_closed);
        close(p->epfd); /* uv_poll_t: the descriptor may be closed right after uv_close */
        p->epfd = -1;
    }
}

#else

/* ---- fallback: a uv_poll_t per io ---------------------------------------------------------- */

int mqtt5_poller_init(mqtt5_poller *p, uv_loop_t *loop)
{
    memset(p, 0, sizeof *p);
    p->loop = loop;
    int rc = uv_idle_init(loop, &p->idle);
    p->idle.data = p;
    return rc;
}

static mqtt5_poller_io *io_of(uv_poll_t *h)
{
    return (mqtt5_poller_io *)((char *)h - offsetof(mqtt5_poller_io, poll));
}

static void on_uv_poll(uv_poll_t *h, int status, int events)
{
    mqtt5_poller_io *io = io_of(h);
    unsigned got;
    if (status < 0) {
        /* POLLERR: libuv stopped the handle; watch again, level-triggered like epoll */
        if (io->events) uv_poll_start(h, io->events, on_uv_poll);
        got = POLLER_WANT | MQTT5_POLLER_ERROR;
    } else {
        got = (unsigned)events & io->events;
    }
    if (got) io->u.cb(io, got);
}

static int set_events(mqtt5_poller_io *io, unsigned events)
{
    events &= POLLER_WANT;
    if (events == io->events) return 0;
    int rc = events ? uv_poll_start(&io->poll, (int)events, on_uv_poll) : uv_poll_stop(&io->poll);
    if (rc == 0) io->events = (uint8_t)events;
    return rc;
}

int mqtt5_poller_io_start(mqtt5_poller *p, mqtt5_poller_io *io, int fd, unsigned events,
                          mqtt5_poller_cb cb)
{
    if (p->closing || fd < 0 || !cb || (io->flags & IO_CLOSING)) return UV_EINVAL;
    if (io->flags & IO_OPEN) {
        if (fd != io->fd) return UV_EINVAL;
        int rc = set_events(io, events);
        if (rc == 0) io->u.cb = cb;
        return rc;
    }
    int rc = uv_poll_init(p->loop, &io->poll, fd);
    if (rc != 0) return rc;
    io->poll.data = p;
    io->u.cb = cb;
    io->fd = fd;
    io->events = 0;
    io->flags = IO_OPEN;
    p->open++;
    /* uv_poll_start cannot fail on a handle just initialised (libuv 1.x); were it to, the io
     * would stay open watching nothing, as after io_stop */
    return set_events(io, events);
}

int mqtt5_poller_io_modify(mqtt5_poller *p, mqtt5_poller_io *io, unsigned events)
{
    (void)p;
    if (!(io->flags & IO_OPEN)) return UV_EINVAL;
    return set_events(io, events);
}

void mqtt5_poller_io_stop(mqtt5_poller *p, mqtt5_poller_io *io)
{
    (void)p;
    if (io->flags & IO_OPEN) set_events(io, 0);
}

/* One more thing the poller's close waited for ended; the last one reports the close. */
static void handle_done(mqtt5_poller *p)
{
    if (--p->handles_open == 0 && p->closing && p->on_closed) p->on_closed(p);
}

static void on_uv_poll_closed(uv_handle_t *h)
{
    mqtt5_poller_io *io = io_of((uv_poll_t *)h);
    mqtt5_poller *p = h->data;
    mqtt5_poller_close_cb cb = io->u.close_cb;
    io->flags = 0;
    if (cb) cb(io);
    handle_done(p); /* libuv closes handles last in, first out: on_closed waits for the ios */
}

void mqtt5_poller_io_close(mqtt5_poller *p, mqtt5_poller_io *io, mqtt5_poller_close_cb close_cb)
{
    if (!(io->flags & IO_OPEN)) return;
    int fd = io->fd;
    uv_close((uv_handle_t *)&io->poll, on_uv_poll_closed);
    close(fd); /* uv_poll_t: the descriptor may be closed right after uv_close */
    p->open--;
    p->handles_open++;
    io->fd = -1;
    io->events = 0;
    io->flags = IO_CLOSING;
    io->u.close_cb = close_cb;
}

static void on_idle_closed(uv_handle_t *h)
{
    handle_done(h->data);
}

void mqtt5_poller_close(mqtt5_poller *p, void (*on_closed)(mqtt5_poller *p))
{
    close_begin(p, on_closed, on_idle_closed);
}

#endif
