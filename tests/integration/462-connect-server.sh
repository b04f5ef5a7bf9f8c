#!/bin/bash
# protocol = connect in server mode, as stunnel 5.75 does it: the section
# is an HTTP proxy in front of TLS. On the plain connection, before the
# handshake, the client sends "CONNECT HOST:PORT HTTP/x" and headers; the
# daemon answers "HTTP/1.0 200 OK" (then TLS, then a connection to that
# destination instead of "connect"), or "400 Bad Request Method", "400
# Bad Request Protocol", "404 Not Found" (the destination does not
# resolve), each with "Server: stunnel/5.75", a refusal resetting the
# connection. Nothing restricts the destination (loopback, a Unix socket
# path). Real peers: curl through the proxy (-p -x), scripted clients for
# every answer and for clients that stall, close early, send garbage or
# one byte at a time, and our client-mode connect against it.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
log=$TEST_TMP/d.out

lib_peer echo echo || exit 1
echo_port=$PEER_PORT
lib_bg uecho python3 "$LIB_DIR/peers.py" echo --unix "$TEST_TMP/echo.sock" \
    --port-file "$TEST_TMP/uecho.port"
lib_wait_for "$TEST_TMP/uecho.port" '^0$' || { echo "FAIL: unix echo"; exit 1; }
unused=$(lib_free_port)

cat >"$TEST_TMP/s.conf" <<EOF
foreground = yes
syslog = no
debug = debug
[cs]
accept = 127.0.0.1:0
connect = 127.0.0.1:$unused
cert = $TEST_TMP/certs/server.pem
protocol = connect
TIMEOUTbusy = 2
EOF
lib_daemon d "$TEST_TMP/s.conf" || exit 1
port=$(lib_port d cs)

# wait for the closing line of connection number N (0, 1, ...) and print it
closing() {
    lib_wait_for "$log" "LOG5\[$1\]: Connection (closed|reset)" 10
    sed -n "s/^.*LOG5\[$1\]: \(Connection .*\)$/\1/p" "$log"
}
n=0
answer() {  # the bytes of an answer as chat-client prints them
    printf "b'HTTP/1.0 %s\\\\r\\\\nServer: stunnel/5.75\\\\r\\\\n\\\\r\\\\n'" "$1"
}

# curl through the proxy, TLS to the daemon, plain HTTP to the backend
if command -v curl >/dev/null 2>&1; then
    mkdir -p "$TEST_TMP/www"
    echo "through the CONNECT tunnel" >"$TEST_TMP/www/f.txt"
    lib_peer web http "$TEST_TMP/www" || exit 1
    got=$(curl -sS -k --max-time 10 -p -x "http://127.0.0.1:$port" \
        "https://127.0.0.1:$PEER_PORT/f.txt" 2>&1)
    [ "$got" = "through the CONNECT tunnel" ] || bad "curl -p -x got: $got"
    closing $n >/dev/null
    lib_conn_log "$log" cs | grep -q "s_connect: connected 127.0.0.1:$PEER_PORT\$" ||
        bad "curl: the destination was not connected"
    n=$((n + 1))
else
    echo "curl not installed: its part skipped"
fi

# one byte at a time, then TLS, through to the echo server
got=$($PEERS chat-client "$port" \
    "D:CONNECT 127.0.0.1:$echo_port HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n" H: TLS \
    'S:hello\n' R:)
echo "$got" | grep -qxF "read $(answer '200 OK')" || bad "byte by byte: $got"
echo "$got" | grep -qx "read b'hello\\\\n'" || bad "byte by byte: no echo: $got"
[ "$(closing $n)" = "Connection closed: 6 byte(s) sent to TLS, 6 byte(s) sent to socket" ] ||
    bad "byte by byte: $(closing $n)"
lib_conn_log "$log" cs >"$TEST_TMP/c.log"
for line in ' <- CONNECT 127.0.0.1:'"$echo_port"' HTTP/1.1' ' <- Host: x' ' <- ' \
    ' -> HTTP/1.0 200 OK' ' -> Server: stunnel/5.75' ' -> ' \
    "s_connect: connected 127.0.0.1:$echo_port"; do
    grep -qF -- "]: $line" "$TEST_TMP/c.log" || bad "no '$line' in the log"
done
grep -q "s_connect: connecting 127.0.0.1:$unused" "$TEST_TMP/c.log" &&
    bad "'connect =' was used instead of the destination"
n=$((n + 1))

# a Unix socket path is a destination too (as in 5.75)
got=$($PEERS chat-client "$port" "S:CONNECT $TEST_TMP/echo.sock HTTP/1.0\\r\\n\\r\\n" \
    H: TLS 'S:unix\n' R:)
echo "$got" | grep -qx "read b'unix\\\\n'" || bad "Unix socket destination: $got"
closing $n >/dev/null
n=$((n + 1))

