# shellcheck shell=bash
# Shared helpers for the integration tests (source this file from bash).
#
# What it gives a test script:
#   LIB_DIR, TOP_SRCDIR, CORPUS_DIR   where the tests and the corpus live
#   lib_find_stunnel                  sets STUNNEL to our binary (or returns 1)
#   lib_require_isolation             exits 77 (SKIP) unless unshare works
#   lib_mktemp                        sets TEST_TMP, removed again on exit
#   lib_make_certs DIR                fills DIR with the @CERTS@ files (tests/certs/mkcerts.sh)
#   lib_issue DIR NAME SUBJECT [EXT]  one more leaf certificate signed by DIR/ca.pem
#   lib_section NAME PORT [LINE...]   a section listening anywhere, connecting to PORT
#   lib_crl DIR ISSUER OUT [CERT...]  a CRL revoking CERTs
#   lib_ocsp_index, lib_ocsp_responder  an openssl ocsp responder's database, and the responder
#   lib_make_scratch DIR CERTS        makes a @TMP@ dir (with include.d/)
#   lib_subst SRC DST CERTS TMP       copy of a corpus file, placeholders replaced
#   lib_run PROG CONF OUT [DIR]       runs PROG CONF isolated, prints exit status
#   lib_classify OUT STATUS           prints "accept", "reject LINE|-" or "error ..."
#   lib_expect NAME                   prints "VERDICT|DIFFERS_REASON" from EXPECT
#   lib_bg, lib_wait_for, lib_daemon, lib_port, lib_peer: processes of a test
#   lib_load NAME CONF [PROG]         starts a daemon, sees it fail or start, stops it
#   lib_conn_log LOG SECTION          the log lines of SECTION's last connection
#   lib_through PORT [OPTION...]      do 1000 bytes come back through PORT?
#   lib_free_port                     a port number nothing listens on
# The peers (echo, banner, identd, OCSP and HTTP servers, clients...) are
# modes of peers.py ($PEERS; lib_peer starts a server), so that a test
# script needs no server of its own.
#
# Every program run is wrapped as
#   timeout -k 10 5 unshare --net --pid --fork --kill-child --mount-proc PROG FILE
# A fresh network namespace makes binding harmless and a fresh pid namespace
# takes a daemonized (forked to the background) child down with the parent.

SKIP=77

# The tests' tools are the distribution's (CI installs them with apt): a
# version manager's python3 shim earlier in PATH costs half a second a
# call, and the suite makes thousands.
[ -x /usr/bin/python3 ] && PATH=/usr/bin:$PATH

# a test's verdict: "bad MESSAGE" records a failure and goes on; the
# script ends with "exit $fail"
fail=0
bad() { echo "FAIL: $*"; fail=1; }

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_SRCDIR=$(cd "$LIB_DIR/../.." && pwd)
CORPUS_DIR="$TOP_SRCDIR/tests/corpus"
if [ ! -d "$CORPUS_DIR" ] && [ -n "${srcdir:-}" ]; then
    for _d in "$srcdir/tests/corpus" "$srcdir/corpus" "$srcdir/../corpus"; do
        if [ -d "$_d" ]; then CORPUS_DIR=$(cd "$_d" && pwd); break; fi
    done
fi
EXPECT_FILE="$CORPUS_DIR/EXPECT"
REFERENCE=${REFERENCE:-/usr/bin/stunnel4}
RUN_TIMEOUT=${RUN_TIMEOUT:-5}

# Set STUNNEL to our binary: $STUNNEL, else $abs_top_builddir/src/stunnel,
# else ../../src/stunnel relative to this script, else ./src/stunnel.
lib_find_stunnel() {
    local c
    if [ -n "${STUNNEL:-}" ]; then
        [ -f "$STUNNEL" ] && [ -x "$STUNNEL" ] || return 1
        # runs start in another directory: make the path absolute
        STUNNEL=$(cd "$(dirname "$STUNNEL")" && pwd)/$(basename "$STUNNEL")
        return 0
    fi
    for c in ${abs_top_builddir:+"$abs_top_builddir/src/stunnel"} \
             ${top_builddir:+"$top_builddir/src/stunnel"} \
             "$TOP_SRCDIR/src/stunnel" "$PWD/src/stunnel" "$PWD/../src/stunnel"; do
        if [ -f "$c" ] && [ -x "$c" ]; then
            STUNNEL=$(cd "$(dirname "$c")" && pwd)/$(basename "$c")
            return 0
        fi
    done
    return 1
}

