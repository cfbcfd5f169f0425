"""The status bar: file name, packet and displayed counts, the active filter, worker progress."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual.widgets import Static

from analyzer.textsafe import escape_label


@dataclass(frozen=True, slots=True)
class Status:
    """Everything the bar shows; `indexing`/`filtering` are fractions 0..1, or None when idle."""

    file_name: str = ""
    packets: int = 0
    displayed: int = 0
    filter_text: str = ""
    indexing: float | None = None
    filtering: float | None = None
    analysing: float | None = None
    time_format: str = "r"
    resolve_names: bool = False
    message: str = ""
    live: str = ""  # "Live: IFACE · received N · dropped M" while a live capture is shown


def _bar(fraction: float, width: int = 10) -> str:
    done = max(0, min(width, round(fraction * width)))
    return "█" * done + "░" * (width - done)


def status_text(status: Status) -> Text:
    text = Text()
    if status.live:
        text.append(f" {escape_label(status.live)} ", style="bold")
    else:
        text.append(f" {escape_label(status.file_name)} ", style="bold")
    if status.indexing is not None:
        text.append(f" Indexing {_bar(status.indexing)} {status.indexing:4.0%} ", style="yellow")
    text.append(f" Packets: {status.packets:,}")
    text.append(f" · Displayed: {status.displayed:,}")
    if status.filtering is not None:
        text.append(f" (filtering {_bar(status.filtering, 6)} {status.filtering:4.0%})", style="yellow")
    if status.filter_text:
        text.append(" · Filter: ")
        text.append(escape_label(status.filter_text), style="cyan")
    if status.analysing is not None:
        text.append(f" · Analysing {status.analysing:3.0%}", style="dim")
    text.append(f" · Time: {status.time_format}", style="dim")
    text.append(" · Names: " + ("on" if status.resolve_names else "off"), style="dim")
    if status.message:
        text.append(f" · {escape_label(status.message)}", style="italic")
    return text


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.status = Status()

    def change(self, **changes: object) -> None:
        self.status = replace(self.status, **changes)  # type: ignore[arg-type]
        self.update(status_text(self.status))
