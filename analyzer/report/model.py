"""The report's data, gathered in one forward pass over a capture into plain dataclasses.

`build_report` reads every frame once (annotated, as `read -V` shows it) and keeps only small
facts: counts, the protocol hierarchy, findings, conversations (the `flows` rows), DNS, DHCP and
HTTP transactions, time buckets, top talkers and, for selected streams, their packets' trees.
The JSON output is `dataclasses.asdict(report)`; docs/report-schema.md documents every key.
Text in here is raw packet text: each renderer escapes it for its own format.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from analyzer.export.flows import FlowRow, flow_rows
from analyzer.export.flows_facts import PacketFacts, facts_from_dissection
from analyzer.export.hexdump import hexdump
from analyzer.export.text import tree_lines
from analyzer.filter import DisplayFilter
from analyzer.model import Dissection, Field, Layer, Severity
from analyzer.session import dissect_frames
from analyzer.state.dhcp_pairing import DhcpTracker, message_from
from analyzer.state.tcp_facts import ACK, FIN, PSH, RST, SYN, TcpSegment
from captures.pcapfile import CaptureReader

NS = 1_000_000_000
SCHEMA_VERSION = 1
TIMELINE_BUCKETS = 60
TOP_TALKERS = 10
FINDING_PACKETS = 200  # at most this many packet trees kept for findings
# tshark's `-z io,phs` leaves these pseudo-protocols out of the hierarchy.
PHS_SKIPPED = frozenset(("frame", "ethertype"))
ProgressHook = Callable[[int], None]


@dataclass(slots=True)
class Summary:
    """The capture as capinfos describes it (times in seconds since the epoch)."""

    file: str
    file_format: str
    encapsulations: list[int]
    display_filter: str | None
    packets: int = 0
    bytes: int = 0
    captured_bytes: int = 0
    first_time: float | None = None
    last_time: float | None = None
    duration: float = 0.0
    average_packet_size: float = 0.0
    bytes_per_second: float = 0.0
    bits_per_second: float = 0.0
    packets_per_second: float = 0.0


@dataclass(slots=True)
class ProtocolNode:
    """One line of `tshark -z io,phs`: a protocol under its parents, frames and frame bytes."""

    protocol: str
    frames: int = 0
    bytes: int = 0
    children: list[ProtocolNode] = field(default_factory=list)


@dataclass(slots=True)
class Finding:
    """An expert item of one packet (malformed data, TCP analysis...)."""

    frame: int
    severity: str
    severity_level: int
    group: str
    code: str
    message: str
    protocol: str


@dataclass(slots=True)
class Conversation:
    """One TCP/UDP conversation: the `flows` row (Zeek conn.log vocabulary)."""

    stream: int
    proto: str
    orig_h: str
    orig_p: int
    resp_h: str
    resp_p: int
    conn_state: str
    history: str
    start_time: float
    duration: float
    orig_pkts: int
    orig_bytes: int
    resp_pkts: int
    resp_bytes: int
    orig_frame_bytes: int
    resp_frame_bytes: int
    handshake_rtt: float | None
    retransmissions: int | None
    community_id: str


@dataclass(slots=True)
class DnsQuery:
    """One DNS query and its response (if seen)."""

    frame: int
    time: float
    transport: str
    client: str
    server: str
    transaction_id: int | None
    name: str
    qtype: str
    stream: int | None = None
    client_port: int | None = None
    server_port: int | None = None
    qtype_code: int | None = None
    qclass_code: int | None = None
    recursion_desired: bool | None = None
    response_frame: int | None = None
    rcode: str | None = None
    rcode_code: int | None = None
    authoritative: bool | None = None
    truncated: bool | None = None
    recursion_available: bool | None = None
    answers: list[str] = field(default_factory=list)
    ttls: list[int] = field(default_factory=list)
    response_time: float | None = None


@dataclass(slots=True)
class DhcpExchange:
    """One DHCP transaction (one client, one xid) with its lease details."""

    xid: int
    mac: str
    kind: str
    messages: list[str]
    frames: list[int]
    time: float
    duration: float
    client_addr: str | None
    server_addr: str | None
    requested_addr: str | None
    offered_addr: str | None
    assigned_addr: str | None
    lease_time: int | None
    host_name: str | None
    outcome: str | None
    client_fqdn: str | None = None
    domain: str | None = None
    client_message: str | None = None
    server_message: str | None = None


@dataclass(slots=True)
class HttpExchange:
    """One HTTP request and its response (if seen)."""

    frame: int
    time: float
    client: str
    server: str
    method: str
    host: str | None
    uri: str
    stream: int | None = None
    client_port: int | None = None
    server_port: int | None = None
    version: str | None = None
    user_agent: str | None = None
    referrer: str | None = None
    request_body_len: int | None = None
    response_frame: int | None = None
    status: int | None = None
    reason: str | None = None
    content_length: int | None = None
    response_time: float | None = None


@dataclass(slots=True)
class TimeBucket:
    """Packets and frame bytes in [start, start + width) seconds after the first packet."""

    start: float
    packets: int = 0
    bytes: int = 0


@dataclass(slots=True)
class Talker:
    """An address and the packets and frame bytes it sent or received."""

    address: str
    packets: int = 0
    bytes: int = 0


@dataclass(slots=True)
class LadderArrow:
    """One packet of a stream drawn as an arrow between its two endpoints."""

    frame: int
    time: float
    from_orig: bool
    label: str


@dataclass(slots=True)
class StreamPacket:
    """One packet of a selected stream: its tree (as `read -V`) and its bytes (as `read -x`)."""

    frame: int
    time: float
    tree: list[str]
    hex: str


@dataclass(slots=True)
class StreamDetail:
    """A stream shown in full: ladder diagram and packets."""

    proto: str
    stream: int
    reason: str  # "selected" (--stream) or "failed handshake"
    orig: str
    resp: str
    ladder: list[LadderArrow] = field(default_factory=list)
    packets: list[StreamPacket] = field(default_factory=list)


@dataclass(slots=True)
class Report:
    """Everything a report shows; `asdict` of it is the JSON output."""

    schema_version: int
    summary: Summary
    protocol_hierarchy: list[ProtocolNode]
    findings: list[Finding]
    conversations: list[Conversation]
    dns: list[DnsQuery]
    dhcp: list[DhcpExchange]
    http: list[HttpExchange]
    timeline_bucket_seconds: float
    timeline: list[TimeBucket]
    top_talkers: list[Talker]
    streams: list[StreamDetail]
    # Trees of the packets that carry findings (Note and above), so each finding links to one.
    finding_packets: list[StreamPacket] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# -- gathering ------------------------------------------------------------------------------------


def _seconds(ns: int) -> float:
    return round(ns / NS, 9)


def _text(found: Field | None) -> str | None:
    return None if found is None else found.show


def _number(found: Field | None) -> int | None:
    if found is None or isinstance(found.value, bool) or not isinstance(found.value, int):
        return None
    return found.value


def _addresses(dissection: Dissection) -> tuple[str, str] | None:
    for layer in dissection.layers:
        if layer.depth == 0 and layer.proto in ("ip", "ipv6"):
            fields = layer.first_fields()
            prefix = "ip" if layer.proto == "ip" else "ipv6"
            src, dst = _text(fields.get(f"{prefix}.src")), _text(fields.get(f"{prefix}.dst"))
            if src is not None and dst is not None:
                return src, dst
    return None


class _Hierarchy:
    def __init__(self) -> None:
        self.roots: list[ProtocolNode] = []

    def add(self, protocols: Iterable[str], size: int) -> None:
        level = self.roots
        for name in protocols:
            if not name or name in PHS_SKIPPED:
                continue
            node = next((item for item in level if item.protocol == name), None)
            if node is None:
                node = ProtocolNode(name)
                level.append(node)
            node.frames += 1
            node.bytes += size
            level = node.children


def _ports(dissection: Dissection) -> tuple[int | None, int | None, int | None]:
    """Source port, destination port and tcp.stream/udp.stream of the frame's transport layer."""
    for layer in dissection.layers:
        if layer.depth == 0 and layer.proto in ("tcp", "udp"):
            fields = layer.first_fields()
            return (
                _number(fields.get(f"{layer.proto}.srcport")),
                _number(fields.get(f"{layer.proto}.dstport")),
                _number(fields.get(f"{layer.proto}.stream")),
            )
    return None, None, None


