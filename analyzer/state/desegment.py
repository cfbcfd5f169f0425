"""Desegmenter: TCP desegmentation of application PDUs, as tshark's tcp.desegment_tcp_streams does.

Runs after StreamAnnotator (it needs tcp.stream, relative sequence numbers and the analysis
flags). Per TCP stream and direction, in sequence order, payload is collected until the
application's `pdu_length` (Registry.pdu_lengths) says the PDU is complete; the PDU is then
dissected on the frame that completes it, as a "Reassembled TCP (N bytes)" data source listed
as tshark lists it ("[2 Reassembled TCP Segments (208 bytes): #8(170), #10(38)]"). Frames that
carry only part of a PDU show "TCP segment data (N bytes)" and no application layer.

Like tshark, payload of segments the analysis calls retransmissions or out-of-order is not
handed to the application (shown as data here). Buffers are capped per direction and in total;
a stream that hits a cap gets a `tcp.reassembly.capped` problem and is dissected segment by
segment from then on. With desegmentation off (Preferences.desegment_tcp), only the
retransmission rule and HTTP's "not a conversation of ours" rule apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from analyzer.context import PacketContext
from analyzer.model import Dissection, Field, Layer, Severity
from analyzer.pipeline import default_registry, run_chain
from analyzer.registry import Next, PduNeed, Registry

DEFAULT_DIRECTION_CAP = 10 * 1024 * 1024
DEFAULT_TOTAL_CAP = 64 * 1024 * 1024
# Analysis flags after which tshark keeps a segment's payload from the application.
HELD_BACK = (
    "tcp.analysis.retransmission",
    "tcp.analysis.fast_retransmission",
    "tcp.analysis.spurious_retransmission",
    "tcp.analysis.out_of_order",
)
PREVIEW_BYTES = 36
FIN = 0x001
# One thing to do with a stretch of a segment's payload: (kind, start, length, protocol).
Step = tuple[str, int, int, str]


@dataclass(slots=True)
class _Pending:
    """One direction's PDU in progress: its bytes so far and the frames that carried them."""

    proto: str
    data: bytearray = field(default_factory=bytearray)
    pieces: list[tuple[int, int]] = field(default_factory=list)  # (frame, bytes)


@dataclass(slots=True)
class _Direction:
    next_seq: int | None = None
    pending: _Pending | None = None
    capped: bool = False


@dataclass(frozen=True, slots=True)
class _Segment:
    """What the desegmenter needs from one frame's outer TCP layer."""

    index: int  # of the TCP layer in dissection.layers
    stream: int
    key: tuple[int, str, int]  # stream, source address, source port
    seq: int
    payload_at: int
    payload: bytes
    fin: bool
    held_back: bool
    ports: tuple[int, int]


