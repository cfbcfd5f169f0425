"""TCP: Transmission Control Protocol (RFC 9293), one segment at a time, without connection state.

Wireshark shows relative sequence numbers, the scaled window and SEQ/ACK analysis, all of
which need earlier frames; a connection tracker adds those later. This module emits only
what one segment proves: raw numbers (tcp.seq_raw, tcp.ack_raw), and tcp.seq / tcp.ack /
tcp.window_size only where tshark's own values are stateless too (inside an ICMP error or
an IP fragment, where tshark does no analysis, and tcp.window_size on SYNs, never scaled).
"""

from __future__ import annotations

import functools

from analyzer.context import PacketContext
from analyzer.cursor import ByteCursor, Truncated, generated
from analyzer.model import Field, Layer, Severity
from analyzer.registry import Next, Protocol, Registry
from dissectors.checksum import internet_checksum, pseudo_header_sum, should_be
from dissectors.tcp_options import dissect_options

MIN_HEADER = 20
IP_PROTO_TCP = 6

# (mask, flag field, label, name in "Flags: 0x018 (PSH, ACK)", letter in tcp.flags.str)
FLAG_BITS = (
    (0x800, "tcp.flags.res", "Reserved", "", "R"),
    (0x100, "tcp.flags.ae", "Accurate ECN", "AE", "A"),
    (0x080, "tcp.flags.cwr", "Congestion Window Reduced", "CWR", "C"),
    (0x040, "tcp.flags.ece", "ECN-Echo", "ECE", "E"),
    (0x020, "tcp.flags.urg", "Urgent", "URG", "U"),
    (0x010, "tcp.flags.ack", "Acknowledgment", "ACK", "A"),
    (0x008, "tcp.flags.push", "Push", "PSH", "P"),
    (0x004, "tcp.flags.reset", "Reset", "RST", "R"),
    (0x002, "tcp.flags.syn", "Syn", "SYN", "S"),
    (0x001, "tcp.flags.fin", "Fin", "FIN", "F"),
)
RESERVED, FIN, SYN, RST, ACK, URG = 0xE00, 0x001, 0x002, 0x004, 0x010, 0x020


def flags_summary(flags: int) -> str:
    """The "(PSH, ACK)" part of the Flags line: names from FIN upwards, then Reserved."""
    names = [name for mask, _, _, name, _ in reversed(FLAG_BITS) if name and flags & mask]
    if flags & RESERVED:
        names.append("Reserved")
    return ", ".join(names) if names else "<None>"


def flags_letters(flags: int) -> str:
    """tcp.flags.str: one letter a bit from bit 11 down, a middle dot where clear."""
    letters = "RRRACEUAPRSF"
    return "".join(letters[11 - bit] if flags >> bit & 1 else "\u00b7" for bit in range(11, -1, -1))


@functools.lru_cache(maxsize=4096)  # a handful of flag words recur in every connection
def bit_picture(flags: int, mask: int) -> str:
    """Wireshark's 12-bit picture of the flags word ("...0 .... ....")."""
    chars = [("1" if flags >> bit & 1 else "0") if mask >> bit & 1 else "." for bit in range(11, -1, -1)]
    return " ".join("".join(chars[i : i + 4]) for i in range(0, 12, 4))


def dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    if ctx.in_error and ctx.frame.cap_len >= ctx.frame.wire_len:
        # The packet an ICMP error quotes is as long as the bytes the error carries (RFC 792
        # asks for only 8 of them); tshark shows what is there and stops quietly where it ends.
        quoted = ByteCursor(cursor.data, cursor.start, min(cursor.end, len(cursor.data)))
        try:
            return _dissect(quoted, layer, ctx)
        except Truncated:
            return None
    return _dissect(cursor, layer, ctx)


