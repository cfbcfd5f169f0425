"""Our `-V` trees agree with tshark 4.0's, section by section (goldens: make_verbose_goldens.py).

tshark prints analysis that later issues add (stream indexes, relative sequence numbers,
SEQ/ACK analysis, reassembly, application layers), so the comparison is one-sided: for each
packet, every top-level section we print (a layer, or a pseudo-item such as
`[Malformed Packet: DNS]`) must find a section with the same header line in tshark's packet,
in order, and every line of ours must appear in that section in order (a subsequence), at the
same indentation level. tshark's extra sections (HTTP, DNS, DHCP...) and lines are thereby
not compared. A packet starts at its `Packet comments` tree when it has one, else at `Frame N:`.

A few of our lines are skipped, each counted by reason (`Coverage.skipped`), because tshark
prints them from work a later issue adds; every other line must match:

- `application`: in a frame whose tshark `frame.protocols` chain names a protocol our registry
  does not know (http, dns, dhcp, urlencoded-form...), or whose TCP port tshark binds to such
  a protocol (8080 is HTTP's in `tshark -G decodes`: it takes the non-HTTP bytes of
  tcp-rst.pcap without a tree item), our `[Protocols in frame: ...]` line (ours ends in
  `:data` where tshark names the application or nothing), and our `Data (N bytes)` or
  `Media Type` section (tshark decodes those bytes instead, e.g. as JSON), with its lines.
- `retransmission`: in a frame tshark's TCP analysis calls a retransmission (fast or spurious
  ones included) or an out-of-order segment (from the committed goldens
  out/tcp-analysis/CAPTURE.txt), tshark does not hand the payload on, so its chain lacks our
  trailing `:data` and it has no Data section: our frame.protocols line and our Data section
  are skipped.
- `connection`: our `[Connection]` node (Layerscope's own per-packet connection state, Zeek's
  conn_state and history so far) and our DHCP `[Transaction]` node, with their lines, which
  tshark does not have.

The test asserts that skipped tree lines stay a small share of all our tree lines
(MIN_COMPARED_SHARE per capture). Hex dump lines are counted apart (`Coverage.hex_lines`,
`skipped["hex dump"]`): a skipped Data section's dump repeats the bytes of its `Data:` line.
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
from analyzer.pipeline import default_registry
from analyzer.session import iter_dissections

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden" / "out" / "verbose"
DATA = HERE / "data"
FRAME_HEADER = re.compile(r"Frame \d+: ")
HEX_LINE = re.compile(r"[0-9a-f]{4,8}  ")

PROTOCOLS_LINE = re.compile(r"\[Protocols in frame: (.*)\]")
# Nodes of our own (Layerscope-only fields: layerscope.conn.*, layerscope.dhcp.*), skipped as "connection".
OWN_NODES = ("[Connection]", "[Transaction]")
# Our stand-ins for bytes tshark decodes with a protocol we lack: Data, and the Media Type section
# of a body whose media type has no dissector here (tshark: JavaScript Object Notation...).
DATA_HEADER = re.compile(r"Data \(\d+ bytes?\)|Media Type")
TCP_ANALYSIS = HERE / "golden" / "out" / "tcp-analysis"
RETRANSMISSION_COLUMNS = (
    "tcp.analysis.retransmission",
    "tcp.analysis.fast_retransmission",
    "tcp.analysis.spurious_retransmission",
    "tcp.analysis.out_of_order",
)
TCP_PORTS = re.compile(r"Transmission Control Protocol, Src Port: (\d+), Dst Port: (\d+)")
# TCP ports tshark 4.0 binds to an application protocol we do not decode yet (`tshark -G decodes`)
# and whose dissector may take the payload without showing it.
APPLICATION_TCP_PORTS = frozenset({8080})
# Pseudo-protocols tshark names in frame.protocols that are not layers of their own here.
PSEUDO_PROTOCOLS = frozenset({"ethertype"})
# At least this share of our lines must be compared rather than skipped, per capture.
MIN_COMPARED_SHARE = 0.9

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
    hex_lines: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + count

    @property
    def compared_share(self) -> float:
        """Compared tree lines over compared plus skipped tree lines."""
        skipped = sum(count for reason, count in self.skipped.items() if reason != "hex dump")
        total = self.lines + skipped
        return self.lines / total if total else 1.0


@dataclass(frozen=True)
class Skips:
    """Which of our lines a packet may leave uncompared (see the module docstring)."""

    application: bool = False
    retransmission: bool = False

    @property
    def reason(self) -> str:
        return "application" if self.application else "retransmission"

    @property
    def protocols_and_data(self) -> bool:
        return self.application or self.retransmission


def split_packets(lines: list[str]) -> list[list[str]]:
    """Packets start at `Frame N:`, or at the `Packet comments` tree printed before it."""
    packets: list[list[str]] = []
    for line in lines:
        comments_only = bool(packets) and all(
            not FRAME_HEADER.match(seen) for seen in packets[-1] if not seen.startswith(" ")
        )
        if line == "Packet comments" or (FRAME_HEADER.match(line) and not comments_only):
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
    return ours == theirs


def compare_packet(
    number: int, ours: list[Section], theirs: list[Section], cov: Coverage, skips: Skips = Skips()
) -> None:
    start = 0
    for section in ours:
        if skips.protocols_and_data and DATA_HEADER.fullmatch(section.header):
            dump = sum(1 for indent, text in section.lines if indent == 0 and HEX_LINE.match(text))
            cov.skip(skips.reason, 1 + len(section.lines) - dump)
            cov.skip("hex dump", dump)
            continue
        found = next(
            (i for i in range(start, len(theirs)) if same_header(section.header, theirs[i].header)), None
        )
        if found is None:
            wanted = " | ".join(s.header for s in theirs[start:])
            cov.failures.append(f"frame {number}: section {section.header!r} not in tshark's: {wanted}")
            continue
        start = found + 1
        cov.sections += 1
        their_lines = theirs[found].lines
        position = 0
        inside_connection: int | None = None
        for line in section.lines:
            if inside_connection is not None and line[0] > inside_connection:
                cov.skip("connection")
                continue
            inside_connection = None
            if line[1] in OWN_NODES:
                inside_connection = line[0]
                cov.skip("connection")
                continue
            if skips.protocols_and_data and PROTOCOLS_LINE.fullmatch(line[1]):
                cov.skip(skips.reason)
                continue
            while position < len(their_lines) and their_lines[position] != line:
                position += 1
            if position == len(their_lines):
                cov.failures.append(f"frame {number} [{section.header}]: ours {line!r} not found in order")
                break
            position += 1
            if line[0] == 0 and HEX_LINE.match(line[1]):
                cov.hex_lines += 1
            else:
                cov.lines += 1


def packet_skips(theirs: list[Section], retransmission: bool, known: frozenset[str]) -> Skips:
    chain: list[str] = []
    ports: set[int] = set()
    for section in theirs:
        if FRAME_HEADER.match(section.header):
            for _, text in section.lines:
                found = PROTOCOLS_LINE.fullmatch(text)
                if found:
                    chain = found.group(1).split(":")
        tcp = TCP_PORTS.match(section.header)
        if tcp:
            ports.update(int(port) for port in tcp.groups())
    application = any(name not in known for name in chain) or bool(ports & APPLICATION_TCP_PORTS)
    return Skips(application=application, retransmission=retransmission)


def retransmitted_frames(capture: Path) -> set[int]:
    """Frames tshark's TCP analysis flags as retransmissions (any kind)."""
    table = TCP_ANALYSIS / f"{capture.name}.txt"
    if not table.exists():
        return set()
    rows = [line.split("\t") for line in table.read_text().splitlines()]
    header = rows[0]
    columns = [header.index(name) for name in RETRANSMISSION_COLUMNS]
    number = header.index("frame.number")
    return {
        int(row[number]) for row in rows[1:] if any(column < len(row) and row[column] for column in columns)
    }


