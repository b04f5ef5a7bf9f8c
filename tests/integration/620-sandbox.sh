#!/bin/bash
# The sandbox (src/sandbox.c): a connection process confines itself with
# seccomp, the parent never does.
#  (a) seen from outside while a connection is open: the connection
#      process has "Seccomp: 2" and "NoNewPrivs: 1" in /proc/PID/status
#      (two stacked filters where the kernel counts them), the parent has
#      neither (no more than this script); the debug lines name both stages; "sandbox = no" leaves
#      the connection process alone;
#  (b) exec = /bin/sh running a few commands (with and without a pty, on
#      which it runs stty): the program is not confined (its own status
#      says so), works, and the connection process is (the transfer's
#      filter only: the program starts after the handshake);
#  (c) client mode over TLS 1.2 (the server may renegotiate) keeps the
#      handshake's filter only;
#  (d) a forbidden call kills the process with SIGSYS and the parent logs
#      "Process PID terminated on SIGSYS", in the handshake and in the
#      transfer, and the daemon goes on serving; in inetd mode (no parent
#      daemon) the process that started it sees the SIGSYS;
#  (e) syslog: a syslog daemon restarted under a connection in its
#      transfer gets the rest of its lines (glibc reconnects to /dev/log),
#      and with no syslog daemon at all a connection still completes.
#
# How (d) makes the daemon call something forbidden: nothing in the
# daemon does so on its own (that is the point), and an exec'd program is
# not confined, so the test preloads a small shim (compiled here with cc)
# whose read() opens an AF_PACKET socket when the bytes it has just read
# contain "sandbox-trigger": in the handshake a client names that server
# (SNI is clear text in the ClientHello), in the transfer the echo server
# sends it back on the plain side. The same shim with "sandbox = no"
# completes the connection (status 0): the kill is the filter's doing.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
[ "$(uname -s)" = Linux ] || { echo "SKIP: seccomp is Linux only"; exit $SKIP; }
grep -q '^Seccomp:' /proc/self/status 2>/dev/null ||
    { echo "SKIP: this kernel has no seccomp"; exit $SKIP; }
