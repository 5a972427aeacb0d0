/*
 * helpers/sb_record.c - the scripted broker's callbacks: copy every lifecycle event, inbound
 * publish and completion, append to the trace, and check the header's ordering guarantees as
 * they happen (ATTEMPTING -> exactly one SUCCESS or FAILURE; SUCCESS -> exactly one
 * DISCONNECTION; one completion per op). A broken guarantee is recorded, not failed here: a
 * callback runs inside the core, and the test fails at the next harness step instead. Must not
 * call any driving function of the core.
 */
#include <ctype.h>

#include "helpers/test_common.h"
#include "helpers/sb_internal.h"

static const char *const event_names[] = {
    "ATTEMPTING_CONNECT", "CONNECTION_SUCCESS", "CONNECTION_FAILURE", "DISCONNECTION", "STOPPED",
};

const char *sb_event_name(int type)
{
    if (type < 0 || (size_t)type >= COUNT_OF(event_names)) return "UNKNOWN_EVENT";
    return event_names[type];
}

void sb_upper_packet_name(int type, char *out, size_t cap)
{
    const char *n = mqtt5_packet_type_name(type);
    if (n == NULL) n = "?";
    size_t i = 0;
    for (; n[i] && i + 1 < cap; i++)
        out[i] = (char)toupper((unsigned char)n[i]);
    out[i] = '\0';
}

void sb_trace(sb *b, const char *what, const char *arg)
{
    sb_trace_entry *e = sb_xmalloc(sizeof(*e));
    snprintf(e->what, sizeof(e->what), "%s%s%s", what, arg ? ":" : "", arg ? arg : "");
    e->time = b->now;
    sb_vec_push(&b->trace, e);
}

void sb_violation(sb *b, const char *fmt, ...)
{
    if (b->violations++ > 0) return; /* the first one explains the rest */
    int n = snprintf(b->violation, sizeof(b->violation), "t=%llu: ", (unsigned long long)b->now);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->violation + n, sizeof(b->violation) - (size_t)n, fmt, ap);
    va_end(ap);
}

static void copy_cstr(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap) len = cap - 1;
    if (len) memcpy(dst, src, len);
    dst[len] = '\0';
}

static void check_sequence(sb *b, const mqtt5_lifecycle_event *ev)
{
    const char *name = sb_event_name((int)ev->type);
    switch (ev->type) {
    case MQTT5_LC_ATTEMPTING_CONNECT:
        if (b->attempt_open || b->connected)
            sb_violation(b, "ATTEMPTING_CONNECT while %s",
                         b->connected ? "connected (no DISCONNECTION yet)"
                                      : "the previous attempt has not ended");
        b->attempt_open = true;
        break;
    case MQTT5_LC_CONNECTION_SUCCESS:
        if (!b->attempt_open) sb_violation(b, "CONNECTION_SUCCESS without ATTEMPTING_CONNECT");
        if (ev->connack == NULL || ev->settings == NULL)
            sb_violation(b, "CONNECTION_SUCCESS without %s",
                         ev->connack == NULL ? "connack" : "settings");
        b->attempt_open = false;
        b->connected = true;
        break;
    case MQTT5_LC_CONNECTION_FAILURE:
        if (!b->attempt_open) sb_violation(b, "CONNECTION_FAILURE without ATTEMPTING_CONNECT");
        b->attempt_open = false;
        break;
    case MQTT5_LC_DISCONNECTION:
        if (!b->connected) sb_violation(b, "DISCONNECTION without CONNECTION_SUCCESS");
        b->connected = false;
        break;
    case MQTT5_LC_STOPPED:
        if (b->attempt_open || b->connected)
            sb_violation(b, "STOPPED before the %s ended", b->connected ? "connection" : "attempt");
        break;
    default:
        sb_violation(b, "unknown lifecycle event type %d", (int)ev->type);
        return;
    }
    if ((ev->type == MQTT5_LC_CONNECTION_FAILURE || ev->type == MQTT5_LC_DISCONNECTION) &&
        ev->error >= 0)
        sb_violation(b, "%s with error %d (must be a negative mqtt5_error)", name, ev->error);
}

