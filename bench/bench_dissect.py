"""Full-tree benchmark: dissect_frame alone and dissect + the session's annotators, packets per second.

    /tmp/venv/bin/python bench/bench_dissect.py [--seconds 3] [CAPTURE ...]

Each capture (default: tests/data/http.pcap, dns.pcap, icmp.pcap) is read into memory once, then
dissected over and over for about --seconds (a fresh annotator chain per pass, so state is as in a
real run); best pass rate of the rounds is printed. tshark's -V on the same file, measured in this
run, gives the reference rate (`tshark -n -V -r FILE` to /dev/null, its start-up subtracted with a
one-packet run). No assertions: numbers are for reading.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from analyzer.context import FrameTimes, Preferences  # noqa: E402 - after the path is set
from analyzer.pipeline import dissect_frame  # noqa: E402
from analyzer.session import ANNOTATORS  # noqa: E402
from captures.frame import Frame  # noqa: E402
from captures.pcapfile import open_capture  # noqa: E402

DEFAULT = tuple(REPO / "tests" / "data" / name for name in ("http.pcap", "dns.pcap", "icmp.pcap"))


def one_pass(frames: list[Frame], annotate: bool) -> None:
    annotators = [make() for make in ANNOTATORS] if annotate else []
    prefs = Preferences(resolve_names=False)
    first = frames[0].timestamp_ns
    previous = first
    for frame in frames:
        times = FrameTimes(first, previous, previous)
        previous = frame.timestamp_ns
        dissection = dissect_frame(frame, times=times, prefs=prefs)
        for annotator in annotators:
            dissection = annotator.annotate(dissection)


def rate(frames: list[Frame], annotate: bool, seconds: float) -> float:
    best = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        one_pass(frames, annotate)
        best = max(best, len(frames) / (time.perf_counter() - start))
    return best


def tshark_rate(path: Path, count: int) -> float:
    def timed(extra: list[str]) -> float:
        start = time.perf_counter()
        with open(os.devnull, "wb") as sink:
            command = ["tshark", "-n", "-V", "-r", str(path), *extra]
            subprocess.run(command, stdout=sink, stderr=sink, check=True)
        return time.perf_counter() - start

    startup = min(timed(["-c", "1"]) for _ in range(3))
    full = min(timed([]) for _ in range(3))
    return count / max(full - startup, 1e-3)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("captures", nargs="*", type=Path, default=list(DEFAULT))
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--no-tshark", action="store_true")
    args = parser.parse_args()
    print(f"{'capture':<14}{'frames':>7}{'dissect/s':>11}{'+annotate/s':>13}{'tshark -V/s':>13}")
    for path in args.captures:
        with open_capture(path) as reader:
            frames = list(reader)
        dissect = rate(frames, False, args.seconds)
        annotated = rate(frames, True, args.seconds)
        reference = "" if args.no_tshark else f"{tshark_rate(path, len(frames)):>13,.0f}"
        print(f"{path.name:<14}{len(frames):>7}{dissect:>11,.0f}{annotated:>13,.0f}{reference}")


if __name__ == "__main__":
    main()
