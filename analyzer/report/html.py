"""The report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched.

Every string that came from a packet goes through `text()`: control characters are made
visible (as `read -V` shows them) and then HTML-escaped, quotes included, so a capture cannot
inject markup, scripts or attributes. Links are only in-page anchors built from numbers.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from analyzer.report.model import (
    Finding,
    ProtocolNode,
    Report,
    StreamDetail,
    StreamPacket,
    Talker,
    TimeBucket,
    severity_counts,
)
from analyzer.textsafe import escape_label

CSS = """
:root{--fg:#1f2933;--muted:#616e7c;--line:#d9e2ec;--bg:#f5f7fa;--accent:#2f6fdf;--err:#c62828;
--warn:#e08a00;--note:#2f6fdf;--chat:#607d8b;--ok:#2e7d32}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
background:var(--bg)}
header{background:#102a43;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#bcccdc;font-size:13px}
nav{padding:8px 32px;background:#243b53;position:sticky;top:0;z-index:2}
nav a{color:#d9e2ec;text-decoration:none;margin-right:18px;font-size:13px}
nav a:hover{color:#fff}
main{padding:16px 32px 48px;max-width:1500px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 20px 16px;
margin:16px 0;box-shadow:0 1px 2px rgba(16,42,67,.06)}
h2{font-size:17px;margin:4px 0 10px;color:#102a43}
h3{font-size:14px;margin:14px 0 6px}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#f0f4f8;font-weight:600;position:sticky;top:34px}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr:hover td{background:#f7fbff}
.kv{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:8px}
.kv div{background:#f0f4f8;border-radius:6px;padding:6px 10px}
.kv b{display:block;font-size:11px;color:var(--muted);font-weight:600;text-transform:uppercase}
.sev{display:inline-block;border-radius:10px;padding:0 8px;color:#fff;font-size:11px;font-weight:600}
.sev-Error{background:var(--err)}.sev-Warning{background:var(--warn)}.sev-Note{background:var(--note)}
.sev-Chat,.sev-Comment{background:var(--chat)}
.state{font-family:ui-monospace,monospace;font-weight:600}
.state-SF{color:var(--ok)}.state-S0,.state-REJ,.state-RSTO,.state-RSTR{color:var(--err)}
code,pre{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:12px}
pre{background:#f0f4f8;padding:8px 10px;border-radius:6px;overflow-x:auto;margin:4px 0}
details{margin:4px 0}summary{cursor:pointer;color:var(--accent)}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}
.muted{color:var(--muted)}
a{color:var(--accent)}
svg text{font-family:system-ui,sans-serif}
"""

# The page may use its own inline styles and nothing else: no script, image, font or frame loads.
CSP = "default-src 'none'; style-src 'unsafe-inline'"

FINDINGS_SHOWN = 1000

SECTIONS = (
    ("summary", "Summary"),
    ("hierarchy", "Protocols"),
    ("findings", "Findings"),
    ("conversations", "Conversations"),
    ("dns", "DNS"),
    ("dhcp", "DHCP"),
    ("http", "HTTP"),
    ("charts", "Charts"),
    ("streams", "Streams"),
)


CONVERSATION_HEADERS: tuple[str, ...] = ("stream", "proto", "originator", "responder", "state", "history")
CONVERSATION_HEADERS += ("duration", "orig pkts", "orig bytes", "resp pkts", "resp bytes", "rtt", "retrans")


def text(value: object) -> str:
    """Packet-derived text, safe inside HTML elements and quoted attributes."""
    if value is None:
        return ""
    return html.escape(escape_label(str(value)), quote=True)


def _num(value: float | int | None, digits: int = 6) -> str:
    if value is None:
        return ""
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _when(stamp: float | None) -> str:
    if stamp is None:
        return ""
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def _table(
    headers: Iterable[str], rows: Iterable[Iterable[str]], numeric: frozenset[str] = frozenset()
) -> str:
    """A table whose cells are already-escaped HTML."""
    heads = list(headers)
    out = ["<table><thead><tr>"]
    out += [f'<th class="{"n" if h in numeric else ""}">{html.escape(h)}</th>' for h in heads]
    out.append("</tr></thead><tbody>")
    for row in rows:
        cells = [
            f'<td class="{"n" if h in numeric else ""}">{c}</td>' for h, c in zip(heads, row, strict=True)
        ]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _frame_link(number: int, anchors: set[int]) -> str:
    return f'<a href="#frame-{number}">{number}</a>' if number in anchors else str(number)


def _summary(report: Report) -> str:
    s = report.summary
    items = [
        ("File", text(s.file)),
        ("Format", text(s.file_format)),
        ("Encapsulation (link types)", ", ".join(str(x) for x in s.encapsulations)),
        ("Display filter", text(s.display_filter) if s.display_filter else "none"),
        ("Packets", str(s.packets)),
        ("Bytes (on the wire)", str(s.bytes)),
        ("Bytes captured", str(s.captured_bytes)),
        ("First packet", _when(s.first_time)),
        ("Last packet", _when(s.last_time)),
        ("Duration (s)", _num(s.duration)),
        ("Average packet size", f"{s.average_packet_size:.2f} bytes"),
        ("Data rate", f"{s.bytes_per_second:.3f} bytes/s · {s.bits_per_second:.3f} bits/s"),
        ("Packet rate", f"{s.packets_per_second:.3f} packets/s"),
    ]
    cells = "".join(f"<div><b>{html.escape(k)}</b>{v}</div>" for k, v in items)
    warnings = "".join(f'<p class="muted">⚠ {text(w)}</p>' for w in report.warnings)
    return f'<div class="kv">{cells}</div>{warnings}'


def _hierarchy_rows(nodes: list[ProtocolNode], depth: int, total: int) -> Iterator[list[str]]:
    for node in nodes:
        share = 100 * node.frames / total if total else 0.0
        bar = (
            f'<svg width="120" height="10"><rect width="{1.2 * share:.1f}" height="10" fill="#2f6fdf"/></svg>'
        )
        name = f'<span style="padding-left:{18 * depth}px">{text(node.protocol)}</span>'
        yield [name, str(node.frames), f"{share:.1f}%", str(node.bytes), bar]
        yield from _hierarchy_rows(node.children, depth + 1, total)


def _findings(findings: list[Finding], anchors: set[int]) -> str:
    if not findings:
        return '<p class="muted">No expert findings.</p>'
    counts = severity_counts(findings)
    badges = " ".join(f'<span class="sev sev-{k}">{k}: {v}</span>' for k, v in counts.items())
    headers = ("severity", "frame", "group", "code", "message")
    important = [f for f in findings if f.severity_level >= 2]
    chatter = [f for f in findings if f.severity_level < 2]
    out = f"<p>{badges}</p>"
    if important:
        out += _table(headers, _finding_rows(important[:FINDINGS_SHOWN], anchors))
    if chatter:
        # Chat items (handshakes, requests) are many and routine: folded away by default.
        out += f"<details><summary>{len(chatter)} chat and comment items</summary>"
        out += _table(headers, _finding_rows(chatter[:FINDINGS_SHOWN], anchors)) + "</details>"
    if max(len(important), len(chatter)) > FINDINGS_SHOWN:
        out += (
            f'<p class="muted">Tables show the first {FINDINGS_SHOWN} of each; the JSON report has all.</p>'
        )
    return out


def _finding_rows(findings: list[Finding], anchors: set[int]) -> Iterator[list[str]]:
    for f in findings:
        yield [
            f'<span class="sev sev-{text(f.severity)}">{text(f.severity)}</span>',
            _frame_link(f.frame, anchors),
            text(f.group),
            f"<code>{text(f.code)}</code>",
            text(f.message),
        ]


def _conversations(report: Report) -> str:
    numeric = frozenset(("stream", "duration", "orig pkts", "orig bytes", "resp pkts", "resp bytes", "rtt"))
    numeric |= {"retrans"}
    rows = (
        [
            str(c.stream),
            text(c.proto),
            text(f"{c.orig_h}:{c.orig_p}"),
            text(f"{c.resp_h}:{c.resp_p}"),
            f'<span class="state state-{text(c.conn_state)}">{text(c.conn_state)}</span>',
            f"<code>{text(c.history)}</code>",
            _num(c.duration),
            str(c.orig_pkts),
            str(c.orig_bytes),
            str(c.resp_pkts),
            str(c.resp_bytes),
            _num(c.handshake_rtt),
            _num(c.retransmissions),
        ]
        for c in report.conversations
    )
    headers = CONVERSATION_HEADERS
    return _table(headers, rows, numeric) if report.conversations else '<p class="muted">None.</p>'


def _dns(report: Report, anchors: set[int]) -> str:
    if not report.dns:
        return '<p class="muted">No DNS queries.</p>'
    rows = (
        [
            _frame_link(q.frame, anchors),
            text(q.client),
            text(q.server),
            text(q.name),
            text(q.qtype),
            text(q.rcode) if q.rcode is not None else '<span class="muted">no response</span>',
            "<br>".join(text(a) for a in q.answers),
            _num(q.response_time),
        ]
        for q in report.dns
    )
    headers = ("frame", "client", "server", "name", "type", "rcode", "answers", "time (s)")
    return _table(headers, rows, frozenset(("frame", "time (s)")))


def _dhcp(report: Report) -> str:
    if not report.dhcp:
        return '<p class="muted">No DHCP exchanges.</p>'
    rows = (
        [
            f"0x{d.xid:08x}",
            text(d.mac),
            text(" → ".join(d.messages)),
            text(d.assigned_addr or d.offered_addr),
            text(d.server_addr),
            _num(d.lease_time),
            text(d.host_name),
            text(d.outcome),
            _num(d.duration),
        ]
        for d in report.dhcp
    )
    headers = ("xid", "client MAC", "messages", "address", "server", "lease (s)", "host name", "outcome")
    return _table((*headers, "duration (s)"), rows, frozenset(("lease (s)", "duration (s)")))


def _http(report: Report, anchors: set[int]) -> str:
    if not report.http:
        return '<p class="muted">No HTTP requests.</p>'
    rows = (
        [
            _frame_link(r.frame, anchors),
            text(r.client),
            text(r.method),
            text(r.host),
            text(r.uri),
            _num(r.status) + (" " + text(r.reason) if r.reason else ""),
            _num(r.content_length),
            _num(r.response_time),
        ]
        for r in report.http
    )
    headers = ("frame", "client", "method", "host", "uri", "status", "size", "time (s)")
    return _table(headers, rows, frozenset(("frame", "size", "time (s)")))


def bar_chart(title: str, buckets: list[TimeBucket], attr: str, width_s: float, colour: str) -> str:
    """An SVG column chart of one TimeBucket attribute over time."""
    w, h, left, bottom = 640, 220, 60, 30
    values = [int(getattr(b, attr)) for b in buckets]
    top = max(values, default=0) or 1
    step = (w - left - 10) / max(len(values), 1)
    bars = []
    for i, value in enumerate(values):
        height = (h - bottom - 20) * value / top
        x, y = left + i * step, h - bottom - height
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(step - 1, 1):.1f}" height="{height:.1f}"'
            f' fill="{colour}">'
            f"<title>{buckets[i].start:.3f}s: {value}</title></rect>"
        )
    span = width_s * len(values)
    axis = (
        f'<line x1="{left}" y1="{h - bottom}" x2="{w - 10}" y2="{h - bottom}" stroke="#9aa5b1"/>'
        f'<text x="{left - 6}" y="24" font-size="11" text-anchor="end">{top}</text>'
        f'<text x="{left - 6}" y="{h - bottom}" font-size="11" text-anchor="end">0</text>'
        f'<text x="{left}" y="{h - 10}" font-size="11">0 s</text>'
        f'<text x="{w - 10}" y="{h - 10}" font-size="11" text-anchor="end">{span:.3g} s</text>'
    )
    return (
        f'<figure><figcaption><b>{html.escape(title)}</b> <span class="muted">(per {width_s:g} s)'
        f'</span></figcaption><svg viewBox="0 0 {w} {h}" width="100%" role="img">{axis}{"".join(bars)}'
        "</svg></figure>"
    )


def talkers_chart(talkers: list[Talker]) -> str:
    """Horizontal SVG bars: bytes per address."""
    if not talkers:
        return ""
    w, row, left = 640, 24, 230
    h = row * len(talkers) + 10
    top = max(t.bytes for t in talkers) or 1
    parts = []
    for i, t in enumerate(talkers):
        y = 5 + i * row
        length = (w - left - 120) * t.bytes / top
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" font-size="12" text-anchor="end">{text(t.address)}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="16" rx="3" fill="#3ebd93"/>'
            f'<text x="{left + length + 6:.1f}" y="{y + 15}" font-size="11">'
            f"{t.bytes} B · {t.packets} pkts</text>"
        )
    return (
        '<figure><figcaption><b>Top talkers</b> <span class="muted">(bytes sent and received)</span>'
        f'</figcaption><svg viewBox="0 0 {w} {h}" width="100%" role="img">{"".join(parts)}</svg></figure>'
    )


def ladder(detail: StreamDetail, anchors: set[int], limit: int = 120) -> str:
    """An SVG sequence diagram: originator left, responder right, one arrow per packet."""
    arrows = detail.ladder[:limit]
    w, row, top, left, right = 760, 26, 50, 170, 590
    h = top + row * len(arrows) + 20
    start = arrows[0].time if arrows else 0.0
    heading = 'y="20" font-size="12" text-anchor="middle" font-weight="600"'
    parts = [
        f'<text x="{left}" {heading}>{text(detail.orig)}</text>',
        f'<text x="{right}" {heading}>{text(detail.resp)}</text>',
        f'<line x1="{left}" y1="30" x2="{left}" y2="{h - 10}" stroke="#9aa5b1" stroke-width="2"/>',
        f'<line x1="{right}" y1="30" x2="{right}" y2="{h - 10}" stroke="#9aa5b1" stroke-width="2"/>',
    ]
    for i, arrow in enumerate(arrows):
        y = top + i * row
        x1, x2 = (left, right) if arrow.from_orig else (right, left)
        colour = "#c62828" if "RST" in arrow.label else "#2f6fdf" if arrow.from_orig else "#3ebd93"
        head = -8 if arrow.from_orig else 8
        frame = f"#{arrow.frame}"
        if arrow.frame in anchors:
            frame = f'<a href="#frame-{arrow.frame}">{frame}</a>'
        parts.append(
            f'<text x="8" y="{y + 4}" font-size="11" fill="#616e7c">{arrow.time - start:.6f}</text>'
            f'<text x="{w - 8}" y="{y + 4}" font-size="11" text-anchor="end" fill="#616e7c">{frame}</text>'
            f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{colour}" stroke-width="1.6"/>'
            f'<path d="M{x2},{y} l{head},-4 l0,8 z" fill="{colour}"/>'
            f'<text x="{(left + right) / 2}" y="{y - 4}" font-size="11" text-anchor="middle">'
            f"{text(arrow.label)}</text>"
        )
    more = (
        f'<p class="muted">First {limit} of {len(detail.ladder)} packets.</p>'
        if len(detail.ladder) > limit
        else ""
    )
    return f'<svg viewBox="0 0 {w} {h}" width="{w}" role="img">{"".join(parts)}</svg>{more}'


def _packet(packet: StreamPacket, anchors_done: set[int]) -> str:
    anchor = ""
    if packet.frame not in anchors_done:
        anchors_done.add(packet.frame)
        anchor = f' id="frame-{packet.frame}"'
    tree = text("\n".join(packet.tree))
    return (
        f'<details{anchor}><summary>Frame {packet.frame} <span class="muted">{_when(packet.time)}</span>'
        f"</summary><pre>{tree}</pre><pre>{text(packet.hex)}</pre></details>"
    )


def _streams(report: Report, anchors: set[int]) -> str:
    done: set[int] = set()
    out = []
    for detail in report.streams:
        out.append(
            f"<h3>TCP stream {detail.stream}: {text(detail.orig)} → {text(detail.resp)} "
            f'<span class="muted">({text(detail.reason)})</span></h3>'
        )
        out.append(ladder(detail, anchors))
        out.extend(_packet(packet, done) for packet in detail.packets)
    if report.finding_packets:
        out.append("<h3>Packets with findings</h3>")
        out.extend(_packet(packet, done) for packet in report.finding_packets)
    return "".join(out) or '<p class="muted">No stream selected (use --stream N).</p>'


def render_html(report: Report) -> str:
    """The whole page."""
    anchors = {p.frame for d in report.streams for p in d.packets} | {p.frame for p in report.finding_packets}
    total = report.summary.packets
    hierarchy = _table(
        ("protocol", "frames", "% frames", "bytes", ""),
        _hierarchy_rows(report.protocol_hierarchy, 0, total),
        frozenset(("frames", "% frames", "bytes")),
    )
    width = report.timeline_bucket_seconds
    charts = (
        '<div class="charts">'
        + bar_chart("Packets over time", report.timeline, "packets", width, "#2f6fdf")
        + bar_chart("Bytes over time", report.timeline, "bytes", width, "#9446ed")
        + talkers_chart(report.top_talkers)
        + "</div>"
    )
    bodies = {
        "summary": _summary(report),
        "hierarchy": hierarchy,
        "findings": _findings(report.findings, anchors),
        "conversations": _conversations(report),
        "dns": _dns(report, anchors),
        "dhcp": _dhcp(report),
        "http": _http(report, anchors),
        "charts": charts,
        "streams": _streams(report, anchors),
    }
    nav = "".join(f'<a href="#{key}">{title}</a>' for key, title in SECTIONS)
    sections = "".join(
        f'<section id="{key}"><h2>{title}</h2>{bodies[key]}</section>' for key, title in SECTIONS
    )
    title = f"Layerscope report: {text(report.summary.file)}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{title}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{title}</h1><p>{report.summary.packets} packets · {report.summary.bytes} bytes · "
        f"{_num(report.summary.duration)} s</p></header><nav>{nav}</nav><main>{sections}</main>"
        "</body></html>\n"
    )
