#!/bin/bash
# Negotiations read and write through io.c alone: tested from outside,
# through every protocol that has one (smtp, pop3, imap, nntp, pgsql,
# connect, proxy, socks, the ident check), on each side it speaks, with
# peers that misbehave:
#   drip   sends a byte at a time (in TLS a record each): the exchange
#          succeeds and data flows
#   stall  says nothing (TIMEOUTbusy = 2): "...: s_poll_wait: TIMEOUTbusy
#          exceeded: sending reset", "Connection reset" within 6 s
#   close  ends early: "s_read: Received N out of requested M byte(s)"
#          (s_ssl_read inside TLS) or the protocol's own line
#   junk   says something else: the protocol's error line
#   long   a line over 65536 characters: "fd_getline: Line too long"
#          (ssl_getline inside TLS); one of 65536 passes whole
#   unread never reads a greeting of 240 KB: "s_write:
#          s_poll_wait: TIMEOUTbusy exceeded: sending reset"
#   big    reads slowly through a tiny receive buffer while our send
#          buffer is tiny too, so that our writes come back short: a
#          greeting of 180 KB, or 128 KB of protocolHeader, arrives intact
# Every case runs under ours and, where it is there, under stunnel 5.75
# (the same peers, debug = info: 5.75 crashes logging a long line at
# debug level): what the peers saw and the error and closing lines must
# be the same. All cases run at once, each a section of one daemon, its
# peers in one process (peers.py chats), in a private network namespace
# (the ident server is on port 113 of 127.0.0.N, a SOCKS destination on
# 10.66.0.1).
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
if [ -z "${IN_NETNS:-}" ]; then
    unshare --net true 2>/dev/null || { echo "SKIP: cannot make a network namespace"; exit $SKIP; }
    IN_NETNS=1 exec unshare --net bash -c 'ip link set lo up &&
        ip addr add 10.66.0.1/32 dev lo && exec "$0" "$@"' "$(readlink -f "$0")" "$@"
