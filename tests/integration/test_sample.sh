#!/bin/sh
# tests/integration/test_sample.sh - end-to-end checks of samples/mqtt5_pubsub against a real
# mosquitto (tests/integration/fixture.sh: throw-away PKI, random 127.0.0.1 ports):
#   1. golden output of the default run over mutual TLS (client id masked; within each message
#      the PubAck and Received lines may come in either order), exit 0, nothing on stderr;
#   2. --count 8 across a broker SIGKILL and restart: the sample resubscribes (clean session),
#      republishes what was lost, exits 0 with "8 message(s) received.";
#   3. a CA that did not sign the server (other-ca.crt): fails fast, exit 1, the failure lines
#      naming MQTT5_ERR_TLS_UNTRUSTED_CERT;
#   4. usage errors (unknown option, bad number, bad choice, missing --endpoint, unreadable
#      --cert, --cert without --key, ...): exit 2, argparse-style message, nothing on stdout;
#   5. --proxy_host to a port nobody listens on: "cannot reach the HTTP proxy", exit 1; --help:
#      exit 0;
#   6. usage errors of the WebSocket/SigV4 flags (--cognito_* without --signing_region or without
#      each other, --signing_region with --cert/--key, a value given to --use_websockets): exit 2;
#   7. --use_websockets against mosquitto's wss:// listener: --count 3, exit 0; against the SigV4
#      front (nothing signed): refused, exit 1;
#   8. (node) --signing_region through the fixture's SigV4-checking wss:// front, credentials
#      from the default chain's environment provider (HOME empty, IMDS disabled, no other AWS_*
#      variable): --count 3, exit 0; a wrong secret: refused, exit 1 with an error;
#   9. (node) --signing_region with --cognito_identity/--cognito_endpoint: Cognito's
#      GetCredentialsForIdentity answered by tests/credentials/fake_aws.js replaying
#      tests/credentials/cognito_sample/http-traffic.json (the front's key and secret, a session
#      token): --count 3, exit 0, one request with the Cognito target and the identity id;
#  10. (node) --custom_auth_*: through the fixture's custom-authorizer front (TLS, ALPN "mqtt"
#      only, username and password checked, fx_start_custom_auth_front): --count 3, exit 0, the
#      front accepting the credentials; a wrong password: CONNACK 0x86, exit 1, fast; the
#      password never printed; --use_websockets with --custom_auth_* against mosquitto's wss://
#      listener: --count 3, exit 0; usage errors of the --custom_auth_* flags: exit 2;
#  11. --proxy_* / --socks5_* (fx_start_proxies): the whole flow (--count 3) through tinyproxy
#      with Basic authentication, through stunnel + tinyproxy with --proxy_tls/--proxy_ca_file,
#      and through the SOCKS5 server with username/password, each seen in the proxy's log; a
#      wrong proxy password: MQTT5_ERR_PROXY with tinyproxy's 401, exit 1, fast, the password never
#      printed; usage errors of the proxy flags: exit 2.
#  12. --pkcs12_file / --pkcs11_lib: mutual TLS with a PKCS#12 file (OpenSSL 3 default and
#      -legacy, made from the fixture's client certificates) and with the fixture's EC and RSA
#      client keys imported into a SoftHSM2 token (chosen by --token_label and by --slot_id):
#      --count 3, exit 0 each; a wrong PKCS#12 password and a wrong PIN fail when the client is
#      created (exit 1, the keyword and CKR_PIN_INCORRECT named), the secrets never printed;
#      usage errors of the flags: exit 2. The SoftHSM2 runs skip without softhsm2-util.
#
# Usage: test_sample.sh <build dir>   (ctest runs it so, with MOSQUITTO set; FX_KEEP=1 keeps the
# temp dir with every run's stdout/stderr)
set -u
build=${1:-${MQTT5_BUILD_DIR:-}}
[ -n "$build" ] || { echo "usage: $0 <build dir>" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
sample="$build/samples/mqtt5_pubsub"
expected="$here/expected/pubsub_default.txt"
[ -x "$sample" ] || { echo "test_sample: $sample not built" >&2; exit 1; }
unset MQTT5_LOG_LEVEL
# nothing from the caller's AWS configuration reaches the credential providers
for _v in $(env | sed -n 's/^\(AWS_[A-Za-z0-9_]*\)=.*/\1/p'); do
    unset "$_v"
done

# shellcheck source=SCRIPTDIR/fixture.sh
. "$here/fixture.sh"
fx_init || exit 1
fx_gen_pki "$FX_DIR/pki" || exit 1
FX_PKI="$FX_DIR/pki"
export FX_PKI
fx_start_mosquitto || exit 1
pki=$FX_PKI
have_node=0
if command -v "${NODE:-node}" >/dev/null 2>&1; then
    fx_start_sigv4_front || exit 1
    have_node=1
fi

failures=0
tab=$(printf '\t')

pass() { echo "ok - $*"; }
fail() {
    echo "not ok - $*"
    failures=$((failures + 1))
}

# show NAME: the captured output of a run, for a failure report.
show() {
    echo "    --- stdout of $1:"
    sed 's/^/    | /' "$FX_DIR/$1.out"
    echo "    --- stderr of $1:"
    sed 's/^/    | /' "$FX_DIR/$1.err"
}

# runcmd NAME CMD ARGS...: CMD with a hard time limit; stdout/stderr in $FX_DIR/NAME.{out,err};
# exit status in $rc, seconds taken in $took.
runcmd() {
    _name=$1
    shift
    _t0=$(date +%s)
    timeout -s KILL 300 "$@" >"$FX_DIR/$_name.out" 2>"$FX_DIR/$_name.err"
    rc=$?
    took=$(($(date +%s) - _t0))
}

# run NAME ARGS...: the sample, as runcmd.
run() {
    _name=$1
    shift
    runcmd "$_name" "$sample" "$@"
}

mask() { sed 's/mqtt5-sample-[0-9a-f]\{8\}/mqtt5-sample-XXXXXXXX/g'; }

# normalize: within each "Publishing message" block, sort the PubAck/Received lines (their
# order depends on which packet the broker sends first); everything else keeps its place.
normalize() {
    awk -v OFS="$tab" '
        /^Publishing message to topic / { b++; blk = 1; print b, 0, $0; next }
        blk && (/^PubAck received with / || /^Received message from topic/) { print b, 1, $0; next }
        { b++; blk = 0; print b, 0, $0 }' |
        LC_ALL=C sort -t "$tab" -k1,1n -k2,2n -k3 | cut -f3-
}

mtls() {
    echo --endpoint localhost --port "$FX_PORT_MTLS" --cert "$pki/client.crt" \
        --key "$pki/client.key"
}

# ---- 1. golden output ---------------------------------------------------------------------------
# shellcheck disable=SC2046
run default $(mtls) --ca_file "$pki/ca.crt"
mask <"$FX_DIR/default.out" | normalize >"$FX_DIR/default.norm"
normalize <"$expected" >"$FX_DIR/expected.norm"
if [ "$rc" -ne 0 ]; then
    fail "default run: exit status $rc, expected 0"
    show default
elif ! diff -u "$FX_DIR/expected.norm" "$FX_DIR/default.norm" >"$FX_DIR/default.diff"; then
    fail "default run: output differs from expected/pubsub_default.txt"
    sed 's/^/    /' "$FX_DIR/default.diff"
elif [ -s "$FX_DIR/default.err" ]; then
    fail "default run: unexpected stderr"
    show default
else
    pass "default run: golden output, exit 0 ($took s)"
fi

# ---- 2. broker killed and restarted in the middle of --count 8 ---------------------------------
: >"$FX_DIR/restart.out"
# shellcheck disable=SC2046
timeout -s KILL 300 "$sample" $(mtls) --ca_file "$pki/ca.crt" --count 8 \
    >"$FX_DIR/restart.out" 2>"$FX_DIR/restart.err" &
spid=$!
i=0
while [ "$i" -lt 300 ] &&
    ! grep -q "^Publishing message to topic 'test/topic': Hello from mqtt5 sample \[3\]\$" \
        "$FX_DIR/restart.out"; do
    sleep 0.1
    i=$((i + 1))
done
sleep 0.5
fx_stop_mosquitto KILL
sleep 1.5
restarted=1
fx_restart_mosquitto TERM >/dev/null 2>&1 # the stop is a no-op now (already down); then start
fx_port_listening "$FX_PORT_MTLS" || restarted=0
wait "$spid"
rc=$?
o="$FX_DIR/restart.out"
if [ "$restarted" -ne 1 ]; then
    fail "restart: mosquitto did not come back"
    tail -n 20 "$FX_MOSQ_LOG" | sed 's/^/    /'
elif [ "$rc" -ne 0 ]; then
    fail "restart: exit status $rc, expected 0"
    show restart
elif ! grep -qx '8 message(s) received\.' "$o"; then
    fail "restart: no '8 message(s) received.'"
    show restart
elif ! grep -qx 'Lifecycle Disconnection' "$o" ||
    ! grep -qx "Resubscribing to topic 'test/topic' (session not resumed)\.\.\." "$o"; then
    fail "restart: no disconnection / resubscription seen"
    show restart
elif ! grep -qx 'Client Stopped!' "$o"; then
    fail "restart: did not stop cleanly"
    show restart
else
    pass "restart: broker SIGKILLed and restarted, resubscribed, 8 message(s) received, exit 0"
fi

# ---- 3. wrong CA: fail fast ---------------------------------------------------------------------
# shellcheck disable=SC2046
run wrongca $(mtls) --ca_file "$pki/other-ca.crt"
mask <"$FX_DIR/wrongca.out" >"$FX_DIR/wrongca.masked"
cat >"$FX_DIR/wrongca.head" <<'EOF'

Starting MQTT5 PubSub Sample

MQTT5 Client Created
Connecting to localhost with client ID 'mqtt5-sample-XXXXXXXX'...
Lifecycle Connection Failure
EOF
head -n 6 "$FX_DIR/wrongca.masked" >"$FX_DIR/wrongca.got"
last=$(sed -n 7p "$FX_DIR/wrongca.masked")
lines=$(wc -l <"$FX_DIR/wrongca.masked")
prefix='Connection failed with exception:MQTT5_ERR_TLS_UNTRUSTED_CERT: server certificate is not trusted'
if [ "$rc" -ne 1 ]; then
    fail "wrong CA: exit status $rc, expected 1"
    show wrongca
elif ! cmp -s "$FX_DIR/wrongca.head" "$FX_DIR/wrongca.got" || [ "$lines" -ne 7 ]; then
    fail "wrong CA: unexpected output"
    show wrongca
elif case $last in "$prefix ("*")") false ;; *) true ;; esac; then
    fail "wrong CA: failure line does not name MQTT5_ERR_TLS_UNTRUSTED_CERT with a detail"
    show wrongca
