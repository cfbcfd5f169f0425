"""The TCP analysis tags tshark puts in front of a segment's Info ("[TCP Retransmission] ", "[TCP Dup
ACK 20#1] "...), from the tracker's findings.

Wireshark adds each finding's tag in front of the Info column as it prints the analysis (port
reuse, the retransmission kinds, lost segments, window, keep-alive, duplicate ACK, zero window),
so the column reads them in the reverse order: TAG_ORDER is that reading order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analyzer.state.tcp_analysis import Flag
from analyzer.state.tcp_facts import TcpSegment

if TYPE_CHECKING:
    from analyzer.model import Dissection
    from captures.types import RawRecord

TAG_ORDER: tuple[tuple[int, str], ...] = (
    (Flag.ZERO_WINDOW_PROBE_ACK, "[TCP ZeroWindowProbeAck] "),
    (Flag.ZERO_WINDOW, "[TCP ZeroWindow] "),
    (Flag.ZERO_WINDOW_PROBE, "[TCP ZeroWindowProbe] "),
    (Flag.DUPLICATE_ACK, ""),  # "[TCP Dup ACK {frame}#{count}] ", numbered: see info_tags
    (Flag.KEEP_ALIVE_ACK, "[TCP Keep-Alive ACK] "),
    (Flag.KEEP_ALIVE, "[TCP Keep-Alive] "),
    (Flag.WINDOW_FULL, "[TCP Window Full] "),
    (Flag.WINDOW_UPDATE, "[TCP Window Update] "),
    (Flag.ACK_LOST_PACKET, "[TCP ACKed unseen segment] "),
    (Flag.LOST_PACKET, "[TCP Previous segment not captured] "),
    (Flag.OUT_OF_ORDER, "[TCP Out-Of-Order] "),
    (Flag.FAST_RETRANSMISSION, "[TCP Fast Retransmission] "),
    (Flag.SPURIOUS_RETRANSMISSION, "[TCP Spurious Retransmission] "),
    (Flag.RETRANSMISSION, "[TCP Retransmission] "),
    (Flag.REUSED_PORTS, "[TCP Port numbers reused] "),
)
# The tree's flag fields (tcp.analysis.*) and the finding each one shows.
FIELD_FLAGS = {
    "tcp.analysis.zero_window_probe_ack": Flag.ZERO_WINDOW_PROBE_ACK,
    "tcp.analysis.zero_window": Flag.ZERO_WINDOW,
    "tcp.analysis.zero_window_probe": Flag.ZERO_WINDOW_PROBE,
    "tcp.analysis.duplicate_ack": Flag.DUPLICATE_ACK,
    "tcp.analysis.keep_alive_ack": Flag.KEEP_ALIVE_ACK,
    "tcp.analysis.keep_alive": Flag.KEEP_ALIVE,
    "tcp.analysis.window_full": Flag.WINDOW_FULL,
    "tcp.analysis.window_update": Flag.WINDOW_UPDATE,
    "tcp.analysis.ack_lost_segment": Flag.ACK_LOST_PACKET,
    "tcp.analysis.lost_segment": Flag.LOST_PACKET,
    "tcp.analysis.out_of_order": Flag.OUT_OF_ORDER,
    "tcp.analysis.fast_retransmission": Flag.FAST_RETRANSMISSION,
    "tcp.analysis.spurious_retransmission": Flag.SPURIOUS_RETRANSMISSION,
    "tcp.analysis.retransmission": Flag.RETRANSMISSION,
    "tcp.analysis.reused_ports": Flag.REUSED_PORTS,
}


# Plain ints: IntFlag arithmetic is a Python-level call per operation, and this runs per segment.
_PLAIN_ORDER = tuple((int(flag), text) for flag, text in TAG_ORDER)
_DUPLICATE_ACK = int(Flag.DUPLICATE_ACK)
_TEXT_CACHE: dict[int, str] = {}


def info_tags(flags: int, dupack_num: int = 0, dupack_frame: int = 0) -> str:
    """The Info prefix for a segment with these findings ("" for none)."""
    if not flags:
        return ""
    if not flags & _DUPLICATE_ACK:
        cached = _TEXT_CACHE.get(flags)
        if cached is not None:
            return cached
    tags = []
    for flag, text in _PLAIN_ORDER:
        if flags & flag:
            tags.append(text or f"[TCP Dup ACK {dupack_frame}#{dupack_num}] ")
    joined = "".join(tags)
    if not flags & _DUPLICATE_ACK and len(_TEXT_CACHE) < 1 << 15:  # at most 2**15 combinations
        _TEXT_CACHE[flags] = joined
    return joined


def dissection_tags(dissection: Dissection) -> str:
    """The tags of an annotated tree: its own TCP layer's analysis flags (not a quoted header's)."""
    for layer in dissection.layers:
        if layer.proto != "tcp" or layer.depth or layer.source:
            continue
        flags = dupack_num = dupack_frame = 0
        for item in layer.walk():
            if item.name.startswith("tcp.analysis."):
                flags |= FIELD_FLAGS.get(item.name, 0)
                if item.name == "tcp.analysis.duplicate_ack_num" and isinstance(item.value, int):
                    dupack_num = item.value
                elif item.name == "tcp.analysis.duplicate_ack_frame" and isinstance(item.value, int):
                    dupack_frame = item.value
        if flags & (Flag.FAST_RETRANSMISSION | Flag.SPURIOUS_RETRANSMISSION):
            # The tree shows a fast or spurious retransmission as a retransmission too; the
            # finding itself is the one kind.
            flags &= ~Flag.RETRANSMISSION
        return info_tags(flags, dupack_num, dupack_frame)
    return ""


class TcpTagger:
    """Runs the TCP tracker over a capture's records, in order, for the summary's Info tags.

    Segments are decoded as `layerscope flows` decodes them (the tracker's own input), so the
    findings, and the stream numbers behind them, are the ones the tree and `flows` show. The
    tracker only keeps what the findings need (`TcpTracker.findings`)."""

    def __init__(self) -> None:
        from analyzer.export.flows_facts import record_fact
        from analyzer.state.tcp_tracker import TcpTracker

        self._record_fact = record_fact
        # The tracker's findings for one segment; the summary's inline path calls it directly.
        self.findings = TcpTracker().findings

    def tags(self, number: int, record: RawRecord) -> str:
        """Feed frame `number`'s TCP segment (if it is one) to the tracker and return its tags."""
        segment = self._record_fact(number, record)
        if not isinstance(segment, TcpSegment):
            return ""
        return self.segment_tags(segment)

    def segment_tags(self, segment: TcpSegment) -> str:
        """Feed one TCP segment, decoded as record_fact decodes it, and return its tags."""
        analysis = self.findings(segment)
        if analysis is None:
            return ""
        return info_tags(int(analysis.flags), analysis.dupack_num, analysis.dupack_frame)
