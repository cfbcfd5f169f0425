"""DefragAnnotator: IPv4/IPv6 defragmentation in the tree, as tshark 4.0's single pass shows it.

Runs first among the session's annotators (before the TCP/UDP trackers, which must see the
transport layer of a reassembled datagram). With `Preferences.defragment_ipv4` / `_ipv6` on,
the IPv4 and IPv6 dissectors hand every fragment's payload to `data` (Wireshark's ip.defragment);
this annotator feeds the fragments to a `Defragmenter` and, on the frame whose fragment completes
a datagram, replaces that frame's fragment `data` with the datagram: the "[3 IPv4 Fragments
(4008 bytes): #3(1480), #4(1480), #5(1048)]" tree is added to the IP layer and the reassembled
bytes are dissected as a new data source ("Reassembled IPv4 (4008 bytes)") from the IP protocol
on, with the IP addresses and the datagram length as the transport checksum's pseudo-header.

Only the outermost IP header of a frame (depth 0, the frame's own bytes) is reassembled. Like
tshark's first pass, the other fragments do not say where they were reassembled (tshark -2 adds
"[Reassembled IPv4 in frame: N]"; a forward pass cannot know it yet). Datagrams the table drops
(see analyzer.state.defrag) are counted in `evicted`.
"""

from __future__ import annotations

from dataclasses import dataclass

from analyzer.context import PacketContext
from analyzer.model import Dissection, Field, Layer
from analyzer.pipeline import dissect_reassembled
from analyzer.registry import Next, Registry
from analyzer.state.defrag import (
    ERROR_FLAGS,
    DatagramKey,
    Defragmenter,
    Evicted,
    Flag,
    Fragment,
    PlacedFragment,
    Reassembled,
)

# How many bytes a bytes field's tree label previews before eliding with "…", as tshark 4.0.
PREVIEW_BYTES = 36
IPV6_HEADER = 40
FRAGMENT_HEADER = 8
# (flag, field suffix, label) of the findings shown under a fragment, in tshark's order.
FLAG_FIELDS = (
    (Flag.OVERLAP, "fragment.overlap", "Fragment overlap"),
    (Flag.OVERLAP_CONFLICT, "fragment.overlap.conflict", "Conflicting data in fragment overlap"),
    (Flag.MULTIPLE_TAILS, "fragment.multipletails", "Multiple tail fragments found"),
    (Flag.TOO_LONG, "fragment.toolongfragment", "Fragment too long"),
)


@dataclass(frozen=True, slots=True)
class FragmentFacts:
    """One frame's fragment as the table needs it, and where it sits in the tree."""

    key: DatagramKey
    fragment: Fragment
    anchor: int  # index of the IP layer that gets the fragment tree (ip / ipv6)
    payload_layers: int  # index of the first layer the fragment's payload went to
    next_proto: int  # the protocol of the reassembled payload
    src: bytes
    dst: bytes


def _value(layer: Layer, name: str) -> int | None:
    found = layer.find(name)
    return int(found.value) if found is not None and isinstance(found.value, int) else None


def _raw(data: bytes, layer: Layer, name: str, size: int) -> bytes | None:
    found = layer.find(name)
    if found is None or found.offset < 0 or found.offset + size > len(data):
        return None
    return data[found.offset : found.offset + size]


def ipv4_fragment(dissection: Dissection, index: int) -> FragmentFacts | None:
    """The fragment carried by IPv4 layer `index`, if Wireshark would reassemble it.

    Like packet-ip.c: only a fragment whose payload was captured in full and whose header
    checksum is not bad goes into the table.
    """
    layer, data = dissection.layers[index], dissection.frame.data
    words, total, ident = _value(layer, "ip.hdr_len"), _value(layer, "ip.len"), _value(layer, "ip.id")
    offset, proto = _value(layer, "ip.frag_offset"), _value(layer, "ip.proto")
    more, status = layer.find("ip.flags.mf"), _value(layer, "ip.checksum.status")
    src, dst = _raw(data, layer, "ip.src", 4), _raw(data, layer, "ip.dst", 4)
    if words is None or total is None or ident is None or offset is None or proto is None:
        return None
    if more is None or src is None or dst is None or status == 0:
        return None
    if not (more.value or offset):
        return None
    start, end = layer.offset + words * 4, layer.offset + total
    if end <= start or end > len(data):
        return None
    fragment = Fragment(dissection.frame.number, offset * 8, data[start:end], bool(more.value))
    key = DatagramKey(4, src, dst, ident, proto)
    return FragmentFacts(key, fragment, index, index + 1, proto, src, dst)