class Desegmenter:
    """The annotator (see analyzer.session.ANNOTATORS)."""

    def __init__(
        self,
        registry: Registry | None = None,
        direction_cap: int = DEFAULT_DIRECTION_CAP,
        total_cap: int = DEFAULT_TOTAL_CAP,
    ) -> None:
        self.registry = registry
        self.direction_cap = direction_cap
        self.total_cap = total_cap
        self.buffered = 0
        self._directions: dict[tuple[int, str, int], _Direction] = {}
        self._http_streams: set[int] = set()

    def annotate(self, dissection: Dissection) -> Dissection:
        segment = _segment(dissection)
        if segment is None:
            return dissection
        registry = self.registry if self.registry is not None else default_registry()
        tcp = dissection.layers[segment.index]
        apps = [layer for layer in dissection.layers[segment.index + 1 :] if layer.source == tcp.source]
        if segment.held_back:
            # tshark keeps the payload from the application: with desegmentation it shows it as
            # TCP segment data, without as nothing (data here, as the other golden groups expect).
            desegmented = segment.key in self._directions or _port_protocol(segment, registry) is not None
            kind = "part" if dissection.prefs.desegment_tcp and desegmented else "data"
            if kind == "part" or (apps and not all(layer.proto == "data" for layer in apps)):
                self._redissect(
                    dissection, segment, registry, [(kind, segment.payload_at, len(segment.payload), "data")]
                )
            return dissection
        if not dissection.prefs.desegment_tcp:
            self._not_ours(dissection, segment, registry, apps)
            return dissection
        proto = apps[0].proto if apps else ""
        known = self._directions.get(segment.key)
        if (known is None or known.pending is None) and proto not in registry.pdu_lengths:
            return dissection
        direction = known if known is not None else self._directions.setdefault(segment.key, _Direction())
        if direction.next_seq is not None and segment.seq != direction.next_seq and direction.pending:
            self._drop(direction)  # a hole: this PDU can never be completed
        direction.next_seq = segment.seq + len(segment.payload)
        steps, completed = self._plan(dissection, segment, direction, proto, registry)
        moved = [(kind, segment.payload_at + start, length, name) for kind, start, length, name in steps]
        self._redissect(dissection, segment, registry, moved, completed)
        return dissection

    # -- deciding where PDUs start and end ------------------------------------------------------

    def _plan(
        self, dissection: Dissection, segment: _Segment, direction: _Direction, proto: str, registry: Registry
    ) -> tuple[list[Step], _Pending | None]:
        """Steps for this frame ("pdu", "plain", "part", "reassembled"; offsets in the payload)."""
        payload = segment.payload
        ctx = _context(dissection, segment)
        steps: list[Step] = []
        completed: _Pending | None = None
        pos = 0
        pending = direction.pending
        if pending is not None:
            proto = pending.proto
            if (
                len(pending.data) + len(payload) > self.direction_cap
                or self.buffered + len(payload) > self.total_cap
            ):
                self._drop(direction)
                direction.capped = True
                tcp = dissection.layers[segment.index]
                tcp.problem(
                    "tcp.reassembly.capped",
                    "Reassembly buffer cap reached: the PDU in progress is dropped and this stream"
                    " is dissected segment by segment",
                    Severity.WARNING,
                    segment.payload_at,
                    len(payload),
                    group="Reassemble",
                )
                return [("plain", 0, len(payload), proto)], None
            known = len(pending.data)
            pending.data += payload
            self.buffered += len(payload)
            length = registry.pdu_lengths[proto](bytes(pending.data), ctx)
            if isinstance(length, int) and length <= len(pending.data):
                used = max(length - known, 0)
                pending.pieces.append((dissection.frame.number, used))
                steps.append(("reassembled", 0, used, proto))
                pos = used
            elif segment.fin or length is None:
                pending.pieces.append((dissection.frame.number, len(payload)))
                steps.append(("reassembled", 0, len(payload), proto))
                pos = len(payload)
            else:
                pending.pieces.append((dissection.frame.number, len(payload)))
                return [("part", 0, len(payload), proto)], None
            completed = pending
            self._drop(direction)
        if direction.capped:
            if pos < len(payload):
                steps.append(("plain", pos, len(payload) - pos, proto))
            return steps, completed
        measure = registry.pdu_lengths.get(proto)
        while pos < len(payload) and measure is not None:
            length = measure(payload[pos:], ctx)
            if length is None:
                steps.append(("plain", pos, len(payload) - pos, proto))
                return steps, completed
            if isinstance(length, int) and pos + length <= len(payload) and length > 0:
                steps.append(("pdu", pos, length, proto))
                pos += length
                continue
            if isinstance(length, PduNeed) and segment.fin:
                steps.append(("pdu", pos, len(payload) - pos, proto))
                return steps, completed
            rest = payload[pos:]
            if len(rest) > self.direction_cap or self.buffered + len(rest) > self.total_cap:
                direction.capped = True
                steps.append(("plain", pos, len(rest), proto))
                return steps, completed
            direction.pending = _Pending(proto, bytearray(rest), [(dissection.frame.number, len(rest))])
            self.buffered += len(rest)
            steps.append(("part", pos, len(rest), proto))
            return steps, completed
        return steps, completed

    def _drop(self, direction: _Direction) -> None:
        if direction.pending is not None:
            self.buffered -= len(direction.pending.data)
        direction.pending = None

    # -- rebuilding the frame's application layers ----------------------------------------------

    def _redissect(
        self,
        dissection: Dissection,
        segment: _Segment,
        registry: Registry,
        steps: list[Step],
        reassembled: _Pending | None = None,
    ) -> None:
        tcp = dissection.layers[segment.index]
        source_data = dissection.source_data(tcp)
        # Everything after the TCP layer in its data source is redone, and so are the sources the
        # first pass derived from that payload (a de-chunked or decompressed body) with their layers.
        kept = dissection.layers[: segment.index + 1]
        first_derived = max(layer.source for layer in kept) + 1
        later = [
            layer
            for layer in dissection.layers[segment.index + 1 :]
            if layer.source != tcp.source and layer.source < first_derived
        ]
        del dissection.extra_sources[first_derived - 1 :]
        dissection.layers[:] = kept
        ctx = _context(dissection, segment)
        insert_at = _after_payload(tcp)
        for kind, start, length, proto in steps:
            if kind == "data":
                run_chain(
                    dissection,
                    source_data,
                    Next("tcp.held_back", (), start, start + length),
                    ctx,
                    registry,
                    False,
                    tcp.source,
                )
            elif kind in ("pdu", "plain"):
                if kind == "pdu" and proto in registry.pdu_sizes:
                    tcp.children.insert(insert_at, _pdu_size(length))
                    insert_at += 1
                step = Next("tcp.pdu", (proto,), start, start + length)
                run_chain(dissection, source_data, step, ctx, registry, False, tcp.source)
            elif kind == "part":
                tcp.children.insert(insert_at, _segment_data(source_data, start, length))
                insert_at += 1
            elif kind == "reassembled" and reassembled is not None:
                tcp.children.insert(insert_at, _segment_data(source_data, start, length))
                insert_at += 1
                self._reassembled(dissection, reassembled, ctx, registry)
        dissection.layers.extend(later)
        _set_protocols(dissection, ctx.protocols)

    def _reassembled(
        self, dissection: Dissection, pdu: _Pending, ctx: PacketContext, registry: Registry
    ) -> None:
        used = sum(size for _, size in pdu.pieces)
        data = bytes(pdu.data[:used])
        source = dissection.add_source(f"Reassembled TCP ({len(data)} bytes)", data)
        pieces = [(frame, size) for frame, size in pdu.pieces if size > 0]
        listing = ", ".join(f"#{frame}({size})" for frame, size in pieces)
        count = len(pieces)
        label = f"[{count} Reassembled TCP Segment{'' if count == 1 else 's'} ({len(data)} bytes): {listing}]"
        layer = Layer("tcp.segments", label, 0, len(data), short_name="TCP", source=source)
        node = layer.add(Field("tcp.segments", label, None, "", 0, len(data), generated=True))
        at = 0
        for frame, size in pieces:
            node.add(
                Field(
                    "tcp.segment",
                    f"[Frame: {frame}, payload: {at}-{at + size - 1} ({size} {_bytes(size)})]",
                    frame,
                    str(frame),
                    at,
                    size,
                    generated=True,
                )
            )
            at += size
        node.add(
            Field("tcp.segment.count", f"[Segment count: {count}]", count, str(count), -1, 0, generated=True)
        )
        node.add(
            Field(
                "tcp.reassembled.length",
                f"[Reassembled TCP length: {len(data)}]",
                len(data),
                str(len(data)),
                -1,
                0,
                generated=True,
            )
        )
        preview = data[:PREVIEW_BYTES].hex() + ("\u2026" if len(data) > PREVIEW_BYTES else "")
        node.add(
            Field(
                "tcp.reassembled.data",
                f"[Reassembled TCP Data: {preview}]",
                data,
                data.hex(),
                0,
                len(data),
                generated=True,
            )
        )
        # tshark prints the listing as a top-level item between TCP and the application.
        layer.children = node.children
        dissection.layers.append(layer)
        run_chain(dissection, data, Next("tcp.pdu", (pdu.proto,), 0, len(data)), ctx, registry, False, source)

    def _not_ours(
        self, dissection: Dissection, segment: _Segment, registry: Registry, apps: list[Layer]
    ) -> None:
        """Without desegmentation: HTTP continuation bytes in a stream that never spoke HTTP are data."""
        http = [layer for layer in apps if layer.proto == "http"]
        if not http:
            return
        if any(layer.find("http.chat") is not None for layer in http):  # a start line was seen
            self._http_streams.add(segment.stream)
            self._split_messages(dissection, segment, registry)
            return
        if segment.stream not in self._http_streams:
            self._redissect(
                dissection, segment, registry, [("data", segment.payload_at, len(segment.payload), "data")]
            )

    def _split_messages(self, dissection: Dissection, segment: _Segment, registry: Registry) -> None:
        """Without desegmentation tshark still dissects every whole HTTP message of one segment
        (pipelined requests, a response and the next one) and the rest as one more HTTP PDU."""
        measure = registry.pdu_lengths.get("http")
        if measure is None:
            return
        ctx = _context(dissection, segment)
        payload = segment.payload
        steps: list[Step] = []
        pos = 0
        while pos < len(payload):
            length = measure(payload[pos:], ctx)
            if not isinstance(length, int) or length <= 0 or pos + length >= len(payload):
                break
            steps.append(("plain", segment.payload_at + pos, length, "http"))
            pos += length
        if not steps:
            return
        steps.append(("plain", segment.payload_at + pos, len(payload) - pos, "http"))
        self._redissect(dissection, segment, registry, steps)


