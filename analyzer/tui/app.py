"""LayerscopeApp: the packet list, the layer tree and the bytes of one capture, linked.

Threads: indexing, filtering, the colouring analysis and the stream-aware tree run in workers and
talk to the UI only through messages; the UI thread formats only the visible rows and dissects
only the selected packet. See analyzer/tui/workers.py for the passes and their limits, and
analyzer/tui/feeds.py for how they read a file or follow a live capture as it grows.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import threading
import time
from array import array
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Container, Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, Tree
from textual.worker import get_current_worker

from analyzer.context import FrameTimes, Preferences
from analyzer.index import PacketIndex
from analyzer.model import Dissection, Field, Layer
from analyzer.textsafe import escape_label

from .feeds import FileFeed, FrameFeed
from .filter_bar import FilterBar, GoToPrompt
from .hex_pane import HexPane
from .live import LiveCaptureError, LiveEnded, LiveProgress, LiveSource, open_live, run_capture, save_capture
from .packet_list import TIME_FORMATS, PacketList
from .screens import HelpScreen, StartScreen
from .status import StatusBar
from .tree_pane import LayerTree, TreeItem
from .views_base import AskScreen, ViewResult, ViewScreen
from .views_collect import ViewFacts, collect
from .views_search import HELP as SEARCH_HELP
from .views_search import BadQuery, SearchQuery, find_packet, marks_after
from .workers import PREFIX_LIMIT, PrefixDissector, dissection_marks, filter_rows

if TYPE_CHECKING:
    from analyzer.filter import DisplayFilter
    from captures.live import CaptureStats, LiveCapture

PANES = ("#list", "#tree", "#hex")
WIDE = 150  # columns from which the tree and the bytes sit side by side
FOCUS_ACTIONS = frozenset({"filter", "go_to", "pane"})  # actions that move the focus (see BINDINGS)
INDEX_REPORT_SECONDS = 0.25  # least time between the indexing pass's progress reports
# The workers (indexing, analysis, filters) hold the GIL in long stretches. The UI thread gives it
# up at every turn of its event loop and then waits for a worker's slice to end before going on:
# slices of 0.5 ms instead of Python's 5 ms cut that wait for each of the many turns a key press
# takes. Measured: no slower indexing (the pass is slowed by the UI's work, not by switching).
SWITCH_INTERVAL = 0.0005
FIRST_PAINT_WAIT = 0.5  # seconds the indexing pass waits at most for the first rows to be drawn
LOAD_DISSECTORS_AFTER = 0.5  # seconds: the latest the dissectors start loading (see on_mount)
LIVE_ACTIONS = frozenset({"stop_capture", "restart_capture", "save_capture"})
LIVE_TREE_DELAY = 0.3  # seconds a live selection must stay put before its stream fields are replayed
RECENT_TREES = 256  # annotated trees of a live capture kept for the tree pane (the newest packets)


class Indexed(Message):
    def __init__(
        self,
        count: int,
        fraction: float,
        done: bool,
        warnings: list[str] | None = None,
        painted: threading.Event | None = None,
    ) -> None:
        super().__init__()
        self.count, self.fraction, self.done = count, fraction, done
        self.warnings = warnings or []
        self.painted = painted  # set by the UI once these rows are on screen (the first report)


class Filtered(Message):
    def __init__(self, generation: int, rows: array[int], matched: int, fraction: float) -> None:
        super().__init__()
        self.generation, self.rows, self.matched, self.fraction = generation, rows, matched, fraction


class Analysed(Message):
    def __init__(self, fraction: float) -> None:
        super().__init__()
        self.fraction = fraction


class DissectorsReady(Message):
    """The dissectors are loaded (done in a worker so the first screen does not wait for them)."""


class Annotated(Message):
    def __init__(self, packet: int, dissection: object, request: int = 0) -> None:
        super().__init__()
        self.packet, self.dissection, self.request = packet, dissection, request


def _while_open(handler: Callable[..., None]) -> Callable[..., None]:
    """Skip a worker's message that arrives after the widgets are gone (the app is closing)."""

    @functools.wraps(handler)
    def run(*args: object) -> None:
        with contextlib.suppress(NoMatches):
            handler(*args)

    return run


