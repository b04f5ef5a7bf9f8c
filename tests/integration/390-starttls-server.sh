#!/bin/bash
# Server-side STARTTLS: protocol = smtp, pop3 and imap in server mode, in
# front of fake backends. openssl s_client -starttls smtp|pop3|imap gets
# through and its commands reach the backend over the tunnel; a client
# that starts TLS at once (smtps, imaps) gets the backend's greeting
# inside TLS ("RFC 2487 not detected"). The plain dialogues (greetings
# marked "stunnel for", "+ stunnel", "[KAPABILITY", CAPA, CAPABILITY with
# STARTTLS added) are byte for byte those of the reference stunnel4 on
# the same configuration, refusals included: HELO instead of EHLO, a POP3
# client that does not want TLS, an unexpected IMAP command, an IMAP
# command without a tag, a backend with an unknown welcome. As in stunnel
# 5.75, an IMAP backend whose answer to CAPABILITY is not OK (here an
# echo, as openssl s_client -starttls imap meets it) ends the dialogue:
# "* BYE unexpected server response", the backend's "stunnel LOGOUT",
# "Connection closed".
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }

# backend.py KIND PORTFILE: a fake mail server; prints every line it gets
cat >"$TEST_TMP/backend.py" <<'END_OF_BACKEND'
import os, socket, sys, threading
kind, port_file = sys.argv[1], sys.argv[2]
greeting = {"smtp": b"220 backend.example ESMTP fake", "pop3": b"+OK POP3 backend ready",
            "imap": b"* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] backend ready",
            "rude": b"554 go away"}[kind]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
