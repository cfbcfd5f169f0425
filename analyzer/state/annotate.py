"""StreamAnnotator: feeds the TCP/UDP trackers in capture order and adds their results to each tree.

Dissectors are pure and see one frame; tshark's stateful TCP/UDP items (tcp.stream, relative
sequence numbers, the scaled window, [Timestamps], [SEQ/ACK analysis], udp.stream...) come from
here, one forward pass like tshark's default, placed and labelled as tshark 4.0 prints them.

Our own per-packet connection summary goes last in the TCP layer as a `[Connection]` node whose
fields use the `layerscope.conn.*` prefix (tshark has no such fields; `tcp.connection.*` is taken
by its SYN/FIN/RST expert infos), so comparisons with tshark can simply skip that node.
"""

from __future__ import annotations

from dataclasses import dataclass

from analyzer.model import Dissection, Field, Layer, Problem, Severity
from analyzer.state.extract import UdpDatagram, tcp_segment_from, udp_datagram_from
from analyzer.state.tcp_analysis import Flag
from analyzer.state.tcp_facts import ACK, FIN, SYN, TcpSegment
from analyzer.state.tcp_fields import relative_time
from analyzer.state.tcp_tracker import SegmentAnalysis, TcpTracker
from analyzer.state.udp_tracker import UdpTracker

SEQUENCE = "Sequence"

# Expert infos of the analysis flags, in the order tshark 4.0 adds them under [TCP Analysis Flags]:
# (flag, field, severity, message). Fast and spurious retransmissions are also retransmissions.
FLAG_EXPERTS: tuple[tuple[Flag, str, Severity, str], ...] = (
    (Flag.REUSED_PORTS, "tcp.analysis.reused_ports", Severity.NOTE,
     "A new tcp session is started with the same ports as an earlier session in this trace"),
    (Flag.RETRANSMISSION, "tcp.analysis.retransmission", Severity.NOTE,
     "This frame is a (suspected) retransmission"),
    (Flag.SPURIOUS_RETRANSMISSION, "tcp.analysis.spurious_retransmission", Severity.NOTE,
     "This frame is a (suspected) spurious retransmission"),
    (Flag.LOST_PACKET, "tcp.analysis.lost_segment", Severity.WARNING,
     "Previous segment(s) not captured (common at capture start)"),
    (Flag.ACK_LOST_PACKET, "tcp.analysis.ack_lost_segment", Severity.WARNING,
     "ACKed segment that wasn't captured (common at capture start)"),
    (Flag.KEEP_ALIVE, "tcp.analysis.keep_alive", Severity.NOTE, "TCP keep-alive segment"),
    (Flag.WINDOW_UPDATE, "tcp.analysis.window_update", Severity.CHAT, "TCP window update"),
    (Flag.WINDOW_FULL, "tcp.analysis.window_full", Severity.WARNING,
     "TCP window specified by the receiver is now completely full"),
    (Flag.KEEP_ALIVE_ACK, "tcp.analysis.keep_alive_ack", Severity.NOTE, "ACK to a TCP keep-alive segment"),
    (Flag.FAST_RETRANSMISSION, "tcp.analysis.fast_retransmission", Severity.NOTE,
     "This frame is a (suspected) fast retransmission"),
    (Flag.OUT_OF_ORDER, "tcp.analysis.out_of_order", Severity.WARNING,
     "This frame is a (suspected) out-of-order segment"),
    (Flag.ZERO_WINDOW_PROBE, "tcp.analysis.zero_window_probe", Severity.NOTE, "TCP Zero Window Probe"),
    (Flag.ZERO_WINDOW, "tcp.analysis.zero_window", Severity.WARNING, "TCP Zero Window segment"),
    (Flag.ZERO_WINDOW_PROBE_ACK, "tcp.analysis.zero_window_probe_ack", Severity.NOTE,
     "ACK to a TCP Zero Window Probe"),
)  # fmt: skip
RETRANSMISSION_EXPERT = FLAG_EXPERTS[1]

# tcp.completeness as tshark 4.0 names its values; any other value is "Incomplete (N)".
COMPLETENESS_NAMES = {
    1: "Incomplete, SYN_SENT",
    3: "Incomplete, CLIENT_ESTABLISHED",
    7: "Incomplete, ESTABLISHED",
    15: "Incomplete, DATA",
    31: "Complete, WITH_DATA",
    47: "Complete, WITH_DATA",
    63: "Complete, WITH_DATA",
    23: "Complete, NO_DATA",
    39: "Complete, NO_DATA",
    55: "Complete, NO_DATA",
}