def _dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    start = cursor.pos
    reported_len = cursor.end - start
    layer.offset = start
    layer.label = "Transmission Control Protocol"
    src = cursor.uint(layer, "tcp.srcport", "Source Port", 2)
    dst = cursor.uint(layer, "tcp.dstport", "Destination Port", 2)
    ctx.src_port, ctx.dst_port = src, dst
    for at, port in ((start, src), (start + 2, dst)):
        layer.add(
            Field("tcp.port", f"Source or Destination Port: {port}", port, str(port), at, 2, hidden=True)
        )
    layer.label += f", Src Port: {src}, Dst Port: {dst}"

    # Inside an ICMPv4 error tshark shows the sequence number right away, as the RFC 792
    # quote may end just after it.
    icmp_quoted = ctx.in_error and ctx.ip_version == 4
    if icmp_quoted:
        cursor.uint(layer, "tcp.seq", "Sequence Number", 4, at=start + 4)
    fixed = cursor.peek(12, at=start + 4)  # seq, ack, offset/flags, window: read as one
    seq = int.from_bytes(fixed[0:4], "big")
    ack = int.from_bytes(fixed[4:8], "big")
    offset_flags = int.from_bytes(fixed[8:10], "big")
    flags = offset_flags & 0x0FFF
    header_len = (offset_flags >> 12) * 4

    # The segment length needs the whole datagram: not in a fragment nor in an ICMP quote.
    seg_len: int | None = None
    if not ctx.ip_fragmented and not ctx.in_error:
        if reported_len < header_len:
            layer.problem(
                "tcp.short_segment",
                "Short segment. Segment/fragment does not contain a full TCP header"
                " (might be NMAP or someone else deliberately sending unusual packets)",
                Severity.WARNING,
                start,
                0,
            )
        else:
            seg_len = reported_len - header_len
            generated(layer, "tcp.len", f"[TCP Segment Len: {seg_len}]", seg_len, offset=start + 12, length=1)

    layer.label += f", Seq: {seq}"
    if not icmp_quoted:
        if seg_len is None:
            # Without a segment length tshark does no analysis: its tcp.seq is the raw number.
            cursor.uint(
                layer,
                "tcp.seq",
                "Sequence Number",
                4,
                at=start + 4,
                text=lambda v: f"{v}    (relative sequence number)",
            )
        cursor.uint(layer, "tcp.seq_raw", "Sequence Number (raw)", 4, at=start + 4)

    if header_len < MIN_HEADER:
        _header_length(layer, start, header_len)
        layer.problem(
            "tcp.bogus_header_length",
            f"Bogus TCP header length ({header_len}, must be at least {MIN_HEADER})",
            Severity.ERROR,
            start + 12,
            1,
            group="Protocol",
        )
        return None

    if flags & ACK:
        layer.label += f", Ack: {ack}"
    if seg_len is not None:
        layer.label += f", Len: {seg_len}"

    if seg_len is None:
        relative = "    (relative ack number)" if flags & ACK else ""
        cursor.uint(
            layer, "tcp.ack", "Acknowledgment Number", 4, at=start + 8, text=lambda v: f"{v}{relative}"
        )
    if not flags & ACK and ack != 0:
        layer.problem(
            "tcp.ack.nonzero",
            "The acknowledgment number field is nonzero while the ACK flag is not set",
            Severity.NOTE,
            start + 8,
            4,
            group="Protocol",
        )
    cursor.uint(layer, "tcp.ack_raw", "Acknowledgment number (raw)", 4, at=start + 8)
    _header_length(layer, start, header_len)
    _flags(layer, start, flags, src, dst)

    window = cursor.uint(layer, "tcp.window_size_value", "Window", 2, at=start + 14)
    if flags & SYN or seg_len is None:
        # SYNs are never scaled, and tshark scales nothing it does not analyse.
        generated(
            layer,
            "tcp.window_size",
            f"[Calculated window size: {window}]",
            window,
            offset=start + 14,
            length=2,
        )

    _checksum(cursor, layer, ctx, start, reported_len)
    urgent = cursor.uint(layer, "tcp.urgent_pointer", "Urgent Pointer", 2, at=start + 18)
    if urgent and not flags & URG:
        layer.problem(
            "tcp.urgent_pointer.non_zero",
            "The urgent pointer field is nonzero while the URG flag is not set",
            Severity.NOTE,
            start + 18,
            2,
            group="Protocol",
        )

    options_len = header_len - MIN_HEADER
    if options_len:
        options_start = start + MIN_HEADER
        shown = max(min(options_len, cursor.limit - options_start), 0)
        raw = cursor.data[options_start : options_start + shown]
        # tshark prints an empty bytes item (none of the options captured) as "<MISSING>".
        shown_text = raw.hex() if raw else "<MISSING>"
        options = layer.add(
            Field("tcp.options", f"Options: ({options_len} bytes)", raw, shown_text, options_start, shown)
        )
        header_end = start + header_len
        if header_end <= cursor.end:
            dissect_options(
                ByteCursor(cursor.data, options_start, header_end), options, layer, bool(flags & SYN)
            )
        else:
            # The header claims more bytes than the segment (or an ICMP quote) holds: tshark
            # decodes the options that are there, then gives up on the packet as malformed.
            within = ByteCursor(cursor.data[: cursor.end], options_start, header_end)
            try:
                dissect_options(within, options, layer, bool(flags & SYN))
            except Truncated as cut:
                raise Truncated(cut.offset, cut.wanted, snapped=False) from None

    return _payload(cursor, layer, start + header_len, flags, src, dst)


