#!/bin/bash
# redirect holds on every path: a client whose certificate was refused is
# redirected on its first connection and on every connection that resumes
# that session (TLS 1.3 tickets, TLS 1.2 tickets, TLS 1.2 session ids
# through the shared cache, tickets sealed with a ticketKeySecret shared
# with a second instance, sessions kept by sessiond), while an
# authenticated client's resumed sessions still reach the application.
# With exec, a redirected client never starts the program; with
# protocol = proxy, the redirect target gets no PROXY header. Without
# redirect, a session resumed where it was never authenticated (another
# instance sharing the ticket keys that checks nothing) is refused.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
c=$TEST_TMP/certs

lib_peer app banner app || exit 1
app=$PEER_PORT
lib_peer honeypot banner honeypot || exit 1
honeypot=$PEER_PORT
lib_peer cache sessiond || exit 1
cache=$PEER_PORT

key=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
mac=f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f
section() {  # NAME EXTRA-LINES...
    local name=$1; shift
    printf '[%s]\naccept = 127.0.0.1:0\ncert = %s\nverifyChain = yes\nCAfile = %s\nredirect = 127.0.0.1:%s\n' \
        "$name" "$c/server.pem" "$c/ca.pem" "$honeypot"
    printf '%s\n' "$@"
}
for inst in a b; do
    {
        printf 'foreground = yes\nsyslog = no\ndebug = info\n'
        section tickets "connect = 127.0.0.1:$app"
        section shared "connect = 127.0.0.1:$app" "ticketKeySecret = $key" "ticketMacSecret = $mac"
        section sessiond "connect = 127.0.0.1:$app" "sessiond = 127.0.0.1:$cache"
        section exec "exec = /bin/echo" "execArgs = echo program"
        section proxy "connect = 127.0.0.1:$app" "protocol = proxy"
        # the same service name and ticket keys, checking clients only in b
        printf '[gate]\naccept = 127.0.0.1:0\ncert = %s\nconnect = 127.0.0.1:%s\n' \
            "$c/server.pem" "$app"
        printf 'ticketKeySecret = %s\nticketMacSecret = %s\n' "$key" "$mac"
        [ $inst = b ] && printf 'verifyChain = yes\nCAfile = %s\n' "$c/ca.pem"
        printf '[require]\naccept = 127.0.0.1:0\ncert = %s\nconnect = 127.0.0.1:%s\nrequireCert = yes\n' \
            "$c/server.pem" "$app"
    } >"$TEST_TMP/$inst.conf"
    lib_daemon "$inst" "$TEST_TMP/$inst.conf" || exit 1
done

# certificates small enough (no extensions) for a session that holds one
# to fit in a sessiond datagram: signed by the CA, and self-signed
(
    cd "$c" || exit 1
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tiny.key \
        -out tiny.csr -subj /CN=t &&
    openssl x509 -req -in tiny.csr -CA ca.pem -CAkey ca.key -days 2 -out tiny.crt &&
    openssl x509 -req -in tiny.csr -key tiny.key -days 2 -out tinyself.crt &&
    cat tiny.key tiny.crt >tiny.pem && cat tiny.key tinyself.crt >tinyself.pem
) >/dev/null 2>&1 || { echo "FAIL: small certificates"; exit 1; }