command -v cc >/dev/null 2>&1 || { echo "SKIP: no C compiler for the shim"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
T=$TEST_TMP
CA=$T/certs/ca.pem

# status PID FIELD: a field of /proc/PID/status
status() {
    sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null
}

# child_of PID: the (first) child of PID, waited for
child_of() {
    local i c
    for ((i = 0; i < 200; i++)); do
        c=$(lib_children "$1" | head -n 1)
        [ -n "$c" ] && { echo "$c"; return 0; }
        sleep 0.05
    done
    return 1
}

# conn_id LOG SECTION: the id of SECTION's last connection
conn_id() {
    lib_conn_log "$1" "$2" | sed -n '1s/.*LOG[0-9]\[\([0-9]*\)\].*/\1/p'
}

# hold NAME PORT [OPTION...]: a client that has had its ping echoed,
# holding the connection until release NAME
hold() {
    local name=$1 port=$2
    shift 2
    touch "$T/$name.hold"
    lib_bg "$name" $PEERS hold "$port" --while "$T/$name.hold" "$@"
    lib_wait_for "$T/$name.out" '^(held|no echo)' 15 && grep -q '^held' "$T/$name.out" ||
        { bad "$name: the ping did not come back"; return 1; }
}

release() {
    rm -f "$T/$1.hold"
}

# what this script itself has (a container may confine everything)
BASE_SECCOMP=$(status $$ Seccomp)
BASE_NNP=$(status $$ NoNewPrivs)
BASE_FILTERS=$(status $$ Seccomp_filters)

# confined WHAT PID FILTERS: PID is confined by FILTERS more filters
confined() {
    [ "$(status "$2" Seccomp)" = 2 ] || bad "$1: Seccomp is '$(status "$2" Seccomp)', not 2"
    [ "$(status "$2" NoNewPrivs)" = 1 ] || bad "$1: NoNewPrivs is '$(status "$2" NoNewPrivs)', not 1"
    # the count is there since Linux 5.9
    if [ -n "$BASE_FILTERS" ]; then
        [ "$(status "$2" Seccomp_filters)" = $((BASE_FILTERS + $3)) ] ||
            bad "$1: $(status "$2" Seccomp_filters) filters, not $BASE_FILTERS + $3"
    fi
}

# unconfined WHAT PID: PID has no more than this script
unconfined() {
    [ "$(status "$2" Seccomp)" = "$BASE_SECCOMP" ] ||
        bad "$1: Seccomp is '$(status "$2" Seccomp)', not $BASE_SECCOMP"
    [ "$(status "$2" NoNewPrivs)" = "$BASE_NNP" ] ||
        bad "$1: NoNewPrivs is '$(status "$2" NoNewPrivs)', not $BASE_NNP"
    [ -z "$BASE_FILTERS" ] || [ "$(status "$2" Seccomp_filters)" = "$BASE_FILTERS" ] ||
        bad "$1: $(status "$2" Seccomp_filters) filters, not $BASE_FILTERS"
}

# finished LOG PID: the parent reaped PID, status 0
finished() {
    lib_wait_for "$1" "Process $2 (finished|terminated)" 10
    grep -Eq "LOG6\[ui\]: Process $2 finished with code 0\$" "$1"
}

lib_peer echo echo || exit 1
ECHO=$PEER_PORT
lib_peer techo echo --tls "$T/certs/server.pem" || exit 1
TECHO=$PEER_PORT

# the exec'd program: its own status, a few commands (stty on its pty),
# then it waits for $T/TAG.hold to go and says bye
cat >"$T/prog.sh" <<EOF
grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status >"$T/prog-\$1.status"
{ id -u; ls / | wc -l; (sh -c 'echo sub'); [ "\$1" = pty ] && { stty raw -echo; echo "stty \$?"; }; } \\
    >"$T/prog-\$1.tmp" 2>&1
mv "$T/prog-\$1.tmp" "$T/prog-\$1.out"
while [ -e "$T/\$1.hold" ]; do sleep 0.1; done
echo bye
EOF

cat >"$T/s.conf" <<EOF
foreground = yes
syslog = no
debug = debug
cert = $T/certs/server.pem
[tls]
accept = 127.0.0.1:0
connect = 127.0.0.1:$ECHO
[exec]
accept = 127.0.0.1:0
exec = /bin/sh
execArgs = sh $T/prog.sh nopty
[pty]
accept = 127.0.0.1:0
exec = /bin/sh
execArgs = sh $T/prog.sh pty
pty = yes
[client12]
client = yes
accept = 127.0.0.1:0
connect = 127.0.0.1:$TECHO
sslVersionMax = TLSv1.2
EOF
lib_daemon s "$T/s.conf" || exit 1
DPID=$LIB_PID
log=$T/s.out
$PEERS read "$(lib_port s tls)" --tls --send x --expect-bytes 1 --timeout 10 >/dev/null
lib_wait_for "$log" 'Seccomp filter (installed|not installed)' 10 ||
    { bad "no line about seccomp"; exit 1; }
if grep -q 'Seccomp filter not installed' "$log"; then
    echo "SKIP: the sandbox is off here: $(grep -o 'Seccomp filter not installed.*' "$log" | head -n 1)"
    exit $SKIP
fi

# ---- (a) the connection process, not the parent ---------------------------
hold ha "$(lib_port s tls)" --tls --ca "$CA" || exit 1
child=$(child_of "$DPID") || { bad "(a) no connection process"; exit 1; }
confined "(a) connection process" "$child" 2
unconfined "(a) parent" "$DPID"
release ha
finished "$log" "$child" || bad "(a) connection process $child not reaped with status 0"
id=$(conn_id "$log" tls)
grep -Eq "LOG7\[$id\]: Seccomp filter installed for the handshake \([0-9]+ rules\)\$" "$log" ||
    bad "(a) no 'Seccomp filter installed for the handshake (N rules)'"
grep -Eq "LOG7\[$id\]: Seccomp filter installed for the transfer \([0-9]+ rules\)\$" "$log" ||
    bad "(a) no 'Seccomp filter installed for the transfer (N rules)'"
grep -E 'LOG[0-6]\[.*Seccomp' "$log" && bad "(a) seccomp logged above debug level"

# ---- (b) exec: the program is free, the connection process is not --------
for svc in exec pty; do
    case $svc in exec) tag=nopty ;; *) tag=pty ;; esac
    touch "$T/$tag.hold"
    lib_bg "r$svc" $PEERS read "$(lib_port s $svc)" --tls --ca "$CA" --timeout 20
    lib_wait_for "$T/prog-$tag.out" . 15 || { bad "($svc) the program did not run"; continue; }
    child=$(child_of "$DPID") || { bad "($svc) no connection process"; continue; }
    prog=$(child_of "$child") || bad "($svc) no program"
    id=$(conn_id "$log" $svc)
    lib_wait_for "$log" "LOG7\[$id\]: Seccomp filter installed for the transfer" 10 ||
        bad "($svc) no 'Seccomp filter installed for the transfer' line"
    confined "($svc) connection process" "$child" 1
    [ -n "$prog" ] && unconfined "($svc) the program" "$prog"
    grep -qx "Seccomp:.$BASE_SECCOMP" "$T/prog-$tag.status" &&
        grep -qx "NoNewPrivs:.$BASE_NNP" "$T/prog-$tag.status" ||
        bad "($svc) the program says: $(tr '\n' ' ' <"$T/prog-$tag.status")"
    want="$(id -u) sub "
    [ $svc = pty ] && want="${want}stty 0 "
    [ "$(sed 2d "$T/prog-$tag.out" | tr '\n' ' ')" = "$want" ] ||
        bad "($svc) the program's commands: $(tr '\n' ' ' <"$T/prog-$tag.out")"
    rm -f "$T/$tag.hold"
    lib_wait_for "$T/r$svc.out" '^bye' 15 || bad "($svc) the program's bye did not come"
    finished "$log" "$child" || bad "($svc) connection process $child not reaped with status 0"
    grep -q "LOG7\[$id\]: Seccomp filter for the handshake not installed: the exec'd program starts later" "$log" ||
        bad "($svc) no line saying why the handshake's filter is not installed"
    grep -Eq "LOG6\[$id\]: Child process [0-9]+ finished with code 0\$" "$log" ||
        bad "($svc) the program did not end with status 0"
