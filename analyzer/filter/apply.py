"""Running a display filter over a capture: which frames match, with tshark's displayed-frame times.

tshark dissects every frame in one pass and shows those the filter accepts: the summary's
cross-frame state (relative sequence numbers, echo pairing) still sees every frame, while
frame.time_delta_displayed and the "dd" time format refer to the previous DISPLAYED frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple, TextIO

from analyzer.context import FrameTimes, Preferences
from analyzer.filter import DisplayFilter
from analyzer.filter.fastpath import FAST_NAMES, fast_packet
from analyzer.filter.packet import Packet, TreePacket
from analyzer.filter.prefilter import build_gate, needs_annotators, reads_global
from analyzer.model import Dissection
from analyzer.pipeline import default_registry, dissect_frame
from analyzer.registry import Registry
from analyzer.session import ANNOTATORS, Annotator
from analyzer.summary import Summarizer, TimeColumn, format_line
from analyzer.textsafe import escape_lines
from captures.frame import Frame


class Selected(NamedTuple):
    """One frame of the capture, whether it is displayed, and its tree if one was built."""

    frame: Frame
    shown: bool
    dissection: Dissection | None


def select_frames(
    frames: Iterable[Frame],
    display_filter: DisplayFilter | None,
    registry: Registry | None = None,
    prefs: Preferences | None = None,
    strict: bool = False,
    want_tree: bool = False,
) -> Iterator[Selected]:
    """Every frame in order with the filter's verdict; displayed frames carry a tree if `want_tree`.

    Each frame is answered as cheaply as it can be: filters that read only fast-path names from
    struct-decoded headers; a frame the protocol prefilter proves cannot match, with no tree; the
    rest with a tree, annotated only when the filter reads state-dependent names (then the
    annotators see every frame the prefilter lets through, or every frame: see
    analyzer.filter.prefilter). Trees for output (`want_tree`) are annotated on every frame.
    """
    prefs = prefs if prefs is not None else Preferences()
    plan = _Plan(display_filter, registry if registry is not None else default_registry(), prefs, want_tree)
    annotators: list[Annotator] | None = [make() for make in ANNOTATORS] if plan.annotate else None
    first_ns: int | None = None
    previous_ns: int | None = None
    displayed_ns: int | None = None
    for frame in frames:
        stamp = frame.timestamp_ns
        if first_ns is None:
            first_ns = stamp
        times = FrameTimes(
            first_ns,
            previous_ns if previous_ns is not None else stamp,
            displayed_ns if displayed_ns is not None else stamp,
        )
        previous_ns = stamp
        dissection: Dissection | None = None
        # The fast path first: a plain packet needs no header scan by the prefilter.
        packet: Packet | None = fast_packet(frame) if plan.fast and not plan.annotate_all else None
        admitted = packet is not None or plan.gate is None or plan.gate(frame)
        if annotators is not None and (admitted or plan.annotate_all):
            dissection = dissect_frame(frame, registry, times=times, prefs=prefs, strict=strict)
            for annotator in annotators:
                dissection = annotator.annotate(dissection)
        if display_filter is None or plan.constant is not None:
            shown = bool(plan.constant)
        elif not admitted:
            shown = False
        elif dissection is not None:
            shown = display_filter.matches(dissection)
        else:
            if packet is None:  # the tree answers (the filter reads no state-dependent name)
                tree = dissect_frame(frame, registry, times=times, prefs=prefs, strict=strict)
                packet = TreePacket(tree, display_filter.names)
            shown = display_filter.matches_packet(packet)
        if shown:
            displayed_ns = stamp
        yield Selected(frame, shown, dissection if shown else None)


class _Plan:
    """How select_frames answers a filter: fast path, prefilter, which frames get annotators."""

    __slots__ = ("annotate", "annotate_all", "constant", "fast", "gate")

    def __init__(
        self, display_filter: DisplayFilter | None, registry: Registry, prefs: Preferences, want_tree: bool
    ) -> None:
        self.constant = display_filter.constant if display_filter is not None else True
        names = display_filter.names if display_filter is not None else {}
        self.fast = display_filter is not None and not display_filter.needs_tree and set(names) <= FAST_NAMES
        decided = self.constant is not None
        gate = None
        if display_filter is not None and not decided and display_filter.requires:
            defragment = prefs.defragment_ipv4 or prefs.defragment_ipv6
            gate = build_gate(list(display_filter.requires), registry, defragment)
        # Reassembly (IP fragments, TCP segments) changes what a frame holds, and needs every frame.
        reassembling = prefs.defragment_ipv4 or prefs.defragment_ipv6 or prefs.desegment_tcp
        if reassembling and not decided:
            self.fast, gate = False, None
        stateful = not decided and not self.fast and (reassembling or needs_annotators(names))
        # Output trees must be those of an unfiltered run: every frame goes through the annotators.
        self.annotate_all = want_tree or reassembling or (stateful and (gate is None or reads_global(names)))
        self.annotate = self.annotate_all or stateful
        self.gate: Callable[[Frame], bool] | None = gate


def displayed(selection: Iterable[Selected]) -> Iterator[Selected]:
    return (item for item in selection if item.shown)


def write_filtered_summary(
    selection: Iterable[Selected],
    out: TextIO,
    time_format: str = "r",
    resolve_names: bool = False,
    prefs: Preferences | None = None,
) -> int:
    """tshark's summary lines for the displayed frames; the Summarizer still sees every frame."""
    summarizer = Summarizer.for_lines(resolve_names, prefs)
    clock = TimeColumn("d" if time_format == "dd" else time_format)
    shown_count = 0
    for frame, shown, _tree in selection:
        stamp, digits = frame.timestamp_ns, frame.ts_digits
        row = summarizer.summarize(frame.number, stamp, frame.wire_len, frame.linktype, digits, frame.data)
        if time_format != "dd":
            time_text = clock.text(stamp, digits)
        if not shown:
            continue
        if time_format == "dd":
            time_text = clock.text(stamp, digits)  # fed displayed frames only: delta to the last shown
        out.write(escape_lines(format_line(row, time_text)) + "\n")
        shown_count += 1
    return shown_count
