"""The struct fast path of flows/follow gives exactly the facts the full dissection gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.export.flows_facts import NEEDS_TREE, decode_record, facts_from_dissection
from analyzer.pipeline import dissect_frame
from captures.frame import Frame
from captures.pcapfile import open_capture

DATA = Path(__file__).resolve().parents[1] / "data"
CAPTURES = sorted(path.name for pattern in ("*.pcap", "*.pcapng", "*.gz") for path in DATA.glob(pattern))


@pytest.mark.parametrize("capture", CAPTURES)
def test_fast_path_agrees_with_full_dissection(capture: str) -> None:
    fast = 0
    with open_capture(DATA / capture) as reader:
        for number, (offset, stamp, wire_len, linktype, digits, iface, data) in enumerate(
            reader.records(), 1
        ):
            decoded = decode_record(number, stamp, wire_len, linktype, data)
            if decoded is NEEDS_TREE:
                continue
            fast += 1
            frame = Frame(number, stamp, data, wire_len, linktype, iface, None, (), offset, digits)
            assert decoded == facts_from_dissection(dissect_frame(frame, strict=True)), number
    assert fast > 0


def test_snapped_and_unknown_frames_go_to_the_tree() -> None:
    ethernet_tcp = bytes.fromhex(
        "02770000000b02770000000a08004500002800010000400600000a4d00010a4d0002"
        "d43200500000000100000000500220000000000000000000"
    )
    assert decode_record(1, 0, len(ethernet_tcp) + 10, 1, ethernet_tcp) is NEEDS_TREE
    assert decode_record(1, 0, 4, 147, b"\x00\x01\x02\x03") is NEEDS_TREE
    decoded = decode_record(1, 0, len(ethernet_tcp), 1, ethernet_tcp)
    assert decoded is not NEEDS_TREE and decoded is not None
