#!/bin/bash
# 020-differential: run OUR stunnel and the reference (Debian's stunnel4 5.68,
# /usr/bin/stunnel4 or $REFERENCE) on every file in tests/corpus and compare:
# both must accept, or both must reject naming the same line.
# Files that EXPECT marks "differs: REASON" (stunnel 5.75, which we follow,
# behaves differently from 5.68) are checked the other way round: ours must
# give the EXPECT result and the reference must NOT, so a stale "differs"
# mark fails this test too.
# Exit: 0 pass, 1 failure, 77 skip (either binary missing, or no namespaces).
# Environment: STUNNEL (our binary), REFERENCE, JOBS (parallel runs, default 6).

set -u
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

if ! lib_find_stunnel; then
    echo "SKIP: our stunnel binary is not built (set STUNNEL=path)"
    exit $SKIP
fi
if [ ! -x "$REFERENCE" ]; then
    echo "SKIP: reference $REFERENCE not installed (apt-get install stunnel4)"
    exit $SKIP
fi
lib_require_isolation
if [ ! -f "$EXPECT_FILE" ]; then
    echo "FAIL: $EXPECT_FILE not found"
    exit 1
fi

self_check=no
if [ "$(readlink -f "$STUNNEL")" = "$(readlink -f "$REFERENCE")" ]; then
    self_check=yes
    echo "NOTE: STUNNEL is the reference binary itself: this is a check of the"
    echo "      harness; every 'differs' entry will be reported STALE (expected)."
fi

lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: could not generate test certificates"; exit 1; }
mkdir -p "$TEST_TMP/ours" "$TEST_TMP/ref"
echo "020-differential: ours=$STUNNEL reference=$REFERENCE"

run_both() {
    lib_run_corpus_file "$STUNNEL" "$1" "$TEST_TMP/ours/$1" "$TEST_TMP/certs"
    lib_run_corpus_file "$REFERENCE" "$1" "$TEST_TMP/ref/$1" "$TEST_TMP/certs"
}
lib_corpus_files | lib_parallel run_both

# Error lines of a run (or its tail when it has none), indented.
show_output() {
    local label=$1 out=$2
    echo "      $label:"
    if grep -q '^\[[!*]\]' "$out"; then
        grep '^\[[!*]\]' "$out" | grep -v '^\[!\] error queue:' | head -n 6
    else
        tail -n 6 "$out"
    fi | sed 's/^/        | /'
}

total=0 agree=0 differ=0 stale=0 failed=0
for name in $(lib_corpus_files); do
    total=$((total + 1))
    ours=$(cat "$TEST_TMP/ours/$name")
    ref=$(cat "$TEST_TMP/ref/$name")
    entry=$(lib_expect "$name") || entry="|"
    want=${entry%%|*}
    reason=${entry#*|}

    if [ -z "$reason" ]; then
        if [ "$ours" = "$ref" ]; then
            agree=$((agree + 1))
        else
            echo "FAIL $name: ours '$ours', reference '$ref'"
            show_output ours "$TEST_TMP/ours/$name.out"
            show_output reference "$TEST_TMP/ref/$name.out"
            failed=$((failed + 1))
        fi
    elif [ "$ours" = "$want" ] && [ "$ref" != "$want" ]; then
        differ=$((differ + 1))
    elif [ "$ours" = "$ref" ]; then
        echo "STALE $name: marked 'differs: $reason'" \
             "but ours and the reference both give '$ours' (EXPECT for ours:" \
             "'$want'): the mark is stale, or ours lacks the 5.75 behaviour"
        stale=$((stale + 1))
        failed=$((failed + 1))
    else
        echo "FAIL $name: marked 'differs': ours must give '$want' and the" \
             "reference something else; ours '$ours', reference '$ref'"
        show_output ours "$TEST_TMP/ours/$name.out"
        show_output reference "$TEST_TMP/ref/$name.out"
        failed=$((failed + 1))
    fi
done

echo "$total files, $agree agree, $differ expected differences"
if [ "$failed" -ne 0 ]; then
    echo "020-differential: $failed failed ($stale of them STALE 'differs' marks)"
    if [ "$self_check" = yes ] && [ "$failed" -eq "$stale" ]; then
        echo "NOTE: only STALE marks failed and STALE is what a self-check of the"
        echo "      reference must report: the harness works."
    fi
    exit 1
fi
exit 0
