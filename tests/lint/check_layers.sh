#!/bin/sh
# check_layers.sh - enforces the layer rules of docs/architecture.md beyond the core's sans-I/O
# rule: libuv is included only by the runtime, the TCP filter and its poller (TLS, the filter
# interface and the builders stay I/O-free; src/http runs libcurl on the loop), libcurl only by
# src/http, libxml2 only by the STS response parser, libp11 only by the PKCS#11 key loader
# (transports/tls_pkcs11.c), OpenSSL only by the TLS filter files, the builders (which wipe
# key copies with OPENSSL_cleanse) and the SigV4 signer in src/auth (SHA-256/HMAC), and samples
# and tools use the public API only.
# Usage: check_layers.sh SOURCE_DIR
set -eu
src="$1/src"
fail=0
report() {
    echo "layer rule broken: $1"
    echo "$2"
    fail=1
}
uv=$(grep -lE '#include *<uv\.h>' -r "$src" | grep -vE "^$src/(runtime/|http/|transports/(tcp|poller)\.[ch]$)" || true)
[ -z "$uv" ] || report "<uv.h> outside src/runtime, src/http, src/transports/tcp.* and poller.*" "$uv"
curl=$(grep -lE '#include *<curl/' -r "$src" | grep -vE "^$src/http/" || true)
[ -z "$curl" ] || report "<curl/...> outside src/http" "$curl"
xml=$(grep -lE '#include *<libxml/' -r "$src" | grep -vE "^$src/credentials/cred_xml\.c$" || true)
[ -z "$xml" ] || report "<libxml/...> outside src/credentials/cred_xml.c" "$xml"
ossl=$(grep -lE '#include *<openssl/' -r "$src" | grep -vE "^$src/(transports/tls[a-z0-9_]*\.[ch]|transports/ws_handshake\.c|builder/[a-z_]+\.c|auth/[a-z0-9_]+\.[ch]|credentials/[a-z0-9_]+\.[ch]|http/[a-z0-9_]+\.[ch])$" || true)
[ -z "$ossl" ] || report "<openssl/...> outside src/transports/tls*, src/builder and src/auth" "$ossl"
p11=$(grep -lE '#include *<libp11\.h>' -r "$src" | grep -vE "^$src/transports/tls_pkcs11\.c$" || true)
[ -z "$p11" ] || report "<libp11.h> outside src/transports/tls_pkcs11.c" "$p11"
priv=$(grep -lE '#include *"(core|runtime|transports|builder|common|http|credentials)/' -r "$1/samples" "$1/tools" 2>/dev/null || true)
[ -z "$priv" ] || report "samples/tools reach into src/" "$priv"
[ "$fail" -eq 0 ] && echo "layers: libuv, OpenSSL and private headers only where allowed"
exit "$fail"