fi
ip addr show lo 2>/dev/null | grep -q 10.66.0.1 || { echo "SKIP: cannot add 10.66.0.1"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
REF575=${STUNNEL_575_DIR:-$TOP_SRCDIR/../shared/reference/stunnel-5.75}/stunnel-fork
C=$TEST_TMP/certs/server.pem
mkdir "$TEST_TMP/p"
x() { python3 -c "import sys; sys.stdout.write(sys.argv[1] * int(sys.argv[2]))" "$@"; }
X65533=$(x x 65533)
Y60000=$(x y 60000)
P16000=$(x p 16000)

# Each case: a section (its protocol lines; connect = its server, @P@),
# a server (a backend, or the TLS server of a client section) and a
# client, in peers.py chats words; SEND is the plain client's data after
# a client section's negotiation.
SEND=("S:ping\\r\\n" R: SHUT EOF)
TLSC=("TLS" "S:ping\\r\\n" R:)
names=()
declare -A sect srv cli
case_() {  # NAME "SECTION LINES" "SERVER WORDS" "CLIENT WORDS"
    names+=("$1"); sect[$1]=$2; srv[$1]=$3; cli[$1]=$4
}
q() { local w out=; for w in "$@"; do out+=" '$w'"; done; echo "$out"; }
SMTP_PRE=$(q 'S:220 mx\r\n' R: 'S:250-mx\r\n250 STARTTLS\r\n' R: 'S:220 go\r\n' "TLS:$C" R:)
AUTH=$'protocolUsername = alice\nprotocolPassword = s3cret'
CL=$'client = yes\nconnect = 127.0.0.1:@P@'
SV=$'cert = '"$C"$'\nconnect = 127.0.0.1:@P@'
B10=$'TIMEOUTbusy = 10'
B2=$'TIMEOUTbusy = 2'

# drip: a byte at a time
case_ smtp-c-drip "$CL"$'\nprotocol = smtp\n'"$B10" "$(q 'D:220 mx\r\n' R: 'D:250-mx\r\n250 STARTTLS\r\n' R: 'D:220 go\r\n' "TLS:$C" ECHO)" "$(q R: "${SEND[@]}")"
case_ smtp-auth-drip "$CL"$'\nprotocol = smtp\n'"$AUTH"$'\n'"$B10" "$SMTP_PRE$(q 'D:250-mx\r\n250 AUTH PLAIN\r\n' R: 'D:235 ok\r\n' ECHO)" "$(q R: "${SEND[@]}")"
case_ pop3-c-drip "$CL"$'\nprotocol = pop3\n'"$B10" "$(q 'D:+OK hi\r\n' R: 'D:+OK go\r\n' "TLS:$C" ECHO)" "$(q R: "${SEND[@]}")"
case_ imap-c-drip "$CL"$'\nprotocol = imap\n'"$B10" "$(q 'D:* OK hi\r\n' R: 'D:stunnel OK go\r\n' "TLS:$C" ECHO)" "$(q R: "${SEND[@]}")"
case_ nntp-c-drip "$CL"$'\nprotocol = nntp\n'"$B10" "$(q 'D:200 hi\r\n' R: 'D:382 go\r\n' "TLS:$C" ECHO)" "$(q R: "${SEND[@]}")"
case_ pgsql-c-drip "$CL"$'\nprotocol = pgsql\n'"$B10" "$(q N:8 D:S "TLS:$C" ECHO)" "$(q "${SEND[@]}")"
case_ connect-c-drip "$CL"$'\nprotocol = connect\nprotocolHost = dest.test:443\n'"$B10" "$(q H: 'D:HTTP/1.0 200 OK\r\nX-A: b\r\n\r\n' "TLS:$C" ECHO)" "$(q "${SEND[@]}")"
case_ socks-c-drip "$CL"$'\nprotocol = socks\nprotocolHost = dest.test:80\n'"$B10" "$(q "TLS:$C" N:3 'D:\x05\x00' N:16 'D:\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00' ECHO)" "$(q "${SEND[@]}")"
case_ smtp-s-drip "$SV"$'\nprotocol = smtp\n'"$B10" "$(q 'D:220 mx ESMTP\r\n' ECHO)" "$(q R: 'D:EHLO c\r\n' R: R: 'D:STARTTLS\r\n' R: "${TLSC[@]}")"
case_ pop3-s-drip "$SV"$'\nprotocol = pop3\n'"$B10" "$(q 'D:+OK hi\r\n' ECHO)" "$(q R: 'D:STLS\r\n' R: "${TLSC[@]}")"
case_ imap-s-drip "$SV"$'\nprotocol = imap\n'"$B10" "$(q 'D:* OK hi\r\n' ECHO)" "$(q R: 'D:a STARTTLS\r\n' R: "${TLSC[@]}")"
case_ pgsql-s-drip "$SV"$'\nprotocol = pgsql\n'"$B10" "$(q ECHO)" "$(q 'D:\x00\x00\x00\x08\x04\xd2\x16\x2f' N:1 "${TLSC[@]}")"
case_ socks-s-drip "cert = $C"$'\nprotocol = socks\n'"$B10" "--bind 10.66.0.1 --port 8080 $(q ECHO)" "$(q TLS 'D:\x05\x01\x00' N:2 'D:\x05\x01\x00\x01\x0a\x42\x00\x01\x1f\x90' N:10 'S:ping\r\n' R:)"
case_ ident-drip "$SV"$'\nident = alice\n'"$B10" "$(q ECHO)" "--source 127.0.0.2 $(q "${TLSC[@]}")"
case_ proxy-drip "$SV"$'\nprotocol = proxy\n'"$B10" "$(q R: ECHO)" "$(q "${TLSC[@]}")"

# stall: nothing said, TIMEOUTbusy = 2
case_ smtp-c-stall "$CL"$'\nprotocol = smtp\n'"$B2" "$(q W:4 EOF)" "$(q EOF)"
case_ smtp-auth-stall "$CL"$'\nprotocol = smtp\n'"$AUTH"$'\n'"$B2" "$SMTP_PRE$(q W:4 EOF)" "$(q R: EOF)"
case_ pop3-c-stall "$CL"$'\nprotocol = pop3\n'"$B2" "$(q W:4 EOF)" "$(q EOF)"
case_ imap-c-stall "$CL"$'\nprotocol = imap\n'"$B2" "$(q 'S:* OK hi\r\n' R: W:4 EOF)" "$(q R: EOF)"
case_ nntp-c-stall "$CL"$'\nprotocol = nntp\n'"$B2" "$(q W:4 EOF)" "$(q EOF)"
case_ pgsql-c-stall "$CL"$'\nprotocol = pgsql\n'"$B2" "$(q N:8 W:4 EOF)" "$(q EOF)"
case_ connect-c-stall "$CL"$'\nprotocol = connect\nprotocolHost = dest.test:443\n'"$B2" "$(q H: W:4 EOF)" "$(q EOF)"
case_ socks-c-stall "$CL"$'\nprotocol = socks\nprotocolHost = dest.test:80\n'"$B2" "$(q "TLS:$C" N:3 W:4 EOF)" "$(q EOF)"
case_ smtp-s-stall "$SV"$'\nprotocol = smtp\n'"$B2" "$(q 'S:220 mx\r\n' EOF)" "$(q R: W:4 EOF)"
case_ pop3-s-stall "$SV"$'\nprotocol = pop3\n'"$B2" "$(q 'S:+OK hi\r\n' EOF)" "$(q R: W:4 EOF)"
case_ imap-s-stall "$SV"$'\nprotocol = imap\n'"$B2" "$(q 'S:* OK hi\r\n' EOF)" "$(q R: W:4 EOF)"
case_ pgsql-s-stall "$SV"$'\nprotocol = pgsql\n'"$B2" "$(q EOF)" "$(q 'S:\x00\x00\x00\x08' W:4 EOF)"
case_ socks-s-stall "cert = $C"$'\nprotocol = socks\n'"$B2" "$(q EOF)" "$(q TLS 'S:\x05' W:4 EOF)"
case_ ident-stall "$SV"$'\nident = alice\n'"$B2" "$(q EOF)" "--source 127.0.0.3 $(q W:4 EOF)"

# close: the peer ends early
case_ smtp-c-close "$CL"$'\nprotocol = smtp\n'"$B10" "$(q 'S:220 partial')" "$(q EOF)"
case_ pop3-c-close "$CL"$'\nprotocol = pop3\n'"$B10" "" "$(q EOF)"
case_ pgsql-c-close "$CL"$'\nprotocol = pgsql\n'"$B10" "$(q N:8)" "$(q EOF)"
case_ connect-c-close "$CL"$'\nprotocol = connect\nprotocolHost = dest.test:443\n'"$B10" "$(q H: 'S:HTTP/1.0 200 OK\r\n')" "$(q EOF)"
case_ socks-c-close "$CL"$'\nprotocol = socks\nprotocolHost = dest.test:80\n'"$B10" "$(q "TLS:$C" N:3 'S:\x05')" "$(q EOF)"
case_ smtp-s-close "$SV"$'\nprotocol = smtp\n'"$B10" "$(q 'S:220 mx\r\n' EOF)" "$(q R: SHUT EOF)"
case_ pgsql-s-close "$SV"$'\nprotocol = pgsql\n'"$B10" "$(q EOF)" "$(q 'S:\x00\x00\x00\x08' SHUT EOF)"
case_ socks-s-close "cert = $C"$'\nprotocol = socks\n'"$B10" "$(q EOF)" "$(q TLS 'S:\x05\x01' SHUT EOF)"
case_ ident-close "$SV"$'\nident = alice\n'"$B10" "$(q EOF)" "--source 127.0.0.4 $(q EOF)"

# junk: something else than the protocol's answer
case_ smtp-c-junk "$CL"$'\nprotocol = smtp\n'"$B10" "$(q 'S:220 mx\r\n' R: 'S:500 no\r\n' EOF)" "$(q R: EOF)"
case_ pop3-c-junk "$CL"$'\nprotocol = pop3\n'"$B10" "$(q 'S:-ERR no\r\n' EOF)" "$(q EOF)"
case_ imap-c-junk "$CL"$'\nprotocol = imap\n'"$B10" "$(q 'S:hello\r\n' EOF)" "$(q EOF)"
case_ nntp-c-junk "$CL"$'\nprotocol = nntp\n'"$B10" "$(q 'S:400 no\r\n' EOF)" "$(q EOF)"
case_ pgsql-c-junk "$CL"$'\nprotocol = pgsql\n'"$B10" "$(q N:8 S:N EOF)" "$(q EOF)"
case_ connect-c-junk "$CL"$'\nprotocol = connect\nprotocolHost = dest.test:443\n'"$B10" "$(q H: 'S:HTTP/1.0 403 Forbidden\r\n\r\n' EOF)" "$(q EOF)"
case_ socks-c-junk "$CL"$'\nprotocol = socks\nprotocolHost = dest.test:80\n'"$B10" "$(q "TLS:$C" N:3 'S:\x04\x00' EOF)" "$(q EOF)"
case_ smtp-s-junk "$SV"$'\nprotocol = smtp\n'"$B10" "$(q 'S:220 mx\r\n' EOF)" "$(q R: 'S:HELO c\r\n' EOF)"
case_ pop3-s-junk "$SV"$'\nprotocol = pop3\n'"$B10" "$(q 'S:+OK hi\r\n' EOF)" "$(q R: 'S:USER x\r\n' EOF)"
case_ imap-s-junk "$SV"$'\nprotocol = imap\n'"$B10" "$(q 'S:* OK hi\r\n' R: 'S:* BYE\r\nstunnel OK\r\n' EOF)" "$(q R: 'S:a LOGIN x y\r\n' EOF)"
case_ pgsql-s-junk "$SV"$'\nprotocol = pgsql\n'"$B10" "$(q EOF)" "$(q 'S:GET / HTTP/1.0\r\n' EOF)"
case_ socks-s-junk "cert = $C"$'\nprotocol = socks\n'"$B10" "$(q EOF)" "$(q TLS 'S:\x06' EOF)"
case_ ident-junk "$SV"$'\nident = alice\n'"$B10" "$(q EOF)" "--source 127.0.0.5 $(q EOF)"

# long: a line over the bound, and one at it
case_ smtp-c-long "$CL"$'\nprotocol = smtp\n'"$B10" "$(q "S:220 $X65533\\r\\n" EOF)" "$(q EOF)"
case_ smtp-c-edge "$CL"$'\nprotocol = smtp\n'"$B10" "$(q "S:220-${X65533%x}\\r\\n220 mx\\r\\n" R: 'S:250 STARTTLS\r\n' R: 'S:220 go\r\n' "TLS:$C" ECHO)" "$(q HASH:65546 "${SEND[@]}")"
case_ smtp-auth-long "$CL"$'\nprotocol = smtp\n'"$AUTH"$'\n'"$B10" "$SMTP_PRE$(q "S:250 $X65533\\r\\n" EOF)" "$(q R: EOF)"
case_ connect-c-long "$CL"$'\nprotocol = connect\nprotocolHost = dest.test:443\n'"$B10" "$(q H: "S:HTTP/1.0 200 OK\\r\\nX: ${X65533}x\\r\\n\\r\\n" EOF)" "$(q EOF)"
case_ smtp-s-long "$SV"$'\nprotocol = smtp\n'"$B10" "$(q 'S:220 mx\r\n' EOF)" "$(q R: "S:EHLO ${X65533%x}\\r\\n" EOF)"

# big: short writes to a slow reader
SMALL=$'socket = l:SO_SNDBUF=4096'
case_ smtp-c-big "$CL"$'\nprotocol = smtp\n'"$SMALL"$'\n'"$B10" "$(q "S:220-$Y60000\\r\\n220-$Y60000\\r\\n220-$Y60000\\r\\n220 mx\\r\\n" R: 'S:250 STARTTLS\r\n' R: 'S:220 go\r\n' "TLS:$C" ECHO)" "--rcvbuf 4096 $(q W:0.5 HASH:180026 "${SEND[@]}")"
case_ smtp-s-big "$SV"$'\nprotocol = smtp\n'"$SMALL"$'\n'"$B10" "$(q "S:220-mx hi\\r\\n220-$Y60000\\r\\n220-$Y60000\\r\\n220-$Y60000\\r\\n220 mx\\r\\n" ECHO)" "--rcvbuf 4096 $(q W:0.5 HASH:180049 'S:EHLO c\r\n' R: R: 'S:STARTTLS\r\n' R: "${TLSC[@]}")"
case_ pop3-s-big "$SV"$'\nprotocol = pop3\n'"$SMALL"$'\n'"$B10" "$(q "S:+OK $Y60000\\r\\n" ECHO)" "--rcvbuf 4096 $(q W:0.5 HASH:60016 'S:STLS\r\n' R: "${TLSC[@]}")"
case_ smtp-s-unread "$SV"$'\nprotocol = smtp\n'"$SMALL"$'\n'"$B2" "$(q "S:220-mx hi\\r\\n220-$Y60000\\r\\n220-$Y60000\\r\\n220-$Y60000\\r\\n220-$Y60000\\r\\n220 mx\\r\\n" EOF)" "--rcvbuf 4096 $(q W:8)"
hdrs=
for i in 1 2 3 4 5 6 7 8; do hdrs+=$'\n'"protocolHeader = X-$i: $P16000"; done
case_ connect-c-big "$CL"$'\nprotocol = connect\nprotocolHost = dest.test:443\nsocket = r:SO_SNDBUF=4096'"$hdrs"$'\n'"$B10" "--rcvbuf 4096 $(q W:0.5 HASH:128111 'S:HTTP/1.0 200 OK\r\n\r\n' "TLS:$C" ECHO)" "$(q "${SEND[@]}")"

# identd on 127.0.0.N:113 for the ident cases (the client's address)
IDENT=$'server identd-2 --bind 127.0.0.2 --port 113 R: \'D:1 , 2 : USERID : UNIX : alice\\r\\n\'
server identd-3 --bind 127.0.0.3 --port 113 R: W:4 EOF
server identd-4 --bind 127.0.0.4 --port 113 R: \'S:1 , 2 : USERID\'
server identd-5 --bind 127.0.0.5 --port 113 R: \'S:1 , 2 : ERROR : NO-USER\\r\\n\' EOF'
{
    echo "$IDENT"
    for n in "${names[@]}"; do echo "server $n ${srv[$n]}"; done
} >"$TEST_TMP/servers"

# conn_log LOG NAME: the lines of case NAME's connection (an ident check
# fails before the connection is logged as accepted: its ident server's
# address tells it)
declare -A ident_addr=([ident-drip]=127.0.0.2 [ident-stall]=127.0.0.3
    [ident-close]=127.0.0.4 [ident-junk]=127.0.0.5)
conn_log() {
    local id
    if [ -n "${ident_addr[$2]:-}" ]; then
        id=$(sed -n "s/.*LOG6\[\([0-9]*\)\]: s_connect: connecting ${ident_addr[$2]}:113\$/\1/p" "$1" | tail -n 1)
        [ -n "$id" ] && grep "LOG[0-9]\[$id\]:" "$1"
    else
        lib_conn_log "$1" "$2"
    fi
}

# run DAEMON TAG: every case at once under DAEMON, with servers of its
# own; TAG.NAME: what the server and the client saw and the connection's
# error, timeout and closing lines
run() {
    local daemon=$1 tag=$2 n i servers
    mkdir "$TEST_TMP/p/$tag"
    lib_bg "servers-$tag" python3 "$LIB_DIR/peers.py" chats "$TEST_TMP/servers" \
        --dir "$TEST_TMP/p/$tag"
    servers=$LIB_PID
    for n in "${names[@]}"; do
        lib_wait_for "$TEST_TMP/p/$tag/$n.port" '^[0-9]+$' 20 ||
            { cat "$TEST_TMP/servers-$tag.out"; return 1; }
    done
    {
        printf 'foreground = yes\nsyslog = no\ndebug = info\npid =\n'
        for n in "${names[@]}"; do
            printf '[%s]\naccept = 127.0.0.1:0\n%s\n' "$n" \
                "${sect[$n]//@P@/$(cat "$TEST_TMP/p/$tag/$n.port")}"
        done
    } >"$TEST_TMP/$tag.conf"
    DAEMON=$daemon lib_daemon "$tag" "$TEST_TMP/$tag.conf" || return 1
    for n in "${names[@]}"; do
        echo "client $n $(lib_port "$tag" "$n") ${cli[$n]}"
    done >"$TEST_TMP/$tag.clients"
    python3 "$LIB_DIR/peers.py" chats "$TEST_TMP/$tag.clients" --dir "$TEST_TMP/p/$tag" ||
        bad "$tag: the clients failed"
    for ((i = 0; i < 200; i++)); do  # every connection ended
        [ "$(grep -c 'LOG5\[[0-9]*\]: Connection \(closed\|reset\)' "$TEST_TMP/$tag.out")" -ge \
            ${#names[@]} ] && break
        sleep 0.05
    done
    for n in "${names[@]}"; do
        # a server that was connected (at most once) has ended
        [ ! -e "$TEST_TMP/p/$tag/$n.1" ] || lib_wait_for "$TEST_TMP/p/$tag/$n.1" '^end$' 10
        {
            sed -E 's/^TLS .*/TLS/; s/[0-9]{4,5}/N/g' "$TEST_TMP/p/$tag/$n.1" 2>/dev/null
            echo "-- client"
            cat "$TEST_TMP/p/$tag/$n.client"
            echo "-- log"
            conn_log "$TEST_TMP/$tag.out" "$n" | sed -n -E \
                's/^.*(LOG[0-4])\[[0-9]+\]: /\1 /p; s/^.*(LOG[56])\[[0-9]+\]: (.*(TIMEOUTbusy|IDENT|SOCKS|CONNECT)|Connection (closed|reset))/\1 \2/p' |
                sed -E 's/127\.0\.0\.[0-9]+:[0-9]+/ADDR/'
        } >"$TEST_TMP/$tag.$n"
    done
    kill "$servers"
    wait "$servers" 2>/dev/null
    return 0
}
run "$STUNNEL" ours || exit 1

log_has() {  # NAME REGEX: the case's summary has a line matching REGEX
    grep -Eq -- "$2" "$TEST_TMP/ours.$1" || bad "$1: no '$2' in
$(cat "$TEST_TMP/ours.$1")"
}
for n in "${names[@]}"; do
    case $n in
    *-drip)
        grep -q "^read b'ping\\\\r\\\\n'$" "$TEST_TMP/p/ours/$n.client" ||
            bad "$n: the data did not flow: $(cat "$TEST_TMP/p/ours/$n.client")"
        ! grep -q '^LOG3' "$TEST_TMP/ours.$n" || bad "$n: $(grep '^LOG3' "$TEST_TMP/ours.$n")" ;;
    *-stall)
        log_has "$n" '^LOG6 s_(ssl_)?read_eof: s_poll_wait: TIMEOUTbusy exceeded: sending reset$'
        log_has "$n" '^LOG5 Connection reset: '
        t=$(conn_log "$TEST_TMP/ours.out" "$n" | sed -n 's/^[0-9.]* \([0-9:]*\) .*\(accepted connection\|connecting\|Connection reset\).*/\1/p' |
            while IFS=: read -r h m s; do echo $((10#$h * 3600 + 10#$m * 60 + 10#$s)); done | tr '\n' ' ')
        read -r -a t <<<"$t"
        t0=${t[0]:-0} t1=${t[${#t[@]} - 1]:-99}
        [ $((t1 - t0)) -le 6 ] || bad "$n: reset after $((t1 - t0)) s" ;;
    esac
done
log_has smtp-c-close '^LOG3 s_read: Received 0 out of requested 1 byte\(s\)$'
log_has pop3-c-close '^LOG3 s_read: Received 0 out of requested 1 byte\(s\)$'
log_has pgsql-c-close '^LOG3 s_read: Received 0 out of requested 1 byte\(s\)$'
log_has connect-c-close '^LOG3 s_read: Received 0 out of requested 1 byte\(s\)$'
log_has socks-c-close '^LOG3 s_ssl_read: Received 1 out of requested 2 byte\(s\)$'
log_has smtp-s-close '^LOG3 s_read: Received 0 out of requested 1 byte\(s\)$'
log_has pgsql-s-close '^LOG3 s_read: Received 4 out of requested 8 byte\(s\)$'
log_has socks-s-close '^LOG3 s_ssl_read: Received 0 out of requested 1 byte\(s\)$'
log_has ident-close '^LOG5 Connection reset: '
log_has smtp-c-junk '^LOG3 Remote server is not RFC 1425 compliant$'
log_has pop3-c-junk '^LOG3 Unknown server welcome$'
log_has imap-c-junk '^LOG3 Unknown server welcome$'
log_has nntp-c-junk '^LOG3 Unknown server welcome$'
log_has pgsql-c-junk '^LOG3 PostgreSQL server rejected TLS$'
log_has connect-c-junk '^LOG3 CONNECT request rejected$'
log_has socks-c-junk '^LOG3 Invalid SOCKS5 message version 0x04$'
log_has smtp-s-junk '^LOG3 Unknown client EHLO$'
log_has pop3-s-junk '^LOG3 Client does not want TLS$'
log_has imap-s-junk '^LOG3 Unexpected client command LOGIN x y$'
log_has pgsql-s-junk '^LOG3 PostgreSQL client did not request TLS, rejecting$'
log_has socks-s-junk '^LOG3 Unsupported SOCKS version 0x06$'
log_has ident-junk '^LOG3 Incorrect IDENT response type$'
for n in smtp-c-long connect-c-long smtp-s-long; do
    log_has $n '^LOG3 fd_getline: Line too long$'
    log_has $n '^LOG5 Connection reset: '
done
log_has smtp-auth-long '^LOG3 ssl_getline: Line too long$'
log_has smtp-s-unread '^LOG6 s_write: s_poll_wait: TIMEOUTbusy exceeded: sending reset$'
log_has smtp-s-unread '^LOG5 Connection reset: '
hash() { printf '%s' "$1" | python3 -c 'import hashlib, sys; d = sys.stdin.buffer.read(); print("hash %d %s" % (len(d), hashlib.sha256(d).hexdigest()))'; }
crlf=$'\r\n'
expect_hash() {  # NAME TEXT: the client read TEXT whole
    local want
    want=$(hash "$2")
    grep -qx "$want" "$TEST_TMP/p/ours/$1.client" ||
        bad "$1: not '$want': $(cut -c1-80 "$TEST_TMP/p/ours/$1.client")"
    grep -q "^read b'ping\\\\r\\\\n'$" "$TEST_TMP/p/ours/$1.client" || bad "$1: the data did not flow"
}
expect_hash smtp-c-edge "220-${X65533%x}${crlf}220 mx$crlf"
expect_hash smtp-c-big "220-$Y60000${crlf}220-$Y60000${crlf}220-$Y60000${crlf}220 mx$crlf"
expect_hash smtp-s-big "220-mx stunnel for hi${crlf}220-$Y60000${crlf}220-$Y60000${crlf}220-$Y60000${crlf}220 mx$crlf"
expect_hash pop3-s-big "+OK $Y60000 + stunnel$crlf"
req="CONNECT dest.test:443 HTTP/1.1${crlf}Host: dest.test:443$crlf"
for i in 1 2 3 4 5 6 7 8; do req+="X-$i: $P16000$crlf"; done
want=$(hash "$req$crlf")
grep -qx "$want" "$TEST_TMP/p/ours/connect-c-big.1" ||
    bad "connect-c-big: the proxy did not get the request whole: $(cut -c1-80 "$TEST_TMP/p/ours/connect-c-big.1")"
grep -q "^read b'ping\\\\r\\\\n'$" "$TEST_TMP/p/ours/connect-c-big.client" || bad "connect-c-big: the data did not flow"

# the same views and lines under stunnel 5.75
if [ -x "$REF575" ]; then
    run "$REF575" ref || bad "stunnel 5.75 did not run"
    for n in "${names[@]}"; do
        diff -u "$TEST_TMP/ref.$n" "$TEST_TMP/ours.$n" >"$TEST_TMP/diff" ||
            bad "$n differs from stunnel 5.75: $(cut -c1-200 "$TEST_TMP/diff")"
    done
else
    echo "note: no stunnel 5.75 reference ($REF575): not compared"
fi
exit $fail
