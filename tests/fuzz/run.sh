#!/bin/sh
# tests/fuzz/run.sh [SECONDS [TARGET...]]: build the fuzz targets if
# needed (build.sh, same environment), then run each one (default: all)
# for SECONDS (default 60) from its seed corpus, FUZZ_JOBS at a time
# (default 1), with -timeout=10 and leak detection. Prints per target the executions
# and libFuzzer's last "cov:" and "ft:"; exits 1 on any crash, leak,
# timeout or sanitizer report (the artifact and the log are kept in the
# directory it names), else 0. New inputs found go to that directory,
# never into the seed corpus.
set -u
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-fuzz_conffile fuzz_addr fuzz_psk fuzz_protocol fuzz_sessiond \
    fuzz_handshake fuzz_ident fuzz_ocsp}
out=${FUZZ_BUILD:-$PWD/fuzz-build}
export FUZZ_BUILD=$out

sh "$here/build.sh" || exit 1
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/stunnel-fuzz-run.XXXXXX") || exit 1
echo "fuzz: logs, new inputs and crash artifacts in $work"

symbolizer=$(command -v llvm-symbolizer || true)
jobs=${FUZZ_JOBS:-1}

# one target's run; its exit status and the report line go to files
fuzz_one() {
	t=$1
	mkdir -p "$work/$t/new" "$work/$t/tmp"
	case $t in
	fuzz_conffile) extra=-max_len=20000 ;;
	*) extra= ;;
	esac
	ASAN_OPTIONS=detect_leaks=1:symbolize=1${symbolizer:+:external_symbolizer_path=$symbolizer} \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	FUZZ_TMPDIR=$work/$t/tmp \
	    "$out/$t" -max_total_time="$secs" -timeout=10 -detect_leaks=1 \
	    -artifact_prefix="$work/$t/" $extra \
	    "$work/$t/new" "$here/corpus/$t" >"$work/$t.log" 2>&1
	rc=$?
	rm -rf "$work/$t/tmp"	# the scratch files (certificates, configurations)
	last=$(grep -E '^#[0-9]+' "$work/$t.log" | tail -n 1)
	execs=$(printf '%s\n' "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
	cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	if [ "$rc" -eq 0 ] && ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$work/$t.log"; then
		status=ok
		echo 0 >"$work/$t.rc"
	else
		status="FAILED (exit $rc): see $work/$t.log"
		echo 1 >"$work/$t.rc"
	fi
	{
		printf '%-16s %s executions, cov: %s, ft: %s, %s s: %s\n' "$t" \
		    "${execs:-0}" "${cov:-?}" "${ft:-?}" "$secs" "$status"
		ls "$work/$t/" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' |
		    sed "s|^|    artifact: $work/$t/|"
	} >"$work/$t.report"
}

# FUZZ_JOBS targets at a time (each still runs SECONDS)
set -- $targets
while [ $# -gt 0 ]; do
	batch=
	n=0
	while [ $# -gt 0 ] && [ "$n" -lt "$jobs" ]; do
		fuzz_one "$1" &
		batch="$batch $1"
		n=$((n + 1))
		shift
	done
	wait
	for t in $batch; do
		cat "$work/$t.report"
	done
done
failed=0 passed=0
for t in $targets; do
	if [ "$(cat "$work/$t.rc" 2>/dev/null)" = 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || exit 1
exit 0
