#!/bin/bash
# 010-corpus: run OUR stunnel on every configuration file in tests/corpus and
# check that it accepts or rejects each one as tests/corpus/EXPECT says; for
# a rejection the line number of the first 'FILE:LINE: "...": reason' error
# must match too ("-" = an error without a line, e.g. "Service [x]: ...").
# Every run is isolated (own network and pid namespace, 5 s limit).
# Exit: 0 pass, 1 mismatch, 77 skip (binary not built, or no namespaces).
# Environment: STUNNEL (our binary), JOBS (parallel runs, default 6).

set -u
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

if ! lib_find_stunnel; then
    echo "SKIP: our stunnel binary is not built (set STUNNEL=path)"
    exit $SKIP
fi
lib_require_isolation
if [ ! -f "$EXPECT_FILE" ]; then
    echo "FAIL: $EXPECT_FILE not found"
    exit 1
fi

lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: could not generate test certificates"; exit 1; }
mkdir -p "$TEST_TMP/ours"
echo "010-corpus: $STUNNEL on $(lib_corpus_files | wc -l) files in $CORPUS_DIR"

run_ours() {
    lib_run_corpus_file "$STUNNEL" "$1" "$TEST_TMP/ours/$1" "$TEST_TMP/certs"
}
lib_corpus_files | lib_parallel run_ours

# Show why a run was classified as it was: its error lines, else its tail.
show_output() {
    local out=$1
    if grep -q '^\[[!*]\]' "$out"; then
        grep '^\[[!*]\]' "$out" | grep -v '^\[!\] error queue:' | head -n 8
    else
        tail -n 8 "$out"
    fi | sed 's/^/        | /'
}

total=0 ok=0 failed=0
for name in $(lib_corpus_files); do
    total=$((total + 1))
    if ! entry=$(lib_expect "$name"); then
        echo "FAIL $name: no line in EXPECT"
        failed=$((failed + 1))
        continue
    fi
    want=${entry%%|*}
    got=$(cat "$TEST_TMP/ours/$name")
    if [ "$got" = "$want" ]; then
        ok=$((ok + 1))
    else
        echo "FAIL $name: expected '$want', got '$got'"
        show_output "$TEST_TMP/ours/$name.out"
        failed=$((failed + 1))
    fi
done

# Lines in EXPECT for files that no longer exist are a mistake too.
while read -r name _; do
    case $name in ''|'#'*) continue ;; esac
    if [ ! -f "$CORPUS_DIR/$name" ]; then
        echo "FAIL $name: listed in EXPECT but missing from the corpus"
        failed=$((failed + 1))
    fi
done < "$EXPECT_FILE"

echo "010-corpus: $total files, $ok as expected, $failed failed"
[ "$failed" -eq 0 ] || exit 1
exit 0
