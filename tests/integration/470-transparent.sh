#!/bin/bash
# transparent = source | destination | both, in network namespaces made
# here (never the host's own): a client namespace (10.47.1.2,
# fd47:1::2), the daemon's (10.47.1.1 and 10.47.2.1, fd47:1::1 and
# fd47:2::1, forwarding) and a backend namespace (10.47.2.2, fd47:2::2),
# where a server answers each connection with the address of its peer and
# the address it was reached at. In the daemon's namespace, the manual's
# recipe: a mangle DIVERT chain marking packets of local sockets, "ip rule
# add fwmark 1 lookup 100", "ip route add local 0.0.0.0/0 dev lo table
# 100" (and the IPv6 ones), and nat REDIRECT rules for destination.
#  (a) source (IPv4 and IPv6): the backend sees the client's address and
#      port, not the daemon's; the log has "IP_TRANSPARENT socket option
#      set" and "bind succeeded on the original port";
#  (b) destination (IPv4 and IPv6): the client connects to the backend's
#      address, REDIRECTed to the daemon, which reaches that original
#      destination (no "connect" in the section);
#  (c) both: the original destination, reached from the client's address;
#  (d) inetd mode with source and no socket on standard input:
#      "Transparent source needs a socket", the connection reset.
# Skips without root, ip netns, iptables/ip6tables or the kernel's
# TPROXY pieces (socket match, nat).
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces, IP_TRANSPARENT)"; exit $SKIP; }
for cmd in ip iptables ip6tables openssl python3; do
    command -v $cmd >/dev/null 2>&1 || { echo "SKIP: $cmd not installed"; exit $SKIP; }
done
lib_mktemp
T=$TEST_TMP
C=st470c-$$ M=st470m-$$ S=st470s-$$
netns_cleanup() {
    local ns p
    for ns in $C $M $S; do
        for p in $(ip netns pids $ns 2>/dev/null); do kill "$p" 2>/dev/null; done
    done
    lib_cleanup
    for ns in $C $M $S; do ip netns del $ns 2>/dev/null; done
}
trap netns_cleanup EXIT
ip netns add $C 2>/dev/null || { echo "SKIP: cannot create network namespaces"; exit $SKIP; }
ip netns add $M && ip netns add $S || exit 1
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

setup() {
    local ns
    for ns in $C $M $S; do nsx $ns ip link set lo up || return 1; done
    nsx $M ip link add m0 type veth peer name c0 netns $C &&
    nsx $M ip link add m1 type veth peer name s0 netns $S &&
    nsx $C ip addr add 10.47.1.2/24 dev c0 &&
    nsx $C ip addr add fd47:1::2/64 dev c0 nodad &&
    nsx $M ip addr add 10.47.1.1/24 dev m0 &&
    nsx $M ip addr add fd47:1::1/64 dev m0 nodad &&
    nsx $M ip addr add 10.47.2.1/24 dev m1 &&
    nsx $M ip addr add fd47:2::1/64 dev m1 nodad &&
    nsx $S ip addr add 10.47.2.2/24 dev s0 &&
    nsx $S ip addr add fd47:2::2/64 dev s0 nodad || return 1
    for ns in $C $M $S; do
        nsx $ns ip link set c0 up 2>/dev/null
        nsx $ns ip link set m0 up 2>/dev/null
        nsx $ns ip link set m1 up 2>/dev/null
        nsx $ns ip link set s0 up 2>/dev/null
    done
    nsx $C ip route add default via 10.47.1.1 &&
    nsx $C ip -6 route add default via fd47:1::1 &&
    nsx $S ip route add default via 10.47.2.1 &&
    nsx $S ip -6 route add default via fd47:2::1 &&
    nsx $M sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
        net.ipv4.conf.lo.rp_filter=0
}
# the manual's routing for source, and REDIRECTs for destination
rules() {
    local t
    for t in iptables ip6tables; do
        nsx $M $t -t mangle -N DIVERT &&
        nsx $M $t -t mangle -A PREROUTING -p tcp -m socket -j DIVERT &&
        nsx $M $t -t mangle -A DIVERT -j MARK --set-mark 1 &&
        nsx $M $t -t mangle -A DIVERT -j ACCEPT || return 1
    done
    nsx $M ip rule add fwmark 1 lookup 100 &&
    nsx $M ip route add local 0.0.0.0/0 dev lo table 100 &&
    nsx $M ip -6 rule add fwmark 1 lookup 100 &&
    nsx $M ip -6 route add local ::/0 dev lo table 100 &&
    nsx $M iptables -t nat -A PREROUTING -i m0 -p tcp --dport 8001 -j REDIRECT --to-ports 4431 &&
    nsx $M ip6tables -t nat -A PREROUTING -i m0 -p tcp --dport 8001 -j REDIRECT --to-ports 4436 &&
    nsx $M iptables -t nat -A PREROUTING -i m0 -p tcp --dport 8002 -j REDIRECT --to-ports 4432 &&
    # both: the daemon's connection has the very addresses the client's
    # had before REDIRECT, a conntrack clash (its SYN dropped) unless
    # netfilter leaves that connection untracked
    nsx $M iptables -t raw -A OUTPUT -p tcp -d 10.47.2.2 --dport 8002 -j CT --notrack &&
    nsx $M iptables -t raw -A PREROUTING -i m1 -p tcp -s 10.47.2.2 --sport 8002 -j CT --notrack
}
setup || { echo "FAIL: network namespaces could not be set up"; exit 1; }
rules 2>"$T/rules.err" || { echo "SKIP: iptables TPROXY/REDIRECT rules unavailable: $(cat "$T/rules.err")"; exit $SKIP; }

