"""Defragmenter: IPv4 and IPv6 fragments put back together, sans-IO (RFC 791 §3.2, RFC 8200 §4.5).

Fragments go in (a datagram key, the fragment's frame, byte offset, bytes and more-fragments
flag, the capture time); events come out: a `Reassembled` datagram on the fragment that completes
it, an `Evicted` one when the table lets it go. No clock, no I/O: time is the capture's.

What counts as complete, how overlaps are flagged and which bytes win follow Wireshark 4.0's
reassemble.c (fragment_add_check / fragment_add_work), so the trees match tshark's:

- the first fragment without "more fragments" fixes the datagram length; a later one that ends
  elsewhere is flagged MULTIPLE_TAILS;
- the datagram is complete once fragments cover [0, length) without a gap, in any arrival order;
- fragments are laid down in offset order (arrival order among equal offsets); bytes already
  placed win; a fragment that overlaps them is flagged OVERLAP, and OVERLAP_CONFLICT when the
  overlapping bytes differ; a fragment reaching past the length is flagged TOO_LONG;
- a completed datagram leaves the table, so a later fragment with the same key starts afresh.

Wireshark keeps every incomplete datagram for the whole capture. We must stay bounded on hostile
input ("100,000 fragments that never complete"), so unlike Wireshark:

- a datagram still incomplete `timeout_ns` of capture time after its first fragment is dropped
  (60 s: RFC 8200's reassembly timeout, twice Linux's default ipfrag_time of 30 s, so whatever a
  Linux receiver would still have put together, we do too);
- at most `max_pending` datagrams wait at once, holding at most `max_bytes` (fragment bytes plus
  a fixed charge per fragment for its bookkeeping); past either cap the oldest datagram goes;
- a datagram of more than `max_fragments` fragments is dropped (64 KiB in 8-byte fragments is
  8192; more can only be duplicates).

Each `add` costs O(log n) in the datagram's fragment count plus O(n) once, on completion.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import Enum, IntFlag

NS_PER_SECOND = 1_000_000_000
DEFAULT_TIMEOUT_NS = 60 * NS_PER_SECOND
DEFAULT_MAX_PENDING = 4096
DEFAULT_MAX_BYTES = 32 * 1024 * 1024
DEFAULT_MAX_FRAGMENTS = 8192
# What one stored fragment costs besides its bytes (objects, list and heap slots), for the byte cap.
FRAGMENT_OVERHEAD = 160


@dataclass(frozen=True, slots=True)
class DatagramKey:
    """Which datagram a fragment belongs to.

    IPv4 keys on (src, dst, identification, protocol) as RFC 791 says; IPv6 on (src, dst,
    identification) as RFC 8200 says, with `proto` -1.
    """

    version: int
    src: bytes
    dst: bytes
    ident: int
    proto: int = -1


@dataclass(frozen=True, slots=True)
class Fragment:
    """One fragment's payload: `offset` in bytes into the datagram's payload."""

    frame: int
    offset: int
    data: bytes
    more: bool


class Flag(IntFlag):
    """Wireshark's per-fragment findings (FD_OVERLAP, FD_OVERLAPCONFLICT, ...)."""

    NONE = 0
    OVERLAP = 1
    OVERLAP_CONFLICT = 2
    MULTIPLE_TAILS = 4
    TOO_LONG = 8


# Findings that make Wireshark list a fragment as ip.fragment.error rather than ip.fragment.
ERROR_FLAGS = Flag.OVERLAP_CONFLICT | Flag.MULTIPLE_TAILS | Flag.TOO_LONG


@dataclass(frozen=True, slots=True)
class PlacedFragment:
    """A fragment as the reassembled datagram lists it."""

    frame: int
    offset: int
    length: int
    flags: Flag = Flag.NONE


@dataclass(frozen=True, slots=True)
class Reassembled:
    """A datagram completed by the fragment of frame `frame`."""

    key: DatagramKey
    frame: int
    data: bytes
    fragments: tuple[PlacedFragment, ...]  # in offset order, arrival order among equal offsets

    @property
    def flags(self) -> Flag:
        found = Flag.NONE
        for item in self.fragments:
            found |= item.flags
        return found


class EvictReason(Enum):
    TIMEOUT = "timeout"
    TOO_MANY_DATAGRAMS = "too many datagrams"
    TOO_MANY_BYTES = "too many bytes"
    TOO_MANY_FRAGMENTS = "too many fragments"


@dataclass(frozen=True, slots=True)
class Evicted:
    """An incomplete datagram dropped from the table, and the frames of its fragments."""

    key: DatagramKey
    frames: tuple[int, ...]
    reason: EvictReason


Event = Reassembled | Evicted


