#!/bin/bash
# protocol = ldap (client mode): StartTLS (RFC 2830) as stunnel 5.75 asks
# for it. A real slapd, started here on a throw-away configuration that
# refuses every operation without TLS ("security tls=1"), is queried by
# ldapsearch in plain LDAP through a client section of ours, which does
# the StartTLS and the TLS handshake (the certificate checked): the entry
# comes back and slapd says TLS carried it. Scripted servers then give
# every answer 5.75 refuses (tag, lengths, message id, operation, result
# code, garbage, a short value read as zeros, an early close, a stall, a
# reset) and one it takes a byte at a time and with 4-byte lengths, as
# Active Directory writes them; each refusal is 5.75's line and a reset.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
c=$TEST_TMP/certs
request="read b'0\\x1d\\x02\\x01\\x01w\\x18\\x80\\x161.3.6.1.4.1.1466.20037'"
section() {  # NAME PORT [LINE...]: a client section with protocol = ldap
    local name=$1 port=$2
    shift 2
    printf '[%s]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:%s\n' "$name" "$port"
    printf 'protocol = ldap\nverifyChain = yes\nCAfile = %s\ncheckHost = localhost\n' "$c/ca.pem"
    [ $# -eq 0 ] || printf '%s\n' "$@"
}

# --- scripted servers: NAME -> the steps after reading the request
ok='\x02\x01\x01x\x07\x0a\x01\x00\x04\x00\x04\x00'
declare -A answer=(
    [tag]='S:\x31\x0c'"$ok EOF"
    [garbage]='S:hello\x20world\r\n EOF'
    [long]='S:\x30\x81'"$ok EOF"
    [long4]='S:\x30\x84\x00\x00\x01\x00 EOF'
    [idtype]='S:\x30\x0c\x04\x01\x01x\x07\x0a\x01\x00\x04\x00\x04\x00 EOF'
    [idlen]='S:\x30\x0c\x02\x02\x00\x01x\x07\x0a\x01\x00\x04\x00\x04 EOF'
    [id]='S:\x30\x0c\x02\x01\x02x\x07\x0a\x01\x00\x04\x00\x04\x00 EOF'
    [op]='S:\x30\x0c\x02\x01\x01a\x07\x0a\x01\x00\x04\x00\x04\x00 EOF'
    [rctype]='S:\x30\x0c\x02\x01\x01x\x07\x02\x01\x00\x04\x00\x04\x00 EOF'
    [rclen]='S:\x30\x0c\x02\x01\x01x\x07\x0a\x02\x00\x00\x04\x00\x04 EOF'
    [refused]='S:\x30\x0c\x02\x01\x01x\x07\x0a\x01\x34\x04\x00\x04\x00 EOF'
    [short]='S:\x30\x03\x02\x01\x01 EOF'
    [closed]='W:0'
    [cut]='S:\x30\x0c\x02\x01'
    [stall]='W:4'
)
declare -A want=(
    [tag]='LOG3\[[0-9]*\]: LDAP response is not UNIVERSAL SEQUENCE$'
    [garbage]='LOG3\[[0-9]*\]: LDAP response is not UNIVERSAL SEQUENCE$'
    [long]='LOG3\[[0-9]*\]: LDAP response too long \(129 byte\(s\)\)$'
    [long4]='LOG3\[[0-9]*\]: LDAP response too long \(256 byte\(s\)\)$'
    [idtype]='LOG3\[[0-9]*\]: LDAP response has an incorrect message ID type$'
    [idlen]='LOG3\[[0-9]*\]: LDAP response has an unexpected message ID length$'
    [id]='LOG3\[[0-9]*\]: LDAP response has an unexpected message ID value$'
    [op]='LOG3\[[0-9]*\]: LDAP response protocol op is not ExtendedResponse$'
    [rctype]='LOG3\[[0-9]*\]: LDAP response has an unexpected result code type$'
    [rclen]='LOG3\[[0-9]*\]: LDAP response has an unexpected result code length$'
    [refused]='LOG3\[[0-9]*\]: LDAP response has indicated an error \(52\)$'
    [short]='LOG3\[[0-9]*\]: LDAP response protocol op is not ExtendedResponse$'
    [closed]='LOG3\[[0-9]*\]: s_read: Received 0 out of requested 1 byte\(s\)$'
    [cut]='LOG3\[[0-9]*\]: s_read: Received 2 out of requested 12 byte\(s\)$'
    [stall]='LOG6\[[0-9]*\]: s_read_eof: s_poll_wait: TIMEOUTbusy exceeded: sending reset$'
)
# a byte at a time, lengths in the 4-byte form, then TLS and an echo
bytes=''
for b in 30 84 00 00 00 10 02 01 01 78 84 00 00 00 07 0a 01 00 04 00 04 00; do
    bytes+="S:\\x$b W:0.02 "
done
# the servers start side by side (lib_peer would wait for each in turn)
for name in "${!answer[@]}"; do
    # shellcheck disable=SC2086 # the steps are words
    lib_bg "$name" python3 "$LIB_DIR/peers.py" chat N:31 ${answer[$name]} \
        --port-file "$TEST_TMP/$name.port"
done
# shellcheck disable=SC2086
lib_bg bytewise python3 "$LIB_DIR/peers.py" chat N:31 $bytes "TLS:$c/server.pem" ECHO \
    --port-file "$TEST_TMP/bytewise.port"
{
    printf 'foreground = yes\nsyslog = no\ndebug = debug\n'
    for name in "${!answer[@]}" bytewise; do
        lib_wait_for "$TEST_TMP/$name.port" '^[0-9]+$' 10 || { echo "FAIL: peer $name" >&2; exit 1; }
        section "$name" "$(cat "$TEST_TMP/$name.port")" "TIMEOUTbusy = 2"
    done
} >"$TEST_TMP/c.conf" || exit 1
lib_daemon d "$TEST_TMP/c.conf" || exit 1

lib_through "$(lib_port d bytewise)" ||
    bad "a byte at a time: the data did not come back (${THROUGH_COUNT:-0} bytes)"
readers=()
for name in "${!answer[@]}"; do
    $PEERS read "$(lib_port d "$name")" --timeout 6 >"$TEST_TMP/$name.read" 2>&1 &
    readers+=($!)
done
wait "${readers[@]}"
sleep 0.3
grep -qF "$request" "$TEST_TMP/bytewise.out" ||
    bad "the StartTLS request is not 5.75's: $(head -n 1 "$TEST_TMP/bytewise.out")"
lib_conn_log "$TEST_TMP/d.out" bytewise | grep -q 'LOG6\[[0-9]*\]: LDAP Start TLS successfully negotiated$' ||
    bad "a byte at a time: no 'LDAP Start TLS successfully negotiated'"
for name in "${!answer[@]}"; do
    log=$(lib_conn_log "$TEST_TMP/d.out" "$name")
    grep -qF "$request" "$TEST_TMP/$name.out" || bad "$name: the server did not get the request"
    grep -Eq "${want[$name]}" <<<"$log" || bad "$name: no '${want[$name]}' in:
$log"
    grep -q 'Connection reset: 0 byte(s) sent to TLS, 0 byte(s) sent to socket' <<<"$log" ||
        bad "$name: the connection was not reset"
done
for line in 'Sending LDAP Start TLS request' 'Receiving LDAP response tag' \
    'Receiving LDAP response length' 'Receiving LDAP response value (12 byte(s))' \
    'Decoding LDAP response value'; do
    lib_conn_log "$TEST_TMP/d.out" refused | grep -qF "$line" || bad "refused: no '$line'"
done

# --- a real slapd that wants TLS for everything
if ! command -v slapd >/dev/null && [ ! -x /usr/sbin/slapd ]; then
    echo "SKIP (slapd part): slapd not installed"; exit $fail
fi
command -v ldapsearch >/dev/null || { echo "SKIP (slapd part): ldapsearch not installed"; exit $fail; }
PATH=$PATH:/usr/sbin
schema=/etc/ldap/schema
[ -f $schema/inetorgperson.schema ] || { echo "SKIP (slapd part): no $schema"; exit $fail; }
modules=/usr/lib/ldap
s=$TEST_TMP/slapd
mkdir -p "$s/db"
cat >"$s/slapd.conf" <<EOF
include $schema/core.schema
include $schema/cosine.schema
include $schema/inetorgperson.schema
pidfile $s/slapd.pid
argsfile $s/slapd.args
$( [ -e $modules/back_mdb.so ] && printf 'modulepath %s\nmoduleload back_mdb' $modules )
TLSCertificateFile $c/cert.pem
TLSCertificateKeyFile $c/key.pem
security tls=1
database mdb
maxsize 10485760
suffix "dc=example,dc=com"
rootdn "cn=admin,dc=example,dc=com"
rootpw secret
directory $s/db
EOF
cat >"$s/data.ldif" <<'EOF'
dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: uid=alice,dc=example,dc=com
objectClass: inetOrgPerson
uid: alice
cn: Alice Through The Tunnel
sn: Tunnel
EOF
slapadd -f "$s/slapd.conf" -l "$s/data.ldif" >"$s/slapadd.out" 2>&1 ||
    { bad "slapadd: $(cat "$s/slapadd.out")"; exit $fail; }
port=$(lib_free_port)
lib_bg slapd slapd -f "$s/slapd.conf" -h "ldap://127.0.0.1:$port/" -d 256
lib_wait_for "$TEST_TMP/slapd.out" 'slapd starting' 10 ||
    { bad "slapd did not start: $(cat "$TEST_TMP/slapd.out")"; exit $fail; }
{ printf 'foreground = yes\nsyslog = no\ndebug = debug\n'; section slapd "$port"; } >"$TEST_TMP/s.conf"
lib_daemon l "$TEST_TMP/s.conf" || exit 1
export LDAPNOINIT=1    # no ldap.conf or .ldaprc of this host
search() {  # PORT: alice's cn, searched anonymously in plain LDAP
    timeout 10 ldapsearch -x -LLL -H "ldap://127.0.0.1:$1" -b dc=example,dc=com '(uid=alice)' cn 2>&1
}
got=$(search "$(lib_port l slapd)")
grep -q '^cn: Alice Through The Tunnel$' <<<"$got" || bad "ldapsearch through the tunnel: $got"
grep -q 'STARTTLS' "$TEST_TMP/slapd.out" || bad "slapd saw no STARTTLS"
grep -q 'TLS established' "$TEST_TMP/slapd.out" || bad "slapd saw no TLS"
grep -q 'SRCH base="dc=example,dc=com"' "$TEST_TMP/slapd.out" || bad "slapd saw no search"
lib_conn_log "$TEST_TMP/l.out" slapd | grep -q 'LDAP Start TLS successfully negotiated' ||
    bad "no 'LDAP Start TLS successfully negotiated'"
# without the tunnel the same search is refused: TLS really was required
got=$(search "$port")
grep -q 'Confidentiality required' <<<"$got" || bad "slapd took a plain search: $got"
exit $fail
