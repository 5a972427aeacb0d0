#!/bin/sh
# install-deps.sh - install what building and testing mqtt5 needs on Debian 12 (run as root, or
# with sudo available). Packages already present are not reinstalled; nothing else is touched.
# Usage: scripts/install-deps.sh [build|test]   (default: test, which is a superset of build)
set -eu
what=${1:-test}

build_pkgs="gcc make cmake pkg-config libcjson-dev"
test_pkgs="$build_pkgs libcmocka-dev clang libclang-rt-14-dev nodejs npm ca-certificates"
case $what in
build) pkgs=$build_pkgs ;;
test) pkgs=$test_pkgs ;;
*) echo "usage: $0 [build|test]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "install-deps: installing:$missing"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    # keep Debian's init scripts from starting daemons we install later (brokers, proxies)
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
        $SUDO chmod +x /usr/sbin/policy-rc.d
    fi
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

if [ "$what" = test ]; then
    here=$(cd "$(dirname "$0")/.." && pwd)
    if [ ! -d "$here/tests/interop/node_modules/mqtt-packet" ]; then
        echo "install-deps: npm ci in tests/interop"
        (cd "$here/tests/interop" && npm ci --no-audit --no-fund --loglevel=error)
    fi
fi
