/*
 * test_poller.c - the loop's poller (transports/poller.c) on a real libuv loop with real
 * socketpairs (and a refused TCP connect for an error condition). Covers readable and writable
 * events, level-triggering, modify/stop/start again and what keeps the loop alive; a callback
 * that stops or closes other ios of the same batch, and itself (no callback afterwards: the
 * closed ones are freed in their close callbacks, so the sanitizers see any later use); close
 * callbacks that come from the loop, never inside the call (on Linux on a later iteration), and
 * may start the io again; more ready descriptors than one batch; a hang-up and an error condition
 * delivered, level-triggered, as readable + writable + a flag; a descriptor number closed and
 * reused while another holder keeps the old file open; an io alone in the set watching for
 * reading (told READABLE for a hang-up or an error too, without an epoll_wait; not once another
 * io joined); ios started during a dispatch (on the number of one closed in the same batch;
 * after the last io left, with the loop blocking); the poller closed after its last io, with
 * close callbacks still due; and refused starts.
 *
 * Built with -DMQTT5_POLLER_UV_POLL it tests the fallback (a uv_poll_t per io) the same way; only
 * what the fallback cannot know (the hang-up flag, the batch size, the iteration of a close
 * callback) is checked on Linux's epoll alone.
 */
#define _POSIX_C_SOURCE 200809L
#include "helpers/test_common.h"
#include "helpers/loopback.h"
#include "helpers/fds.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "transports/poller.h"

#define R MQTT5_POLLER_READABLE
#define W MQTT5_POLLER_WRITABLE

static uv_loop_t loop;
static mqtt5_poller poller;
static int pollers_closed;
static int close_order; /* close callbacks and the poller's on_closed, numbered as they run */

typedef struct rec rec;
struct rec {
    mqtt5_poller_io io; /* first: a rec is its io */
    int fd, peer;       /* the watched end and the other end (-1 once closed) */
    int calls, closes;
    unsigned events; /* of the last callback */
    int close_rank;
    void (*then)(rec *r, unsigned events); /* what the callback does after recording */
    void (*then_closed)(rec *r);           /* what the close callback does after recording */
    bool heap;                             /* freed (with its peer) by its close callback */
    /* recorded by callbacks that close their own io */
    int closes_inside, fd_errno_after_close;
};

static void on_poller_closed(mqtt5_poller *p)
{
    assert_ptr_equal(p, &poller);
    pollers_closed++;
    close_order++;
}

static void setup_loop(void)
{
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(mqtt5_poller_init(&poller, &loop), 0);
    pollers_closed = 0;
    close_order = 0;
}

