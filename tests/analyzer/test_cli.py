"""`layerscope read`: exit statuses, hostile files, -c, -d, -n, and the process-level behaviour."""

from __future__ import annotations

import io
import json
import random
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from analyzer import cli, session
from analyzer.context import Preferences
from analyzer.model import Dissection
from analyzer.pipeline import dissect_frame
from analyzer.registry import Registry
from captures.frame import Frame

DATA = Path(__file__).resolve().parents[1] / "data"
ICMP = DATA / "icmp.pcap"
RAW228 = DATA / "rawip228.pcap"
PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)


def run(*argv: str, strict: bool = True) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = cli.run_cli(list(argv), out, err, strict=strict)
    return status, out.getvalue(), err.getvalue()


def record(frame: bytes, claimed: int | None = None) -> bytes:
    size = len(frame) if claimed is None else claimed
    return struct.pack("<IIII", 1_700_000_000, 0, size, size) + frame


def hostile_files(tmp: Path) -> dict[str, Path]:
    ihl_one = bytes.fromhex("020000000001020000000002 0800 4100001c00010000401100000a0000010a000002")
    contents = {
        "empty": b"",
        "random": random.Random(7).randbytes(5000),
        "six-bytes": PCAP_HEADER[:6],
        "huge-record": PCAP_HEADER + struct.pack("<IIII", 1, 0, 0x7FFFFFFF, 0x7FFFFFFF) + b"abc",
        "ihl-one": PCAP_HEADER + record(ihl_one),
        "cut-short": ICMP.read_bytes()[:1000],
    }
    paths = {}
    for name, content in contents.items():
        path = tmp / f"{name}.pcap"
        path.write_bytes(content)
        paths[name] = path
    return paths


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["read", "-r", str(ICMP), "-T", "xml"],
        ["read", "-r", str(ICMP), "-c", "0"],
        ["read", "-r", str(ICMP), "-c", "x"],
        ["read", "-r", str(ICMP), "-t", "q"],
        ["read", "-r", str(ICMP), "-T", "fields"],
        ["read", "-r", str(ICMP), "-e", "ip.src"],
        ["read", "-r", str(ICMP), "-T", "fields", "-e", "ip src"],
        ["read", "-r", str(ICMP), "-T", "fields", "-e", "ip.src", "-E", "quote=x"],
        ["read", "-r", str(ICMP), "-d", "tcp.port=8888,http"],
        ["read", "-r", str(ICMP), "-d", "no.such.table==1,data"],
        ["read", "-r", str(ICMP), "-d", "ip.proto==1,nosuchproto"],
    ],
)
def test_usage_errors_exit_1_with_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(*argv)
    assert status == 1
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith("layerscope: ")
    assert "Traceback" not in capsys.readouterr().err


def test_bad_decode_as_is_reported_before_the_file_is_opened() -> None:
    status, _, err = run("read", "-r", "/nonexistent.pcap", "-d", "tcp.port=8888,http")
    assert status == 1 and "decode-as" in err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["read", "--help"]) == 0
    assert "-r FILE" in capsys.readouterr().out


def test_missing_file_exits_2_with_one_line() -> None:
    status, out, err = run("read", "-r", "/nonexistent/x.pcap")
    assert (status, out) == (2, "")
    assert err.startswith("layerscope: ") and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "mode", [["-V"], ["-x"], ["-V", "-x"], ["-T", "json"], ["-T", "fields", "-e", "ip.src"], []]
)
def test_hostile_files_never_raise(tmp_path: Path, mode: list[str]) -> None:
    for name, path in hostile_files(tmp_path).items():
        status, _, err = run("read", *mode, "-r", str(path))  # strict: a dissector bug raises here
        assert status in (0, 2), name
        assert all(line.startswith("layerscope: ") for line in err.splitlines()), name
        if name in ("empty", "random", "six-bytes", "huge-record", "cut-short"):
            assert status == 2 and err, name


def test_hostile_files_in_a_real_process(tmp_path: Path) -> None:
    for name, path in hostile_files(tmp_path).items():
        done = subprocess.run(
            [sys.executable, "-m", "analyzer", "read", "-V", "-r", str(path)], capture_output=True, text=True
        )
        assert done.returncode in (0, 2), name
        assert "Traceback" not in done.stderr, name


