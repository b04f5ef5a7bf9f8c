#!/bin/bash
# protocol = connect (client mode): the daemon asks an HTTP proxy for a
# tunnel to protocolHost (with basic authentication from
# protocolUsername/protocolPassword), then does TLS through it; a proxy
# that refuses ends the connection with "CONNECT request rejected". The
# request is stunnel 5.75's, byte for byte (Proxy-Authorization before
# the protocolHeader lines), but the debug log does not show the
# credentials; the answer's headers are read to the end either way.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
cat >"$TEST_TMP/proxy.py" <<'EOF'
import base64, os, socket, sys, threading
want = "basic " + base64.b64encode(b"alice:s3cret").decode()
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1])); os.rename(sys.argv[1] + ".tmp", sys.argv[1])
def pump(a, b):
    while True:
        d = a.recv(65536)
        if not d:
            break
        b.sendall(d)
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass
def serve(c):
    f = c.makefile("rb")
    request = f.readline().decode().split()
    headers = {}
    while True:
        line = f.readline().decode().strip()
        if not line:
            break
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    print("request", " ".join(request), "auth", headers.get("proxy-authorization"), flush=True)
    if request[0] != "CONNECT" or headers.get("proxy-authorization") != want:
        c.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
        c.close()
        return
    host, port = request[1].rsplit(":", 1)
    t = socket.create_connection((host, int(port)))
    c.sendall(b"HTTP/1.1 200 Connection established\r\nVia: test\r\n\r\n")
    threading.Thread(target=pump, args=(c, t), daemon=True).start()
    pump(t, c)
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
EOF
lib_peer tlsecho echo --tls "$TEST_TMP/certs/server.pem" || exit 1
lib_bg proxy python3 "$TEST_TMP/proxy.py" "$TEST_TMP/proxy.port"
lib_wait_for "$TEST_TMP/proxy.port" '^[0-9]+$' || exit 1
section() {  # NAME PASSWORD
    printf '[%s]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\nprotocol = connect\n' \
        "$1" "$(cat "$TEST_TMP/proxy.port")"
    printf 'protocolHost = 127.0.0.1:%s\nprotocolUsername = alice\nprotocolPassword = %s\n' "$PEER_PORT" "$2"
    printf 'verifyChain = yes\nCAfile = %s\ncheckHost = localhost\nsni = localhost\n' "$TEST_TMP/certs/ca.pem"
}
echo_port=$PEER_PORT
lib_peer exact chat H: 'S:HTTP/1.1\x20200\x20OK\r\nVia:\x20test\r\n\r\n' "TLS:$TEST_TMP/certs/server.pem" ECHO || exit 1
exact=$PEER_PORT
lib_peer refusing chat H: 'S:HTTP/1.0\x20407\x20Proxy\x20Authentication\x20Required\r\nX-Why:\x20test\r\n\r\n' EOF || exit 1
refusing=$PEER_PORT PEER_PORT=$echo_port
{
    printf 'foreground = yes\nsyslog = no\ndebug = debug\n'
    section good s3cret
    section wrong guess
    for name in exact refusing; do
        printf '[%s]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\nprotocol = connect\n' \
            $name "$( [ $name = exact ] && echo "$exact" || echo "$refusing")"
        printf 'protocolHost = dest.example:443\nprotocolUsername = alice\nprotocolPassword = s3cret\n'
        printf 'protocolHeader = X-One: 1\nprotocolHeader = X-Two: 2\n'
    done
} >"$TEST_TMP/c.conf"
lib_daemon d "$TEST_TMP/c.conf" || exit 1
read -r _ sent _ received count < <($PEERS client "$(lib_port d good)" 100000 --expect-bytes 100000 --timeout 10)
[ "$count" = 100000 ] && [ "$sent" = "$received" ] || bad "no tunnel through the HTTP proxy"
read -r _ _ _ _ count < <($PEERS client "$(lib_port d wrong)" 100 --timeout 10 2>/dev/null)
[ "${count:-0}" = 0 ] || bad "a refused CONNECT still carried data"
sleep 0.3
grep -q "request CONNECT 127.0.0.1:$PEER_PORT HTTP/1.1 auth basic " "$TEST_TMP/proxy.out" || bad "proxy saw no CONNECT"
grep -q 'LOG6\[[0-9]*\]: CONNECT request accepted' "$TEST_TMP/d.out" || bad "no 'CONNECT request accepted'"
grep -q 'LOG3\[[0-9]*\]: CONNECT request rejected' "$TEST_TMP/d.out" || bad "no 'CONNECT request rejected'"

# the exact request, and what the log shows of it
[ "$($PEERS chat-client "$(lib_port d exact)" 'S:hello\n' R: | tr '\n' '|')" = "read b'hello\\n'|" ] ||
    bad "no data through the exact proxy"
$PEERS chat-client "$(lib_port d refusing)" R: >/dev/null
sleep 0.3
want="read b'CONNECT dest.example:443 HTTP/1.1\\r\\nHost: dest.example:443\\r\\nProxy-Authorization: basic YWxpY2U6czNjcmV0\\r\\nX-One: 1\\r\\nX-Two: 2\\r\\n\\r\\n'"
grep -qxF "$want" "$TEST_TMP/exact.out" || bad "the request was $(head -n 1 "$TEST_TMP/exact.out")"
grep -q 'YWxpY2U6czNjcmV0' "$TEST_TMP/d.out" && bad "the credentials are in the log"
grep -q 'LOG7\[[0-9]*\]:  -> Proxy-Authorization: basic \*$' "$TEST_TMP/d.out" || bad "no ' -> Proxy-Authorization: basic *'"
# a refusal is judged on the status line, then the headers are read
grep -A2 'LOG3\[[0-9]*\]: CONNECT request rejected' "$TEST_TMP/d.out" | grep -q ' <- X-Why: test$' ||
    bad "the headers of a refusal were not read after 'CONNECT request rejected'"
exit $fail
