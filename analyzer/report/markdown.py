"""The report as Markdown: the HTML report's sections as tables and text.

Packet-derived text goes through `cell()`: control characters made visible, `&`, `<` and `>`
turned into entities (Markdown renders inline HTML), and every Markdown punctuation character
backslash-escaped so a capture cannot add links, images, emphasis or table columns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from analyzer.report.html import CONVERSATION_HEADERS
from analyzer.report.model import ProtocolNode, Report, severity_counts
from analyzer.textsafe import escape_label

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~\"'=:])")
FENCE = "~~~~"


def cell(value: object) -> str:
    """Packet-derived text, inert inside a Markdown paragraph or table cell."""
    if value is None:
        return ""
    shown = escape_label(str(value))
    shown = _PUNCTUATION.sub(r"\\\1", shown)
    return "".join(_ENTITIES.get(ch, ch) for ch in shown)


def _num(value: float | int | None, digits: int = 6) -> str:
    if value is None:
        return ""
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]]) -> Iterator[str]:
    heads = list(headers)
    yield "| " + " | ".join(heads) + " |"
    yield "|" + "|".join("---" for _ in heads) + "|"
    for row in rows:
        yield "| " + " | ".join(row) + " |"
    yield ""


def _hierarchy(nodes: list[ProtocolNode], depth: int) -> Iterator[list[str]]:
    for node in nodes:
        yield ["&nbsp;" * (4 * depth) + cell(node.protocol), str(node.frames), str(node.bytes)]
        yield from _hierarchy(node.children, depth + 1)


def _fenced(text: str) -> Iterator[str]:
    # A fence longer than any run of '~' inside keeps the block closed where we close it.
    shown = "\n".join(escape_label(line) for line in text.split("\n"))
    longest = max((len(run) for run in re.findall("~+", shown)), default=0)
    fence = "~" * max(4, longest + 1)
    yield fence
    yield from shown.splitlines()
    yield fence


def render_markdown(report: Report) -> str:
    """The whole document."""
    s = report.summary
    out = [f"# Layerscope report: {cell(s.file)}", "", "## Summary", ""]
    out += _table(
        ("item", "value"),
        [
            ["file format", cell(s.file_format)],
            ["encapsulations (link types)", ", ".join(str(x) for x in s.encapsulations)],
            ["display filter", cell(s.display_filter) if s.display_filter else "none"],
            ["packets", str(s.packets)],
            ["bytes", str(s.bytes)],
            ["bytes captured", str(s.captured_bytes)],
            ["first packet (epoch s)", _num(s.first_time)],
            ["last packet (epoch s)", _num(s.last_time)],
            ["duration (s)", _num(s.duration)],
            ["average packet size (bytes)", f"{s.average_packet_size:.2f}"],
            ["data rate (bytes/s)", f"{s.bytes_per_second:.3f}"],
            ["packet rate (packets/s)", f"{s.packets_per_second:.3f}"],
        ],
    )
    out += [f"Warning: {cell(w)}" for w in report.warnings]
    out += ["## Protocol hierarchy", ""]
    out += _table(("protocol", "frames", "bytes"), _hierarchy(report.protocol_hierarchy, 0))
    out += ["## Findings", ""]
    counts = severity_counts(report.findings)
    out += [", ".join(f"{k}: {v}" for k, v in counts.items()) or "No expert findings.", ""]
    out += _table(
        ("severity", "frame", "group", "code", "message"),
        (
            [cell(f.severity), str(f.frame), cell(f.group), cell(f.code), cell(f.message)]
            for f in report.findings
        ),
    )
    out += ["## Conversations", ""]
    out += _table(
        CONVERSATION_HEADERS,
        (
            [
                str(c.stream),
                cell(c.proto),
                cell(f"{c.orig_h}:{c.orig_p}"),
                cell(f"{c.resp_h}:{c.resp_p}"),
                cell(c.conn_state),
                cell(c.history),
                _num(c.duration),
                str(c.orig_pkts),
                str(c.orig_bytes),
                str(c.resp_pkts),
                str(c.resp_bytes),
                _num(c.handshake_rtt),
                _num(c.retransmissions),
            ]
            for c in report.conversations
        ),
    )
    out += ["## DNS", ""]
    out += _table(
        ("frame", "client", "server", "name", "type", "rcode", "answers", "time (s)"),
        (
            [
                str(q.frame),
                cell(q.client),
                cell(q.server),
                cell(q.name),
                cell(q.qtype),
                cell(q.rcode) if q.rcode is not None else "no response",
                "<br>".join(cell(a) for a in q.answers),
                _num(q.response_time),
            ]
            for q in report.dns
        ),
    )
    out += ["## DHCP", ""]
    out += _table(
        ("xid", "client MAC", "messages", "address", "server", "lease (s)", "host name", "outcome"),
        (
            [
                f"0x{d.xid:08x}",
                cell(d.mac),
                cell(" > ".join(d.messages)),
                cell(d.assigned_addr or d.offered_addr),
                cell(d.server_addr),
                _num(d.lease_time),
                cell(d.host_name),
                cell(d.outcome),
            ]
            for d in report.dhcp
        ),
    )
    out += ["## HTTP", ""]
    out += _table(
        ("frame", "client", "method", "host", "uri", "status", "size", "time (s)"),
        (
            [
                str(r.frame),
                cell(r.client),
                cell(r.method),
                cell(r.host),
                cell(r.uri),
                _num(r.status),
                _num(r.content_length),
                _num(r.response_time),
            ]
            for r in report.http
        ),
    )
    out += ["## Top talkers", ""]
    out += _table(
        ("address", "packets", "bytes"),
        ([cell(t.address), str(t.packets), str(t.bytes)] for t in report.top_talkers),
    )
    out += ["## Streams", ""]
    for detail in report.streams:
        out += [
            f"### TCP stream {detail.stream}: {cell(detail.orig)} to {cell(detail.resp)}"
            f" ({cell(detail.reason)})",
            "",
        ]
        ladder = [f"{a.frame:>6} {'-->' if a.from_orig else '<--'} {a.label}" for a in detail.ladder]
        out += _fenced("\n".join(ladder))
        for packet in detail.packets:
            out += ["", f"#### Frame {packet.frame}", ""]
            out += _fenced("\n".join(packet.tree))
            out += _fenced(packet.hex)
        out.append("")
    return "\n".join(out) + "\n"
