#!/bin/bash
# Timeouts, each in its own server-mode section:
#  - TIMEOUTidle = 2: a TLS connection on which nobody sends anything is
#    ended after about 2 s ("transfer: s_poll_wait: TIMEOUTidle exceeded:
#    sending reset", "Connection reset: ..."), while one that sends a byte
#    every half second outlives it;
#  - TIMEOUTbusy = 2: a plain TCP connect to the TLS port that never sends
#    a ClientHello is dropped after about 2 s ("ssl_start: s_poll_wait:
#    TIMEOUTbusy exceeded: sending reset");
#  - TIMEOUTconnect = 1: the backend is a listener with a full backlog, so
#    its SYNs go unanswered; the connect gives up after about 1 s
#    ("s_connect: s_poll_wait 127.0.0.1:PORT: TIMEOUTconnect exceeded",
#    "No more addresses to connect") and the client is disconnected;
#  - TIMEOUTclose = 0: the backend answers and closes; a TLS client that
#    never answers the daemon's close_notify still sees the TCP close at
#    once ("transfer: s_poll_wait: TIMEOUTclose exceeded: closing",
#    "Connection closed: ..."); with TIMEOUTclose = 3 it takes ~3 s;
#  - a client that resets the TCP connection while the daemon waits for
#    its close_notify: "TLS fd: Connection reset by peer (104)" (the error
#    poll() reports, level 6), then "Connection closed: ..." as stunnel.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
CA="$TEST_TMP/certs/ca.pem"


lib_peer echo echo || exit 1
ECHO_PORT=$PEER_PORT
# the backends: "bye" answers "bye\n" and closes; "blackhole" has a
# full accept queue, so that its SYNs are dropped (connect() never
# completes)
lib_peer bye banner bye --close || exit 1
BYE_PORT=$PEER_PORT
HOLE_PORT=
if lib_peer blackhole blackhole 2>/dev/null; then
    HOLE_PORT=$PEER_PORT
    HOLE_SECTION="[connect]
accept = 127.0.0.1:0
connect = 127.0.0.1:$HOLE_PORT
TIMEOUTconnect = 1"
else
    echo "note: TIMEOUTconnect not checked: no unanswered address ($(cat "$TEST_TMP/blackhole.out"))"
    HOLE_SECTION=
fi

cat >"$TEST_TMP/s.conf" <<EOF
foreground = yes
syslog = no
debug = info
cert = $TEST_TMP/certs/server.pem
[idle]
accept = 127.0.0.1:0
connect = 127.0.0.1:$ECHO_PORT
TIMEOUTidle = 2
[busy]
accept = 127.0.0.1:0
connect = 127.0.0.1:$ECHO_PORT
TIMEOUTbusy = 2
$HOLE_SECTION
[close0]
accept = 127.0.0.1:0
connect = 127.0.0.1:$BYE_PORT
TIMEOUTclose = 0
[close3]
accept = 127.0.0.1:0
connect = 127.0.0.1:$BYE_PORT
TIMEOUTclose = 3
EOF
lib_daemon d "$TEST_TMP/s.conf" || exit 1
log="$TEST_TMP/d.out"

# client NAME MODE SECTION [ARGS]: start "peers.py stall MODE" in the
# background: it prints "local PORT" first (its own port, to find its
# connection in the log), then one result line.
#   idle        TLS, send nothing: "closed AFTER" | "open AFTER"
#   active S    TLS, one byte each 0.5 s for S seconds: "ok N" | "broken AFTER"
#   plain       TCP only, send nothing: "closed AFTER" | "open AFTER"
#   close       TLS, read to the daemon's close_notify, never answer it,
#               then time the TCP close: "data TEXT fin AFTER" | "... open AFTER"
#   rst         TLS, wait 0.5 s without reading, close with unread data
#               (the kernel sends a reset): "done"
client() {
    local name=$1 mode=$2 port
    port=$(lib_port d "$3")
    [ -n "$port" ] || { bad "no port for [$3]"; return 1; }
    lib_bg "$name" timeout 30 $PEERS stall "$mode" "$port" "${@:4}" --ca "$CA"
}

