"""Transactions view (`T`): DNS queries with their answers and response times, DHCP exchanges
(DORA) with the lease, HTTP requests with status and timing. Enter goes to the first packet."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane

from analyzer.textsafe import escape_label

from .views_base import NS, FactsView, seconds
from .views_collect import ViewFacts


def _time(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"


def _row(*cells: str) -> list[Text]:
    # Text, not str: DataTable reads a str cell as markup, and these strings come from packets.
    return [Text(escape_label(cell)) for cell in cells]


class TransactionsScreen(FactsView):
    ACTION = "transactions"
    DEFAULT_CSS = """
    TransactionsScreen TabbedContent { height: 1fr; }
    TransactionsScreen TabPane { height: 1fr; padding: 0; }
    """

    def __init__(self, facts: ViewFacts, first_ns: int) -> None:
        super().__init__()
        self.facts = facts
        self.first_ns = first_ns
        self.frames: dict[str, list[int]] = {"dns": [], "dhcp": [], "http": []}

    def compose(self) -> ComposeResult:
        facts = self.facts
        dhcp_note = "" if facts.dhcp is not None else " (DHCP pairing not available)"
        yield Static(
            f"Transactions: {len(facts.dns)} DNS, {len(facts.dhcp_transactions())} DHCP, "
            f"{len(facts.http)} HTTP{dhcp_note}",
            classes="view-title",
        )
        if facts.note():
            yield Static(facts.note(), classes="view-note")
        with TabbedContent():
            with TabPane("DNS", id="tab-dns"):
                yield DataTable(id="dns", cursor_type="row", zebra_stripes=True)
            with TabPane("DHCP", id="tab-dhcp"):
                yield DataTable(id="dhcp", cursor_type="row", zebra_stripes=True)
            with TabPane("HTTP", id="tab-http"):
                yield DataTable(id="http", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        first = self.first_ns
        dns = self.query_one("#dns", DataTable)
        dns.add_columns("Frame", "Time", "Via", "Query", "Type", "Answer frame", "Rcode", "Answers", "RTT")
        for query in self.facts.dns:
            answered = query.response_frame > 0
            dns.add_row(
                *_row(
                    str(query.frame),
                    seconds(query.ts_ns - first),
                    query.transport,
                    query.name,
                    query.qtype,
                    str(query.response_frame) if answered else "no answer",
                    query.rcode,
                    ", ".join(query.answers),
                    _time(query.time_s),
                )
            )
            self.frames["dns"].append(query.frame)
        dhcp = self.query_one("#dhcp", DataTable)
        dhcp.add_columns(
            "Frames", "Time", "Kind", "Client MAC", "Messages", "Assigned", "Lease", "Server", "Took"
        )
        for exchange in self.facts.dhcp_transactions():
            dhcp.add_row(
                *_row(
                    ",".join(str(frame) for frame in exchange.frames),
                    seconds(exchange.ts_ns - first),
                    exchange.kind,
                    exchange.mac,
                    " → ".join(exchange.msg_types),
                    exchange.assigned_addr or exchange.offered_addr or "",
                    f"{exchange.lease_time} s" if exchange.lease_time is not None else "",
                    exchange.server_addr or "",
                    f"{exchange.duration_ns / NS:.6f}",
                )
            )
            self.frames["dhcp"].append(exchange.frames[0])
        http = self.query_one("#http", DataTable)
        http.add_columns("Frame", "Time", "Method", "Host", "URI", "Response frame", "Status", "Took")
        for request in self.facts.http:
            http.add_row(
                *_row(
                    str(request.frame),
                    seconds(request.ts_ns - first),
                    request.method,
                    request.host,
                    request.uri,
                    str(request.response_frame) if request.response_frame else "no response",
                    request.status,
                    _time(request.time_s),
                )
            )
            self.frames["http"].append(request.frame)
        # Open on the first kind that has anything.
        for kind in ("dns", "dhcp", "http"):
            if self.frames[kind]:
                self.query_one(TabbedContent).active = f"tab-{kind}"
                self.query_one(f"#{kind}", DataTable).focus()
                break

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        frames = self.frames.get(event.data_table.id or "", [])
        if 0 <= event.cursor_row < len(frames):
            self.jump(frames[event.cursor_row])