# three connections resuming one session (the first to FIRST-PORT, the
# others to NEXT-PORT): the first one new, both others resumed, each
# answered by WHO
check() {  # LABEL EXPECTED-WHO FIRST-PORT NEXT-PORT CERT OPTIONS...
    local label=$1 who=$2 first=$3 next=$4 cert=$5 got want
    shift 5
    got=$($PEERS sessions "$first" "$next" "$next" ${cert:+--cert "$c/$cert.pem"} "$@" |
        tr '\n' ' ')
    want="new $who reused $who reused $who "
    [ "$got" = "$want" ] || bad "$label: got '$got', wanted '$want'"
}
p() { lib_port "$1" "$2"; }
for cert in stranger ""; do
    who=${cert:-no certificate}
    check "TLS 1.3 ticket, $who" honeypot "$(p a tickets)" "$(p a tickets)" "$cert" --tls-version 1.3
    check "TLS 1.2 ticket, $who" honeypot "$(p a tickets)" "$(p a tickets)" "$cert" --tls-version 1.2
    check "TLS 1.2 session id (shared cache), $who" honeypot \
        "$(p a tickets)" "$(p a tickets)" "$cert" --tls-version 1.2 --no-ticket
    check "TLS 1.3 session (shared cache), $who" honeypot \
        "$(p a tickets)" "$(p a tickets)" "$cert" --tls-version 1.3 --no-ticket
    check "ticketKeySecret across instances, $who" honeypot \
        "$(p a shared)" "$(p b shared)" "$cert" --tls-version 1.3
    check "exec, $who" honeypot "$(p a exec)" "$(p a exec)" "$cert" --tls-version 1.3
done
for v in 1.2 1.3; do
    check "sessiond across instances, TLS $v, self-signed" honeypot \
        "$(p a sessiond)" "$(p b sessiond)" tinyself --tls-version $v
    check "sessiond across instances, TLS $v, no certificate" honeypot \
        "$(p a sessiond)" "$(p b sessiond)" "" --tls-version $v
    check "sessiond across instances, TLS $v, authenticated" app \
        "$(p a sessiond)" "$(p b sessiond)" tiny --tls-version $v
done
check "TLS 1.3 ticket, authenticated" app "$(p a tickets)" "$(p a tickets)" client --tls-version 1.3
check "TLS 1.2 session id, authenticated" app "$(p a tickets)" "$(p a tickets)" client \
    --tls-version 1.2 --no-ticket
check "ticketKeySecret, authenticated" app "$(p a shared)" "$(p b shared)" client --tls-version 1.2
check "exec, authenticated" program "$(p a exec)" "$(p a exec)" client --tls-version 1.3

check "requireCert, any certificate" app "$(p a require)" "$(p a require)" stranger --tls-version 1.3
check "requireCert, any certificate" app "$(p a require)" "$(p a require)" stranger \
    --tls-version 1.2 --no-ticket

# without redirect, a session that was never authenticated is refused
got=$($PEERS sessions "$(p a gate)" "$(p b gate)" | tr '\n' ' ')
[ "$got" = "new app reused - " ] ||
    bad "an unauthenticated session resumed where verification is on: '$got'"
grep -q 'LOG3\[[0-9]*\]: Resumed session was not authenticated: refused' "$TEST_TMP/b.out" ||
    bad "no 'Resumed session was not authenticated' line"

# protocol = proxy: the application gets the header, the honeypot none
$PEERS sessions "$(p a proxy)" "$(p a proxy)" --cert "$c/stranger.pem" >/dev/null
$PEERS sessions "$(p a proxy)" --cert "$c/client.pem" >/dev/null
sleep 1.2
grep -q '^honeypot got nothing$' "$TEST_TMP/honeypot.out" || bad "no connection reached the honeypot"
grep -q '^honeypot got PROXY' "$TEST_TMP/honeypot.out" && bad "the redirect target got a PROXY header"
grep -q '^app got PROXY TCP4 127.0.0.1 127.0.0.1 ' "$TEST_TMP/app.out" ||
    bad "the application got no PROXY header"

grep -q 'LOG6\[[0-9]*\]: Decrypted ticket for an authenticated session: no' "$TEST_TMP/a.out" ||
    bad "no 'Decrypted ticket for an authenticated session: no' line"
grep -q 'LOG6\[[0-9]*\]: Decrypted ticket for an authenticated session: yes' "$TEST_TMP/a.out" ||
    bad "no 'Decrypted ticket for an authenticated session: yes' line"
grep -q 'LOG5\[[0-9]*\]: Redirecting connection' "$TEST_TMP/b.out" ||
    bad "no 'Redirecting connection' line in the second instance"
exit $fail
