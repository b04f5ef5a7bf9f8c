#!/bin/bash
# Session resumption across connection processes: every connection is a
# new child, yet a session learned by one resumes in the next, for TLS 1.3
# tickets, TLS 1.2 tickets and TLS 1.2 session ids (the shared cache), and
# a client section offers the last session of the service on its next
# connection. sessionResume = no turns it all off.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }

lib_peer echo echo || exit 1
cat >"$TEST_TMP/s.conf" <<EOF
foreground = yes
syslog = no
debug = info
[server]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
cert = $TEST_TMP/certs/server.pem
[noresume]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
cert = $TEST_TMP/certs/server.pem
sessionResume = no
EOF
lib_daemon s "$TEST_TMP/s.conf" || exit 1
port=$(lib_port s server)
noresume=$(lib_port s noresume)

# two connections with s_client chained by -sess_out / -sess_in; prints
# "Reused" or "New" for the second one
second() {  # PORT OPTIONS...
    local p=$1; shift
    rm -f "$TEST_TMP/sess"
    (echo one; sleep 1) | timeout 5 openssl s_client -connect "127.0.0.1:$p" "$@" \
        -sess_out "$TEST_TMP/sess" >/dev/null 2>&1
    (echo two; sleep 0.3) | timeout 5 openssl s_client -connect "127.0.0.1:$p" "$@" \
        -sess_in "$TEST_TMP/sess" 2>/dev/null | sed -n 's/^\(Reused\|New\), .*/\1/p'
}
[ "$(second "$port" -tls1_3)" = Reused ] || bad "TLS 1.3 ticket not resumed across children"
[ "$(second "$port" -tls1_2)" = Reused ] || bad "TLS 1.2 ticket not resumed across children"
[ "$(second "$port" -tls1_2 -no_ticket)" = Reused ] ||
    bad "TLS 1.2 session id not resumed across children (shared cache)"
[ "$(second "$noresume" -tls1_2 -no_ticket)" != Reused ] || bad "sessionResume = no still resumes ids"
[ "$(second "$noresume" -tls1_3)" != Reused ] || bad "sessionResume = no still resumes tickets"
sleep 0.3
grep -q 'LOG6\[[0-9]*\]: TLS accepted: previous session reused' "$TEST_TMP/s.out" ||
    bad "no 'TLS accepted: previous session reused' line"
grep -Eq 'LOG6\[[0-9]+\]: Session id: [0-9A-F]{64}$' "$TEST_TMP/s.out" ||
    bad "no 'Session id: HEX' line for a new session"

# a client section, three connections: the second and third resume
cat >"$TEST_TMP/c.conf" <<EOF
foreground = yes
syslog = no
debug = info
[client]
client = yes
accept = 127.0.0.1:0
connect = 127.0.0.1:$port
EOF
lib_daemon c "$TEST_TMP/c.conf" || exit 1
cport=$(lib_port c client)
for i in 1 2 3; do
    read -r _ sent _ received count < <($PEERS client "$cport" 100 --expect-bytes 100 --timeout 10)
    [ "$count" = 100 ] || bad "client connection $i failed"
done
sleep 0.3
[ "$(grep -c 'TLS connected: previous session reused' "$TEST_TMP/c.out")" -ge 2 ] ||
    { bad "client section did not resume its last session"; grep 'TLS connected' "$TEST_TMP/c.out"; }
grep -q 'LOG6\[[0-9]*\]: Attempting to resume: [0-9A-F]*$' "$TEST_TMP/c.out" || bad "no 'Attempting to resume' line"
# two instances sharing ticketKeySecret/ticketMacSecret: a ticket from
# one resumes on the other (a restart or a cluster), both TLS versions
keysecret=$(openssl rand -hex 32 | sed 's/../&:/g; s/:$//')
macsecret=$(openssl rand -hex 16)
for inst in a b; do
    cat >"$TEST_TMP/$inst.conf" <<EOF
foreground = yes
syslog = no
debug = info
[tickets]
accept = 127.0.0.1:0
connect = 127.0.0.1:$(cat "$TEST_TMP/echo.port")
cert = $TEST_TMP/certs/server.pem
ticketKeySecret = $keysecret
ticketMacSecret = $macsecret
EOF
    lib_daemon "$inst" "$TEST_TMP/$inst.conf" || exit 1
done
# OPTIONS... -> Reused|New for a ticket got from instance a, used on port $2
across() {
    local to=$1; shift
    rm -f "$TEST_TMP/sess"
    (echo one; sleep 1) | timeout 5 openssl s_client -connect "127.0.0.1:$(lib_port a tickets)" "$@" \
        -sess_out "$TEST_TMP/sess" >/dev/null 2>&1
    (echo two; sleep 0.3) | timeout 5 openssl s_client -connect "127.0.0.1:$to" "$@" \
        -sess_in "$TEST_TMP/sess" 2>/dev/null | sed -n 's/^\(Reused\|New\), .*/\1/p'
}
[ "$(across "$(lib_port b tickets)" -tls1_3)" = Reused ] ||
    bad "TLS 1.3 ticket not resumed on a second instance with the same secrets"
[ "$(across "$(lib_port b tickets)" -tls1_2)" = Reused ] ||
    bad "TLS 1.2 ticket not resumed on a second instance with the same secrets"
[ "$(across "$port" -tls1_3)" != Reused ] || bad "a ticket resumed on an instance with other keys"
exit $fail
