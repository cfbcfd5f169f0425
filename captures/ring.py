"""Streaming capture-file output for live captures: one file, stdout, or a ring buffer of files.

The writers in captures/writer.py pull frames from an iterator and write each one before pulling
the next; the feeds here sit between them and the capture. A `None` in the incoming stream marks
a pause in traffic: the feed flushes the file there, so a reader following the file (tail -f,
`layerscope read -r -` on a pipe) sees each packet promptly. A feed also ends a file once it has
reached its size (`-b filesize:KB`, `-a filesize:KB`); ring files are named as dumpcap names them,
`prefix_00001_YYYYmmddHHMMSS.ext`, and only the newest N are kept.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from captures.frame import Frame
from captures.writer import write_pcap, write_pcapng

FORMATS = ("pcapng", "pcap")


@dataclass(slots=True)
class RingSpec:
    """`-b filesize:KB,files:N`: start a new file after `file_bytes`; keep the newest `files` (0 = all)."""

    file_bytes: int
    files: int = 0


@dataclass(slots=True)
class WriteResult:
    frames: int = 0
    paths: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def ring_file_name(base: str, number: int, when: float | None = None) -> str:
    """dumpcap's name for ring file `number` of `base`: the suffix goes before the extension."""
    stamp = time.strftime("%Y%m%d%H%M%S", time.localtime(time.time() if when is None else when))
    directory, name = os.path.split(base)
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        stem, extension = name, ""
    suffix = f"_{number:05d}_{stamp}"
    return os.path.join(directory, f"{stem}{suffix}.{extension}" if extension else f"{stem}{suffix}")


class _Feed:
    """Frames for one file at a time, pulled from a shared stream of frames and pause marks."""

    def __init__(self, items: Iterator[Frame | None]) -> None:
        self._items = items
        self._pending: Frame | None = None
        self.ended = False
        self.count = 0

    def has_more(self) -> bool:
        """Wait for the next frame (flushing nothing: no file is open); False once the stream ends."""
        while self._pending is None and not self.ended:
            item = next(self._items, _END)
            if item is _END:
                self.ended = True
            elif isinstance(item, Frame):
                self._pending = item
        return self._pending is not None

    def frames(self, out: BinaryIO, max_bytes: int | None) -> Iterator[Frame]:
        while True:
            # Control is back here only once the writer has written the previous frame.
            if max_bytes is not None and out.tell() >= max_bytes:
                return
            if self._pending is not None:
                frame, self._pending = self._pending, None
            else:
                item = next(self._items, _END)
                if item is _END:
                    self.ended = True
                    return
                if not isinstance(item, Frame):
                    out.flush()
                    continue
                frame = item
            self.count += 1
            yield frame


_END = object()


def _write_one(out: BinaryIO, frames: Iterator[Frame], file_format: str, linktype: int) -> None:
    if file_format == "pcapng":
        write_pcapng(out, frames)
    else:
        # Microsecond pcap, as dumpcap writes it; the interface's single link type.
        write_pcap(out, frames, linktype)
    out.flush()


def write_stream(
    items: Iterator[Frame | None], out: BinaryIO, file_format: str, linktype: int
) -> WriteResult:
    """Everything into one open stream (a file or standard output); flushed at every pause."""
    feed = _Feed(items)
    _write_one(out, feed.frames(out, None), file_format, linktype)
    return WriteResult(feed.count)


def write_file(
    items: Iterator[Frame | None], path: str, file_format: str, linktype: int, max_bytes: int | None = None
) -> WriteResult:
    """Everything into one file, stopping once it reaches `max_bytes` (`-a filesize`)."""
    feed = _Feed(items)
    with open(path, "wb") as out:
        _write_one(out, feed.frames(out, max_bytes), file_format, linktype)
    return WriteResult(feed.count, [path])


def write_ring(
    items: Iterator[Frame | None], base: str, file_format: str, linktype: int, ring: RingSpec
) -> WriteResult:
    """A ring buffer of files of about `ring.file_bytes` each, keeping the newest `ring.files`.

    A new file is opened only when a frame is there to go into it, so no empty file is left behind.
    """
    feed = _Feed(items)
    result = WriteResult()
    number = 0
    while number == 0 or feed.has_more():
        number += 1
        path = ring_file_name(base, number)
        with open(path, "wb") as out:
            result.paths.append(path)
            _write_one(out, feed.frames(out, ring.file_bytes), file_format, linktype)
        while ring.files and len(result.paths) - len(result.removed) > ring.files:
            oldest = result.paths[len(result.removed)]
            with contextlib.suppress(FileNotFoundError):
                os.remove(oldest)
            result.removed.append(oldest)
        if feed.ended:
            break
    result.frames = feed.count
    return result
