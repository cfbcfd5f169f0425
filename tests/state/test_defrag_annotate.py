"""IP defragmentation in the tree: the completing frame dissects the datagram, as tshark 4.0 shows it.

Frames are built here byte by byte (Ethernet + IPv4/IPv6 + a UDP datagram cut into fragments,
with correct checksums), then dissected in capture order through the session's annotators.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from analyzer.context import Preferences
from analyzer.export.fields import field_text
from analyzer.model import Dissection
from analyzer.session import dissect_frames
from analyzer.state.defrag import DatagramKey, Flag, PlacedFragment, Reassembled
from analyzer.state.defrag_annotate import fragment_item, fragments_tree
from captures.frame import Frame

SRC4, DST4 = bytes([10, 77, 0, 1]), bytes([10, 77, 0, 2])
SRC6, DST6 = bytes.fromhex("fd77" + "00" * 13 + "01"), bytes.fromhex("fd77" + "00" * 13 + "02")
MACS = bytes.fromhex("02770000000b02770000000a")
DEFRAG = Preferences(resolve_names=False, defragment_ipv4=True, defragment_ipv6=True)
PAYLOAD = bytes(range(256)) * 2  # 512 bytes of UDP payload


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def udp_datagram(src: bytes, dst: bytes, payload: bytes = PAYLOAD) -> bytes:
    length = 8 + len(payload)
    header = struct.pack("!HHHH", 40000, 7007, length, 0)
    pseudo = (
        src
        + dst
        + (struct.pack("!BBH", 0, 17, length) if len(src) == 4 else struct.pack("!IxxxB", length, 17))
    )
    return header[:6] + struct.pack("!H", checksum(pseudo + header + payload)) + payload


def ipv4_fragment(datagram: bytes, start: int, end: int, more: bool, ident: int = 0x1234) -> bytes:
    body = datagram[start:end]
    flags = (0x2000 if more else 0) | start // 8
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), ident, flags, 64, 17, 0, SRC4, DST4)
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return MACS + b"\x08\x00" + header + body


def ipv6_fragment(datagram: bytes, start: int, end: int, more: bool, ident: int = 0x5EC6C2CD) -> bytes:
    body = datagram[start:end]
    fraghdr = struct.pack("!BBHI", 17, 0, start | int(more), ident)
    header = struct.pack("!IHBB16s16s", 0x60000000, 8 + len(body), 44, 64, SRC6, DST6)
    return MACS + b"\x86\xdd" + header + fraghdr + body


def frames(raw: list[bytes]) -> list[Frame]:
    return [Frame(number, number * 1000, data, len(data), 1) for number, data in enumerate(raw, 1)]


def dissect(raw: list[bytes], prefs: Preferences = DEFRAG) -> list[Dissection]:
    return list(dissect_frames(frames(raw), prefs=prefs, strict=True))


def cells(dissection: Dissection, *names: str) -> list[str]:
    return [field_text(dissection, name) for name in names]


UDP4 = udp_datagram(SRC4, DST4)  # 520 bytes: fragments of 208 + 208 + 104
CUTS = ((0, 208, True), (208, 416, True), (416, 520, False))


def ipv4_frames(order: tuple[int, ...] = (0, 1, 2)) -> list[bytes]:
    return [ipv4_fragment(UDP4, *CUTS[index]) for index in order]


def test_completing_frame_dissects_the_reassembled_udp_datagram() -> None:
    first, second, last = dissect(ipv4_frames())
    for fragment in (first, second):
        assert fragment.protocols == "eth:ethertype:ip:data"
        assert cells(fragment, "ip.fragment", "ip.reassembled_in", "udp.srcport") == ["", "", ""]
    assert last.protocols == "eth:ethertype:ip:udp:data"
    assert cells(last, "ip.fragment", "ip.fragment.count", "ip.reassembled.length") == ["1,2,3", "3", "520"]
    assert cells(last, "udp.length", "udp.checksum.status", "data.len") == ["520", "1", "512"]
    assert field_text(last, "ip.fragments") == UDP4.hex() == field_text(last, "ip.reassembled.data")
    assert [source.name for source in last.sources] == ["Frame (138 bytes)", "Reassembled IPv4 (520 bytes)"]
    udp = last.layer("udp")
    assert udp is not None and udp.source == 1 and last.source_data(udp) == UDP4
    assert field_text(last, "udp.stream") == "0"  # the UDP tracker saw the reassembled datagram


def test_fragment_tree_labels_are_tsharks() -> None:
    last = dissect(ipv4_frames())[-1]
    tree = last.first("ip.fragments")
    assert tree is not None and tree.generated
    assert tree.label == "[3 IPv4 Fragments (520 bytes): #1(208), #2(208), #3(104)]"
    assert [child.label for child in tree.children] == [
        "[Frame: 1, payload: 0-207 (208 bytes)]",
        "[Frame: 2, payload: 208-415 (208 bytes)]",
        "[Frame: 3, payload: 416-519 (104 bytes)]",
        "[Fragment count: 3]",
        "[Reassembled IPv4 length: 520]",
        f"[Reassembled IPv4 data: {UDP4[:36].hex()}\u2026]",
    ]
    ip = last.layer("ip")
    assert ip is not None and ip.children[-1] is tree  # last in the IPv4 tree, as tshark puts it


@pytest.mark.parametrize("order", [(2, 1, 0), (1, 2, 0), (0, 2, 1), (2, 0, 1)])
def test_any_arrival_order_completes_on_the_last_fragment_seen(order: tuple[int, ...]) -> None:
    dissections = dissect(ipv4_frames(order))
    assert [d.protocols for d in dissections[:-1]] == ["eth:ethertype:ip:data"] * 2
    last = dissections[-1]
    assert last.protocols == "eth:ethertype:ip:udp:data"
    assert cells(last, "ip.fragment", "udp.checksum.status") == [_listed(order), "1"]


def _listed(order: tuple[int, ...]) -> str:
    """Frame numbers in payload-offset order: frame n carries the piece order[n - 1]."""
    return ",".join(str(order.index(piece) + 1) for piece in range(3))


def test_without_the_preference_fragments_stay_apart() -> None:
    first, second, last = dissect(ipv4_frames(), prefs=Preferences(resolve_names=False))
    assert first.protocols == "eth:ethertype:ip:udp:data"  # the first fragment is dissected
    assert second.protocols == last.protocols == "eth:ethertype:ip:data"
    assert field_text(last, "ip.fragment") == ""


def test_duplicate_and_conflicting_fragments_are_flagged() -> None:
    forged = bytearray(ipv4_fragment(UDP4, 208, 416, True))
    forged[-1] ^= 0xFF
    raw = [*ipv4_frames((0, 1)), bytes(forged), ipv4_fragment(UDP4, 0, 208, True), ipv4_frames((2,))[0]]
    last = dissect(raw)[-1]
    assert field_text(last, "ip.fragment") == "1,4,2,5"
    assert field_text(last, "ip.fragment.error") == "3"  # a conflict lists the frame as an error
    assert field_text(last, "ip.fragment.overlap") == "1,1"
    assert field_text(last, "ip.fragment.overlap.conflict") == "1"
    assert field_text(last, "ip.fragment.count") == "5"
    assert field_text(last, "udp.checksum.status") == "1"  # the bytes laid down first win


def test_a_fragment_with_a_bad_header_checksum_is_not_added() -> None:
    broken = bytearray(ipv4_fragment(UDP4, 208, 416, True))
    broken[24] ^= 0x01  # the IPv4 header checksum
    dissections = dissect([ipv4_frames((0,))[0], bytes(broken), ipv4_frames((2,))[0]])
    assert all(field_text(d, "ip.fragment") == "" for d in dissections)
    assert dissections[-1].protocols == "eth:ethertype:ip:data"


def test_a_snapped_fragment_is_not_added() -> None:
    raw = ipv4_frames()
    raw[1] = raw[1][:100]
    dissections = dissect(raw)
    assert dissections[-1].protocols == "eth:ethertype:ip:data"


UDP6 = udp_datagram(SRC6, DST6)


def ipv6_frames() -> list[bytes]:
    return [ipv6_fragment(UDP6, *cut) for cut in CUTS]


def test_ipv6_fragments_reassemble_into_udp() -> None:
    first, second, last = dissect(ipv6_frames())
    assert first.protocols == second.protocols == "eth:ethertype:ipv6:ipv6.fraghdr:data"
    assert last.protocols == "eth:ethertype:ipv6:ipv6.fraghdr:udp:data"
    assert cells(last, "ipv6.fragment", "ipv6.fragment.count", "ipv6.reassembled.length") == [
        "1,2,3",
        "3",
        "520",
    ]
    assert cells(last, "ipv6.fragments", "udp.checksum.status", "data.len") == ["1", "1", "512"]
    tree = last.first("ipv6.fragments")
    assert tree is not None and tree.label == "[3 IPv6 Fragments (520 bytes): #1(208), #2(208), #3(104)]"
    assert [source.name for source in last.sources][1] == "Reassembled IPv6 (520 bytes)"
    udp = last.layer("udp")
    assert udp is not None and udp.depth == 0 and udp.source == 1


def test_ipv6_preference_is_separate_from_ipv4() -> None:
    only_v4 = Preferences(resolve_names=False, defragment_ipv4=True)
    first, _second, last = dissect(ipv6_frames(), prefs=only_v4)
    assert first.protocols == "eth:ethertype:ipv6:ipv6.fraghdr:udp:data"
    assert last.protocols == "eth:ethertype:ipv6:ipv6.fraghdr:data"


def test_tree_texts_for_one_fragment_empty_fragments_and_errors() -> None:
    """Shapes IP traffic rarely makes, worded as reassemble.c's show_fragment_tree words them."""
    key = DatagramKey(4, SRC4, DST4, 1, 17)
    one = fragments_tree("ip", "IPv4", Reassembled(key, 7, b"x", (PlacedFragment(7, 0, 1),)))
    assert one.label == "[1 IPv4 Fragment (1 byte): #7(1)]"
    assert one.children[0].label == "[Frame: 7, payload: 0-0 (1 byte)]"
    empty = fragment_item("ipv6", PlacedFragment(9, 8, 0))
    assert (empty.name, empty.label, empty.show) == ("ipv6.fragment", "[Frame: 9 (no data)]", "9")
    bad = fragment_item("ip", PlacedFragment(3, 0, 8, Flag.MULTIPLE_TAILS | Flag.TOO_LONG))
    assert bad.name == "ip.fragment.error"
    assert [child.label for child in bad.children] == [
        "[Multiple tail fragments found: True]",
        "[Fragment too long: True]",
    ]