lib_make_certs "$T/certs" || { echo "FAIL: certificates"; exit 1; }

# the backend: each connection is told "PEER ADDR PORT AT ADDR PORT"
cat >"$T/whoami.py" <<'EOF'
import selectors, socket, sys
sel = selectors.DefaultSelector()
for port in map(int, sys.argv[1:]):
    s = socket.socket(socket.AF_INET6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    s.listen(16)
    sel.register(s, selectors.EVENT_READ)
print("listening", flush=True)
plain = lambda a: a.removeprefix("::ffff:")
while True:
    for key, _ in sel.select():
        c, peer = key.fileobj.accept()
        here = c.getsockname()
        c.sendall(("PEER %s %d AT %s %d\n" % (plain(peer[0]), peer[1],
                   plain(here[0]), here[1])).encode())
        c.close()
EOF
# the client: TLS to HOST PORT, prints "LOCAL ADDR PORT" and what it got
cat >"$T/client.py" <<'EOF'
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
raw = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
here = raw.getsockname()
print("LOCAL %s %d" % (here[0], here[1]), flush=True)
s = ctx.wrap_socket(raw)
data = b""
while True:
    try:
        chunk = s.recv(4096)
    except (ssl.SSLError, OSError):
        break
    if not chunk:
        break
    data += chunk
print(data.decode().strip())
EOF
lib_bg whoami ip netns exec $S python3 "$T/whoami.py" 8000 8001 8002
lib_wait_for "$T/whoami.out" listening || { echo "FAIL: backend did not start"; exit 1; }

cat >"$T/d.conf" <<EOF
foreground = yes
debug = debug
pid =
cert = $T/certs/server.pem
[src]
accept = 10.47.1.1:4430
connect = 10.47.2.2:8000
transparent = source
[src6]
accept = fd47:1::1:4435
connect = fd47:2::2:8000
transparent = yes
[dst]
accept = 0.0.0.0:4431
transparent = destination
[dst6]
accept = :::4436
transparent = destination
[both]
accept = 0.0.0.0:4432
transparent = both
EOF
lib_bg d ip netns exec $M "$STUNNEL" "$T/d.conf"
if ! lib_wait_for "$T/d.out" 'Accepting new connections|Configuration failed' 10 ||
   ! grep -q 'Accepting new connections' "$T/d.out"; then
    echo "FAIL: the daemon did not start:"; sed 's/^/    /' "$T/d.out"; exit 1
fi
grep -q 'not implemented' "$T/d.out" && bad "'transparent' still said to be unimplemented"

# run NAME HOST PORT: the client in its namespace; "LOCAL ..." and
# "PEER ..." lines in $T/NAME.client
run() {
    timeout 20 ip netns exec $C python3 "$T/client.py" "$2" "$3" >"$T/$1.client" 2>&1
}
# check NAME WANT: the backend's line must be WANT (a grep -E pattern)
check() {
    grep -Eq "^PEER $2\$" "$T/$1.client" ||
        bad "$1: the backend said '$(grep -v LOCAL "$T/$1.client")', wanted 'PEER $2'"
}
# the client's own address and port, as the backend should see them
local_of() { sed -n 's/^LOCAL //p' "$T/$1.client"; }

# (a) source
run src 10.47.1.1 4430
check src "$(local_of src) AT 10.47.2.2 8000"
run src6 fd47:1::1 4435
check src6 "$(local_of src6) AT fd47:2::2 8000"
sleep 0.3
for l in 'IP_TRANSPARENT socket option set' 'bind succeeded on the original port'; do
    [ "$(grep -c "LOG6\[[0-9]*\]: $l\$" "$T/d.out")" -ge 2 ] || bad "source: no '$l' (level 6) for each connection"
done

# (b) destination: addressed to the backend, redirected to the daemon
run dst 10.47.2.2 8001
check dst "10\.47\.2\.1 [0-9]+ AT 10\.47\.2\.2 8001"
run dst6 fd47:2::2 8001
check dst6 "fd47:2::1 [0-9]+ AT fd47:2::2 8001"

# (c) both: the original destination, from the client's address
run both 10.47.2.2 8002
check both "10\.47\.1\.2 [0-9]+ AT 10\.47\.2\.2 8002"

# (d) inetd mode, nothing but /dev/null on standard input
cat >"$T/i.conf" <<EOF
foreground = yes
debug = debug
pid =
cert = $T/certs/server.pem
connect = 127.0.0.1:9
transparent = source
EOF
timeout 10 ip netns exec $M "$STUNNEL" "$T/i.conf" </dev/null >"$T/i.out" 2>&1
grep -q 'LOG3\[0\]: Transparent source needs a socket$' "$T/i.out" ||
    bad "inetd: no 'Transparent source needs a socket'"
grep -q 'Connection reset: 0 byte(s) sent to TLS, 0 byte(s) sent to socket' "$T/i.out" ||
    bad "inetd: the connection was not reset"
grep -q 'accepted connection' "$T/i.out" && bad "inetd: a connection without a socket was accepted"

if [ $fail != 0 ]; then
    echo "--- daemon log"; sed 's/^/    /' "$T/d.out"
fi
exit $fail
