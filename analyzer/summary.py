"""The packet-list summary line (No., Time, Source, Destination, Protocol, Length, Info), as tshark 4.0.

This is the fast path: records are decoded with `struct` and byte indexing only, never through
Fields or `dissect_frame`. A `Summarizer` is fed records in capture order and keeps the little
cross-frame state tshark's single pass shows in the Info column: relative TCP sequence numbers
and window scaling per connection, and ICMP/ICMPv6 echo request/reply pairing. The bracketed
TCP analysis tags ("[TCP Retransmission]") belong to the TCP state tracker and are not shown.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, NamedTuple, TextIO

from analyzer.context import Preferences
from analyzer.state.arp_watch import ArpTable, Duplicate
from analyzer.summary_apps import TCP_APP_PORTS, UDP_APP_PORTS, may_start_message, tcp_app, udp_app
from captures.pcapfile import RawRecord

# The names tshark's Info column uses are the tree's value strings: one table for both.
from dissectors.icmp import CODE_NAMES as ICMP_CODES
from dissectors.icmp import TYPE_NAMES as ICMP_TYPES
from dissectors.ip_names import ICMPV6_TYPES

if TYPE_CHECKING:
    from analyzer.state.tcp_tags import TcpTagger
    from analyzer.summary_frag import FragmentSummary

# tcp_app_info's cross-frame verdicts: the payload is new (not all seen before in its direction),
# and the connection carried HTTP before this segment.
APP_NEW_PAYLOAD = 1
APP_HTTP_SEEN = 2
_U16 = struct.Struct("!H")
_PORTS = struct.Struct("!HH")
_U32 = struct.Struct("!I")
_IPV4 = struct.Struct("!BBHHHBBH4s4s")
_TCP = struct.Struct("!HHIIBBHHH")
_ECHO = struct.Struct("!BBHHH")
_TS_PAIR = struct.Struct("!II")

MALFORMED = "[Malformed Packet]"
# tshark's flag names for tcp.flags bits 0..8, lowest first ("[FIN, SYN, ... CWR, AE]").
_TCP_FLAG_NAMES = ("FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "AE")
_SYN, _ACK, _RST, _URG = 0x02, 0x10, 0x04, 0x20
# "[SYN, ACK]" for every value of the nine flag bits, built once.
_FLAG_TEXT = [
    "[" + (", ".join(name for bit, name in enumerate(_TCP_FLAG_NAMES) if value >> bit & 1) or "<None>") + "]"
    for value in range(512)
]
_NOP_NOP_TS = b"\x01\x01\x08\x0a"

# ICMP types whose Info carries id/seq (echo, timestamp, information, address mask).
_ICMP_ID_SEQ = frozenset((0, 8, 13, 14, 15, 16, 17, 18))

ICMPV6_CODES: dict[int, dict[int, str]] = {
    1: {
        0: "No route to destination",
        1: "Communication with destination administratively prohibited",
        2: "Beyond scope of source address",
        3: "Address unreachable",
        4: "Port unreachable",
        5: "Source address failed ingress/egress policy",
        6: "Reject route to destination",
        7: "Error in Source Routing Header",
    },
    3: {0: "Hop limit exceeded in transit", 1: "Fragment reassembly time exceeded"},
    4: {
        0: "Erroneous header field encountered",
        1: "Unrecognized Next Header type encountered",
        2: "Unrecognized IPv6 option encountered",
        3: "IPv6 First Fragment has incomplete IPv6 Header Chain",
    },
}
# The IP protocol names "Fragmented IP protocol (proto=UDP 17, ...)" uses (ipprotostr).
IP_PROTO_NAMES = {1: "ICMP", 2: "IGMP", 4: "IPIP", 6: "TCP", 17: "UDP", 41: "IPv6", 47: "GRE", 50: "ESP"}
IP_PROTO_NAMES |= {51: "AH", 58: "ICMPv6", 89: "OSPF", 103: "PIM", 112: "VRRP", 132: "SCTP"}
# IPv6 extension headers walked with the generic (next, length-in-8-octets) layout.
_IPV6_EXT = frozenset((0, 43, 60, 135, 139, 140))
_IPV6_FAMILIES = frozenset((10, 24, 28, 30))

_MAC_CACHE: dict[bytes, str] = {}
_V4_CACHE: dict[bytes, str] = {}
_V6_CACHE: dict[bytes, str] = {}


def mac_text(raw: bytes) -> str:
    text = _MAC_CACHE.get(raw)
    if text is None:
        text = raw.hex(":")
        if len(_MAC_CACHE) < 65536:
            _MAC_CACHE[raw] = text
    return text


def ipv4_text(raw: bytes) -> str:
    text = _V4_CACHE.get(raw)
    if text is None:
        text = socket.inet_ntoa(raw)
        if len(_V4_CACHE) < 65536:
            _V4_CACHE[raw] = text
    return text


def ipv6_text(raw: bytes) -> str:
    text = _V6_CACHE.get(raw)
    if text is None:
        text = socket.inet_ntop(socket.AF_INET6, raw)
        if len(_V6_CACHE) < 65536:
            _V6_CACHE[raw] = text
    return text


def default_mac_names(raw: bytes) -> str:
    """A MAC as tshark shows it with name resolution on, for the well-known groups only.

    Vendor (OUI) names need the manufacturer database, which is passed in as `mac_names`.
    """
    if raw == b"\xff\xff\xff\xff\xff\xff":
        return "Broadcast"
    if raw[:3] == b"\x01\x00\x5e":
        return "IPv4mcast_" + raw[3:].hex(":")
    if raw[:2] == b"\x33\x33":
        return "IPv6mcast_" + raw[2:].hex(":")
    return mac_text(raw)


def resolved_mac_names() -> Callable[[bytes], str]:
    """Wireshark's MAC names (vendor prefixes, well-known addresses) with a per-address cache.

    The manufacturer tables live with the Ethernet dissector (dissectors/manuf.py); without
    them only the well-known groups are named.
    """
    try:
        from dissectors.manuf import ether_name
    except ImportError:  # pragma: no cover - the tables ship with the package
        return default_mac_names
    cache: dict[bytes, str] = {}

    def name(raw: bytes) -> str:
        text = cache.get(raw)
        if text is None:
            text = cache[raw] = ether_name(raw)
        return text

    return name


class SummaryRow(NamedTuple):
    """One packet-list row; the time is kept raw and formatted per `-t` at output."""

    number: int
    timestamp_ns: int
    ts_digits: int
    source: str
    destination: str
    protocol: str
    length: int
    info: str


class Facts(NamedTuple):
    """What the last summarized packet left for the packet index (ports -1 when absent).

    `state_a`/`state_b`/`win_scale` are the cross-frame inputs the Info needed: for TCP the
    sequence and acknowledgement bases and the window scale (-1 unknown, -2 none); for an
    ICMP/ICMPv6 echo reply the request frame number in `state_a` (0 when none).
    """

    src_port: int
    dst_port: int
    tcp_flags: int
    state_a: int
    state_b: int
    win_scale: int


class _Short(Exception):
    """The packet ended before a header the summary needs."""


class Summarizer:
    """Turns records, fed in capture order, into tshark's default summary rows."""

    def __init__(
        self,
        resolve_names: bool = False,
        mac_names: Callable[[bytes], str] | None = None,
        tcp_analysis: bool = False,
        absolute_sequence: bool = False,
        defragment: tuple[bool, bool, bool] = (False, False, False),
    ) -> None:
        """`tcp_analysis` runs the TCP tracker over every segment for tshark's analysis tags in
        the Info column ("[TCP Retransmission] "...), as `tcp.analyze_sequence_numbers` does;
        `absolute_sequence` shows raw sequence numbers, as tshark does with that analysis off;
        `defragment` is (ip.defragment, ipv6.defragment, ip.check_checksum): fragments are held
        and the frame completing a datagram shows what it carries (analyzer/summary_frag.py)."""
        self.resolve_names = resolve_names
        self._frag: FragmentSummary | None = None
        self.defragments_ipv4 = defragment[0]
        if defragment[0] or defragment[1]:
            from analyzer.summary_frag import FragmentSummary

            self._frag = FragmentSummary(defragment[0], defragment[1], defragment[2])
        self.absolute_sequence = absolute_sequence
        self.tagger: TcpTagger | None = None
        if tcp_analysis:
            from analyzer.state.tcp_tags import TcpTagger

            self.tagger = TcpTagger()
        if mac_names is None:
            mac_names = resolved_mac_names() if resolve_names else mac_text
        self._mac_names = mac_names
        # src + dst + sport + dport (wire bytes, `tcp_key`) -> (this direction, the other one),
        # each [base_seq or -1, window scale (-1 unknown, -2 none)]. Byte keys let the fast
        # path (analyzer/summary_fast.py) use one slice of an IPv4 packet as its key.
        self._tcp: dict[bytes, tuple[list[int], list[int]]] = {}
        # (lower addr, higher addr, family, id, seq) -> frame number of the latest request
        self._echo: dict[tuple[bytes, bytes, int, int, int], int] = {}
        self.number = 0
        # Which MAC claimed which IP, for tshark's "(duplicate use of ... detected!)".
        self._arp_table = ArpTable()
        self._number = self._stamp = 0
        # Highest relative sequence end seen per direction, on application ports only.
        self._payload_end: dict[tuple[bytes, bytes, int, int], int] = {}
        # Connections (lower endpoint first) that have carried an HTTP message.
        self._http_seen: set[tuple[bytes, int, bytes, int]] = set()
        self.app_state = 0  # APP_* bits of the last tcp_app_info call
        # Per-packet scratch, reset by `summarize`.
        self._src = self._dst = self._proto = self._info = ""
        self._ip_ttl = 0
        self._sport = self._dport = -1
        self._flags = 0
        self._state = (0, 0, 0)
        self._was_tcp = False

    # -- public -----------------------------------------------------------------------------

    def feed(self, record: RawRecord) -> SummaryRow:
        """The next record of the capture, numbered from 1."""
        self.number += 1
        _offset, stamp, wire_len, linktype, digits, _iface, data = record
        return self.summarize(self.number, stamp, wire_len, linktype, digits, data)

    def summarize(
        self, number: int, stamp: int, wire_len: int, linktype: int, digits: int, data: bytes
    ) -> SummaryRow:
        self._src = self._dst = self._info = ""
        self._proto = ""
        self._number, self._stamp = number, stamp
        self._sport = self._dport = -1
        self._flags = 0
        self._state = (0, 0, 0)
        self._was_tcp = False
        self.app_state = 0
        try:
            self._link(number, linktype, data)
        except (_Short, struct.error, IndexError):
            if not self._proto:
                self._proto = "Frame"
            self._info += MALFORMED
        if self._was_tcp and self.tagger is not None:
            self._info = (
                self.tagger.tags(number, (-1, stamp, wire_len, linktype, digits, 0, data)) + self._info
            )
        return SummaryRow(number, stamp, digits, self._src, self._dst, self._proto, wire_len, self._info)

    @classmethod
    def for_lines(cls, resolve_names: bool, prefs: Preferences | None = None) -> Summarizer:
        """The summarizer of tshark's lines under these preferences: with the TCP analysis (tags,
        relative numbers) or raw numbers without it, and with IP reassembly if asked for."""
        prefs = prefs if prefs is not None else Preferences()
        analysis = prefs.analyze_tcp_sequence
        return cls(
            resolve_names, tcp_analysis=analysis, absolute_sequence=not analysis, defragment=prefs.defragment
        )

    @property
    def facts(self) -> Facts:
        """Index facts of the packet summarized last."""
        return Facts(self._sport, self._dport, self._flags, *self._state)

    def icmp_info(
        self,
        number: int,
        data: bytes,
        at: int,
        end: int,
        src: bytes,
        dst: bytes,
        hop_limit: int,
        version: int,
    ) -> str:
        """The Info of an ICMP (version 4) or ICMPv6 message whose first 8 bytes are captured."""
        self._ip_ttl = hop_limit
        if version == 4:
            self._icmp(number, data, at, src, dst)
        else:
            self._icmpv6(number, data, at, end, src, dst)
        return self._info

    # -- link layer ---------------------------------------------------------------------------

    def _link(self, number: int, linktype: int, data: bytes) -> None:
        if linktype == 1:
            if len(data) < 14:
                self._proto = "Ethernet"
                if len(data) >= 12:
                    self._src, self._dst = self._mac_names(data[6:12]), self._mac_names(data[0:6])
                raise _Short
            etype = data[12] << 8 | data[13]
            # An IP header that is all there replaces the MAC addresses: skip naming them.
            if not ((etype == 0x0800 and len(data) >= 34) or (etype == 0x86DD and len(data) >= 54)):
                self._src, self._dst = self._mac_names(data[6:12]), self._mac_names(data[0:6])
            if etype <= 1500:
                self._proto = "LLC"
                return
            self._ethertype(number, etype, data, 14)
        elif linktype in (101, 12, 14):
            self._raw_ip(number, data)
        elif linktype == 228:
            self._ipv4(number, data, 0)
        elif linktype == 229:
            self._ipv6(number, data, 0)
        elif linktype == 113:
            self._sll(number, data, 16, 6, 5, 14)
        elif linktype == 276:
            self._sll(number, data, 20, 12, 11, 0)
        elif linktype in (0, 108):
            self._null(number, linktype, data)
        else:
            # tshark's "wtap encapsulation unknown" frames show empty columns.
            self._proto = ""

    def _sll(self, number: int, data: bytes, header: int, addr_at: int, halen_at: int, proto_at: int) -> None:
        self._proto = "SLL"
        if len(data) < header:
            raise _Short
        halen = data[halen_at]
        addr = data[addr_at : addr_at + min(halen, 8)]
        self._src = self._mac_names(addr) if halen == 6 else addr.hex(":")
        self._ethertype(number, data[proto_at] << 8 | data[proto_at + 1], data, header)

    def _null(self, number: int, linktype: int, data: bytes) -> None:
        self._proto = "NULL"
        if len(data) < 4:
            raise _Short
        family = int.from_bytes(data[:4], "big" if linktype == 108 else "little")
        if family > 0xFFFF:  # written in the other byte order
            family = int.from_bytes(data[:4], "little" if linktype == 108 else "big")
        if family == 2:
            self._ipv4(number, data, 4)
        elif family in _IPV6_FAMILIES:
            self._ipv6(number, data, 4)

    def _raw_ip(self, number: int, data: bytes) -> None:
        if not data:
            raise _Short
        version = data[0] >> 4
        if version == 4:
            self._ipv4(number, data, 0)
        elif version == 6:
            self._ipv6(number, data, 0)
        else:
            self._src = self._dst = self._proto = "N/A"
            self._info = "Raw packet data"

    def _ethertype(self, number: int, etype: int, data: bytes, off: int) -> None:
        while etype in (0x8100, 0x88A8, 0x9100):
            self._proto = "802.1Q" if etype != 0x88A8 else "IEEE 802.1ad"
            if len(data) < off + 4:
                raise _Short
            etype = data[off + 2] << 8 | data[off + 3]
            off += 4
        if etype == 0x0800:
            self._ipv4(number, data, off)
        elif etype == 0x86DD:
            self._ipv6(number, data, off)
        elif etype == 0x0806:
            self._arp(data, off)
            self._arp_duplicates(data, off)
        else:
            # Imported here: the dissectors package it lives in costs ~70 ms to load (TUI start-up).
            from dissectors.ethertypes import ETHERTYPE_NAMES

            self._proto = f"0x{etype:04x}"
            self._info = ETHERTYPE_NAMES.get(etype, "")

    # -- ARP --------------------------------------------------------------------------------------

    def _arp(self, data: bytes, off: int) -> None:
        self._proto = "ARP"
        if len(data) < off + 8:
            raise _Short
        hlen, plen = data[off + 4], data[off + 5]
        op = data[off + 6] << 8 | data[off + 7]
        at = off + 8
        if len(data) < at + 2 * (hlen + plen):
            raise _Short
        sha, spa = data[at : at + hlen], data[at + hlen : at + hlen + plen]
        at += hlen + plen
        tha, tpa = data[at : at + hlen], data[at + hlen : at + hlen + plen]
        ip4 = plen == 4 and data[off + 2 : off + 4] == b"\x08\x00"
        spa_s, tpa_s = (ipv4_text(spa), ipv4_text(tpa)) if ip4 else (spa.hex(":"), tpa.hex(":"))
        sha_s = mac_text(sha) if hlen == 6 else sha.hex(":")
        tha_s = mac_text(tha) if hlen == 6 else tha.hex(":")
        if op == 1:
            if ip4 and spa == b"\0\0\0\0":
                self._info = f"Who has {tpa_s}? (ARP Probe)"
            elif spa == tpa and not any(tha):
                self._info = f"ARP Announcement for {spa_s}"
            elif spa == tpa:
                self._info = f"Gratuitous ARP for {spa_s} (Request)"
            else:
                self._info = f"Who has {tpa_s}? Tell {spa_s}"
        elif op == 2:
            if spa == tpa:
                self._info = f"Gratuitous ARP for {spa_s} (Reply)"
            else:
                self._info = f"{spa_s} is at {sha_s}"
        elif op == 3:
            self._proto = "RARP"
            self._info = f"Who is {tha_s}? Tell {sha_s}"
        elif op == 4:
            self._proto = "RARP"
            self._info = f"{tha_s} is at {tpa_s}"
        else:
            self._info = f"Unknown ARP opcode 0x{op:04x}"

    def _arp_duplicates(self, data: bytes, off: int) -> None:
        """tshark's Info suffix when an IP is claimed by a second MAC (Ethernet/IPv4 ARP only).

        As in tshark, a reply's target check comes last and decides alone, so a reply whose
        sender is a duplicate but whose target is not shows no suffix.
        """
        if data[off : off + 6] != b"\x00\x01\x08\x00\x06\x04" or len(data) < off + 28:
            return
        op = data[off + 6] << 8 | data[off + 7]
        if op not in (1, 2):
            return
        found = self._arp_claim(data[off + 8 : off + 14], data[off + 14 : off + 18])
        if op == 2 and _arp_claimable(data[off + 18 : off + 24], data[off + 24 : off + 28]):
            found = self._arp_claim(data[off + 18 : off + 24], data[off + 24 : off + 28])
        if found is not None:
            self._info += f" (duplicate use of {found.ip} detected!)"

    def _arp_claim(self, mac: bytes, ip: bytes) -> Duplicate | None:
        if not _arp_claimable(mac, ip):
            return None
        return self._arp_table.claim(ipv4_text(ip), mac_text(mac), self._number, self._stamp)

    # -- network layer --------------------------------------------------------------------------

    def _ipv4(self, number: int, data: bytes, off: int) -> None:
        self._proto = "IPv4"
        if len(data) < off + 20:
            raise _Short
        vhl, _tos, total, ident, frag, ttl, proto, _ck, src, dst = _IPV4.unpack_from(data, off)
        self._src, self._dst = ipv4_text(src), ipv4_text(dst)
        hlen = (vhl & 0x0F) * 4
        if vhl >> 4 != 4 or hlen < 20:
            self._info = f"Bogus IP header length ({hlen}, must be at least 20)" if hlen < 20 else ""
            return
        self._ip_ttl = ttl
        start = off + hlen
        end = off + total
        frag_off = (frag & 0x1FFF) * 8
        held = frag_off != 0
        if self._frag is not None and frag & 0x3FFF:
            outcome = self._frag.ipv4(number, self._stamp, data, off)
            if outcome is not None and outcome.datagram is not None:
                datagram = outcome.datagram
                self._transport(number, proto, datagram, 0, len(datagram), src, dst, 4)
                return
            held = held or outcome is not None  # a first fragment kept for reassembly
        if held:
            name = IP_PROTO_NAMES.get(proto, "Unknown")
            self._info = f"Fragmented IP protocol (proto={name} {proto}, off={frag_off}, ID={ident:04x})"
            return
        self._transport(number, proto, data, start, end, src, dst, 4)

    def _ipv6(self, number: int, data: bytes, off: int) -> None:
        self._proto = "IPv6"
        if len(data) < off + 40:
            raise _Short
        src, dst = data[off + 8 : off + 24], data[off + 24 : off + 40]
        self._src, self._dst = ipv6_text(src), ipv6_text(dst)
        self._ip_ttl = data[off + 7]
        nxt = data[off + 6]
        at = off + 40
        end = at + (data[off + 4] << 8 | data[off + 5])
        reassembled = False
        while True:
            if nxt in _IPV6_EXT:
                if len(data) < at + 2:
                    raise _Short
                nxt, at = data[at], at + (data[at + 1] + 1) * 8
            elif nxt == 51:  # AH counts its length in 4-octet units
                if len(data) < at + 2:
                    raise _Short
                nxt, at = data[at], at + (data[at + 1] + 2) * 4
            elif nxt == 44:
                if len(data) < at + 8:
                    raise _Short
                field = data[at + 2] << 8 | data[at + 3]
                ident = _U32.unpack_from(data, at + 4)[0]
                outcome = None
                if self._frag is not None and not reassembled:
                    outcome = self._frag.ipv6(number, self._stamp, data, off, at)
                if outcome is not None and outcome.datagram is not None:
                    # The reassembled payload, which may start with more extension headers.
                    nxt, data, at, reassembled = data[at], outcome.datagram, 0, True
                    end = len(data)
                    continue
                if field & 0xFFF8 or outcome is not None:
                    more = "y" if field & 1 else "n"
                    self._info = (
                        f"IPv6 fragment (off={field & 0xFFF8} more={more} ident=0x{ident:08x} nxt={data[at]})"
                    )
                    return
                nxt, at = data[at], at + 8
            else:
                break
        self._transport(number, nxt, data, at, end, src, dst, 6)

    # -- transport layer ------------------------------------------------------------------------

    # analyzer/summary_fast.py writes TCP, UDP, ICMP and ICMPv6 lines over plain Ethernet/IP inline:
    # a change to those Info texts (an application name on a port) must be made there too;
    # tests/analyzer/test_summary_fast.py fails until both agree.
    def _transport(
        self, number: int, proto: int, data: bytes, at: int, end: int, src: bytes, dst: bytes, version: int
    ) -> None:
        if proto == 6:
            self._tcp_info(data, at, end, src, dst)
        elif proto == 17:
            self._proto = "UDP"
            if len(data) < at + 8:
                raise _Short
            sport, dport, length = struct.unpack_from("!HHH", data, at)
            self._sport, self._dport = sport, dport
            self._info = f"{sport} → {dport} Len={length - 8}"
            if sport in UDP_APP_PORTS or dport in UDP_APP_PORTS:
                app = udp_app(sport, dport, data, at + 8, min(at + length, end))
                if app is not None:
                    self._proto, self._info = app
        elif proto == 1 and version == 4:
            self._icmp(number, data, at, src, dst)
        elif proto == 58 and version == 6:
            self._icmpv6(number, data, at, end, src, dst)
        elif version == 4:
            self._info = f"{IP_PROTO_NAMES.get(proto, 'Unknown')} ({proto})"

    def _tcp_info(self, data: bytes, at: int, end: int, src: bytes, dst: bytes) -> None:
        self._proto = "TCP"
        self._was_tcp = True
        if len(data) < at + 20:
            raise _Short
        sport, dport, seq, ack, off_byte, flag_byte, win, _ck, urg = _TCP.unpack_from(data, at)
        flags = (off_byte & 0x01) << 8 | flag_byte
        self._sport, self._dport, self._flags = sport, dport, flags
        hlen = (off_byte >> 4) * 4
        seq_base, ack_base, scale = self._tcp_state(src, dst, sport, dport, seq, ack, flags, data, at, hlen)
        self._state = (seq_base, ack_base, scale)
        rel_seq = (seq - seq_base) & 0xFFFFFFFF
        if self.absolute_sequence:
            seq_base = ack_base = 0
        if flags & _SYN == 0 and scale >= 0:
            win <<= scale
        info = f"{sport} → {dport} {_FLAG_TEXT[flags]} Seq={(seq - seq_base) & 0xFFFFFFFF}"
        if flags & _ACK:
            info += f" Ack={(ack - ack_base) & 0xFFFFFFFF}"
        info += f" Win={win} Urg={urg}" if flags & _URG else f" Win={win}"
        info += f" Len={max(end - at - hlen, 0)}"
        if hlen == 32 and data[at + 20 : at + 24] == _NOP_NOP_TS:
            # The usual established-connection layout: NOP, NOP, timestamps.
            tsval, tsecr = _TS_PAIR.unpack_from(data, at + 24)
            info += f" TSval={tsval} TSecr={tsecr}"
        elif hlen > 20:
            options = _tcp_options(data, at + 20, min(at + hlen, len(data)), ack_base)
            if options:
                info += " " + " ".join(options)
        self._info = info
        payload_at = at + hlen
        if (sport in TCP_APP_PORTS or dport in TCP_APP_PORTS) and may_start_message(
            sport, dport, data[payload_at] if payload_at < min(end, len(data)) else 0
        ):
            app = self.tcp_app_info(src, dst, sport, dport, rel_seq, data, at + hlen, min(end, len(data)))
            if app is not None:
                self._proto, self._info = app

    def tcp_app_info(
        self, src: bytes, dst: bytes, sport: int, dport: int, rel_seq: int, data: bytes, start: int, end: int
    ) -> tuple[str, str] | None:
        """(Protocol, Info) of a segment's payload data[start:end] on an application port.

        None when there is no payload, when all of it was seen before (a retransmission,
        which tshark does not hand on), or when it does not start a message.
        """
        self.app_state = 0
        # Telling a retransmission needs the sequence analysis: without it every payload is new.
        if self.absolute_sequence:
            if end <= start:
                return None
        elif not self._new_payload(src, dst, sport, dport, rel_seq, end - start):
            return None
        connection = (src, sport, dst, dport) if (src, sport) <= (dst, dport) else (dst, dport, src, sport)
        seen = connection in self._http_seen
        # What the packet index keeps to rebuild this Info alone (see analyzer/index.py).
        self.app_state = APP_NEW_PAYLOAD | (APP_HTTP_SEEN if seen else 0)
        found = tcp_app(sport, dport, data, start, end, seen)
        if found is not None and found[0] == "HTTP" and not seen:
            if len(self._http_seen) >= 65536:
                self._http_seen.clear()
            self._http_seen.add(connection)
        return found

    def _new_payload(self, src: bytes, dst: bytes, sport: int, dport: int, rel_seq: int, length: int) -> bool:
        """False for a segment whose bytes were all seen before in its direction.

        tshark does not hand a retransmission's payload to the application dissector; this
        is the cheap half of its rule (payload entirely below the highest sequence seen).
        """
        if length <= 0:
            return False
        key = (src, dst, sport, dport)
        highest = self._payload_end.get(key, 0)
        if rel_seq + length <= highest:
            return False
        if len(self._payload_end) >= 65536:
            self._payload_end.clear()
        self._payload_end[key] = max(highest, rel_seq + length)
        return True

    def _tcp_state(
        self,
        src: bytes,
        dst: bytes,
        sport: int,
        dport: int,
        seq: int,
        ack: int,
        flags: int,
        data: bytes,
        at: int,
        hlen: int,
    ) -> tuple[int, int, int]:
        """Relative-number bases and window scale, as tshark's first pass computes them."""
        return self.tcp_bases(
            src + dst + _PORTS.pack(sport, dport), src, dst, sport, dport, seq, ack, flags, data, at, hlen
        )

    def tcp_bases(
        self,
        key: bytes,
        src: bytes,
        dst: bytes,
        sport: int,
        dport: int,
        seq: int,
        ack: int,
        flags: int,
        data: bytes,
        at: int,
        hlen: int,
    ) -> tuple[int, int, int]:
        """`_tcp_state` for a connection whose `key` is already known (src + dst + ports)."""
        tcp = self._tcp
        entry = tcp.get(key)
        if entry is None or (flags & _SYN and entry[0][0] != -1 and entry[0][0] != seq):
            # A new connection, or a fresh SYN reusing the ports of an old one.
            fwd: list[int] = [-1, -1]
            rev: list[int] = [-1, -1]
            tcp[key] = (fwd, rev)
            reverse = dst + src + _PORTS.pack(dport, sport)
            # Both keys are one when a host talks to itself on one port: one shared direction.
            tcp[reverse] = (rev, fwd) if reverse != key else (rev, rev)
        else:
            fwd, rev = entry
        if fwd[0] == -1:
            fwd[0] = seq if flags & _SYN else (seq - 1) & 0xFFFFFFFF
        if rev[0] == -1 and flags & _ACK:
            rev[0] = (ack - 1) & 0xFFFFFFFF
        if flags & _SYN:
            shift = _window_shift(data, at + 20, min(at + hlen, len(data)))
            if shift is not None:
                fwd[1] = shift
            if fwd[1] == -1:  # this SYN carries no WS option: neither side scales
                fwd[1] = rev[1] = -2
            elif flags & _ACK and rev[1] == -2:
                fwd[1] = -2
        return fwd[0], rev[0] if rev[0] != -1 else 0, fwd[1]

    def _icmp(self, number: int, data: bytes, at: int, src: bytes, dst: bytes) -> None:
        self._proto = "ICMP"
        if len(data) < at + 4:
            raise _Short
        kind, code = data[at], data[at + 1]
        type_str = ICMP_TYPES.get(kind, "Unknown ICMP (obsolete or malformed?)")
        codes = ICMP_CODES.get(kind)
        info = f"{type_str:<20}"
        if codes is not None:
            info += f" ({codes.get(code, 'Unknown code')})"
        if kind in _ICMP_ID_SEQ:
            if len(data) < at + 8:
                self._info = info
                raise _Short
            _k, _c, _ck, ident, seq = _ECHO.unpack_from(data, at)
            info += f" id=0x{ident:04x}, seq={seq}/{(seq & 0xFF) << 8 | seq >> 8}, ttl={self._ip_ttl}"
            if kind in (0, 8):
                info += self._pair(number, kind == 8, src, dst, 4, ident, seq)
        self._info = info

    def _icmpv6(self, number: int, data: bytes, at: int, end: int, src: bytes, dst: bytes) -> None:
        self._proto = "ICMPv6"
        if len(data) < at + 4:
            raise _Short
        kind, code = data[at], data[at + 1]
        info = ICMPV6_TYPES.get(kind, "Unknown")
        codes = ICMPV6_CODES.get(kind)
        if codes is not None:
            info += f" ({codes.get(code, 'Unknown')})"
        limit = min(end, len(data))
        if kind in (128, 129):
            if len(data) < at + 8:
                self._info = info
                raise _Short
            _k, _c, _ck, ident, seq = _ECHO.unpack_from(data, at)
            info += f" id=0x{ident:04x}, seq={seq}, hop limit={self._ip_ttl}"
            info += self._pair(number, kind == 128, src, dst, 6, ident, seq)
        elif kind == 135 and limit >= at + 24:
            info += f" for {ipv6_text(data[at + 8 : at + 24])}"
            info += _nd_options(data, at + 24, limit, 1, " from ")
        elif kind == 136 and limit >= at + 24:
            info += f" {ipv6_text(data[at + 8 : at + 24])}"
            bits = data[at + 4]
            flags = [name for mask, name in ((0x80, "rtr"), (0x40, "sol"), (0x20, "ovr")) if bits & mask]
            if flags:
                info += f" ({', '.join(flags)})"
            info += _nd_options(data, at + 24, limit, 2, " is at ")
        elif kind == 133:
            info += _nd_options(data, at + 8, limit, 1, " from ")
        elif kind == 134:
            info += _nd_options(data, at + 16, limit, 1, " from ")
        self._info = info

    def _pair(
        self, number: int, request: bool, src: bytes, dst: bytes, family: int, ident: int, seq: int
    ) -> str:
        """Echo request/reply pairing; a request only learns of its reply in a second pass."""
        low, high = (src, dst) if src <= dst else (dst, src)
        key = (low, high, family, ident, seq)
        if request:
            self._echo[key] = number
            return ""
        found = self._echo.get(key)
        if found is None or found >= number:
            return ""
        self._state = (found, 0, 0)
        return f" (request in {found})"