/* Close the poller; the loop must end with nothing left. */
static void finish_loop(void)
{
    mqtt5_poller_close(&poller, on_poller_closed);
    assert_int_equal(pollers_closed, 0); /* asynchronous, like uv_close */
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(pollers_closed, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* One loop iteration per run: what one run did not do is done in a later iteration. */
static void run_nowait(int n)
{
    for (int i = 0; i < n; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
}

/* Run the loop until cond holds; fail after 5 s. */
#define RUN_UNTIL(cond)                                                                            \
    do {                                                                                           \
        struct timespec t0_, t_;                                                                   \
        clock_gettime(CLOCK_MONOTONIC, &t0_);                                                      \
        while (!(cond)) {                                                                          \
            clock_gettime(CLOCK_MONOTONIC, &t_);                                                   \
            if (t_.tv_sec - t0_.tv_sec > 5) fail_msg("timed out waiting for %s", #cond);           \
            uv_run(&loop, UV_RUN_NOWAIT);                                                          \
        }                                                                                          \
    } while (0)

static void make_pair(int *a, int *b)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    *a = sv[0];
    *b = sv[1];
}

static void rec_pair(rec *r)
{
    memset(r, 0, sizeof *r);
    make_pair(&r->fd, &r->peer);
}

/* r watches a TCP socket whose connect to a bound, not listening, loopback port is in progress
 * (it is refused: an error condition). Returns the bound socket, for the caller to close. */
static int rec_refused_connect(rec *r)
{
    uint16_t port;
    int lfd = test_loopback_bind(&port);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(port);
    memset(r, 0, sizeof *r);
    r->peer = -1;
    r->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(r->fd >= 0);
    int rc = connect(r->fd, (struct sockaddr *)&sa, sizeof sa);
    assert_true(rc == -1 && errno == EINPROGRESS);
    return lfd;
}

static rec *rec_new(void)
{
    rec *r = malloc(sizeof *r);
    assert_non_null(r);
    rec_pair(r);
    r->heap = true;
    return r;
}

static void on_event(mqtt5_poller_io *io, unsigned events)
{
    rec *r = (rec *)io;
    r->calls++;
    r->events = events;
    if (r->then) r->then(r, events);
}

static void on_close(mqtt5_poller_io *io)
{
    rec *r = (rec *)io;
    assert_int_equal(mqtt5_poller_io_fd(io), -1);
    assert_false(mqtt5_poller_io_is_closing(io)); /* the io is the caller's again */
    r->closes++;
    r->close_rank = ++close_order;
    if (r->then_closed) r->then_closed(r);
    if (r->heap) {
        if (r->peer >= 0) close(r->peer);
        free(r);
    }
}

static void start(rec *r, unsigned events)
{
    assert_int_equal(mqtt5_poller_io_start(&poller, &r->io, r->fd, events, on_event), 0);
    assert_int_equal(mqtt5_poller_io_fd(&r->io), r->fd);
}

static void rec_close(rec *r)
{
    mqtt5_poller_io_close(&poller, &r->io, on_close);
}

static void peer_write(rec *r)
{
    assert_int_equal(write(r->peer, "x", 1), 1);
}

static void peer_close(rec *r)
{
    close(r->peer);
    r->peer = -1;
}

/* ---- readiness, level-triggering, modify/stop/start, what keeps the loop alive --------------- */

static void test_readable_writable_level(void **state)
{
    (void)state;
    setup_loop();
    static rec a;
    rec_pair(&a);
    start(&a, R);
    run_nowait(3);
    assert_int_equal(a.calls, 0); /* nothing to read */
    assert_true(uv_loop_alive(&loop));

    peer_write(&a);
    run_nowait(1);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.events, R);
    run_nowait(1); /* level-triggered: still unread, reported again */
    assert_int_equal(a.calls, 2);
    char c;
    assert_int_equal(read(a.fd, &c, 1), 1);
    run_nowait(2);
    assert_int_equal(a.calls, 2);

    assert_int_equal(mqtt5_poller_io_modify(&poller, &a.io, W), 0);
    run_nowait(1);
    assert_int_equal(a.calls, 3);
    assert_int_equal(a.events, W);
    peer_write(&a);
    assert_int_equal(mqtt5_poller_io_modify(&poller, &a.io, R | W), 0);
    run_nowait(1);
    assert_int_equal(a.calls, 4);
    assert_int_equal(a.events, R | W);

    assert_int_equal(mqtt5_poller_io_modify(&poller, &a.io, 0), 0); /* as stop */
    run_nowait(2);
    assert_int_equal(a.calls, 4);
    assert_false(uv_loop_alive(&loop)); /* an io watching nothing keeps nothing alive */
    assert_int_equal(mqtt5_poller_io_start(&poller, &a.io, a.fd, R, on_event), 0); /* again */
    assert_true(uv_loop_alive(&loop));
    run_nowait(1);
    assert_int_equal(a.calls, 5); /* the byte is still there */
    assert_int_equal(a.events, R);
    mqtt5_poller_io_stop(&poller, &a.io);
    assert_int_equal(mqtt5_poller_io_fd(&a.io), a.fd); /* stopped, still open */
    run_nowait(2);
    assert_int_equal(a.calls, 5);
    assert_false(uv_loop_alive(&loop));
    int other, other_peer;
    make_pair(&other, &other_peer); /* an open io is started again only on its descriptor */
    assert_int_equal(mqtt5_poller_io_start(&poller, &a.io, other, R, on_event), UV_EINVAL);
    close(other);
    close(other_peer);

    rec_close(&a);
    assert_true(mqtt5_poller_io_is_closing(&a.io));
    assert_int_equal(mqtt5_poller_io_fd(&a.io), -1);
    assert_int_equal(mqtt5_poller_io_start(&poller, &a.io, a.peer, R, on_event), UV_EINVAL);
    run_nowait(2);
    assert_int_equal(a.closes, 1);
    assert_int_equal(a.calls, 5);
    close(a.peer);
    finish_loop();
}

/* ---- a callback stops and closes other ios of its batch, and itself ------------------------- */

static rec *trio[3];
static rec *trio_first, *trio_stopped, *trio_closed;
static int freed_calls[2]; /* calls of the first and the closed one, kept as they are freed */

static void keep_calls_first(rec *r)
{
    freed_calls[0] = r->calls;
}

static void keep_calls_closed(rec *r)
{
    freed_calls[1] = r->calls;
}

static void first_stops_and_closes_others(rec *self, unsigned events)
{
    (void)events;
    if (trio_first) return;
    trio_first = self;
    for (int i = 0; i < 3; i++) {
        if (trio[i] == self) continue;
        if (!trio_closed) {
            trio_closed = trio[i];
            trio_closed->then_closed = keep_calls_closed;
            rec_close(trio[i]);
        } else {
            trio_stopped = trio[i];
            mqtt5_poller_io_stop(&poller, &trio[i]->io);
        }
    }
    self->then_closed = keep_calls_first;
    rec_close(self); /* and itself */
}

static void test_stop_and_close_others_in_batch(void **state)
{
    (void)state;
    setup_loop();
    trio_first = trio_stopped = trio_closed = NULL;
    freed_calls[0] = freed_calls[1] = -1;
    /* each hung up (readable + hang-up): reported whatever the io wants, so only the batch
     * bookkeeping, not the wanted events, can keep the stopped and closed ones quiet */
    for (int i = 0; i < 3; i++) {
        trio[i] = rec_new();
        trio[i]->then = first_stops_and_closes_others;
        start(trio[i], R);
        peer_close(trio[i]);
    }
    run_nowait(1); /* one batch holds all three */
    assert_non_null(trio_first);
    assert_non_null(trio_stopped);
    assert_non_null(trio_closed);
    assert_int_equal(trio_stopped->calls, 0);
    run_nowait(3); /* the close callbacks free the first and the closed one */
    assert_int_equal(freed_calls[0], 1);
    assert_int_equal(freed_calls[1], 0);
    assert_int_equal(trio_stopped->calls, 0);
    assert_int_equal(trio_stopped->closes, 0);

    /* the stopped one is still open: watched again, it is told about the hang-up */
    assert_int_equal(mqtt5_poller_io_modify(&poller, &trio_stopped->io, R), 0);
    run_nowait(1);
    assert_int_equal(trio_stopped->calls, 1);
    assert_true(trio_stopped->events & R);
    rec_close(trio_stopped);
    run_nowait(2);
    finish_loop();
}

/* ---- close callbacks come later, from the loop --------------------------------------------- */

static void close_self_and_look(rec *r, unsigned events)
{
    (void)events;
    int fd = mqtt5_poller_io_fd(&r->io);
    rec_close(r);
    r->closes_inside = r->closes;
    errno = 0;
    r->fd_errno_after_close = fcntl(fd, F_GETFD) == -1 ? errno : 0; /* closed at once */
}

static rec *restarted;

static void start_again_on_new_pair(rec *r)
{
    close(r->peer); /* the io is the caller's again: a new descriptor (as tcp.c's next address) */
    make_pair(&r->fd, &r->peer);
    r->then_closed = NULL;
    restarted = r;
    start(r, R);
    peer_write(r);
}

static void test_close_callback_later(void **state)
{
    (void)state;
    setup_loop();
    static rec a, b;
    rec_pair(&a);
    a.then = close_self_and_look;
    start(&a, R);
    peer_write(&a);
    run_nowait(1);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.closes_inside, 0); /* not inside the call */
    assert_int_equal(a.fd_errno_after_close, EBADF);
#ifndef MQTT5_POLLER_FALLBACK
    assert_int_equal(a.closes, 0); /* not in this iteration either (the fallback: uv_close's) */
#endif
    run_nowait(1); /* the next iteration */
    assert_int_equal(a.closes, 1);
    assert_int_equal(a.calls, 1);
    close(a.peer);

    /* closed outside any callback: the callback comes from the next run; there the io may be
     * started again on another descriptor */
    rec_pair(&b);
    start(&b, R);
    b.then_closed = start_again_on_new_pair;
    restarted = NULL;
    rec_close(&b);
    assert_int_equal(b.closes, 0);
    run_nowait(1);
    assert_int_equal(b.closes, 1);
    assert_ptr_equal(restarted, &b);
    RUN_UNTIL(b.calls == 1);
    assert_int_equal(b.events, R);
    rec_close(&b);
    run_nowait(2);
    assert_int_equal(b.closes, 2);
    assert_int_equal(b.calls, 1);
    close(b.peer);
    finish_loop();
}

/* ---- more ready descriptors than one batch -------------------------------------------------- */

enum { MANY = 2 * MQTT5_POLLER_BATCH + 5 };

static void stop_self(rec *r, unsigned events)
{
    (void)events;
    mqtt5_poller_io_stop(&poller, &r->io); /* still readable: only the stop ends the reports */
}

static void test_more_ready_than_a_batch(void **state)
{
    (void)state;
    setup_loop();
    static rec many[MANY];
    for (int i = 0; i < MANY; i++) {
        rec_pair(&many[i]);
        many[i].then = stop_self;
        start(&many[i], R);
        peer_write(&many[i]);
    }
    int total = 0, runs = 0, most = 0;
    while (total < MANY && runs < 100) {
        int before = total;
        run_nowait(1);
        runs++;
        total = 0;
        for (int i = 0; i < MANY; i++)
            total += many[i].calls;
        if (total - before > most) most = total - before;
    }
    for (int i = 0; i < MANY; i++)
        assert_int_equal(many[i].calls, 1); /* every one, once */
#ifndef MQTT5_POLLER_FALLBACK
    assert_int_equal(most, MQTT5_POLLER_BATCH); /* one epoll_wait per iteration */
    assert_true(runs >= 3);
#else
    (void)most;
#endif
    for (int i = 0; i < MANY; i++)
        rec_close(&many[i]);
    run_nowait(2);
    for (int i = 0; i < MANY; i++) {
        assert_int_equal(many[i].closes, 1);
        close(many[i].peer);
    }
    finish_loop();
}

/* ---- hang-up and error conditions ---------------------------------------------------------- */

static void test_hangup_and_error(void **state)
{
    (void)state;
    setup_loop();
    static rec a, b, z;
    /* another io in the set, never ready, so that the set's readiness is not one io's (see
     * test_sole_reader for an io alone) */
    rec_pair(&z);
    start(&z, R);
    /* the peer hangs up */
    rec_pair(&a);
    start(&a, R);
    peer_close(&a);
    run_nowait(1);
    assert_int_equal(a.calls, 1);
    assert_true(a.events & R);
#ifndef MQTT5_POLLER_FALLBACK
    assert_int_equal(a.events, R | W | MQTT5_POLLER_HANGUP);
#endif
    char c;
    assert_int_equal(read(a.fd, &c, 1), 0); /* the end of the stream */
    run_nowait(1);
    assert_int_equal(a.calls, 2); /* level-triggered until the io stops */
    rec_close(&a);

    /* an error condition: a connect refused (a port bound, not listening), watched for
     * readability only: readable + writable + error, until SO_ERROR is read */
    int lfd = rec_refused_connect(&b);
    start(&b, R);
    RUN_UNTIL(b.calls >= 1);
    assert_true(b.events & MQTT5_POLLER_ERROR);
    assert_int_equal(b.events & (R | W), R | W);
    int calls = b.calls;
    run_nowait(1);
    assert_int_equal(b.calls, calls + 1); /* still reported */
    assert_true(b.events & MQTT5_POLLER_ERROR);
    int soerr = 0;
    socklen_t len = sizeof soerr;
    assert_int_equal(getsockopt(b.fd, SOL_SOCKET, SO_ERROR, &soerr, &len), 0);
    assert_int_equal(soerr, ECONNREFUSED); /* the real error, learnt as tcp.c learns it */
    calls = b.calls;
    run_nowait(1);
    assert_int_equal(b.calls, calls + 1);        /* closed socket: readable (end of stream) */
    assert_false(b.events & MQTT5_POLLER_ERROR); /* read: no longer an error */
    rec_close(&b);
    rec_close(&z);
    run_nowait(2);
    assert_int_equal(a.closes, 1);
    assert_int_equal(b.closes, 1);
    assert_int_equal(z.calls, 0);
    close(lfd);
    finish_loop();
}

/* An io alone in the set watching for reading only is told READABLE for data, a hang-up and an
 * error condition alike (on Linux the set's readiness is then its own, and no epoll_wait asks
 * which): its read says which it was. Not once another io joined the set, even after that one
 * left (the poller no longer knows it is alone), nor while it watches for writing too. */
static void test_sole_reader(void **state)
{
    (void)state;
    setup_loop();
    static rec a, z;
    rec_pair(&a);
    start(&a, R);
    peer_write(&a);
    run_nowait(1);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.events, R);
    char buf[64];
    assert_true(read(a.fd, buf, sizeof buf) > 0);
    run_nowait(1);
    assert_int_equal(a.calls, 1); /* drained: not ready */
    peer_close(&a);
    run_nowait(1);
    assert_int_equal(a.calls, 2);
#ifndef MQTT5_POLLER_FALLBACK
    assert_int_equal(a.events, R); /* the hang-up, as READABLE alone */
#endif
    assert_int_equal(read(a.fd, buf, sizeof buf), 0); /* the read tells: end of stream */
    run_nowait(1);
    assert_int_equal(a.calls, 3); /* level-triggered still */
    /* watching for writing too: the full answer again */
    assert_int_equal(mqtt5_poller_io_modify(&poller, &a.io, R | W), 0);
    run_nowait(1);
    assert_int_equal(a.calls, 4);
#ifndef MQTT5_POLLER_FALLBACK
    assert_int_equal(a.events, R | W | MQTT5_POLLER_HANGUP);
#endif
    rec_close(&a);
    run_nowait(2); /* the set is empty again ... */

    /* an error condition, alone: READABLE, and the read returns the error */
    int lfd = rec_refused_connect(&z);
    start(&z, R); /* ... so z is alone in it */
    RUN_UNTIL(z.calls >= 1);
#ifndef MQTT5_POLLER_FALLBACK
    assert_int_equal(z.events, R);
#endif
    assert_int_equal(recv(z.fd, buf, sizeof buf, 0), -1);
    assert_int_equal(errno, ECONNREFUSED);

    /* once another io joined, the set's readiness is no longer z's alone, even after it left */
    static rec y;
    rec_pair(&y);
    start(&y, R);
    rec_close(&y);
    run_nowait(2);
    int calls = z.calls;
    run_nowait(1); /* z: a closed socket, readable (end of stream) */
    assert_int_equal(z.calls, calls + 1);
#ifndef MQTT5_POLLER_FALLBACK
    assert_int_equal(z.events, R | W | MQTT5_POLLER_HANGUP); /* asked, not assumed */
#endif
    rec_close(&z);
    run_nowait(2);
    close(lfd);
    finish_loop();
}

