#!/bin/bash
# ident = USER (RFC 1413): with a fake ident server on port 113 of a
# private network namespace, the user it names is let in and another is
# refused with stunnel's line; a client whose host runs no ident server
# is refused too.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
if [ -z "${IN_NETNS:-}" ]; then
    unshare --net true 2>/dev/null || { echo "SKIP: cannot make a network namespace"; exit $SKIP; }
    IN_NETNS=1 exec unshare --net bash -c 'ip link set lo up 2>/dev/null || ifconfig lo up; exec "$0" "$@"' "$(readlink -f "$0")" "$@"
fi
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }

lib_peer echo echo || exit 1
cat >"$TEST_TMP/s.conf" <<EOF
foreground = yes
syslog = no
debug = info
[alice]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
cert = $TEST_TMP/certs/server.pem
ident = alice
[bob]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
cert = $TEST_TMP/certs/server.pem
ident = bob
EOF
lib_daemon d "$TEST_TMP/s.conf" || exit 1
through() { lib_through "$(lib_port d "$1")" --tls; }  # SECTION
through alice && bad "let in without an ident server"
lib_peer identd identd alice --port 113 || exit 1
through alice || bad "the configured user was refused"
through bob && bad "another user was let in"
sleep 0.3
grep -q 'LOG6\[[0-9]*\]: IDENT authentication passed' "$TEST_TMP/d.out" || bad "no 'IDENT authentication passed'"
grep -q 'LOG4\[[0-9]*\]: Connection from 127.0.0.1:[0-9]* REFUSED by IDENT (user "alice")' "$TEST_TMP/d.out" ||
    bad "no 'REFUSED by IDENT' line"
exit $fail
