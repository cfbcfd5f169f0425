"""`follow`: one TCP or UDP stream's payload, both directions, laid out as `tshark -z follow` does.

tshark 4.0 keeps one chunk per segment that brings new bytes (retransmitted bytes are dropped,
a segment that partly overlaps keeps only its new tail, out-of-order segments wait until the gap
before them fills, and when the peer acknowledges bytes that never appeared a
"[N bytes missing in capture file]" chunk stands in for them). `TcpFollow` replays exactly that
bookkeeping on tshark's relative sequence numbers; analyzer.state's StreamReassembler merges
contiguous bytes and so cannot reproduce tshark's chunk boundaries, which the output shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TextIO

from analyzer.state.tcp_facts import SYN, seq_diff

SEPARATOR = "=" * 67 + "\n"
FORMATS = ("ascii", "hex", "raw")
_U32 = 0xFFFFFFFF
# ascii: printable ASCII as is, CR and LF kept (tshark keeps them), everything else a dot.
_ASCII = bytes(b if 0x20 <= b < 0x7F or b in (0x0A, 0x0D) else 0x2E for b in range(256))
_HEX_ASCII = bytes(b if 0x20 <= b < 0x7F else 0x2E for b in range(256))


@dataclass(slots=True)
class Chunk:
    """Bytes one node sent; `server` is True for node 1 (the one that did not send first)."""

    server: bool
    data: bytes
    frame: int
    seq: int = 0


Endpoint = tuple[str, int]


@dataclass(slots=True)
class FollowResult:
    """The two nodes (node 0 sent the first packet of the stream) and the chunks in order."""

    client: Endpoint | None = None
    server: Endpoint | None = None
    chunks: list[Chunk] = field(default_factory=list)

    def side(self, src: str, sport: int, dst: str, dport: int) -> bool:
        """True when the sender is node 1; the first packet seen makes its sender node 0."""
        if self.client is None:
            self.client, self.server = (src, sport), (dst, dport)
        return (src, sport) != self.client


class UdpFollow:
    """tshark's follow_udp: every datagram's payload is a chunk."""

    def __init__(self) -> None:
        self.result = FollowResult()

    def feed(self, src: str, sport: int, dst: str, dport: int, payload: bytes, frame: int) -> None:
        server = self.result.side(src, sport, dst, dport)
        self.result.chunks.append(Chunk(server, payload, frame))


class TcpFollow:
    """tshark 4.0's follow_tcp_tap_listener, fed with relative sequence/acknowledgment numbers."""

    def __init__(self) -> None:
        self.result = FollowResult()
        self._next_seq = [0, 0]  # next expected relative sequence number per node (0 = unset)
        self._written = [0, 0]
        self._pending: list[list[Chunk]] = [[], []]  # out-of-order chunks per node

    def feed(
        self,
        src: str,
        sport: int,
        dst: str,
        dport: int,
        seq: int,
        ack: int,
        flags: int,
        seglen: int,
        payload: bytes,
        frame: int,
    ) -> None:
        """One segment of the stream: `seq` relative, `ack` relative when the ACK flag is set."""
        server = self.result.side(src, sport, dst, dport)
        me, peer = int(server), int(not server)
        if flags & SYN:
            seq = (seq + 1) & _U32
        # This segment may acknowledge bytes of the peer that were never captured.
        while self._pending[peer] and self._check_pending(peer, ack, frame, use_ack=True):
            pass
        if self._written[me] == 0 and self._next_seq[me] == 0:
            self._next_seq[me] = seq
        data = payload
        length = seglen
        expected = self._next_seq[me]
        if seq_diff(seq, expected) < 0:
            end = (seq + length) & _U32
            if seq_diff(end, expected) > 0:  # a retransmission that also brings new bytes
                skip = (expected - seq) & _U32
                data = data[skip:] if len(data) > skip else b""
                seq, length = expected, (end - expected) & _U32
        if not data or seq_diff(seq, expected) < 0:
            return
        chunk = Chunk(server, data, frame, seq)
        if seq == expected:
            self._next_seq[me] = (expected + length) & _U32
            self._written[me] += len(data)
            self.result.chunks.append(chunk)
            while self._check_pending(me, 0, frame, use_ack=False):
                pass
        else:
            self._pending[me].append(chunk)

    def _check_pending(self, node: int, ack: int, frame: int, use_ack: bool) -> bool:
        """tshark's check_follow_fragments: place one waiting chunk; True if something changed."""
        pending = self._pending[node]
        if not pending:
            return False
        expected = self._next_seq[node]
        lowest = pending[0].seq
        for index, chunk in enumerate(pending):
            if seq_diff(lowest, chunk.seq) > 0:
                lowest = chunk.seq
            if seq_diff(chunk.seq, expected) < 0:
                end = (chunk.seq + len(chunk.data)) & _U32
                if seq_diff(end, expected) > 0:
                    skip = (expected - chunk.seq) & _U32
                    if len(chunk.data) > skip:
                        tail = chunk.data[skip:]
                        self.result.chunks.append(Chunk(chunk.server, tail, chunk.frame))
                    self._next_seq[node] = (expected + len(chunk.data) - skip) & _U32
                del pending[index]
                return True
            if chunk.seq == expected:
                if chunk.data:
                    self.result.chunks.append(chunk)
                self._next_seq[node] = (expected + len(chunk.data)) & _U32
                del pending[index]
                return True
        if use_ack and seq_diff(ack, lowest) > 0:
            missing = seq_diff(lowest, expected)
            # tshark stores the C string with its terminating NUL, which shows as one more byte.
            text = f"[{missing} bytes missing in capture file]".encode() + b"\0"
            self.result.chunks.append(Chunk(bool(node), text, frame, lowest))
            self._next_seq[node] = lowest
            return True
        return False


