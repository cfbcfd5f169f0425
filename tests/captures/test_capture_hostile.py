"""Hostile and broken files: never a traceback, never a huge allocation, tshark's wording."""

from __future__ import annotations

import gzip
import random
import struct
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from captures.pcapfile import CaptureError, CaptureReader, open_capture

Write = Callable[[str, bytes], Path]
PACKET = bytes(range(60))
CUT_SHORT = "the capture file appears to have been cut short in the middle of a packet"


def read_all(path: Path) -> tuple[int, list[str]]:
    """(frames read, warnings); CaptureError propagates."""
    with open_capture(path) as reader:
        count = sum(1 for _ in reader)
        return count, reader.warnings


def test_missing_file_gives_the_os_reason(tmp_path: Path) -> None:
    with pytest.raises(CaptureError) as caught:
        open_capture(tmp_path / "absent.pcap")
    assert str(caught.value) == f"{tmp_path / 'absent.pcap'}: No such file or directory"


def test_directory_gives_the_os_reason(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="Is a directory"):
        open_capture(tmp_path)


def test_empty_file(write: Write) -> None:
    with pytest.raises(CaptureError, match=r"the capture file is empty$"):
        open_capture(write("empty.pcap", b""))


def test_random_bytes_are_an_unknown_magic(write: Write) -> None:
    noise = random.Random(5000).randbytes(5000)
    with pytest.raises(CaptureError) as caught:
        open_capture(write("noise.pcap", noise))
    assert caught.value.problem == f"not a pcap or pcapng capture (unknown magic 0x{noise[:4].hex()})"


def test_six_byte_header_is_cut_short(build, write: Write) -> None:
    with pytest.raises(CaptureError, match="cut short in the file header"):
        open_capture(write("six.pcap", build.pcap_header()[:6]))


def test_two_bytes_that_are_no_magic(write: Write) -> None:
    with pytest.raises(CaptureError, match=r"unknown magic 0x4142\)"):
        open_capture(write("ab", b"AB"))


def test_first_record_claiming_2_gib_is_refused_without_allocating(build, write: Write) -> None:
    content = build.pcap_header() + struct.pack("<IIII", 1, 2, 0x7FFFFFFF, 0x7FFFFFFF) + PACKET
    tracemalloc.start()
    with pytest.raises(CaptureError) as caught:
        open_capture(write("huge.pcap", content))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert caught.value.problem == (
        "the capture file appears to be damaged or corrupt "
        "(pcap: File has 2147483647-byte packet, bigger than maximum of 262144)"
    )
    assert peak < 4 * 1024 * 1024


