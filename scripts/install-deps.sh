#!/bin/sh
# install-deps.sh - install what building and testing mqtt5 needs on Debian 12 (run as root, or
# with sudo available). Packages already present are not reinstalled; nothing else is touched.
# Usage: scripts/install-deps.sh [build|test]   (default: test, which is a superset of build)
set -eu
what=${1:-test}

build_pkgs="gcc make cmake pkg-config libcjson-dev libssl-dev libuv1-dev libcurl4-openssl-dev libxml2-dev libp11-dev mosquitto openssl iproute2"
test_pkgs="$build_pkgs libcmocka-dev clang libclang-rt-14-dev nodejs npm ca-certificates libmosquitto-dev libpaho-mqtt-dev tinyproxy stunnel4 dante-server softhsm2 opensc"
case $what in
build) pkgs=$build_pkgs ;;
test) pkgs=$test_pkgs ;;
*) echo "usage: $0 [build|test]" >&2; exit 2 ;;
esac

# A package counts as present when dpkg has it, or (node, npm) when the command exists: a
# machine may carry Node.js from elsewhere (e.g. nodesource, which bundles npm), and asking apt
# for Debian's npm there would fight that install.
present() {
    case $1 in
    nodejs) command -v node >/dev/null 2>&1 || command -v nodejs >/dev/null 2>&1 && return 0 ;;
    npm) command -v npm >/dev/null 2>&1 && return 0 ;;
    esac
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}
missing=""
for p in $pkgs; do
    present "$p" || missing="$missing $p"
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
    if [ ! -d "$here/tests/interop/node_modules/mqtt-packet" ] ||
        [ ! -d "$here/tests/interop/node_modules/mqtt" ]; then
        echo "install-deps: npm ci in tests/interop"
        (cd "$here/tests/interop" && npm ci --no-audit --no-fund --loglevel=error)
    fi
fi
