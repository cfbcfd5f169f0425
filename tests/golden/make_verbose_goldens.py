"""Regenerate the `-V` goldens: `python tests/golden/make_verbose_goldens.py [CAPTURE...]`.

For each capture in `tests/data/` (or those named), stores tshark 4.0's
`tshark -n -V -o <prefs of make_goldens.py> -r CAPTURE`, gzipped (the text runs to megabytes),
in `tests/golden/out/verbose/CAPTURE.txt.gz`.
Runs with TZ=UTC so arrival times do not depend on the machine; tests/test_golden_verbose.py
dissects under TZ=UTC too. Review the result as a diff before committing.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

from make_goldens import PREFS, captures

HERE = Path(__file__).resolve().parent
OUT = HERE / "out" / "verbose"


def command(capture: Path) -> list[str]:
    cmd = ["tshark", "-n", "-V"]
    for pref in PREFS:
        cmd += ["-o", pref]
    return [*cmd, "-r", str(capture)]


def main(names: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    chosen = [path for path in captures() if not names or path.name in names]
    env = {**os.environ, "TZ": "UTC"}
    for capture in chosen:
        # tshark exits 2 on a capture cut short but still prints every packet it read.
        result = subprocess.run(command(capture), capture_output=True, env=env, check=False)
        if result.returncode not in (0, 2):
            raise SystemExit(f"tshark failed on {capture.name}: {result.stderr.decode(errors='replace')}")
        # mtime=0 keeps the .gz bytes identical when tshark's output is, so diffs stay quiet.
        (OUT / f"{capture.name}.txt.gz").write_bytes(gzip.compress(result.stdout, mtime=0))
    print(f"verbose: {len(chosen)} captures")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main(sys.argv[1:])