elif ! grep -q '^Error: connection failed: MQTT5_ERR_TLS_UNTRUSTED_CERT' "$FX_DIR/wrongca.err"; then
    fail "wrong CA: no 'Error: ...' line on stderr"
    show wrongca
elif [ "$took" -gt 15 ]; then
    fail "wrong CA: took $took s (no fail-fast)"
else
    pass "wrong CA: exit 1, MQTT5_ERR_TLS_UNTRUSTED_CERT ($took s)"
fi

# ---- 4. usage errors: exit 2 --------------------------------------------------------------------
# usage NAME EXPECTED-ERROR-PREFIX ARGS...
usage() {
    _n=$1 _want=$2
    shift 2
    run "$_n" "$@"
    _first=$(sed -n 1p "$FX_DIR/$_n.err")
    _last=$(tail -n 1 "$FX_DIR/$_n.err")
    if [ "$rc" -ne 2 ]; then
        fail "usage ($_n): exit status $rc, expected 2"
        show "$_n"
    elif [ -s "$FX_DIR/$_n.out" ]; then
        fail "usage ($_n): unexpected stdout"
        show "$_n"
    elif case $_first in "usage: mqtt5_pubsub "*) false ;; *) true ;; esac; then
        fail "usage ($_n): no usage line"
        show "$_n"
    elif case $_last in "mqtt5_pubsub: error: $_want"*) false ;; *) true ;; esac; then
        fail "usage ($_n): expected 'mqtt5_pubsub: error: $_want...'"
        show "$_n"
    else
        pass "usage ($_n): exit 2, $_last"
    fi
}
usage unknown "unrecognized arguments: --bogus" --endpoint localhost --bogus
usage positional "unrecognized arguments: extra" --endpoint localhost extra
usage count "argument --count: invalid int value: 'x'" --endpoint localhost --count x
usage count_eq "argument --count: invalid int value: '1.5'" --endpoint=localhost --count=1.5
usage count_neg "argument --count: invalid count: '-1'" --endpoint localhost --count -1
usage port "argument --port: invalid port value: '70000'" --endpoint localhost --port 70000
usage no_endpoint "the following arguments are required: --endpoint" --count 3
usage no_value "argument --endpoint: expected one argument" --endpoint
usage verbosity "argument --verbosity: invalid choice: 'Loud'" --endpoint localhost --verbosity Loud
usage cert_missing "argument --cert: can't open '$FX_DIR/missing.crt': [Errno 2]" \
    --endpoint localhost --cert "$FX_DIR/missing.crt" --key "$pki/client.key"
