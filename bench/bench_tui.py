"""TUI benchmark: time to the first screen, indexing time, RSS and jump times on a big capture.

    /tmp/venv/bin/python bench/bench_tui.py [CAPTURE] [--size 160x48]

Each measurement runs in a fresh child process (so imports count and RSS is the TUI's own),
driving the app headless through Textual's pilot at the given terminal size:

- first screen: from the child's start (before importing Textual or the analyzer) until the
  compositor's output holds the first packet row;
- indexed: until the indexing worker has finished; peak and current RSS at that point;
- G: from the key press until the last packet is selected, its tree built and its row drawn;
- g N: the same for a go-to into the middle of the capture, its keys sent in one burst.

Keys are posted to the app the way the terminal driver posts them: the pilot's `press` waits
until the whole process is idle (Textual's wait_for_idle: up to 1 s a key), which the colouring
analysis running after indexing never is, so it would time the pilot rather than the app.

Default capture: /tmp/layerscope-bench/tui-1m.pcap, built on first use (1,000,000 packets of
tests/data/http.pcap repeated, ~800 MB; `--packets` changes the count). Printed as Markdown.
`--repeat N` runs N children and adds a min / median line; `--no-jumps` stops after indexing.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402 - the clock above must start before any import
import asyncio  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# bench/out/ belongs to bench_read.py, which rewrites it at other sizes: build our own.
DEFAULT = Path("/tmp/layerscope-bench/tui.pcap")


def build_capture(target: Path, packets: int) -> None:
    """`packets` records of tests/data/http.pcap repeated (Ethernet/IPv4/TCP), 1 µs apart."""
    from captures.frame import Frame
    from captures.pcapfile import open_capture
    from captures.writer import write_pcap

    with open_capture(ROOT / "tests" / "data" / "http.pcap") as reader:
        frames = list(reader)
    base = frames[0].timestamp_ns

    def repeated() -> Iterator[Frame]:
        for number in range(packets):
            frame = frames[number % len(frames)]
            yield Frame(number + 1, base + number * 1000, frame.data, frame.wire_len, frame.linktype)

    target.parent.mkdir(parents=True, exist_ok=True)
    write_pcap(target, repeated(), 1)


def _rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size in MB."""
    current = 0.0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return current, peak


def child(path: str, width: int, height: int, jumps: bool = True) -> dict[str, float]:
    from textual import events

    from analyzer.tui.app import LayerscopeApp
    from analyzer.tui.packet_list import PacketList
    from analyzer.tui.tree_pane import LayerTree

    def press(app: LayerscopeApp, *keys: str) -> None:
        for key in keys:
            app.post_message(events.Key(key, {"enter": "\r"}.get(key, key if len(key) == 1 else None)))

    results: dict[str, float] = {}

    def screen(app: LayerscopeApp) -> list[str]:
        update = app.screen._compositor.render_full_update()
        return ["".join(segment.text for segment in strip) for strip in update.strips]

    async def wait(pilot: object, done: object, limit: float = 600.0, step: float = 0.005) -> float:
        start = time.perf_counter()
        while not done():  # type: ignore[operator]
            await pilot.pause(step)  # type: ignore[attr-defined]
            if time.perf_counter() - start > limit:
                raise TimeoutError
        return time.perf_counter() - start

    async def run() -> None:
        app = LayerscopeApp(path)
        results["imports_s"] = time.perf_counter() - STARTED
        async with app.run_test(size=(width, height)) as pilot:
            await wait(pilot, lambda: any(line.lstrip().startswith("1 ") for line in screen(app)))
            results["first_screen_s"] = time.perf_counter() - STARTED
            results["indexed_at_first_screen"] = app.packet_list.count
            # Polled every 20 ms: a 5 ms poll (a screen check each time) costs the UI thread ~0.5 s
            # of GIL over a 5 s pass, slowing the pass it measures.
            await wait(pilot, lambda: app.indexing_done, step=0.02)
            results["indexed_s"] = time.perf_counter() - STARTED
            results["packets"] = len(app.index)
            results["rss_after_index_mb"], results["peak_rss_after_index_mb"] = _rss_mb()
            if not jumps:
                results["rss_end_mb"], results["peak_rss_mb"] = _rss_mb()
                return
            packet_list = app.query_one(PacketList)
            tree = app.query_one(LayerTree)
            last = len(app.index)

            def showing(number: int) -> bool:
                return (
                    tree.dissection is not None
                    and tree.dissection.frame.number == number
                    and any(line.lstrip().startswith(f"{number} ") for line in screen(app))
                )

            start = time.perf_counter()
            press(app, "G")
            await wait(pilot, lambda: packet_list.selected_packet == last - 1 and showing(last))
            results["G_s"] = time.perf_counter() - start
            middle = last // 2 + 1
            start = time.perf_counter()
            press(app, "g", *str(middle), "enter")
            await wait(pilot, lambda: showing(middle))
            results["goto_middle_s"] = time.perf_counter() - start
            press(app, *["pageup"] * 20)
            await pilot.pause(0.1)
            results["rss_end_mb"], results["peak_rss_mb"] = _rss_mb()

    asyncio.run(run())
    return results


