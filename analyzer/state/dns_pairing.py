"""DNS transaction pairing: queries and responses matched by conversation and ID, as tshark 4.0 does.

tshark keeps, per conversation (transport plus both address/port pairs, either direction), the
transactions seen so far keyed by DNS ID; a response pairs with the latest query of its ID. In one
forward pass (tshark's default, and ours) that gives:

- a response to a pending query: `[Request In: N]` (dns.response_to) and `[Time: ... seconds]`
  (dns.time, since that query; a retransmitted query does not restart the clock);
- a second response to an answered query: a retransmission (dns.retransmit_response_in,
  dns.retransmission, expert "DNS response retransmission. Original response in frame N");
- a query repeating a pending query's ID within `retransmission_timer` seconds (tshark's
  dns.retransmission_timer, default 5): a retransmission (dns.retransmit_request_in, ...); any
  other query (first of its ID, its ID already answered, or the timer expired) starts a new one;
- a response matching nothing: `[Unsolicited: True]` (dns.unsolicited). A message quoted inside an
  ICMP error is not tracked; tshark calls a quoted response unsolicited too.

A query never gets dns.response_in in one pass: tshark adds it only on a second pass (`-2`), once
it knows the answer. `DnsTracker.response_in` gives that answer after the pass, and
`DnsTracker.unanswered()` lists the queries nobody answered (tshark 4.0 flags neither).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from analyzer.model import Dissection, Field, Layer, Problem, Severity
from analyzer.state.tcp_fields import relative_time

DNS_PROTOS = ("dns", "mdns", "llmnr")
TRANSPORTS = ("udp", "tcp")
IP_PROTOS = ("ip", "ipv6")
ICMP_PROTOS = ("icmp", "icmpv6")
RETRANSMISSION_TIMER_S = 5
NS = 1_000_000_000

Endpoint = tuple[str, int]
# (transport, lower endpoint, higher endpoint): the same key for both directions.
Conversation = tuple[str, Endpoint, Endpoint]


def conversation_key(transport: str, src: Endpoint, dst: Endpoint) -> Conversation:
    return (transport, src, dst) if src <= dst else (transport, dst, src)


@dataclass(slots=True)
class DnsTransaction:
    """One query and what became of it; frames are 1-based numbers, 0 for none."""

    conversation: Conversation
    id: int
    query_frame: int
    query_ns: int
    response_frame: int = 0
    response_ns: int | None = None
    retransmitted_queries: list[int] = field(default_factory=list)
    duplicate_responses: list[int] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        return self.response_frame > 0

    @property
    def rtt_ns(self) -> int | None:
        return None if self.response_ns is None else self.response_ns - self.query_ns


class Outcome(Enum):
    NEW_QUERY = "new query"
    RETRANSMITTED_QUERY = "retransmitted query"
    RESPONSE = "response"
    RETRANSMITTED_RESPONSE = "retransmitted response"
    UNSOLICITED = "unsolicited response"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one message turned out to be. `original` is the earlier frame a retransmission repeats."""

    outcome: Outcome
    request_frame: int = 0
    original: int = 0
    time_ns: int = 0


class DnsTracker:
    """Sans-IO: feed queries and responses in capture order; each call says what the message was."""

    def __init__(self, retransmission_timer_s: float = RETRANSMISSION_TIMER_S) -> None:
        self.retransmission_timer_ns = int(retransmission_timer_s * NS)
        self._latest: dict[tuple[Conversation, int], DnsTransaction] = {}
        self._all: list[DnsTransaction] = []
        self._by_query: dict[int, DnsTransaction] = {}

    def query(self, conversation: Conversation, dns_id: int, frame: int, timestamp_ns: int) -> Verdict:
        trans = self._latest.get((conversation, dns_id))
        if (
            trans is not None
            and not trans.answered
            and timestamp_ns - trans.query_ns < self.retransmission_timer_ns
        ):
            trans.retransmitted_queries.append(frame)
            return Verdict(Outcome.RETRANSMITTED_QUERY, original=trans.query_frame)
        trans = DnsTransaction(conversation, dns_id, frame, timestamp_ns)
        self._latest[(conversation, dns_id)] = trans
        self._all.append(trans)
        self._by_query[frame] = trans
        return Verdict(Outcome.NEW_QUERY)

    def response(self, conversation: Conversation, dns_id: int, frame: int, timestamp_ns: int) -> Verdict:
        trans = self._latest.get((conversation, dns_id))
        if trans is None:
            return Verdict(Outcome.UNSOLICITED)
        if trans.answered:
            trans.duplicate_responses.append(frame)
            return Verdict(Outcome.RETRANSMITTED_RESPONSE, trans.query_frame, trans.response_frame)
        trans.response_frame, trans.response_ns = frame, timestamp_ns
        return Verdict(Outcome.RESPONSE, trans.query_frame, time_ns=timestamp_ns - trans.query_ns)

    def transactions(self) -> list[DnsTransaction]:
        """Every transaction, in the order their first query was seen."""
        return list(self._all)

    def unanswered(self) -> list[DnsTransaction]:
        return [trans for trans in self._all if not trans.answered]

    def response_in(self, query_frame: int) -> int | None:
        """The frame answering the query in `query_frame` (tshark's second-pass dns.response_in)."""
        trans = self._by_query.get(query_frame)
        return trans.response_frame if trans is not None and trans.answered else None


