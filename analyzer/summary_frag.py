"""IP defragmentation for the fast summary line (analyzer/summary.py), as tshark 4.0's single pass.

With ip.defragment / ipv6.defragment on, tshark shows every fragment it keeps for reassembly as
"Fragmented IP protocol (proto=ICMP 1, off=0, ID=d42f)" (IPv4) or "IPv6 fragment (off=0 more=y
ident=0x5ec6c2cd nxt=58)" (IPv6), the first fragment included, and on the fragment completing a
datagram it dissects the datagram: that frame's Info is the transport's ("Echo (ping) request
..."), its Protocol column the transport's. Its single pass never appends "[Reassembled in #N]"
to the other fragments (only `tshark -2` does, from a second pass), so neither do we.

`FragmentSummary` works on raw bytes, with the same `Defragmenter` (and so the same completion,
overlap and eviction rules) as the tree's analyzer.state.defrag_annotate. The Summarizer calls it
where it meets a fragment:

    outcome = self._frag.ipv4(number, stamp_ns, data, off)      # off: the IPv4 header's offset
    if outcome is not None:
        if outcome.datagram is None:
            # held for reassembly: the "Fragmented IP protocol (... off=N ...)" Info, even for off=0
        else:
            self._transport(number, proto, outcome.datagram, 0, len(outcome.datagram), src, dst, 4)
    # None: not a fragment it keeps (not fragmented, snapped, bad checksum): as without reassembly

    outcome = self._frag.ipv6(number, stamp_ns, data, off, at)  # at: the Fragment header's offset
    if outcome is not None:
        if outcome.datagram is None:
            # the "IPv6 fragment (off=... more=... ident=... nxt=...)" Info, even for off=0
        else:
            # go on with nxt = data[at] over outcome.datagram from 0 (it may start with more
            # extension headers), as tshark dissects the reassembled payload
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from analyzer.state.defrag import DatagramKey, Defragmenter, Fragment, Reassembled

_IPV4 = struct.Struct("!BBHHHBBH4s4s")
_FRAGHDR = struct.Struct("!BBHI")


@dataclass(frozen=True, slots=True)
class FragmentOutcome:
    """A fragment kept for reassembly: `datagram` is the reassembled payload on the frame that
    completes one, None on the others."""

    datagram: bytes | None


HELD = FragmentOutcome(None)


def ipv4_header_ok(data: bytes, off: int, header_len: int) -> bool:
    """The RFC 1071 check over the header: its ones'-complement sum is all ones."""
    header = data[off : off + header_len]
    total: int = sum(struct.unpack(f"!{header_len // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total == 0xFFFF


class FragmentSummary:
    """Feed in capture order; tells the summary which fragments are held and what they complete."""

    def __init__(
        self,
        ipv4: bool = True,
        ipv6: bool = True,
        check_checksum: bool = False,
        table: Defragmenter | None = None,
    ) -> None:
        self.ipv4_enabled = ipv4
        self.ipv6_enabled = ipv6
        # tshark's ip.check_checksum: with it on, a fragment with a bad header checksum is not kept.
        self.check_checksum = check_checksum
        self.table = table if table is not None else Defragmenter()

    def ipv4(self, number: int, stamp_ns: int, data: bytes, off: int) -> FragmentOutcome | None:
        """The IPv4 packet at `off`: None unless it is a fragment tshark would keep (packet-ip.c:
        fragmented, its payload captured in full, its header checksum not known bad)."""
        if not self.ipv4_enabled or len(data) < off + 20:
            return None
        vhl, _tos, total, ident, flags, _ttl, proto, _sum, src, dst = _IPV4.unpack_from(data, off)
        header_len = (vhl & 0x0F) * 4
        more, offset = bool(flags & 0x2000), (flags & 0x1FFF) * 8
        if vhl >> 4 != 4 or header_len < 20 or not (more or offset):
            return None
        if total <= header_len or off + total > len(data):
            return None
        if self.check_checksum and not ipv4_header_ok(data, off, header_len):
            return None
        fragment = Fragment(number, offset, data[off + header_len : off + total], more)
        return self._add(DatagramKey(4, src, dst, ident, proto), fragment, stamp_ns)

    def ipv6(self, number: int, stamp_ns: int, data: bytes, off: int, at: int) -> FragmentOutcome | None:
        """The Fragment header at `at` of the IPv6 packet at `off`: None for an atomic fragment
        (offset 0, no more fragments), which tshark dissects as it is."""
        if not self.ipv6_enabled or len(data) < off + 40 or len(data) < at + 8:
            return None
        _nxt, _reserved, field, ident = _FRAGHDR.unpack_from(data, at)
        more, offset = bool(field & 1), field & 0xFFF8
        if not (more or offset):
            return None
        end = off + 40 + (data[off + 4] << 8 | data[off + 5])
        if end < at + 8 or end > len(data):
            # tshark shows such a fragment as data without keeping it.
            return HELD
        key = DatagramKey(6, data[off + 8 : off + 24], data[off + 24 : off + 40], ident)
        return self._add(key, Fragment(number, offset, data[at + 8 : end], more), stamp_ns)

    def _add(self, key: DatagramKey, fragment: Fragment, stamp_ns: int) -> FragmentOutcome:
        for event in self.table.add(key, fragment, stamp_ns):
            if isinstance(event, Reassembled) and event.frame == fragment.frame:
                return FragmentOutcome(event.data)
        return HELD
