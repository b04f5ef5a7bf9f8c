#!/bin/bash
# systemd socket activation (the LISTEN_FDS/LISTEN_PID convention, the
# sockets from descriptor 3 on), through a launcher that binds first and
# execs the daemon as systemd does:
#  - three inherited sockets (IPv6, Unix, IPv4, in an order unlike the
#    file's) go to the services whose accept names their address, not by
#    position; a fourth service binds its own; a TLS client gets through
#    each; logged as stunnel 5.68 (Debian, built with systemd) logs them:
#    "Systemd socket activation: 3 descriptors received", per socket
#    "Listening file descriptor received from systemd (FD=N)" instead of
#    "Listening file descriptor created", then "Service [S] (FD=N) bound";
#  - reloads keep them: the same file (same descriptors, still serving),
#    a file without one of the services (its socket kept open, a warning),
#    then with it again (the same socket serves again);
#  - at the end the inherited Unix socket is neither closed by a reload
#    nor removed: it is systemd's;
#  - an inherited socket whose address no service accepts: exit status 1,
#    "No service accepts on ADDR, the address of the socket received from
#    systemd (FD=N)";
#  - LISTEN_PID naming another process: the sockets are not ours (the
#    daemon binds its own: here the address is taken, so it fails);
#  - systemd-socket-activate (when installed) starts the daemon at the
#    first connection, which is served.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
conf="$TEST_TMP/s.conf"
CERT="$TEST_TMP/certs/server.pem"
lib_peer echo echo || exit 1
echo_port=$PEER_PORT

# launch.py PORTS GO ADDR... -- PROG ARG...: listen on each ADDR
# (127.0.0.1:0, [::1]:0 or /path), write where to PORTS, wait for the
# file GO, then exec PROG with the sockets as descriptors 3.. and
# LISTEN_FDS/LISTEN_PID set (LISTEN_PID=other: a pid not ours)
cat >"$TEST_TMP/launch.py" <<'EOF'
import fcntl, os, socket, sys, time
i = sys.argv.index("--")
ports, go, addrs, prog = sys.argv[1], sys.argv[2], sys.argv[3:i], sys.argv[i + 1:]
socks, where = [], []
for a in addrs:
    if a.startswith("/"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(a)
        where.append(a)
    else:
        host, port = a.rsplit(":", 1)
        v6 = host.startswith("[")
        s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET)
        s.bind((host.strip("[]"), int(port)))
        where.append("%s:%d" % (host.strip("[]"), s.getsockname()[1]))
    s.listen(16)
    socks.append(s)
with open(ports + ".tmp", "w") as f:
    f.write("\n".join(where) + "\n")
os.rename(ports + ".tmp", ports)
for _ in range(200):
    if os.path.exists(go):
        break
    time.sleep(0.05)
# out of the way first: a socket may sit on one of 3.. already
high = [fcntl.fcntl(s.fileno(), fcntl.F_DUPFD, 100) for s in socks]
for n, fd in enumerate(high):
    os.dup2(fd, 3 + n, inheritable=True)
    os.close(fd)
pid = os.getpid()
os.environ.update(LISTEN_FDS=str(len(socks)), LISTEN_FDNAMES="x",
                  LISTEN_PID=str(pid + 1 if os.environ.get("OTHER") else pid))
os.execv(prog[0], prog)
EOF

# activate NAME ADDR...: the daemon on $conf, under the launcher, with
# sockets at ADDRs; their addresses in ADDR_1, ADDR_2... (the file is
# written by the caller's write_conf once they are known)
activate() {
    local name=$1 i=1 line
    shift
    rm -f "$TEST_TMP/$name.ports" "$TEST_TMP/$name.go"
    lib_bg "$name" python3 "$TEST_TMP/launch.py" "$TEST_TMP/$name.ports" \
        "$TEST_TMP/$name.go" "$@" -- "$STUNNEL" "$conf"
    lib_wait_for "$TEST_TMP/$name.ports" . 10 || { echo "launcher $name did not start"; exit 1; }
    while read -r line; do
        printf -v "ADDR_$i" '%s' "$line"
        i=$((i + 1))
    done <"$TEST_TMP/$name.ports"
}
go() { touch "$TEST_TMP/$1.go"; }

