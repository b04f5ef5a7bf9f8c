#!/bin/bash
# protocol = connect in client mode, proxy authentication as stunnel 5.75
# does it. Basic: through a real tinyproxy (BasicAuth), a wrong password
# rejected. NTLM (protocolAuthentication = ntlm): a scripted proxy checks
# the type 1 message (NTLMSSP, flags 0x202, with "Proxy-Connection:
# keep-alive"), answers 407 with a type 2 challenge and a body to skip,
# and checks the type 3 message field by field, its NTLMv1 NT response
# computed here from the password and the challenge (pure-Python MD4 and
# DES: Python's hashlib has no MD4 on OpenSSL 3), and MS-NLMP's published
# response for password "Password" and challenge 0123456789abcdef. Then
# every refusal: not 407, no NTLM header, a bad Content-Length, the
# second answer 407, a proxy that sends garbage, closes, stalls, or
# answers a byte at a time. The type 3 message and the password never
# reach the log. With stunnel 5.75 at hand, its type 3 for the same
# challenge must be the same bytes.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
REF575=${STUNNEL_575_DIR:-$TOP_SRCDIR/../shared/reference/stunnel-5.75}/stunnel-fork

cat >"$TEST_TMP/ntlmproxy.py" <<'EOF'
# A scripted NTLM proxy. The CONNECT target names what it does
# (MODE.test:443); it prints one line per connection: "MODE ok ..." or
# "MODE bad WHY", and the type 3 message in hex ("type3 MODE HEX").
import base64, os, socket, ssl, struct, sys, threading, time

