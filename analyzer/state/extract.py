"""Facts for the trackers, read from a dissection's fields (TCP segments, UDP datagrams).

The trackers never see bytes: these functions pick the values the dissectors already decoded
(tcp.seq_raw, tcp.flags, tcp.options.*, udp.srcport, ip.src / ipv6.src...) out of the tree. Which
layer counts follows tshark 4.0: the outermost TCP segment (a TCP header quoted in an ICMP error is
not traffic of its connection and tshark does no analysis on it), and for UDP also the header an
ICMP error quotes, which tshark gives a udp.stream too.
"""

from __future__ import annotations

from dataclasses import dataclass

from analyzer.model import Dissection, Field, Layer
from analyzer.state.tcp_facts import TcpSegment

IP_PROTOS = ("ip", "ipv6")


@dataclass(frozen=True, slots=True)
class UdpDatagram:
    """What the UDP tracker needs about one datagram. `quoted` marks a header inside an ICMP error."""

    frame: int
    timestamp_ns: int
    src: str
    sport: int
    dst: str
    dport: int
    payload_len: int
    quoted: bool = False


def _int(fields: Layer | dict[str, Field], name: str) -> int | None:
    found = fields.find(name) if isinstance(fields, Layer) else fields.get(name)
    return found.value if found is not None and isinstance(found.value, int) else None


def _addresses(dissection: Dissection, upto: int) -> tuple[str, str] | None:
    """Source and destination of the nearest IP header before layer `upto` at the same depth."""
    depth = dissection.layers[upto].depth
    for layer in reversed(dissection.layers[:upto]):
        if layer.depth != depth or layer.proto not in IP_PROTOS:
            continue
        src, dst = layer.find(f"{layer.proto}.src"), layer.find(f"{layer.proto}.dst")
        if src is None or dst is None:
            return None
        return str(src.value), str(dst.value)
    return None


def _transport(dissection: Dissection, proto: str, depth: int) -> int | None:
    for index, layer in enumerate(dissection.layers):
        if layer.proto == proto and layer.depth == depth:
            return index
    return None


def tcp_segment_from(dissection: Dissection) -> TcpSegment | None:
    """The outer TCP segment of a frame as tracker input, or None.

    None also when the segment length is unknown (an IP fragment, a header shorter than it
    claims): tshark does no sequence analysis on those either.
    """
    index = _transport(dissection, "tcp", 0)
    if index is None:
        return None
    layer = dissection.layers[index]
    fields = layer.first_fields()
    addresses = _addresses(dissection, index)
    sport, dport = _int(fields, "tcp.srcport"), _int(fields, "tcp.dstport")
    seq, ack = _int(fields, "tcp.seq_raw"), _int(fields, "tcp.ack_raw")
    flags, window = _int(fields, "tcp.flags"), _int(fields, "tcp.window_size_value")
    payload_len = _int(fields, "tcp.len")
    if (
        addresses is None
        or sport is None
        or dport is None
        or seq is None
        or ack is None
        or flags is None
        or window is None
        or payload_len is None
    ):
        return None
    timestamps: tuple[int, int] | None = None
    tsval, tsecr = _int(fields, "tcp.options.timestamp.tsval"), _int(fields, "tcp.options.timestamp.tsecr")
    if tsval is not None and tsecr is not None:
        timestamps = (tsval, tsecr)
    payload = fields.get("tcp.payload")
    return TcpSegment(
        frame=dissection.frame.number,
        timestamp_ns=dissection.frame.timestamp_ns,
        src=addresses[0],
        dst=addresses[1],
        sport=sport,
        dport=dport,
        seq=seq,
        ack=ack,
        flags=flags,
        window=window,
        payload_len=payload_len,
        window_scale=_int(fields, "tcp.options.wscale.shift"),
        mss=_int(fields, "tcp.options.mss_val"),
        sack_permitted="tcp.options.sack_perm" in fields,
        sack_blocks=_sack_blocks(layer),
        timestamps=timestamps,
        payload=payload.value if payload is not None and isinstance(payload.value, bytes) else None,
    )


def _sack_blocks(layer: Layer) -> tuple[tuple[int, int], ...]:
    """(left, right) raw edges of every SACK block, in option order.

    These are the dissector's raw edges: extract facts before the annotator makes them relative.
    """
    lefts = [f.value for f in layer.walk() if f.name == "tcp.options.sack_le" and isinstance(f.value, int)]
    rights = [f.value for f in layer.walk() if f.name == "tcp.options.sack_re" and isinstance(f.value, int)]
    return tuple(zip(lefts, rights, strict=False))


def udp_datagram_from(dissection: Dissection) -> UdpDatagram | None:
    """The frame's UDP datagram, else the UDP header an ICMP error quotes (tshark numbers both)."""
    for depth, quoted in ((0, False), (1, True)):
        index = _transport(dissection, "udp", depth)
        if index is None:
            continue
        layer = dissection.layers[index]
        addresses = _addresses(dissection, index)
        sport, dport = _int(layer, "udp.srcport"), _int(layer, "udp.dstport")
        if addresses is None or sport is None or dport is None:
            return None
        length = _int(layer, "udp.length")
        return UdpDatagram(
            frame=dissection.frame.number,
            timestamp_ns=dissection.frame.timestamp_ns,
            src=addresses[0],
            sport=sport,
            dst=addresses[1],
            dport=dport,
            payload_len=max((length or 0) - 8, 0) if not quoted else 0,
            quoted=quoted,
        )
    return None
