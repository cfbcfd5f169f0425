"""IPv6: Internet Protocol version 6 header and its extension headers (RFC 8200, RFC 2711, RFC 6275)."""

from __future__ import annotations

from analyzer.context import PacketContext
from analyzer.cursor import Base, ByteCursor, format_ipv6, generated
from analyzer.model import Field, Layer, Severity
from analyzer.registry import Next, Protocol, Registry
from dissectors.ip_names import (
    DSCP_NAMES,
    ECN_NAMES,
    IP_PROTOCOLS,
    IPV6_OPTION_ACTIONS,
    IPV6_OPTION_TYPES,
    IPV6_ROUTER_ALERTS,
    IPV6_ROUTING_TYPES,
)
from dissectors.ipv4 import DSCP_SHORT, ECN_SHORT, add_address

HEADER_LEN = 40
HOPOPTS, ROUTING, FRAGMENT, DSTOPTS = 0, 43, 44, 60
OPT_PAD1, OPT_PADN, OPT_TEL, OPT_ROUTER_ALERT, OPT_JUMBO = 0x00, 0x01, 0x04, 0x05, 0xC2


def tclass_summary(value: int) -> str:
    return f"0x{value:02x} (DSCP: {DSCP_SHORT.get(value >> 2, 'Unknown')}, ECN: {ECN_SHORT[value & 3]})"


def dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    start = cursor.pos
    layer.label = "Internet Protocol Version 6"
    layer.length = HEADER_LEN
    version = cursor.bits(layer, "ipv6.version", "Version", 1, 0xF0)
    layer.add(
        Field(
            "ip.version",
            f"{layer.children[-1].label.split(' = ')[0]} = Version: {version} "
            '[This field makes the filter match on "ip.version == 6" possible]',
            version,
            str(version),
            start,
            1,
            mask=0xF0,
            hidden=True,
        )
    )
    if version != 6:
        layer.problem("ipv6.bogus_ipv6_version", "Bogus IP version", Severity.ERROR, start, 1, "Protocol")
        return None
    if cursor.end - start < HEADER_LEN:
        layer.problem("ipv6.invalid_header", "IPv6 header must be exactly 40 bytes", Severity.ERROR, start, 0)
    cursor.bits(layer, "ipv6.tclass", "Traffic Class", 4, 0x0FF00000, base=Base.HEX, text=tclass_summary)
    tclass = layer.children[-1]
    cursor.bits(
        tclass, "ipv6.tclass.dscp", "Differentiated Services Codepoint", 4, 0x0FC00000, names=DSCP_NAMES
    )
    cursor.bits(tclass, "ipv6.tclass.ecn", "Explicit Congestion Notification", 4, 0x00300000, names=ECN_NAMES)
    cursor.skip(1)
    cursor.bits(
        layer, "ipv6.flow", "Flow Label", 3, 0xFFFFF, base=Base.HEX, text=lambda v: f"0x{v:05x}", advance=True
    )
    plen = cursor.uint(layer, "ipv6.plen", "Payload Length", 2)
    nxt = cursor.uint(layer, "ipv6.nxt", "Next Header", 1, names=IP_PROTOCOLS)
    cursor.uint(layer, "ipv6.hlim", "Hop Limit", 1)
    src_raw = cursor.peek(16)
    src = format_ipv6(src_raw)
    add_address(layer, "ipv6", "src", src_raw, cursor.skip(16), src)
    dst_raw = cursor.peek(16)
    dst = format_ipv6(dst_raw)
    add_address(layer, "ipv6", "dst", dst_raw, cursor.skip(16), dst)
    layer.label = f"Internet Protocol Version 6, Src: {src}, Dst: {dst}"
    framing = cursor.end - start - HEADER_LEN
    if plen > framing and not ctx.in_error:
        layer.problem(
            "ipv6.plen_exceeds_framing",
            f"IPv6 payload length exceeds framing length ({framing} bytes)",
            Severity.WARNING,
            start + 4,
            2,
            "Protocol",
        )
    ctx.ip_version, ctx.ip_src, ctx.ip_dst, ctx.ip_proto = 6, src_raw, dst_raw, nxt
    ctx.ip_payload_len, ctx.ip_fragmented = plen, False
    return Next("ip.proto", (nxt,), start + HEADER_LEN, min(start + HEADER_LEN + plen, cursor.end))


# -- extension headers: each is its own protocol in Wireshark, shown inside the IPv6 tree ------


