"""What the TUI's full-screen views share: leaving with q/Esc, a title and a note line, and the
results a view hands back to the app (jump to a packet, apply a display filter)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label

NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class ViewResult:
    """What the app does when a view closes: go to `packet` (1-based frame) or apply `filter`."""

    packet: int = 0
    filter: str | None = None
    reopen: str = ""  # the app action that opens this view again, with fresh facts


class ViewScreen(Screen[ViewResult | None]):
    """A full-screen view over the capture; q or Esc returns to the packet list."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape", "leave", "Back", show=True),
    ]
    DEFAULT_CSS = """
    ViewScreen .view-note { height: auto; color: $warning; padding: 0 1; }
    ViewScreen .view-title { height: 1; text-style: bold; background: $boost; padding: 0 1; }
    ViewScreen DataTable { height: 1fr; }
    """

    def action_leave(self) -> None:
        self.dismiss(None)

    def jump(self, frame: int) -> None:
        self.dismiss(ViewResult(packet=frame))


class FactsView(ViewScreen):
    """A view of the analysis pass's facts; Ctrl+R opens it again on what the pass knows now
    (during a live capture the view shows a snapshot taken when it opened)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r,f5", "refresh_view", "Refresh", show=True),
    ]
    ACTION: ClassVar[str] = ""  # the app action that opens this view

    def action_refresh_view(self) -> None:
        self.dismiss(ViewResult(reopen=self.ACTION))


def seconds(ns: int | None, digits: int = 6) -> str:
    """A duration in seconds for a table cell; blank when unknown."""
    return "" if ns is None else f"{ns / NS:.{digits}f}"


def human_bytes(count: float) -> str:
    """capinfos-style sizes: 1000-based units, as capinfos prints them."""
    for unit in ("bytes", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}"
        count /= 1000
    return f"{count:.0f} TB"


class AskScreen(ModalScreen[str | None]):
    """A one-line question (a path to save to, a text to search for); Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    AskScreen { align: center bottom; }
    AskScreen > Vertical { height: auto; width: 100%; background: $surface; border-top: solid $accent; }
    AskScreen Label { padding: 0 1; }
    """

    def __init__(self, question: str, value: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            yield Input(value=self.value, id="answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
