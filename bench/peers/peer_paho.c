/*
 * bench/peers/peer_paho.c - Eclipse Paho C MQTTAsync (libpaho-mqtt3as) behind the bench_peers
 * adapter surface.
 *
 * One MQTTAsync handle per client (MQTTAsync_createWithOptions, MQTTCLIENT_PERSISTENCE_NONE);
 * Paho runs its own two process-wide threads (send and receive) shared by every handle.
 *
 * Two entries: `paho` speaks MQTT 3.1.1 and `paho5` MQTT 5 (createOptions.MQTTVersion and
 * connectOptions_initializer5). `paho` is the default peer because Paho 1.3.12 under MQTT 5
 * crawls at QoS 1 against mosquitto's Receive Maximum (20 by default): ~30-70 msg/s, the
 * in-flight window refilled about once a second (seen in the broker log); under 3.1.1 it
 * streams. Publishes
 * with MQTTAsync_send() from the caller's thread and no response callbacks;
 * MQTTASYNC_MAX_BUFFERED_MESSAGES and MQTTASYNC_NO_MORE_MSGIDS are BP_AGAIN.
 * createOptions.maxBufferedMessages is bp_tune.paho_max_buffered (Paho counts it against every
 * queued command, connected or not; --paho-max-buffered). QoS 1 completions arrive through the
 * deliveryComplete callback.
 *
 * TCP_NODELAY: Paho 1.3 has no option for it and leaves Nagle on (checked with strace: no
 * setsockopt at all), which puts a 40 ms delayed-ACK stall into every QoS 1 round trip. The
 * other libraries set it, and the cases ask for it, so after connecting the adapter finds the
 * handle's socket (a TCP socket of this process connected to the server's port whose
 * TCP_NODELAY is still 0) and sets it (--paho-nodelay 0 turns this off).
 */
#define _GNU_SOURCE
#include <MQTTAsync.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "bench_peers.h"

typedef struct ph_conn {
    MQTTAsync h;
    bp_conn_opts o;
    sem_t sem;
    _Atomic int ok; /* result of the last connect / subscribe / disconnect */
    _Atomic int is_connected;
} ph_conn;

static void conn_lost(void *ctx, char *cause)
{
    ph_conn *x = ctx;
    if (atomic_exchange(&x->is_connected, 0))
        bp_log("paho: connection lost: %s", cause ? cause : "");
}

static int msg_arrived(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
    (void)topic_len;
    ph_conn *x = ctx;
    if (x->o.on_msg) x->o.on_msg(x->o.user, (size_t)m->payloadlen);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

static void delivery_complete(void *ctx, MQTTAsync_token t)
{
    (void)t;
    ph_conn *x = ctx;
    x->o.on_ack(x->o.user);
}

static void ok5(void *ctx, MQTTAsync_successData5 *r)
{
    ph_conn *x = ctx;
    atomic_store(&x->ok, r->reasonCode < 0x80 ? 1 : -1);
    sem_post(&x->sem);
}

static void fail5(void *ctx, MQTTAsync_failureData5 *r)
{
    ph_conn *x = ctx;
    bp_log("paho: failure %d reason 0x%02x %s", r->code, (unsigned)r->reasonCode,
           r->message ? r->message : "");
    atomic_store(&x->ok, -1);
    sem_post(&x->sem);
}

static void ok3(void *ctx, MQTTAsync_successData *r)
{
    (void)r;
    ph_conn *x = ctx;
    atomic_store(&x->ok, 1);
    sem_post(&x->sem);
}

static void fail3(void *ctx, MQTTAsync_failureData *r)
{
    ph_conn *x = ctx;
    bp_log("paho: failure %d %s", r->code, r->message ? r->message : "");
    atomic_store(&x->ok, -1);
    sem_post(&x->sem);
}

/* set TCP_NODELAY on this process's TCP sockets to 127.0.0.1/host:port that lack it; returns
 * how many were changed */
static int ph_set_nodelay(uint16_t port)
{
    struct rlimit rl;
    int maxfd =
        getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;
    int changed = 0;
    for (int fd = 3; fd < maxfd; fd++) {
        struct sockaddr_storage ss;
        socklen_t l = sizeof ss;
        if (getpeername(fd, (struct sockaddr *)&ss, &l) != 0) continue;
        uint16_t p = 0;
        if (ss.ss_family == AF_INET)
            p = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            p = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        if (p != port) continue;
        int v = 0;
        socklen_t vl = sizeof v;
        if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &vl) == 0 && !v) {
            v = 1;
            if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) == 0) changed++;
        }
    }
    return changed;
}