def _window_shift(data: bytes, at: int, end: int) -> int | None:
    """The shift count of a SYN's window-scale option, capped at 14 as RFC 7323 says."""
    while at < end:
        kind = data[at]
        if kind == 0:
            return None
        if kind == 1:
            at += 1
            continue
        if at + 1 >= end or data[at + 1] < 2:
            return None
        if kind == 3 and data[at + 1] == 3 and at + 2 < end:
            return min(data[at + 2], 14)
        at += data[at + 1]
    return None


def _tcp_options(data: bytes, at: int, end: int, sack_base: int) -> list[str]:
    """The option summaries tshark appends to TCP's Info (MSS, SACK_PERM, TSval/TSecr, WS, SLE/SRE)."""
    parts: list[str] = []
    while at < end:
        kind = data[at]
        if kind == 0:
            break
        if kind == 1:
            at += 1
            continue
        if at + 1 >= end:
            break
        size = data[at + 1]
        if size < 2 or at + size > end:
            break
        if kind == 2 and size == 4:
            parts.append(f"MSS={_U16.unpack_from(data, at + 2)[0]}")
        elif kind == 3 and size == 3:
            parts.append(f"WS={1 << min(data[at + 2], 14)}")
        elif kind == 4 and size == 2:
            parts.append("SACK_PERM")
        elif kind == 5:
            for edge in range(at + 2, at + size - 7, 8):
                left, right = struct.unpack_from("!II", data, edge)
                parts.append(f"SLE={(left - sack_base) & 0xFFFFFFFF} SRE={(right - sack_base) & 0xFFFFFFFF}")
        elif kind == 8 and size == 10:
            tsval, tsecr = struct.unpack_from("!II", data, at + 2)
            parts.append(f"TSval={tsval} TSecr={tsecr}")
        at += size
    return parts


