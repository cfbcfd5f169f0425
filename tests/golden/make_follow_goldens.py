"""Regenerate the `follow` goldens: `python tests/golden/make_follow_goldens.py`.

For every capture in `tests/data/`, every TCP and UDP stream tshark numbers (tcp.stream /
udp.stream) and every format (ascii, hex, raw), runs `tshark -r CAPTURE -o PREFS... -q -z
follow,PROTO,FORMAT,N` and writes its stdout, gzipped, to
`tests/golden/out/follow/CAPTURE.PROTO.N.FORMAT.txt.gz`; `out/follow/COMMANDS.txt` lists the exact
command of each file. PREFS are make_goldens.PREFS: no IP defragmentation (our dissectors look at
one frame at a time, so a UDP datagram's first fragment is followed as tshark follows it then);
they do not change how TCP is followed (tshark follows segment by segment either way).
"""

from __future__ import annotations

import gzip
import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_goldens import PREFS, captures  # noqa: E402

OUT = HERE / "out" / "follow"
FORMATS = ("ascii", "hex", "raw")


def prefs() -> list[str]:
    return [arg for pref in PREFS for arg in ("-o", pref)]


def stream_numbers(capture: Path) -> dict[str, list[int]]:
    """Every tcp.stream and udp.stream value tshark gives any frame of the capture."""
    cmd = ["tshark", "-r", str(capture), *prefs(), "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,"]
    cmd += ["-e", "tcp.stream", "-e", "udp.stream"]
    result = subprocess.run(cmd, capture_output=True, check=True, text=True)
    found: dict[str, set[int]] = {"tcp": set(), "udp": set()}
    for line in result.stdout.splitlines():
        for proto, cell in zip(("tcp", "udp"), line.split("\t"), strict=False):
            found[proto].update(int(value) for value in cell.split(",") if value)
    return {proto: sorted(values) for proto, values in found.items()}


def command(capture: Path, proto: str, mode: str, stream: int) -> list[str]:
    return ["tshark", "-r", str(capture), *prefs(), "-q", "-z", f"follow,{proto},{mode},{stream}"]


def golden_name(capture: Path, proto: str, stream: int, mode: str) -> str:
    return f"{capture.name}.{proto}.{stream}.{mode}.txt.gz"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.txt.gz"):
        old.unlink()
    commands: list[str] = []
    for capture in captures():
        for proto, numbers in stream_numbers(capture).items():
            for stream in numbers:
                for mode in FORMATS:
                    cmd = command(capture, proto, mode, stream)
                    output = subprocess.run(cmd, capture_output=True, check=True).stdout
                    name = golden_name(capture, proto, stream, mode)
                    (OUT / name).write_bytes(gzip.compress(output, mtime=0))
                    shown = [arg.replace(str(HERE.parent.parent) + "/", "") for arg in cmd]
                    commands.append(f"{name}\t{shlex.join(shown)}")
    (OUT / "COMMANDS.txt").write_text("\n".join(commands) + "\n")
    print(f"follow: {len(commands)} goldens")


if __name__ == "__main__":
    main()
