/*
 * tools/mqtt5/cmd_encode.c - `mqtt5 encode`: reads mqtt-packet style JSON lines, builds each
 * packet and encodes it with mqtt5_packet_encode, writing raw bytes or one hex line per packet.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "hex.h"
#include "io.h"
#include "json_in.h"
#include "mqtt5/mqtt5.h"
#include "tool.h"

typedef struct encode_opts {
    int hex;
    const char *file;
} encode_opts;

/* Why a line failed. */
typedef struct line_failure {
    int error;
    const char *field;  /* NULL: none */
    const char *detail; /* NULL: none */
} line_failure;

static int print_failure(FILE *out, size_t line_no, const line_failure *f)
{
    cJSON *o = cJSON_CreateObject();
    if (o != NULL) {
        cJSON_AddStringToObject(o, "error", mqtt5_error_name(f->error));
        cJSON_AddStringToObject(o, "message", mqtt5_error_str(f->error));
        cJSON_AddNumberToObject(o, "line", (double)line_no);
        if (f->field != NULL && f->field[0] != '\0')
            cJSON_AddStringToObject(o, "field", f->field);
        else
            cJSON_AddNullToObject(o, "field");
        if (f->detail != NULL && f->detail[0] != '\0')
            cJSON_AddStringToObject(o, "detail", f->detail);
        else
            cJSON_AddNullToObject(o, "detail");
    }
    int ok = tool_print_json_line(out, (o && cJSON_GetArraySize(o) == 5) ? o : NULL);
    cJSON_Delete(o);
    return ok;
}

static int is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\v' && s[i] != '\f') return 0;
    return 1;
}

/* Write the encoding of `packet`; 1 on success, 0 with *f filled for a codec error, -1 fatal. */
static int encode_packet(const mqtt5_packet *packet, int hex, line_failure *f)
{
    mqtt5_codec_status st = {0};
    size_t size = 0;
    int rc = mqtt5_packet_encoded_size(packet, &size, &st);
    if (rc == MQTT5_OK) {
        uint8_t *buf = malloc(size > 0 ? size : 1);
        if (buf == NULL) {
            fprintf(stderr, "mqtt5: out of memory\n");
            return -1;
        }
        size_t written = 0;
        rc = mqtt5_packet_encode(packet, buf, size, &written, &st);
        int ok = 1;
        if (rc == MQTT5_OK) {
            if (hex) {
                char *text = hex_encode(buf, written);
                ok = text != NULL ? io_write_line(stdout, text) : 0;
                if (text == NULL) fprintf(stderr, "mqtt5: out of memory\n");
                free(text);
            } else {
                ok = io_write(stdout, buf, written);
            }
        }
        free(buf);
        if (!ok) return -1;
        if (rc == MQTT5_OK) return 1;
    }
    f->error = rc;
    f->field = st.field;
    f->detail = st.detail;
    return 0;
}

/* Handle one non-blank input line: 1 encoded, 0 bad line (reported), -1 fatal. */
static int encode_line(char *line, size_t len, size_t line_no, int hex)
{
    FILE *err_out = hex ? stdout : stderr;
    line_failure f = {MQTT5_ERR_PARSE, NULL, NULL};
    char detail[96];
    if (memchr(line, '\0', len) != NULL) {
        f.detail = "NUL byte in the input line";
        return print_failure(err_out, line_no, &f) ? 0 : -1;
    }
    if (json_has_nul_escape(line, len)) {
        f.error = MQTT5_ERR_INVALID_UTF8;
        f.detail = "string contains U+0000";
        return print_failure(err_out, line_no, &f) ? 0 : -1;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(line, &end, 1);
    if (root == NULL) {
        const char *at = end != NULL ? end : cJSON_GetErrorPtr();
        size_t col = (at != NULL && at >= line && at <= line + len) ? (size_t)(at - line) + 1 : 0;
        snprintf(detail, sizeof detail, "invalid JSON at column %zu", col);
        f.detail = detail;
        return print_failure(err_out, line_no, &f) ? 0 : -1;
    }
    arena a = {NULL};
    json_error jerr;
    mqtt5_packet packet;
    int result;
    if (json_to_packet(root, &packet, &a, &jerr) != MQTT5_OK) {
        if (jerr.code == MQTT5_ERR_NOMEM) {
            fprintf(stderr, "mqtt5: out of memory\n");
            result = -1;
        } else {
            f.error = jerr.code;
            f.field = jerr.field;
            f.detail = jerr.detail;
            result = print_failure(err_out, line_no, &f) ? 0 : -1;
        }
    } else {
        result = encode_packet(&packet, hex, &f);
        if (result == 0 && !print_failure(err_out, line_no, &f)) result = -1;
    }
    arena_free(&a);
    cJSON_Delete(root);
    return result;
}

static int parse_args(int argc, char **argv, encode_opts *o)
{
    o->hex = 0;
    o->file = NULL;
    int options_done = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = 1;
        } else if (!options_done && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            tool_usage(stdout);
            return -1;
        } else if (!options_done && strcmp(a, "--hex") == 0) {
            o->hex = 1;
        } else if (!options_done && a[0] == '-' && a[1] != '\0') {
            return tool_usage_error("unknown option", a);
        } else {
            if (o->file != NULL) return tool_usage_error("unexpected argument", a);
            o->file = a;
        }
    }
    return 0;
}

int cmd_encode(int argc, char **argv)
{
    encode_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc < 0) return io_flush(stdout) ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
    if (rc > 0) return rc;

    FILE *in = io_open_input(o.file);
    if (in == NULL) return TOOL_EXIT_FAIL;
    line_reader r;
    line_reader_init(&r, in, o.file);
    int any_bad = 0;
    int fatal = 0;
    size_t line_no = 0;
    char *line;
    size_t len;
    int got;
    while ((got = line_reader_next(&r, &line, &len)) == 1) {
        line_no++;
        if (is_blank(line, len)) continue;
        int res = encode_line(line, len, line_no, o.hex);
        if (res < 0) {
            fatal = 1;
            break;
        }
        if (res == 0) {
            any_bad = 1;
            if (!o.hex) break; /* raw output stops at the first bad line */
        }
    }
    if (got < 0) fatal = 1;
    line_reader_free(&r);
    if (!io_close_input(in, o.file)) fatal = 1;
    if (!io_flush(stdout)) fatal = 1;
    return (fatal || any_bad) ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}