@dataclass(slots=True)
class _Pending:
    """An incomplete datagram: its fragments in arrival order and how far they reach."""

    first_ns: int
    fragments: list[tuple[Fragment, Flag]] = field(default_factory=list)
    length: int = -1  # the payload length, once a last fragment told it
    covered: int = 0  # bytes from offset 0 on that arrived without a gap
    # (offset, arrival, end) of fragments starting past `covered`, smallest offset first.
    beyond: list[tuple[int, int, int]] = field(default_factory=list)
    cost: int = 0

    def add(self, fragment: Fragment) -> None:
        end = fragment.offset + len(fragment.data)
        flags = Flag.NONE
        if not fragment.more:
            if self.length < 0:
                self.length = end
            elif self.length != end:
                flags = Flag.MULTIPLE_TAILS
        self.fragments.append((fragment, flags))
        self.cost += len(fragment.data) + FRAGMENT_OVERHEAD
        if fragment.offset > self.covered:
            heapq.heappush(self.beyond, (fragment.offset, len(self.fragments), end))
            return
        self.covered = max(self.covered, end)
        while self.beyond and self.beyond[0][0] <= self.covered:
            self.covered = max(self.covered, heapq.heappop(self.beyond)[2])

    @property
    def complete(self) -> bool:
        return self.length >= 0 and self.covered >= self.length

    def assemble(self, key: DatagramKey, frame: int) -> Reassembled:
        """Lay the fragments down as reassemble.c's fragment_add_work does."""
        ordered = sorted(self.fragments, key=lambda pair: pair[0].offset)  # stable: arrival order
        data = bytearray(self.length)
        placed: list[PlacedFragment] = []
        laid = 0  # bytes laid down so far (Wireshark's dfpos)
        for fragment, flags in ordered:
            size = len(fragment.data)
            if size:
                if fragment.offset >= self.length:
                    flags |= Flag.TOO_LONG
                else:
                    usable = size
                    if fragment.offset + size > self.length:
                        flags |= Flag.TOO_LONG
                        usable = self.length - fragment.offset
                    # Never negative: completeness means no gap before this fragment.
                    overlap = max(laid - fragment.offset, 0)
                    if overlap:
                        flags |= Flag.OVERLAP
                        compared = min(size, overlap)
                        placed_bytes = data[fragment.offset : fragment.offset + compared]
                        if placed_bytes != fragment.data[:compared]:
                            flags |= Flag.OVERLAP_CONFLICT
                    if fragment.offset + usable > laid:
                        data[laid : fragment.offset + usable] = fragment.data[overlap:usable]
                        laid = fragment.offset + usable
            placed.append(PlacedFragment(fragment.frame, fragment.offset, size, flags))
        return Reassembled(key, frame, bytes(data), tuple(placed))


class Defragmenter:
    """The table of incomplete datagrams. Feed fragments in capture order with `add`."""

    def __init__(
        self,
        timeout_ns: int = DEFAULT_TIMEOUT_NS,
        max_pending: int = DEFAULT_MAX_PENDING,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_fragments: int = DEFAULT_MAX_FRAGMENTS,
    ) -> None:
        self.timeout_ns = timeout_ns
        self.max_pending = max(max_pending, 1)
        self.max_bytes = max_bytes
        self.max_fragments = max(max_fragments, 1)
        # Oldest first: a datagram's timer starts with its first fragment and is never refreshed
        # (as Linux's), so creation order is also expiry order.
        self._pending: OrderedDict[DatagramKey, _Pending] = OrderedDict()
        self._bytes = 0
        self._now_ns: int | None = None

    @property
    def pending(self) -> int:
        """How many datagrams are waiting for fragments."""
        return len(self._pending)

    @property
    def pending_bytes(self) -> int:
        """What the waiting datagrams cost against `max_bytes`."""
        return self._bytes

    def add(self, key: DatagramKey, fragment: Fragment, time_ns: int) -> list[Event]:
        """Take one fragment; returns what happened: evictions first, then a completion if any."""
        # Capture time never runs backwards for the table (merged interfaces may interleave).
        self._now_ns = time_ns if self._now_ns is None else max(self._now_ns, time_ns)
        events: list[Event] = self._expire(self._now_ns)
        entry = self._pending.get(key)
        if entry is None:
            while len(self._pending) >= self.max_pending:
                events.append(self._evict_oldest(EvictReason.TOO_MANY_DATAGRAMS))
            entry = _Pending(self._now_ns)
            self._pending[key] = entry
        before = entry.cost
        entry.add(fragment)
        self._bytes += entry.cost - before
        if entry.complete:
            self._drop(key)
            events.append(entry.assemble(key, fragment.frame))
            return events
        if len(entry.fragments) > self.max_fragments:
            events.append(self._evict(key, EvictReason.TOO_MANY_FRAGMENTS))
        while self._bytes > self.max_bytes and self._pending:
            events.append(self._evict_oldest(EvictReason.TOO_MANY_BYTES))
        return events

    def expire(self, time_ns: int) -> list[Event]:
        """Drop the datagrams that timed out by `time_ns` (also done by every `add`)."""
        self._now_ns = time_ns if self._now_ns is None else max(self._now_ns, time_ns)
        return self._expire(self._now_ns)

    def _expire(self, now_ns: int) -> list[Event]:
        events: list[Event] = []
        while self._pending:
            oldest = next(iter(self._pending.values()))
            if now_ns - oldest.first_ns <= self.timeout_ns:
                break
            events.append(self._evict_oldest(EvictReason.TIMEOUT))
        return events

    def _evict_oldest(self, reason: EvictReason) -> Evicted:
        return self._evict(next(iter(self._pending)), reason)

    def _evict(self, key: DatagramKey, reason: EvictReason) -> Evicted:
        entry = self._drop(key)
        return Evicted(key, tuple(fragment.frame for fragment, _flags in entry.fragments), reason)

    def _drop(self, key: DatagramKey) -> _Pending:
        entry = self._pending.pop(key)
        self._bytes -= entry.cost
        return entry
