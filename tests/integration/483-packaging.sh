#!/bin/bash
# The packaging kit (tools/) as a packager and a sysadmin use it (root):
#  - "make install DESTDIR=ROOT" from the build of the tested binary
#    installs exactly the files listed below (the systemd ones under the
#    directories configure chose, none when it chose "no"); "make cert"
#    writes the sample's certificate, mode 600, and never overwrites it;
#  - the installed init script, its paths moved under ROOT, drives the
#    installed daemon on a throw-away file: status of a stopped instance
#    3 and of an unknown one 4; start says "started (pid N)" only once the
#    pid file names a running daemon; reload of a broken file is refused
#    (the daemon is never signalled), of a good one done; stop; a stale
#    pid file naming another process (a sleep): stop leaves it alive and
#    says so, status 1, reload 7;
#  - the installed logrotate rules, their paths moved under ROOT: after
#    "logrotate -f" the daemon (which has no pid file there) writes to
#    the new log file, and a connection held open across the rotation
#    still works;
#  - "systemd-analyze verify" and "security --offline=yes" on the
#    installed units: clean, exposure below 5 (Debian's stunnel4: 9.6);
#  - the installed bash completion: switches (-check), and after -check
#    configuration files and directories but not other files.
# Parts whose tool is missing (logrotate, systemd-analyze) are skipped
# with a message; "-check" not implemented yet is detected and reported.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (init script, DESTDIR install)"; exit $SKIP; }
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit $SKIP; }
lib_mktemp
T=$TEST_TMP
ROOT=$T/root

# the build directory of the tested binary, else a build of our own
BUILD=${abs_top_builddir:-$(cd "$(dirname "$STUNNEL")/.." && pwd)}
# the outer make's job server is not ours
unset MAKEFLAGS MFLAGS MAKELEVEL
if [ ! -f "$BUILD/config.status" ]; then
    echo "no build directory beside $STUNNEL: building one"
    BUILD=$T/build
    mkdir -p "$BUILD" &&
        (cd "$BUILD" && "$TOP_SRCDIR/configure" --enable-silent-rules &&
            make -j2) >"$T/build.out" 2>&1 ||
        { tail -n 30 "$T/build.out"; echo "FAIL: build"; exit 1; }
fi

# mkvar NAME: a directory variable of the build, as make expands it
printf 'print-%%:\n\t@echo $($*)\n' >"$T/print.mk"
mkvar() {
    make -s --no-print-directory -C "$BUILD/tools" -f Makefile -f "$T/print.mk" "print-$1"
}

# --- 1. DESTDIR install and its file list
if ! make -C "$BUILD" install DESTDIR="$ROOT" >"$T/install.out" 2>&1; then
    tail -n 30 "$T/install.out"; echo "FAIL: make install"; exit 1
fi
bindir=$(mkvar bindir); pkglibdir=$(mkvar pkglibdir); sysconfdir=$(mkvar sysconfdir)
localstatedir=$(mkvar localstatedir); mandir=$(mkvar mandir); docdir=$(mkvar docdir)
datadir=$(mkvar datadir); systemdsystemunitdir=$(mkvar systemdsystemunitdir)
sysusersdir=$(mkvar sysusersdir); tmpfilesdir=$(mkvar tmpfilesdir)
for v in systemdsystemunitdir sysusersdir tmpfilesdir; do
    [ -n "${!v}" ] || { bad "the build has no $v (configure --with-$v)"; printf -v "$v" no; }
done
{
    echo "$bindir/stunnel"
    echo "$pkglibdir/libstunnel.so"
    echo "$pkglibdir/libstunnel.la"
    echo "$sysconfdir/stunnel/stunnel.conf-sample"
    echo "$sysconfdir/logrotate.d/stunnel"
    echo "$mandir/man8/stunnel.8"
    echo "$docdir/COPYING"
    echo "$docdir/NEWS"
    echo "$docdir/README.md"
    echo "$docdir/stunnel.html"
    echo "$docdir/examples/makecert.sh"
    echo "$docdir/examples/stunnel.init"
    echo "$docdir/examples/stunnel.socket"
    echo "$datadir/bash-completion/completions/stunnel.bash"
    if [ "$systemdsystemunitdir" != no ]; then
        echo "$systemdsystemunitdir/stunnel.service"
        echo "$systemdsystemunitdir/stunnel@.service"
    fi
    [ "$sysusersdir" = no ] || echo "$sysusersdir/stunnel.conf"
    [ "$tmpfilesdir" = no ] || echo "$tmpfilesdir/stunnel.conf"
} | LC_ALL=C sort >"$T/expected.lst"
(cd "$ROOT" && find . ! -type d | sed 's|^\.||' | LC_ALL=C sort) >"$T/installed.lst"
if ! diff -u "$T/expected.lst" "$T/installed.lst" >"$T/list.diff"; then
    bad "installed files differ from the expected list (- expected, + installed):"
    sed 's/^/    /' "$T/list.diff"
