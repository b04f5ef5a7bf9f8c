#!/bin/bash
# PSK: a client section and a server section sharing a PSKsecrets file
# talk without certificates, in TLS 1.3 and TLS 1.2; PSKidentity picks
# the identity; an identity the server does not know is refused; and
# openssl s_client with -psk_identity/-psk reaches the server section.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp

key=$(openssl rand -hex 32)
printf 'alice:%s\nbob:%s\n' "$(openssl rand -hex 32)" "$key" >"$TEST_TMP/psk.txt"
printf 'mallory:%s\n' "$(openssl rand -hex 32)" >"$TEST_TMP/other.txt"
chmod 600 "$TEST_TMP/psk.txt" "$TEST_TMP/other.txt"
lib_peer echo echo || exit 1
cat >"$TEST_TMP/s.conf" <<EOF
foreground = yes
syslog = no
debug = info
[psk-server]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
PSKsecrets = $TEST_TMP/psk.txt
EOF
lib_daemon s "$TEST_TMP/s.conf" || exit 1
sport=$(lib_port s psk-server)
cat >"$TEST_TMP/c.conf" <<EOF
foreground = yes
syslog = no
debug = info
[tls13]
client = yes
accept = 127.0.0.1:0
connect = 127.0.0.1:$sport
PSKsecrets = $TEST_TMP/psk.txt
PSKidentity = bob
[tls12]
client = yes
accept = 127.0.0.1:0
connect = 127.0.0.1:$sport
PSKsecrets = $TEST_TMP/psk.txt
sslVersionMax = TLSv1.2
[stranger]
client = yes
accept = 127.0.0.1:0
connect = 127.0.0.1:$sport
PSKsecrets = $TEST_TMP/other.txt
EOF
lib_daemon c "$TEST_TMP/c.conf" || exit 1
for s in tls13 tls12; do
    read -r _ sent _ received count < <($PEERS client "$(lib_port c $s)" 100000 --expect-bytes 100000 --timeout 10)
    [ "$count" = 100000 ] && [ "$sent" = "$received" ] || bad "$s: PSK tunnel failed"
done
read -r _ _ _ _ count < <($PEERS client "$(lib_port c stranger)" 100 --timeout 10 2>/dev/null)
[ "${count:-0}" = 0 ] || bad "an unknown PSK identity got through"
sleep 0.3
grep -q 'LOG6\[[0-9]*\]: PSK client configured for identity "bob"' "$TEST_TMP/c.out" || bad "PSKidentity not used"
grep -q 'LOG6\[[0-9]*\]: PSK client configured for identity "alice"' "$TEST_TMP/c.out" ||
    bad "the first identity is not the default"
grep -q 'TLSv1.2 ciphersuite: .*PSK' "$TEST_TMP/c.out" || bad "no TLS 1.2 PSK ciphersuite"
grep -q 'LOG6\[[0-9]*\]: PSK identity not found: mallory' "$TEST_TMP/s.out" || bad "unknown identity not logged"
grep -q 'LOG6\[[0-9]*\]: TLS accepted: PSK' "$TEST_TMP/s.out" || bad "no 'TLS accepted: PSK'"
grep -q 'LOG5\[ui\]: OCSP: Server OCSP stapling is incompatible with PSK' "$TEST_TMP/s.out" ||
    bad "no 'Server OCSP stapling is incompatible with PSK' for a server without a certificate"

# a foreign TLS client with the key
out=$( (echo via-s_client; sleep 1) | timeout 5 openssl s_client -connect "127.0.0.1:$sport" \
    -psk_identity bob -psk "$key" -quiet 2>/dev/null)
[ "$out" = via-s_client ] || bad "openssl s_client with the PSK: '$out'"

# TLS 1.3: the handshake with the key says so; the ticket it leaves is
# that of an authenticated session, and resumes
for i in 1 2; do
    (echo "pass $i"; sleep 1) | timeout 5 openssl s_client -connect "127.0.0.1:$sport" -tls1_3 \
        -psk_identity bob -psk "$key" -sess_out "$TEST_TMP/psk.sess" \
        $( [ $i = 2 ] && echo -sess_in "$TEST_TMP/psk.sess") >"$TEST_TMP/psk$i.out" 2>&1
done
grep -q '^Reused, TLSv1.3' "$TEST_TMP/psk1.out" || bad "TLS 1.3 PSK: no handshake"
grep -q '^Reused, TLSv1.3' "$TEST_TMP/psk2.out" || bad "TLS 1.3 PSK: the ticket did not resume"
sleep 0.3
id=$(sed -n 's/.*LOG5\[\([0-9]*\)\]: Key configured for PSK identity "bob".*/\1/p' "$TEST_TMP/s.out" | tail -n 1)
grep -q "LOG6\[$id\]: TLS accepted: PSK" "$TEST_TMP/s.out" ||
    bad "a TLS 1.3 PSK handshake is not logged as 'TLS accepted: PSK'"
grep -q 'LOG6\[[0-9]*\]: PSK identity not found (session resumption?)' "$TEST_TMP/s.out" ||
    bad "a ticket offered as an identity is not logged as a resumption"
grep -q 'LOG6\[[0-9]*\]: Decrypted ticket for an authenticated session: yes' "$TEST_TMP/s.out" ||
    bad "the ticket of a PSK session is not an authenticated one"
exit $fail
