"""UDP dissector: length and checksum rules over IPv4 and IPv6, against tshark 4.0.

Raw IPv4 (link type 228) / IPv6 (229) frames, 10.0.0.1:5000 -> 10.0.0.2:5001 or fe80::1 -> fe80::2;
expected values read from tshark on the same bytes.
"""

from __future__ import annotations

from analyzer.export.fields import field_text
from analyzer.model import Dissection, Layer
from analyzer.pipeline import dissect_frame
from captures.frame import Frame

# UDP length 12 inside an IP payload of 15: the last 3 bytes are not the datagram's.
SHORTER_THAN_IP = "4500002300010000401166c70a0000010a00000213881389000cfffb6162636458595a"
LONGER_THAN_IP = "4500002000010000401166ca0a0000010a00000213881389001e123461626364"
BELOW_HEADER = "4500002000010000401166ca0a0000010a000002138813890004123461626364"
ZERO_CHECKSUM_V4 = "4500002000010000401166ca0a0000010a00000213881389000c000061626364"
V6_PREFIX = "60000000000c1140fe800000000000000000000000000001fe800000000000000000000000000002"
ZERO_CHECKSUM_V6 = V6_PREFIX + "13881389000c000061626364"
GOOD_V6 = V6_PREFIX + "13881389000c16fa61626364"
EMPTY_BAD_CHECKSUM = "4500001c00010000401166ce0a0000010a0000021388138900081234"
EMPTY_GOOD = "4500001c00010000401166ce0a0000010a000002138813890008c4ca"
# ICMP port unreachable quoting only the 8-byte header of a 16-byte datagram to port 53.
ICMP_QUOTE = (
    "4500003800010000400166c20a0000020a0000010303a2b6000000004500002400010000401166c60a0000010a000002"
    "1388003500104679"
)


def dissect(hex_bytes: str, linktype: int = 228, cut: int | None = None) -> Dissection:
    data = bytes.fromhex(hex_bytes)
    return dissect_frame(
        Frame(1, 0, data[:cut] if cut is not None else data, len(data), linktype), strict=True
    )


def udp(dissection: Dissection) -> Layer:
    found = dissection.layer("udp")
    assert found is not None
    return found


def cells(dissection: Dissection, *names: str) -> list[str]:
    return [field_text(dissection, name) for name in names]


def codes(layer: Layer) -> list[str]:
    return [found.code for found in layer.problems]


def test_datagram_shorter_than_ip_payload() -> None:
    found = dissect(SHORTER_THAN_IP)
    layer = udp(found)
    assert layer.label == "User Datagram Protocol, Src Port: 5000, Dst Port: 5001"
    assert cells(found, "udp.srcport", "udp.dstport", "udp.port", "udp.length") == [
        "5000",
        "5001",
        "5000,5001",
        "12",
    ]
    assert cells(found, "udp.checksum", "udp.checksum.status", "udp.checksum_calculated") == [
        "0xfffb",
        "1",
        "0xfffb",
    ]
    # tshark's udp.payload runs to the end of the IP payload; its label and the next layer do not.
    payload = layer.find("udp.payload")
    assert payload is not None and payload.label == "UDP payload (4 bytes)"
    assert cells(found, "udp.payload") == ["6162636458595a"]
    following = found.layers[-1]
    assert (following.offset, following.length) == (28, 4)
    assert layer.problems == []


def test_length_past_ip_payload() -> None:
    found = dissect(LONGER_THAN_IP)
    layer = udp(found)
    length = layer.find("udp.length")
    assert length is not None and length.label == "Length: 30 (bogus, payload length 12)"
    assert cells(found, "udp.checksum.status", "udp.checksum_calculated", "udp.payload") == [
        "2",
        "",
        "61626364",
    ]
    assert [(p.code, p.message) for p in layer.problems] == [
        ("udp.length.bad", "Bad length value 30 > IP payload length")
    ]


def test_length_below_header_stops() -> None:
    found = dissect(BELOW_HEADER)
    layer = udp(found)
    length = layer.find("udp.length")
    assert length is not None and length.label == "Length: 4 (bogus, must be >= 8)"
    assert cells(found, "udp.length", "udp.checksum", "udp.payload") == ["4", "", ""]
    assert codes(layer) == ["udp.length.bad"]
    assert found.layers[-1] is layer


def test_zero_checksum_is_optional_over_ipv4() -> None:
    found = dissect(ZERO_CHECKSUM_V4)
    checksum = udp(found).find("udp.checksum")
    assert checksum is not None and checksum.label == "Checksum: 0x0000 [zero-value ignored]"
    assert cells(found, "udp.checksum", "udp.checksum.status") == ["0x0000", "3"]
    assert udp(found).problems == []


def test_zero_checksum_is_illegal_over_ipv6() -> None:
    found = dissect(ZERO_CHECKSUM_V6, linktype=229)
    assert cells(found, "udp.checksum", "udp.checksum.status") == ["0x0000", "4"]
    assert codes(udp(found)) == ["udp.checksum.zero"]


def test_ipv6_checksum() -> None:
    found = dissect(GOOD_V6, linktype=229)
    assert cells(found, "udp.checksum.status", "udp.checksum_calculated", "udp.payload") == [
        "1",
        "0x16fa",
        "61626364",
    ]


def test_empty_datagram_bad_checksum() -> None:
    found = dissect(EMPTY_BAD_CHECKSUM)
    layer = udp(found)
    assert cells(found, "udp.checksum.status", "udp.checksum_calculated", "udp.payload") == [
        "0",
        "0xc4ca",
        "",
    ]
    checksum = layer.find("udp.checksum")
    assert checksum is not None
    assert (
        checksum.label
        == 'Checksum: 0x1234 incorrect, should be 0xc4ca (maybe caused by "UDP checksum offload"?)'
    )
    assert codes(layer) == ["udp.checksum.bad"]
    assert found.layers[-1] is layer
    assert cells(dissect(EMPTY_GOOD), "udp.checksum.status") == ["1"]


def test_icmp_quote_of_the_header_only() -> None:
    found = dissect(ICMP_QUOTE)
    layer = udp(found)
    assert layer.depth == 1
    # The quote ends before the datagram does: no length complaint, no checksum, no payload.
    assert cells(found, "udp.length", "udp.checksum.status", "udp.payload") == ["16", "2", ""]
    assert layer.problems == []
    assert found.layers[-1] is layer


def test_truncated_at_every_length() -> None:
    whole = bytes.fromhex(SHORTER_THAN_IP)
    for cut in range(20, len(whole)):
        found = dissect(SHORTER_THAN_IP, cut=cut)
        for item in found.walk():
            assert item.offset < 0 or item.offset + item.length <= cut, (cut, item)
        if cut < 22:
            continue
        assert field_text(found, "udp.srcport") == "5000"
        all_codes = [problem.code for problem in found.problems]
        if cut < 32:  # past 32 only bytes after the datagram's own length are missing
            assert any(code.endswith(".truncated") for code in all_codes), (cut, all_codes)
        if cut < 28:
            assert "udp.truncated" in codes(udp(found)), cut
        if cut >= 28:
            assert field_text(found, "udp.checksum.status") == "2", cut