with open(port_file + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(port_file + ".tmp", port_file)
def serve(c):
    f = c.makefile("rwb", buffering=0)
    f.write(greeting + b"\r\n")
    try:
        for line in f:
            print("got", line.strip().decode(), flush=True)
            word = line.split(b" ")[0]
            up = line.upper()
            if kind == "smtp":
                f.write(b"250-backend.example\r\n250 HELP\r\n" if up.startswith(b"EHLO")
                        else b"221 bye\r\n" if up.startswith(b"QUIT") else b"250 ok\r\n")
            elif kind == "pop3":
                f.write(b"+OK bye\r\n" if up.startswith(b"QUIT") else b"+OK\r\n")
            elif b"CAPABILITY" in up:
                f.write(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + word + b" OK done\r\n")
            else:
                f.write(b"* BYE\r\n" + word + b" OK bye\r\n" if b"LOGOUT" in up
                        else word + b" OK\r\n")
            if up.startswith(b"QUIT") or b"LOGOUT" in up:
                break
    except OSError:
        pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
END_OF_BACKEND
for k in smtp pop3 imap rude; do
    lib_bg "b-$k" python3 "$TEST_TMP/backend.py" $k "$TEST_TMP/$k.port"
    lib_wait_for "$TEST_TMP/$k.port" '^[0-9]+$' || { echo "FAIL: $k backend"; exit 1; }
done
conf() {  # the same configuration for ours and for the reference
    printf 'foreground = yes\nsyslog = no\ndebug = debug\n'
    for k in smtp pop3 imap; do
        printf '[%s]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\ncert = %s\nprotocol = %s\n' \
            "$k" "$(cat "$TEST_TMP/$k.port")" "$TEST_TMP/certs/server.pem" $k
    done
    printf '[rude]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\ncert = %s\nprotocol = smtp\n' \
        "$(cat "$TEST_TMP/rude.port")" "$TEST_TMP/certs/server.pem"
    printf '[echo]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\ncert = %s\nprotocol = imap\n' \
        "$echo_port" "$TEST_TMP/certs/server.pem"
}
lib_peer echo chat 'S:*\x20OK\x20backend\x20ready\r\n' ECHO || exit 1
echo_port=$PEER_PORT
conf >"$TEST_TMP/s.conf"
lib_daemon d "$TEST_TMP/s.conf" || exit 1

# dialogues.py PORT-SMTP PORT-POP3 PORT-IMAP PORT-RUDE: plain dialogues up
# to where TLS would start or the daemon gives up; prints what came back
cat >"$TEST_TMP/dialogues.py" <<'END_OF_DIALOGUES'
import socket, sys, time
smtp, pop3, imap, rude = (int(p) for p in sys.argv[1:5])
def talk(port, lines):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    got = []
    def read():
        time.sleep(0.35)
        s.settimeout(0.5)
        data = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    data += b"<EOF>"
                    break
                data += chunk
        except socket.timeout:
            pass
        except ConnectionResetError:    # closed with a reset: closed all the same
            data += b"<EOF>"
        return data
    got.append(read())
    for line in lines:
        s.sendall(line + b"\r\n")
        got.append(read())
    s.close()
    return b" | ".join(got).decode(errors="replace").replace("\r\n", "\\n")
print("smtp:", talk(smtp, [b"EHLO client.example", b"STARTTLS"]))
print("smtp-helo:", talk(smtp, [b"HELO client.example"]))
print("pop3:", talk(pop3, [b"CAPA", b"STLS"]))
print("pop3-user:", talk(pop3, [b"USER bob"]))
print("imap:", talk(imap, [b"a1 CAPABILITY", b"a2 STARTTLS"]))
print("imap-noop:", talk(imap, [b"a1 NOOP"]))
print("imap-notag:", talk(imap, [b"CAPABILITY"]))
print("rude:", talk(rude, []))
END_OF_DIALOGUES
ports() { for k in smtp pop3 imap rude; do lib_port "$1" $k; done; }
python3 "$TEST_TMP/dialogues.py" $(ports d) >"$TEST_TMP/ours.txt" 2>&1 ||
    bad "the dialogues failed: $(cat "$TEST_TMP/ours.txt")"
for want in \
    'smtp: 220 backend.example stunnel for ESMTP fake\n | 250-backend.example\n250 STARTTLS\n | 220 Go ahead\n' \
    'pop3: +OK POP3 backend ready + stunnel\n | +OK Stunnel capability list follows\nSTLS\n.\n | +OK Stunnel starts TLS negotiation\n' \
    'imap: * OK [KAPABILITY IMAP4rev1 LOGINDISABLED] backend ready (stunnel)\n | * CAPABILITY IMAP4rev1 AUTH=PLAIN STARTTLS\na1 OK done\n | a2 OK Begin TLS negotiation now\n' \
    'imap-noop: * OK [KAPABILITY IMAP4rev1 LOGINDISABLED] backend ready (stunnel)\n | * BYE stunnel: unexpected command\na1 BAD NOOP unexpected\n<EOF>' \
    'imap-notag: * OK [KAPABILITY IMAP4rev1 LOGINDISABLED] backend ready (stunnel)\n | <EOF>'; do
    grep -qF -- "$want" "$TEST_TMP/ours.txt" || bad "dialogue not as expected: $want"
done
grep -q '^smtp-helo: .* | <EOF>$' "$TEST_TMP/ours.txt" || bad "HELO was not refused"
grep -q '^pop3-user: .* | <EOF>$' "$TEST_TMP/ours.txt" || bad "a POP3 client without STLS was not refused"
grep -q '^rude: <EOF>$' "$TEST_TMP/ours.txt" || bad "a backend's unknown welcome reached the client"
sleep 0.3
for line in 'LOG3\[[0-9]*\]: Unknown client EHLO' 'LOG3\[[0-9]*\]: Client does not want TLS' \
    'LOG3\[[0-9]*\]: Unexpected client command NOOP' 'LOG3\[[0-9]*\]: Unknown server welcome' \
    'LOG7\[[0-9]*\]: RFC 2487 detected' 'LOG7\[[0-9]*\]: RFC 2595 detected'; do
    grep -q "$line" "$TEST_TMP/d.out" || bad "no line like: $line"
done

# real STARTTLS clients: their commands reach the backend over the tunnel
starttls() {  # SECTION COMMANDS...: what s_client printed
    local k=$1; shift
    { sleep 0.5; for cmd in "$@"; do printf '%s\r\n' "$cmd"; sleep 0.3; done; sleep 0.3; } |
        timeout 8 openssl s_client -connect "127.0.0.1:$(lib_port d $k)" \
            -starttls "$( [ $k = echo ] && echo imap || echo $k)" -quiet 2>/dev/null
}
starttls smtp "EHLO tunnel.example" "QUIT" | grep -q '^221 bye' || bad "smtp: no answer through the tunnel"
grep -q '^got EHLO tunnel.example$' "$TEST_TMP/b-smtp.out" || bad "smtp: the EHLO after STARTTLS did not reach the backend"
starttls pop3 "USER tunnel" "QUIT" | grep -q '^+OK bye' || bad "pop3: no answer through the tunnel"
grep -q '^got USER tunnel$' "$TEST_TMP/b-pop3.out" || bad "pop3: USER did not reach the backend"
starttls imap "t1 LOGOUT" | grep -q '^t1 OK bye' || bad "imap: no answer through the tunnel"
grep -q '^got t1 LOGOUT$' "$TEST_TMP/b-imap.out" || bad "imap: LOGOUT did not reach the backend"
grep -q '^got stunnel LOGOUT$' "$TEST_TMP/b-imap.out" || bad "imap: no 'stunnel LOGOUT' after the refusals"
# a backend whose answer to CAPABILITY is no OK: no TLS, the backend logged out
starttls echo "t1 NOOP" | grep -q . && bad "imap: TLS through a backend that is no IMAP server"
sleep 0.3
grep -qF "echoed b'. CAPABILITY\\r\\nstunnel LOGOUT\\r\\n'" "$TEST_TMP/echo.out" ||
    bad "imap: the echo backend saw $(cat "$TEST_TMP/echo.out")"
grep -A3 'LOG3\[[0-9]*\]: Unexpected server response: \. CAPABILITY$' "$TEST_TMP/d.out" |
    grep -q 'Connection closed: 0 byte(s) sent to TLS, 0 byte(s) sent to socket' ||
    bad "imap: no 'Unexpected server response: . CAPABILITY', then 'Connection closed'"
# a client that speaks TLS at once gets the greeting inside TLS
{ sleep 0.8; printf 'QUIT\r\n'; sleep 0.5; } |
    timeout 8 openssl s_client -connect "127.0.0.1:$(lib_port d smtp)" -quiet 2>/dev/null |
    grep -q '^220 backend.example ESMTP fake' || bad "smtps: no greeting inside TLS"
sleep 0.3
grep -q 'LOG7\[[0-9]*\]: RFC 2487 not detected' "$TEST_TMP/d.out" || bad "no 'RFC 2487 not detected'"

# the reference says the same, byte for byte
if command -v stunnel4 >/dev/null; then
    lib_bg ref stunnel4 "$TEST_TMP/s.conf"
    lib_wait_for "$TEST_TMP/ref.out" 'Accepting new connections|Configuration failed' 10
    python3 "$TEST_TMP/dialogues.py" $(ports ref) >"$TEST_TMP/ref.txt" 2>&1
    diff "$TEST_TMP/ref.txt" "$TEST_TMP/ours.txt" >"$TEST_TMP/diff.txt" ||
        { bad "ours and stunnel4 answer differently:"; sed 's/^/    /' "$TEST_TMP/diff.txt"; }
fi
exit $fail
