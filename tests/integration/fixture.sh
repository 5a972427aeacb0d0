#!/bin/sh
# tests/integration/fixture.sh - the integration-test fixture: a throw-away PKI and real servers
# (mosquitto with plain, TLS, mutual-TLS and wrong-name listeners, an ALPN-enforcing TLS front
# in node) on random 127.0.0.1 ports, all under one temp dir, stopped by PID on exit.
#
# Two ways to use it (POSIX sh; needs openssl, ss, mosquitto; node only for the ALPN front):
#   . tests/integration/fixture.sh      then call fx_init, fx_gen_pki, fx_start_mosquitto, ...
#   tests/integration/fixture.sh run <exe> [args...]
#       starts everything, exports the variables below, runs <exe> and returns its exit status
#       (printing the tail of the mosquitto log when it fails).
#
# Exported: FX_DIR (temp dir), FX_PKI (PKI dir: ca.crt, server.crt/.key, client.crt/.key,
#   client-rsa.crt/.key, other-ca.crt/.key, wrong.crt/.key, cadir/), FX_PORT_TCP (plain MQTT),
#   FX_PORT_TLS (server-auth TLS), FX_PORT_MTLS (TLS, client certificate required),
#   FX_PORT_WRONG (TLS with a certificate for DNS:wrong.example only), FX_PORT_WS and
#   FX_PORT_WSS (MQTT over WebSockets, plain and TLS), FX_PORT_ALPN (node TLS
#   front selecting only the protocols given to fx_start_alpn_front, piped to FX_PORT_TCP; unset
#   without node), FX_PORT_SIGV4 / FX_PORT_SIGV4_TLS (node SigV4-checking WebSocket fronts, ws://
#   and wss://, piped to FX_PORT_WS; unset without node) with FX_SIGV4_AKID, FX_SIGV4_SECRET,
#   FX_SIGV4_REGION, FX_MOSQ_PID, FX_MOSQ_CONF, FX_MOSQ_LOG, FX_PIDS_FILE, FX_PORT_ALPN_MQTT (node
#   TLS front selecting only ALPN "mqtt" and checking the CONNECT's username and password like an
#   AWS IoT custom authorizer, piped to FX_PORT_TCP; unset without node) with the credentials it
#   accepts: FX_CUSTOM_AUTH_{USERNAME,AUTHORIZER_NAME,SIGNATURE,TOKEN_KEY_NAME,TOKEN_VALUE,
#   PASSWORD} and FX_CUSTOM_AUTH_EXPECTED (the username it expects, without the SDK metrics).
#   Proxies (each unset when its program is missing): FX_PORT_TINYPROXY (HTTP CONNECT, Basic
#   authentication with FX_PROXY_USER / FX_PROXY_PASS), FX_PORT_PROXY_TLS (stunnel: TLS in front
#   of tinyproxy), FX_PORT_DANTE (danted, SOCKS5 without authentication), FX_PORT_SOCKS5 /
#   FX_PORT_SOCKS5_AUTH (socks5_server.js without / with username and password FX_PROXY_USER /
#   FX_PROXY_PASS).
# Environment: MOSQUITTO (default: `mosquitto` on PATH, else /usr/sbin or /usr/local/sbin),
#   NODE (default node), FX_KEEP=1 keeps FX_DIR, FX_SRC_DIR (dir of alpn_front.js; default: the
#   dir of this script in run mode, else the dir of $0).
# Processes are only ever stopped by their recorded PID. A program run by the fixture may append
# PIDs it starts to "$FX_PIDS_FILE" (one a line) to have fx_down stop them too.

fx_log() { printf 'fixture: %s\n' "$*" >&2; }

# fx_init: temp dir and the cleanup trap.
fx_init() {
    FX_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mqtt5-fx.XXXXXX") || return 1
    FX_PIDS_FILE="$FX_DIR/pids"
    : >"$FX_PIDS_FILE"
    : >"$FX_DIR/ports"
    export FX_DIR FX_PIDS_FILE
    fx_start_watchdog
    trap fx_down EXIT
    trap 'fx_down; trap - EXIT; exit 130' INT
    trap 'fx_down; trap - EXIT; exit 143' TERM
}

