#!/bin/bash
# Server-side SNI: a primary service and two secondaries ("sni =
# PRIMARY:PATTERN", one with a "*." pattern): the client gets the
# certificate and the backend of the section its server name matches,
# and the primary's when nothing matches or no name is sent. As stunnel
# does, the server acknowledges the name a client sends (an empty
# server_name extension in its ServerHello in TLS 1.2, in its
# EncryptedExtensions in TLS 1.3), also in a section without virtual
# services ("SNI: no virtual services defined"), and sends none when no
# name came.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
cd "$TEST_TMP/certs" || exit 1
for name in www.example.org mail.example.net; do
    lib_issue . "$name" "/CN=$name" "subjectAltName=DNS:$name"
done
cd - >/dev/null || exit 1

# three backends that say who they are
for b in primary web mail; do
    lib_peer "$b" banner "$b" --close || exit 1
done
cat >"$TEST_TMP/s.conf" <<EOF
foreground = yes
syslog = no
debug = debug
[primary]
accept = 127.0.0.1:0
connect = 127.0.0.1:$(cat "$TEST_TMP/primary.port")
cert = $TEST_TMP/certs/server.pem
[web]
sni = primary:*.example.org
connect = 127.0.0.1:$(cat "$TEST_TMP/web.port")
cert = $TEST_TMP/certs/www.example.org.pem
[mail]
sni = primary:mail.example.net
connect = 127.0.0.1:$(cat "$TEST_TMP/mail.port")
cert = $TEST_TMP/certs/mail.example.net.pem
[plain]
accept = 127.0.0.1:0
connect = 127.0.0.1:$(cat "$TEST_TMP/primary.port")
cert = $TEST_TMP/certs/server.pem
EOF
lib_daemon d "$TEST_TMP/s.conf" || exit 1
port=$(lib_port d primary)
plain=$(lib_port d plain)

ask() {  # SERVERNAME-OPTIONS... -> "BACKEND CN"
    local out
    out=$(sleep 1 | timeout 5 openssl s_client -connect "127.0.0.1:$port" "$@" 2>/dev/null)
    echo "$(echo "$out" | grep -xE 'primary|web|mail') $(echo "$out" | sed -n 's/^subject=.*CN = //p')"
}
[ "$(ask -servername www.example.org)" = "web www.example.org" ] || bad "*.example.org: $(ask -servername www.example.org)"
[ "$(ask -servername mail.example.net)" = "mail mail.example.net" ] || bad "mail.example.net"
[ "$(ask -servername other.example.com)" = "primary localhost" ] || bad "unmatched name must stay on the primary"
[ "$(ask -noservername)" = "primary localhost" ] || bad "no name must stay on the primary"
sleep 0.3
grep -q 'LOG5\[[0-9]*\]: SNI: switched to service \[web\]' "$TEST_TMP/d.out" || bad "no 'SNI: switched to service' line"
grep -q 'LOG3\[[0-9]*\]: SNI: no pattern matched servername: other.example.com' "$TEST_TMP/d.out" ||
    bad "no 'no pattern matched' line"
grep -q 'LOG5\[[0-9]*\]: SNI: no servername received' "$TEST_TMP/d.out" || bad "no 'no servername received' line"

# the acknowledgement: "yes" if the server's hello (TLS 1.2) or its
# encrypted extensions (TLS 1.3) carry a server_name extension
acked() {  # PORT VERSION SERVERNAME-OPTIONS...
    local p=$1 v=$2; shift 2
    if echo | timeout 5 openssl s_client -connect "127.0.0.1:$p" "-$v" -tlsextdebug "$@" 2>&1 |
        grep -q 'TLS server extension "server name"'; then echo yes; else echo no; fi
}
for v in tls1_2 tls1_3; do
    [ "$(acked "$plain" $v -servername www.example.com)" = yes ] ||
        bad "$v: a section without virtual services did not acknowledge the client's server name"
    [ "$(acked "$port" $v -servername www.example.org)" = yes ] || bad "$v: a matched name was not acknowledged"
    [ "$(acked "$port" $v -servername other.example.com)" = yes ] || bad "$v: an unmatched name was not acknowledged"
    [ "$(acked "$plain" $v -noservername)" = no ] || bad "$v: a server_name extension with no name sent"
    [ "$(acked "$port" $v -noservername)" = no ] || bad "$v: a server_name extension with no name sent (primary)"
done
grep -q 'LOG7\[[0-9]*\]: SNI: no virtual services defined$' "$TEST_TMP/d.out" ||
    bad "no 'SNI: no virtual services defined' line"
exit $fail
