"""Our summary rows and `tshark -r` lines equal tshark 4.0's, for every capture in tests/data."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from analyzer.summary import Summarizer, TimeColumn, format_line, write_summary_lines
from captures.pcapfile import iter_records

TESTS = Path(__file__).resolve().parent.parent
GOLDEN = TESTS / "golden" / "out" / "summary"
DATA = TESTS / "data"

# Rows whose every protocol is one the summary decodes; others (DNS, HTTP, DHCP...) show the
# transport line here while tshark names the application, so only their first columns count.
COVERED = {"eth", "ethertype", "vlan", "ieee8021ad", "arp", "sll", "null", "raw", "ip", "ipv6"}
COVERED |= {"ipv6.hopopts", "ipv6.routing", "ipv6.dstopts", "ipv6.fraghdr", "icmp", "icmpv6"}
COVERED |= {"tcp", "udp", "data", "dns", "mdns", "llmnr", "dhcp"}
COVERED |= {"http", "data-text-lines", "urlencoded-form", "json"}
# TCP analysis tags ("[TCP Retransmission] ") need the TCP tracker, which only the summary lines
# (tcp_analysis) run: the rows of the packet index (the TUI) carry them from its analysis pass.
TCP_TAG = re.compile(r"\[TCP [^\]]*\] ?|\[Illegal Segments?\] ?")


def covered(protocols: str) -> bool:
    return all(name in COVERED for name in protocols.split(":"))


def golden_captures() -> list[Path]:
    return sorted(GOLDEN.glob("*.cols"))


def strip_tags(info: str) -> str:
    return TCP_TAG.sub("", info).rstrip() if "[TCP " in info or "[Illegal" in info else info


@pytest.mark.parametrize("tcp_analysis", [True, False], ids=["tagged", "untagged"])
@pytest.mark.parametrize("golden", golden_captures(), ids=lambda p: p.name.removesuffix(".cols"))
def test_summary_rows_equal_tshark(golden: Path, tcp_analysis: bool) -> None:
    """With tcp_analysis the rows equal tshark's; without (the packet index's rows) they equal
    them less the analysis tags."""
    capture = DATA / golden.name.removesuffix(".cols")
    expected = [line.split("\t") for line in golden.read_text(encoding="utf-8").splitlines()]
    summarizer = Summarizer(tcp_analysis=tcp_analysis)
    clock = TimeColumn("r")
    mismatches: list[str] = []
    compared = rows = 0
    for want, record in zip(expected, iter_records(capture), strict=False):
        rows += 1
        row = summarizer.feed(record)
        protocols, number, when, src, dst, proto, length, info = want
        got = [str(row.number), clock.text(row.timestamp_ns, row.ts_digits), row.source, row.destination]
        got.append(str(row.length))
        wanted = [number, when, src, dst, length]
        if covered(protocols):
            compared += 1
            got += [row.protocol, row.info]
            wanted += [proto, info if tcp_analysis else strip_tags(info)]
        if got != wanted:
            mismatches.append(f"frame {number} ({protocols}):\n  ours   {got}\n  tshark {wanted}")
    assert rows == len(expected), f"{capture.name}: we read {rows} frames, tshark {len(expected)}"
    assert not mismatches, f"{len(mismatches)} rows differ:\n" + "\n".join(mismatches[:20])


@pytest.mark.parametrize("golden", golden_captures(), ids=lambda p: p.name.removesuffix(".cols"))
def test_summary_lines_equal_tshark(golden: Path) -> None:
    capture = DATA / golden.name.removesuffix(".cols")
    lines = (GOLDEN / golden.name.replace(".cols", ".lines")).read_text(encoding="utf-8").splitlines()
    protocols = [line.split("\t", 1)[0] for line in golden.read_text(encoding="utf-8").splitlines()]
    out = io.StringIO()
    count = write_summary_lines(iter_records(capture), out)
    ours = out.getvalue().splitlines()
    assert count == len(lines) == len(ours)
    mismatches: list[str] = []
    for number, (mine, theirs, chain) in enumerate(zip(ours, lines, protocols, strict=True), start=1):
        if covered(chain):
            ok = mine == theirs
        else:
            # Up to the end of the Destination column: alignment, time, addresses.
            head = len(format_line_head(theirs))
            ok = mine[:head] == theirs[:head]
        if not ok:
            mismatches.append(f"frame {number}:\n  ours   {mine!r}\n  tshark {theirs!r}")
    assert not mismatches, f"{len(mismatches)} lines differ:\n" + "\n".join(mismatches[:20])


def format_line_head(line: str) -> str:
    """The part of a tshark line up to and including the space after the Destination column."""
    arrow = line.index(" → ")
    rest = line[arrow + 3 :]
    # The destination is padded to 12 characters; it may be longer than that.
    dest = rest.split(" ", 1)[0] if not rest.startswith(" ") else ""
    width = max(len(dest), 12)
    return line[: arrow + 3 + width + 1]


def test_line_layout_for_a_known_row() -> None:
    from analyzer.summary import SummaryRow

    row = SummaryRow(3, 0, 6, "10.77.0.1", "10.77.0.2", "UDP", 74, "34845 → 33433 Len=32")
    line = format_line(row, "0.423642")
    assert line == "    3   0.423642    10.77.0.1 → 10.77.0.2    UDP 74 34845 → 33433 Len=32"
