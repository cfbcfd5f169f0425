"""Hex dumps as `tshark -x` prints them: offset, sixteen hex bytes, three spaces, printable ASCII."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analyzer.model import Dissection

BYTES_PER_LINE = 16
# Printable ASCII shows as itself; everything else (controls, DEL, high bytes) as '.'.
_ASCII = "".join(chr(code) if 0x20 <= code < 0x7F else "." for code in range(256))


def offset_digits(length: int) -> int:
    """Hex digits of the offset column: at least 4, more when the last offset needs them (tshark)."""
    last = max(length - 1, 0)
    digits = 4
    while digits < 8 and last >> (4 * digits):
        digits += 1
    return digits


def hexdump_lines(data: bytes) -> Iterator[str]:
    """One line per 16 bytes; a short last line keeps the ASCII column aligned."""
    digits = offset_digits(len(data))
    width = BYTES_PER_LINE * 3 - 1
    for start in range(0, len(data), BYTES_PER_LINE):
        chunk = data[start : start + BYTES_PER_LINE]
        hexed = " ".join(f"{byte:02x}" for byte in chunk)
        yield f"{start:0{digits}x}  {hexed:<{width}}   {chunk.decode('latin-1').translate(_ASCII)}"


def hexdump(data: bytes) -> str:
    """The whole dump as text, each line ending in a newline."""
    return "".join(f"{line}\n" for line in hexdump_lines(data))


def dissection_hexdump(dissection: Dissection) -> str:
    """`tshark -x` for one dissected frame: the frame's bytes, then every reassembled or decoded
    source (Reassembled TCP, De-chunked entity body...) under its name."""
    sources = dissection.sources
    if len(sources) == 1:
        return hexdump(dissection.frame.data)
    # The sources are named with their size already: "Reassembled TCP (1200 bytes)".
    return "".join(f"{source.name}:\n{hexdump(source.data)}" for source in sources)
