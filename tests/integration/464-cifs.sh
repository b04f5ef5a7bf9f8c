#!/bin/bash
# protocol = cifs (Samba's pre-3.0 TLS before SMB) on both sides, as
# stunnel 5.75 speaks it, before TLS. Client mode sends a NetBIOS session
# request without body (81 00 00 00) and requires the negative response
# 83 xx 00 01 8e ("TLS required"), else "Negative response expected",
# "Unexpected NetBIOS response size" or "Remote server does not require
# TLS". Server mode reads the request (at most 124 bytes of body, else
# "Received block too long") and answers 83 00 00 01 8e, or 83 00 00 01 81
# and "Client did not send session setup" to anything but a session
# request. Every refusal resets. Scripted peers on both sides, peers that
# send garbage, close early, stall (TIMEOUTbusy = 2) or go a byte at a
# time; ours against ours, and against stunnel 5.75 both ways when it is
# at hand.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
REF575=${STUNNEL_575_DIR:-$TOP_SRCDIR/../shared/reference/stunnel-5.75}/stunnel-fork
cert=$TEST_TMP/certs/server.pem
tls_required='S:\x83\x00\x00\x01\x8e'

lib_peer echo echo || exit 1
echo_port=$PEER_PORT

# client mode: one section per scripted server
declare -A server
peer() {  # NAME STEP...
    local name=$1
    shift
    lib_peer "$name" chat "$@" || exit 1
    server[$name]=$PEER_PORT
}
peer ok N:4 "$tls_required" "TLS:$cert" ECHO
peer slow N:4 'D:\x83\x00\x00\x01\x8e' "TLS:$cert" ECHO
peer flags N:4 'S:\x83\x01\x00\x01\x8e' "TLS:$cert" ECHO
peer positive N:4 'S:\x82\x00\x00\x01\x8e' EOF
peer size N:4 'S:\x83\x00\x00\x02\x8e' EOF
peer notls N:4 'S:\x83\x00\x00\x01\x8f' EOF
peer garbage N:4 'S:SMB?\r\n' EOF
peer early N:4 'S:\x83\x00'
peer stall N:4 W:4
{
    printf 'foreground = yes\nsyslog = no\ndebug = debug\nTIMEOUTbusy = 2\n'
    for name in "${!server[@]}"; do
        printf '[%s]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\nprotocol = cifs\n' \
            "$name" "${server[$name]}"
    done
} >"$TEST_TMP/c.conf"
lib_daemon c "$TEST_TMP/c.conf" || exit 1
clog=$TEST_TMP/c.out
for name in ok slow flags; do
    lib_through "$(lib_port c $name)" || bad "client $name: $THROUGH_COUNT byte(s) through"
    grep -q "^read b'\\\\x81\\\\x00\\\\x00\\\\x00'\$" "$TEST_TMP/$name.out" ||
        bad "client $name: the server read $(head -n 1 "$TEST_TMP/$name.out")"
done
client_refused() {  # NAME LOGLINE
    $PEERS chat-client "$(lib_port c "$1")" EOF >/dev/null
    lib_wait_for "$clog" "Service \\[$1\\] finished" 10
    lib_conn_log "$clog" "$1" | grep -q "LOG[0-9]\\[[0-9]*\\]: $2\$" || bad "client $1: no '$2'"
    lib_conn_log "$clog" "$1" | grep -q 'Connection reset: 0 byte(s) sent to TLS, 0 byte(s) sent to socket$' ||
        bad "client $1: not reset"
}
client_refused positive 'Negative response expected'
client_refused size 'Unexpected NetBIOS response size'
client_refused notls 'Remote server does not require TLS'
client_refused garbage 'Negative response expected'
client_refused early 's_read: Received 2 out of requested 5 byte(s)'
client_refused stall 's_read_eof: s_poll_wait: TIMEOUTbusy exceeded: sending reset'

