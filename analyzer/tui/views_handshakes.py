"""Handshake board (`H`): every TCP connection with its Zeek conn_state and history, handshake
timings, retransmissions and resets; the selected one drawn as a ladder diagram (originator on the
left, responder on the right, one arrow per segment). Enter on an arrow goes to its packet."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, OptionList, Static
from textual.widgets.option_list import Option

from analyzer.state.tcp_facts import ACK, FIN, PSH, RST, SYN
from analyzer.state.tcp_tracker import ConnectionSummary
from analyzer.textsafe import escape_label

from .views_base import FactsView, seconds
from .views_collect import LADDER_LIMIT, LadderStep, ViewFacts
from .views_conversations import endpoint

ARROW_WIDTH = 50
_FLAG_NAMES = ((SYN, "SYN"), (FIN, "FIN"), (RST, "RST"), (PSH, "PSH"), (ACK, "ACK"))
STYLES = {"SYN": "bold green", "FIN": "bold yellow", "RST": "bold red", "data": "cyan", "ACK": "white"}


def flag_text(flags: int) -> str:
    return ", ".join(name for bit, name in _FLAG_NAMES if flags & bit) or "none"


def _kind(step: LadderStep) -> str:
    if step.flags & RST:
        return "RST"
    if step.flags & SYN:
        return "SYN"
    if step.flags & FIN:
        return "FIN"
    return "data" if step.length else "ACK"


def arrow_line(step: LadderStep, first_ns: int, width: int = ARROW_WIDTH) -> Text:
    """`  0.000123     3 │────SYN Seq=0──────▶│`: one segment as an arrow between the two columns."""
    label = f" {flag_text(step.flags)} Seq={step.seq}"
    if step.flags & ACK:
        label += f" Ack={step.ack}"
    if step.length:
        label += f" Len={step.length}"
    label += " "
    if step.retransmission:
        label = " [retransmission]" + label
    inner = width - 2
    label = label[: inner - 4]
    if step.from_orig:
        body = "──" + label + "─" * (inner - 2 - len(label)) + "▶"
    else:
        body = "◀" + "─" * (inner - 2 - len(label)) + label + "──"
    style = "bold red" if step.retransmission else STYLES[_kind(step)]
    line = Text(f"{seconds(step.ts_ns - first_ns):>10} {step.frame:>6} ", style="dim")
    line.append("│", style="bold")
    line.append(body, style=style)
    line.append("│", style="bold")
    return line


def ladder_header(connection: ConnectionSummary, width: int = ARROW_WIDTH) -> Text:
    left = escape_label(endpoint(connection.orig_h, connection.orig_p))
    right = escape_label(endpoint(connection.resp_h, connection.resp_p))
    gap = max(width - len(left) - len(right), 1)
    header = Text(f"{'time':>10} {'frame':>6} ", style="bold")
    header.append(left + " " * gap + right, style="bold")
    return header


class HandshakesScreen(FactsView):
    ACTION = "handshakes"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "switch", "Table/ladder", show=True),
    ]
    DEFAULT_CSS = """
    HandshakesScreen #connections { height: 1fr; }
    HandshakesScreen #ladder { height: 2fr; }
    HandshakesScreen #ladder-header { height: 1; padding: 0 2; }
    """

    def __init__(self, facts: ViewFacts, first_ns: int) -> None:
        super().__init__()
        self.facts = facts
        self.first_ns = first_ns
        self.connections = facts.connections()
        self.steps: list[LadderStep] = []

    def compose(self) -> ComposeResult:
        yield Static(f"TCP connections: {len(self.connections)}", classes="view-title")
        if self.facts.note():
            yield Static(self.facts.note(), classes="view-note")
        yield DataTable(id="connections", cursor_type="row", zebra_stripes=True)
        yield Static(id="ladder-header")
        yield OptionList(id="ladder")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(
            "Stream", "Originator", "Responder", "State", "History",
            "SYN→SYN/ACK", "SYN/ACK→ACK", "iRTT", "Retrans", "Resets", "Pkts",
        )  # fmt: skip
        for connection in self.connections:
            shake = connection.handshake
            table.add_row(
                *(
                    Text(cell)
                    for cell in (
                        str(connection.stream),
                        escape_label(endpoint(connection.orig_h, connection.orig_p)),
                        escape_label(endpoint(connection.resp_h, connection.resp_p)),
                        connection.conn_state,
                        connection.history,
                        seconds(shake.syn_to_synack_ns),
                        seconds(shake.synack_to_ack_ns),
                        seconds(connection.handshake_rtt_ns),
                        str(connection.retransmissions),
                        str(self.facts.resets.get(connection.stream, 0)),
                        str(connection.orig_pkts + connection.resp_pkts),
                    )
                )
            )
        table.focus()
        if self.connections:
            self.show_ladder(0)

    def show_ladder(self, row: int) -> None:
        connection = self.connections[row]
        self.steps = self.facts.ladders.get(connection.stream, [])
        first = self.steps[0].ts_ns if self.steps else connection.start_ns
        # The arrows fill what the terminal leaves after the time and frame columns.
        width = min(max(self.size.width - 24, 36), 100)
        self.query_one("#ladder-header", Static).update(ladder_header(connection, width))
        ladder = self.query_one(OptionList)
        ladder.clear_options()
        ladder.add_options([Option(arrow_line(step, first, width)) for step in self.steps])
        if len(self.steps) >= LADDER_LIMIT:
            ladder.add_option(Option(Text(f"(only the first {LADDER_LIMIT} segments drawn)"), disabled=True))
        ladder.highlighted = 0 if self.steps else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.connections):
            self.show_ladder(event.cursor_row)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self.steps):
            self.jump(self.steps[event.option_index].frame)

    def action_switch(self) -> None:
        table, ladder = self.query_one(DataTable), self.query_one(OptionList)
        (ladder if table.has_focus else table).focus()
