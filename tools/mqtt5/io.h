/*
 * tools/mqtt5/io.h - input and output helpers of the mqtt5 tool: whole-file reads, a line reader
 * for inputs of any size, and checked writes.
 */
#ifndef MQTT5_TOOL_IO_H
#define MQTT5_TOOL_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Open `path` for reading ("-" or NULL = stdin). Prints a message to stderr and returns NULL on
 * failure. */
FILE *io_open_input(const char *path);
/* Close a stream opened by io_open_input (stdin is left open). Returns false on a read error. */
bool io_close_input(FILE *f, const char *path);

/* Read all of f into a new buffer (malloc, NUL-terminated after *len bytes). Prints a message to
 * stderr and returns false on a read error or when out of memory. */
bool io_read_all(FILE *f, const char *path, uint8_t **data, size_t *len);

typedef struct line_reader {
    FILE *f;
    const char *path;
    char *line; /* current line, NUL-terminated, without "\n" / "\r\n" */
    size_t cap;
    char chunk[65536];
    size_t pos;
    size_t len;
    bool eof;
} line_reader;

void line_reader_init(line_reader *r, FILE *f, const char *path);
/* 1: *line / *len hold the next line; 0: end of input; -1: read error or out of memory (a
 * message was printed to stderr). */
int line_reader_next(line_reader *r, char **line, size_t *len);
void line_reader_free(line_reader *r);

/* fwrite all of buf to f; prints a message and returns false on failure. */
bool io_write(FILE *f, const void *buf, size_t len);
/* Write s and a newline. */
bool io_write_line(FILE *f, const char *s);
/* fflush f; prints a message and returns false on failure. */
bool io_flush(FILE *f);

#endif
