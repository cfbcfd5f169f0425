"""ICMPv6: Internet Control Message Protocol for IPv6, with ND and MLD (RFC 4443, RFC 4861, RFC 3810)."""

from __future__ import annotations

from analyzer.context import PacketContext
from analyzer.cursor import Base, ByteCursor, format_ipv6, text_node
from analyzer.model import Field, Layer, Severity
from analyzer.registry import Next, Protocol, Registry
from dissectors.ip_names import ICMPV6_OPTION_TYPES, ICMPV6_TYPES, MLDV2_RECORD_TYPES
from dissectors.ipv4 import internet_checksum

ETHERTYPE_IPV6 = 0x86DD
PROTO_ICMPV6 = 58
UNREACH, TOO_BIG, TIME_EXCEEDED, PARAM_PROBLEM = 1, 2, 3, 4
ECHO_REQUEST, ECHO_REPLY = 128, 129
MLD_QUERY, MLD_REPORT, MLD_DONE, MLDV2_REPORT = 130, 131, 132, 143
ROUTER_SOLICIT, ROUTER_ADVERT, NEIGHBOR_SOLICIT, NEIGHBOR_ADVERT, REDIRECT = 133, 134, 135, 136, 137
OPT_SOURCE_LLA, OPT_TARGET_LLA, OPT_PREFIX, OPT_MTU = 1, 2, 3, 5
INFINITY = 0xFFFFFFFF

# Code names per type, and the text tshark shows for a code it does not know.
CODE_NAMES: dict[int, tuple[dict[int, str], str]] = {
    UNREACH: (
        {
            0: "no route to destination",
            1: "Administratively prohibited",
            2: "Beyond scope of source address",
            3: "Address unreachable",
            4: "Port unreachable",
            5: "Source address failed ingress/egress policy",
            6: "Reject route to destination",
            7: "Error in Source Routing Header",
        },
        "Unknown",
    ),
    TIME_EXCEEDED: (
        {0: "hop limit exceeded in transit", 1: "fragment reassembly time exceeded"},
        "Unknown ({})",
    ),
    PARAM_PROBLEM: (
        {
            0: "erroneous header field encountered",
            1: "unrecognized Next Header type encountered",
            2: "unrecognized IPv6 option encountered",
            3: "IPv6 First Fragment has incomplete IPv6 Header Chain",
        },
        "Unknown ({})",
    ),
}
RA_PREFERENCE = {0: "Medium", 1: "High", 2: "Reserved", 3: "Low"}


def dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    start = cursor.pos
    layer.label = "Internet Control Message Protocol v6"
    layer.length = min(cursor.limit, len(cursor.data)) - start
    kind = cursor.uint(
        layer, "icmpv6.type", "Type", 1, text=lambda v: f"{ICMPV6_TYPES.get(v, 'Unknown')} ({v})"
    )
    add_code(cursor, layer, kind)
    add_checksum(cursor, layer, ctx, start)
    if kind in (UNREACH, TIME_EXCEEDED):
        add_bytes(cursor, layer, "icmpv6.reserved", "Reserved", 4)
        return quoted_packet(cursor)
    if kind == TOO_BIG:
        cursor.uint(layer, "icmpv6.mtu", "MTU", 4)
        return quoted_packet(cursor)
    if kind == PARAM_PROBLEM:
        cursor.uint(layer, "icmpv6.pointer", "Pointer", 4)
        return quoted_packet(cursor)
    if kind in (ECHO_REQUEST, ECHO_REPLY):
        cursor.uint(layer, "icmpv6.echo.identifier", "Identifier", 2, base=Base.HEX)
        cursor.uint(layer, "icmpv6.echo.sequence_number", "Sequence", 2)
        return rest_as_data(cursor)
    if kind in (MLD_QUERY, MLD_REPORT, MLD_DONE):
        dissect_mld(cursor, layer, kind, start)
    elif kind == MLDV2_REPORT:
        dissect_mldv2_report(cursor, layer)
    elif kind in (ROUTER_SOLICIT, NEIGHBOR_SOLICIT, REDIRECT):
        add_bytes(cursor, layer, "icmpv6.reserved", "Reserved", 4)
        if kind == NEIGHBOR_SOLICIT:
            cursor.ipv6(layer, "icmpv6.nd.ns.target_address", "Target Address")
        elif kind == REDIRECT:
            cursor.ipv6(layer, "icmpv6.nd.rd.target_address", "Target Address")
            cursor.ipv6(layer, "icmpv6.rd.na.destination_address", "Destination Address")
        dissect_options(cursor, layer)
    elif kind == ROUTER_ADVERT:
        dissect_router_advert(cursor, layer)
        dissect_options(cursor, layer)
    elif kind == NEIGHBOR_ADVERT:
        dissect_neighbor_advert(cursor, layer)
        dissect_options(cursor, layer)
    else:
        if cursor.remaining:
            add_bytes(cursor, layer, "icmpv6.data", "Data", cursor.remaining)
        layer.problem(
            "icmpv6.undecoded.type",
            f"Dissector for ICMPv6 Type ({kind}) code not implemented,"
            " Contact Wireshark developers if you want this supported",
            Severity.NOTE,
            start,
            1,
            "Undecoded",
        )
        # Message bytes the snaplen cut off are reported as truncated, not silently dropped.
        cursor.check(cursor.pos, cursor.declared_remaining)
    return None


