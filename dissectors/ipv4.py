"""IPv4: Internet Protocol version 4 header, options and payload dispatch (RFC 791, RFC 2474, RFC 3168)."""

from __future__ import annotations

from analyzer.context import PacketContext
from analyzer.cursor import Base, ByteCursor, Parent, format_ipv4, generated, text_node
from analyzer.model import Field, Layer, Severity
from analyzer.registry import Next, Protocol, Registry
from dissectors.ip_names import (
    DSCP_NAMES,
    ECN_NAMES,
    IP_PROTOCOLS,
    IPV4_OPTION_CLASSES,
    IPV4_OPTION_NUMBERS,
    IPV4_SECURITY_LEVELS,
    IPV4_TIMESTAMP_FLAGS,
)

MIN_HEADER = 20
ETHERTYPE_IPV6 = 0x86DD
# Protocols whose routers legitimately send with a tiny TTL (no "TTL only N" note for them).
PROTO_PIM, PROTO_OSPF = 103, 89

# The abbreviations Wireshark puts in the DS field's summary: "(DSCP: CS0, ECN: Not-ECT)".
DSCP_SHORT = {
    0: "CS0",
    1: "LE",
    8: "CS1",
    10: "AF11",
    12: "AF12",
    14: "AF13",
    16: "CS2",
    18: "AF21",
    20: "AF22",
    22: "AF23",
    24: "CS3",
    26: "AF31",
    28: "AF32",
    30: "AF33",
    32: "CS4",
    34: "AF41",
    36: "AF42",
    38: "AF43",
    40: "CS5",
    44: "VA",
    46: "EF",
    48: "CS6",
    56: "CS7",
}
ECN_SHORT = {0: "Not-ECT", 1: "ECT(1)", 2: "ECT(0)", 3: "CE"}

OPT_EOL, OPT_NOP = 0x00, 0x01
# type -> (filter name suffix, title, fixed length or 0 when variable)
KNOWN_OPTIONS: dict[int, tuple[str, str, int]] = {
    0x82: ("security", "Security", 11),
    0x83: ("route", "Loose Source Route", 0),
    0x44: ("timestamp", "Time Stamp", 0),
    0x07: ("record_route", "Record Route", 0),
    0x88: ("sid", "Stream ID", 4),
    0x89: ("source_route", "Strict Source Route", 0),
    0x0B: ("mtu_probe", "MTU Probe", 4),
    0x0C: ("mtu_reply", "MTU Reply", 4),
    0x94: ("routeralert", "Router Alert", 4),
}
# Options Wireshark names but that we show as a plain line (their bodies are rarely seen).
NAMED_ONLY = {
    0x85: "Extended Security",
    0x86: "Commercial Security",
    0x52: "Traceroute",
    0x95: "Selective Directed Broadcast",
    0x19: "Quick-Start",
}
ROUTER_ALERT_NAMES = {0: "Router shall examine packet"}


