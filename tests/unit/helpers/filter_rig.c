/*
 * helpers/filter_rig.c - the fake lower filter and the recording sink of filter_rig.h. Test
 * support only: it does no network I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers/filter_rig.h"
#include "mqtt5/error.h"

#define RIG(f) ((filter_rig *)(f)->ctx)

void rig_bytes_put(rig_bytes *b, const void *p, size_t n)
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
    b->p[b->n] = 0;
}

/* ---- fake lower ---- */
static int low_connect(mqtt5_filter *f)
{
    RIG(f)->connect_called = true;
    return 0;
}

static int low_write(mqtt5_filter *f, const mqtt5_iov *v, size_t n)
{
    filter_rig *r = RIG(f);
    if (r->close_called) return MQTT5_ERR_INVALID_STATE;
    if (r->fail_writes) return MQTT5_ERR_CONNECTION_CLOSED;
    r->writes++;
    for (size_t i = 0; i < n; i++)
        rig_bytes_put(&r->out, v[i].p, v[i].n);
    return 0;
}

static size_t low_pending(const mqtt5_filter *f)
{
    return RIG(f)->pending;
}

static void low_close(mqtt5_filter *f, int err)
{
    filter_rig *r = RIG(f);
    if (r->close_called) return;
    r->close_called = true;
    r->close_err = err;
}

static int low_query(const mqtt5_filter *f, int what, void *out)
{
    (void)f;
    if (what == MQTT5_FILTER_QUERY_TLS_VERSION) {
        *(const char **)out = "TLSv1.3 (of the proxy)";
        return 0;
    }
    return MQTT5_ERR_NOT_AVAILABLE;
}

static const mqtt5_filter_ops lower_ops = {
    .name = "fake-lower",
    .connect = low_connect,
    .write = low_write,
    .pending = low_pending,
    .close = low_close,
    .query = low_query,
};

/* ---- sink ---- */
static void sink_on_open(mqtt5_filter *f)
{
    filter_rig *r = RIG(f);
    r->opens++;
    r->bytes_at_open = r->in.n;
    if (r->close_on_open) r->f->ops->close(r->f, r->close_on_open_err);
}

static void sink_on_read(mqtt5_filter *f, const uint8_t *p, size_t n)
{
    rig_bytes_put(&RIG(f)->in, p, n);
}

static void sink_on_writable(mqtt5_filter *f)
{
    RIG(f)->writables++;
}

static void sink_on_closed(mqtt5_filter *f, int err, const char *detail)
{
    filter_rig *r = RIG(f);
    r->closes++;
    r->close_up_err = err;
    snprintf(r->close_detail, sizeof r->close_detail, "%s", detail ? detail : "");
}

static const mqtt5_filter_ops sink_ops = {
    .name = "sink",
    .on_open = sink_on_open,
    .on_read = sink_on_read,
    .on_writable = sink_on_writable,
    .on_closed = sink_on_closed,
};

void rig_init(filter_rig *r, mqtt5_filter *f)
{
    memset(r, 0, sizeof *r);
    r->lower = (mqtt5_filter){.ops = &lower_ops, .ctx = r};
    r->sink = (mqtt5_filter){.ops = &sink_ops, .ctx = r};
    r->f = f;
    mqtt5_filter_stack(&r->lower, f);
    mqtt5_filter_stack(f, &r->sink);
}

void rig_connect_open(filter_rig *r)
{
    if (r->f->ops->connect(r->f) != 0 || !r->connect_called) abort();
    r->f->ops->on_open(r->f);
}

void rig_deliver(filter_rig *r, const void *p, size_t n, size_t chunk)
{
    const uint8_t *b = p;
    size_t step = chunk ? chunk : n;
    for (size_t at = 0; at < n && !r->close_called; at += step) {
        size_t k = n - at < step ? n - at : step;
        r->f->ops->on_read(r->f, b + at, k);
    }
}

void rig_deliver_str(filter_rig *r, const char *s, size_t chunk)
{
    rig_deliver(r, s, strlen(s), chunk);
}

void rig_lower_closed(filter_rig *r, int err, const char *detail)
{
    r->closed_up = true;
    r->f->ops->on_closed(r->f, err, detail);
}

void rig_finish_close(filter_rig *r)
{
    if (r->close_called && !r->closed_up) rig_lower_closed(r, r->close_err, NULL);
}

void rig_clear_out(filter_rig *r)
{
    r->out.n = 0;
    if (r->out.p) r->out.p[0] = 0;
}

void rig_free(filter_rig *r)
{
    if (r->f) r->f->ops->destroy(r->f);
    free(r->out.p);
    free(r->in.p);
    memset(r, 0, sizeof *r);
}
