"""`layerscope capture -i IFACE`: capture live traffic to a file, a ring of files, a pipe or the screen.

Frames come raw from captures/live.py and go through the same code as a file's: the capture-file
writers, or the summary lines (`-V`: the full trees, with the trackers) that `read` prints. SIGINT
and SIGTERM end the capture cleanly: the file is complete, and the counts of packets captured and
dropped go to stderr. Exit 0 after a normal stop, 2 when the capture cannot start (permission,
interface, filter), 1 on a usage error or an interface lost mid-capture.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from types import FrameType
from typing import BinaryIO

from analyzer.commands.common import EXIT_INPUT, EXIT_OK, EXIT_USAGE, Streams, UsageError
from analyzer.context import Preferences
from analyzer.export.text import tree_lines
from analyzer.session import dissect_frames
from analyzer.summary import TIME_FORMATS, Summarizer, TimeColumn, format_line
from analyzer.textsafe import escape_lines
from captures.frame import Frame
from captures.live import SNAPLEN, CaptureStats, LiveCapture, LiveCaptureError
from captures.ring import FORMATS, RingSpec, WriteResult, write_file, write_ring, write_stream

NAME = "capture"


@dataclass(slots=True)
class Limits:
    """When to stop (-c, -a) and how to split files (-b)."""

    packets: int | None = None
    seconds: float | None = None
    file_bytes: int | None = None
    ring: RingSpec | None = None


def _positive(text: str, what: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(f'the {what} "{text}" is not a positive number')
    return value


def _key_values(specs: list[str], option: str, keys: tuple[str, ...]) -> dict[str, int]:
    """`-b filesize:100,files:5` or `-b filesize:100 -b files:5` -> {"filesize": 100, "files": 5}."""
    found: dict[str, int] = {}
    for spec in specs:
        for part in spec.split(","):
            key, colon, value = part.partition(":")
            if not colon or key not in keys:
                raise UsageError(
                    f'invalid {option} value "{part}" (expected {"|".join(k + ":N" for k in keys)})'
                )
            found[key] = _positive(value, f"{option} {key}")
    return found


def parse_limits(args: argparse.Namespace) -> Limits:
    autostop = _key_values(args.autostop, "-a", ("duration", "packets", "filesize"))
    ring = _key_values(args.ring, "-b", ("filesize", "files"))
    counts = [n for n in (args.count, autostop.get("packets")) if n is not None]
    limits = Limits(min(counts) if counts else None, autostop.get("duration"))
    if "filesize" in autostop:
        limits.file_bytes = autostop["filesize"] * 1000
    if ring:
        if "filesize" not in ring:
            raise UsageError("a ring buffer (-b) needs filesize:KB")
        limits.ring = RingSpec(ring["filesize"] * 1000, ring.get("files", 0))
    if (limits.ring or limits.file_bytes) and (args.write is None or args.write == "-"):
        raise UsageError("-b and -a filesize need a capture file to write (-w FILE)")
    if limits.ring and limits.file_bytes:
        raise UsageError("-a filesize cannot be combined with a ring buffer (-b)")
    return limits


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        NAME,
        help="capture live traffic from an interface, like tshark -i / dumpcap",
        description=(
            "Capture from an interface (see `layerscope interfaces`). Without -w, print the packets "
            "as `read` does; with -w, write pcapng (or pcap with -F). Ctrl-C or SIGTERM stops cleanly."
        ),
    )
    parser.add_argument("-i", dest="iface", metavar="IFACE", required=True, help='interface, or "any"')
    parser.add_argument("-f", dest="bpf", metavar="BPF", help='capture filter, e.g. "tcp port 80"')
    parser.add_argument("-c", dest="count", metavar="N", type=_count, help="stop after N packets")
    parser.add_argument(
        "-a",
        dest="autostop",
        metavar="duration:S|packets:N|filesize:KB",
        action="append",
        default=[],
        help="stop after S seconds, N packets or a file of KB kilobytes",
    )
    parser.add_argument("-w", dest="write", metavar="FILE", help="write packets to FILE (- for stdout)")
    parser.add_argument("-F", dest="write_format", choices=FORMATS, default="pcapng", help="file format")
    parser.add_argument(
        "-b",
        dest="ring",
        metavar="filesize:KB,files:N",
        action="append",
        default=[],
        help="ring buffer: a new file every KB kilobytes, keeping the newest N",
    )
    parser.add_argument(
        "-s", dest="snaplen", metavar="BYTES", type=_count, default=SNAPLEN, help="snapshot length"
    )
    parser.add_argument("-p", dest="no_promiscuous", action="store_true", help="don't use promiscuous mode")
    parser.add_argument("-V", dest="verbose", action="store_true", help="print the full packet trees")
    parser.add_argument("-n", dest="no_resolve", action="store_true", help="disable name resolution")
    parser.add_argument(
        "-t", dest="time_format", choices=TIME_FORMATS, default="r", help="time format of summary lines"
    )
    parser.set_defaults(run=run)


def _count(text: str) -> int:
    try:
        return _positive(text, "count")
    except UsageError as bad:
        raise argparse.ArgumentTypeError(str(bad)) from None


@dataclass(slots=True)
class _Progress:
    frames: int = 0


def _items(capture: LiveCapture, limits: Limits, progress: _Progress) -> Iterator[Frame | None]:
    """Frames, with None after each batch (a pause: flush), until a -c/-a limit or stop()."""
    deadline = None if limits.seconds is None else time.monotonic() + limits.seconds
    left = limits.packets
    for batch in capture.batches():
        if left is not None:
            batch = batch[:left]
            left -= len(batch)
        for frame in batch:
            progress.frames += 1
            yield frame
        yield None
        if left == 0 or (deadline is not None and time.monotonic() >= deadline):
            return


def _print_summaries(items: Iterator[Frame | None], args: argparse.Namespace, streams: Streams) -> None:
    out = streams.out
    if args.verbose:
        frames = (item for item in items if item is not None)
        prefs = Preferences(resolve_names=not args.no_resolve)
        for dissection in dissect_frames(frames, prefs=prefs, strict=streams.strict):
            out.write("".join(f"{line}\n" for line in tree_lines(dissection)) + "\n")
            out.flush()
        return
    summarizer = Summarizer.for_lines(not args.no_resolve)
    clock = TimeColumn(args.time_format)
    for item in items:
        if item is None:
            out.flush()
            continue
        row = summarizer.summarize(
            item.number, item.timestamp_ns, item.wire_len, item.linktype, item.ts_digits, item.data
        )
        out.write(escape_lines(format_line(row, clock.text(item.timestamp_ns, item.ts_digits))) + "\n")
    out.flush()


def _binary_stdout(streams: Streams) -> BinaryIO:
    target = getattr(streams.out, "buffer", None)
    if target is None:
        raise UsageError("-w - needs a binary standard output")
    streams.out.flush()
    return target  # type: ignore[no-any-return]


def _write(
    items: Iterator[Frame | None], args: argparse.Namespace, limits: Limits, linktype: int, streams: Streams
) -> WriteResult:
    if args.write == "-":
        return write_stream(items, _binary_stdout(streams), args.write_format, linktype)
    if limits.ring is not None:
        return write_ring(items, args.write, args.write_format, linktype, limits.ring)
    return write_file(items, args.write, args.write_format, linktype, limits.file_bytes)


class _StopOnSignals:
    """SIGINT and SIGTERM call stop() while the capture runs (main thread only), then are restored."""

    def __init__(self, stop: Callable[[], None]) -> None:
        self._stop = stop
        self._saved: dict[int, object] = {}

    def __enter__(self) -> _StopOnSignals:
        if threading.current_thread() is threading.main_thread():
            for number in (signal.SIGINT, signal.SIGTERM):
                self._saved[number] = signal.signal(number, self._handle)
        return self

    def _handle(self, _number: int, _frame: FrameType | None) -> None:
        self._stop()

    def __exit__(self, *exc: object) -> None:
        for number, handler in self._saved.items():
            signal.signal(number, handler)  # type: ignore[arg-type]


def _report(stats: CaptureStats, streams: Streams) -> None:
    # The kernel counts every frame it queued for the socket, some of which our own filtering
    # (the loopback's outgoing copies, cooked captures' userspace filter) does not hand out.
    streams.err.write(f"{_packets(stats.captured)} captured\n")
    streams.err.write(
        f"{_packets(stats.kernel_dropped)} dropped by the kernel ({stats.kernel_received} received there)\n"
    )
    streams.err.flush()


def _packets(count: int) -> str:
    return f"{count} packet" if count == 1 else f"{count} packets"


def run(args: argparse.Namespace, streams: Streams) -> int:
    limits = parse_limits(args)
    try:
        capture = LiveCapture(args.iface, args.bpf, args.snaplen, not args.no_promiscuous)
    except LiveCaptureError as bad:
        streams.warn(str(bad))
        return EXIT_INPUT
    failure: str | None = None
    progress = _Progress()
    try:
        with _StopOnSignals(capture.stop):
            # tshark's line; it also tells a script driving us that packets are being captured
            # and that SIGINT/SIGTERM will now stop the capture cleanly.
            streams.err.write(escape_lines(f"Capturing on '{args.iface}'") + "\n")
            streams.err.flush()
            items = _items(capture, limits, progress)
            try:
                if args.write is None:
                    _print_summaries(items, args, streams)
                else:
                    _write(items, args, limits, capture.linktype, streams)
            except LiveCaptureError as gone:
                failure = str(gone)
            except BrokenPipeError:
                raise  # the reader of `-w -` went away: main() ends quietly
            except OSError as exc:  # the output file cannot be created or written
                failure = f"{exc.filename or args.write}: {exc.strerror or exc}"
    finally:
        stats = capture.stats()
        capture.close()
    if args.write != "-":
        streams.out.flush()
    # Frames the socket delivered beyond a -c limit are not "captured": report what was kept.
    _report(replace(stats, captured=progress.frames), streams)
    if failure is not None:
        streams.warn(failure)
        return EXIT_USAGE
    return EXIT_OK
