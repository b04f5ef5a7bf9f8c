#!/bin/bash
# A tunnel of two daemons: plain client -> client-mode instance -> TLS ->
# server-mode instance -> plain echo server. Ours at both ends, then the
# reference stunnel4 as the client end with ours as the server end, and
# ours as the client end with stunnel4 as the server end (skipped without
# /usr/bin/stunnel4). Each tunnel carries 64 MiB each way with equal
# checksums, then half-closes: the plain client sends N bytes (and once
# none) and shuts down its write side, the echo server answers and closes,
# and every byte must come back (plain EOF -> close_notify -> write
# shutdown of the plain socket at the far end, and back). Checks the
# closing lines' byte counts and the close_notify lines on both ends.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
certs=$TEST_TMP/certs
size=$((64 << 20))
half=$((3 << 20 | 7))
OURS=${DAEMON:-$STUNNEL}

have_ref=0
if [ -x "$REFERENCE" ]; then have_ref=1; else echo "NOTE: $REFERENCE missing: mixed tunnels skipped"; fi

lib_peer echo echo || exit 1

# server_conf NAME: a server-mode instance in front of the echo server
server_conf() {
    cat >"$TEST_TMP/$1.conf" <<EOF
foreground = yes
syslog = no
debug = debug
[srv]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
cert = $certs/server.pem
EOF
}

