#!/bin/bash
# libwrap = yes: TCP Wrappers consulted in the connection process under
# the section's name. A private mount namespace lays test files over
# /etc/hosts.allow and /etc/hosts.deny, which deny one section and not
# the other; the refused client gets nothing and the log says
# "Service [NAME] REFUSED by libwrap from ADDR". The library is loaded
# only by a configuration that asks for it: a daemon without "libwrap =
# yes" has neither it nor its dependencies mapped.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
"$STUNNEL" -version 2>&1 | grep -q 'Auth:LIBWRAP' || { echo "SKIP: built without libwrap"; exit $SKIP; }
unshare --mount true 2>/dev/null || { echo "SKIP: no mount namespace"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
: >"$TEST_TMP/hosts.allow"
echo "denied-svc: ALL" >"$TEST_TMP/hosts.deny"
[ -e /etc/hosts.allow ] && [ -e /etc/hosts.deny ] || { echo "SKIP: no /etc/hosts.allow or hosts.deny to lay over"; exit $SKIP; }
lib_peer echo echo || exit 1
cat >"$TEST_TMP/s.conf" <<EOF
foreground = yes
syslog = no
debug = debug
[denied-svc]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
cert = $TEST_TMP/certs/server.pem
libwrap = yes
[allowed-svc]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
cert = $TEST_TMP/certs/server.pem
libwrap = yes
EOF
cat >"$TEST_TMP/run.sh" <<EOF
mount --bind "$TEST_TMP/hosts.allow" /etc/hosts.allow &&
mount --bind "$TEST_TMP/hosts.deny" /etc/hosts.deny &&
exec "$STUNNEL" "$TEST_TMP/s.conf"
EOF
lib_bg d unshare --mount sh "$TEST_TMP/run.sh"
wrapped=$LIB_PID
lib_wait_for "$TEST_TMP/d.out" 'Accepting new connections|Configuration failed' &&
    grep -q 'Accepting new connections' "$TEST_TMP/d.out" || { echo "FAIL: daemon"; cat "$TEST_TMP/d.out"; exit 1; }
through() { lib_through "$(lib_port d "$1")" --tls; }  # SECTION
through allowed-svc || bad "a section TCP Wrappers allow was refused"
through denied-svc && bad "a section TCP Wrappers deny got through"
sleep 0.3
grep -q 'LOG4\[[0-9]*\]: Service \[denied-svc\] REFUSED by libwrap from 127.0.0.1:[0-9]*' "$TEST_TMP/d.out" ||
    bad "no 'REFUSED by libwrap' line"
grep -q 'LOG7\[[0-9]*\]: Service \[allowed-svc\] permitted by libwrap from 127.0.0.1:' "$TEST_TMP/d.out" ||
    bad "no 'permitted by libwrap' line"
grep -q 'libwrap\.so' "/proc/$wrapped/maps" ||
    bad "libwrap = yes, yet libwrap is not mapped"

sed '/^libwrap = yes$/d' "$TEST_TMP/s.conf" >"$TEST_TMP/plain.conf"
lib_daemon plain "$TEST_TMP/plain.conf" || exit 1
grep -E 'libwrap|libnsl|libkrb5' "/proc/$LIB_PID/maps" &&
    bad "without libwrap = yes, TCP Wrappers or its dependencies are mapped"
exit $fail
