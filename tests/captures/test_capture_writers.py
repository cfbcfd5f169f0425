"""pcap and pcapng writers: what we write, we and tshark read back the same."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from captures.frame import Frame
from captures.pcapfile import open_capture, write_pcap, write_pcapng

needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")


def sample_frames() -> list[Frame]:
    return [
        Frame(1, 1_700_000_000_123_456_789, bytes(range(60)), 60, 1, 0, "eth0", ("first", "second")),
        Frame(2, 1_700_000_000_223_456_000, bytes(range(7)), 1514, 1, 0, "eth0"),
        Frame(3, 1_700_000_001_000_000_001, bytes.fromhex("4500001c") + bytes(24), 28, 101, 0, "tun0"),
        Frame(4, 1_700_000_002_000_000_000, bytes(range(50)), 50, 1, 1, "eth1"),
    ]


def tshark_rows(path: Path, *fields: str) -> list[list[str]]:
    cmd = ["tshark", "-r", str(path), "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,"]
    result = subprocess.run([*cmd, *(a for f in fields for a in ("-e", f))], capture_output=True, check=True)
    return [line.split("\t") for line in result.stdout.decode().splitlines()]


def tshark_bytes(path: Path) -> list[bytes]:
    """Each frame's bytes from tshark's hex dump (-x), which shows the bytes exactly as read."""
    result = subprocess.run(["tshark", "-r", str(path), "-x"], capture_output=True, check=True)
    frames: list[bytes] = []
    current = bytearray()
    for line in result.stdout.decode().splitlines():
        match = re.match(r"^[0-9a-f]{4,}  ((?:[0-9a-f]{2} ){1,16})", line + " ")
        if match:
            current += bytes.fromhex(match.group(1).replace(" ", ""))
        elif not line.strip() and current:
            frames.append(bytes(current))
            current = bytearray()
    if current:
        frames.append(bytes(current))
    return frames


def epoch(ns: int) -> str:
    return f"{ns // 10**9}.{ns % 10**9:09d}"


@pytest.mark.parametrize("nanosecond", [False, True])
def test_pcap_round_trip(tmp_path: Path, nanosecond: bool) -> None:
    frames = [f for f in sample_frames() if f.linktype == 1]
    path = tmp_path / "out.pcap"
    assert write_pcap(path, frames, 1, nanosecond=nanosecond) == 3
    with open_capture(path) as reader:
        back = list(reader)
    keep = 1 if nanosecond else 1000
    assert [f.timestamp_ns for f in back] == [f.timestamp_ns // keep * keep for f in frames]
    assert [(f.data, f.wire_len, f.linktype) for f in back] == [(f.data, f.wire_len, 1) for f in frames]
    assert back[0].ts_digits == (9 if nanosecond else 6)


@needs_tshark
@pytest.mark.parametrize("nanosecond", [False, True])
def test_tshark_reads_our_pcap(tmp_path: Path, nanosecond: bool) -> None:
    frames = [f for f in sample_frames() if f.linktype == 1]
    path = tmp_path / "out.pcap"
    write_pcap(path, frames, 1, nanosecond=nanosecond)
    keep = 1 if nanosecond else 1000
    expected = [[str(f.wire_len), str(len(f.data)), epoch(f.timestamp_ns // keep * keep)] for f in frames]
    assert tshark_rows(path, "frame.len", "frame.cap_len", "frame.time_epoch") == expected
    assert tshark_bytes(path) == [f.data for f in frames]


def test_pcapng_round_trip_keeps_interfaces_link_types_and_comments(tmp_path: Path) -> None:
    frames = sample_frames()
    path = tmp_path / "out.pcapng"
    assert write_pcapng(path, frames, comments=["made by a test"]) == 4
    with open_capture(path) as reader:
        back = list(reader)
        assert reader.info.comments == ["made by a test"]
        assert [(i.name, i.linktype, i.ts_digits) for i in reader.info.interfaces] == [
            ("eth0", 1, 9),
            ("tun0", 101, 9),
            ("eth1", 1, 9),
        ]
    assert [(f.timestamp_ns, f.data, f.wire_len, f.linktype, f.interface_name, f.comments) for f in back] == [
        (f.timestamp_ns, f.data, f.wire_len, f.linktype, f.interface_name, f.comments) for f in frames
    ]
    assert [f.interface_id for f in back] == [0, 0, 1, 2]


@needs_tshark
def test_tshark_reads_our_pcapng(tmp_path: Path) -> None:
    frames = sample_frames()
    path = tmp_path / "out.pcapng"
    write_pcapng(path, frames)
    rows = tshark_rows(
        path,
        "frame.len",
        "frame.cap_len",
        "frame.time_epoch",
        "frame.interface_id",
        "frame.interface_name",
        "frame.comment",
    )
    assert rows == [
        ["60", "60", epoch(frames[0].timestamp_ns), "0", "eth0", "first,second"],
        ["1514", "7", epoch(frames[1].timestamp_ns), "0", "eth0", ""],
        ["28", "28", epoch(frames[2].timestamp_ns), "1", "tun0", ""],
        ["50", "50", epoch(frames[3].timestamp_ns), "2", "eth1", ""],
    ]
    assert tshark_bytes(path) == [f.data for f in frames]


def test_writers_accept_a_stream() -> None:
    buffer = io.BytesIO()
    write_pcapng(buffer, sample_frames()[:1])
    assert buffer.getvalue()[:4] == b"\x0a\x0d\x0d\x0a"
    buffer = io.BytesIO()
    write_pcap(buffer, sample_frames()[:1], 1)
    assert len(buffer.getvalue()) == 24 + 16 + 60


def test_copying_real_captures_preserves_every_frame(data_dir: Path, tmp_path: Path) -> None:
    sources = sorted(data_dir.glob("*.pcap*"))
    if not sources:
        pytest.skip("no captures in tests/data yet")
    for source in sources:
        with open_capture(source) as reader:
            frames = list(reader)
        out = tmp_path / "copy.pcapng"
        write_pcapng(out, frames)
        with open_capture(out) as reader:
            copied = list(reader)
        assert [(f.timestamp_ns, f.data, f.wire_len, f.linktype) for f in copied] == [
            (f.timestamp_ns, f.data, f.wire_len, f.linktype) for f in frames
        ], source.name
