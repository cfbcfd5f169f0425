"""Capture files: pcap, pcapng and gzip-compressed either, framed into Frames (the public entry point).

The framing is ours (captures/pcap.py, captures/pcapng.py), not dpkt's: dpkt's pcapng reader drops
Simple Packet Blocks and every section after the first and ignores per-interface link types, and
its pcap Reader rejects pcapng and allocates whatever length a record claims. Formats are told
apart by magic, never by file name. Plain regular files are memory-mapped; everything else (gzip,
pipes, stdin) is read incrementally, so a pipe still being written yields each record as soon as
it is complete. Input never raises anything but CaptureError at open time; problems met later
stop the reading and become one line in `warnings`, worded as tshark 4.0 words them.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from os import PathLike
from typing import BinaryIO

from captures import pcap, pcapng
from captures.frame import Frame
from captures.source import GZIP_MAGIC, ByteSource, MappedSource, StreamSource
from captures.types import (
    CUT_SHORT,
    CUT_SHORT_HEADER,
    CaptureError,
    CaptureInfo,
    FormatError,
    InterfaceInfo,
    RawRecord,
)
from captures.writer import write_pcap, write_pcapng

__all__ = [
    "CaptureError",
    "CaptureInfo",
    "CaptureReader",
    "InterfaceInfo",
    "RawRecord",
    "iter_records",
    "open_capture",
    "open_stream",
    "write_pcap",
    "write_pcapng",
]

_KNOWN_MAGICS = (*pcap.MAGICS, pcapng.SHB_BYTES)


class CaptureReader:
    """The frames of one capture. Iterate it for Frames, or call `records()` for the fast tuples.

    A stream can be read once; a mapped file can be read again, and `read_record_at` gives random
    access to it. `warnings` collects the non-fatal problems met so far.
    """

    def __init__(self, path: str, src: ByteSource) -> None:
        self.path = path
        self._src = src
        self.warnings: list[str] = []
        self._pcap_header: pcap.PcapHeader | None = None
        self._framer: pcapng.PcapngFramer | None = None
        self._random_framer: pcapng.PcapngFramer | None = None
        self._passes = 0
        if not src.need(4):
            self._reject_short()
        magic = bytes(src.buf[src.pos : src.pos + 4])
        self._data_start = src.pos
        try:
            if magic in pcap.MAGICS:
                header = self._pcap_header = pcap.read_header(src)
                problem = pcap.first_record_problem(src, header)
                if problem is not None:
                    raise CaptureError(path, problem)
                interface = InterfaceInfo(header.linktype, None, header.snaplen, header.ts_digits)
                interface.units_per_second = 10**header.ts_digits
                self.info = CaptureInfo("pcap", src.compressed, [interface], big_endian=header.endian == ">")
            elif magic == pcapng.SHB_BYTES:
                self.info = CaptureInfo("pcapng", src.compressed)
                self._framer = pcapng.PcapngFramer(src, self.info, self._warn)
                self._framer.read_first_section()
            else:
                raise CaptureError(path, f"not a pcap or pcapng capture (unknown magic 0x{magic.hex()})")
        except FormatError as exc:
            raise CaptureError(path, str(exc)) from None

    def _reject_short(self) -> None:
        head = bytes(self._src.buf[self._src.pos :])
        if self._src.problem is not None:
            raise CaptureError(self.path, self._src.problem)
        if not head:
            raise CaptureError(self.path, "the capture file is empty")
        if any(magic.startswith(head) for magic in _KNOWN_MAGICS):
            raise CaptureError(self.path, CUT_SHORT_HEADER)
        raise CaptureError(self.path, f"not a pcap or pcapng capture (unknown magic 0x{head.hex()})")

    def _warn(self, problem: str) -> None:
        line = f"{self.path}: {problem}"
        if line not in self.warnings:
            self.warnings.append(line)

    def _start_pass(self) -> pcapng.PcapngFramer | None:
        """Position the source for a pass; the framer to use for pcapng files."""
        self._passes += 1
        if self._passes == 1:
            return self._framer
        if not self._src.random_access:
            raise CaptureError(self.path, "a stream can be read only once")
        self._src.pos = self._data_start
        if self._pcap_header is not None:
            self._src.pos += pcap.HEADER_LEN
            return None
        # A fresh framer re-reads sections into a throwaway info, keeping `info` as it is.
        framer = pcapng.PcapngFramer(self._src, CaptureInfo("pcapng"), self._warn)
        framer.read_first_section()
        return framer

    def _framing(self, framer: pcapng.PcapngFramer | None) -> Iterator[RawRecord]:
        src = self._src
        try:
            if framer is not None:
                yield from framer.records()
            else:
                assert self._pcap_header is not None
                yield from pcap.iter_records(src, self._pcap_header, self._warn)
        except OSError as exc:
            self._warn(f"read error: {exc.strerror or exc}")
        if src.problem is not None:
            # A corrupt gzip stream also ends the framing mid-record; the cause is what to report.
            cut = f"{self.path}: {CUT_SHORT}"
            self.warnings = [line for line in self.warnings if line != cut]
            self._warn(src.problem)

    def records(self) -> Iterator[RawRecord]:
        """Fast path: (file_offset, timestamp_ns, wire_len, linktype, ts_digits, interface_id, data).

        Simple Packet Blocks carry no timestamp: theirs is 0 (Frames say has_timestamp=False).
        """
        return self._framing(self._start_pass())

    def __iter__(self) -> Iterator[Frame]:
        framer = self._start_pass()
        if framer is None:
            records = self._framing(None)
            for number, (offset, ns, wire_len, linktype, digits, _iface, data) in enumerate(records, 1):
                yield Frame(number, ns, data, wire_len, linktype, 0, None, (), offset, digits)
            return
        framer.want_comments = True
        for number, (offset, ns, wire_len, linktype, digits, iface_id, data) in enumerate(
            self._framing(framer), 1
        ):
            name = _shown_name(framer, iface_id)
            yield Frame(
                number,
                ns,
                data,
                wire_len,
                linktype,
                iface_id,
                name,
                framer.last_comments,
                offset,
                digits,
                framer.last_has_timestamp,
                _section_number(framer),
            )

    def read_record_at(self, file_offset: int, number: int = 0) -> Frame:
        """The frame whose record (pcap) or block (pcapng) starts at `file_offset`, as `records()`
        reported it. Only for uncompressed regular files; CaptureError otherwise."""
        src = self._src
        if not src.random_access:
            raise CaptureError(self.path, "random access needs an uncompressed regular file")
        if self._pcap_header is not None:
            record = pcap.read_record_at(src.buf, file_offset, self._pcap_header)
            if isinstance(record, str):
                raise CaptureError(self.path, record)
            offset, ns, wire_len, linktype, digits, _iface, data = record
            return Frame(number, ns, data, wire_len, linktype, 0, None, (), offset, digits)
        framer = self._random_framer
        if framer is None:
            # Its own window on the same mapping, so it never disturbs an iteration in progress.
            window = ByteSource()
            window.buf = src.buf
            framer = self._random_framer = pcapng.PcapngFramer(window, CaptureInfo("pcapng"), self._warn)
            framer.want_comments = True
        record = framer.record_at(file_offset)
        if isinstance(record, str):
            raise CaptureError(self.path, record)
        offset, ns, wire_len, linktype, digits, iface_id, data = record
        name = _shown_name(framer, iface_id)
        return Frame(
            number,
            ns,
            data,
            wire_len,
            linktype,
            iface_id,
            name,
            framer.last_comments,
            offset,
            digits,
            framer.last_has_timestamp,
            _section_number(framer),
        )

    def close(self) -> None:
        self._src.close()

    def __enter__(self) -> CaptureReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _shown_name(framer: pcapng.PcapngFramer, local_id: int) -> str:
    """The interface name tshark 4.0 shows: it looks the section-local number up in the file-wide
    interface list, so frames of a later section show the first section's names (measured on
    multi-section.pcapng). We match it; the true interface is `framer.last_interface` and
    `info.interfaces` keeps every section's own names."""
    interfaces = framer.info.interfaces
    name = interfaces[local_id].name if local_id < len(interfaces) else None
    return "unknown" if name is None else name