def completeness_text(value: int) -> str:
    return f"{COMPLETENESS_NAMES.get(value, 'Incomplete')} ({value})"


def scalefactor_text(value: int) -> str:
    if value == -1:
        return "-1 (unknown)"
    if value == -2:
        return "-2 (no window scaling used)"
    return str(value)


def seconds(ns: int) -> float:
    return ns / 1_000_000_000


def _index(layer: Layer, name: str) -> int:
    """Position of the first top-level field called `name`, or -1."""
    for position, item in enumerate(layer.children):
        if item.name == name:
            return position
    return -1


def _after(layer: Layer, names: tuple[str, ...]) -> int:
    """Insertion point just after the last top-level field with one of `names` (0 if none)."""
    found = 0
    for position, item in enumerate(layer.children):
        if item.name in names:
            found = position + 1
    return found


def _insert(layer: Layer, position: int, *fields: Field) -> int:
    layer.children[position:position] = fields
    return position + len(fields)


def _node(name: str, label: str, value: int | str | None = None, show: str = "") -> Field:
    """A generated, byte-less tree item."""
    return Field(name, label, value, show, -1, 0, generated=True)


@dataclass(slots=True)
class _UdpTimes:
    first_ns: int
    previous_ns: int


class StreamAnnotator:
    """Feed dissections in capture order; each gets tshark's stream-dependent TCP/UDP items."""

    def __init__(self) -> None:
        self.tcp = TcpTracker()
        self.udp = UdpTracker()
        self._udp_times: dict[int, _UdpTimes] = {}

    def annotate(self, dissection: Dissection) -> Dissection:
        """Add the derived items to this dissection (in place) and return it."""
        segment = tcp_segment_from(dissection)
        if segment is not None:
            layer = next(item for item in dissection.layers if item.proto == "tcp" and item.depth == 0)
            self._annotate_tcp(layer, segment, self.tcp.feed(segment))
        datagram = udp_datagram_from(dissection)
        if datagram is not None:
            depth = 1 if datagram.quoted else 0
            layer = next(item for item in dissection.layers if item.proto == "udp" and item.depth == depth)
            self._annotate_udp(layer, datagram)
        return dissection

    # -- UDP ------------------------------------------------------------------------------------

    def _annotate_udp(self, layer: Layer, datagram: UdpDatagram) -> None:
        stream = self.udp.feed(
            datagram.src,
            datagram.sport,
            datagram.dst,
            datagram.dport,
            datagram.payload_len,
            datagram.timestamp_ns,
            counted=not datagram.quoted,
        )
        items = [_node("udp.stream", f"[Stream index: {stream}]", stream, str(stream))]
        if not datagram.quoted:
            # tshark times UDP conversations only for datagrams that are traffic, not ICMP quotes.
            now = datagram.timestamp_ns
            times = self._udp_times.setdefault(stream, _UdpTimes(now, now))
            relative, delta = now - times.first_ns, now - times.previous_ns
            times.previous_ns = now
            stamps = _node("", "[Timestamps]")
            stamps.add(_time("udp.time_relative", "Time since first frame", relative))
            stamps.add(_time("udp.time_delta", "Time since previous frame", delta))
            items.append(stamps)
        position = _after(layer, ("udp.checksum", "udp.checksum.status", "udp.checksum_calculated"))
        _insert(layer, position or len(layer.children), *items)

    # -- TCP ------------------------------------------------------------------------------------

    def _annotate_tcp(self, layer: Layer, seg: TcpSegment, result: SegmentAnalysis) -> None:
        start = layer.offset
        _relabel(layer, seg, result)
        position = _after(layer, ("tcp.srcport", "tcp.dstport", "tcp.port"))
        position = _insert(
            layer,
            position,
            _node("tcp.stream", f"[Stream index: {result.stream}]", result.stream, str(result.stream)),
            _node(
                "tcp.completeness",
                f"[Conversation completeness: {completeness_text(result.completeness)}]",
                result.completeness,
                str(result.completeness),
            ),
        )
        seq_at = _index(layer, "tcp.seq_raw")
        _insert(
            layer,
            seq_at,
            Field(
                "tcp.seq",
                f"Sequence Number: {result.seq}    (relative sequence number)",
                result.seq,
                str(result.seq),
                start + 4,
                4,
            ),
        )
        nxtseq = _node(
            "tcp.nxtseq",
            f"[Next Sequence Number: {result.nxtseq}    (relative sequence number)]",
            result.nxtseq,
            str(result.nxtseq),
        )
        relative_ack = "    (relative ack number)" if seg.flags & ACK else ""
        ack = Field(
            "tcp.ack",
            f"Acknowledgment Number: {result.ack}{relative_ack}",
            result.ack,
            str(result.ack),
            start + 8,
            4,
        )
        _insert(layer, seq_at + 2, nxtseq, ack)
        if not seg.flags & SYN:
            window_at = _index(layer, "tcp.window_size_value") + 1
            items = [
                Field(
                    "tcp.window_size",
                    f"[Calculated window size: {result.window}]",
                    result.window,
                    str(result.window),
                    start + 14,
                    2,
                    generated=True,
                )
            ]
            if result.window_scalefactor is not None:
                factor = result.window_scalefactor
                items.append(
                    _node(
                        "tcp.window_size_scalefactor",
                        f"[Window size scaling factor: {scalefactor_text(factor)}]",
                        factor,
                        str(factor),
                    )
                )
            _insert(layer, window_at, *items)
        if seg.flags & FIN:
            _fin_expert(layer, result.closing_initiator)
        _relative_sack(layer, result.peer_base_seq)
        tail = _after(
            layer,
            (
                "tcp.srcport",
                "tcp.urgent_pointer",
                "tcp.options",
                "tcp.window_size",
                "tcp.window_size_scalefactor",
                "tcp.checksum",
                "tcp.checksum.status",
                "tcp.checksum_calculated",
            ),
        )
        stamps = _node("", "[Timestamps]")
        in_stream = "in this TCP stream"
        stamps.add(_time("tcp.time_relative", f"Time since first frame {in_stream}", result.time_relative_ns))
        stamps.add(_time("tcp.time_delta", f"Time since previous frame {in_stream}", result.time_delta_ns))
        tail = _insert(layer, tail, stamps)
        if result.analysis is not None:
            _insert(layer, tail, _seq_ack_analysis(layer, result))
        layer.add(_connection(result))


