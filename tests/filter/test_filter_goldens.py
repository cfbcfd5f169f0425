"""Our display filters select the same frames as tshark 4.0's -Y, filter by filter, capture by capture.

Goldens come from tests/golden/make_filter_goldens.py (tshark with make_goldens.py's preferences);
every filter of the battery runs through the same selection the CLI uses (fast path where it can
answer, tree otherwise). A frame is compared only where tshark's protocol chain equals ours
(tests/golden/out/chains): where tshark dissects a protocol a later issue adds (HTTP, DNS,
DHCP), a filter on that protocol or on frame.protocols cannot agree yet. Those frames are
counted, and their share is bounded.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from analyzer.context import Preferences
from analyzer.filter import FilterError, compile_filter
from analyzer.filter.apply import select_frames
from analyzer.session import iter_dissections
from captures.pcapfile import open_capture

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "out" / "filter"
DATA = Path(__file__).resolve().parents[1] / "data"
PREFS = Preferences(resolve_names=False)


def golden_rows() -> dict[str, list[tuple[str, list[int]]]]:
    rows: dict[str, list[tuple[str, list[int]]]] = defaultdict(list)
    lines = (GOLDEN / "matches.tsv").read_text(encoding="utf-8").split("\n")[1:]
    for line in lines:
        if line:
            capture, text, frames = line.split("\t")
            rows[capture].append((text, [int(n) for n in frames.split(",") if n]))
    return rows


ROWS = golden_rows()


def matching_frames(capture: Path, text: str) -> list[int]:
    display_filter = compile_filter(text)
    with open_capture(capture) as reader:
        selection = select_frames(reader, display_filter, prefs=PREFS, strict=True)
        return [item.frame.number for item in selection if item.shown]


def uncomparable_frames(capture: str) -> set[int]:
    """Frames whose protocol chain differs from tshark's (a protocol we do not dissect yet)."""
    lines = (GOLDEN.parent / "chains" / f"{capture}.chain").read_text(encoding="utf-8").split("\n")[1:]
    theirs = [line for line in lines if line]
    ours = [d.protocols for d in iter_dissections(DATA / capture, prefs=PREFS, strict=True, annotate=False)]
    return {n for n, (a, b) in enumerate(zip(theirs, ours, strict=False), 1) if a != b}


@pytest.mark.parametrize("capture", sorted(ROWS))
def test_battery_matches_tshark(capture: str) -> None:
    if not (DATA / capture).exists():
        pytest.skip(f"{capture} is no longer in tests/data")
    skipped = uncomparable_frames(capture)
    mismatches = []
    for text, want in ROWS[capture]:
        got = [n for n in matching_frames(DATA / capture, text) if n not in skipped]
        want = [n for n in want if n not in skipped]
        if got != want:
            mismatches.append(f"{text!r}: ours {got} tshark {want}")
    frames = len((GOLDEN.parent / "chains" / f"{capture}.chain").read_text().split("\n")) - 2
    assert len(skipped) <= max(frames * 2 // 3, 8), f"{len(skipped)} of {frames} frames not comparable"
    assert not mismatches, f"{len(mismatches)} of {len(ROWS[capture])} filters differ:\n" + "\n".join(
        mismatches
    )


def error_rows() -> list[tuple[str, int, int, int, str]]:
    lines = (GOLDEN / "errors.tsv").read_text(encoding="utf-8").split("\n")[1:]
    rows = []
    for line in lines:
        if line:
            text, status, start, end, message = line.split("\t")
            rows.append((text, int(status), int(start), int(end), message))
    return rows


@pytest.mark.parametrize("row", error_rows(), ids=lambda row: repr(row[0]))
def test_broken_filter_is_rejected_where_tshark_points(row: tuple[str, int, int, int, str]) -> None:
    text, status, start, end, message = row
    if status == 0:  # tshark accepts it (an empty filter is no filter)
        compile_filter(text)
        return
    assert status == 2
    with pytest.raises(FilterError) as caught:
        compile_filter(text)
    if start >= 0:  # tshark drew a caret line: ours points at the same characters
        assert (caught.value.start, caught.value.end) == (start, end), caught.value.one_line()
    assert caught.value.message == message