def md4(msg):
    rol = lambda v, s: ((v << s) | (v >> (32 - s))) & 0xffffffff
    n = len(msg)
    msg += b"\x80" + b"\0" * ((55 - n) % 64) + struct.pack("<Q", n * 8)
    h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]
    rounds = [(lambda x, y, z: (x & y) | (~x & z), 0, range(16), (3, 7, 11, 19)),
              (lambda x, y, z: (x & y) | (x & z) | (y & z), 0x5a827999,
               [(i % 4) * 4 + i // 4 for i in range(16)], (3, 5, 9, 13)),
              (lambda x, y, z: x ^ y ^ z, 0x6ed9eba1,
               [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15], (3, 9, 11, 15))]
    for off in range(0, len(msg), 64):
        X = struct.unpack("<16I", msg[off:off + 64])
        a, b, c, d = h
        for f, k, order, shifts in rounds:
            for i, j in enumerate(order):
                a, b, c, d = d, rol((a + f(b, c, d) + X[j] + k) & 0xffffffff, shifts[i % 4]), b, c
        h = [(x + y) & 0xffffffff for x, y in zip(h, (a, b, c, d))]
    return struct.pack("<4I", *h)

IP = [58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14, 6,
      64, 56, 48, 40, 32, 24, 16, 8, 57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
      61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7]
FP = [IP.index(i) + 1 for i in range(1, 65)]
E = [32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17,
     16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25, 24, 25, 26, 27, 28, 29, 28, 29, 30, 31, 32, 1]
P = [16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9,
     19, 13, 30, 6, 22, 11, 4, 25]
PC1 = [57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3,
       60, 52, 44, 36, 63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37,
       29, 21, 13, 5, 28, 20, 12, 4]
PC2 = [14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
       41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32]
SBOX = [
 [14,4,13,1,2,15,11,8,3,10,6,12,5,9,0,7,0,15,7,4,14,2,13,1,10,6,12,11,9,5,3,8,
  4,1,14,8,13,6,2,11,15,12,9,7,3,10,5,0,15,12,8,2,4,9,1,7,5,11,3,14,10,0,6,13],
 [15,1,8,14,6,11,3,4,9,7,2,13,12,0,5,10,3,13,4,7,15,2,8,14,12,0,1,10,6,9,11,5,
  0,14,7,11,10,4,13,1,5,8,12,6,9,3,2,15,13,8,10,1,3,15,4,2,11,6,7,12,0,5,14,9],
 [10,0,9,14,6,3,15,5,1,13,12,7,11,4,2,8,13,7,0,9,3,4,6,10,2,8,5,14,12,11,15,1,
  13,6,4,9,8,15,3,0,11,1,2,12,5,10,14,7,1,10,13,0,6,9,8,7,4,15,14,3,11,5,2,12],
 [7,13,14,3,0,6,9,10,1,2,8,5,11,12,4,15,13,8,11,5,6,15,0,3,4,7,2,12,1,10,14,9,
  10,6,9,0,12,11,7,13,15,1,3,14,5,2,8,4,3,15,0,6,10,1,13,8,9,4,5,11,12,7,2,14],
 [2,12,4,1,7,10,11,6,8,5,3,15,13,0,14,9,14,11,2,12,4,7,13,1,5,0,15,10,3,9,8,6,
  4,2,1,11,10,13,7,8,15,9,12,5,6,3,0,14,11,8,12,7,1,14,2,13,6,15,0,9,10,4,5,3],
 [12,1,10,15,9,2,6,8,0,13,3,4,14,7,5,11,10,15,4,2,7,12,9,5,6,1,13,14,0,11,3,8,
  9,14,15,5,2,8,12,3,7,0,4,10,1,13,11,6,4,3,2,12,9,5,15,10,11,14,1,7,6,0,8,13],
 [4,11,2,14,15,0,8,13,3,12,9,7,5,10,6,1,13,0,11,7,4,9,1,10,14,3,5,12,2,15,8,6,
  1,4,11,13,12,3,7,14,10,15,6,8,0,5,9,2,6,11,13,8,1,4,10,7,9,5,0,15,14,2,3,12],
 [13,2,8,4,6,15,11,1,10,9,3,14,5,0,12,7,1,15,13,8,10,3,7,4,12,5,6,11,0,14,9,2,
  7,11,4,1,9,12,14,2,0,6,10,13,15,3,5,8,2,1,14,7,4,10,8,13,15,12,9,0,3,5,6,11]]

def perm(v, table, n):
    return sum(((v >> (n - t)) & 1) << (len(table) - 1 - i) for i, t in enumerate(table))

def des(key8, block):
    k = perm(int.from_bytes(key8, "big"), PC1, 64)
    c, d, keys = k >> 28, k & 0xfffffff, []
    for s in (1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1):
        c = ((c << s) | (c >> (28 - s))) & 0xfffffff
        d = ((d << s) | (d >> (28 - s))) & 0xfffffff
        keys.append(perm((c << 28) | d, PC2, 56))
    v = perm(int.from_bytes(block, "big"), IP, 64)
    l, r = v >> 32, v & 0xffffffff
    for sk in keys:
        x, out = perm(r, E, 32) ^ sk, 0
        for i in range(8):
            six = (x >> (42 - 6 * i)) & 0x3f
            out = (out << 4) | SBOX[i][(((six & 0x20) >> 4) | (six & 1)) * 16 + ((six >> 1) & 0xf)]
        l, r = r, l ^ perm(out, P, 32)
    return perm((r << 32) | l, FP, 64).to_bytes(8, "big")

def nt_response(password, challenge):
    wide = b"".join(bytes([ch, 0]) for ch in password)   # 5.75's, byte by byte
    h = int.from_bytes(md4(wide) + b"\0" * 5, "big")
    keys = [bytes(((h >> (168 - 7 * (i + 1))) & 0x7f) << 1 for i in range(j * 8, j * 8 + 8))
            for j in range(3)]
    return b"".join(des(k, challenge) for k in keys)

assert md4(b"abc").hex() == "a448017aaf21d8525fc10ae87aa6729d"
assert des(bytes.fromhex("133457799bbcdff1"), bytes.fromhex("0123456789abcdef")).hex() == "85e813540f0ab405"

TYPE1 = bytes.fromhex("4e544c4d53535000" "01000000" "02020000") + bytes(16)
FIXED = bytes.fromhex("0123456789abcdef")
CREDS = {"ok": ("DOM", "alice", "s3cret"), "vector": ("Domain", "User", "Password"),
         "latin": ("dom", "us", "p\xe4ssw\xf6rd".encode("utf-8"))}

def type2(challenge):
    return (b"NTLMSSP\0" + struct.pack("<IHHIi", 2, 0, 0, 48, 0x00028205) + challenge
            + bytes(8) + struct.pack("<HHI", 0, 0, 48))

def headers(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            raise EOFError
        if line in (b"\r\n", b"\n"):
            return lines
        lines.append(line.decode("latin-1").rstrip("\r\n"))

def header(lines, name):
    got = [l.split(":", 1)[1].strip() for l in lines if l.lower().startswith(name.lower() + ":")]
    return got[-1] if got else None

def check_type3(mode, m, challenge):
    domain, user, password = CREDS[mode]
    if isinstance(password, str):
        password = password.encode()
    print("type3", mode, m.hex(), flush=True)
    fields = [struct.unpack("<HHI", m[12 + 8 * i:20 + 8 * i]) for i in range(6)]
    want = [(0, 0, len(m)), (24, 24, 64), (len(domain), len(domain), 88),
            (len(user), len(user), 88 + len(domain)), (0, 0, len(m)), (0, 0, len(m))]
    if m[:12] != b"NTLMSSP\0\3\0\0\0" or fields != want or m[60:64] != b"\2\2\0\0":
        return "header %s" % m[:64].hex()
    if m[88:] != domain.encode() + user.encode():
        return "names %r" % m[88:]
    if m[64:88] != nt_response(password, challenge):
        return "NT response %s" % m[64:88].hex()
    if mode == "vector" and m[64:88].hex() != "67c43011f30298a2ad35ece64f16331c44bdbed927841f94":
        return "not MS-NLMP's response"
    return None

def serve(c, cert):
    f = c.makefile("rb")
    mode = "?"
    try:
        first = headers(f)
        mode = first[0].split()[1].split(".")[0]
        if mode == "close":
            return print(mode, "ok closed", flush=True)
        if mode == "stall":
            time.sleep(4)
            return print(mode, "ok stalled", flush=True)
        if mode == "garbage":
            c.sendall(b"\x16\x03\x01\x00\xff\x00garbage without a newline")
            return print(mode, "ok sent", flush=True)
        auth = header(first, "Proxy-Authorization")
        if header(first, "Proxy-Connection") != "keep-alive" or auth is None or \
                base64.b64decode(auth.split()[1]) != TYPE1 or header(first, "X-Test"):
            return print(mode, "bad first request %r" % first, flush=True)
        challenge = os.urandom(8) if mode in ("ok", "slow") else FIXED
        answer = {
            "not407": b"HTTP/1.1 200 OK\r\nX: y\r\n\r\n",
            "nohdr": b"HTTP/1.1 407 Proxy Authentication Required\r\nX: y\r\n\r\n",
            "badlen": b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM "
                      + base64.b64encode(type2(challenge)) + b"\r\nContent-Length: 12x\r\n\r\n",
        }.get(mode, b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                    b"Proxy-Authenticate: Negotiate\r\nProxy-Authenticate: NTLM "
                    + base64.b64encode(type2(challenge)) + b"\r\nContent-Length: 5\r\n\r\nbody.")
        if mode == "slow":
            for b in answer:
                c.sendall(bytes([b]))
                time.sleep(0.002)
        else:
            c.sendall(answer)
        if mode in ("not407", "nohdr", "badlen"):
            c.settimeout(5)
            try:
                rest = c.recv(100)
            except OSError as e:
                rest = e
            return print(mode, "ok refused, then %r" % rest, flush=True)
        second = headers(f)
        auth = header(second, "Proxy-Authorization")
        if header(second, "X-Test") != "1" or header(second, "Proxy-Connection"):
            return print(mode, "bad second request %r" % second, flush=True)
        why = check_type3("ok" if mode == "slow" else "ok" if mode == "denied" else mode,
                          base64.b64decode(auth.split()[1]), challenge)
        if why:
            return print(mode, "bad", why, flush=True)
        if mode == "denied":
            c.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
            return print(mode, "ok denied", flush=True)
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert)
        t = ctx.wrap_socket(c, server_side=True)
        while True:
            d = t.recv(65536)
            if not d:
                break
            t.sendall(d)
        print(mode, "ok tunnel", flush=True)
    except Exception as e:
        print(mode, "bad exception %r" % e, flush=True)
    finally:
        c.close()

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn, sys.argv[2]), daemon=True).start()
EOF
lib_bg proxy python3 "$TEST_TMP/ntlmproxy.py" "$TEST_TMP/proxy.port" "$TEST_TMP/certs/server.pem"
lib_wait_for "$TEST_TMP/proxy.port" '^[0-9]+$' || { echo "FAIL: NTLM proxy"; cat "$TEST_TMP/proxy.out"; exit 1; }
pport=$(cat "$TEST_TMP/proxy.port")