usage cert_dir "argument --cert: can't open '$FX_DIR': [Errno 21]" \
    --endpoint localhost --cert "$FX_DIR" --key "$pki/client.key"
usage ca_missing "argument --ca_file: can't open '$FX_DIR/none.crt'" \
    --endpoint localhost --ca_file "$FX_DIR/none.crt"
usage cert_alone "arguments --cert and --key" --endpoint localhost --cert "$pki/client.crt"

# ---- 5. an unreachable proxy, --help -------------------------------------------------------------
# shellcheck disable=SC2046
run proxy $(mtls) --ca_file "$pki/ca.crt" --proxy_host 127.0.0.1 --proxy_port "$(fx_free_port)"
if [ "$rc" -eq 1 ] &&
    grep -q '^Error: connection failed: MQTT5_ERR_CONNECT_REFUSED' "$FX_DIR/proxy.err" &&
    grep -q '^Connection failed with exception:.*(cannot reach the HTTP proxy: ' \
        "$FX_DIR/proxy.out"; then
    pass "proxy: unreachable proxy, MQTT5_ERR_CONNECT_REFUSED, exit 1"
else
    fail "proxy: expected exit 1 with MQTT5_ERR_CONNECT_REFUSED from the proxy (got $rc)"
    show proxy
fi
run help --help
if [ "$rc" -eq 0 ] && head -n 1 "$FX_DIR/help.out" | grep -q '^usage: mqtt5_pubsub ' &&
    grep -q -- '--verbosity' "$FX_DIR/help.out"; then
    pass "--help: exit 0"
else
    fail "--help: exit status $rc"
    show help
fi

# ---- 6. usage errors of the WebSocket / SigV4 flags: exit 2 -------------------------------------
usage cognito_alone "arguments --cognito_identity and --cognito_endpoint: require --signing_region" \
    --endpoint localhost --cognito_identity us-east-1:1234 --cognito_endpoint http://127.0.0.1:1
usage cognito_id_only "arguments --cognito_identity and --cognito_endpoint: give both" \
    --endpoint localhost --signing_region us-east-1 --cognito_identity us-east-1:1234
usage cognito_ep_only "arguments --cognito_identity and --cognito_endpoint: give both" \
    --endpoint localhost --signing_region us-east-1 --cognito_endpoint http://127.0.0.1:1
usage cognito_ep_no_region "arguments --cognito_identity and --cognito_endpoint: give both" \
    --endpoint localhost --cognito_endpoint http://127.0.0.1:1
usage signing_cert "argument --signing_region: not allowed with argument --cert" \
    --endpoint localhost --signing_region us-east-1 --cert "$pki/client.crt" --key "$pki/client.key"
usage signing_key "arguments --cert and --key" \
    --endpoint localhost --signing_region us-east-1 --key "$pki/client.key"
usage signing_empty "argument --signing_region: must not be empty" \
    --endpoint localhost --signing_region ""
usage signing_no_value "argument --signing_region: expected one argument" \
    --endpoint localhost --signing_region --use_websockets
usage ws_value "argument --use_websockets: ignored explicit argument 'yes'" \
    --endpoint localhost --use_websockets=yes
if grep -q -- '--signing_region SIGNING_REGION' "$FX_DIR/help.out" &&
    grep -q -- '--use_websockets' "$FX_DIR/help.out" &&
    grep -q -- '--cognito_endpoint COGNITO_ENDPOINT' "$FX_DIR/help.out"; then
    pass "--help: lists --use_websockets, --signing_region, --cognito_*"
