/*
 * tools/mqtt5/hex.h - hexadecimal text <-> bytes for the mqtt5 tool.
 */
#ifndef MQTT5_TOOL_HEX_H
#define MQTT5_TOOL_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Lowercase hex of in[0..len) into a new NUL-terminated string (malloc); NULL when out of
 * memory. */
char *hex_encode(const uint8_t *in, size_t len);

/* Write the lowercase hex of in[0..len) to out (2*len chars, no terminator). */
void hex_encode_to(const uint8_t *in, size_t len, char *out);

/*
 * Decode hex text s[0..len) into out (capacity len / 2 bytes is always enough). Upper and lower
 * case digits are accepted; with skip_space, whitespace between digits is ignored. Returns false
 * on a non-hex character or an odd number of digits, and then sets *bad to the offending
 * character's index (len for an odd count).
 */
bool hex_decode(const char *s, size_t len, bool skip_space, uint8_t *out, size_t *out_len,
                size_t *bad);

#endif
