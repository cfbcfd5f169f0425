"""Regenerate the TCP/UDP analysis goldens: `python tests/golden/make_tcp_goldens.py`.

For every capture in `tests/data/` that holds TCP or UDP, runs tshark 4.0 once (one forward pass,
tshark's default: no `-2`) and writes `tests/golden/out/tcp-analysis/CAPTURE.txt` (tab-separated,
named .txt so that tests/test_golden_fields.py, which compares `out/*/*.tsv` with single-frame
dissections, leaves them alone) with the
per-frame values our `analyzer.state` trackers must reproduce (stream numbers, relative sequence
numbers, the scaled window, every tcp.analysis.* value, conversation completeness, Community ID).
These fields need state across frames, so they live apart from the per-frame field goldens that
tests/test_golden_fields.py compares. The exact command is `command()` below.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_goldens import PREFS, TSHARK_COMMAND, captures  # noqa: E402

OUT = HERE / "out" / "tcp-analysis"

FIELDS = [
    "frame.number",
    "tcp.stream",
    "udp.stream",
    "tcp.seq",
    "tcp.ack",
    "tcp.nxtseq",
    "tcp.window_size",
    "tcp.window_size_scalefactor",
    "tcp.completeness",
    "tcp.time_relative",
    "tcp.time_delta",
    "tcp.analysis.flags",
    "tcp.analysis.retransmission",
    "tcp.analysis.fast_retransmission",
    "tcp.analysis.spurious_retransmission",
    "tcp.analysis.out_of_order",
    "tcp.analysis.lost_segment",
    "tcp.analysis.ack_lost_segment",
    "tcp.analysis.duplicate_ack",
    "tcp.analysis.duplicate_ack_num",
    "tcp.analysis.duplicate_ack_frame",
    "tcp.analysis.zero_window",
    "tcp.analysis.zero_window_probe",
    "tcp.analysis.zero_window_probe_ack",
    "tcp.analysis.window_full",
    "tcp.analysis.window_update",
    "tcp.analysis.keep_alive",
    "tcp.analysis.keep_alive_ack",
    "tcp.analysis.reused_ports",
    "tcp.analysis.acks_frame",
    "tcp.analysis.ack_rtt",
    "tcp.analysis.initial_rtt",
    "tcp.analysis.bytes_in_flight",
    "tcp.analysis.push_bytes_sent",
    "tcp.analysis.rto",
    "tcp.analysis.rto_frame",
    "communityid",
]


def command(capture: Path) -> list[str]:
    cmd = [*TSHARK_COMMAND, "--enable-protocol", "communityid"]
    for pref in PREFS:
        cmd += ["-o", pref]
    cmd += ["-r", str(capture)]
    for name in FIELDS:
        cmd += ["-e", name]
    return cmd


def has_transport(capture: Path) -> bool:
    check = ["tshark", "-n", "-r", str(capture), "-Y", "tcp or udp", "-T", "fields", "-e", "frame.number"]
    return bool(subprocess.run(check, capture_output=True, check=True).stdout.strip())


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    written = 0
    for capture in captures():
        if not has_transport(capture):
            continue
        result = subprocess.run(command(capture), capture_output=True, check=True)
        (OUT / f"{capture.name}.txt").write_bytes(result.stdout)
        written += 1
    print(f"tcp-analysis: {len(FIELDS)} fields x {written} captures")


if __name__ == "__main__":
    main()
