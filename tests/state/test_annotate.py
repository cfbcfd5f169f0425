"""The annotated tree shows tshark 4.0's stream-dependent TCP/UDP values, end to end.

Every cell of the tcp-analysis goldens (tests/golden/make_tcp_goldens.py) is compared with
`field_text` over `session.iter_dissections`: the trackers' results as the tree carries them.
`communityid` is tshark's separate Community ID protocol, which the tree does not produce.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.context import Preferences
from analyzer.export.fields import field_text
from analyzer.export.text import tree_lines
from analyzer.session import dissect_frames, iter_dissections
from analyzer.state.annotate import StreamAnnotator, completeness_text
from analyzer.state.extract import tcp_segment_from, udp_datagram_from
from captures.frame import Frame
from captures.pcapfile import open_capture

TESTS = Path(__file__).resolve().parent.parent
GOLDEN = TESTS / "golden" / "out" / "tcp-analysis"
DATA = TESTS / "data"
NOT_IN_TREE = {"frame.number", "communityid"}


def goldens() -> list[Path]:
    return sorted(p for p in GOLDEN.glob("*.txt") if (DATA / p.name.removesuffix(".txt")).exists())


def compare(golden: Path) -> tuple[int, list[str]]:
    lines = golden.read_text(encoding="utf-8").split("\n")
    header = lines[0].split("\t")
    expected = [line.split("\t") for line in lines[1:] if line]
    capture = DATA / golden.name.removesuffix(".txt")
    dissections = list(iter_dissections(capture, prefs=Preferences(resolve_names=False), strict=True))
    assert len(dissections) == len(expected), f"we read {len(dissections)} frames, tshark {len(expected)}"
    compared = 0
    mismatches: list[str] = []
    for dissection, row in zip(dissections, expected, strict=True):
        for name, want in zip(header, row, strict=True):
            if name in NOT_IN_TREE:
                continue
            compared += 1
            got = field_text(dissection, name)
            if got != want and len(mismatches) < 30:
                mismatches.append(f"frame {dissection.frame.number} {name}: ours {got!r} tshark {want!r}")
    return compared, mismatches


@pytest.mark.parametrize("golden", goldens(), ids=lambda p: p.name.removesuffix(".txt"))
def test_annotated_fields_equal_tshark(golden: Path) -> None:
    compared, mismatches = compare(golden)
    assert compared > 0
    assert not mismatches, "\n".join(mismatches)


def _frames(capture: str) -> list[Frame]:
    with open_capture(DATA / capture) as reader:
        return list(reader)


def test_tcp_layer_is_annotated_in_tshark_order() -> None:
    frames = _frames("tcp-lossy.pcap")[:4]
    last = list(dissect_frames(frames, strict=True))[-1]
    tcp = next(layer for layer in last.layers if layer.proto == "tcp")
    header = "Transmission Control Protocol, Src Port: 44454, Dst Port: 5201, Seq: 1, Ack: 1, Len: 4"
    assert tcp.label == header
    shown = [item.name or item.label for item in tcp.children if not item.hidden]
    assert shown[:9] == [
        "tcp.srcport",
        "tcp.dstport",
        "tcp.stream",
        "tcp.completeness",
        "tcp.len",
        "tcp.seq",
        "tcp.seq_raw",
        "tcp.nxtseq",
        "tcp.ack",
    ]
    assert shown[-4:] == ["[Timestamps]", "tcp.analysis", "tcp.payload", "layerscope.conn"]
    lines = list(tree_lines(last))
    assert "    [Conversation completeness: Incomplete, ESTABLISHED (7)]" in lines
    assert "        [Bytes in flight: 4]" in lines


def test_analysis_flags_become_sequence_experts() -> None:
    dissections = list(dissect_frames(_frames("tcp-lossy.pcap"), strict=True))
    retransmitted = [d for d in dissections if field_text(d, "tcp.analysis.fast_retransmission")]
    assert retransmitted
    problems = {(p.code, p.severity.label, p.group) for p in retransmitted[0].problems}
    assert ("tcp.analysis.fast_retransmission", "Note", "Sequence") in problems
    assert ("tcp.analysis.retransmission", "Note", "Sequence") in problems
    lines = list(tree_lines(retransmitted[0]))
    flags_at = lines.index("        [TCP Analysis Flags]")
    assert lines[flags_at + 1] == (
        "            [Expert Info (Note/Sequence): This frame is a (suspected) fast retransmission]"
    )


def test_without_annotation_the_tree_stays_single_frame() -> None:
    frames = _frames("tcp-lossy.pcap")[:3]
    plain = list(dissect_frames(frames, strict=True, annotate=False))
    assert all(d.first("tcp.stream") is None for d in plain)
    # Facts come from the unannotated tree; annotating then adds the stream.
    assert tcp_segment_from(plain[2]) is not None and udp_datagram_from(plain[2]) is None
    annotator = StreamAnnotator()
    annotated = [annotator.annotate(d) for d in plain]
    assert [field_text(d, "tcp.stream") for d in annotated] == ["0", "0", "0"]


def test_completeness_names() -> None:
    assert completeness_text(15) == "Incomplete, DATA (15)"
    assert completeness_text(31) == "Complete, WITH_DATA (31)"
    assert completeness_text(55) == "Complete, NO_DATA (55)"
    assert completeness_text(5) == "Incomplete (5)"
