#!/bin/bash
# SIGHUP reload: while a client connects without pause, twenty reloads
# refuse or drop no connection (listeners whose address did not change
# stay open); a service added by the new configuration is bound, one
# removed is closed; a broken configuration is logged and the old one
# keeps running; SIGUSR1 reopens the log file. Each load logs every
# listener, kept ones too: "Service [NAME] (FD=N) bound to ADDR:PORT".
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
conf="$TEST_TMP/s.conf"

lib_peer echo echo || exit 1
echo_port=$PEER_PORT
write_conf() {  # SECTIONS...
    {
        printf 'foreground = yes\nsyslog = no\ndebug = info\noutput = %s\n' "$TEST_TMP/s.log"
        local name
        for name in "$@"; do
            printf '[%s]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\ncert = %s\n' \
                "$name" "$echo_port" "$TEST_TMP/certs/server.pem"
        done
    } >"$conf"
}
write_conf alpha
lib_daemon d "$conf" || exit 1
pid=$LIB_PID
port=$(lib_port d alpha)

# a client that connects again and again, for as long as the file exists
touch "$TEST_TMP/run"
lib_bg hammer $PEERS hammer "$port" --while "$TEST_TMP/run" --tls --timeout 5
hammer=$LIB_PID
for i in $(seq 20); do
    kill -HUP "$pid"
    sleep 0.1
done
sleep 0.5
rm "$TEST_TMP/run"
wait "$hammer"
read -r ok failed < <(tail -n 1 "$TEST_TMP/hammer.out")
[ "${failed:-x}" = 0 ] || { bad "$failed connections failed during reloads"; cat "$TEST_TMP/hammer.out"; }
[ "${ok:-0}" -gt 20 ] || bad "only $ok connections during the reloads"
loads=$(grep -c 'Configuration successful' "$TEST_TMP/s.log")
[ "$loads" -ge 21 ] || bad "not every SIGHUP reloaded the configuration"
# every load says where the listener is, as stunnel does, although it is
# the same socket: scripts read the port from this line
bound=$(grep -c "LOG6\[ui\]: Service \[alpha\] (FD=[0-9]*) bound to 127\.0\.0\.1:$port\$" "$TEST_TMP/s.log")
[ "$bound" = "$loads" ] ||
    bad "'Service [alpha] (FD=N) bound to 127.0.0.1:$port' logged $bound times in $loads loads"

# add a service, remove the first one
write_conf beta
kill -HUP "$pid"
lib_wait_for "$TEST_TMP/s.log" 'Service \[beta\] \(FD=[0-9]+\) bound to' ||
    bad "added service not bound"
beta=$(sed -n 's/.*Service \[beta\] (FD=[0-9]*) bound to .*:\([0-9]*\)$/\1/p' "$TEST_TMP/s.log" | head -n 1)
lib_through "$beta" --tls || bad "added service does not work"
sleep 0.2
$PEERS client "$port" 10 --tls --timeout 5 >/dev/null 2>&1 && bad "removed service still accepts"

# a broken configuration leaves the running one alone
printf 'foreground = yes\n[broken]\nbogus = 1\n' >"$conf"
kill -HUP "$pid"
lib_wait_for "$TEST_TMP/s.log" 'LOG3\[ui\]: Failed to reload the configuration file' ||
    bad "no 'Failed to reload the configuration file'"
grep -q 's.conf:3: "bogus = 1": Specified option name is not valid here' "$TEST_TMP/s.log" ||
    bad "the reason of the failed reload is not logged"
lib_through "$beta" --tls || bad "old configuration stopped working after a failed reload"

# SIGUSR1: the log file was rotated away
mv "$TEST_TMP/s.log" "$TEST_TMP/s.log.1"
kill -USR1 "$pid"
lib_wait_for "$TEST_TMP/s.log" 'LOG5\[ui\]: Log file reopened' || bad "SIGUSR1 did not reopen the log"
kill -0 "$pid" || bad "daemon died"
exit $fail
