"""TCP facts: the per-segment input of the TCP trackers (RFC 9293 header fields, RFC 7323 options)."""

from __future__ import annotations

from dataclasses import dataclass

# TCP header flag bits, as the 12-bit field holds them (tcp.flags).
FIN = 0x001
SYN = 0x002
RST = 0x004
PSH = 0x008
ACK = 0x010
URG = 0x020
ECE = 0x040
CWR = 0x080
AE = 0x100  # formerly NS (RFC 3540), now the AccECN bit

SEQ_MOD = 1 << 32
# Sequence-space order without a function call, for the per-segment hot paths: with
# d = (a - b) & 0xFFFFFFFF, a is after b (seq_gt) exactly when 0 < d < SEQ_HALF, and before b
# (seq_lt) exactly when d >= SEQ_HALF; the same answers as seq_diff below.
SEQ_HALF = 1 << 31


@dataclass(frozen=True, slots=True)
class TcpSegment:
    """What the trackers need to know about one TCP segment, extracted from a dissection.

    Addresses are text ("10.0.0.1", "fe80::1"); sequence/acknowledgment numbers and the window
    are the raw header values. `payload` is optional: only reassembly needs the bytes themselves;
    `payload_len` is the TCP segment length (tcp.len) even when the capture was truncated.
    """

    frame: int
    timestamp_ns: int
    src: str
    dst: str
    sport: int
    dport: int
    seq: int
    ack: int
    flags: int
    window: int
    payload_len: int
    window_scale: int | None = None
    mss: int | None = None
    sack_permitted: bool = False
    sack_blocks: tuple[tuple[int, int], ...] = ()
    timestamps: tuple[int, int] | None = None
    payload: bytes | None = None

    def has(self, flag: int) -> bool:
        return bool(self.flags & flag)

    @property
    def is_pure_syn(self) -> bool:
        return self.flags & (SYN | ACK) == SYN

    @property
    def is_syn_ack(self) -> bool:
        return self.flags & (SYN | ACK) == SYN | ACK


def seq_diff(a: int, b: int) -> int:
    """a - b in sequence space, as a signed 32-bit number (RFC 1982 serial arithmetic)."""
    d = (a - b) & 0xFFFFFFFF
    return d - SEQ_MOD if d >= 0x80000000 else d


def seq_lt(a: int, b: int) -> bool:
    return seq_diff(a, b) < 0


def seq_le(a: int, b: int) -> bool:
    return seq_diff(a, b) <= 0


def seq_gt(a: int, b: int) -> bool:
    return seq_diff(a, b) > 0


def seq_add(a: int, n: int) -> int:
    return (a + n) & 0xFFFFFFFF
