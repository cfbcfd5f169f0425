"""Sub-views: the help screen (every key) and the start screen shown with the bundled sample."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from analyzer.textsafe import escape_label

_KEY_NAMES = {"slash": "/", "colon": ":", "question_mark": "?", "plus": "+", "equals_sign": "=", "minus": "-"}
# Keys that belong to the panes rather than the app, listed in the help for completeness.
PANE_KEYS = [
    ("↑ ↓ j k, PgUp PgDn, Home End", "Move in the focused pane"),
    ("Tab / Shift+Tab", "Next / previous pane"),
    ("→ ←  (tree)", "Expand / collapse a node"),
    ("Enter, Space (tree)", "Toggle a node"),
    ("e / E (tree)", "Expand all / collapse all"),
    ("Click a byte (bytes pane)", "Select the field it belongs to"),
    ("↑ ↓ (filter bar)", "Filter history"),
    ("Esc (filter bar)", "Clear the filter"),
    ("Ctrl+P", "Command palette"),
    ("Ctrl+Q", "Quit"),
]


def key_text(key: str) -> str:
    return " ".join(_KEY_NAMES.get(part, part) for part in key.split(","))


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close help"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 64; max-width: 95%; height: 90%;
        border: round $accent; background: $surface; padding: 0 1; }
    HelpScreen Static { width: 100%; }
    """

    def __init__(self, keys: list[tuple[str, str, str, bool]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        table = Table(title="Layerscope keys", show_header=False, box=None, padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for key, _action, text, _shown in self.keys:
            table.add_row(key_text(key), text)
        for key, text in PANE_KEYS:
            table.add_row(key, text)
        with VerticalScroll():
            yield Static(table)
            yield Static(Text("Esc, q or ? closes this help.", style="dim"))

    def action_dismiss_help(self) -> None:
        self.dismiss(None)


class StartScreen(ModalScreen[None]):
    """Shown when `layerscope` runs without a file: what the sample is and where to start."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,enter,space", "dismiss", "Start")]
    DEFAULT_CSS = """
    StartScreen { align: center middle; }
    StartScreen > Static { width: 72; max-width: 95%; height: auto; border: round $accent;
        background: $surface; padding: 1 2; }
    """

    def __init__(self, name: str) -> None:
        super().__init__()
        self.capture_name = name

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("Welcome to Layerscope\n\n", style="bold")
        text.append(f"This is the bundled sample capture, {escape_label(self.capture_name)}:\n")
        text.append("DHCP, ARP, DNS, an HTTP download over TCP and pings.\n")
        text.append("Open your own with ")
        text.append("layerscope FILE.pcap", style="bold cyan")
        text.append(".\n\n")
        text.append("/", style="bold cyan")
        text.append(" filter   ")
        text.append("g", style="bold cyan")
        text.append(" go to packet   ")
        text.append("Tab", style="bold cyan")
        text.append(" next pane   ")
        text.append("?", style="bold cyan")
        text.append(" help   ")
        text.append("Ctrl+Q", style="bold cyan")
        text.append(" quit\n\n")
        text.append("Press Enter to start.", style="dim")
        yield Static(text)

    def on_click(self) -> None:
        self.dismiss(None)