# client_conf NAME SERVICE=PORT...: a client-mode instance, one verified
# section per server-mode instance
client_conf() {
    local name=$1 arg; shift
    printf 'foreground = yes\nsyslog = no\ndebug = debug\nclient = yes\n' >"$TEST_TMP/$name.conf"
    for arg; do
        cat >>"$TEST_TMP/$name.conf" <<EOF
[${arg%=*}]
accept = 127.0.0.1:0
connect = 127.0.0.1:${arg#*=}
verifyChain = yes
CAfile = $certs/ca.pem
checkHost = localhost
EOF
    done
}

server_conf srv
DAEMON=$OURS lib_daemon srv "$TEST_TMP/srv.conf" || exit 1
srv_port=$(lib_port srv srv)
targets=("to-ours=$srv_port")
if [ $have_ref = 1 ]; then
    server_conf refsrv
    DAEMON=$REFERENCE lib_daemon refsrv "$TEST_TMP/refsrv.conf" || exit 1
    refsrv_port=$(lib_port refsrv srv)
    targets+=("to-ref=$refsrv_port")
    client_conf refcli "to-ours=$srv_port"
    DAEMON=$REFERENCE lib_daemon refcli "$TEST_TMP/refcli.conf" || exit 1
fi
client_conf cli "${targets[@]}"
DAEMON=$OURS lib_daemon cli "$TEST_TMP/cli.conf" || exit 1

# last_conn INSTANCE SERVICE: the log lines of the last connection
# SERVICE accepted in INSTANCE's log
last_conn() {
    local id
    id=$(sed -n "s/.*LOG5\[\([^]]*\)\]: Service \[$2\] accepted connection from .*/\1/p" \
        "$TEST_TMP/$1.out" | tail -n 1)
    [ -n "$id" ] && grep -F "[$id]: " "$TEST_TMP/$1.out"
}

# wait_closed INSTANCE SERVICE: wait for the closing line of its last connection
wait_closed() {
    local i
    for ((i = 0; i < 200; i++)); do
        last_conn "$1" "$2" | grep -Eq 'Connection (closed|reset)' && return 0
        sleep 0.05
    done
    return 1
}

# expect INSTANCE SERVICE REGEX WHAT [CASE]: its last connection logged REGEX
expect() {
    last_conn "$1" "$2" | grep -Eq -- "$3" || bad "$5: $1 [$2]: no line '$4'"
}

closing() {  # BYTES: the closing line of a clean connection that moved BYTES each way
    echo "LOG5\[[^]]*\]: Connection closed: $1 byte\(s\) sent to TLS, $1 byte\(s\) sent to socket\$"
}

# tunnel CASE CLIENT-INSTANCE SERVICE SERVER-INSTANCE
tunnel() {
    local case=$1 ci=$2 svc=$3 si=$4 port sent received count n
    port=$(lib_port "$ci" "$svc")
    [ -n "$port" ] || { bad "$case: no bound port for [$svc] in the $ci log"; return; }

    # 64 MiB each way at once; the client closes when all came back
    read -r _ sent _ received count < <($PEERS client "$port" $size --timeout 60 --expect-bytes $size)
    [ "$count" = $size ] || bad "$case: 64 MiB: received ${count:-no} bytes"
    [ -n "$sent" ] && [ "$sent" = "$received" ] || bad "$case: 64 MiB: checksums differ"
    wait_closed "$ci" "$svc" || bad "$case: $ci: no closing line"
    wait_closed "$si" srv || bad "$case: $si: no closing line"
    expect "$ci" "$svc" 'LOG6\[[^]]*\]: TLS connected: new session negotiated$' \
        "TLS connected: new session negotiated" "$case"
    expect "$ci" "$svc" "$(closing $size)" "Connection closed: $size/$size" "$case: 64 MiB"
    expect "$si" srv 'LOG6\[[^]]*\]: TLS accepted: new session negotiated$' \
        "TLS accepted: new session negotiated" "$case"
    expect "$si" srv "$(closing $size)" "Connection closed: $size/$size" "$case: 64 MiB"

    # half-close: N bytes, then the client shuts down writing and reads
    # until EOF; every byte must come back
    for n in $half 0; do
        read -r _ sent _ received count < <($PEERS client "$port" $n --half-close --timeout 30)
        [ "$count" = $n ] || bad "$case: half-close $n: received ${count:-no} bytes"
        [ -n "$sent" ] && [ "$sent" = "$received" ] || bad "$case: half-close $n: checksums differ"
        wait_closed "$ci" "$svc" || bad "$case: half-close $n: $ci: no closing line"
        wait_closed "$si" srv || bad "$case: half-close $n: $si: no closing line"
        # near end: plain EOF -> close_notify; far end's close_notify -> plain write shutdown
        expect "$ci" "$svc" 'LOG6\[[^]]*\]: Read socket closed \((readsocket|read hangup|HUP)\)$' \
            "Read socket closed" "$case: half-close $n"
        expect "$ci" "$svc" 'LOG6\[[^]]*\]: SSL_shutdown successfully sent close_notify alert$' \
            "LOG6 SSL_shutdown successfully sent close_notify alert" "$case: half-close $n"
        expect "$ci" "$svc" 'LOG6\[[^]]*\]: TLS closed \(SSL_read\)$' "TLS closed (SSL_read)" "$case: half-close $n"
        expect "$ci" "$svc" "$(closing $n)" "Connection closed: $n/$n" "$case: half-close $n"
        # far end: close_notify -> plain write shutdown; echo's EOF -> close_notify
        expect "$si" srv 'LOG6\[[^]]*\]: TLS closed \(SSL_read\)$' "TLS closed (SSL_read)" "$case: half-close $n"
        expect "$si" srv 'LOG7\[[^]]*\]: Sent socket write shutdown$' "Sent socket write shutdown" "$case: half-close $n"
        expect "$si" srv 'LOG6\[[^]]*\]: SSL_shutdown successfully sent close_notify alert$' \
            "LOG6 SSL_shutdown successfully sent close_notify alert" "$case: half-close $n"
        expect "$si" srv "$(closing $n)" "Connection closed: $n/$n" "$case: half-close $n"
    done
}

tunnel "ours->ours" cli to-ours srv
if [ $have_ref = 1 ]; then
    tunnel "stunnel4->ours" refcli to-ours srv
    tunnel "ours->stunnel4" cli to-ref refsrv
fi

if [ $fail != 0 ]; then
    for i in cli srv refcli refsrv; do
        [ -f "$TEST_TMP/$i.out" ] || continue
        echo "--- $i log (last connections, no debug lines):"
        grep -v 'LOG7' "$TEST_TMP/$i.out" | grep -v '\[ui\]' | tail -n 40
    done
fi
exit $fail
