"""Regenerate tshark's framing goldens: `python tests/golden/make_capture_goldens.py`.

For each capture in `tests/data/`, writes `tests/golden/out/capture/CAPTURE.frames`: tshark 4.0's
per-frame timestamp, lengths, interface and comments (FIELDS below, tab-separated, with a header
line), then `CAPTURE.stderr`: what tshark said about the file (empty for a clean one). The suffix
is not `.tsv` on purpose: the dissector field harness globs `out/*/*.tsv`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_goldens import captures  # noqa: E402

OUT = HERE / "out" / "capture"
FIELDS = [
    "frame.number",
    "frame.time_epoch",
    "frame.len",
    "frame.cap_len",
    "frame.interface_id",
    "frame.interface_name",
    "frame.comment",
]
COMMAND = ["tshark", "-n", "-T", "fields", "-E", "header=y", "-E", "occurrence=a", "-E", "aggregator=,"]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for capture in captures():
        cmd = [*COMMAND, "-r", str(capture), *(arg for name in FIELDS for arg in ("-e", name))]
        result = subprocess.run(cmd, capture_output=True, check=False)
        (OUT / f"{capture.name}.frames").write_bytes(result.stdout)
        # tshark's own "Running as user root" notice is about the machine, not the file.
        notes = [line for line in result.stderr.decode().splitlines() if not line.startswith("Running as")]
        (OUT / f"{capture.name}.stderr").write_text("".join(f"{line}\n" for line in notes if line))
    print(f"capture: {len(FIELDS)} fields x {len(captures())} captures")


if __name__ == "__main__":
    main()