def _header_length(layer: Layer, start: int, header_len: int) -> None:
    raw = header_len // 4
    picture = "".join("1" if raw >> bit & 1 else "0" for bit in range(3, -1, -1)) + " ...."
    label = f"{picture} = Header Length: {header_len} bytes ({raw})"
    layer.add(Field("tcp.hdr_len", label, header_len, str(header_len), start + 12, 1, mask=0xF0))


def _flags(layer: Layer, start: int, flags: int, src: int, dst: int) -> None:
    item = layer.add(
        Field(
            "tcp.flags",
            f"Flags: 0x{flags:03x} ({flags_summary(flags)})",
            flags,
            f"0x{flags:04x}",
            start + 12,
            2,
            mask=0x0FFF,
        )
    )
    for mask, name, label, _, _ in FLAG_BITS:
        full_mask = RESERVED if mask == 0x800 else mask
        value = bool(flags & full_mask)
        # Reserved and AE live in byte 12, the rest in byte 13; masks are relative to that byte.
        at, byte_mask = (start + 12, full_mask >> 8) if full_mask > 0xFF else (start + 13, full_mask)
        state = "Set" if value else "Not set"
        text = f"{bit_picture(flags, full_mask)} = {label}: {state}"
        item.add(Field(name, text, value, "1" if value else "0", at, 1, mask=byte_mask))
    letters = flags_letters(flags)
    generated(item, "tcp.flags.str", f"[TCP Flags: {letters}]", letters, offset=start + 12, length=2)
    if flags & SYN:
        if flags & ACK:
            message, code = f"Connection establish acknowledge (SYN+ACK): server port {src}", "synack"
        else:
            message, code = f"Connection establish request (SYN): server port {dst}", "syn"
        layer.problem(f"tcp.connection.{code}", message, Severity.CHAT, start + 13, 1, group="Sequence")
    if flags & FIN:
        layer.problem(
            "tcp.connection.fin", "Connection finish (FIN)", Severity.CHAT, start + 13, 1, "Sequence"
        )
    if flags & RST:
        layer.problem(
            "tcp.connection.rst", "Connection reset (RST)", Severity.WARNING, start + 13, 1, "Sequence"
        )


