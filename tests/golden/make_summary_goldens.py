"""Regenerate tshark's summary-line goldens: `python tests/golden/make_summary_goldens.py`.

For each capture in `tests/data/`, writes into `tests/golden/out/summary/`:
- `CAPTURE.cols`: tab-separated columns, the command in COLUMNS_COMMAND (frame.protocols first,
  so the test can tell which rows show only protocols we cover);
- `CAPTURE.lines`: tshark's default text output, the command in LINES_COMMAND.
The suffixes are not `.tsv` on purpose: the field harness globs `out/*/*.tsv`.
Preferences are the field goldens' (no IP defragmentation, no TCP desegmentation, checksums
verified), so fragments and segments show as single frames, as our one-pass summary does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_goldens import PREFS, captures  # noqa: E402

OUT = HERE / "out" / "summary"
COLUMNS = ["frame.protocols", *(f"_ws.col.{name}" for name in ("No.", "Time", "Source", "Destination"))]
COLUMNS += ["_ws.col.Protocol", "_ws.col.Length", "_ws.col.Info"]
BASE = ["tshark", "-n", *(arg for pref in PREFS for arg in ("-o", pref))]
COLUMNS_COMMAND = [
    *BASE,
    "-T",
    "fields",
    "-E",
    "header=n",
    *(arg for name in COLUMNS for arg in ("-e", name)),
]
LINES_COMMAND = BASE


def run(cmd: list[str], capture: Path) -> bytes:
    # The Time column's absolute formats depend on the zone; goldens use relative time only,
    # but pin TZ anyway so nothing in the output depends on the machine.
    env = {**os.environ, "TZ": "UTC"}
    return subprocess.run([*cmd, "-r", str(capture)], capture_output=True, check=True, env=env).stdout


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    found = captures()
    for capture in found:
        (OUT / f"{capture.name}.cols").write_bytes(run(COLUMNS_COMMAND, capture))
        (OUT / f"{capture.name}.lines").write_bytes(run(LINES_COMMAND, capture))
    print(f"summary: {len(found)} captures")


if __name__ == "__main__":
    main()
