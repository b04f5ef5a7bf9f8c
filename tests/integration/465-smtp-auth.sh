#!/bin/bash
# protocol = smtp in client mode with protocolUsername and protocolPassword
# logs in inside TLS as stunnel 5.75 does: after STARTTLS and the
# handshake, EHLO again (protocolHost, else "localhost"), its answer read
# and not passed on, then AUTH PLAIN ("\0USER\0PASSWORD" in base64,
# answered 235) or, with protocolAuthentication = login in any case, AUTH
# LOGIN (user and password each after a 334 prompt); any other word means
# PLAIN. A refusal is logged ("PLAIN Authentication Failed", "Remote
# server does not support LOGIN authentication", "LOGIN authentication
# failed") and resets the connection. The base64 never reaches the log
# (5.75 writes it at debug level). Checked byte for byte against scripted
# servers, under ours and, where it is there, stunnel 5.75 (the same
# peers, the same views and error lines); then a real MTA: exim with a
# throw-away configuration accepts a message sent through the section
# with the right password (PLAIN and LOGIN) and refuses the wrong one.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
REF575=${STUNNEL_575_DIR:-$TOP_SRCDIR/../shared/reference/stunnel-5.75}/stunnel-fork
CERT=$TEST_TMP/certs/server.pem
CREDS=$'protocolUsername = alice\nprotocolPassword = s3cret'

# the server's dialogue up to its answer to the EHLO inside TLS
PRE=('S:220 mx.test ESMTP\r\n' R: 'S:250-mx.test\r\n250 STARTTLS\r\n' R:
     'S:220 go ahead\r\n' "TLS:$CERT" R:)
names=()
declare -A conf steps
case_() {  # NAME "CONF LINES" SERVER-STEPS...
    names+=("$1")
    conf[$1]=$2
    shift 2
    steps[${names[-1]}]=$(printf '%s\n' "$@")
}
case_ plain "protocolHost = mail.client.test
$CREDS" "${PRE[@]}" 'S:250-mx.test\r\n250-AUTH PLAIN LOGIN\r\n250 SIZE 9\r\n' \
    R: 'S:235 2.7.0 ok\r\n' ECHO
case_ login "$CREDS
protocolAuthentication = LOGIN" "${PRE[@]}" 'S:250 mx.test\r\n' R: \
    'S:334 VXNlcm5hbWU6\r\n' R: 'S:334 UGFzc3dvcmQ6\r\n' R: 'S:235 ok\r\n' ECHO
case_ other "$CREDS
protocolAuthentication = basic" "${PRE[@]}" 'S:500 what\r\n' R: 'S:235 ok\r\n' ECHO
case_ nopass "protocolUsername = alice
protocolAuthentication = login" "${PRE[@]::6}" ECHO
case_ plain-refused "$CREDS" "${PRE[@]}" 'S:250 ok\r\n' R: 'S:535 5.7.8 no\r\n' ECHO
case_ plain-235 "$CREDS" "${PRE[@]}" 'S:250 ok\r\n' R: 'S:235\r\n' ECHO
case_ login-unsupported "$CREDS
protocolAuthentication = login" "${PRE[@]}" 'S:250 ok\r\n' R: 'S:504 no\r\n' ECHO
case_ login-user-refused "$CREDS
protocolAuthentication = login" "${PRE[@]}" 'S:250 ok\r\n' R: 'S:334 x\r\n' R: \
    'S:535 no\r\n' ECHO
case_ login-pass-refused "$CREDS
protocolAuthentication = login" "${PRE[@]}" 'S:250 ok\r\n' R: 'S:334 x\r\n' R: \
    'S:334 y\r\n' R: 'S:535 no\r\n' ECHO
case_ server-gone "$CREDS" "${PRE[@]}" 'S:250-mx.test\r\n'

# a scripted server for each case, serving ours and then 5.75
declare -A port
for n in "${names[@]}"; do
    mapfile -t s <<<"${steps[$n]}"
    lib_bg "peer-$n" python3 "$LIB_DIR/peers.py" chat "${s[@]}" \
        --port-file "$TEST_TMP/peer-$n.port"
