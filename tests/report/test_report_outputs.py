"""Report, logs and CSV outputs: self-contained HTML, escaping of hostile packet text, Zeek logs,
atomic writes."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from analyzer.cli import run_cli
from analyzer.export.atomic import atomic_text
from analyzer.textsafe import is_safe

DATA = Path(__file__).resolve().parents[1] / "data"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = run_cli(list(argv), out, err, strict=True)
    return status, out.getvalue(), err.getvalue()


class _Collector(HTMLParser):
    """Every start tag and attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(name, value or "") for name, value in attrs]


def _html(path: Path) -> tuple[str, _Collector]:
    page = path.read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(page)
    parser.close()
    return page, parser


def test_html_report_is_self_contained(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert _run("report", "-r", str(DATA / "http.pcap"), "-o", str(out), "--stream", "0")[0] == 0
    page, parsed = _html(out)
    assert {"script", "img", "link", "iframe", "object", "embed"}.isdisjoint(parsed.tags)
    assert "svg" in parsed.tags and "table" in parsed.tags
    for name, value in parsed.attributes:
        assert name not in ("src", "srcset", "action", "formaction"), name
        if name in ("href", "xlink:href"):
            assert value.startswith("#"), value
        assert "http:" not in value and "https:" not in value and "//" not in value, (name, value)
    assert "url(" not in page and "@import" not in page
    for section in ("summary", "hierarchy", "findings", "conversations", "dns", "dhcp", "http", "streams"):
        assert f'id="{section}"' in page
    assert 'id="frame-3"' in page  # stream 0's first packet, shown in full


def test_hostile_text_is_escaped_in_html(hostile_pcap: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert _run("report", "-r", str(hostile_pcap), "-o", str(out), "--stream", "0")[0] == 0
    page, parsed = _html(out)
    assert "script" not in parsed.tags
    assert "<script" not in page.lower()
    assert not CONTROL.search(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\033[31m" in page  # the URI, shown and inert
    assert "GET" in page and "\\000" in page


def test_hostile_text_is_escaped_in_markdown(hostile_pcap: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    assert _run("report", "-r", str(hostile_pcap), "-o", str(out), "--stream", "0")[0] == 0
    text = out.read_text(encoding="utf-8")
    assert not CONTROL.search(text)
    # Outside code blocks (which Markdown shows verbatim) no raw markup is left.
    prose = re.sub(r"^(~{4,})\n.*?^\1$", "", text, flags=re.MULTILINE | re.DOTALL)
    assert "~~~~" not in prose  # every code block was closed where we closed it
    assert "<script" not in prose
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in prose
    # Every row of a table has its header's columns: packet text cannot add a cell with "|".
    columns = 0
    for line in prose.splitlines():
        if not line.startswith("|"):
            columns = 0
            continue
        pipes = sum(token == "|" for token in re.findall(r"\\.|\|", line))
        columns = columns or pipes
        assert pipes == columns, line


def test_json_report_keeps_raw_values_escaped_as_json(hostile_pcap: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert _run("report", "-r", str(hostile_pcap), "-o", str(out))[0] == 0
    text = out.read_text(encoding="utf-8")
    assert not CONTROL.search(text) and text.isascii()
    report = json.loads(text)
    assert report["schema_version"] == 1
    assert report["http"][0]["uri"].startswith("/<script>alert(1)</script>\x1b[31m")
    assert report["http"][0]["status"] == 200 and report["http"][0]["response_frame"] == 5
    assert report["dns"][0]["answers"] == ["10.9.0.80"]


def test_csv_summary_and_fields_are_quoted_and_escaped(hostile_pcap: Path) -> None:
    status, text, _ = _run("read", "-r", str(hostile_pcap), "-T", "csv")
    assert status == 0 and not CONTROL.search(text)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["No.", "Time", "Source", "Destination", "Protocol", "Length", "Info"]
    assert len(rows) == 8 and all(len(row) == 7 for row in rows)
    assert rows[4][:2] == ["4", "0.003000"] and rows[4][2] == "10.9.0.1"
    status, text, _ = _run(
        "read", "-r", str(hostile_pcap), "-T", "csv", "-e", "frame.number", "-e", "http.host"
    )
    assert status == 0 and not CONTROL.search(text)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["frame.number", "http.host"]
    assert rows[4] == ["4", "<script>alert(1)</script>\\x1b[31m\\x1b]0;pwn\\x07\\x00|*[x](y)"]


@pytest.mark.parametrize(
    "argv",
    [
        ["read"],
        ["read", "-V"],
        ["read", "-T", "fields", "-e", "http.request.uri", "-e", "dns.qry.name"],
        ["follow", "--stream", "0"],
        ["follow", "--stream", "0", "--proto", "udp"],
        ["flows"],
    ],
)
def test_terminal_outputs_never_carry_control_bytes(hostile_pcap: Path, argv: list[str]) -> None:
    status, text, err = _run(argv[0], "-r", str(hostile_pcap), *argv[1:])
    assert status == 0, err
    assert text and is_safe(text.replace("\t", " ").replace("\r", " ")), text


def test_zeek_tsv_logs(hostile_pcap: Path, tmp_path: Path) -> None:
    assert _run("logs", "-r", str(hostile_pcap), "-o", str(tmp_path))[0] == 0
    for name in ("conn", "dns", "http", "dhcp"):
        lines = (tmp_path / f"{name}.log").read_text(encoding="utf-8").splitlines()
        assert lines[0] == "#separator \\x09" and lines[4] == f"#path\t{name}"
        assert [line.split("\t")[0] for line in lines[1:8]] == [
            "#set_separator",
            "#empty_field",
            "#unset_field",
            "#path",
            "#open",
            "#fields",
            "#types",
        ]
        assert lines[-1].startswith("#close\t")
        fields = lines[6].split("\t")[1:]
        assert len(lines[7].split("\t")) - 1 == len(fields)
        for row in lines[8:-1]:
            assert len(row.split("\t")) == len(fields), row
            assert not CONTROL.search(row)
    http = (tmp_path / "http.log").read_text(encoding="utf-8").splitlines()
    http_row = dict(zip(http[6].split("\t")[1:], http[8].split("\t"), strict=True))
    assert http_row["method"] == "GET" and http_row["status_code"] == "200"
    assert http_row["host"] == "<script>alert(1)</script>\\x1b[31m\\x1b]0;pwn\\x07\\x00|*[x](y)"
    conn = (tmp_path / "conn.log").read_text(encoding="utf-8").splitlines()
    conn_row = dict(zip(conn[6].split("\t")[1:], conn[8].split("\t"), strict=True))
    assert conn_row["uid"] == http_row["uid"] and conn_row["service"] == "http"


def test_zeek_logs_on_a_real_capture(tmp_path: Path) -> None:
    assert _run("logs", "-r", str(DATA / "dhcp.pcap"), "-o", str(tmp_path), "--format", "json")[0] == 0
    records = [json.loads(line) for line in (tmp_path / "dhcp.log").read_text().splitlines()]
    assert records and records[0]["msg_types"][:2] == ["DISCOVER", "OFFER"]
    assert records[0]["assigned_addr"] and records[0]["lease_time"] > 0
    conns = [json.loads(line) for line in (tmp_path / "conn.log").read_text().splitlines()]
    assert all(record["uid"].startswith("C") and len(record["uid"]) == 18 for record in conns)


def test_parquet_without_pyarrow_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes `import pyarrow` fail as if it were not installed.
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    status, _, err = _run("logs", "-r", str(DATA / "dns.pcap"), "-o", str(tmp_path), "--format", "parquet")
    assert status == 1 and "pyarrow" in err
    assert not list(tmp_path.iterdir())


def test_parquet_logs_hold_the_same_records_as_json(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow", reason="pyarrow (the test extra) is needed for parquet logs")
    import pyarrow.parquet as pq

    json_dir, parquet_dir = tmp_path / "json", tmp_path / "parquet"
    assert _run("logs", "-r", str(DATA / "http.pcap"), "-o", str(json_dir), "--format", "json")[0] == 0
    assert _run("logs", "-r", str(DATA / "http.pcap"), "-o", str(parquet_dir), "--format", "parquet")[0] == 0
    for name in ("conn", "http"):
        records = [json.loads(line) for line in (json_dir / f"{name}.log").read_text().splitlines()]
        table = pq.read_table(parquet_dir / f"{name}.parquet").to_pylist()
        assert len(table) == len(records) > 0
        assert [row["uid"] for row in table] == [record["uid"] for record in records]
    conn = pq.read_table(parquet_dir / "conn.parquet").to_pylist()
    assert {row["conn_state"] for row in conn} == {"SF"}


def test_atomic_write_leaves_nothing_when_interrupted(tmp_path: Path) -> None:
    target = tmp_path / "out.html"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_text(target) as out:
        out.write("half")
        raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert [path.name for path in tmp_path.iterdir()] == ["out.html"]
    with atomic_text(target) as out:
        out.write("new")
    assert target.read_text() == "new"


def test_report_usage_errors(tmp_path: Path) -> None:
    status, _, err = _run("report", "-r", str(DATA / "dns.pcap"), "-o", str(tmp_path / "r.txt"))
    assert status == 1 and ".html" in err
    status, _, err = _run(
        "report", "-r", str(DATA / "dns.pcap"), "-o", str(tmp_path / "r.md"), "-Y", "tcp.port =="
    )
    assert status == 2
    assert not (tmp_path / "r.md").exists()


def test_report_filter_counts_only_matching_packets(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert _run("report", "-r", str(DATA / "dns.pcap"), "-o", str(out), "-Y", "udp")[0] == 0
    report = json.loads(out.read_text())
    assert report["summary"]["packets"] == 22  # tshark -Y udp: 22 frames
    assert {c["proto"] for c in report["conversations"]} == {"udp"}
    assert report["summary"]["display_filter"] == "udp"


def test_failed_handshakes_get_ladders(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert _run("report", "-r", str(DATA / "tcp-rst.pcap"), "-o", str(out), "--stream", "1")[0] == 0
    streams = {s["stream"]: s for s in json.loads(out.read_text())["streams"]}
    assert streams[0]["reason"] == "failed handshake"
    assert [arrow["label"] for arrow in streams[0]["ladder"]] == ["SYN", "RST, ACK"]
    assert [arrow["from_orig"] for arrow in streams[0]["ladder"]] == [True, False]
    assert [arrow["label"] for arrow in streams[2]["ladder"]] == ["SYN", "SYN", "SYN"]
    assert streams[1]["reason"] == "selected" and len(streams[1]["packets"]) == 11
    assert streams[1]["packets"][0]["tree"][0].startswith("Frame ")
