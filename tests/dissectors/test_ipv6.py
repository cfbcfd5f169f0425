"""IPv6 dissector: fixed header, extension-header chain, fragments and malformed chains, from hex literals."""

from __future__ import annotations

from analyzer.export.fields import field_text
from analyzer.model import Dissection
from analyzer.pipeline import dissect_frame
from captures.frame import Frame

SRC_DST = "fd770000000000000000000000000001fd770000000000000000000000000002"
ECHO = "80000a2a123400016869"  # ICMPv6 echo request id 0x1234 seq 1, data "hi", checksum good


def dissect(hexdata: str) -> Dissection:
    data = bytes.fromhex(hexdata)
    return dissect_frame(Frame(1, 1_795_432_666_000_000_000, data, len(data), 229), strict=True)


def cells(dissection: Dissection, *names: str) -> list[str]:
    return [field_text(dissection, name) for name in names]


def codes(dissection: Dissection) -> list[str]:
    return [found.code for found in dissection.problems]


def test_fixed_header_fields() -> None:
    d = dissect("60012345000a3a40" + SRC_DST + ECHO)
    assert cells(d, "ipv6.version", "ip.version", "ipv6.tclass", "ipv6.flow", "ipv6.plen", "ipv6.nxt") == [
        "6", "6", "0x00000000", "0x012345", "10", "58",
    ]  # fmt: skip
    assert cells(d, "ipv6.hlim", "ipv6.src", "ipv6.dst", "ipv6.addr") == [
        "64", "fd77::1", "fd77::2", "fd77::1,fd77::2",
    ]  # fmt: skip
    assert d.protocols == "ipv6:icmpv6:data"
    assert cells(d, "icmpv6.checksum.status") == ["1"]


def test_destination_options_and_hop_by_hop_are_their_own_layers() -> None:
    d = dissect("6001234500123c40" + SRC_DST + "3a00010400000000" + ECHO)
    assert d.protocols == "ipv6:ipv6.dstopts:icmpv6:data"
    assert cells(d, "ipv6.dstopts.nxt", "ipv6.opt.type", "ipv6.opt.length", "ipv6.opt.padn") == [
        "58", "0x01", "4", "00000000",
    ]  # fmt: skip
    # The transport pseudo-header length excludes the extension header: the checksum verifies.
    assert cells(d, "icmpv6.checksum.status") == ["1"]
    hop = dissect("6001234500120040" + SRC_DST + "3a003f02aabb0100" + ECHO)
    assert cells(hop, "ipv6.hopopts.len_oct", "ipv6.opt.type", "ipv6.opt.padn") == [
        "8",
        "0x3f,0x01",
        "<none>",
    ]
    assert "ipv6.opt.unknown_data.expert" in codes(hop)


def test_routing_header_type_two_changes_the_checksum_destination() -> None:
    d = dissect("6001234500222b40" + SRC_DST + "3a02020100000000fd770000000000000000000000000001" + ECHO)
    assert cells(d, "ipv6.routing.type", "ipv6.routing.segleft", "ipv6.routing.mipv6.home_address") == [
        "2", "1", "fd77::1",
    ]  # fmt: skip
    assert cells(d, "icmpv6.checksum.status") == ["0"]  # tshark: should be 0x0a2b for the home address


def test_fragments() -> None:
    first = dissect("6001234500122c40" + SRC_DST + "3a00000100000007" + ECHO)
    assert first.protocols == "ipv6:ipv6.fraghdr:icmpv6:data"
    assert cells(first, "ipv6.fraghdr.offset", "ipv6.fraghdr.more", "ipv6.fraghdr.ident") == [
        "0",
        "1",
        "0x00000007",
    ]
    assert cells(first, "icmpv6.checksum.status") == ["2"]
    later = dissect("6001234500122c40" + SRC_DST + "3a00001000000007" + ECHO)
    assert later.protocols == "ipv6:ipv6.fraghdr:data"
    assert cells(later, "ipv6.fraghdr.offset", "data.len") == ["2", "10"]


def test_hop_by_hop_chain_that_loops_ends_malformed_without_raising() -> None:
    chain = "0000010400000000" * 3 + "80000a2a12340001"
    d = dissect("6001234500220040" + SRC_DST + chain + "6869")
    assert d.protocols.startswith("ipv6:ipv6.hopopts:ipv6.hopopts:ipv6.hopopts:ipv6.hopopts")
    assert codes(d).count("ipv6.hopopts.not_first") == 3
    assert any(code.endswith(".malformed") or code.endswith(".truncated") for code in codes(d))


def test_extension_header_longer_than_the_packet_is_malformed() -> None:
    d = dissect("6001234500083c40" + SRC_DST + "3c09010400000000")
    assert cells(d, "ipv6.dstopts.len_oct", "ipv6.opt.padn") == ["80", "00000000"]
    assert "ipv6.dstopts.malformed" in codes(d)
    assert d.protocols == "ipv6:ipv6.dstopts"


def test_payload_length_past_the_frame_and_a_cut_header() -> None:
    long = dissect("6001234500643a40" + SRC_DST + ECHO)
    assert "ipv6.plen_exceeds_framing" in codes(long)
    assert cells(long, "icmpv6.type") == ["128"]
    cut = dissect("60012345000a3a40" + SRC_DST[:44])
    assert "ipv6.invalid_header" in codes(cut)
    assert cells(cut, "ipv6.src", "ipv6.dst") == ["fd77::1", ""]


def test_no_next_header_ends_the_packet() -> None:
    d = dissect("6001234500003b40" + SRC_DST)
    assert d.protocols == "ipv6"
