"""ICMP: Internet Control Message Protocol for IPv4 (RFC 792, RFC 1191, RFC 4884)."""

from __future__ import annotations

from analyzer.context import PacketContext
from analyzer.cursor import Base, ByteCursor, generated
from analyzer.model import Field, Layer, Severity
from analyzer.registry import Next, Protocol, Registry
from dissectors.frame import format_abs_time, format_seconds
from dissectors.ipv4 import internet_checksum

ETHERTYPE_IPV4 = 0x0800
ECHO_REPLY, UNREACH, SOURCE_QUENCH, REDIRECT, ECHO = 0, 3, 4, 5, 8
TIME_EXCEEDED, PARAM_PROBLEM, TIMESTAMP, TIMESTAMP_REPLY = 11, 12, 13, 14
FRAG_NEEDED = 4
ERROR_TYPES = (UNREACH, SOURCE_QUENCH, REDIRECT, TIME_EXCEEDED, PARAM_PROBLEM)
# Types whose second word is an identifier and a sequence number.
ID_SEQ_TYPES = (ECHO_REPLY, ECHO, TIMESTAMP, TIMESTAMP_REPLY, 15, 16, 17, 18)
SECONDS_PER_DAY = 86400

TYPE_NAMES = {
    0: "Echo (ping) reply",
    1: "Reserved",
    2: "Reserved",
    3: "Destination unreachable",
    4: "Source quench (flow control)",
    5: "Redirect",
    6: "Alternate host address",
    8: "Echo (ping) request",
    9: "Router advertisement",
    10: "Router solicitation",
    11: "Time-to-live exceeded",
    12: "Parameter problem",
    13: "Timestamp request",
    14: "Timestamp reply",
    15: "Information request",
    16: "Information reply",
    17: "Address mask request",
    18: "Address mask reply",
    19: "Reserved (for security)",
    30: "Traceroute",
    31: "Datagram Conversion Error",
    32: "Mobile Host Redirect",
    33: "IPv6 Where-Are-You",
    34: "IPv6 I-Am-Here",
    35: "Mobile Registration Request",
    36: "Mobile Registration Reply",
    37: "Domain Name Request",
    38: "Domain Name Reply",
    39: "SKIP",
    40: "Photuris",
    41: "Experimental mobility protocols",
    42: "Extended Echo request",
    43: "Extended Echo reply",
}
CODE_NAMES: dict[int, dict[int, str]] = {
    3: {
        0: "Network unreachable",
        1: "Host unreachable",
        2: "Protocol unreachable",
        3: "Port unreachable",
        4: "Fragmentation needed",
        5: "Source route failed",
        6: "Destination network unknown",
        7: "Destination host unknown",
        8: "Source host isolated",
        9: "Network administratively prohibited",
        10: "Host administratively prohibited",
        11: "Network unreachable for TOS",
        12: "Host unreachable for TOS",
        13: "Communication administratively filtered",
        14: "Host precedence violation",
        15: "Precedence cutoff in effect",
    },
    5: {
        0: "Redirect for network",
        1: "Redirect for host",
        2: "Redirect for TOS and network",
        3: "Redirect for TOS and host",
    },
    6: {0: "Alternate address for host"},
    9: {0: "Normal router advertisement", 16: "Does not route common traffic"},
    11: {0: "Time to live exceeded in transit", 1: "Fragment reassembly time exceeded"},
    12: {0: "Pointer indicates the error", 1: "Required option missing", 2: "Bad length"},
    40: {
        0: "Bad SPI",
        1: "Authentication Failed",
        2: "Decompression Failed",
        3: "Decryption Failed",
        4: "Need Authentication",
        5: "Need Authorization",
    },
    42: {0: "No error"},
    43: {
        0: "No error",
        1: "Malformed Query",
        2: "No Such Interface",
        3: "No Such Table Entry",
        4: "Multiple Interfaces Satisfy Query",
    },
}


def dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    start = cursor.pos
    # Wireshark reads the type, code and RFC 4884 length byte before adding anything.
    cursor.check(start, 6)
    kind = cursor.data[start]
    code = cursor.data[start + 1]
    original_words = cursor.data[start + 5]
    layer.label = "Internet Control Message Protocol"
    layer.length = min(cursor.limit, len(cursor.data)) - start
    type_name = TYPE_NAMES.get(kind, "Unknown ICMP (obsolete or malformed?)")
    if kind == 9 and code in (0, 16):
        type_name = "Mobile IP Advertisement"
    cursor.uint(layer, "icmp.type", "Type", 1, text=lambda v: f"{v} ({type_name})")
    codes = CODE_NAMES.get(kind)
    code_text = None if codes is None else codes.get(code, f"Unknown code: {code}")
    cursor.uint(layer, "icmp.code", "Code", 1, text=lambda v: f"{v} ({code_text})" if code_text else str(v))
    add_checksum(cursor, layer, ctx, start)
    if kind == 6:
        original_words = 0
    add_second_word(cursor, layer, kind, code, original_words)
    if kind in ERROR_TYPES:
        return quoted_datagram(cursor, start, kind, original_words)
    if kind in (ECHO, ECHO_REPLY):
        return echo_payload(cursor, layer, ctx, start)
    if kind in (TIMESTAMP, TIMESTAMP_REPLY):
        for name, text in (("originate", "Originate"), ("receive", "Receive"), ("transmit", "Transmit")):
            cursor.uint(layer, f"icmp.{name}_timestamp", f"{text} Timestamp", 4, text=ms_after_midnight)
        return None
    if kind in (17, 18):
        cursor.ipv4(layer, "icmp.address_mask", "Address Mask")
        return None
    return payload(cursor)


def add_checksum(cursor: ByteCursor, layer: Layer, ctx: PacketContext, start: int) -> None:
    offset = start + 2
    whole = cursor.end <= len(cursor.data)
    if ctx.prefs.check_checksums and whole and not ctx.ip_fragmented and not ctx.in_error:
        message = cursor.data[start : cursor.end]
        expected = internet_checksum(message[:2] + b"\x00\x00" + message[4:])
        if internet_checksum(message) == 0:
            cursor.uint(
                layer, "icmp.checksum", "Checksum", 2, base=Base.HEX, text=lambda v: f"0x{v:04x} [correct]"
            )
            generated(layer, "icmp.checksum.status", "[Checksum Status: Good]", 1, offset=offset)
        else:
            cursor.uint(
                layer,
                "icmp.checksum",
                "Checksum",
                2,
                base=Base.HEX,
                text=lambda v: f"0x{v:04x} incorrect, should be 0x{expected:04x}",
            )
            layer.problem(
                "icmp.checksum_bad",
                f"Bad checksum [should be 0x{expected:04x}]",
                Severity.WARNING,
                offset,
                2,
                "Checksum",
            )
            generated(layer, "icmp.checksum.status", "[Checksum Status: Bad]", 0, offset=offset)
        return
    why = "in ICMP error packet" if ctx.in_error else "fragmented datagram"
    if not ctx.prefs.check_checksums and not ctx.in_error:
        why = "validation disabled"
    cursor.uint(
        layer, "icmp.checksum", "Checksum", 2, base=Base.HEX, text=lambda v: f"0x{v:04x} [unverified] [{why}]"
    )
    generated(layer, "icmp.checksum.status", "[Checksum Status: Unverified]", 2, offset=offset)


def add_unused(cursor: ByteCursor, layer: Layer, size: int) -> None:
    at = cursor.pos
    raw = cursor.read(size)
    layer.add(Field("icmp.unused", f"Unused: {raw.hex()}", raw, raw.hex(), at, size))


def add_length(cursor: ByteCursor, layer: Layer, words: int) -> None:
    cursor.uint(layer, "icmp.length", "Length", 1)
    generated(
        layer,
        "icmp.length.original_datagram",
        f"[Length of original datagram: {words * 4}]",
        words * 4,
        offset=cursor.pos - 1,
        length=1,
    )


