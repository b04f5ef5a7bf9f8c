#!/bin/bash
# PSK refusals, OCSP details, client-side SNI, RNDfile and EGD.
#
# 1. PSK: a client section whose PSKidentity is not in its PSKsecrets
#    file fails at load ("No key found for the specified PSK identity");
#    PSKsecrets files with a line without a colon, with a key shorter
#    than 16 bytes (hex and text) and an empty file are refused at load
#    with the reference's "[!]" lines (learnt by running the same file
#    through $REFERENCE when installed, else the lines it printed when
#    this test was written); a 16-byte text key is accepted; a known
#    identity with the wrong key is refused at the handshake, both from
#    openssl s_client -psk_identity/-psk and from a client section.
# 2. OCSP (client sections, a real "openssl ocsp" responder as in
#    250-ocsp.sh, python TLS servers that do not staple): OCSPaia = yes
#    without an OCSP URL asks the responder named in the server
#    certificate's AIA (good accepted, revoked refused); OCSPnonce = yes
#    against the openssl responder works; a replayed "good" response
#    without a nonce is accepted without OCSPnonce (whose request has no
#    nonce) and refused with it (its request has one);
#    a responder that cannot be connected to (its accept queue is full):
#    TIMEOUTocsp = 1 bounds the connect, refused within 4 seconds;
#    a responder that accepts and never answers: the exchange is bounded
#    by TIMEOUTbusy (TIMEOUTocsp bounds the connect only, as in stunnel
#    5.75), so with TIMEOUTbusy = 2 and OCSPrequire = yes the connection
#    is refused within 5 seconds ("OCSP: s_poll_wait: TIMEOUTbusy
#    exceeded"); a responder signing with
#    a key nobody trusts is refused, and accepted with OCSPflag = NOVERIFY.
# 3. Client-side sni: a client section with "sni = www.example.org"
#    makes a server configured like 220-sni.sh switch to its secondary
#    ("SNI: switched to service [web]", backend and certificate of the
#    secondary); "sni =" (empty) sends no name and stays on the primary.
# 4. RNDfile (a regular file with random content): "Snagged N random
#    bytes from FILE" (N = 1024, or RNDbytes), RNDoverwrite = yes
#    rewrites the file, RNDoverwrite = no leaves it alone; a missing
#    RNDfile does not stop the daemon and is not created (as with the
#    reference); EGD = /nonexistent logs that it is ignored and the
#    daemon still starts.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
command -v openssl >/dev/null 2>&1 || { echo "SKIP: openssl not installed"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
c=$TEST_TMP/certs
T=$TEST_TMP
hdr='foreground = yes
syslog = no
debug = info'

# a free port number (for a certificate's AIA, before the responder runs)
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# load NAME CONF [PROG]: start PROG (default: ours) on CONF, wait until it
# fails or accepts connections, stop it; output in $T/NAME.out
load() {
    local name=$1 conf=$2 prog=${3:-$STUNNEL} pid
    lib_bg "$name" "$prog" "$conf"
    pid=$LIB_PID
    lib_wait_for "$T/$name.out" 'Configuration failed|Accepting new connections' 5
    sleep 0.1
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

# errors NAME: the "[!]" lines of a run
errors() { grep '^\[!\]' "$T/$1.out"; }

# conn_log LOG SECTION: the log lines of the last connection SECTION accepted
conn_log() {
    local id
    id=$(sed -n "s/.*LOG[0-9]\[\([0-9]*\)\]: Service \[$2\] accepted connection from .*/\1/p" "$1" | tail -n 1)
    [ -n "$id" ] && grep "LOG[0-9]\[$id\]:" "$1"
}

# through PORT: does a message get through (and back from the echo)?
through() {
    local count
    read -r _ _ _ _ count < <($PEERS client "$1" 1000 --expect-bytes 1000 --timeout "${2:-10}" 2>/dev/null)
    [ "${count:-0}" = 1000 ]
}

###########################################################################
# 1. PSK
###########################################################################
key=$(openssl rand -hex 32)
printf 'alice:%s\nbob:%s\n' "$(openssl rand -hex 32)" "$key" >"$T/psk.txt"
printf 'bob:%s\n' "$(openssl rand -hex 32)" >"$T/psk-wrong.txt"
printf 'alice:%s\nbob\n' "$(openssl rand -hex 32)" >"$T/psk-nocolon.txt"
printf 'alice:0123456789abcdef0123456789abcd\n' >"$T/psk-shorthex.txt"   # 15 bytes
printf 'alice:fifteen-bytes!!\n' >"$T/psk-shorttext.txt"                  # 15 bytes
printf 'alice:sixteen-bytes!!!\n' >"$T/psk-text16.txt"                    # 16 bytes
: >"$T/psk-empty.txt"
chmod 600 "$T"/psk*.txt

psk_conf() {  # FILE [EXTRA-LINE]
    printf '%s\n[c]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\nPSKsecrets = %s\n%s\n' \
        "$hdr" "$1" "${2:-}"
}
psk_conf "$T/psk.txt" "PSKidentity = nobody" >"$T/psk-nobody.conf"
for f in nocolon shorthex shorttext text16 empty; do
    psk_conf "$T/psk-$f.txt" >"$T/psk-$f.conf"
done

# what the reference printed for these files (PATH = the configuration,
# FILE = the secrets file), used when the reference is not installed
ref_lines() {
    case $1 in
    nobody)
        echo '[!] Service [c]: No key found for the specified PSK identity'
        echo '[!] Configuration failed' ;;
    nocolon)
        echo '[!] PSKsecrets line 2: Not in identity:key format'
        echo '[!] PATH:8: "PSKsecrets = FILE": Failed to read PSK secrets'
        echo '[!] Configuration failed' ;;
    shorthex|shorttext)
        echo '[!] PSKsecrets line 1: Key shorter than 16 bytes'
        echo '[!] PATH:8: "PSKsecrets = FILE": Failed to read PSK secrets'
        echo '[!] Configuration failed' ;;
    empty)
        echo '[!] PATH:8: "PSKsecrets = FILE": Failed to read PSK secrets'
        echo '[!] Configuration failed' ;;
    esac
}
for f in nobody nocolon shorthex shorttext empty; do
    conf=$T/psk-$f.conf
    load "psk-$f" "$conf"
    ours=$(errors "psk-$f")
    if [ -x "$REFERENCE" ]; then
        load "ref-psk-$f" "$conf" "$REFERENCE"
        want=$(errors "ref-psk-$f")
    else
        file=$T/psk-$f.txt
        [ $f = nobody ] && file=$T/psk.txt
        want=$(ref_lines $f | sed -e "s|PATH|$conf|" -e "s|FILE|$file|")
    fi
    grep -q 'Configuration failed' "$T/psk-$f.out" || bad "PSK $f: not refused at load"
    [ -n "$want" ] && [ "$ours" = "$want" ] ||
        bad "PSK $f: the [!] lines differ from the reference's:
