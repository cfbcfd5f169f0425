"""Hostile bytes never make dissection raise, and every field stays inside its layer and frame."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.model import Dissection
from analyzer.pipeline import dissect_frame
from captures.frame import Frame
from captures.pcapfile import open_capture

DATA = Path(__file__).resolve().parent / "data"
LINKTYPES = (0, 1, 101, 108, 113, 228, 229, 276)
# Fields that record bytes a layer did not claim sit after the claiming layer's end.
TRAILER_FIELDS = ("eth.padding", "eth.trailer", "vlan.padding", "vlan.trailer")


@cache
def sample_frames() -> tuple[Frame, ...]:
    """A few frames of each real capture: enough variety of layers to mutate."""
    frames: list[Frame] = []
    for path in sorted(DATA.glob("*.pcap*")):
        try:
            with open_capture(path) as reader:
                for index, frame in enumerate(reader):
                    if index >= 40:
                        break
                    frames.append(frame)
        except Exception:  # a capture the reader rejects is another test's business
            continue
    return tuple(frames)


def check_invariants(dissection: Dissection) -> None:
    frame = dissection.frame
    assert dissection.layers, "every frame yields at least the frame layer"
    for layer in dissection.layers:
        # Offsets refer to the layer's data source: the frame, or bytes derived from it
        # (a reassembled, de-chunked or decompressed payload).
        data = dissection.source_data(layer)
        assert 0 <= layer.offset <= max(len(data), frame.wire_len if layer.source == 0 else 0)
        for item in layer.walk():
            if item.offset < 0:
                continue
            assert item.length >= 0, item
            assert item.offset + item.length <= len(data), (layer.proto, item)
            if item.name in TRAILER_FIELDS or layer.proto == "frame":
                continue
            assert layer.offset <= item.offset, (layer.proto, layer.offset, item)
            assert item.offset + item.length <= layer.offset + layer.length, (layer.proto, layer.length, item)
    check_problem_ranges(dissection)


def check_problem_ranges(dissection: Dissection) -> None:
    """Every Problem points at captured bytes of its layer's source, or at none (offset -1)."""
    for layer in dissection.layers:
        captured = len(dissection.source_data(layer))
        for found in layer.problems:
            if found.offset == -1:
                continue
            assert 0 <= found.offset <= captured, (layer.proto, captured, found)
            assert 0 <= found.length <= captured - found.offset, (layer.proto, captured, found)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(LINKTYPES), st.binary(max_size=300))
def test_random_bytes_never_raise(linktype: int, payload: bytes) -> None:
    frame = Frame(1, 0, payload, len(payload), linktype)
    check_invariants(dissect_frame(frame, strict=True))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_real_frames_never_raise(data: st.DataObject) -> None:
    frames = sample_frames()
    assert frames, "no real captures found in tests/data"
    original = data.draw(st.sampled_from(frames))
    raw = bytearray(original.data)
    for _ in range(data.draw(st.integers(1, 8))):
        if not raw:
            break
        position = data.draw(st.integers(0, len(raw) - 1))
        raw[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    mutated = Frame(1, original.timestamp_ns, bytes(raw[:cut]), original.wire_len, original.linktype)
    check_invariants(dissect_frame(mutated, strict=True))


def test_truncation_at_every_length_is_reported() -> None:
    frames = sample_frames()
    assert frames, "no real captures found in tests/data"
    checked = 0
    for original in frames[::7]:
        whole = dissect_frame(original, strict=True)
        if whole.problems:
            continue
        claimed_end = max(
            (
                item.offset + item.length
                for item in whole.walk()
                if item.offset >= 0 and item.name not in TRAILER_FIELDS
            ),
            default=0,
        )
        for cut in range(claimed_end):
            snapped = Frame(
                1, original.timestamp_ns, original.data[:cut], original.wire_len, original.linktype
            )
            dissection = dissect_frame(snapped, strict=True)
            check_invariants(dissection)
            assert len(dissection.layers) >= 1
            if cut > 0:
                codes = [found.code for found in dissection.problems]
                assert any(code.endswith(".truncated") for code in codes), (original.number, cut, codes)
            checked += 1
    assert checked > 100


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_problem_ranges_lie_inside_the_captured_bytes(data: st.DataObject) -> None:
    """Snapped, mutated and malformed frames: no Problem's byte range leaves the captured bytes."""
    original = data.draw(st.sampled_from(sample_frames()))
    raw = bytearray(original.data)
    for _ in range(data.draw(st.integers(0, 4))):
        if raw:
            raw[data.draw(st.integers(0, min(len(raw), 80) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    # Cut by the snaplen (the wire length stays) or genuinely short (the wire length follows).
    wire_len = original.wire_len if data.draw(st.booleans()) else cut
    frame = Frame(1, original.timestamp_ns, bytes(raw[:cut]), max(wire_len, cut), original.linktype)
    check_problem_ranges(dissect_frame(frame, strict=True))