static void on_lifecycle(void *user, const mqtt5_lifecycle_event *ev)
{
    sb *b = user;
    if (ev == NULL) {
        sb_violation(b, "on_lifecycle called with NULL");
        return;
    }
    sb_event *e = sb_xmalloc(sizeof(*e));
    e->type = ev->type;
    e->error = ev->error;
    e->sent_reason_code = ev->sent_reason_code;
    e->time = b->now;
    e->state =
        (b->core && !b->destroying) ? mqtt5_client_core_state(b->core) : (mqtt5_client_state)-1;
    if (ev->connack) {
        e->has_connack = true;
        e->session_present = ev->connack->session_present;
        e->connack_reason = ev->connack->reason_code;
    }
    if (ev->disconnect) {
        const mqtt5_properties *pr = &ev->disconnect->properties;
        e->has_disconnect = true;
        e->disconnect_reason = ev->disconnect->reason_code;
        if (MQTT5_PROPS_HAS(pr, MQTT5_PROP_REASON_STRING)) {
            e->has_reason_string = true;
            copy_cstr(e->reason_string, sizeof(e->reason_string), pr->reason_string.ptr,
                      pr->reason_string.len);
        }
    }
    if (ev->settings) {
        e->has_settings = true;
        e->settings = *ev->settings;
        copy_cstr(e->client_id, sizeof(e->client_id), ev->settings->client_id.ptr,
                  ev->settings->client_id.len);
        e->settings.client_id = (mqtt5_str){e->client_id, strlen(e->client_id)};
    }
    if ((size_t)ev->type < COUNT_OF(b->n_type)) b->n_type[ev->type]++;
    sb_vec_push(&b->events, e);
    sb_trace(b, sb_event_name((int)ev->type), NULL);
    check_sequence(b, ev);
}

/* Whole copy by re-encoding; topic and payload only when the encoder refuses the publish. */
static void copy_publish(sb_received *r, const mqtt5_publish *p)
{
    mqtt5_packet pk = {.type = MQTT5_PUBLISH};
    pk.u.publish = *p;
    size_t n = 0, written = 0, consumed = 0;
    mqtt5_codec_status st;
    if (mqtt5_packet_encoded_size(&pk, &n, &st) == 0) {
        r->raw = sb_xmalloc(n);
        mqtt5_packet dec;
        if (mqtt5_packet_encode(&pk, r->raw, n, &written, &st) == 0 &&
            mqtt5_packet_decode(r->raw, written, 0, &dec, &consumed, &st) == 0) {
            r->publish = dec.u.publish;
            r->len = written;
            r->whole = true;
            return;
        }
        free(r->raw);
    }
    r->len = p->topic.len + p->payload.len;
    r->raw = sb_xmalloc(r->len);
    if (p->topic.len) memcpy(r->raw, p->topic.ptr, p->topic.len);
    if (p->payload.len) memcpy(r->raw + p->topic.len, p->payload.ptr, p->payload.len);
    r->publish = (mqtt5_publish){
        .qos = p->qos, .dup = p->dup, .retain = p->retain, .packet_id = p->packet_id};
    r->publish.topic = (mqtt5_str){(const char *)r->raw, p->topic.len};
    r->publish.payload = (mqtt5_bytes){r->raw + p->topic.len, p->payload.len};
}