# one client section per proxy behaviour
section() {  # MODE [PASSWORD [DOMAIN [USER]]]
    cat <<EOF
[$1]
client = yes
accept = 127.0.0.1:0
connect = 127.0.0.1:$pport
protocol = connect
protocolHost = $1.test:443
protocolAuthentication = ntlm
protocolUsername = ${4:-alice}
protocolPassword = ${2:-s3cret}
protocolDomain = ${3:-DOM}
protocolHeader = X-Test: 1
EOF
}
{
    printf 'foreground = yes\nsyslog = no\ndebug = debug\nTIMEOUTbusy = 2\n'
    for m in ok slow not407 nohdr badlen denied garbage close stall; do section $m; done
    section vector Password Domain User
    section latin "$(printf 'p\xc3\xa4ssw\xc3\xb6rd')" dom us
} >"$TEST_TMP/n.conf"
lib_daemon n "$TEST_TMP/n.conf" || exit 1
log=$TEST_TMP/n.out

for m in ok slow vector latin; do
    lib_through "$(lib_port n $m)" || bad "$m: $THROUGH_COUNT byte(s) through the NTLM tunnel"
done
refused() {  # MODE LOGLINE
    local p
    p=$(lib_port n "$1")
    $PEERS chat-client "$p" EOF >/dev/null
    lib_wait_for "$log" "Service \\[$1\\] finished" 10
    lib_conn_log "$log" "$1" | grep -qF -- "$2" || bad "$1: no '$2' in the log"
    lib_conn_log "$log" "$1" | grep -q 'Connection reset: 0 byte(s) sent to TLS, 0 byte(s) sent to socket$' ||
        bad "$1: not reset"
}
refused not407 ']: Proxy-Authenticate: NTLM authorization request rejected'
refused nohdr ']: Proxy-Authenticate: NTLM header not found'
refused badlen ']: Proxy-Authenticate: Invalid Content-Length'
refused denied ']: CONNECT request rejected'
refused garbage ']: Proxy-Authenticate: NTLM authorization request rejected'
refused close ']: s_read: Received 0 out of requested 1 byte(s)'
refused stall ']: s_read_eof: s_poll_wait: TIMEOUTbusy exceeded: sending reset'
for m in ok slow vector latin not407 nohdr badlen denied garbage close stall; do
    lib_wait_for "$TEST_TMP/proxy.out" "^$m (ok|bad)" 10
    grep -q "^$m ok" "$TEST_TMP/proxy.out" || bad "proxy: $(grep "^$m " "$TEST_TMP/proxy.out")"
