"""Wireshark's TCP sequence/acknowledgment analysis (tcp.analysis.*), re-implemented sans-IO.

This follows the semantics of Wireshark 4.0's `tcp_analyze_sequence_number` as documented in the
Wireshark User's Guide ("TCP Analysis") and observed with tshark 4.0: the same per-direction
bookkeeping (next expected sequence number, last ACK, duplicate-ACK counter, list of unacked
segments), the same order of tests and the same quirks (32-bit wrap-around, "0 means unset"
sentinels), because users compare our flags with tshark's frame by frame. The code is ours.

Everything is one forward pass, like tshark without `-2`: a frame's analysis only knows the frames
before it (so e.g. tcp.analysis.initial_rtt appears from the handshake's final ACK on).

`analyze_segment` runs for every TCP segment (the flows view, the summary's analysis tags), so it
is written for speed: findings are plain ints until the record is handed out, sequence-space
comparisons are inlined (see tcp_facts.SEQ_HALF), and the bytes-in-flight extent is read off the
ends of the unacked list while that list is known to be in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntFlag

from analyzer.state.tcp_facts import ACK, FIN, PSH, RST, SEQ_HALF, SYN, TcpSegment

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

# The same bits as plain ints: IntFlag's | and & are Python-level calls, too slow per segment.
_RETRANSMISSION = int(Flag.RETRANSMISSION)
_LOST_PACKET = int(Flag.LOST_PACKET)
_ACK_LOST_PACKET = int(Flag.ACK_LOST_PACKET)
_KEEP_ALIVE = int(Flag.KEEP_ALIVE)
_DUPLICATE_ACK = int(Flag.DUPLICATE_ACK)
_ZERO_WINDOW = int(Flag.ZERO_WINDOW)
_ZERO_WINDOW_PROBE = int(Flag.ZERO_WINDOW_PROBE)
_ZERO_WINDOW_PROBE_ACK = int(Flag.ZERO_WINDOW_PROBE_ACK)
_KEEP_ALIVE_ACK = int(Flag.KEEP_ALIVE_ACK)
_OUT_OF_ORDER = int(Flag.OUT_OF_ORDER)
_FAST_RETRANSMISSION = int(Flag.FAST_RETRANSMISSION)
_WINDOW_UPDATE = int(Flag.WINDOW_UPDATE)
_WINDOW_FULL = int(Flag.WINDOW_FULL)
_SPURIOUS_RETRANSMISSION = int(Flag.SPURIOUS_RETRANSMISSION)

_FLAG_OF_BITS: dict[int, Flag] = {}


def _as_flag(bits: int) -> Flag:
    """The Flag for these bits; building an IntFlag is slow, and few combinations ever occur."""
    flag = _FLAG_OF_BITS.get(bits)
    if flag is None:
        flag = _FLAG_OF_BITS[bits] = Flag(bits)
    return flag


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
    last_segment_flags: int = 0  # the previous segment's Flag bits, as a plain int
    sack_ranges: tuple[tuple[int, int], ...] = ()
    unacked: list[Unacked] = field(default_factory=list)  # newest first
    # True when, relative to base_seq, both the start and the end of the unacked segments never
    # grow from the newest to the oldest (the usual in-order sending): the oldest entry then holds
    # the lowest start and the newest the highest end. False means "not known".
    unacked_in_order: bool = True

    def rebase(self, base_seq: int) -> None:
        """A new relative base (a reused-port SYN+ACK): relative order of the unacked list may change."""
        self.base_seq = base_seq
        self.unacked_in_order = False


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
    `fwd` and `rev` may be one object (a segment from an endpoint to itself), so a value read
    from one is read again after the other was written.
    """
    seq = seg.seq
    ack = seg.ack
    seglen = seg.payload_len
    flags = seg.flags & 0x0FFF
    window = seg.window
    now = seg.timestamp_ns
    # The findings as plain bits; `ta` is created as soon as anything is recorded (Wireshark's
    # tcp_acked exists for frames with a finding, an acked frame or bytes in flight).
    found = 0 if ta is None else int(ta.flags)

    # Relative numbering starts at the SYN's ISN, or one before the first seen byte otherwise.
    if not fwd.base_seq_set:
        if flags & SYN:
            fwd.base_seq = seq
            fwd.saw_syn = True
        else:
            fwd.base_seq = (seq - 1) & U32
        fwd.base_seq_set = True
    if flags & ACK:
        # The peer's ISN is best taken from the first ACK (the ACK field of a SYN is meaningless).
        if not rev.base_seq_set:
            rev.base_seq = (ack - 1) & U32
            rev.base_seq_set = True
        rev.valid_bif = True

    syn_or_fin = flags & (SYN | FIN)
    no_syn_fin_rst = not flags & (SYN | FIN | RST)
    fwd_nextseq = fwd.nextseq
    if seglen == 1 and seq == fwd_nextseq and rev.window == 0:
        if ta is None:
            ta = Acked()
        found |= _ZERO_WINDOW_PROBE  # and no other check of this block
    else:
        if window == 0 and no_syn_fin_rst:
            if ta is None:
                ta = Acked()
            found |= _ZERO_WINDOW
        if fwd_nextseq and not flags & RST and 0 < ((seq - fwd_nextseq) & U32) < SEQ_HALF:
            if ta is None:
                ta = Acked()
            found |= _LOST_PACKET
            fwd.valid_bif = False  # bytes in flight are unknown until the peer ACKs again
        if seglen <= 1 and no_syn_fin_rst and seq == (fwd_nextseq - 1) & U32:
            if ta is None:
                ta = Acked()
            found |= _KEEP_ALIVE
        fwd_window = fwd.window
        same_position = seq == fwd_nextseq and ack == fwd.lastack and no_syn_fin_rst
        if seglen == 0 and window and window != fwd_window and same_position:
            if ta is None:
                ta = Acked()
            found |= _WINDOW_UPDATE
        if seglen > 0 and no_syn_fin_rst and rev.win_scale != UNKNOWN_SCALE:
            shift = 0 if rev.is_first_ack or rev.win_scale == NO_SCALING else rev.win_scale
            if (seq + seglen) & U32 == (rev.lastack + ((rev.window << shift) & U32)) & U32:
                if ta is None:
                    ta = Acked()
                found |= _WINDOW_FULL
        if seglen == 0 and window == fwd_window and same_position:  # the same ACK again
            if window and rev.last_segment_flags & _KEEP_ALIVE:
                if ta is None:
                    ta = Acked()
                found |= _KEEP_ALIVE_ACK
            elif window == 0 and rev.last_segment_flags & _ZERO_WINDOW_PROBE:
                if ta is None:
                    ta = Acked()
                found |= _ZERO_WINDOW_PROBE_ACK
            elif window:
                fwd.dupacknum = 1 if fwd.dupacknum == -1 else fwd.dupacknum + 1
                if ta is None:
                    ta = Acked()
                found |= _DUPLICATE_ACK
                ta.dupack_num = fwd.dupacknum
                ta.dupack_frame = fwd.lastnondupack

    # A new ACK value resets the duplicate-ACK count.
    if ack != fwd.lastack:
        fwd.lastnondupack = seg.frame
        fwd.dupacknum = 0

    # ACKed unseen segment: this ACK covers bytes the other direction never showed us.
    if flags & ACK:
        rev_max = rev.maxseqtobeacked
        if rev_max and 0 < ((ack - rev_max) & U32) < SEQ_HALF:
            if ta is None:
                ta = Acked()
            if rev_max > rev.nextseq:
                rev.maxseqtobeacked = rev.nextseq
                found |= _ACK_LOST_PACKET
            else:
                if rev.dupacknum == 0:
                    found |= _ACK_LOST_PACKET
                rev.dupacknum = -1

    if seglen > 0 or syn_or_fin:
        kind = _retransmission_kind(seq, seglen, syn_or_fin, now, found, fwd, rev, timing)
        if kind:
            if ta is None:
                ta = Acked()
            found |= kind
            if kind == _RETRANSMISSION:
                ta.rto_ns, ta.rto_frame = _rto(now, fwd)

    nextseq = (seq + seglen) & U32
    if (seglen or syn_or_fin) and len(fwd.unacked) < MAX_UNACKED_SEGMENTS:
        if syn_or_fin:
            nextseq = (nextseq + 1) & U32
        _push_unacked(fwd, Unacked(seg.frame, seq, nextseq, now))

    if not found & _ZERO_WINDOW_PROBE:
        fwd_nextseq = fwd.nextseq
        if not fwd_nextseq or 0 < ((nextseq - fwd_nextseq) & U32) < SEQ_HALF:
            fwd.nextseq = nextseq
            fwd.nextseq_frame = seg.frame
            fwd.nextseq_time_ns = now
        if seq == fwd.maxseqtobeacked or not fwd.maxseqtobeacked:
            fwd.maxseqtobeacked = fwd.nextseq

    fwd.window = window
    fwd.lastack = ack
    fwd.lastack_time_ns = now
    fwd.last_segment_flags = found

    if rev.unacked:
        acked = _remove_acked(ack, rev)
        if acked is not None:
            if ta is None:
                ta = Acked()
            ta.frame_acked = acked.frame
            ta.ack_rtt_ns = now - acked.timestamp_ns

    if seglen and fwd.valid_bif and fwd.unacked:
        if ta is None:
            ta = Acked()
        _bytes_in_flight(seglen, flags, fwd, rev, ta)
    if ta is not None:
        flag = _FLAG_OF_BITS.get(found)
        ta.flags = flag if flag is not None else _as_flag(found)
    return ta


