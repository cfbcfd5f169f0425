"""The bytes pane: offset, hex and ASCII of one data source, highlighting the selected node's bytes.

A Line API widget: a 64 KiB packet is 4,096 lines, of which only the visible ones are drawn.
Only printable ASCII reaches the screen; every other byte is shown as "." (packet bytes are
never written raw). Clicking a byte posts `ByteClicked`; the app selects the smallest field
that covers it.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from textual.binding import Binding, BindingType
from textual.events import Click, Resize
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from analyzer.textsafe import escape_label

_PRINTABLE = bytes(range(0x20, 0x7F))
# Byte -> the character the ASCII column shows for it.
ASCII_COLUMN = "".join(chr(b) if b in _PRINTABLE else "." for b in range(256))
_HEX = [f"{b:02x}" for b in range(256)]


class HexPane(ScrollView, can_focus=True):
    """Hex + ASCII of `data`; `highlight` is an (offset, length) range within it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "scroll_up", "Up", show=False),
        Binding("down,j", "scroll_down", "Down", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"hex-pane--offset", "hex-pane--highlight", "hex-pane--title"}
    DEFAULT_CSS = """
    HexPane > .hex-pane--offset { color: $text-muted; }
    HexPane > .hex-pane--highlight { background: $accent; color: $text; text-style: bold; }
    HexPane > .hex-pane--title { color: $text-muted; text-style: italic; }
    """

    class ByteClicked(Message):
        def __init__(self, offset: int) -> None:
            super().__init__()
            self.offset = offset

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.data = b""
        self.title = ""
        self.highlight = (0, 0)

    @property
    def per_line(self) -> int:
        """16 bytes a line when the pane is wide enough, 8 when narrow."""
        return 16 if self.size.width >= 76 or self.size.width == 0 else 8

    @property
    def _header_lines(self) -> int:
        return 1 if self.title else 0

    def show(self, data: bytes, title: str = "") -> None:
        """Show other bytes (another packet, or a reassembled source named `title`)."""
        if data is not self.data or title != self.title:
            self.data = data
            self.title = title
            self.highlight = (0, 0)
            self.scroll_to(y=0, animate=False, immediate=True)
            self._update_size()
        self.refresh()

    def set_highlight(self, offset: int, length: int) -> None:
        """Highlight bytes [offset, offset + length) and scroll them into view."""
        if offset < 0 or length <= 0:
            self.highlight = (0, 0)
        else:
            self.highlight = (offset, min(length, max(len(self.data) - offset, 0)))
            line = offset // self.per_line + self._header_lines
            visible = max(self.size.height, 1)
            top = round(self.scroll_y)
            if not top <= line < top + visible:
                self.scroll_to(y=max(line - visible // 3, 0), animate=False, immediate=True)
        self.refresh()

    def _update_size(self) -> None:
        lines = (len(self.data) + self.per_line - 1) // self.per_line + self._header_lines
        self.virtual_size = Size(self.per_line * 4 + 9, lines)

    def on_resize(self, event: Resize) -> None:
        self._update_size()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        line = scroll_y + y
        if self.title and line == 0:
            style = self.get_component_rich_style("hex-pane--title")
            return Strip([Segment(escape_label(self.title), style)]).crop(scroll_x, scroll_x + width)
        line -= self._header_lines
        per_line = self.per_line
        start = line * per_line
        if line < 0 or start >= len(self.data):
            return Strip.blank(width, self.rich_style)
        chunk = self.data[start : start + per_line]
        base = self.rich_style
        mark = base + self.get_component_rich_style("hex-pane--highlight")
        low, high = self.highlight[0], self.highlight[0] + self.highlight[1]
        segments = [Segment(f"{start:04x}  ", base + self.get_component_rich_style("hex-pane--offset"))]
        hex_parts: list[Segment] = []
        text_parts: list[Segment] = []
        for i, byte in enumerate(chunk):
            at = start + i
            style = mark if low <= at < high else base
            # The gap after a byte is highlighted only inside the range, so a range reads as one block.
            gap_style = mark if low <= at < high - 1 and i != per_line - 1 else base
            hex_parts.append(Segment(_HEX[byte], style))
            hex_parts.append(Segment(" ", gap_style))
            if i == 7 and per_line == 16:
                hex_parts.append(Segment(" ", gap_style))
            text_parts.append(Segment(ASCII_COLUMN[byte], style))
        padding = per_line - len(chunk)
        filler = " " * (padding * 3 + (1 if per_line == 16 and len(chunk) <= 8 else 0))
        segments += [*hex_parts, Segment(filler + " ", base), *text_parts]
        return (
            Strip(Segment.simplify(segments)).crop(scroll_x, scroll_x + width).extend_cell_length(width, base)
        )

    def byte_at(self, x: int, y: int) -> int:
        """The byte offset under content cell (x, y), or -1."""
        per_line = self.per_line
        line = round(self.scroll_y) + y - self._header_lines
        x += round(self.scroll_x)
        if line < 0:
            return -1
        hex_start = 6
        hex_end = hex_start + per_line * 3 + (1 if per_line == 16 else 0)
        ascii_start = hex_end + 1
        column = -1
        if hex_start <= x < hex_end:
            cell = x - hex_start
            if per_line == 16 and cell >= 24:
                cell -= 1
            column = cell // 3
        elif ascii_start <= x < ascii_start + per_line:
            column = x - ascii_start
        if not 0 <= column < per_line:
            return -1
        at = line * per_line + column
        return at if at < len(self.data) else -1

    def on_click(self, event: Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        at = self.byte_at(offset.x, offset.y)
        if at >= 0:
            self.post_message(self.ByteClicked(at))