def _time(name: str, label: str, ns: int) -> Field:
    text = relative_time(ns)
    item = _node(name, f"[{label}: {text} seconds]", None, text)
    item.value = seconds(ns)
    return item


def _relabel(layer: Layer, seg: TcpSegment, result: SegmentAnalysis) -> None:
    """tshark's header line shows relative numbers: "..., Seq: 1, Ack: 1, Len: 4"."""
    head = layer.label.split(", Seq: ", 1)[0]
    label = f"{head}, Seq: {result.seq}"
    if seg.flags & ACK:
        label += f", Ack: {result.ack}"
    layer.label = f"{label}, Len: {seg.payload_len}"


def _fin_expert(layer: Layer, active: bool) -> None:
    """Which side of the close this FIN is, under the [TCP Flags] item as tshark puts it."""
    flags = layer.find("tcp.flags.str")
    if flags is None:
        return
    if active:
        code, message = "tcp.connection.fin_active", "This frame initiates the connection closing"
    else:
        code, message = "tcp.connection.fin_passive", "This frame undergoes the connection closing"
    layer.problems.append(Problem(code, Severity.NOTE, message, -1, 0, SEQUENCE, about=flags))


def _relative_sack(layer: Layer, base: int | None) -> None:
    """SACK edges relative to the peer's ISN, as tshark shows them once it knows it."""
    if base is None:
        return
    for option in layer.walk():
        if option.name != "tcp.options.sack":
            continue
        blocks: list[str] = []
        left: int | None = None
        for edge in option.children:
            if edge.name not in ("tcp.options.sack_le", "tcp.options.sack_re") or not isinstance(
                edge.value, int
            ):
                continue
            relative = (edge.value - base) & 0xFFFFFFFF
            side = "left" if edge.name.endswith("_le") else "right"
            edge.value, edge.show = relative, str(relative)
            edge.label = f"{side} edge = {relative} (relative)"
            if side == "left":
                left = relative
            elif left is not None:
                blocks.append(f" {left}-{relative}")
        if blocks:
            option.label = "TCP Option - SACK" + "".join(blocks)


