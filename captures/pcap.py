"""Classic libpcap files (microsecond and nanosecond magic, either byte order): header and records."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from captures.source import ByteSource, Window
from captures.types import (
    CUT_SHORT,
    CUT_SHORT_HEADER,
    NS_PER_SECOND,
    FormatError,
    RawRecord,
    damaged,
    max_caplen,
)

# Stored magic bytes -> (struct byte order, timestamp digits).
MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 6),
    b"\xa1\xb2\xc3\xd4": (">", 6),
    b"\x4d\x3c\xb2\xa1": ("<", 9),
    b"\xa1\xb2\x3c\x4d": (">", 9),
}
HEADER_LEN = 24
RECORD_HEADER_LEN = 16
# The link-type field's upper bits carry the FCS length and flags (pcap spec, LinkType and
# additional information); the link type itself is the low 16 bits.
LINKTYPE_MASK = 0xFFFF


@dataclass(frozen=True, slots=True)
class PcapHeader:
    endian: str
    ts_digits: int
    version: tuple[int, int]
    snaplen: int
    linktype: int


def read_header(src: ByteSource) -> PcapHeader:
    """Consume the 24-byte global header; FormatError if the file ends inside it."""
    if not src.need(HEADER_LEN):
        raise FormatError(CUT_SHORT_HEADER)
    endian, digits = MAGICS[bytes(src.buf[src.pos : src.pos + 4])]
    fields = struct.unpack_from(endian + "HHiIII", src.buf, src.pos + 4)
    major, minor, _zone, _sigfigs, snaplen, network = fields
    src.pos += HEADER_LEN
    return PcapHeader(endian, digits, (major, minor), snaplen, network & LINKTYPE_MASK)


def first_record_problem(src: ByteSource, header: PcapHeader) -> str | None:
    """An absurd length in the very first record means this is no capture: say so at open time."""
    if not src.need(RECORD_HEADER_LEN):
        return None
    (incl,) = struct.unpack_from(header.endian + "I", src.buf, src.pos + 8)
    limit = max_caplen(header.linktype)
    if incl > limit:
        return damaged(f"pcap: File has {incl}-byte packet, bigger than maximum of {limit}")
    return None


def iter_records(src: ByteSource, header: PcapHeader, warn: Callable[[str], None]) -> Iterator[RawRecord]:
    """Frame records until the end of the stream; a problem stops framing with one warning."""
    unpack = struct.Struct(header.endian + "IIII").unpack_from
    # Fractions are µs or ns; multiply rather than divide so timestamps stay exact integers.
    frac_scale = 1000 if header.ts_digits == 6 else 1
    linktype, digits = header.linktype, header.ts_digits
    limit = max_caplen(linktype)
    second = NS_PER_SECOND
    buf, pos, base = src.buf, src.pos, src.base
    end = len(buf)
    while True:
        if end - pos < RECORD_HEADER_LEN:
            src.pos = pos
            if not src.need(RECORD_HEADER_LEN):
                if src.available():
                    warn(CUT_SHORT)
                return
            buf, pos, base = src.buf, src.pos, src.base
            end = len(buf)
        sec, frac, incl, orig = unpack(buf, pos)
        if incl > limit:
            src.pos = pos
            warn(damaged(f"pcap: File has {incl}-byte packet, bigger than maximum of {limit}"))
            return
        start = pos + RECORD_HEADER_LEN
        stop = start + incl
        if stop > end:
            src.pos = pos
            if not src.need(RECORD_HEADER_LEN + incl):
                warn(CUT_SHORT)
                return
            buf, pos, base = src.buf, src.pos, src.base
            end = len(buf)
            start = pos + RECORD_HEADER_LEN
            stop = start + incl
        src.pos = stop
        timestamp = sec * second + frac * frac_scale
        yield (base + pos, timestamp, orig, linktype, digits, 0, buf[start:stop])
        pos = stop


def read_record_at(buf: Window, offset: int, header: PcapHeader) -> RawRecord | str:
    """The record whose header starts at `offset` of a whole-file buffer, or a problem text."""
    size = len(buf)
    if offset < HEADER_LEN or offset + RECORD_HEADER_LEN > size:
        return f"no pcap record at offset {offset}"
    sec, frac, incl, orig = struct.unpack_from(header.endian + "IIII", buf, offset)
    limit = max_caplen(header.linktype)
    if incl > limit:
        return damaged(f"pcap: File has {incl}-byte packet, bigger than maximum of {limit}")
    start = offset + RECORD_HEADER_LEN
    if start + incl > size:
        return CUT_SHORT
    frac_scale = 1000 if header.ts_digits == 6 else 1
    data = buf[start : start + incl]
    return (offset, sec * NS_PER_SECOND + frac * frac_scale, orig, header.linktype, header.ts_digits, 0, data)
