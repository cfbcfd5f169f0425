#!/usr/bin/env bash
# Record tests/data/http-nginx.pcap: real nginx (gzip, chunked with trailers, pipelining, 404,
# keep-alive, a ~300 KB download, a ~1 MB header line) inside network namespaces this script
# creates and always removes.
#
#   sudo tests/data/record_http.sh
#
# Safety: all traffic stays inside two private namespaces (lsn-a client, lsn-b server) joined by
# one veth pair addressed 10.99.0.0/24. nginx runs in the foreground with our own config whose
# pid file, logs and temp paths all live in a temp dir; nothing on the host is touched. A trap
# kills our processes and deletes the namespaces on any exit.
#
# Needs (Debian 12): nginx-light 1.22 (gzip, gzip_static, add_trailer), tcpdump 4.99,
# curl 7.88, iproute2, ethtool (to switch off veth offloads), python3 (stdlib only).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$HERE/http-nginx.pcap"
PY=/usr/bin/python3
[ -x "$PY" ] || PY="$(command -v python3)"
NS_A=lsn-a
NS_B=lsn-b

if [ "$(id -u)" != 0 ]; then echo "record_http.sh: must run as root (network namespaces)" >&2; exit 1; fi

TMP="$(mktemp -d /tmp/layerscope-nginx.XXXXXX)"
chmod 755 "$TMP"
PIDS=()

