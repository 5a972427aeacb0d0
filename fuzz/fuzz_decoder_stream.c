/*
 * fuzz_decoder_stream.c - libFuzzer target for the streaming decoder (mqtt5_decoder_mem_recv):
 * the input is cut into chunks whose sizes come from the input itself, and fed to a decoder with
 * a small caller buffer. Checks that consumed counts never exceed the input, that errors are
 * sticky, and that the packets and the final status are the same as when the whole stream is
 * fed at once.
 */
#include <stdlib.h>
#include <string.h>

#include "mqtt5/mqtt5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 512

/* Feed `data` in chunks (chunk sizes cycle through `cuts`); returns the packet count and stores
 * the types seen and the final result. */
static size_t run(const uint8_t *data, size_t size, const uint8_t *cuts, size_t ncuts,
                  uint8_t *types, size_t max_types, int *final)
{
    static uint8_t buf[CAP];
    mqtt5_decoder dec;
    mqtt5_packet p;
    mqtt5_codec_status st;
    size_t off = 0, k = 0, count = 0;
    mqtt5_decoder_init(&dec, buf, CAP, 0);
    *final = MQTT5_ERR_NEED_MORE;
    while (off < size) {
        size_t chunk = ncuts ? (size_t)(cuts[k++ % ncuts] % 64) + 1 : size - off;
        if (chunk > size - off) chunk = size - off;
        size_t pos = 0;
        while (pos < chunk) {
            size_t used;
            int rc = mqtt5_decoder_mem_recv(&dec, data + off + pos, chunk - pos, &used, &p, &st);
            if (used > chunk - pos) abort();
            pos += used;
            if (rc == MQTT5_OK) {
                if (count < max_types) types[count] = (uint8_t)p.type;
                count++;
                continue;
            }
            if (rc == MQTT5_ERR_NEED_MORE) {
                if (pos != chunk) abort();
                break;
            }
            /* sticky */
            size_t again;
            if (mqtt5_decoder_mem_recv(&dec, data, size, &again, &p, &st) != rc || again) abort();
            *final = rc;
            return count;
        }
        off += chunk;
    }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t t1[64], t2[64];
    int f1, f2;
    if (size < 2) return 0;
    size_t ncuts = data[0] % 8;
    if (ncuts + 1 > size) return 0;
    const uint8_t *cuts = data + 1;
    data += 1 + ncuts, size -= 1 + ncuts;
    size_t n1 = run(data, size, cuts, ncuts, t1, sizeof t1, &f1);
    size_t n2 = run(data, size, NULL, 0, t2, sizeof t2, &f2);
    if (n1 != n2 || f1 != f2) abort();
    if (memcmp(t1, t2, n1 < sizeof t1 ? n1 : sizeof t1) != 0) abort();
    return 0;
}
