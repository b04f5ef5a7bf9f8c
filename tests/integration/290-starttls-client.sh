#!/bin/bash
# STARTTLS in client mode, as stunnel 5.75 does it: for smtp, pop3, imap
# and nntp the daemon reads the server's greeting and passes it to the
# plain client (smtp: every line, pop3 and nntp: the line, imap: a
# "* OK Connected." of its own), asks for TLS the way the protocol does,
# then does the TLS handshake and carries the data. Servers that refuse
# end the connection with the reference's message (imap tells the client
# and closes; the others reset).
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
tls="TLS:$TEST_TMP/certs/server.pem"
declare -A script=(
    [smtp]='S:220-mail.test\x20ESMTP\r\n220\x20ready\r\n R: S:250-mail.test\r\n250\x20STARTTLS\r\n R: S:220\x20go\x20ahead\r\n'
    [pop3]='S:+OK\x20POP3\x20ready\r\n R: S:+OK\x20begin\x20TLS\r\n'
    [imap]='S:*\x20OK\x20IMAP4rev1\x20ready\r\n R: S:stunnel\x20OK\x20begin\x20TLS\r\n'
    [nntp]='S:200\x20news\x20ready\r\n R: S:382\x20continue\r\n'
    [smtp-refused]='S:220\x20mail.test\r\n R: S:250\x20mail.test\r\n R: S:454\x20not\x20now\r\n EOF'
    [pop3-refused]='S:+OK\x20POP3\x20ready\r\n R: S:-ERR\x20no\r\n EOF'
    [imap-refused]='S:*\x20OK\x20IMAP4rev1\x20ready\r\n R: S:stunnel\x20NO\x20no\r\n EOF'
    [nntp-refused]='S:400\x20go\x20away\r\n EOF'
)
{
    printf 'foreground = yes\nsyslog = no\ndebug = info\n'
    for name in "${!script[@]}"; do
        kind=${name%-refused}
        # shellcheck disable=SC2086 # the steps are words
        if [ "$kind" = "$name" ]; then
            lib_peer "$name" chat ${script[$name]} "$tls" ECHO || exit 1
        else
            lib_peer "$name" chat ${script[$name]} || exit 1
        fi
        printf '[%s]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\nprotocol = %s\n' \
            "$name" "$PEER_PORT" "$kind"
        printf 'verifyChain = yes\nCAfile = %s\ncheckHost = localhost\nsni = localhost\n' "$TEST_TMP/certs/ca.pem"
    done
} >"$TEST_TMP/c.conf"
lib_daemon d "$TEST_TMP/c.conf" || exit 1
chat() {  # NAME STEPS...: the plain client's view, one line
    local name=$1
    shift
    $PEERS chat-client "$(lib_port d "$name")" "$@" | tr '\n' '|'
}
# what the plain client sees: the greeting first, then its own data back
want_smtp="read b'220-mail.test ESMTP\\r\\n'|read b'220 ready\\r\\n'|"
want_pop3="read b'+OK POP3 ready\\r\\n'|"
want_imap="read b'* OK Connected.\\r\\n'|"
want_nntp="read b'200 news ready\\r\\n'|"
for kind in smtp pop3 imap nntp; do
    greeting=want_$kind
    n=$(printf '%s' "${!greeting}" | tr -cd '|' | wc -c)
    steps=()
    for ((i = 0; i < n; i++)); do steps+=(R:); done
    got=$(chat "$kind" "${steps[@]}" 'S:hello\n' R: SHUT EOF)
    [ "$got" = "${!greeting}read b'hello\\n'|got b'' then EOF|" ] ||
        bad "$kind: the plain client saw $got"
done
sleep 0.3
for kind in smtp pop3 imap nntp; do
    grep -qF "read b'$( [ $kind = imap ] && echo 'stunnel STARTTLS' || { [ $kind = pop3 ] && echo STLS || echo STARTTLS; })\\r\\n'" \
        "$TEST_TMP/$kind.out" || bad "$kind: the server was not asked for TLS"
    grep -qF "echoed b'hello\\n'" "$TEST_TMP/$kind.out" || bad "$kind: no data through TLS"
done
grep -qF "read b'EHLO localhost\\r\\n'" "$TEST_TMP/smtp.out" || bad "smtp: no 'EHLO localhost'"

# refusals: what the client sees, and the reference's messages
[ "$(chat smtp-refused R: R:)" = "read b'220 mail.test\\r\\n'|reset|" ] ||
    bad "smtp refused: the plain client saw $(chat smtp-refused R: R:)"
[ "$(chat pop3-refused R: R:)" = "read b'+OK POP3 ready\\r\\n'|reset|" ] ||
    bad "pop3 refused: the plain client saw $(chat pop3-refused R: R:)"
[ "$(chat imap-refused R: R: R:)" = "read b'* OK Connected.\\r\\n'|read b'* BYE stunnel: Server does not support TLS\\r\\n'|EOF|" ] ||
    bad "imap refused: the plain client saw $(chat imap-refused R: R: R:)"
[ "$(chat nntp-refused R:)" = "reset|" ] ||
    bad "nntp refused: the plain client saw $(chat nntp-refused R:)"
sleep 0.3
log=$TEST_TMP/d.out
grep -q 'LOG3\[[0-9]*\]: Remote server is not RFC 2487 compliant$' "$log" || bad "no 'Remote server is not RFC 2487 compliant'"
[ "$(grep -c 'LOG3\[[0-9]*\]: Server does not support TLS$' "$log")" = 2 ] || bad "not 2 'Server does not support TLS' (pop3, imap)"
grep -q 'LOG3\[[0-9]*\]: Unknown server welcome$' "$log" || bad "no 'Unknown server welcome'"
# imap's refusal is told to the client: the connection is closed, not reset
grep -B2 'Connection closed: 0 byte(s) sent to TLS, 0 byte(s) sent to socket' "$log" |
    grep -q 'Server does not support TLS' || bad "imap refused: not 'Connection closed'"
grep -q 'is not implemented yet' "$log" && bad "a STARTTLS protocol reported as not implemented"
exit $fail