fi
[ "$systemdsystemunitdir" != no ] || echo "note: configure installs no systemd units here (no systemd.pc)"
# make cert: the certificate the sample names, root's only, never overwritten
if make -C "$BUILD" cert DESTDIR="$ROOT" >"$T/cert.out" 2>&1; then
    [ "$(stat -c %a "$ROOT$sysconfdir/stunnel/stunnel.pem" 2>/dev/null)" = 600 ] ||
        bad "make cert: no $sysconfdir/stunnel/stunnel.pem of mode 600"
    grep -q "^cert = $sysconfdir/stunnel/stunnel.pem$" "$ROOT$sysconfdir/stunnel/stunnel.conf-sample" ||
        bad "the sample does not name the certificate make cert writes"
    make -C "$BUILD" cert DESTDIR="$ROOT" >"$T/cert.out" 2>&1 && bad "make cert overwrote the certificate"
else
    bad "make cert failed:"; sed 's/^/    /' "$T/cert.out" | tail -n 5
fi
D=$ROOT$bindir/stunnel
[ -x "$D" ] || { echo "FAIL: no installed daemon $D"; exit 1; }
for f in "$docdir/examples/stunnel.init" "$docdir/examples/makecert.sh"; do
    [ -x "$ROOT$f" ] || bad "$f is not executable"
done

# --- stop every daemon still running the installed binary (at exit)
installed_pids() {
    local d exe
    for d in /proc/[0-9]*; do
        exe=$(readlink "$d/exe" 2>/dev/null) || continue
        [ "$exe" = "$D" ] && echo "${d#/proc/}"
    done
}
stop_installed() {
    local pids
    mapfile -t pids < <(installed_pids)
    [ "${#pids[@]}" -eq 0 ] || kill "${pids[@]}" 2>/dev/null
}
trap 'stop_installed; lib_cleanup' EXIT

lib_make_certs "$T/certs" >/dev/null 2>&1 || { echo "FAIL: certificates"; exit 1; }
lib_peer echo echo || exit 1
ECHO_PORT=$PEER_PORT

# the file of instance NAME (pid file and log in $T, a listener on a free port)
conf() {
    mkdir -p "$T/etc/stunnel" "$T/log"
    cat >"$T/etc/stunnel/$1.conf" <<EOF
; throw-away configuration of test 483
pid = $T/run/$1.pid
output = $T/log/$1.log
syslog = no
debug = debug
[svc]
accept = 127.0.0.1:0
connect = 127.0.0.1:$ECHO_PORT
cert = $T/certs/server.pem
EOF
}
# port NAME: the port the instance's daemon bound (its latest log line)
port() {
    local f=$T/log/$1
    [[ $1 == *.log* ]] || f=$f.log
    sed -n 's/.*Service \[svc\] (FD=[0-9]*) bound to .*:\([0-9]*\)$/\1/p' "$f" | tail -n 1
}
alive() { kill -0 "$1" 2>/dev/null; }

# --- 2. the init script
INIT=$T/stunnel.init
sed -e "s|$sysconfdir/stunnel|$T/etc/stunnel|g" -e "s|$sysconfdir/default|$T/etc/default|g" \
    -e "s|$bindir/stunnel|$D|g" "$ROOT$docdir/examples/stunnel.init" >"$INIT"
init() {  # init ACTION [NAME...]: output in $T/init.out, status in $rc
    rc=0
    sh "$INIT" "$@" >"$T/init.out" 2>&1 || rc=$?
}
expect_rc() {  # expect_rc STATUS WHAT
    [ "$rc" = "$1" ] || { bad "$2: exit status $rc, expected $1"; sed 's/^/    /' "$T/init.out"; }
}

