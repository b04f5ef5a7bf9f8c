#!/bin/bash
# protocol = socks. Server mode is the manual's SOCKS VPN: in a private
# network namespace with a non-loopback address (10.77.0.1, added to the
# namespace's own lo) a web server listens; a client section of ours
# carries plain connections over TLS to a server section with "protocol =
# socks", and curl goes through with SOCKS4, SOCKS4a, SOCKS5 and SOCKS5
# with a host name. A loopback destination is refused, as stunnel does
# ("SOCKS connection to the IPv4 loopback rejected"), and so is a closed
# port. So is every other way to this host's own services, where stunnel
# connects: 0.0.0.0, ::, IPv4-mapped and -compatible loopback addresses,
# and names resolving to them ("0", "127.1"), with SOCKS 4, 4a, 5 (IPv4,
# IPv6, name), and a 4a/5 "name" that is a Unix socket path; a listener
# on 127.0.0.1 and one on ::1 check that nothing got through, and the
# replies are stunnel's refusals (SOCKS 4: 91, SOCKS 5: 2, "Connection not
# allowed by ruleset"). stunnel4 as the SOCKS server behind our client, and as the
# client in front of ours, gives the same pages. Client mode: a section
# asks the SOCKS server at the other end of its TLS connection (ours, and
# stunnel4's) for protocolHost, with SOCKS 5 inside TLS, always as a name
# (DOMAINNAME, as stunnel 5.74+); a refused request ends the connection.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit $SKIP; }
if [ -z "${IN_NETNS:-}" ]; then
    unshare --net true 2>/dev/null || { echo "SKIP: cannot make a network namespace"; exit $SKIP; }
    IN_NETNS=1 exec unshare --net bash -c 'ip link set lo up &&
        ip addr add 10.77.0.1/32 dev lo && exec "$0" "$@"' "$(readlink -f "$0")" "$@"
fi
ip addr show lo 2>/dev/null | grep -q 10.77.0.1 || { echo "SKIP: cannot add 10.77.0.1"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
c=$TEST_TMP/certs
echo "through the SOCKS tunnel" >"$TEST_TMP/index.html"
lib_peer web http "$TEST_TMP" --bind 10.77.0.1 || exit 1
web=$PEER_PORT
lib_peer local http "$TEST_TMP" --bind 127.0.0.1 || exit 1
lib_peer local6 http "$TEST_TMP" --bind ::1 || exit 1

cat >"$TEST_TMP/server.conf" <<EOF
foreground = yes
syslog = no
debug = info
[socks]
accept = 127.0.0.1:0
cert = $c/server.pem
protocol = socks
EOF
lib_daemon s "$TEST_TMP/server.conf" || exit 1
client_conf() {  # SERVER-PORT
    printf 'foreground = yes\nsyslog = no\ndebug = info\n[vpn]\nclient = yes\n'
    printf 'accept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\nverifyChain = yes\nCAfile = %s\ncheckHost = localhost\n' \
        "$1" "$c/ca.pem"
}
client_conf "$(lib_port s socks)" >"$TEST_TMP/client.conf"
lib_daemon cl "$TEST_TMP/client.conf" || exit 1
vpn=$(lib_port cl vpn)

fetch() {  # SOCKS-OPTION PROXY-PORT URL
    curl -s --max-time 10 "$1" "127.0.0.1:$2" "$3"
}
for opt in --socks4 --socks4a --socks5 --socks5-hostname; do
    [ "$(fetch $opt "$vpn" "http://10.77.0.1:$web/index.html")" = "through the SOCKS tunnel" ] ||
        bad "$opt: the page did not come through"
done
# SOCKS5 with a name (ATYP 3), which curl does not send for an address
cat >"$TEST_TMP/socks5name.py" <<'END_OF_CLIENT'
import socket, struct, sys
port, host, web = int(sys.argv[1]), sys.argv[2].encode(), int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"\x05\x01\x00")
assert s.recv(2) == b"\x05\x00"
s.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host + struct.pack(">H", web))
reply = b""
while len(reply) < 10:
    reply += s.recv(10 - len(reply))
assert reply[1] == 0, reply
s.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.split(b"\r\n\r\n", 1)[1].decode().strip())
END_OF_CLIENT
[ "$(python3 "$TEST_TMP/socks5name.py" "$vpn" 10.77.0.1 "$web" 2>&1)" = "through the SOCKS tunnel" ] ||
    bad "SOCKS5 with a host name: the page did not come through"
