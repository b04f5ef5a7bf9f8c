#!/bin/bash
# The remote socket options are set once the target is connected, as
# stunnel 5.75 does: after "Service [NAME] connected remote server from
# ADDR", once per connection however many targets failed before.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
lib_peer tlsecho echo --tls "$TEST_TMP/certs/server.pem" || exit 1
cat >"$TEST_TMP/c.conf" <<EOF
foreground = yes
syslog = no
debug = debug
[opts]
client = yes
accept = 127.0.0.1:0
connect = 127.0.0.1:$(lib_free_port)
connect = 127.0.0.1:$PEER_PORT
socket = r:SO_KEEPALIVE=1
EOF
lib_daemon d "$TEST_TMP/c.conf" || exit 1
lib_through "$(lib_port d opts)" || bad "nothing came back through the second target"
sleep 0.3
sed -n 's/^.*LOG[0-9]\[[0-9][0-9]*\]: //p' "$TEST_TMP/d.out" |
    grep -E '^(Service \[opts\] connected remote server from|Setting remote socket options|Option SO_KEEPALIVE set on remote socket|s_connect: connect(ing|ed)? )' |
    sed -E 's/:[0-9]+(: .*)?$//; s/\(FD=[0-9]+\)/(FD=N)/' >"$TEST_TMP/order"
cat >"$TEST_TMP/want" <<EOF
s_connect: connecting 127.0.0.1
s_connect: connect 127.0.0.1
s_connect: connecting 127.0.0.1
s_connect: connected 127.0.0.1
Service [opts] connected remote server from 127.0.0.1
Setting remote socket options (FD=N)
Option SO_KEEPALIVE set on remote socket
EOF
diff "$TEST_TMP/want" "$TEST_TMP/order" >/dev/null ||
    bad "remote socket options not set once after the connection: $(tr '\n' '|' <"$TEST_TMP/order")"
exit $fail
