/*
 * tools/mqtt5/main.c - the `mqtt5` command-line tool: dispatches to the decode, encode and creds
 * subcommands and handles help, version and usage errors.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "io.h"
#include "mqtt5/mqtt5.h"
#include "tool.h"

void tool_usage(FILE *f)
{
    fputs("Usage:\n"
          "  mqtt5 decode [--max-packet-size N] [--hex STRING | FILE]\n"
          "      Decode MQTT 5 packets from a hex string, a raw file or stdin; print one\n"
          "      mqtt-packet style JSON object per packet, one per line.\n"
          "  mqtt5 decode --hex-lines [--max-packet-size N] [FILE]\n"
          "      Each input line is one packet in hex; print one JSON line (packet or error)\n"
          "      per input line.\n"
          "  mqtt5 encode [--hex] [FILE]\n"
          "      Read JSON lines (one packet each) and write the encoded packets: raw bytes,\n"
          "      or with --hex one lowercase hex line per input line.\n"
          "  mqtt5 creds [--profile NAME | --cognito-identity ID --cognito-endpoint URL]\n"
          "      Fetch AWS credentials with the default provider chain (or only profile NAME,\n"
          "      or Amazon Cognito; 30 s at most) and print the provider that supplied them,\n"
          "      the access key id, the account id, the expiry and whether a session token\n"
          "      came, never the secret or the token; or the error and each provider's reason.\n"
          "  mqtt5 --version\n"
          "  mqtt5 help | -h | --help\n"
          "\n"
          "FILE may be '-' for stdin. Exit status: 0 success, 1 bad input, I/O error or no\n"
          "credentials, 2 usage error.\n",
          f);
}

int tool_usage_error(const char *msg, const char *arg)
{
    if (arg != NULL)
        fprintf(stderr, "mqtt5: %s: %s\n", msg, arg);
    else
        fprintf(stderr, "mqtt5: %s\n", msg);
    tool_usage(stderr);
    return TOOL_EXIT_USAGE;
}

int tool_print_json_line(FILE *f, cJSON *json)
{
    char *text = json ? cJSON_PrintUnformatted(json) : NULL;
    if (text == NULL) {
        fprintf(stderr, "mqtt5: out of memory\n");
        return 0;
    }
    int ok = io_write_line(f, text);
    cJSON_free(text);
    return ok;
}

static int is_help(const char *arg)
{
    return strcmp(arg, "help") == 0 || strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) return tool_usage_error("missing subcommand", NULL);
    const char *sub = argv[1];
    if (is_help(sub)) {
        tool_usage(stdout);
        return io_flush(stdout) ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
    }
    if (strcmp(sub, "--version") == 0 || strcmp(sub, "version") == 0) {
        printf("mqtt5 %s\n", MQTT5_VERSION_STRING);
        return io_flush(stdout) ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
    }
    if (strcmp(sub, "decode") == 0) return cmd_decode(argc - 1, argv + 1);
    if (strcmp(sub, "encode") == 0) return cmd_encode(argc - 1, argv + 1);
    if (strcmp(sub, "creds") == 0) return cmd_creds(argc - 1, argv + 1);
    return tool_usage_error(sub[0] == '-' ? "unknown option" : "unknown subcommand", sub);
}
