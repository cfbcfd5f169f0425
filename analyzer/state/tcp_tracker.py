"""TCP conversation tracker: tcp.stream numbering, relative numbers, windows and analysis per segment.

Feed every TCP segment of a capture in frame order (one forward pass, like tshark's default);
`feed` returns what tshark shows for that frame, and `connections()` the per-connection summaries
(Zeek conn.log columns plus Wireshark's handshake RTT and Community ID) for the `flows` view.

Stream numbering follows Wireshark's conversation table: a new 4-tuple gets the next number; a
pure SYN whose ISN differs from the one the conversation started with starts a new stream
(port reuse, tcp.analysis.reused_ports), a SYN with the same ISN is a retransmission.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from analyzer.state.community_id import PROTO_TCP, community_id
from analyzer.state.tcp_analysis import (
    NO_SCALING,
    RETRANSMISSION_KINDS,
    UNKNOWN_SCALE,
    Acked,
    ConversationTiming,
    Flag,
    FlowState,
    analyze_segment,
    store_sack_blocks,
)
from analyzer.state.tcp_conn import ConnectionMachine, EndpointState
from analyzer.state.tcp_facts import ACK, FIN, RST, SYN, TcpSegment

MAX_WINDOW_SHIFT = 14  # RFC 7323: larger shifts are treated as 14

# tcp.completeness bits (Wireshark's conversation completeness).
COMPLETENESS_SYNSENT = 0x01
COMPLETENESS_SYNACK = 0x02
COMPLETENESS_ACK = 0x04
COMPLETENESS_DATA = 0x08
COMPLETENESS_FIN = 0x10
COMPLETENESS_RST = 0x20

Endpoint = tuple[str, int]


@dataclass(slots=True)
class Handshake:
    """Frames and times of the three-way handshake, as far as it was seen."""

    syn_frame: int | None = None
    syn_ns: int | None = None
    synack_frame: int | None = None
    synack_ns: int | None = None
    ack_frame: int | None = None
    ack_ns: int | None = None

    @property
    def syn_to_synack_ns(self) -> int | None:
        return None if self.syn_ns is None or self.synack_ns is None else self.synack_ns - self.syn_ns

    @property
    def synack_to_ack_ns(self) -> int | None:
        return None if self.synack_ns is None or self.ack_ns is None else self.ack_ns - self.synack_ns


@dataclass(slots=True)
class Conversation:
    """All running state of one TCP stream."""

    stream: int
    first: Endpoint  # sender of the first segment seen
    second: Endpoint
    flows: dict[Endpoint, FlowState]
    first_ns: int
    prev_ns: int
    timing: ConversationTiming = field(default_factory=ConversationTiming)
    mru_syn_ns: int | None = None  # time of the most recent pure SYN
    completeness: int = 0
    machine: ConnectionMachine = field(default_factory=ConnectionMachine)
    originator: Endpoint | None = None  # Zeek's originator (flipped if the first segment was a SYN+ACK)
    handshake: Handshake = field(default_factory=Handshake)
    last_ns: int = 0
    retransmissions: int = 0


@dataclass(frozen=True, slots=True)
class SegmentAnalysis:
    """What one segment looks like after tracking: tshark's per-frame TCP values and the state."""

    frame: int
    stream: int
    from_originator: bool
    seq: int  # relative (tcp.seq)
    ack: int  # relative when the ACK flag is set, else the raw field (tcp.ack)
    nxtseq: int
    window: int  # scaled (tcp.window_size)
    window_scalefactor: int | None  # None on SYNs (tshark omits it)
    completeness: int  # as shown on this frame (before this frame's own contribution)
    time_relative_ns: int
    time_delta_ns: int
    analysis: Acked | None
    initial_rtt_ns: int | None  # shown where tshark shows it: frames with analysis, once known
    handshake_step: str | None  # "SYN", "SYN-ACK", "ACK" for the three handshake segments
    orig_state: EndpointState
    resp_state: EndpointState
    conn_state: str
    history: str
    # For the annotator: the peer's base sequence number (relative SACK edges; None before the
    # peer's ISN is known) and whether this sender initiated the close (FIN expert info).
    peer_base_seq: int | None = None
    closing_initiator: bool = False

    @property
    def flags(self) -> Flag:
        return self.analysis.flags if self.analysis is not None else Flag.NONE