def ipv6_fragment(dissection: Dissection, index: int) -> FragmentFacts | None:
    """The fragment whose Fragment header is layer `index` (right after its IPv6 layer)."""
    header, data = dissection.layers[index], dissection.frame.data
    anchor = next((at for at in range(index - 1, -1, -1) if dissection.layers[at].proto == "ipv6"), None)
    if anchor is None or dissection.layers[anchor].depth != 0:
        return None
    ipv6 = dissection.layers[anchor]
    offset, ident = _value(header, "ipv6.fraghdr.offset"), _value(header, "ipv6.fraghdr.ident")
    nxt, more, plen = (
        _value(header, "ipv6.fraghdr.nxt"),
        header.find("ipv6.fraghdr.more"),
        _value(ipv6, "ipv6.plen"),
    )
    src, dst = _raw(data, ipv6, "ipv6.src", 16), _raw(data, ipv6, "ipv6.dst", 16)
    if offset is None or ident is None or nxt is None or more is None or plen is None:
        return None
    if src is None or dst is None or not (more.value or offset):
        return None
    start, end = header.offset + FRAGMENT_HEADER, ipv6.offset + IPV6_HEADER + plen
    if end < start or end > len(data):
        return None
    fragment = Fragment(dissection.frame.number, offset * 8, data[start:end], bool(more.value))
    return FragmentFacts(DatagramKey(6, src, dst, ident), fragment, anchor, index + 1, nxt, src, dst)


def fragment_of(dissection: Dissection) -> FragmentFacts | None:
    """The frame's outermost IP fragment the preferences ask to reassemble, or None."""
    prefs = dissection.prefs
    for index, layer in enumerate(dissection.layers):
        if layer.source != 0:
            return None
        if layer.proto == "ip" and layer.depth == 0:
            return ipv4_fragment(dissection, index) if prefs.defragment_ipv4 else None
        if layer.proto == "ipv6.fraghdr":
            return ipv6_fragment(dissection, index) if prefs.defragment_ipv6 else None
        if layer.proto == "ipv6" and layer.depth == 0 and not prefs.defragment_ipv6:
            return None
    return None


def _bytes_text(count: int) -> str:
    return f"{count} byte" if count == 1 else f"{count} bytes"


def _generated(name: str, label: str, value: int | bytes | bool, show: str) -> Field:
    return Field(name, label, value, show, -1, 0, generated=True)


def fragment_item(prefix: str, placed: PlacedFragment) -> Field:
    """One "[Frame: 3, payload: 0-1479 (1480 bytes)]" line, with its findings under it."""
    name = f"{prefix}.fragment.error" if placed.flags & ERROR_FLAGS else f"{prefix}.fragment"
    if placed.length:
        last = placed.offset + placed.length - 1
        text = f"Frame: {placed.frame}, payload: {placed.offset}-{last} ({_bytes_text(placed.length)})"
    else:
        text = f"Frame: {placed.frame} (no data)"
    item = _generated(name, f"[{text}]", placed.frame, str(placed.frame))
    for flag, suffix, label in FLAG_FIELDS:
        if placed.flags & flag:
            item.add(_generated(f"{prefix}.{suffix}", f"[{label}: True]", True, "1"))
    return item