[ "$(fetch --socks5-hostname "$vpn" "http://localhost:$(cat "$TEST_TMP/local.port")/index.html")" = "" ] ||
    bad "a loopback destination (by name) was reached"
[ "$(fetch --socks5 "$vpn" "http://127.0.0.1:$(cat "$TEST_TMP/local.port")/index.html")" = "" ] ||
    bad "a loopback destination was reached"
fetch --socks4 "$vpn" "http://10.77.0.1:1/" && bad "a closed port was reported reachable"
# the other ways to this host's own services
local=$(cat "$TEST_TMP/local.port") local6=$(cat "$TEST_TMP/local6.port")
for t in "--socks4 0.0.0.0:$local" "--socks4a 0:$local" "--socks4a 127.1:$local" \
    "--socks5 0.0.0.0:$local" "--socks5 [::]:$local6" "--socks5 [::1]:$local6" \
    "--socks5 [::ffff:127.0.0.1]:$local" "--socks5-hostname 0:$local" "--socks5-hostname 127.1:$local"; do
    [ "$(fetch ${t%% *} "$vpn" "http://${t#* }/index.html")" = "" ] || bad "$t: this host was reached"
done
cat >"$TEST_TMP/bypass.py" <<'END_OF_BYPASS'
# raw SOCKS requests for this host's own addresses: each must be refused
# with the protocol's refusal and nothing after it
import ipaddress, os, socket, struct, sys
vpn, p4, p6, tmp = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def ask(req, reply_len):
    s = socket.create_connection(("127.0.0.1", vpn), timeout=10)
    s.sendall(req)
    data = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
            if len(data) >= reply_len:
                s.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
    except OSError:
        pass
    return data
def socks4(ip, port, host=None):
    req = b"\x04\x01" + struct.pack(">H", port) + ipaddress.IPv4Address(ip).packed + b"user\0"
    return ask(req + (host.encode() + b"\0" if host is not None else b""), 8)
def socks5(atyp, addr, port):
    return ask(b"\x05\x01\x00\x05\x01\x00" + bytes([atyp]) + addr + struct.pack(">H", port), 12)
failed = 0
def check(what, got, want):
    global failed
    if got != want:
        print("FAIL: %s: %r instead of %r" % (what, got, want))
        failed = 1
for ip in ("127.0.0.1", "127.0.0.2", "0.0.0.0"):
    check("SOCKS4 " + ip, socks4(ip, p4), b"\0\x5b" + struct.pack(">H", p4) + ipaddress.IPv4Address(ip).packed)
for host in ("localhost", "0", "127.1", "0.0.0.0", "::ffff:127.0.0.1", "::ffff:0.0.0.0", "::127.0.0.1"):
    check("SOCKS4a " + host, socks4("0.0.0.1", p4, host), b"\0\x5b" + struct.pack(">H", p4) + b"\0\0\0\1")
for host in ("::", "::1"):
    check("SOCKS4a " + host, socks4("0.0.0.1", p6, host), b"\0\x5b" + struct.pack(">H", p6) + b"\0\0\0\1")
check("SOCKS4a a Unix socket", socks4("0.0.0.1", p4, os.path.join(tmp, "u")),
      b"\0\x5b" + struct.pack(">H", p4) + b"\0\0\0\1")
for ip in ("127.0.0.1", "127.0.0.2", "0.0.0.0"):
    addr = ipaddress.IPv4Address(ip).packed
    check("SOCKS5 " + ip, socks5(1, addr, p4), b"\5\0\5\2\0\1" + addr + struct.pack(">H", p4))
for ip, port in (("::", p6), ("::1", p6), ("::ffff:127.0.0.1", p4), ("::ffff:0.0.0.0", p4), ("::127.0.0.1", p4)):
    addr = ipaddress.IPv6Address(ip).packed
    check("SOCKS5 " + ip, socks5(4, addr, port), b"\5\0\5\2\0\4" + addr + struct.pack(">H", port))
for host, port in (("localhost", p4), ("0", p4), ("127.1", p4), ("0.0.0.0", p4), ("::ffff:127.0.0.1", p4),
                   ("::", p6), ("::1", p6), ("::127.0.0.1", p4)):
    check("SOCKS5 name " + host, socks5(3, bytes([len(host)]) + host.encode(), port),
          b"\5\0\5\2\0\1" + bytes(6))
path = os.path.join(tmp, "u").encode()
check("SOCKS5 name: a Unix socket", socks5(3, bytes([len(path)]) + path, p4), b"\5\0\5\4\0\1" + bytes(6))
sys.exit(failed)
END_OF_BYPASS
# a server on the Unix socket that "HOST:PORT" would make of a path
lib_peer unix banner "reached by a Unix socket" --close --unix "$TEST_TMP/u:$local" || exit 1
python3 "$TEST_TMP/bypass.py" "$vpn" "$local" "$local6" "$TEST_TMP" || bad "this host's own services were reachable"
sleep 0.3
for line in 'LOG6\[[0-9]*\]: SOCKS4 address received' 'LOG6\[[0-9]*\]: SOCKS4a resolved "10.77.0.1" to 1 host(s)' \
    'LOG6\[[0-9]*\]: SOCKS5 IPv4 address received' 'LOG6\[[0-9]*\]: SOCKS5 resolved "10.77.0.1" to 1 host(s)' \
    'LOG3\[[0-9]*\]: SOCKS connection to the IPv4 loopback rejected' \
    'LOG3\[[0-9]*\]: SOCKS connection to the IPv6 loopback rejected' \
    'LOG3\[[0-9]*\]: Error resolving "/.*/u": Neither nodename nor servname known (EAI_NONAME)' \
    'LOG5\[[0-9]*\]: Service \[socks\] connected remote server from 10.77.0.1:'; do
    grep -q "$line" "$TEST_TMP/s.out" || bad "no line like: $line"
done

# client mode: a section asks the SOCKS server at the other end of its
# TLS connection for protocolHost, SOCKS 5 inside TLS
# get PORT: the page through a client section (nothing when refused)
get() {
    curl -s --max-time 10 "http://127.0.0.1:$1/index.html"
}
socks_client_conf() {  # SERVER-PORT
    printf 'foreground = yes\nsyslog = no\ndebug = info\n'
    for s in "by-address 10.77.0.1:$web" "by-name web.test.:$web" "loopback 127.0.0.1:$web"; do
        printf '[%s]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\n' "${s%% *}" "$1"
        printf 'protocol = socks\nprotocolHost = %s\nverifyChain = yes\nCAfile = %s\ncheckHost = localhost\n' "${s#* }" "$c/ca.pem"
    done
}
socks_client_conf "$(lib_port s socks)" >"$TEST_TMP/sc.conf"
lib_daemon sc "$TEST_TMP/sc.conf" || exit 1
[ "$(get "$(lib_port sc by-address)")" = "through the SOCKS tunnel" ] ||
    bad "client mode: no page through our SOCKS server"
[ "$(get "$(lib_port sc loopback)")" = "" ] ||
    bad "client mode: a loopback destination was reached"
get "$(lib_port sc by-name)" >/dev/null 2>&1
sleep 0.3
# as stunnel 5.74+, protocolHost goes as a name even when it is an address
grep -q 'Sending SOCKS5 IPv4 address' "$TEST_TMP/sc.out" && bad "client mode: protocolHost sent as an IPv4 address"
for line in 'LOG6\[[0-9]*\]: Sending SOCKS5 DOMAINNAME' \
    'LOG6\[[0-9]*\]: SOCKS5 request succeeded' \
    'LOG3\[[0-9]*\]: SOCKS5 request failed: (General SOCKS server failure|Connection refused|Connection not allowed by ruleset)'; do
    grep -Eq "$line" "$TEST_TMP/sc.out" || bad "no line like: $line"
done
grep -q 'LOG3\[[0-9]*\]: SOCKS5 failed to resolve "web.test."' "$TEST_TMP/s.out" ||
    bad "the server did not try to resolve the name it was sent"

# the reference on either end
if command -v stunnel4 >/dev/null; then
    lib_bg refs stunnel4 "$TEST_TMP/server.conf"
    lib_wait_for "$TEST_TMP/refs.out" 'Accepting new connections|Configuration failed' 10
    client_conf "$(lib_port refs socks)" >"$TEST_TMP/client2.conf"
    lib_daemon cl2 "$TEST_TMP/client2.conf" || exit 1
    [ "$(fetch --socks5 "$(lib_port cl2 vpn)" "http://10.77.0.1:$web/index.html")" = "through the SOCKS tunnel" ] ||
        bad "ours -> stunnel4 as the SOCKS server: no page"
    lib_bg refc stunnel4 "$TEST_TMP/client.conf"
    lib_wait_for "$TEST_TMP/refc.out" 'Accepting new connections|Configuration failed' 10
    [ "$(fetch --socks4a "$(lib_port refc vpn)" "http://10.77.0.1:$web/index.html")" = "through the SOCKS tunnel" ] ||
        bad "stunnel4 as the client -> our SOCKS server: no page"
    socks_client_conf "$(lib_port refs socks)" >"$TEST_TMP/sc2.conf"
    lib_daemon sc2 "$TEST_TMP/sc2.conf" || exit 1
    [ "$(get "$(lib_port sc2 by-address)")" = "through the SOCKS tunnel" ] ||
        bad "our SOCKS client section -> stunnel4 as the SOCKS server: no page"
fi
exit $fail
