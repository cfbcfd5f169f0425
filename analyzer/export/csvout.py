"""`read -T csv`: the summary columns (or the -e fields) as CSV with a header row.

Quoting is the csv module's (RFC 4180: cells holding a comma, quote or line break are quoted,
quotes doubled). Cells are packet text, so control characters are escaped first (as in
`-T fields`), and no cell can carry an escape sequence to a terminal or a line break into a
spreadsheet.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import TextIO

from analyzer.context import Preferences
from analyzer.export.fields import field_text
from analyzer.model import Dissection
from analyzer.summary import Summarizer, TimeColumn
from analyzer.textsafe import escape_field
from captures.frame import Frame

SUMMARY_COLUMNS = ("No.", "Time", "Source", "Destination", "Protocol", "Length", "Info")


def write_summary_csv(
    frames: Iterable[tuple[Frame, bool]],
    out: TextIO,
    time_format: str = "r",
    resolve_names: bool = False,
    prefs: Preferences | None = None,
) -> None:
    """One row per shown frame; every frame is fed to the summarizer (its TCP state needs them)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    summarizer = Summarizer.for_lines(resolve_names, prefs)
    clock = TimeColumn(time_format)
    for frame, shown in frames:
        row = summarizer.summarize(
            frame.number, frame.timestamp_ns, frame.wire_len, frame.linktype, frame.ts_digits, frame.data
        )
        time_text = clock.text(frame.timestamp_ns, frame.ts_digits)
        if shown:
            cells = (row.number, time_text, row.source, row.destination, row.protocol, row.length, row.info)
            writer.writerow([escape_field(str(cell)) for cell in cells])


def write_fields_csv(dissections: Iterable[Dissection], names: Sequence[str], out: TextIO) -> None:
    """The -e fields of each frame (all occurrences joined by ","), header row first."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for dissection in dissections:
        writer.writerow([escape_field(field_text(dissection, name)) for name in names])
