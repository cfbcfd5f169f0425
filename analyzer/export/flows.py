"""The `flows` table: one row per TCP and UDP conversation, in Zeek conn.log's vocabulary.

Rows come from analyzer.state's trackers (TcpTracker, UdpTracker) fed in one forward pass; stream
ids are tshark's tcp.stream / udp.stream. Bytes are payload bytes as Zeek counts them (for TCP
from sequence numbers); `orig_frame_bytes`/`resp_frame_bytes` (whole frames, as tshark's
`-z conv` counts them) are kept for checks but not printed.

With a display filter, tshark's `-z conv` counts only the matching packets; here every packet
still numbers the streams (so ids stay tshark's), and each stream's matching packets feed a
tracker of their own.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import TextIO

from rich.cells import cell_len

from analyzer.export.flows_facts import PacketFacts, UdpFact
from analyzer.state.tcp_facts import TcpSegment
from analyzer.state.tcp_tracker import ConnectionSummary, TcpTracker
from analyzer.state.udp_tracker import UdpSummary, UdpTracker
from analyzer.textsafe import escape_field

NS = 1_000_000_000

# Output keys, in column order (Zeek's conn.log names where Zeek has one).
KEYS = (
    "stream",
    "proto",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "conn_state",
    "history",
    "ts",
    "duration",
    "orig_pkts",
    "orig_bytes",
    "resp_pkts",
    "resp_bytes",
    "handshake_rtt",
    "retransmissions",
    "community_id",
)


@dataclass(frozen=True, slots=True)
class FlowRow:
    """One conversation as `flows` prints it (times in nanoseconds; None where not applicable)."""

    stream: int
    proto: str
    orig_h: str
    orig_p: int
    resp_h: str
    resp_p: int
    conn_state: str
    history: str
    start_ns: int
    duration_ns: int
    orig_pkts: int
    orig_bytes: int
    resp_pkts: int
    resp_bytes: int
    handshake_rtt_ns: int | None
    retransmissions: int | None
    community_id: str
    orig_frame_bytes: int
    resp_frame_bytes: int

    def record(self) -> dict[str, object]:
        """The row under its output keys; times in seconds, as Zeek logs them."""
        return {
            "stream": self.stream,
            "proto": self.proto,
            "id.orig_h": self.orig_h,
            "id.orig_p": self.orig_p,
            "id.resp_h": self.resp_h,
            "id.resp_p": self.resp_p,
            "conn_state": self.conn_state,
            "history": self.history,
            "ts": _seconds(self.start_ns),
            "duration": _seconds(self.duration_ns),
            "orig_pkts": self.orig_pkts,
            "orig_bytes": self.orig_bytes,
            "resp_pkts": self.resp_pkts,
            "resp_bytes": self.resp_bytes,
            "handshake_rtt": None if self.handshake_rtt_ns is None else _seconds(self.handshake_rtt_ns),
            "retransmissions": self.retransmissions,
            "community_id": self.community_id,
        }


def _seconds(ns: int) -> float:
    # Microseconds, as Zeek logs; a float cannot hold an epoch time to the nanosecond anyway.
    return round(ns / NS, 6)


@dataclass(slots=True)
class _FrameBytes:
    """Whole-frame byte counts per direction; the originator is the stream's first sender."""

    orig: tuple[str, int]
    orig_bytes: int = 0
    resp_bytes: int = 0


class _Streams:
    """One tracker per protocol plus per-stream frame-byte counts (what tshark's conv counts)."""

    def __init__(self) -> None:
        self.tcp = TcpTracker()
        self.udp = UdpTracker()
        self.tcp_frames: dict[int, _FrameBytes] = {}
        self.udp_frames: dict[int, _FrameBytes] = {}

    def feed(self, packet: PacketFacts, counted: bool = True) -> tuple[str, int] | None:
        """Track one packet; its (proto, stream), or None when it is neither TCP nor UDP."""
        fact = packet.fact
        if isinstance(fact, TcpSegment):
            analysis = self.tcp.feed(fact)
            frames = self.tcp_frames.get(analysis.stream)
            if frames is None:
                frames = self.tcp_frames[analysis.stream] = _FrameBytes(("", 0))
            if counted:
                if analysis.from_originator:
                    frames.orig_bytes += packet.wire_len
                else:
                    frames.resp_bytes += packet.wire_len
            return "tcp", analysis.stream
        if isinstance(fact, UdpFact):
            d = fact.datagram
            counted = counted and not d.quoted  # tshark's taps skip headers quoted in ICMP errors
            stream = self.udp.feed(d.src, d.sport, d.dst, d.dport, d.payload_len, d.timestamp_ns, counted)
            frames = self.udp_frames.get(stream)
            if frames is None:
                frames = self.udp_frames[stream] = _FrameBytes((d.src, d.sport))
            if counted:
                if (d.src, d.sport) == frames.orig:
                    frames.orig_bytes += packet.wire_len
                else:
                    frames.resp_bytes += packet.wire_len
            return "udp", stream
        return None

    def rows(self) -> Iterator[FlowRow]:
        for tcp in self.tcp.connections():
            yield _tcp_row(tcp, self.tcp_frames.get(tcp.stream))
        for udp in self.udp.connections():
            yield _udp_row(udp, self.udp_frames.get(udp.stream))


