"""Random and mutated bytes on every link type we dissect: never raise, every field inside the frame."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.pipeline import dissect_frame
from captures.frame import Frame

LINK_TYPES = (0, 1, 101, 108, 113, 228, 229, 276)
# A valid VLAN-tagged ARP request to mutate, so the fuzzing reaches past the first header.
SEED = bytes.fromhex(
    "ffffffffffff02770000000a8100a0640806"
    + "0001080006040001"
    + "02770000000a0a4d0001"
    + "000000000000"
    + "0a4d0002"
)


def check(data: bytes, linktype: int) -> None:
    dissection = dissect_frame(Frame(1, 0, data, len(data), linktype), strict=True)
    for layer in dissection.layers:
        for item in layer.walk():
            if item.offset >= 0:
                assert item.offset + item.length <= len(data), (layer.proto, item.name)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80), st.sampled_from(LINK_TYPES))
def test_random_bytes(data: bytes, linktype: int) -> None:
    check(data, linktype)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(SEED) - 1), st.integers(0, 255), st.integers(1, len(SEED)))
def test_mutated_vlan_arp(position: int, value: int, cut: int) -> None:
    data = bytearray(SEED)
    data[position] = value
    check(bytes(data[:cut]), 1)
