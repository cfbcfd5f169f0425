"""`layerscope flows` / `follow` on the command line: formats, exit statuses, hostile input."""

from __future__ import annotations

import io
import struct
from pathlib import Path

from analyzer import cli

DATA = Path(__file__).resolve().parents[1] / "data"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = cli.run_cli(list(argv), out, err, strict=True)
    return status, out.getvalue(), err.getvalue()


def test_table_lists_every_conversation() -> None:
    status, out, err = run("flows", "-r", str(DATA / "tcp-rst.pcap"))
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["stream", "proto", "orig"]
    assert [line.split()[4] for line in lines[2:]] == ["REJ", "RSTO", "S0"]
    assert all(line == line.rstrip() for line in lines)


def test_csv_has_a_header_and_one_line_per_conversation() -> None:
    status, out, _err = run("flows", "-r", str(DATA / "dns.pcap"), "-T", "csv")
    lines = out.splitlines()
    assert status == 0
    assert lines[0].startswith("stream,proto,id.orig_h,id.orig_p,id.resp_h,id.resp_p,conn_state,history,ts")
    assert len(lines) == 1 + 13


def test_filter_selects_counted_packets() -> None:
    status, out, _err = run("flows", "-r", str(DATA / "tcp-rst.pcap"), "-Y", "frame.number >= 5", "-T", "csv")
    assert status == 0
    assert [line.split(",")[5] for line in out.splitlines()[1:]] == ["8080", "9999"]


def test_bad_filter_and_bad_file_exit_2_usage_exits_1(tmp_path: Path) -> None:
    status, out, err = run("flows", "-r", str(DATA / "dns.pcap"), "-Y", "tcp.port ==")
    assert (status, out) == (2, "") and err.startswith("layerscope: ")
    assert run("flows", "-r", str(tmp_path / "absent.pcap"))[0] == 2
    assert run("follow", "-r", str(tmp_path / "absent.pcap"), "--stream", "0")[0] == 2
    assert run("follow", "-r", str(DATA / "dns.pcap"))[0] == 1  # --stream is required
    assert run("follow", "-r", str(DATA / "dns.pcap"), "--stream", "-1")[0] == 1
    assert run("flows", "-r", str(DATA / "dns.pcap"), "-T", "xml")[0] == 1


def test_follow_missing_stream_prints_tsharks_empty_report_and_warns() -> None:
    status, out, err = run("follow", "-r", str(DATA / "http.pcap"), "--stream", "99")
    assert status == 0
    assert "Filter: tcp.stream eq 99\nNode 0: :0\nNode 1: :0\n" in out
    assert "no tcp stream 99" in err


def test_hostile_payload_never_reaches_the_terminal_raw(tmp_path: Path) -> None:
    payload = b"\x1b]0;pwned\x07\x1b[2J\x9b31m\r\nok"
    udp = struct.pack("!HHHH", 5000, 6000, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, b"\n\0\0\1", b"\n\0\0\2")
    frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + udp
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    path = tmp_path / "hostile.pcap"
    path.write_bytes(header + struct.pack("<IIII", 1, 0, len(frame), len(frame)) + frame)
    for mode in ("ascii", "hex", "raw"):
        status, out, _err = run(
            "follow", "-r", str(path), "--stream", "0", "--proto", "udp", "--format", mode
        )
        assert status == 0
        assert not any(ch in out for ch in "\x1b\x07\x9b\x00")
    for output in ("table", "json", "csv"):
        status, out, _err = run("flows", "-r", str(path), "-T", output)
        assert status == 0 and "\x1b" not in out