done

# ---- (c) client mode, TLS 1.2: the handshake's filter only ---------------
if hold hc "$(lib_port s client12)"; then
    child=$(child_of "$DPID") && confined "(c) connection process" "$child" 1
    release hc
    finished "$log" "$child" || bad "(c) connection process $child not reaped with status 0"
    grep -q "LOG7\[$(conn_id "$log" client12)\]: Seccomp filter for the transfer not installed: the peer may renegotiate" "$log" ||
        bad "(c) no line saying why the transfer's filter is not installed"
fi

# ---- sandbox = no ----------------------------------------------------------
sed 's/^debug = debug$/debug = debug\nsandbox = no/' "$T/s.conf" >"$T/off.conf"
lib_daemon off "$T/off.conf" || exit 1
OPID=$LIB_PID
if hold hoff "$(lib_port off tls)" --tls --ca "$CA"; then
    child=$(child_of "$OPID") || bad "(sandbox = no) no connection process"
    unconfined "(sandbox = no) connection process" "$child"
fi
release hoff
grep -q Seccomp "$T/off.out" && bad "(sandbox = no) logs about seccomp"

# ---- (d) a forbidden call kills ---------------------------------------------
cat >"$T/shim.c" <<'EOF'
/* read(), and an AF_PACKET socket when "sandbox-trigger" was read */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

ssize_t
read(int fd, void *buf, size_t len)
{
	static ssize_t (*real)(int, void *, size_t);
	ssize_t n;
	int s;

	if (real == NULL)
		real = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
	n = real(fd, buf, len);
	if (n > 0 && memmem(buf, (size_t)n, "sandbox-trigger", 15) != NULL &&
	    (s = socket(AF_PACKET, SOCK_RAW, 0)) >= 0)
		close(s);
	return n;
}
EOF
cc -shared -fPIC -o "$T/shim.so" "$T/shim.c" -ldl 2>"$T/cc.err" ||
    { bad "the shim does not compile:"; cat "$T/cc.err"; exit 1; }
printf '#!/bin/sh\nLD_PRELOAD=%s exec "%s" "$@"\n' "$T/shim.so" "$STUNNEL" >"$T/shimmed"
chmod +x "$T/shimmed"
for sandbox in yes no; do
    cat >"$T/k-$sandbox.conf" <<EOF
foreground = yes
syslog = no
debug = debug
sandbox = $sandbox
cert = $T/certs/server.pem
[k]
accept = 127.0.0.1:0
connect = 127.0.0.1:$ECHO
EOF
    DAEMON=$T/shimmed lib_daemon "k$sandbox" "$T/k-$sandbox.conf" || exit 1
done
klog=$T/kyes.out
kport=$(lib_port kyes k)
# in the transfer: the echo server sends the trigger back on the plain side
out=$(timeout 20 $PEERS read "$kport" --tls --send sandbox-trigger --expect-bytes 15 --timeout 10)
[ "$out" = sandbox-trigger ] && bad "(d) transfer: the trigger came back: not killed"
lib_wait_for "$klog" 'terminated on SIGSYS' 10 ||
    { bad "(d) transfer: no 'Process PID terminated on SIGSYS'"; grep 'Process' "$klog"; }
grep -Eq 'LOG6\[ui\]: Process [0-9]+ terminated on SIGSYS$' "$klog" ||
    bad "(d) transfer: the parent's line is not 'LOG6[ui]: Process PID terminated on SIGSYS'"
lib_conn_log "$klog" k | grep -q 'Seccomp filter installed for the transfer' ||
    bad "(d) transfer: no transfer filter before the kill"
grep -q 'Connection closed' "$klog" && bad "(d) transfer: the killed process wrote a closing line"
# in the handshake: the name the client asks for
timeout 20 $PEERS read "$kport" --tls --sni sandbox-trigger.test --timeout 10 >/dev/null
for ((i = 0; i < 200; i++)); do
    [ "$(grep -c 'terminated on SIGSYS' "$klog")" -ge 2 ] && break
    sleep 0.05
