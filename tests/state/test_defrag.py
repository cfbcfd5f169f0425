"""The Defragmenter table: completion in any order, overlaps, tails, keys, timeouts and bounds."""

from __future__ import annotations

import itertools
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.state.defrag import (
    NS_PER_SECOND,
    DatagramKey,
    Defragmenter,
    Event,
    Evicted,
    EvictReason,
    Flag,
    Fragment,
    PlacedFragment,
    Reassembled,
)

KEY = DatagramKey(4, b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02", 0x1234, 17)
PAYLOAD = bytes(range(24))


def piece(frame: int, start: int, end: int, more: bool = True, data: bytes = PAYLOAD) -> Fragment:
    return Fragment(frame, start, data[start:end], more)


def feed(
    table: Defragmenter, fragments: list[Fragment], key: DatagramKey = KEY, step_ns: int = 0
) -> list[Event]:
    events: list[Event] = []
    for index, fragment in enumerate(fragments):
        events += table.add(key, fragment, index * step_ns)
    return events


def completed(events: list[Event]) -> list[Reassembled]:
    return [event for event in events if isinstance(event, Reassembled)]


def test_in_order_fragments_complete_on_the_last() -> None:
    table = Defragmenter()
    assert table.add(KEY, piece(1, 0, 8), 0) == []
    assert table.add(KEY, piece(2, 8, 16), 0) == []
    (done,) = table.add(KEY, piece(3, 16, 24, more=False), 0)
    assert isinstance(done, Reassembled)
    assert done.frame == 3 and done.data == PAYLOAD and done.flags == Flag.NONE
    assert done.fragments == (PlacedFragment(1, 0, 8), PlacedFragment(2, 8, 8), PlacedFragment(3, 16, 8))
    assert table.pending == 0 and table.pending_bytes == 0


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_any_arrival_order_completes_on_the_last_arrival(order: tuple[int, ...]) -> None:
    pieces = [piece(1, 0, 6), piece(2, 6, 12), piece(3, 12, 18), piece(4, 18, 24, more=False)]
    table = Defragmenter()
    arrivals = [pieces[index] for index in order]
    for fragment in arrivals[:-1]:
        assert table.add(KEY, fragment, 0) == []
    (done,) = table.add(KEY, arrivals[-1], 0)
    assert isinstance(done, Reassembled)
    assert done.data == PAYLOAD and done.frame == arrivals[-1].frame
    assert [item.frame for item in done.fragments] == [1, 2, 3, 4]  # listed in offset order


# (fragments, expected data, expected (frame, offset, length, flags) per listed fragment)
OVERLAP_CASES = [
    pytest.param(
        [piece(1, 0, 8), piece(2, 0, 8), piece(3, 8, 24, more=False)],
        PAYLOAD,
        [(1, 0, 8, Flag.NONE), (2, 0, 8, Flag.OVERLAP), (3, 8, 16, Flag.NONE)],
        id="duplicate",
    ),
    pytest.param(
        [piece(1, 0, 8), Fragment(2, 0, b"X" * 8, True), piece(3, 8, 24, more=False)],
        PAYLOAD,  # the bytes laid down first win, as in Wireshark
        [(1, 0, 8, Flag.NONE), (2, 0, 8, Flag.OVERLAP | Flag.OVERLAP_CONFLICT), (3, 8, 16, Flag.NONE)],
        id="conflicting-duplicate",
    ),
    pytest.param(
        [piece(1, 0, 16), piece(2, 8, 24, more=False)],
        PAYLOAD,
        [(1, 0, 16, Flag.NONE), (2, 8, 16, Flag.OVERLAP)],
        id="partial-overlap-same-bytes",
    ),
    pytest.param(
        [piece(1, 0, 16), Fragment(2, 8, b"Y" * 16, False)],
        PAYLOAD[:16] + b"Y" * 8,
        [(1, 0, 16, Flag.NONE), (2, 8, 16, Flag.OVERLAP | Flag.OVERLAP_CONFLICT)],
        id="partial-overlap-conflict",
    ),
    pytest.param(
        [piece(1, 16, 24, more=False), piece(2, 0, 24)],
        PAYLOAD,
        [(2, 0, 24, Flag.NONE), (1, 16, 8, Flag.OVERLAP)],
        id="later-fragment-covers-all",
    ),
    pytest.param(
        [piece(1, 0, 8), piece(2, 16, 24, more=False), piece(3, 16, 32, more=False, data=bytes(32)),
         piece(4, 8, 16)],
        PAYLOAD,
        [(1, 0, 8, Flag.NONE), (4, 8, 8, Flag.NONE), (2, 16, 8, Flag.NONE),
         (3, 16, 16, Flag.MULTIPLE_TAILS | Flag.TOO_LONG | Flag.OVERLAP | Flag.OVERLAP_CONFLICT)],
        id="multiple-tails",
    ),
    pytest.param(
        [piece(1, 0, 8), piece(2, 8, 16, more=False), piece(3, 16, 24)],
        PAYLOAD[:16],
        [(1, 0, 8, Flag.NONE), (2, 8, 8, Flag.NONE)],
        id="fragment-after-completion-starts-anew",
    ),
    pytest.param(
        [piece(1, 8, 24), piece(2, 0, 8), Fragment(3, 16, b"", False)],
        PAYLOAD[:16],
        [(2, 0, 8, Flag.NONE), (1, 8, 16, Flag.TOO_LONG), (3, 16, 0, Flag.NONE)],
        id="too-long-and-empty-tail",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("fragments", "data", "listed"), OVERLAP_CASES)
def test_overlaps_tails_and_lengths(
    fragments: list[Fragment], data: bytes, listed: list[tuple[int, int, int, Flag]]
) -> None:
    table = Defragmenter()
    (done,) = completed(feed(table, fragments))
    assert done.data == data
    assert [(item.frame, item.offset, item.length, item.flags) for item in done.fragments] == listed


def test_fragment_arriving_after_completion_waits_in_a_new_datagram() -> None:
    table = Defragmenter()
    feed(table, [piece(1, 0, 8), piece(2, 8, 16, more=False), piece(3, 16, 24)])
    assert table.pending == 1


@pytest.mark.parametrize(
    "other",
    [
        DatagramKey(4, b"\x0a\x00\x00\x09", KEY.dst, KEY.ident, KEY.proto),
        DatagramKey(4, KEY.src, b"\x0a\x00\x00\x09", KEY.ident, KEY.proto),
        DatagramKey(4, KEY.src, KEY.dst, KEY.ident + 1, KEY.proto),
        DatagramKey(4, KEY.src, KEY.dst, KEY.ident, 6),
        DatagramKey(6, KEY.src, KEY.dst, KEY.ident),
    ],
)
def test_fragments_of_different_keys_never_mix(other: DatagramKey) -> None:
    table = Defragmenter()
    assert table.add(KEY, piece(1, 0, 8), 0) == []
    assert table.add(other, piece(2, 8, 24, more=False), 0) == []
    assert table.pending == 2
    (done,) = table.add(KEY, piece(3, 8, 24, more=False), 0)
    assert isinstance(done, Reassembled) and done.key == KEY and done.data == PAYLOAD


def test_incomplete_datagram_times_out_by_capture_time() -> None:
    table = Defragmenter(timeout_ns=60 * NS_PER_SECOND)
    assert table.add(KEY, piece(1, 0, 8), 0) == []
    assert table.add(KEY, piece(2, 8, 16), 60 * NS_PER_SECOND) == []  # exactly 60 s: still waiting
    events = table.add(KEY, piece(3, 16, 24, more=False), 60 * NS_PER_SECOND + 1)
    assert events == [Evicted(KEY, (1, 2), EvictReason.TIMEOUT)]  # and frame 3 starts a new one
    assert table.pending == 1


def test_time_going_backwards_does_not_revive_or_expire() -> None:
    table = Defragmenter(timeout_ns=10)
    table.add(KEY, piece(1, 0, 8), 100)
    assert table.expire(50) == []  # an earlier timestamp (another interface) changes nothing
    assert table.expire(111) == [Evicted(KEY, (1,), EvictReason.TIMEOUT)]


def key_number(number: int) -> DatagramKey:
    return DatagramKey(4, KEY.src, KEY.dst, number, 17)


def test_pending_datagrams_are_capped_oldest_first() -> None:
    table = Defragmenter(max_pending=2)
    table.add(key_number(1), piece(1, 0, 8), 0)
    table.add(key_number(2), piece(2, 0, 8), 0)
    events = table.add(key_number(3), piece(3, 0, 8), 0)
    assert events == [Evicted(key_number(1), (1,), EvictReason.TOO_MANY_DATAGRAMS)]
    assert table.pending == 2


def test_pending_bytes_are_capped_oldest_first() -> None:
    table = Defragmenter(max_bytes=2000)
    table.add(key_number(1), Fragment(1, 0, bytes(800), True), 0)
    table.add(key_number(2), Fragment(2, 0, bytes(800), True), 0)
    events = table.add(key_number(3), Fragment(3, 0, bytes(800), True), 0)
    # Each costs 800 bytes plus the bookkeeping charge: two fit in 2000, three do not.
    assert events == [Evicted(key_number(1), (1,), EvictReason.TOO_MANY_BYTES)]
    assert table.pending == 2 and 0 < table.pending_bytes <= 2000


def test_a_datagram_of_too_many_fragments_is_dropped() -> None:
    table = Defragmenter(max_fragments=3)
    events = feed(table, [piece(1, 0, 8)] * 4)
    assert events == [Evicted(KEY, (1, 1, 1, 1), EvictReason.TOO_MANY_FRAGMENTS)]
    assert table.pending == 0 and table.pending_bytes == 0


@pytest.mark.parametrize("shape", ["distinct datagrams", "one datagram", "duplicates"])
def test_100000_fragments_that_never_complete_stay_bounded(shape: str) -> None:
    table = Defragmenter(max_pending=1024, max_bytes=4 * 1024 * 1024)
    chunk = bytes(64)
    tracemalloc.start()
    try:
        for number in range(100_000):
            if shape == "distinct datagrams":
                key, offset = key_number(number), 8
            elif shape == "one datagram":
                key, offset = KEY, 8 + 8 * number  # no first fragment: never complete
            else:
                key, offset = key_number(number % 7), 8
            table.add(key, Fragment(number, offset, chunk, True), number)
            assert table.pending <= 1024 and table.pending_bytes <= 4 * 1024 * 1024
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 12 * 1024 * 1024, f"peak {peak} bytes"


def cut(payload: bytes, cuts: list[int]) -> list[tuple[int, int]]:
    points = sorted({0, len(payload), *(c % len(payload) for c in cuts)})
    return list(itertools.pairwise(points))


@settings(max_examples=200, deadline=None)
@given(
    payload=st.binary(min_size=1, max_size=200),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12),
    duplicates=st.lists(st.integers(min_value=0, max_value=50), max_size=4),
    order=st.randoms(use_true_random=False),
)
def test_random_splits_reassemble_to_the_payload_on_the_first_complete_set(
    payload: bytes, cuts: list[int], duplicates: list[int], order: object
) -> None:
    ranges = cut(payload, cuts)
    ranges += [ranges[index % len(ranges)] for index in duplicates]
    order.shuffle(ranges)  # type: ignore[attr-defined]
    table = Defragmenter()
    seen: set[tuple[int, int]] = set()
    distinct = set(ranges)
    for frame, (start, end) in enumerate(ranges, 1):
        seen.add((start, end))
        events = table.add(KEY, Fragment(frame, start, payload[start:end], end < len(payload)), 0)
        if seen == distinct:
            (done,) = events
            assert isinstance(done, Reassembled) and done.data == payload and done.frame == frame
            assert not done.flags & Flag.OVERLAP_CONFLICT
            assert len(done.fragments) == frame
            return
        assert events == []
    raise AssertionError("never completed")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 300), st.binary(max_size=40), st.booleans(), st.integers(0, 3)), max_size=30
    )
)
def test_arbitrary_fragments_never_raise_and_keep_the_books(
    fragments: list[tuple[int, bytes, bool, int]],
) -> None:
    table = Defragmenter(max_pending=3, max_bytes=2000, max_fragments=10)
    for frame, (offset, data, more, ident) in enumerate(fragments, 1):
        for event in table.add(key_number(ident), Fragment(frame, offset, data, more), frame):
            if isinstance(event, Reassembled):
                offsets = [item.offset for item in event.fragments]
                assert offsets == sorted(offsets) and event.frame == frame
                assert len(event.data) <= max(item.offset + item.length for item in event.fragments)
        assert table.pending <= 3 and table.pending_bytes <= 2000
    assert table.pending_bytes >= 0