def _bytes(size: int) -> str:
    return "byte" if size == 1 else "bytes"


def _port_protocol(segment: _Segment, registry: Registry) -> str | None:
    """The desegmenting protocol bound to one of the segment's ports, lower port first."""
    table = registry.tables.get("tcp.port", {})
    for port in sorted(segment.ports):
        name = table.get(port)
        if name is not None and name in registry.pdu_lengths:
            return name
    return None


def _segment(dissection: Dissection) -> _Segment | None:
    index = next(
        (i for i, found in enumerate(dissection.layers) if found.proto == "tcp" and found.depth == 0), -1
    )
    if index < 0:
        return None
    layer = dissection.layers[index]
    payload = layer.find("tcp.payload")
    stream = layer.find("tcp.stream")
    seq = layer.find("tcp.seq")
    flags = layer.find("tcp.flags")
    sport, dport = layer.find("tcp.srcport"), layer.find("tcp.dstport")
    if (
        payload is None
        or not isinstance(payload.value, bytes)
        or stream is None
        or not isinstance(stream.value, int)
        or seq is None
        or not isinstance(seq.value, int)
        or sport is None
        or dport is None
        or not isinstance(sport.value, int)
        or not isinstance(dport.value, int)
    ):
        return None
    src = ""
    for below in reversed(dissection.layers[:index]):
        if below.proto in ("ip", "ipv6"):
            found = below.find(f"{below.proto}.src")
            src = str(found.value) if found is not None else ""
            break
    held = any(layer.find(name) is not None for name in HELD_BACK)
    fin = flags is not None and isinstance(flags.value, int) and bool(flags.value & FIN)
    return _Segment(
        index,
        stream.value,
        (stream.value, src, sport.value),
        seq.value,
        payload.offset,
        payload.value,
        fin,
        held,
        (sport.value, dport.value),
    )


