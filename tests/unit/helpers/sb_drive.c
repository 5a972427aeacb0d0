/*
 * helpers/sb_drive.c - the scripted broker as runtime: the virtual clock, the driving loop of
 * client_core.h (service -> want -> transport -> mem_send), the transport script, bytes from the
 * broker into mem_recv, and the client's bytes decoded into packets. Tests only: the clock moves
 * only here and only forward, by jumps; nothing sleeps or touches a real transport.
 */
#include "helpers/test_common.h"
#include "helpers/sb_internal.h"

uint64_t sb_now(const sb *b)
{
    return b->now;
}

uint64_t sb_wake_at(const sb *b)
{
    return b->wake;
}

bool sb_transport_is_open(const sb *b)
{
    return b->transport == SB_T_OPEN;
}

size_t sb_client_closes(const sb *b)
{
    return b->client_closes;
}

size_t sb_opens(const sb *b)
{
    return b->opens;
}

size_t sb_batches(const sb *b)
{
    return b->batch_count;
}

void sb_free_packets(sb *b)
{
    for (size_t i = 0; i < b->packets.count; i++)
        free(((sb_packet *)b->packets.items[i])->raw);
    sb_vec_free(&b->packets);
}

void sb_on_open(sb *b, int mode)
{
    if (mode != SB_ACCEPT && mode != SB_MANUAL && (mode & ~0xffff) != 0x30000)
        sb_fail(b, "sb_on_open: bad mode 0x%x", (unsigned)mode);
    b->open_mode = mode;
}

/* Splits the client's byte stream into packets; a batch must end on a packet boundary. */
static void record_batch(sb *b, const uint8_t *data, size_t len)
{
    b->batch_count++;
    if (b->stream_len + len > b->stream_cap) {
        size_t cap = b->stream_cap ? b->stream_cap : 4096;
        while (cap < b->stream_len + len)
            cap *= 2;
        uint8_t *grown = realloc(b->stream, cap);
        if (grown == NULL) fail_msg("scripted broker: out of memory");
        b->stream = grown;
        b->stream_cap = cap;
    }
    memcpy(b->stream + b->stream_len, data, len);
    b->stream_len += len;

    size_t off = 0, first = b->packets.count;
    while (off < b->stream_len) {
        mqtt5_packet p;
        size_t used = 0;
        mqtt5_codec_status st = {0};
        int rc = mqtt5_packet_decode(b->stream + off, b->stream_len - off, 0, &p, &used, &st);
        if (rc == MQTT5_ERR_NEED_MORE) break;
        if (rc != 0) {
            char hex[200];
            hex_format(b->stream + off, b->stream_len - off, hex, sizeof(hex));
            sb_fail(b,
                    "the client wrote bytes that do not decode: %s, reason 0x%02x at offset %zu "
                    "(field %s, detail %s)\n  bytes: %s",
                    mqtt5_error_name(rc), st.reason_code, st.offset, st.field ? st.field : "-",
                    st.detail ? st.detail : "-", hex);
        }
        sb_packet *k = sb_xmalloc(sizeof(*k));
        k->raw = sb_xmalloc(used);
        memcpy(k->raw, b->stream + off, used);
        k->len = used;
        k->time = b->now;
        k->batch = b->batch_count;
        mqtt5_packet_decode(k->raw, used, 0, &k->p, &used, &st);
        sb_vec_push(&b->packets, k);
        char name[16];
        sb_upper_packet_name(k->p.type, name, sizeof(name));
        sb_trace(b, "OUT", name);
        off += used;
    }
    memmove(b->stream, b->stream + off, b->stream_len - off);
    b->stream_len -= off;
    if (b->stream_len != 0)
        sb_violation(b, "mem_send batch %zu ended inside a packet (%zu bytes left over)",
                     b->batch_count, b->stream_len);
    size_t packets = b->packets.count - first;
    if (len > b->opts.write_batch_size && packets > 1)
        sb_violation(b, "mem_send batch of %zu bytes holds %zu packets (write_batch_size %zu)", len,
                     packets, b->opts.write_batch_size);
}

