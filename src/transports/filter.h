/*
 * transports/filter.h - the transport filter interface (docs/design/runtime-tls.md section 2).
 *
 * A connection is a chain of push-style byte transformers, bottom to top:
 * tcp -> [tls-to-proxy -> proxy] -> tls -> [ws] -> sink. `connect`, `write` and `close` travel
 * down (called on f->lower), `on_open`, `on_read`, `on_writable` and `on_closed` travel up
 * (called on f->upper). This header only declares the interface: it must not include libuv,
 * OpenSSL or any other I/O header; the few helpers every filter shares live in filter.c.
 */
#ifndef MQTT5_TRANSPORTS_FILTER_H
#define MQTT5_TRANSPORTS_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mqtt5_filter mqtt5_filter;

/* One scatter/gather element of a write; the bytes are only borrowed for the call. */
typedef struct mqtt5_iov {
    const uint8_t *p;
    size_t n;
} mqtt5_iov;

/* What query() can answer; filters pass unknown kinds to their lower filter. */
enum mqtt5_filter_query {
    MQTT5_FILTER_QUERY_ALPN = 1,        /* out: mqtt5_iov *, empty when nothing was selected */
    MQTT5_FILTER_QUERY_TLS_VERSION = 2, /* out: const char ** ("TLSv1.3"), static string */
    MQTT5_FILTER_QUERY_TLS_CIPHER = 3,  /* out: const char **, static string */
    MQTT5_FILTER_QUERY_SERVER_NAME = 4, /* out: const char **, the SNI sent or NULL */
};

typedef struct mqtt5_filter_ops {
    const char *name; /* "tcp", "tls", "proxy", "ws", "sink" */

    /* ---- down (called by the upper filter or the driver); NULL in a sink ---- */
    /* Start connecting; ends later in exactly one upward on_open or on_closed. */
    int (*connect)(mqtt5_filter *f);
    /* Take all n iovs (never keeps the pointers); 0 or a negative mqtt5_error. No filter is
     * written to before it sent on_open up. */
    int (*write)(mqtt5_filter *f, const mqtt5_iov *v, size_t n);
    /* Bytes accepted by this filter and the ones below that have not reached the kernel. */
    size_t (*pending)(const mqtt5_filter *f);
    /* err 0: graceful (TLS close_notify, flush, FIN); otherwise abortive. Ends in on_closed. */
    void (*close)(mqtt5_filter *f, int err);
    /* Answer a mqtt5_filter_query; 0, or MQTT5_ERR_NOT_AVAILABLE when no filter knows it. */
    int (*query)(const mqtt5_filter *f, int what, void *out);
    /* A hint: waking up for fewer than `bytes` (>= 1) received bytes is not worth it (the MQTT
     * layer's mqtt5_client_want.read_low_water). The socket's filter applies it; a filter that
     * adds framing passes it down as it is (NULL: mqtt5_filter_set_read_low_water does that), or
     * scaled by what it measured of its own framing (TLS), never so high that the bytes it
     * stands for could arrive without reaching it. */
    void (*set_read_low_water)(mqtt5_filter *f, uint32_t bytes);
    /* Free this filter only (never chains); only after on_closed reached the top. */
    void (*destroy)(mqtt5_filter *f);

    /* ---- up (called by the lower filter) ---- */
    void (*on_open)(mqtt5_filter *f);                             /* lower is open */
    void (*on_read)(mqtt5_filter *f, const uint8_t *p, size_t n); /* p valid during the call */
    void (*on_writable)(mqtt5_filter *f); /* lower pending fell below the low-water mark */
    /* The lower side is closed. detail: one line or NULL, valid during the call. */
    void (*on_closed)(mqtt5_filter *f, int err, const char *detail);
} mqtt5_filter_ops;

struct mqtt5_filter {
    const mqtt5_filter_ops *ops;
    mqtt5_filter *lower, *upper;
    void *ctx; /* the implementation's own state */
};

/*
 * The first error of a filter, kept until the lower side has closed and then reported up. Zero
 * (all fields) is "nothing kept". The detail is allocated only when an error with a non-empty
 * one is kept (exact length, at most 255 bytes); without memory for it the error code is kept
 * and the detail dropped. A filter owning one calls mqtt5_filter_error_free in its destroy.
 */
typedef struct mqtt5_filter_error {
    bool set;
    int err;      /* 0: a clean close */
    char *detail; /* NULL: none */
} mqtt5_filter_error;

/* Give the hint to the first filter at or below `f` that takes it (ops.set_read_low_water). */
void mqtt5_filter_set_read_low_water(mqtt5_filter *f, uint32_t bytes);

/* Keep `err` and its detail (NULL: none) unless an error was kept already. */
void mqtt5_filter_error_set(mqtt5_filter_error *e, int err, const char *detail);
void mqtt5_filter_error_setf(mqtt5_filter_error *e, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Keep `err` even if an error was kept (e.g. the last address tried is the one to report). */
void mqtt5_filter_error_replacef(mqtt5_filter_error *e, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Free the detail (the code stays); every filter owning an error calls it in its destroy. */
void mqtt5_filter_error_free(mqtt5_filter_error *e);
/* Call the upper filter's on_closed with the kept error and detail (NULL when empty). */
void mqtt5_filter_report_closed(mqtt5_filter *f, const mqtt5_filter_error *e);
/* Pass n received bytes (none: nothing) to the filter above, if it takes them. */
void mqtt5_filter_report_read(mqtt5_filter *f, const uint8_t *p, size_t n);

/* Put `upper` directly on top of `lower`. */
static inline void mqtt5_filter_stack(mqtt5_filter *lower, mqtt5_filter *upper)
{
    lower->upper = upper;
    upper->lower = lower;
}

#endif
