"""TCP stream reassembly (RFC 9293 sequence space): ordered, de-duplicated bytes with provenance.

One `StreamReassembler` per TCP direction. Segments go in by sequence number in any order;
`pop()` hands out what has become contiguous since the last call, as `Message`s that name the
frames their bytes came from, and `Gap`s where bytes were never seen (declared when the peer
acknowledged past them, or at `finish()`). The first copy of a byte wins; a later copy carrying
different bytes is recorded as a conflict. Memory is bounded: a per-stream cap on buffered bytes
and an optional `Budget` shared by all streams; data beyond a cap is dropped and the stream is
flagged (`capped`), never an exception or an unbounded buffer.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from analyzer.state.tcp_facts import seq_diff

DEFAULT_STREAM_CAP = 16 * 1024 * 1024
DEFAULT_TOTAL_CAP = 256 * 1024 * 1024


@dataclass(slots=True)
class Budget:
    """Buffered bytes across all streams, with a total cap."""

    limit: int = DEFAULT_TOTAL_CAP
    used: int = 0


@dataclass(frozen=True, slots=True)
class Message:
    """Contiguous stream bytes starting at `offset` (0 = first byte after the SYN)."""

    offset: int
    data: bytes
    frames: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Gap:
    """Bytes [offset, offset+length) that were never captured."""

    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class Conflict:
    """An overlap [offset, offset+length) whose bytes differ from the first copy (which was kept)."""

    offset: int
    length: int
    first_frame: int
    frame: int


@dataclass(slots=True)
class _Piece:
    start: int
    data: bytes
    frame: int

    @property
    def end(self) -> int:
        return self.start + len(self.data)


@dataclass(slots=True)
class StreamReassembler:
    """Reassembles one direction of a TCP stream."""

    isn: int | None = None  # sequence number of the SYN (or one before the first byte seen)
    stream_cap: int = DEFAULT_STREAM_CAP
    budget: Budget | None = None
    capped: bool = False
    conflicts: list[Conflict] = field(default_factory=list)
    _pieces: list[_Piece] = field(default_factory=list)  # sorted, non-overlapping, not yet popped
    _starts: list[int] = field(default_factory=list)
    _read: int = 0  # offset of the next byte to hand out
    _buffered: int = 0
    _pending_gaps: list[Gap] = field(default_factory=list)

    def add(self, seq: int, data: bytes, frame: int, syn: bool = False) -> None:
        """Add a segment's payload; `syn` when the segment carries SYN (its payload starts at seq+1)."""
        if self.isn is None:
            self.isn = seq if syn else (seq - 1) & 0xFFFFFFFF
        start = self._offset((seq + (1 if syn else 0)) & 0xFFFFFFFF)
        if start + len(data) <= self._read:
            return  # already handed out: an old retransmission
        if start < self._read:
            data, start = data[self._read - start :], self._read
        for piece_start, piece_data in self._new_parts(start, data, frame):
            self._store(_Piece(piece_start, piece_data, frame))

    def _offset(self, seq: int) -> int:
        """Stream offset of a sequence number, unwrapped near the read position (streams > 4 GiB)."""
        assert self.isn is not None
        relative = (seq - self.isn - 1) & 0xFFFFFFFF
        return self._read + seq_diff(relative, self._read & 0xFFFFFFFF)

    def _new_parts(self, start: int, data: bytes, frame: int) -> list[tuple[int, bytes]]:
        """Cut away what is already buffered (first copy wins), noting differing overlaps."""
        parts: list[tuple[int, bytes]] = []
        cursor = start
        end = start + len(data)
        index = max(bisect.bisect_right(self._starts, start) - 1, 0)
        for piece in self._pieces[index:]:
            if piece.start >= end:
                break
            if piece.end <= cursor:
                continue
            if piece.start > cursor:
                parts.append((cursor, data[cursor - start : piece.start - start]))
            lo, hi = max(cursor, piece.start), min(end, piece.end)
            if data[lo - start : hi - start] != piece.data[lo - piece.start : hi - piece.start]:
                self.conflicts.append(Conflict(lo, hi - lo, piece.frame, frame))
            cursor = max(cursor, piece.end)
        if cursor < end:
            parts.append((cursor, data[cursor - start :]))
        return parts

    def _store(self, piece: _Piece) -> None:
        size = len(piece.data)
        over_total = self.budget is not None and self.budget.used + size > self.budget.limit
        if self._buffered + size > self.stream_cap or over_total:
            self.capped = True
            return
        self._buffered += size
        if self.budget is not None:
            self.budget.used += size
        index = bisect.bisect_left(self._starts, piece.start)
        self._starts.insert(index, piece.start)
        self._pieces.insert(index, piece)

    def acknowledged(self, ack: int) -> None:
        """The peer acknowledged up to `ack`: any hole before it will never be filled (lost data)."""
        if self.isn is not None:
            self._declare_holes(self._offset(ack))

    def finish(self) -> None:
        """End of capture: every remaining hole between buffered pieces becomes a gap."""
        if self._pieces:
            self._declare_holes(self._pieces[-1].end)

    def _declare_holes(self, upto: int) -> None:
        position = max([self._read] + [gap.offset + gap.length for gap in self._pending_gaps])
        for piece in self._pieces:
            if piece.start >= upto:
                break
            if piece.start > position:
                self._pending_gaps.append(Gap(position, piece.start - position))
            position = max(position, piece.end)
        if position < upto:
            self._pending_gaps.append(Gap(position, upto - position))

    def pop(self) -> list[Message | Gap]:
        """Everything that became contiguous since the last call, in stream order."""
        out: list[Message | Gap] = []
        gaps = sorted(self._pending_gaps, key=lambda gap: gap.offset)
        position = self._read
        chunks: list[bytes] = []
        frames: list[int] = []
        start = position

        def flush() -> None:
            nonlocal chunks, frames
            if chunks:
                out.append(Message(start, b"".join(chunks), tuple(dict.fromkeys(frames))))
            chunks, frames = [], []

        while True:
            while self._pieces and self._pieces[0].start < position:  # late bytes inside a gap
                piece = self._pieces[0]
                if piece.end <= position:
                    self._pieces.pop(0)
                    self._starts.pop(0)
                    self._release(len(piece.data))
                else:
                    self._release(position - piece.start)
                    piece.data, piece.start = piece.data[position - piece.start :], position
                    self._starts[0] = position
            if gaps and gaps[0].offset <= position:
                gap = gaps.pop(0)
                gap_end = gap.offset + gap.length
                if gap_end > position:
                    flush()
                    out.append(Gap(position, gap_end - position))
                    position = start = gap_end
                continue
            if self._pieces and self._pieces[0].start == position:
                piece = self._pieces.pop(0)
                self._starts.pop(0)
                self._release(len(piece.data))
                chunks.append(piece.data)
                frames.append(piece.frame)
                position = piece.end
                continue
            break
        flush()
        self._pending_gaps = gaps
        self._read = position
        return out

    def _release(self, size: int) -> None:
        self._buffered -= size
        if self.budget is not None:
            self.budget.used -= size

    @property
    def buffered(self) -> int:
        return self._buffered