# the refusals: answered, then reset
refusal() {  # REQUEST STATUS LOGLINE
    local got
    got=$($PEERS chat-client "$port" "S:$1" EOF | tail -n 1)
    case $got in
        "got $(answer "$2") then "*) ;;
        *) bad "'$1' answered with $got" ;;
    esac
    [ "$(closing $n)" = "Connection reset: 0 byte(s) sent to TLS, 0 byte(s) sent to socket" ] ||
        bad "'$1' ended with $(closing $n)"
    [ -z "$3" ] || lib_conn_log "$log" cs | grep -qF -- "$3" || bad "'$1': no '$3' in the log"
    n=$((n + 1))
}
refusal 'GET / HTTP/1.1\r\n\r\n' '400 Bad Request Method' ' <- GET / HTTP/1.1'
refusal 'CONNECT x\r\n' '400 Bad Request Protocol' ' -> HTTP/1.0 400 Bad Request Protocol'
refusal 'CONNECT 127.0.0.1:1 FTP/1.0\r\n' '400 Bad Request Protocol' ''
refusal 'CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n' '404 Not Found' 'Unknown TCP service "127.0.0.1"'
refusal 'CONNECT 127.0.0.1:nosuchservice HTTP/1.1\r\nHost: y\r\n\r\n' '404 Not Found' \
    'Unknown TCP service "nosuchservice"'
# garbage (a TLS ClientHello-like record) is a request line up to its LF
refusal '\x16\x03\x01\x00\x05\x01\x00\x00\x01\n' '400 Bad Request Method' ''

# the destination refuses: 200 and TLS first, then the connection fails
$PEERS chat-client "$port" "S:CONNECT 127.0.0.1:$unused HTTP/1.1\\r\\n\\r\\n" H: TLS EOF >/dev/null
[ "$(closing $n)" = "Connection reset: 0 byte(s) sent to TLS, 0 byte(s) sent to socket" ] ||
    bad "a refused destination: $(closing $n)"
lib_conn_log "$log" cs | grep -q 'LOG3\[[0-9]*\]: No more addresses to connect$' ||
    bad "a refused destination: no 'No more addresses to connect'"
n=$((n + 1))

# an empty port is port 0 (as in 5.75): 200, then the connection refused
got=$($PEERS chat-client "$port" 'S:CONNECT 127.0.0.1: HTTP/1.1\r\n\r\n' H: TLS EOF)
echo "$got" | grep -qxF "read $(answer '200 OK')" || bad "an empty port: $got"
closing $n >/dev/null
lib_conn_log "$log" cs | grep -q 's_connect: connecting 127.0.0.1:0$' || bad "an empty port: not port 0"
n=$((n + 1))

# a client that stalls in its headers: TIMEOUTbusy (2 s) ends it
$PEERS chat-client "$port" 'S:CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: x\r\n' EOF >/dev/null
[ "$(closing $n)" = "Connection reset: 0 byte(s) sent to TLS, 0 byte(s) sent to socket" ] ||
    bad "a stalled request: $(closing $n)"
lib_conn_log "$log" cs | grep -q 's_read_eof: s_poll_wait: TIMEOUTbusy exceeded: sending reset$' ||
    bad "a stalled request: no TIMEOUTbusy line"
n=$((n + 1))

# a client that closes in the middle of its headers
$PEERS chat-client "$port" 'S:CONNECT 127.0.0.1:1 HTTP/1.1\r\nHo' SHUT EOF >/dev/null
[ "$(closing $n)" = "Connection reset: 0 byte(s) sent to TLS, 0 byte(s) sent to socket" ] ||
    bad "a request cut short: $(closing $n)"
lib_conn_log "$log" cs | grep -q 'LOG3\[[0-9]*\]: s_read: Received 0 out of requested 1 byte(s)$' ||
    bad "a request cut short: no 's_read: Received 0 out of requested 1 byte(s)'"
n=$((n + 1))

# a long header line (5.75 crashes on one of 12 KB): read and skipped
long=$(head -c 20000 /dev/zero | tr '\0' a)
got=$($PEERS chat-client "$port" \
    "S:CONNECT 127.0.0.1:$echo_port HTTP/1.1\\r\\nX: $long\\r\\n\\r\\n" H: TLS 'S:long\n' R:)
echo "$got" | grep -qx "read b'long\\\\n'" || bad "a long header: $got"
closing $n >/dev/null
n=$((n + 1))

# our client-mode connect through our server-mode connect
cat >"$TEST_TMP/c.conf" <<EOF
foreground = yes
syslog = no
debug = info
[cc]
client = yes
accept = 127.0.0.1:0
connect = 127.0.0.1:$port
protocol = connect
protocolHost = 127.0.0.1:$echo_port
EOF
lib_daemon c "$TEST_TMP/c.conf" || exit 1
lib_through "$(lib_port c cc)" || bad "ours (client) to ours (server): $THROUGH_COUNT byte(s) back"
grep -q 'CONNECT request accepted' "$TEST_TMP/c.out" || bad "ours to ours: no 'CONNECT request accepted'"
exit $fail