def add_code(cursor: ByteCursor, layer: Layer, kind: int) -> None:
    table = CODE_NAMES.get(kind)
    if table is None:
        cursor.uint(layer, "icmpv6.code", "Code", 1)
        return
    names, unknown = table
    cursor.uint(layer, "icmpv6.code", "Code", 1, text=lambda v: f"{v} ({names.get(v, unknown.format(v))})")


def add_checksum(cursor: ByteCursor, layer: Layer, ctx: PacketContext, start: int) -> None:
    offset = start + 2
    whole = cursor.end <= len(cursor.data)
    if (
        ctx.prefs.check_checksums
        and whole
        and not ctx.ip_fragmented
        and not ctx.in_error
        and ctx.ip_version == 6
    ):
        message = cursor.data[start : cursor.end]
        pseudo = ctx.ip_src + ctx.ip_dst + len(message).to_bytes(4, "big") + bytes((0, 0, 0, PROTO_ICMPV6))
        expected = internet_checksum(pseudo + message[:2] + b"\x00\x00" + message[4:])
        if internet_checksum(pseudo + message) == 0:
            cursor.uint(
                layer, "icmpv6.checksum", "Checksum", 2, base=Base.HEX, text=lambda v: f"0x{v:04x} [correct]"
            )
            status(layer, 1, "Good", offset)
        else:
            cursor.uint(
                layer,
                "icmpv6.checksum",
                "Checksum",
                2,
                base=Base.HEX,
                text=lambda v: f"0x{v:04x} incorrect, should be 0x{expected:04x}",
            )
            layer.problem(
                "icmpv6.checksum_bad.expert",
                f"Bad checksum [should be 0x{expected:04x}]",
                Severity.WARNING,
                offset,
                2,
                "Checksum",
            )
            status(layer, 0, "Bad", offset)
        return
    why = "in ICMP error packet" if ctx.in_error else "fragmented datagram"
    if not ctx.prefs.check_checksums and not ctx.in_error:
        why = "validation disabled"
    cursor.uint(
        layer,
        "icmpv6.checksum",
        "Checksum",
        2,
        base=Base.HEX,
        text=lambda v: f"0x{v:04x} [unverified] [{why}]",
    )
    status(layer, 2, "Unverified", offset)


def status(layer: Layer, value: int, text: str, offset: int) -> None:
    layer.add(
        Field(
            "icmpv6.checksum.status",
            f"[Checksum Status: {text}]",
            value,
            str(value),
            offset,
            0,
            generated=True,
        )
    )


def add_bytes(cursor: ByteCursor, parent: Layer | Field, name: str, label: str, size: int) -> None:
    cursor.bytes_field(parent, name, label, size)


