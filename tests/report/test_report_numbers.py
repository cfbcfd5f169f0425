"""The report's numbers against tshark's statistics (-z io,phs, -z conv,tcp, -z dns,tree),
capinfos, and the `flows` command, on the real test captures."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from analyzer.cli import run_cli
from analyzer.report.model import ProtocolNode, Report, build_report
from captures.pcapfile import open_capture

DATA = Path(__file__).resolve().parents[1] / "data"
PREFS = ["tcp.desegment_tcp_streams:FALSE", "ip.defragment:FALSE", "ipv6.defragment:FALSE"]
needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
# Captures whose per-frame protocol stacks we match tshark on today (the HTTP body and
# reassembly differences of http.pcap and frag.pcap belong to other issues).
# (tcp-rst.pcap: tshark gives port 8080's payload to HTTP-alternate, we to data: a dissector issue.)
PHS_CAPTURES = ["dns.pcap", "dhcp.pcap", "icmp.pcap", "vlan.pcap", "ipv6.pcap", "sll.pcap", "qinq.pcap"]
CONV_CAPTURES = ["http.pcap", "dns.pcap", "tcp-rst.pcap", "tcp-lossy.pcap", "ipv6.pcap"]


def _report(name: str) -> Report:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"{name} not recorded yet")
    with open_capture(path) as reader:
        return build_report(reader, str(path), strict=True)


def _tshark(name: str, *args: str) -> str:
    command = ["tshark", "-n", "-r", str(DATA / name), "-q"]
    for pref in PREFS:
        command += ["-o", pref]
    return subprocess.run([*command, *args], capture_output=True, text=True, check=True).stdout


def _flatten(nodes: list[ProtocolNode], depth: int = 0) -> list[tuple[int, str, int, int]]:
    rows = []
    for node in nodes:
        rows.append((depth, node.protocol, node.frames, node.bytes))
        rows += _flatten(node.children, depth + 1)
    return rows


def _sorted_tree(rows: list[tuple[int, str, int, int]]) -> list[tuple[int, str, int, int]]:
    # tshark lists siblings in the order it first met them, as we do; compare as sets per depth
    # anyway so the test checks numbers, not an ordering detail.
    return sorted(rows)


@needs_tshark
@pytest.mark.parametrize("name", PHS_CAPTURES)
def test_protocol_hierarchy_equals_tshark_phs(name: str) -> None:
    report = _report(name)
    expected = []
    for line in _tshark(name, "-z", "io,phs").splitlines():
        found = re.match(r"^( *)(\S+)\s+frames:(\d+) bytes:(\d+)$", line)
        if found:
            expected.append((len(found[1]) // 2, found[2], int(found[3]), int(found[4])))
    assert expected
    assert _sorted_tree(_flatten(report.protocol_hierarchy)) == _sorted_tree(expected)


@needs_tshark
@pytest.mark.parametrize("name", CONV_CAPTURES)
def test_tcp_conversations_equal_tshark_conv(name: str) -> None:
    report = _report(name)
    expected: dict[frozenset[str], tuple[int, int | None]] = {}
    for line in _tshark(name, "-z", "conv,tcp").splitlines():
        pattern = r"^(\S+)\s+<-> (\S+)\s+\d+ [\d,]+ \S+\s+\d+ [\d,]+ \S+\s+(\d+) ([\d,]+) (\S+)"
        found = re.match(pattern, line)
        if found:
            # tshark rounds large totals to kB / MB: compare bytes only when it prints them exactly.
            size = int(found[4].replace(",", "")) if found[5] == "bytes" else None
            expected[frozenset((found[1], found[2]))] = (int(found[3]), size)
    ours: dict[frozenset[str], tuple[int, int | None]] = {}
    for c in report.conversations:
        if c.proto == "tcp":
            ends = frozenset((f"{c.orig_h}:{c.orig_p}", f"{c.resp_h}:{c.resp_p}"))
            exact = expected.get(ends, (0, 0))[1] is not None
            ours[ends] = (
                c.orig_pkts + c.resp_pkts,
                c.orig_frame_bytes + c.resp_frame_bytes if exact else None,
            )
    assert expected and ours == expected


@needs_tshark
def test_dns_queries_equal_tshark_dns_tree() -> None:
    report = _report("dns.pcap")
    text = _tshark("dns.pcap", "-z", "dns,tree")

    def count(topic: str) -> int:
        found = re.search(rf"^\s*{re.escape(topic)}\s+(\d+)", text, re.MULTILINE)
        assert found is not None, topic
        return int(found[1])

    assert len(report.dns) == count("Query")
    assert sum(q.response_frame is not None for q in report.dns) == count("Response")
    times = [q.response_time for q in report.dns if q.response_time is not None]
    found = re.search(r"request-response time \(msec\)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", text)
    assert found is not None
    assert len(times) == int(found[1])
    assert round(1000 * min(times), 6) == float(found[3])
    assert round(1000 * max(times), 6) == float(found[4])


@pytest.mark.skipif(shutil.which("capinfos") is None, reason="capinfos not installed")
@pytest.mark.parametrize("name", ["http.pcap", "dns.pcap", "multi.pcapng"])
def test_summary_equals_capinfos(name: str) -> None:
    report = _report(name)
    out = subprocess.run(
        ["capinfos", "-M", "-c", "-d", "-u", "-T", "-r", str(DATA / name)], capture_output=True, text=True
    ).stdout.strip()
    _file, packets, data_size, duration = out.split("\t")[:4]
    assert report.summary.packets == int(packets)
    assert report.summary.bytes == int(data_size)
    assert report.summary.duration == pytest.approx(float(duration), abs=1e-6)


@pytest.mark.parametrize("name", ["http.pcap", "dns.pcap", "tcp-lossy.pcap", "dhcp.pcap"])
def test_conversations_equal_the_flows_command(name: str) -> None:
    report = _report(name)
    out, err = io.StringIO(), io.StringIO()
    assert run_cli(["flows", "-r", str(DATA / name), "-T", "json"], out, err, strict=True) == 0
    flows = json.loads(out.getvalue())
    ours = [
        {
            "stream": c.stream,
            "proto": c.proto,
            "conn_state": c.conn_state,
            "history": c.history,
            "orig_pkts": c.orig_pkts,
            "orig_bytes": c.orig_bytes,
            "resp_pkts": c.resp_pkts,
            "resp_bytes": c.resp_bytes,
            "community_id": c.community_id,
        }
        for c in report.conversations
    ]
    assert ours == [{key: row[key] for key in ours[0]} for row in flows]
