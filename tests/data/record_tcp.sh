#!/usr/bin/env bash
# Record the TCP-analysis captures (tcp-lossy.pcap, tcp-keepalive.pcap) from real kernel TCP
# stacks talking inside network namespaces created (and destroyed) by this script.
#
#   sudo tests/data/record_tcp.sh                  # both
#   sudo tests/data/record_tcp.sh lossy            # one section: lossy | keepalive
#
# Topology (all inside private namespaces, 10.88.0.0/24 only, nothing leaves them):
#
#   lt-a (client) a0 10.88.0.1/25 <-veth-> r0 10.88.0.2/25 | lt-r (router) | r1 10.88.0.129/25
#        <-veth-> b0 10.88.0.130/25 lt-b (server)
#
# The router exists so that losses are real: an nft rule in lt-r's forward chain drops ~5% of the
# packets (`numgen random mod 100 < 5 drop`; no netem in this kernel). A drop in the sender's own
# OUTPUT hook is reported back to its TCP stack, which then simply retries (no real loss), and a
# drop in the receiver's INPUT hook happens after tcpdump has seen the packet. Capturing on a0 in
# the client namespace therefore shows a real lossy link: gaps, duplicate ACKs with SACK, fast and
# timeout retransmissions, out-of-order arrivals.
# Offloads are switched off (ethtool) so segments are MSS-sized and checksums are complete.
# Needs: iproute2, nftables, tcpdump, python3 (stdlib only), ethtool (optional).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$HERE"
PY=/usr/bin/python3
[ -x "$PY" ] || PY="$(command -v python3)"
NS_A=lt-a
NS_R=lt-r
NS_B=lt-b

if [ "$(id -u)" != 0 ]; then echo "record_tcp.sh: must run as root (network namespaces)" >&2; exit 1; fi

TMP="$(mktemp -d /tmp/layerscope-record-tcp.XXXXXX)"
PIDS=()
CAP_PID=""

log() { printf '\n=== %s\n' "$*" >&2; }

