#!/bin/bash
# systemd readiness notification: a listener on a Unix datagram socket
# named by NOTIFY_SOCKET (as systemd's) records every message:
#  - foreground: "READY=1 | STATUS=Accepting new connections | MAINPID=PID"
#    once, PID the daemon's;
#  - SIGHUP with a good file: "RELOADING=1 | MONOTONIC_USEC=N", then
#    "READY=1 | STATUS=Configuration reloaded | MAINPID=PID";
#  - SIGHUP with a broken file: RELOADING=1, then "READY=1 | STATUS=Reload
#    failed: old configuration kept | ..."; the daemon still serves;
#  - SIGTERM: "STOPPING=1";
#  - detached (no "foreground"): READY=1 comes from the daemon, MAINPID is
#    the pid in its pid file, not the launcher's; with a chroot (the
#    socket outside it) and setuid, the reload and stop messages still
#    arrive;
#  - an abstract socket ("@name") works too;
#  - an exec'd program (through a connection process) sees neither
#    NOTIFY_SOCKET nor LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES;
#  - without NOTIFY_SOCKET nothing is sent (nothing logged).
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
conf="$TEST_TMP/s.conf"

# a detached daemon is nobody's child: stop it by its pid file at exit
PIDFILES=()
stop_detached() {
    local f p
    for f in "${PIDFILES[@]}"; do
        p=$(cat "$f" 2>/dev/null) && [[ $p =~ ^[0-9]+$ ]] &&
            grep -qF "$conf" "/proc/$p/cmdline" 2>/dev/null && kill "$p"
    done
    lib_cleanup
}
trap stop_detached EXIT

# listener NAME SOCKET: record the datagrams sent to SOCKET, one a line
listener() {
    local i
    lib_bg "$1" $PEERS syslog "$2" --oneline --timeout 60
    for ((i = 0; i < 200; i++)); do
        if [[ $2 == @* ]]; then
            grep -q "@${2#@}\$" /proc/net/unix && return
        else
            [ -S "$2" ] && return
        fi
        sleep 0.05
    done
    echo "listener on $2 did not start"; exit 1
}

write_conf() {  # GLOBAL-LINES...
    {
        printf 'syslog = no\ndebug = debug\n'
        printf '%s\n' "$@"
        printf '[env]\naccept = 127.0.0.1:0\nexec = /usr/bin/env\ncert = %s\n' \
            "$TEST_TMP/certs/server.pem"
    } >"$conf"
}

# env_seen NAME PORT: what the exec'd program's environment shows of the
# systemd variables (empty if none), through a TLS connection
env_seen() {
    $PEERS read "$2" --tls --timeout 10 >"$TEST_TMP/$1.env" 2>&1
    grep -q '^PATH=' "$TEST_TMP/$1.env" || { bad "$1: no environment read"; cat "$TEST_TMP/$1.env"; }
    grep -E '^(NOTIFY_SOCKET|LISTEN_FDS|LISTEN_PID|LISTEN_FDNAMES)=' "$TEST_TMP/$1.env"
}

# --- foreground: start, reload (good, broken), stop --------------------
sock="$TEST_TMP/notify.sock"
listener n1 "$sock"
write_conf 'foreground = yes'
NOTIFY_SOCKET=$sock LISTEN_FDS=2 LISTEN_PID=1 LISTEN_FDNAMES=a:b \
    lib_daemon d1 "$conf" || exit 1
pid=$LIB_PID
lib_wait_for "$TEST_TMP/n1.out" '^READY=1' 5 || bad "no READY=1 at start"
[ "$(head -n 1 "$TEST_TMP/n1.out")" = "READY=1 | STATUS=Accepting new connections | MAINPID=$pid" ] ||
    bad "start: '$(head -n 1 "$TEST_TMP/n1.out")', not READY=1 with MAINPID=$pid"
grep -q "LOG7\[ui\]: Notifying systemd: READY=1 STATUS=Accepting new connections MAINPID=$pid\$" \
    "$TEST_TMP/d1.out" || bad "the READY=1 sent is not logged at debug level"
seen=$(env_seen fg "$(lib_port d1 env)")
[ -z "$seen" ] || bad "the exec'd program sees: $seen"

kill -HUP "$pid"
lib_wait_for "$TEST_TMP/n1.out" 'STATUS=Configuration reloaded' 5 || bad "no READY=1 after a reload"
sed -n 2p "$TEST_TMP/n1.out" | grep -Eq '^RELOADING=1 \| MONOTONIC_USEC=[0-9]+$' ||
    bad "reload: '$(sed -n 2p "$TEST_TMP/n1.out")', not RELOADING=1 with MONOTONIC_USEC="
[ "$(sed -n 3p "$TEST_TMP/n1.out")" = "READY=1 | STATUS=Configuration reloaded | MAINPID=$pid" ] ||
    bad "after a reload: '$(sed -n 3p "$TEST_TMP/n1.out")'"
usec=$(sed -n 's/^RELOADING=1 | MONOTONIC_USEC=//p' "$TEST_TMP/n1.out")
read -r up _ </proc/uptime
now=$((${up%.*} * 1000000))
# CLOCK_MONOTONIC and the uptime agree but for suspended time: a bound
[ -n "$usec" ] && [ "$usec" -le "$((now + 1000000))" ] && [ "$usec" -ge "$((now - 60000000))" ] ||
    bad "MONOTONIC_USEC=$usec is not the monotonic clock (uptime ${now}us)"