def begin_extension(cursor: ByteCursor, layer: Layer, ctx: PacketContext, prefix: str) -> tuple[int, int]:
    """Next header and length fields common to options and routing headers; returns (nxt, size)."""
    layer.depth = ctx.depth + 1
    nxt = cursor.uint(layer, f"{prefix}.nxt", "Next Header", 1, names=IP_PROTOCOLS)
    words = cursor.uint(layer, f"{prefix}.len", "Length", 1)
    size = (words + 1) * 8
    generated(layer, f"{prefix}.len_oct", f"[Length: {size} bytes]", size, offset=cursor.pos - 1, length=1)
    layer.length = size
    return nxt, size


def leave_extension(cursor: ByteCursor, ctx: PacketContext, start: int, nxt: int, size: int) -> Next:
    """Hand the rest of the payload to the next header, keeping the transport pseudo-header facts right."""
    ctx.ip_proto = nxt
    if ctx.ip_payload_len >= 0:
        ctx.ip_payload_len = max(ctx.ip_payload_len - size, 0)
    return Next("ip.proto", (nxt,), start + size, cursor.end)


def dissect_options_header(cursor: ByteCursor, layer: Layer, ctx: PacketContext, prefix: str) -> Next:
    start = cursor.pos
    nxt, size = begin_extension(cursor, layer, ctx, prefix)
    body = cursor.restrict_to(size - 2)
    while body.pos < body.end:
        dissect_option(body, layer)
    cursor.check(start, size)  # a header longer than its packet is malformed
    return leave_extension(cursor, ctx, start, nxt, size)


def dissect_option(body: ByteCursor, layer: Layer) -> None:
    pos = body.pos
    kind = body.peek_uint(1)
    name = IPV6_OPTION_TYPES.get(kind)
    title = name if name is not None else f"Unknown IPv6 Option ({kind})"
    option = layer.add(Field("ipv6.opt", title, None, "", pos, 1))
    type_text = f"{name or 'Unknown'} (0x{kind:02x})"
    body.uint(option, "ipv6.opt.type", "Type", 1, base=Base.HEX, text=lambda _v: type_text)
    if kind == OPT_PAD1:
        option.add(Field("ipv6.opt.pad1", "Pad1", None, "", pos, 1))
        return
    kind_field = option.children[-1]
    body.bits(kind_field, "ipv6.opt.type.action", "Action", 1, 0xC0, at=pos, names=IPV6_OPTION_ACTIONS)
    body.flag(
        kind_field, "ipv6.opt.type.change", "May Change", 1, 0x20, at=pos, true_text="Yes", false_text="No"
    )
    body.bits(kind_field, "ipv6.opt.type.rest", "Low-Order Bits", 1, 0x1F, at=pos, base=Base.HEX)
    length = body.uint(option, "ipv6.opt.length", "Length", 1)
    option.length = min(2 + length, body.limit - pos)  # never past the bytes we have
    data = body.restrict_to(length)
    if kind == OPT_PADN:
        at, raw = data.pos, data.peek(length)
        shown = raw.hex() or "<none>"  # tshark prints empty bytes as <none>
        option.add(Field("ipv6.opt.padn", f"PadN: {shown}", raw, shown, at, length))
    elif kind == OPT_ROUTER_ALERT and length == 2:
        data.uint(option, "ipv6.opt.router_alert", "Router Alert", 2, names=IPV6_ROUTER_ALERTS)
    elif kind == OPT_JUMBO and length == 4:
        data.uint(option, "ipv6.opt.jumbo", "Payload Length", 4)
    elif kind == OPT_TEL and length == 1:
        data.uint(option, "ipv6.opt.tel", "Tunnel Encapsulation Limit", 1)
    elif length:
        at = data.pos
        data.bytes_field(option, "ipv6.opt.unknown", "Unknown Option Payload", length)
        layer.problem(
            "ipv6.opt.unknown_data.expert",
            "Unknown Data (not interpreted)",
            Severity.NOTE,
            at,
            length,
            "Undecoded",
        )


