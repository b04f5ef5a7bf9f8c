#!/bin/bash
# 480-check-mode: "stunnel -check FILE" and "stunnel -check -fd N", seen
# from outside.
#  (a) the whole corpus: every good file "Configuration successful", exit
#      0; every bad one "Configuration failed", exit 1, at its EXPECT line,
#      its first error line the one a start prints (started isolated);
#  (b) nothing bound (a port another process holds does not matter), no
#      pid file, no output file, no process left behind (a subreaper
#      would inherit it), messages on stderr only, foreground = no;
#  (c) a daemon running with the same pid file is not signalled: it keeps
#      its pid file and carries data;
#  (d) two wrong lines: both reported, each at its FILE:LINE (a start
#      stops at the first); a missing chroot directory is an error;
#      so is a pid directory the setuid user cannot write (in (e));
#  (e) warnings, exit 0: the root-only key tools/makecert.sh writes and a
#      setuid user; a chroot that
#      lacks the exec program, then its ELF interpreter, and CApath;
#      none when the user can read and write what it needs (modes, or an
#      ACL naming the user; its mask applies);
#  (f) -check -fd N, good and broken; -check -fd without N (usage).
# Fails on a daemon without -check ("Invalid configuration file name").
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (setuid cases, file owners)"; exit $SKIP; }
id nobody >/dev/null 2>&1 || { echo "SKIP: no user nobody"; exit $SKIP; }
lib_mktemp
T=$TEST_TMP
chmod 755 "$T"
lib_make_certs "$T/certs" || { echo "FAIL: certificates"; exit 1; }
CERTS=$T/certs

# run_check OUT ARGS...: "stunnel -check ARGS" from OUT's directory, as a
# subreaper: LEFT holds the pids of processes it left behind. Sets RC.
run_check() {
    local out=$1; shift
    python3 - "$out" "$STUNNEL" -check "$@" <<'EOF'
import ctypes, os, subprocess, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)     # PR_SET_CHILD_SUBREAPER
out = sys.argv[1]
with open(out, "wb") as err, open(out + ".stdout", "wb") as so:
    rc = subprocess.run(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=so,
                        stderr=err, cwd=os.path.dirname(out) or ".", timeout=30).returncode
left = []
while True:
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break
    if pid == 0:        # alive: ours to stop
        for p in os.listdir("/proc"):
            if p.isdigit():
                try:
                    if open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()[1] == str(os.getpid()):
                        left.append(p)
                        os.kill(int(p), 9)
                except OSError:
                    pass
        os.wait()
    else:
        left.append(str(pid))
open(out + ".left", "w").write(" ".join(left))
sys.exit(rc)
EOF
    RC=$?
    LEFT=$(cat "$out.left")
}

# --- (a) the corpus -------------------------------------------------------
isolated=1
unshare --net --pid --fork --kill-child --mount-proc true >/dev/null 2>&1 || isolated=0
mkdir -p "$T/corpus"
n=0 nbad=0
for name in $(lib_corpus_files); do
    n=$((n + 1))
    entry=$(lib_expect "$name") || { bad "$name: no line in EXPECT"; continue; }
    want=${entry%%|*}
    d=$T/corpus/$name.tmp
    mkdir -p "$d"
    lib_make_scratch "$d" "$CERTS"
    lib_subst "$CORPUS_DIR/$name" "$d/$name" "$CERTS" "$d"
    run_check "$d/check.out" "$d/$name"
    got=$(lib_classify "$d/check.out" "$RC")
    case $want in
    accept)
        [ $RC = 0 ] && grep -q 'Configuration successful' "$d/check.out" ||
            { bad "$name: check exits $RC, expected success"; sed 's/^/    | /' "$d/check.out" | tail -5; }
        ;;
    reject*)
        nbad=$((nbad + 1))
        [ $RC = 1 ] || bad "$name: check exits $RC, expected 1"
        [ "$got" = "$want" ] || { bad "$name: check says '$got', expected '$want'"; grep '^\[!\]' "$d/check.out" | head -3; }
        if [ $isolated = 1 ]; then
            rc=$(lib_run "$STUNNEL" "$d/$name" "$d/start.out" "$d")
            [ "$(grep -m1 '^\[!\]' "$d/start.out")" = "$(grep -m1 '^\[!\]' "$d/check.out")" ] ||
                bad "$name: first error differs from a start's: '$(grep -m1 '^\[!\]' "$d/check.out")' / '$(grep -m1 '^\[!\]' "$d/start.out")'"
        fi
        ;;
    esac
    [ -z "$LEFT" ] || bad "$name: check left processes behind: $LEFT"
    [ -s "$d/check.out.stdout" ] && bad "$name: check wrote to stdout"
