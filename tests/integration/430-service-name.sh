#!/bin/bash
# "service = NAME" inside a [section] renames that section, as in stunnel
# 5.75: after "Initializing service [SECTION]" everything says NAME (its
# context, the bind, accept and connection lines, TCP Wrappers, the
# section checks' errors), and an SNI secondary names it as its primary.
# A global "service" (the syslog ident, the inetd service's name) is not
# inherited by the sections: they keep their own names for TCP Wrappers.
# DAEMON=.../stunnel-fork runs the same checks on the reference.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
daemon=${DAEMON:-$STUNNEL}
lib_peer echo echo || exit 1

# TCP Wrappers where a private mount namespace can lay test files over
# /etc/hosts.allow and /etc/hosts.deny (as in 320-libwrap.sh)
wrap=0
if "$daemon" -version 2>&1 | grep -q 'Auth:LIBWRAP' && unshare --mount true 2>/dev/null &&
    [ -e /etc/hosts.allow ] && [ -e /etc/hosts.deny ]; then
    wrap=1
else
    echo "note: TCP Wrappers part skipped (no libwrap or no mount namespace)"
fi
: >"$TEST_TMP/hosts.allow"
printf 'bar: ALL\nglob: ALL\n' >"$TEST_TMP/hosts.deny"
libwrap_line=
[ $wrap = 1 ] && libwrap_line="libwrap = yes"

cat >"$TEST_TMP/s.conf" <<EOF
foreground = yes
syslog = no
debug = debug
service = glob
cert = $TEST_TMP/certs/server.pem
$libwrap_line
[sec]
service = bar
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
[secondary]
sni = bar:www.example.com
connect = 127.0.0.1:$PEER_PORT
[plain]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
EOF
cat >"$TEST_TMP/run.sh" <<EOF
if [ $wrap = 1 ]; then
    mount --bind "$TEST_TMP/hosts.allow" /etc/hosts.allow &&
    mount --bind "$TEST_TMP/hosts.deny" /etc/hosts.deny || exit 1
fi
exec "$daemon" "$TEST_TMP/s.conf"
EOF
lib_bg d unshare --mount sh "$TEST_TMP/run.sh"
log=$TEST_TMP/d.out
if ! lib_wait_for "$log" 'Accepting new connections|Configuration failed' ||
   ! grep -q 'Accepting new connections' "$log"; then
    echo "FAIL: the daemon did not start"; sed 's/^/    /' "$log"; exit 1
fi

# the bound port of a section, by the name the log gives it
bar=$(lib_port d bar)
plain=$(lib_port d plain)
[ -n "$bar" ] || bad "no 'Service [bar] (FD=N) bound to ...' line"
[ -n "$plain" ] || bad "no 'Service [plain] (FD=N) bound to ...' line"
grep -q 'LOG6\[ui\]: Initializing service \[sec\]$' "$log" ||
    bad "no 'Initializing service [sec]' (the header's name)"
grep -q 'LOG7\[ui\]: Initializing context \[bar\]$' "$log" || bad "no 'Initializing context [bar]'"
grep -q 'Service \[sec\]\|context \[sec\]' "$log" &&
    bad "the section still named [sec]: $(grep -m1 'Service \[sec\]\|context \[sec\]' "$log")"

through() { lib_through "$1" --tls; }  # PORT
if [ $wrap = 1 ]; then
    # hosts.deny names "bar" and "glob": [sec] is refused as [bar], and
    # [plain] passes under its own name, not the global "glob"
    through "$bar" && bad "TCP Wrappers did not refuse [sec] under its service name bar"
    through "$plain" || bad "[plain] refused: TCP Wrappers checked it under the global service name"
    lib_wait_for "$log" 'Service \[plain\] accepted connection from' 5
    grep -Eq 'LOG4\[[0-9]+\]: Service \[bar\] REFUSED by libwrap from 127\.0\.0\.1:[0-9]+$' "$log" ||
        bad "no 'Service [bar] REFUSED by libwrap from ...'"
    grep -Eq 'LOG7\[[0-9]+\]: Service \[plain\] permitted by libwrap from 127\.0\.0\.1:[0-9]+$' "$log" ||
        bad "no 'Service [plain] permitted by libwrap from ...'"
else
    through "$bar" || bad "no data through [sec] (service = bar)"
    lib_wait_for "$log" 'Service \[bar\] accepted connection from' 5
    grep -Eq 'LOG5\[[0-9]+\]: Service \[bar\] accepted connection from 127\.0\.0\.1:[0-9]+$' "$log" ||
        bad "no 'Service [bar] accepted connection from ...'"
fi

# the section checks name it too
cat >"$TEST_TMP/bad.conf" <<EOF
foreground = yes
[sec]
service = worse
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
EOF
out=$(cd "$TEST_TMP" && timeout 10 "$daemon" "$TEST_TMP/bad.conf" 2>&1)
grep -q '^\[!\] Service \[worse\]: TLS server needs a certificate$' <<<"$out" ||
    { bad "no '[!] Service [worse]: TLS server needs a certificate'"; sed 's/^/    /' <<<"$out"; }

if [ $fail != 0 ]; then
    echo "--- log:"; grep -v 'LOG7\[ui\]: \(Ciphers\|TLS\|ECDH\)' "$log" | tail -n 60
fi
exit $fail