def fragments_tree(prefix: str, version_name: str, datagram: Reassembled) -> Field:
    """reassemble.c's show_fragment_tree: the fragments, their count and the reassembled bytes.

    IPv4's ip.fragments is a bytes field (tshark prints the datagram's hex); IPv6's
    ipv6.fragments is FT_NONE, which tshark's `-T fields` prints as 1.
    """
    count, size = len(datagram.fragments), len(datagram.data)
    noun = f"{version_name} Fragment" if count == 1 else f"{version_name} Fragments"
    listed = ", ".join(f"#{item.frame}({item.length})" for item in datagram.fragments)
    label = f"[{count} {noun} ({_bytes_text(size)}): {listed}]"
    if prefix == "ip":
        node = _generated("ip.fragments", label, datagram.data, datagram.data.hex())
    else:
        node = Field(f"{prefix}.fragments", label, None, "1", -1, 0, generated=True)
    for placed in datagram.fragments:
        node.add(fragment_item(prefix, placed))
    node.add(_generated(f"{prefix}.fragment.count", f"[Fragment count: {count}]", count, str(count)))
    node.add(
        _generated(
            f"{prefix}.reassembled.length", f"[Reassembled {version_name} length: {size}]", size, str(size)
        )
    )
    preview = datagram.data[:PREVIEW_BYTES].hex() + ("\u2026" if size > PREVIEW_BYTES else "")
    node.add(
        _generated(
            f"{prefix}.reassembled.data",
            f"[Reassembled {version_name} data: {preview}]",
            datagram.data,
            datagram.data.hex(),
        )
    )
    return node


def _drop_payload_layers(dissection: Dissection, first: int) -> None:
    """Remove the layers the fragment's own payload went to (its `data`), and their names from
    frame.protocols, before the reassembled datagram takes their place."""
    removed = dissection.layers[first:]
    del dissection.layers[first:]
    for layer in dissection.layers:
        if layer.proto != "frame":
            continue
        for item in layer.children:
            if item.name != "frame.protocols":
                continue
            chain = str(item.value).split(":") if item.value else []
            for gone in reversed(removed):
                if chain and chain[-1] == gone.proto:
                    chain.pop()
            item.value = item.show = ":".join(chain)
            item.label = f"[Protocols in frame: {item.value}]"
        return


class DefragAnnotator:
    """Feed dissections in capture order; the completing fragment gets the datagram's tree."""

    def __init__(self, registry: Registry | None = None, table: Defragmenter | None = None) -> None:
        self.registry = registry
        self.table = table if table is not None else Defragmenter()
        self.reassembled = 0
        self.evicted = 0

    def annotate(self, dissection: Dissection) -> Dissection:
        """Add the reassembled datagram to this dissection (in place) if it completes one."""
        facts = fragment_of(dissection)
        if facts is None:
            return dissection
        for event in self.table.add(facts.key, facts.fragment, dissection.frame.timestamp_ns):
            if isinstance(event, Evicted):
                self.evicted += 1
            elif isinstance(event, Reassembled) and event.frame == dissection.frame.number:
                self.reassembled += 1
                self._show(dissection, facts, event)
        return dissection

    def _show(self, dissection: Dissection, facts: FragmentFacts, datagram: Reassembled) -> None:
        version = facts.key.version
        prefix, version_name = ("ip", "IPv4") if version == 4 else ("ipv6", "IPv6")
        _drop_payload_layers(dissection, facts.payload_layers)
        dissection.layers[facts.anchor].add(fragments_tree(prefix, version_name, datagram))
        size = len(datagram.data)
        ctx = PacketContext(
            frame=dissection.frame,
            prefs=dissection.prefs,
            ip_version=version,
            ip_src=facts.src,
            ip_dst=facts.dst,
            ip_proto=facts.next_proto,
            ip_payload_len=size,
        )
        if size:
            dissect_reassembled(
                dissection,
                f"Reassembled {version_name} ({_bytes_text(size)})",
                datagram.data,
                Next("ip.proto", (facts.next_proto,), 0, size),
                ctx,
                self.registry,
            )
