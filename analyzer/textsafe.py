"""Escaping of packet-derived text before it reaches a terminal, a text file or a field cell.

Packet bytes are hostile: a label may carry ESC sequences that recolour or rewrite the user's
terminal, carriage returns that overwrite a line, or bidirectional overrides that reorder it.
Every text output passes its packet-derived strings through one of these tables.

- `escape_label` renders text the way tshark 4.0's `format_text` does in `-V` trees and summary
  lines: \\a \\b \\t \\n \\v \\f \\r by name, other C0 controls and DEL as octal (`\\033`), C1
  controls as `\\u0085`. Backslashes are left alone, as tshark leaves them, so escaping twice
  changes nothing (the output has no control characters left).
- `escape_field` renders a `-T fields` cell: tshark escapes only \\t \\n \\r there and prints
  other controls raw; we keep its three escapes and show every other control as `\\xNN`.

Both also escape Unicode bidirectional overrides and isolates (tshark prints them raw), since
they can make a line read differently from the bytes it holds.
"""

from __future__ import annotations

import re

_NAMED = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}
_BIDI = [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]


def _label_table() -> dict[int, str]:
    table = {code: _NAMED.get(code, f"\\{code:03o}") for code in range(0x20)}
    table[0x7F] = "\\177"
    table.update({code: f"\\u{code:04x}" for code in range(0x80, 0xA0)})
    table.update({code: f"\\u{code:04x}" for code in _BIDI})
    return table


def _field_table() -> dict[int, str]:
    table = {code: f"\\x{code:02x}" for code in [*range(0x20), 0x7F, *range(0x80, 0xA0)]}
    table.update({9: "\\t", 10: "\\n", 13: "\\r"})
    table.update({code: f"\\u{code:04x}" for code in _BIDI})
    return table


_LABEL = _label_table()
_FIELD = _field_table()
# For whole lines written by other modules: everything but the line feed that ends them.
_LINES = {code: text for code, text in _LABEL.items() if code != 10}


def _finder(table: dict[int, str]) -> re.Pattern[str]:
    """A regex matching any character the table rewrites: a C-speed test for the clean case."""
    return re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(table)) + "]")


# Almost all text is clean; searching first avoids translate's per-character dict lookups.
_LABEL_FINDER = _finder(_LABEL)
_FIELD_FINDER = _finder(_FIELD)
_LINES_FINDER = _finder(_LINES)


def escape_label(text: str) -> str:
    """A tree label or summary column, escaped as tshark's `-V` output shows it."""
    return text.translate(_LABEL) if _LABEL_FINDER.search(text) else text


def escape_field(text: str) -> str:
    """A `-T fields` cell: tab, newline and CR escaped as tshark does, other controls as \\xNN."""
    return text.translate(_FIELD) if _FIELD_FINDER.search(text) else text


def escape_lines(text: str) -> str:
    """Text made of whole lines: escape like `escape_label` but keep the line feeds."""
    return text.translate(_LINES) if _LINES_FINDER.search(text) else text


def is_safe(text: str) -> bool:
    """True when `text` has nothing a terminal would interpret (besides line feeds)."""
    return _LINES_FINDER.search(text) is None
