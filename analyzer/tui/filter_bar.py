"""The display filter bar: checked as you type (with the error's position), applied with Enter,
history with up/down, cleared with Esc; and the one-line prompt for "go to packet"."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from analyzer.textsafe import escape_label

if TYPE_CHECKING:
    # The filter package loads on the first filter typed: ~50 ms the first screen need not wait for.
    from analyzer.filter import DisplayFilter
    from analyzer.filter.errors import FilterError

HISTORY_LIMIT = 100


def check_filter(text: str) -> DisplayFilter | FilterError:
    """The compiled filter, or the error with its character range."""
    from analyzer.filter import compile_filter  # loaded on first use: it costs 50 ms at start-up
    from analyzer.filter.errors import FilterError

    try:
        return compile_filter(text)
    except FilterError as bad:
        return bad
    except RecursionError:
        return FilterError("The filter is nested too deeply.", 0, len(text))


def error_text(text: str, error: FilterError) -> Text:
    """The message, then the filter with the culprit underlined, all escaped."""
    shown = Text(f"{escape_label(error.message)} (column {error.column})  ", style="bold red")
    shown.append(escape_label(text[: error.start]))
    shown.append(escape_label(text[error.start : error.end]) or " ", style="reverse red")
    shown.append(escape_label(text[error.end :]))
    return shown


class FilterInput(Input):
    """The filter's text box; up/down walk the history of applied filters."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "Older filter", show=False),
        Binding("down", "history(1)", "Newer filter", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            placeholder="Apply a display filter … (/)   e.g. tcp.port == 80 && ip.addr == 10.0.0.1", id=id
        )
        self.history: list[str] = []
        self._at = 0

    def remember(self, text: str) -> None:
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
            del self.history[:-HISTORY_LIMIT]
        self._at = len(self.history)

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self._at = max(0, min(self._at + step, len(self.history)))
        self.value = self.history[self._at] if self._at < len(self.history) else ""
        self.cursor_position = len(self.value)


class FilterBar(Vertical):
    """Input plus a status line; posts Applied(text, filter) on Enter and on Esc (empty filter)."""

    DEFAULT_CSS = """
    FilterBar { height: auto; }
    FilterBar > #filter-message { height: auto; padding: 0 1; display: none; }
    FilterBar.-invalid > #filter-message { display: block; }
    """

    class Applied(Message):
        def __init__(self, text: str, display_filter: DisplayFilter | None) -> None:
            super().__init__()
            self.text = text
            self.display_filter = display_filter

    class Left(Message):
        """The user is done with the bar (Esc or Enter): focus goes back to the packet list."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.active = ""

    def compose(self) -> ComposeResult:
        yield FilterInput(id="filter-input")
        yield Static(id="filter-message")

    @property
    def input(self) -> FilterInput:
        return self.query_one(FilterInput)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._validate(event.value)

    def _validate(self, text: str) -> DisplayFilter | None:
        message = self.query_one("#filter-message", Static)
        self.remove_class("-valid", "-invalid")
        if not text.strip():
            return None
        from analyzer.filter.errors import FilterError  # loaded by check_filter already

        found = check_filter(text)
        if isinstance(found, FilterError):
            self.add_class("-invalid")
            message.update(error_text(text, found))
            return None
        self.add_class("-valid")
        return found

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value
        found = self._validate(text)
        if text.strip() and found is None:
            self.app.bell()
            return
        self.input.remember(text)
        self.active = text
        self.post_message(self.Applied(text, found))
        self.post_message(self.Left())

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape":
            event.stop()
            self.input.value = ""
            self._validate("")
            if self.active:
                self.active = ""
                self.post_message(self.Applied("", None))
            self.post_message(self.Left())


class GoToPrompt(Input):
    """`Go to packet: N`; Enter posts Chosen(N), Esc leaves."""

    class Chosen(Message):
        def __init__(self, number: int | None) -> None:
            super().__init__()
            self.number = number

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            placeholder="Go to packet number (Enter to jump, Esc to cancel)", type="integer", id=id
        )

    def on_mount(self) -> None:
        self.display = False

    def open(self, start: str = "") -> None:
        self.value = start
        self.display = True
        # Focus now, not after a refresh (what focus() does): digits typed right after "g"
        # must land here rather than on the keys of the pane that had the focus.
        self.screen.set_focus(self)
        self.cursor_position = len(self.value)

    def close(self) -> None:
        self.display = False

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        self.close()
        self.post_message(self.Chosen(int(text) if text.isdigit() else None))

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape":
            event.stop()
            self.close()
            self.post_message(self.Chosen(None))
