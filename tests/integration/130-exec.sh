#!/bin/bash
# exec: "exec = /bin/cat" behind server mode gives a TLS client its bytes
# back; a script run with execArgs sees REMOTE_HOST, REMOTE_PORT,
# SSL_CLIENT_DN and SSL_CLIENT_I_DN (only with a client certificate), the
# global setEnv, and its arguments; "pty = yes" gives it a terminal and
# its absence does not; the book chapter's set-up (an echo script behind
# exec, reached through a client-mode instance with socat); an exec+connect
# section (no accept, "retry = no") whose output reaches a TLS echo server;
# one with "retry" and "failover = rr" over three targets: started once,
# before "Accepting new connections", "Retrying an exec+connect section"
# after each run, each run at the next target, started again by a reload.
# Checks "Local mode child started (PID=N)" and, after the closing line,
# "Child process N finished with code 0".
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
command -v openssl >/dev/null 2>&1 || { echo "SKIP: openssl not installed"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
certs=$TEST_TMP/certs
T=$TEST_TMP
# DAEMON=/usr/bin/stunnel4 runs this test on the reference (a thread
# build: it has no setEnv, and its main thread logs "Child process N
# finished" whenever the program ends, with its own id)
setenv_line="setEnv = FOO=bar"
fork_build=1
if [ "${DAEMON:-}" = "$REFERENCE" ]; then setenv_line=; fork_build=0; fi

# a client certificate signed by the test CA
lib_issue "$certs" client "/C=PL/O=Test/CN=client" ||
    { echo "FAIL: client certificate"; exit 1; }

# tlsget PORT [CERT]: a TLS client (no server verification) that prints
# "local N" (its own port), then everything it receives until EOF (CRs
# removed)
tlsget() {
    timeout 20 $PEERS read "$1" --tls ${2:+--cert "$2"} --show-port --timeout 20
}

# the programs
cat >"$T/env.sh" <<'EOF'
echo "ARGS=$*"
echo "REMOTE_HOST=${REMOTE_HOST-unset}"
echo "REMOTE_PORT=${REMOTE_PORT-unset}"
echo "SSL_CLIENT_DN=${SSL_CLIENT_DN-unset}"
echo "SSL_CLIENT_I_DN=${SSL_CLIENT_I_DN-unset}"
echo "FOO=${FOO-unset}"
EOF
cat >"$T/tty.sh" <<'EOF'
echo "TTY=$(tty)"
if test -t 0; then echo "STDIN_TTY=yes"; else echo "STDIN_TTY=no"; fi
if test -t 1; then echo "STDOUT_TTY=yes"; else echo "STDOUT_TTY=no"; fi
EOF
cat >"$T/echoit" <<'EOF'
#!/bin/sh
# the book's simple echo server
while read -r line; do
    echo "$line"
done
EOF
chmod +x "$T/echoit"
cat >"$T/hello.sh" <<EOF
echo "hello from exec+connect"
read -r line
printf '%s\n' "\$line" > "$T/hello.got"
EOF

lib_peer techo echo --tls "$certs/server.pem" || exit 1
techo_port=$PEER_PORT

cat >"$T/s.conf" <<EOF
foreground = yes
syslog = no
debug = debug
$setenv_line
cert = $certs/server.pem
[cat]
accept = 127.0.0.1:0
exec = /bin/cat
[env]
accept = 127.0.0.1:0
exec = /bin/sh
execArgs = sh $T/env.sh one two
verifyChain = yes
CAfile = $certs/ca.pem
[env-nocert]
accept = 127.0.0.1:0
exec = /bin/sh
execArgs = sh $T/env.sh
[pty]
accept = 127.0.0.1:0
exec = /bin/sh
execArgs = sh $T/tty.sh
pty = yes
[nopty]
accept = 127.0.0.1:0
exec = /bin/sh
execArgs = sh $T/tty.sh
EOF
lib_daemon s "$T/s.conf" || exit 1
log=$T/s.out
declare -A port
for svc in cat env env-nocert pty nopty; do
    port[$svc]=$(lib_port s $svc)
    [ -n "${port[$svc]}" ] || { bad "no bound port for [$svc] in the log"; exit 1; }
done

# conn_id LOGFILE SERVICE: the id of the last connection SERVICE accepted
conn_id() {
    sed -n "s/.*LOG5\[\([^]]*\)\]: Service \[$2\] accepted connection.*/\1/p" "$1" | tail -n 1
}

# check_child LOGFILE SERVICE WHAT: the last connection of SERVICE started
# a program (Local mode child started (PID=N)), closed, and then (fork
# build: with the connection's id, after the closing line) logged
# "Child process N finished with code 0"
check_child() {
    local f=$1 svc=$2 what=$3 id pid i closed done_
    id=$(conn_id "$f" "$svc")
    [ -n "$id" ] || { bad "$what: no 'Service [$svc] accepted connection' line"; return; }
    pid=$(sed -n "s/.*LOG6\[$id\]: Local mode child started (PID=\([0-9]*\))\$/\1/p" "$f" | head -n 1)
    [ -n "$pid" ] || { bad "$what: no 'Local mode child started (PID=N)' line"; return; }
    for ((i = 0; i < 200; i++)); do
        grep -q "Child process $pid finished with code" "$f" && break
        sleep 0.05
    done
    closed=$(grep -n "LOG5\[$id\]: Connection closed: " "$f" | head -n 1 | cut -d: -f1)
    if [ $fork_build = 1 ]; then
        done_=$(grep -n "LOG6\[$id\]: Child process $pid finished with code 0\$" "$f" | head -n 1 | cut -d: -f1)
    else
        done_=$(grep -n "LOG6\[[^]]*\]: Child process $pid finished with code 0\$" "$f" | head -n 1 | cut -d: -f1)
    fi
    [ -n "$closed" ] || bad "$what: no 'Connection closed' line"
    [ -n "$done_" ] || { bad "$what: no 'LOG6[$id]: Child process $pid finished with code 0' line"; return; }
    [ -z "$closed" ] || [ $fork_build = 0 ] || [ "$done_" -gt "$closed" ] ||
        bad "$what: 'Child process $pid finished' logged before the closing line"
}

# 1. exec = /bin/cat: 16 MiB back through TLS
n=$((16 << 20))
read -r _ sent _ received count < <($PEERS client "${port[cat]}" $n --tls --ca "$certs/ca.pem" \
    --timeout 30 --expect-bytes $n)
[ "$count" = $n ] || bad "exec cat: received ${count:-no} bytes of $n"
[ -n "$sent" ] && [ "$sent" = "$received" ] || bad "exec cat: checksums differ"
check_child "$log" cat "exec cat"
id=$(conn_id "$log" cat)
grep -Eq "LOG5\[$id\]: Connection closed: $n byte\(s\) sent to TLS, $n byte\(s\) sent to socket\$" "$log" ||
    bad "exec cat: no 'Connection closed: $n byte(s) sent to TLS, $n byte(s) sent to socket'"

# 2. the environment and execArgs, with a client certificate
out=$(tlsget "${port[env]}" "$certs/client.pem")
lport=$(sed -n 's/^local //p' <<<"$out")
want() {  # NAME=VALUE WHAT
    grep -qxF -- "$1" <<<"$out" || bad "$2: expected '$1', got '$(grep "^${1%%=*}=" <<<"$out")'"
}
want "ARGS=one two" "execArgs"
want "REMOTE_HOST=127.0.0.1" "exec environment"
want "REMOTE_PORT=$lport" "exec environment"
want "SSL_CLIENT_DN=C=PL, O=Test, CN=client" "exec environment (client certificate)"
want "SSL_CLIENT_I_DN=CN=Test CA" "exec environment (client certificate)"
[ -z "$setenv_line" ] || want "FOO=bar" "global setEnv"
check_child "$log" env "exec env"

# ... and without one: no SSL_CLIENT_* variables
out=$(tlsget "${port[env-nocert]}")
lport=$(sed -n 's/^local //p' <<<"$out")
want "ARGS=" "execArgs = sh FILE"
want "REMOTE_PORT=$lport" "exec environment"
want "SSL_CLIENT_DN=unset" "exec environment (no client certificate)"
want "SSL_CLIENT_I_DN=unset" "exec environment (no client certificate)"

# 3. pty = yes: a terminal; without it: none
out=$(tlsget "${port[pty]}")
grep -Eqx 'TTY=/dev/pts/[0-9]+' <<<"$out" || bad "pty = yes: tty says '$(grep '^TTY=' <<<"$out")'"
want "STDIN_TTY=yes" "pty = yes"
want "STDOUT_TTY=yes" "pty = yes"
check_child "$log" pty "pty = yes"
out=$(tlsget "${port[nopty]}")
grep -Eq '^TTY=/dev/' <<<"$out" && bad "no pty: the program has a terminal: $(grep '^TTY=' <<<"$out")"
want "STDIN_TTY=no" "no pty"
want "STDOUT_TTY=no" "no pty"

# 4. the book (chapter 6.6): echoit behind exec on one instance, a
# client-mode instance with [echo-r], [echo-l] and [sslecho] sections
if command -v socat >/dev/null 2>&1; then
    cat >"$T/book-server.conf" <<EOF
foreground = yes
syslog = no
debug = info
cert = $certs/server.pem
options = DONT_INSERT_EMPTY_FRAGMENTS
[echo]
accept = 127.0.0.1:0
exec = $T/echoit
execArgs = echoit
EOF
    lib_daemon bs "$T/book-server.conf" || exit 1
    bs_port=$(lib_port bs echo)
    cat >"$T/book-client.conf" <<EOF
foreground = yes
syslog = no
debug = info
verify = 2
CAfile = $certs/ca.pem
client = yes
[echo-r]
accept = 127.0.0.1:0
connect = localhost:$bs_port
[echo-l]
accept = 127.0.0.1:0
connect = 127.0.0.1:$bs_port
[sslecho]
accept = 127.0.0.1:0
connect = 127.0.0.1:$techo_port
EOF
    lib_daemon bc "$T/book-client.conf" || exit 1
    for svc in echo-r echo-l; do
        p=$(lib_port bc $svc)
        out=$(printf 'Hello echoit on linux!\nbye\n' | timeout 20 socat -t 10 - "TCP:127.0.0.1:$p" 2>&1)
        [ "$out" = "$(printf 'Hello echoit on linux!\nbye')" ] || bad "book [$svc]: got '$out'"
        check_child "$T/bs.out" echo "book [$svc] server"
    done
    p=$(lib_port bc sslecho)
    out=$(printf 'Hello from bsd\n' | timeout 20 socat -t 10 - "TCP:127.0.0.1:$p" 2>&1)
    [ "$out" = "Hello from bsd" ] || bad "book [sslecho]: got '$out'"
else
    echo "NOTE: socat not installed: the book's netcat session skipped"
fi

# 5. exec+connect: no accept; the program's output goes to the TLS echo
# server, comes back on its standard input, and the program saves it
cat >"$T/x.conf" <<EOF
foreground = yes
syslog = no
debug = info
[xc]
client = yes
exec = /bin/sh
execArgs = sh $T/hello.sh
connect = 127.0.0.1:$techo_port
retry = no
EOF
lib_daemon x "$T/x.conf" || exit 1
lib_wait_for "$T/x.out" 'Connection (closed|reset)' 10 || bad "exec+connect: no closing line"
for ((i = 0; i < 100; i++)); do [ -s "$T/hello.got" ] && break; sleep 0.05; done
[ "$(cat "$T/hello.got" 2>/dev/null)" = "hello from exec+connect" ] ||
    bad "exec+connect: the program's output did not reach the server and back: '$(cat "$T/hello.got" 2>/dev/null)'"
check_child "$T/x.out" xc "exec+connect"
grep -Eq 'LOG6\[[^]]*\]: TLS connected: new session negotiated$' "$T/x.out" ||
    bad "exec+connect: no 'TLS connected: new session negotiated' line"
grep -Eq 'LOG5\[[^]]*\]: Connection closed: 24 byte\(s\) sent to TLS, 24 byte\(s\) sent to socket$' "$T/x.out" ||
    bad "exec+connect: no 'Connection closed: 24 byte(s) sent to TLS, 24 byte(s) sent to socket'"

# 6. exec+connect with retry and three targets, failover = rr: the
# section is started once (before "Accepting new connections"), every
# run that ends logs "Retrying an exec+connect section", and each run
# starts at the next target; a reload starts the section once more
declare -A tport
for n in 1 2 3; do
    lib_peer "te$n" echo --tls "$certs/server.pem" || exit 1
    tport[$n]=$PEER_PORT
done
printf 'echo run\n' >"$T/run.sh"
cat >"$T/rr.conf" <<EOF
foreground = yes
syslog = no
debug = debug
[xrr]
client = yes
exec = /bin/sh
execArgs = sh $T/run.sh
connect = 127.0.0.1:${tport[1]}
connect = 127.0.0.1:${tport[2]}
connect = 127.0.0.1:${tport[3]}
failover = rr
retry = 200
EOF
lib_daemon rr "$T/rr.conf" || exit 1
rrpid=$LIB_PID
# count LINE_PATTERN: how many lines of the rr log match (grep -E)
count() { grep -Ec -- "$1" "$T/rr.out"; }
for ((i = 0; i < 200; i++)); do
    [ "$(count 'failover: round-robin, starting at entry')" -ge 4 ] && break
    sleep 0.05
done
starts=$(grep -n 'LOG7\[ui\]: Starting exec+connect service \[xrr\]$' "$T/rr.out" | cut -d: -f1)
accepting=$(grep -n 'LOG6\[ui\]: Accepting new connections$' "$T/rr.out" | head -n 1 | cut -d: -f1)
[ "$(wc -w <<<"$starts")" = 1 ] ||
    bad "exec+connect: 'Starting exec+connect service [xrr]' logged $(wc -w <<<"$starts") times in 4 runs, expected once"
[ -n "$starts" ] && [ -n "$accepting" ] && [ "${starts%% *}" -lt "$accepting" ] ||
    bad "exec+connect: 'Starting exec+connect service [xrr]' not before 'Accepting new connections'"
[ "$(count 'LOG6\[[^]]*\]: Retrying an exec\+connect section$')" -ge 3 ] ||
    bad "exec+connect: fewer than 3 'Retrying an exec+connect section' lines for 4 runs"
# the first run starts at a random entry (as in stunnel), the next ones
# one further each
got=$(sed -n 's/.*LOG6\[[^]]*\]: failover: round-robin, starting at entry #\([0-9]*\)$/\1/p' "$T/rr.out" |
    head -n 4 | tr -d '\n')
case $got in
    0120|1201|2012) ;;
    *) bad "exec+connect rr: runs started at entries '$got', expected each at the next one" ;;
