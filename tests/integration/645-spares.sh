#!/bin/bash
# 645-spares: connection processes forked ahead (spare.c), seen from
# outside.
#  (a) Once the daemon is idle it has "spares" processes (comm "NAME:
#      spare"): 1 by default, 3 with "spares = 3", none with "spares = 0".
#  (b) A connection is served by the spare that was waiting (the pid of
#      its "Process PID finished" line); five connections are five
#      processes; a spare holds no descriptor of the parent's: a
#      connection process has two sockets (its client and its backend),
#      as with "spares = 0".
#  (c) The spares say nothing: after "Accepting new connections" the
#      main process's lines are only those of stunnel's (accepted (FD=N),
#      SIGCHLD, waitpid, Process N finished, reload, terminate), and
#      there is no "Process" line (nor "Processing SIGCHLD") for a spare
#      that served nothing.
#  (d) A reload retires the spare forked with the old configuration: the
#      next connection reaches the new backend. A log reopen does too:
#      the next connection's lines are in the new file.
#  (e) SIGTERM ends the spares with the daemon.
#  (f) "spares = 65" and "spares = x": file:line, exit status 1.
#  (g) Verification decides the same through a spare and through a fork
#      ("spares = 0"): with verifyChain, a client without a certificate
#      and one with a certificate nobody trusts get nothing through, a
#      trusted client does; a spare served the first and a fork the other.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
T=$TEST_TMP
CA=$T/certs/ca.pem

# spares_of PID N: wait until PID has N spares (5 s); the list
spares_of() {
    local i s
    for ((i = 0; i < 100; i++)); do
        s=$(lib_children "$1" spares)
        [ "$(wc -w <<<"$s")" = "$2" ] && { echo "$s"; return 0; }
        sleep 0.05
    done
    echo "$s"
    return 1
}

