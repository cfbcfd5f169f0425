"""Zeek-style logs (conn.log, dns.log, http.log, dhcp.log) from a report's data: TSV, JSON, Parquet.

Field names, types and meanings are Zeek's, so the files drop into tools built for Zeek. What we
cannot know the way Zeek does (local_orig, missed_bytes, IP-level byte counts, file ids) is
left unset ("-" in TSV, absent in JSON) rather than guessed. `uid`s are derived from the
Community ID (stable across runs) and link dns.log and http.log lines to their conn.log line.

TSV escaping follows Zeek's ASCII writer: non-printable bytes, the backslash and separators as
\\xNN; a value that reads as the unset or empty marker is escaped too. JSON escapes through
`json.dumps`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from analyzer.report.model import Conversation, Report

Value = str | int | float | bool | list[str] | list[int] | list[float] | None

SEPARATOR = "\t"
SET_SEPARATOR = ","
EMPTY = "(empty)"
UNSET = "-"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class ZeekLog:
    """One log: its path (conn, dns...), `(name, zeek type)` columns and rows keyed by name."""

    path: str
    columns: tuple[tuple[str, str], ...]
    rows: list[dict[str, Value]]


def conn_uid(conv: Conversation) -> str:
    """A Zeek-like uid ("C" + 17 base62 characters), stable for the same conversation."""
    seed = f"{conv.community_id}|{conv.proto}|{conv.stream}|{conv.start_time}".encode()
    number = int.from_bytes(hashlib.sha256(seed).digest()[:13], "big")
    chars = []
    for _ in range(17):
        number, digit = divmod(number, 62)
        chars.append(_BASE62[digit])
    return "C" + "".join(chars)


CONN_COLUMNS = (
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("proto", "enum"),
    ("service", "string"),
    ("duration", "interval"),
    ("orig_bytes", "count"),
    ("resp_bytes", "count"),
    ("conn_state", "string"),
    ("local_orig", "bool"),
    ("local_resp", "bool"),
    ("missed_bytes", "count"),
    ("history", "string"),
    ("orig_pkts", "count"),
    ("orig_ip_bytes", "count"),
    ("resp_pkts", "count"),
    ("resp_ip_bytes", "count"),
    ("tunnel_parents", "set[string]"),
)
DNS_COLUMNS = (
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("proto", "enum"),
    ("trans_id", "count"),
    ("rtt", "interval"),
    ("query", "string"),
    ("qclass", "count"),
    ("qtype", "count"),
    ("qtype_name", "string"),
    ("rcode", "count"),
    ("rcode_name", "string"),
    ("AA", "bool"),
    ("TC", "bool"),
    ("RD", "bool"),
    ("RA", "bool"),
    ("answers", "vector[string]"),
    ("TTLs", "vector[interval]"),
    ("rejected", "bool"),
)
HTTP_COLUMNS = (
    ("ts", "time"),
    ("uid", "string"),
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
    ("trans_depth", "count"),
    ("method", "string"),
    ("host", "string"),
    ("uri", "string"),
    ("referrer", "string"),
    ("version", "string"),
    ("user_agent", "string"),
    ("request_body_len", "count"),
    ("response_body_len", "count"),
    ("status_code", "count"),
    ("status_msg", "string"),
)
DHCP_COLUMNS = (
    ("ts", "time"),
    ("uids", "set[string]"),
    ("client_addr", "addr"),
    ("server_addr", "addr"),
    ("mac", "string"),
    ("host_name", "string"),
    ("client_fqdn", "string"),
    ("domain", "string"),
    ("requested_addr", "addr"),
    ("assigned_addr", "addr"),
    ("lease_time", "interval"),
    ("client_message", "string"),
    ("server_message", "string"),
    ("msg_types", "vector[string]"),
    ("duration", "interval"),
)


def build_logs(report: Report) -> list[ZeekLog]:
    """conn, dns, http and dhcp logs from the report's sections."""
    uids = {(c.proto, c.stream): conn_uid(c) for c in report.conversations}
    services: dict[tuple[str, int], str] = {}
    for query in report.dns:
        if query.stream is not None:
            services[(query.transport, query.stream)] = "dns"
    for request in report.http:
        if request.stream is not None:
            services[("tcp", request.stream)] = "http"
    conn = [
        {
            "ts": c.start_time,
            "uid": uids[(c.proto, c.stream)],
            "id.orig_h": c.orig_h,
            "id.orig_p": c.orig_p,
            "id.resp_h": c.resp_h,
            "id.resp_p": c.resp_p,
            "proto": c.proto,
            "service": services.get(
                (c.proto, c.stream), "dhcp" if {c.orig_p, c.resp_p} == {67, 68} else None
            ),
            "duration": c.duration,
            "orig_bytes": c.orig_bytes,
            "resp_bytes": c.resp_bytes,
            "conn_state": c.conn_state,
            "history": c.history,
            "orig_pkts": c.orig_pkts,
            "resp_pkts": c.resp_pkts,
        }
        for c in report.conversations
    ]
    dns = [
        {
            "ts": q.time,
            "uid": uids.get((q.transport, q.stream)) if q.stream is not None else None,
            "id.orig_h": q.client,
            "id.orig_p": q.client_port,
            "id.resp_h": q.server,
            "id.resp_p": q.server_port,
            "proto": q.transport,
            "trans_id": q.transaction_id,
            "rtt": q.response_time,
            "query": q.name,
            "qclass": q.qclass_code,
            "qtype": q.qtype_code,
            "qtype_name": q.qtype.split(" ", 1)[0] or None,
            "rcode": q.rcode_code,
            "rcode_name": _rcode_name(q.rcode),
            "AA": q.authoritative if q.authoritative is not None else False,
            "TC": q.truncated if q.truncated is not None else False,
            "RD": bool(q.recursion_desired),
            "RA": bool(q.recursion_available),
            "answers": list(q.answers) or None,
            "TTLs": [float(ttl) for ttl in q.ttls] or None,
            "rejected": q.rcode_code == 5,
        }
        for q in report.dns
    ]
    http = []
    depth: dict[int | None, int] = {}
    for r in report.http:
        depth[r.stream] = depth.get(r.stream, 0) + 1
        http.append(
            {
                "ts": r.time,
                "uid": uids.get(("tcp", r.stream)) if r.stream is not None else None,
                "id.orig_h": r.client,
                "id.orig_p": r.client_port,
                "id.resp_h": r.server,
                "id.resp_p": r.server_port,
                "trans_depth": depth[r.stream],
                "method": r.method,
                "host": r.host,
                "uri": r.uri,
                "referrer": r.referrer,
                "version": r.version.removeprefix("HTTP/") if r.version else None,
                "user_agent": r.user_agent,
                "request_body_len": r.request_body_len or 0,
                "response_body_len": r.content_length if r.content_length is not None else None,
                "status_code": r.status,
                "status_msg": r.reason,
            }
        )
    dhcp: list[dict[str, Value]] = [
        {
            "ts": d.time,
            "client_addr": d.client_addr,
            "server_addr": d.server_addr,
            "mac": d.mac,
            "host_name": d.host_name,
            "client_fqdn": d.client_fqdn,
            "domain": d.domain,
            "requested_addr": d.requested_addr,
            "assigned_addr": d.assigned_addr,
            "lease_time": float(d.lease_time) if d.lease_time is not None else None,
            "client_message": d.client_message,
            "server_message": d.server_message,
            "msg_types": list(d.messages),
            "duration": d.duration,
        }
        for d in report.dhcp
    ]
    return [
        ZeekLog("conn", CONN_COLUMNS, conn),  # type: ignore[arg-type]
        ZeekLog("dns", DNS_COLUMNS, dns),  # type: ignore[arg-type]
        ZeekLog("http", HTTP_COLUMNS, http),  # type: ignore[arg-type]
        ZeekLog("dhcp", DHCP_COLUMNS, dhcp),
    ]


