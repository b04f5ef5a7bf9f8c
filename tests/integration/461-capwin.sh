#!/bin/bash
# protocol = capwin (both sides) and capwinctrl (client mode), as stunnel
# 5.75 speaks them. A credentials record is "F1 US USER US PASSWORD US F4
# FS" (US 0x1f, FS 0x1c). capwinctrl keeps the record the local program
# writes (up to 99 bytes or the end); a capwin client then sends US USER
# US PASSWORD US FS inside TLS (F1 must be "AUTH") and wants "BINGO"
# back. A capwin server reads the record inside TLS up to its FS, binds
# as uid=USER,ou=people,O=CAPWIN,C=US with PASSWORD to the LDAP server
# protocolHost (here a scripted one: the request is checked byte for
# byte, and only 5.75's 22-byte success is a success), answers "BINGO"
# and carries the data (bytes after the FS included), or "FAILED" and
# closes. Ours against ours, against scripted peers for each refusal,
# and against stunnel 5.75 where the reference is installed: its fork
# build as the server, its threaded build as capwinctrl and client (its
# fork build loses the credentials with each connection's process).
# The password never reaches a log.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
REF575DIR=${STUNNEL_575_DIR:-$TOP_SRCDIR/../shared/reference/stunnel-5.75}
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
c=$TEST_TMP/certs
US='\x1f'
FS='\x1c'
record="${US}alice${US}s3cret${US}${FS}"            # what a client sends
bind=$(python3 -c '
dn, pw = b"uid=alice,ou=people,O=CAPWIN,C=US", b"s3cret"
op = b"\x02\x01\x03" + bytes([4, len(dn)]) + dn + bytes([0x80, len(pw)]) + pw
msg = b"\x02\x01\x01" + bytes([0x60, len(op)]) + op
print("read %r" % (bytes([0x30, len(msg)]) + msg))')
success='\x30\x84\x00\x00\x00\x10\x02\x01\x01\x61\x84\x00\x00\x00\x07\x0a\x01\x00\x04\x00\x04\x00'
invalid='\x30\x84\x00\x00\x00\x10\x02\x01\x01\x61\x84\x00\x00\x00\x07\x0a\x01\x31\x04\x00\x04\x00'

start_peers() {  # NAME STEPS... ; ...: chat servers side by side
    local name
    while [ $# -gt 0 ]; do
        name=$1; shift
        local steps=()
        while [ $# -gt 0 ] && [ "$1" != ";" ]; do steps+=("$1"); shift; done
        shift
        lib_bg "$name" python3 "$LIB_DIR/peers.py" chat "${steps[@]}" \
            --port-file "$TEST_TMP/$name.port"
    done
}
port_of() {  # NAME: a started peer's port
    lib_wait_for "$TEST_TMP/$1.port" '^[0-9]+$' 10 || { echo "FAIL: peer $1" >&2; exit 1; }
    cat "$TEST_TMP/$1.port"
}
start_peers ldap-ok N:53 "S:$success" EOF \; ldap-no N:53 "S:$invalid" EOF \; \
    ldap-cut N:53 'S:\x30\x84\x00\x00' \; ldap-stall N:53 W:4 \; \
    tls-failed "TLS:$c/server.pem" N:15 S:FAILED EOF \; \
    tls-bingo "TLS:$c/server.pem" N:15 S:BINGO ECHO \;
lib_peer echo echo || exit 1
echo_port=$PEER_PORT
gone=$(lib_free_port)

server_section() {  # NAME LDAP-PORT [LINE...]
    local name=$1 ldap=$2
    shift 2
    lib_section "$name" "$echo_port" "cert = $c/server.pem" "protocol = capwin" \
        "protocolHost = 127.0.0.1:$ldap" "$@"
}
{
    printf 'foreground = yes\nsyslog = no\ndebug = debug\n'
    server_section ok "$(port_of ldap-ok)"
    server_section no "$(port_of ldap-no)"
    server_section cut "$(port_of ldap-cut)" "TIMEOUTbusy = 2"
    server_section stall "$(port_of ldap-stall)" "TIMEOUTbusy = 2"
    server_section gone "$gone"
} >"$TEST_TMP/s.conf"
lib_daemon s "$TEST_TMP/s.conf" || exit 1

client_section() {  # NAME PORT: a capwin client section
    lib_section "$1" "$2" "client = yes" "protocol = capwin" "verifyChain = yes" \
        "CAfile = $c/ca.pem" "checkHost = localhost"
}
{
    printf 'foreground = yes\nsyslog = no\ndebug = debug\n'
    printf '[ctrl]\nclient = yes\naccept = 127.0.0.1:0\nprotocol = capwinctrl\n'
    client_section c-ok "$(lib_port s ok)"
    client_section c-no "$(lib_port s no)"
    client_section c-failed "$(port_of tls-failed)"
    client_section c-bingo "$(port_of tls-bingo)"
} >"$TEST_TMP/c.conf"
lib_daemon c "$TEST_TMP/c.conf" || exit 1

tls_chat() {  # PORT STEPS...: a TLS client of a server section, one line
    local port=$1
    shift
    $PEERS chat-client "$port" TLS "$@" 2>&1 | tr '\n' '|'
}
expect_log() {  # DAEMON SECTION REGEX WHAT
    lib_conn_log "$TEST_TMP/$1.out" "$2" | grep -Eq "$3" ||
        bad "$4: no '$3' in:
$(lib_conn_log "$TEST_TMP/$1.out" "$2" | grep -E 'LOG[0-6]|CapWIN|LDAP')"
}
closed='Connection closed: 0 byte\(s\) sent to TLS, 0 byte\(s\) sent to socket$'
reset='Connection reset: 0 byte\(s\) sent to TLS, 0 byte\(s\) sent to socket$'

# --- the server side, with scripted TLS clients
got=$(tls_chat "$(lib_port s ok)" "S:${record}hello" N:5 N:5)
[ "${got#TLS *|}" = "read b'BINGO'|read b'hello'|" ] ||
    bad "server: the client saw $got"
expect_log s ok 'LOG5\[[0-9]*\]: CapWIN: Authentication succeeded$' "server"
grep -qF "$bind" "$TEST_TMP/ldap-ok.out" || bad "the BindRequest was not 5.75's: $(head -n 1 "$TEST_TMP/ldap-ok.out")"
steps=()
for b in 1f 61 6c 69 63 65 1f 73 33 63 72 65 74 1f 1c; do steps+=("S:\\x$b" W:0.05); done
got=$(tls_chat "$(lib_port s ok)" "${steps[@]}" S:again N:5 N:5)
[ "${got#TLS *|}" = "read b'BINGO'|read b'again'|" ] ||
    bad "server, a byte at a time: the client saw $got"
for n in 1 2 3 4; do
    case $n in
        1) bad_record="alice${FS}" ;;
        2) bad_record="a${US}b${FS}" ;;
        3) bad_record="a${US}b${US}c${FS}" ;;
        4) bad_record="a${US}b${US}c${US}$(printf 'd%.0s' {1..93})" ;;   # 99 bytes, no FS
    esac
    got=$(tls_chat "$(lib_port s ok)" "S:$bad_record" N:5)
    case $got in *BINGO*|*FAILED*) bad "malformed ($n): the client saw $got" ;; esac
    expect_log s ok "LOG3\[[0-9]*\]: CapWIN: Malformed credentials \($n\)$" "malformed ($n)"
    expect_log s ok "$reset" "malformed ($n)"