section() {  # NAME ACCEPT
    printf '[%s]\naccept = %s\nconnect = 127.0.0.1:%s\ncert = %s\n' "$1" "$2" "$echo_port" "$CERT"
}

# say NAME CONNECT-ARGS...: a TLS client (openssl s_client) through the
# daemon to the echo server and back
say() {
    local name=$1 out
    shift
    out=$( (echo "hello $name"; sleep 1) |
        timeout 10 openssl s_client -quiet -no_ign_eof -verify_quiet "$@" 2>/dev/null)
    [ "$out" = "hello $name" ] || bad "$name: a TLS client through $* got '$out'"
}

v6=yes
python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null || v6=
usock="$TEST_TMP/u.sock"

# --- three inherited sockets, matched by address; one bound here ------
addrs=("127.0.0.1:0")
[ -n "$v6" ] && addrs=("[::1]:0" "${addrs[@]}")
activate d1 "$usock" "${addrs[@]}"
if [ -n "$v6" ]; then unix=$ADDR_1 a6=$ADDR_2 a4=$ADDR_3; n=3; else unix=$ADDR_1 a4=$ADDR_2; n=2; fi
write_conf() {  # SERVICES...
    {
        printf 'foreground = yes\nsyslog = no\ndebug = debug\npid =\n'
        local s
        for s in "$@"; do
            case $s in
                v4) section v4 "$a4" ;;
                v6) section v6 "$a6" ;;
                unix) section unix "$unix" ;;
                own) section own 127.0.0.1:0 ;;
            esac
        done
    } >"$conf"
}
services=(own v4 unix)
[ -n "$v6" ] && services+=(v6)
write_conf "${services[@]}"
go d1
pid=$LIB_PID
lib_wait_for "$TEST_TMP/d1.out" 'Accepting new connections|Configuration failed|exited' 10 ||
    { bad "d1 did not start"; cat "$TEST_TMP/d1.out"; exit 1; }
out="$TEST_TMP/d1.out"
grep -q "LOG6\[ui\]: Systemd socket activation: $n descriptors received\$" "$out" ||
    bad "no 'Systemd socket activation: $n descriptors received'"
# fd N of the service: its "received from systemd" line comes right
# after "Binding service [S]"
inherited_fd() {
    sed -n "/LOG7\[ui\]: Binding service \[$1\]\$/{n;s/.*LOG7\[ui\]: Listening file descriptor received from systemd (FD=\([0-9]*\))\$/\1/p}" "$out" | head -n 1
}
fd4=$(inherited_fd v4)
fdu=$(inherited_fd unix)
[ "$fdu" = 3 ] || bad "[unix] did not get FD=3 (the Unix socket): '$fdu'"
[ "$fd4" = "$((n + 2))" ] || bad "[v4] did not get FD=$((n + 2)) (the IPv4 socket): '$fd4'"
grep -q "LOG6\[ui\]: Service \[v4\] (FD=$fd4) bound to $a4\$" "$out" || bad "[v4] bound line"
grep -q "LOG6\[ui\]: Service \[unix\] (FD=3) bound to localhost:$unix\$" "$out" || bad "[unix] bound line"
if [ -n "$v6" ]; then
    [ "$(inherited_fd v6)" = 4 ] || bad "[v6] did not get FD=4 (the IPv6 socket)"
    grep -q "LOG6\[ui\]: Service \[v6\] (FD=4) bound to $a6\$" "$out" || bad "[v6] bound line"
fi
sed -n '/Binding service \[own\]$/{n;p}' "$out" | grep -q 'Listening file descriptor created' ||
    bad "[own] did not bind its own socket"
[ "$(grep -c 'Listening file descriptor created' "$out")" = 1 ] ||
    bad "a socket was created for an inherited address"
own=$(lib_port d1 own)
say v4 -connect "$a4"
[ -n "$v6" ] && say v6 -connect "[::1]:${a6##*:}"
say unix -unix "$unix"
say own -connect "127.0.0.1:$own"

