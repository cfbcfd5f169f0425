"""Our `-T fields` cells equal tshark 4.0's, cell by cell, for every golden group and capture."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.export.fields import field_text
from analyzer.session import iter_dissections

GOLDEN = Path(__file__).resolve().parent / "golden"
DATA = Path(__file__).resolve().parent / "data"


def golden_files() -> list[Path]:
    return sorted((GOLDEN / "out").glob("*/*.tsv"))


@pytest.mark.parametrize("golden", golden_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fields_equal_tshark(golden: Path) -> None:
    capture = DATA / golden.name.removesuffix(".tsv")
    lines = golden.read_text(encoding="utf-8").split("\n")
    header = lines[0].split("\t")
    expected = [line.split("\t") for line in lines[1:] if line != ""]
    mismatches: list[str] = []
    count = 0
    for row, dissection in zip(expected, iter_dissections(capture, strict=True), strict=False):
        count += 1
        for name, want in zip(header, row, strict=True):
            got = field_text(dissection, name)
            if got != want:
                mismatches.append(f"frame {dissection.frame.number} {name}: ours {got!r} tshark {want!r}")
    assert count == len(expected), f"{capture.name}: we read {count} frames, tshark {len(expected)}"
    assert not mismatches, f"{len(mismatches)} cells differ:\n" + "\n".join(mismatches[:40])