def internet_checksum(data: bytes) -> int:
    """The RFC 1071 ones'-complement checksum of `data` (zero-padded to an even length)."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def add_address(parent: Parent, prefix: str, role: str, raw: bytes, offset: int, text: str) -> None:
    """The src/dst field plus the hidden addr/host twins tshark adds after it."""
    label = "Source" if role == "src" else "Destination"
    size = len(raw)
    parent.add(Field(f"{prefix}.{role}", f"{label} Address: {text}", text, text, offset, size))
    for name, title in (
        (f"{prefix}.addr", "Source or Destination Address"),
        (f"{prefix}.{role}_host", f"{label} Host"),
        (f"{prefix}.host", "Source or Destination Host"),
    ):
        parent.add(Field(name, f"{title}: {text}", text, text, offset, size, hidden=True))


def dsfield_summary(value: int) -> str:
    dscp, ecn = value >> 2, value & 3
    return f"0x{value:02x} (DSCP: {DSCP_SHORT.get(dscp, 'Unknown')}, ECN: {ECN_SHORT[ecn]})"


def add_dsfield(cursor: ByteCursor, layer: Layer, offset: int) -> None:
    cursor.uint(layer, "ip.dsfield", "Differentiated Services Field", 1, base=Base.HEX, text=dsfield_summary)
    ds = layer.children[-1]
    cursor.bits(
        ds, "ip.dsfield.dscp", "Differentiated Services Codepoint", 1, 0xFC, at=offset, names=DSCP_NAMES
    )
    cursor.bits(ds, "ip.dsfield.ecn", "Explicit Congestion Notification", 1, 0x03, at=offset, names=ECN_NAMES)


def flags_text(value: int) -> str:
    names = [
        name
        for bit, name in ((4, "Reserved bit"), (2, "Don't fragment"), (1, "More fragments"))
        if value & bit
    ]
    return ", ".join([f"0x{value:x}", *names])


def dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    start = cursor.pos
    version = cursor.peek_uint(1) >> 4
    if version == 6:
        # Wireshark's "ip" dissector hands a version-6 packet straight to IPv6.
        layer.label = "Internet Protocol Version 6"
        layer.length = 0
        return Next("ethertype", (ETHERTYPE_IPV6,), start, cursor.end)
    if version != 4:
        layer.label, layer.length = f"Internet Protocol, bogus version ({version})", 1
        cursor.bits(layer, "ip.version", "Version", 1, 0xF0)
        layer.problem("ip.bogus_ip_version", "Bogus IP version", Severity.ERROR, start, 1, "Protocol")
        return None
    layer.label = "Internet Protocol Version 4"
    cursor.bits(layer, "ip.version", "Version", 1, 0xF0)
    hdr_len = 4 * cursor.bits(
        layer,
        "ip.hdr_len",
        "Header Length",
        1,
        0x0F,
        text=lambda v: f"{v * 4} bytes ({v})",
        show=lambda v: str(v * 4),
        advance=True,
    )
    # Never narrower than the bytes already read, even when the header length is bogus.
    layer.length = max(hdr_len, cursor.pos - start)
    if hdr_len < MIN_HEADER:
        layer.problem(
            "ip.bogus_header_length",
            f"Bogus IP header length ({hdr_len}, must be at least {MIN_HEADER})",
            Severity.ERROR,
            start,
            1,
            "Protocol",
        )
        return None
    add_dsfield(cursor, layer, start + 1)
    total_len = cursor.peek_uint(2)
    if total_len < hdr_len:
        cursor.uint(
            layer,
            "ip.len",
            "Total Length",
            2,
            text=lambda v: f"{v} bytes (bogus, less than header length {hdr_len})",
        )
        layer.problem("ip.bogus_ip_length", "Bogus IP length", Severity.ERROR, start + 2, 2, "Protocol")
        return None
    cursor.uint(layer, "ip.len", "Total Length", 2)
    reported = cursor.end - start
    if total_len > reported and not ctx.in_error:
        layer.problem(
            "ip.bogus_ip_length",
            f"IPv4 total length exceeds packet length ({reported} bytes)",
            Severity.ERROR,
            start + 2,
            2,
            "Protocol",
        )
    cursor.uint(layer, "ip.id", "Identification", 2, base=Base.HEX_DEC)
    flags = cursor.bits(layer, "ip.flags", "Flags", 1, 0xE0, text=flags_text, show=lambda v: f"0x{v:02x}")
    flag_field = layer.children[-1]
    for name, text, mask in (
        ("rb", "Reserved bit", 0x80),
        ("df", "Don't fragment", 0x40),
        ("mf", "More fragments", 0x20),
    ):
        cursor.flag(flag_field, f"ip.flags.{name}", text, 1, mask)
    frag_offset = cursor.bits(
        layer, "ip.frag_offset", "Fragment Offset", 2, 0x1FFF, text=lambda v: str(v * 8)
    )
    cursor.skip(2)
    ttl = cursor.uint(layer, "ip.ttl", "Time to Live", 1)
    ttl_at = cursor.pos - 1
    proto = cursor.uint(layer, "ip.proto", "Protocol", 1, names=IP_PROTOCOLS)
    add_checksum(cursor, layer, ctx, start, hdr_len)
    src_raw, dst_raw = cursor.peek(4), cursor.peek(4, cursor.pos + 4)
    src, dst = format_ipv4(src_raw), format_ipv4(dst_raw)
    add_address(layer, "ip", "src", src_raw, cursor.pos, src)
    add_address(layer, "ip", "dst", dst_raw, cursor.pos + 4, dst)
    cursor.skip(8)
    layer.label = f"Internet Protocol Version 4, Src: {src}, Dst: {dst}"
    check_ttl(layer, ttl, ttl_at, dst_raw, proto)
    if hdr_len > MIN_HEADER:
        dissect_options(cursor, layer, start + MIN_HEADER, start + hdr_len)
    ctx.ip_version, ctx.ip_src, ctx.ip_dst, ctx.ip_proto = 4, src_raw, dst_raw, proto
    ctx.ip_payload_len = total_len - hdr_len
    ctx.ip_fragmented = bool(flags & 1) or frag_offset > 0
    payload_end = min(start + total_len, cursor.end)
    if payload_end <= start + hdr_len:
        # tshark 4.0 calls no subdissector for an empty payload (ip.len == header length, or
        # a frame that ends after the header); an uncaptured one still goes on, to be reported.
        return None
    if frag_offset > 0 or (flags & 1 and reassembling(layer, ctx, start + total_len <= len(cursor.data))):
        # A later fragment is opaque bytes (no table binds "ip.fragment"); so is a first one
        # that analyzer.state.defrag will put back together on the frame completing it.
        return Next("ip.fragment", (proto,), start + hdr_len, payload_end)
    return Next("ip.proto", (proto,), start + hdr_len, payload_end)


def reassembling(layer: Layer, ctx: PacketContext, captured: bool) -> bool:
    """Whether a first fragment is kept for reassembly rather than dissected: as Wireshark's
    ip.defragment, only when all its bytes were captured and its header checksum is not bad
    (and never inside an ICMP error, whose quoted packet is not a fragment of ours)."""
    bad = any(found.code == "ip.checksum_bad.expert" for found in layer.problems)
    return ctx.prefs.defragment_ipv4 and captured and not bad and not ctx.in_error


def add_checksum(cursor: ByteCursor, layer: Layer, ctx: PacketContext, start: int, hdr_len: int) -> None:
    offset = cursor.pos
    value = cursor.peek_uint(2)
    header = cursor.data[start : start + hdr_len]
    if not ctx.prefs.check_checksums or len(header) < hdr_len:
        cursor.uint(
            layer,
            "ip.checksum",
            "Header Checksum",
            2,
            base=Base.HEX,
            text=lambda v: f"0x{v:04x} [validation disabled]",
        )
        generated(layer, "ip.checksum.status", "[Header checksum status: Unverified]", 2, offset=offset)
        return
    expected = internet_checksum(header[:10] + b"\x00\x00" + header[12:])
    if expected == value or internet_checksum(header) == 0:
        cursor.uint(
            layer, "ip.checksum", "Header Checksum", 2, base=Base.HEX, text=lambda v: f"0x{v:04x} [correct]"
        )
        generated(layer, "ip.checksum.status", "[Header checksum status: Good]", 1, offset=offset)
    else:
        cursor.uint(
            layer,
            "ip.checksum",
            "Header Checksum",
            2,
            base=Base.HEX,
            text=lambda v: (
                f'0x{v:04x} incorrect, should be 0x{expected:04x}(may be caused by "IP checksum offload"?)'
            ),
        )
        layer.problem(
            "ip.checksum_bad.expert",
            f"Bad checksum [should be 0x{expected:04x}]",
            Severity.ERROR,
            offset,
            2,
            "Checksum",
        )
        generated(layer, "ip.checksum.status", "[Header checksum status: Bad]", 0, offset=offset)
    generated(
        layer,
        "ip.checksum_calculated",
        f"[Calculated Checksum: 0x{expected:04x}]",
        expected,
        f"0x{expected:04x}",
        offset,
        2,
    )


def check_ttl(layer: Layer, ttl: int, offset: int, dst: bytes, proto: int) -> None:
    """Wireshark's notes on suspicious TTLs (RFC 3171 local network control block, tiny TTLs)."""
    if dst[:3] == b"\xe0\x00\x00":
        if ttl != 1:
            layer.problem(
                "ip.ttl.lncb",
                '"Time To Live" != 1 for a packet sent to the Local Network Control Block (see RFC 3171)',
                Severity.NOTE,
                offset,
                1,
                "Sequence",
            )
    elif dst[0] >> 4 != 0xE and ttl < 5 and proto not in (PROTO_PIM, PROTO_OSPF):
        layer.problem("ip.ttl.too_small", f'"Time To Live" only {ttl}', Severity.NOTE, offset, 1, "Sequence")


