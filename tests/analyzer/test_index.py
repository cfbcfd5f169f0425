"""PacketIndex: compact columns, on-demand rows equal to the sequential summary, byte budget."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

from analyzer.index import BYTES_PER_PACKET, PacketIndex
from analyzer.summary import Summarizer
from captures.pcapfile import RawRecord, iter_records

DATA = Path(__file__).resolve().parent.parent / "data"
ETH = bytes.fromhex("020000000002020000000001")


def test_budget_is_at_most_64_bytes_a_packet() -> None:
    assert BYTES_PER_PACKET <= 64


def test_columns_from_hand_built_records() -> None:
    udp = ETH + bytes.fromhex("0800 4500001e0001000040110000 0a000001 0a000002 a000 0035 000a 0000 6869")
    arp = bytes.fromhex("ffffffffffff020000000001 0806 0001 0800 0604 0001 020000000001 0a000001")
    arp += bytes(6) + bytes.fromhex("0a000002")
    records: list[RawRecord] = [(24, 10, 60, 1, 6, 0, udp), (100, 20, 42, 1, 6, 3, arp)]
    index = PacketIndex()
    index.extend(records)
    assert len(index) == 2
    first, second = index.columns(0), index.columns(1)
    assert (first.source, first.destination, first.src_port, first.dst_port) == (
        "10.0.0.1",
        "10.0.0.2",
        40960,
        53,
    )
    assert (first.protocol, first.wire_len, first.cap_len, first.file_offset) == ("UDP", 60, len(udp), 24)
    assert (second.protocol, second.src_port, second.interface_id) == ("ARP", -1, 3)
    assert second.destination == "ff:ff:ff:ff:ff:ff"
    assert index.summary(0).info == "40960 → 53 Len=2"
    assert index.data(1) == arp


def test_rows_rebuilt_on_demand_equal_the_sequential_pass(tmp_path: Path) -> None:
    # TCP relative numbers and echo pairing need state: the index must have stored it.
    for name in ("http.pcap", "icmp.pcap", "ipv6.pcap"):
        capture = DATA / name
        packed = tmp_path / f"{name}.gz"
        with capture.open("rb") as src, gzip.open(packed, "wb") as dst:
            shutil.copyfileobj(src, dst)
        for path in (capture, packed):
            with PacketIndex.build(path) as index:
                summarizer = Summarizer()
                expected = [summarizer.feed(record) for record in iter_records(path)]
                assert len(index) == len(expected) > 0
                # Backwards, so no row can lean on state left by the previous one.
                for i in reversed(range(len(index))):
                    assert index.summary(i) == expected[i], f"{path.name} frame {i + 1}"
