#!/bin/bash
# libstunnel.so: with "transparent = source", a program started by "exec"
# gets LD_PRELOAD=<pkglibdir>/libstunnel.so and getpeername() on its
# standard input (and on a duplicate of it) names the TLS client, its
# address and port, IPv4 and IPv6, as if the client had connected to it
# directly; a socket of its own still gets the real answer. Without
# transparent, no LD_PRELOAD and the Unix socket's empty peer.
# The daemon preloads the library from the path compiled into it; the
# library just built (src/.libs/libstunnel.so, or $LIBSTUNNEL) is put
# there in a private mount namespace (an overlay over that directory or
# its nearest existing parent), so nothing is installed on the host.
# Skips without root or overlay mounts.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (a private mount namespace)"; exit $SKIP; }
command -v openssl >/dev/null 2>&1 || { echo "SKIP: openssl not installed"; exit $SKIP; }
grep -qw overlay /proc/filesystems || { echo "SKIP: no overlay file system"; exit $SKIP; }
lib_mktemp
T=$TEST_TMP
lib_make_certs "$T/certs" || { echo "FAIL: certificates"; exit 1; }

built=${LIBSTUNNEL:-$(dirname "$STUNNEL")/.libs/libstunnel.so}
[ -f "$built" ] || { echo "FAIL: $built not built"; exit 1; }
preload=$(grep -ao '/[[:graph:]]*/libstunnel\.so' "$STUNNEL" | head -n 1)
[ -n "$preload" ] || { echo "FAIL: the daemon names no libstunnel.so to preload"; exit 1; }
base=$(dirname "$preload")
while [ ! -d "$base" ]; do base=$(dirname "$base"); done
[ "$base" != / ] || { echo "SKIP: no parent of $preload to mount over"; exit $SKIP; }
mkdir -p "$T/ov/upper" "$T/ov/work"
if ! unshare --mount --propagation private mount -t overlay overlay \
    -o "lowerdir=$base,upperdir=$T/ov/upper,workdir=$T/ov/work" "$base" 2>"$T/ov.err"; then
    echo "SKIP: cannot mount an overlay over $base: $(cat "$T/ov.err")"; exit $SKIP
fi
rm -rf "$T/ov/upper" "$T/ov/work"; mkdir -p "$T/ov/upper" "$T/ov/work"

# the daemon in its own mount namespace, where $preload is the new library
cat >"$T/daemon.sh" <<EOF
#!/bin/sh
exec unshare --mount --propagation private sh -c '
    mount -t overlay overlay -o "lowerdir=$base,upperdir=$T/ov/upper,workdir=$T/ov/work" "$base" &&
    mkdir -p "$(dirname "$preload")" && cp "$built" "$preload" &&
    exec "\$0" "\$1"' "$STUNNEL" "\$1"
EOF
chmod +x "$T/daemon.sh"
DAEMON=$T/daemon.sh

# the program: its peer on stdin, on a duplicate of stdin, on a socket
# pair of its own, and its LD_PRELOAD
cat >"$T/peer.py" <<'EOF'
import os, socket
s = socket.socket(fileno=0)
print("PEER %r" % (s.getpeername(),))
d = socket.socket(fileno=os.dup(0))
print("DUP %r" % (d.getpeername(),))
a, b = socket.socketpair()
print("OTHER %r" % (a.getpeername(),))
print("PRELOAD %s" % os.environ.get("LD_PRELOAD", "unset"), flush=True)
s.detach()
EOF
cat >"$T/d.conf" <<EOF
foreground = yes
debug = info
pid =
cert = $T/certs/server.pem
exec = $(command -v python3)
execArgs = python3 $T/peer.py
[src]
accept = 127.0.0.1:0
transparent = source
[src6]
accept = ::1:0
transparent = source
[none]
accept = 127.0.0.1:0
EOF
lib_daemon d "$T/d.conf" || exit 1

# ask NAME: the program's lines, after "local PORT" (the client's)
ask() {
    timeout 20 $PEERS read "$(lib_port d "$1")" --tls --show-port --timeout 10 2>&1
}
out=$(ask src)
port=$(sed -n 's/^local //p' <<<"$out")
grep -qx "PEER ('127.0.0.1', $port)" <<<"$out" ||
    bad "source: the program's peer is not the client 127.0.0.1:$port: $out"
grep -qx "DUP ('127.0.0.1', $port)" <<<"$out" ||
    bad "source: a duplicate of stdin does not name the client: $out"
grep -qx "OTHER ''" <<<"$out" || bad "source: another socket's peer was rewritten: $out"
grep -qx "PRELOAD $preload" <<<"$out" || bad "source: LD_PRELOAD is not $preload: $out"

if [ -n "$(lib_port d src6)" ]; then
    out6=$(timeout 20 python3 - "$(lib_port d src6)" <<'EOF'
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
raw = socket.create_connection(("::1", int(sys.argv[1])), timeout=10)
print("local %d" % raw.getsockname()[1])
s = ctx.wrap_socket(raw)
data = b""
while chunk := s.recv(4096):
    data += chunk
print(data.decode(), end="")
EOF
)
    port6=$(sed -n 's/^local //p' <<<"$out6")
    grep -qx "PEER ('::1', $port6, 0, 0)" <<<"$out6" ||
        bad "source (IPv6): the program's peer is not the client [::1]:$port6: $out6"
fi

out=$(ask none)
grep -qx "PEER ''" <<<"$out" || bad "none: the program's peer was rewritten: $out"
grep -qx "PRELOAD unset" <<<"$out" || bad "none: LD_PRELOAD was set: $out"

[ $fail = 0 ] || { echo "--- daemon log"; sed 's/^/    /' "$T/d.out"; }
exit $fail
