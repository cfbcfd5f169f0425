"""The Internet checksum helpers shared by the IPv4, ICMP, TCP and UDP dissectors."""

from __future__ import annotations

from dissectors.checksum import internet_checksum, ones_complement_sum, pseudo_header_sum, should_be


def test_rfc1071_example() -> None:
    # RFC 1071 section 3: these bytes sum to 0xddf2.
    data = bytes.fromhex("0001f203f4f5f6f7")
    assert ones_complement_sum(data) == 0xDDF2
    assert internet_checksum(data) == 0x220D
    assert internet_checksum(data + (0x220D).to_bytes(2, "big")) == 0


def test_odd_length_pads_with_zero() -> None:
    assert ones_complement_sum(b"\x12") == 0x1200
    assert ones_complement_sum(b"\x12\x34\x56") == ones_complement_sum(b"\x12\x34\x56\x00")


def test_initial_sum_and_carry() -> None:
    assert ones_complement_sum(b"\xff\xff", 1) == 1
    assert ones_complement_sum(b"\x80\x00\x80\x00") == 1


def test_pseudo_header_ipv4_and_ipv6_lengths() -> None:
    src, dst = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    manual = ones_complement_sum(src + dst + bytes([0, 6, 0, 20]))
    assert pseudo_header_sum(src, dst, 6, 20) == manual
    v6_src, v6_dst = bytes(15) + b"\x01", bytes(15) + b"\x02"
    manual6 = ones_complement_sum(v6_src + v6_dst + (70000).to_bytes(4, "big") + bytes([0, 0, 0, 17]))
    assert pseudo_header_sum(v6_src, v6_dst, 17, 70000) == manual6


def test_should_be_matches_wireshark() -> None:
    # A TCP segment whose checksum field holds 0x1234 should hold 0x75c0 (tshark's report).
    assert should_be(0x1234, 0x638C) == 0x75C0
    assert should_be(0xABCD, 0) == 0xABCD
