/*
 * helpers/sb_expect.c - the scripted broker's expectations (packets the client wrote, lifecycle
 * events, trace order) and its failure output: every failure prints what was expected, what
 * happened, the event log, the recent trace and the unread packets. Tests only: it reads the
 * recordings and never drives the core.
 */
#define _POSIX_C_SOURCE 200809L

#include "helpers/test_common.h"
#include "helpers/sb_internal.h"

static void packet_line(const sb_packet *k, char *out, size_t cap)
{
    char name[16], hex[160];
    sb_upper_packet_name(k->p.type, name, sizeof(name));
    hex_format(k->raw, k->len, hex, sizeof(hex));
    snprintf(out, cap, "@%llu batch %zu %s (%zu bytes): %s", (unsigned long long)k->time, k->batch,
             name, k->len, hex);
}

static void event_line(const sb_event *e, char *out, size_t cap)
{
    int n =
        snprintf(out, cap, "@%llu %s", (unsigned long long)e->time, sb_event_name((int)e->type));
    if (e->error != 0 && n >= 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n, " %s", mqtt5_error_name(e->error));
    if (e->has_connack && n >= 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n, " connack{rc=0x%02x sp=%d}", e->connack_reason,
                      e->session_present);
    if (e->has_disconnect && n >= 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n, " disconnect{rc=0x%02x \"%s\"}",
                      e->disconnect_reason, e->reason_string);
    if (n >= 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, " [state %s]",
                 (int)e->state < 0 ? "-" : mqtt5_client_state_name((int)e->state));
}

void sb_dump(const sb *b)
{
    char line[320];
    print_error("--- scripted broker at t=%llu: transport %s, wake_at %llu, %s\n",
                (unsigned long long)b->now,
                b->transport == SB_T_OPEN      ? "open"
                : b->transport == SB_T_OPENING ? "opening"
                                               : "closed",
                (unsigned long long)b->wake,
                b->core && !b->destroying
                    ? mqtt5_client_state_name((int)mqtt5_client_core_state(b->core))
                    : "core destroyed");
    print_error("events (%zu; checked up to #%zu):\n", b->events.count, b->event_checked);
    for (size_t i = 0; i < b->events.count; i++) {
        event_line(b->events.items[i], line, sizeof(line));
        print_error("  %c#%zu %s\n", i < b->event_checked ? ' ' : '*', i, line);
    }
    size_t from = b->trace.count > 60 ? b->trace.count - 60 : 0;
    print_error("trace (%zu entries%s):\n", b->trace.count, from ? ", last 60" : "");
    for (size_t i = from; i < b->trace.count; i++) {
        const sb_trace_entry *t = b->trace.items[i];
        print_error("  @%llu %s\n", (unsigned long long)t->time, t->what);
    }
    print_error("unread packets (%zu):\n", b->packets.count - b->packet_next);
    for (size_t i = b->packet_next; i < b->packets.count; i++) {
        packet_line(b->packets.items[i], line, sizeof(line));
        print_error("  %s\n", line);
    }
    print_error("---\n");
}

void sb_fail(const sb *b, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    print_error("scripted broker: %s\n", msg);
    sb_dump(b);
    _fail(b->file ? b->file : "?", b->line);
    abort();
}

void sb_check_violations(sb *b)
{
    if (b->violations == 0) return;
    size_t n = b->violations;
    b->violations = 0; /* report once */
    sb_fail(b, "guarantee broken inside the core (%zu time(s)); first: %s", n, b->violation);
}

const sb_packet *sb_next_packet_(sb *b)
{
    sb_check_violations(b);
    if (b->packet_next >= b->packets.count) return NULL;
    return b->packets.items[b->packet_next++];
}

const sb_packet *sb_expect_packet_(sb *b, mqtt5_packet_type type)
{
    char want[16], got[16];
    sb_upper_packet_name(type, want, sizeof(want));
    sb_check_violations(b);
    if (b->packet_next >= b->packets.count)
        sb_fail(b, "expected the client to write %s, but it wrote nothing more", want);
    const sb_packet *k = b->packets.items[b->packet_next];
    if (k->p.type != type) {
        char line[320];
        sb_upper_packet_name(k->p.type, got, sizeof(got));
        packet_line(k, line, sizeof(line));
        sb_fail(b, "expected the client to write %s, got %s\n  %s", want, got, line);
    }
    b->packet_next++;
    return k;
}

const sb_packet *sb_expect_hex_(sb *b, const char *hex)
{
    sb_check_violations(b);
    size_t n;
    const uint8_t *want = hex_bytes(hex, &n);
    if (b->packet_next >= b->packets.count)
        sb_fail(b, "expected the client to write %zu bytes (%s), but it wrote nothing more", n,
                hex);
    const sb_packet *k = b->packets.items[b->packet_next];
    if (k->len != n || memcmp(k->raw, want, n) != 0) {
        char g[512], w[512], name[16];
        size_t first = 0;
        while (first < n && first < k->len && k->raw[first] == want[first])
            first++;
        hex_format(k->raw, k->len, g, sizeof(g));
        hex_format(want, n, w, sizeof(w));
        sb_upper_packet_name(k->p.type, name, sizeof(name));
        sb_fail(b,
                "packet bytes differ (client wrote %s; first difference at byte %zu)\n"
                "  got  %3zu: %s\n  want %3zu: %s",
                name, first, k->len, g, n, w);
    }
    b->packet_next++;
    return k;
}

