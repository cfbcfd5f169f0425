"""Wireshark's TCP sequence/acknowledgment analysis (tcp.analysis.*), re-implemented sans-IO.

This follows the semantics of Wireshark 4.0's `tcp_analyze_sequence_number` as documented in the
Wireshark User's Guide ("TCP Analysis") and observed with tshark 4.0: the same per-direction
bookkeeping (next expected sequence number, last ACK, duplicate-ACK counter, list of unacked
segments), the same order of tests and the same quirks (32-bit wrap-around, "0 means unset"
sentinels), because users compare our flags with tshark's frame by frame. The code is ours.

Everything is one forward pass, like tshark without `-2`: a frame's analysis only knows the frames
before it (so e.g. tcp.analysis.initial_rtt appears from the handshake's final ACK on).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntFlag

from analyzer.state.tcp_facts import ACK, FIN, PSH, RST, SYN, TcpSegment, seq_add, seq_gt, seq_le, seq_lt

MAX_UNACKED_SEGMENTS = 10000  # Wireshark stops tracking unacked segments beyond this many
MAX_SACK_RANGES = 4
FAST_RETRANSMISSION_WINDOW_NS = 20_000_000  # a retransmission within 20 ms of a dup ACK is "fast"
DEFAULT_OUT_OF_ORDER_NS = 3_000_000  # out-of-order threshold while the initial RTT is unknown
U32 = 0xFFFFFFFF
UNKNOWN_SCALE = -1  # no SYN seen yet: the window scale is unknown
NO_SCALING = -2  # SYNs seen and at least one lacked the option: windows are not scaled


class Flag(IntFlag):
    """The analysis findings of one segment (Wireshark's TCP_A_* bits)."""

    NONE = 0
    RETRANSMISSION = 0x0001
    LOST_PACKET = 0x0002
    ACK_LOST_PACKET = 0x0004
    KEEP_ALIVE = 0x0008
    DUPLICATE_ACK = 0x0010
    ZERO_WINDOW = 0x0020
    ZERO_WINDOW_PROBE = 0x0040
    ZERO_WINDOW_PROBE_ACK = 0x0080
    KEEP_ALIVE_ACK = 0x0100
    OUT_OF_ORDER = 0x0200
    FAST_RETRANSMISSION = 0x0400
    WINDOW_UPDATE = 0x0800
    WINDOW_FULL = 0x1000
    REUSED_PORTS = 0x2000
    SPURIOUS_RETRANSMISSION = 0x4000


RETRANSMISSION_KINDS = Flag.RETRANSMISSION | Flag.FAST_RETRANSMISSION | Flag.SPURIOUS_RETRANSMISSION


@dataclass(slots=True)
class Unacked:
    """A segment sent in one direction and not yet acknowledged by the other."""

    frame: int
    seq: int
    nextseq: int
    timestamp_ns: int


@dataclass(slots=True)
class FlowState:
    """Per-direction bookkeeping (Wireshark's tcp_flow_t plus its analysis info)."""

    base_seq: int = 0
    base_seq_set: bool = False
    saw_syn: bool = False
    win_scale: int = UNKNOWN_SCALE
    window: int = U32  # last raw window advertised in this direction; U32 = none yet
    is_first_ack: bool = False
    valid_bif: bool = True
    push_bytes_sent: int = 0
    push_set_last: bool = False
    closing_initiator: bool = False
    nextseq: int = 0  # 0 = nothing seen yet (Wireshark's sentinel, kept for identical results)
    nextseq_frame: int = 0
    nextseq_time_ns: int = 0
    maxseqtobeacked: int = 0
    lastack: int = 0
    lastack_time_ns: int = 0
    lastnondupack: int = 0
    dupacknum: int = 0
    last_segment_flags: Flag = Flag.NONE
    sack_ranges: list[tuple[int, int]] = field(default_factory=list)
    unacked: list[Unacked] = field(default_factory=list)  # newest first


@dataclass(slots=True)
class Acked:
    """The per-frame analysis record (Wireshark's tcp_acked): exists only when something was found."""

    flags: Flag = Flag.NONE
    dupack_num: int = 0
    dupack_frame: int = 0
    frame_acked: int = 0
    ack_rtt_ns: int = 0
    bytes_in_flight: int = 0
    push_bytes_sent: int = 0
    rto_ns: int = 0
    rto_frame: int = 0


@dataclass(slots=True)
class ConversationTiming:
    """Conversation-wide values the per-direction analysis reads (handshake RTT)."""

    first_rtt_ns: int = 0  # 0 = unknown


def analyze_segment(
    seg: TcpSegment, fwd: FlowState, rev: FlowState, timing: ConversationTiming, ta: Acked | None
) -> Acked | None:
    """Update both directions' state with one segment and return its analysis record (or None).

    `ta` is a record already created for this frame (for instance by port-reuse detection).
    """
    seq, ack, seglen, flags, window, now = (
        seg.seq,
        seg.ack,
        seg.payload_len,
        seg.flags & 0x0FFF,
        seg.window,
        seg.timestamp_ns,
    )

    def record() -> Acked:
        nonlocal ta
        if ta is None:
            ta = Acked()
        return ta

    # Relative numbering starts at the SYN's ISN, or one before the first seen byte otherwise.
    if not fwd.base_seq_set:
        if flags & SYN:
            fwd.base_seq = seq
            fwd.saw_syn = True
        else:
            fwd.base_seq = seq_add(seq, -1)
        fwd.base_seq_set = True
    # The peer's ISN is best taken from the first ACK (the ACK field of a SYN is meaningless).
    if not rev.base_seq_set and flags & ACK:
        rev.base_seq = seq_add(ack, -1)
        rev.base_seq_set = True
    if flags & ACK:
        rev.valid_bif = True

    no_syn_fin_rst = not flags & (SYN | FIN | RST)
    checks_done = False
    if seglen == 1 and seq == fwd.nextseq and rev.window == 0:
        record().flags |= Flag.ZERO_WINDOW_PROBE
        checks_done = True

    if not checks_done:
        if window == 0 and not flags & (RST | FIN | SYN):
            record().flags |= Flag.ZERO_WINDOW
        if fwd.nextseq and seq_gt(seq, fwd.nextseq) and not flags & RST:
            record().flags |= Flag.LOST_PACKET
            fwd.valid_bif = False  # bytes in flight are unknown until the peer ACKs again
        if seglen <= 1 and seq == seq_add(fwd.nextseq, -1) and no_syn_fin_rst:
            record().flags |= Flag.KEEP_ALIVE
        same_position = seq == fwd.nextseq and ack == fwd.lastack
        if seglen == 0 and window and window != fwd.window and same_position and no_syn_fin_rst:
            record().flags |= Flag.WINDOW_UPDATE
        if seglen > 0 and rev.win_scale != UNKNOWN_SCALE and no_syn_fin_rst:
            shift = 0 if rev.is_first_ack or rev.win_scale == NO_SCALING else rev.win_scale
            if seq_add(seq, seglen) == seq_add(rev.lastack, (rev.window << shift) & U32):
                record().flags |= Flag.WINDOW_FULL
        repeats_ack = seglen == 0 and window == fwd.window and same_position and no_syn_fin_rst
        if repeats_ack and window and rev.last_segment_flags & Flag.KEEP_ALIVE:
            record().flags |= Flag.KEEP_ALIVE_ACK
            checks_done = True
        elif repeats_ack and window == 0 and rev.last_segment_flags & Flag.ZERO_WINDOW_PROBE:
            record().flags |= Flag.ZERO_WINDOW_PROBE_ACK
            checks_done = True
        elif repeats_ack and window:
            fwd.dupacknum = 1 if fwd.dupacknum == -1 else fwd.dupacknum + 1
            rec = record()
            rec.flags |= Flag.DUPLICATE_ACK
            rec.dupack_num = fwd.dupacknum
            rec.dupack_frame = fwd.lastnondupack

    # A new ACK value resets the duplicate-ACK count.
    if ack != fwd.lastack:
        fwd.lastnondupack = seg.frame
        fwd.dupacknum = 0

    # ACKed unseen segment: this ACK covers bytes the other direction never showed us.
    if rev.maxseqtobeacked and seq_gt(ack, rev.maxseqtobeacked) and flags & ACK:
        rec = record()
        if rev.maxseqtobeacked > rev.nextseq:
            rev.maxseqtobeacked = rev.nextseq
            rec.flags |= Flag.ACK_LOST_PACKET
        else:
            if rev.dupacknum == 0:
                rec.flags |= Flag.ACK_LOST_PACKET
            rev.dupacknum = -1

    if seglen > 0 or flags & (SYN | FIN):
        _classify_retransmission(seg, flags, fwd, rev, timing, ta, record)

    nextseq = seq_add(seq, seglen)
    if (seglen or flags & (SYN | FIN)) and len(fwd.unacked) < MAX_UNACKED_SEGMENTS:
        if flags & (SYN | FIN):
            nextseq = seq_add(nextseq, 1)
        fwd.unacked.insert(0, Unacked(seg.frame, seq, nextseq, now))

    is_probe = ta is not None and bool(ta.flags & Flag.ZERO_WINDOW_PROBE)
    if (seq_gt(nextseq, fwd.nextseq) or not fwd.nextseq) and not is_probe:
        fwd.nextseq = nextseq
        fwd.nextseq_frame = seg.frame
        fwd.nextseq_time_ns = now
    if (seq == fwd.maxseqtobeacked or not fwd.maxseqtobeacked) and not is_probe:
        fwd.maxseqtobeacked = fwd.nextseq

    fwd.window = window
    fwd.lastack = ack
    fwd.lastack_time_ns = now
    fwd.last_segment_flags = ta.flags if ta is not None else Flag.NONE

    _remove_acked(seg, rev, record)

    if fwd.unacked and seglen and fwd.valid_bif:
        _bytes_in_flight(seg, flags, fwd, rev, record())
    return ta


def _classify_retransmission(
    seg: TcpSegment,
    flags: int,
    fwd: FlowState,
    rev: FlowState,
    timing: ConversationTiming,
    ta: Acked | None,
    record: Callable[[], Acked],
) -> None:
    """Retransmission / fast retransmission / spurious / out-of-order, in Wireshark's order."""
    seq, seglen, now = seg.seq, seg.payload_len, seg.timestamp_ns
    if ta is not None and ta.flags & Flag.KEEP_ALIVE:
        return
    not_advanced = bool(fwd.nextseq) and seq_lt(seq, fwd.nextseq)
    # A >1-byte segment starting one byte early (after a zero-window probe) really adds data.
    if seglen > 1 and seq_add(fwd.nextseq, -1) == seq:
        not_advanced = False
    if seglen > 0 and rev.lastack and seq_le(seq_add(seq, seglen), rev.lastack):
        record().flags |= Flag.SPURIOUS_RETRANSMISSION
        return
    # tcp.fastrt_supersedes_ooo defaults to TRUE: test fast retransmission first. Wireshark keeps
    # these intervals unsigned, so a timestamp that goes backwards counts as a very long interval.
    since_dupack = _unsigned_interval(now - rev.lastack_time_ns)
    if (
        not_advanced
        and rev.dupacknum >= 2
        and rev.lastack == seq
        and since_dupack < FAST_RETRANSMISSION_WINDOW_NS
    ):
        record().flags |= Flag.FAST_RETRANSMISSION
        return
    since_highest = _unsigned_interval(now - fwd.nextseq_time_ns)
    threshold = timing.first_rtt_ns or DEFAULT_OUT_OF_ORDER_NS
    expected_end = seq_add(seq, seglen + (1 if flags & (SYN | FIN) else 0))
    if not_advanced and since_highest < threshold and fwd.nextseq != expected_end:
        record().flags |= Flag.OUT_OF_ORDER
        return
    if not_advanced:
        rec = record()
        rec.flags |= Flag.RETRANSMISSION
        # The RTO is measured from the oldest unacked segment (else from the highest one seen).
        rec.rto_ns = now - fwd.nextseq_time_ns
        rec.rto_frame = fwd.nextseq_frame
        if fwd.unacked:
            oldest = fwd.unacked[-1]
            rec.rto_ns = now - oldest.timestamp_ns
            rec.rto_frame = oldest.frame


def _unsigned_interval(ns: int) -> int:
    return ns if ns >= 0 else ns + (1 << 64)


def _remove_acked(seg: TcpSegment, rev: FlowState, record: Callable[[], Acked]) -> None:
    """Drop the reverse direction's segments this ACK covers; an exact match gives the ACK RTT."""
    ack = seg.ack
    kept: list[Unacked] = []
    for unacked in rev.unacked:
        if ack == unacked.nextseq:
            rec = record()
            rec.frame_acked = unacked.frame
            rec.ack_rtt_ns = seg.timestamp_ns - unacked.timestamp_ns
            continue
        if seq_gt(ack, unacked.seq) and seq_le(ack, unacked.nextseq):
            unacked.seq = ack  # partly acknowledged: keep the unacknowledged tail
        if seq_gt(unacked.nextseq, ack):
            kept.append(unacked)
    rev.unacked = kept


def _bytes_in_flight(seg: TcpSegment, flags: int, fwd: FlowState, rev: FlowState, ta: Acked) -> None:
    """Bytes in flight after this segment (payload-based, minus the peer's SACKed bytes) and PSH bytes."""
    first = (fwd.unacked[0].seq - fwd.base_seq) & U32
    last = (fwd.unacked[0].nextseq - fwd.base_seq) & U32
    for unacked in fwd.unacked:
        last = max(last, (unacked.nextseq - fwd.base_seq) & U32)
        first = min(first, (unacked.seq - fwd.base_seq) & U32)
    in_flight = (last - first) & U32
    delivered = sum((right - left) & U32 for left, right in rev.sack_ranges)
    in_flight = (in_flight - delivered) & U32
    if 0 < in_flight < 2_000_000_000:
        ta.bytes_in_flight = in_flight - (1 if flags & (SYN | FIN) else 0)
    seglen = seg.payload_len
    if flags & PSH:
        fwd.push_bytes_sent = seglen if fwd.push_set_last else fwd.push_bytes_sent + seglen
        fwd.push_set_last = True
    elif fwd.push_set_last:
        fwd.push_bytes_sent = seglen
        fwd.push_set_last = False
    else:
        fwd.push_bytes_sent += seglen
    ta.push_bytes_sent = fwd.push_bytes_sent


def store_sack_blocks(seg: TcpSegment, fwd: FlowState) -> None:
    """Remember this segment's SACK blocks for the peer's bytes-in-flight (Wireshark keeps three)."""
    fwd.sack_ranges = list(seg.sack_blocks[: MAX_SACK_RANGES - 1])