def known_protocols() -> frozenset[str]:
    return frozenset(default_registry().protocols) | PSEUDO_PROTOCOLS


def our_text(capture: Path) -> Iterator[list[str]]:
    prefs = Preferences(resolve_names=False)
    for dissection in iter_dissections(capture, prefs=prefs, strict=True):
        yield list(tree_lines(dissection))


def compare_capture(golden: Path) -> Coverage:
    capture = DATA / golden.name.removesuffix(".txt.gz")
    theirs = split_packets(gzip.decompress(golden.read_bytes()).decode("utf-8").split("\n"))
    retransmitted = retransmitted_frames(capture)
    known = known_protocols()
    cov = Coverage()
    for number, lines in enumerate(our_text(capture), start=1):
        cov.packets += 1
        if number > len(theirs):
            break
        their_sections = split_sections(theirs[number - 1])
        skips = packet_skips(their_sections, number in retransmitted, known)
        compare_packet(number, split_sections(lines), their_sections, cov, skips)
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
    assert cov.compared_share >= MIN_COMPARED_SHARE, (cov.lines, cov.skipped)


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


def test_skips_cover_only_their_lines() -> None:
    """An unmatched Data section fails unless the packet may skip it; [Connection] is skipped."""
    theirs = split_sections(["Frame 1: x", "    [Protocols in frame: eth:tcp:http]", "Tcp", "    A: 1"])
    ours = split_sections(["Frame 1: x", "    [Protocols in frame: eth:tcp:data]", "Tcp", "    A: 1"])
    ours += split_sections(["Data (2 bytes)", "", "0000  61 62   ab", "    Data: 6162"])
    cov = Coverage()
    compare_packet(1, ours, theirs, cov)
    assert len(cov.failures) == 2
    cov = Coverage()
    compare_packet(1, ours, theirs, cov, packet_skips(theirs, False, frozenset({"eth", "tcp"})))
    assert not cov.failures and cov.skipped == {"application": 3, "hex dump": 1} and cov.lines == 1
    cov = Coverage()
    conn = split_sections(["Tcp", "    [Connection]", "        [State: x]", "    A: 1"])
    compare_packet(1, conn, theirs[1:], cov)
    assert not cov.failures and cov.skipped == {"connection": 2} and cov.lines == 1


