"""What the TUI's views (conversations, handshakes, transactions, statistics) learn from the one
annotated analysis pass the app already runs for row colours.

`ViewFacts.feed` takes each annotated Dissection in capture order and keeps small per-view records;
the views read them once the pass is done (`complete`), never while the worker writes. The pass is
bounded (`limit` packets): beyond it `truncated` tells the views to say so.

During a live capture the pass never completes: it follows the capture. A view then reads a
`snapshot`, copied while holding `lock` (which the pass takes for each packet it feeds): the
packets analysed when the view opened, while the pass goes on.
"""

from __future__ import annotations

import dataclasses
import threading
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from analyzer.model import Dissection, Field, Layer

if TYPE_CHECKING:
    # The flow and tracker modules (~40 ms of imports) load when the analysis pass starts, after the
    # TUI's first screen; the app makes its ViewFacts before that screen.
    from analyzer.export.flows import FlowRow
    from analyzer.export.flows_facts import PacketFacts
    from analyzer.state.dhcp_pairing import DhcpTracker, DhcpTransaction
    from analyzer.state.tcp_facts import TcpSegment
    from analyzer.state.tcp_tracker import ConnectionSummary, TcpTracker

LADDER_LIMIT = 2000  # arrows kept per TCP connection (a bulk transfer needs no more to read)
_ANSWER_FIELDS = frozenset(
    {
        "dns.a",
        "dns.aaaa",
        "dns.cname",
        "dns.ptr.domain_name",
        "dns.mx.mail_exchange",
        "dns.txt",
        "dns.srv.target",
    }
)


def _dhcp_tracker() -> DhcpTracker | None:
    try:  # the DHCP pairing tracker is optional: the transactions view works without it
        from analyzer.state.dhcp_pairing import DhcpTracker
    except ImportError:  # pragma: no cover - depends on what other work has landed
        return None
    return DhcpTracker()


@dataclass(slots=True)
class LadderStep:
    """One TCP segment of a connection, as the ladder diagram draws it."""

    frame: int
    ts_ns: int
    from_orig: bool
    flags: int
    seq: int  # relative
    ack: int
    length: int
    retransmission: bool


@dataclass(slots=True)
class HierarchyNode:
    """A protocol in `tshark -z io,phs`'s tree: frames and frame bytes, children by first sight."""

    name: str
    frames: int = 0
    bytes: int = 0
    children: dict[str, HierarchyNode] = field(default_factory=dict)

    def walk(self, depth: int = 0) -> Iterator[tuple[int, HierarchyNode]]:
        for child in self.children.values():
            yield depth, child
            yield from child.walk(depth + 1)


@dataclass(slots=True)
class DnsRow:
    frame: int
    ts_ns: int
    name: str
    qtype: str
    transport: str
    response_frame: int = 0
    rcode: str = ""
    answers: list[str] = field(default_factory=list)
    time_s: float | None = None


@dataclass(slots=True)
class HttpRow:
    frame: int
    ts_ns: int
    method: str
    host: str
    uri: str
    response_frame: int = 0
    status: str = ""
    time_s: float | None = None


@dataclass(slots=True)
class Talker:
    packets: int = 0
    bytes: int = 0


def _show(found: Field | None) -> str:
    return found.show if found is not None else ""


def _named(found: Field | None) -> str:
    """The value as the tree names it: "Type: AAAA (IPv6 Address) (28)" -> "AAAA"."""
    if found is None:
        return ""
    named = found.label.partition(": ")[2]
    return named.split(" (")[0] if named else found.show


def _top_layers(dissection: Dissection) -> list[Layer]:
    """The protocols tshark's phs counts: the frame's own stack (not quoted or reassembled ones)."""
    return [
        layer
        for layer in dissection.layers
        if layer.depth == 0 and layer.source == 0 and layer.proto != "frame"
    ]


