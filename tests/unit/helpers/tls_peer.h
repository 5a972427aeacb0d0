/*
 * helpers/tls_peer.h - an in-process TLS server on memory BIOs that plays the client TLS
 * filter's lower filter, plus a recording sink on top, and a pump that moves bytes between
 * them until nothing changes. Test support only: no sockets, no event loop.
 */
#ifndef MQTT5_TEST_TLS_PEER_H
#define MQTT5_TEST_TLS_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "helpers/tls_pki.h"
#include "mqtt5/tls.h"
#include "transports/filter.h"

typedef struct tls_bytes {
    uint8_t *p;
    size_t n, cap;
} tls_bytes;

enum tls_alpn_mode { TLS_ALPN_IGNORE, TLS_ALPN_SELECT_MQTT, TLS_ALPN_REJECT, TLS_ALPN_NOACK };

typedef struct tls_server_opts {
    int max_version;     /* 0: newest */
    bool require_cert;   /* SSL_VERIFY_PEER | FAIL_IF_NO_PEER_CERT */
    bool trust_other_ca; /* verify clients against the unrelated CA */
    enum tls_alpn_mode alpn;
    bool raw;          /* not TLS: swallow client bytes, send nothing by itself */
    bool expired_cert; /* present the expired server certificate */
} tls_server_opts;

typedef struct tls_peer {
    mqtt5_filter lower, sink;
    mqtt5_filter *tls;
    SSL_CTX *server_ctx;
    SSL *server;
    bool raw;
    size_t chunk; /* bytes per delivery in each direction, 0 = all at once */
    /* the fake lower */
    bool connect_called, open_sent, close_called, close_pending, closed_up;
    int close_err;
    uint32_t low_water;   /* the last set_read_low_water that reached the lower (0: none) */
    size_t fed_to_client; /* bytes handed to the filter's on_read so far */
    tls_bytes to_server, to_client;
    /* the server */
    bool server_done, server_failed, server_close_notify;
    tls_bytes server_in;
    /* the sink */
    int opens, closes, close_up_err, reads;
    char close_detail[256];
    tls_bytes sink_in;
    const char *send_on_open; /* the sink writes this on on_open (like CONNECT) */
} tls_peer;

/* Server per opts, client TLS filter from ctx for host, stacked lower -> tls -> sink. */
void tls_peer_init(tls_peer *t, const tls_pki *pki, const tls_server_opts *o,
                   mqtt5_tls_ctx *client_ctx, const char *host);
/* tls->connect() then pump. */
void tls_peer_connect(tls_peer *t);
void tls_peer_pump(tls_peer *t);
/* The server sends application bytes / close_notify / raw bytes (then pump). */
void tls_peer_server_send(tls_peer *t, const void *p, size_t n);
/* The server writes application bytes (one record) without pumping: several such records then
 * reach the filter in one delivery at the next pump. */
void tls_peer_server_queue(tls_peer *t, const void *p, size_t n);
void tls_peer_server_shutdown(tls_peer *t);
void tls_peer_raw_send(tls_peer *t, const void *p, size_t n);
/* Destroy the filter and the server. */
void tls_peer_free(tls_peer *t);

#endif
