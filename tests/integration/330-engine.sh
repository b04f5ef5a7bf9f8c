#!/bin/bash
# engineId, engineNum, CAengine and engineDefault with a real token:
# SoftHSM behind libp11's pkcs11 engine holds the server's key, its certificate and the
# CA that signs clients. The key never leaves the token, yet each forked
# connection signs with it. Refusals: an engine that was not opened, an
# engine number out of range, a missing key object, a wrong PIN and a
# missing CA object all fail the configuration with stunnel's wording.
# The reference stunnel4 loads the same configuration with the same lines.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
engine_dir=$(openssl version -e 2>/dev/null | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')
module=/usr/lib/softhsm/libsofthsm2.so
[ -f "$engine_dir/pkcs11.so" ] || { echo "SKIP: no pkcs11 engine (libengine-pkcs11-openssl)"; exit $SKIP; }
[ -f "$module" ] && command -v softhsm2-util >/dev/null && command -v pkcs11-tool >/dev/null ||
    { echo "SKIP: no SoftHSM (softhsm2) or pkcs11-tool (opensc)"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
c=$TEST_TMP/certs
# Under AddressSanitizer (CI), memory errors still abort, but leaks are
# not checked here: at exit OpenSSL 3.0 and libp11 leave objects of
# engine-held keys and certificates unreachable (EC_KEY copies made by
# X509_check_private_key, libp11's certificate cache), none of them ours.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# the token: the server's key and certificate, and the CA
mkdir "$TEST_TMP/tokens"
export SOFTHSM2_CONF=$TEST_TMP/softhsm2.conf
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$TEST_TMP/tokens" >"$SOFTHSM2_CONF"
p11() { pkcs11-tool --module "$module" --token-label test --login --pin 1234 "$@"; }
(
    cd "$c" || exit 1
    softhsm2-util --init-token --free --label test --pin 1234 --so-pin 5678 &&
    openssl pkcs8 -topk8 -nocrypt -in key.pem -out key8.pem &&
    softhsm2-util --import key8.pem --token test --label srvkey --id 01 --pin 1234 &&
    openssl x509 -in cert.pem -outform DER -out cert.der &&
    p11 --write-object cert.der --type cert --id 01 --label srvcert &&
    openssl x509 -in ca.pem -outform DER -out ca.der &&
    p11 --write-object ca.der --type cert --id 02 --label ca &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout stranger.key \
        -out stranger.crt -days 2 -subj "/CN=stranger"
) >"$TEST_TMP/token.log" 2>&1 || { echo "FAIL: token"; cat "$TEST_TMP/token.log"; exit 1; }

lib_peer echo echo || exit 1
globals() {  # PIN [more global lines]
    printf 'foreground = yes\nsyslog = no\ndebug = info\n'
    printf 'engine = pkcs11\nengineCtrl = MODULE_PATH:%s\nengineCtrl = PIN:%s\n' "$module" "$1"
    shift
    [ $# -eq 0 ] || printf '%s\n' "$@"
}
section() {  # NAME EXTRA-LINES...
    lib_section "$1" "$PEER_PORT" "${@:2}"
}
in_token="cert = pkcs11:token=test;object=srvcert"
key="key = pkcs11:token=test;object=srvkey"
{
    # the engine also becomes OpenSSL's default for RSA and EC operations
    globals 1234 "engineDefault = RSA,EC"
    section by-id "engineId = pkcs11" "$in_token" "$key"
    section by-num "engineNum = 1" "$in_token" "$key"
    # the certificate from a file: the engine is asked first, as stunnel does
    section ca-engine "engineId = pkcs11" "cert = $c/cert.pem" "$key" \
        "verifyChain = yes" "CAengine = pkcs11:token=test;object=ca"
} >"$TEST_TMP/s.conf"
lib_daemon d "$TEST_TMP/s.conf" || exit 1

through() {  # SECTION [peers.py client options]
    local section=$1
    shift
    lib_through "$(lib_port d "$section")" --tls "$@"
}
# the client verifies the server's certificate: it came from the token
through by-id --ca "$c/ca.pem" || bad "engineId: no echo through the token's key"
through by-num --ca "$c/ca.pem" || bad "engineNum: no echo through the token's key"
through ca-engine --cert "$c/server.pem" ||
    bad "CAengine: a client signed by the token's CA was refused"
cat "$c/stranger.key" "$c/stranger.crt" >"$c/stranger.pem"
through ca-engine --cert "$c/stranger.pem" &&
    bad "CAengine: a self-signed client got through"
for line in \
    'LOG6\[ui\]: Engine #1 (pkcs11) set as default for RSA,EC' \
    'LOG6\[ui\]: Certificate loaded from engine ID: pkcs11:token=test;object=srvcert' \
    'LOG6\[ui\]: Private key initialized on engine ID: pkcs11:token=test;object=srvkey' \
    'LOG6\[ui\]: Certificate loaded from: .*/cert\.pem' \
    'LOG6\[[0-9]*\]: TLS accepted: new session negotiated'; do
    grep -q "$line" "$TEST_TMP/d.out" || bad "no line like: $line"
done

# refusals, each its own configuration
refused() {  # NAME WANT-LINE(grep) CONF-TEXT
    local name=$1 want=$2
    printf '%s\n' "$3" >"$TEST_TMP/$name.conf"
    timeout 20 "$STUNNEL" "$TEST_TMP/$name.conf" </dev/null >"$TEST_TMP/$name.out" 2>&1
    local rc=$?
    [ "$rc" = 1 ] || bad "$name: exit status $rc, not 1"
    grep -q 'Configuration failed' "$TEST_TMP/$name.out" || bad "$name: configuration not refused"
    grep -q -- "$want" "$TEST_TMP/$name.out" ||
        { bad "$name: no line like: $want"; sed 's/^/    /' "$TEST_TMP/$name.out"; }
}
refused no-such-engine ':10: "engineId = nosuch": Engine ID not found' \
    "$(globals 1234; section x "engineId = nosuch" "$in_token" "$key")"
refused engine-number ':10: "engineNum = 2": Illegal engine number' \
    "$(globals 1234; section x "engineNum = 2" "$in_token" "$key")"
refused missing-key 'Service \[x\]: Failed to initialize TLS context' \
    "$(globals 1234; section x "engineId = pkcs11" "$in_token" "key = pkcs11:token=test;object=nokey")"
refused wrong-pin 'Service \[x\]: Failed to initialize TLS context' \
    "$(globals 4321; section x "engineId = pkcs11" "$in_token" "$key")"
refused missing-ca 'CAengine failed to retrieve "pkcs11:token=test;object=noca"' \
    "$(globals 1234; section x "engineId = pkcs11" "$in_token" "$key" "verifyChain = yes" \
        "CAengine = pkcs11:token=test;object=noca")"
grep -q 'No trusted certificates found' "$TEST_TMP/missing-ca.out" ||
    bad "missing-ca: no 'No trusted certificates found'"

# the reference loads the same token with the same lines
if command -v stunnel4 >/dev/null; then
    timeout 10 stunnel4 "$TEST_TMP/s.conf" </dev/null >"$TEST_TMP/ref.out" 2>&1 &
    ref=$!
    lib_wait_for "$TEST_TMP/ref.out" 'Configuration successful|Configuration failed' 10
    kill "$ref" 2>/dev/null
    wait "$ref" 2>/dev/null
    for line in 'Certificate loaded from engine ID: pkcs11:token=test;object=srvcert' \
        'Private key initialized on engine ID: pkcs11:token=test;object=srvkey'; do
        grep -q "$line" "$TEST_TMP/ref.out" || bad "stunnel4 does not say: $line"
    done
fi
exit $fail
