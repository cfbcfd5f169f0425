"""Sub-views: the help screen (every key) and the start screen shown with the bundled sample."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from analyzer.textsafe import escape_label
from captures.interfaces import Interface, list_interfaces

SAMPLE_OPTION = "sample"
INTERFACE_PREFIX = "iface:"

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


class StartScreen(ModalScreen[str | None]):
    """Shown when `layerscope` runs without a file: the sample capture, or live on an interface.

    Dismissed with None for the sample capture, or with the name of the interface to capture on.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "dismiss_sample", "Sample capture")]
    DEFAULT_CSS = """
    StartScreen { align: center middle; }
    StartScreen > Vertical { width: 80; max-width: 95%; height: auto; max-height: 95%;
        border: round $accent; background: $surface; padding: 1 2; }
    StartScreen Static { width: 100%; }
    StartScreen OptionList { height: auto; max-height: 14; margin-top: 1; }
    """

    def __init__(self, name: str, interfaces: list[Interface] | None = None) -> None:
        super().__init__()
        self.capture_name = name
        self.interfaces = list_interfaces() if interfaces is None else interfaces

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("Welcome to Layerscope\n\n", style="bold")
        text.append(f"The bundled sample capture, {escape_label(self.capture_name)}, holds ")
        text.append("DHCP, ARP, DNS, an HTTP download over TCP and pings.\n")
        text.append("Open your own with ")
        text.append("layerscope FILE.pcap", style="bold cyan")
        text.append(", capture with ")
        text.append("layerscope -i IFACE", style="bold cyan")
        text.append(", or pick below.\n\n")
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
        text.append("Enter opens the highlighted entry.", style="dim")
        options = [Option(f"Sample capture: {escape_label(self.capture_name)}", id=SAMPLE_OPTION)]
        for interface in self.interfaces:
            addresses = ", ".join(interface.addresses) or "no addresses"
            label = Text()
            label.append(f"Capture on {escape_label(interface.name)}", style="bold")
            label.append(f"  {interface.kind} · {interface.state} · {escape_label(addresses)}")
            options.append(Option(label, id=f"{INTERFACE_PREFIX}{interface.name}"))
        with Vertical():
            yield Static(text)
            yield OptionList(*options, id="start-choices")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        choice = event.option.id or SAMPLE_OPTION
        self.dismiss(choice.removeprefix(INTERFACE_PREFIX) if choice != SAMPLE_OPTION else None)

    def action_dismiss_sample(self) -> None:
        self.dismiss(None)
