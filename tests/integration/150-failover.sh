#!/bin/bash
# Failover between several "connect" targets: three plain backends that
# each answer "backend-N" and close, behind server-mode sections.
#  - failover = rr: 30 connections go 10/10/10 (the parent rotates);
#  - failover = prio: all go to the first backend;
#  - first backend stopped: prio uses the second, and the log shows
#    "s_connect: connect 127.0.0.1:PORT: Connection refused (111)" before
#    "s_connect: connected" to the second; rr still answers every time;
#  - all three stopped: "No more addresses to connect", the client is
#    disconnected without data and the connection is reset;
#  - delay = yes with a host name (localhost:PORT) resolves per connection.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }

# three backends that answer "backend-N" and close
declare -A BPID BPORT
for n in 1 2 3; do
    lib_peer "b$n" banner "backend-$n" --close || exit 1
    BPID[$n]=$LIB_PID BPORT[$n]=$PEER_PORT
done

# stop_backend N: close backend N's port (and wait until it is closed)
stop_backend() {
    kill "${BPID[$1]}" 2>/dev/null
    wait "${BPID[$1]}" 2>/dev/null
}

cat >"$TEST_TMP/s.conf" <<EOF
foreground = yes
syslog = no
debug = info
cert = $TEST_TMP/certs/server.pem
[rr]
accept = 127.0.0.1:0
connect = 127.0.0.1:${BPORT[1]}
connect = 127.0.0.1:${BPORT[2]}
connect = 127.0.0.1:${BPORT[3]}
failover = rr
[prio]
accept = 127.0.0.1:0
connect = 127.0.0.1:${BPORT[1]}
connect = 127.0.0.1:${BPORT[2]}
connect = 127.0.0.1:${BPORT[3]}
failover = prio
[delayed]
accept = 127.0.0.1:0
connect = localhost:${BPORT[2]}
delay = yes
EOF
lib_daemon d "$TEST_TMP/s.conf" || exit 1
DPID=$LIB_PID
log="$TEST_TMP/d.out"
RR=$(lib_port d rr)
PRIO=$(lib_port d prio)
DELAYED=$(lib_port d delayed)
[ -n "$RR" ] && [ -n "$PRIO" ] && [ -n "$DELAYED" ] || { bad "bound ports missing in the log"; exit 1; }

# clients PORT COUNT: COUNT TLS connections in turn, each read to its
# end: the answers ("EOF" for none, "ERR ..." for a failure), sorted and
# counted ("10 backend-1,...")
clients() {
    timeout 60 $PEERS read "$1" --connections "$2" --tls --ca "$TEST_TMP/certs/ca.pem" --timeout 10 |
        sort | uniq -c | sed 's/^ *//' | tr '\n' ','
}

# log_of ID: the log lines of connection ID
log_of() {
    grep -E "LOG[0-9]\[$1\]: " "$log"
}

# ---- all backends up ------------------------------------------------------
got=$(clients "$RR" 30)
[ "$got" = "10 backend-1,10 backend-2,10 backend-3," ] || bad "rr: 30 connections spread as '$got', expected 10/10/10"
n=$(grep -Ec 'LOG6\[[0-9]+\]: failover: round-robin, starting at entry #[0-2]$' "$log")
[ "$n" = 30 ] || bad "rr: $n 'failover: round-robin, starting at entry #N' lines, expected 30"

got=$(clients "$PRIO" 6)
[ "$got" = "6 backend-1," ] || bad "prio: answers '$got', expected all from backend-1"
grep -Eq 'LOG6\[[0-9]+\]: failover: priority, starting at entry #0$' "$log" || bad "prio: no 'failover: priority, starting at entry #0'"

got=$(clients "$DELAYED" 2)
[ "$got" = "2 backend-2," ] || bad "delay = yes, localhost:PORT: answers '$got', expected backend-2"
grep -Eq "LOG5\[[0-9]+\]: s_connect: connected 127\.0\.0\.1:${BPORT[2]}\$" "$log" ||
    bad "delay = yes: no 's_connect: connected 127.0.0.1:${BPORT[2]}'"

# ---- first backend down ---------------------------------------------------
stop_backend 1
got=$(clients "$PRIO" 3)
[ "$got" = "3 backend-2," ] || bad "prio, backend-1 down: answers '$got', expected backend-2"
# the last prio connection: refused by #1, then connected to #2
id=$(sed -n 's/.*LOG5\[\([0-9]*\)\]: Service \[prio\] accepted connection from .*/\1/p' "$log" | tail -n 1)
conn=$(log_of "$id")
refused=$(grep -nE "LOG3\[$id\]: s_connect: connect 127\.0\.0\.1:${BPORT[1]}: Connection refused \(111\)\$" <<<"$conn" | cut -d: -f1)
connected=$(grep -nE "LOG5\[$id\]: s_connect: connected 127\.0\.0\.1:${BPORT[2]}\$" <<<"$conn" | cut -d: -f1)
if [ -z "$refused" ] || [ -z "$connected" ] || [ "$refused" -gt "$connected" ]; then
    bad "prio, backend-1 down: expected 'connect 127.0.0.1:${BPORT[1]}: Connection refused (111)' then 'connected 127.0.0.1:${BPORT[2]}'"
    sed 's/^/    /' <<<"$conn"
fi
grep -Eq "LOG5\[$id\]: Connection closed: 10 byte\(s\) sent to TLS, 0 byte\(s\) sent to socket\$" <<<"$conn" ||
    bad "prio, backend-1 down: no 'Connection closed: 10 byte(s) sent to TLS, 0 byte(s) sent to socket'"

got=$(clients "$RR" 6)
case $got in
    *backend-1*|*EOF*|*ERR*) bad "rr, backend-1 down: answers '$got'" ;;
esac
[ "$(tr ',' '\n' <<<"$got" | awk '{s += $1} END {print s}')" = 6 ] || bad "rr, backend-1 down: answers '$got'"

# ---- all backends down ----------------------------------------------------
stop_backend 2
stop_backend 3
got=$(clients "$PRIO" 1)
case $got in
    "1 EOF,"|"1 ERR "*) ;;
    *) bad "prio, all down: the client got '$got', expected to be disconnected" ;;
esac
id=$(sed -n 's/.*LOG5\[\([0-9]*\)\]: Service \[prio\] accepted connection from .*/\1/p' "$log" | tail -n 1)
lib_wait_for "$log" "LOG5\[$id\]: Connection (closed|reset)" 5
conn=$(log_of "$id")
for n in 1 2 3; do
    grep -Eq "LOG3\[$id\]: s_connect: connect 127\.0\.0\.1:${BPORT[$n]}: Connection refused \(111\)\$" <<<"$conn" ||
        bad "all down: no 'Connection refused' for backend $n"
done
grep -Eq "LOG3\[$id\]: No more addresses to connect\$" <<<"$conn" || bad "all down: no 'No more addresses to connect'"
grep -Eq "LOG5\[$id\]: Connection reset: 0 byte\(s\) sent to TLS, 0 byte\(s\) sent to socket\$" <<<"$conn" ||
    { bad "all down: no 'Connection reset: 0 byte(s) sent to TLS, 0 byte(s) sent to socket'"; sed 's/^/    /' <<<"$conn"; }

# the daemon itself is still there
kill -0 "$DPID" 2>/dev/null || bad "the daemon died"
exit $fail