def _node(name: str, label: str, value: int | bool | None, show: str, hidden: bool = False) -> Field:
    return Field(name, label, value, show, -1, 0, generated=True, hidden=hidden)


def message_flow(dissection: Dissection, index: int) -> Conversation | None:
    """The conversation carrying layer `index`: the nearest UDP/TCP and IP headers below it."""
    depth = dissection.layers[index].depth
    transport: Layer | None = None
    for layer in reversed(dissection.layers[:index]):
        if layer.depth != depth:
            continue
        if transport is None and layer.proto in TRANSPORTS:
            transport = layer
        elif transport is not None and layer.proto in IP_PROTOS:
            values = [layer.find(f"{layer.proto}.{end}") for end in ("src", "dst")]
            ports = [transport.find(f"{transport.proto}.{end}port") for end in ("src", "dst")]
            if None in values or None in ports:
                return None
            src_port, dst_port = (item.value if item is not None else None for item in ports)
            if not isinstance(src_port, int) or not isinstance(dst_port, int):
                return None
            src, dst = (str(item.value) if item is not None else "" for item in values)
            return conversation_key(transport.proto, (src, src_port), (dst, dst_port))
    return None


class DnsPairingAnnotator:
    """Adds tshark's DNS request/response tracking items to every DNS message, in capture order."""

    def __init__(self, retransmission_timer_s: float = RETRANSMISSION_TIMER_S) -> None:
        self.tracker = DnsTracker(retransmission_timer_s)

    def annotate(self, dissection: Dissection) -> Dissection:
        for index, layer in enumerate(dissection.layers):
            if layer.proto in DNS_PROTOS:
                self._message(dissection, index, layer)
        return dissection

    def _message(self, dissection: Dissection, index: int, layer: Layer) -> None:
        id_field, response = layer.find("dns.id"), layer.find("dns.flags.response")
        if id_field is None or response is None or not isinstance(id_field.value, int):
            return  # a message cut before its flags: tshark threw before tracking it too
        if layer.depth > 0 or any(below.proto in ICMP_PROTOS for below in dissection.layers[:index]):
            # Quoted by an ICMP error: tshark skips the lookup, so a quoted response matches nothing.
            if response.value is True:
                layer.add(_node("dns.unsolicited", "[Unsolicited: True]", True, "1"))
            return
        conversation = message_flow(dissection, index)
        if conversation is None:
            return
        frame, now = dissection.frame.number, dissection.frame.timestamp_ns
        if response.value is True:
            verdict = self.tracker.response(conversation, id_field.value, frame, now)
        else:
            verdict = self.tracker.query(conversation, id_field.value, frame, now)
        add_verdict(layer, id_field, verdict)


def add_verdict(layer: Layer, id_field: Field, verdict: Verdict) -> None:
    """tshark's items for one message, at the end of its DNS tree; experts under Transaction ID."""
    outcome = verdict.outcome
    if outcome is Outcome.RETRANSMITTED_QUERY:
        _retransmission(layer, id_field, "request", "query", verdict.original)
    elif outcome is Outcome.RETRANSMITTED_RESPONSE:
        _retransmission(layer, id_field, "response", "response", verdict.original)
    elif outcome is Outcome.RESPONSE:
        frame = verdict.request_frame
        layer.add(_node("dns.response_to", f"[Request In: {frame}]", frame, str(frame)))
        text = relative_time(verdict.time_ns)
        item = layer.add(_node("dns.time", f"[Time: {text} seconds]", None, text))
        item.value = verdict.time_ns / NS
    elif outcome is Outcome.UNSOLICITED:
        layer.add(_node("dns.unsolicited", "[Unsolicited: True]", True, "1"))


def _retransmission(layer: Layer, id_field: Field, kind: str, noun: str, original: int) -> None:
    message = f"DNS {noun} retransmission. Original {kind} in frame {original}"
    code = f"dns.retransmit_{kind}"
    # The expert item is a field too (`-e dns.retransmit_request` prints 1); -V prints only its
    # expert lines, under the Transaction ID as tshark attaches them.
    expert = id_field.add(_node(code, message, True, "1", hidden=True))
    layer.problems.append(Problem(code, Severity.WARNING, message, -1, 0, "Protocol", about=expert))
    layer.add(
        _node(
            f"dns.retransmit_{kind}_in",
            f"[Retransmitted {kind}. Original {kind} in: {original}]",
            original,
            str(original),
        )
    )
    layer.add(_node("dns.retransmission", "[Retransmission: True]", True, "1"))