def quoted_packet(cursor: ByteCursor) -> Next | None:
    # A payload cut off by the snaplen is still handed on, so that it is reported as truncated.
    if cursor.pos >= cursor.limit and cursor.end <= len(cursor.data):
        return None
    return Next("ethertype", (ETHERTYPE_IPV6,), cursor.pos, cursor.end, nested=True)


def rest_as_data(cursor: ByteCursor) -> Next | None:
    # A payload cut off by the snaplen is still handed on, so that it is reported as truncated.
    if cursor.pos >= cursor.limit and cursor.end <= len(cursor.data):
        return None
    # Nothing is bound to this table: the remaining bytes become a Data layer inside ICMPv6.
    return Next("icmpv6.payload", (), cursor.pos, cursor.end, inside=True)


def dissect_mld(cursor: ByteCursor, layer: Layer, kind: int, start: int) -> None:
    is_v2_query = kind == MLD_QUERY and cursor.end - start >= 28
    if is_v2_query:
        cursor.uint(layer, "icmpv6.mld.maximum_response_code", "Maximum Response Code", 2)
    else:
        cursor.uint(layer, "icmpv6.mld.maximum_response_delay", "Maximum Response Delay [ms]", 2)
    add_bytes(cursor, layer, "icmpv6.reserved", "Reserved", 2)
    cursor.ipv6(layer, "icmpv6.mld.multicast_address", "Multicast Address")
    if not is_v2_query:
        return
    suppress = cursor.peek_uint(1) & 0x08
    cursor.uint(
        layer,
        "icmpv6.mld.flag",
        "Flags",
        1,
        base=Base.HEX,
        text=lambda v: f"0x{v:02x}" + (", Suppress Router-Side Processing" if suppress else ""),
    )
    flags = layer.children[-1]
    at = cursor.pos - 1
    cursor.bits(flags, "icmpv6.mld.flag.reserved", "Reserved", 1, 0xF0, at=at)
    cursor.flag(
        flags,
        "icmpv6.mld.flag.s",
        "Suppress Router-Side Processing",
        1,
        0x08,
        at=at,
        true_text="True",
        false_text="False",
    )
    cursor.bits(flags, "icmpv6.mld.flag.qrv", "QRV (Querier's Robustness Variable)", 1, 0x07, at=at)
    cursor.uint(layer, "icmpv6.mld.qqi", "QQIC (Querier's Query Interval Code)", 1)
    sources = cursor.uint(layer, "icmpv6.mld.nb_sources", "Number of Sources", 2)
    for _ in range(sources):
        cursor.ipv6(layer, "icmpv6.mld.source_address", "Source Address")


def dissect_mldv2_report(cursor: ByteCursor, layer: Layer) -> None:
    add_bytes(cursor, layer, "icmpv6.reserved", "Reserved", 2)
    records = cursor.uint(layer, "icmpv6.mldr.nb_mcast_records", "Number of Multicast Address Records", 2)
    for _ in range(records):
        at = cursor.pos
        record_type = cursor.peek_uint(1)
        aux_words = cursor.peek_uint(1, at + 1)
        sources = cursor.peek_uint(2, at + 2)
        address = format_ipv6(cursor.peek(16, at + 4))
        size = min(20 + sources * 16 + aux_words * 4, cursor.limit - at)  # never past the bytes we have
        name = MLDV2_RECORD_TYPES.get(record_type, "Unknown")
        record = layer.add(
            Field("icmpv6.mldr.mar", f"Multicast Address Record {name}: {address}", None, "", at, size)
        )
        cursor.uint(record, "icmpv6.mldr.mar.record_type", "Record Type", 1, names=MLDV2_RECORD_TYPES)
        cursor.uint(record, "icmpv6.mldr.mar.aux_data_len", "Aux Data Len", 1)
        cursor.uint(record, "icmpv6.mldr.mar.nb_sources", "Number of Sources", 2)
        cursor.ipv6(record, "icmpv6.mldr.mar.multicast_address", "Multicast Address")
        for _ in range(sources):
            cursor.ipv6(record, "icmpv6.mldr.mar.source_address", "Source Address")
        if aux_words:
            cursor.bytes_field(record, "icmpv6.mldr.mar.auxiliary_data", "Auxiliary Data", aux_words * 4)


