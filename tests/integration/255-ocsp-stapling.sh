#!/bin/bash
# OCSP stapling seen by a verifying client section, as stunnel 5.75 does
# it: the server certificate's check waits for the stapled status; good
# ("OCSP: Certificate accepted", "OCSP: Accepted (good)") passes, revoked
# ends the handshake whatever the server it came from, unknown or missing
# ("OCSP: No OCSP stapling response received", LOG3) falls back to the
# AIA responder, whose answer OCSPrequire judges; with no responder to ask
# the connection goes on. The server is openssl s_server stapling fixed
# answers fetched from a real responder (openssl ocsp).
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
c=$TEST_TMP/certs
ocsp_port=$(lib_free_port)
aia="authorityInfoAccess=OCSP;URI:http://127.0.0.1:$ocsp_port"
(
    cd "$c" || exit 1
    for n in good revoked unknown; do
        lib_issue . $n /CN=localhost "subjectAltName=DNS:localhost" "$aia"
    done
    lib_ocsp_index . good good.crt revoked revoked.crt
) >/dev/null 2>&1 || { echo "FAIL: test files"; exit 1; }

lib_ocsp_responder responder "$c" "$ocsp_port" || exit 1
for n in good revoked unknown; do
    openssl ocsp -issuer "$c/ca.pem" -cert "$c/$n.crt" -url "http://127.0.0.1:$ocsp_port" \
        -respout "$c/$n.der" -noverify >/dev/null 2>&1 || { echo "FAIL: OCSP answer for $n"; exit 1; }
done

# one s_server per case: CERT and the answer it staples (or none)
servers=(good:good revoked:revoked unknown:unknown good:none unknown:none)
for i in "${!servers[@]}"; do
    cert=${servers[$i]%%:*} staple=${servers[$i]#*:}
    port=$(lib_free_port)
    args=(-accept "$port" -cert "$c/$cert.pem" -www -quiet)
    [ "$staple" != none ] && args+=(-status_file "$c/$staple.der")
    lib_bg "server$i" openssl s_server "${args[@]}"
    sport[$i]=$port
done
{
    printf 'foreground = yes\nsyslog = no\ndebug = debug\n'
    for i in "${!servers[@]}"; do
        for mode in plain aia tls12; do
            printf '[%s-%s]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\n' \
                "${servers[$i]/:/-}" "$mode" "${sport[$i]}"
            printf 'verifyChain = yes\nCAfile = %s\n' "$c/ca.pem"
            [ $mode = aia ] && printf 'OCSPaia = yes\n'
            [ $mode = tls12 ] && printf 'sslVersion = TLSv1.2\n'
        done
    done
} >"$TEST_TMP/c.conf"
lib_daemon d "$TEST_TMP/c.conf" || exit 1

# does the section reach the web server behind it?
get() {  # SECTION
    printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 socat - "TCP:127.0.0.1:$(lib_port d "$1")" 2>/dev/null |
        head -n 1 | grep -q '^HTTP/1.0 200' && echo ok || echo refused
}
expect() {  # SECTION VERDICT LINE-PATTERN...
    local s=$1 want=$2 got pat lines
    shift 2
    got=$(get "$s")
    [ "$got" = "$want" ] || bad "$s: $got, wanted $want"
    lines=$(lib_conn_log "$TEST_TMP/d.out" "$s")
    for pat in "$@"; do
        grep -q -- "$pat" <<<"$lines" || bad "$s: no line like '$pat'"
    done
}
expect good-good-plain ok 'LOG7\[[0-9]*\]: OCSP: Waiting for OCSP stapling response' \
    'LOG6\[[0-9]*\]: OCSP: OCSP stapling response received' 'LOG6\[[0-9]*\]: OCSP: Status: good' \
    'LOG6\[[0-9]*\]: OCSP: This update: [0-9.]* [0-9:]*$' \
    'LOG5\[[0-9]*\]: OCSP: Certificate accepted' 'LOG5\[[0-9]*\]: OCSP: Accepted (good)'
expect revoked-revoked-plain refused 'LOG3\[[0-9]*\]: OCSP: Certificate revoked' \
    'LOG5\[[0-9]*\]: OCSP: Revoked at: ' 'LOG3\[[0-9]*\]: OCSP: Rejected (revoked)'
expect revoked-revoked-tls12 refused 'LOG3\[[0-9]*\]: OCSP: Rejected (revoked)'
expect good-good-tls12 ok 'LOG5\[[0-9]*\]: OCSP: Accepted (good)'
expect revoked-revoked-aia refused 'LOG3\[[0-9]*\]: OCSP: Rejected (revoked)'
# unknown: nothing to ask goes on; the AIA responder says unknown again
expect unknown-unknown-plain ok 'LOG4\[[0-9]*\]: OCSP: Unknown verification status'
expect unknown-unknown-aia refused 'LOG5\[[0-9]*\]: OCSP: Connecting the AIA responder' \
    'LOG3\[[0-9]*\]: OCSP: Rejected (OCSPrequire = yes)'
# no staple: LOG3, then the AIA responder if there is one
expect good-none-plain ok 'LOG3\[[0-9]*\]: OCSP: No OCSP stapling response received'
expect good-none-aia ok 'LOG3\[[0-9]*\]: OCSP: No OCSP stapling response received' \
    'LOG5\[[0-9]*\]: OCSP: Connecting the AIA responder' 'LOG5\[[0-9]*\]: OCSP: Accepted (good)'
expect unknown-none-aia refused 'LOG3\[[0-9]*\]: OCSP: Rejected (OCSPrequire = yes)'
exit $fail
