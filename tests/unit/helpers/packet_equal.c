/*
 * helpers/packet_equal.c - deep packet comparison and the zero-copy view check (see
 * packet_equal.h).
 */
#include "helpers/test_common.h"

/* One property value: a number, or a view (ptr, len). */
typedef struct prop_value {
    bool is_view;
    uint32_t num;
    const void *ptr;
    size_t len;
} prop_value;

static const uint8_t single_ids[] = {0x01, 0x02, 0x03, 0x08, 0x09, 0x11, 0x12, 0x13, 0x15,
                                     0x16, 0x17, 0x18, 0x19, 0x1A, 0x1C, 0x1F, 0x21, 0x22,
                                     0x23, 0x24, 0x25, 0x27, 0x28, 0x29, 0x2A};

static prop_value num(uint32_t v)
{
    return (prop_value){false, v, NULL, 0};
}

static prop_value str(mqtt5_str s)
{
    return (prop_value){true, 0, s.ptr, s.len};
}

static prop_value bin(mqtt5_bytes b)
{
    return (prop_value){true, 0, b.ptr, b.len};
}

static prop_value prop_get(const mqtt5_properties *p, int id)
{
    switch (id) {
    case 0x01:
        return num(p->payload_format_indicator);
    case 0x02:
        return num(p->message_expiry_interval);
    case 0x03:
        return str(p->content_type);
    case 0x08:
        return str(p->response_topic);
    case 0x09:
        return bin(p->correlation_data);
    case 0x11:
        return num(p->session_expiry_interval);
    case 0x12:
        return str(p->assigned_client_identifier);
    case 0x13:
        return num(p->server_keep_alive);
    case 0x15:
        return str(p->authentication_method);
    case 0x16:
        return bin(p->authentication_data);
    case 0x17:
        return num(p->request_problem_information);
    case 0x18:
        return num(p->will_delay_interval);
    case 0x19:
        return num(p->request_response_information);
    case 0x1A:
        return str(p->response_information);
    case 0x1C:
        return str(p->server_reference);
    case 0x1F:
        return str(p->reason_string);
    case 0x21:
        return num(p->receive_maximum);
    case 0x22:
        return num(p->topic_alias_maximum);
    case 0x23:
        return num(p->topic_alias);
    case 0x24:
        return num(p->maximum_qos);
    case 0x25:
        return num(p->retain_available);
    case 0x27:
        return num(p->maximum_packet_size);
    case 0x28:
        return num(p->wildcard_subscription_available);
    case 0x29:
        return num(p->subscription_identifier_available);
    case 0x2A:
        return num(p->shared_subscription_available);
    default:
        return num(0);
    }
}

static bool views_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static void str_equal(mqtt5_str e, mqtt5_str a, const char *what, const char *file, int line)
{
    if (!views_equal(e.ptr, e.len, a.ptr, a.len))
        test_fail_at(file, line, "%s: \"%.*s\" != expected \"%.*s\"", what, (int)a.len,
                     a.ptr ? a.ptr : "", (int)e.len, e.ptr ? e.ptr : "");
}

static void bytes_equal(mqtt5_bytes e, mqtt5_bytes a, const char *what, const char *file, int line)
{
    if (!views_equal(e.ptr, e.len, a.ptr, a.len))
        test_fail_at(file, line, "%s: %zu bytes differ from the expected %zu bytes", what, a.len,
                     e.len);
}

static void num_equal(uint64_t e, uint64_t a, const char *what, const char *file, int line)
{
    if (e != a)
        test_fail_at(file, line, "%s: %llu != expected %llu", what, (unsigned long long)a,
                     (unsigned long long)e);
}

