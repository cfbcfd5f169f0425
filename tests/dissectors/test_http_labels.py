"""HTTP labels cut as tshark 4.0 cuts them (long header lines, chunk data), seen on real nginx traffic."""

from __future__ import annotations

import struct

from analyzer.context import Preferences
from analyzer.export.fields import field_text
from analyzer.export.text import tree_lines
from analyzer.model import Dissection
from analyzer.pipeline import dissect_frame
from analyzer.state.annotate import StreamAnnotator
from analyzer.state.desegment import Desegmenter
from captures.frame import Frame

PREFS = Preferences(resolve_names=False, check_checksums=False)


def dissect(payload: bytes, sport: int = 80, dport: int = 40000) -> Dissection:
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1, 1, 5 << 4, 0x18, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, bytes(4), bytes(4)) + tcp
    data = bytes.fromhex("0200000000020200000000010800") + ip
    return dissect_frame(Frame(1, 0, data, len(data), 1), prefs=PREFS, strict=True)


def http_lines(found: Dissection) -> list[str]:
    return [line.strip() for line in tree_lines(found)]


def test_a_header_line_of_240_label_bytes_or_more_is_marked_truncated_at_238() -> None:
    huge = b"X-Huge: " + b"h" * 5000
    found = dissect(b"GET / HTTP/1.1\r\nHost: x\r\n" + huge + b"\r\n\r\n", sport=40000, dport=80)
    line = next(text for text in http_lines(found) if "X-Huge" in text)
    assert line == "[truncated]" + ("X-Huge: " + "h" * 5000)[:226]
    # the value itself (what -T fields prints) is whole
    assert field_text(found, "http.request.line").startswith("Host: x\r\n,X-Huge: hhh")
    assert len(field_text(found, "http.request.line")) > 5000


def test_a_header_line_just_under_the_limit_is_kept_whole() -> None:
    # 234 characters + the escaped CR LF (4) = 238 label bytes: under tshark's 240.
    header = b"X-Long: " + b"l" * 226
    found = dissect(b"GET / HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n\r\n", sport=40000, dport=80)
    assert any(text.startswith("X-Long: ") and "truncated" not in text for text in http_lines(found))


def test_chunk_data_label_shows_36_bytes_then_an_ellipsis() -> None:
    body = bytes(range(40))
    response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n28\r\n" + body + b"\r\n0\r\n\r\n"
    found = dissect(response)
    assert f"Chunk data: {body[:36].hex()}\u2026" in http_lines(found)
    assert field_text(found, "http.chunk_data") == body.hex()


def test_without_desegmentation_pipelined_requests_in_one_segment_are_both_dissected() -> None:
    payload = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
    found = dissect(payload, sport=40000, dport=80)
    for annotator in (StreamAnnotator(), Desegmenter()):
        found = annotator.annotate(found)
    assert field_text(found, "http.request.uri") == "/a,/b"
    assert found.protocols == "eth:ethertype:ip:tcp:http"
