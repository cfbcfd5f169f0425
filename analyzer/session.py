"""Session: the one object front ends drive (open a source, dissect frames on demand)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from os import PathLike
from typing import Protocol

from analyzer.context import FrameTimes, Preferences
from analyzer.model import Dissection
from analyzer.pipeline import dissect_frame
from analyzer.registry import Registry
from analyzer.state.annotate import StreamAnnotator
from analyzer.state.arp_watch import ArpWatchAnnotator
from analyzer.state.defrag_annotate import DefragAnnotator
from analyzer.state.desegment import Desegmenter
from analyzer.state.dhcp_pairing import DhcpPairingAnnotator
from analyzer.state.dns_pairing import DnsPairingAnnotator
from analyzer.state.http_pairing import HttpTransactions
from captures.frame import Frame
from captures.pcapfile import open_capture


class Annotator(Protocol):
    """A stateful step fed every dissection in capture order (sans-IO, one forward pass).

    It may add derived fields, problems and reassembled layers to the dissection it is given
    (see analyzer.pipeline.dissect_reassembled) and returns it.
    """

    def annotate(self, dissection: Dissection) -> Dissection: ...


# The stateful steps, in the order they run on each frame. Order matters: IP datagrams are
# put back together before the transport trackers see them, TCP numbering comes before
# stream reassembly, and reassembled messages before transaction pairing.
ANNOTATORS: tuple[Callable[[], Annotator], ...] = (
    DefragAnnotator,
    StreamAnnotator,
    Desegmenter,
    DnsPairingAnnotator,
    ArpWatchAnnotator,
    DhcpPairingAnnotator,
    HttpTransactions,
)


def dissect_frames(
    frames: Iterable[Frame],
    registry: Registry | None = None,
    prefs: Preferences | None = None,
    strict: bool = False,
    annotate: bool = True,
) -> Iterator[Dissection]:
    """Dissect frames in capture order with tshark's time references (first, previous frame).

    With `annotate` (the default), one forward pass of the TCP/UDP trackers adds tshark's
    stream-dependent items (tcp.stream, relative numbers, SEQ/ACK analysis, udp.stream...).
    """
    annotators = [make() for make in ANNOTATORS] if annotate else []
    first_ns: int | None = None
    previous_ns: int | None = None
    for frame in frames:
        if first_ns is None:
            first_ns = frame.timestamp_ns
        prev = previous_ns if previous_ns is not None else frame.timestamp_ns
        times = FrameTimes(first_ns, prev, prev)
        previous_ns = frame.timestamp_ns
        dissection = dissect_frame(frame, registry, times=times, prefs=prefs, strict=strict)
        for annotator in annotators:
            dissection = annotator.annotate(dissection)
        yield dissection


def iter_dissections(
    path: str | PathLike[str],
    registry: Registry | None = None,
    prefs: Preferences | None = None,
    strict: bool = False,
    annotate: bool = True,
) -> Iterator[Dissection]:
    """Dissect every frame of a capture file in order (see `dissect_frames`)."""
    with open_capture(path) as reader:
        yield from dissect_frames(reader, registry, prefs, strict, annotate)