def test_interleaved_datagrams_and_counts() -> None:
    other = [ipv4_fragment(UDP4, *cut, ident=0x9999) for cut in CUTS]
    raw = [other[0], *ipv4_frames((0, 1)), other[1], ipv4_frames((2,))[0], other[2]]
    dissections = dissect(raw)
    assert field_text(dissections[4], "ip.fragment") == "2,3,5"
    assert field_text(dissections[5], "ip.fragment") == "1,4,6"


def check_sources(dissection: Dissection) -> None:
    """Every field with bytes lies inside the data source its layer points into, and no dissector
    failed on reassembled bytes (the annotator contains such bugs as problems rather than raise)."""
    assert not [found for found in dissection.problems if found.code.endswith(".dissector_bug")]
    for layer in dissection.layers:
        source = dissection.source_data(layer)
        for item in layer.walk():
            if item.offset >= 0:
                assert item.offset + item.length <= len(source), (layer.proto, layer.source, item)


hostile_fragment = st.tuples(
    st.sampled_from([4, 6]),
    st.integers(0, 2),  # identification: few, so fragments collide
    st.integers(0, 40),  # offset in 8-byte units
    st.booleans(),  # more fragments
    st.binary(max_size=64),
    st.integers(0, 3),  # 0: keep whole, else cut this many bytes off the frame
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hostile_fragment, min_size=1, max_size=25))
def test_hostile_fragment_streams_never_raise(stream: list[tuple[int, int, int, bool, bytes, int]]) -> None:
    raw = []
    for version, ident, offset, more, body, cut in stream:
        datagram = b"\x00" * (offset * 8) + body
        end = offset * 8 + len(body)
        build = ipv4_fragment if version == 4 else ipv6_fragment
        frame = build(datagram, offset * 8, end, more, ident=ident)
        raw.append(frame[: len(frame) - cut] if cut else frame)
    reassembled = 0
    for dissection in dissect(raw):
        check_sources(dissection)
        reassembled += len(dissection.extra_sources)
    event(f"reassembled: {min(reassembled, 2)}")