def _flag(found: Field | None) -> bool | None:
    return None if found is None else bool(found.value)


def _dns_query(dissection: Dissection, layer: Layer, ends: tuple[str, str]) -> DnsQuery:
    fields = layer.first_fields()
    sport, dport, stream = _ports(dissection)
    return DnsQuery(
        stream=stream,
        client_port=sport,
        server_port=dport,
        qtype_code=_number(fields.get("dns.qry.type")),
        qclass_code=_number(fields.get("dns.qry.class")),
        recursion_desired=_flag(fields.get("dns.flags.recdesired")),
        frame=dissection.frame.number,
        time=_seconds(dissection.frame.timestamp_ns),
        transport="tcp" if dissection.layer("tcp") is not None else "udp",
        client=ends[0],
        server=ends[1],
        transaction_id=_number(fields.get("dns.id")),
        name=_text(fields.get("dns.qry.name")) or "",
        qtype=(fields["dns.qry.type"].label.split(": ", 1)[-1] if "dns.qry.type" in fields else ""),
    )


# The record data Zeek's dns.log lists as answers.
_ANSWER_FIELDS = frozenset(
    {
        "dns.a",
        "dns.aaaa",
        "dns.cname",
        "dns.ptr.domain_name",
        "dns.mx.mail_exchange",
        "dns.txt",
        "dns.ns",
        "dns.srv.target",
    }
)


