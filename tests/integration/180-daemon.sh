#!/bin/bash
# Daemon life cycle, checked from outside the process:
#  - without "foreground" the command returns at once with status 0 and
#    nothing on stdout/stderr; the daemon (pid from "pid = FILE") is alive,
#    re-parented (to 1 or a subreaper), a session leader, has /dev/null as
#    stdin/stdout/stderr and / as working directory, logs as [main] and
#    serves connections;
#  - SIGUSR1 reopens the log file (moved away first): a new file appears
#    with "Log file reopened";
#  - SIGTERM with a connection open: the connection process goes too (and
#    the spare forked ahead), the pid file is removed, "Terminated",
#    "Terminating service processes", "Service processes terminated" (and
#    no closing line for the killed connection);
#  - "pid =" (empty, after a "pid = FILE") writes no pid file;
#  - "chroot = JAIL": /proc/PID/root and cwd are the jail, "pid = /NAME"
#    and "output = /NAME" land inside the jail, connections still work;
#  - "setuid = nobody", "setgid = nogroup" (root only): Uid/Gid in
#    /proc/PID/status, supplementary groups reduced to nogroup (stunnel
#    calls setgroups(1, {gid})), log and pid files created
#    as nobody, connections still work (ports were bound before), and
#    SIGUSR1 can still reopen the log;
#  - a pid file that the setuid user cannot create: the command fails
#    with status 1 and leaves no daemon (stunnel returns 0 and its daemon
#    dies).
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
CA="$TEST_TMP/certs/ca.pem"
CONFS=()

# daemon_pids CONF: pids of the processes whose command line ends in
# CONF, a path unique to this run (the daemon and its connection
# processes, also when STUNNEL is a wrapper; not its spares, which
# lib_children lists)
daemon_pids() {
    local f p args
    for f in /proc/[0-9]*/cmdline; do
        { mapfile -d '' -t args <"$f"; } 2>/dev/null || continue
        [ "${#args[@]}" -ge 2 ] && [ "${args[-1]}" = "$1" ] || continue
        p=${f#/proc/}
        p=${p%/cmdline}
        lib_is_spare "$p" || echo "$p"
    done
}

# stop every detached daemon this script started (at exit): the pids in
# their pid files and whatever still runs one of our configurations
PIDFILES=()
stop_daemons() {
    local c f p pids=() i
    for f in "${PIDFILES[@]}"; do
        p=$(cat "$f" 2>/dev/null) && [[ $p =~ ^[0-9]+$ ]] || continue
        for c in "${CONFS[@]}"; do  # a stale file may name a stranger
            daemon_pids "$c" | grep -qx "$p" && pids+=("$p")
        done
    done
    for c in "${CONFS[@]}"; do
        mapfile -t -O "${#pids[@]}" pids < <(daemon_pids "$c")
    done
    [ "${#pids[@]}" -gt 0 ] || return 0
    kill "${pids[@]}" 2>/dev/null
    for ((i = 0; i < 40; i++)); do
        for p in "${pids[@]}"; do alive "$p" && break; done
        alive "$p" || return 0
        sleep 0.05
    done
    kill -KILL "${pids[@]}" 2>/dev/null
}
cleanup() {
    stop_daemons
    lib_cleanup
}
trap cleanup EXIT

# alive PID: the process exists and is not a zombie
alive() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    [ "${s%% *}" != Z ]
}

# stat_field PID N: field N of /proc/PID/stat counted after the command
# name (1 state, 2 parent, 3 process group, 4 session)
stat_field() {
    local s a
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    read -r -a a <<<"${s##*) }"
    echo "${a[$(($2 - 1))]}"
}

# wait_gone PID [SECONDS]
wait_gone() {
    local i
    for ((i = 0; i < ${2:-5} * 20; i++)); do
        alive "$1" || return 0
        sleep 0.05
    done
    return 1
}

