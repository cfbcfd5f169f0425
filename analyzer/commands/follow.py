"""`layerscope follow -r FILE --stream N`: one stream's payload as `tshark -q -z follow` prints it."""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from analyzer.commands.common import EXIT_INPUT, EXIT_OK, Streams
from analyzer.export.flows_facts import PacketFacts, UdpFact, iter_facts
from analyzer.export.follow import FORMATS, FollowResult, TcpFollow, UdpFollow, write_follow
from analyzer.state.tcp_facts import TcpSegment
from analyzer.state.tcp_tracker import TcpTracker
from analyzer.state.udp_tracker import UdpTracker
from captures.pcapfile import CaptureError, open_capture

NAME = "follow"


def _stream_number(text: str) -> int:
    try:
        number = int(text, 10)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f'the stream number "{text}" is not a number 0 or above')
    return number


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        NAME,
        help="print one TCP or UDP stream's payload, like tshark -z follow",
        description="Both directions of one stream, reassembled and de-duplicated as tshark 4.0 does.",
    )
    parser.add_argument("-r", dest="file", metavar="FILE", required=True, help="capture file (- is stdin)")
    parser.add_argument(
        "--stream",
        dest="stream",
        metavar="N",
        type=_stream_number,
        required=True,
        help="tcp.stream / udp.stream",
    )
    parser.add_argument("--proto", dest="proto", choices=("tcp", "udp"), default="tcp", help="protocol")
    parser.add_argument("--format", dest="mode", choices=FORMATS, default="ascii", help="output format")
    parser.set_defaults(run=run)


def follow_stream(packets: Iterable[PacketFacts], proto: str, stream: int) -> FollowResult:
    """Number every stream as tshark does (tcp.stream / udp.stream) and follow the wanted one.

    Headers quoted inside ICMP errors get stream numbers but are never followed (tshark's taps
    skip error packets).
    """
    if proto == "udp":
        udp_tracker, udp_follow = UdpTracker(), UdpFollow()
        for packet in packets:
            fact = packet.fact
            if not isinstance(fact, UdpFact):
                continue
            d = fact.datagram
            number = udp_tracker.feed(
                d.src, d.sport, d.dst, d.dport, d.payload_len, d.timestamp_ns, not d.quoted
            )
            if number == stream and not d.quoted:
                udp_follow.feed(d.src, d.sport, d.dst, d.dport, fact.payload, d.frame)
        return udp_follow.result
    tcp_tracker, tcp_follow = TcpTracker(), TcpFollow()
    for packet in packets:
        segment = packet.fact
        if not isinstance(segment, TcpSegment):
            continue
        analysis = tcp_tracker.feed(segment)
        if analysis.stream != stream:
            continue
        tcp_follow.feed(
            segment.src,
            segment.sport,
            segment.dst,
            segment.dport,
            analysis.seq,
            analysis.ack,
            segment.flags,
            segment.payload_len,
            segment.payload or b"",
            segment.frame,
        )
    return tcp_follow.result


def run(args: argparse.Namespace, streams: Streams) -> int:
    """Print the stream; 0, or 2 for an unreadable capture (as tshark)."""
    try:
        reader = open_capture(args.file)
    except (CaptureError, OSError, EOFError) as bad:
        streams.warn(str(bad))
        return EXIT_INPUT
    with reader:
        result = follow_stream(iter_facts(reader.records(), streams.strict), args.proto, args.stream)
        warnings = list(reader.warnings)
    # Every byte of the report is printable ASCII, tab, CR or LF (tshark's ascii mode keeps CR).
    write_follow(streams.out, args.proto, args.mode, args.stream, result)
    streams.out.flush()
    if result.client is None:
        streams.warn(f"no {args.proto} stream {args.stream} in {args.file}")
    for warning in warnings:
        streams.warn(warning)
    return EXIT_INPUT if warnings else EXIT_OK
