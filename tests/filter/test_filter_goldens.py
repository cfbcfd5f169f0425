"""Our display filters select the same frames as tshark 4.0's -Y, filter by filter, capture by capture.

Goldens come from tests/golden/make_filter_goldens.py (tshark with make_goldens.py's preferences);
each capture is dissected once and every filter of the battery is run over its trees, through
the same selection the CLI uses (fast path where it can answer, tree otherwise).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from analyzer.context import Preferences
from analyzer.filter import FilterError, compile_filter
from analyzer.filter.apply import select_frames
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


@pytest.mark.parametrize("capture", sorted(ROWS))
def test_battery_matches_tshark(capture: str) -> None:
    if not (DATA / capture).exists():
        pytest.skip(f"{capture} is no longer in tests/data")
    mismatches = []
    for text, want in ROWS[capture]:
        got = matching_frames(DATA / capture, text)
        if got != want:
            mismatches.append(f"{text!r}: ours {got} tshark {want}")
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
    assert status == 2
    with pytest.raises(FilterError) as caught:
        compile_filter(text)
    if start >= 0:
        assert (caught.value.start, caught.value.end) == (start, end), caught.value.one_line()
    assert caught.value.message == message or not message.startswith('"'), caught.value.message
