#!/bin/sh
# tests/integration/test_creds_tool.sh - end-to-end checks of `mqtt5 creds` (tools/mqtt5/cmd_creds.c)
# with the real credential providers, each run with only the AWS settings it names (every AWS_*
# variable of the caller is unset, HOME is a temp dir):
#   1. environment: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN -> "provider:
#      environment", the key id, "expiry: never", "session token: present", exit 0; neither the
#      secret nor the token anywhere in the output;
#   2. profile: ~/.aws/credentials [default] and no variables -> "provider: profile", exit 0;
#      --profile NAME takes that section even with environment credentials set;
#   3. nothing (empty HOME, AWS_EC2_METADATA_DISABLED=true) -> exit 1, the error name and every
#      provider of the default chain with its reason, nothing on stdout;
#   4. (node) --cognito-identity/--cognito-endpoint against tests/credentials/fake_aws.js
#      replaying tests/credentials/cognito_sample/http-traffic.json -> "provider: cognito", the
#      expiry 2100-01-01T00:00:00Z, "session token: present", exit 0;
#   5. usage errors -> exit 2.
#
# Usage: test_creds_tool.sh <build dir>   (ctest runs it so; FX_KEEP=1 keeps the temp dir)
set -u
build=${1:-${MQTT5_BUILD_DIR:-}}
[ -n "$build" ] || { echo "usage: $0 <build dir>" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
tool="$build/mqtt5"
# a build without tools (the ThreadSanitizer stage) skips: ctest shows it as skipped (77)
[ -x "$tool" ] || { echo "test_creds_tool: $tool not built: skipped" >&2; exit 77; }
unset MQTT5_LOG_LEVEL
for _v in $(env | sed -n 's/^\(AWS_[A-Za-z0-9_]*\)=.*/\1/p'); do
    unset "$_v"
done

# shellcheck source=SCRIPTDIR/fixture.sh
. "$here/fixture.sh"
fx_init || exit 1

failures=0
pass() { echo "ok - $*"; }
fail() {
    echo "not ok - $*"
    failures=$((failures + 1))
}

show() {
    echo "    --- stdout of $1:"
    sed 's/^/    | /' "$FX_DIR/$1.out"
    echo "    --- stderr of $1:"
    sed 's/^/    | /' "$FX_DIR/$1.err"
}

# creds NAME HOME [VAR=VALUE...] -- [ARGS...]: `mqtt5 creds ARGS` with HOME and the variables
# given as its only AWS settings; stdout/stderr in $FX_DIR/NAME.{out,err}, exit status in $rc.
creds() {
    _name=$1 _home=$2
    shift 2
    _vars=
    while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
        _vars="$_vars $1"
        shift
    done
    [ "$#" -gt 0 ] && shift
    # shellcheck disable=SC2086 # the VAR=VALUE words hold no blanks
    timeout -s KILL 120 env HOME="$_home" $_vars "$tool" creds "$@" \
        >"$FX_DIR/$_name.out" 2>"$FX_DIR/$_name.err"
    rc=$?
}

# has NAME LINE: stdout of NAME holds exactly this line
has() { grep -qxF "$2" "$FX_DIR/$1.out"; }
# leaks NAME TEXT: TEXT appears in stdout or stderr of NAME
leaks() { grep -qF "$2" "$FX_DIR/$1.out" "$FX_DIR/$1.err"; }

home_empty="$FX_DIR/home-empty"
home_profile="$FX_DIR/home-profile"
mkdir -p "$home_empty" "$home_profile/.aws"
cat >"$home_profile/.aws/credentials" <<'INI'
[default]
aws_access_key_id = AKIDPROFILEDEFAULT
aws_secret_access_key = profileDefaultSecretKEY0123456789abcdefgh

[other]
aws_access_key_id = AKIDPROFILEOTHER
aws_secret_access_key = profileOtherSecretKEY0123456789abcdefghij
INI
env_secret=envSecretKEY0123456789abcdefghijklmnopqr
env_token=envSessionTOKEN0123456789abcdef

# ---- 1. environment -----------------------------------------------------------------------------
creds env "$home_empty" AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=AKIDENVIRONMENT \
    AWS_SECRET_ACCESS_KEY=$env_secret AWS_SESSION_TOKEN=$env_token --
if [ "$rc" -ne 0 ]; then
    fail "environment: exit status $rc, expected 0"
    show env
elif ! has env 'provider: environment' || ! has env 'access key id: AKIDENVIRONMENT' ||
    ! has env 'expiry: never' || ! has env 'session token: present'; then
    fail "environment: unexpected output"
    show env
elif leaks env "$env_secret" || leaks env "$env_token"; then
    fail "environment: the secret or the session token was printed"
else
    pass "environment: provider, key id, no expiry, token present; no secret printed"
fi

# ---- 2. profile ---------------------------------------------------------------------------------
creds profile "$home_profile" AWS_EC2_METADATA_DISABLED=true --
if [ "$rc" -ne 0 ]; then
    fail "profile: exit status $rc, expected 0"
    show profile
elif ! has profile 'provider: profile' || ! has profile 'access key id: AKIDPROFILEDEFAULT' ||
    ! has profile 'session token: absent'; then
    fail "profile: unexpected output"
    show profile
elif leaks profile profileDefaultSecret; then
    fail "profile: the secret was printed"
else
    pass "profile: [default] of ~/.aws/credentials, exit 0"
fi
creds profile_named "$home_profile" AWS_ACCESS_KEY_ID=AKIDENVIRONMENT \
    AWS_SECRET_ACCESS_KEY=$env_secret -- --profile other
if [ "$rc" -eq 0 ] && has profile_named 'provider: profile' &&
    has profile_named 'access key id: AKIDPROFILEOTHER' && ! leaks profile_named profileOther; then
    pass "--profile other: that section, environment ignored, exit 0"
else
    fail "--profile other: exit status $rc or unexpected output"
    show profile_named
fi
creds profile_missing "$home_profile" -- --profile nosuch
if [ "$rc" -eq 1 ] && [ ! -s "$FX_DIR/profile_missing.out" ] &&
    grep -q 'nosuch' "$FX_DIR/profile_missing.err"; then
    pass "--profile nosuch: exit 1, the profile named in the reason"
else
    fail "--profile nosuch: expected exit 1 naming the profile (got $rc)"
    show profile_missing
fi

# ---- 3. nothing configured ----------------------------------------------------------------------
creds none "$home_empty" AWS_EC2_METADATA_DISABLED=true --
e="$FX_DIR/none.err"
if [ "$rc" -ne 1 ]; then
    fail "nothing: exit status $rc, expected 1"
    show none
elif [ -s "$FX_DIR/none.out" ]; then
    fail "nothing: unexpected stdout"
    show none
elif ! grep -q 'MQTT5_ERR_PROVIDER_NOT_ENABLED' "$e" ||
    ! grep -q 'environment: not enabled ([^)]*AWS_ACCESS_KEY_ID' "$e" ||
    ! grep -q 'profile: not enabled ([^)]*/.aws/' "$e" ||
    ! grep -q 'web[ -]identity: not enabled ([^)]*AWS_WEB_IDENTITY_TOKEN_FILE' "$e" ||
    ! grep -q 'imds: not enabled ([^)]*AWS_EC2_METADATA_DISABLED' "$e"; then
    fail "nothing: the error does not give every provider's reason"
    show none
else
    pass "nothing: exit 1, $(grep -o 'MQTT5_ERR_[A-Z_]*' "$e" | head -n 1) with each provider's reason"
fi

# ---- 4. Cognito (fake_aws.js) -------------------------------------------------------------------
if command -v "${NODE:-node}" >/dev/null 2>&1; then
    "${NODE:-node}" "$here/../credentials/fake_aws.js" \
        --traffic "$here/../credentials/cognito_sample/http-traffic.json" \
        --report "$FX_DIR/fake_aws.json" >"$FX_DIR/fake_aws.out" 2>"$FX_DIR/fake_aws.err" &
    fake_pid=$!
    fx_record_pid "$fake_pid"
    i=0
    while [ "$i" -lt 100 ] && ! grep -q '^READY ' "$FX_DIR/fake_aws.out"; do
        sleep 0.1
        i=$((i + 1))
    done
    port=$(sed -n 's/^READY \([0-9]*\) .*/\1/p' "$FX_DIR/fake_aws.out")
    if [ -z "$port" ]; then
        fail "cognito: fake_aws.js did not start"
        sed 's/^/    | /' "$FX_DIR/fake_aws.err"
    else
        creds cognito "$home_empty" AWS_EC2_METADATA_DISABLED=true -- \
            --cognito-identity us-east-1:1234 --cognito-endpoint "http://127.0.0.1:$port"
        kill -TERM "$fake_pid" 2>/dev/null
        wait "$fake_pid" 2>/dev/null
        if [ "$rc" -eq 0 ] && has cognito 'provider: cognito' &&
            has cognito 'access key id: AKIDEXAMPLE' &&
            has cognito 'expiry: 2100-01-01T00:00:00Z' && has cognito 'session token: present' &&
            ! leaks cognito EXAMPLEKEY && ! leaks cognito cognito-session-token; then
            pass "cognito: provider, key id, expiry 2100-01-01T00:00:00Z, token present, exit 0"
        else
            fail "cognito: exit status $rc or unexpected output"
            show cognito
        fi
    fi
else
    echo "ok - cognito # SKIP node not found"
fi

# ---- 5. usage errors ----------------------------------------------------------------------------
# usage NAME EXPECTED-STDERR-TEXT ARGS...
usage() {
    _n=$1 _want=$2
    shift 2
    creds "$_n" "$home_empty" -- "$@"
    if [ "$rc" -eq 2 ] && [ ! -s "$FX_DIR/$_n.out" ] && grep -qF "$_want" "$FX_DIR/$_n.err"; then
        pass "usage ($_n): exit 2, $(sed -n 1p "$FX_DIR/$_n.err")"
    else
        fail "usage ($_n): expected exit 2 and '$_want' (got $rc)"
        show "$_n"
    fi
}
usage half_cognito "mqtt5: --cognito-identity and --cognito-endpoint go together" \
    --cognito-identity us-east-1:1234
usage profile_and_cognito "mqtt5: --profile and --cognito-* exclude each other" --profile x \
    --cognito-identity us-east-1:1234 --cognito-endpoint http://127.0.0.1:1
usage no_value "mqtt5: missing argument for: --profile" --profile
usage unknown "mqtt5: unknown option: --bogus" --bogus
usage extra "mqtt5: unexpected argument: extra" extra

if [ "$failures" -ne 0 ]; then
    echo "test_creds_tool: $failures check(s) failed"
    exit 1
fi
echo "test_creds_tool: all checks passed"
exit 0
