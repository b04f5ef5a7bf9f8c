#!/bin/bash
# protocol = proxy (server mode): the backend first receives the HAProxy
# PROXY v1 line naming the TLS client's address and the address it
# connected to, then the client's data.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
cat >"$TEST_TMP/backend.py" <<'EOF'
import os, socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1])); os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept()
    data = b""
    while data.count(b"\n") < 2:
        more = c.recv(4096)
        if not more:
            break
        data += more
    c.sendall(data)
    c.close()
EOF
lib_bg backend python3 "$TEST_TMP/backend.py" "$TEST_TMP/backend.port"
lib_wait_for "$TEST_TMP/backend.port" '^[0-9]+$' || exit 1
cat >"$TEST_TMP/s.conf" <<EOF
foreground = yes
syslog = no
debug = info
[proxy]
accept = 127.0.0.1:0
connect = 127.0.0.1:$(cat "$TEST_TMP/backend.port")
cert = $TEST_TMP/certs/server.pem
protocol = proxy
EOF
lib_daemon d "$TEST_TMP/s.conf" || exit 1
port=$(lib_port d proxy)
out=$(python3 - "$port" <<'EOF'
import socket, ssl, sys
port = int(sys.argv[1])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
raw = socket.create_connection(("127.0.0.1", port))
s = ctx.wrap_socket(raw)
cport = s.getsockname()[1]
s.sendall(b"hello\n")
data = b""
while True:
    more = s.recv(4096)
    if not more:
        break
    data += more
print("client-port %d" % cport)
sys.stdout.write(data.decode())
EOF
)
cport=$(echo "$out" | sed -n 's/^client-port //p')
line=$(echo "$out" | sed -n 2p | tr -d '\r')
[ "$line" = "PROXY TCP4 127.0.0.1 127.0.0.1 $cport $port" ] || bad "PROXY line: '$line'"
[ "$(echo "$out" | sed -n 3p)" = hello ] || bad "client data after the PROXY line: $(echo "$out" | sed -n 3p)"
grep -q 'is not implemented yet' "$TEST_TMP/d.out" && bad "proxy still reported as not implemented"
exit $fail
