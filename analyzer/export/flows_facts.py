"""Tracker facts for `flows` and `follow`, read straight from capture records with `struct`.

Dissecting every frame into a full tree costs about half a millisecond; `flows` over millions of
packets cannot afford that. The common case (Ethernet/VLAN/SLL/loopback/raw IP, a whole IPv4 or
IPv6 packet, a well-formed TCP or UDP header) is decoded here in a few microseconds. Anything
unusual (a snapped frame, a fragment, a bad length, an ICMP error, a tunnel, an unknown link
type, odd TCP options) is handed to the full dissection and analyzer.state.extract, so both
paths give the same facts: tests/analyzer/test_flows_facts.py checks that on every capture.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from analyzer.context import FrameTimes, Preferences
from analyzer.model import Dissection
from analyzer.pipeline import dissect_frame
from analyzer.state.extract import UdpDatagram, tcp_segment_from, udp_datagram_from
from analyzer.state.tcp_facts import TcpSegment
from captures.frame import Frame
from captures.pcapfile import RawRecord


@dataclass(frozen=True, slots=True)
class UdpFact:
    """A UDP datagram plus the payload bytes tshark's follow shows (captured, cut at udp.length)."""

    datagram: UdpDatagram
    payload: bytes


Fact = TcpSegment | UdpFact


@dataclass(frozen=True, slots=True)
class PacketFacts:
    """What one frame gives the trackers: its transport fact (or None) and its wire length."""

    number: int
    timestamp_ns: int
    wire_len: int
    fact: Fact | None
    selected: bool = True  # False when a display filter rejected the packet


class _NeedsTree:
    """Returned by the fast decoder when only the full dissection decides."""


NEEDS_TREE = _NeedsTree()
Decoded = Fact | None | _NeedsTree

_IPV4 = struct.Struct("!BBHHHBBH4s4s")
_TCP = struct.Struct("!HHIIHHHH")
_UDP = struct.Struct("!HHH")
_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")
_TS_PAIR = struct.Struct("!II")
_NOP_NOP_TS = b"\x01\x01\x08\x0a"  # NOP, NOP, timestamps (kind 8, length 10)
_VLAN_TPIDS = frozenset((0x8100, 0x88A8, 0x9100))
_IPV6_FAMILIES = frozenset((24, 28, 30))
# IPv6 extension headers measured in 8-octet units (hop-by-hop, routing, destination options).
_IPV6_EXTENSIONS = frozenset((0, 43, 60))
_TUNNELS = frozenset((4, 41, 47))  # IPIP, IPv6-in-IP, GRE: the tree decides what they carry
_ICMP_ERRORS = frozenset((3, 4, 5, 11, 12))
_ADDRESS_CACHE_LIMIT = 1 << 16
_addresses: dict[bytes, str] = {}


def address_text(raw: bytes) -> str:
    """A raw IPv4/IPv6 address as the facts spell it (inet_ntop), cached."""
    text = _addresses.get(raw)
    if text is None:
        text = socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, raw)
        if len(_addresses) < _ADDRESS_CACHE_LIMIT:
            _addresses[raw] = text
    return text


def decode_record(number: int, timestamp_ns: int, wire_len: int, linktype: int, data: bytes) -> Decoded:
    """The frame's fact, None when it carries no TCP/UDP, NEEDS_TREE when the tree must decide."""
    if len(data) < wire_len:
        return NEEDS_TREE  # snapped: the reported lengths need the dissectors' care
    try:
        return _link(number, timestamp_ns, linktype, data)
    except (struct.error, IndexError):
        return NEEDS_TREE


def _link(number: int, ts: int, linktype: int, data: bytes) -> Decoded:
    if linktype == 1:
        return _ethertype(number, ts, data, 12)
    if linktype == 113:
        return _ethertype(number, ts, data, 14)
    if linktype == 276:
        return _ethertype(number, ts, data, 0, payload=20)
    if linktype == 101 and data:
        version = data[0] >> 4
        if version == 4:
            return _ipv4(number, ts, data, 0)
        return _ipv6(number, ts, data, 0) if version == 6 else NEEDS_TREE
    if linktype == 228:
        return _ipv4(number, ts, data, 0)
    if linktype == 229:
        return _ipv6(number, ts, data, 0)
    if linktype in (0, 108) and len(data) >= 4:
        family = int.from_bytes(data[:4], "big" if linktype == 108 else "little")
        if family == 2:
            return _ipv4(number, ts, data, 4)
        if family in _IPV6_FAMILIES:
            return _ipv6(number, ts, data, 4)
    return NEEDS_TREE


