"""Field values as `tshark -T fields -e NAME` prints them, with its occurrence and aggregator rules."""

from __future__ import annotations

from analyzer.model import Dissection


def field_text(dissection: Dissection, name: str, occurrence: str = "a", aggregator: str = ",") -> str:
    """The cell tshark would print for `name` in this frame.

    `occurrence` is "a" (all, joined by `aggregator`), "f" (first), "l" (last) or a
    1-based occurrence number, as tshark's `-E occurrence=`.
    """
    shown = [item.show for item in dissection.walk() if item.name == name]
    if not shown:
        return ""
    if occurrence == "f":
        return shown[0]
    if occurrence == "l":
        return shown[-1]
    if occurrence.isdigit():
        index = int(occurrence)
        return shown[index - 1] if 0 < index <= len(shown) else ""
    return aggregator.join(shown)
