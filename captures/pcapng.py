"""pcapng files (IETF draft-ietf-opsawg-pcapng): sections, interfaces, EPB, SPB, obsolete PB, comments.

Our own framing rather than dpkt's: dpkt.pcapng drops Simple Packet Blocks and every section after
the first and ignores per-interface link types and clocks. Each section has its own byte order and
its own interface list (a new SHB resets it); frames keep the section-local interface number, as
tshark 4.0 shows it in frame.interface_id.
"""

from __future__ import annotations

import struct
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from captures.source import ByteSource, Window
from captures.types import (
    CUT_SHORT,
    CUT_SHORT_HEADER,
    MAX_PCAPNG_BLOCK,
    NS_PER_SECOND,
    CaptureInfo,
    FormatError,
    InterfaceInfo,
    RawRecord,
    damaged,
    digits_for_units,
    max_caplen,
)

SHB_BYTES = b"\x0a\x0d\x0d\x0a"  # the same in both byte orders, so it can be found before we know one
BYTE_ORDER_LITTLE = b"\x4d\x3c\x2b\x1a"
BYTE_ORDER_BIG = b"\x1a\x2b\x3c\x4d"
IDB, PB, SPB, EPB = 1, 2, 3, 6
OPT_COMMENT = 1
IF_NAME, IF_TSRESOL, IF_TSOFFSET = 2, 9, 14
MIN_SHB, MIN_IDB, MIN_EPB, MIN_SPB = 28, 20, 32, 16


@dataclass(slots=True)
class Section:
    index: int
    offset: int
    endian: str
    interfaces: list[InterfaceInfo] = field(default_factory=list)
    # Per interface: (ns per tick when that is an integer else 0, ticks per second, offset in ns).
    clocks: list[tuple[int, int, int]] = field(default_factory=list)


def _options(buf: Window, start: int, end: int, endian: str) -> Iterator[tuple[int, bytes]]:
    """(code, value) pairs of an option list; a malformed tail is ignored, as the values are extras."""
    header = struct.Struct(endian + "HH")
    while start + 4 <= end:
        code, length = header.unpack_from(buf, start)
        value_end = start + 4 + length
        if code == 0 or value_end > end:
            return
        yield code, bytes(buf[start + 4 : value_end])
        start = value_end + (-length % 4)


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace").rstrip("\x00")


def _too_short(length: int, kind: str, minimum: int) -> str:
    return f"pcapng: total block length {length} of an {kind} is less than the minimum {kind} size {minimum}"


def _too_small_for(length: int, kind: str, caplen: int) -> str:
    return f"pcapng: total block length {length} of an {kind} is too small for {caplen} bytes of packet data"


def _mismatch(length: int, trailer: int) -> str:
    return damaged(f"pcapng: total block lengths (first {length} and second {trailer}) don't match")


def _length_problem(length: int) -> str | None:
    if length < 12:
        return f"pcapng: total block length {length} is too small (< 12)"
    if length % 4:
        return f"pcapng: total block length {length} is not a multiple of 4"
    if length > MAX_PCAPNG_BLOCK:
        return f"pcapng: total block length {length} is too large (> {MAX_PCAPNG_BLOCK})"
    return None


