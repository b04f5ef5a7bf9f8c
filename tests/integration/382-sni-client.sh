#!/bin/bash
# Client-side sni: a client section with "sni = www.example.org" makes a
# server configured like 220-sni.sh switch to its secondary ("SNI:
# switched to service [web]", backend and certificate of the secondary);
# "sni =" (empty) sends no name and stays on the primary ("SNI: extension
# disabled" on the client, "SNI: no servername received" on the server).
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

(
    cd "$c" || exit 1
    lib_issue . www "/CN=www.example.org" "subjectAltName=DNS:www.example.org"
) >/dev/null 2>&1 || { echo "FAIL: sni certificate"; exit 1; }
# two backends that say who they are
for b in primary web; do
    lib_peer "$b" banner "$b" --close || exit 1
done
cat >"$T/sni-s.conf" <<EOF
$hdr
[primary]
accept = 127.0.0.1:0
connect = 127.0.0.1:$(cat "$T/primary.port")
cert = $c/server.pem
[web]
sni = primary:*.example.org
connect = 127.0.0.1:$(cat "$T/web.port")
cert = $c/www.pem
EOF
lib_daemon sni-s "$T/sni-s.conf" || exit 1
sport=$(lib_port sni-s primary)
cat >"$T/sni-c.conf" <<EOF
$hdr
[named]
client = yes
accept = 127.0.0.1:0
connect = 127.0.0.1:$sport
sni = www.example.org
verifyChain = yes
CAfile = $c/ca.pem
checkHost = www.example.org
[unnamed]
client = yes
accept = 127.0.0.1:0
connect = 127.0.0.1:$sport
sni =
verifyChain = yes
CAfile = $c/ca.pem
checkHost = localhost
EOF
lib_daemon sni-c "$T/sni-c.conf" || exit 1
hello() {  # PORT: what the backend behind the tunnel says
    $PEERS read "$1" --timeout 5 2>/dev/null
}
got=$(hello "$(lib_port sni-c named)")
[ "$got" = web ] || bad "sni = www.example.org: reached '$got', not the secondary's backend"
lib_conn_log "$T/sni-s.out" primary | grep -q 'LOG5\[[0-9]*\]: SNI: switched to service \[web\]' ||
    bad "sni = www.example.org: no 'SNI: switched to service [web]' on the server"
got=$(hello "$(lib_port sni-c unnamed)")
[ "$got" = primary ] || bad "sni = (empty): reached '$got', not the primary's backend"
sleep 0.3
L=$(lib_conn_log "$T/sni-s.out" primary)
echo "$L" | grep -q 'LOG5\[[0-9]*\]: SNI: no servername received' ||
    bad "sni = (empty): the server did not log 'SNI: no servername received'"
echo "$L" | grep -q 'SNI: switched' && bad "sni = (empty): the server switched service"
lib_conn_log "$T/sni-c.out" named | grep -q 'LOG6\[[0-9]*\]: SNI: sending servername: www.example.org' ||
    bad "sni = www.example.org: no 'SNI: sending servername: www.example.org' on the client"
L=$(lib_conn_log "$T/sni-c.out" unnamed)
echo "$L" | grep -q 'LOG6\[[0-9]*\]: SNI: extension disabled' ||
    bad "sni = (empty): no 'SNI: extension disabled' on the client (the reference logs it)"
echo "$L" | grep -q 'SNI: sending servername' && bad "sni = (empty): the client sent a servername"
exit $fail