def _nd_options(data: bytes, at: int, end: int, wanted: int, prefix: str) -> str:
    """Neighbor-discovery link-layer address option text (" from 02:..", " is at 02:..")."""
    while at + 2 <= end:
        kind, units = data[at], data[at + 1]
        if units == 0:
            break
        if kind == wanted and at + 8 <= end:
            return prefix + mac_text(data[at + 2 : at + 8])
        at += units * 8
    return ""


# -- time column -------------------------------------------------------------------------------------

TIME_FORMATS = ("r", "a", "ad", "adoy", "d", "dd", "e", "u", "ud", "udoy")


def _seconds(delta_ns: int, digits: int) -> str:
    sign = "-" if delta_ns < 0 else ""
    seconds, nanos = divmod(abs(delta_ns), 1_000_000_000)
    if digits <= 0:
        return f"{sign}{seconds}"
    return f"{sign}{seconds}.{nanos // 10 ** (9 - digits):0{digits}d}"


def _clock(stamp: int, digits: int, fmt: str) -> str:
    seconds, nanos = divmod(stamp, 1_000_000_000)
    parts = time.gmtime(seconds) if fmt.startswith("u") else time.localtime(seconds)
    if fmt in ("ad", "ud"):
        head = time.strftime("%Y-%m-%d %H:%M:%S", parts)
    elif fmt in ("adoy", "udoy"):
        head = time.strftime("%Y/%j %H:%M:%S", parts)
    else:
        head = time.strftime("%H:%M:%S", parts)
    return f"{head}.{nanos // 10 ** (9 - digits):0{digits}d}" if digits > 0 else head