--- reference
$want
--- ours
$ours"
done
grep -q '^\[!\] Service \[c\]: No key found for the specified PSK identity$' "$T/psk-nobody.out" ||
    bad "PSKidentity = nobody: no 'No key found for the specified PSK identity'"
load psk-text16 "$T/psk-text16.conf"
grep -q 'Accepting new connections' "$T/psk-text16.out" || bad "a 16-byte text PSK key was refused"

# a known identity with the wrong key: refused at the handshake
lib_peer echo echo || exit 1
echo_port=$PEER_PORT
cat >"$T/psk-s.conf" <<EOF
$hdr
[psk-server]
accept = 127.0.0.1:0
connect = 127.0.0.1:$echo_port
PSKsecrets = $T/psk.txt
EOF
lib_daemon psk-s "$T/psk-s.conf" || exit 1
psk_port=$(lib_port psk-s psk-server)
cat >"$T/psk-c.conf" <<EOF
$hdr
[right]
client = yes
accept = 127.0.0.1:0
connect = 127.0.0.1:$psk_port
PSKsecrets = $T/psk.txt
PSKidentity = bob
[wrong]
client = yes
accept = 127.0.0.1:0
connect = 127.0.0.1:$psk_port
PSKsecrets = $T/psk-wrong.txt
PSKidentity = bob
EOF
lib_daemon psk-c "$T/psk-c.conf" || exit 1
through "$(lib_port psk-c right)" || bad "PSK: the right key was refused"
through "$(lib_port psk-c wrong)" && bad "PSK: a client section with the wrong key for bob got through"
for v in -tls1_3 -tls1_2; do
    out=$( (echo via-s_client; sleep 1) | timeout 5 openssl s_client $v -connect "127.0.0.1:$psk_port" \
        -psk_identity bob -psk "$(openssl rand -hex 32)" -quiet 2>/dev/null)
    [ -z "$out" ] || bad "PSK: s_client $v with the wrong key for bob got through: '$out'"
    out=$( (echo via-s_client; sleep 1) | timeout 5 openssl s_client $v -connect "127.0.0.1:$psk_port" \
        -psk_identity bob -psk "$key" -quiet 2>/dev/null)
    [ "$out" = via-s_client ] || bad "PSK: s_client $v with the right key: '$out'"