class _Applications:
    """DNS, HTTP and DHCP transactions read from the annotated trees."""

    def __init__(self) -> None:
        self.dns: dict[int, DnsQuery] = {}
        self.http: dict[int, HttpExchange] = {}
        self.dhcp = DhcpTracker()

    def feed(self, dissection: Dissection) -> None:
        for index, layer in enumerate(dissection.layers):
            if layer.depth != 0:
                continue
            if layer.proto == "dns":
                self._dns(dissection, layer)
            elif layer.proto == "http":
                self._http(dissection, layer)
            elif layer.proto == "dhcp":
                message = message_from(dissection, index)
                if message is not None:
                    self.dhcp.feed(message)

    def _dns(self, dissection: Dissection, layer: Layer) -> None:
        ends = _addresses(dissection)
        fields = layer.first_fields()
        response = fields.get("dns.flags.response")
        if ends is None or response is None:
            return
        if not response.value:
            self.dns.setdefault(dissection.frame.number, _dns_query(dissection, layer, ends))
            return
        query = self.dns.get(_number(fields.get("dns.response_to")) or -1)
        if query is None or query.response_frame is not None:
            return
        query.response_frame = dissection.frame.number
        rcode = fields.get("dns.flags.rcode")
        query.rcode = rcode.label.split(": ", 1)[-1] if rcode is not None else None
        query.rcode_code = _number(rcode)
        query.authoritative = _flag(fields.get("dns.flags.authoritative"))
        query.truncated = _flag(fields.get("dns.flags.truncated"))
        query.recursion_available = _flag(fields.get("dns.flags.recavail"))
        # Zeek lists the answer section only (not authority or additional records).
        answers = [item for top in layer.children if top.label == "Answers" for item in top.walk()]
        query.answers = [item.show for item in answers if item.name in _ANSWER_FIELDS]
        query.ttls = [
            item.value for item in answers if item.name == "dns.resp.ttl" and isinstance(item.value, int)
        ]
        elapsed = fields.get("dns.time")
        query.response_time = float(elapsed.value) if elapsed and isinstance(elapsed.value, float) else None

    def _http(self, dissection: Dissection, layer: Layer) -> None:
        ends = _addresses(dissection)
        fields = layer.first_fields()
        if ends is None:
            return
        method = fields.get("http.request.method")
        if method is not None:
            sport, dport, stream = _ports(dissection)
            self.http.setdefault(
                dissection.frame.number,
                HttpExchange(
                    frame=dissection.frame.number,
                    time=_seconds(dissection.frame.timestamp_ns),
                    client=ends[0],
                    server=ends[1],
                    method=method.show,
                    host=_text(fields.get("http.host")),
                    uri=_text(fields.get("http.request.uri")) or "",
                    stream=stream,
                    client_port=sport,
                    server_port=dport,
                    version=_text(fields.get("http.request.version")),
                    user_agent=_text(fields.get("http.user_agent")),
                    referrer=_text(fields.get("http.referer")),
                    request_body_len=_number(fields.get("http.content_length")),
                ),
            )
            return
        code = fields.get("http.response.code")
        request = self.http.get(_number(fields.get("http.request_in")) or -1)
        if code is None or request is None or request.response_frame is not None:
            return
        request.response_frame = dissection.frame.number
        request.status = _number(code)
        request.reason = _text(fields.get("http.response.phrase"))
        request.content_length = _number(fields.get("http.content_length"))
        elapsed = fields.get("http.time")
        request.response_time = float(elapsed.value) if elapsed and isinstance(elapsed.value, float) else None

    def dhcp_exchanges(self) -> list[DhcpExchange]:
        return [
            DhcpExchange(
                xid=trans.xid,
                mac=trans.mac,
                kind=trans.kind,
                messages=trans.msg_types,
                frames=trans.frames,
                time=_seconds(trans.ts_ns),
                duration=_seconds(trans.duration_ns),
                client_addr=trans.client_addr,
                server_addr=trans.server_addr,
                requested_addr=trans.requested_addr,
                offered_addr=trans.offered_addr,
                assigned_addr=trans.assigned_addr,
                lease_time=trans.lease_time,
                host_name=trans.host_name,
                outcome=trans.outcome,
                client_fqdn=trans.client_fqdn,
                domain=trans.domain,
                client_message=trans.client_message,
                server_message=trans.server_message,
            )
            for trans in self.dhcp.transactions()
        ]