else
    fail "--help: the WebSocket/SigV4 flags are missing"
    show help
fi

# flow NAME: a --count 3 run ended well (exit 0, every message back, stopped, stderr empty)
flow() {
    _o="$FX_DIR/$1.out"
    if [ "$rc" -ne 0 ]; then
        fail "$1: exit status $rc, expected 0"
        show "$1"
    elif ! grep -q "^Connected to endpoint:'" "$_o" || ! grep -qx '3 message(s) received\.' "$_o"; then
        fail "$1: not connected or messages missing"
        show "$1"
    elif ! grep -qx 'Client Stopped!' "$_o"; then
        fail "$1: did not stop cleanly"
        show "$1"
    elif [ -s "$FX_DIR/$1.err" ]; then
        fail "$1: unexpected stderr"
        show "$1"
    else
        return 0
    fi
    return 1
}

# ---- 7. --use_websockets: MQTT over wss:// without signing --------------------------------------
run wss --endpoint localhost --port "$FX_PORT_WSS" --ca_file "$pki/ca.crt" --use_websockets \
    --count 3
flow wss && pass "--use_websockets: wss:// to mosquitto, 3 message(s) received, exit 0 ($took s)"
if [ "$have_node" = 1 ]; then
    run wss_unsigned --endpoint 127.0.0.1 --port "$FX_PORT_SIGV4_TLS" --ca_file "$pki/ca.crt" \
        --use_websockets --count 3
    if [ "$rc" -eq 1 ] &&
        grep -q '^Error: connection failed: MQTT5_ERR_WEBSOCKET_HANDSHAKE' "$FX_DIR/wss_unsigned.err"
    then
        pass "--use_websockets: an unsigned upgrade is refused by the SigV4 front, exit 1"
    else
        fail "--use_websockets against the SigV4 front: expected exit 1 with MQTT5_ERR_WEBSOCKET_HANDSHAKE (got $rc)"
        show wss_unsigned
    fi
fi

# ---- 8. --signing_region: SigV4 with the default chain (environment) ----------------------------
if [ "$have_node" = 1 ]; then
    home_empty="$FX_DIR/home-empty"
    mkdir -p "$home_empty"
    # sigv4 NAME SECRET ARGS...: the sample with only these AWS settings in its environment
    sigv4() {
        _n=$1 _secret=$2
        shift 2
        runcmd "$_n" env HOME="$home_empty" AWS_EC2_METADATA_DISABLED=true \
            AWS_ACCESS_KEY_ID="$FX_SIGV4_AKID" AWS_SECRET_ACCESS_KEY="$_secret" \
            "$sample" --signing_region "$FX_SIGV4_REGION" --endpoint 127.0.0.1 \
            --port "$FX_PORT_SIGV4_TLS" --ca_file "$pki/ca.crt" "$@"
    }
    accepted_before=$(grep -c 'sigv4_front: accepted' "$FX_DIR/sigv4_front_tls.log")
    sigv4 sigv4 "$FX_SIGV4_SECRET" --count 3
    accepted_after=$(grep -c 'sigv4_front: accepted' "$FX_DIR/sigv4_front_tls.log")
    if ! flow sigv4; then
        :
    elif [ "$accepted_after" -le "$accepted_before" ]; then
        fail "sigv4: the SigV4 front accepted no upgrade"
        sed 's/^/    | /' "$FX_DIR/sigv4_front_tls.log"
    elif grep -qF "$FX_SIGV4_SECRET" "$FX_DIR/sigv4.out" "$FX_DIR/sigv4.err"; then
        fail "sigv4: the secret was printed"
    else
        pass "sigv4: signed wss:// through the checking front, 3 message(s) received, exit 0 ($took s)"
    fi

    sigv4 sigv4_wrong "wrong/K7MDENG+bPxRfiCYEXAMPLEKEYwJalrXUtnFEMI" --count 3
    if [ "$rc" -ne 1 ]; then
        fail "sigv4 wrong secret: exit status $rc, expected 1"
        show sigv4_wrong
    elif ! grep -qx 'Lifecycle Connection Failure' "$FX_DIR/sigv4_wrong.out" ||
        ! grep -q '^Error: connection failed: MQTT5_ERR_' "$FX_DIR/sigv4_wrong.err"; then
        fail "sigv4 wrong secret: no connection failure / error message"
        show sigv4_wrong
    elif ! grep -q 'refused: signature mismatch' "$FX_DIR/sigv4_front_tls.log"; then
        fail "sigv4 wrong secret: the front did not refuse a signature"
        sed 's/^/    | /' "$FX_DIR/sigv4_front_tls.log"
    elif [ "$took" -gt 15 ]; then
        fail "sigv4 wrong secret: took $took s (no fail-fast)"
    else
        pass "sigv4 wrong secret: refused, exit 1, $(sed -n 1p "$FX_DIR/sigv4_wrong.err")"
    fi
else
    echo "ok - sigv4 # SKIP node not found"
fi

