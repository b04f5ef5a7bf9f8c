#!/bin/sh
# tests/fuzz/build.sh: build the libFuzzer targets with clang.
#
#   FUZZ_BUILD=DIR  where they go (default: ./fuzz-build)
#   FUZZ_CONFIG_DIR=DIR  a configured build tree whose src/config.h to use
#                   (default: the source tree if it is configured there,
#                   else a configure run of our own in FUZZ_BUILD/conf)
#   FUZZ_CC=clang   the compiler (clang 14 or later: -fsanitize=fuzzer)
#
# Incremental: a second run rebuilds only what changed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${FUZZ_BUILD:-$PWD/fuzz-build}
cc=${FUZZ_CC:-clang}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "build.sh: $cc not found (Debian: apt-get install clang)" >&2
	exit 1
fi
conf=${FUZZ_CONFIG_DIR:-}
if [ -z "$conf" ] && [ -f "$top/src/config.h" ]; then
	conf=$top
fi
if [ -z "$conf" ]; then
	conf=$out/conf
	if [ ! -f "$conf/src/config.h" ]; then
		[ -x "$top/configure" ] || {
			echo "build.sh: run autoreconf -fi in $top first" >&2
			exit 1
		}
		mkdir -p "$conf"
		(cd "$conf" && CC=$cc "$top/configure" --enable-silent-rules \
		    >configure.log 2>&1) || {
			echo "build.sh: configure failed: see $conf/configure.log" >&2
			exit 1
		}
	fi
fi
conf=$(cd "$conf" && pwd)
exec make --no-print-directory -f "$here/fuzz.mk" -j"${FUZZ_JOBS:-2}" \
    SRCDIR="$top" CONFIG_DIR="$conf" OUT="$out" CC="$cc"
