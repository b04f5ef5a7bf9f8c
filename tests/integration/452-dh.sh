#!/bin/bash
# DH parameters, as stunnel 5.75 sets them up: a server whose cipher
# list has a DHE cipher gets them ("DH initialization needed for
# CIPHER"), from the certificate file when it has some ("N-bit DH
# parameters loaded"), else 2048-bit ones ("Using dynamic DH
# parameters"). So "ciphers = PSK" with TLS 1.2 negotiates
# DHE-PSK-AES256-GCM-SHA384, as in 5.75; the default list (!DH) skips
# DH and never reads the certificate file for it.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
c=$TEST_TMP/certs
lib_make_certs "$c" || { echo "FAIL: certificates"; exit 1; }
openssl dhparam -dsaparam -out "$TEST_TMP/dh.pem" 2048 2>/dev/null ||
    { echo "FAIL: dhparam"; exit 1; }
(umask 077 && cat "$c/rsa-server.pem" "$TEST_TMP/dh.pem" >"$TEST_TMP/rsa-dh.pem")
cat >"$TEST_TMP/s.conf" <<EOF
foreground = yes
syslog = no
debug = debug
[psk]
accept = 127.0.0.1:0
connect = 127.0.0.1:1
PSKsecrets = $c/psk.txt
ciphers = PSK
sslVersionMax = TLSv1.2
[params]
accept = 127.0.0.1:0
connect = 127.0.0.1:1
cert = $TEST_TMP/rsa-dh.pem
ciphers = DHE-RSA-AES128-GCM-SHA256
[plain]
accept = 127.0.0.1:0
connect = 127.0.0.1:1
cert = $c/server.pem
EOF
lib_daemon d "$TEST_TMP/s.conf" || exit 1
key=$(sed -n 's/^client1://p' "$c/psk.txt")
out=$(timeout 10 openssl s_client -connect "127.0.0.1:$(lib_port d psk)" -brief -tls1_2 \
    -psk_identity client1 -psk "$key" </dev/null 2>&1)
echo "$out" | grep -q '^Ciphersuite: DHE-PSK-AES256-GCM-SHA384$' ||
    bad "psk: not DHE-PSK-AES256-GCM-SHA384: $(echo "$out" | grep Ciphersuite)"
echo "$out" | grep -q '^Server Temp Key: DH, 2048 bits$' || bad "psk: not 2048-bit DH"
out=$(timeout 10 openssl s_client -connect "127.0.0.1:$(lib_port d params)" -brief -tls1_2 </dev/null 2>&1)
echo "$out" | grep -q '^Ciphersuite: DHE-RSA-AES128-GCM-SHA256$' || bad "params: no DHE-RSA handshake"
log=$TEST_TMP/d.out
for line in 'LOG6\[ui\]: DH initialization needed for DHE-PSK-AES256-GCM-SHA384' \
    'LOG7\[ui\]: No certificate available to load DH parameters' \
    'LOG6\[ui\]: Using dynamic DH parameters' \
    'LOG6\[ui\]: DH initialization needed for DHE-RSA-AES128-GCM-SHA256' \
    "LOG7\\[ui\\]: Using DH parameters from $TEST_TMP/rsa-dh.pem" \
    'LOG6\[ui\]: 2048-bit DH parameters loaded' \
    'LOG6\[ui\]: DH initialization skipped: no DH ciphersuites'; do
    grep -q "$line\$" "$log" || bad "no '$line'"
done
grep -q 'Could not load DH parameters' "$log" && bad "the certificate file read for DH parameters without DH ciphers"
exit $fail
