"""DNS: Domain Name System (RFC 1035; mDNS RFC 6762, LLMNR RFC 4795, TCP framing RFC 7766)."""

from __future__ import annotations

from analyzer.context import PacketContext
from analyzer.cursor import Base, ByteCursor, Truncated, generated, text_node
from analyzer.model import Field, Layer, Severity
from analyzer.registry import NEED_MORE, Next, PduNeed, Protocol, Registry
from dissectors.dns_names import (
    CLASS_NAMES,
    OPCODE_NAMES,
    RCODE_NAMES,
    BadLabel,
    NameReader,
    class_text,
    duration,
    label_count,
    type_name,
    type_text,
)
from dissectors.dns_rdata import T_OPT, T_SRV, Rdata, dissect_rdata

HEADER = 12
IP_PROTO_TCP = 6
TITLES = {
    "dns": "Domain Name System",
    "mdns": "Multicast Domain Name System",
    "llmnr": "Link-local Multicast Name Resolution",
}
OPCODE_UPDATE = 5


def dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    if ctx.ip_proto == IP_PROTO_TCP:
        return _tcp(cursor, layer, ctx)
    _message(cursor, layer, layer.proto, cursor.pos, cursor.end, None)
    return None


def tcp_pdu_length(data: bytes, ctx: PacketContext) -> int | PduNeed | None:
    """TCP desegmentation hook (RFC 7766 8): a DNS message over TCP is its 2-byte length + 2."""
    if len(data) < 2:
        return NEED_MORE
    return 2 + int.from_bytes(data[:2], "big")