# launch NAME CONF: run the daemon as a user would; LAUNCH_RC is its
# status (or "running" if it did not return within 5 s), LAUNCH_MS the time
launch() {
    local name=$1 conf=$2 t0 lpid i
    CONFS+=("$conf")
    t0=$(date +%s%N)
    "$STUNNEL" "$conf" </dev/null >"$TEST_TMP/$name.launch" 2>&1 &
    lpid=$!
    LAUNCH_PID=$lpid
    for ((i = 0; i < 100; i++)); do
        kill -0 $lpid 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 $lpid 2>/dev/null; then
        LAUNCH_RC=running
        LIB_PIDS+=("$lpid")
    else
        wait $lpid
        LAUNCH_RC=$?
    fi
    LAUNCH_MS=$((($(date +%s%N) - t0) / 1000000))
}

# conf NAME GLOBAL-LINES...: a daemon-mode configuration with one server
# section [s] in front of the echo server
conf() {
    local name=$1; shift
    {
        printf '%s\n' "syslog = no" "debug = info" "$@"
        printf '[s]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\ncert = %s\n' \
            "$ECHO_PORT" "$TEST_TMP/certs/server.pem"
    } >"$TEST_TMP/$name.conf"
}

# port LOG: the port of [s] in log file LOG
port() {
    sed -n 's/.*Service \[s\] (FD=[0-9]*) bound to .*:\([0-9]*\)$/\1/p' "$1" | head -n 1
}

lib_peer echo echo || exit 1
ECHO_PORT=$PEER_PORT

# ---- detaching --------------------------------------------------------------
log="$TEST_TMP/d1.log"
conf d1 "output = $log" "pid = $TEST_TMP/d1.pid"
PIDFILES+=("$TEST_TMP/d1.pid")
launch d1 "$TEST_TMP/d1.conf"
[ "$LAUNCH_RC" = 0 ] || bad "detach: the command returned '$LAUNCH_RC', expected 0 at once"
[ "$LAUNCH_MS" -lt 3000 ] || bad "detach: the command took $LAUNCH_MS ms to return"
[ -s "$TEST_TMP/d1.launch" ] && bad "detach: output on the terminal: $(head -3 "$TEST_TMP/d1.launch")"
lib_wait_for "$TEST_TMP/d1.pid" '^[0-9]+$' 5 || bad "detach: no pid file"
P=$(cat "$TEST_TMP/d1.pid" 2>/dev/null)
if [ -z "$P" ] || ! alive "$P"; then
    bad "detach: the pid in the pid file ('$P') is not running"; sed 's/^/    /' "$log"
    exit 1
fi
[ "$(daemon_pids "$TEST_TMP/d1.conf")" = "$P" ] || bad "detach: pid file says $P, running: $(daemon_pids "$TEST_TMP/d1.conf" | tr '\n' ' ')"
[ "$P" != "$LAUNCH_PID" ] || bad "detach: the daemon is the process that was started (no fork)"
pp=$(stat_field "$P" 2)
ancestors=" 1 "
a=$$
while [ -n "$a" ] && [ "$a" != 0 ] && [ "$a" != 1 ]; do
    a=$(stat_field "$a" 2) || break
    ancestors+="$a "
done
case $ancestors in
    *" $pp "*) ;;
    *) bad "detach: parent is $pp, expected 1 or a subreaper (one of:$ancestors)" ;;
esac
[ "$pp" = $$ ] && bad "detach: still a child of the shell"
[ "$(stat_field "$P" 4)" = "$P" ] || bad "detach: not a session leader (session $(stat_field "$P" 4))"
for fd in 0 1 2; do
    t=$(readlink "/proc/$P/fd/$fd")
    [ "$t" = /dev/null ] || bad "detach: fd $fd is '$t', expected /dev/null"
