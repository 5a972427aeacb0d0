/*
 * tools/mqtt5/io.c - input and output helpers of the mqtt5 tool: whole-file reads, a line reader
 * for inputs of any size, and checked writes.
 */
#include "io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *display_name(const char *path)
{
    return (path == NULL || strcmp(path, "-") == 0) ? "<stdin>" : path;
}

FILE *io_open_input(const char *path)
{
    if (path == NULL || strcmp(path, "-") == 0) return stdin;
    FILE *f = fopen(path, "rb");
    if (f == NULL) fprintf(stderr, "mqtt5: %s: %s\n", path, strerror(errno));
    return f;
}

bool io_close_input(FILE *f, const char *path)
{
    bool ok = !ferror(f);
    if (!ok) fprintf(stderr, "mqtt5: %s: read error\n", display_name(path));
    if (f != stdin && fclose(f) != 0) ok = false;
    return ok;
}

bool io_read_all(FILE *f, const char *path, uint8_t **data, size_t *len)
{
    size_t cap = 65536;
    size_t n = 0;
    uint8_t *buf = malloc(cap);
    if (buf == NULL) goto nomem;
    for (;;) {
        if (cap - n < 2) {
            uint8_t *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) goto nomem;
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        fprintf(stderr, "mqtt5: %s: read error\n", display_name(path));
        free(buf);
        return false;
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return true;
nomem:
    free(buf);
    fprintf(stderr, "mqtt5: out of memory reading %s\n", display_name(path));
    return false;
}

void line_reader_init(line_reader *r, FILE *f, const char *path)
{
    r->f = f;
    r->path = path;
    r->line = NULL;
    r->cap = 0;
    r->pos = 0;
    r->len = 0;
    r->eof = false;
}

static bool line_append(line_reader *r, size_t *n, const char *src, size_t count)
{
    if (r->cap - *n <= count) {
        size_t cap = r->cap ? r->cap : 256;
        while (cap - *n <= count) {
            if (cap > SIZE_MAX / 2) return false;
            cap *= 2;
        }
        char *bigger = realloc(r->line, cap);
        if (bigger == NULL) return false;
        r->line = bigger;
        r->cap = cap;
    }
    memcpy(r->line + *n, src, count);
    *n += count;
    r->line[*n] = '\0';
    return true;
}

int line_reader_next(line_reader *r, char **line, size_t *len)
{
    size_t n = 0;
    bool any = false;
    if (!line_append(r, &n, "", 0)) goto nomem;
    for (;;) {
        if (r->pos == r->len) {
            if (r->eof) break;
            r->len = fread(r->chunk, 1, sizeof r->chunk, r->f);
            r->pos = 0;
            if (r->len == 0) {
                r->eof = true;
                if (ferror(r->f)) {
                    fprintf(stderr, "mqtt5: %s: read error\n", display_name(r->path));
                    return -1;
                }
                break;
            }
        }
        any = true;
        const char *start = r->chunk + r->pos;
        const char *nl = memchr(start, '\n', r->len - r->pos);
        size_t take = nl ? (size_t)(nl - start) : r->len - r->pos;
        if (!line_append(r, &n, start, take)) goto nomem;
        r->pos += take;
        if (nl) {
            r->pos++; /* the newline */
            break;
        }
    }
    if (!any) return 0;
    if (n > 0 && r->line[n - 1] == '\r') r->line[--n] = '\0';
    *line = r->line;
    *len = n;
    return 1;
nomem:
    fprintf(stderr, "mqtt5: out of memory reading %s\n", display_name(r->path));
    return -1;
}

void line_reader_free(line_reader *r)
{
    free(r->line);
    r->line = NULL;
    r->cap = 0;
}

bool io_write(FILE *f, const void *buf, size_t len)
{
    if (len > 0 && fwrite(buf, 1, len, f) != len) {
        fprintf(stderr, "mqtt5: write error: %s\n", strerror(errno));
        return false;
    }
    return true;
}

bool io_write_line(FILE *f, const char *s)
{
    return io_write(f, s, strlen(s)) && io_write(f, "\n", 1);
}

bool io_flush(FILE *f)
{
    if (fflush(f) != 0 || ferror(f)) {
        fprintf(stderr, "mqtt5: write error: %s\n", strerror(errno));
        return false;
    }
    return true;
}
