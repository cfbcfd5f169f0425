"""`follow` reproduces `tshark -q -z follow,PROTO,FORMAT,N` byte for byte, for every TCP and UDP
stream of every capture in tests/data and every format (goldens: tests/golden/make_follow_goldens.py)."""

from __future__ import annotations

import functools
import gzip
import io
from pathlib import Path

import pytest

from analyzer import cli
from analyzer.commands.follow import follow_stream
from analyzer.export.flows_facts import PacketFacts, iter_facts
from analyzer.export.follow import format_follow
from captures.pcapfile import iter_records

TESTS = Path(__file__).resolve().parents[1]
DATA = TESTS / "data"
GOLDEN = TESTS / "golden" / "out" / "follow"


def _cases() -> list[tuple[str, str, int, str]]:
    cases: list[tuple[str, str, int, str]] = []
    for line in (GOLDEN / "COMMANDS.txt").read_text().splitlines():
        name = line.split("\t", 1)[0].removesuffix(".txt.gz")
        capture, proto, stream, mode = name.rsplit(".", 3)
        cases.append((capture, proto, int(stream), mode))
    return cases


CASES = _cases()


@functools.cache
def _facts(capture: str) -> tuple[PacketFacts, ...]:
    return tuple(iter_facts(iter_records(DATA / capture), strict=True))


def test_every_stream_of_every_capture_has_goldens() -> None:
    captures = {case[0] for case in CASES}
    assert {"http.pcap", "dns.pcap", "tcp-rst.pcap", "multi.pcapng", "ipv6.pcap"} <= captures
    assert len(CASES) >= 150


@pytest.mark.parametrize(("capture", "proto", "stream", "mode"), CASES, ids=lambda value: str(value))
def test_follow_matches_tshark(capture: str, proto: str, stream: int, mode: str) -> None:
    expected = gzip.decompress((GOLDEN / f"{capture}.{proto}.{stream}.{mode}.txt.gz").read_bytes())
    result = follow_stream(_facts(capture), proto, stream)
    assert format_follow(proto, mode, stream, result).encode("ascii") == expected


@pytest.mark.parametrize("mode", ["ascii", "hex", "raw"])
def test_cli_prints_the_golden(mode: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    argv = ["follow", "-r", str(DATA / "http.pcap"), "--stream", "3", "--format", mode]
    assert cli.run_cli(argv, out, err, strict=True) == 0
    expected = gzip.decompress((GOLDEN / f"http.pcap.tcp.3.{mode}.txt.gz").read_bytes())
    assert out.getvalue().encode("ascii") == expected
    assert err.getvalue() == ""