def plural(count: int) -> str:
    return f"{count} byte" if count == 1 else f"{count} bytes"


def dissect_options(cursor: ByteCursor, layer: Layer, start: int, end: int) -> None:
    """The options area, as Wireshark's dissect_ip_tcp_options walks it."""
    cursor.check(start, end - start)
    node = text_node(layer, f"Options: ({end - start} bytes)", start, end - start)
    titles: list[str] = []
    pos, nops = start, 0
    while pos < end:
        kind = cursor.data[pos]
        if kind in (OPT_EOL, OPT_NOP):
            nops = nops + 1 if kind == OPT_NOP else 0
            if nops == 4:
                layer.problem(
                    "ip.nop",
                    "4 NOP in a row - a router may have removed some options",
                    Severity.WARNING,
                    pos,
                    1,
                    "Protocol",
                )
            name = "nop" if kind == OPT_NOP else "eol"
            title = "No-Operation (NOP)" if kind == OPT_NOP else "End of Options List (EOL)"
            option = node.add(
                Field(
                    f"ip.options.{name}",
                    f"IP Option - {title}",
                    cursor.data[pos : pos + 1],
                    f"{kind:02x}",
                    pos,
                    1,
                )
            )
            add_option_type(cursor, option, pos)
            pos += 1
            if kind == OPT_EOL:
                break
            continue
        nops = 0
        known = KNOWN_OPTIONS.get(kind)
        title = known[1] if known else NAMED_ONLY.get(kind, f"Unknown (0x{kind:02x})")
        if pos + 1 >= end:
            bad_option(layer, node, f"{title} (length byte past end of options)", pos, 1)
            break
        length = cursor.data[pos + 1]
        if length < 2:
            bad_option(layer, node, f"{title} (with too-short option length = {plural(length)})", pos, 2)
            break
        if pos + length > end:
            bad_option(
                layer,
                node,
                f"{title} (option length = {plural(length)} says option goes past end of options)",
                pos,
                2,
            )
            break
        if known is None:
            text_node(node, f"{title} ({length} bytes)", pos, length)
        else:
            dissect_known_option(cursor, layer, node, kind, pos, length)
            titles.append(title)
        pos += length
    if titles:
        node.label += ", " + ", ".join(titles)


