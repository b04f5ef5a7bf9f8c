#!/bin/bash
# sessiond = HOST:PORT: server sessions kept by an external cache server
# (peers.py sessiond speaks stunnel's UDP protocol). Two instances with
# the same service name resume each other's sessions, TLS 1.2 session ids
# and TLS 1.3 alike, and so do this daemon and the reference stunnel4 in
# both directions. A cache server that is gone costs a full handshake,
# not the connection; an address that cannot be resolved fails the
# configuration at its line.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
lib_peer echo echo || exit 1
echo_port=$PEER_PORT
lib_peer cache sessiond || exit 1
cache_pid=$LIB_PID
cache_port=$PEER_PORT

conf() {  # SESSIOND-VALUE
    printf 'foreground = yes\nsyslog = no\ndebug = info\n[shared]\n'
    printf 'accept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\ncert = %s\nsessiond = %s\n' \
        "$echo_port" "$TEST_TMP/certs/server.pem" "$1"
}
conf "127.0.0.1:$cache_port" >"$TEST_TMP/s.conf"
lib_daemon a "$TEST_TMP/s.conf" || exit 1
lib_daemon b "$TEST_TMP/s.conf" || exit 1

# sessions VERSION PORT...: one connection per port in order, each
# offering the previous session and echoing "x"; prints "new x" or
# "reused x" for each
sessions() {
    local v=$1
    shift
    if [ "$v" = 1.2 ]; then
        $PEERS sessions "$@" --tls-version 1.2 --no-ticket --send x$'\n' 2>&1 | tr '\n' ' '
    else
        $PEERS sessions "$@" --send x$'\n' 2>&1 | tr '\n' ' '
    fi
}
pa=$(lib_port a shared)
pb=$(lib_port b shared)
for v in 1.2 1.3; do
    got=$(sessions $v "$pa" "$pb" "$pa")
    [ "$got" = "new x reused x reused x " ] || bad "TLS $v across two instances: $got"
done
sleep 0.3
grep -q 'LOG6\[[0-9]*\]: cache_transfer: request=new, timeout=300, id=[0-9A-F]\{64\}, length=[0-9]*$' \
    "$TEST_TMP/a.out" || bad "no 'request=new' line"
grep -q 'LOG6\[[0-9]*\]: cache_transfer: session found' "$TEST_TMP/b.out" ||
    bad "no 'session found' line"
grep -q 'LOG6\[[0-9]*\]: TLS accepted: previous session reused' "$TEST_TMP/b.out" ||
    bad "no 'previous session reused' line"
grep -q 'cache_transfer' <(grep '\[ui\]' "$TEST_TMP/a.out") &&
    bad "the start-up itself talked to the cache server"

# with the reference: same protocol, same session context (the service name)
if command -v stunnel4 >/dev/null; then
    lib_bg ref stunnel4 "$TEST_TMP/s.conf"
    lib_wait_for "$TEST_TMP/ref.out" 'Accepting new connections|Configuration failed' 10
    pr=$(lib_port ref shared)
    if [ -n "$pr" ]; then
        got=$(sessions 1.2 "$pa" "$pr" "$pa")
        # stunnel4 waits for the cache server's answer for a short
        # while: on a loaded machine the Python cache server may answer
        # too late, which stunnel4 logs; only then is it tried again
        if [ "$got" != "new x reused x reused x " ] &&
           grep -q 'cache_transfer: recv timeout' "$TEST_TMP/ref.out"; then
            echo "stunnel4 timed out waiting for the cache server: once more"
            got=$(sessions 1.2 "$pa" "$pr" "$pa")
        fi
        [ "$got" = "new x reused x reused x " ] || {
            bad "ours -> stunnel4 -> ours: $got"; sed 's/^/    /' "$TEST_TMP/ref.out"; }
        got=$(sessions 1.2 "$pr" "$pb")
        [ "$got" = "new x reused x " ] || bad "stunnel4 -> ours: $got"
    else
        bad "stunnel4 did not start"; sed 's/^/    /' "$TEST_TMP/ref.out"
    fi
fi

# the cache server goes away: full handshakes, no failure
kill "$cache_pid"
wait "$cache_pid" 2>/dev/null
got=$(sessions 1.2 "$pa" "$pb")
[ "$got" = "new x new x " ] || bad "without the cache server: $got"
sleep 0.3
grep -Eq 'cache_transfer: (recv timeout|recv: Connection refused)' "$TEST_TMP/b.out" ||
    bad "no line about the missing cache server"

# an address that cannot be resolved: the line is refused
conf "127.0.0.1:no-such-port" >"$TEST_TMP/bad.conf"
timeout 10 "$STUNNEL" "$TEST_TMP/bad.conf" </dev/null >"$TEST_TMP/bad.out" 2>&1
rc=$?
[ "$rc" = 1 ] || bad "unresolvable sessiond: exit status $rc"
grep -q ':8: "sessiond = 127.0.0.1:no-such-port": Failed to resolve sessiond server address' \
    "$TEST_TMP/bad.out" || { bad "no resolution error"; sed 's/^/    /' "$TEST_TMP/bad.out"; }
exit $fail