def _retransmission_kind(
    seq: int,
    seglen: int,
    syn_or_fin: int,
    now: int,
    found: int,
    fwd: FlowState,
    rev: FlowState,
    timing: ConversationTiming,
) -> int:
    """Retransmission, fast retransmission, spurious or out-of-order (one bit, or 0), in Wireshark's order."""
    if found & _KEEP_ALIVE:
        return 0
    nextseq = fwd.nextseq
    not_advanced = bool(nextseq) and ((seq - nextseq) & U32) >= SEQ_HALF  # seq before nextseq
    # A >1-byte segment starting one byte early (after a zero-window probe) really adds data.
    if seglen > 1 and (nextseq - 1) & U32 == seq:
        not_advanced = False
    if seglen > 0 and rev.lastack:
        end_to_lastack = (seq + seglen - rev.lastack) & U32
        if end_to_lastack == 0 or end_to_lastack >= SEQ_HALF:  # the segment ends at or before lastack
            return _SPURIOUS_RETRANSMISSION
    if not not_advanced:
        return 0
    # tcp.fastrt_supersedes_ooo defaults to TRUE: test fast retransmission first. Wireshark keeps
    # these intervals unsigned, so a timestamp that goes backwards counts as a very long interval.
    if (
        rev.dupacknum >= 2
        and rev.lastack == seq
        and _unsigned_interval(now - rev.lastack_time_ns) < FAST_RETRANSMISSION_WINDOW_NS
    ):
        return _FAST_RETRANSMISSION
    threshold = timing.first_rtt_ns or DEFAULT_OUT_OF_ORDER_NS
    expected_end = (seq + seglen + (1 if syn_or_fin else 0)) & U32
    if _unsigned_interval(now - fwd.nextseq_time_ns) < threshold and nextseq != expected_end:
        return _OUT_OF_ORDER
    return _RETRANSMISSION


