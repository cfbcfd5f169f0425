"""DNS transaction pairing: the tracker's rules (table-driven), the tree items, and tshark on dns.pcap."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.context import Preferences
from analyzer.export.fields import field_text
from analyzer.export.text import tree_lines
from analyzer.pipeline import dissect_frame
from analyzer.session import iter_dissections
from analyzer.state.dns_pairing import (
    DnsPairingAnnotator,
    DnsTracker,
    Outcome,
    conversation_key,
)
from captures.frame import Frame

DATA = Path(__file__).resolve().parent.parent / "data"
S = 1_000_000_000
CLIENT = conversation_key("udp", ("10.0.0.1", 5555), ("10.0.0.2", 53))
OTHER = conversation_key("udp", ("10.0.0.1", 6666), ("10.0.0.2", 53))

# Ethernet/IPv4/UDP frames (UDP checksum zeroed: "none"): a query for a.test with ID 0x0001 from
# 10.0.0.1:5555 to 10.0.0.2:53, and its answer (1.2.3.4).
QUERY = bytes.fromhex(
    "02fc0000000502fc0000000108004500003400010000401166b60a0000010a00000215b300350020"
    "0000000101000001000000000000016104746573740000010001"
)
RESPONSE = bytes.fromhex(
    "02fc0000000502fc0000000108004500004a00010000401166a00a0000020a000001003515b30036"
    "000000018100000100010000000001610474657374000001000101610474657374000001000100000000000401020304"
)
DNS_ID_AT = 42


def frame(number: int, seconds: float, data: bytes, dns_id: int = 1) -> Frame:
    data = data[:DNS_ID_AT] + dns_id.to_bytes(2, "big") + data[DNS_ID_AT + 2 :]
    return Frame(number, round(seconds * S), data, len(data), 1)


# (kind, conversation, id, seconds) -> expected (outcome, request_frame, original, time in s)
SCENARIO = [
    ("q", CLIENT, 1, 1.0, Outcome.NEW_QUERY, 0, 0, 0.0),
    ("q", CLIENT, 1, 2.0, Outcome.RETRANSMITTED_QUERY, 0, 1, 0.0),  # same ID within 5 s
    ("r", CLIENT, 1, 2.5, Outcome.RESPONSE, 1, 0, 1.5),  # timed from the first query
    ("r", CLIENT, 1, 2.6, Outcome.RETRANSMITTED_RESPONSE, 1, 3, 0.0),  # a second answer
    ("r", CLIENT, 99, 2.7, Outcome.UNSOLICITED, 0, 0, 0.0),
    ("q", CLIENT, 1, 3.0, Outcome.NEW_QUERY, 0, 0, 0.0),  # ID reused after its answer
    ("q", CLIENT, 1, 9.0, Outcome.NEW_QUERY, 0, 0, 0.0),  # pending, but 6 s later
    ("r", CLIENT, 1, 9.5, Outcome.RESPONSE, 7, 0, 0.5),
    ("q", OTHER, 2, 10.0, Outcome.NEW_QUERY, 0, 0, 0.0),
    ("r", CLIENT, 2, 10.1, Outcome.UNSOLICITED, 0, 0, 0.0),  # right ID, wrong conversation
    ("r", OTHER, 2, 10.2, Outcome.RESPONSE, 9, 0, 0.2),
]


def test_tracker_follows_tsharks_rules() -> None:
    tracker = DnsTracker()
    for number, (kind, conv, dns_id, seconds, outcome, request, original, rtt) in enumerate(SCENARIO, 1):
        feed = tracker.query if kind == "q" else tracker.response
        verdict = feed(conv, dns_id, number, round(seconds * S))
        assert (verdict.outcome, verdict.request_frame, verdict.original) == (outcome, request, original), (
            number
        )
        assert verdict.time_ns == round(rtt * S), number
    assert [t.query_frame for t in tracker.unanswered()] == [6]
    assert tracker.response_in(1) == 3 and tracker.response_in(6) is None and tracker.response_in(2) is None
    first = tracker.transactions()[0]
    assert first.retransmitted_queries == [2] and first.duplicate_responses == [4]
    assert first.rtt_ns == 3 * S // 2


def test_retransmission_timer_is_a_parameter() -> None:
    tracker = DnsTracker(retransmission_timer_s=10)
    tracker.query(CLIENT, 1, 1, 0)
    assert tracker.query(CLIENT, 1, 2, 9 * S).outcome is Outcome.RETRANSMITTED_QUERY


def annotated(frames: list[Frame]) -> list[list[str]]:
    annotator = DnsPairingAnnotator()
    prefs = Preferences(resolve_names=False)
    return [list(tree_lines(annotator.annotate(dissect_frame(f, prefs=prefs, strict=True)))) for f in frames]


def test_tree_items_as_tshark_prints_them() -> None:
    trees = annotated(
        [
            frame(1, 1.0, QUERY),
            frame(2, 2.0, QUERY),
            frame(3, 2.000303, RESPONSE),
            frame(4, 2.6, RESPONSE),
            frame(5, 2.7, RESPONSE, dns_id=0x63),
        ]
    )
    assert not any("[Response In" in line for line in trees[0])
    assert trees[1][-2:] == [
        "    [Retransmitted request. Original request in: 1]",
        "    [Retransmission: True]",
    ]
    at = trees[1].index("    Transaction ID: 0x0001")
    assert trees[1][at + 1 : at + 5] == [
        "        [Expert Info (Warning/Protocol): DNS query retransmission. Original request in frame 1]",
        "            [DNS query retransmission. Original request in frame 1]",
        "            [Severity level: Warning]",
        "            [Group: Protocol]",
    ]
    assert trees[2][-2:] == ["    [Request In: 1]", "    [Time: 1.000303000 seconds]"]
    assert trees[3][-2:] == [
        "    [Retransmitted response. Original response in: 3]",
        "    [Retransmission: True]",
    ]
    assert trees[4][-1] == "    [Unsolicited: True]"


def test_cells_on_the_real_capture() -> None:
    """dns.pcap: every UDP and TCP answer names its query and the time it took."""
    rows = {
        d.frame.number: (field_text(d, "dns.response_to"), field_text(d, "dns.time"), field_text(d, "dns.id"))
        for d in iter_dissections(DATA / "dns.pcap", prefs=Preferences(resolve_names=False), strict=True)
    }
    assert rows[4] == ("3", "0.000303000", "0x743f")
    assert rows[28] == ("26", "0.000507000", "0xe7e8")  # over TCP
    answered = [number for number, row in rows.items() if row[0]]
    assert len(answered) == 13
    assert all(rows[int(rows[n][0])][2] == rows[n][2] for n in answered)


@pytest.mark.parametrize("name", ["dns.response_in", "dns.retransmission", "dns.unsolicited"])
def test_nothing_else_on_a_clean_capture(name: str) -> None:
    for d in iter_dissections(DATA / "dns.pcap", prefs=Preferences(resolve_names=False), strict=True):
        assert field_text(d, name) == ""