def test_later_record_claiming_2_gib_stops_with_a_warning(build, write: Write) -> None:
    content = build.pcap_header() + build.pcap_record(1, 2, PACKET)
    content += struct.pack("<IIII", 1, 2, 0x7FFFFFFF, 0x7FFFFFFF) + PACKET
    path = write("huge2.pcap.gz", gzip.compress(content))  # a stream: nothing may be read ahead
    tracemalloc.start()
    count, warnings = read_all(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 1
    assert warnings == [
        f"{path}: the capture file appears to be damaged or corrupt "
        "(pcap: File has 2147483647-byte packet, bigger than maximum of 262144)"
    ]
    assert peak < 8 * 1024 * 1024


@pytest.mark.parametrize(
    ("length", "detail"),
    [
        (0x7FFFFFF0, "total block length 2147483632 is too large (> 134348832)"),
        (90, "total block length 90 is not a multiple of 4"),
        (8, "total block length 8 is too small (< 12)"),
    ],
)
def test_bad_pcapng_block_lengths(build, write: Write, length: int, detail: str) -> None:
    head = build.shb() + build.idb(1, 0)
    bad = struct.pack("<II", 6, length) + bytes(100)
    path = write("bad.pcapng", head + build.epb(0, 1, PACKET) + bad)
    assert read_all(path) == (
        1,
        [f"{path}: the capture file appears to be damaged or corrupt (pcapng: {detail})"],
    )
    # The same block before any packet: this is no capture at all.
    with pytest.raises(CaptureError, match="damaged or corrupt"):
        open_capture(write("first.pcapng", head + bad))


def test_pcapng_trailer_mismatch(build, write: Write) -> None:
    second = build.epb(0, 2, PACKET)
    second = second[:-4] + struct.pack("<I", 99)
    path = write("trailer.pcapng", build.shb() + build.idb(1, 0) + build.epb(0, 1, PACKET) + second)
    count, warnings = read_all(path)
    assert count == 1
    assert warnings == [
        f"{path}: the capture file appears to be damaged or corrupt "
        "(pcapng: total block lengths (first 92 and second 99) don't match)"
    ]


def test_pcapng_unknown_interface(build, write: Write) -> None:
    path = write(
        "iface.pcapng", build.shb() + build.idb(1, 0) + build.epb(0, 1, PACKET) + build.epb(3, 1, PACKET)
    )
    count, warnings = read_all(path)
    assert count == 1
    assert warnings[0].endswith("(pcapng: interface index 3 is not less than section interface count 1)")


def test_pcapng_bad_byte_order_magic(write: Write, build) -> None:
    shb = bytearray(build.shb())
    shb[8:12] = b"\x00\x00\x00\x00"
    with pytest.raises(CaptureError, match="unknown byte-order magic 0x00000000"):
        open_capture(write("bom.pcapng", bytes(shb)))


def small_pcap(build) -> tuple[bytes, list[int]]:
    """A three-record pcap and the end offset of each record."""
    records = [build.pcap_record(i, i, PACKET[: 20 + i]) for i in range(3)]
    content = build.pcap_header()
    ends = []
    for record in records:
        content += record
        ends.append(len(content))
    return content, ends


def small_pcapng(build) -> tuple[bytes, list[int], int]:
    """A pcapng with comments, two interfaces, an SPB and a trailing statistics block; the end
    offset of each packet block, and where the first section's header and IDBs end."""
    content = build.shb(build.option(1, b"hi")) + build.idb(1, 40) + build.idb(101, 0)
    header_end = len(build.shb(build.option(1, b"hi")))
    ends = []
    for block in (
        build.epb(0, 1, PACKET, None, build.option(1, b"c")),
        build.spb(60, PACKET[:40]),
        build.epb(1, 3, PACKET[:28]),
    ):
        content += block
        ends.append(len(content))
    content += build.block(5, bytes(8))
    return content, ends, header_end


@pytest.mark.parametrize("compress", [False, True])
def test_pcap_cut_at_every_byte(build, write: Write, compress: bool) -> None:
    content, ends = small_pcap(build)
    for cut in range(len(content) + 1):
        data = content[:cut]
        path = write("cut.pcap", gzip.compress(data) if compress else data)
        if cut < 24:
            with pytest.raises(CaptureError):
                open_capture(path)
            continue
        count, warnings = read_all(path)
        assert count == sum(1 for end in ends if end <= cut), cut
        whole = cut == 24 or cut in ends
        assert warnings == ([] if whole else [f"{path}: {CUT_SHORT}"]), cut


@pytest.mark.parametrize("compress", [False, True])
def test_pcapng_cut_at_every_byte(build, write: Write, compress: bool) -> None:
    content, ends, header_end = small_pcapng(build)
    block_ends = {header_end, header_end + 20, header_end + 40, *ends, len(content)}
    for cut in range(len(content) + 1):
        data = content[:cut]
        path = write("cut.pcapng", gzip.compress(data) if compress else data)
        if cut < header_end:
            with pytest.raises(CaptureError):
                open_capture(path)
            continue
        count, warnings = read_all(path)
        assert count == sum(1 for end in ends if end <= cut), cut
        assert warnings == ([] if cut in block_ends else [f"{path}: {CUT_SHORT}"]), cut


def test_corrupt_gzip_keeps_what_came_before(build, write: Write) -> None:
    content = build.pcap_header() + b"".join(build.pcap_record(i, 0, PACKET) for i in range(200))
    packed = bytearray(gzip.compress(content))
    packed[-6] ^= 0xFF  # inside the CRC: every packet decompresses, then the check fails
    path = write("crc.pcap.gz", bytes(packed))
    count, warnings = read_all(path)
    assert count == 200
    assert warnings == [
        f"{path}: the capture file cannot be decompressed; it may be damaged or corrupt "
        "(Error -3 while decompressing data: incorrect data check)"
    ]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tail=st.binary(max_size=400), kind=st.sampled_from(["pcap-le", "pcap-be-ns", "pcapng"]))
def test_random_bytes_after_a_valid_header_never_raise(build, tmp_path: Path, tail: bytes, kind: str) -> None:
    if kind == "pcap-le":
        head = build.pcap_header()
    elif kind == "pcap-be-ns":
        head = build.pcap_header(">", nano=True)
    else:
        head = build.shb() + build.idb(1, 0)
    path = tmp_path / "fuzz"
    path.write_bytes(head + tail)
    try:
        reader = open_capture(path)
    except CaptureError:
        return
    with reader:
        for frame in reader:
            assert len(frame.data) <= 400
        assert all(line.startswith(f"{path}: ") for line in reader.warnings)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_pcapng_never_raises(build, tmp_path: Path, data: st.DataObject) -> None:
    content = bytearray(small_pcapng(build)[0])
    for _ in range(data.draw(st.integers(1, 6))):
        content[data.draw(st.integers(0, len(content) - 1))] = data.draw(st.integers(0, 255))
    path = tmp_path / "mutant.pcapng"
    path.write_bytes(bytes(content))
    try:
        reader = open_capture(path)
    except CaptureError:
        return
    with reader:
        frames = list(reader)
        for frame in frames:
            reader.read_record_at(frame.file_offset)  # random access agrees it is a packet block
    assert isinstance(reader, CaptureReader)