class ViewFacts:
    """Records for the views from one pass over at most `limit` packets (see module doc)."""

    def __init__(self, limit: int, live: bool = False) -> None:
        self.limit = limit
        self.live = live
        self.lock = threading.Lock()
        self.total = 0  # packets in the capture (set by the app once indexed, or as they arrive live)
        self.analysed = 0
        self.complete = False
        self.truncated = False
        self.packets: list[PacketFacts] = []
        self._tcp: TcpTracker | None = None
        self.ladders: dict[int, list[LadderStep]] = {}
        self.resets: dict[int, int] = {}
        self.hierarchy = HierarchyNode("")
        self.talkers: dict[str, Talker] = {}
        self.timestamps: array[int] = array("q")
        self.lengths: array[int] = array("I")
        self.encapsulations: dict[str, int] = {}
        self.ts_digits = 6
        self.dns: list[DnsRow] = []
        self.http: list[HttpRow] = []
        self._dhcp: DhcpTracker | None = None
        self._dhcp_made = False
        self._dns_by_frame: dict[int, DnsRow] = {}
        self._http_by_frame: dict[int, HttpRow] = {}
        self._flows: list[FlowRow] | None = None
        # A snapshot's connections and DHCP exchanges, computed when it was taken.
        self._frozen: tuple[list[ConnectionSummary], list[DhcpTransaction]] | None = None

    @property
    def tcp(self) -> TcpTracker:
        if self._tcp is None:
            from analyzer.state.tcp_tracker import TcpTracker

            self._tcp = TcpTracker()
        return self._tcp

    @property
    def dhcp(self) -> DhcpTracker | None:
        """The DHCP transaction tracker, or None when that module is not available."""
        if not self._dhcp_made:
            self._dhcp, self._dhcp_made = _dhcp_tracker(), True
        return self._dhcp

    def feed(self, dissection: Dissection) -> None:
        from analyzer.export.flows_facts import PacketFacts, facts_from_dissection
        from analyzer.state.tcp_facts import TcpSegment

        frame = dissection.frame
        self.analysed += 1
        self._flows = None
        self.timestamps.append(frame.timestamp_ns)
        self.lengths.append(frame.wire_len)
        if self.analysed == 1:
            self.ts_digits = frame.ts_digits
        encapsulation = dissection.first("frame.encap_type")
        if encapsulation is not None:  # "Encapsulation type: Ethernet (1)" -> "Ethernet"
            name = encapsulation.label.partition(": ")[2].rpartition(" (")[0]
            self.encapsulations[name] = self.encapsulations.get(name, 0) + 1
        layers = _top_layers(dissection)
        node = self.hierarchy
        for layer in layers:
            node = node.children.setdefault(layer.proto, HierarchyNode(layer.proto))
            node.frames += 1
            node.bytes += frame.wire_len
        self._talkers(dissection, frame.wire_len)
        fact = facts_from_dissection(dissection)
        self.packets.append(PacketFacts(frame.number, frame.timestamp_ns, frame.wire_len, fact))
        if isinstance(fact, TcpSegment):
            self._tcp_segment(fact)
        for layer in layers:
            if layer.proto == "dns":
                self._dns(dissection, layer)
            elif layer.proto == "http":
                self._http(dissection, layer)
            elif layer.proto == "dhcp" and self.dhcp is not None:
                from analyzer.state.dhcp_pairing import message_from

                message = message_from(dissection, dissection.layers.index(layer))
                if message is not None:
                    self.dhcp.feed(message)

    def _talkers(self, dissection: Dissection, size: int) -> None:
        for source, destination in (("ip.src", "ip.dst"), ("ipv6.src", "ipv6.dst"), ("eth.src", "eth.dst")):
            src, dst = dissection.first(source), dissection.first(destination)
            if src is None or dst is None:
                continue
            for address in {src.show, dst.show}:
                talker = self.talkers.setdefault(address, Talker())
                talker.packets += 1
                talker.bytes += size
            return

    def _tcp_segment(self, segment: TcpSegment) -> None:
        from analyzer.state.tcp_analysis import RETRANSMISSION_KINDS

        analysis = self.tcp.feed(segment)
        steps = self.ladders.setdefault(analysis.stream, [])
        if segment.flags & 0x004:
            self.resets[analysis.stream] = self.resets.get(analysis.stream, 0) + 1
        if len(steps) < LADDER_LIMIT:
            steps.append(
                LadderStep(
                    segment.frame,
                    segment.timestamp_ns,
                    analysis.from_originator,
                    segment.flags,
                    analysis.seq,
                    analysis.ack,
                    segment.payload_len,
                    bool(analysis.flags & RETRANSMISSION_KINDS),
                )
            )

    def _dns(self, dissection: Dissection, layer: Layer) -> None:
        fields = layer.first_fields()
        number, stamp = dissection.frame.number, dissection.frame.timestamp_ns
        response = fields.get("dns.flags.response")
        if response is None or not response.value:
            transport = "TCP" if dissection.layer("tcp") is not None else "UDP"
            row = DnsRow(
                number,
                stamp,
                _show(fields.get("dns.qry.name")),
                _named(fields.get("dns.qry.type")),
                transport,
            )
            self.dns.append(row)
            self._dns_by_frame[number] = row
            return
        to = fields.get("dns.response_to")
        row_for = self._dns_by_frame.get(to.value) if to is not None and isinstance(to.value, int) else None
        if row_for is None or row_for.response_frame:
            return
        row_for.response_frame = number
        row_for.rcode = _named(fields.get("dns.flags.rcode"))
        row_for.answers = [item.show for item in layer.walk() if item.name in _ANSWER_FIELDS]
        taken = fields.get("dns.time")
        row_for.time_s = float(taken.value) if taken is not None and isinstance(taken.value, float) else None

    def _http(self, dissection: Dissection, layer: Layer) -> None:
        fields = layer.first_fields()
        number, stamp = dissection.frame.number, dissection.frame.timestamp_ns
        method = fields.get("http.request.method")
        if method is not None:
            row = HttpRow(
                number,
                stamp,
                method.show,
                _show(fields.get("http.host")),
                _show(fields.get("http.request.uri")),
            )
            self.http.append(row)
            self._http_by_frame[number] = row
            return
        code, request_in = fields.get("http.response.code"), fields.get("http.request_in")
        if code is None or request_in is None or not isinstance(request_in.value, int):
            return
        request = self._http_by_frame.get(request_in.value)
        if request is None:
            return
        request.response_frame = number
        request.status = f"{code.show} {_show(fields.get('http.response.phrase'))}".strip()
        taken = fields.get("http.time")
        request.time_s = float(taken.value) if taken is not None and isinstance(taken.value, float) else None

    # -- what the views read (after `complete`) -----------------------------------------------

    def flows(self) -> list[FlowRow]:
        from analyzer.export.flows import flow_rows

        if self._flows is None:
            self._flows = flow_rows(self.packets)
        return self._flows

    def connections(self) -> list[ConnectionSummary]:
        if self._frozen is not None:
            return self._frozen[0]
        return list(self.tcp.connections())

    def dhcp_transactions(self) -> list[DhcpTransaction]:
        if self._frozen is not None:
            return self._frozen[1]
        return self.dhcp.transactions() if self.dhcp is not None else []

    def snapshot(self) -> ViewFacts:
        """A copy for a view to read while the pass goes on feeding this one (take it holding
        `lock`): the records the pass still changes (counters, pending DNS and HTTP rows) are
        copied, the ones it never changes again are shared."""
        copy = ViewFacts(self.limit, self.live)
        copy.total, copy.analysed = self.total, self.analysed
        copy.complete, copy.truncated = self.complete, self.truncated
        copy.packets = list(self.packets)
        copy.ladders = {stream: list(steps) for stream, steps in self.ladders.items()}
        copy.resets = dict(self.resets)
        copy.hierarchy = _copy_node(self.hierarchy)
        copy.talkers = {address: Talker(t.packets, t.bytes) for address, t in self.talkers.items()}
        copy.timestamps = array("q", self.timestamps)
        copy.lengths = array("I", self.lengths)
        copy.encapsulations = dict(self.encapsulations)
        copy.ts_digits = self.ts_digits
        copy.dns = [dataclasses.replace(row, answers=list(row.answers)) for row in self.dns]
        copy.http = [dataclasses.replace(row) for row in self.http]
        copy._dhcp, copy._dhcp_made = self.dhcp, True
        copy._frozen = (self.connections(), self.dhcp_transactions())
        return copy

    def note(self) -> str:
        """The honest caveat for a bounded pass or a live capture, or ""."""
        if self.truncated:
            cut = f"Only the first {self.analysed:,} of {self.total:,} packets analysed."
            return f"Live capture: {cut}" if self.live else cut
        if self.live:
            return (
                f"Live capture: the {self.analysed:,} packets analysed when this view opened "
                f"(of {self.total:,} captured); Ctrl+R refreshes."
            )
        return ""


def _copy_node(node: HierarchyNode) -> HierarchyNode:
    children = {name: _copy_node(child) for name, child in node.children.items()}
    return HierarchyNode(node.name, node.frames, node.bytes, children)


def collect(
    frames: Iterator[Dissection], facts: ViewFacts, each: Callable[[Dissection], bool] | None = None
) -> bool:
    """Feed `facts` from annotated dissections up to its limit; `each` may stop the pass (False)."""
    for dissection in frames:
        if facts.analysed >= facts.limit:
            facts.truncated = True
            break
        with facts.lock:
            facts.feed(dissection)
        if each is not None and not each(dissection):
            return False
    facts.complete = True
    return True
