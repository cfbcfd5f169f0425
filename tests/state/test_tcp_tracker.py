"""Table-driven TCP tracker tests: segments in, stream numbers, flags, states and history out."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from analyzer.state.tcp_analysis import Flag
from analyzer.state.tcp_conn import EndpointState
from analyzer.state.tcp_facts import ACK, FIN, PSH, RST, SYN, TcpSegment
from analyzer.state.tcp_tracker import SegmentAnalysis, TcpTracker

CLIENT, SERVER = ("10.0.0.1", 40000), ("10.0.0.2", 80)
ISN = {CLIENT: 1000, SERVER: 5000}
MS = 1_000_000


@dataclass(frozen=True)
class Pkt:
    """A segment in relative terms: who sends, flags, relative seq/ack, payload length, time (ms)."""

    sender: tuple[str, int]
    flags: int
    seq: int
    ack: int = 0
    length: int = 0
    ms: float = 0.0
    window: int = 1000
    wscale: int | None = None


def c(flags: int, seq: int, ack: int = 0, length: int = 0, ms: float = 0.0, **kw: int) -> Pkt:
    return Pkt(CLIENT, flags, seq, ack, length, ms, **kw)


def s(flags: int, seq: int, ack: int = 0, length: int = 0, ms: float = 0.0, **kw: int) -> Pkt:
    return Pkt(SERVER, flags, seq, ack, length, ms, **kw)


def run(
    packets: list[Pkt], isn: dict[tuple[str, int], int] | None = None
) -> tuple[TcpTracker, list[SegmentAnalysis]]:
    isns = isn or ISN
    tracker = TcpTracker()
    results = []
    for number, pkt in enumerate(packets, start=1):
        peer = SERVER if pkt.sender == CLIENT else CLIENT
        seg = TcpSegment(
            frame=number,
            timestamp_ns=int(pkt.ms * MS),
            src=pkt.sender[0],
            dst=peer[0],
            sport=pkt.sender[1],
            dport=peer[1],
            seq=(isns[pkt.sender] + pkt.seq) & 0xFFFFFFFF,
            ack=(isns[peer] + pkt.ack) & 0xFFFFFFFF if pkt.flags & ACK else 0,
            flags=pkt.flags,
            window=pkt.window,
            payload_len=pkt.length,
            window_scale=pkt.wscale,
        )
        results.append(tracker.feed(seg))
    return tracker, results


HANDSHAKE = [c(SYN, 0, ms=0), s(SYN | ACK, 0, 1, ms=1), c(ACK, 1, 1, ms=2)]


@pytest.mark.parametrize(
    ("name", "packets", "conn_state", "history"),
    [
        (
            "clean four-way close",
            [
                *HANDSHAKE,
                c(ACK | PSH, 1, 1, 100, ms=3),
                s(ACK, 1, 101, ms=4),
                c(FIN | ACK, 101, 1, ms=5),
                s(ACK, 1, 102, ms=6),
                s(FIN | ACK, 1, 102, ms=7),
                c(ACK, 102, 2, ms=8),
            ],
            "SF",
            "ShADaFf",
        ),
        (
            "simultaneous close",
            [
                *HANDSHAKE,
                c(FIN | ACK, 1, 1, ms=3),
                s(FIN | ACK, 1, 1, ms=3),
                c(ACK, 2, 2, ms=4),
                s(ACK, 2, 2, ms=4),
            ],
            "SF",
            "ShAFfa",
        ),
        ("RST answers the SYN", [c(SYN, 0), s(RST | ACK, 0, 1, ms=1)], "REJ", "Sr"),
        (
            "originator resets",
            [*HANDSHAKE, c(ACK, 1, 1, 10, ms=3), c(RST | ACK, 11, 1, ms=4)],
            "RSTO",
            "ShADR",
        ),
        (
            "responder resets",
            [*HANDSHAKE, c(ACK, 1, 1, 10, ms=3), s(RST | ACK, 1, 11, ms=4)],
            "RSTR",
            "ShADr",
        ),
        ("SYN only", [c(SYN, 0), c(SYN, 0, ms=1000)], "S0", "S"),
        ("SYN and SYN+ACK, no ACK", [c(SYN, 0), s(SYN | ACK, 0, 1, ms=1)], "S1", "Sh"),
        ("SYN then originator RST", [c(SYN, 0), c(RST, 1, ms=1)], "RSTOS0", "SR"),
        (
            "half-closed by the originator",
            [*HANDSHAKE, c(FIN | ACK, 1, 1, ms=3), s(ACK, 1, 2, 50, ms=4)],
            "S2",
            "ShAFd",
        ),
        ("half-closed by the responder", [*HANDSHAKE, s(FIN | ACK, 1, 1, ms=3)], "S3", "ShAf"),
        ("no handshake seen", [c(ACK, 1, 1, 10), s(ACK, 1, 11, ms=1)], "OTH", "Da"),
    ],
)
def test_connection_summary(name: str, packets: list[Pkt], conn_state: str, history: str) -> None:
    tracker, results = run(packets)
    (conn,) = tracker.connections()
    assert (conn.conn_state, conn.history) == (conn_state, history), name
    assert results[-1].conn_state == conn_state


def test_handshake_steps_rtt_and_relative_numbers() -> None:
    tracker, results = run([*HANDSHAKE, c(ACK | PSH, 1, 1, 100, ms=3), s(ACK, 1, 101, ms=5)])
    assert [r.handshake_step for r in results] == ["SYN", "SYN-ACK", "ACK", None, None]
    assert [(r.seq, r.ack, r.nxtseq) for r in results] == [
        (0, 0, 1),
        (0, 1, 1),
        (1, 1, 1),
        (1, 1, 101),
        (1, 101, 1),
    ]
    assert results[2].orig_state is EndpointState.ESTABLISHED
    # tshark prints the iRTT only on frames that carry analysis, from the handshake's ACK on.
    assert results[0].initial_rtt_ns is None
    assert results[3].initial_rtt_ns == 2 * MS
    assert results[4].analysis is not None and results[4].analysis.frame_acked == 4
    assert results[4].analysis.ack_rtt_ns == 2 * MS
    assert results[3].analysis is not None and results[3].analysis.bytes_in_flight == 100
    (conn,) = tracker.connections()
    assert (conn.orig_bytes, conn.resp_bytes, conn.orig_pkts, conn.resp_pkts) == (100, 0, 3, 2)
    assert conn.handshake.syn_frame == 1 and conn.handshake.synack_to_ack_ns == 1 * MS


def flags_of(packets: list[Pkt]) -> list[Flag]:
    return [r.flags for r in run(packets)[1]]


def test_retransmission_after_timeout() -> None:
    flags = flags_of([*HANDSHAKE, c(ACK, 1, 1, 100, ms=3), c(ACK, 1, 1, 100, ms=300)])
    assert flags[-1] == Flag.RETRANSMISSION
    tracker, results = run([*HANDSHAKE, c(ACK, 1, 1, 100, ms=3), c(ACK, 1, 1, 100, ms=300)])
    assert results[-1].analysis is not None and results[-1].analysis.rto_frame == 4
    assert "T" in results[-1].history and next(tracker.connections()).retransmissions == 1


def test_fast_retransmission_after_three_duplicate_acks() -> None:
    packets = [
        *HANDSHAKE,
        c(ACK, 1, 1, 100, ms=10),
        c(ACK, 201, 1, 100, ms=11),  # 101..201 is lost
        s(ACK, 1, 101, ms=12),
        s(ACK, 1, 101, ms=13),
        s(ACK, 1, 101, ms=14),
        s(ACK, 1, 101, ms=15),
        c(ACK, 101, 1, 100, ms=16),
    ]
    _, results = run(packets)
    assert results[4].flags == Flag.LOST_PACKET
    assert [r.analysis.dupack_num for r in results[6:9] if r.analysis] == [1, 2, 3]
    assert results[8].analysis is not None and results[8].analysis.dupack_frame == 6
    assert results[-1].flags == Flag.FAST_RETRANSMISSION


def test_out_of_order_within_the_threshold() -> None:
    flags = flags_of([*HANDSHAKE, c(ACK, 101, 1, 100, ms=10), c(ACK, 1, 1, 100, ms=10.5)])
    assert flags[-2:] == [Flag.LOST_PACKET, Flag.OUT_OF_ORDER]


def test_ack_of_unseen_segment() -> None:
    flags = flags_of([*HANDSHAKE, c(ACK, 1, 1, 100, ms=10), s(ACK, 1, 201, ms=11)])
    assert flags[-1] == Flag.ACK_LOST_PACKET


def test_zero_window_probe_and_update() -> None:
    packets = [
        *HANDSHAKE,
        c(ACK, 1, 1, 100, ms=10),
        s(ACK, 1, 101, ms=11, window=0),
        c(ACK, 101, 1, 1, ms=200),
        s(ACK, 1, 101, ms=201, window=0),
        s(ACK, 1, 101, ms=300, window=2000),
    ]
    tracker, results = run(packets)
    assert [r.flags for r in results[4:]] == [
        Flag.ZERO_WINDOW,
        Flag.ZERO_WINDOW_PROBE,
        Flag.ZERO_WINDOW | Flag.ZERO_WINDOW_PROBE_ACK,
        Flag.WINDOW_UPDATE,
    ]
    assert "w" in next(tracker.connections()).history


def test_keep_alive_and_its_ack() -> None:
    packets = [
        *HANDSHAKE,
        c(ACK, 1, 1, 100, ms=10),
        s(ACK, 1, 101, ms=11),
        c(ACK, 100, 1, ms=5000),
        s(ACK, 1, 101, ms=5001),
    ]
    assert flags_of(packets)[-2:] == [Flag.KEEP_ALIVE, Flag.KEEP_ALIVE_ACK]


def test_window_full_and_scaling() -> None:
    packets = [
        c(SYN, 0, wscale=2),
        s(SYN | ACK, 0, 1, ms=1, wscale=3, window=100),
        c(ACK, 1, 1, ms=2, window=50),
        s(ACK, 1, 1, ms=3, window=25),  # the server advertises 25 << 3 = 200 bytes
        c(ACK, 1, 1, 200, ms=4),
    ]
    _, results = run(packets)
    assert (results[1].window, results[1].window_scalefactor) == (100, None)  # SYNs are never scaled
    assert (results[2].window, results[2].window_scalefactor) == (200, 4)
    assert results[3].window == 200
    assert results[4].flags == Flag.WINDOW_FULL


def test_window_scaling_not_used_when_one_syn_lacks_it() -> None:
    _, results = run([c(SYN, 0, wscale=7), s(SYN | ACK, 0, 1, ms=1), c(ACK, 1, 1, ms=2, window=50)])
    assert (results[2].window, results[2].window_scalefactor) == (50, -2)


def test_port_reuse_after_close_starts_a_new_stream() -> None:
    first = [*HANDSHAKE, c(FIN | ACK, 1, 1, ms=3), s(FIN | ACK, 1, 2, ms=4), c(ACK, 2, 2, ms=5)]
    tracker, results = run([*first, c(SYN, 77777, ms=10)])
    assert [r.stream for r in results] == [0] * 6 + [1]
    assert results[-1].flags == Flag.REUSED_PORTS and results[-1].completeness == 1
    assert [conn.conn_state for conn in tracker.connections()] == ["SF", "S0"]


def test_retransmitted_syn_stays_in_its_stream() -> None:
    _, results = run([c(SYN, 0), c(SYN, 0, ms=1000)])
    assert [r.stream for r in results] == [0, 0]
    assert results[1].flags == Flag.RETRANSMISSION


def test_completeness_shows_the_value_before_the_frame() -> None:
    packets = [
        *HANDSHAKE,
        c(ACK, 1, 1, 10, ms=3),
        c(FIN | ACK, 11, 1, ms=4),
        s(RST | ACK, 1, 12, ms=5),
        c(ACK, 12, 1, ms=6),
    ]
    assert [r.completeness for r in run(packets)[1]] == [0, 1, 3, 7, 15, 31, 63]


def test_sequence_numbers_wrap() -> None:
    isn = {CLIENT: 0xFFFFFFF0, SERVER: 5000}
    _, results = run([*HANDSHAKE, c(ACK, 1, 1, 100, ms=3), s(ACK, 1, 101, ms=4)], isn)
    assert (results[3].seq, results[3].nxtseq) == (1, 101)
    assert results[4].flags == Flag.NONE and results[4].analysis is not None
    assert results[4].analysis.frame_acked == 4