/* ---- a descriptor number closed and reused --------------------------------------------------- */

static void test_fd_reused_after_close(void **state)
{
    (void)state;
    setup_loop();
    static rec a, b;
    rec_pair(&a);
    int keep = dup(a.fd); /* another holder (a fork, a library) keeps a's open file alive */
    assert_true(keep >= 0);
    start(&a, R);
    int number = a.fd;
    rec_close(&a);
    peer_close(&a); /* a's file now hangs up: reported to anyone still watching it */
    /* the number is free again: the next socketpair takes it */
    rec_pair(&b);
    if (b.peer == number) {
        b.peer = b.fd;
        b.fd = number;
    }
    assert_int_equal(b.fd, number);
    start(&b, R);
    peer_write(&b);
    run_nowait(3);
    assert_int_equal(a.calls, 0);  /* nothing about the old file, */
    assert_int_equal(a.closes, 1); /* only its close */
    assert_int_equal(b.calls, 3);  /* the new one: level-triggered, once per iteration */
    assert_int_equal(b.events, R);
    rec_close(&b);
    run_nowait(2);
    close(b.peer);
    close(keep);
    finish_loop();
}

/* ---- ios started during a dispatch ---------------------------------------------------------- */

static rec *duo[2];
static rec *duo_first, *duo_closed, *newcomer;
static int duo_closed_calls;