# ---- 9. --signing_region with Cognito (fake_aws.js) ---------------------------------------------
cognito_check() {
    # shellcheck disable=SC2016 # JavaScript, not shell
    "${NODE:-node}" -e '
        const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        const q = r.requests[0] || {};
        const why = r.unexpected.length ? "unexpected requests" :
            r.consumed !== 1 ? `${r.consumed} request(s) matched, expected 1` :
            q.headers["x-amz-target"] !== "AWSCognitoIdentityService.GetCredentialsForIdentity" ?
                "no Cognito X-Amz-Target" :
            !/"IdentityId"\s*:\s*"us-east-1:1234"/.test(q.body) ? "no IdentityId in the body" : "";
        if (why) { console.log(why); console.log(JSON.stringify(r.requests)); process.exit(1); }
    ' "$1"
}
if [ "$have_node" = 1 ]; then
    fake_js="$here/../credentials/fake_aws.js"
    "${NODE:-node}" "$fake_js" --traffic "$here/../credentials/cognito_sample/http-traffic.json" \
        --cert "$pki/server.crt" --key "$pki/server.key" --report "$FX_DIR/fake_aws.json" \
        >"$FX_DIR/fake_aws.out" 2>"$FX_DIR/fake_aws.err" &
    fake_pid=$!
    fx_record_pid "$fake_pid"
    i=0
    while [ "$i" -lt 100 ] && ! grep -q '^READY ' "$FX_DIR/fake_aws.out"; do
        sleep 0.1
        i=$((i + 1))
    done
    cognito_port=$(sed -n 's/^READY \([0-9]*\) .*/\1/p' "$FX_DIR/fake_aws.out")
    if [ -z "$cognito_port" ]; then
        fail "cognito: fake_aws.js did not start"
        sed 's/^/    | /' "$FX_DIR/fake_aws.err"
    else
        runcmd cognito env HOME="$home_empty" AWS_EC2_METADATA_DISABLED=true \
            "$sample" --signing_region "$FX_SIGV4_REGION" --cognito_identity us-east-1:1234 \
            --cognito_endpoint "http://127.0.0.1:$cognito_port" --endpoint 127.0.0.1 \
            --port "$FX_PORT_SIGV4_TLS" --ca_file "$pki/ca.crt" --count 3
        kill -TERM "$fake_pid" 2>/dev/null # it writes its report and exits
        wait "$fake_pid" 2>/dev/null
        if ! flow cognito; then
            :
        elif ! why=$(cognito_check "$FX_DIR/fake_aws.json"); then
            fail "cognito: the Cognito call: $why"
        else
            pass "cognito: credentials from GetCredentialsForIdentity, signed wss://, 3 message(s) received, exit 0 ($took s)"
        fi
    fi
else
    echo "ok - cognito # SKIP node not found"
fi

# ---- 10. --custom_auth_*: an AWS IoT custom authorizer --------------------------------------------
usage ca_cert "argument --cert: not allowed with the --custom_auth_* arguments" \
    --endpoint localhost --custom_auth_authorizer_name A --cert "$pki/client.crt" \
    --key "$pki/client.key"
usage ca_signing "argument --signing_region: not allowed with the --custom_auth_* arguments" \
    --endpoint localhost --custom_auth_password p --signing_region us-east-1
usage ca_key_only "arguments --custom_auth_token_key_name and --custom_auth_token_value" \
    --endpoint localhost --custom_auth_token_key_name token
usage ca_value_only "arguments --custom_auth_token_key_name and --custom_auth_token_value" \
    --endpoint localhost --custom_auth_token_value abc
usage ca_empty_name "argument --custom_auth_authorizer_name: must not be empty" \
    --endpoint localhost --custom_auth_authorizer_name ""
if grep -q -- '--custom_auth_authorizer_name CUSTOM_AUTH_AUTHORIZER_NAME' "$FX_DIR/help.out" &&
    grep -q -- '--custom_auth_token_value CUSTOM_AUTH_TOKEN_VALUE' "$FX_DIR/help.out"; then
    pass "--help: lists --custom_auth_*"
else
    fail "--help: the --custom_auth_* flags are missing"
    show help
fi
if [ "$have_node" = 1 ] && fx_start_custom_auth_front; then
    # custom_auth NAME PASSWORD ARGS...: the sample with the fixture's authorizer credentials
    custom_auth() {
        _n=$1 _pw=$2
        shift 2
        run "$_n" --endpoint localhost --port "$FX_PORT_ALPN_MQTT" --ca_file "$pki/ca.crt" \
            --custom_auth_username "$FX_CUSTOM_AUTH_USERNAME" \
            --custom_auth_authorizer_name "$FX_CUSTOM_AUTH_AUTHORIZER_NAME" \
            --custom_auth_authorizer_signature "$FX_CUSTOM_AUTH_SIGNATURE" \
            --custom_auth_password "$_pw" \
            --custom_auth_token_key_name "$FX_CUSTOM_AUTH_TOKEN_KEY_NAME" \
            --custom_auth_token_value "$FX_CUSTOM_AUTH_TOKEN_VALUE" "$@"
    }
    ca_log="$FX_DIR/alpn_mqtt_front.log"
    accepted_before=$(grep -c 'credentials accepted' "$ca_log")
    custom_auth custom_auth "$FX_CUSTOM_AUTH_PASSWORD" --count 3
    accepted_after=$(grep -c 'credentials accepted' "$ca_log")
    if ! flow custom_auth; then
        :
    elif [ "$accepted_after" -le "$accepted_before" ] || ! grep -q 'selected mqtt' "$ca_log"; then
        fail "custom_auth: the front did not accept the credentials over ALPN mqtt"
        sed 's/^/    | /' "$ca_log"
    else
        pass "custom_auth: ALPN mqtt, username and password accepted, 3 message(s) received, exit 0 ($took s)"
    fi

    custom_auth custom_auth_wrong "not-the-password" --count 3
    if [ "$rc" -ne 1 ]; then
        fail "custom_auth wrong password: exit status $rc, expected 1"
        show custom_auth_wrong
    elif ! grep -q 'BAD_USERNAME_OR_PASSWORD: 134' "$FX_DIR/custom_auth_wrong.out" ||
        ! grep -q '^Error: connection failed: MQTT5_ERR_CONNACK_REFUSED' \
            "$FX_DIR/custom_auth_wrong.err"; then
        fail "custom_auth wrong password: no CONNACK 0x86 failure / error message"
        show custom_auth_wrong
    elif ! grep -q 'credentials refused: wrong password' "$ca_log"; then
        fail "custom_auth wrong password: the front did not refuse the password"
        sed 's/^/    | /' "$ca_log"
    elif [ "$took" -gt 15 ]; then
        fail "custom_auth wrong password: took $took s (no fail-fast)"
    elif grep -qF -e "$FX_CUSTOM_AUTH_PASSWORD" -e "not-the-password" \
        "$FX_DIR/custom_auth.out" "$FX_DIR/custom_auth.err" "$FX_DIR/custom_auth_wrong.out" \
        "$FX_DIR/custom_auth_wrong.err"; then
        fail "custom_auth: a password was printed"
    else
        pass "custom_auth wrong password: CONNACK 0x86, exit 1 ($took s)"
    fi