def _section_number(framer: pcapng.PcapngFramer) -> int:
    """The 1-based section of the record just framed, as tshark's "Section number" counts."""
    iface = framer.last_interface
    return iface.section + 1 if iface is not None else 0


def _reader(path: str, src: ByteSource) -> CaptureReader:
    try:
        return CaptureReader(path, src)
    except CaptureError:
        src.close()
        raise
    except OSError as exc:
        src.close()
        raise CaptureError(path, exc.strerror or str(exc)) from None


def open_stream(stream: BinaryIO, path: str = "-", close_stream: bool = False) -> CaptureReader:
    """A reader over an already open stream (a pipe, stdin), read incrementally."""
    try:
        src = StreamSource(stream, close_stream)
    except OSError as exc:
        raise CaptureError(path, exc.strerror or str(exc)) from None
    return _reader(path, src)


def open_capture(path: str | PathLike[str]) -> CaptureReader:
    """Open a capture file by content; "-" reads standard input incrementally."""
    name = os.fspath(path)
    if name == "-":
        return open_stream(sys.stdin.buffer, "-")
    try:
        file = open(name, "rb")  # noqa: SIM115 - the reader owns and closes it
    except OSError as exc:
        raise CaptureError(name, exc.strerror or str(exc)) from None
    try:
        info = os.fstat(file.fileno())
        regular = stat.S_ISREG(info.st_mode)
        if regular and info.st_size == 0:
            raise CaptureError(name, "the capture file is empty")
        if regular and os.pread(file.fileno(), 2, 0) != GZIP_MAGIC:
            try:
                source: ByteSource = MappedSource(file)
            except (OSError, ValueError):
                source = StreamSource(file)  # a file system that cannot map: read it as a stream
        else:
            source = StreamSource(file)
    except CaptureError:
        file.close()
        raise
    except OSError as exc:
        file.close()
        raise CaptureError(name, exc.strerror or str(exc)) from None
    return _reader(name, source)


def iter_records(source: str | PathLike[str] | CaptureReader) -> Iterator[RawRecord]:
    """Fast framing for the packet index: one plain tuple per record, no Frame objects.

    Given a path, problems found while reading are dropped with the reader; pass an open
    CaptureReader (and read its `warnings` afterwards) to keep them.
    """
    if isinstance(source, CaptureReader):
        yield from source.records()
        return
    with open_capture(source) as reader:
        yield from reader.records()
