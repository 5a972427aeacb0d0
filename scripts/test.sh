#!/bin/sh
# test.sh - the one command that runs every test of mqtt5 (the README's test command; CI runs it).
# 1. installs missing apt/npm packages;
# 2. gcc Release build (the -O3 warnings users see), then a gcc build (optimised, so -O2-only warnings count) with ASan+UBSan and -Werror: unit tests, differential test against mqtt-packet,
#    install/pkg-config check;
# 3. clang build with ASan+UBSan and -Werror: the same tests plus a timed libFuzzer run per
#    decoder target (MQTT5_FUZZ_SECONDS, default 30);
# 4. clang build with ThreadSanitizer: the runtime's and HTTP client's unit tests and every integration test
#    (real mosquitto, TLS fronts, MQTT.js), where the loop threads meet the callers' threads;
# 5. gcc ASan+UBSan build with the poller's off-Linux implementation (a uv_poll_t per socket,
#    -DMQTT5_POLLER_UV_POLL): the TCP, poller and runtime tests and the plain/TLS/proxy/restart
#    integration tests, so the path other platforms take is run here too.
# Integration tests start their own servers on random loopback ports (tests/integration/fixture.sh).
# Output ends with ctest's summary line; the exit status is non-zero if anything failed.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
fuzz_seconds=${MQTT5_FUZZ_SECONDS:-30}
jobs=$(nproc 2>/dev/null || echo 2)

"$root/scripts/install-deps.sh" test

echo "== gcc, Release (-O3 warnings count too): library, tools, samples, benchmarks"
cmake -S "$root" -B "$root/build-test-release" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc \
    -DMQTT5_BUILD_TESTS=OFF -DMQTT5_BUILD_BENCH=ON >/dev/null
cmake --build "$root/build-test-release" -j"$jobs"

echo "== gcc, ASan+UBSan"
cmake -S "$root" -B "$root/build-test-gcc" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc \
    -DMQTT5_SANITIZE=ON -DMQTT5_BUILD_BENCH=ON -DMQTT5_REQUIRE_INTEROP=ON \
    -DMQTT5_REQUIRE_INTEGRATION=ON >/dev/null
cmake --build "$root/build-test-gcc" -j"$jobs"
ctest --test-dir "$root/build-test-gcc" --output-on-failure -j"$jobs"

echo "== clang, ASan+UBSan, libFuzzer ${fuzz_seconds}s per target"
cmake -S "$root" -B "$root/build-test-clang" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
    -DMQTT5_SANITIZE=ON -DMQTT5_BUILD_BENCH=ON -DMQTT5_BUILD_FUZZ=ON -DMQTT5_REQUIRE_INTEROP=ON \
    -DMQTT5_REQUIRE_INTEGRATION=ON -DMQTT5_FUZZ_SECONDS="$fuzz_seconds" >/dev/null
cmake --build "$root/build-test-clang" -j"$jobs"
ctest --test-dir "$root/build-test-clang" --output-on-failure -j"$jobs"

echo "== clang, ThreadSanitizer: runtime and integration tests"
cmake -S "$root" -B "$root/build-test-tsan" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
    -DMQTT5_TSAN=ON -DMQTT5_BUILD_TOOLS=OFF -DMQTT5_REQUIRE_INTEGRATION=ON >/dev/null
cmake --build "$root/build-test-tsan" -j"$jobs"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
    ctest --test-dir "$root/build-test-tsan" --output-on-failure -j"$jobs" -R 'unit.test_runtime|unit.test_http_client|integration\.'

echo "== gcc, ASan+UBSan, the poller's uv_poll fallback (transports/poller.h)"
cmake -S "$root" -B "$root/build-test-uvpoll" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=gcc \
    -DCMAKE_C_FLAGS=-DMQTT5_POLLER_UV_POLL -DMQTT5_SANITIZE=ON -DMQTT5_BUILD_TOOLS=OFF \
    -DMQTT5_REQUIRE_INTEGRATION=ON >/dev/null
cmake --build "$root/build-test-uvpoll" -j"$jobs" --target test_tcp test_poller test_runtime \
    test_integration test_caller_driven test_restart test_proxy
ctest --test-dir "$root/build-test-uvpoll" --output-on-failure -j"$jobs" \
    -R 'unit\.test_(tcp|poller|runtime)$|integration\.test_(integration|caller_driven|restart|proxy)$'
