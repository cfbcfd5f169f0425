"""Fast path: the common filter fields decoded with `struct` from the raw frame, without a tree.

Answers only for plain packets it fully understands (Ethernet with any VLAN tags or raw IP; IPv4
or IPv6 with generic extension headers; a complete TCP/UDP header, ICMP/ICMPv6 that are not
errors quoting another packet, ARP; a later fragment, which carries no transport header). For
anything else `fast_packet` returns None and the caller builds the full tree, so the two paths
agree (tests/filter/test_fastpath.py checks every packet of every test capture).
"""

from __future__ import annotations

from collections.abc import Callable

from captures.frame import Frame

_IPV4_FULL = 0xFFFFFFFF
_IPV6_FULL = (1 << 128) - 1
_ICMP_ERRORS = frozenset({3, 4, 5, 11, 12})
_VLAN_TAGS = frozenset({0x8100, 0x88A8, 0x9100})
# IPv6 extension headers with the generic (next header, length in 8 octets) layout.
_IPV6_EXTENSIONS = frozenset({0, 43, 60})
_TCP_FLAG_BITS = {
    "tcp.flags.fin": 0x001,
    "tcp.flags.syn": 0x002,
    "tcp.flags.reset": 0x004,
    "tcp.flags.push": 0x008,
    "tcp.flags.ack": 0x010,
    "tcp.flags.urg": 0x020,
    "tcp.flags.ece": 0x040,
    "tcp.flags.cwr": 0x080,
    "tcp.flags.ae": 0x100,
}


class FastPacket:
    """Header offsets of one plain packet; values are computed only for the names asked."""

    __slots__ = ("at", "data", "frame", "link", "net", "net_at", "transport")

    def __init__(self, frame: Frame, link: str, net: str, net_at: int, transport: str, at: int) -> None:
        self.frame = frame
        self.data = frame.data
        self.link = link  # "eth" or ""
        self.net = net  # "ip", "ipv6", "arp" or ""
        self.net_at = net_at
        self.transport = transport  # "tcp", "udp", "icmp", "icmpv6" or ""
        self.at = at

    def values(self, name: str, layer: int | None) -> list[object]:
        if layer is not None and layer != 1:
            return []
        getter = _GETTERS.get(name)
        if getter is None:
            return []
        return getter(self)

    def shows(self, name: str, layer: int | None) -> list[str]:  # never asked: string() is not fast
        return []

    def lengths(self, name: str, layer: int | None) -> list[int]:  # never asked: len() is not fast
        return []


def _u16(data: bytes, at: int) -> int:
    return data[at] << 8 | data[at + 1]


def _eth(p: FastPacket, at: int) -> list[object]:
    return [p.data[at : at + 6]] if p.link == "eth" else []


def _v4(p: FastPacket, at: int) -> list[object]:
    if p.net != "ip":
        return []
    return [(int.from_bytes(p.data[p.net_at + at : p.net_at + at + 4], "big"), _IPV4_FULL)]


def _v6(p: FastPacket, at: int) -> list[object]:
    if p.net != "ipv6":
        return []
    return [(int.from_bytes(p.data[p.net_at + at : p.net_at + at + 16], "big"), _IPV6_FULL)]


def _port(p: FastPacket, proto: str, at: int) -> list[object]:
    return [_u16(p.data, p.at + at)] if p.transport == proto else []


def _tcp_flags(p: FastPacket) -> int:
    return (p.data[p.at + 12] & 0x0F) << 8 | p.data[p.at + 13]


def _flag(mask: int) -> Callable[[FastPacket], list[object]]:
    return lambda p: [int(bool(_tcp_flags(p) & mask))] if p.transport == "tcp" else []


def _present(test: Callable[[FastPacket], bool]) -> Callable[[FastPacket], list[object]]:
    # Presence is all a protocol is asked for on the fast path (its bytes are not).
    return lambda p: [b""] if test(p) else []


