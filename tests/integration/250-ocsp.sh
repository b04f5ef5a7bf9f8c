#!/bin/bash
# OCSP in client mode against a real responder (openssl ocsp): a server
# whose certificate is good is accepted, a revoked one is rejected ("OCSP:
# Rejected (revoked)"), and with the responder
# down the connection fails unless "OCSPrequire = no". Stapling: a server
# whose certificate names the responder (AIA) staples its status for
# openssl s_client -status, and a verifying client section refuses a
# server that staples "revoked".
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
c=$TEST_TMP/certs
ocsp_port=$(lib_free_port)
(
    cd "$c" || exit 1
    lib_issue . revoked /CN=localhost "subjectAltName=DNS:localhost"
    for n in staple-good staple-revoked; do
        lib_issue . $n /CN=localhost "subjectAltName=DNS:localhost" \
            "authorityInfoAccess=OCSP;URI:http://127.0.0.1:$ocsp_port"
    done
    lib_ocsp_index . good cert.pem staple-good.crt revoked revoked.crt staple-revoked.crt
) >/dev/null 2>&1 || { echo "FAIL: test files"; exit 1; }

lib_ocsp_responder responder "$c" "$ocsp_port" || exit 1
lib_peer echo echo || exit 1
cat >"$TEST_TMP/s.conf" <<EOF
foreground = yes
syslog = no
debug = info
[good]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
cert = $c/server.pem
[revoked]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
cert = $c/revoked.pem
[staple-good]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
cert = $c/staple-good.pem
CAfile = $c/ca.pem
[staple-revoked]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
cert = $c/staple-revoked.pem
CAfile = $c/ca.pem
EOF
lib_daemon s "$TEST_TMP/s.conf" || exit 1
client_section() {  # NAME TARGET OCSP-URL REQUIRE
    printf '[%s]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\nverifyChain = yes\n' "$1" "$2"
    printf 'CAfile = %s\ncheckHost = localhost\nOCSP = %s\nOCSPrequire = %s\n' "$c/ca.pem" "$3" "$4"
}
dead=$(lib_free_port)
{
    printf 'foreground = yes\nsyslog = no\ndebug = info\n'
    client_section good "$(lib_port s good)" "http://127.0.0.1:$ocsp_port" yes
    client_section revoked "$(lib_port s revoked)" "http://127.0.0.1:$ocsp_port" yes
    client_section down-required "$(lib_port s good)" "http://127.0.0.1:$dead" yes
    client_section down-optional "$(lib_port s good)" "http://127.0.0.1:$dead" no
    printf '[stapled]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\n' "$(lib_port s staple-revoked)"
    printf 'verifyChain = yes\nCAfile = %s\ncheckHost = localhost\n' "$c/ca.pem"
} >"$TEST_TMP/c.conf"
lib_daemon c "$TEST_TMP/c.conf" || exit 1
through() { lib_through "$(lib_port c "$1")"; }  # SECTION
through good || bad "good certificate refused"
through revoked && bad "revoked certificate accepted"
through down-required && bad "accepted without an OCSP answer although OCSPrequire = yes"
through down-optional || bad "OCSPrequire = no: refused without an OCSP answer"
through stapled && bad "a server stapling 'revoked' was accepted"
out=$(sleep 1 | timeout 5 openssl s_client -connect "127.0.0.1:$(lib_port s staple-good)" -status 2>/dev/null)
echo "$out" | grep -q 'OCSP Response Status: successful' || bad "no stapled OCSP response for s_client -status"
echo "$out" | grep -q 'Cert Status: good' || bad "the stapled response does not say good"
sleep 0.3
log=$TEST_TMP/c.out
grep -q 'LOG5\[[0-9]*\]: OCSP: Connecting the configured responder "http://127.0.0.1:'"$ocsp_port"'"' "$log" ||
    bad "no 'Connecting the configured responder' line"
grep -q 'LOG5\[[0-9]*\]: OCSP: Accepted (good)' "$log" || bad "no 'OCSP: Accepted (good)'"
grep -q 'LOG3\[[0-9]*\]: OCSP: Rejected (revoked)' "$log" || bad "no 'OCSP: Rejected (revoked)'"
# a client checks its server once the (missing) stapled answer is in
grep -q 'LOG3\[[0-9]*\]: OCSP: No OCSP stapling response received' "$log" ||
    bad "no 'No OCSP stapling response received' before asking the responder"
grep -q 'LOG3\[[0-9]*\]: OCSP: Rejected (OCSPrequire = yes)' "$log" || bad "no 'Rejected (OCSPrequire = yes)'"
grep -q 'LOG5\[[0-9]*\]: OCSP: Accepted (OCSPrequire = no)' "$log" || bad "no 'Accepted (OCSPrequire = no)'"
grep -q 'LOG6\[[0-9]*\]: OCSP: OCSP stapling response received' "$log" || bad "no 'OCSP stapling response received'"
exit $fail
