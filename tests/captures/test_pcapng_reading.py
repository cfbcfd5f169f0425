"""pcapng: interfaces with their own link types and clocks, sections, SPB, obsolete PB, comments."""

from __future__ import annotations

import gzip
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from captures.pcapfile import CaptureError, open_capture

Write = Callable[[str, bytes], Path]
ETHER = bytes(range(60))
IPV4 = bytes.fromhex("4500001c00010000400100007f0000017f000001") + bytes(8)
IF_NAME, IF_TSRESOL, IF_TSOFFSET = 2, 9, 14


def test_interfaces_keep_their_link_types_names_and_clocks(build, write: Write) -> None:
    o = build.option
    content = build.shb()
    content += build.idb(1, 0, o(IF_NAME, b"eth0"))  # default clock: microseconds
    content += build.idb(101, 0, o(IF_NAME, b"tun0"), o(IF_TSRESOL, bytes([9])))
    content += build.idb(1, 128, o(IF_TSRESOL, bytes([0x8A])), o(IF_TSOFFSET, struct.pack("<q", 100)))
    content += build.epb(0, 1_000_000_123, ETHER)
    content += build.epb(1, 2_000_000_000_007, IPV4)
    content += build.epb(2, 5 * 1024 + 513, ETHER, 1514)
    with open_capture(write("ifaces.pcapng", content)) as reader:
        frames = list(reader)
        interfaces = reader.info.interfaces
        assert reader.warnings == []
    assert [(i.linktype, i.name, i.snaplen, i.ts_digits) for i in interfaces] == [
        (1, "eth0", 0, 6),
        (101, "tun0", 0, 9),
        (1, None, 128, 3),
    ]
    assert [f.linktype for f in frames] == [1, 101, 1]
    assert [f.interface_id for f in frames] == [0, 1, 2]
    assert [f.interface_name for f in frames] == ["eth0", "tun0", "unknown"]
    assert [f.ts_digits for f in frames] == [6, 9, 3]
    # 2**-10 s ticks floor to the nanosecond like wiretap: 5 + 513/1024 s = 5.500976562(5) s.
    assert [f.timestamp_ns for f in frames] == [1_000_000_123_000, 2_000_000_000_007, 105_500_976_562]
    assert frames[2].wire_len == 1514 and frames[2].data == ETHER


def test_sections_reset_interfaces_and_may_change_byte_order(build, write: Write) -> None:
    o = build.option
    first = build.shb(o(1, b"first section")) + build.idb(1, 0, o(IF_NAME, b"a0"))
    first += build.epb(0, 1, ETHER)
    second = build.shb(endian=">") + build.idb(101, 0, o(IF_NAME, b"raw", endian=">"), endian=">")
    second += build.idb(1, 0, o(IF_NAME, b"b0", endian=">"), endian=">")
    second += build.epb(1, 2, ETHER, endian=">") + build.epb(0, 3, IPV4, endian=">")
    with open_capture(write("sections.pcapng", first + second)) as reader:
        frames = list(reader)
        info = reader.info
        assert reader.warnings == []
    assert info.sections == 2 and info.comments == ["first section"]
    assert [(i.section, i.local_id, i.name) for i in info.interfaces] == [
        (0, 0, "a0"),
        (1, 0, "raw"),
        (1, 1, "b0"),
    ]
    assert [f.number for f in frames] == [1, 2, 3]
    # Link types and clocks are the section's own; the *name* is tshark 4.0's: the section-local
    # number looked up in the file-wide list (a0, raw, b0), so "raw" and "a0" below, not b0 and raw.
    assert [(f.interface_id, f.interface_name, f.linktype) for f in frames] == [
        (0, "a0", 1),
        (1, "raw", 1),
        (0, "a0", 101),
    ]
    assert [f.timestamp_ns for f in frames] == [1000, 2000, 3000]
    assert frames[1].file_offset == len(first) + second.index(build.epb(1, 2, ETHER, endian=">"))


def test_simple_packet_blocks_use_interface_zero_and_its_snaplen(build, write: Write) -> None:
    content = build.shb() + build.idb(1, 40, build.option(IF_NAME, b"lo")) + build.idb(101, 0)
    content += build.spb(60, ETHER[:40]) + build.spb(30, ETHER[:30])
    with open_capture(write("spb.pcapng", content)) as reader:
        frames = list(reader)
        assert reader.warnings == []
    assert [(f.wire_len, f.cap_len, f.interface_id, f.linktype) for f in frames] == [
        (60, 40, 0, 1),
        (30, 30, 0, 1),
    ]
    assert frames[0].data == ETHER[:40] and frames[0].interface_name == "lo"
    assert not frames[0].has_timestamp and frames[0].timestamp_ns == 0


def test_simple_packet_block_shorter_than_its_wire_length_stops(build, write: Write) -> None:
    content = build.shb() + build.idb(1, 0) + build.epb(0, 1, ETHER) + build.spb(60, ETHER[:40])
    with open_capture(write("spbbad.pcapng", content)) as reader:
        assert len(list(reader)) == 1
        assert reader.warnings == [
            f"{reader.path}: the capture file appears to be damaged or corrupt "
            "(pcapng: total block length 56 of an SPB is too small for 60 bytes of packet data)"
        ]


