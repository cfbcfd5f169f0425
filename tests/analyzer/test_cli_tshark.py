"""`layerscope read` summary lines against tshark's: every -t time format, and whole lines."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
ENV = {**os.environ, "TZ": "UTC"}
pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark (the oracle) is not installed")


def ours(*argv: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "analyzer", "read", *argv], capture_output=True, text=True, env=ENV, check=True
    )
    return done.stdout.splitlines()


def theirs(*argv: str) -> list[str]:
    done = subprocess.run(["tshark", *argv], capture_output=True, text=True, env=ENV, check=True)
    return done.stdout.splitlines()


def time_column(line: str, time_format: str) -> list[str]:
    # Number, then the time: one token, or two when it carries a date (ad, ud).
    words = line.split()
    return words[1:3] if time_format in ("ad", "ud") else words[1:2]


@pytest.mark.parametrize("time_format", ["r", "a", "ad", "d", "dd", "e", "u", "ud"])
@pytest.mark.parametrize("capture", ["icmp.pcap", "nano.pcap", "multi.pcapng"])
def test_time_formats_equal_tshark(time_format: str, capture: str) -> None:
    path = str(DATA / capture)
    got = [time_column(line, time_format) for line in ours("-r", path, "-t", time_format)]
    want = [time_column(line, time_format) for line in theirs("-r", path, "-t", time_format)]
    assert len(want) > 5
    assert got == want


def test_summary_lines_and_count_equal_tshark() -> None:
    path = str(DATA / "icmp.pcap")
    assert ours("-r", path) == theirs("-r", path)
    assert ours("-n", "-c", "5", "-r", path) == theirs("-n", "-c", "5", "-r", path)


# The summary lines show single segments and fragments (no reassembly), as these settings ask.
ONE_BY_ONE = [
    *("-o", "tcp.desegment_tcp_streams:FALSE"),
    *("-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"),
]


@pytest.mark.parametrize("analysis", ["TRUE", "FALSE"])
@pytest.mark.parametrize("capture", ["tcp-lossy.pcap", "tcp-keepalive.pcap", "http.pcap", "multi.pcapng"])
def test_tcp_analysis_tags_and_sequence_numbers_equal_tshark(capture: str, analysis: str) -> None:
    """With the analysis (tshark's default): "[TCP Dup ACK 20#1] ", relative numbers, HTTP
    Continuations but no retransmitted payload; without it: raw numbers and no tags."""
    argv = ["-r", str(DATA / capture), *ONE_BY_ONE, "-o", f"tcp.analyze_sequence_numbers:{analysis}"]
    got, want = ours(*argv), theirs(*argv)
    assert len(want) > 20
    assert got == want
    tagged = sum("[TCP " in line for line in got)
    if analysis == "FALSE":
        assert tagged == 0
    elif capture.startswith("tcp-"):
        assert tagged > 0


def test_filtered_lines_keep_the_tags() -> None:
    argv = ["-r", str(DATA / "tcp-lossy.pcap"), *ONE_BY_ONE, "-Y", "tcp.analysis.flags"]
    got = ours(*argv)
    assert got == theirs(*argv)
    assert len(got) > 50 and all("[TCP " in line for line in got)


REASSEMBLE_IP = ["-o", "ip.defragment:TRUE", "-o", "ipv6.defragment:TRUE"]


@pytest.mark.parametrize("capture", ["frag.pcap", "ipv6.pcap", "rawip.pcap", "sll.pcap", "multi.pcapng"])
def test_defragmented_lines_equal_tshark(capture: str) -> None:
    """With IP reassembly: fragments held as "Fragmented IP protocol (...)" / "IPv6 fragment (...)",
    the datagram shown on the frame that completes it."""
    argv = ["-r", str(DATA / capture), *REASSEMBLE_IP, "-o", "tcp.desegment_tcp_streams:FALSE"]
    got = ours(*argv)
    assert got == theirs(*argv)
    if capture == "frag.pcap":  # the echo request shows on its last fragment, not its first
        assert got != ours("-r", str(DATA / capture))


def test_defragmented_filtered_lines_equal_tshark() -> None:
    for text in ("icmp", "ip.proto == 1", "icmp.type == 8"):
        argv = ["-r", str(DATA / "frag.pcap"), *REASSEMBLE_IP, "-Y", text]
        got = ours(*argv)
        assert got == theirs(*argv) and got, text