else
    echo "ok - custom_auth # SKIP node not found"
fi
run custom_auth_wss --endpoint localhost --port "$FX_PORT_WSS" --ca_file "$pki/ca.crt" \
    --use_websockets --custom_auth_username ws-device --custom_auth_authorizer_name WsAuth \
    --custom_auth_password ws-password --count 3
if flow custom_auth_wss; then
    if grep -q "u'ws-device?x-amz-customauthorizer-name=WsAuth&SDK=" "$FX_MOSQ_LOG"; then
        pass "custom_auth --use_websockets: wss:// to mosquitto with the authorizer username, 3 message(s) received, exit 0 ($took s)"
    else
        fail "custom_auth --use_websockets: mosquitto logged no CONNECT with the authorizer username"
    fi
fi

# ---- 11. --proxy_* / --socks5_*: through real proxies ---------------------------------------------
usage proxy_both "argument --socks5_host: not allowed with argument --proxy_host" \
    --endpoint localhost --proxy_host 127.0.0.1 --socks5_host 127.0.0.1
usage proxy_user_alone "argument --proxy_username: requires --proxy_host" \
    --endpoint localhost --proxy_username u
usage proxy_pass_alone "argument --proxy_password: requires --proxy_username" \
    --endpoint localhost --proxy_host 127.0.0.1 --proxy_password p
usage proxy_ca_no_tls "argument --proxy_ca_file: requires --proxy_tls" \
    --endpoint localhost --proxy_host 127.0.0.1 --proxy_ca_file "$pki/ca.crt"
usage proxy_tls_value "argument --proxy_tls: ignored explicit argument 'yes'" \
    --endpoint localhost --proxy_host 127.0.0.1 --proxy_tls=yes
usage socks5_port "argument --socks5_port: invalid int value: 'x'" \
    --endpoint localhost --socks5_host 127.0.0.1 --socks5_port x
usage socks5_user_alone "argument --socks5_username: requires --socks5_host" \
    --endpoint localhost --socks5_username u
if grep -q -- '--proxy_tls' "$FX_DIR/help.out" &&
    grep -q -- '--socks5_password SOCKS5_PASSWORD' "$FX_DIR/help.out" &&
    ! grep -q 'not supported yet' "$FX_DIR/help.out"; then
    pass "--help: lists --proxy_* and --socks5_*"
else
    fail "--help: the proxy flags are missing"
    show help
fi
fx_start_proxies >"$FX_DIR/proxies.log" 2>&1 || {
    fail "proxies: fx_start_proxies failed"
    sed 's/^/    | /' "$FX_DIR/proxies.log"
}
# secret_printed NAME...: true when a proxy password appears in any of the runs' output
secret_printed() {
    for _n in "$@"; do
        grep -qF -e "$FX_PROXY_PASS" -e "wrongpass" "$FX_DIR/$_n.out" "$FX_DIR/$_n.err" && return 0
    done
    return 1
}
if [ -n "${FX_PORT_TINYPROXY:-}" ]; then
    tp_log="$FX_DIR/tinyproxy.log"
    connects() { grep -c "CONNECT localhost:$FX_PORT_MTLS HTTP/1.1" "$tp_log"; }
    before=$(connects)
    # shellcheck disable=SC2046
    run proxy_http $(mtls) --ca_file "$pki/ca.crt" --count 3 --proxy_host 127.0.0.1 \
        --proxy_port "$FX_PORT_TINYPROXY" --proxy_username "$FX_PROXY_USER" \
        --proxy_password "$FX_PROXY_PASS"
    if ! flow proxy_http; then
        :
    elif [ "$(connects)" -le "$before" ]; then
        fail "proxy_http: tinyproxy logged no CONNECT"
    else
        pass "proxy_http: mTLS through tinyproxy (Basic), 3 message(s) received, exit 0 ($took s)"
    fi

    if [ -n "${FX_PORT_PROXY_TLS:-}" ]; then
        before=$(connects)
        # shellcheck disable=SC2046
        run proxy_tls $(mtls) --ca_file "$pki/ca.crt" --count 3 --proxy_host localhost \
            --proxy_port "$FX_PORT_PROXY_TLS" --proxy_tls --proxy_ca_file "$pki/ca.crt" \
            --proxy_username "$FX_PROXY_USER" --proxy_password "$FX_PROXY_PASS"
        if ! flow proxy_tls; then
            :
        elif [ "$(connects)" -le "$before" ]; then
            fail "proxy_tls: tinyproxy logged no CONNECT"
        else
            pass "proxy_tls: TLS to stunnel + tinyproxy, mTLS inside, 3 message(s) received, exit 0 ($took s)"
        fi
    else
        echo "ok - proxy_tls # SKIP stunnel not found"
    fi

    # shellcheck disable=SC2046
    run proxy_wrong $(mtls) --ca_file "$pki/ca.crt" --count 3 --proxy_host 127.0.0.1 \
        --proxy_port "$FX_PORT_TINYPROXY" --proxy_username "$FX_PROXY_USER" \
        --proxy_password wrongpass
    if [ "$rc" -ne 1 ]; then
        fail "proxy wrong password: exit status $rc, expected 1"
        show proxy_wrong
    elif ! grep -q '^Error: connection failed: MQTT5_ERR_PROXY' "$FX_DIR/proxy_wrong.err" ||
        ! grep -q "^Connection failed with exception:MQTT5_ERR_PROXY.*'HTTP/1.0 401 Unauthorized'" \
            "$FX_DIR/proxy_wrong.out"; then
        fail "proxy wrong password: no MQTT5_ERR_PROXY with the proxy's 401"
        show proxy_wrong
    elif [ "$took" -gt 15 ]; then
        fail "proxy wrong password: took $took s (no fail-fast)"
    elif secret_printed proxy_http proxy_wrong; then
        fail "proxy: a proxy password was printed"
    else
        pass "proxy wrong password: MQTT5_ERR_PROXY (401), exit 1 ($took s)"
    fi