done
t=$(readlink "/proc/$P/cwd")
[ "$t" = / ] || bad "detach: working directory '$t', expected /"
lib_wait_for "$log" 'Accepting new connections' 5
grep -Eq 'LOG5\[ui\]: Configuration successful$' "$log" || bad "detach: no '[ui] Configuration successful' in the log"
grep -Eq 'LOG6\[main\]: Accepting new connections$' "$log" || bad "detach: no 'LOG6[main]: Accepting new connections' (ids after daemon())"
PORT=$(port "$log")
[ -n "$PORT" ] || bad "detach: no bound port in the log"
lib_through "$PORT" --tls --ca "$CA" ||
    bad "detach: no echo through the daemon (got '$THROUGH_COUNT')"

# ---- SIGUSR1 ----------------------------------------------------------------
mv "$log" "$log.old"
kill -USR1 "$P"
lib_wait_for "$log" 'Log file reopened' 5 || bad "SIGUSR1: no new log file with 'Log file reopened'"
grep -Eq 'LOG5\[main\]: Log file reopened$' "$log" 2>/dev/null || bad "SIGUSR1: no 'LOG5[main]: Log file reopened'"
grep -q 'Log file reopened' "$log.old" && bad "SIGUSR1: 'Log file reopened' went to the old file"
lib_through "$PORT" --tls --ca "$CA" ||
    bad "after SIGUSR1: no echo through the daemon (got '$THROUGH_COUNT')"
alive "$P" || bad "SIGUSR1: the daemon died"

# ---- SIGTERM with a connection open -----------------------------------------
for ((i = 0; i < 100; i++)); do  # the earlier connections are over
    [ -z "$(lib_children "$P")" ] && break
    sleep 0.05
done
lib_bg hold $PEERS hold "$PORT" --tls --ca "$CA" --timeout 20
lib_wait_for "$TEST_TMP/hold.out" '^(held|no echo)' 10
grep -qx held "$TEST_TMP/hold.out" || bad "SIGTERM: the held connection did not work: $(cat "$TEST_TMP/hold.out")"
kids=$(lib_children "$P")
[ "$(wc -w <<<"$kids")" = 1 ] || bad "SIGTERM: expected one connection process, found: '$kids'"
spares=$(lib_children "$P" spares)
before=$(grep -c 'Connection \(closed\|reset\)' "$log")
kill -TERM "$P"
wait_gone "$P" 5 || bad "SIGTERM: the daemon is still running"
for k in $kids; do
    wait_gone "$k" 2 || bad "SIGTERM: connection process $k still running"
done
for k in $spares; do
    wait_gone "$k" 2 || bad "SIGTERM: spare process $k still running"
done
lib_wait_for "$TEST_TMP/hold.out" '^eof' 5 || bad "SIGTERM: the client's connection was not closed"
[ -e "$TEST_TMP/d1.pid" ] && bad "SIGTERM: the pid file was not removed"
t=$(grep -nE 'LOG5\[main\]: Terminated$' "$log" | cut -d: -f1)
t1=$(grep -nE 'LOG5\[main\]: Terminating service processes$' "$log" | cut -d: -f1)
t2=$(grep -nE 'LOG5\[main\]: Service processes terminated$' "$log" | cut -d: -f1)
if [ -z "$t" ] || [ -z "$t1" ] || [ -z "$t2" ] || [ "$t" -gt "$t1" ] || [ "$t1" -gt "$t2" ]; then
    bad "SIGTERM: expected 'Terminated', 'Terminating service processes', 'Service processes terminated' in that order"
    sed 's/^/    /' "$log"
fi
[ "$(grep -c 'Connection \(closed\|reset\)' "$log")" = "$before" ] ||
    bad "SIGTERM: the killed connection wrote a closing line: $(grep 'Connection \(closed\|reset\)' "$log" | tail -1)"

