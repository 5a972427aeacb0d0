/*
 * tools/mqtt5/tool.h - entry points of the `mqtt5` command-line tool's subcommands (packets,
 * AWS credentials) and the exit codes they share.
 */
#ifndef MQTT5_TOOL_TOOL_H
#define MQTT5_TOOL_TOOL_H

#include <stdio.h>

enum {
    TOOL_EXIT_OK = 0,
    TOOL_EXIT_FAIL = 1,  /* bad input data, I/O error */
    TOOL_EXIT_USAGE = 2, /* bad command line */
};

/* argv[0] is the subcommand name; each returns the process exit code. */
int cmd_decode(int argc, char **argv);
int cmd_encode(int argc, char **argv);
int cmd_creds(int argc, char **argv);

/* Print the usage text to f. */
void tool_usage(FILE *f);
/* Print "mqtt5: <msg>" and the usage text to stderr; returns TOOL_EXIT_USAGE. */
int tool_usage_error(const char *msg, const char *arg);
/* Print a cJSON tree as one compact line to f; false (message printed) on failure. */
struct cJSON;
int tool_print_json_line(FILE *f, struct cJSON *json);

#endif