_FLAG_NAMES = ((SYN, "SYN"), (FIN, "FIN"), (RST, "RST"), (PSH, "PSH"), (ACK, "ACK"))


def tcp_arrow_label(segment: TcpSegment) -> str:
    """A ladder arrow's text: the flags set and the payload length ("SYN, ACK", "PSH, ACK len=5")."""
    shown = [name for bit, name in _FLAG_NAMES if segment.flags & bit]
    text = ", ".join(shown) or "none"
    return f"{text} len={segment.payload_len}" if segment.payload_len else text


def conversation_from(row: FlowRow) -> Conversation:
    return Conversation(
        stream=row.stream,
        proto=row.proto,
        orig_h=row.orig_h,
        orig_p=row.orig_p,
        resp_h=row.resp_h,
        resp_p=row.resp_p,
        conn_state=row.conn_state,
        history=row.history,
        start_time=_seconds(row.start_ns),
        duration=_seconds(row.duration_ns),
        orig_pkts=row.orig_pkts,
        orig_bytes=row.orig_bytes,
        resp_pkts=row.resp_pkts,
        resp_bytes=row.resp_bytes,
        orig_frame_bytes=row.orig_frame_bytes,
        resp_frame_bytes=row.resp_frame_bytes,
        handshake_rtt=None if row.handshake_rtt_ns is None else _seconds(row.handshake_rtt_ns),
        retransmissions=row.retransmissions,
        community_id=row.community_id,
    )


def _packet(dissection: Dissection) -> StreamPacket:
    frame = dissection.frame
    return StreamPacket(
        frame.number, _seconds(frame.timestamp_ns), list(tree_lines(dissection)), hexdump(frame.data)
    )


def _stream_key(dissection: Dissection) -> tuple[str, int] | None:
    for proto in ("tcp", "udp"):
        found = dissection.first(f"{proto}.stream")
        if found is not None and isinstance(found.value, int):
            return proto, found.value
    return None