done
sleep 0.3
conn_log "$T/psk-c.out" wrong | grep -q 'LOG6\[[0-9]*\]: PSK client configured for identity "bob"' ||
    bad "PSK: the wrong-key client did not offer bob"
conn_log "$T/psk-c.out" wrong | grep -q 'LOG3\[[0-9]*\]: SSL_connect: ' ||
    bad "PSK: the wrong-key client logged no SSL_connect error"
# the server knows bob but the handshake fails: an SSL_accept error
# for each of the three wrong-key attempts
[ "$(grep -c 'LOG3\[[0-9]*\]: SSL_accept: ' "$T/psk-s.out")" -ge 3 ] ||
    bad "PSK: the server did not log an SSL_accept error for each wrong key"
grep -q 'PSK identity not found: bob' "$T/psk-s.out" && bad "PSK: bob reported as unknown"

###########################################################################
# 2. OCSP
###########################################################################
ocsp_port=$(free_port)
(
    cd "$c" || exit 1
    for n in aia-good aia-revoked; do
        lib_issue . $n /CN=localhost "subjectAltName=DNS:localhost" \
            "authorityInfoAccess=OCSP;URI:http://127.0.0.1:$ocsp_port"
    done
    exp=$(date -u -d '+2 days' +%y%m%d%H%M%SZ)
    now=$(date -u +%y%m%d%H%M%SZ)
    echo "unique_subject = no" >index.txt.attr
    printf 'V\t%s\t\t%s\tunknown\t/CN=localhost\n' "$exp" \
        "$(openssl x509 -in aia-good.crt -noout -serial | cut -d= -f2)" >index.txt
    printf 'R\t%s\t%s\t%s\tunknown\t/CN=localhost\n' "$exp" "$now" \
        "$(openssl x509 -in aia-revoked.crt -noout -serial | cut -d= -f2)" >>index.txt
    # a genuine "good" answer without a nonce, to be replayed
    openssl ocsp -issuer ca.pem -cert aia-good.crt -no_nonce -reqout replay-req.der &&
    openssl ocsp -index index.txt -rsigner ca.pem -rkey ca.key -CA ca.pem \
        -reqin replay-req.der -respout replay.der
) >/dev/null 2>&1 && [ -s "$c/replay.der" ] || { echo "FAIL: OCSP test files"; exit 1; }

