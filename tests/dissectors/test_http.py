"""HTTP/1.x dissector: start lines, headers, chunked bodies with trailers, lying chunk sizes, caps."""

from __future__ import annotations

import gzip
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.context import Preferences
from analyzer.export.fields import field_text
from analyzer.model import Dissection
from analyzer.pipeline import dissect_frame
from analyzer.summary_http import http_info
from captures.frame import Frame
from dissectors.http_parse import MAX_HEADER_BYTES, NEED_MORE, parse_head, pdu_length

PREFS = Preferences(resolve_names=False, check_checksums=False)


def frame(payload: bytes, sport: int = 80, dport: int = 40000) -> Frame:
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1, 1, 5 << 4, 0x18, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, bytes(4), bytes(4)) + tcp
    data = bytes.fromhex("0200000000020200000000010800") + ip
    return Frame(1, 0, data, len(data), 1)


def dissect(payload: bytes, port: int = 80) -> Dissection:
    return dissect_frame(frame(payload, port), prefs=PREFS, strict=True)


def test_request_line_headers_and_query() -> None:
    found = dissect(b"GET /x?a=1&b=2 HTTP/1.1\r\nHost: h\r\nX-Foo: bar\r\nAccept: */*\r\n\r\n", port=40001)
    assert found.protocols == "eth:ethertype:ip:tcp:http"
    assert field_text(found, "http.request.method") == "GET"
    assert field_text(found, "http.request.uri.query.parameter") == "a=1,b=2"
    assert field_text(found, "http.request.line") == "Host: h\r\n,X-Foo: bar\r\n,Accept: */*\r\n"
    assert field_text(found, "http.request.full_uri") == "http://h/x?a=1&b=2"
    assert field_text(found, "http.chat") == "1"


def test_repeated_headers_are_kept_in_order() -> None:
    found = dissect(b"HTTP/1.1 204 No Content\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n")
    assert field_text(found, "http.set_cookie") == "a=1,b=2"
    assert field_text(found, "http.response.code.desc") == "No Content"


CHUNKED = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\nhello\r\n7;ext=1\r\n world!\r\n0\r\nX-Trailer: yes\r\n\r\n"
)


def test_chunked_body_with_trailers() -> None:
    found = dissect(CHUNKED)
    assert field_text(found, "http.chunk_size") == "5,7,0"
    assert field_text(found, "http.chunk_data") == "68656c6c6f,20776f726c6421"
    assert field_text(found, "http.chunked_trailer_part") == "X-Trailer: yes\r\n"
    assert field_text(found, "http.file_data") == "hello world!"
    assert found.protocols.endswith("http:data-text-lines")
    assert found.sources[-1].name == "De-chunked entity body (12 bytes)"
    assert pdu_length(CHUNKED + b"extra", None) == len(CHUNKED)  # type: ignore[arg-type]


def test_a_chunk_size_that_lies_is_bounded_and_reported() -> None:
    lying = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\nshort\r\n"
    found = dissect(lying)
    assert [p.code for p in found.problems if p.code.startswith("http.chunk")] == [
        "http.chunk_size_past_data"
    ]
    assert field_text(found, "http.chunk_size") == str(0xFFFFFFFF)
    assert pdu_length(lying, None) is NEED_MORE  # type: ignore[arg-type]


def test_gzip_body_is_decoded() -> None:
    body = gzip.compress(b"hello gzip world\n" * 3)
    message = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
    )
    found = dissect(message % len(body) + body)
    assert field_text(found, "http.file_data") == "hello gzip world\n" * 3
    assert found.layer("data-text-lines") is not None


def test_a_one_megabyte_header_line_is_bounded() -> None:
    line = b"X-Big: " + b"a" * (2 * 1024 * 1024) + b"\r\n"
    message = b"GET / HTTP/1.1\r\n" + line + b"\r\n"
    head = parse_head(message)
    assert head is not None and head.truncated and head.body_start == -1
    assert all(header.end <= MAX_HEADER_BYTES for header in head.headers)
    assert pdu_length(message, None) == len(message)  # type: ignore[arg-type]
    found = dissect(message[:60000])
    assert field_text(found, "http.request.method") == "GET"


def test_not_http_on_port_80_is_not_forced_into_a_message() -> None:
    found = dissect(b"\x16\x03\x01\x00\x05hello")
    assert found.first("http.request") is None and found.first("http.response") is None


def test_form_urlencoded_body() -> None:
    body = b"name=layerscope&msg=hello+world"
    found = dissect(
        b"POST /s HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body) + body,
        port=8000,
    )
    assert field_text(found, "urlencoded-form.key") == "name,msg"
    assert field_text(found, "urlencoded-form.value") == "layerscope,hello world"


def test_summary_info() -> None:
    assert http_info(b"GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n") == "GET /index.html HTTP/1.1 "
    page = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nhi"
    assert http_info(page) == "HTTP/1.0 200 OK  (text/html)"
    assert http_info(b"\x00\x01binary") is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.sampled_from([b"", b"GET / HTTP/1.1\r\n", b"HTTP/1.1 200 OK\r\n"]))
def test_random_payloads_never_raise(tail: bytes, start: bytes) -> None:
    payload = start + tail
    found = dissect(payload)
    data = found.frame.data
    for layer in found.layers:
        source = found.source_data(layer)
        for item in layer.walk():
            if item.offset >= 0:
                assert item.offset + item.length <= max(len(source), len(data))
    pdu_length(payload, None)  # type: ignore[arg-type]
    http_info(payload)