# ---- "pid =" (empty) ----------------------------------------------------------
log="$TEST_TMP/d2.log"
conf d2 "output = $log" "pid = $TEST_TMP/d2.pid" "pid =" "debug = debug"
launch d2 "$TEST_TMP/d2.conf"
[ "$LAUNCH_RC" = 0 ] || bad "pid =: the command returned '$LAUNCH_RC'"
lib_wait_for "$log" 'Accepting new connections' 5 || bad "pid =: the daemon did not start"
P=$(daemon_pids "$TEST_TMP/d2.conf")
[ "$(wc -w <<<"$P")" = 1 ] || bad "pid =: expected one daemon process, found '$P'"
[ -e "$TEST_TMP/d2.pid" ] && bad "pid =: a pid file was written"
grep -Eq 'LOG7\[(ui|main)\]: No pid file being created$' "$log" || bad "pid =: no 'No pid file being created'"
lib_through "$(port "$log")" --tls --ca "$CA" ||
    bad "pid =: no echo through the daemon (got '$THROUGH_COUNT')"
for p in $P; do
    kill -TERM "$p"
    wait_gone "$p" 5 || bad "pid =: the daemon did not end on SIGTERM"
done
grep -Eq 'LOG7\[main\]: No pid file to remove$' "$log" || bad "pid =: no 'No pid file to remove'"

# ---- chroot -----------------------------------------------------------------
JAIL="$TEST_TMP/jail"
mkdir -p "$JAIL"
JAIL=$(cd "$JAIL" && pwd -P)
inner="stunnel-test-$$"
conf d3 "chroot = $JAIL" "pid = /$inner.pid" "output = /$inner.log"
PIDFILES+=("$JAIL/$inner.pid" "/$inner.pid")
# LeakSanitizer needs /proc, which a jail lacks: it would stall the exit
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" launch d3 "$TEST_TMP/d3.conf"
[ "$LAUNCH_RC" = 0 ] || bad "chroot: the command returned '$LAUNCH_RC': $(head -5 "$TEST_TMP/d3.launch")"
log="$JAIL/$inner.log"
lib_wait_for "$JAIL/$inner.pid" '^[0-9]+$' 5 || bad "chroot: no pid file JAIL/$inner.pid"
for f in "/$inner.pid" "/$inner.log"; do
    [ -e "$f" ] && { bad "chroot: $f created outside the jail"; rm -f "$f"; }
done
P=$(cat "$JAIL/$inner.pid" 2>/dev/null)
if [ -n "$P" ] && alive "$P"; then
    t=$(readlink "/proc/$P/root")
    [ "$t" = "$JAIL" ] || bad "chroot: root directory '$t', expected $JAIL"
    t=$(readlink "/proc/$P/cwd")
    [ "$t" = "$JAIL" ] || bad "chroot: working directory '$t', expected the jail's /"
    lib_wait_for "$log" 'Accepting new connections' 5 || bad "chroot: no log file JAIL/$inner.log"
    grep -Eq "LOG5\[ui\]: Switched to chroot directory: $JAIL\$" "$log" ||
        bad "chroot: no 'Switched to chroot directory: $JAIL'"
    lib_through "$(port "$log")" --tls --ca "$CA" ||
        bad "chroot: no echo through the daemon (got '$THROUGH_COUNT')"
    kill -TERM "$P"
    wait_gone "$P" 5 || bad "chroot: the daemon did not end on SIGTERM"
    [ -e "$JAIL/$inner.pid" ] && bad "chroot: the pid file was not removed from the jail"
else
    bad "chroot: no running daemon (pid '$P')"; cat "$TEST_TMP/d3.launch" "$log" 2>/dev/null | sed 's/^/    /'
fi

# ---- setuid / setgid ----------------------------------------------------------
if [ "$(id -u)" != 0 ]; then
    echo "note: setuid/setgid not checked: not root"
elif ! getent passwd nobody >/dev/null || ! getent group nogroup >/dev/null; then
    echo "note: setuid/setgid not checked: no user nobody or group nogroup"