else
    echo "ok - proxy_http # SKIP tinyproxy not found"
fi
if [ -n "${FX_PORT_SOCKS5_AUTH:-}" ]; then
    before=$(grep -c 'authenticated user' "$FX_DIR/socks5_auth.log")
    # shellcheck disable=SC2046
    run socks5 $(mtls) --ca_file "$pki/ca.crt" --count 3 --socks5_host 127.0.0.1 \
        --socks5_port "$FX_PORT_SOCKS5_AUTH" --socks5_username "$FX_PROXY_USER" \
        --socks5_password "$FX_PROXY_PASS"
    if ! flow socks5; then
        :
    elif [ "$(grep -c 'authenticated user' "$FX_DIR/socks5_auth.log")" -le "$before" ]; then
        fail "socks5: the SOCKS5 server authenticated nobody"
    elif secret_printed socks5; then
        fail "socks5: the password was printed"
    else
        pass "socks5: mTLS through SOCKS5 (username/password), 3 message(s) received, exit 0 ($took s)"
    fi
else
    echo "ok - socks5 # SKIP node not found"
fi

# ---- 12. --pkcs12_file / --pkcs11_lib -----------------------------------------------------------
usage p12_cert "argument --pkcs12_file: not allowed with argument --cert" \
    --endpoint localhost --pkcs12_file "$pki/ca.crt" --cert "$pki/client.crt" --key "$pki/client.key"
usage p12_pass_alone "argument --pkcs12_password: requires --pkcs12_file" \
    --endpoint localhost --pkcs12_password secret
usage p12_missing "argument --pkcs12_file: can't open '$FX_DIR/missing.p12'" \
    --endpoint localhost --pkcs12_file "$FX_DIR/missing.p12"
usage p12_signing "argument --pkcs12_file: not allowed with --signing_region" \
    --endpoint localhost --pkcs12_file "$pki/ca.crt" --signing_region us-east-1
usage p11_no_cert "argument --pkcs11_lib: requires --cert" \
    --endpoint localhost --pkcs11_lib "$pki/ca.crt"
usage p11_key "argument --key: not allowed with argument --pkcs11_lib" \
    --endpoint localhost --pkcs11_lib "$pki/ca.crt" --cert "$pki/client.crt" --key "$pki/client.key"
usage p11_pin_alone "argument --pin: requires --pkcs11_lib" --endpoint localhost --pin 0000
usage p11_slot "argument --slot_id: invalid slot id: 'x'" \
    --endpoint localhost --pkcs11_lib "$pki/ca.crt" --cert "$pki/client.crt" --slot_id x
usage p11_p12 "argument --pkcs12_file: not allowed with argument --pkcs11_lib" \
    --endpoint localhost --pkcs11_lib "$pki/ca.crt" --cert "$pki/client.crt" \
    --pkcs12_file "$pki/ca.crt"
usage p11_ws "argument --pkcs11_lib: not allowed with --use_websockets" \
    --endpoint localhost --pkcs11_lib "$pki/ca.crt" --cert "$pki/client.crt" --use_websockets
usage p11_lib_missing "argument --pkcs11_lib: can't open '$FX_DIR/missing.so'" \
    --endpoint localhost --pkcs11_lib "$FX_DIR/missing.so" --cert "$pki/client.crt"
if grep -q -- '--pkcs11_lib PKCS11_LIB' "$FX_DIR/help.out" &&
    grep -q -- '--key_label KEY_LABEL' "$FX_DIR/help.out" &&
    grep -q -- '--pkcs12_password PKCS12_PASSWORD' "$FX_DIR/help.out"; then
    pass "--help: lists --pkcs11_* and --pkcs12_*"
else
    fail "--help: the PKCS#11/PKCS#12 flags are missing"
    show help
fi

