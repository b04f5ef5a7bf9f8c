#!/bin/bash
# A demonstration run from the build tree: makes a throwaway certificate,
# starts a small local web server on 127.0.0.1, puts the freshly built
# daemon in server mode in front of it, and fetches a page through the
# TLS tunnel with curl. Everything it starts is stopped again.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/stunnel-demo.XXXXXX")
pids=()
cleanup() {
	kill "${pids[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

"$top/tools/makecert.sh" "$dir/demo.pem" localhost >/dev/null
echo "Hello through the TLS tunnel" >"$dir/index.html"
web=$(free_port)
tls=$(free_port)
(cd "$dir" && exec python3 -m http.server --bind 127.0.0.1 "$web") >/dev/null 2>&1 &
pids+=($!)
cat >"$dir/demo.conf" <<CONF
; demonstration: TLS on 127.0.0.1:$tls in front of a web server on $web
foreground = yes
syslog = no
debug = info

[demo]
accept = 127.0.0.1:$tls
connect = 127.0.0.1:$web
cert = $dir/demo.pem
CONF
echo "--- $dir/demo.conf"
cat "$dir/demo.conf"
echo "--- $top/src/stunnel $dir/demo.conf"
"$top/src/stunnel" "$dir/demo.conf" &
pids+=($!)
for _ in $(seq 50); do
	curl -s -o /dev/null "http://127.0.0.1:$web/" && break
	sleep 0.1
done
sleep 0.5
echo "--- curl --cacert demo.pem https://localhost:$tls/"
curl -sS --cacert "$dir/demo.pem" "https://localhost:$tls/"
sleep 0.3