class PcapngFramer:
    """Walks the blocks of a pcapng stream. After each yielded record, `last_interface`,
    `last_comments` and `last_has_timestamp` describe it (comments only if `want_comments`)."""

    def __init__(self, src: ByteSource, info: CaptureInfo, warn: Callable[[str], None]) -> None:
        self.src = src
        self.info = info
        self.warn = warn
        self.sections: list[Section] = []
        self.want_comments = False
        self.last_interface: InterfaceInfo | None = None
        self.last_comments: tuple[str, ...] = ()
        self.last_has_timestamp = True

    # -- sections and interfaces ---------------------------------------------------------------

    def read_first_section(self) -> None:
        """Consume the first SHB and the IDBs right after it; FormatError if the SHB is unusable
        or the next block claims an impossible length."""
        problem = self._read_section()
        if problem is not None:
            raise FormatError(problem)
        self.info.big_endian = self.sections[0].endian == ">"
        # Interfaces are usually declared up front: read them now so `info.interfaces` is useful
        # before iteration. Stop at the first other block and leave it unconsumed.
        src = self.src
        section = self.sections[0]
        while src.need(8):
            block_type, length = struct.unpack_from(section.endian + "II", src.buf, src.pos)
            problem = _length_problem(length)
            if problem is not None:
                # An absurd length before any packet: this is no capture we can read.
                raise FormatError(damaged(problem))
            if block_type != IDB or not src.need(length):
                return
            if self._interface(src.buf, src.pos, length, section) is not None:
                return  # left for records() to meet again and report
            src.pos += length

    def _read_section(self) -> str | None:
        """Consume an SHB at the window start, opening a new section; a problem text otherwise."""
        src = self.src
        if not src.need(12):
            return CUT_SHORT_HEADER
        buf, pos = src.buf, src.pos
        order = bytes(buf[pos + 8 : pos + 12])
        if order == BYTE_ORDER_LITTLE:
            endian = "<"
        elif order == BYTE_ORDER_BIG:
            endian = ">"
        else:
            return damaged(f"pcapng: unknown byte-order magic 0x{order.hex()}")
        (length,) = struct.unpack_from(endian + "I", buf, pos + 4)
        problem = _length_problem(length)
        if problem is None and length < MIN_SHB:
            problem = _too_short(length, "SHB", MIN_SHB)
        if problem is not None:
            return damaged(problem)
        if not src.need(length):
            return CUT_SHORT_HEADER
        buf, pos = src.buf, src.pos
        (trailer,) = struct.unpack_from(endian + "I", buf, pos + length - 4)
        if trailer != length:
            return _mismatch(length, trailer)
        major, minor = struct.unpack_from(endian + "HH", buf, pos + 12)
        if major != 1:
            return damaged(f"pcapng: unknown SHB version {major}.{minor}")
        for code, value in _options(buf, pos + 24, pos + length - 4, endian):
            if code == OPT_COMMENT:
                self.info.comments.append(_text(value))
        self.sections.append(Section(len(self.sections), src.base + pos, endian))
        self.info.sections = len(self.sections)
        src.pos = pos + length
        return None

    def _interface(self, buf: Window, pos: int, length: int, section: Section) -> str | None:
        if length < MIN_IDB:
            return _too_short(length, "IDB", MIN_IDB)
        endian = section.endian
        linktype, _reserved, snaplen = struct.unpack_from(endian + "HHI", buf, pos + 8)
        name: str | None = None
        units, offset_s = 1_000_000, 0
        for code, value in _options(buf, pos + 16, pos + length - 4, endian):
            if code == IF_NAME:
                name = _text(value)
            elif code == IF_TSRESOL and value:
                # High bit set: a negative power of 2; otherwise a negative power of 10.
                exponent = value[0] & 0x7F
                units = 2**exponent if value[0] & 0x80 else 10**exponent
            elif code == IF_TSOFFSET and len(value) == 8:
                (offset_s,) = struct.unpack(endian + "q", value)
        iface = InterfaceInfo(
            linktype,
            name,
            snaplen,
            digits_for_units(units),
            section.index,
            len(section.interfaces),
            units,
            offset_s,
        )
        section.interfaces.append(iface)
        exact = NS_PER_SECOND // units if NS_PER_SECOND % units == 0 else 0
        section.clocks.append((exact, units, offset_s * NS_PER_SECOND))
        self.info.interfaces.append(iface)
        return None

    # -- packets --------------------------------------------------------------------------------

    def records(self) -> Iterator[RawRecord]:
        """Frame packet records until the end; the first impossible block stops with a warning."""
        while True:
            yield from self._plain_epbs()
            outcome = self._one_block()
            if isinstance(outcome, tuple):
                yield outcome
            elif not outcome:
                return

    def _plain_epbs(self) -> Iterator[RawRecord]:
        """The common case at full speed: consecutive, valid EPBs wholly inside the window. Any
        other block, or any doubt, is left to _one_block, which also words the problems."""
        src = self.src
        section = self.sections[-1]
        unpack = struct.Struct(section.endian + "7I").unpack_from
        unpack_trailer = struct.Struct(section.endian + "I").unpack_from
        interfaces, clocks = section.interfaces, section.clocks
        count = len(interfaces)
        limits = [max_caplen(iface.linktype) for iface in interfaces]
        want_comments, endian = self.want_comments, section.endian
        buf, pos, base = src.buf, src.pos, src.base
        end = len(buf)
        while end - pos >= MIN_EPB:
            block_type, length, local_id, high, low, caplen, wire = unpack(buf, pos)
            stop = pos + length
            if (
                block_type != EPB
                or length & 3
                or length < MIN_EPB
                or length > MAX_PCAPNG_BLOCK
                or stop > end
                or local_id >= count
                or caplen > length - MIN_EPB
                or caplen > limits[local_id]
                or unpack_trailer(buf, stop - 4)[0] != length
            ):
                return
            exact, units, offset_ns = clocks[local_id]
            ticks = high << 32 | low
            timestamp = (ticks * exact if exact else ticks * NS_PER_SECOND // units) + offset_ns
            data_end = pos + 28 + caplen
            comments: tuple[str, ...] = ()
            if want_comments and data_end + (-caplen % 4) < stop - 4:
                found = _options(buf, data_end + (-caplen % 4), stop - 4, endian)
                comments = tuple(_text(value) for code, value in found if code == OPT_COMMENT)
            iface = interfaces[local_id]
            self.last_interface, self.last_comments, self.last_has_timestamp = iface, comments, True
            data = buf[pos + 28 : data_end]
            src.pos = stop
            yield (base + pos, timestamp, wire, iface.linktype, iface.ts_digits, local_id, data)
            pos = stop

    def _one_block(self) -> RawRecord | bool:
        """Consume one block of any kind: its record, True to go on, False to stop (warned)."""
        src, warn = self.src, self.warn
        if not src.need(8):
            if src.available():
                warn(CUT_SHORT)
            return False
        buf, pos = src.buf, src.pos
        if buf[pos : pos + 4] == SHB_BYTES:
            problem = self._read_section()
            if problem is not None:
                warn(CUT_SHORT if problem == CUT_SHORT_HEADER else problem)
                return False
            return True
        section = self.sections[-1]
        block_type, length = struct.unpack_from(section.endian + "II", buf, pos)
        problem = _length_problem(length)
        if problem is not None:
            warn(damaged(problem))
            return False
        if not src.need(length):
            warn(CUT_SHORT)
            return False
        buf, pos = src.buf, src.pos
        (trailer,) = struct.unpack_from(section.endian + "I", buf, pos + length - 4)
        if trailer != length:
            warn(_mismatch(length, trailer))
            return False
        if block_type in (EPB, SPB, PB):
            record = self._packet(buf, pos, length, block_type, section, src.base)
            if isinstance(record, str):
                warn(damaged(record))
                return False
            src.pos = pos + length
            return record
        if block_type == IDB:
            problem = self._interface(buf, pos, length, section)
            if problem is not None:
                warn(damaged(problem))
                return False
        # Statistics, name resolution, custom blocks and the like carry no frames.
        src.pos = pos + length
        return True

    def _packet(
        self, buf: Window, pos: int, length: int, block_type: int, section: Section, base: int
    ) -> RawRecord | str:
        """One packet block as a record, or wiretap's complaint about it."""
        endian = section.endian
        count = len(section.interfaces)
        if block_type == SPB:
            # No interface number and no timestamp: interface 0, captured min(wire, snaplen).
            if length < MIN_SPB:
                return _too_short(length, "SPB", MIN_SPB)
            if count == 0:
                return "pcapng: interface index 0 is not less than section interface count 0"
            (wire,) = struct.unpack_from(endian + "I", buf, pos + 8)
            iface = section.interfaces[0]
            caplen = min(wire, iface.snaplen) if iface.snaplen else wire
            if caplen > length - MIN_SPB:
                return _too_small_for(length, "SPB", caplen)
            self.last_interface, self.last_comments, self.last_has_timestamp = iface, (), False
            data = buf[pos + 12 : pos + 12 + caplen]
            return (base + pos, 0, wire, iface.linktype, iface.ts_digits, 0, data)
        kind = "EPB" if block_type == EPB else "PB"
        if length < MIN_EPB:
            return _too_short(length, kind, MIN_EPB)
        if block_type == EPB:
            local_id, high, low, caplen, wire = struct.unpack_from(endian + "IIIII", buf, pos + 8)
        else:
            local_id, _drops, high, low, caplen, wire = struct.unpack_from(endian + "HHIIII", buf, pos + 8)
        if local_id >= count:
            return f"pcapng: interface index {local_id} is not less than section interface count {count}"
        iface = section.interfaces[local_id]
        limit = max_caplen(iface.linktype)
        if caplen > limit:
            return f"pcapng: cap_len {caplen} is larger than {limit}"
        if caplen > length - MIN_EPB:
            return _too_small_for(length, kind, caplen)
        exact, units, offset_ns = section.clocks[local_id]
        ticks = high << 32 | low
        timestamp = (ticks * exact if exact else ticks * NS_PER_SECOND // units) + offset_ns
        comments: tuple[str, ...] = ()
        options_start = pos + 28 + caplen + (-caplen % 4)
        if self.want_comments and options_start < pos + length - 4:
            found = _options(buf, options_start, pos + length - 4, endian)
            comments = tuple(_text(value) for code, value in found if code == OPT_COMMENT)
        self.last_interface, self.last_comments, self.last_has_timestamp = iface, comments, True
        data = buf[pos + 28 : pos + 28 + caplen]
        return (base + pos, timestamp, wire, iface.linktype, iface.ts_digits, local_id, data)

    # -- random access (whole-file windows only) ------------------------------------------------

    def record_at(self, offset: int) -> RawRecord | str:
        """The packet block starting at `offset`, reading section and interface blocks up to it
        first (once; later calls continue from there). A problem text if there is none."""
        src = self.src
        if not self.sections:
            problem = self._read_section()
            if problem is not None:
                return problem
        self._skim_to(offset)
        starts = [section.offset for section in self.sections]
        section = self.sections[bisect_right(starts, offset) - 1]
        buf = src.buf
        if offset < section.offset or offset + 12 > len(buf):
            return f"no pcapng block at offset {offset}"
        block_type, length = struct.unpack_from(section.endian + "II", buf, offset)
        problem = _length_problem(length)
        if problem is not None:
            return damaged(problem)
        if offset + length > len(buf):
            return CUT_SHORT
        if block_type not in (EPB, SPB, PB):
            return f"no pcapng packet block at offset {offset}"
        record = self._packet(buf, offset, length, block_type, section, 0)
        return damaged(record) if isinstance(record, str) else record

    def _skim_to(self, offset: int) -> None:
        """Read SHBs and IDBs up to `offset`, jumping over every other block without copying it."""
        src = self.src
        buf = src.buf
        while src.pos < offset and src.pos + 12 <= len(buf):
            pos = src.pos
            if buf[pos : pos + 4] == SHB_BYTES:
                if self._read_section() is not None:
                    return
                continue
            section = self.sections[-1]
            block_type, length = struct.unpack_from(section.endian + "II", buf, pos)
            if _length_problem(length) or pos + length > len(buf):
                return
            if block_type == IDB and self._interface(buf, pos, length, section) is not None:
                return
            src.pos = pos + length
