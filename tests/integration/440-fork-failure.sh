#!/bin/bash
# When fork() fails. The daemon runs under a user id of its own (no other
# process has it) with a low RLIMIT_NPROC (root ignores that limit):
#  - allowed two processes (itself and one connection), while a first
#    client holds its connection a second one is closed without a word;
#    stunnel 5.75 tries to fork and logs "Connection rejected:
#    create_client failed" (LOG3) with no reason; ours knows its limit
#    ("Clients allowed=1") and does not try: "Connection rejected: too
#    many clients (>=1)" (LOG4, the words of stunnel's threaded builds);
#    neither pauses; once the first is gone the same daemon serves a
#    third (a fork that fails below our limit: test 630);
#  - allowed one process, an exec+connect section that cannot start stops
#    the daemon: "Failed to start exec+connect service [NAME]" (LOG3),
#    then "Failed to start exec+connect services" (LOG2), exit status 1.
# DAEMON=.../stunnel-fork runs the same checks on the reference.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (to run the daemon as another user)"; exit $SKIP; }
for c in prlimit setpriv; do
    command -v $c >/dev/null 2>&1 || { echo "SKIP: $c not installed"; exit $SKIP; }
done
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
daemon=${DAEMON:-$STUNNEL}
# what the daemon's user reads
pub=$TEST_TMP/pub
mkdir "$pub" && cp "$TEST_TMP/certs/server.pem" "$pub/" &&
    chmod 755 "$TEST_TMP" "$pub" && chmod 644 "$pub/server.pem" || { echo "FAIL: files for the daemon"; exit 1; }
# limited N UID: the command prefix that runs as UID (a number no account
# has: RLIMIT_NPROC counts the user's processes, and an execve() over the
# limit fails too) with at most N processes
uid=$((40000 + $$ % 20000))
limited() {
    echo prlimit --nproc="$1:$1" setpriv --reuid="$2" --regid="$2" --clear-groups
}
# LeakSanitizer needs a thread of its own at exit, which the process limit
# refuses: in a sanitizer build it would abort every limited daemon
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
lib_peer echo echo || exit 1

# ---- a connection the daemon cannot fork for ------------------------------
cat >"$pub/s.conf" <<EOF
foreground = yes
syslog = no
debug = debug
cert = $pub/server.pem
[s]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
EOF
chmod 644 "$pub/s.conf"
# shellcheck disable=SC2046
lib_bg s $(limited 2 $uid) "$daemon" "$pub/s.conf"
spid=$LIB_PID
log=$TEST_TMP/s.out
lib_wait_for "$log" 'Accepting new connections|Configuration failed' ||
    { echo "FAIL: the daemon did not start"; cat "$log"; exit 1; }
port=$(lib_port s s)

# the second: prints "EOF" when closed without data, "RESET" when reset
cat >"$TEST_TMP/probe.py" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
try:
    print("EOF" if s.recv(10) == b"" else "DATA")
except ConnectionResetError:
    print("RESET")
EOF
touch "$TEST_TMP/hold"
# the first client: one line echoed, then it holds on while the file exists
lib_bg holder $PEERS hold "$port" --tls --while "$TEST_TMP/hold" --timeout 10
lib_wait_for "$TEST_TMP/holder.out" '^(held|no echo)' 10
grep -qx held "$TEST_TMP/holder.out" || bad "the first connection did not work: $(cat "$TEST_TMP/holder.out")"
got=$(timeout 10 python3 "$TEST_TMP/probe.py" "$port" 2>&1)
[ "$got" = EOF ] || bad "no fork: the client saw '$got', expected the connection closed"
if [ "$daemon" = "$STUNNEL" ]; then
    refusal='LOG4\[ui\]: Connection rejected: too many clients \(>=1\)$'
    grep -q 'LOG7\[ui\]: Clients allowed=1$' "$log" || bad "no 'Clients allowed=1'"
else
    refusal='LOG3\[ui\]: Connection rejected: create_client failed$'
fi
lib_wait_for "$log" "$refusal" 5 || bad "no '$refusal'"
grep -q 'fork:' "$log" && bad "a reason is logged, which stunnel does not: $(grep -m1 'fork:' "$log")"
grep -q 'suspended' "$log" && bad "accepting was suspended: $(grep -m1 'suspended' "$log")"
# the first client leaves, its process is reaped, and a third is served
rm "$TEST_TMP/hold"
lib_wait_for "$log" 'LOG6\[ui\]: Process [0-9]+ (finished|terminated)' 10
lib_through "$port" --tls || bad "once a process was free again, no data came back"
kill -0 "$spid" 2>/dev/null || bad "the daemon died"

# ---- an exec+connect section that cannot start ----------------------------
cat >"$pub/x.conf" <<EOF
foreground = yes
syslog = no
debug = debug
[xc]
client = yes
exec = /bin/cat
connect = 127.0.0.1:$PEER_PORT
retry = 500
EOF
chmod 644 "$pub/x.conf"
# shellcheck disable=SC2046
timeout 10 $(limited 1 $((uid + 1))) "$daemon" "$pub/x.conf" >"$TEST_TMP/x.out" 2>&1
rc=$?
[ $rc = 1 ] || bad "exec+connect that cannot start: exit status $rc, expected 1"
failed=$(grep -n 'LOG3\[ui\]: Failed to start exec+connect service \[xc\]$' "$TEST_TMP/x.out" | cut -d: -f1)
failed_all=$(grep -n 'LOG2\[ui\]: Failed to start exec+connect services$' "$TEST_TMP/x.out" | cut -d: -f1)
[ -n "$failed" ] && [ -n "$failed_all" ] && [ "$failed" -lt "$failed_all" ] ||
    bad "no 'LOG3 Failed to start exec+connect service [xc]' then 'LOG2 Failed to start exec+connect services'"
grep -q 'Accepting new connections' "$TEST_TMP/x.out" &&
    bad "the daemon went on after its exec+connect section could not start"

if [ $fail != 0 ]; then
    for f in s x; do echo "--- $f:"; grep -v 'LOG7\[ui\]: \(Ciphers\|TLS\|ECDH\)' "$TEST_TMP/$f.out" | tail -n 25; done
fi
exit $fail
