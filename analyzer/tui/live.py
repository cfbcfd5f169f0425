"""Live capture in the TUI: a worker thread feeds LiveCapture's frames into an in-memory PacketIndex.

The worker runs one `PacketIndex.extend()` over every frame of the capture (so the summaries'
cross-frame state, such as TCP sequence bases, lasts the whole capture) and reports the count of
complete records at most every REPORT_SECONDS: thousands of packets a second cost the UI thread
a few messages a second, not one per packet. Nothing here touches a widget.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from textual.message import Message

from analyzer.export.atomic import atomic_binary
from analyzer.index import PacketIndex
from captures.frame import Frame
from captures.live import CaptureStats, LiveCapture, LiveCaptureError, as_record
from captures.types import RawRecord
from captures.writer import write_pcap, write_pcapng

from .feeds import LiveFeed

REPORT_SECONDS = 0.1
BATCH = 512  # packets taken from the socket at a time
BACKLOG = 64  # a batch this big means packets are waiting: the passes back off (feeds.py)
# A live capture is held in memory (the index keeps every packet's bytes): past this much the
# capture stops and says so, rather than let a long capture exhaust the machine.
MEMORY_LIMIT = 2 << 30
# How long the capture waits for traffic before handing the worker an empty batch: also the
# longest a lone packet waits before it is shown.
IDLE_SECONDS = 0.1

Report = Callable[[int, CaptureStats], None]


@dataclass(slots=True)
class LiveSource:
    """One run of a live capture: the open capture, the index it fills, and its counts so far."""

    capture: LiveCapture
    generation: int
    index: PacketIndex = field(default_factory=lambda: PacketIndex(None, keep_bytes=True))
    running: bool = True
    stats: CaptureStats = field(default_factory=lambda: CaptureStats(0, 0, 0))
    feed: LiveFeed = field(init=False)  # the index as the background passes read it

    def __post_init__(self) -> None:
        self.feed = LiveFeed(self.index)

    @property
    def iface(self) -> str:
        return self.capture.iface

    def status_text(self) -> str:
        state = "" if self.running else " (stopped)"
        # A backlog in the socket: packets are arriving faster than the list shows them.
        backlog = " · catching up" if self.running and self.feed.busy else ""
        return (
            f"Live: {self.iface}{state} · received {self.stats.captured:,}"
            f" · dropped {self.stats.kernel_dropped:,}{backlog}"
        )


class LiveProgress(Message):
    """`count` packets of capture `generation` are in its index and safe to read."""

    def __init__(self, generation: int, count: int, stats: CaptureStats) -> None:
        super().__init__()
        self.generation, self.count, self.stats = generation, count, stats


class LiveEnded(Message):
    """Capture `generation` has stopped; `error` is the one-line reason when it failed."""

    def __init__(self, generation: int, count: int, stats: CaptureStats, error: str | None) -> None:
        super().__init__()
        self.generation, self.count, self.stats, self.error = generation, count, stats, error


def run_capture(
    capture: LiveCapture,
    index: PacketIndex,
    report: Report,
    memory_limit: int = MEMORY_LIMIT,
    feed: LiveFeed | None = None,
) -> str | None:
    """Index frames until `capture.stop()`, or until the index holds `memory_limit` bytes; closes
    the capture. Returns why it stopped on its own (a failure or the limit), if it did.

    `feed.busy` tells the passes reading the index when the socket holds a backlog."""
    last_report = 0.0
    pending = False
    full: str | None = None

    def records() -> Iterator[RawRecord]:
        nonlocal last_report, pending, full
        for batch in capture.batches(max_batch=BATCH, idle_seconds=IDLE_SECONDS):
            if feed is not None:
                feed.busy = len(batch) >= BACKLOG
            # extend() appends each record before asking for the next, so every record of the
            # earlier batches is complete here and the count may be published.
            now = time.monotonic()
            if pending and (not batch or now - last_report >= REPORT_SECONDS):
                report(len(index), capture.stats())
                last_report, pending = now, False
            for frame in batch:
                yield as_record(frame)
            pending = pending or bool(batch)
            if index.memory_bytes() >= memory_limit:
                full = (
                    f"Capture stopped: its {len(index):,} packets fill the {_size(memory_limit)} "
                    "it may keep in memory; save them (w) and restart (R), or capture to files "
                    "with `layerscope capture -w FILE -b filesize:KB,files:N`"
                )
                break

    try:
        index.extend(records())
    except LiveCaptureError as gone:
        return str(gone)
    finally:
        capture.close()
        if feed is not None:
            feed.busy = False
    return full


def _size(count: int) -> str:
    return f"{count / 2**30:g} GiB" if count >= 2**30 else f"{count / 2**20:g} MiB"


def save_format(path: str) -> str:
    """ "pcap" for a .pcap name, otherwise "pcapng" (the default, as in Wireshark)."""
    return "pcap" if Path(path).suffix.lower() == ".pcap" else "pcapng"


def save_capture(index: PacketIndex, count: int, path: str, iface: str, linktype: int) -> int:
    """Write the first `count` packets to `path` atomically; returns the number written."""

    def frames() -> Iterator[Frame]:
        for i in range(count):
            frame = index.frame(i)
            yield dataclasses.replace(frame, interface_name=iface, ts_digits=9)

    with atomic_binary(path) as out:
        if save_format(path) == "pcap":
            return write_pcap(out, frames(), linktype, nanosecond=True)
        return write_pcapng(out, frames())


def open_live(iface: str, bpf: str | None) -> LiveCapture:
    """Open `iface` for capture; LiveCaptureError carries the one-line reason it cannot be."""
    return LiveCapture(iface, bpf or None)


__all__ = [
    "LiveCaptureError",
    "LiveEnded",
    "LiveProgress",
    "LiveSource",
    "open_live",
    "run_capture",
    "save_capture",
    "save_format",
]