@dataclass(frozen=True, slots=True)
class ConnectionSummary:
    """One connection for `flows` (Zeek conn.log vocabulary; bytes are payload bytes by sequence)."""

    stream: int
    orig_h: str
    orig_p: int
    resp_h: str
    resp_p: int
    proto: str
    conn_state: str
    history: str
    start_ns: int
    duration_ns: int
    orig_pkts: int
    orig_bytes: int
    resp_pkts: int
    resp_bytes: int
    handshake_rtt_ns: int | None
    retransmissions: int
    community_id: str
    handshake: Handshake


def _key(a: Endpoint, b: Endpoint) -> tuple[Endpoint, Endpoint]:
    return (a, b) if a <= b else (b, a)


class TcpTracker:
    """Feed TcpSegments in frame order; read per-segment analyses and connection summaries."""

    def __init__(self) -> None:
        self._latest: dict[tuple[Endpoint, Endpoint], Conversation] = {}
        self._all: list[Conversation] = []

    def _new_conversation(self, seg: TcpSegment) -> Conversation:
        src, dst = (seg.src, seg.sport), (seg.dst, seg.dport)
        conv = Conversation(
            stream=len(self._all),
            first=src,
            second=dst,
            flows={src: FlowState(), dst: FlowState()},
            first_ns=seg.timestamp_ns,
            prev_ns=seg.timestamp_ns,
        )
        self._latest[_key(src, dst)] = conv
        self._all.append(conv)
        return conv

    def feed(self, seg: TcpSegment) -> SegmentAnalysis:
        src, dst = (seg.src, seg.sport), (seg.dst, seg.dport)
        conv = self._latest.get(_key(src, dst))
        is_new = conv is None
        if conv is None:
            conv = self._new_conversation(seg)
        fwd, rev = conv.flows[src], conv.flows[dst]
        ta: Acked | None = None
        flags = seg.flags & 0x0FFF

        if seg.is_pure_syn and fwd.base_seq_set:
            if seg.seq != fwd.base_seq:  # a new connection reusing the ports
                conv = self._new_conversation(seg)
                fwd, rev = conv.flows[src], conv.flows[dst]
                ta = Acked(flags=Flag.REUSED_PORTS)
                conv.completeness = COMPLETENESS_SYNSENT
            else:  # a retransmitted SYN: a RST may have moved nextseq (Wireshark issue 17616)
                fwd.nextseq = fwd.maxseqtobeacked
        if seg.is_syn_ack and fwd.base_seq_set and seg.seq != fwd.base_seq:
            fwd.base_seq = seg.seq
            ta = ta or Acked()
            ta.flags |= Flag.REUSED_PORTS

        shown_completeness = conv.completeness
        time_relative = seg.timestamp_ns - conv.first_ns
        time_delta = seg.timestamp_ns - conv.prev_ns
        conv.prev_ns = seg.timestamp_ns
        conv.last_ns = seg.timestamp_ns
        fwd.sack_ranges = []

        ta = analyze_segment(seg, fwd, rev, conv.timing, ta)

        rel_seq = (seg.seq - fwd.base_seq) & 0xFFFFFFFF
        rel_ack = (seg.ack - rev.base_seq) & 0xFFFFFFFF if flags & ACK else seg.ack
        nxtseq = (rel_seq + seg.payload_len + (1 if flags & (SYN | FIN) else 0)) & 0xFFFFFFFF
        window = seg.window
        scalefactor: int | None = None
        if not flags & SYN:
            if fwd.win_scale >= 0:
                window <<= fwd.win_scale
                scalefactor = 1 << fwd.win_scale
            else:
                scalefactor = fwd.win_scale

        conv.completeness = _completeness(conv.completeness, seg, is_new)
        step = self._handshake(conv, seg, flags)
        if flags & SYN:
            if not flags & ACK:
                conv.mru_syn_ns = seg.timestamp_ns
            fwd.is_first_ack = True
        if flags & FIN and not rev.closing_initiator:
            fwd.closing_initiator = True
        if flags & (SYN | ACK) == ACK:
            if conv.mru_syn_ns is not None and not conv.timing.first_rtt_ns:
                conv.timing.first_rtt_ns = seg.timestamp_ns - conv.mru_syn_ns
            fwd.is_first_ack = False
        if seg.window_scale is not None:
            fwd.win_scale = min(seg.window_scale, MAX_WINDOW_SHIFT)
        store_sack_blocks(seg, fwd)
        if flags & SYN:
            _verify_window_scaling(bool(flags & ACK), fwd, rev)

        if conv.originator is None:
            conv.originator = dst if seg.is_syn_ack else src
        from_orig = src == conv.originator
        retransmitted = ta is not None and bool(ta.flags & RETRANSMISSION_KINDS)
        if retransmitted:
            conv.retransmissions += 1
        gap = ta is not None and bool(ta.flags & Flag.ACK_LOST_PACKET)
        conv.machine.feed(seg, from_orig, retransmitted, gap)
        if not conv.machine.history.startswith("^") and conv.originator != conv.first:
            conv.machine.history = "^" + conv.machine.history

        first_rtt = conv.timing.first_rtt_ns
        return SegmentAnalysis(
            frame=seg.frame,
            stream=conv.stream,
            from_originator=from_orig,
            seq=rel_seq,
            ack=rel_ack,
            nxtseq=nxtseq,
            window=window,
            window_scalefactor=scalefactor,
            completeness=shown_completeness,
            time_relative_ns=time_relative,
            time_delta_ns=time_delta,
            analysis=ta,
            initial_rtt_ns=first_rtt if ta is not None and first_rtt else None,
            handshake_step=step,
            orig_state=conv.machine.orig.state,
            resp_state=conv.machine.resp.state,
            conn_state=conv.machine.conn_state,
            history=conv.machine.history,
            peer_base_seq=rev.base_seq if rev.base_seq_set else None,
            closing_initiator=fwd.closing_initiator,
        )

    @staticmethod
    def _handshake(conv: Conversation, seg: TcpSegment, flags: int) -> str | None:
        hs = conv.handshake
        if seg.is_pure_syn and hs.synack_frame is None:
            hs.syn_frame, hs.syn_ns = seg.frame, seg.timestamp_ns  # the most recent SYN counts
            return "SYN"
        if seg.is_syn_ack and hs.ack_frame is None:
            hs.synack_frame, hs.synack_ns = seg.frame, seg.timestamp_ns
            return "SYN-ACK"
        if flags & (SYN | ACK | RST) == ACK and hs.synack_frame is not None and hs.ack_frame is None:
            hs.ack_frame, hs.ack_ns = seg.frame, seg.timestamp_ns
            return "ACK"
        return None

    def connections(self) -> Iterator[ConnectionSummary]:
        """Every connection seen so far, in stream order."""
        for conv in self._all:
            orig = conv.originator or conv.first
            resp = conv.second if orig == conv.first else conv.first
            machine = conv.machine
            yield ConnectionSummary(
                stream=conv.stream,
                orig_h=orig[0],
                orig_p=orig[1],
                resp_h=resp[0],
                resp_p=resp[1],
                proto="tcp",
                conn_state=machine.conn_state,
                history=machine.history,
                start_ns=conv.first_ns,
                duration_ns=conv.last_ns - conv.first_ns,
                orig_pkts=machine.orig.packets,
                orig_bytes=machine.orig.payload_bytes,
                resp_pkts=machine.resp.packets,
                resp_bytes=machine.resp.payload_bytes,
                handshake_rtt_ns=conv.timing.first_rtt_ns or None,
                retransmissions=conv.retransmissions,
                community_id=community_id(orig[0], resp[0], PROTO_TCP, orig[1], resp[1]),
                handshake=conv.handshake,
            )


def _completeness(current: int, seg: TcpSegment, is_new: bool) -> int:
    """Wireshark's conversation completeness after this segment."""
    flags = seg.flags
    if is_new:
        if seg.is_pure_syn:
            return COMPLETENESS_SYNSENT | (COMPLETENESS_DATA if seg.payload_len else 0)  # TFO data
        return 0
    value = current
    if seg.is_syn_ack:
        value |= COMPLETENESS_SYNACK
    if flags & (SYN | ACK) == ACK:
        value |= COMPLETENESS_DATA if seg.payload_len else COMPLETENESS_ACK
    if flags & (FIN | ACK) == FIN | ACK:
        value |= COMPLETENESS_FIN
    if flags & RST:
        value |= COMPLETENESS_RST
    return value


def _verify_window_scaling(is_synack: bool, fwd: FlowState, rev: FlowState) -> None:
    """After a SYN: scaling is used only if both SYNs carried the option."""
    if fwd.win_scale == UNKNOWN_SCALE:
        fwd.win_scale = NO_SCALING
        rev.win_scale = NO_SCALING
    elif is_synack and rev.win_scale == NO_SCALING:
        fwd.win_scale = NO_SCALING