# the responders: the real one, one that signs with the self-signed
# "stranger" key, a replayer (it says whether each request carried a
# nonce) and a silent one
lib_bg responder openssl ocsp -index "$c/index.txt" -port "$ocsp_port" \
    -rsigner "$c/ca.pem" -rkey "$c/ca.key" -CA "$c/ca.pem"
lib_wait_for "$T/responder.out" 'waiting for OCSP client connections' || { echo "FAIL: responder"; exit 1; }
stranger_port=$(free_port)
lib_bg stranger openssl ocsp -index "$c/index.txt" -port "$stranger_port" \
    -rsigner "$c/st.crt" -rkey "$c/st.key" -CA "$c/ca.pem"
lib_wait_for "$T/stranger.out" 'waiting for OCSP client connections' || { echo "FAIL: stranger responder"; exit 1; }
cat >"$T/fake.py" <<'EOF'
import os, socket, sys
mode, port_file = sys.argv[1], sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(16)
with open(port_file + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(port_file + ".tmp", port_file)
held = []
while True:
    conn, _ = s.accept()
    print("connection", flush=True)
    if mode == "silent":        # accept, never answer, never close
        held.append(conn)
        continue
    body = open(sys.argv[3], "rb").read()
    conn.settimeout(5)
    try:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        while len(rest) < length:
            chunk = conn.recv(4096)
            if not chunk:
                break
            rest += chunk
        # the nonce extension's OID, 1.3.6.1.5.5.7.48.1.2, in DER
        nonce = b"\x06\x09\x2b\x06\x01\x05\x05\x07\x30\x01\x02" in rest
        print("request", "nonce" if nonce else "no-nonce", flush=True)
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)
    except OSError:
        pass
    conn.close()
EOF
lib_bg replayer python3 "$T/fake.py" replay "$T/replay.port" "$c/replay.der"
lib_wait_for "$T/replay.port" '^[0-9]+$' || { echo "FAIL: replayer"; exit 1; }
# a responder whose accept queue is full: connecting to it never ends
cat >"$T/full.py" <<'EOF'
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
held = []
for _ in range(3):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(s.getsockname())
    except BlockingIOError:
        pass
    held.append(c)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(3600)
EOF
lib_bg full python3 "$T/full.py" "$T/full.port"
lib_wait_for "$T/full.port" '^[0-9]+$' || { echo "FAIL: full responder"; exit 1; }
full_port=$(cat "$T/full.port")
lib_bg silent python3 "$T/fake.py" silent "$T/silent.port"
lib_wait_for "$T/silent.port" '^[0-9]+$' || { echo "FAIL: silent responder"; exit 1; }
replay_port=$(cat "$T/replay.port")
silent_port=$(cat "$T/silent.port")

# TLS servers that do not staple
lib_peer tls-good echo --tls "$c/aia-good.pem" || exit 1
good_port=$PEER_PORT
lib_peer tls-revoked echo --tls "$c/aia-revoked.pem" || exit 1
revoked_port=$PEER_PORT

ocsp_section() {  # NAME TARGET-PORT EXTRA-LINES...
    local name=$1 port=$2 l
    shift 2
    printf '[%s]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\n' "$name" "$port"
    printf 'verifyChain = yes\nCAfile = %s\ncheckHost = localhost\n' "$c/ca.pem"
    for l in "$@"; do printf '%s\n' "$l"; done
}
{
    echo "$hdr"
    ocsp_section aia-good "$good_port" "OCSPaia = yes"
    ocsp_section aia-revoked "$revoked_port" "OCSPaia = yes"
    ocsp_section nonce "$good_port" "OCSPaia = yes" "OCSPnonce = yes"
    ocsp_section replay "$good_port" "OCSP = http://127.0.0.1:$replay_port"
    ocsp_section replay-nonce "$good_port" "OCSP = http://127.0.0.1:$replay_port" "OCSPnonce = yes"
    ocsp_section untrusted "$good_port" "OCSP = http://127.0.0.1:$stranger_port"
    ocsp_section noverify "$good_port" "OCSP = http://127.0.0.1:$stranger_port" "OCSPflag = NOVERIFY"
    ocsp_section slow "$good_port" "OCSP = http://127.0.0.1:$silent_port" "OCSPrequire = yes" "TIMEOUTbusy = 2"
    ocsp_section unreachable "$good_port" "OCSP = http://127.0.0.1:$full_port" "OCSPrequire = yes" "TIMEOUTocsp = 1"
} >"$T/ocsp.conf"
lib_daemon ocsp "$T/ocsp.conf" || exit 1
olog=$T/ocsp.out
op() { lib_port ocsp "$1"; }