def _tcp(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    """One length-prefixed message; the next one in the segment becomes another DNS layer."""
    protocols = ctx.protocols
    if len(protocols) >= 2 and protocols[-2] == protocols[-1]:
        protocols.pop()  # tshark lists "dns" once however many messages a segment holds
    start = cursor.pos
    layer.label = TITLES[layer.proto]
    available = cursor.limit - start
    # A prefix the capture cut (snaplen) is a truncation; one the segment itself splits is not.
    length = cursor.peek_uint(2, start) if cursor.end - start >= 2 else -1
    if length < 0 or start + 2 + length > cursor.end:
        # Part of a message that continues in a later segment: reassembly is a later step.
        raw = cursor.data[start : cursor.limit]
        size = len(raw)
        layer.add(
            Field(
                "tcp.segment_data",
                f"TCP segment data ({size} byte{'' if size == 1 else 's'})",
                raw,
                raw.hex(),
                start,
                size,
            )
        )
        layer.problem(
            "dns.length_past_segment",
            f"DNS message of {length} bytes continues past this segment ({available - 2} here)"
            if length >= 0
            else "DNS length prefix split across segments",
            Severity.NOTE,
            start,
            size,
            group="Reassemble",
        )
        return None
    end = start + 2 + length
    _message(cursor, layer, layer.proto, start + 2, end, start)
    layer.offset, layer.length = start, end - start
    if end < cursor.end:
        ports = tuple(port for port in sorted((ctx.src_port, ctx.dst_port)) if port > 0)
        return Next("tcp.port", ports, end, cursor.end)
    return None


def _message(
    cursor: ByteCursor, layer: Layer, proto: str, msg_start: int, end: int, tcp_at: int | None
) -> None:
    c = ByteCursor(cursor.data, msg_start, end)
    layer.offset = msg_start if tcp_at is None else tcp_at
    layer.length = end - layer.offset
    flags = c.peek_uint(2, msg_start + 2) if c.limit - msg_start >= 4 else -1
    if flags >= 0:
        layer.label = f"{TITLES[proto]} ({'response' if flags & 0x8000 else 'query'})"
    else:
        layer.label = TITLES[proto]
    if tcp_at is not None:
        cursor.uint(layer, "dns.length", "Length", 2, at=tcp_at)
    c.uint(layer, "dns.id", "Transaction ID", 2, base=Base.HEX)
    flags = c.peek_uint(2)
    _flags(c, layer, flags, proto)
    c.skip(2)
    update = (flags >> 11) & 0xF == OPCODE_UPDATE
    labels = (
        (
            ("dns.count.zones", "Zones"),
            ("dns.count.prerequisites", "Prerequisites"),
            ("dns.count.updates", "Updates"),
            ("dns.count.add_rr", "Additional RRs"),
        )
        if update
        else (
            ("dns.count.queries", "Questions"),
            ("dns.count.answers", "Answer RRs"),
            ("dns.count.auth_rr", "Authority RRs"),
            ("dns.count.add_rr", "Additional RRs"),
        )
    )
    counts = [c.uint(layer, key, label, 2) for key, label in labels]
    names = NameReader(c.data, msg_start, end)
    rd = Rdata(c, layer, msg_start, end)
    mdns = proto == "mdns"
    sections = (
        "Zone" if update else "Queries",
        "Prerequisites" if update else "Answers",
        "Updates" if update else "Authoritative nameservers",
        "Additional records",
    )
    try:
        at = msg_start + HEADER
        if counts[0]:
            node = text_node(layer, sections[0], at, 0)
            for _ in range(counts[0]):
                at = _question(c, names, node, at, mdns)
                node.length = at - node.offset
        for count, title in zip(counts[1:], sections[1:], strict=True):
            if count:
                node = text_node(layer, title, at, 0)
                for _ in range(count):
                    at = _record(c, names, rd, node, at, mdns)
                    node.length = at - node.offset
    except BadLabel as bad:
        layer.problem(
            "dns.name.bad_label", "Reserved label type 0x80 in a name", Severity.ERROR, bad.offset, 1
        )
        return
    extra = c.limit - at
    if extra > 0:
        node = text_node(layer, f"Extraneous Data ({extra} bytes)", at, extra)
        c.bytes_field(node, "dns.extraneous.data", "Extraneous Data Bytes", extra, at=at)
        generated(node, "dns.extraneous.length", f"[Extraneous Data Length: {extra}]", extra)


def _flags(c: ByteCursor, layer: Layer, flags: int, proto: str) -> None:
    opcode, rcode, response = (flags >> 11) & 0xF, flags & 0xF, bool(flags & 0x8000)
    text = OPCODE_NAMES.get(opcode, "Unknown operation")
    if response:
        text += f" response, {RCODE_NAMES.get(rcode, 'Unknown error')}"
    at = c.pos
    item = layer.add(Field("dns.flags", f"Flags: 0x{flags:04x} {text}", flags, f"0x{flags:04x}", at, 2))
    c.flag(
        item,
        "dns.flags.response",
        "Response",
        2,
        0x8000,
        true_text="Message is a response",
        false_text="Message is a query",
    )
    c.bits(item, "dns.flags.opcode", "Opcode", 2, 0x7800, names=OPCODE_NAMES)
    if proto == "llmnr":
        if response:
            c.flag(
                item,
                "dns.flags.conflict",
                "Conflict",
                2,
                0x0400,
                true_text="The name is not considered unique",
                false_text="The name is considered unique",
            )
        else:
            c.flag(
                item,
                "dns.flags.conflict",
                "Conflict",
                2,
                0x0400,
                true_text="The sender received multiple responses",
                false_text="None",
            )
        c.flag(
            item,
            "dns.flags.truncated",
            "Truncated",
            2,
            0x0200,
            true_text="Message is truncated",
            false_text="Message is not truncated",
        )
        c.flag(
            item,
            "dns.flags.tentative",
            "Tentative",
            2,
            0x0100,
            true_text="Tentative",
            false_text="Not tentative",
        )
        if response:
            c.bits(item, "dns.flags.rcode", "Reply code", 2, 0x000F, names=RCODE_NAMES)
        return
    if response:
        c.flag(
            item,
            "dns.flags.authoritative",
            "Authoritative",
            2,
            0x0400,
            true_text="Server is an authority for domain",
            false_text="Server is not an authority for domain",
        )
    c.flag(
        item,
        "dns.flags.truncated",
        "Truncated",
        2,
        0x0200,
        true_text="Message is truncated",
        false_text="Message is not truncated",
    )
    c.flag(
        item,
        "dns.flags.recdesired",
        "Recursion desired",
        2,
        0x0100,
        true_text="Do query recursively",
        false_text="Don't do query recursively",
    )
    if response:
        c.flag(
            item,
            "dns.flags.recavail",
            "Recursion available",
            2,
            0x0080,
            true_text="Server can do recursive queries",
            false_text="Server can't do recursive queries",
        )
    c.flag(item, "dns.flags.z", "Z", 2, 0x0040, true_text="reserved - incorrect!", false_text="reserved (0)")
    if response:
        c.flag(
            item,
            "dns.flags.authenticated",
            "Answer authenticated",
            2,
            0x0020,
            true_text="Answer/authority portion was authenticated by the server",
            false_text="Answer/authority portion was not authenticated by the server",
        )
    elif flags & 0x0020:
        c.flag(item, "dns.flags.authenticated", "AD bit", 2, 0x0020)
    c.flag(
        item,
        "dns.flags.checkdisable",
        "Non-authenticated data",
        2,
        0x0010,
        true_text="Acceptable",
        false_text="Unacceptable",
    )
    if response:
        c.bits(item, "dns.flags.rcode", "Reply code", 2, 0x000F, names=RCODE_NAMES)


def _question(c: ByteCursor, names: NameReader, parent: Field, at: int, mdns: bool) -> int:
    text, used, name_len, _ = names.read(at)
    rtype = c.peek_uint(2, at + used)
    rclass = c.peek_uint(2, at + used + 2)
    qu = bool(rclass & 0x8000) if mdns else False
    if mdns:
        rclass &= 0x7FFF
    label = f"{text}: type {type_name(rtype)}, class {CLASS_NAMES.get(rclass, 'Unknown')}"
    if mdns:
        label += f', "{"QU" if qu else "QM"}" question'
    node = text_node(parent, label, at, used + 4)
    node.add(Field("dns.qry.name", f"Name: {text}", text, text, at, used))
    shown_len = name_len if name_len > 1 else 0
    generated(node, "dns.qry.name.len", f"[Name Length: {shown_len}]", shown_len, offset=at, length=used)
    count = label_count(text, name_len)
    generated(node, "dns.count.labels", f"[Label Count: {count}]", count, offset=at, length=used)
    c.uint(node, "dns.qry.type", "Type", 2, at=at + used, text=type_text)
    if mdns:
        c.bits(
            node,
            "dns.qry.class",
            "Class",
            2,
            0x7FFF,
            at=at + used + 2,
            base=Base.HEX,
            text=class_text,
            show=lambda v: f"0x{v:04x}",
        )
        c.flag(
            node,
            "dns.qry.qu",
            '"QU" question',
            2,
            0x8000,
            at=at + used + 2,
            true_text="True",
            false_text="False",
        )
    else:
        c.uint(
            node, "dns.qry.class", "Class", 2, at=at + used + 2, text=class_text, show=lambda v: f"0x{v:04x}"
        )
    return at + used + 4


def _record(c: ByteCursor, names: NameReader, rd: Rdata, parent: Field, at: int, mdns: bool) -> int:
    text, used, _, _ = names.read(at)
    fixed = at + used
    rtype = c.peek_uint(2, fixed)
    rclass = c.peek_uint(2, fixed + 2)
    flush = bool(rclass & 0x8000) if mdns else False
    if mdns:
        rclass &= 0x7FFF
    size = c.peek_uint(2, fixed + 8)
    data_at = fixed + 10
    # tshark sizes the record's tree item first: a record running past the message is malformed.
    c.check(at, data_at + size - at)
    if rtype == T_OPT:
        label = f"{text}: type {type_name(rtype)}"
    else:
        label = f"{text}: type {type_name(rtype)}, class {CLASS_NAMES.get(rclass, 'Unknown')}"
    node = text_node(parent, label, at, data_at + size - at)
    if rtype == T_OPT:
        _opt_header(c, node, text, at, used, mdns)
    else:
        _rr_header(c, rd.layer, node, text, rtype, at, used, mdns)
    if mdns and flush:
        node.label += ", cache flush"
    if size:
        node.label += dissect_rdata(rd, node, rtype, rclass, data_at, size)
    return data_at + size


def _rr_header(
    c: ByteCursor, layer: Layer, node: Field, text: str, rtype: int, at: int, used: int, mdns: bool
) -> None:
    if rtype == T_SRV:
        parts = text.split(".", 2)
        for key, label, part in zip(
            ("dns.srv.service", "dns.srv.proto", "dns.srv.name"),
            ("Service", "Protocol", "Name"),
            parts,
            strict=False,
        ):
            node.add(Field(key, f"{label}: {part}", part, part, at, used))
    else:
        node.add(Field("dns.resp.name", f"Name: {text}", text, text, at, used))
    fixed = at + used
    c.uint(node, "dns.resp.type", "Type", 2, at=fixed, text=type_text)
    _class(c, node, fixed + 2, mdns)
    ttl = c.uint(node, "dns.resp.ttl", "Time to live", 4, at=fixed + 4, text=lambda v: f"{v} ({duration(v)})")
    if ttl & 0x80000000:
        layer.problem(
            "dns.ttl.high_bit_set",
            "The uppermost bit of the TTL is set (RFC 2181, section 8)",
            Severity.WARNING,
            fixed + 4,
            4,
            group="Protocol",
        )
    c.uint(node, "dns.resp.len", "Data length", 2, at=fixed + 8)


def _class(c: ByteCursor, node: Field, at: int, mdns: bool) -> None:
    if mdns:
        c.bits(
            node, "dns.resp.class", "Class", 2, 0x7FFF, at=at, text=class_text, show=lambda v: f"0x{v:04x}"
        )
        c.flag(
            node,
            "dns.resp.cache_flush",
            "Cache flush",
            2,
            0x8000,
            at=at,
            true_text="True",
            false_text="False",
        )
    else:
        c.uint(node, "dns.resp.class", "Class", 2, at=at, text=class_text, show=lambda v: f"0x{v:04x}")


def _opt_header(c: ByteCursor, node: Field, text: str, at: int, used: int, mdns: bool) -> None:
    node.add(Field("dns.resp.name", f"Name: {text}", text, text, at, used))
    fixed = at + used
    c.uint(node, "dns.resp.type", "Type", 2, at=fixed, text=type_text)
    if mdns:
        c.bits(node, "dns.rr.udp_payload_size", "UDP payload size", 2, 0x7FFF, at=fixed + 2, base=Base.HEX)
        c.flag(
            node,
            "dns.resp.cache_flush",
            "Cache flush",
            2,
            0x8000,
            at=fixed + 2,
            true_text="True",
            false_text="False",
        )
    else:
        c.uint(node, "dns.rr.udp_payload_size", "UDP payload size", 2, at=fixed + 2)
    c.uint(node, "dns.resp.ext_rcode", "Higher bits in extended RCODE", 1, at=fixed + 4, base=Base.HEX)
    c.uint(node, "dns.resp.edns0_version", "EDNS0 version", 1, at=fixed + 5)
    z = c.uint(node, "dns.resp.z", "Z", 2, at=fixed + 6, base=Base.HEX)
    del z
    item = node.children[-1]
    c.flag(
        item,
        "dns.resp.z.do",
        "DO bit",
        2,
        0x8000,
        at=fixed + 6,
        true_text="Accepts DNSSEC security RRs",
        false_text="Cannot handle DNSSEC security RRs",
    )
    c.bits(item, "dns.resp.z.reserved", "Reserved", 2, 0x7FFF, at=fixed + 6, base=Base.HEX)
    c.uint(node, "dns.resp.len", "Data length", 2, at=fixed + 8)


def _dissector(name: str) -> Protocol:
    short = {"dns": "DNS", "mdns": "MDNS", "llmnr": "LLMNR"}[name]
    return Protocol(name, short, TITLES[name], dissect)


def register(registry: Registry) -> None:
    for name in TITLES:
        registry.add_protocol(_dissector(name))
    registry.bind("udp.port", 53, "dns")
    registry.bind("tcp.port", 53, "dns")
    registry.add_pdu_length("dns", tcp_pdu_length, show_pdu_size=True)
    registry.bind("udp.port", 5353, "mdns")
    registry.bind("udp.port", 5355, "llmnr")


__all__ = ["Truncated", "dissect", "register"]
