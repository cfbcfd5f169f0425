"""The fast path and the full tree agree: every fast-path name, every packet of every test capture."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.filter.catalog import CATALOG
from analyzer.filter.fastpath import FAST_NAMES, fast_packet
from analyzer.filter.packet import TreePacket
from analyzer.filter.values import family_of
from analyzer.session import iter_dissections

DATA = Path(__file__).resolve().parents[1] / "data"
CAPTURES = sorted(
    p for p in DATA.iterdir() if p.name.endswith((".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz"))
)
FAMILIES = {name: family_of(CATALOG[name][0]) for name in FAST_NAMES}
PROTOCOLS = {name for name in FAST_NAMES if CATALOG[name][0] == "FT_PROTOCOL"}


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_fast_path_equals_tree(capture: Path) -> None:
    answered = 0
    for dissection in iter_dissections(capture, strict=True, annotate=False):
        fast = fast_packet(dissection.frame)
        if fast is None:
            continue
        answered += 1
        tree = TreePacket(dissection, FAMILIES)
        for name in sorted(FAST_NAMES):
            want = tree.values(name, None)
            got = fast.values(name, None)
            if name in PROTOCOLS:  # the fast path answers presence, not a protocol's bytes
                want, got = [bool(want)], [bool(got)]
            assert got == want, f"frame {dissection.frame.number} {name}: fast {got} tree {want}"
            assert fast.values(name, 2) == tree.values(name, 2) or name in PROTOCOLS
    assert answered or capture.name in {
        "sll.pcap",
        "sll2.pcap",
        "null.pcap",
        "loop.pcap",
        "qinq.pcap",
        "vlan.pcap",
    }
