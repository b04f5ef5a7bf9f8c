#!/bin/bash
# PSK refusals. A client section whose PSKidentity is not in its
# PSKsecrets file fails at load ("No key found for the specified PSK
# identity"); PSKsecrets files with a line without a colon, with a key
# shorter than 16 bytes (hex and text) and an empty file are refused at
# load with the reference's "[!]" lines (learnt by running the same file
# through $REFERENCE when installed, else the lines it printed when this
# test was written); a 16-byte text key is accepted; a known identity
# with the wrong key is refused at the handshake, both from openssl
# s_client -psk_identity/-psk and from a client section.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
command -v openssl >/dev/null 2>&1 || { echo "SKIP: openssl not installed"; exit $SKIP; }
lib_mktemp
T=$TEST_TMP
hdr='foreground = yes
syslog = no
debug = info'

# errors NAME: the "[!]" lines of a run
errors() { grep '^\[!\]' "$T/$1.out"; }

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
    lib_load "psk-$f" "$conf"
    ours=$(errors "psk-$f")
    if [ -x "$REFERENCE" ]; then
        lib_load "ref-psk-$f" "$conf" "$REFERENCE"
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
lib_load psk-text16 "$T/psk-text16.conf"
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
lib_through "$(lib_port psk-c right)" || bad "PSK: the right key was refused"
lib_through "$(lib_port psk-c wrong)" && bad "PSK: a client section with the wrong key for bob got through"
for v in -tls1_3 -tls1_2; do
    out=$( (echo via-s_client; sleep 1) | timeout 5 openssl s_client $v -connect "127.0.0.1:$psk_port" \
        -psk_identity bob -psk "$(openssl rand -hex 32)" -quiet 2>/dev/null)
    [ -z "$out" ] || bad "PSK: s_client $v with the wrong key for bob got through: '$out'"
    out=$( (echo via-s_client; sleep 1) | timeout 5 openssl s_client $v -connect "127.0.0.1:$psk_port" \
        -psk_identity bob -psk "$key" -quiet 2>/dev/null)
    [ "$out" = via-s_client ] || bad "PSK: s_client $v with the right key: '$out'"
done
lib_conn_log "$T/psk-c.out" wrong | grep -q 'LOG6\[[0-9]*\]: PSK client configured for identity "bob"' ||
    bad "PSK: the wrong-key client did not offer bob"
lib_conn_log "$T/psk-c.out" wrong | grep -q 'LOG3\[[0-9]*\]: SSL_connect: ' ||
    bad "PSK: the wrong-key client logged no SSL_connect error"
# the server knows bob but the handshake fails: an SSL_accept error
# for each of the three wrong-key attempts
[ "$(grep -c 'LOG3\[[0-9]*\]: SSL_accept: ' "$T/psk-s.out")" -ge 3 ] ||
    bad "PSK: the server did not log an SSL_accept error for each wrong key"
grep -q 'PSK identity not found: bob' "$T/psk-s.out" && bad "PSK: bob reported as unknown"
exit $fail
