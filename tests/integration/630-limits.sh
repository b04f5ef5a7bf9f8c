#!/bin/bash
# 630-limits: what one client, or many, can hold.
#  (a) "Clients allowed=N" at start, from RLIMIT_NPROC of the setuid user
#      (prlimit --nproc; a uid of its own, so that no other process of the
#      machine counts): N = the limit less one for the daemon, halved when
#      a section execs a program (two processes a connection);
#  (b) N idle connections are served; each one beyond is refused, logged
#      "Connection rejected: too many clients (>=N)" and closed; when some
#      end, connections are served again, data and all;
#  (c) fork() failing (the user's processes taken by others below the
#      limit): refused ("create_client failed"), accepting suspended for a
#      second instead of refusing the whole backlog at once, and served
#      again once processes are free;
#  (d) a client sending its ClientHello one byte at a time, or likewise
#      its HTTP CONNECT request (protocol = connect, before TLS) or SOCKS
#      request (protocol = socks, inside TLS), cannot
#      hold its process longer than TIMEOUTbusy in total, handshake and
#      negotiation together (stunnel restarts
#      the timeout at every byte: it would take minutes).
# Counts, not durations, decide; the one duration checked has minutes of
# slack.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (setuid to a uid of its own)"; exit $SKIP; }
command -v prlimit >/dev/null && command -v setpriv >/dev/null ||
    { echo "SKIP: prlimit or setpriv missing (util-linux)"; exit $SKIP; }
lib_mktemp
chmod 755 "$TEST_TMP"
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
chmod 644 "$TEST_TMP/certs/"*.pem
CERTS=$TEST_TMP/certs

# a uid with no name and no process: RLIMIT_NPROC counts only ours
uid=
for ((u = 61000 + $$ % 3000; u < 65000; u++)); do
    getent passwd "$u" >/dev/null || pgrep -U "$u" >/dev/null || { uid=$u; break; }
done
[ -n "$uid" ] || { echo "SKIP: no free uid"; exit $SKIP; }
NPROC=12
ALLOWED=$((NPROC - 1))

sleepers=()
stop_sleepers() {
    local p
    for p in "${sleepers[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${sleepers[@]}"; do wait "$p" 2>/dev/null; done
    sleepers=()
}
trap 'stop_sleepers; lib_cleanup' EXIT

lib_peer echo echo || exit 1
ECHO=$PEER_PORT

conf() {  # NAME [LINE...]: a daemon as the free uid, one section [s]
    local name=$1; shift
    {
        echo "foreground = yes"
        echo "syslog = no"
        echo "debug = debug"
        echo "setuid = $uid"
        echo "setgid = $uid"
        echo "[s]"
        echo "accept = 127.0.0.1:0"
        echo "cert = $CERTS/server.pem"
        printf '%s\n' "$@"
    } >"$TEST_TMP/$name.conf"
}

printf '#!/bin/sh\nexec prlimit --nproc=%s:%s "%s" "$@"\n' "$NPROC" "$NPROC" "$STUNNEL" >"$TEST_TMP/limited"
chmod 755 "$TEST_TMP/limited"
start() {  # NAME: under prlimit --nproc; sets DPORT and DPID
    DAEMON=$TEST_TMP/limited lib_daemon "$1" "$TEST_TMP/$1.conf" || exit 1
    DPID=$(pgrep -f -o "^$STUNNEL $TEST_TMP/$1.conf")
    DPORT=$(lib_port "$1" s)
}

# hold COUNT idle connections to PORT (a handshake never started: each
# keeps its process waiting for TIMEOUTbusy); prints how many were
# refused (closed by the daemon) once all are in
hold() {
    python3 - "$1" "$2" "$TEST_TMP/hold.$3" <<'EOF'
import os, socket, sys, time
port, count, flag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
time.sleep(1)
closed = 0
for s in socks:
    s.setblocking(False)
    try:
        closed += s.recv(1) == b""
    except (BlockingIOError, ConnectionResetError) as e:
        closed += isinstance(e, ConnectionResetError)
print(closed, flush=True)
while os.path.exists(flag):      # keep the rest open until told
    time.sleep(0.1)
EOF
}

children() { lib_children "$DPID" | wc -l; }

# --- (a) the figure, and what exec does to it --------------------------------
conf a "connect = 127.0.0.1:$ECHO"
start a
grep -q "LOG7\[ui\]: Clients allowed=$ALLOWED\$" "$TEST_TMP/a.out" ||
    bad "(a) no 'Clients allowed=$ALLOWED': $(grep 'Clients allowed' "$TEST_TMP/a.out")"
conf ax "exec = /bin/cat"
start ax
grep -q "Clients allowed=$((ALLOWED / 2))\$" "$TEST_TMP/ax.out" ||
    bad "(a) exec: no 'Clients allowed=$((ALLOWED / 2))': $(grep 'Clients allowed' "$TEST_TMP/ax.out")"
kill "$DPID"

# --- (b) the limit reached, and recovered from --------------------------------
DPID=$(pgrep -f -o "^$STUNNEL $TEST_TMP/a.conf")
DPORT=$(lib_port a s)
touch "$TEST_TMP/hold.b"
lib_bg holder hold "$DPORT" $((ALLOWED + 3)) b
lib_wait_for "$TEST_TMP/holder.out" '^[0-9]+$' 30 || bad "(b) the holder did not report"
[ "$(cat "$TEST_TMP/holder.out")" = 3 ] ||
    bad "(b) $((ALLOWED + 3)) connections: $(cat "$TEST_TMP/holder.out") closed by the daemon, expected 3"
