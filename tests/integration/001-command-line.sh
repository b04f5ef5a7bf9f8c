#!/bin/bash
# The command line: -help, -version, -sockets and -options have the
# reference's layout option for option (the differences are listed here,
# each with its reason), exit statuses are 0 for them and 1 for errors,
# and -fd, bad file names and unknown switches behave as in stunnel.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp

# Lines after the banner (the first four lines name the program and
# OpenSSL build, which legitimately differ).
body() { "$@" 2>&1 | sed -e '1,/^Threading:/d' -e '/^stunnel-compat /d'; }

for sw in -help -version -sockets -options -HELP; do
    "$STUNNEL" $sw >/dev/null 2>&1; rc=$?
    [ $rc -eq 0 ] || bad "$sw exits $rc"
    out=$("$STUNNEL" $sw 2>/dev/null)
    [ -z "$out" ] || bad "$sw writes to stdout (stunnel writes to stderr)"
done
"$STUNNEL" -version 2>&1 | grep -q '^stunnel 5\.75 on .* platform$' ||
    bad "-version banner is not 'stunnel 5.75 on PLATFORM platform'"
"$STUNNEL" -version 2>&1 | grep -Eq '^Threading:FORK Sockets:POLL,IPv6,SYSTEMD TLS:' ||
    bad "-version features line"
"$STUNNEL" -version 2>&1 | grep -Eq '^(Compiled/running with OpenSSL|Compiled with OpenSSL)' ||
    bad "-version OpenSSL line"

# -help: the same options in the same order, but for those stunnel 5.75
# added after the reference's 5.68 (provider, providerParameter, setEnv,
# CAstore, OCSPrequire, TIMEOUTocsp), fips (the reference was built
# without FIPS), stack (threads only: a fork build has no stack) and our
# own sandbox and spares.
names() { body "$@" | sed -n 's/^\([A-Za-z0-9]*\) *= .*/\1/p'; }
added='^(fips|provider|providerParameter|setEnv|CAstore|OCSPrequire|TIMEOUTocsp|sandbox|spares)$'
if [ -x "$REFERENCE" ]; then
    diff <(names "$STUNNEL" -help | grep -Ev "$added") \
         <(names "$REFERENCE" -help | grep -v '^stack$') >"$TEST_TMP/d" ||
        { bad "-help options differ from the reference:"; cat "$TEST_TMP/d"; }
    diff <(body "$STUNNEL" -help | grep -Ev '^(Global|Service-level) options:$|^ $' -c) \
         <(echo 0) >/dev/null && bad "-help has no section headers"
    # -version defaults: identical values, but for stack and TIMEOUTocsp
    diff <(body "$STUNNEL" -version | grep -v '^TIMEOUTocsp ') \
         <(body "$REFERENCE" -version | grep -v '^stack ') >"$TEST_TMP/d" ||
        { bad "-version defaults differ from the reference:"; cat "$TEST_TMP/d"; }
    diff <(body "$STUNNEL" -sockets) <(body "$REFERENCE" -sockets) >"$TEST_TMP/d" ||
        { bad "-sockets differs from the reference:"; cat "$TEST_TMP/d"; }
    diff <(body "$STUNNEL" -options) <(body "$REFERENCE" -options) >"$TEST_TMP/d" ||
        { bad "-options differs from the reference:"; cat "$TEST_TMP/d"; }
else
    echo "note: $REFERENCE not installed, layout comparison skipped"
fi
body "$STUNNEL" -help | grep -q '^protocol               = protocol to negotiate' ||
    bad "-help protocol line"
[ "$(body "$STUNNEL" -options | sed -n 2p)" = "Supported TLS options:" ] ||
    bad "-options header"
body "$STUNNEL" -options | grep -qx 'options = NO_TLSv1' || bad "-options lacks NO_TLSv1"

# errors: status 1 and stunnel's wording
expect_fail() {  # MESSAGE ARGS...
    local msg=$1; shift
    "$STUNNEL" "$@" >"$TEST_TMP/out" 2>&1 </dev/null; rc=$?
    [ $rc -eq 1 ] || bad "stunnel $* exits $rc, not 1"
    grep -qF -- "$msg" "$TEST_TMP/out" || { bad "stunnel $*: no '$msg'"; cat "$TEST_TMP/out"; }
}
expect_fail '[!] No file descriptor specified' -fd
expect_fail 'stunnel [<filename>] ] -fd <n> | -help | -version | -sockets | -options' -fd
expect_fail '[!] Invalid file descriptor number' -fd x
expect_fail '[!] Cannot open configuration file' -fd 77
expect_fail '[!] Invalid configuration file name "-bogus"' -bogus
expect_fail '[!] realpath: No such file or directory (2)' "$TEST_TMP/none.conf"
grep -q 'Configuration failed' "$TEST_TMP/out" &&
    bad "a missing file should not say 'Configuration failed' (stunnel does not)"

# -fd N reads the configuration from a descriptor
printf 'foreground = yes\nsyslog = no\n[x]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n' >"$TEST_TMP/fd.conf"
lib_bg fd "$STUNNEL" -fd 5 5<"$TEST_TMP/fd.conf"
lib_wait_for "$TEST_TMP/fd.out" 'Configuration successful|Configuration failed' ||
    bad "-fd 5: no verdict"
grep -q 'Reading configuration from descriptor 5' "$TEST_TMP/fd.out" || bad "-fd 5 not read"
grep -q 'Configuration successful' "$TEST_TMP/fd.out" || { bad "-fd 5 config rejected"; cat "$TEST_TMP/fd.out"; }

exit $fail