def _timeline(stamps: list[tuple[int, int]], first_ns: int, last_ns: int) -> tuple[float, list[TimeBucket]]:
    span = max(last_ns - first_ns, 1)
    # A round bucket width giving at most TIMELINE_BUCKETS buckets.
    width_ns = next(
        (w for w in (10**e * m for e in range(3, 13) for m in (1, 2, 5)) if span / w <= TIMELINE_BUCKETS),
        span,
    )
    buckets = [TimeBucket(_seconds(i * width_ns)) for i in range(span // width_ns + 1)]
    for stamp, size in stamps:
        bucket = (
            buckets[min((stamp - first_ns) // width_ns, len(buckets) - 1)]
            if stamp >= first_ns
            else buckets[0]
        )
        bucket.packets += 1
        bucket.bytes += size
    return _seconds(width_ns), buckets


def build_report(
    reader: CaptureReader,
    path: str,
    display_filter: DisplayFilter | None = None,
    filter_text: str | None = None,
    streams: Iterable[int] = (),
    strict: bool = False,
    progress: ProgressHook | None = None,
) -> Report:
    """Read the capture once and gather every section of the report.

    With a display filter, only matching packets are counted, listed and charted; stream
    numbers stay tshark's (every packet still numbers them). `streams` are tcp.stream numbers
    shown in full; TCP streams whose handshake failed (S0, REJ) get a ladder diagram too.
    """
    wanted = set(streams)
    summary = Summary(path, reader.info.format, [], filter_text)
    hierarchy = _Hierarchy()
    findings: list[Finding] = []
    facts: list[PacketFacts] = []
    apps = _Applications()
    stamps: list[tuple[int, int]] = []
    talkers: dict[str, Talker] = {}
    ladders: dict[tuple[str, int], list[LadderArrow]] = {}
    orig_side: dict[tuple[str, int], tuple[str, int]] = {}
    details: dict[int, list[StreamPacket]] = {number: [] for number in wanted}
    finding_packets: list[StreamPacket] = []
    for dissection in dissect_frames(reader, strict=strict):
        frame = dissection.frame
        if progress is not None:
            progress(frame.number)
        selected = display_filter is None or display_filter.matches(dissection)
        fact = facts_from_dissection(dissection)
        facts.append(PacketFacts(frame.number, frame.timestamp_ns, frame.wire_len, fact, selected))
        if not selected:
            continue
        summary.packets += 1
        summary.bytes += frame.wire_len
        summary.captured_bytes += frame.cap_len
        if frame.linktype not in summary.encapsulations:
            summary.encapsulations.append(frame.linktype)
        stamps.append((frame.timestamp_ns, frame.wire_len))
        # tshark counts the protocols at the top level of the tree: not the packet an ICMP
        # error quotes, nor data shown inside another protocol (depth > 0 here).
        hierarchy.add((layer.proto for layer in dissection.layers if layer.depth == 0), frame.wire_len)
        for layer in dissection.layers:
            for problem in layer.problems:
                findings.append(
                    Finding(
                        frame.number,
                        problem.severity.label,
                        int(problem.severity),
                        problem.group,
                        problem.code,
                        problem.message,
                        layer.proto,
                    )
                )
        if len(finding_packets) < FINDING_PACKETS and any(
            problem.severity >= Severity.NOTE for problem in dissection.problems
        ):
            finding_packets.append(_packet(dissection))
        ends = _addresses(dissection)
        for address in set(ends or ()):
            talker = talkers.setdefault(address, Talker(address))
            talker.packets += 1
            talker.bytes += frame.wire_len
        apps.feed(dissection)
        key = _stream_key(dissection)
        if key is not None and isinstance(fact, TcpSegment) and key[0] == "tcp":
            orig = orig_side.setdefault(key, (fact.src, fact.sport))
            from_orig = (fact.src, fact.sport) == orig
            arrow = LadderArrow(frame.number, _seconds(frame.timestamp_ns), from_orig, tcp_arrow_label(fact))
            ladders.setdefault(key, []).append(arrow)
        if key is not None and key[0] == "tcp" and key[1] in wanted:
            details[key[1]].append(_packet(dissection))
    summary.encapsulations.sort()
    warnings = list(reader.warnings)
    rows = flow_rows(facts, filtered=display_filter is not None)
    conversations = [conversation_from(row) for row in rows]
    if stamps:
        first_ns, last_ns = min(s for s, _ in stamps), max(s for s, _ in stamps)
        summary.first_time, summary.last_time = _seconds(first_ns), _seconds(last_ns)
        summary.duration = _seconds(last_ns - first_ns)
        summary.average_packet_size = round(summary.bytes / summary.packets, 2)
        if summary.duration > 0:
            summary.bytes_per_second = round(summary.bytes / summary.duration, 3)
            summary.bits_per_second = round(8 * summary.bytes / summary.duration, 3)
            summary.packets_per_second = round(summary.packets / summary.duration, 3)
        width, timeline = _timeline(stamps, first_ns, last_ns)
    else:
        width, timeline = 0.0, []
    detail_list: list[StreamDetail] = []
    for conv in conversations:
        if conv.proto != "tcp":
            continue
        failed = conv.conn_state in ("S0", "REJ")
        if conv.stream not in wanted and not failed:
            continue
        detail = StreamDetail(
            "tcp",
            conv.stream,
            "selected" if conv.stream in wanted else "failed handshake",
            _endpoint(conv.orig_h, conv.orig_p),
            _endpoint(conv.resp_h, conv.resp_p),
            ladders.get(("tcp", conv.stream), []),
            details.get(conv.stream, []),
        )
        detail_list.append(detail)
    findings.sort(key=lambda item: (-item.severity_level, item.frame))
    top = sorted(talkers.values(), key=lambda t: (-t.bytes, -t.packets, t.address))[:TOP_TALKERS]
    return Report(
        schema_version=SCHEMA_VERSION,
        summary=summary,
        protocol_hierarchy=hierarchy.roots,
        findings=findings,
        conversations=conversations,
        dns=sorted(apps.dns.values(), key=lambda q: q.frame),
        dhcp=apps.dhcp_exchanges(),
        http=sorted(apps.http.values(), key=lambda r: r.frame),
        timeline_bucket_seconds=width,
        timeline=timeline,
        top_talkers=top,
        streams=detail_list,
        finding_packets=finding_packets,
        warnings=warnings,
    )


def _endpoint(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def severity_counts(findings: Iterable[Finding]) -> Counter[str]:
    """How many findings of each severity label."""
    return Counter(item.severity for item in findings)