def _context(dissection: Dissection, segment: _Segment) -> PacketContext:
    ctx = PacketContext(frame=dissection.frame, prefs=dissection.prefs)
    ctx.ip_proto = 6
    ctx.src_port, ctx.dst_port = segment.ports
    chain = dissection.protocols.split(":")
    names = chain[: chain.index("tcp") + 1] if "tcp" in chain else chain
    ctx.protocols = list(names)
    return ctx


def _after_payload(tcp: Layer) -> int:
    for position, item in enumerate(tcp.children):
        if item.name == "tcp.payload":
            return position + 1
    return len(tcp.children)


def _segment_data(data: bytes, start: int, length: int) -> Field:
    raw = data[start : start + length]
    plural = "" if length == 1 else "s"
    return Field(
        "tcp.segment_data", f"TCP segment data ({length} byte{plural})", raw, raw.hex(), start, len(raw)
    )


def _pdu_size(length: int) -> Field:
    return Field("tcp.pdu.size", f"[PDU Size: {length}]", length, str(length), -1, 0, generated=True)


def _set_protocols(dissection: Dissection, names: list[str]) -> None:
    kept = [name for name in names if name not in ("frame", "pkt_comment")]
    # Several PDUs of one protocol in a segment show it once, as tshark's frame.protocols does.
    chain = ":".join(name for index, name in enumerate(kept) if index == 0 or kept[index - 1] != name)
    for layer in dissection.layers:
        if layer.proto != "frame":
            continue
        for item in layer.children:
            if item.name == "frame.protocols":
                item.value = item.show = chain
                item.label = f"[Protocols in frame: {chain}]"
        return
