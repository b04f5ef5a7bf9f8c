#!/bin/bash
# Unix sockets: a server section listening on a Unix socket path (owned
# by the section's setuid/setgid when run as root) in front of a backend
# on another Unix socket; TLS clients get their bytes back; the socket
# file is removed when the daemon ends.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
lib_peer backend echo --unix "$TEST_TMP/backend.sock" || exit 1
owner=
if [ "$(id -u)" = 0 ] && getent passwd nobody >/dev/null; then
    owner="setuid = nobody"
fi
cat >"$TEST_TMP/s.conf" <<EOF
foreground = yes
syslog = no
debug = debug
[unix]
accept = $TEST_TMP/front.sock
connect = $TEST_TMP/backend.sock
cert = $TEST_TMP/certs/server.pem
$owner
EOF
lib_daemon d "$TEST_TMP/s.conf" || exit 1
pid=$LIB_PID
[ -S "$TEST_TMP/front.sock" ] || bad "no listening socket file"
if [ -n "$owner" ]; then
    [ "$(stat -c %U "$TEST_TMP/front.sock")" = nobody ] || bad "socket not owned by the section's setuid user"
    grep -q "Socket chown succeeded: $TEST_TMP/front.sock" "$TEST_TMP/d.out" || bad "no 'Socket chown succeeded'"
fi
out=$(python3 - "$TEST_TMP/front.sock" <<'EOF'
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
raw = socket.socket(socket.AF_UNIX); raw.connect(sys.argv[1])
s = ctx.wrap_socket(raw)
s.sendall(b"over unix sockets\n")
print(s.recv(100).decode().strip())
EOF
)
[ "$out" = "over unix sockets" ] || bad "round trip over Unix sockets: '$out'"
sleep 0.3
grep -q "Service \[unix\] (FD=[0-9]*) bound to localhost:$TEST_TMP/front.sock$" "$TEST_TMP/d.out" || bad "no bound line for the path"
grep -q "s_connect: connected localhost:$TEST_TMP/backend.sock$" "$TEST_TMP/d.out" || bad "no connect line for the backend path"
grep -q "Service \[unix\] connected remote server from unnamed socket$" "$TEST_TMP/d.out" || bad "the unbound source of a Unix connection not logged as an unnamed socket"
kill "$pid"
wait "$pid" 2>/dev/null
[ -e "$TEST_TMP/front.sock" ] && bad "socket file left behind"
exit $fail
