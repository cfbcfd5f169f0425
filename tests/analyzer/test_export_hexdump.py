"""Hex dumps: tshark -x's layout from hex literals, and byte-for-byte against tshark on real captures."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.export.hexdump import hexdump, hexdump_sources, offset_digits

DATA = Path(__file__).resolve().parents[1] / "data"
# tshark's default reassembly adds "Reassembled ..." sources; we dump single frames.
NO_REASSEMBLY = [
    "-o",
    "ip.defragment:FALSE",
    "-o",
    "ipv6.defragment:FALSE",
    "-o",
    "tcp.desegment_tcp_streams:FALSE",
]


def test_full_and_short_lines() -> None:
    data = bytes.fromhex("ffffffffffff0277 0000000a08060001 41 7f 80 20 0a")
    assert hexdump(data) == (
        "0000  ff ff ff ff ff ff 02 77 00 00 00 0a 08 06 00 01   .......w........\n"
        "0010  41 7f 80 20 0a                                    A.. .\n"
    )


def test_empty_and_wide_offsets() -> None:
    assert hexdump(b"") == ""
    assert offset_digits(0x10000) == 4
    assert offset_digits(0x10001) == 5
    assert hexdump(bytes(0x10001)).splitlines()[-1].startswith("10000  00 ")


def test_several_sources_get_headers() -> None:
    assert hexdump_sources([("Frame", b"a")]) == hexdump(b"a")
    assert hexdump_sources([("Frame", b"a"), ("Reassembled TCP", b"bc")]) == (
        "Frame (1 bytes):\n" + hexdump(b"a") + "Reassembled TCP (2 bytes):\n" + hexdump(b"bc")
    )


# Captures where tshark -x also dumps data sources HTTP makes (a gzip body's "De-chunked entity
# body" and "Uncompressed entity body"), which `read -x` (frames only, no dissection) does not:
# there the frames' dumps are compared and tshark's extra sources are left out, with this reason.
EXTRA_SOURCES_GAP = {
    "http-nginx.pcap": "tshark -x adds HTTP's de-chunked / uncompressed body sources; read -x dumps frames",
}
SOURCE_HEADER = re.compile(rb"[A-Za-z][A-Za-z ()-]* \(\d+ bytes\):")


def frames_only(dump: bytes) -> bytes:
    """tshark's -x output with every data source but the frame left out (and the frame's header)."""
    kept: list[bytes] = []
    inside_extra = False
    for line in dump.split(b"\n"):
        if SOURCE_HEADER.fullmatch(line):
            inside_extra = not line.startswith(b"Frame (")
            continue
        if line == b"":
            inside_extra = False
        if not inside_extra:
            kept.append(line)
    return b"\n".join(kept)


def captures() -> list[Path]:
    return sorted(path for pattern in ("*.pcap", "*.pcapng") for path in DATA.glob(pattern))


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark (the oracle) is not installed")
@pytest.mark.parametrize("capture", captures(), ids=lambda path: path.name)
def test_read_x_equals_tshark_x(capture: Path) -> None:
    ours = subprocess.run(
        [sys.executable, "-m", "analyzer", "read", "-x", "-r", str(capture)], capture_output=True, check=False
    )
    theirs = subprocess.run(
        ["tshark", "-x", *NO_REASSEMBLY, "-r", str(capture)], capture_output=True, check=False
    )
    assert ours.returncode == theirs.returncode
    if capture.name in EXTRA_SOURCES_GAP:
        assert frames_only(ours.stdout) == ours.stdout
        assert ours.stdout == frames_only(theirs.stdout), EXTRA_SOURCES_GAP[capture.name]
        return
    assert ours.stdout == theirs.stdout
