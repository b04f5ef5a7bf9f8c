#!/bin/bash
# No byte a peer chose reaches the log unescaped. At debug level, peers
# send control bytes (\n, \r, ESC, DEL, a C1 CSI) and invalid UTF-8
# (\xff, the overlong \xc0\xaf, lone continuation bytes) in every field
# the daemon quotes: an SNI name (openssl s_client -servername), a PSK
# identity (-psk_identity, and a TLS 1.3 ticket, which OpenSSL hands the
# PSK callback as an identity: stunnel's "PSK identity not found (session
# resumption?)"), certificate subject fields (controls, C1 controls and
# Unicode separators, signed by the test CA), the SOCKS 4a and 5 host
# names, the greetings of SMTP, POP3 and IMAP servers in client mode, an
# HTTP CONNECT proxy's answer and an ident server's answer. The log file
# and stderr must then hold no byte below 0x20 but the newline, no DEL,
# no C1 control, and be valid UTF-8; and each field must have been
# logged, so that the test sees what it means to see. DAEMON=PATH runs
# it against another build (stunnel 5.75 fails it: it dots ASCII
# controls only).
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit $SKIP; }
if [ -z "${IN_NETNS:-}" ]; then     # the ident server needs port 113
    unshare --net true 2>/dev/null || { echo "SKIP: cannot make a network namespace"; exit $SKIP; }
    IN_NETNS=1 exec unshare --net bash -c 'ip link set lo up && exec "$0" "$@"' "$(readlink -f "$0")" "$@"
fi
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
c=$TEST_TMP/certs
BAD=$'<a\nb\rc\x1b[31md\x7fe\xc2\x9bf\xffg\xc0\xafh\x80\xbfi>'
printf '%s' "$BAD" >"$TEST_TMP/bad"

# a client certificate whose subject holds what openssl req lets through
# (bytes taken as Latin-1: ESC, CR, LF, DEL and C1 controls), then
# re-signed with a CN of raw UTF-8: a C1 CSI, a right-to-left override,
# a line separator and ESC. (OpenSSL 3 refuses to load a certificate
# whose UTF8String is not valid UTF-8, so no name of a certificate it
# accepts carries invalid bytes.)
cat >"$TEST_TMP/oddcert.py" <<'END_OF_ODDCERT'
import base64, subprocess, sys
d = sys.argv[1]
def tlv(buf, i):                     # (start of the value, its end) of a DER item
    n = buf[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7f
        n = int.from_bytes(buf[i:i + k], "big")
        i += k
    return i, i + n
def der(tag, value):
    n = len(value)
    k = (n.bit_length() + 7) // 8
    return bytes([tag]) + (bytes([n]) if n < 0x80 else bytes([0x80 | k]) + n.to_bytes(k, "big")) + value
pem = open(d + "/odd-plain.crt").read()
cert = base64.b64decode("".join(l for l in pem.splitlines() if l and not l.startswith("-----")))
s, _ = tlv(cert, 0)
_, tbs_end = tlv(cert, s)
_, alg_end = tlv(cert, tbs_end)
tbs, algid = cert[s:tbs_end], cert[tbs_end:alg_end]
placeholder = b"QQQQQQQQQQQQQQ"
odd = b"c\xc2\x9b\xe2\x80\xae\xe2\x80\xa8\x1b[0mz"
assert len(odd) == len(placeholder) and tbs.count(placeholder) == 1
tbs = tbs.replace(placeholder, odd)
sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", d + "/ca.key"], input=tbs,
                     stdout=subprocess.PIPE, check=True).stdout
b = base64.b64encode(der(0x30, tbs + algid + der(0x03, b"\0" + sig))).decode()
with open(d + "/odd.pem", "w") as f:
    f.write(open(d + "/odd-plain.key").read() + "-----BEGIN CERTIFICATE-----\n")
    f.write("".join(b[i:i + 64] + "\n" for i in range(0, len(b), 64)) + "-----END CERTIFICATE-----\n")
END_OF_ODDCERT
lib_issue "$c" odd-plain $'/O=o\x1b[31m\x9b\n\r\x7f/OU=\xe2\x80\xae\xc2\x85/CN=QQQQQQQQQQQQQQ' &&
    python3 "$TEST_TMP/oddcert.py" "$c" || { echo "FAIL: the odd certificate"; exit 1; }
openssl verify -CAfile "$c/ca.pem" "$c/odd.pem" >/dev/null || { echo "FAIL: the odd certificate does not verify"; exit 1; }

# the plain-side peers: smtp, pop3, imap servers, a CONNECT proxy and an
# ident server, each saying BAD where a line of its protocol goes
# (peers.py chat takes BAD as \xNN escapes)
badx=$(od -An -v -tx1 "$TEST_TMP/bad" | tr -d ' \n' | sed 's/../\\x&/g')
lib_peer smtp chat "S:220 $badx\r\n" R: "S:502 $badx\r\n" R: || exit 1
lib_peer pop3 chat "S:+OK $badx\r\n" R: "S:502 $badx\r\n" R: || exit 1
lib_peer imap chat "S:* OK $badx\r\n" R: "S:502 $badx\r\n" R: || exit 1
lib_peer connect chat H: "S:HTTP/1.0 403 $badx\r\n\r\n" R: || exit 1
lib_peer ident identd "${BAD//$'\n'/}" --port 113 || exit 1
lib_peer echo echo || exit 1
key=$(openssl rand -hex 32)
printf 'bob:%s\n' "$key" >"$TEST_TMP/psk.txt"
chmod 600 "$TEST_TMP/psk.txt"

