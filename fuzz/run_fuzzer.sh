#!/bin/sh
# run_fuzzer.sh - run one libFuzzer target for a fixed time from its committed seed corpus.
# Usage: run_fuzzer.sh FUZZER SEED_CORPUS_DIR WORK_DIR SECONDS
# Fails (non-zero) on any crash, leak, timeout or sanitizer report; the reproducer is left in
# WORK_DIR/artifacts.
set -eu
fuzzer=$1 seeds=$2 work=$3 seconds=$4
mkdir -p "$work/corpus" "$work/artifacts"
[ -d "$seeds" ] && cp -f "$seeds"/* "$work/corpus/" 2>/dev/null || true
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds"