def dissect_hopopts(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next:
    layer.label = "IPv6 Hop-by-Hop Option"
    if len(ctx.protocols) < 2 or ctx.protocols[-2] != "ipv6":
        layer.problem(
            "ipv6.hopopts.not_first",
            "IPv6 Hop-by-Hop extension header must appear immediately after IPv6 header",
            Severity.ERROR,
            cursor.pos,
            0,
            "Protocol",
        )
    return dissect_options_header(cursor, layer, ctx, "ipv6.hopopts")


def dissect_dstopts(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next:
    layer.label = "Destination Options for IPv6"
    return dissect_options_header(cursor, layer, ctx, "ipv6.dstopts")


def dissect_routing(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next:
    start = cursor.pos
    nxt, size = begin_extension(cursor, layer, ctx, "ipv6.routing")
    kind = cursor.uint(layer, "ipv6.routing.type", "Type", 1, names=IPV6_ROUTING_TYPES)
    layer.label = f"Routing Header for IPv6 ({IPV6_ROUTING_TYPES.get(kind, 'Unknown')})"
    segments_left = cursor.uint(layer, "ipv6.routing.segleft", "Segments Left", 1)
    body = cursor.restrict_to(size - 4)
    if kind in (0, 2):
        if kind == 0:
            layer.problem(
                "ipv6.routing.deprecated",
                "Routing header type is deprecated",
                Severity.NOTE,
                start + 2,
                1,
                "Deprecated",
            )
        prefix, addr_name = (
            ("ipv6.routing.src", "addr") if kind == 0 else ("ipv6.routing.mipv6", "home_address")
        )
        body.bytes_field(layer, f"{prefix}.reserved", "Reserved", 4)
        index, last = 0, b""
        while body.remaining >= 16:
            index += 1
            last = body.peek(16)
            body.ipv6(layer, f"{prefix}.{addr_name}", f"Address[{index}]")
        if segments_left and last:
            # The transport checksum covers the final destination, not the next hop.
            ctx.ip_dst = last
    elif body.remaining:
        body.bytes_field(layer, "ipv6.routing.unknown_data", "Type-Specific Data", body.remaining)
    cursor.check(start, size)
    return leave_extension(cursor, ctx, start, nxt, size)


def dissect_fraghdr(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next:
    start = cursor.pos
    layer.label = "Fragment Header for IPv6"
    layer.depth, layer.length = ctx.depth + 1, 8
    nxt = cursor.uint(layer, "ipv6.fraghdr.nxt", "Next header", 1, names=IP_PROTOCOLS)
    cursor.uint(layer, "ipv6.fraghdr.reserved_octet", "Reserved octet", 1, base=Base.HEX)
    offset = cursor.bits(
        layer, "ipv6.fraghdr.offset", "Offset", 2, 0xFFF8, text=lambda v: f"{v} ({v * 8} bytes)"
    )
    cursor.bits(layer, "ipv6.fraghdr.reserved_bits", "Reserved bits", 2, 0x0006)
    more = cursor.flag(
        layer, "ipv6.fraghdr.more", "More Fragments", 2, 0x0001, true_text="Yes", false_text="No"
    )
    cursor.skip(2)
    cursor.uint(layer, "ipv6.fraghdr.ident", "Identification", 4, base=Base.HEX)
    ctx.ip_fragmented = more or offset > 0
    if offset > 0 or (more and ctx.prefs.defragment_ipv6 and not ctx.in_error):
        # A later fragment is opaque bytes (no table binds "ip.fragment"); so is a first one
        # when analyzer.state.defrag puts the datagram back together (Wireshark's ipv6.defragment).
        ctx.ip_proto = nxt
        return Next("ip.fragment", (nxt,), start + 8, cursor.end)
    return leave_extension(cursor, ctx, start, nxt, 8)


def register(registry: Registry) -> None:
    registry.add_protocol(Protocol("ipv6", "IPv6", "Internet Protocol Version 6", dissect))
    registry.add_protocol(
        Protocol("ipv6.hopopts", "IPv6 Hop-by-Hop", "IPv6 Hop-by-Hop Option", dissect_hopopts)
    )
    registry.add_protocol(
        Protocol("ipv6.routing", "IPv6 Routing", "Routing Header for IPv6", dissect_routing)
    )
    registry.add_protocol(
        Protocol("ipv6.fraghdr", "IPv6 Fragment", "Fragment Header for IPv6", dissect_fraghdr)
    )
    registry.add_protocol(
        Protocol("ipv6.dstopts", "IPv6 Destination", "Destination Options for IPv6", dissect_dstopts)
    )
    registry.bind("ethertype", 0x86DD, "ipv6")
    registry.bind("link", 229, "ipv6")
    for key, name in (
        (HOPOPTS, "ipv6.hopopts"),
        (ROUTING, "ipv6.routing"),
        (FRAGMENT, "ipv6.fraghdr"),
        (DSTOPTS, "ipv6.dstopts"),
    ):
        registry.bind("ip.proto", key, name)