cat >"$TEST_TMP/s.conf" <<EOF
foreground = yes
syslog = no
debug = debug
output = $TEST_TMP/s.log
[sni]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
cert = $c/server.pem
[sni-good]
sni = sni:good.test
connect = 127.0.0.1:$PEER_PORT
cert = $c/server.pem
[psk]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
PSKsecrets = $TEST_TMP/psk.txt
[verify]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
cert = $c/server.pem
verifyChain = yes
CAfile = $c/ca.pem
[socks]
accept = 127.0.0.1:0
cert = $c/server.pem
protocol = socks
[ident]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
cert = $c/server.pem
ident = nobody
EOF
{
    printf 'foreground = yes\nsyslog = no\ndebug = debug\noutput = %s\n' "$TEST_TMP/c.log"
    for kind in smtp pop3 imap; do
        printf '[%s]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\nprotocol = %s\n' \
            "$kind" "$(cat "$TEST_TMP/$kind.port")" "$kind"
    done
    printf '[connect]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\nprotocol = connect\n' \
        "$(cat "$TEST_TMP/connect.port")"
    printf 'protocolHost = backend.test:443\n'
} >"$TEST_TMP/c.conf"
lib_daemon s "$TEST_TMP/s.conf" || exit 1
lib_daemon c "$TEST_TMP/c.conf" || exit 1

s_client() {  # SERVICE ARGS...
    local port
    port=$(lib_port s "$1"); shift
    (echo x; sleep 0.5) | timeout 5 openssl s_client -connect "127.0.0.1:$port" -quiet "$@" >/dev/null 2>&1
}
s_client sni -servername "$BAD"
s_client psk -psk_identity "$BAD" -psk "$(openssl rand -hex 32)"
# a TLS 1.3 resumption: the "identity" is the binary ticket
s_client psk -psk_identity bob -psk "$key" -sess_out "$TEST_TMP/sess.pem"
s_client psk -psk_identity bob -psk "$key" -sess_in "$TEST_TMP/sess.pem"
cat >"$TEST_TMP/tls.py" <<'END_OF_TLS'
import socket, ssl, sys
port, bad = int(sys.argv[1]), open(sys.argv[2], "rb").read()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if sys.argv[3] == "cert":
    ctx.load_cert_chain(sys.argv[4])
    ask = b"x"
elif sys.argv[3] == "socks4a":
    ask = b"\x04\x01\x00\x50\x00\x00\x00\x01user\x00" + bad + b"\x00"
else:
    ask = b"\x05\x01\x00\x05\x01\x00\x03" + bytes([len(bad)]) + bad + b"\x00\x50"
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
s.sendall(ask)
try:
    s.recv(100)
except OSError:
    pass
END_OF_TLS
python3 "$TEST_TMP/tls.py" "$(lib_port s verify)" "$TEST_TMP/bad" cert "$c/odd.pem" 2>/dev/null
python3 "$TEST_TMP/tls.py" "$(lib_port s socks)" "$TEST_TMP/bad" socks4a 2>/dev/null
python3 "$TEST_TMP/tls.py" "$(lib_port s socks)" "$TEST_TMP/bad" socks5 2>/dev/null
python3 "$TEST_TMP/tls.py" "$(lib_port s ident)" "$TEST_TMP/bad" cert "$c/client.pem" 2>/dev/null
for kind in smtp pop3 imap connect; do
    echo x | timeout 5 python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"x\n")
try:
    s.recv(100)
except OSError:
    pass' "$(lib_port c $kind)" 2>/dev/null
done
sleep 0.5

# each field was logged...
for line in 'SNI: requested servername: <a' 'PSK identity not found (session resumption?)' \
    'Certificate accepted at depth=0: O=o' 'SOCKS4a failed to resolve "<a' 'SOCKS5 failed to resolve "<a' \
    'REFUSED by IDENT (user "<a'; do
    grep -aqF "$line" "$TEST_TMP/s.log" || bad "not logged: $line"
done
[ "$(grep -ac 'LOG6\[[0-9]*\]: PSK identity not found (session resumption?)$' "$TEST_TMP/s.log")" -ge 2 ] ||
    bad "a resumption ticket was not logged as stunnel does"
for line in ' <- 220 <a' ' <- +OK <a' ' <- \* OK <a' ' <- HTTP/1.0 403 <a'; do
    grep -aq -- "$line" "$TEST_TMP/c.log" || bad "not logged: $line"
done
# ...and the log is clean text
cat >"$TEST_TMP/clean.py" <<'END_OF_CLEAN'
import re, sys
failed = 0
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    for n, line in enumerate(data.split(b"\n"), 1):
        why = []
        if re.search(rb"[\x00-\x1f\x7f]", line):
            why.append("a control byte")
        try:
            if re.search("[\x80-\x9f]", line.decode("utf-8")):
                why.append("a C1 control")
        except UnicodeDecodeError:
            why.append("invalid UTF-8")
        if why:
            print("FAIL: %s line %d has %s: %r" % (path, n, " and ".join(why), line))
            failed = 1
sys.exit(failed)
END_OF_CLEAN
python3 "$TEST_TMP/clean.py" "$TEST_TMP/s.log" "$TEST_TMP/c.log" "$TEST_TMP/s.out" "$TEST_TMP/c.out" ||
    bad "a peer's bytes reached the log unescaped"
exit $fail
