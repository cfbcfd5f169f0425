"""What every subcommand shares: its output streams, usage errors and exit statuses."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TextIO

from analyzer.textsafe import escape_lines

# Exit statuses, as tshark uses them.
EXIT_OK = 0
EXIT_USAGE = 1  # bad options, bad decode-as, internal errors
EXIT_INPUT = 2  # the capture cannot be opened or read to its end, a bad filter
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad command-line arguments; `str()` is the one line shown after `layerscope: `."""


@dataclass(slots=True)
class Streams:
    """Where a command writes, and whether dissector bugs should raise (tests) or be contained."""

    out: TextIO
    err: TextIO
    strict: bool = False

    def warn(self, message: str) -> None:
        self.err.write(f"layerscope: {escape_lines(message)}\n")


class EscapingWriter(io.TextIOBase):
    """A text stream that escapes terminal control characters (all but line feeds) on the way out.

    Wraps the output handed to code that writes whole lines of packet-derived text (the summary
    lines), so no packet can emit an escape sequence whichever module formats its line.
    """

    def __init__(self, target: TextIO) -> None:
        super().__init__()
        self._target = target

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._target.write(escape_lines(text))
        return len(text)

    def flush(self) -> None:
        self._target.flush()