# Exit with SKIP unless we may create network and pid namespaces (root).
lib_require_isolation() {
    if ! command -v unshare >/dev/null 2>&1 || ! command -v timeout >/dev/null 2>&1; then
        echo "SKIP: unshare or timeout not installed"
        exit $SKIP
    fi
    if ! unshare --net --pid --fork --kill-child --mount-proc true >/dev/null 2>&1; then
        echo "SKIP: cannot create network/pid namespaces (not root?)"
        exit $SKIP
    fi
    if ! command -v openssl >/dev/null 2>&1; then
        echo "SKIP: openssl command not installed"
        exit $SKIP
    fi
}

# Make a private temporary directory; at exit every process started with
# lib_bg is stopped and the directory removed.
LIB_PIDS=()
lib_mktemp() {
    TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/stunnel-test.XXXXXX") || exit 99
    trap lib_cleanup EXIT
    trap 'exit 130' INT TERM
}

lib_cleanup() {
    local p
    for p in "${LIB_PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${LIB_PIDS[@]}"; do
        wait "$p" 2>/dev/null
    done
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$TEST_TMP"
    # in the test's log: where CI's minutes go
    echo "(${SECONDS}s)"
}

# lib_bg NAME CMD...: run CMD in the background, output in
# $TEST_TMP/NAME.out; its pid is in LIB_PID and stopped at exit.
lib_bg() {
    local name=$1; shift
    "$@" </dev/null >"$TEST_TMP/$name.out" 2>&1 &
    LIB_PID=$!
    LIB_PIDS+=("$LIB_PID")
}

# lib_children PID [spares|all]: the processes whose parent is PID. By
# default only connection processes: the spares forked ahead (comm
# "NAME: spare") wait for a connection and are not one yet; "spares"
# lists only those, "all" both.
lib_children() {
    local k want=${2:-conn}
    for k in $(cat "/proc/$1/task/$1/children" 2>/dev/null); do
        [ -e "/proc/$k" ] || continue
        if lib_is_spare "$k"; then
            [ "$want" = conn ] && continue
        else
            [ "$want" = spares ] && continue
        fi
        echo "$k"
    done
}

# lib_is_spare PID: is PID a spare forked ahead, still waiting (its comm
# "NAME: spare")?
lib_is_spare() {
    local comm=
    read -r comm 2>/dev/null <"/proc/$1/comm"
    [[ $comm == *": spare" ]]
}

