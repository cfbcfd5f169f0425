"""Hex dumps: tshark -x's layout from hex literals, and byte-for-byte against tshark on real captures."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.export.hexdump import dissection_hexdump, hexdump, offset_digits
from analyzer.model import Dissection
from captures.frame import Frame

DATA = Path(__file__).resolve().parents[1] / "data"
# Our defaults: no reassembly (tshark's are on).
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
    frame = Frame(1, 0, b"a", 1, 1)
    dissection = Dissection(frame)
    assert dissection_hexdump(dissection) == hexdump(b"a")
    dissection.add_source("Reassembled TCP (2 bytes)", b"bc")
    assert dissection_hexdump(dissection) == (
        "Frame (1 bytes):\n" + hexdump(b"a") + "Reassembled TCP (2 bytes):\n" + hexdump(b"bc")
    )


def captures() -> list[Path]:
    return sorted(path for pattern in ("*.pcap", "*.pcapng") for path in DATA.glob(pattern))


def _both(capture: Path, *options: str) -> tuple[subprocess.CompletedProcess[bytes], ...]:
    ours = subprocess.run(
        [sys.executable, "-m", "analyzer", "read", "-x", *options, "-r", str(capture)],
        capture_output=True,
        check=False,
    )
    theirs = subprocess.run(["tshark", "-x", *options, "-r", str(capture)], capture_output=True, check=False)
    return ours, theirs


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark (the oracle) is not installed")
@pytest.mark.parametrize("capture", captures(), ids=lambda path: path.name)
def test_read_x_equals_tshark_x(capture: Path) -> None:
    """Every frame, then the sources dissection derived from it (HTTP's de-chunked and
    uncompressed bodies), as tshark dumps them."""
    ours, theirs = _both(capture, *NO_REASSEMBLY)
    assert ours.returncode == theirs.returncode
    assert ours.stdout == theirs.stdout


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark (the oracle) is not installed")
@pytest.mark.parametrize("capture", ["http-nginx.pcap", "http.pcap", "frag.pcap", "ipv6.pcap"])
def test_read_x_with_reassembly_equals_tshark_x(capture: str) -> None:
    """With reassembly on: "Reassembled TCP", "Reassembled IPv4" sources, each once."""
    reassembly = ["-o", "ip.defragment:TRUE", "-o", "ipv6.defragment:TRUE"]
    reassembly += ["-o", "tcp.desegment_tcp_streams:TRUE"]
    ours, theirs = _both(DATA / capture, *reassembly)
    assert ours.returncode == theirs.returncode == 0
    assert b"Reassembled" in theirs.stdout
    assert ours.stdout == theirs.stdout