def _rcode_name(label: str | None) -> str | None:
    # "No error (0)" -> Zeek's "NOERROR"; other names upper-cased without spaces.
    if label is None:
        return None
    name = label.split(" (", 1)[0]
    known = {"No error": "NOERROR", "No such name": "NXDOMAIN", "Server failure": "SERVFAIL"}
    known |= {"Refused": "REFUSED", "Format error": "FORMERR", "Not implemented": "NOTIMP"}
    return known.get(name, name.upper().replace(" ", ""))


# -- TSV ------------------------------------------------------------------------------------------


def _escape_tsv(text: str, in_set: bool = False) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        special = ch in ("\\", SEPARATOR) or (in_set and ch == SET_SEPARATOR)
        if (
            special
            or code < 0x20
            or 0x7F <= code < 0xA0
            or 0x202A <= code <= 0x202E
            or 0x2066 <= code <= 0x2069
        ):
            out.append("".join(f"\\x{byte:02x}" for byte in ch.encode("utf-8", "surrogatepass")))
        else:
            out.append(ch)
    shown = "".join(out)
    if shown in (UNSET, EMPTY) and not in_set:
        return "".join(f"\\x{ord(c):02x}" for c in shown)
    return shown


def _tsv_value(value: Value, zeek_type: str) -> str:
    if value is None:
        return UNSET
    if isinstance(value, list):
        if not value:
            return EMPTY
        return SET_SEPARATOR.join(_tsv_value(item, zeek_type.split("[")[1].rstrip("]")) for item in value)
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, float):
        return f"{value:.6f}"
    if isinstance(value, int):
        return str(value)
    if value == "":
        return EMPTY
    return _escape_tsv(value, "[" in zeek_type)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d-%H-%M-%S")


