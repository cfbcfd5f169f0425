"""Where the TUI's background passes read frames: a capture file streamed from disk, or a live capture's
in-memory index, followed as it grows.

A pass (display filter, colouring analysis, stream-aware tree, follow) asks its feed for a
`Reading`: the frames in capture order, and how far through them it has got. A file's reading
ends at the end of the file. A live reading ends only when the capture has stopped and every
packet it took has been read; until then it waits for the capture worker to `publish` more,
telling its pass when it has caught up (`idle`), so that the pass can report what it has so far.
A replay never waits: a tree's replay reads what is published, a follow reads a snapshot.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from analyzer.index import PacketIndex
from captures.frame import Frame
from captures.pcapfile import open_capture, open_stream
from captures.types import RawRecord

# How often a live reading that has caught up checks whether its pass was cancelled.
WAIT_SECONDS = 0.25
# While the capture worker has a backlog, the passes pause this long between frames: every
# packet socket read releases the GIL, and a busy pass would make the capture wait for it each
# time; the capture must keep up, the passes catch up later.
BACKOFF_SECONDS = 0.002

KeepGoing = Callable[[], bool]


def _always() -> bool:
    return True


class Reading(Protocol):
    """One pass over a feed: its frames, and the fraction of the feed read so far."""

    fraction: float

    def __iter__(self) -> Iterator[Frame]: ...


class FrameFeed(Protocol):
    """Frames for the background passes (see module doc)."""

    live: bool

    def reading(self, keep_going: KeepGoing = _always, idle: Callable[[], None] | None = None) -> Reading: ...

    def replay(self) -> Iterator[Frame]: ...

    def records(self) -> Iterator[RawRecord]: ...


class _FileReading:
    def __init__(self, path: str) -> None:
        self.path = path
        self.fraction = 0.0

    def __iter__(self) -> Iterator[Frame]:
        # Read in chunks (bounded memory, unlike the mapped reader the packet list uses).
        with open(self.path, "rb") as raw:
            size = max(os.fstat(raw.fileno()).st_size, 1)
            for frame in open_stream(raw, self.path):
                self.fraction = raw.tell() / size
                yield frame
        self.fraction = 1.0


class FileFeed:
    """The frames of a capture file."""

    live = False

    def __init__(self, path: str) -> None:
        self.path = path

    def reading(self, keep_going: KeepGoing = _always, idle: Callable[[], None] | None = None) -> Reading:
        return _FileReading(self.path)

    def replay(self) -> Iterator[Frame]:
        return iter(_FileReading(self.path))

    def records(self) -> Iterator[RawRecord]:
        with open_capture(self.path) as reader:
            yield from reader.records()


class _LiveReading:
    def __init__(self, feed: LiveFeed, keep_going: KeepGoing, idle: Callable[[], None] | None) -> None:
        self.feed, self.keep_going, self.idle = feed, keep_going, idle
        self.read = 0
        self.fraction = 0.0

    def __iter__(self) -> Iterator[Frame]:
        feed, frame = self.feed, self.feed.index.frame
        while True:
            available = feed.available
            while self.read < available:
                while feed.busy and self.keep_going():
                    time.sleep(BACKOFF_SECONDS)
                yield frame(self.read)
                self.read += 1
            self.fraction = 1.0
            if feed.ended and self.read >= feed.available:
                return
            if self.idle is not None:
                self.idle()
            if not feed.wait_beyond(self.read, self.keep_going):
                return
            self.fraction = self.read / max(feed.available, 1)


class LiveFeed:
    """The frames of a live capture's index; `publish` says how many are complete (see module doc)."""

    live = True

    def __init__(self, index: PacketIndex) -> None:
        self.index = index
        self.available = 0
        self.ended = False
        self.busy = False  # the capture worker has a backlog (see BACKOFF_SECONDS)
        self._changed = threading.Condition()

    def publish(self, count: int) -> None:
        """The first `count` packets of the index are complete (called by the capture worker)."""
        with self._changed:
            self.available = max(self.available, count)
            self._changed.notify_all()

    def end(self, count: int) -> None:
        """The capture has stopped with `count` packets: readings end once they have read them."""
        with self._changed:
            self.available = max(self.available, count)
            self.ended = True
            self._changed.notify_all()

    def wait_beyond(self, count: int, keep_going: KeepGoing) -> bool:
        """Wait until more than `count` packets are published (True), or until the capture has ended
        or `keep_going()` turns False (False)."""
        with self._changed:
            while self.available <= count:
                if self.ended or not keep_going():
                    return False
                self._changed.wait(WAIT_SECONDS)
        return True

    def reading(self, keep_going: KeepGoing = _always, idle: Callable[[], None] | None = None) -> Reading:
        return _LiveReading(self, keep_going, idle)

    def replay(self) -> Iterator[Frame]:
        """The packets published so far, and those published while it is read; it never waits."""
        number, frame = 0, self.index.frame
        while number < self.available:
            while self.busy and not self.ended:
                time.sleep(BACKOFF_SECONDS)
            yield frame(number)
            number += 1

    def records(self) -> Iterator[RawRecord]:
        """The packets published when it was called (a snapshot for follow)."""
        end, record = self.available, self.index.record
        return (record(i) for i in range(end))