through "$(op aia-good)" || bad "OCSPaia: a good certificate was refused"
through "$(op aia-revoked)" && bad "OCSPaia: a revoked certificate was accepted"
through "$(op nonce)" || bad "OCSPnonce = yes: refused by the openssl responder"
through "$(op replay)" || bad "a replayed good answer was refused without OCSPnonce"
sleep 0.3
[ "$(grep '^request' "$T/replayer.out")" = "request no-nonce" ] ||
    bad "without OCSPnonce: the replayer saw '$(grep '^request' "$T/replayer.out" | tr '\n' ' ')', not one request without a nonce"
through "$(op replay-nonce)" && bad "OCSPnonce = yes: a replayed answer without the nonce was accepted"
sleep 0.3
[ "$(grep '^request' "$T/replayer.out" | tail -n 1)" = "request nonce" ] ||
    bad "OCSPnonce = yes: the request carried no nonce"
through "$(op untrusted)" && bad "an OCSP answer signed by an untrusted key was accepted"
through "$(op noverify)" || bad "OCSPflag = NOVERIFY: the untrusted signer's answer was refused"
start=$(date +%s%N)
through "$(op slow)" 8 && bad "silent responder: accepted although the responder never answered"
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
echo "TIMEOUTbusy = 2 against a silent OCSP responder: $elapsed ms"
[ "$elapsed" -lt 5000 ] || bad "silent responder: the connection took ${elapsed} ms (not < 5 s)"
start=$(date +%s%N)
through "$(op unreachable)" 8 && bad "TIMEOUTocsp: accepted although the responder could not be reached"
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
echo "TIMEOUTocsp = 1 against a responder that cannot be connected to: $elapsed ms"
[ "$elapsed" -lt 4000 ] || bad "TIMEOUTocsp = 1: the connection took ${elapsed} ms (not < 4 s)"
sleep 0.3

L=$(conn_log "$olog" aia-good)
echo "$L" | grep -q "LOG5\[[0-9]*\]: OCSP: Connecting the AIA responder \"http://127.0.0.1:$ocsp_port\"" ||
    bad "OCSPaia: no 'Connecting the AIA responder' line"