# fx_start_watchdog: if this shell dies without running fx_down (SIGKILL, e.g. a ctest
# timeout), a background watcher (stdio on /dev/null) stops the recorded PIDs (only those whose
# command line still names FX_DIR, against PID reuse) and removes FX_DIR. fx_down stops the
# watcher by its PID.
fx_start_watchdog() {
    _fx_parent=$$
    (
        trap '' INT
        while kill -0 "$_fx_parent" 2>/dev/null; do
            sleep 1
        done
        _fx_pids=$(sort -u "$FX_PIDS_FILE" 2>/dev/null)
        for _fx_pid in $_fx_pids; do
            if grep -q "$FX_DIR" "/proc/$_fx_pid/cmdline" 2>/dev/null; then
                kill -KILL "$_fx_pid" 2>/dev/null
            fi
        done
        [ "${FX_KEEP:-0}" = 1 ] || rm -rf "$FX_DIR"
    ) </dev/null >/dev/null 2>&1 &
    FX_WATCHDOG_PID=$!
}

# fx_record_pid PID: stopped by fx_down.
fx_record_pid() {
    printf '%s\n' "$1" >>"${FX_PIDS_FILE:?fx_init first}"
}

# fx_port_busy PORT: true when a TCP socket on 127.0.0.1 / any address uses PORT (any state).
fx_port_busy() {
    [ -n "$(ss -Htan "sport = :$1" 2>/dev/null)" ]
}

# fx_free_port: print a random free port in 20000-59999 not handed out before in this run.
# Works inside $(...) too: the handed-out ports are kept in a file.
fx_free_port() {
    _fx_n=0
    while [ "$_fx_n" -lt 500 ]; do
        _fx_n=$((_fx_n + 1))
        _fx_r=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
        _fx_p=$((20000 + _fx_r % 40000))
        if [ -n "${FX_DIR:-}" ] && [ -f "$FX_DIR/ports" ]; then
            grep -qx "$_fx_p" "$FX_DIR/ports" && continue
        fi
        case " ${FX_PORTS_USED:-} " in *" $_fx_p "*) continue ;; esac
        fx_port_busy "$_fx_p" && continue
        if [ -n "${FX_DIR:-}" ] && [ -f "$FX_DIR/ports" ]; then
            printf '%s\n' "$_fx_p" >>"$FX_DIR/ports"
        fi
        FX_PORTS_USED="${FX_PORTS_USED:-} $_fx_p"
        printf '%s\n' "$_fx_p"
        return 0
    done
    fx_log "no free port found"
    return 1
}

# fx_port_listening PORT: true when something listens on 127.0.0.1:PORT (or *:PORT).
fx_port_listening() {
    [ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]
}

# fx_wait_ports PID TIMEOUT_DS PORT...: wait (tenths of a second) until every PORT listens;
# fails at once when PID died.
fx_wait_ports() {
    _fx_pid=$1 _fx_t=$2
    shift 2
    _fx_i=0
    while [ "$_fx_i" -lt "$_fx_t" ]; do
        kill -0 "$_fx_pid" 2>/dev/null || return 2
        _fx_all=1
        for _fx_p in "$@"; do
            fx_port_listening "$_fx_p" || { _fx_all=0; break; }
        done
        [ "$_fx_all" = 1 ] && return 0
        sleep 0.1
        _fx_i=$((_fx_i + 1))
    done
    return 1
}