def _seq_ack_analysis(layer: Layer, result: SegmentAnalysis) -> Field:
    ta = result.analysis
    assert ta is not None
    node = _node("tcp.analysis", "[SEQ/ACK analysis]")
    if ta.frame_acked:
        node.add(
            _node(
                "tcp.analysis.acks_frame",
                f"[This is an ACK to the segment in frame: {ta.frame_acked}]",
                ta.frame_acked,
                str(ta.frame_acked),
            )
        )
        if ta.ack_rtt_ns:
            node.add(_time("tcp.analysis.ack_rtt", "The RTT to ACK the segment was", ta.ack_rtt_ns))
    if result.initial_rtt_ns:
        node.add(_time("tcp.analysis.initial_rtt", "iRTT", result.initial_rtt_ns))
    if ta.bytes_in_flight:
        node.add(
            _node(
                "tcp.analysis.bytes_in_flight",
                f"[Bytes in flight: {ta.bytes_in_flight}]",
                ta.bytes_in_flight,
                str(ta.bytes_in_flight),
            )
        )
        node.add(
            _node(
                "tcp.analysis.push_bytes_sent",
                f"[Bytes sent since last PSH flag: {ta.push_bytes_sent}]",
                ta.push_bytes_sent,
                str(ta.push_bytes_sent),
            )
        )
    if not ta.flags:
        return node
    flags = node.add(_node("tcp.analysis.flags", "[TCP Analysis Flags]", None, "1"))

    def expert(name: str, severity: Severity, message: str) -> None:
        # tshark's expert item is a field of the same name too: `-e` shows it as 1, `-V` shows
        # only the expert lines, printed where the hidden field stands.
        item = flags.add(Field(name, message, True, "1", -1, 0, generated=True, hidden=True))
        layer.problems.append(Problem(name, severity, message, -1, 0, SEQUENCE, about=item))

    for bit, name, severity, message in FLAG_EXPERTS:
        if not ta.flags & bit:
            continue
        expert(name, severity, message)
        if bit in (Flag.FAST_RETRANSMISSION, Flag.SPURIOUS_RETRANSMISSION):
            expert(*RETRANSMISSION_EXPERT[1:])
        if bit is Flag.RETRANSMISSION and ta.rto_ns:
            flags.add(_time("tcp.analysis.rto", "The RTO for this segment was", ta.rto_ns))
            flags.add(
                _node(
                    "tcp.analysis.rto_frame",
                    f"[RTO based on delta from frame: {ta.rto_frame}]",
                    ta.rto_frame,
                    str(ta.rto_frame),
                )
            )
    if ta.flags & Flag.DUPLICATE_ACK:
        flags.add(_node("tcp.analysis.duplicate_ack", "[This is a TCP duplicate ack]", None, "1"))
    if ta.dupack_num:
        node.add(
            _node(
                "tcp.analysis.duplicate_ack_num",
                f"[Duplicate ACK #: {ta.dupack_num}]",
                ta.dupack_num,
                str(ta.dupack_num),
            )
        )
        frame = node.add(
            _node(
                "tcp.analysis.duplicate_ack_frame",
                f"[Duplicate to the ACK in frame: {ta.dupack_frame}]",
                ta.dupack_frame,
                str(ta.dupack_frame),
            )
        )
        if ta.flags & Flag.DUPLICATE_ACK:
            message = f"Duplicate ACK (#{ta.dupack_num})"
            twin = Field("tcp.analysis.duplicate_ack", message, True, "1", -1, 0, generated=True, hidden=True)
            frame.add(twin)
            layer.problems.append(
                Problem("tcp.analysis.duplicate_ack", Severity.NOTE, message, -1, 0, SEQUENCE, about=twin)
            )
    return node


def _connection(result: SegmentAnalysis) -> Field:
    """Our own summary of the connection after this segment (not a tshark item)."""
    node = _node("layerscope.conn", "[Connection]")
    node.add(_node("layerscope.conn.stream", f"[Stream: {result.stream}]", result.stream, str(result.stream)))
    step = result.handshake_step or ""
    if step:
        node.add(_node("layerscope.conn.handshake", f"[Handshake step: {step}]", step, step))
    side = "originator" if result.from_originator else "responder"
    node.add(_node("layerscope.conn.sender", f"[Sent by: {side}]", side, side))
    orig, resp = result.orig_state.value, result.resp_state.value
    node.add(_node("layerscope.conn.orig_state", f"[Originator state: {orig}]", orig, orig))
    node.add(_node("layerscope.conn.resp_state", f"[Responder state: {resp}]", resp, resp))
    state = result.conn_state
    node.add(_node("layerscope.conn.conn_state", f"[Connection state so far: {state}]", state, state))
    history = result.history
    node.add(_node("layerscope.conn.history", f"[History: {history}]", history, history))
    return node
