#!/bin/sh
# check_install.sh - proves `cmake --install` is usable: installs the build into a temporary
# prefix, then compiles and runs a small program against it found only through pkg-config.
# Usage: check_install.sh BUILD_DIR C_COMPILER [EXTRA_CFLAGS]
set -eu
build=$1 cc=$2 extra=${3:-}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(dirname "$(find "$prefix" -name mqtt5.pc | head -n 1)")
for f in mqtt5/mqtt5.h mqtt5/codec.h mqtt5/packet.h mqtt5/topic.h mqtt5/error.h; do
    [ -f "$prefix/include/$f" ] || { echo "missing installed header $f"; exit 1; }
done
ls "$pc"/../libmqtt5.a "$pc"/../libmqtt5.so >/dev/null
cat >"$prefix/consumer.c" <<'C'
#include <mqtt5/mqtt5.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    uint8_t buf[64];
    size_t n, used;
    mqtt5_packet p = {.type = MQTT5_PINGREQ}, q;
    if (mqtt5_packet_encode(&p, buf, sizeof buf, &n, NULL) || n != 2) return 1;
    if (mqtt5_packet_decode(buf, n, 0, &q, &used, NULL) || q.type != MQTT5_PINGREQ) return 1;
    printf("%s %s\n", mqtt5_packet_type_name(q.type), mqtt5_error_name(MQTT5_ERR_MALFORMED_PACKET));
    return 0;
}
C
# shellcheck disable=SC2046,SC2086
"$cc" $extra $(PKG_CONFIG_PATH="$pc" pkg-config --cflags mqtt5) "$prefix/consumer.c" \
    $(PKG_CONFIG_PATH="$pc" pkg-config --libs mqtt5) -o "$prefix/consumer"
out=$(LD_LIBRARY_PATH="$pc/.." "$prefix/consumer")
[ "$out" = "pingreq MQTT5_ERR_MALFORMED_PACKET" ] || { echo "unexpected output: $out"; exit 1; }
echo "installed headers, libmqtt5.a/.so and mqtt5.pc work: $out"