# fx_gen_pki DIR: EC P-256 CA, server (localhost/127.0.0.1), EC and RSA clients, another CA,
# a wrong.example server certificate, cadir/ (hashed).
fx_gen_pki() {
    _fx_d=${1:?fx_gen_pki DIR}
    mkdir -p "$_fx_d/cadir" || return 1
    (
        cd "$_fx_d" || exit 1
        set -e
        EC="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
        ca_ext="-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"
        # shellcheck disable=SC2086
        openssl req -x509 $EC -days 3650 -keyout ca.key -out ca.crt -subj "/CN=Test CA" $ca_ext
        # shellcheck disable=SC2086
        openssl req -x509 $EC -days 3650 -keyout other-ca.key -out other-ca.crt \
            -subj "/CN=Other Test CA" $ca_ext
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
        printf 'subjectAltName=DNS:wrong.example\nextendedKeyUsage=serverAuth\n' >wrong.ext
        printf 'extendedKeyUsage=clientAuth\n' >client.ext
        # leaf NAME CN EXTFILE KEYSPEC...
        leaf() {
            _n=$1 _cn=$2 _ext=$3
            shift 3
            openssl req "$@" -nodes -keyout "$_n.key" -out "$_n.csr" -subj "/CN=$_cn"
            openssl x509 -req -in "$_n.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
                -out "$_n.crt" -extfile "$_ext"
            rm -f "$_n.csr"
        }
        leaf server localhost server.ext -newkey ec -pkeyopt ec_paramgen_curve:P-256
        leaf client test-client client.ext -newkey ec -pkeyopt ec_paramgen_curve:P-256
        leaf client-rsa test-client-rsa client.ext -newkey rsa:2048
        leaf wrong wrong.example wrong.ext -newkey ec -pkeyopt ec_paramgen_curve:P-256
        cp ca.crt cadir/ca.crt
        openssl rehash cadir
        chmod 644 ./*.key
    ) >"$_fx_d/gen.log" 2>&1 || {
        fx_log "PKI generation failed:"
        cat "$_fx_d/gen.log" >&2
        return 1
    }
}

fx_find_mosquitto() {
    if [ -n "${MOSQUITTO:-}" ]; then
        printf '%s\n' "$MOSQUITTO"
        return 0
    fi
    for _fx_m in "$(command -v mosquitto 2>/dev/null)" /usr/sbin/mosquitto /usr/local/sbin/mosquitto; do
        [ -n "$_fx_m" ] && [ -x "$_fx_m" ] && { printf '%s\n' "$_fx_m"; return 0; }
    done
    return 1
}

fx_write_mosquitto_conf() {
    _fx_k=${FX_PKI:?}
    mkdir -p "$FX_DIR/mosquitto-db"
    cat >"$FX_MOSQ_CONF" <<EOF
# generated by tests/integration/fixture.sh
user root
log_dest stderr
log_type all
allow_anonymous true
persistence true
persistence_location $FX_DIR/mosquitto-db/
autosave_interval 1
per_listener_settings false

# plain MQTT
listener $FX_PORT_TCP 127.0.0.1

# TLS, server authentication only
listener $FX_PORT_TLS 127.0.0.1
certfile $_fx_k/server.crt
keyfile $_fx_k/server.key

# mutual TLS: a client certificate signed by Test CA is required
listener $FX_PORT_MTLS 127.0.0.1
cafile $_fx_k/ca.crt
certfile $_fx_k/server.crt
keyfile $_fx_k/server.key
require_certificate true

# TLS with a certificate for DNS:wrong.example only (signed by Test CA)
listener $FX_PORT_WRONG 127.0.0.1
certfile $_fx_k/wrong.crt
keyfile $_fx_k/wrong.key

# MQTT over WebSockets (ws://); socket_domain, or libwebsockets binds every interface
listener $FX_PORT_WS 127.0.0.1
protocol websockets
socket_domain ipv4

# MQTT over secure WebSockets (wss://), server authentication only
listener $FX_PORT_WSS 127.0.0.1
protocol websockets
socket_domain ipv4
certfile $_fx_k/server.crt
keyfile $_fx_k/server.key
EOF
}

# fx_launch_mosquitto: start with the existing config; 0 when every port listens.
fx_launch_mosquitto() {
    printf '=== start %s\n' "$(date '+%H:%M:%S')" >>"$FX_MOSQ_LOG"
    "$FX_MOSQ_BIN" -c "$FX_MOSQ_CONF" >>"$FX_MOSQ_LOG" 2>&1 &
    FX_MOSQ_PID=$!
    export FX_MOSQ_PID
    fx_record_pid "$FX_MOSQ_PID"
    fx_wait_ports "$FX_MOSQ_PID" 50 "$FX_PORT_TCP" "$FX_PORT_TLS" "$FX_PORT_MTLS" "$FX_PORT_WRONG" \
        "$FX_PORT_WS" "$FX_PORT_WSS"
}

# fx_start_mosquitto: plain, TLS, mTLS and wrong-name listeners (fx_gen_pki first, into
# $FX_DIR/pki unless FX_PKI is set). Retries with new ports if one was taken meanwhile.
fx_start_mosquitto() {
    : "${FX_DIR:?fx_init first}"
    FX_PKI=${FX_PKI:-$FX_DIR/pki}
    [ -f "$FX_PKI/server.crt" ] || { fx_log "no PKI in $FX_PKI (fx_gen_pki first)"; return 1; }
    FX_MOSQ_BIN=$(fx_find_mosquitto) || { fx_log "mosquitto not found (set MOSQUITTO)"; return 1; }
    FX_MOSQ_CONF="$FX_DIR/mosquitto.conf"
    FX_MOSQ_LOG="$FX_DIR/mosquitto.log"
    export FX_PKI FX_MOSQ_CONF FX_MOSQ_LOG
    _fx_try=0
    while [ "$_fx_try" -lt 3 ]; do
        _fx_try=$((_fx_try + 1))
        FX_PORT_TCP=$(fx_free_port) && FX_PORT_TLS=$(fx_free_port) &&
            FX_PORT_MTLS=$(fx_free_port) && FX_PORT_WRONG=$(fx_free_port) &&
            FX_PORT_WS=$(fx_free_port) && FX_PORT_WSS=$(fx_free_port) || return 1
        export FX_PORT_TCP FX_PORT_TLS FX_PORT_MTLS FX_PORT_WRONG FX_PORT_WS FX_PORT_WSS
        fx_write_mosquitto_conf
        fx_launch_mosquitto
        case $? in
            0) return 0 ;;
            2) if grep -q 'Address already in use' "$FX_MOSQ_LOG"; then
                   fx_log "port taken, retrying with new ports"
                   wait "$FX_MOSQ_PID" 2>/dev/null
                   continue
               fi ;;
        esac
        break
    done
    fx_log "mosquitto did not start (ports $FX_PORT_TCP $FX_PORT_TLS $FX_PORT_MTLS $FX_PORT_WRONG):"
    cat "$FX_MOSQ_LOG" >&2
    fx_stop_mosquitto KILL
    return 1
}

# fx_stop_mosquitto [TERM|KILL]: signal the recorded PID and reap it.
fx_stop_mosquitto() {
    _fx_sig=${1:-TERM}
    [ -n "${FX_MOSQ_PID:-}" ] || return 0
    kill "-$_fx_sig" "$FX_MOSQ_PID" 2>/dev/null
    _fx_i=0
    while kill -0 "$FX_MOSQ_PID" 2>/dev/null && [ "$_fx_i" -lt 50 ]; do
        sleep 0.1
        _fx_i=$((_fx_i + 1))
    done
    if kill -0 "$FX_MOSQ_PID" 2>/dev/null; then
        kill -KILL "$FX_MOSQ_PID" 2>/dev/null
    fi
    wait "$FX_MOSQ_PID" 2>/dev/null
    FX_MOSQ_PID=
}

# fx_restart_mosquitto [TERM|KILL]: stop (TERM by default) and start again on the same ports
# with the same config and persistence file.
fx_restart_mosquitto() {
    fx_stop_mosquitto "${1:-TERM}"
    fx_launch_mosquitto || {
        fx_log "mosquitto did not restart:"
        tail -n 30 "$FX_MOSQ_LOG" >&2
        return 1
    }
}

# fx_start_sigv4_front: node stand-in for AWS IoT's WebSocket endpoint (sigv4_front.js) that
# checks the SigV4-presigned upgrade URL, then forwards to FX_PORT_WS; a second one serves the
# same over TLS (server.crt). Exports FX_PORT_SIGV4 (ws://), FX_PORT_SIGV4_TLS (wss://) and the
# credentials they accept: FX_SIGV4_AKID, FX_SIGV4_SECRET, FX_SIGV4_REGION.
fx_start_sigv4_front() {
    _fx_node=${NODE:-node}
    command -v "$_fx_node" >/dev/null 2>&1 || { fx_log "node not found"; return 1; }
    _fx_js="${FX_SRC_DIR:-$(cd "$(dirname "$0")" && pwd)}/sigv4_front.js"
    [ -f "$_fx_js" ] || { fx_log "$_fx_js missing (set FX_SRC_DIR)"; return 1; }
    FX_PORT_SIGV4=$(fx_free_port) || return 1
    FX_PORT_SIGV4_TLS=$(fx_free_port) || return 1
    FX_SIGV4_AKID=AKIDEXAMPLE
    FX_SIGV4_SECRET=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
    FX_SIGV4_REGION=us-east-1
    "$_fx_node" "$_fx_js" "$FX_PORT_SIGV4" "$FX_PORT_WS" "$FX_SIGV4_AKID" "$FX_SIGV4_SECRET" \
        "$FX_SIGV4_REGION" >>"$FX_DIR/sigv4_front.log" 2>&1 &
    FX_SIGV4_PID=$!
    fx_record_pid "$FX_SIGV4_PID"
    "$_fx_node" "$_fx_js" "$FX_PORT_SIGV4_TLS" "$FX_PORT_WS" "$FX_SIGV4_AKID" "$FX_SIGV4_SECRET" \
        "$FX_SIGV4_REGION" --tls "$FX_PKI/server.crt" "$FX_PKI/server.key" \
        >>"$FX_DIR/sigv4_front_tls.log" 2>&1 &
    FX_SIGV4_TLS_PID=$!
    fx_record_pid "$FX_SIGV4_TLS_PID"
    export FX_PORT_SIGV4 FX_SIGV4_PID FX_SIGV4_AKID FX_SIGV4_SECRET FX_SIGV4_REGION \
        FX_PORT_SIGV4_TLS FX_SIGV4_TLS_PID
    fx_wait_ports "$FX_SIGV4_PID" 100 "$FX_PORT_SIGV4" || {
        fx_log "SigV4 front did not start:"
        cat "$FX_DIR/sigv4_front.log" >&2
        return 1
    }
    fx_wait_ports "$FX_SIGV4_TLS_PID" 100 "$FX_PORT_SIGV4_TLS" || {
        fx_log "SigV4 TLS front did not start:"
        cat "$FX_DIR/sigv4_front_tls.log" >&2
        return 1
    }
}

# fx_start_alpn_front PROTO...: node TLS server (server.crt) selecting only PROTO..., piping each
# connection to FX_PORT_TCP; a client offering none of them fails the handshake (alert 120).
fx_start_alpn_front() {
    [ "$#" -gt 0 ] || { fx_log "fx_start_alpn_front PROTO..."; return 1; }
    _fx_node=${NODE:-node}
    command -v "$_fx_node" >/dev/null 2>&1 || { fx_log "node not found"; return 1; }
    _fx_js="${FX_SRC_DIR:-$(cd "$(dirname "$0")" && pwd)}/alpn_front.js"
    [ -f "$_fx_js" ] || { fx_log "$_fx_js missing (set FX_SRC_DIR)"; return 1; }
    FX_PORT_ALPN=$(fx_free_port) || return 1
    "$_fx_node" "$_fx_js" "$FX_PORT_ALPN" "$FX_PORT_TCP" "$FX_PKI/server.crt" "$FX_PKI/server.key" \
        "$@" >>"$FX_DIR/alpn_front.log" 2>&1 &
    FX_ALPN_PID=$!
    fx_record_pid "$FX_ALPN_PID"
    export FX_PORT_ALPN FX_ALPN_PID
    fx_wait_ports "$FX_ALPN_PID" 100 "$FX_PORT_ALPN" || {
        fx_log "ALPN front did not start:"
        cat "$FX_DIR/alpn_front.log" >&2
        return 1
    }
}

# fx_start_custom_auth_front: a second alpn_front.js selecting only ALPN "mqtt" (what AWS IoT's
# custom-authorizer endpoint on port 443 expects) that reads the first CONNECT and answers CONNACK
# 0x86 unless its username (without "SDK=..."/"Version=...") is FX_CUSTOM_AUTH_EXPECTED and its
# password FX_CUSTOM_AUTH_PASSWORD; piped to FX_PORT_TCP. Exports FX_PORT_ALPN_MQTT,
# FX_ALPN_MQTT_PID and the FX_CUSTOM_AUTH_* credentials (the signature is base64 with '+', '/'
# and '=', so the expected username holds it URL-encoded as the builders send it). Log:
# $FX_DIR/alpn_mqtt_front.log.
fx_start_custom_auth_front() {
    _fx_node=${NODE:-node}
    command -v "$_fx_node" >/dev/null 2>&1 || { fx_log "node not found"; return 1; }
    _fx_js="${FX_SRC_DIR:-$(cd "$(dirname "$0")" && pwd)}/alpn_front.js"
    [ -f "$_fx_js" ] || { fx_log "$_fx_js missing (set FX_SRC_DIR)"; return 1; }
    FX_CUSTOM_AUTH_USERNAME=device-7
    FX_CUSTOM_AUTH_AUTHORIZER_NAME=TestAuthorizer
    FX_CUSTOM_AUTH_SIGNATURE='dGVzdC1zaWduYXR1cmU+/w=='
    FX_CUSTOM_AUTH_TOKEN_KEY_NAME=token
    FX_CUSTOM_AUTH_TOKEN_VALUE=test-token-value
    FX_CUSTOM_AUTH_PASSWORD=test-password
    FX_CUSTOM_AUTH_EXPECTED="device-7?x-amz-customauthorizer-name=TestAuthorizer&x-amz-customauthorizer-signature=dGVzdC1zaWduYXR1cmU%2B/w%3D%3D&token=test-token-value"
    export FX_CUSTOM_AUTH_USERNAME FX_CUSTOM_AUTH_AUTHORIZER_NAME FX_CUSTOM_AUTH_SIGNATURE \
        FX_CUSTOM_AUTH_TOKEN_KEY_NAME FX_CUSTOM_AUTH_TOKEN_VALUE FX_CUSTOM_AUTH_PASSWORD \
        FX_CUSTOM_AUTH_EXPECTED
    FX_PORT_ALPN_MQTT=$(fx_free_port) || return 1
    "$_fx_node" "$_fx_js" "$FX_PORT_ALPN_MQTT" "$FX_PORT_TCP" "$FX_PKI/server.crt" \
        "$FX_PKI/server.key" mqtt --expect-username "$FX_CUSTOM_AUTH_EXPECTED" \
        --expect-password "$FX_CUSTOM_AUTH_PASSWORD" >>"$FX_DIR/alpn_mqtt_front.log" 2>&1 &
    FX_ALPN_MQTT_PID=$!
    fx_record_pid "$FX_ALPN_MQTT_PID"
    export FX_PORT_ALPN_MQTT FX_ALPN_MQTT_PID
    fx_wait_ports "$FX_ALPN_MQTT_PID" 100 "$FX_PORT_ALPN_MQTT" || {
        fx_log "custom-authorizer ALPN front did not start:"
        cat "$FX_DIR/alpn_mqtt_front.log" >&2
        return 1
    }
}

# fx_find_program NAME: print the path of NAME on PATH, else in /usr/sbin or /usr/local/sbin.
fx_find_program() {
    for _fx_m in "$(command -v "$1" 2>/dev/null)" "/usr/sbin/$1" "/usr/local/sbin/$1"; do
        [ -n "$_fx_m" ] && [ -x "$_fx_m" ] && { printf '%s\n' "$_fx_m"; return 0; }
    done
    return 1
}

# fx_start_tinyproxy: tinyproxy (HTTP CONNECT proxy) in the foreground on a random port with
# Basic authentication ($FX_PROXY_USER / $FX_PROXY_PASS; tinyproxy takes only plain letters and
# digits there). No ConnectPort line, so CONNECT may go to any port. It answers 407 without
# credentials and 401 with wrong ones. Exports FX_PORT_TINYPROXY, FX_TINYPROXY_PID; log:
# $FX_DIR/tinyproxy.log.
fx_start_tinyproxy() {
    _fx_tp=$(fx_find_program tinyproxy) || { fx_log "tinyproxy not found"; return 1; }
    FX_PORT_TINYPROXY=$(fx_free_port) || return 1
    {
        echo "# generated by tests/integration/fixture.sh"
        if [ "$(id -u)" = 0 ]; then
            echo "User nobody"
            echo "Group nogroup"
        fi
        echo "Port $FX_PORT_TINYPROXY"
        echo "Listen 127.0.0.1"
        echo "Allow 127.0.0.1"
        echo "BasicAuth $FX_PROXY_USER $FX_PROXY_PASS"
        echo "Timeout 600"
        echo "MaxClients 100"
        echo "LogLevel Info"
    } >"$FX_DIR/tinyproxy.conf"
    "$_fx_tp" -d -c "$FX_DIR/tinyproxy.conf" >>"$FX_DIR/tinyproxy.log" 2>&1 &
    FX_TINYPROXY_PID=$!
    fx_record_pid "$FX_TINYPROXY_PID"
    export FX_PORT_TINYPROXY FX_TINYPROXY_PID
    fx_wait_ports "$FX_TINYPROXY_PID" 50 "$FX_PORT_TINYPROXY" || {
        fx_log "tinyproxy did not start:"
        cat "$FX_DIR/tinyproxy.log" >&2
        return 1
    }
}

# fx_start_proxy_tls: stunnel in front of tinyproxy (TLS to the proxy, server.crt: localhost and
# 127.0.0.1), in the foreground. Exports FX_PORT_PROXY_TLS, FX_STUNNEL_PID; log:
# $FX_DIR/stunnel.log.
fx_start_proxy_tls() {
    _fx_st=$(fx_find_program stunnel) || _fx_st=$(fx_find_program stunnel4) ||
        { fx_log "stunnel not found"; return 1; }
    FX_PORT_PROXY_TLS=$(fx_free_port) || return 1
    cat >"$FX_DIR/stunnel.conf" <<EOC
; generated by tests/integration/fixture.sh
foreground = yes
pid =
[https-proxy]
accept = 127.0.0.1:$FX_PORT_PROXY_TLS
connect = 127.0.0.1:$FX_PORT_TINYPROXY
cert = $FX_PKI/server.crt
key = $FX_PKI/server.key
EOC
    "$_fx_st" "$FX_DIR/stunnel.conf" >>"$FX_DIR/stunnel.log" 2>&1 &
    FX_STUNNEL_PID=$!
    fx_record_pid "$FX_STUNNEL_PID"
    export FX_PORT_PROXY_TLS FX_STUNNEL_PID
    fx_wait_ports "$FX_STUNNEL_PID" 50 "$FX_PORT_PROXY_TLS" || {
        fx_log "stunnel did not start:"
        cat "$FX_DIR/stunnel.log" >&2
        return 1
    }
}

# fx_start_dante: dante-server (danted) as a SOCKS5 proxy without authentication, in the
# foreground on 127.0.0.1 (danted checks usernames against system accounts, so the username
# case is socks5_server.js's). Exports FX_PORT_DANTE, FX_DANTE_PID; log: $FX_DIR/danted.log.
fx_start_dante() {
    _fx_dd=$(fx_find_program danted) || { fx_log "danted not found"; return 1; }
    FX_PORT_DANTE=$(fx_free_port) || return 1
    {
        echo "# generated by tests/integration/fixture.sh"
        echo "logoutput: stderr"
        echo "internal: 127.0.0.1 port = $FX_PORT_DANTE"
        echo "external: 127.0.0.1"
        echo "socksmethod: none"
        echo "clientmethod: none"
        if [ "$(id -u)" = 0 ]; then
            echo "user.privileged: root"
            echo "user.unprivileged: nobody"
        fi
        echo "client pass { from: 127.0.0.1/32 to: 0.0.0.0/0 }"
        echo "socks pass { from: 127.0.0.1/32 to: 0.0.0.0/0 }"
    } >"$FX_DIR/danted.conf"
    "$_fx_dd" -f "$FX_DIR/danted.conf" -p "$FX_DIR/danted.pid" >>"$FX_DIR/danted.log" 2>&1 &
    FX_DANTE_PID=$!
    fx_record_pid "$FX_DANTE_PID"
    export FX_PORT_DANTE FX_DANTE_PID
    fx_wait_ports "$FX_DANTE_PID" 50 "$FX_PORT_DANTE" || {
        fx_log "danted did not start:"
        cat "$FX_DIR/danted.log" >&2
        return 1
    }
}

# fx_start_socks5: socks5_server.js twice: without authentication (FX_PORT_SOCKS5) and with
# username/password $FX_PROXY_USER / $FX_PROXY_PASS (FX_PORT_SOCKS5_AUTH). Logs:
# $FX_DIR/socks5.log, $FX_DIR/socks5_auth.log.
fx_start_socks5() {
    _fx_node=${NODE:-node}
    command -v "$_fx_node" >/dev/null 2>&1 || { fx_log "node not found"; return 1; }
    _fx_js="${FX_SRC_DIR:-$(cd "$(dirname "$0")" && pwd)}/socks5_server.js"
    [ -f "$_fx_js" ] || { fx_log "$_fx_js missing (set FX_SRC_DIR)"; return 1; }
    FX_PORT_SOCKS5=$(fx_free_port) || return 1
    FX_PORT_SOCKS5_AUTH=$(fx_free_port) || return 1
    "$_fx_node" "$_fx_js" "$FX_PORT_SOCKS5" >>"$FX_DIR/socks5.log" 2>&1 &
    FX_SOCKS5_PID=$!
    fx_record_pid "$FX_SOCKS5_PID"
    "$_fx_node" "$_fx_js" "$FX_PORT_SOCKS5_AUTH" --user "$FX_PROXY_USER" --pass "$FX_PROXY_PASS" \
        >>"$FX_DIR/socks5_auth.log" 2>&1 &
    FX_SOCKS5_AUTH_PID=$!
    fx_record_pid "$FX_SOCKS5_AUTH_PID"
    export FX_PORT_SOCKS5 FX_PORT_SOCKS5_AUTH FX_SOCKS5_PID FX_SOCKS5_AUTH_PID
    fx_wait_ports "$FX_SOCKS5_PID" 100 "$FX_PORT_SOCKS5" &&
        fx_wait_ports "$FX_SOCKS5_AUTH_PID" 100 "$FX_PORT_SOCKS5_AUTH" || {
        fx_log "socks5_server.js did not start:"
        cat "$FX_DIR/socks5.log" "$FX_DIR/socks5_auth.log" >&2
        return 1
    }
}

# fx_start_proxies: every proxy above that can run here (each missing program is logged and its
# variables stay unset, so the tests needing it skip). Exports FX_PROXY_USER, FX_PROXY_PASS.
fx_start_proxies() {
    FX_PROXY_USER=proxy-user
    FX_PROXY_PASS=pr0xyPass7
    export FX_PROXY_USER FX_PROXY_PASS
    if fx_find_program tinyproxy >/dev/null; then
        fx_start_tinyproxy || return 1
        if fx_find_program stunnel >/dev/null || fx_find_program stunnel4 >/dev/null; then
            fx_start_proxy_tls || return 1
        else
            fx_log "stunnel not found: FX_PORT_PROXY_TLS unset (TLS-to-proxy tests skip)"
        fi
    else
        fx_log "tinyproxy not found: FX_PORT_TINYPROXY unset (HTTP proxy tests skip)"
    fi
    if fx_find_program danted >/dev/null; then
        fx_start_dante || return 1
    else
        fx_log "danted not found: FX_PORT_DANTE unset"
    fi
    if command -v "${NODE:-node}" >/dev/null 2>&1; then
        fx_start_socks5 || return 1
    else
        fx_log "node not found: FX_PORT_SOCKS5 unset (SOCKS5 tests skip)"
    fi
}

# fx_down: stop every recorded PID (TERM, then KILL after 2 s), remove FX_DIR unless FX_KEEP=1.
fx_down() {
    [ -n "${FX_DIR:-}" ] || return 0
    if [ -f "${FX_PIDS_FILE:-}" ]; then
        _fx_pids=$(sort -u "$FX_PIDS_FILE")
        for _fx_pid in $_fx_pids; do
            kill -TERM "$_fx_pid" 2>/dev/null
        done
        _fx_i=0
        while [ "$_fx_i" -lt 20 ]; do
            _fx_alive=
            for _fx_pid in $_fx_pids; do
                kill -0 "$_fx_pid" 2>/dev/null && _fx_alive=1
            done
            [ -z "$_fx_alive" ] && break
            sleep 0.1
            _fx_i=$((_fx_i + 1))
        done
        for _fx_pid in $_fx_pids; do
            kill -KILL "$_fx_pid" 2>/dev/null
            wait "$_fx_pid" 2>/dev/null
        done
    fi
    FX_MOSQ_PID=
    if [ -n "${FX_WATCHDOG_PID:-}" ]; then
        kill -KILL "$FX_WATCHDOG_PID" 2>/dev/null # its `sleep 1` child ends by itself
        wait "$FX_WATCHDOG_PID" 2>/dev/null
        FX_WATCHDOG_PID=
    fi
    if [ "${FX_KEEP:-0}" = 1 ]; then
        fx_log "kept $FX_DIR"
    else
        rm -rf "$FX_DIR"
    fi
    FX_DIR=
}

# fx_run EXE [ARGS...]: the whole fixture around one program; returns its exit status.
fx_run() {
    [ "$#" -gt 0 ] || { echo "usage: fixture.sh run <exe> [args...]" >&2; return 2; }
    fx_init || return 1
    fx_gen_pki "$FX_DIR/pki" || return 1
    FX_PKI="$FX_DIR/pki"
    export FX_PKI
    fx_start_mosquitto || return 1
    if command -v "${NODE:-node}" >/dev/null 2>&1; then
        fx_start_alpn_front x-amzn-mqtt-ca || return 1
        fx_start_sigv4_front || return 1
        fx_start_custom_auth_front || return 1
    else
        fx_log "node not found: FX_PORT_ALPN unset (ALPN tests skip)"
    fi
    fx_start_proxies || return 1
    "$@"
    _fx_rc=$?
    if [ "$_fx_rc" != 0 ]; then
        fx_log "$1 exited with $_fx_rc; mosquitto log tail:"
        tail -n 40 "$FX_MOSQ_LOG" >&2
        if [ -s "$FX_DIR/alpn_front.log" ]; then
            fx_log "alpn front log tail:"
            tail -n 20 "$FX_DIR/alpn_front.log" >&2
        fi
        if [ -s "$FX_DIR/alpn_mqtt_front.log" ]; then
            fx_log "custom-authorizer front log tail:"
            tail -n 20 "$FX_DIR/alpn_mqtt_front.log" >&2
        fi
    fi
    return "$_fx_rc"
}

case "${0##*/}" in
    fixture.sh)
        if [ "${1:-}" = run ]; then
            shift
            FX_SRC_DIR=${FX_SRC_DIR:-$(cd "$(dirname "$0")" && pwd)}
            fx_run "$@"
            exit $?
        fi
        echo "usage: fixture.sh run <exe> [args...]   (or source it for the fx_* functions)" >&2
        exit 2
        ;;
esac
