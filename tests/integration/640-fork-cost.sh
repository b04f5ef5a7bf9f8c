#!/bin/bash
# 640-fork-cost: what a connection process has to map for itself, counted
# from outside (counts, not durations).
#  (a) The parent hands its code to children ready-made (mapshare.c): no
#      mapping of the parent is writable and executable at once; the code
#      of libc and libssl is still mapped executable from its file; where transparent huge
#      pages may be asked for (madvise or always), some of its code is in
#      huge pages (AnonHugePages of /proc/PID/smaps_rollup).
#  (b) A connection process that completed a TLS 1.3 handshake and echoed
#      a line has taken fewer than 90 page faults (minflt of
#      /proc/PID/stat): 137 before the parent shared its code and before
#      ident's 64 KiB line buffer left the stack, 50 after, here.
#  (c) The connection works, and so does the next one after a reload
#      (which shares the code again).
# A sanitizer build maps its shadow memory child by child: (b) is only
# shown there.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
[ -r /proc/self/smaps_rollup ] || { echo "SKIP: no /proc/PID/smaps_rollup"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
T=$TEST_TMP
sanitizer=
if nm -D "$STUNNEL" 2>/dev/null | grep -q __asan_init ||
   ldd "$STUNNEL" 2>/dev/null | grep -q libasan; then
    sanitizer=1
fi

lib_peer echo echo || exit 1
{
    printf 'foreground = yes\nsyslog = no\ndebug = info\npid =\n'
    lib_section s "$PEER_PORT" "cert = $T/certs/server.pem"
} >"$T/s.conf"
lib_daemon d "$T/s.conf" || exit 1
pid=$LIB_PID
port=$(lib_port d s)

# (a)
maps=$(cat "/proc/$pid/maps")
grep -E '^[0-9a-f]+-[0-9a-f]+ .wx' <<<"$maps" && bad "a mapping is writable and executable"
# (libcrypto's code may have become anonymous huge pages)
for lib in libssl libc; do
    grep -qE "r-xp .*/$lib\.so" <<<"$maps" || bad "the code of $lib is not mapped executable"
done
huge=$(awk '/^AnonHugePages:/ {print $2}' "/proc/$pid/smaps_rollup")
thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)
echo "transparent huge pages: ${thp:-absent}; the parent's AnonHugePages: $huge kB"
if [[ $thp == *"[madvise]"* || $thp == *"[always]"* ]] && [ -z "$sanitizer" ]; then
    [ "${huge:-0}" -ge 2048 ] || bad "no code in huge pages (AnonHugePages $huge kB)"
fi

# (b) and (c): one connection held open while its process is looked at
faults() {
    python3 - "$port" "$pid" <<'EOF'
import socket, ssl, subprocess, sys, time
port, parent = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
s.sendall(b"hello\n")
assert s.recv(6) == b"hello\n", "no echo"
time.sleep(0.3)
# the connection's process, not the spare forked ahead since (lib_children)
kids = [k for k in open("/proc/%s/task/%s/children" % (parent, parent)).read().split()
        if not open("/proc/%s/comm" % k).read().rstrip("\n").endswith(": spare")]
with open("/proc/%s/stat" % kids[-1]) as f:
    print(f.read().rsplit(")", 1)[1].split()[7])
s.close()
EOF
}
n=$(faults) || bad "the connection failed"
echo "page faults of a connection process: $n"
if [ -z "$sanitizer" ] && [ -n "$n" ]; then
    [ "$n" -lt 90 ] || bad "a connection process took $n page faults (not < 90)"
fi
kill -HUP "$pid"
for ((i = 0; i < 100; i++)); do
    [ "$(grep -c 'Configuration successful' "$T/d.out")" -ge 2 ] && break
    sleep 0.1
done
[ "$i" -lt 100 ] || bad "no reload"
sleep 0.3
n=$(faults) || bad "the connection after a reload failed"
echo "page faults after a reload: $n"
grep -E '^[0-9a-f]+-[0-9a-f]+ .wx' "/proc/$pid/maps" && bad "a mapping is writable and executable after a reload"
exit $fail
