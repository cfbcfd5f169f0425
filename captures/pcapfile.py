"""Capture files: pcap, pcapng and gzip-compressed either, framed into Frames (TEMPORARY minimal version)."""

from __future__ import annotations

import gzip
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from os import PathLike
from typing import BinaryIO

import dpkt  # type: ignore[import-untyped]

from captures.frame import Frame


class CaptureError(Exception):
    """A file that cannot be read as a capture; `str()` is the one line shown to users."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(slots=True)
class InterfaceInfo:
    linktype: int
    name: str | None = None
    snaplen: int = 0


@dataclass(slots=True)
class CaptureInfo:
    format: str
    compressed: bool = False
    interfaces: list[InterfaceInfo] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


class CaptureReader:
    """Iterates the Frames of one capture file; `warnings` collects non-fatal problems."""

    def __init__(self, path: str, stream: BinaryIO) -> None:
        self.path = path
        self._stream = stream
        self.warnings: list[str] = []
        head = stream.read(4)
        stream.seek(0)
        try:
            if head == b"\x0a\x0d\x0d\x0a":
                self._reader = dpkt.pcapng.Reader(stream)
                fmt = "pcapng"
            else:
                self._reader = dpkt.pcap.Reader(stream)
                fmt = "pcap"
        except Exception as exc:
            raise CaptureError(path, f"not a pcap or pcapng capture ({exc})") from None
        self.info = CaptureInfo(fmt, interfaces=[InterfaceInfo(self._reader.datalink())])

    def __iter__(self) -> Iterator[Frame]:
        linktype = self._reader.datalink()
        number = 0
        try:
            for ts, buf in self._reader:
                number += 1
                ns = int(round(float(ts) * 1e9))
                yield Frame(number, ns, bytes(buf), len(buf), linktype)
        except Exception as exc:
            self.warnings.append(f"{self.path}: stopped after {number} packets: {exc}")

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> CaptureReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_capture(path: str | PathLike[str]) -> CaptureReader:
    name = str(path)
    try:
        raw = sys.stdin.buffer.read() if name == "-" else open(name, "rb").read()
    except OSError as exc:
        raise CaptureError(name, exc.strerror or str(exc)) from None
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return CaptureReader(name, io.BytesIO(raw))
