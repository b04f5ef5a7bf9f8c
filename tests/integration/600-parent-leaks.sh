#!/bin/bash
# The parent daemon leaks nothing per connection: its descriptors (the
# entries of /proc/PID/fd), its children (/proc/PID/task/PID/children, all
# reaped) and its memory (Private_Dirty of /proc/PID/smaps_rollup, and of
# its [heap] mapping in /proc/PID/smaps) are the same after 2,000
# connections as after the first ten of each kind, measured each time once
# every connection process is gone:
#  - good: a TLS handshake, 1 KiB echoed back intact, a close;
#  - aborted: TCP connect then close; a ClientHello, the server's first
#    bytes read, then a reset; 64 garbage bytes, then a close (the daemon
#    resets it).
# One Python process makes them all (four threads), not an openssl run each.
#
# Descriptors and children must be equal: a parent that forgot to close
# one accepted socket per connection, or to reap its children, would show
# thousands more. Memory is allowed 64 KiB of slack: the parent's heap
# moves a little with the largest number of children alive at once (its
# table of children grows and is reused) and with malloc's free lists
# after the log lines of many connections; a leak as small as 32 bytes a
# connection makes 64 KiB over 2,000, and a leaked log line or child entry
# (some 100 bytes) 200 KiB. (Here it grows by 24 kB over the first 2,000
# and not at all over 4,000 more.) Its Pss would move with the children that
# share its pages, so it is read only when none is alive, and only shown.
# In a sanitizer build the parent's memory is AddressSanitizer's (freed
# blocks wait in its quarantine: some 300 bytes a connection here) and a
# fork costs ten times more: there 200 connections of each kind check the
# descriptors and children, and the memory is only shown (LeakSanitizer
# reports the parent's lost blocks at its exit).
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
[ -r /proc/self/smaps_rollup ] && [ -r /proc/self/task/$$/children ] ||
    { echo "SKIP: no /proc/PID/smaps_rollup or /proc/PID/task/PID/children"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
T=$TEST_TMP
SLACK_KB=64
COUNT=${LEAK_CONNECTIONS:-2000}
sanitizer=
if nm -D "$STUNNEL" 2>/dev/null | grep -q __asan_init ||
   ldd "$STUNNEL" 2>/dev/null | grep -q libasan; then
    sanitizer=1
    COUNT=${LEAK_CONNECTIONS:-200}
fi

lib_peer echo echo || exit 1
cat >"$T/s.conf" <<EOF
foreground = yes
syslog = no
debug = info
output = $T/s.log
[s]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
cert = $T/certs/server.pem
EOF
lib_daemon d "$T/s.conf" || exit 1
pid=$LIB_PID
port=$(lib_port d s)

# load.py PORT KIND COUNT: COUNT connections of KIND (good, aborted) from
# four threads; prints "ok N failed M" and each failure on stderr (it
# stops after five)
cat >"$T/load.py" <<'EOF'
import os, socket, ssl, struct, sys, threading

port, kind, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE

def hello():
    """a real ClientHello, as the first flight of a handshake"""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()

HELLO = hello()

def connect():
    return socket.create_connection(("127.0.0.1", port), timeout=30)

def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()

def good(i):
    data = os.urandom(1024)
    with ctx.wrap_socket(connect(), server_hostname="localhost") as s:
        s.sendall(data)
        got = b""
        while len(got) < len(data):
            chunk = s.recv(len(data) - len(got))
            if not chunk:
                break
            got += chunk
    if got != data:
        raise Exception("echo: %d of %d bytes, %s" %
                        (len(got), len(data), "intact" if data.startswith(got) else "corrupt"))

def aborted(i):
    s = connect()
    if i % 3 == 0:
        s.close()                       # connect, then close
    elif i % 3 == 1:
        s.sendall(HELLO)                # a ClientHello, the answer begun,
        if not s.recv(5):               # then a reset
            raise Exception("no answer to the ClientHello")
        reset(s)
    else:
        # garbage, then a close. Its first two bytes begin no TLS or
        # SSLv2 record: random ones may, and the daemon rightly waits for
        # the rest of such a record. It ends the connection (a reset:
        # "reset = yes").
        s.sendall(b"\0\0" + os.urandom(62))
        try:
            while s.recv(4096):
                pass
        except ConnectionResetError:
            pass
        s.close()

ok, failed, lock = [0], [0], threading.Lock()

def worker(first):
    for i in range(first, count, 4):
        if failed[0] >= 5:              # enough said: fail fast
            break
        try:
            (good if kind == "good" else aborted)(i)
            with lock:
                ok[0] += 1
        except Exception as e:
            with lock:
                failed[0] += 1
            print("connection %d: %r" % (i, e), file=sys.stderr, flush=True)

threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("ok %d failed %d" % (ok[0], failed[0]), flush=True)
EOF

# load KIND COUNT: make the connections; every one must work as meant
load() {
    local out
    local t0=$SECONDS
    out=$(timeout 300 python3 "$T/load.py" "$port" "$1" "$2" 2>"$T/load-$1.err")
    echo "$2 $1: $((SECONDS - t0)) s"
    [ "$out" = "ok $2 failed 0" ] ||
        bad "$2 $1 connections: '$out'; $(head -n 3 "$T/load-$1.err")"
}

children() {
    lib_children "$pid" | wc -w
}

# measure: once every child is reaped (60 s at most), the parent's
# "FDS CHILDREN PRIVATE_DIRTY HEAP_PRIVATE_DIRTY PSS" (memory in kB)
measure() {
    local i private pss heap
    # (the spare is forked again once the listener is quiet: it holds
    # a descriptor of the parent's)
    for ((i = 0; i < 600; i++)); do
        [ "$(children)" = 0 ] && [ "$(lib_children "$pid" spares | wc -w)" = 1 ] && break
        sleep 0.1
    done
    read -r private pss < <(awk '/^Private_Dirty:/ { p = $2 } /^Pss:/ { s = $2 }
        END { print p, s }' "/proc/$pid/smaps_rollup")
    heap=$(awk '/\[heap\]/ { h = 1; next } /^[0-9a-f]+-[0-9a-f]+ / { h = 0 }
        h && /^Private_Dirty:/ { print $2 }' "/proc/$pid/smaps")
    echo "$(ls "/proc/$pid/fd" | wc -l) $(children) $private ${heap:-0} $pss"
}

# compare NAME FIGURES...: the figures of measure against the baseline's
compare() {
    local name=$1
    shift
    echo "$name: $1 fds, $2 children, Private_Dirty $3 kB, heap $4 kB, Pss $5 kB"
    [ "$1" = "${base[0]}" ] || bad "$name: $1 descriptors, ${base[0]} after the first connections"
    [ "$2" = 0 ] || bad "$name: $2 children still there after 60 s"
    [ -z "$sanitizer" ] || return 0
    [ "$3" -le $((base[2] + SLACK_KB)) ] ||
        bad "$name: Private_Dirty $3 kB, ${base[2]} kB after the first connections (slack $SLACK_KB kB)"
    [ "$4" -le $((base[3] + SLACK_KB)) ] ||
        bad "$name: heap Private_Dirty $4 kB, ${base[3]} kB after the first connections (slack $SLACK_KB kB)"
}

load good 10
load aborted 30
read -r -a base < <(measure)
echo "after the first 40 connections: ${base[0]} fds, ${base[1]} children, Private_Dirty ${base[2]} kB, heap ${base[3]} kB, Pss ${base[4]} kB"
[ "${base[1]}" = 0 ] || bad "${base[1]} children still there after 60 s"
load good "$COUNT"
compare "after $COUNT good" $(measure)
load aborted "$COUNT"
compare "after $COUNT aborted" $(measure)

kill -0 "$pid" 2>/dev/null || bad "the daemon died"
lib_through "$port" --tls || bad "the daemon no longer serves"
accepted=$(grep -c 'accepted connection from' "$T/s.log")
[ "$accepted" -ge $((2 * COUNT + 40)) ] || bad "only $accepted connections logged, expected $((2 * COUNT + 41))"
[ $fail = 0 ] || tail -n 20 "$T/s.log"
exit $fail