class LayerscopeApp(App[int]):
    """`LayerscopeApp(path)`; opening the capture happens here, so a bad file fails before the UI."""

    CSS_PATH = "app.tcss"
    TITLE = "Layerscope"
    # (key, action, description, shown in the footer)
    KEYS: ClassVar[list[tuple[str, str, str, bool]]] = [
        ("slash", "filter", "Filter", True),
        ("g,colon", "go_to", "Go to", True),
        ("G,end", "last", "Last", False),
        ("t", "time_format", "Time", True),
        ("r", "names", "Names", False),
        ("f", "follow", "Follow", True),
        ("C", "conversations", "Conversations", True),
        ("H", "handshakes", "Handshakes", True),
        ("T", "transactions", "Transactions", True),
        ("S", "statistics", "Statistics", True),
        ("ctrl+f", "search", "Search", True),
        ("n", "find(1)", "Next match", False),
        ("N", "find(-1)", "Previous match", False),
        ("m", "toggle_mark", "Mark", False),
        ("apostrophe", "next_mark", "Next mark", False),
        ("z", "maximize_pane", "Zoom", True),
        ("plus,equals_sign", "grow", "Grow pane", False),
        ("minus", "shrink", "Shrink pane", False),
        ("1", "pane(0)", "Packet list", False),
        ("2", "pane(1)", "Layer tree", False),
        ("3", "pane(2)", "Bytes", False),
        ("c", "copy('field')", "Copy line", True),
        ("v", "copy('value')", "Copy value", False),
        ("b", "copy('bytes')", "Copy bytes", False),
        ("s", "stop_capture", "Stop capture", True),
        ("R", "restart_capture", "Restart capture", True),
        ("w", "save_capture", "Save capture", True),
        ("question_mark", "help", "Help", True),
        ("q", "leave", "Back/Quit", True),
    ]
    # Keys that move the focus are priority bindings, handled as the app reads them: keys that
    # arrive in the same terminal write (`g150<Enter>` pasted) are then routed to the new focus.
    # Otherwise they are queued on the old one before the first key is acted on.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(key, action, text, show=shown, priority=action.partition("(")[0] in FOCUS_ACTIONS)
        for key, action, text, shown in KEYS
    ]

    def __init__(
        self, path: str | Path | None = None, start_screen: bool = False, capture: LiveCapture | None = None
    ) -> None:
        """`capture` (an open LiveCapture) shows a live capture instead of the file `path`."""
        super().__init__()
        if capture is None and path is None:
            raise ValueError("LayerscopeApp needs a capture file or a live capture")
        self.live: LiveSource | None = None
        self.live_generation = 0
        self.saved: tuple[str, int] | None = None  # the last save: path and packet count
        self.path = "" if capture is not None else str(path)
        self.index = PacketIndex(None) if capture is not None else PacketIndex.for_file(self.path)
        self.feed: FrameFeed = FileFeed(self.path)  # what the background passes read (see feeds.py)
        # The latest annotated trees of a live capture's analysis pass, by 0-based packet: the tree
        # of a packet just captured comes from here rather than from a replay of the capture.
        self.recent_trees: dict[int, Dissection] = {}
        self._awaited_tree = -1  # the selected packet, until the analysis pass reaches it
        self._tags_shown = 0
        self._pending_capture = capture
        self.start_screen = start_screen
        self.indexed = 0
        self.indexing_done = False
        self.filter_generation = 0
        self.display_filter: DisplayFilter | None = None
        self.resolve_names = False
        self.list_share = 45  # percent of the pane area the packet list gets
        self.prefix: PrefixDissector | None = None
        self.marks = bytearray()
        self.dissectors_ready = False
        self._tree_request = 0  # the latest stream-aware tree asked for (see on_annotated)
        self._switch_interval = sys.getswitchinterval()  # restored on unmount (see SWITCH_INTERVAL)
        self._dissectors_loading = False
        self.view_facts = ViewFacts(PREFIX_LIMIT)
        self.search_query: SearchQuery | None = None

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield FilterBar(id="filter-bar")
        with Vertical(id="panes"):
            yield PacketList(id="list")
            with Container(id="details"):
                yield LayerTree(id="tree")
                yield HexPane(id="hex")
        yield GoToPrompt(id="goto")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL))
        packet_list = self.query_one(PacketList)
        packet_list.border_title = "Packets [1]"
        self.query_one(LayerTree).border_title = "Layers [2]"
        self.query_one(HexPane).border_title = "Bytes [3]"
        packet_list.attach(self.index)
        packet_list.focus()
        self._apply_layout()
        self.status.change(file_name=Path(self.path).name, time_format=packet_list.time_format)
        if self._pending_capture is not None:
            capture, self._pending_capture = self._pending_capture, None
            self._begin_live(capture)
        else:
            self.build_index()
        # The dissectors load once the first rows are drawn (see on_indexed), so that their imports
        # do not compete with the first screen for the GIL; this timer covers empty captures.
        self.set_timer(LOAD_DISSECTORS_AFTER, self._load_dissectors_once)
        if self.start_screen:
            self.push_screen(StartScreen(Path(self.path).name), self._start_chosen)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def packet_list(self) -> PacketList:
        return self.query_one(PacketList)

    def on_resize(self) -> None:
        self._apply_layout()

    def _apply_layout(self) -> None:
        details = self.query_one("#details")
        details.set_class(self.size.width >= WIDE, "-wide")
        self.packet_list.styles.height = f"{self.list_share}fr"
        details.styles.height = f"{100 - self.list_share}fr"

    def _load_dissectors_once(self) -> None:
        if not self._dissectors_loading:
            self._dissectors_loading = True
            self.load_dissectors()

    @work(thread=True, group="load")
    def load_dissectors(self) -> None:
        from analyzer.pipeline import default_registry

        default_registry()
        self.post_message(DissectorsReady())

    @_while_open
    def on_dissectors_ready(self) -> None:
        self.dissectors_ready = True
        if self.indexed:
            self.packet_list.reselect()

    # -- indexing -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="index")
    def build_index(self) -> None:
        worker = get_current_worker()
        first_report = last_report = 0.0

        def progress(count: int, fraction: float) -> bool:
            # Every report costs the UI thread a relayout and a repaint, holding the GIL the
            # pass needs: report the first screenful at once, then a few times a second.
            nonlocal first_report, last_report
            now = time.monotonic()
            if first_report and now - last_report < INDEX_REPORT_SECONDS:
                return not worker.is_cancelled
            if not first_report:
                # The first screenful: let the UI thread draw it without sharing the GIL.
                painted = threading.Event()
                self.post_message(Indexed(count, fraction, False, painted=painted))
                painted.wait(FIRST_PAINT_WAIT)
                now = time.monotonic()
            else:
                self.post_message(Indexed(count, fraction, False))
            first_report, last_report = first_report or now, now
            return not worker.is_cancelled

        warnings = self.index.fill(progress, every=8192)
        self.post_message(Indexed(len(self.index), 1.0, True, warnings))

    @_while_open
    def on_indexed(self, message: Indexed) -> None:
        if self.live is not None:  # a file's pass still reporting after the switch to live capture
            return
        packet_list = self.packet_list
        first = self.indexed == 0 and message.count > 0
        self.indexed = message.count
        packet_list.set_count(message.count)
        if first:
            packet_list.reselect()
            self.call_after_refresh(self._load_dissectors_once)
        if message.painted is not None:
            self.call_after_refresh(message.painted.set)
        self.indexing_done = message.done
        self.status.change(
            packets=message.count,
            displayed=packet_list.displayed,
            indexing=None if message.done else message.fraction,
        )
        if message.done:
            if message.warnings:
                self.notify(
                    escape_label("; ".join(message.warnings)), title="Capture file", severity="warning"
                )
            self.view_facts.total = self.indexed
            if self.indexed <= PREFIX_LIMIT:
                self.marks = bytearray(self.indexed)
                packet_list.marks = self.marks
                packet_list.reselect()
            # The views' facts come from the same pass, bounded to PREFIX_LIMIT packets.
            self.analyse()

    @work(thread=True, exclusive=True, group="analysis")
    def analyse(self) -> None:
        """Row colours and the views' facts from one annotated pass; during a live capture the pass
        follows the capture, and reports whenever it has caught up with it."""
        worker = get_current_worker()

        def progress(count: int, fraction: float) -> bool:
            self.post_message(Analysed(fraction))
            return not worker.is_cancelled

        from analyzer.session import dissect_frames
        from analyzer.state.tcp_tags import dissection_tags

        marks, facts, feed, recent = self.marks, self.view_facts, self.feed, self.recent_trees
        tags = self.packet_list.tags
        reported = -1

        def caught_up() -> None:
            nonlocal reported
            if facts.analysed != reported:
                progress(facts.analysed, 1.0)
                reported = facts.analysed

        reading = feed.reading(lambda: not worker.is_cancelled, caught_up)

        def each(dissection: Dissection) -> bool:
            number = dissection.frame.number - 1
            if feed.live:
                if number >= len(marks):  # a live capture's marks grow with it
                    marks.extend(bytes(number + 1 - len(marks)))
                recent[number] = dissection
                recent.pop(number - RECENT_TREES, None)
            if number < len(marks):
                marks[number] = dissection_marks(dissection)
                found = dissection_tags(dissection)
                if found:
                    tags[number] = found
            if facts.analysed % 512 == 0:
                total = facts.total if feed.live else min(self.indexed, facts.limit)
                return progress(facts.analysed, facts.analysed / max(total, 1))
            return True

        if collect(dissect_frames(reading, prefs=self._prefs()), facts, each) and not worker.is_cancelled:
            progress(facts.analysed, 1.0)

    @_while_open
    def on_analysed(self, message: Analysed) -> None:
        packet_list = self.packet_list
        if len(packet_list.tags) != self._tags_shown:  # rows drawn before their tags came
            self._tags_shown = len(packet_list.tags)
            packet_list.refresh_rows()
        else:
            packet_list.refresh()
        awaited = self._awaited_tree
        if awaited >= 0 and awaited == self.packet_list.selected_packet and self._show_recent_tree(awaited):
            self._awaited_tree = -1
        self.status.change(analysing=None if message.fraction >= 1.0 else message.fraction)

    # -- selection ----------------------------------------------------------------------------

    def _prefs(self) -> Preferences:
        return Preferences(resolve_names=self.resolve_names)

    @_while_open
    def on_packet_list_selected(self, message: PacketList.Selected) -> None:
        packet = message.packet
        tree, hex_pane = self.query_one(LayerTree), self.query_one(HexPane)
        if packet < 0 or not self.dissectors_ready:
            tree.show(None)
            hex_pane.show(b"" if packet < 0 else self.index.data(packet))
            return
        small = (self.indexing_done or self.live is not None) and self.indexed <= PREFIX_LIMIT
        self._awaited_tree = -1
        if small and self.live is not None and self._show_recent_tree(packet):
            return
        from analyzer.pipeline import dissect_frame

        dissection = dissect_frame(self.index.frame(packet), times=self._times(packet), prefs=self._prefs())
        if small and self.live is not None and packet >= self.view_facts.analysed:
            note = "[Stream fields (tcp.stream, relative numbers, analysis): the analysis is catching up…]"
        elif small:
            note = "[Stream fields (tcp.stream, relative numbers, analysis): replaying earlier packets…]"
        elif self.indexing_done or self.live is not None:
            note = f"[Stream fields not shown: single-packet view of a capture over {PREFIX_LIMIT:,} packets]"
        else:
            note = "[Stream fields not shown while indexing]"
        tree.show(dissection, note)
        hex_pane.show(dissection.frame.data)
        self._highlight(tree.cursor_node)
        if small:
            self._tree_request += 1
            if self.live is None:
                self.annotate(packet, self._tree_request)
            elif packet >= self.view_facts.analysed:
                self._awaited_tree = packet  # the analysis pass will have it (on_analysed)
            else:
                # A list that follows a busy capture selects a new packet every report: replay
                # only for a selection that stays put a moment.
                request = self._tree_request
                self.set_timer(LIVE_TREE_DELAY, lambda: self._annotate_if_current(packet, request))

    def _show_recent_tree(self, packet: int) -> bool:
        """Show the live analysis pass's tree of `packet` if it is among the latest it kept."""
        dissection = self.recent_trees.get(packet)
        if dissection is None:
            return False
        self._tree_request += 1  # a replay still on its way is for an older selection
        tree = self.query_one(LayerTree)
        tree.show(dissection)
        self.query_one(HexPane).show(dissection.frame.data)
        self._highlight(tree.cursor_node)
        return True

    def _annotate_if_current(self, packet: int, request: int) -> None:
        if request == self._tree_request and packet == self.packet_list.selected_packet:
            self.annotate(packet, request)

    def _times(self, packet: int) -> FrameTimes:
        stamps = self.index.__dict__["timestamp_ns"]
        previous = stamps[packet - 1] if packet else stamps[packet]
        return FrameTimes(stamps[0], previous, previous)

    @work(thread=True, exclusive=True, group="prefix")
    def annotate(self, packet: int, request: int = 0) -> None:
        worker = get_current_worker()
        if self.prefix is None:
            self.prefix = PrefixDissector(self.feed, self._prefs())
        dissection = self.prefix.dissect(packet, lambda: not worker.is_cancelled)
        if dissection is not None and not worker.is_cancelled:
            self.post_message(Annotated(packet, dissection, request))

    @_while_open
    def on_annotated(self, message: Annotated) -> None:
        if message.packet != self.packet_list.selected_packet:
            return
        if message.request != self._tree_request:
            # A cancelled worker's result, posted before it was cancelled: a newer tree of the same
            # packet is on its way, and showing this one in between would move the tree's cursor.
            return
        tree = self.query_one(LayerTree)
        tree.show(message.dissection)  # type: ignore[arg-type]
        self._highlight(tree.cursor_node)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[TreeItem]) -> None:
        self._highlight(event.node)

    def _highlight(self, node: object) -> None:
        tree, hex_pane = self.query_one(LayerTree), self.query_one(HexPane)
        dissection = tree.dissection
        data = getattr(node, "data", None)
        if dissection is None:
            return
        if not isinstance(data, TreeItem):
            hex_pane.show(dissection.frame.data)
            hex_pane.set_highlight(0, 0)
            return
        source = data.layer.source
        title = dissection.sources[source].name if source else ""
        hex_pane.show(dissection.source_data(data.layer), title)
        hex_pane.set_highlight(data.offset, data.length)

    def on_hex_pane_byte_clicked(self, message: HexPane.ByteClicked) -> None:
        tree, hex_pane = self.query_one(LayerTree), self.query_one(HexPane)
        dissection = tree.dissection
        if dissection is None:
            return
        best: Field | Layer | None = None
        best_size = 1 << 62
        for layer in dissection.layers:
            if dissection.source_data(layer) is not hex_pane.data:
                continue
            candidates: Iterable[Field | Layer] = [layer, *layer.walk()]
            for item in candidates:
                hidden = isinstance(item, Field) and item.hidden
                covers = item.offset <= message.offset < item.offset + item.length
                # Ties go to the later item: the deeper field, or the upper layer.
                if covers and not hidden and item.length <= best_size and id(item) in tree.nodes_by_item:
                    best, best_size = item, item.length
        if best is not None:
            tree.reveal(best)

    # -- filter -------------------------------------------------------------------------------

    def on_filter_bar_applied(self, message: FilterBar.Applied) -> None:
        self.filter_generation += 1
        self.workers.cancel_group(self, "filter")
        packet_list = self.packet_list
        found = message.display_filter
        self.display_filter = found
        if found is None or found.constant is True:
            packet_list.set_rows(None, 0)
            self.status.change(filter_text=message.text, displayed=packet_list.displayed, filtering=None)
            return
        rows: array[int] = array("I")
        packet_list.set_rows(rows, 0)
        self.status.change(filter_text=message.text, displayed=0, filtering=None if found.constant else 0.0)
        if found.constant is None:
            self.run_filter(self.filter_generation, found, rows)

    @work(thread=True, exclusive=True, group="filter")
    def run_filter(self, generation: int, display_filter: DisplayFilter, rows: array[int]) -> None:
        worker = get_current_worker()

        def progress(matched: int, fraction: float) -> bool:
            self.post_message(Filtered(generation, rows, matched, fraction))
            return not worker.is_cancelled

        filter_rows(self.feed, display_filter, rows, progress, lambda: not worker.is_cancelled)

    @_while_open
    def on_filtered(self, message: Filtered) -> None:
        if message.generation != self.filter_generation:
            return
        packet_list = self.packet_list
        was_empty = packet_list.displayed == 0
        following = self._following()
        packet_list.set_rows(message.rows, message.matched)
        if following and packet_list.displayed:
            packet_list.cursor = packet_list.displayed - 1
        elif was_empty and packet_list.displayed:
            packet_list.reselect()
        self.status.change(
            displayed=packet_list.displayed, filtering=None if message.fraction >= 1.0 else message.fraction
        )

    @_while_open
    def on_filter_bar_left(self) -> None:
        self.packet_list.focus()

    # -- actions ------------------------------------------------------------------------------

    def action_filter(self) -> None:
        # Focus at once, so the keys typed right after "/" go to the filter (see GoToPrompt.open).
        self.screen.set_focus(self.query_one(FilterBar).input)

    def action_go_to(self) -> None:
        self.query_one(GoToPrompt).open()

    def on_go_to_prompt_chosen(self, message: GoToPrompt.Chosen) -> None:
        self.packet_list.focus()
        if message.number is None:
            return
        if not self.packet_list.go_to_packet(message.number - 1):
            self.notify(f"Packet {message.number} is not displayed", severity="warning")

    def action_last(self) -> None:
        self.packet_list.action_last()
        self.packet_list.focus()

    def action_time_format(self) -> None:
        packet_list = self.packet_list
        packet_list.time_format = TIME_FORMATS[
            (TIME_FORMATS.index(packet_list.time_format) + 1) % len(TIME_FORMATS)
        ]
        packet_list.refresh_rows()
        self.status.change(time_format=packet_list.time_format)
        from .packet_list import TIME_FORMAT_NAMES

        self.notify(f"Time: {TIME_FORMAT_NAMES[packet_list.time_format]}", timeout=2)

    def action_names(self) -> None:
        self.resolve_names = not self.resolve_names
        self.index.resolve_names = self.resolve_names
        self.prefix = None
        self.packet_list.refresh_rows()
        self.packet_list.reselect()
        self.status.change(resolve_names=self.resolve_names)

    def _focused_pane(self) -> Widget:
        focused = self.focused
        for selector in PANES:
            pane = self.query_one(selector)
            if focused is pane:
                return pane
        return self.packet_list

    def action_pane(self, number: int) -> None:
        self.query_one(PANES[number]).focus()

    def action_maximize_pane(self) -> None:
        if self.screen.maximized is not None:
            self.screen.minimize()
        else:
            self.screen.maximize(self._focused_pane(), container=False)

    def action_grow(self) -> None:
        self._resize(5 if self._focused_pane() is self.packet_list else -5)

    def action_shrink(self) -> None:
        self._resize(-5 if self._focused_pane() is self.packet_list else 5)

    def _resize(self, step: int) -> None:
        self.list_share = max(15, min(85, self.list_share + step))
        self._apply_layout()

    def action_copy(self, what: str) -> None:
        pane = self._focused_pane()
        tree = self.query_one(LayerTree)
        node = tree.cursor_node
        item = node.data if node is not None else None
        text = ""
        if pane is self.packet_list and what == "field":
            if self.packet_list.selected_packet >= 0:
                text = self.packet_list.line_text(self.packet_list.cursor)
        elif item is not None and what == "field":
            text = item.label
        elif item is not None and what == "value":
            text = item.value
        elif what == "bytes" and tree.dissection is not None:
            if item is not None and item.length > 0 and item.offset >= 0:
                data = tree.dissection.source_data(item.layer)[item.offset : item.offset + item.length]
            else:
                data = tree.dissection.frame.data
            text = data.hex()
        if not text:
            self.bell()
            return
        self.copy_to_clipboard(text)
        self.notify(f"Copied {len(text)} characters", timeout=2)

    # -- views (analyzer/tui/views_*.py) ------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The packet-list keys mean nothing on a view screen: hide them there (the views and
        # modal screens have their own), keeping only Ctrl+Q/Ctrl+P style app keys.
        if action in LIVE_ACTIONS and self.live is None:
            return False
        if action in FOCUS_ACTIONS and (isinstance(self.focused, Input) or len(self.screen_stack) > 1):
            return False  # a priority key typed into a text box or another screen is its own
        return not isinstance(self.screen, ViewScreen) or action not in self._packet_list_actions

    @functools.cached_property
    def _packet_list_actions(self) -> frozenset[str]:
        return frozenset(action.partition("(")[0] for _key, action, _text, _shown in self.KEYS)

    def _facts_ready(self) -> bool:
        """True when the views' facts may be read: the pass is done, or it follows a live capture
        (the view then shows what it has analysed so far)."""
        if self.view_facts.complete or self.live is not None:
            return True
        done = self.view_facts.analysed / max(min(self.indexed, self.view_facts.limit), 1)
        self.notify(f"Still analysing the capture ({done:.0%}); try again in a moment", timeout=3)
        return False

    def _first_ns(self) -> int:
        stamps = self.index.__dict__["timestamp_ns"]
        return int(stamps[0]) if len(self.index) else 0

    def _open_view(self, screen: Screen[ViewResult | None]) -> None:
        self.push_screen(screen, self._view_closed)

    def _open_facts_view(self, make: Callable[[ViewFacts], Screen[ViewResult | None]]) -> None:
        """Open a view that reads the analysis facts: a live capture's as a snapshot, taken
        between two packets of the pass, which goes on while the view is open."""
        if not self._facts_ready():
            return
        facts = self.view_facts
        if self.live is not None:
            with facts.lock:
                facts = facts.snapshot()
        self._open_view(make(facts))

    def _view_closed(self, result: ViewResult | None) -> None:
        self.packet_list.focus()
        if result is None:
            return
        if result.reopen:
            self.call_later(self.run_action, result.reopen)
        elif result.filter is not None:
            self.apply_filter_text(result.filter)
        elif result.packet and not self.packet_list.go_to_packet(result.packet - 1):
            self.notify(f"Packet {result.packet} is not displayed (clear the filter)", severity="warning")

    def apply_filter_text(self, text: str) -> None:
        """Apply `text` as the display filter, as if typed into the filter bar."""
        from analyzer.filter import FilterError

        from .filter_bar import check_filter

        found = check_filter(text)
        if isinstance(found, FilterError):
            self.notify(escape_label(str(found)), severity="error")
            return
        bar = self.query_one(FilterBar)
        bar.input.value = text
        bar.input.remember(text)
        bar.active = text
        self.on_filter_bar_applied(FilterBar.Applied(text, found))

    def action_follow(self) -> None:
        from .views_follow import FollowScreen

        packet = self.packet_list.selected_packet
        if packet < 0:
            self.bell()
            return
        self._open_view(FollowScreen(self.feed.records, packet + 1))

    def action_conversations(self) -> None:
        from .views_conversations import ConversationsScreen

        first = self._first_ns()
        self._open_facts_view(lambda facts: ConversationsScreen(facts.flows(), first, facts.note()))

    def action_handshakes(self) -> None:
        from .views_handshakes import HandshakesScreen

        self._open_facts_view(lambda facts: HandshakesScreen(facts, self._first_ns()))

    def action_transactions(self) -> None:
        from .views_transactions import TransactionsScreen

        self._open_facts_view(lambda facts: TransactionsScreen(facts, self._first_ns()))

    def action_statistics(self) -> None:
        from .views_stats import StatsScreen

        interface = self.live.iface if self.live is not None else ""
        self._open_facts_view(lambda facts: StatsScreen(self.path, facts, interface))

    def action_search(self) -> None:
        previous = self.search_query.text if self.search_query is not None else ""
        self.push_screen(AskScreen(SEARCH_HELP, previous), self._search_for)

    def _search_for(self, answer: str | None) -> None:
        self.packet_list.focus()
        if not answer:
            return
        try:
            self.search_query = SearchQuery.parse(answer)
        except BadQuery as bad:
            self.notify(escape_label(str(bad)), severity="error")
            return
        self.find(1, True)

    def action_find(self, step: int) -> None:
        if self.search_query is None or not self.dissectors_ready:
            self.bell()
            return
        self.find(step, False)

    @work(thread=True, exclusive=True, group="search")
    def find(self, step: int, include_current: bool) -> None:
        worker = get_current_worker()
        packet_list, query = self.packet_list, self.search_query
        count = packet_list.displayed
        if query is None or not count:
            return
        start = packet_list.cursor - step if include_current else packet_list.cursor
        position = find_packet(
            self.index, packet_list.packet_at, count, start, step, query, lambda: not worker.is_cancelled
        )
        if not worker.is_cancelled:
            self.call_from_thread(self._found, position)

    def _found(self, position: int) -> None:
        if position < 0:
            self.notify("No packet matches", severity="warning", timeout=2)
            return
        self.packet_list.cursor = position

    def action_toggle_mark(self) -> None:
        packet_list = self.packet_list
        packet = packet_list.selected_packet
        if packet < 0:
            self.bell()
            return
        packet_list.user_marks ^= {packet}
        packet_list.refresh()

    def action_next_mark(self) -> None:
        packet_list = self.packet_list
        for packet in marks_after(packet_list.user_marks, packet_list.selected_packet):
            if packet_list.go_to_packet(packet):
                return
        self.notify("No marked packet is displayed", severity="warning", timeout=2)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.KEYS))

    def action_leave(self) -> None:
        if self.screen.maximized is not None:
            self.screen.minimize()
            return
        self.exit(0)

    def key_escape(self) -> None:
        if self.screen.maximized is not None:
            self.screen.minimize()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for key, action, text, _shown in self.KEYS:
            if action == "leave" or (action in LIVE_ACTIONS and self.live is None):
                continue
            shown_key = (
                key.split(",")[0]
                .replace("slash", "/")
                .replace("question_mark", "?")
                .replace("apostrophe", "'")
            )
            yield SystemCommand(text, f"Key: {shown_key}", self._palette_action(action))

    def _palette_action(self, action: str) -> Callable[[], None]:
        def run() -> None:
            self.call_later(self.run_action, action)

        return run

    def on_unmount(self) -> None:
        sys.setswitchinterval(self._switch_interval)
        if self.live is not None:
            self.live.capture.stop()  # the worker closes it
        if self._pending_capture is not None:
            self._pending_capture.close()
        self.workers.cancel_all()
        self.index.close()

    # -- live capture (analyzer/tui/live.py) --------------------------------------------------

    def _start_chosen(self, iface: str | None) -> None:
        self.packet_list.focus()
        if iface is not None:
            self.start_live(iface)

    def start_live(self, iface: str, bpf: str | None = None) -> bool:
        """Capture on `iface` in place of what is shown; False (and a notification) if it cannot."""
        try:
            capture = open_live(iface, bpf)
        except LiveCaptureError as bad:
            self.notify(escape_label(str(bad)), title="Live capture", severity="error", timeout=10)
            return False
        self._begin_live(capture)
        return True

    def _begin_live(self, capture: LiveCapture) -> None:
        if self.live is not None:
            self.live.capture.stop()
        for group in ("index", "analysis", "prefix", "filter", "search"):
            self.workers.cancel_group(self, group)
        self.live_generation += 1
        source = LiveSource(capture, self.live_generation)
        previous, self.live, self.index = self.index, source, source.index
        self.feed = source.feed
        previous.close()
        self.path = ""
        self.indexed, self.indexing_done = 0, False
        self.filter_generation += 1
        self.display_filter = None
        self.prefix = None
        self.marks = bytearray()
        self.recent_trees = {}
        self._awaited_tree = -1
        self.view_facts = ViewFacts(PREFIX_LIMIT, live=True)
        self.index.resolve_names = self.resolve_names
        packet_list = self.packet_list
        packet_list.attach(self.index)
        packet_list.marks, packet_list.user_marks, packet_list.tags = self.marks, set(), {}
        self._tags_shown = 0
        packet_list.set_rows(None, 0)
        packet_list.set_count(0)
        packet_list.cursor = 0
        packet_list.reselect()
        self.status.change(
            live=source.status_text(), packets=0, displayed=0, filter_text="", indexing=None, analysing=None
        )
        self.refresh_bindings()
        self._pump(source)
        self.analyse()
        # A display filter stays on across a restart (as in Wireshark) and follows the new capture.
        bar = self.query_one(FilterBar)
        if bar.active:
            self.apply_filter_text(bar.active)

    @work(thread=True, group="live")
    def _pump(self, source: LiveSource) -> None:
        def report(count: int, stats: CaptureStats) -> None:
            source.feed.publish(count)
            self.post_message(LiveProgress(source.generation, count, stats))

        try:
            error = run_capture(source.capture, source.index, report, feed=source.feed)
        finally:
            source.feed.end(len(source.index))
        stats = source.capture.stats()
        self.post_message(LiveEnded(source.generation, len(source.index), stats, error))

    @_while_open
    def on_live_progress(self, message: LiveProgress) -> None:
        source = self.live
        if source is None or message.generation != source.generation:
            return
        source.stats = message.stats
        self._show_live_count(message.count)

    @_while_open
    def on_live_ended(self, message: LiveEnded) -> None:
        source = self.live
        if source is None or message.generation != source.generation:
            return
        source.running = False
        source.stats = message.stats
        self._show_live_count(message.count)
        if message.error is not None:
            self.notify(escape_label(message.error), title="Live capture", severity="error", timeout=10)

    def _following(self) -> bool:
        """A live list follows the newest packet while its cursor is on the last row; moving up
        stops that, and G (the last row) starts it again."""
        packet_list = self.packet_list
        return self.live is not None and packet_list.cursor >= packet_list.displayed - 1

    def _show_live_count(self, count: int) -> None:
        source, packet_list = self.live, self.packet_list
        assert source is not None
        following = self._following()
        first = self.indexed == 0 and count > 0
        self.indexed = count
        self.view_facts.total = count
        packet_list.set_count(count)
        if following and count:
            packet_list.cursor = packet_list.displayed - 1
        elif first:
            packet_list.reselect()
        self.status.change(live=source.status_text(), packets=count, displayed=packet_list.displayed)

    def action_stop_capture(self) -> None:
        if self.live is None or not self.live.running:
            self.bell()
            return
        self.live.capture.stop()

    def action_restart_capture(self) -> None:
        if self.live is None:
            self.bell()
            return
        # Like Wireshark's restart: the packets so far are dropped and a new capture begins.
        self.start_live(self.live.iface, self.live.capture.bpf)

    def action_save_capture(self) -> None:
        if self.live is None:
            self.bell()
            return
        name = f"layerscope-{self.live.iface}.pcapng"
        self.push_screen(
            AskScreen("Save the capture as (a .pcap name writes pcap, else pcapng):", name), self.save
        )

    def save(self, path: str | None) -> None:
        """Save the packets shown so far of the live capture to `path` (in a worker)."""
        self.packet_list.focus()
        if not path or self.live is None:
            return
        self._save_worker(self.live, self.packet_list.count, path)

    @work(thread=True, group="save")
    def _save_worker(self, source: LiveSource, count: int, path: str) -> None:
        try:
            written = save_capture(source.index, count, path, source.iface, source.capture.linktype)
        except OSError as exc:
            problem = f"{exc.filename or path}: {exc.strerror or exc}"
            self.call_from_thread(self.notify, escape_label(problem), title="Save", severity="error")
            return
        self.call_from_thread(self._saved, path, written)

    def _saved(self, path: str, count: int) -> None:
        self.saved = (path, count)
        self.notify(escape_label(f"Saved {count:,} packets to {path}"), title="Save", timeout=4)


def run_tui(path: str | Path | None, capture: LiveCapture | None = None) -> int:
    """Open the TUI on `path`, a live `capture`, or the bundled sample capture with its start screen."""
    from captures.samples import sample_path

    if capture is not None:
        app = LayerscopeApp(capture=capture)
        result = app.run()
        return result if isinstance(result, int) else 0
    start = path is None
    app = LayerscopeApp(sample_path() if path is None else path, start_screen=start)
    result = app.run()
    return result if isinstance(result, int) else 0