def _rto(now: int, fwd: FlowState) -> tuple[int, int]:
    """A retransmission's RTO and frame: from the oldest unacked segment, else the highest one seen."""
    if fwd.unacked:
        oldest = fwd.unacked[-1]
        return now - oldest.timestamp_ns, oldest.frame
    return now - fwd.nextseq_time_ns, fwd.nextseq_frame


def _unsigned_interval(ns: int) -> int:
    return ns if ns >= 0 else ns + (1 << 64)


def _push_unacked(fwd: FlowState, entry: Unacked) -> None:
    """Add the newest unacked segment, keeping track of whether the list is still in order."""
    unacked = fwd.unacked
    if not unacked:
        fwd.unacked_in_order = True
    elif fwd.unacked_in_order:
        base, newest = fwd.base_seq, unacked[0]
        fwd.unacked_in_order = ((entry.seq - base) & U32) >= ((newest.seq - base) & U32) and (
            (entry.nextseq - base) & U32
        ) >= ((newest.nextseq - base) & U32)
    unacked.insert(0, entry)


def _remove_acked(ack: int, rev: FlowState) -> Unacked | None:
    """Drop the reverse direction's segments this ACK covers; the last one it acknowledges exactly
    (newest first, so the oldest such segment) gives the frame acked and the ACK RTT."""
    exact: Unacked | None = None
    kept: list[Unacked] = []
    keep = kept.append
    trimmed = False
    for unacked in rev.unacked:
        # How far the segment's end lies past the ACK: 0 is an exact ACK; up to SEQ_HALF the ACK is
        # at or before the end (seq_le); below SEQ_HALF the end is after the ACK (seq_gt), kept.
        end_past_ack = (unacked.nextseq - ack) & U32
        if end_past_ack == 0:
            exact = unacked
        elif end_past_ack <= SEQ_HALF:
            if 0 < ((ack - unacked.seq) & U32) < SEQ_HALF:
                unacked.seq = ack  # partly acknowledged: keep the unacknowledged tail
                trimmed = True
            if end_past_ack < SEQ_HALF:
                keep(unacked)
    if trimmed:
        rev.unacked_in_order = False  # a moved start may break the order; _bytes_in_flight rechecks
    rev.unacked = kept
    return exact


def _bytes_in_flight(seglen: int, flags: int, fwd: FlowState, rev: FlowState, ta: Acked) -> None:
    """Bytes in flight after this segment (payload-based, minus the peer's SACKed bytes) and PSH bytes."""
    unacked = fwd.unacked
    base = fwd.base_seq
    if fwd.unacked_in_order:
        first = (unacked[-1].seq - base) & U32
        last = (unacked[0].nextseq - base) & U32
    else:
        starts = [(entry.seq - base) & U32 for entry in unacked]
        ends = [(entry.nextseq - base) & U32 for entry in unacked]
        first, last = min(starts), max(ends)
        # Once the out-of-order entries are acked the list is in order again; check it here so
        # the next segments can read the ends.
        fwd.unacked_in_order = starts == sorted(starts, reverse=True) and ends == sorted(ends, reverse=True)
    in_flight = (last - first) & U32
    if rev.sack_ranges:
        delivered = sum((right - left) & U32 for left, right in rev.sack_ranges)
        in_flight = (in_flight - delivered) & U32
    if 0 < in_flight < 2_000_000_000:
        ta.bytes_in_flight = in_flight - (1 if flags & (SYN | FIN) else 0)
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
    fwd.sack_ranges = seg.sack_blocks[: MAX_SACK_RANGES - 1]