# -- output ---------------------------------------------------------------------------------------


def _node(endpoint: Endpoint | None, ipv6: bool) -> str:
    if endpoint is None:
        return ":0"  # tshark's empty address and port 0 when the stream has no packet
    host, port = endpoint
    return f"[{host}]:{port}" if ipv6 else f"{host}:{port}"


def _hex_lines(prefix: str, offset: int, data: bytes) -> list[str]:
    """tshark's follow_print_hex: 16 bytes a line, an extra space after the 8th, one trailing
    space dropped."""
    lines: list[str] = []
    for start in range(0, len(data), 16):
        row = data[start : start + 16]
        hex_part = " ".join(f"{b:02x}" for b in row[:8])
        if len(row) > 8:
            hex_part += "  " + " ".join(f"{b:02x}" for b in row[8:])
        text = row[:8].translate(_HEX_ASCII).decode("ascii")
        if len(row) >= 8:
            text += " " + row[8:].translate(_HEX_ASCII).decode("ascii")
        line = f"{offset + start:08X}  {hex_part:<48}  {text}"
        if line.endswith(" "):
            line = line[:-1]
        lines.append(prefix + line + "\n")
    return lines


def format_follow(proto: str, mode: str, stream: int, result: FollowResult) -> str:
    """The whole `tshark -q -z follow,PROTO,MODE,STREAM` report."""
    if mode not in FORMATS:
        raise ValueError(f"unknown follow format {mode!r}")
    ipv6 = result.client is not None and ":" in result.client[0]
    parts = [
        "\n",
        SEPARATOR,
        f"Follow: {proto},{mode}\n",
        f"Filter: {proto}.stream eq {stream}\n",
        f"Node 0: {_node(result.client, ipv6)}\n",
        f"Node 1: {_node(result.server, ipv6)}\n",
    ]
    positions = [0, 0]
    for chunk in result.chunks:
        prefix = "\t" if chunk.server else ""
        if mode == "ascii":
            parts.append(f"{prefix}{len(chunk.data)}\n")
            parts.append(chunk.data.translate(_ASCII).decode("ascii") + "\n")
        elif mode == "raw":
            parts.append(prefix + chunk.data.hex() + "\n")
        else:
            side = int(chunk.server)
            parts.extend(_hex_lines(prefix, positions[side], chunk.data))
            positions[side] += len(chunk.data)
    parts.append(SEPARATOR)
    return "".join(parts)


def write_follow(out: TextIO, proto: str, mode: str, stream: int, result: FollowResult) -> None:
    out.write(format_follow(proto, mode, stream, result))
