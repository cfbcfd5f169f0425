"""The TUI's background passes, free of any widget: each runs in a worker thread and reports through
a `progress` callback (which returns False to stop). Results are shared with the UI as arrays that
only grow; the UI reads only the prefix a progress report has published.

- `filter_rows`: which packets a display filter shows (one streamed pass, `select_frames`).
- `dissection_marks`: a packet's colouring marks (problems, retransmissions) from its annotated tree.
- `PrefixDissector`: a packet's tree with its stream-dependent fields (tcp.stream, relative
  numbers, analysis), by running the annotators over every frame before it. It keeps its
  position, so walking down the list costs one frame per step; going back starts over.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from analyzer.context import Preferences
from analyzer.model import Dissection, Severity

if TYPE_CHECKING:
    from analyzer.filter import DisplayFilter

    from .feeds import FrameFeed

from .packet_list import MARK_ERROR, MARK_RETRANSMISSION, MARK_WARNING

# Prefix dissection and the analysis pass cost about 1 ms a frame: beyond this many packets the
# tree shows single-frame dissection and rows are coloured from the index alone.
PREFIX_LIMIT = 50_000
REPORT_EVERY = 4096
_RETRANSMISSIONS = frozenset(
    {
        "tcp.analysis.retransmission",
        "tcp.analysis.fast_retransmission",
        "tcp.analysis.spurious_retransmission",
    }
)

Progress = Callable[[int, float], bool]


def filter_rows(
    feed: FrameFeed,
    display_filter: DisplayFilter,
    rows: array[int],
    progress: Progress,
    keep_going: Callable[[], bool] = lambda: True,
) -> bool:
    """Append the 0-based number of every packet the filter shows; False if stopped early.

    On a live feed the pass follows the capture, reporting whenever it has caught up."""
    from analyzer.filter.apply import select_frames  # the filter machinery loads on first use

    stopped = False
    scanned, reported = 0, -1

    def going() -> bool:
        return not stopped and keep_going()

    def caught_up() -> None:
        nonlocal stopped, reported
        if scanned != reported:
            stopped = stopped or not progress(len(rows), 1.0)
            reported = scanned

    reading = feed.reading(going, caught_up)
    for frame, shown, _tree in select_frames(reading, display_filter):
        scanned += 1
        if shown:
            rows.append(frame.number - 1)
        if scanned % REPORT_EVERY == 0:
            stopped = not progress(len(rows), reading.fraction)
            if stopped:
                return False
    if stopped or not keep_going():
        return False
    progress(len(rows), 1.0)
    return True


def dissection_marks(dissection: Dissection) -> int:
    """The colouring marks of one annotated packet."""
    mark = 0
    worst = max((found.severity for found in dissection.problems), default=Severity.CHAT)
    if worst >= Severity.ERROR:
        mark |= MARK_ERROR
    elif worst >= Severity.WARNING:
        mark |= MARK_WARNING
    if any(item.name in _RETRANSMISSIONS for item in dissection.walk()):
        mark |= MARK_RETRANSMISSION
    return mark


class PrefixDissector:
    """Annotated trees of single packets, by replaying the capture up to them (see module doc)."""

    def __init__(self, feed: FrameFeed, prefs: Preferences | None = None) -> None:
        self.feed = feed
        self.prefs = prefs
        self._lock = threading.Lock()
        self._stream: Iterator[Dissection] | None = None
        self._next = 0  # 0-based number of the packet the stream yields next

    def dissect(self, packet: int, keep_going: Callable[[], bool]) -> Dissection | None:
        """The annotated tree of `packet` (0-based), or None if stopped or past the end."""
        with self._lock:
            if not keep_going():
                return None  # a newer request queued behind this one: do not restart its replay
            if self._stream is None or packet < self._next:
                from analyzer.session import dissect_frames

                self._stream = dissect_frames(self.feed.replay(), prefs=self.prefs)
                self._next = 0
            for dissection in self._stream:
                self._next += 1
                if dissection.frame.number - 1 == packet:
                    return dissection
                if self._next % 256 == 0 and not keep_going():
                    return None
            self._stream = None
            return None
