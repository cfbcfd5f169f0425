"""The packet tree as `tshark -V` prints it, with problems where tshark puts its expert info.

Layout (tshark 4.0's print.c): a layer's label at the layer's own indentation, its fields four
spaces deeper per level; a nested layer (`Layer.depth` > 0, e.g. the packet an ICMP error
quotes) is indented under its parent. Hidden fields and their subtrees are not printed. The
`data` protocol is followed by a blank line and a hex dump of its bytes unless the caller prints
the whole frame in hex anyway (`-V -x`).

Problems are printed as expert info:

- a snaplen cut found by the pipeline (`<proto>.truncated`) becomes tshark's top-level
  `[Packet size limited during capture: TCP truncated]` line after all layers;
- a read past the protocol's own end (`<proto>.malformed`) becomes `[Malformed Packet: TCP]`
  with its expert info, and a contained dissector failure `[Dissector bug, protocol X: ...]`;
- any other problem becomes `[Expert Info (Severity/Group): message]` under the field that
  covers exactly its bytes (preferring the field whose name the problem code mentions), or at
  the end of its layer when no field does.
"""

from __future__ import annotations

from collections.abc import Iterator

from analyzer.export.hexdump import hexdump_lines
from analyzer.model import Dissection, Field, Layer, Problem, Severity
from analyzer.textsafe import escape_label

INDENT = "    "


def expert_lines(problem: Problem, level: int, message: str | None = None) -> Iterator[str]:
    """tshark's four expert-info lines for one problem."""
    text = escape_label(problem.message if message is None else message)
    severity = problem.severity.label
    yield f"{INDENT * level}[Expert Info ({severity}/{problem.group}): {text}]"
    yield f"{INDENT * (level + 1)}[{text}]"
    yield f"{INDENT * (level + 1)}[Severity level: {severity}]"
    yield f"{INDENT * (level + 1)}[Group: {problem.group}]"


def _is_snaplen_cut(layer: Layer, problem: Problem) -> bool:
    return problem.code == f"{layer.proto}.truncated" and problem.message.startswith(
        "Packet size limited during capture"
    )


def _is_malformed(layer: Layer, problem: Problem) -> bool:
    return problem.code == f"{layer.proto}.malformed" and problem.severity is Severity.ERROR


def _is_bug(layer: Layer, problem: Problem) -> bool:
    return problem.code == f"{layer.proto}.dissector_bug"


def _short(layer: Layer) -> str:
    return layer.short_name or layer.proto.upper()


def trailing_lines(layer: Layer, problem: Problem) -> list[str]:
    """The top-level pseudo-items tshark adds after the layers for a frame-level problem."""
    if _is_snaplen_cut(layer, problem):
        return [f"[{escape_label(problem.message)}]"]
    if _is_malformed(layer, problem):
        return [
            f"[Malformed Packet: {escape_label(_short(layer))}]",
            *expert_lines(problem, 1, "Malformed Packet (Exception occurred)"),
        ]
    return [
        f"[Dissector bug, protocol {escape_label(_short(layer))}: {escape_label(problem.message)}]",
        *expert_lines(problem, 1),
    ]


def anchor_field(layer: Layer, problem: Problem) -> Field | None:
    """The visible field a problem belongs under: the one it is about, else the one with the same
    bytes (the one whose name the code mentions if several)."""
    if problem.about is not None and (not problem.about.hidden or problem.offset < 0):
        # A byte-less finding about a hidden field (TCP analysis's expert items) stands where
        # that field would be printed.
        return problem.about
    if problem.offset < 0:
        return None
    candidates = [
        item
        for item in layer.walk()
        if item.offset == problem.offset and item.length == problem.length and not item.hidden and item.name
    ]
    if not candidates:
        return None
    code_tail = problem.code.partition(".")[2]
    last_word = problem.code.rpartition(".")[2]

    def score(index: int) -> tuple[bool, bool, bool, int]:
        # Bit fields share their bytes: "tcp.connection.synack" belongs under tcp.flags.syn
        # (its last word starts with the field's), "ip.bad_hdr_len" under ip.hdr_len (named in
        # the code); failing that, a flag that is set ("tcp.connection.rst": Reset), then the last.
        item = candidates[index]
        tail = item.name.rpartition(".")[2]
        return (
            bool(tail) and (last_word.startswith(tail) or tail.startswith(last_word)),
            bool(tail) and tail in code_tail,
            item.value is True,
            index,
        )

    return candidates[max(range(len(candidates)), key=score)]


def _field_lines(item: Field, level: int, experts: dict[int, list[Problem]]) -> Iterator[str]:
    if item.hidden:
        for problem in experts.get(id(item), ()):
            yield from expert_lines(problem, level)
        return
    yield f"{INDENT * level}{escape_label(item.label)}"
    for child in item.children:
        yield from _field_lines(child, level + 1, experts)
    for problem in experts.get(id(item), ()):
        yield from expert_lines(problem, level + 1)


def layer_lines(layer: Layer, frame_data: bytes, data_hex: bool, trailing: list[str]) -> Iterator[str]:
    """One layer's section; frame-level problems are appended to `trailing` instead."""
    level = layer.depth
    yield f"{INDENT * level}{escape_label(layer.label)}"
    if data_hex and layer.proto == "data":
        yield ""
        yield from hexdump_lines(frame_data[layer.offset : layer.offset + layer.length])
    experts: dict[int, list[Problem]] = {}
    loose: list[Problem] = []
    for problem in layer.problems:
        if _is_snaplen_cut(layer, problem) or _is_malformed(layer, problem) or _is_bug(layer, problem):
            trailing.extend(trailing_lines(layer, problem))
            continue
        anchor = anchor_field(layer, problem)
        if anchor is None:
            loose.append(problem)
        else:
            experts.setdefault(id(anchor), []).append(problem)
    for child in layer.children:
        yield from _field_lines(child, level + 1, experts)
    for problem in loose:
        yield from expert_lines(problem, level + 1)


def tree_lines(dissection: Dissection, data_hex: bool = True) -> Iterator[str]:
    """Every line of one packet's `-V` tree (without the blank line that follows it)."""
    trailing: list[str] = []
    for layer in dissection.layers:
        yield from layer_lines(layer, dissection.source_data(layer), data_hex, trailing)
    yield from trailing


def tree_text(dissection: Dissection, data_hex: bool = True) -> str:
    return "".join(f"{line}\n" for line in tree_lines(dissection, data_hex))
