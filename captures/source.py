"""Byte sources for the framers: a memory-mapped file, or a stream read in chunks (gzip-aware).

A source exposes a window `buf[pos:]` on the *uncompressed* byte stream; `base` is the stream
offset of `buf[0]`. Framers unpack straight out of `buf` with struct.unpack_from, advance `pos`
themselves, and call `need(n)` only when fewer than n bytes remain, so the per-record cost is a
few attribute reads. Streams (pipes, stdin, gzip) are read with read1() so a pipe still being
written yields records as soon as they are complete, and memory stays bounded by the largest
record plus one chunk.
"""

from __future__ import annotations

import mmap
import zlib
from typing import BinaryIO

CHUNK = 1 << 20
UNDECOMPRESSABLE = "the capture file cannot be decompressed; it may be damaged or corrupt"
# Compressed input is fed to zlib in slices this big: a corrupt stream raises only after the
# output of earlier slices was delivered, so at most this much is lost before the error.
GZIP_INPUT = 1 << 16
GZIP_MAGIC = b"\x1f\x8b"

# What framers read from: a mapped file or a bytes window on a stream (slicing either gives bytes).
Window = bytes | mmap.mmap


class ByteSource:
    """Base window. Subclasses refill `buf`; framers read `buf`, `pos` and `base` directly."""

    def __init__(self) -> None:
        self.buf: Window = b""
        self.pos = 0
        self.base = 0
        self.compressed = False
        # Set when the stream ends badly for a reason the framer cannot see (corrupt gzip data).
        self.problem: str | None = None

    @property
    def random_access(self) -> bool:
        return False

    def available(self) -> int:
        return len(self.buf) - self.pos

    def offset(self) -> int:
        """Stream offset of the next unread byte."""
        return self.base + self.pos

    def need(self, count: int) -> bool:
        """Make at least `count` bytes available from `pos`; False if the stream ends first."""
        return len(self.buf) - self.pos >= count

    def close(self) -> None:
        pass


class MappedSource(ByteSource):
    """A whole regular file mapped read-only: no copies until a record's bytes are sliced out."""

    def __init__(self, file: BinaryIO) -> None:
        super().__init__()
        self._file = file
        self._map = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        self.buf = self._map

    @property
    def random_access(self) -> bool:
        return True

    def close(self) -> None:
        self.buf = b""
        self._map.close()
        self._file.close()


class StreamSource(ByteSource):
    """Reads a stream incrementally, inflating gzip members as they come.

    Like wiretap, data that follows a gzip member without starting another one is passed through
    uncompressed. `close_stream=False` leaves the stream open (stdin belongs to the process).
    """

    def __init__(self, stream: BinaryIO, close_stream: bool = True) -> None:
        super().__init__()
        self._stream = stream
        self._close_stream = close_stream
        self._read_raw = getattr(stream, "read1", stream.read)
        self._ended = False
        self._inflater: zlib._Decompress | None = None
        self._pending = b""  # compressed input not yet fed to the inflater
        first = self._first_bytes()
        if first[:2] == GZIP_MAGIC:
            self.compressed = True
            self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self._pending = first
        else:
            self.buf = first

    def _first_bytes(self) -> bytes:
        # Two bytes decide gzip or not; a pipe may deliver them one at a time.
        data = b""
        while len(data) < 2:
            more = self._read_raw(CHUNK)
            if not more:
                break
            data += more
        return data

    def need(self, count: int) -> bool:
        have = len(self.buf) - self.pos
        if have >= count:
            return True
        parts = [bytes(self.buf[self.pos :])]
        while have < count and not self._ended:
            chunk = self._read_some(max(CHUNK, count - have))
            if not chunk:
                self._ended = True
                break
            parts.append(chunk)
            have += len(chunk)
        self.base += self.pos
        self.buf = b"".join(parts)
        self.pos = 0
        return have >= count

    def _read_some(self, limit: int) -> bytes:
        if self._inflater is None:
            if self._pending:
                data, self._pending = self._pending, b""
                return data
            return self._read_raw(limit)
        if self.problem is not None:
            return b""
        return self._inflate(limit)

    def _inflate(self, limit: int) -> bytes:
        inflater = self._inflater
        assert inflater is not None
        while True:
            if inflater.eof:
                rest = inflater.unused_data + self._pending
                self._pending = b""
                if not rest:
                    rest = self._read_raw(CHUNK)
                if not rest:
                    return b""
                if rest[:2] != GZIP_MAGIC:
                    # Not another member: wiretap reads what follows as plain bytes.
                    self._inflater = None
                    return rest
                inflater = self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self._pending = rest
            data = self._pending or self._read_raw(GZIP_INPUT)
            self._pending = b""
            if len(data) > GZIP_INPUT:
                data, self._pending = data[:GZIP_INPUT], data[GZIP_INPUT:]
            if not data:
                return b""  # compressed stream ends inside a member: the framer sees a short file
            # max_length bounds memory against decompression bombs; the rest waits in the tail.
            backup = inflater.copy()
            try:
                out = inflater.decompress(data, limit)
            except zlib.error as exc:
                self.problem = (
                    f"the capture file cannot be decompressed; it may be damaged or corrupt ({exc})"
                )
                return _salvage(backup, data)
            self._pending = inflater.unconsumed_tail + self._pending
            if out:
                return out

    def close(self) -> None:
        self.buf = b""
        self._pending = b""
        if self._close_stream:
            self._stream.close()


def _salvage(inflater: zlib._Decompress, data: bytes) -> bytes:
    """What decompresses before the error (zlib drops a failing call's output), as wiretap shows
    every packet before a bad CRC. Output is bounded by GZIP_INPUT times deflate's 1032:1 limit."""
    pieces = []
    start = 0
    while start < len(data):
        step = 1024
        state = inflater.copy()
        try:
            pieces.append(inflater.decompress(data[start : start + step]))
        except zlib.error:
            # Again a byte at a time, to keep the output that precedes the bad byte.
            for index in range(start, min(start + step, len(data))):
                try:
                    pieces.append(state.decompress(data[index : index + 1]))
                except zlib.error:
                    break
            break
        start += step
    return b"".join(pieces)
