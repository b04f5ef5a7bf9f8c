#!/bin/bash
# local = HOST: the source address of the connections to the targets, a
# host with no port, bound to an ephemeral port ("bind succeeded on an
# ephemeral port", as stunnel 5.75 logs it); resolved when the file is
# read ("Failed to resolve local address"); a target of the other family
# is skipped ("Cannot assign an AF=10 address an AF=2 socket").
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
lib_peer tlsecho echo --tls "$TEST_TMP/certs/server.pem" || exit 1
section() {  # NAME LOCAL
    printf '[%s]\nclient = yes\naccept = 127.0.0.1:0\n' "$1"
    printf 'connect = 127.0.0.1:%s\nlocal = %s\n' "$PEER_PORT" "$2"
}
{
    printf 'foreground = yes\nsyslog = no\ndebug = debug\n'
    section v4 127.0.0.2
    section any '*'
    section v6 ::1
} >"$TEST_TMP/c.conf"
lib_daemon d "$TEST_TMP/c.conf" || exit 1
for s in v4 any; do
    lib_through "$(lib_port d $s)" || bad "$s: nothing came back through local = ..."
done
lib_through "$(lib_port d v6)" && bad "v6: an IPv6 source address was used for an IPv4 target"
sleep 0.3
log=$TEST_TMP/d.out
[ "$(grep -c 'LOG6\[[0-9]*\]: bind succeeded on an ephemeral port$' "$log")" = 2 ] ||
    bad "no 'bind succeeded on an ephemeral port' for each of v4 and any"
grep -q 'LOG5\[[0-9]*\]: Service \[v4\] connected remote server from 127\.0\.0\.2:[0-9]*$' "$log" ||
    bad "v4: the connection does not come from 127.0.0.2"
grep -q 'LOG7\[[0-9]*\]: Cannot assign an AF=10 address an AF=2 socket$' "$log" ||
    bad "v6: no 'Cannot assign an AF=10 address an AF=2 socket'"
grep -q 'Unknown TCP service' "$log" && bad "local read as a port"

# a port is no part of it: the whole value is a host, resolved at load
printf 'foreground = yes\n[bad]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:1\nlocal = 127.0.0.1:99\n' \
    >"$TEST_TMP/bad.conf"
rc=$(lib_run "$STUNNEL" "$TEST_TMP/bad.conf" "$TEST_TMP/bad.out")
[ "$rc" = 1 ] || bad "local = 127.0.0.1:99 accepted (exit $rc)"
grep -q '^\[!\] Error resolving "127.0.0.1:99": ' "$TEST_TMP/bad.out" ||
    bad "no 'Error resolving \"127.0.0.1:99\"'"
grep -q '"local = 127.0.0.1:99": Failed to resolve local address$' "$TEST_TMP/bad.out" ||
    bad "no 'Failed to resolve local address'"
exit $fail