void assert_props_equal_(const mqtt5_properties *e, const mqtt5_properties *a, const char *what,
                         const char *file, int line)
{
    if (e->present != a->present)
        test_fail_at(file, line, "%s: present 0x%llx != expected 0x%llx", what,
                     (unsigned long long)a->present, (unsigned long long)e->present);
    for (size_t i = 0; i < sizeof(single_ids); i++) {
        int id = single_ids[i];
        if (!MQTT5_PROPS_HAS(e, id)) continue;
        prop_value ev = prop_get(e, id), av = prop_get(a, id);
        bool same = ev.is_view ? views_equal(ev.ptr, ev.len, av.ptr, av.len) : ev.num == av.num;
        if (!same)
            test_fail_at(file, line,
                         "%s: property 0x%02x (%s) differs (got %u/%zu bytes, want "
                         "%u/%zu bytes)",
                         what, id, mqtt5_property_name(id), av.num, av.len, ev.num, ev.len);
    }

    num_equal(e->user_property_count, a->user_property_count, "user_property_count", file, line);
    mqtt5_iter ei = {0}, ai = {0};
    mqtt5_user_property eu, au;
    size_t n = 0;
    for (;;) {
        bool eh = mqtt5_user_property_next(e, &ei, &eu);
        bool ah = mqtt5_user_property_next(a, &ai, &au);
        if (eh != ah)
            test_fail_at(file, line,
                         "%s: user property iterator gives %s items than expected "
                         "(at %zu)",
                         what, ah ? "more" : "fewer", n);
        if (!eh) break;
        str_equal(eu.name, au.name, "user property name", file, line);
        str_equal(eu.value, au.value, "user property value", file, line);
        n++;
    }
    num_equal(e->user_property_count, n, "user properties iterated", file, line);

    num_equal(e->subscription_identifier_count, a->subscription_identifier_count,
              "subscription_identifier_count", file, line);
    mqtt5_iter es = {0}, as = {0};
    uint32_t ev, av;
    n = 0;
    for (;;) {
        bool eh = mqtt5_subscription_identifier_next(e, &es, &ev);
        bool ah = mqtt5_subscription_identifier_next(a, &as, &av);
        if (eh != ah)
            test_fail_at(file, line,
                         "%s: subscription identifier iterator gives %s items than "
                         "expected (at %zu)",
                         what, ah ? "more" : "fewer", n);
        if (!eh) break;
        num_equal(ev, av, "subscription identifier", file, line);
        n++;
    }
    num_equal(e->subscription_identifier_count, n, "subscription identifiers iterated", file, line);
}

static void connect_equal(const mqtt5_connect *e, const mqtt5_connect *a, const char *file,
                          int line)
{
    num_equal(e->clean_start, a->clean_start, "clean_start", file, line);
    num_equal(e->keep_alive, a->keep_alive, "keep_alive", file, line);
    str_equal(e->client_id, a->client_id, "client_id", file, line);
    num_equal(e->has_will, a->has_will, "has_will", file, line);
    if (e->has_will) {
        str_equal(e->will.topic, a->will.topic, "will.topic", file, line);
        bytes_equal(e->will.payload, a->will.payload, "will.payload", file, line);
        num_equal(e->will.qos, a->will.qos, "will.qos", file, line);
        num_equal(e->will.retain, a->will.retain, "will.retain", file, line);
        assert_props_equal_(&e->will.properties, &a->will.properties, "will.properties", file,
                            line);
    }
    num_equal(e->has_username, a->has_username, "has_username", file, line);
    if (e->has_username) str_equal(e->username, a->username, "username", file, line);
    num_equal(e->has_password, a->has_password, "has_password", file, line);
    if (e->has_password) bytes_equal(e->password, a->password, "password", file, line);
}

static void subscribe_equal(const mqtt5_subscribe *e, const mqtt5_subscribe *a, const char *file,
                            int line)
{
    num_equal(e->packet_id, a->packet_id, "packet_id", file, line);
    num_equal(e->subscription_count, a->subscription_count, "subscription_count", file, line);
    mqtt5_iter ei = {0}, ai = {0};
    mqtt5_subscription es, as;
    size_t n = 0;
    for (;;) {
        bool eh = mqtt5_subscribe_next(e, &ei, &es);
        bool ah = mqtt5_subscribe_next(a, &ai, &as);
        if (eh != ah)
            test_fail_at(file, line, "subscription iterator gives %s items than expected (at %zu)",
                         ah ? "more" : "fewer", n);
        if (!eh) break;
        str_equal(es.topic_filter, as.topic_filter, "subscription topic_filter", file, line);
        num_equal(es.qos, as.qos, "subscription qos", file, line);
        num_equal(es.no_local, as.no_local, "subscription no_local", file, line);
        num_equal(es.retain_as_published, as.retain_as_published,
                  "subscription retain_as_published", file, line);
        num_equal(es.retain_handling, as.retain_handling, "subscription retain_handling", file,
                  line);
        n++;
    }
    num_equal(e->subscription_count, n, "subscriptions iterated", file, line);
}

