"""Follow stream view (`f`): the selected packet's TCP or UDP stream as `tshark -z follow` builds it,
client and server in two colours, ascii / hex / raw, one direction or both; Enter on a chunk goes
to its packet, `s` saves, ctrl+f / n / N search. Control bytes never reach the screen raw."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from analyzer.export.follow import FORMATS, FollowResult, format_follow
from captures.types import RawRecord

from .views_base import AskScreen, ViewScreen

LINE_LIMIT = 50_000  # lines drawn; saving writes the whole stream
CLIENT_STYLE = "#ff8787"
SERVER_STYLE = "#87afff"
DIRECTIONS = ("both", "client", "server")
# Printable ASCII only: every other byte (CR, ESC, tab...) becomes a dot on screen.
_SCREEN = bytes(b if 0x20 <= b < 0x7F else 0x2E for b in range(256))


@dataclass(frozen=True, slots=True)
class FollowLine:
    chunk: int  # index into FollowResult.chunks
    server: bool
    text: str  # printable ASCII only


def _hex_rows(data: bytes, offset: int) -> list[str]:
    rows = []
    for start in range(0, len(data), 16):
        row = data[start : start + 16]
        hex_part = " ".join(f"{b:02x}" for b in row[:8])
        if len(row) > 8:
            hex_part += "  " + " ".join(f"{b:02x}" for b in row[8:])
        rows.append(f"{offset + start:08X}  {hex_part:<48}  {row.translate(_SCREEN).decode('ascii')}")
    return rows


def follow_lines(result: FollowResult, mode: str, direction: str = "both") -> list[FollowLine]:
    """The screen lines of a followed stream (see module doc); `mode` is one of FORMATS."""
    lines: list[FollowLine] = []
    positions = [0, 0]
    for number, chunk in enumerate(result.chunks):
        side = int(chunk.server)
        if direction != "both" and chunk.server != (direction == "server"):
            positions[side] += len(chunk.data)
            continue
        if mode == "ascii":
            texts = [
                part.rstrip(b"\r").translate(_SCREEN).decode("ascii") for part in chunk.data.split(b"\n")
            ]
            if len(texts) > 1 and texts[-1] == "":
                texts.pop()
        elif mode == "hex":
            texts = _hex_rows(chunk.data, positions[side])
        else:
            raw = chunk.data.hex()
            texts = [raw[start : start + 64] for start in range(0, len(raw), 64)] or [""]
        positions[side] += len(chunk.data)
        lines.extend(FollowLine(number, chunk.server, text) for text in texts)
    return lines


def save_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def find_stream(records: Iterator[RawRecord], packet: int) -> tuple[str, int] | None:
    """("tcp" | "udp", stream number) of 1-based frame `packet`, numbered as tshark does."""
    from analyzer.export.flows_facts import UdpFact, iter_facts
    from analyzer.state.tcp_facts import TcpSegment
    from analyzer.state.tcp_tracker import TcpTracker
    from analyzer.state.udp_tracker import UdpTracker

    tcp, udp = TcpTracker(), UdpTracker()
    for facts in iter_facts(records):
        fact = facts.fact
        if isinstance(fact, TcpSegment):
            stream = tcp.feed(fact).stream
            if facts.number == packet:
                return "tcp", stream
        elif isinstance(fact, UdpFact):
            d = fact.datagram
            stream = udp.feed(d.src, d.sport, d.dst, d.dport, d.payload_len, d.timestamp_ns, not d.quoted)
            if facts.number == packet:
                return ("udp", stream) if not d.quoted else None
        if facts.number >= packet:
            return None
    return None


class FollowScreen(ViewScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "mode('ascii')", "ASCII", show=True),
        Binding("x", "mode('hex')", "Hex", show=True),
        Binding("r", "mode('raw')", "Raw", show=True),
        Binding("d", "direction", "Direction", show=True),
        Binding("s", "save", "Save", show=True),
        Binding("ctrl+f,slash", "search", "Search", show=True),
        Binding("n", "next_match(1)", "Next", show=False),
        Binding("N", "next_match(-1)", "Previous", show=False),
    ]
    DEFAULT_CSS = """
    FollowScreen #follow-nodes { height: auto; padding: 0 1; }
    FollowScreen #follow { height: 1fr; }
    """

    def __init__(self, records: Callable[[], Iterator[RawRecord]], packet: int) -> None:
        """Follow the stream of 1-based frame `packet`; `records()` reads the capture (a file's
        records, or a snapshot of a live capture) from its first packet."""
        super().__init__()
        self.records = records
        self.packet = packet  # 1-based frame the stream is chosen by
        self.proto = ""
        self.stream = -1
        self.result: FollowResult | None = None
        self.mode = "ascii"
        self.direction = "both"
        self.lines: list[FollowLine] = []
        self.pattern: re.Pattern[str] | None = None

    def compose(self) -> ComposeResult:
        yield Static(
            f"Follow stream of frame {self.packet}: reading…", classes="view-title", id="follow-title"
        )
        yield Static(id="follow-nodes")
        yield OptionList(id="follow")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.load()

    @work(thread=True, exclusive=True, group="follow")
    def load(self) -> None:
        from analyzer.commands.follow import follow_stream
        from analyzer.export.flows_facts import iter_facts

        worker = get_current_worker()
        found = find_stream(self.records(), self.packet)
        if found is None or worker.is_cancelled:
            self.app.call_from_thread(self._loaded, None, "", -1)
            return
        proto, stream = found
        result = follow_stream(iter_facts(self.records()), proto, stream)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._loaded, result, proto, stream)

    def _loaded(self, result: FollowResult | None, proto: str, stream: int) -> None:
        title = self.query_one("#follow-title", Static)
        if result is None:
            title.update(f"Frame {self.packet} is not part of a TCP or UDP stream")
            return
        self.result, self.proto, self.stream = result, proto, stream
        nodes = Text()
        client, server = result.client, result.server
        nodes.append(f"Client {client[0]}:{client[1]}" if client else "Client -", style=CLIENT_STYLE)
        nodes.append("   ")
        nodes.append(f"Server {server[0]}:{server[1]}" if server else "Server -", style=SERVER_STYLE)
        self.query_one("#follow-nodes", Static).update(nodes)
        self.redraw()

    def redraw(self) -> None:
        if self.result is None:
            return
        self.lines = follow_lines(self.result, self.mode, self.direction)
        shown = self.lines[:LINE_LIMIT]
        total = sum(len(chunk.data) for chunk in self.result.chunks)
        cut = f" (first {LINE_LIMIT:,} lines shown)" if len(self.lines) > LINE_LIMIT else ""
        self.query_one("#follow-title", Static).update(
            f"Follow {self.proto.upper()} stream {self.stream} ({self.proto}.stream == {self.stream}): "
            f"{len(self.result.chunks)} chunks, {total:,} bytes, {self.mode}, {self.direction}{cut}"
        )
        view = self.query_one(OptionList)
        view.clear_options()
        view.add_options(
            [Option(Text(line.text, style=SERVER_STYLE if line.server else CLIENT_STYLE)) for line in shown]
        )
        view.highlighted = 0 if shown else None

    def action_mode(self, mode: str) -> None:
        if mode in FORMATS:
            self.mode = mode
            self.redraw()

    def action_direction(self) -> None:
        self.direction = DIRECTIONS[(DIRECTIONS.index(self.direction) + 1) % len(DIRECTIONS)]
        self.redraw()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.result is not None and 0 <= event.option_index < len(self.lines):
            self.jump(self.result.chunks[self.lines[event.option_index].chunk].frame)

    # -- saving -------------------------------------------------------------------------------

    def content(self) -> bytes:
        """What `s` saves: raw mode the bytes themselves, otherwise tshark's follow report (both
        directions) or the lines shown (one direction)."""
        assert self.result is not None
        chunks = [
            chunk
            for chunk in self.result.chunks
            if self.direction == "both" or chunk.server == (self.direction == "server")
        ]
        if self.mode == "raw":
            return b"".join(chunk.data for chunk in chunks)
        if self.direction == "both":
            return format_follow(self.proto, self.mode, self.stream, self.result).encode("ascii")
        return "".join(line.text + "\n" for line in self.lines).encode("ascii")

    def action_save(self) -> None:
        if self.result is None:
            self.app.bell()
            return
        suffix = "bin" if self.mode == "raw" else "txt"
        default = f"{self.proto}-stream-{self.stream}.{suffix}"
        self.app.push_screen(
            AskScreen("Save the stream to (Enter saves, Esc cancels):", default), self._save_to
        )

    def _save_to(self, answer: str | None) -> None:
        if not answer:
            return
        target = Path(answer).expanduser()
        try:
            save_atomically(target, self.content())
        except OSError as failed:
            self.notify(f"Not saved: {failed.strerror or failed}", severity="error")
            return
        self.notify(f"Saved {target}", timeout=3)

    # -- search -------------------------------------------------------------------------------

    def action_search(self) -> None:
        self.app.push_screen(AskScreen("Search the stream for (a regular expression):"), self._search_for)

    def _search_for(self, answer: str | None) -> None:
        if not answer:
            return
        try:
            self.pattern = re.compile(answer, re.IGNORECASE)
        except re.error:
            self.pattern = re.compile(re.escape(answer), re.IGNORECASE)
        self.action_next_match(1, include_current=True)

    def action_next_match(self, step: int, include_current: bool = False) -> None:
        view = self.query_one(OptionList)
        shown = min(len(self.lines), LINE_LIMIT)
        if self.pattern is None or not shown:
            self.app.bell()
            return
        start = view.highlighted or 0
        for distance in range(0 if include_current else 1, shown + 1):
            position = (start + step * distance) % shown
            if self.pattern.search(self.lines[position].text):
                view.highlighted = position
                return
        self.notify("Not found", severity="warning", timeout=2)
