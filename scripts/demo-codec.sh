#!/bin/sh
# demo-codec.sh - the packet codec demo (the README's main job before the runtime existed): builds
# mqtt5 (installing what it needs) and runs the `mqtt5` packet tool on an example: a CONNECT with
# a will and many properties, and a PUBLISH, are encoded from mqtt-packet-style JSON to MQTT 5
# bytes and decoded back to JSON; then a malformed packet is refused with its reason code.
# (scripts/demo.sh is now the main job: the mqtt5_pubsub sample against a local broker.)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh" build
cmake -S "$root" -B "$root/build" -DMQTT5_BUILD_TOOLS=ON -DMQTT5_BUILD_TESTS=OFF >/dev/null
cmake --build "$root/build" -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
tool="$root/build/mqtt5"
examples="$root/tools/mqtt5/examples"

for f in "$examples"/*.jsonl; do
    echo "== $(basename "$f"): JSON -> MQTT 5 bytes (hex)"
    "$tool" encode --hex "$f" | tee /tmp/mqtt5-demo.hex
    echo "== bytes -> JSON (mqtt5 decode)"
    while read -r hex; do "$tool" decode --hex "$hex"; done </tmp/mqtt5-demo.hex
done
echo "== a malformed packet (PUBLISH with a wildcard in its topic) is refused with its reason code"
status=0
"$tool" decode --hex 300600032f2b2f00 || status=$?
[ "$status" -eq 1 ] || { echo "demo: expected exit status 1, got $status" >&2; exit 1; }
echo "(exit status 1, as expected)"
