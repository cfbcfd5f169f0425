"""Capture pieces that need no namespace: errors before capturing, lazy scapy, ring-file writing."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from analyzer.cli import run_cli
from captures.frame import Frame
from captures.pcapfile import open_capture
from captures.ring import RingSpec, ring_file_name, write_file, write_ring, write_stream


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = run_cli(list(argv), out, err, strict=True)
    return status, out.getvalue(), err.getvalue()


def test_bad_capture_filter_shows_the_compiler_message() -> None:
    status, _out, err = _cli("capture", "-i", "lo", "-f", "tcp port 80 and")
    assert status == 2
    compiler = "can't parse filter expression: syntax error"
    assert err == f"layerscope: invalid capture filter 'tcp port 80 and': {compiler}\n"


def test_unknown_interface_names_the_real_ones() -> None:
    status, _out, err = _cli("capture", "-i", "nosuch9")
    assert status == 2
    assert re.fullmatch(
        r'layerscope: there is no interface named "nosuch9"; the interfaces are: lo, .*any\n', err
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-b", "files:3", "-w", "x.pcapng"], "a ring buffer (-b) needs filesize:KB"),
        (["-b", "filesize:10"], "-b and -a filesize need a capture file to write (-w FILE)"),
        (["-a", "speed:3"], 'invalid -a value "speed:3" (expected duration:N|packets:N|filesize:N)'),
        (["-a", "duration:0"], 'the -a duration "0" is not a positive number'),
    ],
)
def test_usage_errors(argv: list[str], message: str) -> None:
    status, _out, err = _cli("capture", "-i", "lo", *argv)
    assert (status, err) == (1, f"layerscope: {message}\n")


def test_cli_import_does_not_import_scapy() -> None:
    code = "import sys, analyzer.cli, captures.live\n"
    code += "print(sorted(m for m in sys.modules if m.startswith('scapy')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _frames(count: int, size: int = 100) -> list[Frame]:
    return [
        Frame(n, 1_700_000_000_000_000_000 + n, bytes([n % 256]) * size, size, 1, 0, "veth0", ts_digits=9)
        for n in range(1, count + 1)
    ]


def test_ring_file_names_follow_dumpcap() -> None:
    when = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
    name = ring_file_name("/tmp/out/cap.pcapng", 7, when)
    assert re.fullmatch(r"/tmp/out/cap_00007_20231114\d{6}\.pcapng", name)
    assert re.fullmatch(r"plain_00001_\d{14}", ring_file_name("plain", 1, when))


def test_ring_rotates_and_keeps_the_newest(tmp_path: Path) -> None:
    items: Iterator[Frame | None] = iter(_frames(40))
    result = write_ring(items, str(tmp_path / "r.pcapng"), "pcapng", 1, RingSpec(1000, 2))
    assert result.frames == 40
    left = sorted(tmp_path.iterdir())
    assert [str(path) for path in left] == sorted(result.paths[-2:])
    assert len(result.removed) == len(result.paths) - 2 >= 2
    numbers = []
    for path in left:
        with open_capture(path) as reader:
            numbers += [frame.data[0] for frame in reader]
            assert reader.warnings == []
    assert numbers == list(range(41 - len(numbers), 41))  # the newest frames, none lost between files


def test_file_size_autostop(tmp_path: Path) -> None:
    path = tmp_path / "a.pcap"
    result = write_file(iter(_frames(50)), str(path), "pcap", 1, max_bytes=1000)
    assert 1000 <= path.stat().st_size < 1000 + 100 + 16
    assert result.frames == (path.stat().st_size - 24) // 116


class _Recorder(io.BytesIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushed_at: list[int] = []

    def flush(self) -> None:
        self.flushed_at.append(len(self.getvalue()))


def test_stream_is_flushed_at_each_pause() -> None:
    frames = _frames(3)
    out = _Recorder()
    write_stream(iter([frames[0], None, frames[1], frames[2], None]), out, "pcap", 1)
    # After the header and frame 1 (24 + 116), then after frames 2 and 3.
    assert out.flushed_at[:2] == [140, 372]
