"""Frame: one captured frame as read from a file or an interface, with no protocol parsing."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Frame:
    """Raw bytes plus capture metadata; the unit every capture backend yields.

    `timestamp_ns` is nanoseconds since the Unix epoch (integers keep tshark's nine
    decimals exact); `wire_len` is the original length, `data` holds only what was captured.
    """

    number: int
    timestamp_ns: int
    data: bytes
    wire_len: int
    linktype: int
    interface_id: int = 0
    interface_name: str | None = None
    comments: tuple[str, ...] = field(default=())
    file_offset: int = -1
    # Decimal digits of timestamp resolution the file records (6 for µs pcap, 9 for ns).
    ts_digits: int = 6
    # False for pcapng Simple Packet Blocks, which record no time (tshark leaves time fields empty).
    has_timestamp: bool = True
    # 1-based pcapng section the frame was read from (tshark's frame.section_number); 0 for pcap.
    section: int = 0

    @property
    def cap_len(self) -> int:
        return len(self.data)
