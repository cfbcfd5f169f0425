"""The background passes follow a live capture: LiveFeed readings wait for published packets and end
with the capture; a display filter run on a growing feed finds old and new packets; the capture
worker stops at its memory limit and says why. A fake capture replays a real file (no root)."""

from __future__ import annotations

import threading
import time
from array import array
from collections.abc import Iterator
from pathlib import Path

from analyzer.filter import compile_filter
from analyzer.filter.apply import select_frames
from analyzer.index import PacketIndex
from analyzer.tui.feeds import FileFeed, LiveFeed
from analyzer.tui.live import run_capture
from analyzer.tui.workers import filter_rows
from captures.frame import Frame
from captures.live import CaptureStats, as_record
from captures.pcapfile import open_capture

HTTP = Path(__file__).resolve().parents[2] / "tests" / "data" / "http.pcap"


def _frames() -> list[Frame]:
    with open_capture(HTTP) as reader:
        return list(reader)


def _index_of(frames: list[Frame]) -> PacketIndex:
    index = PacketIndex(None, keep_bytes=True)
    index.extend(as_record(frame) for frame in frames)
    return index


def test_live_reading_waits_for_published_packets_and_ends_with_the_capture() -> None:
    frames = _frames()
    feed = LiveFeed(_index_of(frames))
    idles: list[int] = []
    reading = feed.reading(idle=lambda: idles.append(len(seen)))
    seen: list[int] = []

    def consume() -> None:
        seen.extend(frame.number for frame in reading)

    feed.publish(10)
    worker = threading.Thread(target=consume)
    worker.start()
    time.sleep(0.3)
    assert seen == list(range(1, 11))  # caught up: it waits rather than ending
    assert idles and idles[0] == 10
    feed.publish(25)
    time.sleep(0.3)
    assert seen == list(range(1, 26))
    feed.end(len(frames))
    worker.join(5)
    assert not worker.is_alive()
    assert seen == list(range(1, len(frames) + 1))


def test_live_reading_stops_when_its_pass_is_cancelled() -> None:
    feed = LiveFeed(_index_of(_frames()))
    cancelled = threading.Event()
    reading = feed.reading(lambda: not cancelled.is_set())
    feed.publish(3)
    seen: list[int] = []
    worker = threading.Thread(target=lambda: seen.extend(frame.number for frame in reading))
    worker.start()
    time.sleep(0.1)
    cancelled.set()
    worker.join(2)
    assert not worker.is_alive() and seen == [1, 2, 3]


def test_replay_and_records_read_only_what_is_published() -> None:
    frames = _frames()
    feed = LiveFeed(_index_of(frames))
    feed.publish(7)
    assert [frame.number for frame in feed.replay()] == list(range(1, 8))
    assert [record[6] for record in feed.records()] == [frame.data for frame in frames[:7]]
    file_feed = FileFeed(str(HTTP))
    assert [frame.data for frame in file_feed.replay()] == [frame.data for frame in frames]


def test_a_filter_follows_the_capture() -> None:
    frames = _frames()
    feed = LiveFeed(_index_of(frames))
    display_filter = compile_filter("tcp.flags.syn == 1")
    expected = [
        number for number, (_f, shown, _t) in enumerate(select_frames(frames, display_filter)) if shown
    ]
    assert len(expected) >= 4
    rows: array[int] = array("I")
    reports: list[tuple[int, float]] = []

    def progress(matched: int, fraction: float) -> bool:
        reports.append((matched, fraction))
        return True

    half = expected[len(expected) // 2]  # publish up to (not including) a later SYN
    feed.publish(half)
    worker = threading.Thread(target=filter_rows, args=(feed, display_filter, rows, progress))
    worker.start()
    time.sleep(0.5)
    assert list(rows) == [n for n in expected if n < half]
    assert reports and reports[-1] == (len(rows), 1.0)  # it reported once caught up
    feed.end(len(frames))
    worker.join(10)
    assert not worker.is_alive()
    assert list(rows) == expected


class _FakeCapture:
    """A LiveCapture stand-in that hands out a file's frames in batches of 8, then idles."""

    iface = "fake0"
    bpf = None
    linktype = 1

    def __init__(self, frames: list[Frame]) -> None:
        self.frames = frames
        self.stopped = threading.Event()
        self.closed = False

    def batches(self, max_batch: int = 512, idle_seconds: float = 0.25) -> Iterator[list[Frame]]:
        for start in range(0, len(self.frames), 8):
            if self.stopped.is_set():
                return
            yield self.frames[start : start + 8]
        while not self.stopped.is_set():
            yield []
            time.sleep(0.01)

    def stats(self) -> CaptureStats:
        return CaptureStats(0, 0, 0)

    def stop(self) -> None:
        self.stopped.set()

    def close(self) -> None:
        self.closed = True


def test_the_capture_stops_at_its_memory_limit_and_says_why() -> None:
    frames = _frames()
    capture = _FakeCapture(frames * 50)
    index = PacketIndex(None, keep_bytes=True)
    limit = 64 * 1024
    error = run_capture(capture, index, lambda count, stats: None, memory_limit=limit)  # type: ignore[arg-type]
    assert capture.closed
    assert error is not None and "Capture stopped" in error and "0.0625 MiB" in error
    assert f"{len(index):,} packets" in error
    # It stopped at the first batch boundary past the limit: bounded, and nothing was lost.
    assert limit <= index.memory_bytes() < limit + 8 * 2000
    assert [index.data(i) for i in range(len(index))] == [f.data for f in (frames * 50)[: len(index)]]


def test_the_capture_runs_until_stopped_under_its_limit() -> None:
    frames = _frames()
    capture = _FakeCapture(frames)
    index = PacketIndex(None, keep_bytes=True)
    counts: list[int] = []
    threading.Timer(0.5, capture.stop).start()
    error = run_capture(capture, index, lambda count, stats: counts.append(count))  # type: ignore[arg-type]
    assert error is None and capture.closed
    assert len(index) == len(frames) and counts and counts[-1] == len(frames)
