"""ByteCursor: the one bounds-checked way dissectors read bytes, recording a Field for each read."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable, Mapping
from enum import Enum

from analyzer.model import Field, Layer, Value

Parent = Layer | Field


class Base(Enum):
    """How an integer is shown, as Wireshark's BASE_* display bases."""

    DEC = "dec"
    HEX = "hex"
    DEC_HEX = "dec_hex"  # "123 (0x007b)"
    HEX_DEC = "hex_dec"  # "0x007b (123)"
    OCT = "oct"


class Truncated(Exception):
    """A read ran past the bytes available; the pipeline turns it into a Problem.

    `snapped` is True when the bytes exist on the wire but were not captured (snaplen),
    False when the read went past the end the protocol itself declared (a malformed packet).
    """

    def __init__(self, offset: int, wanted: int, snapped: bool) -> None:
        super().__init__(f"needed {wanted} bytes at offset {offset}")
        self.offset = offset
        self.wanted = wanted
        self.snapped = snapped


def hex_width(value: int, size: int) -> str:
    """Hex as tshark prints a field of `size` bytes: 0x plus two digits a byte."""
    return f"0x{value:0{max(size, 1) * 2}x}"


def show_int(value: int, base: Base, size: int) -> str:
    """The `-T fields` text of an integer field."""
    if base in (Base.HEX, Base.HEX_DEC):
        return hex_width(value, size)
    if base is Base.OCT:
        return f"0{value:o}"
    return str(value)


def label_int(value: int, base: Base, size: int, names: Mapping[int, str] | None = None) -> str:
    """The value part of a tree label for an integer, with its name when one is known."""
    if base is Base.HEX:
        text = hex_width(value, size)
    elif base is Base.DEC_HEX:
        text = f"{value} ({hex_width(value, size)})"
    elif base is Base.HEX_DEC:
        text = f"{hex_width(value, size)} ({value})"
    elif base is Base.OCT:
        text = f"0{value:o}"
    else:
        text = str(value)
    if names is not None:
        name = names.get(value)
        if name is None:
            name = "Unknown"
        return f"{name} ({text})"
    return text


@functools.lru_cache(maxsize=8192)
def bit_pattern(raw: int, mask: int, width: int) -> str:
    """Wireshark's bit picture: ".... ..1. " style, groups of four, '.' outside the mask.

    Cached: the same few header bytes and masks come back in nearly every packet.
    """
    chars: list[str] = []
    for bit in range(width - 1, -1, -1):
        chars.append(("1" if raw >> bit & 1 else "0") if mask >> bit & 1 else ".")
        if bit and bit % 4 == 0:
            chars.append(" ")
    return "".join(chars)


def mask_shift(mask: int) -> int:
    return (mask & -mask).bit_length() - 1 if mask else 0


def format_ipv4(data: bytes) -> str:
    return f"{data[0]}.{data[1]}.{data[2]}.{data[3]}"


def format_ipv6(data: bytes) -> str:
    return str(ipaddress.IPv6Address(data))


def format_ether(data: bytes) -> str:
    return data.hex(":")


