#!/bin/bash
# Which pre-verification errors are forgiven, as stunnel 5.75 decides:
# verifyPeer alone forgives only a leaf whose chain cannot be built or
# trusted (it must then be installed locally), never a revoked or expired
# one; a self-signed stranger is "not found in local repository"; CRLs are
# checked for the peer's own certificate only, so an intermediate CA
# without a CRL of its own does not refuse a chain.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
c=$TEST_TMP/certs
(
    cd "$c" || exit 1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
        -out other.crt -days 2 -subj /CN=other && cat other.key other.crt >other.pem
    # verifyPeer's list: the clients themselves, and the root for its CRL
    for f in client revoked expired ca; do openssl x509 -in $f.pem; done >peers.pem
    # the intermediate's own (empty) CRL, and none from the root about it
    lib_crl . inter inter-crl.pem
) >/dev/null 2>&1 || { echo "FAIL: certificates"; exit 1; }

lib_peer app banner app || exit 1
section() {  # NAME EXTRA-LINES...
    lib_section "$1" "$PEER_PORT" "cert = $c/server.pem" "${@:2}"
}
{
    printf 'foreground = yes\nsyslog = no\ndebug = debug\n'
    section peer "verifyPeer = yes" "CAfile = $c/peers.pem" "CRLfile = $c/crl-revoked.pem"
    section alone "verifyPeer = yes" "CAfile = $c/client.crt"
    section chain "verifyChain = yes" "CAfile = $c/ca.pem" "CRLfile = $c/inter-crl.pem"
} >"$TEST_TMP/s.conf"
lib_daemon d "$TEST_TMP/s.conf" || exit 1

# the first line SECTION answers to a client presenting PEM (+ CHAIN)
who() {  # SECTION PEM [CHAIN]
    local args=(-cert "$c/$2")
    [ -n "${3:-}" ] && args+=(-cert_chain "$c/$3")
    sleep 0.5 | timeout 5 openssl s_client -connect "127.0.0.1:$(lib_port d "$1")" \
        "${args[@]}" -quiet 2>/dev/null | head -n 1
}
[ "$(who peer client.pem)" = app ] || bad "verifyPeer: an installed client was refused"
[ "$(who alone client.pem)" = app ] || bad "verifyPeer: an installed client without its CA was refused"
[ "$(who peer revoked.pem)" = "" ] || bad "verifyPeer: a revoked client got through"
[ "$(who peer expired.pem)" = "" ] || bad "verifyPeer: an expired client got through"
[ "$(who peer other.pem)" = "" ] || bad "verifyPeer: a stranger got through"
[ "$(who chain inter-client.pem inter.pem)" = app ] ||
    bad "CRLfile: a chain whose intermediate has no CRL from the root was refused"
sleep 0.3
log=$TEST_TMP/d.out
for line in \
    'LOG6\[[0-9]*\]: CERT: Pre-verification error ignored: unable to get local issuer certificate' \
    'LOG6\[[0-9]*\]: CERT: Locally installed certificate matched' \
    'LOG6\[[0-9]*\]: OCSP: Certificate chain verification disabled' \
    'LOG4\[[0-9]*\]: CERT: Pre-verification error: certificate revoked' \
    'LOG4\[[0-9]*\]: Rejected by CERT at depth=0: CN=revoked' \
    'LOG4\[[0-9]*\]: CERT: Pre-verification error: certificate has expired' \
    'LOG4\[[0-9]*\]: CERT: Pre-verification error: certificate not found in local repository: self-signed certificate' \
    'LOG4\[[0-9]*\]: Rejected by CERT at depth=0: CN=other' \
    'LOG5\[[0-9]*\]: Certificate accepted at depth=0: CN=inter-client'; do
    grep -q "$line" "$log" || bad "no line matching '$line'"
done
grep -q 'Pre-verification error ignored: certificate revoked' "$log" &&
    bad "a revocation was ignored"
grep -q 'unable to get certificate CRL' "$log" && bad "the intermediate's CRL was required"
exit $fail