p12_pass=s4mple-p12-pass
pkcs_dir="$FX_DIR/pkcs"
mkdir -p "$pkcs_dir"
if openssl pkcs12 -export -in "$pki/client.crt" -inkey "$pki/client.key" -certfile "$pki/ca.crt" \
    -out "$pkcs_dir/client.p12" -passout "pass:$p12_pass" 2>"$pkcs_dir/p12.err" &&
    openssl pkcs12 -export -legacy -in "$pki/client-rsa.crt" -inkey "$pki/client-rsa.key" \
        -certfile "$pki/ca.crt" -out "$pkcs_dir/client-rsa-legacy.p12" \
        -passout "pass:$p12_pass" 2>>"$pkcs_dir/p12.err"; then
    run p12 --endpoint localhost --port "$FX_PORT_MTLS" --ca_file "$pki/ca.crt" --count 3 \
        --pkcs12_file "$pkcs_dir/client.p12" --pkcs12_password "$p12_pass"
    flow p12 && pass "pkcs12: mTLS with a PKCS#12 file, 3 message(s) received, exit 0 ($took s)"
    run p12_legacy --endpoint localhost --port "$FX_PORT_MTLS" --ca_file "$pki/ca.crt" \
        --count 3 --pkcs12_file "$pkcs_dir/client-rsa-legacy.p12" --pkcs12_password "$p12_pass"
    flow p12_legacy &&
        pass "pkcs12 legacy: mTLS with an RC2/3DES PKCS#12 file, 3 message(s) received, exit 0 ($took s)"
    run p12_wrong --endpoint localhost --port "$FX_PORT_MTLS" --ca_file "$pki/ca.crt" \
        --count 3 --pkcs12_file "$pkcs_dir/client.p12" --pkcs12_password wr0ng-p12-pass
    if [ "$rc" -ne 1 ]; then
        fail "pkcs12 wrong password: exit status $rc, expected 1"
        show p12_wrong
    elif ! grep -q '^Error: could not create the client: .*pkcs12_password: wrong password' \
        "$FX_DIR/p12_wrong.err"; then
        fail "pkcs12 wrong password: no error naming pkcs12_password"
        show p12_wrong
    elif grep -qF -e "$p12_pass" -e wr0ng-p12-pass "$FX_DIR/p12.out" "$FX_DIR/p12.err" \
        "$FX_DIR/p12_wrong.out" "$FX_DIR/p12_wrong.err"; then
        fail "pkcs12: a password was printed"
    else
        pass "pkcs12 wrong password: exit 1, $(sed -n 1p "$FX_DIR/p12_wrong.err")"
    fi
else
    fail "pkcs12: openssl pkcs12 -export failed"
    sed 's/^/    | /' "$pkcs_dir/p12.err"
fi

hsm_module=${MQTT5_SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
if command -v softhsm2-util >/dev/null 2>&1; then
    pin=s4mple-PIN-77
    SOFTHSM2_CONF="$pkcs_dir/softhsm2.conf"
    export SOFTHSM2_CONF
    mkdir -p "$pkcs_dir/tokens"
    printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
        "$pkcs_dir" >"$SOFTHSM2_CONF"
    slot=$(softhsm2-util --init-token --free --label sample-token --so-pin 5678 --pin "$pin" \
        2>&1 | sed -n 's/.*reassigned to slot \([0-9]*\).*/\1/p')
    if [ -n "$slot" ] &&
        softhsm2-util --import "$pki/client.key" --token sample-token --label client-ec --id 01 \
            --pin "$pin" >"$pkcs_dir/hsm.log" 2>&1 &&
        softhsm2-util --import "$pki/client-rsa.key" --token sample-token --label client-rsa \
            --id 02 --pin "$pin" >>"$pkcs_dir/hsm.log" 2>&1; then
        run p11_ec --endpoint localhost --port "$FX_PORT_MTLS" --ca_file "$pki/ca.crt" --count 3 \
            --pkcs11_lib "$hsm_module" --pin "$pin" --token_label sample-token \
            --key_label client-ec --cert "$pki/client.crt"
        flow p11_ec &&
            pass "pkcs11 EC: mTLS with the key on a SoftHSM2 token (token label), 3 message(s) received, exit 0 ($took s)"
        run p11_rsa --endpoint localhost --port "$FX_PORT_MTLS" --ca_file "$pki/ca.crt" \
            --count 3 --pkcs11_lib "$hsm_module" --pin "$pin" --slot_id "$slot" \
            --key_label client-rsa --cert "$pki/client-rsa.crt"
        flow p11_rsa &&
            pass "pkcs11 RSA: mTLS with the key on a SoftHSM2 token (slot id), 3 message(s) received, exit 0 ($took s)"
        run p11_wrong --endpoint localhost --port "$FX_PORT_MTLS" --ca_file "$pki/ca.crt" \
            --count 3 --pkcs11_lib "$hsm_module" --pin wr0ng-PIN-00 --token_label sample-token \
            --key_label client-ec --cert "$pki/client.crt"
        if [ "$rc" -ne 1 ]; then
            fail "pkcs11 wrong PIN: exit status $rc, expected 1"
            show p11_wrong
        elif ! grep -q '^Error: could not create the client: .*user_pin: .*CKR_PIN_INCORRECT' \
            "$FX_DIR/p11_wrong.err"; then
            fail "pkcs11 wrong PIN: no error naming user_pin and CKR_PIN_INCORRECT"
            show p11_wrong
        elif grep -qF -e "$pin" -e wr0ng-PIN-00 "$FX_DIR/p11_ec.out" "$FX_DIR/p11_ec.err" \
            "$FX_DIR/p11_rsa.out" "$FX_DIR/p11_rsa.err" "$FX_DIR/p11_wrong.out" \
            "$FX_DIR/p11_wrong.err"; then
            fail "pkcs11: a PIN was printed"
        else
            pass "pkcs11 wrong PIN: exit 1, $(sed -n 1p "$FX_DIR/p11_wrong.err")"
        fi
    else
        fail "pkcs11: SoftHSM2 token setup failed"
        sed 's/^/    | /' "$pkcs_dir/hsm.log"
    fi
    unset SOFTHSM2_CONF
else
    echo "ok - pkcs11 # SKIP softhsm2-util not found"
fi

if [ "$failures" -ne 0 ]; then
    echo "test_sample: $failures check(s) failed"
    exit 1
fi
echo "test_sample: all checks passed"
exit 0
