"""Linux cooked capture: the pseudo link header of "any"-device captures (LINKTYPE_LINUX_SLL, SLL2)."""

from __future__ import annotations

from analyzer.context import PacketContext
from analyzer.cursor import Base, ByteCursor, format_ipv4
from analyzer.model import Field, Layer
from analyzer.registry import Next, Protocol, Registry
from dissectors.eth import mac_display
from dissectors.ethertypes import ARP_HARDWARE_NAMES, ETHERTYPE_NAMES

LINKTYPE_SLL, LINKTYPE_SLL2 = 113, 276
V1_HEADER_LEN = 16
V2_HEADER_LEN = 20
ADDRESS_SPACE = 8  # the header always reserves 8 bytes for the link-layer address
MAX_802_3_LENGTH = 1500

PACKET_TYPES = {
    0: "Unicast to us",
    1: "Broadcast",
    2: "Multicast",
    3: "Unicast to another host",
    4: "Sent by us",
}
# Linux protocol numbers that stand in for an EtherType when it is a length (sll.ltype).
LINUX_PROTOCOLS = {
    0x0001: "Raw 802.3",
    0x0003: "Ethernet",
    0x0004: "802.2 LLC",
    0x0007: "PPP (HDLC)",
    0x000C: "CAN",
    0x000D: "CAN FD",
    0x0017: "IrDA LAP",
    0x00F5: "ISI",
    0x00F6: "IEEE 802.15.4",
}
HATYPE_ETHER_LIKE = (1, 772)  # Ethernet, loopback: six-byte MAC addresses
HATYPE_IPGRE = 778


def add_address(
    cursor: ByteCursor, layer: Layer, ctx: PacketContext, hatype: int, halen: int, at: int
) -> None:
    """The source link-layer address, typed by hatype, then the unused rest of its 8 bytes."""
    shown = min(halen, ADDRESS_SPACE)
    if hatype in HATYPE_ETHER_LIKE and halen == 6:
        mac = cursor.peek(6, at)
        cursor.ether(layer, "sll.src.eth", "Source", at=at, text=mac_display(mac, ctx))
    elif hatype == HATYPE_IPGRE and halen == 4:
        text = format_ipv4(cursor.peek(4, at))
        layer.add(Field("sll.src.ipv4", f"Source: {text}", text, text, at, 4))
    elif shown > 0:
        cursor.bytes_field(layer, "sll.src.other", "Source", shown, at=at)
    if shown < ADDRESS_SPACE:
        cursor.bytes_field(layer, "sll.unused", "Unused", ADDRESS_SPACE - shown, at=at + shown)


def next_step(
    cursor: ByteCursor, layer: Layer, ctx: PacketContext, hatype: int, at: int, payload: int
) -> Next:
    """Dispatch on the protocol field: an EtherType, a GRE type, or a Linux protocol number."""
    protocol = cursor.peek_uint(2, at)
    if hatype == HATYPE_IPGRE:
        cursor.uint(layer, "sll.gretype", "Protocol", 2, base=Base.HEX, names=ETHERTYPE_NAMES, at=at)
        return Next("gre.proto", (protocol,), payload, cursor.end)
    if protocol <= MAX_802_3_LENGTH:
        cursor.uint(layer, "sll.ltype", "Protocol", 2, base=Base.HEX, names=LINUX_PROTOCOLS, at=at)
        return Next("sll.ltype", (protocol,), payload, cursor.end)
    cursor.uint(layer, "sll.etype", "Protocol", 2, base=Base.HEX, names=ETHERTYPE_NAMES, at=at)
    ctx.protocols.append("ethertype")
    return Next("ethertype", (protocol,), payload, cursor.end, trailer="sll.trailer")


def dissect_v1(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    start = cursor.pos
    layer.label = "Linux cooked capture v1"
    cursor.check(start, V1_HEADER_LEN)
    layer.length = V1_HEADER_LEN
    cursor.uint(layer, "sll.pkttype", "Packet type", 2, names=PACKET_TYPES)
    hatype = cursor.uint(layer, "sll.hatype", "Link-layer address type", 2, names=ARP_HARDWARE_NAMES)
    halen = cursor.uint(layer, "sll.halen", "Link-layer address length", 2)
    add_address(cursor, layer, ctx, hatype, halen, start + 6)
    return next_step(cursor, layer, ctx, hatype, start + 14, start + V1_HEADER_LEN)


def dissect_v2(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    start = cursor.pos
    layer.label = "Linux cooked capture v2"
    cursor.check(start, V2_HEADER_LEN)
    layer.length = V2_HEADER_LEN
    hatype = cursor.peek_uint(2, start + 8)
    # v2 puts the protocol first; tshark shows it first, then the (unshown) reserved bytes.
    step = next_step(cursor, layer, ctx, hatype, start, start + V2_HEADER_LEN)
    cursor.uint(layer, "sll.ifindex", "Interface index", 4, at=start + 4)
    cursor.uint(layer, "sll.hatype", "Link-layer address type", 2, names=ARP_HARDWARE_NAMES, at=start + 8)
    cursor.uint(layer, "sll.pkttype", "Packet type", 1, names=PACKET_TYPES, at=start + 10)
    halen = cursor.uint(layer, "sll.halen", "Link-layer address length", 1, at=start + 11)
    add_address(cursor, layer, ctx, hatype, halen, start + 12)
    return step


def dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    # Both versions are Wireshark's one "sll" protocol; the link type picks the header layout.
    if ctx.frame.linktype == LINKTYPE_SLL2:
        return dissect_v2(cursor, layer, ctx)
    return dissect_v1(cursor, layer, ctx)


def register(registry: Registry) -> None:
    registry.add_protocol(Protocol("sll", "SLL", "Linux cooked capture", dissect))
    registry.bind_many("link", (LINKTYPE_SLL, LINKTYPE_SLL2), "sll")
