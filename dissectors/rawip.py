"""Raw IP: link types with no link header, IPv4 or IPv6 chosen by the version nibble (LINKTYPE_RAW)."""

from __future__ import annotations

from analyzer.context import PacketContext
from analyzer.cursor import ByteCursor
from analyzer.model import Layer
from analyzer.registry import Next, Protocol, Registry

LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6 = 101, 228, 229


def dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    # tshark shows a field-less "Raw packet data" layer for LINKTYPE_RAW (frame.protocols
    # "raw:ip:..."), but none for the explicit IPv4/IPv6 link types, bound straight to ip/ipv6.
    layer.label = "Raw packet data"
    version = cursor.peek_uint(1) >> 4
    return Next("raw.version", (version,), cursor.pos, cursor.end)


def register(registry: Registry) -> None:
    registry.add_protocol(Protocol("raw", "Raw", "Raw packet data", dissect))
    registry.bind("link", LINKTYPE_RAW, "raw")
    registry.bind("raw.version", 4, "ip")
    registry.bind("raw.version", 6, "ipv6")
    registry.bind("link", LINKTYPE_IPV4, "ip")
    registry.bind("link", LINKTYPE_IPV6, "ipv6")
