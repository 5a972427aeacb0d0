/*
 * bench/peers/peer_mosq.c - libmosquitto behind the bench_peers adapter surface, two ways:
 *
 *   mosq     the library's threaded mode: mosquitto_connect() then mosquitto_loop_start(), one
 *            network thread per `struct mosquitto`; publishes from the caller's thread (the
 *            usual way an application with its own threads uses libmosquitto, and the same
 *            shape as this SDK and Paho MQTTAsync: caller thread + library network thread).
 *   mosq-st  single-threaded: no library thread; the caller's thread publishes (libmosquitto then
 *            writes at once) and drives mosquitto_loop() while waiting; the idle case drives all
 *            clients from that one thread with epoll + mosquitto_loop_read/write/misc (the same
 *            "one thread for all clients" shape as this SDK's single loop thread).
 *
 * Both: MOSQ_OPT_PROTOCOL_VERSION from --peer-proto (MQTT 5 by default), MOSQ_OPT_TCP_NODELAY 1,
 * the library's default max_inflight (the server's Receive Maximum under MQTT 5). libmosquitto
 * has no bound on its own queue, so publish never returns BP_AGAIN.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <time.h>

#include "bench_peers.h"

typedef struct mq_conn {
    struct mosquitto *m;
    bp_conn_opts o;
    bool threaded;
    sem_t connected, subscribed;
    _Atomic int connack_rc; /* -1 until the CONNACK */
    _Atomic int sub_done;
    _Atomic int is_connected;
} mq_conn;

static void on_connect(struct mosquitto *m, void *obj, int rc)
{
    (void)m;
    mq_conn *x = obj;
    atomic_store(&x->connack_rc, rc);
    if (rc == 0) atomic_store(&x->is_connected, 1);
    sem_post(&x->connected);
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc)
{
    (void)m;
    mq_conn *x = obj;
    if (atomic_exchange(&x->is_connected, 0) && rc != 0)
        bp_log("mosq: disconnected: %s", mosquitto_strerror(rc));
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    (void)m;
    mq_conn *x = obj;
    if (x->o.on_msg) x->o.on_msg(x->o.user, (size_t)msg->payloadlen);
}

static void on_publish(struct mosquitto *m, void *obj, int mid)
{
    (void)m;
    (void)mid;
    mq_conn *x = obj;
    x->o.on_ack(x->o.user);
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted)
{
    (void)m;
    (void)mid;
    mq_conn *x = obj;
    atomic_store(&x->sub_done, (n >= 1 && granted[0] < 0x80) ? 1 : -1);
    sem_post(&x->subscribed);
}

static int mq_init(void)
{
    return mosquitto_lib_init() == MOSQ_ERR_SUCCESS ? 0 : -1;
}

static void mq_cleanup(void)
{
    mosquitto_lib_cleanup();
}

static void mq_pump(void *conn, int timeout_ms)
{
    mq_conn *x = conn;
    int rc = mosquitto_loop(x->m, timeout_ms, 1);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
        static int logged;
        if (!logged++) bp_log("mosq-st: loop: %s", mosquitto_strerror(rc));
    }
}

