#!/usr/bin/env bash
# Record Layerscope's real test captures from real peers talking inside network
# namespaces created (and destroyed) by this script.
#
#   sudo tests/data/record.sh            # record everything
#   sudo tests/data/record.sh http dns   # only some sections
#
# Sections: http dns dhcp icmp frag ipv6 tcprst vlan sll nano pcapng sample variants
#
# Safety: all traffic stays inside private namespaces (ls-a, ls-b, ls-c) joined by
# veth pairs, addressed 10.77.0.0/24, 10.77.1.0/24 and fd77::/64. The host's
# interfaces, routes and /etc/resolv.conf are never touched: dhclient always runs
# with our own -sf script and -pf/-lf/-cf files in a temp dir; dnsmasq always runs
# with --no-resolv --no-hosts --conf-file=/dev/null in the foreground.
# Idempotent: every run recreates the namespaces from scratch and overwrites
# the outputs; a trap removes namespaces and kills our processes on any exit.
#
# Needs (Debian 12): tshark/dumpcap/editcap 4.0, tcpdump 4.99, dnsmasq 2.90,
# isc-dhcp-client 4.4, curl 7.88, dnsutils (dig), iproute2, nftables, iputils-ping,
# python3 (stdlib only), ethtool (optional, to switch off veth offloads).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$HERE"
SAMPLES="$REPO/captures/samples"
PY=/usr/bin/python3
[ -x "$PY" ] || PY="$(command -v python3)"

NS_A=ls-a      # client
NS_B=ls-b      # server / router
NS_C=ls-c      # far host behind ls-b (icmp section only)
MAC_A=02:77:00:00:00:0a
MAC_B=02:77:00:00:00:0b
MAC_B1=02:77:00:00:01:0b
MAC_C=02:77:00:00:01:0c

if [ "$(id -u)" != 0 ]; then echo "record.sh: must run as root (network namespaces)" >&2; exit 1; fi

TMP="$(mktemp -d /tmp/layerscope-record.XXXXXX)"
PIDS=()

log() { printf '\n=== %s\n' "$*" >&2; }

kill_ns_procs() {
    local ns pid
    for ns in "$NS_A" "$NS_B" "$NS_C"; do
        if ip netns list | grep -qw "$ns"; then
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
        fi
    done
}

del_ns() {
    local ns
    kill_ns_procs
    sleep 0.2
    for ns in "$NS_A" "$NS_B" "$NS_C"; do
        if ip netns list | grep -qw "$ns"; then
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
            ip netns del "$ns" 2>/dev/null || true
        fi
    done
}

