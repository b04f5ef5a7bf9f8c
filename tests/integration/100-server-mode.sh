#!/bin/bash
# Server mode: TLS clients (openssl s_client, Python ssl) through the
# daemon to a plain echo server; 256 MiB each way with equal checksums,
# garbage and a client leaving mid-handshake are refused with the
# reference's messages, and the reference's log lines.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }

lib_peer echo echo || exit 1
cat >"$TEST_TMP/s.conf" <<EOF
foreground = yes
syslog = no
debug = info
[tls-server]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
cert = $TEST_TMP/certs/server.pem
EOF
lib_daemon d "$TEST_TMP/s.conf" || exit 1
port=$(lib_port d tls-server)
[ -n "$port" ] || { bad "no bound port in the log"; exit 1; }

# openssl s_client
out=$( (echo "hello through s_client"; sleep 1) |
    timeout 10 openssl s_client -connect "127.0.0.1:$port" -quiet 2>/dev/null)
[ "$out" = "hello through s_client" ] || bad "s_client round trip: '$out'"

# Python ssl client: 256 MiB each way at once; the echo server ends it
read -r _ sent _ received count < <($PEERS client "$port" $((256 << 20)) --tls \
    --ca "$TEST_TMP/certs/ca.pem" --timeout 120 --expect-bytes $((256 << 20)))
[ "$count" = $((256 << 20)) ] || bad "256 MiB: received $count bytes"
[ "$sent" = "$received" ] || bad "256 MiB: checksums differ"

# garbage instead of a ClientHello, and a client that leaves mid-handshake
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 socat -t 2 - "TCP:127.0.0.1:$port" >"$TEST_TMP/garbage" 2>/dev/null
[ -s "$TEST_TMP/garbage" ] && bad "plain HTTP got an answer from the backend"
python3 -c "import socket; s = socket.create_connection(('127.0.0.1', $port)); s.sendall(bytes.fromhex('160301')); s.close()"

sleep 0.5
log="$TEST_TMP/d.out"
grep -Eq 'LOG3\[[0-9]+\]: SSL_accept: .*http request' "$log" || bad "no 'SSL_accept: ... http request' line"
grep -Eq 'LOG5\[[0-9]+\]: Connection reset: 0 byte\(s\) sent to TLS, 0 byte\(s\) sent to socket$' "$log" ||
    bad "garbage did not end with 'Connection reset'"
[ "$(grep -c 'SSL_accept: ' "$log")" -ge 2 ] || bad "a client leaving mid-handshake is not logged"
kill -0 "$(pgrep -f "$TEST_TMP/s.conf" | head -1)" 2>/dev/null || bad "daemon died"
grep -Eq 'LOG5\[[0-9]+\]: Service \[tls-server\] accepted connection from 127\.0\.0\.1:[0-9]+$' "$log" ||
    bad "no accept line"
grep -Eq 'LOG6\[[0-9]+\]: TLS accepted: new session negotiated$' "$log" || bad "no 'TLS accepted' line"
grep -Eq 'LOG6\[[0-9]+\]: TLSv1\.3 ciphersuite: TLS_AES_256_GCM_SHA384 \(256-bit encryption\)$' "$log" ||
    bad "no ciphersuite line"
grep -Eq "LOG5\[[0-9]+\]: Service \[tls-server\] connected remote server from 127\.0\.0\.1:[0-9]+$" "$log" ||
    bad "no 'connected remote server' line"
grep -Eq "LOG5\[[0-9]+\]: Connection (closed|reset): $((256 << 20)) byte\(s\) sent to TLS, $((256 << 20)) byte\(s\) sent to socket$" "$log" ||
    { bad "no closing line with the byte counts"; grep 'Connection' "$log"; }
grep -Eq 'LOG6\[ui\]: Process [0-9]+ finished with code 0$' "$log" || bad "child not reaped"
exit $fail