n=$(grep -c "LOG4\[ui\]: Connection rejected: too many clients (>=$ALLOWED)\$" "$TEST_TMP/a.out")
[ "$n" = 3 ] || bad "(b) $n refusals logged, expected 3"
[ "$(children)" = "$ALLOWED" ] || bad "(b) $(children) connection processes, expected $ALLOWED"
lib_through "$DPORT" --tls && bad "(b) a connection beyond the limit was served"
rm -f "$TEST_TMP/hold.b"
for ((i = 0; i < 100; i++)); do [ "$(children)" = 0 ] && break; sleep 0.1; done
lib_through "$DPORT" --tls || bad "(b) no connection served after the held ones ended"

# --- (c) fork() fails below the limit ---------------------------------------
touch "$TEST_TMP/hold.c"
lib_bg holder2 hold "$DPORT" 4 c
lib_wait_for "$TEST_TMP/holder2.out" '^[0-9]+$' 30 || bad "(c) the holder did not report"
# the daemon and its 4 children, and sleepers up to the limit
for ((i = 5; i < NPROC; i++)); do
    setpriv --reuid="$uid" --regid="$uid" --clear-groups sleep 120 &
    sleepers+=($!)
done
sleep 0.5
before=$(grep -c 'create_client failed' "$TEST_TMP/a.out")
python3 - "$DPORT" <<'EOF' >"$TEST_TMP/burst.out"
import socket, sys, time
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(10)]
time.sleep(2.5)
print(len(socks))
EOF
after=$(grep -c 'create_client failed' "$TEST_TMP/a.out")
failed=$((after - before))
[ "$failed" -ge 1 ] || bad "(c) no 'Connection rejected: create_client failed' with the user's processes used up"
# one attempt a second: over 2.5 s at most 3, 4 with a slow machine's
# rounding; refusing the backlog at once would be 10
[ "$failed" -le 4 ] || bad "(c) $failed fork failures in 2.5 s: the backlog was not left waiting"
grep -q "LOG5\[ui\]: Accepting new connections suspended for 1 second" "$TEST_TMP/a.out" ||
    bad "(c) accepting not suspended after a fork failure"
stop_sleepers
rm -f "$TEST_TMP/hold.c"
for ((i = 0; i < 100; i++)); do [ "$(children)" = 0 ] && break; sleep 0.1; done
lib_through "$DPORT" --tls || bad "(c) no connection served once processes were free"
kill -0 "$DPID" 2>/dev/null || bad "(c) the daemon died"

# --- (d) a trickling client --------------------------------------------------
conf d "connect = 127.0.0.1:$ECHO" "TIMEOUTbusy = 2" \
    "[p]" "accept = 127.0.0.1:0" "cert = $CERTS/server.pem" "protocol = connect" \
    "connect = 127.0.0.1:$ECHO" "TIMEOUTbusy = 2" \
    "[k]" "accept = 127.0.0.1:0" "cert = $CERTS/server.pem" "protocol = socks" \
    "TIMEOUTbusy = 2"
start d
pport=$(lib_port d p)
kport=$(lib_port d k)
# BYTES to PORT one every 0.3 s (a minute for all), after a TLS
# handshake when the third argument is "tls": seconds until the daemon
# ended it, or "held" if it never did
trickle() {
    python3 - "$@" <<'EOF'
import socket, ssl, sys, time
port, data = int(sys.argv[1]), bytes.fromhex(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
if sys.argv[3:] == ["tls"]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(s)
start = time.monotonic()
for b in data:
    try:
        s.send(bytes([b]))
        s.setblocking(False)
        if s.recv(1024) == b"":
            break
    except (BlockingIOError, ssl.SSLWantReadError):
        pass
    except OSError:
        break
    s.setblocking(True)
    time.sleep(0.3)
else:
    print("held")
    sys.exit()
print(round(time.monotonic() - start))
EOF
}
hello=$(python3 -c 'print("16030100c8010000c40303" + "00" * 200)')
t=$(trickle "$DPORT" "$hello")
[ "$t" != held ] && [ "$t" -lt 30 ] ||
    bad "(d) a ClientHello a byte at a time held the process ${t}s (TIMEOUTbusy = 2)"
connect=$(printf 'CONNECT 127.0.0.1:%s HTTP/1.0\r\nHost: x\r\nX-Padding: %0200d\r\n\r\n' "$ECHO" 0 | od -v -An -tx1 | tr -d ' \n')
t=$(trickle "$pport" "$connect")
[ "$t" != held ] && [ "$t" -lt 30 ] ||
    bad "(d) a CONNECT request a byte at a time held the process ${t}s (TIMEOUTbusy = 2)"
socks=$(printf '0401%04x7f000001%s00' "$ECHO" "$(printf '75%.0s' $(seq 60))")
t=$(trickle "$kport" "$socks" tls)
[ "$t" != held ] && [ "$t" -lt 30 ] ||
    bad "(d) a SOCKS request inside TLS a byte at a time held the process ${t}s (TIMEOUTbusy = 2)"
n=$(grep -c 's_poll_wait: TIMEOUTbusy exceeded: sending reset' "$TEST_TMP/d.out")
[ "$n" = 3 ] || bad "(d) $n TIMEOUTbusy lines, expected 3"
lib_through "$DPORT" --tls || bad "(d) a normal client after the trickling ones was not served"

exit $fail