del_ns() {
    local ns pid
    for ns in "$NS_A" "$NS_R" "$NS_B"; do
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
inR() { ip netns exec "$NS_R" "$@"; }
inB() { ip netns exec "$NS_B" "$@"; }

nooffload() {  # NS IFACE
    if command -v ethtool >/dev/null; then
        ip netns exec "$1" ethtool -K "$2" rx off tx off sg off tso off gso off gro off >/dev/null 2>&1 || true
    else
        ip netns exec "$1" ip link set dev "$2" gso_max_segs 1 2>/dev/null || true
    fi
}

setup() {
    del_ns
    ip netns add "$NS_A"; ip netns add "$NS_R"; ip netns add "$NS_B"
    ip link add a0 address 02:88:00:00:00:0a netns "$NS_A" type veth peer name r0 address 02:88:00:00:00:01 netns "$NS_R"
    ip link add b0 address 02:88:00:00:00:0b netns "$NS_B" type veth peer name r1 address 02:88:00:00:00:02 netns "$NS_R"
    local ns
    for ns in "$NS_A" "$NS_R" "$NS_B"; do
        ip netns exec "$ns" ip link set lo up
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    done
    nooffload "$NS_A" a0; nooffload "$NS_R" r0; nooffload "$NS_R" r1; nooffload "$NS_B" b0
    inA ip addr add 10.88.0.1/25 dev a0
    inR ip addr add 10.88.0.2/25 dev r0
    inR ip addr add 10.88.0.129/25 dev r1
    inB ip addr add 10.88.0.130/25 dev b0
    inA ip link set a0 up; inR ip link set r0 up; inR ip link set r1 up; inB ip link set b0 up
    inR sysctl -qw net.ipv4.ip_forward=1
    inA ip route add default via 10.88.0.2
    inB ip route add default via 10.88.0.129
    sleep 0.3
    # Warm the neighbour caches so the captures hold TCP only.
    inA ping -n -q -c 1 -W 2 10.88.0.130 >/dev/null
}

cap_start() {  # OUT [filter]
    rm -f "$1"
    : > "$TMP/cap.err"
    ip netns exec "$NS_A" tcpdump -Z root -i a0 -U -n -s 0 -w "$1" tcp 2>"$TMP/cap.err" &
    CAP_PID=$!; PIDS+=("$CAP_PID")
    local i
    for ((i = 0; i < 100; i++)); do grep -q "listening on" "$TMP/cap.err" && break; sleep 0.1; done
    sleep 0.3
}
cap_stop() {
    sleep "${1:-0.7}"
    kill -INT "$CAP_PID" 2>/dev/null || true
    wait "$CAP_PID" 2>/dev/null || true
    cat "$TMP/cap.err" >&2 || true
}

write_helpers() {
    # Serves N bytes of deterministic data to each client, then closes (FIN after the data).
    cat > "$TMP/blob_server.py" <<'EOF'
import socket, sys
addr, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
blob = bytes((i * 7 + i // 251) & 0xFF for i in range(size))
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((addr, port)); srv.listen(4)
while True:
    conn, _ = srv.accept()
    conn.recv(100)
    conn.sendall(blob)
    conn.shutdown(socket.SHUT_WR)
    while conn.recv(65536):
        pass
    conn.close()
EOF
    cat > "$TMP/blob_client.py" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
s.sendall(b"GET\n")
total = 0
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    total += len(chunk)
s.close()
print("received", total, file=sys.stderr)
EOF
    # Three requests on one HTTP/1.1 keep-alive connection.
    cat > "$TMP/httpd.py" <<'EOF'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = (self.path * 40 + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
EOF
    cat > "$TMP/http_client.py" <<'EOF'
import http.client, sys
c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=10)
for path in ("/one", "/two", "/three"):
    c.request("GET", path)
    c.getresponse().read()
c.close()
EOF
    # An idle connection with TCP keepalive probes every second after 1 s of idleness.
    cat > "$TMP/idle_server.py" <<'EOF'
import socket, sys
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((sys.argv[1], int(sys.argv[2]))); srv.listen(1)
conn, _ = srv.accept()
while conn.recv(4096):
    pass
conn.close()
EOF
    cat > "$TMP/keepalive_client.py" <<'EOF'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
s.connect((sys.argv[1], int(sys.argv[2])))
s.sendall(b"hello\n")
time.sleep(4)
s.close()
EOF
    # A receiver with a tiny buffer that stops reading for 3 s: zero window, probes, update.
    cat > "$TMP/slow_server.py" <<'EOF'
import socket, sys, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
srv.bind((sys.argv[1], int(sys.argv[2]))); srv.listen(1)
conn, _ = srv.accept()
time.sleep(3)
while conn.recv(512):
    time.sleep(0.01)
conn.close()
EOF
    cat > "$TMP/fast_client.py" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
s.sendall(bytes(range(256)) * 120)
s.shutdown(socket.SHUT_WR)
while s.recv(4096):
    pass
s.close()
EOF
}

wait_port() {  # NS ADDR PORT: poll without connecting (ss), so no stray connection is made
    local i
    for ((i = 0; i < 50; i++)); do
        ip netns exec "$1" ss -ltnH "src $2:$3" | grep -q . && return 0
        sleep 0.1
    done
    return 1
}

rec_lossy() {
    log "tcp-lossy.pcap"
    setup
    inB "$PY" "$TMP/blob_server.py" 10.88.0.130 5201 1000000 & PIDS+=($!)
    wait_port "$NS_B" 10.88.0.130 5201
    inR nft add table inet t
    inR nft add chain inet t lossy '{ type filter hook forward priority 0; }'
    inR nft add rule inet t lossy numgen random mod 100 '<' 5 drop
    cap_start "$OUT/tcp-lossy.pcap"
    inA "$PY" "$TMP/blob_client.py" 10.88.0.130 5201
    cap_stop 1
}

rec_keepalive() {
    log "tcp-keepalive.pcap"
    setup
    inB "$PY" "$TMP/httpd.py" 10.88.0.130 8000 & PIDS+=($!)
    inB "$PY" "$TMP/idle_server.py" 10.88.0.130 8001 & PIDS+=($!)
    inB "$PY" "$TMP/slow_server.py" 10.88.0.130 8002 & PIDS+=($!)
    wait_port "$NS_B" 10.88.0.130 8000
    wait_port "$NS_B" 10.88.0.130 8001
    wait_port "$NS_B" 10.88.0.130 8002
    cap_start "$OUT/tcp-keepalive.pcap"
    inA "$PY" "$TMP/http_client.py" 10.88.0.130 8000
    inA "$PY" "$TMP/keepalive_client.py" 10.88.0.130 8001
    inA "$PY" "$TMP/fast_client.py" 10.88.0.130 8002
    cap_stop 1
}

write_helpers
sections=("$@")
[ ${#sections[@]} -eq 0 ] && sections=(lossy keepalive)
for s in "${sections[@]}"; do
    case "$s" in
        lossy) rec_lossy ;;
        keepalive) rec_keepalive ;;
        *) echo "unknown section $s" >&2; exit 2 ;;
    esac
done
