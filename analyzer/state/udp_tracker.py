"""UDP conversation tracker (RFC 768): udp.stream numbers and per-conversation counts for flows.

Wireshark numbers UDP conversations in order of first appearance of their address/port pair,
in either direction; unlike TCP there is no port-reuse split.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from analyzer.state.community_id import PROTO_UDP, community_id

Endpoint = tuple[str, int]


@dataclass(slots=True)
class UdpConversation:
    """Running counts of one UDP conversation; the originator sent the first datagram."""

    stream: int
    orig: Endpoint
    resp: Endpoint
    start_ns: int
    last_ns: int
    orig_pkts: int = 0
    orig_bytes: int = 0
    resp_pkts: int = 0
    resp_bytes: int = 0


@dataclass(frozen=True, slots=True)
class UdpSummary:
    """One UDP conversation for `flows` (Zeek conn.log vocabulary; bytes are payload bytes)."""

    stream: int
    orig_h: str
    orig_p: int
    resp_h: str
    resp_p: int
    proto: str
    conn_state: str
    start_ns: int
    duration_ns: int
    orig_pkts: int
    orig_bytes: int
    resp_pkts: int
    resp_bytes: int
    community_id: str


class UdpTracker:
    """Feed datagrams in frame order; `feed` returns the udp.stream of each."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[Endpoint, Endpoint], UdpConversation] = {}
        self._all: list[UdpConversation] = []

    def feed(
        self,
        src: str,
        sport: int,
        dst: str,
        dport: int,
        payload_len: int,
        timestamp_ns: int,
        counted: bool = True,
    ) -> int:
        """The udp.stream of a datagram; `counted=False` for headers quoted inside ICMP errors,
        which Wireshark also numbers but which are not traffic of the conversation."""
        a, b = (src, sport), (dst, dport)
        key = (a, b) if a <= b else (b, a)
        conv = self._by_key.get(key)
        if conv is None:
            conv = UdpConversation(len(self._all), a, b, timestamp_ns, timestamp_ns)
            self._by_key[key] = conv
            self._all.append(conv)
        if not counted:
            return conv.stream
        conv.last_ns = timestamp_ns
        if a == conv.orig:
            conv.orig_pkts += 1
            conv.orig_bytes += payload_len
        else:
            conv.resp_pkts += 1
            conv.resp_bytes += payload_len
        return conv.stream

    def connections(self) -> Iterator[UdpSummary]:
        for conv in self._all:
            # Zeek's UDP states: S0 when only the originator spoke, SF when both did.
            state = "SF" if conv.resp_pkts else "S0"
            yield UdpSummary(
                stream=conv.stream,
                orig_h=conv.orig[0],
                orig_p=conv.orig[1],
                resp_h=conv.resp[0],
                resp_p=conv.resp[1],
                proto="udp",
                conn_state=state,
                start_ns=conv.start_ns,
                duration_ns=conv.last_ns - conv.start_ns,
                orig_pkts=conv.orig_pkts,
                orig_bytes=conv.orig_bytes,
                resp_pkts=conv.resp_pkts,
                resp_bytes=conv.resp_bytes,
                community_id=community_id(conv.orig[0], conv.resp[0], PROTO_UDP, conv.orig[1], conv.resp[1]),
            )
