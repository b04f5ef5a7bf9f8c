#!/bin/bash
# A demonstration run from the build tree: makes a throwaway certificate,
# writes a server-mode configuration in front of a small local service,
# and loads it with the freshly built daemon.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/stunnel-demo.XXXXXX")
trap 'rm -rf "$dir"' EXIT

"$top/tools/makecert.sh" "$dir/demo.pem" localhost >/dev/null
cat >"$dir/demo.conf" <<CONF
; demonstration: TLS on 127.0.0.1:8443 in front of a plain service on 8080
foreground = yes
syslog = no
debug = info

[demo]
accept = 127.0.0.1:8443
connect = 127.0.0.1:8080
cert = $dir/demo.pem
CONF
echo "--- $dir/demo.conf"
cat "$dir/demo.conf"
echo "--- $top/src/stunnel $dir/demo.conf"
"$top/src/stunnel" "$dir/demo.conf"