def test_cut_short_file_prints_its_packets_then_exits_2(tmp_path: Path) -> None:
    path = hostile_files(tmp_path)["cut-short"]
    status, out, err = run("read", "-T", "jsonl", "-r", str(path))
    assert status == 2
    assert len(out.splitlines()) >= 8
    assert "cut short" in err


def test_count_limits_every_mode() -> None:
    assert len(run("read", "-c", "3", "-T", "jsonl", "-r", str(ICMP))[1].splitlines()) == 3
    assert len(run("read", "-c", "2", "-T", "fields", "-e", "frame.number", "-r", str(ICMP))[1].split()) == 2
    assert run("read", "-c", "2", "-V", "-r", str(ICMP))[1].count("\nFrame ") == 1
    assert run("read", "-c", "1", "-x", "-r", str(ICMP))[1].count("\n\n") == 1
    assert len(run("read", "-c", "4", "-r", str(ICMP))[1].splitlines()) == 4


def test_json_output_is_an_array_of_packets() -> None:
    status, out, _ = run("read", "-T", "json", "-r", str(ICMP))
    packets = json.loads(out)
    assert status == 0 and [p["frame"] for p in packets] == list(range(1, len(packets) + 1))
    assert packets[0]["layers"][0]["proto"] == "frame"


def test_decode_as_changes_the_dissection() -> None:
    args = ["read", "-n", "-T", "fields", "-e", "frame.protocols", "-r", str(RAW228)]
    plain = run(*args)[1].splitlines()
    forced = run(*args, "-d", "ip.proto==1,data")[1].splitlines()
    assert plain[0] == "ip:icmp:data"
    assert forced[0] == "ip:data"


def test_no_resolve_reaches_the_dissectors(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Preferences] = []

    def spy(frame: Frame, registry: Registry | None, **kwargs: Any) -> Dissection:
        seen.append(kwargs["prefs"])
        return dissect_frame(frame, registry, **kwargs)

    # read dissects through the session (analyzer.session.dissect_frames).
    monkeypatch.setattr(session, "dissect_frame", spy)
    run("read", "-c", "1", "-V", "-r", str(ICMP))
    run("read", "-c", "1", "-V", "-n", "-r", str(ICMP))
    assert [prefs.resolve_names for prefs in seen] == [True, False]


def test_verbose_blank_line_between_packets_and_hex_after_tree() -> None:
    out = run("read", "-c", "2", "-V", "-x", "-r", str(ICMP))[1]
    first = out[: out.index("Frame 2:")]
    assert first.startswith("Frame 1:")
    assert "\n\n0000  ff ff ff ff ff ff" in first and first.endswith("\n\n")


def test_main_contains_interrupts_and_bugs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*_: object, **__: object) -> int:
        raise KeyboardInterrupt

    def broken(*_: object, **__: object) -> int:
        raise RuntimeError("boom\x1b[2J")

    monkeypatch.setattr(cli, "run_cli", interrupted)
    assert cli.main(["read", "-r", str(ICMP)]) == 130
    monkeypatch.setattr(cli, "run_cli", broken)
    assert cli.main(["read", "-r", str(ICMP)]) == 1
    err = capsys.readouterr().err
    assert err == "layerscope: internal error: RuntimeError: boom\\033[2J\n"


def test_python_dash_m_and_broken_pipe() -> None:
    command = [sys.executable, "-m", "analyzer", "read", "-V", "-r", str(DATA / "http.pcap")]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().startswith(b"Frame 1: ")
        proc.stdout.close()  # like `| head -1`
        err = proc.stderr.read()
        status = proc.wait(timeout=60)
    assert status == 0
    assert err == b""


def test_read_without_a_file_reads_the_bundled_sample() -> None:
    code, out, err = run("read", "-c", "4")
    assert code == 0
    assert "bundled sample capture" in err and "sample.pcapng" in err
    lines = out.splitlines()
    assert len(lines) == 4 and "255.255.255.255" in lines[0]


def test_an_unknown_word_is_a_capture_file_for_the_tui() -> None:
    """`layerscope FILE` opens FILE; a word that is no file is tshark's exit 2, one line."""
    code, out, err = run("no-such-capture.pcap")
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and "no-such-capture.pcap" in err
