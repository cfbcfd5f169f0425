"""Field values as `tshark -T fields -e NAME` prints them, with its occurrence and aggregator rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from analyzer.model import Dissection
from analyzer.textsafe import escape_field


def field_text(dissection: Dissection, name: str, occurrence: str = "a", aggregator: str = ",") -> str:
    """The cell tshark would print for `name` in this frame.

    `occurrence` is "a" (all, joined by `aggregator`), "f" (first), "l" (last) or a
    1-based occurrence number, as tshark's `-E occurrence=`.
    """
    shown = [item.show for item in dissection.walk() if item.name == name]
    if not shown:
        return ""
    if occurrence == "f":
        return shown[0]
    if occurrence == "l":
        return shown[-1]
    if occurrence.isdigit():
        index = int(occurrence)
        return shown[index - 1] if 0 < index <= len(shown) else ""
    return aggregator.join(shown)


@dataclass(slots=True, frozen=True)
class FieldsOptions:
    """tshark's `-E` options for `-T fields` output."""

    header: bool = False
    separator: str = "\t"
    occurrence: str = "a"
    aggregator: str = ","
    quote: str = ""


class FieldsOptionError(ValueError):
    """An `-E` option tshark would reject; `str()` is the one line to show."""


_QUOTES = {"d": '"', "s": "'", "n": ""}


def _one_char(value: str) -> str:
    # tshark takes the first character of a separator or aggregator, "/t" and "/s" by name.
    if value.startswith("/t"):
        return "\t"
    if value.startswith("/s"):
        return " "
    return value[0]


def parse_fields_option(spec: str, options: FieldsOptions) -> FieldsOptions:
    """Apply one `-E key=value` to `options`, as tshark 4.0 parses it.

    `occurrence` also accepts a 1-based number (an extension: tshark 4.0 takes f, l or a only).
    """
    key, eq, value = spec.partition("=")
    bad = FieldsOptionError(f'"{key}" is not a valid field output option=value pair')
    if not eq or not value:
        raise bad
    if key == "header" and value in ("y", "n"):
        return replace(options, header=value == "y")
    if key == "separator":
        return replace(options, separator=_one_char(value))
    if key == "aggregator":
        return replace(options, aggregator=_one_char(value))
    if key == "occurrence" and (value in ("f", "l", "a") or (value.isdigit() and int(value) > 0)):
        return replace(options, occurrence=value)
    if key == "quote" and value in _QUOTES:
        return replace(options, quote=_QUOTES[value])
    raise bad


def fields_header(names: Sequence[str], options: FieldsOptions) -> str:
    """The `header=y` line: the field names, separated, never quoted."""
    return options.separator.join(escape_field(name) for name in names)


def fields_row(dissection: Dissection, names: Sequence[str], options: FieldsOptions) -> str:
    """One packet's line: every cell escaped for the terminal, non-empty cells quoted as asked."""
    cells: list[str] = []
    for name in names:
        cell = escape_field(field_text(dissection, name, options.occurrence, options.aggregator))
        cells.append(f"{options.quote}{cell}{options.quote}" if cell and options.quote else cell)
    return options.separator.join(cells)