done
long="${US}$(printf 'u%.0s' {1..79})${US}${US}${FS}"
got=$(tls_chat "$(lib_port s ok)" "S:$long" N:6)
[ "${got#TLS *|}" = "read b'FAILED'|" ] || bad "too long: the client saw $got"
expect_log s ok 'LOG3\[[0-9]*\]: LDAP: Request too long$' "too long"
expect_log s ok "$closed" "too long"
for name in no gone; do
    got=$(tls_chat "$(lib_port s $name)" "S:$record" N:6)
    [ "${got#TLS *|}" = "read b'FAILED'|" ] || bad "$name: the client saw $got"
    expect_log s $name 'LOG3\[[0-9]*\]: CapWIN: Authentication failed$' "$name"
    expect_log s $name "$closed" "$name"
done
expect_log s gone "LOG3\\[[0-9]*\\]: s_connect: connect 127.0.0.1:$gone: Connection refused \\(111\\)$" "gone"
for name in cut stall; do
    got=$(tls_chat "$(lib_port s $name)" "S:$record" N:5)
    case $got in *BINGO*|*FAILED*) bad "$name: the client saw $got" ;; esac
    expect_log s $name "$reset" "$name"
done
expect_log s cut 'LOG3\[[0-9]*\]: s_read: Received 4 out of requested 22 byte\(s\)$' "cut"
expect_log s stall 'LOG6\[[0-9]*\]: s_read_eof: s_poll_wait: TIMEOUTbusy exceeded: sending reset$' "stall"

