#!/bin/bash
# A backend that writes its last bytes and closes at once: every byte
# still reaches the client, in server mode (plain backend, TLS client)
# and in client mode (TLS backend, plain client). stunnel 5.68 loses up
# to ~100 KB of 32 MiB in this case; this daemon must lose nothing.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
size=$((32 << 20))

lib_peer plain blast $size || exit 1
plain=$PEER_PORT
lib_peer tls blast $size --tls "$TEST_TMP/certs/server.pem" || exit 1
tls=$PEER_PORT
cat >"$TEST_TMP/s.conf" <<EOF
foreground = yes
syslog = no
debug = info
[server-mode]
accept = 127.0.0.1:0
connect = 127.0.0.1:$plain
cert = $TEST_TMP/certs/server.pem
[client-mode]
client = yes
accept = 127.0.0.1:0
connect = 127.0.0.1:$tls
EOF
lib_daemon d "$TEST_TMP/s.conf" || exit 1

for round in 1 2 3; do
    read -r _ sha count < <($PEERS sink "$(lib_port d server-mode)" --tls --timeout 60)
    want=$(sed -n "${round}p" "$TEST_TMP/plain.out")
    [ "$count" = $size ] || bad "server mode, round $round: $count of $size bytes"
    [ "$sha" = "$want" ] || bad "server mode, round $round: checksum differs"
    read -r _ sha count < <($PEERS sink "$(lib_port d client-mode)" --timeout 60)
    want=$(sed -n "${round}p" "$TEST_TMP/tls.out")
    [ "$count" = $size ] || bad "client mode, round $round: $count of $size bytes"
    [ "$sha" = "$want" ] || bad "client mode, round $round: checksum differs"
done
exit $fail
