#!/bin/bash
# TLS posture of a server section with default settings (only "cert ="),
# as Debian's testssl.sh sees it. The scan (protocols, standard cipher
# categories, renegotiation: -p -s -R) runs in a network namespace of its
# own, so that it can reach nothing but this daemon on loopback (no DNS:
# --nodns none, and NXCONNECT keeps its capability probes of openssl off
# the resolver). Its JSON findings must say, by id:
#   SSLv2, SSLv3, TLS1, TLS1_1                 "not offered"
#   TLS1_2 or TLS1_3                           offered (the scan worked)
#   cipherlist_NULL, cipherlist_aNULL,
#   cipherlist_EXPORT, cipherlist_LOW (64-bit,
#   DES, RC2, RC4), cipherlist_3DES_IDEA       "not offered"
#   secure_renego                              "supported" (no insecure
#                                              renegotiation)
# and every other finding's severity must be below MEDIUM. The findings
# are printed, secure_client_renego (client-initiated renegotiation) and
# cipherlist_AVERAGE (CBC suites) among them. testssl needs some 15 s of
# its own to start. DAEMON=/usr/bin/stunnel4 runs the same scan on
# Debian's stunnel.
. "$(dirname "$0")/lib.sh"
lib_find_stunnel || { echo "SKIP: src/stunnel not built"; exit $SKIP; }
command -v testssl >/dev/null 2>&1 || { echo "SKIP: testssl (Debian's testssl.sh) not installed"; exit $SKIP; }
if [ -z "${IN_NETNS:-}" ]; then
    unshare --net true 2>/dev/null || { echo "SKIP: cannot make a network namespace"; exit $SKIP; }
    IN_NETNS=1 exec unshare --net bash -c 'ip link set lo up 2>/dev/null || ifconfig lo up; exec bash "$0" "$@"' "$(readlink -f "$0")" "$@"
fi
lib_mktemp
lib_make_certs "$TEST_TMP/certs" || { echo "FAIL: certificates"; exit 1; }
T=$TEST_TMP

# an HTTP backend: testssl recognises the service at once (an unknown one
# costs it a timeout)
mkdir "$T/www" && echo hello >"$T/www/index.html"
lib_peer http http "$T/www" || exit 1
cat >"$T/s.conf" <<EOF
foreground = yes
syslog = no
debug = info
pid =
[tls]
accept = 127.0.0.1:0
connect = 127.0.0.1:$PEER_PORT
cert = $T/certs/server.pem
EOF
lib_daemon d "$T/s.conf" || exit 1
port=$(lib_port d tls)

NXCONNECT=127.0.0.1:0 timeout 600 testssl --quiet --warnings off --color 0 \
    --nodns none --jsonfile "$T/scan.json" -p -s -R "127.0.0.1:$port" \
    >"$T/scan.txt" 2>&1
rc=$?
[ -s "$T/scan.json" ] || { echo "FAIL: testssl wrote no findings (status $rc)"; cat "$T/scan.txt"; exit 1; }

python3 - "$T/scan.json" <<'EOF' || fail=1
import json, sys

findings = {f["id"]: f for f in json.load(open(sys.argv[1]))}
bad = []

def finding(fid):
    f = findings.get(fid)
    if f is None:
        bad.append("%s: no finding (the scan did not run it)" % fid)
        return ""
    return f["finding"]

for fid in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "cipherlist_NULL",
            "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW",
            "cipherlist_3DES_IDEA"):
    text = finding(fid)
    if text and not text.startswith("not offered"):
        bad.append("%s: %s" % (fid, text))
if not any(finding(fid).startswith("offered") for fid in ("TLS1_2", "TLS1_3")):
    bad.append("neither TLS 1.2 nor TLS 1.3 offered: the scan failed")
text = finding("secure_renego")
if text and text != "supported":
    bad.append("secure_renego: %s" % text)
finding("secure_client_renego")
named = {b.split(":")[0] for b in bad}
for f in findings.values():
    if f["id"] not in named and f["severity"] in ("MEDIUM", "HIGH", "CRITICAL", "WARN", "FATAL"):
        bad.append("%s (%s): %s" % (f["id"], f["severity"], f["finding"]))
for f in findings.values():
    print("%-22s %-8s %s" % (f["id"], f["severity"], f["finding"]))
for b in sorted(set(bad)):
    print("FAIL: %s" % b)
sys.exit(1 if bad else 0)
EOF
[ $fail = 0 ] || sed -n '/Testing/,$p' "$T/scan.txt"
exit $fail
