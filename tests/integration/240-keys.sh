#!/bin/bash
# The service's identity: a PKCS#12 bundle as "cert"; file: URIs loaded
# through OpenSSL's store (as pkcs11: URIs are with a provider); an RSA key; an
# encrypted key refused with a clear message when no terminal can ask for
# its passphrase, and accepted when the passphrase is typed on one; a key
# that does not match the certificate; DH parameters appended to the
# certificate file are used for DHE ciphers; a key file others may read
# is warned about ("Insecure file permissions on FILE", as stunnel 5.68).
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
c=$TEST_TMP/certs
(
    cd "$c" || exit 1
    openssl pkcs12 -export -in cert.pem -inkey key.pem -certfile ca.pem -out bundle.p12 -passout pass:
    openssl pkey -in key.pem -aes256 -passout pass:sesame -out encrypted.key
    openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.crt -days 2 -subj /CN=localhost
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
        -out other.crt -days 2 -subj /CN=other
    cat rsa.key rsa.crt > rsa-dh.pem
    openssl dhparam -dsaparam 2048 >> rsa-dh.pem
) >/dev/null 2>&1 || { echo "FAIL: test files"; exit 1; }
chmod 600 "$c"/*.key

lib_peer echo echo || exit 1
conf() {  # NAME IDENTITY-LINES...
    local name=$1; shift
    printf 'foreground = yes\nsyslog = no\ndebug = info\n[%s]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\n' \
        "$name" "$PEER_PORT" >"$TEST_TMP/$name.conf"
    printf '%s\n' "$@" >>"$TEST_TMP/$name.conf"
}
works() {  # NAME [s_client options]: a line goes through the service
    local name=$1; shift
    [ "$( (echo ping; sleep 1) | timeout 5 openssl s_client -connect \
        "127.0.0.1:$(lib_port "$name" "$name")" -quiet "$@" 2>/dev/null)" = ping ]
}

conf p12 "cert = $c/bundle.p12"
lib_daemon p12 "$TEST_TMP/p12.conf" && works p12 || bad "PKCS#12 bundle"
conf rsa "cert = $c/rsa-dh.pem" "ciphers = DHE-RSA-AES256-GCM-SHA384" "sslVersionMax = TLSv1.2"
lib_daemon rsa "$TEST_TMP/rsa.conf" && works rsa -tls1_2 || bad "RSA key with appended DH parameters"
grep -q "LOG6\[ui\]: 2048-bit DH parameters loaded" "$TEST_TMP/rsa.out" || bad "DH parameters not read from the cert file"

conf uri "cert = file:$c/cert.pem" "key = file:$c/key.pem"
lib_daemon uri "$TEST_TMP/uri.conf" && works uri || bad "cert and key as file: URIs (OSSL_STORE)"
grep -q "Certificate loaded from: file:$c/cert.pem" "$TEST_TMP/uri.out" || bad "no 'Certificate loaded from: URI'"

conf enc "cert = $c/cert.pem" "key = $c/encrypted.key"
"$STUNNEL" "$TEST_TMP/enc.conf" </dev/null >"$TEST_TMP/enc.out" 2>&1 && bad "encrypted key without a terminal accepted"
grep -q "encrypted.key is encrypted and no passphrase can be asked for" "$TEST_TMP/enc.out" ||
    { bad "no clear message for an encrypted key"; cat "$TEST_TMP/enc.out"; }
grep -q "Service \[enc\]: Failed to initialize TLS context" "$TEST_TMP/enc.out" || bad "no section error"

# on a terminal the passphrase is asked for
python3 - "$STUNNEL" "$TEST_TMP/enc.conf" >"$TEST_TMP/pty.out" 2>&1 <<'EOF' || bad "passphrase on a terminal: $(tail -3 "$TEST_TMP/pty.out")"
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], sys.argv[2]])
out, sent, deadline = b"", False, time.time() + 10
while time.time() < deadline:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    out += data
    if not sent and b"Enter pass phrase for" in out:
        os.write(fd, b"sesame\n")
        sent = True
    if b"Accepting new connections" in out:
        break
os.kill(pid, 15)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(0 if sent and b"Configuration successful" in out else 1)
EOF

conf mismatch "cert = $c/cert.pem" "key = $c/other.key"
"$STUNNEL" "$TEST_TMP/mismatch.conf" </dev/null >"$TEST_TMP/mismatch.out" 2>&1 && bad "mismatched key accepted"
grep -q "Private key does not match the certificate" "$TEST_TMP/mismatch.out" || bad "no mismatch message"

# a key file others may read is warned about, in stunnel 5.68's words
# (5.75 dropped the warning; we keep it), right before it is loaded; a
# key readable by its group only is not
cp "$c/key.pem" "$c/open.key" && chmod 644 "$c/open.key"
cp "$c/key.pem" "$c/group.key" && chmod 640 "$c/group.key"
conf open "cert = $c/cert.pem" "key = $c/open.key"
lib_daemon open "$TEST_TMP/open.conf" && works open || bad "a world-readable key was refused"
warned=$(grep -n "LOG4\[ui\]: Insecure file permissions on $c/open.key\$" "$TEST_TMP/open.out" | cut -d: -f1)
loaded=$(grep -n "LOG6\[ui\]: Private key loaded from: $c/open.key\$" "$TEST_TMP/open.out" | cut -d: -f1)
[ -n "$warned" ] && [ -n "$loaded" ] && [ "$warned" -lt "$loaded" ] ||
    bad "no 'Insecure file permissions on $c/open.key' (LOG4) before 'Private key loaded from'"
conf group "cert = $c/cert.pem" "key = $c/group.key"
lib_daemon group "$TEST_TMP/group.conf" || bad "a group-readable key was refused"
grep -q "Insecure file permissions" "$TEST_TMP/group.out" && bad "a key readable by its group only was warned about"
exit $fail