static void transport_closed(sb *b, const char *trace, int err)
{
    b->transport = SB_T_CLOSED;
    b->stream_len = 0;
    sb_trace(b, trace, NULL);
    int rc = mqtt5_client_core_on_transport_closed(b->core, b->now, err);
    if (rc != 0)
        sb_fail(b, "on_transport_closed(%llu, %s) returned %s", (unsigned long long)b->now,
                mqtt5_error_name(err), mqtt5_error_name(rc));
    sb_check_violations(b);
}

static void transport_opened(sb *b)
{
    b->transport = SB_T_OPEN;
    b->opens++;
    sb_trace(b, "OPEN", NULL);
    int rc = mqtt5_client_core_on_transport_open(b->core, b->now);
    if (rc != 0)
        sb_fail(b, "on_transport_open(%llu) returned %s", (unsigned long long)b->now,
                mqtt5_error_name(rc));
    sb_check_violations(b);
}

/* Acts on want.transport_open; true if it did something. */
static bool match_transport(sb *b, const mqtt5_client_want *w)
{
    if (w->transport_open && b->transport == SB_T_CLOSED) {
        if (b->open_mode == SB_ACCEPT) {
            transport_opened(b);
        } else if (b->open_mode == SB_MANUAL) {
            b->transport = SB_T_OPENING;
            sb_trace(b, "OPEN_PENDING", NULL);
        } else {
            transport_closed(b, "OPEN_FAILED", -(b->open_mode & 0xffff));
        }
        return true;
    }
    if (!w->transport_open && b->transport != SB_T_CLOSED) {
        b->client_closes++;
        transport_closed(b, "CLOSE_CLIENT", 0);
        return true;
    }
    return false;
}

void sb_drive(sb *b)
{
    size_t idle = 0, actions = 0;
    for (;;) {
        if (++actions > 1000000)
            sb_fail(b, "the core keeps asking for work at t=%llu (1000000 steps)",
                    (unsigned long long)b->now);
        uint64_t next = MQTT5_TIME_NEVER;
        int rc = mqtt5_client_core_service(b->core, b->now, &next);
        if (rc != 0)
            sb_fail(b, "service(%llu) returned %s", (unsigned long long)b->now,
                    mqtt5_error_name(rc));
        sb_check_violations(b);
        mqtt5_client_want w;
        mqtt5_client_core_want(b->core, &w);
        if (w.wake_at != next)
            sb_fail(b, "service gave next_wake %llu but want.wake_at is %llu at t=%llu",
                    (unsigned long long)next, (unsigned long long)w.wake_at,
                    (unsigned long long)b->now);
        if (match_transport(b, &w)) continue;
        if (b->transport == SB_T_OPEN) {
            const uint8_t *data = NULL;
            size_t len = 0;
            size_t events_before = sb_event_count(b), done_before = sb_completion_count(b);
            rc = mqtt5_client_core_mem_send(b->core, b->now, &data, &len);
            if (rc != 0) sb_fail(b, "mem_send returned %s", mqtt5_error_name(rc));
            sb_check_violations(b);
            if (len > 0) {
                if (!w.write)
                    sb_violation(b, "mem_send handed out %zu bytes while want.write was false",
                                 len);
                record_batch(b, data, len);
                sb_check_violations(b);
                continue;
            }
            /* nothing handed out is fine only if mem_send reported why (an operation failed at
             * hand-out, e.g. out of memory, or the connection ended) */
            if (w.write && sb_event_count(b) == events_before &&
                sb_completion_count(b) == done_before)
                sb_fail(b, "want.write is true but mem_send handed out nothing at t=%llu",
                        (unsigned long long)b->now);
        }
        b->wake = w.wake_at;
        if (w.wake_at <= b->now) {
            if (++idle > 3)
                sb_fail(b, "wake_at %llu <= now %llu after service: a due deadline never fires",
                        (unsigned long long)w.wake_at, (unsigned long long)b->now);
            continue;
        }
        return;
    }
}

void sb_run_until_(sb *b, uint64_t t)
{
    if (t < b->now)
        sb_fail(b, "sb_run_until(%llu) is before now (%llu)", (unsigned long long)t,
                (unsigned long long)b->now);
    for (;;) {
        sb_drive(b);
        if (b->now >= t) return;
        b->now = b->wake < t ? b->wake : t;
    }
}

void sb_accept_open_(sb *b)
{
    if (b->transport != SB_T_OPENING) sb_fail(b, "sb_accept_open: no open is pending");
    transport_opened(b);
    sb_drive(b);
}

