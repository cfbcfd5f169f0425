"""The fast path and the full tree agree: index columns equal the dissection's fields, every packet."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.index import PacketIndex
from analyzer.model import Dissection
from analyzer.session import iter_dissections

DATA = Path(__file__).resolve().parent.parent / "data"


def captures() -> list[Path]:
    patterns = ("*.pcap", "*.pcapng", "*.pcap.gz", "*.pcapng.gz")
    return sorted({path for pattern in patterns for path in DATA.glob(pattern)})


def outer_show(dissection: Dissection, *names: str) -> str | None:
    """The first of `names` found in the top-level (not ICMP-quoted) layers, as tshark shows it."""
    for name in names:
        for layer in dissection.layers:
            if layer.depth:
                continue
            found = layer.find(name)
            if found is not None:
                return found.show
    return None


def epoch_text(stamp: int) -> str:
    seconds, nanos = divmod(stamp, 1_000_000_000)
    return f"{seconds}.{nanos:09d}"


@pytest.mark.parametrize("capture", captures(), ids=lambda p: p.name)
def test_index_columns_equal_full_dissection(capture: Path) -> None:
    with PacketIndex.build(capture) as index:
        check_index(capture, index)


def check_index(capture: Path, index: PacketIndex) -> None:
    mismatches: list[str] = []
    compared = frames = 0
    for i, dissection in enumerate(iter_dissections(capture, strict=True)):
        frames += 1
        row = index.columns(i)
        ip_layer = outer_show(dissection, "ip.src", "ipv6.src") is not None
        checks = {
            "frame.len": str(row.wire_len),
            "frame.cap_len": str(row.cap_len),
            "frame.time_epoch": epoch_text(row.timestamp_ns),
            "ip.src": row.source,
            "ip.dst": row.destination,
            "ipv6.src": row.source,
            "ipv6.dst": row.destination,
            "tcp.srcport": str(row.src_port),
            "tcp.dstport": str(row.dst_port),
            "udp.srcport": str(row.src_port),
            "udp.dstport": str(row.dst_port),
            "tcp.flags": f"0x{row.tcp_flags:04x}",
        }
        if not ip_layer:  # the Source/Destination columns show MACs only without a network layer
            checks |= {"eth.src": row.source, "eth.dst": row.destination}
        for name, ours in checks.items():
            theirs = outer_show(dissection, name)
            if theirs is None:
                continue
            compared += 1
            if theirs != ours:
                mismatches.append(f"frame {i + 1} {name}: index {ours!r} dissection {theirs!r}")
    assert frames == len(index), f"index has {len(index)} packets, the dissection {frames}"
    # frame.len, frame.cap_len and frame.time_epoch exist for every frame: never vacuous.
    assert compared >= 3 * frames > 0
    assert not mismatches, f"{len(mismatches)} values differ:\n" + "\n".join(mismatches[:30])
