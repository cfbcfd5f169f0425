"""Registry: dispatch tables keyed like filter prefixes, content heuristics and decode-as."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum

from analyzer.context import PacketContext
from analyzer.cursor import ByteCursor
from analyzer.model import Layer

Key = int | str


@dataclass(slots=True, frozen=True)
class Next:
    """Where dissection goes after a layer: a table, candidate keys in order, a byte range.

    `keys` are tried in order (a TCP segment offers its lower port first, as Wireshark
    does). `nested` makes the following layers children of this one (an ICMP error's
    quoted packet). `trailer` names the field ("eth.padding") that records bytes of this
    range the next layer does not claim. Where the next layer shows in the tree otherwise
    follows Wireshark's calls: `inside` puts it under this layer without starting a quoted
    packet (ICMP echo data); `at_root` puts it back at the top level (UDP hands its payload
    to the root of the tree, so a quoted datagram's payload shows after the ICMP tree).
    """

    table: str
    keys: tuple[Key, ...]
    offset: int
    end: int
    nested: bool = False
    trailer: str | None = None
    inside: bool = False
    at_root: bool = False
    # Bytes derived from this layer (a de-chunked or decompressed HTTP body): when set, the next
    # layers read `data` instead, as a new data source of the dissection named `source_name`,
    # and `offset`/`end` refer to it.
    data: bytes | None = None
    source_name: str = ""
    # Sources derived on the way to `data` (a de-chunked body before it is decompressed), as
    # (name, bytes): registered first, so the frame's sources list every step, as tshark's do.
    steps_before: tuple[tuple[str, bytes], ...] = ()


Dissect = Callable[[ByteCursor, Layer, PacketContext], "Next | None"]
Heuristic = Callable[[bytes, int, int, PacketContext], bool]


class PduNeed(Enum):
    """A `pdu_length` answer: the bytes so far do not yet tell how long the PDU is."""

    NEED_MORE = "need more"


NEED_MORE = PduNeed.NEED_MORE
# How long the application PDU starting at data[0] is, for TCP desegmentation: its length in
# bytes (possibly more than len(data)), NEED_MORE when the bytes so far cannot tell, or None when
# the bytes are not this protocol's (they are then dissected as they are, not reassembled).
PduLength = Callable[[bytes, PacketContext], "int | PduNeed | None"]


@dataclass(slots=True, frozen=True)
class Protocol:
    """A dissector and the names it goes by."""

    name: str  # filter name: "tcp"
    short: str  # Protocol column: "TCP"
    title: str  # tree label when the dissector does not set one
    dissect: Dissect


class DecodeAsError(ValueError):
    """A `-d` argument that does not parse or names an unknown table or protocol."""


@dataclass(slots=True)
class Registry:
    """Binding as data: tables of key -> protocol name, heuristics, and user overrides."""

    protocols: dict[str, Protocol] = field(default_factory=dict)
    tables: dict[str, dict[Key, str]] = field(default_factory=dict)
    heuristics: dict[str, list[tuple[str, Heuristic]]] = field(default_factory=dict)
    decode_as: dict[tuple[str, Key], str] = field(default_factory=dict)
    # TCP desegmentation (analyzer.state.desegment): protocol name -> how long its PDU is.
    pdu_lengths: dict[str, PduLength] = field(default_factory=dict)
    # Protocols whose PDUs tshark frames with tcp_dissect_pdus, which shows "[PDU Size: N]".
    pdu_sizes: set[str] = field(default_factory=set)

    def add_protocol(self, protocol: Protocol) -> None:
        self.protocols[protocol.name] = protocol

    def bind(self, table: str, key: Key, name: str) -> None:
        self.tables.setdefault(table, {})[key] = name

    def bind_many(self, table: str, keys: Iterable[Key], name: str) -> None:
        for key in keys:
            self.bind(table, key, name)

    def add_heuristic(self, table: str, name: str, test: Heuristic) -> None:
        self.heuristics.setdefault(table, []).append((name, test))

    def add_pdu_length(self, name: str, length: PduLength, show_pdu_size: bool = False) -> None:
        """Ask for TCP desegmentation of `name`: its PDUs are reassembled across segments.

        The desegmenter dissects each PDU through the "tcp.pdu" table, keyed by protocol name.
        """
        self.pdu_lengths[name] = length
        self.bind("tcp.pdu", name, name)
        if show_pdu_size:
            self.pdu_sizes.add(name)

    def with_decode_as(self, specs: Iterable[str]) -> Registry:
        """A copy with tshark-style overrides such as "tcp.port==8888,http" applied."""
        copy = Registry(
            dict(self.protocols),
            {table: dict(keys) for table, keys in self.tables.items()},
            {table: list(tests) for table, tests in self.heuristics.items()},
            dict(self.decode_as),
            dict(self.pdu_lengths),
            set(self.pdu_sizes),
        )
        for spec in specs:
            table, key, name = parse_decode_as(spec)
            if table not in copy.tables:
                known = ", ".join(sorted(copy.tables))
                raise DecodeAsError(f"unknown decode-as table {table!r} (known: {known})")
            if name not in copy.protocols:
                raise DecodeAsError(f"unknown protocol {name!r} in decode-as {spec!r}")
            copy.decode_as[(table, key)] = name
        return copy

    def resolve(self, step: Next, data: bytes, ctx: PacketContext) -> Protocol | None:
        """The protocol for a step: overrides, then exact keys in order, then heuristics."""
        for key in step.keys:
            name = self.decode_as.get((step.table, key))
            if name is not None:
                return self.protocols[name]
        table = self.tables.get(step.table, {})
        for key in step.keys:
            name = table.get(key)
            if name is not None and name in self.protocols:
                return self.protocols[name]
        for name, test in self.heuristics.get(step.table, ()):
            if name in self.protocols and test(data, step.offset, min(step.end, len(data)), ctx):
                return self.protocols[name]
        return None


def parse_decode_as(spec: str) -> tuple[str, Key, str]:
    """Split "tcp.port==8888,http" into ("tcp.port", 8888, "http")."""
    selector, sep, name = spec.partition(",")
    table, eq, raw_key = selector.partition("==")
    if not sep or not eq or not table.strip() or not raw_key.strip() or not name.strip():
        raise DecodeAsError(f"bad decode-as {spec!r}: expected TABLE==VALUE,PROTOCOL")
    raw_key = raw_key.strip()
    key: Key
    try:
        key = int(raw_key, 0)
    except ValueError:
        key = raw_key
    return table.strip(), key, name.strip().lower()