def bad_option(layer: Layer, node: Field, message: str, offset: int, length: int) -> None:
    text_node(node, message, offset, length)
    layer.problem("ip.opt.len.invalid", message, Severity.WARNING, offset, length, "Protocol")


def add_option_type(cursor: ByteCursor, option: Field, pos: int) -> None:
    cursor.uint(option, "ip.opt.type", "Type", 1, at=pos)
    kind = option.children[-1]
    cursor.flag(
        kind, "ip.opt.type.copy", "Copy on fragmentation", 1, 0x80, at=pos, true_text="Yes", false_text="No"
    )
    cursor.bits(kind, "ip.opt.type.class", "Class", 1, 0x60, at=pos, names=IPV4_OPTION_CLASSES)
    cursor.bits(kind, "ip.opt.type.number", "Number", 1, 0x1F, at=pos, names=IPV4_OPTION_NUMBERS)


def dissect_known_option(
    cursor: ByteCursor, layer: Layer, node: Field, kind: int, pos: int, length: int
) -> None:
    suffix, title, fixed = KNOWN_OPTIONS[kind]
    raw = cursor.data[pos : pos + length]
    shown_len = fixed or length
    option = node.add(
        Field(f"ip.options.{suffix}", f"IP Option - {title} ({shown_len} bytes)", raw, raw.hex(), pos, length)
    )
    add_option_type(cursor, option, pos)
    cursor.uint(option, "ip.opt.len", "Length", 1, at=pos + 1)
    if fixed and length != fixed:
        layer.problem(
            "ip.opt.len.invalid",
            f"{title} (with option length = {plural(length)}; should be {fixed})",
            Severity.WARNING,
            pos + 1,
            1,
            "Protocol",
        )
    body = ByteCursor(cursor.data, pos + 2, pos + length)
    if kind == 0x94:
        value = body.uint(option, "ip.opt.ra", "Router Alert", 2, names=ROUTER_ALERT_NAMES)
        option.label += f": {ROUTER_ALERT_NAMES.get(value, 'Reserved')} ({value})"
    elif kind == 0x88:
        body.uint(option, "ip.opt.sid", "Stream Identifier", 2)
    elif kind in (0x0B, 0x0C):
        body.uint(option, "ip.opt.mtu", "MTU", 2)
    elif kind == 0x82:
        body.uint(option, "ip.opt.sec_rfc791_sec", "Security", 2, base=Base.HEX, names=IPV4_SECURITY_LEVELS)
        body.uint(option, "ip.opt.sec_rfc791_comp", "Compartments", 2)
        for name, text, size in (("hr", "Handling Restrictions", 2), ("tcc", "Transmission Control Code", 3)):
            at = body.skip(size)
            chars = body.data[at : at + size].split(b"\x00", 1)[0].decode("latin-1")
            option.add(Field(f"ip.opt.sec_rfc791_{name}", f"{text}: {chars}", chars, chars, at, size))
    elif kind == 0x44:
        dissect_timestamp(body, option)
    else:
        dissect_route(body, option, kind)


