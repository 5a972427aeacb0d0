/*
 * fuzz_tool_json.c - libFuzzer target for the packet tool's JSON reader (tools/mqtt5/json_in.c),
 * which turns user-supplied mqtt-packet-style JSON into packets. Any JSON the reader accepts and
 * the encoder accepts must, once encoded, survive bytes -> JSON (json_out.c) -> packet -> bytes ->
 * JSON unchanged (same length, same JSON; user properties come back grouped by name, as in
 * mqtt-packet's model).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "json_in.h"
#include "json_out.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int encode(const mqtt5_packet *p, uint8_t **out, size_t *len)
{
    size_t need;
    if (mqtt5_packet_encoded_size(p, &need, NULL) != MQTT5_OK) return -1;
    *out = malloc(need ? need : 1);
    if (!*out) abort();
    if (mqtt5_packet_encode(p, *out, need, len, NULL) != MQTT5_OK || *len != need) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena a1 = {0}, a2 = {0};
    json_error err;
    mqtt5_packet p, q, r;
    uint8_t *b1 = NULL, *b2 = NULL;
    size_t n1, n2, used;

    cJSON *root = cJSON_ParseWithLength((const char *)data, size);
    if (!root) return 0;
    if (json_to_packet(root, &p, &a1, &err) == MQTT5_OK && encode(&p, &b1, &n1) == 0) {
        if (mqtt5_packet_decode(b1, n1, 0, &q, &used, NULL) != MQTT5_OK || used != n1) abort();
        cJSON *again = packet_to_json(&q);
        if (!again) abort();
        if (json_to_packet(again, &r, &a2, &err) != MQTT5_OK) {
            char *text = cJSON_PrintUnformatted(again);
            fprintf(stderr, "re-read of the tool's own JSON failed: %s field=%s (%s)\n%s\n",
                    mqtt5_error_name(err.code), err.field, err.detail, text ? text : "");
            free(text);
            abort();
        }
        /* mqtt-packet's model groups user properties by name, so interleaved names come back
         * grouped: the law is that the JSON is a fixed point, not that the bytes are */
        if (encode(&r, &b2, &n2) != 0 || n2 != n1) abort();
        mqtt5_packet q2;
        if (mqtt5_packet_decode(b2, n2, 0, &q2, &used, NULL) != MQTT5_OK) abort();
        cJSON *third = packet_to_json(&q2);
        char *t1 = cJSON_PrintUnformatted(again), *t2 = cJSON_PrintUnformatted(third);
        if (!t1 || !t2 || strcmp(t1, t2) != 0) {
            fprintf(stderr, "bytes -> JSON -> bytes -> JSON changed:\n%s\n%s\n", t1 ? t1 : "",
                    t2 ? t2 : "");
            abort();
        }
        free(t1);
        free(t2);
        cJSON_Delete(third);
        cJSON_Delete(again);
    }
    cJSON_Delete(root);
    free(b1);
    free(b2);
    arena_free(&a1);
    arena_free(&a2);
    return 0;
}
