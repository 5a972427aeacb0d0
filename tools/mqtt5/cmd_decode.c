/*
 * tools/mqtt5/cmd_decode.c - `mqtt5 decode`: decodes MQTT 5 packets with the streaming decoder
 * and prints each as one mqtt-packet style JSON line, or an error object for a bad packet.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hex.h"
#include "io.h"
#include "json_out.h"
#include "mqtt5/mqtt5.h"
#include "tool.h"

typedef struct decode_opts {
    const char *hex;  /* --hex STRING */
    const char *file; /* FILE, NULL for stdin */
    int hex_lines;
    uint32_t max_packet_size;
} decode_opts;

/* What went wrong with one packet; offset < 0 when no offset applies. */
typedef struct decode_failure {
    int error;
    int reason_code; /* 0: none */
    long long offset;
    const char *field;
    const char *detail;
} decode_failure;

/* Outcome of decoding a buffer. */
enum { DEC_OK = 0, DEC_BAD = 1, DEC_FATAL = -1 };

static void add_str_or_null(cJSON *o, const char *key, const char *s)
{
    if (s != NULL)
        cJSON_AddStringToObject(o, key, s);
    else
        cJSON_AddNullToObject(o, key);
}

static int print_failure(FILE *out, const decode_failure *f)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL) return tool_print_json_line(out, NULL);
    cJSON_AddStringToObject(o, "error", mqtt5_error_name(f->error));
    cJSON_AddStringToObject(o, "message", mqtt5_error_str(f->error));
    if (f->reason_code != 0) {
        cJSON_AddNumberToObject(o, "reasonCode", f->reason_code);
        add_str_or_null(o, "reasonName", mqtt5_reason_code_name(f->reason_code));
    } else {
        cJSON_AddNullToObject(o, "reasonCode");
        cJSON_AddNullToObject(o, "reasonName");
    }
    if (f->offset >= 0)
        cJSON_AddNumberToObject(o, "offset", (double)f->offset);
    else
        cJSON_AddNullToObject(o, "offset");
    add_str_or_null(o, "field", f->field);
    add_str_or_null(o, "detail", f->detail);
    /* a failed cJSON_Add* leaves a key out: check the count so output stays complete */
    int ok =
        cJSON_GetArraySize(o) == 7 ? tool_print_json_line(out, o) : tool_print_json_line(out, NULL);
    cJSON_Delete(o);
    return ok;
}

static int print_packet(FILE *out, const mqtt5_packet *packet)
{
    cJSON *o = packet_to_json(packet);
    int ok = tool_print_json_line(out, o);
    cJSON_Delete(o);
    return ok;
}

static void incomplete(decode_failure *f, size_t start, const char *detail)
{
    f->error = MQTT5_ERR_NEED_MORE;
    f->reason_code = 0;
    f->offset = (long long)start;
    f->field = NULL;
    f->detail = detail;
}

/*
 * Decode in[0..len) with the streaming decoder, fed all at once, printing each packet. With
 * `single`, the input must hold exactly one packet. Offsets in errors are from `in`.
 */
static int decode_buffer(const uint8_t *in, size_t len, uint32_t max_packet_size, int single,
                         FILE *out)
{
    /* The decoder copies only a packet cut off at the end of the input, so it never needs more
     * room than the input itself. */
    size_t cap = len < max_packet_size ? len : max_packet_size;
    uint8_t *storage = malloc(cap > 0 ? cap : 1);
    if (storage == NULL) {
        fprintf(stderr, "mqtt5: out of memory\n");
        return DEC_FATAL;
    }
    mqtt5_decoder dec;
    mqtt5_decoder_init(&dec, storage, cap, max_packet_size);

    decode_failure f = {0};
    int failed = 0;
    size_t pos = 0;
    size_t packets = 0;
    while (pos < len && !failed) {
        if (single && packets == 1) {
            f.error = MQTT5_ERR_PARSE;
            f.reason_code = 0;
            f.offset = (long long)pos;
            f.detail = "bytes after the packet";
            failed = 1;
            break;
        }
        mqtt5_packet packet;
        mqtt5_codec_status st = {0};
        size_t consumed = 0;
        int rc = mqtt5_decoder_mem_recv(&dec, in + pos, len - pos, &consumed, &packet, &st);
        if (rc == MQTT5_OK) {
            if (!print_packet(out, &packet)) {
                free(storage);
                return DEC_FATAL;
            }
            pos += consumed;
            packets++;
            continue;
        }
        failed = 1;
        if (rc == MQTT5_ERR_NEED_MORE) {
            incomplete(&f, pos, "incomplete packet");
            break;
        }
        if (rc == MQTT5_ERR_PACKET_TOO_LARGE) {
            /* The decoder's capacity is the input's size, so it may refuse a packet cut off by
             * the end of the input: ask the one-shot decoder, which judges the bytes as they
             * are (incomplete, or the first real error). */
            mqtt5_packet probe;
            size_t used = 0;
            mqtt5_codec_status pst = {0};
            int prc =
                mqtt5_packet_decode(in + pos, len - pos, max_packet_size, &probe, &used, &pst);
            if (prc == MQTT5_ERR_NEED_MORE) {
                incomplete(&f, pos, "incomplete packet");
                break;
            }
            if (prc != MQTT5_OK) {
                rc = prc;
                st = pst;
            }
        }
        f.error = rc;
        f.reason_code = st.reason_code;
        f.offset = (long long)(pos + st.offset);
        f.field = st.field;
        f.detail = st.detail;
    }
    if (!failed && single && packets == 0) {
        incomplete(&f, 0, "no packet");
        failed = 1;
    }
    free(storage);
    if (failed && !print_failure(out, &f)) return DEC_FATAL;
    return failed ? DEC_BAD : DEC_OK;
}

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    unsigned long long v = 0;
    if (*s == '\0') return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return 0;
        v = v * 10 + (unsigned)(*s - '0');
        if (v > hi) return 0;
    }
    if (v < lo) return 0;
    *out = (uint32_t)v;
    return 1;
}