# sockets PID: how many of PID's descriptors are sockets
sockets() {
    local f n=0
    for f in /proc/"$1"/fd/*; do
        [[ $(readlink "$f") == socket:* ]] && n=$((n + 1))
    done
    echo "$n"
}

# conf NAME BACKEND_PORT [GLOBAL_LINE...]
conf() {
    local name=$1 port=$2
    shift 2
    {
        printf 'foreground = yes\nsyslog = no\ndebug = debug\npid =\noutput = %s\n' "$T/$name.log"
        [ $# -eq 0 ] || printf '%s\n' "$@"
        lib_section s "$port" "cert = $T/certs/server.pem"
    } >"$T/$name.conf"
}

# hold_conn NAME PORT: a held connection through PORT; its client's pid
# in HELD (echo answered)
hold_conn() {
    touch "$T/$1.hold"
    lib_bg "$1" $PEERS hold "$2" --tls --ca "$CA" --while "$T/$1.hold" --timeout 20
    HELD=$LIB_PID
    lib_wait_for "$T/$1.out" '^(held|no echo)' 10
    grep -qx held "$T/$1.out"
}

lib_peer echo echo || exit 1
ECHO=$PEER_PORT

# ---- (a), (b), (c) ------------------------------------------------------------
conf d "$ECHO"
lib_daemon d "$T/d.conf" || exit 1
pid=$LIB_PID
port=$(lib_port d s)
spare=$(spares_of "$pid" 1) || bad "(a) no spare once idle: '$spare'"
comm=$(cat "/proc/$spare/comm" 2>/dev/null)
echo "spare $spare: comm '$comm'"
[ "$(lib_children "$pid")" = "" ] || bad "(a) a connection process with no connection"

hold_conn h1 "$port" || bad "(b) the held connection did not work: $(cat "$T/h1.out")"
conn=$(lib_children "$pid")
[ "$conn" = "$spare" ] || bad "(b) the connection process is '$conn', not the spare $spare"
n=$(sockets "$conn")
echo "connection process $conn: $n sockets, comm '$(cat "/proc/$conn/comm")'"
[ "$n" = 2 ] || bad "(b) the connection process has $n sockets, not 2: $(ls -l "/proc/$conn/fd")"
next=$(spares_of "$pid" 1) || bad "(a) no new spare while a connection is open"
rm "$T/h1.hold"
wait "$HELD"
lib_wait_for "$T/d.log" "Process $conn finished with code 0" 10 ||
    bad "(b) no 'Process $conn finished' line for the connection"

for i in 1 2 3 4; do
    lib_through "$port" --tls --ca "$CA" || bad "(b) connection $i failed (got '$THROUGH_COUNT')"
    spares_of "$pid" 1 >/dev/null
done
for ((i = 0; i < 100; i++)); do
    [ "$(grep -c 'Process [0-9]* finished' "$T/d.log")" -ge 5 ] && break
    sleep 0.05
done
pids=$(sed -n 's/.*Process \([0-9]*\) finished with code 0$/\1/p' "$T/d.log" | sort -u | wc -l)
[ "$pids" = 5 ] || bad "(b) 5 connections, $pids distinct processes: $(grep 'Process' "$T/d.log")"
grep -q "Process $next finished" "$T/d.log" ||
    bad "(b) the spare forked during the first connection ($next) did not serve the next one"

# ---- (d) reload and log reopen ------------------------------------------------
lib_peer banner banner "second backend" --close || exit 1
old=$(spares_of "$pid" 1)
conf d "$PEER_PORT"
kill -HUP "$pid"
lib_wait_for "$T/d.log" 'Configuration successful.*' 10
for ((i = 0; i < 100; i++)); do
    [ "$(grep -c 'Configuration successful' "$T/d.log")" -ge 2 ] && break
    sleep 0.05
done
for ((i = 0; i < 100; i++)); do
    [ -d "/proc/$old" ] || break
    sleep 0.05
done
[ -n "$old" ] && [ -d "/proc/$old" ] && bad "(d) the old configuration's spare $old is still there after the reload"
spares_of "$pid" 1 >/dev/null || bad "(d) no spare after the reload"
port=$(sed -n 's/.*Service \[s\] (FD=[0-9]*) bound to .*:\([0-9]*\)$/\1/p' "$T/d.log" | tail -n 1)
got=$($PEERS read "$port" --tls --ca "$CA" --timeout 10 2>/dev/null)
echo "after the reload: '$got'"
[[ $got == *"second backend"* ]] || bad "(d) after the reload the connection did not reach the new backend: '$got'"

spares_of "$pid" 1 >/dev/null
mv "$T/d.log" "$T/d.log.old"
kill -USR1 "$pid"
lib_wait_for "$T/d.log" 'Log file reopened' 10 || bad "(d) no 'Log file reopened'"
spares_of "$pid" 1 >/dev/null || bad "(d) no spare after the log reopen"
got=$($PEERS read "$port" --tls --ca "$CA" --timeout 10 2>/dev/null)
[[ $got == *"second backend"* ]] || bad "(d) after the log reopen: '$got'"
lib_wait_for "$T/d.log" 'Service \[s\] accepted connection from' 10 ||
    bad "(d) the connection after the log reopen did not log into the new file"
n=$(grep -c 'accepted connection from' "$T/d.log.old")
[ "$n" = 6 ] || bad "(d) $n connections in the old log file, 6 expected"

# ---- (e) and (c) ------------------------------------------------------------------
last=$(spares_of "$pid" 1)
kill -TERM "$pid"
wait "$pid"
for ((i = 0; i < 100; i++)); do
    [ -d "/proc/$last" ] || break
    sleep 0.05
done
[ -n "$last" ] && [ -d "/proc/$last" ] && bad "(e) the spare $last outlived the daemon"
cat "$T/d.log.old" "$T/d.log" >"$T/all.log"
allowed='Service \[s\] accepted \(FD=[0-9]+\) from |Processing SIGCHLD|Retrieving pid statuses with waitpid\(\)|Process [0-9]+ finished with code 0|Processing SIGNAL_|Initializing|Reading configuration|UTF-8 byte order|FIPS mode|Compression disabled|PRNG|random bytes|Configuration successful|Binding service|Listening file descriptor|Setting accept socket|Option SO_REUSEADDR|bound to|Service \[s\] closed|Unbinding|Clients allowed|Accepting new connections|Log file reopened|Terminat|Service processes terminated|pid file|Context|context|Certificate loaded|Private key|trusted certificates|OCSP|DH |ECDH|Ciphers|ciphersuites|TLS options|Session resumption|security level|Generate session ticket callback|stunnel 5|Compiled/running|Threading:'
odd=$(sed -n '/Accepting new connections/,$p' "$T/all.log" | grep -E 'LOG[0-9]\[(ui|main)\]' | grep -Ev "$allowed")
[ -z "$odd" ] || bad "(c) lines of the main process (or of a spare) that stunnel does not write: $odd"
n=$(grep -c 'Process [0-9]* ' "$T/all.log")
[ "$n" = 7 ] || bad "(c) 7 connections, $n 'Process' lines: $(grep 'Process [0-9]* ' "$T/all.log")"
# (a spare retired by the reload or the reopen is reaped without a word)
s=$(grep -c 'Processing SIGCHLD' "$T/all.log")
[ "$s" -le 7 ] || bad "(c) 7 connections, $s 'Processing SIGCHLD' lines"

# ---- (a) spares = 3, spares = 0 -------------------------------------------------
conf three "$ECHO" 'spares = 3'
lib_daemon three "$T/three.conf" || exit 1
three=$(spares_of "$LIB_PID" 3) || bad "(a) spares = 3: '$three'"
kill "$LIB_PID"
conf none "$ECHO" 'spares = 0'
lib_daemon none "$T/none.conf" || exit 1
pid=$LIB_PID
port=$(lib_port none s)
sleep 0.3
[ -z "$(lib_children "$pid" all)" ] || bad "(a) spares = 0: processes '$(lib_children "$pid" all)'"
hold_conn h2 "$port" || bad "spares = 0: the held connection did not work"
conn=$(lib_children "$pid")
n=$(sockets "$conn")
[ "$n" = 2 ] || bad "(b) spares = 0: the connection process has $n sockets"
rm "$T/h2.hold"
wait "$HELD"
kill "$pid"

# ---- (f) ----------------------------------------------------------------------------
for v in 65 x; do
    conf bad "$ECHO" "spares = $v"
    "$STUNNEL" "$T/bad.conf" >"$T/bad.out" 2>&1
    rc=$?
    [ "$rc" = 1 ] || bad "(f) spares = $v: exit status $rc"
    grep -q "$T/bad.conf:6: \"spares = $v\": Illegal number of spare processes" "$T/bad.out" ||
        bad "(f) spares = $v: $(cat "$T/bad.out")"
done
# ---- (g) ------------------------------------------------------------------------------
# verdict PORT CERT...: "pass" if 1000 bytes come back through PORT with
# the client certificate CERT (none if empty), else "refused"
verdict() {
    local port=$1
    shift
    if lib_through "$port" --tls --ca "$CA" "$@"; then echo pass; else echo refused; fi
}
for n in 1 0; do
    {
        printf 'foreground = yes\nsyslog = no\ndebug = debug\npid =\noutput = %s\nspares = %s\n' "$T/v$n.log" "$n"
        lib_section v "$ECHO" "cert = $T/certs/server.pem" "verifyChain = yes" "CAfile = $CA"
    } >"$T/v$n.conf"
    lib_daemon "v$n" "$T/v$n.conf" || exit 1
    pid=$LIB_PID
    port=$(lib_port "v$n" v)
    for who in none stranger client; do
        spares_of "$pid" "$n" >/dev/null || bad "(g) spares = $n: the spares are not there"
        served=$(lib_children "$pid" spares)
        case $who in
        none) got=$(verdict "$port") want=refused ;;
        stranger) got=$(verdict "$port" --cert "$T/certs/stranger.pem") want=refused ;;
        client) got=$(verdict "$port" --cert "$T/certs/client.pem") want=pass ;;
        esac
        [ "$got" = "$want" ] || bad "(g) spares = $n, client certificate $who: $got, expected $want"
        if [ "$n" = 1 ]; then
            lib_wait_for "$T/v$n.log" "Process $served finished" 10 ||
                bad "(g) the spare $served did not serve the client with certificate $who"
        fi
    done
    kill "$pid"
    wait "$pid" 2>/dev/null
done
grep -c 'CERT: Pre-verification error\|Peer did not return a certificate\|SSL_accept' "$T/v1.log" >/dev/null ||
    bad "(g) no verification failure logged through the spares"
exit $fail
