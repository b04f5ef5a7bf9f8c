#!/bin/bash
# Verifying clients in server mode: verifyChain with a CA (signed client
# accepted, self-signed and missing certificates refused), verifyPeer
# (only a locally installed certificate), requireCert, a CRL that revokes
# a client, and redirect (refused clients go to another backend).
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
c=$TEST_TMP/certs
(
    cd "$c" || exit 1
    for n in client revoked; do
        lib_issue . $n "/CN=$n"
    done
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout stranger.key \
        -out stranger.crt -days 2 -subj "/CN=stranger"
    lib_crl . ca revoked-crl.pem revoked.crt
) >/dev/null 2>&1 || { echo "FAIL: client certificates"; exit 1; }

# two backends that say who they are
for b in app honeypot; do
    lib_peer "$b" banner "$b" --close || exit 1
done
app=$(cat "$TEST_TMP/app.port")
section() {  # NAME EXTRA-LINES...
    lib_section "$1" "$app" "cert = $c/server.pem" "${@:2}"
}
{
    printf 'foreground = yes\nsyslog = no\ndebug = info\n'
    section chain "verifyChain = yes" "CAfile = $c/ca.pem"
    section peer "verifyPeer = yes" "CAfile = $c/client.crt"
    section require "requireCert = yes"
    section crl "verifyChain = yes" "CAfile = $c/ca.pem" "CRLfile = $c/revoked-crl.pem"
    section redirect "verifyChain = yes" "CAfile = $c/ca.pem" \
        "redirect = 127.0.0.1:$(cat "$TEST_TMP/honeypot.port")"
} >"$TEST_TMP/s.conf"
lib_daemon d "$TEST_TMP/s.conf" || exit 1

# who answers SECTION for a client presenting CERT (or none): app,
# honeypot, or nothing
who() {
    local section=$1 cert=$2 args=()
    [ -n "$cert" ] && args=(-cert "$c/$cert.crt" -key "$c/$cert.key")
    sleep 1 | timeout 5 openssl s_client -connect "127.0.0.1:$(lib_port d "$section")" \
        "${args[@]}" -quiet 2>/dev/null | head -n 1
}
[ "$(who chain client)" = app ] || bad "verifyChain: a client signed by the CA was refused"
[ "$(who chain stranger)" = "" ] || bad "verifyChain: a self-signed client got through"
[ "$(who chain "")" = "" ] || bad "verifyChain: a client without a certificate got through"
[ "$(who peer client)" = app ] || bad "verifyPeer: the installed certificate was refused"
[ "$(who peer revoked)" = "" ] || bad "verifyPeer: a certificate not installed got through"
[ "$(who require stranger)" = app ] || bad "requireCert: any certificate should do"
[ "$(who require "")" = "" ] || bad "requireCert: a client without a certificate got through"
[ "$(who crl client)" = app ] || bad "CRLfile: a valid client was refused"
[ "$(who crl revoked)" = "" ] || bad "CRLfile: a revoked client got through"
[ "$(who redirect client)" = app ] || bad "redirect: an authenticated client was redirected"
[ "$(who redirect stranger)" = honeypot ] || bad "redirect: a refused certificate was not redirected"
[ "$(who redirect "")" = honeypot ] || bad "redirect: a client without a certificate was not redirected"
sleep 0.3
log=$TEST_TMP/d.out
grep -q 'LOG5\[[0-9]*\]: Certificate accepted at depth=0: CN=client' "$log" || bad "no 'Certificate accepted' line"
grep -q 'LOG4\[[0-9]*\]: Rejected by CERT at depth=0: CN=stranger' "$log" || bad "no 'Rejected by CERT' line"
grep -q 'LOG4\[[0-9]*\]: CERT: Pre-verification error: certificate revoked' "$log" || bad "no revocation line"
grep -q 'LOG4\[[0-9]*\]: CERT: Certificate not found in local repository' "$log" || bad "no verifyPeer refusal line"
grep -q 'LOG5\[[0-9]*\]: Redirecting connection' "$log" || bad "no 'Redirecting connection' line"
grep -q 'SSL_accept: .*peer did not return a certificate' "$log" || bad "no 'peer did not return a certificate'"
exit $fail
