"""Search in the packet list (ctrl+f, then n / N): a string, a regular expression (`re:` prefix)
or hex bytes (`hex:` or `0x` prefix) looked for in each packet's bytes and its tree's labels.

A search walks the displayed rows from the cursor (wrapping) in a worker; labels need a
dissection per packet, so the bytes are tried first and the tree only when they do not match.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from analyzer.index import PacketIndex

HELP = "Search packets for: text, re:REGEX or hex:0a0b (Esc cancels)"


class BadQuery(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What to look for: `needle` in the bytes, `pattern` in the bytes (latin-1) and the labels."""

    text: str
    needle: bytes | None
    pattern: re.Pattern[str]

    @classmethod
    def parse(cls, text: str) -> SearchQuery:
        if text.startswith(("hex:", "0x")):
            digits = re.sub(r"[\s:.-]", "", text.split(":", 1)[1] if text.startswith("hex:") else text[2:])
            try:
                needle = bytes.fromhex(digits)
            except ValueError as bad:
                raise BadQuery(f"not hex bytes: {digits!r}") from bad
            if not needle:
                raise BadQuery("no bytes to look for")
            return cls(text, needle, re.compile(re.escape(needle.hex(" ")), re.IGNORECASE))
        if text.startswith("re:"):
            try:
                pattern = re.compile(text[3:], re.IGNORECASE)
            except re.error as bad:
                raise BadQuery(f"bad regular expression: {bad}") from bad
            return cls(text, None, pattern)
        return cls(text, text.encode("utf-8", "surrogateescape"), re.compile(re.escape(text), re.IGNORECASE))

    def in_bytes(self, data: bytes) -> bool:
        if self.needle is not None:
            return self.needle.lower() in data.lower() if self.needle.isascii() else self.needle in data
        return self.pattern.search(data.decode("latin-1")) is not None

    def in_labels(self, labels: list[str]) -> bool:
        return any(self.pattern.search(label) for label in labels)


def tree_labels(index: PacketIndex, packet: int) -> list[str]:
    """Every label of the packet's single-frame tree (what the Layers pane shows)."""
    from analyzer.pipeline import dissect_frame

    dissection = dissect_frame(index.frame(packet))
    labels: list[str] = []
    for layer in dissection.layers:
        labels.append(layer.label)
        labels.extend(item.label for item in layer.walk())
    return labels


def find_packet(
    index: PacketIndex,
    displayed: Callable[[int], int],
    count: int,
    start: int,
    step: int,
    query: SearchQuery,
    keep_going: Callable[[], bool],
) -> int:
    """The position (among `count` displayed rows, `displayed(position)` its packet) of the next
    match after `start` going by `step` (1 or -1), wrapping; -1 when none or stopped."""
    for distance in range(1, count + 1):
        position = (start + step * distance) % count
        packet = displayed(position)
        if query.in_bytes(index.data(packet)) or query.in_labels(tree_labels(index, packet)):
            return position
        if distance % 256 == 0 and not keep_going():
            return -1
    return -1


def marks_after(marked: set[int], packet: int) -> list[int]:
    """Marked packets in the order `'` visits them: after `packet`, then from the start."""
    ordered = sorted(marked)
    return [item for item in ordered if item > packet] + [item for item in ordered if item <= packet]
