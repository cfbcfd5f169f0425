"""The packet list: a Line API widget that draws only the visible rows, formatted on demand from the index.

The widget never holds a row object per packet. It knows how many packets are indexed so far
(`count`, raised by the indexing worker's messages), which of them are displayed (`rows`, an
array of 0-based packet numbers set by a filter, or None for all), and keeps a small cache of
formatted rows around the viewport. Line 0 of the widget is the column header; line y >= 1 shows
displayed row `scroll_y + y - 1`.
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from typing import ClassVar, NamedTuple

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.events import Click, Resize
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from analyzer.index import PacketIndex
from analyzer.summary import TimeColumn
from analyzer.textsafe import escape_label

# Per-packet marks found by the analysis worker (see app.AnalysisDone) or the index.
MARK_WARNING = 1
MARK_ERROR = 2
MARK_RETRANSMISSION = 4
MARK_RESET = 8

_CACHE_ROWS = 4096
_TCP_RST, _TCP_SYN, _TCP_FIN = 0x04, 0x02, 0x01

# Foreground colours by Protocol column, after Wireshark's default colouring rules but readable
# on a dark terminal background. Rows of other protocols use the default text colour.
PROTOCOL_STYLES: dict[str, Style] = {
    "TCP": Style(color="#b4a7ff"),
    "HTTP": Style(color="#9ee37d"),
    "UDP": Style(color="#7fc8ff"),
    "DNS": Style(color="#5fd7d7"),
    "DHCP": Style(color="#d7d787"),
    "ARP": Style(color="#e8c87a"),
    "ICMP": Style(color="#f0a6ff"),
    "ICMPv6": Style(color="#f0a6ff"),
}
RESET_STYLE = Style(color="#ffd7d7", bgcolor="#5f0000")
HANDSHAKE_STYLE = Style(color="#a8a8a8")
RETRANSMISSION_STYLE = Style(color="#ff5f5f", bgcolor="#262626")
PROBLEM_STYLE = Style(color="#ff5f5f", bold=True)
WARNING_STYLE = Style(color="#ffaf00")
USER_MARK_STYLE = Style(color="#ffffff", bgcolor="#000000", bold=True, reverse=True)
TIME_FORMAT_NAMES = {
    "r": "seconds since the first packet",
    "a": "absolute time of day",
    "ad": "absolute date and time",
    "d": "seconds since the previous packet",
    "dd": "seconds since the previous displayed packet",
}
TIME_FORMATS = tuple(TIME_FORMAT_NAMES)


class Row(NamedTuple):
    """One formatted row: escaped cell texts (no control characters) and its mark bits."""

    number: str
    source: str
    destination: str
    protocol: str
    length: str
    info: str
    tcp_flags: int


class PacketList(ScrollView, can_focus=True):
    """The visible rows of a capture of any size; the cursor is a position among displayed rows."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First packet", show=False),
        Binding("end,G", "last", "Last packet", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"packet-list--header", "packet-list--cursor"}
    DEFAULT_CSS = """
    PacketList > .packet-list--header { text-style: bold; background: $boost; }
    PacketList > .packet-list--cursor { background: $accent 60%; }
    PacketList:focus > .packet-list--cursor { background: $accent; }
    """

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)

    class Selected(Message):
        """The cursor is on packet `packet` (0-based), or -1 when no row is displayed."""

        def __init__(self, packet: int) -> None:
            super().__init__()
            self.packet = packet

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.index: PacketIndex | None = None
        self.count = 0  # packets indexed and safe to read
        self.rows: array[int] | None = None  # displayed packets when a filter is applied
        self.shown_count = 0  # how much of `rows` is final
        self.marks = bytearray()
        self.user_marks: set[int] = set()  # packets the user marked (`m`), shown like Wireshark's
        # TCP analysis tags ("[TCP Retransmission] ") by packet, from the app's analysis pass.
        self.tags: dict[int, str] = {}
        self.time_format = "r"
        self._cache: OrderedDict[int, Row] = OrderedDict()
        self._widths = [3, 8, 12, 12, 8, 6]
        self._last_packet = -2

    # -- data ---------------------------------------------------------------------------------

    def attach(self, index: PacketIndex) -> None:
        self.index = index
        self.count = 0
        self._cache.clear()

    def set_count(self, count: int) -> None:
        """More packets are indexed; grow the virtual size without moving the view."""
        self.count = count
        self._widths[0] = max(self._widths[0], len(str(count)))
        self._update_size()

    def set_rows(self, rows: array[int] | None, shown: int) -> None:
        """Show only `rows[:shown]` (a filter's result so far), or every packet with None."""
        keep = self.selected_packet
        self.rows, self.shown_count = rows, shown
        self._update_size()
        if keep >= 0 and rows is not None:
            position = _find(rows, shown, keep)
            self.cursor = position if position >= 0 else min(self.cursor, max(self.displayed - 1, 0))
        elif keep >= 0:
            self.cursor = keep
        self.refresh()

    def refresh_rows(self) -> None:
        """Reformat every row (name resolution or time format changed)."""
        self._cache.clear()
        self.refresh()

    @property
    def displayed(self) -> int:
        if self.rows is None:
            return self.count
        return min(self.shown_count, len(self.rows))

    def packet_at(self, position: int) -> int:
        """The 0-based packet number of displayed row `position` (no bounds check)."""
        return position if self.rows is None else self.rows[position]

    @property
    def selected_packet(self) -> int:
        if not 0 <= self.cursor < self.displayed:
            return -1
        packet = self.packet_at(self.cursor)
        return packet if packet < self.count else -1

    def go_to_packet(self, packet: int) -> bool:
        """Move the cursor to packet `packet` (0-based) if it is displayed; False otherwise."""
        if self.rows is None:
            if not 0 <= packet < self.count:
                return False
            self.cursor = packet
            return True
        position = _find(self.rows, self.displayed, packet)
        if position < 0:
            return False
        self.cursor = position
        return True

    def row(self, packet: int) -> Row:
        found = self._cache.get(packet)
        if found is not None:
            self._cache.move_to_end(packet)
            return found
        assert self.index is not None
        summary = self.index.summary(packet)
        flags = self.index.__dict__["tcp_flags"][packet] if summary.protocol in ("TCP", "HTTP") else 0
        found = Row(
            str(summary.number),
            escape_label(summary.source),
            escape_label(summary.destination),
            escape_label(summary.protocol),
            str(summary.length),
            escape_label(self.tags.get(packet, "") + summary.info),
            flags,
        )
        self._cache[packet] = found
        if len(self._cache) > _CACHE_ROWS:
            self._cache.popitem(last=False)
        return found

    def time_text(self, packet: int, position: int) -> str:
        assert self.index is not None
        stamps = self.index.__dict__["timestamp_ns"]
        digits = self.index.__dict__["ts_digits"][packet]
        clock = TimeColumn("d" if self.time_format == "dd" else self.time_format)
        clock.first = stamps[0]
        if self.time_format == "d":
            clock.previous = stamps[packet - 1] if packet else stamps[packet]
        elif self.time_format == "dd":
            before = self.packet_at(position - 1) if position else packet
            clock.previous = stamps[before]
        return clock.text(stamps[packet], digits)

    def row_style(self, packet: int, row: Row) -> Style:
        if packet in self.user_marks:
            return USER_MARK_STYLE
        mark = self.marks[packet] if packet < len(self.marks) else 0
        if mark & MARK_ERROR or "[Malformed Packet" in row.info:
            return PROBLEM_STYLE
        if mark & MARK_RETRANSMISSION:
            return RETRANSMISSION_STYLE
        if row.tcp_flags & _TCP_RST:
            return RESET_STYLE
        if mark & MARK_WARNING:
            return WARNING_STYLE
        if row.tcp_flags & (_TCP_SYN | _TCP_FIN):
            return HANDSHAKE_STYLE
        return PROTOCOL_STYLES.get(row.protocol, Style())

    # -- drawing ------------------------------------------------------------------------------

    def _update_size(self) -> None:
        width = max(sum(self._widths) + len(self._widths) + 60, self.size.width)
        self.virtual_size = Size(width, self.displayed + 1)

    def on_resize(self, event: Resize) -> None:
        self._update_size()

    def _line_text(self, cells: list[str]) -> str:
        widths = self._widths
        number, time, protocol, length = cells[0], cells[1], cells[4], cells[5]
        # Narrow terminals cut long addresses (IPv6, MACs) so the Info column stays readable.
        limit = 39 if self.size.width >= 140 else 17 if self.size.width >= 110 else 15
        source, destination = (_fit(text, limit) for text in cells[2:4])
        return (
            f"{number:>{widths[0]}} {time:>{widths[1]}} {source:<{min(widths[2], limit)}}"
            f" {destination:<{min(widths[3], limit)}}"
            f" {protocol:<{widths[4]}} {length:>{widths[5]}} {cells[6]}"
        )

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        if y == 0:
            header = ["No.", "Time", "Source", "Destination", "Protocol", "Length", "Info"]
            style = self.get_component_rich_style("packet-list--header")
            text = self._line_text(header)
            return Strip([Segment(text.ljust(scroll_x + width), style)]).crop(scroll_x, scroll_x + width)
        position = scroll_y + y - 1
        if position >= self.displayed or self.index is None:
            return Strip.blank(width, self.rich_style)
        packet = self.packet_at(position)
        if packet >= self.count:
            return Strip.blank(width, self.rich_style)
        row = self.row(packet)
        time = self.time_text(packet, position)
        self._grow(time, row)
        text = self._line_text(
            [row.number, time, row.source, row.destination, row.protocol, row.length, row.info]
        )
        style = self.rich_style + self.row_style(packet, row)
        if position == self.cursor:
            style += self.get_component_rich_style("packet-list--cursor")
        return Strip([Segment(text.ljust(scroll_x + width), style)]).crop(scroll_x, scroll_x + width)

    def _grow(self, time: str, row: Row) -> None:
        # Columns only grow, so the list never shifts sideways while scrolling back.
        wanted = [len(row.number), len(time), len(row.source), len(row.destination), len(row.protocol)]
        limits = [10, 30, 39, 39, 12]
        for i, (size, limit) in enumerate(zip(wanted, limits, strict=True)):
            if size > self._widths[i]:
                self._widths[i] = min(size, limit)
                self.call_later(self._update_size)
                self.call_later(self.refresh)

    # -- cursor -------------------------------------------------------------------------------

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, self.displayed - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_cursor_into_view()
        self.refresh()
        packet = self.selected_packet
        if packet != self._last_packet:
            self._last_packet = packet
            self.post_message(self.Selected(packet))

    def _scroll_cursor_into_view(self) -> None:
        visible = max(self.size.height - 1, 1)
        top = round(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False, immediate=True)

    def reselect(self) -> None:
        """Post Selected again even if the packet did not change (its tree must be rebuilt)."""
        self._last_packet = -2
        self.cursor = self.cursor

    def action_cursor(self, step: int) -> None:
        self.cursor += step

    def action_page(self, direction: int) -> None:
        self.cursor += direction * max(self.size.height - 2, 1)

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = max(self.displayed - 1, 0)

    def on_click(self, event: Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        self.cursor = round(self.scroll_y) + offset.y - 1

    def line_text(self, position: int) -> str:
        """The plain text of displayed row `position`, as shown (for copying)."""
        packet = self.packet_at(position)
        row = self.row(packet)
        cells = [row.number, self.time_text(packet, position), row.source, row.destination]
        return self._line_text([*cells, row.protocol, row.length, row.info]).rstrip()


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _find(rows: array[int], count: int, packet: int) -> int:
    """Position of `packet` in the sorted `rows[:count]`, or -1 (binary search)."""
    low, high = 0, count
    while low < high:
        middle = (low + high) // 2
        if rows[middle] < packet:
            low = middle + 1
        else:
            high = middle
    return low if low < count and rows[low] == packet else -1
