/*
 * test_client_memory.c - allocation-failure sweep of the client core (client_core.h). Each
 * scenario runs once without failure to count its allocations N, then once for every k in 1..N
 * with the k-th allocation failing. Every run checks: no crash or sanitizer report; nothing leaked
 * after destroy; the lifecycle and one-completion-per-operation guarantees (scripted_broker.h); a
 * failed allocation reaches the user as MQTT5_ERR_NOMEM (returned by the call that needed the
 * memory, as an operation's completion error, or as a CONNECTION_FAILURE/DISCONNECTION error) in
 * the step where it happened, never silently; stats.memory_in_use equals what the allocator has
 * handed out at every checkpoint and memory_peak never decreases; and what the client writes
 * stays valid for the broker (topic aliases bound before use, CONNECT first on a connection).
 *
 * Scenarios tolerate any step failing: a step that finds the client not where the script
 * expects skips the rest of its script. Problems are collected per scenario and reported
 * together with the first k that showed them. It must not look at the core's internals nor relax
 * a check to make a run pass.
 */
#include "helpers/test_common.h"
#include "helpers/scripted_broker.h"

/* ---- one run of a scenario ------------------------------------------------------------------ */

enum ack_mode {
    ACK_ALL,    /* the broker answers everything */
    ACK_NONE,   /* the broker holds every acknowledgement */
    ACK_PUBREC, /* QoS 2 PUBLISH gets PUBREC; nothing else is acknowledged */
};

#define MAX_ALIAS 16

typedef struct run {
    sb *b;
    const char *scenario;
    size_t k;         /* the failing allocation, 0 = none */
    const char *step; /* the step running now */

    /* state at the start of the step */
    size_t fails_at, events_at, completions_at, cb_nomem_at;
    size_t peak;      /* last memory_peak seen */
    size_t cb_nomem;  /* MQTT5_ERR_NOMEM returned to calls made inside callbacks */
    size_t nomem;     /* NOMEM seen by the user, all steps */
    size_t allocs;    /* allocations made by the core (read before destroy) */
    size_t failures;  /* allocations made to fail */
    bool reached_end; /* the script ran to its last step */

    /* the broker */
    enum ack_mode acks;
    bool need_connect;             /* a new connection: the next packet must be CONNECT */
    char alias[MAX_ALIAS + 1][64]; /* outbound aliases the broker has seen bound */
    uint16_t alias_granted;        /* topicAliasMaximum of the last CONNACK */
    char connect_id[64];           /* client id of the last CONNECT */
    bool connect_clean;            /* clean_start of the last CONNECT */
    size_t connects, dup_publishes, alias_only, pubrels, auths_out, disconnects;
    uint8_t last_auth_reason, last_disconnect_reason;
    size_t packet_batch[64]; /* batch of each outbound PUBLISH (big-packet checks) */
    size_t packet_len[64];
    size_t publishes_out;
} run;

/* ---- problems, collected per scenario ------------------------------------------------------- */

typedef struct problem {
    char key[96];    /* step + kind: one entry per kind of problem */
    char first[400]; /* message of the first run that showed it */
    size_t first_k, runs;
} problem;

static problem g_problems[32];
static size_t g_problem_count;
static run *g_run;               /* for the on_auth callback */
static const char *g_step;       /* step of the running run, for the teardown */
static const char *g_sweep_name; /* set while a sweep runs */
static size_t g_sweep_k;

