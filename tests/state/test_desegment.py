"""Desegmenter: PDU boundaries, split length prefixes, pipelining and caps, table-driven."""

from __future__ import annotations

import struct

import pytest

from analyzer.context import Preferences
from analyzer.export.fields import field_text
from analyzer.model import Dissection
from analyzer.pipeline import dissect_frame
from analyzer.session import dissect_frames
from analyzer.state.annotate import StreamAnnotator
from analyzer.state.desegment import Desegmenter
from analyzer.state.http_pairing import HttpTransactions
from captures.frame import Frame

CLIENT, SERVER = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
PREFS = Preferences(resolve_names=False, check_checksums=False, desegment_tcp=True)


def segment(
    number: int, from_client: bool, seq: int, payload: bytes, flags: int = 0x18, port: int = 80
) -> Frame:
    """Ethernet + IPv4 + TCP (no options) carrying `payload`; seq relative to ISN 1000/5000."""
    src, dst = (CLIENT, SERVER) if from_client else (SERVER, CLIENT)
    sport, dport = (40000, port) if from_client else (port, 40000)
    isn, peer = (1000, 5000) if from_client else (5000, 1000)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, isn + seq, peer, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, src, dst) + tcp
    eth = bytes.fromhex("0200000000020200000000010800") + ip
    return Frame(number, 1_700_000_000_000_000_000 + number * 1000, eth, len(eth), 1)


def handshake(port: int = 80) -> list[Frame]:
    return [
        segment(1, True, -1, b"", 0x02, port),
        segment(2, False, -1, b"", 0x12, port),
        segment(3, True, 0, b"", 0x10, port),
    ]


def run(frames: list[Frame], prefs: Preferences = PREFS, **caps: int) -> list[Dissection]:
    annotators = [StreamAnnotator(), Desegmenter(**caps), HttpTransactions()]
    out = []
    for frame in frames:
        dissection = dissect_frame(frame, prefs=prefs, strict=True)
        for annotator in annotators:
            dissection = annotator.annotate(dissection)
        assert not [p for p in dissection.problems if p.code.endswith("dissector_bug")]
        out.append(dissection)
    return out


RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello world\n"
REQUEST = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n"


@pytest.mark.parametrize(
    ("cuts", "protocols"),
    [
        # one segment: dissected where it is
        ((len(RESPONSE),), ["eth:ethertype:ip:tcp:http:data-text-lines"]),
        # headers, then body: the body's frame completes it
        ((60, len(RESPONSE)), ["eth:ethertype:ip:tcp", "eth:ethertype:ip:tcp:http:data-text-lines"]),
        # the status line itself split
        (
            (5, 40, len(RESPONSE)),
            ["eth:ethertype:ip:tcp"] * 2 + ["eth:ethertype:ip:tcp:http:data-text-lines"],
        ),
    ],
)
def test_pdu_boundaries(cuts: tuple[int, ...], protocols: list[str]) -> None:
    frames = [*handshake(), segment(4, True, 0, REQUEST)]
    start = 0
    for number, cut in enumerate(cuts, start=5):
        frames.append(segment(number, False, start, RESPONSE[start:cut]))
        start = cut
    found = run(frames)[4:]
    assert [d.protocols for d in found] == protocols
    last = found[-1]
    if len(cuts) > 1:
        assert field_text(last, "tcp.segment") == ",".join(str(5 + i) for i in range(len(cuts)))
        assert field_text(last, "tcp.segment.count") == str(len(cuts))
        assert field_text(last, "tcp.reassembled.length") == str(len(RESPONSE))
        assert last.sources[-1].name == f"Reassembled TCP ({len(RESPONSE)} bytes)"
        for earlier in found[:-1]:
            assert earlier.first("tcp.segment_data") is not None
    assert field_text(last, "http.file_data") == "hello world\n"
    assert field_text(last, "http.request_in") == "4"


def test_pipelined_requests_in_one_segment_are_each_dissected_and_numbered() -> None:
    second = REQUEST.replace(b"/a", b"/b")
    found = run([*handshake(), segment(4, True, 0, REQUEST + second)])[-1]
    assert field_text(found, "http.request.uri") == "/a,/b"
    assert field_text(found, "http.request_number") == "1,2"
    assert field_text(found, "http.prev_request_in") == "4"


def test_request_spanning_segments_keeps_the_rest_of_the_last_one() -> None:
    data = REQUEST + REQUEST.replace(b"/a", b"/b")
    cut = len(REQUEST) + 5
    found = run([*handshake(), segment(4, True, 0, data[:10]), segment(5, True, 10, data[10:cut]),
                 segment(6, True, cut, data[cut:])])  # fmt: skip
    assert field_text(found[4], "http.request.uri") == "/a"
    assert field_text(found[5], "http.request.uri") == "/b"
    assert field_text(found[5], "tcp.segment") == "5,6"


DNS_QUERY = bytes.fromhex("00000100000100000000000003777777046c616204746573740000010001")
DNS_TCP = len(DNS_QUERY).to_bytes(2, "big") + DNS_QUERY


@pytest.mark.parametrize("cut", [1, 2, 7])
def test_dns_over_tcp_split_length_prefix(cut: int) -> None:
    found = run([*handshake(53), segment(4, True, 0, DNS_TCP[:cut], port=53),
                 segment(5, True, cut, DNS_TCP[cut:], port=53)])  # fmt: skip
    assert found[3].protocols == "eth:ethertype:ip:tcp"
    assert found[4].protocols == "eth:ethertype:ip:tcp:dns"
    assert field_text(found[4], "dns.length") == str(len(DNS_QUERY))
    assert not [p for p in found[4].problems if p.code == "dns.length_past_segment"]


def test_two_dns_messages_in_one_segment_each_get_a_pdu_size() -> None:
    found = run([*handshake(53), segment(4, True, 0, DNS_TCP + DNS_TCP, port=53)])[-1]
    assert field_text(found, "tcp.pdu.size") == f"{len(DNS_TCP)},{len(DNS_TCP)}"
    assert field_text(found, "dns.length") == f"{len(DNS_QUERY)},{len(DNS_QUERY)}"
    assert found.protocols == "eth:ethertype:ip:tcp:dns"


def test_a_direction_over_its_cap_is_flagged_and_goes_on_segment_by_segment() -> None:
    big = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100
    frames = [*handshake(), segment(4, False, 0, big), segment(5, False, len(big), b"y" * 200)]
    found = run(frames, direction_cap=250)
    assert [p.code for p in found[-1].problems if p.code == "tcp.reassembly.capped"] == [
        "tcp.reassembly.capped"
    ]


def test_without_desegmentation_each_segment_stands_alone() -> None:
    frames = [*handshake(), segment(4, False, 0, RESPONSE[:60]), segment(5, False, 60, RESPONSE[60:])]
    found = list(
        dissect_frames(frames, prefs=Preferences(resolve_names=False, check_checksums=False), strict=True)
    )
    assert found[3].protocols == "eth:ethertype:ip:tcp:http"
    assert found[4].first("tcp.segment") is None