static int parse_args(int argc, char **argv, decode_opts *o)
{
    o->hex = NULL;
    o->file = NULL;
    o->hex_lines = 0;
    o->max_packet_size = MQTT5_MAX_PACKET_SIZE_LIMIT;
    int have_file = 0;
    int options_done = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = 1;
        } else if (!options_done && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            tool_usage(stdout);
            return -1;
        } else if (!options_done && strcmp(a, "--hex") == 0) {
            if (i + 1 >= argc) return tool_usage_error("missing argument for", a);
            if (o->hex != NULL) return tool_usage_error("repeated option", a);
            o->hex = argv[++i];
        } else if (!options_done && strcmp(a, "--hex-lines") == 0) {
            o->hex_lines = 1;
        } else if (!options_done && strcmp(a, "--max-packet-size") == 0) {
            if (i + 1 >= argc) return tool_usage_error("missing argument for", a);
            if (!parse_u32(argv[++i], 1, MQTT5_MAX_PACKET_SIZE_LIMIT, &o->max_packet_size))
                return tool_usage_error("--max-packet-size needs an integer in 1..268435460",
                                        argv[i]);
        } else if (!options_done && a[0] == '-' && a[1] != '\0') {
            return tool_usage_error("unknown option", a);
        } else {
            if (have_file) return tool_usage_error("unexpected argument", a);
            o->file = a;
            have_file = 1;
        }
    }
    if (o->hex != NULL && have_file)
        return tool_usage_error("give either --hex STRING or FILE, not both", NULL);
    if (o->hex != NULL && o->hex_lines)
        return tool_usage_error("--hex and --hex-lines exclude each other", NULL);
    return 0;
}

/* Hex text to bytes; on bad hex prints an error object and returns DEC_BAD. */
static int hex_to_bytes(const char *s, size_t len, FILE *out, uint8_t **bytes, size_t *n)
{
    *bytes = malloc(len / 2 + 1);
    if (*bytes == NULL) {
        fprintf(stderr, "mqtt5: out of memory\n");
        return DEC_FATAL;
    }
    size_t bad;
    if (hex_decode(s, len, 1, *bytes, n, &bad)) return DEC_OK;
    free(*bytes);
    *bytes = NULL;
    decode_failure f = {MQTT5_ERR_PARSE, 0, -1, NULL,
                        bad == len ? "odd number of hex digits" : "invalid hex digit"};
    return print_failure(out, &f) ? DEC_BAD : DEC_FATAL;
}

static int decode_hex_lines(const decode_opts *o)
{
    FILE *in = io_open_input(o->file);
    if (in == NULL) return TOOL_EXIT_FAIL;
    line_reader r;
    line_reader_init(&r, in, o->file);
    int any_bad = 0;
    int fatal = 0;
    char *line;
    size_t len;
    int got;
    while ((got = line_reader_next(&r, &line, &len)) == 1) {
        uint8_t *bytes;
        size_t n;
        int rc = hex_to_bytes(line, len, stdout, &bytes, &n);
        if (rc == DEC_OK) {
            rc = decode_buffer(bytes, n, o->max_packet_size, 1, stdout);
            free(bytes);
        }
        if (rc == DEC_FATAL) {
            fatal = 1;
            break;
        }
        if (rc == DEC_BAD) any_bad = 1;
    }
    if (got < 0) fatal = 1;
    line_reader_free(&r);
    if (!io_close_input(in, o->file)) fatal = 1;
    if (!io_flush(stdout)) fatal = 1;
    return (fatal || any_bad) ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}

int cmd_decode(int argc, char **argv)
{
    decode_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc < 0) return io_flush(stdout) ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
    if (rc > 0) return rc;
    if (o.hex_lines) return decode_hex_lines(&o);

    uint8_t *bytes = NULL;
    size_t n = 0;
    if (o.hex != NULL) {
        rc = hex_to_bytes(o.hex, strlen(o.hex), stdout, &bytes, &n);
    } else {
        FILE *in = io_open_input(o.file);
        if (in == NULL) return TOOL_EXIT_FAIL;
        rc = io_read_all(in, o.file, &bytes, &n) ? DEC_OK : DEC_FATAL;
        if (!io_close_input(in, o.file)) rc = DEC_FATAL;
    }
    if (rc == DEC_OK) rc = decode_buffer(bytes, n, o.max_packet_size, 0, stdout);
    free(bytes);
    if (!io_flush(stdout)) rc = DEC_FATAL;
    return rc == DEC_OK ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
}
