#!/bin/bash
# The TLS settings of a service, each with a peer it admits and one it
# refuses (openssl s_client/s_server against one daemon with many
# sections), checked on both ends and in the daemon's log:
#   - protocol versions: sslVersion = TLSv1.2, sslVersionMin = TLSv1.3,
#     sslVersionMax = TLSv1.2, options = NO_TLSv1_3 and the SSL_CONF
#     command config = MinProtocol:TLSv1.3;
#   - ciphers (TLS 1.2 only), ciphersuites (TLS 1.3 only), curves = P-384
#     (X25519 refused; the peer key logged as stunnel logs it);
#   - renegotiation: OpenSSL 3 refuses a TLS 1.2 client's renegotiation
#     by default (stunnel4 too; the manual says so), the option
#     ALLOW_CLIENT_RENEGOTIATION lets it through, and renegotiation = no
#     refuses it even then; in client mode a server's
#     renegotiation is followed by default and refused with "no";
#   - securityLevel: an RSA-1024 certificate fails to load at the default
#     level and loads and serves with securityLevel = 0;
#   - sessionCacheTimeout = 1: a session id (and a ticket) resumes within
#     the second, not after two; sessionCacheSize = 1 keeps only the
#     newest session; with sessionCacheSize = 2 the least recently used
#     one makes room (src/sesscache.c);
#   - configurations refused with exit status 1, "Configuration failed"
#     and the reference's error line: an unknown cipher string,
#     ciphersuites or curves, sslVersionMin above sslVersionMax, an unknown
#     config command, a config command without its parameter or with a
#     bad one.
# DAEMON=/usr/bin/stunnel4 runs it against the reference.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
command -v openssl >/dev/null 2>&1 || { echo "SKIP: openssl command not installed"; exit $SKIP; }
command -v socat >/dev/null 2>&1 || { echo "SKIP: socat not installed"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
c=$TEST_TMP/certs
prog=${DAEMON:-$STUNNEL}
openssl req -x509 -newkey rsa:1024 -nodes -keyout "$c/weak.key" -out "$c/weak.crt" \
    -days 2 -subj /CN=localhost >/dev/null 2>&1 || { echo "FAIL: RSA-1024 certificate"; exit 1; }
cat "$c/weak.key" "$c/weak.crt" >"$c/weak.pem"
chmod 600 "$c/weak.pem" "$c/weak.key"

# --- configurations the daemon must refuse -------------------------------
# refuse NAME LINES...: a one-section configuration (started in the
# background, all at once; checked below)
pids=()
refuse() {
    local name=$1; shift
    { printf 'foreground = yes\nsyslog = no\ndebug = info\n[%s]\n' "$name"
      printf 'accept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n'
      printf '%s\n' "$@"; } >"$TEST_TMP/$name.conf"
    ( timeout 10 "$prog" "$TEST_TMP/$name.conf" </dev/null >"$TEST_TMP/$name.out" 2>&1
      echo $? >"$TEST_TMP/$name.rc" ) &
    pids+=("$!")
}
refuse badciphers "cert = $c/server.pem" "ciphers = NOT-A-CIPHER"
refuse badsuites "cert = $c/server.pem" "ciphersuites = TLS_NOT_A_SUITE"
refuse badcurves "cert = $c/server.pem" "curves = P-999"
refuse badrange "cert = $c/server.pem" "sslVersionMin = TLSv1.3" "sslVersionMax = TLSv1.2"
refuse badcommand "cert = $c/server.pem" "config = Bogus:1"
refuse noparam "cert = $c/server.pem" "config = MinProtocol"
refuse badparam "cert = $c/server.pem" "config = MinProtocol:TLSv9"
refuse weakdefault "cert = $c/weak.pem"
wait "${pids[@]}"
# refused NAME 'ERE'...: exit status 1, "Configuration failed" and the lines
refused() {
    local name=$1 out=$TEST_TMP/$1.out re; shift
    [ "$(cat "$TEST_TMP/$name.rc")" = 1 ] ||
        bad "[$name]: exit status $(cat "$TEST_TMP/$name.rc"), not 1"
    grep -q 'Configuration failed$' "$out" || bad "[$name]: no 'Configuration failed'"
    for re in "$@"; do
        grep -Eq -- "$re" "$out" || { bad "[$name]: no line matching '$re'"; sed 's/^/    /' "$out" | grep '\[!\]'; }
    done
}
ctxfail='^\[!\] Service \[[a-z]+\]: Failed to initialize TLS context$'
# OpenSSL errors are "TEXT: [FUNCTION@]FILE:LINE: error:CODE:LIB::REASON"
refused badciphers '^\[!\] SSL_CTX_set_cipher_list: .*error:0A0000B9:SSL routines::no cipher match$' "$ctxfail"
refused badsuites '^\[!\] SSL_CTX_set_ciphersuites: .*error:0A0000B9:SSL routines::no cipher match$' "$ctxfail"
refused badcurves "^\\[!\\] Invalid groups list in 'curves'\$" "$ctxfail"
refused badrange '^\[!\] Service \[badrange\]: Invalid protocol version range$'
refused badcommand '^\[!\] OpenSSL config command "Bogus" was not recognised$' "$ctxfail"
refused noparam '^\[!\] OpenSSL config command "MinProtocol" requires a parameter$' "$ctxfail"
refused badparam '^\[!\] SSL_CONF_cmd: ' "$ctxfail"
refused weakdefault '^\[!\] SSL_CTX_use_certificate_chain_file: .*error:0A00018F:SSL routines::ee key too small$' "$ctxfail"

# --- two TLS 1.2 servers that renegotiate on request ("r" on stdin) -------
# for the client sections; their stdin is a FIFO held open on fd 3 and 4
sserver() {  # NAME: start it, output in $TEST_TMP/NAME.out
    mkfifo "$TEST_TMP/$1.fifo" || exit 1
    openssl s_server -accept 127.0.0.1:0 -cert "$c/server.pem" -tls1_2 -naccept 1 \
        <"$TEST_TMP/$1.fifo" >"$TEST_TMP/$1.out" 2>&1 &
    LIB_PIDS+=("$!")
}
sserver srv-yes
exec 3>"$TEST_TMP/srv-yes.fifo"
sserver srv-no
exec 4>"$TEST_TMP/srv-no.fifo"
for n in yes no; do
    lib_wait_for "$TEST_TMP/srv-$n.out" '^ACCEPT ' 10 || { echo "FAIL: s_server srv-$n did not start"; exit 1; }
done
srv_yes=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$TEST_TMP/srv-yes.out")
srv_no=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$TEST_TMP/srv-no.out")

# --- the daemon ----------------------------------------------------------
lib_peer echo echo || exit 1
{
    printf 'foreground = yes\nsyslog = no\ndebug = info\n'
    section() {  # NAME LINES...
        printf '[%s]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\ncert = %s\n' "$1" "$PEER_PORT" "$c/server.pem"
        shift
        printf '%s\n' "$@"
    }
    section plain
    section v12 "sslVersion = TLSv1.2"
    section min13 "sslVersionMin = TLSv1.3"
    section max12 "sslVersionMax = TLSv1.2"
    section no13 "options = NO_TLSv1_3"
    section confmin "config = MinProtocol:TLSv1.3"
    section ciphers "ciphers = ECDHE-ECDSA-AES128-GCM-SHA256"
    section suites "ciphersuites = TLS_CHACHA20_POLY1305_SHA256"
    section curves "curves = P-384"
    section noreneg "renegotiation = no"
    section allowreneg "options = ALLOW_CLIENT_RENEGOTIATION"
    section allownoreneg "options = ALLOW_CLIENT_RENEGOTIATION" "renegotiation = no"
    section weak "cert = $c/weak.pem" "securityLevel = 0"
    section shortcache "sessionCacheTimeout = 1"
    section onecache "sessionCacheSize = 1"
    section twocache "sessionCacheSize = 2"
    printf '[renegclient]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\n' "$srv_yes"
    printf '[norenegclient]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\nrenegotiation = no\n' "$srv_no"
} >"$TEST_TMP/d.conf"
lib_daemon d "$TEST_TMP/d.conf" || exit 1
dpid=$LIB_PID
log=$TEST_TMP/d.out
grep -q 'User-specified security level set: 0$' "$log" || bad "securityLevel = 0 not logged"

# tls SECTION S_CLIENT-OPTIONS...: a line through SECTION; 0 if it came
# back; s_client's output in $TEST_TMP/tls.out, the daemon's lines about
# the connection in $TEST_TMP/conn.out
tls() {
    local s=$1 id; shift
    (echo ping; sleep 1.2) | timeout 5 openssl s_client -connect "127.0.0.1:$(lib_port d "$s")" \
        -no_ign_eof "$@" >"$TEST_TMP/tls.out" 2>&1
    id=$(sed -n "s/.*LOG5\[\([0-9]*\)\]: Service \[$s\] accepted connection from .*/\1/p" "$log" | tail -n 1)
    lib_wait_for "$log" "LOG5\[$id\]: Connection [a-z/]+: " 5
    grep "LOG[0-7]\[$id\]: " "$log" >"$TEST_TMP/conn.out"
    grep -qx ping "$TEST_TMP/tls.out"
}
logged() {  # WHAT ERE: the last connection's log has a matching line
    grep -Eq -- "$2" "$TEST_TMP/conn.out" ||
        { bad "$1: no log line matching '$2'"; sed 's/^/    /' "$TEST_TMP/conn.out"; }
}
suite() {  # WHAT VERSION CIPHER BITS
    logged "$1" "LOG6\[[0-9]+\]: $2 ciphersuite: $3 \($4-bit encryption\)$"
}
refusal() {  # WHAT REASON: the handshake failed with REASON in the log
    logged "$1" "LOG3\[[0-9]+\]: SSL_accept: .*SSL routines::$2$"
}

# --- protocol versions ---------------------------------------------------
tls v12 -tls1_3 && bad "sslVersion = TLSv1.2 admits a TLS 1.3 client"
refusal "sslVersion = TLSv1.2, TLS 1.3 client" "unsupported protocol"
tls v12 -tls1_2 || bad "sslVersion = TLSv1.2 refuses a TLS 1.2 client"
suite "sslVersion = TLSv1.2" TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 256
tls min13 -tls1_2 && bad "sslVersionMin = TLSv1.3 admits a TLS 1.2 client"
refusal "sslVersionMin = TLSv1.3, TLS 1.2 client" "unsupported protocol"
tls min13 || bad "sslVersionMin = TLSv1.3 refuses a TLS 1.3 client"
suite "sslVersionMin = TLSv1.3" TLSv1.3 TLS_AES_256_GCM_SHA384 256
tls max12 -tls1_3 && bad "sslVersionMax = TLSv1.2 admits a TLS 1.3 client"
refusal "sslVersionMax = TLSv1.2, TLS 1.3 client" "unsupported protocol"
tls max12 || bad "sslVersionMax = TLSv1.2 refuses a client offering both"
suite "sslVersionMax = TLSv1.2" TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 256
tls no13 -tls1_3 && bad "options = NO_TLSv1_3 admits a TLS 1.3 client"
refusal "options = NO_TLSv1_3, TLS 1.3 client" "unsupported protocol"
tls no13 || bad "options = NO_TLSv1_3 refuses a client offering both"
suite "options = NO_TLSv1_3" TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 256
tls confmin -tls1_2 && bad "config = MinProtocol:TLSv1.3 admits a TLS 1.2 client"
refusal "config = MinProtocol:TLSv1.3, TLS 1.2 client" "unsupported protocol"
tls confmin || bad "config = MinProtocol:TLSv1.3 refuses a TLS 1.3 client"
suite "config = MinProtocol:TLSv1.3" TLSv1.3 TLS_AES_256_GCM_SHA384 256

# --- ciphers, ciphersuites, curves ---------------------------------------
tls ciphers -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384 && bad "ciphers admits another TLS 1.2 cipher"
refusal "ciphers, other cipher" "no shared cipher"
tls ciphers -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384 ||
    bad "ciphers refuses its own cipher"
suite "ciphers" TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 128
tls ciphers -tls1_3 || bad "ciphers (a TLS 1.2 setting) refuses a TLS 1.3 client"
suite "ciphers, TLS 1.3 client" TLSv1.3 TLS_AES_256_GCM_SHA384 256
tls suites -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256 && bad "ciphersuites admits another TLS 1.3 suite"
refusal "ciphersuites, other suite" "no shared cipher"
tls suites -tls1_3 || bad "ciphersuites refuses a client offering its suite"
suite "ciphersuites" TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 256
grep -q 'Cipher is TLS_CHACHA20_POLY1305_SHA256$' "$TEST_TMP/tls.out" ||
    bad "ciphersuites: s_client did not negotiate TLS_CHACHA20_POLY1305_SHA256"
tls suites -tls1_2 || bad "ciphersuites (a TLS 1.3 setting) refuses a TLS 1.2 client"
suite "ciphersuites, TLS 1.2 client" TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 256
tls curves -groups X25519 && bad "curves = P-384 admits an X25519-only client"
refusal "curves = P-384, X25519 client" "no suitable key share"
tls curves -tls1_2 -groups X25519 && bad "curves = P-384 admits an X25519-only TLS 1.2 client"
refusal "curves = P-384, X25519 TLS 1.2 client" "no shared cipher"
tls curves -groups X25519:P-384 || bad "curves = P-384 refuses a client offering P-384"
grep -q 'Server Temp Key: ECDH, secp384r1, 384 bits' "$TEST_TMP/tls.out" ||
    bad "curves = P-384: s_client did not get a P-384 key"
# stunnel names the curve by its NIST name (EC_curve_nid2nist)
logged "curves = P-384" 'LOG6\[[0-9]+\]: Peer temporary key: ECDH, P-384, 384 bits$'

# --- securityLevel = 0 with an RSA-1024 certificate ------------------------
tls weak || bad "securityLevel = 0 with an RSA-1024 certificate does not serve"
grep -q 'Server public key is 1024 bit' "$TEST_TMP/tls.out" || bad "securityLevel = 0: not the 1024-bit key"

# --- renegotiation -------------------------------------------------------
# reneg NAME SECTION: s_client (TLS 1.2) sends R, then "after"; in the
# background, output in $TEST_TMP/NAME.reneg
pids=()
reneg() {
    (sleep 0.5; echo R; sleep 0.7; echo after; sleep 0.7) |
        timeout 6 openssl s_client -connect "127.0.0.1:$(lib_port d "$2")" -tls1_2 -no_ign_eof \
        >"$TEST_TMP/$1.reneg" 2>&1 &
    pids+=("$!")
}
reneg plain plain
reneg noreneg noreneg
reneg allow allowreneg
reneg allowno allownoreneg
# client sections: a plain client sends "hello", the s_server renegotiates
# and then sends "fromserver"
for n in yes no; do
    s=renegclient; [ $n = no ] && s=norenegclient
    (echo hello; sleep 2.5) | timeout 6 socat -t 1 - "TCP:127.0.0.1:$(lib_port d $s)" \
        >"$TEST_TMP/client-$n.got" 2>/dev/null &
    pids+=("$!")
done
lib_wait_for "$TEST_TMP/srv-yes.out" '^hello$' 5 || bad "renegclient: no data at the s_server"
lib_wait_for "$TEST_TMP/srv-no.out" '^hello$' 5 || bad "norenegclient: no data at the s_server"
(trap '' PIPE; echo r >&3; echo r >&4) 2>/dev/null
sleep 0.5
(trap '' PIPE; echo fromserver >&3) 2>/dev/null
(trap '' PIPE; echo fromserver >&4) 2>/dev/null
exec 3>&- 4>&-
wait "${pids[@]}"
renegotiated() {  # NAME: R went through and the line after it came back
    grep -q '^RENEGOTIATING' "$TEST_TMP/$1.reneg" && grep -qx after "$TEST_TMP/$1.reneg"
}
grep -q '^RENEGOTIATING' "$TEST_TMP/plain.reneg" || bad "s_client did not renegotiate"
# OpenSSL 3 (and so stunnel4): client renegotiation needs ALLOW_CLIENT_RENEGOTIATION
renegotiated plain && bad "default: a TLS 1.2 client renegotiated without ALLOW_CLIENT_RENEGOTIATION"
renegotiated noreneg && bad "renegotiation = no: the client renegotiated"
grep -q '^RENEGOTIATING' "$TEST_TMP/noreneg.reneg" || bad "renegotiation = no: s_client did not try"
renegotiated allow ||
    { bad "options = ALLOW_CLIENT_RENEGOTIATION: the client cannot renegotiate";
      grep -A2 '^RENEGOTIATING' "$TEST_TMP/allow.reneg" | sed 's/^/    /'; }
renegotiated allowno && bad "renegotiation = no with ALLOW_CLIENT_RENEGOTIATION: the client renegotiated"
# the refused ones end with an error in the daemon's log
for s in noreneg allownoreneg; do
    id=$(sed -n "s/.*LOG5\[\([0-9]*\)\]: Service \[$s\] accepted connection from .*/\1/p" "$log" | tail -n 1)
    lib_wait_for "$log" "LOG5\[$id\]: Connection [a-z/]+: " 5
    grep -Eq "LOG3\[$id\]: (SSL_read: .*(alert|renegotiation)|Aborting due to renegotiation request)" "$log" ||
        bad "[$s]: the refused renegotiation is not logged as an error"
done
grep -qx fromserver "$TEST_TMP/client-yes.got" ||
    bad "client section: the server's renegotiation broke the connection"
grep -q 'SSL_do_handshake -> 1' "$TEST_TMP/srv-yes.out" || bad "client section: s_server did not renegotiate"
# s_server's statistics when it exits: the first handshake and the second
lib_wait_for "$TEST_TMP/srv-yes.out" 'server accepts that finished' 5
grep -Eq '^ *2 server accepts that finished' "$TEST_TMP/srv-yes.out" ||
    bad "client section: the renegotiation handshake did not finish"
grep -q 'ERROR\|no renegotiation' "$TEST_TMP/srv-yes.out" && bad "client section: renegotiation refused"
grep -qx fromserver "$TEST_TMP/client-no.got" &&
    bad "client section with renegotiation = no followed the server's renegotiation"
grep -q 'no renegotiation' "$TEST_TMP/srv-no.out" ||
    bad "client section with renegotiation = no: s_server got no no_renegotiation alert"

# --- the session cache ---------------------------------------------------
# resume SECTION out|in NAME OPTIONS...: prints New or Reused
resume() {
    local s=$1 dir=$2 f=$TEST_TMP/$3.sess; shift 3
    (echo x; sleep 0.3) | timeout 5 openssl s_client -connect "127.0.0.1:$(lib_port d "$s")" \
        -no_ign_eof "-sess_$dir" "$f" "$@" 2>/dev/null | sed -n 's/^\(Reused\|New\), .*/\1/p'
}
id="-tls1_2 -no_ticket"
# shellcheck disable=SC2086
{
[ "$(resume shortcache out A $id)" = New ] || bad "sessionCacheTimeout: first connection not new"
[ "$(resume shortcache in A $id)" = Reused ] || bad "sessionCacheTimeout = 1: a session id not resumed at once"
[ "$(resume shortcache out T -tls1_2)" = New ] || bad "sessionCacheTimeout: first connection not new"
[ "$(resume shortcache in T -tls1_2)" = Reused ] || bad "sessionCacheTimeout = 1: a TLS 1.2 ticket not resumed at once"
[ "$(resume shortcache out T3 -tls1_3)" = New ] || bad "sessionCacheTimeout: first connection not new"
[ "$(resume shortcache in T3 -tls1_3)" = Reused ] || bad "sessionCacheTimeout = 1: a TLS 1.3 ticket not resumed at once"
sleep 2.1
[ "$(resume shortcache in A $id)" = New ] || bad "sessionCacheTimeout = 1: a session id resumed after 2 s"
[ "$(resume shortcache in T -tls1_2)" = New ] || bad "sessionCacheTimeout = 1: a TLS 1.2 ticket resumed after 2 s"
[ "$(resume shortcache in T3 -tls1_3)" = New ] || bad "sessionCacheTimeout = 1: a TLS 1.3 ticket resumed after 2 s"

# one slot: the second client's session pushes the first one's out
[ "$(resume onecache out A $id)" = New ] || bad "sessionCacheSize = 1: first connection not new"
[ "$(resume onecache out B $id)" = New ] || bad "sessionCacheSize = 1: second connection not new"
[ "$(resume onecache in B $id)" = Reused ] || bad "sessionCacheSize = 1: the newest session not resumed"
[ "$(resume onecache in A $id)" = New ] || bad "sessionCacheSize = 1: an evicted session resumed"

# two slots: A, B, A used again, C: B is the least recently used, out it goes
[ "$(resume twocache out A $id)" = New ] || bad "sessionCacheSize = 2: first connection not new"
[ "$(resume twocache out B $id)" = New ] || bad "sessionCacheSize = 2: second connection not new"
[ "$(resume twocache in A $id)" = Reused ] || bad "sessionCacheSize = 2: two sessions not kept"
[ "$(resume twocache out C $id)" = New ] || bad "sessionCacheSize = 2: third connection not new"
[ "$(resume twocache in A $id)" = Reused ] || bad "sessionCacheSize = 2: the recently used session was evicted"
[ "$(resume twocache in C $id)" = Reused ] || bad "sessionCacheSize = 2: the newest session not resumed"
[ "$(resume twocache in B $id)" = New ] || bad "sessionCacheSize = 2: the least recently used session still resumes"
}
sleep 0.3
grep -Eq 'LOG6\[[0-9]+\]: TLS accepted: previous session reused$' "$log" ||
    bad "no 'TLS accepted: previous session reused' line"
kill -0 "$dpid" 2>/dev/null || bad "daemon died"
exit $fail