# result NAME: wait for the client and print its result line
result() {
    lib_wait_for "$TEST_TMP/$1.out" '^(closed|open|ok|broken|data|error|done)|Error' 25
    grep -Ev '^local ' "$TEST_TMP/$1.out" | head -n 1
}

# conn NAME: the log lines of the connection of client NAME
conn() {
    local lport id
    lport=$(sed -n 's/^local //p' "$TEST_TMP/$1.out")
    id=$(sed -n "s/.*LOG5\[\([0-9]*\)\]: Service \[[a-z0-9]*\] accepted connection from 127\.0\.0\.1:$lport\$/\1/p" "$log")
    [ -n "$id" ] && grep -E "LOG[0-9]\[$id\]: " "$log"
}

# in_range VALUE LOW HIGH
in_range() {
    awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v != "" && v >= lo && v <= hi) }'
}

# start the slow cases together
client idle idle idle
client active active idle 4.5
client busy plain busy
[ -n "$HOLE_PORT" ] && client connect idle connect
client close0 close close0
client close3 close close3
client rst rst close3

# ---- TIMEOUTidle ------------------------------------------------------------
r=$(result idle)
t=${r#closed }
{ [ "${r%% *}" = closed ] && in_range "$t" 1.5 6; } || bad "TIMEOUTidle = 2: idle client: '$r', expected closed after ~2 s"
r=$(result active)
case $r in
    "ok "*) [ "${r#ok }" -ge 5 ] || bad "TIMEOUTidle = 2: active client only made ${r#ok } round trips" ;;
    *) bad "TIMEOUTidle = 2: the active client was cut: '$r'" ;;
esac
c=$(conn idle)
grep -Eq 'LOG6\[[0-9]+\]: transfer: s_poll_wait: TIMEOUTidle exceeded: sending reset$' <<<"$c" ||
    { bad "TIMEOUTidle: no 'transfer: s_poll_wait: TIMEOUTidle exceeded: sending reset'"; sed 's/^/    /' <<<"$c"; }
grep -Eq 'LOG5\[[0-9]+\]: Connection reset: 0 byte\(s\) sent to TLS, 0 byte\(s\) sent to socket$' <<<"$c" ||
    { bad "TIMEOUTidle: no 'Connection reset: 0 byte(s) sent to TLS, 0 byte(s) sent to socket'"; sed 's/^/    /' <<<"$c"; }
lib_wait_for "$log" 'Connection closed: [0-9]+ byte\(s\) sent to TLS, [0-9]+ byte\(s\) sent to socket$' 5
c=$(conn active)
grep -q 'TIMEOUTidle' <<<"$c" && bad "TIMEOUTidle: the active connection timed out"
grep -Eq 'LOG5\[[0-9]+\]: Connection closed: ([0-9]+) byte\(s\) sent to TLS, \1 byte\(s\) sent to socket$' <<<"$c" ||
    { bad "TIMEOUTidle: the active connection did not end with 'Connection closed'"; sed 's/^/    /' <<<"$c"; }