def _checksum(cursor: ByteCursor, layer: Layer, ctx: PacketContext, start: int, reported_len: int) -> None:
    """tcp.checksum and its status: verified only over a whole, unfragmented segment."""
    value = cursor.peek_uint(2, at=start + 16)
    offset = start + 16
    complete = not ctx.ip_fragmented and cursor.end <= len(cursor.data)
    if not (complete and ctx.prefs.check_checksums and ctx.ip_src and ctx.ip_dst):
        layer.add(
            Field("tcp.checksum", f"Checksum: 0x{value:04x} [unverified]", value, f"0x{value:04x}", offset, 2)
        )
        generated(layer, "tcp.checksum.status", "[Checksum Status: Unverified]", 2, offset=offset)
        return
    segment = cursor.data[start : start + reported_len]
    computed = internet_checksum(
        segment, pseudo_header_sum(ctx.ip_src, ctx.ip_dst, IP_PROTO_TCP, reported_len)
    )
    expected = should_be(value, computed)
    if computed == 0 and value == 0xFFFF:
        # RFC 1624: 0xffff and 0x0000 are the same sum, but a sender should send 0x0000.
        label = f"Checksum: 0x{value:04x} [should be 0x0000 (see RFC 1624)]"
        item = layer.add(Field("tcp.checksum", label, value, f"0x{value:04x}", offset, 2))
        generated(item, "tcp.checksum_calculated", "[Calculated Checksum: 0x0000]", 0, "0x0000", offset, 2)
        generated(item, "tcp.checksum.status", "[Checksum Status: Illegal]", 4, offset=offset)
        layer.problem(
            "tcp.checksum.ffff",
            "TCP Checksum 0xffff instead of 0x0000 (see RFC 1624)",
            Severity.WARNING,
            offset,
            2,
        )
        return
    if computed == 0:
        label, status, status_name = f"Checksum: 0x{value:04x} [correct]", 1, "Good"
    else:
        label = (
            f"Checksum: 0x{value:04x} incorrect, should be 0x{expected:04x}"
            '(maybe caused by "TCP checksum offload"?)'
        )
        status, status_name = 0, "Bad"
        layer.problem(
            "tcp.checksum_bad.expert",
            f"Bad checksum [should be 0x{expected:04x}]",
            Severity.ERROR,
            offset,
            2,
            group="Checksum",
        )
    layer.add(Field("tcp.checksum", label, value, f"0x{value:04x}", offset, 2))
    generated(layer, "tcp.checksum.status", f"[Checksum Status: {status_name}]", status, offset=offset)
    generated(
        layer,
        "tcp.checksum_calculated",
        f"[Calculated Checksum: 0x{expected:04x}]",
        expected,
        f"0x{expected:04x}",
        offset,
        2,
    )


def _payload(cursor: ByteCursor, layer: Layer, offset: int, flags: int, src: int, dst: int) -> Next | None:
    captured = max(cursor.limit - offset, 0)
    reported = max(cursor.end - offset, 0)
    if captured < reported and (captured == 0 or flags & RST):
        # No later layer will see the missing bytes, so say here that the capture cut them.
        layer.problem(
            "tcp.truncated",
            f"Packet size limited during capture: {reported - captured} bytes of TCP payload not captured",
            Severity.WARNING,
            min(offset + captured, cursor.limit),  # the header itself may end past the captured bytes
            0,
        )
    if captured == 0:
        return None
    if flags & RST:
        # RFC 1122 4.2.2.12: a RST may carry text explaining the reset; tshark shows it as such.
        text = cursor.data[offset : offset + captured].decode("ascii", "replace")
        layer.add(Field("tcp.reset_cause", f"Reset cause: {text}", text, text, offset, captured))
        return None
    payload = cursor.data[offset : offset + captured]
    plural = "" if reported == 1 else "s"
    layer.add(
        Field(
            "tcp.payload", f"TCP payload ({reported} byte{plural})", payload, payload.hex(), offset, captured
        )
    )
    keys = tuple(port for port in sorted((src, dst)) if port != 0)
    return Next("tcp.port", keys, offset, cursor.end)


def register(registry: Registry) -> None:
    registry.add_protocol(Protocol("tcp", "TCP", "Transmission Control Protocol", dissect))
    registry.bind("ip.proto", IP_PROTO_TCP, "tcp")