cp "$conf" "$conf.good"
printf 'foreground = yes\n[broken]\nbogus = 1\n' >"$conf"
kill -HUP "$pid"
lib_wait_for "$TEST_TMP/n1.out" 'STATUS=Reload failed' 5 || bad "no READY=1 after a failed reload"
sed -n 4p "$TEST_TMP/n1.out" | grep -Eq '^RELOADING=1 \| MONOTONIC_USEC=[0-9]+$' ||
    bad "broken reload: '$(sed -n 4p "$TEST_TMP/n1.out")', not RELOADING=1"
[ "$(sed -n 5p "$TEST_TMP/n1.out")" = "READY=1 | STATUS=Reload failed: old configuration kept | MAINPID=$pid" ] ||
    bad "after a failed reload: '$(sed -n 5p "$TEST_TMP/n1.out")'"
seen=$(env_seen fg2 "$(lib_port d1 env)")   # still serving, still clean
[ -z "$seen" ] || bad "the exec'd program sees: $seen"
cp "$conf.good" "$conf"

kill "$pid"
lib_wait_for "$TEST_TMP/n1.out" '^STOPPING=1$' 5 || bad "no STOPPING=1 at SIGTERM"
wait "$pid" 2>/dev/null
[ "$(wc -l <"$TEST_TMP/n1.out")" = 6 ] || { bad "foreground: not 6 messages"; cat "$TEST_TMP/n1.out"; }

# --- detached, in a chroot, setuid -----------------------------------
jail="$TEST_TMP/jail"
mkdir -p "$jail"
chmod 755 "$TEST_TMP"
chmod 1777 "$jail"   # the pid and log files are made as the final user
sock2="$TEST_TMP/notify2.sock"
listener n2 "$sock2"
pidfile="$jail/s.pid"
PIDFILES+=("$pidfile")
extra=('foreground = no' "chroot = $jail" 'pid = /s.pid' 'output = /s.log')
id nobody >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && extra+=('setuid = nobody' 'setgid = nogroup')
write_conf "${extra[@]}"
NOTIFY_SOCKET=$sock2 "$STUNNEL" "$conf" >"$TEST_TMP/d2.out" 2>&1 &
launcher=$!
wait "$launcher" || bad "the detaching launcher exited with $?"
lib_wait_for "$TEST_TMP/n2.out" '^READY=1' 5 || bad "detached: no READY=1"
dpid=$(cat "$pidfile" 2>/dev/null)
[ -n "$dpid" ] && [ "$dpid" != "$launcher" ] || bad "detached: pid file '$dpid'"
# the launcher names the daemon (MAINPID= alone) before it exits; then
# the daemon's own messages
n2() { grep -v '^MAINPID=' "$TEST_TMP/n2.out" | sed -n "$1p"; }
[ "$(head -n 1 "$TEST_TMP/n2.out")" = "MAINPID=$dpid" ] ||
    bad "detached: the launcher said '$(head -n 1 "$TEST_TMP/n2.out")', not MAINPID=$dpid"
[ "$(n2 1)" = "READY=1 | STATUS=Accepting new connections | MAINPID=$dpid" ] ||
    bad "detached: '$(n2 1)', not MAINPID=$dpid (launcher $launcher)"
# the file is outside the jail: the reload fails, and says so
kill -HUP "$dpid"
lib_wait_for "$TEST_TMP/n2.out" "^READY=1 \| STATUS=Reload failed: old configuration kept \| MAINPID=$dpid\$" 5 ||
    bad "detached (chroot, setuid): no READY=1 after a reload"
n2 2 | grep -q '^RELOADING=1 ' || bad "detached: no RELOADING=1"
kill "$dpid"
lib_wait_for "$TEST_TMP/n2.out" '^STOPPING=1$' 5 || bad "detached: no STOPPING=1"
for ((i = 0; i < 100; i++)); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$dpid" 2>/dev/null && { bad "detached (chroot): still running 5 s after SIGTERM"; kill -9 "$dpid"; }
grep -q "Notifying systemd: STOPPING=1" "$jail/s.log" || bad "detached: STOPPING=1 not logged"

# --- an abstract socket --------------------------------------------------
asock="@stunnel-test-notify-$$"
listener n3 "$asock"
write_conf 'foreground = yes'
NOTIFY_SOCKET=$asock lib_daemon d3 "$conf" || exit 1
lib_wait_for "$TEST_TMP/n3.out" "^READY=1 .* MAINPID=$LIB_PID\$" 5 || bad "abstract socket: no READY=1"
kill "$LIB_PID"
lib_wait_for "$TEST_TMP/n3.out" '^STOPPING=1$' 5 || bad "abstract socket: no STOPPING=1"

# --- no NOTIFY_SOCKET: nothing sent, nothing said ----------------------
write_conf 'foreground = yes'
lib_daemon d4 "$conf" || exit 1
kill -HUP "$LIB_PID"
for ((i = 0; i < 100; i++)); do
    [ "$(grep -c 'Configuration successful' "$TEST_TMP/d4.out")" -ge 2 ] && break
    sleep 0.05
done
kill "$LIB_PID"
wait "$LIB_PID" 2>/dev/null
! grep -q 'systemd\|NOTIFY' "$TEST_TMP/d4.out" || bad "without NOTIFY_SOCKET: $(grep 'systemd\|NOTIFY' "$TEST_TMP/d4.out")"
exit $fail