static void unsubscribe_equal(const mqtt5_unsubscribe *e, const mqtt5_unsubscribe *a,
                              const char *file, int line)
{
    num_equal(e->packet_id, a->packet_id, "packet_id", file, line);
    num_equal(e->topic_filter_count, a->topic_filter_count, "topic_filter_count", file, line);
    mqtt5_iter ei = {0}, ai = {0};
    mqtt5_str es, as;
    size_t n = 0;
    for (;;) {
        bool eh = mqtt5_unsubscribe_next(e, &ei, &es);
        bool ah = mqtt5_unsubscribe_next(a, &ai, &as);
        if (eh != ah)
            test_fail_at(file, line, "unsubscribe iterator gives %s items than expected (at %zu)",
                         ah ? "more" : "fewer", n);
        if (!eh) break;
        str_equal(es, as, "unsubscribe topic filter", file, line);
        n++;
    }
    num_equal(e->topic_filter_count, n, "unsubscribe filters iterated", file, line);
}

void assert_packet_equal_(const mqtt5_packet *e, const mqtt5_packet *a, const char *file, int line)
{
    num_equal(e->type, a->type, "type", file, line);
    switch (e->type) {
    case MQTT5_CONNECT:
        connect_equal(&e->u.connect, &a->u.connect, file, line);
        break;
    case MQTT5_CONNACK:
        num_equal(e->u.connack.session_present, a->u.connack.session_present, "session_present",
                  file, line);
        num_equal(e->u.connack.reason_code, a->u.connack.reason_code, "reason_code", file, line);
        break;
    case MQTT5_PUBLISH:
        num_equal(e->u.publish.qos, a->u.publish.qos, "qos", file, line);
        num_equal(e->u.publish.dup, a->u.publish.dup, "dup", file, line);
        num_equal(e->u.publish.retain, a->u.publish.retain, "retain", file, line);
        str_equal(e->u.publish.topic, a->u.publish.topic, "topic", file, line);
        if (e->u.publish.qos > 0)
            num_equal(e->u.publish.packet_id, a->u.publish.packet_id, "packet_id", file, line);
        bytes_equal(e->u.publish.payload, a->u.publish.payload, "payload", file, line);
        break;
    case MQTT5_PUBACK:
    case MQTT5_PUBREC:
    case MQTT5_PUBREL:
    case MQTT5_PUBCOMP:
        num_equal(e->u.ack.packet_id, a->u.ack.packet_id, "packet_id", file, line);
        num_equal(e->u.ack.reason_code, a->u.ack.reason_code, "reason_code", file, line);
        break;
    case MQTT5_SUBSCRIBE:
        subscribe_equal(&e->u.subscribe, &a->u.subscribe, file, line);
        break;
    case MQTT5_SUBACK:
    case MQTT5_UNSUBACK:
        num_equal(e->u.suback.packet_id, a->u.suback.packet_id, "packet_id", file, line);
        if (!views_equal(e->u.suback.reason_codes, e->u.suback.reason_code_count,
                         a->u.suback.reason_codes, a->u.suback.reason_code_count))
            test_fail_at(file, line, "reason codes differ (%zu vs expected %zu)",
                         a->u.suback.reason_code_count, e->u.suback.reason_code_count);
        break;
    case MQTT5_UNSUBSCRIBE:
        unsubscribe_equal(&e->u.unsubscribe, &a->u.unsubscribe, file, line);
        break;
    case MQTT5_DISCONNECT:
    case MQTT5_AUTH:
        num_equal(e->u.disconnect.reason_code, a->u.disconnect.reason_code, "reason_code", file,
                  line);
        break;
    default:
        break;
    }
    const mqtt5_properties *ep = mqtt5_packet_properties(e);
    const mqtt5_properties *ap = mqtt5_packet_properties(a);
    if ((ep == NULL) != (ap == NULL))
        test_fail_at(file, line, "mqtt5_packet_properties: one packet has properties, one not");
    if (ep) assert_props_equal_(ep, ap, "properties", file, line);
}

/* ---- zero copy -------------------------------------------------------------------------- */

typedef struct inside_ctx {
    const uint8_t *buf;
    size_t len;
    const char *file;
    int line;
} inside_ctx;

static void inside(const inside_ctx *c, const void *ptr, size_t n, const char *what)
{
    assert_view_inside_(ptr, n, c->buf, c->len, what, c->file, c->line);
}