done
# the type 3 message and the password stay out of the log
grep -qF ' -> Proxy-Authorization: NTLM *' "$log" || bad "no masked type 3 line"
grep -q 'TlRMTVNTUAAD\|s3cret\|Password' "$log" && bad "the log shows a type 3 message or a password"
grep -qF ' -> Proxy-Authorization: NTLM TlRMTVNTUAABAAAAAgIAAAAAAAAAAAAAAAAAAAAAAAA=' "$log" ||
    bad "the type 1 message is not logged as sent"

# stunnel 5.75 sends the same type 3 bytes for the same challenge
if [ -x "$REF575" ]; then
    sed -n '/^\[vector\]/,$p' "$TEST_TMP/n.conf" >"$TEST_TMP/r.tail"
    { printf 'foreground = yes\nsyslog = no\ndebug = info\npid =\n'; cat "$TEST_TMP/r.tail"; } >"$TEST_TMP/r.conf"
    DAEMON=$REF575 lib_daemon r "$TEST_TMP/r.conf" || exit 1
    for m in vector latin; do
        lib_through "$(lib_port r $m)" || bad "5.75 $m: $THROUGH_COUNT byte(s) through"
        lib_wait_for "$TEST_TMP/proxy.out" "^$m ok tunnel" 10
        [ "$(grep -c "^type3 $m " "$TEST_TMP/proxy.out")" = 2 ] || bad "5.75 $m: no type 3 seen"
        [ "$(grep "^type3 $m " "$TEST_TMP/proxy.out" | sort -u | wc -l)" = 1 ] ||
            bad "$m: ours and 5.75 differ: $(grep "^type3 $m " "$TEST_TMP/proxy.out")"
    done
