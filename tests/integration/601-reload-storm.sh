#!/bin/bash
# A reload storm: 100 SIGHUPs, one every 50 ms, while 20 clients move
# data. Each client (a thread of one Python process) makes TLS
# connections in turn for as long as the storm lasts, each sending 128 KiB
# of random bytes through the daemon to an echo server, 16 KiB at a time,
# and checking that what comes back is the same, byte for byte. Then:
#  - no connection was refused or reset, no byte lost or changed, none
#    timed out (30 s of silence);
#  - every SIGHUP reloaded the configuration: one more "Configuration
#    successful" per signal, and each load logs the kept listener
#    ("Service [alpha] (FD=N) bound to 127.0.0.1:PORT", the same port);
#  - the daemon still runs and accepts: a last reload adds a service, and
#    both the old and the new one carry data.
# stunnel 5.75 (fork build) closes and binds its listeners again on every
# reload: DAEMON=.../stunnel-fork runs this test on it, and it fails
# (here: 302 connections through, 3,884 attempts refused and 1,520 reset).
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
T=$TEST_TMP
conf=$T/s.conf
log=$T/s.log

lib_peer echo echo || exit 1
echo_port=$PEER_PORT
# a fixed port, as a real configuration has (stunnel binds port 0 anew
# on every reload)
port=$(lib_free_port)
write_conf() {  # SECTION=PORT...
    {
        printf 'foreground = yes\nsyslog = no\ndebug = info\noutput = %s\n' "$log"
        local s
        for s in "$@"; do
            printf '[%s]\naccept = 127.0.0.1:%s\nconnect = 127.0.0.1:%s\ncert = %s\n' \
                "${s%=*}" "${s#*=}" "$echo_port" "$T/certs/server.pem"
        done
    } >"$conf"
}
write_conf alpha=$port
lib_daemon d "$conf" || exit 1
pid=$LIB_PID

# storm.py PORT CLIENTS KIB FILE: connections while FILE exists; prints
# one line per failure, then
# "ok N refused N reset N lost N corrupt N timeout N other N"
cat >"$T/storm.py" <<'EOF'
import collections, os, socket, ssl, sys, threading

port, clients, kib = (int(a) for a in sys.argv[1:4])
while_file = sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
counts = collections.Counter()
lock = threading.Lock()

def one():
    """one connection: KIB KiB echoed, 16 KiB at a time"""
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        for _ in range(kib // 16):
            data = os.urandom(16384)
            s.sendall(data)
            got = b""
            while len(got) < len(data):
                chunk = s.recv(len(data) - len(got))
                if not chunk:
                    return "lost"
                got += chunk
            if got != data:
                return "corrupt"
    return "ok"

def client(n):
    i = 0
    while os.path.exists(while_file):
        i += 1
        try:
            result = one()
        except ConnectionRefusedError:
            result = "refused"
        except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError,
                ssl.SSLZeroReturnError):
            result = "reset"
        except socket.timeout:
            result = "timeout"
        except (OSError, ssl.SSLError) as e:
            result = "other %r" % e
        with lock:
            counts[result] += 1
            if result != "ok" and counts[result] <= 5:
                print("client %d connection %d: %s" % (n, i, result), flush=True)

threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(" ".join("%s %d" % (k, counts[k]) for k in
               ("ok", "refused", "reset", "lost", "corrupt", "timeout")) +
      " other %d" % sum(n for k, n in counts.items() if k.startswith("other")), flush=True)
EOF

touch "$T/storm"
lib_bg storm timeout 300 python3 "$T/storm.py" "$port" 20 128 "$T/storm"
storm=$LIB_PID
hups=0
for ((hups = 0; hups < 100; hups++)); do
    kill -HUP "$pid"
    sleep 0.05
done
rm "$T/storm"
wait "$storm"
read -r result < <(tail -n 1 "$T/storm.out")
echo "$hups reloads during: $result"
read -r _ ok rest <<<"$result"
[ "$rest" = "refused 0 reset 0 lost 0 corrupt 0 timeout 0 other 0" ] ||
    { bad "connections failed during the reloads: $result"; head -n 10 "$T/storm.out"; }
[ "${ok:-0}" -ge 40 ] || bad "only ${ok:-0} connections during the storm: too few to say anything"

# every signal is a reload (the daemon may still be working through them)
loads=0
for ((i = 0; i < 600; i++)); do
    loads=$(grep -c 'Configuration successful' "$log")
    [ "$loads" -ge $((hups + 1)) ] && break
    sleep 0.1
done
[ "$loads" = $((hups + 1)) ] || bad "$hups SIGHUPs, $((loads - 1)) reloads"
bound=$(grep -c "LOG6\[ui\]: Service \[alpha\] (FD=[0-9]*) bound to 127\.0\.0\.1:$port\$" "$log")
[ "$bound" = "$loads" ] || bad "'Service [alpha] (FD=N) bound to 127.0.0.1:$port' logged $bound times in $loads loads"
grep -q 'Failed to reload\|Binding service .* failed' "$log" && bad "a reload failed: $(grep -m1 'Failed to reload\|Binding service' "$log")"

# still there, still reloading
write_conf alpha=$port beta=0
kill -HUP "$pid"
lib_wait_for "$log" 'Service \[beta\] \(FD=[0-9]+\) bound to' 30 || bad "the last reload did not bind the new service"
beta=$(sed -n 's/.*Service \[beta\] (FD=[0-9]*) bound to .*:\([0-9]*\)$/\1/p' "$log" | head -n 1)
lib_through "$port" --tls || bad "the daemon no longer serves [alpha]"
lib_through "$beta" --tls || bad "the service added by the last reload does not work"
kill -0 "$pid" 2>/dev/null || bad "the daemon died"
[ $fail = 0 ] || grep -v 'LOG[67]' "$log" | tail -n 20
exit $fail