def write_tsv(log: ZeekLog, out: TextIO, now: Callable[[], datetime] | None = None) -> None:
    """Zeek's ASCII log format, header lines included."""
    clock = now or (lambda: datetime.now(UTC))
    names = [name for name, _ in log.columns]
    out.write("#separator \\x09\n")
    out.write(f"#set_separator{SEPARATOR}{SET_SEPARATOR}\n")
    out.write(f"#empty_field{SEPARATOR}{EMPTY}\n")
    out.write(f"#unset_field{SEPARATOR}{UNSET}\n")
    out.write(f"#path{SEPARATOR}{log.path}\n")
    out.write(f"#open{SEPARATOR}{_stamp(clock())}\n")
    out.write("#fields" + SEPARATOR + SEPARATOR.join(names) + "\n")
    out.write("#types" + SEPARATOR + SEPARATOR.join(kind for _, kind in log.columns) + "\n")
    for row in log.rows:
        out.write(SEPARATOR.join(_tsv_value(row.get(name), kind) for name, kind in log.columns) + "\n")
    out.write(f"#close{SEPARATOR}{_stamp(clock())}\n")


def write_json_lines(log: ZeekLog, out: TextIO) -> None:
    """Zeek's JSON logs: one object per line, unset fields left out."""
    names = [name for name, _ in log.columns]
    for row in log.rows:
        record = {name: row[name] for name in names if row.get(name) is not None}
        out.write(json.dumps(record, ensure_ascii=True) + "\n")


def rows_as_columns(log: ZeekLog) -> dict[str, list[Value]]:
    """Column-major data (for Parquet)."""
    return {name: [row.get(name) for row in log.rows] for name, _ in log.columns}


def arrow_type_names(columns: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Each column's Arrow type name (Zeek time/interval as float64 seconds, counts as uint64)."""
    mapping = {"time": "float64", "interval": "float64", "count": "uint64", "port": "uint16", "bool": "bool"}
    return {
        name: "list<string>"
        if kind.startswith(("set[", "vector[string"))
        else "list<float64>"
        if kind.startswith("vector[")
        else mapping.get(kind, "string")
        for name, kind in columns
    }
