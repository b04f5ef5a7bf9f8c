#!/bin/bash
# 632-out-of-memory: running out of memory is the environment's failure,
# not a bug: the daemon says so and exits with status 1, never with a
# signal (before fatal() it aborted with a core, and out of memory inside
# OpenSSL's set-up it crashed in RAND_load_file; the message itself,
# kept before the configuration is read, could run out of memory and
# recurse until the stack overflowed).
# The address space is cut (prlimit --as) in steps over the range where
# the start runs out: every run ends with status 1 and an "[!]" line on
# stderr ("Out of memory", "TLS initialization failed", or a system call
# failing with ENOMEM), or starts and is stopped with status 0; where the
# dynamic loader fails (127) the daemon never ran.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
command -v prlimit >/dev/null || { echo "SKIP: no prlimit"; exit $SKIP; }
# AddressSanitizer reserves terabytes of address space
if nm -D "$STUNNEL" 2>/dev/null | grep -q __asan_init ||
   ldd "$STUNNEL" 2>/dev/null | grep -q libasan; then
    echo "SKIP: a sanitizer build cannot run with a small address space"; exit $SKIP
fi
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
cat >"$TEST_TMP/m.conf" <<EOF
foreground = yes
syslog = no
[s]
accept = 127.0.0.1:0
connect = 127.0.0.1:9
cert = $TEST_TMP/certs/server.pem
EOF

oom=0 started=0 failed=0
# fine steps where the start runs out (failures are quick), then a few
# that start
# (from 8 MiB: below, the dynamic loader itself runs out, and at its edge
# it crashes before any code of ours runs: at 7936 KiB every start dies of
# SIGSEGV in glibc's ld.so, init_tls() at elf/rtld.c:759 writing through
# the failed allocation of the thread's DTV, as gdb showed)
for kib in $(seq 8192 64 12288) 16384 20480; do
    out=$TEST_TMP/run.$kib
    prlimit --as=$((kib * 1024)) "$STUNNEL" "$TEST_TMP/m.conf" >"$out" 2>&1 </dev/null &
    pid=$!
    for ((i = 0; i < 20; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        grep -q 'Configuration successful' "$out" 2>/dev/null && break
        sleep 0.05
    done
    grep -q 'Configuration successful' "$out" && { sleep 0.3; kill "$pid" 2>/dev/null; }
    wait "$pid"
    rc=$?
    last=$(tail -n 1 "$out")
    case $rc in
    0) grep -q 'Configuration successful' "$out" && started=$((started + 1)) ||
           bad "$kib KiB: status 0 without a start: $last" ;;
    1) failed=$((failed + 1))
       [[ $last == "[!] "* ]] || bad "$kib KiB: status 1, but the last line is not an error: $last"
       grep -q '^\[!\] Out of memory$' "$out" && oom=$((oom + 1)) ;;
    127) grep -q 'error while loading shared libraries' "$out" ||
           bad "$kib KiB: status 127: $last" ;;
    *) bad "$kib KiB: status $rc (a signal or a crash): $last" ;;
    esac
done
echo "632: $failed runs refused, $oom of them 'Out of memory', $started started"
[ "$oom" -ge 1 ] || bad "no run ended with 'Out of memory' (the range may need moving for this build)"
[ "$started" -ge 1 ] || bad "no run started: the range is too small for this build"
exit $fail
