#!/bin/bash
# Server-side STARTTLS: the backend's greeting as stunnel 5.75 passes it
# to the client. SMTP: the first line "220 HOST TEXT" becomes "220 HOST
# stunnel for TEXT" ("220 HOST stunnel" without TEXT, a "220-" keeps its
# dash), the lines that a "220-" continues pass unchanged, and EHLO is
# answered for HOST. POP3: the greeting passes with " + stunnel" added
# whatever it says.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
declare -A greeting=(
    [multi]='S:220-mx.example\x20first\r\n220-second\r\n220\x20third\r\n'
    [bare]='S:220\x20mx.example\r\n'
    [pop3]='S:-ERR\x20busy\r\n'
)
{
    printf 'foreground = yes\nsyslog = no\ndebug = info\n'
    for name in multi bare pop3; do
        lib_peer "$name" chat "${greeting[$name]}" EOF || exit 1
        printf '[%s]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\ncert = %s\nprotocol = %s\n' \
            "$name" "$PEER_PORT" "$TEST_TMP/certs/server.pem" \
            "$( [ $name = pop3 ] && echo pop3 || echo smtp)"
    done
} >"$TEST_TMP/c.conf"
lib_daemon d "$TEST_TMP/c.conf" || exit 1
chat() {  # NAME STEPS...: the plain client's view, one line
    local name=$1
    shift
    $PEERS chat-client "$(lib_port d "$name")" "$@" | tr '\n' '|'
}
got=$(chat multi R: R: R: 'S:EHLO\x20client\r\n' R: R:)
[ "$got" = "read b'220-mx.example stunnel for first\\r\\n'|read b'220-second\\r\\n'|read b'220 third\\r\\n'|read b'250-mx.example\\r\\n'|read b'250 STARTTLS\\r\\n'|" ] ||
    bad "smtp, a greeting of three lines: $got"
got=$(chat bare R: 'S:EHLO\x20client\r\n' R: R:)
[ "$got" = "read b'220 mx.example stunnel\\r\\n'|read b'250-mx.example\\r\\n'|read b'250 STARTTLS\\r\\n'|" ] ||
    bad "smtp, a greeting without text: $got"
got=$(chat pop3 R: 'S:STLS\r\n' R:)
[ "$got" = "read b'-ERR busy + stunnel\\r\\n'|read b'+OK Stunnel starts TLS negotiation\\r\\n'|" ] ||
    bad "pop3, a greeting that is no +OK: $got"
grep -q 'Unknown server welcome' "$TEST_TMP/d.out" && bad "a greeting refused"
exit $fail
