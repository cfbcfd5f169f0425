"""Null/Loopback: the 4-byte address-family header of BSD loopback captures (LINKTYPE_NULL, LINKTYPE_LOOP)."""

from __future__ import annotations

from analyzer.context import PacketContext
from analyzer.cursor import ByteCursor
from analyzer.model import Layer
from analyzer.registry import Next, Protocol, Registry
from dissectors.ethertypes import ETHERTYPE_NAMES

LINKTYPE_NULL, LINKTYPE_LOOP = 0, 108
HEADER_LEN = 4
MAX_802_3_LENGTH = 1500

# BSD address families; IPv6's number differs between the BSDs (24 NetBSD/OpenBSD,
# 28 FreeBSD, 30 Darwin), so all three mean IPv6.
FAMILY_NAMES = {2: "IP", 7: "OSI", 16: "Appletalk", 23: "Netware IPX/SPX", 24: "IPv6", 28: "IPv6", 30: "IPv6"}


def dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    start = cursor.pos
    layer.label = "Null/Loopback"
    cursor.check(start, HEADER_LEN)
    layer.length = HEADER_LEN
    payload = start + HEADER_LEN
    if ctx.frame.linktype == LINKTYPE_LOOP:
        # OpenBSD's loopback header is always in network byte order.
        family = cursor.uint(layer, "null.family", "Family", 4, names=FAMILY_NAMES)
        return Next("null.family", (family,), payload, cursor.end)
    # LINKTYPE_NULL is in the capturing host's byte order: like Wireshark, read it little-endian
    # and byte-swap a value whose upper half is set.
    value = cursor.peek_uint(4, little=True)
    little = not value & 0xFFFF0000
    if not little:
        value = cursor.peek_uint(4)
    if value > MAX_802_3_LENGTH:
        # Some systems put an EtherType here instead of an address family.
        cursor.uint(layer, "null.type", "Type", 4, little=little, text=type_text, show=hex4)
        return Next("ethertype", (value & 0xFFFF,), payload, cursor.end)
    cursor.uint(layer, "null.family", "Family", 4, names=FAMILY_NAMES, little=little)
    return Next("null.family", (value,), payload, cursor.end)


def hex4(value: int) -> str:
    """null.type is a 16-bit field laid over the 4 header bytes."""
    return f"0x{value & 0xFFFF:04x}"


def type_text(value: int) -> str:
    return f"{ETHERTYPE_NAMES.get(value & 0xFFFF, 'Unknown')} ({hex4(value)})"


def register(registry: Registry) -> None:
    registry.add_protocol(Protocol("null", "NULL", "Null/Loopback", dissect))
    registry.bind_many("link", (LINKTYPE_NULL, LINKTYPE_LOOP), "null")
    registry.bind("null.family", 2, "ip")
    registry.bind_many("null.family", (24, 28, 30), "ipv6")