def _tcp_row(summary: ConnectionSummary, frames: _FrameBytes | None) -> FlowRow:
    return FlowRow(
        stream=summary.stream,
        proto="tcp",
        orig_h=summary.orig_h,
        orig_p=summary.orig_p,
        resp_h=summary.resp_h,
        resp_p=summary.resp_p,
        conn_state=summary.conn_state,
        history=summary.history,
        start_ns=summary.start_ns,
        duration_ns=summary.duration_ns,
        orig_pkts=summary.orig_pkts,
        orig_bytes=summary.orig_bytes,
        resp_pkts=summary.resp_pkts,
        resp_bytes=summary.resp_bytes,
        handshake_rtt_ns=summary.handshake_rtt_ns,
        retransmissions=summary.retransmissions,
        community_id=summary.community_id,
        orig_frame_bytes=frames.orig_bytes if frames else 0,
        resp_frame_bytes=frames.resp_bytes if frames else 0,
    )


def _udp_row(summary: UdpSummary, frames: _FrameBytes | None) -> FlowRow:
    # Zeek's UDP history: D / d once a datagram with payload went each way.
    history = ("D" if summary.orig_bytes else "") + ("d" if summary.resp_bytes else "")
    return FlowRow(
        stream=summary.stream,
        proto="udp",
        orig_h=summary.orig_h,
        orig_p=summary.orig_p,
        resp_h=summary.resp_h,
        resp_p=summary.resp_p,
        conn_state=summary.conn_state,
        history=history,
        start_ns=summary.start_ns,
        duration_ns=summary.duration_ns,
        orig_pkts=summary.orig_pkts,
        orig_bytes=summary.orig_bytes,
        resp_pkts=summary.resp_pkts,
        resp_bytes=summary.resp_bytes,
        handshake_rtt_ns=None,
        retransmissions=None,
        community_id=summary.community_id,
        orig_frame_bytes=frames.orig_bytes if frames else 0,
        resp_frame_bytes=frames.resp_bytes if frames else 0,
    )


def flow_rows(packets: Iterable[PacketFacts], filtered: bool = False) -> list[FlowRow]:
    """Every conversation, TCP first then UDP, each in stream order.

    `filtered`: count only packets whose `selected` is set (a display filter matched them);
    every packet still numbers the streams, so ids stay tshark's.
    """
    numbering = _Streams()
    if not filtered:
        for packet in packets:
            numbering.feed(packet)
        return list(numbering.rows())
    selected: dict[tuple[str, int], _Streams] = {}
    for packet in packets:
        key = numbering.feed(packet, counted=False)
        if key is None or not packet.selected:
            continue
        streams = selected.get(key)
        if streams is None:
            streams = selected[key] = _Streams()
        streams.feed(packet)
    rows = [
        replace(row, stream=stream)
        for (_proto, stream), streams in selected.items()
        for row in itertools.islice(streams.rows(), 1)  # one stream's packets: one conversation
    ]
    rows.sort(key=lambda row: (row.proto != "tcp", row.stream))
    return rows


# -- output ---------------------------------------------------------------------------------------


def write_json(rows: Iterable[FlowRow], out: TextIO) -> None:
    """A JSON array of objects keyed by KEYS (json.dumps escapes every control character)."""
    records = [row.record() for row in rows]
    out.write(json.dumps(records, indent=2, ensure_ascii=False) + "\n")


def write_csv(rows: Iterable[FlowRow], out: TextIO) -> None:
    """CSV with a header; text cells escaped so no control character reaches a terminal."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(KEYS)
    for row in rows:
        writer.writerow([_cell(value) for value in row.record().values()])


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}"
    return escape_field(str(value))


def write_table(rows: Iterable[FlowRow], out: TextIO) -> None:
    """An aligned, readable table: a header, a rule, one line a flow; every cell escaped for control
    characters. Columns are three spaces apart, numbers right-aligned, trailing blanks dropped."""
    headers: tuple[str, ...] = ("stream", "proto", "orig", "resp", "state", "history", "ts", "duration")
    headers += ("orig pkts", "orig bytes", "resp pkts", "resp bytes", "rtt", "retrans", "community_id")
    numeric = {"stream", "duration", "orig pkts", "orig bytes", "resp pkts", "resp bytes", "rtt", "retrans"}
    right = [header in numeric for header in headers]
    lines = [headers, *(_table_cells(row) for row in rows)]
    widths = [max(cell_len(line[column]) for line in lines) for column in range(len(headers))]

    def text(cells: tuple[str, ...]) -> str:
        padded = (
            " " * (width - cell_len(cell)) + cell if align else cell + " " * (width - cell_len(cell))
            for cell, width, align in zip(cells, widths, right, strict=True)
        )
        return "   ".join(padded).rstrip() + "\n"

    out.write(text(lines[0]))
    out.write("─" * (sum(widths) + 3 * (len(widths) - 1)) + "\n")
    out.writelines(text(cells) for cells in lines[1:])


def _table_cells(row: FlowRow) -> tuple[str, ...]:
    rtt = "" if row.handshake_rtt_ns is None else f"{row.handshake_rtt_ns / NS:.6f}"
    cells = (
        str(row.stream),
        row.proto,
        _endpoint(row.orig_h, row.orig_p),
        _endpoint(row.resp_h, row.resp_p),
        row.conn_state,
        row.history,
        f"{row.start_ns / NS:.6f}",
        f"{row.duration_ns / NS:.6f}",
        str(row.orig_pkts),
        str(row.orig_bytes),
        str(row.resp_pkts),
        str(row.resp_bytes),
        rtt,
        "" if row.retransmissions is None else str(row.retransmissions),
        row.community_id,
    )
    return tuple(escape_field(cell) for cell in cells)


def _endpoint(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