# reload, same file: every listener kept
kill -HUP "$pid"
lib_wait_for "$out" "LOG6\[ui\]: Service \[v4\] \(FD=$fd4\) bound to $a4\$" 5
for ((i = 0; i < 100; i++)); do
    [ "$(grep -c "Service \[v4\] (FD=$fd4) bound to" "$out")" -ge 2 ] && break
    sleep 0.05
done
[ "$(grep -c "Service \[v4\] (FD=$fd4) bound to" "$out")" = 2 ] || bad "reload: [v4] not kept on FD=$fd4"
[ "$(grep -c 'Listening file descriptor created' "$out")" = 1 ] || bad "reload: a socket was created again"
say v4-reloaded -connect "$a4"
say unix-reloaded -unix "$unix"

# reload without [v4]: its socket stays open, unused; then back
mapfile -t fewer < <(printf '%s\n' "${services[@]}" | grep -vx v4)
write_conf "${fewer[@]}"
kill -HUP "$pid"
lib_wait_for "$out" "LOG4\[ui\]: No service accepts on $a4, the address of the socket received from systemd \(FD=$fd4\)\$" 5 ||
    bad "reload without [v4]: no warning for its socket"
grep -q "Service \[v4\] closed (FD=$fd4)" "$out" || bad "reload without [v4]: no 'Service [v4] closed (FD=$fd4)'"
[ -e "/proc/$pid/fd/$fd4" ] || bad "reload without [v4]: its inherited socket was closed"
write_conf "${services[@]}"
kill -HUP "$pid"
for ((i = 0; i < 100; i++)); do
    [ "$(grep -c "Service \[v4\] (FD=$fd4) bound to" "$out")" -ge 3 ] && break
    sleep 0.05
done
[ "$(grep -c "Service \[v4\] (FD=$fd4) bound to" "$out")" = 3 ] || bad "reload with [v4] again: not on FD=$fd4"
say v4-back -connect "$a4"
say unix-after-reloads -unix "$unix"
kill "$pid"
wait "$pid" 2>/dev/null
[ -S "$unix" ] || bad "the inherited Unix socket's file was removed"
grep -q 'Socket removed' "$out" && bad "a Unix socket was removed: $(grep 'Socket removed' "$out")"

# --- an inherited socket nobody accepts on ------------------------------
rm -f "$usock"
activate d2 127.0.0.1:0 127.0.0.1:0
a4=$ADDR_1 extra=$ADDR_2
write_conf v4
go d2
wait "$LIB_PID"
rc=$?
[ "$rc" = 1 ] || bad "unmatched inherited socket: exit status $rc, not 1"
grep -q "No service accepts on $extra, the address of the socket received from systemd (FD=4)\$" "$TEST_TMP/d2.out" ||
    { bad "unmatched inherited socket: no message"; cat "$TEST_TMP/d2.out"; }
grep -q 'Accepting new connections' "$TEST_TMP/d2.out" && bad "unmatched inherited socket: the daemon started"

# --- LISTEN_PID names another process: not ours -------------------------
OTHER=1 activate d3 127.0.0.1:0
a4=$ADDR_1
write_conf v4
go d3
wait "$LIB_PID"
grep -q "Binding service \[v4\] to $a4: Address already in use" "$TEST_TMP/d3.out" ||
    { bad "LISTEN_PID of another process: the sockets were used"; cat "$TEST_TMP/d3.out"; }
grep -q 'Systemd socket activation' "$TEST_TMP/d3.out" && bad "LISTEN_PID of another process: sockets announced"

# --- systemd's own launcher ----------------------------------------------
if command -v systemd-socket-activate >/dev/null 2>&1; then
    port=$(lib_free_port)
    a4=127.0.0.1:$port
    write_conf v4
    lib_bg d4 systemd-socket-activate -l "$a4" "$STUNNEL" "$conf"
    lib_wait_for "$TEST_TMP/d4.out" "Listening on $a4" 10 || bad "systemd-socket-activate did not start"
    say systemd-socket-activate -connect "$a4"
    grep -q "Service \[v4\] (FD=3) bound to $a4\$" "$TEST_TMP/d4.out" ||
        { bad "under systemd-socket-activate: [v4] not on FD=3"; cat "$TEST_TMP/d4.out"; }
else
    echo "note: systemd-socket-activate not installed, its case skipped"
fi
exit $fail