conf a
init status a; expect_rc 3 "status of a stopped instance"
init status nosuch; expect_rc 4 "status of an unknown instance"
init start a; expect_rc 0 "start"
pid=$(cat "$T/run/a.pid" 2>/dev/null)
if grep -q "a: started (pid $pid)" "$T/init.out" && alive "$pid"; then
    [ "$(readlink "/proc/$pid/exe")" = "$D" ] || bad "the pid file names $pid, not the daemon"
else
    bad "start: no 'started (pid N)' naming a running daemon"; sed 's/^/    /' "$T/init.out"
fi
init status a; expect_rc 0 "status of a running instance"
lib_through "$(port a)" --tls || bad "no data through the daemon started by the init script"

# reload: a broken file is refused and the daemon not signalled
cp "$T/etc/stunnel/a.conf" "$T/a.good"
if "$D" -check "$T/a.good" >"$T/check.out" 2>&1; then
    have_check=yes
else
    have_check=no
    echo "note: $D -check does not accept a good file yet (not implemented?):"
    sed 's/^/    /' "$T/check.out" | head -n 5
fi
echo "bogusOption = 1" >>"$T/etc/stunnel/a.conf"
init reload a; expect_rc 1 "reload of a broken file"
grep -q "configuration check failed, not reloaded" "$T/init.out" ||
    bad "reload of a broken file: no refusal said"
sleep 0.5
if grep -q "SIGNAL_RELOAD_CONFIG\|Failed to reload" "$T/log/a.log"; then
    bad "reload of a broken file signalled the daemon"
fi
cp "$T/a.good" "$T/etc/stunnel/a.conf"
if [ $have_check = yes ]; then
    init reload a; expect_rc 0 "reload of a good file"
    lib_wait_for "$T/log/a.log" "SIGNAL_RELOAD_CONFIG" 5 || bad "reload of a good file: the daemon was not signalled"
else
    echo "note: reload of a good file not tested: -check is missing"
fi

init stop a; expect_rc 0 "stop"
for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
alive "$pid" && bad "stop: the daemon $pid still runs"
[ -e "$T/run/a.pid" ] && bad "stop: the pid file is left"
init status a; expect_rc 3 "status after stop"

# a stale pid file naming another process
lib_bg sleeper sleep 300
sleeper=$LIB_PID
echo "$sleeper" >"$T/run/a.pid"
init stop a; expect_rc 0 "stop with a stale pid file"
alive "$sleeper" || bad "stop with a stale pid file killed the process it names ($sleeper)"
grep -q "not this daemon" "$T/init.out" || bad "stop with a stale pid file: no word about it"
init reload a; expect_rc 7 "reload with a stale pid file"
init reopen-logs a; expect_rc 7 "reopen-logs with a stale pid file"
init status a; expect_rc 1 "status with a stale pid file"
alive "$sleeper" || bad "the process a stale pid file names was killed"
rm -f "$T/run/a.pid"

# --- 3. logrotate: the daemon has no pid file, and writes the new file
if ! command -v logrotate >/dev/null; then
    echo "note: logrotate not installed: rotation not tested"
else
    sed -e "s|$localstatedir/log/stunnel/|$T/log/|g" -e "s|$bindir/stunnel|$D|g" \
        "$ROOT$sysconfdir/logrotate.d/stunnel" >"$T/logrotate.conf"
    conf b
    sed -i '/^pid =/d' "$T/etc/stunnel/b.conf"
    "$D" "$T/etc/stunnel/b.conf" || bad "daemon b did not start"
    lib_wait_for "$T/log/b.log" "Accepting new connections" 10 || bad "daemon b: not accepting"
    # a connection held open across the rotation: its process must live on
    bpid=$(installed_pids | head -n 1)
    touch "$T/hold"
    lib_bg hold $PEERS hold "$(port b)" --tls --while "$T/hold"
    lib_wait_for "$T/hold.out" "held" 10 || bad "no connection held through daemon b"
    child=$(lib_children "$bpid" | head -n 1)
    [ -n "$child" ] || bad "no connection process of daemon b found"
    if ! logrotate -f -s "$T/logrotate.state" "$T/logrotate.conf" >"$T/logrotate.out" 2>&1; then
        bad "logrotate failed:"; sed 's/^/    /' "$T/logrotate.out"
    fi
    [ -s "$T/log/b.log.1" ] || bad "logrotate: no b.log.1"
    lib_wait_for "$T/log/b.log" "Log file reopened" 5 ||
        bad "after rotation the daemon does not write to the new b.log"
    lib_through "$(port b.log.1)" --tls || bad "no data through daemon b after the rotation"
    grep -q "Service \[svc\] accepted connection" "$T/log/b.log" ||
        bad "the connection after the rotation is not logged in the new b.log"
    [ -z "$child" ] || alive "$child" || bad "the rotation ended the connection process $child"
    rm -f "$T/hold"