def dissect_route(body: ByteCursor, option: Field, kind: int) -> None:
    """Record route and source routes: a pointer, then addresses (before it used, at it next)."""
    pointer = body.uint(option, "ip.opt.ptr", "Pointer", 1)
    fresh = ("ip.src_rt", "Source Route") if kind != 0x07 else ("ip.empty_rt", "Empty Route")
    while body.remaining >= 4:
        position = body.pos - body.start + 3  # the 1-based pointer value that names this slot
        name, text = ("ip.rec_rt", "Recorded Route") if position < pointer else fresh
        at = body.pos
        raw = body.read(4)
        addr = format_ipv4(raw)
        marker = " <- (next)" if position == pointer else ""
        option.add(Field(name, f"{text}: {addr}{marker}", addr, addr, at, 4))
        option.add(Field(f"{name}_host", f"{text} Host: {addr}", addr, addr, at, 4, hidden=True))


def dissect_timestamp(body: ByteCursor, option: Field) -> None:
    body.uint(option, "ip.opt.ptr", "Pointer", 1)
    body.bits(option, "ip.opt.overflow", "Overflow", 1, 0xF0)
    flag = body.bits(
        option,
        "ip.opt.flag",
        "Flag",
        1,
        0x0F,
        base=Base.HEX,
        names=IPV4_TIMESTAMP_FLAGS,
        text=lambda v: f"{IPV4_TIMESTAMP_FLAGS.get(v, 'Unknown')} (0x{v:x})",
        advance=True,
    )
    while body.remaining >= 4:
        if flag in (1, 3):
            if body.remaining < 8:
                break
            body.ipv4(option, "ip.opt.time_stamp_addr", "Address")
        body.uint(option, "ip.opt.time_stamp", "Time stamp", 4)


def register(registry: Registry) -> None:
    registry.add_protocol(Protocol("ip", "IPv4", "Internet Protocol Version 4", dissect))
    registry.bind("ethertype", 0x0800, "ip")
    registry.bind("link", 228, "ip")