esac
first=${got:0:1} want=
for ((i = 0; i < 4; i++)); do want+="${tport[$(((${first:-0} + i) % 3 + 1))]} "; done
got=$(sed -n 's/.*LOG5\[[^]]*\]: s_connect: connected 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T/rr.out" |
    head -n 4 | tr '\n' ' ')
[ "$got" = "$want" ] || bad "exec+connect rr: runs connected to '$got', expected $want"
kill -HUP "$rrpid"
for ((i = 0; i < 200; i++)); do
    [ "$(count 'Starting exec\+connect service \[xrr\]$')" -ge 2 ] && break
    sleep 0.05
done
[ "$(count 'LOG7\[ui\]: Starting exec\+connect service \[xrr\]$')" = 2 ] ||
    bad "exec+connect: a reload did not log 'Starting exec+connect service [xrr]' once more"

if [ $fail != 0 ]; then
    for i in s bs bc x rr; do
        [ -f "$T/$i.out" ] || continue
        echo "--- $i log (no debug lines):"
        grep -v 'LOG7' "$T/$i.out" | grep -v '\[ui\]: \(Initializing\|Loading\|Certificate\|Private\|OpenSSL\|Session\|DH\|Insecure\|Configured\)' | tail -n 60
    done
fi
exit $fail
