"""FilterError: a display filter that does not compile, with the columns it is about."""

from __future__ import annotations


class FilterError(Exception):
    """A bad display filter: tshark's message and the character range [start, end) it points at.

    `start`/`end` are 0-based offsets into the filter text, so a front end can underline the
    culprit (the TUI) or print a caret line like tshark's (`caret_line`).
    """

    def __init__(self, message: str, start: int, end: int) -> None:
        super().__init__(message)
        self.message = message
        self.start = max(start, 0)
        self.end = max(end, self.start + 1)

    @property
    def column(self) -> int:
        """1-based column of the first character at fault."""
        return self.start + 1

    def one_line(self) -> str:
        """The message and where: `"300.1.1.1" is not a valid IPv4 address. (column 11)`."""
        return f"{self.message} (column {self.column})"

    def caret_line(self) -> str:
        """tshark's underline below the filter text: spaces, then ^~~~ under the culprit."""
        return " " * self.start + "^" + "~" * (self.end - self.start - 1)