# --- the client side: capwinctrl, then capwin clients
ctrl() {  # RECORD: what the local program gives capwinctrl
    $PEERS chat-client "$(lib_port c ctrl)" "S:$1" >/dev/null 2>&1
}
$PEERS read "$(lib_port c c-ok)" --timeout 5 >/dev/null 2>&1
expect_log c c-ok 'LOG3\[[0-9]*\]: CapWIN: No credentials set$' "no credentials"
expect_log c c-ok "$reset" "no credentials"
ctrl "AUTH${US}alice${US}s3cret${US}extra${FS}"
expect_log c ctrl 'LOG5\[[0-9]*\]: CapWIN: Credentials set$' "capwinctrl"
expect_log c ctrl "$closed" "capwinctrl"
lib_through "$(lib_port c c-ok)" || bad "ours against ours: nothing came back"
expect_log c c-ok 'LOG5\[[0-9]*\]: CapWIN: Authentication succeeded$' "ours against ours"
lib_through "$(lib_port c c-bingo)" || bad "against BINGO: nothing came back"
grep -qF "read b'\\x1falice\\x1fs3cret\\x1f\\x1c'" "$TEST_TMP/tls-bingo.out" ||
    bad "the client did not send 5.75's message: $(cat "$TEST_TMP/tls-bingo.out")"
for name in c-no c-failed; do
    $PEERS read "$(lib_port c $name)" --timeout 5 >/dev/null 2>&1
    expect_log c $name 'LOG3\[[0-9]*\]: CapWIN: Authentication failed$' "$name"
    expect_log c $name "$reset" "$name"
done
ctrl "auth${US}alice${US}s3cret${US}${FS}"
$PEERS read "$(lib_port c c-ok)" --timeout 5 >/dev/null 2>&1
expect_log c c-ok 'LOG3\[[0-9]*\]: CapWIN: Invalid authentication request$' "not AUTH"
ctrl "AUTH${US}alice"
$PEERS read "$(lib_port c c-ok)" --timeout 5 >/dev/null 2>&1
expect_log c c-ok 'LOG3\[[0-9]*\]: CapWIN: Malformed credentials \(2\)$' "client, malformed"

# --- stunnel 5.75 at the other end
if [ -x "$REF575DIR/stunnel-fork" ] && [ -x "$REF575DIR/stunnel-pthread" ]; then
    {
        printf 'foreground = yes\nsyslog = no\ndebug = debug\npid =\n'
        server_section ref "$(port_of ldap-ok)"
    } >"$TEST_TMP/rs.conf"
    DAEMON=$REF575DIR/stunnel-fork lib_daemon rs "$TEST_TMP/rs.conf" || exit 1
    {
        printf 'foreground = yes\nsyslog = no\ndebug = debug\n'
        printf '[ctrl]\nclient = yes\naccept = 127.0.0.1:0\nprotocol = capwinctrl\n'
        client_section c-ref "$(lib_port rs ref)"
    } >"$TEST_TMP/c2.conf"
    lib_daemon c2 "$TEST_TMP/c2.conf" || exit 1
    $PEERS chat-client "$(lib_port c2 ctrl)" "S:AUTH${US}alice${US}s3cret${US}${FS}" >/dev/null 2>&1
    lib_through "$(lib_port c2 c-ref)" || bad "ours against 5.75's server: nothing came back"
    expect_log rs ref 'LOG5\[[0-9]*\]: CapWIN: Authentication succeeded$' "5.75's server"
    {
        printf 'foreground = yes\nsyslog = no\ndebug = debug\npid =\n'
        printf '[ctrl]\nclient = yes\naccept = 127.0.0.1:0\nprotocol = capwinctrl\n'
        client_section c-ref "$(lib_port s ok)"
    } >"$TEST_TMP/rc.conf"
    DAEMON=$REF575DIR/stunnel-pthread lib_daemon rc "$TEST_TMP/rc.conf" || exit 1
    $PEERS chat-client "$(lib_port rc ctrl)" "S:AUTH${US}alice${US}s3cret${US}${FS}" >/dev/null 2>&1
    lib_through "$(lib_port rc c-ref)" || bad "5.75's client against ours: nothing came back"
    expect_log s ok 'LOG5\[[0-9]*\]: CapWIN: Authentication succeeded$' "5.75's client"
else
    echo "note: no stunnel 5.75 reference ($REF575DIR): not compared"
fi

for log in s c c2; do
    ! grep -q s3cret "$TEST_TMP/$log.out" 2>/dev/null || bad "the password is in $log's log"
done
exit $fail
