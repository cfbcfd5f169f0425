"""`flows` against tshark 4.0: per-conversation frame and byte counts (`-z conv,tcp`/`conv,udp`,
also with a filter for -Y), Community IDs, and Zeek's conn_state/history on the known captures.
Goldens: tests/golden/make_conv_goldens.py."""

from __future__ import annotations

import functools
import io
import json
import re
from pathlib import Path

import pytest

from analyzer import cli
from analyzer.export.flows import FlowRow, flow_rows
from analyzer.export.flows_facts import PacketFacts, iter_facts, iter_filtered_facts
from analyzer.filter import compile_filter
from captures.pcapfile import iter_records, open_capture

TESTS = Path(__file__).resolve().parents[1]
DATA = TESTS / "data"
GOLDEN = TESTS / "golden" / "out" / "conv"
CAPTURES = sorted(path.name.removesuffix(".conv.txt") for path in GOLDEN.glob("*.conv.txt"))
ROW = re.compile(
    r"^(?P<a>\S+)\s+<-> (?P<b>\S+)\s+(?P<ba_frames>\d+) (?P<ba_bytes>\d+ \S+)\s+"
    r"(?P<ab_frames>\d+) (?P<ab_bytes>\d+ \S+)\s+\d+ \d+ \S+\s+(?P<start>[\d.]+)\s+[\d.]+$"
)


def format_size(size: int) -> str:
    """Wireshark 4.0's format_size with SI prefixes, as -z conv prints byte counts."""
    for power, prefix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k")):
        if size // power >= 10:
            return f"{size // power} {prefix}B"
    return f"{size} bytes"


def endpoint(text: str) -> tuple[str, int]:
    host, port = text.rsplit(":", 1)
    return host, int(port)


@functools.cache
def facts(capture: str) -> tuple[PacketFacts, ...]:
    return tuple(iter_facts(iter_records(DATA / capture), strict=True))


def first_ns(capture: str) -> int:
    return facts(capture)[0].timestamp_ns


def tshark_conversations(path: Path) -> list[dict[str, str]]:
    proto = ""
    found: list[dict[str, str]] = []
    for line in path.read_text().splitlines():
        if line.endswith(" Conversations"):
            proto = line.split()[0].lower()
        match = ROW.match(line)
        if match:
            found.append({"proto": proto, **match.groupdict()})
    return found


def compare(rows: list[FlowRow], expected: list[dict[str, str]], origin_ns: int) -> None:
    assert len(rows) == len(expected)
    unmatched = list(rows)
    for conv in expected:
        a, b = endpoint(conv["a"]), endpoint(conv["b"])
        start_ns = round(float(conv["start"]) * 1e9)
        candidates = [
            row
            for row in unmatched
            if row.proto == conv["proto"]
            and {(row.orig_h, row.orig_p), (row.resp_h, row.resp_p)} == {a, b}
            and abs(row.start_ns - origin_ns - start_ns) < 1000
        ]
        assert len(candidates) == 1, conv
        row = candidates[0]
        unmatched.remove(row)
        a_is_orig = (row.orig_h, row.orig_p) == a
        a_pkts, b_pkts = (row.orig_pkts, row.resp_pkts) if a_is_orig else (row.resp_pkts, row.orig_pkts)
        a_bytes, b_bytes = (
            (row.orig_frame_bytes, row.resp_frame_bytes)
            if a_is_orig
            else (row.resp_frame_bytes, row.orig_frame_bytes)
        )
        assert (a_pkts, b_pkts) == (int(conv["ab_frames"]), int(conv["ba_frames"])), conv
        assert (format_size(a_bytes), format_size(b_bytes)) == (conv["ab_bytes"], conv["ba_bytes"]), conv


@pytest.mark.parametrize("capture", CAPTURES)
def test_counts_match_tshark_conv(capture: str) -> None:
    rows = flow_rows(facts(capture))
    compare(rows, tshark_conversations(GOLDEN / f"{capture}.conv.txt"), first_ns(capture))


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.conv-filtered.*.txt")), ids=lambda p: p.name)
def test_filtered_counts_match_tshark_conv_with_filter(path: Path) -> None:
    capture = path.name.split(".conv-filtered.")[0]
    text = path.read_text()
    display_filter = compile_filter(re.search(r"^Filter:(.*)$", text, re.M).group(1))  # type: ignore[union-attr]
    with open_capture(DATA / capture) as reader:
        rows = flow_rows(
            iter_filtered_facts(iter(reader), display_filter.matches, strict=True), filtered=True
        )
    assert rows, "the filters were chosen to select something"
    compare(rows, tshark_conversations(path), first_ns(capture))


@pytest.mark.parametrize("capture", CAPTURES)
def test_community_ids_match_tshark(capture: str) -> None:
    rows = {(row.proto, row.stream): row.community_id for row in flow_rows(facts(capture))}
    lines = (GOLDEN / f"{capture}.communityid.txt").read_text().splitlines()[2:]  # command, header
    checked = 0
    for line in lines:
        _number, tcp, udp, icmp, icmpv6, community = (line.split("\t") + [""] * 6)[:6]
        if icmp or icmpv6 or not (tcp or udp):
            continue  # ICMP errors hash as ICMP; their quoted header is not the frame's flow
        key = ("tcp", int(tcp)) if tcp else ("udp", int(udp))
        assert rows[key] == community, line
        checked += 1
    assert checked or not rows


def states(capture: str) -> dict[int, tuple[str, str, int]]:
    return {row.resp_p: (row.conn_state, row.history, row.stream) for row in flow_rows(facts(capture))}


def test_zeek_states_on_tcp_rst() -> None:
    found = states("tcp-rst.pcap")
    assert found[81][0] == "REJ"  # refused: SYN answered by RST/ACK
    assert found[9999][:2] == ("S0", "S")  # dropped SYNs, retransmitted twice
    assert found[8080][0] == "RSTO"  # data both ways, then the client's RST
    rows = {row.resp_p: row for row in flow_rows(facts("tcp-rst.pcap"))}
    assert rows[9999].retransmissions == 2
    assert rows[9999].orig_pkts == 3 and rows[9999].resp_pkts == 0


def test_http_connections_are_sf_with_payload_bytes() -> None:
    rows = flow_rows(facts("http.pcap"))
    assert [row.conn_state for row in rows] == ["SF"] * 5
    assert all(row.history.startswith("ShAD") for row in rows)
    assert all(row.handshake_rtt_ns is not None and row.handshake_rtt_ns > 0 for row in rows)
    big = max(rows, key=lambda row: row.resp_bytes)
    assert big.resp_bytes > 204_800  # the 204 800-byte body plus headers, counted by sequence


def test_json_output_keys_and_values() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert cli.run_cli(["flows", "-r", str(DATA / "dns.pcap"), "-T", "json"], out, err, strict=True) == 0
    records = json.loads(out.getvalue())
    assert [r["proto"] for r in records] == ["tcp"] * 2 + ["udp"] * 11
    first = records[0]
    assert list(first)[:6] == ["stream", "proto", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p"]
    assert first["id.resp_p"] == 53 and first["conn_state"] == "SF"
    assert records[2]["handshake_rtt"] is None and records[2]["history"] == "Dd"