del_ns() {
    local ns pid
    for ns in "$NS_A" "$NS_B"; do
        if ip netns list | grep -qw "$ns"; then
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
        fi
    done
    sleep 0.2
    for ns in "$NS_A" "$NS_B"; do
        if ip netns list | grep -qw "$ns"; then
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
            ip netns del "$ns" 2>/dev/null || true
        fi
    done
}
cleanup() {
    local rc=$? p
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    del_ns
    rm -rf "$TMP"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

inA() { ip netns exec "$NS_A" "$@"; }
inB() { ip netns exec "$NS_B" "$@"; }

# ---------------------------------------------------------------- topology
del_ns
ip netns add "$NS_A"; ip netns add "$NS_B"
ip link add na0 address 02:99:00:00:00:0a netns "$NS_A" type veth peer name nb0 address 02:99:00:00:00:0b netns "$NS_B"
for ns in "$NS_A" "$NS_B"; do
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
done
inA sysctl -qw net.ipv6.conf.na0.disable_ipv6=1; inB sysctl -qw net.ipv6.conf.nb0.disable_ipv6=1
# Wire-like frames: complete checksums, MSS-sized segments.
inA ethtool -K na0 rx off tx off sg off tso off gso off gro off >/dev/null 2>&1 || true
inB ethtool -K nb0 rx off tx off sg off tso off gso off gro off >/dev/null 2>&1 || true
inA ip addr add 10.99.0.1/24 dev na0
inB ip addr add 10.99.0.2/24 dev nb0
inA ip link set na0 up; inB ip link set nb0 up
sleep 0.3

# ---------------------------------------------------------------- content and nginx
mkdir -p "$TMP/www/static" "$TMP/www/trailer" "$TMP/logs" "$TMP/tmp"
"$PY" - "$TMP/www" <<'EOF'
import gzip, hashlib, json, sys
www = sys.argv[1]
lines = [f"line {i:03d}: the Layerscope lab nginx serves compressible text.\n" for i in range(60)]
open(f"{www}/hello.txt", "w").write("".join(lines))
open(f"{www}/data.json", "w").write(json.dumps({"items": [{"id": i, "name": f"item-{i}"} for i in range(40)]}) + "\n")
open(f"{www}/a.txt", "w").write("first pipelined resource\n")
open(f"{www}/b.txt", "w").write("second pipelined resource, same TCP connection\n")
open(f"{www}/trailer/t.txt", "w").write("a static file sent chunked because a trailer follows\n" * 5)
page = "".join(f"precompressed line {i}\n" for i in range(50)).encode()
open(f"{www}/static/page.txt", "wb").write(page)
open(f"{www}/static/page.txt.gz", "wb").write(gzip.compress(page, mtime=0))
big = bytearray()
i = 0
while len(big) < 300 * 1024:  # deterministic, incompressible-looking
    big += hashlib.sha256(b"layerscope-nginx-%d" % i).digest(); i += 1
open(f"{www}/big.bin", "wb").write(big[:300 * 1024])
EOF
cat > "$TMP/nginx.conf" <<EOF
worker_processes 1;
pid $TMP/nginx.pid;
error_log $TMP/logs/error.log info;
events { worker_connections 64; }
http {
    access_log $TMP/logs/access.log;
    client_body_temp_path $TMP/tmp/body;
    proxy_temp_path $TMP/tmp/proxy;
    fastcgi_temp_path $TMP/tmp/fastcgi;
    uwsgi_temp_path $TMP/tmp/uwsgi;
    scgi_temp_path $TMP/tmp/scgi;
    types { text/plain txt; application/json json; application/octet-stream bin; text/html html; }
    default_type application/octet-stream;
    server_tokens on;
    keepalive_timeout 10;
    gzip on;
    gzip_min_length 0;
    gzip_types text/plain application/json;
    server {
        listen 10.99.0.2:80;
        root $TMP/www;
        location /static/ { gzip_static on; }
        location /trailer/ { gzip off; add_trailer X-Layerscope-Trailer "done" always; }
    }
}
EOF
ip netns exec "$NS_B" nginx -c "$TMP/nginx.conf" -p "$TMP" -g 'daemon off;' &
PIDS+=($!)
for _ in $(seq 50); do inA "$PY" -c 'import socket; socket.create_connection(("10.99.0.2", 80), 0.2).close()' 2>/dev/null && break; sleep 0.1; done

# Raw-socket clients: pipelining and the oversized header line (curl cannot send either).
cat > "$TMP/client.py" <<'EOF'
import socket, sys, time
mode = sys.argv[1]
s = socket.create_connection(("10.99.0.2", 80), 3)
if mode == "pipeline":
    s.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /b.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
else:
    try:
        s.sendall(b"GET /big-header HTTP/1.1\r\nHost: x\r\nX-Huge: " + b"h" * (1024 * 1024) + b"\r\n\r\n")
    except OSError:
        pass
try:
    while s.recv(65536):
        pass
except OSError:
    pass
sys.stderr.write(f"client {mode}: done\n")
s.close()
EOF

# ---------------------------------------------------------------- the capture
rm -f "$OUT"
inA ip neigh flush all; inB ip neigh flush all
ip netns exec "$NS_A" tcpdump -Z root -i na0 -U -n -s 0 -w "$OUT" 2>"$TMP/cap.err" &
CAP=$!; PIDS+=("$CAP")
for _ in $(seq 100); do grep -q "listening on" "$TMP/cap.err" && break; sleep 0.1; done
sleep 0.3
U=http://10.99.0.2
inA curl -sS -o /dev/null -H 'Accept-Encoding: gzip' "$U/hello.txt"        # gzip, chunked
sleep 0.3
inA curl -sS -o /dev/null -H 'Accept-Encoding: gzip' "$U/data.json"        # gzip JSON, chunked
sleep 0.3
inA curl -sS -o /dev/null -H 'Accept-Encoding: gzip' "$U/static/page.txt"  # gzip, Content-Length
sleep 0.3
inA curl -sS -o /dev/null "$U/trailer/t.txt"                              # chunked + trailer
sleep 0.3
inA "$PY" "$TMP/client.py" pipeline                                       # two requests, one segment
sleep 0.3
inA curl -sS -o /dev/null "$U/no-such-page"                               # 404
sleep 0.3
inA curl -sS -o /dev/null -o /dev/null "$U/a.txt" "$U/b.txt"              # keep-alive
sleep 0.3
inA curl -sS -o /dev/null "$U/big.bin"                                    # ~300 KB
sleep 0.3
inA "$PY" "$TMP/client.py" bigheader                                      # ~1 MB header -> 400
sleep 1.5
# SIGTERM, not SIGINT: a background job of a non-interactive shell ignores SIGINT.
kill -TERM "$CAP" 2>/dev/null || true
wait "$CAP" 2>/dev/null || true
cat "$TMP/cap.err" >&2
chmod 644 "$OUT"
ls -l "$OUT" >&2
