#!/bin/bash
# Backpressure: a reader that stops reading while the other side sends
# 200 MiB. The connection process must stop reading too (it holds two
# 64 KiB buffers and OpenSSL's records), so its memory stays bounded;
# when the reader reads again, everything arrives intact. Both ways:
#  A. the TLS client stops reading while the backend ("peers.py blast")
#     sends 200 MiB at once;
#  B. the backend stops reading while the TLS client ("peers.py
#     eof-client") sends 200 MiB.
# The reader takes its first MiB, then pauses while a file exists. The
# test waits until the connection process has stalled (the bytes it read
# and wrote, /proc/PID/io rchar and wchar, stay the same for a second:
# a process that kept reading into memory would stall only with all
# 200 MiB inside it), then reads its memory (/proc/PID/smaps_rollup):
# Private_Dirty must stay within 4 MiB of an idle connection process's
# (measured first, on a connection whose backend says nothing). A daemon
# that read on regardless of the writer would hold up to 200 MiB there.
# Then the reader goes on, and the SHA-256 and the count of what it
# received must be those of what was sent.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
[ -r /proc/self/smaps_rollup ] && [ -r /proc/self/io ] ||
    { echo "SKIP: no /proc/PID/smaps_rollup or /proc/PID/io"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
T=$TEST_TMP
BYTES=$((200 * 1024 * 1024))
SLACK_KB=4096

# pause.py read-client PORT FILE | sink-server FILE PORTFILE: the reader
# that pauses; it takes 1 MiB, prints "paused", waits while FILE exists,
# reads until EOF and prints "received SHA COUNT"
cat >"$T/pause.py" <<'EOF'
import hashlib, os, socket, ssl, sys, time

def drain(s, path):
    h, count = hashlib.sha256(), 0
    paused = False
    while True:
        if not paused and count >= 1 << 20:
            print("paused", flush=True)
            while os.path.exists(path):
                time.sleep(0.05)
            paused = True
        try:
            chunk = s.recv(65536)
        except ssl.SSLEOFError:
            chunk = b""
        if not chunk:
            break
        h.update(chunk)
        count += len(chunk)
    print("received %s %d" % (h.hexdigest(), count), flush=True)

if sys.argv[1] == "read-client":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=60)
    drain(ctx.wrap_socket(raw, server_hostname="localhost"), sys.argv[3])
else:
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    with open(sys.argv[3] + ".tmp", "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(sys.argv[3] + ".tmp", sys.argv[3])
    conn, _ = ls.accept()
    conn.settimeout(60)
    drain(conn, sys.argv[2])
EOF

lib_peer blast blast "$BYTES" || exit 1
blast_port=$PEER_PORT
lib_peer silent silent || exit 1
silent_port=$PEER_PORT
touch "$T/pause-b"
lib_bg sink python3 "$T/pause.py" sink-server "$T/pause-b" "$T/sink.port"
lib_wait_for "$T/sink.port" '^[0-9]+$' 10 || { echo "FAIL: the sink did not start"; exit 1; }
cat >"$T/s.conf" <<EOF
foreground = yes
syslog = no
debug = info
output = $T/s.log
cert = $T/certs/server.pem
$(lib_section idle "$silent_port")
$(lib_section down "$blast_port")
$(lib_section up "$(cat "$T/sink.port")")
EOF
lib_daemon d "$T/s.conf" || exit 1
pid=$LIB_PID

private_kb() {
    awk '/^Private_Dirty:/ { print $2 }' "/proc/$1/smaps_rollup"
}
# stalled PID: 0 once PID's rchar and wchar stay the same for a second
# (60 s at most)
stalled() {
    local i same=0 last= now
    for ((i = 0; i < 240; i++)); do
        now=$(awk '/^(rchar|wchar):/ { printf "%s ", $2 }' "/proc/$1/io") || return 1
        if [ "$now" = "$last" ]; then
            same=$((same + 1))
            [ $same -ge 4 ] && return 0
        else
            same=0
        fi
        last=$now
        sleep 0.25
    done
    return 1
}

# ---- an idle connection process: the baseline ------------------------------
touch "$T/hold-idle"
lib_bg idle $PEERS hold "$(lib_port d idle)" --tls --while "$T/hold-idle" --timeout 60
lib_wait_for "$T/s.log" 'Service \[idle\] connected remote server' 20 || bad "the idle connection did not reach its backend"
idle=$(lib_children "$pid" | head -n 1)
stalled "$idle"
base=$(private_kb "$idle")
echo "idle connection process: Private_Dirty $base kB"

# check NAME PID: the stalled connection process's memory
check() {
    local name=$1 p=$2 kb
    stalled "$p" || bad "$name: the connection process never stalled"
    kb=$(private_kb "$p")
    echo "$name: stalled connection process: Private_Dirty $kb kB, $(awk '/^Rss:|^Pss:/ { printf "%s %s kB ", $1, $2 }' "/proc/$p/smaps_rollup")"
    [ "$kb" -le $((base + SLACK_KB)) ] ||
        bad "$name: the connection process holds $kb kB (Private_Dirty), an idle one $base kB"
}

# ---- A. the client stops reading ---------------------------------------------
touch "$T/pause-a"
lib_bg reader python3 "$T/pause.py" read-client "$(lib_port d down)" "$T/pause-a"
reader=$LIB_PID
lib_wait_for "$T/reader.out" '^paused' 60 || bad "A: the client got no first MiB"
conn=$(lib_children "$pid" | grep -vx "$idle" | head -n 1)
[ -n "$conn" ] && check "A (client stopped reading)" "$conn"
rm "$T/pause-a"
wait "$reader"
read -r _ sha count < <(grep '^received' "$T/reader.out")
sent=$(head -n 1 "$T/blast.out")
[ "$count" = "$BYTES" ] && [ "$sha" = "$sent" ] ||
    bad "A: the client received $count bytes (sha $sha), $BYTES were sent (sha $sent)"

# ---- B. the backend stops reading --------------------------------------------
for ((i = 0; i < 600; i++)); do     # A's connection process is gone
    [ "$(lib_children "$pid")" = "$idle" ] && break
    sleep 0.1
done
lib_bg writer $PEERS eof-client "$(lib_port d up)" "$BYTES" --tls --timeout 120
writer=$LIB_PID
lib_wait_for "$T/sink.out" '^paused' 60 || bad "B: the backend got no first MiB"
conn=$(lib_children "$pid" | grep -vx "$idle" | head -n 1)
[ -n "$conn" ] && check "B (backend stopped reading)" "$conn"
rm "$T/pause-b"
wait "$writer"
read -r _ sent _ _ _ < <(tail -n 1 "$T/writer.out")
lib_wait_for "$T/sink.out" '^received' 60
read -r _ sha count < <(grep '^received' "$T/sink.out")
[ "$count" = "$BYTES" ] && [ "$sha" = "$sent" ] ||
    bad "B: the backend received $count bytes (sha $sha), $BYTES were sent (sha $sent)"

rm "$T/hold-idle"
kill -0 "$pid" 2>/dev/null || bad "the daemon died"
[ $fail = 0 ] || { grep -v 'LOG7' "$T/s.log" | tail -n 20; cat "$T/writer.out" "$T/reader.out" "$T/sink.out"; }
exit $fail
