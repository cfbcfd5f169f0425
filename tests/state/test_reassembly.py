"""StreamReassembler edge cases (the ones Wireshark's follow-stream tests exercise) and caps."""

from __future__ import annotations

from analyzer.state.reassembly import Budget, Conflict, Gap, Message, StreamReassembler

ISN = 1000


def stream() -> StreamReassembler:
    r = StreamReassembler()
    r.add(ISN, b"", frame=1, syn=True)
    return r


def test_in_order_segments_merge_with_their_frames() -> None:
    r = stream()
    r.add(ISN + 1, b"GET ", 2)
    r.add(ISN + 5, b"/ HTTP", 3)
    assert r.pop() == [Message(0, b"GET / HTTP", (2, 3))]
    assert r.pop() == []


def test_swapped_segments() -> None:
    r = stream()
    r.add(ISN + 4, b"def", 3)
    assert r.pop() == []
    r.add(ISN + 1, b"abc", 2)
    assert r.pop() == [Message(0, b"abcdef", (2, 3))]


def test_overlap_with_same_bytes_is_deduplicated() -> None:
    r = stream()
    r.add(ISN + 1, b"abcd", 2)
    r.add(ISN + 3, b"cdef", 3)
    assert r.pop() == [Message(0, b"abcdef", (2, 3))]
    assert r.conflicts == []


def test_overlap_with_different_bytes_keeps_the_first_copy() -> None:
    r = stream()
    r.add(ISN + 5, b"EFGH", 2)
    r.add(ISN + 1, b"abcdXXGH", 3)
    assert r.pop() == [Message(0, b"abcdEFGH", (3, 2))]
    assert r.conflicts == [Conflict(4, 4, first_frame=2, frame=3)]  # the whole overlap is reported


def test_retransmission_of_delivered_bytes_is_ignored() -> None:
    r = stream()
    r.add(ISN + 1, b"abc", 2)
    assert r.pop() == [Message(0, b"abc", (2,))]
    r.add(ISN + 1, b"abcdef", 3)
    assert r.pop() == [Message(3, b"def", (3,))]


def test_lost_but_acknowledged_becomes_a_gap() -> None:
    r = stream()
    r.add(ISN + 1, b"abc", 2)
    r.add(ISN + 7, b"ghi", 4)  # 4..6 never captured
    r.acknowledged(ISN + 10)
    assert r.pop() == [Message(0, b"abc", (2,)), Gap(3, 3), Message(6, b"ghi", (4,))]


def test_retransmitted_after_gap_fills_it() -> None:
    r = stream()
    r.add(ISN + 1, b"abc", 2)
    r.add(ISN + 7, b"ghi", 3)
    assert r.pop() == [Message(0, b"abc", (2,))]
    r.add(ISN + 4, b"def", 5)
    assert r.pop() == [Message(3, b"defghi", (5, 3))]


def test_only_zero_length_segments() -> None:
    r = stream()
    for frame in range(2, 6):
        r.add(ISN + 1, b"", frame)
    r.acknowledged(ISN + 1)
    assert r.pop() == []
    assert r.buffered == 0


def test_finish_declares_remaining_holes() -> None:
    r = stream()
    r.add(ISN + 4, b"def", 3)
    r.finish()
    assert r.pop() == [Gap(0, 3), Message(3, b"def", (3,))]


def test_stream_cap_is_flagged_not_raised() -> None:
    r = StreamReassembler(stream_cap=8)
    r.add(ISN, b"", 1, syn=True)
    r.add(ISN + 11, b"0123456789", 2)  # out of order and over the cap: dropped
    assert r.capped and r.buffered == 0
    r.add(ISN + 1, b"abcd", 3)
    assert r.pop() == [Message(0, b"abcd", (3,))]


def test_total_budget_is_shared_and_released() -> None:
    budget = Budget(limit=6)
    a, b = StreamReassembler(budget=budget), StreamReassembler(budget=budget)
    a.add(ISN, b"", 1, syn=True)
    b.add(ISN, b"", 1, syn=True)
    a.add(ISN + 2, b"xyzw", 2)
    b.add(ISN + 2, b"xyzw", 3)
    assert budget.used == 4 and b.capped and not a.capped
    a.add(ISN + 1, b"a", 4)
    assert a.pop() == [Message(0, b"axyzw", (4, 2))]
    assert budget.used == 0


def test_sequence_wrap_keeps_offsets_increasing() -> None:
    r = StreamReassembler()
    r.add(0xFFFFFFFE, b"", 1, syn=True)
    r.add(0xFFFFFFFF, b"ab", 2)
    r.add(0x00000001, b"cd", 3)
    assert r.pop() == [Message(0, b"abcd", (2, 3))]
