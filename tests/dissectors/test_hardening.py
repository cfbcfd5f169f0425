"""Regression tests for the robustness fixes: layer ranges, snapped payloads, Problem ranges, tshark parity.

Each frame is a hex literal; the expected protocol chains and (absence of) malformed/truncated
reports were read from tshark 4.0 on the same bytes.
"""

from __future__ import annotations

from analyzer.model import Dissection
from analyzer.pipeline import dissect_frame
from captures.frame import Frame

ETH_IP = "020000000002020000000001" + "0800"
ETH_IP6 = "020000000002020000000001" + "86dd"
# Echo request 10.77.0.1 -> 10.77.0.2 with 56 bytes of data (84-byte datagram), raw IPv4.
ECHO = "450000549a06400040018c060a4d00010a4d00020800777522190001f520046b00000000" + "00" * 48


def dissect(hex_bytes: str, linktype: int, wire_len: int | None = None, stamp_ns: int = 0) -> Dissection:
    data = bytes.fromhex(hex_bytes)
    return dissect_frame(Frame(1, stamp_ns, data, wire_len or len(data), linktype), strict=True)


def codes(dissection: Dissection) -> list[str]:
    return [found.code for found in dissection.problems if "checksum" not in found.code]


def test_bogus_ipv4_header_length_keeps_the_version_inside_the_layer() -> None:
    dissection = dissect("40", 101)
    ip = dissection.layer("ip")
    assert ip is not None and ip.length >= 1
    assert "ip.bogus_header_length" in codes(dissection)


def test_icmp_echo_cut_after_its_header_is_reported_truncated() -> None:
    # 28 of 84 bytes captured: the ICMP header is whole, its data is not there at all.
    dissection = dissect(ECHO[: 28 * 2], 228, wire_len=84)
    assert dissection.protocols == "ip:icmp"
    assert "icmp.truncated" in codes(dissection)


def test_icmp_echo_cut_after_its_timestamp_is_reported_truncated() -> None:
    # The frame's clock matches the echo data's (little-endian) timestamp, so ICMP claims 8 more bytes.
    dissection = dissect(ECHO[: 36 * 2], 228, wire_len=84, stamp_ns=0x6B0420F5 * 10**9)
    assert dissection.first("icmp.data_time") is not None
    assert "icmp.truncated" in codes(dissection)


def test_ipv4_fragment_with_no_payload_captured_is_reported_truncated() -> None:
    # A later fragment (offset 185 x 8) whose 1480 payload bytes the snaplen cut off.
    header = "450005dc04d200b940117d6f0a0000010a000002"
    dissection = dissect(ETH_IP + header, 1, wire_len=14 + 1500)
    assert dissection.protocols == "eth:ethertype:ip"
    truncated = [found for found in dissection.problems if found.code == "ip.truncated"]
    assert truncated and truncated[0].offset == 34 and truncated[0].length == 0


def test_udp_inside_an_icmp_error_cut_by_the_snaplen_is_reported_truncated() -> None:
    quote = "4500002c000100004011f9c20a0000020a000001" + "d43182be00186c7a"
    outer = "450000480001000040013aa90a0000010a000002" + "0303fcfc00000000" + quote
    dissection = dissect(outer, 228, wire_len=72 + 16)
    assert "udp.truncated" in codes(dissection)


def test_truncation_problem_never_starts_past_the_captured_bytes() -> None:
    # ARP request cut mid-address: the read that fails starts after the captured end.
    arp = "0001080006040001" + "02770000000b0a4d0002"
    dissection = dissect("ffffffffffff02770000000b0806" + arp[:44], 1, wire_len=42)
    for found in dissection.problems:
        assert found.offset == -1 or found.offset + found.length <= len(dissection.frame.data), found


def test_tcp_problems_stay_inside_a_frame_snapped_in_the_options() -> None:
    # 32-byte header (NOP NOP TS) of which the capture holds 30 bytes; option length byte mutated to 0.
    tcp = "1f40bb7ebfaa8a13b1a68602801000400ccc0000" + "010108000c2441c09642"
    dissection = dissect(ETH_IP + "450005dc64fd40004006bb820a4d00020a4d0001" + tcp, 1, wire_len=1514)
    assert any(code == "tcp.truncated" for code in codes(dissection))
    for found in dissection.problems:
        assert found.offset == -1 or found.offset + found.length <= len(dissection.frame.data), found


def test_empty_ipv4_payload_is_not_handed_on() -> None:
    # tshark 4.0: "eth:ethertype:ip", no ICMP layer and nothing malformed, for ip.len == 20.
    header = "4500001400000000400166e30a0000010a000002"
    dissection = dissect(ETH_IP + header, 1)
    assert dissection.protocols == "eth:ethertype:ip"
    assert not [code for code in codes(dissection) if code.endswith((".malformed", ".truncated"))]


def test_short_quote_in_an_icmp_error_is_not_malformed() -> None:
    # The quoted IPv4 header stops after 16 bytes; tshark ignores the shortfall.
    outer = "4500002c0000000040017ad10a0000010a000002" + "0303fcfc00000000"
    dissection = dissect(outer + "4500005400000000400166a30a000001", 228)
    assert dissection.protocols == "ip:icmp:ip"
    assert not [code for code in codes(dissection) if code.endswith((".malformed", ".truncated"))]


def test_arp_with_one_byte_hardware_addresses_is_not_malformed() -> None:
    # Hardware size 1: the probe/announcement checks must not read 6 bytes past the datagram.
    arp = "00010800010400010" + "20a000001000a000001"
    dissection = dissect("ffffffffffff020000000001" + "0806" + arp, 1)
    arp_layer = dissection.layer("arp")
    assert arp_layer is not None
    assert arp_layer.label == "Address Resolution Protocol (request/gratuitous ARP)"
    assert not codes(dissection)


def test_icmpv6_unknown_type_cut_by_the_snaplen_is_reported_truncated() -> None:
    ip6 = "6000000000103a40" + "fe80" + "00" * 13 + "01" + "ff02" + "00" * 13 + "01"
    icmp6 = "c8000000" + "aabbccdd"  # type 200, 16 bytes declared, 8 captured
    dissection = dissect(ETH_IP6 + ip6 + icmp6, 1, wire_len=14 + 40 + 16)
    assert "icmpv6.truncated" in codes(dissection)