static void props_inside(const inside_ctx *c, const mqtt5_properties *p)
{
    inside(c, p->raw.ptr, p->raw.len, "properties.raw");
    for (size_t i = 0; i < sizeof(single_ids); i++) {
        if (!MQTT5_PROPS_HAS(p, single_ids[i])) continue;
        prop_value v = prop_get(p, single_ids[i]);
        if (v.is_view) inside(c, v.ptr, v.len, mqtt5_property_name(single_ids[i]));
    }
    mqtt5_iter it = {0};
    mqtt5_user_property up;
    while (mqtt5_user_property_next(p, &it, &up)) {
        inside(c, up.name.ptr, up.name.len, "user property name");
        inside(c, up.value.ptr, up.value.len, "user property value");
    }
}

void assert_packet_views_inside_(const mqtt5_packet *p, const uint8_t *buf, size_t len,
                                 const char *file, int line)
{
    inside_ctx c = {buf, len, file, line};
    switch (p->type) {
    case MQTT5_CONNECT: {
        const mqtt5_connect *k = &p->u.connect;
        inside(&c, k->protocol_name.ptr, k->protocol_name.len, "protocol_name");
        inside(&c, k->client_id.ptr, k->client_id.len, "client_id");
        if (k->has_will) {
            inside(&c, k->will.topic.ptr, k->will.topic.len, "will.topic");
            inside(&c, k->will.payload.ptr, k->will.payload.len, "will.payload");
            props_inside(&c, &k->will.properties);
        }
        if (k->has_username) inside(&c, k->username.ptr, k->username.len, "username");
        if (k->has_password) inside(&c, k->password.ptr, k->password.len, "password");
        break;
    }
    case MQTT5_PUBLISH:
        inside(&c, p->u.publish.topic.ptr, p->u.publish.topic.len, "topic");
        inside(&c, p->u.publish.payload.ptr, p->u.publish.payload.len, "payload");
        break;
    case MQTT5_SUBSCRIBE: {
        inside(&c, p->u.subscribe.raw_payload.ptr, p->u.subscribe.raw_payload.len,
               "subscribe raw_payload");
        mqtt5_iter it = {0};
        mqtt5_subscription s;
        while (mqtt5_subscribe_next(&p->u.subscribe, &it, &s))
            inside(&c, s.topic_filter.ptr, s.topic_filter.len, "subscription topic_filter");
        break;
    }
    case MQTT5_SUBACK:
    case MQTT5_UNSUBACK:
        inside(&c, p->u.suback.reason_codes, p->u.suback.reason_code_count, "reason_codes");
        break;
    case MQTT5_UNSUBSCRIBE: {
        inside(&c, p->u.unsubscribe.raw_payload.ptr, p->u.unsubscribe.raw_payload.len,
               "unsubscribe raw_payload");
        mqtt5_iter it = {0};
        mqtt5_str s;
        while (mqtt5_unsubscribe_next(&p->u.unsubscribe, &it, &s))
            inside(&c, s.ptr, s.len, "unsubscribe topic filter");
        break;
    }
    default:
        break;
    }
    const mqtt5_properties *props = mqtt5_packet_properties(p);
    if (props) props_inside(&c, props);
}

/* ---- repeated items against literal lists ------------------------------------------------ */

void assert_user_props_(const mqtt5_properties *props, const char *file, int line, ...)
{
    va_list ap;
    va_start(ap, line);
    mqtt5_iter it = {0};
    mqtt5_user_property up;
    size_t n = 0;
    for (;;) {
        const char *name = va_arg(ap, const char *);
        bool has = mqtt5_user_property_next(props, &it, &up);
        if (name == NULL) {
            va_end(ap);
            if (has) test_fail_at(file, line, "more than %zu user properties", n);
            num_equal(n, props->user_property_count, "user_property_count", file, line);
            return;
        }
        const char *value = va_arg(ap, const char *);
        if (!has) {
            va_end(ap);
            test_fail_at(file, line, "only %zu user properties, expected %s=%s next", n, name,
                         value);
        }
        assert_str_eq_(up.name, name, file, line);
        assert_str_eq_(up.value, value, file, line);
        n++;
    }
}

void assert_sub_ids_(const mqtt5_properties *props, const uint32_t *want, size_t n,
                     const char *file, int line)
{
    mqtt5_iter it = {0};
    uint32_t v;
    for (size_t i = 0; i < n; i++) {
        if (!mqtt5_subscription_identifier_next(props, &it, &v))
            test_fail_at(file, line, "only %zu subscription identifiers, expected %zu", i, n);
        num_equal(want[i], v, "subscription identifier", file, line);
    }
    if (mqtt5_subscription_identifier_next(props, &it, &v))
        test_fail_at(file, line, "more than %zu subscription identifiers", n);
    num_equal(n, props->subscription_identifier_count, "subscription_identifier_count", file, line);
}
