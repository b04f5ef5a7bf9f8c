#!/bin/bash
# STARTTLS in client mode: for smtp, pop3, imap and nntp the daemon reads
# the server's greeting, asks for TLS the way the protocol does, then
# does the TLS handshake; a fake server of each kind (Python) upgrades
# the connection and echoes. A server that does not offer TLS ends the
# connection with the reference's message.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
cat >"$TEST_TMP/server.py" <<'EOF'
import os, socket, ssl, sys, threading
kind, cert, portfile, refuse = sys.argv[1], sys.argv[2], sys.argv[3], len(sys.argv) > 4
script = {   # greeting, [(expected command prefix, answer lines)]
    "smtp": (["220-mail.test ESMTP", "220 ready"],
             [("EHLO", ["250-mail.test", "250 STARTTLS"]), ("STARTTLS", ["220 go ahead"])]),
    "pop3": (["+OK POP3 ready"], [("STLS", ["+OK begin TLS"])]),
    "imap": (["* OK IMAP4rev1 ready"], [("stunnel STARTTLS", ["stunnel OK begin TLS"])]),
    "nntp": (["200 news ready"], [("STARTTLS", ["382 continue"])]),
}[kind]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(cert)
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(portfile + ".tmp", "w").write(str(s.getsockname()[1])); os.rename(portfile + ".tmp", portfile)
def serve(c):
    f = c.makefile("rb")
    for line in script[0]:
        c.sendall((line + "\r\n").encode())
    for prefix, answer in script[1]:
        got = f.readline().decode().strip()
        if not got.upper().startswith(prefix.upper()):
            c.sendall(b"500 unexpected\r\n"); c.close(); return
        if refuse and answer is script[1][-1][1]:
            c.sendall(b"-ERR no\r\n" if kind == "pop3" else b"stunnel NO no\r\n" if kind == "imap" else b"502 no\r\n")
            c.close(); return
        for line in answer:
            c.sendall((line + "\r\n").encode())
    t = ctx.wrap_socket(c, server_side=True)
    while True:
        d = t.recv(65536)
        if not d:
            break
        t.sendall(d)
    t.close()
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
EOF
{
    printf 'foreground = yes\nsyslog = no\ndebug = info\n'
    for kind in smtp pop3 imap nntp; do
        lib_bg "$kind" python3 "$TEST_TMP/server.py" "$kind" "$TEST_TMP/certs/server.pem" "$TEST_TMP/$kind.port"
        lib_wait_for "$TEST_TMP/$kind.port" '^[0-9]+$' || exit 1
        printf '[%s]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\nprotocol = %s\n' \
            "$kind" "$(cat "$TEST_TMP/$kind.port")" "$kind"
        printf 'verifyChain = yes\nCAfile = %s\ncheckHost = localhost\nsni = localhost\n' "$TEST_TMP/certs/ca.pem"
    done
    lib_bg refusing python3 "$TEST_TMP/server.py" pop3 "$TEST_TMP/certs/server.pem" "$TEST_TMP/refusing.port" refuse
    lib_wait_for "$TEST_TMP/refusing.port" '^[0-9]+$' || exit 1
    printf '[refusing]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\nprotocol = pop3\n' \
        "$(cat "$TEST_TMP/refusing.port")"
} >"$TEST_TMP/c.conf"
lib_daemon d "$TEST_TMP/c.conf" || exit 1
for kind in smtp pop3 imap nntp; do
    read -r _ sent _ received count < <($PEERS client "$(lib_port d $kind)" 50000 --expect-bytes 50000 --timeout 10)
    [ "$count" = 50000 ] && [ "$sent" = "$received" ] || bad "$kind: no TLS after STARTTLS"
done
read -r _ _ _ _ count < <($PEERS client "$(lib_port d refusing)" 100 --timeout 10 2>/dev/null)
[ "${count:-0}" = 0 ] || bad "a server refusing STLS still carried data"
sleep 0.3
grep -q 'LOG3\[[0-9]*\]: Server does not support TLS' "$TEST_TMP/d.out" || bad "no 'Server does not support TLS'"
grep -q 'is not implemented yet' "$TEST_TMP/d.out" && bad "a STARTTLS protocol reported as not implemented"
exit $fail