done
[ "$(grep -c 'terminated on SIGSYS' "$klog")" = 2 ] ||
    { bad "(d) handshake: not killed"; grep -E 'Process|Seccomp|SNI' "$klog"; }
lib_conn_log "$klog" k | grep -q 'Seccomp filter installed for the handshake' ||
    bad "(d) handshake: no handshake filter before the kill"
lib_conn_log "$klog" k | grep -q 'TLS accepted' && bad "(d) handshake: it went on after the trigger"
lib_through "$kport" --tls --ca "$CA" || bad "(d) the daemon no longer serves after the kills"
# the same shim without the sandbox: nothing is killed
out=$(timeout 20 $PEERS read "$(lib_port kno k)" --tls --send sandbox-trigger --expect-bytes 15 --timeout 10)
[ "$out" = sandbox-trigger ] || bad "(d) sandbox = no: the trigger did not come back: '$out'"
lib_wait_for "$T/kno.out" 'Process [0-9]+ (finished|terminated)' 10
grep -Eq 'Process [0-9]+ finished with code 0$' "$T/kno.out" ||
    { bad "(d) sandbox = no: the shim's call is not harmless"; grep Process "$T/kno.out"; }

# inetd mode: the process that started the daemon sees the SIGSYS
cat >"$T/inetd.conf" <<EOF
syslog = no
debug = debug
output = $T/inetd.log
cert = $T/certs/server.pem
connect = 127.0.0.1:$ECHO
EOF
lib_peer inetd inetd "$T/shimmed" "$T/inetd.conf" --err "$T/inetd.err" || exit 1
timeout 20 $PEERS read "$PEER_PORT" --tls --send sandbox-trigger --expect-bytes 15 --timeout 10 >/dev/null
lib_wait_for "$T/inetd.out" '^exit' 20
grep -qx 'exit -31' "$T/inetd.out" ||
    { bad "(d) inetd mode: $(grep '^exit' "$T/inetd.out" || echo 'no exit'), not SIGSYS (-31)"; cat "$T/inetd.log"; }
grep -q 'Seccomp filter installed for the transfer' "$T/inetd.log" ||
    bad "(d) inetd mode: no transfer filter"

# ---- (e) syslog restarted under a connection, and no syslog at all --------
if unshare --mount true 2>/dev/null; then
    sock=$T/log.sock
    sed -e 's/^syslog = no$/syslog = yes/' "$T/s.conf" >"$T/sl.conf"
    lib_bg sink1 $PEERS syslog "$sock" --until 'Seccomp filter installed for the transfer' --timeout 30
    sink1=$LIB_PID
    for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
    # a private /dev holding only null and log (a symlink to the sink)
    mkdir "$T/dev" && touch "$T/dev/null" && ln -s "$sock" "$T/dev/log"
    lib_bg sl unshare --mount sh -c "mount --bind /dev/null '$T/dev/null' &&
        mount --rbind '$T/dev' /dev && exec '$STUNNEL' '$T/sl.conf'"
    lib_wait_for "$T/sl.out" 'Accepting new connections' 10 || { bad "(e) no daemon"; cat "$T/sl.out"; }
    hold hs "$(lib_port sl tls)" --tls --ca "$CA"
    lib_wait_for "$T/sink1.out" 'Seccomp filter installed for the transfer' 10 ||
        bad "(e) the first syslog daemon got no transfer line"
    # the first one has left (--until): another one on the same path
    wait "$sink1"
    rm -f "$sock"
    lib_bg sink2 $PEERS syslog "$sock" --until 'Connection closed' --timeout 30
    for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
    release hs
    lib_wait_for "$T/sink2.out" 'Connection closed' 10 ||
        { bad "(e) the restarted syslog daemon did not get the closing line"; cat "$T/sink2.out"; }
    lib_wait_for "$T/sl.out" 'Process [0-9]+ (finished|terminated)' 10
    grep -Eq 'Process [0-9]+ finished with code 0$' "$T/sl.out" ||
        { bad "(e) the connection process did not end with status 0"; grep Process "$T/sl.out"; }
    # no syslog daemon at all: still served
    rm -f "$sock"
    lib_through "$(lib_port sl tls)" --tls --ca "$CA" || bad "(e) no syslog daemon: not served"
    for ((i = 0; i < 200; i++)); do
        [ "$(grep -Ec 'Process [0-9]+ (finished|terminated)' "$T/sl.out")" -ge 2 ] && break
        sleep 0.05
    done
    [ "$(grep -Ec 'Process [0-9]+ finished with code 0$' "$T/sl.out")" = 2 ] ||
        { bad "(e) no syslog daemon: the process did not end with status 0"; grep Process "$T/sl.out"; }
else
    echo "note: (e) skipped: no mount namespace"
fi
exit $fail
