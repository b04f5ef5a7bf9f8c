#!/bin/bash
# A SOCKS server section refuses as stunnel 5.75 does: an unknown SOCKS
# version resets the connection; an unknown SOCKS5 address type gets the
# reply "command not supported" (7); a client that ends TLS in the middle
# of its request is logged as "s_ssl_read: Received N out of requested M
# byte(s)" and its TLS side spared ("Connection reset/closed").
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
cat >"$TEST_TMP/s.conf" <<EOF
foreground = yes
syslog = no
debug = debug
[socks]
accept = 127.0.0.1:0
cert = $TEST_TMP/certs/server.pem
protocol = socks
EOF
lib_daemon d "$TEST_TMP/s.conf" || exit 1
port=$(lib_port d socks)
log=$TEST_TMP/d.out
last() {  # the closing line of the last connection
    sleep 0.3
    grep 'LOG5\[[0-9]*\]: Connection ' "$log" | tail -n 1 | sed 's/^.*LOG5\[[0-9]*\]: //'
}
$PEERS chat-client "$port" TLS 'S:\x06' EOF >/dev/null
grep -q 'LOG3\[[0-9]*\]: Unsupported SOCKS version 0x06$' "$log" || bad "no 'Unsupported SOCKS version 0x06'"
[ "$(last)" = "Connection reset: 0 byte(s) sent to TLS, 0 byte(s) sent to socket" ] ||
    bad "an unknown SOCKS version: $(last)"
got=$($PEERS chat-client "$port" TLS 'S:\x05\x01\x00\x05\x01\x00\x09\x00' EOF | tail -n 1)
[ "$got" = "got b'\\x05\\x00\\x05\\x07\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00' then EOF" ] ||
    bad "an unknown SOCKS5 address type answered with $got"
grep -q 'LOG3\[[0-9]*\]: Unsupported SOCKS5 address type 0x09$' "$log" || bad "no 'Unsupported SOCKS5 address type 0x09'"
$PEERS chat-client "$port" TLS 'S:\x05\x01\x00\x05\x01\x00' SHUT EOF >/dev/null
grep -q 'LOG3\[[0-9]*\]: s_ssl_read: Received 3 out of requested 4 byte(s)$' "$log" ||
    bad "no 's_ssl_read: Received 3 out of requested 4 byte(s)'"
grep -q 'LOG7\[[0-9]*\]: s_ssl_read_eof: TLS socket closed$' "$log" || bad "no 's_ssl_read_eof: TLS socket closed'"
[ "$(last)" = "Connection reset/closed: 0 byte(s) sent to TLS, 0 byte(s) sent to socket" ] ||
    bad "a request cut short: $(last)"
exit $fail