static int ph_init(void)
{
    return 0;
}

static void ph_cleanup(void) {}

/* wait for the result of the request just made */
static int ph_wait(ph_conn *x)
{
    if (bp_sem_wait_s(&x->sem, 10)) {
        bp_log("paho: no answer within 10 s");
        return -1;
    }
    return atomic_load(&x->ok) == 1 ? 0 : -1;
}

/* create the handle and start connecting; NULL on failure */
static ph_conn *ph_start(const bp_conn_opts *o)
{
    ph_conn *x = calloc(1, sizeof *x);
    if (!x) return NULL;
    x->o = *o;
    sem_init(&x->sem, 0, 0);
    char uri[300];
    snprintf(uri, sizeof uri, "tcp://%s:%u", o->host, (unsigned)o->port);
    bool v5 = o->proto == 5;
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
    co.MQTTVersion = v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
    co.maxBufferedMessages = bp_tune.paho_max_buffered;
    int rc = MQTTAsync_createWithOptions(&x->h, uri, o->client_id, MQTTCLIENT_PERSISTENCE_NONE,
                                         NULL, &co);
    if (rc != MQTTASYNC_SUCCESS) {
        bp_log("paho: create: %s", MQTTAsync_strerror(rc));
        free(x);
        return NULL;
    }
    MQTTAsync_setCallbacks(x->h, x, conn_lost, msg_arrived, o->on_ack ? delivery_complete : NULL);
    if (v5) {
        MQTTAsync_connectOptions c = MQTTAsync_connectOptions_initializer5;
        c.keepAliveInterval = o->keep_alive;
        c.cleanstart = 1;
        c.onSuccess5 = ok5;
        c.onFailure5 = fail5;
        c.context = x;
        rc = MQTTAsync_connect(x->h, &c);
    } else {
        MQTTAsync_connectOptions c = MQTTAsync_connectOptions_initializer;
        c.keepAliveInterval = o->keep_alive;
        c.cleansession = 1;
        c.MQTTVersion = MQTTVERSION_3_1_1;
        c.onSuccess = ok3;
        c.onFailure = fail3;
        c.context = x;
        rc = MQTTAsync_connect(x->h, &c);
    }
    if (rc != MQTTASYNC_SUCCESS) {
        bp_log("paho: connect: %s", MQTTAsync_strerror(rc));
        MQTTAsync_destroy(&x->h);
        free(x);
        return NULL;
    }
    return x;
}

static void *ph_connect(const bp_conn_opts *o)
{
    ph_conn *x = ph_start(o);
    if (!x) return NULL;
    if (ph_wait(x)) {
        bp_log("paho: not connected");
        return NULL;
    }
    atomic_store(&x->is_connected, 1);
    if (bp_tune.paho_nodelay && ph_set_nodelay(o->port) != 1)
        bp_log("paho: could not set TCP_NODELAY on the connection");
    return x;
}

static int ph_subscribe(void *conn, const char *filter, int qos)
{
    ph_conn *x = conn;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    if (x->o.proto == 5) {
        ro.onSuccess5 = ok5;
        ro.onFailure5 = fail5;
    } else {
        ro.onSuccess = ok3;
        ro.onFailure = fail3;
    }
    ro.context = x;
    int rc = MQTTAsync_subscribe(x->h, filter, qos, &ro);
    if (rc != MQTTASYNC_SUCCESS) {
        bp_log("paho: subscribe: %s", MQTTAsync_strerror(rc));
        return -1;
    }
    return ph_wait(x);
}