else
    echo "stunnel 5.75 not at hand: the byte comparison skipped"
fi

# basic authentication through a real tinyproxy
if command -v tinyproxy >/dev/null 2>&1; then
    lib_peer techo echo --tls "$TEST_TMP/certs/server.pem" || exit 1
    tport=$(lib_free_port)
    printf 'Port %s\nListen 127.0.0.1\nTimeout 10\nMaxClients 10\nBasicAuth alice s3cret\nLogLevel Info\n' \
        "$tport" >"$TEST_TMP/tinyproxy.conf"
    lib_bg tinyproxy tinyproxy -d -c "$TEST_TMP/tinyproxy.conf"
    lib_wait_for "$TEST_TMP/tinyproxy.out" 'Accepting connections' 10 ||
        { echo "FAIL: tinyproxy did not start"; cat "$TEST_TMP/tinyproxy.out"; exit 1; }
    basic() {  # NAME PASSWORD
        printf '[%s]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\n' "$1" "$tport"
        printf 'protocol = connect\nprotocolHost = 127.0.0.1:%s\n' "$PEER_PORT"
        printf 'protocolUsername = alice\nprotocolPassword = %s\n' "$2"
    }
    # any protocolAuthentication but ntlm is basic; ntlm without a
    # password sends no credentials at all (as 5.75)
    { printf 'foreground = yes\nsyslog = no\ndebug = debug\n'; basic good s3cret; basic wrong nope
      basic other s3cret; echo 'protocolAuthentication = digest'
      basic nopass s3cret | grep -v Password; echo 'protocolAuthentication = NTLM'; } >"$TEST_TMP/b.conf"
    lib_daemon b "$TEST_TMP/b.conf" || exit 1
    lib_through "$(lib_port b good)" || bad "tinyproxy: $THROUGH_COUNT byte(s) through"
    grep -q 'LOG6\[[0-9]*\]: CONNECT request accepted$' "$TEST_TMP/b.out" || bad "tinyproxy: not accepted"
    $PEERS chat-client "$(lib_port b wrong)" EOF >/dev/null
    lib_wait_for "$TEST_TMP/b.out" 'Service \[wrong\] finished' 10
    lib_conn_log "$TEST_TMP/b.out" wrong | grep -q 'LOG3\[[0-9]*\]: CONNECT request rejected$' ||
        bad "tinyproxy: a wrong password not rejected"
    lib_through "$(lib_port b other)" || bad "tinyproxy, 'digest' taken as basic: $THROUGH_COUNT byte(s)"
    $PEERS chat-client "$(lib_port b nopass)" EOF >/dev/null
    lib_wait_for "$TEST_TMP/b.out" 'Service \[nopass\] finished' 10
    lib_conn_log "$TEST_TMP/b.out" nopass | grep -q 'LOG3\[[0-9]*\]: CONNECT request rejected$' ||
        bad "ntlm without a password: not rejected by tinyproxy"
    lib_conn_log "$TEST_TMP/b.out" nopass | grep -q ' -> Proxy-' && bad "ntlm without a password sent Proxy- lines"
    grep -q 's3cret\|YWxpY2U6czNjcmV0' "$TEST_TMP/b.out" && bad "the basic credentials are in the log"
else
    echo "tinyproxy not installed: its part skipped"
fi
exit $fail
