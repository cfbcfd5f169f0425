"""Running a display filter over a capture: which frames match, with tshark's displayed-frame times.

tshark dissects every frame in one pass and shows those the filter accepts: the summary's
cross-frame state (relative sequence numbers, echo pairing) still sees every frame, while
frame.time_delta_displayed and the "dd" time format refer to the previous DISPLAYED frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple, TextIO

from analyzer.context import FrameTimes, Preferences
from analyzer.filter import DisplayFilter
from analyzer.filter.fastpath import FAST_NAMES, fast_packet
from analyzer.filter.packet import Packet, TreePacket
from analyzer.model import Dissection
from analyzer.pipeline import dissect_frame
from analyzer.registry import Registry
from analyzer.state.annotate import StreamAnnotator
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

    Filters that read only fast-path names are answered from struct-decoded headers, and a tree
    is built only where the fast path is unsure (an ICMP error's quoted packet, a truncated
    header) or the caller wants one.
    """
    fast = (
        display_filter is not None
        and not display_filter.needs_tree
        and set(display_filter.names) <= FAST_NAMES
    )
    constant = display_filter.constant if display_filter is not None else True
    # The TCP/UDP trackers must see every frame in order: once trees are wanted (output or a
    # filter the fast path cannot answer), every frame is dissected and annotated.
    annotator = StreamAnnotator() if want_tree or (not fast and constant is None) else None
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
        if annotator is not None:
            dissection = annotator.annotate(
                dissect_frame(frame, registry, times=times, prefs=prefs, strict=strict)
            )
        if display_filter is None or constant is not None:
            shown = bool(constant)
        elif dissection is not None:
            shown = display_filter.matches(dissection)
        else:
            packet: Packet | None = fast_packet(frame)
            if packet is None:  # not a plain packet: the tree answers (fast names need no trackers)
                tree = dissect_frame(frame, registry, times=times, prefs=prefs, strict=strict)
                packet = TreePacket(tree, display_filter.names)
            shown = display_filter.matches_packet(packet)
        if shown:
            displayed_ns = stamp
        yield Selected(frame, shown, dissection if shown else None)


def displayed(selection: Iterable[Selected]) -> Iterator[Selected]:
    return (item for item in selection if item.shown)


def write_filtered_summary(
    selection: Iterable[Selected], out: TextIO, time_format: str = "r", resolve_names: bool = False
) -> int:
    """tshark's summary lines for the displayed frames; the Summarizer still sees every frame."""
    summarizer = Summarizer(resolve_names=resolve_names)
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