echo "$L" | grep -q 'Connecting the configured responder' && bad "OCSPaia: a configured responder was used"
echo "$L" | grep -q 'LOG5\[[0-9]*\]: OCSP: Accepted (good)' || bad "OCSPaia: no 'OCSP: Accepted (good)'"
L=$(conn_log "$olog" aia-revoked)
echo "$L" | grep -q 'LOG3\[[0-9]*\]: OCSP: Rejected (revoked)' || bad "OCSPaia: no 'OCSP: Rejected (revoked)'"
echo "$L" | grep -q 'LOG4\[[0-9]*\]: Rejected by OCSP at depth=0: CN=localhost' || bad "OCSPaia: no 'Rejected by OCSP'"
conn_log "$olog" nonce | grep -q 'LOG5\[[0-9]*\]: OCSP: Accepted (good)' || bad "OCSPnonce: no 'Accepted (good)'"
conn_log "$olog" replay | grep -q 'LOG5\[[0-9]*\]: OCSP: Accepted (good)' || bad "replay: no 'Accepted (good)'"
L=$(conn_log "$olog" replay-nonce)
echo "$L" | grep -q 'LOG3\[[0-9]*\]: OCSP: Invalid or unsupported nonce' || bad "replay-nonce: no 'Invalid or unsupported nonce'"
echo "$L" | grep -q 'LOG3\[[0-9]*\]: OCSP: Rejected (OCSPrequire = yes)' || bad "replay-nonce: no 'Rejected (OCSPrequire = yes)'"
L=$(conn_log "$olog" untrusted)
echo "$L" | grep -q 'OCSP_basic_verify' || bad "untrusted signer: no OCSP_basic_verify error"
echo "$L" | grep -q 'LOG3\[[0-9]*\]: OCSP: Rejected (OCSPrequire = yes)' || bad "untrusted signer: no 'Rejected (OCSPrequire = yes)'"
conn_log "$olog" noverify | grep -q 'LOG5\[[0-9]*\]: OCSP: Accepted (good)' || bad "OCSPflag = NOVERIFY: no 'Accepted (good)'"
L=$(conn_log "$olog" slow)
echo "$L" | grep -q "OCSP: Connecting the configured responder \"http://127.0.0.1:$silent_port\"" ||
    bad "silent responder: it was not asked"
echo "$L" | grep -q 'LOG6\[[0-9]*\]: OCSP: s_poll_wait: TIMEOUTbusy exceeded' ||
    bad "silent responder: no 'OCSP: s_poll_wait: TIMEOUTbusy exceeded' line; the connection's log:
$(echo "$L" | sed 's/^/    /')"

L=$(conn_log "$olog" unreachable)
echo "$L" | grep -q "s_connect: s_poll_wait 127.0.0.1:$full_port: TIMEOUTconnect exceeded" ||
    bad "TIMEOUTocsp: no connect timeout line"
echo "$L" | grep -q 'LOG3\[[0-9]*\]: OCSP: Rejected (OCSPrequire = yes)' ||
    bad "TIMEOUTocsp: no 'Rejected (OCSPrequire = yes)'"

###########################################################################
# 3. client-side sni
###########################################################################
(
    cd "$c" || exit 1
    lib_issue . www "/CN=www.example.org" "subjectAltName=DNS:www.example.org"
) >/dev/null 2>&1 || { echo "FAIL: sni certificate"; exit 1; }
for b in primary web; do
    cat >"$T/$b.py" <<EOF
import os, socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept(); c.sendall(b"$b\n"); c.close()
EOF
    lib_bg "$b" python3 "$T/$b.py" "$T/$b.port"
    lib_wait_for "$T/$b.port" '^[0-9]+$' || exit 1
done
cat >"$T/sni-s.conf" <<EOF
$hdr
[primary]
accept = 127.0.0.1:0
connect = 127.0.0.1:$(cat "$T/primary.port")
cert = $c/server.pem
[web]
sni = primary:*.example.org
connect = 127.0.0.1:$(cat "$T/web.port")
cert = $c/www.pem
EOF
lib_daemon sni-s "$T/sni-s.conf" || exit 1
sport=$(lib_port sni-s primary)
cat >"$T/sni-c.conf" <<EOF
$hdr
[named]
client = yes
accept = 127.0.0.1:0
connect = 127.0.0.1:$sport
sni = www.example.org
verifyChain = yes
CAfile = $c/ca.pem
checkHost = www.example.org
[unnamed]
client = yes
accept = 127.0.0.1:0
connect = 127.0.0.1:$sport
sni =
verifyChain = yes
CAfile = $c/ca.pem
checkHost = localhost
EOF
lib_daemon sni-c "$T/sni-c.conf" || exit 1
hello() {  # PORT: the first line the backend behind the tunnel says
    python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
data = b""
while True:
    chunk = s.recv(100)
    if not chunk:
        break
    data += chunk
print(data.decode(errors="replace").strip())
EOF
}
got=$(hello "$(lib_port sni-c named)")
[ "$got" = web ] || bad "sni = www.example.org: reached '$got', not the secondary's backend"
sleep 0.3
conn_log "$T/sni-s.out" primary | grep -q 'LOG5\[[0-9]*\]: SNI: switched to service \[web\]' ||
    bad "sni = www.example.org: no 'SNI: switched to service [web]' on the server"
