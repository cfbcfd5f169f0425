"""The TCP segments the summary's inline path builds for the analysis tags equal record_fact's.

`write_lines` builds the tracker's TcpSegment from the headers it has already unpacked
(flows_facts.tcp_segment) instead of decoding the record again with record_fact; the tags are
only right if both give the same segment for every TCP packet, in the same order.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.export.flows_facts import record_fact
from analyzer.state.tcp_analysis import Acked
from analyzer.state.tcp_facts import TcpSegment
from analyzer.state.tcp_tags import TcpTagger
from analyzer.state.tcp_tracker import TcpTracker
from analyzer.summary_fast import write_lines
from captures.pcapfile import RawRecord, iter_records

DATA = Path(__file__).resolve().parent.parent / "data"
SAMPLE = Path(__file__).resolve().parent.parent.parent / "captures" / "samples" / "sample.pcapng"
CAPTURES = [*sorted(DATA.glob("*.pcap")), *sorted(DATA.glob("*.pcapng")), SAMPLE]


class Recorded:
    """The segments fed to the tagger's tracker, and how many records went through record_fact."""

    def __init__(self) -> None:
        self.segments: list[TcpSegment] = []
        self.decoded = 0


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorded]:
    seen = Recorded()
    findings, tags = TcpTracker.findings, TcpTagger.tags

    def record_segment(self: TcpTracker, segment: TcpSegment) -> Acked | None:
        seen.segments.append(segment)
        return findings(self, segment)

    def record_tags(self: TcpTagger, number: int, record: RawRecord) -> str:
        seen.decoded += 1
        return tags(self, number, record)

    monkeypatch.setattr(TcpTracker, "findings", record_segment)
    monkeypatch.setattr(TcpTagger, "tags", record_tags)
    yield seen


def check(records: list[RawRecord], seen: Recorded) -> None:
    """Every TCP segment record_fact finds was fed once, in order, and equals the one fed."""
    seen.segments.clear()
    seen.decoded = 0
    write_lines(records, io.StringIO())
    expected = [
        fact
        for number, record in enumerate(records, 1)
        if isinstance(fact := record_fact(number, record), TcpSegment)
    ]
    assert seen.segments == expected


@pytest.mark.parametrize("path", CAPTURES, ids=lambda path: path.name)
def test_real_captures(path: Path, recorded: Recorded) -> None:
    records = list(iter_records(path))
    check(records, recorded)


def test_inline_path_builds_the_segments(recorded: Recorded) -> None:
    """The plain Ethernet captures' segments are built inline, not decoded again."""
    for name in ("http.pcap", "http-nginx.pcap", "tcp-lossy.pcap", "ipv6.pcap"):
        records = list(iter_records(DATA / name))
        check(records, recorded)
        assert recorded.segments and recorded.decoded == 0, name


def seed_records() -> list[RawRecord]:
    """Ethernet TCP packets of real captures: IPv4 and IPv6, handshakes (MSS, SACK_PERM, window
    scale), timestamps, SACK blocks, data, FIN and RST."""
    records: list[RawRecord] = []
    for path in (
        SAMPLE,
        DATA / "ipv6.pcap",
        DATA / "tcp-rst.pcap",
        DATA / "http.pcap",
        DATA / "tcp-lossy.pcap",
    ):
        tcp = [record for record in iter_records(path) if record[3] == 1]
        records += tcp[:40] + tcp[-20:]
    return records


SEEDS = seed_records()


# Where the inline path and record_fact decide: IPv4 version/IHL, total or IPv6 payload length,
# IPv4 flags (MF) or IPv6 next header, the IPv6 version, TCP data offsets and the first options.
HOT_BYTES = (14, 16, 17, 18, 19, 20, 21, 23, 46, 47, 54, 55, 56, 57, 58, 66, 67, 74, 75, 76, 77)
HOT_VALUES = (0, 1, 2, 3, 4, 5, 8, 10, 0x20, 0x40, 0x45, 0x46, 0x50, 0x60, 0x65, 0x80, 0x86, 0xFF)


@st.composite
def mutated(draw: st.DrawFn) -> list[RawRecord]:
    """A run of seed packets, some with header bytes changed, cut short or with another wire length."""
    picks = draw(st.lists(st.integers(0, len(SEEDS) - 1), min_size=1, max_size=30))
    records: list[RawRecord] = []
    for index in picks:
        offset, stamp, wire_len, linktype, digits, iface, data = SEEDS[index]
        raw = bytearray(data)
        for _ in range(draw(st.integers(0, 3))):
            if draw(st.booleans()):  # a byte where the decoders decide, to a telling value
                at, value = draw(st.sampled_from(HOT_BYTES)), draw(st.sampled_from(HOT_VALUES))
            else:
                at, value = draw(st.integers(0, len(raw) - 1)), draw(st.integers(0, 255))
            if at < len(raw):
                raw[at] = value
        if draw(st.integers(0, 4)) == 0:
            raw = raw[: draw(st.integers(0, len(raw)))]
        if draw(st.integers(0, 5)) == 0:
            wire_len = draw(st.integers(0, len(data) + 20))
        records.append((offset, stamp, wire_len, linktype, digits, iface, bytes(raw)))
    return records


def test_edited_headers(recorded: Recorded) -> None:
    """Each seed with one deciding field changed: first fragment, IPv6 version, snapped frame,
    lengths and data offsets that reach past the packet, options that need the tree."""
    records: list[RawRecord] = []
    for offset, stamp, wire_len, linktype, digits, iface, data in SEEDS:
        ipv4 = data[12:14] == b"\x08\x00"
        tcp = 34 if ipv4 else 54
        edits = (
            [(20, data[20] | 0x20)] if ipv4 else [(14, 0x50 | data[14] & 0x0F), (14, 0x40 | data[14] & 0x0F)]
        )
        edits += [(17, data[17] - 1), (17, data[17] + 1), (16, 0), (16, 0xFF)]
        edits += [(tcp + 12, value << 4) for value in (0, 4, 5, 6, 8, 15)]
        edits += [(tcp + 20, kind) for kind in (0, 1, 2, 3, 4, 5, 8, 30)]
        edits += [(tcp + 21, size) for size in (0, 1, 2, 10, 40)]
        edits += [(tcp + 22, kind) for kind in (0, 8)] + [(tcp + 23, size) for size in (2, 9, 10, 11)]
        for at, value in edits:
            if at < len(data):
                raw = bytearray(data)
                raw[at] = value & 0xFF
                records.append((offset, stamp, wire_len, linktype, digits, iface, bytes(raw)))
        records.append((offset, stamp, wire_len + 1, linktype, digits, iface, data))  # snapped
    check(records, recorded)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_frames(records: list[RawRecord]) -> None:
    seen = Recorded()
    with pytest.MonkeyPatch.context() as patch:
        findings = TcpTracker.findings

        def record_segment(self: TcpTracker, segment: TcpSegment) -> Acked | None:
            seen.segments.append(segment)
            return findings(self, segment)

        patch.setattr(TcpTracker, "findings", record_segment)
        check(records, seen)
