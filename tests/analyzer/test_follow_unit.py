"""TcpFollow's tshark bookkeeping on hand-made segments: overlap, out of order, lost bytes, layout."""

from __future__ import annotations

from analyzer.export.follow import FollowResult, TcpFollow, UdpFollow, format_follow
from analyzer.state.tcp_facts import ACK, PSH, SYN

C, S = ("10.0.0.1", 40000), ("10.0.0.2", 80)


def client(
    follow: TcpFollow, seq: int, data: bytes, ack: int = 1, flags: int = ACK | PSH, frame: int = 0
) -> None:
    follow.feed(C[0], C[1], S[0], S[1], seq, ack, flags, len(data), data, frame)


def server(follow: TcpFollow, seq: int, data: bytes, ack: int, frame: int = 0) -> None:
    follow.feed(S[0], S[1], C[0], C[1], seq, ack, ACK | PSH, len(data), data, frame)


def chunks(result: FollowResult) -> list[tuple[bool, bytes]]:
    return [(chunk.server, chunk.data) for chunk in result.chunks]


def test_retransmission_is_dropped_and_overlap_keeps_only_new_tail() -> None:
    follow = TcpFollow()
    client(follow, 0, b"", ack=0, flags=SYN)
    client(follow, 1, b"hello ")
    client(follow, 1, b"hello ")  # plain retransmission
    client(follow, 4, b"lo world")  # overlaps 3 bytes, brings 5 new ones
    assert chunks(follow.result) == [(False, b"hello "), (False, b"world")]


def test_out_of_order_waits_for_the_gap() -> None:
    follow = TcpFollow()
    client(follow, 1, b"abc")
    client(follow, 7, b"ghi")
    client(follow, 4, b"def")
    assert chunks(follow.result) == [(False, b"abc"), (False, b"def"), (False, b"ghi")]


def test_bytes_acknowledged_but_never_captured_become_a_marker() -> None:
    follow = TcpFollow()
    client(follow, 1, b"abc")
    client(follow, 10, b"xyz")  # bytes 4..9 lost
    server(follow, 1, b"", ack=13)  # the server acknowledges them all
    assert chunks(follow.result) == [
        (False, b"abc"),
        (False, b"[6 bytes missing in capture file]\0"),
        (False, b"xyz"),
    ]


def test_ascii_layout_dots_controls_and_indents_node_1() -> None:
    follow = UdpFollow()
    follow.feed(C[0], C[1], S[0], S[1], b"hi\x1b[2J\r\n\x00", 1)
    follow.feed(S[0], S[1], C[0], C[1], b"ok", 2)
    text = format_follow("udp", "ascii", 3, follow.result)
    assert text == (
        "\n" + "=" * 67 + "\nFollow: udp,ascii\nFilter: udp.stream eq 3\n"
        "Node 0: 10.0.0.1:40000\nNode 1: 10.0.0.2:80\n"
        "9\nhi.[2J\r\n.\n\t2\nok\n" + "=" * 67 + "\n"
    )
    assert "\x1b" not in text


def test_hex_layout_offsets_per_direction_and_trailing_space() -> None:
    follow = UdpFollow()
    follow.feed(C[0], C[1], S[0], S[1], bytes(range(0x41, 0x49)), 1)  # exactly 8 bytes
    follow.feed(C[0], C[1], S[0], S[1], b"Z", 2)
    lines = format_follow("udp", "hex", 0, follow.result).splitlines()
    assert lines[6] == "00000000  41 42 43 44 45 46 47 48" + " " * 27 + "ABCDEFGH"
    assert lines[7] == "00000008  5a" + " " * 48 + "Z"


def test_ipv6_nodes_are_bracketed_and_missing_stream_is_empty() -> None:
    follow = UdpFollow()
    follow.feed("fd77::1", 1, "fd77::2", 2, b"x", 1)
    assert "Node 0: [fd77::1]:1\nNode 1: [fd77::2]:2\n" in format_follow("udp", "raw", 0, follow.result)
    assert "Node 0: :0\nNode 1: :0\n" in format_follow("tcp", "ascii", 9, FollowResult())
