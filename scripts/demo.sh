#!/bin/sh
# demo.sh - the README's main job: installs what building needs (scripts/install-deps.sh build),
# builds mqtt5 (Release, tests off) into build/, makes a throw-away PKI, starts a mosquitto that
# accepts only mutual TLS on a random 127.0.0.1 port, and runs the mqtt5_pubsub sample against
# it: connect with a client certificate, subscribe, publish 5 QoS 1 messages, receive them,
# unsubscribe, stop. The broker is stopped by its PID; the exit status is the sample's.
#
# Usage: scripts/demo.sh [sample options...]   e.g. --count 10, --verbosity Info
# (The packet-codec demo that used to be here is scripts/demo-codec.sh.)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)

"$root/scripts/install-deps.sh" build

build="$root/build"
log="${TMPDIR:-/tmp}/mqtt5-demo-build.$$.log"
echo "demo: building mqtt5 (Release) into $build"
if ! { cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMQTT5_SANITIZE=OFF -DMQTT5_BUILD_TESTS=OFF &&
    cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)"; } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "demo: build failed (full log: $log)" >&2
    exit 1
fi
rm -f "$log"
sample="$build/samples/mqtt5_pubsub"
[ -x "$sample" ] || { echo "demo: $sample was not built" >&2; exit 1; }
for cmd in openssl ss; do
    command -v "$cmd" >/dev/null 2>&1 ||
        { echo "demo: '$cmd' is missing (packages openssl, iproute2)" >&2; exit 1; }
done

# From here on every failure is handled by hand: the fixture's helpers return statuses.
set +e
# shellcheck source=SCRIPTDIR/../tests/integration/fixture.sh
. "$root/tests/integration/fixture.sh"
fx_init || exit 1 # temp dir; `trap fx_down EXIT` stops every recorded PID
fx_gen_pki "$FX_DIR/pki" || exit 1
pki="$FX_DIR/pki"
mosquitto=$(fx_find_mosquitto) || { echo "demo: mosquitto not found (set MOSQUITTO)" >&2; exit 1; }

# A broker with one listener: TLS that requires a client certificate signed by the test CA.
port=$(fx_free_port) || exit 1
cat >"$FX_DIR/mosquitto.conf" <<EOF
user root
log_dest stderr
allow_anonymous true
persistence false
listener $port 127.0.0.1
cafile $pki/ca.crt
certfile $pki/server.crt
keyfile $pki/server.key
require_certificate true
EOF
"$mosquitto" -c "$FX_DIR/mosquitto.conf" 2>"$FX_DIR/mosquitto.log" &
broker=$!
fx_record_pid "$broker"
if ! fx_wait_ports "$broker" 50 "$port"; then
    echo "demo: mosquitto did not start:" >&2
    cat "$FX_DIR/mosquitto.log" >&2
    exit 1
fi
echo "demo: mosquitto (pid $broker) accepts only mutual TLS on 127.0.0.1:$port"
echo "demo: $sample --endpoint localhost --port $port --cert client.crt --key client.key --ca_file ca.crt${*:+ $*}"

"$sample" --endpoint localhost --port "$port" --cert "$pki/client.crt" --key "$pki/client.key" \
    --ca_file "$pki/ca.crt" "$@"
status=$?

kill -TERM "$broker" 2>/dev/null
wait "$broker" 2>/dev/null
echo "demo: mosquitto stopped; mqtt5_pubsub exited with status $status"
exit "$status"
