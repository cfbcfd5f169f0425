"""TCP conversation tracker: tcp.stream numbering, relative numbers, windows and analysis per segment.

Feed every TCP segment of a capture in frame order (one forward pass, like tshark's default);
`feed` returns what tshark shows for that frame, and `connections()` the per-connection summaries
(Zeek conn.log columns plus Wireshark's handshake RTT and Community ID) for the `flows` view.

Stream numbering follows Wireshark's conversation table: a new 4-tuple gets the next number; a
pure SYN whose ISN differs from the one the conversation started with starts a new stream
(port reuse, tcp.analysis.reused_ports), a SYN with the same ISN is a retransmission.

`feed` runs for every TCP segment, so it avoids per-segment work that a conversation's first
segment can do once: each direction of a conversation is registered under its own 4-tuple (no
canonical key to build), and the originator and Zeek's "^" (flipped) history mark are settled when
the conversation starts. `findings` is `feed` for the summary's analysis tags: the same analysis
records, without the per-frame values, the Zeek state machine, completeness and handshake.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

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
    first_flow: FlowState  # what `first` sends (Wireshark's tcp_flow_t)
    second_flow: FlowState  # the same object when both ends are one endpoint
    first_ns: int
    prev_ns: int
    originator: Endpoint  # Zeek's originator (flipped if the first segment was a SYN+ACK)
    timing: ConversationTiming = field(default_factory=ConversationTiming)
    mru_syn_ns: int | None = None  # time of the most recent pure SYN
    completeness: int = 0
    machine: ConnectionMachine = field(default_factory=ConnectionMachine)
    handshake: Handshake = field(default_factory=Handshake)
    last_ns: int = 0
    retransmissions: int = 0


class SegmentAnalysis(NamedTuple):
    """What one segment looks like after tracking: tshark's per-frame TCP values and the state.

    Immutable like a frozen dataclass, but a NamedTuple: one is built per segment, and building a
    frozen dataclass of this size costs several times more (a setattr call per field).
    """

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


# One direction of a conversation, as the lookup table holds it under the segment's own
# (src, sport, dst, dport): the conversation, the sender's flow, the receiver's flow, and whether
# the sender is the conversation's `first` endpoint.
Direction = tuple[Conversation, FlowState, FlowState, bool]

_RETRANSMISSION_BITS = int(RETRANSMISSION_KINDS)
_ACK_LOST_PACKET = int(Flag.ACK_LOST_PACKET)


class TcpTracker:
    """Feed TcpSegments in frame order; read per-segment analyses and connection summaries."""

    def __init__(self) -> None:
        self._latest: dict[tuple[str, int, str, int], Direction] = {}
        self._all: list[Conversation] = []

    def _new_conversation(self, seg: TcpSegment) -> Direction:
        src, dst = (seg.src, seg.sport), (seg.dst, seg.dport)
        first_flow = FlowState()
        second_flow = first_flow if src == dst else FlowState()
        conv = Conversation(
            stream=len(self._all),
            first=src,
            second=dst,
            first_flow=first_flow,
            second_flow=second_flow,
            first_ns=seg.timestamp_ns,
            prev_ns=seg.timestamp_ns,
            originator=dst if seg.is_syn_ack else src,
        )
        if conv.originator != src:
            conv.machine.history = "^"  # Zeek marks a flipped connection's history
        self._all.append(conv)
        backward: Direction = (conv, second_flow, first_flow, False)
        forward: Direction = (conv, first_flow, second_flow, True)
        self._latest[(seg.dst, seg.dport, seg.src, seg.sport)] = backward
        self._latest[(seg.src, seg.sport, seg.dst, seg.dport)] = forward  # wins when src == dst
        return forward

    def feed(self, seg: TcpSegment) -> SegmentAnalysis:
        flags = seg.flags & 0x0FFF
        conv, fwd, rev, from_first, is_new, ta, scale = self._track(seg, flags)
        now = seg.timestamp_ns

        shown_completeness = conv.completeness
        time_relative = now - conv.first_ns
        time_delta = now - conv.prev_ns
        conv.prev_ns = now
        conv.last_ns = now

        rel_seq = (seg.seq - fwd.base_seq) & 0xFFFFFFFF
        rel_ack = (seg.ack - rev.base_seq) & 0xFFFFFFFF if flags & ACK else seg.ack
        nxtseq = (rel_seq + seg.payload_len + (1 if flags & (SYN | FIN) else 0)) & 0xFFFFFFFF
        window = seg.window
        scalefactor: int | None = None
        if not flags & SYN:
            if scale >= 0:
                window <<= scale
                scalefactor = 1 << scale
            else:
                scalefactor = scale

        conv.completeness = _completeness(conv.completeness, seg, flags, is_new)
        hs = conv.handshake
        # Only a SYN, or an ACK before the handshake's last step was seen, can be a handshake step.
        step = self._handshake(hs, seg, flags) if flags & SYN or hs.ack_frame is None else None

        # from_first == orig_is_first, except that a conversation of an endpoint with itself has
        # only the forward direction (from_first) and its originator is always the sender.
        from_orig = from_first == (conv.originator == conv.first)
        found = 0 if ta is None else int(ta.flags)
        retransmitted = bool(found & _RETRANSMISSION_BITS)
        if retransmitted:
            conv.retransmissions += 1
        machine = conv.machine
        machine.feed(seg, from_orig, retransmitted, bool(found & _ACK_LOST_PACKET))

        first_rtt = conv.timing.first_rtt_ns
        return SegmentAnalysis(
            seg.frame,
            conv.stream,
            from_orig,
            rel_seq,
            rel_ack,
            nxtseq,
            window,
            scalefactor,
            shown_completeness,
            time_relative,
            time_delta,
            ta,
            first_rtt if ta is not None and first_rtt else None,
            step,
            machine.orig.state,
            machine.resp.state,
            machine.conn_state,
            machine.history,
            rev.base_seq if rev.base_seq_set else None,
            fwd.closing_initiator,
        )

    def findings(self, seg: TcpSegment) -> Acked | None:
        """Only the segment's analysis record (what tshark's Info tags show), for a tracker that
        nobody asks for SegmentAnalysis values or connection summaries: it keeps exactly the
        state later findings depend on and skips the Zeek machine, completeness and handshake.
        Do not mix with `feed` on one tracker."""
        return self._track(seg, seg.flags & 0x0FFF)[5]

    def _track(
        self, seg: TcpSegment, flags: int
    ) -> tuple[Conversation, FlowState, FlowState, bool, bool, Acked | None, int]:
        """What `feed` and `findings` share: find the segment's conversation (a new one on port
        reuse), analyze the segment, and keep the state the next segments' analysis reads (first
        RTT, first ACK, closing initiator, window scale, SACK blocks). Returns the conversation,
        the sender's and receiver's flows, whether the sender is `first`, whether the conversation
        is new, the analysis record, and the sender's window scale before this segment."""
        direction = self._latest.get((seg.src, seg.sport, seg.dst, seg.dport))
        is_new = direction is None
        if direction is None:
            direction = self._new_conversation(seg)
        conv, fwd, rev, from_first = direction
        ta: Acked | None = None
        syn_ack = flags & (SYN | ACK)
        if syn_ack == SYN and fwd.base_seq_set:
            if seg.seq != fwd.base_seq:  # a new connection reusing the ports
                conv, fwd, rev, from_first = self._new_conversation(seg)
                ta = Acked(flags=Flag.REUSED_PORTS)
                conv.completeness = COMPLETENESS_SYNSENT
            else:  # a retransmitted SYN: a RST may have moved nextseq (Wireshark issue 17616)
                fwd.nextseq = fwd.maxseqtobeacked
        if syn_ack == SYN | ACK and fwd.base_seq_set and seg.seq != fwd.base_seq:
            fwd.rebase(seg.seq)
            ta = ta or Acked()
            ta.flags |= Flag.REUSED_PORTS
        fwd.sack_ranges = ()
        timing = conv.timing
        ta = analyze_segment(seg, fwd, rev, timing, ta)
        scale = fwd.win_scale

        if flags & SYN:
            if not flags & ACK:
                conv.mru_syn_ns = seg.timestamp_ns
            fwd.is_first_ack = True
        if flags & FIN and not rev.closing_initiator:
            fwd.closing_initiator = True
        if syn_ack == ACK:
            if conv.mru_syn_ns is not None and not timing.first_rtt_ns:
                timing.first_rtt_ns = seg.timestamp_ns - conv.mru_syn_ns
            fwd.is_first_ack = False
        if seg.window_scale is not None:
            fwd.win_scale = min(seg.window_scale, MAX_WINDOW_SHIFT)
        if seg.sack_blocks:
            store_sack_blocks(seg, fwd)
        if flags & SYN:
            _verify_window_scaling(bool(flags & ACK), fwd, rev)
        return conv, fwd, rev, from_first, is_new, ta, scale

    @staticmethod
    def _handshake(hs: Handshake, seg: TcpSegment, flags: int) -> str | None:
        if flags & (SYN | ACK) == SYN and hs.synack_frame is None:
            hs.syn_frame, hs.syn_ns = seg.frame, seg.timestamp_ns  # the most recent SYN counts
            return "SYN"
        if flags & (SYN | ACK) == SYN | ACK and hs.ack_frame is None:
            hs.synack_frame, hs.synack_ns = seg.frame, seg.timestamp_ns
            return "SYN-ACK"
        if flags & (SYN | ACK | RST) == ACK and hs.synack_frame is not None and hs.ack_frame is None:
            hs.ack_frame, hs.ack_ns = seg.frame, seg.timestamp_ns
            return "ACK"
        return None

    def connections(self) -> Iterator[ConnectionSummary]:
        """Every connection seen so far, in stream order."""
        for conv in self._all:
            orig = conv.originator
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


def _completeness(current: int, seg: TcpSegment, flags: int, is_new: bool) -> int:
    """Wireshark's conversation completeness after this segment."""
    if is_new:
        if flags & (SYN | ACK) == SYN:
            return COMPLETENESS_SYNSENT | (COMPLETENESS_DATA if seg.payload_len else 0)  # TFO data
        return 0
    value = current
    if flags & (SYN | ACK) == SYN | ACK:
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
