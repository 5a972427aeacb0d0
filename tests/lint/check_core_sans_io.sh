#!/bin/sh
# check_core_sans_io.sh - enforces the sans-I/O rule of docs/architecture.md: nothing in src/core
# may include an I/O, thread, TLS, event-loop or clock header, or call the heap allocator.
# Usage: check_core_sans_io.sh SOURCE_DIR
set -eu
core="$1/src/core"
bad=$(grep -nE '#include *<(stdio|time|pthread|threads|unistd|fcntl|uv|poll)\.h>|#include *<(sys|openssl|netinet|arpa)/|[^_a-z](malloc|calloc|realloc|free)\(' \
    "$core"/*.c "$core"/*.h || true)
if [ -n "$bad" ]; then
    echo "sans-I/O rule broken in src/core:"
    echo "$bad"
    exit 1
fi
echo "src/core: no I/O, thread, TLS, clock or heap use ($(ls "$core" | wc -l) files checked)"