def _ethertype(number: int, ts: int, data: bytes, type_at: int, payload: int | None = None) -> Decoded:
    """Ethernet and SLL: the EtherType at `type_at`, the payload after it (or at `payload`)."""
    at = type_at + 2 if payload is None else payload
    if len(data) < at:
        return NEEDS_TREE
    etype = data[type_at] << 8 | data[type_at + 1]
    while etype in _VLAN_TPIDS and payload is None:
        etype = data[at + 2] << 8 | data[at + 3]
        at += 4
    if etype == 0x0800:
        return _ipv4(number, ts, data, at)
    if etype == 0x86DD:
        return _ipv6(number, ts, data, at)
    if etype == 0x0806:
        return None
    return NEEDS_TREE


def _ipv4(number: int, ts: int, data: bytes, off: int) -> Decoded:
    vhl, _tos, total, _ident, frag, _ttl, proto, _ck, src, dst = _IPV4.unpack_from(data, off)
    hlen = (vhl & 0x0F) * 4
    end = off + total
    if vhl >> 4 != 4 or hlen < 20 or total < hlen or end > len(data):
        return NEEDS_TREE
    if frag & 0x3FFF:
        return None if frag & 0x1FFF else NEEDS_TREE  # later fragments carry no header
    return _transport(number, ts, proto, data, off + hlen, end, src, dst)


def _ipv6(number: int, ts: int, data: bytes, off: int) -> Decoded:
    if data[off] >> 4 != 6 or len(data) < off + 40:
        return NEEDS_TREE
    payload_len = _U16.unpack_from(data, off + 4)[0]
    end = off + 40 + payload_len
    if payload_len == 0 or end > len(data):
        return NEEDS_TREE  # jumbogram or a length the tree must judge
    nxt = data[off + 6]
    at = off + 40
    while nxt in _IPV6_EXTENSIONS:
        if at + 2 > end:
            return NEEDS_TREE
        nxt, at = data[at], at + (data[at + 1] + 1) * 8
    if nxt == 44 or nxt == 51 or at > end:
        return NEEDS_TREE  # fragments and AH: rare, let the tree decide
    return _transport(number, ts, nxt, data, at, end, data[off + 8 : off + 24], data[off + 24 : off + 40])


def _transport(
    number: int, ts: int, proto: int, data: bytes, at: int, end: int, src: bytes, dst: bytes
) -> Decoded:
    if proto == 6:
        return _tcp(number, ts, data, at, end, src, dst)
    if proto == 17:
        return _udp(number, ts, data, at, end, src, dst)
    if proto in _TUNNELS:
        return NEEDS_TREE
    if proto == 1 and len(src) == 4:
        return NEEDS_TREE if at < end and data[at] in _ICMP_ERRORS else None
    if proto == 58 and len(src) == 16:
        return NEEDS_TREE if at < end and data[at] < 128 else None  # ICMPv6 errors quote a packet
    return None


def _udp(number: int, ts: int, data: bytes, at: int, end: int, src: bytes, dst: bytes) -> Decoded:
    if end - at < 8:
        return NEEDS_TREE
    sport, dport, length = _UDP.unpack_from(data, at)
    if length < 8 or at + length > end:
        return NEEDS_TREE
    datagram = UdpDatagram(number, ts, address_text(src), sport, address_text(dst), dport, length - 8)
    return UdpFact(datagram, data[at + 8 : at + length])


def _tcp(number: int, ts: int, data: bytes, at: int, end: int, src: bytes, dst: bytes) -> Decoded:
    if end - at < 20:
        return NEEDS_TREE
    sport, dport, seq, ack, offset_flags, window, _ck, _urg = _TCP.unpack_from(data, at)
    hlen = (offset_flags >> 12) * 4
    if hlen < 20 or at + hlen > end:
        return NEEDS_TREE
    segment = tcp_segment(
        number,
        ts,
        address_text(src),
        address_text(dst),
        sport,
        dport,
        seq,
        ack,
        offset_flags & 0x0FFF,
        window,
        data,
        at,
        hlen,
        end,
    )
    return NEEDS_TREE if segment is None else segment


def tcp_segment(
    number: int,
    ts: int,
    src: str,
    dst: str,
    sport: int,
    dport: int,
    seq: int,
    ack: int,
    flags: int,
    window: int,
    data: bytes,
    at: int,
    hlen: int,
    end: int,
) -> TcpSegment | None:
    """The TcpSegment of a TCP header at `at` (its fields already unpacked, `flags` the 12-bit
    field, 20 <= `hlen` <= `end` - `at`) whose segment ends at `end`, or None when its options
    need the tree. The summary's inline path calls this with the values it has unpacked."""
    start = at + hlen
    window_scale = mss = None
    sack_permitted = False
    sack_blocks: tuple[tuple[int, int], ...] = ()
    stamps: tuple[int, int] | None = None
    if hlen == 32 and data[at + 20 : at + 24] == _NOP_NOP_TS:  # the usual options: timestamps alone
        stamps = _TS_PAIR.unpack_from(data, at + 24)
    elif hlen > 20:
        options = _TcpOptions()
        if not options.parse(data, at + 20, start):
            return None
        window_scale, mss, sack_permitted = options.window_scale, options.mss, options.sack_permitted
        sack_blocks, stamps = options.sack_blocks, options.timestamps
    return TcpSegment(
        number,
        ts,
        src,
        dst,
        sport,
        dport,
        seq,
        ack,
        flags,
        window,
        end - start,
        window_scale,
        mss,
        sack_permitted,
        sack_blocks,
        stamps,
        data[start:end] if end > start else None,  # as extract: no tcp.payload
    )


