#!/bin/bash
# Logging: the output file (append and overwrite, line layout, level
# filter), stderr in the foreground and its absence with
# "foreground = quiet", and syslog with the configured facility and ident,
# received on a private /dev/log inside a mount namespace.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
conf="$TEST_TMP/s.conf"
log="$TEST_TMP/s.log"

# run_once: run the daemon on $conf until it has written its pid file
# (the last step before accepting connections), then stop it
run_once() {
    local pid i
    rm -f "$TEST_TMP/s.pid"
    "$STUNNEL" "$conf" </dev/null >"$TEST_TMP/err" 2>&1 &
    pid=$!
    for ((i = 0; i < 100; i++)); do
        kill -0 $pid 2>/dev/null || break
        [ -s "$TEST_TMP/s.pid" ] && break
        sleep 0.05
    done
    kill $pid 2>/dev/null
    wait $pid
}

write_conf() {  # GLOBAL-LINES...
    { printf '%s\n' "$@" "pid = $TEST_TMP/s.pid"; printf '[x]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n'; } >"$conf"
}

# output file, appended by default, one timestamped line per message
write_conf "output = $log" "syslog = no" "foreground = quiet" "debug = info"
run_once
[ -s "$TEST_TMP/err" ] && bad "foreground = quiet wrote to stderr: $(head -1 "$TEST_TMP/err")"
grep -Eq '^[0-9]{4}\.[0-9]{2}\.[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} LOG5\[ui\]: Configuration successful$' "$log" ||
    { bad "no 'Configuration successful' line in the stunnel layout"; cat "$log"; }
grep -q 'LOG5\[ui\]: stunnel 5.75 on ' "$log" || bad "banner not replayed into the log file"
run_once
[ "$(grep -c 'Configuration successful' "$log")" = 2 ] || bad "log = append (default) did not append"

write_conf "output = $log" "log = overwrite" "syslog = no" "foreground = quiet" "debug = info"
run_once
[ "$(grep -c 'Configuration successful' "$log")" = 1 ] || bad "log = overwrite did not truncate"
grep -q 'LOG6\[ui\]: Initializing service \[x\]' "$log" || bad "debug = info did not log info lines"

write_conf "output = $log" "log = overwrite" "syslog = no" "foreground = quiet" "debug = warning"
run_once
grep -q 'Configuration successful' "$log" && bad "debug = warning still logged a notice"
grep -q 'LOG4\[ui\]: Service \[x\] needs authentication' "$log" || bad "warning missing at debug = warning"

# foreground = yes: the same lines on stderr
write_conf "syslog = no" "foreground = yes"
run_once
grep -Eq ' LOG5\[ui\]: Configuration successful$' "$TEST_TMP/err" || bad "foreground = yes: nothing on stderr"

# a log file that cannot be opened fails the start with every line shown
write_conf "output = $TEST_TMP/no/such/dir/s.log" "syslog = no"
"$STUNNEL" "$conf" >/dev/null 2>"$TEST_TMP/err" </dev/null && bad "unopenable log file accepted"
grep -qF "[!] Cannot open log file: $TEST_TMP/no/such/dir/s.log" "$TEST_TMP/err" ||
    { bad "no 'Cannot open log file'"; cat "$TEST_TMP/err"; }

# the default level: notices, but no info lines
write_conf "output = $log" "log = overwrite" "syslog = no" "foreground = quiet"
run_once
grep -q 'LOG6\[' "$log" && bad "info lines written at the default level (notice)"
grep -q 'LOG5\[ui\]: Configuration successful' "$log" || bad "default level lost a notice"

# syslog: facility and ident, to a private /dev/log
if unshare --mount true 2>/dev/null && command -v python3 >/dev/null; then
    sock="$TEST_TMP/log.sock"
    $PEERS syslog "$sock" --until 'Configuration successful' >"$TEST_TMP/syslog" &
    pypid=$!
    for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
    write_conf "debug = local3.notice" "service = tunnel-test" "foreground = quiet"
    # a private /dev holding only null and log (a symlink to our socket)
    mkdir "$TEST_TMP/dev" && touch "$TEST_TMP/dev/null" &&
        ln -s "$sock" "$TEST_TMP/dev/log"
    unshare --mount sh -c "mount --bind /dev/null '$TEST_TMP/dev/null' &&
        mount --rbind '$TEST_TMP/dev' /dev && exec timeout 3 '$STUNNEL' '$conf'" \
        >/dev/null 2>"$TEST_TMP/err" </dev/null
    wait $pypid
    # local3 (19) * 8 + notice (5) = 157
    grep -Eq '^<157>.*tunnel-test: LOG5\[ui\]: Configuration successful' "$TEST_TMP/syslog" ||
        { bad "syslog message with facility local3 and ident tunnel-test not received"; cat "$TEST_TMP/syslog"; }
else
    echo "note: no mount namespace; syslog check skipped"
fi
exit $fail
