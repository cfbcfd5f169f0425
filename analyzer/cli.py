"""The `layerscope` command line: tshark-style subcommands (`read`; more slot into COMMANDS).

Exit statuses follow tshark: 0 success, 1 usage error (bad option, bad decode-as) or internal
error, 2 a capture that cannot be opened or read to its end; 130 after Ctrl-C. A closed pipe
(`layerscope read ... | head`) ends the command quietly. No input ever produces a traceback:
`main` turns anything unexpected into one line on stderr; `run_cli(..., strict=True)` is the
same without that last resort, for tests that must see real bugs.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn, TextIO

from analyzer.commands import capture, flows, follow, interfaces, logs, read, report, tui
from analyzer.commands.common import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, Streams, UsageError
from analyzer.textsafe import escape_lines

PROG = "layerscope"
# Each module has add_parser(subparsers), which sets `run(args, streams) -> int` as default.
# Options that start the TUI without naming it: live capture on an interface, with a filter.
TUI_OPTIONS = ("-i", "-f")
COMMANDS: tuple[ModuleType, ...] = (read, flows, follow, report, logs, tui, capture, interfaces)


class _ArgumentParser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage; tshark (and we) exit 1."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(prog=PROG, description="Packet capture analyzer with tshark's habits.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.add_parser(subparsers)
    return parser


def tui_arguments(argv: Sequence[str]) -> list[str]:
    """`layerscope` alone, `layerscope FILE` or `layerscope -i IFACE [-f BPF]` mean `layerscope tui
    ...`; a known subcommand or another option (--help) goes to the parser as it is. (The headless
    `layerscope capture -i IFACE` names its subcommand, so it is unaffected.)"""
    names = {module.NAME for module in COMMANDS}
    if not argv:
        return ["tui"]
    if argv[0] not in names and (not argv[0].startswith("-") or argv[0][:2] in TUI_OPTIONS):
        return ["tui", *argv]
    return list(argv)


def run_cli(argv: Sequence[str] | None, out: TextIO, err: TextIO, strict: bool = False) -> int:
    """Parse and run one command; usage errors become exit 1 with a one-line message."""
    streams = Streams(out, err, strict)
    try:
        args = build_parser().parse_args(tui_arguments(sys.argv[1:] if argv is None else argv))
        status: int = args.run(args, streams)
    except UsageError as bad:
        streams.warn(str(bad))
        return EXIT_USAGE
    return status


def _silence_stdout() -> None:
    # After EPIPE, point stdout at /dev/null so the interpreter's final flush stays quiet.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def _configure_stdio() -> None:
    # Text that cannot be encoded (lone surrogates) is shown escaped instead of crashing.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `layerscope` console script and `python -m analyzer`."""
    _configure_stdio()
    try:
        status = run_cli(argv, sys.stdout, sys.stderr)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except SystemExit as done:  # argparse's --help (0)
        return done.code if isinstance(done.code, int) else EXIT_USAGE
    except Exception as bug:  # the last resort: one line, never a traceback
        sys.stderr.write(f"{PROG}: internal error: {type(bug).__name__}: {escape_lines(str(bug))}\n")
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
