"""Conversations view (`C`): the `flows` table (Zeek conn.log columns) for the analysed packets;
sortable by any column; Enter shows only that conversation (`tcp.stream == N` / `udp.stream == N`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from analyzer.export.flows import FlowRow
from analyzer.textsafe import escape_label

from .views_base import FactsView, ViewResult, seconds

COLUMNS: tuple[tuple[str, Callable[[FlowRow], Any]], ...] = (
    ("Stream", lambda row: row.stream),
    ("Proto", lambda row: row.proto),
    ("Originator", lambda row: (row.orig_h, row.orig_p)),
    ("Responder", lambda row: (row.resp_h, row.resp_p)),
    ("State", lambda row: row.conn_state),
    ("History", lambda row: row.history),
    ("Start", lambda row: row.start_ns),
    ("Duration", lambda row: row.duration_ns),
    ("Pkts →", lambda row: row.orig_pkts),
    ("Bytes →", lambda row: row.orig_bytes),
    ("Pkts ←", lambda row: row.resp_pkts),
    ("Bytes ←", lambda row: row.resp_bytes),
    ("RTT", lambda row: row.handshake_rtt_ns or 0),
    ("Retrans", lambda row: row.retransmissions or 0),
)


def endpoint(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def cells(row: FlowRow, first_ns: int) -> list[Text]:
    # Text, not str: DataTable reads a str cell as markup, and addresses are packet-derived.
    return [
        Text(cell)
        for cell in (
            str(row.stream),
            row.proto.upper(),
            escape_label(endpoint(row.orig_h, row.orig_p)),
            escape_label(endpoint(row.resp_h, row.resp_p)),
            row.conn_state,
            row.history,
            seconds(row.start_ns - first_ns),
            seconds(row.duration_ns),
            str(row.orig_pkts),
            str(row.orig_bytes),
            str(row.resp_pkts),
            str(row.resp_bytes),
            seconds(row.handshake_rtt_ns),
            "" if row.retransmissions is None else str(row.retransmissions),
        )
    ]


class ConversationsScreen(FactsView):
    ACTION = "conversations"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "show_conversation", "Filter to it", show=True),
        Binding("s", "sort", "Sort by next column", show=True),
        Binding("r", "reverse", "Reverse", show=True),
    ]

    def __init__(self, rows: list[FlowRow], first_ns: int, note: str = "") -> None:
        super().__init__()
        self.rows = list(rows)
        self.first_ns = first_ns
        self.note = note
        self.sort_column = 0
        self.descending = False

    def compose(self) -> ComposeResult:
        yield Static(f"Conversations: {len(self.rows)}", classes="view-title")
        if self.note:
            yield Static(self.note, classes="view-note")
        yield DataTable(id="conversations", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*(name for name, _key in COLUMNS))
        self._fill()
        table.focus()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        key = COLUMNS[self.sort_column][1]
        self.rows.sort(key=key, reverse=self.descending)
        for position, row in enumerate(self.rows):
            table.add_row(*cells(row, self.first_ns), key=str(position))

    def sort_by(self, column: int, descending: bool | None = None) -> None:
        if descending is None:
            descending = not self.descending if column == self.sort_column else False
        self.sort_column, self.descending = column, descending
        self._fill()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        self.sort_by(event.column_index)

    def action_sort(self) -> None:
        self.sort_by((self.sort_column + 1) % len(COLUMNS), False)

    def action_reverse(self) -> None:
        self.sort_by(self.sort_column, not self.descending)

    def selected(self) -> FlowRow | None:
        table = self.query_one(DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_show_conversation()

    def action_show_conversation(self) -> None:
        row = self.selected()
        if row is not None:
            self.dismiss(ViewResult(filter=f"{row.proto}.stream == {row.stream}"))
