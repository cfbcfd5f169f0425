"""Frame metadata and tree placement as tshark -V shows them: comments, sections, SPBs, ICMP data."""

from __future__ import annotations

from analyzer.export.text import tree_lines
from analyzer.model import Dissection
from analyzer.pipeline import dissect_frame
from captures.frame import Frame

# rawip228.pcap frame 1: an echo request whose 48 data bytes follow the ping timestamp.
ECHO = (
    "45000054268a40004001ff820a4d00010a4d000208007eb319600001d820046b00000000b88c0c0000000000"
    "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637"
)
# rawip228.pcap frame 8: port unreachable quoting a UDP datagram with 32 bytes of payload.
PORT_UNREACHABLE = (
    "45c00058d10a00004001943e0a4d00020a4d0001030311d3000000004500003c6f0840004011b70c0a4d0001"
    "0a4d0002881d8299002894096c6179657273636f70652d7564702d6c6179657273636f70652d7564702d6c61"
)
# An ARP request on Ethernet, padded to 60 bytes.
ARP = "ffffffffffff020000000001080600010800060400010200000000010a0000010000000000000a000002" + "00" * 18


def dissect(frame: Frame) -> Dissection:
    return dissect_frame(frame, strict=True)


def raw_ipv4(hexdata: str) -> Frame:
    data = bytes.fromhex(hexdata)
    return Frame(1, 1_795_432_666_000_000_000, data, len(data), 228)


def depths(dissection: Dissection) -> list[tuple[str, int]]:
    return [(layer.proto, layer.depth) for layer in dissection.layers]


def test_echo_data_is_shown_inside_icmp() -> None:
    d = dissect(raw_ipv4(ECHO))
    assert depths(d)[-2:] == [("icmp", 0), ("data", 1)]
    lines = list(tree_lines(d, data_hex=False))
    assert lines[-3:] == [
        "    Data (48 bytes)",
        "        Data: b88c0c0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b\u2026",
        "        [Length: 48]",
    ]


def test_quoted_udp_payload_is_shown_at_the_top_level() -> None:
    d = dissect(raw_ipv4(PORT_UNREACHABLE))
    assert depths(d)[1:] == [("ip", 0), ("icmp", 0), ("ip", 1), ("udp", 1), ("data", 0)]
    assert "Data (32 bytes)" in list(tree_lines(d))


def test_comments_are_their_own_tree_before_the_frame() -> None:
    data = bytes.fromhex(ARP)
    frame = Frame(3, 0, data, len(data), 1, 0, "a0", ("first", "second"), section=2)
    d = dissect(frame)
    assert [layer.proto for layer in d.layers][:2] == ["pkt_comment", "frame"]
    lines = list(tree_lines(d))
    assert lines[:11] == [
        "Packet comments",
        "    first",
        "        [Expert Info (Comment/Comment): first]",
        "            [first]",
        "            [Severity level: Comment]",
        "            [Group: Comment]",
        "    second",
        "        [Expert Info (Comment/Comment): second]",
        "            [second]",
        "            [Severity level: Comment]",
        "            [Group: Comment]",
    ]
    assert lines[11:15] == [
        "Frame 3: 60 bytes on wire (480 bits), 60 bytes captured (480 bits) on interface a0, id 0",
        "    Section number: 2",
        "    Interface id: 0 (a0)",
        "        Interface name: a0",
    ]
    assert d.protocols == "eth:ethertype:arp"
    assert [item.show for item in d.values("frame.comment")] == ["first", "second"]


def test_a_record_without_time_has_no_time_fields() -> None:
    """A pcapng Simple Packet Block (tshark 4.0 on a file with SPBs: no Arrival Time and no deltas)."""
    data = bytes.fromhex(ARP)
    frame = Frame(1, 0, data, len(data), 1, 0, "lo0", has_timestamp=False, section=1)
    frame_lines = [line for line in tree_lines(dissect(frame)) if line.startswith("    ")][:10]
    assert frame_lines == [
        "    Section number: 1",
        "    Interface id: 0 (lo0)",
        "        Interface name: lo0",
        "    Encapsulation type: Ethernet (1)",
        "    Frame Number: 1",
        "    Frame Length: 60 bytes (480 bits)",
        "    Capture Length: 60 bytes (480 bits)",
        "    [Frame is marked: False]",
        "    [Frame is ignored: False]",
        "    [Protocols in frame: eth:ethertype:arp]",
    ]


def test_pcap_frames_have_no_section_number() -> None:
    frame_layer = dissect(raw_ipv4(ECHO)).layer("frame")
    assert frame_layer is not None and frame_layer.find("frame.section_number") is None
    assert frame_layer.find("frame.time") is not None
