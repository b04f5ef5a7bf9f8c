#!/bin/bash
# Inetd mode (a configuration without any [section]): the daemon serves
# the one connection it finds on its standard input and output.
#  (a) under a real xinetd started here in the foreground (skipped when
#      xinetd is not installed or we are not root): a TLS client gets its
#      bytes echoed back through "connect = 127.0.0.1:ECHO";
#  (b) started by a script that accepts a TCP connection and hands the
#      socket over as stdin and stdout (stderr to a file): the echo comes
#      back, the log has "Service [stunnel] accepted connection from
#      127.0.0.1:PORT" (the client's own port), the closing line with the
#      byte counts, nothing on stderr, and the process ends with status 0;
#  (c) the same with "exec = /bin/cat" instead of "connect";
#  (d) "service = NAME" names the service: "Initializing context [NAME]",
#      "Service [NAME] started", the accept line, and the sessions'
#      context (a ticket resumes only in a run of the same name).
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
CA="$TEST_TMP/certs/ca.pem"
MSG="hello through inetd mode $$"

# tls_client PORT: a TLS client that sends the message, reads as many
# bytes back and sends close_notify; prints "local PORT" (its own port,
# as the daemon should log it), then what came back
tls_client() {
    timeout 20 $PEERS read "$1" --tls --ca "$CA" --send "$MSG" --expect-bytes ${#MSG} \
        --show-port --timeout 10 2>&1
}

lib_peer echo echo || exit 1
ECHO_PORT=$PEER_PORT

# inetd_conf FILE LOG ENDPOINT-LINE: an inetd-mode configuration
inetd_conf() {
    cat >"$1" <<EOF
syslog = no
debug = info
output = $2
cert = $TEST_TMP/certs/server.pem
$3
EOF
}

# check_log LOG LOCALPORT BYTES WHAT: the accept and closing lines
check_log() {
    local log=$1 lport=$2 n=$3 what=$4
    grep -Eq "LOG5\[0\]: Service \[stunnel\] accepted connection from 127\.0\.0\.1:$lport\$" "$log" ||
        { bad "$what: no 'Service [stunnel] accepted connection from 127.0.0.1:$lport'"; sed 's/^/    /' "$log"; }
    grep -Eq "LOG5\[0\]: Connection closed: $n byte\(s\) sent to TLS, $n byte\(s\) sent to socket\$" "$log" ||
        { bad "$what: no 'Connection closed: $n byte(s) sent to TLS, $n byte(s) sent to socket'"; grep 'Connection' "$log"; }
}

# ---- (a) a real xinetd ----------------------------------------------------
if ! command -v xinetd >/dev/null 2>&1; then
    echo "note: (a) skipped: xinetd not installed"
elif [ "$(id -u)" != 0 ]; then
    echo "note: (a) skipped: xinetd with 'user = root' needs root"
else
    XPORT=$(lib_free_port)
    inetd_conf "$TEST_TMP/xinetd-stunnel.conf" "$TEST_TMP/xinetd-stunnel.log" "connect = 127.0.0.1:$ECHO_PORT"
    cat >"$TEST_TMP/xinetd.conf" <<EOF
defaults
{
}
service stunnel-inetd-test
{
    type        = UNLISTED
    id          = stunnel-inetd-test-$$
    protocol    = tcp
    port        = $XPORT
    bind        = 127.0.0.1
    socket_type = stream
    wait        = no
    user        = root
    server      = $STUNNEL
    server_args = $TEST_TMP/xinetd-stunnel.conf
}
EOF
    lib_bg xinetd xinetd -dontfork -f "$TEST_TMP/xinetd.conf" -pidfile "$TEST_TMP/xinetd.pid" \
        -filelog "$TEST_TMP/xinetd.log"
    if ! lib_wait_for "$TEST_TMP/xinetd.log" 'Started working|[Ee]xiting|bind' 10 ||
       ! grep -q 'Started working: 1 available service' "$TEST_TMP/xinetd.log"; then
        bad "(a) xinetd did not start"; sed 's/^/    /' "$TEST_TMP/xinetd.log" "$TEST_TMP/xinetd.out"
    else
        out=$(tls_client "$XPORT")
        lport=$(sed -n 's/^local //p' <<<"$out")
        [ "$(sed 1d <<<"$out")" = "$MSG" ] ||
            { bad "(a) xinetd: no echo through stunnel: $out"; sed 's/^/    /' "$TEST_TMP/xinetd-stunnel.log" 2>/dev/null; }
        lib_wait_for "$TEST_TMP/xinetd-stunnel.log" 'Connection (closed|reset)' 5
        check_log "$TEST_TMP/xinetd-stunnel.log" "$lport" ${#MSG} "(a) xinetd"
    fi
fi

# ---- (b) and (c): a script hands the accepted socket over -----------------
# handover NAME ENDPOINT-LINE: run the hand-over with a fresh config and a
# TLS client; sets OUT (client output) and LPORT (client port)
handover() {
    local name=$1
    inetd_conf "$TEST_TMP/$name.conf" "$TEST_TMP/$name.log" "$2"
    handover_start "$name" || return 1
    OUT=$(tls_client "$(cat "$TEST_TMP/$name.port")")
    LPORT=$(sed -n 's/^local //p' <<<"$OUT")
    handover_end "$name"
}
# handover_start NAME: the hand-over (peers.py inetd: it accepts one
# connection and runs the daemon on NAME.conf with the socket as its
# standard input and output, its stderr in NAME.err; it prints "peer
# ADDR:PORT" and "exit STATUS"), waiting for a client on the port in
# NAME.port; handover_end NAME: wait for its end
handover_start() {
    lib_peer "$1" inetd "$STUNNEL" "$TEST_TMP/$1.conf" --err "$TEST_TMP/$1.err" ||
        { bad "$1: hand-over script did not start"; return 1; }
}
handover_end() {
    lib_wait_for "$TEST_TMP/$1.out" '^exit ' 15 || bad "$1: the daemon did not end after the connection"
    return 0
}

for name in connect exec; do
    case $name in
        connect) what="(b) connect"; endpoint="connect = 127.0.0.1:$ECHO_PORT" ;;
        exec)    what="(c) exec";    endpoint="exec = /bin/cat" ;;
    esac
    handover "$name" "$endpoint" || continue
    log="$TEST_TMP/$name.log"
    [ "$(sed 1d <<<"$OUT")" = "$MSG" ] ||
        { bad "$what: no echo: $OUT"; sed 's/^/    /' "$log" "$TEST_TMP/$name.err" 2>/dev/null; }
    grep -qx "peer 127.0.0.1:$LPORT" "$TEST_TMP/$name.out" ||
        bad "$what: the hand-over script saw another client ($(head -1 "$TEST_TMP/$name.out"), client port $LPORT)"
    grep -qx 'exit 0' "$TEST_TMP/$name.out" || bad "$what: daemon status: $(grep '^exit' "$TEST_TMP/$name.out")"
    check_log "$log" "$LPORT" ${#MSG} "$what"
    [ -s "$TEST_TMP/$name.err" ] && bad "$what: wrote to stderr: $(head -3 "$TEST_TMP/$name.err")"
    grep -q 'Configuration successful' "$log" || bad "$what: no 'Configuration successful' in the log file"
done
grep -Eq 'LOG6\[0\]: Child process [0-9]+ finished with code 0$' "$TEST_TMP/exec.log" ||
    { bad "(c) exec: no 'Child process N finished with code 0'"; grep -i 'child\|process' "$TEST_TMP/exec.log"; }

# ---- (d) service = NAME names the inetd service ---------------------------
# Its context, its connection lines and its sessions' context: with shared
# ticket keys a ticket from one run resumes in a second run of the same
# name, not in a run of another name (the default, "stunnel").
keys="ticketKeySecret = $(openssl rand -hex 32 | sed 's/../&:/g; s/:$//')
ticketMacSecret = $(openssl rand -hex 16)"
# s_client_run NAME OPTIONS...: one s_client through the hand-over NAME;
# prints Reused or New
s_client_run() {
    local name=$1; shift
    handover_start "$name" || return
    (echo one; sleep 0.5) | timeout 10 openssl s_client -connect "127.0.0.1:$(cat "$TEST_TMP/$name.port")" \
        -tls1_3 "$@" 2>/dev/null | sed -n 's/^\(Reused\|New\), .*/\1/p'
    handover_end "$name"
}
for name in named1 named2 unnamed; do
    svcline="service = inetd-svc"
    [ $name = unnamed ] && svcline=
    inetd_conf "$TEST_TMP/$name.conf" "$TEST_TMP/$name.log" "connect = 127.0.0.1:$ECHO_PORT
$keys
$svcline"
    sed -i 's/^debug = info$/debug = debug/' "$TEST_TMP/$name.conf"
done
rm -f "$TEST_TMP/sess"
s_client_run named1 -sess_out "$TEST_TMP/sess" >/dev/null
log=$TEST_TMP/named1.log
for line in 'LOG7\[ui\]: Initializing context \[inetd-svc\]' 'LOG7\[0\]: Service \[inetd-svc\] started' \
    'LOG5\[0\]: Service \[inetd-svc\] accepted connection from 127\.0\.0\.1:[0-9]+' \
    'LOG7\[0\]: Service \[inetd-svc\] finished'; do
    grep -Eq "$line\$" "$log" || bad "(d) service = inetd-svc: no line '$line'"
done
grep -q 'Service \[stunnel\]\|Initializing context \[stunnel\]' "$log" &&
    bad "(d) service = inetd-svc: still named [stunnel]: $(grep -m1 '\[stunnel\]' "$log")"
[ "$(s_client_run named2 -sess_in "$TEST_TMP/sess")" = Reused ] ||
    bad "(d) a ticket of [inetd-svc] did not resume in another run of [inetd-svc]"
[ "$(s_client_run unnamed -sess_in "$TEST_TMP/sess")" = New ] ||
    bad "(d) a ticket of [inetd-svc] resumed in a run of [stunnel]"
exit $fail
