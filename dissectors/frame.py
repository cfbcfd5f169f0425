"""Frame: the capture metadata layer every dissection starts with (Wireshark's `frame`)."""

from __future__ import annotations

import functools
import time

from analyzer.context import PacketContext
from analyzer.cursor import ByteCursor, generated
from analyzer.model import Field, Layer, Severity
from analyzer.registry import Next, Protocol, Registry

# Link-layer header types (tcpdump.org/linktypes) with Wireshark's encapsulation numbers.
ENCAPSULATIONS: dict[int, tuple[int, str]] = {
    0: (15, "NULL/Loopback"),
    1: (1, "Ethernet"),
    101: (7, "Raw IP"),
    108: (174, "OpenBSD loopback"),
    113: (25, "Linux cooked-mode capture v1"),
    228: (129, "Raw IPv4"),
    229: (130, "Raw IPv6"),
    276: (210, "Linux cooked-mode capture v2"),
}


def format_abs_time(timestamp_ns: int) -> str:
    """Arrival time as Wireshark prints it: "Nov  1, 2026 11:24:48.366544000 UTC" (local zone)."""
    seconds, nanos = divmod(timestamp_ns, 1_000_000_000)
    clock, zone = _local_second(seconds)
    return f"{clock}.{nanos:09d} {zone}"


@functools.lru_cache(maxsize=256)  # consecutive frames share their second: strftime once per second
def _local_second(seconds: int) -> tuple[str, str]:
    local = time.localtime(seconds)
    return time.strftime("%b %e, %Y %H:%M:%S", local), time.strftime("%Z", local)


def format_seconds(delta_ns: int) -> str:
    """A relative time with nine decimals, sign kept ("-0.000001000")."""
    sign = "-" if delta_ns < 0 else ""
    seconds, nanos = divmod(abs(delta_ns), 1_000_000_000)
    return f"{sign}{seconds}.{nanos:09d}"


def dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next:
    frame = ctx.frame
    wire, cap = frame.wire_len, frame.cap_len
    interface = frame.interface_name
    on_iface = f" on interface {interface}, id {frame.interface_id}" if interface is not None else ""
    layer.label = (
        f"Frame {frame.number}: {wire} bytes on wire ({wire * 8} bits), "
        f"{cap} bytes captured ({cap * 8} bits){on_iface}"
    )
    layer.offset, layer.length = 0, cap
    if frame.section:
        generated(layer, "frame.section_number", f"Section number: {frame.section}", frame.section)
    if interface is not None:
        iface = generated(
            layer,
            "frame.interface_id",
            f"Interface id: {frame.interface_id} ({interface})",
            frame.interface_id,
        )
        generated(iface, "frame.interface_name", f"Interface name: {interface}", interface)
    encap, encap_name = ENCAPSULATIONS.get(frame.linktype, (-1, f"Unknown link type {frame.linktype}"))
    generated(layer, "frame.encap_type", f"Encapsulation type: {encap_name} ({encap})", encap)
    if frame.has_timestamp:
        add_times(layer, ctx)
    generated(layer, "frame.number", f"Frame Number: {frame.number}", frame.number)
    generated(layer, "frame.len", f"Frame Length: {wire} bytes ({wire * 8} bits)", wire)
    generated(layer, "frame.cap_len", f"Capture Length: {cap} bytes ({cap * 8} bits)", cap)
    generated(layer, "frame.marked", "[Frame is marked: False]", False)
    generated(layer, "frame.ignored", "[Frame is ignored: False]", False)
    layer.add(Field("frame.protocols", "[Protocols in frame: ]", "", "", -1, 0, generated=True))
    # The link layer may run to the wire length: bytes past `cap` are snapped, not missing.
    return Next("link", (frame.linktype,), 0, max(wire, cap))


def add_times(layer: Layer, ctx: PacketContext) -> None:
    """Arrival time and deltas; left out for records with no time (pcapng Simple Packet Blocks)."""
    stamp = ctx.frame.timestamp_ns
    generated(layer, "frame.time", f"Arrival Time: {format_abs_time(stamp)}", stamp, format_abs_time(stamp))
    generated(
        layer, "frame.offset_shift", "[Time shift for this packet: 0.000000000 seconds]", 0.0, "0.000000000"
    )
    epoch = format_seconds(stamp)
    generated(layer, "frame.time_epoch", f"Epoch Time: {epoch} seconds", stamp / 1e9, epoch)
    times = ctx.times
    first = times.first_ns if times else stamp
    prev_cap = times.previous_captured_ns if times else stamp
    prev_disp = times.previous_displayed_ns if times else stamp
    for name, text, delta in (
        ("frame.time_delta", "Time delta from previous captured frame", stamp - prev_cap),
        ("frame.time_delta_displayed", "Time delta from previous displayed frame", stamp - prev_disp),
        ("frame.time_relative", "Time since reference or first frame", stamp - first),
    ):
        shown = format_seconds(delta)
        generated(layer, name, f"[{text}: {shown} seconds]", delta / 1e9, shown)


def dissect_comments(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next:
    """The packet's comments, which tshark shows as their own tree before the Frame tree.

    Each comment is also an expert item of severity Comment, printed under it.
    """
    frame = ctx.frame
    layer.label, layer.offset, layer.length = "Packet comments", 0, 0
    for comment in frame.comments:
        item = generated(layer, "frame.comment", comment, comment)
        layer.problem("frame.comment", comment, Severity.COMMENT, group="Comment").about = item
    return Next("frame", ("frame",), 0, max(frame.wire_len, frame.cap_len))


def register(registry: Registry) -> None:
    registry.add_protocol(Protocol("frame", "Frame", "Frame", dissect))
    registry.bind("frame", "frame", "frame")
    registry.add_protocol(Protocol("pkt_comment", "Pkt_Comment", "Packet comments", dissect_comments))
    registry.bind("frame", "pkt_comment", "pkt_comment")
