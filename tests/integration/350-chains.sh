#!/bin/bash
# Certificate chains and the certificates verification must refuse, both
# ways, with the certificates of tests/certs/mkcerts.sh:
# - server mode: a leaf signed by an intermediate is sent with it (a
#   client trusting only the root accepts it), an RSA-2048 certificate;
#   verifyChain accepts a client whose chain goes through the
#   intermediate, refuses an expired client, and with the root's CRL
#   (CRLfile) a revoked one;
# - client mode (verifyChain, CAfile = the root, checkHost = localhost):
#   a server sending leaf + intermediate is accepted, an expired server
#   and one certified for another host name are refused, with the
#   reference's CERT lines.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
c=$TEST_TMP/certs
lib_peer echo echo || exit 1
echo_port=$PEER_PORT
lib_peer tls-chain echo --tls "$c/chain-server.pem" || exit 1
port_chain=$PEER_PORT
lib_peer tls-expired echo --tls "$c/expired.pem" || exit 1
port_expired=$PEER_PORT
lib_peer tls-wronghost echo --tls "$c/wronghost.pem" || exit 1
port_wronghost=$PEER_PORT

server() {  # NAME CERT EXTRA-LINES...
    lib_section "$1" "$echo_port" "cert = $c/$2" "${@:3}"
}
client() {  # NAME TARGET-PORT
    printf '[%s]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\n' "$1" "$2"
    printf 'verifyChain = yes\nCAfile = %s\ncheckHost = localhost\n' "$c/ca.pem"
}
{
    printf 'foreground = yes\nsyslog = no\ndebug = info\n'
    server chain chain-server.pem
    server rsa rsa-server.pem
    server verify server.pem "verifyChain = yes" "CAfile = $c/ca.pem"
    server crl server.pem "verifyChain = yes" "CAfile = $c/ca.pem" \
        "CRLfile = $c/crl-revoked.pem"
    client to-chain "$port_chain"
    client to-expired "$port_expired"
    client to-wronghost "$port_wronghost"
} >"$TEST_TMP/s.conf"
lib_daemon d "$TEST_TMP/s.conf" || exit 1

through() {  # SECTION [peers.py client options]: 1000 bytes echoed?
    local section=$1
    shift
    lib_through "$(lib_port d "$section")" "$@"
}

# server mode
through chain --tls --ca "$c/ca.pem" ||
    bad "a leaf signed by the intermediate was not accepted by a client trusting the root"
through rsa --tls --ca "$c/ca.pem" || bad "RSA-2048 server certificate"
echo | timeout 5 openssl s_client -connect "127.0.0.1:$(lib_port d rsa)" 2>/dev/null |
    grep -q 'Server public key is 2048 bit' || bad "the rsa section does not present an RSA-2048 key"
through verify --tls --cert "$c/inter-client.pem" ||
    bad "a client chained through the intermediate was refused"
through verify --tls --cert "$c/client.pem" || bad "a client signed by the root was refused"
through verify --tls --cert "$c/expired.pem" && bad "an expired client got through"
through crl --tls --cert "$c/client.pem" || bad "CRLfile: a client not revoked was refused"
through crl --tls --cert "$c/revoked.pem" && bad "CRLfile: a revoked client got through"

# client mode
through to-chain || bad "client mode: a server sending leaf + intermediate was refused"
through to-expired && bad "client mode: an expired server was accepted"
through to-wronghost && bad "client mode: a server certified for wrong.example was accepted"

sleep 0.3
for line in \
    'LOG4\[[0-9]*\]: CERT: Pre-verification error: certificate has expired' \
    'LOG4\[[0-9]*\]: CERT: Pre-verification error: certificate revoked' \
    'LOG4\[[0-9]*\]: Rejected by CERT at depth=0: CN=localhost' \
    'LOG4\[[0-9]*\]: Rejected by CERT at depth=0: CN=revoked' \
    'LOG4\[[0-9]*\]: CERT: Subject checks failed' \
    'LOG4\[[0-9]*\]: Rejected by CERT at depth=0: CN=wrong.example' \
    'LOG5\[[0-9]*\]: Certificate accepted at depth=0: CN=inter-client' \
    'LOG6\[[0-9]*\]: Certificate accepted at depth=1: CN=Test Intermediate' \
    'LOG5\[[0-9]*\]: Certificate accepted at depth=0: CN=localhost'; do
    grep -q "$line" "$TEST_TMP/d.out" || bad "no line like: $line"
done
exit $fail