done
echo "480: corpus: $n files checked ($nbad bad)"

# --- (b) nothing bound, written or left running ---------------------------
mkdir -p "$T/run"
port=$(lib_free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
open(sys.argv[2], "w").write("up\n"); time.sleep(120)' "$port" "$T/holder.up" &
holder=$!
LIB_PIDS+=("$holder")
lib_wait_for "$T/holder.up" up || bad "port holder did not start"
cat >"$T/run/b.conf" <<EOF
foreground = no
pid = $T/run/b.pid
output = $T/run/b.log
debug = info
[svc]
accept = 127.0.0.1:$port
connect = 127.0.0.1:9
cert = $CERTS/server.pem
EOF
run_check "$T/run/b.out" "$T/run/b.conf"
[ $RC = 0 ] || { bad "(b) check exits $RC"; cat "$T/run/b.out"; }
grep -q 'Configuration successful' "$T/run/b.out" || bad "(b) no 'Configuration successful'"
grep -q 'bound to\|Binding service' "$T/run/b.out" && bad "(b) check bound the service"
[ -e "$T/run/b.pid" ] && bad "(b) check created the pid file"
[ -e "$T/run/b.log" ] && bad "(b) check created the output file"
[ -z "$LEFT" ] || bad "(b) check left processes behind: $LEFT"
[ -s "$T/run/b.out.stdout" ] && bad "(b) check wrote to stdout"
# the same file started: the held port makes it fail (the check did not bind)
"$STUNNEL" "$T/run/b.conf" >"$T/run/b-start.out" 2>&1 </dev/null &&
    bad "(b) a start with the port held succeeded"
kill "$holder" 2>/dev/null
rm -f "$T/run/b.pid" "$T/run/b.log"

# --- (c) a running daemon is left alone -------------------------------------
lib_peer echo echo || exit 1
cat >"$T/run/c.conf" <<EOF
foreground = yes
syslog = no
debug = info
pid = $T/run/c.pid
[svc]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
cert = $CERTS/server.pem
EOF
lib_daemon d "$T/run/c.conf" || exit 1
dpid=$LIB_PID
dport=$(lib_port d svc)
lib_wait_for "$T/run/c.pid" "^$dpid\$" || bad "(c) daemon wrote no pid file"
before=$(stat -c '%i %Y %s' "$T/run/c.pid")
run_check "$T/run/c.out" "$T/run/c.conf"
[ $RC = 0 ] || { bad "(c) check exits $RC"; cat "$T/run/c.out"; }
kill -0 "$dpid" 2>/dev/null || bad "(c) the running daemon died"
[ "$(cat "$T/run/c.pid" 2>/dev/null)" = "$dpid" ] || bad "(c) the pid file changed"
[ "$(stat -c '%i %Y %s' "$T/run/c.pid")" = "$before" ] || bad "(c) the pid file was rewritten"
grep -q 'Received signal\|Processing SIGNAL\|Terminated' "$T/d.out" && bad "(c) the daemon got a signal"
lib_through "$dport" --tls --ca "$CERTS/ca.pem" || bad "(c) the daemon no longer carries data"

# --- (d) every wrong line; a missing chroot -------------------------------
cat >"$T/run/d.conf" <<EOF
foreground = yes
nosuchoption = 1
[svc]
client = yes
accept = 127.0.0.1:0
connect = 127.0.0.1:9
TIMEOUTidle = soon
EOF
run_check "$T/run/d.out" "$T/run/d.conf"
[ $RC = 1 ] || bad "(d) two wrong lines: check exits $RC"
grep -q "^\[!\] $T/run/d.conf:2: \"nosuchoption = 1\": Specified option name is not valid here" "$T/run/d.out" ||
    { bad "(d) line 2 not reported"; cat "$T/run/d.out"; }
grep -q "^\[!\] $T/run/d.conf:7: \"TIMEOUTidle = soon\": " "$T/run/d.out" ||
    { bad "(d) line 7 not reported"; cat "$T/run/d.out"; }
grep -q '^\[!\] Configuration failed' "$T/run/d.out" || bad "(d) no 'Configuration failed'"
printf 'foreground = yes\nchroot = %s\n[svc]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n' \
    "$T/no-such-jail" >"$T/run/d2.conf"
run_check "$T/run/d2.out" "$T/run/d2.conf"
[ $RC = 1 ] || bad "(d) missing chroot: check exits $RC"
grep -q "^\[!\] $T/run/d2.conf:2: chroot = $T/no-such-jail: No such file or directory" "$T/run/d2.out" ||
    { bad "(d) missing chroot not reported"; cat "$T/run/d2.out"; }

# --- (e) warnings ----------------------------------------------------------
W=$T/w
mkdir -p "$W/piddir" "$W/jail"
chmod 755 "$W" "$W/piddir" "$W/jail"
sh "$TOP_SRCDIR/tools/makecert.sh" "$W/stunnel.pem" >/dev/null 2>&1 ||
    { bad "makecert.sh failed"; exit 1; }
cat >"$W/e.conf" <<EOF
foreground = yes
setuid = nobody
pid = $W/piddir/e.pid
[svc]
accept = 127.0.0.1:0
connect = 127.0.0.1:9
cert = $W/stunnel.pem
EOF
chmod 644 "$W/e.conf"
run_check "$W/e.out" "$W/e.conf"
# a pid file the user cannot create stops a start: an error
[ $RC = 1 ] || { bad "(e) unwritable pid directory: check exits $RC"; cat "$W/e.out"; }
grep -q 'Configuration failed' "$W/e.out" || bad "(e) no 'Configuration failed'"
grep -q "$W/e.conf:7: cert = $W/stunnel.pem: user nobody (uid 65534), group root (gid 0) could not read it after dropping privileges ($W/stunnel.pem is mode 0600, owner root:root): a reload (SIGHUP) would fail" "$W/e.out" ||
    { bad "(e) no warning about the root-only key"; cat "$W/e.out"; }
grep -q "^\[!\] $W/e.conf:3: pid = $W/piddir/e.pid: user nobody (uid 65534), group root (gid 0) could not create it after dropping privileges ($W/piddir is mode 0755, owner root:root): the daemon would fail to start" "$W/e.out" ||
    { bad "(e) no error about the pid directory"; cat "$W/e.out"; }
[ -e "$W/piddir/e.pid" ] && bad "(e) check created the pid file"
"$STUNNEL" "$W/e.conf" >"$W/e-start.out" 2>&1 </dev/null &&
    { bad "(e) a start with the pid directory unwritable succeeded"; pkill -f "$W/e.conf"; }
# a root-only key alone is a warning: the start works, a reload would not
chmod 777 "$W/piddir"
run_check "$W/e1.out" "$W/e.conf"
[ $RC = 0 ] || { bad "(e) warnings: check exits $RC"; cat "$W/e1.out"; }
grep -q 'Configuration successful' "$W/e1.out" || bad "(e) no 'Configuration successful'"
grep -q "LOG4\[ui\]: $W/e.conf:7: cert = $W/stunnel.pem: .* a reload (SIGHUP) would fail" "$W/e1.out" ||
    { bad "(e) no warning about the root-only key"; cat "$W/e1.out"; }
# the same with setgid and files that group may use: no warning
chgrp nogroup "$W/stunnel.pem" "$W/piddir"
chmod 640 "$W/stunnel.pem"
chmod 775 "$W/piddir"
sed -i 's/^setuid = nobody$/setuid = nobody\nsetgid = nogroup/' "$W/e.conf"
run_check "$W/e2.out" "$W/e.conf"
[ $RC = 0 ] || bad "(e) readable: check exits $RC"
grep -q 'LOG4' "$W/e2.out" && { bad "(e) a warning where the user can read and write"; grep LOG4 "$W/e2.out"; }
# an ACL naming the user: readable under the mask r, not under an empty one
acl() {  # FILE TAG:PERM:ID...: set the access ACL as the kernel stores it
    python3 -c 'import os, struct, sys
os.setxattr(sys.argv[1], "system.posix_acl_access", struct.pack("<I", 2) +
    b"".join(struct.pack("<HHI", *(int(f, 0) for f in e.split(":"))) for e in sys.argv[2:]))' "$@"
}
chgrp root "$W/stunnel.pem"
chmod 600 "$W/stunnel.pem"
any=4294967295
if acl "$W/stunnel.pem" 1:6:$any 2:4:65534 4:0:$any 0x10:4:$any 0x20:0:$any 2>/dev/null; then
    run_check "$W/e3.out" "$W/e.conf"
    grep -q 'LOG4' "$W/e3.out" && { bad "(e) a warning where an ACL lets the user read"; grep LOG4 "$W/e3.out"; }
    acl "$W/stunnel.pem" 1:6:$any 2:4:65534 4:0:$any 0x10:0:$any 0x20:0:$any
    run_check "$W/e4.out" "$W/e.conf"
    grep -q "LOG4\[ui\]: $W/e.conf:8: cert = $W/stunnel.pem: .* could not read it after dropping privileges ($W/stunnel.pem is mode 0600 with an ACL, owner root:root)" "$W/e4.out" ||
        { bad "(e) no warning where the ACL's mask refuses"; cat "$W/e4.out"; }
else
    echo "note: no POSIX ACLs on $W's file system, ACL cases skipped"
fi

# a chroot without the exec program, then without its interpreter
cat >"$W/j.conf" <<EOF
foreground = yes
chroot = $W/jail
[svc]
accept = 127.0.0.1:0
exec = /bin/cat
cert = $CERTS/server.pem
CApath = /etc/ssl/certs
verifyChain = yes
EOF
run_check "$W/j.out" "$W/j.conf"
[ $RC = 0 ] || { bad "(e) chroot: check exits $RC"; cat "$W/j.out"; }
grep -q "LOG4\[ui\]: $W/j.conf:5: exec = /bin/cat: .* could not run it in the chroot ($W/jail/bin: No such file or directory): every connection of \[svc\] would fail" "$W/j.out" ||
    { bad "(e) no warning about the exec program missing from the chroot"; cat "$W/j.out"; }
grep -q "LOG4\[ui\]: $W/j.conf:7: CApath = /etc/ssl/certs: .* could not read this directory in the chroot at connection time ($W/jail/etc: No such file or directory)" "$W/j.out" ||
    { bad "(e) no warning about CApath missing from the chroot"; cat "$W/j.out"; }
mkdir -p "$W/jail/bin"
cp /bin/cat "$W/jail/bin/cat"
interp=$(python3 -c 'import sys
d = open("/bin/cat", "rb").read()
i = d.find(b"/lib"); print(d[i:d.index(b"\0", i)].decode())')
run_check "$W/j2.out" "$W/j.conf"
grep -q "LOG4\[ui\]: $W/j.conf:5: exec = /bin/cat: $W/jail/bin/cat needs $interp, which is not in the chroot" "$W/j2.out" ||
    { bad "(e) no warning about the ELF interpreter ($interp) missing from the chroot"; cat "$W/j2.out"; }

# --- (f) -check -fd N ------------------------------------------------------
"$STUNNEL" -check -fd 5 5<"$T/run/c.conf" >"$T/f.out" 2>&1 </dev/null; rc=$?
[ $rc = 0 ] || bad "(f) -check -fd 5 exits $rc"
grep -q 'Reading configuration from descriptor 5' "$T/f.out" || bad "(f) descriptor 5 not read"
grep -q 'Configuration successful' "$T/f.out" || { bad "(f) -check -fd 5: no success"; cat "$T/f.out"; }
"$STUNNEL" -check -fd 5 5<"$T/run/d.conf" >"$T/f2.out" 2>&1 </dev/null; rc=$?
[ $rc = 1 ] || bad "(f) -check -fd 5 on a broken file exits $rc"
grep -q '^\[!\] 5:2: "nosuchoption = 1": ' "$T/f2.out" || { bad "(f) broken file by descriptor: no 5:2"; cat "$T/f2.out"; }
"$STUNNEL" -check -fd >"$T/f3.out" 2>&1 </dev/null; rc=$?
[ $rc = 1 ] || bad "(f) -check -fd without N exits $rc"
grep -q '^\[!\] No file descriptor specified' "$T/f3.out" || bad "(f) -check -fd: no 'No file descriptor specified'"
grep -q '^\[\.\]     -check ' "$T/f3.out" || bad "(f) the usage lines do not list -check"

exit $fail
