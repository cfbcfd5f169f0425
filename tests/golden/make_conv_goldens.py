"""Regenerate the `flows` goldens: `python tests/golden/make_conv_goldens.py`.

For every capture in `tests/data/`, writes to `tests/golden/out/conv/`:
- `CAPTURE.conv.txt`: `tshark -r CAPTURE -o PREFS... -q -z conv,tcp -z conv,udp` (frames and
  bytes each way per conversation, what `flows` must count);
- `CAPTURE.communityid.txt`: per frame, tcp.stream, udp.stream, icmp.type, icmpv6.type and the
  Community ID (`tshark --enable-protocol communityid -T fields ...`);
- for the captures in FILTERED, `CAPTURE.conv-filtered.N.txt`: `-z conv,PROTO,FILTER`, where only
  packets matching FILTER feed the table (what `flows -Y FILTER` must count).
The first line of every file is the command that produced it, after "# ".
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_goldens import PREFS, captures  # noqa: E402

OUT = HERE / "out" / "conv"
ROOT = HERE.parent.parent
COMMUNITY_FIELDS = ("frame.number", "tcp.stream", "udp.stream", "icmp.type", "icmpv6.type", "communityid")
# (capture, display filter) pairs for `flows -Y`.
FILTERED = (
    ("http.pcap", "frame.len > 100"),
    ("http.pcap", "ip.src == 10.77.0.2"),
    ("dns.pcap", "dns.flags.response == 0 || tcp.flags.syn == 1"),
    ("tcp-rst.pcap", "frame.number >= 5"),
)


def prefs() -> list[str]:
    return [arg for pref in PREFS for arg in ("-o", pref)]


def run(cmd: list[str], target: Path) -> None:
    output = subprocess.run(cmd, capture_output=True, check=True).stdout
    shown = shlex.join(arg.replace(str(ROOT) + "/", "") for arg in cmd)
    target.write_bytes(f"# {shown}\n".encode() + output)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for capture in captures():
        base = ["tshark", "-r", str(capture), *prefs()]
        run([*base, "-q", "-z", "conv,tcp", "-z", "conv,udp"], OUT / f"{capture.name}.conv.txt")
        fields = [arg for name in COMMUNITY_FIELDS for arg in ("-e", name)]
        cmd = [*base, "--enable-protocol", "communityid", "-T", "fields", "-E", "occurrence=a", *fields]
        run(cmd, OUT / f"{capture.name}.communityid.txt")
    for index, (name, display_filter) in enumerate(FILTERED):
        base = ["tshark", "-r", str(HERE.parent / "data" / name), *prefs(), "-q"]
        cmd = [*base, "-z", f"conv,tcp,{display_filter}", "-z", f"conv,udp,{display_filter}"]
        run(cmd, OUT / f"{name}.conv-filtered.{index}.txt")
    print(f"conv: {len(captures())} captures, {len(FILTERED)} filtered tables")


if __name__ == "__main__":
    main()
