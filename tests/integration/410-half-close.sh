#!/bin/bash
# A TLS peer that half-closes with a bare FIN (no close_notify) and goes on
# reading: as in stunnel 5.75, that is a half-close ("TLS socket closed
# (read hangup)"), passed on as a shutdown of the plain write side, while
# the other direction keeps flowing until its own EOF and our close_notify.
# Server mode (a TLS client sends, half-closes and reads the echo) and
# client mode (a TLS server sends, half-closes and reads what the plain
# client sends), TLS 1.2 and 1.3; then socat's "shut-down", which does the
# same. Every byte must arrive, no fatal alert may be sent (OpenSSL 3
# answers a FIN it reads itself with decode_error), and the closing line
# says "closed" with both counts. (stunnel 5.75 passes only when it sees
# the FIN behind data: when SSL_read meets it alone, 5.75 sends that
# decode_error and drops the rest, "Connection reset/closed".)
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
up=4000000	# what the side that half-closes later sends
down=200000	# what the TLS server sends before its FIN

lib_peer echo echo || exit 1
echo_port=$PEER_PORT
lib_peer eofs eof-server $down --tls "$TEST_TMP/certs/server.pem" || exit 1
eofs_port=$PEER_PORT
{
    echo "foreground = yes"
    echo "syslog = no"
    echo "debug = debug"
    for v in 1.2 1.3; do
        echo "[server-$v]"
        echo "accept = 127.0.0.1:0"
        echo "connect = 127.0.0.1:$echo_port"
        echo "cert = $TEST_TMP/certs/server.pem"
        echo "sslVersionMin = TLSv$v"
        echo "sslVersionMax = TLSv$v"
        echo "[client-$v]"
        echo "client = yes"
        echo "accept = 127.0.0.1:0"
        echo "connect = 127.0.0.1:$eofs_port"
        echo "sslVersionMin = TLSv$v"
        echo "sslVersionMax = TLSv$v"
    done
} >"$TEST_TMP/d.conf"
lib_daemon d "$TEST_TMP/d.conf" || exit 1
log=$TEST_TMP/d.out
conns=0
served=0

# check_connection CASE SENT_TO_TLS SENT_TO_SOCKET: the next connection's
# closing line, and that its TLS peer's FIN was taken as a half-close
check_connection() {
    local what=$1 id line
    conns=$((conns + 1))
    for ((i = 0; i < 200; i++)); do
        [ "$(grep -cE 'LOG5\[[0-9]+\]: Connection (closed|reset)' "$log")" -ge $conns ] && break
        sleep 0.05
    done
    line=$(grep -E 'LOG5\[[0-9]+\]: Connection (closed|reset)' "$log" | sed -n "${conns}p")
    id=$(echo "$line" | sed -n 's/.*LOG5\[\([0-9]*\)\]:.*/\1/p')
    case $line in
        *": Connection closed: $2 byte(s) sent to TLS, $3 byte(s) sent to socket") ;;
        *) bad "$what: closing line '${line#*: }', want 'Connection closed: $2 byte(s) sent to TLS, $3 byte(s) sent to socket'" ;;
    esac
    grep -qE "LOG6\[$id\]: TLS socket closed \((read hangup|SSL_read)\)$" "$log" ||
        bad "$what: no 'TLS socket closed (read hangup)' line"
    ! grep -E "LOG[0-9]\[$id\]: TLS alert \(write\): fatal" "$log" ||
        bad "$what: we sent a fatal alert"
}

for v in 1.2 1.3; do
    # server mode: the TLS client sends $up bytes, FIN, reads the echo
    read -r _ sent _ received count < <($PEERS eof-client "$(lib_port d server-$v)" $up --tls --timeout 60)
    [ "$count" = $up ] || bad "server mode TLS $v: $count of $up bytes echoed"
    [ "$sent" = "$received" ] || bad "server mode TLS $v: echo checksum differs"
    check_connection "server mode TLS $v" $up $up

    # client mode: the TLS server sends $down bytes and its FIN, then reads
    # the $up bytes the plain client sends (most of them after that FIN;
    # the plain client goes on sending after the EOF it reads)
    read -r _ sent _ received count < <($PEERS eof-client "$(lib_port d client-$v)" $up --timeout 60)
    served=$((served + 1))
    for ((i = 0; i < 600; i++)); do
        [ "$(grep -c '^sent ' "$TEST_TMP/eofs.out")" -ge $served ] && break
        sleep 0.05
    done
    read -r _ peer_sent _ peer_received peer_count < <(grep '^sent ' "$TEST_TMP/eofs.out" | sed -n "${served}p")
    [ "$count" = $down ] || bad "client mode TLS $v: plain client got $count of $down bytes"
    [ "$received" = "$peer_sent" ] || bad "client mode TLS $v: checksum differs toward the plain client"
    [ "$peer_count" = $up ] || bad "client mode TLS $v: TLS server got $peer_count of $up bytes"
    [ "$peer_received" = "$sent" ] || bad "client mode TLS $v: checksum differs toward the TLS server"
    check_connection "client mode TLS $v" $up $down
done
grep -q 'TLSv1.2 ciphersuite' "$log" || bad "no TLS 1.2 connection"
grep -q 'TLSv1.3 ciphersuite' "$log" || bad "no TLS 1.3 connection"

# socat's shut-down: its EOF on stdin becomes a FIN without close_notify
if command -v socat >/dev/null 2>&1; then
    head -c $up /dev/urandom >"$TEST_TMP/in.bin"
    timeout 60 socat -t 30 STDIO \
        "OPENSSL:127.0.0.1:$(lib_port d server-1.3),verify=0,shut-down" \
        <"$TEST_TMP/in.bin" >"$TEST_TMP/out.bin" 2>"$TEST_TMP/socat.err" ||
        bad "socat: $(cat "$TEST_TMP/socat.err")"
    cmp -s "$TEST_TMP/in.bin" "$TEST_TMP/out.bin" ||
        bad "socat shut-down: $(wc -c <"$TEST_TMP/out.bin") of $up bytes echoed, or they differ"
    check_connection "socat shut-down" $up $up
else
    echo "socat not installed: its round skipped"
fi
exit $fail