_GETTERS: dict[str, Callable[[FastPacket], list[object]]] = {
    "frame": _present(lambda p: True),
    "frame.number": lambda p: [p.frame.number],
    "frame.len": lambda p: [p.frame.wire_len],
    "frame.cap_len": lambda p: [len(p.data)],
    "eth": _present(lambda p: p.link == "eth"),
    "eth.src": lambda p: _eth(p, 6),
    "eth.dst": lambda p: _eth(p, 0),
    "eth.addr": lambda p: _eth(p, 0) + _eth(p, 6),
    "eth.type": lambda p: [_u16(p.data, 12)] if p.link == "eth" else [],
    "ip": _present(lambda p: p.net == "ip"),
    "ip.src": lambda p: _v4(p, 12),
    "ip.dst": lambda p: _v4(p, 16),
    "ip.addr": lambda p: _v4(p, 12) + _v4(p, 16),
    "ip.proto": lambda p: [p.data[p.net_at + 9]] if p.net == "ip" else [],
    "ip.ttl": lambda p: [p.data[p.net_at + 8]] if p.net == "ip" else [],
    "ip.len": lambda p: [_u16(p.data, p.net_at + 2)] if p.net == "ip" else [],
    "ipv6": _present(lambda p: p.net == "ipv6"),
    "ipv6.src": lambda p: _v6(p, 8),
    "ipv6.dst": lambda p: _v6(p, 24),
    "ipv6.addr": lambda p: _v6(p, 8) + _v6(p, 24),
    "ipv6.nxt": lambda p: [p.data[p.net_at + 6]] if p.net == "ipv6" else [],
    "ipv6.hlim": lambda p: [p.data[p.net_at + 7]] if p.net == "ipv6" else [],
    "arp": _present(lambda p: p.net == "arp"),
    "tcp": _present(lambda p: p.transport == "tcp"),
    "tcp.srcport": lambda p: _port(p, "tcp", 0),
    "tcp.dstport": lambda p: _port(p, "tcp", 2),
    "tcp.port": lambda p: _port(p, "tcp", 0) + _port(p, "tcp", 2),
    "tcp.flags": lambda p: [_tcp_flags(p)] if p.transport == "tcp" else [],
    "udp": _present(lambda p: p.transport == "udp"),
    "udp.srcport": lambda p: _port(p, "udp", 0),
    "udp.dstport": lambda p: _port(p, "udp", 2),
    "udp.port": lambda p: _port(p, "udp", 0) + _port(p, "udp", 2),
    "icmp": _present(lambda p: p.transport == "icmp"),
    "icmpv6": _present(lambda p: p.transport == "icmpv6"),
}
_GETTERS |= {name: _flag(mask) for name, mask in _TCP_FLAG_BITS.items()}
FAST_NAMES = frozenset(_GETTERS)


def fast_packet(frame: Frame) -> FastPacket | None:
    """The fast view of a plain packet, or None when only the full tree can answer."""
    data = frame.data
    linktype = frame.linktype
    if linktype == 1:
        if len(data) < 14:
            return None
        etype, at = data[12] << 8 | data[13], 14
        while etype in _VLAN_TAGS:  # 802.1Q / 802.1ad tags: eth.type stays the outer one
            if len(data) < at + 4:
                return None
            etype, at = data[at + 2] << 8 | data[at + 3], at + 4
        if etype == 0x0806:
            return FastPacket(frame, "eth", "arp", at, "", 0) if len(data) >= at + 28 else None
        return _network(frame, "eth", etype, at)
    if linktype in (101, 228, 229) and data:
        version = data[0] >> 4
        return _network(frame, "", 0x0800 if version == 4 else 0x86DD if version == 6 else 0, 0)
    return None


def _network(frame: Frame, link: str, etype: int, at: int) -> FastPacket | None:
    data = frame.data
    if etype == 0x0800:
        if len(data) < at + 20 or data[at] >> 4 != 4:
            return None
        hlen = (data[at] & 0x0F) * 4
        total = _u16(data, at + 2)
        if hlen < 20 or total < hlen or len(data) < at + hlen:
            return None
        fragment = _u16(data, at + 6)
        if fragment & 0x1FFF:  # a later fragment: no transport header, just data
            return FastPacket(frame, link, "ip", at, "", 0)
        if fragment & 0x2000:  # a first fragment: leave it to the tree
            return None
        return _transport(frame, link, "ip", at, data[at + 9], at + hlen, at + total)
    if etype == 0x86DD:
        if len(data) < at + 40 or data[at] >> 4 != 6:
            return None
        end = at + 40 + _u16(data, at + 4)
        proto, pos = data[at + 6], at + 40
        while proto in _IPV6_EXTENSIONS or proto == 44:
            if len(data) < pos + 8:
                return None
            if proto == 44:
                if _u16(data, pos + 2) & 0xFFF9:  # a later fragment, or reserved bits: the tree
                    return (
                        FastPacket(frame, link, "ipv6", at, "", 0) if _u16(data, pos + 2) & 0xFFF8 else None
                    )
                proto, pos = data[pos], pos + 8
            else:
                proto, pos = data[pos], pos + (data[pos + 1] + 1) * 8
        return _transport(frame, link, "ipv6", at, proto, pos, end)
    return None


def _transport(
    frame: Frame, link: str, net: str, net_at: int, proto: int, at: int, end: int
) -> FastPacket | None:
    data = frame.data
    if proto == 6:
        if len(data) < at + 20 or end < at + 20 or (data[at + 12] >> 4) < 5:
            return None
        return FastPacket(frame, link, net, net_at, "tcp", at)
    if proto == 17:
        if len(data) < at + 8 or end < at + 8:
            return None
        return FastPacket(frame, link, net, net_at, "udp", at)
    if proto == 1 and net == "ip":
        if len(data) < at + 4 or data[at] in _ICMP_ERRORS:
            return None
        return FastPacket(frame, link, net, net_at, "icmp", at)
    if proto == 58 and net == "ipv6":
        if len(data) < at + 4 or data[at] < 128:
            return None
        return FastPacket(frame, link, net, net_at, "icmpv6", at)
    return None
