"""`layerscope read -Y/-w/-F` against tshark: same lines, same packets written, exit 2 on a bad filter."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.cli import run_cli

DATA = Path(__file__).resolve().parents[1] / "data"
ENV = {**os.environ, "TZ": "UTC"}
# tests/golden/make_goldens.py's preferences: checksums verified, no defragmentation or desegmentation.
PREFS = [
    f"-o{pref}"
    for pref in (
        "ip.check_checksum:TRUE",
        "tcp.check_checksum:TRUE",
        "udp.check_checksum:TRUE",
        "ip.defragment:FALSE",
        "ipv6.defragment:FALSE",
        "tcp.desegment_tcp_streams:FALSE",
    )
]
needs_tshark = pytest.mark.skipif(
    shutil.which("tshark") is None, reason="tshark (the oracle) is not installed"
)


def ours(*argv: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "analyzer", "read", "-n", *argv],
        capture_output=True,
        text=True,
        env=ENV,
        check=True,
    )
    return done.stdout.splitlines()


def theirs(*argv: str) -> list[str]:
    done = subprocess.run(
        ["tshark", "-n", *PREFS, *argv], capture_output=True, text=True, env=ENV, check=True
    )
    return done.stdout.splitlines()


@pytest.mark.parametrize(
    ("capture", "text"),
    [
        ("icmp.pcap", "icmp.type == 0"),  # echo replies still say "(request in N)"
        ("tcp-rst.pcap", "tcp.flags.syn == 1 && tcp.flags.ack == 0"),
        ("tcp-rst.pcap", "tcp.port == 8080 && tcp.len > 0"),  # relative Seq/Ack over every frame
        ("tcp-rst.pcap", "ip.addr == 10.0.0.0/8 && tcp.flags.push == 1"),
        ("ipv6.pcap", "icmpv6"),
    ],
)
@pytest.mark.parametrize("time_format", ["r", "d", "dd"])
@needs_tshark
def test_summary_lines_equal_tshark(capture: str, text: str, time_format: str) -> None:
    path = str(DATA / capture)
    got = ours("-r", path, "-Y", text, "-t", time_format)
    want = theirs("-r", path, "-Y", text, "-t", time_format)
    assert got and want == got


@needs_tshark
@pytest.mark.parametrize("fields", [["frame.number", "frame.time_delta_displayed", "ip.src", "tcp.stream"]])
def test_fields_with_displayed_time_delta(fields: list[str]) -> None:
    path = str(DATA / "tcp-rst.pcap")
    args = ["-r", path, "-Y", "tcp.dstport == 8080", "-T", "fields"]
    for name in fields:
        args += ["-e", name]
    assert ours(*args) == theirs(*args)


def test_bad_filter_exits_2_with_one_line_naming_the_column() -> None:
    out, err = io.StringIO(), io.StringIO()
    status = run_cli(
        ["read", "-r", str(DATA / "icmp.pcap"), "-Y", "ip.src == 300.1.1.1"], out, err, strict=True
    )
    assert status == 2
    assert out.getvalue() == ""
    message = '"300.1.1.1" is not a valid hostname or IPv4 address. (column 11)'
    assert err.getvalue() == f"layerscope: invalid display filter: {message}\n"


@needs_tshark
@pytest.mark.parametrize("write_format", ["pcap", "pcapng"])
@pytest.mark.parametrize(
    ("capture", "text"),
    [("http.pcap", "tcp.len > 0"), ("multi.pcapng", "udp || icmp"), ("nano.pcap", "ip"), ("icmp.pcap", "")],
)
def test_written_packets_read_back_identical(
    tmp_path: Path, capture: str, text: str, write_format: str
) -> None:
    if capture == "multi.pcapng" and write_format == "pcap":
        pytest.skip("several link types cannot go in one pcap file")
    source, target = str(DATA / capture), str(tmp_path / f"out.{write_format}")
    filter_args = ["-Y", text] if text else []
    out, err = io.StringIO(), io.StringIO()
    assert (
        run_cli(["read", "-r", source, *filter_args, "-w", target, "-F", write_format], out, err, True) == 0
    )
    assert out.getvalue() == ""
    # Same packets (numbers aside), same bytes, same timestamps as tshark's selection.
    fields = ["-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len", "-e", "frame.cap_len"]
    want = theirs("-r", source, *filter_args, *fields)
    got = theirs("-r", target, *fields)
    assert want and got == want
    assert theirs("-r", target, "-x") == theirs("-r", source, *filter_args, "-x")