/* create, set options and start connecting (TCP connect + CONNECT written); NULL on failure */
static mq_conn *mq_start(const bp_conn_opts *o, bool threaded)
{
    mq_conn *x = calloc(1, sizeof *x);
    if (!x) return NULL;
    x->o = *o;
    x->threaded = threaded;
    atomic_store(&x->connack_rc, -1);
    sem_init(&x->connected, 0, 0);
    sem_init(&x->subscribed, 0, 0);
    x->m = mosquitto_new(o->client_id, true, x);
    if (!x->m) {
        bp_log("mosq: mosquitto_new failed");
        free(x);
        return NULL;
    }
    mosquitto_int_option(x->m, MOSQ_OPT_PROTOCOL_VERSION,
                         o->proto == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
    mosquitto_int_option(x->m, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_callback_set(x->m, on_connect);
    mosquitto_disconnect_callback_set(x->m, on_disconnect);
    mosquitto_message_callback_set(x->m, on_message);
    mosquitto_subscribe_callback_set(x->m, on_subscribe);
    if (o->on_ack) mosquitto_publish_callback_set(x->m, on_publish);
    int rc = mosquitto_connect(x->m, o->host, o->port, o->keep_alive);
    if (rc != MOSQ_ERR_SUCCESS) {
        bp_log("mosq: connect: %s", mosquitto_strerror(rc));
        mosquitto_destroy(x->m);
        free(x);
        return NULL;
    }
    if (threaded && (rc = mosquitto_loop_start(x->m)) != MOSQ_ERR_SUCCESS) {
        bp_log("mosq: loop_start: %s", mosquitto_strerror(rc));
        mosquitto_destroy(x->m);
        free(x);
        return NULL;
    }
    return x;
}

/* wait for the CONNACK: 0 or -1 */
static int mq_wait_connack(mq_conn *x)
{
    if (x->threaded) {
        if (bp_sem_wait_s(&x->connected, 10)) return -1;
    } else {
        double end = bp_now_s() + 10;
        while (sem_trywait(&x->connected) != 0) {
            if (bp_now_s() > end) return -1;
            mq_pump(x, 100);
        }
    }
    int rc = atomic_load(&x->connack_rc);
    if (rc != 0) bp_log("mosq: CONNACK %d", rc);
    return rc == 0 ? 0 : -1;
}

static void *mq_connect_common(const bp_conn_opts *o, bool threaded)
{
    mq_conn *x = mq_start(o, threaded);
    if (!x) return NULL;
    if (mq_wait_connack(x)) {
        bp_log("mosq: not connected");
        return NULL;
    }
    return x;
}

static void *mq_connect(const bp_conn_opts *o)
{
    return mq_connect_common(o, true);
}

static void *mq_connect_st(const bp_conn_opts *o)
{
    return mq_connect_common(o, false);
}

static int mq_subscribe(void *conn, const char *filter, int qos)
{
    mq_conn *x = conn;
    int rc = mosquitto_subscribe(x->m, NULL, filter, qos);
    if (rc != MOSQ_ERR_SUCCESS) {
        bp_log("mosq: subscribe: %s", mosquitto_strerror(rc));
        return -1;
    }
    if (x->threaded) {
        if (bp_sem_wait_s(&x->subscribed, 10)) return -1;
    } else {
        double end = bp_now_s() + 10;
        while (sem_trywait(&x->subscribed) != 0) {
            if (bp_now_s() > end) return -1;
            mq_pump(x, 100);
        }
    }
    return atomic_load(&x->sub_done) == 1 ? 0 : -1;
}

static int mq_publish(void *conn, const char *topic, const void *payload, size_t len, int qos)
{
    mq_conn *x = conn;
    int rc = mosquitto_publish(x->m, NULL, topic, (int)len, payload, qos, false);
    if (rc == MOSQ_ERR_SUCCESS) return 0;
    bp_log("mosq: publish: %s", mosquitto_strerror(rc));
    return -1;
}

static void mq_disconnect(void *conn)
{
    mq_conn *x = conn;
    atomic_store(&x->is_connected, 0);
    mosquitto_disconnect(x->m);
    if (x->threaded) {
        mosquitto_loop_stop(x->m, false);
    } else {
        for (int i = 0; i < 5; i++)
            mq_pump(x, 1);
    }
    mosquitto_destroy(x->m);
    free(x);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {
    }
}

/* threaded: n clients, one network thread each (mosquitto_loop_start), connected in turn. The
 * thread runs mosquitto_loop_forever(), which select()s: once a client's fds pass FD_SETSIZE
 * (~340 clients at 3 fds each) its loop fails, so 1000 clients cannot be held this way. */
static int mq_idle(const bp_conn_opts *o, int n, int settle_ms)
{
    for (int i = 0; i < n; i++) {
        char id[64];
        snprintf(id, sizeof id, "%s-%d", o->client_id, i);
        bp_conn_opts oi = *o;
        oi.client_id = id;
        mq_conn *x = mq_start(&oi, true);
        if (!x || mq_wait_connack(x)) {
            bp_log("mosq: idle client %d not connected", i);
            return -1;
        }
    }
    sleep_ms(settle_ms);
    return 0;
}

/* single thread: n clients connected in turn, then all serviced from this thread with epoll +
 * mosquitto_loop_read / loop_write / loop_misc until settle_ms passed. mosquitto_loop() is not
 * used here: it select()s, and each client holds 3 fds (socket + wake-up socket pair), so past
 * ~340 clients its fds exceed FD_SETSIZE and it fails with MOSQ_ERR_INVAL. */
static int mq_idle_st(const bp_conn_opts *o, int n, int settle_ms)
{
    mq_conn **all = calloc((size_t)n, sizeof *all);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!all || ep < 0) return -1;
    for (int i = 0; i < n; i++) {
        char id[64];
        snprintf(id, sizeof id, "%s-%d", o->client_id, i);
        bp_conn_opts oi = *o;
        oi.client_id = id;
        mq_conn *x = mq_start(&oi, false);
        if (!x) {
            bp_log("mosq-st: idle client %d not connected", i);
            return -1;
        }
        double cend = bp_now_s() + 10;
        while (sem_trywait(&x->connected) != 0) {
            struct pollfd pf = {.fd = mosquitto_socket(x->m), .events = POLLIN};
            if (mosquitto_want_write(x->m)) pf.events |= POLLOUT;
            if (poll(&pf, 1, 100) > 0) {
                if (pf.revents & POLLOUT) mosquitto_loop_write(x->m, 1);
                if (pf.revents & (POLLIN | POLLERR | POLLHUP)) mosquitto_loop_read(x->m, 1);
            }
            if (bp_now_s() > cend) {
                bp_log("mosq-st: idle client %d: no CONNACK", i);
                return -1;
            }
        }
        if (atomic_load(&x->connack_rc) != 0) return -1;
        all[i] = x;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = x};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, mosquitto_socket(x->m), &ev)) {
            bp_log("mosq-st: epoll_ctl: %s", strerror(errno));
            return -1;
        }
    }
    double end = bp_now_s() + settle_ms / 1000.0, next_misc = 0;
    struct epoll_event evs[64];
    while (bp_now_s() < end) {
        int k = epoll_wait(ep, evs, 64, 100);
        for (int i = 0; i < k; i++)
            mosquitto_loop_read(((mq_conn *)evs[i].data.ptr)->m, 1);
        if (bp_now_s() >= next_misc) {
            for (int i = 0; i < n; i++) {
                mosquitto_loop_misc(all[i]->m);
                if (mosquitto_want_write(all[i]->m)) mosquitto_loop_write(all[i]->m, 1);
            }
            next_misc = bp_now_s() + 0.1;
        }
    }
    return 0;
}