cleanup() {
    local rc=$?
    local p
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    del_ns
    rm -rf "$TMP"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

inA() { ip netns exec "$NS_A" "$@"; }
inB() { ip netns exec "$NS_B" "$@"; }
inC() { ip netns exec "$NS_C" "$@"; }

# ---------------------------------------------------------------- topology
# Wire-like frames: turn off veth checksum offload, TSO/GSO/GRO so captured TCP/UDP
# checksums are complete and segments are MSS-sized (needs ethtool; if missing we
# fall back to gso_max_segs=1, which fixes segment sizes but not checksums).
nooffload() {  # NS IFACE
    if command -v ethtool >/dev/null; then
        ip netns exec "$1" ethtool -K "$2" rx off tx off sg off tso off gso off gro off >/dev/null 2>&1 || true
    else
        ip netns exec "$1" ip link set dev "$2" gso_max_segs 1 2>/dev/null || true
    fi
}
# setup_pair [v6]: ls-a(a0 10.77.0.1) <-veth-> ls-b(b0 10.77.0.2); IPv6 only with "v6".
setup_pair() {
    local v6="${1:-}"
    del_ns
    ip netns add "$NS_A"; ip netns add "$NS_B"
    ip link add a0 address "$MAC_A" netns "$NS_A" type veth peer name b0 address "$MAC_B" netns "$NS_B"
    local ns ifc
    for ns in "$NS_A" "$NS_B"; do
        ip netns exec "$ns" ip link set lo up
        ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0
        if [ "$v6" != v6 ]; then
            ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
            ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
        else
            ip netns exec "$ns" sysctl -qw net.ipv6.icmp.ratelimit=0
        fi
    done
    [ "$v6" != v6 ] && { inA sysctl -qw net.ipv6.conf.a0.disable_ipv6=1; inB sysctl -qw net.ipv6.conf.b0.disable_ipv6=1; }
    nooffload "$NS_A" a0; nooffload "$NS_B" b0
    if [ "${NOADDR_A:-}" != 1 ]; then inA ip addr add 10.77.0.1/24 dev a0; fi
    inB ip addr add 10.77.0.2/24 dev b0
    inA ip link set a0 up
    inB ip link set b0 up
    sleep 0.3
    inA ip neigh flush all; inB ip neigh flush all
}

# setup_three: ls-a(10.77.0.1) -- ls-b(10.77.0.2 | 10.77.1.1, forwarding) -- ls-c(10.77.1.2)
setup_three() {
    setup_pair
    ip netns add "$NS_C"
    ip link add b1 address "$MAC_B1" netns "$NS_B" type veth peer name c0 address "$MAC_C" netns "$NS_C"
    inC ip link set lo up
    inC sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    inC sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    inC sysctl -qw net.ipv6.conf.c0.disable_ipv6=1
    inB sysctl -qw net.ipv6.conf.b1.disable_ipv6=1
    nooffload "$NS_B" b1; nooffload "$NS_C" c0
    inB ip addr add 10.77.1.1/24 dev b1
    inC ip addr add 10.77.1.2/24 dev c0
    inB ip link set b1 up; inC ip link set c0 up
    inB sysctl -qw net.ipv4.ip_forward=1
    inA ip route add 10.77.1.0/24 via 10.77.0.2
    inC ip route add default via 10.77.1.1
    sleep 0.3
    inA ip neigh flush all; inB ip neigh flush all; inC ip neigh flush all
}

# ---------------------------------------------------------------- capture helpers
# cap_start NS IFACE FILE [extra tcpdump args]   (classic pcap via tcpdump)
cap_start() {
    local ns=$1 ifc=$2 out=$3; shift 3
    rm -f "$out"
    : > "$TMP/cap.err"
    ip netns exec "$ns" tcpdump -Z root -i "$ifc" -U -n -s 0 -w "$out" "$@" 2>"$TMP/cap.err" &
    CAP_PID=$!; PIDS+=("$CAP_PID")
    wait_for_text "$TMP/cap.err" "listening on" 10
    sleep 0.3
}
# dumpcap_start NS FILE [dumpcap args: -i ...]   (pcapng via dumpcap)
dumpcap_start() {
    local ns=$1 out=$2; shift 2
    rm -f "$out"
    : > "$TMP/cap.err"
    ip netns exec "$ns" dumpcap "$@" -w "$out" 2>"$TMP/cap.err" &
    CAP_PID=$!; PIDS+=("$CAP_PID")
    wait_for_text "$TMP/cap.err" "Capturing on" 10
    sleep 0.5
}
cap_stop() {
    sleep "${1:-0.7}"
    kill -INT "$CAP_PID" 2>/dev/null || true
    wait "$CAP_PID" 2>/dev/null || true
    cat "$TMP/cap.err" >&2 || true
}
wait_for_text() {   # FILE TEXT TIMEOUT_S
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "timeout waiting for '$2' in $1:" >&2; cat "$1" >&2; return 1
}
wait_port() {  # NS ADDR PORT
    local i
    for ((i = 0; i < 50; i++)); do
        ip netns exec "$1" "$PY" - "$2" "$3" <<'EOF' 2>/dev/null && return 0
import socket, sys
a, p = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET)
s.settimeout(0.2); s.connect((a, p)); s.close()
EOF
        sleep 0.1
    done
    return 1
}

