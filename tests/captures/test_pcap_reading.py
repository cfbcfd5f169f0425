"""Classic pcap: both magics, both byte orders, gzip, link-type masking, offsets, random access."""

from __future__ import annotations

import gzip
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from captures.pcapfile import CaptureError, iter_records, open_capture

PACKET_A = bytes(range(60))
PACKET_B = bytes(range(100, 142))

Write = Callable[[str, bytes], Path]


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
def test_both_magics_and_byte_orders(build, write: Write, endian: str, nano: bool) -> None:
    frac = 123_456_789 if nano else 123_456
    content = build.pcap_header(endian, nano, linktype=1) + build.pcap_record(
        1_700_000_000, frac, PACKET_A, endian=endian
    )
    content += build.pcap_record(1_700_000_001, 0, PACKET_B, orig=1514, endian=endian)
    with open_capture(write("f.cap", content)) as reader:
        frames = list(reader)
        assert reader.info.format == "pcap"
        assert reader.info.big_endian is (endian == ">")
        assert reader.info.interfaces[0].ts_digits == (9 if nano else 6)
        assert reader.warnings == []
    assert [f.number for f in frames] == [1, 2]
    expected_ns = 1_700_000_000_123_456_789 if nano else 1_700_000_000_123_456_000
    assert frames[0].timestamp_ns == expected_ns
    assert frames[1].timestamp_ns == 1_700_000_001_000_000_000
    assert frames[0].data == PACKET_A and frames[1].data == PACKET_B
    assert (frames[1].wire_len, frames[1].cap_len) == (1514, len(PACKET_B))
    assert frames[0].ts_digits == (9 if nano else 6)
    assert frames[0].interface_name is None and frames[0].interface_id == 0
    assert [f.file_offset for f in frames] == [24, 24 + 16 + len(PACKET_A)]


def test_link_type_upper_bits_are_masked(build, write: Write) -> None:
    # FCS length 4 with the F bit, as the pcap spec's LinkType and additional information field.
    flagged = 1 | 0x1000_0000 | 0x0400_0000
    path = write("fcs.pcap", build.pcap_header(linktype=flagged) + build.pcap_record(1, 2, PACKET_A))
    with open_capture(path) as reader:
        assert reader.info.interfaces[0].linktype == 1
        assert [frame.linktype for frame in reader] == [1]


def test_gzip_is_recognised_by_magic_and_offsets_are_uncompressed(build, write: Write) -> None:
    plain = build.pcap_header() + build.pcap_record(1, 2, PACKET_A) + build.pcap_record(3, 4, PACKET_B)
    path = write("no-suffix", gzip.compress(plain))
    with open_capture(path) as reader:
        frames = list(reader)
        assert reader.info.compressed
    assert [f.data for f in frames] == [PACKET_A, PACKET_B]
    assert [f.file_offset for f in frames] == [24, 100]


def test_gzip_members_concatenated_and_plain_tail(build, write: Write) -> None:
    plain = build.pcap_header() + build.pcap_record(1, 2, PACKET_A) + build.pcap_record(3, 4, PACKET_B)
    two_members = gzip.compress(plain[:30]) + gzip.compress(plain[30:])
    with open_capture(write("two.gz", two_members)) as reader:
        assert [f.data for f in reader] == [PACKET_A, PACKET_B]
    # Like wiretap, bytes after a member that are not another member are read as they are.
    tail = gzip.compress(plain[:100]) + plain[100:]
    with open_capture(write("tail.gz", tail)) as reader:
        assert [f.data for f in reader] == [PACKET_A, PACKET_B]


def test_iter_records_tuple_contract(build, write: Write) -> None:
    content = build.pcap_header(nano=True, linktype=101) + build.pcap_record(5, 6, PACKET_A, orig=70)
    assert list(iter_records(write("r.pcap", content))) == [(24, 5_000_000_006, 70, 101, 9, 0, PACKET_A)]


def test_iter_records_accepts_an_open_reader_and_keeps_its_warnings(build, write: Write) -> None:
    content = build.pcap_header() + build.pcap_record(1, 2, PACKET_A) + build.pcap_record(3, 4, PACKET_B)[:-1]
    with open_capture(write("cut.pcap", content)) as reader:
        assert len(list(iter_records(reader))) == 1
        assert reader.warnings == [
            f"{reader.path}: the capture file appears to have been cut short in the middle of a packet"
        ]


def test_read_record_at_returns_the_same_frame(build, write: Write) -> None:
    content = build.pcap_header() + build.pcap_record(1, 2, PACKET_A) + build.pcap_record(3, 4, PACKET_B)
    with open_capture(write("ra.pcap", content)) as reader:
        frames = list(reader)
        again = reader.read_record_at(frames[1].file_offset, number=2)
        assert again == frames[1]
        with pytest.raises(CaptureError, match="no pcap record at offset 5"):
            reader.read_record_at(5)


def test_read_record_at_needs_an_uncompressed_file(build, write: Write) -> None:
    content = gzip.compress(build.pcap_header() + build.pcap_record(1, 2, PACKET_A))
    with open_capture(write("ra.gz", content)) as reader, pytest.raises(CaptureError, match="random access"):
        reader.read_record_at(24)


def test_a_mapped_file_can_be_read_twice(build, write: Write) -> None:
    content = build.pcap_header() + build.pcap_record(1, 2, PACKET_A)
    with open_capture(write("twice.pcap", content)) as reader:
        assert list(reader) == list(reader)


def test_usb_link_types_allow_records_above_256_kib(build, write: Write) -> None:
    big = bytes(300_000)
    with open_capture(
        write("usb.pcap", build.pcap_header(linktype=220) + build.pcap_record(1, 2, big))
    ) as reader:
        assert [len(f.data) for f in reader] == [300_000]
        assert reader.warnings == []


def test_microsecond_fraction_is_exact_integer_arithmetic(build, write: Write) -> None:
    # 2**31 seconds and 999999 µs: a float would lose the last digits.
    content = build.pcap_header() + build.pcap_record(2**31, 999_999, PACKET_A)
    with open_capture(write("t.pcap", content)) as reader:
        assert next(iter(reader)).timestamp_ns == 2**31 * 10**9 + 999_999_000


def test_header_fields_reach_interface_info(build, write: Write) -> None:
    content = build.pcap_header(">", linktype=113, snaplen=65535)
    with open_capture(write("h.pcap", content)) as reader:
        interface = reader.info.interfaces[0]
        assert (interface.linktype, interface.snaplen, interface.name) == (113, 65535, None)
        assert list(reader) == []
        assert reader.warnings == []
    assert struct.calcsize("<IHHiIII") == 24