def standalone(path: str) -> dict[str, float]:
    """The same indexing pass with no UI: the speed the TUI's pass is compared with."""
    from analyzer.index import PacketIndex

    start = time.perf_counter()
    with PacketIndex.for_file(path) as index:
        index.fill(lambda _count, _fraction: True)
        return {"standalone_index_s": time.perf_counter() - start, "packets": len(index)}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("capture", nargs="?")
    parser.add_argument("--size", default="160x48")
    parser.add_argument("--packets", type=int, default=1_000_000, help="size of the capture built by default")
    parser.add_argument("--repeat", type=int, default=1, help="children to run (min / median reported)")
    parser.add_argument("--no-jumps", action="store_true", help="stop once indexed (no G / g N)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--standalone", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    width, height = (int(part) for part in args.size.split("x"))
    if args.standalone:
        print(json.dumps(standalone(args.capture)))
        return 0
    if args.child:
        print(json.dumps(child(args.capture, width, height, not args.no_jumps)))
        return 0
    capture = args.capture
    if capture is None:
        capture = str(DEFAULT.with_name(f"tui-{args.packets}.pcap"))
        if not Path(capture).exists():
            build_capture(Path(capture), args.packets)
    command = [sys.executable, __file__, capture, "--size", args.size, "--child"]
    if args.no_jumps:
        command.append("--no-jumps")
    runs: list[dict[str, float]] = []
    alone = [sys.executable, __file__, capture, "--standalone"]
    for _ in range(args.repeat):
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        runs.append(json.loads(output.strip().splitlines()[-1]))
        # Interleaved with the TUI runs, so both see the same machine load.
        output = subprocess.run(alone, capture_output=True, text=True, check=True).stdout
        runs[-1].update(json.loads(output.strip().splitlines()[-1]))
    print(f"capture: {capture} ({runs[0]['packets']:,.0f} packets), terminal {args.size}, {len(runs)} run(s)")
    print(
        "| run | imports s | first screen s | indexed at first screen | indexing done s"
        " | standalone index s | RSS after index MB | G s | g N s | peak RSS MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for number, found in enumerate(runs, 1):
        print("| " + " | ".join([str(number), *_cells(found)]) + " |")
    if len(runs) > 1:
        for name, pick in (("min", min), ("median", statistics.median)):
            summary = {key: float(pick(run.get(key, -1.0) for run in runs)) for key in runs[0]}
            print("| " + " | ".join([name, *_cells(summary)]) + " |")
    return 0


def _cells(found: dict[str, float]) -> list[str]:
    def seconds(key: str, digits: int = 3) -> str:
        return f"{found[key]:.{digits}f}" if key in found else "-"

    return [
        seconds("imports_s"),
        seconds("first_screen_s"),
        f"{found['indexed_at_first_screen']:,.0f}",
        seconds("indexed_s", 2),
        seconds("standalone_index_s", 2),
        f"{found['rss_after_index_mb']:.0f}",
        seconds("G_s"),
        seconds("goto_middle_s"),
        f"{found['peak_rss_mb']:.0f}",
    ]


if __name__ == "__main__":
    sys.exit(main())