else
    NUID=$(id -u nobody)
    NGID=$(getent group nogroup | cut -d: -f3)
    chmod 755 "$TEST_TMP"
    PRIV="$TEST_TMP/priv"
    mkdir -p "$PRIV"
    chmod 777 "$PRIV"
    log="$PRIV/d4.log"
    conf d4 "output = $log" "pid = $PRIV/d4.pid" "setuid = nobody" "setgid = nogroup"
    PIDFILES+=("$PRIV/d4.pid")
    launch d4 "$TEST_TMP/d4.conf"
    [ "$LAUNCH_RC" = 0 ] || bad "setuid: the command returned '$LAUNCH_RC': $(head -5 "$TEST_TMP/d4.launch")"
    lib_wait_for "$PRIV/d4.pid" '^[0-9]+$' 5 || bad "setuid: no pid file"
    P=$(cat "$PRIV/d4.pid" 2>/dev/null)
    if [ -n "$P" ] && alive "$P"; then
        st=$(cat "/proc/$P/status")
        [ "$(awk '/^Uid:/ {print $2, $3, $4, $5}' <<<"$st")" = "$NUID $NUID $NUID $NUID" ] ||
            bad "setuid: $(grep '^Uid:' <<<"$st"), expected $NUID everywhere"
        [ "$(awk '/^Gid:/ {print $2, $3, $4, $5}' <<<"$st")" = "$NGID $NGID $NGID $NGID" ] ||
            bad "setgid: $(grep '^Gid:' <<<"$st"), expected $NGID everywhere"
        # stunnel calls setgroups(1, {gid}): the group list is just nogroup
        [ "$(awk '/^Groups:/ {$1 = ""; print}' <<<"$st" | tr -d ' \t')" = "$NGID" ] ||
            bad "setgid: $(grep '^Groups:' <<<"$st"), expected only $NGID"
        [ "$(stat -c %u "$PRIV/d4.pid")" = "$NUID" ] || bad "setuid: pid file owned by uid $(stat -c %u "$PRIV/d4.pid"), expected nobody"
        [ "$(stat -c %u "$log")" = "$NUID" ] || bad "setuid: log file owned by uid $(stat -c %u "$log"), expected nobody (opened after the drop)"
        lib_through "$(port "$log")" --tls --ca "$CA" ||
            bad "setuid: no echo through the daemon (got '$THROUGH_COUNT')"
        mv "$log" "$log.old"
        kill -USR1 "$P"
        lib_wait_for "$log" 'Log file reopened' 5 || bad "setuid: SIGUSR1 did not reopen the log as nobody"
        kill -TERM "$P"
        wait_gone "$P" 5 || bad "setuid: the daemon did not end on SIGTERM"
        [ -e "$PRIV/d4.pid" ] && bad "setuid: the pid file was not removed"
    else
        bad "setuid: no running daemon (pid '$P')"; cat "$TEST_TMP/d4.launch" "$log" 2>/dev/null | sed 's/^/    /'
    fi

    # the manual's first example: a pid file in a directory only root may
    # write, after setuid. The launcher must fail (status 1, the path and
    # the reason logged) and leave no daemon behind
    ROOTDIR="$TEST_TMP/rootonly"
    mkdir -p "$ROOTDIR"
    chmod 755 "$ROOTDIR"
    log="$PRIV/d5.log"
    conf d5 "output = $log" "pid = $ROOTDIR/d5.pid" "setuid = nobody" "setgid = nogroup"
    launch d5 "$TEST_TMP/d5.conf"
    [ "$LAUNCH_RC" = 1 ] || bad "unwritable pid file: the command returned '$LAUNCH_RC', not 1"
    grep -q "LOG3\[ui\]: Cannot create pid file $ROOTDIR/d5.pid\$" "$log" &&
        grep -q 'LOG3\[ui\]: create: Permission denied (13)$' "$log" ||
        bad "unwritable pid file: no path and reason in the log: $(tail -3 "$log" 2>/dev/null)"
    sleep 0.3
    [ -z "$(daemon_pids "$TEST_TMP/d5.conf")" ] ||
        bad "unwritable pid file: a daemon is running: $(daemon_pids "$TEST_TMP/d5.conf")"
fi
exit $fail