def add_second_word(cursor: ByteCursor, layer: Layer, kind: int, code: int, words: int) -> None:
    """Bytes 4-7, whose meaning depends on the type."""
    if kind in ID_SEQ_TYPES:
        at = cursor.pos
        cursor.uint(layer, "icmp.ident", "Identifier (BE)", 2, text=lambda v: f"{v} (0x{v:04x})")
        cursor.uint(
            layer,
            "icmp.ident_le",
            "Identifier (LE)",
            2,
            at=at,
            little=True,
            text=lambda v: f"{v} (0x{v:04x})",
        )
        cursor.uint(layer, "icmp.seq", "Sequence Number (BE)", 2, text=lambda v: f"{v} (0x{v:04x})")
        cursor.uint(
            layer,
            "icmp.seq_le",
            "Sequence Number (LE)",
            2,
            at=at + 2,
            little=True,
            text=lambda v: f"{v} (0x{v:04x})",
        )
    elif kind == UNREACH:
        if words > 0:
            add_unused(cursor, layer, 1)
            add_length(cursor, layer, words)
            if code == FRAG_NEEDED:
                cursor.uint(layer, "icmp.mtu", "MTU of next hop", 2)
            else:
                add_unused(cursor, layer, 2)
        elif code == FRAG_NEEDED:
            add_unused(cursor, layer, 2)
            cursor.uint(layer, "icmp.mtu", "MTU of next hop", 2)
        else:
            add_unused(cursor, layer, 4)
    elif kind == PARAM_PROBLEM:
        cursor.uint(layer, "icmp.pointer", "Pointer", 1)
        if words > 0:
            add_length(cursor, layer, words)
            add_unused(cursor, layer, 2)
        else:
            add_unused(cursor, layer, 3)
    elif kind == REDIRECT:
        cursor.ipv4(layer, "icmp.redir_gw", "Gateway Address")
    elif kind == TIME_EXCEEDED:
        if words > 0:
            add_unused(cursor, layer, 1)
            add_length(cursor, layer, words)
            add_unused(cursor, layer, 2)
        else:
            add_unused(cursor, layer, 4)
    else:
        cursor.pos += 4  # no field of its own; tshark shows nothing for these bytes


def quoted_datagram(cursor: ByteCursor, start: int, kind: int, words: int) -> Next:
    """The offending datagram, dissected as nested layers (the pipeline marks them in_error)."""
    begin = start + 8
    end = cursor.end
    if kind == REDIRECT and begin < len(cursor.data):
        end = min(end, begin + (cursor.data[begin] & 0x0F) * 4 + 8)
    elif words and cursor.end - start > 8 + words * 4 and cursor.peek_uint(2, begin + 2) > words * 4:
        end = min(end, begin + ((cursor.data[begin] & 0x0F) + words) * 4)
    return Next("ethertype", (ETHERTYPE_IPV4,), begin, end, nested=True)


def echo_payload(cursor: ByteCursor, layer: Layer, ctx: PacketContext, start: int) -> Next | None:
    """Echo data, whose first 8 bytes are often the sender's clock (Linux and BSD ping)."""
    begin = start + 8
    if min(cursor.limit, len(cursor.data)) - begin < 8:
        return payload(cursor)
    frame_ns = ctx.frame.timestamp_ns
    frame_secs = frame_ns // 1_000_000_000
    found: tuple[int, int] | None = None
    for little in (False, True):
        secs = cursor.peek_uint(4, begin, little)
        usecs = cursor.peek_uint(4, begin + 4, little)
        if abs(to_int32(secs - frame_secs)) < SECONDS_PER_DAY and usecs < 1_000_000:
            found = (secs, usecs)
            break
    if found is None:
        return payload(cursor)
    stamp_ns = found[0] * 1_000_000_000 + found[1] * 1000
    shown = format_abs_time(stamp_ns)
    layer.add(Field("icmp.data_time", f"Timestamp from icmp data: {shown}", stamp_ns, shown, begin, 8))
    relative = format_seconds(frame_ns - stamp_ns)
    generated(
        layer,
        "icmp.data_time_relative",
        f"[Timestamp from icmp data (relative): {relative} seconds]",
        (frame_ns - stamp_ns) / 1e9,
        relative,
        begin,
        8,
    )
    cursor.pos = begin + 8
    return payload(cursor)


def to_int32(value: int) -> int:
    """C's (int) cast of a 32-bit difference, as Wireshark compares the clocks."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def ms_after_midnight(value: int) -> str:
    hours, rest = divmod(value, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds = rest / 1000
    if hours:
        return f"{value} ({hours} hours, {minutes} minutes, {seconds:.3f} seconds after midnight UTC)"
    if minutes:
        return f"{value} ({minutes} minutes, {seconds:.3f} seconds after midnight UTC)"
    return f"{value} ({seconds:.3f} seconds after midnight UTC)"


def payload(cursor: ByteCursor) -> Next | None:
    if cursor.pos >= cursor.limit and cursor.end <= len(cursor.data):
        return None
    # A payload cut off by the snaplen is still handed on: the pipeline reports it as truncated.
    # Nothing is bound to this table: the remaining bytes become a Data layer inside ICMP.
    return Next("icmp.payload", (), cursor.pos, cursor.end, inside=True)


def register(registry: Registry) -> None:
    registry.add_protocol(Protocol("icmp", "ICMP", "Internet Control Message Protocol", dissect))
    registry.bind("ip.proto", 1, "icmp")