static int ph_publish(void *conn, const char *topic, const void *payload, size_t len, int qos)
{
    ph_conn *x = conn;
    int rc = MQTTAsync_send(x->h, topic, (int)len, payload, qos, 0, NULL);
    if (rc == MQTTASYNC_SUCCESS) return 0;
    if (rc == MQTTASYNC_MAX_BUFFERED_MESSAGES || rc == MQTTASYNC_NO_MORE_MSGIDS) return BP_AGAIN;
    bp_log("paho: send: %s", MQTTAsync_strerror(rc));
    return -1;
}

static void ph_disconnect(void *conn)
{
    ph_conn *x = conn;
    atomic_store(&x->is_connected, 0);
    int rc;
    if (x->o.proto == 5) {
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
        d.onSuccess5 = ok5;
        d.onFailure5 = fail5;
        d.context = x;
        rc = MQTTAsync_disconnect(x->h, &d);
    } else {
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
        d.onSuccess = ok3;
        d.onFailure = fail3;
        d.context = x;
        rc = MQTTAsync_disconnect(x->h, &d);
    }
    if (rc == MQTTASYNC_SUCCESS) ph_wait(x);
    MQTTAsync_destroy(&x->h);
    free(x);
}

/* n handles; Paho's two shared threads service them all. Unlike the other libraries they
 * connect concurrently (every MQTTAsync_connect first, then every answer awaited): Paho adds a
 * new socket to its receive thread's poll set only when that poll returns (up to 1 s), so one
 * connect after the other takes about a second each. */
static int ph_idle(const bp_conn_opts *o, int n, int settle_ms)
{
    ph_conn **all = calloc((size_t)n, sizeof *all);
    if (!all) return -1;
    for (int i = 0; i < n; i++) {
        char id[64];
        snprintf(id, sizeof id, "%s-%d", o->client_id, i);
        bp_conn_opts oi = *o;
        oi.client_id = id;
        if (!(all[i] = ph_start(&oi))) return -1;
    }
    for (int i = 0; i < n; i++) {
        if (bp_sem_wait_s(&all[i]->sem, 60) || atomic_load(&all[i]->ok) != 1) {
            bp_log("paho: idle client %d not connected", i);
            return -1;
        }
        atomic_store(&all[i]->is_connected, 1);
    }
    double end = bp_now_s() + settle_ms / 1000.0;
    sem_t never;
    sem_init(&never, 0, 0);
    bp_sem_wait_s(&never, end - bp_now_s());
    return 0;
}

static const char *ph_version(void)
{
    static char buf[96];
    const char *v = "?";
    for (MQTTAsync_nameValue *nv = MQTTAsync_getVersionInfo(); nv && nv->name; nv++)
        if (strcmp(nv->name, "Version") == 0) v = nv->value;
    snprintf(buf, sizeof buf, "Paho C MQTTAsync (paho-mqtt3as) %s", v);
    return buf;
}

#define PAHO_OPS                                                                                   \
    .version = ph_version, .pump = NULL, .init = ph_init, .cleanup = ph_cleanup,                   \
    .connect = ph_connect, .subscribe = ph_subscribe, .publish = ph_publish,                       \
    .disconnect = ph_disconnect, .idle = ph_idle

const bp_peer bp_peer_paho = {
    .name = "paho",
    .describe = "Paho C MQTTAsync, MQTT 3.1.1: one handle per client, Paho's 2 shared threads; "
                "MQTTAsync_send from the caller's thread, MAX_BUFFERED -> sched_yield + retry",
    .proto = 4,
    PAHO_OPS,
};

const bp_peer bp_peer_paho5 = {
    .name = "paho5",
    .describe = "Paho C MQTTAsync as `paho`, speaking MQTT 5",
    .proto = 5,
    PAHO_OPS,
};
