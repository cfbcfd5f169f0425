"""Session: the one object front ends drive (open a source, dissect frames on demand)."""

from __future__ import annotations

from collections.abc import Iterator
from os import PathLike

from analyzer.context import FrameTimes, Preferences
from analyzer.model import Dissection
from analyzer.pipeline import dissect_frame
from analyzer.registry import Registry
from captures.pcapfile import open_capture


def iter_dissections(
    path: str | PathLike[str],
    registry: Registry | None = None,
    prefs: Preferences | None = None,
    strict: bool = False,
) -> Iterator[Dissection]:
    """Dissect every frame of a capture in order, with tshark's time references."""
    first_ns: int | None = None
    previous_ns: int | None = None
    with open_capture(path) as reader:
        for frame in reader:
            if first_ns is None:
                first_ns = frame.timestamp_ns
            prev = previous_ns if previous_ns is not None else frame.timestamp_ns
            times = FrameTimes(first_ns, prev, prev)
            previous_ns = frame.timestamp_ns
            yield dissect_frame(frame, registry, times=times, prefs=prefs, strict=strict)