static void on_publish(void *user, const mqtt5_inbound_publish *msg)
{
    sb *b = user;
    if (msg == NULL || msg->publish == NULL) {
        sb_violation(b, "on_publish called with NULL");
        return;
    }
    sb_received *r = sb_xmalloc(sizeof(*r));
    copy_publish(r, msg->publish);
    r->ack_handle = msg->ack_handle;
    r->time = b->now;
    sb_vec_push(&b->received, r);
    sb_trace(b, "PUBLISH_IN", NULL);
    if ((msg->publish->qos == 0) != (msg->ack_handle == 0))
        sb_violation(b, "on_publish: QoS %u with ack_handle %llu (0 exactly for QoS 0)",
                     msg->publish->qos, (unsigned long long)msg->ack_handle);
    if (b->take_acks && msg->ack_handle != 0) {
        int rc = mqtt5_client_core_take_ack(b->core, msg->ack_handle);
        if (rc != 0)
            sb_violation(b, "take_ack(%llu) inside on_publish returned %s",
                         (unsigned long long)msg->ack_handle, mqtt5_error_name(rc));
    }
    if (b->publish_hook) b->publish_hook(b, msg, b->publish_hook_ctx);
}

static void on_complete(void *user, const mqtt5_op_completion *done)
{
    sb *b = user;
    if (done == NULL) {
        sb_violation(b, "on_complete called with NULL");
        return;
    }
    if (sb_op_find(b, done->op_id)->completions++ > 0)
        sb_violation(b, "operation %llu completed a second time (error %s)",
                     (unsigned long long)done->op_id, mqtt5_error_name(done->error));
    sb_completion *c = sb_xmalloc(sizeof(*c));
    c->op_id = done->op_id;
    c->user_ctx = done->user_ctx;
    c->op_type = done->op_type;
    c->error = done->error;
    c->time = b->now;
    if (done->ack) {
        c->ack_type = done->ack->type;
        if (done->ack->type == MQTT5_SUBACK || done->ack->type == MQTT5_UNSUBACK) {
            const mqtt5_suback *s = &done->ack->u.suback;
            c->reason_count = s->reason_code_count;
            for (size_t i = 0; i < s->reason_code_count && i < COUNT_OF(c->reasons); i++)
                c->reasons[i] = s->reason_codes[i];
            c->ack_reason = s->reason_code_count ? s->reason_codes[0] : 0;
        } else {
            c->ack_reason = done->ack->u.ack.reason_code;
        }
    }
    sb_vec_push(&b->completions, c);
    sb_trace(b, "COMPLETE", NULL);
    if (done->error > 0) sb_violation(b, "on_complete with positive error %d", done->error);
    if (done->op_type != MQTT5_PUBLISH && done->op_type != MQTT5_SUBSCRIBE &&
        done->op_type != MQTT5_UNSUBSCRIBE)
        sb_violation(b, "on_complete with op_type %d", (int)done->op_type);
}

void sb_install_callbacks(sb *b, mqtt5_client_core_options *o)
{
    o->callbacks.user = b;
    o->callbacks.on_lifecycle = on_lifecycle;
    o->callbacks.on_publish = on_publish;
    o->callbacks.on_complete = on_complete;
}

size_t sb_event_count(const sb *b)
{
    return b->events.count;
}

const sb_event *sb_event_at(const sb *b, size_t i)
{
    return i < b->events.count ? b->events.items[i] : NULL;
}

const sb_event *sb_last_event(const sb *b)
{
    return b->events.count ? b->events.items[b->events.count - 1] : NULL;
}

size_t sb_event_times(const sb *b, mqtt5_lifecycle_type type, uint64_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < b->events.count; i++) {
        const sb_event *e = b->events.items[i];
        if (e->type != type) continue;
        if (n < cap) out[n] = e->time;
        n++;
    }
    return n;
}

size_t sb_received_count(const sb *b)
{
    return b->received.count;
}

const sb_received *sb_received_at(const sb *b, size_t i)
{
    return i < b->received.count ? b->received.items[i] : NULL;
}

size_t sb_completion_count(const sb *b)
{
    return b->completions.count;
}

const sb_completion *sb_completion_at(const sb *b, size_t i)
{
    return i < b->completions.count ? b->completions.items[i] : NULL;
}
