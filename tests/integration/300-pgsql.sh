#!/bin/bash
# protocol = pgsql on both sides: a client section sends PostgreSQL's
# SSLRequest and a server section answers it with "S" before TLS, so a
# plain client reaches the echo server through the two; a server that
# answers "N" (no TLS) ends the connection with the reference's message.
# A client's GSSENCRequest gets stunnel 5.75's ErrorResponse ("SSL
# expected but not requested by client") and the connection is closed.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
cat >"$TEST_TMP/no-tls.py" <<'EOF'
import os, socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1])); os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept(); c.recv(8); c.sendall(b"N"); c.close()
EOF
lib_bg notls python3 "$TEST_TMP/no-tls.py" "$TEST_TMP/notls.port"
lib_wait_for "$TEST_TMP/notls.port" '^[0-9]+$' || exit 1
lib_peer echo echo || exit 1
cat >"$TEST_TMP/s.conf" <<EOF
foreground = yes
syslog = no
debug = info
[pg-server]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
cert = $TEST_TMP/certs/server.pem
protocol = pgsql
EOF
lib_daemon s "$TEST_TMP/s.conf" || exit 1
cat >"$TEST_TMP/c.conf" <<EOF
foreground = yes
syslog = no
debug = info
[pg-client]
client = yes
accept = 127.0.0.1:0
connect = 127.0.0.1:$(lib_port s pg-server)
protocol = pgsql
[refused]
client = yes
accept = 127.0.0.1:0
connect = 127.0.0.1:$(cat "$TEST_TMP/notls.port")
protocol = pgsql
EOF
lib_daemon c "$TEST_TMP/c.conf" || exit 1
read -r _ sent _ received count < <($PEERS client "$(lib_port c pg-client)" 50000 --expect-bytes 50000 --timeout 10)
[ "$count" = 50000 ] && [ "$sent" = "$received" ] || bad "no tunnel with pgsql on both sides"
read -r _ _ _ _ count < <($PEERS client "$(lib_port c refused)" 100 --timeout 10 2>/dev/null)
[ "${count:-0}" = 0 ] || bad "a server refusing TLS still carried data"
sleep 0.3
grep -q 'LOG3\[[0-9]*\]: PostgreSQL server rejected TLS' "$TEST_TMP/c.out" || bad "no 'PostgreSQL server rejected TLS'"
grep -q 'TLS accepted: new session negotiated' "$TEST_TMP/s.out" || bad "server section did no TLS after SSLRequest"
got=$($PEERS chat-client "$(lib_port s pg-server)" 'S:\x00\x00\x00\x08\x04\xd2\x16\x30' EOF)
[ "$got" = "got b'E\\x00\\x00\\x00=SERROR\\x00CXX000\\x00MSSL expected but not requested by client\\x00\\x00' then EOF" ] ||
    bad "GSSENCRequest answered with $got"
sleep 0.3
grep -A1 'LOG6\[[0-9]*\]: GSSAPI encryption requested, rejecting gracefully$' "$TEST_TMP/s.out" |
    grep -q 'Connection closed: 0 byte(s)' || bad "GSSENCRequest: no 'GSSAPI encryption requested, rejecting gracefully', 'Connection closed'"
exit $fail