static void keep_calls_duo(rec *r)
{
    duo_closed_calls = r->calls;
}

/* The first of the batch closes the other and starts a new io on the number it freed. */
static void close_other_start_new(rec *self, unsigned events)
{
    (void)events;
    if (duo_first) return;
    duo_first = self;
    mqtt5_poller_io_stop(&poller, &self->io);
    duo_closed = duo[0] == self ? duo[1] : duo[0];
    int number = duo_closed->fd;
    duo_closed->then_closed = keep_calls_duo;
    rec_close(duo_closed);
    newcomer = rec_new();
    if (newcomer->peer == number) {
        newcomer->peer = newcomer->fd;
        newcomer->fd = number;
    }
    assert_int_equal(newcomer->fd, number);
    start(newcomer, R);
    peer_write(newcomer); /* ready now, yet not part of the batch being dispatched */
}

static rec *late;
static uv_thread_t writer;

static void write_later(void *arg)
{
    struct timespec ts = {0, 30 * 1000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(write(*(int *)arg, "x", 1), 1);
}

static void close_self_on_read(rec *r, unsigned events)
{
    (void)events;
    rec_close(r);
}

/* The last io in the set closes itself and starts another, whose data comes later: the loop
 * must stay alive (and block) for it. */
static void close_self_start_late(rec *self, unsigned events)
{
    (void)events;
    rec_close(self);
    late = rec_new();
    late->then = close_self_on_read;
    late->heap = false; /* checked after the loop ended */
    start(late, R);
    assert_int_equal(uv_thread_create(&writer, write_later, &late->peer), 0);
}

static void test_start_during_dispatch(void **state)
{
    (void)state;
    setup_loop();
    duo_first = duo_closed = newcomer = NULL;
    duo_closed_calls = -1;
    for (int i = 0; i < 2; i++) {
        duo[i] = rec_new();
        duo[i]->then = close_other_start_new;
        start(duo[i], R);
        peer_close(duo[i]); /* hung up: reported whatever the io wants */
    }
    run_nowait(1);
    assert_non_null(newcomer);
    assert_int_equal(duo_first->calls, 1);
    assert_int_equal(newcomer->calls, 0); /* not in the batch that was fetched before it */
    run_nowait(1);
    assert_int_equal(duo_closed_calls, 0); /* its hang-up reached neither it nor the newcomer */
    assert_int_equal(newcomer->calls, 1);
    assert_int_equal(newcomer->events, R);
    rec_close(newcomer);
    rec_close(duo_first);
    run_nowait(2);

    /* the loop blocks in libuv's epoll_wait with only the late io keeping it alive */
    static rec a;
    rec_pair(&a);
    a.then = close_self_start_late;
    start(&a, R);
    peer_write(&a);
    late = NULL;
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(a.closes, 1);
    assert_non_null(late);
    assert_int_equal(late->calls, 1);
    assert_int_equal(late->closes, 1);
    assert_int_equal(uv_thread_join(&writer), 0);
    close(late->peer);
    free(late);
    close(a.peer);
    finish_loop();
}

/* ---- closing the poller -------------------------------------------------------------------- */

static void test_poller_close_after_last_io(void **state)
{
    (void)state;
    /* a poller that never watched anything opened no descriptor */
    uv_loop_t bare;
    assert_int_equal(uv_loop_init(&bare), 0);
    int with_loop = test_open_fds();
    assert_int_equal(uv_loop_close(&bare), 0);
    int before = test_open_fds();
    setup_loop();
    assert_int_equal(test_open_fds(), with_loop);
    finish_loop();
    assert_int_equal(test_open_fds(), before);

    setup_loop();
    static rec a, b;
    rec_pair(&a);
    rec_pair(&b);
    start(&a, R);
    start(&b, W);
    run_nowait(1);
    assert_int_equal(b.calls, 1);
    rec_close(&a);
    rec_close(&b);
    close(a.peer);
    close(b.peer);
    /* the close callbacks are still due: they run before on_closed */
    mqtt5_poller_close(&poller, on_poller_closed);
    assert_int_equal(pollers_closed, 0);
    assert_int_equal(a.closes + b.closes, 0);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(a.closes, 1);
    assert_int_equal(b.closes, 1);
    assert_int_equal(pollers_closed, 1);
    assert_int_equal(close_order, 3);
    assert_true(a.close_rank < 3 && b.close_rank < 3);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(test_open_fds(), before); /* the epoll descriptor too */
}

/* ---- refused starts -------------------------------------------------------------------------- */

static void test_refused_starts(void **state)
{
    (void)state;
    setup_loop();
    static rec a;
    memset(&a, 0, sizeof a);
    FILE *f = tmpfile(); /* a regular file cannot be polled */
    assert_non_null(f);
    assert_int_equal(mqtt5_poller_io_start(&poller, &a.io, fileno(f), R, on_event), UV_EPERM);
    assert_int_equal(mqtt5_poller_io_fd(&a.io), -1); /* not open: the descriptor is the caller's */
    assert_true(fcntl(fileno(f), F_GETFD) != -1);
    mqtt5_poller_io_close(&poller, &a.io, on_close); /* not open: nothing happens */
    assert_int_equal(mqtt5_poller_io_modify(&poller, &a.io, R), UV_EINVAL);
    assert_int_equal(mqtt5_poller_io_start(&poller, &a.io, -1, R, on_event), UV_EINVAL);
    run_nowait(2);
    assert_int_equal(a.closes, 0);
    assert_int_equal(a.calls, 0);
    fclose(f);
    finish_loop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readable_writable_level),
        cmocka_unit_test(test_stop_and_close_others_in_batch),
        cmocka_unit_test(test_close_callback_later),
        cmocka_unit_test(test_more_ready_than_a_batch),
        cmocka_unit_test(test_hangup_and_error),
        cmocka_unit_test(test_sole_reader),
        cmocka_unit_test(test_fd_reused_after_close),
        cmocka_unit_test(test_start_during_dispatch),
        cmocka_unit_test(test_poller_close_after_last_io),
        cmocka_unit_test(test_refused_starts),
    };
    return cmocka_run_group_tests_name("poller", tests, NULL, NULL);
}
