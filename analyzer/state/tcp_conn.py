"""TCP connection state machine (RFC 9293 handshake/teardown) with Zeek's conn_state and history.

Everything that moves a connection's state lives in this file, as one table (the h11 way).
States are per endpoint and follow Zeek's TCP analyzer, because its summary vocabulary
(conn_state S0, S1, SF, REJ, RSTO..., history letters) is what users read:

    INACTIVE      nothing sent yet by this endpoint
    SYN_SENT      sent a SYN (originator opening)
    SYN_ACK_SENT  sent a SYN+ACK without having seen the peer's SYN (a flipped/partial start)
    PARTIAL       sent data/ACKs without a SYN we saw (connection already open at capture start)
    ESTABLISHED   handshake seen (Zeek marks both sides established at the SYN+ACK)
    CLOSED        sent a FIN
    RESET         sent a RST

A segment is one event for its sender: SYN, SYN_ACK, FIN, RST or OTHER (ACK/data), checked in
that priority (RST wins over FIN, FIN over plain data). TRANSITIONS maps (sender state, event,
peer state) to both new states.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from analyzer.state.tcp_facts import ACK, FIN, RST, SEQ_HALF, SYN, TcpSegment


class EndpointState(Enum):
    INACTIVE = "INACTIVE"
    SYN_SENT = "SYN_SENT"
    SYN_ACK_SENT = "SYN_ACK_SENT"
    PARTIAL = "PARTIAL"
    ESTABLISHED = "ESTABLISHED"
    CLOSED = "CLOSED"
    RESET = "RESET"


class Event(Enum):
    SYN = "SYN"
    SYN_ACK = "SYN_ACK"
    FIN = "FIN"
    RST = "RST"
    OTHER = "OTHER"


S = EndpointState
_ANY = None  # wildcard for the peer's state

# (sender's state, event, peer's state or _ANY) -> (sender's new state, peer's new state or None to
# leave it). An exact peer match wins over the wildcard; missing keys change nothing.
TRANSITIONS: dict[
    tuple[EndpointState, Event, EndpointState | None], tuple[EndpointState, EndpointState | None]
] = {
    (S.INACTIVE, Event.SYN, _ANY): (S.SYN_SENT, None),
    # Zeek: a SYN+ACK answering a SYN establishes both sides at once.
    (S.INACTIVE, Event.SYN_ACK, S.SYN_SENT): (S.ESTABLISHED, S.ESTABLISHED),
    (S.INACTIVE, Event.SYN_ACK, _ANY): (S.SYN_ACK_SENT, None),
    (S.SYN_SENT, Event.SYN_ACK, _ANY): (S.ESTABLISHED, S.ESTABLISHED),  # simultaneous open
    # An answer to a lone SYN+ACK (its SYN was not captured) establishes the connection.
    (S.INACTIVE, Event.OTHER, S.SYN_ACK_SENT): (S.ESTABLISHED, S.ESTABLISHED),
    (S.SYN_SENT, Event.OTHER, S.SYN_ACK_SENT): (S.ESTABLISHED, S.ESTABLISHED),
    (S.INACTIVE, Event.OTHER, _ANY): (S.PARTIAL, None),
    **{(state, Event.FIN, _ANY): (S.CLOSED, None) for state in EndpointState if state is not S.RESET},
    **{(state, Event.RST, _ANY): (S.RESET, None) for state in EndpointState},
}


def transition(
    sender: EndpointState, event: Event, peer: EndpointState
) -> tuple[EndpointState, EndpointState]:
    """Look the move up in TRANSITIONS: the new (sender, peer) states."""
    move = TRANSITIONS.get((sender, event, peer)) or TRANSITIONS.get((sender, event, _ANY))
    if move is None:
        return sender, peer
    new_sender, new_peer = move
    return new_sender, peer if new_peer is None else new_peer


# Most segments are ACK/data (Event.OTHER) from an endpoint whose state no such segment moves; the
# senders whose state it can move, read off the table, spare the rest a lookup of enum-keyed tuples
# (hashing an Enum member is a Python-level call).
_MOVED_BY_OTHER = tuple({sender for sender, event, _peer in TRANSITIONS if event is Event.OTHER})


# Letters recorded once per direction, unless the sequence number differs from the last one
# recorded for that letter (Zeek: "f, h, r and s can be recorded multiple times").
_REPEATABLE_BY_SEQ = frozenset("shfr")
# Letters recorded at the 1st, 10th, 100th... occurrence (Zeek's logarithmic scaling).
_SCALED = frozenset("cgtw")


def classify(seg: TcpSegment) -> Event:
    if seg.flags & RST:
        return Event.RST
    if seg.flags & SYN:
        return Event.SYN_ACK if seg.flags & ACK else Event.SYN
    if seg.flags & FIN:
        return Event.FIN
    return Event.OTHER


@dataclass(slots=True)
class Endpoint:
    """One side's running summary: state, packet count and sequence-based payload size."""

    state: EndpointState = EndpointState.INACTIVE
    packets: int = 0
    start_seq: int | None = None
    saw_syn: bool = False
    highest_end: int = 0  # raw sequence number one past the highest payload byte seen
    span: int = 0  # payload bytes covered from start_seq to highest_end (wrap-safe)
    contiguous_end: int | None = None  # where in-order payload ends (for 't' retransmissions)
    letter_seq: dict[str, int] = field(default_factory=dict)
    letter_counts: dict[str, int] = field(default_factory=dict)

    def observe_sequence(self, seg: TcpSegment) -> None:
        flags, seq, seglen = seg.flags, seg.seq, seg.payload_len
        if self.start_seq is None:
            self.saw_syn = bool(flags & SYN)
            self.start_seq = (seq + 1) & 0xFFFFFFFF if self.saw_syn else seq
            self.highest_end = self.start_seq
            self.contiguous_end = self.start_seq
        begin = (seq + 1) & 0xFFFFFFFF if flags & SYN else seq
        end = (begin + seglen) & 0xFFFFFFFF
        if seglen:
            growth = (end - self.highest_end) & 0xFFFFFFFF
            if 0 < growth < SEQ_HALF:  # end is after highest_end
                self.span += growth
                self.highest_end = end
        contiguous_end = self.contiguous_end
        if (
            contiguous_end is not None
            and 0 < ((end - contiguous_end) & 0xFFFFFFFF) < SEQ_HALF  # extends the in-order run
            and not 0 < ((begin - contiguous_end) & 0xFFFFFFFF) < SEQ_HALF  # and starts within it
        ):
            self.contiguous_end = end

    @property
    def payload_bytes(self) -> int:
        return self.span


