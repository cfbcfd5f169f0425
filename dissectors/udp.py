"""UDP: User Datagram Protocol (RFC 768; IPv6 checksum and jumbograms: RFC 8200, RFC 2675)."""

from __future__ import annotations

from analyzer.context import PacketContext
from analyzer.cursor import ByteCursor, Truncated, generated
from analyzer.model import Field, Layer, Severity
from analyzer.registry import Next, Protocol, Registry
from dissectors.checksum import internet_checksum, pseudo_header_sum, should_be

HEADER = 8
IP_PROTO_UDP = 17
# LBL traceroute's first port is 33434 and it probes each hop three times.
TRACEROUTE_BASE = 32768 + 666


def dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    start = cursor.pos
    if ctx.in_error and ctx.frame.cap_len >= ctx.frame.wire_len:
        # An ICMP error quotes what it can; the quote is the datagram as far as tshark knows,
        # and tshark stops quietly where the quote ends.
        quoted = ByteCursor(cursor.data, start, min(cursor.end, len(cursor.data)))
        try:
            return _dissect(quoted, layer, ctx)
        except Truncated:
            return None
    return _dissect(cursor, layer, ctx)


def _dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    start = cursor.pos
    reported_len = cursor.end - start
    layer.offset = start
    layer.label = "User Datagram Protocol"
    src = _port(cursor, layer, "udp.srcport", "Source Port")
    dst = _port(cursor, layer, "udp.dstport", "Destination Port")
    ctx.src_port, ctx.dst_port = src, dst
    for at, port in ((start, src), (start + 2, dst)):
        layer.add(
            Field("udp.port", f"Source or Destination Port: {port}", port, str(port), at, 2, hidden=True)
        )
    layer.label += f", Src Port: {src}, Dst Port: {dst}"

    length = cursor.peek_uint(2, at=start + 4)
    declared = length
    if length == 0 and ctx.ip_version == 6:
        length = reported_len  # RFC 2675 jumbogram: the length comes from the IPv6 layer
    text = str(declared)
    if length < HEADER:
        text += " (bogus, must be >= 8)"
        message = f"Bad length value {length} < 8"
    elif length > reported_len and not ctx.ip_fragmented and not ctx.in_error:
        text += f" (bogus, payload length {reported_len})"
        message = f"Bad length value {length} > IP payload length"
    else:
        message = ""
    cursor.uint(layer, "udp.length", "Length", 2, at=start + 4, text=lambda _: text)
    if message:
        layer.problem("udp.length.bad", message, Severity.ERROR, start + 4, 2)
    if length < HEADER:
        return None
    if length != declared and length < 65536:
        layer.problem(
            "udp.length.bad_zero", "Length is zero but payload < 65536", Severity.ERROR, start + 4, 2
        )

    _checksum(cursor, layer, ctx, start, reported_len, length)
    if length == HEADER:
        return None

    payload_start = start + HEADER
    captured = max(cursor.limit - payload_start, 0)
    if captured == 0:
        if cursor.end > payload_start:
            # No later layer will see the missing bytes, so say here that the capture cut them
            # (the limit is the captured end here: an ICMP quote's cursor never runs past it).
            layer.problem(
                "udp.truncated",
                "Packet size limited during capture: UDP payload not captured",
                Severity.WARNING,
                payload_start,
                0,
            )
        return None
    # The payload ends where the UDP length says, unless the IP payload ends first.
    reported = min(max(cursor.end - payload_start, 0), length - HEADER)
    shown = min(captured, reported)
    # tshark's udp.payload runs to the end of the IP payload, even past the UDP length.
    raw = cursor.data[payload_start : payload_start + captured]
    label = f"UDP payload ({shown} byte{'' if shown == 1 else 's'})"
    layer.add(Field("udp.payload", label, raw, raw.hex(), payload_start, captured))
    keys = tuple(port for port in sorted((src, dst)) if port != 0)
    # Wireshark's UDP hands its payload to the root of the tree: in an ICMP error, the quoted
    # datagram's payload shows at the top level, after the ICMP tree.
    return Next("udp.port", keys, payload_start, payload_start + reported, at_root=True)


def _port(cursor: ByteCursor, layer: Layer, name: str, label: str) -> int:
    at = cursor.pos
    port = cursor.uint(layer, name, label, 2)
    if TRACEROUTE_BASE < port <= TRACEROUTE_BASE + 30:
        hop, attempt = divmod(port - TRACEROUTE_BASE - 1, 3)
        layer.problem(
            "udp.possible_traceroute",
            f"Possible traceroute: hop #{hop + 1}, attempt #{attempt + 1}",
            Severity.CHAT,
            at,
            2,
            group="Sequence",
        )
    return port


def _checksum(
    cursor: ByteCursor, layer: Layer, ctx: PacketContext, start: int, reported_len: int, length: int
) -> None:
    offset = start + 6
    value = cursor.peek_uint(2, at=offset)
    shown = f"0x{value:04x}"
    if value == 0:
        # Optional over IPv4 (and in a quoted packet), mandatory over IPv6 (RFC 8200 8.1).
        if ctx.ip_version != 6 or ctx.in_error:
            item = layer.add(
                Field("udp.checksum", f"Checksum: {shown} [zero-value ignored]", 0, shown, offset, 2)
            )
            generated(
                item, "udp.checksum.status", "[Checksum Status: Not present]", 3, offset=offset, length=2
            )
        else:
            item = layer.add(
                Field("udp.checksum", f"Checksum: {shown} [zero-value illegal]", 0, shown, offset, 2)
            )
            generated(item, "udp.checksum.status", "[Checksum Status: Illegal]", 4, offset=offset, length=2)
            layer.problem(
                "udp.checksum.zero", "Illegal checksum value (0)", Severity.ERROR, offset, 2, "Checksum"
            )
        return
    captured = min(cursor.limit, len(cursor.data)) - start
    complete = not ctx.ip_fragmented and captured >= reported_len >= length
    if not (complete and ctx.prefs.check_checksums and ctx.ip_src and ctx.ip_dst):
        layer.add(Field("udp.checksum", f"Checksum: {shown} [unverified]", value, shown, offset, 2))
        generated(layer, "udp.checksum.status", "[Checksum Status: Unverified]", 2, offset=offset)
        return
    datagram = cursor.data[start : start + length]
    computed = internet_checksum(datagram, pseudo_header_sum(ctx.ip_src, ctx.ip_dst, IP_PROTO_UDP, length))
    if computed == 0:
        expected, status, status_name = value, 1, "Good"
        label = f"Checksum: {shown} [correct]"
    else:
        expected, status, status_name = should_be(value, computed), 0, "Bad"
        label = (
            f"Checksum: {shown} incorrect, should be 0x{expected:04x}"
            ' (maybe caused by "UDP checksum offload"?)'
        )
        layer.problem(
            "udp.checksum.bad",
            f"Bad checksum [should be 0x{expected:04x}]",
            Severity.ERROR,
            offset,
            2,
            "Checksum",
        )
    item = layer.add(Field("udp.checksum", label, value, shown, offset, 2))
    calculated = f"0x{expected:04x}"
    generated(
        item,
        "udp.checksum_calculated",
        f"[Calculated Checksum: {calculated}]",
        expected,
        calculated,
        offset,
        2,
    )
    generated(layer, "udp.checksum.status", f"[Checksum Status: {status_name}]", status, offset=offset)


def register(registry: Registry) -> None:
    registry.add_protocol(Protocol("udp", "UDP", "User Datagram Protocol", dissect))
    registry.bind("ip.proto", IP_PROTO_UDP, "udp")