void sb_fail_open_(sb *b, int err)
{
    if (b->transport != SB_T_OPENING) sb_fail(b, "sb_fail_open: no open is pending");
    transport_closed(b, "OPEN_FAILED", err);
    sb_drive(b);
}

void sb_close_(sb *b, int err)
{
    if (b->transport == SB_T_CLOSED) sb_fail(b, "sb_close: the transport is not open");
    b->server_closes++;
    transport_closed(b, "CLOSE_SERVER", err);
    sb_drive(b);
}

static void recv_piece(sb *b, const uint8_t *data, size_t len)
{
    int rc = mqtt5_client_core_mem_recv(b->core, b->now, data, len);
    if (rc != 0)
        sb_fail(b, "mem_recv(%zu bytes) returned %s (it fails only on misuse)", len,
                mqtt5_error_name(rc));
    sb_check_violations(b);
    sb_drive(b);
}

static void trace_in(sb *b, const uint8_t *data, size_t len)
{
    char name[16] = "?";
    if (len > 0) sb_upper_packet_name(data[0] >> 4, name, sizeof(name));
    sb_trace(b, "IN", name);
}

void sb_send_bytes_(sb *b, const uint8_t *data, size_t len)
{
    if (b->transport != SB_T_OPEN) sb_fail(b, "sb_send: the transport is not open");
    trace_in(b, data, len);
    recv_piece(b, data, len);
}

void sb_send_hex_(sb *b, const char *hex)
{
    size_t len;
    const uint8_t *data = hex_bytes(hex, &len);
    sb_send_bytes_(b, data, len);
}

static uint8_t *encode(sb *b, const mqtt5_packet *p, size_t *len)
{
    mqtt5_codec_status st = {0};
    size_t n = 0;
    int rc = mqtt5_packet_encoded_size(p, &n, &st);
    if (rc != 0)
        sb_fail(b, "the test's packet does not encode: %s (field %s, detail %s)",
                mqtt5_error_name(rc), st.field ? st.field : "-", st.detail ? st.detail : "-");
    uint8_t *buf = test_alloc(n);
    mqtt5_packet_encode(p, buf, n, len, &st);
    return buf;
}

void sb_send_(sb *b, const mqtt5_packet *p)
{
    size_t len;
    uint8_t *buf = encode(b, p, &len);
    sb_send_bytes_(b, buf, len);
}

void sb_send_split_(sb *b, const mqtt5_packet *p, size_t at)
{
    size_t len;
    uint8_t *buf = encode(b, p, &len);
    if (at > len) sb_fail(b, "sb_send_split at %zu of a %zu-byte packet", at, len);
    if (b->transport != SB_T_OPEN) sb_fail(b, "sb_send_split: the transport is not open");
    trace_in(b, buf, len);
    recv_piece(b, buf, at);
    if (b->transport != SB_T_OPEN) sb_fail(b, "the client closed after the first piece");
    recv_piece(b, buf + at, len - at);
}

void sb_connack_(sb *b, uint8_t reason, bool session_present, const mqtt5_properties *props)
{
    mqtt5_packet p = {.type = MQTT5_CONNACK};
    p.u.connack.reason_code = reason;
    p.u.connack.session_present = session_present;
    if (props) p.u.connack.properties = *props;
    sb_send_(b, &p);
}

void sb_connect_(sb *b, const mqtt5_properties *connack_props)
{
    if (b->open_mode != SB_ACCEPT) sb_fail(b, "sb_connect needs sb_on_open(b, SB_ACCEPT)");
    if (mqtt5_client_core_state(b->core) == MQTT5_CS_STOPPED) {
        int rc = mqtt5_client_core_start(b->core, b->now);
        if (rc != 0) sb_fail(b, "mqtt5_client_core_start returned %s", mqtt5_error_name(rc));
    }
    sb_drive(b);
    if (b->transport != SB_T_OPEN) sb_fail(b, "sb_connect: the core did not open the transport");
    sb_expect_packet_(b, MQTT5_CONNECT);
    sb_connack_(b, 0, false, connack_props);
    sb_expect_events_(b, "ATTEMPTING_CONNECT; CONNECTION_SUCCESS");
}