class TimeColumn:
    """Formats the Time column for tshark's `-t` formats, remembering the reference times."""

    def __init__(self, fmt: str = "r") -> None:
        if fmt not in TIME_FORMATS:
            raise ValueError(f"unknown time format {fmt!r} (known: {', '.join(TIME_FORMATS)})")
        self.fmt = fmt
        self.first: int | None = None
        self.previous: int | None = None

    def text(self, stamp: int, digits: int) -> str:
        if self.first is None:
            self.first = stamp
        previous = self.previous if self.previous is not None else stamp
        self.previous = stamp
        fmt = self.fmt
        if fmt == "r":
            return _seconds(stamp - self.first, digits)
        if fmt in ("d", "dd"):
            return _seconds(stamp - previous, digits)
        if fmt == "e":
            return _seconds(stamp, digits)
        return _clock(stamp, digits, fmt)


def format_line(row: SummaryRow, time_text: str) -> str:
    """The line `tshark -r` prints: No. >5, Time >10, Source >12 → Destination <12, the rest as is."""
    src, dst = row.source, row.destination
    # tshark pads by bytes (strlen), not by characters.
    src_pad = 12 - (len(src) if src.isascii() else len(src.encode("utf-8")))
    dst_pad = 12 - (len(dst) if dst.isascii() else len(dst.encode("utf-8")))
    return (
        f"{row.number:>5} {time_text:>10} {' ' * src_pad}{src} → {dst}{' ' * dst_pad} "
        f"{row.protocol} {row.length} {row.info}"
    )


def write_summary_lines(
    records: Iterable[RawRecord],
    out: TextIO,
    time_format: str = "r",
    limit: int | None = None,
    resolve_names: bool = False,
    escape: Callable[[str], str] | None = None,
    prompt: bool = False,
    prefs: Preferences | None = None,
) -> int:
    """Print one line a packet exactly as `tshark -r FILE` (4.0) does; return the packet count.

    `escape` is applied to every line that holds text taken from a packet (see summary_fast);
    `prompt` flushes every line at once, for input from a pipe still being written;
    `prefs` chooses the TCP analysis and IP reassembly (see Summarizer.for_lines).
    """
    # The loop lives in its own module (it imports this one): an inline fast path for TCP/UDP.
    from analyzer.summary_fast import write_lines

    return write_lines(records, out, time_format, limit, resolve_names, escape, prompt, prefs)


def _arp_claimable(mac: bytes, ip: bytes) -> bool:
    """tshark ignores group and all-zero MACs and the IP 0.0.0.0 when it tracks claims."""
    return bool(any(mac)) and not mac[0] & 1 and any(ip)