# ---------------------------------------------------------------- helpers run inside namespaces
write_helpers() {
    mkdir -p "$TMP/www"
    printf 'Hello from the Layerscope lab server.\n' > "$TMP/www/hello.txt"
    printf 'first keep-alive resource\n' > "$TMP/www/a.txt"
    printf 'second keep-alive resource, same TCP connection\n' > "$TMP/www/b.txt"
    printf '<!doctype html>\n<html><head><title>lab.test</title></head><body><h1>It works</h1></body></html>\n' > "$TMP/www/index.html"
    # ~200 KB deterministic, incompressible-looking body
    "$PY" - "$TMP/www/big.bin" <<'EOF'
import hashlib, sys
out = bytearray()
i = 0
while len(out) < 200 * 1024:
    out += hashlib.sha256(b"layerscope-%d" % i).digest(); i += 1
open(sys.argv[1], "wb").write(out[:200 * 1024])
EOF
    # HTTP/1.1 server with keep-alive and a POST handler (stdlib http.server)
    cat > "$TMP/httpd.py" <<'EOF'
import http.server, socket, sys, json
class H(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "LabHTTP/1.0"
    sys_version = ""
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        out = json.dumps({"path": self.path, "received": body.decode("latin-1")}).encode() + b"\n"
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    def log_message(self, *a):
        pass
class S(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
    def server_bind(self):
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()
import os
os.chdir(sys.argv[3])
S((sys.argv[1], int(sys.argv[2])), H).serve_forever()
EOF
    # UDP sender: udpsend.py ADDR PORT SIZE
    cat > "$TMP/udpsend.py" <<'EOF'
import socket, sys
a, p, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
payload = (b"layerscope-udp-" * (n // 15 + 1))[:n]
s.sendto(payload, (a, p))
s.settimeout(1.5)
try:
    s.recv(65535)
except OSError:
    pass
EOF
    # UDP echo server: udpecho.py ADDR PORT
    cat > "$TMP/udpecho.py" <<'EOF'
import socket, sys
a, p = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((a, p))
while True:
    d, peer = s.recvfrom(65535)
    s.sendto(d, peer)
EOF
    # TCP sink: accepts, reads and echoes a greeting, never closes first
    cat > "$TMP/tcpsink.py" <<'EOF'
import socket, sys, threading
a, p = sys.argv[1], int(sys.argv[2])
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((a, p)); ls.listen()
def serve(c):
    try:
        while True:
            d = c.recv(4096)
            if not d:
                break
            c.sendall(b"ack " + d)
    except OSError:
        pass
    c.close()
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
    # TCP client that aborts with RST (SO_LINGER 0)
    cat > "$TMP/tcpabort.py" <<'EOF'
import socket, struct, sys, time
a, p = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((a, p))
s.sendall(b"hello, this stream will be reset\n")
print(s.recv(4096))
time.sleep(0.2)
s.sendall(b"second line, then abort\n")
time.sleep(0.2)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
EOF
    # dhclient hook: only sets/removes the address inside the namespace. Never resolv.conf.
    cat > "$TMP/dhclient-script" <<'EOF'
#!/bin/sh
echo "dhclient-script: reason=$reason ip=$new_ip_address mask=$new_subnet_mask" >&2
case "$reason" in
  PREINIT) ip link set dev "$interface" up ;;
  BOUND|RENEW|REBIND|REBOOT)
    ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
  EXPIRE|FAIL|RELEASE|STOP)
    [ -n "$old_ip_address" ] && ip addr del "$old_ip_address/$old_subnet_mask" dev "$interface" 2>/dev/null ;;
esac
exit 0
EOF
    chmod +x "$TMP/dhclient-script"
    cat > "$TMP/dhclient.conf" <<'EOF'
send host-name "labclient";
send dhcp-client-identifier 1:02:77:00:00:00:0a;
request subnet-mask, broadcast-address, time-offset, routers,
        domain-name, domain-name-servers, domain-search, host-name,
        interface-mtu, ntp-servers, dhcp-renewal-time, dhcp-rebinding-time;
timeout 20;
retry 5;
EOF
}

start_httpd() {  # NS ADDR
    ip netns exec "$1" "$PY" "$TMP/httpd.py" "$2" 8000 "$TMP/www" &
    PIDS+=($!)
    wait_port "$1" "$2" 8000
}

DNSMASQ_ZONE=(
    --domain=lab.test --local=/lab.test/ --local=/77.10.in-addr.arpa/
    --host-record=www.lab.test,10.77.0.80,fd77::80
    --host-record=mail.lab.test,10.77.0.25
    --host-record=ns.lab.test,10.77.0.2
    --cname=web.lab.test,www.lab.test
    --mx-host=lab.test,mail.lab.test,10
    --txt-record=lab.test,"v=spf1 mx -all","layerscope test zone"
    --srv-host=_http._tcp.lab.test,www.lab.test,8000,0,10
    --ptr-record=2.0.77.10.in-addr.arpa,ns.lab.test
    --address=/example.test/10.77.0.99
)

start_dnsmasq() {  # extra args...
    inB dnsmasq --keep-in-foreground --log-queries --log-facility=- \
        --no-resolv --no-hosts --conf-file=/dev/null --pid-file="$TMP/dnsmasq.pid" \
        --interface=b0 --bind-interfaces --except-interface=lo \
        "${DNSMASQ_ZONE[@]}" "$@" 2>"$TMP/dnsmasq.log" &
    PIDS+=($!)
    sleep 1
}

dhclient_run() {  # extra dhclient args
    inA dhclient -4 -v -sf "$TMP/dhclient-script" -pf "$TMP/dhclient.pid" \
        -lf "$TMP/dhclient.leases" -cf "$TMP/dhclient.conf" "$@" a0
}

DIG=(dig @10.77.0.2 +tries=1 +time=2)

# ---------------------------------------------------------------- sections
rec_http() {
    log "http.pcap"
    setup_pair
    start_httpd "$NS_B" 10.77.0.2
    inA ip neigh flush all; inB ip neigh flush all
    cap_start "$NS_A" a0 "$OUT/http.pcap"
    local U=http://10.77.0.2:8000
    inA curl -sS -o /dev/null "$U/hello.txt"
    sleep 0.3
    inA curl -sS -o /dev/null "$U/no-such-page"
    sleep 0.3
    inA curl -sS -o /dev/null --data 'name=layerscope&msg=hello+world' "$U/submit"
    sleep 0.3
    inA curl -sS -o /dev/null -o /dev/null "$U/a.txt" "$U/b.txt"    # keep-alive: one connection
    sleep 0.3
    inA curl -sS -o /dev/null "$U/big.bin"
    cap_stop 1
}

rec_dns() {
    log "dns.pcap"
    setup_pair
    start_dnsmasq --port=53
    cap_start "$NS_A" a0 "$OUT/dns.pcap"
    inA "${DIG[@]}" www.lab.test A            || true
    inA "${DIG[@]}" www.lab.test AAAA         || true
    inA "${DIG[@]}" lab.test MX               || true
    inA "${DIG[@]}" lab.test TXT              || true
    inA "${DIG[@]}" _http._tcp.lab.test SRV   || true
    inA "${DIG[@]}" -x 10.77.0.80             || true   # PTR from host-record
    inA "${DIG[@]}" -x 10.77.0.2              || true   # explicit ptr-record
    inA "${DIG[@]}" web.lab.test A            || true   # CNAME -> www
    inA "${DIG[@]}" nothere.lab.test A        || true   # NXDOMAIN (local zone)
    inA "${DIG[@]}" www.example.org A         || true   # no upstream -> REFUSED
    inA "${DIG[@]}" +tcp www.lab.test A       || true
    inA "${DIG[@]}" +tcp lab.test MX          || true
    inA "${DIG[@]}" +noedns host.example.test A || true
    cap_stop 1
}

rec_dhcp() {
    log "dhcp.pcap"
    NOADDR_A=1 setup_pair
    rm -f "$TMP"/dhclient.leases "$TMP"/dhclient.pid "$TMP"/dnsmasq.leases
    # 2-minute lease (dnsmasq minimum), T1=6s T2=100s so a real unicast RENEW happens quickly
    start_dnsmasq --port=0 --no-ping --dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,2m \
        --dhcp-option=option:router,10.77.0.2 --dhcp-option=option:dns-server,10.77.0.2 \
        --dhcp-option=option:T1,6s --dhcp-option=option:T2,100s \
        --dhcp-authoritative --dhcp-leasefile="$TMP/dnsmasq.leases"
    cap_start "$NS_B" b0 "$OUT/dhcp.pcap"
    # DORA, then stay in the foreground until the T1 renewal (unicast REQUEST/ACK)
    dhclient_run -d 2>"$TMP/dhclient.log" &
    local dpid=$!; PIDS+=("$dpid")
    wait_for_text "$TMP/dhclient.log" "bound to" 25
    wait_for_text "$TMP/dhclient.log" "DHCPREQUEST for .* on a0 to 10.77.0.2" 20
    sleep 1.5
    kill "$dpid" 2>/dev/null || true; wait "$dpid" 2>/dev/null || true
    cat "$TMP/dhclient.log" >&2
    # release (same -sf/-lf/-pf/-cf)
    dhclient_run -r 2>&1 | sed 's/^/  dhclient -r: /' >&2 || true
    cap_stop 1
    grep -E 'DHCP' "$TMP/dnsmasq.log" >&2 || true
}

rec_icmp() {
    log "icmp.pcap"
    setup_three
    cap_start "$NS_A" a0 "$OUT/icmp.pcap"
    inA ping -n -c 3 -i 0.2 10.77.0.2                         # echo request/reply x3
    inA "$PY" "$TMP/udpsend.py" 10.77.0.2 33433 32           # port unreachable
    inA ping -n -c 1 -t 1 -W 1 10.77.1.2 || true              # TTL exceeded at router ls-b
    inA ping -n -c 1 -W 1 10.77.1.2                           # routed echo, TTL 63 reply
    inA ping -n -c 1 -W 6 10.77.1.99 || true                  # host unreachable (ARP fails at ls-b)
    cap_stop 1
}

rec_frag() {
    log "frag.pcap"
    setup_pair
    inB "$PY" "$TMP/udpecho.py" 10.77.0.2 7007 & PIDS+=($!)
    sleep 0.5
    cap_start "$NS_A" a0 "$OUT/frag.pcap"
    inA ping -n -c 2 -i 0.3 -s 4000 10.77.0.2                # 3 fragments each way
    inA "$PY" "$TMP/udpsend.py" 10.77.0.2 7007 5000          # UDP 5000 B, echoed back
    inA ip link set a0 mtu 1280; inB ip link set b0 mtu 1280
    inA "$PY" "$TMP/udpsend.py" 10.77.0.2 7007 3000          # 1280-MTU fragments both ways
    cap_stop 1
}

rec_ipv6() {
    log "ipv6.pcap"
    setup_pair v6
    sleep 1.5   # let link-local DAD / router solicitation settle before capturing
    cap_start "$NS_A" a0 "$OUT/ipv6.pcap"
    # adding addresses joins solicited-node groups -> MLDv2 reports with a hop-by-hop header
    inA ip -6 addr add fd77::1/64 dev a0 nodad
    inB ip -6 addr add fd77::2/64 dev b0 nodad
    start_httpd "$NS_B" fd77::2 >/dev/null 2>&1 || true
    sleep 1
    inA ip -6 neigh flush all; inB ip -6 neigh flush all
    inA ping -6 -n -c 3 -i 0.2 fd77::2                        # NS/NA + echo
    inA curl -sS -g -o /dev/null "http://[fd77::2]:8000/hello.txt"
    inA ping -6 -n -c 2 -i 0.3 -s 4000 fd77::2                # fragment extension headers
    inA "$PY" "$TMP/udpsend.py" fd77::2 33433 40             # ICMPv6 port unreachable
    inA ping -6 -n -c 2 -i 0.3 -I a0 ff02::1 || true          # multicast echo
    cap_stop 1
}

rec_tcprst() {
    log "tcp-rst.pcap"
    setup_pair
    inB "$PY" "$TMP/tcpsink.py" 10.77.0.2 8080 & PIDS+=($!)
    wait_port "$NS_B" 10.77.0.2 8080
    inB nft add table inet lslab
    inB nft add chain inet lslab in '{ type filter hook input priority 0; }'
    inB nft add rule inet lslab in tcp dport 9999 drop
    inA ip neigh flush all; inB ip neigh flush all
    cap_start "$NS_A" a0 "$OUT/tcp-rst.pcap"
    inA curl -sS --connect-timeout 3 http://10.77.0.2:81/ || true      # SYN -> RST/ACK
    inA "$PY" "$TMP/tcpabort.py" 10.77.0.2 8080                        # data then RST (SO_LINGER 0)
    inA curl -sS --connect-timeout 3 http://10.77.0.2:9999/ || true    # SYN retransmissions, no answer
    cap_stop 1
}

small_exchange() {   # ping + one curl, used by sll/sll2/nano/pcapng sections
    inA ping -n -c 2 -i 0.2 10.77.0.2
    inA curl -sS -o /dev/null http://10.77.0.2:8000/hello.txt
}

rec_sll() {
    local dlt f
    for dlt in LINUX_SLL LINUX_SLL2; do
        f=sll.pcap; [ $dlt = LINUX_SLL2 ] && f=sll2.pcap
        log "$f"
        setup_pair
        start_httpd "$NS_B" 10.77.0.2
        inA ip neigh flush all; inB ip neigh flush all
        cap_start "$NS_A" any "$OUT/$f" -y $dlt
        small_exchange
        cap_stop 1
    done
}

rec_nano() {
    log "nano.pcap"
    setup_pair
    cap_start "$NS_A" a0 "$OUT/nano.pcap" --time-stamp-precision=nano
    inA ping -n -c 3 -i 0.2 10.77.0.2
    inA "$PY" "$TMP/udpsend.py" 10.77.0.2 33433 16
    cap_stop 1
}

rec_pcapng() {
    log "multi.pcapng / multi-section.pcapng / comments.pcapng"
    setup_pair
    start_httpd "$NS_B" 10.77.0.2
    inA ip neigh flush all; inB ip neigh flush all
    # two interfaces, two link types (Ethernet + Linux cooked) in one pcapng
    dumpcap_start "$NS_A" "$OUT/multi.pcapng" -q -i a0 -i any
    small_exchange
    cap_stop 1
    # two separate single-section files, concatenated -> a valid multi-section pcapng
    dumpcap_start "$NS_A" "$TMP/sec1.pcapng" -q -i a0
    inA ping -n -c 2 -i 0.2 10.77.0.2
    cap_stop 0.5
    dumpcap_start "$NS_B" "$TMP/sec2.pcapng" -q -i b0
    inA "$PY" "$TMP/udpsend.py" 10.77.0.2 33433 24
    inA curl -sS -o /dev/null http://10.77.0.2:8000/a.txt
    cap_stop 0.5
    cat "$TMP/sec1.pcapng" "$TMP/sec2.pcapng" > "$OUT/multi-section.pcapng"
    # packet comments + a section (capture) comment
    editcap -a 1:"first packet comment" -a 3:"third packet: second echo request" \
        --capture-comment "Layerscope test capture: ping from ls-a to ls-b, recorded by tests/data/record.sh" \
        "$TMP/sec1.pcapng" "$OUT/comments.pcapng"
}

rec_sample() {
    log "captures/samples/sample.pcapng"
    mkdir -p "$SAMPLES"
    NOADDR_A=1 setup_pair
    rm -f "$TMP"/dhclient.leases "$TMP"/dhclient.pid "$TMP"/dnsmasq.leases
    start_httpd "$NS_B" 10.77.0.2
    start_dnsmasq --port=53 --no-ping --dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,1h \
        --dhcp-option=option:router,10.77.0.2 --dhcp-option=option:dns-server,10.77.0.2 \
        --dhcp-authoritative --dhcp-leasefile="$TMP/dnsmasq.leases"
    dumpcap_start "$NS_B" "$SAMPLES/sample.pcapng" -q -i b0
    dhclient_run -1 -d 2>"$TMP/dhclient.log" &
    local dpid=$!; PIDS+=("$dpid")
    wait_for_text "$TMP/dhclient.log" "bound to" 25
    sleep 0.5
    inA "${DIG[@]}" www.lab.test A  || true
    inA "${DIG[@]}" lab.test MX     || true
    inA "${DIG[@]}" nothere.lab.test A || true
    inA curl -sS -o /dev/null --resolve www.lab.test:8000:10.77.0.2 http://www.lab.test:8000/index.html
    inA ping -n -c 2 -i 0.2 10.77.0.2
    inA "$PY" "$TMP/udpsend.py" 10.77.0.2 33433 20              # ICMP port unreachable
    inA curl -sS --connect-timeout 2 http://10.77.0.2:81/ || true  # refused: SYN -> RST/ACK
    kill "$dpid" 2>/dev/null || true; wait "$dpid" 2>/dev/null || true
    dhclient_run -r 2>/dev/null || true                           # DHCPRELEASE
    cap_stop 1
}

rec_vlan() {
    # Real 802.1Q / QinQ needs the kernel's 8021q module. Where it exists, record live
    # (capture on the PARENT veth so the tags are visible); where it does not (the
    # machine these files were first made on), make_variants.py derives vlan.pcap and
    # qinq.pcap by inserting tags into icmp.pcap's real frames.
    log "vlan.pcap / qinq.pcap"
    setup_pair
    if ! inA ip link add link a0 name a0.100 type vlan id 100 2>/dev/null; then
        echo "no kernel VLAN support here: vlan.pcap/qinq.pcap will be derived by make_variants.py" >&2
        return 0
    fi
    inB ip link add link b0 name b0.100 type vlan id 100
    inA ip link add link a0 name a0.200 type vlan protocol 802.1ad id 200
    inB ip link add link b0 name b0.200 type vlan protocol 802.1ad id 200
    inA ip link add link a0.200 name a0.300 type vlan id 300
    inB ip link add link b0.200 name b0.300 type vlan id 300
    local i
    for i in a0.100 a0.200 a0.300; do inA sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1" || true; inA ip link set "$i" up; done
    for i in b0.100 b0.200 b0.300; do inB sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1" || true; inB ip link set "$i" up; done
    inA ip addr add 10.77.100.1/24 dev a0.100; inB ip addr add 10.77.100.2/24 dev b0.100
    inA ip addr add 10.77.3.1/24 dev a0.300;   inB ip addr add 10.77.3.2/24 dev b0.300
    sleep 0.3
    cap_start "$NS_A" a0 "$OUT/vlan.pcap" vlan 100
    inA ping -n -c 3 -i 0.2 10.77.100.2
    inA "$PY" "$TMP/udpsend.py" 10.77.100.2 33433 32
    cap_stop 1
    cap_start "$NS_A" a0 "$OUT/qinq.pcap"
    inA ping -n -c 3 -i 0.2 10.77.3.2
    cap_stop 1
    touch "$TMP/real-vlan"
}

rec_variants() {
    log "variants (make_variants.py)"
    local skip=()
    [ -e "$TMP/real-vlan" ] && skip=(--no-vlan)
    "$PY" "$HERE/make_variants.py" "${skip[@]}" "$OUT"
}

# ---------------------------------------------------------------- main
ALL=(http dns dhcp icmp frag ipv6 tcprst vlan sll nano pcapng sample variants)
SECTIONS=("$@"); [ ${#SECTIONS[@]} -eq 0 ] && SECTIONS=("${ALL[@]}")
write_helpers
for s in "${SECTIONS[@]}"; do
    case "$s" in
        http|dns|dhcp|icmp|frag|ipv6|tcprst|vlan|sll|nano|pcapng|sample|variants) "rec_$s" ;;
        *) echo "unknown section: $s (known: ${ALL[*]})" >&2; exit 2 ;;
    esac
done
del_ns
chmod 644 "$OUT"/*.pcap "$OUT"/*.pcapng "$OUT"/*.gz "$SAMPLES"/*.pcapng 2>/dev/null || true
log "done"
ls -l "$OUT" "$SAMPLES" >&2 || true