# ---- TIMEOUTbusy ------------------------------------------------------------
r=$(result busy)
t=${r#closed }
{ [ "${r%% *}" = closed ] && in_range "$t" 1.5 6; } || bad "TIMEOUTbusy = 2: silent TCP client: '$r', expected closed after ~2 s"
c=$(conn busy)
grep -Eq 'LOG6\[[0-9]+\]: ssl_start: s_poll_wait: TIMEOUTbusy exceeded: sending reset$' <<<"$c" ||
    { bad "TIMEOUTbusy: no 'ssl_start: s_poll_wait: TIMEOUTbusy exceeded: sending reset'"; sed 's/^/    /' <<<"$c"; }
grep -Eq 'LOG5\[[0-9]+\]: Connection reset: 0 byte\(s\) sent to TLS, 0 byte\(s\) sent to socket$' <<<"$c" ||
    bad "TIMEOUTbusy: no 'Connection reset: 0 byte(s) sent to TLS, 0 byte(s) sent to socket'"

# ---- TIMEOUTconnect ---------------------------------------------------------
[ -n "$HOLE_PORT" ] && {
r=$(result connect)
t=${r#closed }
{ [ "${r%% *}" = closed ] && in_range "$t" 0.7 5; } || bad "TIMEOUTconnect = 1: client: '$r', expected closed after ~1 s"
c=$(conn connect)
grep -Eq "LOG3\[[0-9]+\]: s_connect: s_poll_wait 127\.0\.0\.1:$HOLE_PORT: TIMEOUTconnect exceeded\$" <<<"$c" ||
    { bad "TIMEOUTconnect: no 's_connect: s_poll_wait 127.0.0.1:$HOLE_PORT: TIMEOUTconnect exceeded'"; sed 's/^/    /' <<<"$c"; }
grep -Eq 'LOG3\[[0-9]+\]: No more addresses to connect$' <<<"$c" || bad "TIMEOUTconnect: no 'No more addresses to connect'"
grep -Eq 'LOG5\[[0-9]+\]: Connection reset: 0 byte\(s\) sent to TLS, 0 byte\(s\) sent to socket$' <<<"$c" ||
    bad "TIMEOUTconnect: no 'Connection reset: 0 byte(s) sent to TLS, 0 byte(s) sent to socket'"
}

# ---- TIMEOUTclose -----------------------------------------------------------
r=$(result close0)
set -- $r
{ [ "$1 $2 $3" = "data bye fin" ] && in_range "$4" 0 1.5; } ||
    bad "TIMEOUTclose = 0: '$r', expected 'bye' and the TCP close at once"
r=$(result close3)
set -- $r
{ [ "$1 $2 $3" = "data bye fin" ] && in_range "$4" 2.5 8; } ||
    bad "TIMEOUTclose = 3: '$r', expected 'bye' and the TCP close after ~3 s"
for name in close0 close3; do
    c=$(conn $name)
    grep -Eq 'LOG6\[[0-9]+\]: SSL_shutdown successfully sent close_notify alert$' <<<"$c" ||
        bad "$name: no 'LOG6 SSL_shutdown successfully sent close_notify alert'"
    grep -Eq 'LOG3\[[0-9]+\]: transfer: s_poll_wait: TIMEOUTclose exceeded: closing$' <<<"$c" ||
        { bad "$name: no 'transfer: s_poll_wait: TIMEOUTclose exceeded: closing'"; sed 's/^/    /' <<<"$c"; }
    grep -Eq 'LOG5\[[0-9]+\]: Connection closed: 4 byte\(s\) sent to TLS, 0 byte\(s\) sent to socket$' <<<"$c" ||
        bad "$name: no 'Connection closed: 4 byte(s) sent to TLS, 0 byte(s) sent to socket'"
done

# ---- a reset while waiting for close_notify ----------------------------------
# stunnel logs the error that poll() reports on the TLS descriptor at
# level 6, then reads the end of the stream: a normal close
r=$(result rst)
[ "$r" = done ] || bad "reset client: '$r'"
lib_wait_for "$log" "LOG5\[[0-9]+\]: Connection (closed|reset)[^:]*: 4 byte" 5
c=$(conn rst)
grep -Eq 'LOG6\[[0-9]+\]: TLS fd: Connection reset by peer \(104\)$' <<<"$c" ||
    { bad "reset while closing: no 'LOG6 TLS fd: Connection reset by peer (104)'"; sed 's/^/    /' <<<"$c"; }
grep -Eq 'LOG5\[[0-9]+\]: Connection closed: 4 byte\(s\) sent to TLS, 0 byte\(s\) sent to socket$' <<<"$c" ||
    { bad "reset while closing: expected 'Connection closed: 4 byte(s) sent to TLS, 0 byte(s) sent to socket'"; sed 's/^/    /' <<<"$c"; }
exit $fail