def test_packet_comments_start_a_packet() -> None:
    lines = [
        "Packet comments",
        "    hi",
        "Frame 1: x",
        "    A: 1",
        "Frame 2: y",
        "Packet comments",
        "Frame 3: z",
    ]
    assert [packet[0] for packet in split_packets(lines)] == [
        "Packet comments",
        "Frame 2: y",
        "Packet comments",
    ]


if __name__ == "__main__":
    os.environ["TZ"] = "UTC"
    time.tzset()
    total = Coverage()
    for path in goldens():
        result = compare_capture(path)
        print(
            f"{path.name}: {result.packets} packets, {result.sections} sections, {result.lines} lines"
            f" + {result.hex_lines} hex, skipped {result.skipped} ({1 - result.compared_share:.2%}),"
            f" {len(result.failures)} failures"
        )
        for failure in result.failures[: int(os.environ.get("SHOW_FAILURES", "3"))]:
            print("   ", failure)
        for name in ("packets", "sections", "lines", "hex_lines"):
            setattr(total, name, getattr(total, name) + getattr(result, name))
        for reason, count in result.skipped.items():
            total.skip(reason, count)
        total.failures += result.failures
    print(
        f"TOTAL: {total.packets} packets, {total.sections} sections, {total.lines} lines"
        f" + {total.hex_lines} hex,"
        f" skipped {total.skipped} ({1 - total.compared_share:.2%}), {len(total.failures)} failures"
    )