# lib_wait_for FILE PATTERN [SECONDS]: wait until FILE has a line
# matching PATTERN (grep -E); 1 on timeout.
lib_wait_for() {
    local file=$1 pattern=$2 limit=${3:-10} i
    for ((i = 0; i < limit * 20; i++)); do
        grep -Eq -- "$pattern" "$file" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# lib_daemon NAME CONF: start our daemon (the configuration must say
# "foreground = yes" and "debug = info": the bound ports and "Accepting
# new connections" are info lines) and wait until it accepts connections.
lib_daemon() {
    local name=$1 conf=$2
    lib_bg "$name" "${DAEMON:-$STUNNEL}" "$conf"
    if ! lib_wait_for "$TEST_TMP/$name.out" \
        'Accepting new connections|Configuration failed|Binding service .* failed' 10 ||
       ! grep -q 'Accepting new connections' "$TEST_TMP/$name.out"; then
        echo "daemon $name did not start:"; sed 's/^/    /' "$TEST_TMP/$name.out"
        return 1
    fi
}

# lib_load NAME CONF [PROG]: start PROG (default: our daemon) on CONF,
# wait until its configuration fails or it accepts connections, and stop
# it; its output is in $TEST_TMP/NAME.out
lib_load() {
    local name=$1 conf=$2 prog=${3:-${DAEMON:-$STUNNEL}} pid
    lib_bg "$name" "$prog" "$conf"
    pid=$LIB_PID
    lib_wait_for "$TEST_TMP/$name.out" 'Configuration failed|Accepting new connections' 5
    sleep 0.1
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

# lib_conn_log LOG SECTION: the lines of LOG of the last connection that
# SECTION accepted (status 1 if it accepted none), once it has ended
# (its closing line is there, waited for up to 10 s: the peer may see
# the end before the connection process has logged its last lines)
lib_conn_log() {
    local id i
    id=$(sed -n "s/.*LOG[0-9]\[\([0-9]*\)\]: Service \[$2\] accepted connection from .*/\1/p" "$1" | tail -n 1)
    [ -n "$id" ] || return 1
    for ((i = 0; i < 200; i++)); do
        grep -Eq "LOG[0-9]\[$id\]: (Connection (closed|reset): |Service \[.*\] finished)" "$1" && break
        sleep 0.05
    done
    grep "LOG[0-9]\[$id\]:" "$1"
}

# lib_port NAME SERVICE: the port the daemon NAME bound for SERVICE
lib_port() {
    sed -n "s/.*Service \[$2\] (FD=[0-9]*) bound to .*:\([0-9]*\)\$/\1/p" \
        "$TEST_TMP/$1.out" | head -n 1
}

# lib_peer NAME ARGS...: start the server "peers.py ARGS"; its port is
# left in PEER_PORT (not printed: a $(...) subshell would lose its pid)
lib_peer() {
    local name=$1; shift
    lib_bg "$name" python3 "$LIB_DIR/peers.py" "$@" --port-file "$TEST_TMP/$name.port"
    lib_wait_for "$TEST_TMP/$name.port" '^[0-9]+$' 10 || { echo "peer $name did not start" >&2; return 1; }
    PEER_PORT=$(cat "$TEST_TMP/$name.port")
}

PEERS="python3 $LIB_DIR/peers.py"

# lib_through PORT [OPTION...]: does a message get through PORT and back?
# "peers.py client PORT 1000" with the OPTIONs (its own: --tls, --ca CA,
# --cert C, --sni NAME; --timeout S, 10 by default) must get back the
# very 1000 bytes it sent. The count that came back is in THROUGH_COUNT.
lib_through() {
    local port=$1 sent received
    shift
    THROUGH_COUNT=
    read -r _ sent _ received THROUGH_COUNT < <($PEERS client "$port" 1000 \
        --expect-bytes 1000 --timeout 10 "$@" 2>/dev/null)
    [ "${THROUGH_COUNT:-0}" = 1000 ] && [ "$sent" = "$received" ]
}

# lib_free_port: a port on 127.0.0.1 that nothing listens on now (for a
# server that must be named, in a certificate, say, before it runs, or
# for one that never runs)
lib_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Fill DIR with the certificates the tests use (tests/certs/mkcerts.sh
# lists them: a root and an intermediate CA, servers and clients, a
# revoked, an expired and a wrong-host certificate, PKCS#12, PSK files).
lib_make_certs() {
    sh "$TOP_SRCDIR/tests/certs/mkcerts.sh" "$1"
}

# lib_issue DIR NAME SUBJECT [EXTENSION...]: a leaf certificate signed by
# DIR/ca.pem: DIR/NAME.key, NAME.crt and both in NAME.pem (EC P-256, two
# days, basicConstraints=CA:FALSE and each EXTENSION as an -addext). The
# files with the key are for their owner only, as mkcerts.sh makes them
# (the daemon warns of a key file others may read).
lib_issue() {
    local d=$1 n=$2 subject=$3 e ext=(-addext "basicConstraints=CA:FALSE")
    shift 3
    for e in "$@"; do ext+=(-addext "$e"); done
    (cd "$d" &&
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout "$n.key" -out "$n.crt" -days 2 -subj "$subject" \
            -CA ca.pem -CAkey ca.key "${ext[@]}" &&
        cat "$n.key" "$n.crt" >"$n.pem" && chmod 600 "$n.key" "$n.pem") >/dev/null 2>&1
}

# lib_section NAME PORT [LINE...]: a configuration section NAME that
# listens on a free port and connects to 127.0.0.1:PORT, then each LINE
lib_section() {
    local name=$1 port=$2
    shift 2
    printf '[%s]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\n' "$name" "$port"
    [ $# -eq 0 ] || printf '%s\n' "$@"
}

# lib_crl DIR ISSUER OUT [CERT...]: DIR/OUT, a CRL issued by DIR/ISSUER.pem
# (key DIR/ISSUER.key) that revokes each certificate file DIR/CERT
lib_crl() {
    local d=$1 issuer=$2 out=$3
    shift 3
    (
        cd "$d" || exit 1
        rm -f crl-db.txt* crl-number*
        : >crl-db.txt
        echo 01 >crl-number
        printf '[ca]\ndefault_ca=x\n[x]\ndatabase=crl-db.txt\ncrlnumber=crl-number\ndefault_md=sha256\ndefault_crl_days=2\n' >crl.cnf
        for cert in "$@"; do
            openssl ca -config crl.cnf -revoke "$cert" -keyfile "$issuer.key" -cert "$issuer.pem" || exit 1
        done
        openssl ca -config crl.cnf -gencrl -keyfile "$issuer.key" -cert "$issuer.pem" -out "$out"
    ) >/dev/null 2>&1
}

# lib_ocsp_index DIR good|revoked CERT...: DIR/index.txt, the database of
# an OCSP responder for DIR/ca.pem, saying each certificate file DIR/CERT
# is good or revoked (a status word applies to the files after it)
lib_ocsp_index() {
    local d=$1 status=good exp now serial arg
    shift
    exp=$(date -u -d '+2 days' +%y%m%d%H%M%SZ)
    now=$(date -u +%y%m%d%H%M%SZ)
    echo "unique_subject = no" >"$d/index.txt.attr"
    : >"$d/index.txt"
    for arg in "$@"; do
        case $arg in good|revoked) status=$arg; continue ;; esac
        serial=$(openssl x509 -in "$d/$arg" -noout -serial | cut -d= -f2) || return 1
        if [ $status = good ]; then
            printf 'V\t%s\t\t%s\tunknown\t/CN=localhost\n' "$exp" "$serial"
        else
            printf 'R\t%s\t%s\t%s\tunknown\t/CN=localhost\n' "$exp" "$now" "$serial"
        fi >>"$d/index.txt"
    done
}

# lib_ocsp_responder NAME DIR PORT [SIGNER KEY]: openssl ocsp answering on
# 127.0.0.1:PORT from DIR/index.txt, signing as DIR/ca.pem (or SIGNER)
lib_ocsp_responder() {
    local name=$1 d=$2 port=$3
    lib_bg "$name" openssl ocsp -index "$d/index.txt" -port "$port" \
        -rsigner "${4:-$d/ca.pem}" -rkey "${5:-$d/ca.key}" -CA "$d/ca.pem"
    lib_wait_for "$TEST_TMP/$name.out" 'waiting for OCSP client connections' ||
        { echo "OCSP responder $name did not start" >&2; return 1; }
}

# Make DIR as a @TMP@ scratch directory: include.d/ holds two fragments
# (10-a.conf: a client service, 20-b.conf: a server service using CERTS)
# and a subdirectory, which stunnel must skip as "not a file".
lib_make_scratch() {
    local d=$1 certs=$2
    mkdir -p "$d/include.d/zz-subdir" || return 1
    # the corpus' chroot files jail the daemon here, setuid nobody, with
    # "pid = /stunnel.pid": as in a real jail, that user must be able to
    # create it, or the start fails (as it must)
    chmod 1777 "$d"
    cat > "$d/include.d/10-a.conf" <<EOF
; include fragment A: a client service
[inc-a]
client = yes
accept = 127.0.0.1:44001
connect = 127.0.0.1:44002
EOF
    cat > "$d/include.d/20-b.conf" <<EOF
; include fragment B: a server service
[inc-b]
cert = $certs/server.pem
accept = 127.0.0.1:44003
connect = 127.0.0.1:44004
EOF
}

# Escape a string for use as a sed replacement with '|' as the delimiter.
_lib_sed_escape() {
    printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'
}

# Copy SRC to DST replacing @CERTS@ and @TMP@ (bytes otherwise unchanged:
# CR/LF and a byte order mark survive).
lib_subst() {
    local src=$1 dst=$2 certs tmp
    certs=$(_lib_sed_escape "$3")
    tmp=$(_lib_sed_escape "$4")
    sed -e "s|@CERTS@|$certs|g" -e "s|@TMP@|$tmp|g" "$src" > "$dst"
}

# Run PROG CONF in fresh network and pid namespaces with a time limit,
# from directory DIR (default: the directory of CONF), stdin from
# /dev/null (inetd-mode configs read their "connection" there), stdout and
# stderr to OUT. Prints the exit status (124: still running at the limit).
lib_run() {
    local prog=$1 conf=$2 out=$3 dir=${4:-$(dirname "$2")} pid i
    (
        cd "$dir" || exit 99
        # a sanitizer build's exit (its leak check) can take seconds
        # on a loaded machine: SIGKILL only if SIGTERM did not end it
        exec timeout -k 10 "$RUN_TIMEOUT" \
            unshare --net --pid --fork --kill-child --mount-proc "$prog" "$conf"
    ) </dev/null >"$out" 2>&1 &
    pid=$!
    # a daemon that got past its configuration keeps running: stop it
    # as soon as the verdict is in the output
    for ((i = 0; i < RUN_TIMEOUT * 20; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        if grep -q 'Configuration successful\|Accepting new connections' "$out" 2>/dev/null; then
            sleep 0.2
            kill "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
            echo 124
            return
        fi
        sleep 0.05
    done
    wait "$pid"
    echo $?
}

# Classify a run from its output file and exit status:
#   "reject LINE" (LINE from the first '[!] PATH:LINE: "' line, else "-")
#   "accept"      (Configuration successful, exit 0, or still running)
#   "error STATUS" otherwise (crash, unexpected exit).
lib_classify() {
    local out=$1 rc=$2 line
    if grep -q 'Configuration failed' "$out"; then
        line=$(sed -n 's/^\[!\] [^"]*:\([0-9][0-9]*\): ".*/\1/p' "$out" | head -n 1)
        echo "reject ${line:--}"
    elif grep -q 'Configuration successful' "$out" || [ "$rc" = 0 ] || [ "$rc" = 124 ]; then
        echo accept
    else
        echo "error $rc"
    fi
}

# Look NAME up in EXPECT. Prints "VERDICT|REASON": VERDICT is "accept" or
# "reject LINE"; REASON is the text after "differs:" (empty if none).
# Returns 1 if NAME has no line.
lib_expect() {
    local name=$1 n verdict rest line reason
    while read -r n verdict rest; do
        [ "$n" = "$name" ] || continue
        reason=
        case $rest in
            *differs:*) reason=${rest#*differs:}; reason=${reason# } ;;
        esac
        if [ "$verdict" = reject ]; then
            line=${rest%% *}
            echo "reject $line|$reason"
        else
            echo "$verdict|$reason"
        fi
        return 0
    done < <(grep -v '^[[:space:]]*\(#\|$\)' "$EXPECT_FILE")
    return 1
}

# Run one corpus file NAME with PROG; write the classification to RESULT
# and the program output to RESULT.out. Each run gets its own @TMP@.
lib_run_corpus_file() {
    local prog=$1 name=$2 result=$3 certs=$4 scratch rc
    scratch="$result.tmp"
    mkdir -p "$scratch"
    lib_make_scratch "$scratch" "$certs"
    lib_subst "$CORPUS_DIR/$name" "$scratch/$name" "$certs" "$scratch"
    rc=$(lib_run "$prog" "$scratch/$name" "$result.out" "$scratch")
    lib_classify "$result.out" "$rc" > "$result"
}

# Run "$@" for each corpus file name on stdin, at most JOBS at once.
lib_parallel() {
    local jobs=${JOBS:-6} name running=0
    while read -r name; do
        "$@" "$name" &
        running=$((running + 1))
        if [ "$running" -ge "$jobs" ]; then
            wait -n
            running=$((running - 1))
        fi
    done
    wait
}

# List the corpus file names (sorted, C locale).
lib_corpus_files() {
    (cd "$CORPUS_DIR" && LC_ALL=C ls -1 -- *.conf)
}
