#!/bin/bash
# The certificate verification options against real TLS peers, each with
# a success and a refusal path and the daemon's log lines:
# - a client section presenting a client certificate (cert + key) to a
#   server section with verifyChain + CAfile ("Certificate accepted at
#   depth=0: CN=client"); the same client section without a certificate
#   is refused;
# - the legacy verify levels in server mode: 1 (a missing certificate is
#   fine, a self-signed one refused), 2 (a certificate is required and
#   its chain checked), 3 (chain checked and the client certificate must
#   be installed in CAfile: with CAfile = the client certificate alone
#   its chain cannot be checked, so it is refused), 4 (only the
#   installed certificate, chain not checked);
# - client mode subject checks: checkIP (the server's IP SAN 127.0.0.1
#   matches, 10.9.9.9 does not: "CERT: Subject checks failed"), checkEmail
#   with a server certificate carrying an e-mail SAN, matching and not;
# - where the trusted certificates come from: CApath (the hashed links
#   of the certificates directory), CAstore = file:ca.pem, each accepting
#   a server signed by the CA and refusing a self-signed one; CRLpath (a
#   directory with a hashed .r0 link to the CRL revoking revoked.pem)
#   refusing the revoked client ("certificate revoked") and accepting
#   client.pem;
# - client mode verifyPeer (pinning): CAfile holding exactly the server's
#   certificate accepted, a different one refused ("CERT: Certificate not
#   found in local repository").
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
command -v openssl >/dev/null 2>&1 || { echo "SKIP: openssl not installed"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
c=$TEST_TMP/certs

# A server certificate with an e-mail address (and localhost), signed by
# the root; the CA and the CRL revoking revoked.pem, hashed, in crldir/;
# the CA and client.crt together for verify = 3.
(
    cd "$c" || exit 1
    lib_issue . email "/CN=mail server" \
        "subjectAltName=email:server@example.test,DNS:localhost" || exit 1
    cat ca.pem client.crt >ca-and-client.pem
    mkdir crldir && cd crldir || exit 1
    cp ../ca.pem ../crl-revoked.pem . || exit 1
    ln -s ca.pem "$(openssl x509 -hash -noout -in ca.pem).0" &&
    ln -s crl-revoked.pem "$(openssl crl -hash -noout -in crl-revoked.pem).r0"
) >/dev/null 2>&1 || { echo "FAIL: test certificates"; exit 1; }

lib_peer echo echo || exit 1
echo_port=$PEER_PORT
lib_peer tls-server echo --tls "$c/server.pem" || exit 1
port_server=$PEER_PORT
lib_peer tls-stranger echo --tls "$c/stranger.pem" || exit 1
port_stranger=$PEER_PORT
lib_peer tls-email echo --tls "$c/email.pem" || exit 1
port_email=$PEER_PORT

# daemon s: server sections in front of the plain echo server
server() {  # NAME EXTRA-LINES...
    lib_section "$1" "$echo_port" "cert = $c/server.pem" "${@:2}"
}
{
    printf 'foreground = yes\nsyslog = no\ndebug = info\n'
    server chain "verifyChain = yes" "CAfile = $c/ca.pem"
    server v1 "verify = 1" "CAfile = $c/ca.pem"
    server v2 "verify = 2" "CAfile = $c/ca.pem"
    server v3 "verify = 3" "CAfile = $c/ca-and-client.pem"
    server v3-leaf "verify = 3" "CAfile = $c/client.crt"
    server v4 "verify = 4" "CAfile = $c/client.crt"
    server crlpath "verifyChain = yes" "CAfile = $c/ca.pem" "CRLpath = $c/crldir"
} >"$TEST_TMP/s.conf"
lib_daemon s "$TEST_TMP/s.conf" || exit 1
port_chain=$(lib_port s chain)
[ -n "$port_chain" ] || { bad "no bound port for [chain]"; exit 1; }

# daemon c: client sections
client() {  # NAME TARGET-PORT EXTRA-LINES...
    local name=$1 port=$2; shift 2
    printf '[%s]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\n' "$name" "$port"
    printf '%s\n' "$@"
}
{
    printf 'foreground = yes\nsyslog = no\ndebug = info\n'
    client withcert "$port_chain" "cert = $c/client.crt" "key = $c/client.key" \
        "verifyChain = yes" "CAfile = $c/ca.pem" "checkHost = localhost"
    client nocert "$port_chain" "verifyChain = yes" "CAfile = $c/ca.pem" "checkHost = localhost"
    client ip-ok "$port_server" "verifyChain = yes" "CAfile = $c/ca.pem" "checkIP = 127.0.0.1"
    client ip-bad "$port_server" "verifyChain = yes" "CAfile = $c/ca.pem" "checkIP = 10.9.9.9"
    client mail-ok "$port_email" "verifyChain = yes" "CAfile = $c/ca.pem" \
        "checkEmail = server@example.test"
    client mail-bad "$port_email" "verifyChain = yes" "CAfile = $c/ca.pem" \
        "checkEmail = other@example.test"
    client capath-ok "$port_server" "verifyChain = yes" "CApath = $c"
    client capath-bad "$port_stranger" "verifyChain = yes" "CApath = $c"
    client castore-ok "$port_server" "verifyChain = yes" "CAstore = file:$c/ca.pem"
    client castore-bad "$port_stranger" "verifyChain = yes" "CAstore = file:$c/ca.pem"
    client pin-ok "$port_server" "verifyPeer = yes" "CAfile = $c/cert.pem"
    client pin-bad "$port_server" "verifyPeer = yes" "CAfile = $c/wh.crt"
} >"$TEST_TMP/c.conf"
lib_daemon c "$TEST_TMP/c.conf" || exit 1

# conn DAEMON SERVICE N: the log lines of the Nth connection (from 1)
# SERVICE of DAEMON accepted, once it has ended (up to 5 s)
conn() {
    local log=$TEST_TMP/$1.out service=$2 n=$3 id i
    for ((i = 0; i < 100; i++)); do
        id=$(sed -n "s/.*LOG5\[\([^]]*\)\]: Service \[$service\] accepted connection from .*/\1/p" \
            "$log" | sed -n "${n}p")
        if [ -n "$id" ] && grep -F "[$id]: " "$log" | grep -Eq 'Connection (closed|reset)'; then
            break
        fi
        sleep 0.05
    done
    [ -n "$id" ] && grep -F "[$id]: " "$log"
}

# has DAEMON SERVICE N REGEX: the Nth connection of SERVICE logged REGEX
has() {
    conn "$1" "$2" "$3" | grep -Eq -- "$4" ||
        bad "$1 [$2] connection $3: no line like '$4'"
}
hasnt() {
    local lines
    lines=$(conn "$1" "$2" "$3") || { bad "$1 [$2]: no connection $3 in the log"; return; }
    ! grep -Eq -- "$4" <<<"$lines" || bad "$1 [$2] connection $3: unexpected line like '$4'"
}

sport() { lib_port s "$1"; }
cport() { lib_port c "$1"; }

ACCEPTED='LOG5\[[^]]*\]: Certificate accepted at depth=0: '
REJECTED='LOG4\[[^]]*\]: Rejected by CERT at depth=0: '
NOCERT='peer did not return a certificate'
VERIFY_FAILED_S='LOG3\[[^]]*\]: SSL_accept: .*certificate verify failed$'
VERIFY_FAILED_C='LOG3\[[^]]*\]: SSL_connect: .*certificate verify failed$'

# 1. a client section with a client certificate, and without; the
# server section sends its CAfile's subject as the acceptable issuer
echo | timeout 5 openssl s_client -connect "127.0.0.1:$port_chain" 2>/dev/null |
    grep -A 2 '^Acceptable client certificate CA names' | grep -q '^CN *= *Test CA$' ||
    bad "[chain] the CAfile's subject is not sent as an acceptable client CA name"
lib_through "$(cport withcert)" || bad "[withcert] data did not flow through the two daemons"
has s chain 2 'LOG6\[[^]]*\]: Peer certificate required$'
has s chain 2 "${ACCEPTED}CN=client\$"
# the reference logs the CA names the server asked for
has c withcert 1 'LOG6\[[^]]*\]: Received trusted client CA: CN=Test CA$'
has c withcert 1 'LOG6\[[^]]*\]: CERT: Host name "localhost" matched with "localhost"$'
has c withcert 1 "${ACCEPTED}CN=localhost\$"
has c withcert 1 'LOG5\[[^]]*\]: Connection closed: 1000 byte\(s\) sent to TLS, 1000 byte\(s\) sent to socket$'
lib_through "$(cport nocert)" && bad "[nocert] a client section without a certificate got through"
has s chain 3 "LOG3\[[^]]*\]: SSL_accept: .*$NOCERT"
hasnt s chain 3 'Certificate accepted'
# (the server's alert or its reset ends it first: either way nothing
# reaches the client)
has c nocert 1 'LOG5\[[^]]*\]: Connection (closed/reset|reset): [0-9]+ byte\(s\) sent to TLS, 0 byte\(s\) sent to socket$'

# 2. the legacy verify levels (server mode); every refused certificate
# ends the handshake with "SSL_accept: ...certificate verify failed"
lib_through "$(sport v1)" --tls || bad "verify = 1: a client without a certificate was refused"
has s v1 1 'LOG6\[[^]]*\]: Peer certificate not required$'
hasnt s v1 1 "$NOCERT"
lib_through "$(sport v1)" --tls --cert "$c/stranger.pem" && bad "verify = 1: a self-signed client got through"
has s v1 2 'LOG4\[[^]]*\]: CERT: Pre-verification error: certificate not found in local repository: self-signed certificate$'
has s v1 2 "${REJECTED}CN=stranger\$"
has s v1 2 "$VERIFY_FAILED_S"
lib_through "$(sport v1)" --tls --cert "$c/client.pem" || bad "verify = 1: a client signed by the CA was refused"
has s v1 3 "${ACCEPTED}CN=client\$"

lib_through "$(sport v2)" --tls && bad "verify = 2: a client without a certificate got through"
has s v2 1 'LOG6\[[^]]*\]: Peer certificate required$'
has s v2 1 "LOG3\[[^]]*\]: SSL_accept: .*$NOCERT"
lib_through "$(sport v2)" --tls --cert "$c/stranger.pem" && bad "verify = 2: a self-signed client got through"
has s v2 2 'LOG4\[[^]]*\]: CERT: Pre-verification error: certificate not found in local repository: self-signed certificate$'
has s v2 2 "${REJECTED}CN=stranger\$"
has s v2 2 "$VERIFY_FAILED_S"
lib_through "$(sport v2)" --tls --cert "$c/client.pem" || bad "verify = 2: a client signed by the CA was refused"
has s v2 3 "${ACCEPTED}CN=client\$"

# verify = 3, CAfile = the root and client.crt
lib_through "$(sport v3)" --tls --cert "$c/client.pem" || bad "verify = 3: the installed client was refused"
has s v3 1 'LOG6\[[^]]*\]: CERT: Locally installed certificate matched$'
has s v3 1 "${ACCEPTED}CN=client\$"
lib_through "$(sport v3)" --tls --cert "$c/revoked.pem" &&
    bad "verify = 3: a client signed by the CA but not installed got through"
has s v3 2 'LOG4\[[^]]*\]: CERT: Certificate not found in local repository$'
has s v3 2 "${REJECTED}CN=revoked\$"
has s v3 2 "$VERIFY_FAILED_S"
lib_through "$(sport v3)" --tls && bad "verify = 3: a client without a certificate got through"
has s v3 3 "LOG3\[[^]]*\]: SSL_accept: .*$NOCERT"
lib_through "$(sport v3)" --tls --cert "$c/stranger.pem" && bad "verify = 3: a self-signed client got through"
has s v3 4 "${REJECTED}CN=stranger\$"
# verify = 3 with CAfile = client.crt alone: installed, but its chain
# cannot be checked (the reference refuses it too)
lib_through "$(sport v3-leaf)" --tls --cert "$c/client.pem" &&
    bad "verify = 3: a client whose issuer is not trusted got through (the chain must be checked)"
has s v3-leaf 1 'LOG4\[[^]]*\]: CERT: Pre-verification error: unable to get local issuer certificate$'
has s v3-leaf 1 "${REJECTED}CN=client\$"

# verify = 4, CAfile = client.crt alone: the chain is not checked
lib_through "$(sport v4)" --tls --cert "$c/client.pem" ||
    bad "verify = 4: the installed client (its CA not trusted) was refused"
has s v4 1 'LOG6\[[^]]*\]: CERT: Pre-verification error ignored: unable to get local issuer certificate$'
has s v4 1 'LOG6\[[^]]*\]: CERT: Locally installed certificate matched$'
has s v4 1 "${ACCEPTED}CN=client\$"
lib_through "$(sport v4)" --tls --cert "$c/revoked.pem" && bad "verify = 4: a client not installed got through"
has s v4 2 'LOG4\[[^]]*\]: CERT: Certificate not found in local repository$'
has s v4 2 "${REJECTED}CN=revoked\$"
has s v4 2 "$VERIFY_FAILED_S"
lib_through "$(sport v4)" --tls && bad "verify = 4: a client without a certificate got through"
has s v4 3 "LOG3\[[^]]*\]: SSL_accept: .*$NOCERT"

# 3. subject checks (client mode); every refused server ends the
# handshake with "SSL_connect: ...certificate verify failed"
lib_through "$(cport ip-ok)" || bad "checkIP = 127.0.0.1: the server (IP SAN 127.0.0.1) was refused"
has c ip-ok 1 'LOG6\[[^]]*\]: CERT: IP address "127\.0\.0\.1" matched$'
has c ip-ok 1 "${ACCEPTED}CN=localhost\$"
lib_through "$(cport ip-bad)" && bad "checkIP = 10.9.9.9: the server was accepted"
has c ip-bad 1 'LOG4\[[^]]*\]: CERT: Subject checks failed$'
has c ip-bad 1 "${REJECTED}CN=localhost\$"
has c ip-bad 1 "$VERIFY_FAILED_C"
lib_through "$(cport mail-ok)" || bad "checkEmail: the server with that e-mail SAN was refused"
has c mail-ok 1 'LOG6\[[^]]*\]: CERT: Email address "server@example\.test" matched$'
has c mail-ok 1 "${ACCEPTED}CN=mail server\$"
lib_through "$(cport mail-bad)" && bad "checkEmail = other@example.test: the server was accepted"
has c mail-bad 1 'LOG4\[[^]]*\]: CERT: Subject checks failed$'
has c mail-bad 1 "${REJECTED}CN=mail server\$"
has c mail-bad 1 "$VERIFY_FAILED_C"

# 4. CApath, CAstore (client mode), CRLpath (server mode)
for s in capath castore; do
    lib_through "$(cport $s-ok)" || bad "[$s-ok] a server signed by the CA was refused"
    has c $s-ok 1 'LOG6\[[^]]*\]: Certificate accepted at depth=1: CN=Test CA$'
    has c $s-ok 1 "${ACCEPTED}CN=localhost\$"
    lib_through "$(cport $s-bad)" && bad "[$s-bad] a self-signed server was accepted"
    has c $s-bad 1 'LOG4\[[^]]*\]: CERT: Pre-verification error: certificate not found in local repository: self-signed certificate$'
    has c $s-bad 1 "${REJECTED}CN=stranger\$"
    # with a file: store OpenSSL queues "search only supported for
    # directories" before the failure, so the reason may be a queue line
    has c $s-bad 1 'LOG3\[[^]]*\]: (SSL_connect|error queue): .*certificate verify failed$'
done
lib_through "$(sport crlpath)" --tls --cert "$c/client.pem" || bad "CRLpath: a client not revoked was refused"
has s crlpath 1 "${ACCEPTED}CN=client\$"
lib_through "$(sport crlpath)" --tls --cert "$c/revoked.pem" && bad "CRLpath: a revoked client got through"
has s crlpath 2 'LOG4\[[^]]*\]: CERT: Pre-verification error: certificate revoked$'
has s crlpath 2 "${REJECTED}CN=revoked\$"
has s crlpath 2 "$VERIFY_FAILED_S"

# 5. verifyPeer in client mode (pinning)
lib_through "$(cport pin-ok)" || bad "verifyPeer: the pinned server certificate was refused"
has c pin-ok 1 'LOG6\[[^]]*\]: CERT: Locally installed certificate matched$'
has c pin-ok 1 "${ACCEPTED}CN=localhost\$"
lib_through "$(cport pin-bad)" && bad "verifyPeer: a server whose certificate is not pinned was accepted"
has c pin-bad 1 'LOG4\[[^]]*\]: CERT: Certificate not found in local repository$'
has c pin-bad 1 "${REJECTED}CN=localhost\$"
has c pin-bad 1 "$VERIFY_FAILED_C"

if [ $fail != 0 ]; then
    for d in s c; do
        echo "--- daemon $d log:"; grep -v 'LOG7' "$TEST_TMP/$d.out" | tail -n 150
    done
fi
exit $fail
