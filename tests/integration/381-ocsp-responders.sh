#!/bin/bash
# OCSP in client sections, the ways to the responder: a real "openssl
# ocsp" responder as in 250-ocsp.sh, and TLS servers (peers.py echo)
# that do not staple. OCSPaia = yes without an OCSP URL asks the
# responder named in the server certificate's AIA (good accepted,
# revoked refused); OCSPnonce = yes against the openssl responder works;
# a replayed "good" response without a nonce (peers.py ocsp-replay) is
# accepted without OCSPnonce (whose request has no nonce) and refused
# with it (its request has one); a responder that cannot be connected to
# (peers.py blackhole: its accept queue is full): TIMEOUTocsp = 1 bounds
# the connect, refused within 4 seconds; a responder that accepts and
# never answers (peers.py silent): the exchange is bounded by TIMEOUTbusy
# (TIMEOUTocsp bounds the connect only, as in stunnel 5.75), so with
# TIMEOUTbusy = 2 and OCSPrequire = yes the connection is refused within
# 5 seconds ("OCSP: s_poll_wait: TIMEOUTbusy exceeded"); a responder
# signing with a key nobody trusts is refused, and accepted with
# OCSPflag = NOVERIFY.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
command -v openssl >/dev/null 2>&1 || { echo "SKIP: openssl not installed"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
c=$TEST_TMP/certs
T=$TEST_TMP
hdr='foreground = yes
syslog = no
debug = info'

ocsp_port=$(lib_free_port)
(
    cd "$c" || exit 1
    for n in aia-good aia-revoked; do
        lib_issue . $n /CN=localhost "subjectAltName=DNS:localhost" \
            "authorityInfoAccess=OCSP;URI:http://127.0.0.1:$ocsp_port"
    done
    lib_ocsp_index . good aia-good.crt revoked aia-revoked.crt
    # a genuine "good" answer without a nonce, to be replayed
    openssl ocsp -issuer ca.pem -cert aia-good.crt -no_nonce -reqout replay-req.der &&
    openssl ocsp -index index.txt -rsigner ca.pem -rkey ca.key -CA ca.pem \
        -reqin replay-req.der -respout replay.der
) >/dev/null 2>&1 && [ -s "$c/replay.der" ] || { echo "FAIL: OCSP test files"; exit 1; }

# the responders: the real one, one that signs with the self-signed
# "stranger" key, a replayer (it says whether each request carried a
# nonce) and a silent one
lib_ocsp_responder responder "$c" "$ocsp_port" || exit 1
stranger_port=$(lib_free_port)
lib_ocsp_responder stranger "$c" "$stranger_port" "$c/st.crt" "$c/st.key" || exit 1
lib_peer replayer ocsp-replay "$c/replay.der" || exit 1
replay_port=$PEER_PORT
# a responder whose accept queue is full: connecting to it never ends
lib_peer full blackhole || exit 1
full_port=$PEER_PORT
lib_peer silent silent || exit 1
silent_port=$PEER_PORT

# TLS servers that do not staple
lib_peer tls-good echo --tls "$c/aia-good.pem" || exit 1
good_port=$PEER_PORT
lib_peer tls-revoked echo --tls "$c/aia-revoked.pem" || exit 1
revoked_port=$PEER_PORT

ocsp_section() {  # NAME TARGET-PORT EXTRA-LINES...
    local name=$1 port=$2 l
    shift 2
    printf '[%s]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\n' "$name" "$port"
    printf 'verifyChain = yes\nCAfile = %s\ncheckHost = localhost\n' "$c/ca.pem"
    for l in "$@"; do printf '%s\n' "$l"; done
}
{
    echo "$hdr"
    ocsp_section aia-good "$good_port" "OCSPaia = yes"
    ocsp_section aia-revoked "$revoked_port" "OCSPaia = yes"
    ocsp_section nonce "$good_port" "OCSPaia = yes" "OCSPnonce = yes"
    ocsp_section replay "$good_port" "OCSP = http://127.0.0.1:$replay_port"
    ocsp_section replay-nonce "$good_port" "OCSP = http://127.0.0.1:$replay_port" "OCSPnonce = yes"
    ocsp_section untrusted "$good_port" "OCSP = http://127.0.0.1:$stranger_port"
    ocsp_section noverify "$good_port" "OCSP = http://127.0.0.1:$stranger_port" "OCSPflag = NOVERIFY"
    ocsp_section slow "$good_port" "OCSP = http://127.0.0.1:$silent_port" "OCSPrequire = yes" "TIMEOUTbusy = 2"
    ocsp_section unreachable "$good_port" "OCSP = http://127.0.0.1:$full_port" "OCSPrequire = yes" "TIMEOUTocsp = 1"
} >"$T/ocsp.conf"
lib_daemon ocsp "$T/ocsp.conf" || exit 1
olog=$T/ocsp.out
op() { lib_port ocsp "$1"; }

lib_through "$(op aia-good)" || bad "OCSPaia: a good certificate was refused"
lib_through "$(op aia-revoked)" && bad "OCSPaia: a revoked certificate was accepted"
lib_through "$(op nonce)" || bad "OCSPnonce = yes: refused by the openssl responder"
lib_through "$(op replay)" || bad "a replayed good answer was refused without OCSPnonce"
sleep 0.3
[ "$(grep '^request' "$T/replayer.out")" = "request no-nonce" ] ||
    bad "without OCSPnonce: the replayer saw '$(grep '^request' "$T/replayer.out" | tr '\n' ' ')', not one request without a nonce"
lib_through "$(op replay-nonce)" && bad "OCSPnonce = yes: a replayed answer without the nonce was accepted"
sleep 0.3
[ "$(grep '^request' "$T/replayer.out" | tail -n 1)" = "request nonce" ] ||
    bad "OCSPnonce = yes: the request carried no nonce"
lib_through "$(op untrusted)" && bad "an OCSP answer signed by an untrusted key was accepted"
lib_through "$(op noverify)" || bad "OCSPflag = NOVERIFY: the untrusted signer's answer was refused"
start=$(date +%s%N)
lib_through "$(op slow)" --timeout 8 && bad "silent responder: accepted although the responder never answered"
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
echo "TIMEOUTbusy = 2 against a silent OCSP responder: $elapsed ms"
[ "$elapsed" -lt 5000 ] || bad "silent responder: the connection took ${elapsed} ms (not < 5 s)"
start=$(date +%s%N)
lib_through "$(op unreachable)" --timeout 8 && bad "TIMEOUTocsp: accepted although the responder could not be reached"
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
echo "TIMEOUTocsp = 1 against a responder that cannot be connected to: $elapsed ms"
[ "$elapsed" -lt 4000 ] || bad "TIMEOUTocsp = 1: the connection took ${elapsed} ms (not < 4 s)"

L=$(lib_conn_log "$olog" aia-good)
echo "$L" | grep -q "LOG5\[[0-9]*\]: OCSP: Connecting the AIA responder \"http://127.0.0.1:$ocsp_port\"" ||
    bad "OCSPaia: no 'Connecting the AIA responder' line"
echo "$L" | grep -q 'Connecting the configured responder' && bad "OCSPaia: a configured responder was used"
echo "$L" | grep -q 'LOG5\[[0-9]*\]: OCSP: Accepted (good)' || bad "OCSPaia: no 'OCSP: Accepted (good)'"
L=$(lib_conn_log "$olog" aia-revoked)
echo "$L" | grep -q 'LOG3\[[0-9]*\]: OCSP: Rejected (revoked)' || bad "OCSPaia: no 'OCSP: Rejected (revoked)'"
echo "$L" | grep -q 'LOG3\[[0-9]*\]: OCSP: No OCSP stapling response received' ||
    bad "OCSPaia: the responder was asked before the stapled answer was looked at"
lib_conn_log "$olog" nonce | grep -q 'LOG5\[[0-9]*\]: OCSP: Accepted (good)' || bad "OCSPnonce: no 'Accepted (good)'"
lib_conn_log "$olog" replay | grep -q 'LOG5\[[0-9]*\]: OCSP: Accepted (good)' || bad "replay: no 'Accepted (good)'"
L=$(lib_conn_log "$olog" replay-nonce)
echo "$L" | grep -q 'LOG3\[[0-9]*\]: OCSP: Invalid or unsupported nonce' || bad "replay-nonce: no 'Invalid or unsupported nonce'"
echo "$L" | grep -q 'LOG3\[[0-9]*\]: OCSP: Rejected (OCSPrequire = yes)' || bad "replay-nonce: no 'Rejected (OCSPrequire = yes)'"
L=$(lib_conn_log "$olog" untrusted)
echo "$L" | grep -q 'OCSP_basic_verify' || bad "untrusted signer: no OCSP_basic_verify error"
echo "$L" | grep -q 'LOG3\[[0-9]*\]: OCSP: Rejected (OCSPrequire = yes)' || bad "untrusted signer: no 'Rejected (OCSPrequire = yes)'"
lib_conn_log "$olog" noverify | grep -q 'LOG5\[[0-9]*\]: OCSP: Accepted (good)' || bad "OCSPflag = NOVERIFY: no 'Accepted (good)'"
L=$(lib_conn_log "$olog" slow)
echo "$L" | grep -q "OCSP: Connecting the configured responder \"http://127.0.0.1:$silent_port\"" ||
    bad "silent responder: it was not asked"
echo "$L" | grep -q 'LOG6\[[0-9]*\]: OCSP: s_poll_wait: TIMEOUTbusy exceeded' ||
    bad "silent responder: no 'OCSP: s_poll_wait: TIMEOUTbusy exceeded' line; the connection's log:
$(echo "$L" | sed 's/^/    /')"

L=$(lib_conn_log "$olog" unreachable)
echo "$L" | grep -q "s_connect: s_poll_wait 127.0.0.1:$full_port: TIMEOUTconnect exceeded" ||
    bad "TIMEOUTocsp: no connect timeout line"
echo "$L" | grep -q 'LOG3\[[0-9]*\]: OCSP: Rejected (OCSPrequire = yes)' ||
    bad "TIMEOUTocsp: no 'Rejected (OCSPrequire = yes)'"
exit $fail