class ByteCursor:
    """Reads frame bytes at absolute offsets, never past `end` nor past the captured data.

    `end` is where this protocol's bytes end by its own account (a length field, or the
    end of the enclosing payload); the captured data may stop earlier. Every read that
    cannot be satisfied raises Truncated, which the pipeline records as a Problem while
    keeping all the fields read so far.
    """

    __slots__ = ("data", "end", "limit", "pos", "start")

    def __init__(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        self.data = data
        self.start = start
        self.pos = start
        self.end = len(data) if end is None else end
        # The readable limit: declared end or captured end, whichever comes first.
        self.limit = min(self.end, len(data))

    # -- position ---------------------------------------------------------------------

    @property
    def remaining(self) -> int:
        """Bytes that can still be read (captured and inside the declared end)."""
        return max(self.limit - self.pos, 0)

    @property
    def declared_remaining(self) -> int:
        """Bytes left by the protocol's own account, captured or not."""
        return max(self.end - self.pos, 0)

    def at_end(self) -> bool:
        return self.pos >= self.limit

    def check(self, offset: int, size: int) -> None:
        """Raise Truncated unless `size` bytes at `offset` can be read."""
        if size < 0 or offset < self.start or offset + size > self.limit:
            snapped = offset + size <= self.end and offset + size > len(self.data)
            raise Truncated(offset, size, snapped)

    def skip(self, size: int) -> int:
        """Advance past `size` bytes (which must exist); return where they started."""
        self.check(self.pos, size)
        start = self.pos
        self.pos += size
        return start

    def restrict_to(self, size: int) -> ByteCursor:
        """A cursor over the next `size` declared bytes; this cursor moves past them.

        The sub-cursor's end is clamped to this cursor's end, so a length field that
        overstates makes the sub-cursor raise Truncated rather than read a neighbour's bytes.
        """
        sub = ByteCursor(self.data, self.pos, min(self.pos + max(size, 0), self.end))
        self.pos = min(self.pos + max(size, 0), self.end)
        return sub

    # -- raw reads (no Field) ------------------------------------------------------------

    def peek(self, size: int, at: int | None = None) -> bytes:
        offset = self.pos if at is None else at
        self.check(offset, size)
        return self.data[offset : offset + size]

    def read(self, size: int) -> bytes:
        value = self.peek(size)
        self.pos += size
        return value

    def peek_uint(self, size: int, at: int | None = None, little: bool = False) -> int:
        return int.from_bytes(self.peek(size, at), "little" if little else "big")

    def read_uint(self, size: int, little: bool = False) -> int:
        value = self.peek_uint(size, little=little)
        self.pos += size
        return value

    def rest(self) -> bytes:
        """Every readable byte from here to the limit; moves to the limit."""
        value = self.data[self.pos : self.limit]
        self.pos = max(self.pos, self.limit)
        return value

    # -- reads that record a Field --------------------------------------------------------

    def uint(
        self,
        parent: Parent,
        name: str,
        label: str,
        size: int,
        *,
        base: Base = Base.DEC,
        names: Mapping[int, str] | None = None,
        little: bool = False,
        at: int | None = None,
        text: Callable[[int], str] | None = None,
        show: Callable[[int], str] | None = None,
    ) -> int:
        """Read an unsigned integer of `size` bytes and record it.

        `text` overrides the value part of the label; `show` overrides the `-T fields` text.
        With `at`, read there without moving the cursor.
        """
        offset = self.pos if at is None else at
        value = self.peek_uint(size, offset, little)
        if at is None:
            self.pos += size
        value_text = text(value) if text is not None else label_int(value, base, size, names)
        shown = show(value) if show is not None else show_int(value, base, size)
        parent.add(Field(name, f"{label}: {value_text}", value, shown, offset, size))
        return value

    def bits(
        self,
        parent: Parent,
        name: str,
        label: str,
        size: int,
        mask: int,
        *,
        at: int | None = None,
        base: Base = Base.DEC,
        names: Mapping[int, str] | None = None,
        width: int | None = None,
        text: Callable[[int], str] | None = None,
        show: Callable[[int], str] | None = None,
        advance: bool = False,
    ) -> int:
        """Record a sub-byte field: the masked, shifted value of `size` bytes.

        Does not move the cursor unless `advance`; several bit fields share their bytes.
        `width` is the number of bits drawn in the label's bit picture (default size*8).
        """
        offset = self.pos if at is None else at
        raw = self.peek_uint(size, offset)
        value = (raw & mask) >> mask_shift(mask)
        if advance and at is None:
            self.pos += size
        bit_width = width if width is not None else size * 8
        picture = bit_pattern(raw, mask, bit_width)
        value_text = text(value) if text is not None else label_int(value, base, size, names)
        shown = show(value) if show is not None else show_int(value, base, size)
        field = Field(name, f"{picture} = {label}: {value_text}", value, shown, offset, size, mask)
        parent.add(field)
        return value

    def flag(
        self,
        parent: Parent,
        name: str,
        label: str,
        size: int,
        mask: int,
        *,
        at: int | None = None,
        width: int | None = None,
        true_text: str = "Set",
        false_text: str = "Not set",
    ) -> bool:
        """Record a one-bit boolean; `-T fields` shows it as 1 or 0, as tshark 4.0 does."""
        offset = self.pos if at is None else at
        raw = self.peek_uint(size, offset)
        value = bool(raw & mask)
        picture = bit_pattern(raw, mask, width if width is not None else size * 8)
        state = true_text if value else false_text
        field = Field(name, f"{picture} = {label}: {state}", value, "1" if value else "0", offset, size, mask)
        parent.add(field)
        return value

    def ipv4(self, parent: Parent, name: str, label: str, at: int | None = None) -> str:
        offset = self.pos if at is None else at
        raw = self.peek(4, offset)
        if at is None:
            self.pos += 4
        text = format_ipv4(raw)
        parent.add(Field(name, f"{label}: {text}", text, text, offset, 4))
        return text

    def ipv6(self, parent: Parent, name: str, label: str, at: int | None = None) -> str:
        offset = self.pos if at is None else at
        raw = self.peek(16, offset)
        if at is None:
            self.pos += 16
        text = format_ipv6(raw)
        parent.add(Field(name, f"{label}: {text}", text, text, offset, 16))
        return text

    def ether(
        self, parent: Parent, name: str, label: str, at: int | None = None, text: str | None = None
    ) -> str:
        """A MAC address; `text` overrides the label's value part (e.g. with the vendor)."""
        offset = self.pos if at is None else at
        raw = self.peek(6, offset)
        if at is None:
            self.pos += 6
        mac = format_ether(raw)
        parent.add(Field(name, f"{label}: {text or mac}", mac, mac, offset, 6))
        return mac

    def bytes_field(
        self,
        parent: Parent,
        name: str,
        label: str,
        size: int,
        *,
        at: int | None = None,
        text: str | None = None,
    ) -> bytes:
        """Raw bytes; shown as tshark shows FT_BYTES (plain lowercase hex, no separators)."""
        offset = self.pos if at is None else at
        raw = self.peek(size, offset)
        if at is None:
            self.pos += size
        hexed = raw.hex()
        parent.add(Field(name, f"{label}: {text if text is not None else hexed}", raw, hexed, offset, size))
        return raw

    def string(self, parent: Parent, name: str, label: str, size: int, *, at: int | None = None) -> str:
        """Text bytes, decoded leniently; control characters are escaped at output time."""
        offset = self.pos if at is None else at
        raw = self.peek(size, offset)
        if at is None:
            self.pos += size
        text = raw.decode("utf-8", "replace")
        parent.add(Field(name, f"{label}: {text}", text, text, offset, size))
        return text


def text_node(parent: Parent, label: str, offset: int = -1, length: int = 0) -> Field:
    """A label-only tree line (Wireshark's text items); not a filterable field."""
    return parent.add(Field("", label, None, "", offset, length))


def generated(
    parent: Parent,
    name: str,
    label: str,
    value: Value,
    show: str | None = None,
    offset: int = -1,
    length: int = 0,
    hidden: bool = False,
) -> Field:
    """A derived field (Wireshark's `[...]` lines): computed, not read, by default bytes-less."""
    shown = show if show is not None else ("1" if value is True else "0" if value is False else str(value))
    return parent.add(Field(name, label, value, shown, offset, length, generated=True, hidden=hidden))
