#!/bin/bash
# The manual documents exactly the options of the option table: every
# "=item B<name>" of doc/stunnel.pod.in is an option that -help lists
# (or "stack", accepted but hidden in a fork build), and every option
# that -help lists has its "=item B<name>".
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
pod="$TOP_SRCDIR/doc/stunnel.pod.in"
[ -f "$pod" ] || { echo "FAIL: $pod missing"; exit 1; }

"$STUNNEL" -help 2>&1 | sed -n 's/^\([A-Za-z0-9]*\) *= .*/\1/p' |
    sort >"$TEST_TMP/table"
echo stack >>"$TEST_TMP/table"
sort -o "$TEST_TMP/table" "$TEST_TMP/table"
sed -n 's/^=item B<\([A-Za-z0-9]*\)>.*/\1/p' "$pod" | sort >"$TEST_TMP/manual"
if ! diff -u "$TEST_TMP/table" "$TEST_TMP/manual"; then
    echo "FAIL: option table (-) and manual (+) differ"
    exit 1
fi
[ "$(uniq -d "$TEST_TMP/manual")" = "" ] || { echo "FAIL: options documented twice"; exit 1; }
echo "$(wc -l <"$TEST_TMP/table") options documented"
