"""ARP watch: tshark's duplicate-address and storm rules (table-driven), the tree, arp-spoof.pcap."""

from __future__ import annotations

from pathlib import Path

from analyzer.context import Preferences
from analyzer.export.fields import field_text
from analyzer.export.text import tree_lines
from analyzer.pipeline import dissect_frame
from analyzer.session import iter_dissections
from analyzer.state.arp_watch import ArpTable, ArpWatchAnnotator, Duplicate, StormDetector
from captures.frame import Frame

DATA = Path(__file__).resolve().parent.parent / "data"
S = 1_000_000_000
MS = 1_000_000
PREFS = Preferences(resolve_names=False)
A, B, M = "02:00:00:00:00:0a", "02:00:00:00:00:0b", "02:00:00:00:00:66"

# (ip, mac, frame, seconds) -> the duplicate reported, if any
CLAIMS = [
    ("10.0.0.2", B, 2, 1.3, None),
    ("10.0.0.2", M, 3, 3.9, Duplicate("10.0.0.2", M, B, 2, 2)),
    ("10.0.0.2", M, 4, 4.1, Duplicate("10.0.0.2", M, B, 2, 3)),  # the spoofer never takes over
    ("10.0.0.2", B, 5, 5.0, None),  # the owner refreshes its entry
    ("10.0.0.2", M, 9, 9.99, Duplicate("10.0.0.2", M, B, 5, 4)),  # whole seconds, as tshark
]


def test_duplicates_follow_tshark() -> None:
    table = ArpTable()
    for ip, mac, number, seconds, expected in CLAIMS:
        assert table.claim(ip, mac, number, round(seconds * S)) == expected, number
    owner = table.owner("10.0.0.2")
    assert owner is not None and (owner.mac, owner.frame) == (B, 5)
    conflicts = table.conflicts()
    assert list(conflicts) == ["10.0.0.2"]
    assert [(c.mac, c.frames) for c in conflicts["10.0.0.2"]] == [(B, [2, 5]), (M, [3, 4, 9])]


def test_storm_is_the_31st_request_within_100_ms() -> None:
    storms = StormDetector()
    reported = [n for n in range(40) if storms.feed(True, 20 * S + n * 2 * MS)]
    assert reported == [30]  # the 31st request, 60 ms after the first
    assert not storms.feed(False, 20 * S + 200 * MS)  # a gap over 100 ms starts counting again
    slow = StormDetector()
    assert not any(slow.feed(True, n * 4 * MS) for n in range(40))  # 25 a period at most


REPLY_FROM_B = bytes.fromhex(
    "02000000000a02000000000b0806000108000604000202000000000b0a00000202000000000a0a000001"
)
REPLY_FROM_M = bytes.fromhex(
    "02000000000a020000000066080600010800060400020200000000660a00000202000000000a0a000001"
)


def test_report_is_a_top_level_tree_after_arp() -> None:
    watch = ArpWatchAnnotator()
    prefs = Preferences(resolve_names=False)
    watch.annotate(dissect_frame(Frame(1, 1 * S, REPLY_FROM_B, 42, 1), prefs=prefs, strict=True))
    spoofed = watch.annotate(dissect_frame(Frame(2, 3 * S, REPLY_FROM_M, 42, 1), prefs=prefs, strict=True))
    lines = list(tree_lines(spoofed))
    at = lines.index("Address Resolution Protocol (reply)")
    assert lines[at + 10 :] == [
        "[Duplicate IP address detected for 10.0.0.2 (02:00:00:00:00:66) - also in use by"
        " 02:00:00:00:00:0b (frame 1)]",
        "    [Frame showing earlier use of IP address: 1]",
        "        [Expert Info (Warning/Sequence): Duplicate IP address configured (10.0.0.2)]",
        "            [Duplicate IP address configured (10.0.0.2)]",
        "            [Severity level: Warning]",
        "            [Group: Sequence]",
        "    [Seconds since earlier frame seen: 2]",
    ]
    assert field_text(spoofed, "arp.duplicate-address-detected") == "1"
    # The report comes right after the ARP layer; lookups by name still find the ARP layer itself.
    assert [layer.proto for layer in spoofed.layers[-2:]] == ["arp", "arp"]
    assert spoofed.layer("arp") is spoofed.layers[-2]


def test_arp_spoof_capture() -> None:
    """tests/data/arp-spoof.pcap: three forged replies and a gratuitous one are reported."""
    found = {
        d.frame.number: field_text(d, "arp.duplicate-address-frame")
        for d in iter_dissections(
            DATA / "arp-spoof.pcap", prefs=Preferences(resolve_names=False), strict=True
        )
        if field_text(d, "arp.duplicate-address-detected")
    }
    assert found == {7: "2", 8: "2", 9: "2", 15: "12"}


def test_storms_are_off_by_default_like_tshark() -> None:
    watch = ArpWatchAnnotator()
    prefs = Preferences(resolve_names=False)
    for n in range(40):
        d = watch.annotate(dissect_frame(Frame(n + 1, n * MS, REPLY_FROM_B, 42, 1), prefs=prefs, strict=True))
        assert field_text(d, "arp.packet-storm-detected") == ""