# server mode, in front of the echo server
cat >"$TEST_TMP/s.conf" <<EOF
foreground = yes
syslog = no
debug = debug
[cifs]
accept = 127.0.0.1:0
connect = 127.0.0.1:$echo_port
cert = $cert
protocol = cifs
TIMEOUTbusy = 2
EOF
lib_daemon s "$TEST_TMP/s.conf" || exit 1
sport=$(lib_port s cifs)
slog=$TEST_TMP/s.out
n=0
closing() {  # the closing line of server connection number N
    lib_wait_for "$slog" "LOG5\[$1\]: Connection (closed|reset)" 10
    sed -n "s/^.*LOG5\[$1\]: \(Connection .*\)$/\1/p" "$slog"
}
body124=$(head -c 124 /dev/zero | tr '\0' x)
for steps in "S:\\x81\\x00\\x00\\x04abcd" "D:\\x81\\x00\\x00\\x02ab" "S:\\x81\\x00\\x00\\x7c$body124"; do
    got=$($PEERS chat-client "$sport" "$steps" N:5 TLS 'S:hello\n' R:)
    [ "$(echo "$got" | head -n 1)" = "read b'\\x83\\x00\\x00\\x01\\x8e'" ] &&
        echo "$got" | grep -qx "read b'hello\\\\n'" || bad "server ${steps:0:20}...: $got"
    [ "$(closing $n)" = "Connection closed: 6 byte(s) sent to TLS, 6 byte(s) sent to socket" ] ||
        bad "server ${steps:0:20}...: $(closing $n)"
    n=$((n + 1))
done
server_refused() {  # STEPS ANSWER LOGLINE
    local got
    got=$($PEERS chat-client "$sport" $1 EOF | tail -n 1)
    case $got in
        "got $2 then "*) ;;
        *) bad "server '$1' answered $got" ;;
    esac
    [ "$(closing $n)" = "Connection reset: 0 byte(s) sent to TLS, 0 byte(s) sent to socket" ] ||
        bad "server '$1': $(closing $n)"
    lib_conn_log "$slog" cifs | grep -q "LOG[0-9]\\[[0-9]*\\]: $3\$" || bad "server '$1': no '$3'"
    n=$((n + 1))
}
server_refused 'S:\x85\x00\x00\x00' "b'\\x83\\x00\\x00\\x01\\x81'" 'Client did not send session setup'
server_refused 'S:\x00\x00\x00\x03abc' "b'\\x83\\x00\\x00\\x01\\x81'" 'Client did not send session setup'
server_refused 'S:\x81\x00\x00\x7d' "b''" 'Received block too long'
# a TLS client that does not speak cifs: its record header is too long
server_refused 'S:\x16\x03\x01\x02\x00\x01' "b''" 'Received block too long'
server_refused 'S:\x81\x00\x00\x10abc SHUT' "b''" 's_read: Received 3 out of requested 16 byte(s)'
server_refused 'S:\x81\x00' "b''" 's_read_eof: s_poll_wait: TIMEOUTbusy exceeded: sending reset'

# ours (client) against ours (server)
cat >"$TEST_TMP/o.conf" <<EOF
foreground = yes
syslog = no
debug = info
[oc]
client = yes
accept = 127.0.0.1:0
connect = 127.0.0.1:$sport
protocol = cifs
EOF
lib_daemon o "$TEST_TMP/o.conf" || exit 1
lib_through "$(lib_port o oc)" || bad "ours to ours: $THROUGH_COUNT byte(s) through"

# ours against stunnel 5.75, both ways
if [ -x "$REF575" ]; then
    cat >"$TEST_TMP/r.conf" <<EOF
foreground = yes
syslog = no
debug = info
pid =
[rs]
accept = 127.0.0.1:0
connect = 127.0.0.1:$echo_port
cert = $cert
protocol = cifs
[rc]
client = yes
accept = 127.0.0.1:0
connect = 127.0.0.1:$sport
protocol = cifs
EOF
    DAEMON=$REF575 lib_daemon r "$TEST_TMP/r.conf" || exit 1
    lib_through "$(lib_port r rc)" || bad "5.75 (client) to ours (server): $THROUGH_COUNT byte(s)"
    cat >"$TEST_TMP/o2.conf" <<EOF
foreground = yes
syslog = no
debug = info
[o2]
client = yes
accept = 127.0.0.1:0
connect = 127.0.0.1:$(lib_port r rs)
protocol = cifs
EOF
    lib_daemon o2 "$TEST_TMP/o2.conf" || exit 1
    lib_through "$(lib_port o2 o2)" || bad "ours (client) to 5.75 (server): $THROUGH_COUNT byte(s)"
else
    echo "stunnel 5.75 not at hand: the comparison skipped"
fi
exit $fail
