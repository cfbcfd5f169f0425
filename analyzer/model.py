"""The dissection model: Field, Layer, Problem and Dissection, shared by dissectors and front ends."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum

from analyzer.context import Preferences
from captures.frame import Frame

# A decoded value as filters and JSON see it. Addresses are kept as their text form
# ("10.0.0.1", "00:11:22:33:44:55", "fe80::1"); byte strings as bytes.
Value = int | float | bool | str | bytes | None


class Severity(IntEnum):
    """Wireshark's expert-info severities, in increasing order."""

    COMMENT = 0  # a packet comment shown as expert info
    CHAT = 1
    NOTE = 2
    WARNING = 3
    ERROR = 4

    @property
    def label(self) -> str:
        return {0: "Comment", 1: "Chat", 2: "Note", 3: "Warning", 4: "Error"}[self.value]


@dataclass(slots=True)
class Problem:
    """A non-fatal finding about a layer: stable dotted code, severity, message, byte range.

    `offset` is -1 for findings that are not about particular bytes; `about` may then name the
    byte-less field the finding belongs under (a packet comment's expert item).
    """

    code: str
    severity: Severity
    message: str
    offset: int = -1
    length: int = 0
    group: str = "Malformed"
    about: Field | None = None


@dataclass(slots=True)
class Field:
    """A decoded value tied to a byte range of the frame.

    `name` is the Wireshark display-filter name ("" for a text-only node), `label` the whole
    tree line as Wireshark shows it, `show` the value as `tshark -T fields` prints it.
    `offset` is absolute in the frame; -1 means a derived field with no bytes of its own.
    `mask` is non-zero for sub-byte fields. `generated` marks Wireshark's `[...]` fields.
    """

    name: str
    label: str
    value: Value
    show: str
    offset: int
    length: int
    mask: int = 0
    generated: bool = False
    hidden: bool = False
    children: list[Field] = field(default_factory=list)

    def add(self, child: Field) -> Field:
        self.children.append(child)
        return child

    def walk(self) -> Iterator[Field]:
        """This field and all its descendants, depth first, in tree order."""
        yield self
        if self.children:
            yield from _walk_fields(self.children)


def _walk_fields(fields: list[Field]) -> Iterator[Field]:
    """Depth-first, in tree order, with an explicit stack (nested generators cost a lot here)."""
    stack = fields[::-1]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        yield item
        if item.children:
            extend(item.children[::-1])


@dataclass(slots=True)
class Layer:
    """One protocol's slice of a frame: its fields, its problems and its byte range.

    `proto` is the filter name of the protocol ("eth", "ip", "tcp"); `label` the tree line
    ("Internet Protocol Version 4, Src: 10.0.0.1, Dst: 10.0.0.2"). `depth` is 0 for the
    ordinary stack and 1+ for layers nested inside another, such as the packet an ICMP error
    quotes, which Wireshark shows inside the ICMP tree.

    The range (`offset`, `length`) is the layer's whole PDU: its header, the payload it
    hands to the next layer, and any trailer it records (Ethernet padding). A dissector may
    narrow it to the length its header declares, never below the bytes of its own fields;
    the pipeline widens it to cover the payload handed on. Every field lies inside it.
    """

    proto: str
    label: str
    offset: int
    length: int
    children: list[Field] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    depth: int = 0
    # Short protocol name for the Protocol column ("TCP", "ARP", "ICMPv6").
    short_name: str = ""
    # Which of the dissection's data sources the offsets of this layer's fields refer to:
    # 0 is the frame; reassembled datagrams and streams are added as further sources.
    source: int = 0

    def add(self, child: Field) -> Field:
        self.children.append(child)
        return child

    def problem(
        self,
        code: str,
        message: str,
        severity: Severity = Severity.WARNING,
        offset: int = -1,
        length: int = 0,
        group: str = "Malformed",
    ) -> Problem:
        found = Problem(code, severity, message, offset, length, group)
        self.problems.append(found)
        return found

    def walk(self) -> Iterator[Field]:
        """Every field of this layer, depth first, in tree order."""
        return _walk_fields(self.children)

    def first_fields(self) -> dict[str, Field]:
        """Each field name's first occurrence: one walk for many look-ups."""
        found: dict[str, Field] = {}
        setdefault = found.setdefault
        for item in _walk_fields(self.children):
            setdefault(item.name, item)
        return found

    def find(self, name: str) -> Field | None:
        """The first field with this filter name, or None."""
        # The walk inlined (no generator): annotators call this on every packet.
        stack = self.children[::-1]
        pop, extend = stack.pop, stack.extend
        while stack:
            item = pop()
            if item.name == name:
                return item
            if item.children:
                extend(item.children[::-1])
        return None

    @property
    def end(self) -> int:
        return self.offset + self.length


@dataclass(slots=True, frozen=True)
class DataSource:
    """Bytes that fields can point into besides the frame: a reassembled datagram or PDU.

    `name` is how Wireshark titles it in the bytes pane ("Reassembled TCP (2920 bytes)").
    """

    name: str
    data: bytes


@dataclass(slots=True)
class Dissection:
    """A frame and its layers, in the order they were dissected: what `-V` and JSON show.

    `sources[0]` is always the frame's own bytes; a Layer's `source` indexes this list.
    """

    frame: Frame
    layers: list[Layer] = field(default_factory=list)
    extra_sources: list[DataSource] = field(default_factory=list)
    # The preferences the frame was dissected with, for the stateful steps that run after it
    # (defragmentation, desegmentation) and dissect reassembled bytes the same way.
    prefs: Preferences = field(default_factory=Preferences)

    @property
    def sources(self) -> list[DataSource]:
        frame = DataSource(f"Frame ({self.frame.cap_len} bytes)", self.frame.data)
        return [frame, *self.extra_sources]

    def add_source(self, name: str, data: bytes) -> int:
        """Register reassembled bytes; returns the index layers use as their `source`."""
        self.extra_sources.append(DataSource(name, data))
        return len(self.extra_sources)

    def source_data(self, layer: Layer) -> bytes:
        """The bytes a layer's field offsets refer to."""
        return self.frame.data if layer.source == 0 else self.extra_sources[layer.source - 1].data

    def walk(self) -> Iterator[Field]:
        for layer in self.layers:
            yield from _walk_fields(layer.children)

    def values(self, name: str) -> list[Field]:
        """Every occurrence of a field, in tree order (tshark's `-e` semantics)."""
        return [item for item in self.walk() if item.name == name]

    def first(self, name: str) -> Field | None:
        for item in self.walk():
            if item.name == name:
                return item
        return None

    def layer(self, proto: str) -> Layer | None:
        for layer in self.layers:
            if layer.proto == proto:
                return layer
        return None

    @property
    def problems(self) -> list[Problem]:
        return [found for layer in self.layers for found in layer.problems]

    @property
    def protocols(self) -> str:
        """The `frame.protocols` string, e.g. "eth:ethertype:ip:tcp"."""
        found = self.first("frame.protocols")
        return str(found.value) if found is not None else ""