static const char *mq_version(void)
{
    static char buf[64];
    int maj, min, rev;
    mosquitto_lib_version(&maj, &min, &rev);
    snprintf(buf, sizeof buf, "libmosquitto %d.%d.%d", maj, min, rev);
    return buf;
}

const bp_peer bp_peer_mosq = {
    .name = "mosq",
    .describe = "libmosquitto: mosquitto_loop_start() network thread per client; publish from "
                "the caller's thread",
    .version = mq_version,
    .pump = NULL,
    .init = mq_init,
    .cleanup = mq_cleanup,
    .connect = mq_connect,
    .subscribe = mq_subscribe,
    .publish = mq_publish,
    .disconnect = mq_disconnect,
    .idle = mq_idle,
};

const bp_peer bp_peer_mosq_st = {
    .name = "mosq-st",
    .describe = "libmosquitto single-threaded: the caller's thread publishes (written at once) "
                "and runs mosquitto_loop(); idle: one thread, epoll + loop_read/write/misc",
    .version = mq_version,
    .pump = mq_pump,
    .init = mq_init,
    .cleanup = mq_cleanup,
    .connect = mq_connect_st,
    .subscribe = mq_subscribe,
    .publish = mq_publish,
    .disconnect = mq_disconnect,
    .idle = mq_idle_st,
};
