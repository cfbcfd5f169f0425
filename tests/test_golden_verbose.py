"""Our `-V` trees agree with tshark 4.0's, section by section (goldens: make_verbose_goldens.py).

tshark prints analysis that later issues add (stream indexes, relative sequence numbers,
SEQ/ACK analysis, reassembly, application layers), so the comparison is one-sided: for each
packet, every top-level section we print (a layer, or a pseudo-item such as
`[Malformed Packet: DNS]`) must find a section with the same header line in tshark's packet,
in order, and every line of ours must appear in that section in order (a subsequence), at the
same indentation level. Only our `Data (N bytes)` sections may go unmatched: tshark decodes
some payloads we leave as data.
"""

from __future__ import annotations

import gzip
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from analyzer.context import Preferences
from analyzer.export.text import tree_lines
from analyzer.session import iter_dissections

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden" / "out" / "verbose"
DATA = HERE / "data"
FRAME_HEADER = re.compile(r"Frame \d+: ")
HEX_LINE = re.compile(r"[0-9a-f]{4,8}  ")

# Header parts that need cross-frame state a later issue adds: TCP's relative sequence numbers.
LATER_ISSUE_HEADER_PARTS = re.compile(r", (?:Seq|Ack): \d+")

Line = tuple[int, str]  # (indentation level, text without leading spaces)


@dataclass
class Section:
    header: str
    lines: list[Line] = field(default_factory=list)


@dataclass
class Coverage:
    packets: int = 0
    sections: int = 0
    lines: int = 0
    unmatched_data_sections: int = 0
    failures: list[str] = field(default_factory=list)


def split_packets(lines: list[str]) -> list[list[str]]:
    packets: list[list[str]] = []
    for line in lines:
        if FRAME_HEADER.match(line):
            packets.append([])
        if packets:
            packets[-1].append(line)
    return packets


def split_sections(packet: list[str]) -> list[Section]:
    """Top-level sections: a column-0 line starts one; hex dump lines stay in the current one."""
    sections: list[Section] = []
    for line in packet:
        if not line.strip():
            continue
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if indent == 0 and not HEX_LINE.match(line):
            sections.append(Section(line))
        elif sections:
            sections[-1].lines.append((indent // 4, stripped))
    return sections


def same_header(ours: str, theirs: str) -> bool:
    if ours == theirs:
        return True
    return ours.startswith("Transmission Control Protocol") and LATER_ISSUE_HEADER_PARTS.sub(
        "", ours
    ) == LATER_ISSUE_HEADER_PARTS.sub("", theirs)


def compare_packet(number: int, ours: list[Section], theirs: list[Section], cov: Coverage) -> None:
    start = 0
    for section in ours:
        found = next(
            (i for i in range(start, len(theirs)) if same_header(section.header, theirs[i].header)), None
        )
        if found is None:
            if section.header.startswith("Data ("):
                cov.unmatched_data_sections += 1
                continue
            wanted = " | ".join(s.header for s in theirs[start:])
            cov.failures.append(f"frame {number}: section {section.header!r} not in tshark's: {wanted}")
            continue
        start = found + 1
        cov.sections += 1
        their_lines = theirs[found].lines
        position = 0
        for line in section.lines:
            while position < len(their_lines) and their_lines[position] != line:
                position += 1
            if position == len(their_lines):
                cov.failures.append(f"frame {number} [{section.header}]: ours {line!r} not found in order")
                break
            position += 1
            cov.lines += 1


def our_text(capture: Path) -> Iterator[list[str]]:
    prefs = Preferences(resolve_names=False)
    for dissection in iter_dissections(capture, prefs=prefs, strict=True):
        yield list(tree_lines(dissection))


def compare_capture(golden: Path) -> Coverage:
    capture = DATA / golden.name.removesuffix(".txt.gz")
    theirs = split_packets(gzip.decompress(golden.read_bytes()).decode("utf-8").split("\n"))
    cov = Coverage()
    for number, lines in enumerate(our_text(capture), start=1):
        cov.packets += 1
        if number > len(theirs):
            break
        compare_packet(number, split_sections(lines), split_sections(theirs[number - 1]), cov)
    if cov.packets != len(theirs):
        cov.failures.append(f"{capture.name}: we read {cov.packets} frames, tshark {len(theirs)}")
    return cov


@pytest.fixture
def utc() -> Iterator[None]:
    """Arrival times print in the local zone; the goldens were made under TZ=UTC."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def goldens() -> list[Path]:
    return sorted(
        path for path in GOLDEN.glob("*.txt.gz") if (DATA / path.name.removesuffix(".txt.gz")).exists()
    )


@pytest.mark.parametrize("golden", goldens(), ids=lambda path: path.name.removesuffix(".txt.gz"))
def test_verbose_tree_matches_tshark(golden: Path, utc: None) -> None:
    cov = compare_capture(golden)
    assert cov.sections > 0
    assert not cov.failures, f"{len(cov.failures)} differences:\n" + "\n".join(cov.failures[:30])


def test_comparison_catches_a_wrong_line() -> None:
    """The comparison itself: a changed value, a wrong indentation or a foreign header all fail."""
    theirs = split_sections(["Frame 1: x", "    A: 1", "        B: 2", "Eth", "    C: 3", "0000  aa   ."])
    cov = Coverage()
    compare_packet(1, split_sections(["Frame 1: x", "        B: 2", "Eth", "    C: 3"]), theirs, cov)
    assert not cov.failures and cov.lines == 2 and cov.sections == 2
    for wrong in (["Frame 1: x", "    B: 2"], ["Frame 1: x", "    A: 9"], ["Frame 1: y"], ["Ip"]):
        cov = Coverage()
        compare_packet(1, split_sections(wrong), theirs, cov)
        assert cov.failures, wrong
    cov = Coverage()
    compare_packet(1, split_sections(["Frame 1: x", "    B: 2", "    A: 1"]), theirs, cov)
    assert cov.failures  # out of order


if __name__ == "__main__":
    os.environ["TZ"] = "UTC"
    time.tzset()
    total = Coverage()
    for path in goldens():
        result = compare_capture(path)
        print(
            f"{path.name}: {result.packets} packets, {result.sections} sections, {result.lines} lines,"
            f" {result.unmatched_data_sections} data sections unmatched, {len(result.failures)} failures"
        )
        for failure in result.failures[: int(os.environ.get("SHOW_FAILURES", "3"))]:
            print("   ", failure)
        for name in ("packets", "sections", "lines", "unmatched_data_sections"):
            setattr(total, name, getattr(total, name) + getattr(result, name))
        total.failures += result.failures
    print(
        f"TOTAL: {total.packets} packets, {total.sections} sections, {total.lines} lines,"
        f" {len(total.failures)} failures"
    )
