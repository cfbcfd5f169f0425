"""`layerscope [tui] [FILE]`: the terminal UI on a capture (the bundled sample without a FILE)."""

from __future__ import annotations

import argparse
import os
import sys

from analyzer.commands.common import EXIT_INPUT, EXIT_USAGE, Streams
from captures.pcapfile import CaptureError, open_capture

NAME = "tui"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        NAME,
        help="browse a capture in the terminal UI (the default: `layerscope FILE`)",
        description=(
            "Packet list, layer tree and bytes, linked; display filters, go to packet, copy. "
            "Without FILE, opens the bundled sample capture."
        ),
    )
    parser.add_argument("file", nargs="?", metavar="FILE", help="capture file (pcap, pcapng, gzip)")
    parser.add_argument("-i", dest="iface", metavar="IFACE", help="capture live on this interface")
    parser.add_argument("-f", dest="bpf", metavar="BPF", help="capture filter for -i (libpcap syntax)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, streams: Streams) -> int:
    """0 on a normal quit; 2 for a capture that cannot be opened; 1 without a terminal."""
    if args.file == "-":
        streams.warn("the TUI reads a capture file, not standard input; use `layerscope read -r -`")
        return EXIT_USAGE
    if args.iface is not None:
        return _run_live(args, streams)
    if args.bpf is not None:
        streams.warn("-f (a capture filter) needs -i IFACE")
        return EXIT_USAGE
    if args.file is not None:
        try:  # a bad file is reported like the other commands do, terminal or not
            open_capture(args.file).close()
        except (CaptureError, OSError) as bad:
            streams.warn(str(bad))
            return EXIT_INPUT
    if not (sys.stdin.isatty() and sys.stdout.isatty()) and not os.environ.get("LAYERSCOPE_FORCE_TUI"):
        streams.warn("the TUI needs a terminal; use `layerscope read -r FILE` for text output")
        return EXIT_USAGE
    from analyzer.tui import run_tui

    try:
        return run_tui(args.file)
    except (CaptureError, OSError) as bad:
        streams.warn(str(bad))
        return EXIT_INPUT


def _run_live(args: argparse.Namespace, streams: Streams) -> int:
    """`layerscope -i IFACE [-f BPF]`: the capture is opened first, so a bad interface, filter or
    missing permission is the same one line (exit 2) as `layerscope capture` gives."""
    from captures.live import LiveCapture, LiveCaptureError

    if args.file is not None:
        streams.warn("give a capture FILE or -i IFACE, not both")
        return EXIT_USAGE
    try:
        capture = LiveCapture(args.iface, args.bpf or None)
    except LiveCaptureError as bad:
        streams.warn(str(bad))
        return EXIT_INPUT
    if not (sys.stdin.isatty() and sys.stdout.isatty()) and not os.environ.get("LAYERSCOPE_FORCE_TUI"):
        capture.close()
        streams.warn("the TUI needs a terminal; use `layerscope capture -i IFACE` for text output")
        return EXIT_USAGE
    from analyzer.tui import run_tui

    return run_tui(None, capture)