/* Records a problem once per (step, kind); kinds starting with '*' are keyed without the step. */
static void report(run *r, const char *kind, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void report(run *r, const char *kind, const char *fmt, ...)
{
    char key[96], msg[320];
    if (kind[0] == '*')
        snprintf(key, sizeof(key), "%s", kind + 1);
    else
        snprintf(key, sizeof(key), "%s / %s", r->step ? r->step : "-", kind);
    for (size_t i = 0; i < g_problem_count; i++) {
        if (strcmp(g_problems[i].key, key) == 0) {
            g_problems[i].runs++;
            return;
        }
    }
    if (g_problem_count == COUNT_OF(g_problems)) return;
    problem *p = &g_problems[g_problem_count++];
    snprintf(p->key, sizeof(p->key), "%s", key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (kind[0] == '*')
        snprintf(p->first, sizeof(p->first), "in step \"%s\": %s", r->step ? r->step : "-", msg);
    else
        snprintf(p->first, sizeof(p->first), "%s", msg);
    p->first_k = r->k;
    p->runs = 1;
}

static void print_problems(void)
{
    for (size_t i = 0; i < g_problem_count; i++)
        print_message("  problem: [%s] first at k=%zu (%zu runs): %s\n", g_problems[i].key,
                      g_problems[i].first_k, g_problems[i].runs, g_problems[i].first);
}

/* A check of the script itself: only the run without failures must get this far. */
static void expect0(run *r, bool ok, const char *what)
{
    if (r->k == 0 && !ok) report(r, what, "without any failure: %s", what);
}

/* ---- steps ---------------------------------------------------------------------------------- */

static mqtt5_client_state cstate(run *r)
{
    return mqtt5_client_core_state(sb_core(r->b));
}

static void check_stats(run *r)
{
    mqtt5_client_stats s;
    mqtt5_client_core_stats(sb_core(r->b), &s);
    const test_allocator *t = sb_allocator(r->b);
    if (s.memory_in_use != t->live_bytes)
        report(r, "*stats.memory_in_use != allocator",
               "stats.memory_in_use %zu but the allocator has %zu bytes out", s.memory_in_use,
               t->live_bytes);
    if (s.memory_peak < r->peak)
        report(r, "*stats.memory_peak decreased", "stats.memory_peak went down from %zu to %zu",
               r->peak, s.memory_peak);
    if (s.memory_peak < s.memory_in_use)
        report(r, "*stats.memory_peak < memory_in_use", "stats.memory_peak %zu < memory_in_use %zu",
               s.memory_peak, s.memory_in_use);
    if (s.memory_peak > r->peak) r->peak = s.memory_peak;
}

static void begin(run *r, const char *step)
{
    r->step = g_step = step;
    r->fails_at = sb_allocator(r->b)->failures;
    r->events_at = sb_event_count(r->b);
    r->completions_at = sb_completion_count(r->b);
    r->cb_nomem_at = r->cb_nomem;
}

/* Ends a step; `rc` is what the user call of the step returned (0 if it made none). */
static void end(run *r, int rc)
{
    sb *b = r->b;
    size_t surfaced = rc == MQTT5_ERR_NOMEM ? 1 : 0;
    surfaced += r->cb_nomem - r->cb_nomem_at;
    for (size_t i = r->completions_at; i < sb_completion_count(b); i++)
        if (sb_completion_at(b, i)->error == MQTT5_ERR_NOMEM) surfaced++;
    for (size_t i = r->events_at; i < sb_event_count(b); i++) {
        const sb_event *e = sb_event_at(b, i);
        if ((e->type == MQTT5_LC_CONNECTION_FAILURE || e->type == MQTT5_LC_DISCONNECTION) &&
            e->error == MQTT5_ERR_NOMEM)
            surfaced++;
    }
    bool failed = sb_allocator(b)->failures > r->fails_at;
    if (failed && surfaced == 0)
        report(r, "silent",
               "allocation #%zu failed in this step but no MQTT5_ERR_NOMEM reached "
               "the user (call returned %s)",
               r->k, rc ? mqtt5_error_name(rc) : "0");
    if (!failed && surfaced)
        report(r, "spurious", "MQTT5_ERR_NOMEM reached the user but no allocation failed here");
    r->nomem += surfaced;
    check_stats(r);
}

/* ---- the broker ----------------------------------------------------------------------------- */

static bool can_send(run *r)
{
    return sb_transport_is_open(r->b);
}

static void send_ack(run *r, mqtt5_packet_type type, uint16_t id)
{
    mqtt5_packet p = {.type = type};
    p.u.ack.packet_id = id;
    if (can_send(r)) sb_send(r->b, &p);
}

static void copy_str(char *dst, size_t cap, mqtt5_str s)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    if (n) memcpy(dst, s.ptr, n);
    dst[n] = '\0';
}

/* What a strict server checks in our PUBLISH: aliases bound before use, within its maximum. */
static void check_publish_out(run *r, const sb_packet *k)
{
    const mqtt5_publish *p = &k->p.u.publish;
    if (r->publishes_out < COUNT_OF(r->packet_batch)) {
        r->packet_batch[r->publishes_out] = k->batch;
        r->packet_len[r->publishes_out] = k->len;
    }
    r->publishes_out++;
    if (p->dup) r->dup_publishes++;
    if (!MQTT5_PROPS_HAS(&p->properties, MQTT5_PROP_TOPIC_ALIAS)) return;
    uint16_t a = p->properties.topic_alias;
    if (a == 0 || a > r->alias_granted || a > MAX_ALIAS) {
        report(r, "alias above maximum", "PUBLISH with alias %u, server maximum %u", a,
               r->alias_granted);
        return;
    }
    if (p->topic.len > 0) {
        copy_str(r->alias[a], sizeof(r->alias[a]), p->topic);
        return;
    }
    r->alias_only++;
    if (r->alias[a][0] == '\0')
        report(r, "unbound alias",
               "alias-only PUBLISH with alias %u, which was never bound on this connection (the "
               "server answers DISCONNECT 0x82)",
               a);
}

static void answer_subscribe(run *r, const mqtt5_packet *in)
{
    uint8_t codes[16];
    size_t n = 0;
    mqtt5_packet p = {.type = in->type == MQTT5_SUBSCRIBE ? MQTT5_SUBACK : MQTT5_UNSUBACK};
    if (in->type == MQTT5_SUBSCRIBE) {
        p.u.suback.packet_id = in->u.subscribe.packet_id;
        mqtt5_iter it = {0, 0};
        mqtt5_subscription s;
        while (n < COUNT_OF(codes) && mqtt5_subscribe_next(&in->u.subscribe, &it, &s))
            codes[n++] = s.qos;
    } else {
        p.u.suback.packet_id = in->u.unsubscribe.packet_id;
        for (; n < in->u.unsubscribe.topic_filter_count && n < COUNT_OF(codes); n++)
            codes[n] = 0;
    }
    p.u.suback.reason_codes = codes;
    p.u.suback.reason_code_count = n;
    if (can_send(r)) sb_send(r->b, &p);
}

/* Reads everything the client wrote and answers it per r->acks (CONNECT and AUTH are left to
 * the scenario). */
static void pump(run *r)
{
    for (size_t guard = 0; guard < 10000; guard++) {
        const sb_packet *k = sb_next_packet(r->b);
        if (k == NULL) return;
        mqtt5_packet in = k->p; /* views stay valid: they point into k->raw */
        if (r->need_connect && in.type != MQTT5_CONNECT)
            report(r, "not CONNECT first", "the first packet on a connection is %s, not CONNECT",
                   mqtt5_packet_type_name(in.type));
        switch (in.type) {
        case MQTT5_CONNECT:
            r->need_connect = false;
            r->connects++;
            r->connect_clean = in.u.connect.clean_start;
            copy_str(r->connect_id, sizeof(r->connect_id), in.u.connect.client_id);
            memset(r->alias, 0, sizeof(r->alias));
            r->alias_granted = 0;
            break;
        case MQTT5_PUBLISH:
            check_publish_out(r, k);
            if (in.u.publish.qos == 1 && r->acks == ACK_ALL)
                send_ack(r, MQTT5_PUBACK, in.u.publish.packet_id);
            if (in.u.publish.qos == 2 && r->acks != ACK_NONE)
                send_ack(r, MQTT5_PUBREC, in.u.publish.packet_id);
            break;
        case MQTT5_PUBREL:
            r->pubrels++;
            if (r->acks == ACK_ALL) send_ack(r, MQTT5_PUBCOMP, in.u.ack.packet_id);
            break;
        case MQTT5_SUBSCRIBE:
        case MQTT5_UNSUBSCRIBE:
            if (r->acks == ACK_ALL) answer_subscribe(r, &in);
            break;
        case MQTT5_PINGREQ: {
            mqtt5_packet p = {.type = MQTT5_PINGRESP};
            if (can_send(r)) sb_send(r->b, &p);
            break;
        }
        case MQTT5_AUTH:
            r->auths_out++;
            r->last_auth_reason = in.u.auth.reason_code;
            break;
        case MQTT5_DISCONNECT:
            r->disconnects++;
            r->last_disconnect_reason = in.u.disconnect.reason_code;
            r->need_connect = true;
            break;
        default:
            break;
        }
    }
}

/* Drive the client for `ms` of virtual time, answering as the broker. */
static void run_for(run *r, uint64_t ms)
{
    sb_advance(r->b, ms);
    pump(r);
}

static void settle(run *r)
{
    sb_settle(r->b);
    pump(r);
}

/* The broker drops the connection (no DISCONNECT). */
static void server_close(run *r)
{
    pump(r);
    if (!can_send(r)) return;
    sb_close(r->b, MQTT5_ERR_CONNECTION_CLOSED);
    r->need_connect = true;
    pump(r);
}

/* Start if stopped, wait up to `wait_ms` for a CONNECT, answer CONNACK. True when connected. */
static bool connect_with(run *r, const char *step, uint64_t wait_ms, bool session_present,
                         const mqtt5_properties *props)
{
    begin(r, step);
    if (cstate(r) == MQTT5_CS_STOPPED) mqtt5_client_core_start(sb_core(r->b), sb_now(r->b));
    size_t before = r->connects;
    if (wait_ms)
        run_for(r, wait_ms);
    else
        settle(r);
    if (r->connects > before && can_send(r) && cstate(r) == MQTT5_CS_MQTT_CONNECT) {
        mqtt5_properties none = {0};
        r->alias_granted = props && MQTT5_PROPS_HAS(props, MQTT5_PROP_TOPIC_ALIAS_MAXIMUM)
                               ? props->topic_alias_maximum
                               : 0;
        sb_connack(r->b, 0, session_present, props ? props : &none);
        pump(r);
    }
    end(r, 0);
    return cstate(r) == MQTT5_CS_CONNECTED;
}

static int publish(run *r, const char *topic, uint8_t qos, const char *payload,
                   const mqtt5_properties *props)
{
    mqtt5_publish p = {.qos = qos};
    p.topic = (mqtt5_str){topic, strlen(topic)};
    p.payload = (mqtt5_bytes){(const uint8_t *)payload, strlen(payload)};
    if (props) p.properties = *props;
    return sb_publish(r->b, &p, NULL, NULL);
}

/* One step: publish, let it go out, broker answers. */
static int publish_step(run *r, const char *step, const char *topic, uint8_t qos,
                        const char *payload, const mqtt5_properties *props)
{
    begin(r, step);
    int rc = publish(r, topic, qos, payload, props);
    settle(r);
    end(r, rc);
    return rc;
}

static int stop_step(run *r, const char *step, const mqtt5_disconnect *d)
{
    begin(r, step);
    mqtt5_codec_status st = {0};
    int rc = mqtt5_client_core_stop(sb_core(r->b), sb_now(r->b), d, &st);
    settle(r);
    end(r, rc);
    return rc;
}

/* Server PUBLISH to the client. */
static void inbound(run *r, const char *topic, uint8_t qos, uint16_t id, uint16_t alias,
                    const char *payload)
{
    mqtt5_packet p = {.type = MQTT5_PUBLISH};
    p.u.publish.qos = qos;
    p.u.publish.packet_id = id;
    p.u.publish.topic = (mqtt5_str){topic, strlen(topic)};
    p.u.publish.payload = (mqtt5_bytes){(const uint8_t *)payload, strlen(payload)};
    if (alias) {
        MQTT5_PROPS_SET(&p.u.publish.properties, MQTT5_PROP_TOPIC_ALIAS);
        p.u.publish.properties.topic_alias = alias;
    }
    if (can_send(r) && cstate(r) == MQTT5_CS_CONNECTED) sb_send(r->b, &p);
    pump(r);
}

/* ---- run bookkeeping ------------------------------------------------------------------------ */

/* Creates the harness with the k-th allocation failing; false if core_new failed. */
static bool open_run(run *r, const mqtt5_client_core_options *o)
{
    int err = 0;
    r->need_connect = true;
    r->step = g_step = "mqtt5_client_core_new";
    r->b = sb_new_failing(o, r->k, &err);
    if (r->b == NULL) {
        /* sb_new_failing checked that nothing leaked and *out stayed NULL */
        if (err != MQTT5_ERR_NOMEM)
            report(r, "core_new error", "core_new failed with %s, not MQTT5_ERR_NOMEM",
                   mqtt5_error_name(err));
        else
            r->nomem++;
        r->failures = 1;
        r->reached_end = false;
        return false;
    }
    g_run = r;
    r->fails_at = r->events_at = r->completions_at = 0;
    r->cb_nomem_at = 0;
    end(r, err);
    return true;
}

static void finish(run *r)
{
    r->step = "destroy";
    r->allocs = sb_allocator(r->b)->allocations;
    r->failures = sb_allocator(r->b)->failures;
    check_stats(r);
    sb_free(r->b); /* destroy: every op completed once, lifecycle balanced, nothing leaked */
    r->b = NULL;
    g_run = NULL;
}

/* ---- scenario 1: connect with a will and user properties, assigned id, stop/start ---------- */

static const mqtt5_user_property will_props[] = {{SI("who"), SI("me")}, {SI("why"), SI("test")}};
static const mqtt5_user_property connect_props[] = {{SI("app"), SI("memory-sweep")}};
static const mqtt5_user_property op_props[] = {{SI("trace"), SI("abc123")}, {SI("hop"), SI("1")}};

static void will_options(mqtt5_client_core_options *o)
{
    sb_options_default(o);
    o->session_behavior = MQTT5_SESSION_REJOIN_POST_SUCCESS;
    mqtt5_connect *c = &o->connect;
    c->client_id = S(""); /* the server assigns one */
    c->has_username = true;
    c->username = S("user");
    c->has_password = true;
    c->password = B("secret");
    c->has_will = true;
    c->will.topic = S("clients/will");
    c->will.payload = B("gone");
    c->will.qos = 1;
    MQTT5_PROPS_SET(&c->will.properties, MQTT5_PROP_WILL_DELAY_INTERVAL);
    c->will.properties.will_delay_interval = 5;
    MQTT5_PROPS_SET(&c->will.properties, MQTT5_PROP_CONTENT_TYPE);
    c->will.properties.content_type = S("text/plain");
    c->will.properties.user_properties = will_props;
    c->will.properties.user_property_count = COUNT_OF(will_props);
    MQTT5_PROPS_SET(&c->properties, MQTT5_PROP_SESSION_EXPIRY_INTERVAL);
    c->properties.session_expiry_interval = 300;
    c->properties.user_properties = connect_props;
    c->properties.user_property_count = COUNT_OF(connect_props);
}

static mqtt5_properties rich_props(void)
{
    mqtt5_properties p = {0};
    MQTT5_PROPS_SET(&p, MQTT5_PROP_RESPONSE_TOPIC);
    p.response_topic = S("reply/here");
    MQTT5_PROPS_SET(&p, MQTT5_PROP_CORRELATION_DATA);
    p.correlation_data = B("corr-1");
    MQTT5_PROPS_SET(&p, MQTT5_PROP_CONTENT_TYPE);
    p.content_type = S("application/json");
    p.user_properties = op_props;
    p.user_property_count = COUNT_OF(op_props);
    return p;
}

static mqtt5_disconnect rich_disconnect(uint8_t reason)
{
    mqtt5_disconnect d = {.reason_code = reason};
    MQTT5_PROPS_SET(&d.properties, MQTT5_PROP_REASON_STRING);
    d.properties.reason_string = S("shutting down");
    MQTT5_PROPS_SET(&d.properties, MQTT5_PROP_SESSION_EXPIRY_INTERVAL);
    d.properties.session_expiry_interval = 0;
    d.properties.user_properties = op_props;
    d.properties.user_property_count = COUNT_OF(op_props);
    return d;
}

/* Stop with DISCONNECT `reason` (properties need a copy) while connected: the DISCONNECT must go
 * out unless stop() reported the failure. */
static void stop_with_disconnect(run *r, const char *step, uint8_t reason)
{
    bool was_connected = cstate(r) == MQTT5_CS_CONNECTED;
    size_t before = r->disconnects;
    mqtt5_disconnect d = rich_disconnect(reason);
    int rc = stop_step(r, step, &d);
    if (was_connected && rc == 0 &&
        (r->disconnects == before || r->last_disconnect_reason != reason))
        report(r, "DISCONNECT lost",
               "stop() with DISCONNECT 0x%02x returned 0 while connected, but the DISCONNECT "
               "never went out (the server sees an abnormal close)",
               reason);
    expect0(r, rc == 0 && r->disconnects == before + 1, "stop sends DISCONNECT");
}

static void scenario_connect_stop_start(run *r)
{
    mqtt5_client_core_options o;
    will_options(&o);
    if (!open_run(r, &o)) return;
    mqtt5_properties ca = {0};
    MQTT5_PROPS_SET(&ca, MQTT5_PROP_ASSIGNED_CLIENT_IDENTIFIER);
    ca.assigned_client_identifier = S("assigned-0001");
    bool up = connect_with(r, "connect (will, user properties, assigned id)", 0, false, &ca);
    expect0(r, up, "first connection succeeds");
    mqtt5_negotiated_settings s;
    if (up && mqtt5_client_core_settings(sb_core(r->b), &s) &&
        !(s.client_id.len == 13 && memcmp(s.client_id.ptr, "assigned-0001", 13) == 0))
        report(r, "assigned id lost",
               "CONNECTION_SUCCESS settings.client_id is \"%.*s\", not the "
               "assigned \"assigned-0001\"",
               (int)s.client_id.len, s.client_id.ptr ? s.client_id.ptr : "");

    mqtt5_properties pp = rich_props();
    publish_step(r, "publish QoS 1 with user properties", "t/one", 1, "hello", &pp);

    begin(r, "server drops, client reconnects with the assigned id");
    server_close(r);
    run_for(r, 2500);
    end(r, 0);
    if (up && r->connects == 2 && strcmp(r->connect_id, "assigned-0001") != 0)
        report(r, "reconnect id",
               "the reconnect's CONNECT carries client id \"%s\", not the "
               "assigned \"assigned-0001\" (session silently lost)",
               r->connect_id);
    if (cstate(r) == MQTT5_CS_MQTT_CONNECT && can_send(r)) {
        begin(r, "CONNACK resumes the session");
        sb_connack(r->b, 0, !r->connect_clean, NULL);
        pump(r);
        end(r, 0);
    }
    expect0(r, cstate(r) == MQTT5_CS_CONNECTED, "reconnected");

    r->acks = ACK_NONE;
    publish_step(r, "publish QoS 1, held", "t/held", 1, "held", &pp);
    stop_with_disconnect(r, "stop with DISCONNECT 0x04 and properties", 0x04);
    expect0(r, cstate(r) == MQTT5_CS_STOPPED, "stopped");

    publish_step(r, "publish QoS 1 while stopped (queued)", "t/offline", 1, "queued", &pp);
    begin(r, "subscribe while stopped (queued)");
    mqtt5_subscription subs[] = {{.topic_filter = S("cmd/#"), .qos = 1}};
    mqtt5_subscribe sub = {.subscriptions = subs, .subscription_count = 1};
    end(r, sb_subscribe(r->b, &sub, NULL, NULL));

    r->acks = ACK_ALL;
    up = connect_with(r, "start again, queued operations go out", 0, false, NULL);
    expect0(r, up, "connected after start");
    stop_with_disconnect(r, "stop with DISCONNECT 0x00 and properties", 0x00);

    begin(r, "start, stop while waiting for CONNACK");
    mqtt5_client_core_start(sb_core(r->b), sb_now(r->b));
    settle(r);
    mqtt5_disconnect d = rich_disconnect(0x00);
    mqtt5_codec_status st = {0};
    int rc = mqtt5_client_core_stop(sb_core(r->b), sb_now(r->b), &d, &st);
    settle(r);
    end(r, rc);

    up = connect_with(r, "start, connect, destroy with an operation pending", 0, false, NULL);
    r->acks = ACK_NONE;
    publish_step(r, "publish QoS 2, held until destroy", "t/pending", 2, "x", &pp);
    r->reached_end = true;
    finish(r);
}

/* ---- scenario 2: subscribe, QoS 0/1/2 out and in --------------------------------------------- */

static void scenario_qos(run *r)
{
    mqtt5_client_core_options o;
    sb_options_default(&o);
    if (!open_run(r, &o)) return;
    bool up = connect_with(r, "connect", 0, false, NULL);
    expect0(r, up, "connected");

    begin(r, "subscribe two filters with user properties");
    mqtt5_subscription subs[] = {{.topic_filter = S("in/#"), .qos = 2},
                                 {.topic_filter = S("other/+"), .qos = 1}};
    mqtt5_subscribe sub = {.subscriptions = subs, .subscription_count = 2};
    sub.properties.user_properties = op_props;
    sub.properties.user_property_count = COUNT_OF(op_props);
    int rc = sb_subscribe(r->b, &sub, NULL, NULL);
    settle(r);
    end(r, rc);

    mqtt5_properties pp = rich_props();
    publish_step(r, "publish QoS 0", "out/zero", 0, "p0", &pp);
    publish_step(r, "publish QoS 1", "out/one", 1, "p1", &pp);
    publish_step(r, "publish QoS 2", "out/two", 2, "p2", &pp);

    begin(r, "three publishes queued together");
    int rc0 = publish(r, "out/a", 0, "a", NULL);
    int rc1 = publish(r, "out/b", 1, "b", &pp);
    int rc2 = publish(r, "out/c", 2, "c", NULL);
    settle(r);
    end(r, rc0 ? rc0 : rc1 ? rc1 : rc2);

    begin(r, "inbound QoS 0, 1, 2 and PUBREL");
    inbound(r, "in/zero", 0, 0, 0, "i0");
    inbound(r, "in/one", 1, 7, 0, "i1");
    inbound(r, "in/two", 2, 8, 0, "i2");
    inbound(r, "in/two", 2, 8, 0, "i2"); /* duplicate before PUBREL: not delivered again */
    if (can_send(r) && cstate(r) == MQTT5_CS_CONNECTED) send_ack(r, MQTT5_PUBREL, 8);
    pump(r);
    end(r, 0);
    expect0(r, sb_received_count(r->b) == 3, "three inbound publishes delivered");

    begin(r, "unsubscribe");
    mqtt5_str filters[] = {S("other/+")};
    mqtt5_unsubscribe un = {.topic_filters = filters, .topic_filter_count = 1};
    rc = sb_unsubscribe(r->b, &un, NULL, NULL);
    settle(r);
    end(r, rc);

    stop_step(r, "stop without DISCONNECT", NULL);
    size_t ok = 0;
    for (size_t i = 0; i < sb_completion_count(r->b); i++)
        ok += sb_completion_at(r->b, i)->error == 0;
    expect0(r, ok == 8, "eight operations completed without error");
    r->reached_end = true;
    finish(r);
}

/* ---- scenario 3: inbound topic aliases, outbound LRU aliases --------------------------------- */

typedef struct expect_in {
    const char *payload, *topic;
} expect_in;

static const expect_in alias_in_expect[] = {
    {"i1", "room/1"}, {"i2", "room/1"}, {"i3", "room/2"},
    {"i4", "room/3"}, {"i5", "room/3"}, {"i6", "room/2"},
};

/* Every delivered message has the topic the server bound to its alias. */
static void check_inbound_topics(run *r)
{
    for (size_t i = 0; i < sb_received_count(r->b); i++) {
        const sb_received *m = sb_received_at(r->b, i);
        for (size_t j = 0; j < COUNT_OF(alias_in_expect); j++) {
            const expect_in *e = &alias_in_expect[j];
            if (m->publish.payload.len != 2 || memcmp(m->publish.payload.ptr, e->payload, 2))
                continue;
            if (m->publish.topic.len != strlen(e->topic) ||
                memcmp(m->publish.topic.ptr, e->topic, m->publish.topic.len) != 0)
                report(r, "inbound alias topic", "message %s delivered on \"%.*s\", want \"%s\"",
                       e->payload, (int)m->publish.topic.len, m->publish.topic.ptr, e->topic);
        }
    }
}

static void scenario_aliases(run *r)
{
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.alias_in = MQTT5_ALIAS_IN_ENABLED;
    o.alias_in_max = 4;
    o.alias_out = MQTT5_ALIAS_OUT_LRU;
    o.alias_out_cache = 2;
    if (!open_run(r, &o)) return;
    mqtt5_properties ca = {0};
    MQTT5_PROPS_SET(&ca, MQTT5_PROP_TOPIC_ALIAS_MAXIMUM);
    ca.topic_alias_maximum = 2;
    bool up = connect_with(r, "connect (alias in 4, out LRU 2)", 0, false, &ca);
    expect0(r, up, "connected");

    static const char *const topics[] = {"sensors/a", "sensors/b", "sensors/a",
                                         "sensors/c", "sensors/b", "a/b"};
    static const char *const steps[] = {"LRU: bind sensors/a",      "LRU: bind sensors/b",
                                        "LRU: hit sensors/a",       "LRU: evict for sensors/c",
                                        "LRU: evict for sensors/b", "LRU: short topic a/b"};
    for (size_t i = 0; i < COUNT_OF(topics); i++)
        publish_step(r, steps[i], topics[i], i % 2 ? 1 : 0, "v", NULL);
    expect0(r, r->alias_only == 1, "one alias-only publish");

    begin(r, "LRU: four publishes in one batch");
    int rc = 0;
    for (size_t i = 0; i < 4; i++) {
        int one = publish(r, i % 2 ? "sensors/d" : "sensors/e", 0, "w", NULL);
        if (!rc) rc = one;
    }
    settle(r);
    end(r, rc);

    static const struct {
        const char *topic;
        uint16_t alias;
        const char *payload;
        const char *step;
    } in[] = {
        {"room/1", 1, "i1", "inbound: bind alias 1"},
        {"", 1, "i2", "inbound: alias 1 only"},
        {"room/2", 2, "i3", "inbound: bind alias 2"},
        {"room/3", 1, "i4", "inbound: rebind alias 1"},
        {"", 1, "i5", "inbound: alias 1 only again"},
        {"", 2, "i6", "inbound: alias 2 only"},
    };
    for (size_t i = 0; i < COUNT_OF(in); i++) {
        begin(r, in[i].step);
        inbound(r, in[i].topic, 1, (uint16_t)(20 + i), in[i].alias, in[i].payload);
        end(r, 0);
    }
    check_inbound_topics(r);
    expect0(r, sb_received_count(r->b) == COUNT_OF(in), "six inbound publishes delivered");

    begin(r, "reconnect: bindings reset");
    server_close(r);
    end(r, 0);
    up = connect_with(r, "reconnect CONNACK (alias max 2)", 2500, false, &ca);
    expect0(r, up, "reconnected");
    publish_step(r, "LRU after reconnect: sensors/a sends its topic", "sensors/a", 0, "v", NULL);
    publish_step(r, "LRU after reconnect: sensors/a alias only", "sensors/a", 1, "v", NULL);
    begin(r, "inbound after reconnect: bind alias 1");
    inbound(r, "room/1", 0, 0, 1, "i1");
    end(r, 0);
    check_inbound_topics(r);

    stop_step(r, "stop", NULL);
    r->reached_end = true;
    finish(r);
}

/* ---- scenario 4: reconnect with a resumed session, resends ----------------------------------- */

static void scenario_resume(run *r)
{
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.session_behavior = MQTT5_SESSION_REJOIN_POST_SUCCESS;
    if (!open_run(r, &o)) return;
    bool up = connect_with(r, "connect", 0, false, NULL);
    expect0(r, up, "connected");

    r->acks = ACK_PUBREC; /* QoS 2 gets past PUBREC; nothing completes */
    mqtt5_properties pp = rich_props();
    publish_step(r, "QoS 1 in flight", "r/1", 1, "one", &pp);
    publish_step(r, "QoS 2 past PUBREC", "r/2", 2, "two", &pp);
    begin(r, "SUBSCRIBE in flight");
    mqtt5_subscription subs[] = {{.topic_filter = S("s/#"), .qos = 1}};
    mqtt5_subscribe sub = {.subscriptions = subs, .subscription_count = 1};
    int rc = sb_subscribe(r->b, &sub, NULL, NULL);
    settle(r);
    end(r, rc);
    publish_step(r, "QoS 0 completes at hand-out", "r/0", 0, "zero", NULL);

    begin(r, "server drops the connection");
    server_close(r);
    end(r, 0);
    publish_step(r, "QoS 1 while offline (kept)", "r/4", 1, "four", &pp);
    begin(r, "QoS 0 while offline (refused by the policy)");
    rc = publish(r, "r/5", 0, "five", NULL);
    end(r, rc);
    expect0(r, rc == MQTT5_ERR_OFFLINE_POLICY, "QoS 0 offline refused");

    r->acks = ACK_ALL;
    size_t dups = r->dup_publishes, pubrels = r->pubrels;
    up = connect_with(r, "reconnect, session resumed: DUP resends and PUBREL", 2500, true, NULL);
    expect0(r, up, "reconnected");
    expect0(r, r->dup_publishes == dups + 1, "QoS 1 resent with DUP");
    expect0(r, r->pubrels == pubrels + 1, "PUBREL resent");

    r->acks = ACK_NONE;
    publish_step(r, "QoS 1 in flight before a second drop", "r/6", 1, "six", &pp);
    begin(r, "second drop");
    server_close(r);
    end(r, 0);
    r->acks = ACK_ALL;
    dups = r->dup_publishes;
    up = connect_with(r, "reconnect, session not resumed: new messages", 2500, false, NULL);
    expect0(r, up, "reconnected again");
    expect0(r, r->dup_publishes == dups, "no DUP on a new session");

    stop_step(r, "stop", NULL);
    size_t ok = 0;
    for (size_t i = 0; i < sb_completion_count(r->b); i++)
        ok += sb_completion_at(r->b, i)->error == 0;
    expect0(r, ok == 6, "six operations completed without error");
    r->reached_end = true;
    finish(r);
}

/* ---- scenario 5: enhanced authentication ----------------------------------------------------- */

static bool g_auth_reply; /* on_auth answers AUTH 0x18 from inside the callback */
static size_t g_auth_calls;

static void mem_on_auth(void *user, const mqtt5_disconnect *a)
{
    sb *b = user;
    run *r = g_run;
    g_auth_calls++;
    if (a->reason_code != 0x18 || !g_auth_reply || r == NULL) return;
    mqtt5_properties p = {0};
    MQTT5_PROPS_SET(&p, MQTT5_PROP_AUTHENTICATION_DATA);
    p.authentication_data = B("response");
    mqtt5_codec_status st = {0};
    int rc = mqtt5_client_core_auth(sb_core(b), sb_now(b), 0x18, &p, &st);
    if (rc == MQTT5_ERR_NOMEM) r->cb_nomem++;
    /* other results are caught by the script: no AUTH reaches the broker */
}

static void server_auth(run *r, uint8_t reason, const char *data)
{
    mqtt5_packet p = {.type = MQTT5_AUTH};
    p.u.auth.reason_code = reason;
    MQTT5_PROPS_SET(&p.u.auth.properties, MQTT5_PROP_AUTHENTICATION_METHOD);
    p.u.auth.properties.authentication_method = S("SCRAM");
    if (data) {
        MQTT5_PROPS_SET(&p.u.auth.properties, MQTT5_PROP_AUTHENTICATION_DATA);
        p.u.auth.properties.authentication_data =
            (mqtt5_bytes){(const uint8_t *)data, strlen(data)};
    }
    if (can_send(r)) sb_send(r->b, &p);
    pump(r);
}

static int reauth(run *r)
{
    mqtt5_properties p = {0};
    MQTT5_PROPS_SET(&p, MQTT5_PROP_AUTHENTICATION_DATA);
    p.authentication_data = B("re1");
    mqtt5_codec_status st = {0};
    return mqtt5_client_core_auth(sb_core(r->b), sb_now(r->b), 0x19, &p, &st);
}

static void scenario_auth(run *r)
{
    mqtt5_client_core_options o;
    sb_options_default(&o);
    MQTT5_PROPS_SET(&o.connect.properties, MQTT5_PROP_AUTHENTICATION_METHOD);
    o.connect.properties.authentication_method = S("SCRAM");
    MQTT5_PROPS_SET(&o.connect.properties, MQTT5_PROP_AUTHENTICATION_DATA);
    o.connect.properties.authentication_data = B("init");
    o.callbacks.on_auth = mem_on_auth;
    g_auth_reply = true;
    g_auth_calls = 0;
    if (!open_run(r, &o)) return;

    begin(r, "CONNECT, server AUTH 0x18, client answers from on_auth");
    mqtt5_client_core_start(sb_core(r->b), sb_now(r->b));
    settle(r);
    size_t auths = r->auths_out;
    if (r->connects == 1 && cstate(r) == MQTT5_CS_MQTT_CONNECT) server_auth(r, 0x18, "chal1");
    end(r, 0);
    bool answered = r->auths_out == auths + 1 && r->last_auth_reason == 0x18;
    expect0(r, answered, "AUTH 0x18 answered before CONNACK");
    if (answered && cstate(r) == MQTT5_CS_MQTT_CONNECT) {
        begin(r, "CONNACK after the AUTH round");
        sb_connack(r->b, 0, false, NULL);
        pump(r);
        end(r, 0);
    } else {
        begin(r, "no answer: CONNACK timeout");
        run_for(r, 21000);
        end(r, 0);
    }

    if (cstate(r) == MQTT5_CS_CONNECTED) {
        begin(r, "re-authentication: AUTH 0x19");
        auths = r->auths_out;
        int rc = reauth(r);
        settle(r);
        end(r, rc);
        if (rc == MQTT5_ERR_NOMEM) {
            begin(r, "re-authentication retried after NOMEM");
            rc = reauth(r);
            settle(r);
            end(r, rc);
            if (rc != 0)
                report(r, "retry", "auth(0x19) retried after NOMEM returned %s",
                       mqtt5_error_name(rc));
        }
        expect0(r, rc == 0 && r->auths_out == auths + 1, "AUTH 0x19 sent");
        if (r->auths_out > auths && r->last_auth_reason == 0x19) {
            begin(r, "re-authentication: server AUTH 0x18, client answers");
            auths = r->auths_out;
            server_auth(r, 0x18, "chal2");
            end(r, 0);
            expect0(r, r->auths_out == auths + 1, "AUTH 0x18 answered while connected");
            begin(r, "re-authentication: server AUTH 0x00");
            if (r->auths_out > auths && cstate(r) == MQTT5_CS_CONNECTED) server_auth(r, 0x00, NULL);
            end(r, 0);
        }
        mqtt5_properties pp = rich_props();
        publish_step(r, "publish after re-authentication", "auth/ok", 1, "ok", &pp);
        expect0(r, cstate(r) == MQTT5_CS_CONNECTED, "still connected after re-authentication");
        stop_with_disconnect(r, "stop with DISCONNECT after AUTH", 0x00);
    } else {
        stop_step(r, "stop after a failed AUTH round", NULL);
    }
    r->reached_end = true;
    finish(r);
}

/* ---- scenario 6: a big packet goes out alone ------------------------------------------------- */

static char g_big_payload[1200];
static char g_big_will[300];

/* Outbound PUBLISH i (0-based) shared its batch with another packet. */
static bool shares_batch(const run *r, size_t i)
{
    for (size_t j = 0; j < r->publishes_out && j < COUNT_OF(r->packet_batch); j++)
        if (j != i && r->packet_batch[j] == r->packet_batch[i]) return true;
    return false;
}

static void scenario_big(run *r)
{
    mqtt5_client_core_options o;
    sb_options_default(&o);
    o.write_batch_size = 256;
    o.alias_out = MQTT5_ALIAS_OUT_LRU;
    o.alias_out_cache = 4;
    memset(g_big_payload, 'x', sizeof(g_big_payload) - 1);
    memset(g_big_will, 'w', sizeof(g_big_will) - 1);
    o.connect.has_will = true;
    o.connect.will.topic = S("clients/big-will");
    o.connect.will.payload = (mqtt5_bytes){(const uint8_t *)g_big_will, strlen(g_big_will)};
    if (!open_run(r, &o)) return;
    mqtt5_properties ca = {0};
    MQTT5_PROPS_SET(&ca, MQTT5_PROP_TOPIC_ALIAS_MAXIMUM);
    ca.topic_alias_maximum = 4;
    bool up = connect_with(r, "connect with a CONNECT bigger than the batch", 0, false, &ca);
    expect0(r, up, "connected");

    begin(r, "big QoS 1 then small QoS 0 on the same topic");
    size_t first = r->publishes_out;
    int rc = publish(r, "big/topic", 1, g_big_payload, NULL);
    int rc2 = publish(r, "big/topic", 0, "small", NULL);
    int rc3 = publish(r, "small/x", 0, "s", NULL);
    settle(r);
    end(r, rc ? rc : rc2 ? rc2 : rc3);
    expect0(r, r->publishes_out == first + 3 && !shares_batch(r, first),
            "the big PUBLISH went out alone");
    expect0(r, r->alias_only == 1, "the small PUBLISH used the alias alone");

    begin(r, "small, big, small queued together");
    first = r->publishes_out;
    rc = publish(r, "small/y", 0, "s", NULL);
    rc2 = publish(r, "big/other", 0, g_big_payload, NULL);
    rc3 = publish(r, "big/other", 1, "after", NULL);
    settle(r);
    end(r, rc ? rc : rc2 ? rc2 : rc3);
    expect0(r, r->publishes_out == first + 3 && !shares_batch(r, first + 1),
            "the second big PUBLISH went out alone");

    publish_step(r, "one more big QoS 2", "big/topic", 2, g_big_payload, NULL);
    stop_step(r, "stop", NULL);
    r->reached_end = true;
    finish(r);
}

/* ---- the sweep ------------------------------------------------------------------------------- */

typedef void (*scenario_fn)(run *r);

static void sweep(const char *name, scenario_fn fn)
{
    g_problem_count = 0;
    g_sweep_name = name;
    g_sweep_k = 0;
    run r0 = {.scenario = name, .k = 0};
    fn(&r0);
    size_t n = r0.allocs;
    if (!r0.reached_end) report(&r0, "script", "the run without failures did not reach its end");
    if (r0.nomem || r0.failures) report(&r0, "nomem without failure", "NOMEM without failures");
    for (size_t k = 1; k <= n; k++) {
        g_sweep_k = k;
        run r = {.scenario = name, .k = k};
        fn(&r);
        if (r.failures != 1)
            report(&r, "*not deterministic",
                   "allocation #%zu of %zu never happened (the scenario is not deterministic)", k,
                   n);
        else if (r.nomem == 0)
            report(&r, "*allocation failed, no NOMEM in the whole run",
                   "allocation #%zu failed and no NOMEM ever reached the user", k);
    }
    g_sweep_name = NULL;
    print_message("[ sweep    ] %s: N = %zu allocations, %zu runs\n", name, n, n + 1);
    if (g_problem_count == 0) return;
    print_problems();
    fail_msg("%s: %zu kind(s) of allocation-failure problem, see above", name, g_problem_count);
}

static void test_connect_stop_start(void **state)
{
    (void)state;
    sweep("connect/will/stop/start", scenario_connect_stop_start);
}

static void test_qos(void **state)
{
    (void)state;
    sweep("subscribe/qos 0-1-2 out and in", scenario_qos);
}

static void test_aliases(void **state)
{
    (void)state;
    sweep("topic aliases in and out", scenario_aliases);
}

static void test_resume(void **state)
{
    (void)state;
    sweep("resumed session resends", scenario_resume);
}

static void test_auth(void **state)
{
    (void)state;
    sweep("enhanced auth", scenario_auth);
}

static void test_big(void **state)
{
    (void)state;
    sweep("big packets alone", scenario_big);
}

/* A harness check that failed inside a run leaves the sweep mid-way: say where. */
static int sweep_teardown(void **state)
{
    (void)state;
    if (g_sweep_name) {
        print_message("  the sweep of \"%s\" stopped at k=%zu (step \"%s\"); found before:\n",
                      g_sweep_name, g_sweep_k, g_step ? g_step : "-");
        print_problems();
    }
    g_sweep_name = NULL;
    g_run = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_connect_stop_start, sweep_teardown),
        cmocka_unit_test_teardown(test_qos, sweep_teardown),
        cmocka_unit_test_teardown(test_aliases, sweep_teardown),
        cmocka_unit_test_teardown(test_resume, sweep_teardown),
        cmocka_unit_test_teardown(test_auth, sweep_teardown),
        cmocka_unit_test_teardown(test_big, sweep_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, sb_group_teardown);
}
