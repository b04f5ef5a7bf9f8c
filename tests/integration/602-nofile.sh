#!/bin/bash
# RLIMIT_NOFILE exhausted.
#  1. The daemon started under "prlimit --nofile=32:32" holds 60 TLS
#     connections at once, each echoing its line: in the fork model the
#     limit is per process, and the parent keeps no descriptor per
#     connection (it closes the accepted socket once it has forked), so
#     32 descriptors bound no number of connections. Nothing is refused.
#  2. So the parent's own table is what runs out: its soft limit is
#     lowered (prlimit --pid) to its lowest free descriptor, and 20
#     clients connect. accept() fails with EMFILE, and the daemon logs
#     what stunnel 5.75 logs, word for word and level for level:
#       LOG3[ui]: local socket: Too many open files (24)
#       LOG5[ui]: Accepting new connections suspended for 1 second
#     and does not spin: over the exhausted period (4 s or more of wall
#     time) it logs at most one failure a second (a loop that retried at
#     once would log thousands), and its CPU time (/proc/PID/stat utime +
#     stime) stays under half the wall time (a spinning parent burns a
#     core; sleeping out its pause costs next to nothing; half leaves room
#     for a loaded machine, where a spinning process may get less than a
#     whole core, and the count above still catches it). No connection
#     is served meanwhile.
#  3. It recovers: the clients go away, the limit is raised again, and a
#     new connection carries data through; the daemon still runs.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
command -v prlimit >/dev/null 2>&1 || { echo "SKIP: prlimit not installed"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
T=$TEST_TMP
daemon=${DAEMON:-$STUNNEL}
hz=$(getconf CLK_TCK)

lib_peer echo echo || exit 1
cat >"$T/s.conf" <<EOF
foreground = yes
syslog = no
debug = info
[s]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
cert = $T/certs/server.pem
EOF
# not lib_daemon: the daemon starts under the limit
lib_bg d prlimit --nofile=32:32 "$daemon" "$T/s.conf"
pid=$LIB_PID
log=$T/d.out
lib_wait_for "$log" 'Accepting new connections|Configuration failed' 10 &&
    grep -q 'Accepting new connections' "$log" || { echo "FAIL: the daemon did not start"; cat "$log"; exit 1; }
port=$(lib_port d s)
grep -q "^Max open files *32 *32 " "/proc/$pid/limits" ||
    { bad "the daemon does not run under the limit: $(grep 'Max open files' "/proc/$pid/limits")"; }

# ---- 1. more connections than descriptors --------------------------------
# many.py PORT N: N TLS connections open at once, a line echoed on each;
# prints the number that echoed
cat >"$T/many.py" <<'EOF'
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
conns, ok = [], 0
for i in range(int(sys.argv[2])):
    try:
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30))
        s.sendall(b"line %d\n" % i)
        conns.append((s, b"line %d\n" % i))
    except OSError as e:
        print("connection %d: %r" % (i, e), file=sys.stderr)
for s, line in conns:               # all of them are open by now
    try:
        got = b""
        while len(got) < len(line):
            chunk = s.recv(len(line) - len(got))
            if not chunk:
                break
            got += chunk
        ok += got == line
    except OSError as e:
        print("echo: %r" % e, file=sys.stderr)
print(ok)
EOF
got=$(timeout 120 python3 "$T/many.py" "$port" 60 2>"$T/many.err")
[ "$got" = 60 ] || bad "60 connections at once under nofile=32: $got echoed; $(head -n 3 "$T/many.err")"
grep -q 'Too many open files' "$log" && bad "nofile=32 ran out at 60 connections: $(grep -m1 'Too many' "$log")"

# ---- 2. the parent's table full -------------------------------------------
low=0
while [ -e "/proc/$pid/fd/$low" ]; do low=$((low + 1)); done
prlimit --pid "$pid" --nofile="$low:32" || { echo "FAIL: prlimit --pid"; exit 1; }
# pending.py PORT N FILE: N connections (completed by the kernel, in the
# listener's queue), held while FILE exists
cat >"$T/pending.py" <<'EOF'
import os, socket, sys, time
conns = [socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
         for _ in range(int(sys.argv[2]))]
print("connected", flush=True)
while os.path.exists(sys.argv[3]):
    time.sleep(0.05)
EOF
touch "$T/pending"
accepted_before=$(grep -c 'accepted connection from' "$log")
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
t0=$(ticks)
wall0=$(date +%s%N)
lib_bg pending python3 "$T/pending.py" "$port" 20 "$T/pending"
pending=$LIB_PID
lib_wait_for "$T/pending.out" '^connected' 20 || bad "the pending clients could not connect: $(cat "$T/pending.out")"
lib_wait_for "$log" 'local socket: Too many open files' 20 || bad "no 'local socket: Too many open files' logged"
sleep 4
t1=$(ticks)
wall1=$(date +%s%N)
failures=$(grep -c 'LOG3\[ui\]: local socket: Too many open files (24)$' "$log")
suspended=$(grep -c 'LOG5\[ui\]: Accepting new connections suspended for 1 second$' "$log")
wall_ms=$(((wall1 - wall0) / 1000000))
cpu_ms=$(((t1 - t0) * 1000 / hz))
echo "exhausted for $wall_ms ms: $failures failed accepts, $suspended pauses, $cpu_ms ms of CPU"
[ "$failures" -ge 1 ] && [ "$suspended" = "$failures" ] ||
    bad "$failures 'local socket: Too many open files (24)' (LOG3) and $suspended 'Accepting new connections suspended for 1 second' (LOG5)"
[ "$failures" -le $((wall_ms / 1000 + 2)) ] || bad "the daemon spins: $failures failed accepts in $wall_ms ms"
[ $((cpu_ms * 2)) -lt "$wall_ms" ] || bad "the daemon spins: $cpu_ms ms of CPU in $wall_ms ms"
accepted=$(grep -c 'accepted connection from' "$log")
[ "$accepted" = "$accepted_before" ] || bad "connections were served while the table was full"

# ---- 3. recovery -----------------------------------------------------------
rm "$T/pending"
wait "$pending"
prlimit --pid "$pid" --nofile=32:32 || { echo "FAIL: prlimit --pid"; exit 1; }
lib_through "$port" --tls || bad "no data through a new connection once descriptors were free again"
kill -0 "$pid" 2>/dev/null || bad "the daemon died"
[ $fail = 0 ] || tail -n 30 "$log"
exit $fail