class _TcpOptions:
    """The few TCP options the trackers read; `parse` is False for anything it is unsure of."""

    __slots__ = ("mss", "sack_blocks", "sack_permitted", "timestamps", "window_scale")

    def __init__(self) -> None:
        self.window_scale: int | None = None
        self.mss: int | None = None
        self.sack_permitted = False
        self.sack_blocks: tuple[tuple[int, int], ...] = ()
        self.timestamps: tuple[int, int] | None = None

    def parse(self, data: bytes, at: int, end: int) -> bool:
        seen: set[int] = set()
        while at < end:
            kind = data[at]
            if kind == 0:
                return True  # end of option list
            if kind == 1:
                at += 1
                continue
            if at + 2 > end:
                return False
            size = data[at + 1]
            if size < 2 or at + size > end or kind in seen:
                return False
            seen.add(kind)
            if kind == 2 and size == 4:
                self.mss = _U16.unpack_from(data, at + 2)[0]
            elif kind == 3 and size == 3:
                self.window_scale = data[at + 2]
            elif kind == 4 and size == 2:
                self.sack_permitted = True
            elif kind == 5 and (size - 2) % 8 == 0:
                self.sack_blocks = tuple(
                    (_U32.unpack_from(data, pos)[0], _U32.unpack_from(data, pos + 4)[0])
                    for pos in range(at + 2, at + size, 8)
                )
            elif kind == 8 and size == 10:
                self.timestamps = (_U32.unpack_from(data, at + 2)[0], _U32.unpack_from(data, at + 6)[0])
            elif kind in (2, 3, 4, 5, 8):
                return False  # a known option with a wrong length: the dissector reports it
            at += size
        return True


def facts_from_dissection(dissection: Dissection) -> Fact | None:
    """The same facts from a full dissection (the slow path, and the reference for tests)."""
    segment = tcp_segment_from(dissection)
    if segment is not None:
        return segment
    datagram = udp_datagram_from(dissection)
    if datagram is None:
        return None
    payload = b""
    if not datagram.quoted:
        for layer in dissection.layers:
            if layer.proto == "udp" and layer.depth == 0:
                found = layer.find("udp.payload")
                if found is not None and isinstance(found.value, bytes):
                    payload = found.value[: datagram.payload_len]
                break
    return UdpFact(datagram, payload)


def record_fact(number: int, record: RawRecord, strict: bool = False) -> Fact | None:
    """The transport fact of frame `number`: decoded from its headers, or from its full dissection
    when only that can decide."""
    offset, stamp, wire_len, linktype, digits, iface, data = record
    decoded = decode_record(number, stamp, wire_len, linktype, data)
    if isinstance(decoded, _NeedsTree):
        frame = Frame(number, stamp, data, wire_len, linktype, iface, None, (), offset, digits)
        return facts_from_dissection(dissect_frame(frame, prefs=_TREE_PREFS, strict=strict))
    return decoded


_TREE_PREFS = Preferences(resolve_names=False)


def iter_facts(records: Iterator[RawRecord], strict: bool = False) -> Iterator[PacketFacts]:
    """One PacketFacts per record, in capture order, numbered from 1."""
    for number, record in enumerate(records, 1):
        yield PacketFacts(number, record[1], record[2], record_fact(number, record, strict))


def iter_filtered_facts(
    frames: Iterator[Frame], matches: Callable[[Dissection], bool], strict: bool = False
) -> Iterator[PacketFacts]:
    """Like iter_facts, but every frame is dissected so `matches` (a display filter) can judge it;
    `selected` tells whether it matched. Frame times follow tshark (first and previous frame)."""
    prefs = Preferences(resolve_names=False)
    first_ns: int | None = None
    previous_ns: int | None = None
    for frame in frames:
        stamp = frame.timestamp_ns
        if first_ns is None:
            first_ns = stamp
        previous = previous_ns if previous_ns is not None else stamp
        previous_ns = stamp
        times = FrameTimes(first_ns, previous, previous)
        dissection = dissect_frame(frame, prefs=prefs, times=times, strict=strict)
        fact = facts_from_dissection(dissection)
        yield PacketFacts(frame.number, stamp, frame.wire_len, fact, matches(dissection))