def dissect_router_advert(cursor: ByteCursor, layer: Layer) -> None:
    cursor.uint(layer, "icmpv6.nd.ra.cur_hop_limit", "Cur hop limit", 1)
    at = cursor.pos
    value = cursor.peek_uint(1)
    names = [
        text
        for bit, text in (
            (0x80, "Managed address configuration"),
            (0x40, "Other configuration"),
            (0x20, "Home Agent"),
            (0x04, "Proxy"),
        )
        if value & bit
    ]
    names.append(f"Prf (Default Router Preference): {RA_PREFERENCE[(value >> 3) & 3]}")
    cursor.uint(
        layer,
        "icmpv6.nd.ra.flag",
        "Flags",
        1,
        base=Base.HEX,
        text=lambda v: ", ".join([f"0x{v:02x}", *names]),
    )
    flags = layer.children[-1]
    for name, text, mask in (
        ("m", "Managed address configuration", 0x80),
        ("o", "Other configuration", 0x40),
        ("h", "Home Agent", 0x20),
    ):
        cursor.flag(flags, f"icmpv6.nd.ra.flag.{name}", text, 1, mask, at=at)
    cursor.bits(
        flags, "icmpv6.nd.ra.flag.prf", "Prf (Default Router Preference)", 1, 0x18, at=at, names=RA_PREFERENCE
    )
    cursor.flag(flags, "icmpv6.nd.ra.flag.p", "Proxy", 1, 0x04, at=at)
    cursor.bits(flags, "icmpv6.nd.ra.flag.rsv", "Reserved", 1, 0x03, at=at)
    cursor.uint(layer, "icmpv6.nd.ra.router_lifetime", "Router lifetime (s)", 2)
    cursor.uint(layer, "icmpv6.nd.ra.reachable_time", "Reachable time (ms)", 4)
    cursor.uint(layer, "icmpv6.nd.ra.retrans_timer", "Retrans timer (ms)", 4)


def dissect_neighbor_advert(cursor: ByteCursor, layer: Layer) -> None:
    at = cursor.pos
    value = cursor.peek_uint(4)
    names = [
        text
        for bit, text in ((1 << 31, "Router"), (1 << 30, "Solicited"), (1 << 29, "Override"))
        if value & bit
    ]
    cursor.uint(
        layer,
        "icmpv6.nd.na.flag",
        "Flags",
        4,
        base=Base.HEX,
        text=lambda v: ", ".join([f"0x{v:08x}", *names]),
    )
    flags = layer.children[-1]
    for name, text, mask in (
        ("r", "Router", 1 << 31),
        ("s", "Solicited", 1 << 30),
        ("o", "Override", 1 << 29),
    ):
        cursor.flag(flags, f"icmpv6.nd.na.flag.{name}", text, 4, mask, at=at)
    cursor.bits(flags, "icmpv6.nd.na.flag.rsv", "Reserved", 4, 0x1FFFFFFF, at=at)
    cursor.ipv6(layer, "icmpv6.nd.na.target_address", "Target Address")


def dissect_options(cursor: ByteCursor, layer: Layer) -> None:
    """Neighbor Discovery options: type, length in 8-byte units, body (RFC 4861 section 4.6)."""
    while cursor.pos < cursor.end:
        at = cursor.pos
        kind = cursor.peek_uint(1)
        units = cursor.peek_uint(1, at + 1)
        name = ICMPV6_OPTION_TYPES.get(kind, "Unknown")
        size = min(units * 8, cursor.limit - at)  # never past the bytes we have
        option = layer.add(Field("icmpv6.opt", f"ICMPv6 Option ({name})", None, "", at, size))
        cursor.uint(option, "icmpv6.opt.type", "Type", 1, names=ICMPV6_OPTION_TYPES)
        cursor.uint(option, "icmpv6.opt.length", "Length", 1, text=lambda v: f"{v} ({v * 8} bytes)")
        if units == 0:
            layer.problem(
                "icmpv6.invalid_option_length", "Invalid option length (Zero)", Severity.ERROR, at + 1, 1
            )
            return
        body = cursor.restrict_to(units * 8 - 2)
        summary = dissect_option_body(body, option, kind)
        if summary:
            option.label = f"ICMPv6 Option ({name} : {summary})"


