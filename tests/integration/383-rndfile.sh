#!/bin/bash
# RNDfile (a regular file with random content): "Snagged N random bytes
# from FILE" (N = 1024, or RNDbytes), RNDoverwrite = yes rewrites the
# file, RNDoverwrite = no leaves it alone; a missing RNDfile does not stop
# the daemon and is not created (as with the reference); EGD =
# /nonexistent logs that it is ignored and the daemon still starts.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
T=$TEST_TMP

rnd_conf() {  # LINES...
    printf 'foreground = yes\nsyslog = no\ndebug = debug\n'
    printf '%s\n' "$@"
    printf '[c]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n'
}
head -c 4096 /dev/urandom >"$T/seed-yes"
head -c 4096 /dev/urandom >"$T/seed-no"
sum_yes=$(sha256sum <"$T/seed-yes")
sum_no=$(sha256sum <"$T/seed-no")
rnd_conf "RNDfile = $T/seed-yes" "RNDoverwrite = yes" "EGD = /nonexistent" >"$T/rnd-yes.conf"
rnd_conf "RNDfile = $T/seed-no" "RNDoverwrite = no" "RNDbytes = 300" >"$T/rnd-no.conf"
rnd_conf "RNDfile = $T/seed-missing" >"$T/rnd-missing.conf"
for r in yes no missing; do
    lib_load "rnd-$r" "$T/rnd-$r.conf"
    grep -q 'Accepting new connections' "$T/rnd-$r.out" || bad "RNDfile ($r): the daemon did not start"
done
grep -q "LOG7\[ui\]: Snagged 1024 random bytes from $T/seed-yes\$" "$T/rnd-yes.out" ||
    bad "RNDfile: no 'Snagged 1024 random bytes from $T/seed-yes'"
[ "$(sha256sum <"$T/seed-yes")" != "$sum_yes" ] || bad "RNDoverwrite = yes: the seed file was not rewritten"
grep -q "LOG4\[ui\]: EGD = /nonexistent is ignored: OpenSSL 3 no longer reads entropy gathering daemons\$" \
    "$T/rnd-yes.out" || bad "EGD = /nonexistent: no 'is ignored' warning"
grep -q "LOG7\[ui\]: Snagged 300 random bytes from $T/seed-no\$" "$T/rnd-no.out" ||
    bad "RNDbytes = 300: no 'Snagged 300 random bytes from $T/seed-no'"
[ "$(sha256sum <"$T/seed-no")" = "$sum_no" ] || bad "RNDoverwrite = no: the seed file was changed"
grep -q 'Wrote .* new random bytes' "$T/rnd-no.out" && bad "RNDoverwrite = no: 'Wrote ... new random bytes' logged"
[ -e "$T/seed-missing" ] && bad "a missing RNDfile was created (the reference leaves it missing)"
exit $fail
