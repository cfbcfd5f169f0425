"""JSON bodies (dissectors/json.py) against tshark 4.0: the tree (-V), the fields, the summary lines.

The real capture (tests/data/http-nginx.pcap, a JSON API answer) is covered by the golden tests;
here HTTP responses carrying JSON of every shape (nested arrays, escapes, UTF-8, true/false/null,
numbers with exponents, empty containers, several values in a row) and non-JSON bodies of a JSON
media type are written to a capture and read by both tools.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.pipeline import dissect_frame
from captures.frame import Frame
from captures.writer import write_pcap

BODIES = [
    b'{"status":"ok","count":3,"ratio":-1.5e3,"flags":[true,false,null],"empty":{},"none":[]}',
    b'[1,"two",{"three":3},[4,[5]]]',
    b'{"text":"line\\nbreak \\"quoted\\" \\u00e9t\\u00e9 tab\\t","uni":"caf\xc3\xa9","k e y":"v"}',
    b'  {"a" : { "b" : { "c" : [ ] } } }  ',
    b'{"broken": [1, 2,}',
    b'"just a string"',
    b"42",
    b'{"a":1}{"b":2}',
]
FIELDS = [
    "json.key",
    "json.value.string",
    "json.value.number",
    "json.path",
    "json.member",
    "json.path_with_value",
    "json.member_with_value",
    "json.value.true",
    "json.value.false",
    "json.value.null",
    "json.object",
    "json.array",
]


def response(number: int, body: bytes, media: bytes = b"application/json") -> Frame:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n" % (media, len(body))
    tcp = struct.pack("!HHIIBBHHH", 80, 40000 + number, 1000, 2000, 0x50, 0x18, 65535, 0, 0)
    ip_len = 20 + len(tcp) + len(head) + len(body)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_len, number, 0, 64, 6, 0, b"\n\0\0\2", b"\n\0\0\1")
    data = bytes.fromhex("020000000001020000000002") + b"\x08\x00" + ip + tcp + head + body
    return Frame(number, 1_700_000_000_000_000_000 + number * 1000, data, len(data), 1)


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("json") / "json.pcap"
    with path.open("wb") as out:
        write_pcap(out, iter([response(i + 1, body) for i, body in enumerate(BODIES)]), 1)
    return path


def ours(*argv: str) -> str:
    done = subprocess.run([sys.executable, "-m", "analyzer", "read", *argv], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def theirs(*argv: str) -> str:
    done = subprocess.run(["tshark", *argv], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def body_sections(text: str) -> list[str]:
    """Per packet, the tree from the JSON (or fallback text) section on."""
    sections = []
    for packet in text.split("\nFrame "):
        lines = packet.splitlines()
        starts = [i for i, line in enumerate(lines) if line.startswith(("JavaScript", "Line-based"))]
        sections.append("\n".join(lines[starts[0] :]) if starts else "")
    return sections


needs_tshark = pytest.mark.skipif(
    shutil.which("tshark") is None, reason="tshark (the oracle) is not installed"
)


@needs_tshark
def test_trees_equal_tshark(capture: Path) -> None:
    got, want = body_sections(ours("-r", str(capture), "-V")), body_sections(theirs("-r", str(capture), "-V"))
    assert len(got) == len(BODIES) and all(got)
    assert got == want


@needs_tshark
def test_fields_and_summary_lines_equal_tshark(capture: Path) -> None:
    argv = ["-r", str(capture), "-T", "fields", *(arg for name in FIELDS for arg in ("-e", name))]
    assert ours(*argv) == theirs(*argv)
    lines = ours("-r", str(capture))
    assert lines == theirs("-r", str(capture))
    assert lines.count("HTTP/JSON") == len(BODIES)


def test_deep_nesting_is_bounded_and_falls_back_to_text() -> None:
    dissection = dissect_frame(response(1, b"[" * 5000 + b"]" * 5000), strict=True)
    names = [layer.proto for layer in dissection.layers]
    assert names[-2:] == ["json", "data-text-lines"]
    assert not dissection.layers[-2].children


def test_values_point_at_their_bytes() -> None:
    frame = response(1, b'{"id": 38, "name": "item-38"}')
    dissection = dissect_frame(frame, strict=True)
    found = {item.name: item for item in dissection.walk() if item.name.startswith("json.value")}
    number, text = found["json.value.number"], found["json.value.string"]
    assert frame.data[number.offset : number.offset + number.length] == b"38"
    assert frame.data[text.offset : text.offset + text.length] == b'"item-38"'