@dataclass(slots=True)
class ConnectionMachine:
    """Both endpoints of one connection plus its Zeek history string."""

    orig: Endpoint = field(default_factory=Endpoint)
    resp: Endpoint = field(default_factory=Endpoint)
    history: str = ""
    # conn_state as last derived; kept while neither side is RESET (it then depends on the two
    # states only) and dropped whenever a transition moves a state.
    cached_conn_state: str | None = field(default=None, repr=False, compare=False)

    def feed(self, seg: TcpSegment, from_orig: bool, retransmission: bool, gap_in_peer: bool) -> Event:
        sender, peer = (self.orig, self.resp) if from_orig else (self.resp, self.orig)
        event = classify(seg)
        sender.packets += 1
        contiguous_end = sender.contiguous_end
        starts_before_contiguous = (
            contiguous_end is not None
            and seg.payload_len > 0
            and (((seg.seq + 1 if seg.flags & SYN else seg.seq) - contiguous_end) & 0xFFFFFFFF) >= SEQ_HALF
        )
        sender.observe_sequence(seg)
        if event is not Event.OTHER or sender.state in _MOVED_BY_OTHER:
            before = sender.state, peer.state
            sender.state, peer.state = transition(sender.state, event, peer.state)
            if (sender.state, peer.state) != before:
                self.cached_conn_state = None
        self._record_history(seg, sender, from_orig, retransmission or starts_before_contiguous)
        if gap_in_peer:
            self._letter("g", peer, not from_orig, seg.seq)
        return event

    def _record_history(
        self, seg: TcpSegment, sender: Endpoint, from_orig: bool, retransmitted: bool
    ) -> None:
        flags, seq, seglen = seg.flags, seg.seq, seg.payload_len
        if flags & (SYN | FIN | RST):
            if flags & SYN:
                if flags & (FIN | RST):
                    self._letter("q", sender, from_orig, seq)
                self._letter("h" if flags & ACK else "s", sender, from_orig, seq)
            if flags & FIN:
                self._letter("f", sender, from_orig, seq)
            if flags & RST:
                self._letter("r", sender, from_orig, seq)
        elif flags & ACK and seglen == 0:
            self._letter("a", sender, from_orig, seq)
        if seglen > 0:
            self._letter("d", sender, from_orig, seq)
            if retransmitted:
                self._letter("t", sender, from_orig, seq)
        if seg.window == 0 and not flags & (SYN | RST):
            self._letter("w", sender, from_orig, seq)

    def _letter(self, letter: str, endpoint: Endpoint, from_orig: bool, seq: int) -> None:
        count = endpoint.letter_counts.get(letter, 0) + 1
        endpoint.letter_counts[letter] = count
        if letter in _SCALED:
            record = count in (1, 10, 100, 1000, 10000, 100000, 1000000)
        elif letter in _REPEATABLE_BY_SEQ:
            record = endpoint.letter_seq.get(letter) != seq
        else:
            record = count == 1
        endpoint.letter_seq[letter] = seq
        if record:
            self.history += letter.upper() if from_orig else letter

    @property
    def conn_state(self) -> str:
        """Zeek's conn_state, derived from both endpoint states and the history."""
        if self.cached_conn_state is not None:
            return self.cached_conn_state
        state = self._derive_conn_state()
        if self.orig.state is not S.RESET and self.resp.state is not S.RESET:
            self.cached_conn_state = state
        return state

    def _derive_conn_state(self) -> str:
        os_, rs = self.orig.state, self.resp.state
        o_inactive = os_ in (S.INACTIVE, S.PARTIAL)
        r_inactive = rs in (S.INACTIVE, S.PARTIAL)
        if rs is S.RESET:
            no_data = self.orig.payload_bytes == 0 and self.resp.payload_bytes == 0
            if os_ in (S.SYN_SENT, S.SYN_ACK_SENT) or (os_ is S.RESET and no_data):
                return "REJ"
            return "RSTRH" if o_inactive else "RSTR"
        if os_ is S.RESET:
            if r_inactive:
                return "RSTOS0" if _syn_then_reset(self.history) else "OTH"
            return "RSTO"
        if os_ is S.CLOSED and rs is S.CLOSED:
            return "SF"
        if os_ is S.CLOSED:
            return "SH" if r_inactive else "S2"
        if rs is S.CLOSED:
            return "SHR" if o_inactive else "S3"
        if os_ is S.SYN_SENT and rs is S.INACTIVE:
            return "S0"
        if os_ is S.ESTABLISHED and rs is S.ESTABLISHED:
            return "S1"
        return "OTH"


def _syn_then_reset(history: str) -> bool:
    """Zeek's /^\\^?S[^HAFGIQ]*R/: the originator's SYN then its RST, with no responder answer."""
    text = history.removeprefix("^")
    if not text.startswith("S") or "R" not in text:
        return False
    return not any(letter in "HAFGIQ" for letter in text[1 : text.index("R")])