def test_obsolete_packet_blocks(build, write: Write) -> None:
    content = build.shb() + build.idb(1, 0) + build.idb(1, 0, build.option(IF_NAME, b"x"))
    content += build.pb(1, 7_000_000_000_000, ETHER)
    with open_capture(write("pb.pcapng", content)) as reader:
        (frame,) = list(reader)
    assert (frame.interface_id, frame.interface_name, frame.timestamp_ns) == (1, "x", 7_000_000_000_000_000)
    assert frame.data == ETHER and frame.has_timestamp


def test_comments_on_section_and_packets(build, write: Write) -> None:
    o = build.option
    content = build.shb(o(1, b"c1"), o(1, "c2 \u00e9".encode())) + build.idb(1, 0)
    content += build.epb(0, 1, ETHER, None, o(1, b"hello"), o(1, b"again"))
    content += build.epb(0, 2, ETHER)
    with open_capture(write("comments.pcapng", content)) as reader:
        frames = list(reader)
        assert reader.info.comments == ["c1", "c2 \u00e9"]
    assert [f.comments for f in frames] == [("hello", "again"), ()]


def test_unknown_blocks_are_skipped_and_late_interfaces_are_learnt(build, write: Write) -> None:
    content = build.shb() + build.idb(1, 0) + build.block(0x999, b"abcd") + build.epb(0, 1, ETHER)
    content += build.block(5, bytes(8))  # an Interface Statistics Block
    content += build.idb(101, 0) + build.epb(1, 2, IPV4)
    with open_capture(write("late.pcapng", content)) as reader:
        frames = list(reader)
        assert reader.warnings == []
        assert len(reader.info.interfaces) == 2
    assert [f.linktype for f in frames] == [1, 101]


def test_interfaces_are_known_at_open_time(build, write: Write) -> None:
    content = build.shb() + build.idb(1, 0) + build.idb(113, 0) + build.epb(1, 1, ETHER)
    with open_capture(write("open.pcapng", content)) as reader:
        assert [i.linktype for i in reader.info.interfaces] == [1, 113]
        assert [f.linktype for f in reader] == [113]
        assert len(reader.info.interfaces) == 2


def test_gzip_pcapng_and_records_fast_path(build, write: Write) -> None:
    content = build.shb() + build.idb(1, 0, build.option(IF_TSRESOL, bytes([9]))) + build.epb(0, 77, ETHER)
    with open_capture(write("z", gzip.compress(content))) as reader:
        records = list(reader.records())
    offset = len(build.shb()) + len(build.idb(1, 0, build.option(IF_TSRESOL, bytes([9]))))
    assert records == [(offset, 77, 60, 1, 9, 0, ETHER)]


def test_read_record_at_across_sections(build, write: Write) -> None:
    o = build.option
    content = build.shb() + build.idb(1, 0, o(IF_NAME, b"a")) + build.epb(0, 1, ETHER, None, o(1, b"note"))
    content += build.shb(endian=">") + build.idb(101, 0, o(IF_NAME, b"r", endian=">"), endian=">")
    content += build.epb(0, 2, IPV4, endian=">") + build.spb(28, IPV4, endian=">")
    path = write("ra.pcapng", content)
    with open_capture(path) as reader:
        frames = list(reader)
    with open_capture(path) as reader:
        # Backwards first, so the reader must find the second section on its own.
        for frame in reversed(frames):
            assert reader.read_record_at(frame.file_offset, frame.number) == frame
        with pytest.raises(CaptureError, match="no pcapng packet block"):
            reader.read_record_at(len(build.shb()))


def test_timestamp_resolutions_and_tshark_digits(build, write: Write) -> None:
    o = build.option
    resolutions = [7, 4, 0, 12, 0x80 | 20, 0x80 | 30, 1]
    content = build.shb() + b"".join(build.idb(1, 0, o(IF_TSRESOL, bytes([r]))) for r in resolutions)
    ticks = [51_234_567, 51_234, 5, 5_123_456_789_012, (5 << 20) + 12345, (5 << 30) + 123456789, 51]
    content += b"".join(build.epb(i, t, ETHER) for i, t in enumerate(ticks))
    with open_capture(write("res.pcapng", content)) as reader:
        frames = list(reader)
    # Digits as tshark 4.0 shows them (measured): only 0, 1, 2, 3, 6 and 9 exist.
    assert [f.ts_digits for f in frames] == [6, 3, 0, 9, 6, 9, 1]
    assert [f.timestamp_ns for f in frames] == [
        5_123_456_700,
        5_123_400_000,
        5_000_000_000,
        5_123_456_789,  # exact; tshark 4.0 overflows 64 bits here and shows 5.012776324
        5_011_773_109,
        5_114_978_094,
        5_100_000_000,
    ]