def dissect_option_body(body: ByteCursor, option: Field, kind: int) -> str:
    """Fill in one option's fields; returns the text tshark appends to the option's label."""
    if kind in (OPT_SOURCE_LLA, OPT_TARGET_LLA) and body.declared_remaining == 6:
        mac = body.ether(option, "icmpv6.opt.linkaddr", "Link-layer address")
        role, title = ("src", "Source") if kind == OPT_SOURCE_LLA else ("target", "Target")
        option.add(
            Field(
                f"icmpv6.opt.{role}_linkaddr",
                f"{title} Link-layer address: {mac}",
                mac,
                mac,
                body.pos - 6,
                6,
                hidden=True,
            )
        )
        return mac
    if kind == OPT_PREFIX:
        length = body.uint(option, "icmpv6.opt.prefix.length", "Prefix Length", 1)
        at = body.pos
        value = body.peek_uint(1)
        names = [
            text
            for bit, text in (
                (0x80, "On-link flag(L)"),
                (0x40, "Autonomous address-configuration flag(A)"),
                (0x20, "Router address flag(R)"),
            )
            if value & bit
        ]
        body.uint(
            option,
            "icmpv6.opt.prefix.flag",
            "Flag",
            1,
            base=Base.HEX,
            text=lambda v: ", ".join([f"0x{v:02x}", *names]),
        )
        flags = option.children[-1]
        for name, text, mask in (
            ("l", "On-link flag(L)", 0x80),
            ("a", "Autonomous address-configuration flag(A)", 0x40),
            ("r", "Router address flag(R)", 0x20),
        ):
            body.flag(flags, f"icmpv6.opt.prefix.flag.{name}", text, 1, mask, at=at)
        body.bits(flags, "icmpv6.opt.prefix.flag.reserved", "Reserved", 1, 0x1F, at=at)
        for name, text in (
            ("valid_lifetime", "Valid Lifetime"),
            ("preferred_lifetime", "Preferred Lifetime"),
        ):
            body.uint(
                option,
                f"icmpv6.opt.prefix.{name}",
                text,
                4,
                text=lambda v: "Infinity (4294967295)" if v == INFINITY else str(v),
            )
        reserved_at = body.skip(4)
        text_node_field(option, "icmpv6.opt.reserved", "Reserved", reserved_at, 4)
        prefix = body.ipv6(option, "icmpv6.opt.prefix", "Prefix")
        return f"{prefix}/{length}"
    if kind == OPT_MTU:
        reserved_at = body.skip(2)
        text_node_field(option, "icmpv6.opt.reserved", "Reserved", reserved_at, 2)
        return str(body.uint(option, "icmpv6.opt.mtu", "MTU", 4))
    if body.declared_remaining:
        body.check(body.pos, body.declared_remaining)  # bytes cut by the snaplen are reported, not shown
        text_node(option, f"Data ({body.declared_remaining} bytes)", body.pos, body.declared_remaining)
    return ""


def text_node_field(parent: Field, name: str, label: str, offset: int, length: int) -> None:
    """An FT_NONE field: filterable, with no value (tshark prints an empty cell)."""
    parent.add(Field(name, label, None, "", offset, length))


def register(registry: Registry) -> None:
    registry.add_protocol(Protocol("icmpv6", "ICMPv6", "Internet Control Message Protocol v6", dissect))
    registry.bind("ip.proto", PROTO_ICMPV6, "icmpv6")