fi

# --- 4. systemd units
if [ "$systemdsystemunitdir" = no ]; then
    echo "note: no units installed: systemd checks skipped"
elif ! command -v systemd-analyze >/dev/null; then
    echo "note: systemd-analyze not installed: units not verified"
else
    mkdir -p "$T/units"
    cp "$ROOT$systemdsystemunitdir/stunnel.service" "$T/units/"
    cp "$ROOT$systemdsystemunitdir/stunnel@.service" "$T/units/stunnel@test.service"
    cp "$ROOT$docdir/examples/stunnel.socket" "$T/units/"
    # the units run the installed daemon: point them at the one in ROOT
    sed -i "s|$bindir/stunnel|$D|g" "$T/units/"*
    for u in stunnel.service stunnel@test.service stunnel.socket; do
        if ! (cd "$T/units" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$u") \
                >"$T/verify.out" 2>&1 ||
           grep -v "^$" "$T/verify.out" | grep -q .; then
            bad "systemd-analyze verify $u:"; sed 's/^/    /' "$T/verify.out"
        fi
    done
    for u in stunnel.service stunnel@test.service; do
        systemd-analyze security --offline=yes "$T/units/$u" >"$T/security.out" 2>&1
        score=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' "$T/security.out")
        echo "systemd-analyze security --offline=yes $u: ${score:-?}"
        if [ -z "$score" ]; then
            bad "security of $u: no score"; sed 's/^/    /' "$T/security.out" | tail -n 5
        elif ! awk -v s="$score" 'BEGIN { exit !(s < 5) }'; then
            bad "security of $u: exposure $score, not below 5"
        fi
    done
    for u in stunnel.service stunnel@test.service; do
        grep -q "^Type=notify$" "$T/units/$u" || bad "$u is not Type=notify"
        grep -q "^ExecReload=$D -check " "$T/units/$u" || bad "$u: ExecReload does not check first"
        grep -q "^RuntimeDirectory=stunnel$" "$T/units/$u" || bad "$u: no RuntimeDirectory="
    done
fi

# --- 5. bash completion
comp() {  # comp WORD...: what _stunnel offers for the last word
    # shellcheck disable=SC1090
    (cd "$T/comp" && source "$ROOT$datadir/bash-completion/completions/stunnel.bash" &&
        COMP_WORDS=("$@") && COMP_CWORD=$(($# - 1)) && _stunnel &&
        for w in "${COMPREPLY[@]}"; do echo "$w"; done | LC_ALL=C sort | tr '\n' ' ')
}
mkdir -p "$T/comp/sub.d"
: >"$T/comp/web.conf"; : >"$T/comp/notes.txt"
got=$(comp stunnel -ch); [ "$got" = "-check " ] || bad "completion of '-ch': '$got'"
got=$(comp stunnel -); case $got in *-check*-fd*-help*-options*-sockets*-version*) ;;
    *) bad "completion of '-': '$got'" ;; esac
got=$(comp stunnel ""); [ "$got" = "sub.d web.conf " ] || bad "completion of a file: '$got'"
got=$(comp stunnel -check w); [ "$got" = "web.conf " ] || bad "completion of a file after -check: '$got'"
got=$(comp stunnel -check -); [ "$got" = "-fd " ] || bad "completion of a switch after -check: '$got'"
got=$(comp stunnel web.conf ""); [ -z "$got" ] || bad "completion after a file: '$got'"

exit $fail
