"""HttpTransactions pairs pipelined and early responses as tshark 4.0 does (newest exchange first)."""

from __future__ import annotations

import struct

from analyzer.context import Preferences
from analyzer.export.fields import field_text
from analyzer.model import Dissection
from analyzer.pipeline import dissect_frame
from analyzer.state.annotate import StreamAnnotator
from analyzer.state.desegment import Desegmenter
from analyzer.state.http_pairing import HttpTransactions
from captures.frame import Frame

CLIENT, SERVER = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
PREFS = Preferences(resolve_names=False, check_checksums=False, desegment_tcp=True)
PAIRING = (
    "http.request_number",
    "http.response_number",
    "http.request_in",
    "http.prev_request_in",
    "http.prev_response_in",
    "http.response_for.uri",
)


def segment(number: int, from_client: bool, seq: int, payload: bytes, flags: int = 0x18) -> Frame:
    """Ethernet + IPv4 + TCP (no options) carrying `payload`; seq relative to ISN 1000/5000."""
    src, dst = (CLIENT, SERVER) if from_client else (SERVER, CLIENT)
    sport, dport = (40000, 80) if from_client else (80, 40000)
    isn, peer = (1000, 5000) if from_client else (5000, 1000)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, isn + seq, peer, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, src, dst) + tcp
    eth = bytes.fromhex("0200000000020200000000010800") + ip
    return Frame(number, 1_700_000_000_000_000_000 + number * 1000, eth, len(eth), 1)


def run(messages: list[tuple[bool, bytes]]) -> list[dict[str, str]]:
    """Handshake, then one segment per message; the pairing fields of each message's frame."""
    frames = [
        segment(1, True, -1, b"", 0x02),
        segment(2, False, -1, b"", 0x12),
        segment(3, True, 0, b"", 0x10),
    ]
    sent = {True: 0, False: 0}
    for number, (from_client, payload) in enumerate(messages, start=4):
        frames.append(segment(number, from_client, sent[from_client], payload))
        sent[from_client] += len(payload)
    annotators: list[StreamAnnotator | Desegmenter | HttpTransactions] = [
        StreamAnnotator(),
        Desegmenter(),
        HttpTransactions(),
    ]
    rows = []
    for frame in frames:
        dissection: Dissection = dissect_frame(frame, prefs=PREFS, strict=True)
        for annotator in annotators:
            dissection = annotator.annotate(dissection)
        rows.append({name: field_text(dissection, name) for name in PAIRING})
    return rows[3:]


def response(status: bytes = b"200 OK") -> bytes:
    return b"HTTP/1.1 " + status + b"\r\nContent-Length: 3\r\n\r\nok\n"


def test_pipelined_responses_go_to_the_newest_request_then_stand_alone() -> None:
    both = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
    requests, first, second = run([(True, both), (False, response()), (False, response())])
    assert requests["http.request_number"] == "1,2"
    assert requests["http.prev_request_in"] == "4"
    # tshark 4.0: the first response joins exchange 2 (the /b request); the second opens exchange 3.
    assert first["http.response_number"] == "2"
    assert first["http.request_in"] == "4"
    assert first["http.prev_request_in"] == "4"
    assert first["http.response_for.uri"] == "http://x/b"
    assert second["http.response_number"] == "3"
    assert second["http.request_in"] == ""
    assert second["http.prev_response_in"] == "5"
    assert second["http.response_for.uri"] == "http://x/b"


def test_interim_response_shares_its_exchange_with_the_final_one() -> None:
    request = b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    interim = b"HTTP/1.1 100 Continue\r\n\r\n"
    _, informational, final = run([(True, request), (False, interim), (False, response())])
    assert informational["http.response_number"] == "1"
    assert final["http.response_number"] == "1"
    assert final["http.request_in"] == "4"


def test_a_response_before_any_request_opens_exchange_one() -> None:
    early, late = run([(False, response(b"400 Bad Request")), (True, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")])
    assert early["http.response_number"] == "1"
    assert early["http.request_in"] == ""
    assert early["http.response_for.uri"] == ""
    assert late["http.request_number"] == "2"
    assert late["http.prev_request_in"] == ""
