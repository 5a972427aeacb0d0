/*
 * helpers/ws_peer.c - the fake lower filter (a WebSocket server), the recording sink and the
 * pump of ws_peer.h. Test support only: it does no network I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "helpers/ws_peer.h"
#include "mqtt5/error.h"

#define PEER(f) ((ws_peer *)(f)->ctx)

void ws_bytes_put(ws_bytes *b, const void *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) abort();
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = 0; /* always NUL-terminated, for strstr */
}

void ws_peer_frame(ws_bytes *b, uint8_t opcode, bool fin, bool masked, const void *p, size_t n)
{
    static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    uint8_t hdr[14];
    size_t h = 0;
    hdr[h++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    uint8_t m = masked ? 0x80 : 0;
    if (n < 126) {
        hdr[h++] = (uint8_t)(m | n);
    } else if (n <= 0xFFFF) {
        hdr[h++] = (uint8_t)(m | 126);
        hdr[h++] = (uint8_t)(n >> 8);
        hdr[h++] = (uint8_t)n;
    } else {
        hdr[h++] = (uint8_t)(m | 127);
        for (int s = 56; s >= 0; s -= 8)
            hdr[h++] = (uint8_t)((uint64_t)n >> s);
    }
    if (masked) {
        memcpy(hdr + h, key, 4);
        h += 4;
    }
    ws_bytes_put(b, hdr, h);
    size_t at = b->n;
    ws_bytes_put(b, p, n);
    if (masked)
        for (size_t i = 0; i < n; i++)
            b->p[at + i] ^= key[i % 4];
}

/* ---- fake lower ---- */
static int low_connect(mqtt5_filter *f)
{
    PEER(f)->connect_called = true;
    return 0;
}

static int low_write(mqtt5_filter *f, const mqtt5_iov *v, size_t n)
{
    ws_peer *t = PEER(f);
    if (t->close_called) return MQTT5_ERR_INVALID_STATE;
    if (t->fail_writes) return MQTT5_ERR_CONNECTION_CLOSED;
    for (size_t i = 0; i < n; i++)
        ws_bytes_put(&t->to_server, v[i].p, v[i].n);
    return 0;
}

static size_t low_pending(const mqtt5_filter *f)
{
    return PEER(f)->to_server.n;
}

static void low_close(mqtt5_filter *f, int err)
{
    ws_peer *t = PEER(f);
    if (t->close_called) return;
    t->close_called = true;
    t->close_pending = true;
    t->close_err = err;
}

static const mqtt5_filter_ops lower_ops = {
    .name = "fake-lower",
    .connect = low_connect,
    .write = low_write,
    .pending = low_pending,
    .close = low_close,
};

/* ---- sink ---- */
static void sink_on_open(mqtt5_filter *f)
{
    PEER(f)->opens++;
}

static void sink_on_read(mqtt5_filter *f, const uint8_t *p, size_t n)
{
    PEER(f)->reads++;
    ws_bytes_put(&PEER(f)->sink_in, p, n);
}

static void sink_on_writable(mqtt5_filter *f)
{
    PEER(f)->writables++;
}

static void sink_on_closed(mqtt5_filter *f, int err, const char *detail)
{
    ws_peer *t = PEER(f);
    t->closes++;
    t->close_up_err = err;
    snprintf(t->close_detail, sizeof t->close_detail, "%s", detail ? detail : "");
}

static const mqtt5_filter_ops sink_ops = {
    .name = "sink",
    .on_open = sink_on_open,
    .on_read = sink_on_read,
    .on_writable = sink_on_writable,
    .on_closed = sink_on_closed,
};

void ws_peer_init(ws_peer *t, const mqtt5_ws_options *o)
{
    memset(t, 0, sizeof *t);
    t->close_code = -1;
    mqtt5_ws_decoder_init(&t->dec, 0, true);
    t->lower = (mqtt5_filter){.ops = &lower_ops, .ctx = t};
    t->sink = (mqtt5_filter){.ops = &sink_ops, .ctx = t};
    mqtt5_ws_options opt = o ? *o : (mqtt5_ws_options){0};
    if (!opt.host) opt.host = "broker.test";
    if (mqtt5_ws_filter_new(&opt, &t->ws) != 0) abort();
    mqtt5_filter_stack(&t->lower, t->ws);
    mqtt5_filter_stack(t->ws, &t->sink);
}

/* ---- the server ---- */
static void compute_accept(const char *key, char out[64])
{
    char buf[128];
    unsigned char md[SHA_DIGEST_LENGTH];
    snprintf(buf, sizeof buf, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    SHA1((const unsigned char *)buf, strlen(buf), md);
    EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
}

static void answer(ws_peer *t)
{
    const char *k = strstr((const char *)t->request.p, "\r\nSec-WebSocket-Key: ");
    if (k) {
        k += strlen("\r\nSec-WebSocket-Key: ");
        size_t n = strcspn(k, "\r");
        if (n >= sizeof t->key) n = sizeof t->key - 1;
        memcpy(t->key, k, n);
        t->key[n] = '\0';
    }
    compute_accept(t->key, t->accept);
    char resp[20000];
    int n = snprintf(resp, sizeof resp, t->response ? t->response : WS_PEER_OK_RESPONSE, t->accept);
    if (n < 0 || (size_t)n >= sizeof resp) abort();
    ws_bytes_put(&t->to_client, resp, (size_t)n);
    ws_bytes_put(&t->to_client, t->after_response.p, t->after_response.n);
    t->answered = true;
}

static void server_frames(ws_peer *t, const uint8_t *p, size_t n)
{
    while (!t->server_failed) {
        size_t used = 0;
        mqtt5_ws_event ev;
        if (mqtt5_ws_decoder_next(&t->dec, p, n, &used, &ev) != 0) {
            t->server_failed = true;
            t->server_why = t->dec.why;
            return;
        }
        p += used;
        n -= used;
        switch (ev.kind) {
        case MQTT5_WS_EV_NONE:
            return;
        case MQTT5_WS_EV_FRAME:
            if (t->frame_count < WS_PEER_MAX_FRAMES)
                t->frames[t->frame_count] =
                    (ws_frame_rec){ev.hdr.opcode, ev.hdr.fin, ev.hdr.masked, ev.hdr.len};
            t->frame_count++;
            break;
        case MQTT5_WS_EV_DATA: {
            size_t at = t->data.n;
            ws_bytes_put(&t->data, ev.data, ev.n);
            mqtt5_ws_frame_mask(t->data.p + at, t->data.p + at, ev.n, ev.hdr.mask, ev.offset);
            break;
        }
        case MQTT5_WS_EV_CONTROL:
            if (ev.hdr.opcode == MQTT5_WS_OP_PONG) {
                t->pong_count++;
                ws_bytes_put(&t->pongs, ev.data, ev.n);
            } else if (ev.hdr.opcode == MQTT5_WS_OP_CLOSE) {
                t->close_frames++;
                t->close_code = ev.n >= 2 ? (ev.data[0] << 8) | ev.data[1] : 0;
            }
            break;
        }
    }
}

static bool feed_server(ws_peer *t)
{
    if (t->to_server.n == 0) return false;
    ws_bytes in = t->to_server;
    t->to_server = (ws_bytes){0};
    size_t at = 0;
    if (!t->answered) {
        ws_bytes_put(&t->request, in.p, in.n);
        char *end = strstr((char *)t->request.p, "\r\n\r\n");
        if (end) {
            size_t head = (size_t)(end + 4 - (char *)t->request.p);
            at = in.n - (t->request.n - head); /* bytes of `in` after the head */
            t->request.n = head;
            t->request.p[head] = '\0';
            answer(t);
        } else {
            at = in.n;
        }
    }
    if (at < in.n) server_frames(t, in.p + at, in.n - at);
    free(in.p);
    return true;
}

static bool feed_client(ws_peer *t)
{
    if (t->to_client.n == 0 || t->closed_up || !t->open_sent) return false;
    ws_bytes in = t->to_client;
    t->to_client = (ws_bytes){0};
    size_t step = t->chunk ? t->chunk : in.n;
    for (size_t at = 0; at < in.n && !t->close_called; at += step) {
        size_t n = in.n - at < step ? in.n - at : step;
        t->ws->ops->on_read(t->ws, in.p + at, n);
    }
    free(in.p);
    return true;
}

void ws_peer_pump(ws_peer *t)
{
    for (int guard = 0; guard < 100000; guard++) {
        bool progress = false;
        if (t->connect_called && !t->open_sent && !t->hold_open && !t->close_called) {
            t->open_sent = true;
            t->ws->ops->on_open(t->ws);
            progress = true;
        }
        progress |= feed_server(t);
        if (!t->close_called) progress |= feed_client(t);
        if (!progress && t->close_pending) {
            t->close_pending = false;
            t->closed_up = true;
            t->ws->ops->on_closed(t->ws, t->close_err, NULL);
            progress = true;
        }
        if (!progress) return;
    }
    abort();
}

void ws_peer_connect(ws_peer *t)
{
    if (t->ws->ops->connect(t->ws) != 0) abort();
    ws_peer_pump(t);
}

void ws_peer_queue(ws_peer *t, const void *p, size_t n)
{
    ws_bytes_put(&t->to_client, p, n);
}

void ws_peer_raw_send(ws_peer *t, const void *p, size_t n)
{
    ws_peer_queue(t, p, n);
    ws_peer_pump(t);
}

void ws_peer_send(ws_peer *t, uint8_t opcode, bool fin, const void *p, size_t n)
{
    ws_peer_frame(&t->to_client, opcode, fin, false, p, n);
    ws_peer_pump(t);
}

void ws_peer_free(ws_peer *t)
{
    if (t->ws) t->ws->ops->destroy(t->ws);
    free(t->to_server.p);
    free(t->to_client.p);
    free(t->after_response.p);
    free(t->request.p);
    free(t->data.p);
    free(t->pongs.p);
    free(t->sink_in.p);
    memset(t, 0, sizeof *t);
}