got=$(hello "$(lib_port sni-c unnamed)")
[ "$got" = primary ] || bad "sni = (empty): reached '$got', not the primary's backend"
sleep 0.3
L=$(conn_log "$T/sni-s.out" primary)
echo "$L" | grep -q 'LOG5\[[0-9]*\]: SNI: no servername received' ||
    bad "sni = (empty): the server did not log 'SNI: no servername received'"
echo "$L" | grep -q 'SNI: switched' && bad "sni = (empty): the server switched service"
conn_log "$T/sni-c.out" named | grep -q 'LOG6\[[0-9]*\]: SNI: sending servername: www.example.org' ||
    bad "sni = www.example.org: no 'SNI: sending servername: www.example.org' on the client"
L=$(conn_log "$T/sni-c.out" unnamed)
echo "$L" | grep -q 'LOG6\[[0-9]*\]: SNI: extension disabled' ||
    bad "sni = (empty): no 'SNI: extension disabled' on the client (the reference logs it)"
echo "$L" | grep -q 'SNI: sending servername' && bad "sni = (empty): the client sent a servername"

###########################################################################
# 4. RNDfile, RNDoverwrite, RNDbytes, EGD
###########################################################################
rnd_conf() {  # LINES...
    printf 'foreground = yes\nsyslog = no\ndebug = debug\n'
    printf '%s\n' "$@"
    printf '[c]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n'
}
head -c 4096 /dev/urandom >"$T/seed-yes"
head -c 4096 /dev/urandom >"$T/seed-no"
sum_yes=$(sha256sum <"$T/seed-yes")
sum_no=$(sha256sum <"$T/seed-no")
rnd_conf "RNDfile = $T/seed-yes" "RNDoverwrite = yes" "EGD = /nonexistent" >"$T/rnd-yes.conf"
rnd_conf "RNDfile = $T/seed-no" "RNDoverwrite = no" "RNDbytes = 300" >"$T/rnd-no.conf"
rnd_conf "RNDfile = $T/seed-missing" >"$T/rnd-missing.conf"
for r in yes no missing; do
    load "rnd-$r" "$T/rnd-$r.conf"
    grep -q 'Accepting new connections' "$T/rnd-$r.out" || bad "RNDfile ($r): the daemon did not start"
done
grep -q "LOG7\[ui\]: Snagged 1024 random bytes from $T/seed-yes\$" "$T/rnd-yes.out" ||
    bad "RNDfile: no 'Snagged 1024 random bytes from $T/seed-yes'"
[ "$(sha256sum <"$T/seed-yes")" != "$sum_yes" ] || bad "RNDoverwrite = yes: the seed file was not rewritten"
grep -q "LOG4\[ui\]: EGD = /nonexistent is ignored: OpenSSL 3 no longer reads entropy gathering daemons\$" \
    "$T/rnd-yes.out" || bad "EGD = /nonexistent: no 'is ignored' warning"
grep -q "LOG7\[ui\]: Snagged 300 random bytes from $T/seed-no\$" "$T/rnd-no.out" ||
    bad "RNDbytes = 300: no 'Snagged 300 random bytes from $T/seed-no'"
[ "$(sha256sum <"$T/seed-no")" = "$sum_no" ] || bad "RNDoverwrite = no: the seed file was changed"
grep -q 'Wrote .* new random bytes' "$T/rnd-no.out" && bad "RNDoverwrite = no: 'Wrote ... new random bytes' logged"
[ -e "$T/seed-missing" ] && bad "a missing RNDfile was created (the reference leaves it missing)"
exit $fail
