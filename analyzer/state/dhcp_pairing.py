"""DHCP transactions (RFC 2131): DISCOVER -> OFFER -> REQUEST -> ACK/NAK, RELEASE, INFORM, DECLINE.

tshark has no DHCP pairing, so everything here is Layerscope's own. Messages are grouped by
transaction ID (xid) and client MAC (chaddr). A transaction ends with the server's ACK or NAK, or
with the client's RELEASE or DECLINE (which get no answer); the next client message with the same
xid starts a new transaction (dhclient reuses its xid for a renewal REQUEST), as does any message
more than WATCH_TIME_S after the transaction's first one. (Zeek's dhcp.log differs there: it
merges every message of one xid seen within 30 s into one line.)

`DhcpTracker.transactions()` gives DhcpTransaction records with what Zeek's dhcp.log summarises
(ts, client/server address and port, mac, host_name, client_fqdn, domain, requested_addr,
assigned_addr, lease_time, client_message, server_message, msg_types, duration) plus the offered
address, each message's frame and time, and the outcome.

Each DHCP tree gets a `[Transaction]` node at its end, with fields under our own prefix
`layerscope.dhcp.*` (not tshark's, so comparisons with tshark skip the node):

    layerscope.dhcp.transaction    index of the transaction in the capture (0-based)
    layerscope.dhcp.step           1 for the first message of the transaction, 2 for the next...
    layerscope.dhcp.kind           DORA, renew (a REQUEST from a configured client), INFORM, ...
    layerscope.dhcp.prev_frame     frame of the previous message of the transaction
    layerscope.dhcp.prev_time      seconds since that message
    layerscope.dhcp.since_start    seconds since the transaction's first message (the DISCOVER)
    layerscope.dhcp.outcome        on the message that ends it: ACK, NAK, RELEASE or DECLINE
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from analyzer.model import Dissection, Field, Layer
from analyzer.state.tcp_fields import relative_time

NS = 1_000_000_000
WATCH_TIME_S = 30
DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = 1, 2, 3, 4, 5, 6, 7, 8
TYPE_NAMES = {
    1: "DISCOVER",
    2: "OFFER",
    3: "REQUEST",
    4: "DECLINE",
    5: "ACK",
    6: "NAK",
    7: "RELEASE",
    8: "INFORM",
    9: "FORCERENEW",
    10: "LEASEQUERY",
    11: "LEASEUNASSIGNED",
    12: "LEASEUNKNOWN",
    13: "LEASEACTIVE",
    14: "BULKLEASEQUERY",
    15: "LEASEQUERYDONE",
    16: "ACTIVELEASEQUERY",
    17: "LEASEQUERYSTATUS",
    18: "TLS",
}
SERVER_TYPES = frozenset({OFFER, ACK, NAK, 9, 11, 12, 13, 15, 17})
ENDING_TYPES = frozenset({ACK, NAK, RELEASE, DECLINE})
UNSET = "0.0.0.0"


def type_name(value: int) -> str:
    return TYPE_NAMES.get(value, f"UNKNOWN_{value}")


@dataclass(frozen=True, slots=True)
class DhcpMessage:
    """The facts of one DHCP message the tracker needs (read from its tree by `message_from`)."""

    frame: int
    timestamp_ns: int
    xid: int
    msg_type: int
    mac: str
    src: str = UNSET
    dst: str = UNSET
    sport: int = 0
    dport: int = 0
    ciaddr: str = UNSET
    yiaddr: str = UNSET
    host_name: str | None = None
    client_fqdn: str | None = None
    domain: str | None = None
    requested_addr: str | None = None
    server_id: str | None = None
    lease_time: int | None = None
    message: str | None = None

    @property
    def from_server(self) -> bool:
        return self.msg_type in SERVER_TYPES


@dataclass(frozen=True, slots=True)
class Step:
    """Where one message stands in its transaction."""

    transaction: int
    number: int
    kind: str
    prev_frame: int = 0
    prev_ns: int = 0
    since_start_ns: int = 0
    outcome: str | None = None


@dataclass(slots=True)
class DhcpTransaction:
    """One client's exchange under one xid; Zeek dhcp.log's columns plus our own."""

    index: int
    xid: int
    mac: str
    kind: str
    messages: list[DhcpMessage] = field(default_factory=list)
    client_addr: str | None = None
    server_addr: str | None = None
    client_port: int | None = None
    server_port: int | None = None
    host_name: str | None = None
    client_fqdn: str | None = None
    domain: str | None = None
    requested_addr: str | None = None
    offered_addr: str | None = None
    assigned_addr: str | None = None
    lease_time: int | None = None
    client_message: str | None = None
    server_message: str | None = None
    outcome: str | None = None

    @property
    def ts_ns(self) -> int:
        return self.messages[0].timestamp_ns

    @property
    def msg_types(self) -> list[str]:
        return [type_name(item.msg_type) for item in self.messages]

    @property
    def frames(self) -> list[int]:
        return [item.frame for item in self.messages]

    @property
    def duration_ns(self) -> int:
        return self.messages[-1].timestamp_ns - self.messages[0].timestamp_ns

    @property
    def step_durations_ns(self) -> list[int]:
        """Time between consecutive messages (OFFER after DISCOVER, REQUEST after OFFER...)."""
        stamps = [item.timestamp_ns for item in self.messages]
        return [later - earlier for earlier, later in pairwise(stamps)]

    @property
    def done(self) -> bool:
        return self.outcome is not None


def _kind(message: DhcpMessage) -> str:
    if message.msg_type == REQUEST:
        # RFC 2131 4.3.2: a renewing/rebinding client fills in ciaddr; a selecting one does not.
        return "renew" if message.ciaddr != UNSET else "DORA"
    if message.msg_type in (DISCOVER, OFFER):
        return "DORA"
    return type_name(message.msg_type)


class DhcpTracker:
    """Sans-IO: feed messages in capture order; `feed` says where each stands in its transaction."""

    def __init__(self, watch_time_s: float = WATCH_TIME_S) -> None:
        self.watch_time_ns = int(watch_time_s * NS)
        self._open: dict[tuple[int, str], DhcpTransaction] = {}
        self._all: list[DhcpTransaction] = []

    def feed(self, message: DhcpMessage) -> Step:
        key = (message.xid, message.mac)
        trans = self._open.get(key)
        if trans is not None and (
            (trans.done and not message.from_server)
            or message.msg_type == DISCOVER
            or message.timestamp_ns - trans.ts_ns > self.watch_time_ns
        ):
            trans = None
        if trans is None:
            trans = DhcpTransaction(len(self._all), message.xid, message.mac, _kind(message))
            self._all.append(trans)
            self._open[key] = trans
        previous = trans.messages[-1] if trans.messages else None
        trans.messages.append(message)
        _absorb(trans, message)
        start = trans.messages[0].timestamp_ns
        return Step(
            transaction=trans.index,
            number=len(trans.messages),
            kind=trans.kind,
            prev_frame=previous.frame if previous is not None else 0,
            prev_ns=message.timestamp_ns - previous.timestamp_ns if previous is not None else 0,
            since_start_ns=message.timestamp_ns - start,
            outcome=type_name(message.msg_type) if message.msg_type in ENDING_TYPES else None,
        )

    def transactions(self) -> list[DhcpTransaction]:
        return list(self._all)


def _absorb(trans: DhcpTransaction, message: DhcpMessage) -> None:
    """Fold one message's facts into its transaction's summary."""
    kind = message.msg_type
    if message.from_server:
        trans.server_addr = message.server_id or (message.src if message.src != UNSET else trans.server_addr)
        trans.server_port = message.sport or trans.server_port
        trans.server_message = message.message or trans.server_message
        if message.lease_time is not None:
            trans.lease_time = message.lease_time
        trans.domain = message.domain or trans.domain
        if kind == OFFER and message.yiaddr != UNSET:
            trans.offered_addr = message.yiaddr
        if kind == ACK:
            trans.assigned_addr = message.yiaddr if message.yiaddr != UNSET else message.ciaddr
    else:
        trans.client_port = message.sport or trans.client_port
        trans.client_message = message.message or trans.client_message
        trans.host_name = message.host_name or trans.host_name
        trans.client_fqdn = message.client_fqdn or trans.client_fqdn
        trans.requested_addr = message.requested_addr or trans.requested_addr
        if message.ciaddr != UNSET:
            trans.client_addr = message.ciaddr
        if message.server_id is not None and trans.server_addr is None:
            trans.server_addr = message.server_id
    if kind in ENDING_TYPES:
        trans.outcome = type_name(kind)


def _first(layer: Layer, name: str) -> object:
    found = layer.find(name)
    return None if found is None else found.value


def _text(layer: Layer, name: str) -> str | None:
    value = _first(layer, name)
    return value if isinstance(value, str) else None


def _number(layer: Layer, name: str) -> int | None:
    value = _first(layer, name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def message_from(dissection: Dissection, index: int) -> DhcpMessage | None:
    """The facts of the DHCP message in layer `index`, or None if it has no xid, type or chaddr."""
    layer = dissection.layers[index]
    xid, msg_type, mac = _number(layer, "dhcp.id"), _number(layer, "dhcp.option.dhcp"), None
    mac = _text(layer, "dhcp.hw.mac_addr")
    if xid is None or msg_type is None or mac is None:
        return None  # BOOTP without option 53, or a cut message: nothing to pair
    src = dst = UNSET
    sport = dport = 0
    for below in reversed(dissection.layers[:index]):
        if below.depth != layer.depth:
            continue
        if below.proto == "udp" and not sport:
            sport, dport = _number(below, "udp.srcport") or 0, _number(below, "udp.dstport") or 0
        elif below.proto == "ip":
            src, dst = _text(below, "ip.src") or UNSET, _text(below, "ip.dst") or UNSET
            break
    return DhcpMessage(
        frame=dissection.frame.number,
        timestamp_ns=dissection.frame.timestamp_ns,
        xid=xid,
        msg_type=msg_type,
        mac=mac,
        src=src,
        dst=dst,
        sport=sport,
        dport=dport,
        ciaddr=_text(layer, "dhcp.ip.client") or UNSET,
        yiaddr=_text(layer, "dhcp.ip.your") or UNSET,
        host_name=_text(layer, "dhcp.option.hostname"),
        client_fqdn=_text(layer, "dhcp.fqdn.name"),
        domain=_text(layer, "dhcp.option.domain_name"),
        requested_addr=_text(layer, "dhcp.option.requested_ip_address"),
        server_id=_text(layer, "dhcp.option.dhcp_server_id"),
        lease_time=_number(layer, "dhcp.option.ip_address_lease_time"),
        message=_text(layer, "dhcp.option.message"),
    )


def _node(name: str, label: str, value: int | float | str | None = None, show: str = "") -> Field:
    return Field(name, label, value, show, -1, 0, generated=True)


def _seconds(name: str, label: str, ns: int) -> Field:
    text = relative_time(ns)
    return _node(name, f"[{label}: {text} seconds]", ns / NS, text)


def transaction_node(step: Step, message: DhcpMessage) -> Field:
    """Our `[Transaction]` node for one message (see the module docstring for the fields)."""
    node = _node("layerscope.dhcp", "[Transaction]")
    index, number = step.transaction, step.number
    node.add(_node("layerscope.dhcp.transaction", f"[Transaction: {index}]", index, str(index)))
    name = type_name(message.msg_type)
    node.add(_node("layerscope.dhcp.step", f"[Step: {number} ({name})]", number, str(number)))
    node.add(_node("layerscope.dhcp.kind", f"[Kind: {step.kind}]", step.kind, step.kind))
    if step.prev_frame:
        frame = step.prev_frame
        node.add(
            _node("layerscope.dhcp.prev_frame", f"[Previous message in frame: {frame}]", frame, str(frame))
        )
        node.add(_seconds("layerscope.dhcp.prev_time", "Time since previous message", step.prev_ns))
        node.add(_seconds("layerscope.dhcp.since_start", "Time since first message", step.since_start_ns))
    if step.outcome is not None:
        node.add(_node("layerscope.dhcp.outcome", f"[Outcome: {step.outcome}]", step.outcome, step.outcome))
    return node


class DhcpPairingAnnotator:
    """Feeds every DHCP message to a DhcpTracker and adds our `[Transaction]` node to its tree."""

    def __init__(self) -> None:
        self.tracker = DhcpTracker()

    def annotate(self, dissection: Dissection) -> Dissection:
        for index, layer in enumerate(dissection.layers):
            if layer.proto != "dhcp" or layer.depth > 0:
                continue
            if any(below.proto in ("icmp", "icmpv6") for below in dissection.layers[:index]):
                continue  # quoted by an ICMP error: not a message of the exchange
            message = message_from(dissection, index)
            if message is not None:
                layer.add(transaction_node(self.tracker.feed(message), message))
        return dissection