void sb_expect_no_packet_(sb *b)
{
    sb_check_violations(b);
    if (b->packet_next < b->packets.count)
        sb_fail(b, "expected no packet from the client, but %zu are unread",
                b->packets.count - b->packet_next);
}

/* ---- event specs ---------------------------------------------------------------------------- */

typedef struct exp_event {
    int type;
    bool has_err, has_time, has_rc;
    int err;
    uint64_t time;
    unsigned rc;
    char text[96];
} exp_event;

static bool error_by_name(const char *tok, int *out)
{
    for (int e = 0; e >= -64; e--) {
        const char *name = mqtt5_error_name(e);
        if (strcmp(name, "MQTT5_ERR_UNKNOWN") == 0) continue;
        if (strcmp(name, tok) == 0 ||
            (strncmp(name, "MQTT5_ERR_", 10) == 0 && strcmp(name + 10, tok) == 0)) {
            *out = e;
            return true;
        }
    }
    return false;
}

/* Splits `spec` at ';' and newlines into trimmed non-empty items; returns the count. */
static size_t split_items(const sb *b, const char *spec, char items[][96], size_t cap)
{
    size_t n = 0;
    const char *p = spec;
    while (*p) {
        size_t len = strcspn(p, ";\n");
        const char *s = p, *e = p + len;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > s) {
            if (n == cap) sb_fail(b, "spec has more than %zu items", cap);
            if ((size_t)(e - s) >= 96) sb_fail(b, "spec item too long: %.*s", (int)(e - s), s);
            memcpy(items[n], s, (size_t)(e - s));
            items[n][e - s] = '\0';
            n++;
        }
        p += len;
        if (*p) p++;
    }
    return n;
}

static void parse_event(const sb *b, const char *item, exp_event *x)
{
    char buf[96];
    memset(x, 0, sizeof(*x));
    snprintf(x->text, sizeof(x->text), "%.95s", item);
    snprintf(buf, sizeof(buf), "%.95s", item);
    char *save = NULL;
    char *tok = strtok_r(buf, " \t", &save);
    x->type = -1;
    for (int t = 0; t < 5; t++)
        if (strcmp(tok, sb_event_name(t)) == 0) x->type = t;
    if (x->type < 0) sb_fail(b, "bad event spec \"%s\": unknown type %s", item, tok);
    while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
        if (tok[0] == '@') {
            x->has_time = true;
            x->time = strtoull(tok + 1, NULL, 10);
        } else if (strncmp(tok, "rc=", 3) == 0) {
            x->has_rc = true;
            x->rc = (unsigned)strtoul(tok + 3, NULL, 0);
        } else if (error_by_name(tok, &x->err)) {
            x->has_err = true;
        } else {
            sb_fail(b, "bad event spec \"%s\": %s is no error name, @time or rc=", item, tok);
        }
    }
}

static bool event_matches(const exp_event *x, const sb_event *e)
{
    if ((int)e->type != x->type) return false;
    if (x->has_err && e->error != x->err) return false;
    if (x->has_time && e->time != x->time) return false;
    if (x->has_rc) {
        if (e->type == MQTT5_LC_DISCONNECTION)
            return e->has_disconnect && e->disconnect_reason == x->rc;
        return e->has_connack && e->connack_reason == x->rc;
    }
    return true;
}

void sb_expect_events_(sb *b, const char *spec)
{
    static char items[64][96];
    exp_event want[64];
    sb_check_violations(b);
    size_t n = split_items(b, spec, items, 64);
    for (size_t i = 0; i < n; i++)
        parse_event(b, items[i], &want[i]);
    size_t have = b->events.count - b->event_checked;
    bool ok = have == n;
    for (size_t i = 0; ok && i < n; i++)
        ok = event_matches(&want[i], b->events.items[b->event_checked + i]);
    if (!ok) {
        char line[320];
        print_error("scripted broker: lifecycle events differ\n  expected (%zu):\n", n);
        for (size_t i = 0; i < n; i++)
            print_error("    %s\n", want[i].text);
        print_error("  actual (%zu):\n", have);
        for (size_t i = b->event_checked; i < b->events.count; i++) {
            event_line(b->events.items[i], line, sizeof(line));
            print_error("    %s\n", line);
        }
        sb_fail(b, "lifecycle events differ (see above)");
    }
    b->event_checked = b->events.count;
}

void sb_expect_order_(sb *b, const char *spec)
{
    static char items[64][96];
    sb_check_violations(b);
    size_t n = split_items(b, spec, items, 64);
    size_t at = b->trace_checked;
    for (size_t i = 0; i < n; i++) {
        while (at < b->trace.count &&
               strcmp(((sb_trace_entry *)b->trace.items[at])->what, items[i]))
            at++;
        if (at == b->trace.count) {
            print_error("scripted broker: trace since the last order check (from #%zu):\n",
                        b->trace_checked);
            for (size_t j = b->trace_checked; j < b->trace.count; j++) {
                const sb_trace_entry *t = b->trace.items[j];
                print_error("    @%llu %s\n", (unsigned long long)t->time, t->what);
            }
            sb_fail(b, "expected order \"%s\": item %zu (%s) not found after the ones before it",
                    spec, i + 1, items[i]);
        }
        at++;
    }
    b->trace_checked = at;
}
