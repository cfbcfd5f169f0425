"""Hex dumps as `tshark -x` prints them: offset, sixteen hex bytes, three spaces, printable ASCII."""

from __future__ import annotations

from collections.abc import Iterator

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


def hexdump_sources(sources: list[tuple[str, bytes]]) -> str:
    """Several data sources (the frame, a reassembled payload) as `tshark -x` prints them.

    One source is dumped bare; with more, each gets a "Name (N bytes):" line first.
    """
    if len(sources) == 1:
        return hexdump(sources[0][1])
    return "".join(f"{name} ({len(data)} bytes):\n{hexdump(data)}" for name, data in sources)