done
for n in "${names[@]}"; do
    lib_wait_for "$TEST_TMP/peer-$n.port" '^[0-9]+$' 20 ||
        { echo "FAIL: peer $n did not start"; exit 1; }
    port[$n]=$(cat "$TEST_TMP/peer-$n.port")
done

# run DAEMON TAG ROUND: every case under DAEMON, the servers' ROUNDth
# connections; TAG.NAME holds what the server read, what the plain client
# read, and the section's error and closing lines
run() {
    local daemon=$1 tag=$2 round=$3 n i pids=()
    {
        printf 'foreground = yes\nsyslog = no\ndebug = debug\npid =\n'
        for n in "${names[@]}"; do
            lib_section "$n" "${port[$n]}" client=yes protocol=smtp "${conf[$n]}"
        done
    } >"$TEST_TMP/$tag.conf"
    DAEMON=$daemon lib_daemon "$tag" "$TEST_TMP/$tag.conf" || return 1
    for n in "${names[@]}"; do
        $PEERS chat-client "$(lib_port "$tag" "$n")" R: 'S:MAIL FROM:<a@b>\r\n' \
            R: SHUT EOF >"$TEST_TMP/$tag-$n.client" &
        pids+=($!)
    done
    wait "${pids[@]}"
    for ((i = 0; i < 200; i++)); do	# every connection ended
        [ "$(grep -c 'LOG5\[[0-9]*\]: Connection ' "$TEST_TMP/$tag.out")" -ge \
            ${#names[@]} ] && break
        sleep 0.05
    done
    for n in "${names[@]}"; do
        for ((i = 0; i < 200; i++)); do
            [ "$(grep -c '^end$' "$TEST_TMP/peer-$n.out")" -ge "$round" ] && break
            sleep 0.05
        done
        {
            awk -v r="$round" '/^end$/ { e++; next } e == r - 1' "$TEST_TMP/peer-$n.out" |
                sed 's/^TLS .*/TLS/'
            echo "-- client"
            cat "$TEST_TMP/$tag-$n.client"
            echo "-- log"
            lib_conn_log "$TEST_TMP/$tag.out" "$n" |
                sed -n 's/^.*LOG\([35]\)\[[0-9]*\]: \(.* [0-9]* out of\|Connection \|PLAIN\|LOGIN\|Remote\)/\1 \2/p'
        } >"$TEST_TMP/$tag.$n"
    done
}
run "$STUNNEL" ours 1 || exit 1

expect() {  # NAME: TAG.NAME must be the lines on stdin
    local got
    got=$(cat "$TEST_TMP/ours.$1")
    [ "$got" = "$(cat)" ] || bad "$1: got
$got"
}
expect plain <<'EOF'
read b'EHLO mail.client.test\r\n'
read b'STARTTLS\r\n'
TLS
read b'EHLO mail.client.test\r\n'
read b'AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n'
echoed b'MAIL FROM:<a@b>\r\n'
-- client
read b'220 mx.test ESMTP\r\n'
read b'MAIL FROM:<a@b>\r\n'
got b'' then EOF
-- log
5 Connection closed: 17 byte(s) sent to TLS, 17 byte(s) sent to socket
EOF
expect login <<'EOF'
read b'EHLO localhost\r\n'
read b'STARTTLS\r\n'
TLS
read b'EHLO localhost\r\n'
read b'AUTH LOGIN\r\n'
read b'YWxpY2U=\r\n'
read b'czNjcmV0\r\n'
echoed b'MAIL FROM:<a@b>\r\n'
-- client
read b'220 mx.test ESMTP\r\n'
read b'MAIL FROM:<a@b>\r\n'
got b'' then EOF
-- log
5 Connection closed: 17 byte(s) sent to TLS, 17 byte(s) sent to socket
EOF
expect other <<'EOF'
read b'EHLO localhost\r\n'
read b'STARTTLS\r\n'
TLS
read b'EHLO localhost\r\n'
read b'AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n'
echoed b'MAIL FROM:<a@b>\r\n'
-- client
read b'220 mx.test ESMTP\r\n'
read b'MAIL FROM:<a@b>\r\n'
got b'' then EOF
-- log
5 Connection closed: 17 byte(s) sent to TLS, 17 byte(s) sent to socket
EOF
expect nopass <<'EOF'
read b'EHLO localhost\r\n'
read b'STARTTLS\r\n'
TLS
echoed b'MAIL FROM:<a@b>\r\n'
-- client
read b'220 mx.test ESMTP\r\n'
read b'MAIL FROM:<a@b>\r\n'
got b'' then EOF
-- log
5 Connection closed: 17 byte(s) sent to TLS, 17 byte(s) sent to socket
EOF
refused() {  # NAME ERROR SERVER-READ...: a refusal
    local n=$1 err=$2 r
    shift 2
    {
        printf '%s\n' "read b'EHLO localhost\\r\\n'" "read b'STARTTLS\\r\\n'" TLS \
            "read b'EHLO localhost\\r\\n'"
        for r in "$@"; do printf "read b'%s\\\\r\\\\n'\n" "$r"; done
        printf '%s\n' "echoed b''" "-- client" "read b'220 mx.test ESMTP\\r\\n'" \
            reset "-- log" "3 $err" \
            "5 Connection reset: 0 byte(s) sent to TLS, 0 byte(s) sent to socket"
    } | expect "$n"
}
refused plain-refused "PLAIN Authentication Failed" "AUTH PLAIN AGFsaWNlAHMzY3JldA=="
refused plain-235 "PLAIN Authentication Failed" "AUTH PLAIN AGFsaWNlAHMzY3JldA=="
refused login-unsupported "Remote server does not support LOGIN authentication" \
    "AUTH LOGIN"
refused login-user-refused "LOGIN authentication failed" "AUTH LOGIN" YWxpY2U=
refused login-pass-refused "LOGIN authentication failed" "AUTH LOGIN" YWxpY2U= \
    czNjcmV0
expect server-gone <<'EOF'
read b'EHLO localhost\r\n'
read b'STARTTLS\r\n'
TLS
read b'EHLO localhost\r\n'
-- client
read b'220 mx.test ESMTP\r\n'
reset
-- log
3 s_ssl_read: Received 0 out of requested 1 byte(s)
5 Connection closed/reset: 0 byte(s) sent to TLS, 0 byte(s) sent to socket
EOF
grep -q 'LOG7\[[0-9]*\]:  -> AUTH PLAIN \*$' "$TEST_TMP/ours.out" ||
    bad "no ' -> AUTH PLAIN *' in the log"
[ "$(grep -c 'LOG7\[[0-9]*\]:  -> \*$' "$TEST_TMP/ours.out")" = 5 ] ||
    bad "the LOGIN lines are not each logged as ' -> *'"
! grep -n 'AGFsaWNl\|YWxpY2U=\|czNjcmV0\|s3cret' "$TEST_TMP/ours.out" ||
    bad "the credentials are in the log"

# the same peers' views and the same error lines under stunnel 5.75
if [ -x "$REF575" ]; then
    run "$REF575" ref 2 || bad "stunnel 5.75 did not run"
    for n in "${names[@]}"; do
        diff -u "$TEST_TMP/ref.$n" "$TEST_TMP/ours.$n" >"$TEST_TMP/diff" ||
            bad "$n differs from stunnel 5.75: $(cat "$TEST_TMP/diff")"
    done
else
    echo "note: no stunnel 5.75 reference ($REF575): not compared"
fi

# a real MTA: exim, PLAIN and LOGIN authenticators for alice/s3cret
# offered inside TLS only, a message queued only when authenticated
if ! command -v exim4 >/dev/null || [ "$(id -u)" != 0 ]; then
    echo "note: exim4 not installed or not root: the MTA part skipped"
    exit $fail
fi
mkdir -p "$TEST_TMP/exim/spool" "$TEST_TMP/exim/log"
cat >"$TEST_TMP/exim/exim.conf" <<EOF
primary_hostname = mx.test
spool_directory = $TEST_TMP/exim/spool
log_file_path = $TEST_TMP/exim/log/%slog
pid_file_path = $TEST_TMP/exim/exim.pid
exim_user = root
exim_group = root
never_users =
queue_only = true
host_lookup =
rfc1413_hosts =
keep_environment =
tls_advertise_hosts = *
tls_certificate = $CERT
tls_privatekey = $CERT
auth_advertise_hosts = \${if def:tls_in_cipher {*}{}}
acl_smtp_rcpt = acl_rcpt
begin acl
acl_rcpt:
  accept authenticated = *
  deny message = authentication required
begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = \${if and {{eq{\$auth2}{alice}}{eq{\$auth3}{s3cret}}}}
  server_set_id = \$auth2
login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = <| Username: | Password:
  server_condition = \${if and {{eq{\$auth1}{alice}}{eq{\$auth2}{s3cret}}}}
  server_set_id = \$auth1
EOF
mta_port=$(lib_free_port)
lib_bg exim exim4 -C "$TEST_TMP/exim/exim.conf" -bdf -oX "127.0.0.1:$mta_port"
lib_wait_for "$TEST_TMP/exim/log/mainlog" 'daemon started' 10 ||
    { bad "exim did not start: $(cat "$TEST_TMP/exim.out")"; exit $fail; }
{
    printf 'foreground = yes\nsyslog = no\ndebug = debug\npid =\n'
    lib_section mta-plain "$mta_port" client=yes protocol=smtp "$CREDS"
    lib_section mta-login "$mta_port" client=yes protocol=smtp "$CREDS" \
        protocolAuthentication=login
    lib_section mta-wrong "$mta_port" client=yes protocol=smtp \
        protocolUsername=alice protocolPassword=wrong
} >"$TEST_TMP/mta.conf"
lib_daemon mta "$TEST_TMP/mta.conf" || exit 1
send() {  # SECTION: a message through it with smtplib; "sent" or the error
    python3 - "$(lib_port mta "$1")" "$1" <<'EOF'
import smtplib, sys
try:
    with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as s:
        s.sendmail("a@x.test", ["bob@mx.test"],
                   "Subject: %s\r\n\r\nthrough stunnel\r\n" % sys.argv[2])
    print("sent")
except (OSError, smtplib.SMTPException) as e:
    print("error", type(e).__name__)
EOF
}
for n in plain login; do
    got=$(send "mta-$n")
    [ "$got" = sent ] || bad "exim, $n: $got"
    grep -q "<= a@x.test .* A=$n:alice " "$TEST_TMP/exim/log/mainlog" ||
        bad "exim did not log a message authenticated by $n as alice"
done
got=$(send mta-wrong)
[ "$got" != sent ] || bad "exim, a wrong password: the message was sent"
lib_wait_for "$TEST_TMP/exim/log/mainlog" 'authenticator failed .* 535 Incorrect authentication data \(set_id=alice\)' 5 ||
    bad "exim did not refuse the wrong password"
lib_conn_log "$TEST_TMP/mta.out" mta-wrong | grep -q 'LOG3\[[0-9]*\]: PLAIN Authentication Failed$' ||
    bad "no 'PLAIN Authentication Failed' for exim's refusal"
[ "$(grep -c '<= a@x.test' "$TEST_TMP/exim/log/mainlog")" = 2 ] ||
    bad "exim queued $(grep -c '<= a@x.test' "$TEST_TMP/exim/log/mainlog") messages, not 2"
! grep -n 'AGFsaWNl\|YWxpY2U=\|czNjcmV0\|s3cret\|d3Jvbmc' "$TEST_TMP/mta.out" ||
    bad "the credentials are in the log"
exit $fail
